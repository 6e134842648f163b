//! Year-end giving statements for every giver, as a background run started by staff: each
//! giver's statement is either emailed to them (one mail job per giver) or put into one zip
//! archive staff download.
//!
//! A run lists its givers when it starts (`mission_statement_givers`). Mailing a giver is
//! claimed by setting `queued_at` in the same transaction that enqueues their mail job, with
//! a conditional update: a run job that is retried after a crash, or running twice at once,
//! never queues a second mail for anyone. The mail job marks the giver `done_at` once sent.

pub mod routes;

use std::io::Write;

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::audit::{self, Entry};
use crate::auth::Actor;
use crate::db::{Db, DbError, DbResult, Row, TenantTx, new_id, now_ms};
use crate::error::{AppError, AppResult};
use crate::i18n::{Translator, for_recipient};
use crate::jobs::{Job, JobError, JobKind};
use crate::mission::giving::{self, Gift, GiftFilter, statement};
use crate::state::AppState;
use crate::tenancy::{Tenant, TenantId, TenantScope};

/// How statements reach givers.
pub const DELIVERIES: [&str; 2] = ["email", "archive"];

/// One run, as staff see it.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Run {
    /// Id.
    pub id: String,
    /// Calendar year of the statements.
    pub year: i64,
    /// `email` or `archive`.
    pub delivery: String,
    /// `queued`, `running`, `sending` (mail jobs under way), `done` or `failed`.
    pub status: String,
    /// Givers in the year.
    pub total: i64,
    /// Statements finished (sent, or put in the archive).
    pub done: i64,
    /// The archive is ready to download.
    pub archive_ready: bool,
    /// Why the run failed.
    pub last_error: Option<String>,
    /// Started (Unix ms).
    pub created_at: i64,
    /// Finished (Unix ms).
    pub finished_at: Option<i64>,
}

impl Run {
    /// Still moving: the page keeps refreshing its progress.
    pub fn active(&self) -> bool {
        matches!(self.status.as_str(), "queued" | "running" | "sending")
    }
}

const RUN_COLUMNS: &str =
    "id, year, delivery, status, total, done, archive_key, last_error, created_at, finished_at";

fn run_from(r: &crate::db::AnyRow) -> Result<Run, sqlx::Error> {
    Ok(Run {
        id: r.try_get("id")?,
        year: r.try_get("year")?,
        delivery: r.try_get("delivery")?,
        status: r.try_get("status")?,
        total: r.try_get("total")?,
        done: r.try_get("done")?,
        archive_ready: r.try_get::<Option<String>, _>("archive_key")?.is_some(),
        last_error: r.try_get("last_error")?,
        created_at: r.try_get("created_at")?,
        finished_at: r.try_get("finished_at")?,
    })
}

/// The tenant's runs, newest first.
pub async fn list(db: &Db, scope: &TenantScope) -> DbResult<Vec<Run>> {
    let rows = sqlx::query(&format!(
        "SELECT {RUN_COLUMNS} FROM mission_statement_runs WHERE tenant_id = $1 ORDER BY id DESC LIMIT 20"
    ))
    .bind(scope.tenant_id().as_str())
    .fetch_all(db.tenant(scope).reader())
    .await?;
    rows.iter()
        .map(run_from)
        .map(|r| r.map_err(Into::into))
        .collect()
}

/// One run of the tenant (404 otherwise).
pub async fn get(db: &Db, scope: &TenantScope, id: &str) -> AppResult<Run> {
    let row = sqlx::query(&format!(
        "SELECT {RUN_COLUMNS} FROM mission_statement_runs WHERE tenant_id = $1 AND id = $2"
    ))
    .bind(scope.tenant_id().as_str())
    .bind(id)
    .fetch_optional(db.tenant(scope).reader())
    .await
    .map_err(DbError::from)?;
    row.as_ref()
        .map(run_from)
        .transpose()
        .map_err(DbError::from)?
        .ok_or(AppError::NotFound)
}

/// Where a finished run's archive is stored.
pub async fn archive_key(db: &Db, scope: &TenantScope, id: &str) -> AppResult<Option<String>> {
    let row = sqlx::query(
        "SELECT archive_key FROM mission_statement_runs WHERE tenant_id = $1 AND id = $2",
    )
    .bind(scope.tenant_id().as_str())
    .bind(id)
    .fetch_optional(db.tenant(scope).reader())
    .await
    .map_err(DbError::from)?
    .ok_or(AppError::NotFound)?;
    Ok(row.try_get("archive_key").map_err(DbError::from)?)
}

/// Starts a run for `year` (staff): lists the year's givers and queues the run's job, with its
/// audit row, in one transaction.
pub async fn start(
    db: &Db,
    actor: &Actor,
    ip: &str,
    year: &str,
    delivery: &str,
) -> AppResult<String> {
    let year: i64 = year
        .trim()
        .parse()
        .ok()
        .filter(|y| (1900..=9999).contains(y))
        .ok_or_else(|| AppError::field("year", "statements-error-year"))?;
    if !DELIVERIES.contains(&delivery) {
        return Err(AppError::field("delivery", "statements-error-delivery"));
    }
    let id = new_id();
    let mut tx = db.tenant(actor.scope()).begin().await?;
    let tenant = tx.tenant_id().to_string();
    sqlx::query(
        "INSERT INTO mission_statement_runs (id, tenant_id, year, delivery, status, total, done, created_by, created_at) \
         VALUES ($1, $2, $3, $4, 'queued', 0, 0, $5, $6)",
    )
    .bind(&id)
    .bind(&tenant)
    .bind(year)
    .bind(delivery)
    .bind(actor.user_id().as_str())
    .bind(now_ms())
    .execute(tx.conn())
    .await
    .map_err(DbError::from)?;
    let givers = sqlx::query(
        "INSERT INTO mission_statement_givers (tenant_id, run_id, member_id) \
         SELECT DISTINCT $1, $2, member_id FROM mission_gifts WHERE tenant_id = $1 AND given_on >= $3 AND given_on < $4",
    )
    .bind(&tenant)
    .bind(&id)
    .bind(format!("{year:04}-01-01"))
    .bind(format!("{:04}-01-01", year + 1))
    .execute(tx.conn())
    .await
    .map_err(DbError::from)?
    .rows_affected() as i64;
    sqlx::query("UPDATE mission_statement_runs SET total = $3 WHERE tenant_id = $1 AND id = $2")
        .bind(&tenant)
        .bind(&id)
        .bind(givers)
        .execute(tx.conn())
        .await
        .map_err(DbError::from)?;
    RunJob { run_id: id.clone() }.enqueue(&mut tx).await?;
    audit::append(
        &mut tx,
        Entry {
            ip: Some(ip),
            detail: json!({ "year": year, "delivery": delivery, "givers": givers }),
            ..Entry::new("mission.statements_started")
                .by(actor)
                .target("statement_run", &id)
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Everything one giver's statement needs.
struct Giver {
    id: String,
    name: String,
    email: String,
    address: String,
    language: Option<String>,
}

async fn giver(db: &Db, scope: &TenantScope, member_id: &str) -> DbResult<Option<Giver>> {
    let row = sqlx::query(
        "SELECT u.id, u.name, u.email, u.language, m.address FROM users u \
         LEFT JOIN mission_members m ON m.tenant_id = u.tenant_id AND m.user_id = u.id \
         WHERE u.tenant_id = $1 AND u.id = $2",
    )
    .bind(scope.tenant_id().as_str())
    .bind(member_id)
    .fetch_optional(db.tenant(scope).reader())
    .await?;
    row.map(|r| {
        Ok(Giver {
            id: r.try_get("id")?,
            name: r.try_get("name")?,
            email: r.try_get("email")?,
            address: r
                .try_get::<Option<String>, _>("address")?
                .unwrap_or_default(),
            language: r.try_get("language")?,
        })
    })
    .transpose()
}

async fn year_gifts(
    db: &Db,
    scope: &TenantScope,
    member_id: &str,
    year: i64,
) -> DbResult<Vec<Gift>> {
    let f = GiftFilter {
        member_id: Some(member_id.to_string()),
        year: Some(year as i32),
        limit: 5000,
        ..GiftFilter::default()
    };
    let (mut gifts, _) = giving::gifts(db, scope, &f).await?;
    gifts.reverse();
    Ok(gifts)
}

/// One giver's statement PDF in `t`'s language.
async fn render(
    db: &Db,
    tenant: &Tenant,
    g: &Giver,
    year: i64,
    t: &Translator,
) -> Result<Vec<u8>, JobError> {
    let scope = tenant.scope();
    let gifts = year_gifts(db, &scope, &g.id, year)
        .await
        .map_err(JobError::retry)?;
    let settings = crate::mission::settings::load(db, &scope)
        .await
        .map_err(JobError::retry)?;
    statement::pdf(
        &statement::Statement {
            tenant,
            settings: &settings,
            member_name: &g.name,
            member_address: &g.address,
            year: year as i32,
            gifts: &gifts,
            show_giver: false,
        },
        t,
    )
    .map_err(|e| JobError::permanent(format!("statement: {e}")))
}

async fn tenant_of(app: &AppState, job: &Job) -> Result<Tenant, JobError> {
    let id = job
        .tenant_id
        .clone()
        .ok_or_else(|| JobError::permanent("the statements job names no tenant"))?;
    crate::tenancy::store::by_id(&app.db, &TenantId(id))
        .await
        .map_err(JobError::retry)?
        .ok_or_else(|| JobError::permanent("the tenant no longer exists"))
}

async fn set_status(db: &Db, scope: &TenantScope, id: &str, status: &str) -> DbResult<()> {
    let mut tx = db.tenant(scope).begin().await?;
    let tenant = tx.tenant_id().to_string();
    let finished = matches!(status, "done" | "failed").then(now_ms);
    sqlx::query(
        "UPDATE mission_statement_runs SET status = $3, finished_at = COALESCE($4, finished_at) \
         WHERE tenant_id = $1 AND id = $2 AND status <> 'done'",
    )
    .bind(&tenant)
    .bind(id)
    .bind(status)
    .bind(finished)
    .execute(tx.conn())
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Recounts finished givers; a mail run whose givers are all done is done.
async fn recount(tx: &mut TenantTx, id: &str) -> DbResult<()> {
    let tenant = tx.tenant_id().to_string();
    // Take the run's row lock first. On PostgreSQL two mail jobs finishing at once would
    // otherwise each count with a snapshot missing the other's giver, and the run would stop
    // at `total - 1`; after the lock, the count below is a new statement with a fresh snapshot.
    sqlx::query("UPDATE mission_statement_runs SET done = done WHERE tenant_id = $1 AND id = $2")
        .bind(&tenant)
        .bind(id)
        .execute(tx.conn())
        .await?;
    sqlx::query(
        "UPDATE mission_statement_runs SET done = (SELECT CAST(COUNT(*) AS BIGINT) FROM mission_statement_givers g \
         WHERE g.tenant_id = $1 AND g.run_id = $2 AND g.done_at IS NOT NULL) WHERE tenant_id = $1 AND id = $2",
    )
    .bind(&tenant)
    .bind(id)
    .execute(tx.conn())
    .await?;
    sqlx::query(
        "UPDATE mission_statement_runs SET status = 'done', finished_at = $3 \
         WHERE tenant_id = $1 AND id = $2 AND delivery = 'email' AND status = 'sending' AND done >= total",
    )
    .bind(&tenant)
    .bind(id)
    .bind(now_ms())
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The job that works through one run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunJob {
    /// The run.
    pub run_id: String,
}

impl JobKind for RunJob {
    const KIND: &'static str = "mission_statements";

    async fn run(self, app: &AppState, job: &Job) -> Result<(), JobError> {
        let tenant = tenant_of(app, job).await?;
        let scope = tenant.scope();
        let run = match get(&app.db, &scope, &self.run_id).await {
            Ok(r) => r,
            Err(AppError::NotFound) => return Err(JobError::permanent("the run no longer exists")),
            Err(e) => return Err(JobError::retry(e)),
        };
        if run.status == "done" {
            return Ok(());
        }
        set_status(&app.db, &scope, &run.id, "running")
            .await
            .map_err(JobError::retry)?;
        let outcome = if run.delivery == "archive" {
            archive(app, &tenant, &run).await
        } else {
            queue_mail(app, &tenant, &run).await
        };
        if let Err(JobError::Permanent(e)) = &outcome {
            let msg = format!("{e:#}");
            let _ = sqlx::query(
                "UPDATE mission_statement_runs SET status = 'failed', last_error = $3, finished_at = $4 WHERE tenant_id = $1 AND id = $2",
            )
            .bind(scope.tenant_id().as_str())
            .bind(&run.id)
            .bind(msg.chars().take(500).collect::<String>())
            .bind(now_ms())
            .execute(app.db.tenant(&scope).writer())
            .await;
        }
        outcome
    }
}

async fn pending_givers(
    db: &Db,
    scope: &TenantScope,
    run_id: &str,
    column: &str,
) -> DbResult<Vec<String>> {
    let rows = sqlx::query(&format!(
        "SELECT member_id FROM mission_statement_givers WHERE tenant_id = $1 AND run_id = $2 AND {column} IS NULL ORDER BY member_id"
    ))
    .bind(scope.tenant_id().as_str())
    .bind(run_id)
    .fetch_all(db.tenant(scope).reader())
    .await?;
    rows.iter()
        .map(|r| r.try_get::<String, _>(0).map_err(Into::into))
        .collect()
}

/// Queues one mail job per giver not yet claimed; the claim and the job commit together.
async fn queue_mail(app: &AppState, tenant: &Tenant, run: &Run) -> Result<(), JobError> {
    let scope = tenant.scope();
    for member_id in pending_givers(&app.db, &scope, &run.id, "queued_at")
        .await
        .map_err(JobError::retry)?
    {
        let mut tx = app
            .db
            .tenant(&scope)
            .begin()
            .await
            .map_err(JobError::retry)?;
        let t = tx.tenant_id().to_string();
        let claimed = sqlx::query(
            "UPDATE mission_statement_givers SET queued_at = $4 \
             WHERE tenant_id = $1 AND run_id = $2 AND member_id = $3 AND queued_at IS NULL",
        )
        .bind(&t)
        .bind(&run.id)
        .bind(&member_id)
        .bind(now_ms())
        .execute(tx.conn())
        .await
        .map_err(JobError::retry)?
        .rows_affected();
        if claimed == 1 {
            MailJob {
                run_id: run.id.clone(),
                member_id,
            }
            .enqueue(&mut tx)
            .await
            .map_err(JobError::retry)?;
        }
        tx.commit().await.map_err(JobError::retry)?;
    }
    let mut tx = app
        .db
        .tenant(&scope)
        .begin()
        .await
        .map_err(JobError::retry)?;
    let t = tx.tenant_id().to_string();
    sqlx::query(
        "UPDATE mission_statement_runs SET status = 'sending' WHERE tenant_id = $1 AND id = $2 AND status = 'running'",
    )
    .bind(&t)
    .bind(&run.id)
    .execute(tx.conn())
    .await
    .map_err(JobError::retry)?;
    // Mail jobs may all have finished already (or there were no givers).
    recount(&mut tx, &run.id).await.map_err(JobError::retry)?;
    tx.commit().await.map_err(JobError::retry)?;
    Ok(())
}

/// Builds the zip of every giver's statement (in the tenant's language), stores it, and marks
/// the run done. Progress is recorded giver by giver; a restarted run builds the archive anew.
async fn archive(app: &AppState, tenant: &Tenant, run: &Run) -> Result<(), JobError> {
    let scope = tenant.scope();
    let rows = sqlx::query(
        "SELECT member_id FROM mission_statement_givers WHERE tenant_id = $1 AND run_id = $2 ORDER BY member_id",
    )
    .bind(scope.tenant_id().as_str())
    .bind(&run.id)
    .fetch_all(app.db.tenant(&scope).reader())
    .await
    .map_err(JobError::retry)?;
    let t = Translator::new(for_recipient(None, Some(&tenant.default_locale)));
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let mut names = std::collections::HashSet::new();
    for r in &rows {
        let member_id: String = r.try_get(0).map_err(JobError::retry)?;
        let Some(g) = giver(&app.db, &scope, &member_id)
            .await
            .map_err(JobError::retry)?
        else {
            continue;
        };
        let pdf = render(&app.db, tenant, &g, run.year, &t).await?;
        let mut name = format!("{}-{}.pdf", run.year, file_stem(&g.name));
        if !names.insert(name.clone()) {
            name = format!("{}-{}-{}.pdf", run.year, file_stem(&g.name), &g.id);
            names.insert(name.clone());
        }
        zip.start_file(name, opts)
            .map_err(|e| JobError::permanent(format!("zip: {e}")))?;
        zip.write_all(&pdf)
            .map_err(|e| JobError::permanent(format!("zip: {e}")))?;
        let mut tx = app
            .db
            .tenant(&scope)
            .begin()
            .await
            .map_err(JobError::retry)?;
        let tid = tx.tenant_id().to_string();
        sqlx::query(
            "UPDATE mission_statement_givers SET done_at = COALESCE(done_at, $4) WHERE tenant_id = $1 AND run_id = $2 AND member_id = $3",
        )
        .bind(&tid)
        .bind(&run.id)
        .bind(&member_id)
        .bind(now_ms())
        .execute(tx.conn())
        .await
        .map_err(JobError::retry)?;
        recount(&mut tx, &run.id).await.map_err(JobError::retry)?;
        tx.commit().await.map_err(JobError::retry)?;
    }
    let bytes = zip
        .finish()
        .map_err(|e| JobError::permanent(format!("zip: {e}")))?
        .into_inner();
    let key = crate::files::ObjectKey::generate(&scope);
    let mut w = app.files.writer(key).await.map_err(JobError::retry)?;
    w.write(&bytes).await.map_err(JobError::retry)?;
    let (key, _, _) = w.finish().await.map_err(JobError::retry)?;
    let mut tx = app
        .db
        .tenant(&scope)
        .begin()
        .await
        .map_err(JobError::retry)?;
    let tid = tx.tenant_id().to_string();
    sqlx::query(
        "UPDATE mission_statement_runs SET archive_key = $3, status = 'done', finished_at = $4 WHERE tenant_id = $1 AND id = $2",
    )
    .bind(&tid)
    .bind(&run.id)
    .bind(key.as_str())
    .bind(now_ms())
    .execute(tx.conn())
    .await
    .map_err(JobError::retry)?;
    tx.commit().await.map_err(JobError::retry)?;
    Ok(())
}

/// A safe file name part from a person's name.
fn file_stem(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { '-' })
        .collect();
    let s = s.trim_matches('-').to_string();
    if s.is_empty() { "giver".into() } else { s }
}

/// The job that mails one giver their statement, in their language, as a PDF attachment.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MailJob {
    /// The run.
    pub run_id: String,
    /// The giver.
    pub member_id: String,
}

impl JobKind for MailJob {
    const KIND: &'static str = "mission_statement_mail";

    async fn run(self, app: &AppState, job: &Job) -> Result<(), JobError> {
        let tenant = tenant_of(app, job).await?;
        let scope = tenant.scope();
        let row = sqlx::query(
            "SELECT r.year, g.done_at FROM mission_statement_givers g JOIN mission_statement_runs r \
             ON r.tenant_id = g.tenant_id AND r.id = g.run_id \
             WHERE g.tenant_id = $1 AND g.run_id = $2 AND g.member_id = $3",
        )
        .bind(scope.tenant_id().as_str())
        .bind(&self.run_id)
        .bind(&self.member_id)
        .fetch_optional(app.db.tenant(&scope).reader())
        .await
        .map_err(JobError::retry)?
        .ok_or_else(|| JobError::permanent("the run no longer lists this giver"))?;
        let year: i64 = row.try_get("year").map_err(JobError::retry)?;
        if row
            .try_get::<Option<i64>, _>("done_at")
            .map_err(JobError::retry)?
            .is_some()
        {
            return Ok(());
        }
        let g = giver(&app.db, &scope, &self.member_id)
            .await
            .map_err(JobError::retry)?
            .ok_or_else(|| JobError::permanent("the giver no longer exists"))?;
        let t = Translator::new(for_recipient(
            g.language.as_deref(),
            Some(&tenant.default_locale),
        ));
        let pdf = render(&app.db, &tenant, &g, year, &t).await?;
        let y = year.to_string();
        let subject = t.arg("statements-email-subject", "year", &y);
        let lines = vec![
            t.arg("statements-email-greeting", "name", &g.name),
            t.arg("statements-email-body", "year", &y),
        ];
        let url = crate::mail::absolute(
            &app.config.base_url,
            &format!("/portal/mission/giving?year={year}"),
        );
        let label = t.get("statements-email-open");
        app.mailer
            .send_with(
                &app.config.mail_from,
                &app.config.base_url,
                &tenant,
                crate::mail::Email {
                    to: &g.email,
                    subject: &subject,
                    lines,
                    action: Some((&url, &label)),
                    lang: t.lang(),
                    reply_to: None,
                },
                &[crate::mail::Attachment {
                    filename: format!("giving-statement-{year}.pdf"),
                    content_type: "application/pdf".into(),
                    bytes: pdf,
                }],
            )
            .await
            .map_err(|e| JobError::Retry(e.context(format!("sending to {}", g.email))))?;
        let mut tx = app
            .db
            .tenant(&scope)
            .begin()
            .await
            .map_err(JobError::retry)?;
        let tid = tx.tenant_id().to_string();
        sqlx::query(
            "UPDATE mission_statement_givers SET done_at = $4 WHERE tenant_id = $1 AND run_id = $2 AND member_id = $3 AND done_at IS NULL",
        )
        .bind(&tid)
        .bind(&self.run_id)
        .bind(&self.member_id)
        .bind(now_ms())
        .execute(tx.conn())
        .await
        .map_err(JobError::retry)?;
        recount(&mut tx, &self.run_id)
            .await
            .map_err(JobError::retry)?;
        tx.commit().await.map_err(JobError::retry)?;
        Ok(())
    }
}
