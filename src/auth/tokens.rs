//! Single-use tokens for password reset, invitations and the second sign-in step.

use super::UserId;
use super::sessions::{random_token, token_hash};
use crate::db::{Db, DbResult, Row, TenantTx, now_ms};
use crate::tenancy::TenantId;

/// What a token is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// Reset a forgotten password (1 hour).
    Reset,
    /// Accept an invitation (7 days).
    Invite,
    /// Finish a sign-in with the second factor (5 minutes).
    Mfa,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::Reset => "reset",
            Purpose::Invite => "invite",
            Purpose::Mfa => "mfa",
        }
    }

    /// How long a token stays valid.
    pub fn ttl_ms(self) -> i64 {
        match self {
            Purpose::Reset => 3600 * 1000,
            Purpose::Invite => 7 * 24 * 3600 * 1000,
            Purpose::Mfa => 5 * 60 * 1000,
        }
    }
}

/// Issues a token inside the action's transaction, retiring older unused ones of the same
/// purpose for the user.
pub async fn issue(tx: &mut TenantTx, user: &UserId, purpose: Purpose) -> DbResult<String> {
    let token = random_token();
    let now = now_ms();
    let tenant = tx.tenant_id().to_string();
    sqlx::query(
        "UPDATE one_time_tokens SET used_at = $3 WHERE tenant_id = $4 AND user_id = $1 AND purpose = $2 \
         AND used_at IS NULL",
    )
    .bind(user.as_str())
    .bind(purpose.as_str())
    .bind(now)
    .bind(&tenant)
    .execute(tx.conn())
    .await?;
    sqlx::query(
        "INSERT INTO one_time_tokens (token_hash, tenant_id, user_id, purpose, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(token_hash(&token))
    .bind(&tenant)
    .bind(user.as_str())
    .bind(purpose.as_str())
    .bind(now)
    .bind(now + purpose.ttl_ms())
    .execute(tx.conn())
    .await?;
    Ok(token)
}

/// The tenant and user of a still-valid token, without using it up.
pub async fn peek(db: &Db, token: &str, purpose: Purpose) -> DbResult<Option<(TenantId, UserId)>> {
    let row = sqlx::query(
        "SELECT tenant_id, user_id FROM one_time_tokens WHERE token_hash = $1 AND purpose = $2 \
         AND used_at IS NULL AND expires_at > $3",
    )
    .bind(token_hash(token))
    .bind(purpose.as_str())
    .bind(now_ms())
    .fetch_optional(db.operator("one-time token lookup by its hash").reader())
    .await?;
    row.map(|r| {
        Ok((
            TenantId(r.try_get("tenant_id")?),
            UserId(r.try_get("user_id")?),
        ))
    })
    .transpose()
}

/// Consumes `token` inside the action's transaction (the tenant is the transaction's), so a
/// failed action leaves the link usable; `None` when it is unknown, used, expired or another
/// tenant's.
pub async fn consume_in(
    tx: &mut crate::db::TenantTx,
    token: &str,
    purpose: Purpose,
) -> DbResult<Option<UserId>> {
    let tenant = tx.tenant_id().to_string();
    let row = sqlx::query(
        "UPDATE one_time_tokens SET used_at = $4 WHERE token_hash = $1 AND purpose = $2 \
         AND tenant_id = $3 AND used_at IS NULL AND expires_at > $4 RETURNING user_id",
    )
    .bind(token_hash(token))
    .bind(purpose.as_str())
    .bind(&tenant)
    .bind(now_ms())
    .fetch_optional(tx.conn())
    .await?;
    row.map(|r| Ok(UserId(r.try_get("user_id")?))).transpose()
}

/// Uses a token up; only the first caller gets the user back.
pub async fn consume(
    db: &Db,
    token: &str,
    purpose: Purpose,
) -> DbResult<Option<(TenantId, UserId)>> {
    let now = now_ms();
    let row = sqlx::query(
        "UPDATE one_time_tokens SET used_at = $3 WHERE token_hash = $1 AND purpose = $2 \
         AND used_at IS NULL AND expires_at > $3 RETURNING tenant_id, user_id",
    )
    .bind(token_hash(token))
    .bind(purpose.as_str())
    .bind(now)
    .fetch_optional(db.operator("one-time token lookup by its hash").writer())
    .await?;
    row.map(|r| {
        Ok((
            TenantId(r.try_get("tenant_id")?),
            UserId(r.try_get("user_id")?),
        ))
    })
    .transpose()
}
