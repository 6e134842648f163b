//! The OIDC tables: a tenant's providers and the sign-ins in progress.

use super::{Preset, Provider};
use crate::auth::Role;
use crate::db::{AnyRow, Db, DbResult, Row, TenantTx, flag, new_id, now_ms};
use crate::tenancy::TenantScope;

const COLUMNS: &str = "id, name, preset, issuer, client_id, client_secret_sealed, domains, \
    create_users, new_user_role, enabled";

fn provider(r: &AnyRow) -> DbResult<Provider> {
    let domains: String = r.try_get("domains")?;
    let role: String = r.try_get("new_user_role")?;
    let preset: String = r.try_get("preset")?;
    Ok(Provider {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        preset: Preset::parse(&preset),
        issuer: r.try_get("issuer")?,
        client_id: r.try_get("client_id")?,
        client_secret_sealed: r.try_get("client_secret_sealed")?,
        // Written only by `save`, so a parse failure means a hand-edited row: no domain allowed.
        domains: serde_json::from_str(&domains).unwrap_or_default(),
        create_users: flag(r, "create_users")?,
        new_user_role: Role::from_key(&role).unwrap_or(Role::ClientViewer),
        enabled: flag(r, "enabled")?,
    })
}

/// The tenant's providers by name.
pub async fn list(db: &Db, scope: &TenantScope) -> DbResult<Vec<Provider>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM identity_oidc_providers WHERE tenant_id = $1 ORDER BY name, id LIMIT 50"
    ))
    .bind(scope.tenant_id().as_str())
    .fetch_all(db.tenant(scope).reader())
    .await?;
    rows.iter().map(provider).collect()
}

/// One provider of the tenant.
pub async fn get(db: &Db, scope: &TenantScope, id: &str) -> DbResult<Option<Provider>> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM identity_oidc_providers WHERE tenant_id = $1 AND id = $2"
    ))
    .bind(scope.tenant_id().as_str())
    .bind(id)
    .fetch_optional(db.tenant(scope).reader())
    .await?;
    row.as_ref().map(provider).transpose()
}

/// Inserts (empty `id`) or updates a provider; its id.
pub async fn save(tx: &mut TenantTx, p: &Provider) -> DbResult<String> {
    let tenant = tx.tenant_id().to_string();
    let now = now_ms();
    let domains = serde_json::to_string(&p.domains).unwrap_or_else(|_| "[]".into());
    let id = if p.id.is_empty() {
        new_id()
    } else {
        p.id.clone()
    };
    sqlx::query(
        "INSERT INTO identity_oidc_providers (id, tenant_id, name, preset, issuer, client_id, \
         client_secret_sealed, domains, create_users, new_user_role, enabled, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) \
         ON CONFLICT (id) DO UPDATE SET name = $3, preset = $4, issuer = $5, client_id = $6, \
         client_secret_sealed = $7, domains = $8, create_users = $9, new_user_role = $10, \
         enabled = $11, updated_at = $12 WHERE identity_oidc_providers.tenant_id = $2",
    )
    .bind(&id)
    .bind(&tenant)
    .bind(&p.name)
    .bind(p.preset.key())
    .bind(&p.issuer)
    .bind(&p.client_id)
    .bind(&p.client_secret_sealed)
    .bind(&domains)
    .bind(i64::from(p.create_users))
    .bind(p.new_user_role.key())
    .bind(i64::from(p.enabled))
    .bind(now)
    .execute(tx.conn())
    .await?;
    Ok(id)
}

/// Deletes a provider (and its sign-ins in progress); its name, or `None` when it is not the
/// tenant's.
pub async fn delete(tx: &mut TenantTx, id: &str) -> DbResult<Option<String>> {
    let tenant = tx.tenant_id().to_string();
    sqlx::query("DELETE FROM identity_oidc_flows WHERE tenant_id = $1 AND provider_id = $2")
        .bind(&tenant)
        .bind(id)
        .execute(tx.conn())
        .await?;
    let row = sqlx::query(
        "DELETE FROM identity_oidc_providers WHERE tenant_id = $1 AND id = $2 RETURNING name",
    )
    .bind(&tenant)
    .bind(id)
    .fetch_optional(tx.conn())
    .await?;
    row.map(|r| r.try_get("name"))
        .transpose()
        .map_err(Into::into)
}

/// A sign-in in progress.
#[derive(Clone, Debug)]
pub struct Flow {
    /// Provider it was started for.
    pub provider_id: String,
    /// Hash of the browser cookie that started it.
    pub browser_hash: String,
    /// Nonce the `id_token` must carry.
    pub nonce: String,
    /// PKCE verifier for the code exchange.
    pub pkce_verifier: String,
    /// Where to go after sign-in.
    pub next: String,
}

/// Records a started sign-in under the hash of its `state`, forgetting long-expired ones.
pub async fn start_flow(tx: &mut TenantTx, state_hash: &str, f: &Flow) -> DbResult<()> {
    let tenant = tx.tenant_id().to_string();
    let now = now_ms();
    sqlx::query("DELETE FROM identity_oidc_flows WHERE tenant_id = $1 AND expires_at < $2")
        .bind(&tenant)
        .bind(now - 3_600_000)
        .execute(tx.conn())
        .await?;
    sqlx::query(
        "INSERT INTO identity_oidc_flows (state_hash, tenant_id, provider_id, browser_hash, nonce, \
         pkce_verifier, next_path, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(state_hash)
    .bind(&tenant)
    .bind(&f.provider_id)
    .bind(&f.browser_hash)
    .bind(&f.nonce)
    .bind(&f.pkce_verifier)
    .bind(&f.next)
    .bind(now)
    .bind(now + super::FLOW_TTL_MS)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Uses up a started sign-in; `None` when the state is unknown, used, expired or another
/// tenant's. The conditional update decides, so two callbacks racing cannot both win.
pub async fn spend_flow(tx: &mut TenantTx, state_hash: &str) -> DbResult<Option<Flow>> {
    let tenant = tx.tenant_id().to_string();
    let now = now_ms();
    let row = sqlx::query(
        "UPDATE identity_oidc_flows SET used_at = $3 WHERE tenant_id = $1 AND state_hash = $2 \
         AND used_at IS NULL AND expires_at > $3 \
         RETURNING provider_id, browser_hash, nonce, pkce_verifier, next_path",
    )
    .bind(&tenant)
    .bind(state_hash)
    .bind(now)
    .fetch_optional(tx.conn())
    .await?;
    row.map(|r| {
        Ok(Flow {
            provider_id: r.try_get("provider_id")?,
            browser_hash: r.try_get("browser_hash")?,
            nonce: r.try_get("nonce")?,
            pkce_verifier: r.try_get("pkce_verifier")?,
            next: r.try_get("next_path")?,
        })
    })
    .transpose()
}

/// The account a provider's subject signed in as before, if any.
pub async fn subject_user(
    db: &Db,
    scope: &TenantScope,
    provider_id: &str,
    subject: &str,
) -> DbResult<Option<String>> {
    let row = sqlx::query(
        "SELECT user_id FROM identity_oidc_subjects WHERE tenant_id = $1 AND provider_id = $2 AND subject = $3",
    )
    .bind(scope.tenant_id().as_str())
    .bind(provider_id)
    .bind(subject)
    .fetch_optional(db.tenant(scope).reader())
    .await?;
    Ok(row.map(|r| r.try_get("user_id")).transpose()?)
}

/// Remembers (or refreshes) that `subject` of the provider is `user_id`.
pub async fn link_subject(
    tx: &mut TenantTx,
    provider_id: &str,
    subject: &str,
    user_id: &str,
) -> DbResult<()> {
    let tenant = tx.tenant_id().to_string();
    let now = now_ms();
    sqlx::query(
        "INSERT INTO identity_oidc_subjects (tenant_id, provider_id, subject, user_id, created_at, last_used_at) \
         VALUES ($1, $2, $3, $4, $5, $5) \
         ON CONFLICT (tenant_id, provider_id, subject) DO UPDATE SET last_used_at = $5",
    )
    .bind(&tenant)
    .bind(provider_id)
    .bind(subject)
    .bind(user_id)
    .bind(now)
    .execute(tx.conn())
    .await?;
    Ok(())
}
