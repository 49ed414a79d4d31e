//! The PostgreSQL back end, for many nodes sharing one database.
//!
//! Durability is the server's `synchronous_commit` (on by default): a commit returns once its
//! WAL record is flushed, so an acknowledged write survives `kill -9` of either process.

mod backend;

use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

use crate::StoreError;

/// Connections per node; PostgreSQL serves them concurrently.
const CONNECTIONS: u32 = 8;

/// A [`Store`](crate::Store) in a PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Connects to `postgres://…` and migrates the database.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        Self::open_with(PgConnectOptions::from_str(url)?).await
    }

    /// Connects with the caller's options (e.g. a `search_path` per test schema) and migrates.
    pub async fn open_with(options: PgConnectOptions) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(CONNECTIONS)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        Ok(Self { pool })
    }

    /// Closes the pool, waiting for connections in use.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}
