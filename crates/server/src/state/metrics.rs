//! Process-wide counters for `/metrics` (Prometheus text); gauges are read from the view.

use std::sync::atomic::{AtomicU64, Ordering};

/// Monotonic counters since start.
#[derive(Debug, Default)]
pub struct Counters {
    /// Successful log-ins (any path).
    pub logins: AtomicU64,
    /// Log-outs (any reason).
    pub logouts: AtomicU64,
    /// Log-ins refused by the rules.
    pub login_refusals: AtomicU64,
    /// Wrong PINs (any path, HD-SEC-2).
    pub pin_failures: AtomicU64,
    /// Lock-outs started (HD-SEC-2).
    pub lockouts: AtomicU64,
    /// Calls the B2BUA holds now (a gauge, set by the dispatcher).
    pub calls_active: AtomicU64,
    /// Dialogs the B2BUA knows now, both sides counted (a gauge).
    pub dialogs_active: AtomicU64,
    /// HTTP requests answered, by status class 1xx..5xx (index 0..4).
    pub http_requests: [AtomicU64; 5],
}

impl Counters {
    /// Adds `n` to a counter.
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// Reads a counter.
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    /// Counts one HTTP response with status `status`.
    pub fn http_response(&self, status: u16) {
        let class = usize::from(status / 100).clamp(1, 5) - 1;
        Self::add(&self.http_requests[class], 1);
    }
}
