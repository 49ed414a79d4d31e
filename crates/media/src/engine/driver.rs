//! The one task that drives every session: every 20 ms it drains each session's socket,
//! checks time-outs, sends the due packet and forwards events. Commands from handles are
//! applied as they arrive. No task or timer per session or packet.

use std::collections::HashMap;
use std::io::ErrorKind;
use std::time::Instant;

use tokio::sync::mpsc;
use tokio::time::MissedTickBehavior;

use super::{Command, MediaEvent, SessionId};
use crate::rtp::{PortLease, MAX_PACKET};
use crate::session::{Session, SessionEvent, PTIME};

/// At most this many datagrams are read per session per tick, so a flood cannot starve the
/// other sessions; the kernel drops the rest.
const MAX_READS_PER_TICK: usize = 32;

struct Entry {
    session: Session,
    lease: PortLease,
}

pub(super) async fn run(
    mut commands: mpsc::UnboundedReceiver<Command>,
    events: mpsc::UnboundedSender<MediaEvent>,
) {
    let mut sessions: HashMap<SessionId, Entry> = HashMap::new();
    let mut ticker = tokio::time::interval(PTIME);
    // Skip keeps ticks on the start + k·20 ms grid: a late tick does not shift the later ones,
    // so sessions (whose slots sit on the same grid) never drift into sending two at once.
    ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut buffer = vec![0u8; MAX_PACKET + 1];
    let mut packet = Vec::with_capacity(MAX_PACKET);
    let mut ended = Vec::new();
    loop {
        tokio::select! {
            command = commands.recv() => match command {
                Some(command) => apply(&mut sessions, command, &events),
                None => break,
            },
            _ = ticker.tick() => {
                let now = Instant::now();
                // Sends first, in one pass, so every session's packet leaves at the same
                // offset into the tick; reading (and DTMF) follows.
                for entry in sessions.values_mut() {
                    send_due(entry, now, &mut packet);
                }
                for (id, entry) in &mut sessions {
                    receive(entry, now, &mut buffer);
                    forward_events(*id, &mut entry.session, &events);
                    if entry.session.is_ended() {
                        ended.push(*id);
                    }
                }
                for id in ended.drain(..) {
                    sessions.remove(&id);
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
) {
    match command {
        Command::Add(id, session, lease) => {
            sessions.insert(
                id,
                Entry {
                    session: *session,
                    lease,
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
fn send_due(entry: &mut Entry, now: Instant, packet: &mut Vec<u8>) {
    entry.session.handle_timeout(now);
    while let Some(to) = entry.session.poll_transmit(now, packet) {
        // A full socket buffer drops this packet; the next tick sends the next one.
        let _ = entry.lease.socket.send_to(packet, to);
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
