//! Log-in decisions: who may log in where, takeover and multi-desk allocation
//! (HD-LOGIN-3, -4, -6, -7).

use jiff::Timestamp;

use crate::association::{Association, LoginMethod};
use crate::command::{Login, Plan, Requester};
use crate::desks::{DeskBook, Draft};
use crate::device::{Device, DeviceKind};
use crate::directory::Directory;
use crate::domain::DomainSettings;
use crate::event::LogoutReason;
use crate::logout::lifetime_expiry;
use crate::refusal::Refusal;
use crate::user::User;

/// The largest multi-desk allocation of any extension (HD-LOGIN-4, -5).
pub const MAX_ALLOCATION: u8 = 5;

/// Whether the method is driven from the phone itself (log-in code, voice portal, or the
/// IVR of "Activate Phone"), as opposed to an administrator or API call.
pub fn is_phone_side(method: LoginMethod) -> bool {
    match method {
        LoginMethod::PhoneCode | LoginMethod::VoicePortal | LoginMethod::ActivatePhone => true,
        LoginMethod::Admin | LoginMethod::Api => false,
    }
}

/// Whether `device` accepts a log-in made by `method` on behalf of `requester`; the phone
/// menu asks this before prompting for a PIN.
///
/// - `personal` devices never take a hot-desk log-in (HD-LOGIN-6).
/// - Excluded models refuse phone-side log-in (HD-LOGIN-6). An Admin/API log-in by an
///   Office Manager or higher is allowed: an administrator may deliberately assign a DECT
///   or conference phone, as the seed's "cannot be logged in *by the user*" implies.
/// - `location` devices refuse phone-side log-in and API log-in by plain users; only an
///   Office Manager or higher changes them (HD-LOGIN-7).
pub fn device_accepts_login(
    settings: &DomainSettings,
    device: &Device,
    method: LoginMethod,
    requester: &Requester,
) -> Result<(), Refusal> {
    let by_phone = is_phone_side(method);
    match device.kind {
        DeviceKind::Personal => Err(Refusal::PersonalDevice),
        DeviceKind::Location if by_phone || !requester.is_manager() => Err(Refusal::LocationDevice),
        DeviceKind::Location => Ok(()),
        DeviceKind::Hotdesk => {
            let excluded = settings.excluded_models.contains(&device.model);
            if excluded && (by_phone || !requester.is_manager()) {
                Err(Refusal::ExcludedModel)
            } else {
                Ok(())
            }
        }
    }
}

/// Whether the requester may log `user` in by `method`: phone-side methods need the PIN
/// checked, `Admin` needs Office Manager or higher, `Api` the user themself or a manager
/// (HD-SEC-4).
pub fn requester_may_log_in(
    requester: &Requester,
    user: &User,
    method: LoginMethod,
    pin_verified: bool,
) -> Result<(), Refusal> {
    let allowed = match method {
        LoginMethod::PhoneCode | LoginMethod::VoicePortal | LoginMethod::ActivatePhone => {
            if !pin_verified {
                return Err(Refusal::WrongPin);
            }
            true
        }
        LoginMethod::Admin => requester.is_manager(),
        LoginMethod::Api => requester.is_user(&user.extension) || requester.is_manager(),
    };
    if allowed {
        Ok(())
    } else {
        Err(Refusal::Forbidden)
    }
}

/// A user's effective allocation N: the stored value clamped to 1–5 (HD-LOGIN-4).
pub fn allocation(user: &User) -> usize {
    usize::from(user.max_devices.clamp(1, MAX_ALLOCATION))
}

pub(crate) fn plan_login<D: Directory + ?Sized>(
    book: &DeskBook,
    directory: &D,
    cmd: &Login,
    now: Timestamp,
) -> Result<Plan, Refusal> {
    // HD-SEC-1: every record is looked up under the command's domain and must carry it.
    let domain = directory
        .domain(&cmd.domain)
        .ok_or(Refusal::UnknownDevice)?;
    let device = directory
        .device(&cmd.domain, &cmd.device)
        .filter(|d| d.domain == cmd.domain)
        .ok_or(Refusal::UnknownDevice)?;
    let user = directory
        .user(&cmd.domain, &cmd.user)
        .filter(|u| u.domain == cmd.domain)
        .ok_or(Refusal::UnknownUser)?;
    device_accepts_login(&domain.settings, device, cmd.method, &cmd.requester)?;
    requester_may_log_in(&cmd.requester, user, cmd.method, cmd.pin_verified)?;

    let current = book.on_device(&cmd.domain, &cmd.device);
    if current.is_some_and(|a| a.user == cmd.user) {
        // Logging in again where you already are changes nothing (HD-LOGIN-4).
        return Ok(Plan {
            calls_continue: true,
            ..Plan::default()
        });
    }

    // HD-LOGIN-4: N = 1 moves the user; N > 1 refuses the (N+1)th desk. Checked before
    // anyone is displaced, so a refusal leaves every desk as it was.
    let held = book.devices_of(&cmd.domain, &cmd.user);
    let limit = allocation(user);
    let evict = if limit == 1 {
        held
    } else if held.len() >= limit {
        return Err(Refusal::AllocationFull {
            // `limit` ≤ MAX_ALLOCATION, so it fits.
            limit: u8::try_from(limit).unwrap_or(MAX_ALLOCATION),
        });
    } else {
        &[]
    };

    let mut draft = Draft::new(book);
    if let Some(previous) = current {
        // HD-LOGIN-3: the person who forgot to log out is released, audited.
        draft.log_out(previous, LogoutReason::Takeover, &cmd.requester, now);
    }
    for other in evict {
        if let Some(session) = book.on_device(&cmd.domain, other) {
            draft.log_out(session, LogoutReason::MovedElsewhere, &cmd.requester, now);
        }
    }
    draft.log_in(
        Association {
            domain: cmd.domain.clone(),
            device: cmd.device.clone(),
            user: cmd.user.clone(),
            since: now,
            method: cmd.method,
            expires_at: lifetime_expiry(&domain.settings, device, now),
            last_activity: now,
        },
        &cmd.requester,
    );
    Ok(draft.finish())
}
