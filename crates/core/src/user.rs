//! A person: extension, names, numbers, credentials (hashed/encrypted), seat and allocation.

use serde::{Deserialize, Serialize};

use crate::domain::DomainSettings;
use crate::ids::{DomainName, Extension};
use crate::refusal::Refusal;

/// A user of a domain. Secrets are never held in clear here (HD-SEC-2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// Owning domain.
    pub domain: DomainName,
    /// The user's own extension.
    pub extension: Extension,
    /// Given name, shown on the phone (HD-PROV-1) and in CDRs (HD-CDR-1).
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// External number presented off-net (HD-ROUTE-3).
    pub did: Option<String>,
    /// argon2 PHC string of the PIN, if the user has one.
    pub pin_hash: Option<String>,
    /// Keyed index of the PIN (HMAC under the server key), so the `980` + PIN quick
    /// toggle finds the PIN's owner (HD-LOGIN-2). `None` for users stored before it existed
    /// or without a PIN: they can use `980` once their PIN is set again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pin_index: Option<String>,
    /// Encrypted SIP password for a personal phone/softphone (server key; HD-SEC-2).
    pub sip_secret: Option<String>,
    /// Licence type; decides the user's share of the allocation pool (HD-LOGIN-5).
    pub seat: SeatType,
    /// Multi-desk allocation N, 1–5 (HD-LOGIN-4).
    pub max_devices: u8,
    /// API/portal role (HD-SEC-4).
    pub scope: Scope,
    /// Not-reachable / forwarding destination (HD-ROUTE-1, -4, HD-LOGOUT-5).
    pub forward_to: Option<String>,
    /// How long the user's phones ring before `forward_to` takes the call (HD-ROUTE-1:
    /// no answer falls to forwarding); `None`: [`DEFAULT_NO_ANSWER_SECS`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_answer_secs: Option<u32>,
    /// A call-center agent: offered queue calls only while `LoggedIn` (HD-LOGIN-10).
    #[serde(default)]
    pub agent: bool,
    /// Stored queue status (HD-LOGIN-10): `Offline` until the first portal sign-in, then
    /// `LoggedOut`; the status shown follows the hot-desk state ([`crate::queue::queue_status`]).
    pub queue_status: QueueStatus,
    /// Voicemail counts shown as message waiting (HD-MWI-1).
    pub mailbox: Mailbox,
}

/// Ring time before a user's forwarding takes an unanswered call, seconds.
pub const DEFAULT_NO_ANSWER_SECS: u32 = 20;

impl User {
    /// Seconds the user's phones ring before forwarding applies (HD-ROUTE-1).
    pub fn no_answer_secs(&self) -> u32 {
        self.no_answer_secs.unwrap_or(DEFAULT_NO_ANSWER_SECS)
    }

    /// "First Last", trimmed, for caller names and labels.
    pub fn display_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
            .trim()
            .to_owned()
    }
}

/// Seat licence type (HD-LOGIN-5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SeatType {
    /// Up to 5 allocations.
    #[default]
    Standard,
    /// Up to 5 allocations.
    Advanced,
    /// 1 allocation.
    Basic,
}

impl SeatType {
    /// The largest allocation a seat of this type may hold.
    pub fn max_allocation(self) -> u8 {
        match self {
            Self::Standard | Self::Advanced => 5,
            Self::Basic => 1,
        }
    }
}

/// API and portal roles, lowest to highest (HD-SEC-4).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// A person: own sessions only.
    #[default]
    User,
    /// Manages the domain's desks and hot-desk devices (HD-LOGIN-11).
    OfficeManager,
    /// Administers the domain.
    DomainAdmin,
    /// Administers every domain.
    SuperAdmin,
}

/// Queue availability (HD-LOGIN-10): `Offline` until the first portal sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum QueueStatus {
    /// Never signed in to the portal: not offered queue calls.
    #[default]
    Offline,
    /// Taking queue calls.
    LoggedIn,
    /// Signed in once, currently not taking queue calls.
    LoggedOut,
}

/// Message counts of a voicemail box (RFC 3842 `Voice-Message: new/old`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Mailbox {
    /// Unheard messages.
    pub new: u32,
    /// Heard messages.
    pub old: u32,
}

/// HD-LOGIN-11: user extensions may not lie inside the domain's hot-desk device ranges.
pub fn check_user_extension(
    settings: &DomainSettings,
    extension: &Extension,
) -> Result<(), Refusal> {
    if settings.in_device_range(extension) {
        return Err(Refusal::InsideDeviceRange);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ExtensionRange;

    #[test]
    fn hd_login_11_users_may_not_be_created_inside_device_range() {
        let mut settings = DomainSettings::default();
        let ext = |e: &str| Extension::new(e).expect("ext");
        assert_eq!(
            check_user_extension(&settings, &ext("94001")),
            Err(Refusal::InsideDeviceRange)
        );
        assert_eq!(
            check_user_extension(&settings, &ext("5450")),
            Err(Refusal::InsideDeviceRange)
        );
        assert_eq!(check_user_extension(&settings, &ext("1004")), Ok(()));
        // Ranges are configurable.
        settings.device_ranges = vec![ExtensionRange {
            first: 1000,
            last: 1099,
        }];
        assert_eq!(
            check_user_extension(&settings, &ext("1004")),
            Err(Refusal::InsideDeviceRange)
        );
        assert_eq!(check_user_extension(&settings, &ext("94001")), Ok(()));
    }
}
