//! Device operations (HD-LOGIN-6, -7, -11; HD-PROV-5 model catalogue; HD-ROUTE-6 location).

use hotdesk_core::command::{Command, Release, ReleaseTarget, Requester};
use hotdesk_core::device::check_device_extension;
use hotdesk_core::{
    CivicAddress, Device, DeviceKind, DomainName, Extension, LogoutReason, Mac, Mailbox, ModelId,
    Refusal,
};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::secrets::SecretString;
use crate::state::users::conflict_as_in_use;
use crate::state::validate::{self, present};
use crate::state::{App, AppError};

/// A device to create (`POST /domains/{d}/devices`, CLI `device add`).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDevice {
    /// MAC address, 12 hex digits (`:` or `-` separators allowed); unique across domains.
    #[schema(value_type = String, example = "00:15:65:12:34:56")]
    pub mac: Mac,
    /// Model ID from the catalogue (`yealink-t46u`).
    #[schema(value_type = String, example = "yealink-t46u")]
    pub model: ModelId,
    /// `hotdesk` (default), `personal` or `location`.
    #[serde(default = "hotdesk")]
    #[schema(value_type = Option<String>, example = "hotdesk")]
    pub kind: DeviceKind,
    /// Anchor extension; for `hotdesk` inside the device ranges (HD-LOGIN-11); for
    /// `personal` the owner's user extension.
    #[schema(value_type = String, example = "94001")]
    pub extension: Extension,
    /// SIP digest password the phone registers with; stored encrypted.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub sip_password: Option<SecretString>,
    /// Civic address for emergency calls (RFC 5139; `country` required).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub location: Option<CivicAddress>,
    /// DID presented when nobody is logged in.
    #[serde(default)]
    pub did: Option<String>,
    /// Per-device association lifetime in seconds (HD-LOGOUT-2).
    #[serde(default)]
    pub association_secs: Option<u32>,
    /// Site label for the desk board.
    #[serde(default)]
    pub site: Option<String>,
}

fn hotdesk() -> DeviceKind {
    DeviceKind::Hotdesk
}

/// Changes to a device (`PATCH`); absent fields stay, `null` clears optional ones.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DevicePatch {
    /// New MAC (phone replaced).
    #[schema(value_type = Option<String>)]
    pub mac: Option<Mac>,
    /// New model.
    #[schema(value_type = Option<String>)]
    pub model: Option<ModelId>,
    /// New SIP password, or `null` to remove.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub sip_password: Option<Option<SecretString>>,
    /// New location, or `null` to remove.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Object>)]
    pub location: Option<Option<CivicAddress>>,
    /// New DID, or `null` to remove.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub did: Option<Option<String>>,
    /// New association lifetime, or `null` for the domain default.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<u32>)]
    pub association_secs: Option<Option<u32>>,
    /// New site, or `null`.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub site: Option<Option<String>>,
}

fn check_location(location: Option<CivicAddress>) -> Result<Option<CivicAddress>, AppError> {
    let Some(mut location) = location else {
        return Ok(None);
    };
    let country = location.country.trim().to_ascii_uppercase();
    if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(AppError::invalid(
            "location.country",
            "must be an ISO 3166 two-letter country code",
        ));
    }
    location.country = country;
    let parts = [
        ("location.state", &mut location.state),
        ("location.city", &mut location.city),
        ("location.street", &mut location.street),
        ("location.number", &mut location.number),
        ("location.floor", &mut location.floor),
        ("location.room", &mut location.room),
        ("location.description", &mut location.description),
    ];
    for (field, part) in parts {
        if let Some(text) = part.as_deref() {
            *part = Some(validate::name(field, text, false)?);
        }
    }
    Ok(Some(location))
}

fn check_lifetime(secs: Option<u32>) -> Result<Option<u32>, AppError> {
    match secs {
        Some(s) if s < 60 => Err(AppError::invalid("association_secs", "must be at least 60")),
        other => Ok(other),
    }
}

fn optional_name(field: &str, value: Option<&str>) -> Result<Option<String>, AppError> {
    value
        .map(|v| validate::name(field, v, false))
        .transpose()
        .map(|v| v.filter(|s| !s.is_empty()))
}

impl App {
    fn check_model(&self, model: &ModelId) -> Result<(), AppError> {
        if self.models.get(model).is_some() {
            Ok(())
        } else {
            Err(AppError::UnknownModel {
                known: self.models.ids().into_iter().map(str::to_owned).collect(),
            })
        }
    }

    /// Checks a new device against the view: range (HD-LOGIN-11), extension and MAC use.
    /// Returns the owner of a `personal` device.
    fn check_new_device(
        &self,
        domain: &DomainName,
        new: &NewDevice,
    ) -> Result<Option<Extension>, AppError> {
        let state = self.read();
        let tenant = state.tenants.get(domain).ok_or(AppError::UnknownDomain)?;
        if state.tenants.mac_taken(&new.mac) {
            return Err(Refusal::MacInUse.into());
        }
        if tenant.devices.contains_key(&new.extension) || tenant.queues.contains_key(&new.extension)
        {
            return Err(Refusal::ExtensionInUse.into());
        }
        match new.kind {
            DeviceKind::Hotdesk => {
                check_device_extension(&tenant.domain.settings, new.kind, &new.extension)?;
                // Users may not sit in the range, but check in case ranges were widened.
                if tenant.users.contains_key(&new.extension) {
                    return Err(Refusal::ExtensionInUse.into());
                }
                Ok(None)
            }
            // A personal phone registers as its owner (SPEC §4), so its extension must be
            // an existing user's.
            DeviceKind::Personal => {
                if tenant.users.contains_key(&new.extension) {
                    Ok(Some(new.extension.clone()))
                } else {
                    Err(Refusal::UnknownUser.into())
                }
            }
            DeviceKind::Location => {
                if tenant.users.contains_key(&new.extension) {
                    return Err(Refusal::ExtensionInUse.into());
                }
                Ok(None)
            }
        }
    }

    /// Creates a device; the SIP password is sealed with the server key (HD-SEC-2).
    pub async fn create_device(
        &self,
        domain: &DomainName,
        new: NewDevice,
    ) -> Result<Device, AppError> {
        self.check_model(&new.model)?;
        if let Some(password) = &new.sip_password {
            validate::sip_password("sip_password", password)?;
        }
        let did = validate::optional_number("did", new.did.as_deref())?;
        let site = optional_name("site", new.site.as_deref())?;
        let location = check_location(new.location.clone())?;
        let association_secs = check_lifetime(new.association_secs)?;
        let sip_secret = new
            .sip_password
            .as_ref()
            .map(|p| self.key.seal(p.expose()))
            .transpose()?;
        let _write = self.writes.lock().await;
        let owner = self.check_new_device(domain, &new)?;
        let device = Device {
            domain: domain.clone(),
            extension: new.extension,
            mac: new.mac,
            model: new.model,
            kind: new.kind,
            sip_secret,
            owner,
            did,
            location,
            association_secs,
            forward_to: None,
            soft_keys: Vec::new(),
            template: None,
            site,
            mailbox: Mailbox::default(),
        };
        self.store.create_device(&device).await.map_err(|err| {
            match err {
                // The store's unique keys are extension and MAC; tell which we can.
                hotdesk_store::StoreError::Conflict { entity } if entity.contains("mac") => {
                    Refusal::MacInUse.into()
                }
                other => conflict_as_in_use(other),
            }
        })?;
        self.write_state().tenants.put_device(device.clone());
        Ok(device)
    }

    /// A device by anchor extension.
    pub fn device(&self, domain: &DomainName, ext: &Extension) -> Option<Device> {
        self.read()
            .tenants
            .get(domain)
            .and_then(|t| t.devices.get(ext).cloned())
    }

    /// A device by MAC, in whichever domain it is (provisioning).
    pub fn device_by_mac(&self, mac: &Mac) -> Option<Device> {
        self.read().tenants.device_by_mac(mac).cloned()
    }

    /// A domain's devices sorted by extension; `None` if the domain is unknown.
    pub fn devices(&self, domain: &DomainName) -> Option<Vec<Device>> {
        let state = self.read();
        let tenant = state.tenants.get(domain)?;
        Some(tenant.devices_sorted().into_iter().cloned().collect())
    }

    /// Applies a PATCH to a device.
    pub async fn update_device(
        &self,
        domain: &DomainName,
        ext: &Extension,
        patch: DevicePatch,
    ) -> Result<Device, AppError> {
        if let Some(model) = &patch.model {
            self.check_model(model)?;
        }
        let sip_secret = match &patch.sip_password {
            Some(Some(password)) => {
                validate::sip_password("sip_password", password)?;
                Some(Some(self.key.seal(password.expose())?))
            }
            Some(None) => Some(None),
            None => None,
        };
        let _write = self.writes.lock().await;
        let device = {
            let state = self.read();
            let tenant = state.tenants.get(domain).ok_or(AppError::UnknownDomain)?;
            let mut device = tenant
                .devices
                .get(ext)
                .cloned()
                .ok_or(Refusal::UnknownDevice)?;
            if let Some(mac) = &patch.mac {
                if *mac != device.mac && state.tenants.mac_taken(mac) {
                    return Err(Refusal::MacInUse.into());
                }
                device.mac = mac.clone();
            }
            if let Some(model) = &patch.model {
                device.model = model.clone();
            }
            if let Some(secret) = sip_secret {
                device.sip_secret = secret;
            }
            if let Some(location) = &patch.location {
                device.location = check_location(location.clone())?;
            }
            if let Some(did) = &patch.did {
                device.did = validate::optional_number("did", did.as_deref())?;
            }
            if let Some(secs) = patch.association_secs {
                device.association_secs = check_lifetime(secs)?;
            }
            if let Some(site) = &patch.site {
                device.site = optional_name("site", site.as_deref())?;
            }
            device
        };
        self.store.update_device(&device).await?;
        self.write_state().tenants.put_device(device.clone());
        Ok(device)
    }

    /// Deletes a device, logging out whoever is on it first (audited as removed).
    pub async fn delete_device(
        &self,
        domain: &DomainName,
        ext: &Extension,
        requester: Requester,
    ) -> Result<(), AppError> {
        let _write = self.writes.lock().await;
        if self.device(domain, ext).is_none() {
            return Err(self.unknown_in(domain, Refusal::UnknownDevice));
        }
        let command = Command::Release(Release {
            domain: domain.clone(),
            target: ReleaseTarget::Device(ext.clone()),
            reason: LogoutReason::Removed,
            requester,
        });
        self.execute_locked(&command).await?;
        self.store.delete_device(domain, ext).await?;
        self.write_state().tenants.remove_device(domain, ext);
        self.forget_queue_member(domain, &hotdesk_core::QueueMember::Phone(ext.clone()))
            .await?;
        Ok(())
    }

    /// The clear SIP password of a device, for provisioning and digest HA1 (HD-SEC-2).
    pub fn device_sip_password(&self, device: &Device) -> Result<Option<SecretString>, AppError> {
        device
            .sip_secret
            .as_deref()
            .map(|sealed| self.key.open(sealed))
            .transpose()
            .map_err(AppError::from)
    }
}
