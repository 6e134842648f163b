//! `/portal/profile` and `/admin/profile`: details, password, notifications, sessions.

use std::sync::Arc;

use crate::http::PageRouter;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;

use super::{LANGUAGES, NotificationPrefs, Profile, ProfileInput, SessionInfo, TIME_ZONES};
use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::auth::{Audience, Permission, Principal, password, sessions};
use crate::error::{AppError, AppResult, FieldError};
use crate::http::context::{Ctx, RequestContext};
use crate::users;
use crate::web::{FormErrors, PageCtx, notice, render};

/// Pages (the same set under both areas).
pub fn pages() -> PageRouter {
    let mut r = PageRouter::default();
    for base in ["/portal/profile", "/admin/profile"] {
        r = r
            .route(base, get(profile_page).post(password_form))
            .route(&format!("{base}/details"), post(details_form))
            .route(&format!("{base}/notifications"), post(notifications_form))
            .route(&format!("{base}/sessions/others"), post(end_others_form))
            .route(&format!("{base}/sessions/{{id}}/end"), post(end_one_form));
    }
    r
}

/// The profile path of the principal's area.
pub fn base(p: &Principal) -> &'static str {
    match p.audience {
        Audience::Admin => "/admin/profile",
        Audience::Portal => "/portal/profile",
    }
}

/// The signed-in principal of this area, allowed to change their own profile.
fn me(ctx: &RequestContext) -> AppResult<Arc<Principal>> {
    let p = ctx.principal.clone().ok_or(AppError::Unauthorized)?;
    match p.audience {
        Audience::Portal => p.require(Permission::ChangeOwnProfile)?,
        Audience::Admin => p.require(Permission::AdminAccess)?,
    };
    Ok(p)
}

#[derive(askama::Template)]
#[template(path = "profile/templates/profile.html")]
struct ProfilePage {
    page: PageCtx,
    base: &'static str,
    profile: Profile,
    company: Option<String>,
    time_zones: &'static [&'static str],
    languages: &'static [(&'static str, &'static str)],
    prefs: NotificationPrefs,
    sessions: Vec<SessionInfo>,
    notice: Option<&'static str>,
    /// Which form the errors belong to.
    failed: &'static str,
    errors: FormErrors,
}

#[derive(Deserialize)]
struct NoticeQuery {
    notice: Option<String>,
}

async fn view(
    app: &AppState,
    p: &Principal,
    ctx: &RequestContext,
    notice_key: Option<&str>,
    failed: &'static str,
    err: Option<&AppError>,
    draft: Option<ProfileInput>,
) -> AppResult<Response> {
    let scope = p.scope();
    let mut profile = super::get(&app.db, &scope, &p.user_id)
        .await?
        .ok_or(AppError::Unauthorized)?;
    if let Some(d) = draft {
        profile.name = d.name;
        profile.phone = d.phone;
        profile.job_title = d.job_title;
        profile.time_zone = d.time_zone;
        profile.language = d.language;
    }
    let mut r = render(&ProfilePage {
        page: PageCtx::new(ctx),
        base: base(p),
        profile,
        company: p.company_name.clone(),
        time_zones: TIME_ZONES,
        languages: LANGUAGES,
        prefs: super::prefs_for(&app.db, &scope, &p.user_id).await?,
        sessions: super::sessions(&app.db, &scope, &p.user_id, &p.session_hash).await?,
        notice: notice(notice_key),
        failed,
        errors: err.map(FormErrors::from).unwrap_or_default(),
    })?;
    if let Some(e) = err {
        *r.status_mut() = e.status();
    }
    Ok(r)
}

async fn profile_page(
    State(app): State<AppState>,
    Ctx(ctx): Ctx,
    Query(q): Query<NoticeQuery>,
) -> AppResult<Response> {
    let p = ctx.principal.clone().ok_or(AppError::Unauthorized)?;
    view(&app, &p, &ctx, q.notice.as_deref(), "", None, None).await
}

fn audit_entry<'a>(p: &'a Principal, ip: &'a str, action: &'a str) -> Entry<'a> {
    Entry {
        actor_id: Some(p.user_id.as_str()),
        actor_email: Some(&p.email),
        company_id: p.company_id.as_ref().map(|c| c.as_str()),
        ip: Some(ip),
        ..Entry::new(action).target("user", p.user_id.as_str())
    }
}

async fn details_form(
    State(app): State<AppState>,
    Ctx(ctx): Ctx,
    axum::Form(f): axum::Form<ProfileInput>,
) -> AppResult<Response> {
    let p = me(&ctx)?;
    let scope = p.scope();
    let checked = match super::check(&f) {
        Ok(c) => c,
        Err(e) => return view(&app, &p, &ctx, None, "details", Some(&e), Some(f)).await,
    };
    let before = super::get(&app.db, &scope, &p.user_id)
        .await?
        .ok_or(AppError::Unauthorized)?;
    let mut tx = app.db.tenant(&scope).begin().await?;
    super::update(&mut tx, &p.user_id, &checked).await?;
    let changed: Vec<&str> = [
        ("name", before.name != checked.name),
        ("phone", before.phone != checked.phone),
        ("job_title", before.job_title != checked.job_title),
        ("time_zone", before.time_zone != checked.time_zone),
        ("language", before.language != checked.language),
    ]
    .into_iter()
    .filter(|(_, c)| *c)
    .map(|(n, _)| n)
    .collect();
    if !changed.is_empty() {
        audit::append(
            &mut tx,
            audit_entry(&p, &ctx.ip, "profile.updated").detail(json!({ "changed": changed })),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(Redirect::to(&format!("{}?notice=saved", base(&p))).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PrefsForm {
    ticket_replies: Option<String>,
    status_changes: Option<String>,
    announcements: Option<String>,
    signature_requests: Option<String>,
    new_tickets: Option<String>,
    sla_warnings: Option<String>,
}

async fn notifications_form(
    State(app): State<AppState>,
    Ctx(ctx): Ctx,
    axum::Form(f): axum::Form<PrefsForm>,
) -> AppResult<Response> {
    let p = me(&ctx)?;
    let scope = p.scope();
    // Unchecked boxes are simply absent from the form. The staff-only boxes are not on the
    // portal's form, so a client's save keeps whatever those hold.
    let staff = p.audience == Audience::Admin;
    let before = super::prefs_for(&app.db, &scope, &p.user_id).await?;
    let prefs = NotificationPrefs {
        ticket_replies: f.ticket_replies.is_some(),
        status_changes: f.status_changes.is_some(),
        announcements: f.announcements.is_some(),
        signature_requests: f.signature_requests.is_some(),
        new_tickets: if staff {
            f.new_tickets.is_some()
        } else {
            before.new_tickets
        },
        sla_warnings: if staff {
            f.sla_warnings.is_some()
        } else {
            before.sla_warnings
        },
    };
    let mut tx = app.db.tenant(&scope).begin().await?;
    super::set_prefs(&mut tx, &p.user_id, prefs).await?;
    audit::append(
        &mut tx,
        audit_entry(&p, &ctx.ip, "profile.notifications_changed").detail(json!(prefs)),
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("{}?notice=saved", base(&p))).into_response())
}

async fn end_others_form(State(app): State<AppState>, Ctx(ctx): Ctx) -> AppResult<Response> {
    let p = ctx.principal.clone().ok_or(AppError::Unauthorized)?;
    let scope = p.scope();
    let mut tx = app.db.tenant(&scope).begin().await?;
    let ended = sessions::end_all_for_user_in(&mut tx, &p.user_id, Some(&p.session_hash)).await?;
    audit::append(
        &mut tx,
        audit_entry(&p, &ctx.ip, "auth.other_sessions_ended").detail(json!({ "ended": ended })),
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("{}?notice=sessions_ended", base(&p))).into_response())
}

async fn end_one_form(
    State(app): State<AppState>,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let p = ctx.principal.clone().ok_or(AppError::Unauthorized)?;
    let scope = p.scope();
    let mut tx = app.db.tenant(&scope).begin().await?;
    if !super::end_session(&app.db, &mut tx, &p.user_id, &id).await? {
        return Err(AppError::NotFound);
    }
    audit::append(
        &mut tx,
        audit_entry(&p, &ctx.ip, "auth.session_ended").detail(json!({ "session": id })),
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("{}?notice=sessions_ended", base(&p))).into_response())
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

/// Checks the signed-in user's own password again before a sensitive change (password,
/// two-step settings). Throttled per account like sign-in, with the slot taken before the
/// check, so a stolen session cannot be used to guess the password at speed.
pub(crate) async fn reconfirm_password(
    app: &AppState,
    p: &Principal,
    ip: &str,
    field: &str,
    pass: &str,
) -> AppResult<()> {
    let key = format!("confirm:acct:{}:{}", p.tenant.id, p.user_id);
    if let crate::auth::throttle::Slot::Blocked { wait, first } =
        crate::auth::throttle::take(&app.db, &key, crate::auth::throttle::CONFIRM_PER_ACCOUNT)
            .await?
    {
        if first {
            audit::record(
                &app.db,
                &p.scope(),
                audit_entry(p, ip, "auth.reconfirm_throttled"),
            )
            .await?;
        }
        return Err(AppError::TooManyRequests(wait));
    }
    let rec = users::find_for_login(&app.db, &p.scope(), &p.email)
        .await?
        .ok_or(AppError::Unauthorized)?;
    if pass.len() > password::MAX_LEN || !password::verify(pass, rec.password_hash).await {
        return Err(AppError::fields(vec![FieldError {
            field: field.into(),
            message: if field == "current_password" {
                "That is not your current password.".into()
            } else {
                "That is not your password.".into()
            },
        }]));
    }
    crate::auth::throttle::clear(&app.db, &key).await?;
    Ok(())
}

/// Changes the signed-in user's password and ends their other sessions.
async fn change_password(
    app: &AppState,
    p: &Principal,
    ctx: &RequestContext,
    f: &PasswordForm,
) -> AppResult<()> {
    let scope = p.scope();
    reconfirm_password(app, p, &ctx.ip, "current_password", &f.current_password).await?;
    password::check_new(&f.password, &f.password_confirm, &p.email)?;
    let hash = password::hash(&f.password).await?;
    let mut tx = app.db.tenant(&scope).begin().await?;
    users::set_password(&mut tx, &p.user_id, &hash, None).await?;
    let ended = sessions::end_all_for_user_in(&mut tx, &p.user_id, Some(&p.session_hash)).await?;
    audit::append(
        &mut tx,
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
    tx.commit().await?;
    Ok(())
}

async fn password_form(
    State(app): State<AppState>,
    Ctx(ctx): Ctx,
    axum::Form(f): axum::Form<PasswordForm>,
) -> AppResult<Response> {
    let p = me(&ctx)?;
    match change_password(&app, &p, &ctx, &f).await {
        Ok(()) => {
            Ok(Redirect::to(&format!("{}?notice=password_changed", base(&p))).into_response())
        }
        Err(e @ AppError::Validation { .. }) => {
            view(&app, &p, &ctx, None, "password", Some(&e), None).await
        }
        Err(e) => Err(e),
    }
}
