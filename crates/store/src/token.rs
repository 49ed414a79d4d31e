//! An API bearer token as persisted: only its hash (HD-SEC-4).

use hotdesk_core::{DomainName, Extension, Scope};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// A bearer token: SHA-256 hash of the secret, the role it grants and whose it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecord {
    /// Hex SHA-256 of the token secret; the secret itself is never stored.
    pub hash: String,
    /// Role the token grants.
    pub scope: Scope,
    /// Domain it is limited to; `None` only for super admins.
    pub domain: Option<DomainName>,
    /// The user it belongs to, for user tokens.
    pub user: Option<Extension>,
    /// Human label (`portal`, `cli`, an administrator's name).
    pub name: String,
    /// When it stops working.
    pub expires_at: Option<Timestamp>,
}
