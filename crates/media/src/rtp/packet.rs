//! RTP fixed header parse and build (RFC 3550 §5.1). Parsing never panics: every length is
//! checked before it is used, so garbage gives an [`RtpError`].

use thiserror::Error;

/// Length of the fixed RTP header without CSRCs or extension.
pub const RTP_HEADER_LEN: usize = 12;
/// Largest datagram a session accepts; anything larger is dropped unread.
pub const MAX_PACKET: usize = 1500;

/// Why a datagram is not a usable RTP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum RtpError {
    /// Fewer bytes than the header claims.
    #[error("RTP packet truncated: {len} bytes, header needs {needed}")]
    Truncated {
        /// Bytes received.
        len: usize,
        /// Bytes the header, CSRCs, extension and padding need.
        needed: usize,
    },
    /// The version field is not 2.
    #[error("RTP version {0}, expected 2")]
    BadVersion(u8),
    /// The padding count is zero or exceeds the payload.
    #[error("RTP padding of {0} bytes is invalid")]
    BadPadding(u8),
    /// Larger than [`MAX_PACKET`].
    #[error("RTP packet of {0} bytes is too large")]
    TooLarge(usize),
}

/// The fields of the RTP fixed header hotdesk uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpHeader {
    /// Marker bit: start of a talkspurt, or the first packet of a telephone event.
    pub marker: bool,
    /// Payload type (7 bits).
    pub payload_type: u8,
    /// Sequence number.
    pub sequence: u16,
    /// Media timestamp (8 kHz units for G.711 and telephone-event).
    pub timestamp: u32,
    /// Synchronisation source.
    pub ssrc: u32,
}

/// A parsed RTP packet borrowing its payload from the datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpPacket<'a> {
    /// The fixed header.
    pub header: RtpHeader,
    /// Payload with CSRCs, header extension and padding removed.
    pub payload: &'a [u8],
}

impl<'a> RtpPacket<'a> {
    /// Parses a datagram (RFC 3550 §5.1, §5.3.1 extension, padding).
    pub fn parse(datagram: &'a [u8]) -> Result<Self, RtpError> {
        let len = datagram.len();
        if len > MAX_PACKET {
            return Err(RtpError::TooLarge(len));
        }
        if len < RTP_HEADER_LEN {
            return Err(RtpError::Truncated {
                len,
                needed: RTP_HEADER_LEN,
            });
        }
        let first = datagram[0];
        let version = first >> 6;
        if version != 2 {
            return Err(RtpError::BadVersion(version));
        }
        let padding = first & 0x20 != 0;
        let extension = first & 0x10 != 0;
        let csrc_count = usize::from(first & 0x0F);
        let mut offset = RTP_HEADER_LEN + 4 * csrc_count;
        if extension {
            let needed = offset + 4;
            let ext = datagram
                .get(offset..needed)
                .ok_or(RtpError::Truncated { len, needed })?;
            let words = usize::from(u16::from_be_bytes([ext[2], ext[3]]));
            offset = needed + 4 * words;
        }
        if offset > len {
            return Err(RtpError::Truncated {
                len,
                needed: offset,
            });
        }
        let mut end = len;
        if padding {
            let count = datagram[len - 1];
            if count == 0 || usize::from(count) > len - offset {
                return Err(RtpError::BadPadding(count));
            }
            end -= usize::from(count);
        }
        let header = RtpHeader {
            marker: datagram[1] & 0x80 != 0,
            payload_type: datagram[1] & 0x7F,
            sequence: u16::from_be_bytes([datagram[2], datagram[3]]),
            timestamp: u32::from_be_bytes([datagram[4], datagram[5], datagram[6], datagram[7]]),
            ssrc: u32::from_be_bytes([datagram[8], datagram[9], datagram[10], datagram[11]]),
        };
        Ok(Self {
            header,
            payload: &datagram[offset..end],
        })
    }
}

impl RtpHeader {
    /// Appends the 12-byte header (no CSRCs, no extension) to `out`.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.push(0x80);
        out.push((u8::from(self.marker) << 7) | (self.payload_type & 0x7F));
        out.extend_from_slice(&self.sequence.to_be_bytes());
        out.extend_from_slice(&self.timestamp.to_be_bytes());
        out.extend_from_slice(&self.ssrc.to_be_bytes());
    }

    /// Builds a whole packet: header then payload.
    pub fn build(&self, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(RTP_HEADER_LEN + payload.len());
        self.write(&mut out);
        out.extend_from_slice(payload);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> RtpHeader {
        RtpHeader {
            marker: true,
            payload_type: 101,
            sequence: 65535,
            timestamp: 0xDEAD_BEEF,
            ssrc: 7,
        }
    }

    #[test]
    fn rfc3550_5_1_build_then_parse() {
        let bytes = header().build(&[1, 2, 3]);
        assert_eq!(bytes.len(), 15);
        let packet = RtpPacket::parse(&bytes).unwrap();
        assert_eq!(packet.header, header());
        assert_eq!(packet.payload, &[1, 2, 3]);
    }

    #[test]
    fn rfc3550_5_1_csrc_extension_and_padding_are_skipped() {
        let mut bytes = header().build(&[]);
        bytes[0] = 0x80 | 0x20 | 0x10 | 0x01; // padding, extension, one CSRC
        bytes.extend_from_slice(&[0, 0, 0, 9]); // CSRC
        bytes.extend_from_slice(&[0xBE, 0xDE, 0, 1, 1, 2, 3, 4]); // one-word extension
        bytes.extend_from_slice(&[0xAA, 0xBB]);
        bytes.extend_from_slice(&[0, 0, 3]); // three bytes of padding
        let packet = RtpPacket::parse(&bytes).unwrap();
        assert_eq!(packet.payload, &[0xAA, 0xBB]);
    }

    // HD-SEC-5: nothing malformed crashes the server.
    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert_eq!(
            RtpPacket::parse(&[]),
            Err(RtpError::Truncated { len: 0, needed: 12 })
        );
        assert_eq!(RtpPacket::parse(&[0x40; 12]), Err(RtpError::BadVersion(1)));
        let mut bytes = header().build(&[]);
        bytes[0] = 0x8F; // 15 CSRCs claimed, none present
        assert!(matches!(
            RtpPacket::parse(&bytes),
            Err(RtpError::Truncated { .. })
        ));
        bytes[0] = 0x90; // extension claimed, absent
        assert!(matches!(
            RtpPacket::parse(&bytes),
            Err(RtpError::Truncated { .. })
        ));
        let mut bytes = header().build(&[0, 0, 0, 0]);
        bytes[0] = 0xA0;
        *bytes.last_mut().unwrap() = 200;
        assert_eq!(RtpPacket::parse(&bytes), Err(RtpError::BadPadding(200)));
        assert_eq!(
            RtpPacket::parse(&vec![0x80; 4000]),
            Err(RtpError::TooLarge(4000))
        );
        // Every prefix and every single-byte corruption of a valid packet parses or errors.
        let good = header().build(&[9; 40]);
        for cut in 0..good.len() {
            let _ = RtpPacket::parse(&good[..cut]);
        }
        for i in 0..good.len() {
            for v in [0u8, 0x0F, 0x10, 0x20, 0xFF] {
                let mut bad = good.clone();
                bad[i] = v;
                let _ = RtpPacket::parse(&bad);
            }
        }
    }
}
