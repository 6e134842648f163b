//! Announcements: staff publish news to all companies or chosen ones, now or on a schedule,
//! with an optional expiry; clients read them (unread badge, critical banner, dashboard).
//!
//! Whether an announcement is live is decided by its times when read, so pages are right
//! whatever the worker is doing; the jobs here only do what must happen once at those times
//! (the live event and the emails on publication, the event on expiry).

pub mod demo;
pub mod routes;

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::db::{AnyRow, Db, DbResult, Row, TenantTx, new_id, now_ms};
use crate::error::{AppError, FieldError};
use crate::events::{Event, EventKind};
use crate::i18n::{Translator, for_recipient, k};
use crate::jobs::{EmailJob, Job, JobError, JobKind};
use crate::state::AppState;
use crate::tenancy::{TenantId, TenantScope};

/// How serious an announcement is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// News.
    Info,
    /// Something clients should plan for.
    Warning,
    /// An outage or urgent action: shown as a banner on every page until read.
    Critical,
}

impl Severity {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }

    /// Parses the stored name.
    pub fn parse(s: &str) -> Option<Severity> {
        Some(match s {
            "info" => Severity::Info,
            "warning" => Severity::Warning,
            "critical" => Severity::Critical,
            _ => return None,
        })
    }
}

/// An announcement.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Announcement {
    /// Id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Markdown body.
    pub body: String,
    /// Severity.
    pub severity: Severity,
    /// `all` companies or the `companies` listed.
    pub audience: String,
    /// Chosen companies (staff only; empty for clients).
    pub companies: Vec<String>,
    /// When it goes (or went) live (Unix ms).
    pub publish_at: i64,
    /// When it stops being shown (Unix ms).
    pub expires_at: Option<i64>,
    /// Shown above the others.
    pub pinned: bool,
    /// For a client: read already. For staff: always false.
    pub read: bool,
    /// For staff: how many users opened it.
    pub reads: i64,
}

impl Announcement {
    /// `scheduled`, `live` or `expired` at `now`.
    pub fn state(&self, now: i64) -> &'static str {
        if self.publish_at > now {
            "scheduled"
        } else if self.expires_at.is_some_and(|e| e <= now) {
            "expired"
        } else {
            "live"
        }
    }

    /// The body rendered as sanitised HTML.
    pub fn body_html(&self) -> String {
        crate::tickets::render_markdown(&self.body)
    }
}

/// Validated fields of an announcement.
#[derive(Clone, Debug)]
pub struct Input {
    /// Title.
    pub title: String,
    /// Markdown body.
    pub body: String,
    /// Severity.
    pub severity: Severity,
    /// Chosen companies; empty: every company.
    pub companies: Vec<String>,
    /// Publication time.
    pub publish_at: i64,
    /// Expiry.
    pub expires_at: Option<i64>,
    /// Pinned.
    pub pinned: bool,
}

fn fe(field: &str, message: &str) -> FieldError {
    FieldError {
        field: field.into(),
        message: message.into(),
    }
}

/// Checks an announcement's fields; `audience` is `all` or `companies`.
#[allow(clippy::too_many_arguments)]
pub fn check(
    title: &str,
    body: &str,
    severity: &str,
    audience: &str,
    companies: Vec<String>,
    publish_at: Option<i64>,
    expires_at: Option<i64>,
    pinned: bool,
) -> Result<Input, AppError> {
    let mut errors = Vec::new();
    let title = match crate::text::single_line("title", title, 160) {
        Ok(t) if t.is_empty() => {
            errors.push(fe("title", k("announcement-error-title")));
            t
        }
        Ok(t) => t,
        Err(e) => {
            errors.push(e);
            String::new()
        }
    };
    let body = match crate::text::multi_line("body", body, 20_000) {
        Ok(t) if t.is_empty() => {
            errors.push(fe("body", k("announcement-error-body")));
            t
        }
        Ok(t) => t,
        Err(e) => {
            errors.push(e);
            String::new()
        }
    };
    let severity = Severity::parse(severity).unwrap_or_else(|| {
        errors.push(fe("severity", k("announcement-error-severity")));
        Severity::Info
    });
    let mut companies = companies;
    companies.retain(|c| !c.is_empty());
    companies.sort();
    companies.dedup();
    match audience {
        "all" => companies.clear(),
        "companies" if companies.is_empty() => {
            errors.push(fe("companies", k("announcement-error-companies")))
        }
        "companies" => {}
        _ => errors.push(fe("audience", k("announcement-error-audience"))),
    }
    let now = now_ms();
    let publish_at = publish_at.unwrap_or(now);
    if let Some(e) = expires_at
        && (e <= publish_at || e <= now)
    {
        errors.push(fe("expires_at", k("announcement-error-expiry")));
    }
    if !errors.is_empty() {
        return Err(AppError::fields(errors));
    }
    Ok(Input {
        title,
        body,
        severity,
        companies,
        publish_at,
        expires_at,
        pinned,
    })
}

// ---- SQL ----

const COLS: &str =
    "a.id, a.title, a.body, a.severity, a.audience, a.publish_at, a.expires_at, a.pinned";

/// Live at `$2` and addressed to company `$3`.
const FOR_CLIENT: &str = "a.publish_at <= $2 AND (a.expires_at IS NULL OR a.expires_at > $2) \
    AND (a.audience = 'all' OR EXISTS (SELECT 1 FROM announcement_companies ac WHERE ac.tenant_id = a.tenant_id \
    AND ac.announcement_id = a.id AND ac.company_id = $3))";

/// Whether user `$4` has read it.
const IS_READ: &str = "CAST(CASE WHEN EXISTS (SELECT 1 FROM announcement_reads r WHERE r.tenant_id = a.tenant_id \
    AND r.announcement_id = a.id AND r.user_id = $4) THEN 1 ELSE 0 END AS BIGINT)";

fn from_row(r: &AnyRow, read: bool, reads: i64) -> Result<Announcement, sqlx::Error> {
    let sev: String = r.try_get("severity")?;
    Ok(Announcement {
        id: r.try_get("id")?,
        title: r.try_get("title")?,
        body: r.try_get("body")?,
        severity: Severity::parse(&sev).unwrap_or(Severity::Info),
        audience: r.try_get("audience")?,
        companies: Vec::new(),
        publish_at: r.try_get("publish_at")?,
        expires_at: r.try_get("expires_at")?,
        pinned: r.try_get::<i64, _>("pinned")? == 1,
        read,
        reads,
    })
}

/// A client's reading position: company and user.
#[derive(Clone, Debug)]
pub struct ClientView<'a> {
    /// The client's company.
    pub company_id: &'a str,
    /// The client.
    pub user_id: &'a str,
}

/// Keyset position in the client list: pinned first, then newest.
pub type Cursor = (i64, i64, String);

/// Live announcements for a client, pinned first then newest, after `after`.
pub async fn list_for(
    db: &Db,
    scope: &TenantScope,
    v: &ClientView<'_>,
    after: Option<&Cursor>,
    limit: i64,
) -> DbResult<Vec<Announcement>> {
    let (p, t, i) = after.cloned().unwrap_or((2, i64::MAX, String::new()));
    let sql = format!(
        "SELECT {COLS}, {IS_READ} AS is_read FROM announcements a WHERE a.tenant_id = $1 AND {FOR_CLIENT} \
         AND (a.pinned < $5 OR (a.pinned = $5 AND (a.publish_at < $6 OR (a.publish_at = $6 AND a.id < $7)))) \
         ORDER BY a.pinned DESC, a.publish_at DESC, a.id DESC LIMIT $8"
    );
    let rows = sqlx::query(&sql)
        .bind(scope.tenant_id().as_str())
        .bind(now_ms())
        .bind(v.company_id)
        .bind(v.user_id)
        .bind(p)
        .bind(t)
        .bind(if i.is_empty() {
            "\u{10FFFF}".to_string()
        } else {
            i
        })
        .bind(limit)
        .fetch_all(db.tenant(scope).reader())
        .await?;
    rows.iter()
        .map(|r| from_row(r, r.try_get::<i64, _>("is_read")? == 1, 0))
        .collect::<Result<_, _>>()
        .map_err(Into::into)
}

/// One live announcement for a client.
pub async fn get_for(
    db: &Db,
    scope: &TenantScope,
    v: &ClientView<'_>,
    id: &str,
) -> DbResult<Option<Announcement>> {
    let sql = format!(
        "SELECT {COLS}, {IS_READ} AS is_read FROM announcements a WHERE a.tenant_id = $1 AND {FOR_CLIENT} AND a.id = $5"
    );
    let row = sqlx::query(&sql)
        .bind(scope.tenant_id().as_str())
        .bind(now_ms())
        .bind(v.company_id)
        .bind(v.user_id)
        .bind(id)
        .fetch_optional(db.tenant(scope).reader())
        .await?;
    Ok(row
        .map(|r| from_row(&r, r.try_get::<i64, _>("is_read")? == 1, 0))
        .transpose()?)
}

/// Unread live announcements of a client: how many, and the critical ones (newest first).
pub async fn unread(
    db: &Db,
    scope: &TenantScope,
    v: &ClientView<'_>,
) -> DbResult<(i64, Vec<Announcement>)> {
    let sql = format!(
        "SELECT {COLS}, {IS_READ} AS is_read FROM announcements a WHERE a.tenant_id = $1 AND {FOR_CLIENT} \
         AND NOT EXISTS (SELECT 1 FROM announcement_reads r WHERE r.tenant_id = a.tenant_id \
         AND r.announcement_id = a.id AND r.user_id = $4) ORDER BY a.publish_at DESC, a.id DESC LIMIT 100"
    );
    let rows = sqlx::query(&sql)
        .bind(scope.tenant_id().as_str())
        .bind(now_ms())
        .bind(v.company_id)
        .bind(v.user_id)
        .fetch_all(db.tenant(scope).reader())
        .await?;
    let all: Vec<Announcement> = rows
        .iter()
        .map(|r| from_row(r, false, 0))
        .collect::<Result<_, _>>()?;
    let n = all.len() as i64;
    Ok((
        n,
        all.into_iter()
            .filter(|a| a.severity == Severity::Critical)
            .collect(),
    ))
}

/// Marks one announcement read for a user (again is a no-op).
pub async fn mark_read(tx: &mut TenantTx, id: &str, user: &str) -> DbResult<()> {
    let tenant = tx.tenant_id().to_string();
    sqlx::query(
        "INSERT INTO announcement_reads (tenant_id, announcement_id, user_id, read_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (tenant_id, announcement_id, user_id) DO NOTHING",
    )
    .bind(&tenant)
    .bind(id)
    .bind(user)
    .bind(now_ms())
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Marks every live announcement of the client read; returns how many were unread.
pub async fn mark_all_read(tx: &mut TenantTx, v: &ClientView<'_>) -> DbResult<u64> {
    let tenant = tx.tenant_id().to_string();
    let now = now_ms();
    let sql = format!(
        "INSERT INTO announcement_reads (tenant_id, announcement_id, user_id, read_at) \
         SELECT a.tenant_id, a.id, $4, $2 FROM announcements a WHERE a.tenant_id = $1 AND {FOR_CLIENT} \
         ON CONFLICT (tenant_id, announcement_id, user_id) DO NOTHING"
    );
    let r = sqlx::query(&sql)
        .bind(&tenant)
        .bind(now)
        .bind(v.company_id)
        .bind(v.user_id)
        .execute(tx.conn())
        .await?;
    Ok(r.rows_affected())
}

/// Every announcement of the tenant for staff, newest publication first, after `(publish_at, id)`.
pub async fn list_all(
    db: &Db,
    scope: &TenantScope,
    after: Option<(i64, String)>,
    limit: i64,
) -> DbResult<Vec<Announcement>> {
    let (t, i) = after.unwrap_or((i64::MAX, "\u{10FFFF}".to_string()));
    let sql = format!(
        "SELECT {COLS}, (SELECT COUNT(*) FROM announcement_reads r WHERE r.tenant_id = a.tenant_id AND r.announcement_id = a.id) AS reads \
         FROM announcements a WHERE a.tenant_id = $1 AND (a.publish_at < $2 OR (a.publish_at = $2 AND a.id < $3)) \
         ORDER BY a.publish_at DESC, a.id DESC LIMIT $4"
    );
    let rows = sqlx::query(&sql)
        .bind(scope.tenant_id().as_str())
        .bind(t)
        .bind(i)
        .bind(limit)
        .fetch_all(db.tenant(scope).reader())
        .await?;
    rows.iter()
        .map(|r| from_row(r, false, r.try_get("reads")?))
        .collect::<Result<_, _>>()
        .map_err(Into::into)
}

/// One announcement for staff, with its chosen companies.
pub async fn get(db: &Db, scope: &TenantScope, id: &str) -> DbResult<Option<Announcement>> {
    let sql = format!(
        "SELECT {COLS}, (SELECT COUNT(*) FROM announcement_reads r WHERE r.tenant_id = a.tenant_id AND r.announcement_id = a.id) AS reads \
         FROM announcements a WHERE a.tenant_id = $1 AND a.id = $2"
    );
    let row = sqlx::query(&sql)
        .bind(scope.tenant_id().as_str())
        .bind(id)
        .fetch_optional(db.tenant(scope).reader())
        .await?;
    let Some(r) = row else { return Ok(None) };
    let mut a = from_row(&r, false, r.try_get("reads")?)?;
    let rows = sqlx::query(
        "SELECT company_id FROM announcement_companies WHERE tenant_id = $1 AND announcement_id = $2 ORDER BY company_id",
    )
    .bind(scope.tenant_id().as_str())
    .bind(id)
    .fetch_all(db.tenant(scope).reader())
    .await?;
    a.companies = rows
        .iter()
        .map(|r| r.try_get::<String, _>(0))
        .collect::<Result<_, _>>()?;
    Ok(Some(a))
}

async fn get_in(tx: &mut TenantTx, id: &str) -> DbResult<Option<(Announcement, Option<i64>)>> {
    let tenant = tx.tenant_id().to_string();
    let sql = format!(
        "SELECT {COLS}, a.delivered_at FROM announcements a WHERE a.tenant_id = $1 AND a.id = $2"
    );
    let row = sqlx::query(&sql)
        .bind(&tenant)
        .bind(id)
        .fetch_optional(tx.conn())
        .await?;
    let Some(r) = row else { return Ok(None) };
    let mut a = from_row(&r, false, 0)?;
    let delivered: Option<i64> = r.try_get("delivered_at")?;
    let rows = sqlx::query(
        "SELECT company_id FROM announcement_companies WHERE tenant_id = $1 AND announcement_id = $2",
    )
    .bind(&tenant)
    .bind(id)
    .fetch_all(tx.conn())
    .await?;
    a.companies = rows
        .iter()
        .map(|r| r.try_get::<String, _>(0))
        .collect::<Result<_, _>>()?;
    Ok(Some((a, delivered)))
}

/// How many of `ids` are companies of the tenant.
async fn known_companies(tx: &mut TenantTx, ids: &[String]) -> DbResult<usize> {
    let tenant = tx.tenant_id().to_string();
    let mut n = 0;
    for id in ids {
        let row = sqlx::query("SELECT id FROM companies WHERE tenant_id = $1 AND id = $2")
            .bind(&tenant)
            .bind(id)
            .fetch_optional(tx.conn())
            .await?;
        n += usize::from(row.is_some());
    }
    Ok(n)
}

async fn write(
    tx: &mut TenantTx,
    id: &str,
    a: &Input,
    author: Option<&str>,
    insert: bool,
) -> DbResult<()> {
    let tenant = tx.tenant_id().to_string();
    let now = now_ms();
    let audience = if a.companies.is_empty() {
        "all"
    } else {
        "companies"
    };
    if insert {
        sqlx::query(
            "INSERT INTO announcements (tenant_id, id, title, body, severity, audience, publish_at, expires_at, pinned, author_id, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)",
        )
        .bind(&tenant)
        .bind(id)
        .bind(&a.title)
        .bind(&a.body)
        .bind(a.severity.as_str())
        .bind(audience)
        .bind(a.publish_at)
        .bind(a.expires_at)
        .bind(i64::from(a.pinned))
        .bind(author)
        .bind(now)
        .execute(tx.conn())
        .await?;
    } else {
        sqlx::query(
            "UPDATE announcements SET title = $3, body = $4, severity = $5, audience = $6, publish_at = $7, expires_at = $8, \
             pinned = $9, updated_at = $10 WHERE tenant_id = $1 AND id = $2",
        )
        .bind(&tenant)
        .bind(id)
        .bind(&a.title)
        .bind(&a.body)
        .bind(a.severity.as_str())
        .bind(audience)
        .bind(a.publish_at)
        .bind(a.expires_at)
        .bind(i64::from(a.pinned))
        .bind(now)
        .execute(tx.conn())
        .await?;
        sqlx::query(
            "DELETE FROM announcement_companies WHERE tenant_id = $1 AND announcement_id = $2",
        )
        .bind(&tenant)
        .bind(id)
        .execute(tx.conn())
        .await?;
    }
    for c in &a.companies {
        sqlx::query(
            "INSERT INTO announcement_companies (tenant_id, announcement_id, company_id) VALUES ($1, $2, $3)",
        )
        .bind(&tenant)
        .bind(id)
        .bind(c)
        .execute(tx.conn())
        .await?;
    }
    Ok(())
}

// ---- actions ----

/// Checks the companies, writes the announcement and arranges its publication and expiry in
/// the same transaction: delivered at once when its time has come, else by a scheduled job.
pub async fn save(
    app: &AppState,
    tx: &mut TenantTx,
    id: Option<&str>,
    a: &Input,
    author: Option<&str>,
) -> Result<String, AppError> {
    if known_companies(tx, &a.companies).await? != a.companies.len() {
        return Err(AppError::field(
            "companies",
            k("announcement-error-companies"),
        ));
    }
    let (id, insert) = match id {
        Some(id) => (id.to_string(), false),
        None => (new_id(), true),
    };
    write(tx, &id, a, author, insert).await?;
    let now = now_ms();
    if a.publish_at <= now {
        deliver(app, tx, &id).await?;
    } else {
        PublishJob {
            announcement_id: id.clone(),
        }
        .enqueue_at(tx, a.publish_at)
        .await?;
    }
    if let Some(e) = a.expires_at {
        ExpireJob {
            announcement_id: id.clone(),
        }
        .enqueue_at(tx, e)
        .await?;
    }
    Ok(id)
}

/// Deletes an announcement and what hangs on it.
pub async fn delete(tx: &mut TenantTx, id: &str) -> DbResult<()> {
    let tenant = tx.tenant_id().to_string();
    for sql in [
        "DELETE FROM announcement_reads WHERE tenant_id = $1 AND announcement_id = $2",
        "DELETE FROM announcement_companies WHERE tenant_id = $1 AND announcement_id = $2",
        "DELETE FROM announcements WHERE tenant_id = $1 AND id = $2",
    ] {
        sqlx::query(sql)
            .bind(&tenant)
            .bind(id)
            .execute(tx.conn())
            .await?;
    }
    Ok(())
}

/// Publishes an announcement whose time has come, once: the live event to its audience and
/// the emails to its users who want them. Nothing when it was delivered already, is not due
/// yet (rescheduled) or has expired.
async fn deliver(app: &AppState, tx: &mut TenantTx, id: &str) -> Result<bool, AppError> {
    let Some((a, delivered)) = get_in(tx, id).await? else {
        return Ok(false);
    };
    let now = now_ms();
    if delivered.is_some() || a.state(now) != "live" {
        return Ok(false);
    }
    let tenant = tx.tenant_id().to_string();
    let claimed = sqlx::query(
        "UPDATE announcements SET delivered_at = $3 WHERE tenant_id = $1 AND id = $2 AND delivered_at IS NULL",
    )
    .bind(&tenant)
    .bind(id)
    .bind(now)
    .execute(tx.conn())
    .await?;
    if claimed.rows_affected() != 1 {
        return Ok(false);
    }
    publish_event(app, tx, &a, EventKind::AnnouncementPublished).await?;
    // Recipients: active client users of the audience who did not turn announcements off.
    let rows = sqlx::query(
        "SELECT u.id, u.email, u.language, t.default_locale FROM users u JOIN tenants t ON t.id = u.tenant_id \
         LEFT JOIN notification_prefs p ON p.tenant_id = u.tenant_id AND p.user_id = u.id \
         WHERE u.tenant_id = $1 AND u.status = 'active' AND u.company_id IS NOT NULL AND COALESCE(p.announcements, 1) = 1 \
         AND ($3 = 'all' OR u.company_id IN (SELECT ac.company_id FROM announcement_companies ac \
         WHERE ac.tenant_id = $1 AND ac.announcement_id = $2)) ORDER BY u.email",
    )
    .bind(&tenant)
    .bind(id)
    .bind(&a.audience)
    .fetch_all(tx.conn())
    .await?;
    let url = format!("{}/portal/announcements/{}", app.config.base_url, a.id);
    let body: String = a.body.chars().take(2000).collect();
    for r in rows {
        let email: String = r.try_get("email")?;
        let language: Option<String> = r.try_get("language")?;
        let tenant_locale: Option<String> = r.try_get("default_locale")?;
        let tr = Translator::new(for_recipient(language.as_deref(), tenant_locale.as_deref()));
        let subject = match a.severity {
            Severity::Critical => {
                tr.arg(k("announcement-email-subject-critical"), "title", &a.title)
            }
            _ => tr.arg(k("announcement-email-subject"), "title", &a.title),
        };
        EmailJob {
            to: email,
            subject,
            lines: vec![a.title.clone(), String::new(), body.clone()],
            action_url: Some(url.clone()),
            action_label: Some(tr.get(k("announcement-email-action"))),
            lang: Some(tr.lang().into()),
            reply_to: None,
        }
        .enqueue(tx)
        .await?;
    }
    Ok(true)
}

/// Sends `kind` about `a` to its audience: once for every company, or once per chosen one.
async fn publish_event(
    app: &AppState,
    tx: &mut TenantTx,
    a: &Announcement,
    kind: EventKind,
) -> Result<(), AppError> {
    let targets: Vec<Option<String>> = if a.audience == "all" {
        vec![None]
    } else {
        a.companies.iter().cloned().map(Some).collect()
    };
    for company_id in targets {
        app.events
            .publish_in(
                tx,
                Event {
                    tenant_id: String::new(),
                    kind,
                    object_id: a.id.clone(),
                    company_id,
                    participants: vec![],
                    internal: false,
                    data: json!({ "id": a.id, "title": a.title, "severity": a.severity.as_str() }),
                },
            )
            .await
            .map_err(AppError::Internal)?;
    }
    Ok(())
}

async fn job_tx(app: &AppState, job: &Job) -> Result<TenantTx, JobError> {
    let tenant_id = job
        .tenant_id
        .clone()
        .ok_or_else(|| JobError::permanent("the job names no tenant"))?;
    let tenant = crate::tenancy::store::by_id(&app.db, &TenantId(tenant_id))
        .await
        .map_err(JobError::retry)?
        .ok_or_else(|| JobError::permanent("the tenant no longer exists"))?;
    app.db
        .tenant(&tenant.scope())
        .begin()
        .await
        .map_err(JobError::retry)
}

/// Publishes a scheduled announcement when its time comes.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PublishJob {
    /// The announcement.
    pub announcement_id: String,
}

impl JobKind for PublishJob {
    const KIND: &'static str = "announcement.publish";

    async fn run(self, app: &AppState, job: &Job) -> Result<(), JobError> {
        let mut tx = job_tx(app, job).await?;
        deliver(app, &mut tx, &self.announcement_id)
            .await
            .map_err(JobError::retry)?;
        tx.commit().await.map_err(JobError::retry)
    }
}

/// Tells open pages that an announcement expired (badges and banners drop it).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ExpireJob {
    /// The announcement.
    pub announcement_id: String,
}

impl JobKind for ExpireJob {
    const KIND: &'static str = "announcement.expire";

    async fn run(self, app: &AppState, job: &Job) -> Result<(), JobError> {
        let mut tx = job_tx(app, job).await?;
        let found = get_in(&mut tx, &self.announcement_id)
            .await
            .map_err(JobError::retry)?;
        // Moved or removed since the job was queued: a newer job (or none) applies.
        if let Some((a, _)) = found
            && a.state(now_ms()) == "expired"
        {
            publish_event(app, &mut tx, &a, EventKind::AnnouncementExpired)
                .await
                .map_err(JobError::retry)?;
        }
        tx.commit().await.map_err(JobError::retry)
    }
}

/// Serves the portal script (`/assets/announcements.js`): the unread badge, the critical
/// banner, live updates, and the article suggestions on the new-ticket form.
pub async fn script() -> axum::response::Response {
    use axum::http::{HeaderValue, header};
    use axum::response::IntoResponse;
    let mut r = include_str!("../web/static/announcements.js").into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/javascript; charset=utf-8"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    r
}
