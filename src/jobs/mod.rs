//! The durable job queue in the database: enqueue here; workers claim and run due jobs.
//!
//! Claiming is one `UPDATE … WHERE id IN (SELECT … LIMIT n) RETURNING` statement, so a job
//! is handed to exactly one worker: PostgreSQL adds `FOR UPDATE SKIP LOCKED` so concurrent
//! nodes take disjoint batches; SQLite has a single writer, which serialises the statement.
//! A claim is a lease (`locked_until`): if the node dies, the job becomes claimable again
//! when the lease runs out. A result is only recorded by the claim that still holds the job.

pub mod email;
pub mod routes;

use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use crate::db::{AnyRow, Backend, Db, DbResult, Row, TenantTx, new_id, now_ms};
use crate::state::AppState;
use crate::tenancy::TenantScope;
pub use email::EmailJob;

/// Kind of the job that sends one email.
pub const EMAIL: &str = EmailJob::KIND;

/// Default attempts before a job is marked failed.
pub const DEFAULT_MAX_ATTEMPTS: i64 = 8;

/// How long a claim holds a job; a handler is cut off well before it runs out.
pub const LEASE_MS: i64 = 5 * 60 * 1000;
/// Longest a handler may run.
const HANDLER_TIMEOUT: Duration = Duration::from_secs(4 * 60);
/// First retry delay; doubled per attempt.
const BACKOFF_BASE_MS: i64 = 30_000;
/// Longest retry delay.
const BACKOFF_MAX_MS: i64 = 60 * 60 * 1000;
/// Jobs claimed per batch.
const BATCH: i64 = 10;

/// A kind of background job: its name, payload type, retry policy and handler.
///
/// The payload is the implementing type itself, stored as JSON. Jobs are enqueued inside the
/// write action's transaction ([`JobKind::enqueue`]), so a job exists exactly when the change
/// that asked for it committed (a transactional outbox).
pub trait JobKind: Serialize + serde::de::DeserializeOwned + Send + Sync + Sized + 'static {
    /// Stored `kind` and handler name.
    const KIND: &'static str;
    /// Attempts before the job is marked failed.
    const MAX_ATTEMPTS: i64 = DEFAULT_MAX_ATTEMPTS;

    /// Runs the job once.
    fn run(
        self,
        app: &AppState,
        job: &Job,
    ) -> impl std::future::Future<Output = Result<(), JobError>> + Send;

    /// Enqueues the job inside the action's transaction; it becomes due when that commits.
    fn enqueue(
        &self,
        tx: &mut TenantTx,
    ) -> impl std::future::Future<Output = DbResult<String>> + Send {
        self.enqueue_at(tx, now_ms())
    }

    /// Enqueues the job inside the action's transaction to run at `run_at` (Unix ms).
    fn enqueue_at(
        &self,
        tx: &mut TenantTx,
        run_at: i64,
    ) -> impl std::future::Future<Output = DbResult<String>> + Send {
        async move {
            let payload = serde_json::to_value(self)
                .map_err(|e| crate::db::DbError::Sqlx(sqlx::Error::Encode(Box::new(e))))?;
            let tenant = tx.tenant_id().to_string();
            let id = insert(
                tx.conn(),
                Some(&tenant),
                Self::KIND,
                &payload,
                run_at,
                Self::MAX_ATTEMPTS,
            )
            .await?;
            tx.job_enqueued();
            Ok(id)
        }
    }
}

/// Inserts a job row on `conn` (the action's transaction or an operator connection).
async fn insert(
    conn: &mut sqlx::AnyConnection,
    tenant_id: Option<&str>,
    kind: &str,
    payload: &Value,
    run_at: i64,
    max_attempts: i64,
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
    .bind(max_attempts)
    .bind(now_ms())
    .execute(conn)
    .await?;
    Ok(id)
}

/// Adds a job from an operator path (tests, tooling) to run at `run_at` (Unix ms), outside
/// any action; `tenant_id` lets staff see their tenant's jobs.
pub async fn enqueue_operator(
    db: &Db,
    tenant_id: Option<&str>,
    kind: &str,
    payload: &Value,
    run_at: i64,
) -> DbResult<String> {
    let op = db.operator("job enqueued by tooling");
    let mut conn = op.writer().acquire().await?;
    let id = insert(
        &mut conn,
        tenant_id,
        kind,
        payload,
        run_at,
        DEFAULT_MAX_ATTEMPTS,
    )
    .await?;
    op.wake_jobs();
    Ok(id)
}

async fn run_typed<J: JobKind>(app: &AppState, job: &Job) -> Result<(), JobError> {
    let payload: J = serde_json::from_value(job.payload.clone()).map_err(|e| {
        JobError::permanent(format!("the {} job's payload is not valid: {e}", J::KIND))
    })?;
    payload.run(app, job).await
}

/// A claimed job.
#[derive(Clone, Debug)]
pub struct Job {
    /// Row id.
    pub id: String,
    /// Tenant the job works for.
    pub tenant_id: Option<String>,
    /// Handler name.
    pub kind: String,
    /// Handler input.
    pub payload: Value,
    /// Attempts made before this one.
    pub attempts: i64,
    /// Attempts allowed.
    pub max_attempts: i64,
}

/// Why a handler did not finish.
#[derive(Debug)]
pub enum JobError {
    /// Worth trying again later (network, remote server down).
    Retry(anyhow::Error),
    /// Will never work (bad payload, tenant gone): fail without retrying.
    Permanent(anyhow::Error),
}

impl JobError {
    /// A transient failure.
    pub fn retry(e: impl std::fmt::Display) -> JobError {
        JobError::Retry(anyhow::anyhow!("{e}"))
    }
    /// A failure retrying cannot fix.
    pub fn permanent(e: impl std::fmt::Display) -> JobError {
        JobError::Permanent(anyhow::anyhow!("{e}"))
    }
}

/// The handler registry: one arm per job kind.
async fn handle(app: &AppState, job: &Job) -> Result<(), JobError> {
    match job.kind.as_str() {
        EmailJob::KIND => run_typed::<EmailJob>(app, job).await,
        crate::invoices::overdue::OverdueJob::KIND => {
            run_typed::<crate::invoices::overdue::OverdueJob>(app, job).await
        }
        crate::billing::autopay::AutopayJob::KIND => {
            run_typed::<crate::billing::autopay::AutopayJob>(app, job).await
        }
        crate::announcements::PublishJob::KIND => {
            run_typed::<crate::announcements::PublishJob>(app, job).await
        }
        crate::announcements::ExpireJob::KIND => {
            run_typed::<crate::announcements::ExpireJob>(app, job).await
        }
        crate::mission::giving::recurring::RecurringJob::KIND => {
            run_typed::<crate::mission::giving::recurring::RecurringJob>(app, job).await
        }
        crate::psa::sync::SyncJob::KIND => run_typed::<crate::psa::sync::SyncJob>(app, job).await,
        crate::documents::reminders::ReminderJob::KIND => {
            run_typed::<crate::documents::reminders::ReminderJob>(app, job).await
        }
        crate::documents::legal::CallbackJob::KIND => {
            run_typed::<crate::documents::legal::CallbackJob>(app, job).await
        }
        crate::mission::statements::RunJob::KIND => {
            run_typed::<crate::mission::statements::RunJob>(app, job).await
        }
        crate::mission::statements::MailJob::KIND => {
            run_typed::<crate::mission::statements::MailJob>(app, job).await
        }
        // Another node may run a newer version that knows this kind: retry rather than drop.
        other => Err(JobError::retry(format!(
            "no handler for job kind '{other}'"
        ))),
    }
}

/// Delay before the retry that follows `attempts` earlier failures: 30 s · 2^attempts, capped.
pub fn backoff_ms(attempts: i64) -> i64 {
    let shift = attempts.clamp(0, 20) as u32;
    BACKOFF_BASE_MS
        .saturating_mul(1i64 << shift)
        .min(BACKOFF_MAX_MS)
}

fn job_from_row(r: &AnyRow) -> Result<Job, sqlx::Error> {
    let payload: String = r.try_get("payload")?;
    Ok(Job {
        id: r.try_get("id")?,
        tenant_id: r.try_get("tenant_id")?,
        kind: r.try_get("kind")?,
        // Unparseable payloads surface as a handler error, not a claim error.
        payload: serde_json::from_str(&payload).unwrap_or(Value::Null),
        attempts: r.try_get("attempts")?,
        max_attempts: r.try_get("max_attempts")?,
    })
}

/// Claims up to `limit` due jobs (or jobs whose lease ran out) for the claim token `by`.
pub async fn claim(db: &Db, by: &str, limit: i64) -> DbResult<Vec<Job>> {
    let due =
        "((status = 'queued' AND run_at <= $1) OR (status = 'running' AND locked_until < $1))";
    let op = db.operator("job worker claims due jobs of every tenant");
    let lock = match op.backend() {
        Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let sql = format!(
        "UPDATE jobs SET status = 'running', locked_until = $2, locked_by = $3 \
         WHERE id IN (SELECT id FROM jobs WHERE {due} ORDER BY run_at LIMIT $4{lock}) AND {due} \
         RETURNING id, tenant_id, kind, payload, attempts, max_attempts"
    );
    let now = now_ms();
    let rows = sqlx::query(&sql)
        .bind(now)
        .bind(now + LEASE_MS)
        .bind(by)
        .bind(limit)
        .fetch_all(op.writer())
        .await?;
    Ok(rows
        .iter()
        .map(job_from_row)
        .collect::<Result<Vec<_>, _>>()?)
}

/// Records the outcome of one claimed job; a claim whose lease was taken over records nothing.
async fn finish(
    db: &Db,
    job: &Job,
    by: &str,
    outcome: Result<(), JobError>,
) -> DbResult<&'static str> {
    let now = now_ms();
    let attempts = job.attempts + 1;
    let (status, run_at, error) = match outcome {
        Ok(()) => ("done", now, None),
        Err(JobError::Permanent(e)) => ("failed", now, Some(format!("{e:#}"))),
        Err(JobError::Retry(e)) if attempts >= job.max_attempts => {
            ("failed", now, Some(format!("{e:#}")))
        }
        Err(JobError::Retry(e)) => (
            "queued",
            now + backoff_ms(job.attempts),
            Some(format!("{e:#}")),
        ),
    };
    let finished = (status != "queued").then_some(now);
    // Done email jobs drop their link: it can carry a one-time token nobody should read later.
    let payload = if status == "done" && job.kind == EMAIL {
        email::redact(&job.payload)
    } else {
        job.payload.clone()
    };
    let error = error.map(|e| e.chars().take(2000).collect::<String>());
    sqlx::query(
        "UPDATE jobs SET status = $3, attempts = $4, run_at = $5, last_error = COALESCE($6, last_error), \
         finished_at = $7, payload = $8, locked_until = NULL, locked_by = NULL \
         WHERE id = $1 AND locked_by = $2 AND status = 'running'",
    )
    .bind(&job.id)
    .bind(by)
    .bind(status)
    .bind(attempts)
    .bind(run_at)
    .bind(error.as_deref())
    .bind(finished)
    .bind(payload.to_string())
    .execute(db.operator("job worker records an outcome").writer())
    .await?;
    Ok(status)
}

async fn run_claimed(app: &AppState, job: Job, by: &str) {
    let outcome = match tokio::time::timeout(HANDLER_TIMEOUT, handle(app, &job)).await {
        Ok(r) => r,
        Err(_) => Err(JobError::retry("the job took too long and was stopped")),
    };
    if let Err(JobError::Retry(e) | JobError::Permanent(e)) = &outcome {
        tracing::warn!(job = %job.id, kind = %job.kind, attempt = job.attempts + 1, error = %e, "job failed");
    }
    match finish(&app.db, &job, by, outcome).await {
        Ok(status) => {
            metrics::counter!("portico_jobs_total", "kind" => job.kind.clone(), "outcome" => status)
                .increment(1);
        }
        Err(e) => tracing::error!(job = %job.id, error = %e, "cannot record the job's outcome"),
    }
}

/// Claims and runs one batch of due jobs; returns how many ran. Tests call it to drain the
/// queue on demand (loop until it returns 0).
pub async fn run_due(app: &AppState) -> usize {
    // Every claim has its own token, so two loops on one node never finish each other's jobs.
    let by = format!("{}:{}", app.node_id, uuid::Uuid::new_v4().simple());
    let jobs = match claim(&app.db, &by, BATCH).await {
        Ok(j) => j,
        Err(e) => {
            tracing::error!(error = %e, "cannot claim jobs");
            return 0;
        }
    };
    let n = jobs.len();
    futures::future::join_all(jobs.into_iter().map(|j| run_claimed(app, j, &by))).await;
    n
}

/// Runs due jobs until the task is aborted: every second, and at once when a transaction that
/// enqueued a job commits.
pub fn spawn_worker(app: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            while run_due(&app).await > 0 {}
            tokio::select! {
                _ = app.db.operator("job worker waits").jobs_committed() => {}
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
    })
}

/// A job as staff see it.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct JobView {
    /// Row id.
    pub id: String,
    /// Handler name.
    pub kind: String,
    /// queued, running, done or failed.
    pub status: String,
    /// Attempts made.
    pub attempts: i64,
    /// Attempts allowed.
    pub max_attempts: i64,
    /// Error of the latest failed attempt.
    pub last_error: Option<String>,
    /// When it runs next (queued) or ran last.
    pub run_at: i64,
    /// When it was enqueued.
    pub created_at: i64,
    /// When it finished (done or failed).
    pub finished_at: Option<i64>,
    /// A short description safe to show (recipient and subject for email).
    pub summary: String,
}

impl JobView {
    /// Whether staff may retry it now.
    pub fn retryable(&self) -> bool {
        self.status == "failed" || (self.status == "queued" && self.attempts > 0)
    }

    /// `run_at` for people.
    pub fn next_run(&self) -> String {
        crate::web::datetime(&self.run_at)
    }

    /// `created_at` for people.
    pub fn queued_at(&self) -> String {
        crate::web::datetime(&self.created_at)
    }
}

const VIEW_COLUMNS: &str = "id, kind, status, attempts, max_attempts, last_error, run_at, created_at, finished_at, payload";

fn view_from_row(r: &AnyRow) -> Result<JobView, sqlx::Error> {
    let kind: String = r.try_get("kind")?;
    let payload: String = r.try_get("payload")?;
    let payload: Value = serde_json::from_str(&payload).unwrap_or(Value::Null);
    Ok(JobView {
        id: r.try_get("id")?,
        summary: if kind == EMAIL {
            email::summary(&payload)
        } else {
            String::new()
        },
        kind,
        status: r.try_get("status")?,
        attempts: r.try_get("attempts")?,
        max_attempts: r.try_get("max_attempts")?,
        last_error: r.try_get("last_error")?,
        run_at: r.try_get("run_at")?,
        created_at: r.try_get("created_at")?,
        finished_at: r.try_get("finished_at")?,
    })
}

/// The tenant's jobs, newest first; `cursor` is the id of the last job of the previous page.
pub async fn list(
    db: &Db,
    scope: &TenantScope,
    cursor: Option<&str>,
    limit: i64,
) -> DbResult<Vec<JobView>> {
    let rows = match cursor {
        // UUIDv7 ids grow with creation time, so the id alone orders the keyset.
        Some(c) => {
            sqlx::query(&format!(
                "SELECT {VIEW_COLUMNS} FROM jobs WHERE tenant_id = $1 AND id < $2 \
                 ORDER BY id DESC LIMIT $3"
            ))
            .bind(scope.tenant_id().as_str())
            .bind(c)
            .bind(limit)
            .fetch_all(db.tenant(scope).reader())
            .await?
        }
        None => {
            sqlx::query(&format!(
                "SELECT {VIEW_COLUMNS} FROM jobs WHERE tenant_id = $1 ORDER BY id DESC LIMIT $2"
            ))
            .bind(scope.tenant_id().as_str())
            .bind(limit)
            .fetch_all(db.tenant(scope).reader())
            .await?
        }
    };
    Ok(rows
        .iter()
        .map(view_from_row)
        .collect::<Result<Vec<_>, _>>()?)
}

/// One job of the tenant.
pub async fn get(db: &Db, scope: &TenantScope, id: &str) -> DbResult<Option<JobView>> {
    let row = sqlx::query(&format!(
        "SELECT {VIEW_COLUMNS} FROM jobs WHERE tenant_id = $1 AND id = $2"
    ))
    .bind(scope.tenant_id().as_str())
    .bind(id)
    .fetch_optional(db.tenant(scope).reader())
    .await?;
    Ok(row.as_ref().map(view_from_row).transpose()?)
}

/// Makes a failed (or waiting-to-retry) job due now with a fresh set of attempts; false when
/// the job is in no state to retry.
pub async fn retry_now(tx: &mut TenantTx, id: &str) -> DbResult<bool> {
    let tenant = tx.tenant_id().to_string();
    let r = sqlx::query(
        "UPDATE jobs SET status = 'queued', run_at = $3, attempts = 0, finished_at = NULL \
         WHERE tenant_id = $1 AND id = $2 AND (status = 'failed' OR (status = 'queued' AND attempts > 0))",
    )
    .bind(&tenant)
    .bind(id)
    .bind(now_ms())
    .execute(tx.conn())
    .await?;
    tx.job_enqueued();
    Ok(r.rows_affected() == 1)
}

/// How many of the tenant's emails failed or are being retried after a failure (the
/// dashboard's delivery warning).
pub async fn failing_emails(db: &Db, scope: &TenantScope) -> DbResult<i64> {
    let n: i64 = sqlx::query_scalar(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM jobs WHERE tenant_id = $1 AND kind = 'email' \
         AND (status = 'failed' OR (status = 'queued' AND attempts > 0))",
    )
    .bind(scope.tenant_id().as_str())
    .fetch_one(db.tenant(scope).reader())
    .await?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff_ms(0), 30_000);
        assert_eq!(backoff_ms(1), 60_000);
        assert_eq!(backoff_ms(3), 240_000);
        assert_eq!(backoff_ms(30), BACKOFF_MAX_MS);
    }
}
