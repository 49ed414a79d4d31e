//! `/domains/{d}/queues…` (HD-ROUTE-7; HD-LOGIN-10 status of user members): CRUD, members
//! as User or Phone, problem JSON for unknown members, extension clashes and bad strategies,
//! office-manager scope, tenant isolation (HD-SEC-1) and survival across a restart.

use axum::http::{Method, StatusCode};
use hotdesk_core::Scope;
use serde_json::json;

use crate::harness::{Harness, ADMIN};

async fn office() -> Harness {
    let h = Harness::sqlite().await;
    h.domain("acme.test").await;
    h.domain("beta.test").await;
    h.user("acme.test", "1004", "1234").await;
    h.device("acme.test", "94001", 1).await;
    h.device("beta.test", "94009", 9).await;
    h
}

const QUEUES: &str = "/api/v1/domains/acme.test/queues";

#[tokio::test]
async fn hd_route_7_queue_crud_with_members_as_user_and_phone() {
    let h = office().await;
    let reply = h
        .post(
            QUEUES,
            json!({"extension": "7000", "name": "Sales", "strategy": "round_robin",
                   "ring_secs": 20, "members": [{"user": "1004"}, {"phone": "94001"}]}),
        )
        .await
        .ok(StatusCode::CREATED);
    assert_eq!(reply.json["strategy"], "round_robin");
    assert_eq!(reply.json["members"][0]["kind"], "user");
    assert_eq!(reply.json["members"][0]["queue_status"], "offline");
    assert_eq!(reply.json["members"][1]["kind"], "phone");
    assert_eq!(reply.json["members"][1]["extension"], "94001");
    // Defaults: ring-all, 15 s.
    let bare = h
        .post(QUEUES, json!({"extension": "7001", "name": "Hunt"}))
        .await
        .ok(StatusCode::CREATED);
    assert_eq!(bare.json["strategy"], "ring_all");
    assert_eq!(bare.json["ring_secs"], 15);

    let patched = h
        .call(
            Method::PATCH,
            &format!("{QUEUES}/7000"),
            Some(ADMIN),
            Some(json!({"strategy": "ring_all", "overflow": "1004"})),
        )
        .await
        .ok(StatusCode::OK);
    assert_eq!(patched.json["strategy"], "ring_all");
    assert_eq!(patched.json["overflow"], "1004");
    let removed = h
        .call(
            Method::DELETE,
            &format!("{QUEUES}/7000/members/phone/94001"),
            Some(ADMIN),
            None,
        )
        .await
        .ok(StatusCode::OK);
    assert_eq!(removed.json["members"].as_array().unwrap().len(), 1);
    h.post(&format!("{QUEUES}/7000/members"), json!({"phone": "94001"}))
        .await
        .ok(StatusCode::OK);
    let list = h.get(QUEUES).await.ok(StatusCode::OK);
    assert_eq!(list.json.as_array().unwrap().len(), 2);

    // Survives a restart (loaded from the store).
    let h = h.restart().await;
    let one = h.get(&format!("{QUEUES}/7000")).await.ok(StatusCode::OK);
    assert_eq!(one.json["members"][1]["extension"], "94001", "{}", one.text);
    h.call(Method::DELETE, &format!("{QUEUES}/7000"), Some(ADMIN), None)
        .await
        .ok(StatusCode::NO_CONTENT);
    h.get(&format!("{QUEUES}/7000"))
        .await
        .error(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn hd_route_7_queue_errors_are_problem_json() {
    let h = office().await;
    h.post(QUEUES, json!({"extension": "7000", "name": "Sales"}))
        .await
        .ok(StatusCode::CREATED);
    // Unknown members (another domain's device counts as unknown: HD-SEC-1).
    h.post(
        QUEUES,
        json!({"extension": "7001", "name": "X", "members": [{"user": "1999"}]}),
    )
    .await
    .error(StatusCode::NOT_FOUND, "unknown_user");
    h.post(&format!("{QUEUES}/7000/members"), json!({"phone": "94009"}))
        .await
        .error(StatusCode::NOT_FOUND, "unknown_device");
    // Extension clashes with users, devices and queues, both ways.
    for ext in ["1004", "94001", "7000"] {
        h.post(QUEUES, json!({"extension": ext, "name": "X"}))
            .await
            .error(StatusCode::CONFLICT, "extension_in_use");
    }
    h.post(
        "/api/v1/domains/acme.test/users",
        json!({"extension": "7000", "first_name": "Q"}),
    )
    .await
    .error(StatusCode::CONFLICT, "extension_in_use");
    // Bad strategy, ring time, duplicate member, overflow to itself.
    for (body, field) in [
        (
            json!({"extension": "7002", "name": "X", "strategy": "random"}),
            "strategy",
        ),
        (
            json!({"extension": "7002", "name": "X", "ring_secs": 1}),
            "ring_secs",
        ),
        (
            json!({"extension": "7002", "name": "X",
                   "members": [{"user": "1004"}, {"user": "1004"}]}),
            "members[1]",
        ),
        (
            json!({"extension": "7002", "name": "X", "overflow": "7002"}),
            "overflow",
        ),
    ] {
        let reply = h.post(QUEUES, body).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            reply.text
        );
        assert_eq!(reply.json["error"]["field"], field, "{}", reply.text);
    }
    h.call(
        Method::DELETE,
        &format!("{QUEUES}/7000/members/user/1004"),
        Some(ADMIN),
        None,
    )
    .await
    .error(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn hd_route_7_queues_need_office_manager_and_stay_in_their_domain() {
    let h = office().await;
    let user = h.token(Scope::User, "acme.test", Some("1004")).await;
    let manager = h.token(Scope::OfficeManager, "acme.test", None).await;
    let other = h.token(Scope::OfficeManager, "beta.test", None).await;
    let body = json!({"extension": "7000", "name": "Sales"});
    for token in [&user, &other] {
        let reply = h
            .call(Method::POST, QUEUES, Some(token), Some(body.clone()))
            .await;
        assert!(
            matches!(reply.status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
            "{}",
            reply.text
        );
    }
    h.call(Method::POST, QUEUES, Some(&manager), Some(body))
        .await
        .ok(StatusCode::CREATED);
    let reply = h.call(Method::GET, QUEUES, Some(&user), None).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text);
}

#[tokio::test]
async fn hd_login_10_users_show_agent_flag_and_queue_status() {
    let h = office().await;
    let reply = h
        .call(
            Method::PATCH,
            "/api/v1/domains/acme.test/users/1004",
            Some(ADMIN),
            Some(json!({"agent": true, "no_answer_secs": 12})),
        )
        .await
        .ok(StatusCode::OK);
    assert_eq!(reply.json["agent"], true);
    assert_eq!(reply.json["no_answer_secs"], 12);
    assert_eq!(reply.json["queue_status"], "offline");
    h.login("acme.test", "94001", "1004")
        .await
        .ok(StatusCode::OK);
    let reply = h.get("/api/v1/domains/acme.test/users/1004").await;
    assert_eq!(reply.json["queue_status"], "offline", "phone log-in only");
    h.call(
        Method::POST,
        "/api/v1/auth/login",
        None,
        Some(json!({"domain": "acme.test", "extension": "1004", "pin": "1234"})),
    )
    .await
    .ok(StatusCode::OK);
    let reply = h.get("/api/v1/domains/acme.test/users/1004").await;
    assert_eq!(reply.json["queue_status"], "logged_in", "{}", reply.text);
    let reply = h
        .call(
            Method::PATCH,
            "/api/v1/domains/acme.test/users/1004",
            Some(ADMIN),
            Some(json!({"no_answer_secs": 1})),
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.text
    );
}

/// HD-ROUTE-7: deleting a user or a device takes it out of every queue, in the store too
/// (the member list survives a restart without it). Shared with the PostgreSQL run.
pub(crate) async fn deleted_user_and_device_leave_their_queues(h: Harness) {
    h.domain("acme.test").await;
    h.user("acme.test", "1004", "1234").await;
    h.user("acme.test", "1005", "1235").await;
    h.device("acme.test", "94001", 1).await;
    for ext in ["7000", "7001"] {
        h.post(
            QUEUES,
            json!({"extension": ext, "name": "Sales",
                   "members": [{"user": "1004"}, {"phone": "94001"}, {"user": "1005"}]}),
        )
        .await
        .ok(StatusCode::CREATED);
    }
    h.call(
        Method::DELETE,
        "/api/v1/domains/acme.test/users/1004",
        Some(ADMIN),
        None,
    )
    .await
    .ok(StatusCode::NO_CONTENT);
    h.call(
        Method::DELETE,
        "/api/v1/domains/acme.test/devices/94001",
        Some(ADMIN),
        None,
    )
    .await
    .ok(StatusCode::NO_CONTENT);
    let members = |json: &serde_json::Value| -> Vec<String> {
        json["members"]
            .as_array()
            .map(|m| {
                m.iter()
                    .map(|m| {
                        format!(
                            "{}:{}",
                            m["kind"].as_str().unwrap_or(""),
                            m["extension"].as_str().unwrap_or("")
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    for ext in ["7000", "7001"] {
        let one = h.get(&format!("{QUEUES}/{ext}")).await.ok(StatusCode::OK);
        assert_eq!(members(&one.json), ["user:1005"], "{}", one.text);
    }
    let h = h.restart().await;
    let one = h.get(&format!("{QUEUES}/7000")).await.ok(StatusCode::OK);
    assert_eq!(members(&one.json), ["user:1005"], "{}", one.text);
    // A new user with the old extension is not silently a member again.
    h.user("acme.test", "1004", "1234").await;
    let one = h.get(&format!("{QUEUES}/7001")).await.ok(StatusCode::OK);
    assert_eq!(members(&one.json), ["user:1005"], "{}", one.text);
}

#[tokio::test]
async fn hd_route_7_deleted_user_and_device_leave_their_queues() {
    deleted_user_and_device_leave_their_queues(Harness::sqlite().await).await;
}
