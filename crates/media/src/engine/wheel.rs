//! The timer wheel that spreads sessions over the 20 ms packet period.
//!
//! Each session gets a phase: one of [`PHASES`] 1 ms steps inside the period, the least
//! crowded one when it starts. Its packet slots sit at `origin + phase + k·20 ms`, and the
//! driver wakes once per step and serves only that step's sessions. Each session still sends
//! every 20 ms, but 500 sessions become 20 small bursts of 25 sends instead of one burst of
//! 500 (which took milliseconds, long enough for the scheduler to preempt the driver in the
//! middle and push the later sessions out of their ±2 ms window).
//!
//! Pure: `now` comes in, nothing here reads a clock (unit tests run in virtual time).

use std::time::{Duration, Instant};

use super::SessionId;
use crate::session::PTIME;

/// Steps per packet period.
pub(super) const PHASES: usize = 20;
/// One step: 1 ms.
pub(super) const STEP: Duration = Duration::from_millis(1);
const _: () = assert!(STEP.as_nanos() * PHASES as u128 == PTIME.as_nanos());

/// Sessions by phase, and the next step to serve.
#[derive(Debug)]
pub(super) struct Wheel {
    origin: Instant,
    /// Step number (since `origin`) the driver serves next.
    next: u64,
    phases: [Vec<SessionId>; PHASES],
}

impl Wheel {
    /// An empty wheel whose step 0 is due at `origin`.
    pub(super) fn new(origin: Instant) -> Self {
        Self {
            origin,
            next: 0,
            phases: Default::default(),
        }
    }

    fn step_at(&self, step: u64) -> Instant {
        self.origin + STEP * u32::try_from(step).unwrap_or(u32::MAX)
    }

    /// Puts a session on the least crowded phase and returns its first packet slot: the
    /// first time at or after `now` (and not before the next step served) its phase is due.
    pub(super) fn insert(&mut self, id: SessionId, now: Instant) -> Instant {
        let since = now.saturating_duration_since(self.origin).as_nanos();
        let now_step = u64::try_from(since.div_ceil(STEP.as_nanos())).unwrap_or(u64::MAX);
        if self.phases.iter().all(Vec::is_empty) {
            // An idle driver sleeps without serving steps: start from now, not from the
            // last step served before it went idle.
            self.next = now_step;
        }
        let phase = (0..PHASES)
            .min_by_key(|&p| self.phases[p].len())
            .unwrap_or(0);
        self.phases[phase].push(id);
        let first = now_step.max(self.next);
        // Round up to the next step of this phase.
        let offset = (phase as u64 + PHASES as u64 - first % PHASES as u64) % PHASES as u64;
        self.step_at(first + offset)
    }

    /// Takes a session off the wheel (no-op if absent).
    pub(super) fn remove(&mut self, id: SessionId) {
        for phase in &mut self.phases {
            if let Some(at) = phase.iter().position(|s| *s == id) {
                phase.swap_remove(at);
                return;
            }
        }
    }

    /// When the next step is due.
    pub(super) fn next_deadline(&self) -> Instant {
        self.step_at(self.next)
    }

    /// The sessions of the next step if it is due at `now`, advancing past it; `None` when
    /// it is not due yet. A driver that fell a whole period or more behind serves each phase
    /// once (the sessions skip or catch up their missed slots themselves), not every
    /// missed step.
    pub(super) fn pop_due(&mut self, now: Instant) -> Option<&[SessionId]> {
        if now < self.next_deadline() {
            return None;
        }
        let elapsed = now.saturating_duration_since(self.origin).as_nanos() / STEP.as_nanos();
        let current = u64::try_from(elapsed).unwrap_or(u64::MAX);
        let oldest = current.saturating_sub(PHASES as u64 - 1);
        self.next = self.next.max(oldest);
        let step = self.next;
        self.next += 1;
        Some(&self.phases[(step % PHASES as u64) as usize])
    }

    /// Sessions on the wheel.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.phases.iter().map(Vec::len).sum()
    }
}

/// Pacing of issue 6 (RFC 3551 §4.5: G.711 in 20 ms packets, every session sent on its own
/// 20 ms slot), checked in virtual time.
#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// Steps served from `from` to `to` (inclusive), one wake per millisecond, with the
    /// sessions each step gave.
    fn run(wheel: &mut Wheel, t0: Instant, from: u64, to: u64) -> Vec<(u64, Vec<SessionId>)> {
        let mut served = Vec::new();
        for t in from..=to {
            while let Some(ids) = wheel.pop_due(t0 + ms(t)) {
                served.push((t, ids.to_vec()));
            }
        }
        served
    }

    #[test]
    fn sessions_spread_evenly_over_the_phases() {
        let t0 = Instant::now();
        let mut wheel = Wheel::new(t0);
        for n in 0..500 {
            wheel.insert(SessionId(n), t0);
        }
        assert_eq!(wheel.len(), 500);
        assert!(wheel.phases.iter().all(|p| p.len() == 25));
        // One period: every session is served exactly once, 25 per step.
        let served = run(&mut wheel, t0, 0, 19);
        assert_eq!(served.len(), 20);
        assert!(served.iter().all(|(_, ids)| ids.len() == 25));
        let mut all: Vec<_> = served.into_iter().flat_map(|(_, ids)| ids).collect();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), 500);
    }

    #[test]
    fn first_slot_is_on_the_sessions_phase_at_or_after_now() {
        let t0 = Instant::now();
        let mut wheel = Wheel::new(t0);
        // Phase 0 at 0, 20, 40 ms…; inserting at 3.5 ms gives the next phase-0 step, 20 ms.
        assert_eq!(
            wheel.insert(SessionId(1), t0 + Duration::from_micros(3500)),
            t0 + ms(20)
        );
        // Phase 1 is next least crowded: steps 1, 21, 41 ms…; at 3.5 ms that is 21 ms.
        assert_eq!(
            wheel.insert(SessionId(2), t0 + Duration::from_micros(3500)),
            t0 + ms(21)
        );
        // Exactly on a step of its phase: that step.
        assert_eq!(wheel.insert(SessionId(3), t0 + ms(22)), t0 + ms(22));
    }

    #[test]
    fn each_session_is_served_every_20_ms_on_its_slot() {
        let t0 = Instant::now();
        let mut wheel = Wheel::new(t0);
        let slots: Vec<_> = (0..45).map(|n| wheel.insert(SessionId(n), t0)).collect();
        let served = run(&mut wheel, t0, 0, 99);
        for (n, slot) in slots.iter().enumerate() {
            let times: Vec<u64> = served
                .iter()
                .filter(|(_, ids)| ids.contains(&SessionId(n as u64)))
                .map(|(t, _)| *t)
                .collect();
            let first = u64::try_from(slot.duration_since(t0).as_millis()).unwrap();
            assert_eq!(
                times,
                vec![first, first + 20, first + 40, first + 60, first + 80]
            );
        }
    }

    #[test]
    fn a_late_wake_serves_the_missed_steps_in_order() {
        let t0 = Instant::now();
        let mut wheel = Wheel::new(t0);
        for n in 0..20 {
            wheel.insert(SessionId(n), t0);
        }
        assert_eq!(
            wheel.pop_due(t0).map(<[_]>::to_vec),
            Some(vec![SessionId(0)])
        );
        assert!(wheel.pop_due(t0 + Duration::from_micros(999)).is_none());
        // Woken 4.2 ms late: steps 1..=5 are due, served in order, then nothing.
        let late = t0 + Duration::from_micros(5200);
        let mut got = Vec::new();
        while let Some(ids) = wheel.pop_due(late) {
            got.extend_from_slice(ids);
        }
        assert_eq!(got, (1..=5).map(SessionId).collect::<Vec<_>>());
        assert_eq!(wheel.next_deadline(), t0 + ms(6));
    }

    #[test]
    fn a_stall_longer_than_a_period_serves_each_phase_once() {
        let t0 = Instant::now();
        let mut wheel = Wheel::new(t0);
        for n in 0..20 {
            wheel.insert(SessionId(n), t0);
        }
        let late = t0 + ms(250);
        let mut got = Vec::new();
        while let Some(ids) = wheel.pop_due(late) {
            got.extend_from_slice(ids);
        }
        got.sort();
        assert_eq!(got, (0..20).map(SessionId).collect::<Vec<_>>());
        assert_eq!(wheel.next_deadline(), t0 + ms(251));
    }

    #[test]
    fn a_wheel_idle_for_long_starts_its_first_session_without_catching_up() {
        let t0 = Instant::now();
        let mut wheel = Wheel::new(t0);
        let slot = wheel.insert(SessionId(1), t0 + Duration::from_micros(60_500));
        assert_eq!(slot, t0 + ms(80)); // phase 0
                                       // Steps 0..=60 were never served, and none is owed: the next one is 61 ms.
        assert_eq!(wheel.next_deadline(), t0 + ms(61));
        let served = run(&mut wheel, t0, 61, 100);
        let times: Vec<u64> = served
            .iter()
            .filter(|(_, ids)| !ids.is_empty())
            .map(|(t, _)| *t)
            .collect();
        assert_eq!(times, vec![80, 100]);
    }

    #[test]
    fn removed_sessions_free_their_phase() {
        let t0 = Instant::now();
        let mut wheel = Wheel::new(t0);
        for n in 0..40 {
            wheel.insert(SessionId(n), t0);
        }
        wheel.remove(SessionId(7));
        wheel.remove(SessionId(27));
        wheel.remove(SessionId(99));
        assert_eq!(wheel.len(), 38);
        // Phase 7 is now the emptiest: the next session goes there.
        assert_eq!(wheel.insert(SessionId(100), t0 + ms(1)), t0 + ms(7));
    }
}
