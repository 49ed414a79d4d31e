//! Reading prompt audio: RIFF/WAVE with 16-bit PCM, mono, 8000 Hz (the format
//! `prompts/generate.sh` writes), or raw signed 16-bit little-endian at 8 kHz (`.raw`, `.sln`).

use thiserror::Error;

/// Why a prompt file cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WavError {
    /// Not a RIFF/WAVE file.
    #[error("not a RIFF/WAVE file")]
    NotWave,
    /// No `fmt ` chunk before the `data` chunk, or a chunk runs past the end.
    #[error("WAVE file is missing or truncates its {0} chunk")]
    MissingChunk(&'static str),
    /// The format is not 8 kHz mono 16-bit PCM.
    #[error("WAVE format {format} with {channels} channel(s) at {rate} Hz, {bits} bits; need PCM mono 8000 Hz 16 bits")]
    UnsupportedFormat {
        /// Format tag (1 = PCM).
        format: u16,
        /// Channels.
        channels: u16,
        /// Sample rate.
        rate: u32,
        /// Bits per sample.
        bits: u16,
    },
}

fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    bytes
        .get(at..at + 2)
        .map(|b| u16::from_le_bytes([b[0], b[1]]))
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    bytes
        .get(at..at + 4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// Raw s16le samples (an odd trailing byte is dropped).
pub fn samples_from_raw(bytes: &[u8]) -> Vec<i16> {
    bytes
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect()
}

/// Samples of an 8 kHz mono 16-bit PCM WAVE file.
pub fn samples_from_wav(bytes: &[u8]) -> Result<Vec<i16>, WavError> {
    if bytes.get(0..4) != Some(b"RIFF") || bytes.get(8..12) != Some(b"WAVE") {
        return Err(WavError::NotWave);
    }
    let mut offset = 12;
    let mut format_ok = false;
    while let (Some(id), Some(size)) = (bytes.get(offset..offset + 4), u32_at(bytes, offset + 4)) {
        let body = offset + 8;
        let size = size as usize;
        match id {
            b"fmt " => {
                let field = |at| u16_at(bytes, body + at).ok_or(WavError::MissingChunk("fmt "));
                let rate = u32_at(bytes, body + 4).ok_or(WavError::MissingChunk("fmt "))?;
                let (format, channels, bits) = (field(0)?, field(2)?, field(14)?);
                // 0xFFFE is WAVE_FORMAT_EXTENSIBLE; sox writes it for some outputs.
                if !(format == 1 || format == 0xFFFE) || channels != 1 || rate != 8000 || bits != 16
                {
                    return Err(WavError::UnsupportedFormat {
                        format,
                        channels,
                        rate,
                        bits,
                    });
                }
                format_ok = true;
            }
            b"data" => {
                if !format_ok {
                    return Err(WavError::MissingChunk("fmt "));
                }
                // Some writers leave the size at 0 or 0xFFFFFFFF when streaming: take the rest.
                let end = body.saturating_add(size).min(bytes.len());
                return Ok(samples_from_raw(bytes.get(body..end).unwrap_or(&[])));
            }
            _ => {}
        }
        offset = body.saturating_add(size).saturating_add(size % 2);
    }
    Err(WavError::MissingChunk("data"))
}

/// Writes an 8 kHz mono 16-bit WAVE file image (used by tests and tools).
pub fn to_wav(samples: &[i16]) -> Vec<u8> {
    let data_len = (samples.len() * 2) as u32;
    let mut out = Vec::with_capacity(44 + samples.len() * 2);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&8000u32.to_le_bytes());
    out.extend_from_slice(&16000u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        out.extend_from_slice(&s.to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_rejections() {
        let samples = [0i16, 1, -1, 12345, i16::MIN];
        assert_eq!(samples_from_wav(&to_wav(&samples)).unwrap(), samples);
        assert_eq!(samples_from_wav(b"nope"), Err(WavError::NotWave));
        let mut stereo = to_wav(&samples);
        stereo[22] = 2;
        assert!(matches!(
            samples_from_wav(&stereo),
            Err(WavError::UnsupportedFormat { channels: 2, .. })
        ));
        let wav = to_wav(&samples);
        for cut in 0..wav.len() {
            let _ = samples_from_wav(&wav[..cut]);
        }
        assert_eq!(samples_from_raw(&[1, 0, 2]), [1]);
    }
}
