//! Demo announcements for the acme tenant: one of each severity, one scheduled for next week,
//! one expired, one for Initech only. Inserts only what is missing (matched by title); times
//! are relative to the first start.

use super::{Input, Severity};
use crate::db::{Db, Row, now_ms};
use crate::tenancy::TenantScope;

const HOUR: i64 = 60 * 60 * 1000;
const DAY: i64 = 24 * HOUR;

/// `(title, body, severity, Initech only, publish offset, expiry offset, pinned)`.
#[allow(clippy::type_complexity)]
const ANNOUNCEMENTS: &[(&str, &str, Severity, bool, i64, Option<i64>, bool)] = &[
    (
        "New service desk hours",
        "From next month the service desk answers **07:00–19:00** on weekdays. Urgent issues outside these hours: call the on-call number on your badge.",
        Severity::Info,
        false,
        -3 * DAY,
        None,
        true,
    ),
    (
        "Planned maintenance: email on Saturday night",
        "Email will be unavailable on **Saturday 22:00–02:00** while we move mailboxes to new servers. Messages sent to you during that time are delivered afterwards.",
        Severity::Warning,
        false,
        -DAY,
        Some(10 * DAY),
        false,
    ),
    (
        "Phishing wave targeting invoices",
        "We are seeing fake invoice emails with a link to \"view the PDF\". Do **not** sign in from such links. Use *Report message* in Outlook.",
        Severity::Critical,
        false,
        -2 * HOUR,
        Some(5 * DAY),
        false,
    ),
    (
        "Initech: new Wi-Fi password on floor 4",
        "The guest Wi-Fi on floor 4 has a new password, posted at reception. Staff Wi-Fi is unchanged.",
        Severity::Info,
        true,
        -5 * HOUR,
        None,
        false,
    ),
    (
        "Windows 11 upgrades start next week",
        "We will upgrade laptops in small groups after hours. You will get an email the day before yours.",
        Severity::Info,
        false,
        7 * DAY,
        None,
        false,
    ),
    (
        "VPN certificate renewal completed",
        "The VPN certificate was renewed. No action was needed.",
        Severity::Info,
        false,
        -20 * DAY,
        Some(-10 * DAY),
        false,
    ),
];

/// Inserts the missing demo announcements. Past publications are marked delivered so that
/// starting the demo sends no email and no event.
pub async fn seed(db: &Db, scope: &TenantScope) -> anyhow::Result<()> {
    let initech: Option<String> =
        sqlx::query("SELECT id FROM companies WHERE tenant_id = $1 AND name = $2")
            .bind(scope.tenant_id().as_str())
            .bind("Initech")
            .fetch_optional(db.tenant(scope).reader())
            .await?
            .map(|r| r.try_get::<String, _>(0))
            .transpose()?;
    let now = now_ms();
    for (title, body, severity, initech_only, publish, expires, pinned) in ANNOUNCEMENTS {
        let exists =
            sqlx::query("SELECT id FROM announcements WHERE tenant_id = $1 AND title = $2")
                .bind(scope.tenant_id().as_str())
                .bind(*title)
                .fetch_optional(db.tenant(scope).reader())
                .await?;
        if exists.is_some() {
            continue;
        }
        let companies = match (initech_only, &initech) {
            (true, Some(i)) => vec![i.clone()],
            (true, None) => continue,
            _ => vec![],
        };
        let input = Input {
            title: title.to_string(),
            body: body.to_string(),
            severity: *severity,
            companies,
            publish_at: now + publish,
            expires_at: expires.map(|e| now + e),
            pinned: *pinned,
        };
        let mut tx = db.tenant(scope).begin().await?;
        let id = crate::db::new_id();
        super::write(&mut tx, &id, &input, None, true).await?;
        if input.publish_at <= now {
            sqlx::query(
                "UPDATE announcements SET delivered_at = $3 WHERE tenant_id = $1 AND id = $2",
            )
            .bind(scope.tenant_id().as_str())
            .bind(&id)
            .bind(now)
            .execute(tx.conn())
            .await?;
        } else {
            use crate::jobs::JobKind;
            super::PublishJob {
                announcement_id: id.clone(),
            }
            .enqueue_at(&mut tx, input.publish_at)
            .await?;
        }
        tx.commit().await?;
    }
    Ok(())
}
