//! Digest authentication of requests from phones (HD-SEC-3): challenge with SHA-256 and MD5
//! (realm = the domain, stateless signed nonces), verify against the cached HA1 values, and
//! count failures per source address and per user so that guessing is locked out (audited
//! as `sip_auth_failed` / `sip_locked_out`).

use std::net::IpAddr;
use std::time::SystemTime;

use hotdesk_core::{Actor, AuditRecord, DomainName, Extension};
use hotdesk_sip::digest::{
    Algorithm, AuthKind, AuthRequest, Authenticator, Challenges, Credentials, DigestConfig,
    DigestError, HashFunction,
};
use hotdesk_sip::endpoint::{new_tag, request_fingerprint, Hex16, ServerTransaction};
use hotdesk_sip::message::HeaderName;
use hotdesk_sip::{Request, Response, StatusCode};
use jiff::Timestamp;
use serde_json::json;

use crate::sip::credentials::Ha1Cache;
use crate::sip::guard::{AuthGuard, GuardPolicy, Locked, Started};
use crate::state::App;

/// Audit kind of a wrong password or unknown digest user.
pub const SIP_AUTH_FAILED: &str = "sip_auth_failed";
/// Audit kind of a lock-out started by repeated failures.
pub const SIP_LOCKED_OUT: &str = "sip_locked_out";

/// User-Agent prefixes of clients that abort on a challenge list naming an algorithm they
/// lack (libre, under baresip 1.0, fails the whole REGISTER with ENOSYS when it meets
/// `algorithm=SHA-256`, even beside MD5). They get the MD5 challenge alone, which is no
/// downgrade: MD5 is offered to everyone anyway.
const MD5_ONLY_AGENTS: [&str; 1] = ["baresip"];

/// Longest username copied into an audit row (it is whatever the client sent).
const MAX_AUDITED_USERNAME: usize = 64;

/// The result of [`SipAuth::authenticate`].
#[derive(Debug)]
pub enum Outcome {
    /// The request carries valid credentials of `user` in the domain.
    Verified {
        /// The digest username: an extension of the domain.
        user: Extension,
    },
    /// Answer with this instead.
    Denied(Denial),
}

/// A refusal: a 401 challenge, a 403 for a wrong password or a lock-out, a 400 for
/// malformed credentials.
#[derive(Debug)]
pub struct Denial {
    status: StatusCode,
    reason: &'static str,
    challenges: Challenges,
    /// A challenge's To tag, from the fingerprint its nonce took: stateless, so the same
    /// for every retransmission (RFC 3261 §8.2.7).
    stateless_tag: Option<Hex16>,
    retry_after: Option<u64>,
    reused_by: Option<Extension>,
}

impl Denial {
    /// The status this denial answers with.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The user whose right credentials were refused only because their nonce was used
    /// already or is old ([`DigestError::is_reuse_of_right_credentials`]): the request may
    /// be a retransmission of one answered statelessly, which the registrar answers again.
    pub fn reused_by(&self) -> Option<&Extension> {
        self.reused_by.as_ref()
    }

    /// Whether this is a challenge, answered statelessly (RFC 3261 §8.2.7): a flood of
    /// requests without credentials then leaves no transaction behind.
    pub fn is_challenge(&self) -> bool {
        !self.challenges.is_empty()
    }

    /// The response to `request`.
    pub fn response(&self, request: &Request) -> Response {
        let retry_after = self.retry_after.map(|s| s.to_string());
        let fresh;
        let tag = match &self.stateless_tag {
            Some(tag) => tag.as_str(),
            None => {
                fresh = new_tag();
                fresh.as_str()
            }
        };
        let mut builder = request
            .response(self.status)
            .reason(self.reason)
            .to_tag(tag);
        for challenge in self.challenges.iter() {
            builder = builder.header(AuthKind::Www.challenge_header(), challenge);
        }
        if let Some(secs) = retry_after {
            builder = builder.header("Retry-After", secs);
        }
        builder.build()
    }

    /// Answers `transaction`: challenges statelessly, refusals through the transaction.
    pub fn send(&self, transaction: ServerTransaction) {
        let response = self.response(transaction.request());
        // The endpoint being gone means we are shutting down: no one to answer.
        let _ = if self.is_challenge() {
            transaction.respond_stateless(response)
        } else {
            transaction.respond(response)
        };
    }
}

/// The authenticator, HA1 cache and guard; owned by the dispatcher, so no locks.
pub struct SipAuth {
    authenticator: Authenticator,
    /// Same secret, MD5 challenges only: for clients that give up on a challenge list
    /// holding an algorithm they do not know (see [`MD5_ONLY_AGENTS`]).
    md5_only: Authenticator,
    ha1: Ha1Cache,
    guard: AuthGuard,
}

impl std::fmt::Debug for SipAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SipAuth")
            .field("ha1", &self.ha1)
            .field("guard", &self.guard)
            .finish_non_exhaustive()
    }
}

impl SipAuth {
    /// Nonces signed with `secret`; challenges offer MD5 and SHA-256, MD5 first.
    ///
    /// RFC 8760 §2.4 would list the preferred SHA-256 first, but clients that read only the
    /// first challenge (SIPp 3.6.1, many older phones) then fail outright, while clients that
    /// do SHA-256 choose it from the list whatever its place.
    pub fn new(secret: &[u8], policy: GuardPolicy) -> Self {
        let config = DigestConfig {
            algorithms: vec![Algorithm::Md5, Algorithm::Sha256],
            ..DigestConfig::default()
        };
        let md5_only = DigestConfig {
            algorithms: vec![Algorithm::Md5],
            ..DigestConfig::default()
        };
        Self {
            authenticator: Authenticator::new(secret, config),
            md5_only: Authenticator::new(secret, md5_only),
            ha1: Ha1Cache::default(),
            guard: AuthGuard::new(policy),
        }
    }

    /// Counts a failure found in the audit trail at start, so locks survive a restart.
    pub fn replay(&mut self, record: &AuditRecord) {
        let Some(source) = record.source.as_deref().and_then(|s| s.parse().ok()) else {
            return;
        };
        let user = record.detail.get("username").and_then(|u| u.as_str());
        self.guard
            .fail(source, record.domain.as_str(), user, record.at);
    }

    /// Forgets idle failure counters.
    pub fn prune(&mut self, now: Timestamp) {
        self.guard.prune(now);
    }

    /// Starts loading the HA1 cache's index for `user` of `domain`: the first step of
    /// fetching the entry that [`Self::authenticate`] with that user hint reads, so that
    /// neither load waits in full (the cache is larger than the CPU's).
    pub fn prefetch(&self, domain: &DomainName, user: &str) {
        self.ha1.prefetch_index(domain.as_str(), user);
    }

    /// Authenticates `request` for `domain`, coming from `source`. `user_hint` is the user
    /// the request is about (the AOR of a REGISTER), checked against user locks before any
    /// challenge. Failures are audited (written in the background) and counted.
    pub fn authenticate(
        &mut self,
        app: &App,
        request: &Request,
        domain: &DomainName,
        source: IpAddr,
        user_hint: Option<&str>,
        now: Timestamp,
    ) -> Outcome {
        // Loaded while the guard is asked and the credentials are read (see
        // [`Self::prefetch`]).
        if let Some(user) = user_hint {
            self.ha1.prefetch_entry(domain.as_str(), user);
        }
        if let Err(locked) = self.guard.check(source, domain.as_str(), user_hint, now) {
            return Outcome::Denied(locked_out(locked));
        }
        let mut malformed = None;
        let mut found = None;
        for value in request.headers().authorizations() {
            match Credentials::parse(value) {
                Ok(c) if c.realm.eq_ignore_ascii_case(domain.as_str()) => {
                    found = Some(c);
                    break;
                }
                // Credentials for another realm (a proxy on the way) are not ours to judge.
                Ok(_) => {}
                Err(error) => malformed = Some(error),
            }
        }
        let system_now = SystemTime::from(now);
        let Some(credentials) = found else {
            return Outcome::Denied(match malformed {
                Some(error) if error.status(AuthKind::Www) == 400 => digest_denial(&error),
                _ => self.challenge(request, system_now, domain, source, false),
            });
        };
        let username = credentials.username.as_ref();
        if let Err(locked) = self
            .guard
            .check(source, domain.as_str(), Some(username), now)
        {
            return Outcome::Denied(locked_out(locked));
        }
        let algorithm = credentials.algorithm();
        // An unknown algorithm is refused below; the set then only tells who the user is.
        let hash = algorithm.as_ref().map_or(HashFunction::Md5, |a| a.hash());
        let set = self.ha1.lookup(app, domain, username, hash);
        let check = AuthRequest {
            method: request.method().as_str(),
            realm: domain.as_str(),
            client: Some(source),
        };
        let result = match algorithm {
            Err(error) => Err(error),
            Ok(_) if set.is_empty() => Err(DigestError::UnknownUser),
            Ok(_) => {
                let mut result = Err(DigestError::WrongResponse);
                for ha1 in set.candidates() {
                    result = self
                        .authenticator
                        .verify(system_now, &check, &credentials, ha1);
                    if !matches!(result, Err(DigestError::WrongResponse)) {
                        break;
                    }
                }
                result
            }
        };
        match result {
            Ok(_) => match Extension::new(username) {
                Ok(user) => {
                    self.guard.succeed(domain.as_str(), username);
                    Outcome::Verified { user }
                }
                // Cannot happen (HA1 values exist only for extensions); refuse if it does.
                Err(_) => Outcome::Denied(digest_denial(&DigestError::UnknownUser)),
            },
            Err(error @ (DigestError::WrongResponse | DigestError::UnknownUser)) => {
                let started = self
                    .guard
                    .fail(source, domain.as_str(), Some(username), now);
                let kind = Kind {
                    device: set.is_device,
                    user: set.is_user,
                };
                let audit = failure_audit(domain, username, &kind, source, &error, started, now);
                persist(app, audit);
                let locked = self
                    .guard
                    .check(source, domain.as_str(), Some(username), now);
                Outcome::Denied(match locked {
                    Err(locked) => locked_out(locked),
                    Ok(()) => digest_denial(&error),
                })
            }
            Err(error) if error.status(AuthKind::Www) == 401 => {
                let mut denial =
                    self.challenge(request, system_now, domain, source, error.is_stale());
                if error.is_reuse_of_right_credentials() {
                    denial.reused_by = Extension::new(username).ok();
                }
                Outcome::Denied(denial)
            }
            Err(error) => Outcome::Denied(digest_denial(&error)),
        }
    }

    fn challenge(
        &self,
        request: &Request,
        now: SystemTime,
        domain: &DomainName,
        source: IpAddr,
        stale: bool,
    ) -> Denial {
        let agent = request
            .headers()
            .get(HeaderName::UserAgent)
            .and_then(|h| h.value_str().ok())
            .unwrap_or_default();
        let md5_only = MD5_ONLY_AGENTS.iter().any(|prefix| {
            agent
                .get(..prefix.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
        });
        let authenticator = if md5_only {
            &self.md5_only
        } else {
            &self.authenticator
        };
        let fingerprint = request_fingerprint(request);
        Denial {
            status: StatusCode::UNAUTHORIZED,
            reason: AuthKind::Www.challenge_reason(),
            challenges: authenticator.challenge_for(
                now,
                domain.as_str(),
                Some(source),
                stale,
                fingerprint,
            ),
            stateless_tag: Some(Hex16::new(fingerprint)),
            retry_after: None,
            reused_by: None,
        }
    }
}

fn digest_denial(error: &DigestError) -> Denial {
    Denial {
        status: StatusCode::new(error.status(AuthKind::Www)).unwrap_or(StatusCode::FORBIDDEN),
        reason: error.reason(AuthKind::Www),
        challenges: Challenges::default(),
        stateless_tag: None,
        retry_after: None,
        reused_by: None,
    }
}

fn locked_out(locked: Locked) -> Denial {
    Denial {
        status: StatusCode::FORBIDDEN,
        reason: "Too Many Failed Attempts",
        challenges: Challenges::default(),
        stateless_tag: None,
        retry_after: Some(locked.retry_after_secs),
        reused_by: None,
    }
}

/// Whom a username names, for the audit row's actor and user/device columns.
struct Kind {
    device: bool,
    user: bool,
}

fn failure_audit(
    domain: &DomainName,
    username: &str,
    kind: &Kind,
    source: IpAddr,
    error: &DigestError,
    started: Started,
    now: Timestamp,
) -> Vec<AuditRecord> {
    let ext = Extension::new(username).ok();
    let audited: String = username.chars().take(MAX_AUDITED_USERNAME).collect();
    let actor = match &ext {
        Some(e) if kind.device => Actor::Device(e.clone()),
        Some(e) if kind.user => Actor::User(e.clone()),
        _ => Actor::System,
    };
    let reason = match error {
        DigestError::UnknownUser => "unknown_user",
        _ => "wrong_password",
    };
    let row = |kind_name: &str, detail| AuditRecord {
        domain: domain.clone(),
        at: now,
        kind: kind_name.to_owned(),
        actor: actor.clone(),
        user: ext.clone().filter(|_| kind.user),
        device: ext.clone().filter(|_| kind.device),
        source: Some(source.to_string()),
        detail,
    };
    let mut rows = vec![row(
        SIP_AUTH_FAILED,
        json!({ "username": audited, "reason": reason }),
    )];
    for (locked, until) in [("source", started.source), ("user", started.user)] {
        if let Some(until) = until {
            tracing::warn!(%domain, %source, username = %audited, locked, %until, "SIP digest lock-out");
            rows.push(row(
                SIP_LOCKED_OUT,
                json!({ "username": audited, "locked": locked, "until": until }),
            ));
        }
    }
    rows
}

/// Writes audit rows without holding up the caller; a lost row is logged. Shared with
/// provisioning's lock-out ([`crate::provisioning::lockout`]).
pub(crate) fn persist(app: &App, rows: Vec<AuditRecord>) {
    let store = std::sync::Arc::clone(app.store());
    tokio::spawn(async move {
        if let Err(error) = store.append_audit(&rows).await {
            tracing::warn!(%error, "cannot write authentication audit rows");
        }
    });
}
