//! Admin pages and JSON API for users: list, invite, change role, deactivate.

use aide::axum::routing::get_with;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};

use super::service::{Policy, Update};
use super::{User, invitations};
use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::auth::{ALL_ROLES, Actor, Permission, Role, StaffUser, UserKind, sessions};
use crate::companies::{self, Company};
use crate::error::{AppError, AppResult, FieldError};
use crate::http::context::{Ctx, RequestContext};
use crate::http::{ApiRouter, PageRouter};
use crate::tenancy::Tenant;
use crate::web::{FormErrors, PageCtx, notice, render};

const PAGE_SIZE: i64 = 50;

/// Admin pages.
pub fn pages() -> PageRouter {
    PageRouter::default()
        .route("/admin/users", get(list_page))
        .route("/admin/users/invite", post(invite_form))
        .route("/admin/users/{id}/role", post(role_form))
        .route("/admin/users/{id}/deactivate", post(deactivate_form))
        .route("/admin/users/{id}/activate", post(activate_form))
        .route("/admin/users/{id}/reset-mfa", post(reset_mfa_form))
        .route("/admin/users/{id}/resend", post(resend_form))
        .route("/admin/users/{id}/revoke", post(revoke_form))
}

/// JSON API.
pub fn api() -> ApiRouter {
    ApiRouter::default()
        .route(
            "/api/v1/admin/users",
            get_with(api_list, |op| {
                op.id("listUsers").tag("users").summary("List users")
                    .description("Needs `manage_users`. Keyset pagination by email; `?company=` narrows to one company.")
            })
            .post_with(api_invite, |op| {
                op.id("inviteUser").tag("users").summary("Invite a user")
                    .description("The new user gets status `invited` and an email with a link (valid 7 days) to choose a password.")
                    .response_with::<201, Json<User>, _>(|r| r.description("Invited."))
            }),
        )
        .route(
            "/api/v1/admin/users/{id}",
            get_with(api_get, |op| op.id("getUser").tag("users").summary("One user")).patch_with(
                api_update,
                |op| {
                    op.id("updateUser").tag("users").summary("Change a user's role or status")
                        .description("A role change or a deactivation ends the user's sessions. Changing your own role or status, or demoting the last active staff admin, is 422 `unprocessable`.")
                },
            ),
        )
}

/// A role choice for forms.
pub struct RoleOption {
    key: &'static str,
    label: &'static str,
    kind: UserKind,
}

fn role_options(tenant: &Tenant) -> Vec<RoleOption> {
    ALL_ROLES
        .into_iter()
        .filter(|r| r.fits(tenant.org_type))
        .map(|r| RoleOption {
            key: r.key(),
            label: r.label_in(tenant.org_type),
            kind: r.kind(),
        })
        .collect()
}

#[derive(askama::Template)]
#[template(path = "users/templates/list.html")]
struct ListPage {
    page: PageCtx,
    users: Vec<User>,
    companies: Vec<Company>,
    roles: Vec<RoleOption>,
    company_filter: String,
    next_cursor: Option<String>,
    notice: Option<String>,
    error: Option<String>,
    errors: FormErrors,
    form: InviteInput,
    is_msp: bool,
    org: crate::tenancy::OrgType,
    me: String,
}

#[derive(Deserialize, Default, schemars::JsonSchema)]
struct ListQuery {
    company: Option<String>,
    cursor: Option<String>,
    limit: Option<i64>,
    notice: Option<String>,
    /// The user a confirmation names (looked up in the tenant, never echoed).
    user: Option<String>,
}

/// A confirmation that says what happened to whom; only a fixed notice and a user id of this
/// tenant come from the address bar, so nothing typed there is reflected.
async fn confirmation(
    app: &AppState,
    actor: &Actor,
    org: crate::tenancy::OrgType,
    q: &ListQuery,
) -> AppResult<Option<String>> {
    let (Some(kind), Some(id)) = (q.notice.as_deref(), q.user.as_deref()) else {
        return Ok(notice(q.notice.as_deref()).map(str::to_string));
    };
    let Some(u) = super::get(&app.db, actor.scope(), id).await? else {
        return Ok(None);
    };
    Ok(confirm(kind, &u, org))
}

/// The sentence for a `notice` about user `u`: "Invitation sent to …" or "… is now …".
pub(crate) fn confirm(kind: &str, u: &super::User, org: crate::tenancy::OrgType) -> Option<String> {
    use crate::i18n::{Arg, key_for, msg_with};
    match kind {
        "invited" => Some(msg_with(
            "users-confirm-invited",
            &[("email", Arg::Str(u.email.clone()))],
        )),
        "updated" => Some(msg_with(
            "users-confirm-updated",
            &[
                ("name", Arg::Str(u.name.clone())),
                ("role", Arg::key(&key_for("role", u.role.label_in(org)))),
                ("status", Arg::key(&key_for("status", u.status.as_str()))),
            ],
        )),
        _ => None,
    }
}

async fn list_view(
    app: &AppState,
    ctx: &RequestContext,
    staff: &StaffUser,
    actor: &Actor,
    q: &ListQuery,
    error: Option<&AppError>,
    mut form: InviteInput,
) -> AppResult<Response> {
    // A fresh form offers the least powerful role, never staff admin.
    if form.role.is_empty() {
        form.role = match staff.tenant.org_type {
            crate::tenancy::OrgType::Msp => crate::auth::Role::Technician,
            crate::tenancy::OrgType::Mission => crate::auth::Role::Member,
        }
        .key()
        .to_string();
    }
    let company = q.company.as_deref().filter(|c| !c.is_empty());
    let users = super::list(
        &app.db,
        actor.scope(),
        company,
        q.cursor.as_deref(),
        PAGE_SIZE,
    )
    .await?;
    let next_cursor = (users.len() as i64 == PAGE_SIZE)
        .then(|| users.last().map(|u| u.email.clone()))
        .flatten();
    let companies = companies::list(&app.db, actor.scope(), None, 500).await?;
    let mut r = render(&ListPage {
        page: PageCtx::new(ctx),
        users,
        companies,
        roles: role_options(&staff.tenant),
        company_filter: company.unwrap_or("").to_string(),
        next_cursor,
        notice: confirmation(app, actor, staff.tenant.org_type, q).await?,
        error: error
            .filter(|e| !matches!(e, AppError::Validation { .. }))
            .map(|e| e.to_string()),
        errors: error.map(FormErrors::from).unwrap_or_default(),
        form,
        is_msp: staff.tenant.org_type == crate::tenancy::OrgType::Msp,
        org: staff.tenant.org_type,
        me: staff.user_id.to_string(),
    })?;
    if let Some(e) = error {
        *r.status_mut() = e.status();
    }
    Ok(r)
}

async fn list_page(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageUsers)?;
    list_view(&app, &ctx, &staff, &actor, &q, None, InviteInput::default()).await
}

/// An invitation as submitted.
#[derive(Clone, Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(default)]
pub struct InviteInput {
    email: String,
    name: String,
    role: String,
    company_id: String,
}

async fn invite(
    app: &AppState,
    staff: &StaffUser,
    actor: &Actor,
    ip: &str,
    input: &InviteInput,
) -> AppResult<User> {
    let tenant = &staff.tenant;
    let mut errs = Vec::new();
    let (email, name) = invitations::check_person(&input.email, &input.name, &mut errs);
    let role = Role::from_key(&input.role).filter(|r| r.fits(tenant.org_type));
    if role.is_none() {
        errs.push(FieldError {
            field: "role".into(),
            message: "Choose a role.".into(),
        });
    }
    let mut company = None;
    if role.is_some_and(|r| r.kind() == UserKind::Client) {
        match companies::get(&app.db, actor.scope(), input.company_id.trim()).await? {
            Some(c) if c.status == "active" => company = Some(c),
            Some(_) => errs.push(FieldError {
                field: "company_id".into(),
                message: "That company is deactivated; reactivate it first.".into(),
            }),
            None => errs.push(FieldError {
                field: "company_id".into(),
                message: "Choose the company this person belongs to.".into(),
            }),
        }
    }
    let Some(role) = role.filter(|_| errs.is_empty()) else {
        return Err(AppError::fields(errs));
    };
    invitations::invite(
        app,
        tenant,
        actor,
        &staff.name,
        ip,
        &invitations::Invitee {
            email: &email,
            name: &name,
            role,
            company: company.as_ref(),
        },
    )
    .await
}

async fn invite_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    axum::Form(f): axum::Form<InviteInput>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageUsers)?;
    match invite(&app, &staff, &actor, &ctx.ip, &f).await {
        Ok(u) => Ok(Redirect::to(&format!(
            "/admin/users?notice=invited&user={}",
            u.id.as_str()
        ))
        .into_response()),
        Err(
            e @ (AppError::Validation { .. } | AppError::Conflict(_) | AppError::Unprocessable(_)),
        ) => {
            list_view(
                &app,
                &ctx,
                &staff,
                &actor,
                &ListQuery::default(),
                Some(&e),
                f,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

async fn find(app: &AppState, actor: &Actor, id: &str) -> AppResult<User> {
    super::get(&app.db, actor.scope(), id)
        .await?
        .ok_or(AppError::NotFound)
}

async fn change_role(
    app: &AppState,
    actor: &Actor,
    ip: &str,
    id: &str,
    role_key: &str,
) -> AppResult<User> {
    update(
        app,
        actor,
        ip,
        id,
        Update {
            role: Some(role_key),
            active: None,
        },
    )
    .await
}

async fn set_active(
    app: &AppState,
    actor: &Actor,
    ip: &str,
    id: &str,
    active: bool,
) -> AppResult<User> {
    update(
        app,
        actor,
        ip,
        id,
        Update {
            role: None,
            active: Some(active),
        },
    )
    .await
}

/// Role and status together, checked before either is written (one transaction).
async fn update(
    app: &AppState,
    actor: &Actor,
    ip: &str,
    id: &str,
    u: Update<'_>,
) -> AppResult<User> {
    let user = find(app, actor, id).await?;
    super::service::update(app, actor, ip, Policy::Staff, &user, u).await?;
    find(app, actor, id).await
}

#[derive(Deserialize)]
struct RoleForm {
    #[serde(default)]
    role: String,
}

async fn form_result(
    app: &AppState,
    ctx: &RequestContext,
    staff: &StaffUser,
    actor: &Actor,
    r: AppResult<User>,
) -> AppResult<Response> {
    match r {
        Ok(u) => Ok(Redirect::to(&format!(
            "/admin/users?notice=updated&user={}",
            u.id.as_str()
        ))
        .into_response()),
        Err(e @ (AppError::Validation { .. } | AppError::Unprocessable(_))) => {
            list_view(
                app,
                ctx,
                staff,
                actor,
                &ListQuery::default(),
                Some(&e),
                InviteInput::default(),
            )
            .await
        }
        Err(e) => Err(e),
    }
}

async fn role_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<RoleForm>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageUsers)?;
    let r = change_role(&app, &actor, &ctx.ip, &id, &f.role).await;
    form_result(&app, &ctx, &staff, &actor, r).await
}

async fn deactivate_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageUsers)?;
    let r = set_active(&app, &actor, &ctx.ip, &id, false).await;
    form_result(&app, &ctx, &staff, &actor, r).await
}

async fn activate_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageUsers)?;
    let r = set_active(&app, &actor, &ctx.ip, &id, true).await;
    form_result(&app, &ctx, &staff, &actor, r).await
}

async fn resend_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageUsers)?;
    let r = async {
        let user = find(&app, &actor, &id).await?;
        let company = match &user.company_id {
            Some(c) => companies::get(&app.db, actor.scope(), c.as_str()).await?,
            None => None,
        };
        invitations::resend(
            &app,
            &staff.tenant,
            &actor,
            &staff.name,
            &ctx.ip,
            &user,
            company.as_ref(),
        )
        .await?;
        Ok(user)
    }
    .await;
    form_result(&app, &ctx, &staff, &actor, r).await
}

async fn revoke_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageUsers)?;
    let r = async {
        let user = find(&app, &actor, &id).await?;
        invitations::revoke(&app, &actor, &ctx.ip, &user).await?;
        Ok(user)
    }
    .await;
    form_result(&app, &ctx, &staff, &actor, r).await
}

/// Turns off someone's two-step sign-in (lost device and recovery codes) and signs them out;
/// at their next sign-in they can enrol again (and must, if the tenant requires it).
async fn reset_mfa(app: &AppState, actor: &Actor, ip: &str, id: &str) -> AppResult<User> {
    let user = find(app, actor, id).await?;
    if !user.mfa_enabled {
        return Err(AppError::Unprocessable(
            "Two-step sign-in is not on for this person.".into(),
        ));
    }
    let mut tx = app.db.tenant(actor.scope()).begin().await?;
    crate::mfa::disable(&mut tx, &user.id).await?;
    sessions::end_all_for_user_in(&mut tx, &user.id, None).await?;
    audit::append(
        &mut tx,
        Entry {
            ip: Some(ip),
            company_id: user.company_id.as_ref().map(|c| c.as_str()),
            ..Entry::new("mfa.reset")
                .by(actor)
                .target("user", user.id.as_str())
        },
    )
    .await?;
    tx.commit().await?;
    find(app, actor, id).await
}

async fn reset_mfa_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageUsers)?;
    let r = reset_mfa(&app, &actor, &ctx.ip, &id).await;
    form_result(&app, &ctx, &staff, &actor, r).await
}

#[derive(Serialize, schemars::JsonSchema)]
struct UserPage {
    items: Vec<User>,
    next_cursor: Option<String>,
}

async fn api_list(
    State(app): State<AppState>,
    staff: StaffUser,
    Query(q): Query<ListQuery>,
) -> AppResult<Json<UserPage>> {
    let actor = staff.require(Permission::ManageUsers)?;
    let limit = q.limit.unwrap_or(PAGE_SIZE).clamp(1, 200);
    let items = super::list(
        &app.db,
        actor.scope(),
        q.company.as_deref().filter(|c| !c.is_empty()),
        q.cursor.as_deref(),
        limit,
    )
    .await?;
    let next_cursor = (items.len() as i64 == limit)
        .then(|| items.last().map(|u| u.email.clone()))
        .flatten();
    Ok(Json(UserPage { items, next_cursor }))
}

async fn api_invite(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Json(b): Json<InviteInput>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageUsers)?;
    let user = invite(&app, &staff, &actor, &ctx.ip, &b).await?;
    Ok((StatusCode::CREATED, Json(user)).into_response())
}

async fn api_get(
    State(app): State<AppState>,
    staff: StaffUser,
    Path(id): Path<String>,
) -> AppResult<Json<User>> {
    let actor = staff.require(Permission::ManageUsers)?;
    Ok(Json(find(&app, &actor, &id).await?))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct UpdateBody {
    role: Option<String>,
    status: Option<String>,
}

async fn api_update(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    Json(b): Json<UpdateBody>,
) -> AppResult<Json<User>> {
    let actor = staff.require(Permission::ManageUsers)?;
    let active = crate::http::parse_active(b.status.as_deref())?;
    let u = Update {
        role: b.role.as_deref(),
        active,
    };
    Ok(Json(update(&app, &actor, &ctx.ip, &id, u).await?))
}
