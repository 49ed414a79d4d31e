//! User operations: create, change, delete (HD-LOGIN-4, -5, -11; HD-SEC-2 secrets).

use hotdesk_core::command::Requester;
use hotdesk_core::seats;
use hotdesk_core::{
    DomainName, Extension, LogoutReason, Mailbox, QueueStatus, Refusal, Scope, SeatType, User,
};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::secrets::{hash_pin, SecretString};
use crate::state::validate::{self, present};
use crate::state::view::Tenant;
use crate::state::{blocking, App, AppError, AppEvent};

/// A user to create (`POST /domains/{d}/users`, CLI `user add`).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// Extension, 2–15 digits, outside the hot-desk device ranges (HD-LOGIN-11).
    #[schema(value_type = String, example = "1004")]
    pub extension: Extension,
    /// Given name.
    pub first_name: String,
    /// Family name.
    #[serde(default)]
    pub last_name: String,
    /// External number (`+` and digits).
    #[serde(default)]
    pub did: Option<String>,
    /// Phone log-in PIN, 4–12 digits; stored as an argon2id hash only.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "4321")]
    pub pin: Option<SecretString>,
    /// SIP password for a personal phone; stored encrypted only.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub sip_password: Option<SecretString>,
    /// Seat licence: `standard` (default), `advanced` or `basic`.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "standard")]
    pub seat: SeatType,
    /// Multi-desk allocation N, 1–5 (1 for basic seats); default 1 (HD-LOGIN-4).
    #[serde(default = "one")]
    pub max_devices: u8,
    /// Role: `user` (default), `office_manager`, `domain_admin`, `super_admin`.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "user")]
    pub scope: Scope,
    /// Not-reachable / forwarding destination: busy, no answer and unregistered fall to it.
    #[serde(default)]
    pub forward_to: Option<String>,
    /// Seconds the user's phones ring before `forward_to` applies (5–300; default 20).
    #[serde(default)]
    pub no_answer_secs: Option<u32>,
    /// A call-center agent (HD-LOGIN-10).
    #[serde(default)]
    pub agent: bool,
}

fn one() -> u8 {
    1
}

/// Changes to a user (`PATCH`); absent fields stay, `null` clears optional ones.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    /// New given name.
    pub first_name: Option<String>,
    /// New family name.
    pub last_name: Option<String>,
    /// New DID, or `null` to remove.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub did: Option<Option<String>>,
    /// New PIN, or `null` to remove.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub pin: Option<Option<SecretString>>,
    /// New SIP password, or `null` to remove.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub sip_password: Option<Option<SecretString>>,
    /// New seat type.
    #[schema(value_type = Option<String>)]
    pub seat: Option<SeatType>,
    /// New allocation (HD-LOGIN-4, -5).
    pub max_devices: Option<u8>,
    /// New role.
    #[schema(value_type = Option<String>)]
    pub scope: Option<Scope>,
    /// New forwarding destination, or `null` to remove.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub forward_to: Option<Option<String>>,
    /// Queue status (HD-LOGIN-10): `offline`, `logged_in`, `logged_out`.
    #[schema(value_type = Option<String>)]
    pub queue_status: Option<QueueStatus>,
    /// New no-answer time, or `null` for the default.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<u32>)]
    pub no_answer_secs: Option<Option<u32>>,
    /// Whether the user is a call-center agent (HD-LOGIN-10).
    pub agent: Option<bool>,
}

/// The no-answer time a user may set, seconds (HD-ROUTE-1 forwarding).
fn check_no_answer(secs: Option<u32>) -> Result<Option<u32>, AppError> {
    match secs {
        Some(s) if !(5..=300).contains(&s) => {
            Err(AppError::invalid("no_answer_secs", "must be 5 to 300"))
        }
        other => Ok(other),
    }
}

/// HD-LOGIN-4/5: allocation within the seat's maximum and the domain's pool (core rules).
fn check_allocation(
    tenant: &Tenant,
    except: Option<&Extension>,
    seat: SeatType,
    max_devices: u8,
) -> Result<(), AppError> {
    let max = seat.max_allocation();
    if max_devices == 0 || max_devices > max {
        return Err(Refusal::AllocationOutOfRange { max }.into());
    }
    let in_use = seats::allocation_in_use(tenant.users.values());
    let current = except
        .and_then(|ext| tenant.users.get(ext))
        .map(|u| u.max_devices);
    seats::check_allocation(&tenant.domain.settings.seats, in_use, current, max_devices)?;
    Ok(())
}

impl App {
    /// Creates a user after checking extension, range, allocation and pool; the PIN is
    /// hashed and the SIP password sealed before anything is stored (HD-SEC-2).
    pub async fn create_user(&self, domain: &DomainName, new: NewUser) -> Result<User, AppError> {
        let first_name = validate::name("first_name", &new.first_name, true)?;
        let last_name = validate::name("last_name", &new.last_name, false)?;
        let did = validate::optional_number("did", new.did.as_deref())?;
        let forward_to = validate::optional_number("forward_to", new.forward_to.as_deref())?;
        let pin = new
            .pin
            .as_ref()
            .map(|p| validate::pin("pin", p))
            .transpose()?;
        if let Some(password) = &new.sip_password {
            validate::sip_password("sip_password", password)?;
        }
        self.check_new_user(domain, &new.extension, new.seat, new.max_devices)?;
        let pin_index = pin
            .as_ref()
            .map(|p| self.key.pin_index(domain.as_str(), p.expose()));
        let pin_hash = match pin {
            Some(pin) => Some(blocking(move || hash_pin(pin.expose())).await??),
            None => None,
        };
        let sip_secret = new
            .sip_password
            .as_ref()
            .map(|p| self.key.seal(p.expose()))
            .transpose()?;
        let user = User {
            domain: domain.clone(),
            extension: new.extension,
            first_name,
            last_name,
            did,
            pin_hash,
            pin_index,
            sip_secret,
            seat: new.seat,
            max_devices: new.max_devices,
            scope: new.scope,
            forward_to,
            no_answer_secs: check_no_answer(new.no_answer_secs)?,
            agent: new.agent,
            queue_status: QueueStatus::Offline,
            mailbox: Mailbox::default(),
        };
        let _write = self.writes.lock().await;
        // Checked again under the lock: another request may have taken the extension.
        self.check_new_user(domain, &user.extension, user.seat, user.max_devices)?;
        self.check_pin_unique(domain, &user.extension, user.pin_index.as_deref())?;
        self.store
            .create_user(&user)
            .await
            .map_err(conflict_as_in_use)?;
        self.write_state().tenants.put_user(user.clone());
        Ok(user)
    }

    fn check_new_user(
        &self,
        domain: &DomainName,
        ext: &Extension,
        seat: SeatType,
        max_devices: u8,
    ) -> Result<(), AppError> {
        let state = self.read();
        let tenant = state.tenants.get(domain).ok_or(AppError::UnknownDomain)?;
        hotdesk_core::user::check_user_extension(&tenant.domain.settings, ext)?;
        if tenant.extension_taken(ext) {
            return Err(Refusal::ExtensionInUse.into());
        }
        check_allocation(tenant, None, seat, max_devices)
    }

    /// A user by extension.
    pub fn user(&self, domain: &DomainName, ext: &Extension) -> Option<User> {
        self.read()
            .tenants
            .get(domain)
            .and_then(|t| t.users.get(ext).cloned())
    }

    /// A domain's users sorted by extension; `None` if the domain is unknown.
    pub fn users(&self, domain: &DomainName) -> Option<Vec<User>> {
        let state = self.read();
        let tenant = state.tenants.get(domain)?;
        Some(tenant.users_sorted().into_iter().cloned().collect())
    }

    /// Applies a PATCH to a user.
    pub async fn update_user(
        &self,
        domain: &DomainName,
        ext: &Extension,
        patch: UserPatch,
    ) -> Result<User, AppError> {
        let (pin_hash, pin_index) = match &patch.pin {
            Some(Some(pin)) => {
                let pin = validate::pin("pin", pin)?;
                let index = self.key.pin_index(domain.as_str(), pin.expose());
                let hash = blocking(move || hash_pin(pin.expose())).await??;
                (Some(Some(hash)), Some(Some(index)))
            }
            Some(None) => (Some(None), Some(None)),
            None => (None, None),
        };
        let sip_secret = match &patch.sip_password {
            Some(Some(password)) => {
                validate::sip_password("sip_password", password)?;
                Some(Some(self.key.seal(password.expose())?))
            }
            Some(None) => Some(None),
            None => None,
        };
        let _write = self.writes.lock().await;
        let user = {
            let state = self.read();
            let tenant = state.tenants.get(domain).ok_or(AppError::UnknownDomain)?;
            let mut user = tenant.users.get(ext).cloned().ok_or(Refusal::UnknownUser)?;
            if let Some(first) = &patch.first_name {
                user.first_name = validate::name("first_name", first, true)?;
            }
            if let Some(last) = &patch.last_name {
                user.last_name = validate::name("last_name", last, false)?;
            }
            if let Some(did) = &patch.did {
                user.did = validate::optional_number("did", did.as_deref())?;
            }
            if let Some(forward) = &patch.forward_to {
                user.forward_to = validate::optional_number("forward_to", forward.as_deref())?;
            }
            if let Some(hash) = pin_hash {
                user.pin_hash = hash;
            }
            if let Some(index) = pin_index {
                user.pin_index = index;
            }
            if let Some(secret) = sip_secret {
                user.sip_secret = secret;
            }
            user.seat = patch.seat.unwrap_or(user.seat);
            user.max_devices = patch.max_devices.unwrap_or(user.max_devices);
            user.scope = patch.scope.unwrap_or(user.scope);
            user.queue_status = patch.queue_status.unwrap_or(user.queue_status);
            if let Some(secs) = patch.no_answer_secs {
                user.no_answer_secs = check_no_answer(secs)?;
            }
            user.agent = patch.agent.unwrap_or(user.agent);
            if patch.seat.is_some() || patch.max_devices.is_some() {
                check_allocation(tenant, Some(ext), user.seat, user.max_devices)?;
            }
            user
        };
        self.check_pin_unique(domain, ext, user.pin_index.as_deref())?;
        self.store.update_user(&user).await?;
        self.write_state().tenants.put_user(user.clone());
        Ok(user)
    }

    /// HD-LOGIN-2: `980` + PIN must name one user, so a PIN already held by another user
    /// of the domain is refused (`pin_in_use`, 409) when it is set.
    fn check_pin_unique(
        &self,
        domain: &DomainName,
        ext: &Extension,
        index: Option<&str>,
    ) -> Result<(), AppError> {
        let Some(index) = index else {
            return Ok(());
        };
        match self.user_by_pin_index(domain, index) {
            Some(owner) if &owner != ext => Err(Refusal::PinInUse.into()),
            _ => Ok(()),
        }
    }

    /// The user whose PIN has this keyed index (HD-LOGIN-2), if exactly one has it.
    pub fn user_by_pin_index(&self, domain: &DomainName, index: &str) -> Option<Extension> {
        let state = self.read();
        let tenant = state.tenants.get(domain)?;
        let mut owners = tenant
            .users
            .values()
            .filter(|u| u.pin_index.as_deref() == Some(index));
        let owner = owners.next()?.extension.clone();
        // Two owners (rows written before the rule, or a race) make the code ambiguous.
        owners.next().is_none().then_some(owner)
    }

    /// Deletes a user, logging them out everywhere first (audited as removed).
    pub async fn delete_user(
        &self,
        domain: &DomainName,
        ext: &Extension,
        requester: Requester,
    ) -> Result<(), AppError> {
        let _write = self.writes.lock().await;
        if self.user(domain, ext).is_none() {
            return Err(self.unknown_in(domain, Refusal::UnknownUser));
        }
        let command = hotdesk_core::command::Command::Release(hotdesk_core::command::Release {
            domain: domain.clone(),
            target: hotdesk_core::command::ReleaseTarget::User(ext.clone()),
            reason: LogoutReason::Removed,
            requester,
        });
        self.execute_locked(&command).await?;
        self.store.delete_user(domain, ext).await?;
        self.write_state().tenants.remove_user(domain, ext);
        self.forget_queue_member(domain, &hotdesk_core::QueueMember::User(ext.clone()))
            .await?;
        Ok(())
    }

    /// Sets a user's voicemail counts and tells subscribers (HD-MWI-1: the SIP side sends
    /// NOTIFY to the devices the user holds).
    pub async fn set_mailbox(
        &self,
        domain: &DomainName,
        ext: &Extension,
        mailbox: Mailbox,
    ) -> Result<User, AppError> {
        let _write = self.writes.lock().await;
        let mut user = self
            .user(domain, ext)
            .ok_or_else(|| self.unknown_in(domain, Refusal::UnknownUser))?;
        user.mailbox = mailbox;
        self.store.update_user(&user).await?;
        self.write_state().tenants.put_user(user.clone());
        self.publish(AppEvent::MailboxChanged {
            domain: domain.clone(),
            user: ext.clone(),
            new: mailbox.new,
            old: mailbox.old,
        });
        self.provisioning.mailbox_changed(domain, ext);
        Ok(user)
    }

    /// `UnknownDomain` if the domain is missing, else the given refusal.
    pub(crate) fn unknown_in(&self, domain: &DomainName, refusal: Refusal) -> AppError {
        if self.read().tenants.get(domain).is_none() {
            AppError::UnknownDomain
        } else {
            refusal.into()
        }
    }
}

/// A store conflict on a user or device insert means the extension was taken meanwhile.
pub(crate) fn conflict_as_in_use(err: hotdesk_store::StoreError) -> AppError {
    match err {
        hotdesk_store::StoreError::Conflict { .. } => Refusal::ExtensionInUse.into(),
        other => other.into(),
    }
}
