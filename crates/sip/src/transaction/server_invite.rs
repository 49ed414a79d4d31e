//! Server INVITE transaction (RFC 3261 §17.2.1, Figure 7, as amended by RFC 6026 §7.1:
//! after a 2xx the transaction waits in Accepted, absorbing INVITE retransmissions and
//! passing ACKs to the TU, which retransmits the 2xx itself).

use std::time::{Duration, Instant};

use bytes::Bytes;

use super::timer::{Timer, TimerConfig};
use super::{Reaction, TransactionError};

/// State of a server INVITE transaction. Terminated is the absence of a state.
#[derive(Debug)]
pub(crate) enum ServerInvite {
    /// Waiting for the TU's final response; `trying` is the pending automatic 100 and when
    /// it is due, `last` the latest provisional sent (re-sent on INVITE retransmissions).
    Proceeding {
        trying: Option<(Instant, Bytes)>,
        last: Option<Bytes>,
    },
    /// A 300–699 was sent: Timer G re-sends it (unreliable), Timer H waits for the ACK.
    Completed {
        response: Bytes,
        g_at: Option<Instant>,
        g_interval: Duration,
        h_at: Instant,
    },
    /// The ACK came; Timer I absorbs ACK retransmissions.
    Confirmed { i_at: Instant },
    /// A 2xx was sent (RFC 6026); Timer L absorbs INVITE retransmissions.
    Accepted { l_at: Instant },
}

impl ServerInvite {
    /// Starts in Proceeding. `trying` is the `100 Trying` for this INVITE: sent at once when
    /// the configured delay is zero (returned as the reaction), else held until Timer Trying.
    pub(crate) fn start(now: Instant, timers: &TimerConfig, trying: Bytes) -> (Self, Reaction) {
        if timers.trying_delay.is_zero() {
            let state = Self::Proceeding {
                trying: None,
                last: Some(trying.clone()),
            };
            return (state, Reaction::Send(trying));
        }
        let due = now + timers.duration(Timer::Trying, false);
        let state = Self::Proceeding {
            trying: Some((due, trying)),
            last: None,
        };
        (state, Reaction::Nothing)
    }

    /// The earliest running timer, if any.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        match self {
            Self::Proceeding { trying, .. } => trying.as_ref().map(|(at, _)| *at),
            Self::Completed { g_at, h_at, .. } => Some(g_at.map_or(*h_at, |g| g.min(*h_at))),
            Self::Confirmed { i_at } => Some(*i_at),
            Self::Accepted { l_at } => Some(*l_at),
        }
    }

    /// A request matching this transaction arrived: an INVITE retransmission or an ACK.
    pub(crate) fn on_request(
        self,
        now: Instant,
        is_ack: bool,
        timers: &TimerConfig,
        reliable: bool,
    ) -> (Option<Self>, Reaction) {
        match self {
            Self::Proceeding { trying, last } if !is_ack => {
                let resend = last.clone().map_or(Reaction::Nothing, Reaction::Send);
                (Some(Self::Proceeding { trying, last }), resend)
            }
            Self::Completed {
                response,
                g_at,
                g_interval,
                h_at,
            } => {
                if is_ack {
                    let i_at = now + timers.duration(Timer::I, reliable);
                    return (Some(Self::Confirmed { i_at }), Reaction::Nothing);
                }
                let resend = Reaction::Send(response.clone());
                let same = Self::Completed {
                    response,
                    g_at,
                    g_interval,
                    h_at,
                };
                (Some(same), resend)
            }
            // RFC 6026 §7.1: the ACK for a 2xx that matches the transaction goes to the TU.
            accepted @ Self::Accepted { .. } if is_ack => (Some(accepted), Reaction::Deliver),
            other => (Some(other), Reaction::Nothing),
        }
    }

    /// The TU sends a response with `status` through this transaction.
    pub(crate) fn on_send(
        self,
        now: Instant,
        status: u16,
        response: Bytes,
        timers: &TimerConfig,
        reliable: bool,
    ) -> Result<(Option<Self>, Reaction), (Self, TransactionError)> {
        match self {
            Self::Proceeding { .. } if status < 200 => {
                let state = Self::Proceeding {
                    trying: None,
                    last: Some(response.clone()),
                };
                Ok((Some(state), Reaction::Send(response)))
            }
            Self::Proceeding { .. } if status < 300 => {
                let l_at = now + timers.duration(Timer::L, reliable);
                Ok((Some(Self::Accepted { l_at }), Reaction::Send(response)))
            }
            Self::Proceeding { .. } => {
                let g_interval = timers.duration(Timer::G, reliable);
                let state = Self::Completed {
                    response: response.clone(),
                    g_at: (!reliable).then(|| now + g_interval),
                    g_interval,
                    h_at: now + timers.duration(Timer::H, reliable),
                };
                Ok((Some(state), Reaction::Send(response)))
            }
            // §13.3.1.4: the TU retransmits its 2xx until the ACK comes.
            accepted @ Self::Accepted { .. } if (200..300).contains(&status) => {
                Ok((Some(accepted), Reaction::Send(response)))
            }
            other => Err((other, TransactionError::AlreadyFinal { status })),
        }
    }

    /// The earliest timer is due.
    pub(crate) fn on_timeout(self, now: Instant, timers: &TimerConfig) -> (Option<Self>, Reaction) {
        match self {
            Self::Proceeding {
                trying: Some((at, trying)),
                ..
            } if at <= now => {
                let state = Self::Proceeding {
                    trying: None,
                    last: Some(trying.clone()),
                };
                (Some(state), Reaction::Send(trying))
            }
            Self::Completed { h_at, .. } if h_at <= now => (None, Reaction::TimedOut(Timer::H)),
            Self::Completed {
                response,
                g_at: Some(g_at),
                g_interval,
                h_at,
            } if g_at <= now => {
                let g_interval = timers.backoff(Timer::G, g_interval);
                let resend = Reaction::Send(response.clone());
                let state = Self::Completed {
                    response,
                    g_at: Some(g_at + g_interval),
                    g_interval,
                    h_at,
                };
                (Some(state), resend)
            }
            Self::Confirmed { i_at } if i_at <= now => (None, Reaction::Nothing),
            Self::Accepted { l_at } if l_at <= now => (None, Reaction::Nothing),
            other => (Some(other), Reaction::Nothing),
        }
    }
}
