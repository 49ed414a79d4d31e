//! The driver's own view of its pacing, for metrics and the benchmark: the time between
//! consecutive `send` calls of each session, taken right after each call (one clock read
//! per packet), compared with 20 ms.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::session::PTIME;

/// Largest spacing error that still counts as clean.
const CLEAN: Duration = Duration::from_millis(2);

/// Pacing counters since the engine started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PacingStats {
    /// Packets measured (each session's second and later packets).
    pub packets: u64,
    /// Packets sent 20 ms ± 2 ms after the session's previous one.
    pub clean_packets: u64,
    /// Largest spacing error seen.
    pub worst_error: Duration,
}

#[derive(Debug, Default)]
pub(super) struct PacingCounters {
    packets: AtomicU64,
    clean: AtomicU64,
    worst_us: AtomicU64,
}

impl PacingCounters {
    pub(super) fn snapshot(&self) -> PacingStats {
        PacingStats {
            packets: self.packets.load(Ordering::Relaxed),
            clean_packets: self.clean.load(Ordering::Relaxed),
            worst_error: Duration::from_micros(self.worst_us.load(Ordering::Relaxed)),
        }
    }

    /// Records a packet sent at `now` by a session whose previous packet left at `previous`.
    pub(super) fn record(&self, previous: Option<Instant>, now: Instant) {
        let Some(previous) = previous else {
            return;
        };
        let error = now.saturating_duration_since(previous).abs_diff(PTIME);
        self.packets.fetch_add(1, Ordering::Relaxed);
        if error <= CLEAN {
            self.clean.fetch_add(1, Ordering::Relaxed);
        }
        let micros = u64::try_from(error.as_micros()).unwrap_or(u64::MAX);
        self.worst_us.fetch_max(micros, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spacing_error_against_20_ms() {
        let t0 = Instant::now();
        let counters = PacingCounters::default();
        let at = |us: u64| t0 + Duration::from_micros(us);
        counters.record(None, at(0)); // first packet: nothing to compare
        counters.record(Some(at(0)), at(21_500)); // 1.5 ms late: clean
        counters.record(Some(at(21_500)), at(38_000)); // 3.5 ms early
        counters.record(Some(at(38_000)), at(78_000)); // a skipped slot: 20 ms off
        let stats = counters.snapshot();
        assert_eq!((stats.packets, stats.clean_packets), (3, 1));
        assert_eq!(stats.worst_error, Duration::from_millis(20));
    }
}
