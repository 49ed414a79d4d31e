//! The transaction table: slots indexed by [`TransactionKey`], and a heap of deadlines
//! with lazy deletion, so finding due timers never scans all transactions.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::net::SocketAddr;
use std::time::Instant;

use super::key::TransactionKey;
use super::layer::Machine;
use crate::header::Transport;

/// Slots, the key index and the deadline heap.
#[derive(Default)]
pub(super) struct Table {
    slots: Vec<Slot>,
    free: Vec<u32>,
    index: HashMap<TransactionKey, u32>,
    /// (deadline, slot, slot generation). An item is stale when its slot was released
    /// since (generation differs) or the entry's deadline moved (`scheduled` differs); stale
    /// items are skipped when they reach the top.
    heap: BinaryHeap<Reverse<(Instant, u32, u32)>>,
}

#[derive(Default)]
struct Slot {
    generation: u32,
    entry: Option<Entry>,
}

/// One transaction: its head and its state machine.
pub(super) struct Entry {
    pub(super) head: Head,
    pub(super) machine: Machine,
}

/// What every transaction has besides its state.
pub(super) struct Head {
    pub(super) key: TransactionKey,
    /// Where this transaction's messages go: the request's destination (client) or
    /// source (server).
    pub(super) peer: SocketAddr,
    pub(super) transport: Transport,
    /// The deadline pushed on the heap for it, if any.
    pub(super) scheduled: Option<Instant>,
}

impl Table {
    /// Live transactions.
    pub(super) fn len(&self) -> usize {
        self.index.len()
    }

    /// The slot of transaction `key`.
    pub(super) fn slot_of(&self, key: &TransactionKey) -> Option<u32> {
        self.index.get(key).copied()
    }

    /// Adds a transaction and schedules its first deadline.
    pub(super) fn insert(
        &mut self,
        key: TransactionKey,
        peer: SocketAddr,
        transport: Transport,
        machine: Machine,
    ) -> u32 {
        let slot = match self.free.pop() {
            Some(slot) => slot,
            None => {
                self.slots.push(Slot::default());
                (self.slots.len() - 1) as u32
            }
        };
        self.index.insert(key.clone(), slot);
        let head = Head {
            key,
            peer,
            transport,
            scheduled: None,
        };
        self.put(slot, Entry { head, machine });
        slot
    }

    /// Stores `entry` back in `slot`, pushing its deadline if it changed.
    pub(super) fn put(&mut self, slot: u32, mut entry: Entry) {
        let deadline = entry.machine.deadline();
        let Some(s) = self.slots.get_mut(slot as usize) else {
            return;
        };
        if deadline != entry.head.scheduled {
            entry.head.scheduled = deadline;
            if let Some(at) = deadline {
                self.heap.push(Reverse((at, slot, s.generation)));
            }
        }
        s.entry = Some(entry);
    }

    /// The entry in `slot`, to look at.
    #[cfg(test)]
    pub(super) fn get(&self, slot: u32) -> Option<&Entry> {
        self.slots.get(slot as usize)?.entry.as_ref()
    }

    /// Takes the entry out of `slot` to run its machine; `put` or `release` follows.
    pub(super) fn take(&mut self, slot: u32) -> Option<Entry> {
        self.slots.get_mut(slot as usize)?.entry.take()
    }

    /// Frees `slot` (already taken) and forgets `key`.
    pub(super) fn release(&mut self, slot: u32, key: &TransactionKey) {
        self.index.remove(key);
        if let Some(s) = self.slots.get_mut(slot as usize) {
            s.entry = None;
            s.generation = s.generation.wrapping_add(1);
            self.free.push(slot);
        }
    }

    /// Takes out the next entry whose deadline is at or before `now` (its `scheduled`
    /// cleared), skipping stale heap items.
    pub(super) fn pop_due(&mut self, now: Instant) -> Option<(u32, Entry)> {
        while let Some(&Reverse((at, slot, generation))) = self.heap.peek() {
            if at > now {
                return None;
            }
            self.heap.pop();
            if self.is_live(at, slot, generation) {
                let mut entry = self.take(slot)?;
                entry.head.scheduled = None;
                return Some((slot, entry));
            }
        }
        None
    }

    /// The earliest live deadline, dropping stale items from the top.
    pub(super) fn next_deadline(&mut self) -> Option<Instant> {
        while let Some(&Reverse((at, slot, generation))) = self.heap.peek() {
            if self.is_live(at, slot, generation) {
                return Some(at);
            }
            self.heap.pop();
        }
        None
    }

    fn is_live(&self, at: Instant, slot: u32, generation: u32) -> bool {
        self.slots.get(slot as usize).is_some_and(|s| {
            s.generation == generation
                && s.entry
                    .as_ref()
                    .is_some_and(|e| e.head.scheduled == Some(at))
        })
    }
}
