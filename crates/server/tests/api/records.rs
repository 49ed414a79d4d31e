//! `GET …/audit` and `GET …/cdrs` with filters and CSV export (HD-CDR-1, -2).

use axum::http::{header, Method, StatusCode};
use hotdesk_core::{Cdr, Direction, Disposition, DomainName, Extension, Scope};
use jiff::{SignedDuration, Timestamp};
use serde_json::json;

use crate::harness::Harness;

fn cdr(call_id: &str, user: &str, at: Timestamp) -> Cdr {
    Cdr {
        domain: DomainName::new("acme.test").unwrap(),
        call_id: call_id.into(),
        direction: Direction::Outbound,
        anchor: Some(Extension::new("94001").unwrap()),
        user_name: Some("Bob Smith".into()),
        user_extension: Some(Extension::new(user).unwrap()),
        from: "94001".into(),
        to: "+15551230000".into(),
        start: at,
        answer: Some(at + SignedDuration::from_secs(3)),
        end: at + SignedDuration::from_secs(60),
        disposition: Disposition::Answered,
    }
}

#[tokio::test]
async fn hd_cdr_2_cdrs_filter_by_user_and_time_and_export_csv() {
    let h = Harness::sqlite().await;
    h.domain("acme.test").await;
    let t0 = Timestamp::from_second(1_760_000_000).unwrap();
    for (i, user) in ["1004", "1005", "1004"].iter().enumerate() {
        let at = t0 + SignedDuration::from_secs(3600 * i as i64);
        h.app
            .store()
            .insert_cdr(&cdr(&format!("call-{i}"), user, at))
            .await
            .unwrap();
    }
    let all = h
        .get("/api/v1/domains/acme.test/cdrs")
        .await
        .ok(StatusCode::OK);
    assert_eq!(all.json.as_array().unwrap().len(), 3);
    assert_eq!(all.json[0]["call_id"], "call-2", "newest first");
    assert_eq!(all.json[0]["anchor"], "94001");
    let bob = h.get("/api/v1/domains/acme.test/cdrs?user=1004").await;
    assert_eq!(bob.json.as_array().unwrap().len(), 2);
    let from = (t0 + SignedDuration::from_secs(1800)).to_string();
    let later = h
        .get(&format!(
            "/api/v1/domains/acme.test/cdrs?from={from}&limit=1"
        ))
        .await
        .ok(StatusCode::OK);
    assert_eq!(later.json.as_array().unwrap().len(), 1);
    assert_eq!(later.json[0]["call_id"], "call-2");

    let csv = h
        .get("/api/v1/domains/acme.test/cdrs?format=csv&user=1005")
        .await
        .ok(StatusCode::OK);
    assert!(csv.headers[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let lines: Vec<&str> = csv.text.lines().collect();
    assert_eq!(lines.len(), 2, "{}", csv.text);
    assert!(lines[0].starts_with("domain,call_id,direction,anchor,user_name,user_extension"));
    assert!(
        lines[1].contains("call-1,outbound,94001,Bob Smith,1005"),
        "{}",
        lines[1]
    );
}

/// HD-CDR-1, HD-SEC-4: a user reads only their own calls, whatever filter they send.
#[tokio::test]
async fn hd_cdr_1_user_reads_only_own_cdrs() {
    let h = Harness::sqlite().await;
    h.domain("acme.test").await;
    let t0 = Timestamp::from_second(1_760_000_000).unwrap();
    for (i, user) in ["1004", "1005", "1004"].iter().enumerate() {
        let at = t0 + SignedDuration::from_secs(3600 * i as i64);
        h.app
            .store()
            .insert_cdr(&cdr(&format!("call-{i}"), user, at))
            .await
            .unwrap();
    }
    h.user("acme.test", "1005", "1234").await;
    let me = h.token(Scope::User, "acme.test", Some("1005")).await;
    for path in ["cdrs", "cdrs?user=1004"] {
        let reply = h
            .call(
                Method::GET,
                &format!("/api/v1/domains/acme.test/{path}"),
                Some(&me),
                None,
            )
            .await
            .ok(StatusCode::OK);
        let calls = reply.json.as_array().unwrap();
        assert_eq!(calls.len(), 1, "{path}: {}", reply.text);
        assert_eq!(calls[0]["call_id"], "call-1");
    }
}

#[tokio::test]
async fn record_filters_are_checked() {
    let h = Harness::sqlite().await;
    h.domain("acme.test").await;
    for (query, field) in [
        ("from=yesterday", "from"),
        ("limit=0", "limit"),
        ("limit=abc", "limit"),
        ("user=10x4", "user"),
        ("format=xml", "format"),
        ("colour=red", "query.colour"),
    ] {
        let reply = h
            .get(&format!("/api/v1/domains/acme.test/cdrs?{query}"))
            .await
            .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
        assert_eq!(
            reply.json["error"]["field"], field,
            "{query}: {}",
            reply.text
        );
    }
    h.get("/api/v1/domains/acme.test/audit?format=csv")
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
}

#[tokio::test]
async fn audit_lists_logins_newest_first_with_filters() {
    let h = Harness::sqlite().await;
    h.domain("acme.test").await;
    h.user("acme.test", "1004", "1234").await;
    h.user("acme.test", "1005", "1235").await;
    h.device("acme.test", "94001", 1).await;
    h.login("acme.test", "94001", "1004")
        .await
        .ok(StatusCode::OK);
    h.login("acme.test", "94001", "1005")
        .await
        .ok(StatusCode::OK);
    let audit = h
        .get("/api/v1/domains/acme.test/audit")
        .await
        .ok(StatusCode::OK);
    let rows = audit.json.as_array().unwrap();
    assert_eq!(rows.len(), 3, "{}", audit.text);
    let kinds: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r["kind"].as_str().unwrap(), r["user"].as_str().unwrap()))
        .collect();
    assert!(kinds.contains(&("login", "1005")) && kinds.contains(&("logout", "1004")));
    assert_eq!(rows[2]["kind"], "login", "oldest last: {}", audit.text);
    assert_eq!(rows[2]["user"], "1004");
    let bob = h
        .get("/api/v1/domains/acme.test/audit?user=1004&limit=10")
        .await;
    let bob = bob.json.as_array().unwrap();
    assert_eq!(bob.len(), 2);
    assert!(bob
        .iter()
        .any(|r| r["detail"]["reason"] == json!("takeover")));
}
