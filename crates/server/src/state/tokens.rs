//! Bearer tokens (HD-SEC-4): issued once in clear, stored as SHA-256, cached in memory;
//! `POST /auth/login` signs a user in with extension + PIN under the lock-out (HD-SEC-2).

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};

use hotdesk_core::{DomainName, Extension, QueueStatus, Refusal, Scope, User};
use hotdesk_store::TokenRecord;
use jiff::SignedDuration;

use crate::secrets::{new_token, token_hash, SecretString};
use crate::state::pins::PinContext;
use crate::state::{App, AppError, Principal};

/// Tokens seen recently, by hash; a miss falls back to the store (another node, restart).
#[derive(Debug, Default)]
pub(crate) struct TokenCache {
    by_hash: RwLock<HashMap<String, TokenRecord>>,
}

impl TokenCache {
    fn get(&self, hash: &str) -> Option<TokenRecord> {
        self.by_hash
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(hash)
            .cloned()
    }

    fn put(&self, record: TokenRecord) {
        self.by_hash
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(record.hash.clone(), record);
    }

    fn remove(&self, hash: &str) {
        self.by_hash
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(hash);
    }
}

/// The result of signing in: the token (shown once), its record and the user.
#[derive(Debug, Clone)]
pub struct SignIn {
    /// The bearer token in clear; return it to the caller and forget it.
    pub token: SecretString,
    /// What was stored (hash, scope, expiry).
    pub record: TokenRecord,
    /// The signed-in user (after the HD-LOGIN-10 queue change).
    pub user: User,
}

fn principal_of(record: &TokenRecord) -> Principal {
    Principal {
        scope: record.scope,
        domain: record.domain.clone(),
        user: record.user.clone(),
        name: record.name.clone(),
    }
}

impl App {
    /// Resolves a bearer token to its principal; `Unauthenticated` if unknown or expired.
    pub async fn authenticate(&self, bearer: &str) -> Result<Principal, AppError> {
        let hash = token_hash(bearer);
        if self.admin_token_hash.as_deref() == Some(hash.as_str()) {
            return Ok(Principal::super_admin("admin"));
        }
        let record = match self.tokens.get(&hash) {
            Some(record) => record,
            None => {
                let record = self
                    .store
                    .token(&hash)
                    .await?
                    .ok_or(AppError::Unauthenticated)?;
                self.tokens.put(record.clone());
                record
            }
        };
        if record.expires_at.is_some_and(|at| at <= self.now()) {
            self.tokens.remove(&hash);
            return Err(AppError::Unauthenticated);
        }
        // A token outlives nothing it names: a deleted domain or user ends it.
        let state = self.read();
        let alive = match (&record.domain, &record.user) {
            (Some(domain), Some(user)) => state
                .tenants
                .get(domain)
                .is_some_and(|t| t.users.contains_key(user)),
            (Some(domain), None) => state.tenants.get(domain).is_some(),
            (None, _) => record.scope == Scope::SuperAdmin,
        };
        if !alive {
            return Err(AppError::Unauthenticated);
        }
        Ok(principal_of(&record))
    }

    /// Issues a token (CLI `token create`, sign-in). Only the hash is stored.
    pub async fn issue_token(
        &self,
        scope: Scope,
        domain: Option<DomainName>,
        user: Option<Extension>,
        name: impl Into<String>,
        ttl: Option<SignedDuration>,
    ) -> Result<(SecretString, TokenRecord), AppError> {
        if domain.is_none() && scope != Scope::SuperAdmin {
            return Err(AppError::invalid(
                "domain",
                "only super admin tokens span domains",
            ));
        }
        let token = new_token();
        let record = TokenRecord {
            hash: token_hash(token.expose()),
            scope,
            domain,
            user,
            name: name.into(),
            expires_at: ttl.map(|ttl| self.now() + ttl),
        };
        self.store.create_token(&record).await?;
        self.tokens.put(record.clone());
        Ok((token, record))
    }

    /// Revokes a token (sign-out).
    pub async fn revoke_token(&self, bearer: &str) -> Result<(), AppError> {
        let hash = token_hash(bearer);
        self.store.delete_token(&hash).await?;
        self.tokens.remove(&hash);
        Ok(())
    }

    /// Signs a user in with extension + PIN (`POST /auth/login`). A wrong PIN counts
    /// toward the lock-out like any other path (HD-SEC-2); unknown domains and users
    /// answer `WrongPin` so nothing is revealed. The first sign-in moves the queue status
    /// from `offline` to `logged_out` (HD-LOGIN-10). The token carries the user's role.
    pub async fn sign_in(
        &self,
        domain: &DomainName,
        ext: &Extension,
        pin: &SecretString,
        source: Option<String>,
    ) -> Result<SignIn, AppError> {
        if self.read().tenants.get(domain).is_none() {
            return Err(Refusal::WrongPin.into());
        }
        let context = PinContext {
            device: None,
            source: Some(source.unwrap_or_else(|| "api".into())),
        };
        self.verify_pin(domain, ext, pin, context).await?;
        let mut user = self.user(domain, ext).ok_or(Refusal::WrongPin)?;
        if user.queue_status == QueueStatus::Offline {
            let _write = self.writes.lock().await;
            if let Some(mut current) = self.user(domain, ext) {
                if current.queue_status == QueueStatus::Offline {
                    current.queue_status = QueueStatus::LoggedOut;
                    self.store.update_user(&current).await?;
                    self.write_state().tenants.put_user(current.clone());
                }
                user = current;
            }
        }
        let (token, record) = self
            .issue_token(
                user.scope,
                Some(domain.clone()),
                Some(ext.clone()),
                format!("user {ext}"),
                Some(self.user_token_ttl),
            )
            .await?;
        Ok(SignIn {
            token,
            record,
            user,
        })
    }
}
