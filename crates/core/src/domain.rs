//! A tenant and its settings: feature codes, device ranges, time zone, policies and seats.

use serde::{Deserialize, Serialize};

use crate::ids::{DomainName, Extension, ModelId};

/// A tenant: its SIP domain and settings (HD-SEC-1: nothing crosses domains).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Domain {
    /// The SIP domain, e.g. `acme.test`.
    pub name: DomainName,
    /// Everything an administrator can change.
    pub settings: DomainSettings,
}

/// Per-domain settings; every field has the default a new domain starts with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DomainSettings {
    /// Feature codes dialled at the phone (HD-LOGIN-1, -2, -8, HD-LOGOUT-1).
    pub codes: FeatureCodes,
    /// Ranges that hot-desk anchor extensions must lie in and users may not (HD-LOGIN-11).
    pub device_ranges: Vec<ExtensionRange>,
    /// IANA time zone for end-of-day log-out (HD-LOGOUT-2).
    pub time_zone: String,
    /// Numbers any device may call, logged in or not (HD-ROUTE-5, -6).
    pub emergency_numbers: Vec<String>,
    /// Licence counts that make up the multi-desk allocation pool (HD-LOGIN-5).
    pub seats: Seats,
    /// Whether a user's personal phone rings while they are logged in elsewhere (HD-ROUTE-2).
    pub primary_while_away: PrimaryWhileAway,
    /// Ceiling on any association's lifetime in seconds; `None` = no ceiling (HD-LOGOUT-2).
    pub max_association_secs: Option<u32>,
    /// Local clock time (`HH:MM`) at which every hot-desk session ends (HD-LOGOUT-2).
    pub end_of_day: Option<String>,
    /// Log out after this many seconds without a call (HD-LOGOUT-2).
    pub idle_logout_secs: Option<u32>,
    /// Seconds before an automatic log-out at which the phone is warned (HD-LOGOUT-2).
    pub logout_warning_secs: u32,
    /// Ask "press 2 to confirm user N is the device owner" at phone log-in (HD-LOGIN-1).
    pub confirm_owner: bool,
    /// Models that refuse phone log-in (HD-LOGIN-6).
    pub excluded_models: Vec<ModelId>,
    /// Wrong-PIN lock-out policy (HD-SEC-2).
    pub lockout: LockoutPolicy,
    /// Seconds an emergency callback rings the calling device (HD-ROUTE-6).
    pub emergency_callback_secs: u32,
    /// Number reaching the voice portal from outside (HD-LOGIN-8): a call to it from the
    /// domain's trunk, or dialled on-net, is answered by the voice portal. Matched exactly
    /// against the dialled Request-URI user, as DIDs are.
    pub voice_portal_number: Option<String>,
    /// Language of the phone prompts: a folder of the prompt set (`prompts/<lang>/`), so a
    /// language is added without code; `None` = the server's (`HOTDESK_PROMPTS_LANGUAGE`).
    pub prompt_language: Option<String>,
}

impl Default for DomainSettings {
    fn default() -> Self {
        Self {
            codes: FeatureCodes::default(),
            device_ranges: vec![
                ExtensionRange {
                    first: 5400,
                    last: 5499,
                },
                ExtensionRange {
                    first: 94000,
                    last: 94999,
                },
            ],
            time_zone: "UTC".into(),
            emergency_numbers: vec!["911".into(), "112".into(), "999".into()],
            seats: Seats::default(),
            primary_while_away: PrimaryWhileAway::Unreachable,
            max_association_secs: None,
            end_of_day: None,
            idle_logout_secs: None,
            logout_warning_secs: 300,
            confirm_owner: true,
            excluded_models: default_excluded_models(),
            lockout: LockoutPolicy::default(),
            emergency_callback_secs: 1800,
            voice_portal_number: None,
            prompt_language: None,
        }
    }
}

/// The seed's default exclusion list: DECT handsets, conference phones, VVX 101/201 (HD-LOGIN-6).
pub fn default_excluded_models() -> Vec<ModelId> {
    [
        "yealink-w56h",
        "yealink-w73h",
        "polycom-soundstation-6000",
        "polycom-vvx-101",
        "polycom-vvx-201",
    ]
    .iter()
    .filter_map(|m| ModelId::new(m).ok())
    .collect()
}

impl DomainSettings {
    /// Whether `ext` lies in one of the hot-desk device ranges (HD-LOGIN-11).
    pub fn in_device_range(&self, ext: &Extension) -> bool {
        let n = ext.number();
        self.device_ranges
            .iter()
            .any(|r| r.first <= n && n <= r.last)
    }

    /// Whether `number` is one of the domain's emergency numbers (HD-ROUTE-5).
    pub fn is_emergency(&self, number: &str) -> bool {
        self.emergency_numbers.iter().any(|e| e == number)
    }

    /// Whether `number` is the voice portal's access number (HD-LOGIN-8).
    pub fn is_voice_portal_number(&self, number: &str) -> bool {
        self.voice_portal_number.as_deref() == Some(number)
    }
}

/// Dialled feature codes; presets from the seeds are listed as alternatives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FeatureCodes {
    /// Log-in codes (`*44`, preset `*88`).
    pub login: Vec<String>,
    /// Log-out codes (`*45`, presets `*89`, `*00`).
    pub logout: Vec<String>,
    /// Quick toggle prefix followed by the PIN (`980`, HD-LOGIN-2).
    pub toggle: String,
    /// Voice portal (`*62`, HD-LOGIN-8).
    pub voice_portal: String,
}

impl Default for FeatureCodes {
    fn default() -> Self {
        Self {
            login: vec!["*44".into(), "*88".into()],
            logout: vec!["*45".into(), "*89".into(), "*00".into()],
            toggle: "980".into(),
            voice_portal: "*62".into(),
        }
    }
}

/// An inclusive range of extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtensionRange {
    /// First extension in the range.
    pub first: u64,
    /// Last extension in the range (inclusive).
    pub last: u64,
}

/// Seat licences per type; the allocation pool is `5 × (standard + advanced) + basic` (HD-LOGIN-5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Seats {
    /// Standard seats (5 allocations each).
    pub standard: u32,
    /// Advanced seats (5 allocations each).
    pub advanced: u32,
    /// Basic seats (1 allocation each).
    pub basic: u32,
}

impl Seats {
    /// The total multi-desk allocations the domain may hand out (HD-LOGIN-5).
    pub fn pool(&self) -> u64 {
        5 * (u64::from(self.standard) + u64::from(self.advanced)) + u64::from(self.basic)
    }
}

/// HD-ROUTE-2: whether the personal phone rings while its user sits at a hot desk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrimaryWhileAway {
    /// BroadWorks behaviour: the primary phone does not ring.
    Unreachable,
    /// Both the hot desk and the personal phone ring.
    RingBoth,
}

/// Wrong-PIN counting and lock-out (HD-SEC-2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LockoutPolicy {
    /// Failures within `window_secs` that trigger a lock-out.
    pub max_failures: u32,
    /// Sliding window in which failures are counted.
    pub window_secs: u32,
    /// How long PIN log-in stays locked.
    pub lock_secs: u32,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        Self {
            max_failures: 5,
            window_secs: 900,
            lock_secs: 900,
        }
    }
}
