//! Provisioning (HD-PROV-1..5): phone files fetched as a phone would, with and without the
//! device's credentials, before and after log-in, compared with files checked into
//! `tests/fixtures/provision/` (set `HOTDESK_BLESS=1` to rewrite them after a deliberate
//! change); templates refused at upload with line and column; keys per device and per
//! user and model (`provision_keys.rs`).

use std::path::PathBuf;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use base64::Engine as _;
use hotdesk_sip::digest::{authorize, Challenge, ClientRequest};
use serde_json::json;

use crate::harness::{Harness, Reply, ADMIN};

pub(crate) const D: &str = "acme.test";
pub(crate) const YEALINK_MAC: &str = "001565aa0001";
pub(crate) const POLYCOM_MAC: &str = "0004f2aa0002";
pub(crate) const PASSWORD: &str = "Device-pass-1";

fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/provision")
        .join(name)
}

/// Compares `actual` with the checked-in file (or writes it with `HOTDESK_BLESS=1`).
#[track_caller]
pub(crate) fn assert_fixture(name: &str, actual: &str) {
    let path = fixture_path(name);
    if std::env::var("HOTDESK_BLESS").is_ok_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().expect("dir")).expect("mkdir");
        std::fs::write(&path, actual).expect("write fixture");
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()));
    assert_eq!(actual, expected, "fixture {name} differs");
}

pub(crate) fn basic(user: &str, password: &str) -> String {
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {token}")
}

pub(crate) async fn fetch(
    h: &Harness,
    file: &str,
    authorization: Option<&str>,
    etag: Option<&str>,
) -> Reply {
    let mut builder = Request::builder()
        .method(Method::GET)
        .uri(format!("/provision/{file}"));
    if let Some(value) = authorization {
        builder = builder.header(header::AUTHORIZATION, value);
    }
    if let Some(tag) = etag {
        builder = builder.header(header::IF_NONE_MATCH, tag);
    }
    h.send(builder.body(Body::empty()).expect("request")).await
}

pub(crate) async fn office(h: &Harness) {
    h.domain(D).await;
    h.user_with(
        D,
        json!({"extension": "1004", "first_name": "Bob", "last_name": "Smith", "pin": "1234"}),
    )
    .await;
    h.user_with(
        D,
        json!({"extension": "1005", "first_name": "Ann", "last_name": "Lee", "pin": "5678"}),
    )
    .await;
    for (ext, mac, model) in [
        ("94001", YEALINK_MAC, "yealink-t46u"),
        ("94002", POLYCOM_MAC, "polycom-vvx-450"),
        ("94003", "001565aa0003", "yealink-t54w"),
    ] {
        h.post(
            &format!("/api/v1/domains/{D}/devices"),
            json!({"mac": mac, "model": model, "extension": ext, "sip_password": PASSWORD}),
        )
        .await
        .ok(StatusCode::CREATED);
    }
}

fn etag(reply: &Reply) -> String {
    reply
        .headers
        .get(header::ETAG)
        .and_then(|v| v.to_str().ok())
        .expect("ETag")
        .to_owned()
}

#[tokio::test]
async fn hd_prov_1_no_file_without_credentials_and_no_mac_enumeration() {
    let h = Harness::sqlite().await;
    office(&h).await;
    let cfg = format!("{YEALINK_MAC}.cfg");
    let none = fetch(&h, &cfg, None, None).await;
    let wrong = fetch(&h, &cfg, Some(&basic("94001", "nope")), None).await;
    let other_user = fetch(&h, &cfg, Some(&basic("94002", PASSWORD)), None).await;
    let unknown = fetch(
        &h,
        "001565ffffff.cfg",
        Some(&basic("94001", PASSWORD)),
        None,
    )
    .await;
    let junk = fetch(&h, "whatever.txt", Some(&basic("94001", PASSWORD)), None).await;
    for reply in [&none, &wrong, &other_user, &unknown, &junk] {
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.text);
        assert_eq!(reply.text, none.text, "same body whatever the cause");
        let challenges: Vec<&str> = reply
            .headers
            .get_all(header::WWW_AUTHENTICATE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        assert!(challenges.iter().any(|c| c.starts_with("Digest ")));
        assert!(challenges.iter().any(|c| c.starts_with("Basic ")));
        assert!(
            challenges.iter().all(|c| !c.contains("acme")),
            "realm names no domain"
        );
    }
    assert_eq!(none.code(), "unauthenticated");
    let ok = fetch(&h, &cfg, Some(&basic("94001", PASSWORD)), None).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
}

#[tokio::test]
async fn hd_prov_1_digest_auth_as_a_phone_does() {
    let h = Harness::sqlite().await;
    office(&h).await;
    let path = format!("/provision/{POLYCOM_MAC}.xml");
    let first = fetch(&h, &format!("{POLYCOM_MAC}.xml"), None, None).await;
    let offered = first
        .headers
        .get(header::WWW_AUTHENTICATE)
        .and_then(|v| v.to_str().ok())
        .expect("challenge")
        .to_owned();
    let challenge = Challenge::parse(&offered).expect("digest challenge");
    let answer = |password: &str| {
        authorize(
            &challenge,
            &ClientRequest {
                username: "94002",
                password,
                method: "GET",
                uri: &path,
                cnonce: "0a4f113b",
                nc: 1,
            },
        )
        .expect("authorize")
    };
    let ok = fetch(
        &h,
        &format!("{POLYCOM_MAC}.xml"),
        Some(&answer(PASSWORD)),
        None,
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    assert!(ok.text.contains("<PHONE_CONFIG>"));
    let bad = fetch(
        &h,
        &format!("{POLYCOM_MAC}.xml"),
        Some(&answer("guess")),
        None,
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn hd_prov_1_yealink_and_polycom_files_before_and_after_log_in() {
    let h = Harness::sqlite().await;
    office(&h).await;
    let yealink = format!("{YEALINK_MAC}.cfg");
    let polycom = format!("{POLYCOM_MAC}.xml");
    let y_auth = basic("94001", PASSWORD);
    let p_auth = basic("94002", PASSWORD);

    let y_free = fetch(&h, &yealink, Some(&y_auth), None)
        .await
        .ok(StatusCode::OK);
    let p_free = fetch(&h, &polycom, Some(&p_auth), None)
        .await
        .ok(StatusCode::OK);
    assert_fixture("yealink-t46u-free.cfg", &y_free.text);
    assert_fixture("polycom-vvx-450-free.xml", &p_free.text);
    assert!(y_free.headers[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));

    // The wrong extension for the model: no such file.
    fetch(&h, &format!("{YEALINK_MAC}.xml"), Some(&y_auth), None)
        .await
        .ok(StatusCode::NOT_FOUND);

    // HD-PROV-2: unchanged file, same ETag → 304.
    let tag = etag(&y_free);
    let again = fetch(&h, &yealink, Some(&y_auth), Some(&tag)).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.text.is_empty());

    h.login(D, "94001", "1004").await.ok(StatusCode::OK);
    h.login(D, "94002", "1005").await.ok(StatusCode::OK);
    let y_bob = fetch(&h, &yealink, Some(&y_auth), Some(&tag))
        .await
        .ok(StatusCode::OK);
    let p_ann = fetch(&h, &polycom, Some(&p_auth), None)
        .await
        .ok(StatusCode::OK);
    assert_fixture("yealink-t46u-bob.cfg", &y_bob.text);
    assert_fixture("polycom-vvx-450-ann.xml", &p_ann.text);
    // HD-PROV-1: the account label stays the anchor, the line label shows the person.
    assert!(y_bob.text.contains("account.1.label = 94001\n"));
    assert!(y_bob.text.contains("linekey.1.label = Bob Smith 1004\n"));
    assert!(y_bob.text.contains("account.1.user_name = 94001\n"));
    assert_ne!(etag(&y_bob), tag, "new owner, new ETag");

    // Another user on the same phone: another ETag again; log-out: back to the first.
    h.login(D, "94001", "1005").await.ok(StatusCode::OK);
    let y_ann = fetch(&h, &yealink, Some(&y_auth), None)
        .await
        .ok(StatusCode::OK);
    assert_ne!(etag(&y_ann), etag(&y_bob));
    h.post(
        &format!("/api/v1/domains/{D}/devices/94001/logout"),
        json!({}),
    )
    .await
    .ok(StatusCode::OK);
    let back = fetch(&h, &yealink, Some(&y_auth), None)
        .await
        .ok(StatusCode::OK);
    assert_eq!(etag(&back), tag);
    assert_eq!(back.text, y_free.text);
}

#[tokio::test]
async fn hd_prov_1_common_file_per_model_needs_a_device_of_that_model() {
    let h = Harness::sqlite().await;
    office(&h).await;
    let ok = fetch(
        &h,
        "yealink-t46u.cfg",
        Some(&basic("94001", PASSWORD)),
        None,
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    assert_fixture("yealink-t46u-common.cfg", &ok.text);
    let poly = fetch(
        &h,
        "polycom-vvx-450.xml",
        Some(&basic("94002", PASSWORD)),
        None,
    )
    .await;
    assert_eq!(poly.status, StatusCode::OK, "{}", poly.text);
    assert_fixture("polycom-vvx-450-common.xml", &poly.text);
    // A Polycom's credentials do not open the Yealink common file.
    let other = fetch(
        &h,
        "yealink-t46u.cfg",
        Some(&basic("94002", PASSWORD)),
        None,
    )
    .await;
    assert_eq!(other.status, StatusCode::UNAUTHORIZED);
    let none = fetch(&h, "yealink-t46u.cfg", None, None).await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn hd_prov_5_template_errors_refused_at_upload_with_line_and_column() {
    let h = Harness::sqlite().await;
    office(&h).await;
    let path = format!("/api/v1/domains/{D}/templates/broken");
    let unknown = h
        .call(
            Method::PUT,
            &path,
            Some(ADMIN),
            Some(json!({"format": "cfg", "body": "a = 1\nb = [[ first_name ]] [[ email ]]\n"})),
        )
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_template");
    assert_eq!(unknown.json["error"]["line"], 2);
    assert_eq!(unknown.json["error"]["column"], 25);
    assert_eq!(unknown.json["error"]["token"], "email");
    assert_eq!(unknown.json["error"]["field"], "body");

    let syntax = h
        .call(
            Method::PUT,
            &path,
            Some(ADMIN),
            Some(json!({"format": "cfg", "body": "x = 1\n[% if logged_in %]\ny = 2\n"})),
        )
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_template");
    assert!(syntax.json["error"]["line"].as_u64().is_some());
    assert!(syntax.json["error"]["column"].as_u64().is_some());
    // A stray block end: line 2, column 10 is where `endif` stands.
    let stray = h
        .call(
            Method::PUT,
            &path,
            Some(ADMIN),
            Some(json!({"format": "cfg", "body": "a = 1\nb = 2 [% endif %]\nc = 3\n"})),
        )
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_template");
    assert_eq!(stray.json["error"]["field"], "body");
    assert_eq!(
        (&stray.json["error"]["line"], &stray.json["error"]["column"]),
        (&json!(2), &json!(10)),
        "{}",
        stray.text
    );

    let label = h
        .call(
            Method::PUT,
            &path,
            Some(ADMIN),
            Some(json!({"format": "cfg", "line_label": "desk [[first_name]] [[email]]"})),
        )
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_template");
    assert_eq!(label.json["error"]["field"], "line_label");
    assert_eq!(label.json["error"]["line"], 1);
    assert_eq!(label.json["error"]["column"], 21);

    h.call(
        Method::PUT,
        &path,
        Some(ADMIN),
        Some(json!({"format": "xml", "model": "yealink-t46u", "body": "x"})),
    )
    .await
    .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    h.call(
        Method::PUT,
        &format!("/api/v1/domains/{D}/templates/BAD_NAME"),
        Some(ADMIN),
        Some(json!({"format": "cfg"})),
    )
    .await
    .ok(StatusCode::UNPROCESSABLE_ENTITY);
    // Nothing refused was kept.
    let list = h
        .get(&format!("/api/v1/domains/{D}/templates"))
        .await
        .ok(StatusCode::OK);
    assert_eq!(list.json, json!([]));
}

#[tokio::test]
async fn hd_prov_1_line_label_per_domain_model_and_device() {
    let h = Harness::sqlite().await;
    office(&h).await;
    h.login(D, "94001", "1004").await.ok(StatusCode::OK);
    h.login(D, "94003", "1005").await.ok(StatusCode::OK);
    let label_of = |text: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix("linekey.1.label = "))
            .unwrap_or_default()
            .to_owned()
    };
    let get = |mac: &'static str, ext: &'static str| {
        let h = &h;
        async move {
            fetch(h, &format!("{mac}.cfg"), Some(&basic(ext, PASSWORD)), None)
                .await
                .ok(StatusCode::OK)
                .text
        }
    };
    let put = |name: &'static str, body: serde_json::Value| {
        let h = &h;
        async move {
            h.call(
                Method::PUT,
                &format!("/api/v1/domains/{D}/templates/{name}"),
                Some(ADMIN),
                Some(body),
            )
            .await
            .ok(StatusCode::OK)
        }
    };
    put(
        "default",
        json!({"format": "cfg", "line_label": "hot desk [[first_name]] [[last_name]] [[extension]]"}),
    )
    .await;
    assert_eq!(
        label_of(&get(YEALINK_MAC, "94001").await),
        "hot desk Bob Smith 1004"
    );
    assert_eq!(
        label_of(&get("001565aa0003", "94003").await),
        "hot desk Ann Lee 1005"
    );

    put(
        "t46",
        json!({"format": "cfg", "model": "yealink-t46u", "line_label": "[[extension]] [[last_name]]"}),
    )
    .await;
    assert_eq!(label_of(&get(YEALINK_MAC, "94001").await), "1004 Smith");
    assert_eq!(
        label_of(&get("001565aa0003", "94003").await),
        "hot desk Ann Lee 1005"
    );

    put(
        "reception",
        json!({"format": "cfg", "line_label": "Reception [[first_name]]",
               "body": "label=[[ line_label ]]\naccount=[[ account_label ]]\n"}),
    )
    .await;
    let applied = h
        .post(
            &format!("/api/v1/domains/{D}/templates/reception/apply"),
            json!({"devices": ["94001"], "resync": true}),
        )
        .await
        .ok(StatusCode::OK);
    assert_eq!(applied.json["applied"], json!(["94001"]));
    assert_eq!(applied.json["resynced"], 1);
    assert_eq!(
        get(YEALINK_MAC, "94001").await,
        "label=Reception Bob\naccount=94001\n"
    );
    // Free desk: names empty, the anchor as extension.
    h.post(
        &format!("/api/v1/domains/{D}/devices/94003/logout"),
        json!({}),
    )
    .await
    .ok(StatusCode::OK);
    assert_eq!(
        label_of(&get("001565aa0003", "94003").await),
        "hot desk 94003"
    );

    h.post(
        &format!("/api/v1/domains/{D}/templates/reception/apply"),
        json!({"devices": ["94001", "99999"]}),
    )
    .await
    .error(StatusCode::NOT_FOUND, "unknown_device");
    h.post(
        &format!("/api/v1/domains/{D}/templates/nope/apply"),
        json!({"devices": ["94001"]}),
    )
    .await
    .error(StatusCode::NOT_FOUND, "unknown_template");
    // Survives a restart.
    let h = h.restart().await;
    assert_eq!(
        fetch(
            &h,
            &format!("{YEALINK_MAC}.cfg"),
            Some(&basic("94001", PASSWORD)),
            None
        )
        .await
        .text,
        "label=Reception Bob\naccount=94001\n"
    );
}

#[tokio::test]
async fn hd_sec_1_templates_of_one_domain_are_invisible_to_another() {
    let h = Harness::sqlite().await;
    office(&h).await;
    h.domain("other.test").await;
    h.call(
        Method::PUT,
        &format!("/api/v1/domains/{D}/templates/default"),
        Some(ADMIN),
        Some(json!({"format": "cfg", "line_label": "ACME [[extension]]"})),
    )
    .await
    .ok(StatusCode::OK);
    let other_admin = h
        .token(hotdesk_core::Scope::DomainAdmin, "other.test", None)
        .await;
    let reply = h
        .call(
            Method::GET,
            &format!("/api/v1/domains/{D}/templates"),
            Some(&other_admin),
            None,
        )
        .await;
    assert!(reply.status == StatusCode::NOT_FOUND || reply.status == StatusCode::FORBIDDEN);
    let theirs = h
        .call(
            Method::GET,
            "/api/v1/domains/other.test/templates",
            Some(&other_admin),
            None,
        )
        .await
        .ok(StatusCode::OK);
    assert_eq!(theirs.json, json!([]));
}

/// HD-PROV-5 preview: a device's file as it is and with an edited template in place, the
/// SIP password masked, a broken draft refused with line and column, nothing saved.
#[tokio::test]
async fn hd_prov_5_preview_renders_a_device_file_with_the_draft_in_place() {
    let h = Harness::sqlite().await;
    office(&h).await;
    h.login(D, "94001", "1004").await.ok(StatusCode::OK);
    let preview = |device: &'static str, body: serde_json::Value| {
        let h = &h;
        async move {
            h.post(
                &format!("/api/v1/domains/{D}/devices/{device}/preview"),
                body,
            )
            .await
        }
    };
    let now = preview("94001", json!({})).await.ok(StatusCode::OK);
    assert_eq!(now.json["format"], "cfg");
    assert_eq!(now.json["model"], "yealink-t46u");
    let file = now.json["file"].as_str().unwrap_or_default().to_owned();
    assert!(file.contains("linekey.1.label = Bob Smith 1004"), "{file}");
    assert!(!file.contains(PASSWORD), "password masked: {file}");
    assert!(file.contains("account.1.password = ********"), "{file}");

    // The edited default's label, not saved yet.
    let draft = preview(
        "94001",
        json!({"name": "default", "template": {"format": "cfg",
               "line_label": "desk of [[first_name]] [[last_name]]"}}),
    )
    .await
    .ok(StatusCode::OK);
    let file = draft.json["file"].as_str().unwrap_or_default();
    assert!(
        file.contains("linekey.1.label = desk of Bob Smith"),
        "{file}"
    );
    // A draft body of the device's format is used; the polycom phone refuses a cfg body.
    let body = json!({"name": "mine", "template": {"format": "cfg",
        "body": "label=[[ line_label ]] free=[% if logged_in %]no[% else %]yes[% endif %]\n"}});
    let custom = preview("94001", body.clone()).await.ok(StatusCode::OK);
    assert_eq!(custom.json["file"], "label=Bob Smith 1004 free=no\n");
    let free = preview("94003", body.clone()).await.ok(StatusCode::OK);
    assert_eq!(free.json["file"], "label=94003 free=yes\n");
    preview("94002", body)
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");

    let broken = preview(
        "94001",
        json!({"name": "default", "template": {"format": "cfg",
               "body": "a = 1\nb = [[ first_name ]] [[ emial ]]\n"}}),
    )
    .await
    .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_template");
    assert_eq!(broken.json["error"]["line"], 2);
    assert_eq!(broken.json["error"]["column"], 25);
    assert_eq!(broken.json["error"]["token"], "emial");

    preview("99999", json!({}))
        .await
        .error(StatusCode::NOT_FOUND, "unknown_device");
    let list = h
        .get(&format!("/api/v1/domains/{D}/templates"))
        .await
        .ok(StatusCode::OK);
    assert_eq!(list.json, json!([]), "a preview saves nothing");
    // A plain user may not preview files (they carry credentials).
    let user = h.token(hotdesk_core::Scope::User, D, Some("1004")).await;
    let reply = h
        .call(
            Method::POST,
            &format!("/api/v1/domains/{D}/devices/94001/preview"),
            Some(&user),
            Some(json!({})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn hd_prov_1_sip_server_setting_replaces_the_domain_in_files() {
    let h = Harness::sqlite_with(|config| {
        config.provision_sip_server =
            Some(hotdesk::provisioning::SipServer::parse("sip.acme.test:5070").unwrap());
    })
    .await;
    office(&h).await;
    let yealink = fetch(
        &h,
        &format!("{YEALINK_MAC}.cfg"),
        Some(&basic("94001", PASSWORD)),
        None,
    )
    .await
    .ok(StatusCode::OK);
    let expected = fixture_text("yealink-t46u-free.cfg")
        .replace(
            "sip_server.1.address = acme.test",
            "sip_server.1.address = sip.acme.test",
        )
        .replace("sip_server.1.port = 5060", "sip_server.1.port = 5070");
    assert_ne!(expected, fixture_text("yealink-t46u-free.cfg"));
    assert_eq!(yealink.text, expected);
    let polycom = fetch(
        &h,
        &format!("{POLYCOM_MAC}.xml"),
        Some(&basic("94002", PASSWORD)),
        None,
    )
    .await
    .ok(StatusCode::OK);
    assert!(polycom
        .text
        .contains(r#"reg.1.server.1.address="sip.acme.test""#));
    assert!(polycom.text.contains(r#"reg.1.server.1.port="5070""#));
    assert!(!polycom.text.contains("5060"), "{}", polycom.text);
}

fn fixture_text(name: &str) -> String {
    let path = fixture_path(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A provisioning fetch as if from `ip` (the in-process router has no socket).
async fn fetch_from(h: &Harness, ip: [u8; 4], file: &str, authorization: &str) -> Reply {
    let mut request = Request::builder()
        .method(Method::GET)
        .uri(format!("/provision/{file}"))
        .header(header::AUTHORIZATION, authorization)
        .body(Body::empty())
        .expect("request");
    request
        .extensions_mut()
        .insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((
            ip, 40000,
        ))));
    h.send(request).await
}

/// HD-SEC-3 on provisioning: wrong passwords lock the MAC (from any address) and the
/// address (for any MAC); while locked even the right password gets the same 401; a phone
/// using its own right credentials on a file it may not have is not guessing.
#[tokio::test]
async fn hd_sec_3_wrong_provisioning_passwords_lock_out_mac_and_source() {
    let h = Harness::sqlite_with(|config| {
        config.provision_guard = hotdesk::sip::guard::GuardPolicy {
            max_failures: 3,
            window_secs: 300,
            lock_secs: 300,
        };
    })
    .await;
    office(&h).await;
    let yealink = format!("{YEALINK_MAC}.cfg");
    let polycom = format!("{POLYCOM_MAC}.xml");
    let right_y = basic("94001", PASSWORD);
    let right_p = basic("94002", PASSWORD);
    let wrong = basic("94001", "guess");
    let plain_401 = fetch(&h, &yealink, None, None).await;

    // The MAC: three guesses from three addresses lock it for everyone.
    for i in 1..=3 {
        let reply = fetch_from(&h, [192, 0, 2, i], &yealink, &wrong).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    let locked = fetch_from(&h, [192, 0, 2, 50], &yealink, &right_y).await;
    assert_eq!(
        locked.status,
        StatusCode::UNAUTHORIZED,
        "right password, locked MAC"
    );
    assert_eq!(locked.text, plain_401.text, "the same 401 as any other");
    assert!(locked.headers.contains_key(header::WWW_AUTHENTICATE));
    fetch_from(&h, [192, 0, 2, 50], &polycom, &right_p)
        .await
        .ok(StatusCode::OK);

    // The address: three guesses at unknown MACs lock it for every MAC.
    for mac in ["001565ff0001", "001565ff0002", "001565ff0003"] {
        let reply = fetch_from(&h, [198, 51, 100, 7], &format!("{mac}.cfg"), &wrong).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    let from_locked = fetch_from(&h, [198, 51, 100, 7], &polycom, &right_p).await;
    assert_eq!(from_locked.status, StatusCode::UNAUTHORIZED);
    assert_eq!(from_locked.text, plain_401.text);
    fetch_from(&h, [198, 51, 100, 8], &polycom, &right_p)
        .await
        .ok(StatusCode::OK);

    // A phone with its own right credentials asking for another's file: no guess.
    for _ in 0..5 {
        let reply = fetch_from(&h, [203, 0, 113, 9], "001565aa0003.cfg", &right_p).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    fetch_from(
        &h,
        [203, 0, 113, 9],
        "001565aa0003.cfg",
        &basic("94003", PASSWORD),
    )
    .await
    .ok(StatusCode::OK);

    // Audited in the device's domain (rows are written in the background).
    let mut kinds = Vec::new();
    for _ in 0..50 {
        let audit = h
            .get(&format!("/api/v1/domains/{D}/audit?device=94001"))
            .await;
        kinds = audit
            .json
            .as_array()
            .map(|rows| {
                rows.iter()
                    .map(|r| r["kind"].as_str().unwrap_or("").to_owned())
                    .collect()
            })
            .unwrap_or_default();
        if kinds.iter().any(|k| k == "provision_locked_out") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        kinds
            .iter()
            .filter(|k| *k == "provision_auth_failed")
            .count(),
        3,
        "{kinds:?}"
    );
    assert!(
        kinds.iter().any(|k| k == "provision_locked_out"),
        "{kinds:?}"
    );
}
