//! UDP (RFC 3261 §18.1.1, §18.2.1): one task per socket drains it in batches ([`batch`]:
//! many datagrams per system call), parses, and hands each message to the endpoint's inlet
//! (requests go into the transaction layer right here) or else queues it for the
//! transaction task without waiting — when that queue is full the datagram is dropped, as
//! the network might have, and the peer retransmits.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::UdpSocket;
use tokio::sync::mpsc::error::TrySendError;

mod batch;

use batch::{Batch, Read};

use super::inbound::{self, Inbound};
use super::{Counters, NetInput, Shared, Transport};
use crate::parse::is_keepalive;

/// Datagrams read per wake-up before yielding to the scheduler.
const PER_WAKE: usize = 256;

/// Binds a UDP socket; an IPv6 socket is IPv6-only so `0.0.0.0:p` and `[::]:p` can coexist.
pub(crate) fn bind(addr: SocketAddr, buffer: usize) -> io::Result<UdpSocket> {
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    // Larger kernel buffers absorb bursts; the kernel caps them at rmem_max/wmem_max, and a
    // refusal only costs burst tolerance.
    let _ = socket.set_recv_buffer_size(buffer);
    let _ = socket.set_send_buffer_size(buffer);
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    UdpSocket::from_std(socket.into())
}

/// Reads `socket` until the transports shut down.
pub(crate) async fn run(socket: Arc<UdpSocket>, shared: Arc<Shared>) {
    let mut stop = shared.shutdown.clone();
    // Buffers reused for every read; each datagram is copied out at its exact size, so a
    // message the application keeps pins only its own bytes (after that, no copies).
    let mut batch = Batch::new();
    loop {
        tokio::select! {
            ready = socket.readable() => if ready.is_err() { return },
            _ = stop.changed() => return,
        }
        let mut taken = 0;
        let drained = loop {
            let (read, drained) = match batch.read(&socket) {
                Ok(Read::More(n)) => (n, false),
                Ok(Read::Drained(n)) => (n, true),
                // Interrupted reads and the like: nothing to act on; yield and read again.
                Err(e) => {
                    tracing::debug!(error = %e, "udp receive error");
                    break false;
                }
            };
            for i in 0..read {
                if let Some((data, remote)) = batch.get(i) {
                    on_datagram(&socket, &shared, data, remote);
                }
            }
            taken += read;
            if drained || taken >= PER_WAKE {
                break drained;
            }
        };
        if !drained {
            // Under a flood the socket is always readable and `readable()` never waits:
            // yield, or the transaction task we just woke (queued on this worker) would
            // never run.
            tokio::task::yield_now().await;
        }
    }
}

fn on_datagram(socket: &UdpSocket, shared: &Shared, data: &[u8], remote: SocketAddr) {
    if is_keepalive(data) {
        return;
    }
    let bytes = Bytes::copy_from_slice(data);
    match inbound::accept(bytes, remote, Transport::Udp, shared.policy) {
        Inbound::Message(received) => {
            let received = match shared.inlet.get() {
                Some(inlet) => match inlet.take(received) {
                    Some(received) => received,
                    None => {
                        Counters::bump(&shared.counters.received);
                        return;
                    }
                },
                None => received,
            };
            match shared.to_layer.try_send(NetInput::Received(received)) {
                Ok(()) => Counters::bump(&shared.counters.received),
                Err(TrySendError::Full(_)) => Counters::bump(&shared.counters.overload_dropped),
                Err(TrySendError::Closed(_)) => {}
            }
        }
        Inbound::Reject(response) => {
            Counters::bump(&shared.counters.malformed);
            // Best effort: a full socket buffer drops the answer like the network would.
            let _ = socket.try_send_to(&response, remote);
        }
        Inbound::Drop => Counters::bump(&shared.counters.malformed),
    }
}
