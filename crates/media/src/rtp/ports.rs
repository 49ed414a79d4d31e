//! The UDP port range RTP sessions bind in. A [`PortLease`] gives its port back when dropped,
//! so a session that ends any way at all cannot leak its port.

use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::{Arc, Mutex, PoisonError};

/// An inclusive range of UDP ports; only even ports are used for RTP (RFC 3550 §11).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortRange {
    /// First port (rounded up to even).
    pub first: u16,
    /// Last port.
    pub last: u16,
}

impl PortRange {
    fn even_ports(self) -> impl Iterator<Item = u16> {
        let start = u32::from(self.first) + u32::from(self.first % 2);
        (start..=u32::from(self.last))
            .step_by(2)
            .filter_map(|p| u16::try_from(p).ok())
    }
}

/// Free ports, handed out oldest-freed first so a just-closed port is not reused at once
/// (late packets of the old call would land in the new one).
#[derive(Debug, Clone)]
pub struct PortPool {
    free: Arc<Mutex<VecDeque<u16>>>,
    size: usize,
}

/// A bound socket on a leased port; the port returns to the pool on drop.
#[derive(Debug)]
pub struct PortLease {
    /// The bound, non-blocking socket.
    pub socket: UdpSocket,
    port: u16,
    free: Arc<Mutex<VecDeque<u16>>>,
}

impl PortLease {
    /// The leased port.
    pub fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for PortLease {
    fn drop(&mut self) {
        self.free
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push_back(self.port);
    }
}

impl PortPool {
    /// A pool over the even ports of `range`.
    pub fn new(range: PortRange) -> Self {
        let free: VecDeque<u16> = range.even_ports().collect();
        let size = free.len();
        Self {
            free: Arc::new(Mutex::new(free)),
            size,
        }
    }

    /// Ports in the range.
    pub fn capacity(&self) -> usize {
        self.size
    }

    /// Ports currently leased.
    pub fn in_use(&self) -> usize {
        self.size
            - self
                .free
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .len()
    }

    /// Binds a non-blocking UDP socket on the next free port that binds; ports another
    /// program holds are skipped and kept for later. `None` when every port is taken.
    pub fn lease(&self, ip: IpAddr) -> Option<PortLease> {
        let mut free = self.free.lock().unwrap_or_else(PoisonError::into_inner);
        for _ in 0..free.len() {
            let port = free.pop_front()?;
            match UdpSocket::bind(SocketAddr::new(ip, port)) {
                Ok(socket) if socket.set_nonblocking(true).is_ok() => {
                    return Some(PortLease {
                        socket,
                        port,
                        free: Arc::clone(&self.free),
                    });
                }
                _ => free.push_back(port),
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn lease_and_drop_return_ports() {
        let pool = PortPool::new(PortRange {
            first: 41001,
            last: 41010,
        });
        assert_eq!(pool.capacity(), 5); // 41002 .. 41010 even
        let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let leases: Vec<_> = (0..5).filter_map(|_| pool.lease(ip)).collect();
        let taken = leases.len();
        assert!(taken >= 4, "at most one port busy elsewhere");
        assert!(leases.iter().all(|l| l.port() % 2 == 0));
        assert!(pool.lease(ip).is_none() || taken < 5);
        assert_eq!(pool.in_use(), taken);
        drop(leases);
        assert_eq!(pool.in_use(), 0);
    }
}
