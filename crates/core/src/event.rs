//! What a decision changed: desk events to persist, apply and publish, and who caused them.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::association::Association;
use crate::ids::{DomainName, Extension};

/// A change to the desk book; persisted before it is applied or acknowledged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DeskEvent {
    /// A user logged in to a device.
    LoggedIn {
        /// The new association.
        association: Association,
        /// Who made it.
        actor: Actor,
    },
    /// A user left a device.
    LoggedOut {
        /// Domain of the device.
        domain: DomainName,
        /// The device's anchor extension.
        device: Extension,
        /// The user who was logged in.
        user: Extension,
        /// Why the session ended.
        reason: LogoutReason,
        /// Who ended it.
        actor: Actor,
        /// When it ended.
        at: Timestamp,
    },
}

impl DeskEvent {
    /// The device whose state (routing, provisioning, MWI) this event changes.
    pub fn device(&self) -> (&DomainName, &Extension) {
        match self {
            Self::LoggedIn { association, .. } => (&association.domain, &association.device),
            Self::LoggedOut { domain, device, .. } => (domain, device),
        }
    }
}

/// Why a session ended (audited; picks the phone notice).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogoutReason {
    /// The user logged out (phone code, portal, API).
    User,
    /// Someone else logged in to the device (HD-LOGIN-3).
    Takeover,
    /// The user, allocation 1, logged in to another device (HD-LOGIN-4).
    MovedElsewhere,
    /// Association lifetime or domain ceiling reached (HD-LOGOUT-2).
    Expired,
    /// End-of-day local time reached (HD-LOGOUT-2).
    EndOfDay,
    /// No call for the idle period (HD-LOGOUT-2).
    Idle,
    /// An administrator or the user released it remotely (HD-LOGOUT-4).
    Forced,
    /// The user or device was deleted.
    Removed,
}

impl LogoutReason {
    /// Stable snake_case name, as serialised (audit detail, API, prompt choice).
    pub fn code(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Takeover => "takeover",
            Self::MovedElsewhere => "moved_elsewhere",
            Self::Expired => "expired",
            Self::EndOfDay => "end_of_day",
            Self::Idle => "idle",
            Self::Forced => "forced",
            Self::Removed => "removed",
        }
    }

    /// The audit `kind` of a log-out for this reason: `forced_logout` (HD-LOGOUT-4),
    /// `expired` for automatic log-outs (HD-LOGOUT-2), else `logout`.
    pub fn audit_kind(self) -> &'static str {
        match self {
            Self::Forced => "forced_logout",
            Self::Expired | Self::EndOfDay | Self::Idle => "expired",
            Self::User | Self::Takeover | Self::MovedElsewhere | Self::Removed => "logout",
        }
    }

    /// Whether the server ended the session on its own (expiry, end of day, idle).
    pub fn is_automatic(self) -> bool {
        matches!(self, Self::Expired | Self::EndOfDay | Self::Idle)
    }
}

/// Who caused a change, for the audit trail (HD-LOGOUT-4).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Actor {
    /// A user, by extension.
    User(Extension),
    /// An administrator or API token, by name.
    Admin(String),
    /// A phone, by anchor extension (feature codes).
    Device(Extension),
    /// The server itself (expiry, end of day, idle).
    System,
}

/// One audit-trail row: log-ins, log-outs, failed PINs, lock-outs, forced log-outs, expiry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// Domain the event belongs to.
    pub domain: DomainName,
    /// When it happened.
    pub at: Timestamp,
    /// Stable snake_case kind (`login`, `logout`, `pin_failed`, `locked_out`, …).
    pub kind: String,
    /// Who did it.
    pub actor: Actor,
    /// User concerned, if any.
    pub user: Option<Extension>,
    /// Device concerned, if any.
    pub device: Option<Extension>,
    /// Where it came from (IP address, `phone`, `cli`), if known.
    pub source: Option<String>,
    /// Extra facts as JSON (reason, method, time left).
    pub detail: serde_json::Value,
}
