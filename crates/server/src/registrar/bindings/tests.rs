//! The bindings table: update/undo by version, expiry sweep, load at start, lookup order.

use hotdesk_core::{DomainName, Extension};
use hotdesk_store::Binding;
use jiff::Timestamp;

use super::{Bindings, Undo};
use crate::registrar::behind::{Marks, EARLY_ROWS};

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

/// Undoes the change that made `version` of 94001@acme.test, which had `before`.
fn undo(table: &Bindings, before: Vec<Binding>, version: u64) -> bool {
    let undo = Undo {
        domain: "acme.test".into(),
        aor: "94001".into(),
        before,
        behind: Marks::default(),
        version,
        left_empty: false,
    };
    table.undo(undo, at(0))
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
    assert!(undo(&table, before.clone(), version));
    assert_eq!(table.contacts("acme.test", "94001", at(0)), vec![first]);

    let (before, version) = put(&table, vec![binding("acme.test", "94001", "sip:b@h", 60)]);
    put(&table, vec![binding("acme.test", "94001", "sip:c@h", 60)]);
    assert!(!undo(&table, before, version), "changed since");
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
        table.renew("acme.test", "94001", at(0), |_| Some(((), 0))),
        None,
        "no AOR, nothing to renew"
    );
    let (before, version) = put(&table, vec![binding("acme.test", "94001", "sip:a@h", 60)]);
    assert!(before.is_empty());
    // A refusal changes nothing.
    assert_eq!(
        table.renew("acme.test", "94001", at(0), |_| None::<((), usize)>),
        None
    );
    let renewed = table.renew("acme.test", "94001", at(0), |contacts| {
        contacts[0].expires_at = at(120);
        Some((contacts.len(), 0))
    });
    assert_eq!(renewed, Some(1));
    assert_eq!(table.contacts("acme.test", "94001", at(90)).len(), 1);
    assert_eq!(table.len(), 1);
    // The change `version` made is no longer the AOR's state: its undo must not apply.
    assert!(!undo(&table, Vec::new(), version));
    assert_eq!(table.contacts("acme.test", "94001", at(90)).len(), 1);
}

/// Renews `contact` of 94001@acme.test at `now` to lapse at `expires`, with CSeq `cseq`.
fn refresh(table: &Bindings, contact: &str, now: i64, expires: i64, cseq: u32) {
    let renewed = table.renew("acme.test", "94001", at(now), |contacts| {
        let index = contacts.iter().position(|b| b.contact == contact)?;
        contacts[index].expires_at = at(expires);
        contacts[index].cseq = cseq;
        Some(((), index))
    });
    assert_eq!(renewed, Some(()), "{contact} renewed");
}

/// The contacts of `rows`, sorted.
fn contacts(rows: &[Binding]) -> Vec<&str> {
    let mut contacts: Vec<&str> = rows.iter().map(|b| b.contact.as_str()).collect();
    contacts.sort_unstable();
    contacts
}

// RFC 3261 §10.3 (bindings kept across a restart), issue 4: a refreshed contact is written
// once, with its newest refresh, by the time its first refresh asked for; one not
// refreshed is not written.
#[test]
fn rfc3261_10_3_a_refresh_is_written_once_with_the_newest_state() {
    let table = Bindings::default();
    put(
        &table,
        vec![
            binding("acme.test", "94001", "sip:a@h", 3600),
            binding("acme.test", "94001", "sip:b@h", 3600),
        ],
    );
    assert!(
        table.take_all_behind().is_empty(),
        "a put is written by its commit"
    );
    refresh(&table, "sip:a@h", 0, 3700, 2);
    refresh(&table, "sip:a@h", 30, 3730, 3);
    // Due WRITE_BEHIND after the first refresh, not the second.
    assert!(table.take_behind(at(59), 0).is_empty());
    let rows = table.take_behind(at(60), 0);
    assert_eq!(contacts(&rows), ["sip:a@h"]);
    assert_eq!((rows[0].cseq, rows[0].expires_at), (3, at(3730)));
    assert!(table.take_all_behind().is_empty(), "written once");
    // Marked again by the next refresh, and written at shutdown if not before.
    refresh(&table, "sip:b@h", 61, 3800, 2);
    assert_eq!(contacts(&table.take_all_behind()), ["sip:b@h"]);
}

// RFC 3261 §10.3: a durable change writes what it changes; the refresh of a contact it
// changed or removed is not written after it (it would bring an older row back), while
// one it kept as it was still waits.
#[test]
fn rfc3261_10_3_a_durable_change_supersedes_the_refreshes_it_changes() {
    let table = Bindings::default();
    let kept = binding("acme.test", "94001", "sip:a@h", 3600);
    put(
        &table,
        vec![kept.clone(), binding("acme.test", "94001", "sip:b@h", 3600)],
    );
    refresh(&table, "sip:a@h", 0, 3700, 2);
    refresh(&table, "sip:b@h", 0, 3700, 2);
    let refreshed_a = table.contacts("acme.test", "94001", at(0))[0].clone();
    // b is removed and c added; a stays as its refresh left it.
    put(
        &table,
        vec![
            refreshed_a.clone(),
            binding("acme.test", "94001", "sip:c@h", 3600),
        ],
    );
    assert_eq!(table.take_all_behind(), vec![refreshed_a]);
    // A change to a waiting contact itself carries it: nothing more waits.
    refresh(&table, "sip:a@h", 10, 3710, 3);
    let mut changed = kept;
    changed.source = "udp:192.0.2.99:5060".into();
    put(&table, vec![changed]);
    assert!(table.take_all_behind().is_empty());
    // Unregistering everything leaves nothing to write.
    refresh(&table, "sip:a@h", 20, 3720, 4);
    put_none(&table);
    assert!(table.take_all_behind().is_empty());
}

/// Removes every contact of 94001@acme.test.
fn put_none(table: &Bindings) {
    table
        .update("acme.test", "94001", |_| Ok::<_, ()>((Vec::new(), ())))
        .unwrap();
}

// RFC 3261 §10.3: a contact that lapses is deleted, not written behind; the others keep
// waiting.
#[test]
fn rfc3261_10_3_a_lapsed_contact_is_not_written_behind() {
    let table = Bindings::default();
    put(
        &table,
        vec![
            binding("acme.test", "94001", "sip:a@h", 100),
            binding("acme.test", "94001", "sip:b@h", 3600),
        ],
    );
    refresh(&table, "sip:a@h", 0, 120, 2);
    refresh(&table, "sip:b@h", 0, 3700, 2);
    assert_eq!(contacts(&table.take_expired(at(120))), ["sip:a@h"]);
    assert_eq!(
        contacts(&table.take_behind(at(60), EARLY_ROWS)),
        ["sip:b@h"]
    );
}

// RFC 3261 §10.3 with issue 4: a change the store refused is undone, and the refreshes it
// had superseded wait again, even if the sweep took the AOR's listing meanwhile.
#[test]
fn rfc3261_10_3_an_undone_change_brings_back_the_waiting_refreshes() {
    let table = Bindings::default();
    put(&table, vec![binding("acme.test", "94001", "sip:a@h", 3600)]);
    refresh(&table, "sip:a@h", 0, 3700, 2);
    let refreshed = table.contacts("acme.test", "94001", at(0));
    let updated = table
        .update("acme.test", "94001", |_| {
            Ok::<_, ()>((vec![binding("acme.test", "94001", "sip:z@h", 3600)], ()))
        })
        .unwrap();
    assert!(!updated.behind.is_empty(), "a waited when the change came");
    assert!(table.take_behind(at(60), 0).is_empty(), "superseded");
    let undo = Undo {
        domain: "acme.test".into(),
        aor: "94001".into(),
        before: updated.before,
        behind: updated.behind,
        version: updated.version,
        left_empty: false,
    };
    assert!(table.undo(undo, at(70)));
    assert!(
        table.take_behind(at(129), 0).is_empty(),
        "due from the undo"
    );
    assert_eq!(table.take_behind(at(130), 0), refreshed);
}

// Issue 4: a change that only refreshed contacts, made by `update`, is marked like a renew.
#[test]
fn rfc3261_10_3_refreshes_made_by_update_are_written_behind() {
    let table = Bindings::default();
    put(&table, vec![binding("acme.test", "94001", "sip:a@h", 3600)]);
    let mut refreshed = binding("acme.test", "94001", "sip:a@h", 3700);
    refreshed.cseq = 2;
    put(&table, vec![refreshed.clone()]);
    table.mark_refreshed("acme.test", "94001", &[refreshed.clone()], at(0), at(3600));
    assert!(table.take_behind(at(59), 0).is_empty());
    assert_eq!(table.take_behind(at(60), 0), vec![refreshed]);
}
