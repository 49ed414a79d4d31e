//! Fuzz target: one `Authorization` value through `Credentials::parse` and digest
//! verification (nonce check, nonce count, response), as `crates/sip/tests/fuzz_exercise`
//! does for the `fuzz_smoke` test.
#![no_main]

use libfuzzer_sys::fuzz_target;

// Each target uses one of the entry points.
#[allow(dead_code)]
#[path = "../../crates/sip/tests/fuzz_exercise/mod.rs"]
mod fuzz_exercise;

fuzz_target!(|data: &[u8]| fuzz_exercise::digest(data));
