//! Database-backed throttling of sign-in and reset attempts, so limits hold across nodes.
//!
//! An attempt takes its slot (one atomic upsert that returns the new count) *before* the
//! password or code is checked. A burst of concurrent requests therefore gets exactly as many
//! checks as the same requests one after another: there is no gap between "is it blocked?"
//! and "count this one" for a parallel request to slip through.

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
/// Password re-confirmations (profile, two-step settings) per account.
pub const CONFIRM_PER_ACCOUNT: Limit = Limit {
    max: 5,
    window_ms: 15 * 60 * 1000,
};

/// The outcome of taking a slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    /// The attempt may go ahead; it has been counted.
    Taken,
    /// Over the limit: wait this many seconds. `first` is true for the first refused attempt
    /// of the window only, so callers can audit a throttled burst once instead of per request.
    Blocked {
        /// Seconds until the window ends.
        wait: u64,
        /// This is the first attempt refused in this window.
        first: bool,
    },
}

impl Slot {
    /// Seconds to wait, when blocked.
    pub fn wait(self) -> Option<u64> {
        match self {
            Slot::Taken => None,
            Slot::Blocked { wait, .. } => Some(wait),
        }
    }
}

/// Counts one attempt against `key` and says whether it may proceed, in one statement.
pub async fn take(db: &Db, key: &str, limit: Limit) -> DbResult<Slot> {
    let now = now_ms();
    let row = sqlx::query(
        "INSERT INTO rate_limits (key, window_start, hits) VALUES ($1, $2, 1) \
         ON CONFLICT (key) DO UPDATE SET \
           hits = CASE WHEN rate_limits.window_start <= $3 THEN 1 ELSE rate_limits.hits + 1 END, \
           window_start = CASE WHEN rate_limits.window_start <= $3 THEN $2 ELSE rate_limits.window_start END \
         RETURNING hits, window_start",
    )
    .bind(key)
    .bind(now)
    .bind(now - limit.window_ms)
    .fetch_one(db.operator("sign-in throttle").writer())
    .await?;
    let hits: i64 = row.try_get("hits")?;
    let start: i64 = row.try_get("window_start")?;
    if hits <= limit.max {
        return Ok(Slot::Taken);
    }
    let secs = (start + limit.window_ms - now + 999) / 1000;
    Ok(Slot::Blocked {
        wait: secs.max(1) as u64,
        first: hits == limit.max + 1,
    })
}

/// Takes a slot on every `(key, limit)`; blocked when any of them is over its limit.
///
/// Every key is counted even when an earlier one is already blocked, so a blocked IP cannot
/// be used to probe accounts without their counters moving too.
pub async fn take_all(db: &Db, keys: &[(&str, Limit)]) -> DbResult<Slot> {
    let mut out = Slot::Taken;
    for (key, limit) in keys {
        let s = take(db, key, *limit).await?;
        out = match (out, s) {
            (Slot::Taken, s) => s,
            (
                Slot::Blocked { wait, first },
                Slot::Blocked {
                    wait: w2,
                    first: f2,
                },
            ) => Slot::Blocked {
                wait: wait.max(w2),
                first: first || f2,
            },
            (b, Slot::Taken) => b,
        };
    }
    Ok(out)
}

/// Gives back one slot of `key` (a successful attempt should not count against a shared IP).
pub async fn give_back(db: &Db, key: &str) -> DbResult<()> {
    sqlx::query("UPDATE rate_limits SET hits = hits - 1 WHERE key = $1 AND hits > 0")
        .bind(key)
        .execute(db.operator("sign-in throttle").writer())
        .await?;
    Ok(())
}

/// Forgets the hits of `key` (after a successful sign-in).
pub async fn clear(db: &Db, key: &str) -> DbResult<()> {
    sqlx::query("DELETE FROM rate_limits WHERE key = $1")
        .bind(key)
        .execute(db.operator("sign-in throttle").writer())
        .await?;
    Ok(())
}
