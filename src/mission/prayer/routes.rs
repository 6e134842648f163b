//! Prayer wall pages and JSON (members), and the moderation queue (staff).

use aide::axum::routing::{get_with, post_with};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};

use super::{NewPrayer, PAGE_SIZE, Prayer, Viewer, WallFilter};
use crate::app::AppState;
use crate::auth::{Permission, PortalUser, StaffUser};
use crate::error::{AppError, AppResult};
use crate::http::context::Ctx;
use crate::http::{ApiRouter, PageRouter};
use crate::mission::source::MissionSource;
use crate::web::{FormErrors, PageCtx, render};

/// Pages.
pub fn pages() -> PageRouter {
    PageRouter::default()
        .route("/portal/mission/prayer", get(wall_page).post(post_form))
        .route("/portal/mission/prayer/{id}/prayed", post(prayed_form))
        .route("/portal/mission/prayer/{id}/answer", post(answer_form))
        .route("/portal/mission/prayer/{id}/report", post(report_form))
        .route("/admin/mission/prayer", get(queue_page))
        .route("/admin/mission/prayer/moderate", post(moderate_form))
}

/// JSON API.
pub fn api() -> ApiRouter {
    ApiRouter::default()
        .route(
            "/api/v1/mission/prayer",
            get_with(api_wall, |op| {
                op.id("prayerWall").tag("mission").summary("The prayer wall")
                    .description("Shared, approved requests and my own, newest first. Anonymous requests of others carry no author.")
            })
            .post_with(api_post, |op| {
                op.id("postPrayer").tag("mission").summary("Post a prayer request")
                    .description("`visibility`: `members` (default) or `staff` (private to pastoral staff). May wait for approval.")
                    .response_with::<201, Json<Prayer>, _>(|r| r.description("Posted."))
            }),
        )
        .route(
            "/api/v1/mission/prayer/{id}/prayed",
            post_with(api_prayed, |op| {
                op.id("prayedFor").tag("mission").summary("I prayed")
                    .description("Counted once per member, however often it is sent.")
            }),
        )
        .route(
            "/api/v1/mission/prayer/{id}/answer",
            post_with(api_answer, |op| {
                op.id("answerPrayer").tag("mission").summary("Mark my request answered")
            }),
        )
        .route(
            "/api/v1/mission/prayer/{id}/report",
            post_with(api_report, |op| {
                op.id("reportPrayer").tag("mission").summary("Report a request to staff")
            }),
        )
        .route(
            "/api/v1/admin/mission/prayer",
            get_with(api_queue, |op| {
                op.id("adminPrayerQueue").tag("mission-admin").summary("Prayer requests for moderation")
                    .description("Needs `moderate_prayer`. `queue`: `pending`, `reported`, `private` or empty for all.")
            }),
        )
        .route(
            "/api/v1/admin/mission/prayer/moderate",
            post_with(api_moderate, |op| {
                op.id("adminModeratePrayer").tag("mission-admin").summary("Approve, hide or delete a request")
            }),
        )
}

#[derive(Deserialize, Default, schemars::JsonSchema)]
struct WallQuery {
    /// Next page.
    #[serde(default)]
    cursor: Option<String>,
    /// Staff: `pending`, `reported`, `private` or empty.
    #[serde(default)]
    queue: Option<String>,
    #[serde(default)]
    #[schemars(skip)]
    notice: Option<String>,
}

/// A page of prayer requests.
#[derive(Serialize, schemars::JsonSchema)]
struct WallPage {
    items: Vec<Prayer>,
    next_cursor: Option<String>,
}

#[derive(askama::Template)]
#[template(path = "mission/templates/prayer.html")]
struct Page {
    page: PageCtx,
    items: Vec<Prayer>,
    next: Option<String>,
    errors: FormErrors,
    form: NewPrayer,
    notice: Option<&'static str>,
}

async fn wall_view(
    app: &AppState,
    ctx: &crate::http::context::RequestContext,
    user: &PortalUser,
    q: &WallQuery,
    errors: FormErrors,
    form: NewPrayer,
) -> AppResult<Response> {
    let me = user.require(Permission::MissionAccess)?;
    let src = MissionSource::for_tenant(app, me.scope()).await?;
    let (items, next) = src.prayer_wall(&me, q.cursor.clone(), PAGE_SIZE).await?;
    let failed = !errors.is_empty();
    let mut r = render(&Page {
        page: PageCtx::new(ctx),
        items,
        next: next.map(|c| {
            format!(
                "/portal/mission/prayer?cursor={}",
                url::form_urlencoded::byte_serialize(c.as_bytes()).collect::<String>()
            )
        }),
        errors,
        form,
        notice: match q.notice.as_deref() {
            Some("posted") => Some("mission-notice-prayer-posted"),
            Some("pending") => Some("mission-notice-prayer-pending"),
            Some("prayed") => Some("mission-notice-prayed"),
            Some("answered") => Some("mission-notice-answered"),
            Some("reported") => Some("mission-notice-reported"),
            _ => None,
        },
    })?;
    if failed {
        *r.status_mut() = StatusCode::BAD_REQUEST;
    }
    Ok(r)
}

async fn wall_page(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Query(q): Query<WallQuery>,
) -> AppResult<Response> {
    wall_view(
        &app,
        &ctx,
        &user,
        &q,
        FormErrors::default(),
        NewPrayer::default(),
    )
    .await
}

#[derive(Deserialize)]
struct PostForm {
    #[serde(default)]
    body: String,
    #[serde(default)]
    visibility: String,
    #[serde(default)]
    anonymous: Option<String>,
}

async fn post_form(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    axum::Form(f): axum::Form<PostForm>,
) -> AppResult<Response> {
    let me = user.require(Permission::MissionAccess)?;
    let n = NewPrayer {
        body: f.body,
        visibility: f.visibility,
        anonymous: f.anonymous.is_some(),
    };
    let src = MissionSource::for_tenant(&app, me.scope()).await?;
    match src.post_prayer(&me, &ctx.ip, &n).await {
        Ok(id) => {
            let p = src.prayer(&me, &id).await?;
            let notice = if p.status == "pending" {
                "pending"
            } else {
                "posted"
            };
            Ok(Redirect::to(&format!("/portal/mission/prayer?notice={notice}")).into_response())
        }
        Err(e @ AppError::Validation { .. }) => {
            wall_view(
                &app,
                &ctx,
                &user,
                &WallQuery::default(),
                FormErrors::from(&e),
                n,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

async fn prayed_form(
    State(app): State<AppState>,
    user: PortalUser,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let me = user.require(Permission::MissionAccess)?;
    let src = MissionSource::for_tenant(&app, me.scope()).await?;
    src.pray(&me, &id).await?;
    Ok(Redirect::to("/portal/mission/prayer?notice=prayed").into_response())
}

#[derive(Deserialize, Default, schemars::JsonSchema)]
struct AnswerBody {
    /// A short praise report.
    #[serde(default)]
    praise: String,
}

async fn answer_form(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<AnswerBody>,
) -> AppResult<Response> {
    let me = user.require(Permission::MissionAccess)?;
    let src = MissionSource::for_tenant(&app, me.scope()).await?;
    src.answer(&me, &ctx.ip, &id, &f.praise).await?;
    Ok(Redirect::to("/portal/mission/prayer?notice=answered").into_response())
}

async fn report_form(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let me = user.require(Permission::MissionAccess)?;
    let src = MissionSource::for_tenant(&app, me.scope()).await?;
    src.report(&me, &ctx.ip, &id).await?;
    Ok(Redirect::to("/portal/mission/prayer?notice=reported").into_response())
}

async fn api_wall(
    State(app): State<AppState>,
    user: PortalUser,
    Query(q): Query<WallQuery>,
) -> AppResult<Json<WallPage>> {
    let me = user.require(Permission::MissionAccess)?;
    let src = MissionSource::for_tenant(&app, me.scope()).await?;
    let (items, next_cursor) = src.prayer_wall(&me, q.cursor.clone(), PAGE_SIZE).await?;
    Ok(Json(WallPage { items, next_cursor }))
}

async fn api_post(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Json(n): Json<NewPrayer>,
) -> AppResult<Response> {
    let me = user.require(Permission::MissionAccess)?;
    let src = MissionSource::for_tenant(&app, me.scope()).await?;
    let id = src.post_prayer(&me, &ctx.ip, &n).await?;
    let p = src.prayer(&me, &id).await?;
    Ok((StatusCode::CREATED, Json(p)).into_response())
}

/// The count after "I prayed".
#[derive(Serialize, schemars::JsonSchema)]
struct Prayed {
    prayed_count: i64,
}

async fn api_prayed(
    State(app): State<AppState>,
    user: PortalUser,
    Path(id): Path<String>,
) -> AppResult<Json<Prayed>> {
    let me = user.require(Permission::MissionAccess)?;
    let src = MissionSource::for_tenant(&app, me.scope()).await?;
    Ok(Json(Prayed {
        prayed_count: src.pray(&me, &id).await?,
    }))
}

async fn api_answer(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    Json(b): Json<AnswerBody>,
) -> AppResult<Json<Prayer>> {
    let me = user.require(Permission::MissionAccess)?;
    let src = MissionSource::for_tenant(&app, me.scope()).await?;
    src.answer(&me, &ctx.ip, &id, &b.praise).await?;
    Ok(Json(src.prayer(&me, &id).await?))
}

/// Acknowledgement of a report.
#[derive(Serialize, schemars::JsonSchema)]
struct Reported {
    reported: bool,
}

async fn api_report(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> AppResult<Json<Reported>> {
    let me = user.require(Permission::MissionAccess)?;
    let src = MissionSource::for_tenant(&app, me.scope()).await?;
    src.report(&me, &ctx.ip, &id).await?;
    Ok(Json(Reported { reported: true }))
}

// --- Staff ---

#[derive(askama::Template)]
#[template(path = "mission/templates/admin_prayer.html")]
struct QueuePage {
    page: PageCtx,
    items: Vec<Prayer>,
    queue: String,
    next: Option<String>,
    notice: Option<&'static str>,
}

fn queue_of(q: &WallQuery) -> String {
    match q.queue.as_deref() {
        Some(v @ ("pending" | "reported" | "private" | "all")) => v.to_string(),
        _ => "pending".to_string(),
    }
}

async fn queue_page(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Query(q): Query<WallQuery>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ModeratePrayer)?;
    let queue = queue_of(&q);
    let f = WallFilter {
        queue: if queue == "all" {
            String::new()
        } else {
            queue.clone()
        },
        cursor: q.cursor.clone(),
        limit: PAGE_SIZE,
        ..WallFilter::default()
    };
    let (items, next) = super::wall(
        &app.db,
        actor.scope(),
        actor.user_id().as_str(),
        Viewer::Staff,
        &f,
    )
    .await?;
    render(&QueuePage {
        page: PageCtx::new(&ctx),
        items,
        next: next.map(|c| {
            format!(
                "/admin/mission/prayer?queue={queue}&cursor={}",
                url::form_urlencoded::byte_serialize(c.as_bytes()).collect::<String>()
            )
        }),
        queue,
        notice: q
            .notice
            .as_deref()
            .filter(|n| *n == "done")
            .map(|_| "mission-notice-moderated"),
    })
}

#[derive(Deserialize, schemars::JsonSchema)]
struct ModerateBody {
    /// The request's id.
    #[serde(default)]
    id: String,
    /// `approve`, `hide` or `delete`.
    #[serde(default)]
    action: String,
    #[serde(default)]
    #[schemars(skip)]
    queue: Option<String>,
}

async fn moderate_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    axum::Form(b): axum::Form<ModerateBody>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ModeratePrayer)?;
    super::moderate(&app.db, &actor, &ctx.ip, &b.id, &b.action).await?;
    let queue = queue_of(&WallQuery {
        queue: b.queue,
        ..WallQuery::default()
    });
    Ok(Redirect::to(&format!("/admin/mission/prayer?queue={queue}&notice=done")).into_response())
}

async fn api_queue(
    State(app): State<AppState>,
    staff: StaffUser,
    Query(q): Query<WallQuery>,
) -> AppResult<Json<WallPage>> {
    let actor = staff.require(Permission::ModeratePrayer)?;
    let f = WallFilter {
        queue: q.queue.clone().unwrap_or_default(),
        cursor: q.cursor.clone(),
        limit: PAGE_SIZE,
        ..WallFilter::default()
    };
    let (items, next_cursor) = super::wall(
        &app.db,
        actor.scope(),
        actor.user_id().as_str(),
        Viewer::Staff,
        &f,
    )
    .await?;
    Ok(Json(WallPage { items, next_cursor }))
}

/// Outcome of a moderation.
#[derive(Serialize, schemars::JsonSchema)]
struct Moderated {
    id: String,
    action: String,
}

async fn api_moderate(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Json(b): Json<ModerateBody>,
) -> AppResult<Json<Moderated>> {
    let actor = staff.require(Permission::ModeratePrayer)?;
    super::moderate(&app.db, &actor, &ctx.ip, &b.id, &b.action).await?;
    Ok(Json(Moderated {
        id: b.id,
        action: b.action,
    }))
}
