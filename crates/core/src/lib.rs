//! Hot-desk rules for hotdesk: the domain model and every HD-… decision as pure functions.
//!
//! This crate does no I/O, reads no clock and spawns nothing: callers pass the current time
//! and get back decisions and the events to persist, so every rule is a plain unit test.
#![warn(missing_docs)]

pub mod association;
pub mod authz;
pub mod cdr;
pub mod command;
pub mod desks;
pub mod device;
pub mod directory;
pub mod domain;
pub mod event;
#[cfg(test)]
mod fixture;
pub mod ids;
pub mod label;
pub mod lockout;
pub mod login;
pub mod logout;
pub mod phone_menu;
pub mod pin;
pub mod queue;
pub mod refusal;
pub mod routing;
pub mod seats;
pub mod trunk;
pub mod user;

pub use association::{Association, LoginMethod};
pub use authz::{authorize, Action, Principal};
pub use cdr::{Cdr, Direction, Disposition};
pub use command::{
    Command, Login, Logout, LogoutPath, Plan, Release, ReleaseTarget, Requester, Warning,
};
pub use desks::DeskBook;
pub use device::{CivicAddress, Device, DeviceKind, Key};
pub use directory::{Directory, MemoryDirectory};
pub use domain::{Domain, DomainSettings, FeatureCodes, PrimaryWhileAway, Seats};
pub use event::{Actor, AuditRecord, DeskEvent, LogoutReason};
pub use ids::{DomainName, Extension, IdError, Mac, ModelId, Pin};
pub use label::{LabelError, LabelValues};
pub use lockout::{FailureWindow, PinAttempt, PinGuard, PinSubject};
pub use logout::{Deadline, Schedule, ScheduleError};
pub use pin::{verify_pin, PinError, PinHasher};
pub use queue::{Queue, QueueMember, Strategy};
pub use refusal::Refusal;
pub use routing::{AnchorRoute, CallerIdentity, DialogIdentity, RingTarget};
pub use trunk::Trunk;
pub use user::{Mailbox, QueueStatus, Scope, SeatType, User};
