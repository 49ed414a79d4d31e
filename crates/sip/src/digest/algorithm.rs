//! Digest algorithms of RFC 8760 / RFC 7616 (MD5, SHA-256 and their `-sess` variants)
//! and the hex hashing they share.

use std::fmt;

use md5::Md5;
use sha2::{Digest, Sha256};

/// A digest algorithm named in the `algorithm` parameter (RFC 7616 §3.3, RFC 8760 §2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// `MD5` — the default when `algorithm` is absent; the only one most phones and SIPp do.
    Md5,
    /// `MD5-sess` — HA1 re-hashed with the nonce and cnonce.
    Md5Sess,
    /// `SHA-256` (RFC 8760).
    Sha256,
    /// `SHA-256-sess` (RFC 8760).
    Sha256Sess,
}

impl Algorithm {
    /// Parses an `algorithm` token, case-insensitively (RFC 7616 §3.3: names are case-insensitive).
    pub fn parse(token: &str) -> Option<Self> {
        const NAMES: [(&str, Algorithm); 4] = [
            ("MD5", Algorithm::Md5),
            ("MD5-sess", Algorithm::Md5Sess),
            ("SHA-256", Algorithm::Sha256),
            ("SHA-256-sess", Algorithm::Sha256Sess),
        ];
        NAMES
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(token))
            .map(|&(_, alg)| alg)
    }

    /// The token as sent on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Md5 => "MD5",
            Self::Md5Sess => "MD5-sess",
            Self::Sha256 => "SHA-256",
            Self::Sha256Sess => "SHA-256-sess",
        }
    }

    /// True for the `-sess` variants, whose HA1 also covers nonce and cnonce.
    pub fn is_session(self) -> bool {
        matches!(self, Self::Md5Sess | Self::Sha256Sess)
    }

    /// The hash function underneath, which decides which stored HA1 applies.
    pub fn hash(self) -> HashFunction {
        match self {
            Self::Md5 | Self::Md5Sess => HashFunction::Md5,
            Self::Sha256 | Self::Sha256Sess => HashFunction::Sha256,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The hash function of an algorithm: an HA1 stored for one serves both the plain and
/// the `-sess` variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashFunction {
    /// MD5: 32 hex digits.
    Md5,
    /// SHA-256: 64 hex digits.
    Sha256,
}

impl HashFunction {
    /// Length of the lowercase hex digest this function produces.
    pub fn hex_len(self) -> usize {
        match self {
            Self::Md5 => 32,
            Self::Sha256 => 64,
        }
    }

    /// Hashes `parts` joined by `:` — every digest formula (HA1, HA2, response) has this shape.
    pub fn hash_joined(self, parts: &[&[u8]]) -> HexDigest {
        match self {
            Self::Md5 => HexDigest::from_bytes(&joined::<Md5>(parts)),
            Self::Sha256 => HexDigest::from_bytes(&joined::<Sha256>(parts)),
        }
    }
}

fn joined<D: Digest>(parts: &[&[u8]]) -> sha2::digest::Output<D> {
    let mut hasher = D::new();
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            hasher.update(b":");
        }
        hasher.update(part);
    }
    hasher.finalize()
}

/// A lowercase hex digest held on the stack (up to SHA-256's 64 digits), so hashing
/// allocates nothing.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct HexDigest {
    buf: [u8; 64],
    len: u8,
}

impl HexDigest {
    fn from_bytes(bytes: &[u8]) -> Self {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut buf = [0u8; 64];
        // Digests are at most 32 bytes; `take` keeps this total even if that changed.
        for (i, b) in bytes.iter().take(32).enumerate() {
            buf[2 * i] = HEX[usize::from(b >> 4)];
            buf[2 * i + 1] = HEX[usize::from(b & 0x0f)];
        }
        Self {
            buf,
            len: (bytes.len().min(32) * 2) as u8,
        }
    }

    /// The digits as bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..usize::from(self.len)]
    }

    /// The digits as a string.
    pub fn as_str(&self) -> &str {
        // Only ASCII hex digits are ever written into `buf`.
        std::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }
}

impl fmt::Display for HexDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for HexDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Digests may be HA1 values, which are password equivalents (HD-SEC-2).
        f.write_str("HexDigest(..)")
    }
}

/// Computes HA1 = H(username ":" realm ":" password) for storing instead of the password
/// (RFC 7616 §3.4.2). Store one per hash function a user may authenticate with.
pub fn ha1(hash: HashFunction, username: &str, realm: &str, password: &str) -> HexDigest {
    hash.hash_joined(&[username.as_bytes(), realm.as_bytes(), password.as_bytes()])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7616_3_3_algorithm_names_are_case_insensitive() {
        assert_eq!(Algorithm::parse("sha-256"), Some(Algorithm::Sha256));
        assert_eq!(Algorithm::parse("md5-SESS"), Some(Algorithm::Md5Sess));
        assert_eq!(Algorithm::parse("SHA-512-256"), None);
        for alg in [
            Algorithm::Md5,
            Algorithm::Md5Sess,
            Algorithm::Sha256,
            Algorithm::Sha256Sess,
        ] {
            assert_eq!(Algorithm::parse(alg.as_str()), Some(alg));
        }
    }

    #[test]
    fn rfc1321_md5_and_fips180_sha256_known_digests() {
        assert_eq!(
            HashFunction::Md5.hash_joined(&[b"abc"]).as_str(),
            "900150983cd24fb0d6963f7d28e17f72"
        );
        assert_eq!(
            HashFunction::Sha256.hash_joined(&[b"a", b"bc"]).as_str(),
            // SHA-256("a:bc")
            HashFunction::Sha256.hash_joined(&[b"a:bc"]).as_str()
        );
        assert_eq!(
            HashFunction::Sha256.hash_joined(&[b"abc"]).as_str(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn rfc7616_3_9_1_ha1_of_mufasa() {
        // RFC 7616 §3.9.1: Mufasa / http-auth@example.org / "Circle of Life".
        let md5 = ha1(
            HashFunction::Md5,
            "Mufasa",
            "http-auth@example.org",
            "Circle of Life",
        );
        assert_eq!(md5.as_str().len(), 32);
        let sha = ha1(
            HashFunction::Sha256,
            "Mufasa",
            "http-auth@example.org",
            "Circle of Life",
        );
        assert_eq!(sha.as_str().len(), 64);
        assert_ne!(format!("{sha:?}"), sha.as_str(), "Debug must not print HA1");
    }
}
