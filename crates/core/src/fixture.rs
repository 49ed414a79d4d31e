//! Test records: a small world of domains, users and devices (tests only).

use jiff::Timestamp;

use crate::device::{Device, DeviceKind};
use crate::directory::MemoryDirectory;
use crate::domain::{Domain, DomainSettings};
use crate::ids::{DomainName, Extension, Mac, ModelId};
use crate::user::{Mailbox, QueueStatus, Scope, SeatType, User};

pub(crate) fn ext(value: &str) -> Extension {
    Extension::new(value).expect("test extension")
}

pub(crate) fn dom(value: &str) -> DomainName {
    DomainName::new(value).expect("test domain")
}

pub(crate) fn at(value: &str) -> Timestamp {
    value.parse().expect("test timestamp")
}

pub(crate) fn domain(name: &str) -> Domain {
    Domain {
        name: dom(name),
        settings: DomainSettings::default(),
    }
}

pub(crate) fn user(domain: &str, extension: &str, max_devices: u8) -> User {
    User {
        domain: dom(domain),
        extension: ext(extension),
        first_name: format!("First{extension}"),
        last_name: format!("Last{extension}"),
        did: Some(format!("+1555{extension}")),
        pin_hash: None,
        pin_index: None,
        sip_secret: None,
        seat: SeatType::Standard,
        max_devices,
        scope: Scope::User,
        forward_to: None,
        no_answer_secs: None,
        agent: false,
        queue_status: QueueStatus::Offline,
        mailbox: Mailbox::default(),
    }
}

pub(crate) fn device(domain: &str, extension: &str, kind: DeviceKind) -> Device {
    let n: u64 = extension.parse().expect("numeric");
    Device {
        domain: dom(domain),
        extension: ext(extension),
        mac: Mac::new(&format!("0015{n:08x}")).expect("test mac"),
        model: ModelId::new("yealink-t46u").expect("model"),
        kind,
        sip_secret: None,
        owner: None,
        did: Some(format!("+1666{extension}")),
        location: None,
        association_secs: None,
        forward_to: None,
        soft_keys: Vec::new(),
        template: None,
        site: None,
        mailbox: Mailbox::default(),
    }
}

/// acme.test with users 1001 (N=1), 1002 (N=2), 1003 (N=1) and hot desks 94001–94004,
/// plus beta.test with user 1001 and hot desk 94009.
pub(crate) fn world() -> MemoryDirectory {
    let mut dir = MemoryDirectory::new();
    dir.upsert_domain(domain("acme.test"));
    dir.upsert_domain(domain("beta.test"));
    for (e, n) in [("1001", 1), ("1002", 2), ("1003", 1)] {
        dir.upsert_user(user("acme.test", e, n));
    }
    for e in ["94001", "94002", "94003", "94004"] {
        dir.upsert_device(device("acme.test", e, DeviceKind::Hotdesk));
    }
    dir.upsert_user(user("beta.test", "1001", 1));
    dir.upsert_device(device("beta.test", "94009", DeviceKind::Hotdesk));
    dir
}
