//! [`Backend`] for SQLite: binds [`Value`]s, decodes rows by their stored type.
//!
//! SQLite accepts the shared `$n` placeholders, but binding them is quadratic: sqlx asks
//! `sqlite3_bind_parameter_name` for every parameter and SQLite finds each name by a linear
//! scan, which dominated a 3,000-parameter `INSERT` (perf: 18 % of an import). So the SQL is
//! rewritten to anonymous `?` with the arguments in text order, which binds in linear time.

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
            let done = bind(&positional(statement)).execute(&self.writer).await?;
            counts.push(done.rows_affected());
            return Ok(counts);
        }
        let mut tx = self.writer.begin().await?;
        for statement in &statements {
            let statement = positional(statement);
            counts.push(bind(&statement).execute(&mut *tx).await?.rows_affected());
        }
        tx.commit().await?;
        Ok(counts)
    }

    async fn read(&self, statement: Statement) -> Result<Vec<Row>, sqlx::Error> {
        let rows = bind(&positional(&statement))
            .fetch_all(&self.reader)
            .await?;
        rows.iter().map(decode).collect()
    }
}

/// A statement with anonymous `?` placeholders and its arguments in text order.
struct Positional<'s> {
    sql: String,
    args: Vec<&'s Value>,
}

/// Rewrites `$n` to `?`. Our SQL holds no literals containing `$` (values are always bound);
/// a `$n` beyond the arguments binds NULL, as SQLite does for unbound parameters.
fn positional(statement: &Statement) -> Positional<'_> {
    let sql = &statement.sql;
    let mut out = String::with_capacity(sql.len());
    let mut args = Vec::with_capacity(statement.args.len());
    let mut rest = sql.as_ref();
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let digits = rest[at + 1..]
            .bytes()
            .take_while(u8::is_ascii_digit)
            .count();
        match rest[at + 1..at + 1 + digits].parse::<usize>() {
            Ok(n) => {
                out.push('?');
                args.push(
                    n.checked_sub(1)
                        .and_then(|i| statement.args.get(i))
                        .unwrap_or(&NULL),
                );
            }
            Err(_) => out.push('$'),
        }
        rest = &rest[at + 1 + digits..];
    }
    out.push_str(rest);
    Positional { sql: out, args }
}

static NULL: Value = Value::Text(None);

fn bind<'q>(positional: &'q Positional<'q>) -> Query<'q, Sqlite, SqliteArguments<'q>> {
    let mut query = sqlx::query(&positional.sql);
    for value in &positional.args {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dollar_placeholders_become_anonymous_in_text_order() {
        let statement = Statement::new("UPDATE t SET a = $3 WHERE b = $1 AND c = $2 AND d = $1")
            .bind("one")
            .bind(2)
            .bind("three");
        let positional = positional(&statement);
        assert_eq!(
            positional.sql,
            "UPDATE t SET a = ? WHERE b = ? AND c = ? AND d = ?"
        );
        let order: Vec<_> = positional.args.into_iter().cloned().collect();
        assert_eq!(
            order,
            vec![
                Value::from("three"),
                Value::from("one"),
                Value::from(2),
                Value::from("one")
            ]
        );
    }

    #[test]
    fn stray_dollars_and_missing_arguments() {
        let statement = Statement::new("SELECT '$', $9, $0").bind(1);
        let positional = positional(&statement);
        assert_eq!(positional.sql, "SELECT '$', ?, ?");
        assert_eq!(positional.args, vec![&NULL, &NULL]);
    }
}
