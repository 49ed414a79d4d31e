//! Runs the real `hotdesk` binary for end-to-end tests.
//!
//! [`Server::start`] launches `hotdesk serve` on port 0 for SIP and HTTP with a fresh SQLite
//! database (or a PostgreSQL schema, [`Database::postgres`]), and reads the real ports from
//! the `listening for …` log lines. The child is killed when the [`Server`] is dropped;
//! [`Server::restart`] (SIGTERM, then start again on the same database) and
//! [`Server::kill9`] + [`Server::start_again`] test what survives. [`Api`] is a small JSON
//! client with the admin token; [`Server::cli`] runs the `hotdesk` administrator commands
//! against the running server. [`Options::keep_ports`] makes restarts reuse the ports.
#![allow(dead_code, unreachable_pub)]

use std::io::{BufRead as _, BufReader, Read};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::Value;

/// Path of the binary under test, built by cargo for this test target.
pub const BIN: &str = env!("CARGO_BIN_EXE_hotdesk");
/// How long a start may take before the test fails (debug build, busy 2-core machine).
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// The PostgreSQL the tests use when it answers.
pub const PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// Where the server keeps its data.
#[derive(Debug, Clone)]
pub enum Database {
    /// An SQLite file in the harness's temporary directory.
    Sqlite,
    /// A PostgreSQL URL (with its own schema), plus the schema to drop afterwards.
    Postgres {
        /// URL passed to `--database`.
        url: String,
        /// Schema created for this server.
        schema: String,
    },
}

impl Database {
    /// A fresh schema in the test PostgreSQL, or `None` when PostgreSQL does not answer.
    /// With `HOTDESK_REQUIRE_PG=1` (set by `scripts/test` when PG is up) an unreachable
    /// PostgreSQL is a failure instead of a skip.
    pub async fn postgres() -> Option<Self> {
        let required = std::env::var("HOTDESK_REQUIRE_PG").is_ok_and(|v| v == "1");
        let connect = sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(5))
            .connect(PG_URL)
            .await;
        let pool = match connect {
            Ok(pool) => pool,
            Err(error) if required => panic!("HOTDESK_REQUIRE_PG=1 but {PG_URL}: {error}"),
            Err(error) => {
                eprintln!("skipped: PostgreSQL not reachable at {PG_URL}: {error}");
                return None;
            }
        };
        let schema = format!("e2e_{}_{}", std::process::id(), unique());
        sqlx::query(&format!("CREATE SCHEMA {schema}"))
            .execute(&pool)
            .await
            .unwrap_or_else(|e| panic!("create schema {schema}: {e}"));
        pool.close().await;
        let url = format!("{PG_URL}?options=-csearch_path%3D{schema}");
        Some(Self::Postgres { url, schema })
    }
}

fn unique() -> u32 {
    COUNTER.fetch_add(1, Ordering::Relaxed)
}

/// How to start a server; [`Server::start`] is the common case.
#[derive(Debug, Clone)]
pub struct Options {
    /// Database to use.
    pub database: Database,
    /// Pass `--demo`.
    pub demo: bool,
    /// Extra arguments after `serve`.
    pub args: Vec<String>,
    /// Extra environment for the child.
    pub env: Vec<(String, String)>,
    /// `--sip` address; port 0 (the default) picks a free port.
    pub sip: SocketAddr,
    /// `--http` address; port 0 (the default) picks a free port.
    pub http: SocketAddr,
    /// Restart on the ports the previous run bound, so registered phones and clients
    /// that know the address keep working across [`Server::restart`].
    pub keep_ports: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            database: Database::Sqlite,
            demo: false,
            args: Vec::new(),
            env: Vec::new(),
            sip: SocketAddr::from(([127, 0, 0, 1], 0)),
            http: SocketAddr::from(([127, 0, 0, 1], 0)),
            keep_ports: false,
        }
    }
}

/// A running `hotdesk serve` child process.
pub struct Server {
    child: Option<Child>,
    options: Options,
    dir: tempfile::TempDir,
    database_url: String,
    admin_token: String,
    secret_key: String,
    lines: Arc<Mutex<Vec<String>>>,
    /// The HTTP address it listens on.
    pub http: SocketAddr,
    /// SIP over UDP, once the SIP listener logs it.
    pub sip_udp: Option<SocketAddr>,
    /// SIP over TCP, once the SIP listener logs it.
    pub sip_tcp: Option<SocketAddr>,
}

impl Server {
    /// Starts a server on a fresh SQLite database.
    pub fn start() -> Self {
        Self::with(Options::default())
    }

    /// Starts a server with `options`.
    pub fn with(options: Options) -> Self {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        let database_url = match &options.database {
            Database::Sqlite => format!("sqlite://{}/h.db", dir.path().display()),
            Database::Postgres { url, .. } => url.clone(),
        };
        let mut server = Self {
            child: None,
            options,
            dir,
            database_url,
            admin_token: format!("e2e-admin-{}-{}", std::process::id(), unique()),
            // One key for every run of this server, as an operator would configure it.
            secret_key: "5e".repeat(32),
            lines: Arc::new(Mutex::new(Vec::new())),
            http: SocketAddr::from(([127, 0, 0, 1], 0)),
            sip_udp: None,
            sip_tcp: None,
        };
        server.spawn();
        server
    }

    /// The temporary directory holding the SQLite database and scratch files.
    pub fn dir(&self) -> PathBuf {
        self.dir.path().to_owned()
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.http)
    }

    /// The super-admin bearer token the server was started with.
    pub fn admin_token(&self) -> &str {
        &self.admin_token
    }

    /// A JSON client for `/api/v1` with the admin token.
    pub fn api(&self) -> Api {
        Api::new(&self.url(), Some(&self.admin_token))
    }

    /// Everything the child printed so far (stdout and stderr, every run), one line each.
    pub fn output(&self) -> String {
        self.lines.lock().map(|l| l.join("\n")).unwrap_or_default()
    }

    /// Waits until the child has printed a line containing `needle` (stdout and stderr
    /// are read by separate threads, so a line printed just before `listening for HTTP`
    /// may arrive just after it); returns that line.
    pub fn wait_for_line(&self, needle: &str) -> String {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let found = self
                .lines
                .lock()
                .ok()
                .and_then(|l| l.iter().find(|line| line.contains(needle)).cloned());
            if let Some(line) = found {
                return line;
            }
            assert!(
                Instant::now() < deadline,
                "no line with {needle:?} in:\n{}",
                self.output()
            );
            std::thread::sleep(ms(10));
        }
    }

    /// The process ID of the running child.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// SIGTERM, wait for a clean exit, start again on the same database.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    /// SIGTERM and wait; panics if the server does not exit cleanly within the timeout.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let status = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        assert!(status.is_ok_and(|s| s.success()), "kill -TERM failed");
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            match child.try_wait() {
                Ok(Some(status)) => {
                    assert!(
                        status.success(),
                        "unclean exit {status}:\n{}",
                        self.output()
                    );
                    return;
                }
                Ok(None) if Instant::now() < deadline => std::thread::sleep(ms(20)),
                _ => {
                    let _ = child.kill();
                    panic!("server ignored SIGTERM:\n{}", self.output());
                }
            }
        }
    }

    /// SIGKILL: no shutdown code runs; whatever was acknowledged must already be on disk.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again (after [`Server::kill9`] or [`Server::stop`]).
    pub fn start_again(&mut self) {
        assert!(self.child.is_none(), "server still running");
        self.spawn();
    }

    /// Runs `hotdesk ARGS…` (an administrator command) against this server.
    pub fn cli(&self, args: &[&str]) -> Output {
        self.cli_command(args)
            .output()
            .unwrap_or_else(|e| panic!("run {BIN}: {e}"))
    }

    /// The command [`Server::cli`] runs, for tests that need stdin or other tweaks.
    pub fn cli_command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(BIN);
        command
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOTDESK_URL", self.url())
            .env("HOTDESK_TOKEN", &self.admin_token);
        command
    }

    fn spawn(&mut self) {
        let sip = self.options.sip.to_string();
        let http = self.options.http.to_string();
        let mut command = Command::new(BIN);
        command
            .args(["serve", "--sip", &sip, "--http", &http])
            .args(["--database", &self.database_url])
            .args(&self.options.args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("RUST_LOG", "info")
            .env("HOTDESK_ADMIN_TOKEN", &self.admin_token)
            .env("HOTDESK_SECRET_KEY", &self.secret_key)
            .envs(self.options.env.iter().map(|(k, v)| (k, v)))
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if self.options.demo {
            command.arg("--demo");
        }
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {BIN}: {e}"));
        let (tx, rx) = mpsc::channel();
        if let Some(out) = child.stdout.take() {
            pump(out, tx.clone(), Arc::clone(&self.lines));
        }
        if let Some(err) = child.stderr.take() {
            pump(err, tx, Arc::clone(&self.lines));
        }
        self.child = Some(child);
        self.wait_listening(&rx);
        if self.options.keep_ports {
            self.options.http = self.http;
            if let Some(sip) = self.sip_udp.or(self.sip_tcp) {
                self.options.sip = sip;
            }
        }
    }

    /// Reads lines until the HTTP listener is up; SIP lines seen on the way are kept.
    fn wait_listening(&mut self, rx: &Receiver<String>) {
        self.sip_udp = None;
        self.sip_tcp = None;
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let Ok(line) = rx.recv_timeout(left) else {
                self.kill9();
                panic!("server did not start listening:\n{}", self.output());
            };
            if let Some(addr) = listening(&line, "SIP/UDP") {
                self.sip_udp = Some(addr);
            } else if let Some(addr) = listening(&line, "SIP/TCP") {
                self.sip_tcp = Some(addr);
            } else if let Some(addr) = listening(&line, "HTTP") {
                self.http = addr;
                return;
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
        if let Database::Postgres { schema, .. } = &self.options.database {
            drop_schema(schema);
        }
    }
}

/// Drops a test schema. Runs its own runtime on a plain thread, because `Drop` may run
/// inside a tokio test where blocking on the test's runtime is not allowed.
fn drop_schema(schema: &str) {
    let sql = format!("DROP SCHEMA IF EXISTS {schema} CASCADE");
    let worker = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .ok()?;
        runtime.block_on(async {
            use sqlx::Connection as _;
            let mut connection = sqlx::PgConnection::connect(PG_URL).await.ok()?;
            // Best effort: a leftover schema only costs space in the test database.
            sqlx::query(&sql).execute(&mut connection).await.ok()?;
            connection.close().await.ok()
        })
    });
    let _ = worker.join();
}

/// The address in a `listening for PROTO on ADDR` line.
pub fn listening(line: &str, proto: &str) -> Option<SocketAddr> {
    let marker = format!("listening for {proto} on ");
    let rest = &line[line.find(&marker)? + marker.len()..];
    rest.split_whitespace().next()?.parse().ok()
}

fn pump(stream: impl Read + Send + 'static, tx: Sender<String>, lines: Arc<Mutex<Vec<String>>>) {
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if let Ok(mut all) = lines.lock() {
                all.push(line.clone());
            }
            // The receiver is gone once the server listens; later lines are only stored.
            let _ = tx.send(line);
        }
    });
}

/// Milliseconds.
pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A JSON client for `/api/v1`.
#[derive(Debug, Clone)]
pub struct Api {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
}

impl Api {
    /// A client for the server at `url` with an optional bearer token.
    pub fn new(url: &str, token: Option<&str>) -> Self {
        let http = reqwest::Client::builder()
            .no_proxy()
            // Generous: debug builds on a loaded 2-core machine hash PINs slowly.
            .timeout(Duration::from_secs(120))
            .build()
            .unwrap_or_else(|e| panic!("http client: {e}"));
        Self {
            http,
            base: format!("{url}/api/v1"),
            token: token.map(str::to_owned),
        }
    }

    /// The same server with another token (or none).
    pub fn with_token(&self, token: Option<&str>) -> Self {
        Self {
            token: token.map(str::to_owned),
            ..self.clone()
        }
    }

    /// Sends a request; `Err` only when the exchange itself failed (server gone).
    pub async fn try_send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(StatusCode, Value), reqwest::Error> {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await?;
        let status = response.status();
        let bytes = response.bytes().await?;
        Ok((
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        ))
    }

    /// Sends a request; panics if the server cannot be reached.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> (StatusCode, Value) {
        self.try_send(method.clone(), path, body)
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    /// `GET`, expecting 200; returns the JSON.
    pub async fn get(&self, path: &str) -> Value {
        let (status, body) = self.send(Method::GET, path, None).await;
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        body
    }

    /// `POST`, expecting a 2xx; returns the JSON.
    pub async fn post(&self, path: &str, body: Value) -> Value {
        let (status, answer) = self.send(Method::POST, path, Some(&body)).await;
        assert!(status.is_success(), "POST {path} {body}: {status} {answer}");
        answer
    }

    /// `POST` with a CSV body (user import), expecting a 2xx.
    pub async fn post_csv(&self, path: &str, csv: &str) -> Value {
        let mut request = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "text/csv")
            .body(csv.to_owned());
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path}: {e}"));
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        assert!(status.is_success(), "POST {path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// The rows of a list endpoint, whether it answers an array or `{"items":[…]}`.
    pub async fn list(&self, path: &str) -> Vec<Value> {
        rows(&self.get(path).await)
    }
}

/// The array in a list answer: the answer itself or the one array field of an object.
pub fn rows(value: &Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items.clone(),
        Value::Object(map) => map
            .values()
            .find_map(|v| v.as_array().cloned())
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// `row[key]` as a string (`""` when absent).
pub fn field(row: &Value, key: &str) -> String {
    match row.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// stdout of a CLI run, asserting it succeeded.
pub fn ok_stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn harness_reads_listening_lines() {
        let line =
            "2026-01-01T00:00:00Z  INFO hotdesk::cli::serve: listening for HTTP on 127.0.0.1:43123";
        assert_eq!(
            listening(line, "HTTP"),
            Some(SocketAddr::from(([127, 0, 0, 1], 43123)))
        );
        assert_eq!(listening(line, "SIP/UDP"), None);
        let sip = "INFO listening for SIP/UDP on 127.0.0.1:5062 (workers: 2)";
        assert_eq!(
            listening(sip, "SIP/UDP"),
            Some(SocketAddr::from(([127, 0, 0, 1], 5062)))
        );
    }
}
