//! Call-ID (RFC 3261 §20.8): `word ["@" word]`, compared byte for byte.

use crate::parse::scan::{is_lws, skip_lws, trim_lws};

/// Checks a Call-ID value and returns it without surrounding LWS. `Err` holds the offset of
/// the fault: an empty value or LWS inside it.
pub fn parse_call_id(value: &str) -> Result<&str, usize> {
    let t = trim_lws(value);
    // Leading LWS, counted only for an error offset (LWS is ASCII, one byte each).
    let lead = || skip_lws(value.as_bytes(), 0);
    if t.is_empty() {
        return Err(lead());
    }
    match t.bytes().position(|b| is_lws(b) || b.is_ascii_control()) {
        Some(bad) => Err(lead() + bad),
        None => Ok(t),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3261_20_8_call_id_table() {
        let cases: [(&str, Result<&str, usize>); 5] = [
            (
                "f81d4fae-7dec-11d0-a765-00a0c91e6bf6@foo.bar.com",
                Ok("f81d4fae-7dec-11d0-a765-00a0c91e6bf6@foo.bar.com"),
            ),
            (
                "  transports.kijh4akdnaqjkwendsasfdj",
                Ok("transports.kijh4akdnaqjkwendsasfdj"),
            ),
            (
                "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{",
                Ok("intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{"),
            ),
            ("", Err(0)),
            ("two words", Err(3)),
        ];
        for (input, want) in cases {
            assert_eq!(parse_call_id(input), want, "{input:?}");
        }
    }
}
