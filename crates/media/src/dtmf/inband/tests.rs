//! Goertzel detector on generated tones. Covered: all 16 keys, noise at 15 dB SNR, twist
//! limits, level floor, minimum duration, repeated key with a gap, single tones, noise only,
//! chunking independence. Not covered: real speech talk-off (no corpus in the repo).

use super::*;

/// A small deterministic PRNG so tests need no dependency and are repeatable.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    }
}

fn tone(
    key: char,
    ms: usize,
    row_amp: f64,
    col_amp: f64,
    noise_amp: f64,
    rng: &mut Lcg,
) -> Vec<i16> {
    let (r, c) = KEYPAD
        .iter()
        .enumerate()
        .find_map(|(r, keys)| keys.iter().position(|k| *k == key).map(|c| (r, c)))
        .unwrap();
    let (fr, fc) = (f64::from(ROWS[r]), f64::from(COLUMNS[c]));
    (0..ms * 8)
        .map(|n| {
            let t = n as f64 / 8000.0;
            let x = row_amp * (2.0 * std::f64::consts::PI * fr * t).sin()
                + col_amp * (2.0 * std::f64::consts::PI * fc * t).sin()
                + noise_amp * rng.next();
            x.clamp(-32768.0, 32767.0) as i16
        })
        .collect()
}

fn silence(ms: usize) -> Vec<i16> {
    vec![0; ms * 8]
}

fn detect(samples: &[i16], chunk: usize) -> String {
    let mut detector = InbandDetector::new();
    let mut out = String::new();
    for part in samples.chunks(chunk) {
        detector.push(part, |d| out.push(d.as_char()));
    }
    out
}

#[test]
fn all_sixteen_keys_clean_and_with_noise() {
    let mut rng = Lcg(1);
    let keys = "0123456789*#ABCD";
    let mut audio = Vec::new();
    for key in keys.chars() {
        // 15 dB SNR: tones of 4000 each, uniform noise of amplitude 1500 (rms ≈ 870).
        audio.extend(tone(key, 80, 4000.0, 4000.0, 1500.0, &mut rng));
        audio.extend(silence(60));
    }
    assert_eq!(detect(&audio, 160), keys);
}

#[test]
fn chunk_size_does_not_matter() {
    let mut rng = Lcg(2);
    let mut audio = tone('5', 100, 3000.0, 3000.0, 0.0, &mut rng);
    audio.extend(silence(60));
    audio.extend(tone('9', 100, 3000.0, 3000.0, 0.0, &mut rng));
    for chunk in [1, 80, 160, 205, 999] {
        assert_eq!(detect(&audio, chunk), "59", "chunk {chunk}");
    }
}

#[test]
fn twist_within_8_db_passes_beyond_fails() {
    let mut rng = Lcg(3);
    assert_eq!(
        detect(&tone('1', 100, 2000.0, 4000.0, 0.0, &mut rng), 160),
        "1",
        "6 dB normal twist"
    );
    assert_eq!(
        detect(&tone('1', 100, 4000.0, 2000.0, 0.0, &mut rng), 160),
        "1",
        "6 dB reverse twist"
    );
    assert_eq!(
        detect(&tone('1', 100, 800.0, 8000.0, 0.0, &mut rng), 160),
        "",
        "20 dB twist"
    );
}

#[test]
fn too_quiet_too_short_or_single_tones_are_ignored() {
    let mut rng = Lcg(4);
    assert_eq!(
        detect(&tone('3', 100, 60.0, 60.0, 0.0, &mut rng), 160),
        "",
        "below the level floor"
    );
    assert_eq!(
        detect(&tone('3', 25, 4000.0, 4000.0, 0.0, &mut rng), 160),
        "",
        "25 ms is too short"
    );
    assert_eq!(
        detect(&tone('3', 200, 4000.0, 0.0, 0.0, &mut rng), 160),
        "",
        "row tone only"
    );
    let noise: Vec<i16> = (0..8000).map(|_| (8000.0 * rng.next()) as i16).collect();
    assert_eq!(detect(&noise, 160), "", "white noise");
    // Three tones at once (a chord, not a key).
    let mut chord = tone('1', 200, 4000.0, 4000.0, 0.0, &mut rng);
    for (x, y) in chord
        .iter_mut()
        .zip(tone('9', 200, 4000.0, 0.0, 0.0, &mut rng))
    {
        *x = x.saturating_add(y);
    }
    assert_eq!(detect(&chord, 160), "");
}

#[test]
fn held_key_is_one_digit_and_repeat_after_gap_is_two() {
    let mut rng = Lcg(5);
    assert_eq!(
        detect(&tone('7', 1000, 3000.0, 3000.0, 300.0, &mut rng), 160),
        "7"
    );
    let mut audio = tone('7', 100, 3000.0, 3000.0, 0.0, &mut rng);
    audio.extend(silence(60));
    audio.extend(tone('7', 100, 3000.0, 3000.0, 0.0, &mut rng));
    assert_eq!(detect(&audio, 160), "77");
}
