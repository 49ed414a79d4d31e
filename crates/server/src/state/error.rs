//! Why an application operation failed; each edge (API, CLI, SIP) maps it once.

use hotdesk_core::Refusal;
use hotdesk_store::StoreError;

use crate::secrets::SecretError;
use crate::state::import::ImportReport;

/// Failure of an [`App`](crate::state::App) operation.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The rules said no (HD-… refusals; `Refusal::code()` is the stable code).
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// A field of the input is invalid; `field` names it for the caller.
    #[error("{field}: {message}")]
    Invalid {
        /// The input field at fault (`mac`, `settings.time_zone`, …).
        field: String,
        /// What is wrong with it (never contains a secret).
        message: String,
    },
    /// The device model is not in the catalogue (HD-PROV-5).
    #[error("unknown model; known models: {}", known.join(", "))]
    UnknownModel {
        /// Every model ID the catalogue knows.
        known: Vec<String>,
    },
    /// No such domain (also returned for domains the caller may not see: HD-SEC-1).
    #[error("no such domain")]
    UnknownDomain,
    /// No such trunk in the domain.
    #[error("no such trunk")]
    UnknownTrunk,
    /// A domain of that name exists.
    #[error("domain already exists")]
    DomainExists,
    /// A trunk of that name exists in the domain.
    #[error("trunk already exists")]
    TrunkExists,
    /// No bearer token, or one that is unknown or expired.
    #[error("missing or invalid bearer token")]
    Unauthenticated,
    /// A CSV import had invalid rows; nothing was imported.
    #[error("{} invalid rows; nothing imported", report.rejected.len())]
    ImportRejected {
        /// Per-row report with line numbers.
        report: Box<ImportReport>,
    },
    /// The feature exists in the contract but not yet in this build.
    #[error("{feature} is not implemented yet")]
    NotImplemented {
        /// What is missing.
        feature: &'static str,
    },
    /// Persistence failed; nothing was acknowledged.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// A secret could not be sealed, opened or hashed.
    #[error("secret: {0}")]
    Secret(#[from] SecretError),
    /// A blocking worker (hashing) panicked or was cancelled.
    #[error("worker task failed")]
    Worker,
}

impl AppError {
    /// An [`AppError::Invalid`] for `field`.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl From<hotdesk_core::IdError> for AppError {
    fn from(err: hotdesk_core::IdError) -> Self {
        Self::invalid(err.field(), err.to_string())
    }
}

/// The dotted name of the field a serde error is about: its path, plus the field's own
/// name for missing fields (serde's path stops at the parent there).
pub(crate) fn field_name(path: &str, message: &str) -> String {
    let path = path.trim_end_matches('.');
    let unknown = ["unknown field `", "missing field `"]
        .iter()
        .find_map(|prefix| message.strip_prefix(prefix))
        .and_then(|rest| rest.split('`').next());
    match unknown {
        // serde_path_to_error already ends the path with an unknown field's name.
        Some(name) if path == name || path.ends_with(&format!(".{name}")) => path.to_owned(),
        Some(name) if path.is_empty() => name.to_owned(),
        Some(name) => format!("{path}.{name}"),
        None if path.is_empty() => "body".to_owned(),
        None => path.to_owned(),
    }
}
