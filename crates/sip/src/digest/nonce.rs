//! Stateless nonces: the issue time and a counter, signed with HMAC-SHA256 over the realm
//! (and optionally the client address) under a server secret. Any node holding the secret
//! can check a nonce; nothing is stored per challenge.
//!
//! A nonce is written in base64url (RFC 4648 §5, unpadded), not hex: every client reads it
//! in each challenge (twice, once per algorithm) and sends it back in every request, and
//! SIP stacks pay per byte of a message they parse (SIPp spends about 120 instructions on
//! each byte it receives). 24 bytes make 32 characters instead of 48.

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::error::DigestError;

type HmacSha256 = Hmac<Sha256>;

/// Characters of a nonce: the base64url of [`RAW_LEN`] bytes.
pub const NONCE_LEN: usize = 32;

/// Bytes a nonce carries: the issue time (4, seconds since the Unix epoch, enough until
/// 2106), a counter (6) and the tag (14, the first 112 bits of the HMAC). Nodes sharing the
/// secret start their counters at random points; 48 bits keep their nonces apart.
const RAW_LEN: usize = 24;

/// Where the signed fields end and the tag starts in a nonce's bytes.
const SIGNED_LEN: usize = 10;

/// Bytes of the tag.
const TAG_LEN: usize = RAW_LEN - SIGNED_LEN;

/// Issues and checks signed nonces. Shareable between threads (`&self` only).
pub struct NonceSigner {
    mac: HmacSha256,
    lifetime: Duration,
    max_skew: Duration,
    bind_address: bool,
    counter: AtomicU64,
}

/// A nonce's characters, held on the stack.
pub(crate) struct NonceDigits([u8; NONCE_LEN]);

impl NonceDigits {
    /// The nonce text.
    pub(crate) fn as_str(&self) -> &str {
        // Only base64url characters are ever written.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

/// What a verified nonce says about itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NonceInfo {
    /// Issue time, in seconds since the Unix epoch.
    pub issued: u64,
    /// A unique identifier (the 112-bit tag): the key for nonce-count tracking.
    pub id: u128,
    /// True once the lifetime has passed.
    pub expired: bool,
}

impl NonceSigner {
    /// A signer with the given secret (≥ 32 random bytes, shared by all nodes), nonce
    /// lifetime, allowed clock skew between nodes, and whether nonces are bound to the
    /// client IP address. The counter starts at a random point, so a restart within the
    /// same second is very unlikely to reissue a nonce.
    pub fn new(secret: &[u8], lifetime: Duration, max_skew: Duration, bind_address: bool) -> Self {
        Self {
            // HMAC accepts keys of any length.
            mac: HmacSha256::new_from_slice(secret).unwrap_or_else(|_| unreachable_key()),
            lifetime,
            max_skew,
            bind_address,
            counter: AtomicU64::new(rand::random()),
        }
    }

    /// The configured nonce lifetime.
    pub fn lifetime(&self) -> Duration {
        self.lifetime
    }

    /// Issues a fresh nonce for `realm` at `now`.
    pub fn issue(&self, now: SystemTime, realm: &str, client: Option<IpAddr>) -> String {
        self.issue_digits(now, realm, client, None)
            .as_str()
            .to_owned()
    }

    /// [`issue`](Self::issue) on the stack, for callers that only copy it on. With
    /// `transaction` (a per-process secret hash of the request's transaction) in place of
    /// the counter, every copy of one request challenged within the same second gets the
    /// same nonce.
    pub(crate) fn issue_digits(
        &self,
        now: SystemTime,
        realm: &str,
        client: Option<IpAddr>,
        transaction: Option<u64>,
    ) -> NonceDigits {
        let issued = u32::try_from(unix_seconds(now)).unwrap_or(u32::MAX);
        let unique = transaction.unwrap_or_else(|| self.counter.fetch_add(1, Ordering::Relaxed));
        let mut raw = [0u8; RAW_LEN];
        raw[..4].copy_from_slice(&issued.to_be_bytes());
        // The low 48 bits.
        raw[4..SIGNED_LEN].copy_from_slice(&unique.to_be_bytes()[2..]);
        let tag = self.tag(&raw[..SIGNED_LEN], realm, client);
        raw[SIGNED_LEN..].copy_from_slice(&tag);
        let mut digits = [0u8; NONCE_LEN];
        // 24 bytes always make exactly 32 characters, so this cannot fail; were it to,
        // the nonce would be refused on its return, not accepted.
        let _ = URL_SAFE_NO_PAD.encode_slice(raw, &mut digits);
        NonceDigits(digits)
    }

    /// Checks that `nonce` was issued by a holder of the secret for `realm` (and `client`
    /// when binding is on). An expired nonce still verifies, with `expired` set, so the
    /// caller can answer `stale=true` only if the response itself is right.
    pub fn check(
        &self,
        nonce: &str,
        now: SystemTime,
        realm: &str,
        client: Option<IpAddr>,
    ) -> Result<NonceInfo, DigestError> {
        if nonce.len() != NONCE_LEN {
            return Err(DigestError::BadNonce);
        }
        let mut raw = [0u8; RAW_LEN];
        // Anything but 32 base64url characters (padding, other alphabets, multi-byte text)
        // fails to decode or decodes short.
        if URL_SAFE_NO_PAD.decode_slice(nonce, &mut raw) != Ok(RAW_LEN) {
            return Err(DigestError::BadNonce);
        }
        let (signed, received) = raw.split_at(SIGNED_LEN);
        let expected = self.tag(signed, realm, client);
        // Constant time, so the tag cannot be guessed byte by byte.
        if !bool::from(subtle::ConstantTimeEq::ct_eq(received, &expected[..])) {
            return Err(DigestError::BadNonce);
        }
        let issued = u64::from(u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]));
        let mut id = [0u8; 16];
        id[16 - TAG_LEN..].copy_from_slice(received);
        let now = unix_seconds(now);
        if issued > now.saturating_add(self.max_skew.as_secs()) {
            return Err(DigestError::BadNonce);
        }
        Ok(NonceInfo {
            issued,
            id: u128::from_be_bytes(id),
            expired: now.saturating_sub(issued) > self.lifetime.as_secs(),
        })
    }

    /// The tag over a nonce's `signed` bytes (issue time and counter), the realm and, when
    /// binding, the client address. The input stays within one SHA-256 block (55 bytes)
    /// for realms up to 38 bytes (34 binding an IPv4 address, 22 an IPv6 one): each block
    /// costs a compression, and every REGISTER pair makes two tags.
    fn tag(&self, signed: &[u8], realm: &str, client: Option<IpAddr>) -> [u8; TAG_LEN] {
        let mut mac = self.mac.clone();
        mac.update(b"hdn3");
        mac.update(signed);
        // Length prefix, and a kind byte before an address of that kind's length, so realm
        // and address bytes cannot be shifted into each other. Realms come from our
        // configuration or from messages under 64 KiB: the length always fits.
        mac.update(&u16::try_from(realm.len()).unwrap_or(u16::MAX).to_be_bytes());
        mac.update(realm.as_bytes());
        // An IPv4 client seen through an IPv6 socket (v4-mapped) is the same client.
        match client
            .filter(|_| self.bind_address)
            .map(|ip| ip.to_canonical())
        {
            Some(IpAddr::V4(v4)) => {
                mac.update(&[4]);
                mac.update(&v4.octets());
            }
            Some(IpAddr::V6(v6)) => {
                mac.update(&[6]);
                mac.update(&v6.octets());
            }
            None => mac.update(&[0]),
        }
        let out = mac.finalize().into_bytes();
        let mut tag = [0u8; TAG_LEN];
        tag.copy_from_slice(&out[..TAG_LEN]);
        tag
    }
}

#[cold]
fn unreachable_key() -> HmacSha256 {
    // `Hmac::new_from_slice` only fails for fixed-key MACs; HMAC has none. Fall back to
    // an empty key rather than panic.
    <HmacSha256 as hmac::digest::KeyInit>::new(&Default::default())
}

/// Seconds since the Unix epoch; times before it count as 0.
pub(crate) fn unix_seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer(bind: bool) -> NonceSigner {
        NonceSigner::new(
            b"0123456789abcdef0123456789abcdef",
            Duration::from_secs(300),
            Duration::from_secs(30),
            bind,
        )
    }

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn hd_sec_3_nonce_round_trip_and_uniqueness() {
        let s = signer(false);
        let a = s.issue(at(1_000), "acme.test", None);
        let b = s.issue(at(1_000), "acme.test", None);
        assert_eq!(a.len(), NONCE_LEN);
        assert_ne!(
            a, b,
            "two challenges in one second must differ (nc tracking)"
        );
        let info = s.check(&a, at(1_100), "acme.test", None).unwrap();
        assert_eq!(info.issued, 1_000);
        assert!(!info.expired);
        assert_ne!(
            info.id,
            s.check(&b, at(1_100), "acme.test", None).unwrap().id
        );
    }

    // Nodes sharing the secret check each other's nonces, and their counters, started at
    // random points, keep apart the nonces they issue in the same second.
    #[test]
    fn hd_sec_3_nodes_sharing_the_secret_issue_distinct_nonces_both_can_check() {
        let (a, b) = (signer(false), signer(false));
        let from_a = a.issue(at(1_000), "acme.test", None);
        let from_b = b.issue(at(1_000), "acme.test", None);
        assert_ne!(from_a, from_b);
        let seen_by_b = b.check(&from_a, at(1_001), "acme.test", None).unwrap();
        let seen_by_a = a.check(&from_b, at(1_001), "acme.test", None).unwrap();
        assert_eq!((seen_by_b.issued, seen_by_a.issued), (1_000, 1_000));
        assert_ne!(seen_by_b.id, seen_by_a.id);
    }

    #[test]
    fn hd_sec_3_nonce_expiry_is_reported_not_rejected() {
        let s = signer(false);
        let n = s.issue(at(1_000), "acme.test", None);
        assert!(!s.check(&n, at(1_300), "acme.test", None).unwrap().expired);
        assert!(s.check(&n, at(1_301), "acme.test", None).unwrap().expired);
        // Issued in the future beyond the allowed skew: not ours to trust.
        assert_eq!(
            s.check(&n, at(969), "acme.test", None),
            Err(DigestError::BadNonce)
        );
        assert!(s.check(&n, at(970), "acme.test", None).is_ok());
    }

    // The tag's input marks the address's kind and the realm's length: an IPv4 client
    // seen as v4-mapped IPv6 is the same client; an IPv6 client is not the IPv4 one its
    // last bytes spell, and no realm can take over address bytes.
    #[test]
    fn hd_sec_3_bound_nonce_names_its_client_unambiguously() {
        let s = signer(true);
        let v4: IpAddr = "192.0.2.7".parse().unwrap();
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        let v6: IpAddr = "::c000:207".parse().unwrap();
        let n = s.issue(at(1_000), "acme.test", Some(v4));
        assert!(s.check(&n, at(1_000), "acme.test", Some(mapped)).is_ok());
        assert_eq!(
            s.check(&n, at(1_000), "acme.test", Some(v6)),
            Err(DigestError::BadNonce)
        );
        assert_eq!(
            s.check(&n, at(1_000), "acme.test", None),
            Err(DigestError::BadNonce)
        );
        // Long realms (past one hash block) sign as well.
        let long = "a-realm-name-long-enough-for-two-sha256-blocks.example.test";
        let n = s.issue(at(1_000), long, Some(v6));
        assert!(s.check(&n, at(1_000), long, Some(v6)).is_ok());
        assert_eq!(
            s.check(&n, at(1_000), &long[1..], Some(v6)),
            Err(DigestError::BadNonce)
        );
    }

    #[test]
    fn hd_sec_3_tampered_or_foreign_nonce_rejected() {
        let s = signer(true);
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        let n = s.issue(at(1_000), "acme.test", Some(ip));
        assert!(s.check(&n, at(1_000), "acme.test", Some(ip)).is_ok());
        assert_eq!(
            s.check(&n, at(1_000), "other.test", Some(ip)),
            Err(DigestError::BadNonce)
        );
        let other: IpAddr = "192.0.2.8".parse().unwrap();
        assert_eq!(
            s.check(&n, at(1_000), "acme.test", Some(other)),
            Err(DigestError::BadNonce)
        );
        // Moving the timestamp forward (to dodge expiry) breaks the signature.
        let mut raw = URL_SAFE_NO_PAD.decode(&n).unwrap();
        raw[3] = raw[3].wrapping_add(100);
        let forged = URL_SAFE_NO_PAD.encode(raw);
        assert_eq!(forged.len(), NONCE_LEN);
        assert_eq!(
            s.check(&forged, at(1_000), "acme.test", Some(ip)),
            Err(DigestError::BadNonce)
        );
        let stranger = NonceSigner::new(
            b"another secret",
            Duration::from_secs(300),
            Duration::ZERO,
            true,
        );
        assert_eq!(
            stranger.check(&n, at(1_000), "acme.test", Some(ip)),
            Err(DigestError::BadNonce)
        );
        // A multi-byte character of the right byte length, the old hex form, padding,
        // the other base64 alphabet and a changed case are all refused.
        let multibyte = format!("{}é{}", "A".repeat(15), "A".repeat(15));
        assert_eq!(multibyte.len(), NONCE_LEN);
        let hex = "0".repeat(64);
        let padded = format!("{}=", &n[1..]);
        let plus = format!("+{}", &n[1..]);
        let upper = n.to_ascii_uppercase();
        for junk in ["", "zz", &hex, &padded, &plus, &multibyte, &upper] {
            if junk == n {
                continue;
            }
            assert_eq!(
                s.check(junk, at(1_000), "acme.test", Some(ip)),
                Err(DigestError::BadNonce)
            );
        }
    }
}
