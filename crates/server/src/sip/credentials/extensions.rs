//! A domain's cached digest users, found by extension through an [`IdTable`] of seeded
//! hashes into a dense list. A general map's lines load only as its probe reaches them,
//! one miss after another; here the index slot and then the entry can be prefetched while
//! the request is still being read (the cache outgrows the CPU's, and every authenticated
//! request reads it).

use std::hash::BuildHasher;

use compact_str::CompactString;
use foldhash::fast::RandomState;
use hotdesk_sip::id_table::{self, IdTable};

/// Entries of type `E` by extension.
pub(super) struct Extensions<E> {
    /// Seeded: only existing extensions are inserted, so no one can choose colliding keys.
    hasher: RandomState,
    /// Hash of an extension → its place in `slots`.
    index: IdTable<u32>,
    slots: Vec<Slot<E>>,
}

struct Slot<E> {
    ext: CompactString,
    hash: u64,
    entry: E,
}

impl<E> Default for Extensions<E> {
    fn default() -> Self {
        Self {
            hasher: RandomState::default(),
            index: IdTable::new(),
            slots: Vec::new(),
        }
    }
}

impl<E> Extensions<E> {
    /// Entries held.
    pub(super) fn len(&self) -> usize {
        self.slots.len()
    }

    /// The entry of `ext`.
    pub(super) fn get_mut(&mut self, ext: &str) -> Option<&mut E> {
        let at = self.position(ext)?;
        self.slots.get_mut(at).map(|slot| &mut slot.entry)
    }

    /// Stores `entry` for `ext`. Should two extensions' 64-bit hashes meet (about once in
    /// 2^64 / entries), the later one is not kept, and its lookups derive afresh.
    pub(super) fn insert(&mut self, ext: &str, entry: E) {
        let hash = self.hasher.hash_one(ext);
        match self.index.get(hash) {
            Some(&at) => {
                if let Some(slot) = self.slots.get_mut(at as usize) {
                    if slot.ext == ext {
                        slot.entry = entry;
                    }
                }
            }
            None => {
                let Ok(at) = u32::try_from(self.slots.len()) else {
                    return;
                };
                self.index.insert(hash, at);
                self.slots.push(Slot {
                    ext: CompactString::from(ext),
                    hash,
                    entry,
                });
            }
        }
    }

    /// Forgets `ext`; the last entry moves into its place.
    pub(super) fn remove(&mut self, ext: &str) {
        let Some(at) = self.position(ext) else {
            return;
        };
        let removed = self.slots.swap_remove(at);
        self.index.remove(removed.hash);
        if let (Some(moved), Ok(at)) = (self.slots.get(at), u32::try_from(at)) {
            self.index.insert(moved.hash, at);
        }
    }

    /// Starts loading the index slot of `ext`, for [`Self::prefetch_entry`] a little later.
    pub(super) fn prefetch_index(&self, ext: &str) {
        self.index.prefetch(self.hasher.hash_one(ext));
    }

    /// Starts loading the entry of `ext`, for a lookup a little later (reads the index slot,
    /// which [`Self::prefetch_index`] loads).
    pub(super) fn prefetch_entry(&self, ext: &str) {
        let hash = self.hasher.hash_one(ext);
        if let Some(slot) = self
            .index
            .get(hash)
            .and_then(|&at| self.slots.get(at as usize))
        {
            id_table::prefetch(slot);
        }
    }

    fn position(&self, ext: &str) -> Option<usize> {
        let at = *self.index.get(self.hasher.hash_one(ext))? as usize;
        self.slots
            .get(at)
            .filter(|slot| slot.ext == ext)
            .map(|_| at)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    // The cache must answer as a map would through inserts, replacements and removals
    // (a removal moves the last entry: its index must follow).
    #[test]
    fn hd_sec_3_extensions_behave_as_a_map() {
        let mut table = Extensions::<u32>::default();
        let mut model = HashMap::new();
        // A fixed pseudo-random walk (64-bit LCG): each extension meets every operation.
        let mut state = 42u64;
        for n in 0..5_000u32 {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let ext = format!("{}", 1000 + (state >> 33) % 300);
            match (state >> 20) % 4 {
                0 | 1 => {
                    table.insert(&ext, n);
                    model.insert(ext, n);
                }
                2 => {
                    table.remove(&ext);
                    model.remove(&ext);
                }
                _ => assert_eq!(table.get_mut(&ext).copied(), model.get(&ext).copied()),
            }
            assert_eq!(table.len(), model.len());
        }
        for (ext, n) in &model {
            assert_eq!(table.get_mut(ext).copied(), Some(*n), "{ext}");
            table.prefetch_index(ext);
            table.prefetch_entry(ext);
        }
        assert_eq!(table.get_mut("no such extension"), None);
        table.prefetch_entry("no such extension");
    }
}
