//! Connection liveness: the RFC 5626 §3.5.1 pong, and the deadlines that close a connection
//! whose peer idles too long or sends an incomplete message too slowly (slow-loris).

use std::time::{Duration, Instant};

use super::Limits;

/// The answer to a CRLFCRLF ping on a stream (RFC 5626 §3.5.1).
pub(crate) const PONG: &[u8] = b"\r\n";

/// Why a connection's deadline passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expiry {
    /// No traffic for [`Limits::idle_timeout`].
    Idle,
    /// A message started arriving more than [`Limits::message_timeout`] ago and is still
    /// incomplete.
    SlowMessage,
}

/// Tracks one connection's traffic and computes when to give up on it.
#[derive(Debug, Clone)]
pub(crate) struct Liveness {
    idle: Duration,
    message: Duration,
    last_activity: Instant,
    /// When the bytes still buffered (an incomplete message) started arriving.
    partial_since: Option<Instant>,
}

impl Liveness {
    pub(crate) fn new(now: Instant, limits: &Limits) -> Self {
        Self {
            idle: limits.idle_timeout,
            message: limits.message_timeout,
            last_activity: now,
            partial_since: None,
        }
    }

    /// Bytes were read or written.
    pub(crate) fn activity(&mut self, now: Instant) {
        self.last_activity = now;
    }

    /// After framing: `pending` says whether bytes of an incomplete message remain. The clock
    /// for that message starts when its first bytes are seen and stops when none remain.
    pub(crate) fn buffered(&mut self, pending: bool, now: Instant) {
        self.partial_since = match (pending, self.partial_since) {
            (false, _) => None,
            (true, None) => Some(now),
            (true, since) => since,
        };
    }

    /// The instant the connection expires and why, unless traffic changes it first.
    pub(crate) fn deadline(&self) -> (Instant, Expiry) {
        let idle = (self.last_activity + self.idle, Expiry::Idle);
        match self.partial_since {
            Some(since) if since + self.message < idle.0 => {
                (since + self.message, Expiry::SlowMessage)
            }
            Some(_) | None => idle,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits {
            idle_timeout: Duration::from_secs(60),
            message_timeout: Duration::from_secs(5),
            ..Limits::default()
        }
    }

    #[test]
    fn idle_connection_expires_after_idle_timeout_from_last_traffic() {
        let t0 = Instant::now();
        let mut l = Liveness::new(t0, &limits());
        assert_eq!(l.deadline(), (t0 + Duration::from_secs(60), Expiry::Idle));
        l.activity(t0 + Duration::from_secs(30));
        assert_eq!(l.deadline(), (t0 + Duration::from_secs(90), Expiry::Idle));
    }

    #[test]
    fn slow_loris_trickle_does_not_extend_the_message_deadline() {
        let t0 = Instant::now();
        let mut l = Liveness::new(t0, &limits());
        // A partial header arrives, then one byte a second: activity, but still partial.
        l.activity(t0);
        l.buffered(true, t0);
        for s in 1..4 {
            let t = t0 + Duration::from_secs(s);
            l.activity(t);
            l.buffered(true, t);
        }
        assert_eq!(
            l.deadline(),
            (t0 + Duration::from_secs(5), Expiry::SlowMessage)
        );
        // The message completes: back to the idle clock.
        let done = t0 + Duration::from_secs(4);
        l.buffered(false, done);
        assert_eq!(l.deadline(), (t0 + Duration::from_secs(63), Expiry::Idle));
    }
}
