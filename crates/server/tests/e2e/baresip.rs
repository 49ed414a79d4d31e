//! A real softphone (baresip, headless) registers, and its binding survives a server restart
//! (STYLE §5 write-through): right after the restart the API shows the same binding with the
//! same expiry (restored from the store, not re-registered), and the phone's next refresh is
//! accepted by the restarted server.

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::task::block_in_place;

use crate::harness::{field, Api, Options, Server};
use crate::peers::{self, eventually_or, Peer};

const DOMAIN: &str = "soft.test";
const DEVICE: &str = "94010";
const PASSWORD: &str = "baresip-secret-94010";
/// baresip's registration interval; it refreshes well before it lapses.
const REGINT: u32 = 20;

/// A headless baresip in `dir` registering `DEVICE` through `server` (PEERS.md).
fn baresip(dir: &Path, server: &str) -> Peer {
    // Port 0: the kernel picks a free port when baresip binds, so no other test can take it
    // between our choice and baresip's bind (a `free_port` race). No control port: this test
    // only needs the phone to register.
    let config = "module_path /usr/lib/baresip/modules\n\
         module g711.so\n\
         module ausine.so\n\
         module_app account.so\n\
         module_app menu.so\n\
         sip_listen 127.0.0.1:0\n\
         net_interface 127.0.0.1\n\
         audio_player aufile,/dev/null\n\
         audio_source ausine,440\n";
    let accounts = format!(
        "<sip:{DEVICE}@{DOMAIN};transport=udp>;auth_pass={PASSWORD};\
         outbound=\"sip:{server};transport=udp\";regint={REGINT}\n"
    );
    fs::write(dir.join("config"), config).unwrap_or_else(|e| panic!("config: {e}"));
    fs::write(dir.join("accounts"), accounts).unwrap_or_else(|e| panic!("accounts: {e}"));
    let mut command = Command::new("baresip");
    command.arg("-4").arg("-f").arg(dir);
    Peer::spawn("baresip", command, &dir.join("baresip.log"))
}

fn expiry(registration: &Value) -> Option<jiff::Timestamp> {
    field(registration, "expires_at").parse().ok()
}

async fn registration(api: &Api) -> Value {
    api.get(&format!("/domains/{DOMAIN}/devices/{DEVICE}"))
        .await
        .get("registration")
        .cloned()
        .unwrap_or(Value::Null)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn baresip_stays_registered_across_a_server_restart() {
    if !peers::available("baresip") {
        return;
    }
    let mut server = block_in_place(|| {
        Server::with(Options {
            keep_ports: true,
            env: vec![("HOTDESK_REG_MIN_EXPIRES".into(), "10".into())],
            ..Options::default()
        })
    });
    let api = server.api();
    api.post("/domains", json!({ "name": DOMAIN })).await;
    api.post(
        &format!("/domains/{DOMAIN}/devices"),
        json!({ "mac": "001565000010", "model": "softphone", "kind": "hotdesk",
                "extension": DEVICE, "sip_password": PASSWORD }),
    )
    .await;
    let sip = server
        .sip_udp
        .unwrap_or_else(|| panic!("no SIP/UDP:\n{}", server.output()));
    let dir = peers::scratch(&server.dir(), "baresip");
    let mut phone = baresip(&dir, &sip.to_string());
    let log = || fs::read_to_string(dir.join("baresip.log")).unwrap_or_default();

    let first = eventually_or(
        Duration::from_secs(60),
        "baresip registration",
        || format!("baresip:\n{}\nserver:\n{}", log(), server.output()),
        || async {
            let r = registration(&api).await;
            (!r.is_null()).then_some(r)
        },
    )
    .await;
    // baresip decorates its contact user part (`94010-0x…`).
    assert!(
        field(&first, "contact").starts_with(&format!("sip:{DEVICE}")),
        "{first}"
    );
    assert!(
        field(&first["contacts"][0], "source").starts_with("udp:127.0.0.1:"),
        "{first}"
    );
    assert!(
        field(&first, "user_agent")
            .to_lowercase()
            .contains("baresip"),
        "{first}"
    );

    // The binding as the old server last acknowledged it, read right before the stop: a
    // refresh between the first registration and here moves its expiry legitimately.
    let before = registration(&api).await;
    assert_eq!(field(&before, "contact"), field(&first, "contact"));
    block_in_place(|| server.restart());
    let api = server.api();
    let restored = registration(&api).await;
    assert_eq!(
        field(&restored, "contact"),
        field(&before, "contact"),
        "{}",
        log()
    );
    // Same expiry: loaded from the store, not a fresh REGISTER.
    assert_eq!(
        field(&restored, "expires_at"),
        field(&before, "expires_at"),
        "{}",
        log()
    );

    // baresip's next refresh reaches the restarted server and is accepted. The wait covers
    // two intervals plus baresip's 30–60 s back-off after a refresh that failed while the
    // server was down.
    let first_expiry = expiry(&before);
    let refreshed = eventually_or(
        Duration::from_secs(u64::from(REGINT) * 2 + 60),
        "a refresh",
        || format!("baresip:\n{}\nserver:\n{}", log(), server.output()),
        || async {
            let r = registration(&api).await;
            (expiry(&r) > first_expiry).then_some(r)
        },
    )
    .await;
    assert_eq!(
        field(&refreshed, "contact"),
        field(&before, "contact"),
        "{}",
        log()
    );
    phone.kill();
}
