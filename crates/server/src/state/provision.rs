//! Device provisioning fields kept on the device record: the applied template (HD-PROV-2),
//! soft keys (HD-PROV-3, per device, never following users) and the anchor's own mailbox
//! (HD-MWI-1, shown while nobody is logged in).

use hotdesk_core::{Device, DomainName, Extension, Key, Mailbox, Refusal};

use crate::state::{App, AppError, AppEvent};

impl App {
    /// Changes a device's provisioning fields under the write lock, persisting first.
    async fn change_device(
        &self,
        domain: &DomainName,
        ext: &Extension,
        change: impl FnOnce(&mut Device),
    ) -> Result<Device, AppError> {
        let _write = self.writes.lock().await;
        let mut device = self
            .device(domain, ext)
            .ok_or_else(|| self.unknown_in(domain, Refusal::UnknownDevice))?;
        change(&mut device);
        self.store.update_device(&device).await?;
        self.write_state().tenants.put_device(device.clone());
        Ok(device)
    }

    /// Applies a template to devices (`None`: back to the model / domain default): all are
    /// checked first, then written in one store transaction, so applying to a thousand
    /// phones costs one durable commit rather than a thousand (HD-PROV-2).
    pub async fn set_devices_template(
        &self,
        domain: &DomainName,
        exts: &[Extension],
        template: Option<String>,
    ) -> Result<(), AppError> {
        let _write = self.writes.lock().await;
        let devices = exts
            .iter()
            .map(|ext| {
                let mut device = self
                    .device(domain, ext)
                    .ok_or_else(|| self.unknown_in(domain, Refusal::UnknownDevice))?;
                device.template.clone_from(&template);
                Ok(device)
            })
            .collect::<Result<Vec<_>, AppError>>()?;
        self.store.update_devices(&devices).await?;
        let mut state = self.write_state();
        for device in devices {
            state.tenants.put_device(device);
        }
        Ok(())
    }

    /// Replaces a device's soft keys (HD-PROV-3).
    pub async fn set_soft_keys(
        &self,
        domain: &DomainName,
        ext: &Extension,
        keys: Vec<Key>,
    ) -> Result<Device, AppError> {
        self.change_device(domain, ext, |d| d.soft_keys = keys)
            .await
    }

    /// Sets the anchor extension's own mailbox (HD-MWI-1). Its phone is re-notified only
    /// when it shows that box now (nobody logged in), not while it shows someone else's.
    pub async fn set_device_mailbox(
        &self,
        domain: &DomainName,
        ext: &Extension,
        mailbox: Mailbox,
    ) -> Result<Device, AppError> {
        let device = self
            .change_device(domain, ext, |d| d.mailbox = mailbox)
            .await?;
        self.publish(AppEvent::MailboxChanged {
            domain: domain.clone(),
            user: ext.clone(),
            new: mailbox.new,
            old: mailbox.old,
        });
        if crate::mwi::device_owner(&self.read(), &device).is_none() {
            self.provisioning.mailbox_changed(domain, ext);
        }
        Ok(device)
    }
}
