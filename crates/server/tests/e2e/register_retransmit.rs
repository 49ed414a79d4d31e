//! A retransmitted REGISTER after its 200 (RFC 3261 §8.2.7, §10.3, RFC 7616 §3.4): the
//! registrar sends its 200s statelessly, so a retransmission comes back to it with a nonce
//! count already used. It must get the same 200 (same To tag, the bindings as they are) and
//! change nothing; the credentials reused in a new transaction are still a replay.
//!
//! Raw UDP from the test, with the SIP crate's digest client answering the challenge, so the
//! very same bytes can be sent twice and varied one header at a time.

use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use hotdesk_sip::digest::{authorize, Algorithm, Challenge, ClientRequest};
use tokio::task::block_in_place;

use crate::harness::{field, rows, Api, Server};
use crate::register::{device_registration, seed, start, DEVICE, DEVICE_PW, DOMAIN};

/// One UDP "phone": a socket, and the REGISTER it sends with the headers that vary.
struct Phone {
    socket: UdpSocket,
    server: SocketAddr,
}

/// The headers a test varies between sends.
struct Register<'a> {
    branch: &'a str,
    cseq: u32,
    contact: &'a str,
    authorization: Option<&'a str>,
}

impl Phone {
    fn new(server: SocketAddr) -> Self {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
        socket
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        Self { socket, server }
    }

    fn port(&self) -> u16 {
        self.socket.local_addr().expect("local address").port()
    }

    fn text(&self, r: &Register<'_>) -> String {
        let port = self.port();
        let authorization = r
            .authorization
            .map(|a| format!("Authorization: {a}\r\n"))
            .unwrap_or_default();
        format!(
            "REGISTER sip:{DOMAIN} SIP/2.0\r\n\
             Via: SIP/2.0/UDP 127.0.0.1:{port};branch={branch};rport\r\n\
             Max-Forwards: 70\r\n\
             From: <sip:{DEVICE}@{DOMAIN}>;tag=retx-from\r\n\
             To: <sip:{DEVICE}@{DOMAIN}>\r\n\
             Call-ID: retx-call@127.0.0.1\r\n\
             CSeq: {cseq} REGISTER\r\n\
             Contact: <{contact}>\r\n\
             {authorization}\
             Expires: 600\r\n\
             User-Agent: retx-test\r\n\
             Content-Length: 0\r\n\r\n",
            branch = r.branch,
            cseq = r.cseq,
            contact = r.contact,
        )
    }

    /// Sends `text` and returns the answer (skipping any 100 Trying).
    fn exchange(&self, text: &str) -> String {
        self.socket
            .send_to(text.as_bytes(), self.server)
            .expect("send");
        let mut buf = vec![0u8; 65_536];
        loop {
            let (n, _) = self
                .socket
                .recv_from(&mut buf)
                .unwrap_or_else(|e| panic!("no answer to\n{text}\n{e}"));
            let answer = String::from_utf8_lossy(&buf[..n]).into_owned();
            if !answer.starts_with("SIP/2.0 100 ") {
                return answer;
            }
        }
    }
}

fn status(answer: &str) -> &str {
    answer.lines().next().unwrap_or_default()
}

/// Asserts `answer` is a 200 listing exactly `expected` as Contact URIs; returns its To tag.
fn assert_ok(answer: &str, expected: &[&str]) -> String {
    assert!(status(answer).starts_with("SIP/2.0 200 "), "{answer}");
    assert_eq!(contacts(answer), expected, "{answer}");
    to_tag(answer)
}

/// The device's answer to `challenge` with nonce count `nc`.
fn credentials(challenge: &Challenge<'_>, nc: u32) -> String {
    authorize(
        challenge,
        &ClientRequest {
            username: DEVICE,
            password: DEVICE_PW,
            method: "REGISTER",
            uri: &format!("sip:{DOMAIN}"),
            cnonce: "retx-cnonce",
            nc,
        },
    )
    .expect("credentials")
}

/// The values of every header named `name` (case-insensitive), in order.
fn headers<'a>(answer: &'a str, name: &str) -> Vec<&'a str> {
    answer
        .lines()
        .filter_map(|line| line.split_once(':'))
        .filter(|(n, _)| n.trim().eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim())
        .collect()
}

fn to_tag(answer: &str) -> String {
    let to = headers(answer, "To").first().copied().unwrap_or_default();
    to.split(";tag=").nth(1).unwrap_or_default().to_owned()
}

/// The Contact URIs of a 200, without their parameters.
fn contacts(answer: &str) -> Vec<String> {
    headers(answer, "Contact")
        .iter()
        .filter_map(|c| c.split_once('<').and_then(|(_, rest)| rest.split_once('>')))
        .map(|(uri, _)| uri.to_owned())
        .collect()
}

// RFC 3261 §8.2.7 (stateless UAS: a retransmission is answered afresh, with the same To
// tag) and §10.3 (no second change), RFC 7616 §3.4 (a reused nonce count in a new request
// is a replay).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc3261_8_2_7_retransmitted_register_gets_the_same_200_and_changes_nothing() {
    let (_server, api, phone) = seeded_phone().await;
    let contact = format!("sip:{DEVICE}@127.0.0.1:{}", phone.port());

    let challenge = block_in_place(|| {
        phone.exchange(&phone.text(&Register {
            branch: "z9hG4bKretx1",
            cseq: 1,
            contact: &contact,
            authorization: None,
        }))
    });
    let md5_text = md5_challenge_text(&challenge);
    let md5 = Challenge::parse(&md5_text).expect("challenge");
    let first_credentials = credentials(&md5, 1);

    let register = phone.text(&Register {
        branch: "z9hG4bKretx2",
        cseq: 2,
        contact: &contact,
        authorization: Some(&first_credentials),
    });
    let tag = assert_ok(&block_in_place(|| phone.exchange(&register)), &[&contact]);
    assert!(!tag.is_empty());

    // The very same bytes again, as a phone whose 200 was lost sends them: the same 200.
    let again = block_in_place(|| phone.exchange(&register));
    assert_eq!(assert_ok(&again, &[&contact]), tag, "{again}");

    // A copy of that transaction with another Contact (what someone who captured it could
    // send) is answered like a retransmission: nothing is added.
    let forged = phone.text(&Register {
        branch: "z9hG4bKretx2",
        cseq: 2,
        contact: "sip:intruder@127.0.0.1:9",
        authorization: Some(&first_credentials),
    });
    assert_ok(&block_in_place(|| phone.exchange(&forged)), &[&contact]);

    // The same credentials in a new transaction are a replay: challenged afresh.
    let replay = phone.text(&Register {
        branch: "z9hG4bKretx3",
        cseq: 3,
        contact: "sip:intruder@127.0.0.1:9",
        authorization: Some(&first_credentials),
    });
    let answer = block_in_place(|| phone.exchange(&replay));
    assert!(status(&answer).starts_with("SIP/2.0 401 "), "{answer}");

    let registration = device_registration(&api).await;
    let stored = rows(&registration["contacts"]);
    assert_eq!(stored.len(), 1, "{registration}");
    assert_eq!(field(&stored[0], "contact"), contact, "{registration}");

    // The next count, in a new transaction, refreshes as usual (the registrar's in-place
    // path), and its retransmission gets that 200 again.
    let refresh = phone.text(&Register {
        branch: "z9hG4bKretx4",
        cseq: 4,
        contact: &contact,
        authorization: Some(&credentials(&md5, 2)),
    });
    let tag = assert_ok(&block_in_place(|| phone.exchange(&refresh)), &[&contact]);
    let again = block_in_place(|| phone.exchange(&refresh));
    assert_eq!(assert_ok(&again, &[&contact]), tag, "{again}");
    // A late copy of the first REGISTER is still known though its AOR was answered again
    // since (as with several phones on one AOR): the same 200, not a fresh challenge.
    let late = block_in_place(|| phone.exchange(&register));
    assert_ok(&late, &[&contact]);

    let next = credentials(&md5, 3);
    let unregister = phone
        .text(&Register {
            branch: "z9hG4bKretx6",
            cseq: 5,
            contact: &contact,
            authorization: Some(&next),
        })
        .replace("Expires: 600", "Expires: 0");
    let tag = assert_ok(&block_in_place(|| phone.exchange(&unregister)), &[]);
    assert!(device_registration(&api).await.is_null());
    // Its retransmission finds nothing left to remove and says so.
    let again = block_in_place(|| phone.exchange(&unregister));
    assert_eq!(assert_ok(&again, &[]), tag);
    assert!(device_registration(&api).await.is_null());

    // RFC 2069 credentials (no qop, so no nonce count) pass again on a retransmission; the
    // equal CSeq then tells the registrar it is one.
    let without_qop_text = md5_text.replace(", qop=\"auth\"", "");
    let without_qop = Challenge::parse(&without_qop_text).expect("challenge");
    let old_style = credentials(&without_qop, 1);
    assert!(!old_style.contains("nc="), "{old_style}");
    let register = phone.text(&Register {
        branch: "z9hG4bKretx7",
        cseq: 6,
        contact: &contact,
        authorization: Some(&old_style),
    });
    let tag = assert_ok(&block_in_place(|| phone.exchange(&register)), &[&contact]);
    let again = block_in_place(|| phone.exchange(&register));
    assert_eq!(assert_ok(&again, &[&contact]), tag);
}

// RFC 3261 §10.3 step 2 with §19.1.4 (host names compare without regard to case), HD-SEC-1:
// an AOR whose domain is written in capitals names the same served domain, is challenged
// with its realm and registers the device there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc3261_10_3_an_aor_domain_written_in_capitals_is_the_served_domain() {
    let (_server, api, phone) = seeded_phone().await;
    let contact = format!("sip:{DEVICE}@127.0.0.1:{}", phone.port());
    let shout = |text: String| {
        let capitals = format!("@{}>", DOMAIN.to_ascii_uppercase());
        let shouted = text.replace(&format!("@{DOMAIN}>"), &capitals);
        assert!(shouted.contains(&format!("To: <sip:{DEVICE}{capitals}")));
        shouted
    };

    let challenge = block_in_place(|| {
        phone.exchange(&shout(phone.text(&Register {
            branch: "z9hG4bKcaps1",
            cseq: 1,
            contact: &contact,
            authorization: None,
        })))
    });
    let md5_text = md5_challenge_text(&challenge);
    let md5 = Challenge::parse(&md5_text).expect("challenge");
    assert_eq!(md5.realm, DOMAIN, "the realm is the served domain's name");
    let register = shout(phone.text(&Register {
        branch: "z9hG4bKcaps2",
        cseq: 2,
        contact: &contact,
        authorization: Some(&credentials(&md5, 1)),
    }));
    assert_ok(&block_in_place(|| phone.exchange(&register)), &[&contact]);
    let registration = device_registration(&api).await;
    let stored = rows(&registration["contacts"]);
    assert_eq!(stored.len(), 1, "{registration}");
    assert_eq!(field(&stored[0], "contact"), contact, "{registration}");
}

/// A server seeded with the device and a domain, its API, and a phone aimed at its UDP port.
async fn seeded_phone() -> (Server, Api, Phone) {
    let server = start(&[]);
    let api = server.api();
    seed(&api, DOMAIN, 0).await;
    let target = server
        .sip_udp
        .unwrap_or_else(|| panic!("no SIP/UDP line:\n{}", server.output()));
    let phone = Phone::new(target);
    (server, api, phone)
}

/// The MD5 `WWW-Authenticate` value of `answer`, which must be a 401.
fn md5_challenge_text(answer: &str) -> String {
    assert!(status(answer).starts_with("SIP/2.0 401 "), "{answer}");
    headers(answer, "WWW-Authenticate")
        .into_iter()
        .find(|v| Challenge::parse(v).is_ok_and(|c| c.algorithm() == Ok(Algorithm::Md5)))
        .unwrap_or_else(|| panic!("no MD5 challenge:\n{answer}"))
        .to_owned()
}
