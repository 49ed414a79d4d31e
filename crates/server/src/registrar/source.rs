//! Where a binding's requests go, as stored: `udp:192.0.2.1:5060` (what formatting
//! `"{transport}:{addr}"` gives). Every REGISTER with credentials writes one to compare
//! with its binding's, so it is written on the stack, not allocated.

use std::fmt::{self, Write as _};
use std::net::SocketAddr;

use hotdesk_sip::decimal::digits;
use hotdesk_sip::header::Transport;

/// The longest: `tls-sctp:[` + a 45-character IPv6 address + `%` + a 10-digit scope id +
/// `]:65535`, 73 bytes.
const CAPACITY: usize = 80;

/// A binding's source text, held inline.
pub(super) struct SourceText {
    buf: [u8; CAPACITY],
    len: usize,
}

impl SourceText {
    /// `transport:addr`, the IPv4 form written directly as it is on every REGISTER.
    pub(super) fn new(transport: Transport, addr: SocketAddr) -> Self {
        let mut text = Self {
            buf: [0; CAPACITY],
            len: 0,
        };
        text.push(transport_name(transport).as_bytes());
        text.push(b":");
        match addr {
            SocketAddr::V4(v4) => {
                let mut scratch = [0u8; 20];
                for (i, octet) in v4.ip().octets().into_iter().enumerate() {
                    if i > 0 {
                        text.push(b".");
                    }
                    text.push(digits(u64::from(octet), &mut scratch));
                }
                text.push(b":");
                text.push(digits(u64::from(v4.port()), &mut scratch));
            }
            // CAPACITY holds the longest, so this cannot run out of room.
            SocketAddr::V6(v6) => {
                let _ = write!(text, "{v6}");
            }
        }
        text
    }

    /// The text.
    pub(super) fn as_str(&self) -> &str {
        // Only whole UTF-8 strings are ever pushed.
        let bytes = self.buf.get(..self.len).unwrap_or_default();
        std::str::from_utf8(bytes).unwrap_or_default()
    }

    /// Appends `bytes` whole, or reports that they do not fit.
    fn push(&mut self, bytes: &[u8]) -> bool {
        let end = self.len + bytes.len();
        match self.buf.get_mut(self.len..end) {
            Some(room) => {
                room.copy_from_slice(bytes);
                self.len = end;
                true
            }
            None => false,
        }
    }
}

impl fmt::Write for SourceText {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if self.push(s.as_bytes()) {
            Ok(())
        } else {
            Err(fmt::Error)
        }
    }
}

/// The transport as stored in a binding's source.
fn transport_name(transport: Transport) -> &'static str {
    match transport {
        Transport::Udp => "udp",
        Transport::Tcp => "tcp",
        Transport::Tls => "tls",
        Transport::Ws => "ws",
        Transport::Wss => "wss",
        Transport::Sctp => "sctp",
        Transport::TlsSctp => "tls-sctp",
        Transport::Unknown => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 3261 §10.3: a binding's stored source reads as the transport and address always
    // did, IPv4 and IPv6 alike, up to the longest there is.
    #[test]
    fn rfc3261_10_3_source_text_is_transport_and_address() {
        for addr in [
            "192.0.2.1:5060",
            "0.0.0.0:0",
            "255.255.255.255:65535",
            "[2001:db8::1]:5061",
            "[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255%4294967295]:65535",
        ] {
            let addr: SocketAddr = addr.parse().expect("address");
            assert_eq!(
                SourceText::new(Transport::Udp, addr).as_str(),
                format!("udp:{addr}")
            );
            assert_eq!(
                SourceText::new(Transport::TlsSctp, addr).as_str(),
                format!("tls-sctp:{addr}")
            );
        }
        let addr: SocketAddr = "10.1.2.3:5070".parse().expect("address");
        assert_eq!(
            SourceText::new(Transport::Tls, addr).as_str(),
            "tls:10.1.2.3:5070"
        );
    }
}
