//! Who is calling (from a bearer token) and what they may touch (HD-SEC-1, HD-SEC-4).
//!
//! Role model: `user` — own sessions, mailbox and activation only; `office_manager` — the
//! domain's desks, devices and sessions (HD-LOGIN-11); `domain_admin` — everything in the
//! domain; `super_admin` — every domain. Another domain's resources answer
//! `unknown_domain` (404), whether or not that domain exists, so nothing leaks.

use hotdesk_core::authz::{self, authorize, Action};
use hotdesk_core::command::Requester;
use hotdesk_core::{Actor, DomainName, Extension, Refusal, Scope};

use crate::state::AppError;

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Role granted by the token.
    pub scope: Scope,
    /// The domain the caller belongs to; `None` only for super admins.
    pub domain: Option<DomainName>,
    /// The user the token belongs to, for tokens made by signing in.
    pub user: Option<Extension>,
    /// Label for the audit trail (`admin`, `cli`, token name).
    pub name: String,
}

impl Principal {
    /// The built-in super administrator (`HOTDESK_ADMIN_TOKEN`, CLI).
    pub fn super_admin(name: impl Into<String>) -> Self {
        Self {
            scope: Scope::SuperAdmin,
            domain: None,
            user: None,
            name: name.into(),
        }
    }

    /// Whether the caller may see every domain.
    pub fn is_super(&self) -> bool {
        self.scope == Scope::SuperAdmin
    }

    /// Whether the caller may see `domain` at all (HD-SEC-1).
    pub fn sees(&self, domain: &DomainName) -> bool {
        self.is_super() || self.domain.as_ref() == Some(domain)
    }

    /// Whether the caller is this user of this domain.
    pub fn is_user(&self, domain: &DomainName, ext: &Extension) -> bool {
        self.domain.as_ref() == Some(domain) && self.user.as_ref() == Some(ext)
    }

    /// Requires membership of `domain` (any role): another domain → `UnknownDomain` (404,
    /// no leak).
    pub fn member(&self, domain: &DomainName) -> Result<(), AppError> {
        if self.sees(domain) {
            Ok(())
        } else {
            Err(AppError::UnknownDomain)
        }
    }

    /// Allows `action` in `domain` by core's one authorisation rule (HD-SEC-4,
    /// HD-LOGIN-11): another domain → `UnknownDomain` (404, HD-SEC-1); too low a role →
    /// `Forbidden` (403).
    pub fn allow(&self, domain: &DomainName, action: Action<'_>) -> Result<(), AppError> {
        self.member(domain)?;
        let core = authz::Principal {
            scope: self.scope,
            domain: self.domain.clone(),
            user: self.user.clone(),
        };
        authorize(&core, domain, action).map_err(AppError::from)
    }

    /// Requires super admin (creating and deleting domains).
    pub fn require_super(&self) -> Result<(), AppError> {
        if self.is_super() {
            Ok(())
        } else {
            Err(Refusal::Forbidden.into())
        }
    }

    /// The audit actor: the user for sign-in tokens, else the token's name.
    pub fn actor(&self) -> Actor {
        match &self.user {
            Some(ext) => Actor::User(ext.clone()),
            None => Actor::Admin(self.name.clone()),
        }
    }

    /// The core requester for desk decisions, with the request's source address.
    pub fn requester(&self, source: Option<String>) -> Requester {
        let requester = match &self.user {
            Some(ext) => Requester::user(ext.clone(), self.scope),
            None => Requester::admin(self.name.clone(), self.scope),
        };
        match source {
            Some(source) => requester.with_source(source),
            None => requester,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn domain(name: &str) -> DomainName {
        DomainName::new(name).unwrap()
    }

    fn principal(scope: Scope, d: &str, user: Option<&str>) -> Principal {
        Principal {
            scope,
            domain: Some(domain(d)),
            user: user.map(|u| Extension::new(u).unwrap()),
            name: "t".into(),
        }
    }

    #[test]
    fn hd_sec_1_other_domain_is_unknown_whatever_the_role() {
        let admin = principal(Scope::DomainAdmin, "a.test", None);
        assert!(matches!(
            admin.allow(&domain("b.test"), Action::ReadRecords),
            Err(AppError::UnknownDomain)
        ));
        assert!(matches!(
            admin.member(&domain("b.test")),
            Err(AppError::UnknownDomain)
        ));
        assert!(Principal::super_admin("root")
            .allow(&domain("b.test"), Action::ManageDomains)
            .is_ok());
    }

    #[test]
    fn hd_sec_4_roles_are_ordered_and_users_act_for_themselves() {
        let user = principal(Scope::User, "a.test", Some("1004"));
        let d = domain("a.test");
        let me = Extension::new("1004").unwrap();
        let other = Extension::new("1005").unwrap();
        assert!(matches!(
            user.allow(&d, Action::ManageDevices),
            Err(AppError::Refused(Refusal::Forbidden))
        ));
        assert!(user.allow(&d, Action::ActAsUser(&me)).is_ok());
        assert!(user.allow(&d, Action::ActAsUser(&other)).is_err());
        let manager = principal(Scope::OfficeManager, "a.test", None);
        assert!(manager.allow(&d, Action::ManageDevices).is_ok());
        assert!(manager.allow(&d, Action::ManageUsers).is_err());
        assert!(manager.require_super().is_err());
        assert_eq!(user.actor(), Actor::User(me));
    }
}
