//! The `auth-scheme 1*SWS auth-param *(COMMA auth-param)` grammar shared by credentials
//! and challenges (RFC 3261 §25.1, RFC 7616 §3.3–3.4): tokens, quoted strings with
//! `\` escapes, and writing quoted strings back.

use std::borrow::Cow;

use super::error::DigestError;
use crate::parse::scan::{byte_class, is_token_char};

/// Splits a header value into its scheme and the parameter text after it.
pub(crate) fn split_scheme(value: &str) -> Result<(&str, Params<'_>), DigestError> {
    let start = skip_ws(value.as_bytes(), 0);
    let end = value.as_bytes()[start..]
        .iter()
        .position(|&b| !is_token_char(b))
        .map_or(value.len(), |n| start + n);
    if end == start {
        return Err(DigestError::Malformed { offset: start });
    }
    Ok((
        &value[start..end],
        Params {
            src: value,
            pos: end,
            first: true,
        },
    ))
}

/// Iterator over `name=value` pairs; a value keeps its borrowed form unless it held escapes.
pub(crate) struct Params<'a> {
    src: &'a str,
    pos: usize,
    first: bool,
}

impl<'a> Iterator for Params<'a> {
    type Item = Result<(&'a str, Cow<'a, str>), DigestError>;

    fn next(&mut self) -> Option<Self::Item> {
        let bytes = self.src.as_bytes();
        let mut pos = skip_ws(bytes, self.pos);
        if !self.first {
            // Between params: COMMA, tolerating empty list elements ("a=1, , b=2").
            let mut saw_comma = false;
            while pos < bytes.len() && bytes[pos] == b',' {
                saw_comma = true;
                pos = skip_ws(bytes, pos + 1);
            }
            if pos >= bytes.len() {
                self.pos = pos;
                return None;
            }
            if !saw_comma {
                return Some(self.fail(pos));
            }
        } else if pos >= bytes.len() {
            self.pos = pos;
            return None;
        }
        self.first = false;
        Some(self.pair(pos))
    }
}

impl<'a> Params<'a> {
    fn fail(&mut self, offset: usize) -> Result<(&'a str, Cow<'a, str>), DigestError> {
        // Stop iterating after the first error.
        self.pos = self.src.len();
        self.first = false;
        Err(DigestError::Malformed { offset })
    }

    fn pair(&mut self, start: usize) -> Result<(&'a str, Cow<'a, str>), DigestError> {
        let bytes = self.src.as_bytes();
        let name_end = bytes[start..]
            .iter()
            .position(|&b| !is_token_char(b))
            .map_or(bytes.len(), |n| start + n);
        if name_end == start {
            return self.fail(start);
        }
        let mut pos = skip_ws(bytes, name_end);
        if pos >= bytes.len() || bytes[pos] != b'=' {
            return self.fail(pos);
        }
        pos = skip_ws(bytes, pos + 1);
        let (value, end) = if bytes.get(pos) == Some(&b'"') {
            match quoted(self.src, pos) {
                Some(found) => found,
                None => return self.fail(pos),
            }
        } else {
            let end = bytes[pos..]
                .iter()
                .position(|&b| !is_token_char(b))
                .map_or(bytes.len(), |n| pos + n);
            if end == pos {
                return self.fail(pos);
            }
            (Cow::Borrowed(&self.src[pos..end]), end)
        };
        self.pos = end;
        Ok((&self.src[start..name_end], value))
    }
}

/// Parses the quoted-string opening at `open`; returns the unescaped text and the index
/// after the closing quote.
fn quoted(src: &str, open: usize) -> Option<(Cow<'_, str>, usize)> {
    let bytes = src.as_bytes();
    let body = open + 1;
    let mut i = body;
    let mut escaped = false;
    while i < bytes.len() {
        // Skip ordinary bytes with one table load each; only the four below need a look.
        if !QUOTED_SPECIAL[usize::from(bytes[i])] {
            i += 1;
            continue;
        }
        match bytes[i] {
            b'"' => {
                let text = &src[body..i];
                let value = if escaped {
                    Cow::Owned(unescape(text))
                } else {
                    Cow::Borrowed(text)
                };
                return Some((value, i + 1));
            }
            // quoted-pair: the next byte is literal, but a CR or LF may not be escaped.
            b'\\' => {
                match bytes.get(i + 1) {
                    Some(b'\r' | b'\n') | None => return None,
                    Some(_) => {}
                }
                escaped = true;
                i += 2;
            }
            b'\r' | b'\n' => return None,
            _ => i += 1,
        }
    }
    None
}

/// Bytes that end, escape or break a quoted-string: `"`, `\\`, CR, LF.
const QUOTED_SPECIAL: [bool; 256] = byte_class(false, b"\"\\\r\n");

fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(next) = chars.next() {
                out.push(next);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Appends `value` as a quoted-string, escaping `"` and `\`.
pub(crate) fn push_quoted(out: &mut String, value: &str) {
    out.push('"');
    // Realms and nonces almost never hold either byte: copy them whole instead of one
    // char at a time.
    if value.bytes().any(|b| b == b'"' || b == b'\\') {
        for c in value.chars() {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
    } else {
        out.push_str(value);
    }
    out.push('"');
}

/// Appends `, name="value"` (or `name="value"` for the first param).
pub(crate) fn push_param_quoted(out: &mut String, name: &str, value: &str) {
    push_separator(out);
    out.push_str(name);
    out.push('=');
    push_quoted(out, value);
}

/// Appends `, name=token`.
pub(crate) fn push_param_token(out: &mut String, name: &str, value: &str) {
    push_separator(out);
    out.push_str(name);
    out.push('=');
    out.push_str(value);
}

fn push_separator(out: &mut String) {
    if !out.ends_with(' ') {
        out.push_str(", ");
    }
}

fn skip_ws(bytes: &[u8], mut pos: usize) -> usize {
    while pos < bytes.len() && matches!(bytes[pos], b' ' | b'\t' | b'\r' | b'\n') {
        pos += 1;
    }
    pos
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(value: &str) -> Result<(String, Vec<(String, String)>), DigestError> {
        let (scheme, params) = split_scheme(value)?;
        let pairs = params
            .map(|p| p.map(|(n, v)| (n.to_owned(), v.into_owned())))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((scheme.to_owned(), pairs))
    }

    #[test]
    fn rfc3261_25_1_tokens_quoted_strings_and_lws() {
        let (scheme, pairs) =
            collect("  Digest  a=tok ,b = \"x y\",\r\n c=\"q\\\"uo\\\\te\" ,, d=\"\"").unwrap();
        assert_eq!(scheme, "Digest");
        let expect = [("a", "tok"), ("b", "x y"), ("c", "q\"uo\\te"), ("d", "")];
        assert_eq!(pairs.len(), expect.len());
        for ((n, v), (en, ev)) in pairs.iter().zip(expect) {
            assert_eq!((n.as_str(), v.as_str()), (en, ev));
        }
    }

    #[test]
    fn rfc3261_25_1_borrowed_without_escapes() {
        let (_, mut params) = split_scheme("Digest realm=\"plain\"").unwrap();
        let (_, value) = params.next().unwrap().unwrap();
        assert!(matches!(value, Cow::Borrowed("plain")));
    }

    #[test]
    fn rfc3261_25_1_malformed_lists_are_rejected() {
        for bad in [
            "Digest a=\"unterminated",
            "Digest a=1 b=2",
            "Digest =1",
            "Digest a",
            "Digest a=",
            "Digest a=\"x\\",
            "Digest a=\"line\r\nbreak\"",
            "",
        ] {
            assert!(
                matches!(collect(bad), Err(DigestError::Malformed { .. })),
                "{bad:?} accepted"
            );
        }
    }

    #[test]
    fn push_quoted_escapes_round_trip() {
        let mut out = String::from("Digest ");
        push_param_quoted(&mut out, "realm", "a\"b\\c");
        push_param_token(&mut out, "nc", "00000001");
        let (_, pairs) = collect(&out).unwrap();
        assert_eq!(pairs[0].1, "a\"b\\c");
        assert_eq!(pairs[1], ("nc".to_owned(), "00000001".to_owned()));
    }
}
