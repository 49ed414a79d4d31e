//! Registrar bindings: round trip, refresh by AOR + contact, delete.

use std::sync::Arc;

use hotdesk_store::{BindingKey, Store, StoreError};

use crate::sample::{self, at, ext, name};

async fn office(store: &dyn Store) {
    store
        .create_domain(&sample::domain("acme.test"))
        .await
        .expect("domain");
}

pub(crate) async fn binding_round_trip_keeps_every_field(store: Arc<dyn Store>) {
    office(&*store).await;
    let full = sample::binding(
        "acme.test",
        "94001",
        "sip:94001@192.0.2.10:5060;transport=udp",
        at(3600),
    );
    let mut bare = sample::binding("acme.test", "1004", "sip:1004@[2001:db8::1]", at(60));
    bare.instance = None;
    bare.reg_id = None;
    bare.q = None;
    bare.path.clear();
    bare.user_agent = None;
    store.put_binding(&full).await.expect("put");
    store.put_binding(&bare).await.expect("put");
    assert_eq!(store.bindings().await.expect("list"), vec![bare, full]);
}

pub(crate) async fn binding_refresh_replaces_same_contact_only(store: Arc<dyn Store>) {
    office(&*store).await;
    let desk = sample::binding("acme.test", "94001", "sip:94001@192.0.2.10", at(3600));
    let mut softphone =
        sample::binding("acme.test", "94001", "sip:94001@198.51.100.7;ob", at(3600));
    softphone.instance = Some("<urn:uuid:11111111-2222-3333-4444-555555555555>".into());
    store.put_binding(&desk).await.expect("desk");
    store.put_binding(&softphone).await.expect("softphone");

    let mut refreshed = desk.clone();
    refreshed.expires_at = at(7200);
    refreshed.cseq += 1;
    refreshed.source = "tcp:192.0.2.10:49152".into();
    store.put_binding(&refreshed).await.expect("refresh");
    assert_eq!(
        store.bindings().await.expect("list"),
        vec![refreshed, softphone]
    );
}

pub(crate) async fn binding_delete_is_idempotent(store: Arc<dyn Store>) {
    office(&*store).await;
    let hostile = "sip:x@y;a='); DROP TABLE bindings;--";
    let first = sample::binding("acme.test", "94001", hostile, at(3600));
    let second = sample::binding("acme.test", "94001", "sip:94001@192.0.2.11", at(3600));
    store.put_binding(&first).await.expect("put");
    store.put_binding(&second).await.expect("put");
    assert_eq!(store.bindings().await.expect("list").len(), 2);

    store
        .delete_binding(&name("acme.test"), &ext("94001"), hostile)
        .await
        .expect("delete");
    assert_eq!(store.bindings().await.expect("list"), vec![second]);
    store
        .delete_binding(&name("acme.test"), &ext("94001"), hostile)
        .await
        .expect("deleting again is fine");
}

pub(crate) async fn binding_in_unknown_domain_is_not_found(store: Arc<dyn Store>) {
    let missing = store
        .put_binding(&sample::binding("nobody.test", "94001", "sip:a@b", at(60)))
        .await;
    assert!(
        matches!(missing, Err(StoreError::NotFound { entity: "domain" })),
        "{missing:?}"
    );
}

fn key(domain: &str, aor: &str, contact: &str) -> BindingKey {
    BindingKey {
        domain: name(domain),
        aor: ext(aor),
        contact: contact.into(),
    }
}

/// Group commit (registrar): deletes then puts, one transaction, a later put of the same
/// contact wins.
pub(crate) async fn binding_batch_applies_deletes_then_puts(store: Arc<dyn Store>) {
    office(&*store).await;
    let old = sample::binding("acme.test", "94001", "sip:94001@192.0.2.10", at(60));
    let gone = sample::binding("acme.test", "94002", "sip:94002@192.0.2.11", at(60));
    store
        .apply_bindings(&[old.clone(), gone.clone()], &[])
        .await
        .expect("first batch");

    let mut refreshed = old.clone();
    refreshed.expires_at = at(3600);
    refreshed.cseq += 1;
    let mut twice = refreshed.clone();
    twice.expires_at = at(7200);
    let fresh = sample::binding("acme.test", "1004", "sip:1004@192.0.2.12", at(600));
    store
        .apply_bindings(
            &[refreshed, fresh.clone(), twice.clone()],
            &[
                key("acme.test", "94002", "sip:94002@192.0.2.11"),
                key("acme.test", "94001", "sip:94001@192.0.2.10"),
            ],
        )
        .await
        .expect("second batch");
    assert_eq!(store.bindings().await.expect("list"), vec![fresh, twice]);
    store.apply_bindings(&[], &[]).await.expect("empty batch");
}

/// A batch naming an unknown domain fails as a whole: nothing of it is written.
pub(crate) async fn binding_batch_is_all_or_nothing(store: Arc<dyn Store>) {
    office(&*store).await;
    let kept = sample::binding("acme.test", "94001", "sip:94001@192.0.2.10", at(60));
    store.put_binding(&kept).await.expect("put");
    let good = sample::binding("acme.test", "94002", "sip:94002@192.0.2.11", at(60));
    let bad = sample::binding("nobody.test", "94003", "sip:94003@192.0.2.12", at(60));
    let failed = store
        .apply_bindings(
            &[good, bad],
            &[key("acme.test", "94001", "sip:94001@192.0.2.10")],
        )
        .await;
    assert!(
        matches!(failed, Err(StoreError::NotFound { entity: "domain" })),
        "{failed:?}"
    );
    assert_eq!(store.bindings().await.expect("list"), vec![kept]);
}

/// A batch larger than one multi-row statement, repeating some contacts: every row lands,
/// the last put of a repeated contact wins.
pub(crate) async fn binding_batch_of_many_rows_keeps_the_last_put(store: Arc<dyn Store>) {
    office(&*store).await;
    let mut puts = Vec::new();
    for i in 0..100 {
        let contact = format!("sip:{}@192.0.2.{}", 1000 + i, i % 250);
        puts.push(sample::binding(
            "acme.test",
            &(1000 + i).to_string(),
            &contact,
            at(60),
        ));
    }
    let mut again = puts[7].clone();
    again.expires_at = at(600);
    again.cseq += 1;
    puts.push(again.clone());
    store.apply_bindings(&puts, &[]).await.expect("batch");
    let stored = store.bindings().await.expect("list");
    assert_eq!(stored.len(), 100);
    assert!(stored.contains(&again));
    assert!(!stored.contains(&puts[7]));
    assert!(stored.contains(&puts[99]));
}
