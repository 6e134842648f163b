//! `/portal/team` pages and `/api/v1/team` JSON API.

use aide::axum::routing::{get_with, patch_with, post_with};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};

use super::TEAM_ROLES;
use crate::app::AppState;
use crate::auth::{Actor, Permission, PortalUser, Role};
use crate::error::{AppError, AppResult};
use crate::http::context::{Ctx, RequestContext};
use crate::http::{ApiRouter, PageRouter};
use crate::users::User;
use crate::web::{FormErrors, PageCtx, notice, render};

const PAGE_SIZE: i64 = 50;

/// Pages.
pub fn pages() -> PageRouter {
    PageRouter::default()
        .route("/portal/team", get(list_page))
        .route("/portal/team/invite", post(invite_form))
        .route("/portal/team/{id}/role", post(role_form))
        .route("/portal/team/{id}/deactivate", post(deactivate_form))
        .route("/portal/team/{id}/activate", post(activate_form))
        .route("/portal/team/{id}/resend", post(resend_form))
        .route("/portal/team/{id}/revoke", post(revoke_form))
}

/// JSON API.
pub fn api() -> ApiRouter {
    ApiRouter::default()
        .route(
            "/api/v1/team",
            get_with(api_list, |op| {
                op.id("listTeam")
                    .tag("team")
                    .summary("List the members of the own company")
                    .description("Needs `manage_team` (client admins).")
            })
            .post_with(api_invite, |op| {
                op.id("inviteTeamMember")
                    .tag("team")
                    .summary("Invite a colleague into the own company")
                    .response_with::<201, Json<User>, _>(|r| r.description("Invited."))
            }),
        )
        .route(
            "/api/v1/team/{id}",
            patch_with(api_update, |op| {
                op.id("updateTeamMember")
                    .tag("team")
                    .summary("Change a member's role or status")
            })
            .delete_with(api_remove, |op| {
                op.id("removeTeamMember")
                    .tag("team")
                    .summary("Remove a member")
                    .description("Deletes a member who never signed in; deactivates one who did.")
                    .response_with::<204, (), _>(|r| r.description("Removed."))
            }),
        )
        .route(
            "/api/v1/team/{id}/resend",
            post_with(api_resend, |op| {
                op.id("resendTeamInvitation")
                    .tag("team")
                    .summary("Send a pending invitation again")
            }),
        )
}

/// A role choice for the forms.
struct RoleOption {
    key: &'static str,
    label: &'static str,
}

fn role_options() -> Vec<RoleOption> {
    TEAM_ROLES
        .iter()
        .map(|r| RoleOption {
            key: r.key(),
            label: r.label(),
        })
        .collect()
}

#[derive(askama::Template)]
#[template(path = "team/templates/list.html")]
struct ListPage {
    page: PageCtx,
    company: String,
    members: Vec<User>,
    roles: Vec<RoleOption>,
    next_cursor: Option<String>,
    notice: Option<String>,
    error: Option<String>,
    errors: FormErrors,
    form: InviteInput,
    me: String,
    can_audit: bool,
    /// Pending invitation links still valid: user id → expiry (Unix ms).
    expiries: std::collections::HashMap<String, i64>,
}

#[derive(Deserialize, Default, schemars::JsonSchema)]
struct ListQuery {
    cursor: Option<String>,
    limit: Option<i64>,
    notice: Option<String>,
    /// The colleague a confirmation names (looked up in the company, never echoed).
    user: Option<String>,
}

/// An invitation as submitted.
#[derive(Clone, Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(default)]
struct InviteInput {
    email: String,
    name: String,
    role: String,
}

async fn list_view(
    app: &AppState,
    ctx: &RequestContext,
    user: &PortalUser,
    actor: &Actor,
    q: &ListQuery,
    error: Option<&AppError>,
    form: InviteInput,
) -> AppResult<Response> {
    let company = super::own_company(app, actor).await?;
    let members = super::members(app, actor, q.cursor.as_deref(), PAGE_SIZE).await?;
    let next_cursor = (members.len() as i64 == PAGE_SIZE)
        .then(|| members.last().map(|u| u.email.clone()))
        .flatten();
    let mut r = render(&ListPage {
        page: PageCtx::new(ctx),
        company: company.name,
        members,
        roles: role_options(),
        next_cursor,
        notice: confirmation(app, actor, q).await,
        error: error
            .filter(|e| !matches!(e, AppError::Validation { .. }))
            .map(|e| e.to_string()),
        errors: error.map(FormErrors::from).unwrap_or_default(),
        form: InviteInput {
            role: if form.role.is_empty() {
                Role::ClientUser.key().to_string()
            } else {
                form.role
            },
            ..form
        },
        me: user.user_id.to_string(),
        can_audit: user.can(Permission::ViewCompanyAudit),
        expiries: super::invitation_expiries(app, actor).await?,
    })?;
    if let Some(e) = error {
        *r.status_mut() = e.status();
    }
    Ok(r)
}

async fn list_page(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    let actor = user.require(Permission::ManageTeam)?;
    list_view(&app, &ctx, &user, &actor, &q, None, InviteInput::default()).await
}

/// "Bob User is now Company admin (active)." for a colleague of the actor's company (teams are
/// an MSP client's); the plain notice otherwise.
async fn confirmation(app: &AppState, actor: &Actor, q: &ListQuery) -> Option<String> {
    let plain = notice(q.notice.as_deref()).map(str::to_string);
    let (Some(kind @ ("updated" | "invited")), Some(id)) = (q.notice.as_deref(), q.user.as_deref())
    else {
        return plain;
    };
    let u = super::member(app, actor, id).await.ok()?;
    crate::users::routes::confirm(kind, &u, crate::tenancy::OrgType::Msp)
}

/// Redirects after a successful form (naming the colleague `who` when there is one), or shows
/// the list again with the problem.
async fn form_result<T>(
    app: &AppState,
    ctx: &RequestContext,
    user: &PortalUser,
    actor: &Actor,
    r: AppResult<T>,
    form: InviteInput,
    who: Option<(&str, &str)>,
) -> AppResult<Response> {
    match r {
        Ok(_) => Ok(Redirect::to(&match who {
            Some((kind, id)) => format!(
                "/portal/team?notice={kind}&user={}",
                url::form_urlencoded::byte_serialize(id.as_bytes()).collect::<String>()
            ),
            None => "/portal/team?notice=saved".to_string(),
        })
        .into_response()),
        Err(
            e @ (AppError::Validation { .. } | AppError::Unprocessable(_) | AppError::Conflict(_)),
        ) => list_view(app, ctx, user, actor, &ListQuery::default(), Some(&e), form).await,
        Err(e) => Err(e),
    }
}

async fn invite_form(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    axum::Form(f): axum::Form<InviteInput>,
) -> AppResult<Response> {
    let actor = user.require(Permission::ManageTeam)?;
    let r = super::invite(&app, &user, &actor, &ctx.ip, &f.email, &f.name, &f.role).await;
    let invited = r.as_ref().ok().map(|u| u.id.to_string());
    let who = invited.as_deref().map(|id| ("invited", id));
    form_result(&app, &ctx, &user, &actor, r, f, who).await
}

#[derive(Deserialize)]
struct RoleForm {
    #[serde(default)]
    role: String,
}

async fn role_form(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<RoleForm>,
) -> AppResult<Response> {
    let actor = user.require(Permission::ManageTeam)?;
    let r = super::change_role(&app, &actor, &ctx.ip, &id, &f.role).await;
    updated(&app, &ctx, &user, &actor, r, &id).await
}

/// After a change to one colleague: back to the list naming them, or the list with the problem.
async fn updated<T>(
    app: &AppState,
    ctx: &RequestContext,
    user: &PortalUser,
    actor: &Actor,
    r: AppResult<T>,
    id: &str,
) -> AppResult<Response> {
    let who = Some(("updated", id));
    form_result(app, ctx, user, actor, r, InviteInput::default(), who).await
}

/// Activates or deactivates a colleague.
async fn set_active_form(
    app: AppState,
    user: PortalUser,
    ctx: RequestContext,
    id: String,
    active: bool,
) -> AppResult<Response> {
    let actor = user.require(Permission::ManageTeam)?;
    let r = super::set_active(&app, &actor, &ctx.ip, &id, active).await;
    updated(&app, &ctx, &user, &actor, r, &id).await
}

async fn deactivate_form(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    set_active_form(app, user, ctx, id, false).await
}

async fn activate_form(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    set_active_form(app, user, ctx, id, true).await
}

async fn resend_form(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let actor = user.require(Permission::ManageTeam)?;
    let r = super::resend(&app, &user, &actor, &ctx.ip, &id).await;
    form_result(&app, &ctx, &user, &actor, r, InviteInput::default(), None).await
}

async fn revoke_form(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let actor = user.require(Permission::ManageTeam)?;
    let r = super::revoke(&app, &actor, &ctx.ip, &id).await;
    form_result(&app, &ctx, &user, &actor, r, InviteInput::default(), None).await
}

#[derive(Serialize, schemars::JsonSchema)]
struct MemberPage {
    items: Vec<User>,
    next_cursor: Option<String>,
}

async fn api_list(
    State(app): State<AppState>,
    user: PortalUser,
    Query(q): Query<ListQuery>,
) -> AppResult<Json<MemberPage>> {
    let actor = user.require(Permission::ManageTeam)?;
    let limit = q.limit.unwrap_or(PAGE_SIZE).clamp(1, 200);
    let items = super::members(&app, &actor, q.cursor.as_deref(), limit).await?;
    let next_cursor = (items.len() as i64 == limit)
        .then(|| items.last().map(|u| u.email.clone()))
        .flatten();
    Ok(Json(MemberPage { items, next_cursor }))
}

async fn api_invite(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Json(b): Json<InviteInput>,
) -> AppResult<Response> {
    let actor = user.require(Permission::ManageTeam)?;
    let member = super::invite(&app, &user, &actor, &ctx.ip, &b.email, &b.name, &b.role).await?;
    Ok((StatusCode::CREATED, Json(member)).into_response())
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct UpdateBody {
    role: Option<String>,
    status: Option<String>,
}

async fn api_update(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    Json(b): Json<UpdateBody>,
) -> AppResult<Json<User>> {
    let actor = user.require(Permission::ManageTeam)?;
    super::member(&app, &actor, &id).await?;
    let active = crate::http::parse_active(b.status.as_deref())?;
    let u = crate::users::service::Update {
        role: b.role.as_deref(),
        active,
    };
    Ok(Json(super::update(&app, &actor, &ctx.ip, &id, u).await?))
}

async fn api_remove(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    let actor = user.require(Permission::ManageTeam)?;
    super::remove(&app, &actor, &ctx.ip, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn api_resend(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> AppResult<Json<User>> {
    let actor = user.require(Permission::ManageTeam)?;
    Ok(Json(
        super::resend(&app, &user, &actor, &ctx.ip, &id).await?,
    ))
}
