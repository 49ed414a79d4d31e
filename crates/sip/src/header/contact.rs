//! Contact (RFC 3261 §20.10) and its registrar parameters: `expires`, `q` (§20.10),
//! `+sip.instance` and `reg-id` (RFC 5626 §4.1).

use super::expires::parse_delta_seconds;
use super::NameAddr;
use crate::parse::scan::trim_lws;

/// One Contact element: `*` (remove all bindings, RFC 3261 §10.2.2) or an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contact<'a> {
    /// `Contact: *`.
    Star,
    /// An address with parameters.
    Address(NameAddr<'a>),
}

impl<'a> Contact<'a> {
    /// Parses one Contact element (one item of a comma list). `Err` holds the offset of the
    /// fault within `value`.
    pub fn parse(value: &'a str) -> Result<Self, usize> {
        if trim_lws(value) == "*" {
            return Ok(Contact::Star);
        }
        NameAddr::parse(value).map(Contact::Address)
    }

    /// The address, unless this is `*`.
    pub fn address(&self) -> Option<&NameAddr<'a>> {
        match self {
            Contact::Star => None,
            Contact::Address(a) => Some(a),
        }
    }
}

/// A `q` value in thousandths: `q=0.33` is `Q(330)`, `q=1` is `Q(1000)` (RFC 3261 §20.10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Q(pub u16);

impl Q {
    /// Parses `qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )`.
    pub fn parse(s: &str) -> Option<Self> {
        let (int, frac) = s.split_once('.').unwrap_or((s, ""));
        if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let mut thousandths = 0u16;
        for (i, d) in frac.bytes().enumerate() {
            thousandths += u16::from(d - b'0') * [100, 10, 1][i];
        }
        match int {
            "0" => Some(Self(thousandths)),
            "1" if thousandths == 0 => Some(Self(1000)),
            _ => None,
        }
    }
}

impl<'a> NameAddr<'a> {
    /// The Contact `expires` parameter in seconds; `Err` (offset within the parameter value)
    /// when malformed or above 2³²−1, which a registrar treats as the default
    /// (RFC 3261 §20.10, RFC 4475 §3.1.2.4).
    pub fn expires(&self) -> Result<Option<u32>, usize> {
        self.params()
            .get("expires")
            .map(parse_delta_seconds)
            .transpose()
    }

    /// The Contact `q` parameter; `Err(0)` when malformed.
    pub fn q(&self) -> Result<Option<Q>, usize> {
        self.params()
            .get("q")
            .map(|v| Q::parse(v).ok_or(0))
            .transpose()
    }

    /// The `+sip.instance` parameter without its quotes, e.g. `<urn:uuid:…>` (RFC 5626 §4.1).
    pub fn sip_instance(&self) -> Option<&'a str> {
        self.params().get("+sip.instance")
    }

    /// The `reg-id` parameter (RFC 5626 §4.2); `Err` when not a number.
    pub fn reg_id(&self) -> Result<Option<u32>, usize> {
        self.params()
            .get("reg-id")
            .map(parse_delta_seconds)
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3261_20_10_q_value_table() {
        let cases = [
            ("0", Some(0)),
            ("0.33", Some(330)),
            ("0.5", Some(500)),
            ("0.001", Some(1)),
            ("1", Some(1000)),
            ("1.000", Some(1000)),
            ("1.5", None),
            ("0.1234", None),
            ("2", None),
            ("", None),
            ("0.x", None),
        ];
        for (input, want) in cases {
            assert_eq!(Q::parse(input).map(|q| q.0), want, "{input:?}");
        }
    }

    #[test]
    fn rfc5626_4_1_contact_registrar_params() {
        let c = Contact::parse(
            "<sip:1004@192.0.2.9:5062;transport=tcp>;expires=600;q=0.7;+sip.instance=\"<urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6>\";reg-id=1",
        )
        .unwrap();
        let a = c.address().unwrap();
        assert_eq!(a.expires(), Ok(Some(600)));
        assert_eq!(a.q(), Ok(Some(Q(700))));
        assert_eq!(
            a.sip_instance(),
            Some("<urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6>")
        );
        assert_eq!(a.reg_id(), Ok(Some(1)));
        assert_eq!(Contact::parse(" * "), Ok(Contact::Star));
    }

    #[test]
    fn rfc4475_3_1_2_4_overlarge_contact_expires_is_an_error() {
        let c =
            Contact::parse("<sip:user@host129.example.com>\r\n  ;expires=280297596632815").unwrap();
        assert!(c.address().unwrap().expires().is_err());
        let none = Contact::parse("<sip:user@host>").unwrap();
        assert_eq!(none.address().unwrap().expires(), Ok(None));
        assert_eq!(none.address().unwrap().q(), Ok(None));
    }
}
