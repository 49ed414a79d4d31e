//! A small authoritative DNS server on loopback for the RFC 3263 tests: it answers NAPTR,
//! SRV and A questions from a fixed zone over UDP and records every question, so a test can
//! show the server located a trunk through real DNS messages (the machine has no DNS of its
//! own to serve such records).

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};

use hickory_resolver::proto::op::{Message, MessageType, ResponseCode};
use hickory_resolver::proto::rr::rdata::{A, NAPTR, SRV};
use hickory_resolver::proto::rr::{Name, RData, Record, RecordType};
use tokio::net::UdpSocket;

/// One record of the zone.
#[derive(Debug, Clone)]
pub(crate) enum Answer {
    /// NAPTR `order pref "s" service "" replacement`.
    Naptr {
        order: u16,
        service: &'static str,
        replacement: &'static str,
    },
    /// SRV `priority weight port target`.
    Srv {
        priority: u16,
        port: u16,
        target: &'static str,
    },
    /// A record.
    A(Ipv4Addr),
}

/// The running server: its address and the questions it was asked (name, type).
pub(crate) struct DnsServer {
    pub(crate) addr: SocketAddr,
    asked: Arc<Mutex<Vec<(String, RecordType)>>>,
    task: tokio::task::JoinHandle<()>,
}

impl DnsServer {
    /// Serves `zone` (owner name with trailing dot, record) on a free UDP port of 127.0.0.1.
    pub(crate) async fn start(zone: Vec<(&'static str, Answer)>) -> Self {
        let socket = UdpSocket::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("dns bind: {e}"));
        let addr = socket
            .local_addr()
            .unwrap_or_else(|e| panic!("dns addr: {e}"));
        let asked = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&asked);
        let task = tokio::spawn(async move {
            let mut buf = vec![0u8; 4096];
            while let Ok((len, peer)) = socket.recv_from(&mut buf).await {
                let Ok(query) = Message::from_vec(&buf[..len]) else {
                    continue;
                };
                let reply = answer(&query, &zone, &log);
                if let Ok(bytes) = reply.to_vec() {
                    let _ = socket.send_to(&bytes, peer).await;
                }
            }
        });
        Self { addr, asked, task }
    }

    /// Every question so far, as `(name without trailing dot, type)`.
    pub(crate) fn asked(&self) -> Vec<(String, RecordType)> {
        self.asked
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn answer(
    query: &Message,
    zone: &[(&'static str, Answer)],
    log: &Mutex<Vec<(String, RecordType)>>,
) -> Message {
    let mut reply = Message::new();
    reply
        .set_id(query.id())
        .set_message_type(MessageType::Response)
        .set_op_code(query.op_code())
        .set_recursion_desired(query.recursion_desired())
        .set_recursion_available(true)
        .set_authoritative(true);
    let mut known = false;
    for question in query.queries() {
        reply.add_query(question.clone());
        let asked = question.name().to_ascii();
        let asked = asked.trim_end_matches('.').to_ascii_lowercase();
        log.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((asked.clone(), question.query_type()));
        for (owner, record) in zone {
            if owner.trim_end_matches('.') != asked {
                continue;
            }
            known = true;
            if let Some(rdata) = rdata(record, question.query_type()) {
                reply.add_answer(Record::from_rdata(question.name().clone(), 60, rdata));
            }
        }
    }
    // A name of the zone without records of the type asked is NOERROR with no answers.
    reply.set_response_code(if known {
        ResponseCode::NoError
    } else {
        ResponseCode::NXDomain
    });
    reply
}

fn rdata(record: &Answer, asked: RecordType) -> Option<RData> {
    let name = |s: &str| Name::from_ascii(s).unwrap_or_else(|e| panic!("zone name {s}: {e}"));
    match (record, asked) {
        (
            Answer::Naptr {
                order,
                service,
                replacement,
            },
            RecordType::NAPTR,
        ) => Some(RData::NAPTR(NAPTR::new(
            *order,
            10,
            b"s".to_vec().into_boxed_slice(),
            service.as_bytes().to_vec().into_boxed_slice(),
            Vec::new().into_boxed_slice(),
            name(replacement),
        ))),
        (
            Answer::Srv {
                priority,
                port,
                target,
            },
            RecordType::SRV,
        ) => Some(RData::SRV(SRV::new(*priority, 0, *port, name(target)))),
        (Answer::A(ip), RecordType::A) => Some(RData::A(A(*ip))),
        _ => None,
    }
}
