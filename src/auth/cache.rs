//! Per-node cache of signed-in principals, so a request normally costs no session query.
//!
//! [`lookup`] wraps [`sessions::lookup_timed`]: a hit is served from memory only while the
//! session is neither expired nor idle nor due for its last-seen write, so those rules and
//! the at-most-once-a-minute `last_seen_at` write behave exactly as without the cache. An
//! entry also lives at most [`TTL`], a safety net for writes made by another process
//! that cannot reach this node (a CLI command on SQLite).
//!
//! Every write that changes what a principal carries must call [`changed`] in its
//! transaction (or [`changed_now`] right after a write made outside one). That drops the
//! entries on this node when the transaction commits and, on PostgreSQL, on every other node
//! through a `pg_notify` delivered with the commit. The session-ending functions of
//! [`sessions`] call it themselves. The writes, as of this change (keep this list true):
//!
//! Sessions (the principal disappears):
//! - `sessions::end`, `end_by_hash` (expiry, replaced session at sign-in), `end_in`
//!   (sign-out), `end_all_for_user_in` / `end_all_for_user` (password reset and change,
//!   "sign out other sessions", staff deactivation and role change, PSA deprovisioning);
//! - `profile::end_session` (one session revoked from the profile page);
//! - `companies::set_status` (a deactivated company's users are signed out).
//!
//! Users (email, name, role, status, MFA, language, time zone):
//! - `users::set_status`, `users::set_password` (`users/mod.rs`);
//! - `users::service` role change and deactivation/reactivation;
//! - `users::invitations` revoke (delete or deactivate an invited user);
//! - `identity::store` SSO profile sync (name, kind, role) and activation;
//! - `psa::provision` status sync from the PSA;
//! - `profile::update` (name, language, time zone);
//! - `mfa::enable` / `mfa::disable` (the enrolment requirement follows from it).
//!
//! Companies (name, status): `companies::rename`, `companies::set_status`.
//!
//! Memberships (active company, role there, membership count): `users::memberships::switch`
//! (one session), `add` and `remove` (the person).
//!
//! Tenants (branding, locale, time zone, MFA policy, billing viewers, `updated_at`):
//! - `branding::save`, `branding::set_default_locale`, `branding::set_remote_images`,
//!   `branding::assets` (logo, favicon, background);
//! - `tenancy::store::set_time_zone`, `tenancy::store::add_domain` (touches `updated_at`);
//! - `mfa::set_policy`; `invoices::store` billing settings (viewer roles).
//!
//! Not carried by a principal, so not listed: `last_login_at`, MFA pending secret and last
//! step, audit sequence and head, storage usage, and the demo seeding that runs before the
//! server accepts requests.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::{Audience, Principal, UserId, sessions};
use crate::companies::CompanyId;
use crate::db::{Backend, Db, DbResult, TenantTx, now_ms};

/// PostgreSQL channel carrying principal invalidations between nodes.
pub const CHANNEL: &str = "portico_principals";
/// Longest an entry is served without reading the database again.
pub const TTL: Duration = Duration::from_secs(15);
/// Most entries kept on one node (about a kilobyte each).
pub const MAX_ENTRIES: usize = 10_000;

/// What changed, so the principals built from it must be read again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "k", content = "id", rename_all = "lowercase")]
pub enum Change {
    /// One session (by token hash) ended.
    Session(String),
    /// A user's account, role, MFA or profile changed, or their sessions ended.
    User(String),
    /// A company's name or status changed.
    Company(String),
    /// Something every principal of the tenant carries changed.
    Tenant,
}

impl Change {
    /// A change to one user.
    pub fn user(id: &UserId) -> Change {
        Change::User(id.as_str().to_string())
    }

    /// A change to one company.
    pub fn company(id: &CompanyId) -> Change {
        Change::Company(id.as_str().to_string())
    }
}

/// The message sent between nodes.
#[derive(Serialize, Deserialize)]
struct Message {
    t: String,
    #[serde(flatten)]
    change: Change,
}

struct Entry {
    principal: Arc<Principal>,
    times: sessions::SessionTimes,
    cached: Instant,
}

/// This node's principals by session token hash and audience.
pub struct PrincipalCache {
    entries: Mutex<Inner>,
    /// Whether entries may be served: on PostgreSQL only while this node hears other nodes'
    /// invalidations (its listener is connected).
    live: AtomicBool,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl std::fmt::Debug for PrincipalCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrincipalCache")
            .field("entries", &self.inner().map.len())
            .field("live", &self.live.load(Ordering::Relaxed))
            .finish()
    }
}

#[derive(Default)]
struct Inner {
    map: HashMap<(String, Audience), Entry>,
    /// Bumped by every invalidation; a lookup that started before a bump does not store its
    /// (possibly older) result.
    generation: u64,
}

impl PrincipalCache {
    /// A cache that serves entries at once (`live`) or only once [`set_live`] says so.
    ///
    /// [`set_live`]: PrincipalCache::set_live
    pub fn new(live: bool) -> PrincipalCache {
        PrincipalCache {
            entries: Mutex::new(Inner::default()),
            live: AtomicBool::new(live),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Turns serving on or off; either way everything cached so far is dropped, because
    /// invalidations may have been missed while the bus was down.
    pub fn set_live(&self, live: bool) {
        let mut g = self.inner();
        g.map.clear();
        g.generation += 1;
        self.live.store(live, Ordering::SeqCst);
    }

    /// (hits, misses) since start, for tests and diagnostics.
    pub fn stats(&self) -> (u64, u64) {
        (
            self.hits.load(Ordering::Relaxed),
            self.misses.load(Ordering::Relaxed),
        )
    }

    /// Drops the entries of one session on this node.
    pub fn invalidate_session(&self, hash: &str) {
        self.drop_where(|k, _| k.0 == hash);
    }

    /// Drops every entry of one user on this node.
    pub fn invalidate_user(&self, user_id: &str) {
        self.drop_where(|_, p| p.user_id.as_str() == user_id);
    }

    /// Applies a change on this node.
    pub fn apply(&self, tenant_id: &str, change: &Change) {
        match change {
            Change::Session(hash) => self.invalidate_session(hash),
            Change::User(id) => self.invalidate_user(id),
            Change::Company(id) => self.drop_where(|_, p| {
                p.tenant.id.as_str() == tenant_id
                    && p.company_id.as_ref().is_some_and(|c| c.as_str() == id)
            }),
            Change::Tenant => self.drop_where(|_, p| p.tenant.id.as_str() == tenant_id),
        }
    }

    fn drop_where(&self, f: impl Fn(&(String, Audience), &Principal) -> bool) {
        let mut g = self.inner();
        g.generation += 1;
        g.map.retain(|k, e| !f(k, &e.principal));
    }

    fn get(&self, hash: &str, audience: Audience, now: i64) -> Option<Arc<Principal>> {
        if !self.live.load(Ordering::SeqCst) {
            return None;
        }
        let g = self.inner();
        let e = g.map.get(&(hash.to_string(), audience))?;
        let t = e.times;
        // Anything the lookup would act on (end the session, write last-seen) goes to it.
        let fresh = e.cached.elapsed() < TTL
            && now <= t.expires_at
            && now - t.last_seen_at <= sessions::TOUCH_MS
            && now - t.last_seen_at <= sessions::IDLE_MS;
        fresh.then(|| e.principal.clone())
    }

    fn generation(&self) -> u64 {
        self.inner().generation
    }

    fn put(&self, generation: u64, p: Arc<Principal>, times: sessions::SessionTimes) {
        if !self.live.load(Ordering::SeqCst) {
            return;
        }
        let mut g = self.inner();
        if g.generation != generation {
            return;
        }
        if g.map.len() >= MAX_ENTRIES {
            g.map.retain(|_, e| e.cached.elapsed() < TTL);
            if g.map.len() >= MAX_ENTRIES {
                g.map.clear();
            }
        }
        let key = (p.session_hash.clone(), p.audience);
        g.map.insert(
            key,
            Entry {
                principal: p,
                times,
                cached: Instant::now(),
            },
        );
    }
}

/// [`sessions::lookup`] through this node's cache.
pub async fn lookup(db: &Db, token: &str, audience: Audience) -> DbResult<Option<Arc<Principal>>> {
    let cache = db.principals();
    let hash = sessions::token_hash(token);
    if let Some(p) = cache.get(&hash, audience, now_ms()) {
        cache.hits.fetch_add(1, Ordering::Relaxed);
        return Ok(Some(p));
    }
    cache.misses.fetch_add(1, Ordering::Relaxed);
    let generation = cache.generation();
    let Some((p, times)) = sessions::lookup_timed(db, token, audience).await? else {
        return Ok(None);
    };
    cache.put(generation, p.clone(), times);
    Ok(Some(p))
}

/// Records, inside a write's transaction, that principals of its tenant change: this node
/// drops them when the transaction commits, other nodes when they hear the commit.
pub async fn changed(tx: &mut TenantTx, change: Change) -> DbResult<()> {
    let tenant = tx.tenant_id().to_string();
    if tx.backend() == Backend::Postgres {
        notify(tx.conn(), &tenant, &change).await?;
    }
    let cache = tx.principals();
    tx.after_commit(move || cache.apply(&tenant, &change));
    Ok(())
}

/// Like [`changed`], for a write already made outside a transaction (or by a path without
/// one); `tenant_id` may be empty for [`Change::Session`] and [`Change::User`].
pub async fn changed_now(db: &Db, tenant_id: &str, change: Change) -> DbResult<()> {
    db.principals().apply(tenant_id, &change);
    if db.backend() == Backend::Postgres {
        let mut conn = db
            .operator("principal cache invalidation")
            .writer()
            .acquire()
            .await?;
        notify(&mut conn, tenant_id, &change).await?;
    }
    Ok(())
}

async fn notify(conn: &mut sqlx::AnyConnection, tenant: &str, change: &Change) -> DbResult<()> {
    let payload = serde_json::to_string(&Message {
        t: tenant.to_string(),
        change: change.clone(),
    })
    .map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(CHANNEL)
        .bind(payload)
        .execute(conn)
        .await?;
    Ok(())
}

/// Applies a message heard on [`CHANNEL`]; a malformed one drops everything, to be safe.
pub fn apply_notification(cache: &PrincipalCache, payload: &str) {
    match serde_json::from_str::<Message>(payload) {
        Ok(m) => cache.apply(&m.t, &m.change),
        Err(e) => {
            tracing::warn!(error = %e, "malformed principal invalidation; dropping the cache");
            cache.set_live(cache.live.load(Ordering::SeqCst));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip() {
        for c in [
            Change::Session("h".into()),
            Change::User("u".into()),
            Change::Company("c".into()),
            Change::Tenant,
        ] {
            let s = serde_json::to_string(&Message {
                t: "t1".into(),
                change: c.clone(),
            })
            .unwrap();
            let m: Message = serde_json::from_str(&s).unwrap();
            assert_eq!((m.t.as_str(), m.change), ("t1", c));
        }
    }
}
