//! `kill -9` durability for SQLite: a child process writes through the store and reports
//! each acknowledged write; the parent kills it mid-stream with SIGKILL, reopens the file
//! and finds every acknowledged write (users and desk events with their audit rows).

use std::io::{BufRead as _, BufReader, Write as _};
use std::process::{Command, Stdio};

use hotdesk_core::{Actor, AuditRecord, DeskEvent, Device, Domain, User};
use hotdesk_store::{RecordFilter, SqliteStore, Store};
use serde_json::json;

const CHILD_ENV: &str = "HOTDESK_KILL9_DB";
/// Writes acknowledged before the kill; the child would go on to many more.
const ACKS_BEFORE_KILL: usize = 300;

fn user(n: usize) -> User {
    serde_json::from_value(json!({
        "domain": "acme.test", "extension": format!("{}", 10_000 + n),
        "first_name": "Kill", "last_name": format!("Nine {n}"), "did": null, "pin_hash": null,
        "sip_secret": null, "seat": "standard", "max_devices": 1, "scope": "user",
        "forward_to": null, "queue_status": "offline", "mailbox": {"new": 0, "old": 0}
    }))
    .expect("user")
}

fn login(n: usize) -> (DeskEvent, AuditRecord) {
    let now = jiff::Timestamp::from_second(1_750_000_000 + n as i64).expect("ts");
    let association = serde_json::from_value(json!({
        "domain": "acme.test", "device": "94001", "user": format!("{}", 10_000 + n),
        "since": now, "method": "phone_code", "expires_at": null, "last_activity": now
    }))
    .expect("association");
    let audit = serde_json::from_value(json!({
        "domain": "acme.test", "at": now, "kind": "login", "actor": {"kind": "system"},
        "user": format!("{}", 10_000 + n), "device": "94001", "source": null,
        "detail": {"n": n}
    }))
    .expect("audit");
    let event = DeskEvent::LoggedIn {
        association,
        actor: Actor::System,
    };
    (event, audit)
}

/// The child half: runs only when the parent sets `HOTDESK_KILL9_DB`.
#[tokio::test]
#[ignore = "child process of kill9_loses_no_acknowledged_write"]
async fn kill9_child_writes_until_killed() {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        return;
    };
    let store = SqliteStore::open(&format!("sqlite://{path}"))
        .await
        .expect("open");
    let domain: Domain =
        serde_json::from_value(json!({"name": "acme.test", "settings": {}})).expect("domain");
    store.create_domain(&domain).await.expect("domain");
    let device: Device = serde_json::from_value(json!({
        "domain": "acme.test", "extension": "94001", "mac": "001565000001",
        "model": "yealink-t46u", "kind": "hotdesk", "sip_secret": null, "owner": null,
        "did": null, "location": null, "association_secs": null, "forward_to": null,
        "soft_keys": [], "template": null, "site": null
    }))
    .expect("device");
    store.create_device(&device).await.expect("device");
    let mut out = std::io::stdout();
    for n in 0.. {
        store.create_user(&user(n)).await.expect("user");
        let (event, audit) = login(n);
        store
            .append_desk_events(&[event], &[audit])
            .await
            .expect("login");
        // Acknowledged only now, after both writes resolved.
        writeln!(out, "ack {n}")
            .and_then(|()| out.flush())
            .expect("stdout");
    }
}

#[tokio::test]
async fn kill9_loses_no_acknowledged_write() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("kill9.db");
    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--ignored",
            "--exact",
            "kill9_child_writes_until_killed",
            "--nocapture",
        ])
        .env(CHILD_ENV, &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn child");
    let stdout = child.stdout.take().expect("child stdout");
    let mut last_ack = None;
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("read child");
        if let Some(n) = line.strip_prefix("ack ") {
            last_ack = n.parse::<usize>().ok();
            if last_ack.is_some_and(|n| n + 1 >= ACKS_BEFORE_KILL) {
                break;
            }
        }
    }
    // SIGKILL: no destructors, no pool shutdown, no WAL checkpoint.
    child.kill().expect("kill -9");
    child.wait().expect("reap");
    let last_ack = last_ack.expect("child acknowledged writes before it was killed");

    let store = SqliteStore::open(&format!("sqlite://{}", path.display()))
        .await
        .expect("reopen after kill");
    let users = store.users().await.expect("users");
    assert!(
        users.len() > last_ack,
        "{} users, last ack {last_ack}",
        users.len()
    );
    for n in 0..=last_ack {
        assert!(users.contains(&user(n)), "acknowledged user {n} lost");
    }
    let audit = store
        .audit(
            &"acme.test".parse().expect("domain"),
            &RecordFilter::default(),
        )
        .await
        .expect("audit");
    assert!(audit.len() > last_ack, "acknowledged audit rows lost");
    let associations = store.associations().await.expect("associations");
    let holder = &associations.first().expect("the desk is occupied").user;
    assert!(
        holder.number() >= (10_000 + last_ack) as u64,
        "acknowledged log-in lost"
    );
}
