//! Numeric header values: Expires / Min-Expires and `expires=` (`delta-seconds`, RFC 3261
//! §20.19, §20.23), Max-Forwards (§20.22) and Content-Length (§20.14).

use crate::parse::scan::trim_lws;

/// Parses `1*DIGIT` into a `u32`, leading zeros allowed (`0068`). `Err` holds the offset of the
/// fault within `s` (after trimming LWS), including overflow past 2³²−1 (RFC 4475 §3.1.2.4).
pub fn parse_u32(s: &str) -> Result<u32, usize> {
    let t = trim_lws(s);
    let lead = s.len() - s.trim_start_matches([' ', '\t', '\r', '\n']).len();
    if t.is_empty() {
        return Err(lead);
    }
    let mut v: u32 = 0;
    for (i, b) in t.bytes().enumerate() {
        if !b.is_ascii_digit() {
            return Err(lead + i);
        }
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add(u32::from(b - b'0')))
            .ok_or(lead + i)?;
    }
    Ok(v)
}

/// `delta-seconds` for Expires, Min-Expires and the Contact `expires` parameter.
pub fn parse_delta_seconds(s: &str) -> Result<u32, usize> {
    parse_u32(s)
}

/// Max-Forwards: `1*DIGIT` in 0..=255 (RFC 4475 §3.1.2.4 treats 300 as out of range).
pub fn parse_max_forwards(s: &str) -> Result<u8, usize> {
    let v = parse_u32(s)?;
    u8::try_from(v).map_err(|_| 0)
}

/// Content-Length: `1*DIGIT`; a sign or a second value is refused (RFC 4475 §3.1.2.3, §3.3.9).
pub fn parse_content_length(s: &str) -> Result<u32, usize> {
    parse_u32(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3261_25_1_digit_values_table() {
        let cases: [(&str, Result<u32, usize>); 9] = [
            ("0", Ok(0)),
            (" 0068", Ok(68)),
            ("3600\r\n ", Ok(3600)),
            ("4294967295", Ok(u32::MAX)),
            ("4294967296", Err(9)),
            ("36893488147419103232", Err(10)),
            ("-999", Err(0)),
            ("13, 5", Err(2)),
            ("", Err(0)),
        ];
        for (input, want) in cases {
            assert_eq!(parse_u32(input), want, "{input:?}");
        }
    }

    #[test]
    fn rfc3261_20_22_max_forwards_range() {
        assert_eq!(parse_max_forwards("70"), Ok(70));
        assert_eq!(parse_max_forwards("0"), Ok(0));
        assert_eq!(parse_max_forwards("255"), Ok(255));
        assert!(parse_max_forwards("300").is_err());
        assert!(parse_content_length("-1").is_err());
    }
}
