//! SIP Digest authentication (RFC 3261 §22, RFC 7616, RFC 8760): server-side challenges
//! with stateless HMAC-signed nonces and nonce-count replay checks, verification against
//! stored HA1 values (never passwords), and the client side for servers that challenge us.
//!
//! Server flow: no credentials → [`Authenticator::challenge`] → 401/407 with one header per
//! value; credentials → [`Credentials::parse`] → look up the user's HA1 for
//! [`Credentials::algorithm`] → [`Authenticator::verify`]; on error answer
//! [`DigestError::status`], re-challenging (with `stale` from [`DigestError::is_stale`])
//! when it is 401/407. Time is passed in; nothing here reads a clock or does I/O.

mod algorithm;
mod auth_param;
mod challenge;
mod client;
mod credentials;
mod error;
mod nonce;
mod nonce_count;
mod verify;

pub use algorithm::{ha1, Algorithm, HashFunction, HexDigest};
pub use challenge::{AuthKind, Challenge, Challenges};
pub use client::{authorize, ClientRequest};
pub use credentials::Credentials;
pub use error::DigestError;
pub use nonce::{NonceInfo, NonceSigner, NONCE_LEN};
pub use nonce_count::NonceCounts;
pub use verify::{AuthRequest, Authenticator, DigestConfig, Verified};
