//! Fuzz target: a byte stream cut into chunks (size from the first byte) through `Framer`,
//! each framed message through `parse_message` and every accessor.
#![no_main]

use libfuzzer_sys::fuzz_target;

// Each target uses one of the entry points.
#[allow(dead_code)]
#[path = "../../crates/sip/tests/fuzz_exercise/mod.rs"]
mod fuzz_exercise;

fuzz_target!(|data: &[u8]| fuzz_exercise::framing(data));
