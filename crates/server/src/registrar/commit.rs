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
//! most [`WRITE_BEHIND`] later — as Kamailio's usrloc `db_mode` 2 does. A crash then loses
//! at most that much of a refresh: the binding comes back with its previous expiry, and the
//! phone's next refresh renews it. New bindings and removals still wait for the store.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hotdesk_core::{DomainName, Extension};
use hotdesk_sip::endpoint::ServerTransaction;
use hotdesk_sip::Response;
use hotdesk_store::{Binding, BindingKey};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::bindings::Bindings;
use super::reply::RegError;
use crate::state::{App, AppEvent};

/// Most requests per transaction.
pub const MAX_BATCH: usize = 512;
/// How long a batch gathers after its first request arrived (unless it fills up first).
pub const GATHER: Duration = Duration::from_millis(2);

/// Longest a refresh waits before its row is written (see the module notes).
pub const WRITE_BEHIND: Duration = Duration::from_secs(5);

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
    /// Only refreshes, already answered: `puts` are written behind.
    pub refresh: bool,
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
            if pending.refresh {
                behind.add(pending.puts);
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
    fn add(&mut self, puts: Vec<Binding>) {
        if puts.is_empty() {
            return;
        }
        self.due
            .get_or_insert_with(|| Instant::now() + WRITE_BEHIND);
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
                if pending.refresh {
                    self.add(pending.puts);
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
