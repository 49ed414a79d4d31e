//! The in-memory view of every tenant: domains, users, devices, trunks and queues, keyed by domain
//! first (HD-SEC-1). Reads come from here; writes reach it only after the store has them.

use std::collections::{BTreeMap, HashMap};

use foldhash::fast::RandomState;
use hotdesk_core::directory::Directory;
use hotdesk_core::{Device, Domain, DomainName, Extension, Mac, Queue, Trunk, User};

/// The view's maps: seeded foldhash rather than SipHash, as every SIP request looks up its
/// domain and extension here, and only what an administrator created is ever inserted.
pub type Map<K, V> = HashMap<K, V, RandomState>;

/// One domain's records.
#[derive(Debug, Clone)]
pub struct Tenant {
    /// The domain and its settings.
    pub domain: Domain,
    /// Users by extension.
    pub users: Map<Extension, User>,
    /// Devices by anchor extension.
    pub devices: Map<Extension, Device>,
    /// Trunks by name.
    pub trunks: BTreeMap<String, Trunk>,
    /// Queues and ring groups by extension (HD-ROUTE-7).
    pub queues: BTreeMap<Extension, Queue>,
}

impl Tenant {
    /// An empty tenant for `domain`.
    pub fn new(domain: Domain) -> Self {
        Self {
            domain,
            users: Map::default(),
            devices: Map::default(),
            trunks: BTreeMap::new(),
            queues: BTreeMap::new(),
        }
    }

    /// Whether a user, a device or a queue already has `ext` (a personal device shares its
    /// owner's extension, so it is not counted twice).
    pub fn extension_taken(&self, ext: &Extension) -> bool {
        self.users.contains_key(ext)
            || self.devices.contains_key(ext)
            || self.queues.contains_key(ext)
    }

    /// Users sorted by extension.
    pub fn users_sorted(&self) -> Vec<&User> {
        let mut users: Vec<&User> = self.users.values().collect();
        users.sort_by(|a, b| a.extension.cmp(&b.extension));
        users
    }

    /// Devices sorted by anchor extension.
    pub fn devices_sorted(&self) -> Vec<&Device> {
        let mut devices: Vec<&Device> = self.devices.values().collect();
        devices.sort_by(|a, b| a.extension.cmp(&b.extension));
        devices
    }
}

/// Every tenant plus a global MAC index (a MAC is unique across domains).
#[derive(Debug, Clone, Default)]
pub struct Tenants {
    tenants: Map<DomainName, Tenant>,
    macs: Map<Mac, (DomainName, Extension)>,
}

impl Tenants {
    /// The tenant named `name`.
    pub fn get(&self, name: &DomainName) -> Option<&Tenant> {
        self.tenants.get(name)
    }

    /// The tenant's name, if `name` (as written, case and all) is one.
    pub fn name(&self, name: &str) -> Option<&DomainName> {
        self.tenants.get_key_value(name).map(|(key, _)| key)
    }

    /// Mutable access, for the write path only.
    pub(crate) fn get_mut(&mut self, name: &DomainName) -> Option<&mut Tenant> {
        self.tenants.get_mut(name)
    }

    /// Domain names, sorted.
    pub fn names(&self) -> Vec<&DomainName> {
        let mut names: Vec<&DomainName> = self.tenants.keys().collect();
        names.sort();
        names
    }

    /// Every tenant, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &Tenant> {
        self.tenants.values()
    }

    /// Which device has this MAC, in which domain (provisioning, HD-PROV-1).
    pub fn device_by_mac(&self, mac: &Mac) -> Option<&Device> {
        let (domain, ext) = self.macs.get(mac)?;
        self.tenants.get(domain)?.devices.get(ext)
    }

    /// Whether any domain has a device with this MAC.
    pub fn mac_taken(&self, mac: &Mac) -> bool {
        self.macs.contains_key(mac)
    }

    pub(crate) fn insert_domain(&mut self, domain: Domain) {
        self.tenants
            .insert(domain.name.clone(), Tenant::new(domain));
    }

    pub(crate) fn remove_domain(&mut self, name: &DomainName) {
        if let Some(tenant) = self.tenants.remove(name) {
            for device in tenant.devices.values() {
                self.macs.remove(&device.mac);
            }
        }
    }

    pub(crate) fn put_user(&mut self, user: User) {
        if let Some(tenant) = self.tenants.get_mut(&user.domain) {
            tenant.users.insert(user.extension.clone(), user);
        }
    }

    pub(crate) fn remove_user(&mut self, domain: &DomainName, ext: &Extension) {
        if let Some(tenant) = self.tenants.get_mut(domain) {
            tenant.users.remove(ext);
        }
    }

    pub(crate) fn put_device(&mut self, device: Device) {
        let Some(tenant) = self.tenants.get_mut(&device.domain) else {
            return;
        };
        if let Some(old) = tenant.devices.get(&device.extension) {
            self.macs.remove(&old.mac);
        }
        self.macs.insert(
            device.mac.clone(),
            (device.domain.clone(), device.extension.clone()),
        );
        tenant.devices.insert(device.extension.clone(), device);
    }

    pub(crate) fn remove_device(&mut self, domain: &DomainName, ext: &Extension) {
        if let Some(device) = self
            .tenants
            .get_mut(domain)
            .and_then(|t| t.devices.remove(ext))
        {
            self.macs.remove(&device.mac);
        }
    }

    pub(crate) fn put_trunk(&mut self, trunk: Trunk) {
        if let Some(tenant) = self.tenants.get_mut(&trunk.domain) {
            tenant.trunks.insert(trunk.name.clone(), trunk);
        }
    }

    pub(crate) fn put_queue(&mut self, queue: Queue) {
        if let Some(tenant) = self.tenants.get_mut(&queue.domain) {
            tenant.queues.insert(queue.extension.clone(), queue);
        }
    }

    pub(crate) fn remove_queue(&mut self, domain: &DomainName, ext: &Extension) {
        if let Some(tenant) = self.tenants.get_mut(domain) {
            tenant.queues.remove(ext);
        }
    }

    /// Total users across domains.
    pub fn user_count(&self) -> usize {
        self.tenants.values().map(|t| t.users.len()).sum()
    }

    /// Total devices across domains.
    pub fn device_count(&self) -> usize {
        self.tenants.values().map(|t| t.devices.len()).sum()
    }
}

impl Directory for Tenants {
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
