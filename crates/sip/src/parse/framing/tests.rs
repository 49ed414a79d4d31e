use super::*;
use crate::parse::parse_message;
use crate::parse::tests::{INVITE, REGISTER};

fn frames(framer: &mut Framer, buf: &mut BytesMut) -> Result<Vec<Frame>, ParseError> {
    let mut out = Vec::new();
    while let Some(f) = framer.next_frame(buf)? {
        out.push(f);
    }
    Ok(out)
}

#[test]
fn rfc3261_18_3_stream_yields_whole_messages_byte_by_byte() {
    let stream = format!("\r\n\r\n{INVITE}{REGISTER}\r\n");
    let mut framer = Framer::new();
    let mut buf = BytesMut::new();
    let mut got = Vec::new();
    for b in stream.bytes() {
        buf.extend_from_slice(&[b]);
        got.extend(frames(&mut framer, &mut buf).unwrap());
    }
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!(got[0], Frame::Ping);
    assert_eq!(got[1], Frame::Message(Bytes::from(INVITE)));
    assert_eq!(got[2], Frame::Message(Bytes::from(REGISTER)));
    assert_eq!(
        &buf[..],
        b"\r\n",
        "a trailing CRLF waits: it may become a ping"
    );
    for f in &got[1..] {
        let Frame::Message(m) = f else { continue };
        assert!(parse_message(m.clone()).is_ok());
    }
}

#[test]
fn rfc5626_3_5_1_ping_and_pong() {
    let mut framer = Framer::new();
    let mut buf = BytesMut::from(&b"\r\n\r\n\r\nINV"[..]);
    assert_eq!(
        frames(&mut framer, &mut buf).unwrap(),
        [Frame::Ping, Frame::Pong]
    );
    assert_eq!(&buf[..], b"INV");
}

#[test]
fn rfc3261_18_3_stream_faults_table() {
    let too_big = format!(
        "INVITE sip:a@b SIP/2.0\r\nX: {}\r\n",
        "a".repeat(MAX_HEADER_SIZE)
    );
    let cases: [(String, ParseError); 5] = [
        (
            INVITE.replace("Content-Length: 139\r\n", ""),
            ParseError::MissingHeader {
                name: HeaderName::ContentLength,
            },
        ),
        (
            INVITE.replace("Content-Length: 139", "Content-Length: -5"),
            ParseError::BadHeader {
                name: HeaderName::ContentLength,
                offset: 333,
            },
        ),
        (
            INVITE.replace("Content-Length: 139", "Content-Length: 139\r\nl: 139"),
            ParseError::DuplicateHeader {
                name: HeaderName::ContentLength,
                offset: 341,
            },
        ),
        (
            INVITE.replace("Content-Length: 139", "Content-Length: 99999999"),
            ParseError::TooLarge {
                limit: MAX_MESSAGE_SIZE,
            },
        ),
        (
            too_big,
            ParseError::HeadersTooLarge {
                limit: MAX_HEADER_SIZE,
            },
        ),
    ];
    for (text, want) in cases {
        let mut buf = BytesMut::from(text.as_bytes());
        assert_eq!(
            Framer::new().next_frame(&mut buf),
            Err(want),
            "{}",
            &text[..40]
        );
    }
}

#[test]
fn rfc3261_18_3_partial_body_waits() {
    let mut framer = Framer::new();
    let mut buf = BytesMut::from(&INVITE.as_bytes()[..INVITE.len() - 10]);
    assert_eq!(framer.next_frame(&mut buf), Ok(None));
    buf.extend_from_slice(&INVITE.as_bytes()[INVITE.len() - 10..]);
    assert_eq!(
        framer.next_frame(&mut buf),
        Ok(Some(Frame::Message(Bytes::from(INVITE))))
    );
    assert!(buf.is_empty());
}
