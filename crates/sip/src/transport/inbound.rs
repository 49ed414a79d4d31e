//! From received bytes to a [`Received`]: size check, parse, the server transport's Via
//! handling (RFC 3261 §18.2.1 `received`, RFC 3581 `rport`) and where responses go
//! (§18.2.2); or, for a request that does not parse, the 400 (or 513) to answer with when
//! one can be formed from its raw lines (HD-SEC-5).

use std::fmt::Write as _;
use std::net::SocketAddr;

use bytes::{BufMut, Bytes, BytesMut};

use super::Transport;
use crate::message::{HeaderName, Message, Request};
use crate::parse::{parse_message, ParseError};
use crate::transaction::Received;

/// How received messages are judged.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Policy {
    pub(crate) max_message_size: usize,
    pub(crate) force_rport: bool,
}

/// What became of the bytes of one message.
#[derive(Debug)]
pub(crate) enum Inbound {
    /// A message for the transaction layer.
    Message(Received),
    /// Not acceptable; send this response back to the peer.
    Reject(Bytes),
    /// Not acceptable and no response can be formed (or a keep-alive).
    Drop,
}

/// Judges the bytes of one message (a datagram, a stream frame, a WebSocket message).
pub(crate) fn accept(
    bytes: Bytes,
    remote: SocketAddr,
    transport: Transport,
    policy: Policy,
) -> Inbound {
    if bytes.len() > policy.max_message_size {
        let error = ParseError::TooLarge {
            limit: policy.max_message_size,
        };
        return reject(&bytes, &error).map_or(Inbound::Drop, Inbound::Reject);
    }
    match parse_message(bytes.clone()) {
        Ok(Message::Request(request)) => {
            let source = reply_address(&request, remote, transport, policy.force_rport);
            Inbound::Message(Received {
                message: Message::Request(stamp_via(request, remote)),
                source,
                transport,
            })
        }
        Ok(message @ Message::Response(_)) => Inbound::Message(Received {
            message,
            source: remote,
            transport,
        }),
        Err(ParseError::Empty) => Inbound::Drop,
        Err(error) => reject(&bytes, &error).map_or(Inbound::Drop, Inbound::Reject),
    }
}

/// Where responses to `request` go (§18.2.2): over streams, back on the connection; over
/// UDP, to the source address when `rport` asks for it (RFC 3581 §4) or `force_rport` is
/// set, else to the source IP and the Via sent-by port.
fn reply_address(
    request: &Request,
    remote: SocketAddr,
    transport: Transport,
    force_rport: bool,
) -> SocketAddr {
    if transport != Transport::Udp || force_rport {
        return remote;
    }
    match request.via() {
        Ok(via) if !via.has_rport() => SocketAddr::new(remote.ip(), via.port_or_default()),
        _ => remote,
    }
}

/// Adds `received=<source IP>` to the top Via when its sent-by host is not that IP (§18.2.1)
/// and fills an empty `rport` with the source port (RFC 3581 §4). The message is only
/// rewritten (one copy and a re-parse) when one of the two applies.
pub(crate) fn stamp_via(request: Box<Request>, remote: SocketAddr) -> Box<Request> {
    let ip = remote.ip().to_canonical();
    let Some(Ok((element, offset))) = request.headers().elements(HeaderName::Via).next() else {
        return request;
    };
    let Ok(via) = request.via() else {
        return request;
    };
    let host_matches = via.host().ip().map(|h| h.to_canonical()) == Some(ip);
    let mut rport_at = None;
    let mut received_span = None;
    for (name, value) in via.params() {
        let name_end = offset + (name.as_ptr() as usize - element.as_ptr() as usize) + name.len();
        if name.eq_ignore_ascii_case("rport") && value.is_none() && rport_at.is_none() {
            rport_at = Some(name_end);
        }
        if name.eq_ignore_ascii_case("received") && received_span.is_none() {
            let end = value.map_or(name_end, |v| {
                offset + (v.as_ptr() as usize - element.as_ptr() as usize) + v.len()
            });
            received_span = Some((name_end, end));
        }
    }
    if host_matches && rport_at.is_none() {
        return request;
    }
    // Insertions as (position, bytes to insert, bytes to skip), in buffer order.
    let mut edits: Vec<(usize, String, usize)> = Vec::with_capacity(2);
    if let Some(at) = rport_at {
        edits.push((at, format!("={}", remote.port()), 0));
    }
    if !host_matches {
        match received_span {
            // A `received` written by the sender is replaced, not doubled.
            Some((name_end, end)) => edits.push((name_end, format!("={ip}"), end - name_end)),
            None => edits.push((offset + element.len(), format!(";received={ip}"), 0)),
        }
    }
    edits.sort_by_key(|(at, _, _)| *at);
    let raw = request.as_bytes();
    let extra: usize = edits.iter().map(|(_, s, _)| s.len()).sum();
    let mut out = BytesMut::with_capacity(raw.len() + extra);
    let mut pos = 0;
    for (at, insert, skip) in &edits {
        out.put_slice(raw.get(pos..*at).unwrap_or_default());
        out.put_slice(insert.as_bytes());
        pos = at + skip;
    }
    out.put_slice(raw.get(pos..).unwrap_or_default());
    match parse_message(out.freeze()) {
        Ok(Message::Request(stamped)) => stamped,
        // Cannot happen for a message that parsed with the same Via; keep the original.
        Ok(Message::Response(_)) | Err(_) => request,
    }
}

/// The response to a request that failed with `error`, formed from its raw lines: status and
/// reason from [`ParseError::status`] / [`ParseError::reason`], its Via, From, To (with a
/// tag), Call-ID and CSeq copied as written. `None` for responses, ACKs, keep-alives and
/// requests missing one of those headers or with one of them malformed: those are dropped
/// (RFC 3261 §8.2.6, HD-SEC-5).
pub(crate) fn reject(raw: &[u8], error: &ParseError) -> Option<Bytes> {
    if matches!(error, ParseError::Empty) {
        return None;
    }
    let start = raw.iter().position(|&c| c != b'\r' && c != b'\n')?;
    let lines = Lines { raw, pos: start };
    let mut lines = lines;
    let first = lines.next()?;
    let method_end = first.iter().position(|&c| c == b' ')?;
    let method = &first[..method_end];
    if method.is_empty()
        || method.starts_with(b"SIP/")
        || method == b"ACK"
        || !method.iter().all(|&c| crate::parse::scan::is_token_char(c))
    {
        return None;
    }
    let mut vias: Vec<&[u8]> = Vec::new();
    let (mut from, mut to, mut call_id, mut cseq) = (None, None, None, None);
    for line in lines {
        if line.is_empty() {
            break;
        }
        let Some(colon) = line.iter().position(|&c| c == b':') else {
            continue;
        };
        let name = trim(&line[..colon]);
        let value = trim(&line[colon + 1..]);
        match HeaderName::from_bytes(name) {
            HeaderName::Via => vias.push(value),
            HeaderName::From => from = from.or(Some(value)),
            HeaderName::To => to = to.or(Some(value)),
            HeaderName::CallId => call_id = call_id.or(Some(value)),
            HeaderName::CSeq => cseq = cseq.or(Some(value)),
            _ => {}
        }
    }
    let (from, to, call_id, cseq) = (from?, to?, call_id?, cseq?);
    if vias.is_empty() || [from, to, call_id, cseq].iter().any(|v| v.is_empty()) {
        return None;
    }
    let status = error.status();
    let reason = error.reason();
    let mut head = String::with_capacity(32 + reason.len());
    // Writing to a String cannot fail.
    let _ = write!(head, "SIP/2.0 {} {reason}\r\n", status.as_u16());
    let mut out = BytesMut::with_capacity(raw.len().min(4096) + 128);
    out.put_slice(head.as_bytes());
    for via in vias {
        header(&mut out, b"Via", via, None);
    }
    header(&mut out, b"From", from, None);
    let has_tag = to.windows(5).any(|w| w.eq_ignore_ascii_case(b";tag="));
    let tag = (!has_tag).then(|| format!(";tag={:016x}", rand::random::<u64>()));
    header(&mut out, b"To", to, tag.as_deref());
    header(&mut out, b"Call-ID", call_id, None);
    header(&mut out, b"CSeq", cseq, None);
    out.put_slice(b"Content-Length: 0\r\n\r\n");
    // A copied header may be the fault itself (a bad CSeq): a response the client could not
    // parse is no answer, so it is not sent.
    let out = out.freeze();
    parse_message(out.clone()).is_ok().then_some(out)
}

fn header(out: &mut BytesMut, name: &[u8], value: &[u8], suffix: Option<&str>) {
    out.put_slice(name);
    out.put_slice(b": ");
    out.put_slice(value);
    if let Some(s) = suffix {
        out.put_slice(s.as_bytes());
    }
    out.put_slice(b"\r\n");
}

fn trim(b: &[u8]) -> &[u8] {
    let is_space = |c: &u8| matches!(c, b' ' | b'\t' | b'\r' | b'\n');
    let start = b.iter().position(|c| !is_space(c)).unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !is_space(c))
        .map_or(start, |e| e + 1);
    &b[start..end.max(start)]
}

/// Logical lines of a raw message: a line followed by lines starting with SP or HT is one
/// (folded) line, CRLF kept inside. Ends at the first empty line, which is yielded.
struct Lines<'a> {
    raw: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for Lines<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let raw = self.raw;
        if self.pos >= raw.len() {
            return None;
        }
        let start = self.pos;
        let mut i = start;
        loop {
            let Some(nl) = raw[i..].iter().position(|&c| c == b'\n') else {
                self.pos = raw.len();
                return Some(&raw[start..]);
            };
            let end = i + nl;
            let next = end + 1;
            let empty = end == i || (end == i + 1 && raw[i] == b'\r');
            let continued = !(i == start && empty) && matches!(raw.get(next), Some(b' ' | b'\t'));
            if continued {
                i = next;
                continue;
            }
            self.pos = next;
            let line_end = if end > start && raw[end - 1] == b'\r' {
                end - 1
            } else {
                end
            };
            return Some(&raw[start..line_end]);
        }
    }
}

#[cfg(test)]
mod tests;
