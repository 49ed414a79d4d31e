//! RTCP (RFC 3550 §6): enough to recognise and walk a compound packet received on the RTP
//! port, and to build the sender report and BYE a session sends. Nothing here panics on
//! garbage.

use thiserror::Error;

/// Sender report.
pub const SR: u8 = 200;
/// Receiver report.
pub const RR: u8 = 201;
/// Source description.
pub const SDES: u8 = 202;
/// Goodbye.
pub const BYE: u8 = 203;

/// Why a datagram is not a valid compound RTCP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum RtcpError {
    /// A packet's length field runs past the datagram, or a header is cut.
    #[error("RTCP truncated at byte {offset}")]
    Truncated {
        /// Offset of the packet that does not fit.
        offset: usize,
    },
    /// The version field is not 2.
    #[error("RTCP version {0}, expected 2")]
    BadVersion(u8),
}

/// One packet of a compound RTCP datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtcpItem {
    /// Packet type (200 SR, 201 RR, 202 SDES, 203 BYE, …).
    pub packet_type: u8,
    /// Report count / subtype (5 bits).
    pub count: u8,
    /// The first SSRC of the packet, when it has one.
    pub ssrc: Option<u32>,
}

/// Walks a compound RTCP datagram (RFC 3550 §6.1).
pub fn parse(datagram: &[u8]) -> Result<Vec<RtcpItem>, RtcpError> {
    let mut items = Vec::new();
    let mut offset = 0;
    while offset < datagram.len() {
        let header = datagram
            .get(offset..offset + 4)
            .ok_or(RtcpError::Truncated { offset })?;
        let version = header[0] >> 6;
        if version != 2 {
            return Err(RtcpError::BadVersion(version));
        }
        let words = usize::from(u16::from_be_bytes([header[2], header[3]]));
        let end = offset + 4 * (words + 1);
        if end > datagram.len() {
            return Err(RtcpError::Truncated { offset });
        }
        let ssrc = datagram
            .get(offset + 4..offset + 8)
            .filter(|_| words >= 1)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
        items.push(RtcpItem {
            packet_type: header[1],
            count: header[0] & 0x1F,
            ssrc,
        });
        offset = end;
    }
    Ok(items)
}

/// Sender-side counters for a sender report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SenderInfo {
    /// Our SSRC.
    pub ssrc: u32,
    /// NTP timestamp (seconds since 1900 in the high 32 bits, fraction in the low 32).
    pub ntp: u64,
    /// RTP timestamp matching `ntp`.
    pub rtp_timestamp: u32,
    /// Packets sent.
    pub packets: u32,
    /// Payload octets sent.
    pub octets: u32,
}

/// Appends a sender report with no report blocks (RFC 3550 §6.4.1).
pub fn write_sender_report(info: &SenderInfo, out: &mut Vec<u8>) {
    out.extend_from_slice(&[0x80, SR, 0, 6]);
    out.extend_from_slice(&info.ssrc.to_be_bytes());
    out.extend_from_slice(&info.ntp.to_be_bytes());
    out.extend_from_slice(&info.rtp_timestamp.to_be_bytes());
    out.extend_from_slice(&info.packets.to_be_bytes());
    out.extend_from_slice(&info.octets.to_be_bytes());
}

/// Appends a BYE for one SSRC (RFC 3550 §6.6).
pub fn write_bye(ssrc: u32, out: &mut Vec<u8>) {
    out.extend_from_slice(&[0x81, BYE, 0, 1]);
    out.extend_from_slice(&ssrc.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3550_6_1_compound_sr_then_bye() {
        let mut bytes = Vec::new();
        let info = SenderInfo {
            ssrc: 42,
            ntp: 1 << 32,
            rtp_timestamp: 160,
            packets: 1,
            octets: 160,
        };
        write_sender_report(&info, &mut bytes);
        write_bye(42, &mut bytes);
        assert!(super::super::is_rtcp(&bytes));
        let items = parse(&bytes).unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].packet_type, SR);
        assert_eq!(items[0].ssrc, Some(42));
        assert_eq!(
            items[1],
            RtcpItem {
                packet_type: BYE,
                count: 1,
                ssrc: Some(42)
            }
        );
    }

    // HD-SEC-5: nothing malformed crashes the server.
    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(parse(&[0x80, 200, 0xFF, 0xFF]).is_err());
        assert!(parse(&[0x80, 200]).is_err());
        assert_eq!(parse(&[0x00, 200, 0, 0]), Err(RtcpError::BadVersion(0)));
        assert_eq!(parse(&[0x80, 201, 0, 0]).unwrap()[0].ssrc, None);
        for n in 0..64u8 {
            let _ = parse(&[0x80 | n, 200, 0, n % 3, 1, 2, 3]);
        }
    }
}
