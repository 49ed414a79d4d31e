//! A hash table for keys that are already random (HMAC tags, request fingerprints), built
//! for tables larger than the cache: each key sits beside its value in the slot its bits
//! pick, with linear probing, so a probe reads one cache line. A general map reads a group
//! of control bytes and then the slot, two lines that each miss the cache.
//!
//! [`IdTable::prefetch`] starts loading a key's line ahead of the probe, so the miss can
//! overlap work the caller does in between.

/// Slot key meaning "empty". A real key of this value is stored as [`ZERO_STANDS_IN`].
const EMPTY: u64 = 0;
/// What key 0 is stored as; keys are random, so the one key it then equals never shows up in
/// practice.
const ZERO_STANDS_IN: u64 = 0x9e37_79b9_7f4a_7c15;
/// Slots a new table starts with.
const FIRST_CAPACITY: usize = 64;

/// Values of type `V` by 64-bit random key; at most half full (then it doubles).
#[derive(Debug, Clone)]
pub struct IdTable<V> {
    slots: Vec<Slot<V>>,
    len: usize,
    /// `64 - log2(slots.len())`: the slot index is the top bits of the mixed key.
    shift: u32,
}

#[derive(Debug, Clone, Copy)]
struct Slot<V> {
    key: u64,
    value: V,
}

impl<V: Copy + Default> Default for IdTable<V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<V: Copy + Default> IdTable<V> {
    /// An empty table.
    pub fn new() -> Self {
        Self {
            slots: vec![Slot::empty(); FIRST_CAPACITY],
            len: 0,
            shift: 64 - FIRST_CAPACITY.trailing_zeros(),
        }
    }

    /// Keys stored.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when no key is stored.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Empties the table, keeping its slots (so a table refilled to the same size never
    /// grows again).
    pub fn clear(&mut self) {
        if self.len > 0 {
            self.slots.fill(Slot::empty());
            self.len = 0;
        }
    }

    /// Starts loading the cache line where `key` would be, without waiting for it.
    pub fn prefetch(&self, key: u64) {
        if let Some(slot) = self.slots.get(self.home(stored(key))) {
            prefetch(slot);
        }
    }

    /// The value of `key`.
    pub fn get(&self, key: u64) -> Option<&V> {
        let key = stored(key);
        self.find(key).ok().map(|i| &self.slots[i].value)
    }

    /// The value of `key`, to change.
    pub fn get_mut(&mut self, key: u64) -> Option<&mut V> {
        let key = stored(key);
        self.find(key).ok().map(|i| &mut self.slots[i].value)
    }

    /// The value of `key`, stored as `value` first if the key was absent; `true` when it was
    /// just stored. One probe for both the lookup and the insert.
    pub fn get_or_insert(&mut self, key: u64, value: V) -> (&mut V, bool) {
        let key = stored(key);
        if (self.len + 1) * 2 > self.slots.len() {
            self.grow();
        }
        match self.find(key) {
            Ok(i) => (&mut self.slots[i].value, false),
            Err(i) => {
                self.slots[i] = Slot { key, value };
                self.len += 1;
                (&mut self.slots[i].value, true)
            }
        }
    }

    /// Stores `value` under `key`, replacing any value it had.
    pub fn insert(&mut self, key: u64, value: V) {
        let (slot, inserted) = self.get_or_insert(key, value);
        if !inserted {
            *slot = value;
        }
    }

    /// Removes `key`, returning its value.
    pub fn remove(&mut self, key: u64) -> Option<V> {
        let key = stored(key);
        let mut hole = self.find(key).ok()?;
        let value = self.slots[hole].value;
        // Backward-shift deletion: a key further along the run that could live in the hole
        // moves into it, so no probe ever stops early at the gap.
        let mask = self.slots.len() - 1;
        let mut next = hole;
        loop {
            next = (next + 1) & mask;
            let candidate = self.slots[next].key;
            if candidate == EMPTY {
                break;
            }
            let home = self.home(candidate);
            // The candidate may move back iff the hole lies on its probe path, i.e. between
            // its home and where it sits (cyclically).
            if next.wrapping_sub(home) & mask >= next.wrapping_sub(hole) & mask {
                self.slots[hole] = self.slots[next];
                hole = next;
            }
        }
        self.slots[hole] = Slot::empty();
        self.len -= 1;
        Some(value)
    }

    /// The slot holding `key`, or the empty slot where it would go.
    fn find(&self, key: u64) -> Result<usize, usize> {
        let mask = self.slots.len() - 1;
        let mut i = self.home(key);
        // At most half full: an empty slot always ends the run.
        loop {
            match self.slots[i].key {
                k if k == key => return Ok(i),
                EMPTY => return Err(i),
                _ => i = (i + 1) & mask,
            }
        }
    }

    fn home(&self, key: u64) -> usize {
        // Fibonacci hashing: the top bits of the product depend on every bit of the key, so
        // even keys that vary only in their high bits spread out.
        (key.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> self.shift) as usize
    }

    fn grow(&mut self) {
        let doubled = vec![Slot::empty(); self.slots.len() * 2];
        let old = std::mem::replace(&mut self.slots, doubled);
        self.shift -= 1;
        for slot in old.into_iter().filter(|s| s.key != EMPTY) {
            if let Err(i) = self.find(slot.key) {
                self.slots[i] = slot;
            }
        }
    }
}

impl<V: Copy + Default> Slot<V> {
    fn empty() -> Self {
        Self {
            key: EMPTY,
            value: V::default(),
        }
    }
}

/// Starts loading the cache lines `value` spans, without waiting for them (a no-op but on
/// x86-64).
pub fn prefetch<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        const LINE: usize = 64;
        let start = std::ptr::from_ref(value).cast::<i8>();
        // The line of the first byte, then one every 64 bytes up to the last byte's line.
        let offset = start as usize % LINE;
        let mut at = 0;
        while at < offset + size_of::<T>().max(1) {
            // SAFETY: a prefetch is only a hint: it reads nothing and cannot fault. The
            // address stays within, or on the last line of, the live value.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(start.wrapping_add(at).wrapping_sub(offset)) };
            at += LINE;
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}

fn stored(key: u64) -> u64 {
    if key == EMPTY {
        ZERO_STANDS_IN
    } else {
        key
    }
}

#[cfg(test)]
mod tests {
    //! The table behind two rules: RFC 7616 §3.4 (the nonce counts accepted, so a replayed
    //! count is refused) and RFC 3261 §8.2.7 (the REGISTERs answered 200, so a retransmission
    //! gets the same 200). A key lost or misplaced here breaks either.

    use std::collections::HashMap;

    use super::*;

    /// A small deterministic random sequence (xorshift64*), so failures replay.
    fn keys(seed: u64) -> impl Iterator<Item = u64> {
        let mut x = seed | 1;
        std::iter::repeat_with(move || {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            x.wrapping_mul(0x2545_f491_4f6c_dd1d)
        })
    }

    #[test]
    fn behaves_as_a_map_through_inserts_removals_and_growth() {
        let mut table = IdTable::<u32>::new();
        let mut model = HashMap::new();
        // Few distinct keys (low bits only, then mixed) so removals and re-inserts meet.
        for (n, k) in keys(7).take(20_000).enumerate() {
            let key = k % 3_000;
            match n % 5 {
                0 | 1 => {
                    table.insert(key, n as u32);
                    model.insert(key, n as u32);
                }
                2 => assert_eq!(table.remove(key), model.remove(&key), "remove {key}"),
                3 => {
                    let (value, inserted) = table.get_or_insert(key, n as u32);
                    assert_eq!(inserted, !model.contains_key(&key));
                    assert_eq!(*value, *model.entry(key).or_insert(n as u32));
                }
                _ => assert_eq!(table.get(key), model.get(&key), "get {key}"),
            }
            assert_eq!(table.len(), model.len());
        }
        for (key, value) in &model {
            assert_eq!(table.get(*key), Some(value));
        }
        assert!(table.slots.len() >= 2 * table.len());
    }

    // Keys crowded into one run: removing from its middle must keep every later key
    // reachable (the backward shift), also across the end of the slots.
    #[test]
    fn removal_inside_a_run_keeps_the_rest_reachable() {
        let mut table = IdTable::<u8>::new();
        let capacity = table.slots.len();
        // Keys whose home is the last slot or the one before, so runs wrap around.
        let crowded: Vec<u64> = keys(3)
            .filter(|&k| table.home(stored(k)) >= capacity - 2)
            .take(12)
            .collect();
        for (i, &k) in crowded.iter().enumerate() {
            table.insert(k, i as u8);
        }
        assert_eq!(table.slots.len(), capacity, "no growth in this test");
        for (i, &k) in crowded.iter().enumerate().step_by(3) {
            assert_eq!(table.remove(k), Some(i as u8));
            assert_eq!(table.remove(k), None);
        }
        for (i, &k) in crowded.iter().enumerate() {
            let expected = (i % 3 != 0).then_some(i as u8);
            assert_eq!(table.get(k).copied(), expected, "key {i}");
        }
    }

    // A table far larger than the cache, grown many times over: every key reads back as
    // written, and a clear forgets them all.
    #[test]
    fn a_large_table_keeps_every_key() {
        let mut table = IdTable::<u32>::new();
        let stored: Vec<u64> = keys(5).take(150_000).collect();
        for (i, &k) in stored.iter().enumerate() {
            table.insert(k, i as u32);
        }
        assert!(table.slots.len() * size_of::<Slot<u32>>() > 4 << 20);
        for (i, &k) in stored.iter().enumerate() {
            assert_eq!(table.get(k), Some(&(i as u32)));
        }
        table.clear();
        assert!(stored.iter().all(|&k| table.get(k).is_none()));
    }

    #[test]
    fn key_zero_is_an_ordinary_key_and_clear_forgets_everything() {
        let mut table = IdTable::<u16>::new();
        table.insert(0, 5);
        assert_eq!(table.get(0), Some(&5));
        *table.get_mut(0).expect("stored") += 1;
        assert_eq!(table.remove(0), Some(6));
        assert!(table.is_empty());
        for k in keys(11).take(1_000) {
            table.insert(k, 1);
        }
        let slots = table.slots.len();
        table.clear();
        assert!(table.is_empty());
        assert_eq!(table.get(keys(11).next().expect("endless")), None);
        assert_eq!(table.slots.len(), slots, "clear keeps the slots");
        table.prefetch(42);
    }
}
