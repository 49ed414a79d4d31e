//! Transaction layer tests in virtual time: a UAC layer joined to a UAS layer
//! ([`harness`]); loss is a filter over transmits; instants are asserted on the virtual clock.
//!
//! Files: `non_invite.rs` (§17.1.2, §17.2.2), `invite.rs` (§17.1.1, §17.2.1, RFC 6026),
//! `matching.rs` (§17.2.3 keys, RFC 2543 fallback, §9.2 CANCEL, TU misuse, transport errors),
//! `deferred.rs` (methods that open no transaction until the TU opens one, §8.2.7).
//! Each opens with the scenarios it covers and those it does not.

mod deferred;
mod harness;
mod invite;
mod matching;
mod non_invite;
