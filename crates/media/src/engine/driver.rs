//! The one task that drives every session: every 20 ms it drains each session's socket,
//! checks time-outs, sends the due packet and forwards events. Commands from handles are
//! applied as they arrive. No task or timer per session or packet.

use std::collections::HashMap;
use std::io::ErrorKind;
use std::sync::{Arc, PoisonError};
use std::time::Instant;

use tokio::sync::mpsc;
use tokio::time::MissedTickBehavior;

use super::pacing::PacingCounters;
use super::{Command, Locals, MediaEvent, SessionId};
use crate::rtp::{PortLease, MAX_PACKET};
use crate::session::{Session, SessionEvent, PTIME};

/// At most this many datagrams are read per session per tick, so a flood cannot starve the
/// other sessions; the kernel drops the rest.
const MAX_READS_PER_TICK: usize = 32;

/// The tick grid: ticks are due at `origin + k·20 ms` (Skip keeps them there).
#[derive(Debug, Clone, Copy)]
struct Grid {
    origin: Instant,
}

impl Grid {
    /// The first tick due at or after `now`. Sessions start their slots on it, so every
    /// slot coincides with a tick: a tick late by less than half a slot sends exactly that
    /// slot. (A slot halfway between ticks would flip between two ticks with tiny jitter,
    /// giving 0 ms / 40 ms gaps.)
    fn next_tick(self, now: Instant) -> Instant {
        let since = now.saturating_duration_since(self.origin).as_micros();
        let period = PTIME.as_micros();
        let ticks = since.div_ceil(period);
        self.origin + PTIME * u32::try_from(ticks).unwrap_or(u32::MAX)
    }
}

struct Entry {
    session: Session,
    lease: PortLease,
    /// When the last packet left (after the send call), for the pacing counters.
    last_sent: Option<Instant>,
}

pub(super) async fn run(
    mut commands: mpsc::UnboundedReceiver<Command>,
    events: mpsc::UnboundedSender<MediaEvent>,
    pacing: Arc<PacingCounters>,
    locals: Locals,
) {
    let mut sessions: HashMap<SessionId, Entry> = HashMap::new();
    let origin = tokio::time::Instant::now();
    let grid = Grid {
        origin: origin.into_std(),
    };
    let mut ticker = tokio::time::interval_at(origin, PTIME);
    // Skip keeps ticks on the start + k·20 ms grid: a late tick does not shift the later ones,
    // so sessions (whose slots sit on the same grid) never drift into sending two at once.
    ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut buffer = vec![0u8; MAX_PACKET + 1];
    let mut packet = Vec::with_capacity(MAX_PACKET);
    let mut ended = Vec::new();
    loop {
        tokio::select! {
            command = commands.recv() => match command {
                Some(command) => apply(&mut sessions, command, &events, grid),
                None => break,
            },
            _ = ticker.tick() => {
                let now = Instant::now();
                // Sends first, in one pass, so every session's packet leaves at the same
                // offset into the tick; reading (and DTMF) follows.
                for entry in sessions.values_mut() {
                    send_due(entry, now, &mut packet, &pacing);
                }
                for (id, entry) in &mut sessions {
                    receive(entry, now, &mut buffer);
                    forward_events(*id, &mut entry.session, &events);
                    if entry.session.is_ended() {
                        ended.push(*id);
                    }
                }
                if !ended.is_empty() {
                    let mut locals = locals.lock().unwrap_or_else(PoisonError::into_inner);
                    for id in ended.drain(..) {
                        sessions.remove(&id);
                        locals.remove(&id);
                    }
                }
            }
        }
    }
    tracing::debug!(sessions = sessions.len(), "media driver stopped");
}

fn apply(
    sessions: &mut HashMap<SessionId, Entry>,
    command: Command,
    events: &mpsc::UnboundedSender<MediaEvent>,
    grid: Grid,
) {
    match command {
        Command::Add(id, mut session, lease) => {
            session.align(grid.next_tick(Instant::now()));
            sessions.insert(
                id,
                Entry {
                    session: *session,
                    lease,
                    last_sent: None,
                },
            );
        }
        Command::Close(id) => {
            if let Some(entry) = sessions.remove(&id) {
                tracing::debug!(session = %id, stats = ?entry.session.stats(), "media session closed");
            }
        }
        Command::Negotiated(id, negotiated) => with(sessions, id, |s| s.set_negotiated(negotiated)),
        Command::Play(id, playback, prompts, barge_in) => {
            with(sessions, id, |s| s.play(playback, prompts, barge_in))
        }
        Command::StopPlayback(id) => with(sessions, id, Session::stop_playback),
        Command::Digit(id, digit) => {
            with(sessions, id, |s| s.digit_from_signalling(digit));
            if let Some(entry) = sessions.get_mut(&id) {
                forward_events(id, &mut entry.session, events);
            }
        }
        // The driver runs on its own thread, so this changes that thread only.
        Command::RealtimePriority(priority) => super::realtime::set_fifo(priority),
        Command::SendDigit(id, digit) => with(sessions, id, |s| {
            s.send_digit(digit);
        }),
    }
}

fn with(sessions: &mut HashMap<SessionId, Entry>, id: SessionId, f: impl FnOnce(&mut Session)) {
    if let Some(entry) = sessions.get_mut(&id) {
        f(&mut entry.session);
    }
}

/// Checks time-outs, then sends the packet due now (normally exactly one).
fn send_due(entry: &mut Entry, now: Instant, packet: &mut Vec<u8>, pacing: &PacingCounters) {
    entry.session.handle_timeout(now);
    while let Some(to) = entry.session.poll_transmit(now, packet) {
        // A full socket buffer drops this packet; the next tick sends the next one.
        let _ = entry.lease.socket.send_to(packet, to);
        let sent = Instant::now();
        pacing.record(entry.last_sent.replace(sent), sent);
    }
}

/// Drains what arrived since the last tick (bounded, so a flood cannot starve the others).
fn receive(entry: &mut Entry, now: Instant, buffer: &mut [u8]) {
    for _ in 0..MAX_READS_PER_TICK {
        match entry.lease.socket.recv_from(buffer) {
            // A datagram filling the buffer was larger than MAX_PACKET (truncated): the
            // session drops it by length.
            Ok((len, from)) => entry.session.handle_datagram(now, from, &buffer[..len]),
            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
            // ICMP port unreachable from an earlier send surfaces here on Linux; ignore it.
            Err(_) => continue,
        }
    }
}

fn forward_events(
    id: SessionId,
    session: &mut Session,
    events: &mpsc::UnboundedSender<MediaEvent>,
) {
    while let Some(event) = session.poll_event() {
        let event = match event {
            SessionEvent::Digit { digit, source } => MediaEvent::Digit { id, digit, source },
            SessionEvent::PlaybackDone {
                playback,
                interrupted,
            } => MediaEvent::PlaybackDone {
                id,
                playback,
                interrupted,
            },
            SessionEvent::Ended(reason) => {
                tracing::debug!(session = %id, ?reason, stats = ?session.stats(), "media session ended");
                MediaEvent::Ended { id, reason }
            }
        };
        // Nobody listening is not an error for the media path.
        let _ = events.send(event);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn next_tick_is_on_the_grid_at_or_after_now() {
        let origin = Instant::now();
        let grid = Grid { origin };
        let ms = |n: u64| Duration::from_micros(n * 100);
        assert_eq!(grid.next_tick(origin), origin);
        assert_eq!(grid.next_tick(origin + ms(1)), origin + ms(200));
        assert_eq!(grid.next_tick(origin + ms(200)), origin + ms(200));
        assert_eq!(grid.next_tick(origin + ms(2001)), origin + ms(2200));
    }
}
