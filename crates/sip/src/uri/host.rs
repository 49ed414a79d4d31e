//! `host` (RFC 3261 §25.1): a domain name, an IPv4 address or an IPv6 reference `[…]`.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::parse::scan::byte_class;

/// A host as written in a URI or Via header. Domain names compare case-insensitively
/// (RFC 3261 §19.1.4).
#[derive(Debug, Clone, Copy)]
pub enum Host<'a> {
    /// A domain name as written (case preserved).
    Domain(&'a str),
    /// A dotted-quad IPv4 address.
    Ipv4(Ipv4Addr),
    /// An IPv6 address, written `[…]` in SIP.
    Ipv6(Ipv6Addr),
}

/// Characters of a host name. `_` is not in the RFC grammar but appears in the wild and is
/// harmless to accept.
#[inline]
fn is_host_char(b: u8) -> bool {
    HOST_CHAR[usize::from(b)]
}

/// [`is_host_char`] as a table: every URI and Via host is checked byte by byte.
static HOST_CHAR: [bool; 256] = byte_class(true, b"-._");

/// A dotted-quad IPv4 address as [`Ipv4Addr`]'s `FromStr` accepts it (four decimal octets
/// of one to three digits, no leading zero, at most 255), without its general parser's cost.
fn dotted_quad(s: &[u8]) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut parts = s.split(|&c| c == b'.');
    for octet in &mut octets {
        let part = parts.next()?;
        if part.is_empty() || part.len() > 3 || (part.len() > 1 && part[0] == b'0') {
            return None;
        }
        let mut value = 0u16;
        for &d in part {
            if !d.is_ascii_digit() {
                return None;
            }
            value = value * 10 + u16::from(d - b'0');
        }
        *octet = u8::try_from(value).ok()?;
    }
    if parts.next().is_some() {
        return None;
    }
    Some(Ipv4Addr::from(octets))
}

impl<'a> Host<'a> {
    /// Parses a host; `Err` carries the offset of the first bad byte.
    pub fn parse(s: &'a str) -> Result<Self, usize> {
        if let Some(inner) = s.strip_prefix('[') {
            let inner = inner.strip_suffix(']').ok_or(s.len())?;
            return inner.parse::<Ipv6Addr>().map(Host::Ipv6).map_err(|_| 1);
        }
        if s.is_empty() {
            return Err(0);
        }
        let b = s.as_bytes();
        if let Some(bad) = b.iter().position(|&c| !is_host_char(c)) {
            return Err(bad);
        }
        // Only a host starting with a digit can be a dotted quad; `dotted_quad` refuses any
        // other byte than digits and dots itself, so names are not counted byte by byte.
        if b.first().is_some_and(u8::is_ascii_digit) {
            if let Some(v4) = dotted_quad(b) {
                return Ok(Host::Ipv4(v4));
            }
        }
        Ok(Host::Domain(s))
    }

    /// The domain name, when the host is one.
    pub fn domain(&self) -> Option<&'a str> {
        match self {
            Host::Domain(d) => Some(d),
            Host::Ipv4(_) | Host::Ipv6(_) => None,
        }
    }

    /// The IP address, when the host is one.
    pub fn ip(&self) -> Option<IpAddr> {
        match self {
            Host::Domain(_) => None,
            Host::Ipv4(a) => Some(IpAddr::V4(*a)),
            Host::Ipv6(a) => Some(IpAddr::V6(*a)),
        }
    }

    /// Appends the canonical (lower-case, bracketed IPv6) form to `out`.
    pub(crate) fn push_canonical(&self, out: &mut String) {
        use fmt::Write;
        match self {
            Host::Domain(d) => out.extend(d.chars().map(|c| c.to_ascii_lowercase())),
            // Writing to a String cannot fail.
            Host::Ipv4(a) => drop(write!(out, "{a}")),
            Host::Ipv6(a) => drop(write!(out, "[{a}]")),
        }
    }
}

/// [`Host`] with its domain as a span (see [`crate::spans`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HostSpans {
    Domain(crate::spans::Span),
    Ipv4(Ipv4Addr),
    Ipv6(Ipv6Addr),
}

impl<'a> crate::spans::Rebase<'a> for Host<'a> {
    type Spans = HostSpans;
    fn spans(&self, base: &str) -> HostSpans {
        match self {
            Host::Domain(d) => HostSpans::Domain(crate::spans::Span::of(base, d)),
            Host::Ipv4(a) => HostSpans::Ipv4(*a),
            Host::Ipv6(a) => HostSpans::Ipv6(*a),
        }
    }
    fn rebuild(base: &'a str, spans: &HostSpans) -> Self {
        match spans {
            HostSpans::Domain(d) => Host::Domain(d.get(base)),
            HostSpans::Ipv4(a) => Host::Ipv4(*a),
            HostSpans::Ipv6(a) => Host::Ipv6(*a),
        }
    }
}

impl PartialEq for Host<'_> {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Host::Domain(a), Host::Domain(b)) => a.eq_ignore_ascii_case(b),
            (Host::Ipv4(a), Host::Ipv4(b)) => a == b,
            (Host::Ipv6(a), Host::Ipv6(b)) => a == b,
            _ => false,
        }
    }
}

impl Eq for Host<'_> {}

impl fmt::Display for Host<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Domain(d) => f.write_str(d),
            Host::Ipv4(a) => write!(f, "{a}"),
            Host::Ipv6(a) => write!(f, "[{a}]"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3261_25_1_ipv4_hosts_parse_as_std_does_table() {
        for text in [
            "127.0.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "256.1.1.1",
            "01.2.3.4",
            "1.2.3.04",
            "0.10.100.200",
            "1.2.3",
            "1.2.3.4.5",
            "1.2.3.4.",
            ".1.2.3",
            "1..2.3",
            "1234.1.1.1",
            "1.2.3.1000",
            "",
            "192.0.2.300",
            "10.0.0.255",
        ] {
            let want = text.parse::<Ipv4Addr>().ok();
            assert_eq!(dotted_quad(text.as_bytes()), want, "{text:?}");
        }
    }

    #[test]
    fn rfc3261_25_1_host_forms() {
        let v6: Ipv6Addr = "2001:db8::10".parse().unwrap();
        let cases: [(&str, Result<Host<'_>, usize>); 8] = [
            ("example.com", Ok(Host::Domain("example.com"))),
            ("192.0.2.1", Ok(Host::Ipv4(Ipv4Addr::new(192, 0, 2, 1)))),
            ("[2001:db8::10]", Ok(Host::Ipv6(v6))),
            ("999.1.1.1", Ok(Host::Domain("999.1.1.1"))),
            ("", Err(0)),
            ("bad host", Err(3)),
            ("[2001:db8::10", Err(13)),
            ("[not-an-ip]", Err(1)),
        ];
        for (input, want) in cases {
            assert_eq!(Host::parse(input), want, "{input}");
        }
    }

    #[test]
    fn rfc3261_19_1_4_domains_compare_case_insensitively() {
        assert_eq!(Host::Domain("Example.COM"), Host::Domain("example.com"));
        assert_ne!(
            Host::Domain("192.0.2.1"),
            Host::Ipv4(Ipv4Addr::new(192, 0, 2, 1))
        );
        let mut out = String::new();
        Host::Domain("Chair-DNRC.Example.com").push_canonical(&mut out);
        assert_eq!(out, "chair-dnrc.example.com");
    }
}
