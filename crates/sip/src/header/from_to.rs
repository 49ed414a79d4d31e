//! `name-addr` / `addr-spec` with parameters (RFC 3261 §20.20 From, §20.39 To, also the
//! element of Contact, Route, Record-Route and Path).

use std::borrow::Cow;
use std::fmt;

use super::Params;
use crate::parse::scan::{is_lws, quoted_end, skip_lws, sub, trim_lws, unquote};
use crate::spans::{Rebase, Span};
use crate::uri::{Uri, UriSpans};

/// An address with optional display name and header parameters, e.g.
/// `"Alice" <sip:alice@atlanta.com>;tag=1928301774`.
///
/// Its parts are kept as offsets into its own text, so a From or To kept by a parsed message
/// is rebuilt from one offset pair (several layers read them on every message), and a part
/// costs a slice only when it is read.
#[derive(Clone, Copy)]
pub struct NameAddr<'a> {
    raw: &'a str,
    parts: NameAddrParts,
}

/// Equal when written alike: the parts are what parsing the same text gives, so comparing
/// the text compares them too (as the former field-by-field comparison did).
impl PartialEq for NameAddr<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.raw == other.raw
    }
}

impl Eq for NameAddr<'_> {}

/// Everything of a [`NameAddr`] but its text: offsets into it and values parsed from it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NameAddrParts {
    display: Option<Span>,
    quoted: bool,
    bracketed: bool,
    uri: UriSpans,
    params: Span,
    /// `params.get("tag")`, found while the parameters were checked.
    tag: Option<Span>,
}

crate::spans::rebase_struct!(NameAddr => NameAddrSpans {
    raw: &'static str,
} copy {
    parts: NameAddrParts,
});

impl fmt::Debug for NameAddr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NameAddr")
            .field("raw", &self.raw)
            .field("display", &self.display_name_raw())
            .field("quoted", &self.parts.quoted)
            .field("bracketed", &self.parts.bracketed)
            .field("uri", &self.uri())
            .field("params", &self.params())
            .field("tag", &self.tag())
            .finish()
    }
}

/// The parts found by [`NameAddr::parse`], as slices of its input.
struct Found<'a> {
    display: Option<&'a str>,
    quoted: bool,
    bracketed: bool,
    uri: Uri<'a>,
    params: Params<'a>,
    tag: Option<&'a str>,
}

impl<'a> Found<'a> {
    fn into_name_addr(self, raw: &'a str) -> NameAddr<'a> {
        let at = |s: &str| Span::of(raw, s);
        NameAddr {
            raw,
            parts: NameAddrParts {
                display: self.display.map(at),
                quoted: self.quoted,
                bracketed: self.bracketed,
                uri: self.uri.spans(raw),
                params: at(self.params.as_str()),
                tag: self.tag.map(at),
            },
        }
    }
}

impl<'a> NameAddr<'a> {
    /// Parses one address. Without `<>`, everything after the first `;` is a header parameter
    /// (RFC 3261 §20.10). Tolerated leniently: no LWS before `<` (RFC 4475 §3.1.1.6), LWS
    /// inside `<>` (§3.1.2.14), unquoted display names with non-token characters (§3.1.2.15).
    /// `Err` holds the offset of the fault within `value`.
    pub fn parse(value: &'a str) -> Result<Self, usize> {
        let b = value.as_bytes();
        let start = skip_lws(b, 0);
        let mut display = None;
        let mut quoted = false;
        let mut i = start;
        // Look for `<` before any `;`, skipping quoted text.
        let mut j = start;
        let mut angle = None;
        while j < b.len() {
            match b[j] {
                b'"' => j = quoted_end(b, j).ok_or(j)?,
                b'<' => {
                    angle = Some(j);
                    break;
                }
                b';' => break,
                _ => j += 1,
            }
        }
        if let Some(lt) = angle {
            if b.get(start) == Some(&b'"') {
                let end = quoted_end(b, start).ok_or(start)?;
                if skip_lws(b, end) != lt {
                    return Err(end);
                }
                display = Some(sub(value, start + 1, end - 1));
                quoted = true;
            } else {
                let name = trim_lws(sub(value, start, lt));
                if !name.is_empty() {
                    display = Some(name);
                }
            }
            let gt = memchr::memchr(b'>', &b[lt..]).ok_or(b.len())? + lt;
            let inner = sub(value, lt + 1, gt);
            let uri_text = trim_lws(inner);
            // The error offset is worked out only when there is an error.
            let uri = Uri::parse(uri_text).map_err(|_| {
                lt + 1
                    + (inner.len()
                        - inner
                            .trim_start_matches(|c: char| c.is_ascii_whitespace())
                            .len())
            })?;
            i = gt + 1;
            let (params, [tag]) = Params::parse_header_find(sub(value, i, value.len()), ["tag"])
                .map_err(|o| i + o)?;
            return Ok(Found {
                display,
                quoted,
                bracketed: true,
                uri,
                params,
                tag,
            }
            .into_name_addr(value));
        }
        let mut e = i;
        while e < b.len() && b[e] != b';' && !is_lws(b[e]) {
            e += 1;
        }
        let uri = Uri::parse(sub(value, i, e)).map_err(|_| i)?;
        i = e;
        let (params, [tag]) =
            Params::parse_header_find(sub(value, i, value.len()), ["tag"]).map_err(|o| i + o)?;
        Ok(Found {
            display: None,
            quoted: false,
            bracketed: false,
            uri,
            params,
            tag,
        }
        .into_name_addr(value))
    }

    /// The element as written.
    pub fn as_str(&self) -> &'a str {
        self.raw
    }
    /// A part of the element.
    fn part(&self, span: Span) -> &'a str {
        span.get(self.raw)
    }
    /// The display name with quotes removed and `\` escapes resolved.
    pub fn display_name(&self) -> Option<Cow<'a, str>> {
        let d = self.display_name_raw()?;
        Some(if self.parts.quoted {
            unquote(d)
        } else {
            Cow::Borrowed(d)
        })
    }
    /// The display name as written between the quotes (escapes kept).
    pub fn display_name_raw(&self) -> Option<&'a str> {
        self.parts.display.map(|s| self.part(s))
    }
    /// True when the URI was enclosed in `<>`.
    pub fn is_bracketed(&self) -> bool {
        self.parts.bracketed
    }
    /// The URI.
    pub fn uri(&self) -> Uri<'a> {
        Uri::rebuild(self.raw, &self.parts.uri)
    }
    /// The header parameters after the address.
    pub fn params(&self) -> Params<'a> {
        Params::checked(self.part(self.parts.params))
    }
    /// The `tag` parameter (RFC 3261 §19.3).
    pub fn tag(&self) -> Option<&'a str> {
        self.parts.tag.map(|s| self.part(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spans::Rebase;

    /// (value, display name, URI, tag, number of params)
    type Case<'a> = (&'a str, Option<&'a str>, &'a str, Option<&'a str>, usize);

    #[test]
    fn rfc3261_20_20_name_addr_table() {
        let cases: [Case<'_>; 9] = [
            ("\"A. G. Bell\" <sip:agb@bell-telephone.com> ;tag=a48s", Some("A. G. Bell"), "sip:agb@bell-telephone.com", Some("a48s"), 1),
            ("sip:+12125551212@server.phone2net.com;tag=887s", None, "sip:+12125551212@server.phone2net.com", Some("887s"), 1),
            ("Anonymous <sip:c8oqz84zk7z@privacy.org>;tag=hyh8", Some("Anonymous"), "sip:c8oqz84zk7z@privacy.org", Some("hyh8"), 1),
            ("\"J Rosenberg \\\\\\\"\"       <sip:jdrosen@example.com>\r\n  ;\r\n  tag = 98asjd8", Some("J Rosenberg \\\""), "sip:jdrosen@example.com", Some("98asjd8"), 1),
            ("\r\n sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n", None, "sip:vivekg@chair-dnrc.example.com", Some("1918181833n"), 1),
            ("caller<sip:caller@example.com>;tag=323", Some("caller"), "sip:caller@example.com", Some("323"), 1),
            ("\"Watson, Thomas\" < sip:t.watson@example.org >", Some("Watson, Thomas"), "sip:t.watson@example.org", None, 0),
            ("Bell, Alexander <sip:a.g.bell@example.com>;tag=43", Some("Bell, Alexander"), "sip:a.g.bell@example.com", Some("43"), 1),
            ("<sip:user@example.com;lr>;+sip.instance=\"<urn:uuid:1;2>\";x", None, "sip:user@example.com;lr", None, 2),
        ];
        for (value, display, uri, tag, nparams) in cases {
            let na = NameAddr::parse(value).unwrap_or_else(|o| panic!("{value:?} at {o}"));
            assert_eq!(na.display_name().as_deref(), display, "{value:?}");
            assert_eq!(na.uri().as_str(), uri, "{value:?}");
            assert_eq!(na.tag(), tag, "{value:?}");
            assert_eq!(na.tag(), na.params().get("tag"), "kept tag, {value:?}");
            assert_eq!(na.params().iter().count(), nparams, "{value:?}");
        }
    }

    #[test]
    fn rfc4475_3_1_2_6_malformed_name_addr_table() {
        let cases: [(&str, usize); 6] = [
            ("\"Mr. J. User <sip:j.user@example.com>", 0),
            ("<sip:user@example.com", 21),
            ("<user@example.com>", 1),
            ("\"Joe\" x <sip:a@b>", 5),
            ("<sip:a@b>;;;;", 10),
            ("", 0),
        ];
        for (value, offset) in cases {
            assert_eq!(NameAddr::parse(value).map(|_| ()), Err(offset), "{value:?}");
        }
    }

    #[test]
    fn rfc3261_20_20_equal_when_written_alike() {
        let a = "\"A\" <sip:a@Example.com;lr>;tag=1";
        assert_eq!(NameAddr::parse(a), NameAddr::parse(a));
        // A kept value (rebuilt from offsets) equals a fresh parse and reads the same parts.
        let kept = NameAddr::parse(a).unwrap();
        let rebuilt = NameAddr::rebuild(a, &kept.spans(a));
        assert_eq!(rebuilt, kept);
        assert_eq!(rebuilt.uri().as_sip().and_then(|u| u.user()), Some("a"));
        assert_eq!(rebuilt.tag(), Some("1"));
        assert_ne!(
            NameAddr::parse("<sip:a@example.com>").unwrap(),
            NameAddr::parse("<sip:a@EXAMPLE.com>").unwrap(),
            "written differently"
        );
    }

    #[test]
    fn rfc4475_3_3_4_other_schemes_are_kept_opaque() {
        let to = NameAddr::parse("isbn:2983792873").unwrap();
        assert!(!to.uri().is_sip());
        let from = NameAddr::parse("<http://www.example.com>;tag=3234233").unwrap();
        assert_eq!(from.uri().as_str(), "http://www.example.com");
        assert_eq!(from.tag(), Some("3234233"));
    }
}
