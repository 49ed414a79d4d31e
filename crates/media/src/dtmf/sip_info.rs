//! DTMF carried in SIP INFO bodies: `application/dtmf-relay` (`Signal=5\r\nDuration=160`,
//! the Cisco format most phones use) and `application/dtmf` (the key alone).

use thiserror::Error;

use super::Digit;

/// Why an INFO body gives no digit; the caller answers 415 or 400 accordingly.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SipInfoError {
    /// The Content-Type is not a DTMF type.
    #[error("INFO content type {0:?} does not carry DTMF")]
    UnsupportedType(String),
    /// The body has no `Signal=` line (dtmf-relay).
    #[error("INFO body has no Signal line")]
    MissingSignal,
    /// The signal is not a DTMF key.
    #[error("INFO signal {0:?} is not a DTMF key")]
    BadSignal(String),
}

impl SipInfoError {
    /// SIP status to answer the INFO with: 415 for a type we do not take, 400 otherwise.
    pub fn status(&self) -> u16 {
        match self {
            Self::UnsupportedType(_) => 415,
            Self::MissingSignal | Self::BadSignal(_) => 400,
        }
    }
}

/// Whether a Content-Type (parameters ignored, any case) is one [`parse`] reads.
pub fn is_dtmf_type(content_type: &str) -> bool {
    let media = content_type.split(';').next().unwrap_or("").trim();
    media.eq_ignore_ascii_case("application/dtmf-relay")
        || media.eq_ignore_ascii_case("application/dtmf")
}

/// Reads the digit from an INFO body given its Content-Type.
pub fn parse(content_type: &str, body: &[u8]) -> Result<Digit, SipInfoError> {
    let media = content_type.split(';').next().unwrap_or("").trim();
    let text = String::from_utf8_lossy(body);
    if media.eq_ignore_ascii_case("application/dtmf-relay") {
        let signal = text
            .lines()
            .filter_map(|line| line.split_once('='))
            .find(|(name, _)| name.trim().eq_ignore_ascii_case("signal"))
            .map(|(_, value)| value.trim())
            .ok_or(SipInfoError::MissingSignal)?;
        signal_digit(signal)
    } else if media.eq_ignore_ascii_case("application/dtmf") {
        signal_digit(text.trim())
    } else {
        Err(SipInfoError::UnsupportedType(media.to_owned()))
    }
}

/// A key character, or an event number (some phones send `10`/`11` for `*`/`#`).
fn signal_digit(signal: &str) -> Result<Digit, SipInfoError> {
    let bad = || SipInfoError::BadSignal(signal.chars().take(16).collect());
    let mut chars = signal.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => Digit::from_char(c).ok_or_else(bad),
        _ => signal
            .parse::<u8>()
            .ok()
            .and_then(Digit::from_event)
            .ok_or_else(bad),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(c: char) -> Digit {
        Digit::from_char(c).unwrap()
    }

    #[test]
    fn dtmf_relay_bodies() {
        assert_eq!(
            parse("application/dtmf-relay", b"Signal=5\r\nDuration=160\r\n"),
            Ok(key('5'))
        );
        assert_eq!(
            parse("Application/DTMF-Relay; x=y", b"Duration=100\nsignal= #\n"),
            Ok(key('#'))
        );
        assert_eq!(
            parse("application/dtmf-relay", b"Signal=11\r\n"),
            Ok(key('#'))
        );
        assert_eq!(
            parse("application/dtmf-relay", b"Signal=10\r\n"),
            Ok(key('*'))
        );
        assert_eq!(
            parse("application/dtmf-relay", b"Duration=160"),
            Err(SipInfoError::MissingSignal)
        );
        let err = parse("application/dtmf-relay", b"Signal=x").unwrap_err();
        assert_eq!(err.status(), 400);
        assert_eq!(
            parse("application/dtmf-relay", b"Signal=99"),
            Err(SipInfoError::BadSignal("99".into()))
        );
    }

    #[test]
    fn dtmf_bodies_and_other_types() {
        assert_eq!(parse("application/dtmf", b"7"), Ok(key('7')));
        assert_eq!(parse("application/dtmf", b" *\r\n"), Ok(key('*')));
        assert!(is_dtmf_type("application/dtmf"));
        assert!(!is_dtmf_type("application/sdp"));
        assert_eq!(parse("application/sdp", b"v=0").unwrap_err().status(), 415);
        assert!(parse("application/dtmf", &[0xFF, 0xFE]).is_err());
    }
}
