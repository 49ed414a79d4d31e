//! RFC 3261 §10.3 steps 6–8, RFC 5626 §6 and RFC 3327 against [`save`], table by table.
//!
//! Covered: add, refresh, remove by Expires 0 (header and parameter), `*` (alone, mixed,
//! without Expires 0, out of order), 423 below the minimum, clamping to the maximum, the
//! Call-ID/CSeq ordering rule, URI equivalence, instance/reg-id flow replacement, Path and
//! User-Agent kept, lapsed bindings dropped, the contact limit, all-or-nothing.
//! Not covered here: authentication and the domain (see `sip::auth` and the e2e tests).

use hotdesk_core::{DomainName, Extension};
use hotdesk_sip::{parse_message, Message, Request};
use hotdesk_store::Binding;
use jiff::{SignedDuration, Timestamp};

use super::{renew, save, Aor, RegisterRequest, Removal, Saved};
use crate::registrar::reply::RegError;
use crate::registrar::Policy;

fn now() -> Timestamp {
    Timestamp::from_second(1_800_000_000).unwrap()
}

fn later(secs: i64) -> Timestamp {
    now() + SignedDuration::from_secs(secs)
}

fn register(call_id: &str, cseq: u32, extra: &[&str]) -> Request {
    let mut text = format!(
        "REGISTER sip:acme.test SIP/2.0\r\n\
         Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK{cseq}{call_id}\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:94001@acme.test>;tag=a1\r\n\
         To: <sip:94001@acme.test>\r\n\
         Call-ID: {call_id}\r\n\
         CSeq: {cseq} REGISTER\r\n"
    );
    for line in extra {
        text.push_str(line);
        text.push_str("\r\n");
    }
    text.push_str("Content-Length: 0\r\n\r\n");
    match parse_message(text.into_bytes().into()) {
        Ok(Message::Request(r)) => *r,
        other => panic!("not a request: {other:?}"),
    }
}

fn policy() -> Policy {
    Policy {
        min_expires: 60,
        default_expires: 3600,
        max_expires: 7200,
        max_contacts: 3,
    }
}

fn run(current: &[Binding], request: &Request) -> Result<Saved, RegError> {
    let domain = DomainName::new("acme.test").unwrap();
    let user = Extension::new("94001").unwrap();
    let parsed = RegisterRequest::parse(request, "udp:192.0.2.10:5060")?;
    save(
        current,
        &parsed,
        Aor {
            domain: &domain,
            user: &user,
        },
        &policy(),
        now(),
    )
}

fn ok(current: &[Binding], request: &Request) -> Saved {
    run(current, request).unwrap_or_else(|e| panic!("refused: {e}"))
}

fn contacts(saved: &Saved) -> Vec<(&str, i64)> {
    saved
        .contacts
        .iter()
        .map(|b| {
            (
                b.contact.as_str(),
                b.expires_at.duration_since(now()).as_secs(),
            )
        })
        .collect()
}

#[test]
fn rfc3261_10_3_expiry_from_param_header_or_default_and_clamped() {
    let cases: [(&[&str], i64); 5] = [
        (&["Contact: <sip:94001@192.0.2.10>"], 3600),
        (&["Contact: <sip:94001@192.0.2.10>", "Expires: 600"], 600),
        (
            &[
                "Contact: <sip:94001@192.0.2.10>;expires=120",
                "Expires: 600",
            ],
            120,
        ),
        (&["Contact: <sip:94001@192.0.2.10>;expires=99999"], 7200),
        // RFC 4475 §3.1.2.4: an overflowing parameter counts as absent.
        (
            &["Contact: <sip:94001@192.0.2.10>;expires=280297596632815"],
            3600,
        ),
    ];
    for (lines, want) in cases {
        let saved = ok(&[], &register("c1", 1, lines));
        assert_eq!(
            contacts(&saved),
            vec![("sip:94001@192.0.2.10", want)],
            "{lines:?}"
        );
        assert_eq!(saved.puts.len(), 1);
    }
}

#[test]
fn rfc3261_10_3_step_7_423_below_minimum_changes_nothing() {
    let current = ok(
        &[],
        &register("c1", 1, &["Contact: <sip:94001@192.0.2.10>"]),
    )
    .contacts;
    let request = register(
        "c1",
        2,
        &["Contact: <sip:94001@192.0.2.10>, <sip:94001@192.0.2.11>;expires=30"],
    );
    assert!(matches!(
        run(&current, &request),
        Err(RegError::IntervalTooBrief { min: 60 })
    ));
    // Zero is not "too brief": it removes.
    let saved = ok(
        &current,
        &register("c1", 3, &["Contact: <sip:94001@192.0.2.10>;expires=0"]),
    );
    assert!(saved.contacts.is_empty());
    assert_eq!(saved.removed.len(), 1);
    assert_eq!(saved.removed[0].1, Removal::Unregistered);
}

#[test]
fn rfc3261_10_3_step_7_same_call_id_needs_higher_cseq() {
    let current = ok(
        &[],
        &register("c1", 5, &["Contact: <sip:94001@192.0.2.10>"]),
    )
    .contacts;
    for cseq in [4, 5] {
        let request = register(
            "c1",
            cseq,
            &["Contact: <sip:94001@192.0.2.10>", "Expires: 600"],
        );
        assert!(
            matches!(run(&current, &request), Err(RegError::OutOfOrder)),
            "cseq {cseq}"
        );
    }
    let refreshed = ok(
        &current,
        &register(
            "c1",
            6,
            &["Contact: <sip:94001@192.0.2.10>", "Expires: 600"],
        ),
    );
    assert_eq!(contacts(&refreshed), vec![("sip:94001@192.0.2.10", 600)]);
    // Another Call-ID (a rebooted phone) updates whatever its CSeq.
    let rebooted = ok(
        &current,
        &register("c2", 1, &["Contact: <sip:94001@192.0.2.10>"]),
    );
    assert_eq!(rebooted.contacts[0].call_id, "c2");
    assert_eq!(
        rebooted.puts.len(),
        1,
        "a refresh is written even if only the expiry moved"
    );
}

#[test]
fn rfc3261_19_1_4_equivalent_uri_refreshes_instead_of_adding() {
    let current = ok(
        &[],
        &register(
            "c1",
            1,
            &["Contact: <sip:94001@EXAMPLE.com:5060;transport=udp>"],
        ),
    )
    .contacts;
    let saved = ok(
        &current,
        &register(
            "c1",
            2,
            &["Contact: \"Desk\" <sip:94001@example.com:5060;transport=UDP>;expires=300"],
        ),
    );
    assert_eq!(saved.contacts.len(), 1);
    assert_eq!(contacts(&saved)[0].1, 300);
    // A different port is a different contact.
    let saved = ok(
        &current,
        &register("c1", 3, &["Contact: <sip:94001@example.com:5070>"]),
    );
    assert_eq!(saved.contacts.len(), 2);
}

#[test]
fn rfc3261_10_2_2_star_removes_all_only_alone_and_with_expires_0() {
    let current = ok(
        &[],
        &register(
            "c1",
            1,
            &["Contact: <sip:94001@192.0.2.10>, <sip:94001@192.0.2.11>"],
        ),
    )
    .contacts;
    let table: [(&[&str], Option<&str>); 3] = [
        (&["Contact: *"], Some("no Expires")),
        (&["Contact: *", "Expires: 60"], Some("Expires not 0")),
        (
            &["Contact: *, <sip:94001@192.0.2.12>", "Expires: 0"],
            Some("mixed"),
        ),
    ];
    for (lines, why) in table {
        assert!(
            matches!(
                run(&current, &register("c9", 1, lines)),
                Err(RegError::StarExpires | RegError::StarWithContacts)
            ),
            "{why:?}"
        );
    }
    let saved = ok(&current, &register("c9", 1, &["Contact: *", "Expires: 0"]));
    assert!(saved.contacts.is_empty());
    assert_eq!(saved.removed.len(), 2);
    // Same Call-ID with an old CSeq: out of order, nothing removed.
    assert!(matches!(
        run(&current, &register("c1", 1, &["Contact: *", "Expires: 0"])),
        Err(RegError::OutOfOrder)
    ));
}

#[test]
fn rfc3261_10_2_3_query_lists_without_changing() {
    let current = ok(
        &[],
        &register("c1", 1, &["Contact: <sip:94001@192.0.2.10>"]),
    )
    .contacts;
    let saved = ok(&current, &register("c1", 2, &[]));
    assert_eq!(saved.contacts, current);
    assert!(saved.puts.is_empty() && saved.removed.is_empty());
}

#[test]
fn rfc5626_6_new_flow_of_same_instance_and_reg_id_replaces_old() {
    let instance = "+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-000a95a0e128>\"";
    let first = format!("Contact: <sip:94001@192.0.2.10:5060;ob>;{instance};reg-id=1");
    let current = ok(&[], &register("c1", 1, &[&first])).contacts;
    assert_eq!(current[0].reg_id, Some(1));
    assert!(current[0]
        .instance
        .as_deref()
        .is_some_and(|i| i.starts_with("<urn:uuid:")));

    let moved = format!("Contact: <sip:94001@198.51.100.7:40000;ob>;{instance};reg-id=1");
    let saved = ok(&current, &register("c2", 1, &[&moved]));
    assert_eq!(
        contacts(&saved),
        vec![("sip:94001@198.51.100.7:40000;ob", 3600)]
    );
    assert_eq!(saved.removed.len(), 1);
    assert_eq!(saved.removed[0].1, Removal::Replaced);
    assert!(saved.outbound);

    let second_flow = format!("Contact: <sip:94001@203.0.113.5;ob>;{instance};reg-id=2");
    let saved = ok(&saved.contacts, &register("c2", 2, &[&second_flow]));
    assert_eq!(saved.contacts.len(), 2, "reg-id 2 is another flow");
}

#[test]
fn rfc3327_path_and_user_agent_are_kept() {
    let saved = ok(
        &[],
        &register(
            "c1",
            1,
            &[
                "Contact: <sip:94001@192.0.2.10>;q=0.5",
                "Path: <sip:edge1.example;lr>, <sip:edge2.example;lr>",
                "User-Agent: Yealink SIP-T46U 108.86.0.45",
            ],
        ),
    );
    let b = &saved.contacts[0];
    assert_eq!(
        b.path,
        vec!["<sip:edge1.example;lr>", "<sip:edge2.example;lr>"]
    );
    assert_eq!(
        b.user_agent.as_deref(),
        Some("Yealink SIP-T46U 108.86.0.45")
    );
    assert_eq!(b.q, Some(500));
    assert_eq!(b.source, "udp:192.0.2.10:5060");
}

#[test]
fn lapsed_bindings_are_dropped_and_reported_as_expired() {
    let mut current = ok(
        &[],
        &register("c1", 1, &["Contact: <sip:94001@192.0.2.10>"]),
    )
    .contacts;
    current[0].expires_at = now();
    let saved = ok(
        &current,
        &register("c2", 1, &["Contact: <sip:94001@192.0.2.11>"]),
    );
    assert_eq!(contacts(&saved), vec![("sip:94001@192.0.2.11", 3600)]);
    assert_eq!(saved.removed[0].1, Removal::Expired);
}

#[test]
fn contact_limit_refuses_the_whole_request() {
    let current = ok(
        &[],
        &register(
            "c1",
            1,
            &["Contact: <sip:a@192.0.2.1>, <sip:b@192.0.2.2>, <sip:c@192.0.2.3>"],
        ),
    )
    .contacts;
    assert!(matches!(
        run(
            &current,
            &register("c1", 2, &["Contact: <sip:d@192.0.2.4>"])
        ),
        Err(RegError::TooManyContacts { max: 3 })
    ));
    // Removing one and adding one in the same request fits.
    let saved = ok(
        &current,
        &register(
            "c1",
            3,
            &["Contact: <sip:a@192.0.2.1>;expires=0, <sip:d@192.0.2.4>"],
        ),
    );
    assert_eq!(saved.contacts.len(), 3);
    assert_eq!(
        saved.contacts.last().map(|b| b.expires_at),
        Some(later(3600))
    );
}

#[test]
fn a_contact_listed_twice_ends_as_its_last_mention() {
    let saved = ok(
        &[],
        &register(
            "c1",
            1,
            &["Contact: <sip:94001@192.0.2.10>;expires=600, <sip:94001@192.0.2.10>;expires=0"],
        ),
    );
    assert!(saved.contacts.is_empty());
    assert!(
        saved.puts.is_empty(),
        "nothing to write for a contact added then removed"
    );
    let saved = ok(
        &[],
        &register(
            "c1",
            1,
            &["Contact: <sip:94001@192.0.2.10>;expires=600, <sip:94001@192.0.2.10>;expires=900"],
        ),
    );
    assert_eq!(contacts(&saved), vec![("sip:94001@192.0.2.10", 900)]);
    assert_eq!(saved.puts.len(), 1);
}

#[test]
fn non_sip_contact_and_garbage_are_400() {
    assert!(matches!(
        run(&[], &register("c1", 1, &["Contact: <tel:+15551234567>"])),
        Err(RegError::ContactScheme)
    ));
    assert!(matches!(
        run(&[], &register("c1", 1, &["Contact: <sip:94001@192.0.2.10"])),
        Err(RegError::BadContact)
    ));
}

/// [`renew`] on a copy of `current`: the renewed list, or `None` when it leaves the
/// request to [`save`].
fn renewed(current: &[Binding], request: &Request) -> Option<Vec<Binding>> {
    let parsed = RegisterRequest::parse(request, "udp:192.0.2.10:5060").ok()?;
    let mut copy = current.to_vec();
    let before = copy.clone();
    match renew(&mut copy, &parsed, &policy(), now()) {
        Some(_) => Some(copy),
        None => {
            assert_eq!(copy, before, "renew changed bindings it then left to save");
            None
        }
    }
}

// rfc3261_10_3_step_7: the in-place refresh must agree with the general path whenever it
// applies (same contacts and expiries, same Call-ID and CSeq written), and step aside for
// everything that is not a plain refresh.
#[test]
fn rfc3261_10_3_in_place_refresh_agrees_with_save() {
    let first = ["Contact: <sip:94001@192.0.2.10>", "User-Agent: phone/1"];
    let current = ok(&[], &register("c1", 5, &first)).contacts;
    let refreshes: [(&str, u32, &[&str]); 3] = [
        (
            "c1",
            6,
            &[
                "Contact: <sip:94001@192.0.2.10>",
                "User-Agent: phone/1",
                "Expires: 600",
            ],
        ),
        (
            "c2",
            1,
            &["Contact: <sip:94001@192.0.2.10>", "User-Agent: phone/1"],
        ),
        (
            "a-longer-call-id",
            9,
            &[
                "Contact: <sip:94001@192.0.2.10>;expires=99999",
                "User-Agent: phone/1",
            ],
        ),
    ];
    for (call_id, cseq, lines) in refreshes {
        let request = register(call_id, cseq, lines);
        let general = ok(&current, &request);
        let fast = renewed(&current, &request).expect("a plain refresh is renewed in place");
        assert_eq!(fast, general.contacts, "{call_id} {cseq}");
        assert_eq!(general.puts, fast, "{call_id} {cseq}");
    }
    let not_plain: [(&str, u32, &[&str]); 7] = [
        // Out of order: save refuses it.
        (
            "c1",
            5,
            &["Contact: <sip:94001@192.0.2.10>", "User-Agent: phone/1"],
        ),
        // Another User-Agent, another contact, a removal, too short, two contacts, a query.
        (
            "c1",
            6,
            &["Contact: <sip:94001@192.0.2.10>", "User-Agent: phone/2"],
        ),
        (
            "c1",
            6,
            &["Contact: <sip:94001@192.0.2.11>", "User-Agent: phone/1"],
        ),
        (
            "c1",
            6,
            &[
                "Contact: <sip:94001@192.0.2.10>;expires=0",
                "User-Agent: phone/1",
            ],
        ),
        (
            "c1",
            6,
            &[
                "Contact: <sip:94001@192.0.2.10>;expires=10",
                "User-Agent: phone/1",
            ],
        ),
        (
            "c1",
            6,
            &[
                "Contact: <sip:94001@192.0.2.10>, <sip:94001@192.0.2.11>",
                "User-Agent: phone/1",
            ],
        ),
        ("c1", 6, &["User-Agent: phone/1"]),
    ];
    for (call_id, cseq, lines) in not_plain {
        assert!(
            renewed(&current, &register(call_id, cseq, lines)).is_none(),
            "{lines:?}"
        );
    }
    // A lapsed binding beside it must be dropped, which only save does.
    let mut with_lapsed = current.clone();
    let mut lapsed = current[0].clone();
    lapsed.contact = "sip:94001@192.0.2.99".into();
    lapsed.expires_at = now();
    with_lapsed.push(lapsed);
    assert!(renewed(&with_lapsed, &register("c1", 6, &first)).is_none());
}
