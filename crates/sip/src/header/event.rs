//! Event (RFC 6665 §8.2.1) and Content-Type (RFC 3261 §20.15) — a token or media type
//! followed by parameters.

use super::Params;
use crate::parse::scan::{skip_lws, sub, token_end};

/// An Event value: package (with template suffixes, e.g. `message-summary`, `reg`) and params.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event<'a> {
    package: &'a str,
    params: Params<'a>,
}

impl<'a> Event<'a> {
    /// Parses an Event value. `Err` holds the offset of the fault.
    pub fn parse(value: &'a str) -> Result<Self, usize> {
        let b = value.as_bytes();
        let s = skip_lws(b, 0);
        let e = token_end(b, s);
        if e == s {
            return Err(s);
        }
        let params = Params::parse_header(sub(value, e, value.len())).map_err(|o| e + o)?;
        Ok(Event {
            package: sub(value, s, e),
            params,
        })
    }
    /// The event package, e.g. `message-summary`.
    pub fn package(&self) -> &'a str {
        self.package
    }
    /// The `id` parameter.
    pub fn id(&self) -> Option<&'a str> {
        self.params.get("id")
    }
    /// All parameters.
    pub fn params(&self) -> Params<'a> {
        self.params
    }
}

/// A media type `type/subtype;params` (Content-Type, Accept elements).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaType<'a> {
    ty: &'a str,
    subtype: &'a str,
    params: Params<'a>,
}

impl<'a> MediaType<'a> {
    /// Parses a media type; LWS around `/` is allowed. `Err` holds the offset of the fault.
    pub fn parse(value: &'a str) -> Result<Self, usize> {
        let b = value.as_bytes();
        let ts = skip_lws(b, 0);
        let te = token_end(b, ts);
        let slash = skip_lws(b, te);
        if te == ts || b.get(slash) != Some(&b'/') {
            return Err(slash);
        }
        let ss = skip_lws(b, slash + 1);
        let se = token_end(b, ss);
        if se == ss {
            return Err(ss);
        }
        let params = Params::parse_header(sub(value, se, value.len())).map_err(|o| se + o)?;
        Ok(MediaType {
            ty: sub(value, ts, te),
            subtype: sub(value, ss, se),
            params,
        })
    }
    /// The type, e.g. `application`.
    pub fn ty(&self) -> &'a str {
        self.ty
    }
    /// The subtype, e.g. `sdp`.
    pub fn subtype(&self) -> &'a str {
        self.subtype
    }
    /// The parameters, e.g. `;boundary=…`.
    pub fn params(&self) -> Params<'a> {
        self.params
    }
    /// True when type and subtype equal `ty`/`subtype`, ignoring case.
    pub fn is(&self, ty: &str, subtype: &str) -> bool {
        self.ty.eq_ignore_ascii_case(ty) && self.subtype.eq_ignore_ascii_case(subtype)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6665_8_2_1_event_table() {
        let e = Event::parse("message-summary").unwrap();
        assert_eq!((e.package(), e.id()), ("message-summary", None));
        let e = Event::parse(" refer ;id=93809824").unwrap();
        assert_eq!((e.package(), e.id()), ("refer", Some("93809824")));
        assert_eq!(Event::parse("").map(|_| ()), Err(0));
        assert_eq!(Event::parse("reg;;").map(|_| ()), Err(4));
    }

    #[test]
    fn rfc3261_20_15_media_type_table() {
        let m = MediaType::parse("multipart/mixed;boundary=7a9cbec02ceef655").unwrap();
        assert!(m.is("Multipart", "MIXED"));
        assert_eq!(m.params().get("boundary"), Some("7a9cbec02ceef655"));
        let m = MediaType::parse("application / sdp").unwrap();
        assert_eq!((m.ty(), m.subtype()), ("application", "sdp"));
        assert_eq!(MediaType::parse("text").map(|_| ()), Err(4));
        assert_eq!(MediaType::parse("text/").map(|_| ()), Err(5));
    }
}
