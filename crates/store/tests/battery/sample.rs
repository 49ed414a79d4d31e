//! Sample records. Built from JSON so fields core adds later (with `#[serde(default)]`)
//! don't break the battery; every optional field is filled so round trips check them all.

use hotdesk_core::{
    Actor, Association, AuditRecord, Cdr, DeskEvent, Device, Domain, DomainName, Extension,
    LogoutReason, Trunk, User,
};
use hotdesk_store::{Binding, TokenRecord};
use jiff::Timestamp;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

fn from<T: DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value).expect("sample matches the core model")
}

pub(crate) fn name(domain: &str) -> DomainName {
    domain.parse().expect("domain name")
}

pub(crate) fn ext(ext: &str) -> Extension {
    ext.parse().expect("extension")
}

/// `2025-06-02T09:00:00Z` plus `secs` seconds.
pub(crate) fn at(secs: i64) -> Timestamp {
    Timestamp::from_second(1_748_854_800 + secs).expect("in range")
}

/// A domain whose settings all differ from the defaults.
pub(crate) fn domain(name: &str) -> Domain {
    from(json!({
        "name": name,
        "settings": {
            "codes": {"login": ["*44"], "logout": ["*45"], "toggle": "981", "voice_portal": "*63"},
            "device_ranges": [{"first": 9000, "last": 9099}],
            "time_zone": "Europe/Rome",
            "emergency_numbers": ["112"],
            "seats": {"standard": 3, "advanced": 1, "basic": 7},
            "primary_while_away": "ring_both",
            "max_association_secs": 36000,
            "end_of_day": "19:30",
            "idle_logout_secs": 7200,
            "logout_warning_secs": 60,
            "confirm_owner": false,
            "excluded_models": ["polycom-vvx-101"],
            "lockout": {"max_failures": 3, "window_secs": 600, "lock_secs": 1200},
            "emergency_callback_secs": 900,
            "voice_portal_number": "+390612345678"
        }
    }))
}

pub(crate) fn user(domain: &str, extension: &str) -> User {
    from(json!({
        "domain": domain,
        "extension": extension,
        "first_name": "Bob",
        "last_name": format!("Smith {extension}"),
        "did": "+15551230000",
        "pin_hash": "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
        "sip_secret": "enc:v1:abcdef",
        "seat": "advanced",
        "max_devices": 3,
        "scope": "office_manager",
        "forward_to": "+15559990000",
        "queue_status": "logged_in",
        "mailbox": {"new": 2, "old": 5}
    }))
}

pub(crate) fn device(domain: &str, extension: &str, mac: &str) -> Device {
    from(json!({
        "domain": domain,
        "extension": extension,
        "mac": mac,
        "model": "yealink-t46u",
        "kind": "hotdesk",
        "sip_secret": "enc:v1:device",
        "owner": null,
        "did": "+15551239999",
        "location": {"country": "US", "state": "NY", "city": "New York", "street": "Broadway",
                     "number": "1", "floor": "3", "room": "3.14", "description": "by the window"},
        "association_secs": 28800,
        "forward_to": "5000",
        "soft_keys": [{"position": 1, "kind": "speed_dial", "value": "911", "label": "Help"},
                      {"position": 2, "kind": "blf", "value": "1004", "label": "Bob"}],
        "template": "lobby",
        "site": "HQ",
        "mailbox": {"new": 1, "old": 4}
    }))
}

pub(crate) fn trunk(domain: &str, name: &str) -> Trunk {
    from(json!({
        "domain": domain, "name": name, "address": "sip.carrier.example:5060",
        "username": "acct", "secret": "enc:v1:trunk", "emergency": true
    }))
}

/// An association at `since`, expiring 8 h later; times keep sub-millisecond digits where
/// the store keeps them exactly.
pub(crate) fn association(domain: &str, device: &str, user: &str, since: Timestamp) -> Association {
    from(json!({
        "domain": domain, "device": device, "user": user,
        "since": since, "method": "phone_code",
        "expires_at": since + jiff::SignedDuration::from_hours(8),
        // The store keeps `last_activity` at millisecond resolution (its own column).
        "last_activity": Timestamp::from_millisecond(since.as_millisecond()).expect("in range")
    }))
}

pub(crate) fn login(association: Association) -> DeskEvent {
    DeskEvent::LoggedIn {
        actor: Actor::Device(association.device.clone()),
        association,
    }
}

pub(crate) fn logout(domain: &str, device: &str, user: &str, at: Timestamp) -> DeskEvent {
    DeskEvent::LoggedOut {
        domain: name(domain),
        device: ext(device),
        user: ext(user),
        reason: LogoutReason::User,
        actor: Actor::User(ext(user)),
        at,
    }
}

pub(crate) fn audit(
    domain: &str,
    at: Timestamp,
    kind: &str,
    user: Option<&str>,
    device: Option<&str>,
) -> AuditRecord {
    from(json!({
        "domain": domain, "at": at, "kind": kind,
        "actor": {"kind": "admin", "id": "ops"},
        "user": user, "device": device,
        "source": "192.0.2.7",
        "detail": {"method": "phone_code", "attempt": 1}
    }))
}

pub(crate) fn cdr(
    domain: &str,
    call_id: &str,
    start: Timestamp,
    anchor: Option<&str>,
    user: Option<&str>,
) -> Cdr {
    from(json!({
        "domain": domain, "call_id": call_id, "direction": "outbound",
        "anchor": anchor, "user_name": user.map(|u| format!("User {u}")),
        "user_extension": user, "from": "94001", "to": "+15550001111",
        "start": start, "answer": start + jiff::SignedDuration::from_secs(3),
        "end": start + jiff::SignedDuration::from_secs(60), "disposition": "answered"
    }))
}

pub(crate) fn token(hash: &str, domain: Option<&str>, user: Option<&str>) -> TokenRecord {
    from(json!({
        "hash": hash, "scope": if user.is_some() { "user" } else { "domain_admin" },
        "domain": domain, "user": user, "name": "portal", "expires_at": at(86_400)
    }))
}

pub(crate) fn binding(domain: &str, aor: &str, contact: &str, expires_at: Timestamp) -> Binding {
    from(json!({
        "domain": domain, "aor": aor, "contact": contact,
        "source": "udp:192.0.2.10:5060", "expires_at": expires_at,
        "call_id": "a84b4c76e66710@pc33", "cseq": 314159,
        "instance": "<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>", "reg_id": 1,
        "q": 800, "path": ["<sip:edge1.example;lr>", "<sip:edge2.example;lr>"],
        "user_agent": "Yealink SIP-T46U 108.86.0.45"
    }))
}
