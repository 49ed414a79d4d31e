//! Provisioning records: keyed by domain, kind and key; `data` is opaque JSON text.

use hotdesk_core::DomainName;

use super::{write_one, Backend, Statement};
use crate::{ProvRecord, StoreError};

const ENTITY: &str = "provisioning record";

const UPSERT: &str = "INSERT INTO prov_records (domain, kind, key, data) VALUES ($1, $2, $3, $4) \
     ON CONFLICT (domain, kind, key) DO UPDATE SET data = excluded.data";

/// Inserts or replaces; `NotFound { entity: "domain" }` for an unknown domain.
pub(crate) async fn put(db: &dyn Backend, record: &ProvRecord) -> Result<(), StoreError> {
    let statement = Statement::new(UPSERT)
        .bind(record.domain.as_str())
        .bind(record.kind.as_str())
        .bind(record.key.as_str())
        .bind(record.data.as_str());
    write_one(db, statement, &[], "domain").await?;
    Ok(())
}

/// Deleting an absent record succeeds.
pub(crate) async fn delete(
    db: &dyn Backend,
    domain: &DomainName,
    kind: &str,
    key: &str,
) -> Result<(), StoreError> {
    let statement =
        Statement::new("DELETE FROM prov_records WHERE domain = $1 AND kind = $2 AND key = $3")
            .bind(domain.as_str())
            .bind(kind)
            .bind(key);
    write_one(db, statement, &[], ENTITY).await?;
    Ok(())
}

/// Every record of `kind`, by domain and key.
pub(crate) async fn list(db: &dyn Backend, kind: &str) -> Result<Vec<ProvRecord>, StoreError> {
    let statement = Statement::new(
        "SELECT domain, key, data FROM prov_records WHERE kind = $1 ORDER BY domain, key",
    )
    .bind(kind);
    let rows = db.read(statement).await?;
    rows.into_iter()
        .map(|mut row| {
            let domain = row.text(0, ENTITY)?;
            let key = row.text(1, ENTITY)?;
            let data = row.text(2, ENTITY)?;
            let domain = DomainName::new(&domain).map_err(|_| StoreError::Decode {
                entity: ENTITY,
                source: <serde_json::Error as serde::de::Error>::custom("bad domain name"),
            })?;
            Ok(ProvRecord {
                domain,
                kind: kind.to_owned(),
                key,
                data,
            })
        })
        .collect()
}
