//! Persistence for hotdesk: one [`Store`] trait, two back ends (SQLite by default, PostgreSQL).
//!
//! The server keeps routing state in memory and writes every change through this trait
//! *before* acknowledging it, so a restart (even `kill -9`) loses nothing acknowledged.
//!
//! [`open`] picks the back end from the URL. Both back ends share their queries (`sql/`);
//! only migrations and connection settings are per dialect (`sqlite/`, `postgres/`).
#![warn(missing_docs)]

mod binding;
mod error;
mod postgres;
mod prov;
mod sql;
mod sqlite;
mod token;

use std::sync::Arc;

use async_trait::async_trait;
use hotdesk_core::{
    Association, AuditRecord, Cdr, DeskEvent, Device, Domain, DomainName, Extension, Queue, Trunk,
    User,
};
use jiff::Timestamp;

pub use binding::{Binding, BindingKey};
pub use error::StoreError;
pub use postgres::PostgresStore;
pub use prov::ProvRecord;
pub use sqlite::SqliteStore;
pub use token::TokenRecord;

/// Opens the store at `url` and applies pending migrations: `sqlite://path` (file created on
/// first run), `sqlite::memory:` (tests), or `postgres://…` / `postgresql://…`.
pub async fn open(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::open(url).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PostgresStore::open(url).await?))
    } else {
        // Only the scheme goes into the message: the rest may hold a password.
        let scheme = url.split(':').next().unwrap_or_default();
        Err(sqlx::Error::Configuration(
            format!("unsupported database URL scheme {scheme:?}; use sqlite: or postgres:").into(),
        )
        .into())
    }
}

/// Filter for audit and CDR listings (HD-CDR-2); `None` fields match everything.
#[derive(Debug, Clone, Default)]
pub struct RecordFilter {
    /// Only rows about this user extension.
    pub user: Option<Extension>,
    /// Only rows about this device anchor extension.
    pub device: Option<Extension>,
    /// Only rows at or after this instant.
    pub from: Option<Timestamp>,
    /// Only rows before this instant.
    pub until: Option<Timestamp>,
    /// At most this many rows, newest first.
    pub limit: Option<u32>,
}

/// Everything hotdesk persists. Every write is durable when the future resolves.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Creates a domain; `StoreError::Conflict` if the name exists.
    async fn create_domain(&self, domain: &Domain) -> Result<(), StoreError>;
    /// Replaces a domain's settings; `StoreError::NotFound` if absent.
    async fn update_domain(&self, domain: &Domain) -> Result<(), StoreError>;
    /// Deletes a domain and everything in it (users, devices, trunks, associations, audit,
    /// CDRs, tokens, bindings); `NotFound` if absent.
    async fn delete_domain(&self, name: &DomainName) -> Result<(), StoreError>;
    /// All domains.
    async fn domains(&self) -> Result<Vec<Domain>, StoreError>;

    /// Creates a user; `Conflict` if the extension is taken by a user.
    async fn create_user(&self, user: &User) -> Result<(), StoreError>;
    /// Creates many users in one transaction (CSV import); all or nothing: `Conflict` on any
    /// taken extension (also within `users`), `NotFound { entity: "domain" }` on an unknown domain.
    async fn import_users(&self, users: &[User]) -> Result<(), StoreError>;
    /// Replaces a user; `NotFound` if absent.
    async fn update_user(&self, user: &User) -> Result<(), StoreError>;
    /// Deletes a user and their associations; `NotFound` if absent.
    async fn delete_user(&self, domain: &DomainName, ext: &Extension) -> Result<(), StoreError>;
    /// All users of all domains (loaded into memory at start).
    async fn users(&self) -> Result<Vec<User>, StoreError>;

    /// Creates a device; `Conflict { entity: "device" }` if the extension is taken in the
    /// domain, `Conflict { entity: "MAC address" }` if the MAC is taken in any domain.
    async fn create_device(&self, device: &Device) -> Result<(), StoreError>;
    /// Replaces a device; `NotFound` if absent.
    async fn update_device(&self, device: &Device) -> Result<(), StoreError>;
    /// Replaces many devices in one transaction (a template applied to many phones);
    /// `NotFound` if any is absent — the ones present are replaced all the same.
    async fn update_devices(&self, devices: &[Device]) -> Result<(), StoreError>;
    /// Deletes a device and its associations; `NotFound` if absent.
    async fn delete_device(&self, domain: &DomainName, ext: &Extension) -> Result<(), StoreError>;
    /// All devices of all domains.
    async fn devices(&self) -> Result<Vec<Device>, StoreError>;

    /// Creates a trunk; `Conflict` if the name exists in the domain.
    async fn create_trunk(&self, trunk: &Trunk) -> Result<(), StoreError>;
    /// All trunks of all domains.
    async fn trunks(&self) -> Result<Vec<Trunk>, StoreError>;

    /// Creates a queue (HD-ROUTE-7); `Conflict { entity: "queue" }` if the extension is a
    /// queue of the domain already, `NotFound { entity: "domain" }` for an unknown domain.
    async fn create_queue(&self, queue: &Queue) -> Result<(), StoreError>;
    /// Replaces a queue (name, strategy, ring time, members, overflow); `NotFound` if absent.
    async fn update_queue(&self, queue: &Queue) -> Result<(), StoreError>;
    /// Deletes a queue; `NotFound` if absent.
    async fn delete_queue(&self, domain: &DomainName, ext: &Extension) -> Result<(), StoreError>;
    /// All queues of all domains (loaded into memory at start).
    async fn queues(&self) -> Result<Vec<Queue>, StoreError>;

    /// Applies desk events (insert/delete association rows) and their audit rows atomically.
    /// `LoggedIn` inserts or replaces the device's row; `LoggedOut` deletes it if it still
    /// holds that user (a stale log-out is no error); `NotFound { entity: "device or user" }`
    /// rolls everything back.
    async fn append_desk_events(
        &self,
        events: &[DeskEvent],
        audit: &[AuditRecord],
    ) -> Result<(), StoreError>;
    /// All current associations (restored at start).
    async fn associations(&self) -> Result<Vec<Association>, StoreError>;
    /// Records call activity on an association, for idle log-out; `NotFound` if the device
    /// has none. Kept at millisecond resolution.
    async fn touch_association(
        &self,
        domain: &DomainName,
        device: &Extension,
        at: Timestamp,
    ) -> Result<(), StoreError>;

    /// Appends audit rows that come with no desk change (failed PIN, lock-out).
    async fn append_audit(&self, audit: &[AuditRecord]) -> Result<(), StoreError>;
    /// A domain's audit rows matching `filter`, newest first (time bounds at millisecond
    /// resolution; equal times: last appended first).
    async fn audit(
        &self,
        domain: &DomainName,
        filter: &RecordFilter,
    ) -> Result<Vec<AuditRecord>, StoreError>;
    /// Audit rows of `kind` across all domains since `since` (to rebuild lock-outs at start),
    /// oldest first.
    async fn audit_since(
        &self,
        kind: &str,
        since: Timestamp,
    ) -> Result<Vec<AuditRecord>, StoreError>;

    /// Appends a call detail record.
    async fn insert_cdr(&self, cdr: &Cdr) -> Result<(), StoreError>;
    /// Appends call detail records in one transaction: all or none (a record naming an
    /// unknown domain fails the whole batch).
    async fn insert_cdrs(&self, cdrs: &[Cdr]) -> Result<(), StoreError>;
    /// A domain's CDRs matching `filter` (on `user_extension`, `anchor`, `start`), newest first.
    async fn cdrs(
        &self,
        domain: &DomainName,
        filter: &RecordFilter,
    ) -> Result<Vec<Cdr>, StoreError>;

    /// Stores an API token (hashed); `Conflict` if the hash exists.
    async fn create_token(&self, token: &TokenRecord) -> Result<(), StoreError>;
    /// Looks a token up by its hash.
    async fn token(&self, hash: &str) -> Result<Option<TokenRecord>, StoreError>;
    /// Deletes a token by its hash; deleting an absent token succeeds.
    async fn delete_token(&self, hash: &str) -> Result<(), StoreError>;

    /// Inserts or replaces a registrar binding (keyed by AOR + contact).
    async fn put_binding(&self, binding: &Binding) -> Result<(), StoreError>;
    /// Removes one binding; removing an absent binding succeeds.
    async fn delete_binding(
        &self,
        domain: &DomainName,
        aor: &Extension,
        contact: &str,
    ) -> Result<(), StoreError>;
    /// All bindings (restored at start; the registrar drops expired ones).
    async fn bindings(&self) -> Result<Vec<Binding>, StoreError>;
    /// Applies a batch of binding changes in one transaction (the registrar's group
    /// commit): `deletes` first, then `puts` in order (a later put of the same AOR + contact
    /// wins). All or nothing: `NotFound { entity: "domain" }` if any names an unknown domain.
    async fn apply_bindings(
        &self,
        puts: &[Binding],
        deletes: &[BindingKey],
    ) -> Result<(), StoreError>;

    /// Inserts or replaces a provisioning record (template, user keys, MWI subscription);
    /// `NotFound { entity: "domain" }` for an unknown domain.
    async fn put_prov_record(&self, record: &ProvRecord) -> Result<(), StoreError>;
    /// Deletes a provisioning record; deleting an absent one succeeds.
    async fn delete_prov_record(
        &self,
        domain: &DomainName,
        kind: &str,
        key: &str,
    ) -> Result<(), StoreError>;
    /// Every provisioning record of `kind`, all domains (loaded at start).
    async fn prov_records(&self, kind: &str) -> Result<Vec<ProvRecord>, StoreError>;
}
