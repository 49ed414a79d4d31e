//! URI comparison (RFC 3261 §19.1.4) and the canonical address-of-record key (§10.3 step 5).

use super::escape::{self, push_canonical, unescape};
use super::SipUri;

/// Parameters that must match whenever either URI carries them (RFC 3261 §19.1.4).
const STRICT_PARAMS: [&str; 5] = ["user", "ttl", "method", "maddr", "transport"];

fn eq_unescaped_ignore_case(a: &str, b: &str) -> bool {
    unescape(a).eq_ignore_ascii_case(&unescape(b))
}

impl SipUri<'_> {
    /// RFC 3261 §19.1.4 equivalence: same scheme; user and password equal after unescaping
    /// (case-sensitive); host case-insensitive; port equal (absent is not 5060); `user`, `ttl`,
    /// `method`, `maddr` and `transport` equal when either has them; other parameters equal
    /// when both have them; URI headers equal as a whole after unescaping (order-sensitive,
    /// a simplification of the RFC's per-header rule).
    pub fn equivalent(&self, other: &SipUri<'_>) -> bool {
        let opt_eq = |a: Option<&str>, b: Option<&str>| match (a, b) {
            (None, None) => true,
            (Some(a), Some(b)) => unescape(a) == unescape(b),
            _ => false,
        };
        if self.is_secure() != other.is_secure()
            || !opt_eq(self.user(), other.user())
            || !opt_eq(self.password(), other.password())
            || self.host() != other.host()
            || self.port() != other.port()
        {
            return false;
        }
        for name in STRICT_PARAMS {
            match (self.params().get(name), other.params().get(name)) {
                (None, None) => {}
                (Some(a), Some(b)) if eq_unescaped_ignore_case(a, b) => {}
                _ => return false,
            }
        }
        // A repeated parameter counts by its first occurrence on both sides, which keeps the
        // relation reflexive and symmetric (found by fuzzing: `;user=a;user=b`).
        for (name, _) in self.params().iter() {
            if let (Some(mine), Some(theirs)) = (self.params().get(name), other.params().get(name))
            {
                if !eq_unescaped_ignore_case(mine, theirs) {
                    return false;
                }
            }
        }
        match (self.headers(), other.headers()) {
            (None, None) => true,
            (Some(a), Some(b)) => eq_unescaped_ignore_case(a, b),
            _ => false,
        }
    }

    /// The address-of-record key: `sip:user@host[:port]` (or `sips:`), URI parameters and
    /// headers removed, host lower-cased, user escapes normalised so that URIs equal after
    /// unescaping give equal keys (RFC 3261 §10.3 step 5). `%00` stays escaped, so the key is
    /// never truncated (RFC 4475 §3.1.1.4).
    pub fn aor(&self) -> String {
        let mut out = String::with_capacity(self.as_str().len());
        out.push_str(if self.is_secure() { "sips:" } else { "sip:" });
        if let Some(user) = self.user() {
            push_canonical(user, escape::is_user_char, &mut out);
            out.push('@');
        }
        self.host().push_canonical(&mut out);
        if let Some(port) = self.port() {
            out.push(':');
            crate::decimal::push_decimal(&mut out, u64::from(port));
        }
        out
    }
}
