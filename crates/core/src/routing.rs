//! Routing decisions for the call layer: who rings, which identity a call carries, what a
//! free phone may dial (HD-ROUTE-1..5; HD-LOGOUT-3, -5; queues in [`crate::queue`]). Pure
//! look-ups, no SIP.

use crate::desks::DeskBook;
use crate::device::{Device, DeviceKind};
use crate::directory::Directory;
use crate::domain::{DomainSettings, PrimaryWhileAway};
use crate::ids::{DomainName, Extension};
use crate::refusal::Refusal;
use crate::user::User;

/// A place to fork a call to (HD-ROUTE-1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RingTarget {
    /// A device, by anchor extension: ring its registrations (`sip:<anchor>@domain`).
    Device(Extension),
    /// The user's own registrations (`sip:<user-ext>@domain`: personal phone, softphone).
    Personal(Extension),
}

/// HD-ROUTE-1, -2, HD-LOGOUT-5: every device the user is logged in to, plus their personal
/// registrations unless `primary_while_away` is `unreachable`; a user logged in nowhere
/// rings their personal registrations (and, if none answer, their forwarding).
pub fn targets_for_user(
    book: &DeskBook,
    settings: &DomainSettings,
    user: &User,
) -> Vec<RingTarget> {
    let desks = book.devices_of(&user.domain, &user.extension);
    let mut targets: Vec<RingTarget> = desks.iter().cloned().map(RingTarget::Device).collect();
    if desks.is_empty() || settings.primary_while_away == PrimaryWhileAway::RingBoth {
        targets.push(RingTarget::Personal(user.extension.clone()));
    }
    targets
}

/// The identity a call from a device carries (HD-ROUTE-3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerIdentity {
    /// Number presented: an extension on-net, a DID (or the extension if none) off-net.
    pub number: String,
    /// Display name, when a person is behind the call.
    pub name: Option<String>,
    /// The person's extension, for CDRs (HD-CDR-1).
    pub user: Option<Extension>,
}

/// HD-ROUTE-3: a device with someone logged in (or a personal device) calls as that person
/// — extension and name on-net, their DID off-net; a free device calls as its anchor
/// extension on-net and the device's DID off-net.
pub fn caller_identity_for_device<D: Directory + ?Sized>(
    book: &DeskBook,
    directory: &D,
    device: &Device,
    off_net: bool,
) -> CallerIdentity {
    let person = match device.kind {
        DeviceKind::Personal => device.owner.as_ref(),
        DeviceKind::Hotdesk | DeviceKind::Location => book
            .on_device(&device.domain, &device.extension)
            .map(|a| &a.user),
    }
    .and_then(|ext| directory.user(&device.domain, ext));
    match person {
        Some(user) => CallerIdentity {
            number: if off_net {
                user.did
                    .clone()
                    .unwrap_or_else(|| user.extension.to_string())
            } else {
                user.extension.to_string()
            },
            name: Some(user.display_name()).filter(|n| !n.is_empty()),
            user: Some(user.extension.clone()),
        },
        None => CallerIdentity {
            number: match (&device.did, off_net) {
                (Some(did), true) => did.clone(),
                _ => device.extension.to_string(),
            },
            name: None,
            user: None,
        },
    }
}

/// HD-LOGOUT-3: the identity captured when a dialog starts. A log-out, expiry or takeover
/// changes routing for new calls at once (the desk book is updated immediately), while a
/// dialog already in progress keeps this snapshot for its re-INVITEs, transfers and CDR
/// until it ends; nothing is torn down.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DialogIdentity {
    /// The device's domain.
    pub domain: DomainName,
    /// The device the dialog runs on.
    pub device: Extension,
    /// The identity at dialog start.
    pub caller: CallerIdentity,
}

impl DialogIdentity {
    /// Takes the snapshot at dialog start.
    pub fn capture<D: Directory + ?Sized>(
        book: &DeskBook,
        directory: &D,
        device: &Device,
        off_net: bool,
    ) -> Self {
        Self {
            domain: device.domain.clone(),
            device: device.extension.clone(),
            caller: caller_identity_for_device(book, directory, device, off_net),
        }
    }

    /// The identity for this (existing) dialog: always the snapshot, never the book.
    pub fn identity_for_existing_dialog(&self) -> &CallerIdentity {
        &self.caller
    }
}

/// How a call to a device's anchor extension is handled (HD-ROUTE-4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnchorRoute {
    /// Ring the device.
    Ring,
    /// The device is taken by a guest: forward to `forward_to`, else voicemail, else 480.
    NotReachable {
        /// The anchor's not-reachable destination, if set.
        forward_to: Option<String>,
    },
}

/// HD-ROUTE-4: a hot desk taken by a guest does not ring for its anchor number (the guest's
/// own number rings it instead). Location and personal devices always ring: the extension
/// bound to them is theirs.
pub fn route_to_anchor(book: &DeskBook, device: &Device) -> AnchorRoute {
    let taken = book.on_device(&device.domain, &device.extension).is_some();
    if device.kind == DeviceKind::Hotdesk && taken {
        AnchorRoute::NotReachable {
            forward_to: device.forward_to.clone(),
        }
    } else {
        AnchorRoute::Ring
    }
}

/// HD-ROUTE-5: a hot desk or location phone nobody is logged in to may dial only the
/// domain's emergency numbers and the log-in codes (log-in, quick toggle followed by
/// digits, voice portal code or access number); anything else is `DeviceNotLoggedIn` (403, spoken notice).
pub fn check_dial_from_device(
    book: &DeskBook,
    settings: &DomainSettings,
    device: &Device,
    dialled: &str,
) -> Result<(), Refusal> {
    if device.kind == DeviceKind::Personal
        || book.on_device(&device.domain, &device.extension).is_some()
        || settings.is_emergency(dialled)
    {
        return Ok(());
    }
    let codes = &settings.codes;
    let toggle = !codes.toggle.is_empty()
        && dialled
            .strip_prefix(codes.toggle.as_str())
            .is_some_and(|rest| rest.bytes().all(|b| b.is_ascii_digit()));
    // The voice portal, by code or access number, is how a user associates (HD-LOGIN-8).
    let portal = dialled == codes.voice_portal || settings.is_voice_portal_number(dialled);
    if codes.login.iter().any(|c| c == dialled) || portal || toggle {
        Ok(())
    } else {
        Err(Refusal::DeviceNotLoggedIn)
    }
}

#[cfg(test)]
mod tests;
