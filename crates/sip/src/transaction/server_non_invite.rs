//! Server non-INVITE transaction (RFC 3261 §17.2.2, Figure 8).

use std::time::Instant;

use bytes::Bytes;

use super::timer::{Timer, TimerConfig};
use super::{Reaction, TransactionError};

/// State of a server non-INVITE transaction. Terminated is the absence of a state.
#[derive(Debug)]
pub(crate) enum ServerNonInvite {
    /// Request passed to the TU; retransmissions are absorbed silently.
    Trying { guard_at: Instant },
    /// A provisional was sent; request retransmissions get it again.
    Proceeding { last: Bytes, guard_at: Instant },
    /// The final response was sent; request retransmissions get it again until Timer J.
    Completed { response: Bytes, j_at: Instant },
}

impl ServerNonInvite {
    /// Starts in Trying. The RFC has no timer here; ours (64·T1, when the client's Timer F
    /// has surely fired) drops the transaction if the TU never answers, so an overloaded or
    /// buggy TU cannot grow the table without bound.
    pub(crate) fn start(now: Instant, timers: &TimerConfig) -> Self {
        Self::Trying {
            guard_at: now + timers.duration(Timer::F, true),
        }
    }

    /// The earliest running timer.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        match self {
            Self::Trying { guard_at } | Self::Proceeding { guard_at, .. } => Some(*guard_at),
            Self::Completed { j_at, .. } => Some(*j_at),
        }
    }

    /// A retransmission of the request arrived.
    pub(crate) fn on_request(self) -> (Option<Self>, Reaction) {
        let reaction = match &self {
            Self::Trying { .. } => Reaction::Nothing,
            Self::Proceeding { last, .. } => Reaction::Send(last.clone()),
            Self::Completed { response, .. } => Reaction::Send(response.clone()),
        };
        (Some(self), reaction)
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
            Self::Trying { guard_at } | Self::Proceeding { guard_at, .. } if status < 200 => {
                let state = Self::Proceeding {
                    last: response.clone(),
                    guard_at,
                };
                Ok((Some(state), Reaction::Send(response)))
            }
            Self::Trying { .. } | Self::Proceeding { .. } => {
                let state = Self::Completed {
                    response: response.clone(),
                    j_at: now + timers.duration(Timer::J, reliable),
                };
                Ok((Some(state), Reaction::Send(response)))
            }
            completed @ Self::Completed { .. } => {
                Err((completed, TransactionError::AlreadyFinal { status }))
            }
        }
    }

    /// The earliest timer is due.
    pub(crate) fn on_timeout(self, now: Instant) -> (Option<Self>, Reaction) {
        match self {
            Self::Completed { j_at, .. } if j_at <= now => (None, Reaction::Nothing),
            Self::Trying { guard_at } | Self::Proceeding { guard_at, .. } if guard_at <= now => {
                (None, Reaction::Nothing)
            }
            other => (Some(other), Reaction::Nothing),
        }
    }
}
