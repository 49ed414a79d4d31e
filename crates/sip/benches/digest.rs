//! Digest authentication cost per request: parse credentials + verify (nonce signature,
//! response hash, nonce-count record), and issuing a challenge. Run with
//! `cargo bench -p hotdesk-sip --bench digest`.

use std::time::{Duration, UNIX_EPOCH};

use criterion::{criterion_group, criterion_main, Criterion};
use hotdesk_sip::digest::{
    authorize, ha1, Algorithm, AuthRequest, Authenticator, Challenge, ClientRequest, Credentials,
    DigestConfig,
};

fn verify(c: &mut Criterion) {
    let auth = Authenticator::new(b"bench secret bench secret bench!", DigestConfig::default());
    let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let request = AuthRequest {
        method: "REGISTER",
        realm: "acme.test",
        client: None,
    };
    for alg in [Algorithm::Md5, Algorithm::Sha256] {
        let challenge_value = auth
            .challenge(now, "acme.test", None, false)
            .iter()
            .find(|v| Challenge::parse(v).ok().and_then(|c| c.algorithm().ok()) == Some(alg))
            .unwrap_or_default()
            .to_owned();
        let challenge = Challenge::parse(&challenge_value).unwrap_or_else(|e| panic!("{e}"));
        let stored = ha1(alg.hash(), "1004", "acme.test", "pw1004");
        // Pre-build answers with rising nonce-counts so every iteration is accepted.
        let answers: Vec<String> = (1..=100_000u32)
            .map(|nc| {
                authorize(
                    &challenge,
                    &ClientRequest {
                        username: "1004",
                        password: "pw1004",
                        method: "REGISTER",
                        uri: "sip:acme.test",
                        cnonce: "0a4f113b",
                        nc,
                    },
                )
                .unwrap_or_default()
            })
            .collect();
        let mut next = 0usize;
        c.bench_function(&format!("digest_parse_and_verify_{alg}"), |b| {
            b.iter(|| {
                let value = &answers[next % answers.len()];
                next += 1;
                let creds = Credentials::parse(value).unwrap_or_else(|e| panic!("{e}"));
                // Past 100k iterations the counts replay; the cost is the same.
                let _ = std::hint::black_box(auth.verify(now, &request, &creds, stored.as_str()));
            })
        });
    }
    c.bench_function("digest_challenge_pair", |b| {
        b.iter(|| std::hint::black_box(auth.challenge(now, "acme.test", None, false)))
    });
}

criterion_group!(benches, verify);
criterion_main!(benches);
