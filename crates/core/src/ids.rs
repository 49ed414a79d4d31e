//! Validated identifiers: extensions, MAC addresses, domain names, PINs and model IDs.
//!
//! Each newtype can only hold a well-formed value, so code past the edges never re-checks.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a value was refused as an identifier; `field()` names the input for API errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// An extension must be 2–15 ASCII digits.
    #[error("extension must be 2 to 15 digits")]
    Extension,
    /// A MAC address must be 12 hex digits, optionally separated by `:` or `-`.
    #[error("MAC address must be 12 hexadecimal digits")]
    Mac,
    /// A domain name must be a lower-case DNS name.
    #[error("domain name must be a DNS name (letters, digits, '-', '.')")]
    DomainName,
    /// A PIN must be 4–12 ASCII digits.
    #[error("PIN must be 4 to 12 digits")]
    Pin,
    /// A model ID is `vendor-model` in lower case.
    #[error("model must be lower-case 'vendor-model'")]
    Model,
}

impl IdError {
    /// The input field this error is about, for `400` errors that name the field.
    pub fn field(&self) -> &'static str {
        match self {
            Self::Extension => "extension",
            Self::Mac => "mac",
            Self::DomainName => "name",
            Self::Pin => "pin",
            Self::Model => "model",
        }
    }
}

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident, $check:path, $err:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);
        string_id!(@common $name, $check, $err);
        // Hash and Eq are those of the inner String, which equal those of `str`: maps
        // keyed by the id can be searched with a `&str` without allocating.
        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
    (@common $name:ident, $check:path, $err:expr) => {

        impl $name {
            /// Validates and wraps `value`.
            pub fn new(value: &str) -> Result<Self, IdError> {
                $check(value).map(Self).ok_or($err)
            }
            /// The canonical text form.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(value: String) -> Result<Self, IdError> {
                Self::new(&value)
            }
        }
        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.0
            }
        }
        impl std::str::FromStr for $name {
            type Err = IdError;
            fn from_str(value: &str) -> Result<Self, IdError> {
                Self::new(value)
            }
        }
    };
}

fn digits(value: &str, min: usize, max: usize) -> Option<String> {
    let ok = (min..=max).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_digit());
    ok.then(|| value.to_owned())
}

fn check_extension(value: &str) -> Option<String> {
    digits(value, 2, 15)
}

fn check_pin(value: &str) -> Option<String> {
    digits(value, 4, 12)
}

fn check_mac(value: &str) -> Option<String> {
    let hex: String = value.chars().filter(|c| *c != ':' && *c != '-').collect();
    let separators = value.len() - hex.len();
    let ok = hex.len() == 12
        && hex.bytes().all(|b| b.is_ascii_hexdigit())
        && (separators == 0 || separators == 5);
    ok.then(|| hex.to_ascii_lowercase())
}

fn check_domain(value: &str) -> Option<String> {
    let lower = value.to_ascii_lowercase();
    let ok = !lower.is_empty()
        && lower.len() <= 253
        && lower.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        });
    ok.then_some(lower)
}

fn check_model(value: &str) -> Option<String> {
    let ok = (2..=64).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !value.starts_with('-')
        && !value.ends_with('-');
    ok.then(|| value.to_owned())
}

string_id!(
    /// A dialable extension: a user's number or a device's anchor extension.
    Extension, check_extension, IdError::Extension
);
string_id!(
    /// A phone's MAC address, stored as 12 lower-case hex digits.
    Mac, check_mac, IdError::Mac
);
string_id!(
    /// A tenant's SIP domain, lower case (`acme.test`).
    DomainName, check_domain, IdError::DomainName
);
/// A phone log-in PIN in clear; only ever held briefly before hashing (HD-SEC-2).
///
/// `Debug` and `Display` print a mask, so a PIN never reaches a log line.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Pin(String);
string_id!(@common Pin, check_pin, IdError::Pin);

impl fmt::Display for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("****")
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pin(****)")
    }
}
string_id!(
    /// A phone model ID, `vendor-model` in lower case (HD-PROV-5).
    ModelId, check_model, IdError::Model
);

impl Extension {
    /// The extension as a number, for range checks (HD-LOGIN-11).
    pub fn number(&self) -> u64 {
        // Validated as at most 15 digits, so it always fits.
        self.0.parse().unwrap_or(u64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extension_accepts_digits_only() {
        assert!(Extension::new("1004").is_ok());
        assert_eq!(Extension::new("10a4"), Err(IdError::Extension));
        assert_eq!(Extension::new("1"), Err(IdError::Extension));
        assert_eq!(Extension::new("1234567890123456"), Err(IdError::Extension));
        assert_eq!(
            Extension::new("1'; DROP TABLE users;--"),
            Err(IdError::Extension)
        );
    }

    #[test]
    fn mac_is_normalised() {
        let mac = Mac::new("00:15:65:AB:CD:EF").expect("valid");
        assert_eq!(mac.as_str(), "001565abcdef");
        assert_eq!(
            Mac::new("001565abcdef").map(|m| m.0),
            Ok("001565abcdef".into())
        );
        assert!(Mac::new("00:15:65:AB:CD").is_err());
        assert!(Mac::new("00:15:65:AB:CD:EG").is_err());
        assert!(Mac::new("0015:65AB:CDEF").is_err());
    }

    #[test]
    fn domain_is_lower_cased_and_checked() {
        assert_eq!(
            DomainName::new("ACME.test").map(|d| d.0),
            Ok("acme.test".into())
        );
        assert!(DomainName::new("-bad.test").is_err());
        assert!(DomainName::new("a..b").is_err());
        assert!(DomainName::new("a b").is_err());
    }

    #[test]
    fn hd_sec_2_pin_never_prints_in_clear() {
        let pin = Pin::new("482913").expect("valid");
        assert!(!format!("{pin} {pin:?}").contains("482913"));
        assert_eq!(pin.as_str(), "482913");
    }

    #[test]
    fn pin_and_model_shapes() {
        assert!(Pin::new("1234").is_ok());
        assert!(Pin::new("123").is_err());
        assert!(ModelId::new("yealink-t46u").is_ok());
        assert!(ModelId::new("Yealink T46U").is_err());
    }

    #[test]
    fn serde_refuses_invalid_ids() {
        let bad: Result<Extension, _> = serde_json::from_str("\"12x\"");
        assert!(bad.is_err());
        let good: Extension = serde_json::from_str("\"1004\"").expect("valid");
        assert_eq!(good.number(), 1004);
    }
}
