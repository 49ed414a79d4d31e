//! A phone: anchor extension, model, kind and location (HD-LOGIN-6, -7, HD-ROUTE-6).

use serde::{Deserialize, Serialize};

use crate::domain::DomainSettings;
use crate::ids::{DomainName, Extension, Mac, ModelId};
use crate::refusal::Refusal;
use crate::user::Mailbox;

/// A phone registered under its own anchor extension, never under a person's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Device {
    /// Owning domain.
    pub domain: DomainName,
    /// Anchor extension: the device's own number and SIP digest user.
    pub extension: Extension,
    /// Hardware address, unique across all domains (provisioning file name).
    pub mac: Mac,
    /// Model ID from the catalogue (HD-PROV-5).
    pub model: ModelId,
    /// What people may do with it.
    pub kind: DeviceKind,
    /// Encrypted SIP password (HD-SEC-2).
    pub sip_secret: Option<String>,
    /// The user a `personal` device belongs to.
    pub owner: Option<Extension>,
    /// External number used when nobody is logged in (HD-ROUTE-3).
    pub did: Option<String>,
    /// Civic address served as PIDF-LO for emergency calls (HD-ROUTE-6).
    pub location: Option<CivicAddress>,
    /// Per-device association lifetime in seconds (VOIspeed "association expiration").
    pub association_secs: Option<u32>,
    /// Not-reachable destination of the anchor while a guest holds it (HD-ROUTE-4).
    pub forward_to: Option<String>,
    /// Soft keys: per device, never follow users (HD-PROV-3).
    pub soft_keys: Vec<Key>,
    /// Provisioning template name, if not the model default.
    pub template: Option<String>,
    /// Site, for filtering the desk board.
    pub site: Option<String>,
    /// The anchor extension's own voicemail box: what the message-waiting light shows
    /// while nobody is logged in (HD-MWI-1). Absent in records written before it existed.
    #[serde(default)]
    pub mailbox: Mailbox,
}

/// Kinds of device (SPEC §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceKind {
    /// Shared desk phone people log in to.
    Hotdesk,
    /// A user's own phone or softphone, registered as that user.
    Personal,
    /// Common-area phone bound to one extension; no phone log-out (HD-LOGIN-7).
    Location,
}

/// A programmable key (soft key, line key or speed dial).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Key {
    /// Key position, 1-based.
    pub position: u16,
    /// What the key does (`speed_dial`, `blf`, `line`, …).
    pub kind: String,
    /// Number or URI the key acts on.
    pub value: String,
    /// Text shown beside the key.
    pub label: String,
}

/// RFC 5139 civic address; `country` required (SPEC §4).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CivicAddress {
    /// ISO 3166 country code.
    pub country: String,
    /// State or province (A1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// City (A3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// Street (RD).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street: Option<String>,
    /// House number (HNO).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    /// Floor (FLR).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub floor: Option<String>,
    /// Room (ROOM).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room: Option<String>,
    /// Free text (LOC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// HD-LOGIN-11: a hot-desk device's anchor extension must lie in one of the domain's
/// device ranges. Personal and location devices may use any free extension.
pub fn check_device_extension(
    settings: &DomainSettings,
    kind: DeviceKind,
    extension: &Extension,
) -> Result<(), Refusal> {
    if kind == DeviceKind::Hotdesk && !settings.in_device_range(extension) {
        return Err(Refusal::OutsideDeviceRange);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hd_login_11_hot_desk_anchor_must_lie_in_device_range() {
        let settings = DomainSettings::default();
        let ok = |e: &str| Extension::new(e).expect("ext");
        for inside in ["5400", "5499", "94000", "94999"] {
            assert_eq!(
                check_device_extension(&settings, DeviceKind::Hotdesk, &ok(inside)),
                Ok(())
            );
        }
        for outside in ["5399", "5500", "93999", "95000", "1004"] {
            assert_eq!(
                check_device_extension(&settings, DeviceKind::Hotdesk, &ok(outside)),
                Err(Refusal::OutsideDeviceRange),
                "{outside}"
            );
        }
        assert_eq!(
            check_device_extension(&settings, DeviceKind::Location, &ok("1999")),
            Ok(())
        );
    }
}
