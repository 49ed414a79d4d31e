//! The SQL both back ends share: statements as text plus values, and the [`Backend`] seam.
//!
//! SQLite and PostgreSQL accept the same SQL for everything hotdesk does (`$n` placeholders,
//! `ON CONFLICT … DO UPDATE`, `LIMIT $n`), so each aggregate's queries are written once in
//! this module against [`Backend`]. A back end only binds [`Value`]s, decodes [`Cell`]s and
//! runs transactions; its dialect lives in its migrations and connection settings.

mod associations;
mod audit;
mod bindings;
mod cdrs;
mod devices;
mod domains;
mod filter;
mod keyed;
mod prov;
mod queues;
mod record;
mod store;
mod tokens;
mod trunks;
mod users;

use std::borrow::Cow;
use std::fmt::Write as _;

use async_trait::async_trait;

use crate::StoreError;

/// A bind parameter. Nulls carry their type because PostgreSQL checks parameter types.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    /// `TEXT`, possibly null.
    Text(Option<String>),
    /// `BIGINT` / SQLite `INTEGER`, possibly null.
    Int(Option<i64>),
}

impl From<String> for Value {
    fn from(value: String) -> Self {
        Self::Text(Some(value))
    }
}

impl From<&str> for Value {
    fn from(value: &str) -> Self {
        Self::Text(Some(value.to_owned()))
    }
}

impl From<Option<&str>> for Value {
    fn from(value: Option<&str>) -> Self {
        Self::Text(value.map(str::to_owned))
    }
}

impl From<i64> for Value {
    fn from(value: i64) -> Self {
        Self::Int(Some(value))
    }
}

/// A column value read back from a row.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell {
    /// SQL `NULL`.
    Null,
    /// An integer column.
    Int(i64),
    /// A text column.
    Text(String),
}

/// One result row, columns in `SELECT` order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Row(pub(crate) Vec<Cell>);

impl Row {
    /// Takes column `index` as text; `entity` names the row type in the error.
    pub(crate) fn text(
        &mut self,
        index: usize,
        entity: &'static str,
    ) -> Result<String, StoreError> {
        match self.take(index) {
            Some(Cell::Text(text)) => Ok(text),
            other => Err(record::column_error(entity, index, &other)),
        }
    }

    /// Takes column `index` as nullable text.
    pub(crate) fn opt_text(
        &mut self,
        index: usize,
        entity: &'static str,
    ) -> Result<Option<String>, StoreError> {
        match self.take(index) {
            Some(Cell::Text(text)) => Ok(Some(text)),
            Some(Cell::Null) => Ok(None),
            other => Err(record::column_error(entity, index, &other)),
        }
    }

    /// Takes column `index` as an integer.
    pub(crate) fn int(&mut self, index: usize, entity: &'static str) -> Result<i64, StoreError> {
        match self.take(index) {
            Some(Cell::Int(value)) => Ok(value),
            other => Err(record::column_error(entity, index, &other)),
        }
    }

    fn take(&mut self, index: usize) -> Option<Cell> {
        self.0
            .get_mut(index)
            .map(|cell| std::mem::replace(cell, Cell::Null))
    }
}

/// SQL text and its arguments, `$1` … `$n` in order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Statement {
    /// The SQL, identical for both dialects.
    pub(crate) sql: Cow<'static, str>,
    /// Values for `$1` … `$n`.
    pub(crate) args: Vec<Value>,
}

impl Statement {
    /// A statement with no arguments yet.
    pub(crate) fn new(sql: impl Into<Cow<'static, str>>) -> Self {
        Self {
            sql: sql.into(),
            args: Vec::new(),
        }
    }

    /// Appends the value for the next placeholder.
    pub(crate) fn bind(mut self, value: impl Into<Value>) -> Self {
        self.args.push(value.into());
        self
    }
}

/// What a back end provides; every query and every decision above it is shared.
#[async_trait]
pub(crate) trait Backend: Send + Sync + 'static {
    /// The most bind parameters one statement may carry in this dialect.
    fn max_params(&self) -> usize;

    /// Runs `statements` in one transaction (committed durably), returning rows affected by each.
    async fn write(&self, statements: Vec<Statement>) -> Result<Vec<u64>, sqlx::Error>;

    /// Runs one query and returns its rows.
    async fn read(&self, statement: Statement) -> Result<Vec<Row>, sqlx::Error>;
}

/// Runs one statement as its own transaction, mapping constraint violations as
/// [`StoreError::from_write`] does; returns the rows it touched.
pub(crate) async fn write_one(
    db: &dyn Backend,
    statement: Statement,
    conflicts: &[(&str, &'static str)],
    parent: &'static str,
) -> Result<u64, StoreError> {
    let counts = db
        .write(vec![statement])
        .await
        .map_err(|err| StoreError::from_write(err, conflicts, parent))?;
    Ok(counts.iter().sum())
}

/// `NotFound { entity }` unless a write touched at least one row.
pub(crate) fn touched(count: u64, entity: &'static str) -> Result<(), StoreError> {
    if count == 0 {
        Err(StoreError::NotFound { entity })
    } else {
        Ok(())
    }
}

/// Multi-row `INSERT`s of `rows`, each `columns.len()` values wide, chunked so no statement
/// exceeds `max_params` (or 1,000 rows, past which bigger statements stop paying off).
pub(crate) fn insert_rows(
    head: &str,
    width: usize,
    rows: Vec<Vec<Value>>,
    max_params: usize,
) -> Vec<Statement> {
    let per_statement = (max_params / width.max(1)).clamp(1, 1000);
    let mut statements = Vec::with_capacity(rows.len().div_ceil(per_statement));
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let mut sql = String::from(head);
        let mut args = Vec::with_capacity(per_statement * width);
        for (row_index, row) in rows.by_ref().take(per_statement).enumerate() {
            sql.push_str(if row_index == 0 { " VALUES (" } else { ", (" });
            for column in 0..width {
                let sep = if column == 0 { "" } else { ", " };
                // Writing to a String cannot fail.
                let _ = write!(sql, "{sep}${}", args.len() + column + 1);
            }
            sql.push(')');
            args.extend(row);
        }
        statements.push(Statement {
            sql: sql.into(),
            args,
        });
    }
    statements
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_rows_numbers_placeholders_across_rows() {
        let rows = vec![vec![Value::from("a"), Value::from(1)]; 3];
        let statements = insert_rows("INSERT INTO t (x, y)", 2, rows, 4);
        assert_eq!(statements.len(), 2);
        assert_eq!(
            statements[0].sql,
            "INSERT INTO t (x, y) VALUES ($1, $2), ($3, $4)"
        );
        assert_eq!(statements[0].args.len(), 4);
        assert_eq!(statements[1].sql, "INSERT INTO t (x, y) VALUES ($1, $2)");
    }

    #[test]
    fn insert_rows_of_nothing_is_no_statement() {
        assert!(insert_rows("INSERT INTO t (x)", 1, Vec::new(), 100).is_empty());
    }

    #[test]
    fn row_take_checks_types() {
        let mut row = Row(vec![Cell::Text("a".into()), Cell::Null, Cell::Int(7)]);
        assert_eq!(row.opt_text(1, "x").ok(), Some(None));
        assert_eq!(row.int(2, "x").ok(), Some(7));
        assert!(matches!(
            row.int(0, "x"),
            Err(StoreError::Decode { entity: "x", .. })
        ));
        assert!(row.text(9, "x").is_err());
    }
}
