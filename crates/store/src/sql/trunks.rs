//! Trunks: keyed by domain and name; address and credentials live in `data`.

use hotdesk_core::Trunk;

use super::record::{data_without, record_from, text};
use super::{write_one, Backend, Statement};
use crate::StoreError;

const ENTITY: &str = "trunk";
const COLUMNS: &[&str] = &["domain", "name"];

pub(crate) async fn create(db: &dyn Backend, trunk: &Trunk) -> Result<(), StoreError> {
    let statement = Statement::new("INSERT INTO trunks (domain, name, data) VALUES ($1, $2, $3)")
        .bind(trunk.domain.as_str())
        .bind(trunk.name.as_str())
        .bind(data_without(ENTITY, trunk, COLUMNS)?);
    write_one(db, statement, &[("", ENTITY)], "domain").await?;
    Ok(())
}

pub(crate) async fn list(db: &dyn Backend) -> Result<Vec<Trunk>, StoreError> {
    let rows = db
        .read(Statement::new(
            "SELECT domain, name, data FROM trunks ORDER BY domain, name",
        ))
        .await?;
    rows.into_iter()
        .map(|mut row| {
            let domain = row.text(0, ENTITY)?;
            let name = row.text(1, ENTITY)?;
            let data = row.text(2, ENTITY)?;
            record_from(
                ENTITY,
                &data,
                [("domain", text(domain)), ("name", text(name))],
            )
        })
        .collect()
}
