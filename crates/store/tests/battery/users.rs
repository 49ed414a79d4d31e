//! Users: round trip, per-domain uniqueness, cascades, bulk import and hostile strings.

use std::sync::Arc;

use hotdesk_store::{Store, StoreError};

use crate::sample::{self, at, ext, name};

async fn with_domains(store: &dyn Store, names: &[&str]) {
    for domain in names {
        store
            .create_domain(&sample::domain(domain))
            .await
            .expect("domain");
    }
}

pub(crate) async fn user_round_trip_keeps_every_field(store: Arc<dyn Store>) {
    with_domains(&*store, &["acme.test"]).await;
    let full = sample::user("acme.test", "1004");
    let mut bare = sample::user("acme.test", "1005");
    bare.did = None;
    bare.pin_hash = None;
    bare.sip_secret = None;
    bare.forward_to = None;
    store.create_user(&full).await.expect("create");
    store.create_user(&bare).await.expect("create");
    assert_eq!(store.users().await.expect("list"), vec![full, bare]);
}

pub(crate) async fn hd_sec_1_same_extension_in_two_domains_but_not_twice_in_one(
    store: Arc<dyn Store>,
) {
    with_domains(&*store, &["a.test", "b.test"]).await;
    store
        .create_user(&sample::user("a.test", "1004"))
        .await
        .expect("a");
    store
        .create_user(&sample::user("b.test", "1004"))
        .await
        .expect("b");
    let again = store.create_user(&sample::user("a.test", "1004")).await;
    assert!(
        matches!(again, Err(StoreError::Conflict { entity: "user" })),
        "{again:?}"
    );
    assert_eq!(store.users().await.expect("list").len(), 2);
}

pub(crate) async fn user_in_unknown_domain_is_not_found(store: Arc<dyn Store>) {
    let missing = store
        .create_user(&sample::user("nobody.test", "1004"))
        .await;
    assert!(
        matches!(missing, Err(StoreError::NotFound { entity: "domain" })),
        "{missing:?}"
    );
}

pub(crate) async fn user_update_replaces_or_is_not_found(store: Arc<dyn Store>) {
    with_domains(&*store, &["acme.test"]).await;
    let mut user = sample::user("acme.test", "1004");
    store.create_user(&user).await.expect("create");
    user.first_name = "Alice".into();
    user.mailbox.new = 9;
    user.max_devices = 1;
    store.update_user(&user).await.expect("update");
    assert_eq!(store.users().await.expect("list"), vec![user]);

    let missing = store.update_user(&sample::user("acme.test", "2000")).await;
    assert!(
        matches!(missing, Err(StoreError::NotFound { entity: "user" })),
        "{missing:?}"
    );
}

pub(crate) async fn user_delete_takes_associations_and_tokens(store: Arc<dyn Store>) {
    with_domains(&*store, &["acme.test"]).await;
    store
        .create_user(&sample::user("acme.test", "1004"))
        .await
        .expect("user");
    store
        .create_user(&sample::user("acme.test", "1005"))
        .await
        .expect("user");
    store
        .create_device(&sample::device("acme.test", "94001", "001565000001"))
        .await
        .expect("device");
    store
        .create_device(&sample::device("acme.test", "94002", "001565000002"))
        .await
        .expect("device");
    let gone = sample::association("acme.test", "94001", "1004", at(0));
    let kept = sample::association("acme.test", "94002", "1005", at(0));
    store
        .append_desk_events(&[sample::login(gone), sample::login(kept.clone())], &[])
        .await
        .expect("logins");
    let token = sample::token("user-token", Some("acme.test"), Some("1004"));
    store.create_token(&token).await.expect("token");

    store
        .delete_user(&name("acme.test"), &ext("1004"))
        .await
        .expect("delete");

    let users = store.users().await.expect("users");
    assert_eq!(
        users
            .iter()
            .map(|u| u.extension.as_str())
            .collect::<Vec<_>>(),
        ["1005"]
    );
    assert_eq!(
        store.associations().await.expect("associations"),
        vec![kept]
    );
    assert_eq!(store.token("user-token").await.expect("token"), None);
    assert_eq!(
        store.devices().await.expect("devices").len(),
        2,
        "devices stay"
    );

    let missing = store.delete_user(&name("acme.test"), &ext("1004")).await;
    assert!(
        matches!(missing, Err(StoreError::NotFound { entity: "user" })),
        "{missing:?}"
    );
}

pub(crate) async fn import_of_10000_users_in_one_transaction(store: Arc<dyn Store>) {
    with_domains(&*store, &["big.test"]).await;
    let users: Vec<_> = (10_000..20_000)
        .map(|n| sample::user("big.test", &n.to_string()))
        .collect();
    store.import_users(&users).await.expect("import");
    let stored = store.users().await.expect("list");
    // Listed by extension, which for these equal-length numbers is import order.
    assert_eq!(stored.len(), users.len());
    assert!(
        stored == users,
        "imported users differ from the stored ones"
    );
}

pub(crate) async fn import_is_all_or_nothing(store: Arc<dyn Store>) {
    with_domains(&*store, &["acme.test"]).await;
    store
        .create_user(&sample::user("acme.test", "1500"))
        .await
        .expect("existing");

    // A duplicate inside the batch, far past the first INSERT chunk.
    let mut batch: Vec<_> = (2000..4000)
        .map(|n| sample::user("acme.test", &n.to_string()))
        .collect();
    batch.push(sample::user("acme.test", "2001"));
    let inner = store.import_users(&batch).await;
    assert!(
        matches!(inner, Err(StoreError::Conflict { entity: "user" })),
        "{inner:?}"
    );

    // A clash with a user already stored.
    let clash: Vec<_> = (1400..1600)
        .map(|n| sample::user("acme.test", &n.to_string()))
        .collect();
    let existing = store.import_users(&clash).await;
    assert!(
        matches!(existing, Err(StoreError::Conflict { entity: "user" })),
        "{existing:?}"
    );

    // A user of an unknown domain.
    let mut foreign: Vec<_> = (5000..5100)
        .map(|n| sample::user("acme.test", &n.to_string()))
        .collect();
    foreign.push(sample::user("nobody.test", "5000"));
    let unknown = store.import_users(&foreign).await;
    assert!(
        matches!(unknown, Err(StoreError::NotFound { entity: "domain" })),
        "{unknown:?}"
    );

    let users = store.users().await.expect("list");
    assert_eq!(
        users
            .iter()
            .map(|u| u.extension.as_str())
            .collect::<Vec<_>>(),
        ["1500"]
    );
}

pub(crate) async fn sql_injection_looking_strings_are_stored_verbatim(store: Arc<dyn Store>) {
    with_domains(&*store, &["acme.test"]).await;
    let hostile = [
        "Robert'); DROP TABLE users;--",
        "\" OR 1=1 --",
        "$1 $2 ? :name @x",
        "'; DELETE FROM domains; SELECT '",
        "Zoë \\ back\\slash \u{0} nul and emoji ☎",
        "{\"name\": \"json-looking\"}",
    ];
    let users: Vec<_> = hostile
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let mut user = sample::user("acme.test", &format!("{}", 1000 + i));
            user.first_name = (*text).to_owned();
            user.last_name = text.chars().rev().collect();
            user.forward_to = Some((*text).to_owned());
            user
        })
        .collect();
    store.import_users(&users).await.expect("import");
    let mut trunk = sample::trunk("acme.test", hostile[0]);
    trunk.address = hostile[3].to_owned();
    store.create_trunk(&trunk).await.expect("trunk");

    assert_eq!(store.users().await.expect("users"), users);
    assert_eq!(store.trunks().await.expect("trunks"), vec![trunk]);
    assert_eq!(store.domains().await.expect("domains still there").len(), 1);
}
