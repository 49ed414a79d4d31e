//! The CDR writer (HD-CDR-1, -2): the dispatcher queues finished calls without waiting; this
//! task writes them in batches, so the store is never on the call path.

use std::sync::Arc;
use std::time::Duration;

use hotdesk_core::Cdr;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::state::App;

/// Records taken per batch.
const BATCH: usize = 256;
/// A batch at least this large means calls end faster than single commits: the writer then
/// lets the next batch gather for [`GATHER`].
const BUSY: usize = 8;
/// How long the next batch gathers under load: each commit writes and checksums the pages of
/// the table and its three indexes whatever its size, so a few large commits cost far less
/// CPU than many small ones; a CDR shows up this much later at most. A lone call's record is
/// still written at once.
const GATHER: Duration = Duration::from_millis(50);

/// Starts the writer; it ends once every sender is dropped and the queue is written.
pub fn spawn(app: Arc<App>) -> (mpsc::UnboundedSender<Cdr>, JoinHandle<()>) {
    let (tx, mut rx) = mpsc::unbounded_channel::<Cdr>();
    let task = tokio::spawn(async move {
        let mut batch = Vec::with_capacity(BATCH);
        while let n @ 1.. = rx.recv_many(&mut batch, BATCH).await {
            // One transaction per batch: at thousands of calls a second a commit per CDR
            // cost more CPU than the calls' signalling.
            if app.store().insert_cdrs(&batch).await.is_err() {
                // All or nothing failed (a domain deleted mid-call?): write one by one so
                // that only the records at fault are lost.
                for cdr in &batch {
                    if let Err(error) = app.store().insert_cdr(cdr).await {
                        tracing::warn!(%error, call_id = %cdr.call_id, "cannot write CDR");
                    }
                }
            }
            batch.clear();
            if n >= BUSY {
                tokio::time::sleep(GATHER).await;
            }
        }
    });
    (tx, task)
}
