//! Devices: round trip, extension and MAC uniqueness, update, delete with its association.

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

pub(crate) async fn device_round_trip_keeps_location_and_soft_keys(store: Arc<dyn Store>) {
    with_domains(&*store, &["acme.test"]).await;
    let full = sample::device("acme.test", "94001", "001565abcdef");
    let mut bare = sample::device("acme.test", "94002", "001565abcd00");
    bare.kind = hotdesk_core::DeviceKind::Personal;
    bare.owner = Some(ext("1004"));
    bare.location = None;
    bare.soft_keys.clear();
    bare.sip_secret = None;
    bare.template = None;
    store.create_device(&full).await.expect("create");
    store.create_device(&bare).await.expect("create");
    assert_eq!(store.devices().await.expect("list"), vec![full, bare]);
}

pub(crate) async fn device_extension_taken_is_conflict_per_domain(store: Arc<dyn Store>) {
    with_domains(&*store, &["a.test", "b.test"]).await;
    store
        .create_device(&sample::device("a.test", "94001", "001565000001"))
        .await
        .expect("a");
    store
        .create_device(&sample::device("b.test", "94001", "001565000002"))
        .await
        .expect("same extension in another domain");
    let again = store
        .create_device(&sample::device("a.test", "94001", "001565000003"))
        .await;
    assert!(
        matches!(again, Err(StoreError::Conflict { entity: "device" })),
        "{again:?}"
    );
}

pub(crate) async fn hd_prov_1_mac_is_unique_across_domains(store: Arc<dyn Store>) {
    with_domains(&*store, &["a.test", "b.test"]).await;
    store
        .create_device(&sample::device("a.test", "94001", "00:15:65:AB:CD:EF"))
        .await
        .expect("first");
    let clash = store
        .create_device(&sample::device("b.test", "94009", "001565abcdef"))
        .await;
    assert!(
        matches!(
            clash,
            Err(StoreError::Conflict {
                entity: "MAC address"
            })
        ),
        "{clash:?}"
    );
    assert_eq!(store.devices().await.expect("list").len(), 1);
}

pub(crate) async fn device_update_replaces_checks_mac_or_is_not_found(store: Arc<dyn Store>) {
    with_domains(&*store, &["acme.test"]).await;
    let mut device = sample::device("acme.test", "94001", "001565000001");
    let other = sample::device("acme.test", "94002", "001565000002");
    store.create_device(&device).await.expect("create");
    store.create_device(&other).await.expect("create");

    device.mac = "001565000009".parse().expect("mac");
    device.site = Some("Branch".into());
    device.soft_keys.pop();
    store.update_device(&device).await.expect("update");
    assert_eq!(
        store.devices().await.expect("list"),
        vec![device.clone(), other]
    );

    let mut taken = device.clone();
    taken.mac = "001565000002".parse().expect("mac");
    let clash = store.update_device(&taken).await;
    assert!(
        matches!(
            clash,
            Err(StoreError::Conflict {
                entity: "MAC address"
            })
        ),
        "{clash:?}"
    );

    let missing = store
        .update_device(&sample::device("acme.test", "94999", "001565000099"))
        .await;
    assert!(
        matches!(missing, Err(StoreError::NotFound { entity: "device" })),
        "{missing:?}"
    );
}

pub(crate) async fn hd_prov_2_update_many_devices_in_one_transaction(store: Arc<dyn Store>) {
    with_domains(&*store, &["acme.test"]).await;
    let mut devices: Vec<_> = (1..=3)
        .map(|n| sample::device("acme.test", &format!("9400{n}"), &format!("00156500000{n}")))
        .collect();
    for device in &devices {
        store.create_device(device).await.expect("create");
    }
    store.update_devices(&[]).await.expect("nothing to do");
    for device in &mut devices {
        device.template = Some("bulk".into());
    }
    store.update_devices(&devices).await.expect("update many");
    assert_eq!(store.devices().await.expect("list"), devices);

    // A MAC clash in one of them: the transaction rolls back, none is changed.
    let mut clash = devices.clone();
    clash[0].template = Some("other".into());
    clash[2].mac = clash[1].mac.clone();
    let refused = store.update_devices(&clash).await;
    assert!(
        matches!(
            refused,
            Err(StoreError::Conflict {
                entity: "MAC address"
            })
        ),
        "{refused:?}"
    );
    assert_eq!(store.devices().await.expect("list"), devices);

    let missing = store
        .update_devices(&[sample::device("acme.test", "94999", "001565000099")])
        .await;
    assert!(
        matches!(missing, Err(StoreError::NotFound { entity: "device" })),
        "{missing:?}"
    );
}

pub(crate) async fn device_delete_takes_its_association(store: Arc<dyn Store>) {
    with_domains(&*store, &["acme.test"]).await;
    store
        .create_user(&sample::user("acme.test", "1004"))
        .await
        .expect("user");
    store
        .create_device(&sample::device("acme.test", "94001", "001565000001"))
        .await
        .expect("device");
    let association = sample::association("acme.test", "94001", "1004", at(0));
    store
        .append_desk_events(&[sample::login(association)], &[])
        .await
        .expect("login");

    store
        .delete_device(&name("acme.test"), &ext("94001"))
        .await
        .expect("delete");
    assert!(store.devices().await.expect("devices").is_empty());
    assert!(store.associations().await.expect("associations").is_empty());
    assert_eq!(
        store.users().await.expect("users").len(),
        1,
        "the user stays"
    );

    let missing = store.delete_device(&name("acme.test"), &ext("94001")).await;
    assert!(
        matches!(missing, Err(StoreError::NotFound { entity: "device" })),
        "{missing:?}"
    );
}

pub(crate) async fn device_in_unknown_domain_is_not_found(store: Arc<dyn Store>) {
    let missing = store
        .create_device(&sample::device("nobody.test", "94001", "001565000001"))
        .await;
    assert!(
        matches!(missing, Err(StoreError::NotFound { entity: "domain" })),
        "{missing:?}"
    );
}
