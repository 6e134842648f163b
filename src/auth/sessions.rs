//! Opaque sessions: random tokens handed to the browser, only their hashes stored.

use std::sync::Arc;

use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::cache::Change;
use super::{Audience, Principal, Role, UserId};
use crate::companies::CompanyId;
use crate::db::{Db, DbResult, Row, now_ms};
use crate::tenancy::TenantScope;
use crate::tenancy::store::{TENANT_COLUMNS, tenant_from_row};

/// A session ends after this long without use.
pub const IDLE_MS: i64 = 12 * 3600 * 1000;
/// A session ends this long after sign-in, whatever happens.
pub const ABSOLUTE_MS: i64 = 14 * 24 * 3600 * 1000;
/// Last-seen is written at most this often, to keep reads free of writes.
pub(crate) const TOUCH_MS: i64 = 60 * 1000;

/// A fresh random token (URL-safe).
pub fn random_token() -> String {
    let mut raw = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut raw);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

/// The stored form of a token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Starts a session and returns the token for the cookie.
pub async fn create(
    tx: &mut crate::db::TenantTx,
    user: &UserId,
    audience: Audience,
) -> DbResult<String> {
    let token = random_token();
    let now = now_ms();
    let tenant = tx.tenant_id().to_string();
    sqlx::query(
        "INSERT INTO sessions (token_hash, tenant_id, user_id, audience, created_at, last_seen_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $5, $6)",
    )
    .bind(token_hash(&token))
    .bind(&tenant)
    .bind(user.as_str())
    .bind(audience.as_str())
    .bind(now)
    .bind(now + ABSOLUTE_MS)
    .execute(tx.conn())
    .await?;
    Ok(token)
}

/// Resolves a session token into its principal in one indexed query (session, user, active
/// membership, company and tenant together), ending it when expired or when the user or
/// company is inactive. The session's active company (`sessions.company_id`) picks the
/// membership whose company and role the principal takes; none, or one that no longer exists,
/// means the person's home company (`users.company_id`/`role`). Requests go through
/// `auth::cache::lookup`, which wraps this.
pub async fn lookup(db: &Db, token: &str, audience: Audience) -> DbResult<Option<Arc<Principal>>> {
    Ok(lookup_timed(db, token, audience).await?.map(|(p, _)| p))
}

/// The session times a lookup saw, after its last-seen write.
#[derive(Clone, Copy, Debug)]
pub struct SessionTimes {
    /// When the session was last seen (as stored after this lookup).
    pub last_seen_at: i64,
    /// When the session ends regardless of use.
    pub expires_at: i64,
}

/// [`lookup`], also returning the session's times (for the principal cache).
pub async fn lookup_timed(
    db: &Db,
    token: &str,
    audience: Audience,
) -> DbResult<Option<(Arc<Principal>, SessionTimes)>> {
    let hash = token_hash(token);
    let sql = format!(
        "SELECT s.last_seen_at, s.expires_at, u.id AS u_id, u.email, u.name, u.kind, \
         COALESCE(m.role, u.role) AS role, u.status, COALESCE(m.company_id, u.company_id) AS company_id, \
         c.name AS company_name, c.status AS company_status, \
         (SELECT COUNT(*) FROM memberships mc WHERE mc.tenant_id = s.tenant_id AND mc.user_id = s.user_id) \
         AS membership_count, \
         u.mfa_enabled_at, u.language, u.time_zone AS u_time_zone, t.require_mfa_staff, t.require_mfa_client_admins, \
         b.viewer_roles AS billing_viewer_roles, {TENANT_COLUMNS} \
         FROM sessions s JOIN users u ON u.id = s.user_id JOIN tenants t ON t.id = s.tenant_id \
         LEFT JOIN memberships m ON m.tenant_id = s.tenant_id AND m.user_id = s.user_id \
         AND m.company_id = s.company_id \
         LEFT JOIN companies c ON c.id = COALESCE(m.company_id, u.company_id) \
         LEFT JOIN billing_settings b ON b.tenant_id = s.tenant_id \
         WHERE s.token_hash = $1 AND s.audience = $2"
    );
    let Some(row) = sqlx::query(&sql)
        .bind(&hash)
        .bind(audience.as_str())
        .fetch_optional(db.operator("session lookup by token hash").reader())
        .await?
    else {
        return Ok(None);
    };
    let now = now_ms();
    let last_seen: i64 = row.try_get("last_seen_at")?;
    let expires: i64 = row.try_get("expires_at")?;
    let status: String = row.try_get("status")?;
    let company_status: Option<String> = row.try_get("company_status")?;
    let kind: String = row.try_get("kind")?;
    let role: String = row.try_get("role")?;
    let role = Role::from_stored(&kind, &role);
    if now > expires
        || now - last_seen > IDLE_MS
        || status != "active"
        || company_status.as_deref().is_some_and(|s| s != "active")
        || role.is_none_or(|r| r.kind().audience() != audience)
    {
        end(db, token).await?;
        return Ok(None);
    }
    let mut times = SessionTimes {
        last_seen_at: last_seen,
        expires_at: expires,
    };
    if now - last_seen > TOUCH_MS {
        times.last_seen_at = now;
        sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE token_hash = $1")
            .bind(&hash)
            .bind(now)
            .execute(db.operator("session lookup by token hash").writer())
            .await?;
    }
    let Some(role) = role else { return Ok(None) };
    let policy = crate::mfa::Policy {
        staff: crate::db::flag(&row, "require_mfa_staff")?,
        client_admins: crate::db::flag(&row, "require_mfa_client_admins")?,
    };
    let mfa_on = row.try_get::<Option<i64>, _>("mfa_enabled_at")?.is_some();
    let billing_viewer = row
        .try_get::<Option<String>, _>("billing_viewer_roles")?
        .is_some_and(|roles| roles.split(',').any(|r| r == role.key()));
    let principal = Arc::new(Principal {
        user_id: UserId(row.try_get("u_id")?),
        email: row.try_get("email")?,
        name: row.try_get("name")?,
        role,
        company_id: row
            .try_get::<Option<String>, _>("company_id")?
            .map(CompanyId),
        company_name: row.try_get("company_name")?,
        tenant: tenant_from_row(&row)?,
        audience,
        session_hash: hash,
        mfa_enrolment_required: policy.covers(role) && !mfa_on,
        language: row.try_get("language")?,
        time_zone: row.try_get("u_time_zone")?,
        billing_viewer,
        membership_count: row.try_get("membership_count")?,
    });
    Ok(Some((principal, times)))
}

/// Ends the session with this token.
pub async fn end(db: &Db, token: &str) -> DbResult<()> {
    end_by_hash(db, &token_hash(token)).await
}

/// Ends the session with this stored hash.
pub async fn end_by_hash(db: &Db, hash: &str) -> DbResult<()> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(hash)
        .execute(db.operator("session lookup by token hash").writer())
        .await?;
    super::cache::changed_now(db, "", Change::Session(hash.to_string())).await
}

/// Ends the session with token hash `hash` inside the action's transaction (sign-out).
pub async fn end_in(tx: &mut crate::db::TenantTx, hash: &str) -> DbResult<()> {
    let tenant = tx.tenant_id().to_string();
    sqlx::query("DELETE FROM sessions WHERE tenant_id = $1 AND token_hash = $2")
        .bind(&tenant)
        .bind(hash)
        .execute(tx.conn())
        .await?;
    super::cache::changed(tx, Change::Session(hash.to_string())).await
}

/// Ends every session of a user inside the action's transaction, except `keep` (a session
/// hash) when given.
pub async fn end_all_for_user_in(
    tx: &mut crate::db::TenantTx,
    user: &UserId,
    keep: Option<&str>,
) -> DbResult<u64> {
    let tenant = tx.tenant_id().to_string();
    let r = sqlx::query(
        "DELETE FROM sessions WHERE tenant_id = $1 AND user_id = $2 AND token_hash <> $3",
    )
    .bind(&tenant)
    .bind(user.as_str())
    .bind(keep.unwrap_or(""))
    .execute(tx.conn())
    .await?;
    super::cache::changed(tx, Change::user(user)).await?;
    Ok(r.rows_affected())
}

/// Ends every session of a user, except `keep` (a session hash) when given.
pub async fn end_all_for_user(
    db: &Db,
    scope: &TenantScope,
    user: &UserId,
    keep: Option<&str>,
) -> DbResult<u64> {
    let r = sqlx::query(
        "DELETE FROM sessions WHERE tenant_id = $1 AND user_id = $2 AND token_hash <> $3",
    )
    .bind(scope.tenant_id().as_str())
    .bind(user.as_str())
    .bind(keep.unwrap_or(""))
    .execute(db.tenant(scope).writer())
    .await?;
    super::cache::changed_now(db, scope.tenant_id().as_str(), Change::user(user)).await?;
    Ok(r.rows_affected())
}

/// Makes `company` the active company of the session `hash` of `user`, inside the action's
/// transaction; `false` (nothing changed) unless the user holds a membership in that company
/// of this tenant. The home company is stored as NULL, so a later change of home follows.
pub async fn switch_company(
    tx: &mut crate::db::TenantTx,
    hash: &str,
    user: &UserId,
    company: &CompanyId,
) -> DbResult<bool> {
    let tenant = tx.tenant_id().to_string();
    let r = sqlx::query(
        "UPDATE sessions SET company_id = CASE WHEN $4 = (SELECT u.company_id FROM users u \
         WHERE u.tenant_id = $1 AND u.id = $3) THEN NULL ELSE $4 END \
         WHERE tenant_id = $1 AND token_hash = $2 AND user_id = $3 AND audience = 'portal' \
         AND EXISTS (SELECT 1 FROM memberships m WHERE m.tenant_id = $1 AND m.user_id = $3 \
         AND m.company_id = $4)",
    )
    .bind(&tenant)
    .bind(hash)
    .bind(user.as_str())
    .bind(company.as_str())
    .execute(tx.conn())
    .await?;
    Ok(r.rows_affected() == 1)
}
