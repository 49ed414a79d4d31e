//! Log-out decisions and automatic log-out as functions of `now`: association expiry with
//! a domain ceiling, end of day in the domain's time zone, idle time, and the warning
//! before each (HD-LOGOUT-1..5, HD-LOGIN-7).

use jiff::civil::Time;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use crate::association::Association;
use crate::command::{Logout, LogoutPath, Plan, Release, ReleaseTarget, Requester, Warning};
use crate::desks::{DeskBook, Draft};
use crate::device::{Device, DeviceKind};
use crate::directory::Directory;
use crate::domain::DomainSettings;
use crate::event::LogoutReason;
use crate::ids::DomainName;
use crate::refusal::Refusal;

/// A domain's log-out settings that do not parse (checked when settings are changed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    /// `time_zone` is not an IANA time zone name.
    #[error("unknown time zone {name:?}")]
    TimeZone {
        /// The value given.
        name: String,
    },
    /// `end_of_day` is not a `HH:MM` clock time.
    #[error("end of day must be HH:MM, got {value:?}")]
    EndOfDay {
        /// The value given.
        value: String,
    },
}

/// When and why a session will end on its own, and when to warn (HD-LOGOUT-2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    /// The instant of the automatic log-out.
    pub at: Timestamp,
    /// `Expired`, `EndOfDay` or `Idle`.
    pub reason: LogoutReason,
    /// `logout_warning_secs` before `at`, but not before the session began.
    pub warn_at: Timestamp,
}

fn add_secs(at: Timestamp, secs: u32) -> Option<Timestamp> {
    at.checked_add(SignedDuration::from_secs(i64::from(secs)))
        .ok()
}

/// Lifetime expiry of a session started at `since`: the device's `association_secs`
/// capped by the domain's `max_association_secs`; `None` if neither is set. Location
/// devices never expire (HD-LOGIN-7: only an administrator changes them).
pub fn lifetime_expiry(
    settings: &DomainSettings,
    device: &Device,
    since: Timestamp,
) -> Option<Timestamp> {
    if device.kind == DeviceKind::Location {
        return None;
    }
    let secs = match (device.association_secs, settings.max_association_secs) {
        (Some(own), Some(ceiling)) => Some(own.min(ceiling)),
        (own, ceiling) => own.or(ceiling),
    };
    secs.and_then(|s| add_secs(since, s))
}

/// Parses an end-of-day clock time, `HH:MM` with 00 ≤ HH ≤ 23 and 00 ≤ MM ≤ 59.
pub fn parse_end_of_day(value: &str) -> Result<Time, ScheduleError> {
    let error = || ScheduleError::EndOfDay {
        value: value.to_owned(),
    };
    let bytes = value.as_bytes();
    if bytes.len() != 5 || bytes[2] != b':' {
        return Err(error());
    }
    let hour: i8 = value[..2].parse().map_err(|_| error())?;
    let minute: i8 = value[3..].parse().map_err(|_| error())?;
    Time::new(hour, minute, 0, 0).map_err(|_| error())
}

/// Checks the time zone and end-of-day settings (for `PATCH /domains/{d}`).
pub fn validate(settings: &DomainSettings) -> Result<(), ScheduleError> {
    Schedule::new(settings).map(|_| ())
}

/// A domain's automatic log-out rules, parsed once per sweep.
#[derive(Debug, Clone)]
pub struct Schedule {
    tz: TimeZone,
    end_of_day: Option<Time>,
    idle_secs: Option<u32>,
    warning_secs: u32,
}

impl Schedule {
    /// Parses the settings; errors name the bad field.
    pub fn new(settings: &DomainSettings) -> Result<Self, ScheduleError> {
        let tz = TimeZone::get(&settings.time_zone).map_err(|_| ScheduleError::TimeZone {
            name: settings.time_zone.clone(),
        })?;
        let end_of_day = settings
            .end_of_day
            .as_deref()
            .map(parse_end_of_day)
            .transpose()?;
        Ok(Self {
            tz,
            end_of_day,
            idle_secs: settings.idle_logout_secs,
            warning_secs: settings.logout_warning_secs,
        })
    }

    /// Like [`Schedule::new`], but a bad time zone falls back to UTC and a bad end of day
    /// is ignored, so a sweep always runs (settings are validated when they are changed).
    pub fn lenient(settings: &DomainSettings) -> Self {
        Self {
            tz: TimeZone::get(&settings.time_zone).unwrap_or(TimeZone::UTC),
            end_of_day: settings
                .end_of_day
                .as_deref()
                .and_then(|v| parse_end_of_day(v).ok()),
            idle_secs: settings.idle_logout_secs,
            warning_secs: settings.logout_warning_secs,
        }
    }

    /// The first end-of-day instant strictly after `since`, in the domain's zone. A clock
    /// time skipped by a DST gap resolves forwards, a repeated one to its first occurrence
    /// (jiff's "compatible" rule), so the day's log-out happens exactly once.
    pub fn end_of_day_after(&self, since: Timestamp) -> Option<Timestamp> {
        let time = self.end_of_day?;
        let mut date = self.tz.to_datetime(since).date();
        // Today's end of day, or tomorrow's if today's has passed; two tries suffice.
        for _ in 0..2 {
            let candidate = self
                .tz
                .to_ambiguous_timestamp(date.to_datetime(time))
                .compatible()
                .ok()?;
            if candidate > since {
                return Some(candidate);
            }
            date = date.tomorrow().ok()?;
        }
        None
    }

    /// Idle log-out instant: `last_activity` + the idle period, if set.
    pub fn idle_deadline(&self, last_activity: Timestamp) -> Option<Timestamp> {
        self.idle_secs.and_then(|s| add_secs(last_activity, s))
    }

    /// The earliest automatic log-out of `association` and its warning instant; ties go
    /// to expiry, then end of day, then idle.
    pub fn deadline(&self, association: &Association) -> Option<Deadline> {
        let candidates = [
            (association.expires_at, LogoutReason::Expired),
            (
                self.end_of_day_after(association.since),
                LogoutReason::EndOfDay,
            ),
            (
                self.idle_deadline(association.last_activity),
                LogoutReason::Idle,
            ),
        ];
        let (at, reason) = candidates
            .into_iter()
            .filter_map(|(at, reason)| at.map(|at| (at, reason)))
            .min_by_key(|(at, _)| *at)?;
        let warn_at = at
            .checked_sub(SignedDuration::from_secs(i64::from(self.warning_secs)))
            .unwrap_or(at)
            .max(association.since);
        Some(Deadline {
            at,
            reason,
            warn_at,
        })
    }
}

pub(crate) fn plan_logout<D: Directory + ?Sized>(
    book: &DeskBook,
    directory: &D,
    cmd: &Logout,
    now: Timestamp,
) -> Result<Plan, Refusal> {
    directory
        .domain(&cmd.domain)
        .ok_or(Refusal::UnknownDevice)?;
    let device = directory
        .device(&cmd.domain, &cmd.device)
        .filter(|d| d.domain == cmd.domain)
        .ok_or(Refusal::UnknownDevice)?;
    // HD-LOGIN-7: location devices are never logged out at the phone; remotely only by a
    // manager.
    if device.kind == DeviceKind::Location
        && (matches!(cmd.path, LogoutPath::Phone { .. }) || !cmd.requester.is_manager())
    {
        return Err(Refusal::LocationDevice);
    }
    let session = book
        .on_device(&cmd.domain, &cmd.device)
        .ok_or(Refusal::NotLoggedIn)?;
    if cmd.user.as_ref().is_some_and(|u| *u != session.user) {
        return Err(Refusal::NotYourDevice);
    }
    let reason = match cmd.path {
        // HD-LOGOUT-1: the logged-in user's PIN, checked by the caller.
        LogoutPath::Phone { pin_verified: true } => LogoutReason::User,
        LogoutPath::Phone {
            pin_verified: false,
        } => return Err(Refusal::WrongPin),
        // HD-LOGOUT-4: remote log-out by the user or a manager, audited as forced.
        LogoutPath::Remote if cmd.requester.is_manager() => LogoutReason::Forced,
        LogoutPath::Remote if cmd.requester.is_user(&session.user) => LogoutReason::Forced,
        LogoutPath::Remote => return Err(Refusal::NotYourDevice),
    };
    let mut draft = Draft::new(book);
    draft.log_out(session, reason, &cmd.requester, now);
    Ok(draft.finish())
}

pub(crate) fn plan_release(book: &DeskBook, cmd: &Release, now: Timestamp) -> Plan {
    let mut draft = Draft::new(book);
    match &cmd.target {
        ReleaseTarget::User(user) => {
            for session in book.sessions_of(&cmd.domain, user) {
                draft.log_out(session, cmd.reason, &cmd.requester, now);
            }
        }
        ReleaseTarget::Device(device) => {
            if let Some(session) = book.on_device(&cmd.domain, device) {
                draft.log_out(session, cmd.reason, &cmd.requester, now);
            }
        }
    }
    draft.finish()
}

pub(crate) fn plan_sweep<D: Directory + ?Sized>(
    book: &DeskBook,
    directory: &D,
    domain: &DomainName,
    now: Timestamp,
) -> Plan {
    let mut draft = Draft::new(book);
    let Some(record) = directory.domain(domain) else {
        return draft.finish();
    };
    let schedule = Schedule::lenient(&record.settings);
    let system = Requester::system();
    // Deadlines first: the device look-up is needed only for the few sessions that are due.
    let mut due: Vec<(&Association, Deadline)> = book
        .associations(domain)
        .filter_map(|a| schedule.deadline(a).map(|d| (a, d)))
        .filter(|(_, d)| d.warn_at <= now)
        .filter(|(a, _)| {
            // Location devices stay bound until an administrator changes them (HD-LOGIN-7).
            directory
                .device(domain, &a.device)
                .is_none_or(|d| d.kind != DeviceKind::Location)
        })
        .collect();
    // Stable output order regardless of hash-map iteration.
    due.sort_by(|a, b| a.0.device.cmp(&b.0.device));
    for (session, deadline) in due {
        if deadline.at <= now {
            draft.log_out(session, deadline.reason, &system, now);
        } else {
            draft.plan_mut().warnings.push(Warning {
                domain: domain.clone(),
                device: session.device.clone(),
                user: session.user.clone(),
                at: deadline.at,
                reason: deadline.reason,
            });
        }
    }
    draft.finish()
}

#[cfg(test)]
mod tests;
