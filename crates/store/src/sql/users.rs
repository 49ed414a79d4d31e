//! Users: keyed by domain and extension; names, credentials, seat and mailbox live in `data`.

use hotdesk_core::{DomainName, Extension, User};

use super::keyed::Keyed;
use super::record::data_without;
use super::{insert_rows, Backend, Value};
use crate::StoreError;

const ENTITY: &str = "user";
const TABLE: Keyed = Keyed {
    table: "users",
    entity: ENTITY,
};
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
    let data = data_without(ENTITY, user, COLUMNS)?;
    TABLE
        .update_data(db, &user.domain, &user.extension, data)
        .await
}

/// Foreign keys take the user's associations and tokens with it.
pub(crate) async fn delete(
    db: &dyn Backend,
    domain: &DomainName,
    ext: &Extension,
) -> Result<(), StoreError> {
    TABLE.delete(db, domain, ext).await
}

pub(crate) async fn list(db: &dyn Backend) -> Result<Vec<User>, StoreError> {
    TABLE.list(db).await
}
