//! The table of open stream connections, keyed by peer address and transport, so that a
//! response or an in-dialog request goes back over the connection its request came in on
//! (RFC 3261 §18.2.2, RFC 5923 reuse by address). Admission enforces the global and
//! per-IP limits; a [`Slot`] holds a connection's place and frees it when dropped.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use bytes::Bytes;
use rustls::pki_types::ServerName;
use tokio::sync::mpsc;

use super::{Limits, Transport};
use crate::transaction::TransactionKey;

/// A message queued for a connection's task.
#[derive(Debug)]
pub(crate) struct Outbound {
    /// The serialized message.
    pub(crate) bytes: Bytes,
    /// Its transaction, reported as failed if the bytes cannot be written.
    pub(crate) key: Option<TransactionKey>,
}

/// The sending side of one connection.
#[derive(Debug, Clone)]
pub(crate) struct Link {
    id: u64,
    pub(crate) tx: mpsc::Sender<Outbound>,
}

#[derive(Default)]
struct Table {
    links: HashMap<(SocketAddr, Transport), Link>,
    per_ip: HashMap<IpAddr, usize>,
    total: usize,
    /// Names to verify in TLS certificates, by peer address.
    tls_names: HashMap<SocketAddr, ServerName<'static>>,
}

/// All open connections. Locked briefly on connect, close and each stream send; the UDP
/// path never touches it.
pub(crate) struct Connections {
    table: Mutex<Table>,
    next_id: AtomicU64,
    max_total: usize,
    max_per_ip: usize,
    queue: usize,
}

impl Connections {
    pub(crate) fn new(limits: &Limits) -> Self {
        Self {
            table: Mutex::new(Table::default()),
            next_id: AtomicU64::new(1),
            max_total: limits.max_connections,
            max_per_ip: limits.max_connections_per_ip,
            queue: limits.write_queue.max(1),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Table> {
        // A panic elsewhere while holding the lock leaves the maps consistent (each update
        // is a single insert or remove), so the poisoned state is safe to keep using.
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes a place for a connection with `remote` over `transport` and registers its send
    /// queue; `None` when a limit is reached. A previous entry for the same key (a connection
    /// that is closing) is replaced.
    pub(crate) fn admit(
        self: &Arc<Self>,
        remote: SocketAddr,
        transport: Transport,
    ) -> Option<(Slot, Link, mpsc::Receiver<Outbound>)> {
        let (tx, rx) = mpsc::channel(self.queue);
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let link = Link { id, tx };
        let mut table = self.lock();
        let ip = remote.ip().to_canonical();
        let from_ip = table.per_ip.get(&ip).copied().unwrap_or(0);
        if table.total >= self.max_total || from_ip >= self.max_per_ip {
            return None;
        }
        table.total += 1;
        table.per_ip.insert(ip, from_ip + 1);
        table.links.insert((remote, transport), link.clone());
        drop(table);
        let slot = Slot {
            connections: Arc::clone(self),
            remote,
            transport,
            id,
        };
        Some((slot, link, rx))
    }

    /// The open connection to `remote` over `transport`, if any.
    pub(crate) fn get(&self, remote: SocketAddr, transport: Transport) -> Option<Link> {
        self.lock().links.get(&(remote, transport)).cloned()
    }

    /// Forgets `link` if it is still the registered connection for its key (its task ended).
    pub(crate) fn forget(&self, remote: SocketAddr, transport: Transport, link: &Link) {
        let mut table = self.lock();
        if table
            .links
            .get(&(remote, transport))
            .is_some_and(|l| l.id == link.id)
        {
            table.links.remove(&(remote, transport));
        }
    }

    /// Open connections.
    pub(crate) fn len(&self) -> usize {
        self.lock().total
    }

    pub(crate) fn set_tls_name(&self, addr: SocketAddr, name: &str) {
        if let Ok(name) = ServerName::try_from(name.to_owned()) {
            self.lock().tls_names.insert(addr, name);
        }
    }

    /// The name to verify for a TLS peer: the one set for it, else its IP address.
    pub(crate) fn tls_name(&self, addr: SocketAddr) -> ServerName<'static> {
        self.lock()
            .tls_names
            .get(&addr)
            .cloned()
            .unwrap_or_else(|| ServerName::IpAddress(addr.ip().into()))
    }

    fn release(&self, slot: &Slot) {
        let mut table = self.lock();
        table.total = table.total.saturating_sub(1);
        let ip = slot.remote.ip().to_canonical();
        if let Some(n) = table.per_ip.get_mut(&ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                table.per_ip.remove(&ip);
            }
        }
        let key = (slot.remote, slot.transport);
        if table.links.get(&key).is_some_and(|l| l.id == slot.id) {
            table.links.remove(&key);
        }
    }
}

/// A connection's place in the table; dropping it (when the connection's task ends) frees
/// the place and unregisters the connection.
pub(crate) struct Slot {
    connections: Arc<Connections>,
    remote: SocketAddr,
    transport: Transport,
    id: u64,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let connections = Arc::clone(&self.connections);
        connections.release(self);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(total: usize, per_ip: usize) -> Arc<Connections> {
        Arc::new(Connections::new(&Limits {
            max_connections: total,
            max_connections_per_ip: per_ip,
            ..Limits::default()
        }))
    }

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn rfc3261_18_2_2_connection_found_by_peer_and_transport() {
        let c = table(10, 10);
        let (_slot, link, _rx) = c.admit(addr("192.0.2.1:5060"), Transport::Tcp).unwrap();
        let found = c.get(addr("192.0.2.1:5060"), Transport::Tcp).unwrap();
        assert_eq!(found.id, link.id);
        assert!(c.get(addr("192.0.2.1:5060"), Transport::Tls).is_none());
        assert!(c.get(addr("192.0.2.1:5061"), Transport::Tcp).is_none());
    }

    #[test]
    fn limits_global_and_per_ip_are_enforced_and_freed_on_drop() {
        let c = table(3, 2);
        let a = c.admit(addr("192.0.2.1:1000"), Transport::Tcp).unwrap();
        let _b = c.admit(addr("192.0.2.1:1001"), Transport::Tcp).unwrap();
        assert!(
            c.admit(addr("192.0.2.1:1002"), Transport::Tcp).is_none(),
            "third from one IP"
        );
        let _d = c.admit(addr("192.0.2.2:1000"), Transport::Tcp).unwrap();
        assert!(
            c.admit(addr("192.0.2.3:1000"), Transport::Tcp).is_none(),
            "global limit"
        );
        assert_eq!(c.len(), 3);
        drop(a);
        assert_eq!(c.len(), 2);
        assert!(c.get(addr("192.0.2.1:1000"), Transport::Tcp).is_none());
        assert!(c.admit(addr("192.0.2.1:1002"), Transport::Tcp).is_some());
    }

    #[test]
    fn a_replaced_entry_is_not_removed_by_the_old_slot() {
        let c = table(10, 10);
        let (old, old_link, _rx1) = c.admit(addr("192.0.2.1:1000"), Transport::Tcp).unwrap();
        let (_new, new_link, _rx2) = c.admit(addr("192.0.2.1:1000"), Transport::Tcp).unwrap();
        c.forget(addr("192.0.2.1:1000"), Transport::Tcp, &old_link);
        drop(old);
        let found = c.get(addr("192.0.2.1:1000"), Transport::Tcp).unwrap();
        assert_eq!(found.id, new_link.id);
    }
}
