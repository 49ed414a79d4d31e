//! SQLite specifics: the settings durability rests on, and `$n` placeholders.

use sqlx::Row as _;

use super::*;
use crate::sql::{Backend, Cell, Statement};

async fn temp_store(query: &str) -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!(
        "sqlite://{}{query}",
        dir.path().join("hotdesk.db").display()
    );
    let store = SqliteStore::open(&url).await.expect("open");
    (dir, store)
}

/// `journal_mode`, `synchronous` and `foreign_keys` as every connection of `store` sees them.
async fn pragmas(store: &SqliteStore) -> Vec<(String, i64, i64)> {
    let mut seen = Vec::new();
    for pool in [&store.writer, &store.reader] {
        let journal: String = sqlx::query("PRAGMA journal_mode")
            .fetch_one(pool)
            .await
            .expect("journal_mode")
            .get(0);
        let synchronous: i64 = sqlx::query("PRAGMA synchronous")
            .fetch_one(pool)
            .await
            .expect("synchronous")
            .get(0);
        let foreign_keys: i64 = sqlx::query("PRAGMA foreign_keys")
            .fetch_one(pool)
            .await
            .expect("foreign_keys")
            .get(0);
        seen.push((journal, synchronous, foreign_keys));
    }
    seen
}

#[tokio::test]
async fn file_is_created_in_wal_mode_with_normal_sync_and_foreign_keys() {
    let (dir, store) = temp_store("").await;
    assert!(dir.path().join("hotdesk.db").exists());
    let normal = ("wal".to_owned(), 1, 1);
    assert_eq!(pragmas(&store).await, vec![normal.clone(), normal]);
}

#[tokio::test]
async fn synchronous_full_is_chosen_in_the_url() {
    let (_dir, store) = temp_store("?synchronous=FULL").await;
    let full = ("wal".to_owned(), 2, 1);
    assert_eq!(pragmas(&store).await, vec![full.clone(), full]);
    let bad = SqliteStore::open("sqlite://x.db?synchronous=off").await;
    assert!(matches!(
        bad,
        Err(StoreError::Database(sqlx::Error::Configuration(_)))
    ));
}

#[test]
fn synchronous_is_split_from_other_parameters() {
    let (url, sync) =
        split_synchronous("sqlite://a.db?mode=rwc&synchronous=full&cache=shared").expect("valid");
    assert_eq!(url, "sqlite://a.db?mode=rwc&cache=shared");
    assert!(matches!(sync, SqliteSynchronous::Full));
    let (url, sync) = split_synchronous("sqlite::memory:").expect("valid");
    assert_eq!(url, "sqlite::memory:");
    assert!(matches!(sync, SqliteSynchronous::Normal));
}

#[tokio::test]
async fn numbered_dollar_placeholders_bind_by_number_not_position() {
    let (_dir, store) = temp_store("").await;
    let rows = store
        .read(Statement::new("SELECT $2, $1, $2").bind("one").bind(2))
        .await
        .expect("query");
    assert_eq!(
        rows[0].0,
        vec![Cell::Int(2), Cell::Text("one".into()), Cell::Int(2)]
    );
}

/// sqlx's own SQLite binding takes `$n` by number too; we rewrite to `?` only for speed.
#[tokio::test]
async fn sqlx_binds_dollar_placeholders_by_number() {
    let (_dir, store) = temp_store("").await;
    let row = sqlx::query("SELECT $2, $1")
        .bind("one")
        .bind(2_i64)
        .fetch_one(&store.reader)
        .await
        .expect("query");
    assert_eq!(
        (row.get::<i64, _>(0), row.get::<String, _>(1)),
        (2, "one".to_owned())
    );
}

#[tokio::test]
async fn memory_database_is_shared_by_reads_and_writes() {
    let store = SqliteStore::open("sqlite::memory:").await.expect("open");
    store
        .write(vec![Statement::new(
            "INSERT INTO domains (name, data) VALUES ($1, '{}')",
        )
        .bind("acme.test")])
        .await
        .expect("insert");
    let rows = store
        .read(Statement::new("SELECT name FROM domains"))
        .await
        .expect("select");
    assert_eq!(rows.len(), 1);
}
