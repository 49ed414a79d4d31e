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
//! Refreshes are the exception: they are answered at once and their rows wait in the
//! registrar ([`super::behind`]), which queues them here as one write-behind item when
//! they are due; that item is written in chunks, each its own transaction, in queue order.

use std::ops::Range;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hotdesk_sip::endpoint::ServerTransaction;
use hotdesk_sip::Response;
use hotdesk_store::{Binding, BindingKey};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::bindings::{Bindings, Undo};
use super::reply::RegError;
use crate::state::{App, AppEvent};

/// Most requests per transaction.
pub const MAX_BATCH: usize = 512;
/// How long a batch gathers after its first request arrived (unless it fills up first).
pub const GATHER: Duration = Duration::from_millis(2);

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
    /// Refreshed rows written behind (from [`super::behind`]), already answered: `puts`
    /// only, written in chunks rather than in one transaction with other requests.
    pub written_behind: bool,
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
    while rx.recv_many(&mut queue, MAX_BATCH).await > 0 {
        if queue.len() < MAX_BATCH {
            // Let the batch fill for a moment: a transaction costs about the same for one
            // row as for dozens, and this delay is all the latency group commit adds.
            tokio::time::sleep(GATHER).await;
            while queue.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(pending) => queue.push(pending),
                    Err(_) => break,
                }
            }
        }
        // One batch for the task's life: its vectors keep their capacity between rounds.
        for pending in queue.drain(..) {
            if pending.written_behind {
                // In queue order: what was queued before it is written first.
                commit(&app, &bindings, &mut batch).await;
                write_behind(&app, &pending.puts).await;
                continue;
            }
            if batch.conflicts(&pending) {
                commit(&app, &bindings, &mut batch).await;
            }
            batch.push(pending);
        }
        commit(&app, &bindings, &mut batch).await;
    }
}

/// Writes refreshed rows, [`MAX_BATCH`] per transaction, so that REGISTERs waiting for the
/// store never wait behind one long transaction of them all.
async fn write_behind(app: &App, rows: &[Binding]) {
    for chunk in rows.chunks(MAX_BATCH) {
        if let Err(error) = app.store().apply_bindings(chunk, &[]).await {
            // Memory is right and answered; the stored rows keep their older expiry until
            // the next refresh of each is written.
            tracing::warn!(%error, rows = chunk.len(), "refreshed bindings not written");
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
            fail(app, bindings, item, error);
        }
        return;
    }
    tracing::warn!(%error, requests = batch.items.len(), "binding batch failed; retrying one by one");
    for item in batch.items.drain(..) {
        let puts = &batch.puts[item.puts.clone()];
        let deletes = &batch.deletes[item.deletes.clone()];
        match store.apply_bindings(puts, deletes).await {
            Ok(()) => finish(app, item),
            Err(error) => fail(app, bindings, item, error),
        }
    }
}

fn finish(app: &App, item: Item) {
    if let Some((transaction, response)) = item.reply {
        // Stateless, as every registrar 200 (see `super`): the registrar knows and answers
        // a retransmission again. The endpoint being gone means we are shutting down: no
        // one to answer.
        let _ = transaction.respond_stateless(response);
    }
    for event in item.events {
        app.publish(event);
    }
}

fn fail(app: &App, bindings: &Bindings, item: Item, error: hotdesk_store::StoreError) {
    tracing::error!(%error, "binding change not stored; answering 500");
    if let Some(undo) = item.undo {
        bindings.undo(undo, app.now());
    }
    if let Some((transaction, _)) = item.reply {
        let response = RegError::Store(error).response(transaction.request());
        let _ = transaction.respond(response);
    }
}
