//! Processing a REGISTER's contacts against an AOR's bindings (RFC 3261 §10.3 steps 6–8,
//! RFC 5626 §6 flows, RFC 3327 Path): a pure function of the request, the current bindings,
//! the policy and the time. Either every change applies or none (§10.3: "made visible … if
//! and only if all binding updates and additions succeed").

use std::borrow::{Borrow, Cow};

use hotdesk_core::{DomainName, Extension};
use hotdesk_sip::header::{Contact, NameAddr};
use hotdesk_sip::message::HeaderName;
use hotdesk_sip::uri::SipUri;
use hotdesk_sip::Request;
use hotdesk_store::Binding;
use jiff::{SignedDuration, Timestamp};

use super::reply::RegError;
use super::Policy;

/// The Contact header field of a REGISTER.
#[derive(Debug)]
pub enum Contacts<'a> {
    /// No Contact: a query for the current bindings (§10.2.3).
    Query,
    /// `Contact: *` (§10.2.2).
    Star,
    /// Addresses to add, refresh or remove.
    List(Vec<NameAddr<'a>>),
}

/// What save needs from a REGISTER, borrowed from it.
#[derive(Debug)]
pub struct RegisterRequest<'a> {
    /// Call-ID.
    pub call_id: &'a str,
    /// CSeq number.
    pub cseq: u32,
    /// The contacts.
    pub contacts: Contacts<'a>,
    /// The Expires header, when present and well formed.
    pub expires: Option<u32>,
    /// Path header values, in order (RFC 3327).
    pub path: Vec<&'a str>,
    /// User-Agent.
    pub user_agent: Option<&'a str>,
    /// Where the request came from, `udp:192.0.2.1:5060`.
    pub source: &'a str,
}

impl<'a> RegisterRequest<'a> {
    /// Reads the registrar's headers; a malformed Contact or Path is a 400. A malformed
    /// Expires header counts as absent (§20.19: treat as the default).
    pub fn parse(request: &'a Request, source: &'a str) -> Result<Self, RegError> {
        let headers = request.headers();
        let mut star = false;
        let mut list = Vec::new();
        for contact in headers.contacts() {
            match contact.map_err(|_| RegError::BadContact)? {
                Contact::Star => star = true,
                Contact::Address(address) => list.push(address),
            }
        }
        let contacts = match (star, list.is_empty()) {
            (true, true) => Contacts::Star,
            (true, false) => return Err(RegError::StarWithContacts),
            (false, true) => Contacts::Query,
            (false, false) => Contacts::List(list),
        };
        let path = headers
            .paths()
            .map(|p| p.map(|p| p.as_str()).map_err(|_| RegError::BadPath))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            call_id: request.call_id(),
            cseq: request.cseq().seq,
            contacts,
            expires: headers.expires().ok().flatten(),
            path,
            user_agent: headers
                .get(HeaderName::UserAgent)
                .and_then(|h| h.value_str().ok()),
            source,
        })
    }

    /// Whether a contact names an RFC 5626 flow (`+sip.instance` and `reg-id`).
    pub fn names_flows(&self) -> bool {
        let Contacts::List(addresses) = &self.contacts else {
            return false;
        };
        addresses
            .iter()
            .any(|a| a.sip_instance().is_some() && a.reg_id().ok().flatten().is_some())
    }
}

/// Why a binding left the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    /// Expires 0 or `*`.
    Unregistered,
    /// Lapsed before this request.
    Expired,
    /// A new flow of the same instance and reg-id took its place under another URI.
    Replaced,
}

/// The outcome of [`save`]: the AOR's new contact list and what changed.
#[derive(Debug, Default)]
pub struct Saved {
    /// Every live binding after the request (for the table and the 200).
    pub contacts: Vec<Binding>,
    /// Bindings added or refreshed (to write and announce).
    pub puts: Vec<Binding>,
    /// Bindings removed, and why (to delete and announce).
    pub removed: Vec<(Binding, Removal)>,
    /// A contact carried `+sip.instance` and `reg-id` (RFC 5626 outbound).
    pub outbound: bool,
}

/// The AOR a REGISTER is for.
#[derive(Debug, Clone, Copy)]
pub struct Aor<'a> {
    /// Domain.
    pub domain: &'a DomainName,
    /// User part.
    pub user: &'a Extension,
}

/// The expiry a contact asks for (§10.2.1.1): its `expires` parameter, else the Expires
/// header, else the default; malformed or overlarge parameters count as absent.
fn requested(address: &NameAddr<'_>, request: &RegisterRequest<'_>, policy: &Policy) -> u32 {
    address
        .expires()
        .ok()
        .flatten()
        .or(request.expires)
        .unwrap_or(policy.default_expires)
}

/// The binding a matching contact already has: the same instance and reg-id (RFC 5626
/// §6, a new flow replaces the old), the same instance without reg-id (RFC 5627), or an
/// equivalent URI (RFC 3261 §19.1.4) when no instance is given.
fn find<B: Borrow<Binding>>(
    contacts: &[B],
    uri: &SipUri<'_>,
    instance: Option<&str>,
    reg_id: Option<u32>,
) -> Option<usize> {
    contacts
        .iter()
        .position(|b| matches(b.borrow(), uri, instance, reg_id))
}

fn matches(b: &Binding, uri: &SipUri<'_>, instance: Option<&str>, reg_id: Option<u32>) -> bool {
    match instance {
        Some(instance) => b.instance.as_deref() == Some(instance) && b.reg_id == reg_id,
        None => {
            // The same text is the same URI; the parse is for equivalent spellings.
            b.instance.is_none()
                && (b.contact == uri.as_str()
                    || SipUri::parse(&b.contact).is_ok_and(|stored| stored.equivalent(uri)))
        }
    }
}

/// §10.3 step 7: with the same Call-ID, only a higher CSeq may change a binding. A binding
/// this very request made (same Call-ID and CSeq, listed twice) may be changed again.
fn check_order(
    binding: &Binding,
    request: &RegisterRequest<'_>,
    made_here: bool,
) -> Result<(), RegError> {
    if binding.call_id == request.call_id && request.cseq <= binding.cseq && !made_here {
        return Err(RegError::OutOfOrder);
    }
    Ok(())
}

/// The common REGISTER, a phone renewing its one binding (same contact, route and
/// attributes; new expiry, CSeq and maybe Call-ID), done in place: `Some((index, outbound))`
/// once `current[index]` is renewed. `None`, with `current` untouched, for anything else —
/// another contact count, a new, removed or changed binding, a lapsed one to drop, an
/// expiry out of bounds, an out-of-order CSeq — which [`save`] then handles (it gives the
/// same result as this when this applies).
pub fn renew(
    current: &mut [Binding],
    request: &RegisterRequest<'_>,
    policy: &Policy,
    now: Timestamp,
) -> Option<(usize, bool)> {
    let Contacts::List(addresses) = &request.contacts else {
        return None;
    };
    let [address] = addresses.as_slice() else {
        return None;
    };
    let uri = address.uri();
    let uri = uri.as_sip()?;
    let expires = requested(address, request, policy);
    if expires == 0
        || expires < policy.min_expires
        || current.len() > policy.max_contacts
        || current.iter().any(|b| b.expires_at <= now)
    {
        return None;
    }
    let instance = address.sip_instance();
    let reg_id = address.reg_id().ok().flatten();
    let q = address.q().ok().flatten().map(|q| q.0);
    let index = find(current, uri, instance, reg_id)?;
    let binding = &mut current[index];
    let same = binding.contact == uri.as_str()
        && binding.instance.as_deref() == instance
        && binding.reg_id == reg_id
        && binding.source == request.source
        && binding.q == q
        && binding.user_agent.as_deref() == request.user_agent
        && binding.path.len() == request.path.len()
        && binding.path.iter().zip(&request.path).all(|(a, b)| a == b);
    if !same || check_order(binding, request, false).is_err() {
        return None;
    }
    binding.expires_at = now
        .checked_add(SignedDuration::from_secs(i64::from(
            expires.min(policy.max_expires),
        )))
        .unwrap_or(Timestamp::MAX);
    binding.cseq = request.cseq;
    if binding.call_id != request.call_id {
        // Reuses the string's buffer when it is large enough (phones keep their Call-ID).
        binding.call_id.clear();
        binding.call_id.push_str(request.call_id);
    }
    Some((index, instance.is_some() && reg_id.is_some()))
}

/// Applies `request` to `current` (the AOR's bindings) at `now`. Bindings the request
/// leaves alone are copied; the ones it replaces are only read.
pub fn save(
    current: &[Binding],
    request: &RegisterRequest<'_>,
    aor: Aor<'_>,
    policy: &Policy,
    now: Timestamp,
) -> Result<Saved, RegError> {
    let mut removed = Vec::new();
    let mut contacts: Vec<Cow<'_, Binding>> = Vec::with_capacity(current.len() + 1);
    for binding in current {
        if binding.expires_at <= now {
            removed.push((binding.clone(), Removal::Expired));
        } else {
            contacts.push(Cow::Borrowed(binding));
        }
    }
    let mut outbound = false;
    let mut made_here: Vec<usize> = Vec::new();
    match &request.contacts {
        Contacts::Query => {}
        Contacts::Star => {
            if request.expires != Some(0) {
                return Err(RegError::StarExpires);
            }
            for binding in &contacts {
                check_order(binding, request, false)?;
            }
            removed.extend(
                contacts
                    .drain(..)
                    .map(|b| (b.into_owned(), Removal::Unregistered)),
            );
        }
        Contacts::List(addresses) => {
            // Check every contact before changing anything (423 names the minimum).
            let mut wanted = Vec::with_capacity(addresses.len());
            for address in addresses {
                let uri = address.uri();
                let uri = *uri.as_sip().ok_or(RegError::ContactScheme)?;
                let expires = requested(address, request, policy);
                if expires != 0 && expires < policy.min_expires {
                    return Err(RegError::IntervalTooBrief {
                        min: policy.min_expires,
                    });
                }
                wanted.push((address, uri, expires.min(policy.max_expires)));
            }
            for (address, uri, expires) in wanted {
                let instance = address.sip_instance();
                let reg_id = address.reg_id().ok().flatten();
                outbound |= instance.is_some() && reg_id.is_some();
                let found = find(&contacts, &uri, instance, reg_id);
                if let Some(i) = found {
                    check_order(&contacts[i], request, made_here.contains(&i))?;
                }
                let binding = (expires > 0).then(|| Binding {
                    domain: aor.domain.clone(),
                    aor: aor.user.clone(),
                    contact: uri.as_str().to_owned(),
                    source: request.source.to_owned(),
                    expires_at: now
                        .checked_add(SignedDuration::from_secs(i64::from(expires)))
                        .unwrap_or(Timestamp::MAX),
                    call_id: request.call_id.to_owned(),
                    cseq: request.cseq,
                    instance: instance.map(str::to_owned),
                    reg_id,
                    q: address.q().ok().flatten().map(|q| q.0),
                    path: request.path.iter().map(|p| (*p).to_owned()).collect(),
                    user_agent: request.user_agent.map(str::to_owned),
                });
                match (found, binding) {
                    (Some(i), None) => {
                        let old = contacts.remove(i);
                        made_here.retain(|&m| m != i);
                        for m in &mut made_here {
                            if *m > i {
                                *m -= 1;
                            }
                        }
                        removed.push((old.into_owned(), Removal::Unregistered));
                    }
                    (Some(i), Some(binding)) => {
                        let replaces_uri = contacts[i].contact != binding.contact;
                        let old = std::mem::replace(&mut contacts[i], Cow::Owned(binding));
                        if replaces_uri {
                            removed.push((old.into_owned(), Removal::Replaced));
                        }
                        if !made_here.contains(&i) {
                            made_here.push(i);
                        }
                    }
                    (None, Some(binding)) => {
                        made_here.push(contacts.len());
                        contacts.push(Cow::Owned(binding));
                    }
                    (None, None) => {}
                }
            }
            if contacts.len() > policy.max_contacts {
                return Err(RegError::TooManyContacts {
                    max: policy.max_contacts,
                });
            }
        }
    }
    // What this request left in place is what to write: a contact listed twice is written
    // once, one listed and then removed not at all.
    made_here.sort_unstable();
    let puts = made_here
        .iter()
        .filter_map(|&i| contacts.get(i).map(|b| b.as_ref().clone()))
        .collect();
    Ok(Saved {
        contacts: contacts.into_iter().map(Cow::into_owned).collect(),
        puts,
        removed,
        outbound,
    })
}

#[cfg(test)]
#[path = "save_tests.rs"]
mod tests;
