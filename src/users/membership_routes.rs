//! Company switching (`/portal/companies`, `POST /api/v1/me/company`) and staff management of
//! a company's memberships (`/admin/companies/{id}/members`).

use aide::axum::routing::post_with;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::memberships::{self, Membership};
use super::{User, normalize_email};
use crate::app::AppState;
use crate::auth::{Permission, PortalUser, Role, StaffUser, UserId};
use crate::companies::{self, CompanyId};
use crate::error::{AppError, AppResult};
use crate::http::context::{Ctx, RequestContext};
use crate::http::{ApiRouter, PageRouter};
use crate::web::{FormErrors, PageCtx, notice, render};

/// Pages.
pub fn pages() -> PageRouter {
    PageRouter::default()
        .route("/portal/companies", get(switch_page))
        .route("/portal/companies/switch", post(switch_form))
        .route("/portal/companies/accept", post(accept_form))
        .route(
            "/admin/companies/{id}/members",
            get(members_page).post(add_form),
        )
        .route("/admin/companies/{id}/members/remove", post(remove_form))
}

/// JSON API.
pub fn api() -> ApiRouter {
    ApiRouter::default().route(
        "/api/v1/me/company",
        post_with(api_switch, |op| {
            op.id("switchCompany")
                .tag("auth")
                .summary("Make another of the person's companies the active one")
                .description(
                    "Pages, API calls and event streams of this session then follow that \
                     company and the person's role there. A company the person is not a member \
                     of is a 404.",
                )
                .response_with::<204, (), _>(|r| r.description("Switched."))
        }),
    )
}

#[derive(askama::Template)]
#[template(path = "users/templates/companies.html")]
struct SwitchPage {
    page: PageCtx,
    memberships: Vec<Membership>,
    offers: Vec<memberships::Offer>,
}

async fn switch_page(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
) -> AppResult<Response> {
    user.require(Permission::PortalAccess)?;
    let memberships = memberships::of_user(
        &app.db,
        &user.scope(),
        &user.user_id,
        user.company_id.as_ref(),
    )
    .await?;
    let offers = memberships::offers(&app.db, &user.scope(), &user.email).await?;
    render(&SwitchPage {
        page: PageCtx::new(&ctx),
        memberships,
        offers,
    })
}

/// The invitation to accept.
#[derive(Deserialize)]
struct AcceptInput {
    #[serde(default)]
    invitation_id: String,
}

async fn accept_form(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    axum::Form(f): axum::Form<AcceptInput>,
) -> AppResult<Response> {
    memberships::accept(&app, &user, &ctx.ip, &f.invitation_id).await?;
    Ok(Redirect::to("/portal/companies").into_response())
}

/// The company to switch to.
#[derive(Deserialize, schemars::JsonSchema)]
struct SwitchInput {
    /// Id of a company the person is a member of.
    #[serde(default)]
    company_id: String,
}

async fn switch_form(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    axum::Form(f): axum::Form<SwitchInput>,
) -> AppResult<Response> {
    memberships::switch(&app, &user, &ctx.ip, &f.company_id).await?;
    Ok(Redirect::to("/portal/dashboard").into_response())
}

async fn api_switch(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Json(f): Json<SwitchInput>,
) -> AppResult<StatusCode> {
    memberships::switch(&app, &user, &ctx.ip, &f.company_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(askama::Template)]
#[template(path = "users/templates/company_members.html")]
struct MembersPage {
    page: PageCtx,
    company_id: String,
    company: String,
    members: Vec<User>,
    notice: Option<&'static str>,
    error: Option<String>,
    errors: FormErrors,
    email: String,
    role: String,
    roles: Vec<(&'static str, &'static str)>,
}

#[derive(Deserialize, Default)]
struct MembersQuery {
    notice: Option<String>,
}

async fn members_view(
    app: &AppState,
    ctx: &RequestContext,
    staff: &StaffUser,
    id: &str,
    notice_key: Option<&str>,
    error: Option<&AppError>,
    form: AddInput,
) -> AppResult<Response> {
    staff.require(Permission::ManageUsers)?;
    let company = companies::get(&app.db, &staff.scope(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let members = super::list(&app.db, &staff.scope(), Some(id), None, 500).await?;
    let mut r = render(&MembersPage {
        page: PageCtx::new(ctx),
        company_id: company.id.to_string(),
        company: company.name,
        members,
        notice: notice(notice_key),
        error: error
            .filter(|e| !matches!(e, AppError::Validation { .. }))
            .map(|e| e.to_string()),
        errors: error.map(FormErrors::from).unwrap_or_default(),
        email: form.email,
        role: if form.role.is_empty() {
            Role::ClientUser.key().to_string()
        } else {
            form.role
        },
        roles: crate::team::TEAM_ROLES
            .iter()
            .map(|r| (r.key(), r.label()))
            .collect(),
    })?;
    if let Some(e) = error {
        *r.status_mut() = e.status();
    }
    Ok(r)
}

async fn members_page(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    Query(q): Query<MembersQuery>,
) -> AppResult<Response> {
    members_view(
        &app,
        &ctx,
        &staff,
        &id,
        q.notice.as_deref(),
        None,
        AddInput::default(),
    )
    .await
}

/// An existing person to add to the company.
#[derive(Deserialize, Default)]
struct AddInput {
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
}

async fn add_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<AddInput>,
) -> AppResult<Response> {
    let r = add_existing(&app, &staff, &ctx.ip, &id, &f).await;
    after(&app, &ctx, &staff, &id, r, f).await
}

/// Adds the client person with the form's email to company `id`.
async fn add_existing(
    app: &AppState,
    staff: &StaffUser,
    ip: &str,
    id: &str,
    f: &AddInput,
) -> AppResult<()> {
    let actor = staff.require(Permission::ManageUsers)?;
    let company = companies::get(&app.db, actor.scope(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let role = Role::from_key(&f.role)
        .filter(|r| crate::team::TEAM_ROLES.contains(r))
        .ok_or_else(|| AppError::field("role", "Choose company admin, user or viewer."))?;
    let person = super::find_for_login(&app.db, actor.scope(), &normalize_email(&f.email))
        .await?
        .filter(|r| r.user.role.kind() == crate::auth::UserKind::Client)
        .ok_or_else(|| {
            AppError::field(
                "email",
                "No client account uses that address in this organisation.",
            )
        })?;
    memberships::add(app, &actor, ip, &company, &person.user.id, role).await
}

#[derive(Deserialize)]
struct RemoveInput {
    #[serde(default)]
    user_id: String,
}

async fn remove_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<RemoveInput>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageUsers)?;
    let r = memberships::remove(
        &app,
        &actor,
        &ctx.ip,
        &CompanyId(id.clone()),
        &UserId(f.user_id),
    )
    .await;
    after(&app, &ctx, &staff, &id, r, AddInput::default()).await
}

/// Back to the company's members with a notice, or the page again with the problem.
async fn after(
    app: &AppState,
    ctx: &RequestContext,
    staff: &StaffUser,
    id: &str,
    r: AppResult<()>,
    form: AddInput,
) -> AppResult<Response> {
    match r {
        Ok(()) => Ok(Redirect::to(&format!(
            "/admin/companies/{}/members?notice=saved",
            url::form_urlencoded::byte_serialize(id.as_bytes()).collect::<String>()
        ))
        .into_response()),
        Err(e @ (AppError::Validation { .. } | AppError::Unprocessable(_))) => {
            members_view(app, ctx, staff, id, None, Some(&e), form).await
        }
        Err(e) => Err(e),
    }
}
