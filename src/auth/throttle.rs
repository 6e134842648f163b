//! Database-backed throttling of sign-in and reset attempts, so limits hold across nodes.

use crate::db::{Db, DbResult, Row, now_ms};

/// A limit: at most `max` hits per `window_ms`.
#[derive(Clone, Copy, Debug)]
pub struct Limit {
    /// Hits allowed in a window.
    pub max: i64,
    /// Window length in milliseconds.
    pub window_ms: i64,
}

/// Failed sign-ins per account.
pub const LOGIN_PER_ACCOUNT: Limit = Limit {
    max: 5,
    window_ms: 15 * 60 * 1000,
};
/// Failed sign-ins per client IP.
pub const LOGIN_PER_IP: Limit = Limit {
    max: 20,
    window_ms: 15 * 60 * 1000,
};
/// Reset or invitation emails per account.
pub const RESET_PER_ACCOUNT: Limit = Limit {
    max: 3,
    window_ms: 60 * 60 * 1000,
};
/// Reset requests per client IP.
pub const RESET_PER_IP: Limit = Limit {
    max: 10,
    window_ms: 60 * 60 * 1000,
};

/// Seconds to wait when `key` is over `limit`, or `None` when it may proceed.
pub async fn blocked_for(db: &Db, key: &str, limit: Limit) -> DbResult<Option<u64>> {
    let row = sqlx::query("SELECT window_start, hits FROM rate_limits WHERE key = $1")
        .bind(key)
        .fetch_optional(db.operator("sign-in throttle").reader())
        .await?;
    let Some(row) = row else { return Ok(None) };
    let start: i64 = row.try_get("window_start")?;
    let hits: i64 = row.try_get("hits")?;
    let now = now_ms();
    if hits >= limit.max && now < start + limit.window_ms {
        let secs = (start + limit.window_ms - now + 999) / 1000;
        return Ok(Some(secs.max(1) as u64));
    }
    Ok(None)
}

/// Counts one hit against `key`, starting a new window when the old one has passed.
pub async fn hit(db: &Db, key: &str, limit: Limit) -> DbResult<i64> {
    let now = now_ms();
    let row = sqlx::query(
        "INSERT INTO rate_limits (key, window_start, hits) VALUES ($1, $2, 1) \
         ON CONFLICT (key) DO UPDATE SET \
           hits = CASE WHEN rate_limits.window_start <= $3 THEN 1 ELSE rate_limits.hits + 1 END, \
           window_start = CASE WHEN rate_limits.window_start <= $3 THEN $2 ELSE rate_limits.window_start END \
         RETURNING hits",
    )
    .bind(key)
    .bind(now)
    .bind(now - limit.window_ms)
    .fetch_one(db.operator("sign-in throttle").writer())
    .await?;
    Ok(row.try_get("hits")?)
}

/// Forgets the hits of `key` (after a successful sign-in).
pub async fn clear(db: &Db, key: &str) -> DbResult<()> {
    sqlx::query("DELETE FROM rate_limits WHERE key = $1")
        .bind(key)
        .execute(db.operator("sign-in throttle").writer())
        .await?;
    Ok(())
}
