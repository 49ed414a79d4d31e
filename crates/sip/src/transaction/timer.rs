//! The RFC 3261 §17 timers (Table 4) and RFC 6026's L and M, with the deadline table
//! that turns a timer and the transport into a duration.

use std::time::Duration;

/// A transaction timer, named as in RFC 3261 Table 4 and RFC 6026 §8.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Timer {
    /// INVITE request retransmission (client, unreliable): T1, doubling.
    A,
    /// INVITE transaction timeout (client): 64·T1.
    B,
    /// Proceeding too long without a final response (client INVITE, RFC 3261 §16.6 step
    /// 11, used for every client INVITE here so a peer that rings forever cannot keep a
    /// transaction alive): 3 min 20 s, restarted by each provisional.
    C,
    /// Wait for response retransmissions after a non-2xx final (client INVITE): 32 s / 0.
    D,
    /// Non-INVITE request retransmission (client, unreliable): T1 doubling to T2.
    E,
    /// Non-INVITE transaction timeout (client): 64·T1.
    F,
    /// INVITE final response retransmission (server, unreliable): T1 doubling to T2.
    G,
    /// Wait for ACK after a non-2xx final (server INVITE): 64·T1.
    H,
    /// Wait for ACK retransmissions (server INVITE, Confirmed): T4 / 0.
    I,
    /// Wait for request retransmissions (server non-INVITE, Completed): 64·T1 / 0.
    J,
    /// Wait for response retransmissions (client non-INVITE, Completed): T4 / 0.
    K,
    /// Wait for INVITE retransmissions after a 2xx (server, RFC 6026 Accepted): 64·T1.
    L,
    /// Wait for 2xx retransmissions (client, RFC 6026 Accepted): 64·T1.
    M,
    /// Our own: send `100 Trying` if the TU has not answered an INVITE by then (§17.2.1).
    Trying,
}

/// Timer base values (RFC 3261 §17.1.1.1 defaults: T1 500 ms, T2 4 s, T4 5 s).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimerConfig {
    /// RTT estimate; the first retransmission interval.
    pub t1: Duration,
    /// Cap on non-INVITE and INVITE-response retransmission intervals.
    pub t2: Duration,
    /// How long a message may linger in the network.
    pub t4: Duration,
    /// Delay before an automatic `100 Trying` to an INVITE (§17.2.1 suggests 200 ms);
    /// `Duration::ZERO` sends it at once.
    pub trying_delay: Duration,
}

impl Default for TimerConfig {
    fn default() -> Self {
        Self {
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
            t4: Duration::from_secs(5),
            trying_delay: Duration::from_millis(200),
        }
    }
}

impl TimerConfig {
    /// The initial duration of `timer`. On a reliable transport the waits that only
    /// absorb retransmissions (D, I, J, K) are zero, as RFC 3261 Table 4 says; the
    /// retransmission timers A, E, G are never started there.
    pub fn duration(&self, timer: Timer, reliable: bool) -> Duration {
        let unreliable_only = |d: Duration| if reliable { Duration::ZERO } else { d };
        match timer {
            Timer::A | Timer::E | Timer::G => self.t1,
            Timer::B | Timer::F | Timer::H | Timer::L | Timer::M => self.t1 * 64,
            Timer::D => unreliable_only(Duration::from_secs(32).max(self.t1 * 64 / 2)),
            Timer::I | Timer::K => unreliable_only(self.t4),
            Timer::J => unreliable_only(self.t1 * 64),
            Timer::C => Duration::from_secs(200),
            Timer::Trying => self.trying_delay,
        }
    }

    /// The next retransmission interval after `current`: doubled, capped at T2 for the
    /// timers that have a cap (E and G; A keeps doubling, §17.1.1.2).
    pub fn backoff(&self, timer: Timer, current: Duration) -> Duration {
        let doubled = current.saturating_mul(2);
        match timer {
            Timer::E | Timer::G => doubled.min(self.t2),
            _ => doubled,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3261_17_table_4_defaults() {
        let c = TimerConfig::default();
        let s = Duration::from_secs;
        assert_eq!(c.duration(Timer::A, false), Duration::from_millis(500));
        assert_eq!(c.duration(Timer::B, false), s(32));
        assert_eq!(c.duration(Timer::D, false), s(32));
        assert_eq!(c.duration(Timer::D, true), Duration::ZERO);
        assert_eq!(c.duration(Timer::F, true), s(32));
        assert_eq!(c.duration(Timer::H, true), s(32));
        assert_eq!(c.duration(Timer::I, false), s(5));
        assert_eq!(c.duration(Timer::I, true), Duration::ZERO);
        assert_eq!(c.duration(Timer::J, false), s(32));
        assert_eq!(c.duration(Timer::J, true), Duration::ZERO);
        assert_eq!(c.duration(Timer::K, false), s(5));
        assert_eq!(c.duration(Timer::K, true), Duration::ZERO);
        assert_eq!(c.duration(Timer::L, false), s(32));
        assert_eq!(c.duration(Timer::M, false), s(32));
    }

    #[test]
    fn rfc3261_17_1_2_2_timer_e_caps_at_t2_timer_a_does_not() {
        let c = TimerConfig::default();
        let mut e = c.duration(Timer::E, false);
        let mut a = e;
        let mut seen = Vec::new();
        for _ in 0..5 {
            seen.push(e.as_millis());
            e = c.backoff(Timer::E, e);
            a = c.backoff(Timer::A, a);
        }
        assert_eq!(seen, [500, 1000, 2000, 4000, 4000]);
        assert_eq!(a, Duration::from_secs(16));
    }

    #[test]
    fn rfc3261_17_1_1_1_timer_d_scales_with_large_t1() {
        let c = TimerConfig {
            t1: Duration::from_secs(2),
            ..TimerConfig::default()
        };
        assert_eq!(c.duration(Timer::B, false), Duration::from_secs(128));
        // Timer D is "at least 32 s"; with a large T1 it covers half the server's Timer H
        // window, since the server's retransmissions of a final response space out.
        assert_eq!(c.duration(Timer::D, false), Duration::from_secs(64));
    }
}
