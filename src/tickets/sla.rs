//! SLA warnings: a watch on every node looks each minute for open tickets whose first
//! response or resolution falls due within [`WARN_WINDOW_MS`] and emails the staff who work
//! them once per deadline. The warning is claimed with a conditional `UPDATE` in the same
//! transaction as its emails, so two nodes scanning at once send it once.

use std::time::Duration;

use serde_json::json;

use super::service::{Pref, email_to, ticket_args};
use super::store::{self, Audience, Deadline};
use crate::audit::{self, Entry};
use crate::db::{DbResult, Row, now_ms};
use crate::error::AppResult;
use crate::i18n::{Arg, Translator, k};
use crate::state::AppState;
use crate::tenancy::{TenantId, TenantScope};

/// How long before a deadline staff are warned.
pub const WARN_WINDOW_MS: i64 = 30 * 60 * 1000;
/// Pause between scans.
const EVERY: Duration = Duration::from_secs(60);
/// Most tickets looked at per scan (the rest wait for the next).
const BATCH: i64 = 500;

/// Tickets of every tenant with a deadline inside the window and no warning yet.
async fn due_soon(app: &AppState, now: i64) -> DbResult<Vec<(String, i64)>> {
    let op = app
        .db
        .operator("SLA watch: tickets of every tenant nearing a deadline");
    let rows = sqlx::query(
        "SELECT tenant_id, number FROM tickets \
         WHERE status IN ('new', 'open', 'pending', 'on_hold') \
         AND ((first_responded_at IS NULL AND sla_first_warned_at IS NULL \
               AND first_response_due_at > $1 AND first_response_due_at <= $2) \
           OR (sla_resolution_warned_at IS NULL AND resolution_due_at > $1 AND resolution_due_at <= $2)) \
         ORDER BY tenant_id, number LIMIT $3",
    )
    .bind(now)
    .bind(now + WARN_WINDOW_MS)
    .bind(BATCH)
    .fetch_all(op.reader())
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("tenant_id")?, r.try_get("number")?)))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

/// Warns about every deadline now inside the window; returns how many warnings were sent.
pub async fn scan(app: &AppState) -> AppResult<usize> {
    let now = now_ms();
    let mut sent = 0;
    for (tenant, number) in due_soon(app, now).await? {
        let op = app
            .db
            .operator("SLA watch: tickets of every tenant nearing a deadline");
        let scope = TenantScope::for_operator(&op, TenantId(tenant));
        for d in [Deadline::FirstResponse, Deadline::Resolution] {
            match warn(app, &scope, number, d, now).await {
                Ok(true) => sent += 1,
                Ok(false) => {}
                Err(e) => tracing::warn!(number, error = %e, "SLA warning failed"),
            }
        }
    }
    Ok(sent)
}

/// Claims and sends one deadline's warning: claim, audit row and emails in one transaction.
async fn warn(
    app: &AppState,
    scope: &TenantScope,
    number: i64,
    d: Deadline,
    now: i64,
) -> AppResult<bool> {
    let mut tx = app.db.tenant(scope).begin().await?;
    let Some(t) = store::by_number_in(&mut tx, number).await? else {
        return Ok(false);
    };
    let Some(due) = store::claim_sla_warning(&mut tx, &t.id, d, now, WARN_WINDOW_MS).await? else {
        return Ok(false);
    };
    audit::append(
        &mut tx,
        Entry {
            company_id: Some(&t.company_id),
            detail: json!({ "number": t.number, "deadline": d.as_str(), "due_at": due }),
            ..Entry::new("ticket.sla_warned").target("ticket", &t.id)
        },
    )
    .await?;
    let compose = |tr: &Translator| {
        let [number, subject] = ticket_args(&t);
        let line = match d {
            Deadline::FirstResponse => k("ticket-email-sla-first-response"),
            Deadline::Resolution => k("ticket-email-sla-resolution"),
        };
        let lines = vec![tr.args(
            line,
            &[
                number.clone(),
                subject.clone(),
                ("due", Arg::Str(tr.datetime(due))),
            ],
        )];
        (
            tr.args(k("ticket-email-sla-subject"), &[number, subject]),
            lines,
        )
    };
    email_to(
        app,
        &mut tx,
        "",
        &t,
        Audience::Staff,
        Pref::SlaWarnings,
        compose,
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Scans every minute until the task is aborted (the first scan a minute after start, so a
/// starting node does its other work first).
pub fn spawn_watch(app: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(EVERY).await;
            if let Err(e) = scan(&app).await {
                tracing::warn!(error = %e, "SLA scan failed");
            }
        }
    })
}
