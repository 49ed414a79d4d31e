//! Secrets at rest and in flight (HD-SEC-2, HD-SEC-4): SIP passwords sealed with AES-256-GCM
//! under the server key, PINs and portal passwords as argon2id hashes, API tokens as SHA-256.
//!
//! Every type holding a secret prints as `[redacted]`, so a stray `{:?}` in a log line or an
//! error message cannot leak it.

use std::fmt;

use aes_gcm::aead::{Aead, KeyInit, OsRng};
use aes_gcm::{AeadCore, Aes256Gcm, Key, Nonce};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use hotdesk_core::pin::SALT_LEN;
use hotdesk_core::{Pin, PinHasher};
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};

/// Prefix of sealed values, so a future key or cipher change can be told apart.
const SEALED_PREFIX: &str = "v1:";
/// AES-GCM nonce length in bytes.
const NONCE_LEN: usize = 12;

/// Why a secret operation failed. Never carries the secret itself.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The server key is not 32 bytes (given as 64 hex digits or base64).
    #[error("server key must be 32 bytes, given as 64 hex digits or base64")]
    BadKey,
    /// A sealed value is not in the `v1:` base64 form.
    #[error("sealed secret is malformed")]
    Malformed,
    /// Decryption failed: wrong server key or tampered value.
    #[error("sealed secret could not be opened (wrong server key?)")]
    Open,
    /// Encryption failed (only on absurd lengths).
    #[error("secret could not be sealed")]
    Seal,
    /// Hashing failed (bad argon2 parameters).
    #[error("hashing failed")]
    Hash,
}

/// A secret in clear, briefly held (a SIP password to provision, a token to return once).
#[derive(Clone, PartialEq, Eq)]
pub struct SecretString(String);

impl SecretString {
    /// Wraps a clear-text secret.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    /// The clear text; call only where the secret must leave (provisioning, digest HA1).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl<'de> serde::Deserialize<'de> for SecretString {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self)
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// The 32-byte server key sealing SIP passwords at rest (HD-SEC-2).
#[derive(Clone)]
pub struct ServerKey {
    cipher: Aes256Gcm,
    /// HMAC key of the PIN index, derived from the same 32 bytes (HD-LOGIN-2).
    index: [u8; 32],
}

impl fmt::Debug for ServerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ServerKey([redacted])")
    }
}

impl ServerKey {
    /// A key from 32 raw bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        let mut derive = Sha256::new();
        derive.update(b"hotdesk pin index v1\0");
        derive.update(bytes);
        Self {
            cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&bytes)),
            index: derive.finalize().into(),
        }
    }

    /// The keyed PIN index of HD-LOGIN-2: hex HMAC-SHA256(derived key, `domain|pin`).
    /// Stored beside the argon2 hash so `980` + PIN finds its owner without trying every
    /// user's hash; without the server key it reveals nothing about the PIN.
    pub fn pin_index(&self, domain: &str, pin: &str) -> String {
        // HMAC takes a key of any length, so this cannot fail.
        let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(&self.index) else {
            return String::new();
        };
        mac.update(domain.as_bytes());
        mac.update(b"|");
        mac.update(pin.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// Parses a key written as 64 hex digits or as standard base64 of 32 bytes.
    pub fn parse(text: &str) -> Result<Self, SecretError> {
        let text = text.trim();
        let bytes = hex::decode(text)
            .ok()
            .or_else(|| STANDARD.decode(text).ok())
            .ok_or(SecretError::BadKey)?;
        let array: [u8; 32] = bytes.try_into().map_err(|_| SecretError::BadKey)?;
        Ok(Self::from_bytes(array))
    }

    /// A fresh random key (tests, `--demo`); print it with [`ServerKey::generate_hex`] instead
    /// when it must be kept.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        Self::from_bytes(bytes)
    }

    /// 64 hex digits of fresh random key material, for `hotdesk` to write into a config file.
    pub fn generate_hex() -> String {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        hex::encode(bytes)
    }

    /// Encrypts `plain` with a fresh random nonce: `v1:` + base64(nonce ‖ ciphertext ‖ tag).
    pub fn seal(&self, plain: &str) -> Result<String, SecretError> {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let sealed = self
            .cipher
            .encrypt(&nonce, plain.as_bytes())
            .map_err(|_| SecretError::Seal)?;
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(format!("{SEALED_PREFIX}{}", STANDARD.encode(out)))
    }

    /// Decrypts a value made by [`ServerKey::seal`].
    pub fn open(&self, sealed: &str) -> Result<SecretString, SecretError> {
        let body = sealed
            .strip_prefix(SEALED_PREFIX)
            .ok_or(SecretError::Malformed)?;
        let bytes = STANDARD.decode(body).map_err(|_| SecretError::Malformed)?;
        if bytes.len() < NONCE_LEN {
            return Err(SecretError::Malformed);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let plain = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), ciphertext)
            .map_err(|_| SecretError::Open)?;
        String::from_utf8(plain)
            .map(SecretString)
            .map_err(|_| SecretError::Open)
    }
}

/// argon2id for PINs: 64 KiB, one pass, one lane (about 0.1 ms per hash here).
///
/// Why so light: a PIN is 4–12 digits, at most ~40 bits and usually ~13, so no argon2 cost
/// makes an offline search of a stolen database slow enough to matter (10,000 four-digit
/// PINs fall in about a second even at 1 MiB); what protects PINs is the online lock-out
/// (5 failures / 15 min per user and per device, HD-SEC-2) and keeping the hash out of
/// every response and log. The hash only has to keep the PIN out of the database in clear,
/// and a cheap one keeps a 100,000-user CSV import to seconds (1 MiB took 60 s on two cores;
/// see `BENCHMARKS.md`). Portal passwords, which carry real entropy, use
/// [`hash_password`] with the OWASP parameters.
const PIN_PARAMS: (u32, u32, u32) = (64, 1, 1);

/// argon2id for portal passwords: OWASP's 19 MiB, two passes, one lane.
fn password_hasher() -> Result<Argon2<'static>, SecretError> {
    let params = Params::new(19 * 1024, 2, 1, None).map_err(|_| SecretError::Hash)?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

fn hash_with(hasher: &Argon2<'_>, secret: &str) -> Result<String, SecretError> {
    let salt = SaltString::generate(&mut OsRng);
    hasher
        .hash_password(secret.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|_| SecretError::Hash)
}

/// Hashes a phone PIN (4–12 digits) as an argon2id PHC string with a random salt
/// (HD-SEC-2). CPU-bound: call it off the async runtime.
pub fn hash_pin(pin: &str) -> Result<String, SecretError> {
    let pin = Pin::new(pin).map_err(|_| SecretError::Hash)?;
    let (memory, passes, lanes) = PIN_PARAMS;
    let hasher = PinHasher::new(memory, passes, lanes).map_err(|_| SecretError::Hash)?;
    let mut salt = [0u8; SALT_LEN];
    rand::rng().fill_bytes(&mut salt);
    hasher.hash(&pin, &salt).map_err(|_| SecretError::Hash)
}

/// Hashes a portal password as an argon2id PHC string with strong parameters.
pub fn hash_password(password: &str) -> Result<String, SecretError> {
    hash_with(&password_hasher()?, password)
}

/// Checks a PIN or password against a PHC string; the parameters come from the string, so
/// hashes made with older parameters keep working. A malformed hash never matches.
pub fn verify_hash(secret: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(secret.as_bytes(), &parsed)
            .is_ok()
    })
}

/// A new bearer token: `hd_` + 32 random bytes in URL-safe base64. Return it once; store
/// only [`token_hash`] of it (HD-SEC-4).
pub fn new_token() -> SecretString {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    SecretString(format!("hd_{}", URL_SAFE_NO_PAD.encode(bytes)))
}

/// Lower-case hex SHA-256 of a token, the only form in which tokens are stored.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hd_sec_2_sip_password_round_trips_and_is_not_clear() {
        let key = ServerKey::generate();
        let sealed = key.seal("s3cret-sip").unwrap();
        assert!(sealed.starts_with("v1:"));
        assert!(!sealed.contains("s3cret"));
        assert_eq!(key.open(&sealed).unwrap().expose(), "s3cret-sip");
        // Fresh nonce each time: equal passwords do not give equal ciphertexts.
        assert_ne!(sealed, key.seal("s3cret-sip").unwrap());
    }

    #[test]
    fn hd_sec_2_wrong_key_or_tampering_is_refused() {
        let key = ServerKey::generate();
        let sealed = key.seal("pw").unwrap();
        assert!(matches!(
            ServerKey::generate().open(&sealed),
            Err(SecretError::Open)
        ));
        let mut tampered = sealed.clone().into_bytes();
        let last = tampered.len() - 3;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();
        assert!(key.open(&tampered).is_err());
        assert!(matches!(key.open("plain"), Err(SecretError::Malformed)));
    }

    #[test]
    fn server_key_parses_hex_and_base64() {
        let hex_key = "00".repeat(32);
        assert!(ServerKey::parse(&hex_key).is_ok());
        assert!(ServerKey::parse(&STANDARD.encode([7u8; 32])).is_ok());
        assert!(matches!(ServerKey::parse("abcd"), Err(SecretError::BadKey)));
        assert_eq!(ServerKey::generate_hex().len(), 64);
    }

    #[test]
    fn hd_sec_2_secrets_are_redacted_in_debug_and_display() {
        let secret = SecretString::new("hunter2");
        assert_eq!(format!("{secret:?} {secret}"), "[redacted] [redacted]");
        let key = ServerKey::generate();
        assert!(!format!("{key:?}").contains(|c: char| c.is_ascii_digit()));
    }

    #[test]
    fn hd_sec_2_pin_hash_is_argon2id_and_verifies() {
        let hash = hash_pin("1234").unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
        assert!(verify_hash("1234", &hash));
        assert!(!verify_hash("1235", &hash));
        assert!(!verify_hash("1234", "not a hash"));
        let strong = hash_password("correct horse").unwrap();
        assert!(strong.contains("m=19456"));
        assert!(verify_hash("correct horse", &strong));
    }

    #[test]
    fn hd_sec_4_tokens_are_random_and_hashed() {
        let a = new_token();
        let b = new_token();
        assert_ne!(a, b);
        assert!(a.expose().starts_with("hd_"));
        let hash = token_hash(a.expose());
        assert_eq!(hash.len(), 64);
        assert_ne!(hash, token_hash(b.expose()));
    }
}
