//! Cutting a TCP/TLS byte stream into messages (RFC 3261 §18.3: Content-Length is mandatory on
//! streams) and spotting RFC 5626 §3.5.1 keep-alives: a CRLFCRLF "ping" that the transport
//! answers with a CRLF "pong".

use bytes::{Buf, Bytes, BytesMut};

use super::lines::{find_head_end, first_line_end, next_line, Step};
use super::{content_length_value, ParseError, MAX_MESSAGE_SIZE};
use crate::message::HeaderName;

/// Largest header section accepted on a stream before the connection is given up.
pub const MAX_HEADER_SIZE: usize = 64 * 1024;

/// What the next bytes of a stream hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// CRLFCRLF: a keep-alive ping; answer with a single CRLF (RFC 5626 §3.5.1).
    Ping,
    /// A lone CRLF: the pong answering our ping.
    Pong,
    /// One complete message (header section and Content-Length body) for
    /// [`crate::parse_message`].
    Message(Bytes),
}

/// Incremental framer for one connection; keep it beside the connection's read buffer.
#[derive(Debug, Default, Clone)]
pub struct Framer {
    /// How far the search for the end of the header section got.
    scanned: usize,
    /// Length of the message being assembled, once its header section is complete.
    total: Option<usize>,
}

impl Framer {
    /// A framer at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes the next complete frame off the front of `buf`, or returns `Ok(None)` until
    /// more bytes arrive. An error means the stream cannot be resynchronised: close it.
    pub fn next_frame(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, ParseError> {
        if self.total.is_none() {
            loop {
                match &buf[..] {
                    [b'\r', b'\n', b'\r', b'\n', ..] => {
                        buf.advance(4);
                        return Ok(Some(Frame::Ping));
                    }
                    // Could still become a ping: wait.
                    [b'\r'] | [b'\r', b'\n'] | [b'\r', b'\n', b'\r'] => return Ok(None),
                    [b'\r', b'\n', ..] => {
                        buf.advance(2);
                        return Ok(Some(Frame::Pong));
                    }
                    // Stray line ends before a start line are ignored (RFC 3261 §7.5).
                    [b'\n', ..] | [b'\r', ..] => buf.advance(1),
                    [] => return Ok(None),
                    _ => break,
                }
            }
            let Some(head) = find_head_end(buf, self.scanned.saturating_sub(3)) else {
                if buf.len() > MAX_HEADER_SIZE {
                    return Err(ParseError::HeadersTooLarge {
                        limit: MAX_HEADER_SIZE,
                    });
                }
                self.scanned = buf.len();
                return Ok(None);
            };
            if head > MAX_HEADER_SIZE {
                return Err(ParseError::HeadersTooLarge {
                    limit: MAX_HEADER_SIZE,
                });
            }
            let body = content_length(&buf[..head])?;
            if body > MAX_MESSAGE_SIZE {
                return Err(ParseError::TooLarge {
                    limit: MAX_MESSAGE_SIZE,
                });
            }
            self.total = Some(head + body);
        }
        match self.total {
            Some(total) if buf.len() >= total => {
                *self = Self::default();
                Ok(Some(Frame::Message(buf.split_to(total).freeze())))
            }
            _ => Ok(None),
        }
    }
}

/// The Content-Length of a complete header section; every copy must agree and one is required.
fn content_length(head: &[u8]) -> Result<usize, ParseError> {
    let name = HeaderName::ContentLength;
    let (_, mut pos) = first_line_end(head);
    let mut found: Option<usize> = None;
    while let Step::Line(line, next) = next_line(head, pos)? {
        pos = next;
        if HeaderName::from_bytes(&head[line.name.0..line.name.1]) != name {
            continue;
        }
        let (vs, ve) = line.value;
        if found.is_some() {
            return Err(ParseError::DuplicateHeader { name, offset: vs });
        }
        found = Some(content_length_value(head, vs, ve)?);
    }
    found.ok_or(ParseError::MissingHeader { name })
}

#[cfg(test)]
mod tests;
