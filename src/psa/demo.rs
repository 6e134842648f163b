//! Demo PSA connection for the acme tenant: a generic connector with the default mappings,
//! paused (the demo never calls out, and no API key is stored: staff enter one to go live),
//! with a short run history (a failed run, then a good one an hour ago), one demo ticket linked to its PSA ticket and a
//! priority conflict recorded on it. Inserts only what is missing.

use super::store::{self, Link, Settings};
use super::{DEFAULT_INTERVAL_MINUTES, Mapping};
use crate::db::{Db, DbResult, new_id, now_ms};
use crate::tenancy::TenantScope;

/// Where the demo connection points (never called: the connection is paused).
pub const DEMO_BASE_URL: &str = "https://psa.acme.example/api/portico";
/// The demo ticket that is linked to the PSA.
const LINKED_SUBJECT: &str = "VPN disconnects every hour";

/// Seeds the demo connection unless the tenant has PSA settings.
pub async fn seed(db: &Db, scope: &TenantScope) -> DbResult<()> {
    if store::settings(db, scope).await?.is_some() {
        return Ok(());
    }
    let tenant = scope.tenant_id().as_str().to_string();
    let now = now_ms();
    let hour = 60 * 60 * 1000;
    let mut tx = db.tenant(scope).begin().await?;
    store::save_settings(
        &mut tx,
        &Settings {
            connector: "generic".into(),
            base_url: DEMO_BASE_URL.into(),
            enabled: false,
            interval_minutes: DEFAULT_INTERVAL_MINUTES,
            mapping: Mapping::with_defaults(Default::default(), Default::default()),
            ..Settings::default()
        },
    )
    .await?;
    sqlx::query(
        "UPDATE psa_settings SET last_run_at = $1, last_success_at = $1 WHERE tenant_id = $2",
    )
    .bind(now - hour)
    .bind(&tenant)
    .execute(tx.conn())
    .await?;
    // A short history: a run the PSA refused during its maintenance, then a good one.
    for (ago, ok, pulled, pushed, error) in [
        (
            2 * hour,
            0i64,
            0i64,
            0i64,
            Some("the PSA could not be reached: 503 PSA maintenance"),
        ),
        (hour, 1, 3, 2, None),
    ] {
        sqlx::query(
            "INSERT INTO psa_runs (id, tenant_id, started_at, finished_at, ok, pulled, pushed, conflicts, skipped, error) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9)",
        )
        .bind(new_id())
        .bind(&tenant)
        .bind(now - ago)
        .bind(now - ago + 1_400)
        .bind(ok)
        .bind(pulled)
        .bind(pushed)
        .bind(ok)
        .bind(error)
        .execute(tx.conn())
        .await?;
    }
    let ticket: Option<(String, String, String)> = sqlx::query_as(
        "SELECT id, status, priority FROM tickets WHERE tenant_id = $1 AND subject = $2",
    )
    .bind(&tenant)
    .bind(LINKED_SUBJECT)
    .fetch_optional(tx.conn())
    .await?;
    if let Some((id, status, priority)) = ticket {
        store::put_link(
            tx.conn(),
            &tenant,
            "ticket",
            &Link {
                local_id: id.clone(),
                external_id: "T-4711".into(),
                base_status: Some(status),
                base_priority: Some(priority.clone()),
                base_assignee: None,
                missing_at: None,
            },
        )
        .await?;
        sqlx::query(
            "INSERT INTO psa_conflicts (id, tenant_id, ticket_id, field, local_value, psa_value, winner, at) \
             VALUES ($1, $2, $3, 'priority', $4, 'normal', 'portico', $5)",
        )
        .bind(new_id())
        .bind(&tenant)
        .bind(&id)
        .bind(&priority)
        .bind(now - hour + 700)
        .execute(tx.conn())
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
