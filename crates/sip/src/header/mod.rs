//! Typed header values, parsed on demand from the raw value a [`crate::Headers`] holds.
//!
//! Each parser takes one value (one element of a comma list where the header is a list) and
//! borrows from it; nothing is allocated. Parsers return `Err(offset)` with the byte offset of
//! the fault within the value; [`crate::Headers`] turns that into a
//! [`crate::ParseError::BadHeader`] carrying the header name and the offset in the message.

mod call_id;
mod contact;
mod cseq;
mod event;
mod expires;
mod from_to;
mod params;
mod via;

pub use call_id::parse_call_id;
pub use contact::{Contact, Q};
pub use cseq::CSeq;
pub use event::{Event, MediaType};
pub use expires::{parse_content_length, parse_delta_seconds, parse_max_forwards, parse_u32};
pub use from_to::NameAddr;
pub(crate) use from_to::NameAddrSpans;
pub use params::{Param, ParamIter, Params};
pub(crate) use via::ViaSpans;
pub use via::{Transport, Via, BRANCH_MAGIC_COOKIE};
