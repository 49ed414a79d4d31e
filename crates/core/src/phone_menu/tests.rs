//! The scripts in virtual time: an `Instant` base plus offsets, never the wall clock.
//!
//! Covered: *44 with and without the confirm step, barge-in, `*` restart, inter-digit
//! end of entry, three tries, wrong PIN then success, lock-out, device refusals spoken,
//! allocation full, *45, 980 with the PIN dialled and prompted, toggle refusals, the
//! voice portal menus 1/2/3 at a phone and from outside (access number), the session
//! limit. Not covered here: audio and SIP (e2e).

use std::time::{Duration, Instant};

use super::*;

fn ext(e: &str) -> Extension {
    Extension::new(e).expect("extension")
}

fn pin(p: &str) -> Pin {
    Pin::new(p).expect("pin")
}

/// A script and its virtual clock.
struct Run {
    menu: PhoneMenu,
    now: Instant,
}

impl Run {
    fn start(flow: Flow, confirm: bool, precheck: Result<(), Refusal>) -> (Self, Vec<Action>) {
        let now = Instant::now();
        let menu = PhoneMenu::new(flow, confirm, true, Timing::default(), precheck, now);
        let mut run = Self { menu, now };
        let actions = run.drain();
        (run, actions)
    }

    fn drain(&mut self) -> Vec<Action> {
        std::iter::from_fn(|| self.menu.poll_action()).collect()
    }

    fn input(&mut self, input: Input) -> Vec<Action> {
        self.menu.handle(self.now, input);
        self.drain()
    }

    fn keys(&mut self, keys: &str) -> Vec<Action> {
        let mut out = Vec::new();
        for key in keys.chars() {
            self.now += Duration::from_millis(300);
            out.extend(self.input(Input::Digit(key)));
        }
        out
    }

    fn done(&mut self) -> Vec<Action> {
        self.now += Duration::from_secs(1);
        self.input(Input::PlaybackDone)
    }

    /// Advances to the deadline and fires it.
    fn expire(&mut self) -> Vec<Action> {
        let deadline = self.menu.deadline().expect("a deadline");
        assert!(deadline >= self.now);
        self.now = deadline;
        self.input(Input::Timeout)
    }

    fn answer(&mut self, answer: Answer) -> Vec<Action> {
        self.input(Input::Answer(answer))
    }
}

fn play(prompts: &[Prompt]) -> Action {
    Action::Play(prompts.to_vec())
}

#[test]
fn hd_login_1_star44_account_pin_confirm_logs_in() {
    let (mut run, first) = Run::start(Flow::Login, true, Ok(()));
    assert_eq!(first, vec![play(&[Prompt::EnterAccount])]);
    assert!(run.done().is_empty());
    assert!(run.keys("1004").is_empty());
    assert_eq!(run.keys("#"), vec![play(&[Prompt::EnterPin])]);
    run.done();
    assert_eq!(
        run.keys("4321#"),
        vec![Action::Ask(Request::VerifyPin {
            user: ext("1004"),
            pin: pin("4321")
        })]
    );
    let confirm = run.answer(Answer::Verified);
    assert_eq!(
        confirm,
        vec![play(&[
            Prompt::ConfirmUser,
            Prompt::Digit(1),
            Prompt::Digit(0),
            Prompt::Digit(0),
            Prompt::Digit(4),
            Prompt::ConfirmOwner
        ])]
    );
    run.done();
    assert_eq!(
        run.keys("2"),
        vec![Action::Ask(Request::Login { user: ext("1004") })]
    );
    assert_eq!(
        run.answer(Answer::LoggedIn {
            queue_offline: false
        }),
        vec![play(&[Prompt::LoggedIn, Prompt::Goodbye])]
    );
    assert_eq!(run.done(), vec![Action::HangUp]);
    assert!(run.menu.is_ended());
    assert_eq!(run.menu.deadline(), None);
}

#[test]
fn hd_login_1_confirm_step_off_asks_login_after_pin() {
    let (mut run, _) = Run::start(Flow::Login, false, Ok(()));
    run.keys("1004#");
    run.keys("4321#");
    assert_eq!(
        run.answer(Answer::Verified),
        vec![Action::Ask(Request::Login { user: ext("1004") })]
    );
}

#[test]
fn hd_login_1_digit_during_prompt_stops_it() {
    let (mut run, _) = Run::start(Flow::Login, true, Ok(()));
    // No PlaybackDone yet: the first key barges in.
    assert_eq!(run.keys("1"), vec![Action::Stop]);
    assert_eq!(run.keys("004#"), vec![play(&[Prompt::EnterPin])]);
}

#[test]
fn hd_login_1_star_clears_entry_and_replays_prompt() {
    let (mut run, _) = Run::start(Flow::Login, true, Ok(()));
    run.done();
    run.keys("99");
    assert_eq!(run.keys("*"), vec![play(&[Prompt::EnterAccount])]);
    run.done();
    assert_eq!(run.keys("1004#"), vec![play(&[Prompt::EnterPin])]);
}

#[test]
fn hd_login_1_inter_digit_timeout_ends_entry() {
    let (mut run, _) = Run::start(Flow::Login, true, Ok(()));
    run.done();
    run.keys("1004");
    let before = run.now;
    assert_eq!(run.expire(), vec![play(&[Prompt::EnterPin])]);
    assert_eq!(run.now - before, Timing::default().inter_digit);
}

#[test]
fn hd_login_1_no_input_three_times_says_goodbye() {
    let (mut run, _) = Run::start(Flow::Login, true, Ok(()));
    run.done();
    let start = run.now;
    assert_eq!(run.expire(), vec![play(&[Prompt::EnterAccount])]);
    assert_eq!(run.now - start, Timing::default().first_digit);
    run.done();
    assert_eq!(run.expire(), vec![play(&[Prompt::EnterAccount])]);
    run.done();
    assert_eq!(run.expire(), vec![play(&[Prompt::Goodbye])]);
    assert_eq!(run.done(), vec![Action::HangUp]);
}

#[test]
fn hd_login_1_wrong_pin_retries_from_account_then_goodbye() {
    let (mut run, _) = Run::start(Flow::Login, true, Ok(()));
    for attempt in 1..=MAX_TRIES {
        run.keys("1004#");
        run.keys("1111#");
        let said = run.answer(Answer::Refused(Refusal::WrongPin));
        if attempt < MAX_TRIES {
            assert_eq!(said, vec![play(&[Prompt::WrongPin, Prompt::EnterAccount])]);
        } else {
            assert_eq!(said, vec![play(&[Prompt::WrongPin, Prompt::Goodbye])]);
        }
    }
    assert_eq!(run.done(), vec![Action::HangUp]);
}

#[test]
fn hd_sec_2_locked_out_is_spoken_and_ends_the_call() {
    let (mut run, _) = Run::start(Flow::Login, true, Ok(()));
    run.keys("1004#");
    run.keys("1111#");
    let said = run.answer(Answer::Refused(Refusal::LockedOut {
        retry_after_secs: 900,
    }));
    assert_eq!(said, vec![play(&[Prompt::LockedOut, Prompt::Goodbye])]);
    assert_eq!(run.done(), vec![Action::HangUp]);
}

#[test]
fn hd_login_6_7_device_refusals_are_spoken_before_any_prompt() {
    for (refusal, prompt) in [
        (Refusal::ExcludedModel, Prompt::ExcludedModel),
        (Refusal::PersonalDevice, Prompt::PersonalPhone),
        (Refusal::LocationDevice, Prompt::LocationPhone),
    ] {
        let (mut run, first) = Run::start(Flow::Login, true, Err(refusal));
        assert_eq!(first, vec![play(&[prompt, Prompt::Goodbye])]);
        assert_eq!(run.keys("1"), Vec::new(), "digits ignored while closing");
        assert_eq!(run.done(), vec![Action::HangUp]);
    }
}

#[test]
fn hd_login_4_allocation_full_is_spoken() {
    let (mut run, _) = Run::start(Flow::Login, false, Ok(()));
    run.keys("1004#");
    run.keys("4321#");
    run.answer(Answer::Verified);
    let said = run.answer(Answer::Refused(Refusal::AllocationFull { limit: 2 }));
    assert_eq!(said, vec![play(&[Prompt::AllocationFull, Prompt::Goodbye])]);
}

#[test]
fn hd_login_10_queue_offline_is_said_after_login() {
    let (mut run, _) = Run::start(Flow::Login, false, Ok(()));
    run.keys("1004#");
    run.keys("4321#");
    run.answer(Answer::Verified);
    let said = run.answer(Answer::LoggedIn {
        queue_offline: true,
    });
    assert_eq!(
        said,
        vec![play(&[
            Prompt::LoggedIn,
            Prompt::QueueOffline,
            Prompt::Goodbye
        ])]
    );
}

#[test]
fn hd_logout_1_star45_pin_then_thank_you() {
    let (mut run, first) = Run::start(Flow::Logout, true, Ok(()));
    assert_eq!(first, vec![play(&[Prompt::EnterPin])]);
    assert_eq!(
        run.keys("4321#"),
        vec![
            Action::Stop,
            Action::Ask(Request::Logout { pin: pin("4321") })
        ]
    );
    assert_eq!(
        run.answer(Answer::LoggedOut),
        vec![play(&[
            Prompt::ThankYou,
            Prompt::LoggedOut,
            Prompt::Goodbye
        ])]
    );
    assert_eq!(run.done(), vec![Action::HangUp]);
}

#[test]
fn hd_route_5_logout_on_free_phone_says_not_logged_in() {
    let (_, first) = Run::start(Flow::Logout, true, Err(Refusal::NotLoggedIn));
    assert_eq!(first, vec![play(&[Prompt::NotLoggedIn, Prompt::Goodbye])]);
}

#[test]
fn hd_login_2_toggle_with_dialled_pin_asks_at_once() {
    let flow = Flow::classify(&FeatureCodes::default(), "9804321").expect("toggle");
    let (mut run, first) = Run::start(flow, true, Ok(()));
    assert_eq!(
        first,
        vec![Action::Ask(Request::Toggle { pin: pin("4321") })]
    );
    assert_eq!(
        run.answer(Answer::LoggedOut),
        vec![play(&[
            Prompt::ThankYou,
            Prompt::LoggedOut,
            Prompt::Goodbye
        ])]
    );
}

#[test]
fn hd_login_2_toggle_without_pin_prompts_and_shared_pin_is_refused() {
    let flow = Flow::classify(&FeatureCodes::default(), "980").expect("toggle");
    let (mut run, first) = Run::start(flow, true, Ok(()));
    assert_eq!(first, vec![play(&[Prompt::EnterPin])]);
    run.done();
    assert_eq!(
        run.keys("4321#"),
        vec![Action::Ask(Request::Toggle { pin: pin("4321") })]
    );
    assert_eq!(
        run.answer(Answer::Refused(Refusal::PinInUse)),
        vec![play(&[Prompt::CodeUnavailable, Prompt::Goodbye])]
    );
}

#[test]
fn hd_login_2_wrong_dialled_pin_prompts_again() {
    let flow = Flow::classify(&FeatureCodes::default(), "9801111").expect("toggle");
    let (mut run, _) = Run::start(flow, true, Ok(()));
    assert_eq!(
        run.answer(Answer::Refused(Refusal::WrongPin)),
        vec![play(&[Prompt::WrongPin, Prompt::EnterPin])]
    );
}

#[test]
fn feature_codes_classify_presets_and_reject_others() {
    let codes = FeatureCodes::default();
    for code in ["*44", "*88"] {
        assert_eq!(Flow::classify(&codes, code), Some(Flow::Login));
    }
    for code in ["*45", "*89", "*00"] {
        assert_eq!(Flow::classify(&codes, code), Some(Flow::Logout));
    }
    assert_eq!(Flow::classify(&codes, "*62"), Some(Flow::VoicePortal));
    assert_eq!(
        Flow::classify(&codes, "98012"),
        Some(Flow::Toggle {
            dialled: Some("12".into())
        })
    );
    for other in ["1004", "*4", "980*", "911", ""] {
        assert_eq!(Flow::classify(&codes, other), None, "{other}");
    }
}

#[test]
fn hd_login_8_voice_portal_menus() {
    let (mut run, _) = Run::start(Flow::VoicePortal, true, Ok(()));
    run.keys("1004#");
    run.keys("4321#");
    assert_eq!(
        run.answer(Answer::Verified),
        vec![play(&[Prompt::PortalMenu])]
    );
    run.done();
    // 1: host status, then the menu again.
    assert_eq!(
        run.keys("1"),
        vec![Action::Ask(Request::HostStatus { device: None })]
    );
    let said = run.answer(Answer::Host {
        user: Some(ext("1005")),
        until: Some("1730".into()),
    });
    assert_eq!(
        said,
        vec![play(&[
            Prompt::HostInUse,
            Prompt::Digit(1),
            Prompt::Digit(0),
            Prompt::Digit(0),
            Prompt::Digit(5),
            Prompt::Until,
            Prompt::Digit(1),
            Prompt::Digit(7),
            Prompt::Digit(3),
            Prompt::Digit(0),
            Prompt::PortalMenu
        ])]
    );
    run.done();
    // 2: associate with a device.
    assert_eq!(run.keys("2"), vec![play(&[Prompt::EnterDevice])]);
    run.done();
    assert_eq!(
        run.keys("94001#"),
        vec![Action::Ask(Request::Associate {
            user: ext("1004"),
            device: ext("94001")
        })]
    );
    assert_eq!(
        run.answer(Answer::LoggedIn {
            queue_offline: false
        }),
        vec![play(&[Prompt::LoggedIn, Prompt::PortalMenu])]
    );
    run.done();
    // 3: disassociate.
    assert_eq!(
        run.keys("3"),
        vec![Action::Ask(Request::Disassociate { user: ext("1004") })]
    );
    assert_eq!(
        run.answer(Answer::Refused(Refusal::NotLoggedIn)),
        vec![play(&[Prompt::NotLoggedIn, Prompt::PortalMenu])]
    );
    run.done();
    // Host status of a free phone.
    run.keys("1");
    assert_eq!(
        run.answer(Answer::Host {
            user: None,
            until: None
        }),
        vec![play(&[Prompt::HostFree, Prompt::PortalMenu])]
    );
}

#[test]
fn hd_login_8_outside_caller_names_the_device_for_host_status() {
    // The access number from outside: no calling device to report on.
    let now = Instant::now();
    let menu = PhoneMenu::new(
        Flow::VoicePortal,
        true,
        false,
        Timing::default(),
        Ok(()),
        now,
    );
    let mut run = Run { menu, now };
    assert_eq!(run.drain(), vec![play(&[Prompt::EnterAccount])]);
    run.keys("1004#");
    run.keys("4321#");
    run.answer(Answer::Verified);
    run.done();
    // 1: which device? Then its status and the menu again.
    assert_eq!(run.keys("1"), vec![play(&[Prompt::EnterDevice])]);
    run.done();
    assert_eq!(
        run.keys("94002#"),
        vec![Action::Ask(Request::HostStatus {
            device: Some(ext("94002"))
        })]
    );
    assert_eq!(
        run.answer(Answer::Host {
            user: None,
            until: None
        }),
        vec![play(&[Prompt::HostFree, Prompt::PortalMenu])]
    );
    run.done();
    // An unknown device is read out as a refusal and the menu comes back.
    run.keys("1");
    run.done();
    run.keys("5999#");
    assert_eq!(
        run.answer(Answer::Refused(Refusal::UnknownDevice)),
        vec![play(&[Prompt::Invalid, Prompt::PortalMenu])]
    );
    run.done();
    // 2 asks for the device as at a phone.
    assert_eq!(run.keys("2"), vec![play(&[Prompt::EnterDevice])]);
    run.done();
    assert_eq!(
        run.keys("94002#"),
        vec![Action::Ask(Request::Associate {
            user: ext("1004"),
            device: ext("94002")
        })]
    );
}

#[test]
fn hd_login_8_portal_invalid_choice_costs_a_try() {
    let (mut run, _) = Run::start(Flow::VoicePortal, true, Ok(()));
    run.keys("1004#");
    run.keys("4321#");
    run.answer(Answer::Verified);
    run.done();
    assert_eq!(
        run.keys("7"),
        vec![play(&[Prompt::Invalid, Prompt::PortalMenu])]
    );
}

#[test]
fn session_limit_hangs_up_a_caller_who_keeps_pressing_star() {
    let (mut run, _) = Run::start(Flow::Login, true, Ok(()));
    let start = run.now;
    let mut hung_up = false;
    for _ in 0..10_000 {
        let out = run.keys("*");
        if out.contains(&Action::HangUp) {
            hung_up = true;
            break;
        }
    }
    assert!(hung_up);
    assert!(run.now - start >= Timing::default().session);
    assert!(run.menu.is_ended());
}

#[test]
fn session_limit_ends_a_stuck_request_and_a_silent_playback() {
    let (mut run, _) = Run::start(Flow::Login, true, Ok(()));
    // The prompt never reports done: the session limit is the only deadline.
    let deadline = run.menu.deadline().expect("deadline");
    assert_eq!(deadline - run.now, Timing::default().session);
    assert_eq!(run.expire(), vec![Action::HangUp]);
}

#[test]
fn failure_answer_apologises_and_hangs_up() {
    let (mut run, _) = Run::start(Flow::Logout, true, Ok(()));
    run.keys("4321#");
    assert_eq!(
        run.answer(Answer::Failed),
        vec![play(&[Prompt::Unavailable, Prompt::Goodbye])]
    );
}

#[test]
fn every_prompt_has_a_distinct_file_name() {
    let mut names: Vec<&str> = Prompt::all().into_iter().map(Prompt::name).collect();
    let count = names.len();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), count);
}
