//! Requests and responses as views over one [`Bytes`] buffer holding the message exactly as
//! on the wire (RFC 3261 §7). Parse with [`crate::parse_message`], build with
//! [`RequestBuilder`] / [`Request::response`], change with [`Request::edit`].

mod builder;
mod cache;
mod edit;
mod header_name;
mod headers;
mod method;
mod status;

use bytes::Bytes;

pub use builder::{RequestBuilder, ResponseBuilder};
pub(crate) use cache::Cached;
pub use edit::Edit;
pub use header_name::HeaderName;
pub(crate) use headers::Entry;
pub use headers::{Elements, Header, Headers};
pub use method::Method;
pub use status::StatusCode;

use crate::header::{CSeq, NameAddr, Via};
use crate::parse::ParseError;
use crate::uri::Uri;

/// Byte ranges shared by requests and responses. Offsets are `u32` (messages are small).
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    /// End of the start line's text (before CRLF).
    pub(crate) start_line_end: u32,
    /// Start of the body (after the empty line).
    pub(crate) body_start: u32,
}

fn slice_str(buf: &Bytes, start: usize, end: usize) -> &str {
    buf.get(start..end)
        .and_then(|b| std::str::from_utf8(b).ok())
        .unwrap_or_default()
}

macro_rules! common_accessors {
    () => {
        /// The header section.
        pub fn headers(&self) -> &Headers {
            &self.headers
        }
        /// The whole message as on the wire (shares the receive buffer).
        pub fn as_bytes(&self) -> &Bytes {
            self.headers.buf()
        }
        /// CSeq, checked when the message was parsed.
        pub fn cseq(&self) -> &CSeq {
            &self.cseq
        }
        /// Call-ID, checked (and located) when the message was parsed.
        pub fn call_id(&self) -> &str {
            match self.cache.as_deref().and_then(|c| c.call_id(&self.headers)) {
                Some(call_id) => call_id,
                None => self.headers.call_id().unwrap_or_default(),
            }
        }
        /// The topmost Via (parsed once, when the message was).
        pub fn via(&self) -> Result<Via<'_>, ParseError> {
            match self.cache.as_deref().and_then(|c| c.via(&self.headers)) {
                Some(via) => Ok(via),
                None => self.headers.via(),
            }
        }
        /// From (parsed once, when the message was).
        pub fn from(&self) -> Result<NameAddr<'_>, ParseError> {
            match self.cache.as_deref().and_then(|c| c.from(&self.headers)) {
                Some(from) => Ok(from),
                None => self.headers.from(),
            }
        }
        /// To (parsed once, when the message was).
        pub fn to(&self) -> Result<NameAddr<'_>, ParseError> {
            match self.cache.as_deref().and_then(|c| c.to(&self.headers)) {
                Some(to) => Ok(to),
                None => self.headers.to(),
            }
        }
        /// The body (exactly Content-Length bytes when the header is present).
        pub fn body(&self) -> &[u8] {
            self.headers
                .buf()
                .get(self.layout.body_start as usize..)
                .unwrap_or_default()
        }
        /// The body as a slice of the message buffer.
        pub fn body_bytes(&self) -> Bytes {
            let buf = self.headers.buf();
            buf.slice((self.layout.body_start as usize).min(buf.len())..)
        }
        /// The start line as written, without CRLF.
        pub fn start_line(&self) -> &str {
            slice_str(self.headers.buf(), 0, self.layout.start_line_end as usize)
        }
    };
}

/// A SIP request.
#[derive(Debug, Clone)]
pub struct Request {
    pub(crate) method: Method,
    pub(crate) uri: (u32, u32),
    pub(crate) headers: Headers,
    pub(crate) cseq: CSeq,
    pub(crate) layout: Layout,
    /// Top Via, From and To as parsed by the parser (`None` for a built response).
    pub(crate) cache: Option<Box<Cached>>,
}

impl Request {
    common_accessors!();

    /// The method.
    pub fn method(&self) -> &Method {
        &self.method
    }
    /// The Request-URI text.
    pub fn uri_str(&self) -> &str {
        slice_str(self.headers.buf(), self.uri.0 as usize, self.uri.1 as usize)
    }
    /// The Request-URI, checked when the request was parsed.
    pub fn uri(&self) -> Uri<'_> {
        let raw = self.uri_str();
        Uri::parse(raw).unwrap_or(Uri::Other { scheme: "", raw })
    }
}

/// A SIP response.
#[derive(Debug, Clone)]
pub struct Response {
    pub(crate) status: StatusCode,
    pub(crate) reason: (u32, u32),
    pub(crate) headers: Headers,
    pub(crate) cseq: CSeq,
    pub(crate) layout: Layout,
    /// Top Via, From and To as parsed by the parser (`None` for a built response).
    pub(crate) cache: Option<Box<Cached>>,
}

impl Response {
    common_accessors!();

    /// The whole message as on the wire, taken out of the response (no clone of the
    /// bytes' handle).
    pub fn into_bytes(self) -> Bytes {
        self.headers.into_buf()
    }

    /// The status code.
    pub fn status(&self) -> StatusCode {
        self.status
    }
    /// The reason phrase as written (may be empty, RFC 4475 §3.1.1.13); "" if not UTF-8.
    pub fn reason(&self) -> &str {
        slice_str(
            self.headers.buf(),
            self.reason.0 as usize,
            self.reason.1 as usize,
        )
    }
}

/// A parsed request or response. Boxed: a received message is handed from the transport to
/// the transaction layer and on to the application, moved a dozen times, and a pointer moves
/// in a register where the 176 bytes of a [`Request`] took a `memcpy` call each time
/// (BENCHMARKS.md, eleventh pass).
#[derive(Debug, Clone)]
pub enum Message {
    /// A request.
    Request(Box<Request>),
    /// A response.
    Response(Box<Response>),
}

impl Message {
    /// The header section.
    pub fn headers(&self) -> &Headers {
        match self {
            Self::Request(r) => r.headers(),
            Self::Response(r) => r.headers(),
        }
    }
    /// The whole message as on the wire.
    pub fn as_bytes(&self) -> &Bytes {
        self.headers().buf()
    }
    /// CSeq.
    pub fn cseq(&self) -> &CSeq {
        match self {
            Self::Request(r) => r.cseq(),
            Self::Response(r) => r.cseq(),
        }
    }
    /// Call-ID.
    pub fn call_id(&self) -> &str {
        match self {
            Self::Request(r) => r.call_id(),
            Self::Response(r) => r.call_id(),
        }
    }
    /// The body.
    pub fn body(&self) -> &[u8] {
        match self {
            Self::Request(r) => r.body(),
            Self::Response(r) => r.body(),
        }
    }
    /// The request, if this is one.
    pub fn as_request(&self) -> Option<&Request> {
        match self {
            Self::Request(r) => Some(r),
            Self::Response(_) => None,
        }
    }
    /// The response, if this is one.
    pub fn as_response(&self) -> Option<&Response> {
        match self {
            Self::Request(_) => None,
            Self::Response(r) => Some(r),
        }
    }
    /// The request, consuming the message.
    pub fn into_request(self) -> Option<Request> {
        match self {
            Self::Request(r) => Some(*r),
            Self::Response(_) => None,
        }
    }
    /// The response, consuming the message.
    pub fn into_response(self) -> Option<Response> {
        match self {
            Self::Request(_) => None,
            Self::Response(r) => Some(*r),
        }
    }
}

impl From<Request> for Message {
    fn from(r: Request) -> Self {
        Self::Request(Box::new(r))
    }
}

impl From<Response> for Message {
    fn from(r: Response) -> Self {
        Self::Response(Box::new(r))
    }
}

#[cfg(test)]
mod tests;
