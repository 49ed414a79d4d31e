//! One TCP or TLS connection (RFC 3261 §18.3), on two tasks so reading never waits for
//! writing: the reader frames bytes with the parser's [`Framer`], answers keep-alive pings
//! (RFC 5626 §3.5.1) and hands messages on; the writer drains the connection's queue,
//! coalescing what is waiting into one write. The reader also enforces the read deadlines
//! (idle, slow incomplete message); when it stops, the writer finishes the write under way,
//! reports the rest as undelivered and closes the socket.

use std::sync::Arc;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::timeout;

use super::connection::{Link, Outbound, Slot};
use super::inbound::{self, Inbound};
use super::keepalive::{Liveness, PONG};
use super::tcp::Conn;
use super::{Counters, NetInput, Shared};
use crate::parse::{Frame, Framer};

/// Room made in the read buffer before each read.
const READ_CHUNK: usize = 4096;

/// Queued messages written with one system call.
const WRITE_BATCH: usize = 32;

/// Runs one TCP or TLS connection until the peer closes it, a deadline passes, framing or
/// writing fails, or the transports shut down.
pub(crate) async fn run<S>(stream: S, conn: Conn, rx: mpsc::Receiver<Outbound>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (read_half, write_half) = tokio::io::split(stream);
    let (closing, closed) = oneshot::channel();
    let Conn {
        remote,
        transport,
        slot,
        link,
        shared,
    } = conn;
    let writer = tokio::spawn(write_loop(
        write_half,
        rx,
        closed,
        Arc::clone(&shared),
        slot,
    ));
    let reader = Reader {
        remote,
        transport,
        link: &link,
        shared: &shared,
    };
    reader.run(read_half, writer).await;
    shared.connections.forget(remote, transport, &link);
    drop(closing);
}

/// Passes the outcome of one received message on: to the transaction layer, or a rejection
/// back to the peer through the connection's queue. `false` when the connection must close.
pub(crate) async fn deliver(inbound: Inbound, link: &Link, shared: &Shared) -> bool {
    match inbound {
        Inbound::Message(received) => {
            if shared
                .to_layer
                .send(NetInput::Received(received))
                .await
                .is_err()
            {
                return false;
            }
            Counters::bump(&shared.counters.received);
            true
        }
        Inbound::Reject(response) => {
            Counters::bump(&shared.counters.malformed);
            queue(link, response).await
        }
        Inbound::Drop => {
            Counters::bump(&shared.counters.malformed);
            true
        }
    }
}

/// Queues bytes of our own (a pong, a rejection) behind the messages already queued.
async fn queue(link: &Link, bytes: Bytes) -> bool {
    let out = Outbound { bytes, key: None };
    link.tx.send(out).await.is_ok()
}

struct Reader<'a> {
    remote: std::net::SocketAddr,
    transport: super::Transport,
    link: &'a Link,
    shared: &'a Arc<Shared>,
}

impl Reader<'_> {
    async fn run<R: AsyncRead + Unpin>(&self, mut read_half: R, mut writer: JoinHandle<()>) {
        let shared = self.shared;
        let mut stop = shared.shutdown.clone();
        let mut buf = BytesMut::with_capacity(READ_CHUNK);
        let mut framer = Framer::new();
        let mut live = Liveness::new(Instant::now(), &shared.limits);
        let sleep = tokio::time::sleep_until(live.deadline().0.into());
        tokio::pin!(sleep);
        loop {
            let (deadline, expiry) = live.deadline();
            sleep.as_mut().reset(deadline.into());
            if buf.capacity() - buf.len() < READ_CHUNK / 4 {
                buf.reserve(READ_CHUNK);
            }
            tokio::select! {
                read = read_half.read_buf(&mut buf) => {
                    if !matches!(read, Ok(n) if n > 0) {
                        return;
                    }
                    let now = Instant::now();
                    live.activity(now);
                    if !self.frames(&mut framer, &mut buf).await {
                        return;
                    }
                    live.buffered(!buf.is_empty(), now);
                }
                () = &mut sleep => {
                    tracing::debug!(peer = %self.remote, ?expiry, "closing connection");
                    Counters::bump(&shared.counters.connections_timed_out);
                    return;
                }
                // The writer failed: the peer is gone.
                _ = &mut writer => return,
                _ = stop.changed() => return,
            }
        }
    }

    /// Frames and delivers everything complete in `buf`; `false` when the connection must
    /// close.
    async fn frames(&self, framer: &mut Framer, buf: &mut BytesMut) -> bool {
        let shared = self.shared;
        loop {
            match framer.next_frame(buf) {
                Ok(Some(Frame::Ping)) => {
                    if !queue(self.link, Bytes::from_static(PONG)).await {
                        return false;
                    }
                }
                Ok(Some(Frame::Pong)) => {}
                Ok(Some(Frame::Message(bytes))) => {
                    let inbound =
                        inbound::accept(bytes, self.remote, self.transport, shared.policy);
                    if !deliver(inbound, self.link, shared).await {
                        return false;
                    }
                }
                Ok(None) => return true,
                Err(error) => {
                    // The stream cannot be resynchronised: answer if we can, then close.
                    Counters::bump(&shared.counters.malformed);
                    if let Some(response) = inbound::reject(buf, &error) {
                        queue(self.link, response).await;
                    }
                    return false;
                }
            }
        }
    }
}

/// Writes queued messages until the reader stops (or a write fails), then reports what is
/// left, closes the write side and frees the connection's slot.
async fn write_loop<W: AsyncWrite + Unpin>(
    mut write_half: W,
    mut rx: mpsc::Receiver<Outbound>,
    mut closed: oneshot::Receiver<()>,
    shared: Arc<Shared>,
    slot: Slot,
) {
    let limit = shared.limits.message_timeout;
    let mut batch = Vec::with_capacity(WRITE_BATCH);
    let mut joined = BytesMut::new();
    loop {
        let n = tokio::select! {
            // Queued bytes first: a rejection queued just before the reader stopped still
            // goes out.
            biased;
            n = rx.recv_many(&mut batch, WRITE_BATCH) => n,
            _ = &mut closed => 0,
        };
        if n == 0 {
            break;
        }
        let bytes: &[u8] = match batch.as_slice() {
            [one] => &one.bytes,
            many => {
                joined.clear();
                for out in many {
                    joined.extend_from_slice(&out.bytes);
                }
                &joined
            }
        };
        let io = async {
            write_half.write_all(bytes).await?;
            write_half.flush().await
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
    // FIN (TLS: close_notify) so the peer sees an orderly close.
    let _ = timeout(limit, write_half.shutdown()).await;
    drop(slot);
}
