//! Keys of the B2BUA's maps. Every key is ours: call ids and relay tokens count up, and a
//! dialog is found by our tag in it, 64 random bits written as 16 hex digits. None comes
//! from the network, so the maps need no seeded (SipHash) hashing, and a request finds its
//! dialog without building a (Call-ID, tag) pair of strings.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A map keyed by one of our `u64`s.
pub(super) type IdMap<V> = HashMap<u64, V, BuildHasherDefault<IdHasher>>;

/// Multiplies the key by an odd constant: a bijection that spreads a counter's low bits over
/// the high ones (the table takes its fingerprints from the top bits, positions from the
/// low ones) and keeps random tags random.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct IdHasher(u64);

/// 2^64 / φ, odd.
const SPREAD: u64 = 0x9E37_79B9_7F4A_7C15;

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        // Only `u64` keys are hashed; this keeps the hasher correct for anything else.
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(SPREAD);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0 ^ n).wrapping_mul(SPREAD);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A fresh tag of ours for a dialog (RFC 3261 §19.3: at least 32 random bits).
pub(super) fn new_tag() -> String {
    format!("{:016x}", rand::random::<u64>())
}

/// The dialog-map key of a tag of ours; `None` for a tag that cannot be one.
pub(super) fn tag_key(tag: &str) -> Option<u64> {
    if tag.len() != 16 || !tag.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u64::from_str_radix(tag, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hd_route_1_our_tags_key_the_dialog_map() {
        let tag = new_tag();
        assert_eq!(tag.len(), 16);
        assert_eq!(tag_key(&tag).map(|k| format!("{k:016x}")), Some(tag));
        // A peer's tag, or anything not 16 hex digits, is not ours.
        for other in [
            "",
            "1234",
            "+123456789abcdef",
            "0123456789abcdefg",
            "as-4b6f",
        ] {
            assert_eq!(tag_key(other), None, "{other}");
        }
    }

    /// Not a rule but the maps' speed (issue 5): consecutive call ids must not share the
    /// table's fingerprint bits.
    #[test]
    fn counters_spread_over_the_fingerprint_bits() {
        let top = |n: u64| {
            let mut h = IdHasher::default();
            h.write_u64(n);
            h.finish() >> 57
        };
        let distinct: std::collections::HashSet<u64> = (1..=128).map(top).collect();
        assert!(distinct.len() > 64, "{}", distinct.len());
    }
}
