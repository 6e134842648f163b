//! The remote Mission source: Portico proxies the tenant's own Mission API, whose contract is
//! `docs/mission-api.md`. Every request names the member by their external id (taken from the
//! signed-in actor, never from the request), reads are cached for a short time per tenant and
//! member, and a member's own write clears the tenant's cache so they see it at once.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::auth::Actor;
use crate::db::{Db, Row};
use crate::error::{AppError, AppResult};
use crate::tenancy::TenantScope;

/// How long a read is served from the cache.
const TTL: Duration = Duration::from_secs(30);
/// Cache entries kept at most (all tenants); past it the cache starts over.
const MAX_ENTRIES: usize = 20_000;
/// A slow Mission API gets this long before the member sees a notice.
const TIMEOUT: Duration = Duration::from_secs(5);

/// The notice members see when the Mission API cannot answer.
pub const UNAVAILABLE: &str = "mission-source-unavailable";

type Cache = Mutex<HashMap<String, (Instant, Value)>>;
static CACHE: LazyLock<Cache> = LazyLock::new(|| Mutex::new(HashMap::new()));
static CLIENT: LazyLock<Option<reqwest::Client>> = LazyLock::new(|| {
    reqwest::Client::builder()
        .timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .ok()
});

/// A tenant's Mission API.
pub struct Remote<'a> {
    db: &'a Db,
    scope: TenantScope,
    base: String,
    key: String,
}

impl std::fmt::Debug for Remote<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Remote")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl<'a> Remote<'a> {
    /// The API at `base` (no trailing slash) called with `key`.
    pub fn new(db: &'a Db, scope: &TenantScope, base: String, key: String) -> Remote<'a> {
        Remote {
            db,
            scope: scope.clone(),
            base: base.trim_end_matches('/').to_string(),
            key,
        }
    }

    /// The database this tenant's local Mission tables live in.
    pub fn db(&self) -> &'a Db {
        self.db
    }

    /// The tenant this API belongs to.
    pub fn scope(&self) -> &TenantScope {
        &self.scope
    }

    /// The member's id in the Mission system: the one staff mapped, else their email.
    pub async fn member(&self, me: &Actor) -> AppResult<String> {
        let row = sqlx::query(
            "SELECT m.external_id, u.email FROM users u LEFT JOIN mission_external_ids m \
             ON m.tenant_id = u.tenant_id AND m.user_id = u.id WHERE u.tenant_id = $1 AND u.id = $2",
        )
        .bind(self.scope.tenant_id().as_str())
        .bind(me.user_id().as_str())
        .fetch_optional(self.db.tenant(&self.scope).reader())
        .await
        .map_err(crate::db::DbError::from)?
        .ok_or(AppError::NotFound)?;
        let ext: Option<String> = row
            .try_get("external_id")
            .map_err(crate::db::DbError::from)?;
        match ext {
            Some(e) => Ok(e),
            None => Ok(row.try_get("email").map_err(crate::db::DbError::from)?),
        }
    }

    fn cache_key(&self, path: &str) -> String {
        format!(
            "{}\u{1f}{}\u{1f}{path}",
            self.scope.tenant_id().as_str(),
            self.base
        )
    }

    /// `GET {base}{path}`, from the cache when fresh.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> AppResult<T> {
        let key = self.cache_key(path);
        let hit = CACHE
            .lock()
            .ok()
            .and_then(|c| c.get(&key).filter(|(at, _)| at.elapsed() < TTL).cloned());
        let value = match hit {
            Some((_, v)) => v,
            None => {
                let v = self.call(reqwest::Method::GET, path, None).await?;
                if let Ok(mut c) = CACHE.lock() {
                    if c.len() >= MAX_ENTRIES {
                        c.clear();
                    }
                    c.insert(key, (Instant::now(), v.clone()));
                }
                v
            }
        };
        serde_json::from_value(value).map_err(|e| unavailable(&format!("unexpected answer: {e}")))
    }

    /// `POST`/`PUT {base}{path}` with a JSON body; clears the tenant's cached reads.
    pub async fn send<T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Value,
    ) -> AppResult<T> {
        let v = self.call(method, path, Some(body)).await;
        let prefix = format!("{}\u{1f}", self.scope.tenant_id().as_str());
        if let Ok(mut c) = CACHE.lock() {
            c.retain(|k, _| !k.starts_with(&prefix));
        }
        serde_json::from_value(v?).map_err(|e| unavailable(&format!("unexpected answer: {e}")))
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> AppResult<Value> {
        let client = CLIENT
            .as_ref()
            .ok_or_else(|| unavailable("no HTTP client"))?;
        let mut req = client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.key)
            .header("accept", "application/json");
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.map_err(|e| unavailable(&e.to_string()))?;
        let status = resp.status();
        match status.as_u16() {
            200..=299 => resp
                .json::<Value>()
                .await
                .map_err(|e| unavailable(&format!("unreadable answer: {e}"))),
            404 => Err(AppError::NotFound),
            403 => Err(AppError::Forbidden(UNAVAILABLE.into())),
            s => {
                let text = resp.text().await.unwrap_or_default();
                Err(unavailable(&format!(
                    "status {s}: {}",
                    text.chars().take(200).collect::<String>()
                )))
            }
        }
    }
}

/// The member-facing notice; the cause goes to the log (it may name hosts and must not reach
/// members).
fn unavailable(why: &str) -> AppError {
    tracing::warn!(why, "the Mission API did not answer");
    AppError::Unprocessable(UNAVAILABLE.into())
}

/// Percent-encodes one query value or path segment.
pub fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
