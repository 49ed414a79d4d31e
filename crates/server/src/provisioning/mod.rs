//! Provisioning (HD-PROV-1..5): phone files rendered per MAC from templates, served over
//! HTTP to phones that prove the device's own SIP credentials ([`http`]); templates,
//! users' keys per model and per-device options kept in memory and written through to the
//! store; and the queue of phone updates ([`Job`]) the SIP side drains to send check-sync
//! and message-summary NOTIFYs (HD-PROV-2, HD-MWI-1).

pub mod context;
pub mod engine;
pub mod http;
pub mod http_auth;
mod keys;
pub mod lockout;
mod render;
pub mod templates;

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError, RwLock, RwLockReadGuard};

use hotdesk_core::{DeskEvent, DomainName, Extension, Key, ModelId};
use hotdesk_store::{ProvRecord, Store, StoreError};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

pub use engine::{Engine, TemplateError};
pub use keys::DeviceOptions;
pub use render::{PreviewError, Rendered, SipServer, SipServerError, MASKED_PASSWORD};
pub use templates::{Format, Template, TemplateInput};

/// A phone-facing change for the SIP side to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Job {
    /// The device's file changed: send check-sync (HD-PROV-2) and re-notify MWI, since the
    /// owner may have changed (HD-MWI-1).
    DeviceChanged {
        /// Domain.
        domain: DomainName,
        /// Anchor extension.
        device: Extension,
    },
    /// A mailbox changed: re-notify the phones that show it.
    MailboxChanged {
        /// Domain.
        domain: DomainName,
        /// The mailbox owner: a user, or a device's anchor extension.
        user: Extension,
    },
    /// Tell a phone a text (automatic log-out ahead, HD-LOGOUT-2).
    Notice {
        /// Domain.
        domain: DomainName,
        /// Anchor extension.
        device: Extension,
        /// The text.
        text: String,
    },
}

/// Why a provisioning change was refused.
#[derive(Debug, thiserror::Error)]
pub enum ProvError {
    /// The file template is wrong (syntax, unknown token).
    #[error("template body: {0}")]
    Body(TemplateError),
    /// The line label template is wrong.
    #[error("line label: {0}")]
    Label(TemplateError),
    /// A name outside `a-z 0-9 - _ .` or too long.
    #[error("template names are 1-64 of a-z, 0-9, '-', '_', '.'")]
    BadName,
    /// Another template already is this model's default in the domain.
    #[error("template {other} is already the default for model {model}")]
    ModelTaken {
        /// The model.
        model: String,
        /// The template holding it.
        other: String,
    },
    /// The model's file format differs from the template's.
    #[error("model {model} uses {expected} files, the template is {found}")]
    FormatMismatch {
        /// The model.
        model: String,
        /// Its format.
        expected: &'static str,
        /// The template's.
        found: &'static str,
    },
    /// No such template in the domain.
    #[error("no template named {0}")]
    UnknownTemplate(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, Default)]
struct Catalog {
    templates: HashMap<DomainName, HashMap<String, Template>>,
    keys: HashMap<(DomainName, Extension, ModelId), Vec<Key>>,
    options: HashMap<(DomainName, Extension), DeviceOptions>,
}

pub(crate) fn decode<T: for<'de> Deserialize<'de>>(record: &ProvRecord) -> Option<T> {
    match serde_json::from_str(&record.data) {
        Ok(value) => Some(value),
        Err(error) => {
            tracing::warn!(kind = %record.kind, key = %record.key, %error, "skipping unreadable provisioning record");
            None
        }
    }
}

pub(crate) fn encode<T: Serialize>(
    domain: &DomainName,
    kind: &str,
    key: String,
    value: &T,
) -> ProvRecord {
    ProvRecord {
        domain: domain.clone(),
        kind: kind.to_owned(),
        key,
        // Our own plain structs always serialise.
        data: serde_json::to_string(value).unwrap_or_else(|_| "{}".into()),
    }
}

/// Templates, keys, options and the update queue; one per [`crate::App`].
pub struct Provisioning {
    engine: Engine,
    catalog: RwLock<Catalog>,
    jobs: Mutex<Option<mpsc::UnboundedSender<Job>>>,
    /// Message-waiting subscriptions (HD-MWI-1), kept here so the API side and the SIP
    /// side reach the same table.
    pub mwi: crate::mwi::Subscriptions,
    /// HTTP digest for phones fetching files.
    pub http_auth: http_auth::HttpAuth,
    /// Where provisioned phones register (`--provision-sip-server`); `None`: the device's
    /// domain on port 5060.
    pub(crate) sip_server: Option<SipServer>,
    /// Wrong-password counters and locks for `/provision` (HD-SEC-3).
    pub(crate) guard: lockout::HttpGuard,
}

impl std::fmt::Debug for Provisioning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provisioning").finish_non_exhaustive()
    }
}

impl Provisioning {
    /// Loads templates, keys, options and MWI subscriptions from the store and compiles
    /// the built-in templates.
    pub async fn load(store: &dyn Store) -> Result<Self, StoreError> {
        let engine = Engine::default();
        for (key, source) in [
            (
                templates::builtin::file_key(Format::Cfg),
                templates::builtin::YEALINK,
            ),
            (
                templates::builtin::file_key(Format::Xml),
                templates::builtin::POLYCOM,
            ),
            (
                templates::builtin::common_key(Format::Cfg),
                templates::builtin::YEALINK_COMMON,
            ),
            (
                templates::builtin::common_key(Format::Xml),
                templates::builtin::POLYCOM_COMMON,
            ),
        ] {
            if let Err(error) = engine.insert(key, source) {
                tracing::error!(key, %error, "built-in template does not compile");
            }
        }
        let mut catalog = Catalog::default();
        for record in store.prov_records(templates::KIND).await? {
            let Some(template) = decode::<Template>(&record) else {
                continue;
            };
            if let Some(body) = &template.body {
                let key = templates::engine_key(record.domain.as_str(), &template.name);
                if let Err(error) = engine.insert(&key, body) {
                    tracing::warn!(key, %error, "stored template no longer compiles");
                }
            }
            catalog
                .templates
                .entry(record.domain.clone())
                .or_default()
                .insert(template.name.clone(), template);
        }
        for record in store.prov_records(keys::USER_KEYS).await? {
            let Some(stored) = decode::<keys::StoredKeys>(&record) else {
                continue;
            };
            let Some((user, model)) = record.key.split_once('/') else {
                continue;
            };
            if let (Ok(user), Ok(model)) = (Extension::new(user), ModelId::new(model)) {
                catalog
                    .keys
                    .insert((record.domain.clone(), user, model), stored.keys);
            }
        }
        for record in store.prov_records(keys::DEVICE_OPTIONS).await? {
            if let (Some(options), Ok(device)) = (
                decode::<DeviceOptions>(&record),
                Extension::new(&record.key),
            ) {
                catalog
                    .options
                    .insert((record.domain.clone(), device), options);
            }
        }
        let mwi = crate::mwi::Subscriptions::load(store).await?;
        Ok(Self {
            engine,
            catalog: RwLock::new(catalog),
            jobs: Mutex::new(None),
            mwi,
            http_auth: http_auth::HttpAuth::new(),
            sip_server: None,
            guard: lockout::HttpGuard::default(),
        })
    }

    fn read(&self) -> RwLockReadGuard<'_, Catalog> {
        self.catalog.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes over the update queue: from now on [`Job`]s go to the returned receiver (the
    /// SIP side). Without it, updates are dropped (no SIP side, nothing to tell phones).
    pub fn attach(&self) -> mpsc::UnboundedReceiver<Job> {
        let (tx, rx) = mpsc::unbounded_channel();
        *self.jobs.lock().unwrap_or_else(PoisonError::into_inner) = Some(tx);
        rx
    }

    /// Queues a phone update.
    pub fn queue(&self, job: Job) {
        if let Some(tx) = self
            .jobs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
        {
            // A closed receiver means the SIP side stopped: nothing to tell phones.
            let _ = tx.send(job);
        }
    }

    /// After log-ins and log-outs: every device involved gets check-sync and MWI, once
    /// per plan (a takeover is a log-out and a log-in on the same phone).
    pub fn desk_events(&self, events: &[DeskEvent]) {
        let mut seen: Vec<(&DomainName, &Extension)> = Vec::with_capacity(events.len());
        for event in events {
            let key = match event {
                DeskEvent::LoggedIn { association, .. } => {
                    (&association.domain, &association.device)
                }
                DeskEvent::LoggedOut { domain, device, .. } => (domain, device),
            };
            if seen.contains(&key) {
                continue;
            }
            seen.push(key);
            self.queue(Job::DeviceChanged {
                domain: key.0.clone(),
                device: key.1.clone(),
            });
        }
    }

    /// After a mailbox change.
    pub fn mailbox_changed(&self, domain: &DomainName, user: &Extension) {
        self.queue(Job::MailboxChanged {
            domain: domain.clone(),
            user: user.clone(),
        });
    }

    /// A domain's templates, by name.
    pub fn templates(&self, domain: &DomainName) -> Vec<Template> {
        let catalog = self.read();
        let mut list: Vec<Template> = catalog
            .templates
            .get(domain)
            .map(|t| t.values().cloned().collect())
            .unwrap_or_default();
        list.sort_by(|a, b| a.name.cmp(&b.name));
        list
    }

    /// One template.
    pub fn template(&self, domain: &DomainName, name: &str) -> Option<Template> {
        self.read().templates.get(domain)?.get(name).cloned()
    }

    /// Checks and saves a template (HD-PROV-5: refused at upload with line and column).
    pub async fn put_template(
        &self,
        store: &dyn Store,
        domain: &DomainName,
        name: &str,
        input: TemplateInput,
        model_format: Option<Format>,
    ) -> Result<Template, ProvError> {
        if !templates::valid_name(name) {
            return Err(ProvError::BadName);
        }
        if let (Some(model), Some(expected)) = (&input.model, model_format) {
            if expected != input.format {
                return Err(ProvError::FormatMismatch {
                    model: model.to_string(),
                    expected: expected.as_str(),
                    found: input.format.as_str(),
                });
            }
        }
        check_input(&input)?;
        if let Some(model) = &input.model {
            let catalog = self.read();
            let taken = catalog.templates.get(domain).and_then(|list| {
                list.values()
                    .find(|t| t.model.as_ref() == Some(model) && t.name != name)
            });
            if let Some(other) = taken {
                return Err(ProvError::ModelTaken {
                    model: model.to_string(),
                    other: other.name.clone(),
                });
            }
        }
        let template = Template {
            name: name.to_owned(),
            format: input.format,
            model: input.model,
            body: input.body,
            line_label: input.line_label,
        };
        store
            .put_prov_record(&encode(domain, templates::KIND, name.to_owned(), &template))
            .await?;
        let key = templates::engine_key(domain.as_str(), name);
        match &template.body {
            Some(body) => self.engine.insert(&key, body).map_err(ProvError::Body)?,
            None => self.engine.remove(&key),
        }
        self.catalog
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .templates
            .entry(domain.clone())
            .or_default()
            .insert(name.to_owned(), template.clone());
        Ok(template)
    }

    /// Deletes a template; devices it was applied to fall back to the next in line.
    pub async fn delete_template(
        &self,
        store: &dyn Store,
        domain: &DomainName,
        name: &str,
    ) -> Result<(), ProvError> {
        if self.template(domain, name).is_none() {
            return Err(ProvError::UnknownTemplate(name.to_owned()));
        }
        store
            .delete_prov_record(domain, templates::KIND, name)
            .await?;
        self.engine
            .remove(&templates::engine_key(domain.as_str(), name));
        if let Some(list) = self
            .catalog
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .templates
            .get_mut(domain)
        {
            list.remove(name);
        }
        Ok(())
    }
}

/// Checks a template's line label and body (HD-PROV-5: line and column of the fault).
fn check_input(input: &TemplateInput) -> Result<(), ProvError> {
    if let Some(label) = &input.line_label {
        check_label(label).map_err(ProvError::Label)?;
    }
    if let Some(body) = &input.body {
        Engine::check(body, &context::sample()).map_err(ProvError::Body)?;
    }
    Ok(())
}

/// Checks a line label template; positions as line 1, column = offset + 1.
fn check_label(label: &str) -> Result<(), TemplateError> {
    use hotdesk_core::label::LabelError;
    hotdesk_core::label::validate(label).map_err(|error| match error {
        LabelError::UnknownToken { token, position } => {
            let (line, column) = engine::position(label, position);
            TemplateError::UnknownToken {
                token: format!("[[{token}]]"),
                line,
                column,
            }
        }
        LabelError::Unclosed { position } => {
            let (line, column) = engine::position(label, position);
            TemplateError::Syntax {
                line,
                column,
                detail: "unclosed [[".into(),
            }
        }
    })
}
