//! Registrar bindings, written through so registrations survive a restart.

use std::collections::HashMap;

use hotdesk_core::{DomainName, Extension};
use jiff::Timestamp;
use serde::Serialize;

use super::record::{data_without, millis, record_from, text};
use super::{insert_rows, write_one, Backend, Statement, Value};
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

/// Rows per multi-row upsert. Each row count up to this is its own statement text, so the
/// number stays well inside the prepared-statement cache.
const ROWS_PER_STATEMENT: usize = 32;
const UPSERT_HEAD: &str = "INSERT INTO bindings (domain, aor, contact, expires_ms, data)";
const UPSERT_TAIL: &str = " ON CONFLICT (domain, aor, contact) DO UPDATE SET \
     expires_ms = excluded.expires_ms, data = excluded.data";

/// The `data` column straight from borrowed fields: the same JSON as [`data_without`] gives
/// for a binding, without building a `serde_json::Value` first (group commit writes
/// thousands a second).
#[derive(Serialize)]
struct Data<'a> {
    source: &'a str,
    expires_at: Timestamp,
    call_id: &'a str,
    cseq: u32,
    instance: Option<&'a str>,
    reg_id: Option<u32>,
    q: Option<u16>,
    path: &'a [String],
    user_agent: Option<&'a str>,
}

fn row(binding: &Binding) -> Result<Vec<Value>, StoreError> {
    let Binding {
        domain,
        aor,
        contact,
        source,
        expires_at,
        call_id,
        cseq,
        instance,
        reg_id,
        q,
        path,
        user_agent,
    } = binding;
    let data = Data {
        source,
        expires_at: *expires_at,
        call_id,
        cseq: *cseq,
        instance: instance.as_deref(),
        reg_id: *reg_id,
        q: *q,
        path,
        user_agent: user_agent.as_deref(),
    };
    let data = serde_json::to_string(&data).map_err(|source| StoreError::Decode {
        entity: ENTITY,
        source,
    })?;
    Ok(vec![
        Value::from(domain.as_str()),
        Value::from(aor.as_str()),
        Value::from(contact.as_str()),
        Value::from(millis(*expires_at)),
        Value::from(data),
    ])
}

/// One transaction for a batch: deletes one by one, then the puts as multi-row upserts. A
/// statement may not touch a row twice (PostgreSQL), so only the last put of each AOR +
/// contact is written, which is also what writing them in order would leave.
pub(crate) async fn apply(
    db: &dyn Backend,
    puts: &[Binding],
    deletes: &[BindingKey],
) -> Result<(), StoreError> {
    let mut last: HashMap<(&str, &str, &str), usize> = HashMap::with_capacity(puts.len());
    for (i, b) in puts.iter().enumerate() {
        last.insert((b.domain.as_str(), b.aor.as_str(), b.contact.as_str()), i);
    }
    let mut rows = Vec::with_capacity(last.len());
    for (i, b) in puts.iter().enumerate() {
        if last.get(&(b.domain.as_str(), b.aor.as_str(), b.contact.as_str())) == Some(&i) {
            rows.push(row(b)?);
        }
    }
    let mut statements: Vec<Statement> = deletes
        .iter()
        .map(|key| delete_statement(&key.domain, &key.aor, &key.contact))
        .collect();
    for mut upsert in insert_rows(UPSERT_HEAD, 5, rows, ROWS_PER_STATEMENT * 5) {
        upsert.sql.to_mut().push_str(UPSERT_TAIL);
        statements.push(upsert);
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
