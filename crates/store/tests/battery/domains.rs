//! Domains and trunks: round trip, conflicts, not-found, and the cascade on delete.

use std::sync::Arc;

use hotdesk_core::DeskEvent;
use hotdesk_store::{RecordFilter, Store, StoreError};

use crate::sample::{self, at, name};

pub(crate) async fn domain_round_trip_keeps_every_setting(store: Arc<dyn Store>) {
    let acme = sample::domain("acme.test");
    let mut plain = sample::domain("plain.test");
    plain.settings = Default::default();
    store.create_domain(&acme).await.expect("create");
    store.create_domain(&plain).await.expect("create");
    assert_eq!(store.domains().await.expect("list"), vec![acme, plain]);
}

pub(crate) async fn domain_name_taken_is_conflict(store: Arc<dyn Store>) {
    store
        .create_domain(&sample::domain("acme.test"))
        .await
        .expect("create");
    let again = store.create_domain(&sample::domain("acme.test")).await;
    assert!(
        matches!(again, Err(StoreError::Conflict { entity: "domain" })),
        "{again:?}"
    );
}

pub(crate) async fn domain_update_replaces_settings_or_is_not_found(store: Arc<dyn Store>) {
    let mut acme = sample::domain("acme.test");
    store.create_domain(&acme).await.expect("create");
    acme.settings.time_zone = "America/New_York".into();
    acme.settings.seats.basic = 40;
    store.update_domain(&acme).await.expect("update");
    assert_eq!(store.domains().await.expect("list"), vec![acme]);

    let missing = store.update_domain(&sample::domain("nobody.test")).await;
    assert!(
        matches!(missing, Err(StoreError::NotFound { entity: "domain" })),
        "{missing:?}"
    );
}

/// Fills `domain` with one row of every kind; returns the user token's hash.
async fn populate(store: &dyn Store, domain: &str, mac: &str) -> String {
    store
        .create_domain(&sample::domain(domain))
        .await
        .expect("domain");
    store
        .create_user(&sample::user(domain, "1004"))
        .await
        .expect("user");
    store
        .create_device(&sample::device(domain, "94001", mac))
        .await
        .expect("device");
    store
        .create_trunk(&sample::trunk(domain, "carrier"))
        .await
        .expect("trunk");
    let login: DeskEvent = sample::login(sample::association(domain, "94001", "1004", at(0)));
    let audit = sample::audit(domain, at(0), "login", Some("1004"), Some("94001"));
    store
        .append_desk_events(&[login], &[audit])
        .await
        .expect("login");
    store
        .insert_cdr(&sample::cdr(
            domain,
            "call-1",
            at(5),
            Some("94001"),
            Some("1004"),
        ))
        .await
        .expect("cdr");
    let hash = format!("hash-{domain}");
    store
        .create_token(&sample::token(&hash, Some(domain), Some("1004")))
        .await
        .expect("token");
    store
        .put_binding(&sample::binding(
            domain,
            "94001",
            "sip:94001@192.0.2.10",
            at(3600),
        ))
        .await
        .expect("binding");
    hash
}

pub(crate) async fn hd_sec_1_domain_delete_cascades_to_its_rows_only(store: Arc<dyn Store>) {
    let gone_token = populate(&*store, "gone.test", "001565000001").await;
    let kept_token = populate(&*store, "kept.test", "001565000002").await;

    store
        .delete_domain(&name("gone.test"))
        .await
        .expect("delete");

    let kept = name("kept.test");
    let domains = store.domains().await.expect("domains");
    assert_eq!(
        domains.iter().map(|d| &d.name).collect::<Vec<_>>(),
        vec![&kept]
    );
    let users = store.users().await.expect("users");
    assert!(
        users.len() == 1 && users.iter().all(|u| u.domain == kept),
        "{users:?}"
    );
    let devices = store.devices().await.expect("devices");
    assert!(devices.len() == 1 && devices.iter().all(|d| d.domain == kept));
    let trunks = store.trunks().await.expect("trunks");
    assert!(trunks.len() == 1 && trunks.iter().all(|t| t.domain == kept));
    let associations = store.associations().await.expect("associations");
    assert!(associations.len() == 1 && associations.iter().all(|a| a.domain == kept));
    let bindings = store.bindings().await.expect("bindings");
    assert!(bindings.len() == 1 && bindings.iter().all(|b| b.domain == kept));
    assert_eq!(store.token(&gone_token).await.expect("token"), None);
    assert!(store.token(&kept_token).await.expect("token").is_some());
    let all = RecordFilter::default();
    assert_eq!(store.audit(&kept, &all).await.expect("audit").len(), 1);
    assert_eq!(store.cdrs(&kept, &all).await.expect("cdrs").len(), 1);

    // A domain created again under the old name starts empty: no audit or CDR survived.
    store
        .create_domain(&sample::domain("gone.test"))
        .await
        .expect("recreate");
    let gone = name("gone.test");
    assert!(store.audit(&gone, &all).await.expect("audit").is_empty());
    assert!(store.cdrs(&gone, &all).await.expect("cdrs").is_empty());
    // And the MAC it held is free again.
    store
        .create_device(&sample::device("gone.test", "94001", "001565000001"))
        .await
        .expect("MAC released");
}

pub(crate) async fn domain_delete_of_unknown_is_not_found(store: Arc<dyn Store>) {
    let missing = store.delete_domain(&name("nobody.test")).await;
    assert!(
        matches!(missing, Err(StoreError::NotFound { entity: "domain" })),
        "{missing:?}"
    );
}

pub(crate) async fn trunk_round_trip_and_name_conflict_per_domain(store: Arc<dyn Store>) {
    store
        .create_domain(&sample::domain("a.test"))
        .await
        .expect("domain");
    store
        .create_domain(&sample::domain("b.test"))
        .await
        .expect("domain");
    let first = sample::trunk("a.test", "carrier");
    let mut plain = sample::trunk("b.test", "carrier");
    plain.username = None;
    plain.secret = None;
    plain.emergency = false;
    store.create_trunk(&first).await.expect("trunk a");
    store
        .create_trunk(&plain)
        .await
        .expect("same name, other domain");
    let again = store
        .create_trunk(&sample::trunk("a.test", "carrier"))
        .await;
    assert!(
        matches!(again, Err(StoreError::Conflict { entity: "trunk" })),
        "{again:?}"
    );
    assert_eq!(store.trunks().await.expect("trunks"), vec![first, plain]);
}

pub(crate) async fn trunk_in_unknown_domain_is_not_found(store: Arc<dyn Store>) {
    let missing = store
        .create_trunk(&sample::trunk("nobody.test", "carrier"))
        .await;
    assert!(
        matches!(missing, Err(StoreError::NotFound { entity: "domain" })),
        "{missing:?}"
    );
}
