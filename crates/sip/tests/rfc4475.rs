//! RFC 4475 torture messages, read in place from `shared/rfc4475` (or `HOTDESK_RFC4475_DIR`):
//! every `valid` message parses with its key fields right, every `invalid` one is refused
//! with the manifest's `strict` status (lenient ones may be accepted), and each
//! `valid-but-unusual` one gets the outcome listed in `UNUSUAL` below.

use std::collections::HashMap;
use std::path::PathBuf;

use bytes::{Bytes, BytesMut};
use hotdesk_sip::header::{Contact, Transport, Q};
use hotdesk_sip::parse::{Frame, Framer};
use hotdesk_sip::{parse_message, Message, Method, ParseError, Request, Response};

/// One manifest row.
struct Case {
    name: String,
    class: String,
    lenient: String,
    strict: Vec<u16>,
    bytes: Bytes,
}

fn corpus_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("HOTDESK_RFC4475_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/rfc4475")
        });
    if dir.join("manifest.tsv").is_file() {
        Some(dir)
    } else {
        eprintln!(
            "\n!!! RFC 4475 corpus not found at {} — SKIPPING the torture tests. \
             Set HOTDESK_RFC4475_DIR to the folder holding manifest.tsv and dat/.\n",
            dir.display()
        );
        None
    }
}

fn load() -> Option<Vec<Case>> {
    let dir = corpus_dir()?;
    let manifest = std::fs::read_to_string(dir.join("manifest.tsv")).expect("manifest.tsv");
    let mut lines = manifest.lines();
    let header: Vec<&str> = lines.next().expect("manifest header").split('\t').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).expect(name);
    let (c_name, c_class, c_lenient, c_strict) =
        (col("name"), col("class"), col("lenient"), col("strict"));
    let cases: Vec<Case> = lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let name = f[c_name].to_owned();
            let path = dir.join("dat").join(format!("{name}.dat"));
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            Case {
                class: f[c_class].to_owned(),
                lenient: f[c_lenient].to_owned(),
                strict: f[c_strict]
                    .split(',')
                    .filter_map(|s| s.trim().parse().ok())
                    .collect(),
                bytes: Bytes::from(bytes),
                name,
            }
        })
        .collect();
    assert_eq!(cases.len(), 49, "RFC 4475 has 49 torture messages");
    Some(cases)
}

fn request(m: &Message) -> &Request {
    m.as_request().expect("a request")
}

fn response(m: &Message) -> &Response {
    m.as_response().expect("a response")
}

/// Key fields of the valid messages (RFC 4475 §3.1.1).
fn check_valid(name: &str, m: &Message) {
    match name {
        "wsinv" => {
            let r = request(m);
            assert_eq!(r.call_id(), "wsinv.ndaksdj@192.0.2.1");
            assert_eq!((r.cseq().seq, &r.cseq().method), (9, &Method::Invite));
            assert_eq!(r.headers().max_forwards(), Ok(Some(68)));
            let branches: Vec<String> = r
                .headers()
                .vias()
                .map(|v| v.unwrap().branch().unwrap().to_owned())
                .collect();
            assert_eq!(branches, ["390skdjuw", "z9hG4bK9ikj8", "z9hG4bK30239"]);
            assert_eq!(r.to().unwrap().tag(), Some("1918181833n"));
            assert_eq!(r.from().unwrap().tag(), Some("98asjd8"));
            assert_eq!(
                r.from().unwrap().display_name().as_deref(),
                Some("J Rosenberg \\\"")
            );
            let c = r.headers().contacts().next().unwrap().unwrap();
            let c = c.address().unwrap();
            assert_eq!(c.display_name().as_deref(), Some("Quoted string \"\""));
            assert_eq!(c.q(), Ok(Some(Q(330))));
            assert_eq!(c.params().get("newparam"), Some("newvalue"));
            let nf = r.headers().get_named("NewFangledHeader").next().unwrap();
            assert_eq!(
                nf.value(),
                b"newfangled value\r\n continued newfangled value"
            );
            assert_eq!(r.body().len(), 150);
        }
        "intmeth" => {
            let r = request(m);
            let method = "!interesting-Method0123456789_*+`.%indeed'~";
            assert_eq!(r.method().as_str(), method);
            assert!(matches!(r.method(), Method::Extension(_)));
            assert_eq!(r.cseq().method, *r.method());
            let uri = r.uri();
            let sip = uri.as_sip().unwrap();
            assert_eq!(
                sip.user(),
                Some("1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*")
            );
            assert_eq!(
                sip.password(),
                Some("&it+has=1,weird!*pas$wo~d_too.(doesn't-it)")
            );
            assert_eq!(r.call_id(), "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{");
        }
        "esc01" => {
            let r = request(m);
            assert_eq!(
                r.uri().as_sip().unwrap().user(),
                Some("sips%3Auser%40example.com")
            );
            assert_eq!(
                r.to().unwrap().uri().as_sip().unwrap().aor(),
                "sip:user@example.com"
            );
            assert_eq!(
                r.from().unwrap().uri().as_sip().unwrap().aor(),
                "sip:I%20have%20spaces@example.net"
            );
        }
        "escnull" => {
            let r = request(m);
            assert_eq!(
                r.to().unwrap().uri().as_sip().unwrap().aor(),
                "sip:null-%00-null@example.com"
            );
            let users: Vec<Vec<u8>> = r
                .headers()
                .contacts()
                .map(|c| {
                    let c = c.unwrap();
                    let user = c.address().unwrap().uri().as_sip().unwrap().user().unwrap();
                    hotdesk_sip::uri::unescape(user).into_owned()
                })
                .collect();
            assert_eq!(users, [b"\0".to_vec(), b"\0\0".to_vec()]);
        }
        "esc02" => {
            let r = request(m);
            assert_ne!(r.method(), &Method::Register);
            assert_eq!(r.method().as_str(), "RE%47IST%45R");
            assert_eq!(
                r.headers().contacts().count(),
                2,
                "C%6Fntact is not Contact"
            );
            assert_eq!(r.from().unwrap().display_name().as_deref(), Some("%Z%45"));
        }
        "lwsdisp" => assert_eq!(
            request(m).from().unwrap().display_name().as_deref(),
            Some("caller")
        ),
        "longreq" => {
            let r = request(m);
            assert_eq!(r.headers().vias().count(), 34);
            assert!(r
                .to()
                .unwrap()
                .display_name()
                .unwrap()
                .ends_with("proportion"));
            assert_eq!(r.body().len(), 150);
        }
        "dblreq" => {
            let r = request(m);
            assert_eq!(r.method(), &Method::Register);
            assert!(r.body().is_empty());
            assert!(!r.as_bytes().windows(6).any(|w| w == b"INVITE"));
        }
        "semiuri" => {
            let uri = request(m).uri();
            let sip = uri.as_sip().unwrap();
            assert_eq!(
                (sip.user(), sip.host_str()),
                (Some("user;par=u%40example.net"), "example.com")
            );
        }
        "transports" => {
            let t: Vec<Transport> = request(m)
                .headers()
                .vias()
                .map(|v| v.unwrap().transport())
                .collect();
            use Transport::*;
            assert_eq!(t, [Udp, Sctp, Tls, Unknown, Tcp]);
        }
        "mpart01" => {
            let r = request(m);
            let cl = r.headers().content_length().unwrap().unwrap() as usize;
            assert_eq!((cl, r.body().len()), (553, 553));
            assert!(r.body().contains(&0), "binary part kept");
        }
        "unreason" => {
            let r = response(m);
            assert_eq!(r.status().as_u16(), 200);
            assert!(r.reason().starts_with("= 2**3 * 5**2"));
        }
        "noreason" => assert_eq!(
            (response(m).status().as_u16(), response(m).reason()),
            (100, "")
        ),
        other => panic!("no field checks written for valid message {other}"),
    }
}

/// Expected outcome for each §3.2–3.4 message: `Ok(())` parses, `Err(status)` is refused.
const UNUSUAL: [(&str, Result<(), u16>); 14] = [
    ("badbranch", Ok(())),
    ("unkscm", Err(416)),
    ("novelsc", Err(416)),
    ("unksm2", Ok(())),
    ("bext01", Ok(())),
    ("invut", Ok(())),
    ("regaut01", Ok(())),
    ("bcast", Ok(())),
    ("zeromf", Ok(())),
    ("cparam01", Ok(())),
    ("cparam02", Ok(())),
    ("regescrt", Ok(())),
    ("sdp01", Ok(())),
    ("inv2543", Ok(())),
];

/// What the layers above need from the unusual messages that parse.
fn check_unusual(name: &str, m: &Message) {
    match name {
        "unksm2" => assert!(
            !request(m).to().unwrap().uri().is_sip(),
            "a registrar answers 400"
        ),
        "bext01" => {
            let h = request(m).headers();
            assert_eq!(h.require().count(), 2, "the 420 lists these");
            assert_eq!(h.proxy_require().count(), 2);
        }
        "regaut01" => assert!(request(m)
            .headers()
            .authorizations()
            .all(|a| a.starts_with("NoOneKnowsThisScheme"))),
        "zeromf" => assert_eq!(request(m).headers().max_forwards(), Ok(Some(0))),
        "cparam01" => {
            let c = request(m).headers().contacts().next().unwrap().unwrap();
            assert!(
                c.address().unwrap().params().contains("unknownparam"),
                "header param without <>"
            );
        }
        "cparam02" => {
            let c = request(m).headers().contacts().next().unwrap().unwrap();
            let uri = c.address().unwrap().uri();
            assert!(
                uri.as_sip().unwrap().params().contains("unknownparam"),
                "URI param inside <>"
            );
        }
        "inv2543" => {
            let r = request(m);
            assert!(!r.via().unwrap().has_rfc3261_branch());
            assert!(r.headers().max_forwards().unwrap().is_none());
            assert!(
                !r.body().is_empty(),
                "no Content-Length: the datagram's rest is the body"
            );
        }
        "badbranch" => assert!(!request(m).via().unwrap().has_rfc3261_branch()),
        "bcast" => assert_eq!(response(m).headers().vias().count(), 2),
        "regescrt" => {
            let c = request(m).headers().contacts().next().unwrap().unwrap();
            assert!(c
                .address()
                .unwrap()
                .uri()
                .as_sip()
                .unwrap()
                .headers()
                .is_some());
        }
        _ => {}
    }
}

#[test]
fn rfc4475_torture_messages() {
    let Some(cases) = load() else { return };
    let unusual: HashMap<&str, Result<(), u16>> = UNUSUAL.iter().copied().collect();
    let mut counts: HashMap<String, usize> = HashMap::new();
    for case in &cases {
        let result = parse_message(case.bytes.clone());
        let status = result
            .as_ref()
            .err()
            .map(|e: &ParseError| e.status().as_u16());
        match &result {
            Ok(_) => eprintln!("{:<10} {:<18} parsed", case.name, case.class),
            Err(e) => eprintln!(
                "{:<10} {:<18} {} {} ({e})",
                case.name,
                case.class,
                e.status(),
                e.reason()
            ),
        }
        match case.class.as_str() {
            "valid" => match &result {
                Ok(m) => check_valid(&case.name, m),
                Err(e) => panic!("{}: valid message refused: {e}", case.name),
            },
            "invalid" => match (&result, case.lenient.as_str()) {
                (Ok(_), "accept") => {}
                (Ok(_), _) => panic!("{}: invalid message accepted", case.name),
                (Err(_), _) if case.strict.is_empty() => {}
                (Err(e), _) => assert!(
                    case.strict.contains(&e.status().as_u16()),
                    "{}: refused with {} ({e}), manifest says {:?}",
                    case.name,
                    e.status(),
                    case.strict
                ),
            },
            "valid-but-unusual" => {
                let want = unusual
                    .get(case.name.as_str())
                    .unwrap_or_else(|| panic!("{}: no expectation", case.name));
                match (want, &result) {
                    (Ok(()), Ok(m)) => check_unusual(&case.name, m),
                    (Err(code), Err(_)) => assert_eq!(status, Some(*code), "{}", case.name),
                    (want, got) => panic!(
                        "{}: expected {want:?}, got {:?}",
                        case.name,
                        got.as_ref().map(|_| ())
                    ),
                }
                if case.strict.contains(&416) {
                    assert_eq!(status, Some(416), "{}: manifest says 416", case.name);
                }
            }
            other => panic!("{}: unknown class {other}", case.name),
        }
        *counts.entry(case.class.clone()).or_default() += 1;
    }
    assert_eq!(counts.get("valid"), Some(&13));
    assert_eq!(counts.values().sum::<usize>(), 49);
}

#[test]
fn rfc4475_valid_messages_frame_over_a_stream() {
    let Some(cases) = load() else { return };
    for case in cases.iter().filter(|c| c.class == "valid") {
        let Ok(m) = parse_message(case.bytes.clone()) else {
            continue;
        };
        // Messages without Content-Length cannot travel on a stream (RFC 3261 §18.3).
        if m.headers().content_length().ok().flatten().is_none() {
            continue;
        }
        let wire = m.as_bytes().clone();
        let mut buf = BytesMut::new();
        let mut framer = Framer::new();
        let mut frames = Vec::new();
        for chunk in wire.chunks(97) {
            buf.extend_from_slice(chunk);
            while let Some(f) = framer
                .next_frame(&mut buf)
                .unwrap_or_else(|e| panic!("{}: {e}", case.name))
            {
                frames.push(f);
            }
        }
        assert_eq!(frames, [Frame::Message(wire)], "{}", case.name);
    }
}

#[test]
fn rfc3261_10_2_2_contact_star_parses() {
    let text = "REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nTo: <sip:u@example.com>\r\nFrom: <sip:u@example.com>;tag=1\r\nCall-ID: star\r\nCSeq: 2 REGISTER\r\nContact: *\r\nExpires: 0\r\nl: 0\r\n\r\n";
    let m = parse_message(Bytes::from(text)).unwrap();
    let c = m.headers().contacts().next().unwrap().unwrap();
    assert_eq!(c, Contact::Star);
}
