//! Where a new call goes: the routing rules of SPEC §2 (HD-ROUTE-1..5, -7, -9) applied to
//! the caller's device and the dialled number, read from the in-memory view and the
//! bindings table in one pass (no store access, nothing awaited).

use std::collections::VecDeque;
use std::time::Duration;

use hotdesk_core::phone_menu::Flow;
use hotdesk_core::queue::targets_for_member;
use hotdesk_core::routing::{
    caller_identity_for_device, check_dial_from_device, route_to_anchor, targets_for_user,
    AnchorRoute, CallerIdentity, RingTarget,
};
use hotdesk_core::{DomainName, DomainSettings, Extension, Queue, Trunk};
use hotdesk_sip::transport::Target;
use hotdesk_sip::StatusCode;
use jiff::Timestamp;

use super::trunk::TrunkAuth;
use crate::registrar::{target_of, Bindings};
use crate::state::State;

/// Most contacts one call forks to.
pub(super) const MAX_FORKS: usize = 32;

/// How many not-reachable forwards are followed before giving up (loops).
const MAX_FORWARDS: usize = 3;

/// Digits from which a number is off-net (HD-ROUTE-9): E.164 with `+`, or national numbers.
const OFF_NET_DIGITS: usize = 7;

/// One registered contact to ring.
#[derive(Debug, Clone)]
pub(super) struct Contact {
    /// Request-URI: the registered contact.
    pub uri: String,
    /// Where to send (the REGISTER's source, received/rport applied).
    pub target: Target,
    /// A trunk's digest credentials, for the fork to answer its challenge (HD-ROUTE-9);
    /// `None` for phones.
    pub auth: Option<Box<TrunkAuth>>,
}

/// The caller as authenticated: a device (anchor) or a user's own phone.
#[derive(Debug, Clone)]
pub(super) struct Caller {
    /// Identity presented on the new leg (HD-ROUTE-3).
    pub identity: CallerIdentity,
    /// The device's anchor extension; `None` for a user's personal registration.
    pub anchor: Option<Extension>,
}

/// One step of a staged call: these contacts ring together for `ring` at most.
#[derive(Debug)]
pub(super) struct Stage {
    /// Contacts forked to at once (first answer wins, HD-ROUTE-1).
    pub contacts: Vec<Contact>,
    /// How long they ring before the next stage.
    pub ring: Duration,
}

/// A call that rings in stages: a queue's members (HD-ROUTE-7) or a user's phones then
/// their forwarding (HD-ROUTE-1: busy / no answer fall to it). Each stage rings until its
/// ring time runs out or all its forks failed; then the next, then `fallback`.
#[derive(Debug, Default)]
pub(super) struct Hunt {
    /// Stages still to ring.
    pub stages: VecDeque<Stage>,
    /// A number routed afresh when every stage failed (forwarding, queue overflow).
    pub fallback: Option<String>,
    /// Index of the first fork of the stage ringing now (earlier forks are cancelled).
    pub stage_start: usize,
    /// Fallbacks followed so far (loop guard).
    pub hops: usize,
    /// What the caller gets when everything failed, instead of the best failure of the
    /// last stage (a queue: 480 once every member was tried).
    pub exhausted: Option<(StatusCode, String)>,
}

/// What to do with a new call.
#[derive(Debug)]
pub(super) enum Decision {
    /// Answer the caller with this status and reason.
    Refuse(StatusCode, &'static str),
    /// A feature code (log-in, log-out, toggle, voice portal) or the voice portal's access
    /// number (HD-LOGIN-8): answered by the IVR with this script.
    Ivr(Flow),
    /// Fork to these contacts (HD-ROUTE-1).
    Ring(Vec<Contact>),
    /// Ring in stages (a user with forwarding, HD-ROUTE-1).
    Hunt(Hunt),
    /// A queue or ring group (HD-ROUTE-7): its stages depend on the round-robin position.
    Queue(Queue),
    /// Send to a trunk (HD-ROUTE-9) or the emergency trunk (HD-ROUTE-6).
    Trunk {
        /// The trunk.
        trunk: Trunk,
        /// The number sent to the trunk: the dialled one, or where forwarding led.
        number: String,
        /// An emergency call.
        emergency: bool,
    },
}

/// A call's routing: who calls (as what) and where it goes.
#[derive(Debug)]
pub(super) struct Route {
    /// The caller.
    pub caller: Caller,
    /// Whether the dialled number leaves the domain.
    pub off_net: bool,
    /// What to do.
    pub decision: Decision,
}

fn is_off_net(dialled: &str) -> bool {
    let digits = dialled.strip_prefix('+').unwrap_or(dialled);
    (dialled.starts_with('+') || digits.len() >= OFF_NET_DIGITS)
        && !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
}

/// The IVR script `dialled` starts: a feature code, or the voice portal's access number.
fn ivr_flow(settings: &DomainSettings, dialled: &str) -> Option<Flow> {
    if settings.is_voice_portal_number(dialled) {
        return Some(Flow::VoicePortal);
    }
    Flow::classify(&settings.codes, dialled)
}

/// Resolves the caller `user` (the digest username) of `domain`: a device, or a user
/// registered with their own credentials. `None` if neither exists.
fn caller(state: &State, domain: &DomainName, user: &Extension, off_net: bool) -> Option<Caller> {
    let tenant = state.tenants.get(domain)?;
    if let Some(device) = tenant.devices.get(user) {
        let identity = caller_identity_for_device(&state.desks, &state.tenants, device, off_net);
        return Some(Caller {
            identity,
            anchor: Some(device.extension.clone()),
        });
    }
    let person = tenant.users.get(user)?;
    let number = match (&person.did, off_net) {
        (Some(did), true) => did.clone(),
        _ => person.extension.to_string(),
    };
    Some(Caller {
        identity: CallerIdentity {
            number,
            name: Some(person.display_name()).filter(|n| !n.is_empty()),
            user: Some(person.extension.clone()),
        },
        anchor: None,
    })
}

/// Decides where a call from `user` (authenticated) to `dialled` goes.
pub(super) fn route(
    state: &State,
    bindings: &Bindings,
    domain: &DomainName,
    user: &Extension,
    dialled: &str,
    now: Timestamp,
) -> Route {
    let off_net = is_off_net(dialled);
    let Some(mut caller) = caller(state, domain, user, off_net) else {
        // Digest users are devices or users; a record deleted meanwhile lands here.
        return Route {
            caller: Caller {
                identity: CallerIdentity {
                    number: user.to_string(),
                    name: None,
                    user: None,
                },
                anchor: None,
            },
            off_net,
            decision: Decision::Refuse(StatusCode::FORBIDDEN, "Unknown Caller"),
        };
    };
    let decision = decide(state, bindings, domain, user, dialled, off_net, now);
    // HD-ROUTE-6: an emergency call presents the number that rings this physical device
    // back (its DID, else its anchor), whoever is logged in.
    if let Decision::Trunk {
        emergency: true, ..
    } = decision
    {
        let device = state.tenants.get(domain).and_then(|t| t.devices.get(user));
        if let Some(device) = device {
            caller.identity.number = device
                .did
                .clone()
                .unwrap_or_else(|| device.extension.to_string());
        }
    }
    Route {
        caller,
        off_net,
        decision,
    }
}

fn decide(
    state: &State,
    bindings: &Bindings,
    domain: &DomainName,
    user: &Extension,
    dialled: &str,
    off_net: bool,
    now: Timestamp,
) -> Decision {
    let Some(tenant) = state.tenants.get(domain) else {
        return Decision::Refuse(StatusCode::NOT_FOUND, "Unknown Domain");
    };
    let settings = &tenant.domain.settings;
    // HD-ROUTE-5: a free hot desk dials only emergency numbers and the log-in codes.
    if let Some(device) = tenant.devices.get(user) {
        if check_dial_from_device(&state.desks, settings, device, dialled).is_err() {
            return Decision::Refuse(StatusCode::FORBIDDEN, "This Phone Is Not Logged In");
        }
    }
    if let Some(flow) = ivr_flow(settings, dialled) {
        return Decision::Ivr(flow);
    }
    // HD-ROUTE-6: emergency numbers go to the emergency trunk, whatever the device state.
    if settings.is_emergency(dialled) {
        return match tenant.trunks.values().find(|t| t.emergency) {
            Some(trunk) => Decision::Trunk {
                trunk: trunk.clone(),
                number: dialled.to_owned(),
                emergency: true,
            },
            None => Decision::Refuse(StatusCode::SERVICE_UNAVAILABLE, "No Emergency Trunk"),
        };
    }
    resolve(state, bindings, domain, dialled, off_net, now)
}

/// An on-net or off-net number, following not-reachable forwards (HD-ROUTE-1, -4, -9).
fn resolve(
    state: &State,
    bindings: &Bindings,
    domain: &DomainName,
    dialled: &str,
    off_net: bool,
    now: Timestamp,
) -> Decision {
    let Some(tenant) = state.tenants.get(domain) else {
        return Decision::Refuse(StatusCode::NOT_FOUND, "Unknown Domain");
    };
    let mut number = dialled.to_owned();
    for _ in 0..MAX_FORWARDS {
        match on_net(state, bindings, domain, &number, now) {
            OnNet::Contacts(contacts) if contacts.is_empty() => {
                return Decision::Refuse(StatusCode::TEMPORARILY_UNAVAILABLE, "Not Registered")
            }
            OnNet::Contacts(contacts) => return Decision::Ring(contacts),
            OnNet::Hunt(hunt) => return Decision::Hunt(hunt),
            OnNet::Queue(queue) => return Decision::Queue(queue),
            OnNet::Forward(to) => number = to,
            OnNet::NotReachable => {
                return Decision::Refuse(StatusCode::TEMPORARILY_UNAVAILABLE, "Not Reachable")
            }
            OnNet::Unknown if off_net || is_off_net(&number) => {
                // HD-ROUTE-9: off-net numbers go to the domain's (non-emergency) trunk.
                return match tenant.trunks.values().find(|t| !t.emergency) {
                    Some(trunk) => Decision::Trunk {
                        trunk: trunk.clone(),
                        number,
                        emergency: false,
                    },
                    None => Decision::Refuse(StatusCode::NOT_FOUND, "No Trunk For Off-Net Number"),
                };
            }
            OnNet::Unknown => return Decision::Refuse(StatusCode::NOT_FOUND, "Unknown Extension"),
        }
    }
    Decision::Refuse(StatusCode::LOOP_DETECTED, "Forwarding Loop")
}

/// Where a staged call goes when every stage failed: `number` (a user's forwarding or a
/// queue's overflow) routed like a dialled number, on-net or through the trunk.
pub(super) fn fallback(
    state: &State,
    bindings: &Bindings,
    domain: &DomainName,
    number: &str,
    now: Timestamp,
) -> Decision {
    resolve(state, bindings, domain, number, is_off_net(number), now)
}

/// HD-ROUTE-7: the stages of one call to `queue`, round-robin starting at member `start`.
/// Members with nothing to ring (unregistered, an agent not offered queue calls: HD-LOGIN-10)
/// are skipped.
pub(super) fn queue_hunt(
    state: &State,
    bindings: &Bindings,
    queue: &Queue,
    start: usize,
    now: Timestamp,
) -> Hunt {
    let ring = Duration::from_secs(u64::from(queue.ring_secs));
    let stages = queue
        .stages(start)
        .into_iter()
        .map(|members| {
            let targets: Vec<RingTarget> = members
                .into_iter()
                .flat_map(|m| targets_for_member(&state.desks, &state.tenants, &queue.domain, m))
                .collect();
            Stage {
                contacts: contacts(bindings, &queue.domain, &targets, now),
                ring,
            }
        })
        .filter(|stage| !stage.contacts.is_empty())
        .collect();
    Hunt {
        stages,
        fallback: queue.overflow.clone(),
        exhausted: Some((
            StatusCode::TEMPORARILY_UNAVAILABLE,
            "No Queue Member Answered".to_owned(),
        )),
        ..Hunt::default()
    }
}

/// HD-ROUTE-9 inbound, HD-ROUTE-6 callback: a call from a trunk to `dialled` — a device
/// that made an emergency call within its callback window (`callback`: its anchor) rings
/// whoever is logged in; else the voice portal's access number (HD-LOGIN-8) is answered
/// by the IVR; else a user's or device's DID, else an on-net number. Feature codes are no
/// numbers from outside.
pub(super) fn inbound(
    state: &State,
    bindings: &Bindings,
    domain: &DomainName,
    dialled: &str,
    callback: Option<&Extension>,
    now: Timestamp,
) -> Decision {
    if let Some(anchor) = callback {
        let targets = [RingTarget::Device(anchor.clone())];
        let found = contacts(bindings, domain, &targets, now);
        if !found.is_empty() {
            return Decision::Ring(found);
        }
    }
    let Some(tenant) = state.tenants.get(domain) else {
        return Decision::Refuse(StatusCode::NOT_FOUND, "Unknown Domain");
    };
    if tenant.domain.settings.is_voice_portal_number(dialled) {
        return Decision::Ivr(Flow::VoicePortal);
    }
    let did = |d: &Option<String>| d.as_deref() == Some(dialled);
    let number = tenant
        .users
        .values()
        .find(|u| did(&u.did))
        .map(|u| u.extension.to_string())
        .or_else(|| {
            tenant
                .devices
                .values()
                .find(|d| did(&d.did))
                .map(|d| d.extension.to_string())
        })
        .unwrap_or_else(|| dialled.to_owned());
    match on_net(state, bindings, domain, &number, now) {
        OnNet::Contacts(found) if !found.is_empty() => Decision::Ring(found),
        OnNet::Hunt(hunt) => Decision::Hunt(hunt),
        OnNet::Queue(queue) => Decision::Queue(queue),
        OnNet::Contacts(_) | OnNet::NotReachable | OnNet::Forward(_) => {
            Decision::Refuse(StatusCode::TEMPORARILY_UNAVAILABLE, "Not Reachable")
        }
        OnNet::Unknown => Decision::Refuse(StatusCode::NOT_FOUND, "Unknown Number"),
    }
}

enum OnNet {
    Contacts(Vec<Contact>),
    Hunt(Hunt),
    Queue(Queue),
    Forward(String),
    NotReachable,
    Unknown,
}

/// An on-net number: a user (HD-ROUTE-1, -2) or a device anchor (HD-ROUTE-4).
fn on_net(
    state: &State,
    bindings: &Bindings,
    domain: &DomainName,
    number: &str,
    now: Timestamp,
) -> OnNet {
    let Some(tenant) = state.tenants.get(domain) else {
        return OnNet::Unknown;
    };
    let Ok(ext) = Extension::new(number) else {
        return OnNet::Unknown;
    };
    let targets = if let Some(user) = tenant.users.get(&ext) {
        let targets = targets_for_user(&state.desks, &tenant.domain.settings, user);
        let contacts = contacts(bindings, domain, &targets, now);
        // Unregistered: the user's forwarding applies at once, else 480; registered: their
        // phones ring, and busy or no answer fall to the forwarding (HD-ROUTE-1, HD-LOGOUT-5).
        return match (&user.forward_to, contacts.is_empty()) {
            (Some(to), true) => OnNet::Forward(to.clone()),
            (Some(to), false) => OnNet::Hunt(Hunt {
                stages: VecDeque::from([Stage {
                    contacts,
                    ring: Duration::from_secs(u64::from(user.no_answer_secs())),
                }]),
                fallback: Some(to.clone()),
                ..Hunt::default()
            }),
            (None, _) => OnNet::Contacts(contacts),
        };
    } else if let Some(device) = tenant.devices.get(&ext) {
        match route_to_anchor(&state.desks, device) {
            AnchorRoute::Ring => vec![RingTarget::Device(ext)],
            AnchorRoute::NotReachable {
                forward_to: Some(to),
            } => return OnNet::Forward(to),
            AnchorRoute::NotReachable { forward_to: None } => return OnNet::NotReachable,
        }
    } else if let Some(queue) = tenant.queues.get(&ext) {
        return OnNet::Queue(queue.clone());
    } else {
        return OnNet::Unknown;
    };
    OnNet::Contacts(contacts(bindings, domain, &targets, now))
}

fn contacts(
    bindings: &Bindings,
    domain: &DomainName,
    targets: &[RingTarget],
    now: Timestamp,
) -> Vec<Contact> {
    let mut out = Vec::new();
    for target in targets {
        let (RingTarget::Device(aor) | RingTarget::Personal(aor)) = target;
        for binding in bindings.lookup(domain, aor, now) {
            let Some(target) = target_of(&binding.source) else {
                continue;
            };
            let uri = binding
                .contact
                .trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_owned();
            if out.len() < MAX_FORKS && !out.iter().any(|c: &Contact| c.uri == uri) {
                out.push(Contact {
                    uri,
                    target,
                    auth: None,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hd_route_9_off_net_numbers() {
        assert!(is_off_net("+15551234567"));
        assert!(is_off_net("5551234"));
        assert!(!is_off_net("1004"));
        assert!(!is_off_net("*44"));
        assert!(!is_off_net("+"));
    }
}
