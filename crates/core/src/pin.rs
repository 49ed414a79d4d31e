//! PIN hashing and verification with argon2id (HD-SEC-2).
//!
//! The salt comes from the caller (who owns the random number generator), so this crate
//! touches no OS randomness and hashing is reproducible in tests.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::ids::Pin;

/// Salt length in bytes (argon2's recommended 16).
pub const SALT_LEN: usize = 16;

/// Why a PIN could not be hashed or checked. `Display` never shows the PIN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PinError {
    /// The cost parameters are outside argon2's limits.
    #[error("invalid argon2 parameters")]
    Params,
    /// argon2 refused to hash (salt or output size).
    #[error("PIN hashing failed")]
    Hash,
    /// The stored value is not an argon2 PHC string.
    #[error("stored PIN hash is not an argon2 PHC string")]
    StoredHash,
}

/// Hashes PINs as argon2id PHC strings (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`).
#[derive(Debug, Clone)]
pub struct PinHasher {
    params: Params,
}

impl Default for PinHasher {
    /// argon2's defaults (OWASP): 19 MiB, 2 passes, 1 lane.
    fn default() -> Self {
        Self {
            params: Params::DEFAULT,
        }
    }
}

impl PinHasher {
    /// A hasher with explicit cost: memory in KiB, passes, lanes. Verification reads the
    /// cost from each stored hash, so changing it keeps old hashes valid.
    pub fn new(memory_kib: u32, passes: u32, lanes: u32) -> Result<Self, PinError> {
        Params::new(memory_kib, passes, lanes, None)
            .map(|params| Self { params })
            .map_err(|_| PinError::Params)
    }

    /// Hashes `pin` with `salt` (fresh random bytes from the caller for every hash).
    pub fn hash(&self, pin: &Pin, salt: &[u8; SALT_LEN]) -> Result<String, PinError> {
        let salt = SaltString::encode_b64(salt).map_err(|_| PinError::Hash)?;
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
            .hash_password(pin.as_str().as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|_| PinError::Hash)
    }
}

/// Whether `pin` matches the stored PHC string (constant-time comparison inside argon2).
/// `Err` only when the stored value is malformed.
pub fn verify_pin(stored: &str, pin: &Pin) -> Result<bool, PinError> {
    let parsed = PasswordHash::new(stored).map_err(|_| PinError::StoredHash)?;
    match Argon2::default().verify_password(pin.as_str().as_bytes(), &parsed) {
        Ok(()) => Ok(true),
        Err(argon2::password_hash::Error::Password) => Ok(false),
        Err(_) => Err(PinError::StoredHash),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Cheap parameters so debug-build tests stay fast; production uses the default.
    pub(crate) fn cheap() -> PinHasher {
        PinHasher::new(64, 1, 1).expect("valid params")
    }

    fn pin(value: &str) -> Pin {
        Pin::new(value).expect("test pin")
    }

    #[test]
    fn hd_sec_2_pin_stored_as_argon2id_and_verified() {
        let hash = cheap().hash(&pin("4821"), &[7; SALT_LEN]).expect("hash");
        assert!(hash.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{hash}");
        assert!(!hash.contains("4821"));
        assert_eq!(verify_pin(&hash, &pin("4821")), Ok(true));
        assert_eq!(verify_pin(&hash, &pin("4822")), Ok(false));
        assert_eq!(verify_pin(&hash, &pin("48210")), Ok(false));
    }

    #[test]
    fn hd_sec_2_salt_changes_hash_and_same_salt_reproduces_it() {
        let a = cheap().hash(&pin("4821"), &[1; SALT_LEN]).expect("hash");
        let b = cheap().hash(&pin("4821"), &[2; SALT_LEN]).expect("hash");
        let again = cheap().hash(&pin("4821"), &[1; SALT_LEN]).expect("hash");
        assert_ne!(a, b);
        assert_eq!(a, again);
        assert_eq!(verify_pin(&b, &pin("4821")), Ok(true));
    }

    #[test]
    fn hd_sec_2_malformed_stored_hash_is_an_error_not_a_match() {
        assert_eq!(verify_pin("4821", &pin("4821")), Err(PinError::StoredHash));
        assert_eq!(verify_pin("", &pin("4821")), Err(PinError::StoredHash));
    }

    #[test]
    fn hd_sec_2_default_cost_is_owasp_argon2id() {
        let params = PinHasher::default().params;
        assert_eq!(
            (params.m_cost(), params.t_cost(), params.p_cost()),
            (19 * 1024, 2, 1)
        );
        assert_eq!(PinHasher::new(1, 1, 1).err(), Some(PinError::Params));
    }
}
