//! Via (RFC 3261 §20.42, §18.2.1 `received`, RFC 3581 `rport`).

use std::fmt;

use super::Params;
use crate::parse::scan::{skip_lws, sub, token_end};
use crate::spans::{Rebase, Span};
use crate::uri::{Host, HostSpans};

/// The magic cookie that starts an RFC 3261 branch (§8.1.1.7).
pub const BRANCH_MAGIC_COOKIE: &str = "z9hG4bK";

/// The transport named in a Via or `transport=` parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// UDP.
    Udp,
    /// TCP.
    Tcp,
    /// TLS over TCP.
    Tls,
    /// SCTP (RFC 4168).
    Sctp,
    /// TLS over SCTP.
    TlsSctp,
    /// WebSocket (RFC 7118).
    Ws,
    /// Secure WebSocket (RFC 7118).
    Wss,
    /// Any other token (RFC 4475 §3.1.1.10); the text is in [`Via::transport_str`].
    Unknown,
}

impl Transport {
    /// Classifies a transport token, ignoring case.
    pub fn from_token(s: &str) -> Self {
        const NAMES: [(&str, Transport); 7] = [
            ("UDP", Transport::Udp),
            ("TCP", Transport::Tcp),
            ("TLS", Transport::Tls),
            ("SCTP", Transport::Sctp),
            ("TLS-SCTP", Transport::TlsSctp),
            ("WS", Transport::Ws),
            ("WSS", Transport::Wss),
        ];
        NAMES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(s))
            .map_or(Self::Unknown, |(_, t)| *t)
    }

    /// The upper-case token used in Via headers.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Udp => "UDP",
            Self::Tcp => "TCP",
            Self::Tls => "TLS",
            Self::Sctp => "SCTP",
            Self::TlsSctp => "TLS-SCTP",
            Self::Ws => "WS",
            Self::Wss => "WSS",
            Self::Unknown => "UNKNOWN",
        }
    }

    /// The port implied when a sent-by or URI has none (RFC 3261 §18.2.2, §19.1.2).
    pub fn default_port(self) -> u16 {
        match self {
            Self::Tls | Self::TlsSctp | Self::Wss => 5061,
            Self::Udp | Self::Tcp | Self::Sctp | Self::Ws | Self::Unknown => 5060,
        }
    }

    /// True for transports that carry a byte stream and need Content-Length framing.
    pub fn is_stream(self) -> bool {
        !matches!(self, Self::Udp)
    }
}

/// One `via-parm`: `SIP/2.0/UDP host:port;branch=…`.
///
/// Its parts are kept as offsets into the element's text, so a Via kept by a parsed message
/// is rebuilt from one offset pair (the transport, transaction layer and dispatcher each ask
/// for the top Via), and a part costs a slice only when it is read.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Via<'a> {
    raw: &'a str,
    parts: ViaParts,
}

/// Everything of a [`Via`] but its text: offsets into it and values parsed from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ViaParts {
    protocol: Span,
    version: Span,
    transport_raw: Span,
    transport: Transport,
    host: HostSpans,
    host_raw: Span,
    port: Option<u16>,
    params: Span,
    /// `params.get("branch")`, found while the parameters were checked.
    branch: Option<Span>,
    /// `params.get("received")`, found likewise (the transport reads it on every response).
    received: Option<Span>,
    /// `rport` (RFC 3581): `None` when absent, else its value when numeric; found while the
    /// parameters were checked, as the transport asks for it on every request.
    rport: Option<Option<u16>>,
}

crate::spans::rebase_struct!(Via => ViaSpans {
    raw: &'static str,
} copy {
    parts: ViaParts,
});

impl fmt::Debug for Via<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Via")
            .field("raw", &self.raw)
            .field("protocol", &self.protocol())
            .field("transport", &self.transport())
            .field("host", &self.host())
            .field("port", &self.port())
            .field("params", &self.params())
            .field("branch", &self.branch())
            .finish()
    }
}

/// Expects `/` after optional LWS, then returns the token after it (with LWS skipped).
fn slash_token(b: &[u8], i: usize) -> Result<(usize, usize), usize> {
    let i = skip_lws(b, i);
    if b.get(i) != Some(&b'/') {
        return Err(i);
    }
    let s = skip_lws(b, i + 1);
    let e = token_end(b, s);
    if e == s {
        return Err(s);
    }
    Ok((s, e))
}

impl<'a> Via<'a> {
    /// Parses one Via element (one item of a comma list). `Err` holds the offset of the fault
    /// within `value`.
    pub fn parse(value: &'a str) -> Result<Self, usize> {
        let b = value.as_bytes();
        let ps = skip_lws(b, 0);
        let pe = token_end(b, ps);
        if pe == ps {
            return Err(ps);
        }
        let (vs, ve) = slash_token(b, pe)?;
        let (ts, te) = slash_token(b, ve)?;
        let hs = skip_lws(b, te);
        if hs == te {
            return Err(te);
        }
        let he = if b.get(hs) == Some(&b'[') {
            b[hs..]
                .iter()
                .position(|&c| c == b']')
                .map_or(b.len(), |p| hs + p + 1)
        } else {
            let mut e = hs;
            while e < b.len()
                && (b[e].is_ascii_alphanumeric() || matches!(b[e], b'-' | b'.' | b'_'))
            {
                e += 1;
            }
            e
        };
        let host_raw = sub(value, hs, he);
        let host = Host::parse(host_raw).map_err(|o| hs + o)?;
        let mut i = skip_lws(b, he);
        let mut port = None;
        if b.get(i) == Some(&b':') {
            let s = skip_lws(b, i + 1);
            let mut e = s;
            while e < b.len() && b[e].is_ascii_digit() {
                e += 1;
            }
            let digits = sub(value, s, e);
            if digits.is_empty() || digits.len() > 5 {
                return Err(s);
            }
            port = Some(digits.parse::<u16>().map_err(|_| s)?);
            i = e;
        }
        let (_, [branch, rport, received]) =
            Params::parse_header_find(sub(value, i, value.len()), ["branch", "rport", "received"])
                .map_err(|o| i + o)?;
        let transport_raw = sub(value, ts, te);
        let params_raw = sub(value, i, value.len());
        let at = |s: &str| Span::of(value, s);
        Ok(Via {
            raw: value,
            parts: ViaParts {
                protocol: at(sub(value, ps, pe)),
                version: at(sub(value, vs, ve)),
                transport_raw: at(transport_raw),
                transport: Transport::from_token(transport_raw),
                host: host.spans(value),
                host_raw: at(host_raw),
                port,
                params: at(params_raw),
                branch: branch.map(at),
                received: received.map(at),
                rport: rport.map(|v| v.parse().ok()),
            },
        })
    }

    /// The element as written.
    pub fn as_str(&self) -> &'a str {
        self.raw
    }
    /// A part of the element.
    fn part(&self, span: Span) -> &'a str {
        span.get(self.raw)
    }
    /// The protocol name and version, normally `SIP` and `2.0`.
    pub fn protocol(&self) -> (&'a str, &'a str) {
        (
            self.part(self.parts.protocol),
            self.part(self.parts.version),
        )
    }
    /// The transport.
    pub fn transport(&self) -> Transport {
        self.parts.transport
    }
    /// The transport token as written.
    pub fn transport_str(&self) -> &'a str {
        self.part(self.parts.transport_raw)
    }
    /// The sent-by host.
    pub fn host(&self) -> Host<'a> {
        Host::rebuild(self.raw, &self.parts.host)
    }
    /// The sent-by host as written.
    pub fn host_str(&self) -> &'a str {
        self.part(self.parts.host_raw)
    }
    /// The sent-by port, when written.
    pub fn port(&self) -> Option<u16> {
        self.parts.port
    }
    /// The sent-by port, or the transport's default.
    pub fn port_or_default(&self) -> u16 {
        self.parts
            .port
            .unwrap_or(self.parts.transport.default_port())
    }
    /// All parameters.
    pub fn params(&self) -> Params<'a> {
        Params::checked(self.part(self.parts.params))
    }
    /// The `branch` parameter (transaction ID, RFC 3261 §17.2.3).
    pub fn branch(&self) -> Option<&'a str> {
        self.parts.branch.map(|s| self.part(s))
    }
    /// True when the branch is the RFC 3261 magic cookie `z9hG4bK` followed by something;
    /// the bare cookie identifies nothing (RFC 4475 §3.2.1).
    pub fn has_rfc3261_branch(&self) -> bool {
        self.branch().is_some_and(|b| {
            b.len() > BRANCH_MAGIC_COOKIE.len() && b.starts_with(BRANCH_MAGIC_COOKIE)
        })
    }
    /// The `received` parameter (RFC 3261 §18.2.1).
    pub fn received(&self) -> Option<&'a str> {
        self.parts.received.map(|s| self.part(s))
    }
    /// True when `rport` is present, with or without a value (RFC 3581).
    pub fn has_rport(&self) -> bool {
        self.parts.rport.is_some()
    }
    /// The `rport` value, when present and numeric.
    pub fn rport(&self) -> Option<u16> {
        self.parts.rport.flatten()
    }
    /// The `maddr` parameter.
    pub fn maddr(&self) -> Option<&'a str> {
        self.params().get("maddr")
    }
    /// The `ttl` parameter, when numeric.
    pub fn ttl(&self) -> Option<u8> {
        self.params().get("ttl").and_then(|v| v.parse().ok())
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    /// (value, transport, host, port, branch)
    type Case<'a> = (&'a str, Transport, &'a str, Option<u16>, Option<&'a str>);

    #[test]
    fn rfc3261_20_42_via_table() {
        let cases: [Case<'_>; 6] = [
            (
                "SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds",
                Transport::Udp,
                "pc33.atlanta.com",
                None,
                Some("z9hG4bK776asdhds"),
            ),
            (
                "SIP  /   2.0\r\n /UDP\r\n    192.0.2.2;branch=390skdjuw",
                Transport::Udp,
                "192.0.2.2",
                None,
                Some("390skdjuw"),
            ),
            (
                "SIP  / 2.0  / TCP     spindle.example.com   ;\r\n  branch  =   z9hG4bK9ikj8",
                Transport::Tcp,
                "spindle.example.com",
                None,
                Some("z9hG4bK9ikj8"),
            ),
            (
                "SIP/2.0/TLS [2001:db8::9]:5061;received=2001:db8::9:1;rport=5062",
                Transport::Tls,
                "[2001:db8::9]",
                Some(5061),
                None,
            ),
            (
                "SIP/2.0/UNKNOWN t4.example.com;branch=z9hG4bKasd0f3en",
                Transport::Unknown,
                "t4.example.com",
                None,
                Some("z9hG4bKasd0f3en"),
            ),
            (
                "sip/2.0/ws df7jal23ls0d.invalid;rport;branch=z9hG4bKhjhs8ass877",
                Transport::Ws,
                "df7jal23ls0d.invalid",
                None,
                Some("z9hG4bKhjhs8ass877"),
            ),
        ];
        for (value, transport, host, port, branch) in cases {
            let via = Via::parse(value).unwrap_or_else(|o| panic!("{value:?} at {o}"));
            assert_eq!(via.transport(), transport, "{value:?}");
            assert_eq!(via.host_str(), host, "{value:?}");
            assert_eq!(via.port(), port, "{value:?}");
            assert_eq!(via.branch(), branch, "{value:?}");
            assert_eq!(
                via.branch(),
                via.params().get("branch"),
                "kept branch, {value:?}"
            );
        }
    }

    #[test]
    fn rfc3581_rport_and_received() {
        let via = Via::parse("SIP/2.0/UDP 10.0.0.1:5070;rport;branch=z9hG4bKx;received=192.0.2.7")
            .unwrap();
        assert!(via.has_rport());
        assert_eq!(via.rport(), None);
        assert_eq!(via.received(), Some("192.0.2.7"));
        assert_eq!(via.host(), Host::Ipv4(Ipv4Addr::new(10, 0, 0, 1)));
        assert_eq!(via.port_or_default(), 5070);
        assert!(via.has_rfc3261_branch());
        // Kept at parse time; must agree with a fresh lookup, whatever the case or quoting.
        for value in [
            "SIP/2.0/UDP h;RPORT=5070;Received=\"192.0.2.8\";rport=1",
            "SIP/2.0/UDP h;rport=x;branch=z9hG4bKy",
            "SIP/2.0/UDP h;branch=z9hG4bKy",
        ] {
            let via = Via::parse(value).unwrap();
            assert_eq!(via.has_rport(), via.params().contains("rport"), "{value:?}");
            let rport = via.params().get("rport").and_then(|v| v.parse().ok());
            assert_eq!(via.rport(), rport, "{value:?}");
            assert_eq!(via.received(), via.params().get("received"), "{value:?}");
        }
        let tls = Via::parse("SIP/2.0/TLS a.example.com;branch=1").unwrap();
        assert_eq!(tls.port_or_default(), 5061);
        assert!(!tls.has_rfc3261_branch());
        let bare = Via::parse("SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK").unwrap();
        assert!(
            !bare.has_rfc3261_branch(),
            "RFC 4475 §3.2.1: the cookie alone"
        );
    }

    #[test]
    fn rfc4475_3_1_2_1_malformed_via_table() {
        let cases: [(&str, usize); 6] = [
            ("SIP/2.0/UDP 192.0.2.15;;", 23),
            ("", 0),
            ("SIP/2.0 host", 8),
            ("SIP/2.0/UDP", 11),
            ("SIP/2.0/UDP host:", 17),
            ("SIP/2.0/UDP host:70000", 17),
        ];
        for (value, offset) in cases {
            assert_eq!(Via::parse(value).map(|_| ()), Err(offset), "{value:?}");
        }
    }
}
