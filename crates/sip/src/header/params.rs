//! `;name[=value]` parameter lists, both header parameters (RFC 3261 §7.3.1 `generic-param`,
//! LWS allowed around `;` and `=`, quoted values) and URI parameters (§19.1.1, no LWS).
//!
//! A [`Params`] keeps the raw text and is validated once when built; lookups rescan it, which
//! is cheaper than collecting a handful of parameters into a map.

use crate::parse::scan::{
    byte_class, is_lws, is_token, is_token_char, quoted_end, skip_lws, strip_quotes, sub,
};
use crate::uri::escape;

/// The raw parameter text of a header or URI, starting at its first `;` (or empty).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Params<'a> {
    raw: &'a str,
}

/// One parameter: its name and raw value (quotes kept), `None` for a bare flag like `lr`.
pub type Param<'a> = (&'a str, Option<&'a str>);

impl<'a> Params<'a> {
    /// An empty list.
    pub const EMPTY: Params<'static> = Params { raw: "" };

    /// Validates header parameters: token names, values that are tokens, hosts or quoted
    /// strings. `Err` carries the offset of the fault within `raw`.
    pub fn parse_header(raw: &'a str) -> Result<Self, usize> {
        check(raw, true, [])?;
        Ok(Params { raw })
    }

    /// [`Params::parse_header`], also returning what [`Params::get`] would for each name in
    /// `wanted`, found during the validating pass: values read on every access (Via
    /// `branch`, `rport` and `received`, a `tag`) then cost no second scan.
    pub(crate) fn parse_header_find<const N: usize>(
        raw: &'a str,
        wanted: [&str; N],
    ) -> Result<(Self, [Option<&'a str>; N]), usize> {
        let found = check(raw, true, wanted)?;
        Ok((Params { raw }, found))
    }

    /// Parameters already validated by one of the parsers above (kept by a parsed value).
    pub(crate) fn checked(raw: &'a str) -> Self {
        Params { raw }
    }

    /// Validates URI parameters: `paramchar` names and values with `%HH` escapes, no LWS.
    pub(crate) fn parse_uri(raw: &'a str) -> Result<Self, usize> {
        check(raw, false, [])?;
        Ok(Params { raw })
    }

    /// The raw text, starting with `;` unless empty.
    pub fn as_str(&self) -> &'a str {
        self.raw
    }

    /// True when there is no parameter.
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// Iterates over the parameters in order.
    pub fn iter(&self) -> ParamIter<'a> {
        ParamIter { s: self.raw, i: 0 }
    }

    /// The value of the first parameter named `name` (ASCII case-insensitive), with surrounding
    /// quotes removed; `Some("")` for a flag without value.
    pub fn get(&self, name: &str) -> Option<&'a str> {
        self.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.map(strip_quotes).unwrap_or(""))
    }

    /// The raw value (quotes kept) of the first parameter named `name`; `Some(None)` for a flag.
    pub fn get_raw(&self, name: &str) -> Option<Option<&'a str>> {
        self.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// True when a parameter named `name` is present.
    pub fn contains(&self, name: &str) -> bool {
        self.iter().any(|(n, _)| n.eq_ignore_ascii_case(name))
    }
}

impl<'a> crate::spans::Rebase<'a> for Params<'a> {
    type Spans = crate::spans::Span;
    fn spans(&self, base: &str) -> Self::Spans {
        crate::spans::Span::of(base, self.raw)
    }
    fn rebuild(base: &'a str, spans: &Self::Spans) -> Self {
        Params {
            raw: spans.get(base),
        }
    }
}

impl<'a> IntoIterator for Params<'a> {
    type Item = Param<'a>;
    type IntoIter = ParamIter<'a>;
    fn into_iter(self) -> ParamIter<'a> {
        self.iter()
    }
}

/// Iterator over a [`Params`].
#[derive(Debug, Clone)]
pub struct ParamIter<'a> {
    s: &'a str,
    i: usize,
}

/// Bytes that end a name or unquoted value: separators and LWS (a table, as this loop runs
/// over every parameter of every Via, From, To and Contact).
static WORD_STOP: [bool; 256] = byte_class(false, b" \t\r\n;=,?\"");

/// End of a name or unquoted value: stops at separators and LWS.
#[inline]
fn word_end(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && !WORD_STOP[b[i] as usize] {
        i += 1;
    }
    i
}

/// Byte ranges of one parameter found by [`step`].
struct Found {
    ns: usize,
    ne: usize,
    value: Option<(usize, usize)>,
    next: usize,
}

/// One step of the scanner: from `i` (at or before a `;`) to the parameter after it;
/// `Err(offset)` on a syntax fault.
fn step(b: &[u8], i: usize) -> Result<Option<Found>, usize> {
    let i = skip_lws(b, i);
    if i >= b.len() {
        return Ok(None);
    }
    if b[i] != b';' {
        return Err(i);
    }
    let ns = skip_lws(b, i + 1);
    let ne = word_end(b, ns);
    if ne == ns {
        return Err(ns);
    }
    let j = skip_lws(b, ne);
    if j < b.len() && b[j] == b'=' {
        let vs = skip_lws(b, j + 1);
        let ve = if vs < b.len() && b[vs] == b'"' {
            quoted_end(b, vs).ok_or(vs)?
        } else {
            word_end(b, vs)
        };
        if ve == vs {
            return Err(vs);
        }
        return Ok(Some(Found {
            ns,
            ne,
            value: Some((vs, ve)),
            next: ve,
        }));
    }
    Ok(Some(Found {
        ns,
        ne,
        value: None,
        next: ne,
    }))
}

/// Validates `raw`; returns the values [`Params::get`] gives for each name in `wanted`.
fn check<'s, const N: usize>(
    raw: &'s str,
    header: bool,
    wanted: [&str; N],
) -> Result<[Option<&'s str>; N], usize> {
    let b = raw.as_bytes();
    if !header {
        // URI parameters admit no LWS at all (RFC 4475 §3.1.2.8).
        if let Some(ws) = b.iter().position(|&c| is_lws(c)) {
            return Err(ws);
        }
    }
    let mut found = [None; N];
    let mut i = 0;
    while let Some(Found {
        ns,
        ne,
        value,
        next,
    }) = step(b, i)?
    {
        let name = sub(raw, ns, ne);
        if header {
            if !is_token(name.as_bytes()) {
                return Err(ns);
            }
            if let Some((vs, ve)) = value {
                let v = &b[vs..ve];
                let ok = v.first() == Some(&b'"')
                    || v.iter()
                        .all(|&c| is_token_char(c) || matches!(c, b':' | b'[' | b']'));
                if !ok {
                    return Err(vs);
                }
            }
        } else {
            escape::check(name, escape::is_param_char).map_err(|(o, _)| ns + o)?;
            if let Some((vs, ve)) = value {
                escape::check(sub(raw, vs, ve), escape::is_param_char).map_err(|(o, _)| vs + o)?;
            }
        }
        for (slot, want) in found.iter_mut().zip(wanted) {
            if slot.is_none() && name.eq_ignore_ascii_case(want) {
                *slot = Some(value.map_or("", |(vs, ve)| strip_quotes(sub(raw, vs, ve))));
            }
        }
        i = next;
    }
    Ok(found)
}

impl<'a> Iterator for ParamIter<'a> {
    type Item = Param<'a>;

    fn next(&mut self) -> Option<Param<'a>> {
        // Validated on construction, so a fault here only ends the iteration.
        let Found {
            ns,
            ne,
            value,
            next,
        } = step(self.s.as_bytes(), self.i).ok()??;
        self.i = next;
        Some((
            sub(self.s, ns, ne),
            value.map(|(vs, ve)| sub(self.s, vs, ve)),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3261_7_3_1_header_params_with_lws_and_quotes() {
        let raw = " ; newparam =\r\n      newvalue ;\r\n  secondparam ; q = 0.33";
        let p = Params::parse_header(raw).unwrap();
        let all: Vec<Param<'_>> = p.iter().collect();
        assert_eq!(
            all,
            vec![
                ("newparam", Some("newvalue")),
                ("secondparam", None),
                ("q", Some("0.33"))
            ]
        );
        assert_eq!(p.get("Q"), Some("0.33"));
        assert_eq!(p.get("secondparam"), Some(""));
        assert_eq!(p.get("absent"), None);
    }

    #[test]
    fn rfc3261_7_3_1_header_param_table() {
        let cases: [(&str, Result<usize, usize>); 9] = [
            ("", Ok(0)),
            (";tag=1918181833n", Ok(1)),
            (
                ";+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>\";reg-id=1",
                Ok(2),
            ),
            (";received=2001:db8::9:1;rport", Ok(2)),
            (";;", Err(1)),
            (";a=", Err(3)),
            (";a=\"open", Err(3)),
            ("x", Err(0)),
            (";a=b c", Err(5)),
        ];
        for (raw, want) in cases {
            let got = Params::parse_header(raw).map(|p| p.iter().count());
            assert_eq!(got, want, "{raw:?}");
        }
    }

    #[test]
    fn rfc3261_19_1_1_uri_params_allow_escapes_but_no_lws() {
        let ok = Params::parse_uri(";%6C%72;n%61me=v%61lue%25%34%31;transport=tcp").unwrap();
        assert_eq!(ok.iter().count(), 3);
        assert_eq!(ok.get("transport"), Some("tcp"));
        for bad in ["; lr", ";lr ", ";a= b", ";a=\"q\"", ";a=%zz", ";;"] {
            assert!(Params::parse_uri(bad).is_err(), "{bad:?}");
        }
    }
}
