//! Transports and the endpoint over loopback sockets (RFC 3261 §18, RFC 3581, RFC 5626
//! §3.5.1, RFC 7118), with a tiny in-test UAS that answers 200.
//!
//! Covered: UDP, TCP, TLS, WS and WSS round trips; IPv6 loopback (skipped loudly when the
//! machine has none); `received`/`rport`; §18.2.2 response addressing; TCP framing across
//! split writes and pipelined messages; CRLF keep-alive pong; oversize messages (UDP 513,
//! TCP 513 + close); malformed requests answered 400 with the parser's reason; a flood of
//! garbage datagrams and a slow-loris TCP client while good clients are answered; idle
//! time-out; connection limit; connection reuse for responses and new requests; client
//! transactions between two endpoints over UDP, TCP and verified TLS; Timer F; 500 for a
//! dropped server transaction; CANCEL delivered with its INVITE's key; 503 when the
//! application's event queue is full.
//!
//! Not covered here: DNS (see `transport::resolve` unit tests, which inject records),
//! STUN keep-alives, outbound WebSocket (not implemented).

mod events;
mod harness;
mod secure;
mod stream;
mod udp;
