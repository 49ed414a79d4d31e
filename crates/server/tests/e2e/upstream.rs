//! Kamailio as the upstream carrier proxy in front of the PSTN (HD-ROUTE-9): the domain's
//! trunk is a real Kamailio 5.6 that challenges our INVITEs with a SHA-256 digest
//! (RFC 8760), record-routes, and relays to a SIPp "gateway"; a call from the gateway side
//! comes in through the same Kamailio and rings the desk of the DID's user. In-dialog
//! requests (ACK, BYE) follow Kamailio's Record-Route both ways.

use std::fs;
use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::task::block_in_place;

use crate::calls::{
    add_trunk, first_invite, login, no_calls_left, patch_user, seed, start, Phone, TrunkPeer,
    DOMAIN,
};
use crate::peers::{self, free_port, users_csv, Peer, Sipp};

const MODULES: &str = "/usr/lib/x86_64-linux-gnu/kamailio/modules";
const TRUNK_USER: &str = "trunkuser";
const TRUNK_SECRET: &str = "Trunk-Secret-42";

/// Kamailio's configuration: requests from hotdesk's SIP port must carry SHA-256 digest
/// credentials for `trunkuser` and go on to the gateway; everything else goes to hotdesk.
fn config(kamailio: u16, hotdesk: u16, gateway: u16) -> String {
    format!(
        r#"#!KAMAILIO
debug=2
log_stderror=yes
children=1
auto_aliases=no
listen=udp:127.0.0.1:{kamailio}
mpath="{MODULES}/"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "auth.so"
modparam("auth", "algorithm", "SHA-256")
modparam("auth", "secret", "hotdesk-e2e-carrier")

request_route {{
    if (!mf_process_maxfwd_header("10")) {{
        sl_send_reply("483", "Too Many Hops");
        exit;
    }}
    if (is_method("OPTIONS") && $rU == $null) {{
        sl_send_reply("200", "OK");
        exit;
    }}
    if (has_totag()) {{
        if (loose_route()) {{
            t_relay();
            exit;
        }}
        if (is_method("ACK")) {{
            if (t_check_trans()) {{
                t_relay();
            }}
            exit;
        }}
        sl_send_reply("404", "Not Here");
        exit;
    }}
    if (is_method("CANCEL")) {{
        if (t_check_trans()) {{
            t_relay();
        }}
        exit;
    }}
    t_check_trans();
    if ($si == "127.0.0.1" && $sp == {hotdesk}) {{
        if (!pv_proxy_authenticate("carrier.test", "{TRUNK_SECRET}", "0")) {{
            proxy_challenge("carrier.test", "1");
            exit;
        }}
        if ($au != "{TRUNK_USER}") {{
            sl_send_reply("403", "Wrong Trunk User");
            exit;
        }}
        record_route();
        $du = "sip:127.0.0.1:{gateway}";
        t_relay();
        exit;
    }}
    record_route();
    $du = "sip:127.0.0.1:{hotdesk}";
    t_relay();
}}
"#
    )
}

/// A running Kamailio; killed on drop.
struct Kamailio {
    _peer: Peer,
    addr: SocketAddr,
    log: std::path::PathBuf,
}

impl Kamailio {
    fn start(dir: &Path, hotdesk: u16, gateway: u16) -> Self {
        let port = free_port();
        let cfg = dir.join("kamailio.cfg");
        fs::write(&cfg, config(port, hotdesk, gateway)).unwrap_or_else(|e| panic!("cfg: {e}"));
        let check = Command::new("kamailio")
            .arg("-c")
            .arg("-f")
            .arg(&cfg)
            .output()
            .unwrap_or_else(|e| panic!("kamailio -c: {e}"));
        assert!(
            check.status.success(),
            "kamailio config check:\n{}",
            String::from_utf8_lossy(&check.stderr)
        );
        let run = dir.join("kamailio-run");
        fs::create_dir_all(&run).unwrap_or_else(|e| panic!("{}: {e}", run.display()));
        let mut command = Command::new("kamailio");
        command
            .arg("-f")
            .arg(&cfg)
            .args(["-DD", "-E", "-m", "64", "-M", "8"])
            .arg("-Y")
            .arg(&run)
            .arg("-w")
            .arg(&run);
        let log = dir.join("kamailio.log");
        let peer = Peer::spawn("kamailio", command, &log);
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let kamailio = Self {
            _peer: peer,
            addr,
            log,
        };
        kamailio.wait_ready();
        kamailio
    }

    /// Waits until Kamailio answers an OPTIONS (it binds after parsing its modules).
    fn wait_ready(&self) {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
        socket
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap_or_else(|e| panic!("timeout: {e}"));
        let local = socket
            .local_addr()
            .unwrap_or_else(|e| panic!("local addr: {e}"));
        let options = format!(
            "OPTIONS sip:{addr} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bK-ready\r\n\
             Max-Forwards: 70\r\nFrom: <sip:probe@{local}>;tag=ready\r\nTo: <sip:{addr}>\r\n\
             Call-ID: ready@{local}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
            addr = self.addr
        );
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut buf = [0u8; 2048];
        while Instant::now() < deadline {
            let _ = socket.send_to(options.as_bytes(), self.addr);
            if let Ok((len, _)) = socket.recv_from(&mut buf) {
                if buf[..len].starts_with(b"SIP/2.0 200") {
                    return;
                }
            }
        }
        panic!("kamailio never answered OPTIONS:\n{}", self.log());
    }

    fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hd_route_9_kamailio_carrier_challenges_with_sha256_and_carries_calls_both_ways() {
    if !peers::available("sipp") || !peers::available("kamailio") {
        return;
    }
    let server = start(&[]);
    let api = server.api();
    seed(&api).await;
    patch_user(&api, "1004", json!({ "did": "+15550001004" })).await;
    login(&api, "94001", "1004").await;
    login(&api, "94002", "1005").await;
    let sip = server
        .sip_udp
        .unwrap_or_else(|| panic!("no SIP/UDP:\n{}", server.output()));
    let dir = peers::scratch(&server.dir(), "carrier");
    let gateway = TrunkPeer::start(&dir, "uas_answer.xml", &[]);
    let kamailio = Kamailio::start(&dir, sip.port(), gateway.port);
    add_trunk(
        &api,
        &kamailio.addr.to_string(),
        Some((TRUNK_USER, TRUNK_SECRET)),
    )
    .await;

    // Outbound: Bob at 94002 dials a PSTN number; Kamailio challenges with SHA-256 only.
    let bob = users_csv([("94002", crate::calls::pw("94002").as_str())]);
    let out = block_in_place(|| {
        Sipp::new(sip, "uac_invite.xml", DOMAIN, bob)
            .run_with(&dir, &["-s", "+15557770000", "-d", "200"])
    });
    let at_gateway = gateway.messages();
    assert!(
        out.passed(),
        "{}\n{at_gateway}\nkamailio:\n{}\n{}",
        out.messages,
        kamailio.log(),
        server.output()
    );
    let invite = first_invite(&at_gateway);
    assert!(invite.starts_with("INVITE sip:+15557770000@"), "{invite}");
    // Kamailio passes the credentials on: they answered its SHA-256 challenge.
    let credentials = invite
        .lines()
        .find(|l| l.starts_with("Proxy-Authorization:"))
        .unwrap_or_else(|| panic!("no credentials reached the gateway: {invite}"));
    assert!(
        credentials.contains(&format!("username=\"{TRUNK_USER}\""))
            && credentials.contains("algorithm=SHA-256"),
        "{credentials}"
    );
    assert!(
        invite.contains(&format!("Record-Route: <sip:{}", kamailio.addr)),
        "{invite}"
    );
    // The caller's BYE reaches the gateway through Kamailio (SIPp traces it a little later).
    peers::eventually(Duration::from_secs(10), "the BYE at the gateway", || {
        let seen = gateway.messages().contains("BYE sip:");
        async move { seen.then_some(()) }
    })
    .await;

    // Inbound: a call from the gateway side to Alice's DID rings her desk through Kamailio.
    let desk = block_in_place(|| Phone::start(&server, &dir, "94001", "uas_answer.xml"));
    let pstn = users_csv([("5550123", "unused")]);
    let inbound = block_in_place(|| {
        Sipp::new(kamailio.addr, "uac_invite.xml", DOMAIN, pstn)
            .run_with(&dir, &["-s", "+15550001004", "-d", "200"])
    });
    assert!(
        inbound.passed(),
        "{}\nkamailio:\n{}\n{}",
        inbound.messages,
        kamailio.log(),
        server.output()
    );
    assert!(
        !inbound.messages.contains("SIP/2.0 401"),
        "a call from the trunk is not challenged"
    );
    assert_eq!(desk.received("INVITE"), 1);
    desk.wait_received("BYE", 1).await;
    drop(gateway.peer);
    no_calls_left(&server).await;
}
