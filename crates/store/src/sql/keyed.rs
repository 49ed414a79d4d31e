//! Rows keyed by domain and extension whose other fields live in a JSON `data` column
//! (users, queues; devices share the delete): one place for their update, delete and list.

use hotdesk_core::{DomainName, Extension};
use serde::de::DeserializeOwned;

use super::record::{record_from, text};
use super::{touched, write_one, Backend, Statement};
use crate::StoreError;

/// A `(domain, extension, …)` table and the entity name its errors carry.
pub(crate) struct Keyed {
    pub(crate) table: &'static str,
    pub(crate) entity: &'static str,
}

impl Keyed {
    /// Replaces the `data` of one row; `NotFound` when there is none.
    pub(crate) async fn update_data(
        &self,
        db: &dyn Backend,
        domain: &DomainName,
        ext: &Extension,
        data: String,
    ) -> Result<(), StoreError> {
        let sql = format!(
            "UPDATE {} SET data = $3 WHERE domain = $1 AND extension = $2",
            self.table
        );
        let statement = Statement::new(sql)
            .bind(domain.as_str())
            .bind(ext.as_str())
            .bind(data);
        touched(
            write_one(db, statement, &[], self.entity).await?,
            self.entity,
        )
    }

    /// Deletes one row (foreign keys take what hangs on it); `NotFound` when there is none.
    pub(crate) async fn delete(
        &self,
        db: &dyn Backend,
        domain: &DomainName,
        ext: &Extension,
    ) -> Result<(), StoreError> {
        let sql = format!(
            "DELETE FROM {} WHERE domain = $1 AND extension = $2",
            self.table
        );
        let statement = Statement::new(sql).bind(domain.as_str()).bind(ext.as_str());
        touched(
            write_one(db, statement, &[], self.entity).await?,
            self.entity,
        )
    }

    /// Every row, ordered by domain and extension, as records of `T`.
    pub(crate) async fn list<T: DeserializeOwned>(
        &self,
        db: &dyn Backend,
    ) -> Result<Vec<T>, StoreError> {
        let sql = format!(
            "SELECT domain, extension, data FROM {} ORDER BY domain, extension",
            self.table
        );
        let entity = self.entity;
        let rows = db.read(Statement::new(sql)).await?;
        rows.into_iter()
            .map(|mut row| {
                let domain = row.text(0, entity)?;
                let extension = row.text(1, entity)?;
                let data = row.text(2, entity)?;
                record_from(
                    entity,
                    &data,
                    [("domain", text(domain)), ("extension", text(extension))],
                )
            })
            .collect()
    }
}
