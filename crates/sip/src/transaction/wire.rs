//! What the layer reads from messages (keys, status) and the two messages it writes
//! itself: the automatic `100 Trying` (§8.2.6) and the ACK for a non-2xx final (§17.1.1.3).

use bytes::Bytes;

use super::key::{is_rfc3261_branch, LegacyFields, TransactionKey};
use super::TransactionError;
use crate::message::{HeaderName, Method, Request, RequestBuilder, Response, StatusCode};

/// The server key of a received request (§17.2.3) and its method.
pub(crate) fn server_key(request: &Request) -> Result<(TransactionKey, &str), TransactionError> {
    let method = request.method().as_str();
    let via = request
        .via()
        .map_err(|_| TransactionError::Missing { what: "Via" })?;
    let key = match via.branch() {
        Some(branch) if is_rfc3261_branch(branch) => {
            TransactionKey::server(branch, via.host_str(), via.port_or_default(), method)
        }
        _ => {
            let from = request
                .from()
                .map_err(|_| TransactionError::Missing { what: "From" })?;
            TransactionKey::server_legacy(&LegacyFields {
                request_uri: request.uri_str(),
                from_tag: from.tag().unwrap_or_default(),
                call_id: request.call_id(),
                cseq: request.cseq().seq,
                top_via: via.as_str(),
                method,
            })
        }
    };
    Ok((key, method))
}

/// The client key of a request we send (§17.1.3) and its method.
pub(crate) fn client_key(request: &Request) -> Result<(TransactionKey, &str), TransactionError> {
    let method = request.method().as_str();
    let via = request
        .via()
        .map_err(|_| TransactionError::Missing { what: "Via" })?;
    let branch = via
        .branch()
        .filter(|b| !b.is_empty())
        .ok_or(TransactionError::Missing { what: "Via branch" })?;
    Ok((TransactionKey::client(branch, method), method))
}

/// The client key a response matches (§17.1.3: top Via branch and CSeq method) and its status.
pub(crate) fn response_key(response: &Response) -> Result<(TransactionKey, u16), TransactionError> {
    let via = response
        .via()
        .map_err(|_| TransactionError::Missing { what: "Via" })?;
    let branch = via
        .branch()
        .ok_or(TransactionError::Missing { what: "Via branch" })?;
    let key = TransactionKey::client(branch, response.cseq().method.as_str());
    Ok((key, response.status().as_u16()))
}

/// The bytes to put on the wire (shared with the message, no copy).
pub(crate) fn request_bytes(request: &Request) -> Bytes {
    request.as_bytes().clone()
}

/// The bytes to put on the wire.
pub(crate) fn response_bytes(response: &Response) -> Bytes {
    response.as_bytes().clone()
}

/// `100 Trying` for `request`: its Via, From, To, Call-ID and CSeq copied (§8.2.6.2; a 100
/// need not add a To tag), empty body.
pub(crate) fn trying(request: &Request) -> Bytes {
    request
        .response(StatusCode::TRYING)
        .build()
        .as_bytes()
        .clone()
}

/// The ACK for a 300–699 `response` to `invite` (§17.1.1.3): the INVITE's Request-URI, top
/// Via, From, Call-ID, CSeq number and Route set, the response's To (with its tag).
/// `None` when the response lacks a To line or the INVITE a Via.
pub(crate) fn ack(invite: &Request, response: &Response) -> Option<Bytes> {
    let to = response.headers().get(HeaderName::To)?.value_str().ok()?;
    let via = invite.via().ok()?;
    let headers = invite.headers();
    let mut builder = RequestBuilder::new(Method::Ack, invite.uri_str())
        .header("Via", via.as_str())
        .header("Max-Forwards", "70");
    for header in headers.iter() {
        if let (HeaderName::From | HeaderName::CallId | HeaderName::Route, Ok(value)) =
            (header.name(), header.value_str())
        {
            builder = builder.header(header.raw_name(), value);
        }
    }
    let cseq = format!("{} ACK", invite.cseq().seq);
    Some(builder.header("To", to).header("CSeq", cseq).to_bytes())
}
