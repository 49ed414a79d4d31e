//! Sleeping to an absolute deadline. A relative sleep computed from "now" starts late by
//! whatever happened between reading the clock and sleeping; `clock_nanosleep` with
//! `TIMER_ABSTIME` on CLOCK_MONOTONIC (the clock `Instant` reads on Linux) does not.

use std::time::{Duration, Instant};

/// Maps `Instant`s to CLOCK_MONOTONIC timespecs through one pair of readings.
#[derive(Debug)]
pub(super) struct Sleeper {
    anchor: Instant,
    anchor_ts: Duration,
}

fn monotonic() -> Option<Duration> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    let secs = u64::try_from(ts.tv_sec).ok()?;
    let nanos = u32::try_from(ts.tv_nsec).ok()?;
    (rc == 0).then(|| Duration::new(secs, nanos))
}

impl Sleeper {
    /// Takes the anchor readings and asks for 1 µs timer slack on the calling thread (the
    /// default 50 µs would be added to every wake-up under normal scheduling).
    pub(super) fn new() -> Self {
        // SAFETY: PR_SET_TIMERSLACK takes one integer argument; it affects this thread only.
        unsafe { libc::prctl(libc::PR_SET_TIMERSLACK, 1_000 as libc::c_ulong) };
        let anchor = Instant::now();
        Self {
            anchor,
            anchor_ts: monotonic().unwrap_or_default(),
        }
    }

    /// Sleeps until `deadline` (returns at once if it has passed).
    pub(super) fn sleep_until(&self, deadline: Instant) {
        let now = Instant::now();
        if deadline <= now {
            return;
        }
        if self.anchor_ts.is_zero() {
            std::thread::sleep(deadline - now);
            return;
        }
        let target = self.anchor_ts + deadline.saturating_duration_since(self.anchor);
        let ts = libc::timespec {
            tv_sec: libc::time_t::try_from(target.as_secs()).unwrap_or(libc::time_t::MAX),
            tv_nsec: libc::c_long::from(target.subsec_nanos()),
        };
        // Interrupted by a signal (EINTR): sleep again to the same deadline.
        loop {
            // SAFETY: `ts` is a valid timespec; the remaining-time pointer may be null with
            // TIMER_ABSTIME.
            let rc = unsafe {
                libc::clock_nanosleep(
                    libc::CLOCK_MONOTONIC,
                    libc::TIMER_ABSTIME,
                    &ts,
                    std::ptr::null_mut(),
                )
            };
            if rc != libc::EINTR {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sleeps_until_the_deadline_not_before() {
        let sleeper = Sleeper::new();
        let start = Instant::now();
        let deadline = start + Duration::from_millis(3);
        sleeper.sleep_until(deadline);
        assert!(Instant::now() >= deadline);
        // A deadline in the past returns at once (not asserted in time: only that it returns).
        sleeper.sleep_until(start);
    }
}
