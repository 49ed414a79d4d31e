//! Digest guessing protection: failures counted per source address and per user in a
//! sliding window; past the limit, further attempts from that address or for that user are
//! refused for a while without even being verified. Core's `PinGuard` keys on extensions
//! only (users and devices), so the source-address half needs its own table; each entry is
//! core's [`FailureWindow`], the same sliding window.

use std::collections::HashMap;
use std::net::IpAddr;

use hotdesk_core::domain::LockoutPolicy;
use hotdesk_core::FailureWindow;
use jiff::Timestamp;

/// Limits of the guard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GuardPolicy {
    /// Failures within `window_secs` that start a lock (0 = never lock).
    pub max_failures: u32,
    /// The sliding window failures are counted in.
    pub window_secs: u32,
    /// How long a lock lasts.
    pub lock_secs: u32,
}

impl Default for GuardPolicy {
    /// 10 failures in 5 minutes lock for 5 minutes.
    fn default() -> Self {
        Self {
            max_failures: 10,
            window_secs: 300,
            lock_secs: 300,
        }
    }
}

impl From<GuardPolicy> for LockoutPolicy {
    fn from(p: GuardPolicy) -> Self {
        Self {
            max_failures: p.max_failures,
            window_secs: p.window_secs,
            lock_secs: p.lock_secs,
        }
    }
}

/// Which lock refused an attempt, and for how much longer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Locked {
    /// Seconds until the longest applicable lock lifts, rounded up.
    pub retry_after_secs: u64,
}

/// Locks that a failure started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Started {
    /// The source address is now locked until then.
    pub source: Option<Timestamp>,
    /// The user is now locked until then.
    pub user: Option<Timestamp>,
}

/// Failure counters per source address and per user (domain → username).
#[derive(Debug, Default)]
pub struct AuthGuard {
    policy: GuardPolicy,
    sources: HashMap<IpAddr, FailureWindow>,
    users: HashMap<String, HashMap<String, FailureWindow>>,
}

impl AuthGuard {
    /// An empty guard.
    pub fn new(policy: GuardPolicy) -> Self {
        Self {
            policy,
            ..Self::default()
        }
    }

    /// `Err` while `source` or `user`@`domain` is locked. Allocates nothing.
    pub fn check(
        &self,
        source: IpAddr,
        domain: &str,
        user: Option<&str>,
        now: Timestamp,
    ) -> Result<(), Locked> {
        let user = user.and_then(|u| self.users.get(domain)?.get(u));
        let left = [self.sources.get(&source), user]
            .into_iter()
            .flatten()
            .filter_map(|t| t.lock_left(now))
            .max();
        match left {
            None => Ok(()),
            Some(left) => Err(Locked {
                retry_after_secs: u64::try_from(left.as_secs()).unwrap_or(0)
                    + u64::from(left.subsec_nanos() > 0),
            }),
        }
    }

    /// Counts a failure against `source` and, when known, `user`@`domain`.
    pub fn fail(
        &mut self,
        source: IpAddr,
        domain: &str,
        user: Option<&str>,
        now: Timestamp,
    ) -> Started {
        let policy = LockoutPolicy::from(self.policy);
        let source = self.sources.entry(source).or_default().fail(&policy, now);
        let user = user.and_then(|user| {
            self.users
                .entry(domain.to_owned())
                .or_default()
                .entry(user.to_owned())
                .or_default()
                .fail(&policy, now)
        });
        Started { source, user }
    }

    /// A verified user's count starts again; the address keeps its count, so one known
    /// password cannot launder guesses at others from the same place.
    pub fn succeed(&mut self, domain: &str, user: &str) {
        if let Some(users) = self.users.get_mut(domain) {
            if users.remove(user).is_some() && users.is_empty() {
                self.users.remove(domain);
            }
        }
    }

    /// Forgets counters with no recent failure and no lock (bounds memory under attack).
    pub fn prune(&mut self, now: Timestamp) {
        let policy = LockoutPolicy::from(self.policy);
        self.sources.retain(|_, t| !t.is_stale(&policy, now));
        self.users.retain(|_, users| {
            users.retain(|_, t| !t.is_stale(&policy, now));
            !users.is_empty()
        });
    }

    /// Addresses and users with a live counter or lock.
    pub fn tracked(&self) -> usize {
        self.sources.len() + self.users.values().map(HashMap::len).sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(secs: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + secs).unwrap()
    }

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([192, 0, 2, last])
    }

    fn guard() -> AuthGuard {
        AuthGuard::new(GuardPolicy {
            max_failures: 3,
            window_secs: 60,
            lock_secs: 120,
        })
    }

    #[test]
    fn hd_sec_3_source_locks_after_n_failures_across_users() {
        let mut g = guard();
        assert_eq!(
            g.fail(ip(1), "acme.test", Some("1001"), t(0)),
            Started::default()
        );
        g.fail(ip(1), "acme.test", Some("1002"), t(1));
        let started = g.fail(ip(1), "acme.test", Some("1003"), t(2));
        assert_eq!(started.source, Some(t(122)));
        assert_eq!(started.user, None, "each user failed once only");
        assert_eq!(
            g.check(ip(1), "acme.test", Some("1004"), t(3)),
            Err(Locked {
                retry_after_secs: 119
            })
        );
        assert_eq!(g.check(ip(2), "acme.test", Some("1004"), t(3)), Ok(()));
        assert_eq!(
            g.check(ip(1), "acme.test", None, t(122)),
            Ok(()),
            "lock lifts"
        );
    }

    #[test]
    fn hd_sec_3_user_locks_from_many_sources_and_only_in_its_domain() {
        let mut g = guard();
        for i in 0..3 {
            g.fail(ip(10 + i), "acme.test", Some("1004"), t(i64::from(i)));
        }
        assert!(g.check(ip(99), "acme.test", Some("1004"), t(5)).is_err());
        assert_eq!(g.check(ip(99), "other.test", Some("1004"), t(5)), Ok(()));
        assert_eq!(g.check(ip(99), "acme.test", Some("1005"), t(5)), Ok(()));
    }

    #[test]
    fn failures_outside_the_window_do_not_add_up() {
        let mut g = guard();
        g.fail(ip(1), "acme.test", Some("1004"), t(0));
        g.fail(ip(1), "acme.test", Some("1004"), t(30));
        let started = g.fail(ip(1), "acme.test", Some("1004"), t(61));
        assert_eq!(started, Started::default());
        assert_eq!(g.check(ip(1), "acme.test", Some("1004"), t(62)), Ok(()));
    }

    #[test]
    fn success_clears_the_user_but_not_the_source() {
        let mut g = guard();
        g.fail(ip(1), "acme.test", Some("1004"), t(0));
        g.fail(ip(1), "acme.test", Some("1004"), t(1));
        g.succeed("acme.test", "1004");
        let started = g.fail(ip(1), "acme.test", Some("1004"), t(2));
        assert!(started.source.is_some());
        assert!(started.user.is_none());
    }

    #[test]
    fn prune_forgets_quiet_counters_but_keeps_locks() {
        let mut g = guard();
        g.fail(ip(1), "acme.test", Some("1004"), t(0));
        for i in 0..3 {
            g.fail(ip(2), "acme.test", None, t(i));
        }
        assert_eq!(g.tracked(), 3);
        g.prune(t(100));
        assert_eq!(g.tracked(), 1, "the locked source stays");
        g.prune(t(200));
        assert_eq!(g.tracked(), 0);
    }
}
