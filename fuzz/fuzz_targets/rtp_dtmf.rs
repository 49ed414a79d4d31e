//! Fuzz target: a stream of length-prefixed datagrams through the RTP, RTCP and RFC 4733
//! parsers and a media session (which must keep pacing one packet per slot).
#![no_main]

use libfuzzer_sys::fuzz_target;

#[allow(dead_code)]
#[path = "../../crates/media/tests/fuzz_exercise/mod.rs"]
mod fuzz_exercise;

fuzz_target!(|data: &[u8]| fuzz_exercise::rtp_dtmf(data));
