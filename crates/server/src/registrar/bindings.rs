//! The bindings table (Kamailio's usrloc): domain → AOR → contacts, in memory, the only
//! thing REGISTER processing and call routing read. Writes reach the store through the
//! group commit ([`super::commit`]), refreshes later ([`super::behind`]: their contacts are
//! marked in their record); the dispatcher is the only writer but for the undo of a failed
//! write, the API and routing read under a short read guard.

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use compact_str::CompactString;
use foldhash::fast::RandomState;
use hotdesk_store::Binding;
use jiff::Timestamp;

use super::behind::{write_by, Behind, Marks, Waiting};

/// One AOR's contacts, which of them wait to be written, and a version bumped on every
/// change, so a failed store write can be undone only if nothing changed the AOR since.
#[derive(Debug, Default)]
struct Record {
    version: u64,
    contacts: Vec<Binding>,
    behind: Marks,
}

impl Record {
    /// Marks contact `index` to write by `due`, listing the AOR in `behind` if it is the
    /// first to wait (a later refresh of a waiting AOR would only be due later: see
    /// [`super::behind`]).
    fn mark(&mut self, behind: &mut Behind, domain: &str, aor: &str, index: usize, due: Timestamp) {
        if self.behind.is_empty() {
            behind.add(domain, aor, due);
        }
        self.behind.set(index);
    }
}

/// The marks of `old`'s contacts that `new` keeps unchanged; a contact changed or removed
/// is written by the change itself.
fn carried(old: &[Binding], marks: Marks, new: &[Binding]) -> Marks {
    let mut kept = Marks::default();
    if marks.is_empty() {
        return kept;
    }
    for (at, binding) in new.iter().enumerate() {
        if old
            .iter()
            .enumerate()
            .any(|(i, o)| marks.has(i) && o == binding)
        {
            kept.set(at);
        }
    }
    kept
}

/// The earliest expiry among an AOR's bindings as the store holds them (every binding in
/// memory is stored, bar refreshes still written behind, whose stored expiry is older).
pub(super) fn stored_expiry(bindings: &[Binding]) -> Option<Timestamp> {
    bindings.iter().map(|b| b.expires_at).min()
}

/// When a refresh at `now` is written: within [`write_by`] of the earliest expiry the store
/// holds for the AOR, `stored`.
fn due(now: Timestamp, stored: Timestamp) -> Timestamp {
    now.checked_add(write_by(now, stored)).unwrap_or(now)
}

#[derive(Debug, Default)]
struct Table {
    /// Seeded foldhash, not SipHash: every REGISTER looks up here twice, and only an
    /// authenticated AOR is ever inserted, so no one can fill the map with colliding keys.
    /// AORs up to 24 bytes are kept inside the map's slot ([`CompactString`]): comparing
    /// the key then reads no other cache line.
    domains: HashMap<String, HashMap<CompactString, Record, RandomState>, RandomState>,
    /// Contacts in the table.
    count: usize,
    /// No contact lapses before this instant (a lower bound: refreshes only raise it).
    next_expiry: Option<Timestamp>,
    last_version: u64,
    /// AORs with contacts waiting to be written.
    behind: Behind,
}

impl Table {
    fn note_expiry(&mut self, contacts: &[Binding]) {
        for b in contacts {
            if self.next_expiry.is_none_or(|t| b.expires_at < t) {
                self.next_expiry = Some(b.expires_at);
            }
        }
    }

    /// Puts `contacts` in place of the AOR's list (removing the AOR when empty); returns the
    /// old list and the new version. Contacts it keeps unchanged stay marked.
    fn replace(&mut self, domain: &str, aor: &str, contacts: Vec<Binding>) -> (Vec<Binding>, u64) {
        self.last_version += 1;
        let version = self.last_version;
        self.note_expiry(&contacts);
        let added = contacts.len();
        let before = if contacts.is_empty() {
            let mut old = None;
            let mut now_empty = false;
            if let Some(aors) = self.domains.get_mut(domain) {
                old = aors.remove(aor);
                now_empty = aors.is_empty();
            }
            if now_empty {
                self.domains.remove(domain);
            }
            old.map(|r| r.contacts).unwrap_or_default()
        } else {
            let aors = match self.domains.get_mut(domain) {
                Some(aors) => aors,
                None => self.domains.entry(domain.to_owned()).or_default(),
            };
            match aors.get_mut(aor) {
                Some(record) => {
                    record.version = version;
                    record.behind = carried(&record.contacts, record.behind, &contacts);
                    std::mem::replace(&mut record.contacts, contacts)
                }
                None => {
                    let record = Record {
                        version,
                        contacts,
                        behind: Marks::default(),
                    };
                    aors.insert(CompactString::from(aor), record);
                    Vec::new()
                }
            }
        };
        // `before` was in the table, so it is counted in `count`.
        self.count = (self.count + added).saturating_sub(before.len());
        (before, version)
    }

    /// Marks the contacts of `aor` in `domain` that `pick` chooses (by index and binding)
    /// to write by `due`.
    fn mark_where(
        &mut self,
        domain: &str,
        aor: &str,
        due: Timestamp,
        pick: impl Fn(usize, &Binding) -> bool,
    ) {
        let Some(record) = self
            .domains
            .get_mut(domain)
            .and_then(|aors| aors.get_mut(aor))
        else {
            return;
        };
        for index in 0..record.contacts.len() {
            if pick(index, &record.contacts[index]) {
                record.mark(&mut self.behind, domain, aor, index, due);
            }
        }
    }

    /// The marked contacts of the AORs `listed`, unmarked now: the rows to write behind.
    fn take_marked(&mut self, listed: Vec<Waiting>) -> Vec<Binding> {
        let mut rows = Vec::new();
        for waiting in listed {
            let Some(record) = self
                .domains
                .get_mut(&waiting.domain)
                .and_then(|aors| aors.get_mut(waiting.aor.as_str()))
            else {
                continue;
            };
            let marks = std::mem::take(&mut record.behind);
            let marked = record.contacts.iter().enumerate();
            rows.extend(
                marked
                    .filter(|(i, _)| marks.has(*i))
                    .map(|(_, b)| b.clone()),
            );
        }
        rows
    }
}

/// How an AOR looked before a change, to put back if the change is not stored.
#[derive(Debug)]
pub struct Undo {
    /// Domain.
    pub domain: String,
    /// AOR user part.
    pub aor: String,
    /// The contacts before.
    pub before: Vec<Binding>,
    /// Which of them waited to be written.
    pub behind: Marks,
    /// The version the change made.
    pub version: u64,
    /// The change left the AOR without contacts.
    pub left_empty: bool,
}

/// The result of [`Bindings::update`]: what the closure returned, the AOR's previous
/// contacts and marks, and the version the change created (for [`Bindings::undo`]).
#[derive(Debug)]
pub struct Updated<T> {
    /// The closure's value.
    pub value: T,
    /// Contacts before the change.
    pub before: Vec<Binding>,
    /// Which of them waited to be written.
    pub behind: Marks,
    /// Version after the change.
    pub version: u64,
}

/// Every binding of every domain.
#[derive(Debug, Default)]
pub struct Bindings {
    table: RwLock<Table>,
}

impl Bindings {
    fn read(&self) -> RwLockReadGuard<'_, Table> {
        self.table.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Table> {
        self.table.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Calls `f` with the AOR's contacts (empty if none) under the write guard; when it
    /// returns `Ok((contacts, value))`, `contacts` replaces the list. Keep `f` short.
    pub fn update<T, E>(
        &self,
        domain: &str,
        aor: &str,
        f: impl FnOnce(&[Binding]) -> Result<(Vec<Binding>, T), E>,
    ) -> Result<Updated<T>, E> {
        let mut table = self.write();
        let (current, behind) = table
            .domains
            .get(domain)
            .and_then(|aors| aors.get(aor))
            .map_or((&[][..], Marks::default()), |r| (&r.contacts[..], r.behind));
        let (contacts, value) = f(current)?;
        let (before, version) = table.replace(domain, aor, contacts);
        Ok(Updated {
            value,
            before,
            behind,
            version,
        })
    }

    /// Calls `f` with the AOR's contacts, to change in place, under the write guard (no
    /// list is built or dropped: the path of a plain refresh at `now`); `f` returns its
    /// value and the index of the contact it refreshed, which is then written behind. `None`
    /// if the AOR has no contacts or `f` returns `None`, which must then have changed
    /// nothing. A change makes a new version, so an older change's [`Self::undo`] no longer
    /// applies.
    pub fn renew<T>(
        &self,
        domain: &str,
        aor: &str,
        now: Timestamp,
        f: impl FnOnce(&mut [Binding]) -> Option<(T, usize)>,
    ) -> Option<T> {
        let mut table = self.write();
        let Table {
            domains,
            next_expiry,
            last_version,
            behind,
            ..
        } = &mut *table;
        let record = domains.get_mut(domain)?.get_mut(aor)?;
        let stored = stored_expiry(&record.contacts)?;
        let (value, index) = f(&mut record.contacts)?;
        record.mark(behind, domain, aor, index, due(now, stored));
        *last_version += 1;
        record.version = *last_version;
        for b in &record.contacts {
            if next_expiry.is_none_or(|t| b.expires_at < t) {
                *next_expiry = Some(b.expires_at);
            }
        }
        Some(value)
    }

    /// Marks the contacts of `aor` equal to one of `refreshed` (a change made by
    /// [`Self::update`] that only refreshed them) to write behind, reckoned from `stored`,
    /// the earliest expiry the store holds for the AOR, at `now`.
    pub fn mark_refreshed(
        &self,
        domain: &str,
        aor: &str,
        refreshed: &[Binding],
        now: Timestamp,
        stored: Timestamp,
    ) {
        self.write()
            .mark_where(domain, aor, due(now, stored), |_, b| refreshed.contains(b));
    }

    /// The refreshed contacts to write at `now`: those due, and up to `early` AORs' more
    /// that are due soon (see [`Behind::take_due`]); they are no longer marked.
    pub fn take_behind(&self, now: Timestamp, early: usize) -> Vec<Binding> {
        let mut table = self.write();
        let listed = table.behind.take_due(now, early);
        table.take_marked(listed)
    }

    /// Every refreshed contact not yet written (at shutdown); none is marked after.
    pub fn take_all_behind(&self) -> Vec<Binding> {
        let mut table = self.write();
        let listed = table.behind.take();
        table.take_marked(listed)
    }

    /// Puts the AOR back as `undo` says it was, if it is still as the change left it (a
    /// write that failed to reach the store); at `now`, for when the contacts that waited
    /// to be written are due. `true` if it did.
    pub fn undo(&self, undo: Undo, now: Timestamp) -> bool {
        let Undo {
            domain,
            aor,
            before,
            behind,
            version,
            left_empty,
        } = undo;
        let (domain, aor) = (domain.as_str(), aor.as_str());
        let mut table = self.write();
        let current = table
            .domains
            .get(domain)
            .and_then(|aors| aors.get(aor))
            .map(|r| r.version);
        let untouched = match current {
            Some(v) => v == version,
            None => left_empty,
        };
        if !untouched {
            return false;
        }
        let stored = stored_expiry(&before);
        table.replace(domain, aor, before);
        if let Some(stored) = stored {
            table.mark_where(domain, aor, due(now, stored), |i, _| behind.has(i));
        }
        true
    }

    /// Removes and returns every contact lapsed at `now`.
    pub fn take_expired(&self, now: Timestamp) -> Vec<Binding> {
        if self.read().next_expiry.is_none_or(|t| t > now) {
            return Vec::new();
        }
        let mut table = self.write();
        let mut expired = Vec::new();
        let mut next: Option<Timestamp> = None;
        table.domains.retain(|_, aors| {
            aors.retain(|_, record| {
                let before = record.contacts.len();
                let stays = record.contacts.iter().map(|b| b.expires_at > now);
                record.behind = record.behind.retained(stays);
                record.contacts.retain(|b| {
                    if b.expires_at <= now {
                        expired.push(b.clone());
                        false
                    } else {
                        next = Some(next.map_or(b.expires_at, |t| t.min(b.expires_at)));
                        true
                    }
                });
                if record.contacts.len() != before {
                    record.version += 1;
                }
                !record.contacts.is_empty()
            });
            !aors.is_empty()
        });
        table.count -= expired.len().min(table.count);
        table.next_expiry = next;
        expired
    }

    /// Fills the table from the store at start; returns the bindings that had lapsed by
    /// `now` (to delete from the store), keeping the others.
    pub fn load(&self, bindings: Vec<Binding>, now: Timestamp) -> Vec<Binding> {
        let mut by_aor: HashMap<(String, String), Vec<Binding>> = HashMap::new();
        let mut expired = Vec::new();
        for binding in bindings {
            if binding.expires_at <= now {
                expired.push(binding);
            } else {
                let key = (binding.domain.to_string(), binding.aor.to_string());
                by_aor.entry(key).or_default().push(binding);
            }
        }
        let mut table = self.write();
        for ((domain, aor), contacts) in by_aor {
            table.replace(&domain, &aor, contacts);
        }
        expired
    }

    /// The live contacts of `aor` in `domain` at `now` (lapsed ones the sweep has not yet
    /// removed are left out).
    pub fn contacts(&self, domain: &str, aor: &str, now: Timestamp) -> Vec<Binding> {
        self.read()
            .domains
            .get(domain)
            .and_then(|aors| aors.get(aor))
            .map(|r| {
                r.contacts
                    .iter()
                    .filter(|b| b.expires_at > now)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Contacts in the table (live or lapsed-but-not-swept).
    pub fn len(&self) -> usize {
        self.read().count
    }

    /// True when nothing is registered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests;
