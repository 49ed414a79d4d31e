//! The one thread that drives every session. Sessions are spread over the 20 ms period by
//! the [`Wheel`]; every 1 ms the driver serves the sessions whose phase is due: checks
//! time-outs, sends the due packet and forwards events; then it reads the sockets the
//! epoll set reports ([`Readiness`]). Commands from handles are applied at the next step. No task or timer per session or packet.

use std::collections::HashMap;
use std::io::ErrorKind;
use std::os::fd::AsRawFd;
use std::sync::{Arc, PoisonError};
use std::time::Instant;

use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TryRecvError;

use super::clock::Sleeper;
use super::pacing::PacingCounters;
use super::readiness::Readiness;
use super::wheel::Wheel;
use super::{Command, Locals, MediaEvent, SessionId};
use crate::rtp::{PortLease, MAX_PACKET};
use crate::session::{Session, SessionEvent};

/// At most this many datagrams are read per session per visit, so a flood cannot starve the
/// other sessions; the kernel drops the rest. A watched socket is visited at every 1 ms
/// step while it has input (2 per step: 40 per 20 ms packet time, where a phone sends one);
/// a socket read only at its phase gets the same budget per 20 ms.
const READS_PER_STEP: usize = 2;
const READS_PER_PHASE: usize = 40;

struct Entry {
    session: Session,
    lease: PortLease,
    /// When the last packet left (after the send call), for the pacing counters.
    last_sent: Option<Instant>,
    /// Whether the socket is in the epoll set; if adding it failed, the driver tries to
    /// read it at each of its steps instead.
    watched: bool,
}

/// The driver's state: sessions, and the wheel saying whose turn it is.
struct Driver {
    sessions: HashMap<SessionId, Entry>,
    wheel: Wheel,
    readiness: Readiness,
    events: mpsc::UnboundedSender<MediaEvent>,
}

/// Runs on the engine's thread until every handle is gone. Sleeps to each 1 ms step's
/// absolute deadline, applies the commands that came meanwhile, then serves the sessions
/// whose phase is due; with no session it blocks on the command channel.
pub(super) fn run(
    mut commands: mpsc::UnboundedReceiver<Command>,
    events: mpsc::UnboundedSender<MediaEvent>,
    pacing: Arc<PacingCounters>,
    locals: Locals,
    readiness: Readiness,
) {
    let mut driver = Driver {
        sessions: HashMap::new(),
        wheel: Wheel::new(Instant::now()),
        readiness,
        events,
    };
    let sleeper = Sleeper::new();
    let mut buffer = vec![0u8; MAX_PACKET + 1];
    let mut packet = Vec::with_capacity(MAX_PACKET);
    let mut ended = Vec::new();
    loop {
        if driver.sessions.is_empty() {
            match commands.blocking_recv() {
                Some(command) => driver.apply(command),
                None => break,
            }
        }
        loop {
            match commands.try_recv() {
                Ok(command) => driver.apply(command),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    tracing::debug!(sessions = driver.sessions.len(), "media driver stopped");
                    return;
                }
            }
        }
        let now = Instant::now();
        while let Some(due) = driver.wheel.pop_due(now) {
            // Sends first, so each session's packet leaves at the same offset into its
            // step every period; reading (and DTMF) follows.
            for id in due {
                if let Some(entry) = driver.sessions.get_mut(id) {
                    send_due(entry, now, &mut packet, &pacing);
                }
            }
            for id in due {
                if let Some(entry) = driver.sessions.get_mut(id) {
                    if !entry.watched {
                        receive(entry, now, &mut buffer, READS_PER_PHASE);
                    }
                    forward_events(*id, &mut entry.session, &driver.events);
                    if entry.session.is_ended() {
                        ended.push(*id);
                    }
                }
            }
        }
        // What arrived since the last step, for whichever sessions it is.
        for id in driver.readiness.poll() {
            if let Some(entry) = driver.sessions.get_mut(&id) {
                receive(entry, now, &mut buffer, READS_PER_STEP);
                forward_events(id, &mut entry.session, &driver.events);
                if entry.session.is_ended() {
                    ended.push(id);
                }
            }
        }
        if !ended.is_empty() {
            let mut locals = locals.lock().unwrap_or_else(PoisonError::into_inner);
            for id in ended.drain(..) {
                driver.remove(id);
                locals.remove(&id);
            }
        }
        if !driver.sessions.is_empty() {
            sleeper.sleep_until(driver.wheel.next_deadline());
        }
    }
    tracing::debug!("media driver stopped");
}

impl Driver {
    /// Takes a session off the wheel and the epoll set; dropping the entry frees its port.
    fn remove(&mut self, id: SessionId) -> Option<Entry> {
        self.wheel.remove(id);
        let entry = self.sessions.remove(&id)?;
        self.readiness.unwatch(entry.lease.socket.as_raw_fd());
        Some(entry)
    }

    fn apply(&mut self, command: Command) {
        let sessions = &mut self.sessions;
        match command {
            Command::Add(id, mut session, lease) => {
                session.align(self.wheel.insert(id, Instant::now()));
                let watched = match self.readiness.watch(lease.socket.as_raw_fd(), id) {
                    Ok(()) => true,
                    Err(error) => {
                        tracing::warn!(session = %id, %error, "RTP socket polled instead of watched");
                        false
                    }
                };
                sessions.insert(
                    id,
                    Entry {
                        session: *session,
                        lease,
                        last_sent: None,
                        watched,
                    },
                );
            }
            Command::Close(id) => {
                if let Some(entry) = self.remove(id) {
                    tracing::debug!(session = %id, stats = ?entry.session.stats(), "media session closed");
                }
            }
            Command::Negotiated(id, negotiated) => {
                with(sessions, id, |s| s.set_negotiated(negotiated))
            }
            Command::Play(id, playback, prompts, barge_in) => {
                with(sessions, id, |s| s.play(playback, prompts, barge_in))
            }
            Command::StopPlayback(id) => with(sessions, id, Session::stop_playback),
            Command::Digit(id, digit) => {
                with(sessions, id, |s| s.digit_from_signalling(digit));
                if let Some(entry) = sessions.get_mut(&id) {
                    forward_events(id, &mut entry.session, &self.events);
                }
            }
            // The driver runs on its own thread, so this changes that thread only.
            Command::RealtimePriority(priority) => super::realtime::set_fifo(priority),
            Command::SendDigit(id, digit) => with(sessions, id, |s| {
                s.send_digit(digit);
            }),
        }
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
        // A full socket buffer drops this packet; the next slot sends the next one.
        let _ = entry.lease.socket.send_to(packet, to);
        let sent = Instant::now();
        pacing.record(entry.last_sent.replace(sent), sent);
    }
}

/// Drains what arrived since the session was last read (bounded, so a flood cannot starve the others).
fn receive(entry: &mut Entry, now: Instant, buffer: &mut [u8], limit: usize) {
    for _ in 0..limit {
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
