//! In-band DTMF detection (ITU-T Q.23/Q.24 tones) with the Goertzel algorithm, for phones
//! that send neither RFC 4733 nor SIP INFO.
//!
//! Audio is cut into blocks of 205 samples (25.6 ms at 8 kHz: bins 39 Hz wide, narrower
//! than the 73 Hz between row tones). A block holds a key when one row and one column tone
//! stand out: together they carry most of the block's energy (so speech and noise do not
//! pass), each is 6 dB above the others of its group, the twist between them is within
//! 8 dB, and the level is above a floor. A key is reported after two consecutive blocks
//! agree (about 40 ms of tone at minimum) and not again until a block without it.

use super::Digit;

const SAMPLE_RATE: f32 = 8000.0;
const BLOCK: usize = 205;
const ROWS: [f32; 4] = [697.0, 770.0, 852.0, 941.0];
const COLUMNS: [f32; 4] = [1209.0, 1336.0, 1477.0, 1633.0];
const KEYPAD: [[char; 4]; 4] = [
    ['1', '2', '3', 'A'],
    ['4', '5', '6', 'B'],
    ['7', '8', '9', 'C'],
    ['*', '0', '#', 'D'],
];
/// Mean power floor per sample: a tone pair at about -40 dBFS.
const MIN_MEAN_POWER: f32 = 100.0 * 100.0;
/// Share of the block's energy the two tones must carry.
const MIN_TONE_SHARE: f32 = 0.6;
/// 8 dB either way between the row and column tone.
const MAX_TWIST: f32 = 6.31;
/// Each tone must be this much (6 dB) above the others of its group.
const MIN_GROUP_MARGIN: f32 = 4.0;

/// Streaming detector; feed it decoded audio in any chunk size.
#[derive(Debug, Clone)]
pub struct InbandDetector {
    coefficients: [f32; 8],
    block: [f32; BLOCK],
    filled: usize,
    previous: Option<Digit>,
    reported: Option<Digit>,
}

impl Default for InbandDetector {
    fn default() -> Self {
        Self::new()
    }
}

impl InbandDetector {
    /// A detector with empty state.
    pub fn new() -> Self {
        let mut coefficients = [0.0; 8];
        for (c, f) in coefficients
            .iter_mut()
            .zip(ROWS.iter().chain(COLUMNS.iter()))
        {
            *c = 2.0 * (2.0 * std::f32::consts::PI * f / SAMPLE_RATE).cos();
        }
        Self {
            coefficients,
            block: [0.0; BLOCK],
            filled: 0,
            previous: None,
            reported: None,
        }
    }

    /// Feeds samples; calls `on_digit` for each key press that completes its minimum duration.
    pub fn push(&mut self, samples: &[i16], mut on_digit: impl FnMut(Digit)) {
        for &sample in samples {
            self.block[self.filled] = f32::from(sample);
            self.filled += 1;
            if self.filled == BLOCK {
                self.filled = 0;
                let found = self.analyse();
                if found.is_some() && found == self.previous && self.reported != found {
                    if let Some(digit) = found {
                        on_digit(digit);
                    }
                    self.reported = found;
                }
                if found.is_none() {
                    self.reported = None;
                }
                self.previous = found;
            }
        }
    }

    /// Goertzel energy of each of the 8 tones, scaled to the tone's energy in the block.
    fn tone_energies(&self) -> [f32; 8] {
        let mut out = [0.0; 8];
        for (energy, &coefficient) in out.iter_mut().zip(&self.coefficients) {
            let (mut s1, mut s2) = (0.0f32, 0.0f32);
            for &x in &self.block {
                let s0 = x + coefficient * s1 - s2;
                s2 = s1;
                s1 = s0;
            }
            let power = s1 * s1 + s2 * s2 - coefficient * s1 * s2;
            // |X|² ≈ (A·N/2)² for a tone of amplitude A; its energy in the block is N·A²/2.
            *energy = 2.0 * power / BLOCK as f32;
        }
        out
    }

    fn analyse(&self) -> Option<Digit> {
        let total: f32 = self.block.iter().map(|x| x * x).sum();
        if total / (BLOCK as f32) < MIN_MEAN_POWER {
            return None;
        }
        let energies = self.tone_energies();
        let (rows, columns) = energies.split_at(4);
        let row = strongest(rows)?;
        let column = strongest(columns)?;
        let (row_energy, column_energy) = (rows[row], columns[column]);
        if row_energy + column_energy < MIN_TONE_SHARE * total {
            return None;
        }
        if column_energy > MAX_TWIST * row_energy || row_energy > MAX_TWIST * column_energy {
            return None;
        }
        Digit::from_char(KEYPAD[row][column])
    }
}

/// Index of the strongest tone of a group when it beats the others by the margin.
fn strongest(group: &[f32]) -> Option<usize> {
    let (best, &energy) = group.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1))?;
    let clear = group
        .iter()
        .enumerate()
        .all(|(i, &e)| i == best || e * MIN_GROUP_MARGIN < energy);
    clear.then_some(best)
}

#[cfg(test)]
mod tests;
