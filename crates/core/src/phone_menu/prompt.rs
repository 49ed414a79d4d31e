//! The prompts the hot-desk scripts speak; each names a file `prompts/<lang>/<name>.wav` (names in kebab case, `enter-pin`, `digit-4`).

use serde::Serialize;

use crate::refusal::Refusal;

/// One recorded fragment. Numbers are spoken digit by digit (`Digit`), so "user 1004" is
/// `ConfirmUser, Digit(1), Digit(0), Digit(0), Digit(4), ConfirmOwner`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(into = "&'static str")]
pub enum Prompt {
    /// "Please enter your account number followed by the pound key."
    EnterAccount,
    /// "Please enter your password followed by the pound key."
    EnterPin,
    /// "Press 2 to confirm user" (HD-LOGIN-1).
    ConfirmUser,
    /// "is the device owner."
    ConfirmOwner,
    /// A digit 0–9, or `*`/`#` as "star"/"pound".
    Digit(u8),
    /// "You are logged in."
    LoggedIn,
    /// "You are now logged out."
    LoggedOut,
    /// "Thank you." (HD-LOGOUT-1)
    ThankYou,
    /// "Wrong password."
    WrongPin,
    /// "Too many wrong passwords. Log-in is locked; try again later." (HD-SEC-2)
    LockedOut,
    /// "This phone model does not allow hot-desk log-in." (HD-LOGIN-6)
    ExcludedModel,
    /// "This is a personal phone; hot-desk log-in is not available." (HD-LOGIN-6)
    PersonalPhone,
    /// "This phone belongs to a location and can only be changed by an administrator."
    /// (HD-LOGIN-7)
    LocationPhone,
    /// "You are already logged in to the most phones you may use. Log out of one first."
    /// (HD-LOGIN-4)
    AllocationFull,
    /// "This phone is not logged in." (HD-ROUTE-5)
    NotLoggedIn,
    /// "You are not the person logged in to this phone."
    NotYourPhone,
    /// "This code cannot be used. Please ask your administrator." (HD-LOGIN-2 shared PIN)
    CodeUnavailable,
    /// "Invalid entry."
    Invalid,
    /// "Goodbye."
    Goodbye,
    /// "Sorry, the service is not available. Please try again later."
    Unavailable,
    /// "For host status, press 1. To associate with a phone, press 2. To disassociate,
    /// press 3." (HD-LOGIN-8; from outside as at a phone, so no "this phone")
    PortalMenu,
    /// "Please enter the extension of the phone, followed by the pound key."
    EnterDevice,
    /// "The phone is not logged in to any user." (the calling phone, or the one entered)
    HostFree,
    /// "The phone is logged in as user"
    HostInUse,
    /// "until"
    Until,
    /// "You are logged in, but you will not receive queue calls until you sign in to the
    /// portal." (HD-LOGIN-10)
    QueueOffline,
}

impl Prompt {
    /// The file stem under the language directory.
    pub fn name(self) -> &'static str {
        match self {
            Self::EnterAccount => "enter-extension",
            Self::EnterPin => "enter-pin",
            Self::ConfirmUser => "press-2-to-confirm-user",
            Self::ConfirmOwner => "is-the-device-owner",
            Self::Digit(d) => match d {
                0 => "digit-0",
                1 => "digit-1",
                2 => "digit-2",
                3 => "digit-3",
                4 => "digit-4",
                5 => "digit-5",
                6 => "digit-6",
                7 => "digit-7",
                8 => "digit-8",
                9 => "digit-9",
                10 => "star",
                _ => "pound",
            },
            Self::LoggedIn => "logged-in",
            Self::LoggedOut => "logged-out",
            Self::ThankYou => "thank-you",
            Self::WrongPin => "wrong-pin",
            Self::LockedOut => "locked",
            Self::ExcludedModel => "model-excluded",
            Self::PersonalPhone => "personal-phone",
            Self::LocationPhone => "location-phone",
            Self::AllocationFull => "allocation-full",
            Self::NotLoggedIn => "not-logged-in",
            Self::NotYourPhone => "not-your-phone",
            Self::CodeUnavailable => "code-unavailable",
            Self::Invalid => "invalid-entry",
            Self::Goodbye => "goodbye",
            Self::Unavailable => "service-unavailable",
            Self::PortalMenu => "portal-menu",
            Self::EnterDevice => "enter-device",
            Self::HostFree => "host-not-logged-in",
            Self::HostInUse => "host-logged-in-as",
            Self::Until => "until",
            Self::QueueOffline => "queue-offline",
        }
    }

    /// Every prompt file the scripts may ask for (the prompt set must hold them all).
    pub fn all() -> Vec<Self> {
        let mut all = vec![
            Self::EnterAccount,
            Self::EnterPin,
            Self::ConfirmUser,
            Self::ConfirmOwner,
            Self::LoggedIn,
            Self::LoggedOut,
            Self::ThankYou,
            Self::WrongPin,
            Self::LockedOut,
            Self::ExcludedModel,
            Self::PersonalPhone,
            Self::LocationPhone,
            Self::AllocationFull,
            Self::NotLoggedIn,
            Self::NotYourPhone,
            Self::CodeUnavailable,
            Self::Invalid,
            Self::Goodbye,
            Self::Unavailable,
            Self::PortalMenu,
            Self::EnterDevice,
            Self::HostFree,
            Self::HostInUse,
            Self::Until,
            Self::QueueOffline,
        ];
        all.extend((0..12).map(Self::Digit));
        all
    }

    /// The digits of `number` spoken one by one; other characters are skipped.
    pub fn digits(number: &str) -> impl Iterator<Item = Self> + '_ {
        number.bytes().filter_map(|b| match b {
            b'0'..=b'9' => Some(Self::Digit(b - b'0')),
            b'*' => Some(Self::Digit(10)),
            b'#' => Some(Self::Digit(11)),
            _ => None,
        })
    }

    /// The prompt that speaks a refusal (the edge mapping of `Refusal` to audio; no `_`
    /// arm, so a new refusal must be placed here).
    pub fn for_refusal(refusal: &Refusal) -> Self {
        match refusal {
            Refusal::WrongPin | Refusal::UnknownUser => Self::WrongPin,
            Refusal::LockedOut { .. } => Self::LockedOut,
            Refusal::ExcludedModel => Self::ExcludedModel,
            Refusal::PersonalDevice => Self::PersonalPhone,
            Refusal::LocationDevice => Self::LocationPhone,
            Refusal::AllocationFull { .. } => Self::AllocationFull,
            Refusal::NotLoggedIn | Refusal::DeviceNotLoggedIn => Self::NotLoggedIn,
            Refusal::NotYourDevice => Self::NotYourPhone,
            Refusal::PinInUse => Self::CodeUnavailable,
            Refusal::UnknownDevice => Self::Invalid,
            Refusal::PoolExceeded { .. }
            | Refusal::AllocationOutOfRange { .. }
            | Refusal::OutsideDeviceRange
            | Refusal::InsideDeviceRange
            | Refusal::ExtensionInUse
            | Refusal::MacInUse
            | Refusal::Forbidden
            | Refusal::UnknownModel => Self::Unavailable,
        }
    }
}

impl From<Prompt> for &'static str {
    fn from(prompt: Prompt) -> Self {
        prompt.name()
    }
}
