//! The SQLite back end (default): one file, WAL journal, one writer connection.
//!
//! Durability: WAL with `synchronous = NORMAL` by default. A commit appends its frames to the
//! WAL with `write()` before the write resolves, so once acknowledged it is in the kernel and
//! survives `kill -9` of the server (SQLite: "transactions are durable across application
//! crashes regardless of the synchronous setting"; `tests/kill9.rs` checks it). What NORMAL
//! gives up is the fsync per commit: after power loss or an OS crash the last commits before
//! a checkpoint may be lost. `?synchronous=full` in the URL fsyncs every commit and closes
//! that gap, at the disk's fsync rate (≈ 150–600 commits/s here, against ≈ 1,400–4,000 with
//! NORMAL; see `BENCHMARKS.md`). Writes go through a single connection so they queue in
//! the pool instead of sleeping in SQLite's busy handler; reads use their own connections,
//! which WAL lets run beside the writer.

mod backend;

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

use crate::StoreError;

/// Read connections beside the single writer.
const READERS: u32 = 4;
/// How long a write waits for another process holding the database lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// A [`Store`](crate::Store) in a SQLite file (or in memory, for tests).
#[derive(Debug, Clone)]
pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
}

impl SqliteStore {
    /// Opens `sqlite://path` (created on first use) or `sqlite::memory:` and migrates it.
    /// `?synchronous=full` (or `normal`, the default) picks the fsync policy.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let (url, synchronous) = split_synchronous(url)?;
        let options = SqliteConnectOptions::from_str(&url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(synchronous);
        if is_memory(&url) {
            Self::open_memory(options).await
        } else {
            Self::open_with(options).await
        }
    }

    /// Opens a database file with the caller's options (journal mode, `synchronous`) and
    /// migrates it. Foreign keys are always switched on: deletes cascade through them.
    pub async fn open_with(options: SqliteConnectOptions) -> Result<Self, StoreError> {
        let options = options.foreign_keys(true).busy_timeout(BUSY_TIMEOUT);
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&writer).await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(READERS)
            .connect_with(options)
            .await?;
        Ok(Self { writer, reader })
    }

    /// An in-memory database lives only as long as a connection to it: keep exactly one,
    /// open for good, and share it between reads and writes.
    async fn open_memory(options: SqliteConnectOptions) -> Result<Self, StoreError> {
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options.foreign_keys(true))
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        Ok(Self {
            writer: pool.clone(),
            reader: pool,
        })
    }

    /// Closes both pools, waiting for connections in use (and checkpointing the WAL).
    pub async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }
}

/// Takes our `synchronous` parameter out of the URL (sqlx refuses parameters it does not know).
fn split_synchronous(url: &str) -> Result<(String, SqliteSynchronous), sqlx::Error> {
    let Some((base, query)) = url.split_once('?') else {
        return Ok((url.to_owned(), SqliteSynchronous::Normal));
    };
    let mut synchronous = SqliteSynchronous::Normal;
    let mut rest = Vec::new();
    for pair in query.split('&') {
        match pair.split_once('=') {
            Some(("synchronous", value)) => {
                synchronous = match value.to_ascii_lowercase().as_str() {
                    "normal" => SqliteSynchronous::Normal,
                    "full" => SqliteSynchronous::Full,
                    _ => {
                        return Err(sqlx::Error::Configuration(
                            format!("synchronous must be normal or full, not {value:?}").into(),
                        ))
                    }
                }
            }
            _ => rest.push(pair),
        }
    }
    let url = if rest.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", rest.join("&"))
    };
    Ok((url, synchronous))
}

fn is_memory(url: &str) -> bool {
    url.contains(":memory:") || url.contains("mode=memory")
}

#[cfg(test)]
mod tests;
