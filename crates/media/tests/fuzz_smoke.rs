//! A libFuzzer-free stand-in for the media fuzz targets under `cargo test`: mutates seed
//! RTP streams and SDP offers (seeded, reproducible) and checks nothing panics and the
//! invariants in `fuzz_exercise` hold. Bad media input cannot crash or wedge a session
//! (HD-SEC-5).
//!
//! `HOTDESK_FUZZ_ITERATIONS` sets the mutations per seed (default 300).

mod fuzz_exercise;

use hotdesk_media::dtmf::rfc4733::EventPayload;
use hotdesk_media::rtp::RtpHeader;

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

const SPECIAL: &[u8] = b"\r\n =:/0123456789 \x80\xff\x00";

fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut v = input.to_vec();
    for _ in 0..=rng.below(6) {
        let at = rng.below(v.len() + 1);
        match rng.below(5) {
            0 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] = SPECIAL[rng.below(SPECIAL.len())];
            }
            1 if !v.is_empty() => {
                let end = (at + rng.below(16)).min(v.len());
                v.drain(at.min(end)..end);
            }
            2 => v.insert(at, rng.next() as u8),
            3 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] = rng.next() as u8;
            }
            _ => {
                let s = rng.below(v.len());
                let e = (s + rng.below(32)).min(v.len());
                let copy = v[s..e].to_vec();
                v.splice(at..at, copy);
            }
        }
    }
    v
}

fn iterations() -> usize {
    std::env::var("HOTDESK_FUZZ_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300)
}

fn rtp_seed() -> Vec<u8> {
    let mut out = vec![101 << 1 | 1];
    for k in 0..6u16 {
        let header = RtpHeader {
            marker: k == 0,
            payload_type: 8,
            sequence: k,
            timestamp: u32::from(k) * 160,
            ssrc: 5,
        };
        let packet = header.build(&[0xD5; 20]);
        out.push(packet.len() as u8);
        out.extend(packet);
    }
    for end in [false, true, true, true] {
        let header = RtpHeader {
            marker: false,
            payload_type: 101,
            sequence: 9,
            timestamp: 960,
            ssrc: 5,
        };
        let packet = header.build(
            &EventPayload {
                event: 4,
                end,
                volume: 10,
                duration: 320,
            }
            .to_bytes(),
        );
        out.push(packet.len() as u8);
        out.extend(packet);
    }
    out
}

const SDP_SEEDS: &[&str] = &[
    "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\n",
    "v=0\nc=IN IP6 ::1\na=sendonly\nm=video 5000 RTP/AVP 96\nm=audio 4002 RTP/AVP 96 0\na=rtpmap:96 opus/48000/2\nc=IN IP4 0.0.0.0\n",
];

#[test]
fn rtp_streams_never_panic_or_burst() {
    let mut rng = Rng(0x5EED_0001);
    let seed = rtp_seed();
    fuzz_exercise::rtp_dtmf(&seed);
    for _ in 0..iterations() * 4 {
        fuzz_exercise::rtp_dtmf(&mutate(&mut rng, &seed));
    }
    for len in 0..64 {
        let random: Vec<u8> = (0..len * 8).map(|_| rng.next() as u8).collect();
        fuzz_exercise::rtp_dtmf(&random);
    }
}

#[test]
fn sdp_offers_never_panic_and_answers_round_trip() {
    let mut rng = Rng(0x5EED_0002);
    for seed in SDP_SEEDS {
        fuzz_exercise::sdp_offer(seed.as_bytes());
        for _ in 0..iterations() * 4 {
            fuzz_exercise::sdp_offer(&mutate(&mut rng, seed.as_bytes()));
        }
    }
}
