//! Registrar bindings, written through so registrations survive a restart.

use hotdesk_core::{DomainName, Extension};

use super::record::{data_without, millis, record_from, text};
use super::{write_one, Backend, Statement};
use crate::{Binding, BindingKey, StoreError};

const ENTITY: &str = "binding";
/// `expires_at` stays in `data` too: `expires_ms` only indexes it.
const COLUMNS: &[&str] = &["domain", "aor", "contact"];

/// A refresh (same AOR and contact) replaces the row.
const UPSERT: &str = "INSERT INTO bindings (domain, aor, contact, expires_ms, data) \
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (domain, aor, contact) DO UPDATE SET \
     expires_ms = excluded.expires_ms, data = excluded.data";
const DELETE: &str = "DELETE FROM bindings WHERE domain = $1 AND aor = $2 AND contact = $3";

fn upsert(binding: &Binding) -> Result<Statement, StoreError> {
    Ok(Statement::new(UPSERT)
        .bind(binding.domain.as_str())
        .bind(binding.aor.as_str())
        .bind(binding.contact.as_str())
        .bind(millis(binding.expires_at))
        .bind(data_without(ENTITY, binding, COLUMNS)?))
}

fn delete_statement(domain: &DomainName, aor: &Extension, contact: &str) -> Statement {
    Statement::new(DELETE)
        .bind(domain.as_str())
        .bind(aor.as_str())
        .bind(contact)
}

pub(crate) async fn put(db: &dyn Backend, binding: &Binding) -> Result<(), StoreError> {
    write_one(db, upsert(binding)?, &[], "domain").await?;
    Ok(())
}

/// Deleting an absent binding succeeds: it may have lapsed and been dropped already.
pub(crate) async fn delete(
    db: &dyn Backend,
    domain: &DomainName,
    aor: &Extension,
    contact: &str,
) -> Result<(), StoreError> {
    write_one(db, delete_statement(domain, aor, contact), &[], ENTITY).await?;
    Ok(())
}

/// One transaction for a batch. Row by row with the same two statement texts, so each is
/// prepared once and cached, whatever the batch size.
pub(crate) async fn apply(
    db: &dyn Backend,
    puts: &[Binding],
    deletes: &[BindingKey],
) -> Result<(), StoreError> {
    let mut statements = Vec::with_capacity(puts.len() + deletes.len());
    for key in deletes {
        statements.push(delete_statement(&key.domain, &key.aor, &key.contact));
    }
    for binding in puts {
        statements.push(upsert(binding)?);
    }
    if statements.is_empty() {
        return Ok(());
    }
    db.write(statements)
        .await
        .map_err(|err| StoreError::from_write(err, &[], "domain"))?;
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
