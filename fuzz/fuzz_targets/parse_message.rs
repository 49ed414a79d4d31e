//! Fuzz target: one datagram through `parse_message` and every accessor, with the invariants
//! of `crates/sip/tests/fuzz_exercise` (shared with the `fuzz_smoke` test).
#![no_main]

use libfuzzer_sys::fuzz_target;

// Each target uses one of the entry points.
#[allow(dead_code)]
#[path = "../../crates/sip/tests/fuzz_exercise/mod.rs"]
mod fuzz_exercise;

fuzz_target!(|data: &[u8]| fuzz_exercise::message(data));
