//! HTTP authentication of phones fetching their files (HD-PROV-1): Digest (RFC 7616, MD5 and
//! SHA-256, stateless signed nonces) or Basic, with the device's own SIP credentials —
//! username = anchor extension, password = its SIP password. One fixed realm, so the
//! challenge says nothing about the MAC asked for; an unknown MAC and a wrong password
//! get the same answer (no enumeration).

use std::time::{Duration, SystemTime};

use base64::Engine as _;
use hotdesk_sip::digest::{
    ha1, Algorithm, AuthRequest, Authenticator, Credentials, DigestConfig, DigestError,
};
use subtle_free::ct_eq;

/// The realm of every provisioning challenge.
pub const REALM: &str = "hotdesk provisioning";

/// What the request proved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// Right credentials for the device.
    Allowed,
    /// Answer 401 with a fresh challenge (`stale` for an expired nonce).
    Challenge {
        /// The nonce was right but old.
        stale: bool,
    },
}

/// The device a request asks for, if the MAC is known: its anchor and clear password.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    /// The digest / Basic username: the anchor extension.
    pub username: &'a str,
    /// The SIP password.
    pub password: &'a str,
}

/// Provisioning's own signer (its secret is random per process: a restart only makes
/// phones answer one more challenge).
pub struct HttpAuth {
    authenticator: Authenticator,
}

impl std::fmt::Debug for HttpAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpAuth").finish_non_exhaustive()
    }
}

impl Default for HttpAuth {
    fn default() -> Self {
        Self::new()
    }
}

/// Stand-in credentials checked for an unknown MAC, so both cases cost the same.
const NOBODY: Expected<'static> = Expected {
    username: "\u{0}",
    password: "\u{0}",
};

mod subtle_free {
    /// Compares without an early exit on the first differing byte.
    pub(super) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
        let mut diff = a.len() ^ b.len();
        for (x, y) in a.iter().zip(b.iter()) {
            diff |= usize::from(x ^ y);
        }
        diff == 0
    }
}

impl HttpAuth {
    /// A signer with a fresh random secret.
    pub fn new() -> Self {
        let secret: [u8; 32] = rand::random();
        let config = DigestConfig {
            algorithms: vec![Algorithm::Md5, Algorithm::Sha256],
            nonce_lifetime: Duration::from_secs(300),
            replay_capacity: 4096,
            ..DigestConfig::default()
        };
        Self {
            authenticator: Authenticator::new(&secret, config),
        }
    }

    /// `WWW-Authenticate` values: one Digest challenge per algorithm, then Basic.
    pub fn challenges(&self, now: SystemTime, stale: bool) -> Vec<String> {
        let digest = self.authenticator.challenge(now, REALM, None, stale);
        let mut values: Vec<String> = digest.iter().map(str::to_owned).collect();
        values.push(format!("Basic realm=\"{REALM}\", charset=\"UTF-8\""));
        values
    }

    /// Checks an `Authorization` header against the expected device (`None`: unknown MAC,
    /// which never passes but costs the same).
    pub fn check(
        &self,
        now: SystemTime,
        method: &str,
        authorization: Option<&str>,
        expected: Option<Expected<'_>>,
    ) -> Check {
        let known = expected.is_some();
        let expected = expected.unwrap_or(NOBODY);
        let Some(value) = authorization.map(str::trim) else {
            return Check::Challenge { stale: false };
        };
        let scheme_len = value.find(' ').unwrap_or(value.len());
        let scheme = &value[..scheme_len];
        let allowed = if scheme.eq_ignore_ascii_case("Basic") {
            basic(&value[scheme_len..], expected)
        } else if scheme.eq_ignore_ascii_case("Digest") {
            match self.digest(now, method, value, expected) {
                Err(DigestError::Stale) if known => return Check::Challenge { stale: true },
                result => result.is_ok(),
            }
        } else {
            false
        };
        if allowed && known {
            Check::Allowed
        } else {
            Check::Challenge { stale: false }
        }
    }

    fn digest(
        &self,
        now: SystemTime,
        method: &str,
        value: &str,
        expected: Expected<'_>,
    ) -> Result<(), DigestError> {
        let credentials = Credentials::parse(value)?;
        let algorithm = credentials.algorithm()?;
        let hash = ha1(
            algorithm.hash(),
            expected.username,
            REALM,
            expected.password,
        );
        let request = AuthRequest {
            method,
            realm: REALM,
            client: None,
        };
        let verified = self
            .authenticator
            .verify(now, &request, &credentials, hash.as_str());
        let same_user = ct_eq(
            credentials.username.as_bytes(),
            expected.username.as_bytes(),
        );
        match verified {
            Ok(_) if same_user => Ok(()),
            Ok(_) => Err(DigestError::WrongResponse),
            Err(error) => Err(error),
        }
    }
}

fn basic(encoded: &str, expected: Expected<'_>) -> bool {
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded.trim()) else {
        return false;
    };
    let Some(colon) = decoded.iter().position(|b| *b == b':') else {
        return false;
    };
    let (user, password) = (&decoded[..colon], &decoded[colon + 1..]);
    // Both compared whatever the first gives, so timing says nothing about which failed.
    let user_ok = ct_eq(user, expected.username.as_bytes());
    let password_ok = ct_eq(password, expected.password.as_bytes());
    user_ok & password_ok
}

#[cfg(test)]
mod tests {
    use super::*;
    use hotdesk_sip::digest::{authorize, Challenge, ClientRequest};

    const DEVICE: Expected<'static> = Expected {
        username: "94001",
        password: "Device-pass-1",
    };

    fn basic_header(user: &str, password: &str) -> String {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        format!("Basic {token}")
    }

    #[test]
    fn hd_prov_1_basic_with_device_credentials() {
        let auth = HttpAuth::new();
        let now = SystemTime::now();
        let right = basic_header("94001", "Device-pass-1");
        assert_eq!(
            auth.check(now, "GET", Some(&right), Some(DEVICE)),
            Check::Allowed
        );
        for wrong in [
            basic_header("94001", "nope"),
            basic_header("94002", "Device-pass-1"),
            "Basic !!!".into(),
            "Bearer x".into(),
        ] {
            assert_eq!(
                auth.check(now, "GET", Some(&wrong), Some(DEVICE)),
                Check::Challenge { stale: false }
            );
        }
        // Unknown MAC: the same answer even with "right" credentials of nobody.
        assert_eq!(
            auth.check(now, "GET", Some(&right), None),
            Check::Challenge { stale: false }
        );
        assert_eq!(
            auth.check(now, "GET", None, Some(DEVICE)),
            Check::Challenge { stale: false }
        );
    }

    #[test]
    fn hd_prov_1_digest_with_device_credentials() {
        let auth = HttpAuth::new();
        let now = SystemTime::now();
        let challenges = auth.challenges(now, false);
        assert!(challenges.last().unwrap().starts_with("Basic "));
        let challenge = Challenge::parse(&challenges[0]).unwrap();
        let header = |password: &str| {
            authorize(
                &challenge,
                &ClientRequest {
                    method: "GET",
                    uri: "/provision/001565000001.cfg",
                    username: "94001",
                    password,
                    cnonce: "abcdef",
                    nc: 1,
                },
            )
            .unwrap()
        };
        assert_eq!(
            auth.check(now, "GET", Some(&header("Device-pass-1")), Some(DEVICE)),
            Check::Allowed
        );
        assert_eq!(
            auth.check(now, "GET", Some(&header("wrong")), Some(DEVICE)),
            Check::Challenge { stale: false }
        );
    }
}
