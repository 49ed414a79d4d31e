//! Server configuration: defaults, then a TOML file, then environment and flags on top.
//!
//! `hotdesk serve` reads [`ServeArgs`] (flags with `HOTDESK_*` environment fallbacks), loads
//! the optional TOML file named by `--config`, and merges them into one [`Config`]. The
//! server key that seals SIP passwords is resolved separately by [`Config::server_key`],
//! because it may create a key file on first run.

mod args;
mod key;

use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4};
use std::path::{Path, PathBuf};

use hotdesk_core::DomainName;
use serde::Deserialize;

use crate::secrets::SecretString;

pub use args::ServeArgs;
pub use key::{KeySource, DEFAULT_KEY_FILE_SUFFIX};

/// Default SIP address (UDP and TCP).
pub const DEFAULT_SIP: SocketAddr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 5060));
/// Default HTTP address (REST API, provisioning, portal).
pub const DEFAULT_HTTP: SocketAddr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 8080));
/// Default database: an SQLite file in the working directory.
pub const DEFAULT_DATABASE: &str = "sqlite://hotdesk.db";
/// Default domain: requests whose host is an IP address belong to it (SPEC §4).
pub const DEFAULT_DOMAIN: &str = "acme.test";
/// Log filter used when neither `RUST_LOG` nor the `log` key is set.
pub const DEFAULT_LOG: &str = "info";

/// Why the configuration could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The config file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file named by `--config`.
        path: PathBuf,
        /// The I/O failure.
        source: std::io::Error,
    },
    /// The config file is not valid TOML or has an unknown key.
    #[error("invalid config file {path}: {source}")]
    Parse {
        /// The file named by `--config`.
        path: PathBuf,
        /// What is wrong, with line and column.
        source: Box<toml::de::Error>,
    },
    /// The domain name is malformed.
    #[error("invalid domain {value:?}: {source}")]
    Domain {
        /// The rejected name.
        value: String,
        /// Why it was rejected.
        source: hotdesk_core::IdError,
    },
    /// The server key given is not 32 bytes.
    #[error("invalid server key in {origin}: {source}")]
    Key {
        /// Where the key came from (`HOTDESK_SECRET_KEY` or a file path).
        origin: String,
        /// Why it was refused.
        source: crate::secrets::SecretError,
    },
    /// The key file could not be read or created.
    #[error("cannot use key file {path}: {source}")]
    KeyFile {
        /// The key file.
        path: PathBuf,
        /// The I/O failure.
        source: std::io::Error,
    },
    /// PostgreSQL is shared by several nodes, so they must share one explicit key.
    #[error(
        "a PostgreSQL database needs an explicit server key shared by all nodes: \
         set HOTDESK_SECRET_KEY (64 hex digits) or key_file"
    )]
    KeyRequired,
    /// A `--voicemail-trust` entry is not an address or network.
    #[error("invalid --voicemail-trust: {0}")]
    Trust(crate::mwi::voicemail::TrustError),
    /// `--https` without a certificate or key.
    #[error("--https needs both --tls-cert and --tls-key (HOTDESK_TLS_CERT, HOTDESK_TLS_KEY)")]
    TlsIncomplete,
    /// `--provision-sip-server` is not `host[:port]`.
    #[error("invalid --provision-sip-server: {0}")]
    SipServer(crate::provisioning::SipServerError),
}

/// The `hotdesk.toml` file. Every key is optional; unknown keys are an error.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// SIP address for UDP and TCP, e.g. `"0.0.0.0:5060"`.
    pub sip: Option<SocketAddr>,
    /// Address SDP offers for RTP, e.g. `"192.0.2.10"`.
    pub rtp_address: Option<IpAddr>,
    /// HTTP address, e.g. `"0.0.0.0:8080"`.
    pub http: Option<SocketAddr>,
    /// Database URL: `sqlite://path` or `postgres://…`.
    pub database: Option<String>,
    /// Default domain.
    pub domain: Option<String>,
    /// Create the demo domain at start.
    pub demo: Option<bool>,
    /// Super-admin bearer token (prefer `HOTDESK_ADMIN_TOKEN`).
    pub admin_token: Option<String>,
    /// File holding the server key as 64 hex digits; created (0600) when missing.
    pub key_file: Option<PathBuf>,
    /// Log filter when `RUST_LOG` is unset, e.g. `"info,hotdesk=debug"`.
    pub log: Option<String>,
}

impl FileConfig {
    /// Reads and parses a TOML config file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Parses TOML text; `path` only names the file in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Self, ConfigError> {
        toml::from_str(text).map_err(|source| ConfigError::Parse {
            path: path.to_owned(),
            source: Box::new(source),
        })
    }
}

/// The HTTPS listener: address, certificate chain and key (PEM files).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Https {
    /// Listen address; port 0 picks a free port.
    pub addr: SocketAddr,
    /// Certificate and key files.
    pub identity: hotdesk_sip::transport::TlsIdentity,
}

/// Effective settings for `hotdesk serve`.
#[derive(Debug, Clone)]
pub struct Config {
    /// SIP address (UDP and TCP); port 0 picks a free port.
    pub sip: SocketAddr,
    /// Address SDP offers for RTP; `None`: derived from `sip`.
    pub rtp_address: Option<IpAddr>,
    /// HTTP address; port 0 picks a free port.
    pub http: SocketAddr,
    /// Database URL.
    pub database: String,
    /// Default domain, and the demo domain with `--demo`.
    pub domain: DomainName,
    /// Create the demo data at start (idempotent).
    pub demo: bool,
    /// Super-admin bearer token, if configured.
    pub admin_token: Option<SecretString>,
    /// Where the server key comes from.
    pub key: KeySource,
    /// Log filter when `RUST_LOG` is unset.
    pub log: String,
    /// Voicemail servers whose message-summary NOTIFYs are believed (HD-MWI-1).
    pub voicemail_trust: crate::mwi::voicemail::Trust,
    /// The HTTPS listener, if configured.
    pub https: Option<Https>,
    /// SIP server for provisioned files; `None`: each device's domain, port 5060.
    pub provision_sip_server: Option<crate::provisioning::SipServer>,
}

impl Config {
    /// Builds the configuration from flags/environment and the file they name, if any.
    pub fn from_args(args: &ServeArgs) -> Result<Self, ConfigError> {
        let file = match &args.config {
            Some(path) => FileConfig::load(path)?,
            None => FileConfig::default(),
        };
        Self::merge(args, file)
    }

    /// Flags and environment win over the file; the file wins over defaults.
    pub fn merge(args: &ServeArgs, file: FileConfig) -> Result<Self, ConfigError> {
        let domain_text = args
            .domain
            .clone()
            .or(file.domain)
            .unwrap_or_else(|| DEFAULT_DOMAIN.to_owned());
        let domain = DomainName::new(&domain_text).map_err(|source| ConfigError::Domain {
            value: domain_text.clone(),
            source,
        })?;
        let database = args
            .database
            .clone()
            .or(file.database)
            .unwrap_or_else(|| DEFAULT_DATABASE.to_owned());
        let key = KeySource::choose(
            args.secret_key.as_deref(),
            args.key_file.clone().or(file.key_file),
            &database,
        );
        Ok(Self {
            sip: args.sip.or(file.sip).unwrap_or(DEFAULT_SIP),
            rtp_address: args.rtp_address.or(file.rtp_address),
            http: args.http.or(file.http).unwrap_or(DEFAULT_HTTP),
            database,
            domain,
            demo: args.demo || file.demo.unwrap_or(false),
            admin_token: args
                .admin_token
                .clone()
                .or(file.admin_token)
                .filter(|t| !t.is_empty())
                .map(SecretString::new),
            key,
            log: file.log.unwrap_or_else(|| DEFAULT_LOG.to_owned()),
            voicemail_trust: crate::mwi::voicemail::Trust::parse(&args.voicemail_trust)
                .map_err(ConfigError::Trust)?,
            https: match (args.https, &args.tls_cert, &args.tls_key) {
                (None, _, _) => None,
                (Some(addr), Some(cert), Some(key)) => Some(Https {
                    addr,
                    identity: hotdesk_sip::transport::TlsIdentity {
                        cert_pem: cert.clone(),
                        key_pem: key.clone(),
                    },
                }),
                (Some(_), _, _) => return Err(ConfigError::TlsIncomplete),
            },
            provision_sip_server: args
                .provision_sip_server
                .as_deref()
                .map(crate::provisioning::SipServer::parse)
                .transpose()
                .map_err(ConfigError::SipServer)?,
        })
    }

    /// Loads the server key, creating its file on first run where that is allowed.
    pub fn server_key(&self) -> Result<crate::secrets::ServerKey, ConfigError> {
        self.key.load()
    }
}

#[cfg(test)]
mod tests;
