//! Call detail records (HD-CDR-1, -2): append-only, searched by user, device and time.

use hotdesk_core::{Cdr, DomainName};

use super::filter::FilterColumns;
use super::record::{data_without, millis, opt_text, record_from, text};
use super::{write_one, Backend, Statement};
use crate::{RecordFilter, StoreError};

const ENTITY: &str = "CDR";
/// `start` stays in `data` too: `start_ms` only indexes it, at millisecond resolution.
const COLUMNS: &[&str] = &["domain", "call_id", "anchor", "user_extension"];
const SELECT: &str = "SELECT domain, call_id, anchor, user_ext, data FROM cdrs";
const FILTER: FilterColumns = FilterColumns {
    user: "user_ext",
    device: "anchor",
    time: "start_ms",
};

pub(crate) async fn insert(db: &dyn Backend, cdr: &Cdr) -> Result<(), StoreError> {
    let statement = Statement::new(
        "INSERT INTO cdrs (domain, start_ms, call_id, anchor, user_ext, data) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(cdr.domain.as_str())
    .bind(millis(cdr.start))
    .bind(cdr.call_id.as_str())
    .bind(cdr.anchor.as_ref().map(|ext| ext.as_str()))
    .bind(cdr.user_extension.as_ref().map(|ext| ext.as_str()))
    .bind(data_without(ENTITY, cdr, COLUMNS)?);
    write_one(db, statement, &[], "domain").await?;
    Ok(())
}

pub(crate) async fn list(
    db: &dyn Backend,
    domain: &DomainName,
    filter: &RecordFilter,
) -> Result<Vec<Cdr>, StoreError> {
    let rows = db.read(filter.statement(SELECT, domain, &FILTER)).await?;
    rows.into_iter()
        .map(|mut row| {
            let domain = row.text(0, ENTITY)?;
            let call_id = row.text(1, ENTITY)?;
            let anchor = row.opt_text(2, ENTITY)?;
            let user = row.opt_text(3, ENTITY)?;
            let data = row.text(4, ENTITY)?;
            record_from(
                ENTITY,
                &data,
                [
                    ("domain", text(domain)),
                    ("call_id", text(call_id)),
                    ("anchor", opt_text(anchor)),
                    ("user_extension", opt_text(user)),
                ],
            )
        })
        .collect()
}
