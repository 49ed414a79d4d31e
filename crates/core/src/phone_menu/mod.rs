//! The hot-desk phone scripts as one pure state machine (HD-LOGIN-1, -2, -8, HD-LOGOUT-1):
//! which prompt to play, which digits to collect, what to ask the application, when to
//! hang up. Inputs are digits, "playback done", timer expiry and the application's
//! answers; outputs are [`Action`]s and the next deadline. No clock, no I/O: the driver
//! passes `now`, so every script runs in virtual time in the tests.
//!
//! Entry rules: `#` ends an entry (an inter-digit time-out does too), `*` clears it and
//! replays the prompt, a digit during a prompt stops it (barge-in). No input, an invalid
//! entry or a wrong PIN each cost one of [`MAX_TRIES`] tries; then "goodbye". The whole
//! call is bounded by [`Timing::session`], whatever the caller does.

mod prompt;
#[cfg(test)]
mod tests;

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::domain::FeatureCodes;
use crate::ids::{Extension, Pin};
use crate::refusal::Refusal;

pub use prompt::Prompt;

/// Failures (no input, invalid entry, wrong PIN) before the script says goodbye.
pub const MAX_TRIES: u8 = 3;

/// Longest entry collected; a longer one ends as if `#` were pressed.
const MAX_ENTRY: usize = 16;

/// Which script a dialled feature code starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Flow {
    /// Log-in code (`*44`, `*88`): account, PIN, confirm (HD-LOGIN-1).
    Login,
    /// Log-out code (`*45`, `*89`, `*00`): PIN, "thank you" (HD-LOGOUT-1).
    Logout,
    /// Quick toggle `980` + PIN; the PIN dialled with the code, or prompted (HD-LOGIN-2).
    Toggle {
        /// Digits dialled after the prefix, if any.
        dialled: Option<String>,
    },
    /// Voice portal (`*62`): account, PIN, menu 1/2/3 (HD-LOGIN-8).
    VoicePortal,
    /// "Activate Phone": the server called the device; log-in prompts follow (HD-LOGIN-9).
    Activate,
}

impl Flow {
    /// A name for logs; never the digits dialled with `980` (they are a PIN, HD-SEC-2).
    pub fn name(&self) -> &'static str {
        match self {
            Self::Login => "login",
            Self::Logout => "logout",
            Self::Toggle { .. } => "toggle",
            Self::VoicePortal => "voice_portal",
            Self::Activate => "activate",
        }
    }

    /// The script a dialled Request-URI user starts, if it is one of the domain's codes.
    pub fn classify(codes: &FeatureCodes, dialled: &str) -> Option<Self> {
        if codes.login.iter().any(|c| c == dialled) {
            return Some(Self::Login);
        }
        if codes.logout.iter().any(|c| c == dialled) {
            return Some(Self::Logout);
        }
        if !codes.voice_portal.is_empty() && dialled == codes.voice_portal {
            return Some(Self::VoicePortal);
        }
        let rest = dialled.strip_prefix(codes.toggle.as_str())?;
        if codes.toggle.is_empty() || !rest.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Some(Self::Toggle {
            dialled: (!rest.is_empty()).then(|| rest.to_owned()),
        })
    }
}

/// Time-outs of a script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// Wait for the first digit after a prompt ends.
    pub first_digit: Duration,
    /// Wait between digits of one entry; then the entry ends as if `#` were pressed.
    pub inter_digit: Duration,
    /// The whole call, from answer to hang-up, whatever happens.
    pub session: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Self {
            first_digit: Duration::from_secs(8),
            inter_digit: Duration::from_secs(4),
            session: Duration::from_secs(120),
        }
    }
}

/// What the script asks the application to decide; answer with [`Input::Answer`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Check `user`'s PIN under the lock-out (HD-SEC-2).
    VerifyPin {
        /// The account entered.
        user: Extension,
        /// The PIN entered.
        pin: Pin,
    },
    /// Log the verified `user` in to the calling device.
    Login {
        /// The verified user.
        user: Extension,
    },
    /// Check the PIN of whoever is logged in to the calling device and log them out.
    Logout {
        /// The PIN entered.
        pin: Pin,
    },
    /// Log the PIN's owner in, or out if they are the one on the device (HD-LOGIN-2).
    Toggle {
        /// The PIN entered or dialled.
        pin: Pin,
    },
    /// Who is on a device, and until when (HD-LOGIN-8 menu 1).
    HostStatus {
        /// The device's anchor extension as entered; `None` = the calling device.
        device: Option<Extension>,
    },
    /// Log the verified `user` in to `device` (menu 2).
    Associate {
        /// The verified user.
        user: Extension,
        /// The device's anchor extension.
        device: Extension,
    },
    /// Log the verified `user` out of their hot desks (menu 3).
    Disassociate {
        /// The verified user.
        user: Extension,
    },
}

/// The application's answer to the pending [`Request`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The PIN matched.
    Verified,
    /// A log-in was made; `queue_offline` if the user is not yet offered queue calls
    /// (HD-LOGIN-10).
    LoggedIn {
        /// The user has never signed in to the portal.
        queue_offline: bool,
    },
    /// A log-out was made.
    LoggedOut,
    /// Host status: who is logged in (none = free) and the automatic log-out time as
    /// local `HHMM`, if any.
    Host {
        /// The user on the device.
        user: Option<Extension>,
        /// Local time of the automatic log-out, digits only.
        until: Option<String>,
    },
    /// The rules said no.
    Refused(Refusal),
    /// The application failed (store down): apologise and hang up.
    Failed,
}

/// One input to [`PhoneMenu::handle`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A DTMF digit `0-9`, `*`, `#` (others are ignored).
    Digit(char),
    /// The last [`Action::Play`] finished.
    PlaybackDone,
    /// The deadline from [`PhoneMenu::deadline`] passed.
    Timeout,
    /// The application's answer to the pending request.
    Answer(Answer),
    /// The caller hung up.
    HangUp,
}

/// What the driver must do, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Play these prompts in order, replacing anything playing.
    Play(Vec<Prompt>),
    /// Stop playback at once (barge-in).
    Stop,
    /// Decide this and answer with [`Input::Answer`].
    Ask(Request),
    /// End the call (BYE).
    HangUp,
}

/// What the script is collecting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Account,
    Pin,
    Confirm,
    Menu,
    /// The device to associate with (menu 2).
    Device,
    /// The device whose host status to read (menu 1 from outside).
    HostDevice,
}

impl Field {
    /// Menu choices are one key; other entries end with `#`.
    fn single_key(self) -> bool {
        matches!(self, Self::Confirm | Self::Menu)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Prompting for and collecting a field.
    Collect { field: Field, playing: bool },
    /// A request is with the application.
    Waiting,
    /// Saying the last words; hang up when they end.
    Closing,
    /// Hung up.
    Ended,
}

/// One call's script.
#[derive(Debug)]
pub struct PhoneMenu {
    flow: Flow,
    confirm_owner: bool,
    at_device: bool,
    timing: Timing,
    stage: Stage,
    /// The prompts of the current field, replayed after `*` or a time-out.
    prompt: Vec<Prompt>,
    entry: String,
    tries: u8,
    user: Option<Extension>,
    digit_deadline: Option<Instant>,
    session_end: Instant,
    actions: VecDeque<Action>,
}

impl PhoneMenu {
    /// Starts `flow` at `now`. `precheck` is the device's own answer before any prompt
    /// (excluded model, location phone, nobody logged in …): a refusal is spoken at once.
    /// `confirm_owner` is the domain setting for the HD-LOGIN-1 confirmation step.
    /// `at_device` says the caller is at a hot desk (its `*62`); a caller who is not (the
    /// access number from outside, a personal phone) names the device for host status.
    pub fn new(
        flow: Flow,
        confirm_owner: bool,
        at_device: bool,
        timing: Timing,
        precheck: Result<(), Refusal>,
        now: Instant,
    ) -> Self {
        let mut menu = Self {
            flow,
            confirm_owner,
            at_device,
            timing,
            stage: Stage::Waiting,
            prompt: Vec::new(),
            entry: String::new(),
            tries: 0,
            user: None,
            digit_deadline: None,
            session_end: now + timing.session,
            actions: VecDeque::new(),
        };
        if let Err(refusal) = precheck {
            menu.close(vec![Prompt::for_refusal(&refusal), Prompt::Goodbye]);
            return menu;
        }
        match menu.flow.clone() {
            Flow::Login | Flow::VoicePortal | Flow::Activate => {
                menu.collect(Field::Account, vec![Prompt::EnterAccount]);
            }
            Flow::Logout => menu.collect(Field::Pin, vec![Prompt::EnterPin]),
            Flow::Toggle { dialled: None } => menu.collect(Field::Pin, vec![Prompt::EnterPin]),
            Flow::Toggle {
                dialled: Some(digits),
            } => match Pin::new(&digits) {
                Ok(pin) => menu.ask(Request::Toggle { pin }),
                Err(_) => menu.fail(vec![Prompt::WrongPin], Field::Pin, vec![Prompt::EnterPin]),
            },
        }
        menu
    }

    /// The next action to perform, until `None`.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// When to call `handle(now, Input::Timeout)` next.
    pub fn deadline(&self) -> Option<Instant> {
        match self.stage {
            Stage::Ended => None,
            _ => Some(
                self.digit_deadline
                    .map_or(self.session_end, |d| d.min(self.session_end)),
            ),
        }
    }

    /// Whether the script has hung up.
    pub fn is_ended(&self) -> bool {
        self.stage == Stage::Ended
    }

    /// The flow this script runs.
    pub fn flow(&self) -> &Flow {
        &self.flow
    }

    /// Feeds one input at `now`.
    pub fn handle(&mut self, now: Instant, input: Input) {
        if self.stage == Stage::Ended {
            return;
        }
        if now >= self.session_end {
            // The session limit ends the call whatever is going on.
            self.end();
            return;
        }
        match input {
            Input::HangUp => {
                self.stage = Stage::Ended;
                self.digit_deadline = None;
            }
            Input::Digit(digit) => self.digit(now, digit),
            Input::PlaybackDone => self.playback_done(now),
            Input::Timeout => self.timeout(now),
            Input::Answer(answer) => self.answer(answer),
        }
    }

    fn digit(&mut self, now: Instant, digit: char) {
        let Stage::Collect { field, playing } = self.stage else {
            return; // Digits while waiting or closing are ignored.
        };
        if !matches!(digit, '0'..='9' | '*' | '#') {
            return;
        }
        if playing {
            self.actions.push_back(Action::Stop);
            self.stage = Stage::Collect {
                field,
                playing: false,
            };
        }
        match digit {
            '*' => {
                let prompt = self.prompt.clone();
                self.collect(field, prompt);
            }
            '#' => self.finish(field),
            d => {
                self.entry.push(d);
                if field.single_key() || self.entry.len() >= MAX_ENTRY {
                    self.finish(field);
                } else {
                    self.digit_deadline = Some(now + self.timing.inter_digit);
                }
            }
        }
    }

    fn playback_done(&mut self, now: Instant) {
        match self.stage {
            Stage::Collect {
                field,
                playing: true,
            } => {
                self.stage = Stage::Collect {
                    field,
                    playing: false,
                };
                self.digit_deadline = Some(now + self.timing.first_digit);
            }
            Stage::Closing => self.end(),
            _ => {}
        }
    }

    fn timeout(&mut self, now: Instant) {
        let Some(deadline) = self.digit_deadline else {
            return;
        };
        if now < deadline {
            return;
        }
        let Stage::Collect { field, .. } = self.stage else {
            return;
        };
        self.digit_deadline = None;
        if self.entry.is_empty() {
            let prompt = self.prompt.clone();
            self.fail(Vec::new(), field, prompt);
        } else {
            self.finish(field);
        }
    }

    /// An entry is complete: act on it.
    fn finish(&mut self, field: Field) {
        self.digit_deadline = None;
        let entry = std::mem::take(&mut self.entry);
        match field {
            Field::Account => match Extension::new(&entry) {
                Ok(user) => {
                    self.user = Some(user);
                    self.collect(Field::Pin, vec![Prompt::EnterPin]);
                }
                Err(_) => self.fail(
                    vec![Prompt::Invalid],
                    Field::Account,
                    vec![Prompt::EnterAccount],
                ),
            },
            Field::Pin => {
                let Ok(pin) = Pin::new(&entry) else {
                    self.wrong_pin();
                    return;
                };
                let request = match (&self.flow, &self.user) {
                    (Flow::Logout, _) => Request::Logout { pin },
                    (Flow::Toggle { .. }, _) => Request::Toggle { pin },
                    (_, Some(user)) => Request::VerifyPin {
                        user: user.clone(),
                        pin,
                    },
                    // A PIN without an account cannot happen in these flows.
                    (_, None) => {
                        self.collect(Field::Account, vec![Prompt::EnterAccount]);
                        return;
                    }
                };
                self.ask(request);
            }
            Field::Confirm => match (entry.as_str(), self.user.clone()) {
                ("2", Some(user)) => self.ask(Request::Login { user }),
                _ => {
                    let prompt = self.prompt.clone();
                    self.fail(vec![Prompt::Invalid], Field::Confirm, prompt);
                }
            },
            Field::Menu => match (entry.as_str(), self.user.clone()) {
                ("1", _) if self.at_device => self.ask(Request::HostStatus { device: None }),
                // HD-LOGIN-8 from outside: no calling device, so ask which one.
                ("1", _) => self.collect(Field::HostDevice, vec![Prompt::EnterDevice]),
                ("2", Some(_)) => self.collect(Field::Device, vec![Prompt::EnterDevice]),
                ("3", Some(user)) => self.ask(Request::Disassociate { user }),
                _ => self.fail(vec![Prompt::Invalid], Field::Menu, vec![Prompt::PortalMenu]),
            },
            Field::Device => match (Extension::new(&entry), self.user.clone()) {
                (Ok(device), Some(user)) => self.ask(Request::Associate { user, device }),
                _ => self.fail(vec![Prompt::Invalid], Field::Menu, vec![Prompt::PortalMenu]),
            },
            Field::HostDevice => match Extension::new(&entry) {
                Ok(device) => self.ask(Request::HostStatus {
                    device: Some(device),
                }),
                Err(_) => self.fail(vec![Prompt::Invalid], Field::Menu, vec![Prompt::PortalMenu]),
            },
        }
    }

    fn answer(&mut self, answer: Answer) {
        if self.stage != Stage::Waiting {
            return;
        }
        let portal = self.flow == Flow::VoicePortal;
        match answer {
            Answer::Verified if portal => self.collect(Field::Menu, vec![Prompt::PortalMenu]),
            Answer::Verified => match self.user.clone() {
                Some(user) if self.confirm_owner => {
                    let mut prompt = vec![Prompt::ConfirmUser];
                    prompt.extend(Prompt::digits(user.as_str()));
                    prompt.push(Prompt::ConfirmOwner);
                    self.collect(Field::Confirm, prompt);
                }
                Some(user) => self.ask(Request::Login { user }),
                None => self.close(vec![Prompt::Unavailable]),
            },
            Answer::LoggedIn { queue_offline } => {
                let mut said = vec![Prompt::LoggedIn];
                if queue_offline {
                    said.push(Prompt::QueueOffline);
                }
                self.after_change(said);
            }
            // HD-LOGOUT-1: "thank you", then the result.
            Answer::LoggedOut => self.after_change(vec![Prompt::ThankYou, Prompt::LoggedOut]),
            Answer::Host { user, until } => {
                let mut said = match &user {
                    None => vec![Prompt::HostFree],
                    Some(user) => {
                        let mut p = vec![Prompt::HostInUse];
                        p.extend(Prompt::digits(user.as_str()));
                        p
                    }
                };
                if let (Some(_), Some(until)) = (&user, &until) {
                    said.push(Prompt::Until);
                    said.extend(Prompt::digits(until));
                }
                said.push(Prompt::PortalMenu);
                self.collect_after(Field::Menu, said, vec![Prompt::PortalMenu]);
            }
            Answer::Refused(Refusal::WrongPin | Refusal::UnknownUser) => self.wrong_pin(),
            Answer::Refused(refusal @ Refusal::LockedOut { .. }) => {
                self.close(vec![Prompt::for_refusal(&refusal), Prompt::Goodbye]);
            }
            // In the portal a refused change is read out and the menu comes back.
            Answer::Refused(refusal) if portal && self.user.is_some() => {
                let said = vec![Prompt::for_refusal(&refusal), Prompt::PortalMenu];
                self.collect_after(Field::Menu, said, vec![Prompt::PortalMenu]);
            }
            Answer::Refused(refusal) => {
                self.close(vec![Prompt::for_refusal(&refusal), Prompt::Goodbye]);
            }
            Answer::Failed => self.close(vec![Prompt::Unavailable, Prompt::Goodbye]),
        }
    }

    /// After a log-in or log-out: the portal goes back to its menu; other flows are done.
    fn after_change(&mut self, mut said: Vec<Prompt>) {
        if self.flow == Flow::VoicePortal {
            said.push(Prompt::PortalMenu);
            self.collect_after(Field::Menu, said, vec![Prompt::PortalMenu]);
        } else {
            said.push(Prompt::Goodbye);
            self.close(said);
        }
    }

    fn wrong_pin(&mut self) {
        match self.flow {
            // The account may have been mistyped: start the pair again.
            Flow::Login | Flow::VoicePortal | Flow::Activate if self.user.is_some() => {
                self.user = None;
                self.fail(
                    vec![Prompt::WrongPin],
                    Field::Account,
                    vec![Prompt::EnterAccount],
                );
            }
            _ => self.fail(vec![Prompt::WrongPin], Field::Pin, vec![Prompt::EnterPin]),
        }
    }

    /// Costs a try; says `said`, then prompts for `field` again, or says goodbye.
    fn fail(&mut self, said: Vec<Prompt>, field: Field, prompt: Vec<Prompt>) {
        self.tries += 1;
        if self.tries >= MAX_TRIES {
            let mut last = said;
            last.push(Prompt::Goodbye);
            self.close(last);
            return;
        }
        let mut play = said;
        play.extend(prompt.iter().copied());
        self.collect_after(field, play, prompt);
    }

    fn collect(&mut self, field: Field, prompt: Vec<Prompt>) {
        self.collect_after(field, prompt.clone(), prompt);
    }

    /// Plays `play`, then collects `field`; `prompt` is what a replay repeats.
    fn collect_after(&mut self, field: Field, play: Vec<Prompt>, prompt: Vec<Prompt>) {
        self.entry.clear();
        self.digit_deadline = None;
        self.prompt = prompt;
        self.stage = Stage::Collect {
            field,
            playing: true,
        };
        self.actions.push_back(Action::Play(play));
    }

    fn ask(&mut self, request: Request) {
        self.digit_deadline = None;
        self.stage = Stage::Waiting;
        self.actions.push_back(Action::Ask(request));
    }

    fn close(&mut self, said: Vec<Prompt>) {
        self.digit_deadline = None;
        self.stage = Stage::Closing;
        self.actions.push_back(Action::Play(said));
    }

    fn end(&mut self) {
        self.digit_deadline = None;
        self.stage = Stage::Ended;
        self.actions.push_back(Action::HangUp);
    }
}
