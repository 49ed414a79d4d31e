//! A copy of a message with headers added, removed or replaced, the Request-URI or body
//! changed (what a B2BUA does to the messages it relays). Untouched lines are copied as
//! written; Content-Length is always rewritten to match the body. The result is parsed, so it
//! is checked like a received message.

use std::borrow::Cow;
use std::marker::PhantomData;

use bytes::{BufMut, Bytes, BytesMut};

use super::{Entry, HeaderName, Message, Request, Response};
use crate::parse::{parse_message, ParseError};

/// A header selector: a known name (compact forms included) or an unknown name's text.
#[derive(Debug, Clone)]
struct Target<'a> {
    known: HeaderName,
    text: Cow<'a, str>,
}

impl<'a> Target<'a> {
    fn new(name: Cow<'a, str>) -> Self {
        Target {
            known: HeaderName::from_bytes(name.as_bytes()),
            text: name,
        }
    }
    fn matches(&self, e: &Entry, buf: &[u8]) -> bool {
        match self.known {
            HeaderName::Other => {
                e.name == HeaderName::Other
                    && buf
                        .get(e.name_start as usize..e.name_end as usize)
                        .is_some_and(|n| n.eq_ignore_ascii_case(self.text.as_bytes()))
            }
            k => e.name == k,
        }
    }
}

#[derive(Debug, Clone)]
enum Op<'a> {
    Remove(Target<'a>),
    RemoveFirst(Target<'a>),
    Replace(Target<'a>, Cow<'a, str>),
}

/// Edits of a [`Request`] or [`Response`]; see [`Request::edit`] and [`Response::edit`].
#[derive(Debug, Clone)]
#[must_use]
pub struct Edit<'a, M> {
    source: &'a super::Headers,
    start_line: Cow<'a, str>,
    body: &'a [u8],
    front: Vec<(Cow<'a, str>, Cow<'a, str>)>,
    back: Vec<(Cow<'a, str>, Cow<'a, str>)>,
    ops: Vec<Op<'a>>,
    new_body: Option<(Option<Cow<'a, str>>, Bytes)>,
    kind: PhantomData<M>,
}

impl Request {
    /// Starts an edited copy of this request.
    pub fn edit(&self) -> Edit<'_, Self> {
        Edit::new(
            self.headers(),
            Cow::Borrowed(self.start_line()),
            self.body(),
        )
    }
}

impl Response {
    /// Starts an edited copy of this response.
    pub fn edit(&self) -> Edit<'_, Self> {
        Edit::new(
            self.headers(),
            Cow::Borrowed(self.start_line()),
            self.body(),
        )
    }
}

impl<'a> Edit<'a, Request> {
    /// Replaces the Request-URI.
    pub fn uri(mut self, uri: &str) -> Self {
        let line = self.start_line.as_ref();
        let method_end = line.find(' ').unwrap_or(line.len());
        self.start_line = Cow::Owned(format!("{} {uri} SIP/2.0", &line[..method_end]));
        self
    }
    /// Parses the edited request.
    pub fn build(self) -> Result<Request, ParseError> {
        match parse_message(self.to_bytes())? {
            Message::Request(r) => Ok(*r),
            Message::Response(_) => Err(ParseError::BadStartLine { offset: 0 }),
        }
    }
}

impl Edit<'_, Response> {
    /// Parses the edited response.
    pub fn build(self) -> Result<Response, ParseError> {
        match parse_message(self.to_bytes())? {
            Message::Response(r) => Ok(*r),
            Message::Request(_) => Err(ParseError::BadStartLine { offset: 0 }),
        }
    }
}

impl<'a, M> Edit<'a, M> {
    fn new(source: &'a super::Headers, start_line: Cow<'a, str>, body: &'a [u8]) -> Self {
        Edit {
            source,
            start_line,
            body,
            front: Vec::new(),
            back: Vec::new(),
            ops: Vec::new(),
            new_body: None,
            kind: PhantomData,
        }
    }
    /// Adds a header line before all others (e.g. a new top Via).
    pub fn push_front(
        mut self,
        name: impl Into<Cow<'a, str>>,
        value: impl Into<Cow<'a, str>>,
    ) -> Self {
        self.front.push((name.into(), value.into()));
        self
    }
    /// Adds a header line after all others.
    pub fn push_back(
        mut self,
        name: impl Into<Cow<'a, str>>,
        value: impl Into<Cow<'a, str>>,
    ) -> Self {
        self.back.push((name.into(), value.into()));
        self
    }
    /// Removes every line with this name.
    pub fn remove(mut self, name: impl Into<Cow<'a, str>>) -> Self {
        self.ops.push(Op::Remove(Target::new(name.into())));
        self
    }
    /// Removes the first line with this name (e.g. the top Via or Route).
    pub fn remove_first(mut self, name: impl Into<Cow<'a, str>>) -> Self {
        self.ops.push(Op::RemoveFirst(Target::new(name.into())));
        self
    }
    /// Replaces every line with this name by one line at the first one's place (appended when
    /// absent).
    pub fn replace(
        mut self,
        name: impl Into<Cow<'a, str>>,
        value: impl Into<Cow<'a, str>>,
    ) -> Self {
        self.ops
            .push(Op::Replace(Target::new(name.into()), value.into()));
        self
    }
    /// Replaces the body; `Some(content_type)` also replaces Content-Type, `None` removes it.
    pub fn body(mut self, content_type: Option<&'a str>, body: Bytes) -> Self {
        self.new_body = Some((content_type.map(Cow::Borrowed), body));
        self
    }

    /// Serialises the edited message.
    pub fn to_bytes(&self) -> Bytes {
        let buf = self.source.buf();
        let raw = |s: u32, e: u32| buf.get(s as usize..e as usize).unwrap_or_default();
        let body: &[u8] = self.new_body.as_ref().map_or(self.body, |(_, b)| b);
        let mut out = BytesMut::with_capacity(buf.len() + 128 + body.len());
        let line = |out: &mut BytesMut, name: &[u8], value: &[u8]| {
            out.put_slice(name);
            out.put_slice(b": ");
            out.put_slice(value);
            out.put_slice(b"\r\n");
        };
        out.put_slice(self.start_line.as_bytes());
        out.put_slice(b"\r\n");
        for (n, v) in &self.front {
            line(&mut out, n.as_bytes(), v.as_bytes());
        }
        let mut first_removed = vec![false; self.ops.len()];
        let mut replaced = vec![false; self.ops.len()];
        for e in self.source.entries() {
            if e.name == HeaderName::ContentLength
                || (e.name == HeaderName::ContentType && self.new_body.is_some())
            {
                continue;
            }
            let mut keep = true;
            for (i, op) in self.ops.iter().enumerate() {
                match op {
                    Op::Remove(t) if t.matches(e, buf) => keep = false,
                    Op::RemoveFirst(t) if !first_removed[i] && t.matches(e, buf) => {
                        first_removed[i] = true;
                        keep = false;
                    }
                    Op::Replace(t, v) if t.matches(e, buf) => {
                        if !replaced[i] {
                            replaced[i] = true;
                            line(&mut out, raw(e.name_start, e.name_end), v.as_bytes());
                        }
                        keep = false;
                    }
                    Op::Remove(_) | Op::RemoveFirst(_) | Op::Replace(..) => {}
                }
                if !keep {
                    break;
                }
            }
            if keep {
                line(
                    &mut out,
                    raw(e.name_start, e.name_end),
                    raw(e.value_start, e.value_end),
                );
            }
        }
        for (i, op) in self.ops.iter().enumerate() {
            if let (Op::Replace(t, v), false) = (op, replaced[i]) {
                line(&mut out, t.text.as_bytes(), v.as_bytes());
            }
        }
        for (n, v) in &self.back {
            line(&mut out, n.as_bytes(), v.as_bytes());
        }
        if let Some((Some(ct), _)) = &self.new_body {
            line(&mut out, b"Content-Type", ct.as_bytes());
        }
        line(
            &mut out,
            b"Content-Length",
            body.len().to_string().as_bytes(),
        );
        out.put_slice(b"\r\n");
        out.put_slice(body);
        out.freeze()
    }
}

#[cfg(test)]
mod tests;
