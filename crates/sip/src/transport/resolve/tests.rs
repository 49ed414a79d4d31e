//! RFC 3263 §4 target selection with injected DNS records (no network).

use std::collections::HashMap;
use std::sync::Mutex;

use rand::rngs::StdRng;
use rand::SeedableRng;

use super::*;

/// Records by name; every query is logged so tests can check that DNS was (not) used.
#[derive(Default)]
struct FakeDns {
    naptr: HashMap<&'static str, Vec<NaptrRecord>>,
    srv: HashMap<&'static str, Vec<SrvRecord>>,
    ips: HashMap<&'static str, Vec<IpAddr>>,
    queries: Mutex<Vec<String>>,
}

impl FakeDns {
    fn log(&self, kind: &str, name: &str) {
        self.queries.lock().unwrap().push(format!("{kind} {name}"));
    }
    fn queries(&self) -> Vec<String> {
        self.queries.lock().unwrap().clone()
    }
}

impl DnsLookup for FakeDns {
    async fn naptr(&self, name: &str) -> Result<Vec<NaptrRecord>, ResolveError> {
        self.log("NAPTR", name);
        Ok(self.naptr.get(name).cloned().unwrap_or_default())
    }
    async fn srv(&self, name: &str) -> Result<Vec<SrvRecord>, ResolveError> {
        self.log("SRV", name);
        Ok(self.srv.get(name).cloned().unwrap_or_default())
    }
    async fn ips(&self, name: &str) -> Result<Vec<IpAddr>, ResolveError> {
        self.log("A", name);
        Ok(self.ips.get(name).cloned().unwrap_or_default())
    }
}

fn naptr(order: u16, preference: u16, services: &str, replacement: &str) -> NaptrRecord {
    NaptrRecord {
        order,
        preference,
        flags: "s".into(),
        services: services.into(),
        replacement: replacement.into(),
    }
}

fn srv(priority: u16, weight: u16, port: u16, target: &str) -> SrvRecord {
    SrvRecord {
        priority,
        weight,
        port,
        target: target.into(),
    }
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn query(host: &str) -> Query {
    Query {
        host: host.into(),
        port: None,
        transport: None,
        secure: false,
    }
}

fn run<T>(f: impl Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(f)
}

fn pairs(targets: &[Target]) -> Vec<(Transport, String)> {
    targets
        .iter()
        .map(|t| (t.transport, t.addr.to_string()))
        .collect()
}

#[test]
fn rfc3263_4_1_ip_literal_needs_no_dns() {
    let dns = FakeDns::default();
    let resolver = Resolver::new(dns);
    let cases = [
        (
            "192.0.2.1",
            None,
            None,
            false,
            (Transport::Udp, "192.0.2.1:5060"),
        ),
        (
            "192.0.2.1",
            Some(5080),
            Some(Transport::Tcp),
            false,
            (Transport::Tcp, "192.0.2.1:5080"),
        ),
        (
            "[2001:db8::1]",
            None,
            None,
            false,
            (Transport::Udp, "[2001:db8::1]:5060"),
        ),
        (
            "192.0.2.1",
            None,
            None,
            true,
            (Transport::Tls, "192.0.2.1:5061"),
        ),
    ];
    for (host, port, transport, secure, want) in cases {
        let q = Query {
            host: host.into(),
            port,
            transport,
            secure,
        };
        let got = run(resolver.resolve(&q)).unwrap();
        assert_eq!(pairs(&got), [(want.0, want.1.to_owned())], "{q:?}");
        assert_eq!(got[0].name, None);
    }
    assert!(resolver.lookup.queries().is_empty());
}

#[test]
fn rfc3263_4_2_explicit_port_uses_a_records_only() {
    let mut dns = FakeDns::default();
    dns.ips
        .insert("trunk.example", vec![ip("192.0.2.10"), ip("2001:db8::10")]);
    let resolver = Resolver::new(dns);
    let q = Query {
        port: Some(5080),
        ..query("trunk.example")
    };
    let got = run(resolver.resolve(&q)).unwrap();
    assert_eq!(
        pairs(&got),
        [
            (Transport::Udp, "192.0.2.10:5080".to_owned()),
            (Transport::Udp, "[2001:db8::10]:5080".to_owned()),
        ]
    );
    assert_eq!(got[0].name.as_deref(), Some("trunk.example"));
    assert_eq!(resolver.lookup.queries(), ["A trunk.example"]);
}

#[test]
fn rfc3263_4_1_naptr_order_then_preference_then_srv_priority() {
    let mut dns = FakeDns::default();
    dns.naptr.insert(
        "trunk.example",
        vec![
            naptr(20, 10, "SIP+D2U", "_sip._udp.trunk.example."),
            naptr(10, 20, "SIP+D2T", "_sip._tcp.trunk.example."),
            naptr(10, 10, "SIPS+D2T", "_sips._tcp.trunk.example."),
            naptr(5, 10, "SIP+D2S", "_sip._sctp.trunk.example."),
        ],
    );
    dns.srv.insert(
        "_sips._tcp.trunk.example",
        vec![srv(10, 0, 5061, "tls.trunk.example.")],
    );
    dns.srv.insert(
        "_sip._tcp.trunk.example",
        vec![
            srv(20, 0, 5062, "b.trunk.example."),
            srv(10, 0, 5060, "a.trunk.example."),
        ],
    );
    dns.srv.insert(
        "_sip._udp.trunk.example",
        vec![srv(10, 0, 5060, "a.trunk.example.")],
    );
    dns.ips.insert("tls.trunk.example", vec![ip("192.0.2.3")]);
    dns.ips.insert("a.trunk.example", vec![ip("192.0.2.1")]);
    dns.ips.insert("b.trunk.example", vec![ip("192.0.2.2")]);
    let resolver = Resolver::new(dns);
    let got = run(resolver.resolve(&query("trunk.example"))).unwrap();
    assert_eq!(
        pairs(&got),
        [
            (Transport::Tls, "192.0.2.3:5061".to_owned()),
            (Transport::Tcp, "192.0.2.1:5060".to_owned()),
            (Transport::Tcp, "192.0.2.2:5062".to_owned()),
            (Transport::Udp, "192.0.2.1:5060".to_owned()),
        ],
        "SCTP is skipped; NAPTR order, then SRV priority"
    );
    assert!(
        !resolver.lookup.queries().iter().any(|q| q.contains("sctp")),
        "unsupported transports are not looked up"
    );
}

#[test]
fn rfc3263_4_1_sips_uses_only_tls_records() {
    let mut dns = FakeDns::default();
    dns.naptr.insert(
        "trunk.example",
        vec![
            naptr(10, 10, "SIP+D2U", "_sip._udp.trunk.example"),
            naptr(20, 10, "SIPS+D2T", "_sips._tcp.trunk.example"),
        ],
    );
    dns.srv.insert(
        "_sips._tcp.trunk.example",
        vec![srv(1, 1, 5061, "tls.trunk.example")],
    );
    dns.srv.insert(
        "_sip._udp.trunk.example",
        vec![srv(1, 1, 5060, "udp.trunk.example")],
    );
    dns.ips.insert("tls.trunk.example", vec![ip("192.0.2.3")]);
    dns.ips.insert("udp.trunk.example", vec![ip("192.0.2.4")]);
    let resolver = Resolver::new(dns);
    let q = Query {
        secure: true,
        ..query("trunk.example")
    };
    let got = run(resolver.resolve(&q)).unwrap();
    assert_eq!(pairs(&got), [(Transport::Tls, "192.0.2.3:5061".to_owned())]);
}

#[test]
fn rfc3263_4_1_without_naptr_srv_is_probed_in_our_preference() {
    let mut dns = FakeDns::default();
    dns.srv.insert(
        "_sip._tcp.trunk.example",
        vec![srv(1, 1, 5070, "tcp.trunk.example")],
    );
    dns.srv.insert(
        "_sip._udp.trunk.example",
        vec![srv(1, 1, 5060, "udp.trunk.example")],
    );
    dns.ips.insert("tcp.trunk.example", vec![ip("192.0.2.5")]);
    dns.ips.insert("udp.trunk.example", vec![ip("192.0.2.6")]);
    let resolver = Resolver::new(dns);
    let got = run(resolver.resolve(&query("trunk.example"))).unwrap();
    assert_eq!(
        pairs(&got),
        [
            (Transport::Udp, "192.0.2.6:5060".to_owned()),
            (Transport::Tcp, "192.0.2.5:5070".to_owned()),
        ]
    );
}

#[test]
fn rfc3263_4_1_transport_parameter_skips_naptr() {
    let mut dns = FakeDns::default();
    dns.naptr.insert(
        "trunk.example",
        vec![naptr(10, 10, "SIP+D2U", "_sip._udp.trunk.example")],
    );
    dns.srv.insert(
        "_sip._tcp.trunk.example",
        vec![srv(1, 1, 5070, "tcp.trunk.example")],
    );
    dns.ips.insert("tcp.trunk.example", vec![ip("192.0.2.5")]);
    let resolver = Resolver::new(dns);
    let q = Query {
        transport: Some(Transport::Tcp),
        ..query("trunk.example")
    };
    let got = run(resolver.resolve(&q)).unwrap();
    assert_eq!(pairs(&got), [(Transport::Tcp, "192.0.2.5:5070".to_owned())]);
    assert!(!resolver
        .lookup
        .queries()
        .iter()
        .any(|q| q.starts_with("NAPTR")));
}

#[test]
fn rfc3263_4_2_no_naptr_no_srv_falls_back_to_a_records_on_default_port() {
    let mut dns = FakeDns::default();
    dns.ips.insert("pbx.example", vec![ip("192.0.2.7")]);
    let resolver = Resolver::new(dns);
    let got = run(resolver.resolve(&query("pbx.example"))).unwrap();
    assert_eq!(pairs(&got), [(Transport::Udp, "192.0.2.7:5060".to_owned())]);
    let none = run(resolver.resolve(&query("nothing.example")));
    assert!(
        matches!(none, Err(ResolveError::NoTargets { .. })),
        "{none:?}"
    );
}

#[test]
fn rfc2782_srv_priority_first_and_weight_shapes_the_order() {
    let records = vec![
        srv(20, 100, 1, "backup"),
        srv(10, 90, 1, "heavy"),
        srv(10, 10, 1, "light"),
        srv(10, 0, 1, "zero"),
        srv(5, 0, 1, "."),
    ];
    let mut rng = StdRng::seed_from_u64(7);
    let mut heavy_first = 0;
    for _ in 0..1000 {
        let order = order_srv(records.clone(), &mut rng);
        let names: Vec<&str> = order.iter().map(|r| r.target.as_str()).collect();
        assert_eq!(names.len(), 4, "the '.' target is dropped");
        assert_eq!(names[3], "backup", "lower priority value always first");
        heavy_first += usize::from(names[0] == "heavy");
    }
    // Weight 90 of 100 at priority 10: first about 90% of the time.
    assert!((850..=950).contains(&heavy_first), "{heavy_first}");
}

#[test]
fn rfc3263_4_uri_parts_feed_the_query() {
    let uri = SipUri::parse("sips:trunk.example:5071;transport=tcp;maddr=192.0.2.9").unwrap();
    let q = Query::from_uri(&uri);
    assert_eq!(
        q,
        Query {
            host: "192.0.2.9".into(),
            port: Some(5071),
            transport: Some(Transport::Tcp),
            secure: true,
        }
    );
    let v6 = SipUri::parse("sip:[2001:db8::1]").unwrap();
    assert_eq!(Query::from_uri(&v6).host, "2001:db8::1");
}
