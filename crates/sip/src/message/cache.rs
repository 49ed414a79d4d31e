//! The top Via, From and To of a parsed message, kept as spans into their header lines:
//! the parser parses them anyway to check the message, and every layer after it (transport,
//! transaction matching, dispatch, registrar, response building) reads them again, so they
//! are rebuilt from offsets instead of parsed each time. Messages are immutable (an edit
//! makes a new, re-parsed message), so the spans never go stale.

use super::{HeaderName, Headers};
use crate::header::{NameAddr, NameAddrSpans, Via, ViaSpans};
use crate::spans::{Rebase, Span};

/// One parsed header: the index of its line and its spans within that line's value.
#[derive(Debug, Clone, Copy)]
struct At<S> {
    line: usize,
    spans: S,
}

/// Parsed top Via, From, To and Call-ID of one message.
#[derive(Debug, Clone)]
pub(crate) struct Cached {
    call_id: At<Span>,
    via: At<ViaSpans>,
    from: At<NameAddrSpans>,
    to: At<NameAddrSpans>,
}

impl Cached {
    /// Records the Call-ID, the top Via element, From and To, each given as the index of
    /// its line, that line's value and what was parsed from it. `None` when the top Via's
    /// line cannot be found again (then nothing is cached).
    pub(crate) fn new(
        headers: &Headers,
        call_id: Line<'_, &str>,
        via: &Via<'_>,
        from: Line<'_, NameAddr<'_>>,
        to: Line<'_, NameAddr<'_>>,
    ) -> Option<Self> {
        let via_line = headers.position(HeaderName::Via)?;
        let via_base = headers.value_str_at(via_line)?;
        Some(Self {
            call_id: at(call_id),
            via: At {
                line: via_line,
                spans: via.spans(via_base),
            },
            from: at(from),
            to: at(to),
        })
    }

    /// Call-ID without surrounding LWS.
    pub(crate) fn call_id<'h>(&self, headers: &'h Headers) -> Option<&'h str> {
        rebuild(headers, &self.call_id)
    }

    /// The top Via.
    pub(crate) fn via<'h>(&self, headers: &'h Headers) -> Option<Via<'h>> {
        rebuild(headers, &self.via)
    }

    /// From.
    pub(crate) fn from<'h>(&self, headers: &'h Headers) -> Option<NameAddr<'h>> {
        rebuild(headers, &self.from)
    }

    /// To.
    pub(crate) fn to<'h>(&self, headers: &'h Headers) -> Option<NameAddr<'h>> {
        rebuild(headers, &self.to)
    }
}

/// A header line's index, its value, and a value parsed from it.
pub(crate) type Line<'h, T> = (usize, &'h str, T);

fn at<'h, T: Rebase<'h>>((line, base, value): Line<'h, T>) -> At<T::Spans> {
    At {
        line,
        spans: value.spans(base),
    }
}

fn rebuild<'h, T: Rebase<'h>>(headers: &'h Headers, at: &At<T::Spans>) -> Option<T> {
    let base = headers.value_str_at(at.line)?;
    Some(T::rebuild(base, &at.spans))
}
