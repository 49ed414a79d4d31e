//! Store failures.

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique key is already taken (extension, MAC, name).
    #[error("{entity} already exists")]
    Conflict {
        /// What kind of row clashed.
        entity: &'static str,
    },
    /// The row to change does not exist.
    #[error("{entity} not found")]
    NotFound {
        /// What kind of row was missing.
        entity: &'static str,
    },
    /// A stored value could not be decoded (corrupt or from a newer version).
    #[error("stored {entity} could not be decoded: {source}")]
    Decode {
        /// Which row type.
        entity: &'static str,
        /// The decoding failure.
        source: serde_json::Error,
    },
    /// The database failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// Applying migrations failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}
