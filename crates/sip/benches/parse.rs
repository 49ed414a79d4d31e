//! Parser cost per message: parse a typical INVITE with SDP (and a REGISTER) and read the
//! fields every transaction needs (top Via branch, From/To tags, CSeq, Call-ID); build a
//! 200 OK from a REGISTER. Run with `cargo bench -p hotdesk-sip --bench parse`.

use bytes::Bytes;
use criterion::{black_box, criterion_group, Criterion, Throughput};
use hotdesk_sip::header::Contact;
use hotdesk_sip::{parse_message, HeaderName, Message, StatusCode};

const INVITE: &str = "INVITE sip:1004@acme.test SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK776asdhds;rport\r\n\
Max-Forwards: 70\r\n\
To: \"Bob\" <sip:1004@acme.test>\r\n\
From: \"Alice\" <sip:1001@acme.test>;tag=1928301774\r\n\
Call-ID: a84b4c76e66710@pc33.acme.test\r\n\
CSeq: 314159 INVITE\r\n\
Contact: <sip:1001@192.0.2.10:5062;transport=udp>\r\n\
Allow: INVITE, ACK, CANCEL, BYE, NOTIFY, REFER, OPTIONS, INFO, UPDATE\r\n\
Supported: replaces, timer\r\n\
User-Agent: Yealink SIP-T46U 108.86.0.20\r\n\
Content-Type: application/sdp\r\n\
Content-Length: 253\r\n\r\n\
v=0\r\n\
o=- 20518 0 IN IP4 192.0.2.10\r\n\
s=SDP data\r\n\
c=IN IP4 192.0.2.10\r\n\
t=0 0\r\n\
m=audio 11780 RTP/AVP 0 8 18 101\r\n\
a=rtpmap:0 PCMU/8000\r\n\
a=rtpmap:8 PCMA/8000\r\n\
a=rtpmap:18 G729/8000\r\n\
a=rtpmap:101 telephone-event/8000\r\n\
a=fmtp:101 0-15\r\n\
a=ptime:20\r\n\
a=sendrecv\r\n";

const REGISTER: &str = "REGISTER sip:acme.test SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK74bf9;rport\r\n\
Max-Forwards: 70\r\n\
From: <sip:94001@acme.test>;tag=456248\r\n\
To: <sip:94001@acme.test>\r\n\
Call-ID: 843817637684230@998sdasdh09\r\n\
CSeq: 1826 REGISTER\r\n\
Contact: <sip:94001@192.0.2.10:5062;transport=udp>;expires=3600\r\n\
Authorization: Digest username=\"94001\", realm=\"acme.test\", nonce=\"abc\", uri=\"sip:acme.test\", response=\"0123456789abcdef0123456789abcdef\", algorithm=MD5\r\n\
User-Agent: Yealink SIP-T46U 108.86.0.20\r\n\
Content-Length: 0\r\n\r\n";

/// The second REGISTER of a SIPp digest registration (issue #4's load), as SIPp sends it.
const SIPP_REGISTER: &str = "REGISTER sip:bench.test SIP/2.0\r\n\
Via: SIP/2.0/UDP 127.0.0.1:20070;branch=z9hG4bK-5339-1-2\r\n\
Max-Forwards: 70\r\n\
From: <sip:100000@bench.test>;tag=5339SIPpTag1\r\n\
To: <sip:100000@bench.test>\r\n\
Call-ID: 1-5339@127.0.0.1\r\n\
CSeq: 2 REGISTER\r\n\
Contact: <sip:100000@127.0.0.1:20070;transport=UDP>\r\n\
Authorization: Digest username=\"100000\",realm=\"bench.test\",cnonce=\"6b8b4567\",nc=00000001,qop=auth,uri=\"sip:bench.test\",nonce=\"000000006b1500e3315fef07f786d17e487e88cf8c0ace2a9e8be9f21390741a\",response=\"d037c582f407ba2e24114796c91507fa\",algorithm=MD5\r\n\
Expires: 3600\r\n\
User-Agent: sipp-bench\r\n\
Content-Length: 0\r\n\r\n";

/// Parses a REGISTER and reads what the server reads of it on its way through transport
/// (rport, received), transaction layer (server key, stateless tag), dispatch (To tag) and
/// registrar (To URI, Contacts, Path, Expires, User-Agent, Authorization, Require).
fn register_path(wire: &Bytes) -> usize {
    let Ok(Message::Request(req)) = parse_message(wire.clone()) else {
        return 0;
    };
    let mut n = 0;
    // Transport: rport and received (twice the top Via).
    if let Ok(via) = req.via() {
        n += usize::from(via.has_rport()) + usize::from(via.port_or_default());
    }
    if let Some(Ok((element, _))) = req.headers().elements(HeaderName::Via).next() {
        n += element.len();
    }
    if let Ok(via) = req.via() {
        n += usize::from(via.host().ip().is_some()) + via.params().iter().count();
    }
    // Transaction layer: server key, then the stateless tag (Call-ID, From tag, branch).
    if let Ok(via) = req.via() {
        n += via.branch().map_or(0, str::len) + via.host_str().len();
        n += usize::from(via.port_or_default()) + req.method().as_str().len();
    }
    n += req.call_id().len();
    n += req.from().ok().and_then(|f| f.tag()).map_or(0, str::len);
    n += req.via().ok().and_then(|v| v.branch()).map_or(0, str::len);
    // Dispatch: in dialog?
    n += usize::from(req.to().ok().and_then(|t| t.tag()).is_some());
    // Registrar.
    if let Ok(to) = req.to() {
        let uri = to.uri();
        if let Some(sip) = uri.as_sip() {
            n += sip.user().map_or(0, str::len) + sip.host().to_string().len();
        }
    }
    let h = req.headers();
    n += h.require().count();
    for value in h.authorizations() {
        n += value.len();
    }
    for contact in h.contacts() {
        if let Ok(Contact::Address(a)) = contact {
            n += a.uri().as_str().len() + a.expires().ok().flatten().map_or(0, |e| e as usize);
        }
    }
    n += h.paths().count();
    n += req.call_id().len() + req.cseq().seq as usize;
    n += h.expires().ok().flatten().map_or(0, |e| e as usize);
    n += h
        .get(HeaderName::UserAgent)
        .and_then(|u| u.value_str().ok())
        .map_or(0, str::len);
    n
}

/// One measured unit of work over a message; returns a checksum.
type Workload = fn(&Bytes) -> usize;

/// Parses and reads the transaction fields; returns something derived from all of them.
fn parse_and_touch(wire: &Bytes) -> usize {
    let Ok(msg) = parse_message(wire.clone()) else {
        return 0;
    };
    let h = msg.headers();
    let branch = h.via().ok().and_then(|v| v.branch()).map_or(0, str::len);
    let from_tag = h.from().ok().and_then(|f| f.tag()).map_or(0, str::len);
    let to_tag = h.to().ok().and_then(|t| t.tag()).map_or(0, str::len);
    branch + from_tag + to_tag + msg.cseq().seq as usize + msg.call_id().len()
}

fn parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse");
    let cases: [(&str, &str, Workload); 3] = [
        ("invite_sdp", INVITE, parse_and_touch),
        ("register", REGISTER, parse_and_touch),
        ("register_path", SIPP_REGISTER, register_path),
    ];
    for (name, text, run) in cases {
        let wire = Bytes::from_static(text.as_bytes());
        assert!(run(&wire) > 0, "{name} must parse");
        group.throughput(Throughput::Elements(1));
        group.bench_function(name, |b| b.iter(|| run(black_box(&wire))));
    }
    group.finish();
}

fn respond(c: &mut Criterion) {
    let wire = Bytes::from_static(REGISTER.as_bytes());
    let Ok(Message::Request(req)) = parse_message(wire) else {
        panic!("REGISTER must parse")
    };
    c.bench_function("build/register_200", |b| {
        b.iter(|| {
            black_box(&req)
                .response(StatusCode::OK)
                .to_tag("srv-1")
                .header(
                    "Contact",
                    "<sip:94001@192.0.2.10:5062;transport=udp>;expires=3600",
                )
                .header("Expires", "3600")
                .build()
        })
    });
}

criterion_group!(benches, parse, respond);

/// `HOTDESK_PARSE_ITERS=N [HOTDESK_PARSE_MESSAGE=invite|register]` skips Criterion and runs N
/// parses, so `valgrind --tool=callgrind` can count instructions per parse: wall-clock
/// figures on a shared 2-core machine swing with everyone else's builds.
fn main() {
    let iters = std::env::var("HOTDESK_PARSE_ITERS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok());
    if let Some(n) = iters {
        let message = std::env::var("HOTDESK_PARSE_MESSAGE").unwrap_or_default();
        let (text, run): (&str, Workload) = match message.as_str() {
            "register" => (REGISTER, parse_and_touch),
            "register_path" => (SIPP_REGISTER, register_path),
            _ => (INVITE, parse_and_touch),
        };
        let wire = Bytes::from_static(text.as_bytes());
        let total: usize = (0..n).map(|_| run(black_box(&wire))).sum();
        println!("{n} parses, checksum {total}");
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
