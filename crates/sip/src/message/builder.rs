//! Building messages: a response to a request (RFC 3261 §8.2.6) written straight into one
//! buffer of the exact size with its header index recorded as it goes (no re-parse), and new
//! requests (serialised, then parsed so they are checked like received ones, or indexed as
//! written when their values are known good).

use std::borrow::Cow;

use bytes::{BufMut, Bytes, BytesMut};

use super::{Entry, HeaderName, Headers, Layout, Method, Request, Response, StatusCode};
use crate::decimal;
use crate::parse::{parse_message, ParseError};

/// Writes header lines and records where each one lands.
struct Writer {
    buf: BytesMut,
    entries: Vec<Entry>,
}

/// Decimal digits of `n` into `buf` without allocating.
fn put_u32(buf: &mut BytesMut, n: u32) {
    let mut scratch = [0u8; 20];
    buf.put_slice(decimal::digits(u64::from(n), &mut scratch));
}

impl Writer {
    fn with_capacity(bytes: usize, headers: usize) -> Self {
        Self {
            buf: BytesMut::with_capacity(bytes),
            entries: Vec::with_capacity(headers),
        }
    }

    /// `name: part1part2…CRLF`, the name as given.
    fn header(&mut self, name: &str, parts: &[&[u8]]) {
        self.write(HeaderName::from_bytes(name.as_bytes()), name, parts);
    }

    /// [`Self::header`] for a header the stack knows, in its canonical spelling.
    fn known_header(&mut self, known: HeaderName, parts: &[&[u8]]) {
        self.write(known, known.as_str().unwrap_or_default(), parts);
    }

    /// `name: part1part2…CRLF`, recorded as `known`.
    fn write(&mut self, known: HeaderName, name: &str, parts: &[&[u8]]) {
        let name_start = self.buf.len() as u32;
        self.buf.put_slice(name.as_bytes());
        let name_end = self.buf.len() as u32;
        self.buf.put_slice(b": ");
        let value_start = self.buf.len() as u32;
        for p in parts {
            self.buf.put_slice(p);
        }
        let value_end = self.buf.len() as u32;
        self.buf.put_slice(b"\r\n");
        self.entries.push(Entry {
            name: known,
            name_start,
            name_end,
            value_start,
            value_end,
        });
    }

    /// Content-Length, the empty line and the body; returns where the body starts.
    fn finish(&mut self, body: &[u8]) -> u32 {
        let value_start = self.buf.len() as u32 + 16;
        self.buf.put_slice(b"Content-Length: ");
        put_u32(&mut self.buf, body.len() as u32);
        let value_end = self.buf.len() as u32;
        self.entries.push(Entry {
            name: HeaderName::ContentLength,
            name_start: value_start - 16,
            name_end: value_start - 2,
            value_start,
            value_end,
        });
        self.buf.put_slice(b"\r\n\r\n");
        let body_start = self.buf.len() as u32;
        self.buf.put_slice(body);
        body_start
    }
}

/// Header lines to add: (name, value).
type Extra<'a> = Vec<(Cow<'a, str>, Cow<'a, str>)>;

/// A response being built from a request; see [`Request::response`].
#[derive(Debug)]
#[must_use]
pub struct ResponseBuilder<'a> {
    request: &'a Request,
    status: StatusCode,
    reason: Option<Cow<'a, str>>,
    to_tag: Option<Cow<'a, str>>,
    record_route: bool,
    extra: Extra<'a>,
    body: Option<(Cow<'a, str>, Bytes)>,
}

impl Request {
    /// Starts a response: copies every Via (in order), From, To, Call-ID and CSeq from this
    /// request (RFC 3261 §8.2.6.2); the reason defaults to the status's canonical phrase.
    pub fn response(&self, status: StatusCode) -> ResponseBuilder<'_> {
        ResponseBuilder {
            request: self,
            status,
            reason: None,
            to_tag: None,
            record_route: false,
            extra: Vec::new(),
            body: None,
        }
    }
}

impl<'a> ResponseBuilder<'a> {
    /// Sets the reason phrase.
    pub fn reason(mut self, reason: impl Into<Cow<'a, str>>) -> Self {
        self.reason = Some(reason.into());
        self
    }
    /// Adds `;tag=…` to To unless the request's To already has a tag (RFC 3261 §8.2.6.2).
    pub fn to_tag(mut self, tag: impl Into<Cow<'a, str>>) -> Self {
        self.to_tag = Some(tag.into());
        self
    }
    /// Copies the request's Record-Route headers too (dialog-creating responses, §12.1.1).
    pub fn record_route(mut self) -> Self {
        self.record_route = true;
        self
    }
    /// Adds a header line after the copied ones (e.g. Contact, WWW-Authenticate, Expires).
    pub fn header(mut self, name: impl Into<Cow<'a, str>>, value: impl Into<Cow<'a, str>>) -> Self {
        self.extra.push((name.into(), value.into()));
        self
    }
    /// Sets the body and its Content-Type (Content-Length is always written).
    pub fn body(mut self, content_type: impl Into<Cow<'a, str>>, body: Bytes) -> Self {
        self.body = Some((content_type.into(), body));
        self
    }

    /// Writes the response into one buffer of the exact size.
    pub fn build(self) -> Response {
        self.build_planned().0
    }

    /// [`Self::build`], and the size planned for the buffer (tests check it was exact).
    fn build_planned(self) -> (Response, usize) {
        let req = self.request;
        let src = req.headers();
        let reason: Cow<'_, str> = match &self.reason {
            Some(r) => Cow::Borrowed(r.as_ref()),
            None => Cow::Borrowed(self.status.canonical_reason()),
        };
        let tag = match (&self.to_tag, req.to().ok().and_then(|t| t.tag())) {
            (Some(t), None) => Some(t.as_ref()),
            _ => None,
        };
        let copied = |e: &&Entry| match e.name {
            HeaderName::Via | HeaderName::From | HeaderName::To | HeaderName::CallId => true,
            HeaderName::CSeq => true,
            HeaderName::RecordRoute => self.record_route,
            _ => false,
        };
        let body: &[u8] = self.body.as_ref().map_or(&[], |(_, b)| b);
        // The exact size, so that freezing the buffer needs no allocation of its own (a
        // `Bytes` made from a vector with spare room allocates a shared header). Were it
        // short, the buffer would only grow.
        let line = |name: &str, value: usize| name.len() + 2 + value + 2;
        let mut scratch = [0u8; 20];
        let status_len = decimal::digits(u64::from(self.status.as_u16()), &mut scratch).len();
        let body_len_len = decimal::digits(body.len() as u64, &mut scratch).len();
        let mut size = 8 + status_len + 1 + reason.len() + 2;
        size += line("Content-Length", body_len_len) + 2 + body.len();
        let mut count = 2 + self.extra.len();
        for e in src.entries().iter().filter(copied) {
            let name = e.name.as_str().unwrap_or_default();
            size += line(name, (e.value_end - e.value_start) as usize);
            count += 1;
        }
        size += tag.map_or(0, |t| 5 + t.len());
        size += self
            .extra
            .iter()
            .map(|(n, v)| line(n, v.len()))
            .sum::<usize>();
        size += self
            .body
            .as_ref()
            .map_or(0, |(ct, _)| line("Content-Type", ct.len()));

        let mut w = Writer::with_capacity(size, count);
        w.buf.put_slice(b"SIP/2.0 ");
        put_u32(&mut w.buf, u32::from(self.status.as_u16()));
        w.buf.put_u8(b' ');
        let reason_start = w.buf.len() as u32;
        w.buf.put_slice(reason.as_bytes());
        let start_line_end = w.buf.len() as u32;
        w.buf.put_slice(b"\r\n");
        let raw = src.buf();
        for e in src.entries().iter().filter(copied) {
            let value = raw
                .get(e.value_start as usize..e.value_end as usize)
                .unwrap_or_default();
            match (e.name, tag) {
                (HeaderName::To, Some(t)) => {
                    w.known_header(e.name, &[value, b";tag=", t.as_bytes()]);
                }
                _ => w.known_header(e.name, &[value]),
            }
        }
        for (name, value) in &self.extra {
            w.header(name, &[value.as_bytes()]);
        }
        if let Some((ct, _)) = &self.body {
            w.known_header(HeaderName::ContentType, &[ct.as_bytes()]);
        }
        let body_start = w.finish(body);
        let response = Response {
            status: self.status,
            reason: (reason_start, start_line_end),
            headers: Headers::new(w.buf.freeze(), w.entries),
            cseq: req.cseq().clone(),
            layout: Layout {
                start_line_end,
                body_start,
            },
            // Built to be sent, rarely read: its accessors parse on demand.
            cache: None,
        };
        (response, size)
    }
}

/// A new request; [`RequestBuilder::build`] parses the result, so a request built from bad
/// values is refused like a received one.
#[derive(Debug, Clone)]
#[must_use]
pub struct RequestBuilder<'a> {
    method: Method,
    uri: Cow<'a, str>,
    headers: Extra<'a>,
    body: Option<(Cow<'a, str>, Bytes)>,
}

impl<'a> RequestBuilder<'a> {
    /// Starts `METHOD uri SIP/2.0`. Add Via, Max-Forwards, From, To, Call-ID and CSeq with
    /// [`RequestBuilder::header`]; Content-Length is written by the builder.
    pub fn new(method: Method, uri: impl Into<Cow<'a, str>>) -> Self {
        RequestBuilder {
            method,
            uri: uri.into(),
            headers: Vec::new(),
            body: None,
        }
    }
    /// Adds a header line, in order.
    pub fn header(mut self, name: impl Into<Cow<'a, str>>, value: impl Into<Cow<'a, str>>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
    /// Sets the body and its Content-Type.
    pub fn body(mut self, content_type: impl Into<Cow<'a, str>>, body: Bytes) -> Self {
        self.body = Some((content_type.into(), body));
        self
    }
    /// Serialises the request into one buffer of the exact size.
    pub fn to_bytes(&self) -> Bytes {
        self.write().0.buf.freeze()
    }

    /// Writes the request; also returns the Request-URI's span, the end of the start line
    /// and where the body starts.
    fn write(&self) -> (Writer, (u32, u32), u32, u32) {
        let body: &[u8] = self.body.as_ref().map_or(&[], |(_, b)| b);
        let size = self.method.as_str().len()
            + self.uri.len()
            + 12
            + self
                .headers
                .iter()
                .map(|(n, v)| n.len() + v.len() + 4)
                .sum::<usize>()
            + self.body.as_ref().map_or(0, |(ct, _)| 16 + ct.len())
            + 30
            + body.len();
        let mut w = Writer::with_capacity(size, self.headers.len() + 2);
        w.buf.put_slice(self.method.as_str().as_bytes());
        w.buf.put_u8(b' ');
        let uri_start = w.buf.len() as u32;
        w.buf.put_slice(self.uri.as_bytes());
        let uri_end = w.buf.len() as u32;
        w.buf.put_slice(b" SIP/2.0");
        let start_line_end = w.buf.len() as u32;
        w.buf.put_slice(b"\r\n");
        for (name, value) in &self.headers {
            w.header(name, &[value.as_bytes()]);
        }
        if let Some((ct, _)) = &self.body {
            w.known_header(HeaderName::ContentType, &[ct.as_bytes()]);
        }
        let body_start = w.finish(body);
        (w, (uri_start, uri_end), start_line_end, body_start)
    }

    /// Serialises and parses the request.
    pub fn build(self) -> Result<Request, ParseError> {
        match parse_message(self.to_bytes())? {
            super::Message::Request(r) => Ok(*r),
            super::Message::Response(_) => Err(ParseError::BadStartLine { offset: 0 }),
        }
    }

    /// Serialises the request without parsing it again: the header index is recorded as the
    /// lines are written. For requests made of values that were parsed already or that we
    /// generated (a B2BUA's legs), where [`Self::build`]'s full parse cost as much as the
    /// rest of the request's handling. Checks what the transaction layer relies on: Via,
    /// From, To and Call-ID present, CSeq valid and naming this method; the top Via, From
    /// and To are parsed when first read.
    pub fn build_trusted(self) -> Result<Request, ParseError> {
        let (w, uri, start_line_end, body_start) = self.write();
        let headers = Headers::new(w.buf.freeze(), w.entries);
        for name in [HeaderName::Via, HeaderName::From, HeaderName::To] {
            if headers.get(name).is_none() {
                return Err(ParseError::MissingHeader { name });
            }
        }
        headers.call_id()?;
        let cseq = headers.cseq()?;
        if cseq.method != self.method {
            let offset = headers.get(HeaderName::CSeq).map_or(0, |h| h.offset());
            return Err(ParseError::CSeqMethodMismatch { offset });
        }
        Ok(Request {
            method: self.method,
            uri,
            headers,
            cseq,
            layout: Layout {
                start_line_end,
                body_start,
            },
            cache: None,
        })
    }
}

#[cfg(test)]
mod tests;
