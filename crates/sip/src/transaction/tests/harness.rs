//! A UAC layer joined to a UAS layer in virtual time (quinn's `Pair`, pjsip's loop
//! transport without the real clock). Transmits are delivered at once unless the loss
//! filter drops them; `run_until` jumps from deadline to deadline.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::header::Transport;
use crate::message::{Message, Request, StatusCode};
use crate::parse_message;
use crate::transaction::{
    Input, Outgoing, Output, Received, TimerConfig, TransactionEvent, TransactionKey,
    TransactionLayer,
};

/// Which layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Side {
    Uac,
    Uas,
}

/// One transmit as seen on the wire.
#[derive(Debug, Clone)]
pub(super) struct Wire {
    /// Virtual time since the start.
    pub(super) at: Duration,
    pub(super) from: Side,
    pub(super) bytes: Bytes,
    pub(super) dropped: bool,
}

impl Wire {
    /// The start line, e.g. `INVITE sip:bob@192.0.2.2 SIP/2.0` or `SIP/2.0 486 Busy Here`.
    pub(super) fn start_line(&self) -> &str {
        std::str::from_utf8(&self.bytes)
            .unwrap_or_default()
            .split("\r\n")
            .next()
            .unwrap_or_default()
    }

    pub(super) fn text(&self) -> &str {
        std::str::from_utf8(&self.bytes).unwrap_or_default()
    }
}

pub(super) struct Node {
    pub(super) layer: TransactionLayer,
    pub(super) addr: SocketAddr,
    /// Events with their virtual time.
    pub(super) events: Vec<(Duration, TransactionEvent)>,
}

type LossFilter = Box<dyn FnMut(&Wire) -> bool>;

pub(super) struct Pair {
    pub(super) start: Instant,
    pub(super) now: Instant,
    pub(super) transport: Transport,
    pub(super) uac: Node,
    pub(super) uas: Node,
    pub(super) wire: Vec<Wire>,
    drop_if: LossFilter,
}

impl Pair {
    pub(super) fn new(transport: Transport) -> Self {
        Self::with_timers(transport, TimerConfig::default())
    }

    pub(super) fn with_timers(transport: Transport, timers: TimerConfig) -> Self {
        let start = Instant::now();
        let node = |addr: &str| Node {
            layer: TransactionLayer::new(timers),
            addr: addr.parse().unwrap(),
            events: Vec::new(),
        };
        Self {
            start,
            now: start,
            transport,
            uac: node("192.0.2.1:5060"),
            uas: node("192.0.2.2:5060"),
            wire: Vec::new(),
            drop_if: Box::new(|_| false),
        }
    }

    /// Drops every transmit for which `filter` returns true.
    pub(super) fn set_loss(&mut self, filter: impl FnMut(&Wire) -> bool + 'static) {
        self.drop_if = Box::new(filter);
    }

    pub(super) fn elapsed(&self) -> Duration {
        self.now - self.start
    }

    fn node(&mut self, side: Side) -> &mut Node {
        match side {
            Side::Uac => &mut self.uac,
            Side::Uas => &mut self.uas,
        }
    }

    /// The UAC's TU sends `request` to the UAS.
    pub(super) fn uac_send(&mut self, request: Request) -> TransactionKey {
        let (key, _) = super::super::wire::client_key(&request).unwrap();
        let destination = self.uas.addr;
        let transport = self.transport;
        let now = self.now;
        self.uac
            .layer
            .handle(
                now,
                Input::Send(Outgoing::Request {
                    request,
                    destination,
                    transport,
                }),
            )
            .unwrap();
        self.settle();
        key
    }

    /// A TU sends `input` into its layer.
    pub(super) fn send(
        &mut self,
        side: Side,
        outgoing: Outgoing,
    ) -> Result<(), crate::transaction::TransactionError> {
        let now = self.now;
        let result = self.node(side).layer.handle(now, Input::Send(outgoing));
        self.settle();
        result
    }

    /// The UAS's TU answers the request of server transaction `key` with `status`.
    pub(super) fn uas_respond(&mut self, key: &TransactionKey, status: u16) {
        let request = self.uas_request(key);
        let response = request
            .response(StatusCode::new(status).unwrap())
            .to_tag("uas-tag")
            .build();
        self.send(
            Side::Uas,
            Outgoing::Response {
                key: key.clone(),
                response,
            },
        )
        .unwrap();
    }

    /// The request the UAS's TU was given for `key`.
    pub(super) fn uas_request(&self, key: &TransactionKey) -> Request {
        self.uas
            .events
            .iter()
            .find_map(|(_, e)| match e {
                TransactionEvent::Request { key: k, request }
                | TransactionEvent::Cancel {
                    key: k, request, ..
                } if k == key => request.message.as_request().cloned(),
                _ => None,
            })
            .unwrap()
    }

    /// Injects raw bytes into `to`'s layer as if `from` had sent them.
    pub(super) fn inject(&mut self, to: Side, text: &str) {
        let from = match to {
            Side::Uac => self.uas.addr,
            Side::Uas => self.uac.addr,
        };
        let message = parse_message(Bytes::copy_from_slice(text.as_bytes())).unwrap();
        self.deliver(to, message, from);
        self.settle();
    }

    fn deliver(&mut self, to: Side, message: Message, source: SocketAddr) {
        let now = self.now;
        let transport = self.transport;
        let received = Received {
            message,
            source,
            transport,
        };
        self.node(to)
            .layer
            .handle(now, Input::Received(received))
            .unwrap();
    }

    /// Drains both layers until neither has output left at the current instant; returns the
    /// earliest deadline.
    pub(super) fn settle(&mut self) -> Instant {
        loop {
            let mut deadline = None::<Instant>;
            let mut progressed = false;
            for side in [Side::Uac, Side::Uas] {
                loop {
                    let now = self.now;
                    match self.node(side).layer.poll_output(now) {
                        Output::Transmit(t) => {
                            progressed = true;
                            let mut wire = Wire {
                                at: self.elapsed(),
                                from: side,
                                bytes: t.bytes.clone(),
                                dropped: false,
                            };
                            wire.dropped = (self.drop_if)(&wire);
                            let dropped = wire.dropped;
                            self.wire.push(wire);
                            if !dropped {
                                let to = match side {
                                    Side::Uac => Side::Uas,
                                    Side::Uas => Side::Uac,
                                };
                                let source = self.node(side).addr;
                                let message = parse_message(t.bytes).unwrap();
                                self.deliver(to, message, source);
                            }
                        }
                        Output::Event(e) => {
                            progressed = true;
                            let at = self.elapsed();
                            self.node(side).events.push((at, e));
                        }
                        Output::Timeout(at) => {
                            deadline = Some(deadline.map_or(at, |d: Instant| d.min(at)));
                            break;
                        }
                    }
                }
            }
            if !progressed {
                return deadline.unwrap_or(self.now);
            }
        }
    }

    /// Advances virtual time to `start + until`, waking at every deadline on the way.
    pub(super) fn run_until(&mut self, until: Duration) {
        let end = self.start + until;
        loop {
            let next = self.settle();
            if next > end {
                self.now = end;
                self.settle();
                return;
            }
            self.now = next.max(self.now);
            for side in [Side::Uac, Side::Uas] {
                let now = self.now;
                self.node(side).layer.handle(now, Input::Timeout).unwrap();
            }
        }
    }

    /// Instants (seconds since start) of transmits from `side` whose start line begins with
    /// `prefix`.
    pub(super) fn sent_at(&self, side: Side, prefix: &str) -> Vec<f64> {
        self.wire
            .iter()
            .filter(|w| w.from == side && w.start_line().starts_with(prefix))
            .map(|w| w.at.as_secs_f64())
            .collect()
    }

    /// Events of `side` matching `pred`.
    pub(super) fn events(
        &self,
        side: Side,
        pred: impl Fn(&TransactionEvent) -> bool,
    ) -> Vec<(f64, TransactionEvent)> {
        let node = match side {
            Side::Uac => &self.uac,
            Side::Uas => &self.uas,
        };
        node.events
            .iter()
            .filter(|(_, e)| pred(e))
            .map(|(at, e)| (at.as_secs_f64(), e.clone()))
            .collect()
    }

    /// The key of the first server transaction the UAS's TU was told about.
    pub(super) fn first_server_key(&self) -> TransactionKey {
        self.uas
            .events
            .iter()
            .find_map(|(_, e)| match e {
                TransactionEvent::Request { key, .. } => Some(key.clone()),
                _ => None,
            })
            .unwrap()
    }
}

/// A request from the UAC (192.0.2.1) to the UAS, with branch `z9hG4bK<branch>`.
pub(super) fn request(method: &str, branch: &str, transport: Transport) -> Request {
    let text = request_text(method, &format!("z9hG4bK{branch}"), transport);
    match parse_message(Bytes::from(text)).unwrap() {
        Message::Request(r) => *r,
        Message::Response(_) => unreachable!(),
    }
}

/// The text of such a request with any branch value (e.g. an RFC 2543 one).
pub(super) fn request_text(method: &str, branch: &str, transport: Transport) -> String {
    let cseq_method = if method == "ACK" { "ACK" } else { method };
    format!(
        "{method} sip:bob@192.0.2.2 SIP/2.0\r\n\
         Via: SIP/2.0/{t} 192.0.2.1:5060;branch={branch}\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:alice@example.com>;tag=a1\r\n\
         To: <sip:bob@example.com>\r\n\
         Call-ID: call-{branch}\r\n\
         CSeq: 1 {cseq_method}\r\n\
         Content-Length: 0\r\n\r\n",
        t = transport.as_str()
    )
}
