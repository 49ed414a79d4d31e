//! Fuzz target: an SDP offer through the parser and the answerer; accepted offers must give
//! an answer that parses and negotiates the same codec.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[allow(dead_code)]
#[path = "../../crates/media/tests/fuzz_exercise/mod.rs"]
mod fuzz_exercise;

fuzz_target!(|data: &[u8]| fuzz_exercise::sdp_offer(data));
