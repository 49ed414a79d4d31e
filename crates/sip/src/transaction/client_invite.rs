//! Client INVITE transaction (RFC 3261 §17.1.1, Figure 5, as amended by RFC 6026 §7.2:
//! a 2xx moves to Accepted, where 2xx retransmissions still reach the TU, which ACKs them).

use std::time::{Duration, Instant};

use bytes::Bytes;

use super::timer::{Timer, TimerConfig};
use super::Reaction;

/// State of a client INVITE transaction. Terminated is the absence of a state.
#[derive(Debug)]
pub(crate) enum ClientInvite {
    /// INVITE sent: Timer A retransmits (unreliable, doubling without cap), Timer B gives up.
    Calling {
        a_at: Option<Instant>,
        a_interval: Duration,
        b_at: Instant,
    },
    /// A provisional response came; no retransmissions; Timer C ends a transaction that
    /// never gets its final response.
    Proceeding { c_at: Instant },
    /// A 300–699 came and was ACKed; Timer D absorbs its retransmissions, re-sending the ACK.
    Completed { ack: Bytes, d_at: Instant },
    /// A 2xx came (RFC 6026); Timer M keeps the transaction to pass 2xx retransmissions
    /// (from forked branches too) to the TU.
    Accepted { m_at: Instant },
}

impl ClientInvite {
    /// Starts in Calling; the layer transmits the INVITE.
    pub(crate) fn start(now: Instant, timers: &TimerConfig, reliable: bool) -> Self {
        let a_interval = timers.duration(Timer::A, reliable);
        Self::Calling {
            a_at: (!reliable).then(|| now + a_interval),
            a_interval,
            b_at: now + timers.duration(Timer::B, reliable),
        }
    }

    /// The earliest running timer, if any.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        match self {
            Self::Calling { a_at, b_at, .. } => Some(a_at.map_or(*b_at, |a| a.min(*b_at))),
            Self::Proceeding { c_at } => Some(*c_at),
            Self::Completed { d_at, .. } => Some(*d_at),
            Self::Accepted { m_at } => Some(*m_at),
        }
    }

    /// Before any final response: the INVITE may still be retransmitted or a non-2xx
    /// ACKed, so the layer keeps it.
    pub(crate) fn awaits_final(&self) -> bool {
        matches!(self, Self::Calling { .. } | Self::Proceeding { .. })
    }

    /// A response arrived. `make_ack` builds the ACK for a 300–699 (§17.1.1.3); it is
    /// called at most once, on the first such response.
    pub(crate) fn on_response(
        self,
        now: Instant,
        status: u16,
        timers: &TimerConfig,
        reliable: bool,
        make_ack: impl FnOnce() -> Option<Bytes>,
    ) -> (Option<Self>, Reaction) {
        match self {
            Self::Calling { .. } | Self::Proceeding { .. } if status < 200 => {
                let c_at = now + timers.duration(Timer::C, reliable);
                (Some(Self::Proceeding { c_at }), Reaction::Deliver)
            }
            Self::Calling { .. } | Self::Proceeding { .. } if status < 300 => {
                let m_at = now + timers.duration(Timer::M, reliable);
                (Some(Self::Accepted { m_at }), Reaction::Deliver)
            }
            Self::Calling { .. } | Self::Proceeding { .. } => match make_ack() {
                Some(ack) => {
                    let d_at = now + timers.duration(Timer::D, reliable);
                    let next = Self::Completed {
                        ack: ack.clone(),
                        d_at,
                    };
                    (Some(next), Reaction::DeliverAndSend(ack))
                }
                // Cannot build an ACK from this response: still tell the TU, then end.
                None => (None, Reaction::Deliver),
            },
            // §17.1.1.2: retransmitted non-2xx finals are ACKed again, not passed up.
            Self::Completed { ack, d_at } if status >= 300 => {
                let resend = ack.clone();
                (Some(Self::Completed { ack, d_at }), Reaction::Send(resend))
            }
            // RFC 6026 §8.4: in Accepted, 2xx go to the TU; anything else is absorbed.
            accepted @ Self::Accepted { .. } if (200..300).contains(&status) => {
                (Some(accepted), Reaction::Deliver)
            }
            other => (Some(other), Reaction::Nothing),
        }
    }

    /// The earliest timer is due.
    pub(crate) fn on_timeout(self, now: Instant, timers: &TimerConfig) -> (Option<Self>, Reaction) {
        match self {
            Self::Calling { b_at, .. } if b_at <= now => (None, Reaction::TimedOut(Timer::B)),
            Self::Proceeding { c_at } if c_at <= now => (None, Reaction::TimedOut(Timer::C)),
            Self::Calling {
                a_at: Some(a_at),
                a_interval,
                b_at,
            } if a_at <= now => {
                let a_interval = timers.backoff(Timer::A, a_interval);
                let next = Self::Calling {
                    a_at: Some(a_at + a_interval),
                    a_interval,
                    b_at,
                };
                (Some(next), Reaction::Retransmit)
            }
            Self::Completed { d_at, .. } if d_at <= now => (None, Reaction::Nothing),
            Self::Accepted { m_at } if m_at <= now => (None, Reaction::Nothing),
            other => (Some(other), Reaction::Nothing),
        }
    }
}
