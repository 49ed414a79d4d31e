//! Domain settings: merge a PATCH into the current settings and check every field names a
//! sane value (time zone exists, ranges ordered, codes of digits, `*` and `#`).

use std::collections::HashSet;

use hotdesk_core::DomainSettings;
use serde_json::Value;

use crate::state::AppError;

/// Longest feature code or dialled number accepted in settings.
const MAX_CODE_LEN: usize = 8;
/// Largest extension number (15 digits).
const MAX_EXTENSION: u64 = 999_999_999_999_999;

/// Applies an RFC 7396 JSON merge patch to `current` and validates the result.
pub(crate) fn merge(current: &DomainSettings, patch: &Value) -> Result<DomainSettings, AppError> {
    let mut value =
        serde_json::to_value(current).map_err(|e| AppError::invalid("settings", e.to_string()))?;
    merge_value(&mut value, patch);
    let merged: DomainSettings = serde_path_to_error::deserialize(value).map_err(|err| {
        let path = err.path().to_string();
        let message = err.into_inner().to_string();
        let field = crate::state::error::field_name(&format!("settings.{path}"), &message);
        AppError::invalid(field, message)
    })?;
    validate(&merged)?;
    Ok(merged)
}

fn merge_value(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(target), Value::Object(patch)) => {
            for (key, value) in patch {
                if value.is_null() {
                    target.remove(key);
                } else {
                    merge_value(target.entry(key.clone()).or_insert(Value::Null), value);
                }
            }
        }
        (target, patch) => *target = patch.clone(),
    }
}

fn invalid(field: &str, message: impl Into<String>) -> AppError {
    AppError::invalid(format!("settings.{field}"), message)
}

fn is_code(code: &str) -> bool {
    (1..=MAX_CODE_LEN).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'*' || b == b'#')
}

fn is_number(number: &str) -> bool {
    (2..=15).contains(&number.len()) && number.bytes().all(|b| b.is_ascii_digit())
}

/// Checks a complete settings value.
pub(crate) fn validate(settings: &DomainSettings) -> Result<(), AppError> {
    if jiff::tz::TimeZone::get(&settings.time_zone).is_err() {
        return Err(invalid(
            "time_zone",
            format!("unknown time zone {:?}", settings.time_zone),
        ));
    }
    validate_codes(settings)?;
    if settings.device_ranges.len() > 32 {
        return Err(invalid("device_ranges", "at most 32 ranges"));
    }
    for range in &settings.device_ranges {
        if range.first > range.last || range.last > MAX_EXTENSION || range.first < 10 {
            return Err(invalid(
                "device_ranges",
                format!(
                    "range {}-{} must have first <= last, within 10..={MAX_EXTENSION}",
                    range.first, range.last
                ),
            ));
        }
    }
    if settings.emergency_numbers.is_empty() || settings.emergency_numbers.len() > 16 {
        return Err(invalid(
            "emergency_numbers",
            "give 1 to 16 emergency numbers",
        ));
    }
    if let Some(bad) = settings.emergency_numbers.iter().find(|n| !is_number(n)) {
        return Err(invalid(
            "emergency_numbers",
            format!("{bad:?} is not 2 to 15 digits"),
        ));
    }
    if let Some(end) = &settings.end_of_day {
        if !is_clock_time(end) {
            return Err(invalid("end_of_day", "must be a local time HH:MM"));
        }
    }
    if settings.max_association_secs.is_some_and(|s| s < 60) {
        return Err(invalid("max_association_secs", "must be at least 60"));
    }
    if settings.idle_logout_secs.is_some_and(|s| s < 60) {
        return Err(invalid("idle_logout_secs", "must be at least 60"));
    }
    let lockout = settings.lockout;
    if !(1..=100).contains(&lockout.max_failures) {
        return Err(invalid("lockout.max_failures", "must be 1 to 100"));
    }
    if !(1..=86_400).contains(&lockout.window_secs) {
        return Err(invalid("lockout.window_secs", "must be 1 to 86400"));
    }
    if !(1..=604_800).contains(&lockout.lock_secs) {
        return Err(invalid("lockout.lock_secs", "must be 1 to 604800"));
    }
    if let Some(number) = &settings.voice_portal_number {
        let digits = number.strip_prefix('+').unwrap_or(number);
        if !is_number(digits) {
            return Err(invalid("voice_portal_number", "must be 2 to 15 digits"));
        }
    }
    if let Some(language) = &settings.prompt_language {
        if !is_language(language) {
            return Err(invalid(
                "prompt_language",
                "must be a prompt folder name: 1 to 16 of a-z, 0-9, '-' and '_', starting with a letter",
            ));
        }
    }
    Ok(())
}

/// A prompt folder's name; it becomes part of a path, so nothing that could leave `prompts/`.
fn is_language(name: &str) -> bool {
    (1..=16).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

fn validate_codes(settings: &DomainSettings) -> Result<(), AppError> {
    let codes = &settings.codes;
    if codes.login.is_empty() {
        return Err(invalid("codes.login", "give at least one log-in code"));
    }
    if codes.logout.is_empty() {
        return Err(invalid("codes.logout", "give at least one log-out code"));
    }
    let all = codes
        .login
        .iter()
        .map(|c| ("codes.login", c))
        .chain(codes.logout.iter().map(|c| ("codes.logout", c)))
        .chain([
            ("codes.toggle", &codes.toggle),
            ("codes.voice_portal", &codes.voice_portal),
        ]);
    let mut seen = HashSet::new();
    for (field, code) in all {
        if !is_code(code) {
            return Err(invalid(
                field,
                format!("{code:?} must be 1 to {MAX_CODE_LEN} of digits, '*' and '#'"),
            ));
        }
        if !seen.insert(code.as_str()) {
            return Err(invalid(field, format!("{code:?} is used twice")));
        }
    }
    Ok(())
}

fn is_clock_time(text: &str) -> bool {
    let Some((h, m)) = text.split_once(':') else {
        return false;
    };
    let two_digits = |s: &str| s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit());
    two_digits(h)
        && two_digits(m)
        && h.parse::<u8>().is_ok_and(|h| h < 24)
        && m.parse::<u8>().is_ok_and(|m| m < 60)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_keeps_unnamed_fields_and_validates() {
        let current = DomainSettings::default();
        let merged = merge(&current, &json!({"time_zone": "Europe/Paris"})).unwrap();
        assert_eq!(merged.time_zone, "Europe/Paris");
        assert_eq!(merged.codes, current.codes);
        let merged = merge(&current, &json!({"lockout": {"max_failures": 3}})).unwrap();
        assert_eq!(merged.lockout.max_failures, 3);
        assert_eq!(merged.lockout.lock_secs, current.lockout.lock_secs);
    }

    #[test]
    fn bad_settings_name_the_field() {
        let current = DomainSettings::default();
        let field = |patch| match merge(&current, &patch) {
            Err(AppError::Invalid { field, .. }) => field,
            other => panic!("expected invalid, got {other:?}"),
        };
        assert_eq!(
            field(json!({"time_zone": "Mars/Olympus"})),
            "settings.time_zone"
        );
        assert_eq!(
            field(json!({"device_ranges": [{"first": 10, "last": 5}]})),
            "settings.device_ranges"
        );
        assert_eq!(
            field(json!({"codes": {"toggle": "98a"}})),
            "settings.codes.toggle"
        );
        assert_eq!(
            field(json!({"codes": {"login": ["*45"]}})),
            "settings.codes.logout"
        );
        assert_eq!(field(json!({"end_of_day": "25:00"})), "settings.end_of_day");
        assert_eq!(field(json!({"bogus": 1})), "settings.bogus");
        assert_eq!(
            field(json!({"lockout": {"max_failures": "five"}})),
            "settings.lockout.max_failures"
        );
    }

    #[test]
    fn issue_6_prompt_language_is_a_folder_name_that_stays_inside_prompts() {
        let current = DomainSettings::default();
        for good in ["fr", "pt-br", "en_gb", "de2"] {
            let merged = merge(&current, &json!({ "prompt_language": good })).unwrap();
            assert_eq!(merged.prompt_language.as_deref(), Some(good));
        }
        for bad in [
            "",
            "..",
            "../en",
            "en/x",
            "FR",
            "-fr",
            "a-very-long-language",
        ] {
            assert!(
                merge(&current, &json!({ "prompt_language": bad })).is_err(),
                "{bad:?}"
            );
        }
        // null goes back to the server's language.
        let set = merge(&current, &json!({ "prompt_language": "fr" })).unwrap();
        let unset = merge(&set, &json!({ "prompt_language": null })).unwrap();
        assert_eq!(unset.prompt_language, None);
    }
}
