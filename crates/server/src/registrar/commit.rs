//! Group commit: binding changes are written to the store *before* their REGISTER is
//! answered, but many REGISTERs share one transaction. The dispatcher queues a [`Pending`]
//! per request (changes, the response, the events); this task takes whatever is queued (up
//! to [`MAX_BATCH`], gathering for [`GATHER`] after the first), writes it with one
//! `apply_bindings`, then sends the responses and publishes the events in queue order. While
//! one transaction runs the next batch gathers too, so batches grow with the load.
//!
//! A failed batch is retried request by request, so one bad change (its domain deleted
//! meanwhile) fails only its own REGISTER: answered 500, its change undone in memory.
//!
//! Refreshes are the exception: a REGISTER that only moves a binding's expiry (and CSeq or
//! Call-ID) is answered at once and its row is written behind, coalesced per binding, at
//! most [`WRITE_BEHIND`] later — as Kamailio's usrloc `db_mode` 2 does with its 60 s timer
//! — and always while the row the store holds is still live: within half the time left
//! before that row's expiry. A crash then loses only refreshes: the binding comes back with
//! its previous expiry, not yet lapsed, and the phone's next refresh renews it. New
//! bindings and removals still wait for the store.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hotdesk_core::{DomainName, Extension};
use hotdesk_sip::endpoint::ServerTransaction;
use hotdesk_sip::Response;
use hotdesk_store::{Binding, BindingKey};
use jiff::Timestamp;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::bindings::Bindings;
use super::reply::RegError;
use crate::state::{App, AppEvent};

/// Most requests per transaction.
pub const MAX_BATCH: usize = 512;
/// How long a batch gathers after its first request arrived (unless it fills up first).
pub const GATHER: Duration = Duration::from_millis(2);

/// Longest a refresh waits before its row is written (see the module notes). Every write
/// of a refreshed row costs the store a page or more; a phone refreshing every 30 s is
/// then written once a minute rather than on each refresh.
pub const WRITE_BEHIND: Duration = Duration::from_secs(60);

/// How an AOR looked before a change, to put back if the change is not stored.
#[derive(Debug)]
pub struct Undo {
    /// Domain.
    pub domain: String,
    /// AOR user part.
    pub aor: String,
    /// The contacts before.
    pub before: Vec<Binding>,
    /// The version the change made.
    pub version: u64,
    /// The change left the AOR without contacts.
    pub left_empty: bool,
}

/// One request's changes, waiting for the store.
#[derive(Debug, Default)]
pub struct Pending {
    /// The transaction to answer and the answer, once stored (none for the expiry sweep).
    pub reply: Option<(ServerTransaction, Response)>,
    /// Bindings to insert or replace.
    pub puts: Vec<Binding>,
    /// Bindings to delete.
    pub deletes: Vec<BindingKey>,
    /// Events to publish once stored.
    pub events: Vec<AppEvent>,
    /// How to undo the change in memory if it cannot be stored.
    pub undo: Option<Undo>,
    /// Only refreshes, already answered: `puts` are written behind, before this instant
    /// — the earliest expiry the store holds for them — comes near.
    pub refresh: Option<Timestamp>,
}

/// A request's share of a batch.
struct Item {
    reply: Option<(ServerTransaction, Response)>,
    events: Vec<AppEvent>,
    undo: Option<Undo>,
    puts: Range<usize>,
    deletes: Range<usize>,
}

#[derive(Default)]
struct Batch {
    puts: Vec<Binding>,
    deletes: Vec<BindingKey>,
    items: Vec<Item>,
}

impl Batch {
    /// Whether `pending` deletes a binding this batch writes: the store applies deletes
    /// before puts, so such a pending must go in the next transaction.
    fn conflicts(&self, pending: &Pending) -> bool {
        pending.deletes.iter().any(|d| {
            self.puts
                .iter()
                .any(|p| p.contact == d.contact && p.aor == d.aor && p.domain == d.domain)
        })
    }

    fn push(&mut self, pending: Pending) {
        let puts = self.puts.len()..self.puts.len() + pending.puts.len();
        let deletes = self.deletes.len()..self.deletes.len() + pending.deletes.len();
        self.puts.extend(pending.puts);
        self.deletes.extend(pending.deletes);
        self.items.push(Item {
            reply: pending.reply,
            events: pending.events,
            undo: pending.undo,
            puts,
            deletes,
        });
    }
}

/// Starts the commit task; it ends once every sender is dropped and the queue is written.
pub fn spawn(
    app: Arc<App>,
    bindings: Arc<Bindings>,
    capacity: usize,
) -> (mpsc::Sender<Pending>, JoinHandle<()>) {
    let (tx, rx) = mpsc::channel(capacity.max(1));
    (tx, tokio::spawn(run(app, bindings, rx)))
}

async fn run(app: Arc<App>, bindings: Arc<Bindings>, mut rx: mpsc::Receiver<Pending>) {
    let mut queue = Vec::with_capacity(MAX_BATCH);
    let mut batch = Batch::default();
    let mut behind = Behind::default();
    loop {
        // Requests a write-behind flush set aside are handled before waiting for more.
        if queue.is_empty() {
            let received = match behind.due {
                None => rx.recv_many(&mut queue, MAX_BATCH).await,
                Some(due) => tokio::select! {
                    n = rx.recv_many(&mut queue, MAX_BATCH) => n,
                    () = tokio::time::sleep_until(due.into()) => {
                        behind.flush(&app, &mut rx, &mut queue).await;
                        continue;
                    }
                },
            };
            if received == 0 {
                break;
            }
            if queue.len() < MAX_BATCH {
                // Let the batch fill for a moment: a transaction costs about the same for
                // one row as for dozens, and this delay is all the latency group commit adds.
                tokio::time::sleep(GATHER).await;
                while queue.len() < MAX_BATCH {
                    match rx.try_recv() {
                        Ok(pending) => queue.push(pending),
                        Err(_) => break,
                    }
                }
            }
        }
        // One batch for the task's life: its vectors keep their capacity between rounds.
        for pending in queue.drain(..) {
            if let Some(stored) = pending.refresh {
                behind.add(pending.puts, app.now(), stored);
                continue;
            }
            behind.supersede(&pending);
            if batch.conflicts(&pending) {
                commit(&app, &bindings, &mut batch).await;
            }
            batch.push(pending);
        }
        commit(&app, &bindings, &mut batch).await;
        if behind.due.is_some_and(|due| due <= Instant::now()) {
            behind.flush(&app, &mut rx, &mut queue).await;
        }
    }
    // Shutdown: what was answered is written before the task ends (the queue is closed
    // and empty, so the flush sets nothing aside).
    behind.flush(&app, &mut rx, &mut queue).await;
}

/// Refreshed bindings not yet written, newest per binding: domain → AOR → contacts,
/// searched by `&str`, so a refresh of a binding already waiting allocates no key.
#[derive(Default)]
struct Behind {
    rows: HashMap<DomainName, HashMap<Extension, Vec<Binding>>>,
    /// When the oldest unwritten refresh must be written.
    due: Option<Instant>,
}

impl Behind {
    /// Keeps `puts` to write by the time [`write_by`] gives for `stored` (their earliest
    /// expiry in the store) at `now`, or earlier if other rows are due sooner.
    fn add(&mut self, puts: Vec<Binding>, now: Timestamp, stored: Timestamp) {
        if puts.is_empty() {
            return;
        }
        let due = Instant::now() + write_by(now, stored);
        if self.due.is_none_or(|d| due < d) {
            self.due = Some(due);
        }
        for binding in puts {
            let aors = match self.rows.get_mut(binding.domain.as_str()) {
                Some(aors) => aors,
                None => self.rows.entry(binding.domain.clone()).or_default(),
            };
            let waiting = match aors.get_mut(binding.aor.as_str()) {
                Some(waiting) => waiting,
                None => aors.entry(binding.aor.clone()).or_default(),
            };
            match waiting.iter_mut().find(|w| w.contact == binding.contact) {
                Some(older) => *older = binding,
                None => waiting.push(binding),
            }
        }
    }

    /// A durable change to a binding replaces its pending refresh: written later, the
    /// refresh would bring back a binding deleted since, or an older one.
    fn supersede(&mut self, pending: &Pending) {
        if self.rows.is_empty() {
            return;
        }
        let keys = pending
            .deletes
            .iter()
            .map(|d| (&d.domain, &d.aor, &d.contact))
            .chain(pending.puts.iter().map(|b| (&b.domain, &b.aor, &b.contact)));
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

    /// Writes every waiting row, a chunk per transaction. Between chunks it keeps taking
    /// the queue, so the dispatcher never waits on a full queue behind a long flush (at
    /// 20,000 refreshes/s the queue fills in less time than 10,000 rows take): refreshes
    /// go to the next flush, other requests into `set_aside`, handled after this flush so
    /// that they are written after it too.
    async fn flush(
        &mut self,
        app: &App,
        rx: &mut mpsc::Receiver<Pending>,
        set_aside: &mut Vec<Pending>,
    ) {
        self.due = None;
        if self.rows.is_empty() {
            return;
        }
        let rows: Vec<Binding> = self
            .rows
            .drain()
            .flat_map(|(_, aors)| aors.into_values().flatten())
            .collect();
        for chunk in rows.chunks(MAX_BATCH) {
            while let Ok(pending) = rx.try_recv() {
                if let Some(stored) = pending.refresh {
                    self.add(pending.puts, app.now(), stored);
                } else {
                    set_aside.push(pending);
                }
            }
            if let Err(error) = app.store().apply_bindings(chunk, &[]).await {
                // Memory is right and answered; the stored rows keep their older expiry
                // until the next refresh of each.
                tracing::warn!(%error, rows = chunk.len(), "refreshed bindings not written");
            }
        }
    }
}

/// How long after `now` a refreshed row may wait when the store's row lapses at `stored`:
/// [`WRITE_BEHIND`], or half the time the stored row has left if that is sooner (at once
/// if it has none).
fn write_by(now: Timestamp, stored: Timestamp) -> Duration {
    let left = Duration::try_from(stored.duration_since(now)).unwrap_or(Duration::ZERO);
    WRITE_BEHIND.min(left / 2)
}

/// A transaction slower than this is logged: REGISTERs wait for it.
const SLOW_COMMIT: Duration = Duration::from_millis(100);

/// Writes `batch` and answers its requests; leaves it empty.
async fn commit(app: &App, bindings: &Bindings, batch: &mut Batch) {
    if batch.items.is_empty() {
        return;
    }
    write(app, bindings, batch).await;
    batch.puts.clear();
    batch.deletes.clear();
    batch.items.clear();
}

async fn write(app: &App, bindings: &Bindings, batch: &mut Batch) {
    let store = app.store();
    let started = Instant::now();
    let result = store.apply_bindings(&batch.puts, &batch.deletes).await;
    let took = started.elapsed();
    if took > SLOW_COMMIT {
        tracing::warn!(?took, requests = batch.items.len(), "slow binding commit");
    }
    let error = match result {
        Ok(()) => {
            for item in batch.items.drain(..) {
                finish(app, item);
            }
            return;
        }
        Err(error) => error,
    };
    if batch.items.len() == 1 {
        if let Some(item) = batch.items.pop() {
            fail(bindings, item, error);
        }
        return;
    }
    tracing::warn!(%error, requests = batch.items.len(), "binding batch failed; retrying one by one");
    for item in batch.items.drain(..) {
        let puts = &batch.puts[item.puts.clone()];
        let deletes = &batch.deletes[item.deletes.clone()];
        match store.apply_bindings(puts, deletes).await {
            Ok(()) => finish(app, item),
            Err(error) => fail(bindings, item, error),
        }
    }
}

fn finish(app: &App, item: Item) {
    if let Some((transaction, response)) = item.reply {
        // The endpoint being gone means we are shutting down: no one to answer.
        let _ = transaction.respond(response);
    }
    for event in item.events {
        app.publish(event);
    }
}

fn fail(bindings: &Bindings, item: Item, error: hotdesk_store::StoreError) {
    tracing::error!(%error, "binding change not stored; answering 500");
    if let Some(undo) = item.undo {
        bindings.undo(
            &undo.domain,
            &undo.aor,
            undo.version,
            undo.left_empty,
            undo.before,
        );
    }
    if let Some((transaction, _)) = item.reply {
        let response = RegError::Store(error).response(transaction.request());
        let _ = transaction.respond(response);
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
        let before = Instant::now();
        behind.add(vec![binding("100", at(7200))], at(0), at(3600));
        let far = behind.due.expect("due");
        assert!(far >= before + WRITE_BEHIND);
        // A binding whose stored row lapses in 20 s pulls the flush forward to 10 s…
        behind.add(vec![binding("101", at(60))], at(0), at(20));
        let near = behind.due.expect("due");
        assert!(near < far && near <= Instant::now() + Duration::from_secs(10));
        // …and a later, far one does not push it back.
        behind.add(vec![binding("102", at(7200))], at(0), at(3600));
        assert_eq!(behind.due, Some(near));
        // Coalesced per binding: a second refresh of 100 replaces the first.
        behind.add(
            vec![binding("100", at(7200) + SignedDuration::from_secs(1))],
            at(1),
            at(7200),
        );
        let rows: usize = behind
            .rows
            .values()
            .flat_map(|a| a.values())
            .map(Vec::len)
            .sum();
        assert_eq!(rows, 3);
    }
}
