//! Warnings before an automatic log-out (HD-LOGOUT-2): when a session's deadline (lifetime
//! expiry, end of day or idle, from `core::logout::Schedule`) is within the domain's
//! `logout_warning_secs`, the phone gets one notice (a SIP MESSAGE it shows as a pop-up).
//! The log-out itself is the sweeper's job; this only warns, once per deadline.

use std::collections::HashSet;

use hotdesk_core::logout::Schedule;
use hotdesk_core::{DomainName, Extension, LogoutReason};
use jiff::tz::TimeZone;
use jiff::Timestamp;

use crate::provisioning::Job;
use crate::state::App;

/// Deadlines already warned about: (domain, device, deadline in ms).
pub type Warned = HashSet<(DomainName, Extension, i64)>;

fn reason_text(reason: LogoutReason) -> &'static str {
    match reason {
        LogoutReason::EndOfDay => "end of day",
        LogoutReason::Idle => "no calls",
        LogoutReason::Expired => "session time limit",
        LogoutReason::User
        | LogoutReason::Takeover
        | LogoutReason::MovedElsewhere
        | LogoutReason::Forced
        | LogoutReason::Removed => "log-out",
    }
}

/// The notices due at `now`; remembers them in `warned` and forgets deadlines that passed.
pub fn due(app: &App, now: Timestamp, warned: &mut Warned) -> Vec<Job> {
    let state = app.read();
    let mut jobs = Vec::new();
    let mut live = HashSet::with_capacity(warned.len());
    for tenant in state.tenants.iter() {
        let settings = &tenant.domain.settings;
        if settings.logout_warning_secs == 0 {
            continue;
        }
        let schedule = Schedule::lenient(settings);
        let zone = TimeZone::get(&settings.time_zone).unwrap_or(TimeZone::UTC);
        for association in state.desks.associations(&tenant.domain.name) {
            let Some(deadline) = schedule.deadline(association) else {
                continue;
            };
            if deadline.warn_at > now || deadline.at <= now {
                continue;
            }
            let key = (
                association.domain.clone(),
                association.device.clone(),
                deadline.at.as_millisecond(),
            );
            live.insert(key.clone());
            if warned.contains(&key) {
                continue;
            }
            let clock = zone.to_datetime(deadline.at).time();
            let text = format!(
                "You will be logged out at {:02}:{:02} ({}). Log in again to stay.",
                clock.hour(),
                clock.minute(),
                reason_text(deadline.reason)
            );
            jobs.push(Job::Notice {
                domain: association.domain.clone(),
                device: association.device.clone(),
                text,
            });
            warned.insert(key);
        }
    }
    warned.retain(|key| live.contains(key));
    jobs
}
