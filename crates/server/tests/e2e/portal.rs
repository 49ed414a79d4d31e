//! The web portal in a real browser: `tests/browser/portal.mjs` drives Debian's Chromium
//! (playwright-core, no browser download) against `hotdesk serve --demo`. It checks
//! sign-in, Activate Phone answered by a SIPp phone registered as desk 5401 that keys the
//! user's extension, PIN and confirmation (HD-LOGIN-9), the desk board updating live when
//! a SIPp phone at desk 94001 dials *44 in another process (HD-LOGIN-1), remote log-out
//! (HD-LOGOUT-4), the allocation refusal (HD-LOGIN-5), CSV import with a bad row, the
//! device range check (HD-LOGIN-11), my keys per model (HD-PROV-4), template preview
//! (HD-PROV-5), template apply and resync (HD-PROV-2), soft keys (HD-PROV-3), my recent
//! calls (a refused SIPp call placed before the browser starts, HD-CDR-1), a keyboard-only
//! walk-through, and security: no session, CSRF, another domain's manager (HD-SEC-1,
//! HD-SEC-4), labels and WCAG AA contrast on the main pages. Screenshots go to
//! `$CARGO_TARGET_DIR/portal-screenshots/`.
//!
//! Node runs in its own process group, which is killed when the test ends (pass or fail),
//! so a SIPp it started cannot outlive the test; the answering phone is a [`Peer`].
//!
//! Needs `/usr/bin/chromium`, `sipp` and `npm ci` in `tests/browser` (all done by
//! `scripts/test`); without them the test is skipped, unless `HOTDESK_REQUIRE_BROWSER=1`.

use std::net::UdpSocket;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::json;
use tokio::task::block_in_place;

use crate::harness::{Options, Server, BIN};
use crate::ivr::{self, activate_answer_scenario, scenario, Hangup, Step};
use crate::peers::{self, eventually, free_media_port, free_port, scratch, Peer, Sipp};

const DOMAIN: &str = "acme.test";
/// Desk answering Activate Phone, and who activates it (demo: Erin, PIN 6924).
const ACTIVATE_DESK: &str = "5401";
const ACTIVATE_KEYS: [(u64, &str); 3] = [(800, "1005#"), (300, "6924#"), (1500, "2")];
/// Desk whose phone dials *44, and who logs in there (demo: Bob, PIN 3691).
const STAR44_DESK: &str = "94001";
/// Desk Grace calls from before the browser starts, for "My recent calls".
const CALL_DESK: &str = "94004";

const CHROMIUM: &str = "/usr/bin/chromium";

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

/// Where screenshots go: beside the build output, kept after the test.
fn screenshot_dir() -> PathBuf {
    // CARGO_BIN_EXE_hotdesk is <target>/<profile>/hotdesk.
    let target = Path::new(BIN)
        .parent()
        .and_then(Path::parent)
        .map_or_else(std::env::temp_dir, Path::to_path_buf);
    target.join("portal-screenshots")
}

/// Whether the browser, SIPp and playwright-core are installed; panics if required but
/// missing.
fn browser_ready() -> bool {
    let required = std::env::var("HOTDESK_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
    let missing: Vec<&str> = [
        (!Path::new(CHROMIUM).exists()).then_some(CHROMIUM),
        (!browser_dir().join("node_modules/playwright-core").exists())
            .then_some("tests/browser/node_modules (npm ci)"),
        Command::new("node")
            .arg("--version")
            .output()
            .is_err()
            .then_some("node"),
        Command::new("sipp")
            .arg("-v")
            .output()
            .is_err()
            .then_some("sipp"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if missing.is_empty() {
        return true;
    }
    assert!(
        !required,
        "HOTDESK_REQUIRE_BROWSER=1 but missing: {missing:?}"
    );
    eprintln!("skipped: browser tests need {missing:?}");
    false
}

/// A demo phone's SIP password, from the demo's start-up instructions
/// (`  94001  yealink-t46u … password XYZ`).
fn demo_password(server: &Server, ext: &str) -> String {
    // Printed once the server is up, after its `listening` lines; the trunk line ends it.
    server.wait_for_line("Trunk pstn");
    server
        .output()
        .lines()
        .find(|l| l.trim_start().starts_with(&format!("{ext} ")) && l.contains(" password "))
        .and_then(|l| l.rsplit(' ').next())
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("no password for {ext} in:\n{}", server.output()))
}

/// Kills a process group when dropped: whatever node started is gone when the test ends.
struct Group(u32);

impl Drop for Group {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.0)])
            .stderr(Stdio::null())
            .status();
    }
}

/// The phone at `ACTIVATE_DESK`: registers, then answers the server's Activate Phone call
/// and keys Erin's extension, PIN and confirmation as SIP INFO.
fn answering_phone(server: &Server, dir: &Path, rtp_port: u16) -> Peer {
    let answer = activate_answer_scenario(dir, rtp_port, &ACTIVATE_KEYS);
    let password = demo_password(server, ACTIVATE_DESK);
    ivr::answering_phone(server, dir, (ACTIVATE_DESK, &password), &answer, 300)
}

/// The SIPp run node starts while the board is open: desk `STAR44_DESK` dials *44 and
/// keys Bob's extension, PIN and confirmation. JSON `{args, cwd, log}`.
fn star44_command(server: &Server, dir: &Path, rtp_port: u16) -> String {
    let steps = [
        Step::Pause(500),
        Step::Info("1002#"),
        Step::Pause(300),
        Step::Info("3691#"),
        Step::Pause(1500),
        Step::Info("2"),
    ];
    let xml = scenario(dir, rtp_port, &steps, Hangup::Server(20));
    let inf = dir.join("star44.csv");
    let password = demo_password(server, STAR44_DESK);
    let _ = std::fs::write(&inf, peers::users_csv([(STAR44_DESK, password.as_str())]));
    let target = server.sip_udp.unwrap_or_else(|| panic!("no SIP/UDP"));
    let path = |p: &Path| p.display().to_string();
    let args = [
        target.to_string(),
        "-sf".into(),
        path(&xml),
        "-inf".into(),
        path(&inf),
        "-key".into(),
        "domain".into(),
        DOMAIN.into(),
        "-auth_uri".into(),
        DOMAIN.into(),
        "-s".into(),
        "*44".into(),
        "-i".into(),
        "127.0.0.1".into(),
        "-p".into(),
        free_port().to_string(),
        "-mi".into(),
        "127.0.0.1".into(),
        "-mp".into(),
        free_media_port().to_string(),
        "-m".into(),
        "1".into(),
        "-timeout".into(),
        "60s".into(),
        "-timeout_error".into(),
        "-nostdin".into(),
        "-trace_msg".into(),
        "-message_file".into(),
        path(&dir.join("star44.msg")),
    ];
    json!({ "args": args, "cwd": path(dir), "log": path(&dir.join("star44.out")) }).to_string()
}

/// A call for "My recent calls": Grace (1007), logged in to desk `CALL_DESK` for it, calls
/// Carol (1003), who has no phone; the refusal leaves a CDR naming Grace (HD-CDR-1).
async fn recent_call(server: &Server, dir: &Path) {
    let api = server.api();
    let desk = format!("/domains/{DOMAIN}/devices/{CALL_DESK}");
    api.post(&format!("{desk}/login"), json!({ "extension": "1007" }))
        .await;
    let target = server.sip_udp.unwrap_or_else(|| panic!("no SIP/UDP"));
    let password = block_in_place(|| demo_password(server, CALL_DESK));
    let call = Sipp::new(
        target,
        "uac_invite_refused.xml",
        DOMAIN,
        peers::users_csv([(CALL_DESK, password.as_str())]),
    );
    let run = block_in_place(|| call.run_with(dir, &["-s", "1003"]));
    assert!(
        run.passed(),
        "Grace's call:\n{}\n{}",
        run.output,
        run.messages
    );
    api.post(&format!("{desk}/logout"), json!({})).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn portal_in_chromium() {
    if !browser_ready() {
        return;
    }
    let server = block_in_place(|| {
        Server::with(Options {
            demo: true,
            ..Options::default()
        })
    });
    let shots = screenshot_dir();
    let dir = block_in_place(|| scratch(&server.dir(), "portal"));
    // The server's prompts need somewhere to go; nobody listens to them here.
    let rtp = UdpSocket::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("rtp: {e}"));
    let rtp_port = rtp.local_addr().map(|a| a.port()).unwrap_or(0);
    let mut phone = block_in_place(|| answering_phone(&server, &dir, rtp_port));
    let api = server.api();
    eventually(
        Duration::from_secs(15),
        "the Activate Phone desk to register",
        || async {
            let device = api
                .get(&format!("/domains/{DOMAIN}/devices/{ACTIVATE_DESK}"))
                .await;
            (!device["registration"].is_null()).then_some(())
        },
    )
    .await;
    recent_call(&server, &dir).await;
    let star44 = block_in_place(|| star44_command(&server, &dir, rtp_port));
    let output = block_in_place(|| {
        let child = Command::new("node")
            .arg("portal.mjs")
            .current_dir(browser_dir())
            .env("HOTDESK_URL", server.url())
            .env("HOTDESK_TOKEN", server.admin_token())
            .env("HOTDESK_DOMAIN", DOMAIN)
            .env("HOTDESK_STAR44", &star44)
            .env("SCREENSHOT_DIR", &shots)
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("run node: {e}"));
        let _group = Group(child.id());
        child
            .wait_with_output()
            .unwrap_or_else(|e| panic!("wait for node: {e}"))
    });
    block_in_place(|| phone.kill());
    drop(rtp);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    let sipp_logs = ["answer.out", "answer.msg", "star44.out", "star44.msg"]
        .map(|name| {
            let text = std::fs::read_to_string(dir.join(name)).unwrap_or_default();
            format!("--- {name}\n{text}")
        })
        .join("\n");
    assert!(
        output.status.success(),
        "browser checks failed:\n{stdout}\n{stderr}\nSIPp:\n{sipp_logs}\nserver output:\n{}",
        server.output()
    );
    assert!(stdout.contains("browser checks passed"), "{stdout}");
    for name in [
        "signin",
        "phones",
        "board",
        "activate-phone",
        "my-keys",
        "my-calls",
        "admin-users",
        "admin-devices",
        "admin-templates",
        "admin-templates-apply",
    ] {
        assert!(
            shots.join(format!("{name}.png")).exists(),
            "screenshot {name} saved"
        );
    }
}
