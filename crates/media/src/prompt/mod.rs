//! Voice prompts: loaded once per language from `<root>/<lang>/<name>.wav` (or `.raw`),
//! encoded to PCMU and PCMA up front so playing costs a slice copy per packet.

mod player;
pub mod wav;

pub use player::Player;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use thiserror::Error;

use crate::g711::Codec;

/// Why prompts cannot be loaded.
#[derive(Debug, Error)]
pub enum PromptError {
    /// A directory or file could not be read.
    #[error("cannot read prompts at {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A file is not a usable WAVE file.
    #[error("prompt {path} is not usable: {source}")]
    Wav {
        /// The path.
        path: PathBuf,
        /// What is wrong.
        source: wav::WavError,
    },
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> PromptError + '_ {
    move |source| PromptError::Io {
        path: path.to_owned(),
        source,
    }
}

/// One prompt, pre-encoded.
#[derive(Debug)]
pub struct Prompt {
    /// File stem, e.g. `enter-pin` or `digit-4`.
    pub name: String,
    /// 16-bit linear samples at 8 kHz.
    pub linear: Vec<i16>,
    pcmu: Vec<u8>,
    pcma: Vec<u8>,
}

impl Prompt {
    /// A prompt from linear samples.
    pub fn new(name: impl Into<String>, linear: Vec<i16>) -> Self {
        let mut pcmu = Vec::with_capacity(linear.len());
        let mut pcma = Vec::with_capacity(linear.len());
        Codec::Pcmu.encode_into(&linear, &mut pcmu);
        Codec::Pcma.encode_into(&linear, &mut pcma);
        Self {
            name: name.into(),
            linear,
            pcmu,
            pcma,
        }
    }

    /// The encoded bytes for a codec.
    pub fn encoded(&self, codec: Codec) -> &[u8] {
        match codec {
            Codec::Pcmu => &self.pcmu,
            Codec::Pcma => &self.pcma,
        }
    }
}

/// All prompts of all languages, keyed by language then name.
#[derive(Debug, Default, Clone)]
pub struct PromptSet {
    languages: HashMap<String, HashMap<String, Arc<Prompt>>>,
}

impl PromptSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Loads every `<root>/<lang>/*.wav|*.raw|*.sln`; each sub-directory is a language.
    pub fn load(root: &Path) -> Result<Self, PromptError> {
        let mut set = Self::new();
        for entry in std::fs::read_dir(root).map_err(io_error(root))? {
            let dir = entry.map_err(io_error(root))?.path();
            if !dir.is_dir() {
                continue;
            }
            let Some(lang) = dir.file_name().and_then(|n| n.to_str()).map(str::to_owned) else {
                continue;
            };
            for file in std::fs::read_dir(&dir).map_err(io_error(&dir))? {
                let path = file.map_err(io_error(&dir))?.path();
                let (Some(stem), Some(ext)) = (
                    path.file_stem().and_then(|s| s.to_str()),
                    path.extension().and_then(|s| s.to_str()),
                ) else {
                    continue;
                };
                let bytes = match ext {
                    "wav" | "raw" | "sln" => std::fs::read(&path).map_err(io_error(&path))?,
                    _ => continue,
                };
                let samples = if ext == "wav" {
                    wav::samples_from_wav(&bytes).map_err(|source| PromptError::Wav {
                        path: path.clone(),
                        source,
                    })?
                } else {
                    wav::samples_from_raw(&bytes)
                };
                set.insert(&lang, Prompt::new(stem, samples));
            }
        }
        Ok(set)
    }

    /// Adds or replaces one prompt.
    pub fn insert(&mut self, lang: &str, prompt: Prompt) {
        self.languages
            .entry(lang.to_owned())
            .or_default()
            .insert(prompt.name.clone(), Arc::new(prompt));
    }

    /// A prompt by language and name.
    pub fn get(&self, lang: &str, name: &str) -> Option<Arc<Prompt>> {
        self.languages.get(lang)?.get(name).cloned()
    }

    /// Languages loaded.
    pub fn languages(&self) -> impl Iterator<Item = &str> {
        self.languages.keys().map(String::as_str)
    }

    /// Names of the prompts of a language.
    pub fn names(&self, lang: &str) -> Vec<&str> {
        let mut names: Vec<_> = self
            .languages
            .get(lang)
            .map(|m| m.keys().map(String::as_str).collect())
            .unwrap_or_default();
        names.sort_unstable();
        names
    }
}

/// Prompt names that speak a number digit by digit: `"1004"` → `digit-1 digit-0 digit-0
/// digit-4`. Characters other than 0–9, `*` (`star`) and `#` (`pound`) are skipped.
pub fn digit_prompts(number: &str) -> Vec<String> {
    number
        .chars()
        .filter_map(|c| match c {
            '0'..='9' => Some(format!("digit-{c}")),
            '*' => Some("star".to_owned()),
            '#' => Some("pound".to_owned()),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_are_spoken_one_by_one() {
        assert_eq!(
            digit_prompts("10*4#x"),
            ["digit-1", "digit-0", "star", "digit-4", "pound"]
        );
    }

    #[test]
    fn load_a_language_directory() {
        let dir = std::env::temp_dir().join(format!("hotdesk-prompts-{}", std::process::id()));
        let en = dir.join("en");
        std::fs::create_dir_all(&en).unwrap();
        std::fs::write(en.join("hello.wav"), wav::to_wav(&[1000; 800])).unwrap();
        std::fs::write(en.join("beep.raw"), [0u8, 1, 0, 1]).unwrap();
        std::fs::write(en.join("README"), "ignored").unwrap();
        let set = PromptSet::load(&dir).unwrap();
        assert_eq!(set.names("en"), ["beep", "hello"]);
        let hello = set.get("en", "hello").unwrap();
        assert_eq!(hello.encoded(Codec::Pcma).len(), 800);
        std::fs::write(en.join("bad.wav"), b"RIFF....WAVEjunk").unwrap();
        assert!(matches!(
            PromptSet::load(&dir),
            Err(PromptError::Wav { .. })
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
