//! The client and member portal shell: dashboards, profile, and pages still to come.

use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::json;

use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::auth::{Permission, PortalUser, Principal, StaffUser, password, sessions};
use crate::error::{AppError, AppResult, FieldError};
use crate::http::context::{Ctx, RequestContext};
use crate::tenancy::OrgType;
use crate::users;
use crate::web::{FormErrors, NavDef, PageCtx, notice, render};

/// Pages.
pub fn pages() -> Router<AppState> {
    let mut r = Router::new()
        .route("/portal", get(portal_root))
        .route("/portal/dashboard", get(msp_dashboard))
        .route("/portal/mission/dashboard", get(mission_dashboard))
        .route("/portal/profile", get(portal_profile).post(portal_password))
        .route("/admin/profile", get(admin_profile).post(admin_password));
    for def in crate::web::MSP_NAV
        .iter()
        .chain(crate::web::MISSION_NAV)
        .filter(|d| !d.built)
    {
        r = r.route(def.path, get(portal_coming_soon));
    }
    r
}

struct Tile {
    label: &'static str,
    path: &'static str,
    blurb: &'static str,
}

fn blurb(path: &str) -> &'static str {
    match path {
        "/portal/tickets" => "Raise a request and follow it to the end.",
        "/portal/catalog" => "Order services with agreed response times.",
        "/portal/invoices" => "See and pay your invoices.",
        "/portal/documents" => "Sign policies and find shared files.",
        "/portal/announcements" => "News and maintenance notices.",
        "/portal/team" => "Invite colleagues and manage roles.",
        "/portal/mission/giving" => "Your giving history and statements.",
        "/portal/mission/events" => "Upcoming events and registration.",
        "/portal/mission/groups" => "Small groups you can join.",
        "/portal/mission/directory" => "Find other members.",
        "/portal/mission/prayer" => "Share and pray for requests.",
        _ => "",
    }
}

#[derive(askama::Template)]
#[template(path = "portal/templates/dashboard.html")]
struct DashboardPage {
    page: PageCtx,
    name: String,
    welcome: Option<String>,
    company: Option<String>,
    tiles: Vec<Tile>,
}

fn dashboard(p: &Principal, ctx: &RequestContext) -> AppResult<Response> {
    let page = PageCtx::new(ctx);
    let tiles = page
        .nav
        .iter()
        .filter(|n| !n.path.ends_with("/dashboard") && n.path != "/portal/profile")
        .map(|n| Tile {
            label: n.label,
            path: n.path,
            blurb: blurb(n.path),
        })
        .collect();
    render(&DashboardPage {
        page,
        name: p.name.clone(),
        welcome: p.tenant.branding.welcome_text.clone(),
        company: p.company_name.clone(),
        tiles,
    })
}

async fn portal_root(user: PortalUser) -> Redirect {
    Redirect::to(user.tenant.org_type.home())
}

async fn msp_dashboard(user: PortalUser, Ctx(ctx): Ctx) -> AppResult<Response> {
    if user.tenant.org_type == OrgType::Mission {
        return Ok(Redirect::to(OrgType::Mission.home()).into_response());
    }
    dashboard(&user, &ctx)
}

async fn mission_dashboard(user: PortalUser, Ctx(ctx): Ctx) -> AppResult<Response> {
    user.require(Permission::MissionAccess)?;
    dashboard(&user, &ctx)
}

#[derive(askama::Template)]
#[template(path = "web/templates/coming_soon.html")]
struct ComingSoon {
    page: PageCtx,
    label: &'static str,
}

/// A "coming soon" page for a navigation entry whose feature is not built yet.
pub fn coming_soon(p: &Principal, ctx: &RequestContext, defs: &[NavDef]) -> AppResult<Response> {
    let def = defs
        .iter()
        .find(|d| d.path == ctx.path)
        .ok_or(AppError::NotFound)?;
    p.require(def.needs)?;
    render(&ComingSoon {
        page: PageCtx::new(ctx),
        label: def.label,
    })
}

async fn portal_coming_soon(user: PortalUser, Ctx(ctx): Ctx) -> AppResult<Response> {
    coming_soon(&user, &ctx, crate::web::nav_defs(&user))
}

#[derive(askama::Template)]
#[template(path = "portal/templates/profile.html")]
struct ProfilePage {
    page: PageCtx,
    name: String,
    email: String,
    company: Option<String>,
    action: &'static str,
    notice: Option<&'static str>,
    errors: FormErrors,
}

#[derive(Deserialize)]
struct NoticeQuery {
    notice: Option<String>,
}

fn profile_view(
    p: &Principal,
    ctx: &RequestContext,
    notice_key: Option<&str>,
    err: Option<&AppError>,
) -> AppResult<Response> {
    let mut r = render(&ProfilePage {
        page: PageCtx::new(ctx),
        name: p.name.clone(),
        email: p.email.clone(),
        company: p.company_name.clone(),
        action: if p.audience == crate::auth::Audience::Admin {
            "/admin/profile"
        } else {
            "/portal/profile"
        },
        notice: notice(notice_key),
        errors: err.map(FormErrors::from).unwrap_or_default(),
    })?;
    if let Some(e) = err {
        *r.status_mut() = e.status();
    }
    Ok(r)
}

async fn portal_profile(
    user: PortalUser,
    Ctx(ctx): Ctx,
    Query(q): Query<NoticeQuery>,
) -> AppResult<Response> {
    profile_view(&user, &ctx, q.notice.as_deref(), None)
}

async fn admin_profile(
    user: StaffUser,
    Ctx(ctx): Ctx,
    Query(q): Query<NoticeQuery>,
) -> AppResult<Response> {
    profile_view(&user, &ctx, q.notice.as_deref(), None)
}

#[derive(Deserialize)]
struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
}

/// Changes the signed-in user's password and ends their other sessions.
async fn change_password(
    app: &AppState,
    p: &Principal,
    ctx: &RequestContext,
    f: &PasswordForm,
) -> AppResult<()> {
    let scope = p.scope();
    let rec = users::find_for_login(&app.db, &scope, &p.email)
        .await?
        .ok_or(AppError::Unauthorized)?;
    if !password::verify(&f.current_password, rec.password_hash).await {
        return Err(AppError::fields(vec![FieldError {
            field: "current_password".into(),
            message: "That is not your current password.".into(),
        }]));
    }
    password::check_new(&f.password, &f.password_confirm, &p.email)?;
    let hash = password::hash(&f.password).await?;
    users::set_password(&app.db, &scope, &p.user_id, &hash, None).await?;
    let ended =
        sessions::end_all_for_user(&app.db, &scope, &p.user_id, Some(&p.session_hash)).await?;
    audit::record(
        &app.db,
        &scope,
        Entry {
            actor_id: Some(p.user_id.as_str()),
            actor_email: Some(&p.email),
            company_id: p.company_id.as_ref().map(|c| c.as_str()),
            ip: Some(&ctx.ip),
            detail: json!({ "other_sessions_ended": ended }),
            ..Entry::new("auth.password_changed")
        },
    )
    .await?;
    Ok(())
}

async fn password_submit(
    app: AppState,
    p: &Principal,
    ctx: RequestContext,
    f: PasswordForm,
    back: &str,
) -> AppResult<Response> {
    match change_password(&app, p, &ctx, &f).await {
        Ok(()) => Ok(Redirect::to(&format!("{back}?notice=password_changed")).into_response()),
        Err(e @ AppError::Validation { .. }) => profile_view(p, &ctx, None, Some(&e)),
        Err(e) => Err(e),
    }
}

async fn portal_password(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    axum::Form(f): axum::Form<PasswordForm>,
) -> AppResult<Response> {
    user.require(Permission::ChangeOwnProfile)?;
    password_submit(app, &user, ctx, f, "/portal/profile").await
}

async fn admin_password(
    State(app): State<AppState>,
    user: StaffUser,
    Ctx(ctx): Ctx,
    axum::Form(f): axum::Form<PasswordForm>,
) -> AppResult<Response> {
    password_submit(app, &user, ctx, f, "/admin/profile").await
}
