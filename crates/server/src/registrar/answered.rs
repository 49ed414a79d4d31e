//! REGISTERs answered 200 lately (in the last 64·T1 at least), by transaction fingerprint
//! ([`hotdesk_sip::endpoint::request_fingerprint`]).
//!
//! The registrar sends its 200s statelessly (RFC 3261 §8.2.7), so no transaction keeps a
//! 200 for Timer J. A phone whose 200 was lost retransmits the REGISTER, which then reaches
//! the registrar again with a nonce count already used; found here, it is answered again
//! from the bindings as they are, changing nothing. A few dozen bytes a REGISTER for 32–96 s,
//! against the encoded 200, key and slot a completed transaction kept.

use hotdesk_sip::id_table::IdTable;
use jiff::{SignedDuration, Timestamp};

/// How long a client retransmits a non-INVITE request: 64·T1, Timer F (RFC 3261 §17.1.2.2).
pub const RETRANSMITTED_FOR: SignedDuration = SignedDuration::from_secs(32);

/// Fingerprints of REGISTERs answered 200, in two generations of [`RETRANSMITTED_FOR`]
/// each: a fingerprint is known until the generation after its own ends, so for at least
/// 64·T1 and at most three times that. Recording one is a single insert: nothing expires
/// one by one (a FIFO of answer times did, a second random probe of the set per REGISTER).
/// A generation holds a bounded number; a full one ends early, and then its oldest may
/// go before 64·T1 (their retransmissions are challenged afresh). The generations are
/// [`IdTable`]s: the fingerprints are random, and an insert then reads one cache line.
#[derive(Debug)]
pub struct Answered {
    current: IdTable<()>,
    previous: IdTable<()>,
    /// When `current` began.
    started: Option<Timestamp>,
    generation_capacity: usize,
}

impl Default for Answered {
    /// Room for a million a generation: 32 s at over 30,000 REGISTERs a second.
    fn default() -> Self {
        Self::new(1 << 20)
    }
}

impl Answered {
    /// Keeps at most `generation_capacity` fingerprints in each of the two generations.
    pub fn new(generation_capacity: usize) -> Self {
        Self {
            current: IdTable::new(),
            previous: IdTable::new(),
            started: None,
            generation_capacity: generation_capacity.max(1),
        }
    }

    /// Notes that the REGISTER with `fingerprint` is answered 200 at `now`.
    pub fn record(&mut self, fingerprint: u64, now: Timestamp) {
        self.turn(now);
        if self.current.len() >= self.generation_capacity {
            self.rotate(now);
        }
        self.current.insert(fingerprint, ());
    }

    /// Starts loading where `fingerprint` would be recorded, ahead of [`Self::record`].
    pub fn prefetch(&self, fingerprint: u64) {
        self.current.prefetch(fingerprint);
    }

    /// Whether the REGISTER with `fingerprint` was answered 200 lately: within the last
    /// 64·T1 certainly, up to three times that ago possibly.
    pub fn contains(&mut self, fingerprint: u64, now: Timestamp) -> bool {
        self.turn(now);
        self.current.get(fingerprint).is_some() || self.previous.get(fingerprint).is_some()
    }

    /// Fingerprints kept.
    pub fn len(&self) -> usize {
        self.current.len() + self.previous.len()
    }

    /// True when none is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Ends the current generation once it is 64·T1 old; both, if the previous one is
    /// that old too (nothing was recorded or asked for a while).
    fn turn(&mut self, now: Timestamp) {
        let Some(started) = self.started else {
            self.started = Some(now);
            return;
        };
        let age = now.duration_since(started);
        if age > RETRANSMITTED_FOR * 2 {
            self.previous.clear();
            self.current.clear();
            self.started = Some(now);
        } else if age > RETRANSMITTED_FOR {
            self.rotate(now);
        }
    }

    /// The current generation becomes the previous one; the previous one's table, cleared,
    /// is reused (after the first two generations no insert grows a table).
    fn rotate(&mut self, now: Timestamp) {
        std::mem::swap(&mut self.previous, &mut self.current);
        self.current.clear();
        self.started = Some(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + secs).expect("in range")
    }

    // RFC 3261 §8.2.7 with §17.1.2.2: a retransmission may come for 64·T1 after the answer,
    // so every answer is known at least that long, and none for more than three times that.
    #[test]
    fn rfc3261_8_2_7_answered_registers_are_known_for_64_t1() {
        let mut answered = Answered::default();
        let secs = RETRANSMITTED_FOR.as_secs();
        // One REGISTER answered a second, each looked for again every second after.
        for now in 0..400 {
            answered.record(now as u64, at(now));
            for then in 0..=now {
                let known = answered.contains(then as u64, at(now));
                let age = now - then;
                if age <= secs {
                    assert!(known, "answered at {then}, forgotten by {now}");
                }
                if age > 3 * secs {
                    assert!(!known, "answered at {then}, still known at {now}");
                }
            }
        }
        assert!(!answered.contains(1_000, at(400)), "never answered");
        // Idle for two generations: everything is forgotten.
        assert!(!answered.contains(399, at(399 + 2 * secs + 1)));
        assert!(answered.is_empty());
    }

    // The same, when the only calls come from answers (no lookups in between).
    #[test]
    fn rfc3261_8_2_7_answers_recorded_far_apart_are_kept_64_t1() {
        let mut answered = Answered::default();
        answered.record(7, at(0));
        answered.record(8, at(31));
        answered.record(9, at(60));
        assert!(answered.contains(8, at(63)));
        assert!(answered.contains(9, at(92)));
        assert!(
            answered.contains(7, at(92)),
            "a generation of 64·T1 after its own"
        );
        assert!(!answered.contains(7, at(93)));
        assert!(answered.contains(9, at(93)));
        answered.record(5, at(50 + 1_000));
        assert_eq!(answered.len(), 1, "an idle spell forgets both generations");
    }

    #[test]
    fn rfc3261_8_2_7_memory_is_bounded_oldest_go_first() {
        let mut answered = Answered::new(3);
        for fingerprint in 0..10 {
            answered.record(fingerprint, at(0));
            assert!(answered.len() <= 6);
        }
        // The newest three and those of the generation before them are known…
        for fingerprint in 6..10 {
            assert!(answered.contains(fingerprint, at(1)), "{fingerprint}");
        }
        // …the oldest are gone.
        for fingerprint in 0..3 {
            assert!(!answered.contains(fingerprint, at(1)), "{fingerprint}");
        }
    }
}
