//! A libFuzzer-free stand-in for the fuzz targets that runs under `cargo test`: mutates the
//! RFC 4475 torture messages and the fuzz seed corpus pseudo-randomly (seeded, reproducible)
//! and checks that parsing and framing never panic and that accepted messages keep their
//! invariants (see `fuzz_exercise`). HD-SEC-5: nothing malformed crashes the server. The
//! digest seeds (`fuzz/corpus/digest_credentials`) are mutated the same way and verified.
//!
//! `HOTDESK_FUZZ_ITERATIONS` sets the number of mutations per seed message (default 200).

mod fuzz_exercise;

use std::path::{Path, PathBuf};

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// Bytes that matter to the grammar, so mutations hit the interesting paths.
const SPECIAL: &[u8] = b"\r\n \t:;,=<>\"\\%@?[]/0123456789*.-+";

fn mutate(rng: &mut Rng, input: &[u8], other: &[u8]) -> Vec<u8> {
    let mut v = input.to_vec();
    for _ in 0..=rng.below(4) {
        let at = rng.below(v.len() + 1);
        match rng.below(8) {
            0 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] = SPECIAL[rng.below(SPECIAL.len())];
            }
            1 if !v.is_empty() => {
                let end = (at + rng.below(16)).min(v.len());
                v.drain(at.min(end)..end);
            }
            2 => v.insert(at, SPECIAL[rng.below(SPECIAL.len())]),
            3 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] = rng.next() as u8;
            }
            4 if !other.is_empty() => {
                // Splice a slice of another message in (header lines from elsewhere).
                let s = rng.below(other.len());
                let e = (s + rng.below(64)).min(other.len());
                v.splice(at..at, other[s..e].iter().copied());
            }
            5 if !v.is_empty() => {
                // Duplicate a line-sized run.
                let s = rng.below(v.len());
                let e = (s + rng.below(80)).min(v.len());
                let run: Vec<u8> = v[s..e].to_vec();
                v.splice(at..at, run);
            }
            6 => v.truncate(at),
            _ => {
                let digits = (rng.next() % 100_000_000_000).to_string();
                v.splice(at..at, digits.bytes());
            }
        }
    }
    v
}

/// The files in `dir`, in name order (none, with a note, when it cannot be read).
fn files_in(dir: &Path) -> Vec<Vec<u8>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        eprintln!("!!! fuzz smoke: no seeds in {} (skipped)", dir.display());
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    paths.iter().filter_map(|p| std::fs::read(p).ok()).collect()
}

/// The seeds of fuzz target `target` (`fuzz/corpus/<target>`).
fn corpus(target: &str) -> Vec<Vec<u8>> {
    files_in(
        &PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../fuzz/corpus")
            .join(target),
    )
}

fn seeds() -> Vec<Vec<u8>> {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let rfc = std::env::var_os("HOTDESK_RFC4475_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest.join("../../../shared/rfc4475"))
        .join("dat");
    let mut out = files_in(&rfc);
    out.extend(corpus("parse_message"));
    out.extend(corpus("framing"));
    out
}

fn iterations() -> usize {
    std::env::var("HOTDESK_FUZZ_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200)
}

#[test]
fn hd_sec_5_mutated_messages_never_panic_the_parser() {
    let seeds = seeds();
    assert!(!seeds.is_empty(), "no seed messages found");
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let n = iterations();
    for (i, seed) in seeds.iter().enumerate() {
        fuzz_exercise::message(seed);
        let other = &seeds[(i + 1) % seeds.len()];
        for _ in 0..n {
            fuzz_exercise::message(&mutate(&mut rng, seed, other));
        }
    }
}

#[test]
fn hd_sec_5_mutated_streams_never_panic_the_framer() {
    let seeds = seeds();
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    let n = iterations() / 2;
    for (i, seed) in seeds.iter().enumerate() {
        let other = &seeds[(i + 7) % seeds.len()];
        for _ in 0..n {
            let mut stream = vec![rng.next() as u8];
            stream.extend_from_slice(b"\r\n\r\n");
            stream.extend(mutate(&mut rng, seed, other));
            stream.extend_from_slice(seed);
            fuzz_exercise::framing(&stream);
        }
    }
}

// HD-SEC-3, HD-SEC-5: mangled credentials (some with a nonce this process issued, so they
// reach the response check) never panic verification and never verify.
#[test]
fn hd_sec_5_mutated_credentials_never_panic_or_pass_digest_verification() {
    let seeds = corpus("digest_credentials");
    assert!(seeds.len() >= 4, "digest seeds missing");
    let mut rng = Rng(0xA076_1D64_78BD_642F);
    let n = iterations() * 5;
    for (i, seed) in seeds.iter().enumerate() {
        fuzz_exercise::digest(seed);
        let other = &seeds[(i + 1) % seeds.len()];
        for _ in 0..n {
            fuzz_exercise::digest(&mutate(&mut rng, seed, other));
        }
    }
}
