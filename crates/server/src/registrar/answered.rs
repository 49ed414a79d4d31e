//! REGISTERs answered 200 in the last 64·T1, by transaction fingerprint
//! ([`hotdesk_sip::endpoint::request_fingerprint`]).
//!
//! The registrar sends its 200s statelessly (RFC 3261 §8.2.7), so no transaction keeps a
//! 200 for Timer J. A phone whose 200 was lost retransmits the REGISTER, which then reaches
//! the registrar again with a nonce count already used; found here, it is answered again
//! from the bindings as they are, changing nothing. A few dozen bytes a REGISTER for 32 s,
//! against the encoded 200, key and slot a completed transaction kept.

use std::collections::{HashSet, VecDeque};

use foldhash::fast::RandomState;
use jiff::{SignedDuration, Timestamp};

/// How long a client retransmits a non-INVITE request: 64·T1, Timer F (RFC 3261 §17.1.2.2).
pub const RETRANSMITTED_FOR: SignedDuration = SignedDuration::from_secs(32);

/// Fingerprints of REGISTERs answered 200 within [`RETRANSMITTED_FOR`], at most a bounded
/// number (past it the oldest go early: their retransmissions are challenged afresh).
#[derive(Debug)]
pub struct Answered {
    recent: HashSet<u64, RandomState>,
    /// Fingerprints in the order they were answered, with when.
    order: VecDeque<(Timestamp, u64)>,
    capacity: usize,
}

impl Default for Answered {
    /// Room for a million: 32 s at over 30,000 REGISTERs a second.
    fn default() -> Self {
        Self::new(1 << 20)
    }
}

impl Answered {
    /// Keeps at most `capacity` fingerprints.
    pub fn new(capacity: usize) -> Self {
        Self {
            recent: HashSet::default(),
            order: VecDeque::new(),
            capacity: capacity.max(1),
        }
    }

    /// Notes that the REGISTER with `fingerprint` is answered 200 at `now`.
    pub fn record(&mut self, fingerprint: u64, now: Timestamp) {
        self.forget_before(now);
        if !self.recent.insert(fingerprint) {
            return;
        }
        if self.order.len() >= self.capacity {
            if let Some((_, oldest)) = self.order.pop_front() {
                self.recent.remove(&oldest);
            }
        }
        self.order.push_back((now, fingerprint));
    }

    /// Whether the REGISTER with `fingerprint` was answered 200 within the last 64·T1.
    pub fn contains(&mut self, fingerprint: u64, now: Timestamp) -> bool {
        self.forget_before(now);
        self.recent.contains(&fingerprint)
    }

    /// Fingerprints kept.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// True when none is kept.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    fn forget_before(&mut self, now: Timestamp) {
        while let Some(&(at, fingerprint)) = self.order.front() {
            if now.duration_since(at) <= RETRANSMITTED_FOR {
                break;
            }
            self.order.pop_front();
            self.recent.remove(&fingerprint);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + secs).expect("in range")
    }

    // RFC 3261 §8.2.7 with §17.1.2.2: a retransmission may come for 64·T1 after the answer,
    // and is known for that long only.
    #[test]
    fn rfc3261_8_2_7_answered_registers_are_known_for_64_t1() {
        let mut answered = Answered::default();
        answered.record(7, at(0));
        answered.record(8, at(10));
        assert!(answered.contains(7, at(0)));
        assert!(answered.contains(7, at(32)));
        assert!(!answered.contains(9, at(1)));
        assert!(!answered.contains(7, at(33)));
        assert!(answered.contains(8, at(42)));
        assert_eq!(answered.len(), 1);
        assert!(!answered.contains(8, at(43)));
        assert!(answered.is_empty());
        // Answered twice (a retransmission answered again): kept once, from the first time.
        answered.record(5, at(50));
        answered.record(5, at(60));
        assert_eq!(answered.len(), 1);
        assert!(!answered.contains(5, at(83)));
    }

    #[test]
    fn rfc3261_8_2_7_memory_is_bounded_oldest_go_first() {
        let mut answered = Answered::new(3);
        for fingerprint in 0..5 {
            answered.record(fingerprint, at(0));
            assert!(answered.len() <= 3);
        }
        assert!(!answered.contains(0, at(1)));
        assert!(!answered.contains(1, at(1)));
        for fingerprint in 2..5 {
            assert!(answered.contains(fingerprint, at(1)), "{fingerprint}");
        }
    }
}
