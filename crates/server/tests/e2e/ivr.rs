//! Log-in at the phone end to end (HD-LOGIN-1, -2, -4, -6, -7, -8, -9, HD-LOGOUT-1, -3,
//! HD-SEC-2): SIPp plays a hot-desk phone that dials a feature code, answers the prompts
//! with SIP INFO or RFC 2833 digits (the sip-tester pcaps), and the API shows the result.
//! The test listens on the SDP's RTP port itself and checks what the server sends: PCMU
//! (payload type 0), RTP timestamps advancing 160 per packet (20 ms), audio not silent.
//! Which prompt was chosen is read from the server's `IVR prompt` log lines.
//!
//! Covered: *44 with INFO and with RFC 2833 digits, *45, 980+PIN toggling in and out,
//! voice portal menus 1/2/3, the portal's access number from the trunk (menu 1 names the
//! device, menu 2 associates, wrong PINs lock the user) and on-net, spoken refusals (wrong
//! PIN, locked, excluded model, location phone, allocation full, not logged in), five
//! wrong PINs locking the user across two phones (audited), a silent caller and a caller
//! who never hangs up both ended by the server, Activate Phone (the server calls a
//! registered SIPp phone; the result on the API resource and on `/events`), baresip
//! logging in with RFC 4733 digits, after *44 a call to the user ringing that desk
//! with the caller named (HD-ROUTE-1, -3), and a call in progress outliving a *45 at its
//! desk and a *44 takeover at another desk until its BYE, while new calls follow the new
//! state (HD-LOGOUT-3).
//! Not covered here: in-band DTMF (`crates/media` tests).

use std::fmt::Write as _;
use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::task::block_in_place;

use crate::calls::{calls_up, metric, no_calls_left, requests_received};
use crate::harness::{field, Api, Options, Server};
use crate::peers::{self, eventually, eventually_or, free_media_port, free_port, scratch, Peer};

const DOMAIN: &str = "acme.test";

/// A hot-desk phone: anchor extension, SIP password, model.
struct Phone {
    ext: &'static str,
    password: &'static str,
}

const DESK: Phone = Phone {
    ext: "94001",
    password: "desk-secret-94001",
};
const DESK2: Phone = Phone {
    ext: "94002",
    password: "desk-secret-94002",
};
const DECT: Phone = Phone {
    ext: "94003",
    password: "desk-secret-94003",
};
const LOBBY: Phone = Phone {
    ext: "94004",
    password: "desk-secret-94004",
};
/// A third hot desk, not in [`office`]: the HD-LOGOUT-3 takeover test adds it.
const DESK3: Phone = Phone {
    ext: "94005",
    password: "desk-secret-94005",
};

/// One step of the caller's side after the call is answered.
#[derive(Debug, Clone)]
pub(crate) enum Step {
    /// Wait.
    Pause(u64),
    /// Keys sent as SIP INFO (application/dtmf-relay), 250 ms apart.
    Info(&'static str),
    /// Keys sent as RFC 2833 events from the sip-tester pcaps, 400 ms apart.
    Rfc2833(&'static str),
}

/// How the call ends.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Hangup {
    /// The server hangs up (BYE within the given seconds).
    Server(u64),
    /// We hang up.
    Caller,
}

fn start() -> Server {
    start_with(Vec::new())
}

/// [`start`] with more environment.
fn start_with(env: Vec<(String, String)>) -> Server {
    block_in_place(|| {
        Server::with(Options {
            env: [
                // Short time-outs keep the silent-caller tests quick.
                ("HOTDESK_IVR_FIRST_DIGIT_SECS".into(), "3".into()),
                ("HOTDESK_IVR_INTER_DIGIT_SECS".into(), "3".into()),
                ("HOTDESK_IVR_SESSION_SECS".into(), "25".into()),
                ("HOTDESK_RTP_PORTS".into(), format!("{}-{}", 40_000, 40_199)),
            ]
            .into_iter()
            .chain(env)
            .collect(),
            ..Options::default()
        })
    })
}

/// The domain with four phones (hot desk ×2, an excluded DECT handset, a location phone)
/// and users 1004 (PIN 4321), 2013 (PIN 4567), 1006 (PIN 7777, allocation 2).
async fn office(server: &Server) -> Api {
    let api = server.api();
    api.post("/domains", json!({ "name": DOMAIN })).await;
    for (phone, model, kind, mac) in [
        (&DESK, "yealink-t46u", "hotdesk", "001565000001"),
        (&DESK2, "yealink-t46u", "hotdesk", "001565000002"),
        (&DECT, "yealink-w56h", "hotdesk", "001565000003"),
        (&LOBBY, "yealink-t46u", "location", "001565000004"),
    ] {
        api.post(
            &format!("/domains/{DOMAIN}/devices"),
            json!({ "mac": mac, "model": model, "kind": kind, "extension": phone.ext,
                    "sip_password": phone.password }),
        )
        .await;
    }
    for (ext, pin, max) in [
        ("1004", "4321", 1),
        ("2013", "4567", 1),
        ("1006", "7777", 2),
    ] {
        api.post(
            &format!("/domains/{DOMAIN}/users"),
            json!({ "extension": ext, "first_name": "User", "last_name": ext, "pin": pin,
                    "max_devices": max }),
        )
        .await;
    }
    api
}

/// The scenario with its steps filled in (also used by the portal's browser test).
pub(crate) fn scenario(dir: &Path, rtp_port: u16, steps: &[Step], hangup: Hangup) -> PathBuf {
    let template = std::fs::read_to_string(peers::scenario("ivr_call.xml"))
        .unwrap_or_else(|e| panic!("ivr_call.xml: {e}"));
    let mut body = String::new();
    let mut cseq = 10;
    for step in steps {
        match step {
            Step::Pause(ms) => {
                let _ = writeln!(body, "  <pause milliseconds=\"{ms}\"/>");
            }
            Step::Info(keys) => {
                for key in keys.chars() {
                    cseq += 1;
                    let _ = write!(
                        body,
                        "  <send retrans=\"500\" start_txn=\"info{cseq}\">\n    <![CDATA[\n\n      \
                         INFO [next_url] SIP/2.0\n      \
                         Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]\n      \
                         [routes]\n      Max-Forwards: 70\n      \
                         From: <sip:[field0]@[domain]>;tag=[pid]SIPpTag00[call_number]\n      \
                         [last_To:]\n      Call-ID: [call_id]\n      CSeq: {cseq} INFO\n      \
                         Content-Type: application/dtmf-relay\n      Content-Length: [len]\n\n      \
                         Signal={key}\n      Duration=160\n\n    ]]>\n  </send>\n  \
                         <recv response=\"200\" response_txn=\"info{cseq}\"/>\n  \
                         <pause milliseconds=\"250\"/>\n"
                    );
                }
            }
            Step::Rfc2833(keys) => {
                for key in keys.chars() {
                    let name = match key {
                        '*' => "star".to_owned(),
                        '#' => "pound".to_owned(),
                        d => d.to_string(),
                    };
                    let _ = write!(
                        body,
                        "  <nop>\n    <action>\n      <exec play_pcap_audio=\
                         \"/usr/share/sip-tester/dtmf_2833_{name}.pcap\"/>\n    </action>\n  \
                         </nop>\n  <pause milliseconds=\"400\"/>\n"
                    );
                }
            }
        }
    }
    let end = match hangup {
        Hangup::Server(secs) => format!(
            "  <recv request=\"BYE\" timeout=\"{}\"/>\n  <send>\n    <![CDATA[\n\n      \
             SIP/2.0 200 OK\n      [last_Via:]\n      [last_From:]\n      [last_To:]\n      \
             [last_Call-ID:]\n      [last_CSeq:]\n      Content-Length: 0\n\n    ]]>\n  </send>\n",
            secs * 1000
        ),
        Hangup::Caller => "  <send retrans=\"500\" start_txn=\"bye\">\n    <![CDATA[\n\n      \
             BYE [next_url] SIP/2.0\n      \
             Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]\n      [routes]\n      \
             Max-Forwards: 70\n      From: <sip:[field0]@[domain]>;tag=[pid]SIPpTag00[call_number]\n      \
             [last_To:]\n      Call-ID: [call_id]\n      CSeq: 999 BYE\n      Content-Length: 0\n\n    \
             ]]>\n  </send>\n  <recv response=\"200\" response_txn=\"bye\"/>\n"
            .to_owned(),
    };
    let xml = template
        .replace("RTP_PORT", &rtp_port.to_string())
        .replace("STEPS", &body)
        .replace("HANGUP", &end);
    let path = dir.join(format!("ivr-{rtp_port}.xml"));
    std::fs::write(&path, xml).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    path
}

/// What the RTP listener saw: (payload type, sequence, timestamp, payload, arrival).
#[derive(Debug, Default, Clone)]
struct Heard {
    packets: Vec<(u8, u16, u32, Vec<u8>, Instant)>,
}

impl Heard {
    /// HD-LOGIN-1 audio: PCMU packets, timestamps 160 apart (20 ms), not silence.
    fn assert_prompts_heard(&self) {
        let audio: Vec<_> = self.packets.iter().filter(|p| p.0 == 0).collect();
        assert!(
            audio.len() >= 25,
            "expected PCMU RTP from the server, got {} packets ({} in all)",
            audio.len(),
            self.packets.len()
        );
        let steps: Vec<u32> = audio
            .windows(2)
            .filter(|w| w[1].1 == w[0].1.wrapping_add(1))
            .map(|w| w[1].2.wrapping_sub(w[0].2))
            .collect();
        let paced = steps.iter().filter(|&&s| s == 160).count();
        assert!(
            paced * 10 >= steps.len() * 9,
            "RTP timestamps should advance 160 (20 ms) per packet: {steps:?}"
        );
        // μ-law: 0xFF and 0x7F are the two zeros; speech moves far from them.
        let loud = audio
            .iter()
            .flat_map(|p| p.3.iter())
            .filter(|&&b| {
                let magnitude = !b & 0x7f;
                magnitude > 0x20
            })
            .count();
        assert!(loud > 800, "decoded audio is silence ({loud} loud samples)");
        // Spacing in wall-clock time is measured by the benchmark, not asserted here;
        // this only rules out a burst (everything sent at once).
        let first = audio.first().map(|p| p.4);
        let last = audio.last().map(|p| p.4);
        if let (Some(first), Some(last)) = (first, last) {
            assert!(
                last - first >= Duration::from_millis(10 * audio.len() as u64),
                "RTP arrived in a burst, not paced"
            );
        }
    }
}

/// Listens for the server's RTP on a free port until dropped.
struct RtpEar {
    port: u16,
    heard: Arc<Mutex<Heard>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RtpEar {
    fn new() -> Self {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("rtp bind: {e}"));
        let port = socket.local_addr().map(|a| a.port()).unwrap_or(0);
        let _ = socket.set_read_timeout(Some(Duration::from_millis(100)));
        let heard = Arc::new(Mutex::new(Heard::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (h, s) = (Arc::clone(&heard), Arc::clone(&stop));
        let thread = std::thread::spawn(move || {
            let mut buf = [0u8; 2048];
            while !s.load(Ordering::Relaxed) {
                let Ok(n) = socket.recv(&mut buf) else {
                    continue;
                };
                if n < 12 {
                    continue;
                }
                let pt = buf[1] & 0x7f;
                let seq = u16::from_be_bytes([buf[2], buf[3]]);
                let ts = u32::from_be_bytes([buf[4], buf[5], buf[6], buf[7]]);
                if let Ok(mut heard) = h.lock() {
                    heard
                        .packets
                        .push((pt, seq, ts, buf[12..n].to_vec(), Instant::now()));
                }
            }
        });
        Self {
            port,
            heard,
            stop,
            thread: Some(thread),
        }
    }

    fn finish(mut self) -> Heard {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        self.heard.lock().map(|h| h.clone()).unwrap_or_default()
    }
}

/// The result of one call.
struct Call {
    passed: bool,
    output: String,
    heard: Heard,
}

/// `phone` dials `code`, plays `steps`, and the call ends per `hangup`.
fn dial(server: &Server, phone: &Phone, code: &str, steps: &[Step], hangup: Hangup) -> Call {
    let caller = format!(
        "{};[authentication username={} password={}]",
        phone.ext, phone.ext, phone.password
    );
    dial_as(server, &caller, code, steps, hangup)
}

/// As [`dial`], for the caller `line` of the scenario's CSV (`user;credentials`): a phone,
/// or a trunk's caller with no credentials at all.
fn dial_as(server: &Server, line: &str, code: &str, steps: &[Step], hangup: Hangup) -> Call {
    block_in_place(|| {
        let dir = scratch(&server.dir(), "ivr");
        let ear = RtpEar::new();
        let xml = scenario(&dir, ear.port, steps, hangup);
        let inf = dir.join("phone.csv");
        let _ = std::fs::write(&inf, format!("SEQUENTIAL\n{line}\n"));
        let target: SocketAddr = server.sip_udp.unwrap_or_else(|| panic!("no SIP/UDP"));
        let mut command = Command::new("sipp");
        command
            .arg(target.to_string())
            .arg("-sf")
            .arg(&xml)
            .arg("-inf")
            .arg(&inf)
            .args(["-key", "domain", DOMAIN, "-auth_uri", DOMAIN, "-s", code])
            .args(["-i", "127.0.0.1", "-p", &free_port().to_string()])
            .args(["-mi", "127.0.0.1", "-mp", &free_media_port().to_string()])
            .args(["-m", "1", "-timeout", "60s", "-timeout_error", "-nostdin"])
            .args(["-trace_msg", "-message_file"])
            .arg(dir.join("messages.log"))
            .current_dir(&dir);
        let out = dir.join("sipp.out");
        let mut peer = Peer::spawn("sipp", command, &out);
        let code = peer.wait(Duration::from_secs(90));
        let heard = ear.finish();
        let output = format!(
            "{}\n{}",
            std::fs::read_to_string(&out).unwrap_or_default(),
            std::fs::read_to_string(dir.join("messages.log")).unwrap_or_default()
        );
        Call {
            passed: code == Some(0),
            output,
            heard,
        }
    })
}

/// Every prompt list the server logged, in order.
fn prompts(server: &Server) -> Vec<String> {
    prompt_lines(server)
        .iter()
        .filter_map(|l| l.split("prompts=").nth(1))
        .map(|p| p.trim().to_owned())
        .collect()
}

/// The server's `IVR prompt` log lines, whole (language included).
fn prompt_lines(server: &Server) -> Vec<String> {
    server
        .output()
        .lines()
        .filter(|l| l.contains("IVR prompt"))
        .map(str::to_owned)
        .collect()
}

/// Whether any logged prompt list contains `name`.
fn spoke(server: &Server, name: &str) -> bool {
    prompts(server)
        .iter()
        .any(|p| p.split(',').any(|n| n == name))
}

async fn owner(api: &Api, device: &str) -> Option<String> {
    api.list(&format!("/domains/{DOMAIN}/associations"))
        .await
        .into_iter()
        .find(|a| field(a, "device") == device)
        .map(|a| field(&a, "user"))
}

fn sipp_available() -> bool {
    peers::available("sipp")
}

/// The *44 log-in with the digits as SIP INFO.
fn login_steps() -> Vec<Step> {
    vec![
        Step::Pause(500),
        Step::Info("1004#"),
        Step::Pause(300),
        Step::Info("4321#"),
        Step::Pause(1500),
        Step::Info("2"),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hd_login_1_star44_with_sip_info_logs_in_and_plays_prompts() {
    if !sipp_available() {
        return;
    }
    let server = start();
    let api = office(&server).await;
    let call = dial(&server, &DESK, "*44", &login_steps(), Hangup::Server(15));
    assert!(call.passed, "{}\n{}", call.output, server.output());
    assert_eq!(owner(&api, DESK.ext).await.as_deref(), Some("1004"));
    assert!(spoke(&server, "enter-extension"), "{:?}", prompts(&server));
    assert!(
        spoke(&server, "is-the-device-owner"),
        "{:?}",
        prompts(&server)
    );
    assert!(spoke(&server, "logged-in"), "{:?}", prompts(&server));
    // Same audit trail as the API, with how = phone_code.
    let audit = api
        .get(&format!("/domains/{DOMAIN}/audit"))
        .await
        .to_string();
    assert!(audit.contains("phone_code"), "{audit}");
    call.heard.assert_prompts_heard();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hd_login_1_star44_with_rfc2833_pcaps_logs_in() {
    // play_pcap_audio needs raw sockets (root).
    if !sipp_available() || !is_root() {
        return;
    }
    let server = start();
    let api = office(&server).await;
    // Each pcap carries one fixed RTP timestamp, and a receiver rightly takes a repeated
    // timestamp for a repeated event (RFC 4733 §2.5.2.1): so no key twice within eight
    // events (2013 / 4567), and the PIN ends by the inter-digit time-out, not a second `#`.
    let steps = vec![
        Step::Pause(500),
        Step::Rfc2833("2013#"),
        Step::Pause(300),
        Step::Rfc2833("4567"),
        Step::Pause(5000),
        Step::Rfc2833("2"),
    ];
    let call = dial(&server, &DESK, "*88", &steps, Hangup::Server(20));
    assert!(call.passed, "{}\n{}", call.output, server.output());
    assert_eq!(
        owner(&api, DESK.ext).await.as_deref(),
        Some("2013"),
        "{}\n{}",
        call.output,
        server.output()
    );
    call.heard.assert_prompts_heard();
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hd_logout_1_star45_pin_then_thank_you() {
    if !sipp_available() {
        return;
    }
    let server = start();
    let api = office(&server).await;
    // Not logged in yet: spoken refusal (HD-ROUTE-5).
    let call = dial(&server, &DESK, "*45", &[], Hangup::Server(10));
    assert!(call.passed, "{}", call.output);
    assert!(spoke(&server, "not-logged-in"), "{:?}", prompts(&server));
    let call = dial(&server, &DESK, "*44", &login_steps(), Hangup::Server(15));
    assert!(call.passed, "{}", call.output);
    let steps = vec![Step::Pause(500), Step::Info("4321#")];
    let call = dial(&server, &DESK, "*45", &steps, Hangup::Server(15));
    assert!(call.passed, "{}\n{}", call.output, server.output());
    assert_eq!(owner(&api, DESK.ext).await, None);
    assert!(spoke(&server, "logged-out"), "{:?}", prompts(&server));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hd_login_2_toggle_980_pin_logs_in_then_out() {
    if !sipp_available() {
        return;
    }
    let server = start();
    let api = office(&server).await;
    let call = dial(&server, &DESK, "9804567", &[], Hangup::Server(15));
    assert!(call.passed, "{}\n{}", call.output, server.output());
    assert_eq!(owner(&api, DESK.ext).await.as_deref(), Some("2013"));
    // Prompted variant: 980, then the PIN.
    let steps = vec![Step::Pause(500), Step::Info("4567#")];
    let call = dial(&server, &DESK, "980", &steps, Hangup::Server(15));
    assert!(call.passed, "{}", call.output);
    assert_eq!(owner(&api, DESK.ext).await, None);
    // A PIN nobody has is a wrong PIN.
    let call = dial(&server, &DESK, "9801111", &[], Hangup::Caller);
    assert!(call.passed, "{}", call.output);
    assert!(spoke(&server, "wrong-pin"), "{:?}", prompts(&server));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hd_login_8_voice_portal_status_associate_disassociate() {
    if !sipp_available() {
        return;
    }
    let server = start();
    let api = office(&server).await;
    let steps = vec![
        Step::Pause(500),
        Step::Info("1004#"),
        Step::Pause(300),
        Step::Info("4321#"),
        Step::Pause(1500),
        // 1: host status of this phone (free).
        Step::Info("1"),
        Step::Pause(1000),
        // 2: associate with 94002.
        Step::Info("2"),
        Step::Pause(300),
        Step::Info("94002#"),
        Step::Pause(1500),
    ];
    let call = dial(&server, &DESK, "*62", &steps, Hangup::Caller);
    assert!(call.passed, "{}\n{}", call.output, server.output());
    assert!(
        spoke(&server, "host-not-logged-in"),
        "{:?}",
        prompts(&server)
    );
    assert_eq!(owner(&api, DESK2.ext).await.as_deref(), Some("1004"));
    let audit = api
        .get(&format!("/domains/{DOMAIN}/audit"))
        .await
        .to_string();
    assert!(audit.contains("voice_portal"), "{audit}");
    // 3: disassociate.
    let steps = vec![
        Step::Pause(500),
        Step::Info("1004#"),
        Step::Pause(300),
        Step::Info("4321#"),
        Step::Pause(1500),
        Step::Info("3"),
        Step::Pause(1500),
    ];
    let call = dial(&server, &DESK, "*62", &steps, Hangup::Caller);
    assert!(call.passed, "{}", call.output);
    assert_eq!(owner(&api, DESK2.ext).await, None);
}

/// The voice portal's access number of these tests (HD-LOGIN-8).
const PORTAL_NUMBER: &str = "+390612345678";

/// A caller on the public network, as the trunk presents it: no credentials.
const OUTSIDE: &str = "5550123;";

/// Sets the domain's access number and adds its trunk on 127.0.0.1 (any port: a call from
/// the trunk's IP whose From is no phone of the domain is the trunk's, HD-ROUTE-9).
async fn portal_through_trunk(api: &Api) {
    let (status, body) = api
        .send(
            reqwest::Method::PATCH,
            &format!("/domains/{DOMAIN}"),
            Some(&json!({ "settings": { "voice_portal_number": PORTAL_NUMBER } })),
        )
        .await;
    assert!(status.is_success(), "{body}");
    api.post(
        &format!("/domains/{DOMAIN}/trunks"),
        json!({ "name": "upstream", "address": format!("127.0.0.1:{}", free_port()) }),
    )
    .await;
}

/// HD-LOGIN-8 "reachable from outside through a configured access number": a free desk
/// dials it on-net (HD-ROUTE-5 lets it) and hears its own host status; then a caller from
/// the trunk, with no device, names the device for host status (menu 1) and associates
/// 1004 with a desk (menu 2), all with SIP INFO digits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hd_login_8_access_number_from_the_trunk_and_on_net() {
    if !sipp_available() {
        return;
    }
    let server = start();
    let api = office(&server).await;
    portal_through_trunk(&api).await;
    api.post(
        &format!("/domains/{DOMAIN}/devices/{}/login", DESK2.ext),
        json!({ "extension": "2013" }),
    )
    .await;
    // On-net from the free desk: menu 1 is this phone's status, no device asked.
    let steps = vec![
        Step::Pause(500),
        Step::Info("1006#"),
        Step::Pause(300),
        Step::Info("7777#"),
        Step::Pause(1500),
        Step::Info("1"),
        Step::Pause(1500),
    ];
    let call = dial(&server, &DESK, PORTAL_NUMBER, &steps, Hangup::Caller);
    assert!(call.passed, "{}\n{}", call.output, server.output());
    assert!(
        spoke(&server, "host-not-logged-in"),
        "{:?}",
        prompts(&server)
    );
    assert!(!spoke(&server, "enter-device"), "{:?}", prompts(&server));
    // From outside: account, PIN, 1 + 94002 (2013 is there), 2 + 94001.
    let steps = vec![
        Step::Pause(500),
        Step::Info("1004#"),
        Step::Pause(300),
        Step::Info("4321#"),
        Step::Pause(1500),
        Step::Info("1"),
        Step::Pause(300),
        Step::Info("94002#"),
        Step::Pause(1500),
        Step::Info("2"),
        Step::Pause(300),
        Step::Info(DESK.ext),
        Step::Info("#"),
        Step::Pause(1500),
    ];
    let call = dial_as(&server, OUTSIDE, PORTAL_NUMBER, &steps, Hangup::Caller);
    assert!(call.passed, "{}\n{}", call.output, server.output());
    assert!(
        !call.output.contains("SIP/2.0 401") && !call.output.contains("SIP/2.0 407"),
        "a trunk's caller is not challenged: {}",
        call.output
    );
    let said = prompts(&server);
    assert!(
        said.iter()
            .any(|p| p.starts_with("host-logged-in-as,digit-2,digit-0,digit-1,digit-3")),
        "{said:?}"
    );
    assert!(spoke(&server, "enter-device"), "{said:?}");
    assert_eq!(owner(&api, DESK.ext).await.as_deref(), Some("1004"));
    assert_eq!(owner(&api, DESK2.ext).await.as_deref(), Some("2013"));
    // Audited as a voice-portal log-in by the user themself (no device called).
    let audit = api.list(&format!("/domains/{DOMAIN}/audit")).await;
    let login = audit
        .iter()
        .find(|r| field(r, "device") == DESK.ext && r.to_string().contains("voice_portal"))
        .unwrap_or_else(|| panic!("no voice-portal audit row for {}: {audit:?}", DESK.ext));
    assert_eq!(
        login["actor"],
        json!({ "kind": "user", "id": "1004" }),
        "{login}"
    );
    call.heard.assert_prompts_heard();
}

/// HD-SEC-2 for the access number: a caller from the trunk has no device and no digest,
/// so the PIN is all that stands between them and a desk; five wrong PINs over two calls
/// lock the user exactly as at a phone, audited, and the right PIN is then refused too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hd_login_8_hd_sec_2_wrong_pins_from_outside_lock_the_user() {
    if !sipp_available() {
        return;
    }
    let server = start();
    let api = office(&server).await;
    portal_through_trunk(&api).await;
    let three = vec![
        Step::Pause(500),
        Step::Info("2013#"),
        Step::Info("1111#"),
        Step::Pause(1500),
        Step::Info("2013#"),
        Step::Info("1112#"),
        Step::Pause(1500),
        Step::Info("2013#"),
        Step::Info("1113#"),
    ];
    let call = dial_as(&server, OUTSIDE, PORTAL_NUMBER, &three, Hangup::Server(15));
    assert!(call.passed, "{}\n{}", call.output, server.output());
    assert!(spoke(&server, "wrong-pin"), "{:?}", prompts(&server));
    let two = vec![
        Step::Pause(500),
        Step::Info("2013#"),
        Step::Info("1114#"),
        Step::Pause(1500),
        Step::Info("2013#"),
        Step::Info("1115#"),
    ];
    let call = dial_as(&server, OUTSIDE, PORTAL_NUMBER, &two, Hangup::Server(15));
    assert!(call.passed, "{}", call.output);
    assert!(spoke(&server, "locked"), "{:?}", prompts(&server));
    // Locked: the right PIN from outside gets "locked" again, never the menu.
    let before = prompts(&server).len();
    let right = vec![Step::Pause(500), Step::Info("2013#"), Step::Info("4567#")];
    let call = dial_as(&server, OUTSIDE, PORTAL_NUMBER, &right, Hangup::Server(15));
    assert!(call.passed, "{}", call.output);
    let later = prompts(&server).split_off(before);
    assert!(later.iter().any(|p| p.contains("locked")), "{later:?}");
    assert!(
        !later.iter().any(|p| p.contains("portal-menu")),
        "{later:?}"
    );
    // The same lock as every other path: the API sign-in is refused, and it is audited.
    let (status, _) = api
        .with_token(None)
        .send(
            reqwest::Method::POST,
            "/auth/login",
            Some(&json!({ "domain": DOMAIN, "extension": "2013", "pin": "4567" })),
        )
        .await;
    assert!(status.as_u16() == 423 || status.as_u16() == 429, "{status}");
    let audit = api.list(&format!("/domains/{DOMAIN}/audit")).await;
    let locked = audit
        .iter()
        .find(|r| field(r, "kind") == "locked_out")
        .unwrap_or_else(|| panic!("no lock-out audited: {audit:?}"));
    assert_eq!(field(locked, "user"), "2013", "{locked}");
    assert!(locked.to_string().contains("voice_portal"), "{locked}");
}

/// Issue 6 "per-domain language directory": a domain whose `prompt_language` is `fr` hears
/// the `fr` folder — here a translation in progress holding only `enter-extension` — and
/// every prompt list the folder lacks in the server's language, never half in each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hd_login_1_prompts_in_the_domains_language_else_the_servers() {
    if !sipp_available() {
        return;
    }
    let prompts = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../prompts/en");
    let fr = prompts.path().join("fr");
    std::fs::create_dir_all(&fr).unwrap_or_else(|e| panic!("{}: {e}", fr.display()));
    std::os::unix::fs::symlink(&shipped, prompts.path().join("en"))
        .unwrap_or_else(|e| panic!("symlink: {e}"));
    std::fs::copy(
        shipped.join("enter-extension.wav"),
        fr.join("enter-extension.wav"),
    )
    .unwrap_or_else(|e| panic!("copy: {e}"));
    let server = start_with(vec![(
        "HOTDESK_PROMPTS_DIR".into(),
        prompts.path().display().to_string(),
    )]);
    let api = office(&server).await;
    let (status, body) = api
        .send(
            reqwest::Method::PATCH,
            &format!("/domains/{DOMAIN}"),
            Some(&json!({ "settings": { "prompt_language": "fr" } })),
        )
        .await;
    assert!(status.is_success(), "{body}");
    let call = dial(&server, &DESK, "*44", &login_steps(), Hangup::Server(15));
    assert!(call.passed, "{}\n{}", call.output, server.output());
    assert_eq!(owner(&api, DESK.ext).await.as_deref(), Some("1004"));
    let said = prompt_lines(&server);
    assert!(
        said.iter()
            .any(|l| l.contains("language=fr prompts=enter-extension")),
        "{said:?}"
    );
    assert!(
        said.iter()
            .any(|l| l.contains("language=en prompts=enter-pin")),
        "{said:?}"
    );
    call.heard.assert_prompts_heard();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hd_login_6_7_excluded_and_location_phones_refuse_with_prompt() {
    if !sipp_available() {
        return;
    }
    let server = start();
    office(&server).await;
    let call = dial(&server, &DECT, "*44", &[], Hangup::Server(10));
    assert!(call.passed, "{}\n{}", call.output, server.output());
    assert!(spoke(&server, "model-excluded"), "{:?}", prompts(&server));
    let call = dial(&server, &LOBBY, "*45", &[], Hangup::Server(10));
    assert!(call.passed, "{}", call.output);
    assert!(spoke(&server, "location-phone"), "{:?}", prompts(&server));
    call.heard.assert_prompts_heard();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hd_login_4_allocation_full_is_spoken() {
    if !sipp_available() {
        return;
    }
    let server = start();
    let api = office(&server).await;
    // 1006 has allocation 2: two desks by API, the third by phone is refused.
    for device in [DESK2.ext, DECT.ext] {
        api.post(
            &format!("/domains/{DOMAIN}/devices/{device}/login"),
            json!({ "extension": "1006" }),
        )
        .await;
    }
    let steps = vec![
        Step::Pause(500),
        Step::Info("1006#"),
        Step::Pause(300),
        Step::Info("7777#"),
        Step::Pause(1500),
        Step::Info("2"),
    ];
    let call = dial(&server, &DESK, "*44", &steps, Hangup::Server(15));
    assert!(call.passed, "{}\n{}", call.output, server.output());
    assert!(spoke(&server, "allocation-full"), "{:?}", prompts(&server));
    assert_eq!(owner(&api, DESK.ext).await, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hd_sec_2_five_wrong_pins_lock_out_across_phones() {
    if !sipp_available() {
        return;
    }
    let server = start();
    let api = office(&server).await;
    // Three wrong PINs on one phone (then goodbye), two on another: the fifth locks.
    let three = vec![
        Step::Pause(500),
        Step::Info("1004#"),
        Step::Info("1111#"),
        Step::Pause(1500),
        Step::Info("1004#"),
        Step::Info("1112#"),
        Step::Pause(1500),
        Step::Info("1004#"),
        Step::Info("1113#"),
    ];
    let call = dial(&server, &DESK, "*44", &three, Hangup::Server(15));
    assert!(call.passed, "{}\n{}", call.output, server.output());
    let two = vec![
        Step::Pause(500),
        Step::Info("1004#"),
        Step::Info("1114#"),
        Step::Pause(1500),
        Step::Info("1004#"),
        Step::Info("1115#"),
    ];
    let call = dial(&server, &DESK2, "*44", &two, Hangup::Server(15));
    assert!(call.passed, "{}", call.output);
    assert!(spoke(&server, "locked"), "{:?}", prompts(&server));
    // The right PIN is now refused too, and the API says 423.
    let right = vec![Step::Pause(500), Step::Info("1004#"), Step::Info("4321#")];
    let call = dial(&server, &DESK2, "*44", &right, Hangup::Server(15));
    assert!(call.passed, "{}", call.output);
    assert_eq!(owner(&api, DESK2.ext).await, None);
    let (status, _) = api
        .with_token(None)
        .send(
            reqwest::Method::POST,
            "/auth/login",
            Some(&json!({ "domain": DOMAIN, "extension": "1004", "pin": "4321" })),
        )
        .await;
    assert!(status.as_u16() == 423 || status.as_u16() == 429, "{status}");
    let audit = api
        .get(&format!("/domains/{DOMAIN}/audit"))
        .await
        .to_string();
    assert!(audit.contains("locked_out"), "{audit}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_caller_is_hung_up_and_port_freed() {
    if !sipp_available() {
        return;
    }
    let server = start();
    office(&server).await;
    // Never a digit: three time-outs, goodbye, BYE from the server.
    let call = dial(&server, &DESK, "*44", &[], Hangup::Server(30));
    assert!(call.passed, "{}\n{}", call.output, server.output());
    assert!(spoke(&server, "goodbye"), "{:?}", prompts(&server));
    // A caller who keeps pressing * never finishes an entry: the session limit ends it.
    let stars: Vec<Step> = (0..30)
        .flat_map(|_| [Step::Info("*"), Step::Pause(1000)])
        .collect();
    let call = dial(&server, &DESK, "*44", &stars, Hangup::Server(40));
    // SIPp may still be sending INFOs when the BYE comes: success is not required, the
    // server's BYE is.
    assert!(call.output.contains("BYE sip:"), "{}", call.output);
    eventually(Duration::from_secs(10), "IVR calls to end", || async {
        server
            .output()
            .matches("IVR call ended")
            .count()
            .ge(&2)
            .then_some(())
    })
    .await;
    // Both calls' RTP ports are back in the pool.
    let metrics = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap_or_else(|e| panic!("client: {e}"))
        .get(format!("{}/metrics", server.url()))
        .send()
        .await
        .unwrap_or_else(|e| panic!("metrics: {e}"))
        .text()
        .await
        .unwrap_or_default();
    assert!(
        metrics.contains("hotdesk_ivr_rtp_ports_in_use 0"),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hd_login_9_activate_phone_calls_the_device() {
    if !sipp_available() {
        return;
    }
    let server = start();
    let api = office(&server).await;
    // The phone registers and answers; its answering side sends the log-in digits.
    let dir = block_in_place(|| scratch(&server.dir(), "activate"));
    let ear = RtpEar::new();
    let answer = activate_answer_scenario(
        &dir,
        ear.port,
        &[(800, "1004#"), (300, "4321#"), (1500, "2")],
    );
    let mut phone = answering_phone(&server, &dir, (DESK.ext, DESK.password), &answer, 15);
    let mut events = crate::register::subscribe(&server).await;
    let mut buffer = String::new();
    eventually(Duration::from_secs(10), "the phone to register", || async {
        let regs = api
            .get(&format!("/domains/{DOMAIN}/devices/{}", DESK.ext))
            .await
            .to_string();
        regs.contains("127.0.0.1").then_some(())
    })
    .await;
    let record = api
        .post(
            &format!("/domains/{DOMAIN}/users/1004/activate"),
            json!({ "device": DESK.ext }),
        )
        .await;
    let id = field(&record, "id");
    assert_eq!(field(&record, "state"), "calling");
    let path = format!("/domains/{DOMAIN}/users/1004/activations/{id}");
    let state = eventually(
        Duration::from_secs(30),
        "the activation to finish",
        || async {
            let record = api.get(&path).await;
            let state = field(&record, "state");
            (state == "activated" || state == "failed").then_some(record)
        },
    )
    .await;
    let log = std::fs::read_to_string(dir.join("answer.msg")).unwrap_or_default();
    assert_eq!(
        field(&state, "state"),
        "activated",
        "{state}\n{log}\n{}",
        server.output()
    );
    assert_eq!(owner(&api, DESK.ext).await.as_deref(), Some("1004"));
    // The result is on /events too, for the portal's live status.
    let activated =
        crate::register::next_event_where(&mut events, &mut buffer, "activation", |e| {
            field(e, "id") == id && field(e, "state") == "activated"
        })
        .await;
    assert_eq!(field(&activated, "device"), DESK.ext, "{activated}");
    let audit = api
        .get(&format!("/domains/{DOMAIN}/audit"))
        .await
        .to_string();
    assert!(audit.contains("activate_phone"), "{audit}");
    block_in_place(|| phone.kill());
    ear.finish().assert_prompts_heard();
}

/// SIPp as a hot-desk phone `(extension, password)` that registers and answers the
/// server's calls with `answer` (an `-oocsf` scenario), registered for `secs` seconds;
/// output in `dir` (`answer.out`, `answer.msg`). Killed when dropped.
pub(crate) fn answering_phone(
    server: &Server,
    dir: &Path,
    (ext, password): (&str, &str),
    answer: &Path,
    secs: u64,
) -> Peer {
    let inf = dir.join("answer.csv");
    let _ = std::fs::write(&inf, peers::users_csv([(ext, password)]));
    let target = server.sip_udp.unwrap_or_else(|| panic!("no SIP/UDP"));
    let mut command = Command::new("sipp");
    command
        .arg(target.to_string())
        .arg("-sf")
        .arg(peers::scenario("uas_register_then_answer.xml"))
        .arg("-oocsf")
        .arg(answer)
        .arg("-inf")
        .arg(&inf)
        .args(["-key", "domain", DOMAIN, "-auth_uri", DOMAIN])
        .args(["-i", "127.0.0.1", "-p", &free_port().to_string()])
        .args(["-mi", "127.0.0.1", "-mp", &free_media_port().to_string()])
        .args(["-m", "1", "-d", &(secs * 1000).to_string()])
        .args(["-timeout", &format!("{}s", secs + 60), "-nostdin"])
        .args(["-trace_msg", "-message_file"])
        .arg(dir.join("answer.msg"))
        .current_dir(dir);
    Peer::spawn("sipp", command, &dir.join("answer.out"))
}

/// The phone's side of an Activate Phone call: ring, answer, key each `(pause ms, keys)`
/// as INFO (e.g. extension#, PIN#, 2 to confirm), take the server's BYE.
pub(crate) fn activate_answer_scenario(dir: &Path, rtp_port: u16, keys: &[(u64, &str)]) -> PathBuf {
    let mut steps = String::new();
    let mut cseq = 0;
    for &(pause, keys) in keys {
        let _ = writeln!(steps, "  <pause milliseconds=\"{pause}\"/>");
        for key in keys.chars() {
            cseq += 1;
            let _ = write!(
                steps,
                "  <send retrans=\"500\" start_txn=\"info{cseq}\">\n    <![CDATA[\n\n      \
                 INFO [next_url] SIP/2.0\n      \
                 Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]\n      \
                 [routes]\n      Max-Forwards: 70\n      \
                 From: [$to]\n      To: [$from]\n      Call-ID: [call_id]\n      \
                 CSeq: {cseq} INFO\n      Content-Type: application/dtmf-relay\n      \
                 Content-Length: [len]\n\n      Signal={key}\n      Duration=160\n\n    ]]>\n  \
                 </send>\n  <recv response=\"200\" response_txn=\"info{cseq}\"/>\n  \
                 <pause milliseconds=\"250\"/>\n"
            );
        }
    }
    let xml = format!(
        r#"<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<!-- Generated by tests/e2e/ivr.rs: the answering phone of an Activate Phone call. -->
<scenario name="activate_answer">
  <recv request="INVITE" rrs="true">
    <action>
      <ereg regexp="^.*$" search_in="hdr" header="From:" assign_to="from"/>
      <ereg regexp="^.*$" search_in="hdr" header="To:" assign_to="to0"/>
    </action>
  </recv>
  <send>
    <![CDATA[

      SIP/2.0 180 Ringing
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      [last_Record-Route:]
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
      Content-Length: 0

    ]]>
  </send>
  <pause milliseconds="1000"/>
  <send>
    <![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      [last_Record-Route:]
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=- 1 1 IN IP4 127.0.0.1
      s=-
      c=IN IP4 127.0.0.1
      t=0 0
      m=audio {rtp_port} RTP/AVP 0 101
      a=rtpmap:0 PCMU/8000
      a=rtpmap:101 telephone-event/8000

    ]]>
  </send>
  <recv request="ACK">
    <action>
      <assignstr assign_to="to" value="[$to0];tag=[pid]SIPpTag01[call_number]"/>
    </action>
  </recv>
{steps}
  <recv request="BYE"/>
  <send>
    <![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
</scenario>
"#
    );
    let path = dir.join("activate_answer.xml");
    std::fs::write(&path, xml).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    path
}

/// A headless baresip registering `phone` through `server`, with its control socket (PEERS.md).
fn baresip(dir: &Path, server: SocketAddr, phone: &Phone) -> (Peer, u16) {
    let sip_port = free_port();
    let ctrl_port = free_port();
    let config = format!(
        "module_path /usr/lib/baresip/modules\n\
         module g711.so\n\
         module ausine.so\n\
         module_app account.so\n\
         module_app menu.so\n\
         module_app ctrl_tcp.so\n\
         ctrl_tcp_listen 127.0.0.1:{ctrl_port}\n\
         sip_listen 127.0.0.1:{sip_port}\n\
         net_interface 127.0.0.1\n\
         audio_player aufile,/dev/null\n\
         audio_source ausine,440\n\
         ausrc_srate 48000\n\
         ausrc_channels 2\n\
         auplay_srate 48000\n\
         auplay_channels 2\n"
    );
    let accounts = format!(
        "<sip:{}@{DOMAIN};transport=udp>;auth_pass={};\
         outbound=\"sip:{server};transport=udp\";regint=60\n",
        phone.ext, phone.password
    );
    let _ = std::fs::write(dir.join("config"), config);
    let _ = std::fs::write(dir.join("accounts"), accounts);
    let mut command = Command::new("baresip");
    command.arg("-4").arg("-f").arg(dir);
    (
        Peer::spawn("baresip", command, &dir.join("baresip.log")),
        ctrl_port,
    )
}

/// Sends one netstring-framed JSON command to baresip's ctrl_tcp (PEERS.md).
fn baresip_command(port: u16, command: &str, params: &str) {
    use std::io::Write as _;
    let body = json!({ "command": command, "params": params, "token": "t" }).to_string();
    for _ in 0..50 {
        if let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            let _ = stream.write_all(format!("{}:{body},", body.len()).as_bytes());
            std::thread::sleep(Duration::from_millis(100));
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("baresip control port {port} not reachable");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hd_login_1_baresip_logs_in_with_rfc4733() {
    if !peers::available("baresip") {
        return;
    }
    let server = start();
    let api = office(&server).await;
    let dir = block_in_place(|| scratch(&server.dir(), "baresip"));
    let target = server.sip_udp.unwrap_or_else(|| panic!("no SIP/UDP"));
    let (mut phone, ctrl) = block_in_place(|| baresip(&dir, target, &DESK));
    // Generous: baresip starts slowly on a loaded machine, and its log and the server's
    // output say why if it never registers.
    let context = || {
        let log = std::fs::read_to_string(dir.join("baresip.log")).unwrap_or_default();
        format!("baresip:\n{log}\nserver:\n{}", server.output())
    };
    eventually_or(
        Duration::from_secs(40),
        "baresip to register",
        context,
        || async {
            let device = api
                .get(&format!("/domains/{DOMAIN}/devices/{}", DESK.ext))
                .await;
            (!device["registration"].is_null()).then_some(())
        },
    )
    .await;
    block_in_place(|| {
        baresip_command(ctrl, "dial", &format!("sip:*44@{DOMAIN}"));
        std::thread::sleep(Duration::from_millis(2500));
        for (keys, pause) in [("1004#", 300), ("4321#", 2000), ("2", 0)] {
            for key in keys.chars() {
                baresip_command(ctrl, "sndcode", &key.to_string());
                std::thread::sleep(Duration::from_millis(400));
            }
            std::thread::sleep(Duration::from_millis(pause));
        }
    });
    let mut logged_in = None;
    for _ in 0..100 {
        logged_in = owner(&api, DESK.ext).await;
        if logged_in.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let log = std::fs::read_to_string(dir.join("baresip.log")).unwrap_or_default();
    assert_eq!(
        logged_in.as_deref(),
        Some("1004"),
        "{log}\n{}",
        server.output()
    );
    assert!(spoke(&server, "logged-in"), "{:?}", prompts(&server));
    block_in_place(|| phone.kill());
}

/// A SIPp command against the server with `phone`'s credentials; messages traced to
/// `dir/NAME.msg`.
fn sipp_as(server: &Server, dir: &Path, phone: &Phone, args: &[&str], name: &str) -> Command {
    let target = server.sip_udp.unwrap_or_else(|| panic!("no SIP/UDP"));
    let inf = dir.join(format!("{name}.csv"));
    let _ = std::fs::write(&inf, peers::users_csv([(phone.ext, phone.password)]));
    let mut command = Command::new("sipp");
    command
        .arg(target.to_string())
        .arg("-inf")
        .arg(&inf)
        .args(["-key", "domain", DOMAIN, "-auth_uri", DOMAIN])
        .args(["-i", "127.0.0.1", "-p", &free_port().to_string()])
        .args(args)
        .args(["-nostdin", "-trace_msg", "-message_file"])
        .arg(dir.join(format!("{name}.msg")))
        .current_dir(dir);
    command
}

/// `phone`'s own SIPp, registered (the API shows it) and answering whatever rings it
/// until killed; traced as `dir/NAME.msg`.
async fn registered_phone(
    server: &Server,
    api: &Api,
    dir: &Path,
    phone: &Phone,
    name: &str,
) -> Peer {
    let register = peers::scenario("uas_register_then_answer.xml");
    let answer = peers::scenario("uas_answer.xml");
    let args = [
        "-sf", &register, "-oocsf", &answer, "-m", "1", "-d", "120000",
    ];
    let command = sipp_as(server, dir, phone, &args, name);
    let peer = Peer::spawn("sipp", command, &dir.join(format!("{name}.out")));
    eventually(
        Duration::from_secs(10),
        "the desk phone to register",
        || async {
            let device = api
                .get(&format!("/domains/{DOMAIN}/devices/{}", phone.ext))
                .await;
            (!device["registration"].is_null()).then_some(())
        },
    )
    .await;
    peer
}

/// `phone` calls `callee` with scenario `xml` (`uac_invite.xml` hangs up after `hold_ms`,
/// `uac_invite_refused.xml` expects a refusal); runs until [`Peer::wait`], traced as
/// `dir/NAME.msg`.
fn call_from(
    server: &Server,
    dir: &Path,
    phone: &Phone,
    callee: &str,
    xml: &str,
    hold_ms: u64,
    name: &str,
) -> Peer {
    let xml = peers::scenario(xml);
    let hold = hold_ms.to_string();
    let args = ["-sf", &xml, "-s", callee, "-m", "1", "-d", &hold];
    let args = [&args[..], &["-timeout", "90s", "-timeout_error"]].concat();
    let command = sipp_as(server, dir, phone, &args, name);
    Peer::spawn("sipp", command, &dir.join(format!("{name}.out")))
}

/// `phone` calls `callee` and is refused (any final failure); returns the message trace.
fn refused_call(server: &Server, dir: &Path, phone: &Phone, callee: &str, name: &str) -> String {
    let xml = "uac_invite_refused.xml";
    let mut caller = call_from(server, dir, phone, callee, xml, 0, name);
    let code = block_in_place(|| caller.wait(Duration::from_secs(100)));
    let trace = messages(dir, name);
    assert_eq!(code, Some(0), "{trace}\n{}", server.output());
    trace
}

/// Everything SIPp run `name` sent and received so far.
fn messages(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(format!("{name}.msg"))).unwrap_or_default()
}

/// Requests of `method` that SIPp run `name` received.
fn received(dir: &Path, name: &str, method: &str) -> usize {
    requests_received(&messages(dir, name), method)
}

/// How many calls rang SIPp run `name`.
fn rang(dir: &Path, name: &str) -> usize {
    received(dir, name, "INVITE")
}

/// HD-LOGIN-1 with HD-ROUTE-1 and -3: after `*44` at desk 94001, a call to 1004 rings that
/// desk's phone with the caller named; after `*45` (HD-LOGOUT-1) it no longer does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hd_login_1_after_star44_calls_follow_the_user_to_the_desk() {
    if !sipp_available() {
        return;
    }
    let server = start();
    let api = office(&server).await;
    let dir = block_in_place(|| scratch(&server.dir(), "follow"));
    // The desk's phone registers and answers whatever rings it.
    let mut desk_phone = registered_phone(&server, &api, &dir, &DESK, "desk").await;
    // 1004 logs in at the desk from the phone.
    let login = dial(&server, &DESK, "*44", &login_steps(), Hangup::Server(15));
    assert!(login.passed, "{}\n{}", login.output, server.output());
    assert_eq!(owner(&api, DESK.ext).await.as_deref(), Some("1004"));
    // 2013 sits at the other desk (by the API) and calls 1004.
    api.post(
        &format!("/domains/{DOMAIN}/devices/{}/login", DESK2.ext),
        json!({ "extension": "2013" }),
    )
    .await;
    let mut caller = call_from(
        &server,
        &dir,
        &DESK2,
        "1004",
        "uac_invite.xml",
        500,
        "caller",
    );
    let code = block_in_place(|| caller.wait(Duration::from_secs(45)));
    let desk_log = std::fs::read_to_string(dir.join("desk.msg")).unwrap_or_default();
    assert_eq!(code, Some(0), "{desk_log}\n{}", server.output());
    // The desk's phone got the call, with 2013 (who sits at 94002) as the caller.
    let ringing = desk_log
        .split("message received")
        .find(|m| m.contains("INVITE sip:"))
        .unwrap_or_else(|| panic!("the desk never rang:\n{desk_log}"));
    assert!(ringing.contains("2013"), "caller identity: {ringing}");
    // HD-LOGOUT-1: 1004 logs out at the desk from the phone; the desk, still registered,
    // no longer rings for 1004, who has no phone of their own now (480).
    let steps = vec![Step::Pause(500), Step::Info("4321#")];
    let logout = dial(&server, &DESK, "*45", &steps, Hangup::Server(15));
    assert!(logout.passed, "{}\n{}", logout.output, server.output());
    assert_eq!(owner(&api, DESK.ext).await, None);
    let device = api
        .get(&format!("/domains/{DOMAIN}/devices/{}", DESK.ext))
        .await;
    assert!(!device["registration"].is_null(), "desk still registered");
    let before = rang(&dir, "desk");
    let after = refused_call(&server, &dir, &DESK2, "1004", "after");
    assert!(after.contains("SIP/2.0 480"), "{after}");
    assert_eq!(
        rang(&dir, "desk"),
        before,
        "the desk rang after *45: {}",
        messages(&dir, "desk")
    );
    block_in_place(|| desk_phone.kill());
}

/// How long the call in progress of the HD-LOGOUT-3 tests lasts: long enough for the
/// feature-code call and a new call to 1004 to happen while it is up.
const LONG_CALL_MS: u64 = 25_000;

/// HD-LOGOUT-3 set-up: 1004 at desk 94001 (whose phone answers, traced as `desk`), 2013 at
/// 94002 calling 1004 for [`LONG_CALL_MS`] (traced as `caller`); returns once the call is
/// answered and acknowledged at the desk.
async fn call_in_progress(server: &Server, api: &Api, dir: &Path) -> (Peer, Peer) {
    let desk_phone = registered_phone(server, api, dir, &DESK, "desk").await;
    for (desk, user) in [(&DESK, "1004"), (&DESK2, "2013")] {
        api.post(
            &format!("/domains/{DOMAIN}/devices/{}/login", desk.ext),
            json!({ "extension": user }),
        )
        .await;
    }
    let caller = call_from(
        server,
        dir,
        &DESK2,
        "1004",
        "uac_invite.xml",
        LONG_CALL_MS,
        "caller",
    );
    calls_up(server, 1).await;
    eventually(Duration::from_secs(15), "the ACK at the desk", || {
        let acked = received(dir, "desk", "ACK") > 0;
        async move { acked.then_some(()) }
    })
    .await;
    (desk_phone, caller)
}

/// HD-LOGOUT-3 end of a call: the call (the only one left) is still up, then ends by the
/// caller's BYE, relayed once to the desk, and no call or dialog is left.
async fn call_lasts_until_bye(server: &Server, dir: &Path, mut caller: Peer) {
    assert_eq!(
        metric(&server.url(), "hotdesk_calls_active").await,
        Some(1),
        "the call in progress is gone"
    );
    assert_eq!(received(dir, "desk", "BYE"), 0, "the desk's call was cut");
    let code = block_in_place(|| caller.wait(Duration::from_secs(100)));
    assert_eq!(
        code,
        Some(0),
        "call cut by the log-out:\n{}\n{}",
        messages(dir, "caller"),
        server.output()
    );
    eventually(Duration::from_secs(10), "the BYE at the desk", || {
        let seen = received(dir, "desk", "BYE");
        async move { (seen >= 1).then_some(()) }
    })
    .await;
    assert_eq!(received(dir, "desk", "BYE"), 1, "{}", messages(dir, "desk"));
    no_calls_left(server).await;
}

/// The audit trail holds 1004's log-out from desk 94001 for `reason`, made from a phone
/// (`phone_code`), as an API log-out would be.
async fn desk_logout_audited(api: &Api, reason: &str) {
    let audit = api.list(&format!("/domains/{DOMAIN}/audit")).await;
    let row = audit
        .iter()
        .find(|r| field(r, "kind") == "logout" && field(r, "device") == DESK.ext)
        .unwrap_or_else(|| panic!("no log-out of {} audited: {audit:?}", DESK.ext));
    assert_eq!(field(row, "user"), "1004", "{row}");
    assert_eq!(row["detail"]["reason"], reason, "{row}");
    assert!(row.to_string().contains("phone_code"), "{row}");
}

/// HD-LOGOUT-3 from the phone: 1004 is talking at desk 94001 when someone there dials
/// `*45` with 1004's PIN (a second SIPp with the desk's credentials): 1004 is logged out
/// at once, audited as `phone_code`, new calls to 1004 no longer ring the desk, and the
/// call in progress lasts until the caller's BYE, which reaches the desk.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hd_logout_3_star45_mid_call_keeps_the_call_until_bye() {
    if !sipp_available() {
        return;
    }
    let server = start();
    let api = office(&server).await;
    let dir = block_in_place(|| scratch(&server.dir(), "logout3-star45"));
    let (mut desk_phone, caller) = call_in_progress(&server, &api, &dir).await;
    let steps = vec![Step::Pause(500), Step::Info("4321#")];
    let logout = dial(&server, &DESK, "*45", &steps, Hangup::Server(15));
    assert!(logout.passed, "{}\n{}", logout.output, server.output());
    assert!(spoke(&server, "thank-you"), "{:?}", prompts(&server));
    assert_eq!(owner(&api, DESK.ext).await, None);
    desk_logout_audited(&api, "user").await;
    // While the call is up, a new call to 1004 is refused (no phone of theirs now) and the
    // desk does not ring.
    let after = refused_call(&server, &dir, &DESK2, "1004", "after");
    assert!(after.contains("SIP/2.0 480"), "{after}");
    assert_eq!(rang(&dir, "desk"), 1, "{}", messages(&dir, "desk"));
    call_lasts_until_bye(&server, &dir, caller).await;
    block_in_place(|| desk_phone.kill());
}

/// HD-LOGOUT-3 with a takeover from the phone: 1004 (one desk allowed) is talking at desk
/// 94001 when someone logs 1004 in at desk 94005 with `*44`: 1004 moves (94001 logged
/// out, audited), a new call to 1004 rings 94005 and not 94001, and the call on 94001
/// lasts until the caller's BYE.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hd_logout_3_star44_takeover_at_another_desk_keeps_the_call_on_the_first() {
    if !sipp_available() {
        return;
    }
    let server = start();
    let api = office(&server).await;
    api.post(
        &format!("/domains/{DOMAIN}/devices"),
        json!({ "mac": "001565000005", "model": "yealink-t46u", "kind": "hotdesk",
                "extension": DESK3.ext, "sip_password": DESK3.password }),
    )
    .await;
    let dir = block_in_place(|| scratch(&server.dir(), "logout3-star44"));
    let mut other_phone = registered_phone(&server, &api, &dir, &DESK3, "other").await;
    let (mut desk_phone, caller) = call_in_progress(&server, &api, &dir).await;
    let login = dial(&server, &DESK3, "*44", &login_steps(), Hangup::Server(15));
    assert!(login.passed, "{}\n{}", login.output, server.output());
    assert!(spoke(&server, "logged-in"), "{:?}", prompts(&server));
    assert_eq!(owner(&api, DESK3.ext).await.as_deref(), Some("1004"));
    assert_eq!(owner(&api, DESK.ext).await, None);
    desk_logout_audited(&api, "moved_elsewhere").await;
    // While the first call is up, a new call to 1004 rings the new desk only.
    let mut second = call_from(
        &server,
        &dir,
        &DESK2,
        "1004",
        "uac_invite.xml",
        500,
        "second",
    );
    let code = block_in_place(|| second.wait(Duration::from_secs(100)));
    assert_eq!(
        code,
        Some(0),
        "{}\n{}",
        messages(&dir, "second"),
        server.output()
    );
    assert_eq!(rang(&dir, "other"), 1, "{}", messages(&dir, "other"));
    assert_eq!(rang(&dir, "desk"), 1, "{}", messages(&dir, "desk"));
    call_lasts_until_bye(&server, &dir, caller).await;
    block_in_place(|| {
        desk_phone.kill();
        other_phone.kill();
    });
}

/// HD-LOGIN-10: an agent who never signed in to the portal is logged in by *44 (calls
/// work) but told they get no queue calls yet; after the first sign-in the notice is gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hd_login_10_offline_agent_hears_no_queue_calls_until_portal_sign_in() {
    if !sipp_available() {
        return;
    }
    let server = start();
    let api = office(&server).await;
    let (status, body) = api
        .send(
            reqwest::Method::PATCH,
            &format!("/domains/{DOMAIN}/users/1004"),
            Some(&json!({ "agent": true })),
        )
        .await;
    assert!(status.is_success(), "{body}");
    let call = dial(&server, &DESK, "*44", &login_steps(), Hangup::Server(15));
    assert!(call.passed, "{}\n{}", call.output, server.output());
    assert_eq!(owner(&api, DESK.ext).await.as_deref(), Some("1004"));
    let said = prompts(&server);
    assert!(
        said.iter()
            .any(|p| p.contains("logged-in") && p.split(',').any(|n| n == "queue-offline")),
        "{said:?}"
    );
    api.post(
        "/auth/login",
        json!({ "domain": DOMAIN, "extension": "1004", "pin": "4321" }),
    )
    .await;
    api.post(
        &format!("/domains/{DOMAIN}/devices/{}/logout", DESK.ext),
        json!({}),
    )
    .await;
    let before = prompts(&server).len();
    let call = dial(&server, &DESK, "*44", &login_steps(), Hangup::Server(15));
    assert!(call.passed, "{}\n{}", call.output, server.output());
    let later = prompts(&server).split_off(before);
    assert!(later.iter().any(|p| p.contains("logged-in")), "{later:?}");
    assert!(
        !later.iter().any(|p| p.contains("queue-offline")),
        "{later:?}"
    );
}

/// Issue 6: with `--sip 0.0.0.0:…` the SDP answer carries `--rtp-address` (here 127.0.0.2,
/// which reaches the wildcard-bound RTP socket over loopback), never `c=0.0.0.0`, and the
/// call works end to end through it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wildcard_sip_listener_offers_the_rtp_address_in_sdp() {
    if !sipp_available() {
        return;
    }
    let mut server = block_in_place(|| {
        Server::with(Options {
            sip: SocketAddr::from(([0, 0, 0, 0], 0)),
            args: vec!["--rtp-address".into(), "127.0.0.2".into()],
            env: vec![("HOTDESK_RTP_PORTS".into(), "40200-40299".into())],
            ..Options::default()
        })
    });
    let port = server.sip_udp.map_or(0, |a| a.port());
    server.sip_udp = Some(SocketAddr::from(([127, 0, 0, 1], port)));
    let api = office(&server).await;
    let call = dial(&server, &DESK, "*44", &login_steps(), Hangup::Server(15));
    assert!(call.passed, "{}\n{}", call.output, server.output());
    assert!(
        call.output.contains("c=IN IP4 127.0.0.2"),
        "SDP answer should carry --rtp-address: {}",
        call.output
    );
    assert!(!call.output.contains("c=IN IP4 0.0.0.0"), "{}", call.output);
    assert_eq!(owner(&api, DESK.ext).await.as_deref(), Some("1004"));
    call.heard.assert_prompts_heard();
}
