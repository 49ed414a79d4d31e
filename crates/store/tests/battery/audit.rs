//! The audit trail: filters, order, limit, per-domain isolation, `audit_since`.

use std::sync::Arc;

use hotdesk_core::AuditRecord;
use hotdesk_store::{RecordFilter, Store, StoreError};
use jiff::SignedDuration;

use crate::sample::{self, at, ext, name};

/// Six rows in acme.test over ten minutes, appended out of time order.
async fn trail(store: &dyn Store) -> Vec<AuditRecord> {
    for domain in ["acme.test", "other.test"] {
        store
            .create_domain(&sample::domain(domain))
            .await
            .expect("domain");
    }
    let rows = vec![
        sample::audit("acme.test", at(300), "logout", Some("1004"), Some("94001")),
        sample::audit("acme.test", at(0), "login", Some("1004"), Some("94001")),
        sample::audit(
            "acme.test",
            at(120),
            "pin_failed",
            Some("1005"),
            Some("94002"),
        ),
        sample::audit("acme.test", at(180), "pin_failed", Some("1005"), None),
        sample::audit("acme.test", at(240), "locked_out", Some("1005"), None),
        sample::audit("acme.test", at(600), "login", None, Some("94002")),
    ];
    store.append_audit(&rows).await.expect("append");
    store
        .append_audit(&[sample::audit(
            "other.test",
            at(60),
            "login",
            Some("1004"),
            Some("94001"),
        )])
        .await
        .expect("other domain");
    rows
}

/// `rows` newest first, keeping those `keep` accepts.
fn newest_first(rows: &[AuditRecord], keep: impl Fn(&AuditRecord) -> bool) -> Vec<AuditRecord> {
    let mut kept: Vec<_> = rows.iter().filter(|r| keep(r)).cloned().collect();
    kept.sort_by_key(|r| std::cmp::Reverse(r.at));
    kept
}

pub(crate) async fn audit_filters_by_user_device_and_time_newest_first(store: Arc<dyn Store>) {
    let rows = trail(&*store).await;
    let acme = name("acme.test");
    let list = |filter: RecordFilter| {
        let store = Arc::clone(&store);
        let acme = acme.clone();
        async move { store.audit(&acme, &filter).await.expect("audit") }
    };

    assert_eq!(
        list(RecordFilter::default()).await,
        newest_first(&rows, |_| true)
    );
    let by_user = RecordFilter {
        user: Some(ext("1005")),
        ..Default::default()
    };
    assert_eq!(
        list(by_user).await,
        newest_first(&rows, |r| r.user == Some(ext("1005")))
    );
    let by_device = RecordFilter {
        device: Some(ext("94001")),
        ..Default::default()
    };
    assert_eq!(
        list(by_device).await,
        newest_first(&rows, |r| r.device == Some(ext("94001")))
    );
    // `from` is inclusive, `until` exclusive.
    let window = RecordFilter {
        from: Some(at(120)),
        until: Some(at(300)),
        ..Default::default()
    };
    assert_eq!(
        list(window).await,
        newest_first(&rows, |r| r.at >= at(120) && r.at < at(300))
    );
    let both = RecordFilter {
        user: Some(ext("1005")),
        device: Some(ext("94002")),
        from: Some(at(60)),
        ..Default::default()
    };
    assert_eq!(
        list(both).await,
        newest_first(&rows, |r| r.user == Some(ext("1005"))
            && r.device == Some(ext("94002")))
    );
}

pub(crate) async fn audit_limit_keeps_the_newest(store: Arc<dyn Store>) {
    let rows = trail(&*store).await;
    let filter = RecordFilter {
        limit: Some(2),
        ..Default::default()
    };
    let got = store
        .audit(&name("acme.test"), &filter)
        .await
        .expect("audit");
    assert_eq!(got, newest_first(&rows, |_| true)[..2].to_vec());
}

pub(crate) async fn hd_sec_1_audit_is_per_domain(store: Arc<dyn Store>) {
    trail(&*store).await;
    let other = store
        .audit(&name("other.test"), &RecordFilter::default())
        .await
        .expect("audit");
    assert_eq!(other.len(), 1);
    assert!(other.iter().all(|r| r.domain == name("other.test")));
    let none = store
        .audit(&name("nobody.test"), &RecordFilter::default())
        .await
        .expect("audit");
    assert!(none.is_empty());
}

pub(crate) async fn audit_since_spans_domains_oldest_first(store: Arc<dyn Store>) {
    let rows = trail(&*store).await;
    let failed = store
        .audit_since("pin_failed", at(150))
        .await
        .expect("since");
    let mut expected: Vec<_> = rows
        .iter()
        .filter(|r| r.kind == "pin_failed" && r.at >= at(150))
        .cloned()
        .collect();
    expected.sort_by_key(|r| r.at);
    assert_eq!(failed, expected);
    let logins = store.audit_since("login", at(0)).await.expect("since");
    let domains: Vec<_> = logins.iter().map(|r| r.domain.as_str()).collect();
    assert_eq!(domains, ["acme.test", "other.test", "acme.test"]);
}

pub(crate) async fn audit_detail_and_strings_round_trip_verbatim(store: Arc<dyn Store>) {
    store
        .create_domain(&sample::domain("acme.test"))
        .await
        .expect("domain");
    let mut record = sample::audit(
        "acme.test",
        at(0),
        "login'); DROP TABLE audit;--",
        None,
        None,
    );
    record.at += SignedDuration::from_nanos(987_654_321);
    record.source = Some("'; SELECT pg_sleep(10); --".into());
    record.detail = serde_json::json!({
        "reason": "forced", "nested": {"list": [1, 2.5, null, "x\"y"]}, "by": "O'Brien"
    });
    store
        .append_audit(std::slice::from_ref(&record))
        .await
        .expect("append");
    let got = store
        .audit(&name("acme.test"), &RecordFilter::default())
        .await
        .expect("audit");
    assert_eq!(got, vec![record]);
}

pub(crate) async fn audit_in_unknown_domain_is_not_found(store: Arc<dyn Store>) {
    let missing = store
        .append_audit(&[sample::audit("nobody.test", at(0), "login", None, None)])
        .await;
    assert!(
        matches!(missing, Err(StoreError::NotFound { entity: "domain" })),
        "{missing:?}"
    );
}
