//! Queues (HD-ROUTE-7): round trip of members as User and as Phone, extension conflict per
//! domain, update, delete, and the domain taking its queues with it.

use std::sync::Arc;

use hotdesk_core::{Queue, QueueMember, Strategy};
use hotdesk_store::{Store, StoreError};

use crate::sample::{self, ext, name};

fn queue(domain: &str, extension: &str) -> Queue {
    Queue {
        domain: name(domain),
        extension: ext(extension),
        name: "Support 'desk'; --".into(),
        strategy: Strategy::RoundRobin,
        ring_secs: 15,
        members: vec![
            QueueMember::User(ext("1004")),
            QueueMember::Phone(ext("94001")),
        ],
        overflow: Some("1009".into()),
    }
}

pub(crate) async fn hd_route_7_queue_round_trip_update_and_delete(store: Arc<dyn Store>) {
    for d in ["a.test", "b.test"] {
        store
            .create_domain(&sample::domain(d))
            .await
            .expect("domain");
    }
    let mut q = queue("a.test", "7000");
    let mut bare = queue("b.test", "7000");
    bare.strategy = Strategy::RingAll;
    bare.members.clear();
    bare.overflow = None;
    store.create_queue(&q).await.expect("create");
    store
        .create_queue(&bare)
        .await
        .expect("same extension, other domain");
    assert_eq!(
        store.queues().await.expect("list"),
        vec![q.clone(), bare.clone()]
    );

    let again = store.create_queue(&queue("a.test", "7000")).await;
    assert!(
        matches!(again, Err(StoreError::Conflict { entity: "queue" })),
        "{again:?}"
    );
    let orphan = store.create_queue(&queue("nowhere.test", "7000")).await;
    assert!(
        matches!(orphan, Err(StoreError::NotFound { entity: "domain" })),
        "{orphan:?}"
    );

    q.members.reverse();
    q.ring_secs = 30;
    store.update_queue(&q).await.expect("update");
    assert_eq!(store.queues().await.expect("list")[0], q);
    let missing = store.update_queue(&queue("a.test", "7001")).await;
    assert!(
        matches!(missing, Err(StoreError::NotFound { .. })),
        "{missing:?}"
    );

    store
        .delete_queue(&name("a.test"), &ext("7000"))
        .await
        .expect("delete");
    let gone = store.delete_queue(&name("a.test"), &ext("7000")).await;
    assert!(matches!(gone, Err(StoreError::NotFound { .. })), "{gone:?}");
    store.delete_domain(&name("b.test")).await.expect("domain");
    assert!(store.queues().await.expect("list").is_empty());
}
