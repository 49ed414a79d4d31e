//! API tokens by hash (HD-SEC-4); a token dies with its domain or its user.

use super::record::{data_without, opt_text, record_from, text};
use super::{write_one, Backend, Statement};
use crate::{StoreError, TokenRecord};

const ENTITY: &str = "token";
const COLUMNS: &[&str] = &["hash", "domain", "user"];

pub(crate) async fn create(db: &dyn Backend, token: &TokenRecord) -> Result<(), StoreError> {
    let statement =
        Statement::new("INSERT INTO tokens (hash, domain, user_ext, data) VALUES ($1, $2, $3, $4)")
            .bind(token.hash.as_str())
            .bind(token.domain.as_ref().map(|d| d.as_str()))
            .bind(token.user.as_ref().map(|ext| ext.as_str()))
            .bind(data_without(ENTITY, token, COLUMNS)?);
    write_one(db, statement, &[("", ENTITY)], "domain or user").await?;
    Ok(())
}

pub(crate) async fn find(db: &dyn Backend, hash: &str) -> Result<Option<TokenRecord>, StoreError> {
    let statement =
        Statement::new("SELECT hash, domain, user_ext, data FROM tokens WHERE hash = $1")
            .bind(hash);
    let Some(mut row) = db.read(statement).await?.into_iter().next() else {
        return Ok(None);
    };
    let hash = row.text(0, ENTITY)?;
    let domain = row.opt_text(1, ENTITY)?;
    let user = row.opt_text(2, ENTITY)?;
    let data = row.text(3, ENTITY)?;
    record_from(
        ENTITY,
        &data,
        [
            ("hash", text(hash)),
            ("domain", opt_text(domain)),
            ("user", opt_text(user)),
        ],
    )
    .map(Some)
}

/// Deleting an absent token succeeds: the caller wanted it gone, and it is.
pub(crate) async fn delete(db: &dyn Backend, hash: &str) -> Result<(), StoreError> {
    let statement = Statement::new("DELETE FROM tokens WHERE hash = $1").bind(hash);
    write_one(db, statement, &[], ENTITY).await?;
    Ok(())
}
