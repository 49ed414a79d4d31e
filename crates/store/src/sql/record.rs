//! Records ↔ rows: key columns plus a JSON `data` object holding the rest of the record.
//!
//! Columns are authoritative for the fields they hold; `data` never repeats them, except
//! timestamps, which keep their exact value in `data` while a `*_ms` column indexes them.

use jiff::Timestamp;
use serde::de::{DeserializeOwned, Error as _};
use serde::Serialize;
use serde_json::Value as Json;

use super::Cell;
use crate::StoreError;

/// The JSON object of `record` without `columns`, which the row stores on its own.
pub(crate) fn data_without<T: Serialize>(
    entity: &'static str,
    record: &T,
    columns: &[&str],
) -> Result<String, StoreError> {
    // Our records always serialise; should one ever fail it is a codec fault, reported as such.
    let mut value =
        serde_json::to_value(record).map_err(|source| StoreError::Decode { entity, source })?;
    if let Some(map) = value.as_object_mut() {
        for column in columns {
            map.remove(*column);
        }
    }
    Ok(value.to_string())
}

/// Rebuilds a record from its `data` object and the fields read from columns.
///
/// The column fields are spliced into the JSON text so it is parsed once, straight into `T`
/// (start-up loads 100,000 users and associations through here).
pub(crate) fn record_from<T: DeserializeOwned>(
    entity: &'static str,
    data: &str,
    columns: impl IntoIterator<Item = (&'static str, Json)>,
) -> Result<T, StoreError> {
    let decode = |source| StoreError::Decode { entity, source };
    let body = data
        .trim_start()
        .strip_prefix('{')
        .ok_or_else(|| decode(serde_json::Error::custom("data is not a JSON object")))?;
    let mut json = String::with_capacity(data.len() + 64);
    json.push('{');
    for (name, value) in columns {
        json.push('"');
        json.push_str(name);
        json.push_str("\":");
        json.push_str(&value.to_string());
        json.push(',');
    }
    if body.trim_start().starts_with('}') && json.ends_with(',') {
        // `data` was `{}`: no comma after the last column field.
        json.pop();
    }
    json.push_str(body);
    serde_json::from_str(&json).map_err(decode)
}

/// A text column as JSON, for [`record_from`].
pub(crate) fn text(value: String) -> Json {
    Json::String(value)
}

/// A nullable text column as JSON, for [`record_from`].
pub(crate) fn opt_text(value: Option<String>) -> Json {
    value.map_or(Json::Null, Json::String)
}

/// A `*_ms` column value: unix milliseconds.
pub(crate) fn millis(at: Timestamp) -> i64 {
    at.as_millisecond()
}

/// A `*_ms` column as a timestamp, in JSON for [`record_from`].
pub(crate) fn timestamp(entity: &'static str, ms: i64) -> Result<Json, StoreError> {
    let at = Timestamp::from_millisecond(ms).map_err(|err| StoreError::Decode {
        entity,
        source: serde_json::Error::custom(err),
    })?;
    serde_json::to_value(at).map_err(|source| StoreError::Decode { entity, source })
}

/// The error for a column that is missing or of the wrong type (a schema mismatch).
pub(crate) fn column_error(entity: &'static str, index: usize, found: &Option<Cell>) -> StoreError {
    let found = match found {
        None => "no column",
        Some(Cell::Null) => "NULL",
        Some(Cell::Int(_)) => "an integer",
        Some(Cell::Text(_)) => "text",
    };
    StoreError::Decode {
        entity,
        source: serde_json::Error::custom(format!("column {index} holds {found}")),
    }
}

#[cfg(test)]
mod tests {
    use hotdesk_core::Trunk;

    use super::*;

    #[test]
    fn columns_are_split_off_and_put_back() {
        let trunk = Trunk {
            domain: "acme.test".parse().expect("domain"),
            name: "main".into(),
            address: "sip.example:5060".into(),
            username: None,
            secret: Some("enc".into()),
            emergency: true,
        };
        let data = data_without("trunk", &trunk, &["domain", "name"]).expect("encode");
        assert!(!data.contains("acme.test"), "{data}");
        let back: Trunk = record_from(
            "trunk",
            &data,
            [
                ("domain", text("acme.test".into())),
                ("name", text("main".into())),
            ],
        )
        .expect("decode");
        assert_eq!(back, trunk);
    }

    #[test]
    fn corrupt_data_is_a_decode_error() {
        let bad: Result<Trunk, _> = record_from("trunk", "{not json", []);
        assert!(matches!(
            bad,
            Err(StoreError::Decode {
                entity: "trunk",
                ..
            })
        ));
        let invalid_id: Result<Trunk, _> = record_from(
            "trunk",
            r#"{"address":"a","username":null,"secret":null,"emergency":false}"#,
            [("domain", text("-bad-".into())), ("name", text("x".into()))],
        );
        assert!(matches!(invalid_id, Err(StoreError::Decode { .. })));
    }

    #[test]
    fn empty_data_and_no_columns_still_parse() {
        let empty: serde_json::Map<String, Json> = record_from("x", " {}", []).expect("empty");
        assert!(empty.is_empty());
        let one: serde_json::Map<String, Json> =
            record_from("x", "{ }", [("k", text("v\"q".into()))]).expect("one");
        assert_eq!(one.get("k"), Some(&text("v\"q".into())));
        let bad: Result<serde_json::Map<String, Json>, _> = record_from("x", "[1]", []);
        assert!(bad.is_err());
    }

    #[test]
    fn millis_round_trip() {
        let at: Timestamp = "2025-03-04T05:06:07.123Z".parse().expect("ts");
        let json = timestamp("x", millis(at)).expect("in range");
        assert_eq!(serde_json::from_value::<Timestamp>(json).ok(), Some(at));
        assert!(timestamp("x", i64::MAX).is_err());
    }
}
