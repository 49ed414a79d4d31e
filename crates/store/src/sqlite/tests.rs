//! SQLite specifics: the settings durability rests on, and `$n` placeholders.

use sqlx::Row as _;

use super::*;
use crate::sql::{Backend, Cell, Statement};

async fn temp_store() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("hotdesk.db").display());
    let store = SqliteStore::open(&url).await.expect("open");
    (dir, store)
}

#[tokio::test]
async fn file_is_created_in_wal_mode_with_full_sync_and_foreign_keys() {
    let (dir, store) = temp_store().await;
    assert!(dir.path().join("hotdesk.db").exists());
    for pool in [&store.writer, &store.reader] {
        let journal: String = sqlx::query("PRAGMA journal_mode")
            .fetch_one(pool)
            .await
            .expect("journal_mode")
            .get(0);
        assert_eq!(journal, "wal");
        let synchronous: i64 = sqlx::query("PRAGMA synchronous")
            .fetch_one(pool)
            .await
            .expect("synchronous")
            .get(0);
        assert_eq!(synchronous, 2, "FULL");
        let foreign_keys: i64 = sqlx::query("PRAGMA foreign_keys")
            .fetch_one(pool)
            .await
            .expect("foreign_keys")
            .get(0);
        assert_eq!(foreign_keys, 1);
    }
}

#[tokio::test]
async fn numbered_dollar_placeholders_bind_by_number_not_position() {
    let (_dir, store) = temp_store().await;
    let rows = store
        .read(Statement::new("SELECT $2, $1, $2").bind("one").bind(2))
        .await
        .expect("query");
    assert_eq!(
        rows[0].0,
        vec![Cell::Int(2), Cell::Text("one".into()), Cell::Int(2)]
    );
}

#[tokio::test]
async fn memory_database_is_shared_by_reads_and_writes() {
    let store = SqliteStore::open("sqlite::memory:").await.expect("open");
    store
        .write(vec![Statement::new("INSERT INTO domains (name, data) VALUES ($1, '{}')")
            .bind("acme.test")])
        .await
        .expect("insert");
    let rows = store
        .read(Statement::new("SELECT name FROM domains"))
        .await
        .expect("select");
    assert_eq!(rows.len(), 1);
}
