//! Session re-checks shared by the event streams of one session on this node.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::OnceCell;
use tokio::time::Instant;

use crate::auth::{Audience, Principal, sessions};
use crate::db::Db;

/// Before a stream delivers an event it needs the session as it is after the event arrived.
/// Streams of one session share a lookup when it started after each of them received the
/// event, so a user with many tabs costs fewer queries than streams (docs/performance.md).
#[derive(Default)]
pub struct SessionChecks {
    latest: Mutex<HashMap<(String, Audience), Arc<Check>>>,
}

struct Check {
    started: Instant,
    /// `None` inside: the session is gone; `Err`: the database could not say.
    result: OnceCell<Result<Option<Arc<Principal>>, ()>>,
}

/// Entries older than this are dropped when the map grows.
const FORGET: Duration = Duration::from_secs(120);

impl SessionChecks {
    /// The session of `token` as read by a lookup that started at or after `since`.
    pub async fn session(
        &self,
        db: &Db,
        token: &str,
        audience: Audience,
        since: Instant,
    ) -> Result<Option<Arc<Principal>>, ()> {
        let check = {
            let mut latest = self.latest.lock().unwrap_or_else(|p| p.into_inner());
            let key = (token.to_string(), audience);
            match latest.get(&key) {
                Some(c) if c.started >= since => c.clone(),
                _ => {
                    if latest.len() >= 4096 {
                        latest.retain(|_, c| c.started.elapsed() < FORGET);
                    }
                    let c = Arc::new(Check {
                        started: Instant::now(),
                        result: OnceCell::new(),
                    });
                    latest.insert(key, c.clone());
                    c
                }
            }
        };
        check
            .result
            .get_or_init(|| async {
                sessions::lookup(db, token, audience).await.map_err(|e| {
                    tracing::warn!(error = %e, "cannot re-check an event stream's session");
                })
            })
            .await
            .clone()
    }
}
