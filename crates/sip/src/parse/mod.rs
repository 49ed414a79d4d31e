//! The message parser (RFC 3261 §7, §25): one pass over the buffer records the start line and
//! where each header sits, then checks what every server needs before it looks further —
//! mandatory headers, single-valued headers, Via/From/To/CSeq syntax, CSeq method against
//! the request method, and Content-Length against the body.
//!
//! Other headers are parsed only when asked for (see [`crate::Headers`]); unknown ones are
//! passed through untouched.

mod error;
pub mod framing;
mod lines;
pub mod scan;
mod start_line;

use bytes::Bytes;

pub use error::ParseError;
pub use framing::{Frame, Framer};

use crate::header::{parse_call_id, parse_content_length, CSeq, NameAddr};
use crate::message::{Cached, Entry, HeaderName, Headers, Layout, Message, Request, Response};
use lines::{next_line, Step};
use start_line::{parse_start_line, StartLine};

/// Largest message the transports accept (RFC 3261 §18.1.1 leaves it to them; 64 KiB is the
/// UDP ceiling). The parser itself does not enforce it.
pub const MAX_MESSAGE_SIZE: usize = 64 * 1024;

/// True for a datagram or stream chunk made only of CR and LF: a keep-alive (RFC 5626
/// §3.5.1), not a message.
pub fn is_keepalive(b: &[u8]) -> bool {
    !b.is_empty() && b.iter().all(|&c| c == b'\r' || c == b'\n')
}

/// Parses one message from `buf` (a datagram, or a frame from [`Framer`]).
///
/// Leading CRLFs are skipped (RFC 3261 §7.5). With Content-Length, bytes beyond it are cut
/// off (RFC 4475 §3.1.1.8) and fewer bytes are an error; without it the body is the rest of
/// the buffer, as over UDP (§18.3).
pub fn parse_message(buf: Bytes) -> Result<Message, ParseError> {
    if buf.len() > u32::MAX as usize {
        return Err(ParseError::TooLarge {
            limit: u32::MAX as usize,
        });
    }
    let skip = buf
        .iter()
        .take_while(|&&c| c == b'\r' || c == b'\n')
        .count();
    if skip == buf.len() {
        return Err(ParseError::Empty);
    }
    let mut buf = buf.slice(skip..);
    let (line_end, mut pos) = lines::first_line_end(&buf);
    let start = parse_start_line(&buf, line_end)?;

    let mut entries: Vec<Entry> = Vec::with_capacity(16);
    let b = &buf[..];
    let body_start = loop {
        match next_line(b, pos)? {
            Step::End(body) => break body,
            Step::Line(line, next) => {
                let name = HeaderName::from_bytes(&b[line.name.0..line.name.1]);
                if name.is_single() && entries.iter().any(|e| e.name == name) {
                    return Err(ParseError::DuplicateHeader {
                        name,
                        offset: line.value.0,
                    });
                }
                entries.push(Entry {
                    name,
                    name_start: line.name.0 as u32,
                    name_end: line.name.1 as u32,
                    value_start: line.value.0 as u32,
                    value_end: line.value.1 as u32,
                });
                pos = next;
            }
        }
    };

    // Content-Length decides how much of the buffer is this message.
    if let Some(e) = entries.iter().find(|e| e.name == HeaderName::ContentLength) {
        let cl = content_length_value(b, e.value_start as usize, e.value_end as usize)?;
        let actual = buf.len() - body_start;
        if actual < cl {
            return Err(ParseError::BodyTooShort {
                expected: cl,
                actual,
            });
        }
        buf.truncate(body_start + cl);
    }

    let layout = Layout {
        start_line_end: line_end as u32,
        body_start: body_start as u32,
    };
    let headers = Headers::new(buf, entries);
    let (cseq, cache) = check_headers(&headers)?;
    Ok(match start {
        StartLine::Request { method, uri } => {
            if cseq.method != method {
                let offset = headers.get(HeaderName::CSeq).map_or(0, |h| h.offset());
                return Err(ParseError::CSeqMethodMismatch { offset });
            }
            Message::Request(Box::new(Request {
                method,
                uri: (uri.0 as u32, uri.1 as u32),
                headers,
                cseq,
                layout,
                cache,
            }))
        }
        StartLine::Response { status, reason } => Message::Response(Box::new(Response {
            status,
            reason: (reason.0 as u32, reason.1 as u32),
            headers,
            cseq,
            layout,
            cache,
        })),
    })
}

/// The Content-Length value held in `b[start..end]`.
fn content_length_value(b: &[u8], start: usize, end: usize) -> Result<usize, ParseError> {
    let bad = |o: usize| ParseError::BadHeader {
        name: HeaderName::ContentLength,
        offset: start + o,
    };
    let text = std::str::from_utf8(&b[start..end]).map_err(|e| bad(e.valid_up_to()))?;
    Ok(parse_content_length(text).map_err(bad)? as usize)
}

/// The checks every message must pass (RFC 3261 §8.1.1, §8.2.2; RFC 4475 §3.1.2, §3.3.1).
/// What they parse of the Call-ID, top Via, From and To is kept for the message's accessors.
fn check_headers(h: &Headers) -> Result<(CSeq, Option<Box<Cached>>), ParseError> {
    fn required<T>(name: HeaderName, v: Option<T>) -> Result<T, ParseError> {
        v.ok_or(ParseError::MissingHeader { name })
    }
    let call_id = h.single_line(HeaderName::CallId, parse_call_id)?;
    let call_id = required(HeaderName::CallId, call_id)?;
    let cseq = h.cseq()?;
    let from = required(
        HeaderName::From,
        h.single_line(HeaderName::From, NameAddr::parse)?,
    )?;
    let to = required(
        HeaderName::To,
        h.single_line(HeaderName::To, NameAddr::parse)?,
    )?;
    let mut vias = h.vias();
    let top = vias.next().unwrap_or(Err(ParseError::MissingHeader {
        name: HeaderName::Via,
    }))?;
    for via in vias {
        via?;
    }
    let cache = Cached::new(h, call_id, &top, from, to).map(Box::new);
    Ok((cseq, cache))
}

#[cfg(test)]
pub(crate) mod tests;
