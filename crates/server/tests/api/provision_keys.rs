//! Keys (HD-PROV-3 soft keys per device, HD-PROV-4 line keys per user and model) in the
//! rendered files, one resync per phone per log-in/log-out, and the render benchmark.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use serde_json::json;

use crate::harness::{Harness, ADMIN};
use crate::provision::{assert_fixture, basic, fetch, office, D, PASSWORD, YEALINK_MAC};

#[tokio::test]
async fn hd_prov_3_soft_keys_stay_with_the_device_and_hd_prov_4_line_keys_follow_the_user() {
    let h = Harness::sqlite().await;
    office(&h).await;
    h.call(
        Method::PUT,
        &format!("/api/v1/domains/{D}/devices/94001/soft_keys"),
        Some(ADMIN),
        Some(json!({"keys": [{"position": 1, "kind": "speed_dial", "value": "*97", "label": "Voicemail"}]})),
    )
    .await
    .ok(StatusCode::OK);
    let keys = json!({"keys": [
        {"position": 2, "kind": "blf", "value": "1005", "label": "Ann"},
        {"position": 3, "kind": "speed_dial", "value": "+15551234", "label": "Home"}
    ]});
    h.call(
        Method::PUT,
        &format!("/api/v1/domains/{D}/users/1004/keys/yealink-t46u"),
        Some(ADMIN),
        Some(keys.clone()),
    )
    .await
    .ok(StatusCode::OK);
    let mine = h
        .get(&format!("/api/v1/domains/{D}/users/1004/keys"))
        .await
        .ok(StatusCode::OK);
    assert_eq!(mine.json["models"]["yealink-t46u"], keys["keys"]);
    let file = |mac: &'static str, ext: &'static str| {
        let h = &h;
        async move {
            fetch(h, &format!("{mac}.cfg"), Some(&basic(ext, PASSWORD)), None)
                .await
                .ok(StatusCode::OK)
                .text
        }
    };
    let free = file(YEALINK_MAC, "94001").await;
    assert!(free.contains("programablekey.1.value = *97"));
    assert!(!free.contains("linekey.2."));

    h.login(D, "94001", "1004").await.ok(StatusCode::OK);
    let bob = file(YEALINK_MAC, "94001").await;
    assert_fixture("yealink-t46u-bob-keys.cfg", &bob);
    assert!(bob.contains("linekey.2.type = 16\nlinekey.2.line = 1\nlinekey.2.value = 1005"));
    assert!(bob.contains("linekey.3.type = 13"));
    assert!(bob.contains("programablekey.1.value = *97"));

    // Same user, another model: that model's defaults (no keys programmed for it).
    h.login(D, "94003", "1004").await.ok(StatusCode::OK);
    let t54 = file("001565aa0003", "94003").await;
    assert!(!t54.contains("linekey.2."));
    assert!(
        !t54.contains("programablekey.1.value = *97"),
        "soft keys stay on 94001"
    );

    // Bad keys are refused.
    h.call(
        Method::PUT,
        &format!("/api/v1/domains/{D}/users/1004/keys/yealink-t46u"),
        Some(ADMIN),
        Some(
            json!({"keys": [{"position": 2, "kind": "blf", "value": "1", "label": "a"},
                              {"position": 2, "kind": "blf", "value": "2", "label": "b"}]}),
        ),
    )
    .await
    .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    h.call(
        Method::PUT,
        &format!("/api/v1/domains/{D}/users/1004/keys/acme-phone"),
        Some(ADMIN),
        Some(json!({"keys": []})),
    )
    .await
    .error(StatusCode::UNPROCESSABLE_ENTITY, "unknown_model");
    // A user may program their own keys, not someone else's.
    let bob_token = h.token(hotdesk_core::Scope::User, D, Some("1004")).await;
    h.call(
        Method::PUT,
        &format!("/api/v1/domains/{D}/users/1004/keys/yealink-t54w"),
        Some(&bob_token),
        Some(json!({"keys": []})),
    )
    .await
    .ok(StatusCode::OK);
    let denied = h
        .call(
            Method::PUT,
            &format!("/api/v1/domains/{D}/users/1005/keys/yealink-t54w"),
            Some(&bob_token),
            Some(json!({"keys": []})),
        )
        .await;
    assert!(denied.status.is_client_error() && denied.status != StatusCode::OK);
}

/// Benchmark (not a test): files rendered per second, in-process and through the HTTP
/// handler with Basic auth. Run with
/// `cargo test --release -p hotdesk --test api bench_hd_prov_render -- --ignored --nocapture`.
#[tokio::test]
#[ignore = "benchmark; run explicitly with --ignored --nocapture"]
async fn bench_hd_prov_render_rate() {
    let h = Harness::sqlite().await;
    h.post(
        "/api/v1/domains",
        json!({"name": D, "settings": {"seats": {"standard": 200}}}),
    )
    .await
    .ok(StatusCode::CREATED);
    let mut csv = String::from("extension,first_name,last_name,did,pin,sip_password\n");
    for i in 0..500 {
        csv.push_str(&format!("{},First{i},Last{i},,,\n", 2000 + i));
    }
    let request = Request::builder()
        .method(Method::POST)
        .uri(format!("/api/v1/domains/{D}/users:import"))
        .header(header::AUTHORIZATION, format!("Bearer {ADMIN}"))
        .header(header::CONTENT_TYPE, "text/csv")
        .body(Body::from(csv))
        .expect("request");
    h.send(request).await.ok(StatusCode::CREATED);
    for i in 0..1000u32 {
        let model = if i % 2 == 0 {
            "yealink-t46u"
        } else {
            "polycom-vvx-450"
        };
        h.post(
            &format!("/api/v1/domains/{D}/devices"),
            json!({"mac": format!("0015650{i:05x}"), "model": model,
                   "extension": format!("{}", 94000 + i), "sip_password": PASSWORD}),
        )
        .await
        .ok(StatusCode::CREATED);
        if i < 500 {
            h.login(D, &format!("{}", 94000 + i), &format!("{}", 2000 + i))
                .await
                .ok(StatusCode::OK);
        }
    }
    let domain = hotdesk_core::DomainName::new(D).expect("domain");
    let devices = h.app.devices(&domain).expect("devices");
    let passwords: Vec<String> = devices
        .iter()
        .map(|d| {
            h.app
                .device_sip_password(d)
                .expect("open")
                .expect("password")
                .expose()
                .to_owned()
        })
        .collect();
    let prov = h.app.provisioning();
    let rounds = 10;
    let started = std::time::Instant::now();
    let mut bytes = 0usize;
    for _ in 0..rounds {
        for (device, password) in devices.iter().zip(&passwords) {
            let file = prov
                .render_device(&h.app, device, password)
                .expect("render")
                .expect("file");
            bytes += file.body.len();
        }
    }
    let elapsed = started.elapsed();
    let renders = rounds * devices.len();
    println!(
        "render_device: {renders} files ({} KiB) in {elapsed:.2?} = {:.0} files/s",
        bytes / 1024,
        renders as f64 / elapsed.as_secs_f64()
    );
    let started = std::time::Instant::now();
    let auth = basic("94000", PASSWORD);
    let fetches = 5000;
    for _ in 0..fetches {
        fetch(&h, "001565000000.cfg", Some(&auth), None)
            .await
            .ok(StatusCode::OK);
    }
    let elapsed = started.elapsed();
    println!(
        "GET /provision/{{mac}}.cfg with Basic auth (in-process router): {fetches} in {elapsed:.2?} = {:.0}/s",
        fetches as f64 / elapsed.as_secs_f64()
    );
}

#[tokio::test]
async fn hd_prov_2_each_log_in_and_log_out_resyncs_the_phones_involved_once() {
    use hotdesk::provisioning::Job;
    use hotdesk_core::{DomainName, Extension};
    let h = Harness::sqlite().await;
    office(&h).await;
    let mut jobs = h.app.provisioning().attach();
    let changed = |device: &str| Job::DeviceChanged {
        domain: DomainName::new(D).expect("domain"),
        device: Extension::new(device).expect("ext"),
    };
    h.login(D, "94001", "1004").await.ok(StatusCode::OK);
    // Takeover: a log-out and a log-in on one phone, one resync.
    h.login(D, "94001", "1005").await.ok(StatusCode::OK);
    // Ann moves (allocation 1): the phone she left and the one she joined.
    h.login(D, "94003", "1005").await.ok(StatusCode::OK);
    h.post(
        &format!("/api/v1/domains/{D}/devices/94003/logout"),
        json!({}),
    )
    .await
    .ok(StatusCode::OK);
    h.call(
        Method::PUT,
        &format!("/api/v1/domains/{D}/users/1004/mailbox"),
        Some(ADMIN),
        Some(json!({"new": 1, "old": 0})),
    )
    .await
    .ok(StatusCode::OK);
    let mut seen = Vec::new();
    while let Ok(job) = jobs.try_recv() {
        seen.push(job);
    }
    let mut moved = vec![seen[2].clone(), seen[3].clone()];
    moved.sort_by_key(|j| format!("{j:?}"));
    assert_eq!(seen.len(), 6, "{seen:?}");
    assert_eq!(seen[0], changed("94001"));
    assert_eq!(seen[1], changed("94001"));
    assert_eq!(moved, vec![changed("94001"), changed("94003")]);
    assert_eq!(seen[4], changed("94003"));
    assert_eq!(
        seen[5],
        Job::MailboxChanged {
            domain: DomainName::new(D).expect("domain"),
            user: Extension::new("1004").expect("ext"),
        }
    );
}
