//! Queues (HD-ROUTE-7): keyed by domain and extension; the rest lives in `data`.

use hotdesk_core::{DomainName, Extension, Queue};

use super::record::{data_without, record_from, text};
use super::{touched, write_one, Backend, Statement};
use crate::StoreError;

const ENTITY: &str = "queue";
const COLUMNS: &[&str] = &["domain", "extension"];

pub(crate) async fn create(db: &dyn Backend, queue: &Queue) -> Result<(), StoreError> {
    let statement =
        Statement::new("INSERT INTO queues (domain, extension, data) VALUES ($1, $2, $3)")
            .bind(queue.domain.as_str())
            .bind(queue.extension.as_str())
            .bind(data_without(ENTITY, queue, COLUMNS)?);
    write_one(db, statement, &[("", ENTITY)], "domain").await?;
    Ok(())
}

pub(crate) async fn update(db: &dyn Backend, queue: &Queue) -> Result<(), StoreError> {
    let statement =
        Statement::new("UPDATE queues SET data = $3 WHERE domain = $1 AND extension = $2")
            .bind(queue.domain.as_str())
            .bind(queue.extension.as_str())
            .bind(data_without(ENTITY, queue, COLUMNS)?);
    touched(write_one(db, statement, &[], ENTITY).await?, ENTITY)
}

pub(crate) async fn delete(
    db: &dyn Backend,
    domain: &DomainName,
    ext: &Extension,
) -> Result<(), StoreError> {
    let statement = Statement::new("DELETE FROM queues WHERE domain = $1 AND extension = $2")
        .bind(domain.as_str())
        .bind(ext.as_str());
    touched(write_one(db, statement, &[], ENTITY).await?, ENTITY)
}

pub(crate) async fn list(db: &dyn Backend) -> Result<Vec<Queue>, StoreError> {
    let rows = db
        .read(Statement::new(
            "SELECT domain, extension, data FROM queues ORDER BY domain, extension",
        ))
        .await?;
    rows.into_iter()
        .map(|mut row| {
            let domain = row.text(0, ENTITY)?;
            let extension = row.text(1, ENTITY)?;
            let data = row.text(2, ENTITY)?;
            record_from(
                ENTITY,
                &data,
                [("domain", text(domain)), ("extension", text(extension))],
            )
        })
        .collect()
}
