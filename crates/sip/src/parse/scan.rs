//! Byte-level scanning shared by every parser: token characters, linear white space, quoted
//! strings with `\` escapes and comma lists (RFC 3261 §25.1).
//!
//! Inside a header value the only CR and LF bytes left are those of folded lines
//! (`CRLF 1*WSP`), so scanners treat CR and LF as white space there.

use std::borrow::Cow;

/// A byte class as a table, built at compile time: ASCII letters and digits when
/// `alphanumeric`, and every byte of `extra`. Scanners that run over every byte of a message
/// test membership with one load.
pub(crate) const fn byte_class(alphanumeric: bool, extra: &[u8]) -> [bool; 256] {
    let mut table = [false; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = alphanumeric && (i as u8).is_ascii_alphanumeric();
        i += 1;
    }
    let mut k = 0;
    while k < extra.len() {
        table[extra[k] as usize] = true;
        k += 1;
    }
    table
}

/// `token` characters: alphanum and `-.!%*_+`'~` (RFC 3261 §25.1).
static TOKEN: [bool; 256] = byte_class(true, b"-.!%*_+`'~");

/// True for a byte allowed in a SIP `token` (method names, header names, parameter names).
#[inline]
pub fn is_token_char(b: u8) -> bool {
    TOKEN[b as usize]
}

/// True when `s` is a non-empty `token`.
pub fn is_token(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| is_token_char(b))
}

/// Index of the first byte at or after `i` that is not a token character.
#[inline]
pub(crate) fn token_end(s: &[u8], mut i: usize) -> usize {
    while i < s.len() && is_token_char(s[i]) {
        i += 1;
    }
    i
}

/// The value of one hex digit, either case (`HEXDIG`: URI escapes, nonces, nonce counts).
#[inline]
pub(crate) fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// SP or HTAB.
#[inline]
pub(crate) fn is_wsp(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// White space inside a header value, folding included.
#[inline]
pub(crate) fn is_lws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// Index of the first non-LWS byte at or after `i`.
#[inline]
pub(crate) fn skip_lws(s: &[u8], mut i: usize) -> usize {
    while i < s.len() && is_lws(s[i]) {
        i += 1;
    }
    i
}

/// `s` without leading and trailing LWS.
pub(crate) fn trim_lws(s: &str) -> &str {
    // Byte loops: LWS is ASCII, so both cuts fall on character boundaries.
    let b = s.as_bytes();
    let start = skip_lws(b, 0);
    let mut end = b.len();
    while end > start && is_lws(b[end - 1]) {
        end -= 1;
    }
    sub(s, start, end)
}

/// `s[a..b]`, or "" when the bounds are not on character boundaries. The scanners only cut at
/// ASCII bytes, so the fallback never triggers; it exists so a scanner bug cannot panic.
#[inline]
pub(crate) fn sub(s: &str, a: usize, b: usize) -> &str {
    s.get(a..b).unwrap_or_default()
}

/// With `s[i] == '"'`, the index just after the closing quote, honouring `\` escapes; `None`
/// when the string is not terminated.
pub(crate) fn quoted_end(s: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    while j < s.len() {
        match s[j] {
            b'\\' => j += 2,
            b'"' => return Some(j + 1),
            _ => j += 1,
        }
    }
    None
}

/// Resolves `\` escapes (RFC 3261 `quoted-pair`) in the text between two quotes; borrows
/// when there is none.
pub fn unquote(inner: &str) -> Cow<'_, str> {
    if !inner.contains('\\') {
        return Cow::Borrowed(inner);
    }
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(next) = chars.next() {
                out.push(next);
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Strips one pair of surrounding double quotes, if present (no escape handling).
pub(crate) fn strip_quotes(s: &str) -> &str {
    s.strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(s)
}

/// Splits a header value at commas outside quoted strings and angle brackets (RFC 3261
/// §7.3.1), yielding each element without surrounding LWS. Empty elements are yielded too, so
/// a caller can reject `a,,b` where the grammar forbids it.
pub fn split_list(value: &str) -> ListItems<'_> {
    ListItems {
        rest: value,
        done: value.is_empty(),
    }
}

/// Iterator returned by [`split_list`].
#[derive(Debug, Clone)]
pub struct ListItems<'a> {
    rest: &'a str,
    done: bool,
}

impl<'a> Iterator for ListItems<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        if self.done {
            return None;
        }
        let b = self.rest.as_bytes();
        let mut i = 0;
        let mut in_angle = false;
        // Jump between the only bytes that matter: quotes, brackets and (outside `<>`)
        // commas; `<` inside brackets and `>` outside them change nothing.
        loop {
            let next = if in_angle {
                memchr::memchr2(b'"', b'>', &b[i..])
            } else {
                memchr::memchr3(b'"', b'<', b',', &b[i..])
            };
            let Some(k) = next else {
                break;
            };
            i += k;
            match b[i] {
                b'"' => match quoted_end(b, i) {
                    Some(e) => i = e,
                    None => break,
                },
                b'<' => {
                    in_angle = true;
                    i += 1;
                }
                b'>' => {
                    in_angle = false;
                    i += 1;
                }
                _ => {
                    let item = sub(self.rest, 0, i);
                    self.rest = sub(self.rest, i + 1, self.rest.len());
                    return Some(trim_lws(item));
                }
            }
        }
        self.done = true;
        Some(trim_lws(self.rest))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 3261 §25.1: the token table holds exactly alphanum and `-.!%*_+`'~`.
    #[test]
    fn rfc3261_25_1_byte_class_tables_hold_exactly_their_bytes() {
        for b in 0..=255u8 {
            let token = b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'-' | b'.' | b'!' | b'%' | b'*' | b'_' | b'+' | b'`' | b'\'' | b'~'
                );
            assert_eq!(is_token_char(b), token, "{b:#04x}");
            assert_eq!(
                byte_class(false, b",;")[usize::from(b)],
                b == b',' || b == b';'
            );
        }
    }

    #[test]
    fn rfc3261_25_1_token_characters() {
        for (input, ok) in [
            (&b"INVITE"[..], true),
            (b"!interesting-Method0123456789_*+`.%indeed'~", true),
            (b"RE%47IST%45R", true),
            (b"", false),
            (b"a b", false),
            (b"a:b", false),
            (b"a\"b", false),
        ] {
            assert_eq!(is_token(input), ok, "{}", String::from_utf8_lossy(input));
        }
    }

    #[test]
    fn rfc3261_25_1_quoted_string_end_honours_escapes() {
        let cases: [(&str, Option<usize>); 5] = [
            (r#""abc" rest"#, Some(5)),
            (r#""a\"b""#, Some(6)),
            (r#""J Rosenberg \\\"" <"#, Some(18)),
            (r#""unterminated"#, None),
            (r#""ends in escape\""#, None),
        ];
        for (input, end) in cases {
            assert_eq!(quoted_end(input.as_bytes(), 0), end, "{input}");
        }
    }

    #[test]
    fn rfc3261_25_1_unquote_resolves_quoted_pairs() {
        assert_eq!(unquote(r#"J Rosenberg \\\""#), r#"J Rosenberg \""#);
        assert_eq!(unquote("plain"), "plain");
        assert!(matches!(unquote("plain"), Cow::Borrowed(_)));
        assert_eq!(unquote(r#"Quoted string \"\""#), r#"Quoted string """#);
    }

    #[test]
    fn rfc3261_7_3_1_comma_lists_respect_quotes_and_brackets() {
        let cases: [(&str, &[&str]); 6] = [
            ("a, b ,c", &["a", "b", "c"]),
            (
                r#""x, y" <sip:a@b>, <sip:c,d@e>"#,
                &[r#""x, y" <sip:a@b>"#, "<sip:c,d@e>"],
            ),
            ("a,,b", &["a", "", "b"]),
            ("single", &["single"]),
            ("trailing,", &["trailing", ""]),
            ("z9hG4bK9ikj8  ,\r\n SIP  /", &["z9hG4bK9ikj8", "SIP  /"]),
        ];
        for (input, want) in cases {
            let got: Vec<&str> = split_list(input).collect();
            assert_eq!(got, want, "{input:?}");
        }
        assert_eq!(split_list("").count(), 0);
    }
}
