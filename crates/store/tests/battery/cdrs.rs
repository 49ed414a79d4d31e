//! CDRs: the anchor/user pair of HD-CDR-1 and the searches of HD-CDR-2.

use std::sync::Arc;

use hotdesk_core::Cdr;
use hotdesk_store::{RecordFilter, Store, StoreError};

use crate::sample::{self, at, ext, name};

async fn calls(store: &dyn Store) -> Vec<Cdr> {
    for domain in ["acme.test", "other.test"] {
        store
            .create_domain(&sample::domain(domain))
            .await
            .expect("domain");
    }
    let cdrs = vec![
        sample::cdr("acme.test", "c1", at(0), Some("94001"), Some("1004")),
        sample::cdr("acme.test", "c2", at(60), Some("94001"), Some("1005")),
        sample::cdr("acme.test", "c3", at(120), Some("94002"), Some("1004")),
        sample::cdr("acme.test", "c4", at(180), None, Some("1004")),
        sample::cdr("acme.test", "c5", at(240), Some("94002"), None),
    ];
    for cdr in &cdrs {
        store.insert_cdr(cdr).await.expect("insert");
    }
    store
        .insert_cdr(&sample::cdr(
            "other.test",
            "x1",
            at(30),
            Some("94001"),
            Some("1004"),
        ))
        .await
        .expect("other domain");
    cdrs
}

fn ids(cdrs: &[Cdr]) -> Vec<&str> {
    cdrs.iter().map(|c| c.call_id.as_str()).collect()
}

pub(crate) async fn hd_cdr_1_cdr_round_trip_keeps_anchor_and_user(store: Arc<dyn Store>) {
    store
        .create_domain(&sample::domain("acme.test"))
        .await
        .expect("domain");
    let full = sample::cdr(
        "acme.test",
        "a84b4c76e66710@pc33'--",
        at(0),
        Some("94001"),
        Some("1004"),
    );
    let mut bare = sample::cdr("acme.test", "bare", at(10), None, None);
    bare.answer = None;
    bare.disposition = hotdesk_core::Disposition::NoAnswer;
    store.insert_cdr(&full).await.expect("insert");
    store.insert_cdr(&bare).await.expect("insert");
    let got = store
        .cdrs(&name("acme.test"), &RecordFilter::default())
        .await
        .expect("list");
    assert_eq!(got, vec![bare, full]);
}

pub(crate) async fn hd_cdr_2_filters_by_user_device_time_and_limit(store: Arc<dyn Store>) {
    calls(&*store).await;
    let acme = name("acme.test");
    let list = |filter: RecordFilter| {
        let store = Arc::clone(&store);
        let acme = acme.clone();
        async move { store.cdrs(&acme, &filter).await.expect("cdrs") }
    };
    assert_eq!(
        ids(&list(RecordFilter::default()).await),
        ["c5", "c4", "c3", "c2", "c1"]
    );
    let user = RecordFilter {
        user: Some(ext("1004")),
        ..Default::default()
    };
    assert_eq!(ids(&list(user).await), ["c4", "c3", "c1"]);
    let device = RecordFilter {
        device: Some(ext("94002")),
        ..Default::default()
    };
    assert_eq!(ids(&list(device).await), ["c5", "c3"]);
    let window = RecordFilter {
        from: Some(at(60)),
        until: Some(at(180)),
        ..Default::default()
    };
    assert_eq!(ids(&list(window).await), ["c3", "c2"]);
    let both = RecordFilter {
        user: Some(ext("1004")),
        device: Some(ext("94001")),
        ..Default::default()
    };
    assert_eq!(ids(&list(both).await), ["c1"]);
    let limited = RecordFilter {
        user: Some(ext("1004")),
        limit: Some(2),
        ..Default::default()
    };
    assert_eq!(ids(&list(limited).await), ["c4", "c3"]);
}

pub(crate) async fn hd_sec_1_cdrs_are_per_domain(store: Arc<dyn Store>) {
    calls(&*store).await;
    let other = store
        .cdrs(&name("other.test"), &RecordFilter::default())
        .await
        .expect("cdrs");
    assert_eq!(ids(&other), ["x1"]);
}

pub(crate) async fn cdr_in_unknown_domain_is_not_found(store: Arc<dyn Store>) {
    let missing = store
        .insert_cdr(&sample::cdr("nobody.test", "c1", at(0), None, None))
        .await;
    assert!(
        matches!(missing, Err(StoreError::NotFound { entity: "domain" })),
        "{missing:?}"
    );
}

/// The B2BUA's CDR writer commits its queue in batches; a batch with one bad record (a
/// domain gone mid-call) writes nothing, so the writer can retry the rest one by one.
pub(crate) async fn hd_cdr_1_batch_is_written_whole_or_not_at_all(store: Arc<dyn Store>) {
    store
        .create_domain(&sample::domain("acme.test"))
        .await
        .expect("domain");
    let acme = name("acme.test");
    let good: Vec<Cdr> = (0..300_i64)
        .map(|i| sample::cdr("acme.test", &format!("b{i}"), at(i), Some("94001"), None))
        .collect();
    store.insert_cdrs(&good).await.expect("batch");
    let listed = store
        .cdrs(&acme, &RecordFilter::default())
        .await
        .expect("list");
    assert_eq!(listed.len(), 300);
    let mixed = [
        sample::cdr("acme.test", "m1", at(400), None, None),
        sample::cdr("nobody.test", "m2", at(401), None, None),
    ];
    let refused = store.insert_cdrs(&mixed).await;
    assert!(
        matches!(refused, Err(StoreError::NotFound { entity: "domain" })),
        "{refused:?}"
    );
    let listed = store
        .cdrs(&acme, &RecordFilter::default())
        .await
        .expect("list");
    assert_eq!(listed.len(), 300, "nothing of the failed batch is written");
    store.insert_cdrs(&[]).await.expect("empty batch");
}
