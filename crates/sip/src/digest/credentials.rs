//! Parsing `Authorization` / `Proxy-Authorization` Digest credentials (RFC 3261 §25.1
//! `digest-response`, RFC 7616 §3.4).

use std::borrow::Cow;

use super::algorithm::Algorithm;
use super::auth_param::split_scheme;
use super::error::DigestError;

/// Digest credentials borrowed from a header value; only values that held `\` escapes
/// are copied. Unknown parameters are skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials<'a> {
    /// `username`.
    pub username: Cow<'a, str>,
    /// `realm`.
    pub realm: Cow<'a, str>,
    /// `nonce`, as we issued it.
    pub nonce: Cow<'a, str>,
    /// `uri` (digest-uri), hashed into HA2.
    pub uri: Cow<'a, str>,
    /// `response`: the hex digest proving knowledge of the password.
    pub response: Cow<'a, str>,
    /// `algorithm` as sent; absent means MD5.
    pub algorithm: Option<Cow<'a, str>>,
    /// `cnonce`, required with `qop`.
    pub cnonce: Option<Cow<'a, str>>,
    /// `opaque`, echoed from the challenge.
    pub opaque: Option<Cow<'a, str>>,
    /// `qop` chosen by the client; absent means RFC 2069 compatibility.
    pub qop: Option<Cow<'a, str>>,
    /// `nc`: 8 hex digits, required with `qop`.
    pub nc: Option<Cow<'a, str>>,
}

impl<'a> Credentials<'a> {
    /// Parses a header value such as `Digest username="1004", realm="acme.test", …`.
    pub fn parse(value: &'a str) -> Result<Self, DigestError> {
        let (scheme, params) = split_scheme(value)?;
        if !scheme.eq_ignore_ascii_case("Digest") {
            return Err(DigestError::NotDigest);
        }
        let mut fields: [Option<Cow<'a, str>>; 10] = Default::default();
        for param in params {
            let (name, value) = param?;
            let Some(index) = FIELDS.iter().position(|f| f.eq_ignore_ascii_case(name)) else {
                continue;
            };
            if fields[index].is_some() {
                return Err(DigestError::DuplicateParam {
                    name: FIELDS[index],
                });
            }
            fields[index] = Some(value);
        }
        let [username, realm, nonce, uri, response, algorithm, cnonce, opaque, qop, nc] = fields;
        Ok(Self {
            username: required(username, "username")?,
            realm: required(realm, "realm")?,
            nonce: required(nonce, "nonce")?,
            uri: required(uri, "uri")?,
            response: required(response, "response")?,
            algorithm,
            cnonce,
            opaque,
            qop,
            nc,
        })
    }

    /// The algorithm in force: MD5 when absent (RFC 7616 §3.4), an error when unknown.
    pub fn algorithm(&self) -> Result<Algorithm, DigestError> {
        match &self.algorithm {
            None => Ok(Algorithm::Md5),
            Some(token) => Algorithm::parse(token).ok_or(DigestError::UnsupportedAlgorithm),
        }
    }

    /// The nonce-count as a number, when present; 8 hex digits (RFC 7616 §3.4).
    pub fn nonce_count(&self) -> Result<Option<u32>, DigestError> {
        let Some(nc) = &self.nc else {
            return Ok(None);
        };
        if nc.len() != 8 || !nc.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(DigestError::BadNonceCount);
        }
        u32::from_str_radix(nc, 16)
            .map(Some)
            .map_err(|_| DigestError::BadNonceCount)
    }
}

const FIELDS: [&str; 10] = [
    "username",
    "realm",
    "nonce",
    "uri",
    "response",
    "algorithm",
    "cnonce",
    "opaque",
    "qop",
    "nc",
];

fn required<'a>(
    value: Option<Cow<'a, str>>,
    name: &'static str,
) -> Result<Cow<'a, str>, DigestError> {
    value.ok_or(DigestError::MissingParam { name })
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 3261 §22.4 / RFC 2617 §3.5 style Authorization value.
    const RFC2617: &str = r#"Digest username="Mufasa",
                 realm="testrealm@host.com",
                 nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093",
                 uri="/dir/index.html",
                 qop=auth,
                 nc=00000001,
                 cnonce="0a4f113b",
                 response="6629fae49393a05397450978507c4ef1",
                 opaque="5ccc069c403ebaf9f0171e9517f40e41""#;

    #[test]
    fn rfc2617_3_5_example_credentials_parse() {
        let c = Credentials::parse(RFC2617).unwrap();
        assert_eq!(c.username, "Mufasa");
        assert_eq!(c.realm, "testrealm@host.com");
        assert_eq!(c.uri, "/dir/index.html");
        assert_eq!(c.qop.as_deref(), Some("auth"));
        assert_eq!(c.nonce_count(), Ok(Some(1)));
        assert_eq!(c.cnonce.as_deref(), Some("0a4f113b"));
        assert_eq!(
            c.opaque.as_deref(),
            Some("5ccc069c403ebaf9f0171e9517f40e41")
        );
        assert_eq!(c.algorithm(), Ok(Algorithm::Md5));
    }

    #[test]
    fn rfc3261_25_1_names_case_insensitive_unknown_params_skipped() {
        let c = Credentials::parse(
            "digest USERNAME=\"a\\\"b\", Realm=r, nonce=\"n\", uri=\"sip:x\", \
             response=\"00\", algorithm=\"sha-256\", userhash=false, foo=\"bar\"",
        )
        .unwrap();
        assert_eq!(c.username, "a\"b");
        assert_eq!(c.realm, "r");
        assert_eq!(c.algorithm(), Ok(Algorithm::Sha256));
    }

    #[test]
    fn rfc7616_3_4_missing_duplicate_and_bad_values() {
        assert_eq!(
            Credentials::parse("Digest username=\"a\", realm=\"r\", uri=\"u\", response=\"x\""),
            Err(DigestError::MissingParam { name: "nonce" })
        );
        assert_eq!(
            Credentials::parse("Digest realm=\"r\", realm=\"s\""),
            Err(DigestError::DuplicateParam { name: "realm" })
        );
        assert_eq!(
            Credentials::parse("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="),
            Err(DigestError::NotDigest)
        );
        let c = Credentials::parse(
            "Digest username=a, realm=r, nonce=n, uri=u, response=x, nc=1, algorithm=SHA-512",
        )
        .unwrap();
        assert_eq!(c.nonce_count(), Err(DigestError::BadNonceCount));
        assert_eq!(c.algorithm(), Err(DigestError::UnsupportedAlgorithm));
    }
}
