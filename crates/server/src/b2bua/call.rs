//! A call's state: the caller's side (A), the forks toward the callee's devices (B), the
//! timers that run on it, and what its CDR will say.

use std::time::{Duration, Instant};

use bytes::Bytes;
use hotdesk_core::routing::CallerIdentity;
use hotdesk_core::{Direction, DomainName, Extension};
use hotdesk_sip::endpoint::ServerTransaction;
use hotdesk_sip::transaction::TransactionKey;
use hotdesk_sip::transport::Target;
use hotdesk_sip::{Request, StatusCode};
use jiff::Timestamp;

use super::dialog::Dialog;
use super::prack::{Early, Reliable};
use super::reinvite::ReInvite;
use super::route::Hunt;
use super::session::{Refresher, SessionTimer};
use super::setup::ForkTemplate;
use super::trunk::TrunkAuth;

/// Which side of the call a dialog is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Side {
    /// Toward the caller (we are its UAS).
    A,
    /// Toward the answering callee (we are its UAC).
    B,
}

/// Where an outgoing INVITE stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ForkState {
    /// Sent; nothing but 100 yet (a CANCEL must wait, RFC 3261 §9.1).
    Calling,
    /// A provisional came.
    Early,
    /// A 2xx came (ACKed).
    Answered,
    /// A final non-2xx, a timeout or a transport failure ended it.
    Done,
}

/// One INVITE toward one registered contact (HD-ROUTE-1).
#[derive(Debug)]
pub(super) struct Fork {
    /// The dialog-to-be (remote tag and target filled in by the 2xx).
    pub dialog: Dialog,
    /// The INVITE's Via (a CANCEL repeats it, §9.1).
    pub via: String,
    /// The INVITE's Request-URI (a CANCEL repeats it).
    pub uri: String,
    /// Its state.
    pub state: ForkState,
    /// A CANCEL is owed as soon as a provisional arrives.
    pub cancel_pending: bool,
    /// The ACK sent for its 2xx, re-sent for every retransmitted 2xx.
    pub ack: Option<(Bytes, Target)>,
    /// RSeq of the last reliable provisional it sent (RFC 3262 §4: older ones are
    /// retransmissions).
    pub rseq: Option<u32>,
    /// Its early dialog, once a reliable provisional opened one (PRACKs go there).
    pub early: Option<Early>,
    /// The INVITE as sent, kept only toward a trunk with credentials (re-sent with them
    /// to its challenge) and only until the fork's final response.
    pub invite: Option<Box<Request>>,
    /// The INVITE's CSeq (its CANCEL, ACK and PRACKs' RAck name it).
    pub invite_cseq: u32,
    /// A trunk's credentials, for its challenge (HD-ROUTE-9).
    pub auth: Option<Box<TrunkAuth>>,
    /// Re-sent once already with a longer session interval after a 422 (RFC 4028 §7.4).
    pub interval_retried: bool,
}

/// A response re-sent until its ACK or PRACK comes (RFC 3261 §13.3.1.4, RFC 3262 §3).
#[derive(Debug)]
pub(super) struct Retransmit {
    pub bytes: Bytes,
    pub target: Target,
    pub next: Instant,
    pub interval: Duration,
    pub give_up: Instant,
}

impl Retransmit {
    /// Whether a copy is due at `now`; if so the next one is scheduled, the interval
    /// doubled up to `cap` (none for RFC 3262's reliable provisionals).
    pub(super) fn due(&mut self, now: Instant, cap: Option<Duration>) -> bool {
        if self.next > now {
            return false;
        }
        self.interval *= 2;
        if let Some(cap) = cap {
            self.interval = self.interval.min(cap);
        }
        self.next = now + self.interval;
        true
    }
}

/// What the CDR of the call will carry (HD-CDR-1).
#[derive(Debug, Clone)]
pub(super) struct Record {
    pub domain: DomainName,
    pub direction: Direction,
    pub anchor: Option<Extension>,
    /// Identity captured at call start (HD-LOGOUT-3: a log-out mid-call changes nothing).
    pub identity: CallerIdentity,
    pub dialled: String,
    pub start: Timestamp,
    pub answer: Option<Timestamp>,
}

/// A call: A side, forks, winner, timers.
#[derive(Debug)]
pub(super) struct Call {
    /// Toward the caller.
    pub a: Dialog,
    /// The caller's INVITE until its final response (boxed, like the other parts an
    /// answered call no longer has: the call stays small while held).
    pub a_invite: Option<Box<ServerTransaction>>,
    /// Its key (a CANCEL names it).
    pub a_invite_key: TransactionKey,
    /// Whether the INVITE carried an offer; if not, the ACK does, and the callee's ACK waits.
    pub a_offer: bool,
    /// The caller's 2xx being retransmitted.
    pub a_ok: Option<Box<Retransmit>>,
    /// The forks; the answered one is `winner`.
    pub forks: Vec<Fork>,
    /// Index of the fork that answered first.
    pub winner: Option<usize>,
    /// Best final response of the failed forks so far (§16.7 ordering).
    pub best: Option<(StatusCode, String)>,
    /// The largest Min-SE of the 422s the stage ringing now got (RFC 4028 §7.4): when no
    /// fork answers, the caller gets 422 with it (see [`super::session`]).
    pub min_se: Option<u32>,
    /// The caller cancelled, the ring timer fired, or the call ended.
    pub cancelled: bool,
    /// The call is over; it stays only until its forks have finished.
    pub ended: Option<Instant>,
    /// When ringing stops (no answer).
    pub ring_deadline: Instant,
    /// When an answered call is cleared regardless (hung dialogs are reaped).
    pub end_deadline: Instant,
    /// CDR data.
    pub record: Record,
    /// The instant this call sits in the timer heap under (older entries are stale).
    pub scheduled: Option<Instant>,
    /// What the forks' INVITEs carry, for forks added by later stages; dropped once the
    /// call is answered.
    pub template: Option<Box<ForkTemplate>>,
    /// The stages still to ring of a queue or forwarding call; `None` for a plain fork.
    pub hunt: Option<Hunt>,
    /// Reliable provisionals toward the caller (RFC 3262).
    pub reliable: Reliable,
    /// The re-INVITE in progress or last completed (RFC 3261 §14).
    pub reinvite: Option<Box<ReInvite>>,
    /// The negotiated session interval, once answered with one (RFC 4028).
    pub session: Option<SessionTimer>,
    /// Our refreshes toward the callee, when a timer we added made us the refresher.
    pub refresher: Option<Box<Refresher>>,
}

impl Fork {
    /// Drops what only the set-up needed (the CANCEL's Via and Request-URI, the INVITE
    /// kept for a trunk's challenge, the credentials; not the early dialog, which a late
    /// PRACK of the caller may still need): an answered fork lives as long as
    /// the call (held calls, BENCHMARKS.md "Concurrent calls").
    pub(super) fn shed_setup(&mut self) {
        self.via = String::new();
        self.uri = String::new();
        self.invite = None;
        self.auth = None;
    }
}

impl Call {
    /// The call is answered: what only later stages or the set-up needed goes (the fork
    /// template with the caller's offer, the stages still to ring, the best failure).
    pub(super) fn shed_setup(&mut self) {
        self.template = None;
        self.hunt = None;
        self.best = None;
        self.min_se = None;
    }

    /// Whether every fork has finished.
    pub(super) fn forks_done(&self) -> bool {
        self.forks
            .iter()
            .all(|f| matches!(f.state, ForkState::Done | ForkState::Answered))
    }

    /// The dialog of `side` once the call is answered (A always exists).
    pub(super) fn dialog_mut(&mut self, side: Side) -> Option<&mut Dialog> {
        match side {
            Side::A => Some(&mut self.a),
            Side::B => {
                let winner = self.winner?;
                self.forks.get_mut(winner).map(|f| &mut f.dialog)
            }
        }
    }

    /// The earliest instant this call's short timers need a look (ringing, 2xx
    /// retransmission, lingering forks). The longest-duration limit is not among them: it
    /// is checked by the periodic sweep, so the heap never holds hours-away entries.
    pub(super) fn deadline(&self, linger: Duration) -> Option<Instant> {
        let ended = self.ended.map(|at| at + linger);
        let ringing = self.a_invite.as_ref().map(|_| self.ring_deadline);
        let retransmit = self.a_ok.as_ref().map(|r| r.next);
        let reinvite = self
            .reinvite
            .as_ref()
            .and_then(|r| r.ok.as_ref())
            .map(|r| r.next);
        let reliable = self
            .a_invite
            .as_ref()
            .and(self.reliable.outstanding.as_ref())
            .map(|r| r.retransmit.next);
        [ended, ringing, retransmit, reinvite, reliable]
            .into_iter()
            .flatten()
            .min()
    }

    /// Keeps the better of two final failures: 6xx beats all, then the lowest class, and
    /// within 4xx a busy or unavailable answer beats a generic one (RFC 3261 §16.7).
    pub(super) fn note_failure(&mut self, status: StatusCode, reason: &str) {
        let better = match &self.best {
            None => true,
            Some((old, _)) => failure_rank(status) < failure_rank(*old),
        };
        if better {
            self.best = Some((status, reason.to_owned()));
        }
    }
}

/// Lower is better when choosing the failure the caller gets (RFC 3261 §16.7): 6xx first,
/// then busy, unavailable, other 4xx, 3xx, 5xx.
fn failure_rank(status: StatusCode) -> u16 {
    match status.as_u16() {
        600..=699 => 0,
        486 => 1,
        480 => 2,
        400..=499 => 3,
        300..=399 => 4,
        500..=599 => 5,
        _ => 6,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn best_of(codes: &[u16]) -> u16 {
        let mut best = None;
        for &code in codes {
            let status = StatusCode::new(code).unwrap();
            if best.is_none_or(|old| failure_rank(status) < failure_rank(old)) {
                best = Some(status);
            }
        }
        best.map_or(0, StatusCode::as_u16)
    }

    #[test]
    fn rfc3261_16_7_busy_beats_unavailable_and_server_errors() {
        assert_eq!(best_of(&[503, 480, 486]), 486);
        assert_eq!(best_of(&[408, 503]), 408);
        assert_eq!(best_of(&[486, 603]), 603);
    }
}
