//! Mailbox changes pushed by an external voicemail server (HD-MWI-1): an out-of-dialog
//! `NOTIFY` with `Event: message-summary` and an RFC 3842 body. Only sources in the
//! configured trust (`--voicemail-trust`, IPs or CIDRs) are heard — there is no digest to
//! check, so the network address is the credential; anyone else gets 403 before anything
//! is parsed or looked up, so an outsider learns nothing about users. A trusted NOTIFY
//! sets the counts through [`crate::state::App::set_mailbox`] (a user's box) or
//! [`crate::state::App::set_device_mailbox`] (a desk's anchor extension), the paths of
//! `PUT …/mailbox`, so events and re-NOTIFYs to the phones showing that mailbox follow.

use std::net::IpAddr;
use std::str::FromStr;

use hotdesk_core::{Extension, Mailbox};
use hotdesk_sip::endpoint::{new_tag, stateless_tag, ServerTransaction};
use hotdesk_sip::{Request, StatusCode, Uri};
use ipnet::IpNet;

use super::subscribe::{refuse, PACKAGE};
use super::summary::CONTENT_TYPE;
use crate::sip::Context;
use crate::state::AppError;

/// Networks whose message-summary NOTIFYs are believed. Empty (the default): nobody's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trust(Vec<IpNet>);

/// A trust entry that is neither an IP address nor a CIDR network.
#[derive(Debug, thiserror::Error)]
#[error("{0:?} is neither an IP address nor a network like 10.0.0.0/24 or fd00::/8")]
pub struct TrustError(String);

impl Trust {
    /// Parses entries such as `127.0.0.1`, `10.1.0.0/16`, `::1`, `fd00::/8` (blank ones
    /// are skipped, so a trailing comma is harmless).
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<Self, TrustError> {
        let mut nets = Vec::new();
        for entry in entries.iter().map(|e| e.as_ref().trim()) {
            if entry.is_empty() {
                continue;
            }
            let net = IpNet::from_str(entry)
                .or_else(|_| IpAddr::from_str(entry).map(IpNet::from))
                .map_err(|_| TrustError(entry.to_owned()))?;
            nets.push(net);
        }
        Ok(Self(nets))
    }

    /// Whether `source` lies in a trusted network (an IPv4-mapped IPv6 source counts as
    /// its IPv4 address, as dual-stack sockets report them).
    pub fn allows(&self, source: IpAddr) -> bool {
        let source = source.to_canonical();
        self.0.iter().any(|net| net.contains(&source))
    }

    /// Whether nobody is trusted.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// What an RFC 3842 §5.2 body says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// `Message-Account`, when given.
    pub account: Option<String>,
    /// `Voice-Message` new/old counts.
    pub voice: Mailbox,
}

/// Why a body was refused; [`BodyError::reason`] is the 400's reason phrase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyError {
    /// Not UTF-8 text.
    NotText,
    /// The mandatory `Messages-Waiting` line is missing.
    MissingWaiting,
    /// `Messages-Waiting` is neither yes nor no.
    BadWaiting,
    /// No `Voice-Message` line: the counts to set are unknown.
    MissingVoice,
    /// `Voice-Message` is not `new/old` (optionally followed by `(urgent/urgent)`).
    BadVoice,
    /// `Messages-Waiting: no` with new voice messages.
    Contradiction,
}

impl BodyError {
    /// The reason phrase naming the problem.
    pub fn reason(self) -> &'static str {
        match self {
            Self::NotText => "Body Not Text",
            Self::MissingWaiting => "Missing Messages-Waiting",
            Self::BadWaiting => "Bad Messages-Waiting",
            Self::MissingVoice => "Missing Voice-Message",
            Self::BadVoice => "Bad Voice-Message",
            Self::Contradiction => "Messages-Waiting Contradicts Voice-Message",
        }
    }
}

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.reason())
    }
}

impl std::error::Error for BodyError {}

/// Parses an `application/simple-message-summary` body.
pub fn parse_body(body: &[u8]) -> Result<Summary, BodyError> {
    let text = std::str::from_utf8(body).map_err(|_| BodyError::NotText)?;
    let (mut waiting, mut account, mut voice) = (None, None, None);
    for line in text.lines() {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let (name, value) = (name.trim(), value.trim());
        if name.eq_ignore_ascii_case("Messages-Waiting") {
            waiting = Some(match value.to_ascii_lowercase().as_str() {
                "yes" => true,
                "no" => false,
                _ => return Err(BodyError::BadWaiting),
            });
        } else if name.eq_ignore_ascii_case("Message-Account") {
            account = Some(value.to_owned());
        } else if name.eq_ignore_ascii_case("Voice-Message") {
            voice = Some(counts(value).ok_or(BodyError::BadVoice)?);
        }
    }
    let waiting = waiting.ok_or(BodyError::MissingWaiting)?;
    let voice = voice.ok_or(BodyError::MissingVoice)?;
    // "yes" with no new voice message is fine: another class (fax, video) may wait.
    if !waiting && voice.new > 0 {
        return Err(BodyError::Contradiction);
    }
    Ok(Summary { account, voice })
}

/// `new/old` or `new/old (urgent-new/urgent-old)`.
fn counts(value: &str) -> Option<Mailbox> {
    let head = match value.split_once('(') {
        Some((head, rest)) => {
            let (urgent_new, urgent_old) = rest.strip_suffix(')')?.split_once('/')?;
            urgent_new.trim().parse::<u32>().ok()?;
            urgent_old.trim().parse::<u32>().ok()?;
            head
        }
        None => value,
    };
    let (new, old) = head.split_once('/')?;
    Some(Mailbox {
        new: new.trim().parse().ok()?,
        old: old.trim().parse().ok()?,
    })
}

/// The mailbox a NOTIFY is about: the body's `Message-Account` (RFC 3842 §5.2 names the
/// account there), else the Request-URI when it names a user, else the To URI.
fn addressee(request: &Request, account: Option<&str>) -> Option<(String, String)> {
    let user_at_host = |uri: Uri<'_>| {
        let sip = uri.as_sip()?;
        Some((sip.user()?.to_owned(), sip.host_str().to_owned()))
    };
    if let Some(account) = account {
        let account = account.trim_start_matches('<').trim_end_matches('>');
        return Uri::parse(account).ok().and_then(user_at_host);
    }
    user_at_host(request.uri()).or_else(|| user_at_host(request.to().ok()?.uri()))
}

/// Handles an out-of-dialog NOTIFY (the only kind a voicemail server sends us).
pub async fn notify(ctx: &Context, transaction: ServerTransaction) {
    let source = transaction.source().ip();
    let request = transaction.request();
    if !ctx.voicemail_trust.allows(source) {
        // Stateless, like a digest challenge: a flood from outside leaves no transaction.
        tracing::debug!(%source, "NOTIFY from outside the voicemail trust refused");
        let tag = stateless_tag(request);
        let response = request
            .response(StatusCode::FORBIDDEN)
            .reason("Source Not Trusted")
            .to_tag(tag.as_str())
            .build();
        let _ = transaction.respond_stateless(response);
        return;
    }
    let package = request.headers().event().ok().flatten();
    if !package.is_some_and(|e| e.package().eq_ignore_ascii_case(PACKAGE)) {
        let response = request
            .response(StatusCode::BAD_EVENT)
            .to_tag(new_tag())
            .header("Allow-Events", PACKAGE)
            .build();
        let _ = transaction.respond(response);
        return;
    }
    let content_type = request.headers().content_type().ok().flatten();
    if !content_type.is_some_and(|t| t.is("application", "simple-message-summary")) {
        let response = request
            .response(StatusCode::UNSUPPORTED_MEDIA_TYPE)
            .to_tag(new_tag())
            .header("Accept", CONTENT_TYPE)
            .build();
        let _ = transaction.respond(response);
        return;
    }
    let summary = match parse_body(request.body()) {
        Ok(summary) => summary,
        Err(error) => return refuse(transaction, StatusCode::BAD_REQUEST, error.reason()),
    };
    let Some((user, host)) = addressee(request, summary.account.as_deref()) else {
        return refuse(transaction, StatusCode::BAD_REQUEST, "No Mailbox Named");
    };
    let domain = hotdesk_sip::Host::parse(&host)
        .ok()
        .and_then(|h| ctx.domain_of(h));
    let (Some(domain), Ok(ext)) = (domain, Extension::new(&user)) else {
        return refuse(transaction, StatusCode::NOT_FOUND, "Unknown Mailbox");
    };
    // Awaited here, not spawned: two NOTIFYs for one mailbox must land in the order sent,
    // and only trusted sources get this far. A device's anchor extension has a box of its
    // own (shown while the desk is free); anything else names a user's.
    let set = if ctx.app.device(&domain, &ext).is_some() {
        ctx.app
            .set_device_mailbox(&domain, &ext, summary.voice)
            .await
            .map(drop)
    } else {
        ctx.app
            .set_mailbox(&domain, &ext, summary.voice)
            .await
            .map(drop)
    };
    match set {
        Ok(()) => {
            tracing::info!(%domain, user = %ext, new = summary.voice.new,
                old = summary.voice.old, %source, "mailbox set by voicemail NOTIFY");
            let _ = transaction.reply(StatusCode::OK);
        }
        Err(AppError::Refused(_) | AppError::UnknownDomain) => {
            refuse(transaction, StatusCode::NOT_FOUND, "Unknown Mailbox");
        }
        Err(error) => {
            tracing::warn!(%error, %domain, user = %ext, "cannot set mailbox from NOTIFY");
            refuse(
                transaction,
                StatusCode::SERVER_INTERNAL_ERROR,
                "Mailbox Not Saved",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hd_mwi_1_trust_takes_addresses_and_networks_v4_and_v6() {
        let trust = Trust::parse(&["127.0.0.1", "10.1.0.0/16", " fd00::/8 ", "::1", ""]).unwrap();
        for yes in [
            "127.0.0.1",
            "10.1.200.3",
            "fd12::5",
            "::1",
            "::ffff:10.1.0.9",
        ] {
            assert!(trust.allows(yes.parse().unwrap()), "{yes}");
        }
        for no in ["127.0.0.2", "10.2.0.1", "fe80::1", "::2"] {
            assert!(!trust.allows(no.parse().unwrap()), "{no}");
        }
        assert!(Trust::default().is_empty());
        assert!(!Trust::default().allows("127.0.0.1".parse().unwrap()));
        assert!(Trust::parse(&["10.0.0.0/33"]).is_err());
        assert!(Trust::parse(&["voicemail.acme.test"]).is_err());
    }

    #[test]
    fn rfc3842_5_2_body_parsed() {
        let body = b"Messages-Waiting: yes\r\nMessage-Account: sip:1004@acme.test\r\n\
                     Voice-Message: 2/1 (0/0)\r\n";
        assert_eq!(
            parse_body(body),
            Ok(Summary {
                account: Some("sip:1004@acme.test".into()),
                voice: Mailbox { new: 2, old: 1 },
            })
        );
        let bare = parse_body(b"messages-waiting: NO\nvoice-message: 0/7\n").unwrap();
        assert_eq!(bare.voice, Mailbox { new: 0, old: 7 });
        assert_eq!(bare.account, None);
    }

    #[test]
    fn rfc3842_5_2_bad_bodies_named() {
        for (body, error) in [
            (&b"Voice-Message: 1/0\r\n"[..], BodyError::MissingWaiting),
            (
                b"Messages-Waiting: maybe\r\nVoice-Message: 1/0\r\n",
                BodyError::BadWaiting,
            ),
            (b"Messages-Waiting: yes\r\n", BodyError::MissingVoice),
            (
                b"Messages-Waiting: yes\r\nVoice-Message: two/1\r\n",
                BodyError::BadVoice,
            ),
            (
                b"Messages-Waiting: yes\r\nVoice-Message: 1/1 (x)\r\n",
                BodyError::BadVoice,
            ),
            (
                b"Messages-Waiting: yes\r\nVoice-Message: -1/1\r\n",
                BodyError::BadVoice,
            ),
            (
                b"Messages-Waiting: no\r\nVoice-Message: 3/1\r\n",
                BodyError::Contradiction,
            ),
            (b"\xff\xfe", BodyError::NotText),
        ] {
            assert_eq!(
                parse_body(body),
                Err(error),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }
}
