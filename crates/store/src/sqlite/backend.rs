//! [`Backend`] for SQLite: binds [`Value`]s, decodes rows by their stored type.

use async_trait::async_trait;
use sqlx::query::Query;
use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::{Row as _, Sqlite, TypeInfo as _, ValueRef as _};

use super::SqliteStore;
use crate::sql::{Backend, Cell, Row, Statement, Value};

/// SQLite's default `SQLITE_MAX_VARIABLE_NUMBER` since 3.32 (the bundled library is newer).
const MAX_PARAMS: usize = 32_766;

#[async_trait]
impl Backend for SqliteStore {
    fn max_params(&self) -> usize {
        MAX_PARAMS
    }

    async fn write(&self, statements: Vec<Statement>) -> Result<Vec<u64>, sqlx::Error> {
        let mut counts = Vec::with_capacity(statements.len());
        if let [statement] = statements.as_slice() {
            // One statement commits on its own; BEGIN/COMMIT would add two round trips.
            let done = bind(statement).execute(&self.writer).await?;
            counts.push(done.rows_affected());
            return Ok(counts);
        }
        let mut tx = self.writer.begin().await?;
        for statement in &statements {
            counts.push(bind(statement).execute(&mut *tx).await?.rows_affected());
        }
        tx.commit().await?;
        Ok(counts)
    }

    async fn read(&self, statement: Statement) -> Result<Vec<Row>, sqlx::Error> {
        let rows = bind(&statement).fetch_all(&self.reader).await?;
        rows.iter().map(decode).collect()
    }
}

fn bind(statement: &Statement) -> Query<'_, Sqlite, SqliteArguments<'_>> {
    let mut query = sqlx::query(&statement.sql);
    for value in &statement.args {
        query = match value {
            Value::Text(text) => query.bind(text.as_deref()),
            Value::Int(int) => query.bind(*int),
        };
    }
    query
}

fn decode(row: &SqliteRow) -> Result<Row, sqlx::Error> {
    (0..row.len())
        .map(|index| {
            let raw = row.try_get_raw(index)?;
            if raw.is_null() {
                return Ok(Cell::Null);
            }
            let kind = raw.type_info().name().to_owned();
            match kind.as_str() {
                "INTEGER" => row.try_get(index).map(Cell::Int),
                "TEXT" => row.try_get(index).map(Cell::Text),
                _ => Err(sqlx::Error::ColumnDecode {
                    index: index.to_string(),
                    source: format!("unexpected SQLite type {kind}").into(),
                }),
            }
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Row)
}
