//! Response status codes (RFC 3261 §21 and extensions).

use std::fmt;

/// A status code in 100..=699 (RFC 3261 §7.2; codes outside are refused, RFC 4475 §3.1.2.19).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StatusCode(u16);

macro_rules! codes {
    ($($name:ident = $code:literal, $reason:literal;)*) => {
        impl StatusCode {
            $(
                #[doc = concat!("`", stringify!($code), " ", $reason, "`")]
                pub const $name: StatusCode = StatusCode($code);
            )*

            /// The RFC reason phrase, or a class phrase for unlisted codes.
            pub fn canonical_reason(self) -> &'static str {
                match self.0 {
                    $($code => $reason,)*
                    100..=199 => "Trying",
                    200..=299 => "OK",
                    300..=399 => "Redirection",
                    400..=499 => "Client Error",
                    500..=599 => "Server Error",
                    _ => "Global Failure",
                }
            }
        }
    };
}

codes! {
    TRYING = 100, "Trying";
    RINGING = 180, "Ringing";
    CALL_IS_BEING_FORWARDED = 181, "Call Is Being Forwarded";
    QUEUED = 182, "Queued";
    SESSION_PROGRESS = 183, "Session Progress";
    OK = 200, "OK";
    ACCEPTED = 202, "Accepted";
    MULTIPLE_CHOICES = 300, "Multiple Choices";
    MOVED_PERMANENTLY = 301, "Moved Permanently";
    MOVED_TEMPORARILY = 302, "Moved Temporarily";
    BAD_REQUEST = 400, "Bad Request";
    UNAUTHORIZED = 401, "Unauthorized";
    FORBIDDEN = 403, "Forbidden";
    NOT_FOUND = 404, "Not Found";
    METHOD_NOT_ALLOWED = 405, "Method Not Allowed";
    NOT_ACCEPTABLE = 406, "Not Acceptable";
    PROXY_AUTHENTICATION_REQUIRED = 407, "Proxy Authentication Required";
    REQUEST_TIMEOUT = 408, "Request Timeout";
    GONE = 410, "Gone";
    REQUEST_ENTITY_TOO_LARGE = 413, "Request Entity Too Large";
    UNSUPPORTED_MEDIA_TYPE = 415, "Unsupported Media Type";
    UNSUPPORTED_URI_SCHEME = 416, "Unsupported URI Scheme";
    BAD_EXTENSION = 420, "Bad Extension";
    EXTENSION_REQUIRED = 421, "Extension Required";
    SESSION_INTERVAL_TOO_SMALL = 422, "Session Interval Too Small";
    INTERVAL_TOO_BRIEF = 423, "Interval Too Brief";
    TEMPORARILY_UNAVAILABLE = 480, "Temporarily Unavailable";
    CALL_OR_TRANSACTION_DOES_NOT_EXIST = 481, "Call/Transaction Does Not Exist";
    LOOP_DETECTED = 482, "Loop Detected";
    TOO_MANY_HOPS = 483, "Too Many Hops";
    ADDRESS_INCOMPLETE = 484, "Address Incomplete";
    BUSY_HERE = 486, "Busy Here";
    REQUEST_TERMINATED = 487, "Request Terminated";
    NOT_ACCEPTABLE_HERE = 488, "Not Acceptable Here";
    BAD_EVENT = 489, "Bad Event";
    REQUEST_PENDING = 491, "Request Pending";
    SERVER_INTERNAL_ERROR = 500, "Server Internal Error";
    NOT_IMPLEMENTED = 501, "Not Implemented";
    BAD_GATEWAY = 502, "Bad Gateway";
    SERVICE_UNAVAILABLE = 503, "Service Unavailable";
    SERVER_TIMEOUT = 504, "Server Time-out";
    VERSION_NOT_SUPPORTED = 505, "Version Not Supported";
    MESSAGE_TOO_LARGE = 513, "Message Too Large";
    BUSY_EVERYWHERE = 600, "Busy Everywhere";
    DECLINE = 603, "Decline";
    DOES_NOT_EXIST_ANYWHERE = 604, "Does Not Exist Anywhere";
    NOT_ACCEPTABLE_ANYWHERE = 606, "Not Acceptable";
}

impl StatusCode {
    /// A status code, or `None` outside 100..=699.
    pub const fn new(code: u16) -> Option<Self> {
        if code >= 100 && code <= 699 {
            Some(Self(code))
        } else {
            None
        }
    }
    /// The numeric code.
    pub const fn as_u16(self) -> u16 {
        self.0
    }
    /// 1xx.
    pub const fn is_provisional(self) -> bool {
        self.0 < 200
    }
    /// 2xx.
    pub const fn is_success(self) -> bool {
        self.0 >= 200 && self.0 < 300
    }
    /// 2xx–6xx: ends a client transaction.
    pub const fn is_final(self) -> bool {
        self.0 >= 200
    }
}

impl fmt::Display for StatusCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3261_7_2_status_code_range() {
        for (code, ok) in [
            (99, false),
            (100, true),
            (699, true),
            (700, false),
            (0, false),
        ] {
            assert_eq!(StatusCode::new(code).is_some(), ok, "{code}");
        }
        assert_eq!(StatusCode::NOT_FOUND.canonical_reason(), "Not Found");
        assert_eq!(
            StatusCode::new(499).map(StatusCode::canonical_reason),
            Some("Client Error")
        );
        assert!(StatusCode::RINGING.is_provisional() && !StatusCode::RINGING.is_final());
        assert!(StatusCode::OK.is_success() && StatusCode::OK.is_final());
    }
}
