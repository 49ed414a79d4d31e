//! Users: keyed by domain and extension; names, credentials, seat and mailbox live in `data`.

use hotdesk_core::{DomainName, Extension, User};

use super::record::{data_without, record_from, text};
use super::{insert_rows, touched, write_one, Backend, Statement, Value};
use crate::StoreError;

const ENTITY: &str = "user";
const COLUMNS: &[&str] = &["domain", "extension"];
const INSERT: &str = "INSERT INTO users (domain, extension, data)";

fn values(user: &User) -> Result<Vec<Value>, StoreError> {
    Ok(vec![
        user.domain.as_str().into(),
        user.extension.as_str().into(),
        data_without(ENTITY, user, COLUMNS)?.into(),
    ])
}

pub(crate) async fn create(db: &dyn Backend, user: &User) -> Result<(), StoreError> {
    import(db, std::slice::from_ref(user)).await
}

/// All rows in one transaction, many rows per `INSERT`: 100,000 users take seconds, not minutes.
pub(crate) async fn import(db: &dyn Backend, users: &[User]) -> Result<(), StoreError> {
    if users.is_empty() {
        return Ok(());
    }
    let rows = users.iter().map(values).collect::<Result<Vec<_>, _>>()?;
    let statements = insert_rows(INSERT, COLUMNS.len() + 1, rows, db.max_params());
    db.write(statements)
        .await
        .map_err(|err| StoreError::from_write(err, &[("", ENTITY)], "domain"))?;
    Ok(())
}

pub(crate) async fn update(db: &dyn Backend, user: &User) -> Result<(), StoreError> {
    let statement =
        Statement::new("UPDATE users SET data = $3 WHERE domain = $1 AND extension = $2")
            .bind(user.domain.as_str())
            .bind(user.extension.as_str())
            .bind(data_without(ENTITY, user, COLUMNS)?);
    touched(write_one(db, statement, &[], ENTITY).await?, ENTITY)
}

/// Foreign keys take the user's associations and tokens with it.
pub(crate) async fn delete(
    db: &dyn Backend,
    domain: &DomainName,
    ext: &Extension,
) -> Result<(), StoreError> {
    let statement = Statement::new("DELETE FROM users WHERE domain = $1 AND extension = $2")
        .bind(domain.as_str())
        .bind(ext.as_str());
    touched(write_one(db, statement, &[], ENTITY).await?, ENTITY)
}

pub(crate) async fn list(db: &dyn Backend) -> Result<Vec<User>, StoreError> {
    let rows = db
        .read(Statement::new(
            "SELECT domain, extension, data FROM users ORDER BY domain, extension",
        ))
        .await?;
    rows.into_iter()
        .map(|mut row| {
            let domain = row.text(0, ENTITY)?;
            let extension = row.text(1, ENTITY)?;
            let data = row.text(2, ENTITY)?;
            record_from(
                ENTITY,
                &data,
                [("domain", text(domain)), ("extension", text(extension))],
            )
        })
        .collect()
}
