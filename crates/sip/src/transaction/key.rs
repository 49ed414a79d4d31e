//! Transaction keys (RFC 3261 §17.1.3, §17.2.3): the branch with sent-by and method, or,
//! for requests from RFC 2543 peers whose branch lacks the `z9hG4bK` magic cookie, the
//! fields that identified a transaction before branches were unique.

use std::fmt;
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::{Arc, OnceLock};

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
#[derive(Clone)]
pub struct TransactionKey {
    role: Role,
    /// The hash of `role` and `id`, computed once: a key is looked up in the layer's maps
    /// several times per message, and hashing the text each time cost more than the rest
    /// of the lookup. Seeded per process ([`KEY_HASH`]), so peers cannot aim at collisions.
    hash: u64,
    id: Arc<str>,
}

/// The seed of every key's hash, random per process.
static KEY_HASH: OnceLock<foldhash::fast::RandomState> = OnceLock::new();

impl TransactionKey {
    fn new(role: Role, id: Arc<str>) -> Self {
        let hash = KEY_HASH
            .get_or_init(foldhash::fast::RandomState::default)
            .hash_one((role, &*id));
        Self { role, hash, id }
    }

    /// The key's hash (see `hash`), for tables that store it beside an index.
    pub(super) fn hash_value(&self) -> u64 {
        self.hash
    }
}

impl PartialEq for TransactionKey {
    fn eq(&self, other: &Self) -> bool {
        // The hash first: unequal keys almost always differ there, without reading the text.
        self.hash == other.hash && self.role == other.role && self.id == other.id
    }
}

impl Eq for TransactionKey {}

impl Hash for TransactionKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Equal keys have equal `hash` (a function of `role` and `id`), as `Hash` requires.
        state.write_u64(self.hash);
    }
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
        Self::new(Role::Client, join(&[branch, key_method(method)]))
    }

    /// Key of a server transaction for an RFC 3261 request (branch starts with
    /// `z9hG4bK`): branch, sent-by (host lower-cased, port explicit) and method, with ACK
    /// folded into INVITE so the ACK for a non-2xx response finds its transaction.
    pub fn server(branch: &str, sent_by_host: &str, sent_by_port: u16, method: &str) -> Self {
        // Built in place (no intermediate strings): every received request makes one.
        let id = with_scratch(|out| {
            out.push_str(branch);
            out.push('\u{1}');
            let host = out.len();
            out.push_str(sent_by_host);
            out[host..].make_ascii_lowercase();
            out.push('\u{1}');
            crate::decimal::push_decimal(out, u64::from(sent_by_port));
            out.push('\u{1}');
            out.push_str(key_method(method));
        });
        Self::new(Role::Server, id)
    }

    /// Key of a server transaction for an RFC 2543 request (§17.2.3 fallback).
    pub fn server_legacy(fields: &LegacyFields<'_>) -> Self {
        let cseq = fields.cseq.to_string();
        Self::new(
            Role::Server,
            join(&[
                "2543",
                fields.request_uri,
                fields.from_tag,
                fields.call_id,
                &cseq,
                fields.top_via,
                key_method(fields.method),
            ]),
        )
    }

    /// The same key with another method: used to find the INVITE a CANCEL targets (§9.2).
    pub fn with_method(&self, method: &str) -> Self {
        let stem = self.id.rsplit_once('\u{1}').map_or("", |(stem, _)| stem);
        Self::new(self.role, join(&[stem, key_method(method)]))
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
    with_scratch(|out| {
        for (i, part) in parts.iter().enumerate() {
            if i > 0 {
                out.push('\u{1}');
            }
            out.push_str(part);
        }
    })
}

/// Scratch text longer than this is not kept between keys (a peer's huge Via must not pin
/// memory for the thread's life).
const SCRATCH_KEEP: usize = 1024;

thread_local! {
    /// Reused for assembling keys, so a key costs one allocation: its `Arc`.
    static SCRATCH: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

/// The `Arc<str>` of the text `write` produces into an emptied scratch string.
fn with_scratch(write: impl FnOnce(&mut String)) -> Arc<str> {
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut out) => {
            out.clear();
            write(&mut out);
            let id = Arc::from(out.as_str());
            if out.capacity() > SCRATCH_KEEP {
                *out = String::new();
            }
            id
        }
        // Not reached (`write` never makes keys); kept correct rather than panicking.
        Err(_) => {
            let mut out = String::new();
            write(&mut out);
            Arc::from(out)
        }
    })
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

    // rfc3261_17_2_3: the sent-by port is compared as a number written in decimal, the host
    // case-insensitively (the key built in place equals the joined fields).
    #[test]
    fn rfc3261_17_2_3_server_key_fields() {
        for port in [0, 7, 10, 5060, 65535] {
            let key = TransactionKey::server("z9hG4bKx", "HoSt.Example", port, "REGISTER");
            let joined = join(&["z9hG4bKx", "host.example", &port.to_string(), "REGISTER"]);
            assert_eq!(key.id, joined);
        }
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
