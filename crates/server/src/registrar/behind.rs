//! Refreshed bindings waiting to be written (write-behind, as Kamailio's usrloc `db_mode`
//! 2): a REGISTER that only moves a binding's expiry, CSeq or Call-ID is answered at once,
//! and its row waits here, coalesced per binding, at most [`WRITE_BEHIND`] — and always
//! less than half the time the row the store holds has left, so a crash loses only
//! refreshes and never leaves the store with a lapsed row for a live phone.
//!
//! Owned by the registrar (in the dispatcher): a refresh of a binding already waiting
//! updates it in place, with no allocation and no message to the commit task. Durable
//! changes [`Behind::supersede`] what waits for the same binding before they are queued,
//! and what is due goes to the commit task as one queued write, so both reach the store
//! in the order they were made.

use std::collections::HashMap;
use std::time::Duration;

use foldhash::fast::RandomState;
use hotdesk_core::{DomainName, Extension};
use hotdesk_store::{Binding, BindingKey};
use jiff::Timestamp;

/// Longest a refresh waits before its row is written. Every write of a refreshed row costs
/// the store a page or more; a phone refreshing every 30 s is then written once a minute
/// rather than on each refresh.
pub const WRITE_BEHIND: Duration = Duration::from_secs(60);

/// How long after `now` a refreshed row may wait when the store's row lapses at `stored`:
/// [`WRITE_BEHIND`], or half the time the stored row has left if that is sooner (at once
/// if it has none).
pub fn write_by(now: Timestamp, stored: Timestamp) -> Duration {
    let left = Duration::try_from(stored.duration_since(now)).unwrap_or(Duration::ZERO);
    WRITE_BEHIND.min(left / 2)
}

/// Refreshed bindings not yet written, newest per binding: domain → AOR → contacts,
/// searched by `&str`, so a refresh of a binding already waiting allocates nothing.
#[derive(Debug, Default)]
pub struct Behind {
    /// Seeded foldhash: looked up on every refresh; keys are authenticated AORs (as in
    /// the bindings table).
    rows: HashMap<DomainName, HashMap<Extension, Vec<Binding>, RandomState>, RandomState>,
    /// When the first of the waiting rows must be written: wall time, as the stored rows'
    /// expiries it is reckoned from (and no clock read per refresh).
    due: Option<Timestamp>,
}

impl Behind {
    /// Keeps `refreshed` (a binding whose refresh moved only its expiry, CSeq and Call-ID)
    /// to write within [`write_by`] of `stored`, the earliest expiry the store holds for
    /// its AOR, at `now`.
    pub fn add(&mut self, refreshed: &Binding, now: Timestamp, stored: Timestamp) {
        let due = now.checked_add(write_by(now, stored)).unwrap_or(now);
        if self.due.is_none_or(|d| due < d) {
            self.due = Some(due);
        }
        let aors = match self.rows.get_mut(refreshed.domain.as_str()) {
            Some(aors) => aors,
            None => self.rows.entry(refreshed.domain.clone()).or_default(),
        };
        let waiting = match aors.get_mut(refreshed.aor.as_str()) {
            Some(waiting) => waiting,
            None => aors.entry(refreshed.aor.clone()).or_default(),
        };
        match waiting.iter_mut().find(|w| w.contact == refreshed.contact) {
            // Only these move in a refresh (`super::is_refresh`); the Call-ID's buffer is
            // reused.
            Some(older) => {
                older.expires_at = refreshed.expires_at;
                older.cseq = refreshed.cseq;
                older.call_id.clone_from(&refreshed.call_id);
            }
            None => waiting.push(refreshed.clone()),
        }
    }

    /// Drops what waits for a binding that `puts` or `deletes` change durably: written
    /// later, the refresh would bring back a binding deleted since, or an older one.
    pub fn supersede(&mut self, puts: &[Binding], deletes: &[BindingKey]) {
        if self.rows.is_empty() {
            return;
        }
        let keys = deletes
            .iter()
            .map(|d| (&d.domain, &d.aor, &d.contact))
            .chain(puts.iter().map(|b| (&b.domain, &b.aor, &b.contact)));
        for (domain, aor, contact) in keys {
            if let Some(waiting) = self
                .rows
                .get_mut(domain.as_str())
                .and_then(|aors| aors.get_mut(aor.as_str()))
            {
                waiting.retain(|w| w.contact != *contact);
            }
        }
    }

    /// Whether the waiting rows must be written by `now`.
    pub fn is_due(&self, now: Timestamp) -> bool {
        self.due.is_some_and(|due| due <= now)
    }

    /// Every waiting row, leaving none.
    pub fn take(&mut self) -> Vec<Binding> {
        self.due = None;
        self.rows
            .drain()
            .flat_map(|(_, aors)| aors.into_values().flatten())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use jiff::SignedDuration;

    use super::*;

    fn binding(aor: &str, expires_at: Timestamp) -> Binding {
        Binding {
            domain: DomainName::new("example.com").expect("domain"),
            aor: Extension::new(aor).expect("extension"),
            contact: format!("sip:{aor}@192.0.2.1"),
            source: "udp:192.0.2.1:5060".to_owned(),
            expires_at,
            call_id: "c".to_owned(),
            cseq: 1,
            instance: None,
            reg_id: None,
            q: None,
            path: Vec::new(),
            user_agent: None,
        }
    }

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + secs).expect("timestamp")
    }

    // RFC 3261 §10.3 (bindings kept across a restart): a refresh waits at most WRITE_BEHIND,
    // and never so long that the row in the store could lapse first.
    #[test]
    fn rfc3261_10_3_refresh_is_written_while_the_stored_row_lives() {
        assert_eq!(write_by(at(0), at(3600)), WRITE_BEHIND);
        assert_eq!(write_by(at(0), at(30)), Duration::from_secs(15));
        assert_eq!(write_by(at(0), at(0)), Duration::ZERO);
        assert_eq!(write_by(at(10), at(0)), Duration::ZERO, "already lapsed");
    }

    #[test]
    fn rfc3261_10_3_the_soonest_refresh_sets_when_the_rows_are_written() {
        let mut behind = Behind::default();
        behind.add(&binding("100", at(7200)), at(0), at(3600));
        let far = behind.due.expect("due");
        assert_eq!(far, at(60), "WRITE_BEHIND after the refresh");
        assert!(!behind.is_due(at(59)));
        // A binding whose stored row lapses in 20 s pulls the write forward to 10 s…
        behind.add(&binding("101", at(60)), at(0), at(20));
        let near = behind.due.expect("due");
        assert_eq!(near, at(10));
        // …and a later, far one does not push it back.
        behind.add(&binding("102", at(7200)), at(0), at(3600));
        assert_eq!(behind.due, Some(near));
        assert!(behind.is_due(near));
    }

    #[test]
    fn rfc3261_10_3_a_binding_waits_once_with_its_newest_refresh() {
        let mut behind = Behind::default();
        behind.add(&binding("100", at(3600)), at(0), at(3600));
        let mut newer = binding("100", at(3600) + SignedDuration::from_secs(30));
        newer.cseq = 2;
        newer.call_id = "d".to_owned();
        behind.add(&newer, at(30), at(3600));
        let rows = behind.take();
        assert_eq!(rows, vec![newer]);
        assert!(behind.take().is_empty() && behind.due.is_none());
    }

    #[test]
    fn rfc3261_10_3_a_durable_change_supersedes_the_waiting_refresh() {
        let mut behind = Behind::default();
        behind.add(&binding("100", at(3600)), at(0), at(3600));
        behind.add(&binding("101", at(3600)), at(0), at(3600));
        let removed = BindingKey::from(binding("100", at(0)));
        behind.supersede(&[binding("101", at(7200))], &[removed]);
        assert!(behind.take().is_empty(), "both were changed durably");
    }
}
