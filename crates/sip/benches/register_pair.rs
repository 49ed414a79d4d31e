//! One SIPp REGISTER pair through a server transaction layer, the way the UDP reader and the
//! registrar drive it: REGISTER → 401 → REGISTER with credentials → 200, both answered
//! statelessly (nothing kept until Timer J). A plain loop (no criterion) so that
//! callgrind's instruction counts and the allocation counter below cover the pairs only.
//! Parsing is done outside the counted part; the two responses are built inside it, as the
//! registrar would.
//! Run with `cargo bench -p hotdesk-sip --bench register_pair [pairs]`, or under
//! `valgrind --tool=callgrind --toggle-collect=*drive_pair*`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hotdesk_sip::header::Transport;
use hotdesk_sip::message::StatusCode;
use hotdesk_sip::parse_message;
use hotdesk_sip::transaction::{Received, TransactionEvent, TransactionLayer};

/// Counts allocations, to report them per pair.
struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);
static COUNTING: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) != 0 {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: forwarded as given.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded as given.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) != 0 {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: forwarded as given.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn register(i: u64, cseq: u32, auth: bool) -> Bytes {
    let auth = if auth {
        "Authorization: Digest username=\"u1\",realm=\"example.com\",nonce=\"abc\",uri=\"sip:example.com\",response=\"0123456789abcdef0123456789abcdef\"\r\n"
    } else {
        ""
    };
    Bytes::from(format!(
        "REGISTER sip:example.com SIP/2.0\r\n\
         Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK{i:016x}-{cseq}\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:u1@example.com>;tag=a{i}\r\n\
         To: <sip:u1@example.com>\r\n\
         Call-ID: {i}@192.0.2.1\r\n\
         CSeq: {cseq} REGISTER\r\n\
         Contact: <sip:u1@192.0.2.1:5060>\r\n\
         {auth}Expires: 3600\r\n\
         Content-Length: 0\r\n\r\n"
    ))
}

fn received(bytes: Bytes, source: SocketAddr) -> Received {
    let Ok(message) = parse_message(bytes) else {
        panic!("bad request");
    };
    Received {
        message,
        source,
        transport: Transport::Udp,
    }
}

/// One request through the layer and its answer back: 1 if the answer was sent at once.
fn exchange(
    layer: &mut TransactionLayer,
    now: Instant,
    request: Received,
    status: StatusCode,
    stateless: bool,
) -> u64 {
    let arrival = layer.receive_now(now, request);
    let Some(TransactionEvent::Request { key, request }) = arrival.event else {
        panic!("REGISTER not passed on as a request");
    };
    let Some(req) = request.message.as_request() else {
        panic!("not a request");
    };
    let response = req.response(status).to_tag("b").build();
    layer
        .respond_now(now, &key, &response, stateless)
        .map_or(0, |i| u64::from(i.transmit.is_some()))
}

/// The counted part: what the layer does for one pair (the challenge and the 200 go out
/// statelessly, as the registrar sends them).
#[inline(never)]
fn drive_pair(
    layer: &mut TransactionLayer,
    now: Instant,
    first: Received,
    second: Received,
    sent: &mut u64,
) {
    *sent += exchange(layer, now, first, StatusCode::UNAUTHORIZED, true);
    *sent += exchange(layer, now, second, StatusCode::OK, true);
}

fn main() {
    let pairs: u64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(100_000);
    let source: SocketAddr = "192.0.2.1:5060".parse().unwrap_or_else(|e| panic!("{e}"));
    let mut layer = TransactionLayer::default();
    let start = Instant::now();
    let mut sent = 0;
    let mut allocs = 0;
    for i in 0..pairs {
        // 50 µs of virtual time per pair (20,000 pairs/s). Each transaction opened put a
        // deadline in the table; answered statelessly, its slot is freed at once, and the
        // deadline, stale by then, is dropped when virtual time reaches it.
        let now = start + Duration::from_micros(i * 50);
        let first = received(register(i, 1, false), source);
        let second = received(register(i, 2, true), source);
        let before = ALLOCS.load(Ordering::Relaxed);
        COUNTING.store(1, Ordering::Relaxed);
        drive_pair(&mut layer, now, first, second, &mut sent);
        // Timers run on the endpoint task, as often as the driver polls.
        let _ = layer.poll_output(now);
        COUNTING.store(0, Ordering::Relaxed);
        allocs += ALLOCS.load(Ordering::Relaxed) - before;
    }
    println!(
        "pairs {pairs} sent {sent} live {} allocations/pair (layer + response build) {:.2}",
        layer.stats().transactions,
        allocs as f64 / pairs as f64
    );
}
