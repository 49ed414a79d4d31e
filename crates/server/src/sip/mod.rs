//! The SIP side of the server: binds the endpoint (UDP and TCP on `--sip`), restores the
//! registrar's bindings and the digest guard from the store, and runs the dispatcher, which
//! hands each request to its handler in one `match` ([`dispatch`]).
//!
//! Tasks: the endpoint's own (transport readers, the transaction task), the dispatcher (all
//! request handling and every change to the bindings table, so changes are ordered), and the
//! registrar's group commit. Shutdown stops the dispatcher; the commit task then writes what
//! is queued, answers it, and ends.

pub mod auth;
mod config;
pub mod credentials;
mod dispatch;
pub mod guard;
mod options;

use std::net::SocketAddr;
use std::sync::Arc;

use hotdesk_core::DomainName;
use hotdesk_sip::endpoint::{Endpoint, EndpointConfig, EndpointError, Events};
use hotdesk_sip::transport::{Transport, TransportConfig};
use hotdesk_sip::uri::Host;
use hotdesk_sip::Method;
use hotdesk_store::StoreError;
use jiff::SignedDuration;

pub use config::{SipConfigError, SipSettings};

use crate::b2bua::B2bua;
use crate::cli::serve::{Shutdown, SipListeners};
use crate::registrar::{self, commit, Registrar};
use crate::state::App;
use auth::{SipAuth, SIP_AUTH_FAILED};

/// Bindings changes queued for the group commit before the dispatcher waits.
const COMMIT_QUEUE: usize = 8192;

/// Why the SIP side could not start.
#[derive(Debug, thiserror::Error)]
pub enum SipError {
    /// A listener could not be bound.
    #[error("cannot start the SIP endpoint: {0}")]
    Endpoint(#[from] EndpointError),
    /// Bindings or audit rows could not be read at start.
    #[error("cannot restore registrar state: {0}")]
    Store(#[from] StoreError),
    /// The IVR settings are malformed.
    #[error("IVR settings: {0}")]
    IvrConfig(#[from] crate::ivr::IvrConfigError),
    /// The media engine could not start.
    #[error("cannot start the media engine: {0}")]
    Media(#[from] crate::ivr::media::MediaError),
}

/// What every request handler shares; owned by the dispatcher task, so handlers take
/// `&mut` without locks.
#[derive(Debug)]
pub struct Context {
    /// The application.
    pub app: Arc<App>,
    /// Digest authentication, HA1 cache and guessing guard.
    pub auth: SipAuth,
    /// The endpoint, for requests the server sends itself.
    pub endpoint: Endpoint,
    /// Feature-code calls and the IVR's dialogs.
    pub ivr: crate::ivr::Ivr,
    /// Sources whose message-summary NOTIFYs set mailboxes (HD-MWI-1).
    pub voicemail_trust: crate::mwi::voicemail::Trust,
    default_domain: DomainName,
}

impl Context {
    /// The served domain a request host names: an IP address means the default domain
    /// (SPEC §4); a name must be a domain we serve (HD-SEC-1). `None` otherwise.
    pub fn domain_of(&self, host: Host<'_>) -> Option<DomainName> {
        let state = self.app.read();
        let tenants = &state.tenants;
        match host.domain() {
            None => tenants
                .get(&self.default_domain)
                .map(|_| self.default_domain.clone()),
            // Phones write the domain as it was configured: found as written, it needs no
            // validating or case folding (every tenant's name is a valid DomainName).
            Some(name) => match tenants.name(name) {
                Some(found) => Some(found.clone()),
                None => {
                    let folded = DomainName::new(name).ok()?;
                    tenants.get(&folded).map(|_| folded)
                }
            },
        }
    }
}

/// Binds the endpoint. With port 0, UDP and TCP share one free port (as with a fixed
/// port), so one `--sip` address reaches both; a port taken meanwhile is tried again.
async fn bind(config: EndpointConfig) -> Result<(Endpoint, Events), EndpointError> {
    let Some(&addr) = config.transport.udp.first() else {
        return Endpoint::bind(config).await;
    };
    if addr.port() != 0 {
        return Endpoint::bind(config).await;
    }
    for _ in 0..20 {
        let Some(port) = shared_free_port(addr) else {
            break;
        };
        let mut attempt = config.clone();
        attempt.transport = TransportConfig::udp_tcp(SocketAddr::new(addr.ip(), port));
        if let Ok(bound) = Endpoint::bind(attempt).await {
            return Ok(bound);
        }
    }
    Endpoint::bind(config).await
}

/// A port free for both UDP and TCP on `addr`'s IP right now.
fn shared_free_port(addr: SocketAddr) -> Option<u16> {
    let udp = std::net::UdpSocket::bind(addr).ok()?;
    let port = udp.local_addr().ok()?.port();
    std::net::TcpListener::bind(SocketAddr::new(addr.ip(), port)).ok()?;
    Some(port)
}

/// Binds UDP and TCP on `settings.listen`, logs `listening for SIP/UDP on ADDR` and
/// `listening for SIP/TCP on ADDR`, and serves until `shutdown` fires.
pub async fn start(
    app: Arc<App>,
    settings: SipSettings,
    shutdown: Shutdown,
) -> Result<SipListeners, SipError> {
    let config = EndpointConfig {
        transport: TransportConfig::udp_tcp(settings.listen),
        // The registrar answers challenges and 200s statelessly, as Kamailio's `sl` does:
        // a REGISTER opens its transaction only for a refusal or a store write.
        deferred: vec![Method::Register],
        ..EndpointConfig::default()
    };
    let now = app.now();
    let bindings = Arc::clone(app.bindings());
    let live = registrar::load(&app, &bindings, now).await?;
    let mut auth = SipAuth::new(&settings.nonce_secret, settings.guard);
    let lookback = i64::from(settings.guard.window_secs) + i64::from(settings.guard.lock_secs);
    let since = now
        .checked_sub(SignedDuration::from_secs(lookback))
        .unwrap_or(now);
    for record in app.store().audit_since(SIP_AUTH_FAILED, since).await? {
        auth.replay(&record);
    }
    tracing::info!(bindings = live, "registrar state restored");

    let (endpoint, events) = bind(config).await?;
    let udp = endpoint.local_addr(Transport::Udp);
    let tcp = endpoint.local_addr(Transport::Tcp);
    let (commits, committer) = commit::spawn(Arc::clone(&app), Arc::clone(&bindings), COMMIT_QUEUE);
    let registrar = Registrar::new(settings.registrar, bindings, commits);
    let (cdrs, cdr_writer) = crate::b2bua::cdr::spawn(Arc::clone(&app));
    let (mut b2bua, call_events) =
        B2bua::new(Arc::clone(&app), endpoint.clone(), settings.calls, cdrs);
    b2bua.set_http_base(settings.http_base.clone());
    b2bua.set_dns_servers(&settings.dns_servers);
    let ivr = crate::ivr::Ivr::start(
        crate::ivr::IvrSettings::from_env()?,
        settings.listen.ip(),
        settings.rtp_address,
        &endpoint,
        app.activations(),
    )?;
    let notifier =
        crate::mwi::notifier::spawn(Arc::clone(&app), endpoint.clone(), shutdown.clone());
    let context = Context {
        app,
        auth,
        endpoint,
        ivr,
        voicemail_trust: settings.voicemail_trust,
        default_domain: settings.default_domain,
    };
    let dispatcher = tokio::spawn(dispatch::run(
        context,
        registrar,
        b2bua,
        events,
        call_events,
        shutdown,
        settings.sweep_interval,
    ));
    if let Some(addr) = udp {
        tracing::info!("listening for SIP/UDP on {addr}");
    }
    if let Some(addr) = tcp {
        tracing::info!("listening for SIP/TCP on {addr}");
    }
    Ok(SipListeners {
        udp,
        tcp,
        tasks: vec![dispatcher, committer, cdr_writer, notifier],
    })
}
