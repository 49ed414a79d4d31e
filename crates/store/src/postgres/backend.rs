//! [`Backend`] for PostgreSQL: binds [`Value`]s, decodes rows by their column type.

use async_trait::async_trait;
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::query::Query;
use sqlx::{Postgres, Row as _, TypeInfo as _, ValueRef as _};

use super::PostgresStore;
use crate::sql::{Backend, Cell, Row, Statement, Value};

/// The wire protocol counts bind parameters in 16 bits.
const MAX_PARAMS: usize = 65_535;

#[async_trait]
impl Backend for PostgresStore {
    fn max_params(&self) -> usize {
        MAX_PARAMS
    }

    async fn write(&self, statements: Vec<Statement>) -> Result<Vec<u64>, sqlx::Error> {
        let mut counts = Vec::with_capacity(statements.len());
        if let [statement] = statements.as_slice() {
            // One statement commits on its own; BEGIN/COMMIT would add two round trips.
            let done = bind(statement).execute(&self.pool).await?;
            counts.push(done.rows_affected());
            return Ok(counts);
        }
        let mut tx = self.pool.begin().await?;
        for statement in &statements {
            counts.push(bind(statement).execute(&mut *tx).await?.rows_affected());
        }
        tx.commit().await?;
        Ok(counts)
    }

    async fn read(&self, statement: Statement) -> Result<Vec<Row>, sqlx::Error> {
        let rows = bind(&statement).fetch_all(&self.pool).await?;
        rows.iter().map(decode).collect()
    }
}

fn bind(statement: &Statement) -> Query<'_, Postgres, PgArguments> {
    let mut query = sqlx::query(&statement.sql);
    for value in &statement.args {
        query = match value {
            Value::Text(text) => query.bind(text.as_deref()),
            Value::Int(int) => query.bind(*int),
        };
    }
    query
}

fn decode(row: &PgRow) -> Result<Row, sqlx::Error> {
    (0..row.len())
        .map(|index| {
            let raw = row.try_get_raw(index)?;
            if raw.is_null() {
                return Ok(Cell::Null);
            }
            let kind = raw.type_info().name().to_owned();
            match kind.as_str() {
                "INT8" => row.try_get(index).map(Cell::Int),
                "INT4" => row.try_get::<i32, _>(index).map(|v| Cell::Int(v.into())),
                "TEXT" | "VARCHAR" => row.try_get(index).map(Cell::Text),
                _ => Err(sqlx::Error::ColumnDecode {
                    index: index.to_string(),
                    source: format!("unexpected PostgreSQL type {kind}").into(),
                }),
            }
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Row)
}
