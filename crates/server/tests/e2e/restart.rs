//! What survives a restart: associations after SIGTERM and after `kill -9`, and the key
//! durability promise — a log-in acknowledged with 2xx is on disk, even when the server is
//! killed with SIGKILL in the middle of a burst of log-ins (STYLE §5: nothing is
//! acknowledged before it is written). Each test runs on SQLite and, when it answers, on
//! PostgreSQL.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use reqwest::Method;
use serde_json::json;
use tokio::sync::Semaphore;
use tokio::task::{block_in_place, JoinSet};

use crate::harness::{field, ms, Api, Database, Options, Server};

const DOMAIN: &str = "burst.test";
/// Log-ins fired in the burst, one user ↔ one device each.
const PAIRS: usize = 200;
/// Requests in flight at once.
const CONCURRENCY: usize = 16;
/// Acknowledged log-ins after which the server is killed.
const KILL_AFTER: usize = 40;

fn user(i: usize) -> String {
    (3000 + i).to_string()
}

fn device(i: usize) -> String {
    (94000 + i).to_string()
}

fn start(database: Database) -> Server {
    block_in_place(|| {
        Server::with(Options {
            database,
            ..Options::default()
        })
    })
}

/// A domain with `pairs` users (CSV import) and as many hot-desk devices.
async fn seed(api: &Api, pairs: usize) {
    api.post("/domains", json!({ "name": DOMAIN })).await;
    let mut csv = String::from("extension,first_name,last_name,did,pin,sip_password\n");
    for i in 0..pairs {
        // No PIN: API log-ins do not need one, and argon2 in a debug build is slow.
        csv.push_str(&format!("{},Burst,User {i},,,\n", user(i)));
    }
    api.post_csv(&format!("/domains/{DOMAIN}/users:import"), &csv)
        .await;
    for i in 0..pairs {
        let body = json!({
            "extension": device(i),
            "mac": format!("0015650{i:05x}"),
            "model": "yealink-t46u",
            "kind": "hotdesk",
        });
        api.post(&format!("/domains/{DOMAIN}/devices"), body).await;
    }
}

/// Current sessions as device → user; panics if a device appears twice.
async fn sessions(api: &Api) -> BTreeMap<String, String> {
    let rows = api.list(&format!("/domains/{DOMAIN}/associations")).await;
    let mut map = BTreeMap::new();
    for row in rows {
        let previous = map.insert(field(&row, "device"), field(&row, "user"));
        assert!(previous.is_none(), "device listed twice: {row}");
    }
    map
}

async fn login(api: &Api, i: usize) {
    let path = format!("/domains/{DOMAIN}/devices/{}/login", device(i));
    api.post(&path, json!({ "extension": user(i) })).await;
}

/// HD-LOGIN / STYLE §5: fire log-ins concurrently, SIGKILL the server once `KILL_AFTER`
/// were acknowledged, restart: every acknowledged association is back, every association
/// back is one that was attempted, and the server keeps working.
async fn kill9_mid_burst_loses_no_acknowledged_login(database: Database) {
    let mut server = start(database);
    let api = server.api();
    seed(&api, PAIRS).await;

    let acked = Arc::new(Mutex::new(Vec::new()));
    let count = Arc::new(AtomicUsize::new(0));
    let gate = Arc::new(Semaphore::new(CONCURRENCY));
    let mut tasks = JoinSet::new();
    for i in 0..PAIRS {
        let (api, acked, count, gate) = (api.clone(), acked.clone(), count.clone(), gate.clone());
        tasks.spawn(async move {
            let Ok(_permit) = gate.acquire().await else {
                return;
            };
            let path = format!("/domains/{DOMAIN}/devices/{}/login", device(i));
            let body = json!({ "extension": user(i) });
            // A transport error means "unknown": the request may or may not have landed.
            if let Ok((status, _)) = api.try_send(Method::POST, &path, Some(&body)).await {
                if status.is_success() {
                    if let Ok(mut list) = acked.lock() {
                        list.push(i);
                    }
                    count.fetch_add(1, Ordering::SeqCst);
                }
            }
        });
    }
    while count.load(Ordering::SeqCst) < KILL_AFTER && !tasks.is_empty() {
        if tasks.try_join_next().is_none() {
            tokio::time::sleep(ms(1)).await;
        }
    }
    block_in_place(|| server.kill9());
    while tasks.join_next().await.is_some() {}
    let acked: Vec<usize> = acked.lock().map(|l| l.clone()).unwrap_or_default();
    assert!(
        acked.len() >= KILL_AFTER,
        "only {} log-ins acknowledged",
        acked.len()
    );
    assert!(
        acked.len() < PAIRS,
        "the burst finished before the kill; the test proved nothing"
    );

    block_in_place(|| server.start_again());
    let api = server.api();
    let after = sessions(&api).await;
    for &i in &acked {
        assert_eq!(
            after.get(&device(i)),
            Some(&user(i)),
            "acknowledged log-in of {} at {} lost after kill -9",
            user(i),
            device(i)
        );
    }
    let attempted: BTreeSet<(String, String)> = (0..PAIRS).map(|i| (device(i), user(i))).collect();
    for (d, u) in &after {
        assert!(
            attempted.contains(&(d.clone(), u.clone())),
            "association {d} ↔ {u} was never requested"
        );
    }
    // The store is whole: a new log-in and a log-out work on the restarted server.
    let free = (0..PAIRS)
        .find(|i| !after.contains_key(&device(*i)))
        .unwrap_or_else(|| panic!("no free device left"));
    login(&api, free).await;
    let path = format!("/domains/{DOMAIN}/devices/{}/logout", device(acked[0]));
    api.post(&path, json!({})).await;
    let last = sessions(&api).await;
    assert_eq!(last.get(&device(free)), Some(&user(free)));
    assert!(!last.contains_key(&device(acked[0])));
}

/// Associations survive a clean restart and a `kill -9`, with their user and device.
async fn restart_keeps_associations(database: Database) {
    let mut server = block_in_place(|| {
        Server::with(Options {
            database,
            keep_ports: true,
            ..Options::default()
        })
    });
    let http = server.http;
    let api = server.api();
    seed(&api, 4).await;
    for i in 0..3 {
        login(&api, i).await;
    }
    let before = sessions(&api).await;
    assert_eq!(before.len(), 3);

    block_in_place(|| server.restart());
    assert_eq!(
        server.http, http,
        "keep_ports: same HTTP address after restart"
    );
    // The client made before the restart still works: same address, same token.
    assert_eq!(sessions(&api).await, before, "after SIGTERM restart");

    block_in_place(|| {
        server.kill9();
        server.start_again();
    });
    let api = server.api();
    assert_eq!(sessions(&api).await, before, "after kill -9");
    // Still a working desk book: log one out, restart, it stays out.
    api.post(
        &format!("/domains/{DOMAIN}/devices/{}/logout", device(1)),
        json!({}),
    )
    .await;
    block_in_place(|| server.restart());
    let after = sessions(&server.api()).await;
    assert_eq!(after.len(), 2);
    assert!(!after.contains_key(&device(1)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hd_login_kill9_mid_burst_loses_no_acknowledged_login_sqlite() {
    kill9_mid_burst_loses_no_acknowledged_login(Database::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hd_login_kill9_mid_burst_loses_no_acknowledged_login_postgres() {
    if let Some(database) = Database::postgres().await {
        kill9_mid_burst_loses_no_acknowledged_login(database).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_keeps_associations_sqlite() {
    restart_keeps_associations(Database::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_keeps_associations_postgres() {
    if let Some(database) = Database::postgres().await {
        restart_keeps_associations(database).await;
    }
}
