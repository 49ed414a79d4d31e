//! `hotdesk serve --demo`: a ready-to-try domain — ten people, hot desks in both default
//! device ranges, a lobby phone, a personal phone and a trunk — created through the same
//! [`App`] operations as the API, and instructions printed at start.
//!
//! Idempotent: each record is created only when missing, so a second `--demo` start
//! changes nothing (sessions and later edits stay). Device SIP passwords are random at
//! creation and read back (sealed, HD-SEC-2) on every start to be printed; PINs are fixed
//! demo values, since only their hashes are stored.

use std::fmt::Write as _;
use std::net::SocketAddr;

use hotdesk_core::{
    CivicAddress, DeviceKind, DomainName, DomainSettings, Extension, Mac, ModelId, Scope, SeatType,
    Seats,
};
use rand::distr::{Alphanumeric, SampleString as _};
use sha2::{Digest as _, Sha256};

use crate::provisioning::templates::{self, Format, TemplateInput};
use crate::provisioning::ProvError;
use crate::secrets::SecretString;
use crate::state::{App, AppError, NewDevice, NewTrunk, NewUser};

/// A demo person: extension, names, DID, PIN, seat and multi-desk allocation.
struct Person {
    extension: &'static str,
    first: &'static str,
    last: &'static str,
    pin: &'static str,
    seat: SeatType,
    max_devices: u8,
    scope: Scope,
}

const fn person(
    extension: &'static str,
    first: &'static str,
    last: &'static str,
    pin: &'static str,
) -> Person {
    Person {
        extension,
        first,
        last,
        pin,
        seat: SeatType::Standard,
        max_devices: 1,
        scope: Scope::User,
    }
}

const PEOPLE: [Person; 10] = [
    Person {
        scope: Scope::OfficeManager,
        ..person("1001", "Alice", "Adams", "2580")
    },
    person("1002", "Bob", "Brown", "3691"),
    person("1003", "Carol", "Chen", "4702"),
    Person {
        max_devices: 3,
        ..person("1004", "Dave", "Smith", "5813")
    },
    person("1005", "Erin", "Evans", "6924"),
    person("1006", "Frank", "Fischer", "7035"),
    person("1007", "Grace", "Garcia", "8146"),
    person("1008", "Heidi", "Hansen", "9257"),
    Person {
        seat: SeatType::Basic,
        ..person("1009", "Ivan", "Ivanov", "1368")
    },
    Person {
        seat: SeatType::Basic,
        ..person("1010", "Judy", "Jones", "2479")
    },
];

/// Seats for the people above: 8 Standard (5 allocations each) and 2 Basic (HD-LOGIN-5).
const SEATS: Seats = Seats {
    standard: 8,
    advanced: 0,
    basic: 2,
};

/// A demo phone: anchor extension, model, kind, where it stands.
struct Phone {
    extension: &'static str,
    model: &'static str,
    kind: DeviceKind,
    room: &'static str,
}

const PHONES: [Phone; 8] = [
    phone("94001", "yealink-t46u", DeviceKind::Hotdesk, "Desk 1"),
    phone("94002", "yealink-t54w", DeviceKind::Hotdesk, "Desk 2"),
    phone("94003", "polycom-vvx-450", DeviceKind::Hotdesk, "Desk 3"),
    phone("94004", "polycom-vvx-250", DeviceKind::Hotdesk, "Desk 4"),
    phone("5401", "yealink-t57w", DeviceKind::Hotdesk, "Meeting room"),
    phone("5402", "polycom-vvx-350", DeviceKind::Hotdesk, "Quiet room"),
    phone("2000", "polycom-vvx-250", DeviceKind::Location, "Lobby"),
    // Alice's own phone registers as her extension (SPEC §4).
    phone(
        "1001",
        "yealink-t54w",
        DeviceKind::Personal,
        "Alice's office",
    ),
];

const fn phone(
    extension: &'static str,
    model: &'static str,
    kind: DeviceKind,
    room: &'static str,
) -> Phone {
    Phone {
        extension,
        model,
        kind,
        room,
    }
}

/// The demo trunk: an upstream peer for off-net numbers (HD-ROUTE-9).
const TRUNK: (&str, &str) = ("pstn", "127.0.0.1:5080");

/// The demo domain's line label (HD-PROV-1, seed 003).
const DEMO_LABEL: &str = "hot desk [[first_name]] [[last_name]] [[extension]]";

/// Why the demo data could not be made.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// A built-in demo value is not a valid identifier (a bug in this file).
    #[error("demo data: {0}")]
    Id(#[from] hotdesk_core::IdError),
    /// The demo template was refused or not stored.
    #[error("demo template: {0}")]
    Template(#[from] ProvError),
    /// The application refused or failed to store a record.
    #[error("demo {what} {key}: {source}")]
    App {
        /// Kind of record (`user`, `device`, …).
        what: &'static str,
        /// Its key.
        key: String,
        /// The failure.
        source: AppError,
    },
}

/// What [`ensure`] found and made; renders the start-up instructions.
#[derive(Debug)]
pub struct DemoReport {
    domain: DomainName,
    /// Records created by this start (0 on a second start).
    pub created: usize,
    /// Records that were already there.
    pub existing: usize,
    passwords: Vec<(String, String, Option<SecretString>)>,
}

/// Creates whatever part of the demo domain is missing.
pub async fn ensure(app: &App, domain: &DomainName) -> Result<DemoReport, DemoError> {
    let mut report = DemoReport {
        domain: domain.clone(),
        created: 0,
        existing: 0,
        passwords: Vec::new(),
    };
    let fail = |what, key: &str| {
        let key = key.to_owned();
        move |source| DemoError::App { what, key, source }
    };
    if app.domain(domain).is_some() {
        report.existing += 1;
    } else {
        let settings = DomainSettings {
            seats: SEATS,
            ..DomainSettings::default()
        };
        app.create_domain(domain.clone(), Some(settings))
            .await
            .map_err(fail("domain", domain.as_str()))?;
        report.created += 1;
    }
    for person in &PEOPLE {
        let extension = Extension::new(person.extension)?;
        if app.user(domain, &extension).is_some() {
            report.existing += 1;
            continue;
        }
        let new = NewUser {
            extension,
            first_name: person.first.into(),
            last_name: person.last.into(),
            did: Some(format!("+1555010{}", person.extension)),
            pin: Some(SecretString::new(person.pin)),
            sip_password: None,
            seat: person.seat,
            max_devices: person.max_devices,
            scope: person.scope,
            forward_to: None,
            no_answer_secs: None,
            agent: false,
        };
        app.create_user(domain, new)
            .await
            .map_err(fail("user", person.extension))?;
        report.created += 1;
    }
    for (index, phone) in PHONES.iter().enumerate() {
        let extension = Extension::new(phone.extension)?;
        let device = match app.device(domain, &extension) {
            Some(device) => {
                report.existing += 1;
                device
            }
            None => {
                let new = NewDevice {
                    mac: demo_mac(domain, phone.model, index)?,
                    model: ModelId::new(phone.model)?,
                    kind: phone.kind,
                    extension,
                    sip_password: Some(SecretString::new(
                        Alphanumeric.sample_string(&mut rand::rng(), 12),
                    )),
                    location: Some(location(phone.room)),
                    did: None,
                    association_secs: None,
                    site: Some("HQ".into()),
                };
                let device = app
                    .create_device(domain, new)
                    .await
                    .map_err(fail("device", phone.extension))?;
                report.created += 1;
                device
            }
        };
        // Unreadable (another server key) or absent: print a dash rather than fail.
        let password = app.device_sip_password(&device).ok().flatten();
        let label = format!(
            "{:<16} {:<9} {}",
            phone.model,
            kind_name(phone.kind),
            phone.room
        );
        report
            .passwords
            .push((phone.extension.into(), label, password));
    }
    // HD-PROV-1: the seed's line label, for every phone of the demo domain.
    if app
        .provisioning()
        .template(domain, templates::DOMAIN_DEFAULT)
        .is_some()
    {
        report.existing += 1;
    } else {
        let input = TemplateInput {
            format: Format::Cfg,
            model: None,
            body: None,
            line_label: Some(DEMO_LABEL.into()),
        };
        app.provisioning()
            .put_template(
                app.store().as_ref(),
                domain,
                templates::DOMAIN_DEFAULT,
                input,
                None,
            )
            .await?;
        report.created += 1;
    }
    let trunks = app.trunks(domain).unwrap_or_default();
    if trunks.iter().any(|t| t.name == TRUNK.0) {
        report.existing += 1;
    } else {
        let new = NewTrunk {
            name: TRUNK.0.into(),
            address: TRUNK.1.into(),
            username: None,
            password: None,
            emergency: true,
        };
        app.create_trunk(domain, new)
            .await
            .map_err(fail("trunk", TRUNK.0))?;
        report.created += 1;
    }
    tracing::info!(
        "demo domain {domain}: {} records created, {} already there",
        report.created,
        report.existing
    );
    Ok(report)
}

fn kind_name(kind: DeviceKind) -> &'static str {
    match kind {
        DeviceKind::Hotdesk => "hotdesk",
        DeviceKind::Personal => "personal",
        DeviceKind::Location => "location",
    }
}

/// A stable MAC per domain and phone: the vendor's OUI, then two bytes of the domain
/// name's hash and the phone's index, so two demo domains in one database do not clash.
fn demo_mac(domain: &DomainName, model: &str, index: usize) -> Result<Mac, hotdesk_core::IdError> {
    let oui = if model.starts_with("polycom-") {
        "0004f2"
    } else {
        "001565"
    };
    let hash = Sha256::digest(domain.as_str().as_bytes());
    let low = u8::try_from(index).unwrap_or(u8::MAX);
    Mac::new(&format!("{oui}{:02x}{:02x}{low:02x}", hash[0], hash[1]))
}

fn location(room: &str) -> CivicAddress {
    CivicAddress {
        country: "US".into(),
        state: Some("CA".into()),
        city: Some("San Francisco".into()),
        street: Some("Market Street".into()),
        number: Some("100".into()),
        floor: Some("2".into()),
        room: Some(room.into()),
        description: None,
    }
}

impl DemoReport {
    /// The text printed at start: addresses, token, credentials and commands to try.
    /// `sip` is the bound UDP address, `None` while no SIP listener runs.
    pub fn instructions(&self, http: SocketAddr, sip: Option<SocketAddr>, token: &str) -> String {
        let d = &self.domain;
        let api = format!("http://{http}/api/v1");
        let mut out = String::new();
        let _ = writeln!(out, "\nhotdesk demo: domain {d} is ready\n");
        let _ = writeln!(out, "  API        {api}   (OpenAPI: {api}/openapi.json)");
        if let Some(m) = PEOPLE.iter().find(|p| p.scope == Scope::OfficeManager) {
            let _ = writeln!(
                out,
                "  Portal     http://{http}/   (office manager {} PIN {}, or the admin token)",
                m.extension, m.pin
            );
        }
        let _ = writeln!(out, "  Admin      bearer token {token}");
        match sip {
            Some(sip) => {
                let _ = writeln!(out, "  SIP        {sip} (UDP and TCP), domain {d}");
            }
            None => {
                let _ = writeln!(out, "  SIP        not listening in this build (HTTP only)");
            }
        }
        let _ = writeln!(out, "\nPeople (extension, name, PIN for *44 / 980+PIN):");
        for p in &PEOPLE {
            let mut notes = Vec::new();
            if p.max_devices > 1 {
                notes.push(format!("multi-desk, up to {} phones", p.max_devices));
            }
            if p.scope == Scope::OfficeManager {
                notes.push("office manager".to_owned());
            }
            if p.seat == SeatType::Basic {
                notes.push("basic seat".to_owned());
            }
            let name = format!("{} {}", p.first, p.last);
            let line = format!(
                "  {}  {name:<14} PIN {}  {}",
                p.extension,
                p.pin,
                notes.join(", ")
            );
            let _ = writeln!(out, "{}", line.trim_end());
        }
        let _ = writeln!(out, "\nPhones (register as sip:EXT@{d}, digest user EXT):");
        for (ext, label, password) in &self.passwords {
            let shown = password.as_ref().map_or("-", SecretString::expose);
            let _ = writeln!(out, "  {ext:<6} {label:<44} password {shown}");
        }
        let _ = writeln!(out, "\nTrunk {} → {}", TRUNK.0, TRUNK.1);
        let _ = writeln!(out, "\nTry it:");
        let _ = writeln!(
            out,
            "  export HOTDESK_URL=http://{http} HOTDESK_TOKEN={token} HOTDESK_DOMAIN={d}"
        );
        let _ = writeln!(
            out,
            "  hotdesk login 94001 1004        # Dave sits at desk 94001"
        );
        let _ = writeln!(out, "  hotdesk sessions");
        let _ = writeln!(out, "  hotdesk logout 94001");
        let _ = writeln!(
            out,
            "  curl -s -H \"Authorization: Bearer $HOTDESK_TOKEN\" {api}/domains/{d}/associations"
        );
        let _ = writeln!(
            out,
            "  curl -s -X POST -H \"Authorization: Bearer $HOTDESK_TOKEN\" -H 'content-type: application/json' \\\n       -d '{{\"extension\":\"1002\"}}' {api}/domains/{d}/devices/94002/login"
        );
        let _ = writeln!(
            out,
            "  On a desk phone: dial *44, then extension #, PIN #, 2 to confirm; *45 logs out."
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hd_login_5_demo_seats_cover_the_demo_allocations() {
        let used: u64 = PEOPLE.iter().map(|p| u64::from(p.max_devices)).sum();
        assert!(used <= SEATS.pool(), "{used} > {}", SEATS.pool());
        let basic = PEOPLE.iter().filter(|p| p.seat == SeatType::Basic).count();
        assert_eq!(u32::try_from(basic).ok(), Some(SEATS.basic));
        assert!(PEOPLE
            .iter()
            .all(|p| p.max_devices <= p.seat.max_allocation()));
    }

    #[test]
    fn hd_login_2_demo_pins_are_unique_and_valid() {
        let mut pins: Vec<&str> = PEOPLE.iter().map(|p| p.pin).collect();
        pins.sort_unstable();
        pins.dedup();
        assert_eq!(pins.len(), PEOPLE.len());
        assert!(pins.iter().all(|p| hotdesk_core::Pin::new(p).is_ok()));
    }

    #[test]
    fn hd_login_11_demo_hot_desks_lie_in_the_default_ranges() {
        let settings = DomainSettings::default();
        for phone in PHONES.iter().filter(|p| p.kind == DeviceKind::Hotdesk) {
            let ext = Extension::new(phone.extension).unwrap();
            assert!(settings.in_device_range(&ext), "{}", phone.extension);
        }
        for person in &PEOPLE {
            let ext = Extension::new(person.extension).unwrap();
            assert!(!settings.in_device_range(&ext), "{}", person.extension);
        }
    }

    #[test]
    fn demo_macs_are_stable_distinct_and_per_domain() {
        let a = DomainName::new("acme.test").unwrap();
        let b = DomainName::new("other.test").unwrap();
        let macs: Vec<Mac> = PHONES
            .iter()
            .enumerate()
            .map(|(i, p)| demo_mac(&a, p.model, i).unwrap())
            .collect();
        let mut unique = macs.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), macs.len());
        assert_eq!(demo_mac(&a, "yealink-t46u", 0).unwrap(), macs[0]);
        assert_ne!(demo_mac(&b, "yealink-t46u", 0).unwrap(), macs[0]);
        assert!(macs[2].as_str().starts_with("0004f2"));
    }
}
