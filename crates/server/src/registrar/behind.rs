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
//!
//! Rows are written in step with the sweep rather than all at once: every row due goes,
//! and up to [`EARLY_ROWS`] a sweep of those due within [`EARLY`] go ahead of time. Phones
//! that all refreshed within a second (after a restart, or a bench's steady state) would
//! otherwise come due together, and writing ten thousand rows at once takes a quarter of a
//! second of CPU in one burst, enough to make a loaded machine drop datagrams.

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

/// How far ahead of its time a row may be written to spread the writes.
pub const EARLY: Duration = Duration::from_secs(30);

/// Rows a sweep writes ahead of their time, at most (those due are written regardless).
pub const EARLY_ROWS: usize = 1024;

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
    rows: HashMap<DomainName, HashMap<Extension, Vec<Waiting>, RandomState>, RandomState>,
    /// When the first of the waiting rows must be written: wall time, as the stored rows'
    /// expiries it is reckoned from (and no clock read per refresh).
    due: Option<Timestamp>,
}

impl Behind {
    /// Keeps `refreshed` (a binding whose refresh moved only its expiry, CSeq and Call-ID)
    /// to write within [`write_by`] of `stored`, the earliest expiry the store holds for
    /// its AOR, at `now`: by the sooner of that and the time it already had.
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
        match waiting
            .iter_mut()
            .find(|w| w.row.contact == refreshed.contact)
        {
            // Only these move in a refresh (`super::is_refresh`); the Call-ID's buffer is
            // reused.
            Some(older) => {
                older.row.expires_at = refreshed.expires_at;
                older.row.cseq = refreshed.cseq;
                older.row.call_id.clone_from(&refreshed.call_id);
                older.due = older.due.min(due);
            }
            None => waiting.push(Waiting {
                row: refreshed.clone(),
                due,
            }),
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
                waiting.retain(|w| w.row.contact != *contact);
            }
        }
    }

    /// The rows to write at `now`: every one due, and up to `early` more due within
    /// [`EARLY`] (see the module documentation). Empty, without a look at the rows, while
    /// none is that close.
    pub fn take_due(&mut self, now: Timestamp, mut early: usize) -> Vec<Binding> {
        let horizon = now.checked_add(EARLY).unwrap_or(now);
        if self.due.is_none_or(|due| due > horizon) {
            return Vec::new();
        }
        let mut taken = Vec::new();
        let mut next: Option<Timestamp> = None;
        for aors in self.rows.values_mut() {
            for waiting in aors.values_mut() {
                // Moved out, not cloned; the order of an AOR's rows does not matter.
                let mut i = 0;
                while let Some(w) = waiting.get(i) {
                    let go = w.due <= now || (w.due <= horizon && early > 0);
                    if !go {
                        if next.is_none_or(|t| w.due < t) {
                            next = Some(w.due);
                        }
                        i += 1;
                        continue;
                    }
                    if w.due > now {
                        early -= 1;
                    }
                    taken.push(waiting.swap_remove(i).row);
                }
            }
            aors.retain(|_, waiting| !waiting.is_empty());
        }
        self.rows.retain(|_, aors| !aors.is_empty());
        self.due = next;
        taken
    }

    /// Every waiting row, leaving none.
    pub fn take(&mut self) -> Vec<Binding> {
        self.due = None;
        self.rows
            .drain()
            .flat_map(|(_, aors)| aors.into_values().flatten())
            .map(|w| w.row)
            .collect()
    }
}

/// A refreshed row and when it must be written.
#[derive(Debug)]
struct Waiting {
    row: Binding,
    due: Timestamp,
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

    /// The AORs of the rows `rows`, sorted.
    fn aors(rows: &[Binding]) -> Vec<&str> {
        let mut aors: Vec<&str> = rows.iter().map(|b| b.aor.as_str()).collect();
        aors.sort_unstable();
        aors
    }

    // RFC 3261 §10.3 (bindings kept across a restart): each row goes by its own time, the
    // soonest a refresh of it asked for; nothing is looked at while no row is near.
    #[test]
    fn rfc3261_10_3_each_row_is_written_by_its_soonest_time() {
        let mut behind = Behind::default();
        behind.add(&binding("100", at(7200)), at(0), at(3600));
        assert_eq!(behind.due, Some(at(60)), "WRITE_BEHIND after the refresh");
        // A binding whose stored row lapses in 20 s is due at 10 s…
        behind.add(&binding("101", at(60)), at(0), at(20));
        assert_eq!(behind.due, Some(at(10)));
        // …and a later refresh of it, due later, keeps its earlier time.
        behind.add(&binding("101", at(120)), at(5), at(3600));
        assert_eq!(behind.due, Some(at(10)));
        // Before 10 s nothing is due, and with no early quota nothing goes.
        assert!(behind.take_due(at(9), 0).is_empty());
        let first = behind.take_due(at(10), 0);
        assert_eq!(aors(&first), ["101"]);
        assert_eq!(
            first[0].expires_at,
            at(120),
            "the newest refresh is written"
        );
        assert_eq!(behind.due, Some(at(60)));
        // Further than EARLY from any time: not even looked at.
        assert!(behind.take_due(at(29), EARLY_ROWS).is_empty());
        assert_eq!(aors(&behind.take_due(at(60), 0)), ["100"]);
        assert!(behind.due.is_none() && behind.take().is_empty());
    }

    // Issue 4: rows that came due together are spread over the sweeps before their time,
    // EARLY_ROWS a sweep, and whatever is due goes whatever the quota.
    #[test]
    fn rfc3261_10_3_rows_due_together_are_written_ahead_in_quotas_and_all_by_their_time() {
        let mut behind = Behind::default();
        for aor in 100..110 {
            behind.add(&binding(&aor.to_string(), at(7200)), at(0), at(3600));
        }
        behind.add(&binding("200", at(60)), at(0), at(20));
        // At 10 s "200" is due; three more go early (all ten are due at 60 s, within EARLY
        // of 30 s and later).
        assert_eq!(
            behind.take_due(at(10), 3).len(),
            1,
            "60 s is beyond EARLY of 10 s"
        );
        let early = behind.take_due(at(30), 3);
        assert_eq!(early.len(), 3);
        assert_eq!(behind.take_due(at(31), 3).len(), 3);
        // At 60 s the four left are due: all go, the quota notwithstanding.
        let due = behind.take_due(at(60), 1);
        assert_eq!(due.len(), 4);
        assert!(behind.take().is_empty());
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
