//! The application side of the phone scripts: each [`Request`] of `core::phone_menu`
//! answered through the same `App` entry points as the API (PIN check under the lock-out,
//! `execute` of log-in/log-out commands), so audit rows, takeover and eviction are the
//! same whichever path a person takes.

use hotdesk_core::command::{Command, Login, Logout, LogoutPath, Requester};
use hotdesk_core::login::device_accepts_login;
use hotdesk_core::phone_menu::{Answer, Flow, Request};
use hotdesk_core::{DeviceKind, DomainName, Extension, LoginMethod, QueueStatus, Refusal, Scope};

use crate::secrets::SecretString;
use crate::state::{App, AppError, PinContext};

/// Who is calling: the domain, and the device whose credentials the INVITE carried (none
/// for a user's own phone, which is no hot desk, and for a call from the trunk to the
/// voice portal's access number).
#[derive(Debug, Clone)]
pub struct Caller {
    /// The caller's domain (HD-SEC-1: every decision stays in it).
    pub domain: DomainName,
    /// The calling device's anchor extension, if the caller is a device.
    pub device: Option<Extension>,
    /// For "Activate Phone": the only user who may be logged in by this call.
    pub expected_user: Option<Extension>,
}

impl Caller {
    fn method(flow: &Flow) -> LoginMethod {
        match flow {
            Flow::VoicePortal => LoginMethod::VoicePortal,
            Flow::Activate => LoginMethod::ActivatePhone,
            Flow::Login | Flow::Logout | Flow::Toggle { .. } => LoginMethod::PhoneCode,
        }
    }

    fn source(flow: &Flow) -> &'static str {
        match flow {
            Flow::VoicePortal => "voice_portal",
            Flow::Activate => "activate_phone",
            Flow::Login | Flow::Logout | Flow::Toggle { .. } => "phone_code",
        }
    }

    /// Who acts for `user`, whose PIN was checked: the calling device, else (no device)
    /// the user themself with a user's scope — never the system's, which would lift rules
    /// meant for people.
    fn requester(&self, flow: &Flow, user: &Extension) -> Requester {
        let requester = match &self.device {
            Some(device) => Requester::phone(device.clone()),
            None => Requester::user(user.clone(), Scope::User),
        };
        requester.with_source(Self::source(flow))
    }

    fn pin_context(&self, flow: &Flow) -> PinContext {
        PinContext {
            device: self.device.clone(),
            source: Some(Self::source(flow).to_owned()),
        }
    }
}

/// The device's own answer before any prompt: excluded model, personal or location phone
/// (HD-LOGIN-6, -7), nobody to log out (HD-ROUTE-5).
pub fn precheck(app: &App, caller: &Caller, flow: &Flow) -> Result<(), Refusal> {
    if *flow == Flow::VoicePortal {
        return Ok(());
    }
    let Some(ext) = &caller.device else {
        return Err(Refusal::PersonalDevice);
    };
    let state = app.read();
    let tenant = state
        .tenants
        .get(&caller.domain)
        .ok_or(Refusal::UnknownDevice)?;
    let device = tenant.devices.get(ext).ok_or(Refusal::UnknownDevice)?;
    match flow {
        Flow::Logout => {
            if device.kind == DeviceKind::Location {
                return Err(Refusal::LocationDevice);
            }
            if state.desks.on_device(&caller.domain, ext).is_none() {
                return Err(Refusal::NotLoggedIn);
            }
            Ok(())
        }
        Flow::Login | Flow::Toggle { .. } | Flow::Activate | Flow::VoicePortal => {
            let requester = Requester::phone(ext.clone()).with_source(Caller::source(flow));
            device_accepts_login(
                &tenant.domain.settings,
                device,
                Caller::method(flow),
                &requester,
            )
        }
    }
}

/// Answers one request of the script.
pub async fn decide(app: &App, caller: &Caller, flow: &Flow, request: Request) -> Answer {
    let result = match request {
        Request::VerifyPin { user, pin } => verify(app, caller, flow, &user, pin.as_str()).await,
        Request::Login { user } => match &caller.device {
            Some(device) => login(app, caller, flow, device, &user).await,
            None => Err(Refusal::PersonalDevice.into()),
        },
        Request::Logout { pin } => logout(app, caller, flow, pin.as_str()).await,
        Request::Toggle { pin } => toggle(app, caller, flow, pin.as_str()).await,
        Request::HostStatus { device } => host_status(app, caller, device),
        Request::Associate { user, device } => login(app, caller, flow, &device, &user).await,
        Request::Disassociate { user } => disassociate(app, caller, flow, &user).await,
    };
    match result {
        Ok(answer) => answer,
        Err(AppError::Refused(refusal)) => Answer::Refused(refusal),
        Err(error) => {
            tracing::warn!(%error, "phone menu request failed");
            Answer::Failed
        }
    }
}

async fn verify(
    app: &App,
    caller: &Caller,
    flow: &Flow,
    user: &Extension,
    pin: &str,
) -> Result<Answer, AppError> {
    // HD-LOGIN-9: the phone was called for one user; another account is refused as a
    // wrong PIN would be, so the prompt reveals nothing.
    if caller.expected_user.as_ref().is_some_and(|e| e != user) {
        return Err(Refusal::WrongPin.into());
    }
    app.verify_pin(
        &caller.domain,
        user,
        &SecretString::new(pin),
        caller.pin_context(flow),
    )
    .await?;
    Ok(Answer::Verified)
}

async fn login(
    app: &App,
    caller: &Caller,
    flow: &Flow,
    device: &Extension,
    user: &Extension,
) -> Result<Answer, AppError> {
    let command = Command::Login(Login {
        domain: caller.domain.clone(),
        device: device.clone(),
        user: user.clone(),
        method: Caller::method(flow),
        requester: caller.requester(flow, user),
        pin_verified: true,
    });
    app.execute(&command).await?;
    // HD-LOGIN-10: the log-in works for calls, but an agent who never signed in to the
    // portal is told they get no queue calls yet.
    let queue_offline = app
        .user(&caller.domain, user)
        .is_some_and(|u| u.agent && u.queue_status == QueueStatus::Offline);
    Ok(Answer::LoggedIn { queue_offline })
}

async fn logout(app: &App, caller: &Caller, flow: &Flow, pin: &str) -> Result<Answer, AppError> {
    let device = caller.device.as_ref().ok_or(Refusal::NotLoggedIn)?;
    let user = app
        .association(&caller.domain, device)
        .ok_or(Refusal::NotLoggedIn)?
        .user;
    app.verify_pin(
        &caller.domain,
        &user,
        &SecretString::new(pin),
        caller.pin_context(flow),
    )
    .await?;
    log_out_of(app, caller, flow, device, &user).await
}

async fn log_out_of(
    app: &App,
    caller: &Caller,
    flow: &Flow,
    device: &Extension,
    user: &Extension,
) -> Result<Answer, AppError> {
    let command = Command::Logout(Logout {
        domain: caller.domain.clone(),
        device: device.clone(),
        user: Some(user.clone()),
        path: LogoutPath::Phone { pin_verified: true },
        requester: caller.requester(flow, user),
    });
    app.execute(&command).await?;
    Ok(Answer::LoggedOut)
}

/// HD-LOGIN-2: the PIN's owner, found by the keyed index, is logged in, or out when they
/// are the one on the device. A PIN matching nobody counts against the device.
async fn toggle(app: &App, caller: &Caller, flow: &Flow, pin: &str) -> Result<Answer, AppError> {
    let device = caller.device.as_ref().ok_or(Refusal::PersonalDevice)?;
    let index = app.server_key().pin_index(caller.domain.as_str(), pin);
    let Some(owner) = app.user_by_pin_index(&caller.domain, &index) else {
        if pin_shared(app, &caller.domain, &index) {
            return Err(Refusal::PinInUse.into());
        }
        app.unknown_pin_at_device(&caller.domain, device, Some(Caller::source(flow).into()))
            .await?;
        return Err(Refusal::WrongPin.into());
    };
    // The argon2 check too: the lock-out applies, and the index alone never lets anyone in.
    app.verify_pin(
        &caller.domain,
        &owner,
        &SecretString::new(pin),
        caller.pin_context(flow),
    )
    .await?;
    let on_device = app.association(&caller.domain, device).map(|a| a.user);
    if on_device.as_ref() == Some(&owner) {
        log_out_of(app, caller, flow, device, &owner).await
    } else {
        login(app, caller, flow, device, &owner).await
    }
}

fn pin_shared(app: &App, domain: &DomainName, index: &str) -> bool {
    app.read().tenants.get(domain).is_some_and(|t| {
        t.users
            .values()
            .filter(|u| u.pin_index.as_deref() == Some(index))
            .count()
            > 1
    })
}

/// HD-LOGIN-8 menu 1: who is on `device` (the calling device when `None`) and when it
/// ends (local `HHMM`). A device the domain does not have is refused, not called free.
fn host_status(app: &App, caller: &Caller, device: Option<Extension>) -> Result<Answer, AppError> {
    let free = Answer::Host {
        user: None,
        until: None,
    };
    let Some(device) = device.or_else(|| caller.device.clone()) else {
        return Ok(free);
    };
    let known = app
        .read()
        .tenants
        .get(&caller.domain)
        .is_some_and(|t| t.devices.contains_key(&device));
    if !known {
        return Err(Refusal::UnknownDevice.into());
    }
    let Some(session) = app.association(&caller.domain, &device) else {
        return Ok(free);
    };
    let zone = app
        .domain(&caller.domain)
        .and_then(|d| jiff::tz::TimeZone::get(&d.settings.time_zone).ok())
        .unwrap_or(jiff::tz::TimeZone::UTC);
    let until = session
        .expires_at
        .map(|at| at.to_zoned(zone).strftime("%H%M").to_string());
    Ok(Answer::Host {
        user: Some(session.user),
        until,
    })
}

/// HD-LOGIN-8 menu 3: the user leaves every desk they hold.
async fn disassociate(
    app: &App,
    caller: &Caller,
    flow: &Flow,
    user: &Extension,
) -> Result<Answer, AppError> {
    let held: Vec<Extension> = app
        .associations(&caller.domain)
        .into_iter()
        .filter(|a| &a.user == user)
        .map(|a| a.device)
        .collect();
    if held.is_empty() {
        return Err(Refusal::NotLoggedIn.into());
    }
    for device in held {
        log_out_of(app, caller, flow, &device, user).await?;
    }
    Ok(Answer::LoggedOut)
}
