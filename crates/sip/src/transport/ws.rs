//! SIP over WebSocket (RFC 7118): the handshake must offer the `sip` subprotocol (§4.1), and
//! each text or binary message carries exactly one SIP message (§5.2), so no framing is
//! needed. Messages we send go as text when they are UTF-8, else as binary.

use std::time::Instant;

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::{header, HeaderValue, StatusCode};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};
use tokio_tungstenite::{accept_hdr_async_with_config, WebSocketStream};

use super::connection::Outbound;
use super::inbound::{self, Inbound};
use super::keepalive::Liveness;
use super::tcp::Conn;
use super::{Counters, NetInput};

/// The subprotocol token of RFC 7118 §4.1.
const SUBPROTOCOL: &str = "sip";

/// Accepts the handshake only when the client offers `sip`, and confirms it.
// The signature is tungstenite's handshake callback; the error is its HTTP response type.
#[allow(clippy::result_large_err)]
fn check_subprotocol(request: &Request, mut response: Response) -> Result<Response, ErrorResponse> {
    let offered = request
        .headers()
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.trim().eq_ignore_ascii_case(SUBPROTOCOL));
    if !offered {
        let mut refusal = ErrorResponse::new(Some("subprotocol \"sip\" required".to_owned()));
        *refusal.status_mut() = StatusCode::BAD_REQUEST;
        return Err(refusal);
    }
    response.headers_mut().insert(
        header::SEC_WEBSOCKET_PROTOCOL,
        HeaderValue::from_static(SUBPROTOCOL),
    );
    Ok(response)
}

/// Runs the WebSocket handshake on `stream`, then the connection.
pub(crate) async fn serve<S>(stream: S, conn: Conn, rx: mpsc::Receiver<Outbound>)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let limits = &conn.shared.limits;
    let config = WebSocketConfig::default()
        .max_message_size(Some(limits.max_message_size))
        .max_frame_size(Some(limits.max_message_size));
    let handshake = accept_hdr_async_with_config(stream, check_subprotocol, Some(config));
    match timeout(limits.handshake_timeout, handshake).await {
        Ok(Ok(ws)) => run(ws, conn, rx).await,
        Ok(Err(e)) => {
            tracing::debug!(peer = %conn.remote, error = %e, "WebSocket handshake failed");
            conn.close(rx).await;
        }
        Err(_) => {
            conn.timed_out();
            conn.close(rx).await;
        }
    }
}

fn frame(bytes: Bytes) -> Message {
    match Utf8Bytes::try_from(bytes.clone()) {
        Ok(text) => Message::Text(text),
        Err(_) => Message::Binary(bytes),
    }
}

async fn run<S>(mut ws: WebSocketStream<S>, conn: Conn, mut rx: mpsc::Receiver<Outbound>)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let shared = &conn.shared;
    let limits = shared.limits.clone();
    let mut stop = shared.shutdown.clone();
    // Messages arrive whole, so only the idle clock applies; a peer trickling one frame
    // makes no activity until it completes and is closed as idle.
    let mut live = Liveness::new(Instant::now(), &limits);
    let sleep = tokio::time::sleep_until(live.deadline().0.into());
    tokio::pin!(sleep);
    loop {
        sleep.as_mut().reset(live.deadline().0.into());
        tokio::select! {
            message = ws.next() => {
                let bytes = match message {
                    Some(Ok(Message::Text(text))) => Bytes::from(text),
                    Some(Ok(Message::Binary(bytes))) => bytes,
                    // Pings are answered by tungstenite; pongs and raw frames carry no SIP.
                    Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
                    Some(Ok(Message::Close(_)) | Err(_)) | None => break,
                };
                live.activity(Instant::now());
                match inbound::accept(bytes, conn.remote, conn.transport, shared.policy) {
                    Inbound::Message(received) => {
                        if shared.to_layer.send(NetInput::Received(received)).await.is_err() {
                            break;
                        }
                        Counters::bump(&shared.counters.received);
                    }
                    Inbound::Reject(response) => {
                        Counters::bump(&shared.counters.malformed);
                        if timeout(limits.message_timeout, ws.send(frame(response))).await.is_err() {
                            break;
                        }
                    }
                    Inbound::Drop => Counters::bump(&shared.counters.malformed),
                }
            }
            out = rx.recv() => {
                let Some(out) = out else { break };
                let sent = timeout(limits.message_timeout, ws.send(frame(out.bytes))).await;
                if !matches!(sent, Ok(Ok(()))) {
                    shared.failed(out.key).await;
                    break;
                }
                live.activity(Instant::now());
            }
            () = &mut sleep => {
                conn.timed_out();
                break;
            }
            _ = stop.changed() => break,
        }
    }
    conn.close(rx).await;
}
