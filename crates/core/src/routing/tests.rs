//! Routing decisions: HD-ROUTE-1..5, -7, HD-LOGOUT-3 (dialogs keep their identity) and
//! HD-LOGOUT-5 (primary applies again after log-out).

use super::*;
use crate::command::{Command, Logout, LogoutPath, Requester};
use crate::desks::tests::{login, run};
use crate::directory::{Directory, MemoryDirectory};
use crate::fixture::{device, dom, ext, world};
use crate::queue::{targets_for_member, QueueMember};

const T0: &str = "2026-03-02T09:00:00Z";
const T1: &str = "2026-03-02T10:00:00Z";

fn acme_user(dir: &MemoryDirectory, e: &str) -> User {
    dir.user(&dom("acme.test"), &ext(e)).cloned().expect("user")
}

fn acme_device(dir: &MemoryDirectory, e: &str) -> Device {
    dir.device(&dom("acme.test"), &ext(e))
        .cloned()
        .expect("device")
}

fn settings(policy: PrimaryWhileAway) -> DomainSettings {
    DomainSettings {
        primary_while_away: policy,
        ..DomainSettings::default()
    }
}

fn phone_logout(device: &str) -> Command {
    Command::Logout(Logout {
        domain: dom("acme.test"),
        device: ext(device),
        user: None,
        path: LogoutPath::Phone { pin_verified: true },
        requester: Requester::phone(ext(device)),
    })
}

#[test]
fn hd_route_1_all_current_desks_ring() {
    let dir = world();
    let mut book = DeskBook::new();
    run(&mut book, &dir, &login("acme.test", "94001", "1002"), T0).expect("in");
    run(&mut book, &dir, &login("acme.test", "94002", "1002"), T0).expect("in");
    let user = acme_user(&dir, "1002");
    assert_eq!(
        targets_for_user(&book, &settings(PrimaryWhileAway::Unreachable), &user),
        vec![
            RingTarget::Device(ext("94001")),
            RingTarget::Device(ext("94002"))
        ]
    );
}

#[test]
fn hd_route_2_primary_while_away_policy() {
    let dir = world();
    let mut book = DeskBook::new();
    run(&mut book, &dir, &login("acme.test", "94001", "1001"), T0).expect("in");
    let user = acme_user(&dir, "1001");
    assert_eq!(
        targets_for_user(&book, &settings(PrimaryWhileAway::RingBoth), &user),
        vec![
            RingTarget::Device(ext("94001")),
            RingTarget::Personal(ext("1001"))
        ]
    );
    assert_eq!(
        targets_for_user(&book, &settings(PrimaryWhileAway::Unreachable), &user),
        vec![RingTarget::Device(ext("94001"))]
    );
}

#[test]
fn hd_logout_5_primary_applies_again_after_logout() {
    let dir = world();
    let mut book = DeskBook::new();
    let user = acme_user(&dir, "1001");
    let away = settings(PrimaryWhileAway::Unreachable);
    assert_eq!(
        targets_for_user(&book, &away, &user),
        vec![RingTarget::Personal(ext("1001"))]
    );
    run(&mut book, &dir, &login("acme.test", "94001", "1001"), T0).expect("in");
    assert!(!targets_for_user(&book, &away, &user).contains(&RingTarget::Personal(ext("1001"))));
    let plan = run(&mut book, &dir, &phone_logout("94001"), T1).expect("out");
    assert_eq!(plan.users_released, vec![(dom("acme.test"), ext("1001"))]);
    assert_eq!(
        targets_for_user(&book, &away, &user),
        vec![RingTarget::Personal(ext("1001"))]
    );
}

#[test]
fn hd_route_7_queue_member_as_user_or_phone() {
    let dir = world();
    let mut book = DeskBook::new();
    run(&mut book, &dir, &login("acme.test", "94001", "1002"), T0).expect("in");
    run(&mut book, &dir, &login("acme.test", "94002", "1002"), T0).expect("in");
    let acme = dom("acme.test");
    let as_user = targets_for_member(&book, &dir, &acme, &QueueMember::User(ext("1002")));
    assert_eq!(as_user.len(), 2);
    let as_phone = targets_for_member(&book, &dir, &acme, &QueueMember::Phone(ext("94002")));
    assert_eq!(as_phone, vec![RingTarget::Device(ext("94002"))]);
    let other_domain = targets_for_member(
        &book,
        &dir,
        &dom("beta.test"),
        &QueueMember::User(ext("1002")),
    );
    assert!(other_domain.is_empty());
}

#[test]
fn hd_route_3_identity_follows_person_then_returns_to_anchor() {
    let dir = world();
    let mut book = DeskBook::new();
    let desk = acme_device(&dir, "94001");
    let free_on = caller_identity_for_device(&book, &dir, &desk, false);
    assert_eq!(
        (free_on.number.as_str(), free_on.name, free_on.user),
        ("94001", None, None)
    );
    assert_eq!(
        caller_identity_for_device(&book, &dir, &desk, true).number,
        "+166694001"
    );
    run(&mut book, &dir, &login("acme.test", "94001", "1001"), T0).expect("in");
    let on = caller_identity_for_device(&book, &dir, &desk, false);
    assert_eq!(on.number, "1001");
    assert_eq!(on.name.as_deref(), Some("First1001 Last1001"));
    assert_eq!(on.user, Some(ext("1001")));
    assert_eq!(
        caller_identity_for_device(&book, &dir, &desk, true).number,
        "+15551001"
    );
    run(&mut book, &dir, &phone_logout("94001"), T1).expect("out");
    assert_eq!(
        caller_identity_for_device(&book, &dir, &desk, false).number,
        "94001"
    );
}

#[test]
fn hd_route_3_without_dids_falls_back_to_extensions() {
    let mut dir = world();
    let mut no_did = device("acme.test", "94003", DeviceKind::Hotdesk);
    no_did.did = None;
    dir.upsert_device(no_did.clone());
    let book = DeskBook::new();
    assert_eq!(
        caller_identity_for_device(&book, &dir, &no_did, true).number,
        "94003"
    );
    let mut personal = device("acme.test", "94004", DeviceKind::Personal);
    personal.owner = Some(ext("1003"));
    assert_eq!(
        caller_identity_for_device(&book, &dir, &personal, false).number,
        "1003"
    );
}

#[test]
fn hd_logout_3_existing_dialog_keeps_identity_new_calls_follow_new_state() {
    let dir = world();
    let mut book = DeskBook::new();
    let desk = acme_device(&dir, "94001");
    run(&mut book, &dir, &login("acme.test", "94001", "1001"), T0).expect("in");
    let in_call = DialogIdentity::capture(&book, &dir, &desk, false);
    // Takeover during the call: the plan says calls continue, routing moves at once.
    let plan = run(&mut book, &dir, &login("acme.test", "94001", "1003"), T1).expect("takeover");
    assert!(plan.calls_continue);
    assert_eq!(
        in_call.identity_for_existing_dialog().user,
        Some(ext("1001"))
    );
    assert_eq!(in_call.identity_for_existing_dialog().number, "1001");
    let new_call = DialogIdentity::capture(&book, &dir, &desk, false);
    assert_eq!(
        new_call.identity_for_existing_dialog().user,
        Some(ext("1003"))
    );
    let user1 = acme_user(&dir, "1001");
    // 1001 is reachable only on their personal registrations for new calls.
    assert_eq!(
        targets_for_user(&book, &settings(PrimaryWhileAway::Unreachable), &user1),
        vec![RingTarget::Personal(ext("1001"))]
    );
}

#[test]
fn hd_route_4_anchor_taken_by_guest_is_not_reachable() {
    let mut dir = world();
    let mut desk = acme_device(&dir, "94001");
    desk.forward_to = Some("2000".into());
    dir.upsert_device(desk.clone());
    let mut book = DeskBook::new();
    assert_eq!(route_to_anchor(&book, &desk), AnchorRoute::Ring);
    run(&mut book, &dir, &login("acme.test", "94001", "1001"), T0).expect("in");
    assert_eq!(
        route_to_anchor(&book, &desk),
        AnchorRoute::NotReachable {
            forward_to: Some("2000".into())
        }
    );
    let location = device("acme.test", "94004", DeviceKind::Location);
    assert_eq!(route_to_anchor(&book, &location), AnchorRoute::Ring);
}

#[test]
fn hd_route_5_free_device_dials_only_emergency_and_login_codes() {
    let dir = world();
    let mut book = DeskBook::new();
    let desk = acme_device(&dir, "94001");
    let s = DomainSettings::default();
    for allowed in ["911", "112", "999", "*44", "*88", "*62", "9801234", "980"] {
        assert_eq!(
            check_dial_from_device(&book, &s, &desk, allowed),
            Ok(()),
            "{allowed}"
        );
    }
    for refused in ["1002", "*45", "+15551234567", "980*1", "9110"] {
        assert_eq!(
            check_dial_from_device(&book, &s, &desk, refused),
            Err(Refusal::DeviceNotLoggedIn),
            "{refused}"
        );
    }
    run(&mut book, &dir, &login("acme.test", "94001", "1001"), T0).expect("in");
    assert_eq!(check_dial_from_device(&book, &s, &desk, "1002"), Ok(()));
}

#[test]
fn hd_login_8_free_device_may_dial_the_voice_portal_access_number() {
    let dir = world();
    let book = DeskBook::new();
    let desk = acme_device(&dir, "94001");
    let mut s = DomainSettings::default();
    // No access number configured: a national number is refused as any other.
    assert_eq!(
        check_dial_from_device(&book, &s, &desk, "+390612345678"),
        Err(Refusal::DeviceNotLoggedIn)
    );
    s.voice_portal_number = Some("+390612345678".into());
    assert_eq!(
        check_dial_from_device(&book, &s, &desk, "+390612345678"),
        Ok(())
    );
    // Matched exactly, as DIDs are.
    assert_eq!(
        check_dial_from_device(&book, &s, &desk, "390612345678"),
        Err(Refusal::DeviceNotLoggedIn)
    );
}
