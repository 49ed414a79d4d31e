//! Read access to domains, users and devices, keyed by domain first (HD-SEC-1).
//!
//! The desk book owns only associations; decisions read the other records through
//! [`Directory`], so the server can back it with whatever cache it keeps.
//! [`MemoryDirectory`] is a ready O(1) implementation.

use std::collections::HashMap;

use crate::device::Device;
use crate::domain::Domain;
use crate::ids::{DomainName, Extension};
use crate::user::User;

/// O(1) look-ups of the records a decision needs. Every look-up names the domain, so a
/// record of another tenant is simply not found (HD-SEC-1).
pub trait Directory {
    /// The domain and its settings.
    fn domain(&self, name: &DomainName) -> Option<&Domain>;
    /// A user of `domain` by extension.
    fn user(&self, domain: &DomainName, extension: &Extension) -> Option<&User>;
    /// A device of `domain` by anchor extension.
    fn device(&self, domain: &DomainName, extension: &Extension) -> Option<&Device>;
}

/// One domain's records.
#[derive(Debug, Clone)]
struct Tenant {
    domain: Domain,
    users: HashMap<Extension, User>,
    devices: HashMap<Extension, Device>,
}

/// An in-memory [`Directory`]: domains → users and devices in hash maps.
#[derive(Debug, Clone, Default)]
pub struct MemoryDirectory {
    tenants: HashMap<DomainName, Tenant>,
}

impl MemoryDirectory {
    /// An empty directory.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces a domain, keeping its users and devices.
    pub fn upsert_domain(&mut self, domain: Domain) {
        match self.tenants.get_mut(&domain.name) {
            Some(tenant) => tenant.domain = domain,
            None => {
                let tenant = Tenant {
                    domain: domain.clone(),
                    users: HashMap::new(),
                    devices: HashMap::new(),
                };
                self.tenants.insert(domain.name, tenant);
            }
        }
    }

    /// Removes a domain with all its users and devices.
    pub fn remove_domain(&mut self, name: &DomainName) -> Option<Domain> {
        self.tenants.remove(name).map(|t| t.domain)
    }

    /// Adds or replaces a user; `false` (and nothing stored) if its domain is unknown.
    pub fn upsert_user(&mut self, user: User) -> bool {
        match self.tenants.get_mut(&user.domain) {
            Some(tenant) => {
                tenant.users.insert(user.extension.clone(), user);
                true
            }
            None => false,
        }
    }

    /// Removes a user.
    pub fn remove_user(&mut self, domain: &DomainName, extension: &Extension) -> Option<User> {
        self.tenants.get_mut(domain)?.users.remove(extension)
    }

    /// Adds or replaces a device; `false` (and nothing stored) if its domain is unknown.
    pub fn upsert_device(&mut self, device: Device) -> bool {
        match self.tenants.get_mut(&device.domain) {
            Some(tenant) => {
                tenant.devices.insert(device.extension.clone(), device);
                true
            }
            None => false,
        }
    }

    /// Removes a device.
    pub fn remove_device(&mut self, domain: &DomainName, extension: &Extension) -> Option<Device> {
        self.tenants.get_mut(domain)?.devices.remove(extension)
    }

    /// A domain's users, in no particular order.
    pub fn users<'a>(&'a self, domain: &DomainName) -> impl Iterator<Item = &'a User> + 'a {
        self.tenants
            .get(domain)
            .into_iter()
            .flat_map(|t| t.users.values())
    }

    /// A domain's devices, in no particular order.
    pub fn devices<'a>(&'a self, domain: &DomainName) -> impl Iterator<Item = &'a Device> + 'a {
        self.tenants
            .get(domain)
            .into_iter()
            .flat_map(|t| t.devices.values())
    }
}

impl Directory for MemoryDirectory {
    fn domain(&self, name: &DomainName) -> Option<&Domain> {
        self.tenants.get(name).map(|t| &t.domain)
    }

    fn user(&self, domain: &DomainName, extension: &Extension) -> Option<&User> {
        self.tenants.get(domain)?.users.get(extension)
    }

    fn device(&self, domain: &DomainName, extension: &Extension) -> Option<&Device> {
        self.tenants.get(domain)?.devices.get(extension)
    }
}
