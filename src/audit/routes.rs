//! The audit log views: a company's events for its admins (`/portal/audit`, `/api/v1/audit`)
//! and the whole tenant's for staff (`/admin/audit`, `/api/v1/admin/audit`), with filters,
//! cursor pagination and CSV export.

use crate::http::PageRouter;
use aide::axum::routing::get_with;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::{AuditRow, Filter};
use crate::app::AppState;
use crate::auth::{Permission, PortalUser, Principal, StaffUser};
use crate::error::{AppError, AppResult, FieldError};
use crate::http::ApiRouter;
use crate::http::context::{Ctx, RequestContext};
use crate::tenancy::TenantScope;
use crate::web::{FormErrors, PageCtx, render};

const PAGE_SIZE: i64 = 50;
/// Days shown when no start date is given.
const DEFAULT_DAYS: i64 = 30;
/// Most rows one CSV export carries.
const CSV_MAX_ROWS: i64 = 50_000;
const DAY_MS: i64 = 24 * 3600 * 1000;

/// Pages.
pub fn pages() -> PageRouter {
    PageRouter::default()
        .route("/portal/audit", get(portal_page))
        .route("/admin/audit", get(admin_page))
}

/// JSON API.
pub fn api() -> ApiRouter {
    ApiRouter::default()
        .route(
            "/api/v1/audit",
            get_with(api_company, |op| {
                op.id("listCompanyAudit").tag("audit").summary("The own company's audit events")
                    .description("Needs `view_company_audit` (client admins). Newest first; `cursor` is the last `seq` of the previous page.")
            }),
        )
        .route(
            "/api/v1/admin/audit",
            get_with(api_tenant, |op| {
                op.id("listTenantAudit").tag("audit").summary("The tenant's audit events")
                    .description("Needs `view_tenant_audit` (staff admins). Newest first.")
            }),
        )
}

/// Query parameters of every audit view.
#[derive(Clone, Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(default)]
pub struct AuditQuery {
    since: String,
    until: String,
    actor: String,
    action: String,
    cursor: String,
    limit: Option<i64>,
    format: String,
}

fn parse_date(field: &str, s: &str, errs: &mut Vec<FieldError>) -> Option<i64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        Ok(d) => d
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc().timestamp_millis()),
        Err(_) => {
            errs.push(FieldError {
                field: field.into(),
                message: "Enter a date as YYYY-MM-DD, e.g. 2025-01-31.".into(),
            });
            None
        }
    }
}

/// Turns the query into a filter (dates are whole UTC days, `until` inclusive).
fn filter_of(q: &AuditQuery, company: Option<String>, limit: i64) -> AppResult<Filter> {
    let mut errs = Vec::new();
    let since = parse_date("since", &q.since, &mut errs);
    let until = parse_date("until", &q.until, &mut errs).map(|d| d + DAY_MS);
    let before_seq = match q.cursor.trim() {
        "" => None,
        c => match c.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                errs.push(FieldError {
                    field: "cursor".into(),
                    message: "Use the next_cursor of the previous page.".into(),
                });
                None
            }
        },
    };
    if let (Some(s), Some(u)) = (since, until)
        && u <= s
    {
        errs.push(FieldError {
            field: "until".into(),
            message: "The end date must not be before the start date.".into(),
        });
    }
    if !errs.is_empty() {
        return Err(AppError::fields(errs));
    }
    let trimmed = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    Ok(Filter {
        company_id: company,
        since: Some(since.unwrap_or_else(|| Utc::now().timestamp_millis() - DEFAULT_DAYS * DAY_MS)),
        until,
        actor: trimmed(&q.actor).map(|a| a.to_ascii_lowercase()),
        action: trimmed(&q.action),
        before_seq,
        limit,
    })
}

/// One entry as the JSON API shows it.
#[derive(Serialize, schemars::JsonSchema)]
struct ApiEntry {
    seq: i64,
    at: i64,
    actor_email: Option<String>,
    company_id: Option<String>,
    action: String,
    target_type: Option<String>,
    target_id: Option<String>,
    ip: Option<String>,
    detail: serde_json::Value,
}

#[derive(Serialize, schemars::JsonSchema)]
struct ApiPage {
    items: Vec<ApiEntry>,
    next_cursor: Option<String>,
}

fn next_cursor(rows: &[AuditRow], limit: i64) -> Option<String> {
    (rows.len() as i64 == limit)
        .then(|| rows.last().map(|r| r.seq.to_string()))
        .flatten()
}

async fn json_page(
    app: &AppState,
    scope: &TenantScope,
    company: Option<String>,
    q: &AuditQuery,
) -> AppResult<Json<ApiPage>> {
    let limit = q.limit.unwrap_or(PAGE_SIZE).clamp(1, 200);
    let f = filter_of(q, company, limit)?;
    let rows = super::search(&app.db, scope, &f).await?;
    let next = next_cursor(&rows, limit);
    Ok(Json(ApiPage {
        items: rows
            .into_iter()
            .map(|r| ApiEntry {
                detail: serde_json::from_str(&r.detail).unwrap_or(serde_json::Value::Null),
                seq: r.seq,
                at: r.at,
                actor_email: r.actor_email,
                company_id: r.company_id,
                action: r.action,
                target_type: r.target_type,
                target_id: r.target_id,
                ip: r.ip,
            })
            .collect(),
        next_cursor: next,
    }))
}

/// The whole filtered range as CSV (newest first), as an attachment.
async fn csv_export(
    app: &AppState,
    p: &Principal,
    company: Option<String>,
    q: &AuditQuery,
) -> AppResult<Response> {
    let mut f = filter_of(q, company, 1000)?;
    let mut w = csv::Writer::from_writer(Vec::new());
    let csv_err = |e: csv::Error| AppError::Internal(e.into());
    w.write_record([
        "seq",
        "time_utc",
        "actor_email",
        "action",
        "target_type",
        "target_id",
        "ip",
        "detail",
    ])
    .map_err(csv_err)?;
    let mut written = 0;
    loop {
        let rows = super::search(&app.db, &p.scope(), &f).await?;
        for r in &rows {
            let time = chrono::DateTime::from_timestamp_millis(r.at)
                .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                .unwrap_or_default();
            let seq = r.seq.to_string();
            let cells = [
                seq.as_str(),
                &time,
                r.actor_email.as_deref().unwrap_or(""),
                &r.action,
                r.target_type.as_deref().unwrap_or(""),
                r.target_id.as_deref().unwrap_or(""),
                r.ip.as_deref().unwrap_or(""),
                &r.detail,
            ];
            // Emails, ids and details are user-controlled: none may start a formula.
            w.write_record(cells.map(crate::text::csv_cell).iter().map(|c| c.as_ref()))
                .map_err(csv_err)?;
        }
        written += rows.len() as i64;
        match rows.last() {
            Some(last) if rows.len() as i64 == f.limit && written < CSV_MAX_ROWS => {
                f.before_seq = Some(last.seq);
            }
            _ => break,
        }
    }
    let body = w
        .into_inner()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("csv: {e}")))?;
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    let name = format!(
        "attachment; filename=\"audit-{}-{}.csv\"",
        p.tenant.slug,
        Utc::now().format("%Y-%m-%d")
    );
    if let Ok(v) = HeaderValue::from_str(&name) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(r)
}

#[derive(askama::Template)]
#[template(path = "audit/templates/log.html")]
struct LogPage {
    page: PageCtx,
    heading: &'static str,
    intro: &'static str,
    base: &'static str,
    rows: Vec<AuditRow>,
    q: AuditQuery,
    since_shown: String,
    next_link: Option<String>,
    csv_link: String,
    chain: Option<Option<i64>>,
    errors: FormErrors,
}

fn link(base: &str, q: &AuditQuery, cursor: Option<&str>, format: Option<&str>) -> String {
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    for (k, v) in [
        ("since", q.since.as_str()),
        ("until", q.until.as_str()),
        ("actor", q.actor.as_str()),
        ("action", q.action.as_str()),
    ] {
        if !v.trim().is_empty() {
            pairs.push((k, v));
        }
    }
    if let Some(c) = cursor {
        pairs.push(("cursor", c));
    }
    if let Some(f) = format {
        pairs.push(("format", f));
    }
    let qs = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    if qs.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{qs}")
    }
}

struct View {
    heading: &'static str,
    intro: &'static str,
    base: &'static str,
    company: Option<String>,
    verify: bool,
}

async fn html_or_csv(
    app: &AppState,
    ctx: &RequestContext,
    p: &Principal,
    q: AuditQuery,
    v: View,
) -> AppResult<Response> {
    if q.format == "csv" {
        return csv_export(app, p, v.company, &q).await;
    }
    let scope = p.scope();
    let (rows, errors, next_link) = match filter_of(&q, v.company.clone(), PAGE_SIZE) {
        Ok(f) => {
            let rows = super::search(&app.db, &scope, &f).await?;
            let next = next_cursor(&rows, PAGE_SIZE).map(|c| link(v.base, &q, Some(&c), None));
            (rows, FormErrors::default(), next)
        }
        Err(e) => (Vec::new(), FormErrors::from(&e), None),
    };
    let chain = if v.verify {
        Some(super::verify(&app.db, &scope).await?)
    } else {
        None
    };
    let since_shown = if q.since.trim().is_empty() {
        (Utc::now() - chrono::Duration::days(DEFAULT_DAYS))
            .format("%Y-%m-%d")
            .to_string()
    } else {
        q.since.clone()
    };
    let bad = !errors.is_empty();
    let mut r = render(&LogPage {
        page: PageCtx::new(ctx),
        heading: v.heading,
        intro: v.intro,
        base: v.base,
        csv_link: link(v.base, &q, None, Some("csv")),
        rows,
        since_shown,
        next_link,
        chain,
        errors,
        q,
    })?;
    if bad {
        *r.status_mut() = axum::http::StatusCode::BAD_REQUEST;
    }
    Ok(r)
}

async fn portal_page(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Query(q): Query<AuditQuery>,
) -> AppResult<Response> {
    let actor = user.require(Permission::ViewCompanyAudit)?;
    let company = actor.company_id().cloned().ok_or(AppError::NotFound)?;
    html_or_csv(
        &app,
        &ctx,
        &user,
        q,
        View {
            heading: crate::i18n::k("audit-activity-title"),
            intro: crate::i18n::k("audit-activity-intro"),
            base: "/portal/audit",
            company: Some(company.0),
            verify: false,
        },
    )
    .await
}

async fn admin_page(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Query(q): Query<AuditQuery>,
) -> AppResult<Response> {
    staff.require(Permission::ViewTenantAudit)?;
    html_or_csv(
        &app,
        &ctx,
        &staff,
        q,
        View {
            heading: crate::i18n::k("nav-audit-log"),
            intro: crate::i18n::k("audit-log-intro"),
            base: "/admin/audit",
            company: None,
            verify: true,
        },
    )
    .await
}

async fn api_company(
    State(app): State<AppState>,
    user: PortalUser,
    Query(q): Query<AuditQuery>,
) -> AppResult<Json<ApiPage>> {
    let actor = user.require(Permission::ViewCompanyAudit)?;
    let company = actor.company_id().cloned().ok_or(AppError::NotFound)?;
    json_page(&app, actor.scope(), Some(company.0), &q).await
}

async fn api_tenant(
    State(app): State<AppState>,
    staff: StaffUser,
    Query(q): Query<AuditQuery>,
) -> AppResult<Json<ApiPage>> {
    let actor = staff.require(Permission::ViewTenantAudit)?;
    json_page(&app, actor.scope(), None, &q).await
}
