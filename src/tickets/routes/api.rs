//! The client's ticket JSON API.

use axum::Json;
use axum::extract::{Path, Query, State};

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::auth::{Permission, PortalUser};
use crate::db::now_ms;
use crate::error::{AppError, AppResult};
use crate::files::Pending;
use crate::http::context::Ctx;
use crate::tickets::service::{self, CommentInput, CreateInput};
use crate::tickets::store::{self, TicketSummary};
use crate::tickets::{Priority, SlaState, Status};

use super::*;

/// A page of tickets.
#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct TicketPage {
    pub items: Vec<ListItem>,
    pub next_cursor: Option<String>,
}

/// A list item: the ticket without its description, plus the SLA state.
#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct ListItem {
    pub number: i64,
    pub subject: String,
    pub status: Status,
    pub priority: Priority,
    pub category: String,
    pub company_id: String,
    pub company_name: String,
    pub requester: store::Person,
    pub assignee: Option<store::Person>,
    pub sla: crate::tickets::Sla,
    pub sla_state: SlaState,
    pub created_at: i64,
    pub updated_at: i64,
}

pub(crate) fn list_items(items: Vec<TicketSummary>) -> Vec<ListItem> {
    let now = now_ms();
    items
        .into_iter()
        .map(|t| ListItem {
            sla_state: t.sla_state(now),
            number: t.number,
            subject: t.subject,
            status: t.status,
            priority: t.priority,
            category: t.category,
            company_id: t.company_id,
            company_name: t.company_name,
            requester: t.requester,
            assignee: t.assignee,
            sla: t.sla,
            created_at: t.created_at,
            updated_at: t.updated_at,
        })
        .collect()
}

pub(super) async fn api_list(
    State(app): State<AppState>,
    user: PortalUser,
    Query(q): Query<ListQuery>,
) -> AppResult<Json<TicketPage>> {
    let company = client(&user)?;
    let (filter, _) = client_filter(&user, company, &q);
    let (items, next_cursor) = store::list(&app.db, &user.scope(), &filter).await?;
    Ok(Json(TicketPage {
        items: list_items(items),
        next_cursor,
    }))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CreateBody {
    #[serde(default)]
    subject: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    priority: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    cc: Vec<String>,
}

pub(super) async fn api_create(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Json(b): Json<CreateBody>,
) -> AppResult<Response> {
    let company = client(&user)?;
    let actor = user.require(Permission::CreateTickets)?;
    let (subject, description, priority, category) =
        service::check_fields(&b.subject, &b.description, &b.priority, &b.category)
            .map_err(AppError::fields)?;
    let t = service::create(
        &app,
        &actor,
        &ctx.ip,
        CreateInput {
            company_id: company,
            requester_id: actor.user_id().as_str().to_string(),
            subject,
            description,
            priority,
            category: category.into(),
            cc: b.cc,
        },
        Pending::new(app.files.clone()),
    )
    .await?;
    store::mark_seen(
        &app.db,
        actor.scope(),
        actor.user_id().as_str(),
        &t.id,
        t.updated_at,
    )
    .await?;
    let v = view(&app, actor.scope(), t, false).await?;
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

pub(super) async fn api_get(
    State(app): State<AppState>,
    user: PortalUser,
    Path(n): Path<String>,
) -> AppResult<Json<TicketView>> {
    client(&user)?;
    let t = service::visible(&app, &user, number(&n)?).await?;
    store::mark_seen(
        &app.db,
        &user.scope(),
        user.user_id.as_str(),
        &t.id,
        t.updated_at,
    )
    .await?;
    Ok(Json(view(&app, &user.scope(), t, false).await?))
}

/// Number of the user's tickets with updates they have not opened yet (the navigation badge).
#[derive(Serialize, schemars::JsonSchema)]
pub(super) struct Unseen {
    count: i64,
}

pub(super) async fn api_unseen(
    State(app): State<AppState>,
    user: PortalUser,
) -> AppResult<Json<Unseen>> {
    client(&user)?;
    let count = store::unseen_count(&app.db, &user.scope(), user.user_id.as_str()).await?;
    Ok(Json(Unseen { count }))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CommentBody {
    #[serde(default)]
    body: String,
}

pub(super) async fn api_comment(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Path(n): Path<String>,
    Json(b): Json<CommentBody>,
) -> AppResult<Response> {
    client(&user)?;
    let t = service::visible(&app, &user, number(&n)?).await?;
    let actor = user.require(Permission::CommentOnTickets)?;
    let t = service::comment(
        &app,
        &actor,
        &ctx.ip,
        &t,
        CommentInput {
            body: b.body,
            internal: false,
            via_email: None,
        },
        Pending::new(app.files.clone()),
    )
    .await?;
    store::mark_seen(
        &app.db,
        actor.scope(),
        actor.user_id().as_str(),
        &t.id,
        t.updated_at,
    )
    .await?;
    let v = view(&app, actor.scope(), t, false).await?;
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

/// `POST …/close` takes an empty JSON object, so a stray or malformed body is refused
/// instead of closing the ticket.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CloseBody {}

pub(super) async fn api_close(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Path(n): Path<String>,
    Json(_): Json<CloseBody>,
) -> AppResult<Json<TicketView>> {
    client(&user)?;
    let t = service::visible(&app, &user, number(&n)?).await?;
    let actor = user.require(Permission::CloseTickets)?;
    let t = service::set_status(&app, &actor, &ctx.ip, &t, Status::Closed, None).await?;
    Ok(Json(view(&app, actor.scope(), t, false).await?))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ReopenBody {
    #[serde(default)]
    reason: String,
}

pub(super) async fn api_reopen(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Path(n): Path<String>,
    Json(b): Json<ReopenBody>,
) -> AppResult<Json<TicketView>> {
    client(&user)?;
    let t = service::visible(&app, &user, number(&n)?).await?;
    let actor = user.require(Permission::CloseTickets)?;
    let t = service::reopen(&app, &actor, &ctx.ip, &t, &b.reason).await?;
    Ok(Json(view(&app, actor.scope(), t, false).await?))
}

pub(super) async fn api_upload(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Path(n): Path<String>,
    req: axum::extract::Request,
) -> AppResult<Response> {
    client(&user)?;
    let t = service::visible(&app, &user, number(&n)?).await?;
    let actor = user.require(Permission::CommentOnTickets)?;
    let form = read_multipart(&app, actor.scope(), req).await?;
    if let Some(fe) = form.file_error() {
        return Err(AppError::fields(vec![fe]));
    }
    if form.files.is_empty() {
        return Err(AppError::field("attachments", "Choose at least one file."));
    }
    let t = service::add_files(&app, &actor, &ctx.ip, &t, form.files).await?;
    let v = view(&app, actor.scope(), t, false).await?;
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

pub(super) async fn api_download(
    State(app): State<AppState>,
    user: PortalUser,
    Path((n, id)): Path<(String, String)>,
) -> AppResult<Response> {
    client(&user)?;
    let t = service::visible(&app, &user, number(&n)?).await?;
    download(&app, &user.scope(), &t, &id, false).await
}
