//! CSeq (RFC 3261 §20.16): a sequence number below 2³² and a method.

use bytes::Bytes;

use super::expires::parse_u32;
use crate::message::Method;
use crate::parse::scan::{skip_lws, token_end};

/// A parsed CSeq.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CSeq {
    /// The sequence number (`seq ≤ 2³²−1`, RFC 4475 §3.1.2.4).
    pub seq: u32,
    /// The method; it must equal the request's method, compared case-sensitively.
    pub method: Method,
}

/// Splits `1*DIGIT LWS Method` into the number and the method's byte range.
fn split(value: &str) -> Result<(u32, usize, usize), usize> {
    let b = value.as_bytes();
    let ds = skip_lws(b, 0);
    let mut de = ds;
    while de < b.len() && b[de].is_ascii_digit() {
        de += 1;
    }
    let seq = parse_u32(value.get(ds..de).unwrap_or_default()).map_err(|o| ds + o)?;
    let ms = skip_lws(b, de);
    if ms == de {
        return Err(de);
    }
    let me = token_end(b, ms);
    if me == ms || skip_lws(b, me) != b.len() {
        return Err(me);
    }
    Ok((seq, ms, me))
}

impl CSeq {
    /// Parses a CSeq value; an extension method is copied. `Err` holds the offset of the fault.
    pub fn parse(value: &str) -> Result<Self, usize> {
        let (seq, ms, me) = split(value)?;
        let method = Method::from_token(&Bytes::copy_from_slice(&value.as_bytes()[ms..me]));
        Ok(Self { seq, method })
    }

    /// Parses the CSeq held in `buf[start..end]` without copying an extension method.
    /// `value` is the text of `buf` from `start` on (the caller has validated it).
    pub(crate) fn parse_in(buf: &Bytes, start: usize, value: &str) -> Result<Self, usize> {
        let (seq, ms, me) = split(value)?;
        // A standard method needs no slice of the buffer (no reference count update).
        let method = Method::known(&value.as_bytes()[ms..me])
            .unwrap_or_else(|| Method::from_token(&buf.slice(start + ms..start + me)));
        Ok(Self { seq, method })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (value, expected (seq, method) or fault offset)
    type Case<'a> = (&'a str, Result<(u32, &'a str), usize>);

    #[test]
    fn rfc3261_20_16_cseq_table() {
        let cases: [Case<'_>; 9] = [
            ("4711 INVITE", Ok((4711, "INVITE"))),
            ("0009\r\n  INVITE", Ok((9, "INVITE"))),
            (
                "139122385 !interesting-Method0123456789_*+`.%indeed'~",
                Ok((139122385, "!interesting-Method0123456789_*+`.%indeed'~")),
            ),
            ("4294967295 REGISTER", Ok((u32::MAX, "REGISTER"))),
            ("36893488147419103232 REGISTER", Err(10)),
            ("INVITE", Err(0)),
            ("1INVITE", Err(1)),
            ("1 INVITE extra", Err(8)),
            ("1 ", Err(2)),
        ];
        for (input, want) in cases {
            let got = CSeq::parse(input).map(|c| (c.seq, c.method.as_str().to_owned()));
            assert_eq!(got, want.map(|(s, m)| (s, m.to_owned())), "{input:?}");
        }
    }

    #[test]
    fn rfc3261_20_16_cseq_methods_are_case_sensitive() {
        assert_eq!(CSeq::parse("1 INVITE").unwrap().method, Method::Invite);
        assert_ne!(CSeq::parse("1 invite").unwrap().method, Method::Invite);
    }
}
