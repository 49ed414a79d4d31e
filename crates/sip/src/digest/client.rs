//! Client side: answering a Digest challenge from a server that challenges us (a trunk),
//! with MD5 or SHA-256 and `qop=auth` (RFC 7616 §3.4, RFC 8760).

use super::algorithm::{ha1, Algorithm};
use super::auth_param::{push_param_quoted, push_param_token};
use super::challenge::Challenge;
use super::error::DigestError;
use super::verify::{response, QopAuth, ResponseInput};

/// What we answer a challenge with.
#[derive(Clone, Copy)]
pub struct ClientRequest<'a> {
    /// Our username at the challenger.
    pub username: &'a str,
    /// Our password there.
    pub password: &'a str,
    /// Method of the request being retried.
    pub method: &'a str,
    /// Its Request-URI, as the digest `uri`.
    pub uri: &'a str,
    /// A fresh client nonce (random, printable, no `"`); used only with `qop=auth`.
    pub cnonce: &'a str,
    /// How many times we have used this server nonce, counting this one (starts at 1).
    pub nc: u32,
}

impl std::fmt::Debug for ClientRequest<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the password (HD-SEC-2).
        f.debug_struct("ClientRequest")
            .field("username", &self.username)
            .field("method", &self.method)
            .field("uri", &self.uri)
            .field("nc", &self.nc)
            .finish_non_exhaustive()
    }
}

/// Builds the `Authorization` (or `Proxy-Authorization`) value answering `challenge`.
/// Uses `qop=auth` when offered, the RFC 2069 form for MD5 challenges without qop, and
/// refuses challenges offering only `auth-int`.
pub fn authorize(
    challenge: &Challenge<'_>,
    request: &ClientRequest<'_>,
) -> Result<String, DigestError> {
    let algorithm = challenge.algorithm()?;
    let qop = if challenge.offers_qop_auth() {
        true
    } else if challenge.qop.is_some() {
        return Err(DigestError::UnsupportedQop);
    } else if algorithm == Algorithm::Md5 {
        false
    } else {
        // RFC 7616 §3.3 makes qop mandatory for the newer algorithms.
        return Err(DigestError::MissingParam { name: "qop" });
    };
    let nc_text = format!("{:08x}", request.nc);
    let secret = ha1(
        algorithm.hash(),
        request.username,
        &challenge.realm,
        request.password,
    );
    let digest = response(&ResponseInput {
        algorithm,
        ha1: secret.as_bytes(),
        nonce: &challenge.nonce,
        method: request.method,
        uri: request.uri,
        qop: qop.then_some(QopAuth {
            nc: &nc_text,
            cnonce: request.cnonce,
        }),
        cnonce: (qop || algorithm.is_session()).then_some(request.cnonce),
    })?;

    let mut out = String::with_capacity(256);
    out.push_str("Digest ");
    push_param_quoted(&mut out, "username", request.username);
    push_param_quoted(&mut out, "realm", &challenge.realm);
    push_param_quoted(&mut out, "nonce", &challenge.nonce);
    push_param_quoted(&mut out, "uri", request.uri);
    push_param_quoted(&mut out, "response", digest.as_str());
    push_param_token(&mut out, "algorithm", algorithm.as_str());
    if qop || algorithm.is_session() {
        push_param_quoted(&mut out, "cnonce", request.cnonce);
    }
    if let Some(opaque) = &challenge.opaque {
        push_param_quoted(&mut out, "opaque", opaque);
    }
    if qop {
        push_param_token(&mut out, "qop", "auth");
        push_param_token(&mut out, "nc", &nc_text);
    }
    Ok(out)
}
