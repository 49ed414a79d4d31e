//! Why the rules say no: one enum, mapped once per edge (HTTP status, prompt, SIP code).

use serde::Serialize;

/// A decision refused by the rules. `code()` is the stable string used as API `error.code`,
/// in audit rows and to pick the spoken prompt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
pub enum Refusal {
    /// No such user in the domain.
    #[error("no user with that extension")]
    UnknownUser,
    /// No such device in the domain.
    #[error("no device with that extension")]
    UnknownDevice,
    /// The PIN did not match (HD-SEC-2).
    #[error("wrong PIN")]
    WrongPin,
    /// PIN log-in is locked for this user (HD-SEC-2).
    #[error("PIN log-in is locked; try again in {retry_after_secs} s")]
    LockedOut {
        /// Seconds until the lock lifts.
        retry_after_secs: u64,
    },
    /// The device's model refuses phone log-in (HD-LOGIN-6).
    #[error("this phone model does not allow hot-desk log-in")]
    ExcludedModel,
    /// Personal devices are not hot desks (HD-LOGIN-6).
    #[error("personal phones do not allow hot-desk log-in")]
    PersonalDevice,
    /// Location devices change only by administrator (HD-LOGIN-7).
    #[error("location phones are changed only by an administrator")]
    LocationDevice,
    /// The user already holds N devices (HD-LOGIN-4).
    #[error("already logged in to {limit} devices; log one out first")]
    AllocationFull {
        /// The user's allocation N.
        limit: u8,
    },
    /// Changing an allocation would exceed the pool (HD-LOGIN-5).
    #[error("allocation pool exceeded: {requested} requested, {used} of {pool} in use")]
    PoolExceeded {
        /// Pool size (5 per Standard/Advanced seat, 1 per Basic).
        pool: u64,
        /// Allocations in use without this change.
        used: u64,
        /// What the change asks for.
        requested: u64,
    },
    /// An allocation outside 1..=seat maximum (HD-LOGIN-4, -5).
    #[error("allocation must be between 1 and {max} for this seat")]
    AllocationOutOfRange {
        /// The seat's maximum.
        max: u8,
    },
    /// Nobody is logged in to the device.
    #[error("nobody is logged in to this device")]
    NotLoggedIn,
    /// The user is not logged in to this device (log-out by the wrong person).
    #[error("that user is not logged in to this device")]
    NotYourDevice,
    /// Anchor extension outside the domain's device ranges (HD-LOGIN-11).
    #[error("hot-desk extensions must lie in the domain's device range")]
    OutsideDeviceRange,
    /// User extension inside the device ranges (HD-LOGIN-11).
    #[error("user extensions may not lie in the hot-desk device range")]
    InsideDeviceRange,
    /// The extension is taken by a user or device.
    #[error("extension already in use")]
    ExtensionInUse,
    /// The MAC is already registered to a device.
    #[error("MAC address already in use")]
    MacInUse,
    /// The quick-toggle PIN is shared with another user (HD-LOGIN-2).
    #[error("PIN is already used by another user in this domain")]
    PinInUse,
    /// Caller's role too low (HD-SEC-4, HD-LOGIN-11).
    #[error("not allowed for your role")]
    Forbidden,
    /// Model not in the catalogue (HD-PROV-5).
    #[error("unknown model")]
    UnknownModel,
    /// Only emergency numbers and log-in codes from a free device (HD-ROUTE-5).
    #[error("this phone is not logged in")]
    DeviceNotLoggedIn,
}

impl Refusal {
    /// Stable snake_case code for APIs, audit and prompt selection.
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownUser => "unknown_user",
            Self::UnknownDevice => "unknown_device",
            Self::WrongPin => "wrong_pin",
            Self::LockedOut { .. } => "locked_out",
            Self::ExcludedModel => "excluded_model",
            Self::PersonalDevice => "personal_device",
            Self::LocationDevice => "location_device",
            Self::AllocationFull { .. } => "allocation_full",
            Self::PoolExceeded { .. } => "pool_exceeded",
            Self::AllocationOutOfRange { .. } => "allocation_out_of_range",
            Self::NotLoggedIn => "not_logged_in",
            Self::NotYourDevice => "not_your_device",
            Self::OutsideDeviceRange => "outside_device_range",
            Self::InsideDeviceRange => "inside_device_range",
            Self::ExtensionInUse => "extension_in_use",
            Self::MacInUse => "mac_in_use",
            Self::PinInUse => "pin_in_use",
            Self::Forbidden => "forbidden",
            Self::UnknownModel => "unknown_model",
            Self::DeviceNotLoggedIn => "device_not_logged_in",
        }
    }
}
