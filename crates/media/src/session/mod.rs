//! One RTP session as pure logic: datagrams, commands and `now` in; packets to send,
//! events and the next deadline out. No socket, no clock, no task: the engine's driver
//! (or a test in virtual time) calls it.
//!
//! Contract, as in str0m/quinn: after any input, call [`Session::handle_timeout`], then
//! [`Session::poll_transmit`] until `None`, then [`Session::poll_event`] until `None`;
//! wake again at [`Session::poll_timeout`].

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::dtmf::inband::InbandDetector;
use crate::dtmf::{rfc4733, Digit, DigitSource};
use crate::prompt::{Player, Prompt};
use crate::rtp::{is_rtcp, RtpHeader, RtpPacket, MAX_PACKET};
use crate::sdp::{Direction, Negotiated};

/// Packetisation: 20 ms of 8 kHz audio.
pub const PTIME: Duration = Duration::from_millis(20);
/// Samples (and timestamp units) per packet.
pub const SAMPLES_PER_PACKET: usize = 160;
/// A driver that falls this far behind skips ahead instead of sending a burst.
const MAX_LAG: Duration = Duration::from_millis(100);

/// When a session gives up on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionConfig {
    /// No valid RTP or RTCP from the peer for this long ends the session (a vanished caller).
    pub no_media_timeout: Duration,
    /// Hard cap on a session's life (a caller that never hangs up).
    pub max_duration: Duration,
    /// Run the Goertzel detector when telephone-event was not negotiated.
    pub inband_dtmf: bool,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            no_media_timeout: Duration::from_secs(20),
            max_duration: Duration::from_secs(600),
            inband_dtmf: true,
        }
    }
}

/// Why a session ended by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// Nothing valid arrived for [`SessionConfig::no_media_timeout`].
    NoMedia,
    /// [`SessionConfig::max_duration`] passed.
    MaxDuration,
}

/// What a session reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEvent {
    /// A key press.
    Digit {
        /// The key.
        digit: Digit,
        /// Its carrier.
        source: DigitSource,
    },
    /// A playback ended: it ran out (`interrupted: false`) or a digit cut it (barge-in).
    /// A playback replaced by another or stopped by the caller reports nothing.
    PlaybackDone {
        /// The id given to [`Session::play`].
        playback: u64,
        /// Whether a digit cut it short.
        interrupted: bool,
    },
    /// The session ended itself; the driver frees it.
    Ended(EndReason),
}

/// Counters for tests, logs and benchmarks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SessionStats {
    /// RTP packets sent.
    pub sent: u64,
    /// Valid RTP packets accepted.
    pub received: u64,
    /// Datagrams dropped: garbage, wrong source, wrong SSRC, too large, unknown payload type.
    pub ignored: u64,
}

/// The pure RTP session.
#[derive(Debug)]
pub struct Session {
    negotiated: Negotiated,
    config: SessionConfig,
    ssrc: u32,
    sequence: u16,
    timestamp: u32,
    marker: bool,
    remote: Option<SocketAddr>,
    latched: bool,
    remote_ssrc: Option<u32>,
    next_send: Instant,
    last_activity: Instant,
    started: Instant,
    player: Player,
    playback: Option<(u64, bool)>,
    dtmf_in: rfc4733::Receiver,
    inband: Option<InbandDetector>,
    dtmf_out: VecDeque<Digit>,
    sending: Option<rfc4733::Sender>,
    events: VecDeque<SessionEvent>,
    ended: bool,
    scratch: Vec<i16>,
    stats: SessionStats,
}

/// Where to send the packet [`Session::poll_transmit`] wrote.
pub type Transmit = SocketAddr;

impl Session {
    /// A session starting at `now`. `ssrc`, `sequence` and `timestamp` are the random
    /// initial values RFC 3550 §5.1 asks for (the caller draws them).
    pub fn new(
        now: Instant,
        negotiated: Negotiated,
        config: SessionConfig,
        ssrc: u32,
        sequence: u16,
        timestamp: u32,
    ) -> Self {
        let mut session = Self {
            negotiated,
            config,
            ssrc,
            sequence,
            timestamp,
            marker: true,
            remote: negotiated.remote,
            latched: false,
            remote_ssrc: None,
            next_send: now,
            last_activity: now,
            started: now,
            player: Player::new(),
            playback: None,
            dtmf_in: rfc4733::Receiver::new(),
            inband: None,
            dtmf_out: VecDeque::new(),
            sending: None,
            events: VecDeque::new(),
            ended: false,
            scratch: Vec::with_capacity(SAMPLES_PER_PACKET),
            stats: SessionStats::default(),
        };
        session.set_negotiated(negotiated);
        session
    }

    /// Applies a (re)negotiation, e.g. the answer to our offer.
    pub fn set_negotiated(&mut self, negotiated: Negotiated) {
        self.negotiated = negotiated;
        if !self.latched {
            self.remote = negotiated.remote;
        }
        let inband = self.config.inband_dtmf && negotiated.telephone_event.is_none();
        self.inband = inband.then(|| self.inband.take().unwrap_or_default());
    }

    /// Our SSRC.
    pub fn ssrc(&self) -> u32 {
        self.ssrc
    }

    /// Where packets go now (SDP address, or the latched source).
    pub fn remote(&self) -> Option<SocketAddr> {
        self.remote
    }

    /// Counters.
    pub fn stats(&self) -> SessionStats {
        self.stats
    }

    /// Whether the session has ended itself.
    pub fn is_ended(&self) -> bool {
        self.ended
    }

    /// Feeds one datagram received on the session's port.
    pub fn handle_datagram(&mut self, now: Instant, from: SocketAddr, datagram: &[u8]) {
        if self.ended || datagram.len() > MAX_PACKET {
            self.stats.ignored += 1;
            return;
        }
        if self.latched && Some(from) != self.remote {
            self.stats.ignored += 1;
            return;
        }
        if is_rtcp(datagram) {
            // RTCP from the peer proves it is alive (a phone on hold sends RTCP only).
            if crate::rtp::rtcp::parse(datagram).is_ok() && self.latched {
                self.last_activity = now;
            } else {
                self.stats.ignored += 1;
            }
            return;
        }
        let Ok(packet) = RtpPacket::parse(datagram) else {
            self.stats.ignored += 1;
            return;
        };
        let header = packet.header;
        let audio = header.payload_type == self.negotiated.payload_type;
        let event = Some(header.payload_type) == self.negotiated.telephone_event;
        if !(audio || event) || self.remote_ssrc.is_some_and(|s| s != header.ssrc) {
            self.stats.ignored += 1;
            return;
        }
        if !self.latched {
            // Symmetric RTP (RFC 4961): answer to where the phone really sends from.
            self.latched = true;
            self.remote = Some(from);
            self.remote_ssrc = Some(header.ssrc);
        }
        self.last_activity = now;
        self.stats.received += 1;
        if event {
            if let Some(digit) = self.dtmf_in.receive(header.timestamp, packet.payload) {
                self.digit(digit, DigitSource::Rfc4733);
            }
        } else if let Some(detector) = self.inband.as_mut() {
            self.scratch.clear();
            self.negotiated
                .codec
                .decode_into(packet.payload, &mut self.scratch);
            let mut found = None;
            detector.push(&self.scratch, |d| found = found.or(Some(d)));
            if let Some(digit) = found {
                self.digit(digit, DigitSource::InBand);
            }
        }
    }

    /// A digit that came by signalling (SIP INFO): same barge-in and event as in-stream ones.
    pub fn digit_from_signalling(&mut self, digit: Digit) {
        self.digit(digit, DigitSource::SipInfo);
    }

    fn digit(&mut self, digit: Digit, source: DigitSource) {
        if self.ended {
            return;
        }
        self.events.push_back(SessionEvent::Digit { digit, source });
        if let Some((playback, true)) = self.playback {
            self.player.stop();
            self.playback = None;
            self.events.push_back(SessionEvent::PlaybackDone {
                playback,
                interrupted: true,
            });
        }
    }

    /// Plays prompts in order, replacing any current playback. With `barge_in`, a digit stops it.
    pub fn play(&mut self, playback: u64, prompts: Vec<Arc<Prompt>>, barge_in: bool) {
        self.player.play(prompts);
        self.playback = Some((playback, barge_in));
    }

    /// Stops playback without an event.
    pub fn stop_playback(&mut self) {
        self.player.stop();
        self.playback = None;
    }

    /// Queues a digit to send as RFC 4733 events; `false` when telephone-event was not
    /// negotiated (nothing is sent).
    pub fn send_digit(&mut self, digit: Digit) -> bool {
        if self.negotiated.telephone_event.is_none() {
            return false;
        }
        self.dtmf_out.push_back(digit);
        true
    }

    /// Checks the time-outs.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.ended {
            return;
        }
        let reason = if now >= self.started + self.config.max_duration {
            Some(EndReason::MaxDuration)
        } else if now >= self.last_activity + self.config.no_media_timeout {
            Some(EndReason::NoMedia)
        } else {
            None
        };
        if let Some(reason) = reason {
            self.ended = true;
            self.player.stop();
            self.events.push_back(SessionEvent::Ended(reason));
        }
    }

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

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<SessionEvent> {
        self.events.pop_front()
    }

    /// When the session next needs [`Session::poll_transmit`] or [`Session::handle_timeout`].
    pub fn poll_timeout(&self) -> Instant {
        (self.last_activity + self.config.no_media_timeout)
            .min(self.started + self.config.max_duration)
            .min(self.next_send)
    }
}

#[cfg(test)]
mod tests;
