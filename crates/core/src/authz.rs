//! Who may do what (HD-SEC-4, HD-LOGIN-11), and tenant isolation of every request
//! (HD-SEC-1). One function, [`authorize`], used by every API handler and CLI command.

use crate::ids::{DomainName, Extension};
use crate::refusal::Refusal;
use crate::user::Scope;

/// The authenticated caller: a token's role, home domain and user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Role.
    pub scope: Scope,
    /// Home domain; `None` only for a super admin not tied to a domain.
    pub domain: Option<DomainName>,
    /// The user the token belongs to, if it is a user's token.
    pub user: Option<Extension>,
}

/// Something a caller wants to do within one domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action<'a> {
    /// Create or delete domains, list all domains.
    ManageDomains,
    /// Change domain settings, seats, trunks.
    ManageDomain,
    /// Create, change or delete users and their allocations (seed 004: administrators
    /// allot multi-desk allocations).
    ManageUsers,
    /// Create and manage hot-desk devices (HD-LOGIN-11: Office Manager or higher).
    ManageDevices,
    /// Log anyone in or out, watch the desk board (HD-LOGOUT-4).
    ManageDesks,
    /// Read the audit trail, CDRs and domain-wide lists.
    ReadRecords,
    /// Act on one user's own account and sessions (HD-SEC-4 "own sessions").
    ActAsUser(&'a Extension),
}

/// The lowest role allowed to perform `action` on someone else's behalf.
pub fn required_scope(action: Action<'_>) -> Scope {
    match action {
        Action::ManageDomains => Scope::SuperAdmin,
        Action::ManageDomain | Action::ManageUsers => Scope::DomainAdmin,
        Action::ManageDevices | Action::ManageDesks | Action::ReadRecords => Scope::OfficeManager,
        Action::ActAsUser(_) => Scope::OfficeManager,
    }
}

/// Allows `action` on `domain` or refuses with `Forbidden`. A super admin may act in any
/// domain; everyone else only in their own (HD-SEC-1), at or above the required role, or
/// as themselves for [`Action::ActAsUser`]. The API may answer `Forbidden` for another
/// domain as 404, so as not to confirm that it exists.
pub fn authorize(
    principal: &Principal,
    domain: &DomainName,
    action: Action<'_>,
) -> Result<(), Refusal> {
    if principal.scope == Scope::SuperAdmin {
        return Ok(());
    }
    if principal.domain.as_ref() != Some(domain) {
        return Err(Refusal::Forbidden);
    }
    let own = matches!(action, Action::ActAsUser(user) if principal.user.as_ref() == Some(user));
    if own || principal.scope >= required_scope(action) {
        Ok(())
    } else {
        Err(Refusal::Forbidden)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture::{dom, ext};

    fn principal(scope: Scope, domain: &str, user: Option<&str>) -> Principal {
        Principal {
            scope,
            domain: Some(dom(domain)),
            user: user.map(ext),
        }
    }

    #[test]
    fn hd_sec_4_roles_in_order() {
        let acme = dom("acme.test");
        let user = principal(Scope::User, "acme.test", Some("1001"));
        let manager = principal(Scope::OfficeManager, "acme.test", None);
        let admin = principal(Scope::DomainAdmin, "acme.test", None);
        let own = ext("1001");
        let other = ext("1002");
        assert_eq!(authorize(&user, &acme, Action::ActAsUser(&own)), Ok(()));
        assert_eq!(
            authorize(&user, &acme, Action::ActAsUser(&other)),
            Err(Refusal::Forbidden)
        );
        assert_eq!(
            authorize(&user, &acme, Action::ManageDesks),
            Err(Refusal::Forbidden)
        );
        assert_eq!(
            authorize(&manager, &acme, Action::ActAsUser(&other)),
            Ok(())
        );
        assert_eq!(authorize(&manager, &acme, Action::ReadRecords), Ok(()));
        assert_eq!(
            authorize(&manager, &acme, Action::ManageUsers),
            Err(Refusal::Forbidden)
        );
        assert_eq!(authorize(&admin, &acme, Action::ManageUsers), Ok(()));
        assert_eq!(authorize(&admin, &acme, Action::ManageDomain), Ok(()));
        assert_eq!(
            authorize(&admin, &acme, Action::ManageDomains),
            Err(Refusal::Forbidden)
        );
    }

    #[test]
    fn hd_login_11_hot_desk_devices_need_office_manager() {
        let acme = dom("acme.test");
        let user = principal(Scope::User, "acme.test", Some("1001"));
        let manager = principal(Scope::OfficeManager, "acme.test", None);
        assert_eq!(
            authorize(&user, &acme, Action::ManageDevices),
            Err(Refusal::Forbidden)
        );
        assert_eq!(authorize(&manager, &acme, Action::ManageDevices), Ok(()));
    }

    #[test]
    fn hd_sec_1_no_role_crosses_domains_except_super_admin() {
        let beta = dom("beta.test");
        let admin = principal(Scope::DomainAdmin, "acme.test", Some("1001"));
        let same_ext = ext("1001");
        assert_eq!(
            authorize(&admin, &beta, Action::ReadRecords),
            Err(Refusal::Forbidden)
        );
        assert_eq!(
            authorize(&admin, &beta, Action::ActAsUser(&same_ext)),
            Err(Refusal::Forbidden)
        );
        let root = Principal {
            scope: Scope::SuperAdmin,
            domain: None,
            user: None,
        };
        assert_eq!(authorize(&root, &beta, Action::ManageDomains), Ok(()));
    }
}
