//! Real SIP peers for the end-to-end tests: SIPp runs and baresip instances, each spawned
//! with bounded time-outs and killed when dropped. A missing tool skips the test with a loud
//! message, or fails it when `CI` is set.
#![allow(dead_code, unreachable_pub)]

use std::fs;
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};

/// Where the scenario files live.
pub fn scenario(name: &str) -> String {
    format!("{}/tests/e2e/sipp/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Whether `tool` is installed. Missing: panics under `CI`, else prints a loud skip note.
pub fn available(tool: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if found {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{tool} is required when CI is set (apt-get install sip-tester baresip)"
    );
    eprintln!("\n*** SKIPPED: {tool} is not installed; this test needs a real SIP peer ***\n");
    false
}

/// A local port free for both UDP and TCP right now (for a server that must keep its SIP
/// port across a restart, or a peer that needs its own).
pub fn free_port() -> u16 {
    for _ in 0..50 {
        let Ok(udp) = UdpSocket::bind("127.0.0.1:0") else {
            continue;
        };
        let Ok(addr) = udp.local_addr() else { continue };
        if TcpListener::bind(addr).is_ok() {
            return addr.port();
        }
    }
    panic!("no free port");
}

/// A base port for a SIPp's media (`-mp`). SIPp binds audio RTP on it and video RTP two
/// above, failing the whole run when either is taken, so the four ports from it are checked
/// free together. Blocks come in turn (different per test process) from 21000–32767: above
/// the server's RTP ports (20000–20999) and below the kernel's ephemeral range, where no
/// other socket of a test lands by chance.
pub fn free_media_port() -> u16 {
    const FIRST: u16 = 21_000;
    const BLOCKS: u16 = (32_768 - FIRST) / 4;
    static NEXT: AtomicU16 = AtomicU16::new(u16::MAX);
    // The first caller seeds the turn from the process id, so test binaries run side by
    // side start far apart.
    let seed = (std::process::id() % u32::from(BLOCKS)) as u16;
    let _ = NEXT.compare_exchange(u16::MAX, seed, Ordering::Relaxed, Ordering::Relaxed);
    for _ in 0..BLOCKS {
        let block = NEXT.fetch_add(1, Ordering::Relaxed) % BLOCKS;
        let base = FIRST + block * 4;
        let held: Vec<UdpSocket> = (base..base + 4)
            .map_while(|port| UdpSocket::bind(("127.0.0.1", port)).ok())
            .collect();
        if held.len() == 4 {
            return base;
        }
    }
    panic!("no four free media ports in {FIRST}-32767");
}

/// A child process, in a process group of its own, killed with the whole group when dropped
/// (Kamailio forks its workers; killing only the main process would leave them running).
pub struct Peer {
    child: Option<Child>,
    name: String,
}

impl Peer {
    /// Spawns `command`, output to `log`.
    pub fn spawn(name: &str, mut command: Command, log: &Path) -> Self {
        let out = fs::File::create(log).unwrap_or_else(|e| panic!("{}: {e}", log.display()));
        let err = out
            .try_clone()
            .unwrap_or_else(|e| panic!("{}: {e}", log.display()));
        let child = command
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {name}: {e}"));
        Self {
            child: Some(child),
            name: name.to_owned(),
        }
    }

    /// Waits up to `limit` for the exit code; kills the child and returns `None` on time-out.
    pub fn wait(&mut self, limit: Duration) -> Option<i32> {
        let child = self.child.as_mut()?;
        let deadline = Instant::now() + limit;
        loop {
            match child.try_wait() {
                Ok(Some(status)) => {
                    self.child = None;
                    return status.code();
                }
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                _ => {
                    eprintln!("{} did not finish within {limit:?}: killed", self.name);
                    self.kill();
                    return None;
                }
            }
        }
    }

    /// Kills the child and everything it forked now.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .stderr(Stdio::null())
                .status();
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The result of one SIPp run.
#[derive(Debug)]
pub struct SippRun {
    /// Exit code (0 = every call succeeded), `None` if killed on time-out.
    pub code: Option<i32>,
    /// SIPp's own output.
    pub output: String,
    /// Every message sent and received (`-trace_msg`).
    pub messages: String,
    /// `<log>` lines (`-trace_logs`).
    pub logs: String,
}

impl SippRun {
    /// True when SIPp reported every call successful.
    pub fn passed(&self) -> bool {
        self.code == Some(0)
    }
}

/// One SIPp client run against `target`.
#[derive(Debug, Clone)]
pub struct Sipp {
    /// The server.
    pub target: SocketAddr,
    /// Scenario file name in `tests/e2e/sipp/`.
    pub scenario: String,
    /// Injection file contents (`-inf`), first line `SEQUENTIAL`.
    pub users: String,
    /// `-key domain` and `-auth_uri`.
    pub domain: String,
    /// Local port (`-p`); 0 picks a free one.
    pub port: u16,
    /// Calls to make (`-m`).
    pub calls: u32,
    /// Calls per second (`-r`).
    pub rate: u32,
    /// `-t t1` for TCP instead of UDP.
    pub tcp: bool,
}

impl Sipp {
    /// A run of `scenario` for one call from a free port, UDP.
    pub fn new(target: SocketAddr, scenario: &str, domain: &str, users: String) -> Self {
        Self {
            target,
            scenario: scenario.to_owned(),
            users,
            domain: domain.to_owned(),
            port: 0,
            calls: 1,
            rate: 10,
            tcp: false,
        }
    }

    /// Runs SIPp in `dir` to completion (bounded: SIPp's own `-timeout`, then a kill).
    pub fn run(&self, dir: &Path) -> SippRun {
        self.run_with(dir, &[])
    }

    /// [`Sipp::run`] with extra SIPp arguments (e.g. `-d MS`, `-aa`).
    pub fn run_with(&self, dir: &Path, extra: &[&str]) -> SippRun {
        let tag = format!("{}-{}", self.scenario.trim_end_matches(".xml"), unique());
        let inf = dir.join(format!("{tag}.csv"));
        fs::write(&inf, &self.users).unwrap_or_else(|e| panic!("{}: {e}", inf.display()));
        let messages = dir.join(format!("{tag}.msg"));
        let logs = dir.join(format!("{tag}.log"));
        let port = if self.port == 0 {
            free_port()
        } else {
            self.port
        };
        let timeout = 30 + self.calls / self.rate.max(1);
        let mut command = Command::new("sipp");
        command
            .arg(self.target.to_string())
            .args(["-sf", &scenario(&self.scenario)])
            .arg("-inf")
            .arg(&inf)
            .args(["-key", "domain", &self.domain, "-auth_uri", &self.domain])
            .args(["-i", "127.0.0.1", "-p", &port.to_string()])
            .args(["-m", &self.calls.to_string(), "-r", &self.rate.to_string()])
            .args([
                "-l",
                "50",
                "-timeout",
                &format!("{timeout}s"),
                "-timeout_error",
            ])
            .args(["-nostdin", "-trace_msg", "-trace_logs"])
            .arg("-message_file")
            .arg(&messages)
            .arg("-log_file")
            .arg(&logs)
            .current_dir(dir);
        if self.tcp {
            command.args(["-t", "t1"]);
        }
        command.args(extra);
        let out = dir.join(format!("{tag}.out"));
        let mut peer = Peer::spawn("sipp", command, &out);
        let code = peer.wait(Duration::from_secs(u64::from(timeout) + 30));
        SippRun {
            code,
            output: fs::read_to_string(&out).unwrap_or_default(),
            messages: fs::read_to_string(&messages).unwrap_or_default(),
            logs: fs::read_to_string(&logs).unwrap_or_default(),
        }
    }
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// An injection file: `SEQUENTIAL`, then `ext;[authentication username=ext password=pw]`.
pub fn users_csv<'a>(rows: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut csv = String::from("SEQUENTIAL\n");
    for (ext, password) in rows {
        csv.push_str(&format!(
            "{ext};[authentication username={ext} password={password}]\n"
        ));
    }
    csv
}

/// A scratch directory inside `base`.
pub fn scratch(base: &Path, name: &str) -> PathBuf {
    let dir = base.join(format!("{name}-{}", unique()));
    fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    dir
}

/// Polls `check` every 100 ms until it returns `Some` or `limit` passes (then panics with
/// `what`). For waiting on state, never for asserting how long something took.
pub async fn eventually<T, F, Fut>(limit: Duration, what: &str, check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    eventually_or(limit, what, String::new, check).await
}

/// [`eventually`], with `context()` (peer logs, server output) in the panic message so a
/// failure on a CI machine says why.
pub async fn eventually_or<T, F, Fut>(
    limit: Duration,
    what: &str,
    context: impl Fn() -> String,
    mut check: F,
) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "gave up waiting for {what}\n{}",
            context()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
