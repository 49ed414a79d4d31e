//! Plays a queue of prompts one 20 ms frame at a time; silence when idle.

use std::collections::VecDeque;
use std::sync::Arc;

use super::Prompt;
use crate::g711::Codec;

/// A playback queue for one session.
#[derive(Debug, Default)]
pub struct Player {
    queue: VecDeque<Arc<Prompt>>,
    offset: usize,
}

impl Player {
    /// An idle player.
    pub fn new() -> Self {
        Self::default()
    }

    /// Replaces whatever is playing with `prompts`.
    pub fn play(&mut self, prompts: Vec<Arc<Prompt>>) {
        self.queue = prompts.into();
        self.offset = 0;
    }

    /// Stops and empties the queue.
    pub fn stop(&mut self) {
        self.queue.clear();
        self.offset = 0;
    }

    /// Whether anything is queued.
    pub fn is_playing(&self) -> bool {
        !self.queue.is_empty()
    }

    /// Appends the next `samples` bytes of audio in `codec` to `out`: prompt audio while
    /// playing (crossing prompt boundaries), silence after. Returns `true` when this frame
    /// finished the queue.
    pub fn next_frame(&mut self, codec: Codec, samples: usize, out: &mut Vec<u8>) -> bool {
        let was_playing = self.is_playing();
        let mut wanted = samples;
        while wanted > 0 {
            let Some(prompt) = self.queue.front() else {
                break;
            };
            let audio = prompt.encoded(codec);
            let take = wanted.min(audio.len().saturating_sub(self.offset));
            out.extend_from_slice(&audio[self.offset..self.offset + take]);
            self.offset += take;
            wanted -= take;
            if self.offset >= audio.len() {
                self.queue.pop_front();
                self.offset = 0;
            }
        }
        out.extend(std::iter::repeat_n(codec.silence(), wanted));
        was_playing && !self.is_playing()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_crosses_prompt_boundaries_then_pads_with_silence() {
        let a = Arc::new(Prompt::new("a", vec![1000; 100]));
        let b = Arc::new(Prompt::new("b", vec![-1000; 150]));
        let mut player = Player::new();
        player.play(vec![a, b]);
        let mut frame = Vec::new();
        assert!(!player.next_frame(Codec::Pcmu, 160, &mut frame));
        assert_eq!(frame.len(), 160);
        assert_eq!(Codec::Pcmu.decode(frame[99]).signum(), 1);
        assert_eq!(Codec::Pcmu.decode(frame[100]).signum(), -1);
        frame.clear();
        assert!(
            player.next_frame(Codec::Pcmu, 160, &mut frame),
            "last frame ends playback"
        );
        assert_eq!(frame[89], Codec::Pcmu.encode(-1000));
        assert_eq!(frame[90], Codec::Pcmu.silence());
        frame.clear();
        assert!(
            !player.next_frame(Codec::Pcmu, 160, &mut frame),
            "idle is not a second end"
        );
        assert!(frame.iter().all(|b| *b == Codec::Pcmu.silence()));
    }

    #[test]
    fn empty_prompt_finishes_on_next_frame() {
        let mut player = Player::new();
        player.play(vec![Arc::new(Prompt::new("empty", vec![]))]);
        let mut frame = Vec::new();
        assert!(player.next_frame(Codec::Pcma, 160, &mut frame));
    }
}
