//! Queues and ring groups (HD-ROUTE-7) and the agent status that decides who is offered
//! their calls (HD-LOGIN-10): which members ring, in which order, as pure functions of the
//! queue, the directory and the desk book.

use serde::{Deserialize, Serialize};

use crate::desks::DeskBook;
use crate::directory::Directory;
use crate::ids::{DomainName, Extension};
use crate::routing::{targets_for_user, RingTarget};
use crate::user::{QueueStatus, User};

/// Shortest per-member ring time, seconds.
pub const MIN_RING_SECS: u32 = 5;
/// Longest per-member ring time, seconds.
pub const MAX_RING_SECS: u32 = 300;
/// Most members a queue may hold.
pub const MAX_MEMBERS: usize = 64;

/// A queue or ring-group member (HD-ROUTE-7). Serialised as `{"user":"1004"}` or
/// `{"phone":"94001"}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueueMember {
    /// Added as User: all of the user's current devices ring (HD-ROUTE-1, -2).
    User(Extension),
    /// Added as Phone: only that device rings, whoever is logged in.
    Phone(Extension),
}

impl QueueMember {
    /// The member's extension (a user's or a device's anchor).
    pub fn extension(&self) -> &Extension {
        match self {
            Self::User(ext) | Self::Phone(ext) => ext,
        }
    }
}

/// How a queue offers a call to its members.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// Every member at once; the first answer wins.
    #[default]
    RingAll,
    /// One member at a time, the first member moving on by one with every call.
    RoundRobin,
}

/// A queue / ring group: an extension of its domain that rings its members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Queue {
    /// Owning domain.
    pub domain: DomainName,
    /// The number callers dial; unique among the domain's users, devices and queues.
    pub extension: Extension,
    /// Display name.
    pub name: String,
    /// Ring-all or round-robin.
    pub strategy: Strategy,
    /// How long one member (round-robin) or all members (ring-all) ring, seconds.
    pub ring_secs: u32,
    /// Members in hunting order.
    pub members: Vec<QueueMember>,
    /// Where the call goes when no member answered (a number routed as dialled); `None`:
    /// 480 to the caller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overflow: Option<String>,
}

impl Queue {
    /// The order members are offered one call, as groups that ring together: ring-all is
    /// one group of every member; round-robin is one group per member, starting at
    /// `start` (taken modulo the member count) and wrapping around.
    pub fn stages(&self, start: usize) -> Vec<Vec<&QueueMember>> {
        if self.members.is_empty() {
            return Vec::new();
        }
        match self.strategy {
            Strategy::RingAll => vec![self.members.iter().collect()],
            Strategy::RoundRobin => {
                let n = self.members.len();
                (0..n)
                    .map(|i| vec![&self.members[(start % n + i) % n]])
                    .collect()
            }
        }
    }
}

/// HD-LOGIN-10: a user's queue status as shown: `Offline` until their first portal
/// sign-in (the stored status is `Offline` until then), afterwards `LoggedIn` while they
/// are logged in to a hot desk and `LoggedOut` otherwise.
pub fn queue_status(book: &DeskBook, user: &User) -> QueueStatus {
    if user.queue_status == QueueStatus::Offline {
        QueueStatus::Offline
    } else if book.devices_of(&user.domain, &user.extension).is_empty() {
        QueueStatus::LoggedOut
    } else {
        QueueStatus::LoggedIn
    }
}

/// HD-LOGIN-10: whether a user member is offered queue calls. Plain ring-group members
/// always are; a call-center agent only while `LoggedIn` (so not before their first portal
/// sign-in, even when logged in to a desk by phone).
pub fn offered(book: &DeskBook, user: &User) -> bool {
    !user.agent || queue_status(book, user) == QueueStatus::LoggedIn
}

/// HD-ROUTE-7: the targets of one queue member. A user member rings every current device
/// of the user (HD-ROUTE-1, -2) if they are offered queue calls; a phone member rings that
/// device only. Unknown users and devices ring nothing.
pub fn targets_for_member<D: Directory + ?Sized>(
    book: &DeskBook,
    directory: &D,
    domain: &DomainName,
    member: &QueueMember,
) -> Vec<RingTarget> {
    match member {
        QueueMember::Phone(device) => match directory.device(domain, device) {
            Some(_) => vec![RingTarget::Device(device.clone())],
            None => Vec::new(),
        },
        QueueMember::User(ext) => match (directory.domain(domain), directory.user(domain, ext)) {
            (Some(d), Some(user)) if offered(book, user) => {
                targets_for_user(book, &d.settings, user)
            }
            _ => Vec::new(),
        },
    }
}

#[cfg(test)]
mod tests;
