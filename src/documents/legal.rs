//! The Legal integration: an outside system pushes policies for signature with a tenant's
//! integration key (`Authorization: Bearer …`) and hears back, by a signed callback, when each
//! signer completes. Keys are random secrets shown once and stored as their SHA-256; the key
//! alone decides the tenant, and signers are looked up only inside it. Pushing the same
//! `external_id` and `version` again answers with the same policy; a new version supersedes the
//! older one for its pending signers.

use hmac::{Hmac, Mac};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::service::{self, Origin, PolicyInput};
use super::store;
use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::auth::Actor;
use crate::auth::throttle::{self, Limit, Slot};
use crate::db::{Db, DbError, DbResult, Row, TenantTx, new_id, now_ms};
use crate::error::{AppError, AppResult, FieldError};
use crate::i18n::k;
use crate::jobs::{Job, JobError, JobKind};
use crate::tenancy::{Tenant, TenantId, TenantScope};

/// Failed key attempts allowed per client address and window.
pub const FAILED_KEYS: Limit = Limit {
    max: 10,
    window_ms: 15 * 60 * 1000,
};

/// What every secret starts with, so a leaked one is recognisable.
const SECRET_PREFIX: &str = "plk_";

/// An integration key as staff see it (never the secret).
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Key {
    /// Id.
    pub id: String,
    /// Label.
    pub name: String,
    /// First characters of the secret, to tell keys apart.
    pub prefix: String,
    /// Created (Unix ms).
    pub created_at: i64,
    /// Last accepted (Unix ms).
    pub last_used_at: Option<i64>,
    /// Revoked (Unix ms).
    pub revoked_at: Option<i64>,
}

fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

fn new_secret() -> String {
    let mut raw = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut raw);
    format!("{SECRET_PREFIX}{}", hex::encode(raw))
}

/// The tenant's keys, newest first.
pub async fn keys(db: &Db, scope: &TenantScope) -> DbResult<Vec<Key>> {
    let rows = sqlx::query(
        "SELECT id, name, prefix, created_at, last_used_at, revoked_at FROM doc_legal_keys \
         WHERE tenant_id = $1 ORDER BY created_at DESC, id DESC LIMIT 200",
    )
    .bind(scope.tenant_id().as_str())
    .fetch_all(db.tenant(scope).reader())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Key {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                prefix: r.try_get("prefix")?,
                created_at: r.try_get("created_at")?,
                last_used_at: r.try_get("last_used_at")?,
                revoked_at: r.try_get("revoked_at")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(DbError::from)
}

async fn insert_key(tx: &mut TenantTx, name: &str, by: &str) -> DbResult<(String, String)> {
    let tenant = tx.tenant_id().to_string();
    let id = new_id();
    let secret = new_secret();
    let prefix: String = secret.chars().take(SECRET_PREFIX.len() + 6).collect();
    sqlx::query(
        "INSERT INTO doc_legal_keys (tenant_id, id, name, prefix, key_hash, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(tenant)
    .bind(&id)
    .bind(name)
    .bind(&prefix)
    .bind(hash(&secret))
    .bind(by)
    .bind(now_ms())
    .execute(tx.conn())
    .await?;
    Ok((id, secret))
}

async fn revoke_in(tx: &mut TenantTx, id: &str) -> AppResult<String> {
    let tenant = tx.tenant_id().to_string();
    let row = sqlx::query(
        "UPDATE doc_legal_keys SET revoked_at = $3 WHERE tenant_id = $1 AND id = $2 \
         AND revoked_at IS NULL RETURNING name",
    )
    .bind(tenant)
    .bind(id)
    .bind(now_ms())
    .fetch_optional(tx.conn())
    .await
    .map_err(DbError::from)?;
    match row {
        Some(r) => Ok(r.try_get(0).map_err(DbError::from)?),
        None => Err(AppError::NotFound),
    }
}

/// Checks a key label.
fn key_name(name: &str) -> AppResult<String> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > 100 {
        return Err(AppError::fields(vec![FieldError {
            field: "name".into(),
            message: k("legal-error-name").into(),
        }]));
    }
    Ok(n.to_string())
}

/// Creates a key; returns its id and the secret, which is never shown again.
pub async fn create_key(
    app: &AppState,
    actor: &Actor,
    ip: &str,
    name: &str,
) -> AppResult<(String, String)> {
    let name = key_name(name)?;
    let mut tx = app.db.tenant(actor.scope()).begin().await?;
    let (id, secret) = insert_key(&mut tx, &name, actor.user_id().as_str()).await?;
    audit::append(
        &mut tx,
        Entry {
            ip: Some(ip),
            detail: json!({ "name": name }),
            ..Entry::new("document.legal_key_created")
                .by(actor)
                .target("legal_key", &id)
        },
    )
    .await?;
    tx.commit().await?;
    Ok((id, secret))
}

/// Replaces a key by a new one with the same label: the old secret stops working at once.
pub async fn rotate_key(
    app: &AppState,
    actor: &Actor,
    ip: &str,
    id: &str,
) -> AppResult<(String, String)> {
    let mut tx = app.db.tenant(actor.scope()).begin().await?;
    let name = revoke_in(&mut tx, id).await?;
    let (new, secret) = insert_key(&mut tx, &name, actor.user_id().as_str()).await?;
    audit::append(
        &mut tx,
        Entry {
            ip: Some(ip),
            detail: json!({ "name": name, "replaced": id }),
            ..Entry::new("document.legal_key_rotated")
                .by(actor)
                .target("legal_key", &new)
        },
    )
    .await?;
    tx.commit().await?;
    Ok((new, secret))
}

/// Revokes a key.
pub async fn revoke_key(app: &AppState, actor: &Actor, ip: &str, id: &str) -> AppResult<()> {
    let mut tx = app.db.tenant(actor.scope()).begin().await?;
    let name = revoke_in(&mut tx, id).await?;
    audit::append(
        &mut tx,
        Entry {
            ip: Some(ip),
            detail: json!({ "name": name }),
            ..Entry::new("document.legal_key_revoked")
                .by(actor)
                .target("legal_key", id)
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The secret callbacks of a tenant are signed with (HMAC-SHA256), derived from the server
/// secret so it needs no storage and differs per tenant.
pub fn callback_secret(app: &AppState, tenant_id: &str) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&app.config.secret_key) else {
        return String::new();
    };
    mac.update(b"legal-callback:");
    mac.update(tenant_id.as_bytes());
    format!("whsec_{}", hex::encode(mac.finalize().into_bytes()))
}

/// `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, the callback's signature header.
pub fn sign_callback(secret: &str, t: i64, body: &str) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(format!("{t}.").as_bytes());
    mac.update(body.as_bytes());
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// The tenant a bearer key belongs to, or 401. Failed attempts are throttled per address (the
/// slot is taken before the lookup and given back on success); a key presented on another
/// tenant's address is refused like a wrong one.
pub async fn authenticate(
    app: &AppState,
    host_tenant: Option<&Tenant>,
    ip: &str,
    authorization: Option<&str>,
) -> AppResult<(Tenant, String)> {
    let slot_key = format!("legal-key:{ip}");
    if let Slot::Blocked { wait, .. } = throttle::take(&app.db, &slot_key, FAILED_KEYS).await? {
        return Err(AppError::TooManyRequests(wait));
    }
    let secret = authorization
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim)
        .unwrap_or("");
    if !secret.starts_with(SECRET_PREFIX) {
        return Err(AppError::Unauthorized);
    }
    let row = sqlx::query(
        "SELECT tenant_id, id FROM doc_legal_keys WHERE key_hash = $1 AND revoked_at IS NULL",
    )
    .bind(hash(secret))
    .fetch_optional(
        app.db
            .operator("integration key lookup by its hash")
            .reader(),
    )
    .await
    .map_err(DbError::from)?;
    let Some(row) = row else {
        return Err(AppError::Unauthorized);
    };
    let tenant_id: String = row.try_get(0).map_err(DbError::from)?;
    let key_id: String = row.try_get(1).map_err(DbError::from)?;
    if host_tenant.is_some_and(|t| t.id.as_str() != tenant_id) {
        return Err(AppError::Unauthorized);
    }
    let tenant = crate::tenancy::store::by_id(&app.db, &TenantId(tenant_id))
        .await?
        .ok_or(AppError::Unauthorized)?;
    throttle::give_back(&app.db, &slot_key).await?;
    sqlx::query("UPDATE doc_legal_keys SET last_used_at = $3 WHERE tenant_id = $1 AND id = $2")
        .bind(tenant.id.as_str())
        .bind(&key_id)
        .bind(now_ms())
        .execute(app.db.tenant(&tenant.scope()).writer())
        .await
        .map_err(DbError::from)?;
    Ok((tenant, key_id))
}

/// One signer of a pushed policy: a person by email, or every active user of a company (by
/// id or name).
#[derive(Clone, Debug, Deserialize, schemars::JsonSchema)]
pub struct PushSigner {
    /// A client user's email.
    #[serde(default)]
    pub email: Option<String>,
    /// A company's id or name.
    #[serde(default)]
    pub company: Option<String>,
}

/// A policy pushed by the Legal system.
#[derive(Clone, Debug, Deserialize, schemars::JsonSchema)]
pub struct PushBody {
    /// The policy's id in the pushing system; with `version`, the idempotency key.
    pub external_id: String,
    /// Version label.
    pub version: String,
    /// Title.
    pub title: String,
    /// Markdown body.
    pub body: String,
    /// Who signs.
    pub signers: Vec<PushSigner>,
    /// Users who join the listed companies later sign too.
    #[serde(default)]
    pub include_future: bool,
    /// Due date, `YYYY-MM-DD` (end of that day in the tenant's time zone).
    #[serde(default)]
    pub due: Option<String>,
    /// Reminder schedule: days before the due date, comma separated.
    #[serde(default)]
    pub reminders: Option<String>,
    /// Where to POST a signed notification when each signer completes.
    #[serde(default)]
    pub callback_url: Option<String>,
}

/// One signer's request in a push answer.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct PushedRequest {
    /// Signature request id.
    pub signature_id: String,
    /// Signer's email.
    pub email: String,
    /// Step reached.
    pub state: super::Step,
}

/// The answer to a push: the same for a repeated push of the same external id and version.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct PushResult {
    /// Portico's policy id.
    pub policy_id: String,
    /// The pushing system's id.
    pub external_id: String,
    /// Version label.
    pub version: String,
    /// SHA-256 of title, version and body.
    pub content_hash: String,
    /// The older version this one superseded, if any.
    pub supersedes_id: Option<String>,
    /// One request per signer.
    pub signers: Vec<PushedRequest>,
}

async fn existing(
    db: &Db,
    scope: &TenantScope,
    external_id: &str,
    version: &str,
) -> AppResult<Option<PushResult>> {
    let row = sqlx::query(
        "SELECT id, content_hash, supersedes_id FROM doc_policies WHERE tenant_id = $1 \
         AND external_id = $2 AND version = $3",
    )
    .bind(scope.tenant_id().as_str())
    .bind(external_id)
    .bind(version)
    .fetch_optional(db.tenant(scope).reader())
    .await
    .map_err(DbError::from)?;
    let Some(row) = row else { return Ok(None) };
    let id: String = row.try_get(0).map_err(DbError::from)?;
    let mut signers: Vec<PushedRequest> = store::of_policy(db, scope, &id)
        .await?
        .into_iter()
        .map(|s| PushedRequest {
            signature_id: s.id,
            email: s.user_email,
            state: s.state,
        })
        .collect();
    signers.sort_by(|a, b| a.email.cmp(&b.email));
    Ok(Some(PushResult {
        policy_id: id,
        external_id: external_id.into(),
        version: version.into(),
        content_hash: row.try_get(1).map_err(DbError::from)?,
        supersedes_id: row.try_get(2).map_err(DbError::from)?,
        signers,
    }))
}

/// The signers as user and company ids of this tenant; unknown ones are a field error.
async fn resolve(
    db: &Db,
    scope: &TenantScope,
    signers: &[PushSigner],
) -> AppResult<(Vec<String>, Vec<String>)> {
    let (mut users, mut companies, mut unknown) = (Vec::new(), Vec::new(), Vec::new());
    let r = db.tenant(scope).reader();
    for s in signers {
        if let Some(e) = s.email.as_deref().map(str::trim).filter(|e| !e.is_empty()) {
            let row = sqlx::query(
                "SELECT id FROM users WHERE tenant_id = $1 AND LOWER(email) = $2 \
                 AND kind = 'client' AND status = 'active'",
            )
            .bind(scope.tenant_id().as_str())
            .bind(e.to_lowercase())
            .fetch_optional(r)
            .await
            .map_err(DbError::from)?;
            match row {
                Some(row) => users.push(row.try_get::<String, _>(0).map_err(DbError::from)?),
                None => unknown.push(e.to_string()),
            }
        } else if let Some(c) = s
            .company
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
        {
            let row = sqlx::query(
                "SELECT id FROM companies WHERE tenant_id = $1 AND (id = $2 OR LOWER(name) = $3) \
                 AND status = 'active'",
            )
            .bind(scope.tenant_id().as_str())
            .bind(c)
            .bind(c.to_lowercase())
            .fetch_optional(r)
            .await
            .map_err(DbError::from)?;
            match row {
                Some(row) => companies.push(row.try_get::<String, _>(0).map_err(DbError::from)?),
                None => unknown.push(c.to_string()),
            }
        }
    }
    if !unknown.is_empty() {
        return Err(AppError::fields(vec![FieldError {
            field: "signers".into(),
            message: crate::i18n::msg_with(
                "legal-error-unknown-signers",
                &[("who", crate::i18n::Arg::Str(unknown.join(", ")))],
            ),
        }]));
    }
    Ok((users, companies))
}

/// A callback address: absolute http(s) without credentials.
fn check_callback(url: &str) -> Result<(), FieldError> {
    let ok = url::Url::parse(url).is_ok_and(|u| {
        matches!(u.scheme(), "http" | "https")
            && u.host_str().is_some()
            && u.username().is_empty()
            && u.password().is_none()
    });
    if ok && url.len() <= 2000 {
        Ok(())
    } else {
        Err(FieldError {
            field: "callback_url".into(),
            message: k("legal-error-callback").into(),
        })
    }
}

/// Largest push body accepted.
pub const MAX_PUSH_BYTES: usize = 1024 * 1024;

/// Reads a push body: not JSON is a 400, JSON of the wrong shape a 422, each naming what is
/// wrong (the pushing system's developers read these, so serde's own words are kept).
pub fn parse_push(body: &[u8]) -> AppResult<PushBody> {
    if body.len() > MAX_PUSH_BYTES {
        return Err(AppError::TooLarge);
    }
    serde_json::from_slice(body).map_err(|e| {
        let reason = crate::i18n::Arg::Str(e.to_string());
        match e.classify() {
            serde_json::error::Category::Data => AppError::Unprocessable(crate::i18n::msg_with(
                "legal-error-shape",
                &[("reason", reason)],
            )),
            _ => AppError::Validation {
                message: crate::i18n::msg_with("legal-error-json", &[("reason", reason)]),
                fields: Vec::new(),
            },
        }
    })
}

/// Handles a push for `tenant` (already authenticated by `key_id`).
pub async fn push(
    app: &AppState,
    tenant: &Tenant,
    key_id: &str,
    ip: &str,
    b: &PushBody,
) -> AppResult<PushResult> {
    let scope = tenant.scope();
    let ext = b.external_id.trim();
    if ext.is_empty() || ext.len() > 200 {
        return Err(AppError::field(
            "external_id",
            k("documents-error-required"),
        ));
    }
    let version = b.version.trim();
    if let Some(done) = existing(&app.db, &scope, ext, version).await? {
        return Ok(done);
    }
    let callback = b
        .callback_url
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty());
    if let Some(u) = callback {
        check_callback(u).map_err(|e| AppError::fields(vec![e]))?;
    }
    let tz: chrono_tz::Tz = tenant.time_zone.parse().unwrap_or(chrono_tz::Tz::UTC);
    let due_at = super::admin::due_ms(b.due.as_deref().unwrap_or(""), tz)
        .map_err(|e| AppError::fields(vec![e]))?;
    let (user_ids, company_ids) = resolve(&app.db, &scope, &b.signers).await?;
    // The newest active version of the same document, which this one replaces.
    let older: Option<String> = sqlx::query(
        "SELECT id FROM doc_policies WHERE tenant_id = $1 AND external_id = $2 AND version <> $3 \
         AND status = 'active' ORDER BY created_at DESC LIMIT 1",
    )
    .bind(scope.tenant_id().as_str())
    .bind(ext)
    .bind(version)
    .fetch_optional(app.db.tenant(&scope).reader())
    .await
    .map_err(DbError::from)?
    .map(|r| r.try_get(0))
    .transpose()
    .map_err(DbError::from)?;
    let input = PolicyInput {
        title: b.title.clone(),
        body: b.body.clone(),
        version: version.to_string(),
        user_ids,
        company_ids,
        include_future: b.include_future,
        due_at,
        reminders: b.reminders.clone().unwrap_or_default(),
    };
    let origin = Origin {
        actor: None,
        ip,
        via: Some(key_id),
    };
    match service::create(
        app,
        &scope,
        &origin,
        &input,
        Some((ext, callback)),
        older.as_deref(),
    )
    .await
    {
        Ok(_) => {}
        // A concurrent push of the same external id and version won: answer with its policy.
        Err(AppError::Conflict(_)) => {}
        Err(e) => return Err(e),
    }
    existing(&app.db, &scope, ext, version)
        .await?
        .ok_or_else(|| AppError::Conflict(k("legal-error-conflict").into()))
}

/// Payload of the `documents.legal_callback` job: one signer completed.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CallbackJob {
    /// Where to POST.
    pub url: String,
    /// The exact JSON body (signed as sent).
    pub body: String,
}

impl JobKind for CallbackJob {
    const KIND: &'static str = "documents.legal_callback";

    async fn run(self, app: &AppState, job: &Job) -> Result<(), JobError> {
        let tenant = job
            .tenant_id
            .as_deref()
            .ok_or_else(|| JobError::permanent("a callback without a tenant"))?;
        let secret = callback_secret(app, tenant);
        let t = now_ms() / 1000;
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(15))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(JobError::retry)?;
        let r = client
            .post(&self.url)
            .header("content-type", "application/json")
            .header("x-portico-signature", sign_callback(&secret, t, &self.body))
            .header("x-portico-event", "signature.completed")
            .body(self.body.clone())
            .send()
            .await
            .map_err(JobError::retry)?;
        if r.status().is_success() {
            Ok(())
        } else {
            Err(JobError::retry(format!("callback answered {}", r.status())))
        }
    }
}

/// Queues the callback for a signed request, in the signing transaction, when its policy
/// came with a callback address.
pub async fn on_signed(tx: &mut TenantTx, signature_id: &str) -> AppResult<()> {
    let tenant = tx.tenant_id().to_string();
    let row = sqlx::query(
        "SELECT p.callback_url, p.external_id, p.version, p.id, s.signer_email, s.signer_name, \
         s.signed_at, s.content_hash FROM doc_signatures s JOIN doc_policies p ON p.tenant_id = s.tenant_id \
         AND p.id = s.policy_id WHERE s.tenant_id = $1 AND s.id = $2",
    )
    .bind(tenant)
    .bind(signature_id)
    .fetch_optional(tx.conn())
    .await
    .map_err(DbError::from)?;
    let Some(r) = row else { return Ok(()) };
    let url: Option<String> = r.try_get(0).map_err(DbError::from)?;
    let Some(url) = url else { return Ok(()) };
    let get = |i: usize| -> Result<Option<String>, DbError> { Ok(r.try_get(i)?) };
    let body = json!({
        "event": "signature.completed",
        "external_id": get(1)?,
        "version": get(2)?,
        "policy_id": get(3)?,
        "signature_id": signature_id,
        "signer": { "email": get(4)?, "name": get(5)? },
        "signed_at": r.try_get::<Option<i64>, _>(6).map_err(DbError::from)?,
        "content_hash": get(7)?,
    })
    .to_string();
    CallbackJob { url, body }.enqueue(tx).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_signatures_cover_time_and_body() {
        let a = sign_callback("s", 10, "{}");
        assert!(a.starts_with("t=10,v1="));
        assert_ne!(a, sign_callback("s", 11, "{}"));
        assert_ne!(a, sign_callback("s", 10, "{ }"));
        assert_ne!(a, sign_callback("t", 10, "{}"));
    }

    #[test]
    fn callback_addresses_are_checked() {
        assert!(check_callback("https://legal.example/hook").is_ok());
        assert!(check_callback("http://127.0.0.1:9/x").is_ok());
        assert!(check_callback("ftp://legal.example/").is_err());
        assert!(check_callback("https://u:p@legal.example/").is_err());
        assert!(check_callback("/relative").is_err());
    }

    #[test]
    fn secrets_are_random_and_prefixed() {
        let a = new_secret();
        assert!(a.starts_with(SECRET_PREFIX));
        assert_ne!(a, new_secret());
        assert_eq!(hash(&a).len(), 64);
    }
}
