//! OPTIONS addressed to the server (RFC 3261 §11.2): 200 with what we allow, accept and
//! support. Phones send these as keep-alives and load balancers as health checks, so they
//! are answered without authentication and without touching any state.

use hotdesk_sip::endpoint::{new_tag, ServerTransaction};
use hotdesk_sip::StatusCode;

/// Methods the server handles (also the Allow of a 405).
pub(super) const ALLOW: &str = "INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, SUBSCRIBE, NOTIFY";
/// Bodies the server understands (message summaries from a trusted voicemail server).
const ACCEPT: &str = "application/sdp, application/simple-message-summary";
/// Option tags the server implements (RFC 3327 path, RFC 5626 outbound).
const SUPPORTED: &str = "path, outbound";

/// Answers 200 with Allow, Accept and Supported.
pub(super) fn answer(transaction: ServerTransaction) {
    let response = transaction
        .request()
        .response(StatusCode::OK)
        .to_tag(new_tag())
        .header("Allow", ALLOW)
        .header("Accept", ACCEPT)
        .header("Supported", SUPPORTED)
        .build();
    // The endpoint being gone means we are shutting down: no one to answer.
    let _ = transaction.respond(response);
}
