//! Queues (HD-ROUTE-7): keyed by domain and extension; the rest lives in `data`.

use hotdesk_core::{DomainName, Extension, Queue};

use super::keyed::Keyed;
use super::record::data_without;
use super::{write_one, Backend, Statement};
use crate::StoreError;

const ENTITY: &str = "queue";
const TABLE: Keyed = Keyed {
    table: "queues",
    entity: ENTITY,
};
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
    let data = data_without(ENTITY, queue, COLUMNS)?;
    TABLE
        .update_data(db, &queue.domain, &queue.extension, data)
        .await
}

pub(crate) async fn delete(
    db: &dyn Backend,
    domain: &DomainName,
    ext: &Extension,
) -> Result<(), StoreError> {
    TABLE.delete(db, domain, ext).await
}

pub(crate) async fn list(db: &dyn Backend) -> Result<Vec<Queue>, StoreError> {
    TABLE.list(db).await
}
