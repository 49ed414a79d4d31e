//! RFC 4733 telephone-event: the 4-byte payload, a receiver that turns a stream of event
//! packets into one digit per key press, and a sender that paces the packets of one press.

use super::Digit;

/// A telephone-event payload (RFC 4733 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventPayload {
    /// Event code (0–15 for DTMF).
    pub event: u8,
    /// E bit: the last packets of the event.
    pub end: bool,
    /// Volume in -dBm0 (0–63).
    pub volume: u8,
    /// Duration so far in timestamp units.
    pub duration: u16,
}

impl EventPayload {
    /// Parses the first four bytes; `None` when shorter. Extra bytes (RFC 4733 §2.5.1.5
    /// multiple events in one packet, rare) are ignored.
    pub fn parse(payload: &[u8]) -> Option<Self> {
        let bytes = payload.get(..4)?;
        Some(Self {
            event: bytes[0],
            end: bytes[1] & 0x80 != 0,
            volume: bytes[1] & 0x3F,
            duration: u16::from_be_bytes([bytes[2], bytes[3]]),
        })
    }

    /// The four payload bytes.
    pub fn to_bytes(self) -> [u8; 4] {
        let duration = self.duration.to_be_bytes();
        [
            self.event,
            (u8::from(self.end) << 7) | (self.volume & 0x3F),
            duration[0],
            duration[1],
        ]
    }
}

/// How many recent event timestamps are remembered to drop duplicates and late repeats.
const HISTORY: usize = 8;

/// Turns telephone-event packets into digits: one digit per event timestamp (RFC 4733
/// §2.5.2.1: all packets of one event share its start timestamp), reported on the first
/// packet seen so barge-in is immediate; repeats, the three redundant end packets and
/// reordered stragglers of an already-reported event are dropped.
#[derive(Debug, Default, Clone)]
pub struct Receiver {
    seen: [Option<u32>; HISTORY],
    next: usize,
}

impl Receiver {
    /// A receiver with no history.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds one packet (its RTP timestamp and payload); returns a digit for a new event.
    pub fn receive(&mut self, timestamp: u32, payload: &[u8]) -> Option<Digit> {
        let event = EventPayload::parse(payload)?;
        let digit = Digit::from_event(event.event)?;
        if self.seen.contains(&Some(timestamp)) {
            return None;
        }
        self.seen[self.next] = Some(timestamp);
        self.next = (self.next + 1) % HISTORY;
        Some(digit)
    }
}

/// Packets per tone before the end packets (5 × 20 ms = 100 ms of tone).
const TONE_PACKETS: u16 = 5;
/// End packets sent (RFC 4733 §2.5.1.4 recommends three).
const END_PACKETS: u16 = 3;

/// Paces the packets for one key press: `TONE_PACKETS` updates with growing duration, the
/// first with the marker bit, then three identical end packets.
#[derive(Debug, Clone)]
pub struct Sender {
    digit: Digit,
    /// RTP timestamp of the event start, shared by all its packets.
    pub timestamp: u32,
    sent: u16,
    samples_per_packet: u16,
}

/// One telephone-event packet to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventPacket {
    /// Marker bit (first packet only).
    pub marker: bool,
    /// RTP timestamp (the event start).
    pub timestamp: u32,
    /// Payload bytes.
    pub payload: [u8; 4],
}

impl Sender {
    /// Starts a press at RTP timestamp `timestamp`.
    pub fn new(digit: Digit, timestamp: u32, samples_per_packet: u16) -> Self {
        Self {
            digit,
            timestamp,
            sent: 0,
            samples_per_packet,
        }
    }

    /// The next packet, or `None` when the press is complete.
    pub fn next_packet(&mut self) -> Option<EventPacket> {
        if self.sent >= TONE_PACKETS + END_PACKETS {
            return None;
        }
        let end = self.sent >= TONE_PACKETS;
        let units = self.sent.min(TONE_PACKETS - 1) + 1;
        let payload = EventPayload {
            event: self.digit.event(),
            end,
            volume: 10,
            duration: units.saturating_mul(self.samples_per_packet),
        };
        let marker = self.sent == 0;
        self.sent += 1;
        Some(EventPacket {
            marker,
            timestamp: self.timestamp,
            payload: payload.to_bytes(),
        })
    }

    /// Total time the press occupies on the wire, in packets.
    pub fn packets_total() -> u16 {
        TONE_PACKETS + END_PACKETS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(c: char) -> Digit {
        Digit::from_char(c).unwrap()
    }

    #[test]
    fn rfc4733_2_5_end_bit_and_redundant_end_packets_give_one_digit() {
        let mut sender = Sender::new(d('5'), 1000, 160);
        let packets: Vec<_> = std::iter::from_fn(|| sender.next_packet()).collect();
        assert_eq!(packets.len(), 8);
        assert!(packets[0].marker && !packets[1].marker);
        assert!(packets.iter().all(|p| p.timestamp == 1000));
        let ends: Vec<_> = packets
            .iter()
            .map(|p| EventPayload::parse(&p.payload).unwrap())
            .collect();
        assert_eq!(ends.iter().filter(|e| e.end).count(), 3);
        assert_eq!(ends[7].duration, 800);
        let mut receiver = Receiver::new();
        let digits: Vec<_> = packets
            .iter()
            .filter_map(|p| receiver.receive(p.timestamp, &p.payload))
            .collect();
        assert_eq!(digits, [d('5')]);
    }

    #[test]
    fn rfc4733_2_5_lost_start_still_reports_and_same_key_twice_is_two_digits() {
        let mut receiver = Receiver::new();
        let end = EventPayload {
            event: 1,
            end: true,
            volume: 10,
            duration: 800,
        }
        .to_bytes();
        assert_eq!(
            receiver.receive(160, &end),
            Some(d('1')),
            "only the end packets arrived"
        );
        assert_eq!(receiver.receive(160, &end), None);
        assert_eq!(
            receiver.receive(2000, &end),
            Some(d('1')),
            "second press, new timestamp"
        );
        // A straggler of the first press arriving late is still a duplicate.
        assert_eq!(receiver.receive(160, &end), None);
    }

    #[test]
    fn garbage_payloads_give_no_digit() {
        let mut receiver = Receiver::new();
        assert_eq!(receiver.receive(1, &[]), None);
        assert_eq!(receiver.receive(1, &[5, 0, 0]), None);
        assert_eq!(
            receiver.receive(1, &[16, 0x80, 0, 160]),
            None,
            "flash is not a digit"
        );
        assert_eq!(
            receiver.receive(2, &[11, 0x0A, 0, 160, 99, 99]),
            Some(d('#'))
        );
    }
}
