//! A complete non-INVITE transaction through two transaction layers (client and server):
//! send OPTIONS, receive it (parse), answer 200, receive the 200 (parse), Timer K/J expiry.
//! Run with `cargo bench -p hotdesk-sip --bench transaction`.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use hotdesk_sip::header::Transport;
use hotdesk_sip::message::{Message, StatusCode};
use hotdesk_sip::parse_message;
use hotdesk_sip::transaction::{
    Input, Outgoing, Output, Received, TransactionEvent, TransactionLayer,
};

fn options(i: u64) -> Bytes {
    Bytes::from(format!(
        "OPTIONS sip:bob@192.0.2.2 SIP/2.0\r\n\
         Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK{i:016x}\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:alice@example.com>;tag=a{i}\r\n\
         To: <sip:bob@example.com>\r\n\
         Call-ID: {i}@192.0.2.1\r\n\
         CSeq: 1 OPTIONS\r\n\
         Content-Length: 0\r\n\r\n"
    ))
}

/// Drains `layer`, returning the transmitted bytes and the server key of a new request.
fn drain(
    layer: &mut TransactionLayer,
    now: Instant,
    sent: &mut Vec<Bytes>,
    events: &mut Vec<TransactionEvent>,
) {
    loop {
        match layer.poll_output(now) {
            Output::Transmit(t) => sent.push(t.bytes),
            Output::Event(e) => events.push(e),
            Output::Timeout(_) => return,
        }
    }
}

fn non_invite(c: &mut Criterion) {
    let uac_addr: SocketAddr = "192.0.2.1:5060".parse().unwrap_or_else(|e| panic!("{e}"));
    let uas_addr: SocketAddr = "192.0.2.2:5060".parse().unwrap_or_else(|e| panic!("{e}"));
    let mut uac = TransactionLayer::default();
    let mut uas = TransactionLayer::default();
    let start = Instant::now();
    let mut i = 0u64;
    let mut sent = Vec::new();
    let mut events = Vec::new();
    let mut group = c.benchmark_group("transaction");
    group.throughput(Throughput::Elements(1));
    group.bench_function("non_invite_udp_complete", |b| {
        b.iter(|| {
            i += 1;
            // 1 ms of virtual time per transaction: Timers J (32 s) and K (5 s) expire as it
            // passes, so the tables hold a steady ~37k live transactions, as at 1k/s.
            let now = start + Duration::from_micros(i * 1_000);
            let Ok(Message::Request(request)) = parse_message(options(i)) else {
                panic!("bad request");
            };
            let out = Outgoing::Request {
                request: *request,
                destination: uas_addr,
                transport: Transport::Udp,
            };
            let _ = uac.handle(now, Input::Send(out));
            drain(&mut uac, now, &mut sent, &mut events);
            for bytes in sent.drain(..) {
                if let Ok(message) = parse_message(bytes) {
                    let received = Received {
                        message,
                        source: uac_addr,
                        transport: Transport::Udp,
                    };
                    let _ = uas.handle(now, Input::Received(received));
                }
            }
            drain(&mut uas, now, &mut sent, &mut events);
            for event in events.drain(..) {
                if let TransactionEvent::Request { key, request } = event {
                    if let Some(req) = request.message.as_request() {
                        let response = req.response(StatusCode::OK).to_tag("b").build();
                        let _ = uas.handle(now, Input::Send(Outgoing::Response { key, response }));
                    }
                }
            }
            drain(&mut uas, now, &mut sent, &mut events);
            for bytes in sent.drain(..) {
                if let Ok(message) = parse_message(bytes) {
                    let received = Received {
                        message,
                        source: uas_addr,
                        transport: Transport::Udp,
                    };
                    let _ = uac.handle(now, Input::Received(received));
                }
            }
            drain(&mut uac, now, &mut sent, &mut events);
            events.clear();
        })
    });
    group.finish();
    println!(
        "live transactions at the end: uac {} uas {}",
        uac.stats().transactions,
        uas.stats().transactions
    );
}

criterion_group!(benches, non_invite);
criterion_main!(benches);
