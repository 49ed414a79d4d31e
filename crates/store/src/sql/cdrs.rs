//! Call detail records (HD-CDR-1, -2): append-only, searched by user, device and time.

use hotdesk_core::{Cdr, Direction, Disposition, DomainName};
use jiff::Timestamp;
use serde::Serialize;

use super::filter::FilterColumns;
use super::record::{millis, opt_text, record_from, text};
use super::{insert_rows, Backend, Value};
use crate::{RecordFilter, StoreError};

const ENTITY: &str = "CDR";
const SELECT: &str = "SELECT domain, call_id, anchor, user_ext, data FROM cdrs";
const FILTER: FilterColumns = FilterColumns {
    user: "user_ext",
    device: "anchor",
    time: "start_ms",
};

/// The `data` column straight from borrowed fields: the record without the fields that have
/// columns of their own (domain, call_id, anchor, user_extension; `start` stays here too:
/// `start_ms` only indexes it, at millisecond resolution). The same JSON as `data_without`
/// gives, without building a `serde_json::Value` first (one per call, thousands a second).
#[derive(Serialize)]
struct Data<'a> {
    direction: Direction,
    user_name: Option<&'a str>,
    from: &'a str,
    to: &'a str,
    start: Timestamp,
    answer: Option<Timestamp>,
    end: Timestamp,
    disposition: Disposition,
}

fn data(cdr: &Cdr) -> Result<String, StoreError> {
    // Destructured whole: a field added to `Cdr` must be placed in a column or here.
    let Cdr {
        domain: _,
        call_id: _,
        anchor: _,
        user_extension: _,
        direction,
        user_name,
        from,
        to,
        start,
        answer,
        end,
        disposition,
    } = cdr;
    let data = Data {
        direction: *direction,
        user_name: user_name.as_deref(),
        from,
        to,
        start: *start,
        answer: *answer,
        end: *end,
        disposition: *disposition,
    };
    serde_json::to_string(&data).map_err(|source| StoreError::Decode {
        entity: ENTITY,
        source,
    })
}

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
                data(cdr)?.into(),
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

#[cfg(test)]
mod tests {
    use super::super::record::data_without;
    use super::*;

    const COLUMNS: &[&str] = &["domain", "call_id", "anchor", "user_extension"];

    #[test]
    fn hd_cdr_1_data_column_is_the_record_without_its_columns() {
        let start: Timestamp = "2026-12-06T03:00:00.123Z".parse().expect("ts");
        let mut cdr = Cdr {
            domain: "acme.test".parse().expect("domain"),
            call_id: "c-1@acme".into(),
            direction: Direction::Internal,
            anchor: Some("94002".parse().expect("ext")),
            user_name: Some("Bob \"B\" Baker".into()),
            user_extension: Some("1005".parse().expect("ext")),
            from: "1005".into(),
            to: "1004".into(),
            start,
            answer: Some(start),
            end: start,
            disposition: Disposition::Answered,
        };
        for _ in 0..2 {
            let ours: serde_json::Value =
                serde_json::from_str(&data(&cdr).expect("data")).expect("json");
            let general: serde_json::Value =
                serde_json::from_str(&data_without(ENTITY, &cdr, COLUMNS).expect("data"))
                    .expect("json");
            assert_eq!(ours, general);
            cdr.anchor = None;
            cdr.user_name = None;
            cdr.user_extension = None;
            cdr.answer = None;
        }
    }
}
