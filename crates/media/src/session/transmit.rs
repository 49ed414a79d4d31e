//! The sending half of [`Session`]: one packet per 20 ms slot (prompt audio, silence, or
//! RFC 4733 events while a digit is being sent).

use std::time::Instant;

use super::{Session, SessionEvent, Transmit, MAX_LAG, PTIME, SAMPLES_PER_PACKET};
use crate::dtmf::rfc4733;
use crate::rtp::RtpHeader;
use crate::sdp::Direction;

impl Session {
    /// Writes the next due packet into `out` (cleared first) and returns where to send it.
    /// A packet is due when its slot starts within half a packet time of `now`, so a driver
    /// ticking every 20 ms with some jitter sends exactly one per tick.
    pub fn poll_transmit(&mut self, now: Instant, out: &mut Vec<u8>) -> Option<Transmit> {
        loop {
            if self.ended || now + PTIME / 2 < self.next_send {
                return None;
            }
            if now > self.next_send + MAX_LAG {
                // The driver stalled: skip the missed slots (timestamps keep media time).
                let behind = now.duration_since(self.next_send).as_micros() / PTIME.as_micros();
                let slots = u32::try_from(behind).unwrap_or(u32::MAX);
                self.next_send += PTIME * slots;
                self.timestamp = self
                    .timestamp
                    .wrapping_add(slots.wrapping_mul(SAMPLES_PER_PACKET as u32));
            }
            out.clear();
            self.write_frame(out);
            self.next_send += PTIME;
            self.timestamp = self.timestamp.wrapping_add(SAMPLES_PER_PACKET as u32);
            let may_send = matches!(
                self.negotiated.direction,
                Direction::SendRecv | Direction::SendOnly
            );
            if let (Some(to), true) = (self.remote, may_send) {
                self.sequence = self.sequence.wrapping_add(1);
                self.stats.sent += 1;
                return Some(to);
            }
        }
    }

    /// Builds the packet for the current slot: a telephone-event packet while sending a
    /// digit, else 20 ms of prompt audio or silence.
    fn write_frame(&mut self, out: &mut Vec<u8>) {
        if self.sending.is_none() {
            if let Some(digit) = self.dtmf_out.pop_front() {
                self.sending = Some(rfc4733::Sender::new(
                    digit,
                    self.timestamp,
                    SAMPLES_PER_PACKET as u16,
                ));
            }
        }
        if let (Some(sender), Some(pt)) = (self.sending.as_mut(), self.negotiated.telephone_event) {
            if let Some(packet) = sender.next_packet() {
                let header = RtpHeader {
                    marker: packet.marker,
                    payload_type: pt,
                    sequence: self.sequence,
                    timestamp: packet.timestamp,
                    ssrc: self.ssrc,
                };
                header.write(out);
                out.extend_from_slice(&packet.payload);
                return;
            }
            self.sending = None;
            self.marker = true;
        }
        let header = RtpHeader {
            marker: std::mem::take(&mut self.marker),
            payload_type: self.negotiated.payload_type,
            sequence: self.sequence,
            timestamp: self.timestamp,
            ssrc: self.ssrc,
        };
        header.write(out);
        if self
            .player
            .next_frame(self.negotiated.codec, SAMPLES_PER_PACKET, out)
        {
            if let Some((playback, _)) = self.playback.take() {
                self.events.push_back(SessionEvent::PlaybackDone {
                    playback,
                    interrupted: false,
                });
            }
        }
    }
}
