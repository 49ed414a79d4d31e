//! An association (session): a user logged in to a device, how and until when.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::ids::{DomainName, Extension};

/// A user ↔ device session; persisted and restored across restarts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Association {
    /// Owning domain.
    pub domain: DomainName,
    /// The device's anchor extension.
    pub device: Extension,
    /// The logged-in user's extension.
    pub user: Extension,
    /// When the log-in took effect.
    pub since: Timestamp,
    /// How it was made.
    pub method: LoginMethod,
    /// Lifetime expiry: log-in + min(device `association_secs`, domain ceiling), if any.
    /// End of day and idle are computed from the domain settings (`logout::Schedule`).
    pub expires_at: Option<Timestamp>,
    /// Last call activity, for idle log-out (HD-LOGOUT-2).
    pub last_activity: Timestamp,
}

/// How an association was made (SPEC §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoginMethod {
    /// Log-in code or quick toggle dialled at the phone (HD-LOGIN-1, -2).
    PhoneCode,
    /// Voice portal menu 2 (HD-LOGIN-8).
    VoicePortal,
    /// Web "Activate Phone" (HD-LOGIN-9).
    ActivatePhone,
    /// An administrator (portal or CLI).
    Admin,
    /// The REST API.
    Api,
}
