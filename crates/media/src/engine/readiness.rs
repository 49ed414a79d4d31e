//! Which session sockets have datagrams waiting: one level-triggered epoll set over all of
//! them, polled without blocking once per driver step. The driver then reads only sockets
//! with something to read, instead of trying every session's socket every 20 ms (500
//! sessions: 25,000 `recvfrom` calls a second, most answering "would block").

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use super::SessionId;

/// Ready sockets reported per poll; more stay ready (level-triggered) for the next step.
const BATCH: usize = 256;

/// The epoll set and the buffer its reports land in.
pub(super) struct Readiness {
    epoll: OwnedFd,
    ready: Vec<libc::epoll_event>,
}

impl std::fmt::Debug for Readiness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Readiness")
            .field("epoll", &self.epoll)
            .finish_non_exhaustive()
    }
}

impl Readiness {
    /// A new, empty set.
    pub(super) fn new() -> io::Result<Self> {
        // SAFETY: plain syscall; the result is checked before use.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Self {
            // SAFETY: `fd` was just created and is owned by nothing else.
            epoll: unsafe { OwnedFd::from_raw_fd(fd) },
            ready: vec![libc::epoll_event { events: 0, u64: 0 }; BATCH],
        })
    }

    /// Watches `fd` (a session's socket) for input, reported as `id`.
    pub(super) fn watch(&self, fd: RawFd, id: SessionId) -> io::Result<()> {
        let mut event = libc::epoll_event {
            events: libc::EPOLLIN as u32,
            u64: id.0,
        };
        // SAFETY: both fds are open; `event` is valid for the call.
        let rc =
            unsafe { libc::epoll_ctl(self.epoll.as_raw_fd(), libc::EPOLL_CTL_ADD, fd, &mut event) };
        if rc == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }

    /// Stops watching `fd` (closing the socket would too; this is for clarity and is
    /// harmless if it was never watched).
    pub(super) fn unwatch(&self, fd: RawFd) {
        // SAFETY: a null event is allowed for EPOLL_CTL_DEL; errors are ignored on purpose.
        unsafe {
            libc::epoll_ctl(
                self.epoll.as_raw_fd(),
                libc::EPOLL_CTL_DEL,
                fd,
                std::ptr::null_mut(),
            )
        };
    }

    /// Sessions whose socket has input now (does not wait). A session may be reported
    /// after it was closed; the caller skips unknown ids.
    pub(super) fn poll(&mut self) -> impl Iterator<Item = SessionId> + '_ {
        let capacity = libc::c_int::try_from(self.ready.len()).unwrap_or(libc::c_int::MAX);
        // SAFETY: `ready` has room for `capacity` events; timeout 0 does not block.
        let n = unsafe {
            libc::epoll_wait(self.epoll.as_raw_fd(), self.ready.as_mut_ptr(), capacity, 0)
        };
        let n = usize::try_from(n).unwrap_or(0);
        self.ready[..n].iter().map(|event| SessionId(event.u64))
    }
}

#[cfg(test)]
mod tests {
    use std::net::UdpSocket;

    use super::*;

    #[test]
    fn reports_only_sockets_with_input() {
        let mut readiness = Readiness::new().unwrap_or_else(|e| panic!("epoll: {e}"));
        let bind = || UdpSocket::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
        let (quiet, busy, sender) = (bind(), bind(), bind());
        readiness
            .watch(quiet.as_raw_fd(), SessionId(1))
            .unwrap_or_else(|e| panic!("{e}"));
        readiness
            .watch(busy.as_raw_fd(), SessionId(2))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(readiness.poll().count(), 0);
        let to = busy.local_addr().unwrap_or_else(|e| panic!("{e}"));
        sender
            .send_to(b"x", to)
            .unwrap_or_else(|e| panic!("send: {e}"));
        // Loopback delivers inside send_to, so the datagram is there already.
        assert_eq!(readiness.poll().collect::<Vec<_>>(), vec![SessionId(2)]);
        // Level-triggered: still ready until read.
        assert_eq!(readiness.poll().collect::<Vec<_>>(), vec![SessionId(2)]);
        let mut buf = [0u8; 8];
        busy.recv_from(&mut buf)
            .unwrap_or_else(|e| panic!("recv: {e}"));
        assert_eq!(readiness.poll().count(), 0);
        readiness.unwatch(busy.as_raw_fd());
        sender
            .send_to(b"y", to)
            .unwrap_or_else(|e| panic!("send: {e}"));
        assert_eq!(readiness.poll().count(), 0);
    }
}
