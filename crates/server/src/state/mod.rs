//! The application service layer: [`App`] holds the in-memory view (domains, users,
//! devices, trunks, sessions, lock-out counters) loaded from the store, and every operation
//! the API, CLI, SIP features and portal call.
//!
//! Writes are serialised by one async mutex around decide → persist → apply, so nothing is
//! acknowledged before the store has it (STYLE §5). Reads take a short `RwLock` read guard
//! and never wait for the store.

mod devices;
mod domains;
pub(crate) mod error;
pub mod events;
pub mod import;
mod load;
pub mod metrics;
pub mod models;
mod pins;
mod principal;
mod provision;
mod queues;
mod sessions;
mod settings;
mod tokens;
mod trunks;
mod users;
mod validate;
pub mod view;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use hotdesk_core::DeskBook;
use hotdesk_store::Store;
use jiff::{SignedDuration, Timestamp};
use tokio::sync::{broadcast, Mutex};

pub use devices::{DevicePatch, NewDevice};
pub use error::AppError;
pub use events::AppEvent;
pub use import::{ImportReport, RowError};
pub use metrics::Counters;
pub use models::{ModelCatalogue, PhoneModel};
pub use pins::PinContext;
pub use principal::Principal;
pub use queues::{NewQueue, QueuePatch};
pub use sessions::SessionRequest;
pub use tokens::SignIn;
pub use trunks::NewTrunk;
pub use users::{NewUser, UserPatch};
pub use view::{Tenant, Tenants};

pub(crate) use settings::merge as merge_settings;

use crate::secrets::{token_hash, SecretString, ServerKey};

/// What [`App::open`] needs; built by `config/` from the file, flags and environment.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// `sqlite://path.db` or `postgres://…`.
    pub database_url: String,
    /// Key sealing SIP passwords at rest (HD-SEC-2).
    pub server_key: ServerKey,
    /// `HOTDESK_ADMIN_TOKEN`: a bearer token with super-admin rights, if set.
    pub admin_token: Option<SecretString>,
    /// Known phone models (HD-PROV-5).
    pub models: ModelCatalogue,
    /// Lifetime of tokens made by `POST /auth/login`.
    pub user_token_ttl: SignedDuration,
    /// Buffered events per `/events` subscriber before a slow one skips ahead.
    pub event_capacity: usize,
    /// SIP server written into provisioned files; `None`: the device's domain, port 5060.
    pub provision_sip_server: Option<crate::provisioning::SipServer>,
    /// Wrong provisioning passwords tolerated per source and per MAC or username before
    /// a lock-out (the SIP digest limits, `HOTDESK_SIP_AUTH_*`, in `hotdesk serve`).
    pub provision_guard: crate::sip::guard::GuardPolicy,
}

impl AppConfig {
    /// Defaults: built-in models, 12-hour user tokens, 1,024 buffered events, no admin token.
    pub fn new(database_url: impl Into<String>, server_key: ServerKey) -> Self {
        Self {
            database_url: database_url.into(),
            server_key,
            admin_token: None,
            models: ModelCatalogue::built_in(),
            user_token_ttl: SignedDuration::from_hours(12),
            event_capacity: 1024,
            provision_sip_server: None,
            provision_guard: crate::sip::guard::GuardPolicy::default(),
        }
    }
}

/// Mutable state behind the read/write lock.
#[derive(Debug, Default)]
pub struct State {
    /// Domains, users, devices and trunks.
    pub tenants: Tenants,
    /// Current associations (sessions).
    pub desks: DeskBook,
    /// Wrong-PIN counters and locks per user and per device (HD-SEC-2).
    pub(crate) pins: hotdesk_core::PinGuard,
}

/// The running application: in-memory view + store + event bus. Share it as `Arc<App>`.
pub struct App {
    store: Arc<dyn Store>,
    key: ServerKey,
    admin_token_hash: Option<String>,
    models: ModelCatalogue,
    user_token_ttl: SignedDuration,
    state: RwLock<State>,
    /// Counts write guards taken on `state` (see [`App::view_generation`]).
    generation: AtomicU64,
    writes: Mutex<()>,
    events: broadcast::Sender<AppEvent>,
    counters: Counters,
    tokens: tokens::TokenCache,
    bindings: Arc<crate::registrar::Bindings>,
    activations: Arc<crate::ivr::activate::Activations>,
    provisioning: crate::provisioning::Provisioning,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App").finish_non_exhaustive()
    }
}

impl App {
    /// Opens the store named by `config.database_url` (running migrations) and loads it.
    pub async fn open(config: AppConfig) -> Result<Arc<Self>, AppError> {
        let store = hotdesk_store::open(&config.database_url).await?;
        Self::with_store(store, config).await
    }

    /// Loads an already-open store into memory: domains, users, devices, trunks,
    /// associations and recent PIN failures (restart, HD-SEC-2).
    pub async fn with_store(
        store: Arc<dyn Store>,
        config: AppConfig,
    ) -> Result<Arc<Self>, AppError> {
        let state = load::load(store.as_ref(), Timestamp::now()).await?;
        let mut provisioning = crate::provisioning::Provisioning::load(store.as_ref()).await?;
        provisioning.sip_server = config.provision_sip_server;
        provisioning.guard = crate::provisioning::lockout::HttpGuard::new(config.provision_guard);
        let (events, _) = broadcast::channel(config.event_capacity.max(16));
        Ok(Arc::new(Self {
            store,
            key: config.server_key,
            admin_token_hash: config.admin_token.map(|t| token_hash(t.expose())),
            models: config.models,
            user_token_ttl: config.user_token_ttl,
            state: RwLock::new(state),
            generation: AtomicU64::new(0),
            writes: Mutex::new(()),
            events,
            counters: Counters::default(),
            tokens: tokens::TokenCache::default(),
            bindings: Arc::default(),
            activations: Arc::default(),
            provisioning,
        }))
    }

    /// The store, for records the view does not hold (audit, CDRs, bindings).
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The server key, to open sealed SIP passwords for provisioning and digest HA1.
    pub fn server_key(&self) -> &ServerKey {
        &self.key
    }

    /// The phone model catalogue.
    pub fn models(&self) -> &ModelCatalogue {
        &self.models
    }

    /// The registrar's bindings (filled by the SIP side at start; empty without it).
    pub fn bindings(&self) -> &Arc<crate::registrar::Bindings> {
        &self.bindings
    }

    /// "Activate Phone" calls (HD-LOGIN-9); placing them needs the SIP side running.
    pub fn activations(&self) -> &Arc<crate::ivr::activate::Activations> {
        &self.activations
    }

    /// Provisioning templates, keys, MWI subscriptions and the phone update queue.
    pub fn provisioning(&self) -> &crate::provisioning::Provisioning {
        &self.provisioning
    }

    /// Counters for `/metrics`.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// A read guard on the view. Do not hold it across an `.await` (it is not `Send`).
    pub fn read(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// The one way to change the view; taking it moves [`Self::view_generation`] on.
    fn write_state(&self) -> RwLockWriteGuard<'_, State> {
        let guard = self.state.write().unwrap_or_else(PoisonError::into_inner);
        // Counted while the guard is held: a reader that read the generation before its
        // read guard then sees either this change or a later generation.
        self.generation.fetch_add(1, Ordering::AcqRel);
        guard
    }

    /// A number that moves on whenever the view may change. What was derived from the view
    /// under a read guard taken after reading generation `g` is still current while this
    /// returns `g`: a cache can check that instead of reading the view again.
    pub fn view_generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Subscribes to live events (`/events`, portal).
    pub fn subscribe(&self) -> broadcast::Receiver<AppEvent> {
        self.events.subscribe()
    }

    /// Whether anyone listens to events (lets hot paths skip building them).
    pub fn has_subscribers(&self) -> bool {
        self.events.receiver_count() > 0
    }

    /// Publishes an event to every subscriber (SIP registrations and calls come in here).
    pub fn publish(&self, event: AppEvent) {
        // No subscriber is not an error: events are live-only.
        let _ = self.events.send(event);
    }

    /// The current time; one place so a test clock can replace it later.
    pub fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// Runs CPU-bound work (argon2) off the async runtime.
pub(crate) async fn blocking<T, F>(work: F) -> Result<T, AppError>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|_| AppError::Worker)
}
