//! Refreshed bindings waiting to be written (write-behind, as Kamailio's usrloc `db_mode`
//! 2): a REGISTER that only moves a binding's expiry, CSeq or Call-ID is answered at once,
//! and its row waits, at most [`WRITE_BEHIND`] — and always less than half the time the
//! row the store holds has left, so a crash loses only refreshes and never leaves the
//! store with a lapsed row for a live phone.
//!
//! The waiting rows are the bindings table's own: a refreshed contact is marked in its
//! AOR's record ([`Marks`]) and its AOR listed here once ([`Behind`]), both under the
//! table's lock (see [`super::bindings`]). A refresh of a contact already marked touches
//! nothing more than the record it changed, and what is written is always the newest
//! refresh. A durable change clears the marks of the contacts it changes, as its own write
//! carries them; what is due goes to the commit task as one queued write, after whatever
//! was queued before it, so both reach the store in the order they were made.
//!
//! Rows are written in step with the sweep rather than all at once: every AOR due goes,
//! and up to [`EARLY_ROWS`] a sweep of those due within [`EARLY`] go ahead of time. Phones
//! that all refreshed within a second (after a restart, or a bench's steady state) would
//! otherwise come due together, and writing ten thousand rows at once takes a quarter of a
//! second of CPU in one burst, enough to make a loaded machine drop datagrams.

use std::time::Duration;

use jiff::Timestamp;

/// Longest a refresh waits before its row is written. Every write of a refreshed row costs
/// the store a page or more; a phone refreshing every 30 s is then written once a minute
/// rather than on each refresh.
pub const WRITE_BEHIND: Duration = Duration::from_secs(60);

/// How far ahead of its time a row may be written to spread the writes.
pub const EARLY: Duration = Duration::from_secs(30);

/// AORs a sweep writes ahead of their time, at most (those due are written regardless).
pub const EARLY_ROWS: usize = 1024;

/// How long after `now` a refreshed row may wait when the store's row lapses at `stored`:
/// [`WRITE_BEHIND`], or half the time the stored row has left if that is sooner (at once
/// if it has none).
pub fn write_by(now: Timestamp, stored: Timestamp) -> Duration {
    let left = Duration::try_from(stored.duration_since(now)).unwrap_or(Duration::ZERO);
    WRITE_BEHIND.min(left / 2)
}

/// Which of one AOR's contacts wait to be written: bit `i` for contact `i`, the last bit
/// for every contact from 63 on (a superset only costs a write).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Marks(u64);

impl Marks {
    fn bit(index: usize) -> u64 {
        1 << index.min(63)
    }

    /// Marks contact `index`.
    pub fn set(&mut self, index: usize) {
        self.0 |= Self::bit(index);
    }

    /// Whether contact `index` is marked.
    pub fn has(self, index: usize) -> bool {
        self.0 & Self::bit(index) != 0
    }

    /// True when no contact waits.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The marks of a list changed by `keep` (which says, for each old index in order,
    /// whether the contact stays), so that the marks follow the contacts that stay.
    pub fn retained(self, keep: impl IntoIterator<Item = bool>) -> Self {
        let mut kept = Self::default();
        let mut at = 0;
        for (old, stays) in keep.into_iter().enumerate() {
            if stays {
                if self.has(old) {
                    kept.set(at);
                }
                at += 1;
            }
        }
        kept
    }
}

/// An AOR with refreshed contacts not yet written, and when they must be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    /// The AOR's domain.
    pub domain: String,
    /// The AOR's user part.
    pub aor: String,
    /// Written by then.
    pub due: Timestamp,
}

/// The AORs whose refreshed contacts wait, in the order they first did. The contacts
/// themselves stay in the bindings table, marked there ([`Marks`]), and are read from it
/// when written, so the newest refresh is what reaches the store and a refresh of a
/// contact already waiting changes nothing here. An AOR is listed when its first contact
/// is marked; a listing whose marks were cleared meanwhile (written, or changed durably)
/// is dropped when it comes up.
#[derive(Debug, Default)]
pub struct Behind {
    waiting: Vec<Waiting>,
    /// The soonest `due` listed: wall time, as the stored rows' expiries it is reckoned
    /// from (and no clock read per refresh).
    due: Option<Timestamp>,
}

impl Behind {
    /// Lists `aor` of `domain` to write by `due`.
    pub fn add(&mut self, domain: &str, aor: &str, due: Timestamp) {
        if self.due.is_none_or(|d| due < d) {
            self.due = Some(due);
        }
        self.waiting.push(Waiting {
            domain: domain.to_owned(),
            aor: aor.to_owned(),
            due,
        });
    }

    /// The AORs to write at `now`: every one due, and up to `early` more due within
    /// [`EARLY`] (see the module documentation). Empty, without a look at the list, while
    /// none is that close.
    pub fn take_due(&mut self, now: Timestamp, mut early: usize) -> Vec<Waiting> {
        let horizon = now.checked_add(EARLY).unwrap_or(now);
        if self.due.is_none_or(|due| due > horizon) {
            return Vec::new();
        }
        let mut taken = Vec::new();
        let mut next: Option<Timestamp> = None;
        let mut i = 0;
        while let Some(w) = self.waiting.get(i) {
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
            // The order of the list only matters for fairness between sweeps.
            taken.push(self.waiting.swap_remove(i));
        }
        self.due = next;
        taken
    }

    /// Every listed AOR, leaving none.
    pub fn take(&mut self) -> Vec<Waiting> {
        self.due = None;
        std::mem::take(&mut self.waiting)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    /// The AORs of `listed`, sorted.
    fn aors(listed: &[Waiting]) -> Vec<&str> {
        let mut aors: Vec<&str> = listed.iter().map(|w| w.aor.as_str()).collect();
        aors.sort_unstable();
        aors
    }

    // RFC 3261 §10.3 (bindings kept across a restart): each AOR goes by its own time; nothing
    // is looked at while none is near.
    #[test]
    fn rfc3261_10_3_each_aor_is_written_by_its_time() {
        let mut behind = Behind::default();
        behind.add("example.com", "100", at(60));
        assert_eq!(behind.due, Some(at(60)));
        behind.add("example.com", "101", at(10));
        assert_eq!(behind.due, Some(at(10)));
        // Before 10 s nothing is due, and with no early quota nothing goes.
        assert!(behind.take_due(at(9), 0).is_empty());
        assert_eq!(aors(&behind.take_due(at(10), 0)), ["101"]);
        assert_eq!(behind.due, Some(at(60)));
        // Further than EARLY from any time: not even looked at.
        assert!(behind.take_due(at(29), EARLY_ROWS).is_empty());
        assert_eq!(aors(&behind.take_due(at(60), 0)), ["100"]);
        assert!(behind.due.is_none() && behind.take().is_empty());
    }

    // Issue 4: AORs that came due together are spread over the sweeps before their time,
    // EARLY_ROWS a sweep, and whatever is due goes whatever the quota.
    #[test]
    fn rfc3261_10_3_aors_due_together_are_written_ahead_in_quotas_and_all_by_their_time() {
        let mut behind = Behind::default();
        for aor in 100..110 {
            behind.add("example.com", &aor.to_string(), at(60));
        }
        behind.add("example.com", "200", at(10));
        // At 10 s "200" is due; three more go early (all ten are due at 60 s, within EARLY
        // of 30 s and later).
        assert_eq!(
            behind.take_due(at(10), 3).len(),
            1,
            "60 s is beyond EARLY of 10 s"
        );
        assert_eq!(behind.take_due(at(30), 3).len(), 3);
        assert_eq!(behind.take_due(at(31), 3).len(), 3);
        // At 60 s the four left are due: all go, the quota notwithstanding.
        assert_eq!(behind.take_due(at(60), 1).len(), 4);
        assert!(behind.take().is_empty());
    }

    // RFC 3261 §10.3 (refreshed bindings written behind): marks follow the contacts that
    // stay when others go; from 63 on one bit stands for all.
    #[test]
    fn rfc3261_10_3_marks_follow_the_contacts_that_stay() {
        let mut marks = Marks::default();
        assert!(marks.is_empty());
        marks.set(1);
        marks.set(3);
        // Contact 0 and 1 go: 3 is now 1, and 2 (unmarked) is now 0.
        let kept = marks.retained([false, false, true, true]);
        assert!(!kept.has(0) && kept.has(1) && !kept.has(2));
        assert!(marks.retained([true, false, true, true]).has(2));
        assert!(marks.retained([true, false, true, false]).is_empty());
        let mut far = Marks::default();
        far.set(70);
        assert!(far.has(63) && far.has(64) && !far.has(62));
    }
}
