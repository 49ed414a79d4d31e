//! Aligned plain-text tables for the administrator commands, built from API JSON.

use serde_json::Value;

/// A column: its header and how to get the cell text from one JSON row.
pub(crate) struct Column {
    /// Header text, upper case by convention.
    pub(crate) header: &'static str,
    /// Extracts the cell from a row.
    pub(crate) cell: fn(&Value) -> String,
}

/// Renders `rows` under `columns`, left-aligned, two spaces apart, no trailing spaces.
pub(crate) fn render(columns: &[Column], rows: &[Value]) -> String {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|row| columns.iter().map(|c| (c.cell)(row)).collect())
        .collect();
    let mut widths: Vec<usize> = columns.iter().map(|c| c.header.chars().count()).collect();
    for row in &cells {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let headers: Vec<String> = columns.iter().map(|c| c.header.to_owned()).collect();
    for line in std::iter::once(&headers).chain(&cells) {
        let mut text = String::new();
        for (i, (cell, width)) in line.iter().zip(&widths).enumerate() {
            if i > 0 {
                text.push_str("  ");
            }
            text.push_str(cell);
            let pad = width.saturating_sub(cell.chars().count());
            text.extend(std::iter::repeat_n(' ', pad));
        }
        out.push_str(text.trim_end());
        out.push('\n');
    }
    out
}

/// The text of `row[key]`: strings as is, numbers and booleans printed, null/missing as `-`.
pub(crate) fn text(row: &Value, key: &str) -> String {
    scalar(row.get(key))
}

fn scalar(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => "-".to_owned(),
        Some(Value::String(s)) if s.is_empty() => "-".to_owned(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// The rows of a list answer: a bare array, or the one array inside an object
/// (`{"users":[…]}`), so the table does not depend on the envelope.
pub(crate) fn rows(value: &Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items.clone(),
        Value::Object(map) => map
            .values()
            .find_map(|v| v.as_array().cloned())
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const COLUMNS: &[Column] = &[
        Column {
            header: "EXT",
            cell: |r| text(r, "extension"),
        },
        Column {
            header: "CITY",
            cell: |r| text(r, "city"),
        },
        Column {
            header: "MAX",
            cell: |r| text(r, "max_devices"),
        },
    ];

    #[test]
    fn columns_align_and_missing_cells_show_a_dash() {
        let data = [
            json!({"extension": "1001", "city": "Zürich", "max_devices": 3}),
            json!({"extension": "94001", "max_devices": null}),
        ];
        let table = render(COLUMNS, &data);
        assert_eq!(
            table,
            "EXT    CITY    MAX\n1001   Zürich  3\n94001  -       -\n"
        );
    }

    #[test]
    fn rows_accept_an_array_or_an_envelope() {
        let array = json!([{"a": 1}]);
        let envelope = json!({"users": [{"a": 1}, {"a": 2}], "total": 2});
        assert_eq!(rows(&array).len(), 1);
        assert_eq!(rows(&envelope).len(), 2);
        assert!(rows(&json!("x")).is_empty());
    }
}
