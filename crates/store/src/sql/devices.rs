//! Devices: keyed by domain and anchor extension, MAC unique across all domains (HD-PROV-1).

use hotdesk_core::{Device, DomainName, Extension};

use super::keyed::Keyed;
use super::record::{data_without, record_from, text};
use super::{touched, write_one, Backend, Statement};
use crate::StoreError;

const ENTITY: &str = "device";
/// Its list reads `mac` as a column too, so only the delete is shared.
const TABLE: Keyed = Keyed {
    table: "devices",
    entity: ENTITY,
};
const COLUMNS: &[&str] = &["domain", "extension", "mac"];
/// The MAC clash is named apart: the API tells "MAC address already exists" from a taken extension.
const CONFLICTS: &[(&str, &str)] = &[("mac", "MAC address"), ("", ENTITY)];

pub(crate) async fn create(db: &dyn Backend, device: &Device) -> Result<(), StoreError> {
    let statement = Statement::new(
        "INSERT INTO devices (domain, extension, mac, data) VALUES ($1, $2, $3, $4)",
    )
    .bind(device.domain.as_str())
    .bind(device.extension.as_str())
    .bind(device.mac.as_str())
    .bind(data_without(ENTITY, device, COLUMNS)?);
    write_one(db, statement, CONFLICTS, "domain").await?;
    Ok(())
}

fn update_statement(device: &Device) -> Result<Statement, StoreError> {
    Ok(Statement::new(
        "UPDATE devices SET mac = $3, data = $4 WHERE domain = $1 AND extension = $2",
    )
    .bind(device.domain.as_str())
    .bind(device.extension.as_str())
    .bind(device.mac.as_str())
    .bind(data_without(ENTITY, device, COLUMNS)?))
}

pub(crate) async fn update(db: &dyn Backend, device: &Device) -> Result<(), StoreError> {
    touched(
        write_one(db, update_statement(device)?, CONFLICTS, ENTITY).await?,
        ENTITY,
    )
}

/// One transaction, so one durable commit for a template applied to many phones.
pub(crate) async fn update_many(db: &dyn Backend, devices: &[Device]) -> Result<(), StoreError> {
    if devices.is_empty() {
        return Ok(());
    }
    let statements = devices
        .iter()
        .map(update_statement)
        .collect::<Result<Vec<_>, _>>()?;
    let counts = db
        .write(statements)
        .await
        .map_err(|err| StoreError::from_write(err, CONFLICTS, ENTITY))?;
    touched(counts.into_iter().min().unwrap_or(0), ENTITY)
}

/// Foreign keys take the device's association with it.
pub(crate) async fn delete(
    db: &dyn Backend,
    domain: &DomainName,
    ext: &Extension,
) -> Result<(), StoreError> {
    TABLE.delete(db, domain, ext).await
}

pub(crate) async fn list(db: &dyn Backend) -> Result<Vec<Device>, StoreError> {
    let rows = db
        .read(Statement::new(
            "SELECT domain, extension, mac, data FROM devices ORDER BY domain, extension",
        ))
        .await?;
    rows.into_iter()
        .map(|mut row| {
            let domain = row.text(0, ENTITY)?;
            let extension = row.text(1, ENTITY)?;
            let mac = row.text(2, ENTITY)?;
            let data = row.text(3, ENTITY)?;
            record_from(
                ENTITY,
                &data,
                [
                    ("domain", text(domain)),
                    ("extension", text(extension)),
                    ("mac", text(mac)),
                ],
            )
        })
        .collect()
}
