//! The signature-reminder job. A policy's reminder schedule lists days before its due date
//! ("7,1": a week before and the day before); on each of those days every signer who has not
//! finished gets one branded reminder, so a policy sends at most as many reminders per signer
//! as its schedule has days. Each sent reminder is a row in `doc_reminders_sent` keyed by
//! request and the tenant's calendar day, so running the job again the same day (or on two
//! nodes at once) sends nothing more. The same job also gives signers who joined a company
//! later ("include users added later") the requests they are owed, in case a write path
//! missed them (users created from the command line, for instance).
//!
//! A watch on every node enqueues the job every hour (and at start), like the invoice overdue
//! job.

use std::time::Duration;

use chrono::TimeZone;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{DAY_MS, parse_reminders, service, store};
use crate::audit::{self, Entry};
use crate::db::{DbError, Row, now_ms};
use crate::error::AppResult;
use crate::jobs::{Job, JobError, JobKind};
use crate::state::AppState;
use crate::tenancy::Tenant;

/// Payload of the `documents.reminders` job.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ReminderJob {
    /// The moment the schedule is compared with (Unix ms); now when absent (tests set it).
    #[serde(default)]
    pub now: Option<i64>,
}

impl JobKind for ReminderJob {
    const KIND: &'static str = "documents.reminders";

    async fn run(self, app: &AppState, _job: &Job) -> Result<(), JobError> {
        let now = self.now.unwrap_or_else(now_ms);
        let tenants = crate::tenancy::store::list(&app.db)
            .await
            .map_err(JobError::retry)?;
        for t in tenants {
            let Some(tenant) = crate::tenancy::store::by_slug(&app.db, &t.slug)
                .await
                .map_err(JobError::retry)?
            else {
                continue;
            };
            let joined = enroll_later_members(app, &tenant)
                .await
                .map_err(JobError::retry)?;
            let sent = send_due(app, &tenant, now).await.map_err(JobError::retry)?;
            if joined + sent > 0 {
                tracing::info!(tenant = %t.slug, requested = joined, reminded = sent, "signature reminders");
            }
        }
        Ok(())
    }
}

/// The start (Unix ms) of the day `days` before the due day; `due_at` is the due day's last
/// second in the tenant's zone.
pub fn reminder_at(due_at: i64, days: i64) -> i64 {
    due_at + 1000 - (days + 1) * DAY_MS
}

/// How many of a schedule's reminders are due at `now` (none once the due date has passed).
pub fn due_count(due_at: i64, days: &[i64], now: i64) -> usize {
    if now > due_at {
        return 0;
    }
    days.iter()
        .filter(|d| reminder_at(due_at, **d) <= now)
        .count()
}

/// The tenant's calendar day of `at`, `YYYY-MM-DD`.
fn day_of(tenant: &Tenant, at: i64) -> String {
    let tz: chrono_tz::Tz = tenant.time_zone.parse().unwrap_or(chrono_tz::Tz::UTC);
    match tz.timestamp_millis_opt(at).single() {
        Some(t) => t.date_naive().format("%Y-%m-%d").to_string(),
        None => String::new(),
    }
}

/// Sends the reminders due at `now` in one tenant; returns how many went out.
pub async fn send_due(app: &AppState, tenant: &Tenant, now: i64) -> AppResult<usize> {
    let scope = tenant.scope();
    let rows = sqlx::query(
        "SELECT s.id, p.due_at, p.reminder_days, (SELECT COUNT(*) FROM doc_reminders_sent r \
         WHERE r.tenant_id = s.tenant_id AND r.signature_id = s.id) AS sent \
         FROM doc_signatures s JOIN doc_policies p ON p.tenant_id = s.tenant_id AND p.id = s.policy_id \
         WHERE s.tenant_id = $1 AND p.status = 'active' AND p.due_at IS NOT NULL AND p.due_at >= $2 \
         AND p.reminder_days <> '' AND s.state IN ('pending', 'read', 'acknowledged') \
         ORDER BY s.id",
    )
    .bind(scope.tenant_id().as_str())
    .bind(now)
    .fetch_all(app.db.tenant(&scope).reader())
    .await
    .map_err(DbError::from)?;
    let mut due = Vec::new();
    for r in &rows {
        let id: String = r.try_get("id").map_err(DbError::from)?;
        let due_at: i64 = r.try_get("due_at").map_err(DbError::from)?;
        let days: String = r.try_get("reminder_days").map_err(DbError::from)?;
        let sent: i64 = r.try_get("sent").map_err(DbError::from)?;
        let days = parse_reminders(&days).unwrap_or_default();
        if (sent as usize) < due_count(due_at, &days, now) {
            due.push(id);
        }
    }
    let day = day_of(tenant, now);
    let mut n = 0;
    for id in due {
        // One transaction per request: the day's row, the reminder mail and the audit row
        // commit together; a second run the same day finds the row and sends nothing.
        let mut tx = app.db.tenant(&scope).begin().await?;
        let tenant_id = tx.tenant_id().to_string();
        let claimed = sqlx::query(
            "INSERT INTO doc_reminders_sent (tenant_id, signature_id, day, created_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(&tenant_id)
        .bind(&id)
        .bind(&day)
        .bind(now_ms())
        .execute(tx.conn())
        .await
        .map_err(DbError::from)?
        .rows_affected();
        if claimed != 1 {
            continue;
        }
        let Some(s) = store::signature_in(&mut tx, &id).await? else {
            continue;
        };
        store::mark_reminded(&mut tx, std::slice::from_ref(&id), now_ms()).await?;
        service::email_requests(app, &mut tx, std::slice::from_ref(&id), true).await?;
        audit::append(
            &mut tx,
            Entry {
                detail: json!({ "name": s.title, "version": s.version, "day": day,
                    "signer": s.user_email, "automatic": true }),
                ..Entry::new("document.reminded").target("signature", &id)
            },
        )
        .await?;
        tx.commit().await?;
        n += 1;
    }
    Ok(n)
}

/// Creates the requests owed to active members of companies whose active policies take users
/// added later; returns how many were created.
pub async fn enroll_later_members(app: &AppState, tenant: &Tenant) -> AppResult<usize> {
    let scope = tenant.scope();
    let rows = sqlx::query(
        "SELECT DISTINCT u.id FROM doc_policies p JOIN doc_policy_companies pc \
         ON pc.tenant_id = p.tenant_id AND pc.policy_id = p.id \
         JOIN users u ON u.tenant_id = pc.tenant_id AND u.company_id = pc.company_id \
         WHERE p.tenant_id = $1 AND p.status = 'active' AND p.include_future = 1 \
         AND u.kind = 'client' AND u.status = 'active' AND NOT EXISTS (SELECT 1 FROM doc_signatures s \
         WHERE s.tenant_id = p.tenant_id AND s.policy_id = p.id AND s.user_id = u.id) ORDER BY u.id",
    )
    .bind(scope.tenant_id().as_str())
    .fetch_all(app.db.tenant(&scope).reader())
    .await
    .map_err(DbError::from)?;
    let mut n = 0;
    for r in &rows {
        let user: String = r.try_get(0).map_err(DbError::from)?;
        let mut tx = app.db.tenant(&scope).begin().await?;
        n += service::enroll_in(app, &mut tx, &user).await?;
        tx.commit().await?;
    }
    Ok(n)
}

/// Enqueues the reminder job at start and then every hour.
pub fn spawn_watch(app: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut last = -1;
        loop {
            let hour = now_ms() / 3_600_000;
            if hour != last {
                match crate::jobs::enqueue_operator(
                    &app.db,
                    None,
                    ReminderJob::KIND,
                    &json!({}),
                    now_ms(),
                )
                .await
                {
                    Ok(_) => last = hour,
                    Err(e) => tracing::warn!(error = %e, "cannot enqueue the reminder job"),
                }
            }
            tokio::time::sleep(Duration::from_secs(15 * 60)).await;
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_points_are_day_starts_before_the_due_day() {
        // Due at the end of day 10 (ms of day 10's last second).
        let due = 11 * DAY_MS - 1000;
        assert_eq!(reminder_at(due, 0), 10 * DAY_MS);
        assert_eq!(reminder_at(due, 1), 9 * DAY_MS);
        assert_eq!(reminder_at(due, 7), 3 * DAY_MS);
        let days = [7, 1];
        assert_eq!(due_count(due, &days, 3 * DAY_MS - 1), 0);
        assert_eq!(due_count(due, &days, 3 * DAY_MS), 1);
        assert_eq!(due_count(due, &days, 9 * DAY_MS + 5), 2);
        assert_eq!(due_count(due, &days, due + 1), 0);
    }
}
