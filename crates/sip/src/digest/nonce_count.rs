//! Nonce-count replay protection (RFC 7616 §3.4 `nc`): the highest `nc` accepted per
//! nonce, in bounded memory.
//!
//! Two generations of maps: new entries go to the current one; when it is full, the
//! previous one is dropped and the current one takes its place (an LRU approximation;
//! a nonce used again is moved up). A nonce forgotten that way could be replayed, so any
//! nonce we do not know that was issued no later than the newest forgotten one is refused
//! as stale: the client just fetches a fresh nonce.
//!
//! The maps are [`IdTable`]s keyed by the id's low 64 bits: ids are HMAC tags, so two
//! live nonces share those bits about once in 2^64 / (nonces tracked), and then one of them
//! is merely challenged again.

use super::error::DigestError;
use crate::id_table::IdTable;

/// Bounded map from nonce id to the highest nonce-count accepted.
#[derive(Debug)]
pub struct NonceCounts {
    current: IdMap,
    previous: IdMap,
    generation_capacity: usize,
    current_newest: u64,
    previous_newest: u64,
    forgotten_up_to: u64,
}

type IdMap = IdTable<u32>;

impl NonceCounts {
    /// Tracks at most `capacity` nonces (at least 2).
    pub fn new(capacity: usize) -> Self {
        Self {
            current: IdMap::default(),
            previous: IdMap::default(),
            generation_capacity: (capacity / 2).max(1),
            current_newest: 0,
            previous_newest: 0,
            forgotten_up_to: 0,
        }
    }

    /// Number of nonces tracked.
    pub fn len(&self) -> usize {
        self.current.len() + self.previous.len()
    }

    /// True when no nonce is tracked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Starts loading where nonce `id` is tracked, ahead of [`Self::check_and_record`]: the
    /// table is larger than the cache, and the load can overlap the caller's hashing.
    pub fn prefetch(&self, id: u128) {
        self.current.prefetch(key(id));
    }

    /// Accepts `nc` for nonce `id` (issued at `issued`, Unix seconds) if it is higher than
    /// any accepted before, and records it.
    pub fn check_and_record(&mut self, id: u128, issued: u64, nc: u32) -> Result<(), DigestError> {
        let id = key(id);
        if let Some(seen) = self.current.get_mut(id) {
            return bump(seen, nc);
        }
        // Every nonce in the previous generation was issued no later than its newest, so a
        // newer one (every fresh nonce, but in the second of a rotation) is not looked for
        // there: one probe of the maps less for each new nonce.
        let previous = if issued <= self.previous_newest {
            self.previous.remove(id)
        } else {
            None
        };
        let seen = match previous {
            Some(seen) => seen,
            None if issued <= self.forgotten_up_to => return Err(DigestError::Stale),
            None => 0,
        };
        if nc <= seen {
            // Keep it tracked: the refusal must not make it forgettable.
            self.insert(id, issued, seen);
            return Err(DigestError::Replay { nc, seen });
        }
        self.insert(id, issued, nc);
        Ok(())
    }

    fn insert(&mut self, id: u64, issued: u64, nc: u32) {
        if self.current.len() >= self.generation_capacity {
            self.forgotten_up_to = self.forgotten_up_to.max(self.previous_newest);
            // The dropped generation's table becomes the new current one: every generation
            // fills to the same size, so after the first two no insert grows a table (a
            // growth rehashes everything in it at once, stalling the caller).
            std::mem::swap(&mut self.previous, &mut self.current);
            self.current.clear();
            self.previous_newest = self.current_newest;
            self.current_newest = 0;
        }
        self.current.insert(id, nc);
        self.current_newest = self.current_newest.max(issued);
    }
}

fn bump(seen: &mut u32, nc: u32) -> Result<(), DigestError> {
    if nc <= *seen {
        return Err(DigestError::Replay { nc, seen: *seen });
    }
    *seen = nc;
    Ok(())
}

/// The table key of nonce `id`: its low 64 bits, already uniform (an HMAC tag nobody can
/// choose without the secret).
fn key(id: u128) -> u64 {
    id as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7616_3_4_nonce_count_must_increase() {
        let mut counts = NonceCounts::new(16);
        assert_eq!(counts.check_and_record(7, 100, 1), Ok(()));
        assert_eq!(
            counts.check_and_record(7, 100, 1),
            Err(DigestError::Replay { nc: 1, seen: 1 })
        );
        assert_eq!(counts.check_and_record(7, 100, 3), Ok(()));
        assert_eq!(
            counts.check_and_record(7, 100, 2),
            Err(DigestError::Replay { nc: 2, seen: 3 })
        );
        // Another nonce has its own count.
        assert_eq!(counts.check_and_record(8, 100, 1), Ok(()));
    }

    #[test]
    fn rfc7616_3_4_memory_is_bounded_and_forgotten_nonces_are_stale() {
        let mut counts = NonceCounts::new(4);
        for id in 0..10u128 {
            counts.check_and_record(id, 100 + id as u64, 1).unwrap();
            assert!(counts.len() <= 4);
        }
        // Ids 0..=5 were dropped with older generations: refused as stale, not replayable.
        assert_eq!(counts.check_and_record(0, 100, 1), Err(DigestError::Stale));
        assert_eq!(counts.check_and_record(0, 100, 2), Err(DigestError::Stale));
        // Still tracked ones keep their counts, even from the previous generation.
        assert_eq!(
            counts.check_and_record(7, 107, 1),
            Err(DigestError::Replay { nc: 1, seen: 1 })
        );
        assert_eq!(counts.check_and_record(8, 108, 2), Ok(()));
        // A nonce issued after everything forgotten is new.
        assert_eq!(counts.check_and_record(99, 200, 1), Ok(()));
    }

    // The previous generation is searched only for nonces issued no later than its newest:
    // one issued in that very second must still be found there.
    #[test]
    fn rfc7616_3_4_a_replay_from_the_previous_generation_is_found_in_its_newest_second() {
        let mut counts = NonceCounts::new(4);
        counts.check_and_record(1, 100, 1).unwrap();
        counts.check_and_record(2, 100, 1).unwrap();
        // A third nonce rotates the generations: 1 and 2 are now the previous one's.
        counts.check_and_record(3, 100, 1).unwrap();
        assert_eq!(
            counts.check_and_record(2, 100, 1),
            Err(DigestError::Replay { nc: 1, seen: 1 })
        );
        assert_eq!(counts.check_and_record(1, 100, 2), Ok(()));
        // A nonce issued later than anything tracked is new, and then tracked.
        assert_eq!(counts.check_and_record(4, 101, 1), Ok(()));
        assert_eq!(
            counts.check_and_record(4, 101, 1),
            Err(DigestError::Replay { nc: 1, seen: 1 })
        );
    }

    #[test]
    fn rfc7616_3_4_reused_nonce_survives_rotation() {
        let mut counts = NonceCounts::new(4);
        counts.check_and_record(1, 100, 1).unwrap();
        for id in 10..20u128 {
            // Nonce 1 in steady use is moved up each time and never forgotten.
            counts.check_and_record(id, 100 + id as u64, 1).unwrap();
            let nc = (id - 8) as u32;
            assert_eq!(counts.check_and_record(1, 100, nc), Ok(()), "nc {nc}");
        }
    }
}
