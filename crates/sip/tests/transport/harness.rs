//! Shared pieces: an in-test UAS on a real endpoint, raw SIP text, and readers that wait
//! for one whole message on a socket or stream.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use hotdesk_sip::endpoint::{Endpoint, EndpointConfig, EndpointEvent, ServerTransaction};
use hotdesk_sip::parse::{Frame, Framer};
use hotdesk_sip::transport::{Limits, TransportConfig};
use hotdesk_sip::{parse_message, Message, StatusCode};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::net::UdpSocket;

/// How long a test waits for an answer that should come.
pub(crate) const WAIT: Duration = Duration::from_secs(3);

pub(crate) fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

/// UDP and TCP on 127.0.0.1 with free ports.
pub(crate) fn udp_tcp() -> TransportConfig {
    TransportConfig::udp_tcp(loopback())
}

/// Limits with short time-outs so the abuse tests run fast.
pub(crate) fn quick_limits() -> Limits {
    Limits {
        idle_timeout: Duration::from_millis(600),
        message_timeout: Duration::from_millis(300),
        handshake_timeout: Duration::from_millis(500),
        ..Limits::default()
    }
}

/// Starts an endpoint whose application answers every request with `handler`, and every
/// CANCEL with 200.
pub(crate) async fn uas_with<F>(transport: TransportConfig, handler: F) -> Endpoint
where
    F: Fn(&Endpoint, ServerTransaction) + Send + 'static,
{
    let config = EndpointConfig {
        transport,
        ..EndpointConfig::default()
    };
    let (endpoint, mut events) = Endpoint::bind(config).await.unwrap();
    let app = endpoint.clone();
    tokio::spawn(async move {
        while let Some(event) = events.recv().await {
            match event {
                EndpointEvent::Request(tx) => handler(&app, tx),
                EndpointEvent::Cancel { cancel, .. } => {
                    let _ = cancel.reply(StatusCode::OK);
                }
                EndpointEvent::Ack(_)
                | EndpointEvent::ServerTimeout { .. }
                | EndpointEvent::ServerTransportError { .. } => {}
            }
        }
    });
    endpoint
}

/// A UAS answering 200 OK to everything (the response copies the stamped Via).
pub(crate) async fn uas(transport: TransportConfig) -> Endpoint {
    uas_with(transport, |_, tx| {
        let _ = tx.reply(StatusCode::OK);
    })
    .await
}

/// An OPTIONS request as a UA would write it.
pub(crate) fn options(via: &str, call_id: &str) -> String {
    format!(
        "OPTIONS sip:hotdesk.test SIP/2.0\r\n\
         Via: {via}\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:probe@hotdesk.test>;tag=t1\r\n\
         To: <sip:hotdesk.test>\r\n\
         Call-ID: {call_id}\r\n\
         CSeq: 1 OPTIONS\r\n\
         Content-Length: 0\r\n\r\n"
    )
}

/// Parses `bytes` and returns the response, panicking on anything else.
pub(crate) fn response(bytes: Bytes) -> hotdesk_sip::Response {
    match parse_message(bytes) {
        Ok(Message::Response(r)) => *r,
        other => panic!("expected a response, got {other:?}"),
    }
}

/// The next datagram on `socket`, or `None` after `wait`.
pub(crate) async fn recv_datagram(socket: &UdpSocket, wait: Duration) -> Option<Bytes> {
    let mut buf = vec![0u8; 65_536];
    let (n, _) = tokio::time::timeout(wait, socket.recv_from(&mut buf))
        .await
        .ok()?
        .ok()?;
    Some(Bytes::copy_from_slice(&buf[..n]))
}

/// Reads from a stream until one whole frame (message, ping or pong) is buffered; `None`
/// when the stream closes or `wait` passes first.
pub(crate) async fn read_frame<S: AsyncRead + Unpin>(
    stream: &mut S,
    buf: &mut BytesMut,
    wait: Duration,
) -> Option<Frame> {
    let mut framer = Framer::new();
    let read = async {
        loop {
            if let Ok(Some(frame)) = framer.next_frame(buf) {
                return Some(frame);
            }
            buf.reserve(4096);
            match stream.read_buf(buf).await {
                Ok(0) | Err(_) => return None,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(wait, read).await.ok().flatten()
}

/// The next SIP message on a stream.
pub(crate) async fn read_message<S: AsyncRead + Unpin>(
    stream: &mut S,
    buf: &mut BytesMut,
) -> Option<Message> {
    loop {
        match read_frame(stream, buf, WAIT).await? {
            Frame::Message(bytes) => return parse_message(bytes).ok(),
            Frame::Ping | Frame::Pong => {}
        }
    }
}

/// Exactly `n` bytes from a stream (e.g. a keep-alive pong), or `None` after [`WAIT`].
pub(crate) async fn read_exact<S: AsyncRead + Unpin>(stream: &mut S, n: usize) -> Option<Vec<u8>> {
    let mut out = vec![0u8; n];
    tokio::time::timeout(WAIT, stream.read_exact(&mut out))
        .await
        .ok()?
        .ok()?;
    Some(out)
}

/// True when the peer closes the stream (EOF or reset) within `wait`.
pub(crate) async fn closed_within<S: AsyncRead + Unpin>(stream: &mut S, wait: Duration) -> bool {
    let mut sink = [0u8; 1024];
    let eof = async {
        loop {
            match stream.read(&mut sink).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(wait, eof).await.is_ok()
}

/// Sends OPTIONS over UDP from a fresh socket (retransmitting like Timer E) and returns the
/// response.
pub(crate) async fn udp_options(
    server: SocketAddr,
    call_id: &str,
) -> Option<hotdesk_sip::Response> {
    let bind: SocketAddr = if server.is_ipv4() {
        "127.0.0.1:0".parse().unwrap()
    } else {
        "[::1]:0".parse().unwrap()
    };
    let socket = UdpSocket::bind(bind).await.ok()?;
    let local = socket.local_addr().ok()?;
    let via = format!("SIP/2.0/UDP {local};branch=z9hG4bK{call_id};rport");
    let request = options(&via, call_id);
    for _ in 0..6 {
        socket.send_to(request.as_bytes(), server).await.ok()?;
        if let Some(bytes) = recv_datagram(&socket, Duration::from_millis(500)).await {
            return Some(response(bytes));
        }
    }
    None
}
