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

impl StoreError {
    /// Maps a failed write: a unique violation becomes `Conflict` on the first `conflicts`
    /// entry whose constraint hint appears in the violated constraint (`""` matches any);
    /// a missing parent row (foreign key) becomes `NotFound { entity: parent }`.
    pub(crate) fn from_write(
        err: sqlx::Error,
        conflicts: &[(&str, &'static str)],
        parent: &'static str,
    ) -> Self {
        let Some(db) = err.as_database_error() else {
            return Self::Database(err);
        };
        match db.kind() {
            sqlx::error::ErrorKind::UniqueViolation => {
                // PostgreSQL names the constraint; SQLite names the columns in its message.
                let violated = db.constraint().unwrap_or(db.message()).to_owned();
                conflicts
                    .iter()
                    .find(|(hint, _)| violated.contains(hint))
                    .map_or(Self::Database(err), |(_, entity)| Self::Conflict { entity })
            }
            sqlx::error::ErrorKind::ForeignKeyViolation => Self::NotFound { entity: parent },
            // Not-null and check violations are schema faults, not caller errors; sqlx's
            // ErrorKind is non-exhaustive, so this arm also keeps kinds added upstream.
            _ => Self::Database(err),
        }
    }
}
