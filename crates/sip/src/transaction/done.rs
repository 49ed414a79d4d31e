//! Server non-INVITE transactions over UDP in Completed (RFC 3261 §17.2.2): all such a
//! transaction still does is send its final response again to a retransmitted request until
//! Timer J, so only the key and the response's bytes are kept, not a slot with a state
//! machine. A registrar answering 30,000 REGISTERs a second keeps about a million of them.
//!
//! Timer J is the same for every one, so they expire in the order they completed: they sit
//! in a FIFO of fixed-size chunks (growing never moves what is stored, and a chunk passed
//! by expiry is reused), numbered by a running sequence. The key index holds only (hash,
//! sequence) pairs, and when it is full it is not rehashed in one go — that stalled the
//! server for tens of milliseconds at a time while it touched a table of fresh memory, and
//! every peer's requests queued up behind it. A table twice the size takes new entries and
//! each insert moves two old ones over, in FIFO order; lookups try both until the old one
//! is empty.

use std::collections::VecDeque;
use std::time::Instant;

use bytes::Bytes;
use hashbrown::HashTable;

use super::key::TransactionKey;

/// Completed transactions the first index holds before it is replaced by a larger one.
const INDEX_START: usize = 1 << 16;

/// Completed transactions per FIFO chunk.
const CHUNK: usize = 4096;

/// Old index entries moved to the new index per insert while one is being replaced: more
/// than one, so the move ends before the new index fills.
const MOVE_PER_INSERT: usize = 2;

/// One completed transaction; `response` is `None` once it was forgotten or expired.
struct Completed {
    until: Instant,
    key: TransactionKey,
    response: Option<Bytes>,
}

/// An index entry: the key's hash and the transaction's sequence number.
type IndexEntry = (u64, u64);

/// The completed transactions and their key index.
pub(super) struct Done {
    chunks: VecDeque<Vec<Completed>>,
    /// A chunk passed by expiry, kept for the next one needed.
    spare: Option<Vec<Completed>>,
    /// Sequence number of the oldest entry still in `chunks` (`chunks[0][front % CHUNK]`).
    front: u64,
    /// Sequence number the next completed transaction gets.
    next: u64,
    index: HashTable<IndexEntry>,
    /// The index being replaced, while its entries move to `index`.
    old: Option<OldIndex>,
}

/// An index being emptied into its larger successor.
struct OldIndex {
    table: HashTable<IndexEntry>,
    /// Entries with a lower sequence number have moved (or expired).
    moved: u64,
    /// Entries from this sequence number on were never in `table`.
    end: u64,
}

impl Default for Done {
    fn default() -> Self {
        Self {
            chunks: VecDeque::new(),
            spare: None,
            front: 0,
            next: 0,
            index: HashTable::with_capacity(INDEX_START),
            old: None,
        }
    }
}

impl Done {
    /// Completed transactions kept.
    pub(super) fn len(&self) -> usize {
        self.index.len() + self.old.as_ref().map_or(0, |old| old.table.len())
    }

    /// Keeps `response` for `key` until `until` (raised to the newest deadline so far, so the
    /// FIFO stays in deadline order); replaces what `key` had.
    pub(super) fn insert(&mut self, key: TransactionKey, response: Bytes, until: Instant) {
        self.forget(&key);
        let until = self.newest().map_or(until, |last| until.max(last));
        let seq = self.next;
        let hash = key.hash_value();
        self.push(Completed {
            until,
            key,
            response: Some(response),
        });
        self.next += 1;
        if self.old.is_none() && self.index.len() >= self.index.capacity() {
            let bigger = HashTable::with_capacity(self.index.capacity() * 2);
            let table = std::mem::replace(&mut self.index, bigger);
            self.old = Some(OldIndex {
                table,
                moved: self.front,
                end: seq,
            });
        }
        self.index.insert_unique(hash, (hash, seq), |e| e.0);
        self.move_some();
    }

    /// The stored response of `key`.
    pub(super) fn get(&self, key: &TransactionKey) -> Option<&Bytes> {
        let seq = self.find(key)?;
        self.entry(seq)?.response.as_ref()
    }

    /// Forgets `key` (its transport failed); `false` if unknown.
    pub(super) fn forget(&mut self, key: &TransactionKey) -> bool {
        let Some(seq) = self.find(key) else {
            return false;
        };
        self.unindex(key.hash_value(), seq);
        if let Some(entry) = self.entry_mut(seq) {
            entry.response = None;
        }
        true
    }

    /// Timer J of the oldest entry (perhaps forgotten already: it then fires for nothing).
    pub(super) fn first_deadline(&self) -> Option<Instant> {
        self.entry(self.front).map(|e| e.until)
    }

    /// Drops the entries whose Timer J is at or before `now`; returns how many were kept
    /// until then (forgotten ones are not counted).
    pub(super) fn expire(&mut self, now: Instant) -> usize {
        let mut expired = 0;
        while let Some(entry) = self.entry_mut(self.front) {
            if entry.until > now {
                break;
            }
            if entry.response.take().is_some() {
                let hash = entry.key.hash_value();
                self.unindex(hash, self.front);
                expired += 1;
            }
            self.front += 1;
            let boundary = self.front % CHUNK as u64 == 0;
            if boundary || self.front == self.next {
                if let Some(mut chunk) = self.chunks.pop_front() {
                    chunk.clear();
                    self.spare = Some(chunk);
                }
                if !boundary {
                    // All expired, mid-chunk: the next entry starts a chunk of its own, as
                    // positions are counted from chunk boundaries.
                    self.front = self.front.next_multiple_of(CHUNK as u64);
                    self.next = self.front;
                }
            }
        }
        expired
    }

    fn newest(&self) -> Option<Instant> {
        self.chunks.back()?.last().map(|e| e.until)
    }

    fn push(&mut self, completed: Completed) {
        if self.chunks.back().is_none_or(|c| c.len() == CHUNK) {
            let chunk = self
                .spare
                .take()
                .unwrap_or_else(|| Vec::with_capacity(CHUNK));
            self.chunks.push_back(chunk);
        }
        if let Some(chunk) = self.chunks.back_mut() {
            chunk.push(completed);
        }
    }

    fn position(&self, seq: u64) -> Option<(usize, usize)> {
        if seq < self.front || seq >= self.next {
            return None;
        }
        let first_chunk = self.front / CHUNK as u64;
        let chunk = usize::try_from(seq / CHUNK as u64 - first_chunk).ok()?;
        Some((chunk, (seq % CHUNK as u64) as usize))
    }

    fn entry(&self, seq: u64) -> Option<&Completed> {
        let (chunk, at) = self.position(seq)?;
        self.chunks.get(chunk)?.get(at)
    }

    fn entry_mut(&mut self, seq: u64) -> Option<&mut Completed> {
        let (chunk, at) = self.position(seq)?;
        self.chunks.get_mut(chunk)?.get_mut(at)
    }

    /// The sequence number of `key`'s live entry.
    fn find(&self, key: &TransactionKey) -> Option<u64> {
        let hash = key.hash_value();
        let matches =
            |e: &IndexEntry| e.0 == hash && self.entry(e.1).is_some_and(|c| c.key == *key);
        if let Some(found) = self.index.find(hash, matches) {
            return Some(found.1);
        }
        let old = self.old.as_ref()?;
        old.table.find(hash, matches).map(|e| e.1)
    }

    /// Removes entry `seq` (of key hash `hash`) from whichever index holds it.
    fn unindex(&mut self, hash: u64, seq: u64) {
        if let Ok(found) = self.index.find_entry(hash, |e| e.1 == seq) {
            found.remove();
            return;
        }
        if let Some(old) = self.old.as_mut() {
            if let Ok(found) = old.table.find_entry(hash, |e| e.1 == seq) {
                found.remove();
            }
        }
    }

    /// Moves a few entries of the old index to the new one, oldest first; drops the old
    /// index when it is empty.
    fn move_some(&mut self) {
        let Some(mut old) = self.old.take() else {
            return;
        };
        // Expired entries have left the old index already.
        old.moved = old.moved.max(self.front);
        let mut budget = MOVE_PER_INSERT;
        while budget > 0 && old.moved < old.end && !old.table.is_empty() {
            let seq = old.moved;
            old.moved += 1;
            let Some(hash) = self
                .entry(seq)
                .filter(|e| e.response.is_some())
                .map(|e| e.key.hash_value())
            else {
                continue;
            };
            if let Ok(found) = old.table.find_entry(hash, |e| e.1 == seq) {
                found.remove();
                self.index.insert_unique(hash, (hash, seq), |e| e.0);
                budget -= 1;
            }
        }
        if old.moved < old.end && !old.table.is_empty() {
            self.old = Some(old);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn key(i: usize) -> TransactionKey {
        TransactionKey::server(&format!("z9hG4bK{i}"), "192.0.2.1", 5060, "REGISTER")
    }

    fn body(i: usize) -> Bytes {
        Bytes::from(format!("response {i}"))
    }

    // RFC 3261 §17.2.2: through an index replacement and chunk recycling, every completed
    // transaction is found with its own response until its Timer J, and none after.
    #[test]
    fn rfc3261_17_2_2_every_completed_transaction_is_found_until_timer_j() {
        let t = Instant::now();
        let ms = Duration::from_millis;
        let mut done = Done::default();
        // Four completions a millisecond for 60 s, Timer J 32 s: 128,000 kept at the peak,
        // more than the first index holds.
        let per_ms = 4;
        let total = 60_000 * per_ms;
        let kept = 32_000 * per_ms;
        let mut replaced = false;
        for i in 0..total {
            let now = t + ms((i / per_ms) as u64);
            done.expire(now);
            done.insert(key(i), body(i), now + ms(32_000));
            replaced |= done.old.is_some();
            if i % 997 == 0 {
                // The oldest one still kept, and the newest one expired.
                let oldest = (i / per_ms).saturating_sub(31_999) * per_ms;
                assert_eq!(done.get(&key(oldest)), Some(&body(oldest)), "{i}");
                if oldest > 0 {
                    assert_eq!(done.get(&key(oldest - 1)), None, "{i}");
                }
            }
            assert!(done.len() <= kept + per_ms);
        }
        assert!(replaced, "the index was replaced by a larger one");
        assert!(done.old.is_none(), "and the move to it finished");
        for i in total - kept..total {
            assert_eq!(done.get(&key(i)), Some(&body(i)), "{i}");
        }
        // Everything expires; the FIFO restarts cleanly afterwards, mid-chunk.
        let end = t + ms(100_000);
        assert_eq!(done.expire(end), kept);
        assert_eq!(done.len(), 0);
        assert_eq!(done.first_deadline(), None);
        done.insert(key(1), body(1), end + ms(5));
        assert_eq!(done.get(&key(1)), Some(&body(1)));
        assert_eq!(done.first_deadline(), Some(end + ms(5)));
        assert_eq!(done.expire(end + ms(5)), 1);
        assert_eq!(done.len(), 0);
    }

    // RFC 3261 §17.2.2: the index is replaced during a burst (no expiry in between), and a
    // transaction forgotten meanwhile is found in neither index.
    #[test]
    fn rfc3261_17_2_2_index_replacement_under_a_burst_and_forgetting() {
        let t = Instant::now();
        let mut done = Done::default();
        let n = INDEX_START * 4;
        let mut forgotten = None;
        for i in 0..n {
            done.insert(key(i), body(i), t);
            if forgotten.is_none() && done.old.is_some() {
                assert!(done.forget(&key(3)), "forgotten from the old index");
                assert!(done.forget(&key(i)), "forgotten from the new index");
                assert!(!done.forget(&key(3)));
                forgotten = Some(i);
            }
        }
        let Some(late) = forgotten else {
            panic!("no index replacement in {n} inserts");
        };
        assert_eq!(done.len(), n - 2);
        for i in 0..n {
            let want = (i != 3 && i != late).then(|| body(i));
            assert_eq!(done.get(&key(i)), want.as_ref(), "{i}");
        }
        assert_eq!(done.expire(t), n - 2);
        assert_eq!(done.len(), 0);
    }

    // RFC 3261 §17.2.2: completing a key again replaces its response and its deadline, and
    // deadlines never go backwards in the FIFO.
    #[test]
    fn rfc3261_17_2_2_completing_again_replaces() {
        let t = Instant::now();
        let s = Duration::from_secs;
        let mut done = Done::default();
        done.insert(key(1), body(1), t + s(32));
        done.insert(key(2), body(2), t + s(10)); // raised to 32 s
        done.insert(key(1), body(11), t + s(40));
        assert_eq!(done.len(), 2);
        assert_eq!(done.get(&key(1)), Some(&body(11)));
        assert_eq!(done.expire(t + s(32)), 1, "key 2 at the raised deadline");
        assert_eq!(done.get(&key(2)), None);
        assert_eq!(done.get(&key(1)), Some(&body(11)));
        assert_eq!(done.expire(t + s(40)), 1);
    }
}
