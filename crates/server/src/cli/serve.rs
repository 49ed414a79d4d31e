//! `hotdesk serve`: load the configuration, open the store into an [`App`], create the demo
//! data if asked, start the listeners, and stop cleanly on SIGINT/SIGTERM.
//!
//! Start-up order matters to the tests: every listener logs exactly one
//! `listening for <PROTO> on <ADDR>` line once it is bound, SIP first, HTTP last, so a
//! harness that has seen the HTTP line knows the whole server is up.

use std::io::IsTerminal as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing_subscriber::EnvFilter;

use crate::config::{Config, ServeArgs};
use crate::secrets::{self, SecretString};
use crate::state::{App, AppConfig};

/// How long open connections (SSE streams, slow clients) may delay a shutdown.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// Runs the server until a shutdown signal.
pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let config = Config::from_args(&args)?;
    init_tracing(&config.log);
    let key = config.server_key()?;
    // A demo without a configured token gets a fresh one for this run, printed below.
    let admin_token = match (&config.admin_token, config.demo) {
        (Some(token), _) => Some(token.clone()),
        (None, true) => Some(secrets::new_token()),
        (None, false) => None,
    };
    let sip_settings = crate::sip::SipSettings::from_env(config.sip, config.domain.clone())?;
    let mut app_config = AppConfig::new(config.database.clone(), key);
    app_config.admin_token = admin_token.clone();
    // Provisioning passwords are guarded with the SIP digest limits (HD-SEC-3).
    app_config.provision_guard = sip_settings.guard;
    app_config.provision_sip_server = config.provision_sip_server.clone();
    let app = App::open(app_config)
        .await
        .with_context(|| format!("opening database {}", redact_url(&config.database)))?;
    let demo = match config.demo {
        true => Some(
            crate::demo::ensure(&app, &config.domain)
                .await
                .context("creating the demo data")?,
        ),
        false => None,
    };

    let shutdown = Shutdown::new();
    // Bound before SIP starts (emergency calls carry location URLs on it, HD-ROUTE-6), but
    // announced last, so the HTTP line still means "everything is up".
    let listener = tokio::net::TcpListener::bind(config.http)
        .await
        .with_context(|| format!("binding HTTP on {}", config.http))?;
    let http = listener.local_addr().context("reading the HTTP address")?;
    let sip = start_sip(&app, &config, sip_settings, http, shutdown.clone()).await?;
    let router = crate::api::router_with(
        Arc::clone(&app),
        crate::portal::PortalConfig {
            default_domain: Some(config.domain.clone()),
        },
    );
    let https = match &config.https {
        Some(https) => Some(start_https(https, router.clone(), shutdown.clone()).await?),
        None => None,
    };
    if let Some(demo) = &demo {
        let token = admin_token.as_ref().map(SecretString::expose).unwrap_or("");
        println!("{}", demo.instructions(http, sip.udp, token));
    }
    tracing::info!("listening for HTTP on {http}");

    tokio::spawn(watch_signals(shutdown.clone()));
    let service = router.into_make_service_with_connect_info::<SocketAddr>();
    let mut stop = shutdown.clone();
    let server = axum::serve(listener, service).with_graceful_shutdown(async move {
        stop.wait().await;
    });
    let mut stopped = shutdown.clone();
    tokio::select! {
        result = server => result.context("HTTP server")?,
        () = async { stopped.wait().await; tokio::time::sleep(DRAIN_TIMEOUT).await } => {
            tracing::warn!("connections still open after {DRAIN_TIMEOUT:?}; closing them");
        }
    }
    if let Some(task) = https {
        let _ = tokio::time::timeout(DRAIN_TIMEOUT, task).await;
    }
    for task in sip.tasks {
        let _ = tokio::time::timeout(DRAIN_TIMEOUT, task).await;
    }
    tracing::info!("stopped");
    Ok(())
}

/// What the SIP listener started: its bound addresses and tasks to await at shutdown.
#[derive(Debug, Default)]
pub struct SipListeners {
    /// Bound UDP address, once the listener exists.
    pub udp: Option<SocketAddr>,
    /// Bound TCP address.
    pub tcp: Option<SocketAddr>,
    /// Tasks that end after `shutdown` fires.
    pub tasks: Vec<JoinHandle<()>>,
}

/// SIP listener hook: bind UDP and TCP on `config.sip` (port 0 allowed), log exactly
/// `listening for SIP/UDP on ADDR` and `listening for SIP/TCP on ADDR` once bound, serve
/// `app` until `shutdown` fires (see [`crate::sip::start`]).
async fn start_sip(
    app: &Arc<App>,
    config: &Config,
    mut settings: crate::sip::SipSettings,
    http: SocketAddr,
    shutdown: Shutdown,
) -> anyhow::Result<SipListeners> {
    settings.http_base = Some(format!("http://{http}"));
    settings.voicemail_trust = config.voicemail_trust.clone();
    settings.rtp_address = config.rtp_address;
    Ok(crate::sip::start(Arc::clone(app), settings, shutdown).await?)
}

/// Binds `--https`, logs `listening for HTTPS on ADDR`, and serves `router` over TLS until
/// `shutdown` (HD-PROV-1: provisioning over HTTPS; the API and portal come along).
async fn start_https(
    https: &crate::config::Https,
    router: axum::Router,
    shutdown: Shutdown,
) -> anyhow::Result<JoinHandle<()>> {
    use axum::serve::ListenerExt as _;
    let acceptor = hotdesk_sip::transport::tls_acceptor(&https.identity)
        .context("loading the HTTPS certificate and key")?;
    let listener = tokio::net::TcpListener::bind(https.addr)
        .await
        .with_context(|| format!("binding HTTPS on {}", https.addr))?;
    let addr = listener.local_addr().context("reading the HTTPS address")?;
    // `tap_io` is a no-op here: it lends the listener axum's `ConnectInfo<SocketAddr>`
    // support, which handlers use for the client's address (audit, lock-outs).
    let listener =
        super::https::TlsListener::spawn(listener, acceptor, shutdown.clone()).tap_io(|_| {});
    let service = router.into_make_service_with_connect_info::<SocketAddr>();
    let mut stop = shutdown;
    let server = axum::serve(listener, service).with_graceful_shutdown(async move {
        stop.wait().await;
    });
    tracing::info!("listening for HTTPS on {addr}");
    Ok(tokio::spawn(async move {
        if let Err(error) = server.await {
            tracing::error!(%error, "HTTPS server");
        }
    }))
}

/// A shutdown signal that many tasks can wait for.
#[derive(Debug, Clone)]
pub struct Shutdown {
    sender: Arc<watch::Sender<bool>>,
    receiver: watch::Receiver<bool>,
}

impl Shutdown {
    /// A signal that has not fired.
    pub fn new() -> Self {
        let (sender, receiver) = watch::channel(false);
        Self {
            sender: Arc::new(sender),
            receiver,
        }
    }

    /// Fires the signal; every waiter wakes.
    pub fn trigger(&self) {
        self.sender.send_replace(true);
    }

    /// Whether the signal has fired.
    pub fn is_triggered(&self) -> bool {
        *self.receiver.borrow()
    }

    /// Resolves once the signal has fired (at once if it already has).
    pub async fn wait(&mut self) {
        // Err means every sender is gone, which only happens at the very end: stop too.
        let _ = self.receiver.wait_for(|fired| *fired).await;
    }
}

impl Default for Shutdown {
    fn default() -> Self {
        Self::new()
    }
}

async fn watch_signals(shutdown: Shutdown) {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!("cannot watch SIGTERM: {error}");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT: shutting down"),
        () = terminate => tracing::info!("SIGTERM: shutting down"),
    }
    shutdown.trigger();
}

/// Logs to stderr, filtered by `RUST_LOG` or else the config's `log` key; colours only on a
/// terminal, so the `listening for …` lines stay plain text for scripts.
fn init_tracing(default_filter: &str) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(default_filter))
        .unwrap_or_else(|_| EnvFilter::new(crate::config::DEFAULT_LOG));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}

/// The database URL without a password, for error messages.
fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((credentials, host)) if credentials.contains(':') => {
            let user = credentials.split(':').next().unwrap_or("");
            format!("{scheme}://{user}:***@{host}")
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hd_sec_2_database_password_is_not_printed() {
        assert_eq!(
            redact_url("postgres://hd:s3cret@db:5432/hotdesk"),
            "postgres://hd:***@db:5432/hotdesk"
        );
        assert_eq!(redact_url("sqlite://hotdesk.db"), "sqlite://hotdesk.db");
        assert_eq!(
            redact_url("postgres://postgres@127.0.0.1/test"),
            "postgres://postgres@127.0.0.1/test"
        );
    }

    #[tokio::test]
    async fn shutdown_wakes_every_waiter_even_late_ones() {
        let shutdown = Shutdown::new();
        let mut early = shutdown.clone();
        let waiter = tokio::spawn(async move { early.wait().await });
        assert!(!shutdown.is_triggered());
        shutdown.trigger();
        waiter.await.unwrap();
        let mut late = shutdown.clone();
        late.wait().await;
        assert!(late.is_triggered());
    }
}
