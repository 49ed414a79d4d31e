//! Splitting the header section into lines: `name HCOLON value CRLF`, with folded
//! continuation lines (`CRLF 1*WSP`, RFC 3261 §7.3.1) kept inside the value. Bare LF line
//! ends are accepted as well.

use super::scan::{is_lws, is_wsp, token_end};
use super::ParseError;

/// One header line: name range and value range (LWS trimmed) in the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RawLine {
    pub(crate) name: (usize, usize),
    pub(crate) value: (usize, usize),
}

/// What follows at a position in the header section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// A header line and the position after it.
    Line(RawLine, usize),
    /// The empty line (or the end of the buffer); the body starts here.
    End(usize),
}

/// End of the logical line starting at `from`: `(text end, next line start)`; continuation
/// lines are part of it. Without a final line break the text runs to the end of `b`.
pub(crate) fn logical_line_end(b: &[u8], from: usize) -> (usize, usize) {
    let mut k = from;
    loop {
        let Some(n) = b.get(k..).and_then(|rest| memchr::memchr(b'\n', rest)) else {
            return (b.len(), b.len());
        };
        let nl = k + n;
        if b.get(nl + 1).is_some_and(|&c| is_wsp(c)) {
            k = nl + 1;
            continue;
        }
        let end = if nl > from && b[nl - 1] == b'\r' {
            nl - 1
        } else {
            nl
        };
        return (end, nl + 1);
    }
}

/// End of the first physical line (the start line, which never folds): `(text end, next
/// line start)`.
pub(crate) fn first_line_end(b: &[u8]) -> (usize, usize) {
    match memchr::memchr(b'\n', b) {
        Some(nl) if nl > 0 && b[nl - 1] == b'\r' => (nl - 1, nl + 1),
        Some(nl) => (nl, nl + 1),
        None => (b.len(), b.len()),
    }
}

/// Reads the header line at `pos`.
pub(crate) fn next_line(b: &[u8], pos: usize) -> Result<Step, ParseError> {
    match b.get(pos..) {
        None | Some([]) | Some([b'\n', ..]) | Some([b'\r']) => {
            return Ok(Step::End((pos + 1).min(b.len())));
        }
        Some([b'\r', b'\n', ..]) => return Ok(Step::End(pos + 2)),
        Some(_) => {}
    }
    let name_end = token_end(b, pos);
    if name_end == pos {
        return Err(ParseError::BadHeaderLine { offset: pos });
    }
    let mut colon = name_end;
    while colon < b.len() && is_wsp(b[colon]) {
        colon += 1;
    }
    if b.get(colon) != Some(&b':') {
        return Err(ParseError::BadHeaderLine { offset: pos });
    }
    let (end, next) = logical_line_end(b, colon + 1);
    let mut vs = colon + 1;
    while vs < end && is_lws(b[vs]) {
        vs += 1;
    }
    let mut ve = end;
    while ve > vs && is_lws(b[ve - 1]) {
        ve -= 1;
    }
    Ok(Step::Line(
        RawLine {
            name: (pos, name_end),
            value: (vs, ve),
        },
        next,
    ))
}

/// Offset just past the empty line ending the header section that starts at `from`, if the
/// buffer holds it (CRLF CRLF, or bare LF line ends).
pub(crate) fn find_head_end(b: &[u8], from: usize) -> Option<usize> {
    let mut k = from;
    while let Some(n) = memchr::memchr(b'\n', b.get(k..)?) {
        let nl = k + n;
        match b.get(nl + 1..) {
            Some([b'\n', ..]) => return Some(nl + 2),
            Some([b'\r', b'\n', ..]) => return Some(nl + 3),
            _ => k = nl + 1,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (name, value) pairs and the body offset.
    type Lines<'a> = (Vec<(&'a str, &'a str)>, usize);

    fn lines(text: &str) -> Result<Lines<'_>, ParseError> {
        let b = text.as_bytes();
        let mut out = Vec::new();
        let mut pos = 0;
        loop {
            match next_line(b, pos)? {
                Step::Line(l, next) => {
                    out.push((&text[l.name.0..l.name.1], &text[l.value.0..l.value.1]));
                    pos = next;
                }
                Step::End(body) => return Ok((out, body)),
            }
        }
    }

    #[test]
    fn rfc3261_7_3_1_header_lines_table() {
        let (got, body) =
            lines("TO :\r\n sip:v@x ;   tag    = 1\r\ns :\r\nNew:   a\r\n b\r\n\r\nBODY").unwrap();
        assert_eq!(
            got,
            vec![
                ("TO", "sip:v@x ;   tag    = 1"),
                ("s", ""),
                ("New", "a\r\n b")
            ]
        );
        assert_eq!(body, 52);
        let (got, body) = lines("Via: a\nl: 0\n\nrest").unwrap();
        assert_eq!(got, vec![("Via", "a"), ("l", "0")]);
        assert_eq!(body, 13);
        let (got, body) = lines("l: 0\r\n").unwrap();
        assert_eq!((got.len(), body), (1, 6));
    }

    #[test]
    fn rfc3261_7_3_1_malformed_header_lines_table() {
        for (text, offset) in [
            (" folded-first: x\r\n", 0),
            ("NoColon\r\n", 0),
            ("A: b\r\nbad name: x\r\n", 6),
            (": x\r\n", 0),
        ] {
            assert_eq!(
                lines(text).map(|_| ()),
                Err(ParseError::BadHeaderLine { offset }),
                "{text:?}"
            );
        }
    }

    #[test]
    fn rfc3261_7_5_head_end_table() {
        let cases: [(&str, Option<usize>); 5] = [
            ("INVITE x SIP/2.0\r\nA: b\r\n\r\nbody", Some(26)),
            ("A: b\n\nbody", Some(6)),
            ("A: b\r\n", None),
            ("A: b\r\n\r", None),
            ("", None),
        ];
        for (text, want) in cases {
            assert_eq!(find_head_end(text.as_bytes(), 0), want, "{text:?}");
        }
    }
}
