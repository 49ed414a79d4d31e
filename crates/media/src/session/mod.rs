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
use crate::rtp::{is_rtcp, RtpPacket, MAX_PACKET};
use crate::sdp::Negotiated;

/// Packetisation: 20 ms of 8 kHz audio.
pub const PTIME: Duration = Duration::from_millis(20);
/// Samples (and timestamp units) per packet.
pub const SAMPLES_PER_PACKET: usize = 160;
/// After this long without a packet of the latched stream, another source or SSRC may
/// take over (RFC 4961 latching again).
const RELATCH_AFTER: Duration = Duration::from_secs(1);
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
    last_latched: Instant,
    started: Instant,
    player: Player,
    playback: Option<(u64, bool)>,
    dtmf_in: rfc4733::Receiver,
    inband: Option<InbandDetector>,
    seen_rfc4733: bool,
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
            last_latched: now,
            started: now,
            player: Player::new(),
            playback: None,
            dtmf_in: rfc4733::Receiver::new(),
            inband: None,
            seen_rfc4733: false,
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
        let inband =
            self.config.inband_dtmf && negotiated.telephone_event.is_none() && !self.seen_rfc4733;
        self.inband = inband.then(|| self.inband.take().unwrap_or_default());
    }

    /// Moves the first packet slot to `first_slot` (the driver puts each session's slots
    /// on the steps of its phase of the timer wheel). Only before the first packet.
    pub fn align(&mut self, first_slot: Instant) {
        if self.stats.sent == 0 {
            self.next_send = first_slot;
        }
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
        let known_source = !self.latched || Some(from) == self.remote;
        // The latched stream went quiet: a phone that restarted its stream (new SSRC, new
        // NAT binding) may take over.
        let stale =
            self.latched && now.saturating_duration_since(self.last_latched) >= RELATCH_AFTER;
        if !known_source && !stale {
            self.stats.ignored += 1;
            return;
        }
        if is_rtcp(datagram) {
            // RTCP from the peer proves it is alive (a phone on hold sends RTCP only).
            if self.latched && known_source && crate::rtp::rtcp::parse(datagram).is_ok() {
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
        let same_stream = known_source && self.remote_ssrc.is_none_or(|s| s == header.ssrc);
        if !same_stream && !stale {
            self.stats.ignored += 1;
            return;
        }
        let audio = header.payload_type == self.negotiated.payload_type;
        let event = match self.negotiated.telephone_event {
            Some(pt) => header.payload_type == pt,
            // Some phones send RFC 4733 without negotiating it: a dynamic payload type
            // carrying exactly one 4-byte event is taken as telephone-event.
            None => (96..=127).contains(&header.payload_type) && packet.payload.len() == 4,
        };
        if !(audio || event) {
            // Comfort noise or a codec we did not pick: the peer is alive, but nothing is
            // latched on it.
            if self.latched && same_stream {
                self.last_activity = now;
            }
            self.stats.ignored += 1;
            return;
        }
        if !self.latched || !same_stream {
            // Symmetric RTP (RFC 4961): answer to where the phone really sends from.
            if self.latched {
                tracing::debug!(%from, ssrc = header.ssrc, "RTP stream re-latched after silence");
            }
            self.latched = true;
            self.remote = Some(from);
            self.remote_ssrc = Some(header.ssrc);
        }
        self.last_latched = now;
        self.last_activity = now;
        self.stats.received += 1;
        if event {
            // A phone that sends RFC 4733 does not need the in-band detector (and a phone
            // sending both would otherwise give every digit twice).
            self.inband = None;
            self.seen_rfc4733 = true;
            if let Some(digit) = self.dtmf_in.receive(now, header.timestamp, packet.payload) {
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

mod transmit;

#[cfg(test)]
mod tests;
