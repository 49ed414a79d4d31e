//! Which address RTP sockets bind and which one the SDP `c=` line carries. A SIP listener
//! on a concrete address gives both; one on `0.0.0.0` / `::` cannot go into SDP (`c=0.0.0.0`
//! means "hold", and the phone would never send us audio), so the operator's
//! `--rtp-address` is used, else the address the routing table would send from.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};

use super::media::MediaError;

/// Where RTP sockets bind, and what SDP tells phones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpAddress {
    /// Bind address of the RTP sockets (the SIP listener's address).
    pub bind: IpAddr,
    /// Address in the SDP `c=` line.
    pub advertise: IpAddr,
}

impl RtpAddress {
    /// Chooses the addresses for a SIP listener on `listen`: `configured` (`--rtp-address`)
    /// when set, else `listen` itself when concrete, else `guess(listen)`; an error when
    /// none gives a concrete address.
    pub fn choose(
        listen: IpAddr,
        configured: Option<IpAddr>,
        guess: impl FnOnce(IpAddr) -> Option<IpAddr>,
    ) -> Result<Self, MediaError> {
        let advertise = match configured {
            Some(ip) if ip.is_unspecified() || ip.is_multicast() => {
                return Err(MediaError::UnusableRtpAddress(ip))
            }
            Some(ip) => ip,
            None if !listen.is_unspecified() => listen,
            None => {
                let guessed = guess(listen)
                    .filter(|ip| !ip.is_unspecified())
                    .ok_or(MediaError::NoRtpAddress(listen))?;
                tracing::warn!(
                    %guessed,
                    "--sip listens on {listen}: SDP will offer RTP on {guessed}, the address \
                     the routing table picks; set --rtp-address if phones reach this host \
                     on another"
                );
                guessed
            }
        };
        Ok(Self {
            bind: listen,
            advertise,
        })
    }
}

/// The local address this host would send from to a public address (of `listen`'s
/// family), read from an unconnected UDP socket's `connect` (no packet is sent).
pub fn routed_address(listen: IpAddr) -> Option<IpAddr> {
    // Documentation addresses (RFC 5737, RFC 3849): routed like any public address.
    let (local, probe) = match listen {
        IpAddr::V4(_) => (
            IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            IpAddr::V4(Ipv4Addr::new(198, 51, 100, 1)),
        ),
        IpAddr::V6(_) => (
            IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)),
        ),
    };
    let socket = UdpSocket::bind(SocketAddr::new(local, 0)).ok()?;
    socket.connect(SocketAddr::new(probe, 9)).ok()?;
    Some(socket.local_addr().ok()?.ip()).filter(|ip| !ip.is_unspecified())
}

/// The address the IVR's SDP offers (RFC 4566 §5.7 `c=`, never a wildcard: RFC 3264 §8.4).
#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn a_concrete_listener_binds_and_advertises_itself() {
        let chosen = RtpAddress::choose(ip("10.0.0.5"), None, |_| Some(ip("192.0.2.1")));
        let expected = RtpAddress {
            bind: ip("10.0.0.5"),
            advertise: ip("10.0.0.5"),
        };
        assert_eq!(chosen.ok(), Some(expected));
    }

    #[test]
    fn the_configured_address_goes_into_sdp() {
        // Behind NAT: bind the local address, advertise the public one.
        let chosen = RtpAddress::choose(ip("10.0.0.5"), Some(ip("203.0.113.7")), |_| None);
        assert_eq!(chosen.ok().map(|a| a.advertise), Some(ip("203.0.113.7")));
        // Wildcard listener: bind the wildcard, advertise the configured address.
        let chosen = RtpAddress::choose(ip("0.0.0.0"), Some(ip("192.0.2.10")), |_| None);
        let expected = RtpAddress {
            bind: ip("0.0.0.0"),
            advertise: ip("192.0.2.10"),
        };
        assert_eq!(chosen.ok(), Some(expected));
    }

    #[test]
    fn a_wildcard_listener_without_setting_uses_the_routed_guess_or_fails() {
        let chosen = RtpAddress::choose(ip("::"), None, |_| Some(ip("2001:db8::5")));
        assert_eq!(chosen.ok().map(|a| a.advertise), Some(ip("2001:db8::5")));
        let none = RtpAddress::choose(ip("0.0.0.0"), None, |_| None);
        assert!(matches!(none, Err(MediaError::NoRtpAddress(_))), "{none:?}");
        let wildcard_guess = RtpAddress::choose(ip("0.0.0.0"), None, |_| Some(ip("0.0.0.0")));
        assert!(wildcard_guess.is_err());
    }

    #[test]
    fn a_wildcard_or_multicast_setting_is_refused() {
        // c=0.0.0.0 would put every call on hold (RFC 3264 §8.4).
        for bad in ["0.0.0.0", "::", "239.1.1.1"] {
            let chosen = RtpAddress::choose(ip("0.0.0.0"), Some(ip(bad)), |_| None);
            assert!(
                matches!(chosen, Err(MediaError::UnusableRtpAddress(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_routed_guess_is_concrete_when_there_is_a_route() {
        // No route (an isolated sandbox) gives None; a route gives a concrete address.
        if let Some(guess) = routed_address(ip("0.0.0.0")) {
            assert!(!guess.is_unspecified() && guess.is_ipv4(), "{guess}");
        }
    }
}
