//! The per-tenant storage allowance. Usage is a counter on the tenant row, charged by the
//! uploading action inside its own transaction with one conditional `UPDATE`: the row lock
//! (PostgreSQL) or the single writer (SQLite) serialises concurrent uploads, and the second
//! re-reads the counter the first committed, so two uploads can never both pass the cap.

use crate::db::TenantTx;
use crate::error::{AppError, AppResult};

/// Shown when an upload would exceed the allowance (a `messages.ftl` id).
pub const QUOTA_EXCEEDED: &str = "This organisation has used its storage allowance, so the files were not saved. Ask your provider for more space.";

/// Adds `bytes` to the tenant's usage, or refuses (422) when that would pass its allowance.
/// Rolls back with the action's transaction.
pub async fn charge(tx: &mut TenantTx, bytes: i64) -> AppResult<()> {
    if bytes <= 0 {
        return Ok(());
    }
    let tenant = tx.tenant_id().to_string();
    let row = sqlx::query(
        "UPDATE tenants SET storage_used_bytes = storage_used_bytes + $2 WHERE id = $1 \
         AND (storage_quota_bytes IS NULL OR storage_used_bytes + $2 <= storage_quota_bytes) \
         RETURNING storage_used_bytes",
    )
    .bind(tenant)
    .bind(bytes)
    .fetch_optional(tx.conn())
    .await?;
    match row {
        Some(_) => Ok(()),
        None => Err(AppError::Unprocessable(QUOTA_EXCEEDED.into())),
    }
}

/// A tenant's stored bytes and its allowance (`None`: unlimited).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Usage {
    /// Bytes stored.
    pub used: i64,
    /// Allowance in bytes, if any.
    pub quota: Option<i64>,
}

impl Usage {
    /// Whole megabytes used, rounded up so a few bytes do not read as zero.
    pub fn used_mb(&self) -> i64 {
        (self.used + 1_048_575) / 1_048_576
    }

    /// The allowance in whole megabytes.
    pub fn quota_mb(&self) -> Option<i64> {
        self.quota.map(|q| q / 1_048_576)
    }
}

/// How much of its allowance the tenant uses.
pub async fn usage(db: &crate::db::Db, scope: &crate::tenancy::TenantScope) -> AppResult<Usage> {
    use sqlx::Row;
    let row =
        sqlx::query("SELECT storage_used_bytes, storage_quota_bytes FROM tenants WHERE id = $1")
            .bind(scope.tenant_id().as_str())
            .fetch_one(db.tenant(scope).reader())
            .await
            .map_err(crate::db::DbError::from)?;
    Ok(Usage {
        used: row
            .try_get("storage_used_bytes")
            .map_err(crate::db::DbError::from)?,
        quota: row
            .try_get("storage_quota_bytes")
            .map_err(crate::db::DbError::from)?,
    })
}
