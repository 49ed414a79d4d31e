//! Call detail records (HD-CDR-1, -2): append-only, searched by user, device and time.

use hotdesk_core::{Cdr, DomainName};

use super::filter::FilterColumns;
use super::record::{data_without, millis, opt_text, record_from, text};
use super::{insert_rows, Backend, Value};
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

/// Appends `cdrs` in one transaction (multi-row `INSERT`s): the CDR writer batches what
/// queued while the previous batch was written, so one commit serves many calls.
pub(crate) async fn insert(db: &dyn Backend, cdrs: &[Cdr]) -> Result<(), StoreError> {
    let rows = cdrs
        .iter()
        .map(|cdr| {
            Ok(vec![
                cdr.domain.as_str().into(),
                millis(cdr.start).into(),
                cdr.call_id.as_str().into(),
                cdr.anchor.as_ref().map(|ext| ext.as_str()).into(),
                cdr.user_extension.as_ref().map(|ext| ext.as_str()).into(),
                data_without(ENTITY, cdr, COLUMNS)?.into(),
            ])
        })
        .collect::<Result<Vec<Vec<Value>>, StoreError>>()?;
    let statements = insert_rows(
        "INSERT INTO cdrs (domain, start_ms, call_id, anchor, user_ext, data)",
        6,
        rows,
        db.max_params(),
    );
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
