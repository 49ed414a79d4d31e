//! URIs (RFC 3261 §19.1, RFC 3966): `sip:`/`sips:` parsed into parts, `tel:` into number and
//! parameters, any other scheme kept opaque. Parts borrow from the text they were parsed from.

mod compare;
pub mod escape;
mod host;

use std::fmt;

pub use escape::{unescape, unescape_str};
pub use host::Host;
pub(crate) use host::HostSpans;

use crate::header::Params;
use crate::parse::scan::sub;
use crate::spans::{Rebase, Span};

/// Why a URI was refused. Offsets are byte offsets within the URI text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UriError {
    /// No `scheme:` prefix, or a scheme with characters outside `ALPHA *(ALPHA / DIGIT / + - .)`.
    #[error("missing or malformed scheme")]
    BadScheme,
    /// A character not allowed where it stands.
    #[error("unexpected character at byte {offset}")]
    BadChar {
        /// Offset of the character.
        offset: usize,
    },
    /// A `%` not followed by two hex digits.
    #[error("malformed %-escape at byte {offset}")]
    BadEscape {
        /// Offset of the `%`.
        offset: usize,
    },
    /// An empty or malformed host.
    #[error("malformed host at byte {offset}")]
    BadHost {
        /// Offset of the fault.
        offset: usize,
    },
    /// A port that is empty, not decimal or above 65535.
    #[error("malformed port at byte {offset}")]
    BadPort {
        /// Offset of the port.
        offset: usize,
    },
    /// A malformed `;name=value` parameter.
    #[error("malformed parameter at byte {offset}")]
    BadParam {
        /// Offset of the fault.
        offset: usize,
    },
}

/// A parsed URI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Uri<'a> {
    /// `sip:` or `sips:`.
    Sip(SipUri<'a>),
    /// `tel:` (RFC 3966).
    Tel(TelUri<'a>),
    /// Any other scheme, kept as written (RFC 4475 §3.3.2–3.3.4).
    Other {
        /// The scheme as written.
        scheme: &'a str,
        /// The whole URI text.
        raw: &'a str,
    },
}

impl<'a> Uri<'a> {
    /// Parses a URI (no surrounding `<>` or LWS).
    pub fn parse(s: &'a str) -> Result<Self, UriError> {
        // The scheme runs to the first byte outside its alphabet, which must be the `:`
        // (one pass instead of finding the colon and then checking what precedes it).
        let sb = s.as_bytes();
        let colon = sb
            .iter()
            .position(|&b| !(b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')))
            .ok_or(UriError::BadScheme)?;
        if sb[colon] != b':' || !sb.first().is_some_and(u8::is_ascii_alphabetic) {
            return Err(UriError::BadScheme);
        }
        let scheme = sub(s, 0, colon);
        let rest_at = colon + 1;
        if scheme.eq_ignore_ascii_case("sip") || scheme.eq_ignore_ascii_case("sips") {
            SipUri::parse_after_scheme(s, rest_at, scheme.len() == 4).map(Uri::Sip)
        } else if scheme.eq_ignore_ascii_case("tel") {
            TelUri::parse_after_scheme(s, rest_at).map(Uri::Tel)
        } else {
            let rest = sub(s, rest_at, s.len());
            if rest.is_empty() {
                return Err(UriError::BadChar { offset: rest_at });
            }
            if let Some(bad) = rest
                .bytes()
                .position(|b| b <= b' ' || b == 0x7f || matches!(b, b'<' | b'>' | b'"'))
            {
                return Err(UriError::BadChar {
                    offset: rest_at + bad,
                });
            }
            Ok(Uri::Other { scheme, raw: s })
        }
    }

    /// The URI text as written.
    pub fn as_str(&self) -> &'a str {
        match self {
            Uri::Sip(u) => u.raw,
            Uri::Tel(t) => t.raw,
            Uri::Other { raw, .. } => raw,
        }
    }

    /// The SIP URI, when this is one.
    pub fn as_sip(&self) -> Option<&SipUri<'a>> {
        match self {
            Uri::Sip(u) => Some(u),
            Uri::Tel(_) | Uri::Other { .. } => None,
        }
    }

    /// True for `sip:` and `sips:` URIs.
    pub fn is_sip(&self) -> bool {
        matches!(self, Uri::Sip(_))
    }
}

impl fmt::Display for Uri<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A `sip:` or `sips:` URI (RFC 3261 §19.1.1). Components are kept escaped as written; use
/// [`unescape`] or [`SipUri::aor`] for comparisons.
///
/// Its parts are kept as offsets into its own text, so a URI kept by a parsed message (the
/// From and To URIs) is rebuilt from one offset pair; a part costs a slice when it is read.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SipUri<'a> {
    raw: &'a str,
    parts: SipParts,
}

/// Everything of a [`SipUri`] but its text: offsets into it and values parsed from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SipParts {
    secure: bool,
    user: Option<Span>,
    password: Option<Span>,
    host: HostSpans,
    host_raw: Span,
    port: Option<u16>,
    params: Span,
    headers: Option<Span>,
}

impl fmt::Debug for SipUri<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SipUri")
            .field("raw", &self.raw)
            .field("secure", &self.is_secure())
            .field("user", &self.user())
            .field("password", &self.password())
            .field("host", &self.host())
            .field("port", &self.port())
            .field("params", &self.params())
            .field("headers", &self.headers())
            .finish()
    }
}

impl<'a> SipUri<'a> {
    /// Parses a `sip:`/`sips:` URI; other schemes are refused with [`UriError::BadScheme`].
    pub fn parse(s: &'a str) -> Result<Self, UriError> {
        match Uri::parse(s)? {
            Uri::Sip(u) => Ok(u),
            Uri::Tel(_) | Uri::Other { .. } => Err(UriError::BadScheme),
        }
    }

    fn parse_after_scheme(s: &'a str, at: usize, secure: bool) -> Result<Self, UriError> {
        let rest = sub(s, at, s.len());
        // `@` never appears unescaped after the userinfo, while `;` and `?` may appear inside
        // the user part (RFC 4475 §3.1.1.9), so split at `@` first.
        let (user, password, hp_at) = match find_byte(rest, b'@') {
            Some(a) => {
                let userinfo = sub(rest, 0, a);
                let (user, password) = match find_byte(userinfo, b':') {
                    Some(c) => (sub(userinfo, 0, c), Some(sub(userinfo, c + 1, a))),
                    None => (userinfo, None),
                };
                if user.is_empty() {
                    return Err(UriError::BadChar { offset: at });
                }
                check(user, escape::is_user_char, at)?;
                if let Some(p) = password {
                    check(p, escape::is_password_char, at + user.len() + 1)?;
                }
                (Some(user), password, at + a + 1)
            }
            None => (None, None, at),
        };
        let hp = sub(s, hp_at, s.len());
        let (hp, headers) = match find_byte(hp, b'?') {
            Some(q) => {
                let h = sub(hp, q + 1, hp.len());
                check(h, escape::is_header_char, hp_at + q + 1)?;
                (sub(hp, 0, q), Some(h))
            }
            None => (hp, None),
        };
        let host_end = if hp.starts_with('[') {
            find_byte(hp, b']').map_or(hp.len(), |e| e + 1)
        } else {
            hp.bytes()
                .position(|b| b == b':' || b == b';')
                .unwrap_or(hp.len())
        };
        let host_raw = sub(hp, 0, host_end);
        let host = Host::parse(host_raw).map_err(|o| UriError::BadHost { offset: hp_at + o })?;
        let after_host = sub(hp, host_end, hp.len());
        let (port, params_raw, params_at) = match after_host.strip_prefix(':') {
            Some(p) => {
                let end = find_byte(p, b';').unwrap_or(p.len());
                let port_at = hp_at + host_end + 1;
                let port =
                    parse_port(sub(p, 0, end)).ok_or(UriError::BadPort { offset: port_at })?;
                (Some(port), sub(p, end, p.len()), port_at + end)
            }
            None => (None, after_host, hp_at + host_end),
        };
        if !params_raw.is_empty() && !params_raw.starts_with(';') {
            return Err(UriError::BadChar { offset: params_at });
        }
        let params = Params::parse_uri(params_raw).map_err(|o| UriError::BadParam {
            offset: params_at + o,
        })?;
        let at = |part: &str| Span::of(s, part);
        Ok(SipUri {
            raw: s,
            parts: SipParts {
                secure,
                user: user.map(at),
                password: password.map(at),
                host: host.spans(s),
                host_raw: at(host_raw),
                port,
                params: at(params.as_str()),
                headers: headers.map(at),
            },
        })
    }

    /// The URI text as written.
    pub fn as_str(&self) -> &'a str {
        self.raw
    }
    /// A part of the URI.
    fn part(&self, span: Span) -> &'a str {
        span.get(self.raw)
    }
    /// True for `sips:`.
    pub fn is_secure(&self) -> bool {
        self.parts.secure
    }
    /// The user part, escaped as written (may hold `;` parameters, RFC 4475 §3.1.1.9).
    pub fn user(&self) -> Option<&'a str> {
        self.parts.user.map(|s| self.part(s))
    }
    /// The password, escaped as written.
    pub fn password(&self) -> Option<&'a str> {
        self.parts.password.map(|s| self.part(s))
    }
    /// The host.
    pub fn host(&self) -> Host<'a> {
        Host::rebuild(self.raw, &self.parts.host)
    }
    /// The host as written (IPv6 with brackets).
    pub fn host_str(&self) -> &'a str {
        self.part(self.parts.host_raw)
    }
    /// The port, when written.
    pub fn port(&self) -> Option<u16> {
        self.parts.port
    }
    /// The URI parameters (`;transport=tcp;lr`).
    pub fn params(&self) -> Params<'a> {
        Params::checked(self.part(self.parts.params))
    }
    /// The raw header part after `?`, when present.
    pub fn headers(&self) -> Option<&'a str> {
        self.parts.headers.map(|s| self.part(s))
    }
    /// The `transport` parameter.
    pub fn transport(&self) -> Option<&'a str> {
        self.params().get("transport")
    }
    /// True when the `lr` parameter is present (RFC 3261 §19.1.1 loose routing).
    pub fn is_loose_route(&self) -> bool {
        self.params().contains("lr")
    }
}

impl fmt::Display for SipUri<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.raw)
    }
}

crate::spans::rebase_struct!(SipUri => SipUriSpans {
    raw: &'static str,
} copy {
    parts: SipParts,
});

crate::spans::rebase_struct!(TelUri => TelUriSpans {
    raw: &'static str,
    number: &'static str,
    params: Params<'static>,
} copy {});

/// [`Uri`] as spans (see [`crate::spans`]).
#[derive(Debug, Clone, Copy)]
pub(crate) enum UriSpans {
    Sip(SipUriSpans),
    Tel(TelUriSpans),
    Other { scheme: Span, raw: Span },
}

impl<'a> Rebase<'a> for Uri<'a> {
    type Spans = UriSpans;
    fn spans(&self, base: &str) -> UriSpans {
        match self {
            Uri::Sip(u) => UriSpans::Sip(u.spans(base)),
            Uri::Tel(u) => UriSpans::Tel(u.spans(base)),
            Uri::Other { scheme, raw } => UriSpans::Other {
                scheme: Span::of(base, scheme),
                raw: Span::of(base, raw),
            },
        }
    }
    fn rebuild(base: &'a str, spans: &UriSpans) -> Self {
        match spans {
            UriSpans::Sip(s) => Uri::Sip(SipUri::rebuild(base, s)),
            UriSpans::Tel(s) => Uri::Tel(TelUri::rebuild(base, s)),
            UriSpans::Other { scheme, raw } => Uri::Other {
                scheme: scheme.get(base),
                raw: raw.get(base),
            },
        }
    }
}

/// A `tel:` URI (RFC 3966): the number as written and its parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TelUri<'a> {
    raw: &'a str,
    number: &'a str,
    params: Params<'a>,
}

impl<'a> TelUri<'a> {
    fn parse_after_scheme(s: &'a str, at: usize) -> Result<Self, UriError> {
        let rest = sub(s, at, s.len());
        let end = rest.find(';').unwrap_or(rest.len());
        let number = sub(rest, 0, end);
        let ok = |b: u8| {
            b.is_ascii_hexdigit() || matches!(b, b'*' | b'#' | b'+' | b'-' | b'.' | b'(' | b')')
        };
        if number.is_empty() {
            return Err(UriError::BadChar { offset: at });
        }
        if let Some(bad) = number.bytes().position(|b| !ok(b)) {
            return Err(UriError::BadChar { offset: at + bad });
        }
        let params =
            Params::parse_uri(sub(rest, end, rest.len())).map_err(|o| UriError::BadParam {
                offset: at + end + o,
            })?;
        Ok(TelUri {
            raw: s,
            number,
            params,
        })
    }

    /// The number with visual separators as written (`+1-201-555-0123`).
    pub fn number(&self) -> &'a str {
        self.number
    }
    /// The parameters (`;phone-context=…`).
    pub fn params(&self) -> Params<'a> {
        self.params
    }
}

/// Index of the first `c` in `s` (a byte search; `str::find` with a `char` pattern costs more
/// to set up than these short URI parts take to scan).
#[inline]
fn find_byte(s: &str, c: u8) -> Option<usize> {
    memchr::memchr(c, s.as_bytes())
}

fn check(s: &str, class: impl Fn(u8) -> bool, base: usize) -> Result<(), UriError> {
    escape::check(s, class).map_err(|(o, bad_escape)| {
        if bad_escape {
            UriError::BadEscape { offset: base + o }
        } else {
            UriError::BadChar { offset: base + o }
        }
    })
}

fn parse_port(s: &str) -> Option<u16> {
    if s.is_empty() || s.len() > 5 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests;
