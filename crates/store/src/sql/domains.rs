//! Domains: the name is the key every other table hangs off; settings live in `data`.

use hotdesk_core::{Domain, DomainName};

use super::record::{data_without, record_from, text};
use super::{touched, write_one, Backend, Statement};
use crate::StoreError;

const ENTITY: &str = "domain";
const COLUMNS: &[&str] = &["name"];

pub(crate) async fn create(db: &dyn Backend, domain: &Domain) -> Result<(), StoreError> {
    let statement = Statement::new("INSERT INTO domains (name, data) VALUES ($1, $2)")
        .bind(domain.name.as_str())
        .bind(data_without(ENTITY, domain, COLUMNS)?);
    write_one(db, statement, &[("", ENTITY)], ENTITY).await?;
    Ok(())
}

pub(crate) async fn update(db: &dyn Backend, domain: &Domain) -> Result<(), StoreError> {
    let statement = Statement::new("UPDATE domains SET data = $2 WHERE name = $1")
        .bind(domain.name.as_str())
        .bind(data_without(ENTITY, domain, COLUMNS)?);
    touched(write_one(db, statement, &[], ENTITY).await?, ENTITY)
}

/// Foreign keys with `ON DELETE CASCADE` take every row of the domain with it.
pub(crate) async fn delete(db: &dyn Backend, name: &DomainName) -> Result<(), StoreError> {
    let statement = Statement::new("DELETE FROM domains WHERE name = $1").bind(name.as_str());
    touched(write_one(db, statement, &[], ENTITY).await?, ENTITY)
}

pub(crate) async fn list(db: &dyn Backend) -> Result<Vec<Domain>, StoreError> {
    let rows = db
        .read(Statement::new(
            "SELECT name, data FROM domains ORDER BY name",
        ))
        .await?;
    rows.into_iter()
        .map(|mut row| {
            let name = row.text(0, ENTITY)?;
            let data = row.text(1, ENTITY)?;
            record_from(ENTITY, &data, [("name", text(name))])
        })
        .collect()
}
