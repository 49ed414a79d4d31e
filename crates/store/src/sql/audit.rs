//! The audit trail (HD-LOGOUT-4, HD-SEC-2): append-only rows, listed newest first.

use hotdesk_core::{AuditRecord, DomainName};
use jiff::Timestamp;

use super::filter::FilterColumns;
use super::record::{data_without, millis, opt_text, record_from, text};
use super::{insert_rows, Backend, Row, Statement, Value};
use crate::{RecordFilter, StoreError};

const ENTITY: &str = "audit record";
/// `at` stays in `data` too: `at_ms` only indexes it, at millisecond resolution.
const COLUMNS: &[&str] = &["domain", "kind", "user", "device"];
const SELECT: &str = "SELECT domain, kind, user_ext, device, data FROM audit";
const FILTER: FilterColumns = FilterColumns {
    user: "user_ext",
    device: "device",
    time: "at_ms",
};

/// The `INSERT`s for `audit`, for a transaction of the caller's.
pub(crate) fn inserts(
    audit: &[AuditRecord],
    max_params: usize,
) -> Result<Vec<Statement>, StoreError> {
    let rows = audit
        .iter()
        .map(|record| {
            Ok(vec![
                record.domain.as_str().into(),
                millis(record.at).into(),
                record.kind.as_str().into(),
                record.user.as_ref().map(|ext| ext.as_str()).into(),
                record.device.as_ref().map(|ext| ext.as_str()).into(),
                data_without(ENTITY, record, COLUMNS)?.into(),
            ])
        })
        .collect::<Result<Vec<Vec<Value>>, StoreError>>()?;
    Ok(insert_rows(
        "INSERT INTO audit (domain, at_ms, kind, user_ext, device, data)",
        6,
        rows,
        max_params,
    ))
}

pub(crate) async fn append(db: &dyn Backend, audit: &[AuditRecord]) -> Result<(), StoreError> {
    let statements = inserts(audit, db.max_params())?;
    if statements.is_empty() {
        return Ok(());
    }
    db.write(statements)
        .await
        .map_err(|err| StoreError::from_write(err, &[], "domain"))?;
    Ok(())
}

pub(crate) async fn list(
    db: &dyn Backend,
    domain: &DomainName,
    filter: &RecordFilter,
) -> Result<Vec<AuditRecord>, StoreError> {
    let rows = db.read(filter.statement(SELECT, domain, &FILTER)).await?;
    rows.into_iter().map(decode).collect()
}

/// Oldest first, so a caller replaying them (lock-outs at start) sees them in order.
pub(crate) async fn since(
    db: &dyn Backend,
    kind: &str,
    since: Timestamp,
) -> Result<Vec<AuditRecord>, StoreError> {
    let statement = Statement::new(format!(
        "{SELECT} WHERE kind = $1 AND at_ms >= $2 ORDER BY at_ms, id"
    ))
    .bind(kind)
    .bind(millis(since));
    let rows = db.read(statement).await?;
    rows.into_iter().map(decode).collect()
}

fn decode(mut row: Row) -> Result<AuditRecord, StoreError> {
    let domain = row.text(0, ENTITY)?;
    let kind = row.text(1, ENTITY)?;
    let user = row.opt_text(2, ENTITY)?;
    let device = row.opt_text(3, ENTITY)?;
    let data = row.text(4, ENTITY)?;
    record_from(
        ENTITY,
        &data,
        [
            ("domain", text(domain)),
            ("kind", text(kind)),
            ("user", opt_text(user)),
            ("device", opt_text(device)),
        ],
    )
}
