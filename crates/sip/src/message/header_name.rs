//! Header names: case-insensitive, compact forms folded into the long form (RFC 3261 §7.3.3,
//! IANA compact forms), unknown names kept as [`HeaderName::Other`].

use std::fmt;

// Header kinds used in the table below: free-form, comma list, at most once.
const PLAIN: u8 = 0;
const LIST: u8 = 1;
const SINGLE: u8 = 2;

macro_rules! names {
    ($($variant:ident = $canon:literal, $compact:expr, $kind:ident;)*) => {
        /// A header name the stack knows, or [`HeaderName::Other`].
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum HeaderName {
            $(
                #[doc = concat!("`", $canon, "`")]
                $variant,
            )*
            /// A header the stack does not know; its name is kept as written.
            Other,
        }

        /// Every known name, in table order.
        const ALL: &[HeaderName] = &[$(HeaderName::$variant,)*];
        /// Canonical spellings, parallel to [`ALL`].
        const CANON: &[&str] = &[$($canon,)*];
        /// Compact forms, parallel to [`ALL`].
        const COMPACT: &[Option<u8>] = &[$($compact,)*];

        impl HeaderName {
            /// The canonical spelling, `None` for [`HeaderName::Other`].
            pub fn as_str(self) -> Option<&'static str> {
                match self {
                    $(HeaderName::$variant => Some($canon),)*
                    HeaderName::Other => None,
                }
            }

            /// The compact form (RFC 3261 §7.3.3), if the header has one.
            pub fn compact(self) -> Option<char> {
                let c: Option<u8> = match self {
                    $(HeaderName::$variant => $compact,)*
                    HeaderName::Other => None,
                };
                c.map(char::from)
            }

            fn kind(self) -> u8 {
                match self {
                    $(HeaderName::$variant => $kind,)*
                    HeaderName::Other => PLAIN,
                }
            }
        }
    };
}

names! {
    // Row order is the order of ALL; lookup goes through hashed buckets, not row by row.
    Via = "Via", Some(b'v'), LIST;
    From = "From", Some(b'f'), SINGLE;
    To = "To", Some(b't'), SINGLE;
    CallId = "Call-ID", Some(b'i'), SINGLE;
    CSeq = "CSeq", None, SINGLE;
    Contact = "Contact", Some(b'm'), LIST;
    MaxForwards = "Max-Forwards", None, SINGLE;
    ContentLength = "Content-Length", Some(b'l'), SINGLE;
    ContentType = "Content-Type", Some(b'c'), SINGLE;
    Route = "Route", None, LIST;
    RecordRoute = "Record-Route", None, LIST;
    Expires = "Expires", None, SINGLE;
    Authorization = "Authorization", None, PLAIN;
    WwwAuthenticate = "WWW-Authenticate", None, PLAIN;
    ProxyAuthorization = "Proxy-Authorization", None, PLAIN;
    ProxyAuthenticate = "Proxy-Authenticate", None, PLAIN;
    UserAgent = "User-Agent", None, PLAIN;
    Server = "Server", None, PLAIN;
    Allow = "Allow", None, LIST;
    Supported = "Supported", Some(b'k'), LIST;
    Require = "Require", None, LIST;
    Event = "Event", Some(b'o'), SINGLE;
    SubscriptionState = "Subscription-State", None, PLAIN;
    AllowEvents = "Allow-Events", Some(b'u'), LIST;
    Accept = "Accept", None, LIST;
    Path = "Path", None, LIST;
    Date = "Date", None, SINGLE;
    AcceptContact = "Accept-Contact", Some(b'a'), LIST;
    AcceptEncoding = "Accept-Encoding", None, LIST;
    AcceptLanguage = "Accept-Language", None, LIST;
    AlertInfo = "Alert-Info", None, LIST;
    AuthenticationInfo = "Authentication-Info", None, PLAIN;
    CallInfo = "Call-Info", None, LIST;
    ContentDisposition = "Content-Disposition", None, SINGLE;
    ContentEncoding = "Content-Encoding", Some(b'e'), LIST;
    ContentLanguage = "Content-Language", None, LIST;
    ErrorInfo = "Error-Info", None, LIST;
    Geolocation = "Geolocation", None, LIST;
    GeolocationRouting = "Geolocation-Routing", None, PLAIN;
    Identity = "Identity", Some(b'y'), PLAIN;
    IdentityInfo = "Identity-Info", Some(b'n'), PLAIN;
    InReplyTo = "In-Reply-To", None, LIST;
    MimeVersion = "MIME-Version", None, PLAIN;
    MinExpires = "Min-Expires", None, SINGLE;
    MinSe = "Min-SE", None, PLAIN;
    Organization = "Organization", None, PLAIN;
    PAssertedIdentity = "P-Asserted-Identity", None, LIST;
    PPreferredIdentity = "P-Preferred-Identity", None, LIST;
    Priority = "Priority", None, PLAIN;
    Privacy = "Privacy", None, PLAIN;
    ProxyRequire = "Proxy-Require", None, LIST;
    RAck = "RAck", None, PLAIN;
    Reason = "Reason", None, LIST;
    ReferTo = "Refer-To", Some(b'r'), PLAIN;
    ReferredBy = "Referred-By", Some(b'b'), PLAIN;
    RejectContact = "Reject-Contact", Some(b'j'), LIST;
    Replaces = "Replaces", None, PLAIN;
    ReplyTo = "Reply-To", None, PLAIN;
    RequestDisposition = "Request-Disposition", Some(b'd'), LIST;
    RetryAfter = "Retry-After", None, PLAIN;
    RSeq = "RSeq", None, PLAIN;
    ServiceRoute = "Service-Route", None, LIST;
    SessionExpires = "Session-Expires", Some(b'x'), PLAIN;
    SipETag = "SIP-ETag", None, PLAIN;
    SipIfMatch = "SIP-If-Match", None, PLAIN;
    Subject = "Subject", Some(b's'), PLAIN;
    Timestamp = "Timestamp", None, PLAIN;
    Unsupported = "Unsupported", None, LIST;
    Warning = "Warning", None, LIST;
}

// Name lookup runs for every header line of every message, so instead of trying the table
// rows in turn it hashes length, first and last letter into a bucket of at most
// `SLOTS` candidates (built at compile time), then compares those few.
const BUCKETS: usize = 256;
const SLOTS: usize = 4;

const fn bucket(len: usize, first: u8, last: u8) -> usize {
    (len.wrapping_mul(37) ^ (first as usize).wrapping_mul(7) ^ last as usize) % BUCKETS
}

/// Row index + 1 of each long name, by bucket (0: empty slot).
static LONG: [[u8; SLOTS]; BUCKETS] = {
    let mut table = [[0u8; SLOTS]; BUCKETS];
    let mut row = 0;
    while row < CANON.len() {
        let b = CANON[row].as_bytes();
        let first = b[0].to_ascii_lowercase();
        let last = b[b.len() - 1].to_ascii_lowercase();
        let slots = &mut table[bucket(b.len(), first, last)];
        let mut k = 0;
        while slots[k] != 0 {
            k += 1;
            assert!(k < SLOTS, "header name bucket overflow: change `bucket`");
        }
        slots[k] = (row + 1) as u8;
        row += 1;
    }
    table
};

/// Row index + 1 of each compact form, by lower-case letter (0: none).
static SHORT: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut row = 0;
    while row < COMPACT.len() {
        if let Some(c) = COMPACT[row] {
            assert!(table[c as usize] == 0, "compact form used twice");
            table[c as usize] = (row + 1) as u8;
        }
        row += 1;
    }
    table
};

impl HeaderName {
    fn lookup(name: &[u8]) -> Self {
        let (Some(&first), Some(&last)) = (name.first(), name.last()) else {
            return Self::Other;
        };
        let first = first.to_ascii_lowercase();
        let rows: &[u8] = if name.len() == 1 {
            std::slice::from_ref(&SHORT[usize::from(first)])
        } else {
            &LONG[bucket(name.len(), first, last.to_ascii_lowercase())]
        };
        for &row in rows {
            let Some(row) = usize::from(row).checked_sub(1) else {
                break;
            };
            // A one-letter name is a compact form: no long name has a single letter.
            if name.len() == 1 || spelled_as(name, CANON[row].as_bytes()) {
                return ALL[row];
            }
        }
        Self::Other
    }

    /// True when the grammar allows a comma-separated list of values (RFC 3261 §7.3.1), so
    /// [`crate::Headers::values`] splits it.
    pub fn is_list(self) -> bool {
        self.kind() == LIST
    }

    /// True for headers that must appear at most once (RFC 4475 §3.3.8).
    pub fn is_single(self) -> bool {
        self.kind() == SINGLE
    }

    /// Classifies a header name, ignoring ASCII case; compact forms map to their long form.
    pub fn from_bytes(name: &[u8]) -> Self {
        if name.len() > 24 {
            return Self::Other;
        }
        Self::lookup(name)
    }

    /// True when `raw`, a name as written, names this header (compact forms included). For
    /// [`HeaderName::Other`] this is always false: compare the text instead.
    pub fn matches(self, raw: &[u8]) -> bool {
        self != Self::Other && Self::from_bytes(raw) == self
    }
}

impl fmt::Display for HeaderName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str().unwrap_or("Extension-Header"))
    }
}

/// `name` is `canon` in any ASCII case. Most senders write the canonical spelling, which
/// [`same`] settles in two or three word loads; `==` on slices calls `memcmp`, which cost
/// more than the comparison (17 calls per REGISTER; BENCHMARKS.md, eleventh pass).
#[inline]
fn spelled_as(name: &[u8], canon: &[u8]) -> bool {
    name.len() == canon.len() && (same(name, canon) || name.eq_ignore_ascii_case(canon))
}

/// `a == b` for slices of equal length, compared as words (the last one overlapping the
/// one before it), or byte by byte under four bytes.
#[inline]
fn same(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n < 4 {
        return a.iter().zip(b).all(|(x, y)| x == y);
    }
    if n < 8 {
        return word::<4>(a, 0) == word::<4>(b, 0) && word::<4>(a, n - 4) == word::<4>(b, n - 4);
    }
    let mut at = 0;
    while at + 8 < n {
        if word::<8>(a, at) != word::<8>(b, at) {
            return false;
        }
        at += 8;
    }
    word::<8>(a, n - 8) == word::<8>(b, n - 8)
}

/// The `N` bytes of `s` from `at` (callers stay in bounds; past the end reads as zeroes).
#[inline]
fn word<const N: usize>(s: &[u8], at: usize) -> [u8; N] {
    s.get(at..)
        .and_then(|s| s.first_chunk::<N>())
        .copied()
        .unwrap_or([0; N])
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 3261 §7.3.1: a name one byte away from a known one, at any position (the word
    // comparison's first, middle and overlapping last words), is not that header; mixed
    // case still is.
    #[test]
    fn rfc3261_7_3_1_a_name_differing_in_any_one_byte_is_another_header() {
        for (row, &name) in ALL.iter().enumerate() {
            let canon = CANON[row].as_bytes();
            for i in 0..canon.len() {
                let mut near = canon.to_vec();
                near[i] = if canon[i] == b'~' { b'!' } else { b'~' };
                assert_ne!(HeaderName::from_bytes(&near), name, "{}", CANON[row]);
                let mut mixed = canon.to_vec();
                mixed[i] = mixed[i].to_ascii_lowercase();
                assert_eq!(HeaderName::from_bytes(&mixed), name, "{}", CANON[row]);
            }
        }
    }

    #[test]
    fn rfc3261_7_3_3_every_known_name_and_compact_form_is_found_in_any_case() {
        for (row, &name) in ALL.iter().enumerate() {
            let canon = CANON[row];
            assert_eq!(name.as_str(), Some(canon));
            for spelling in [
                canon.to_string(),
                canon.to_ascii_lowercase(),
                canon.to_ascii_uppercase(),
            ] {
                assert_eq!(
                    HeaderName::from_bytes(spelling.as_bytes()),
                    name,
                    "{spelling}"
                );
            }
            if let Some(c) = name.compact() {
                for spelling in [c.to_ascii_lowercase(), c.to_ascii_uppercase()] {
                    let raw = spelling.to_string();
                    assert_eq!(HeaderName::from_bytes(raw.as_bytes()), name, "{raw}");
                }
            }
            // Same length, first and last letter, different middle: not this header.
            let mut near = canon.as_bytes().to_vec();
            if near.len() > 2 {
                near[1] = b'#';
                assert_eq!(HeaderName::from_bytes(&near), HeaderName::Other, "{canon}");
            }
        }
        for c in b'a'..=b'z' {
            let want = ALL
                .iter()
                .copied()
                .find(|n| n.compact() == Some(char::from(c)));
            let got = HeaderName::from_bytes(&[c]);
            assert_eq!(got, want.unwrap_or(HeaderName::Other), "{}", char::from(c));
        }
    }

    #[test]
    fn rfc3261_7_3_3_names_and_compact_forms_table() {
        let cases: [(&str, HeaderName); 14] = [
            ("Via", HeaderName::Via),
            ("v", HeaderName::Via),
            ("V", HeaderName::Via),
            ("MaX-fOrWaRdS", HeaderName::MaxForwards),
            ("i", HeaderName::CallId),
            ("call-id", HeaderName::CallId),
            ("l", HeaderName::ContentLength),
            ("m", HeaderName::Contact),
            ("C%6Fntact", HeaderName::Other),
            ("o", HeaderName::Event),
            ("k", HeaderName::Supported),
            ("x", HeaderName::SessionExpires),
            ("NewFangledHeader", HeaderName::Other),
            ("q", HeaderName::Other),
        ];
        for (raw, want) in cases {
            assert_eq!(HeaderName::from_bytes(raw.as_bytes()), want, "{raw}");
        }
        assert!(HeaderName::Via.is_list() && !HeaderName::CallId.is_list());
        assert!(HeaderName::CSeq.is_single() && !HeaderName::Contact.is_single());
        assert!(
            !HeaderName::Authorization.is_list(),
            "auth params use commas"
        );
        assert_eq!(HeaderName::CallId.to_string(), "Call-ID");
        assert_eq!(
            (HeaderName::Via.compact(), HeaderName::CSeq.compact()),
            (Some('v'), None)
        );
    }
}
