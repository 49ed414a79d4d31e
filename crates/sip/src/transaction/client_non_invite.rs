//! Client non-INVITE transaction (RFC 3261 §17.1.2, Figure 6).

use std::time::{Duration, Instant};

use super::timer::{Timer, TimerConfig};
use super::Reaction;

/// State of a client non-INVITE transaction; each variant holds its running timers.
/// Terminated is the absence of a state: the layer drops the entry.
#[derive(Debug)]
pub(crate) enum ClientNonInvite {
    /// Request sent, nothing heard: Timer E retransmits (unreliable), Timer F gives up.
    Trying {
        e_at: Option<Instant>,
        e_interval: Duration,
        f_at: Instant,
    },
    /// A provisional response came: retransmit every T2 until a final one or Timer F.
    Proceeding {
        e_at: Option<Instant>,
        f_at: Instant,
    },
    /// Final response delivered: Timer K absorbs its retransmissions.
    Completed { k_at: Instant },
}

impl ClientNonInvite {
    /// Starts in Trying; the layer transmits the request.
    pub(crate) fn start(now: Instant, timers: &TimerConfig, reliable: bool) -> Self {
        let e_interval = timers.duration(Timer::E, reliable);
        Self::Trying {
            e_at: (!reliable).then(|| now + e_interval),
            e_interval,
            f_at: now + timers.duration(Timer::F, reliable),
        }
    }

    /// The earliest running timer.
    pub(crate) fn deadline(&self) -> Instant {
        match self {
            Self::Trying { e_at, f_at, .. } | Self::Proceeding { e_at, f_at } => {
                e_at.map_or(*f_at, |e| e.min(*f_at))
            }
            Self::Completed { k_at } => *k_at,
        }
    }

    /// A response with status `status` arrived.
    pub(crate) fn on_response(
        self,
        now: Instant,
        status: u16,
        timers: &TimerConfig,
        reliable: bool,
    ) -> (Option<Self>, Reaction) {
        match self {
            Self::Trying { e_at, f_at, .. } | Self::Proceeding { e_at, f_at } if status < 200 => {
                // §17.1.2.2: in Proceeding, retransmit every T2.
                let e_at = e_at.map(|_| now + timers.t2);
                (Some(Self::Proceeding { e_at, f_at }), Reaction::Deliver)
            }
            Self::Trying { .. } | Self::Proceeding { .. } => {
                let k_at = now + timers.duration(Timer::K, reliable);
                (Some(Self::Completed { k_at }), Reaction::Deliver)
            }
            // Retransmitted responses are absorbed.
            completed @ Self::Completed { .. } => (Some(completed), Reaction::Nothing),
        }
    }

    /// The earliest timer is due.
    pub(crate) fn on_timeout(self, now: Instant, timers: &TimerConfig) -> (Option<Self>, Reaction) {
        match self {
            Self::Trying { f_at, .. } | Self::Proceeding { f_at, .. } if f_at <= now => {
                (None, Reaction::TimedOut(Timer::F))
            }
            Self::Trying {
                e_at: Some(e_at),
                e_interval,
                f_at,
            } if e_at <= now => {
                let e_interval = timers.backoff(Timer::E, e_interval);
                let next = Self::Trying {
                    e_at: Some(e_at + e_interval),
                    e_interval,
                    f_at,
                };
                (Some(next), Reaction::Retransmit)
            }
            Self::Proceeding {
                e_at: Some(e_at),
                f_at,
            } if e_at <= now => {
                let next = Self::Proceeding {
                    e_at: Some(e_at + timers.t2),
                    f_at,
                };
                (Some(next), Reaction::Retransmit)
            }
            Self::Completed { k_at } if k_at <= now => (None, Reaction::Nothing),
            // Not due: a stale wake-up.
            other => (Some(other), Reaction::Nothing),
        }
    }
}
