//! Associations (sessions): one row per occupied device, written with their audit rows in
//! one transaction so a restart never sees a log-in without its trail, or the reverse.

use hotdesk_core::{Association, AuditRecord, DeskEvent, DomainName, Extension};
use jiff::Timestamp;

use super::record::{data_without, millis, record_from, text, timestamp};
use super::{audit, touched, write_one, Backend, Statement};
use crate::StoreError;

const ENTITY: &str = "association";
/// `last_activity` lives only in its column (millisecond resolution) so touching it is one
/// `UPDATE`; `since` and `expires_at` stay exact in `data`.
const COLUMNS: &[&str] = &["domain", "device", "user", "last_activity"];

/// HD-LOGIN-3: a log-in replaces whatever row the device had.
const UPSERT: &str = "INSERT INTO associations (domain, device, user_ext, last_activity_ms, data) \
     VALUES ($1, $2, $3, $4, $5) \
     ON CONFLICT (domain, device) DO UPDATE SET user_ext = excluded.user_ext, \
     last_activity_ms = excluded.last_activity_ms, data = excluded.data";

/// Only the named user's row goes: a stale log-out never removes a newer log-in.
const DELETE: &str = "DELETE FROM associations WHERE domain = $1 AND device = $2 AND user_ext = $3";

fn statement(event: &DeskEvent) -> Result<Statement, StoreError> {
    Ok(match event {
        DeskEvent::LoggedIn { association, .. } => Statement::new(UPSERT)
            .bind(association.domain.as_str())
            .bind(association.device.as_str())
            .bind(association.user.as_str())
            .bind(millis(association.last_activity))
            .bind(data_without(ENTITY, association, COLUMNS)?),
        DeskEvent::LoggedOut {
            domain,
            device,
            user,
            ..
        } => Statement::new(DELETE)
            .bind(domain.as_str())
            .bind(device.as_str())
            .bind(user.as_str()),
    })
}

/// A log-out whose row is already gone (the user or device was deleted) is not an error.
pub(crate) async fn append_events(
    db: &dyn Backend,
    events: &[DeskEvent],
    audit: &[AuditRecord],
) -> Result<(), StoreError> {
    let mut statements = events
        .iter()
        .map(statement)
        .collect::<Result<Vec<_>, _>>()?;
    statements.extend(audit::inserts(audit, db.max_params())?);
    if statements.is_empty() {
        return Ok(());
    }
    db.write(statements)
        .await
        .map_err(|err| StoreError::from_write(err, &[], "device or user"))?;
    Ok(())
}

pub(crate) async fn touch(
    db: &dyn Backend,
    domain: &DomainName,
    device: &Extension,
    at: Timestamp,
) -> Result<(), StoreError> {
    let statement = Statement::new(
        "UPDATE associations SET last_activity_ms = $3 WHERE domain = $1 AND device = $2",
    )
    .bind(domain.as_str())
    .bind(device.as_str())
    .bind(millis(at));
    touched(write_one(db, statement, &[], ENTITY).await?, ENTITY)
}

pub(crate) async fn list(db: &dyn Backend) -> Result<Vec<Association>, StoreError> {
    let rows = db
        .read(Statement::new(
            "SELECT domain, device, user_ext, last_activity_ms, data FROM associations \
             ORDER BY domain, device",
        ))
        .await?;
    rows.into_iter()
        .map(|mut row| {
            let domain = row.text(0, ENTITY)?;
            let device = row.text(1, ENTITY)?;
            let user = row.text(2, ENTITY)?;
            let last_activity = timestamp(ENTITY, row.int(3, ENTITY)?)?;
            let data = row.text(4, ENTITY)?;
            record_from(
                ENTITY,
                &data,
                [
                    ("domain", text(domain)),
                    ("device", text(device)),
                    ("user", text(user)),
                    ("last_activity", last_activity),
                ],
            )
        })
        .collect()
}
