//! Store timings on both back ends: bulk user import, write-through rates, start-up loads.
//!
//! `cargo bench -p hotdesk-store --bench store [-- sqlite|postgres] [users]`
//! PostgreSQL at `HOTDESK_TEST_PG` (default `postgres://postgres@127.0.0.1:5432/test`), in a
//! schema of its own that is dropped afterwards. Plain `main`: each figure is one timed run.

use std::str::FromStr as _;
use std::time::{Duration, Instant};

use hotdesk_core::{Actor, AuditRecord, DeskEvent, Device, Domain, User};
use hotdesk_store::{Binding, PostgresStore, SqliteStore, Store};
use serde_json::json;
use sqlx::postgres::PgConnectOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{Connection as _, Executor as _, PgConnection};

const DOMAIN: &str = "bench.test";
/// Sequential single writes per rate figure.
const WRITES: usize = 2_000;

fn user(n: usize) -> User {
    serde_json::from_value(json!({
        "domain": DOMAIN, "extension": format!("{}", 100_000 + n),
        "first_name": "Bench", "last_name": format!("User {n}"), "did": format!("+1555{n:07}"),
        "pin_hash": "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
        "sip_secret": "enc:v1:0123456789abcdef", "seat": "standard", "max_devices": 1,
        "scope": "user", "forward_to": null, "queue_status": "offline",
        "mailbox": {"new": 0, "old": 0}
    }))
    .expect("user")
}

fn device(n: usize) -> Device {
    serde_json::from_value(json!({
        "domain": DOMAIN, "extension": format!("{}", 500_000 + n), "mac": format!("{n:012x}"),
        "model": "yealink-t46u", "kind": "hotdesk", "sip_secret": null, "owner": null,
        "did": null, "location": null, "association_secs": null, "forward_to": null,
        "soft_keys": [], "template": null, "site": null
    }))
    .expect("device")
}

fn login(n: usize, device_n: usize) -> (DeskEvent, AuditRecord) {
    let now = jiff::Timestamp::now();
    let association = serde_json::from_value(json!({
        "domain": DOMAIN, "device": format!("{}", 500_000 + device_n),
        "user": format!("{}", 100_000 + n), "since": now, "method": "phone_code",
        "expires_at": null, "last_activity": now
    }))
    .expect("association");
    let audit = serde_json::from_value(json!({
        "domain": DOMAIN, "at": now, "kind": "login", "actor": {"kind": "system"},
        "user": format!("{}", 100_000 + n), "device": format!("{}", 500_000 + device_n),
        "source": "192.0.2.1", "detail": {"method": "phone_code"}
    }))
    .expect("audit");
    (
        DeskEvent::LoggedIn {
            association,
            actor: Actor::System,
        },
        audit,
    )
}

fn binding(n: usize) -> Binding {
    serde_json::from_value(json!({
        "domain": DOMAIN, "aor": format!("{}", 500_000 + n % 1000),
        "contact": format!("sip:{n}@192.0.2.10:5060"), "source": "udp:192.0.2.10:5060",
        "expires_at": jiff::Timestamp::now(), "call_id": format!("call-{n}"), "cseq": 1,
        "instance": null, "reg_id": null, "q": null, "path": [], "user_agent": "bench"
    }))
    .expect("binding")
}

fn report(label: &str, what: &str, took: Duration, count: usize) {
    let secs = took.as_secs_f64();
    println!(
        "{label:<22} {what:<38} {:>9.3} s  {:>9.0} /s",
        secs,
        count as f64 / secs
    );
}

async fn run(label: &str, store: &dyn Store, users: usize) {
    let domain: Domain =
        serde_json::from_value(json!({"name": DOMAIN, "settings": {}})).expect("domain");
    store.create_domain(&domain).await.expect("domain");
    let list: Vec<_> = (0..users).map(user).collect();

    // Reference: the JSON encoding alone that import does for `data` (no database).
    let start = Instant::now();
    let bytes: usize = list
        .iter()
        .map(|u| {
            serde_json::to_value(u)
                .map(|v| v.to_string().len())
                .unwrap_or(0)
        })
        .sum();
    report(
        label,
        &format!("JSON-encode {users} users ({} MB)", bytes >> 20),
        start.elapsed(),
        users,
    );

    let start = Instant::now();
    store.import_users(&list).await.expect("import");
    report(
        label,
        &format!("import_users({users}), one transaction"),
        start.elapsed(),
        users,
    );

    let start = Instant::now();
    let loaded = store.users().await.expect("users");
    assert_eq!(loaded.len(), users);
    report(
        label,
        &format!("users() load of {users}"),
        start.elapsed(),
        users,
    );

    let start = Instant::now();
    for n in 0..WRITES {
        store.create_device(&device(n)).await.expect("device");
    }
    report(label, "create_device, sequential", start.elapsed(), WRITES);

    let start = Instant::now();
    for n in 0..WRITES {
        let (event, audit) = login(n, n);
        store
            .append_desk_events(&[event], &[audit])
            .await
            .expect("login");
    }
    report(
        label,
        "append_desk_events(login+audit)",
        start.elapsed(),
        WRITES,
    );

    let start = Instant::now();
    for n in 0..WRITES {
        store.put_binding(&binding(n)).await.expect("binding");
    }
    report(label, "put_binding, sequential", start.elapsed(), WRITES);

    let start = Instant::now();
    let associations = store.associations().await.expect("associations");
    assert_eq!(associations.len(), WRITES);
    report(
        label,
        &format!("associations() load of {WRITES}"),
        start.elapsed(),
        WRITES,
    );
}

async fn sqlite(users: usize, synchronous: SqliteSynchronous) {
    let dir = tempfile::tempdir().expect("temp dir");
    let options = SqliteConnectOptions::new()
        .filename(dir.path().join("bench.db"))
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(synchronous);
    let store = SqliteStore::open_with(options).await.expect("open");
    run(&format!("sqlite WAL {synchronous:?}"), &store, users).await;
    store.close().await;
}

async fn postgres(users: usize) {
    let url = std::env::var("HOTDESK_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let schema = format!("bench_{}", std::process::id());
    let mut admin = PgConnection::connect(&url)
        .await
        .expect("PostgreSQL reachable");
    admin
        .execute(format!("CREATE SCHEMA {schema}").as_str())
        .await
        .expect("schema");
    let options = PgConnectOptions::from_str(&url)
        .expect("url")
        .options([("search_path", schema.as_str())]);
    let store = PostgresStore::open_with(options).await.expect("open");
    run("postgres", &store, users).await;
    store.close().await;
    admin
        .execute(format!("DROP SCHEMA {schema} CASCADE").as_str())
        .await
        .expect("drop schema");
}

#[tokio::main]
async fn main() {
    // `cargo bench` passes `--bench`; ignore flags, take an optional back end and user count.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let only = args
        .iter()
        .find(|a| *a == "sqlite" || *a == "postgres")
        .cloned();
    let users = args.iter().find_map(|a| a.parse().ok()).unwrap_or(100_000);
    if only.as_deref() != Some("postgres") {
        sqlite(users, SqliteSynchronous::Full).await;
        sqlite(users, SqliteSynchronous::Normal).await;
    }
    if only.as_deref() != Some("sqlite") {
        postgres(users).await;
    }
}
