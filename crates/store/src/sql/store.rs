//! [`Store`] for every [`Backend`]: each method hands over to its aggregate's module.

use async_trait::async_trait;
use hotdesk_core::{
    Association, AuditRecord, Cdr, DeskEvent, Device, Domain, DomainName, Extension, Queue, Trunk,
    User,
};
use jiff::Timestamp;

use super::{
    associations, audit, bindings, cdrs, devices, domains, prov, queues, tokens, trunks, users,
    Backend,
};
use crate::{Binding, BindingKey, ProvRecord, RecordFilter, Store, StoreError, TokenRecord};

#[async_trait]
impl<B: Backend> Store for B {
    async fn create_domain(&self, domain: &Domain) -> Result<(), StoreError> {
        domains::create(self, domain).await
    }
    async fn update_domain(&self, domain: &Domain) -> Result<(), StoreError> {
        domains::update(self, domain).await
    }
    async fn delete_domain(&self, name: &DomainName) -> Result<(), StoreError> {
        domains::delete(self, name).await
    }
    async fn domains(&self) -> Result<Vec<Domain>, StoreError> {
        domains::list(self).await
    }

    async fn create_user(&self, user: &User) -> Result<(), StoreError> {
        users::create(self, user).await
    }
    async fn import_users(&self, list: &[User]) -> Result<(), StoreError> {
        users::import(self, list).await
    }
    async fn update_user(&self, user: &User) -> Result<(), StoreError> {
        users::update(self, user).await
    }
    async fn delete_user(&self, domain: &DomainName, ext: &Extension) -> Result<(), StoreError> {
        users::delete(self, domain, ext).await
    }
    async fn users(&self) -> Result<Vec<User>, StoreError> {
        users::list(self).await
    }

    async fn create_device(&self, device: &Device) -> Result<(), StoreError> {
        devices::create(self, device).await
    }
    async fn update_device(&self, device: &Device) -> Result<(), StoreError> {
        devices::update(self, device).await
    }
    async fn update_devices(&self, list: &[Device]) -> Result<(), StoreError> {
        devices::update_many(self, list).await
    }
    async fn delete_device(&self, domain: &DomainName, ext: &Extension) -> Result<(), StoreError> {
        devices::delete(self, domain, ext).await
    }
    async fn devices(&self) -> Result<Vec<Device>, StoreError> {
        devices::list(self).await
    }

    async fn create_trunk(&self, trunk: &Trunk) -> Result<(), StoreError> {
        trunks::create(self, trunk).await
    }
    async fn trunks(&self) -> Result<Vec<Trunk>, StoreError> {
        trunks::list(self).await
    }

    async fn create_queue(&self, queue: &Queue) -> Result<(), StoreError> {
        queues::create(self, queue).await
    }
    async fn update_queue(&self, queue: &Queue) -> Result<(), StoreError> {
        queues::update(self, queue).await
    }
    async fn delete_queue(&self, domain: &DomainName, ext: &Extension) -> Result<(), StoreError> {
        queues::delete(self, domain, ext).await
    }
    async fn queues(&self) -> Result<Vec<Queue>, StoreError> {
        queues::list(self).await
    }

    async fn append_desk_events(
        &self,
        events: &[DeskEvent],
        audit: &[AuditRecord],
    ) -> Result<(), StoreError> {
        associations::append_events(self, events, audit).await
    }
    async fn associations(&self) -> Result<Vec<Association>, StoreError> {
        associations::list(self).await
    }
    async fn touch_association(
        &self,
        domain: &DomainName,
        device: &Extension,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        associations::touch(self, domain, device, at).await
    }

    async fn append_audit(&self, records: &[AuditRecord]) -> Result<(), StoreError> {
        audit::append(self, records).await
    }
    async fn audit(
        &self,
        domain: &DomainName,
        filter: &RecordFilter,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        audit::list(self, domain, filter).await
    }
    async fn audit_since(
        &self,
        kind: &str,
        since: Timestamp,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        audit::since(self, kind, since).await
    }

    async fn insert_cdr(&self, cdr: &Cdr) -> Result<(), StoreError> {
        cdrs::insert(self, std::slice::from_ref(cdr)).await
    }
    async fn insert_cdrs(&self, records: &[Cdr]) -> Result<(), StoreError> {
        cdrs::insert(self, records).await
    }
    async fn cdrs(
        &self,
        domain: &DomainName,
        filter: &RecordFilter,
    ) -> Result<Vec<Cdr>, StoreError> {
        cdrs::list(self, domain, filter).await
    }

    async fn create_token(&self, token: &TokenRecord) -> Result<(), StoreError> {
        tokens::create(self, token).await
    }
    async fn token(&self, hash: &str) -> Result<Option<TokenRecord>, StoreError> {
        tokens::find(self, hash).await
    }
    async fn delete_token(&self, hash: &str) -> Result<(), StoreError> {
        tokens::delete(self, hash).await
    }

    async fn put_binding(&self, binding: &Binding) -> Result<(), StoreError> {
        bindings::put(self, binding).await
    }
    async fn delete_binding(
        &self,
        domain: &DomainName,
        aor: &Extension,
        contact: &str,
    ) -> Result<(), StoreError> {
        bindings::delete(self, domain, aor, contact).await
    }
    async fn bindings(&self) -> Result<Vec<Binding>, StoreError> {
        bindings::list(self).await
    }
    async fn apply_bindings(
        &self,
        puts: &[Binding],
        deletes: &[BindingKey],
    ) -> Result<(), StoreError> {
        bindings::apply(self, puts, deletes).await
    }

    async fn put_prov_record(&self, record: &ProvRecord) -> Result<(), StoreError> {
        prov::put(self, record).await
    }
    async fn delete_prov_record(
        &self,
        domain: &DomainName,
        kind: &str,
        key: &str,
    ) -> Result<(), StoreError> {
        prov::delete(self, domain, kind, key).await
    }
    async fn prov_records(&self, kind: &str) -> Result<Vec<ProvRecord>, StoreError> {
        prov::list(self, kind).await
    }
}
