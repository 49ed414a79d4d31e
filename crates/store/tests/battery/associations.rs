//! Associations: log-in/log-out rows written atomically with their audit trail.

use std::sync::Arc;

use hotdesk_core::{Actor, DeskEvent, LogoutReason};
use hotdesk_store::{RecordFilter, Store, StoreError};
use jiff::SignedDuration;

use crate::sample::{self, at, ext, name};

/// A domain with users 1004–1006 and hot desks 94001–94003.
async fn office(store: &dyn Store) {
    store
        .create_domain(&sample::domain("acme.test"))
        .await
        .expect("domain");
    for (n, user) in ["1004", "1005", "1006"].iter().enumerate() {
        store
            .create_user(&sample::user("acme.test", user))
            .await
            .expect("user");
        let device = format!("9400{}", n + 1);
        let mac = format!("00156500000{}", n + 1);
        store
            .create_device(&sample::device("acme.test", &device, &mac))
            .await
            .expect("device");
    }
}

async fn audit_kinds(store: &dyn Store) -> Vec<String> {
    let rows = store
        .audit(&name("acme.test"), &RecordFilter::default())
        .await
        .expect("audit");
    rows.into_iter().rev().map(|r| r.kind).collect()
}

pub(crate) async fn hd_login_1_login_writes_association_and_audit_together(store: Arc<dyn Store>) {
    office(&*store).await;
    let association = sample::association("acme.test", "94001", "1004", at(0));
    let audit = sample::audit("acme.test", at(0), "login", Some("1004"), Some("94001"));
    store
        .append_desk_events(
            &[sample::login(association.clone())],
            std::slice::from_ref(&audit),
        )
        .await
        .expect("login");
    assert_eq!(
        store.associations().await.expect("associations"),
        vec![association]
    );
    let trail = store
        .audit(&name("acme.test"), &RecordFilter::default())
        .await
        .expect("audit");
    assert_eq!(trail, vec![audit]);
}

pub(crate) async fn hd_login_3_login_replaces_the_device_row(store: Arc<dyn Store>) {
    office(&*store).await;
    let first = sample::association("acme.test", "94001", "1004", at(0));
    store
        .append_desk_events(&[sample::login(first)], &[])
        .await
        .expect("first");
    // Takeover as core plans it: the old session ends, the new one starts, one batch.
    let second = sample::association("acme.test", "94001", "1005", at(60));
    let takeover = DeskEvent::LoggedOut {
        domain: name("acme.test"),
        device: ext("94001"),
        user: ext("1004"),
        reason: LogoutReason::Takeover,
        actor: Actor::Device(ext("94001")),
        at: at(60),
    };
    store
        .append_desk_events(&[takeover, sample::login(second.clone())], &[])
        .await
        .expect("takeover");
    assert_eq!(store.associations().await.expect("list"), vec![second]);
    // A bare log-in over an occupied device also replaces the row (never two per device).
    let third = sample::association("acme.test", "94001", "1006", at(120));
    store
        .append_desk_events(&[sample::login(third.clone())], &[])
        .await
        .expect("upsert");
    assert_eq!(store.associations().await.expect("list"), vec![third]);
}

pub(crate) async fn hd_login_4_one_user_on_several_devices(store: Arc<dyn Store>) {
    office(&*store).await;
    let desks: Vec<_> = ["94001", "94002", "94003"]
        .iter()
        .map(|device| sample::association("acme.test", device, "1004", at(0)))
        .collect();
    let events: Vec<_> = desks.iter().cloned().map(sample::login).collect();
    store
        .append_desk_events(&events, &[])
        .await
        .expect("logins");
    assert_eq!(store.associations().await.expect("list"), desks);
}

pub(crate) async fn hd_logout_1_logout_deletes_the_row_and_audits(store: Arc<dyn Store>) {
    office(&*store).await;
    let kept = sample::association("acme.test", "94002", "1005", at(0));
    let login_audit = sample::audit("acme.test", at(0), "login", Some("1004"), Some("94001"));
    store
        .append_desk_events(
            &[
                sample::login(sample::association("acme.test", "94001", "1004", at(0))),
                sample::login(kept.clone()),
            ],
            &[login_audit],
        )
        .await
        .expect("logins");
    let logout_audit = sample::audit("acme.test", at(30), "logout", Some("1004"), Some("94001"));
    store
        .append_desk_events(
            &[sample::logout("acme.test", "94001", "1004", at(30))],
            &[logout_audit],
        )
        .await
        .expect("logout");
    assert_eq!(store.associations().await.expect("list"), vec![kept]);
    assert_eq!(audit_kinds(&*store).await, ["login", "logout"]);
}

pub(crate) async fn stale_logout_keeps_a_newer_login(store: Arc<dyn Store>) {
    office(&*store).await;
    let current = sample::association("acme.test", "94001", "1005", at(0));
    store
        .append_desk_events(&[sample::login(current.clone())], &[])
        .await
        .expect("login");
    // 1004 left this desk long ago; a late log-out for them must not free 1005's session.
    store
        .append_desk_events(&[sample::logout("acme.test", "94001", "1004", at(10))], &[])
        .await
        .expect("stale log-out is not an error");
    assert_eq!(store.associations().await.expect("list"), vec![current]);
}

pub(crate) async fn failed_batch_leaves_no_trace(store: Arc<dyn Store>) {
    office(&*store).await;
    let good = sample::login(sample::association("acme.test", "94001", "1004", at(0)));
    let bad = sample::login(sample::association("acme.test", "94999", "1005", at(0)));
    let audit = [
        sample::audit("acme.test", at(0), "login", Some("1004"), Some("94001")),
        sample::audit("acme.test", at(0), "login", Some("1005"), Some("94999")),
    ];
    let failed = store.append_desk_events(&[good, bad], &audit).await;
    assert!(
        matches!(
            failed,
            Err(StoreError::NotFound {
                entity: "device or user"
            })
        ),
        "{failed:?}"
    );
    assert!(store.associations().await.expect("list").is_empty());
    assert!(
        audit_kinds(&*store).await.is_empty(),
        "audit rolled back too"
    );

    // Same when the audit row is what fails: the association must not stay behind.
    let good = sample::login(sample::association("acme.test", "94001", "1004", at(0)));
    let foreign = sample::audit("nobody.test", at(0), "login", Some("1004"), Some("94001"));
    assert!(store.append_desk_events(&[good], &[foreign]).await.is_err());
    assert!(store.associations().await.expect("list").is_empty());
}

pub(crate) async fn hd_logout_2_touch_records_activity_or_is_not_found(store: Arc<dyn Store>) {
    office(&*store).await;
    let mut association = sample::association("acme.test", "94001", "1004", at(0));
    store
        .append_desk_events(&[sample::login(association.clone())], &[])
        .await
        .expect("login");
    store
        .touch_association(&name("acme.test"), &ext("94001"), at(900))
        .await
        .expect("touch");
    association.last_activity = at(900);
    assert_eq!(store.associations().await.expect("list"), vec![association]);

    let missing = store
        .touch_association(&name("acme.test"), &ext("94002"), at(900))
        .await;
    assert!(
        matches!(
            missing,
            Err(StoreError::NotFound {
                entity: "association"
            })
        ),
        "{missing:?}"
    );
}

pub(crate) async fn association_times_round_trip_exactly(store: Arc<dyn Store>) {
    office(&*store).await;
    // `since` and `expires_at` keep nanoseconds; `last_activity` keeps milliseconds.
    let since = at(0) + SignedDuration::from_nanos(123_456_789);
    let mut association = sample::association("acme.test", "94001", "1004", since);
    association.expires_at = None;
    store
        .append_desk_events(&[sample::login(association.clone())], &[])
        .await
        .expect("login");
    assert_eq!(store.associations().await.expect("list"), vec![association]);
}
