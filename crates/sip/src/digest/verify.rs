//! Server side: issue challenges and verify credentials against a stored HA1
//! (RFC 3261 §22.4, RFC 7616 §3.4, RFC 8760).

use std::net::IpAddr;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use subtle::ConstantTimeEq;

use super::algorithm::{Algorithm, HashFunction, HexDigest};
use super::challenge::{write_challenges, ChallengeFields, Challenges};
use super::credentials::Credentials;
use super::error::DigestError;
use super::nonce::NonceSigner;
use super::nonce_count::NonceCounts;

/// Settings of an [`Authenticator`].
#[derive(Debug, Clone)]
pub struct DigestConfig {
    /// How long a nonce stays valid; after that a right response earns `stale=true`.
    pub nonce_lifetime: Duration,
    /// How far in the future a nonce's issue time may be (clock skew between nodes).
    pub max_clock_skew: Duration,
    /// Bind nonces to the client IP address (breaks clients whose address changes).
    pub bind_client_address: bool,
    /// Algorithms offered, one challenge each, in order (RFC 8760 §2.4: preferred first).
    pub algorithms: Vec<Algorithm>,
    /// Accept MD5 responses without `qop` (RFC 2069). They have no nonce-count, so no
    /// replay protection beyond the nonce lifetime.
    pub allow_rfc2069: bool,
    /// An `opaque` value to send and require back.
    pub opaque: Option<String>,
    /// Nonces tracked for nonce-count replay checks.
    pub replay_capacity: usize,
}

impl Default for DigestConfig {
    fn default() -> Self {
        Self {
            nonce_lifetime: Duration::from_secs(300),
            max_clock_skew: Duration::from_secs(30),
            bind_client_address: false,
            algorithms: vec![Algorithm::Sha256, Algorithm::Md5],
            allow_rfc2069: true,
            opaque: None,
            replay_capacity: 1 << 17,
        }
    }
}

/// What the request being authenticated is: its method, the realm it is checked
/// against (the domain) and the address it came from.
#[derive(Debug, Clone, Copy)]
pub struct AuthRequest<'a> {
    /// The request method (`REGISTER`, `INVITE`, …), hashed into HA2.
    pub method: &'a str,
    /// The realm the user must belong to.
    pub realm: &'a str,
    /// Source IP address, used when nonces are bound to it.
    pub client: Option<IpAddr>,
}

/// A successful verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    /// The algorithm the client used.
    pub algorithm: Algorithm,
    /// When the nonce was issued (Unix seconds).
    pub nonce_issued: u64,
}

/// Issues challenges and verifies credentials; shareable between threads.
pub struct Authenticator {
    signer: NonceSigner,
    counts: Mutex<NonceCounts>,
    ha2s: Mutex<Ha2Memo>,
    config: DigestConfig,
}

/// The HA2 of the last method and URI verified, per hash function: a registrar sees the
/// same `REGISTER` and `sip:domain` in request after request, and each saves a hash
/// compression.
#[derive(Default)]
struct Ha2Memo([Option<Ha2Entry>; 2]);

struct Ha2Entry {
    method: String,
    uri: String,
    ha2: HexDigest,
}

impl Authenticator {
    /// An authenticator signing nonces with `secret` (≥ 32 random bytes, the same on
    /// every node that must accept this node's nonces).
    pub fn new(secret: &[u8], config: DigestConfig) -> Self {
        Self {
            signer: NonceSigner::new(
                secret,
                config.nonce_lifetime,
                config.max_clock_skew,
                config.bind_client_address,
            ),
            counts: Mutex::new(NonceCounts::new(config.replay_capacity)),
            ha2s: Mutex::default(),
            config,
        }
    }

    /// The settings in force.
    pub fn config(&self) -> &DigestConfig {
        &self.config
    }

    /// HA2 of `method` and `uri`, from the memo when they are the last ones seen.
    fn ha2(&self, hash: HashFunction, method: &str, uri: &str) -> HexDigest {
        let which = match hash {
            HashFunction::Md5 => 0,
            HashFunction::Sha256 => 1,
        };
        // Poisoned: a panic elsewhere mid-update; the entry is replaced whole or not at all.
        let mut memo = self.ha2s.lock().unwrap_or_else(PoisonError::into_inner);
        let slot = &mut memo.0[which];
        match slot {
            Some(last) if last.method == method && last.uri == uri => last.ha2,
            _ => {
                let value = ha2(hash, method, uri);
                *slot = Some(Ha2Entry {
                    method: method.to_owned(),
                    uri: uri.to_owned(),
                    ha2: value,
                });
                value
            }
        }
    }

    /// The nonce counts; a poisoned lock only means another thread panicked mid-update,
    /// and the table is still a valid table.
    fn counts(&self) -> MutexGuard<'_, NonceCounts> {
        self.counts.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Challenge header values, one per configured algorithm (SHA-256 then MD5 by default),
    /// sharing one fresh nonce. Send each as its own `WWW-Authenticate` (or
    /// `Proxy-Authenticate`) header; pass `stale` from [`DigestError::is_stale`].
    pub fn challenge(
        &self,
        now: SystemTime,
        realm: &str,
        client: Option<IpAddr>,
        stale: bool,
    ) -> Challenges {
        self.write(now, realm, client, stale, None)
    }

    /// [`Self::challenge`] for a stateless answer to the request whose transaction hashes
    /// to `transaction` ([`request_fingerprint`](crate::endpoint::request_fingerprint)):
    /// a retransmission challenged within the same second gets the same values, so the
    /// answer is the same, as RFC 3261 §8.2.7 asks of a stateless UAS, and a client can
    /// tell the second for a copy of the first.
    pub fn challenge_for(
        &self,
        now: SystemTime,
        realm: &str,
        client: Option<IpAddr>,
        stale: bool,
        transaction: u64,
    ) -> Challenges {
        self.write(now, realm, client, stale, Some(transaction))
    }

    fn write(
        &self,
        now: SystemTime,
        realm: &str,
        client: Option<IpAddr>,
        stale: bool,
        transaction: Option<u64>,
    ) -> Challenges {
        let nonce = self.signer.issue_digits(now, realm, client, transaction);
        write_challenges(&ChallengeFields {
            realm,
            nonce: nonce.as_str(),
            algorithms: &self.config.algorithms,
            opaque: self.config.opaque.as_deref(),
            stale,
        })
    }

    /// Verifies `credentials` for `request` against the user's stored HA1 (lowercase hex of
    /// H(username:realm:password) for the hash function of `credentials.algorithm()`; see
    /// [`ha1`](super::ha1)). The caller looks the user up by `credentials.username` and
    /// realm first, and reports an unknown user as [`DigestError::UnknownUser`].
    pub fn verify(
        &self,
        now: SystemTime,
        request: &AuthRequest<'_>,
        credentials: &Credentials<'_>,
        ha1: &str,
    ) -> Result<Verified, DigestError> {
        let algorithm = credentials.algorithm()?;
        if !self.config.algorithms.contains(&algorithm) {
            return Err(DigestError::UnsupportedAlgorithm);
        }
        let hash = algorithm.hash();
        if ha1.len() != hash.hex_len() {
            return Err(DigestError::InvalidStoredHa1 {
                expected: hash.hex_len(),
                found: ha1.len(),
            });
        }
        if *credentials.realm != *request.realm {
            return Err(DigestError::RealmMismatch);
        }
        if let Some(expected) = &self.config.opaque {
            if credentials.opaque.as_deref() != Some(expected.as_str()) {
                return Err(DigestError::OpaqueMismatch);
            }
        }
        let nonce = self
            .signer
            .check(&credentials.nonce, now, request.realm, request.client)?;
        // The replay check comes after the hashing below; its table line is loaded meanwhile.
        self.counts().prefetch(nonce.id);

        let qop = match credentials.qop.as_deref() {
            Some(q) if q.eq_ignore_ascii_case("auth") => {
                let nc = credentials
                    .nonce_count()?
                    .ok_or(DigestError::MissingParam { name: "nc" })?;
                let cnonce = credentials
                    .cnonce
                    .as_deref()
                    .ok_or(DigestError::MissingParam { name: "cnonce" })?;
                let nc_text = credentials.nc.as_deref().unwrap_or_default();
                Some((
                    nc,
                    QopAuth {
                        nc: nc_text,
                        cnonce,
                    },
                ))
            }
            Some(_) => return Err(DigestError::UnsupportedQop),
            // RFC 7616 and RFC 8760 require qop; only plain MD5 has the RFC 2069 form.
            None if self.config.allow_rfc2069 && algorithm == Algorithm::Md5 => None,
            None => return Err(DigestError::MissingParam { name: "qop" }),
        };

        let input = ResponseInput {
            algorithm,
            ha1: ha1.as_bytes(),
            nonce: &credentials.nonce,
            method: request.method,
            uri: &credentials.uri,
            qop: qop.as_ref().map(|(_, q)| *q),
            cnonce: credentials.cnonce.as_deref(),
        };
        let expected = response_with_ha2(&input, &self.ha2(hash, request.method, input.uri))?;
        if !hex_eq_ignore_case(expected.as_bytes(), credentials.response.as_bytes()) {
            return Err(DigestError::WrongResponse);
        }
        // Only now, with the password proven, may the client learn the nonce is merely old.
        if nonce.expired {
            return Err(DigestError::Stale);
        }
        if let Some((nc, _)) = qop {
            self.counts().check_and_record(nonce.id, nonce.issued, nc)?;
        }
        Ok(Verified {
            algorithm,
            nonce_issued: nonce.issued,
        })
    }
}

/// `nc` and `cnonce` of a `qop=auth` response.
#[derive(Debug, Clone, Copy)]
pub(crate) struct QopAuth<'a> {
    pub(crate) nc: &'a str,
    pub(crate) cnonce: &'a str,
}

/// Everything the response formula hashes.
pub(crate) struct ResponseInput<'a> {
    pub(crate) algorithm: Algorithm,
    /// HA1 hex of H(username:realm:password), before any `-sess` step.
    pub(crate) ha1: &'a [u8],
    pub(crate) nonce: &'a str,
    pub(crate) method: &'a str,
    pub(crate) uri: &'a str,
    pub(crate) qop: Option<QopAuth<'a>>,
    pub(crate) cnonce: Option<&'a str>,
}

/// The expected `response` (RFC 7616 §3.4.1–3.4.3; RFC 2069 form without qop).
pub(crate) fn response(input: &ResponseInput<'_>) -> Result<HexDigest, DigestError> {
    response_with_ha2(input, &ha2(input.algorithm.hash(), input.method, input.uri))
}

/// HA2 = H(method:uri) for `qop=auth` and the RFC 2069 form.
fn ha2(hash: HashFunction, method: &str, uri: &str) -> HexDigest {
    hash.hash_joined(&[method.as_bytes(), uri.as_bytes()])
}

/// [`response`] with HA2 given.
fn response_with_ha2(input: &ResponseInput<'_>, ha2: &HexDigest) -> Result<HexDigest, DigestError> {
    let hash: HashFunction = input.algorithm.hash();
    let session_ha1;
    let ha1: &[u8] = if input.algorithm.is_session() {
        let cnonce = input
            .cnonce
            .ok_or(DigestError::MissingParam { name: "cnonce" })?;
        session_ha1 = hash.hash_joined(&[input.ha1, input.nonce.as_bytes(), cnonce.as_bytes()]);
        session_ha1.as_bytes()
    } else {
        input.ha1
    };
    Ok(match input.qop {
        Some(q) => hash.hash_joined(&[
            ha1,
            input.nonce.as_bytes(),
            q.nc.as_bytes(),
            q.cnonce.as_bytes(),
            b"auth",
            ha2.as_bytes(),
        ]),
        None => hash.hash_joined(&[ha1, input.nonce.as_bytes(), ha2.as_bytes()]),
    })
}

/// Constant-time comparison of our lowercase hex with the client's (which may be upper case).
fn hex_eq_ignore_case(ours: &[u8], theirs: &[u8]) -> bool {
    if ours.len() != theirs.len() {
        return false;
    }
    let mut lowered = [0u8; 64];
    let Some(buf) = lowered.get_mut(..theirs.len()) else {
        return false;
    };
    for (dst, src) in buf.iter_mut().zip(theirs) {
        *dst = src.to_ascii_lowercase();
    }
    bool::from(ours.ct_eq(buf))
}

#[cfg(test)]
#[path = "verify_tests.rs"]
mod tests;
