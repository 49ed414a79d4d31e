//! Request-Line and Status-Line (RFC 3261 §7.1, §7.2, §25.1).
//!
//! Tolerated: several SP between elements and trailing SP (RFC 4475 §3.1.2.9, §3.1.2.10 allow
//! either choice). Refused: LWS inside the Request-URI (§3.1.2.8), `<>` around it (§3.1.2.7),
//! versions other than 2.0 (505, §3.1.2.16), codes outside 100..=699 (§3.1.2.19).

use bytes::Bytes;

use super::scan::{is_wsp, token_end};
use super::ParseError;
use crate::message::{Method, StatusCode};
use crate::uri::{Uri, UriError};

/// A parsed start line; ranges index the message buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StartLine {
    Request {
        method: Method,
        uri: (usize, usize),
    },
    Response {
        status: StatusCode,
        reason: (usize, usize),
    },
}

/// Checks `SIP/2.0`; a well-formed other version is a 505.
fn check_version(b: &[u8], at: usize) -> Result<(), ParseError> {
    if b.eq_ignore_ascii_case(b"SIP/2.0") {
        return Ok(());
    }
    let well_formed = b.len() > 4
        && b[..4].eq_ignore_ascii_case(b"SIP/")
        && match b[4..].iter().position(|&c| c == b'.') {
            Some(dot) => {
                let (major, minor) = (&b[4..4 + dot], &b[5 + dot..]);
                !major.is_empty()
                    && !minor.is_empty()
                    && major.iter().chain(minor).all(u8::is_ascii_digit)
            }
            None => false,
        };
    if well_formed {
        Err(ParseError::UnsupportedVersion { offset: at })
    } else {
        Err(ParseError::BadStartLine { offset: at })
    }
}

/// Parses the start line occupying `buf[..line_end]` (line break excluded).
pub(crate) fn parse_start_line(buf: &Bytes, line_end: usize) -> Result<StartLine, ParseError> {
    let b = buf.get(..line_end).unwrap_or_default();
    let mut end = b.len();
    while end > 0 && is_wsp(b[end - 1]) {
        end -= 1;
    }
    let b = &b[..end];
    if b.len() >= 4 && b[..4].eq_ignore_ascii_case(b"SIP/") {
        return status_line(b);
    }
    let me = token_end(b, 0);
    if me == 0 || b.get(me) != Some(&b' ') {
        return Err(ParseError::BadStartLine { offset: me });
    }
    let mut us = me;
    while us < b.len() && is_wsp(b[us]) {
        us += 1;
    }
    let vs = b
        .iter()
        .rposition(|&c| is_wsp(c))
        .map_or(b.len(), |p| p + 1);
    if vs <= us {
        return Err(ParseError::BadStartLine { offset: us });
    }
    check_version(&b[vs..], vs)?;
    let mut ue = vs;
    while ue > us && is_wsp(b[ue - 1]) {
        ue -= 1;
    }
    let uri_bytes = &b[us..ue];
    if let Some(ws) = uri_bytes.iter().position(|&c| is_wsp(c)) {
        let error = UriError::BadChar { offset: ws };
        return Err(ParseError::BadRequestUri { offset: us, error });
    }
    let uri_text = std::str::from_utf8(uri_bytes).map_err(|e| ParseError::BadRequestUri {
        offset: us,
        error: UriError::BadChar {
            offset: e.valid_up_to(),
        },
    })?;
    match Uri::parse(uri_text) {
        Ok(Uri::Other { .. }) => return Err(ParseError::UnsupportedUriScheme { offset: us }),
        Ok(Uri::Sip(_) | Uri::Tel(_)) => {}
        Err(error) => return Err(ParseError::BadRequestUri { offset: us, error }),
    }
    Ok(StartLine::Request {
        // Only an extension method keeps a slice of the buffer (a reference count update).
        method: Method::known(&b[..me]).unwrap_or_else(|| Method::from_token(&buf.slice(..me))),
        uri: (us, ue),
    })
}

fn status_line(b: &[u8]) -> Result<StartLine, ParseError> {
    let ve = b.iter().position(|&c| c == b' ').unwrap_or(b.len());
    check_version(&b[..ve], 0)?;
    let cs = ve + 1;
    let ce = cs
        + b.get(cs..)
            .unwrap_or_default()
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
    let code_ok = ce - cs == 3 && matches!(b.get(ce), None | Some(b' '));
    let code = b
        .get(cs..ce)
        .filter(|_| code_ok)
        .and_then(|d| std::str::from_utf8(d).ok())
        .and_then(|d| d.parse::<u16>().ok())
        .and_then(StatusCode::new)
        .ok_or(ParseError::BadStatusCode { offset: cs })?;
    let rs = (ce + 1).min(b.len());
    Ok(StartLine::Response {
        status: code,
        reason: (rs, b.len()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Result<StartLine, ParseError> {
        parse_start_line(&Bytes::copy_from_slice(line.as_bytes()), line.len())
    }

    #[test]
    fn rfc3261_7_1_request_line_table() {
        let cases: [(&str, &str, (usize, usize)); 5] = [
            ("INVITE sip:bob@biloxi.com SIP/2.0", "INVITE", (7, 25)),
            ("INVITE  sip:user@example.com  SIP/2.0", "INVITE", (8, 28)),
            (
                "OPTIONS sip:remote-target@example.com SIP/2.0  ",
                "OPTIONS",
                (8, 37),
            ),
            (
                "RE%47IST%45R sip:registrar.example.com SIP/2.0",
                "RE%47IST%45R",
                (13, 38),
            ),
            ("REGISTER tel:+1-201-555-0123 sip/2.0", "REGISTER", (9, 28)),
        ];
        for (line, method, uri) in cases {
            match parse(line) {
                Ok(StartLine::Request { method: m, uri: u }) => {
                    assert_eq!((m.as_str(), u), (method, uri), "{line:?}");
                }
                other => panic!("{line:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn rfc4475_3_1_2_request_line_faults_table() {
        let bad_uri = |offset| ParseError::BadRequestUri {
            offset,
            error: UriError::BadScheme,
        };
        let cases: [(&str, ParseError); 8] = [
            (
                "OPTIONS sip:t.watson@example.org SIP/7.0",
                ParseError::UnsupportedVersion { offset: 33 },
            ),
            (
                "OPTIONS sip:t.watson@example.org HTTP/1.1",
                ParseError::BadStartLine { offset: 33 },
            ),
            ("INVITE <sip:user@example.com> SIP/2.0", bad_uri(7)),
            (
                "INVITE sip:user@example.com; lr SIP/2.0",
                ParseError::BadRequestUri {
                    offset: 7,
                    error: UriError::BadChar { offset: 21 },
                },
            ),
            (
                "OPTIONS nobodyKnowsThisScheme:totallyopaquecontent SIP/2.0",
                ParseError::UnsupportedUriScheme { offset: 8 },
            ),
            ("INVITE", ParseError::BadStartLine { offset: 6 }),
            ("INVITE sip:a@b", ParseError::BadStartLine { offset: 7 }),
            ("", ParseError::BadStartLine { offset: 0 }),
        ];
        for (line, want) in cases {
            assert_eq!(parse(line), Err(want), "{line:?}");
        }
    }

    #[test]
    fn rfc3261_7_2_status_line_table() {
        type Case<'a> = (&'a str, Result<(u16, &'a str), ParseError>);
        let cases: [Case<'_>; 7] = [
            ("SIP/2.0 200 OK", Ok((200, "OK"))),
            ("SIP/2.0 100 ", Ok((100, ""))),
            ("SIP/2.0 180", Ok((180, ""))),
            ("SIP/2.0 404 Not  Found here", Ok((404, "Not  Found here"))),
            (
                "SIP/2.0 4294967301 better not break the receiver",
                Err(ParseError::BadStatusCode { offset: 8 }),
            ),
            (
                "SIP/2.0 099 Low",
                Err(ParseError::BadStatusCode { offset: 8 }),
            ),
            (
                "SIP/3.0 200 OK",
                Err(ParseError::UnsupportedVersion { offset: 0 }),
            ),
        ];
        for (line, want) in cases {
            let got = parse(line).map(|s| match s {
                StartLine::Response { status, reason } => {
                    (status.as_u16(), &line[reason.0..reason.1])
                }
                StartLine::Request { .. } => panic!("{line:?} is a status line"),
            });
            assert_eq!(got, want, "{line:?}");
        }
    }
}
