//! RTP and RTCP (RFC 3550) packets, and the UDP port range sessions draw from.

mod packet;
mod ports;
pub mod rtcp;

pub use packet::{RtpError, RtpHeader, RtpPacket, MAX_PACKET, RTP_HEADER_LEN};
pub use ports::{PortLease, PortPool, PortRange};

/// RFC 5761 §4: with RTP and RTCP on one port, a second byte of 192..=223 (RTCP packet types
/// 192–223; RTP payload types 64–95 with or without the marker) is RTCP.
pub fn is_rtcp(datagram: &[u8]) -> bool {
    datagram.len() >= 2 && (192..=223).contains(&datagram[1])
}
