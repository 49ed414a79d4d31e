//! Digest HA1 values per (domain, extension), derived once from the sealed SIP password and
//! kept in memory (HD-SEC-2, HD-SEC-3): the clear password exists only while the two HA1
//! values (MD5, SHA-256) are computed, and nothing here is logged.
//!
//! A digest user is an extension: a device's anchor extension, or a user with a SIP password
//! (a personal phone or softphone registers as its owner, SPEC §4). When a personal device
//! and its owner both have a password, either is accepted. A cached entry remembers the
//! sealed text it came from; a password change re-seals (fresh nonce), so the next request
//! sees a different text and derives again. That check is made only when the view has
//! changed since the entry was last checked ([`App::view_generation`]): otherwise a lookup
//! is one probe of this cache, not four of the view's maps and two string comparisons. No
//! store read happens here: the sealed values come from the in-memory view.

mod extensions;

use std::collections::HashMap;

use foldhash::fast::RandomState;
use hotdesk_core::DomainName;
use hotdesk_sip::digest::{ha1, HashFunction, HexDigest};

use crate::state::App;
use extensions::Extensions;

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

/// A cached digest user: HA1 values and what the view said, as of view generation
/// `checked` ([`App::view_generation`]).
struct Entry {
    device: Option<Source>,
    user: Option<Source>,
    is_device: bool,
    is_user: bool,
    checked: u64,
}

impl Entry {
    fn set(&self, hash: HashFunction) -> Ha1Set {
        let value = |source: &Option<Source>| {
            let derived = source.as_ref().and_then(|s| s.derived.as_ref());
            derived.map(|d| *d.for_hash(hash))
        };
        Ha1Set {
            device: value(&self.device),
            user: value(&self.user),
            is_device: self.is_device,
            is_user: self.is_user,
        }
    }
}

/// What the view knows about a digest user, and the HA1 values of one hash function to try
/// (copied out on every REGISTER: the other function's values would double the bytes).
#[derive(Clone, Copy, Default)]
pub struct Ha1Set {
    device: Option<HexDigest>,
    user: Option<HexDigest>,
    /// A device has this anchor extension.
    pub is_device: bool,
    /// A user has this extension.
    pub is_user: bool,
}

impl Ha1Set {
    /// The HA1 values (hex) to verify a response against.
    pub fn candidates(&self) -> impl Iterator<Item = &str> + '_ {
        [self.device.as_ref(), self.user.as_ref()]
            .into_iter()
            .flatten()
            .map(HexDigest::as_str)
    }

    /// No password to check against: the digest user does not exist here, or has no SIP
    /// password.
    pub fn is_empty(&self) -> bool {
        self.device.is_none() && self.user.is_none()
    }
}

/// The cache: domain → extension → entry ([`Extensions`], which can be prefetched). Hashed
/// with seeded foldhash rather than SipHash: every authenticated request does these
/// lookups. The weaker hash is safe here because only existing extensions and domains are
/// ever inserted; a client's username is looked up, never stored, so no one can fill the
/// maps with colliding keys.
#[derive(Default)]
pub struct Ha1Cache {
    domains: HashMap<String, Extensions<Entry>, RandomState>,
}

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
    /// Starts loading where `ext` of `domain` is indexed: a first step, ahead of
    /// [`Self::prefetch_entry`].
    pub fn prefetch_index(&self, domain: &str, ext: &str) {
        if let Some(extensions) = self.domains.get(domain) {
            extensions.prefetch_index(ext);
        }
    }

    /// Starts loading the entry of `ext` of `domain`, ahead of [`Self::lookup`].
    pub fn prefetch_entry(&self, domain: &str, ext: &str) {
        if let Some(extensions) = self.domains.get(domain) {
            extensions.prefetch_entry(ext);
        }
    }

    /// The HA1 values for `hash` of `ext` in `domain` (realm = domain name).
    pub fn lookup(
        &mut self,
        app: &App,
        domain: &DomainName,
        ext: &str,
        hash: HashFunction,
    ) -> Ha1Set {
        // Read before the view (see `App::view_generation`).
        let generation = app.view_generation();
        // Searched by `&str` (no owned key per request): a name that is no extension simply
        // matches nothing.
        let cached = self
            .domains
            .get_mut(domain.as_str())
            .and_then(|m| m.get_mut(ext));
        if let Some(entry) = cached.as_ref() {
            if entry.checked == generation {
                return entry.set(hash);
            }
        }
        let (device, user, is_device, is_user) = {
            let state = app.read();
            let Some(tenant) = state.tenants.get(domain) else {
                return Ha1Set::default();
            };
            let device = tenant.devices.get(ext);
            let user = tenant.users.get(ext);
            let device_sealed = device.and_then(|d| d.sip_secret.as_deref());
            let user_sealed = user.and_then(|u| u.sip_secret.as_deref());
            if let Some(entry) = cached {
                if same(entry.device.as_ref(), device_sealed)
                    && same(entry.user.as_ref(), user_sealed)
                {
                    entry.is_device = device.is_some();
                    entry.is_user = user.is_some();
                    entry.checked = generation;
                    return entry.set(hash);
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
            is_device,
            is_user,
            checked: generation,
        };
        let set = entry.set(hash);
        if is_device || is_user {
            let domain_entries = self.domains.entry(domain.as_str().to_owned()).or_default();
            domain_entries.insert(ext, entry);
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

#[cfg(test)]
mod tests {
    use hotdesk_core::Extension;
    use serde_json::json;

    use super::*;
    use crate::secrets::ServerKey;
    use crate::state::{AppConfig, NewUser, UserPatch};

    fn md5(set: &Ha1Set) -> Vec<String> {
        set.candidates().map(str::to_owned).collect()
    }

    fn patch(value: serde_json::Value) -> UserPatch {
        serde_json::from_value(value).expect("patch")
    }

    // HD-SEC-3: a SIP password changed or removed through the API is the one checked from
    // the next request on, though lookups between changes do not read the view.
    #[tokio::test]
    async fn hd_sec_3_password_changes_reach_the_ha1_cache() {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("h.db").display());
        let config = AppConfig::new(url, ServerKey::from_bytes([7; 32]));
        let app = App::open(config).await.expect("app");
        let domain = DomainName::new("example.com").expect("domain");
        app.create_domain(domain.clone(), None)
            .await
            .expect("domain created");
        let new: NewUser = serde_json::from_value(json!({
            "extension": "1001", "first_name": "Ada", "sip_password": "first-secret"
        }))
        .expect("user");
        app.create_user(&domain, new).await.expect("user created");
        let ext = Extension::new("1001").expect("extension");
        let first = ha1(HashFunction::Md5, "1001", "example.com", "first-secret");
        let second = ha1(HashFunction::Md5, "1001", "example.com", "second-secret");

        let mut cache = Ha1Cache::default();
        let set = cache.lookup(&app, &domain, "1001", HashFunction::Md5);
        assert!(set.is_user && !set.is_device);
        assert_eq!(md5(&set), [first.as_str()]);
        let sha256 = cache.lookup(&app, &domain, "1001", HashFunction::Sha256);
        let first_sha256 = ha1(HashFunction::Sha256, "1001", "example.com", "first-secret");
        assert_eq!(md5(&sha256), [first_sha256.as_str()], "the hash asked for");
        let unchanged = app.view_generation();
        assert_eq!(
            md5(&cache.lookup(&app, &domain, "1001", HashFunction::Md5)),
            [first.as_str()]
        );
        assert_eq!(app.view_generation(), unchanged, "a lookup changes nothing");

        app.update_user(
            &domain,
            &ext,
            patch(json!({ "sip_password": "second-secret" })),
        )
        .await
        .expect("password changed");
        assert_ne!(app.view_generation(), unchanged);
        assert_eq!(
            md5(&cache.lookup(&app, &domain, "1001", HashFunction::Md5)),
            [second.as_str()]
        );
        assert_eq!(
            md5(&cache.lookup(&app, &domain, "1001", HashFunction::Md5)),
            [second.as_str()]
        );

        // Another change to the view, not to this password: the entry is checked and kept.
        app.update_user(&domain, &ext, patch(json!({ "last_name": "Lovelace" })))
            .await
            .expect("name changed");
        assert_eq!(
            md5(&cache.lookup(&app, &domain, "1001", HashFunction::Md5)),
            [second.as_str()]
        );

        app.update_user(&domain, &ext, patch(json!({ "sip_password": null })))
            .await
            .expect("password removed");
        let set = cache.lookup(&app, &domain, "1001", HashFunction::Md5);
        assert!(set.is_empty() && set.is_user);

        let unknown = cache.lookup(&app, &domain, "1999", HashFunction::Md5);
        assert!(unknown.is_empty() && !unknown.is_user && !unknown.is_device);
    }
}
