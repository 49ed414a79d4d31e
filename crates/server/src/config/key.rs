//! Where the server key comes from: `HOTDESK_SECRET_KEY`, a key file, or (SQLite only) a
//! file created beside the database on first run (HD-SEC-2).
//!
//! The key seals SIP passwords at rest. Losing it makes stored SIP passwords unreadable, so a
//! created file is never overwritten, and PostgreSQL (shared by several nodes) never gets a
//! per-node key silently: it needs the key given explicitly.

use std::io::{ErrorKind, Write as _};
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use super::ConfigError;
use crate::secrets::{SecretString, ServerKey};

/// Appended to the SQLite file name to name its key file (`hotdesk.db` → `hotdesk.db.key`).
pub const DEFAULT_KEY_FILE_SUFFIX: &str = ".key";

/// Where [`crate::config::Config::server_key`] gets the key.
#[derive(Debug, Clone, PartialEq)]
pub enum KeySource {
    /// Given as text (`HOTDESK_SECRET_KEY`): 64 hex digits or base64.
    Inline(SecretString),
    /// Read from this file, which is created (mode 0600) when missing.
    File(PathBuf),
    /// In-memory SQLite: nothing persists, so a random key per run is enough.
    Ephemeral,
    /// PostgreSQL without an explicit key: refused at start.
    Missing,
}

impl KeySource {
    /// Picks the source: explicit key, then explicit file, then the SQLite default.
    pub fn choose(secret: Option<&str>, key_file: Option<PathBuf>, database: &str) -> Self {
        if let Some(secret) = secret.filter(|s| !s.trim().is_empty()) {
            return Self::Inline(SecretString::new(secret.trim()));
        }
        if let Some(path) = key_file {
            return Self::File(path);
        }
        match sqlite_path(database) {
            Some(path) if is_in_memory(&path) => Self::Ephemeral,
            Some(path) => {
                let mut name = path.into_os_string();
                name.push(DEFAULT_KEY_FILE_SUFFIX);
                Self::File(PathBuf::from(name))
            }
            None => Self::Missing,
        }
    }

    /// Loads the key, creating the key file if this source allows it.
    pub fn load(&self) -> Result<ServerKey, ConfigError> {
        match self {
            Self::Inline(text) => {
                ServerKey::parse(text.expose()).map_err(|source| ConfigError::Key {
                    origin: "HOTDESK_SECRET_KEY".into(),
                    source,
                })
            }
            Self::File(path) => load_or_create(path),
            Self::Ephemeral => {
                tracing::warn!("in-memory database: using a random server key for this run");
                Ok(ServerKey::generate())
            }
            Self::Missing => Err(ConfigError::KeyRequired),
        }
    }
}

/// The file path of an `sqlite:` URL, without its query; `None` for other databases.
pub(crate) fn sqlite_path(database: &str) -> Option<PathBuf> {
    let rest = database.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let path = rest.split('?').next().unwrap_or_default();
    Some(PathBuf::from(path))
}

fn is_in_memory(path: &Path) -> bool {
    path.as_os_str().is_empty() || path.as_os_str() == ":memory:"
}

fn load_or_create(path: &Path) -> Result<ServerKey, ConfigError> {
    let file_error = |source| ConfigError::KeyFile {
        path: path.to_owned(),
        source,
    };
    // create_new makes "first run" atomic: two servers starting at once agree on one key.
    let created = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path);
    match created {
        Ok(mut file) => {
            let hex = ServerKey::generate_hex();
            file.write_all(format!("{hex}\n").as_bytes())
                .and_then(|()| file.sync_all())
                .map_err(file_error)?;
            tracing::info!("created server key file {}", path.display());
            ServerKey::parse(&hex).map_err(|source| ConfigError::Key {
                origin: path.display().to_string(),
                source,
            })
        }
        Err(error) if error.kind() == ErrorKind::AlreadyExists => {
            let text = std::fs::read_to_string(path).map_err(file_error)?;
            warn_if_readable_by_others(path);
            ServerKey::parse(&text).map_err(|source| ConfigError::Key {
                origin: path.display().to_string(),
                source,
            })
        }
        Err(error) => Err(file_error(error)),
    }
}

fn warn_if_readable_by_others(path: &Path) {
    if let Ok(meta) = std::fs::metadata(path) {
        if meta.permissions().mode() & 0o077 != 0 {
            tracing::warn!(
                "server key file {} is readable by group or others; chmod 600 it",
                path.display()
            );
        }
    }
}
