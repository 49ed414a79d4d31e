//! Log-in and log-out: core decides (`DeskBook::plan`), the store persists, the view
//! applies, subscribers hear — in that order, so nothing is acknowledged before it is
//! written (STYLE §5).

use hotdesk_core::command::{
    Command, Login, Logout, LogoutPath, Plan, Release, ReleaseTarget, Requester,
};
use hotdesk_core::{Association, DeskEvent, DomainName, Extension, LoginMethod, LogoutReason};

use crate::state::metrics::Counters;
use crate::state::{App, AppError, AppEvent};

/// A remote log-in or log-out asked through the API, CLI or portal.
#[derive(Debug, Clone)]
pub struct SessionRequest {
    /// Domain of the device and user.
    pub domain: DomainName,
    /// Device anchor extension.
    pub device: Extension,
    /// Who asks, with role and source (audited, HD-LOGOUT-4).
    pub requester: Requester,
}

impl App {
    /// Decides, persists, applies and publishes a desk command. The general entry point
    /// for SIP features (phone codes, voice portal, sweeps); returns the applied plan so
    /// the caller can resync phones and MWI (`plan.devices_changed`).
    pub async fn execute(&self, command: &Command) -> Result<Plan, AppError> {
        let _write = self.writes.lock().await;
        self.execute_locked(command).await
    }

    /// [`App::execute`] for callers already holding the write lock.
    pub(crate) async fn execute_locked(&self, command: &Command) -> Result<Plan, AppError> {
        let now = self.now();
        let decided = {
            let state = self.read();
            state.desks.plan(&state.tenants, command, now)
        };
        let plan = match decided {
            Ok(plan) => plan,
            Err(refusal) => {
                if matches!(command, Command::Login(_)) {
                    Counters::add(&self.counters.login_refusals, 1);
                }
                return Err(refusal.into());
            }
        };
        if plan.is_noop() {
            return Ok(plan);
        }
        self.store
            .append_desk_events(&plan.events, &plan.audit)
            .await?;
        self.write_state().desks.apply(&plan.events);
        for event in &plan.events {
            match event {
                DeskEvent::LoggedIn { .. } => Counters::add(&self.counters.logins, 1),
                DeskEvent::LoggedOut { .. } => Counters::add(&self.counters.logouts, 1),
            }
            self.publish(AppEvent::from(event));
        }
        // HD-PROV-2, HD-MWI-1: the phones involved get check-sync and their owner's MWI.
        self.provisioning.desk_events(&plan.events);
        Ok(plan)
    }

    /// Logs `user` in to a device remotely (API `…/devices/{ext}/login`, CLI `hotdesk
    /// login`): HD-LOGIN-3 takeover, HD-LOGIN-4 allocation, HD-LOGIN-6/7 apply.
    pub async fn login(
        &self,
        request: SessionRequest,
        user: Extension,
        method: LoginMethod,
    ) -> Result<Plan, AppError> {
        let command = Command::Login(Login {
            domain: request.domain,
            device: request.device,
            user,
            method,
            requester: request.requester,
            pin_verified: false,
        });
        self.execute(&command).await
    }

    /// Logs out whoever is on a device, remotely (HD-LOGOUT-4: audited as forced, with
    /// the requester as actor).
    pub async fn logout(&self, request: SessionRequest) -> Result<Plan, AppError> {
        let command = Command::Logout(Logout {
            domain: request.domain,
            device: request.device,
            user: None,
            path: LogoutPath::Remote,
            requester: request.requester,
        });
        self.execute(&command).await
    }

    /// Ends every session of a user ("log out everywhere").
    pub async fn release_user(
        &self,
        domain: &DomainName,
        user: &Extension,
        reason: LogoutReason,
        requester: Requester,
    ) -> Result<Plan, AppError> {
        let command = Command::Release(Release {
            domain: domain.clone(),
            target: ReleaseTarget::User(user.clone()),
            reason,
            requester,
        });
        self.execute(&command).await
    }

    /// A domain's sessions, sorted by device.
    pub fn associations(&self, domain: &DomainName) -> Vec<Association> {
        let state = self.read();
        let mut list: Vec<Association> = state.desks.associations(domain).cloned().collect();
        list.sort_by(|a, b| a.device.cmp(&b.device));
        list
    }

    /// The session on one device, if any.
    pub fn association(&self, domain: &DomainName, device: &Extension) -> Option<Association> {
        self.read().desks.on_device(domain, device).cloned()
    }
}
