//! Provisioning records (HD-PROV, HD-MWI): upsert by (domain, kind, key), listed per kind,
//! gone with their domain (HD-SEC-1).

use std::sync::Arc;

use hotdesk_store::{ProvRecord, Store, StoreError};

use crate::sample::{self, name};

fn record(domain: &str, kind: &str, key: &str, data: &str) -> ProvRecord {
    ProvRecord {
        domain: name(domain),
        kind: kind.into(),
        key: key.into(),
        data: data.into(),
    }
}

pub(crate) async fn hd_prov_2_records_upsert_list_and_delete(store: Arc<dyn Store>) {
    for d in ["acme.test", "other.test"] {
        store
            .create_domain(&sample::domain(d))
            .await
            .expect("domain");
    }
    store
        .put_prov_record(&record("acme.test", "template", "t1", r#"{"v":1}"#))
        .await
        .expect("put");
    store
        .put_prov_record(&record("acme.test", "template", "t1", r#"{"v":2}"#))
        .await
        .expect("replace");
    store
        .put_prov_record(&record("other.test", "template", "t1", r#"{"v":3}"#))
        .await
        .expect("other domain");
    store
        .put_prov_record(&record("acme.test", "user_keys", "1004/yealink-t46u", "{}"))
        .await
        .expect("keys");
    let templates = store.prov_records("template").await.expect("list");
    assert_eq!(
        templates,
        vec![
            record("acme.test", "template", "t1", r#"{"v":2}"#),
            record("other.test", "template", "t1", r#"{"v":3}"#),
        ]
    );
    assert!(matches!(
        store
            .put_prov_record(&record("nowhere.test", "template", "t", "{}"))
            .await,
        Err(StoreError::NotFound { .. })
    ));
    store
        .delete_prov_record(&name("acme.test"), "template", "t1")
        .await
        .expect("delete");
    store
        .delete_prov_record(&name("acme.test"), "template", "t1")
        .await
        .expect("delete absent");
    store
        .delete_domain(&name("other.test"))
        .await
        .expect("delete domain");
    assert!(store
        .prov_records("template")
        .await
        .expect("list")
        .is_empty());
    assert_eq!(
        store.prov_records("user_keys").await.expect("list").len(),
        1
    );
}
