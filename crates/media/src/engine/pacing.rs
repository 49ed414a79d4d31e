//! The driver's own view of its pacing, for metrics and the benchmark: per tick, how late it
//! started against the 20 ms grid and how long its send pass took. Two consecutive ticks
//! bound every session's packet spacing: `20 ms ± (|lateness change| + longer send pass)`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::session::PTIME;

/// Worst spacing error a tick pair may have and still count as clean.
const CLEAN: Duration = Duration::from_millis(2);

/// Pacing counters since the engine started (ticks with at least one session).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PacingStats {
    /// Ticks measured.
    pub ticks: u64,
    /// Ticks whose packets are all within 20 ms ± 2 ms of the previous tick's.
    pub clean_ticks: u64,
    /// Largest spacing error bound seen.
    pub worst_error: Duration,
}

#[derive(Debug, Default)]
pub(super) struct PacingCounters {
    ticks: AtomicU64,
    clean: AtomicU64,
    worst_us: AtomicU64,
}

impl PacingCounters {
    pub(super) fn snapshot(&self) -> PacingStats {
        PacingStats {
            ticks: self.ticks.load(Ordering::Relaxed),
            clean_ticks: self.clean.load(Ordering::Relaxed),
            worst_error: Duration::from_micros(self.worst_us.load(Ordering::Relaxed)),
        }
    }
}

/// One tick as measured by the driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Tick {
    /// When the tick was due on the grid.
    pub(super) scheduled: Instant,
    /// How late it started.
    pub(super) lateness: Duration,
    /// How long sending took.
    pub(super) send_pass: Duration,
}

/// Bound on how far any session's spacing between two ticks is from 20 ms.
fn spacing_error(previous: Tick, current: Tick) -> Duration {
    let grid = current
        .scheduled
        .saturating_duration_since(previous.scheduled);
    let grid_error = grid.abs_diff(PTIME);
    let late_change = current.lateness.abs_diff(previous.lateness);
    grid_error + late_change + current.send_pass.max(previous.send_pass)
}

/// Remembers the previous tick and updates the counters.
#[derive(Debug, Default)]
pub(super) struct PacingMeter {
    previous: Option<Tick>,
}

impl PacingMeter {
    pub(super) fn record(&mut self, counters: &PacingCounters, tick: Tick, sessions: usize) {
        if sessions == 0 {
            self.previous = None;
            return;
        }
        if let Some(previous) = self.previous.replace(tick) {
            let error = spacing_error(previous, tick);
            counters.ticks.fetch_add(1, Ordering::Relaxed);
            if error <= CLEAN {
                counters.clean.fetch_add(1, Ordering::Relaxed);
            }
            let micros = u64::try_from(error.as_micros()).unwrap_or(u64::MAX);
            counters.worst_us.fetch_max(micros, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tick(at: Instant, ms: u64, late_us: u64, pass_us: u64) -> Tick {
        Tick {
            scheduled: at + Duration::from_millis(ms),
            lateness: Duration::from_micros(late_us),
            send_pass: Duration::from_micros(pass_us),
        }
    }

    #[test]
    fn spacing_bound_from_lateness_send_pass_and_skipped_ticks() {
        let t0 = Instant::now();
        let counters = PacingCounters::default();
        let mut meter = PacingMeter::default();
        meter.record(&counters, tick(t0, 0, 300, 500), 10);
        meter.record(&counters, tick(t0, 20, 900, 700), 10); // 0.6 + 0.7 ms: clean
        meter.record(&counters, tick(t0, 40, 3900, 700), 10); // 3 ms later start: not clean
        meter.record(&counters, tick(t0, 80, 0, 100), 10); // a skipped tick: 20 ms off
        meter.record(&counters, tick(t0, 100, 0, 100), 0); // idle ticks are not measured
        let stats = counters.snapshot();
        assert_eq!((stats.ticks, stats.clean_ticks), (3, 1));
        assert_eq!(
            stats.worst_error,
            Duration::from_micros(20_000 + 3_900 + 700)
        );
    }
}
