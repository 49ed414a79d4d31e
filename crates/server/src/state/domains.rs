//! Domain operations: create, change settings, delete, list (HD-SEC-1: one tenant each).

use hotdesk_core::command::{Command, Release, ReleaseTarget, Requester};
use hotdesk_core::{seats, Domain, DomainName, DomainSettings, LogoutReason};
use hotdesk_store::StoreError;
use serde_json::Value;

use crate::state::{settings, App, AppError};

impl App {
    /// Creates a domain with default settings, or the given ones after validation.
    pub async fn create_domain(
        &self,
        name: DomainName,
        settings: Option<DomainSettings>,
    ) -> Result<Domain, AppError> {
        let settings = settings.unwrap_or_default();
        settings::validate(&settings)?;
        let domain = Domain { name, settings };
        let _write = self.writes.lock().await;
        if self.read().tenants.get(&domain.name).is_some() {
            return Err(AppError::DomainExists);
        }
        self.store
            .create_domain(&domain)
            .await
            .map_err(|err| match err {
                StoreError::Conflict { .. } => AppError::DomainExists,
                other => other.into(),
            })?;
        self.write_state().tenants.insert_domain(domain.clone());
        Ok(domain)
    }

    /// A domain by name.
    pub fn domain(&self, name: &DomainName) -> Option<Domain> {
        self.read().tenants.get(name).map(|t| t.domain.clone())
    }

    /// Every domain, sorted by name.
    pub fn domains(&self) -> Vec<Domain> {
        let state = self.read();
        state
            .tenants
            .names()
            .into_iter()
            .filter_map(|n| state.tenants.get(n).map(|t| t.domain.clone()))
            .collect()
    }

    /// Merges a JSON merge patch (RFC 7396) into a domain's settings, validates the result
    /// and stores it. Shrinking the seat pool below the allocations in use is refused
    /// (HD-LOGIN-5).
    pub async fn patch_domain_settings(
        &self,
        name: &DomainName,
        patch: &Value,
    ) -> Result<Domain, AppError> {
        let _write = self.writes.lock().await;
        let (current, in_use) = {
            let state = self.read();
            let tenant = state.tenants.get(name).ok_or(AppError::UnknownDomain)?;
            (
                tenant.domain.clone(),
                seats::allocation_in_use(tenant.users.values()),
            )
        };
        let settings = settings::merge(&current.settings, patch)?;
        seats::check_seats(&settings.seats, in_use)?;
        let domain = Domain {
            name: current.name,
            settings,
        };
        self.store.update_domain(&domain).await?;
        if let Some(tenant) = self.write_state().tenants.get_mut(name) {
            tenant.domain = domain.clone();
        }
        Ok(domain)
    }

    /// Deletes a domain with its users, devices and sessions; sessions are logged out first
    /// (audited as removed) so `/events` subscribers see them end.
    pub async fn delete_domain(
        &self,
        name: &DomainName,
        requester: Requester,
    ) -> Result<(), AppError> {
        let _write = self.writes.lock().await;
        let users: Vec<_> = {
            let state = self.read();
            let tenant = state.tenants.get(name).ok_or(AppError::UnknownDomain)?;
            tenant
                .users
                .keys()
                .filter(|u| !state.desks.devices_of(name, u).is_empty())
                .cloned()
                .collect()
        };
        for user in users {
            let command = Command::Release(Release {
                domain: name.clone(),
                target: ReleaseTarget::User(user),
                reason: LogoutReason::Removed,
                requester: requester.clone(),
            });
            self.execute_locked(&command).await?;
        }
        self.store.delete_domain(name).await?;
        let mut state = self.write_state();
        state.tenants.remove_domain(name);
        state.desks.remove_domain(name);
        Ok(())
    }
}
