//! Scenarios: RFC 7616 §3.9.1 (MD5, SHA-256) and RFC 2617 §3.5 response vectors; server ↔
//! client round trips for every algorithm; RFC 2069 (no qop) for MD5 only; stale, tampered,
//! foreign-realm and replayed nonces; wrong password; opaque; unoffered algorithm.
//! Not covered: `auth-int`, `userhash` (not implemented).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use super::*;
use crate::digest::{authorize, ha1, Challenge, ClientRequest};

const SECRET: &[u8] = b"an example secret of 32 bytes...";

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

fn rfc7616_input(algorithm: Algorithm, ha1: &[u8]) -> ResponseInput<'_> {
    ResponseInput {
        algorithm,
        ha1,
        nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
        method: "GET",
        uri: "/dir/index.html",
        qop: Some(QopAuth {
            nc: "00000001",
            cnonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
        }),
        cnonce: Some("f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"),
    }
}

#[test]
fn rfc7616_3_9_1_md5_and_sha256_vectors() {
    let realm = "http-auth@example.org";
    let md5 = ha1(HashFunction::Md5, "Mufasa", realm, "Circle of Life");
    assert_eq!(
        response(&rfc7616_input(Algorithm::Md5, md5.as_bytes()))
            .unwrap()
            .as_str(),
        "8ca523f5e9506fed4657c9700eebdbec"
    );
    let sha = ha1(HashFunction::Sha256, "Mufasa", realm, "Circle of Life");
    assert_eq!(
        response(&rfc7616_input(Algorithm::Sha256, sha.as_bytes()))
            .unwrap()
            .as_str(),
        "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"
    );
}

#[test]
fn rfc7616_3_9_1_client_authorize_reproduces_vector() {
    let challenge = Challenge::parse(
        r#"Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256,
           nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
           opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#,
    )
    .unwrap();
    let value = authorize(
        &challenge,
        &ClientRequest {
            username: "Mufasa",
            password: "Circle of Life",
            method: "GET",
            uri: "/dir/index.html",
            cnonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
            nc: 1,
        },
    )
    .unwrap();
    let creds = Credentials::parse(&value).unwrap();
    assert_eq!(
        creds.response,
        "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"
    );
    assert_eq!(creds.nc.as_deref(), Some("00000001"));
    assert_eq!(
        creds.opaque.as_deref(),
        Some("FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS")
    );
}

#[test]
fn rfc2617_3_5_md5_qop_auth_vector() {
    let secret = ha1(
        HashFunction::Md5,
        "Mufasa",
        "testrealm@host.com",
        "Circle Of Life",
    );
    let got = response(&ResponseInput {
        algorithm: Algorithm::Md5,
        ha1: secret.as_bytes(),
        nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093",
        method: "GET",
        uri: "/dir/index.html",
        qop: Some(QopAuth {
            nc: "00000001",
            cnonce: "0a4f113b",
        }),
        cnonce: Some("0a4f113b"),
    })
    .unwrap();
    assert_eq!(got.as_str(), "6629fae49393a05397450978507c4ef1");
}

struct Fixture {
    auth: Authenticator,
    realm: &'static str,
}

impl Fixture {
    fn new(config: DigestConfig) -> Self {
        Self {
            auth: Authenticator::new(SECRET, config),
            realm: "acme.test",
        }
    }

    fn challenge(&self, now: u64, alg: Algorithm) -> String {
        self.auth
            .challenge(at(now), self.realm, None, false)
            .iter()
            .find(|v| Challenge::parse(v).unwrap().algorithm() == Ok(alg))
            .unwrap()
            .to_owned()
    }

    fn answer(&self, challenge: &str, password: &str, nc: u32) -> String {
        let challenge = Challenge::parse(challenge).unwrap();
        authorize(
            &challenge,
            &ClientRequest {
                username: "1004",
                password,
                method: "REGISTER",
                uri: "sip:acme.test",
                cnonce: "c1",
                nc,
            },
        )
        .unwrap()
    }

    fn verify(&self, now: u64, value: &str) -> Result<Verified, DigestError> {
        let creds = Credentials::parse(value)?;
        let secret = ha1(creds.algorithm()?.hash(), "1004", self.realm, "pw1004");
        let request = AuthRequest {
            method: "REGISTER",
            realm: self.realm,
            client: None,
        };
        self.auth.verify(at(now), &request, &creds, secret.as_str())
    }
}

#[test]
fn rfc8760_round_trip_every_algorithm() {
    let config = DigestConfig {
        algorithms: vec![
            Algorithm::Sha256,
            Algorithm::Sha256Sess,
            Algorithm::Md5,
            Algorithm::Md5Sess,
        ],
        ..DigestConfig::default()
    };
    let f = Fixture::new(config);
    for alg in f.auth.config().algorithms.clone() {
        let value = f.answer(&f.challenge(1_000, alg), "pw1004", 1);
        let verified = f.verify(1_010, &value).unwrap();
        assert_eq!(verified.algorithm, alg);
        assert_eq!(verified.nonce_issued, 1_000);
    }
}

#[test]
fn hd_sec_3_challenges_offer_sha256_then_md5_with_one_nonce() {
    let f = Fixture::new(DigestConfig::default());
    let values = f.auth.challenge(at(5), "acme.test", None, true);
    let parsed: Vec<_> = values
        .iter()
        .map(|v| Challenge::parse(v).unwrap())
        .collect();
    assert_eq!(parsed.len(), 2);
    assert_eq!(parsed[0].algorithm(), Ok(Algorithm::Sha256));
    assert_eq!(parsed[1].algorithm(), Ok(Algorithm::Md5));
    assert_eq!(parsed[0].nonce, parsed[1].nonce);
    assert!(parsed
        .iter()
        .all(|c| c.stale && c.offers_qop_auth() && c.realm == "acme.test"));
}

#[test]
fn rfc3261_22_4_wrong_password_is_forbidden() {
    let f = Fixture::new(DigestConfig::default());
    let value = f.answer(&f.challenge(1_000, Algorithm::Md5), "guess", 1);
    assert_eq!(f.verify(1_000, &value), Err(DigestError::WrongResponse));
}

#[test]
fn rfc7616_3_3_expired_nonce_with_right_password_is_stale() {
    let f = Fixture::new(DigestConfig::default());
    let value = f.answer(&f.challenge(1_000, Algorithm::Sha256), "pw1004", 1);
    assert_eq!(f.verify(1_301, &value), Err(DigestError::Stale));
    // With the wrong password the client learns nothing about the nonce.
    let value = f.answer(&f.challenge(1_000, Algorithm::Sha256), "guess", 1);
    assert_eq!(f.verify(1_301, &value), Err(DigestError::WrongResponse));
}

#[test]
fn rfc7616_3_4_replayed_nonce_count_rejected() {
    let f = Fixture::new(DigestConfig::default());
    let challenge = f.challenge(1_000, Algorithm::Md5);
    let first = f.answer(&challenge, "pw1004", 1);
    assert!(f.verify(1_000, &first).is_ok());
    assert_eq!(
        f.verify(1_001, &first),
        Err(DigestError::Replay { nc: 1, seen: 1 })
    );
    let second = f.answer(&challenge, "pw1004", 2);
    assert!(f.verify(1_002, &second).is_ok());
    // A reused count with the wrong password is a wrong password: `Replay` (like `Stale`)
    // tells the caller the password was right.
    let guess = f.answer(&challenge, "guess", 2);
    assert_eq!(f.verify(1_003, &guess), Err(DigestError::WrongResponse));
}

#[test]
fn hd_sec_3_tampered_nonce_and_foreign_realm_rejected() {
    let f = Fixture::new(DigestConfig::default());
    let challenge = f.challenge(1_000, Algorithm::Md5);
    let nonce = Challenge::parse(&challenge).unwrap().nonce.into_owned();
    // Claim a later issue time; the client computes a valid response over the forged nonce.
    let mut raw = URL_SAFE_NO_PAD.decode(&nonce).unwrap();
    raw[..4].copy_from_slice(&1_290u32.to_be_bytes());
    let forged = URL_SAFE_NO_PAD.encode(raw);
    let value = f.answer(&challenge.replace(&nonce, &forged), "pw1004", 1);
    assert_eq!(f.verify(1_295, &value), Err(DigestError::BadNonce));
    let other_realm = Fixture {
        auth: Authenticator::new(SECRET, DigestConfig::default()),
        realm: "other.test",
    };
    let value = f.answer(&challenge, "pw1004", 1);
    assert_eq!(
        other_realm.verify(1_000, &value),
        Err(DigestError::RealmMismatch)
    );
    let foreign = value.replace("acme.test", "other.test");
    assert_eq!(
        other_realm.verify(1_000, &foreign),
        Err(DigestError::BadNonce)
    );
}

#[test]
fn rfc2069_no_qop_only_for_md5_and_only_when_allowed() {
    let f = Fixture::new(DigestConfig::default());
    let strip_qop = |c: &str| c.replace(", qop=\"auth\"", "");
    let md5 = strip_qop(&f.challenge(1_000, Algorithm::Md5));
    let value = f.answer(&md5, "pw1004", 1);
    assert!(!value.contains("qop"));
    assert!(f.verify(1_000, &value).is_ok());
    let strict = Fixture::new(DigestConfig {
        allow_rfc2069: false,
        ..DigestConfig::default()
    });
    assert_eq!(
        strict.verify(1_000, &value),
        Err(DigestError::MissingParam { name: "qop" })
    );
}

#[test]
fn rfc8760_unoffered_algorithm_and_opaque() {
    let f = Fixture::new(DigestConfig {
        algorithms: vec![Algorithm::Sha256],
        opaque: Some("op1".into()),
        ..DigestConfig::default()
    });
    let sha = f.challenge(1_000, Algorithm::Sha256);
    assert!(f.verify(1_000, &f.answer(&sha, "pw1004", 1)).is_ok());
    let md5 = sha.replace("SHA-256", "MD5");
    assert_eq!(
        f.verify(1_000, &f.answer(&md5, "pw1004", 1)),
        Err(DigestError::UnsupportedAlgorithm)
    );
    let no_opaque = sha.replace(", opaque=\"op1\"", "");
    assert_eq!(
        f.verify(1_000, &f.answer(&no_opaque, "pw1004", 2)),
        Err(DigestError::OpaqueMismatch)
    );
}

#[test]
fn rfc7616_3_4_stored_ha1_length_checked() {
    let f = Fixture::new(DigestConfig::default());
    let value = f.answer(&f.challenge(1_000, Algorithm::Sha256), "pw1004", 1);
    let creds = Credentials::parse(&value).unwrap();
    let md5_ha1 = ha1(HashFunction::Md5, "1004", "acme.test", "pw1004");
    let request = AuthRequest {
        method: "REGISTER",
        realm: "acme.test",
        client: None,
    };
    assert_eq!(
        f.auth.verify(at(1_000), &request, &creds, md5_ha1.as_str()),
        Err(DigestError::InvalidStoredHa1 {
            expected: 64,
            found: 32
        })
    );
}

/// RFC 3261 §8.2.7: a stateless UAS answers a retransmission the same way. Challenges for
/// one transaction within one second are identical; another transaction, another second or
/// the counter's path get another nonce, and each is accepted once.
#[test]
fn rfc3261_8_2_7_copies_of_one_request_get_the_same_challenge() {
    let f = Fixture::new(DigestConfig::default());
    let first = f
        .auth
        .challenge_for(at(1_000), "acme.test", None, false, 42);
    let copy = f
        .auth
        .challenge_for(at(1_000), "acme.test", None, false, 42);
    assert_eq!(first, copy);
    let nonce = |c: &Challenges| {
        let value = c.iter().next().unwrap();
        Challenge::parse(value).unwrap().nonce.into_owned()
    };
    let others = [
        f.auth
            .challenge_for(at(1_000), "acme.test", None, false, 43),
        f.auth
            .challenge_for(at(1_001), "acme.test", None, false, 42),
        f.auth.challenge(at(1_000), "acme.test", None, false),
    ];
    for other in &others {
        assert_ne!(nonce(other), nonce(&first));
    }
    let sha = first.iter().next().unwrap();
    let value = f.answer(sha, "pw1004", 1);
    assert!(f.verify(1_001, &value).is_ok());
}

// RFC 7616 §3.4.3: HA2 covers the request's method and the credentials' URI. The verifier
// keeps the last HA2 per hash function; a request with another method or URI must be
// checked against its own, in either algorithm and after the other's use.
#[test]
fn rfc7616_3_4_3_ha2_follows_each_requests_method_and_uri() {
    let f = Fixture::new(DigestConfig::default());
    let answer = |alg, method, uri, nc| {
        let offered = f.challenge(1_000, alg);
        let challenge = Challenge::parse(&offered).unwrap();
        authorize(
            &challenge,
            &ClientRequest {
                username: "1004",
                password: "pw1004",
                method,
                uri,
                cnonce: "c1",
                nc,
            },
        )
        .unwrap()
    };
    let verify_as = |method, value: &str| {
        let creds = Credentials::parse(value).unwrap();
        let secret = ha1(creds.algorithm().unwrap().hash(), "1004", f.realm, "pw1004");
        let request = AuthRequest {
            method,
            realm: f.realm,
            client: None,
        };
        f.auth.verify(at(1_000), &request, &creds, secret.as_str())
    };
    for alg in [Algorithm::Md5, Algorithm::Sha256] {
        let a = answer(alg, "REGISTER", "sip:acme.test", 1);
        assert!(verify_as("REGISTER", &a).is_ok());
        let b = answer(alg, "REGISTER", "sip:acme.test;transport=tcp", 1);
        assert!(verify_as("REGISTER", &b).is_ok(), "another URI");
        let c = answer(alg, "INVITE", "sip:acme.test;transport=tcp", 1);
        assert!(verify_as("INVITE", &c).is_ok(), "another method");
        // Signed for REGISTER, sent as INVITE: the HA2 last used must not make it pass.
        let d = answer(alg, "REGISTER", "sip:acme.test;transport=tcp", 1);
        assert!(verify_as("REGISTER", &d).is_ok());
        let e = answer(alg, "REGISTER", "sip:acme.test;transport=tcp", 1);
        assert_eq!(verify_as("INVITE", &e), Err(DigestError::WrongResponse));
    }
}
