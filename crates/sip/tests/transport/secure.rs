//! TLS (RFC 3261 §26.2.1) and WebSocket (RFC 7118) listeners, with a self-signed
//! certificate made for the test.

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use futures::{SinkExt, StreamExt};
use hotdesk_sip::endpoint::{Endpoint, EndpointConfig, EndpointError};
use hotdesk_sip::transport::{Target, TlsIdentity, Transport, TransportConfig, TransportError};
use hotdesk_sip::{Method, RequestBuilder, StatusCode};
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message as WsMessage;

use crate::harness::*;

/// A self-signed certificate for 127.0.0.1 and localhost, written to PEM files.
struct Cert {
    _dir: tempfile::TempDir,
    identity: TlsIdentity,
    der: CertificateDer<'static>,
}

fn cert() -> Cert {
    let made =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cert_pem = dir.path().join("cert.pem");
    let key_pem = dir.path().join("key.pem");
    std::fs::write(&cert_pem, made.cert.pem()).unwrap();
    std::fs::write(&key_pem, made.signing_key.serialize_pem()).unwrap();
    Cert {
        _dir: dir,
        identity: TlsIdentity { cert_pem, key_pem },
        der: made.cert.der().clone(),
    }
}

fn secure_config(cert: &Cert) -> TransportConfig {
    TransportConfig {
        tls: vec![loopback()],
        ws: vec![loopback()],
        wss: vec![loopback()],
        tls_identity: Some(cert.identity.clone()),
        tls_roots: Some(cert.identity.cert_pem.clone()),
        ..udp_tcp()
    }
}

fn tls_connector(cert: &Cert) -> tokio_rustls::TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.der.clone()).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

#[tokio::test]
async fn rfc3261_26_2_1_tls_round_trip() {
    let cert = cert();
    let server = uas(secure_config(&cert)).await;
    let addr = server.local_addr(Transport::Tls).unwrap();
    let tcp = TcpStream::connect(addr).await.unwrap();
    let local = tcp.local_addr().unwrap();
    let name = ServerName::try_from("127.0.0.1").unwrap();
    let mut tls = tls_connector(&cert).connect(name, tcp).await.unwrap();
    let request = options(&format!("SIP/2.0/TLS {local};branch=z9hG4bKtls"), "tls");
    tls.write_all(request.as_bytes()).await.unwrap();
    tls.flush().await.unwrap();
    let mut buf = BytesMut::new();
    let m = read_message(&mut tls, &mut buf)
        .await
        .expect("a response over TLS");
    assert_eq!(m.as_response().unwrap().status(), StatusCode::OK);
    // Keep-alives work over TLS too.
    tls.write_all(b"\r\n\r\n").await.unwrap();
    tls.flush().await.unwrap();
    assert_eq!(read_exact(&mut tls, 2).await.as_deref(), Some(&b"\r\n"[..]));
}

#[tokio::test]
async fn rfc3261_26_2_1_endpoint_opens_a_verified_tls_connection() {
    let cert = cert();
    let server = uas(secure_config(&cert)).await;
    let (client, _events) = Endpoint::bind(EndpointConfig {
        transport: secure_config(&cert),
        ..EndpointConfig::default()
    })
    .await
    .unwrap();
    let request = RequestBuilder::new(Method::Options, "sips:hotdesk.test")
        .header("Via", client.via(Transport::Tls).unwrap())
        .header("From", "<sips:client@hotdesk.test>;tag=c")
        .header("To", "<sips:hotdesk.test>")
        .header("Call-ID", "tls-out")
        .header("CSeq", "1 OPTIONS")
        .build()
        .unwrap();
    let target = Target::new(Transport::Tls, server.local_addr(Transport::Tls).unwrap());
    let tx = client.send_request(request, target).unwrap();
    let r = tokio::time::timeout(WAIT, tx.final_response())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

async fn ws_round_trip<S>(mut ws: tokio_tungstenite::WebSocketStream<S>, scheme: &str)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    // RFC 7118 §5.2: the client's Via host is a made-up name; the server adds received.
    let via = format!("SIP/2.0/{scheme} df7jal23ls0d.invalid;rport;branch=z9hG4bKws");
    ws.send(WsMessage::text(options(&via, "ws-text")))
        .await
        .unwrap();
    let reply = tokio::time::timeout(WAIT, ws.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let WsMessage::Text(text) = reply else {
        panic!("expected a text frame, got {reply:?}");
    };
    let r = response(Bytes::from(text));
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.via().unwrap().received(), Some("127.0.0.1"));
    assert!(r.via().unwrap().rport().is_some());
    // A binary frame carries a message just as well.
    let via = format!("SIP/2.0/{scheme} df7jal23ls0d.invalid;branch=z9hG4bKwsbin");
    ws.send(WsMessage::binary(options(&via, "ws-binary").into_bytes()))
        .await
        .unwrap();
    let reply = tokio::time::timeout(WAIT, ws.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(response(reply.into_data()).call_id(), "ws-binary");
}

fn ws_request(
    url: &str,
    subprotocol: bool,
) -> tokio_tungstenite::tungstenite::handshake::client::Request {
    let mut request = url.into_client_request().unwrap();
    if subprotocol {
        request
            .headers_mut()
            .insert("Sec-WebSocket-Protocol", HeaderValue::from_static("sip"));
    }
    request
}

#[tokio::test]
async fn rfc7118_websocket_round_trip_text_and_binary() {
    let cert = cert();
    let server = uas(secure_config(&cert)).await;
    let addr = server.local_addr(Transport::Ws).unwrap();
    let tcp = TcpStream::connect(addr).await.unwrap();
    let (ws, answer) =
        tokio_tungstenite::client_async(ws_request(&format!("ws://{addr}/"), true), tcp)
            .await
            .unwrap();
    assert_eq!(
        answer.headers().get("Sec-WebSocket-Protocol").unwrap(),
        "sip",
        "RFC 7118 §4.1: the server confirms the subprotocol"
    );
    ws_round_trip(ws, "WS").await;
}

#[tokio::test]
async fn rfc7118_secure_websocket_round_trip() {
    let cert = cert();
    let server = uas(secure_config(&cert)).await;
    let addr = server.local_addr(Transport::Wss).unwrap();
    let tcp = TcpStream::connect(addr).await.unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    let tls = tls_connector(&cert).connect(name, tcp).await.unwrap();
    let (ws, _) = tokio_tungstenite::client_async(
        ws_request(&format!("wss://localhost:{}/", addr.port()), true),
        tls,
    )
    .await
    .unwrap();
    ws_round_trip(ws, "WSS").await;
}

#[tokio::test]
async fn rfc7118_4_1_handshake_without_sip_subprotocol_is_refused() {
    let cert = cert();
    let server = uas(secure_config(&cert)).await;
    let addr = server.local_addr(Transport::Ws).unwrap();
    let tcp = TcpStream::connect(addr).await.unwrap();
    let result =
        tokio_tungstenite::client_async(ws_request(&format!("ws://{addr}/"), false), tcp).await;
    assert!(
        result.is_err(),
        "handshake accepted without the sip subprotocol"
    );
}

#[tokio::test]
async fn tls_listener_without_identity_is_refused_at_bind() {
    let config = EndpointConfig {
        transport: TransportConfig {
            wss: vec![loopback()],
            ..udp_tcp()
        },
        ..EndpointConfig::default()
    };
    let result = Endpoint::bind(config).await;
    assert!(
        matches!(
            result,
            Err(EndpointError::Transport(TransportError::NoTlsIdentity {
                transport: Transport::Wss
            }))
        ),
        "{result:?}"
    );
}
