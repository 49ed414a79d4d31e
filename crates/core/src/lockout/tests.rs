//! HD-SEC-2 lock-out with injected time: the window slides, locks lift, users and devices
//! are counted apart. No test sleeps.

use super::*;
use crate::fixture::{at, dom, ext};
use crate::pin::tests::cheap;
use crate::pin::SALT_LEN;

const T0: &str = "2026-03-02T09:00:00Z";

fn plus(secs: i64) -> Timestamp {
    at(T0)
        .checked_add(SignedDuration::from_secs(secs))
        .expect("in range")
}

fn policy() -> LockoutPolicy {
    LockoutPolicy::default()
}

struct Names {
    domain: DomainName,
    users: Vec<Extension>,
    devices: Vec<Extension>,
}

fn names() -> Names {
    Names {
        domain: dom("acme.test"),
        users: ["1001", "1002", "1003", "1004", "1005", "1006"]
            .map(ext)
            .to_vec(),
        devices: ["94001", "94002", "94003", "94004", "94005", "94006"]
            .map(ext)
            .to_vec(),
    }
}

fn subject<'a>(n: &'a Names, user: Option<usize>, device: Option<usize>) -> PinSubject<'a> {
    PinSubject {
        domain: &n.domain,
        user: user.map(|i| &n.users[i]),
        device: device.map(|i| &n.devices[i]),
    }
}

fn phone() -> Requester {
    Requester::phone(ext("94001"))
}

#[test]
fn hd_sec_2_five_failures_lock_user_for_fifteen_minutes() {
    let n = names();
    let mut guard = PinGuard::new();
    let who = subject(&n, Some(0), Some(0));
    for i in 0..4 {
        let audit = guard.record_failure(&policy(), who, &phone(), plus(i * 60));
        assert_eq!(audit.len(), 1);
        assert_eq!(audit[0].kind, "pin_failed");
        assert!(guard.check(who, plus(i * 60)).is_ok());
    }
    let audit = guard.record_failure(&policy(), who, &phone(), plus(240));
    let kinds: Vec<_> = audit.iter().map(|r| r.kind.as_str()).collect();
    assert_eq!(kinds, ["pin_failed", "locked_out", "locked_out"]);
    assert_eq!(audit[1].detail["locked"], "user");
    assert_eq!(audit[1].user, Some(ext("1001")));
    assert_eq!(audit[2].detail["locked"], "device");
    // Locked from 09:04 until 09:19.
    assert_eq!(
        guard.check(who, plus(240)),
        Err(Refusal::LockedOut {
            retry_after_secs: 900
        })
    );
    assert_eq!(
        guard.check(subject(&n, Some(0), None), plus(240 + 899)),
        Err(Refusal::LockedOut {
            retry_after_secs: 1
        })
    );
    assert!(guard.check(who, plus(240 + 900)).is_ok());
}

#[test]
fn hd_sec_2_failures_outside_window_do_not_count() {
    let n = names();
    let mut guard = PinGuard::new();
    // Different devices each time, so only the user's count matters.
    for (i, minute) in [0, 5, 10, 14].into_iter().enumerate() {
        guard.record_failure(
            &policy(),
            subject(&n, Some(0), Some(i)),
            &phone(),
            plus(minute * 60),
        );
    }
    // At 15:00 the 00:00 failure has left the window: four in the window, not locked.
    guard.record_failure(
        &policy(),
        subject(&n, Some(0), Some(4)),
        &phone(),
        plus(900),
    );
    assert!(guard.check(subject(&n, Some(0), None), plus(900)).is_ok());
    // The next one makes five within 15 minutes (05, 10, 14, 15, 16).
    let audit = guard.record_failure(
        &policy(),
        subject(&n, Some(0), Some(5)),
        &phone(),
        plus(960),
    );
    assert_eq!(audit.iter().filter(|r| r.kind == "locked_out").count(), 1);
    assert!(matches!(
        guard.check(subject(&n, Some(0), None), plus(960)),
        Err(Refusal::LockedOut { .. })
    ));
}

#[test]
fn hd_sec_2_device_used_to_guess_many_users_is_locked() {
    let n = names();
    let mut guard = PinGuard::new();
    for user in 0..5 {
        guard.record_failure(
            &policy(),
            subject(&n, Some(user), Some(0)),
            &phone(),
            plus(10),
        );
    }
    // Device 94001 is locked for everyone, including a user with no failures.
    assert!(matches!(
        guard.check(subject(&n, Some(5), Some(0)), plus(20)),
        Err(Refusal::LockedOut { .. })
    ));
    // Those users are not locked elsewhere (one failure each).
    assert!(guard.check(subject(&n, Some(0), Some(1)), plus(20)).is_ok());
}

#[test]
fn hd_sec_2_user_locked_on_every_device_and_in_portal() {
    let n = names();
    let mut guard = PinGuard::new();
    for device in 0..5 {
        guard.record_failure(
            &policy(),
            subject(&n, Some(0), Some(device)),
            &phone(),
            plus(10),
        );
    }
    assert!(matches!(
        guard.check(subject(&n, Some(0), Some(5)), plus(20)),
        Err(Refusal::LockedOut { .. })
    ));
    assert!(matches!(
        guard.check(subject(&n, Some(0), None), plus(20)),
        Err(Refusal::LockedOut { .. })
    ));
    assert!(guard.check(subject(&n, Some(1), Some(5)), plus(20)).is_ok());
}

#[test]
fn hd_sec_2_success_clears_user_count_but_not_device_count() {
    let n = names();
    let mut guard = PinGuard::new();
    let who = subject(&n, Some(0), Some(0));
    for i in 0..4 {
        guard.record_failure(&policy(), who, &phone(), plus(i));
    }
    guard.record_success(who);
    // One more failure: the user starts again at 1, the device reaches 5.
    let audit = guard.record_failure(&policy(), who, &phone(), plus(10));
    assert_eq!(audit.len(), 2);
    assert_eq!(audit[1].detail["locked"], "device");
    assert!(guard.check(subject(&n, Some(0), None), plus(11)).is_ok());
}

#[test]
fn hd_sec_2_attempt_verifies_counts_and_refuses_while_locked() {
    let n = names();
    let mut guard = PinGuard::new();
    let who = subject(&n, Some(0), Some(0));
    let right = Pin::new("4821").expect("pin");
    let wrong = Pin::new("0000").expect("pin");
    let stored = cheap().hash(&right, &[3; SALT_LEN]).expect("hash");
    let ok = guard.attempt(&policy(), who, Some(&stored), &right, &phone(), plus(0));
    assert_eq!(ok.outcome, Ok(()));
    assert!(ok.audit.is_empty());
    for i in 1..=4 {
        let bad = guard.attempt(&policy(), who, Some(&stored), &wrong, &phone(), plus(i));
        assert_eq!(bad.outcome, Err(Refusal::WrongPin));
        assert_eq!(bad.audit[0].kind, "pin_failed");
    }
    let fifth = guard.attempt(&policy(), who, Some(&stored), &wrong, &phone(), plus(5));
    assert_eq!(
        fifth.outcome,
        Err(Refusal::LockedOut {
            retry_after_secs: 900
        })
    );
    // Locked: even the right PIN is refused, not verified and not counted.
    let locked = guard.attempt(&policy(), who, Some(&stored), &right, &phone(), plus(60));
    assert_eq!(
        locked.outcome,
        Err(Refusal::LockedOut {
            retry_after_secs: 845
        })
    );
    assert!(locked.audit.is_empty());
    // After the lock the right PIN works again.
    let later = guard.attempt(&policy(), who, Some(&stored), &right, &phone(), plus(905));
    assert_eq!(later.outcome, Ok(()));
}

#[test]
fn hd_sec_2_no_pin_or_malformed_hash_never_matches() {
    let n = names();
    let mut guard = PinGuard::new();
    let pin = Pin::new("4821").expect("pin");
    let who = subject(&n, Some(0), Some(0));
    let none = guard.attempt(&policy(), who, None, &pin, &phone(), plus(0));
    assert_eq!(none.outcome, Err(Refusal::WrongPin));
    let junk = guard.attempt(&policy(), who, Some("4821"), &pin, &phone(), plus(1));
    assert_eq!(junk.outcome, Err(Refusal::WrongPin));
    // An unknown PIN (quick code naming nobody) still counts against the device.
    let nobody = guard.record_failure(&policy(), subject(&n, None, Some(1)), &phone(), plus(2));
    assert_eq!(nobody[0].user, None);
    // 1001, 94001 and 94002 have counters.
    assert_eq!(guard.tracked(), 3);
}

#[test]
fn hd_sec_2_prune_forgets_quiet_counters_keeps_locks() {
    let n = names();
    let mut guard = PinGuard::new();
    guard.record_failure(&policy(), subject(&n, Some(0), None), &phone(), plus(0));
    for i in 0..5 {
        guard.record_failure(&policy(), subject(&n, Some(1), None), &phone(), plus(i));
    }
    guard.prune(&policy(), plus(899));
    assert_eq!(guard.tracked(), 2);
    // 1001's failure left the window; 1002's lock (until +904) remains.
    guard.prune(&policy(), plus(900));
    assert_eq!(guard.tracked(), 1);
    guard.prune(&policy(), plus(904));
    assert_eq!(guard.tracked(), 0);
}
