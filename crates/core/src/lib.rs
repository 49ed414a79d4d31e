//! Hot-desk rules for hotdesk: the domain model and every HD-… decision as pure functions.
//!
//! This crate does no I/O, reads no clock and spawns nothing: callers pass the current time
//! and get back decisions and the events to persist, so every rule is a plain unit test.
#![warn(missing_docs)]

pub mod association;
pub mod cdr;
pub mod device;
pub mod domain;
pub mod event;
pub mod ids;
pub mod refusal;
pub mod trunk;
pub mod user;

pub use association::{Association, LoginMethod};
pub use cdr::{Cdr, Direction, Disposition};
pub use device::{CivicAddress, Device, DeviceKind, Key};
pub use domain::{Domain, DomainSettings, FeatureCodes, PrimaryWhileAway, Seats};
pub use event::{Actor, AuditRecord, DeskEvent, LogoutReason};
pub use ids::{DomainName, Extension, IdError, Mac, ModelId, Pin};
pub use refusal::Refusal;
pub use trunk::Trunk;
pub use user::{Mailbox, QueueStatus, Scope, SeatType, User};
