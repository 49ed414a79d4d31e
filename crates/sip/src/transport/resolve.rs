//! Locating SIP servers (RFC 3263 §4): from a URI's host, port and `transport` parameter to
//! an ordered list of (transport, address) targets — NAPTR, then SRV (ordered by priority
//! and weight, RFC 2782), then A/AAAA, with the short-cuts for IP literals (no DNS at all)
//! and explicit ports (A/AAAA only).
//!
//! DNS sits behind [`DnsLookup`] so the ordering logic is tested with injected records;
//! [`HickoryLookup`] is the real one. Only UDP, TCP and TLS are offered as targets: we do
//! not open outbound SCTP or WebSocket connections.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use hickory_resolver::config::{NameServerConfig, ResolverConfig};
use hickory_resolver::name_server::TokioConnectionProvider;
use hickory_resolver::proto::rr::{RData, RecordType};
use hickory_resolver::proto::xfer::Protocol;
use hickory_resolver::TokioResolver;
use rand::Rng;

use super::Transport;
use crate::uri::{Host, SipUri};

/// Where to send: the transport, the address, and the domain name the address was found
/// for (verified in the peer's TLS certificate, RFC 5922).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Target {
    /// The transport.
    pub transport: Transport,
    /// The address.
    pub addr: SocketAddr,
    /// The domain the lookup started from; `None` for an IP literal.
    pub name: Option<Arc<str>>,
}

impl Target {
    /// A target without a domain name.
    pub fn new(transport: Transport, addr: SocketAddr) -> Self {
        Self {
            transport,
            addr,
            name: None,
        }
    }
}

/// A NAPTR record (RFC 3403) as RFC 3263 §4.1 uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NaptrRecord {
    /// Lower first.
    pub order: u16,
    /// Lower first among equal `order`.
    pub preference: u16,
    /// `s` for records whose replacement is an SRV name.
    pub flags: String,
    /// `SIP+D2U`, `SIP+D2T`, `SIPS+D2T`, …
    pub services: String,
    /// The SRV name to look up next.
    pub replacement: String,
}

/// An SRV record (RFC 2782).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SrvRecord {
    /// Lower first.
    pub priority: u16,
    /// Relative chance among records of equal priority.
    pub weight: u16,
    /// The port.
    pub port: u16,
    /// The host to look up; `.` means "no service here".
    pub target: String,
}

/// Why no target was found.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// A DNS query failed (time-out, server failure); "no records" is not an error.
    #[error("DNS lookup of {name} failed: {source}")]
    Dns {
        /// The name queried.
        name: String,
        /// The resolver's reason.
        #[source]
        source: hickory_resolver::ResolveError,
    },
    /// The system DNS configuration could not be read.
    #[error("cannot read the system DNS configuration: {0}")]
    Config(#[source] hickory_resolver::ResolveError),
    /// Every step came back empty.
    #[error("no address found for {host}")]
    NoTargets {
        /// The host asked for.
        host: String,
    },
}

/// The DNS queries RFC 3263 needs. Empty answers are `Ok(vec![])`.
pub trait DnsLookup: Send + Sync {
    /// NAPTR records of `name`.
    fn naptr(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Vec<NaptrRecord>, ResolveError>> + Send;
    /// SRV records of `name` (`_sip._udp.example.com`).
    fn srv(&self, name: &str) -> impl Future<Output = Result<Vec<SrvRecord>, ResolveError>> + Send;
    /// A and AAAA records of `name`.
    fn ips(&self, name: &str) -> impl Future<Output = Result<Vec<IpAddr>, ResolveError>> + Send;
}

/// What to resolve: the parts of a SIP URI that RFC 3263 looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// Host name or IP literal (IPv6 with or without brackets); `maddr` when present.
    pub host: String,
    /// Explicit port.
    pub port: Option<u16>,
    /// Explicit `transport` parameter.
    pub transport: Option<Transport>,
    /// `sips:` URI: TLS only.
    pub secure: bool,
}

impl Query {
    /// The query for a SIP or SIPS URI (`maddr` overrides the host, §4).
    pub fn from_uri(uri: &SipUri<'_>) -> Self {
        let host = match uri.params().get("maddr") {
            Some(maddr) => maddr.to_owned(),
            None => match uri.host() {
                Host::Ipv6(ip) => ip.to_string(),
                Host::Ipv4(_) | Host::Domain(_) => uri.host_str().to_owned(),
            },
        };
        Self {
            host,
            port: uri.port(),
            transport: uri.transport().map(Transport::from_token),
            secure: uri.is_secure(),
        }
    }
}

/// RFC 3263 server location over a [`DnsLookup`].
#[derive(Debug, Clone)]
pub struct Resolver<L> {
    lookup: L,
}

/// Transports we can open, in our order of preference when DNS leaves the choice to us.
const PREFERENCE: [Transport; 3] = [Transport::Udp, Transport::Tcp, Transport::Tls];

fn srv_name(transport: Transport, host: &str) -> Option<String> {
    match transport {
        Transport::Udp => Some(format!("_sip._udp.{host}")),
        Transport::Tcp => Some(format!("_sip._tcp.{host}")),
        Transport::Tls => Some(format!("_sips._tcp.{host}")),
        Transport::Sctp
        | Transport::TlsSctp
        | Transport::Ws
        | Transport::Wss
        | Transport::Unknown => None,
    }
}

/// The transport a NAPTR service field names (RFC 3263 §4.1), if we can use it.
fn naptr_transport(services: &str) -> Option<Transport> {
    const SERVICES: [(&str, Transport); 3] = [
        ("SIP+D2U", Transport::Udp),
        ("SIP+D2T", Transport::Tcp),
        ("SIPS+D2T", Transport::Tls),
    ];
    SERVICES
        .iter()
        .find(|(s, _)| s.eq_ignore_ascii_case(services))
        .map(|(_, t)| *t)
}

/// Orders SRV records: ascending priority; within one priority, the weighted random
/// selection of RFC 2782 (weight-0 records first in the pool, so they are rarely chosen
/// first). Records whose target is `.` are dropped.
pub fn order_srv(mut records: Vec<SrvRecord>, rng: &mut impl Rng) -> Vec<SrvRecord> {
    records.retain(|r| r.target != "." && !r.target.is_empty());
    records.sort_by_key(|r| (r.priority, r.weight != 0));
    let mut out = Vec::with_capacity(records.len());
    let mut rest = records.as_slice();
    while let Some(first) = rest.first() {
        let same = rest
            .iter()
            .take_while(|r| r.priority == first.priority)
            .count();
        let mut pool: Vec<&SrvRecord> = rest[..same].iter().collect();
        while !pool.is_empty() {
            let total: u32 = pool.iter().map(|r| u32::from(r.weight)).sum();
            let pick = rng.random_range(0..=total);
            let mut running = 0;
            let index = pool
                .iter()
                .position(|r| {
                    running += u32::from(r.weight);
                    running >= pick
                })
                .unwrap_or(pool.len() - 1);
            out.push(pool.remove(index).clone());
        }
        rest = &rest[same..];
    }
    out
}

impl<L: DnsLookup> Resolver<L> {
    /// A resolver over `lookup`.
    pub fn new(lookup: L) -> Self {
        Self { lookup }
    }

    /// Targets for a SIP or SIPS URI, best first.
    pub async fn resolve_uri(&self, uri: &SipUri<'_>) -> Result<Vec<Target>, ResolveError> {
        self.resolve(&Query::from_uri(uri)).await
    }

    /// Targets for `query`, best first, without duplicates.
    pub async fn resolve(&self, query: &Query) -> Result<Vec<Target>, ResolveError> {
        let default = if query.secure {
            Transport::Tls
        } else {
            Transport::Udp
        };
        let bare = query.host.trim_start_matches('[').trim_end_matches(']');
        // §4.1/§4.2: a numeric host needs no DNS.
        if let Ok(ip) = bare.parse::<IpAddr>() {
            let transport = query.transport.unwrap_or(default);
            let port = query.port.unwrap_or(transport.default_port());
            return Ok(vec![Target::new(transport, SocketAddr::new(ip, port))]);
        }
        let host = query.host.as_str();
        let name: Arc<str> = Arc::from(host);
        let mut out = Vec::new();
        // §4.2: an explicit port means A/AAAA only.
        if let Some(port) = query.port {
            let transport = query.transport.unwrap_or(default);
            self.push_ips(&mut out, transport, host, port, &name)
                .await?;
            return finish(out, host);
        }
        for (transport, srv) in self.srv_names(query, host).await {
            let records = self.lookup.srv(&srv).await.unwrap_or_default();
            let ordered = order_srv(records, &mut rand::rng());
            for record in ordered {
                // One dead SRV target must not hide the others.
                let target = record.target.trim_end_matches('.');
                let _ = self
                    .push_ips(&mut out, transport, target, record.port, &name)
                    .await;
            }
        }
        if out.is_empty() {
            // §4.2: no NAPTR or SRV: A/AAAA of the host on the transport's default port.
            let transport = query.transport.unwrap_or(default);
            self.push_ips(&mut out, transport, host, transport.default_port(), &name)
                .await?;
        }
        finish(out, host)
    }

    /// The (transport, SRV name) pairs to try, in order (§4.1).
    async fn srv_names(&self, query: &Query, host: &str) -> Vec<(Transport, String)> {
        if let Some(transport) = query.transport {
            return srv_name(transport, host)
                .map(|n| (transport, n))
                .into_iter()
                .collect();
        }
        // A failed NAPTR query is treated like an empty one: SRV and A/AAAA still work.
        let mut naptr: Vec<NaptrRecord> = self.lookup.naptr(host).await.unwrap_or_default();
        naptr.sort_by_key(|r| (r.order, r.preference));
        let from_naptr: Vec<(Transport, String)> = naptr
            .into_iter()
            .filter(|r| r.flags.eq_ignore_ascii_case("s"))
            .filter_map(|r| {
                let transport = naptr_transport(&r.services)?;
                (!query.secure || transport == Transport::Tls)
                    .then(|| (transport, r.replacement.trim_end_matches('.').to_owned()))
            })
            .collect();
        if !from_naptr.is_empty() {
            return from_naptr;
        }
        PREFERENCE
            .iter()
            .filter(|t| !query.secure || **t == Transport::Tls)
            .filter_map(|&t| srv_name(t, host).map(|n| (t, n)))
            .collect()
    }

    async fn push_ips(
        &self,
        out: &mut Vec<Target>,
        transport: Transport,
        host: &str,
        port: u16,
        name: &Arc<str>,
    ) -> Result<(), ResolveError> {
        for ip in self.lookup.ips(host).await? {
            out.push(Target {
                transport,
                addr: SocketAddr::new(ip, port),
                name: Some(Arc::clone(name)),
            });
        }
        Ok(())
    }
}

fn finish(mut targets: Vec<Target>, host: &str) -> Result<Vec<Target>, ResolveError> {
    let mut seen = std::collections::HashSet::new();
    targets.retain(|t| seen.insert((t.transport, t.addr)));
    if targets.is_empty() {
        return Err(ResolveError::NoTargets {
            host: host.to_owned(),
        });
    }
    Ok(targets)
}

/// [`DnsLookup`] with hickory's tokio resolver.
#[derive(Debug, Clone)]
pub struct HickoryLookup {
    resolver: TokioResolver,
}

impl HickoryLookup {
    /// A resolver configured from `/etc/resolv.conf`.
    pub fn from_system() -> Result<Self, ResolveError> {
        let builder = TokioResolver::builder_tokio().map_err(ResolveError::Config)?;
        Ok(Self {
            resolver: builder.build(),
        })
    }

    /// A resolver asking only `servers` over UDP (TCP when an answer is truncated), with
    /// no search domains: for a site whose SIP records live on a DNS server of its own.
    pub fn with_servers(servers: &[SocketAddr]) -> Self {
        let group: Vec<NameServerConfig> = servers
            .iter()
            .flat_map(|&addr| {
                [
                    NameServerConfig::new(addr, Protocol::Udp),
                    NameServerConfig::new(addr, Protocol::Tcp),
                ]
            })
            .collect();
        let config = ResolverConfig::from_parts(None, Vec::new(), group);
        let resolver =
            TokioResolver::builder_with_config(config, TokioConnectionProvider::default()).build();
        Self { resolver }
    }

    /// Wraps a resolver configured by the caller.
    pub fn new(resolver: TokioResolver) -> Self {
        Self { resolver }
    }
}

/// Empty answers are not errors here.
fn empty_ok<T>(
    name: &str,
    result: Result<Vec<T>, hickory_resolver::ResolveError>,
) -> Result<Vec<T>, ResolveError> {
    match result {
        Ok(v) => Ok(v),
        Err(e) if e.is_no_records_found() => Ok(Vec::new()),
        Err(source) => Err(ResolveError::Dns {
            name: name.to_owned(),
            source,
        }),
    }
}

impl DnsLookup for HickoryLookup {
    async fn naptr(&self, name: &str) -> Result<Vec<NaptrRecord>, ResolveError> {
        let result = self
            .resolver
            .lookup(name, RecordType::NAPTR)
            .await
            .map(|l| {
                l.iter()
                    .filter_map(|r| match r {
                        RData::NAPTR(n) => Some(NaptrRecord {
                            order: n.order(),
                            preference: n.preference(),
                            flags: String::from_utf8_lossy(n.flags()).into_owned(),
                            services: String::from_utf8_lossy(n.services()).into_owned(),
                            replacement: n.replacement().to_ascii(),
                        }),
                        _ => None,
                    })
                    .collect()
            });
        empty_ok(name, result)
    }

    async fn srv(&self, name: &str) -> Result<Vec<SrvRecord>, ResolveError> {
        let result = self.resolver.srv_lookup(name).await.map(|l| {
            l.iter()
                .map(|s| SrvRecord {
                    priority: s.priority(),
                    weight: s.weight(),
                    port: s.port(),
                    target: s.target().to_ascii(),
                })
                .collect()
        });
        empty_ok(name, result)
    }

    async fn ips(&self, name: &str) -> Result<Vec<IpAddr>, ResolveError> {
        let result = self
            .resolver
            .lookup_ip(name)
            .await
            .map(|l| l.iter().collect());
        empty_ok(name, result)
    }
}

#[cfg(test)]
mod tests;
