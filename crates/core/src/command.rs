//! What callers ask the desk book ([`Command`]) and what it answers ([`Plan`]).

use jiff::Timestamp;

use crate::association::LoginMethod;
use crate::event::{Actor, AuditRecord, DeskEvent, LogoutReason};
use crate::ids::{DomainName, Extension};
use crate::user::Scope;

/// Who asks for a change, with what authority and from where (audit trail, HD-LOGOUT-4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requester {
    /// Recorded as the actor of every event and audit row.
    pub actor: Actor,
    /// The requester's role; phones and users act with [`Scope::User`] (HD-SEC-4).
    pub scope: Scope,
    /// Where the request came from (IP address, `phone`, `cli`), if known.
    pub source: Option<String>,
}

impl Requester {
    /// A phone acting through feature codes or the voice portal.
    pub fn phone(device: Extension) -> Self {
        Self {
            actor: Actor::Device(device),
            scope: Scope::User,
            source: Some("phone".into()),
        }
    }

    /// A signed-in user (portal or API token) with their scope.
    pub fn user(extension: Extension, scope: Scope) -> Self {
        Self {
            actor: Actor::User(extension),
            scope,
            source: None,
        }
    }

    /// An administrator or API token, by name, with its scope.
    pub fn admin(name: impl Into<String>, scope: Scope) -> Self {
        Self {
            actor: Actor::Admin(name.into()),
            scope,
            source: None,
        }
    }

    /// The server itself (expiry, end of day, idle, deletions).
    pub fn system() -> Self {
        Self {
            actor: Actor::System,
            scope: Scope::SuperAdmin,
            source: None,
        }
    }

    /// The same requester with a source (IP address, `cli`, …).
    pub fn with_source(mut self, source: impl Into<String>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// Whether the requester acts as `user` personally (own sessions, HD-SEC-4).
    pub fn is_user(&self, user: &Extension) -> bool {
        matches!(&self.actor, Actor::User(ext) if ext == user)
    }

    /// Whether the requester may manage the domain's desks (Office Manager or higher).
    pub fn is_manager(&self) -> bool {
        self.scope >= Scope::OfficeManager
    }
}

/// A request to change the desk book; [`crate::DeskBook::plan`] decides it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Log a user in to a device (HD-LOGIN-1..9).
    Login(Login),
    /// Log out whoever (or a named user) is on a device (HD-LOGOUT-1, -4).
    Logout(Logout),
    /// End every session of a user or of a device, unconditionally (deletion, "log out
    /// everywhere"); the caller has already authorised it.
    Release(Release),
    /// End every session of a domain whose expiry, end of day or idle time has passed, and
    /// list the ones to warn (HD-LOGOUT-2).
    Sweep {
        /// The domain to sweep.
        domain: DomainName,
    },
}

/// Log `user` in to `device`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    /// Domain of both the user and the device (HD-SEC-1).
    pub domain: DomainName,
    /// The device's anchor extension.
    pub device: Extension,
    /// The user's extension.
    pub user: Extension,
    /// How the log-in is made; phone-side methods need `pin_verified` (HD-LOGIN-6).
    pub method: LoginMethod,
    /// Who asks.
    pub requester: Requester,
    /// The caller checked the user's PIN (see [`crate::lockout::PinGuard::attempt`]).
    pub pin_verified: bool,
}

/// Where a log-out is asked from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogoutPath {
    /// At the phone (log-out code, voice portal): needs the PIN; refused on location
    /// devices (HD-LOGOUT-1, HD-LOGIN-7).
    Phone {
        /// The caller checked the logged-in user's PIN.
        pin_verified: bool,
    },
    /// From the portal, API or CLI by the user or a manager; audited as forced
    /// (HD-LOGOUT-4).
    Remote,
}

/// Log out the session on `device`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logout {
    /// Domain of the device (HD-SEC-1).
    pub domain: DomainName,
    /// The device's anchor extension.
    pub device: Extension,
    /// If set, only this user's session is ended; anyone else there → `NotYourDevice`.
    pub user: Option<Extension>,
    /// Phone or remote.
    pub path: LogoutPath,
    /// Who asks.
    pub requester: Requester,
}

/// End all sessions of one user or one device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    /// Domain of the target.
    pub domain: DomainName,
    /// Which sessions.
    pub target: ReleaseTarget,
    /// Recorded reason, usually [`LogoutReason::Removed`] or [`LogoutReason::Forced`].
    pub reason: LogoutReason,
    /// Who asks.
    pub requester: Requester,
}

/// The sessions a [`Release`] ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReleaseTarget {
    /// Every device the user is logged in to.
    User(Extension),
    /// Whoever is on this device.
    Device(Extension),
}

/// A decision: the events to persist then apply, their audit rows, and what else the
/// server must do once they are applied. Nothing has changed yet when a plan is returned.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Plan {
    /// Persist, then [`crate::DeskBook::apply`], in this order.
    pub events: Vec<DeskEvent>,
    /// Audit rows to persist with the events.
    pub audit: Vec<AuditRecord>,
    /// Devices whose owner changed: re-render provisioning and send check-sync (HD-PROV-2),
    /// re-send MWI (HD-MWI-1), refresh the label.
    pub devices_changed: Vec<(DomainName, Extension)>,
    /// Users who gained or lost a device (routing caches, portal events).
    pub users_changed: Vec<(DomainName, Extension)>,
    /// Users left with no device: their primary device and forwarding apply again
    /// (HD-LOGOUT-5).
    pub users_released: Vec<(DomainName, Extension)>,
    /// Sessions whose automatic log-out is near (sweep only); repeated by every sweep
    /// until the deadline, so deduplicate by (device, deadline) (HD-LOGOUT-2).
    pub warnings: Vec<Warning>,
    /// HD-LOGOUT-3: calls in progress on changed devices are not cut. New calls follow the
    /// new state at once; existing dialogs keep the identity they captured at start (see
    /// [`crate::routing::DialogIdentity`]). Always `true`; the field makes it explicit.
    pub calls_continue: bool,
}

impl Plan {
    /// Whether the plan changes nothing (e.g. logging in again to a device you hold).
    pub fn is_noop(&self) -> bool {
        self.events.is_empty()
    }
}

/// An automatic log-out that will happen soon (HD-LOGOUT-2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// Domain of the device.
    pub domain: DomainName,
    /// The device to warn (NOTIFY text, prompt on next off-hook).
    pub device: Extension,
    /// The logged-in user.
    pub user: Extension,
    /// When the log-out will happen.
    pub at: Timestamp,
    /// Why.
    pub reason: LogoutReason,
}
