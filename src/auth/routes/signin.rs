//! Sign-in and sign-out pages: the password step, the session it starts, where it leads.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::json;

use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::auth::{Audience, Principal, password, sessions, throttle};
use crate::error::{AppError, AppResult};
use crate::http::context::{Ctx, RequestContext, set_cookie};
use crate::tenancy::Tenant;
use crate::users::{self, UserStatus};
use crate::web::{PageCtx, notice, render};

#[derive(askama::Template)]
#[template(path = "web/templates/neutral.html")]
pub(super) struct NeutralPage {
    page: PageCtx,
    unknown: bool,
}

pub(super) fn neutral(ctx: &RequestContext) -> AppResult<Response> {
    let status = if ctx.unknown_tenant {
        StatusCode::NOT_FOUND
    } else {
        StatusCode::OK
    };
    let mut r = render(&NeutralPage {
        page: PageCtx::new(ctx),
        unknown: ctx.unknown_tenant,
    })?;
    *r.status_mut() = status;
    Ok(r)
}

pub(super) async fn root(Ctx(ctx): Ctx) -> AppResult<Response> {
    match (&ctx.principal, &ctx.tenant) {
        (Some(p), _) => Ok(Redirect::to(p.tenant.org_type.home()).into_response()),
        (None, Some(_)) => Ok(Redirect::to("/login").into_response()),
        (None, None) => neutral(&ctx),
    }
}

#[derive(askama::Template)]
#[template(path = "auth/templates/login.html")]
pub(super) struct LoginPage {
    page: PageCtx,
    heading: String,
    action: &'static str,
    staff: bool,
    email: String,
    next: String,
    notice: Option<&'static str>,
    error: Option<String>,
    /// The "sign in without a password" link (when the tenant offers it).
    passwordless: Option<String>,
    /// "Sign in with …" buttons of the tenant's OpenID providers: `(label, link)`.
    oidc: Vec<(String, String)>,
}

/// Other ways to sign in that the portal login page offers.
#[derive(Default)]
pub(super) struct Alternatives {
    passwordless: bool,
    oidc: Vec<(String, String)>,
}

#[derive(Deserialize, Default)]
pub(super) struct LoginQuery {
    next: Option<String>,
    notice: Option<String>,
}

pub(super) fn login_view(
    ctx: &RequestContext,
    audience: Audience,
    email: String,
    next: String,
    notice_key: Option<&str>,
    error: Option<String>,
    alt: Alternatives,
) -> AppResult<Response> {
    let Some(tenant) = &ctx.tenant else {
        return neutral(ctx);
    };
    let staff = audience == Audience::Admin;
    let page = PageCtx::new(ctx).with_class("auth-page");
    render(&LoginPage {
        heading: page.t.arg(
            if staff {
                "auth-staff-sign-in-to"
            } else {
                "auth-sign-in-to"
            },
            "portal",
            &tenant.branding.portal_name,
        ),
        page,
        action: if staff { "/admin/login" } else { "/login" },
        staff,
        email,
        passwordless: (alt.passwordless && !staff)
            .then(|| crate::identity::passwordless::login_link(&next)),
        oidc: if staff { Vec::new() } else { alt.oidc },
        next,
        notice: notice(notice_key),
        error,
    })
}

pub(super) async fn login_page(
    State(app): State<AppState>,
    Ctx(ctx): Ctx,
    Query(q): Query<LoginQuery>,
) -> AppResult<Response> {
    if let Some(p) = &ctx.principal {
        return Ok(Redirect::to(p.tenant.org_type.home()).into_response());
    }
    let next = q.next.unwrap_or_default();
    let alt = alternatives(&app, &ctx, &next).await?;
    login_view(
        &ctx,
        Audience::Portal,
        String::new(),
        next,
        q.notice.as_deref(),
        None,
        alt,
    )
}

pub(super) async fn admin_login_page(
    Ctx(ctx): Ctx,
    Query(q): Query<LoginQuery>,
) -> AppResult<Response> {
    if ctx.principal.is_some() {
        return Ok(Redirect::to("/admin").into_response());
    }
    login_view(
        &ctx,
        Audience::Admin,
        String::new(),
        q.next.unwrap_or_default(),
        q.notice.as_deref(),
        None,
        Alternatives::default(),
    )
}

/// The tenant's other ways to sign in: passwordless and its OpenID providers.
async fn alternatives(app: &AppState, ctx: &RequestContext, next: &str) -> AppResult<Alternatives> {
    match &ctx.tenant {
        Some(t) => Ok(Alternatives {
            passwordless: crate::identity::passwordless::offered(app, t).await?,
            oidc: crate::identity::oidc::flow::buttons(app, t, next).await?,
        }),
        None => Ok(Alternatives::default()),
    }
}

#[derive(Deserialize)]
pub(super) struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

/// The generic sign-in failure: never says whether the account exists.
pub(super) const BAD_CREDENTIALS: &str = "That email and password do not match an account here.";

/// Checks credentials with throttling and audit; the account on success (no session yet:
/// a second factor may follow).
pub(super) async fn check_password(
    app: &AppState,
    ctx: &RequestContext,
    tenant: &Tenant,
    email: &str,
    pass: &str,
    audience: Audience,
) -> AppResult<users::User> {
    let scope = tenant.scope();
    let bad = || AppError::Validation {
        message: BAD_CREDENTIALS.into(),
        fields: Vec::new(),
    };
    // Bounded before anything is stored (the throttle key holds the address) or hashed.
    let Some(email) = crate::text::bounded_email(email) else {
        return Err(bad());
    };
    if pass.len() > password::MAX_LEN {
        return Err(bad());
    }
    let acct_key = format!("login:acct:{}:{email}", tenant.id);
    let ip_key = format!("login:ip:{}", ctx.ip);
    // The slot is taken before the password is checked, so parallel guesses queue up behind
    // the same counter as sequential ones.
    let slot = throttle::take_all(
        &app.db,
        &[
            (&acct_key, throttle::LOGIN_PER_ACCOUNT),
            (&ip_key, throttle::LOGIN_PER_IP),
        ],
    )
    .await?;
    if let throttle::Slot::Blocked { wait, first } = slot {
        // One row per throttled burst, not one per refused request.
        if first {
            audit::record(
                &app.db,
                &scope,
                Entry {
                    actor_email: Some(&email),
                    ip: Some(&ctx.ip),
                    ..Entry::new("auth.login_throttled")
                },
            )
            .await?;
        }
        return Err(AppError::TooManyRequests(wait));
    }
    let record = users::find_for_login(&app.db, &scope, &email).await?;
    let hash = record.as_ref().and_then(|r| r.password_hash.clone());
    let password_ok = password::verify(pass, hash).await;
    let usable = record.as_ref().is_some_and(|r| {
        r.user.status == UserStatus::Active
            && r.company_active
            && r.user.role.kind().audience() == audience
    });
    let Some(record) = record.filter(|_| password_ok && usable) else {
        audit::record(
            &app.db,
            &scope,
            Entry {
                actor_email: Some(&email),
                ip: Some(&ctx.ip),
                detail: json!({ "audience": audience.as_str() }),
                ..Entry::new("auth.login_failed")
            },
        )
        .await?;
        return Err(bad());
    };
    // Success: the account starts afresh and the shared address gets its slot back.
    throttle::clear(&app.db, &acct_key).await?;
    throttle::give_back(&app.db, &ip_key).await?;
    Ok(record.user)
}

/// Starts the session once every sign-in factor has passed, and audits the sign-in.
pub(crate) async fn start_session(
    app: &AppState,
    ip: &str,
    tenant: &Tenant,
    user: &users::User,
    audience: Audience,
    mfa: Option<&str>,
) -> AppResult<String> {
    let scope = tenant.scope();
    // The session, the last-sign-in time and the audit row commit together.
    let mut tx = app.db.tenant(&scope).begin().await?;
    let token = sessions::create(&mut tx, &user.id, audience).await?;
    users::record_login(&mut tx, &user.id).await?;
    let detail = match mfa {
        Some(m) => json!({ "audience": audience.as_str(), "mfa": m }),
        None => json!({ "audience": audience.as_str() }),
    };
    audit::append(
        &mut tx,
        Entry {
            actor_id: Some(user.id.as_str()),
            actor_email: Some(&user.email),
            company_id: user.company_id.as_ref().map(|c| c.as_str()),
            ip: Some(ip),
            detail,
            ..Entry::new("auth.login")
        },
    )
    .await?;
    tx.commit().await?;
    Ok(token)
}

/// The redirect after a completed sign-in: replaces any old session cookie with the new one.
pub(crate) async fn signed_in_response(
    app: &AppState,
    headers: &HeaderMap,
    tenant: &Tenant,
    audience: Audience,
    token: &str,
    next: &str,
) -> AppResult<Response> {
    // A fresh token at every sign-in: any session cookie the browser had is replaced.
    if let Some(old) = crate::http::context::cookie(headers, audience.cookie()) {
        sessions::end(&app.db, old).await?;
    }
    let home = match audience {
        Audience::Admin => "/admin".to_string(),
        Audience::Portal => tenant.org_type.home().to_string(),
    };
    let to = safe_next(next, audience).unwrap_or(home);
    let mut r = Redirect::to(&to).into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(audience.cookie(), token, None, app.config.secure_cookies),
    );
    Ok(r)
}

/// Only same-site relative paths are followed after sign-in.
pub(crate) fn safe_next(next: &str, audience: Audience) -> Option<String> {
    let prefix = match audience {
        Audience::Portal => "/portal",
        Audience::Admin => "/admin",
    };
    // A control character cannot go into a Location header; such a target is ignored.
    (next.starts_with(prefix)
        && !next.chars().any(char::is_control)
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.contains("://"))
    .then(|| next.to_string())
}

pub(super) async fn login_form_for(
    app: AppState,
    ctx: RequestContext,
    headers: HeaderMap,
    f: LoginForm,
    audience: Audience,
) -> AppResult<Response> {
    let Some(tenant) = ctx.tenant.clone() else {
        return neutral(&ctx);
    };
    match check_password(&app, &ctx, &tenant, &f.email, &f.password, audience).await {
        Ok(user) => {
            if crate::mfa::state(&app.db, &tenant.scope(), &user.id)
                .await?
                .enabled()
            {
                return crate::mfa::routes::start_challenge(&app, &tenant, &user, &f.next).await;
            }
            let token = start_session(&app, &ctx.ip, &tenant, &user, audience, None).await?;
            signed_in_response(&app, &headers, &tenant, audience, &token, &f.next).await
        }
        Err(AppError::Validation { message, .. }) => {
            let alt = if audience == Audience::Portal {
                alternatives(&app, &ctx, &f.next).await?
            } else {
                Alternatives::default()
            };
            let mut r = login_view(&ctx, audience, f.email, f.next, None, Some(message), alt)?;
            *r.status_mut() = StatusCode::UNAUTHORIZED;
            Ok(r)
        }
        Err(e) => Err(e),
    }
}

pub(super) async fn login_form(
    State(app): State<AppState>,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    axum::Form(f): axum::Form<LoginForm>,
) -> AppResult<Response> {
    login_form_for(app, ctx, headers, f, Audience::Portal).await
}

pub(super) async fn admin_login_form(
    State(app): State<AppState>,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    axum::Form(f): axum::Form<LoginForm>,
) -> AppResult<Response> {
    login_form_for(app, ctx, headers, f, Audience::Admin).await
}

pub(super) async fn end_session(app: &AppState, p: &Principal, ip: &str) -> AppResult<()> {
    let scope = p.scope();
    let mut tx = app.db.tenant(&scope).begin().await?;
    sessions::end_in(&mut tx, &p.session_hash).await?;
    audit::append(
        &mut tx,
        Entry {
            actor_id: Some(p.user_id.as_str()),
            actor_email: Some(&p.email),
            company_id: p.company_id.as_ref().map(|c| c.as_str()),
            ip: Some(ip),
            ..Entry::new("auth.logout")
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub(super) async fn logout_form(State(app): State<AppState>, Ctx(ctx): Ctx) -> AppResult<Response> {
    let audience = Audience::for_path(&ctx.path);
    if let Some(p) = &ctx.principal {
        end_session(&app, p, &ctx.ip).await?;
    }
    let mut r =
        Redirect::to(&format!("{}?notice=signed_out", audience.login_path())).into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(audience.cookie(), "", Some(0), app.config.secure_cookies),
    );
    Ok(r)
}
