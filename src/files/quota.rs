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
