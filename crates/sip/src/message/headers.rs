//! The header section of a message: (name, value) byte ranges into the message buffer, in
//! wire order, with lookups and typed accessors that parse on demand.

use bytes::Bytes;

use super::HeaderName;
use crate::header::{
    parse_call_id, parse_content_length, parse_delta_seconds, parse_max_forwards, CSeq, Contact,
    Event, MediaType, NameAddr, Via,
};
use crate::parse::scan::{split_list, ListItems};
use crate::parse::ParseError;

/// Where one header line sits in the buffer. Offsets are `u32`: messages are far below 4 GiB.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry {
    pub(crate) name: HeaderName,
    pub(crate) name_start: u32,
    pub(crate) name_end: u32,
    pub(crate) value_start: u32,
    pub(crate) value_end: u32,
}

/// All header lines of a message, in order, sharing the message's buffer.
#[derive(Debug, Clone)]
pub struct Headers {
    buf: Bytes,
    entries: Vec<Entry>,
    /// Every byte of `buf[..ascii_end]` is ASCII (checked once, when built; `Bytes` never
    /// changes), so header text there needs no UTF-8 validation on each access. 0 when the
    /// header section holds any other byte: then every access validates.
    ascii_end: u32,
}

/// `b` as text, validated unless it lies in the ASCII-checked header section.
fn text(b: &[u8], ascii: bool) -> Result<&str, std::str::Utf8Error> {
    if ascii {
        debug_assert!(b.is_ascii());
        // SAFETY: `ascii` is only true for slices within `Headers::ascii_end`, all of whose
        // bytes were checked to be ASCII; ASCII is valid UTF-8.
        Ok(unsafe { std::str::from_utf8_unchecked(b) })
    } else {
        std::str::from_utf8(b)
    }
}

/// One header line: its classified name, the name as written and the raw value (folding
/// kept, surrounding LWS removed).
#[derive(Debug, Clone, Copy)]
pub struct Header<'a> {
    name: HeaderName,
    raw_name: &'a [u8],
    value: &'a [u8],
    offset: usize,
    /// Name and value lie in the ASCII-checked part of the message.
    ascii: bool,
}

impl<'a> Header<'a> {
    /// The classified name.
    pub fn name(&self) -> HeaderName {
        self.name
    }
    /// The name as written (`v`, `MaX-fOrWaRdS`, `NewFangledHeader`).
    pub fn raw_name(&self) -> &'a str {
        // Names are tokens, hence ASCII.
        text(self.raw_name, self.ascii).unwrap_or_default()
    }
    /// The raw value bytes.
    pub fn value(&self) -> &'a [u8] {
        self.value
    }
    /// The value as text; [`ParseError::BadHeader`] when it is not UTF-8.
    pub fn value_str(&self) -> Result<&'a str, ParseError> {
        text(self.value, self.ascii).map_err(|e| ParseError::BadHeader {
            name: self.name,
            offset: self.offset + e.valid_up_to(),
        })
    }
    /// Byte offset of the value within the message.
    pub fn offset(&self) -> usize {
        self.offset
    }
}

fn offset_in(outer: &str, inner: &str) -> usize {
    (inner.as_ptr() as usize).wrapping_sub(outer.as_ptr() as usize)
}

impl Headers {
    pub(crate) fn new(buf: Bytes, entries: Vec<Entry>) -> Self {
        // Lines are in wire order, so the last one ends the header section. One `is_ascii`
        // pass (a word at a time) replaces a UTF-8 validation per header access.
        let end = entries.last().map_or(0, |e| e.value_end as usize);
        let ascii = buf.get(..end).is_some_and(<[u8]>::is_ascii);
        Self {
            buf,
            entries,
            ascii_end: if ascii { end as u32 } else { 0 },
        }
    }

    /// True when `buf[..end]` is known to be ASCII.
    fn is_ascii_up_to(&self, end: u32) -> bool {
        end <= self.ascii_end
    }

    pub(crate) fn buf(&self) -> &Bytes {
        &self.buf
    }

    pub(crate) fn into_buf(self) -> Bytes {
        self.buf
    }

    pub(crate) fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Index of the first line with this name.
    pub(crate) fn position(&self, name: HeaderName) -> Option<usize> {
        self.entries.iter().position(|e| e.name == name)
    }

    /// The value of line `index` as text, if it is UTF-8.
    pub(crate) fn value_str_at(&self, index: usize) -> Option<&str> {
        let e = self.entries.get(index)?;
        let bytes = self.buf.get(e.value_start as usize..e.value_end as usize)?;
        text(bytes, self.is_ascii_up_to(e.value_end)).ok()
    }

    fn header(&self, e: &Entry) -> Header<'_> {
        let b = &self.buf[..];
        Header {
            name: e.name,
            raw_name: b
                .get(e.name_start as usize..e.name_end as usize)
                .unwrap_or_default(),
            value: b
                .get(e.value_start as usize..e.value_end as usize)
                .unwrap_or_default(),
            offset: e.value_start as usize,
            ascii: self.is_ascii_up_to(e.value_end.max(e.name_end)),
        }
    }

    /// Number of header lines.
    pub fn len(&self) -> usize {
        self.entries.len()
    }
    /// True when there is no header line.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
    /// All header lines in wire order.
    pub fn iter(&self) -> impl Iterator<Item = Header<'_>> + '_ {
        self.entries.iter().map(|e| self.header(e))
    }
    /// The first line with this name.
    pub fn get(&self, name: HeaderName) -> Option<Header<'_>> {
        self.entries
            .iter()
            .find(|e| e.name == name)
            .map(|e| self.header(e))
    }
    /// Every line with this name, in order.
    pub fn get_all(&self, name: HeaderName) -> impl Iterator<Item = Header<'_>> + '_ {
        self.entries
            .iter()
            .filter(move |e| e.name == name)
            .map(|e| self.header(e))
    }
    /// Every line whose name matches `name` case-insensitively; known names match their
    /// compact form too, unknown names compare as written.
    pub fn get_named<'s>(&'s self, name: &'s str) -> impl Iterator<Item = Header<'s>> + 's {
        let known = HeaderName::from_bytes(name.as_bytes());
        self.iter().filter(move |h| match known {
            HeaderName::Other => {
                h.name == HeaderName::Other && h.raw_name.eq_ignore_ascii_case(name.as_bytes())
            }
            k => h.name == k,
        })
    }
    /// True when a line with this name is present.
    pub fn contains(&self, name: HeaderName) -> bool {
        self.entries.iter().any(|e| e.name == name)
    }
    /// The raw value of the first line with this name, shared with the message buffer (for
    /// copying into another message without allocating).
    pub fn value_bytes(&self, name: HeaderName) -> Option<Bytes> {
        let e = self.entries.iter().find(|e| e.name == name)?;
        Some(self.buf.slice(e.value_start as usize..e.value_end as usize))
    }

    /// The elements of every line with this name, split at top-level commas when the header
    /// is a list ([`HeaderName::is_list`]), each with its offset in the message.
    pub fn elements(&self, name: HeaderName) -> Elements<'_> {
        Elements {
            headers: self,
            name,
            next: 0,
            current: None,
        }
    }

    /// The elements of every line with this name as text; lines that are not UTF-8 are
    /// skipped (use [`Headers::elements`] to see them as errors).
    pub fn values(&self, name: HeaderName) -> impl Iterator<Item = &str> + '_ {
        self.elements(name).filter_map(|r| r.ok().map(|(s, _)| s))
    }

    fn typed<'s, T>(
        &'s self,
        name: HeaderName,
        parse: impl Fn(&'s str) -> Result<T, usize> + 's,
    ) -> impl Iterator<Item = Result<T, ParseError>> + 's {
        self.elements(name).map(move |r| {
            let (s, at) = r?;
            parse(s).map_err(|o| ParseError::BadHeader {
                name,
                offset: at + o,
            })
        })
    }

    fn single_typed<'s, T>(
        &'s self,
        name: HeaderName,
        parse: impl Fn(&'s str) -> Result<T, usize>,
    ) -> Result<Option<T>, ParseError> {
        Ok(self.single_line(name, parse)?.map(|(_, _, v)| v))
    }

    /// The first line named `name`: its index, its value as text and that value parsed (the
    /// parser keeps all three, so it need not find and validate the line again).
    pub(crate) fn single_line<'s, T>(
        &'s self,
        name: HeaderName,
        parse: impl Fn(&'s str) -> Result<T, usize>,
    ) -> Result<Option<(usize, &'s str, T)>, ParseError> {
        let Some(index) = self.position(name) else {
            return Ok(None);
        };
        let h = self.header(&self.entries[index]);
        let text = h.value_str()?;
        let value = parse(text).map_err(|o| ParseError::BadHeader {
            name,
            offset: h.offset + o,
        })?;
        Ok(Some((index, text, value)))
    }

    fn required<T>(
        &self,
        name: HeaderName,
        v: Result<Option<T>, ParseError>,
    ) -> Result<T, ParseError> {
        v?.ok_or(ParseError::MissingHeader { name })
    }

    /// Every Via element, topmost first.
    pub fn vias(&self) -> impl Iterator<Item = Result<Via<'_>, ParseError>> + '_ {
        self.typed(HeaderName::Via, Via::parse)
    }
    /// The topmost Via (the one a server answers to and matches transactions on).
    pub fn via(&self) -> Result<Via<'_>, ParseError> {
        self.vias().next().unwrap_or(Err(ParseError::MissingHeader {
            name: HeaderName::Via,
        }))
    }
    /// From.
    pub fn from(&self) -> Result<NameAddr<'_>, ParseError> {
        self.required(
            HeaderName::From,
            self.single_typed(HeaderName::From, NameAddr::parse),
        )
    }
    /// To.
    pub fn to(&self) -> Result<NameAddr<'_>, ParseError> {
        self.required(
            HeaderName::To,
            self.single_typed(HeaderName::To, NameAddr::parse),
        )
    }
    /// Call-ID without surrounding LWS.
    pub fn call_id(&self) -> Result<&str, ParseError> {
        self.required(
            HeaderName::CallId,
            self.single_typed(HeaderName::CallId, parse_call_id),
        )
    }
    /// CSeq; an extension method shares the message buffer.
    pub fn cseq(&self) -> Result<CSeq, ParseError> {
        let name = HeaderName::CSeq;
        let e = self.entries.iter().find(|e| e.name == name);
        let e = e.ok_or(ParseError::MissingHeader { name })?;
        let value = self.header(e).value_str()?;
        CSeq::parse_in(&self.buf, e.value_start as usize, value).map_err(|o| {
            ParseError::BadHeader {
                name,
                offset: e.value_start as usize + o,
            }
        })
    }
    /// Every Contact element (`*` or an address).
    pub fn contacts(&self) -> impl Iterator<Item = Result<Contact<'_>, ParseError>> + '_ {
        self.typed(HeaderName::Contact, Contact::parse)
    }
    /// Route elements, topmost first.
    pub fn routes(&self) -> impl Iterator<Item = Result<NameAddr<'_>, ParseError>> + '_ {
        self.typed(HeaderName::Route, NameAddr::parse)
    }
    /// Record-Route elements, topmost first.
    pub fn record_routes(&self) -> impl Iterator<Item = Result<NameAddr<'_>, ParseError>> + '_ {
        self.typed(HeaderName::RecordRoute, NameAddr::parse)
    }
    /// Path elements (RFC 3327).
    pub fn paths(&self) -> impl Iterator<Item = Result<NameAddr<'_>, ParseError>> + '_ {
        self.typed(HeaderName::Path, NameAddr::parse)
    }
    /// Expires in seconds.
    pub fn expires(&self) -> Result<Option<u32>, ParseError> {
        self.single_typed(HeaderName::Expires, parse_delta_seconds)
    }
    /// Min-Expires in seconds.
    pub fn min_expires(&self) -> Result<Option<u32>, ParseError> {
        self.single_typed(HeaderName::MinExpires, parse_delta_seconds)
    }
    /// Max-Forwards (0..=255).
    pub fn max_forwards(&self) -> Result<Option<u8>, ParseError> {
        self.single_typed(HeaderName::MaxForwards, parse_max_forwards)
    }
    /// Content-Length as written.
    pub fn content_length(&self) -> Result<Option<u32>, ParseError> {
        self.single_typed(HeaderName::ContentLength, parse_content_length)
    }
    /// Content-Type.
    pub fn content_type(&self) -> Result<Option<MediaType<'_>>, ParseError> {
        self.single_typed(HeaderName::ContentType, MediaType::parse)
    }
    /// Event (RFC 6665).
    pub fn event(&self) -> Result<Option<Event<'_>>, ParseError> {
        self.single_typed(HeaderName::Event, Event::parse)
    }
    /// Option tags in Require (empty elements skipped).
    pub fn require(&self) -> impl Iterator<Item = &str> + '_ {
        self.values(HeaderName::Require).filter(|s| !s.is_empty())
    }
    /// Option tags in Proxy-Require.
    pub fn proxy_require(&self) -> impl Iterator<Item = &str> + '_ {
        self.values(HeaderName::ProxyRequire)
            .filter(|s| !s.is_empty())
    }
    /// Option tags in Supported.
    pub fn supported(&self) -> impl Iterator<Item = &str> + '_ {
        self.values(HeaderName::Supported).filter(|s| !s.is_empty())
    }
    /// Raw Authorization values, one per line (commas belong to the credentials).
    pub fn authorizations(&self) -> impl Iterator<Item = &str> + '_ {
        self.values(HeaderName::Authorization)
    }
    /// Raw Proxy-Authorization values.
    pub fn proxy_authorizations(&self) -> impl Iterator<Item = &str> + '_ {
        self.values(HeaderName::ProxyAuthorization)
    }
    /// Raw WWW-Authenticate values.
    pub fn www_authenticates(&self) -> impl Iterator<Item = &str> + '_ {
        self.values(HeaderName::WwwAuthenticate)
    }
    /// Raw Proxy-Authenticate values.
    pub fn proxy_authenticates(&self) -> impl Iterator<Item = &str> + '_ {
        self.values(HeaderName::ProxyAuthenticate)
    }
}

/// Iterator returned by [`Headers::elements`]: `(text, offset in the message)`.
#[derive(Debug, Clone)]
pub struct Elements<'a> {
    headers: &'a Headers,
    name: HeaderName,
    next: usize,
    current: Option<(ListItems<'a>, &'a str, usize)>,
}

impl<'a> Iterator for Elements<'a> {
    type Item = Result<(&'a str, usize), ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some((items, whole, at)) = &mut self.current {
                if let Some(item) = items.next() {
                    return Some(Ok((item, *at + offset_in(whole, item))));
                }
                self.current = None;
            }
            let entries = self.headers.entries();
            let idx = self.next
                + entries[self.next..]
                    .iter()
                    .position(|e| e.name == self.name)?;
            self.next = idx + 1;
            let h = self.headers.header(&entries[idx]);
            let value = match h.value_str() {
                Ok(v) => v,
                Err(e) => return Some(Err(e)),
            };
            // An empty list value is still one (empty) element, so typed parsers can refuse it.
            if self.name.is_list() && !value.is_empty() {
                self.current = Some((split_list(value), value, h.offset));
            } else {
                return Some(Ok((value, h.offset)));
            }
        }
    }
}
