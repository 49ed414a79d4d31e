//! Parsing `Authorization` / `Proxy-Authorization` Digest credentials (RFC 3261 §25.1
//! `digest-response`, RFC 7616 §3.4).

use std::borrow::Cow;

use super::algorithm::Algorithm;
use super::auth_param::split_scheme;
use super::error::DigestError;
use crate::parse::scan::hex_value;

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
            let Some(index) = field_index(name) else {
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
        // Decoded by hand in one pass; `from_str_radix` would scan again (and take a `+`).
        let Ok(digits) = <&[u8; 8]>::try_from(nc.as_bytes()) else {
            return Err(DigestError::BadNonceCount);
        };
        let mut value = 0u32;
        for &digit in digits {
            let nibble = hex_value(digit).ok_or(DigestError::BadNonceCount)?;
            value = (value << 4) | u32::from(nibble);
        }
        Ok(Some(value))
    }
}

/// The index in [`FIELDS`] of a parameter name, case-insensitively. Looked up by length
/// first: most names then need one compare instead of a walk over all ten.
fn field_index(name: &str) -> Option<usize> {
    let candidates: &[usize] = match name.len() {
        2 => &[9],
        3 => &[3, 8],
        5 => &[1, 2],
        6 => &[6, 7],
        8 => &[0, 4],
        9 => &[5],
        _ => &[],
    };
    candidates
        .iter()
        .copied()
        .find(|&i| FIELDS[i].eq_ignore_ascii_case(name))
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
    fn rfc7616_3_4_every_field_name_is_found_by_length() {
        for (i, name) in FIELDS.iter().enumerate() {
            assert_eq!(field_index(name), Some(i));
            assert_eq!(field_index(&name.to_ascii_uppercase()), Some(i));
        }
        assert_eq!(field_index("userhash"), None);
        assert_eq!(field_index(""), None);
    }

    #[test]
    fn rfc7616_3_4_nonce_count_is_eight_hex_digits() {
        let nc = |text: &str| {
            Credentials::parse(&format!(
                "Digest username=a, realm=r, nonce=n, uri=u, response=x, nc={text}"
            ))
            .unwrap()
            .nonce_count()
        };
        assert_eq!(nc("0000000a"), Ok(Some(10)));
        assert_eq!(nc("FFFFFFFF"), Ok(Some(u32::MAX)));
        assert_eq!(nc("0000001"), Err(DigestError::BadNonceCount));
        assert_eq!(nc("000000001"), Err(DigestError::BadNonceCount));
        assert_eq!(nc("+0000001"), Err(DigestError::BadNonceCount));
        assert_eq!(nc("0000000g"), Err(DigestError::BadNonceCount));
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
