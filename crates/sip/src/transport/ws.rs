//! SIP over WebSocket (RFC 7118): the handshake must offer the `sip` subprotocol (§4.1), and
//! each text or binary message carries exactly one SIP message (§5.2), so no framing is
//! needed. Messages we send go as text when they are UTF-8, else as binary. As for TCP, a
//! reader task and a writer task share the connection.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use futures::{Sink, SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{mpsc, oneshot};
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::{header, HeaderValue, StatusCode};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};
use tokio_tungstenite::{accept_hdr_async_with_config, WebSocketStream};

use super::connection::{Outbound, Slot};
use super::inbound;
use super::keepalive::Liveness;
use super::stream::deliver;
use super::tcp::Conn;
use super::{Counters, Shared};

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
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
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

async fn run<S>(ws: WebSocketStream<S>, conn: Conn, rx: mpsc::Receiver<Outbound>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (sink, mut messages) = ws.split();
    let (closing, closed) = oneshot::channel();
    let Conn {
        remote,
        transport,
        slot,
        link,
        shared,
    } = conn;
    let mut writer = tokio::spawn(write_loop(sink, rx, closed, Arc::clone(&shared), slot));
    let mut stop = shared.shutdown.clone();
    // Messages arrive whole, so only the idle clock applies; a peer trickling one frame
    // makes no activity until it completes and is closed as idle.
    let mut live = Liveness::new(Instant::now(), &shared.limits);
    let sleep = tokio::time::sleep_until(live.deadline().0.into());
    tokio::pin!(sleep);
    loop {
        sleep.as_mut().reset(live.deadline().0.into());
        tokio::select! {
            message = messages.next() => {
                let bytes = match message {
                    Some(Ok(Message::Text(text))) => Bytes::from(text),
                    Some(Ok(Message::Binary(bytes))) => bytes,
                    // Pings are answered by tungstenite; pongs and raw frames carry no SIP.
                    Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
                    Some(Ok(Message::Close(_)) | Err(_)) | None => break,
                };
                live.activity(Instant::now());
                let inbound = inbound::accept(bytes, remote, transport, shared.policy);
                if !deliver(inbound, &link, &shared).await {
                    break;
                }
            }
            () = &mut sleep => {
                Counters::bump(&shared.counters.connections_timed_out);
                break;
            }
            _ = &mut writer => break,
            _ = stop.changed() => break,
        }
    }
    shared.connections.forget(remote, transport, &link);
    drop(closing);
}

/// Sends queued messages, one WebSocket message each, flushing once per batch; then reports
/// what is left and closes the WebSocket.
async fn write_loop<W>(
    mut sink: W,
    mut rx: mpsc::Receiver<Outbound>,
    mut closed: oneshot::Receiver<()>,
    shared: Arc<Shared>,
    slot: Slot,
) where
    W: Sink<Message> + Unpin,
{
    let limit = shared.limits.message_timeout;
    let mut batch = Vec::with_capacity(32);
    loop {
        let n = tokio::select! {
            biased;
            n = rx.recv_many(&mut batch, 32) => n,
            _ = &mut closed => 0,
        };
        if n == 0 {
            break;
        }
        let io = async {
            for out in &batch {
                sink.feed(frame(out.bytes.clone())).await?;
            }
            sink.flush().await
        };
        if !matches!(timeout(limit, io).await, Ok(Ok(()))) {
            for out in batch.drain(..) {
                shared.failed(out.key).await;
            }
            break;
        }
        batch.clear();
    }
    shared.fail_queued(rx).await;
    let _ = timeout(limit, sink.close()).await;
    drop(slot);
}
