//! The durable job queue in the database: enqueue here; workers claim and run due jobs.

use serde_json::Value;

use crate::db::{Db, DbResult, new_id, now_ms};

/// Kind of the job that sends one email.
pub const EMAIL: &str = "email";

/// Default attempts before a job is marked failed.
pub const DEFAULT_MAX_ATTEMPTS: i64 = 8;

/// Adds a job to run at `run_at` (Unix ms); `tenant_id` lets staff see their tenant's jobs.
pub async fn enqueue(
    db: &Db,
    tenant_id: Option<&str>,
    kind: &str,
    payload: &Value,
    run_at: i64,
) -> DbResult<String> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO jobs (id, tenant_id, kind, payload, status, run_at, attempts, max_attempts, created_at) \
         VALUES ($1, $2, $3, $4, 'queued', $5, 0, $6, $7)",
    )
    .bind(&id)
    .bind(tenant_id)
    .bind(kind)
    .bind(payload.to_string())
    .bind(run_at)
    .bind(DEFAULT_MAX_ATTEMPTS)
    .bind(now_ms())
    .execute(db.pool())
    .await?;
    Ok(id)
}
