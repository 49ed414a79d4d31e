//! Everything written is there after the store is dropped and opened again (a restart).

use hotdesk_store::{RecordFilter, Store};

use crate::fixture::Fixture;
use crate::sample::{self, at, name};

/// Everything `store` holds for acme.test, as comparable lists.
async fn snapshot(store: &dyn Store) -> String {
    let acme = name("acme.test");
    let all = RecordFilter::default();
    format!(
        "{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}",
        store.domains().await.expect("domains"),
        store.users().await.expect("users"),
        store.devices().await.expect("devices"),
        store.trunks().await.expect("trunks"),
        store.associations().await.expect("associations"),
        store.audit(&acme, &all).await.expect("audit"),
        store.cdrs(&acme, &all).await.expect("cdrs"),
        store.bindings().await.expect("bindings"),
        store.token("hash").await.expect("token"),
    )
}

pub(crate) async fn everything_survives_reopening(fixture: &mut Fixture) {
    let store = fixture.store();
    store
        .create_domain(&sample::domain("acme.test"))
        .await
        .expect("domain");
    let users: Vec<_> = (1000..1100)
        .map(|n| sample::user("acme.test", &n.to_string()))
        .collect();
    store.import_users(&users).await.expect("users");
    store
        .create_device(&sample::device("acme.test", "94001", "001565000001"))
        .await
        .expect("device");
    store
        .create_trunk(&sample::trunk("acme.test", "carrier"))
        .await
        .expect("trunk");
    store
        .append_desk_events(
            &[sample::login(sample::association(
                "acme.test",
                "94001",
                "1004",
                at(0),
            ))],
            &[sample::audit(
                "acme.test",
                at(0),
                "login",
                Some("1004"),
                Some("94001"),
            )],
        )
        .await
        .expect("login");
    store
        .insert_cdr(&sample::cdr(
            "acme.test",
            "c1",
            at(5),
            Some("94001"),
            Some("1004"),
        ))
        .await
        .expect("cdr");
    store
        .create_token(&sample::token("hash", Some("acme.test"), Some("1004")))
        .await
        .expect("token");
    store
        .put_binding(&sample::binding(
            "acme.test",
            "94001",
            "sip:94001@192.0.2.10",
            at(60),
        ))
        .await
        .expect("binding");
    let before = snapshot(&*store).await;
    assert_eq!(store.users().await.expect("users").len(), 100);
    drop(store);

    let reopened = fixture.reopen().await;
    assert_eq!(snapshot(&*reopened).await, before);
}

pub(crate) async fn writes_after_reopen_continue_the_sequence(fixture: &mut Fixture) {
    let store = fixture.store();
    store
        .create_domain(&sample::domain("acme.test"))
        .await
        .expect("domain");
    store
        .append_audit(&[sample::audit("acme.test", at(0), "login", None, None)])
        .await
        .expect("audit");
    drop(store);
    // Migrations run again on open and must leave the data alone.
    let store = fixture.reopen().await;
    store
        .append_audit(&[sample::audit("acme.test", at(0), "logout", None, None)])
        .await
        .expect("audit after reopen");
    let kinds: Vec<_> = store
        .audit(&name("acme.test"), &RecordFilter::default())
        .await
        .expect("audit")
        .into_iter()
        .map(|r| r.kind)
        .collect();
    // Same instant: the later insert lists first (newest first, ties by insertion).
    assert_eq!(kinds, ["logout", "login"]);
}
