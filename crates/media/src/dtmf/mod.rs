//! DTMF in its three carriers: RFC 4733 telephone-event packets, SIP INFO bodies and
//! in-band tones (Goertzel). All three produce a [`Digit`].

pub mod inband;
pub mod rfc4733;
pub mod sip_info;

use std::fmt;

/// A DTMF key: `0`–`9`, `*`, `#`, `A`–`D`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Digit(char);

/// Where a digit came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DigitSource {
    /// RFC 4733 telephone-event in the RTP stream.
    Rfc4733,
    /// A SIP INFO request (`application/dtmf-relay` or `application/dtmf`).
    SipInfo,
    /// Tones in the audio, found by the Goertzel detector.
    InBand,
}

const KEYS: [char; 16] = [
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '#', 'A', 'B', 'C', 'D',
];

impl Digit {
    /// From an RFC 4733 §3.2 event code (0–9, 10 = `*`, 11 = `#`, 12–15 = A–D).
    pub fn from_event(code: u8) -> Option<Self> {
        KEYS.get(usize::from(code)).copied().map(Self)
    }

    /// From a key character (`a`–`d` accepted as `A`–`D`).
    pub fn from_char(c: char) -> Option<Self> {
        let c = c.to_ascii_uppercase();
        KEYS.contains(&c).then_some(Self(c))
    }

    /// The RFC 4733 event code.
    pub fn event(self) -> u8 {
        KEYS.iter()
            .position(|k| *k == self.0)
            .map_or(0, |p| p as u8)
    }

    /// The key character.
    pub fn as_char(self) -> char {
        self.0
    }
}

impl fmt::Display for Digit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4733_3_2_event_codes() {
        for code in 0..16 {
            let digit = Digit::from_event(code).unwrap();
            assert_eq!(digit.event(), code);
            assert_eq!(Digit::from_char(digit.as_char()), Some(digit));
        }
        assert_eq!(Digit::from_event(10).unwrap().as_char(), '*');
        assert_eq!(Digit::from_event(11).unwrap().as_char(), '#');
        assert_eq!(Digit::from_event(16), None);
        assert_eq!(Digit::from_char('d'), Digit::from_event(15));
        assert_eq!(Digit::from_char('x'), None);
    }
}
