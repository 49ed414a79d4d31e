//! Log-out paths (HD-LOGOUT-1, -4, HD-LOGIN-7) and automatic log-out (HD-LOGOUT-2),
//! including end of day across the 2026 US DST changes.
//!
//! Not covered here: the phone prompts (phone_menu) and NOTIFY delivery of warnings.

use super::*;
use crate::command::Command;
use crate::desks::tests::{login, run};
use crate::domain::Domain;
use crate::event::{Actor, DeskEvent};
use crate::fixture::{at, device, dom, ext, world};
use crate::ids::Extension;
use crate::user::Scope;

fn logout(device: &str, path: LogoutPath, requester: Requester) -> Command {
    Command::Logout(Logout {
        domain: dom("acme.test"),
        device: ext(device),
        user: None,
        path,
        requester,
    })
}

fn sweep() -> Command {
    Command::Sweep {
        domain: dom("acme.test"),
    }
}

fn set_settings(
    dir: &mut crate::directory::MemoryDirectory,
    edit: impl FnOnce(&mut DomainSettings),
) {
    let mut settings = DomainSettings::default();
    edit(&mut settings);
    dir.upsert_domain(Domain {
        name: dom("acme.test"),
        settings,
    });
}

const PIN_OK: LogoutPath = LogoutPath::Phone { pin_verified: true };

#[test]
fn hd_logout_1_phone_logout_needs_the_pin() {
    let dir = world();
    let mut book = DeskBook::new();
    run(
        &mut book,
        &dir,
        &login("acme.test", "94001", "1001"),
        "2026-03-02T09:00:00Z",
    )
    .expect("in");
    let phone = Requester::phone(ext("94001"));
    let no_pin = logout(
        "94001",
        LogoutPath::Phone {
            pin_verified: false,
        },
        phone.clone(),
    );
    assert_eq!(
        book.plan(&dir, &no_pin, at("2026-03-02T10:00:00Z")),
        Err(Refusal::WrongPin)
    );
    let plan = run(
        &mut book,
        &dir,
        &logout("94001", PIN_OK, phone),
        "2026-03-02T10:00:00Z",
    )
    .expect("out");
    assert!(matches!(
        &plan.events[0],
        DeskEvent::LoggedOut {
            reason: LogoutReason::User,
            ..
        }
    ));
    assert_eq!(plan.audit[0].kind, "logout");
    assert!(plan.calls_continue);
    assert!(book.is_empty());
    let again = logout("94001", PIN_OK, Requester::phone(ext("94001")));
    assert_eq!(
        book.plan(&dir, &again, at("2026-03-02T10:00:00Z")),
        Err(Refusal::NotLoggedIn)
    );
    let unknown = logout("94999", PIN_OK, Requester::phone(ext("94999")));
    assert_eq!(
        book.plan(&dir, &unknown, at("2026-03-02T10:00:00Z")),
        Err(Refusal::UnknownDevice)
    );
}

#[test]
fn hd_logout_4_forced_logout_audited_with_actor() {
    let dir = world();
    let mut book = DeskBook::new();
    run(
        &mut book,
        &dir,
        &login("acme.test", "94001", "1001"),
        "2026-03-02T09:00:00Z",
    )
    .expect("in");
    let admin = Requester::admin("alice@ops", Scope::OfficeManager).with_source("192.0.2.7");
    let plan = run(
        &mut book,
        &dir,
        &logout("94001", LogoutPath::Remote, admin),
        "2026-03-02T10:00:00Z",
    )
    .expect("forced");
    assert!(matches!(
        &plan.events[0],
        DeskEvent::LoggedOut { reason: LogoutReason::Forced, actor: Actor::Admin(name), .. } if name == "alice@ops"
    ));
    let row = &plan.audit[0];
    assert_eq!(row.kind, "forced_logout");
    assert_eq!(row.actor, Actor::Admin("alice@ops".into()));
    assert_eq!(row.source.as_deref(), Some("192.0.2.7"));
    assert_eq!(row.user, Some(ext("1001")));
    assert_eq!(plan.users_released, vec![(dom("acme.test"), ext("1001"))]);
}

#[test]
fn hd_logout_4_user_logs_out_own_desk_only() {
    let dir = world();
    let mut book = DeskBook::new();
    run(
        &mut book,
        &dir,
        &login("acme.test", "94001", "1001"),
        "2026-03-02T09:00:00Z",
    )
    .expect("in");
    let other = Requester::user(ext("1003"), Scope::User);
    let refused = book.plan(
        &dir,
        &logout("94001", LogoutPath::Remote, other),
        at("2026-03-02T10:00:00Z"),
    );
    assert_eq!(refused, Err(Refusal::NotYourDevice));
    let mut named = Logout {
        domain: dom("acme.test"),
        device: ext("94001"),
        user: Some(ext("1003")),
        path: LogoutPath::Remote,
        requester: Requester::admin("ops", Scope::DomainAdmin),
    };
    let wrong_user = book.plan(
        &dir,
        &Command::Logout(named.clone()),
        at("2026-03-02T10:00:00Z"),
    );
    assert_eq!(wrong_user, Err(Refusal::NotYourDevice));
    named.user = Some(ext("1001"));
    assert!(book
        .plan(&dir, &Command::Logout(named), at("2026-03-02T10:00:00Z"))
        .is_ok());
    let own = Requester::user(ext("1001"), Scope::User);
    let plan = run(
        &mut book,
        &dir,
        &logout("94001", LogoutPath::Remote, own),
        "2026-03-02T10:00:00Z",
    )
    .expect("own");
    assert_eq!(plan.audit[0].actor, Actor::User(ext("1001")));
}

#[test]
fn hd_login_7_location_device_not_logged_out_at_phone() {
    let mut dir = world();
    dir.upsert_device(device("acme.test", "94004", DeviceKind::Location));
    let mut book = DeskBook::new();
    let Command::Login(mut bind) = login("acme.test", "94004", "1003") else {
        unreachable!()
    };
    bind.method = crate::association::LoginMethod::Admin;
    bind.requester = Requester::admin("ops", Scope::DomainAdmin);
    run(
        &mut book,
        &dir,
        &Command::Login(bind),
        "2026-03-02T09:00:00Z",
    )
    .expect("bound");
    let now = at("2026-03-02T10:00:00Z");
    let phone = logout("94004", PIN_OK, Requester::phone(ext("94004")));
    assert_eq!(book.plan(&dir, &phone, now), Err(Refusal::LocationDevice));
    let by_user = logout(
        "94004",
        LogoutPath::Remote,
        Requester::user(ext("1003"), Scope::User),
    );
    assert_eq!(book.plan(&dir, &by_user, now), Err(Refusal::LocationDevice));
    // Automatic log-out never unbinds it either.
    set_settings(&mut dir, |s| {
        s.idle_logout_secs = Some(60);
        s.end_of_day = Some("09:30".into());
    });
    assert!(book
        .plan(&dir, &sweep(), at("2026-03-03T12:00:00Z"))
        .expect("sweep")
        .is_noop());
    let admin = logout(
        "94004",
        LogoutPath::Remote,
        Requester::admin("ops", Scope::DomainAdmin),
    );
    assert!(book.plan(&dir, &admin, now).is_ok());
}

#[test]
fn hd_logout_2_expiry_is_device_lifetime_capped_by_domain() {
    let since = at("2026-03-02T09:00:00Z");
    let mut settings = DomainSettings::default();
    let mut desk = device("acme.test", "94001", DeviceKind::Hotdesk);
    assert_eq!(lifetime_expiry(&settings, &desk, since), None);
    desk.association_secs = Some(8 * 3600);
    assert_eq!(
        lifetime_expiry(&settings, &desk, since),
        Some(at("2026-03-02T17:00:00Z"))
    );
    settings.max_association_secs = Some(4 * 3600);
    assert_eq!(
        lifetime_expiry(&settings, &desk, since),
        Some(at("2026-03-02T13:00:00Z"))
    );
    desk.association_secs = None;
    assert_eq!(
        lifetime_expiry(&settings, &desk, since),
        Some(at("2026-03-02T13:00:00Z"))
    );
    desk.kind = DeviceKind::Location;
    assert_eq!(lifetime_expiry(&settings, &desk, since), None);
}

fn new_york(end_of_day: &str) -> Schedule {
    let settings = DomainSettings {
        time_zone: "America/New_York".into(),
        end_of_day: Some(end_of_day.into()),
        ..DomainSettings::default()
    };
    Schedule::new(&settings).expect("valid")
}

#[test]
fn hd_logout_2_end_of_day_across_spring_forward() {
    // Log in 2026-03-07 20:00 EST; the next 18:00 is on 2026-03-08, after the change to EDT.
    let eod = new_york("18:00");
    let since = at("2026-03-08T01:00:00Z");
    assert_eq!(
        eod.end_of_day_after(since),
        Some(at("2026-03-08T22:00:00Z"))
    );
    // Before the change the same clock time is 23:00 UTC.
    assert_eq!(
        eod.end_of_day_after(at("2026-03-06T15:00:00Z")),
        Some(at("2026-03-06T23:00:00Z"))
    );
    // 02:30 does not exist on 2026-03-08 in New York: it resolves to 03:30 EDT.
    let gap = new_york("02:30");
    assert_eq!(
        gap.end_of_day_after(since),
        Some(at("2026-03-08T07:30:00Z"))
    );
}

#[test]
fn hd_logout_2_end_of_day_across_fall_back() {
    // Log in 2026-10-31 20:00 EDT; 18:00 on 2026-11-01 is EST.
    let eod = new_york("18:00");
    assert_eq!(
        eod.end_of_day_after(at("2026-11-01T00:00:00Z")),
        Some(at("2026-11-01T23:00:00Z"))
    );
    // 01:30 happens twice on 2026-11-01: the first (EDT) one ends the session, once.
    let twice = new_york("01:30");
    let first = twice.end_of_day_after(at("2026-11-01T02:00:00Z"));
    assert_eq!(first, Some(at("2026-11-01T05:30:00Z")));
    // A session begun between the two 01:30s runs until the next day's.
    assert_eq!(
        twice.end_of_day_after(at("2026-11-01T05:45:00Z")),
        Some(at("2026-11-02T06:30:00Z"))
    );
}

#[test]
fn hd_logout_2_end_of_day_passed_today_means_tomorrow() {
    let eod = new_york("18:00");
    // 19:00 EST on 2026-02-10 → 18:00 EST on 2026-02-11.
    assert_eq!(
        eod.end_of_day_after(at("2026-02-11T00:00:00Z")),
        Some(at("2026-02-11T23:00:00Z"))
    );
    // Exactly at end of day: that one is not "after", so the next day's.
    assert_eq!(
        eod.end_of_day_after(at("2026-02-11T23:00:00Z")),
        Some(at("2026-02-12T23:00:00Z"))
    );
}

#[test]
fn hd_logout_2_schedule_settings_validated() {
    for bad in ["24:00", "7:00", "07:60", "ab:cd", "07-00", "", "07:00:00"] {
        assert!(
            matches!(parse_end_of_day(bad), Err(ScheduleError::EndOfDay { .. })),
            "{bad}"
        );
    }
    assert_eq!(
        parse_end_of_day("07:05").map(|t| (t.hour(), t.minute())),
        Ok((7, 5))
    );
    let settings = DomainSettings {
        time_zone: "Mars/Olympus".into(),
        ..DomainSettings::default()
    };
    assert_eq!(
        validate(&settings),
        Err(ScheduleError::TimeZone {
            name: "Mars/Olympus".into()
        })
    );
    assert!(validate(&DomainSettings::default()).is_ok());
}

fn session(since: &str, expires: Option<&str>, last: &str) -> Association {
    Association {
        domain: dom("acme.test"),
        device: ext("94001"),
        user: ext("1001"),
        since: at(since),
        method: crate::association::LoginMethod::PhoneCode,
        expires_at: expires.map(at),
        last_activity: at(last),
    }
}

#[test]
fn hd_logout_2_deadline_is_earliest_with_warning_before() {
    let settings = DomainSettings {
        idle_logout_secs: Some(3600),
        end_of_day: Some("18:00".into()),
        logout_warning_secs: 300,
        ..DomainSettings::default()
    };
    let schedule = Schedule::new(&settings).expect("valid");
    let s = session(
        "2026-03-02T09:00:00Z",
        Some("2026-03-02T17:00:00Z"),
        "2026-03-02T15:30:00Z",
    );
    let d = schedule.deadline(&s).expect("deadline");
    assert_eq!(
        (d.at, d.reason),
        (at("2026-03-02T16:30:00Z"), LogoutReason::Idle)
    );
    assert_eq!(d.warn_at, at("2026-03-02T16:25:00Z"));
    let busy = session(
        "2026-03-02T09:00:00Z",
        Some("2026-03-02T17:00:00Z"),
        "2026-03-02T16:50:00Z",
    );
    let d = schedule.deadline(&busy).expect("deadline");
    assert_eq!(
        (d.at, d.reason),
        (at("2026-03-02T17:00:00Z"), LogoutReason::Expired)
    );
    let long = session("2026-03-02T09:00:00Z", None, "2026-03-02T17:55:00Z");
    assert_eq!(
        schedule.deadline(&long).map(|d| d.reason),
        Some(LogoutReason::EndOfDay)
    );
    // The warning never falls before the log-in itself.
    let short = session(
        "2026-03-02T09:00:00Z",
        Some("2026-03-02T09:01:00Z"),
        "2026-03-02T09:00:00Z",
    );
    assert_eq!(
        schedule.deadline(&short).map(|d| d.warn_at),
        Some(at("2026-03-02T09:00:00Z"))
    );
    let none = Schedule::new(&DomainSettings::default()).expect("valid");
    assert_eq!(none.deadline(&long), None);
}

#[test]
fn hd_logout_2_sweep_warns_then_logs_out_idle_sessions() {
    let mut dir = world();
    set_settings(&mut dir, |s| {
        s.idle_logout_secs = Some(1800);
        s.logout_warning_secs = 120;
    });
    let mut book = DeskBook::new();
    run(
        &mut book,
        &dir,
        &login("acme.test", "94001", "1001"),
        "2026-03-02T09:00:00Z",
    )
    .expect("in");
    run(
        &mut book,
        &dir,
        &login("acme.test", "94002", "1003"),
        "2026-03-02T09:00:00Z",
    )
    .expect("in");
    book.touch(&dom("acme.test"), &ext("94002"), at("2026-03-02T09:20:00Z"));
    assert!(book
        .plan(&dir, &sweep(), at("2026-03-02T09:27:59Z"))
        .expect("sweep")
        .is_noop());
    let warned = book
        .plan(&dir, &sweep(), at("2026-03-02T09:28:00Z"))
        .expect("sweep");
    assert!(warned.is_noop());
    assert_eq!(warned.warnings.len(), 1);
    assert_eq!(warned.warnings[0].device, ext("94001"));
    assert_eq!(warned.warnings[0].at, at("2026-03-02T09:30:00Z"));
    let plan = run(&mut book, &dir, &sweep(), "2026-03-02T09:30:00Z").expect("sweep");
    assert!(matches!(
        &plan.events[..],
        [DeskEvent::LoggedOut { device, reason: LogoutReason::Idle, actor: Actor::System, .. }] if *device == ext("94001")
    ));
    assert_eq!(plan.audit[0].kind, "expired");
    assert_eq!(plan.audit[0].detail["reason"], "idle");
    // 94002 had a call at 09:20, so it lasts until 09:50.
    let ext2: Extension = ext("94002");
    assert!(book.on_device(&dom("acme.test"), &ext2).is_some());
    let later = run(&mut book, &dir, &sweep(), "2026-03-02T09:50:00Z").expect("sweep");
    assert_eq!(later.events.len(), 1);
    assert!(book.is_empty());
}

#[test]
fn hd_logout_2_sweep_of_unknown_domain_does_nothing() {
    let dir = world();
    let book = DeskBook::new();
    let cmd = Command::Sweep {
        domain: dom("nowhere.test"),
    };
    assert!(book
        .plan(&dir, &cmd, at("2026-03-02T09:00:00Z"))
        .expect("sweep")
        .is_noop());
}
