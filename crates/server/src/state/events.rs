//! Live events (log-ins, log-outs, registrations, calls, mailbox, lock-outs) on a broadcast
//! channel: the API's `/events` stream and the portal read them; SIP code publishes into it.

use hotdesk_core::{Actor, DeskEvent, DomainName, Extension, LoginMethod, LogoutReason};
use jiff::Timestamp;
use serde::Serialize;

/// Something that happened, as sent to `/events` subscribers. Carries no secret.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AppEvent {
    /// A user logged in to a device.
    LoggedIn {
        /// Domain of the device and user.
        domain: DomainName,
        /// Device anchor extension.
        device: Extension,
        /// User extension.
        user: Extension,
        /// How.
        method: LoginMethod,
        /// Who did it.
        actor: Actor,
        /// When.
        at: Timestamp,
    },
    /// A user left a device.
    LoggedOut {
        /// Domain of the device and user.
        domain: DomainName,
        /// Device anchor extension.
        device: Extension,
        /// User extension.
        user: Extension,
        /// Why.
        reason: LogoutReason,
        /// Who did it.
        actor: Actor,
        /// When.
        at: Timestamp,
    },
    /// A contact registered (or refreshed) for an AOR.
    Registered {
        /// Domain of the AOR.
        domain: DomainName,
        /// AOR user part (anchor or user extension).
        aor: Extension,
        /// Contact URI.
        contact: String,
        /// When the binding lapses.
        expires_at: Timestamp,
    },
    /// A contact was removed or expired.
    Unregistered {
        /// Domain of the AOR.
        domain: DomainName,
        /// AOR user part.
        aor: Extension,
        /// Contact URI.
        contact: String,
    },
    /// A contact lapsed without being refreshed and the registrar removed it.
    Expired {
        /// Domain of the AOR.
        domain: DomainName,
        /// AOR user part.
        aor: Extension,
        /// Contact URI.
        contact: String,
    },
    /// A call changed state (`ringing`, `answered`, `ended`).
    Call {
        /// Domain of the call.
        domain: DomainName,
        /// SIP Call-ID of the leg.
        call_id: String,
        /// Calling number.
        from: String,
        /// Called number.
        to: String,
        /// New state.
        state: String,
        /// When.
        at: Timestamp,
    },
    /// A mailbox's counts changed (HD-MWI-1).
    MailboxChanged {
        /// Domain of the user.
        domain: DomainName,
        /// Mailbox owner.
        user: Extension,
        /// Unheard messages.
        new: u32,
        /// Heard messages.
        old: u32,
    },
    /// The phone menu of an IVR call played prompts (feature codes, voice portal,
    /// Activate Phone), so a portal or test sees which refusal or step was spoken.
    Ivr {
        /// Domain of the call.
        domain: DomainName,
        /// The calling or called device, if known.
        device: Option<Extension>,
        /// SIP Call-ID.
        call_id: String,
        /// Prompt file names, in order (`enter-pin`, `wrong-pin`, `digit-4` …).
        prompts: Vec<&'static str>,
    },
    /// An "Activate Phone" call changed state (HD-LOGIN-9): `calling`, `answered`,
    /// `activated`, or `failed` with a reason.
    Activation {
        /// Domain of the user and device.
        domain: DomainName,
        /// The activation's id (`GET …/activations/{id}`).
        id: String,
        /// The user being activated.
        user: Extension,
        /// The device called.
        device: Extension,
        /// New state.
        state: String,
        /// Why it failed (a refusal code or SIP status), if it did.
        reason: Option<String>,
    },
    /// PIN log-in was locked after repeated failures (HD-SEC-2).
    LockedOut {
        /// Domain.
        domain: DomainName,
        /// The locked user, if the lock is per user.
        user: Option<Extension>,
        /// The device the failures came from, if any.
        device: Option<Extension>,
        /// When the lock lifts.
        until: Timestamp,
    },
}

impl AppEvent {
    /// The domain the event belongs to (SSE filtering, HD-SEC-1).
    pub fn domain(&self) -> &DomainName {
        match self {
            Self::LoggedIn { domain, .. }
            | Self::LoggedOut { domain, .. }
            | Self::Registered { domain, .. }
            | Self::Unregistered { domain, .. }
            | Self::Expired { domain, .. }
            | Self::Call { domain, .. }
            | Self::MailboxChanged { domain, .. }
            | Self::Ivr { domain, .. }
            | Self::Activation { domain, .. }
            | Self::LockedOut { domain, .. } => domain,
        }
    }

    /// The user the event is about, if any (a `user` token sees only its own events).
    pub fn user(&self) -> Option<&Extension> {
        match self {
            Self::LoggedIn { user, .. }
            | Self::LoggedOut { user, .. }
            | Self::MailboxChanged { user, .. }
            | Self::Activation { user, .. } => Some(user),
            Self::LockedOut { user, .. } => user.as_ref(),
            Self::Registered { aor, .. }
            | Self::Unregistered { aor, .. }
            | Self::Expired { aor, .. } => Some(aor),
            Self::Call { .. } | Self::Ivr { .. } => None,
        }
    }

    /// The SSE `event:` name (same as the JSON `type`).
    pub fn name(&self) -> &'static str {
        match self {
            Self::LoggedIn { .. } => "logged_in",
            Self::LoggedOut { .. } => "logged_out",
            Self::Registered { .. } => "registered",
            Self::Unregistered { .. } => "unregistered",
            Self::Expired { .. } => "expired",
            Self::Call { .. } => "call",
            Self::MailboxChanged { .. } => "mailbox_changed",
            Self::LockedOut { .. } => "locked_out",
            Self::Ivr { .. } => "ivr",
            Self::Activation { .. } => "activation",
        }
    }
}

impl From<&DeskEvent> for AppEvent {
    fn from(event: &DeskEvent) -> Self {
        match event {
            DeskEvent::LoggedIn { association, actor } => Self::LoggedIn {
                domain: association.domain.clone(),
                device: association.device.clone(),
                user: association.user.clone(),
                method: association.method,
                actor: actor.clone(),
                at: association.since,
            },
            DeskEvent::LoggedOut {
                domain,
                device,
                user,
                reason,
                actor,
                at,
            } => Self::LoggedOut {
                domain: domain.clone(),
                device: device.clone(),
                user: user.clone(),
                reason: *reason,
                actor: actor.clone(),
                at: *at,
            },
        }
    }
}
