//! Year-end statement pages and JSON (staff): start a run, watch its progress, download the
//! archive.

use aide::axum::routing::get_with;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};

use super::Run;
use crate::app::AppState;
use crate::auth::{Actor, Permission, StaffUser};
use crate::error::{AppError, AppResult};
use crate::http::context::{Ctx, RequestContext};
use crate::http::{ApiRouter, PageRouter};
use crate::web::{FormErrors, PageCtx, render};

/// Pages.
pub fn pages() -> PageRouter {
    PageRouter::default()
        .route(
            "/admin/mission/statements",
            get(admin_page).post(admin_start_form),
        )
        .route("/admin/mission/statements/progress.js", get(script))
        .route(
            "/admin/mission/statements/{id}/archive.zip",
            get(admin_archive),
        )
}

/// JSON API.
pub fn api() -> ApiRouter {
    ApiRouter::default()
        .route(
            "/api/v1/admin/mission/statements",
            get_with(api_list, |op| {
                op.id("adminListStatementRuns").tag("mission-admin").summary("Year-end statement runs, newest first")
                    .description("Needs `manage_giving`.")
            })
            .post_with(api_start, |op| {
                op.id("adminStartStatementRun").tag("mission-admin").summary("Start year-end statements for every giver of a year")
                    .description("`delivery` is `email` (each giver is mailed their statement PDF, once, even when the run is retried) or `archive` (one zip for staff at `/admin/mission/statements/{id}/archive.zip`).")
                    .response_with::<201, Json<Run>, _>(|r| r.description("Started."))
            }),
        )
        .route(
            "/api/v1/admin/mission/statements/{id}",
            get_with(api_get, |op| {
                op.id("adminGetStatementRun").tag("mission-admin").summary("A run and its progress (`done` of `total`)")
            }),
        )
}

#[derive(askama::Template)]
#[template(path = "mission/templates/admin_statements.html")]
struct AdminPage {
    page: PageCtx,
    runs: Vec<Run>,
    year: String,
    errors: FormErrors,
    notice: Option<&'static str>,
}

impl AdminPage {
    fn active(&self) -> bool {
        self.runs.iter().any(Run::active)
    }
    fn progress(&self, r: &Run) -> String {
        use crate::i18n::Arg;
        self.page.t.args(
            "statements-progress",
            &[("done", Arg::Num(r.done)), ("total", Arg::Num(r.total))],
        )
    }
}

async fn view(
    app: &AppState,
    ctx: &RequestContext,
    actor: &Actor,
    year: String,
    errors: FormErrors,
    notice: Option<&'static str>,
) -> AppResult<Response> {
    let failed = !errors.is_empty();
    let mut r = render(&AdminPage {
        page: PageCtx::new(ctx),
        runs: super::list(&app.db, actor.scope()).await?,
        year,
        errors,
        notice,
    })?;
    if failed {
        *r.status_mut() = StatusCode::BAD_REQUEST;
    }
    Ok(r)
}

#[derive(Deserialize, Default)]
struct NoticeQuery {
    #[serde(default)]
    notice: Option<String>,
}

async fn admin_page(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Query(q): Query<NoticeQuery>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageGiving)?;
    let tz = crate::mission::tenant_zone(&staff.tenant.time_zone);
    // December's statements are usually sent in January: last year is the likely choice.
    let year = chrono::Datelike::year(&crate::mission::today(tz)) - 1;
    let notice = (q.notice.as_deref() == Some("started")).then_some("statements-notice-started");
    view(
        &app,
        &ctx,
        &actor,
        year.to_string(),
        FormErrors::default(),
        notice,
    )
    .await
}

#[derive(Deserialize, Default)]
struct StartForm {
    #[serde(default)]
    year: String,
    #[serde(default)]
    delivery: String,
}

async fn admin_start_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    axum::Form(f): axum::Form<StartForm>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageGiving)?;
    match super::start(&app.db, &actor, &ctx.ip, &f.year, &f.delivery).await {
        Ok(_) => Ok(Redirect::to("/admin/mission/statements?notice=started").into_response()),
        Err(e @ AppError::Validation { .. }) => {
            view(&app, &ctx, &actor, f.year, FormErrors::from(&e), None).await
        }
        Err(e) => Err(e),
    }
}

async fn script() -> Response {
    let mut r = include_str!("progress.js").into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/javascript; charset=utf-8"),
    );
    r
}

async fn admin_archive(
    State(app): State<AppState>,
    staff: StaffUser,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageGiving)?;
    let run = super::get(&app.db, actor.scope(), &id).await?;
    let key = super::archive_key(&app.db, actor.scope(), &run.id)
        .await?
        .ok_or(AppError::NotFound)?;
    let (_, stream) = app
        .files
        .get(&crate::files::ObjectKey::stored(key))
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("statement archive: {e}")))?;
    let mut r = axum::body::Body::from_stream(stream).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/zip"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"giving-statements-{}.zip\"",
        run.year
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(r)
}

/// The runs.
#[derive(Serialize, schemars::JsonSchema)]
struct RunList {
    items: Vec<Run>,
}

async fn api_list(State(app): State<AppState>, staff: StaffUser) -> AppResult<Json<RunList>> {
    let actor = staff.require(Permission::ManageGiving)?;
    Ok(Json(RunList {
        items: super::list(&app.db, actor.scope()).await?,
    }))
}

/// What to start.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct StartBody {
    /// Calendar year (`2025`).
    year: i64,
    /// `email` or `archive`.
    delivery: String,
}

async fn api_start(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Json(b): Json<StartBody>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageGiving)?;
    let id = super::start(&app.db, &actor, &ctx.ip, &b.year.to_string(), &b.delivery).await?;
    let run = super::get(&app.db, actor.scope(), &id).await?;
    Ok((StatusCode::CREATED, Json(run)).into_response())
}

async fn api_get(
    State(app): State<AppState>,
    staff: StaffUser,
    Path(id): Path<String>,
) -> AppResult<Json<Run>> {
    let actor = staff.require(Permission::ManageGiving)?;
    Ok(Json(super::get(&app.db, actor.scope(), &id).await?))
}
