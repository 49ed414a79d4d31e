//! Queues: HD-ROUTE-7 (member as User / as Phone, ring-all and round-robin order) and
//! HD-LOGIN-10 (agents are offered queue calls only once signed in to the portal).

use super::*;
use crate::desks::tests::{login, run};
use crate::directory::MemoryDirectory;
use crate::fixture::{dom, ext, world};

const T0: &str = "2026-03-02T09:00:00Z";

fn queue(strategy: Strategy, members: Vec<QueueMember>) -> Queue {
    Queue {
        domain: dom("acme.test"),
        extension: ext("7000"),
        name: "Support".into(),
        strategy,
        ring_secs: 15,
        members,
        overflow: None,
    }
}

fn three() -> Vec<QueueMember> {
    vec![
        QueueMember::User(ext("1001")),
        QueueMember::Phone(ext("94003")),
        QueueMember::User(ext("1002")),
    ]
}

fn firsts(stages: &[Vec<&QueueMember>]) -> Vec<String> {
    stages
        .iter()
        .map(|s| s[0].extension().to_string())
        .collect()
}

#[test]
fn hd_route_7_ring_all_is_one_stage_of_every_member() {
    let q = queue(Strategy::RingAll, three());
    let stages = q.stages(2);
    assert_eq!(stages.len(), 1);
    assert_eq!(stages[0].len(), 3);
}

#[test]
fn hd_route_7_round_robin_starts_at_the_given_member_and_wraps() {
    let q = queue(Strategy::RoundRobin, three());
    assert_eq!(firsts(&q.stages(0)), ["1001", "94003", "1002"]);
    assert_eq!(firsts(&q.stages(1)), ["94003", "1002", "1001"]);
    assert_eq!(firsts(&q.stages(5)), ["1002", "1001", "94003"]);
    assert!(q.stages(1).iter().all(|s| s.len() == 1));
    assert!(queue(Strategy::RoundRobin, Vec::new()).stages(3).is_empty());
}

#[test]
fn hd_route_7_member_serialises_as_user_or_phone() {
    let json = serde_json::to_string(&three()).expect("json");
    assert_eq!(
        json,
        r#"[{"user":"1001"},{"phone":"94003"},{"user":"1002"}]"#
    );
    let back: Vec<QueueMember> = serde_json::from_str(&json).expect("parse");
    assert_eq!(back, three());
}

fn agent(dir: &mut MemoryDirectory, e: &str, status: QueueStatus) {
    let mut user = dir.user(&dom("acme.test"), &ext(e)).cloned().expect("user");
    user.agent = true;
    user.queue_status = status;
    dir.upsert_user(user);
}

#[test]
fn hd_login_10_agent_offline_until_portal_sign_in_then_follows_desk_state() {
    let mut dir = world();
    let mut book = DeskBook::new();
    agent(&mut dir, "1001", QueueStatus::Offline);
    run(&mut book, &dir, &login("acme.test", "94001", "1001"), T0).expect("in");
    let user = dir
        .user(&dom("acme.test"), &ext("1001"))
        .cloned()
        .expect("user");
    // Logged in by phone, but never signed in to the portal: offline, not offered.
    assert_eq!(queue_status(&book, &user), QueueStatus::Offline);
    assert!(!offered(&book, &user));
    let member = QueueMember::User(ext("1001"));
    assert!(targets_for_member(&book, &dir, &dom("acme.test"), &member).is_empty());

    // After the first portal sign-in (stored status leaves Offline): follows the desk.
    agent(&mut dir, "1001", QueueStatus::LoggedOut);
    let user = dir
        .user(&dom("acme.test"), &ext("1001"))
        .cloned()
        .expect("user");
    assert_eq!(queue_status(&book, &user), QueueStatus::LoggedIn);
    assert!(offered(&book, &user));
    assert_eq!(
        targets_for_member(&book, &dir, &dom("acme.test"), &member),
        vec![RingTarget::Device(ext("94001"))]
    );
    let idle = dir
        .user(&dom("acme.test"), &ext("1003"))
        .cloned()
        .expect("user");
    let mut idle_agent = idle.clone();
    idle_agent.agent = true;
    idle_agent.queue_status = QueueStatus::LoggedIn;
    assert_eq!(queue_status(&book, &idle_agent), QueueStatus::LoggedOut);
    assert!(
        !offered(&book, &idle_agent),
        "logged-out agents get no queue calls"
    );
    // A plain ring-group member (not an agent) is always offered.
    assert!(offered(&book, &idle));
}

#[test]
fn hd_route_7_members_as_user_and_as_phone() {
    let dir = world();
    let mut book = DeskBook::new();
    run(&mut book, &dir, &login("acme.test", "94001", "1002"), T0).expect("in");
    let acme = dom("acme.test");
    let as_user = targets_for_member(&book, &dir, &acme, &QueueMember::User(ext("1002")));
    assert_eq!(as_user, vec![RingTarget::Device(ext("94001"))]);
    // As Phone: the device rings, whoever is (or is not) logged in.
    let as_phone = targets_for_member(&book, &dir, &acme, &QueueMember::Phone(ext("94002")));
    assert_eq!(as_phone, vec![RingTarget::Device(ext("94002"))]);
    // Unknown members (or another domain's) ring nothing (HD-SEC-1).
    let unknown = targets_for_member(&book, &dir, &acme, &QueueMember::Phone(ext("94009")));
    assert!(unknown.is_empty());
}
