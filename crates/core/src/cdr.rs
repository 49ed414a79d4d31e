//! Call detail records: the anchor extension as number, the hot-desk user as name (HD-CDR-1).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::ids::{DomainName, Extension};

/// One record per call leg (HD-CDR-1, -2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cdr {
    /// Domain of the call.
    pub domain: DomainName,
    /// SIP Call-ID of the leg.
    pub call_id: String,
    /// Inbound, outbound or internal.
    pub direction: Direction,
    /// Device anchor extension on our side of the call (the CDR "number").
    pub anchor: Option<Extension>,
    /// The logged-in person's name at the time of the call (the CDR "name").
    pub user_name: Option<String>,
    /// The logged-in person's extension, so per-user reports count hot-desk traffic.
    pub user_extension: Option<Extension>,
    /// Calling number as presented.
    pub from: String,
    /// Called number.
    pub to: String,
    /// When the call started.
    pub start: Timestamp,
    /// When it was answered, if it was.
    pub answer: Option<Timestamp>,
    /// When it ended.
    pub end: Timestamp,
    /// How it ended.
    pub disposition: Disposition,
}

/// Call direction relative to the domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// From outside (trunk) to a user or device.
    Inbound,
    /// From a device to outside.
    Outbound,
    /// Between two parties of the domain.
    Internal,
}

/// How a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Disposition {
    /// Answered and later hung up.
    Answered,
    /// Rang out or was cancelled.
    NoAnswer,
    /// Callee busy.
    Busy,
    /// Refused or failed.
    Failed,
}
