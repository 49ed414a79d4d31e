//! The bindings table: update/undo by version, expiry sweep, load at start, lookup order.

use hotdesk_core::{DomainName, Extension};
use hotdesk_store::Binding;
use jiff::Timestamp;

use super::Bindings;

fn at(secs: i64) -> Timestamp {
    Timestamp::from_second(1_800_000_000 + secs).unwrap()
}

fn binding(domain: &str, aor: &str, contact: &str, expires: i64) -> Binding {
    Binding {
        domain: DomainName::new(domain).unwrap(),
        aor: Extension::new(aor).unwrap(),
        contact: contact.into(),
        source: "udp:192.0.2.10:5060".into(),
        expires_at: at(expires),
        call_id: "c1".into(),
        cseq: 1,
        instance: None,
        reg_id: None,
        q: None,
        path: Vec::new(),
        user_agent: Some("test".into()),
    }
}

fn put(table: &Bindings, contacts: Vec<Binding>) -> (Vec<Binding>, u64) {
    let (domain, aor) = (contacts[0].domain.to_string(), contacts[0].aor.to_string());
    let updated = table
        .update(&domain, &aor, |_| Ok::<_, ()>((contacts, ())))
        .unwrap();
    (updated.before, updated.version)
}

#[test]
fn update_replaces_counts_and_removes_empty_aors() {
    let table = Bindings::default();
    put(
        &table,
        vec![
            binding("acme.test", "94001", "sip:a@h", 60),
            binding("acme.test", "94001", "sip:b@h", 60),
        ],
    );
    put(&table, vec![binding("acme.test", "1004", "sip:c@h", 60)]);
    assert_eq!(table.len(), 3);
    let updated = table
        .update("acme.test", "94001", |current| {
            assert_eq!(current.len(), 2);
            Ok::<_, ()>((Vec::new(), ()))
        })
        .unwrap();
    assert_eq!(updated.before.len(), 2);
    assert_eq!(table.len(), 1);
    assert!(table.contacts("acme.test", "94001", at(0)).is_empty());
    // A refused change leaves the table alone.
    assert_eq!(
        table
            .update("acme.test", "1004", |_| Err::<(Vec<Binding>, ()), _>("no"))
            .err(),
        Some("no")
    );
    assert_eq!(table.len(), 1);
}

#[test]
fn undo_restores_only_an_untouched_aor() {
    let table = Bindings::default();
    let first = binding("acme.test", "94001", "sip:a@h", 60);
    put(&table, vec![first.clone()]);
    let (before, version) = put(&table, vec![binding("acme.test", "94001", "sip:b@h", 60)]);
    assert!(table.undo("acme.test", "94001", version, false, before.clone()));
    assert_eq!(table.contacts("acme.test", "94001", at(0)), vec![first]);

    let (before, version) = put(&table, vec![binding("acme.test", "94001", "sip:b@h", 60)]);
    put(&table, vec![binding("acme.test", "94001", "sip:c@h", 60)]);
    assert!(
        !table.undo("acme.test", "94001", version, false, before),
        "changed since"
    );
    assert_eq!(
        table.contacts("acme.test", "94001", at(0))[0].contact,
        "sip:c@h"
    );
}

#[test]
fn sweep_takes_lapsed_contacts_only() {
    let table = Bindings::default();
    put(
        &table,
        vec![
            binding("acme.test", "94001", "sip:a@h", 10),
            binding("acme.test", "94001", "sip:b@h", 100),
        ],
    );
    put(&table, vec![binding("other.test", "94001", "sip:c@h", 10)]);
    assert!(table.take_expired(at(5)).is_empty());
    let expired = table.take_expired(at(10));
    let mut gone: Vec<_> = expired.iter().map(|b| b.contact.as_str()).collect();
    gone.sort_unstable();
    assert_eq!(gone, ["sip:a@h", "sip:c@h"]);
    assert_eq!(table.len(), 1);
    assert!(table.take_expired(at(50)).is_empty());
    assert_eq!(table.take_expired(at(100)).len(), 1);
    assert!(table.is_empty());
}

#[test]
fn load_keeps_live_and_returns_lapsed() {
    let table = Bindings::default();
    let expired = table.load(
        vec![
            binding("acme.test", "94001", "sip:a@h", -1),
            binding("acme.test", "94001", "sip:b@h", 60),
            binding("acme.test", "94002", "sip:c@h", 60),
        ],
        at(0),
    );
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0].contact, "sip:a@h");
    assert_eq!(table.len(), 2);
}

#[test]
fn rfc3261_16_6_lookup_orders_by_q_then_freshness_and_hides_lapsed() {
    let table = Bindings::default();
    let mut low = binding("acme.test", "94001", "sip:low@h", 60);
    low.q = Some(100);
    let old = binding("acme.test", "94001", "sip:old@h", 30);
    let new = binding("acme.test", "94001", "sip:new@h", 90);
    let lapsed = binding("acme.test", "94001", "sip:lapsed@h", 1);
    put(&table, vec![low, old, new, lapsed]);
    let domain = DomainName::new("acme.test").unwrap();
    let aor = Extension::new("94001").unwrap();
    let order: Vec<String> = table
        .lookup(&domain, &aor, at(5))
        .into_iter()
        .map(|b| b.contact)
        .collect();
    assert_eq!(order, ["sip:new@h", "sip:old@h", "sip:low@h"]);
    let view = table.registration(&domain, &aor, at(5)).unwrap();
    assert_eq!(view.contact, "sip:new@h");
    assert_eq!(view.contacts.len(), 3);
    assert_eq!(view.contacts[0].expires_in, 85);
    assert!(table
        .registration(&domain, &Extension::new("94002").unwrap(), at(5))
        .is_none());
}

/// RFC 3261 §10.3 step 7 (a refresh updates the binding's expiry and CSeq), done in place
/// on the hot path (issue 4); an undo recorded before it must not bring the old one back.
#[test]
fn renew_changes_in_place_and_voids_an_older_undo() {
    let table = Bindings::default();
    assert_eq!(
        table.renew("acme.test", "94001", |_| Some(())),
        None,
        "no AOR, nothing to renew"
    );
    let (before, version) = put(&table, vec![binding("acme.test", "94001", "sip:a@h", 60)]);
    assert!(before.is_empty());
    // A refusal changes nothing.
    assert_eq!(table.renew("acme.test", "94001", |_| None::<()>), None);
    let renewed = table.renew("acme.test", "94001", |contacts| {
        contacts[0].expires_at = at(120);
        Some(contacts.len())
    });
    assert_eq!(renewed, Some(1));
    assert_eq!(table.contacts("acme.test", "94001", at(90)).len(), 1);
    assert_eq!(table.len(), 1);
    // The change `version` made is no longer the AOR's state: its undo must not apply.
    assert!(!table.undo("acme.test", "94001", version, false, Vec::new()));
    assert_eq!(table.contacts("acme.test", "94001", at(90)).len(), 1);
}
