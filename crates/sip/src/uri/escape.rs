//! `%HH` escapes in URIs (RFC 3261 §19.1.2, §25.1): character classes, validation,
//! unescaping and the canonical form used to compare user parts.

use std::borrow::Cow;

use crate::parse::scan::hex_value;

/// `unreserved` = alphanum / mark (RFC 3261 §25.1).
#[inline]
pub(crate) fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'_' | b'.' | b'!' | b'~' | b'*' | b'\'' | b'(' | b')'
        )
}

/// Characters allowed unescaped in the user part (`unreserved / user-unreserved`).
#[inline]
pub(crate) fn is_user_char(b: u8) -> bool {
    is_unreserved(b) || matches!(b, b'&' | b'=' | b'+' | b'$' | b',' | b';' | b'?' | b'/')
}

/// Characters allowed unescaped in the password.
#[inline]
pub(crate) fn is_password_char(b: u8) -> bool {
    is_unreserved(b) || matches!(b, b'&' | b'=' | b'+' | b'$' | b',')
}

/// Characters allowed unescaped in a URI parameter name or value (`paramchar`).
#[inline]
pub(crate) fn is_param_char(b: u8) -> bool {
    is_unreserved(b) || matches!(b, b'[' | b']' | b'/' | b':' | b'&' | b'+' | b'$')
}

/// Characters allowed unescaped in a URI header name or value (`hnv-unreserved`), plus the
/// `=` and `&` that structure the header list.
#[inline]
pub(crate) fn is_header_char(b: u8) -> bool {
    is_unreserved(b)
        || matches!(
            b,
            b'[' | b']' | b'/' | b'?' | b':' | b'+' | b'$' | b'=' | b'&'
        )
}

/// Checks that every byte of `s` is in the class or starts a well-formed `%HH` escape;
/// on failure returns the offset of the first bad byte and whether it was a bad escape.
/// Generic over the class so it is inlined into the loop (this runs for every URI part).
#[inline]
pub(crate) fn check(s: &str, class: impl Fn(u8) -> bool) -> Result<(), (usize, bool)> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if class(b[i]) {
            i += 1;
        } else if b[i] == b'%' {
            let ok =
                b.len() > i + 2 && hex_value(b[i + 1]).is_some() && hex_value(b[i + 2]).is_some();
            if !ok {
                return Err((i, true));
            }
            i += 3;
        } else {
            return Err((i, false));
        }
    }
    Ok(())
}

/// Decodes `%HH` escapes; borrows when there is none. A `%` not followed by two hex digits is
/// kept as is. The result may hold any octet, NUL included (RFC 4475 §3.1.1.4).
pub fn unescape(s: &str) -> Cow<'_, [u8]> {
    if !s.contains('%') {
        return Cow::Borrowed(s.as_bytes());
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex_value(b[i + 1]), hex_value(b[i + 2])) {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    Cow::Owned(out)
}

/// [`unescape`] as text; octets that are not UTF-8 become U+FFFD.
pub fn unescape_str(s: &str) -> Cow<'_, str> {
    match unescape(s) {
        Cow::Borrowed(_) => Cow::Borrowed(s),
        Cow::Owned(v) => match String::from_utf8(v) {
            Ok(text) => Cow::Owned(text),
            Err(e) => Cow::Owned(String::from_utf8_lossy(e.as_bytes()).into_owned()),
        },
    }
}

/// Appends the canonical form of a URI component to `out`: escapes of characters the class
/// allows unescaped are decoded, every other octet is written as an upper-case `%HH`. Two
/// components are equal after unescaping (RFC 3261 §19.1.4) exactly when their canonical
/// forms are equal, and the result is still a valid URI component (`%00` stays escaped, so an
/// AOR is never truncated).
pub(crate) fn push_canonical(s: &str, class: fn(u8) -> bool, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for byte in unescape(s).iter().copied() {
        if class(byte) {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3261_19_1_2_unescape_table() {
        let cases: [(&str, &[u8]); 6] = [
            ("plain", b"plain"),
            ("%75se%72", b"user"),
            ("null-%00-null", b"null-\0-null"),
            ("I%20have%20spaces", b"I have spaces"),
            ("bad%zzescape", b"bad%zzescape"),
            ("trail%4", b"trail%4"),
        ];
        for (input, want) in cases {
            assert_eq!(&*unescape(input), want, "{input}");
        }
    }

    #[test]
    fn rfc3261_25_1_escape_validation_reports_offset() {
        assert_eq!(check("abc%41", is_user_char), Ok(()));
        assert_eq!(check("ab%4", is_user_char), Err((2, true)));
        assert_eq!(check("a b", is_user_char), Err((1, false)));
        assert_eq!(check("a@b", is_user_char), Err((1, false)));
        assert_eq!(check("x;y?z/", is_user_char), Ok(()));
        assert_eq!(check("p;w", is_password_char), Err((1, false)));
    }

    #[test]
    fn rfc3261_19_1_4_canonical_user_decodes_only_safe_octets() {
        let cases = [
            ("%75se%72", "user"),
            ("null-%00-null", "null-%00-null"),
            ("a%40b", "a%40b"),
            ("a%3ab", "a%3Ab"),
            ("%2B1", "+1"),
        ];
        for (input, want) in cases {
            let mut out = String::new();
            push_canonical(input, is_user_char, &mut out);
            assert_eq!(out, want, "{input}");
        }
    }
}
