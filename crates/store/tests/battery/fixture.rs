//! A fresh store per test: a SQLite file in a temp dir, or a PostgreSQL schema of its own.

use std::io::Write as _;
use std::str::FromStr as _;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Once};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hotdesk_store::{PostgresStore, SqliteStore, Store};
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection as _, Executor as _, PgConnection};
use tokio::sync::OnceCell;

const DEFAULT_PG: &str = "postgres://postgres@127.0.0.1:5432/test";

/// The store under test and where its data lives, so it can be reopened.
pub(crate) struct Fixture {
    store: Arc<dyn Store>,
    place: Place,
}

enum Place {
    Sqlite {
        url: String,
        _dir: tempfile::TempDir,
    },
    Postgres(Schema),
}

impl Fixture {
    /// A new SQLite file; never skipped.
    pub(crate) async fn sqlite() -> Option<Self> {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("hotdesk.db").display());
        let store = SqliteStore::open(&url).await.expect("open SQLite");
        Some(Self {
            store: Arc::new(store),
            place: Place::Sqlite { url, _dir: dir },
        })
    }

    /// A new schema in the test database, or `None` (after a loud notice) if PostgreSQL is
    /// unreachable and `HOTDESK_REQUIRE_PG` is not `1`.
    pub(crate) async fn postgres() -> Option<Self> {
        let url = std::env::var("HOTDESK_TEST_PG").unwrap_or_else(|_| DEFAULT_PG.into());
        if !reachable(&url).await {
            let required = std::env::var("HOTDESK_REQUIRE_PG").is_ok_and(|v| v == "1");
            assert!(
                !required,
                "PostgreSQL at {url} is unreachable and HOTDESK_REQUIRE_PG=1"
            );
            warn_skipped(&url);
            return None;
        }
        let schema = Schema::create(&url).await;
        let store = schema.open().await;
        Some(Self {
            store: Arc::new(store),
            place: Place::Postgres(schema),
        })
    }

    /// The store under test.
    pub(crate) fn store(&self) -> Arc<dyn Store> {
        Arc::clone(&self.store)
    }

    /// Drops the store and opens a new one over the same data, as a restarted server would.
    pub(crate) async fn reopen(&mut self) -> Arc<dyn Store> {
        self.store = match &self.place {
            Place::Sqlite { url, .. } => Arc::new(SqliteStore::open(url).await.expect("reopen")),
            Place::Postgres(schema) => Arc::new(schema.open().await),
        };
        self.store()
    }
}

/// A schema `t_<pid>_<n>_<nanos>` dropped (with everything in it) when the test ends,
/// whether it passed or panicked.
struct Schema {
    url: String,
    name: String,
}

impl Schema {
    async fn create(url: &str) -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name = format!(
            "t_{}_{}_{nanos}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let mut admin = PgConnection::connect(url)
            .await
            .expect("connect PostgreSQL");
        admin
            .execute(format!("CREATE SCHEMA {name}").as_str())
            .await
            .expect("create schema");
        Self {
            url: url.to_owned(),
            name,
        }
    }

    async fn open(&self) -> PostgresStore {
        let options = PgConnectOptions::from_str(&self.url)
            .expect("PostgreSQL URL")
            .options([("search_path", self.name.as_str())]);
        PostgresStore::open_with(options)
            .await
            .expect("open PostgreSQL")
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        let (url, name) = (self.url.clone(), self.name.clone());
        // Drop runs inside the test's runtime, which cannot be blocked on: use a thread with
        // a runtime of its own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let mut admin = PgConnection::connect(&url).await.ok()?;
                admin
                    .execute(format!("DROP SCHEMA {name} CASCADE").as_str())
                    .await
                    .ok()
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(_))) {
            let _ = writeln!(
                std::io::stderr(),
                "could not drop test schema {}",
                self.name
            );
        }
    }
}

async fn reachable(url: &str) -> bool {
    static REACHABLE: OnceCell<bool> = OnceCell::const_new();
    *REACHABLE
        .get_or_init(|| async {
            let attempt = tokio::time::timeout(Duration::from_secs(3), PgConnection::connect(url));
            matches!(attempt.await, Ok(Ok(_)))
        })
        .await
}

/// Written straight to stderr: libtest captures `eprintln!` of passing tests.
fn warn_skipped(url: &str) {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let line = "!".repeat(78);
        let _ = writeln!(
            std::io::stderr(),
            "\n{line}\n!!! PostgreSQL at {url} is UNREACHABLE: the PostgreSQL half of the \
             store battery is SKIPPED.\n!!! Start it, or set HOTDESK_TEST_PG; CI sets \
             HOTDESK_REQUIRE_PG=1 to fail instead.\n{line}\n"
        );
    });
}
