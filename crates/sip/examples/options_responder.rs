//! A minimal UAS on the endpoint: answers every request with 200 OK (CANCEL too). For
//! checking the transports by hand and measuring them with SIPp or sipsak:
//!
//! ```text
//! cargo run --release -p hotdesk-sip --example options_responder -- 127.0.0.1:5070
//! sipsak -s sip:ping@127.0.0.1:5070
//! sipp -sn uac -m 100000 -r 10000 127.0.0.1:5070   # with an OPTIONS scenario
//! ```

use std::net::SocketAddr;
use std::time::Duration;

use hotdesk_sip::endpoint::{Endpoint, EndpointConfig, EndpointEvent};
use hotdesk_sip::transport::TransportConfig;
use hotdesk_sip::StatusCode;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr: SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:5070".to_owned())
        .parse()?;
    let config = EndpointConfig {
        transport: TransportConfig::udp_tcp(addr),
        ..EndpointConfig::default()
    };
    let (endpoint, mut events) = Endpoint::bind(config).await?;
    for (transport, local) in endpoint.local_addrs() {
        println!("listening on {} {local}", transport.as_str());
    }
    let monitor = endpoint.clone();
    tokio::spawn(async move {
        let mut last = monitor.stats();
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let now = monitor.stats();
            let rate = now.transport.received - last.transport.received;
            if rate > 0 {
                println!(
                    "{rate} msg/s, {} transactions, {} dropped, {} refused, {} unsent, total {}",
                    now.layer.transactions,
                    now.transport.overload_dropped,
                    now.overload_refused,
                    now.send_failed,
                    now.transport.received
                );
            }
            last = now;
        }
    });
    while let Some(event) = events.recv().await {
        match event {
            EndpointEvent::Request(tx) => {
                let _ = tx.reply(StatusCode::OK);
            }
            EndpointEvent::Cancel { cancel, .. } => {
                let _ = cancel.reply(StatusCode::OK);
            }
            EndpointEvent::Ack(_)
            | EndpointEvent::ServerTimeout { .. }
            | EndpointEvent::ServerTransportError { .. } => {}
        }
    }
    Ok(())
}
