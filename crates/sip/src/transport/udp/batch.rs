//! Reading many datagrams per system call. On Linux one `recvmmsg(2)` fills up to [`SLOTS`]
//! buffers, and a short batch tells that the socket's queue is empty, so the reader need not
//! make one more call to learn it (a readiness loop otherwise ends every wake-up with a
//! receive that fails with `EAGAIN`). Elsewhere one `recv_from` per datagram.

use std::io;
use std::net::SocketAddr;

use tokio::io::Interest;
use tokio::net::UdpSocket;

/// Largest UDP payload (IPv4: 65,535 − 8 − 20).
pub(super) const MAX_DATAGRAM: usize = 65_507;

/// Buffer per datagram: one byte more than any datagram, so a longer one shows as truncated.
const SLOT: usize = MAX_DATAGRAM + 1;

/// Datagrams read per call.
pub(super) const SLOTS: usize = 32;

/// What one [`Batch::read`] call found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Read {
    /// `n` datagrams were read and the socket may hold more.
    More(usize),
    /// `n` datagrams were read (perhaps none) and the socket was empty after them; its
    /// readiness is cleared, so the next read waits for the next datagram.
    Drained(usize),
}

/// Buffers for one batch of datagrams, reused for every read.
pub(super) struct Batch {
    data: Box<[u8]>,
    lens: [usize; SLOTS],
    from: [Option<SocketAddr>; SLOTS],
    #[cfg(target_os = "linux")]
    names: Box<[libc::sockaddr_storage]>,
}

impl Batch {
    pub(super) fn new() -> Self {
        Self {
            data: vec![0u8; SLOT * SLOTS].into_boxed_slice(),
            lens: [0; SLOTS],
            from: [None; SLOTS],
            #[cfg(target_os = "linux")]
            // SAFETY: sockaddr_storage is plain data; all zeroes is a valid (AF_UNSPEC) value.
            names: vec![unsafe { std::mem::zeroed::<libc::sockaddr_storage>() }; SLOTS]
                .into_boxed_slice(),
        }
    }

    /// Datagram `i` of the last read and its sender; `None` for one the kernel truncated
    /// (longer than any UDP payload: cannot happen) or from an address family we do not
    /// speak.
    pub(super) fn get(&self, i: usize) -> Option<(&[u8], SocketAddr)> {
        let len = *self.lens.get(i)?;
        let from = (*self.from.get(i)?)?;
        if len > MAX_DATAGRAM {
            return None;
        }
        Some((&self.data[i * SLOT..i * SLOT + len], from))
    }

    /// Reads what `socket` holds now, up to [`SLOTS`] datagrams, without waiting.
    pub(super) fn read(&mut self, socket: &UdpSocket) -> io::Result<Read> {
        let mut read = 0;
        let result = socket.try_io(Interest::READABLE, || {
            read = self.receive(socket)?;
            if read < SLOTS {
                // The kernel stopped short because the queue ran dry (see `receive`):
                // reported as WouldBlock, tokio clears the readiness it saw before this
                // call, and only that; a datagram that came in since sets it again.
                return Err(io::ErrorKind::WouldBlock.into());
            }
            Ok(())
        });
        match result {
            Ok(()) => Ok(Read::More(read)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(Read::Drained(read)),
            Err(e) => Err(e),
        }
    }

    /// One `recvmmsg(2)`, non-blocking. It returns fewer than asked only when the next
    /// receive would block (the kernel keeps any other error for the next call, which then
    /// reports it) — an ICMP error, the one error a UDP socket queues, is not queued on an
    /// unconnected socket without `IP_RECVERR`, as ours are.
    #[cfg(target_os = "linux")]
    fn receive(&mut self, socket: &UdpSocket) -> io::Result<usize> {
        use std::os::fd::AsRawFd;

        // The headers hold pointers into `data` and `names`; they are built here, for one
        // call, so nothing self-referential outlives it.
        // SAFETY: iovec and mmsghdr are plain C structs; zeroes are valid values of both.
        let mut iov: [libc::iovec; SLOTS] = unsafe { std::mem::zeroed() };
        let mut headers: [libc::mmsghdr; SLOTS] = unsafe { std::mem::zeroed() };
        let base = self.data.as_mut_ptr();
        for (i, (vec, header)) in iov.iter_mut().zip(headers.iter_mut()).enumerate() {
            // SAFETY: `i * SLOT + SLOT <= data.len()`, so the slot lies inside `data`.
            vec.iov_base = unsafe { base.add(i * SLOT) }.cast();
            vec.iov_len = SLOT;
            header.msg_hdr.msg_iov = vec;
            header.msg_hdr.msg_iovlen = 1;
            header.msg_hdr.msg_name = (&raw mut self.names[i]).cast();
            header.msg_hdr.msg_namelen = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        }
        // SAFETY: every header points at a live, writable buffer of the length it states,
        // all owned by `self` or this frame and untouched until the call returns.
        let n = unsafe {
            libc::recvmmsg(
                socket.as_raw_fd(),
                headers.as_mut_ptr(),
                SLOTS as libc::c_uint,
                libc::MSG_DONTWAIT,
                std::ptr::null_mut(),
            )
        };
        let n = usize::try_from(n).map_err(|_| io::Error::last_os_error())?;
        for (i, header) in headers.iter().take(n).enumerate() {
            let truncated = header.msg_hdr.msg_flags & libc::MSG_TRUNC != 0;
            self.lens[i] = if truncated {
                SLOT
            } else {
                header.msg_len as usize
            };
            self.from[i] = socket_addr(&self.names[i]);
        }
        Ok(n)
    }

    #[cfg(not(target_os = "linux"))]
    fn receive(&mut self, socket: &UdpSocket) -> io::Result<usize> {
        let mut n = 0;
        while n < SLOTS {
            match socket.try_recv_from(&mut self.data[n * SLOT..(n + 1) * SLOT]) {
                Ok((len, from)) => {
                    self.lens[n] = len;
                    self.from[n] = Some(from);
                    n += 1;
                }
                Err(e) if n > 0 && e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(e),
            }
        }
        Ok(n)
    }
}

/// The sender's address as the kernel wrote it; `None` for a family other than IPv4/IPv6.
#[cfg(target_os = "linux")]
fn socket_addr(name: &libc::sockaddr_storage) -> Option<SocketAddr> {
    use std::net::{Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6};

    match libc::c_int::from(name.ss_family) {
        libc::AF_INET => {
            // SAFETY: the family says the storage holds a sockaddr_in; storage is aligned
            // for every socket address type.
            let v4 = unsafe { &*(std::ptr::from_ref(name).cast::<libc::sockaddr_in>()) };
            let ip = Ipv4Addr::from(u32::from_be(v4.sin_addr.s_addr));
            Some(SocketAddrV4::new(ip, u16::from_be(v4.sin_port)).into())
        }
        libc::AF_INET6 => {
            // SAFETY: as above, for sockaddr_in6.
            let v6 = unsafe { &*(std::ptr::from_ref(name).cast::<libc::sockaddr_in6>()) };
            let ip = Ipv6Addr::from(v6.sin6_addr.s6_addr);
            Some(
                SocketAddrV6::new(
                    ip,
                    u16::from_be(v6.sin6_port),
                    v6.sin6_flowinfo,
                    v6.sin6_scope_id,
                )
                .into(),
            )
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn pair() -> (UdpSocket, UdpSocket) {
        let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let server = super::super::bind(any, 1 << 20).unwrap();
        let client = UdpSocket::bind(any).await.unwrap();
        (server, client)
    }

    async fn wait_readable(socket: &UdpSocket) {
        tokio::time::timeout(std::time::Duration::from_secs(5), socket.readable())
            .await
            .expect("socket never became readable")
            .unwrap();
    }

    // RFC 3261 §18.2.1: every datagram is read, whole, with its sender; a short batch
    // reports the socket drained and the next read then waits for a new datagram.
    #[tokio::test]
    async fn rfc3261_18_2_1_batch_reads_every_datagram_with_its_sender() {
        let (server, client) = pair().await;
        let to = server.local_addr().unwrap();
        let from = client.local_addr().unwrap();
        let sent: Vec<Vec<u8>> = (0..SLOTS + 5)
            .map(|i| format!("datagram {i} {}", "x".repeat(i * 37)).into_bytes())
            .collect();
        for d in &sent {
            client.send_to(d, to).await.unwrap();
        }
        let mut batch = Batch::new();
        let mut got = Vec::new();
        loop {
            wait_readable(&server).await;
            let (n, drained) = match batch.read(&server).unwrap() {
                Read::More(n) => (n, false),
                Read::Drained(n) => (n, true),
            };
            for i in 0..n {
                let (data, sender) = batch.get(i).unwrap();
                assert_eq!(sender, from);
                got.push(data.to_vec());
            }
            if drained && got.len() == sent.len() {
                break;
            }
        }
        assert_eq!(got, sent);
        // Drained: a datagram sent now is read after readiness fires again, not lost.
        client.send_to(b"late", to).await.unwrap();
        wait_readable(&server).await;
        let n = match batch.read(&server).unwrap() {
            Read::More(n) | Read::Drained(n) => n,
        };
        assert_eq!(n, 1);
        assert_eq!(batch.get(0).unwrap().0, b"late");
    }

    // RFC 3261 §18.1.1: the largest datagram arrives whole, from an IPv6 sender too.
    #[tokio::test]
    async fn rfc3261_18_1_1_largest_datagram_and_ipv6_sender() {
        let any: SocketAddr = "[::1]:0".parse().unwrap();
        let Ok(server) = super::super::bind(any, 1 << 20) else {
            return; // no IPv6 loopback on this machine
        };
        let client = UdpSocket::bind(any).await.unwrap();
        let big = vec![b'a'; 60_000];
        client
            .send_to(&big, server.local_addr().unwrap())
            .await
            .unwrap();
        let mut batch = Batch::new();
        wait_readable(&server).await;
        assert_eq!(batch.read(&server).unwrap(), Read::Drained(1));
        let (data, sender) = batch.get(0).unwrap();
        assert_eq!(data.len(), big.len());
        assert_eq!(sender, client.local_addr().unwrap());
    }
}
