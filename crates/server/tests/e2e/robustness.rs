//! HD-SEC-5 against the real binary: malformed SIP gets 400 or is dropped, oversized
//! messages are refused, slow-loris TCP connections and a UDP flood of garbage do not stop a
//! well-behaved client from registering, and nothing of it crashes the server or loses state.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::task::block_in_place;

use crate::harness::{field, Api, Server};
use crate::peers::{self, users_csv, Sipp};

const DOMAIN: &str = "rough.test";
const DEVICE: &str = "94020";
const PASSWORD: &str = "rough-secret-94020";

async fn seed(api: &Api) {
    api.post("/domains", json!({ "name": DOMAIN })).await;
    api.post(
        &format!("/domains/{DOMAIN}/devices"),
        json!({ "mac": "001565000020", "model": "yealink-t46u", "kind": "hotdesk",
                "extension": DEVICE, "sip_password": PASSWORD }),
    )
    .await;
}

fn register(server: &Server, target: SocketAddr, tcp: bool, calls: u32) -> peers::SippRun {
    let mut sipp = Sipp::new(
        target,
        "register_auth.xml",
        DOMAIN,
        users_csv([(DEVICE, PASSWORD)]),
    );
    sipp.tcp = tcp;
    sipp.calls = calls;
    sipp.rate = 20;
    let dir = peers::scratch(&server.dir(), "sipp");
    block_in_place(|| sipp.run(&dir))
}

async fn registered(api: &Api) -> Value {
    api.get(&format!("/domains/{DOMAIN}/devices/{DEVICE}"))
        .await
        .get("registration")
        .cloned()
        .unwrap_or(Value::Null)
}

/// Sends `datagram` and returns the answer's status line, if one comes within a second.
fn udp_exchange(target: SocketAddr, datagram: &[u8]) -> Option<String> {
    let socket = UdpSocket::bind("127.0.0.1:0").ok()?;
    socket.set_read_timeout(Some(Duration::from_secs(1))).ok()?;
    socket.send_to(datagram, target).ok()?;
    let mut buf = vec![0u8; 65_536];
    let (n, _) = socket.recv_from(&mut buf).ok()?;
    let text = String::from_utf8_lossy(&buf[..n]).into_owned();
    text.lines().next().map(str::to_owned)
}

fn request(extra_header: &str, content_length: &str) -> Vec<u8> {
    format!(
        "OPTIONS sip:{DOMAIN} SIP/2.0\r\n\
         Via: SIP/2.0/UDP 127.0.0.1:9;rport;branch=z9hG4bKrobust{}\r\n\
         Max-Forwards: 70\r\nFrom: <sip:x@{DOMAIN}>;tag=1\r\nTo: <sip:{DOMAIN}>\r\n\
         Call-ID: robust@127.0.0.1\r\nCSeq: 1 OPTIONS\r\n{extra_header}\
         Content-Length: {content_length}\r\n\r\n",
        rand_suffix()
    )
    .into_bytes()
}

fn rand_suffix() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hd_sec_5_malformed_and_oversized_messages_get_400_513_or_nothing() {
    if !peers::available("sipp") {
        return;
    }
    let server = block_in_place(Server::start);
    let api = server.api();
    seed(&api).await;
    let udp = server.sip_udp.expect("SIP/UDP");
    let tcp = server.sip_tcp.expect("SIP/TCP");

    // A well-formed OPTIONS is answered 200, so silence below means "dropped", not "down".
    assert_eq!(
        udp_exchange(udp, &request("", "0")).as_deref(),
        Some("SIP/2.0 200 OK")
    );
    let malformed: Vec<Vec<u8>> = vec![
        b"\x00\x01\x02 not sip at all \xff\xfe".to_vec(),
        b"REGISTER\r\n\r\n".to_vec(),
        request("", "abc"),
        request("CSeq: 2 INVITE\r\n", "0"),
        request("Via: SIP/2.0/UDP [::1;branch=z9hG4bKx\r\n", "0"),
        request("", "99999"),
        request("Contact: <sip:a@b\r\n", "0"),
    ];
    for datagram in &malformed {
        if let Some(status) = udp_exchange(udp, datagram) {
            assert!(
                status.starts_with("SIP/2.0 400") || status.starts_with("SIP/2.0 200"),
                "{status} for {:?}",
                String::from_utf8_lossy(datagram)
            );
        }
    }
    // More than 64 KiB over TCP: refused with 513 or the connection closed, never served.
    let mut stream = TcpStream::connect(tcp).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(15)))
        .expect("timeout");
    let huge = request(&format!("X-Padding: {}\r\n", "b".repeat(70 * 1024)), "0");
    let _ = stream.write_all(&huge);
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    assert!(
        answer.is_empty() || answer.starts_with("SIP/2.0 513") || answer.starts_with("SIP/2.0 400"),
        "{answer}"
    );

    // Still serving, state intact.
    let result = register(&server, udp, false, 1);
    assert!(result.passed(), "{}", result.output);
    assert!(!registered(&api).await.is_null());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hd_sec_5_slow_loris_tcp_and_udp_garbage_flood_do_not_stop_registrations() {
    if !peers::available("sipp") {
        return;
    }
    let server = block_in_place(Server::start);
    let api = server.api();
    seed(&api).await;
    let udp = server.sip_udp.expect("SIP/UDP");
    let tcp = server.sip_tcp.expect("SIP/TCP");
    let stop = Arc::new(AtomicBool::new(false));

    // Slow-loris: connections that dribble an endless header, one byte a second.
    let loris: Vec<_> = (0..30)
        .map(|i| {
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                let Ok(mut s) = TcpStream::connect(tcp) else {
                    return;
                };
                let _ = s.write_all(
                    format!("REGISTER sip:{DOMAIN} SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:{i}")
                        .as_bytes(),
                );
                while !stop.load(Ordering::Relaxed) {
                    if s.write_all(b"x").is_err() {
                        return; // closed by the server's message time-out: as intended
                    }
                    std::thread::sleep(Duration::from_millis(1000));
                }
            })
        })
        .collect();

    // A flood of garbage datagrams, bounded in rate and total.
    let sent = Arc::new(AtomicU64::new(0));
    let flood = {
        let (stop, sent) = (Arc::clone(&stop), Arc::clone(&sent));
        std::thread::spawn(move || {
            let Ok(socket) = UdpSocket::bind("127.0.0.1:0") else {
                return;
            };
            let mut junk = [0u8; 512];
            let mut n: u64 = 0;
            while !stop.load(Ordering::Relaxed) && n < 2_000_000 {
                for _ in 0..100 {
                    n += 1;
                    junk[..8].copy_from_slice(&n.to_le_bytes());
                    let _ = socket.send_to(&junk, udp);
                }
                sent.store(n, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };

    let over_udp = register(&server, udp, false, 40);
    let over_tcp = register(&server, tcp, true, 10);
    stop.store(true, Ordering::Relaxed);
    let _ = flood.join();
    for thread in loris {
        let _ = thread.join();
    }
    assert!(sent.load(Ordering::Relaxed) > 1000, "the flood ran");
    assert!(
        over_udp.passed(),
        "UDP registrations under flood:\n{}",
        over_udp.output
    );
    assert!(
        over_tcp.passed(),
        "TCP registrations beside slow-loris:\n{}",
        over_tcp.output
    );
    let registration = registered(&api).await;
    assert!(
        field(&registration, "contact")
            .to_lowercase()
            .contains(";transport=tcp"),
        "{registration}"
    );
}
