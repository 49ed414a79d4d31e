//! The tokio runtime the binary runs on, with coalesced wake-ups: a worker thread that runs
//! out of work soon after it last did waits a moment before it sleeps, so the datagrams
//! arriving meanwhile are read and answered in one batch. Under load a
//! server otherwise wakes for every few requests, and each wake-up costs a context switch
//! and finds the caches cold from whatever ran in between (the load's own clients, on a
//! small machine). An idle server is not delayed: its first request after a quiet spell is
//! handled at once. BENCHMARKS.md (seventeenth pass) has the figures.

use std::cell::Cell;
use std::io;
use std::time::{Duration, Instant};

use tokio::runtime::{Builder, Runtime};

/// Default wait before a busy worker sleeps.
pub(super) const DEFAULT_COALESCE: Duration = Duration::from_micros(200);

/// A worker that last ran out of work less than this many waits ago counts as busy.
const BUSY_WAITS: u32 = 5;

thread_local! {
    /// When this worker thread last ran out of work.
    static LAST_IDLE: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// The multi-threaded runtime (`TOKIO_WORKER_THREADS` workers); a zero `coalesce` turns
/// the wait off.
pub(super) fn build(coalesce: Duration) -> io::Result<Runtime> {
    let mut builder = Builder::new_multi_thread();
    builder.enable_all();
    if !coalesce.is_zero() {
        builder.on_thread_park(move || {
            let now = Instant::now();
            let last = LAST_IDLE.replace(Some(now));
            if wait_before_sleep(last, now, coalesce) {
                std::thread::sleep(coalesce);
            }
        });
    }
    builder.build()
}

/// Whether a worker running out of work at `now` should wait `coalesce` first: only when
/// it also ran out of work at `last`, lately — wake-ups come often, so a short wait
/// gathers several into one without delaying a lone request by more than `coalesce`.
fn wait_before_sleep(last: Option<Instant>, now: Instant, coalesce: Duration) -> bool {
    let busy = coalesce.saturating_mul(BUSY_WAITS);
    last.is_some_and(|last| now.saturating_duration_since(last) < busy)
}

#[cfg(test)]
mod tests {
    use super::*;

    const WAIT: Duration = Duration::from_micros(200);

    #[test]
    fn a_worker_waits_only_when_its_wake_ups_come_often() {
        let t0 = Instant::now();
        // The first time it runs out of work there is no rate to judge by.
        assert!(!wait_before_sleep(None, t0, WAIT));
        // Out of work again 300 µs later: busy, so it waits.
        assert!(wait_before_sleep(
            Some(t0),
            t0 + Duration::from_micros(300),
            WAIT
        ));
        // Just inside and just outside the busy window (five waits, 1 ms).
        assert!(wait_before_sleep(
            Some(t0),
            t0 + Duration::from_micros(999),
            WAIT
        ));
        assert!(!wait_before_sleep(
            Some(t0),
            t0 + Duration::from_millis(1),
            WAIT
        ));
        // After a quiet spell the next request is answered without a wait.
        assert!(!wait_before_sleep(
            Some(t0),
            t0 + Duration::from_millis(40),
            WAIT
        ));
        // A wait too long to multiply saturates instead of overflowing in the park hook.
        assert!(wait_before_sleep(Some(t0), t0, Duration::MAX));
    }

    #[test]
    fn a_runtime_with_coalescing_runs_tasks_and_timers() {
        let runtime = match build(WAIT) {
            Ok(runtime) => runtime,
            Err(e) => panic!("runtime: {e}"),
        };
        let ticks = runtime.block_on(async {
            let mut ticks = 0;
            for _ in 0..5 {
                let handle = tokio::spawn(async {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    1
                });
                ticks += handle.await.unwrap_or(0);
            }
            ticks
        });
        assert_eq!(ticks, 5);
    }
}
