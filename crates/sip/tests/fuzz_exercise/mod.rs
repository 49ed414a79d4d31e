//! What the fuzz targets (`fuzz/fuzz_targets/*.rs`) and `tests/fuzz_smoke.rs` do with one
//! input: parse it, touch every accessor, and check the invariants that must hold for any
//! message the parser accepts (re-parsing its bytes, answering it, copying it); or take it
//! as an `Authorization` value and run it through digest verification.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::{Bytes, BytesMut};
use hotdesk_sip::digest::{
    ha1, AuthKind, AuthRequest, Authenticator, Challenge, Credentials, DigestConfig,
};
use hotdesk_sip::header::Contact;
use hotdesk_sip::parse::{Frame, Framer};
use hotdesk_sip::{parse_message, HeaderName, Message, StatusCode};

/// Stands for a nonce this process really issued: the fuzzer cannot forge the signature, so
/// inputs that carry this word get past the nonce check to the response and nonce count.
const NONCE_PLACEHOLDER: &str = "NONCE";

const REALM: &str = "acme.test";

/// One authenticator for every input (it keeps nonce counts, as the server's does), and a
/// nonce it issued.
fn authenticator() -> &'static (Authenticator, String) {
    static AUTH: OnceLock<(Authenticator, String)> = OnceLock::new();
    AUTH.get_or_init(|| {
        let auth = Authenticator::new(b"fuzzing secret, 32 bytes or so..", DigestConfig::default());
        let values = auth.challenge(now(), REALM, None, false);
        let nonce = values
            .iter()
            .next()
            .and_then(|v| Challenge::parse(v).ok())
            .map(|c| c.nonce.into_owned())
            .unwrap_or_default();
        (auth, nonce)
    })
}

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

/// Takes `data` as an `Authorization` header value and verifies it as the registrar would;
/// a random value must never verify.
pub(crate) fn digest(data: &[u8]) {
    let (auth, nonce) = authenticator();
    let value = String::from_utf8_lossy(data).replace(NONCE_PLACEHOLDER, nonce);
    let Ok(credentials) = Credentials::parse(&value) else {
        return;
    };
    let _ = credentials.nonce_count();
    let request = AuthRequest {
        method: "REGISTER",
        realm: REALM,
        client: Some(IpAddr::V4(Ipv4Addr::LOCALHOST)),
    };
    let Ok(algorithm) = credentials.algorithm() else {
        return;
    };
    let stored = ha1(algorithm.hash(), &credentials.username, REALM, "secret");
    match auth.verify(now(), &request, &credentials, stored.as_str()) {
        // Only a response computed from the password can verify; the fuzzer cannot.
        Ok(_) => panic!("random credentials verified: {value:?}"),
        Err(error) => {
            let _ = (error.status(AuthKind::Www), error.is_stale());
        }
    }
}

/// Parses `data` as a datagram and exercises the result.
pub(crate) fn message(data: &[u8]) {
    if let Ok(msg) = parse_message(Bytes::copy_from_slice(data)) {
        touch(&msg);
    }
}

/// Feeds `data` to a [`Framer`] in chunks whose sizes come from the data itself, and
/// exercises every message frame.
pub(crate) fn framing(data: &[u8]) {
    let Some((&seed, rest)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(seed % 64) + 1;
    let mut framer = Framer::new();
    let mut buf = BytesMut::new();
    for piece in rest.chunks(chunk) {
        buf.extend_from_slice(piece);
        loop {
            match framer.next_frame(&mut buf) {
                Ok(Some(Frame::Message(m))) => {
                    if let Ok(msg) = parse_message(m) {
                        touch(&msg);
                    }
                }
                Ok(Some(Frame::Ping | Frame::Pong)) => {}
                Ok(None) => break,
                Err(e) => {
                    let _ = (e.status(), e.reason());
                    return;
                }
            }
        }
    }
}

fn touch(msg: &Message) {
    let h = msg.headers();
    for header in h.iter() {
        let _ = (header.name(), header.raw_name(), header.value_str());
    }
    for via in h.vias().flatten() {
        let _ = (
            via.branch(),
            via.received(),
            via.rport(),
            via.port_or_default(),
            via.host().ip(),
        );
    }
    for na in [h.from(), h.to()].into_iter().flatten() {
        let _ = (na.display_name(), na.tag());
        if let Some(sip) = na.uri().as_sip() {
            let _ = sip.aor();
            assert!(sip.equivalent(sip), "a URI is equivalent to itself");
        }
    }
    for c in h.contacts().flatten() {
        if let Contact::Address(a) = c {
            let _ = (a.expires(), a.q(), a.sip_instance(), a.reg_id());
        }
    }
    for r in h
        .routes()
        .chain(h.record_routes())
        .chain(h.paths())
        .flatten()
    {
        let _ = r.uri().as_str();
    }
    let _ = (
        h.expires(),
        h.max_forwards(),
        h.content_type(),
        h.event(),
        h.min_expires(),
    );
    let _ = (
        h.require().count(),
        h.supported().count(),
        h.authorizations().count(),
    );
    let _ = (msg.call_id(), msg.cseq(), msg.body().len());

    // The accepted bytes parse again to the same message.
    let again = parse_message(msg.as_bytes().clone()).expect("accepted bytes re-parse");
    assert_eq!(again.headers().len(), h.len());
    assert_eq!(again.body(), msg.body());

    match msg {
        Message::Request(req) => {
            let _ = req.uri().as_str();
            let resp = req.response(StatusCode::OK).to_tag("fz").build();
            parse_message(resp.as_bytes().clone()).expect("a built response parses");
            let copy = req
                .edit()
                .remove_first("Route")
                .build()
                .expect("an edited copy parses");
            assert_eq!(copy.body(), req.body());
            assert_eq!(
                copy.headers().content_length().ok().flatten(),
                Some(req.body().len() as u32)
            );
            let _ = h.contains(HeaderName::MaxForwards);
        }
        Message::Response(resp) => {
            let _ = (resp.status(), resp.reason());
            resp.edit().remove_first("Via").build().ok();
        }
    }
}
