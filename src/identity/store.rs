//! The identity tables: per-tenant settings, remembered Hub token ids, passwordless codes and
//! the Hub bar's apps.

use serde::Serialize;

use crate::db::{Db, DbResult, Row, TenantTx, flag, new_id, now_ms};
use crate::tenancy::TenantScope;

/// A tenant's identity settings.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    /// The tenant's own Hub secret, sealed with the server key.
    pub hub_secret_sealed: Option<String>,
    /// Required `aud` of Hub tokens (empty: not checked).
    pub hub_audience: String,
    /// Required `iss` of Hub tokens (empty: not checked).
    pub hub_issuer: String,
    /// Name and role follow the token at every Hub sign-in.
    pub hub_updates_profile: bool,
    /// "Email me a sign-in link" on the login page.
    pub passwordless_link: bool,
    /// One-time sign-in codes on the login page.
    pub passwordless_code: bool,
    /// The Hub bar shows on portal pages.
    pub hub_bar_enabled: bool,
}

const COLUMNS: &str = "hub_secret_sealed, hub_audience, hub_issuer, hub_updates_profile, \
    passwordless_link, passwordless_code, hub_bar_enabled";

/// The tenant's settings (defaults when never saved).
pub async fn settings(db: &Db, scope: &TenantScope) -> DbResult<Settings> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM identity_settings WHERE tenant_id = $1"
    ))
    .bind(scope.tenant_id().as_str())
    .fetch_optional(db.tenant(scope).reader())
    .await?;
    let Some(r) = row else {
        return Ok(Settings::default());
    };
    Ok(Settings {
        hub_secret_sealed: r.try_get("hub_secret_sealed")?,
        hub_audience: r.try_get("hub_audience")?,
        hub_issuer: r.try_get("hub_issuer")?,
        hub_updates_profile: flag(&r, "hub_updates_profile")?,
        passwordless_link: flag(&r, "passwordless_link")?,
        passwordless_code: flag(&r, "passwordless_code")?,
        hub_bar_enabled: flag(&r, "hub_bar_enabled")?,
    })
}

/// Saves the settings inside the action's transaction.
pub async fn save(tx: &mut TenantTx, s: &Settings) -> DbResult<()> {
    let tenant = tx.tenant_id().to_string();
    sqlx::query(
        "INSERT INTO identity_settings (tenant_id, hub_secret_sealed, hub_audience, hub_issuer, \
         hub_updates_profile, passwordless_link, passwordless_code, hub_bar_enabled, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (tenant_id) DO UPDATE SET \
         hub_secret_sealed = $2, hub_audience = $3, hub_issuer = $4, hub_updates_profile = $5, \
         passwordless_link = $6, passwordless_code = $7, hub_bar_enabled = $8, updated_at = $9",
    )
    .bind(&tenant)
    .bind(s.hub_secret_sealed.as_deref())
    .bind(&s.hub_audience)
    .bind(&s.hub_issuer)
    .bind(i64::from(s.hub_updates_profile))
    .bind(i64::from(s.passwordless_link))
    .bind(i64::from(s.passwordless_code))
    .bind(i64::from(s.hub_bar_enabled))
    .bind(now_ms())
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Remembers a Hub token id until `expires_at` (ms); false when it was already used. The
/// primary key decides, so two nodes racing on one token cannot both win.
pub async fn remember_jti(tx: &mut TenantTx, jti: &str, expires_at: i64) -> DbResult<bool> {
    let tenant = tx.tenant_id().to_string();
    let now = now_ms();
    // Forgotten ids are those whose token could no longer pass the expiry check anyway.
    sqlx::query("DELETE FROM identity_hub_jtis WHERE tenant_id = $1 AND expires_at < $2")
        .bind(&tenant)
        .bind(now - 3_600_000)
        .execute(tx.conn())
        .await?;
    let r = sqlx::query(
        "INSERT INTO identity_hub_jtis (tenant_id, jti, expires_at, used_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (tenant_id, jti) DO NOTHING",
    )
    .bind(&tenant)
    .bind(jti)
    .bind(expires_at)
    .bind(now)
    .execute(tx.conn())
    .await?;
    Ok(r.rows_affected() == 1)
}

/// A company of the tenant by Portico id or exact name, with whether it is active.
pub async fn company_by_ref(
    db: &Db,
    scope: &TenantScope,
    reference: &str,
) -> DbResult<Option<(String, bool)>> {
    let row = sqlx::query(
        "SELECT id, status FROM companies WHERE tenant_id = $1 AND (id = $2 OR name = $2) \
         ORDER BY CASE WHEN id = $2 THEN 0 ELSE 1 END LIMIT 1",
    )
    .bind(scope.tenant_id().as_str())
    .bind(reference)
    .fetch_optional(db.tenant(scope).reader())
    .await?;
    row.map(|r| {
        let status: String = r.try_get("status")?;
        Ok((r.try_get("id")?, status == "active"))
    })
    .transpose()
}

/// Changes a user's name and role (the Hub is the source of truth when the tenant allows it).
pub async fn update_profile(
    tx: &mut TenantTx,
    user: &crate::auth::UserId,
    name: &str,
    role: crate::auth::Role,
) -> DbResult<()> {
    let tenant = tx.tenant_id().to_string();
    sqlx::query(
        "UPDATE users SET name = $3, kind = $4, role = $5, updated_at = $6 WHERE tenant_id = $1 AND id = $2",
    )
    .bind(&tenant)
    .bind(user.as_str())
    .bind(name)
    .bind(role.kind().as_str())
    .bind(role.stored_role())
    .bind(now_ms())
    .execute(tx.conn())
    .await?;
    if role.kind() == crate::auth::UserKind::Client {
        // The home membership follows the role the Hub sends.
        sqlx::query(
            "UPDATE memberships SET role = $3 WHERE tenant_id = $1 AND user_id = $2 \
             AND company_id = (SELECT company_id FROM users WHERE tenant_id = $1 AND id = $2)",
        )
        .bind(&tenant)
        .bind(user.as_str())
        .bind(role.stored_role())
        .execute(tx.conn())
        .await?;
    }
    crate::auth::cache::changed(tx, crate::auth::cache::Change::user(user)).await
}

/// Makes an invited account usable (the Hub vouched for the person).
pub async fn activate(tx: &mut TenantTx, user: &crate::auth::UserId) -> DbResult<()> {
    let tenant = tx.tenant_id().to_string();
    sqlx::query(
        "UPDATE users SET status = 'active', updated_at = $3 WHERE tenant_id = $1 AND id = $2 AND status = 'invited'",
    )
    .bind(&tenant)
    .bind(user.as_str())
    .bind(now_ms())
    .execute(tx.conn())
    .await?;
    crate::auth::cache::changed(tx, crate::auth::cache::Change::user(user)).await
}

/// One app of the Hub bar.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct HubApp {
    /// Id.
    pub id: String,
    /// Name shown in the bar.
    pub name: String,
    /// Where it links (https, or http on loopback).
    pub url: String,
    /// Optional icon URL.
    pub icon_url: String,
    /// Opened through Portico with a signed token for the person (the app accepts it).
    pub sso: bool,
}

/// The tenant's Hub bar apps in bar order.
pub async fn apps(db: &Db, scope: &TenantScope) -> DbResult<Vec<HubApp>> {
    let rows = sqlx::query(
        "SELECT id, name, url, icon_url, sso FROM identity_hub_apps WHERE tenant_id = $1 ORDER BY position, id LIMIT 20",
    )
    .bind(scope.tenant_id().as_str())
    .fetch_all(db.tenant(scope).reader())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(HubApp {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                url: r.try_get("url")?,
                icon_url: r.try_get("icon_url")?,
                sso: flag(r, "sso")?,
            })
        })
        .collect()
}

/// Adds an app at the end of the bar.
pub async fn add_app(
    tx: &mut TenantTx,
    name: &str,
    url: &str,
    icon_url: &str,
    sso: bool,
) -> DbResult<String> {
    let tenant = tx.tenant_id().to_string();
    let id = new_id();
    sqlx::query(
        "INSERT INTO identity_hub_apps (id, tenant_id, name, url, icon_url, position, created_at, sso) \
         VALUES ($1, $2, $3, $4, $5, (SELECT COALESCE(MAX(position), 0) + 1 FROM identity_hub_apps WHERE tenant_id = $2), $6, $7)",
    )
    .bind(&id)
    .bind(&tenant)
    .bind(name)
    .bind(url)
    .bind(icon_url)
    .bind(now_ms())
    .bind(i64::from(sso))
    .execute(tx.conn())
    .await?;
    Ok(id)
}

/// Removes an app; false when it is not the tenant's.
pub async fn remove_app(tx: &mut TenantTx, id: &str) -> DbResult<Option<String>> {
    let tenant = tx.tenant_id().to_string();
    let row = sqlx::query(
        "DELETE FROM identity_hub_apps WHERE tenant_id = $1 AND id = $2 RETURNING name",
    )
    .bind(&tenant)
    .bind(id)
    .fetch_optional(tx.conn())
    .await?;
    row.map(|r| r.try_get("name"))
        .transpose()
        .map_err(Into::into)
}

/// Issues a sign-in code and link for `user` (valid until `expires_at`, ms), retiring any older
/// unused ones: only the newest email works.
pub async fn issue_sign_in(
    tx: &mut TenantTx,
    id: &str,
    user: &crate::auth::UserId,
    code_hash: &str,
    link_hash: &str,
    expires_at: i64,
) -> DbResult<()> {
    let tenant = tx.tenant_id().to_string();
    let now = now_ms();
    sqlx::query(
        "UPDATE identity_sign_in_codes SET used_at = $3 WHERE tenant_id = $1 AND user_id = $2 \
         AND used_at IS NULL",
    )
    .bind(&tenant)
    .bind(user.as_str())
    .bind(now)
    .execute(tx.conn())
    .await?;
    sqlx::query(
        "INSERT INTO identity_sign_in_codes (id, tenant_id, user_id, code_hash, link_hash, \
         created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id)
    .bind(&tenant)
    .bind(user.as_str())
    .bind(code_hash)
    .bind(link_hash)
    .bind(now)
    .bind(expires_at)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The newest still-valid sign-in code of `user`: `(id, code_hash)`.
pub async fn live_code(
    db: &Db,
    scope: &TenantScope,
    user: &crate::auth::UserId,
) -> DbResult<Option<(String, String)>> {
    let row = sqlx::query(
        "SELECT id, code_hash FROM identity_sign_in_codes WHERE tenant_id = $1 AND user_id = $2 \
         AND used_at IS NULL AND expires_at > $3 ORDER BY created_at DESC LIMIT 1",
    )
    .bind(scope.tenant_id().as_str())
    .bind(user.as_str())
    .bind(now_ms())
    .fetch_optional(db.tenant(scope).reader())
    .await?;
    row.map(|r| Ok((r.try_get("id")?, r.try_get("code_hash")?)))
        .transpose()
}

/// Uses up the code `id`; false when another request used it first or it expired.
pub async fn spend_code(tx: &mut TenantTx, id: &str) -> DbResult<bool> {
    let tenant = tx.tenant_id().to_string();
    let now = now_ms();
    let r = sqlx::query(
        "UPDATE identity_sign_in_codes SET used_at = $3 WHERE tenant_id = $1 AND id = $2 \
         AND used_at IS NULL AND expires_at > $3",
    )
    .bind(&tenant)
    .bind(id)
    .bind(now)
    .execute(tx.conn())
    .await?;
    Ok(r.rows_affected() == 1)
}

/// The user of a still-valid sign-in link, without using it up.
pub async fn peek_link(
    db: &Db,
    scope: &TenantScope,
    link_hash: &str,
) -> DbResult<Option<crate::auth::UserId>> {
    let row = sqlx::query(
        "SELECT user_id FROM identity_sign_in_codes WHERE tenant_id = $1 AND link_hash = $2 \
         AND used_at IS NULL AND expires_at > $3",
    )
    .bind(scope.tenant_id().as_str())
    .bind(link_hash)
    .bind(now_ms())
    .fetch_optional(db.tenant(scope).reader())
    .await?;
    row.map(|r| Ok(crate::auth::UserId(r.try_get("user_id")?)))
        .transpose()
}

/// Uses up a sign-in link inside the sign-in's transaction; its user, or `None` when it is
/// unknown, used, expired or another tenant's.
pub async fn spend_link(
    tx: &mut TenantTx,
    link_hash: &str,
) -> DbResult<Option<crate::auth::UserId>> {
    let tenant = tx.tenant_id().to_string();
    let now = now_ms();
    let row = sqlx::query(
        "UPDATE identity_sign_in_codes SET used_at = $3 WHERE tenant_id = $1 AND link_hash = $2 \
         AND used_at IS NULL AND expires_at > $3 RETURNING user_id",
    )
    .bind(&tenant)
    .bind(link_hash)
    .bind(now)
    .fetch_optional(tx.conn())
    .await?;
    row.map(|r| Ok(crate::auth::UserId(r.try_get("user_id")?)))
        .transpose()
}

/// The Hub bar of a tenant: its apps when the bar is on, else none.
pub async fn hub_bar(db: &Db, scope: &TenantScope) -> DbResult<Vec<HubApp>> {
    if !settings(db, scope).await?.hub_bar_enabled {
        return Ok(Vec::new());
    }
    apps(db, scope).await
}
