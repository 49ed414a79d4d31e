//! The top Via, From and To of a parsed message, kept as spans into their header lines:
//! the parser parses them anyway to check the message, and every layer after it (transport,
//! transaction matching, dispatch, registrar, response building) reads them again, so they
//! are rebuilt from offsets instead of parsed each time. Messages are immutable (an edit
//! makes a new, re-parsed message), so the spans never go stale.

use super::{HeaderName, Headers};
use crate::header::{NameAddr, NameAddrSpans, Via, ViaSpans};
use crate::spans::Rebase;

/// One parsed header: the index of its line and its spans within that line's value.
#[derive(Debug, Clone, Copy)]
struct At<S> {
    line: usize,
    spans: S,
}

/// Parsed top Via, From and To of one message.
#[derive(Debug, Clone)]
pub(crate) struct Cached {
    via: At<ViaSpans>,
    from: At<NameAddrSpans>,
    to: At<NameAddrSpans>,
}

impl Cached {
    /// Records `via` (the top Via element), `from` and `to`, each parsed from `headers`'
    /// first line of its name. `None` when a line is missing (then nothing is cached).
    pub(crate) fn new(
        headers: &Headers,
        via: &Via<'_>,
        from: &NameAddr<'_>,
        to: &NameAddr<'_>,
    ) -> Option<Self> {
        Some(Self {
            via: at(headers, HeaderName::Via, via)?,
            from: at(headers, HeaderName::From, from)?,
            to: at(headers, HeaderName::To, to)?,
        })
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

fn at<'h, T: Rebase<'h>>(
    headers: &'h Headers,
    name: HeaderName,
    value: &T,
) -> Option<At<T::Spans>> {
    let line = headers.position(name)?;
    let base = headers.value_str_at(line)?;
    Some(At {
        line,
        spans: value.spans(base),
    })
}

fn rebuild<'h, T: Rebase<'h>>(headers: &'h Headers, at: &At<T::Spans>) -> Option<T> {
    let base = headers.value_str_at(at.line)?;
    Some(T::rebuild(base, &at.spans))
}
