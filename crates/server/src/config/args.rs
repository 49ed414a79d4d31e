//! Flags of `hotdesk serve`, each with a `HOTDESK_*` environment fallback (SPEC §4).

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

/// `hotdesk serve` flags. Unset ones fall back to the config file, then to defaults.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ServeArgs {
    /// TOML config file (keys: sip, rtp_address, http, database, domain, demo, admin_token, key_file, log).
    #[arg(long, env = "HOTDESK_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// SIP address for UDP and TCP [default: 127.0.0.1:5060]; port 0 picks a free port.
    #[arg(long, env = "HOTDESK_SIP", value_name = "ADDR")]
    pub sip: Option<SocketAddr>,
    /// Address the voice prompts' SDP offers for RTP [default: the --sip address; with
    /// 0.0.0.0 or ::, the address the routing table picks].
    #[arg(long, env = "HOTDESK_RTP_ADDRESS", value_name = "IP")]
    pub rtp_address: Option<IpAddr>,
    /// HTTP address for the API, provisioning and portal [default: 127.0.0.1:8080].
    #[arg(long, env = "HOTDESK_HTTP", value_name = "ADDR")]
    pub http: Option<SocketAddr>,
    /// HTTPS address serving the same API, provisioning and portal [default: none]; needs
    /// --tls-cert and --tls-key.
    #[arg(long, env = "HOTDESK_HTTPS", value_name = "ADDR")]
    pub https: Option<SocketAddr>,
    /// Certificate chain (PEM, leaf first) for --https.
    #[arg(long, env = "HOTDESK_TLS_CERT", value_name = "FILE")]
    pub tls_cert: Option<PathBuf>,
    /// Private key (PEM: PKCS#8, PKCS#1 or SEC1) for --https.
    #[arg(long, env = "HOTDESK_TLS_KEY", value_name = "FILE")]
    pub tls_key: Option<PathBuf>,
    /// Database URL: sqlite://hotdesk.db (default) or postgres://user@host/db.
    #[arg(long, env = "HOTDESK_DATABASE", value_name = "URL")]
    pub database: Option<String>,
    /// Default domain (requests addressed to an IP belong to it) [default: acme.test].
    #[arg(long, env = "HOTDESK_DOMAIN", value_name = "NAME")]
    pub domain: Option<String>,
    /// Create the demo domain, users and devices (idempotent) and print how to try them.
    #[arg(long)]
    pub demo: bool,
    /// Super-admin bearer token; prefer the environment variable over the flag.
    #[arg(
        long,
        env = "HOTDESK_ADMIN_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub admin_token: Option<String>,
    /// Server key file (64 hex digits), created with mode 0600 when missing
    /// [default: beside the SQLite database, `<db>.key`].
    #[arg(long, env = "HOTDESK_KEY_FILE", value_name = "FILE")]
    pub key_file: Option<PathBuf>,
    /// Voicemail servers (IPs or CIDRs, comma-separated, IPv4 or IPv6) whose
    /// message-summary NOTIFYs set users' mailbox counts [default: none].
    #[arg(
        long,
        env = "HOTDESK_VOICEMAIL_TRUST",
        value_name = "NETS",
        value_delimiter = ','
    )]
    pub voicemail_trust: Vec<String>,
    /// SIP server written into provisioned phone files, host[:port]
    /// [default: the device's domain, port 5060].
    #[arg(long, env = "HOTDESK_PROVISION_SIP_SERVER", value_name = "HOST[:PORT]")]
    pub provision_sip_server: Option<String>,
    /// Microseconds a busy worker thread waits before it sleeps, so that requests arriving
    /// meanwhile are handled in one batch [default: 200; 0: never wait; at most 10000].
    /// Flag or environment only: the runtime starts before the config file is read.
    #[arg(
        long,
        env = "HOTDESK_COALESCE_US",
        value_name = "MICROSECONDS",
        value_parser = clap::value_parser!(u64).range(0..=10_000)
    )]
    pub coalesce_us: Option<u64>,
    /// Server key as 64 hex digits; overrides any key file.
    #[arg(long, env = "HOTDESK_SECRET_KEY", hide = true, hide_env_values = true)]
    pub secret_key: Option<String>,
}
