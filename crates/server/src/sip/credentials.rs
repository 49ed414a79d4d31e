//! Digest HA1 values per (domain, extension), derived once from the sealed SIP password and
//! kept in memory (HD-SEC-2, HD-SEC-3): the clear password exists only while the two HA1
//! values (MD5, SHA-256) are computed, and nothing here is logged.
//!
//! A digest user is an extension: a device's anchor extension, or a user with a SIP password
//! (a personal phone or softphone registers as its owner, SPEC §4). When a personal device
//! and its owner both have a password, either is accepted. A cached entry remembers the
//! sealed text it came from; a password change re-seals (fresh nonce), so the next request
//! sees a different text and derives again. No store read happens here: the sealed values
//! come from the in-memory view.

use std::collections::HashMap;

use foldhash::fast::RandomState;
use hotdesk_core::DomainName;
use hotdesk_sip::digest::{ha1, HashFunction, HexDigest};

use crate::state::App;

/// HA1 for both hash functions, from one password.
#[derive(Clone, Copy)]
struct Derived {
    md5: HexDigest,
    sha256: HexDigest,
}

impl Derived {
    fn for_hash(&self, hash: HashFunction) -> &HexDigest {
        match hash {
            HashFunction::Md5 => &self.md5,
            HashFunction::Sha256 => &self.sha256,
        }
    }
}

/// One cached password: the sealed text it was derived from, and its HA1 values.
struct Source {
    sealed: String,
    derived: Option<Derived>,
}

#[derive(Default)]
struct Entry {
    device: Option<Source>,
    user: Option<Source>,
}

/// What the view knows about a digest user, and the HA1 values to try.
#[derive(Clone, Copy, Default)]
pub struct Ha1Set {
    device: Option<Derived>,
    user: Option<Derived>,
    /// A device has this anchor extension.
    pub is_device: bool,
    /// A user has this extension.
    pub is_user: bool,
}

impl Ha1Set {
    /// The HA1 values (hex) to verify a response made with `hash` against.
    pub fn candidates(&self, hash: HashFunction) -> impl Iterator<Item = &str> + '_ {
        [self.device.as_ref(), self.user.as_ref()]
            .into_iter()
            .flatten()
            .map(move |d| d.for_hash(hash).as_str())
    }

    /// No password to check against: the digest user does not exist here, or has no SIP
    /// password.
    pub fn is_empty(&self) -> bool {
        self.device.is_none() && self.user.is_none()
    }
}

/// The cache: domain → extension → entry. Hashed with seeded foldhash rather than SipHash:
/// every authenticated request does these lookups. The weaker hash is safe here because only
/// existing extensions and domains are ever inserted; a client's username is looked up,
/// never stored, so no one can fill the maps with colliding keys.
#[derive(Default)]
pub struct Ha1Cache {
    domains: HashMap<String, Extensions, RandomState>,
}

type Extensions = HashMap<String, Entry, RandomState>;

impl std::fmt::Debug for Ha1Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // HA1 values are password equivalents (HD-SEC-2): count them, never print them.
        f.debug_struct("Ha1Cache")
            .field("entries", &self.len())
            .finish()
    }
}

fn same(cached: Option<&Source>, current: Option<&str>) -> bool {
    match (cached, current) {
        (None, None) => true,
        (Some(c), Some(s)) => c.sealed == s,
        _ => false,
    }
}

impl Ha1Cache {
    /// The HA1 values of `ext` in `domain` (realm = domain name).
    pub fn lookup(&mut self, app: &App, domain: &DomainName, ext: &str) -> Ha1Set {
        // Searched by `&str` (no owned key per request): a name that is no extension simply
        // matches nothing.
        let (device, user, is_device, is_user) = {
            let state = app.read();
            let Some(tenant) = state.tenants.get(domain) else {
                return Ha1Set::default();
            };
            let device = tenant.devices.get(ext);
            let user = tenant.users.get(ext);
            let device_sealed = device.and_then(|d| d.sip_secret.as_deref());
            let user_sealed = user.and_then(|u| u.sip_secret.as_deref());
            let cached = self.domains.get(domain.as_str()).and_then(|m| m.get(ext));
            if let Some(entry) = cached {
                if same(entry.device.as_ref(), device_sealed)
                    && same(entry.user.as_ref(), user_sealed)
                {
                    return Ha1Set {
                        device: entry.device.as_ref().and_then(|s| s.derived),
                        user: entry.user.as_ref().and_then(|s| s.derived),
                        is_device: device.is_some(),
                        is_user: user.is_some(),
                    };
                }
            }
            (
                device_sealed.map(str::to_owned),
                user_sealed.map(str::to_owned),
                device.is_some(),
                user.is_some(),
            )
        };
        // Derive outside the read guard: opening is an AES-GCM decryption.
        let derive = |sealed: String| {
            let derived = match app.server_key().open(&sealed) {
                Ok(password) => Some(Derived {
                    md5: ha1(HashFunction::Md5, ext, domain.as_str(), password.expose()),
                    sha256: ha1(
                        HashFunction::Sha256,
                        ext,
                        domain.as_str(),
                        password.expose(),
                    ),
                }),
                Err(error) => {
                    // A password sealed under another key: nobody can authenticate with it.
                    tracing::warn!(%domain, extension = ext, %error, "cannot open SIP password");
                    None
                }
            };
            Source { sealed, derived }
        };
        let entry = Entry {
            device: device.map(derive),
            user: user.map(derive),
        };
        let set = Ha1Set {
            device: entry.device.as_ref().and_then(|s| s.derived),
            user: entry.user.as_ref().and_then(|s| s.derived),
            is_device,
            is_user,
        };
        if is_device || is_user {
            let domain_entries = self.domains.entry(domain.as_str().to_owned()).or_default();
            domain_entries.insert(ext.to_owned(), entry);
        } else if let Some(domain_entries) = self.domains.get_mut(domain.as_str()) {
            domain_entries.remove(ext);
        }
        set
    }

    /// Cached entries.
    pub fn len(&self) -> usize {
        self.domains.values().map(Extensions::len).sum()
    }

    /// True when nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
