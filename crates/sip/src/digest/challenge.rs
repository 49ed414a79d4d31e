//! `WWW-Authenticate` / `Proxy-Authenticate` Digest challenges: building them (server)
//! and parsing them (client) — RFC 3261 §22, RFC 7616 §3.3, RFC 8760 §2.

use std::borrow::Cow;

use super::algorithm::Algorithm;
use super::auth_param::{push_quoted, split_scheme};
use super::error::DigestError;

/// Whether we authenticate as the request's final target (registrar, UAS) or as a proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthKind {
    /// 401 with `WWW-Authenticate`, answered in `Authorization`.
    Www,
    /// 407 with `Proxy-Authenticate`, answered in `Proxy-Authorization`.
    Proxy,
}

impl AuthKind {
    /// Status of a challenge: 401 or 407.
    pub fn challenge_status(self) -> u16 {
        match self {
            Self::Www => 401,
            Self::Proxy => 407,
        }
    }

    /// Reason phrase of a challenge.
    pub fn challenge_reason(self) -> &'static str {
        match self {
            Self::Www => "Unauthorized",
            Self::Proxy => "Proxy Authentication Required",
        }
    }

    /// Header carrying the challenge.
    pub fn challenge_header(self) -> &'static str {
        match self {
            Self::Www => "WWW-Authenticate",
            Self::Proxy => "Proxy-Authenticate",
        }
    }

    /// Header carrying the client's credentials.
    pub fn credentials_header(self) -> &'static str {
        match self {
            Self::Www => "Authorization",
            Self::Proxy => "Proxy-Authorization",
        }
    }
}

/// The parameters of the challenge header values written by [`write_challenges`].
pub(crate) struct ChallengeFields<'a> {
    pub(crate) realm: &'a str,
    pub(crate) nonce: &'a str,
    /// One value per algorithm, in this order.
    pub(crate) algorithms: &'a [Algorithm],
    pub(crate) opaque: Option<&'a str>,
    pub(crate) stale: bool,
}

/// Writes, per algorithm,
/// `Digest realm="…", qop="auth", algorithm=…, nonce="…"[, opaque="…"][, stale=true]`.
///
/// The order is free (RFC 7616 §3.3), and this one is chosen for clients that find each
/// parameter by searching the header text from its start, as SIPp does: the short fixed
/// parameters first, the long nonce last. Everything but `algorithm` is the same in every
/// value (one nonce serves all: RFC 8760 §2.4 leaves it to the server). An algorithm named
/// twice is offered once.
pub(crate) fn write_challenges(fields: &ChallengeFields<'_>) -> Challenges {
    // `Digest realm="", qop="auth", algorithm=` (39), `SHA-256-sess` (12), `, nonce=""`
    // (10), `, opaque=""` (11) when sent, `, stale=true` (12); escapes, which our realms
    // never need, may grow it.
    let each =
        73 + fields.realm.len() + fields.nonce.len() + fields.opaque.map_or(0, |o| o.len() + 11);
    let mut out = Challenges {
        text: String::with_capacity(each * fields.algorithms.len()),
        ..Challenges::default()
    };
    for (i, algorithm) in fields.algorithms.iter().enumerate() {
        if fields.algorithms[..i].contains(algorithm) {
            continue;
        }
        let text = &mut out.text;
        text.push_str("Digest realm=");
        push_quoted(text, fields.realm);
        text.push_str(", qop=\"auth\", algorithm=");
        text.push_str(algorithm.as_str());
        text.push_str(", nonce=");
        push_quoted(text, fields.nonce);
        if let Some(opaque) = fields.opaque {
            text.push_str(", opaque=");
            push_quoted(text, opaque);
        }
        if fields.stale {
            text.push_str(", stale=true");
        }
        // Distinct algorithms only, so there is always room.
        if let Some(end) = out.ends.get_mut(out.count) {
            *end = out.text.len();
            out.count += 1;
        }
    }
    out
}

/// The challenge header values of one 401 or 407, one per algorithm offered, written into
/// one string: a challenge opens every registration, so it costs one allocation however
/// many algorithms it offers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Challenges {
    text: String,
    /// Where each value ends in `text`; at most one value per [`Algorithm`].
    ends: [usize; 4],
    count: usize,
}

impl Challenges {
    /// The values in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        let ends = self.ends.get(..self.count).unwrap_or_default();
        ends.iter().scan(0, |start, &end| {
            let value = self.text.get(*start..end).unwrap_or_default();
            *start = end;
            Some(value)
        })
    }

    /// How many values there are.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether there are none (no challenge).
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

/// A Digest challenge received from a server (client side), borrowed from the header value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge<'a> {
    /// `realm`.
    pub realm: Cow<'a, str>,
    /// `nonce`.
    pub nonce: Cow<'a, str>,
    /// `opaque`, to echo back.
    pub opaque: Option<Cow<'a, str>>,
    /// `algorithm` as sent; absent means MD5.
    pub algorithm: Option<Cow<'a, str>>,
    /// `qop` options, a comma-separated list such as `auth,auth-int`; absent means RFC 2069.
    pub qop: Option<Cow<'a, str>>,
    /// `stale=true`: our credentials were right, only the nonce was old.
    pub stale: bool,
}

impl<'a> Challenge<'a> {
    /// Parses a `WWW-Authenticate` / `Proxy-Authenticate` value.
    pub fn parse(value: &'a str) -> Result<Self, DigestError> {
        let (scheme, params) = split_scheme(value)?;
        if !scheme.eq_ignore_ascii_case("Digest") {
            return Err(DigestError::NotDigest);
        }
        let (mut realm, mut nonce, mut opaque, mut algorithm, mut qop) =
            (None, None, None, None, None);
        let mut stale = false;
        for param in params {
            let (name, value) = param?;
            let slot = match name.to_ascii_lowercase().as_str() {
                "realm" => (&mut realm, "realm"),
                "nonce" => (&mut nonce, "nonce"),
                "opaque" => (&mut opaque, "opaque"),
                "algorithm" => (&mut algorithm, "algorithm"),
                "qop" => (&mut qop, "qop"),
                "stale" => {
                    stale = value.eq_ignore_ascii_case("true");
                    continue;
                }
                _ => continue,
            };
            if slot.0.is_some() {
                return Err(DigestError::DuplicateParam { name: slot.1 });
            }
            *slot.0 = Some(value);
        }
        Ok(Self {
            realm: realm.ok_or(DigestError::MissingParam { name: "realm" })?,
            nonce: nonce.ok_or(DigestError::MissingParam { name: "nonce" })?,
            opaque,
            algorithm,
            qop,
            stale,
        })
    }

    /// The algorithm asked for: MD5 when absent, an error when we do not implement it.
    pub fn algorithm(&self) -> Result<Algorithm, DigestError> {
        match &self.algorithm {
            None => Ok(Algorithm::Md5),
            Some(token) => Algorithm::parse(token).ok_or(DigestError::UnsupportedAlgorithm),
        }
    }

    /// True when `auth` is among the offered qop values.
    pub fn offers_qop_auth(&self) -> bool {
        self.qop.as_deref().is_some_and(|list| {
            list.split(',')
                .any(|q| q.trim().eq_ignore_ascii_case("auth"))
        })
    }

    /// Picks the challenge to answer among several (RFC 8760 §2.4: a client uses the
    /// first it supports in its order of preference): SHA-256 first, then MD5.
    pub fn choose<I>(challenges: I) -> Option<Self>
    where
        I: IntoIterator<Item = Self>,
    {
        challenges
            .into_iter()
            .filter_map(|c| c.algorithm().ok().map(|alg| (preference(alg), c)))
            .min_by_key(|(rank, _)| *rank)
            .map(|(_, c)| c)
    }
}

fn preference(alg: Algorithm) -> u8 {
    match alg {
        Algorithm::Sha256 => 0,
        Algorithm::Sha256Sess => 1,
        Algorithm::Md5 => 2,
        Algorithm::Md5Sess => 3,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc8760_2_challenge_written_and_parsed_back() {
        let values = write_challenges(&ChallengeFields {
            realm: "acme \"test\"",
            nonce: "abc",
            algorithms: &[Algorithm::Sha256, Algorithm::Md5],
            opaque: Some("op"),
            stale: true,
        });
        assert_eq!(
            values.iter().collect::<Vec<_>>(),
            [
                r#"Digest realm="acme \"test\"", qop="auth", algorithm=SHA-256, nonce="abc", opaque="op", stale=true"#,
                r#"Digest realm="acme \"test\"", qop="auth", algorithm=MD5, nonce="abc", opaque="op", stale=true"#,
            ]
        );
        assert_eq!(values.len(), 2);
        let value = values.iter().next().unwrap();
        let c = Challenge::parse(value).unwrap();
        assert_eq!(c.realm, "acme \"test\"");
        assert_eq!(c.algorithm(), Ok(Algorithm::Sha256));
        assert!(c.offers_qop_auth());
        assert!(c.stale);
        assert_eq!(c.opaque.as_deref(), Some("op"));
    }

    /// RFC 7616 §3.3: one value per algorithm; naming one twice in the configuration
    /// offers it once, and no algorithm at all is no challenge.
    #[test]
    fn rfc7616_3_3_each_algorithm_offered_once() {
        let fields = |algorithms| ChallengeFields {
            realm: "acme.test",
            nonce: "n1",
            algorithms,
            opaque: None,
            stale: false,
        };
        let twice = [
            Algorithm::Md5,
            Algorithm::Sha256,
            Algorithm::Md5,
            Algorithm::Sha256,
        ];
        let values = write_challenges(&fields(&twice));
        let parsed: Vec<_> = values
            .iter()
            .map(|v| Challenge::parse(v).unwrap().algorithm())
            .collect();
        assert_eq!(parsed, [Ok(Algorithm::Md5), Ok(Algorithm::Sha256)]);
        let all = [
            Algorithm::Sha256Sess,
            Algorithm::Sha256,
            Algorithm::Md5Sess,
            Algorithm::Md5,
        ];
        assert_eq!(write_challenges(&fields(&all)).len(), 4);
        let none = write_challenges(&fields(&[]));
        assert!(none.is_empty());
        assert_eq!(none.iter().count(), 0);
    }

    #[test]
    fn rfc7616_3_3_challenge_defaults_and_errors() {
        let c = Challenge::parse(r#"Digest realm="r", nonce="n", qop="auth-int""#).unwrap();
        assert_eq!(c.algorithm(), Ok(Algorithm::Md5));
        assert!(!c.offers_qop_auth());
        assert!(!c.stale);
        assert_eq!(
            Challenge::parse(r#"Digest nonce="n""#),
            Err(DigestError::MissingParam { name: "realm" })
        );
        assert_eq!(
            Challenge::parse("Basic realm=\"r\""),
            Err(DigestError::NotDigest)
        );
    }

    #[test]
    fn rfc8760_2_4_client_prefers_sha256() {
        let md5 = r#"Digest realm="r", nonce="1", algorithm=MD5, qop="auth""#;
        let sha = r#"Digest realm="r", nonce="2", algorithm=SHA-256, qop="auth""#;
        let odd = r#"Digest realm="r", nonce="3", algorithm=SHA-512-256, qop="auth""#;
        let parsed = |v: &'static str| Challenge::parse(v).unwrap();
        let chosen = Challenge::choose([parsed(odd), parsed(md5), parsed(sha)]).unwrap();
        assert_eq!(chosen.nonce, "2");
        let chosen = Challenge::choose([parsed(odd), parsed(md5)]).unwrap();
        assert_eq!(chosen.nonce, "1");
        assert!(Challenge::choose([parsed(odd)]).is_none());
    }
}
