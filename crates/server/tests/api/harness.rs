//! A real `App` over a real store (SQLite temp file, or a PostgreSQL schema of its own),
//! called in-process through `Router::oneshot`.

use std::str::FromStr as _;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use hotdesk::secrets::{SecretString, ServerKey};
use hotdesk::state::{App, AppConfig};
use hotdesk_core::{DomainName, Extension, Scope};
use hotdesk_store::{PostgresStore, Store};
use http_body_util::BodyExt as _;
use serde_json::{json, Value};
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection as _, Executor as _, PgConnection};
use tower::ServiceExt as _;

/// The super-admin token every harness is started with (`HOTDESK_ADMIN_TOKEN`).
pub(crate) const ADMIN: &str = "test-admin-token-0123456789";
const KEY: [u8; 32] = [42; 32];
const DEFAULT_PG: &str = "postgres://postgres@127.0.0.1:5432/test";

/// One answer: status, headers, body as text and (if it parses) JSON.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) text: String,
    pub(crate) json: Value,
}

impl Reply {
    /// `error.code` of an error body.
    pub(crate) fn code(&self) -> &str {
        self.json["error"]["code"].as_str().unwrap_or("")
    }

    /// Asserts the status and the `{"error":{"code","message"}}` shape; returns self.
    #[track_caller]
    pub(crate) fn error(self, status: StatusCode, code: &str) -> Self {
        assert_eq!(self.status, status, "body: {}", self.text);
        assert_eq!(self.code(), code, "body: {}", self.text);
        assert!(
            self.json["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "error without message: {}",
            self.text
        );
        self
    }

    /// Asserts the status; returns self.
    #[track_caller]
    pub(crate) fn ok(self, status: StatusCode) -> Self {
        assert_eq!(self.status, status, "body: {}", self.text);
        self
    }
}

enum Place {
    Sqlite {
        url: String,
        _dir: tempfile::TempDir,
    },
    Postgres {
        url: String,
        schema: String,
    },
}

/// The application under test.
pub(crate) struct Harness {
    pub(crate) app: Arc<App>,
    pub(crate) router: Router,
    place: Place,
}

fn config(url: &str) -> AppConfig {
    let mut config = AppConfig::new(url, ServerKey::from_bytes(KEY));
    config.admin_token = Some(SecretString::new(ADMIN));
    config
}

impl Harness {
    /// A fresh SQLite file.
    pub(crate) async fn sqlite() -> Self {
        Self::sqlite_with(|_| {}).await
    }

    /// A fresh SQLite file, the app configured by `tweak` (settings a flag would give).
    pub(crate) async fn sqlite_with(tweak: impl FnOnce(&mut AppConfig)) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("hotdesk.db").display());
        let mut config = config(&url);
        tweak(&mut config);
        let app = App::open(config).await.expect("open app");
        Self {
            router: hotdesk::router(app.clone()),
            app,
            place: Place::Sqlite { url, _dir: dir },
        }
    }

    /// A fresh PostgreSQL schema, or `None` when PostgreSQL is unreachable (CI sets
    /// `HOTDESK_REQUIRE_PG=1` to fail instead).
    pub(crate) async fn postgres() -> Option<Self> {
        let url = std::env::var("HOTDESK_TEST_PG").unwrap_or_else(|_| DEFAULT_PG.into());
        let connect = tokio::time::timeout(Duration::from_secs(3), PgConnection::connect(&url));
        let Ok(Ok(mut admin)) = connect.await else {
            let required = std::env::var("HOTDESK_REQUIRE_PG").is_ok_and(|v| v == "1");
            assert!(
                !required,
                "PostgreSQL at {url} unreachable and HOTDESK_REQUIRE_PG=1"
            );
            eprintln!("PostgreSQL at {url} unreachable: PostgreSQL API tests skipped");
            return None;
        };
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let schema = format!(
            "api_{}_{}_{nanos}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        admin
            .execute(format!("CREATE SCHEMA {schema}").as_str())
            .await
            .expect("create schema");
        let store = open_pg(&url, &schema).await;
        let app = App::with_store(store, config(&url))
            .await
            .expect("open app");
        Some(Self {
            router: hotdesk::router(app.clone()),
            app,
            place: Place::Postgres { url, schema },
        })
    }

    /// Drops the app and opens a new one over the same data, as a restart would.
    pub(crate) async fn restart(mut self) -> Self {
        let app = match &self.place {
            Place::Sqlite { url, .. } => {
                drop(self.router);
                drop(self.app);
                App::open(config(url)).await.expect("reopen")
            }
            Place::Postgres { url, schema } => {
                let store = open_pg(url, schema).await;
                App::with_store(store, config(url)).await.expect("reopen")
            }
        };
        self.router = hotdesk::router(app.clone());
        self.app = app;
        self
    }

    /// [`Harness::restart`], printing how long loading took.
    pub(crate) async fn restart_timed(self) -> Self {
        let started = std::time::Instant::now();
        let h = self.restart().await;
        println!("restart (load into memory): {:.2?}", started.elapsed());
        h
    }

    /// Sends a request with an optional bearer token and JSON body.
    pub(crate) async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut builder = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let body = match body {
            Some(json) => {
                builder = builder.header(header::CONTENT_TYPE, "application/json");
                Body::from(json.to_string())
            }
            None => Body::empty(),
        };
        self.send(builder.body(body).expect("request")).await
    }

    /// Sends a prepared request.
    pub(crate) async fn send(&self, request: Request<Body>) -> Reply {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("infallible router");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            text,
            json,
        }
    }

    /// `GET` with the admin token.
    pub(crate) async fn get(&self, path: &str) -> Reply {
        self.call(Method::GET, path, Some(ADMIN), None).await
    }

    /// `POST` JSON with the admin token.
    pub(crate) async fn post(&self, path: &str, body: Value) -> Reply {
        self.call(Method::POST, path, Some(ADMIN), Some(body)).await
    }

    /// Creates a domain with 20 standard seats (pool 100).
    pub(crate) async fn domain(&self, name: &str) {
        self.post(
            "/api/v1/domains",
            json!({"name": name, "settings": {"seats": {"standard": 20}}}),
        )
        .await
        .ok(StatusCode::CREATED);
    }

    /// Creates a user with a PIN.
    pub(crate) async fn user(&self, domain: &str, ext: &str, pin: &str) {
        self.user_with(
            domain,
            json!({"extension": ext, "first_name": "U", "last_name": ext, "pin": pin}),
        )
        .await;
    }

    /// Creates a user from a full body.
    pub(crate) async fn user_with(&self, domain: &str, body: Value) {
        self.post(&format!("/api/v1/domains/{domain}/users"), body)
            .await
            .ok(StatusCode::CREATED);
    }

    /// Creates a hot-desk device; `n` picks the MAC.
    pub(crate) async fn device(&self, domain: &str, ext: &str, n: u8) {
        self.post(
            &format!("/api/v1/domains/{domain}/devices"),
            json!({
                "mac": format!("00:15:65:00:{:02x}:{:02x}", domain.bytes().fold(0u8, |a, b| a.wrapping_mul(31).wrapping_add(b)), n),
                "model": "yealink-t46u",
                "kind": "hotdesk",
                "extension": ext,
                "sip_password": "Device-pass-1",
            }),
        )
        .await
        .ok(StatusCode::CREATED);
    }

    /// A token with `scope` in `domain` (for a user if `user` is given).
    pub(crate) async fn token(&self, scope: Scope, domain: &str, user: Option<&str>) -> String {
        let (token, _) = self
            .app
            .issue_token(
                scope,
                Some(DomainName::new(domain).expect("domain")),
                user.map(|u| Extension::new(u).expect("ext")),
                "test",
                None,
            )
            .await
            .expect("token");
        token.expose().to_owned()
    }

    /// Logs `user` in to `device` as admin; returns the reply.
    pub(crate) async fn login(&self, domain: &str, device: &str, user: &str) -> Reply {
        self.post(
            &format!("/api/v1/domains/{domain}/devices/{device}/login"),
            json!({"extension": user}),
        )
        .await
    }

    /// Device → user pairs of the domain's sessions, sorted.
    pub(crate) async fn sessions(&self, domain: &str) -> Vec<(String, String)> {
        let reply = self
            .get(&format!("/api/v1/domains/{domain}/associations"))
            .await
            .ok(StatusCode::OK);
        let mut pairs: Vec<(String, String)> = reply
            .json
            .as_array()
            .expect("list")
            .iter()
            .map(|a| {
                (
                    a["device"].as_str().unwrap_or("").to_owned(),
                    a["user"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect();
        pairs.sort();
        pairs
    }
}

async fn open_pg(url: &str, schema: &str) -> Arc<dyn Store> {
    let options = PgConnectOptions::from_str(url)
        .expect("PostgreSQL URL")
        .options([("search_path", schema)]);
    Arc::new(
        PostgresStore::open_with(options)
            .await
            .expect("open PostgreSQL"),
    )
}

impl Drop for Place {
    fn drop(&mut self) {
        let Self::Postgres { url, schema } = self else {
            return;
        };
        let (url, schema) = (url.clone(), schema.clone());
        // Drop runs inside the test's runtime; use a thread with its own.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let mut admin = PgConnection::connect(&url).await.ok()?;
                admin
                    .execute(format!("DROP SCHEMA {schema} CASCADE").as_str())
                    .await
                    .ok()
            })
        })
        .join();
    }
}
