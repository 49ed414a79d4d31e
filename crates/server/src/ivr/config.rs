//! IVR settings from the environment: RTP port range, prompt directory and language, and
//! the phone menu's time-outs (`HOTDESK_RTP_PORTS`, `HOTDESK_PROMPTS_DIR`,
//! `HOTDESK_IVR_FIRST_DIGIT_SECS`, `HOTDESK_IVR_INTER_DIGIT_SECS`, `HOTDESK_IVR_SESSION_SECS`).

use std::path::PathBuf;
use std::time::Duration;

use hotdesk_core::phone_menu::Timing;

/// A malformed `HOTDESK_RTP_*` / `HOTDESK_IVR_*` variable.
#[derive(Debug, thiserror::Error)]
pub enum IvrConfigError {
    /// Not `FIRST-LAST` with `1024 <= FIRST <= LAST <= 65535`.
    #[error("HOTDESK_RTP_PORTS must be FIRST-LAST (1024-65535), got {0:?}")]
    Ports(String),
    /// Not a whole number ≥ 1 (seconds, or a priority 1–99).
    #[error("{name} must be a whole number (seconds ≥ 1, priority 1-99), got {value:?}")]
    Seconds {
        /// The variable.
        name: &'static str,
        /// What it held.
        value: String,
    },
}

/// The media thread's SCHED_FIFO priority unless configured: low among real-time threads
/// (kernel threads use 50 and up), enough to be woken ahead of every normal task. Like a
/// media server's audio thread it sleeps between 1 ms steps, so it cannot starve the host
/// (and the kernel's RT throttling caps it at 95 % of a core regardless).
pub const DEFAULT_RT_PRIORITY: i32 = 10;

/// Everything the IVR needs at start.
#[derive(Debug, Clone)]
pub struct IvrSettings {
    /// First and last UDP port for RTP (inclusive).
    pub rtp_ports: (u16, u16),
    /// Root of the prompt set: `<dir>/<lang>/<name>.wav`.
    pub prompts_dir: PathBuf,
    /// Language directory used for every domain.
    pub language: String,
    /// Phone menu time-outs.
    pub timing: Timing,
    /// SCHED_FIFO priority for the media driver thread (`HOTDESK_MEDIA_RT_PRIORITY`,
    /// 1–99, default [`DEFAULT_RT_PRIORITY`], `0` = normal scheduling): on a saturated host
    /// it keeps 20 ms pacing clean. Without root or CAP_SYS_NICE the engine logs the
    /// refusal and paces under normal scheduling.
    pub realtime_priority: Option<i32>,
}

impl IvrSettings {
    /// Reads the environment; defaults: ports 20000–20999, `./prompts` if present else the
    /// source tree's `prompts/`, English, 8 s / 4 s / 120 s.
    pub fn from_env() -> Result<Self, IvrConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// As [`Self::from_env`], reading variables through `lookup` (tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, IvrConfigError> {
        let rtp_ports = match lookup("HOTDESK_RTP_PORTS") {
            None => (20_000, 20_999),
            Some(text) => parse_ports(&text).ok_or(IvrConfigError::Ports(text))?,
        };
        let prompts_dir = match lookup("HOTDESK_PROMPTS_DIR") {
            Some(dir) => PathBuf::from(dir),
            None => {
                let local = PathBuf::from("prompts");
                if local.is_dir() {
                    local
                } else {
                    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../prompts"))
                }
            }
        };
        let defaults = Timing::default();
        let secs = |name: &'static str, default: Duration| match lookup(name) {
            None => Ok(default),
            Some(value) => match value.trim().parse::<u64>() {
                Ok(n) if n >= 1 => Ok(Duration::from_secs(n)),
                _ => Err(IvrConfigError::Seconds { name, value }),
            },
        };
        Ok(Self {
            rtp_ports,
            prompts_dir,
            language: lookup("HOTDESK_PROMPTS_LANGUAGE").unwrap_or_else(|| "en".into()),
            realtime_priority: match lookup("HOTDESK_MEDIA_RT_PRIORITY").filter(|v| !v.is_empty()) {
                None => Some(DEFAULT_RT_PRIORITY),
                Some(value) => match value.trim().parse::<i32>() {
                    Ok(0) => None,
                    Ok(n) if (1..=99).contains(&n) => Some(n),
                    _ => {
                        return Err(IvrConfigError::Seconds {
                            name: "HOTDESK_MEDIA_RT_PRIORITY",
                            value,
                        })
                    }
                },
            },
            timing: Timing {
                first_digit: secs("HOTDESK_IVR_FIRST_DIGIT_SECS", defaults.first_digit)?,
                inter_digit: secs("HOTDESK_IVR_INTER_DIGIT_SECS", defaults.inter_digit)?,
                session: secs("HOTDESK_IVR_SESSION_SECS", defaults.session)?,
            },
        })
    }
}

fn parse_ports(text: &str) -> Option<(u16, u16)> {
    let (first, last) = text.trim().split_once('-')?;
    let first: u16 = first.trim().parse().ok()?;
    let last: u16 = last.trim().parse().ok()?;
    (1024 <= first && first <= last).then_some((first, last))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(vars: &[(&str, &str)]) -> Result<IvrSettings, IvrConfigError> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        IvrSettings::from_lookup(move |name| {
            vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
        })
    }

    #[test]
    fn defaults_and_overrides() {
        let s = settings(&[]).expect("defaults");
        assert_eq!(s.rtp_ports, (20_000, 20_999));
        assert_eq!(s.timing, Timing::default());
        // Issue 6: pacing is real-time unless turned off with 0.
        assert_eq!(s.realtime_priority, Some(DEFAULT_RT_PRIORITY));
        let off = settings(&[("HOTDESK_MEDIA_RT_PRIORITY", "0")]).expect("off");
        assert_eq!(off.realtime_priority, None);
        let set = settings(&[("HOTDESK_MEDIA_RT_PRIORITY", "20")]).expect("20");
        assert_eq!(set.realtime_priority, Some(20));
        for bad in ["100", "-1", "high"] {
            assert!(
                settings(&[("HOTDESK_MEDIA_RT_PRIORITY", bad)]).is_err(),
                "{bad}"
            );
        }
        let s = settings(&[
            ("HOTDESK_RTP_PORTS", "30000-30009"),
            ("HOTDESK_IVR_SESSION_SECS", "20"),
        ])
        .expect("overrides");
        assert_eq!(s.rtp_ports, (30_000, 30_009));
        assert_eq!(s.timing.session, Duration::from_secs(20));
        for bad in ["30000", "10-20", "2000-1000", "a-b"] {
            assert!(settings(&[("HOTDESK_RTP_PORTS", bad)]).is_err(), "{bad}");
        }
        assert!(settings(&[("HOTDESK_IVR_SESSION_SECS", "0")]).is_err());
    }
}
