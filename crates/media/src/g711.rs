//! G.711 µ-law (PCMU, RTP payload type 0) and A-law (PCMA, payload type 8) companding.
//!
//! Decoding uses 256-entry tables computed at compile time; encoding is a few integer
//! operations (segment = position of the highest set bit), so no 64 KiB table is needed.

/// The two G.711 laws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Codec {
    /// µ-law, static RTP payload type 0 (`PCMU/8000`).
    Pcmu,
    /// A-law, static RTP payload type 8 (`PCMA/8000`).
    Pcma,
}

impl Codec {
    /// The static RTP payload type (RFC 3551 §6).
    pub fn static_payload_type(self) -> u8 {
        match self {
            Self::Pcmu => 0,
            Self::Pcma => 8,
        }
    }

    /// The encoding name used in `a=rtpmap`.
    pub fn encoding_name(self) -> &'static str {
        match self {
            Self::Pcmu => "PCMU",
            Self::Pcma => "PCMA",
        }
    }

    /// Encodes one 16-bit linear sample.
    pub fn encode(self, sample: i16) -> u8 {
        match self {
            Self::Pcmu => ulaw_encode(sample),
            Self::Pcma => alaw_encode(sample),
        }
    }

    /// Decodes one companded byte to a 16-bit linear sample.
    pub fn decode(self, byte: u8) -> i16 {
        match self {
            Self::Pcmu => ULAW_DECODE[usize::from(byte)],
            Self::Pcma => ALAW_DECODE[usize::from(byte)],
        }
    }

    /// The byte that decodes to (near) zero: what silence looks like on the wire.
    pub fn silence(self) -> u8 {
        match self {
            Self::Pcmu => 0xFF,
            Self::Pcma => 0xD5,
        }
    }

    /// Encodes a block of samples, appending to `out`.
    pub fn encode_into(self, samples: &[i16], out: &mut Vec<u8>) {
        out.extend(samples.iter().map(|&s| self.encode(s)));
    }

    /// Decodes a block of bytes, appending to `out`.
    pub fn decode_into(self, bytes: &[u8], out: &mut Vec<i16>) {
        out.extend(bytes.iter().map(|&b| self.decode(b)));
    }
}

const ULAW_BIAS: i32 = 0x84;
const ULAW_CLIP: i32 = 32635;

/// µ-law encoding (ITU-T G.711 §2): bias, find the segment, keep 4 mantissa bits, invert.
pub fn ulaw_encode(sample: i16) -> u8 {
    let mut magnitude = i32::from(sample);
    let sign = if magnitude < 0 {
        magnitude = -magnitude;
        0x80
    } else {
        0
    };
    magnitude = magnitude.min(ULAW_CLIP) + ULAW_BIAS;
    // magnitude is in 0x84..=0x7FFF, so its top bit is bit 7..=14: segment 0..=7.
    let segment = (31 - (magnitude as u32).leading_zeros()) as i32 - 7;
    let mantissa = (magnitude >> (segment + 3)) & 0x0F;
    !((sign | (segment << 4) | mantissa) as u8)
}

const fn ulaw_decode_const(byte: u8) -> i16 {
    let inverted = !byte;
    let segment = ((inverted >> 4) & 0x07) as i32;
    let mantissa = (inverted & 0x0F) as i32;
    let magnitude = (((mantissa << 3) + ULAW_BIAS) << segment) - ULAW_BIAS;
    if inverted & 0x80 != 0 {
        -magnitude as i16
    } else {
        magnitude as i16
    }
}

/// A-law encoding (ITU-T G.711 §3) on the 13-bit magnitude; even bits inverted (0x55).
pub fn alaw_encode(sample: i16) -> u8 {
    let (magnitude, mask) = if sample >= 0 {
        (i32::from(sample) >> 3, 0xD5u8)
    } else {
        // One's complement keeps -1 and 0 symmetric around the first step.
        ((-i32::from(sample) - 1) >> 3, 0x55u8)
    };
    // magnitude is 0..=4095 (12 bits); segment 0 and 1 share the same step size.
    let code = if magnitude < 32 {
        (magnitude >> 1) as u8
    } else {
        let segment = (31 - (magnitude as u32).leading_zeros()) as i32 - 4; // 1..=7
        ((segment << 4) | ((magnitude >> segment) & 0x0F)) as u8
    };
    code ^ mask
}

const fn alaw_decode_const(byte: u8) -> i16 {
    let value = byte ^ 0x55;
    let segment = ((value & 0x70) >> 4) as i32;
    let mut magnitude = ((value & 0x0F) as i32) << 4;
    magnitude = match segment {
        0 => magnitude + 8,
        1 => magnitude + 0x108,
        _ => (magnitude + 0x108) << (segment - 1),
    };
    if value & 0x80 != 0 {
        magnitude as i16
    } else {
        -magnitude as i16
    }
}

/// µ-law byte → linear sample.
static ULAW_DECODE: [i16; 256] = {
    let mut out = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        out[i] = ulaw_decode_const(i as u8);
        i += 1;
    }
    out
};

/// A-law byte → linear sample.
static ALAW_DECODE: [i16; 256] = {
    let mut out = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        out[i] = alaw_decode_const(i as u8);
        i += 1;
    }
    out
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3551_silence_bytes_decode_to_near_zero() {
        assert_eq!(Codec::Pcmu.decode(Codec::Pcmu.silence()), 0);
        assert!(Codec::Pcma.decode(Codec::Pcma.silence()).abs() <= 8);
        assert_eq!(ulaw_encode(0), 0xFF);
        assert_eq!(alaw_encode(0), 0xD5);
    }

    #[test]
    fn every_code_round_trips_through_linear() {
        for codec in [Codec::Pcmu, Codec::Pcma] {
            for byte in 0..=255u8 {
                let linear = codec.decode(byte);
                let again = codec.decode(codec.encode(linear));
                assert_eq!(linear, again, "{codec:?} byte {byte:#04x}");
            }
        }
    }

    #[test]
    fn encoding_is_monotonic_in_magnitude() {
        for codec in [Codec::Pcmu, Codec::Pcma] {
            let mut previous = i16::MIN;
            let mut sample = i16::MIN;
            loop {
                let decoded = codec.decode(codec.encode(sample));
                assert!(decoded >= previous, "{codec:?} at {sample}");
                previous = decoded;
                if sample > i16::MAX - 7 {
                    break;
                }
                sample += 7;
            }
        }
    }

    #[test]
    fn sine_survives_with_g711_snr() {
        for codec in [Codec::Pcmu, Codec::Pcma] {
            let mut signal = 0f64;
            let mut noise = 0f64;
            for n in 0..8000 {
                let x = (10000.0 * (2.0 * std::f64::consts::PI * 440.0 * n as f64 / 8000.0).sin())
                    as i16;
                let y = codec.decode(codec.encode(x));
                signal += f64::from(x) * f64::from(x);
                noise += f64::from(x - y) * f64::from(x - y);
            }
            let snr = 10.0 * (signal / noise).log10();
            assert!(snr > 30.0, "{codec:?} SNR {snr:.1} dB");
        }
    }

    #[test]
    fn extremes_do_not_overflow() {
        for codec in [Codec::Pcmu, Codec::Pcma] {
            for x in [i16::MIN, i16::MIN + 1, -1000, 1000, i16::MAX] {
                let y = codec.decode(codec.encode(x));
                assert_eq!(x.signum(), y.signum(), "{codec:?} {x} → {y}");
            }
        }
    }
}
