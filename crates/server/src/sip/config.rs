//! SIP settings: the listen address and default domain from the server configuration, the
//! registrar's expiry bounds and the digest guessing guard from the environment
//! (`HOTDESK_REG_*`, `HOTDESK_SIP_AUTH_*`), so operators and tests can tune them without a
//! config-file change.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hotdesk_core::DomainName;

use crate::registrar::Policy;
use crate::sip::guard::GuardPolicy;

/// A malformed `HOTDESK_REG_*` / `HOTDESK_SIP_*` / `HOTDESK_DNS_SERVERS` variable.
#[derive(Debug, thiserror::Error)]
pub enum SipConfigError {
    /// An entry of `HOTDESK_DNS_SERVERS` is not `IP` or `IP:PORT`.
    #[error("HOTDESK_DNS_SERVERS entries must be IP or IP:PORT, got {0:?}")]
    DnsServer(String),
    /// The variable is not a whole number of seconds (or a count).
    #[error("{name} must be a whole number, got {value:?}")]
    NotANumber {
        /// The variable.
        name: &'static str,
        /// What it held.
        value: String,
    },
    /// The expiry bounds contradict each other.
    #[error("registrar expiry bounds must satisfy 1 <= min ({min}) <= default ({default}) <= max ({max})")]
    Bounds {
        /// `HOTDESK_REG_MIN_EXPIRES`.
        min: u32,
        /// `HOTDESK_REG_DEFAULT_EXPIRES`.
        default: u32,
        /// `HOTDESK_REG_MAX_EXPIRES`.
        max: u32,
    },
}

/// Everything [`crate::sip::start`] needs.
#[derive(Debug, Clone)]
pub struct SipSettings {
    /// UDP and TCP listen address (`--sip`); port 0 picks a free port per transport.
    pub listen: SocketAddr,
    /// Requests whose host is an IP address belong to this domain (SPEC §4).
    pub default_domain: DomainName,
    /// Registrar expiry bounds and contact limit.
    pub registrar: Policy,
    /// Digest failures tolerated per source address and per user before a lock-out.
    pub guard: GuardPolicy,
    /// Secret that signs digest nonces; nodes sharing a database should share it
    /// (`HOTDESK_SIP_NONCE_SECRET`), else each process draws a random one.
    pub nonce_secret: Vec<u8>,
    /// How often lapsed bindings are looked for.
    pub sweep_interval: Duration,
    /// Call timers (B2BUA).
    pub calls: crate::b2bua::CallPolicy,
    /// Base URL of the HTTP listener (`http://127.0.0.1:8080`), for location URLs.
    pub http_base: Option<String>,
    /// Voicemail servers whose message-summary NOTIFYs are believed (`--voicemail-trust`).
    pub voicemail_trust: crate::mwi::voicemail::Trust,
    /// Address the IVR's SDP offers for RTP (`--rtp-address`); `None`: the listen address,
    /// or the routed guess when that is a wildcard.
    pub rtp_address: Option<IpAddr>,
    /// DNS servers for trunk names (`HOTDESK_DNS_SERVERS`); empty: `/etc/resolv.conf`.
    pub dns_servers: Vec<SocketAddr>,
}

impl SipSettings {
    /// Defaults for `listen` and `default_domain`, overridden by the environment:
    /// `HOTDESK_REG_MIN_EXPIRES` (60), `HOTDESK_REG_DEFAULT_EXPIRES` (3600),
    /// `HOTDESK_REG_MAX_EXPIRES` (7200), `HOTDESK_REG_MAX_CONTACTS` (10),
    /// `HOTDESK_SIP_AUTH_MAX_FAILURES` (10), `HOTDESK_SIP_AUTH_WINDOW` (300 s),
    /// `HOTDESK_SIP_AUTH_LOCK` (300 s), `HOTDESK_SIP_NONCE_SECRET`,
    /// `HOTDESK_CALL_RING_TIMEOUT` (60 s), `HOTDESK_CALL_MAX_DURATION` (4 h),
    /// `HOTDESK_CALL_MIN_SE` (90 s, RFC 4028), `HOTDESK_CALL_SESSION_EXPIRES` (1800 s; the
    /// session interval asked of a callee when the caller asked for none, 0: none),
    /// `HOTDESK_DNS_SERVERS` (comma-separated `IP` or `IP:PORT`, port 53 by default).
    pub fn from_env(
        listen: SocketAddr,
        default_domain: DomainName,
    ) -> Result<Self, SipConfigError> {
        Self::from_lookup(listen, default_domain, |name| std::env::var(name).ok())
    }

    /// As [`Self::from_env`], reading variables through `lookup` (tests).
    pub fn from_lookup(
        listen: SocketAddr,
        default_domain: DomainName,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, SipConfigError> {
        let number = |name: &'static str, default: u32| -> Result<u32, SipConfigError> {
            match lookup(name) {
                None => Ok(default),
                Some(value) => value
                    .trim()
                    .parse()
                    .map_err(|_| SipConfigError::NotANumber { name, value }),
            }
        };
        let defaults = Policy::default();
        let registrar = Policy {
            min_expires: number("HOTDESK_REG_MIN_EXPIRES", defaults.min_expires)?,
            default_expires: number("HOTDESK_REG_DEFAULT_EXPIRES", defaults.default_expires)?,
            max_expires: number("HOTDESK_REG_MAX_EXPIRES", defaults.max_expires)?,
            max_contacts: number("HOTDESK_REG_MAX_CONTACTS", defaults.max_contacts as u32)?
                as usize,
        };
        let (min, default, max) = (
            registrar.min_expires,
            registrar.default_expires,
            registrar.max_expires,
        );
        if !(1 <= min && min <= default && default <= max) {
            return Err(SipConfigError::Bounds { min, default, max });
        }
        let guard_defaults = GuardPolicy::default();
        let guard = GuardPolicy {
            max_failures: number("HOTDESK_SIP_AUTH_MAX_FAILURES", guard_defaults.max_failures)?,
            window_secs: number("HOTDESK_SIP_AUTH_WINDOW", guard_defaults.window_secs)?,
            lock_secs: number("HOTDESK_SIP_AUTH_LOCK", guard_defaults.lock_secs)?,
        };
        let nonce_secret = match lookup("HOTDESK_SIP_NONCE_SECRET").filter(|s| !s.is_empty()) {
            Some(secret) => secret.into_bytes(),
            None => rand::random::<[u8; 32]>().to_vec(),
        };
        Ok(Self {
            listen,
            default_domain,
            registrar,
            guard,
            nonce_secret,
            sweep_interval: Duration::from_secs(1),
            calls: crate::b2bua::CallPolicy {
                ring_timeout: Duration::from_secs(u64::from(number(
                    "HOTDESK_CALL_RING_TIMEOUT",
                    60,
                )?)),
                max_duration: Duration::from_secs(u64::from(number(
                    "HOTDESK_CALL_MAX_DURATION",
                    4 * 3600,
                )?)),
                min_se: number("HOTDESK_CALL_MIN_SE", crate::b2bua::session::MIN_SE_FLOOR)?,
                session_expires: number(
                    "HOTDESK_CALL_SESSION_EXPIRES",
                    crate::b2bua::session::SESSION_EXPIRES,
                )?,
            },
            http_base: None,
            voicemail_trust: crate::mwi::voicemail::Trust::default(),
            rtp_address: None,
            dns_servers: dns_servers(lookup("HOTDESK_DNS_SERVERS").as_deref().unwrap_or(""))?,
        })
    }
}

/// `10.0.0.53, 10.0.0.54:5353, [fd00::53]:53` → socket addresses, port 53 when none is given.
fn dns_servers(list: &str) -> Result<Vec<SocketAddr>, SipConfigError> {
    list.split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            entry
                .parse::<SocketAddr>()
                .or_else(|_| entry.parse::<IpAddr>().map(|ip| SocketAddr::new(ip, 53)))
                .map_err(|_| SipConfigError::DnsServer(entry.to_owned()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(vars: &[(&str, &str)]) -> Result<SipSettings, SipConfigError> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        SipSettings::from_lookup(
            "127.0.0.1:0".parse().unwrap(),
            DomainName::new("acme.test").unwrap(),
            move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()),
        )
    }

    #[test]
    fn defaults_follow_rfc3261_10_2_1_1_hour() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.registrar.default_expires, 3600);
        assert_eq!(s.registrar.max_expires, 7200);
        assert_eq!(s.guard.max_failures, 10);
        assert_eq!(s.nonce_secret.len(), 32);
    }

    #[test]
    fn environment_overrides_and_checks_bounds() {
        let s = settings(&[
            ("HOTDESK_REG_MIN_EXPIRES", "2"),
            ("HOTDESK_REG_DEFAULT_EXPIRES", "5"),
            ("HOTDESK_REG_MAX_EXPIRES", "8"),
            ("HOTDESK_SIP_NONCE_SECRET", "shared"),
        ])
        .unwrap();
        assert_eq!((s.registrar.min_expires, s.registrar.max_expires), (2, 8));
        assert_eq!(s.nonce_secret, b"shared");
        assert!(matches!(
            settings(&[("HOTDESK_REG_MIN_EXPIRES", "9000")]),
            Err(SipConfigError::Bounds { .. })
        ));
        assert!(matches!(
            settings(&[("HOTDESK_SIP_AUTH_LOCK", "soon")]),
            Err(SipConfigError::NotANumber { .. })
        ));
    }

    /// RFC 3263 §4: trunk names may be looked up on the site's own DNS servers.
    #[test]
    fn rfc3263_dns_servers_take_ip_or_ip_and_port() {
        assert!(settings(&[]).unwrap().dns_servers.is_empty());
        let s = settings(&[(
            "HOTDESK_DNS_SERVERS",
            "10.0.0.53, 127.0.0.1:5353,[fd00::53]:53",
        )])
        .unwrap();
        let want: Vec<SocketAddr> = ["10.0.0.53:53", "127.0.0.1:5353", "[fd00::53]:53"]
            .iter()
            .map(|a| a.parse().unwrap())
            .collect();
        assert_eq!(s.dns_servers, want);
        assert!(matches!(
            settings(&[("HOTDESK_DNS_SERVERS", "ns1.example.com")]),
            Err(SipConfigError::DnsServer(entry)) if entry == "ns1.example.com"
        ));
    }
}
