//! API tokens (HD-SEC-4): looked up by hash; they die with their user and domain.

use std::sync::Arc;

use hotdesk_core::Scope;
use hotdesk_store::{Store, StoreError};

use crate::sample::{self, ext, name};

async fn office(store: &dyn Store) {
    store
        .create_domain(&sample::domain("acme.test"))
        .await
        .expect("domain");
    store
        .create_user(&sample::user("acme.test", "1004"))
        .await
        .expect("user");
}

pub(crate) async fn hd_sec_4_token_found_by_hash_only(store: Arc<dyn Store>) {
    office(&*store).await;
    let user = sample::token("9f86d081884c7d65", Some("acme.test"), Some("1004"));
    let mut root = sample::token("2c26b46b68ffc68f", None, None);
    root.scope = Scope::SuperAdmin;
    root.expires_at = None;
    store.create_token(&user).await.expect("user token");
    store.create_token(&root).await.expect("super-admin token");

    assert_eq!(
        store.token("9f86d081884c7d65").await.expect("find"),
        Some(user)
    );
    assert_eq!(
        store.token("2c26b46b68ffc68f").await.expect("find"),
        Some(root)
    );
    for unknown in ["9F86D081884C7D65", "9f86d081884c7d6", "' OR '1'='1", ""] {
        assert_eq!(
            store.token(unknown).await.expect("find"),
            None,
            "{unknown:?}"
        );
    }
}

pub(crate) async fn token_hash_taken_is_conflict(store: Arc<dyn Store>) {
    office(&*store).await;
    store
        .create_token(&sample::token("abc", Some("acme.test"), None))
        .await
        .expect("first");
    let again = store.create_token(&sample::token("abc", None, None)).await;
    assert!(
        matches!(again, Err(StoreError::Conflict { entity: "token" })),
        "{again:?}"
    );
}

pub(crate) async fn token_delete_is_idempotent(store: Arc<dyn Store>) {
    office(&*store).await;
    store
        .create_token(&sample::token("abc", Some("acme.test"), Some("1004")))
        .await
        .expect("create");
    store
        .create_token(&sample::token("def", Some("acme.test"), Some("1004")))
        .await
        .expect("create");
    store.delete_token("abc").await.expect("delete");
    assert_eq!(store.token("abc").await.expect("find"), None);
    assert!(
        store.token("def").await.expect("find").is_some(),
        "only one token goes"
    );
    store
        .delete_token("abc")
        .await
        .expect("deleting again is fine");
}

pub(crate) async fn token_dies_with_its_user_and_domain(store: Arc<dyn Store>) {
    office(&*store).await;
    store
        .create_user(&sample::user("acme.test", "1005"))
        .await
        .expect("user");
    for (hash, user) in [
        ("u1004", Some("1004")),
        ("u1005", Some("1005")),
        ("admin", None),
    ] {
        store
            .create_token(&sample::token(hash, Some("acme.test"), user))
            .await
            .expect("token");
    }
    store
        .delete_user(&name("acme.test"), &ext("1004"))
        .await
        .expect("delete user");
    assert_eq!(store.token("u1004").await.expect("find"), None);
    assert!(store.token("u1005").await.expect("find").is_some());
    assert!(store.token("admin").await.expect("find").is_some());

    store
        .delete_domain(&name("acme.test"))
        .await
        .expect("delete domain");
    assert_eq!(store.token("u1005").await.expect("find"), None);
    assert_eq!(store.token("admin").await.expect("find"), None);
}

pub(crate) async fn token_for_unknown_domain_is_not_found(store: Arc<dyn Store>) {
    office(&*store).await;
    let domain = store
        .create_token(&sample::token("abc", Some("nobody.test"), None))
        .await;
    assert!(
        matches!(domain, Err(StoreError::NotFound { .. })),
        "{domain:?}"
    );
    let user = store
        .create_token(&sample::token("def", Some("acme.test"), Some("2000")))
        .await;
    assert!(matches!(user, Err(StoreError::NotFound { .. })), "{user:?}");
}
