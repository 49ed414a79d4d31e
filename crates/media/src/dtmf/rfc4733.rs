//! RFC 4733 telephone-event: the 4-byte payload, a receiver that turns a stream of event
//! packets into one digit per key press, and a sender that paces the packets of one press.

use std::time::{Duration, Instant};

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

/// How many recent events are remembered to drop duplicates and late repeats.
const HISTORY: usize = 8;
/// A packet repeating an ended event's timestamp but restarting its duration is a new key
/// press when it comes at least this long after that event's last packet. SIPp replays
/// the same capture (same timestamp) for each press of a key; a reordered straggler of the
/// old event arrives within a few milliseconds.
const REPLAY_GAP: Duration = Duration::from_millis(40);

#[derive(Debug, Clone, Copy)]
struct Seen {
    timestamp: u32,
    last: Instant,
    ended: bool,
    longest: u16,
}

/// Turns telephone-event packets into digits: one digit per event (RFC 4733 §2.5.2.1: all
/// packets of one event share its start timestamp), reported on the first packet seen so
/// barge-in is immediate; repeats, the three redundant end packets and reordered stragglers
/// of an already-reported event are dropped. A press replayed with the same timestamp after
/// the old one ended (SIPp's pcap play) counts again.
#[derive(Debug, Default, Clone)]
pub struct Receiver {
    seen: [Option<Seen>; HISTORY],
    next: usize,
}

impl Receiver {
    /// A receiver with no history.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds one packet (arrival time, RTP timestamp, payload); returns a digit for a new
    /// key press.
    pub fn receive(&mut self, now: Instant, timestamp: u32, payload: &[u8]) -> Option<Digit> {
        let event = EventPayload::parse(payload)?;
        let digit = Digit::from_event(event.event)?;
        if let Some(seen) = self
            .seen
            .iter_mut()
            .flatten()
            .find(|s| s.timestamp == timestamp)
        {
            let replay = seen.ended
                && !event.end
                && event.duration < seen.longest
                && now.saturating_duration_since(seen.last) >= REPLAY_GAP;
            if replay {
                *seen = Seen {
                    timestamp,
                    last: now,
                    ended: false,
                    longest: event.duration,
                };
                return Some(digit);
            }
            seen.last = seen.last.max(now);
            seen.ended |= event.end;
            seen.longest = seen.longest.max(event.duration);
            return None;
        }
        self.seen[self.next] = Some(Seen {
            timestamp,
            last: now,
            ended: event.end,
            longest: event.duration,
        });
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

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// The telephone-event payloads of SIPp's `dtmf_2833_1.pcap` (sip-tester), in order:
    /// seven updates 20 ms apart, then the end packet three times back to back; every
    /// packet has RTP timestamp 13280.
    const SIPP_KEY_1: [[u8; 4]; 10] = [
        [0x01, 0x0a, 0x00, 0x00],
        [0x01, 0x0a, 0x01, 0x40],
        [0x01, 0x0a, 0x02, 0x80],
        [0x01, 0x0a, 0x03, 0xc0],
        [0x01, 0x0a, 0x05, 0x00],
        [0x01, 0x0a, 0x06, 0x40],
        [0x01, 0x0a, 0x07, 0x80],
        [0x01, 0x8a, 0x08, 0xc0],
        [0x01, 0x8a, 0x08, 0xc0],
        [0x01, 0x8a, 0x08, 0xc0],
    ];

    fn play_sipp_capture(receiver: &mut Receiver, start: Instant) -> Vec<Digit> {
        SIPP_KEY_1
            .iter()
            .enumerate()
            .filter_map(|(i, payload)| {
                receiver.receive(start + ms(20 * i.min(7) as u64), 13280, payload)
            })
            .collect()
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
        let now = Instant::now();
        let digits: Vec<_> = packets
            .iter()
            .filter_map(|p| receiver.receive(now, p.timestamp, &p.payload))
            .collect();
        assert_eq!(digits, [d('5')]);
    }

    #[test]
    fn rfc4733_2_5_lost_start_still_reports_and_same_key_twice_is_two_digits() {
        let mut receiver = Receiver::new();
        let t0 = Instant::now();
        let end = EventPayload {
            event: 1,
            end: true,
            volume: 10,
            duration: 800,
        }
        .to_bytes();
        assert_eq!(
            receiver.receive(t0, 160, &end),
            Some(d('1')),
            "only the end packets arrived"
        );
        assert_eq!(receiver.receive(t0, 160, &end), None);
        assert_eq!(
            receiver.receive(t0 + ms(300), 2000, &end),
            Some(d('1')),
            "second press, new timestamp"
        );
        // A straggler of the first press arriving late is still a duplicate.
        let update = EventPayload {
            event: 1,
            end: false,
            volume: 10,
            duration: 320,
        }
        .to_bytes();
        assert_eq!(receiver.receive(t0 + ms(5), 160, &update), None);
    }

    #[test]
    fn sipp_pcap_replayed_twice_is_two_presses_and_stragglers_are_not() {
        let mut receiver = Receiver::new();
        let t0 = Instant::now();
        assert_eq!(play_sipp_capture(&mut receiver, t0), [d('1')]);
        // A reordered update of the same press right after its end: not a new press.
        assert_eq!(receiver.receive(t0 + ms(142), 13280, &SIPP_KEY_1[5]), None);
        // The same capture played again ("1004" plays the 0 capture twice).
        assert_eq!(play_sipp_capture(&mut receiver, t0 + ms(400)), [d('1')]);
    }

    #[test]
    fn garbage_payloads_give_no_digit() {
        let mut receiver = Receiver::new();
        let now = Instant::now();
        assert_eq!(receiver.receive(now, 1, &[]), None);
        assert_eq!(receiver.receive(now, 1, &[5, 0, 0]), None);
        assert_eq!(
            receiver.receive(now, 1, &[16, 0x80, 0, 160]),
            None,
            "flash is not a digit"
        );
        assert_eq!(
            receiver.receive(now, 2, &[11, 0x0A, 0, 160, 99, 99]),
            Some(d('#'))
        );
    }
}
