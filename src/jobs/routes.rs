//! Staff view of the tenant's background jobs ("Delivery"): what was sent, what failed, retry.

use aide::axum::routing::{get_with, post_with};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;

use super::JobView;
use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::auth::{Actor, Permission, StaffUser};
use crate::error::{AppError, AppResult};
use crate::http::context::Ctx;
use crate::http::{ApiRouter, PageRouter};
use crate::web::{PageCtx, notice, render};

const PAGE_SIZE: i64 = 50;

/// Admin pages.
pub fn pages() -> PageRouter {
    PageRouter::default()
        .route("/admin/jobs", get(list_page))
        .route("/admin/jobs/{id}/retry", post(retry_form))
}

/// JSON API.
pub fn api() -> ApiRouter {
    ApiRouter::default()
        .route(
            "/api/v1/admin/jobs",
            get_with(api_list, |op| {
                op.id("listJobs").tag("jobs").summary("List background jobs")
                    .description("Needs `view_jobs`. Newest first.")
            }),
        )
        .route(
            "/api/v1/admin/jobs/{id}/retry",
            post_with(api_retry, |op| {
                op.id("retryJob").tag("jobs").summary("Retry a job now")
                    .description("Only a failed job, or a queued one waiting for its next attempt, can be retried; otherwise 422 `unprocessable`.")
            }),
        )
}

#[derive(Deserialize, Default, schemars::JsonSchema)]
struct ListQuery {
    cursor: Option<String>,
    limit: Option<i64>,
    notice: Option<String>,
}

#[derive(askama::Template)]
#[template(path = "jobs/templates/list.html")]
struct ListPage {
    page: PageCtx,
    jobs: Vec<JobView>,
    next_cursor: Option<String>,
    notice: Option<&'static str>,
}

fn next_cursor(jobs: &[JobView], limit: i64) -> Option<String> {
    (jobs.len() as i64 == limit)
        .then(|| jobs.last().map(|j| j.id.clone()))
        .flatten()
}

async fn list_page(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ViewJobs)?;
    let jobs = super::list(&app.db, actor.scope(), q.cursor.as_deref(), PAGE_SIZE).await?;
    render(&ListPage {
        page: PageCtx::new(&ctx),
        next_cursor: next_cursor(&jobs, PAGE_SIZE),
        jobs,
        notice: match q.notice.as_deref() {
            Some("retried") => Some("The job will run again in a moment."),
            other => notice(other),
        },
    })
}

async fn retry(app: &AppState, actor: &Actor, ip: &str, id: &str) -> AppResult<JobView> {
    let job = super::get(&app.db, actor.scope(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut tx = app.db.tenant(actor.scope()).begin().await?;
    if !super::retry_now(&mut tx, id).await? {
        return Err(AppError::Unprocessable(format!(
            "This job is {}; only failed jobs and jobs waiting to retry can be retried.",
            job.status
        )));
    }
    audit::append(
        &mut tx,
        Entry {
            ip: Some(ip),
            detail: json!({ "kind": job.kind, "previous_status": job.status, "attempts": job.attempts }),
            ..Entry::new("job.retried").by(actor).target("job", id)
        },
    )
    .await?;
    tx.commit().await?;
    super::get(&app.db, actor.scope(), id)
        .await?
        .ok_or(AppError::NotFound)
}

async fn retry_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ViewJobs)?;
    retry(&app, &actor, &ctx.ip, &id).await?;
    Ok(Redirect::to("/admin/jobs?notice=retried").into_response())
}

async fn api_list(
    State(app): State<AppState>,
    staff: StaffUser,
    Query(q): Query<ListQuery>,
) -> AppResult<Json<JobPage>> {
    let actor = staff.require(Permission::ViewJobs)?;
    let limit = q.limit.unwrap_or(PAGE_SIZE).clamp(1, 200);
    let jobs = super::list(&app.db, actor.scope(), q.cursor.as_deref(), limit).await?;
    Ok(Json(JobPage {
        next_cursor: next_cursor(&jobs, limit),
        items: jobs,
    }))
}

/// A page of jobs, newest first.
#[derive(serde::Serialize, schemars::JsonSchema)]
struct JobPage {
    items: Vec<JobView>,
    /// Pass as `cursor` for the next page; null on the last page.
    next_cursor: Option<String>,
}

async fn api_retry(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> AppResult<Json<JobView>> {
    let actor = staff.require(Permission::ViewJobs)?;
    Ok(Json(retry(&app, &actor, &ctx.ip, &id).await?))
}
