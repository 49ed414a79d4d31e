//! The bindings table (Kamailio's usrloc): domain → AOR → contacts, in memory, the only
//! thing REGISTER processing and call routing read. Writes reach the store through the
//! group commit ([`super::commit`]); the dispatcher is the only writer, the API and routing
//! read under a short read guard.

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use foldhash::fast::RandomState;
use hotdesk_store::Binding;
use jiff::Timestamp;

/// One AOR's contacts and a version bumped on every change, so a failed store write can
/// be undone only if nothing changed the AOR since.
#[derive(Debug, Default)]
struct Record {
    version: u64,
    contacts: Vec<Binding>,
}

#[derive(Debug, Default)]
struct Table {
    /// Seeded foldhash, not SipHash: every REGISTER looks up here twice, and only an
    /// authenticated AOR is ever inserted, so no one can fill the map with colliding keys.
    domains: HashMap<String, HashMap<String, Record, RandomState>, RandomState>,
    /// Contacts in the table.
    count: usize,
    /// No contact lapses before this instant (a lower bound: refreshes only raise it).
    next_expiry: Option<Timestamp>,
    last_version: u64,
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
    /// old list and the new version.
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
                    std::mem::replace(&mut record.contacts, contacts)
                }
                None => {
                    aors.insert(aor.to_owned(), Record { version, contacts });
                    Vec::new()
                }
            }
        };
        // `before` was in the table, so it is counted in `count`.
        self.count = (self.count + added).saturating_sub(before.len());
        (before, version)
    }
}

/// The result of [`Bindings::update`]: what the closure returned, the AOR's previous
/// contacts and the version the change created (both for [`Bindings::undo`]).
#[derive(Debug)]
pub struct Updated<T> {
    /// The closure's value.
    pub value: T,
    /// Contacts before the change.
    pub before: Vec<Binding>,
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
        let current = table
            .domains
            .get(domain)
            .and_then(|aors| aors.get(aor))
            .map_or(&[][..], |r| &r.contacts[..]);
        let (contacts, value) = f(current)?;
        let (before, version) = table.replace(domain, aor, contacts);
        Ok(Updated {
            value,
            before,
            version,
        })
    }

    /// Calls `f` with the AOR's contacts, to change in place, under the write guard (no
    /// list is built or dropped: the path of a plain refresh). `None` if the AOR has no
    /// contacts or `f` returns `None`, which must then have changed nothing. A change
    /// makes a new version, so an older change's [`Self::undo`] no longer applies.
    pub fn renew<T>(
        &self,
        domain: &str,
        aor: &str,
        f: impl FnOnce(&mut [Binding]) -> Option<T>,
    ) -> Option<T> {
        let mut table = self.write();
        let Table {
            domains,
            next_expiry,
            last_version,
            ..
        } = &mut *table;
        let record = domains.get_mut(domain)?.get_mut(aor)?;
        let value = f(&mut record.contacts)?;
        *last_version += 1;
        record.version = *last_version;
        for b in &record.contacts {
            if next_expiry.is_none_or(|t| b.expires_at < t) {
                *next_expiry = Some(b.expires_at);
            }
        }
        Some(value)
    }

    /// Puts `before` back if the AOR is still as change `version` left it (a write that
    /// failed to reach the store). `true` if it did.
    pub fn undo(
        &self,
        domain: &str,
        aor: &str,
        version: u64,
        left_empty: bool,
        before: Vec<Binding>,
    ) -> bool {
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
        if untouched {
            table.replace(domain, aor, before);
        }
        untouched
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
