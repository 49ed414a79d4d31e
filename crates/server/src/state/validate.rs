//! Field checks shared by users, devices, trunks and the CSV import; each failure names
//! the field so the API can say which one is wrong.

use hotdesk_core::Pin;

use crate::secrets::SecretString;
use crate::state::AppError;

/// Longest accepted name (first/last name, trunk name, civic address part).
pub(crate) const MAX_NAME: usize = 64;

/// A display name: at most 64 characters, no control characters. SQL-looking text is
/// just text (every query is parameterised), so it is not refused here.
pub(crate) fn name(field: &str, value: &str, required: bool) -> Result<String, AppError> {
    let value = value.trim();
    if required && value.is_empty() {
        return Err(AppError::invalid(field, "must not be empty"));
    }
    if value.chars().count() > MAX_NAME {
        return Err(AppError::invalid(
            field,
            format!("must be at most {MAX_NAME} characters"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(AppError::invalid(
            field,
            "must not contain control characters",
        ));
    }
    Ok(value.to_owned())
}

/// A phone number: optional `+`, then 2–15 digits (E.164 length).
pub(crate) fn number(field: &str, value: &str) -> Result<String, AppError> {
    let digits = value.strip_prefix('+').unwrap_or(value);
    if (2..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
        Ok(value.to_owned())
    } else {
        Err(AppError::invalid(
            field,
            "must be an optional '+' and 2 to 15 digits",
        ))
    }
}

/// An optional number where an empty string means none.
pub(crate) fn optional_number(
    field: &str,
    value: Option<&str>,
) -> Result<Option<String>, AppError> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(value) => number(field, value).map(Some),
    }
}

/// A PIN given in clear: 4–12 digits (HD-SEC-2); returned validated, still secret.
pub(crate) fn pin(field: &str, value: &SecretString) -> Result<SecretString, AppError> {
    Pin::new(value.expose())
        .map(|_| value.clone())
        .map_err(|err| AppError::invalid(field, err.to_string()))
}

/// A SIP password: 8–128 printable ASCII characters without spaces.
pub(crate) fn sip_password(field: &str, value: &SecretString) -> Result<(), AppError> {
    let text = value.expose();
    let ok = (8..=128).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_graphic());
    if ok {
        Ok(())
    } else {
        Err(AppError::invalid(
            field,
            "must be 8 to 128 printable ASCII characters without spaces",
        ))
    }
}

/// Deserialises a present field (even `null`) as `Some`, so PATCH can tell "absent" from
/// "set to null".
pub(crate) fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_checked_and_named() {
        assert_eq!(name("first_name", " Bob ", true).unwrap(), "Bob");
        assert_eq!(
            name("first_name", "Robert'); DROP TABLE users;--", true).unwrap(),
            "Robert'); DROP TABLE users;--"
        );
        assert!(name("first_name", "", true).is_err());
        assert!(name("first_name", "a\u{0}b", true).is_err());
        assert!(number("did", "+15551234567").is_ok());
        assert!(number("did", "555-1234").is_err());
        assert_eq!(optional_number("did", Some("")).unwrap(), None);
        assert!(pin("pin", &SecretString::new("12a4")).is_err());
        assert!(sip_password("sip_password", &SecretString::new("short")).is_err());
        assert!(sip_password("sip_password", &SecretString::new("Long-enough1")).is_ok());
    }
}
