//! An upstream SIP peer for off-net numbers (HD-ROUTE-9).

use serde::{Deserialize, Serialize};

use crate::ids::DomainName;

/// A domain's trunk: where off-net calls go, and credentials if it challenges us.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trunk {
    /// Owning domain.
    pub domain: DomainName,
    /// Name, unique in the domain.
    pub name: String,
    /// `host[:port]` or a name resolved per RFC 3263.
    pub address: String,
    /// Digest user name, if the trunk challenges.
    pub username: Option<String>,
    /// Encrypted digest password (HD-SEC-2).
    pub secret: Option<String>,
    /// Whether this trunk carries emergency calls (HD-ROUTE-6).
    pub emergency: bool,
}
