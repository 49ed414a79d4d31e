//! hotdesk's SIP stack: a zero-copy message model and parser (RFC 3261 §7, §19, §20, §25;
//! RFC 4475 torture messages), a message builder, stream framing with RFC 5626 keep-alives,
//! digest authentication and transactions.
//!
//! It knows nothing of hot desks, opens no socket in the parser and builder, and reads no
//! clock. Messages are views over one [`bytes::Bytes`] buffer: the parser records where each
//! header sits and typed accessors parse a header only when asked.
//!
//! Not covered: SDP, multipart bodies, S/MIME, RFC 2543 transaction matching (left to the
//! transaction layer), header comments in parentheses.
#![warn(missing_docs)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod decimal;
pub mod digest;
pub mod endpoint;
pub mod header;
pub mod id_table;
pub mod message;
pub mod parse;
mod spans;
pub mod transaction;
pub mod transport;
pub mod uri;

pub use message::{
    HeaderName, Headers, Message, Method, Request, RequestBuilder, Response, ResponseBuilder,
    StatusCode,
};
pub use parse::{parse_message, ParseError, MAX_MESSAGE_SIZE};
pub use uri::{Host, SipUri, Uri};
