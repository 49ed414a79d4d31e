//! Desk book: log-in rules (HD-LOGIN-3, -4, -6, -7), tenant isolation (HD-SEC-1), apply.
//!
//! Covered: takeover, N = 1 move, N > 1 limit, idempotent re-log-in, refusal leaves state,
//! excluded/personal/location devices, cross-domain look-ups, restart load order, touch.
//! Log-out paths and sweeps are in `logout/tests.rs`.

use super::*;
use crate::association::LoginMethod;
use crate::command::{Login, Release, ReleaseTarget};
use crate::device::DeviceKind;
use crate::directory::MemoryDirectory;
use crate::event::Actor;
use crate::fixture::{at, device, dom, ext, world};
use crate::ids::ModelId;
use crate::user::Scope;

pub(crate) fn login(domain: &str, device: &str, user: &str) -> Command {
    Command::Login(Login {
        domain: dom(domain),
        device: ext(device),
        user: ext(user),
        method: LoginMethod::PhoneCode,
        requester: Requester::phone(ext(device)),
        pin_verified: true,
    })
}

fn with_method(cmd: Command, method: LoginMethod, requester: Requester) -> Command {
    match cmd {
        Command::Login(l) => Command::Login(Login {
            method,
            requester,
            ..l
        }),
        other => other,
    }
}

/// Plans and applies, as the server does after persisting.
pub(crate) fn run(
    book: &mut DeskBook,
    dir: &MemoryDirectory,
    cmd: &Command,
    now: &str,
) -> Result<Plan, Refusal> {
    let plan = book.plan(dir, cmd, at(now))?;
    book.apply(&plan.events);
    Ok(plan)
}

const T0: &str = "2026-03-02T09:00:00Z";
const T1: &str = "2026-03-02T10:00:00Z";
const T2: &str = "2026-03-02T11:00:00Z";

fn acme() -> DomainName {
    dom("acme.test")
}

#[test]
fn hd_login_1_login_creates_association_and_audit() {
    let dir = world();
    let mut book = DeskBook::new();
    let plan = run(&mut book, &dir, &login("acme.test", "94001", "1001"), T0).expect("ok");
    assert_eq!(plan.events.len(), 1);
    assert_eq!(plan.audit.len(), 1);
    assert_eq!(plan.audit[0].kind, "login");
    assert_eq!(plan.audit[0].actor, Actor::Device(ext("94001")));
    assert_eq!(plan.devices_changed, vec![(acme(), ext("94001"))]);
    assert_eq!(plan.users_changed, vec![(acme(), ext("1001"))]);
    assert!(plan.users_released.is_empty());
    let session = book.on_device(&acme(), &ext("94001")).expect("logged in");
    assert_eq!(session.user, ext("1001"));
    assert_eq!(session.since, at(T0));
    assert_eq!(book.devices_of(&acme(), &ext("1001")), &[ext("94001")]);
    assert_eq!(book.len(), 1);
}

#[test]
fn hd_login_3_takeover_releases_previous_user_audited() {
    let dir = world();
    let mut book = DeskBook::new();
    run(&mut book, &dir, &login("acme.test", "94001", "1001"), T0).expect("ok");
    let plan = run(&mut book, &dir, &login("acme.test", "94001", "1003"), T1).expect("ok");
    match &plan.events[0] {
        DeskEvent::LoggedOut {
            user,
            reason,
            at: when,
            ..
        } => {
            assert_eq!(*user, ext("1001"));
            assert_eq!(*reason, LogoutReason::Takeover);
            assert_eq!(*when, at(T1));
        }
        other => panic!("expected takeover log-out, got {other:?}"),
    }
    assert_eq!(plan.audit[0].kind, "logout");
    assert_eq!(plan.audit[0].detail["reason"], "takeover");
    assert_eq!(plan.audit[0].user, Some(ext("1001")));
    assert_eq!(plan.users_released, vec![(acme(), ext("1001"))]);
    assert_eq!(
        book.on_device(&acme(), &ext("94001")).map(|a| &a.user),
        Some(&ext("1003"))
    );
    assert!(book.devices_of(&acme(), &ext("1001")).is_empty());
}

#[test]
fn hd_login_4_single_allocation_moves_user_to_new_desk() {
    let dir = world();
    let mut book = DeskBook::new();
    run(&mut book, &dir, &login("acme.test", "94001", "1001"), T0).expect("ok");
    let plan = run(&mut book, &dir, &login("acme.test", "94002", "1001"), T1).expect("ok");
    assert!(matches!(
        &plan.events[0],
        DeskEvent::LoggedOut { device, reason: LogoutReason::MovedElsewhere, .. } if *device == ext("94001")
    ));
    assert_eq!(plan.devices_changed.len(), 2);
    assert!(plan.users_released.is_empty(), "still logged in at 94002");
    assert!(book.on_device(&acme(), &ext("94001")).is_none());
    assert_eq!(book.devices_of(&acme(), &ext("1001")), &[ext("94002")]);
}

#[test]
fn hd_login_4_desk_beyond_allocation_refused() {
    let dir = world();
    let mut book = DeskBook::new();
    run(&mut book, &dir, &login("acme.test", "94001", "1002"), T0).expect("ok");
    run(&mut book, &dir, &login("acme.test", "94002", "1002"), T1).expect("ok");
    let refused = book.plan(&dir, &login("acme.test", "94003", "1002"), at(T2));
    assert_eq!(refused, Err(Refusal::AllocationFull { limit: 2 }));
    assert_eq!(refused.map_err(|r| r.code()), Err("allocation_full"));
    assert_eq!(book.devices_of(&acme(), &ext("1002")).len(), 2);
}

#[test]
fn hd_login_4_refusal_leaves_occupied_desk_alone() {
    let dir = world();
    let mut book = DeskBook::new();
    run(&mut book, &dir, &login("acme.test", "94001", "1002"), T0).expect("ok");
    run(&mut book, &dir, &login("acme.test", "94002", "1002"), T0).expect("ok");
    run(&mut book, &dir, &login("acme.test", "94003", "1003"), T0).expect("ok");
    let refused = book.plan(&dir, &login("acme.test", "94003", "1002"), at(T1));
    assert!(matches!(refused, Err(Refusal::AllocationFull { .. })));
    assert_eq!(
        book.on_device(&acme(), &ext("94003")).map(|a| &a.user),
        Some(&ext("1003"))
    );
}

#[test]
fn hd_login_4_login_again_to_held_desk_is_idempotent() {
    let dir = world();
    let mut book = DeskBook::new();
    run(&mut book, &dir, &login("acme.test", "94001", "1002"), T0).expect("ok");
    run(&mut book, &dir, &login("acme.test", "94002", "1002"), T0).expect("ok");
    // At the limit, logging in again where you already are is not a third desk.
    let plan = run(&mut book, &dir, &login("acme.test", "94001", "1002"), T1).expect("ok");
    assert!(plan.is_noop());
    assert!(plan.audit.is_empty());
    assert_eq!(
        book.on_device(&acme(), &ext("94001")).map(|a| a.since),
        Some(at(T0))
    );
}

#[test]
fn hd_login_4_lowered_allocation_moves_from_every_desk() {
    let mut dir = world();
    let mut book = DeskBook::new();
    run(&mut book, &dir, &login("acme.test", "94001", "1002"), T0).expect("ok");
    run(&mut book, &dir, &login("acme.test", "94002", "1002"), T0).expect("ok");
    let mut lowered = crate::fixture::user("acme.test", "1002", 1);
    lowered.max_devices = 1;
    dir.upsert_user(lowered);
    let plan = run(&mut book, &dir, &login("acme.test", "94003", "1002"), T1).expect("ok");
    assert_eq!(plan.events.len(), 3);
    assert_eq!(book.devices_of(&acme(), &ext("1002")), &[ext("94003")]);
}

#[test]
fn hd_login_6_excluded_model_refuses_phone_login_not_admin() {
    let mut dir = world();
    let mut dect = device("acme.test", "94004", DeviceKind::Hotdesk);
    dect.model = ModelId::new("polycom-vvx-101").expect("model");
    dir.upsert_device(dect);
    let book = DeskBook::new();
    let by_phone = login("acme.test", "94004", "1001");
    assert_eq!(
        book.plan(&dir, &by_phone, at(T0)),
        Err(Refusal::ExcludedModel)
    );
    let by_self_api = with_method(
        by_phone.clone(),
        LoginMethod::Api,
        Requester::user(ext("1001"), Scope::User),
    );
    assert_eq!(
        book.plan(&dir, &by_self_api, at(T0)),
        Err(Refusal::ExcludedModel)
    );
    let by_admin = with_method(
        by_phone,
        LoginMethod::Admin,
        Requester::admin("ops", Scope::OfficeManager),
    );
    assert!(book.plan(&dir, &by_admin, at(T0)).is_ok());
}

#[test]
fn hd_login_6_personal_device_refuses_every_login() {
    let mut dir = world();
    dir.upsert_device(device("acme.test", "94004", DeviceKind::Personal));
    let book = DeskBook::new();
    let by_phone = login("acme.test", "94004", "1001");
    assert_eq!(
        book.plan(&dir, &by_phone, at(T0)),
        Err(Refusal::PersonalDevice)
    );
    let by_admin = with_method(
        by_phone,
        LoginMethod::Admin,
        Requester::admin("root", Scope::SuperAdmin),
    );
    assert_eq!(
        book.plan(&dir, &by_admin, at(T0)),
        Err(Refusal::PersonalDevice)
    );
}

#[test]
fn hd_login_7_location_device_changed_by_admin_only() {
    let mut dir = world();
    dir.upsert_device(device("acme.test", "94004", DeviceKind::Location));
    let mut book = DeskBook::new();
    let by_phone = login("acme.test", "94004", "1001");
    assert_eq!(
        book.plan(&dir, &by_phone, at(T0)),
        Err(Refusal::LocationDevice)
    );
    let by_user_api = with_method(
        by_phone.clone(),
        LoginMethod::Api,
        Requester::user(ext("1001"), Scope::User),
    );
    assert_eq!(
        book.plan(&dir, &by_user_api, at(T0)),
        Err(Refusal::LocationDevice)
    );
    let by_admin = with_method(
        by_phone,
        LoginMethod::Admin,
        Requester::admin("ops", Scope::DomainAdmin),
    );
    let plan = run(&mut book, &dir, &by_admin, T0).expect("admin binds the location");
    // Exactly one extension: binding another replaces it, and it never expires.
    assert_eq!(book.devices_of(&acme(), &ext("1001")), &[ext("94004")]);
    assert!(
        matches!(&plan.events[0], DeskEvent::LoggedIn { association, .. } if association.expires_at.is_none())
    );
}

#[test]
fn hd_sec_4_admin_login_needs_manager_and_api_needs_self_or_manager() {
    let dir = world();
    let book = DeskBook::new();
    let base = login("acme.test", "94001", "1001");
    let plain_admin = with_method(
        base.clone(),
        LoginMethod::Admin,
        Requester::user(ext("1002"), Scope::User),
    );
    assert_eq!(
        book.plan(&dir, &plain_admin, at(T0)),
        Err(Refusal::Forbidden)
    );
    let other_user = with_method(
        base.clone(),
        LoginMethod::Api,
        Requester::user(ext("1002"), Scope::User),
    );
    assert_eq!(
        book.plan(&dir, &other_user, at(T0)),
        Err(Refusal::Forbidden)
    );
    let own = with_method(
        base,
        LoginMethod::Api,
        Requester::user(ext("1001"), Scope::User),
    );
    assert!(book.plan(&dir, &own, at(T0)).is_ok());
}

#[test]
fn hd_sec_2_phone_login_without_pin_refused() {
    let dir = world();
    let book = DeskBook::new();
    let Command::Login(mut cmd) = login("acme.test", "94001", "1001") else {
        unreachable!()
    };
    cmd.pin_verified = false;
    assert_eq!(
        book.plan(&dir, &Command::Login(cmd), at(T0)),
        Err(Refusal::WrongPin)
    );
}

#[test]
fn hd_sec_1_device_of_another_domain_is_unknown() {
    let mut dir = world();
    let mut book = DeskBook::new();
    // 94009 exists only in beta.test.
    assert_eq!(
        book.plan(&dir, &login("acme.test", "94009", "1001"), at(T0)),
        Err(Refusal::UnknownDevice)
    );
    // 1002 exists only in acme.test.
    assert_eq!(
        book.plan(&dir, &login("beta.test", "94009", "1002"), at(T0)),
        Err(Refusal::UnknownUser)
    );
    assert_eq!(
        book.plan(&dir, &login("gamma.test", "94001", "1001"), at(T0)),
        Err(Refusal::UnknownDevice)
    );
    // A record filed under the wrong domain is still refused.
    let mut stray = device("beta.test", "94003", DeviceKind::Hotdesk);
    stray.extension = ext("94005");
    dir.upsert_device(stray.clone());
    assert_eq!(
        book.plan(&dir, &login("acme.test", "94005", "1001"), at(T0)),
        Err(Refusal::UnknownDevice)
    );
    // Same extensions in two domains are separate desks.
    run(&mut book, &dir, &login("acme.test", "94001", "1001"), T0).expect("ok");
    run(&mut book, &dir, &login("beta.test", "94009", "1001"), T0).expect("ok");
    assert_eq!(book.devices_of(&acme(), &ext("1001")), &[ext("94001")]);
    assert_eq!(
        book.devices_of(&dom("beta.test"), &ext("1001")),
        &[ext("94009")]
    );
    assert!(book.on_device(&dom("beta.test"), &ext("94001")).is_none());
}

#[test]
fn release_user_ends_every_session_for_deletion() {
    let dir = world();
    let mut book = DeskBook::new();
    run(&mut book, &dir, &login("acme.test", "94001", "1002"), T0).expect("ok");
    run(&mut book, &dir, &login("acme.test", "94002", "1002"), T0).expect("ok");
    let release = Command::Release(Release {
        domain: acme(),
        target: ReleaseTarget::User(ext("1002")),
        reason: LogoutReason::Removed,
        requester: Requester::admin("ops", Scope::DomainAdmin),
    });
    let plan = run(&mut book, &dir, &release, T1).expect("ok");
    assert_eq!(plan.events.len(), 2);
    assert_eq!(plan.users_released, vec![(acme(), ext("1002"))]);
    assert!(book.is_empty());
}

#[test]
fn apply_is_idempotent_and_restart_keeps_login_order() {
    let dir = world();
    let mut book = DeskBook::new();
    let first = run(&mut book, &dir, &login("acme.test", "94002", "1002"), T0).expect("ok");
    let second = run(&mut book, &dir, &login("acme.test", "94001", "1002"), T1).expect("ok");
    book.apply(&first.events);
    book.apply(&second.events);
    assert_eq!(book.len(), 2);
    assert_eq!(
        book.devices_of(&acme(), &ext("1002")),
        &[ext("94002"), ext("94001")]
    );
    // Restart from the store in arbitrary order: log-in order is rebuilt from `since`.
    let mut saved: Vec<_> = book.iter().cloned().collect();
    saved.sort_by(|a, b| b.device.cmp(&a.device));
    saved.reverse();
    let restored = DeskBook::from_associations(saved);
    assert_eq!(
        restored.devices_of(&acme(), &ext("1002")),
        &[ext("94002"), ext("94001")]
    );
    assert_eq!(restored.len(), 2);
    assert_eq!(restored.sessions_of(&acme(), &ext("1002")).count(), 2);
}

#[test]
fn touch_moves_last_activity_forward_only() {
    let dir = world();
    let mut book = DeskBook::new();
    run(&mut book, &dir, &login("acme.test", "94001", "1001"), T0).expect("ok");
    assert!(book.touch(&acme(), &ext("94001"), at(T2)));
    assert!(book.touch(&acme(), &ext("94001"), at(T1)));
    assert_eq!(
        book.on_device(&acme(), &ext("94001"))
            .map(|a| a.last_activity),
        Some(at(T2))
    );
    assert!(!book.touch(&acme(), &ext("94002"), at(T2)));
    assert!(!book.touch(&dom("beta.test"), &ext("94001"), at(T2)));
}
