//! Transaction keys (RFC 3261 §17.1.3, §17.2.3): the branch with sent-by and method, or,
//! for requests from RFC 2543 peers whose branch lacks the `z9hG4bK` magic cookie, the
//! fields that identified a transaction before branches were unique.

use std::fmt;
use std::sync::Arc;

/// The RFC 3261 magic cookie that makes a branch globally unique (§8.1.1.7).
pub const MAGIC_COOKIE: &str = "z9hG4bK";

/// Which side of the transaction we are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// We sent the request.
    Client,
    /// We received the request.
    Server,
}

/// Identifies a transaction in the [`TransactionLayer`](super::TransactionLayer) table; cheap
/// to clone (one reference-counted string) so the TU can keep it.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TransactionKey {
    role: Role,
    id: Arc<str>,
}

/// The fields RFC 2543 matching compares (§17.2.3 fallback). `top_via` is the whole top Via
/// value; ACK matches its INVITE because the method is folded (ACK → INVITE) and To tag is
/// left out — the INVITE had none, the ACK carries ours.
#[derive(Debug, Clone, Copy)]
pub struct LegacyFields<'a> {
    /// Request-URI text.
    pub request_uri: &'a str,
    /// From tag, or `""`.
    pub from_tag: &'a str,
    /// Call-ID.
    pub call_id: &'a str,
    /// CSeq sequence number.
    pub cseq: u32,
    /// Top Via header value.
    pub top_via: &'a str,
    /// Request method.
    pub method: &'a str,
}

impl TransactionKey {
    /// Key of a client transaction: the branch we generated and the method (§17.1.3:
    /// a response matches on top-Via branch and CSeq method).
    pub fn client(branch: &str, method: &str) -> Self {
        Self {
            role: Role::Client,
            id: join(&[branch, key_method(method)]),
        }
    }

    /// Key of a server transaction for an RFC 3261 request (branch starts with
    /// `z9hG4bK`): branch, sent-by (host lower-cased, port explicit) and method, with ACK
    /// folded into INVITE so the ACK for a non-2xx response finds its transaction.
    pub fn server(branch: &str, sent_by_host: &str, sent_by_port: u16, method: &str) -> Self {
        let mut host = String::with_capacity(sent_by_host.len() + 6);
        host.extend(sent_by_host.chars().map(|c| c.to_ascii_lowercase()));
        let port = sent_by_port.to_string();
        Self {
            role: Role::Server,
            id: join(&[branch, &host, &port, key_method(method)]),
        }
    }

    /// Key of a server transaction for an RFC 2543 request (§17.2.3 fallback).
    pub fn server_legacy(fields: &LegacyFields<'_>) -> Self {
        let cseq = fields.cseq.to_string();
        Self {
            role: Role::Server,
            id: join(&[
                "2543",
                fields.request_uri,
                fields.from_tag,
                fields.call_id,
                &cseq,
                fields.top_via,
                key_method(fields.method),
            ]),
        }
    }

    /// The same key with another method: used to find the INVITE a CANCEL targets (§9.2).
    pub fn with_method(&self, method: &str) -> Self {
        let stem = self.id.rsplit_once('\u{1}').map_or("", |(stem, _)| stem);
        Self {
            role: self.role,
            id: join(&[stem, key_method(method)]),
        }
    }

    /// Client or server side.
    pub fn role(&self) -> Role {
        self.role
    }
}

/// True when a branch carries the RFC 3261 magic cookie, so branch matching applies.
pub fn is_rfc3261_branch(branch: &str) -> bool {
    branch.starts_with(MAGIC_COOKIE)
}

/// ACK belongs to the INVITE transaction (§17.2.3); method names are case-sensitive (§7.1).
fn key_method(method: &str) -> &str {
    if method == "ACK" {
        "INVITE"
    } else {
        method
    }
}

/// Joins with a separator no SIP token or header value may contain, so distinct field
/// lists never produce the same key.
fn join(parts: &[&str]) -> Arc<str> {
    let len = parts.iter().map(|p| p.len() + 1).sum();
    let mut out = String::with_capacity(len);
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            out.push('\u{1}');
        }
        out.push_str(part);
    }
    Arc::from(out)
}

impl fmt::Debug for TransactionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}({})", self.role, self.id.replace('\u{1}', "|"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3261_17_2_3_ack_folds_into_invite_cancel_does_not() {
        let invite = TransactionKey::server("z9hG4bK1", "Host.Example", 5060, "INVITE");
        let ack = TransactionKey::server("z9hG4bK1", "host.example", 5060, "ACK");
        let cancel = TransactionKey::server("z9hG4bK1", "host.example", 5060, "CANCEL");
        assert_eq!(invite, ack);
        assert_ne!(invite, cancel);
        assert_eq!(cancel.with_method("INVITE"), invite);
        assert_ne!(
            invite,
            TransactionKey::server("z9hG4bK1", "host.example", 5061, "INVITE")
        );
        assert_ne!(invite, TransactionKey::client("z9hG4bK1", "INVITE"));
    }

    #[test]
    fn rfc3261_17_1_3_client_key_is_branch_and_method() {
        let invite = TransactionKey::client("z9hG4bKabc", "INVITE");
        assert_eq!(
            invite.with_method("CANCEL"),
            TransactionKey::client("z9hG4bKabc", "CANCEL")
        );
        assert_ne!(invite, TransactionKey::client("z9hG4bKabd", "INVITE"));
        assert_eq!(invite.role(), Role::Client);
    }

    #[test]
    fn rfc3261_17_2_3_legacy_fields_all_count() {
        let base = LegacyFields {
            request_uri: "sip:bob@example.com",
            from_tag: "f1",
            call_id: "c1",
            cseq: 1,
            top_via: "SIP/2.0/UDP 192.0.2.1:5060;branch=abc",
            method: "INVITE",
        };
        let key = TransactionKey::server_legacy(&base);
        assert_eq!(
            key,
            TransactionKey::server_legacy(&LegacyFields {
                method: "ACK",
                ..base
            })
        );
        assert_eq!(
            key.with_method("CANCEL"),
            TransactionKey::server_legacy(&LegacyFields {
                method: "CANCEL",
                ..base
            })
        );
        for other in [
            LegacyFields {
                request_uri: "sip:carol@example.com",
                ..base
            },
            LegacyFields {
                from_tag: "f2",
                ..base
            },
            LegacyFields {
                call_id: "c2",
                ..base
            },
            LegacyFields { cseq: 2, ..base },
            LegacyFields {
                top_via: "SIP/2.0/UDP 192.0.2.2",
                ..base
            },
        ] {
            assert_ne!(key, TransactionKey::server_legacy(&other));
        }
        assert!(is_rfc3261_branch("z9hG4bK776asdhds"));
        assert!(!is_rfc3261_branch("776asdhds"));
    }
}
