//! Queues and ring groups (HD-ROUTE-7): create, change, delete, members as User or Phone.

use hotdesk_core::queue::{MAX_MEMBERS, MAX_RING_SECS, MIN_RING_SECS};
use hotdesk_core::{DomainName, Extension, Queue, QueueMember, Refusal, Strategy};
use hotdesk_store::StoreError;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::state::users::conflict_as_in_use;
use crate::state::validate::{self, present};
use crate::state::{App, AppError, Tenant};

/// Ring time when none is given, seconds.
const DEFAULT_RING_SECS: u32 = 15;

/// A queue to create (`POST /domains/{d}/queues`).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewQueue {
    /// The number callers dial; not used by any user, device or queue of the domain.
    #[schema(value_type = String, example = "7000")]
    pub extension: Extension,
    /// Display name.
    pub name: String,
    /// `ring_all` (default) or `round_robin`.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "ring_all")]
    pub strategy: Strategy,
    /// Per-member ring time (round-robin) or ring time of all members (ring-all), 5–300 s;
    /// default 15.
    #[serde(default)]
    pub ring_secs: Option<u32>,
    /// Members in order: `{"user":"1004"}` (all the user's current devices ring) or
    /// `{"phone":"94001"}` (that device only).
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub members: Vec<QueueMember>,
    /// Number the call goes to when no member answered; absent: 480.
    #[serde(default)]
    pub overflow: Option<String>,
}

/// Changes to a queue (`PATCH`); absent fields stay, `null` clears `overflow`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QueuePatch {
    /// New name.
    pub name: Option<String>,
    /// New strategy.
    #[schema(value_type = Option<String>)]
    pub strategy: Option<Strategy>,
    /// New ring time.
    pub ring_secs: Option<u32>,
    /// The whole member list, replaced.
    #[schema(value_type = Option<Vec<Object>>)]
    pub members: Option<Vec<QueueMember>>,
    /// New overflow number, or `null` to remove.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub overflow: Option<Option<String>>,
}

fn check_ring_secs(secs: u32) -> Result<u32, AppError> {
    if (MIN_RING_SECS..=MAX_RING_SECS).contains(&secs) {
        Ok(secs)
    } else {
        Err(AppError::invalid(
            "ring_secs",
            format!("must be {MIN_RING_SECS} to {MAX_RING_SECS}"),
        ))
    }
}

/// Every member must exist in the tenant (a user as User, a device as Phone), once.
fn check_members(tenant: &Tenant, members: &[QueueMember]) -> Result<(), AppError> {
    if members.len() > MAX_MEMBERS {
        return Err(AppError::invalid(
            "members",
            format!("at most {MAX_MEMBERS} members"),
        ));
    }
    for (i, member) in members.iter().enumerate() {
        if members[..i].contains(member) {
            return Err(AppError::invalid(
                format!("members[{i}]"),
                "member listed twice",
            ));
        }
        match member {
            QueueMember::User(ext) if !tenant.users.contains_key(ext) => {
                return Err(Refusal::UnknownUser.into())
            }
            QueueMember::Phone(ext) if !tenant.devices.contains_key(ext) => {
                return Err(Refusal::UnknownDevice.into())
            }
            QueueMember::User(_) | QueueMember::Phone(_) => {}
        }
    }
    Ok(())
}

fn check_overflow(queue: &Extension, overflow: Option<&str>) -> Result<Option<String>, AppError> {
    let overflow = validate::optional_number("overflow", overflow)?;
    if overflow.as_deref() == Some(queue.as_str()) {
        return Err(AppError::invalid(
            "overflow",
            "must not be the queue itself",
        ));
    }
    Ok(overflow)
}

fn unknown_queue() -> AppError {
    AppError::Store(StoreError::NotFound { entity: "queue" })
}

impl App {
    /// Creates a queue after checking its extension is free and its members exist.
    pub async fn create_queue(
        &self,
        domain: &DomainName,
        new: NewQueue,
    ) -> Result<Queue, AppError> {
        let name = validate::name("name", &new.name, true)?;
        let ring_secs = check_ring_secs(new.ring_secs.unwrap_or(DEFAULT_RING_SECS))?;
        let overflow = check_overflow(&new.extension, new.overflow.as_deref())?;
        let _write = self.writes.lock().await;
        let queue = {
            let state = self.read();
            let tenant = state.tenants.get(domain).ok_or(AppError::UnknownDomain)?;
            if tenant.extension_taken(&new.extension) {
                return Err(Refusal::ExtensionInUse.into());
            }
            check_members(tenant, &new.members)?;
            Queue {
                domain: domain.clone(),
                extension: new.extension,
                name,
                strategy: new.strategy,
                ring_secs,
                members: new.members,
                overflow,
            }
        };
        self.store
            .create_queue(&queue)
            .await
            .map_err(conflict_as_in_use)?;
        self.write_state().tenants.put_queue(queue.clone());
        Ok(queue)
    }

    /// A domain's queues by extension; `None` if the domain is unknown.
    pub fn queues(&self, domain: &DomainName) -> Option<Vec<Queue>> {
        let state = self.read();
        let tenant = state.tenants.get(domain)?;
        Some(tenant.queues.values().cloned().collect())
    }

    /// One queue.
    pub fn queue(&self, domain: &DomainName, ext: &Extension) -> Result<Queue, AppError> {
        let state = self.read();
        let tenant = state.tenants.get(domain).ok_or(AppError::UnknownDomain)?;
        tenant.queues.get(ext).cloned().ok_or_else(unknown_queue)
    }

    /// Applies `change` to a queue under the write lock, checks it and stores it.
    async fn change_queue(
        &self,
        domain: &DomainName,
        ext: &Extension,
        change: impl FnOnce(&Tenant, &mut Queue) -> Result<(), AppError>,
    ) -> Result<Queue, AppError> {
        let _write = self.writes.lock().await;
        let queue = {
            let state = self.read();
            let tenant = state.tenants.get(domain).ok_or(AppError::UnknownDomain)?;
            let mut queue = tenant.queues.get(ext).cloned().ok_or_else(unknown_queue)?;
            change(tenant, &mut queue)?;
            queue
        };
        self.store.update_queue(&queue).await?;
        self.write_state().tenants.put_queue(queue.clone());
        Ok(queue)
    }

    /// Takes a deleted user or device out of every queue of its domain and stores the
    /// changed queues, so a queue never lists a member that rings nothing (HD-ROUTE-7).
    /// The caller holds the write lock.
    pub(crate) async fn forget_queue_member(
        &self,
        domain: &DomainName,
        member: &QueueMember,
    ) -> Result<(), AppError> {
        let changed: Vec<Queue> = {
            let state = self.read();
            let Some(tenant) = state.tenants.get(domain) else {
                return Ok(());
            };
            tenant
                .queues
                .values()
                .filter(|q| q.members.contains(member))
                .map(|q| {
                    let mut queue = q.clone();
                    queue.members.retain(|m| m != member);
                    queue
                })
                .collect()
        };
        for queue in changed {
            self.store.update_queue(&queue).await?;
            self.write_state().tenants.put_queue(queue);
        }
        Ok(())
    }

    /// Applies a PATCH to a queue.
    pub async fn update_queue(
        &self,
        domain: &DomainName,
        ext: &Extension,
        patch: QueuePatch,
    ) -> Result<Queue, AppError> {
        self.change_queue(domain, ext, |tenant, queue| {
            if let Some(name) = &patch.name {
                queue.name = validate::name("name", name, true)?;
            }
            if let Some(strategy) = patch.strategy {
                queue.strategy = strategy;
            }
            if let Some(secs) = patch.ring_secs {
                queue.ring_secs = check_ring_secs(secs)?;
            }
            if let Some(members) = patch.members {
                check_members(tenant, &members)?;
                queue.members = members;
            }
            if let Some(overflow) = &patch.overflow {
                queue.overflow = check_overflow(&queue.extension, overflow.as_deref())?;
            }
            Ok(())
        })
        .await
    }

    /// Adds a member at the end of the queue's list.
    pub async fn add_queue_member(
        &self,
        domain: &DomainName,
        ext: &Extension,
        member: QueueMember,
    ) -> Result<Queue, AppError> {
        self.change_queue(domain, ext, |tenant, queue| {
            // Only the new member is checked: deleting a user or device already takes it
            // out of every queue (`forget_queue_member`).
            check_members(tenant, std::slice::from_ref(&member))?;
            if queue.members.contains(&member) {
                return Err(AppError::invalid(
                    format!("members[{}]", queue.members.len()),
                    "member listed twice",
                ));
            }
            if queue.members.len() >= MAX_MEMBERS {
                return Err(AppError::invalid(
                    "members",
                    format!("at most {MAX_MEMBERS} members"),
                ));
            }
            queue.members.push(member);
            Ok(())
        })
        .await
    }

    /// Removes a member; `NotFound { entity: "queue member" }` if it is not in the list.
    pub async fn remove_queue_member(
        &self,
        domain: &DomainName,
        ext: &Extension,
        member: &QueueMember,
    ) -> Result<Queue, AppError> {
        self.change_queue(domain, ext, |_, queue| {
            let before = queue.members.len();
            queue.members.retain(|m| m != member);
            if queue.members.len() == before {
                return Err(AppError::Store(StoreError::NotFound {
                    entity: "queue member",
                }));
            }
            Ok(())
        })
        .await
    }

    /// Deletes a queue.
    pub async fn delete_queue(&self, domain: &DomainName, ext: &Extension) -> Result<(), AppError> {
        let _write = self.writes.lock().await;
        {
            let state = self.read();
            let tenant = state.tenants.get(domain).ok_or(AppError::UnknownDomain)?;
            if !tenant.queues.contains_key(ext) {
                return Err(unknown_queue());
            }
        }
        self.store.delete_queue(domain, ext).await?;
        self.write_state().tenants.remove_queue(domain, ext);
        Ok(())
    }
}
