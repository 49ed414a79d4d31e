//! The transaction table: slots indexed by [`TransactionKey`], deadlines in a FIFO lane
//! (most timers are a fixed duration from now, so they arrive in order) with a heap for the
//! rest, both with lazy deletion, so finding due timers never scans all transactions; and
//! the completed server non-INVITE transactions over UDP, kept apart ([`Done`]).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::Instant;

use bytes::Bytes;
use foldhash::fast::RandomState;

use super::done::Done;
use super::key::TransactionKey;
use super::layer::Machine;
use crate::header::Transport;

/// A deadline item: (deadline, slot, slot generation). An item is stale when its slot was
/// released since (generation differs) or the entry's deadline moved (`scheduled`
/// differs); stale items are skipped when they reach the front.
type Due = (Instant, u32, u32);

/// Slots, the key index, the deadline lane and heap, and the completed transactions.
#[derive(Default)]
pub(super) struct Table {
    slots: Vec<Slot>,
    free: Vec<u32>,
    /// Seeded: peers choose branches, so a fixed hash would let them collide keys.
    index: HashMap<TransactionKey, u32, RandomState>,
    /// Deadlines pushed in order (each no earlier than the last): O(1) in and out.
    lane: VecDeque<Due>,
    /// Deadlines that arrived earlier than the lane's last.
    heap: BinaryHeap<Reverse<Due>>,
    done: Done,
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
    /// Live transactions, completed ones included.
    pub(super) fn len(&self) -> usize {
        self.index.len() + self.done.len()
    }

    /// Keeps the final `response` of completed server transaction `key` (its slot already
    /// released) until `until`, Timer J.
    pub(super) fn complete(&mut self, key: TransactionKey, response: Bytes, until: Instant) {
        self.done.insert(key, response, until);
    }

    /// The stored final response of completed transaction `key`.
    pub(super) fn completed(&self, key: &TransactionKey) -> Option<&Bytes> {
        self.done.get(key)
    }

    /// Forgets completed transaction `key` (its transport failed); `false` if unknown.
    pub(super) fn forget_completed(&mut self, key: &TransactionKey) -> bool {
        self.done.forget(key)
    }

    /// Drops the completed transactions whose Timer J is due; returns how many.
    pub(super) fn expire_completed(&mut self, now: Instant) -> usize {
        self.done.expire(now)
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
                let item = (at, slot, s.generation);
                if self.lane.back().is_none_or(|last| last.0 <= at) {
                    self.lane.push_back(item);
                } else {
                    self.heap.push(Reverse(item));
                }
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
    /// cleared), skipping stale items.
    pub(super) fn pop_due(&mut self, now: Instant) -> Option<(u32, Entry)> {
        while let Some((at, slot, generation)) = self.first_due() {
            if at > now {
                return None;
            }
            self.drop_first();
            if self.is_live(at, slot, generation) {
                let mut entry = self.take(slot)?;
                entry.head.scheduled = None;
                return Some((slot, entry));
            }
        }
        None
    }

    /// The earliest live deadline, completed transactions' Timer J included, dropping stale
    /// items from the front.
    pub(super) fn next_deadline(&mut self) -> Option<Instant> {
        let done = self.done.first_deadline();
        let live = loop {
            let Some((at, slot, generation)) = self.first_due() else {
                break None;
            };
            if self.is_live(at, slot, generation) {
                break Some(at);
            }
            self.drop_first();
        };
        match (live, done) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The earlier of the lane's and the heap's first items.
    fn first_due(&self) -> Option<Due> {
        let lane = self.lane.front().copied();
        let heap = self.heap.peek().map(|Reverse(item)| *item);
        match (lane, heap) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Removes the item [`Self::first_due`] returned.
    fn drop_first(&mut self) {
        let lane = self.lane.front().copied();
        let heap = self.heap.peek().map(|Reverse(item)| *item);
        match (lane, heap) {
            (Some(a), Some(b)) if b < a => {
                self.heap.pop();
            }
            (Some(_), _) => {
                self.lane.pop_front();
            }
            (None, _) => {
                self.heap.pop();
            }
        }
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::transaction::server_non_invite::ServerNonInvite;
    use crate::transaction::TimerConfig;

    fn open(table: &mut Table, at: Instant, branch: &str) -> (u32, TransactionKey) {
        let key = TransactionKey::server(branch, "192.0.2.1", 5060, "REGISTER");
        let machine = Machine::ServerNonInvite(ServerNonInvite::start(at, &TimerConfig::default()));
        let peer = "192.0.2.1:5060".parse().unwrap();
        let slot = table.insert(key.clone(), peer, Transport::Udp, machine);
        (slot, key)
    }

    // rfc3261_17_2_2: deadlines come out in time order whether they went to the lane (in
    // order) or the heap (earlier than the lane's last), and released slots' are skipped.
    #[test]
    fn rfc3261_17_2_2_lane_and_heap_give_deadlines_in_order() {
        let t = Instant::now();
        let s = Duration::from_secs;
        let mut table = Table::default();
        let (a, _) = open(&mut table, t + s(10), "z9hG4bKa");
        let (b, _) = open(&mut table, t, "z9hG4bKb");
        let (c, _) = open(&mut table, t + s(20), "z9hG4bKc");
        let (d, d_key) = open(&mut table, t + s(5), "z9hG4bKd");
        let entry = table.take(d).unwrap();
        table.release(d, &entry.head.key);
        assert_eq!(table.slot_of(&d_key), None);
        assert_eq!(table.next_deadline(), Some(t + s(32)));
        let mut order = Vec::new();
        while let Some((slot, _)) = table.pop_due(t + s(100)) {
            order.push(slot);
        }
        assert_eq!(order, [b, a, c]);
        assert_eq!(table.next_deadline(), None);
    }

    // rfc3261_17_2_2: a completed transaction is kept until its Timer J, then forgotten; one
    // forgotten early (transport failure) and completed again keeps its later deadline.
    #[test]
    fn rfc3261_17_2_2_completed_expire_in_order() {
        let t = Instant::now();
        let s = Duration::from_secs;
        let mut table = Table::default();
        let key = |b: &str| TransactionKey::server(b, "192.0.2.1", 5060, "REGISTER");
        table.complete(key("z9hG4bK1"), Bytes::from_static(b"one"), t + s(32));
        table.complete(key("z9hG4bK2"), Bytes::from_static(b"two"), t + s(33));
        assert!(table.forget_completed(&key("z9hG4bK1")));
        table.complete(key("z9hG4bK1"), Bytes::from_static(b"again"), t + s(40));
        assert_eq!(table.len(), 2);
        assert_eq!(table.next_deadline(), Some(t + s(32)));
        assert_eq!(table.expire_completed(t + s(33)), 1);
        assert_eq!(
            table.completed(&key("z9hG4bK1")),
            Some(&Bytes::from_static(b"again"))
        );
        assert_eq!(table.completed(&key("z9hG4bK2")), None);
        assert_eq!(table.expire_completed(t + s(40)), 1);
        assert_eq!(table.len(), 0);
    }
}
