//! Registrar bindings, written through so registrations survive a restart.

use hotdesk_core::{DomainName, Extension};

use super::record::{data_without, millis, record_from, text};
use super::{write_one, Backend, Statement};
use crate::{Binding, StoreError};

const ENTITY: &str = "binding";
/// `expires_at` stays in `data` too: `expires_ms` only indexes it.
const COLUMNS: &[&str] = &["domain", "aor", "contact"];

/// A refresh (same AOR and contact) replaces the row.
pub(crate) async fn put(db: &dyn Backend, binding: &Binding) -> Result<(), StoreError> {
    let statement = Statement::new(
        "INSERT INTO bindings (domain, aor, contact, expires_ms, data) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (domain, aor, contact) DO UPDATE SET \
         expires_ms = excluded.expires_ms, data = excluded.data",
    )
    .bind(binding.domain.as_str())
    .bind(binding.aor.as_str())
    .bind(binding.contact.as_str())
    .bind(millis(binding.expires_at))
    .bind(data_without(ENTITY, binding, COLUMNS)?);
    write_one(db, statement, &[], "domain").await?;
    Ok(())
}

/// Deleting an absent binding succeeds: it may have lapsed and been dropped already.
pub(crate) async fn delete(
    db: &dyn Backend,
    domain: &DomainName,
    aor: &Extension,
    contact: &str,
) -> Result<(), StoreError> {
    let statement =
        Statement::new("DELETE FROM bindings WHERE domain = $1 AND aor = $2 AND contact = $3")
            .bind(domain.as_str())
            .bind(aor.as_str())
            .bind(contact);
    write_one(db, statement, &[], ENTITY).await?;
    Ok(())
}

pub(crate) async fn list(db: &dyn Backend) -> Result<Vec<Binding>, StoreError> {
    let rows = db
        .read(Statement::new(
            "SELECT domain, aor, contact, data FROM bindings ORDER BY domain, aor, contact",
        ))
        .await?;
    rows.into_iter()
        .map(|mut row| {
            let domain = row.text(0, ENTITY)?;
            let aor = row.text(1, ENTITY)?;
            let contact = row.text(2, ENTITY)?;
            let data = row.text(3, ENTITY)?;
            record_from(
                ENTITY,
                &data,
                [
                    ("domain", text(domain)),
                    ("aor", text(aor)),
                    ("contact", text(contact)),
                ],
            )
        })
        .collect()
}
