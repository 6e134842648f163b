//! Sign-in, sign-out, password reset and invitation acceptance: pages and JSON API.

use crate::http::PageRouter;
use aide::axum::routing::{get_with, post_with};
use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::tokens::{self, Purpose};
use super::{Audience, PortalUser, Principal, StaffUser, UserId, password, sessions, throttle};
use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::error::{AppError, AppResult};
use crate::http::ApiRouter;
use crate::http::context::{Ctx, RequestContext, set_cookie};
use crate::i18n::{Translator, for_recipient};
use crate::jobs::{EmailJob, JobKind};
use crate::tenancy::{OrgType, Tenant};
use crate::users::{self, UserStatus};
use crate::web::{FormErrors, NavItem, PageCtx, notice, render};

/// Pages.
pub fn pages() -> PageRouter {
    PageRouter::default()
        .route("/", get(root))
        .route("/login", get(login_page).post(login_form))
        .route("/admin/login", get(admin_login_page).post(admin_login_form))
        .route("/logout", post(logout_form))
        .route("/admin/logout", post(logout_form))
        .route("/forgot-password", get(forgot_page).post(forgot_form))
        .route("/reset-password", get(reset_page).post(reset_form))
        .route("/invite/accept", get(invite_page).post(invite_form))
}

/// JSON API.
pub fn api() -> ApiRouter {
    ApiRouter::default()
        .route(
            "/api/v1/auth/login",
            post_with(api_login, |op| {
                op.id("login").tag("auth").summary("Sign in").description(LOGIN_DOC)
                    .response_with::<200, Json<Me>, _>(|r| r.description("Signed in; the body describes the user and carries the session's `csrf_token`; `Set-Cookie` sets the session cookie."))
            }),
        )
        .route(
            "/api/v1/auth/logout",
            post_with(api_logout, |op| {
                op.id("logout").tag("auth").summary("Sign out")
                    .description("Ends the portal session of the `portico_portal` cookie and clears the cookie. Without a session it does nothing and still answers 204. With a session, `X-CSRF-Token` is required.")
                    .response_with::<204, (), _>(|r| r.description("Signed out (or was not signed in)."))
            }),
        )
        .route(
            "/api/v1/admin/auth/logout",
            post_with(api_logout, |op| {
                op.id("adminLogout").tag("auth").summary("Sign out (staff)")
                    .description("Ends the staff session of the `portico_admin` cookie. With a session, `X-CSRF-Token` is required.")
                    .response_with::<204, (), _>(|r| r.description("Signed out (or was not signed in)."))
            }),
        )
        .route(
            "/api/v1/me",
            get_with(api_me, |op| op.id("getMe").tag("auth").summary("The signed-in portal user")),
        )
        .route(
            "/api/v1/admin/me",
            get_with(api_admin_me, |op| op.id("getAdminMe").tag("auth").summary("The signed-in staff user")),
        )
}

const LOGIN_DOC: &str = "Checks the credentials against the resolved tenant and starts a session of the requested audience, set as the `portico_portal` or `portico_admin` cookie. The account must be active, of the audience's kind (staff for `admin`, client users and members for `portal`) and, for client users, of an active company; otherwise, or on a wrong password, the answer is the same 401, which never tells whether the account exists. Failed attempts are throttled per account and per IP; once over the limit the answer is 429 with `Retry-After`. For accounts with two-step sign-in, the answer without `code` is 401 with error code `mfa_required`; send the authenticator (or a recovery) code as `code` in the same call.";

#[derive(askama::Template)]
#[template(path = "web/templates/neutral.html")]
struct NeutralPage {
    page: PageCtx,
    unknown: bool,
}

fn neutral(ctx: &RequestContext) -> AppResult<Response> {
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

async fn root(Ctx(ctx): Ctx) -> AppResult<Response> {
    match (&ctx.principal, &ctx.tenant) {
        (Some(p), _) => Ok(Redirect::to(p.tenant.org_type.home()).into_response()),
        (None, Some(_)) => Ok(Redirect::to("/login").into_response()),
        (None, None) => neutral(&ctx),
    }
}

#[derive(askama::Template)]
#[template(path = "auth/templates/login.html")]
struct LoginPage {
    page: PageCtx,
    heading: String,
    action: &'static str,
    staff: bool,
    email: String,
    next: String,
    notice: Option<&'static str>,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
struct LoginQuery {
    next: Option<String>,
    notice: Option<String>,
}

fn login_view(
    ctx: &RequestContext,
    audience: Audience,
    email: String,
    next: String,
    notice_key: Option<&str>,
    error: Option<String>,
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
        next,
        notice: notice(notice_key),
        error,
    })
}

async fn login_page(Ctx(ctx): Ctx, Query(q): Query<LoginQuery>) -> AppResult<Response> {
    if let Some(p) = &ctx.principal {
        return Ok(Redirect::to(p.tenant.org_type.home()).into_response());
    }
    login_view(
        &ctx,
        Audience::Portal,
        String::new(),
        q.next.unwrap_or_default(),
        q.notice.as_deref(),
        None,
    )
}

async fn admin_login_page(Ctx(ctx): Ctx, Query(q): Query<LoginQuery>) -> AppResult<Response> {
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
    )
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

/// The generic sign-in failure: never says whether the account exists.
const BAD_CREDENTIALS: &str = "That email and password do not match an account here.";

/// Checks credentials with throttling and audit; the account on success (no session yet:
/// a second factor may follow).
async fn check_password(
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
    let token = sessions::create(&app.db, &scope, &user.id, audience).await?;
    users::record_login(&app.db, &scope, &user.id).await?;
    let detail = match mfa {
        Some(m) => json!({ "audience": audience.as_str(), "mfa": m }),
        None => json!({ "audience": audience.as_str() }),
    };
    audit::record(
        &app.db,
        &scope,
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

async fn login_form_for(
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
            let mut r = login_view(&ctx, audience, f.email, f.next, None, Some(message))?;
            *r.status_mut() = StatusCode::UNAUTHORIZED;
            Ok(r)
        }
        Err(e) => Err(e),
    }
}

async fn login_form(
    State(app): State<AppState>,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    axum::Form(f): axum::Form<LoginForm>,
) -> AppResult<Response> {
    login_form_for(app, ctx, headers, f, Audience::Portal).await
}

async fn admin_login_form(
    State(app): State<AppState>,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    axum::Form(f): axum::Form<LoginForm>,
) -> AppResult<Response> {
    login_form_for(app, ctx, headers, f, Audience::Admin).await
}

async fn end_session(app: &AppState, p: &Principal, ip: &str) -> AppResult<()> {
    sessions::end_by_hash(&app.db, &p.session_hash).await?;
    audit::record(
        &app.db,
        &p.scope(),
        Entry {
            actor_id: Some(p.user_id.as_str()),
            actor_email: Some(&p.email),
            company_id: p.company_id.as_ref().map(|c| c.as_str()),
            ip: Some(ip),
            ..Entry::new("auth.logout")
        },
    )
    .await?;
    Ok(())
}

async fn logout_form(State(app): State<AppState>, Ctx(ctx): Ctx) -> AppResult<Response> {
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

// ---- password reset ----

#[derive(askama::Template)]
#[template(path = "auth/templates/forgot.html")]
struct ForgotPage {
    page: PageCtx,
    email: String,
    notice: Option<&'static str>,
    errors: FormErrors,
}

async fn forgot_page(Ctx(ctx): Ctx) -> AppResult<Response> {
    if ctx.tenant.is_none() {
        return neutral(&ctx);
    }
    render(&ForgotPage {
        page: PageCtx::new(&ctx).with_class("auth-page"),
        email: String::new(),
        notice: None,
        errors: FormErrors::default(),
    })
}

#[derive(Deserialize)]
struct ForgotForm {
    #[serde(default)]
    email: String,
}

async fn forgot_form(
    State(app): State<AppState>,
    Ctx(ctx): Ctx,
    axum::Form(f): axum::Form<ForgotForm>,
) -> AppResult<Response> {
    let Some(tenant) = ctx.tenant.clone() else {
        return neutral(&ctx);
    };
    let email = crate::text::bounded_email(&f.email).unwrap_or_default();
    if !users::valid_email(&email) {
        let e = AppError::field("email", "Enter the email address you sign in with.");
        let mut r = render(&ForgotPage {
            page: PageCtx::new(&ctx).with_class("auth-page"),
            email: f.email,
            notice: None,
            errors: FormErrors::from(&e),
        })?;
        *r.status_mut() = StatusCode::BAD_REQUEST;
        return Ok(r);
    }
    let ip_key = format!("reset:ip:{}", ctx.ip);
    if let Some(wait) = throttle::take(&app.db, &ip_key, throttle::RESET_PER_IP)
        .await?
        .wait()
    {
        return Err(AppError::TooManyRequests(wait));
    }
    let acct_key = format!("reset:acct:{}:{email}", tenant.id);
    // Over the per-account limit the answer is the same as ever, so it reveals nothing.
    if throttle::take(&app.db, &acct_key, throttle::RESET_PER_ACCOUNT).await?
        == throttle::Slot::Taken
    {
        send_reset(&app, &ctx, &tenant, &email).await?;
    }
    render(&ForgotPage {
        page: PageCtx::new(&ctx).with_class("auth-page"),
        email: String::new(),
        notice: notice(Some("reset_sent")),
        errors: FormErrors::default(),
    })
}

async fn send_reset(
    app: &AppState,
    ctx: &RequestContext,
    tenant: &Tenant,
    email: &str,
) -> AppResult<()> {
    let scope = tenant.scope();
    let rec = users::find_for_login(&app.db, &scope, email)
        .await?
        .filter(|r| r.user.status == UserStatus::Active);
    // Known or not, the request does the same kind of work: the account lookup, a token made
    // and hashed, one audit row in its own transaction. A known account adds two small inserts
    // (token, queued job); the mail itself is sent later by the worker, outside the request.
    let Some(rec) = rec else {
        std::hint::black_box(sessions::token_hash(&sessions::random_token()));
        audit::record(
            &app.db,
            &scope,
            Entry {
                actor_email: Some(email),
                ip: Some(&ctx.ip),
                detail: json!({ "account": false }),
                ..Entry::new("auth.password_reset_requested")
            },
        )
        .await?;
        return Ok(());
    };
    if rec.user.status != UserStatus::Active {
        return Ok(());
    }
    // The token, its email and the audit row commit together: no link without its email.
    let mut tx = app.db.tenant(&scope).begin().await?;
    let token = tokens::issue(&mut tx, &rec.user.id, Purpose::Reset).await?;
    let link = format!(
        "{}/reset-password?tenant={}&token={token}",
        app.config.base_url, tenant.slug
    );
    // Queued, not sent: the request never waits for SMTP (and its timing reveals nothing).
    // In the account's language, not the browser's: whoever asks may not be its owner.
    let t = Translator::new(for_recipient(
        rec.language.as_deref(),
        Some(&tenant.default_locale),
    ));
    EmailJob {
        to: email.to_string(),
        subject: t.get("email-reset-subject"),
        lines: vec![
            t.arg("email-hello", "name", &rec.user.name),
            t.get("email-reset-body"),
        ],
        action_url: Some(link),
        action_label: Some(t.get("email-reset-action")),
        lang: Some(t.lang().into()),
    }
    .enqueue(&mut tx)
    .await?;
    audit::append(
        &mut tx,
        Entry {
            actor_id: Some(rec.user.id.as_str()),
            actor_email: Some(email),
            company_id: rec.user.company_id.as_ref().map(|c| c.as_str()),
            ip: Some(&ctx.ip),
            ..Entry::new("auth.password_reset_requested")
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[derive(askama::Template)]
#[template(path = "auth/templates/set_password.html")]
struct SetPasswordPage {
    page: PageCtx,
    heading: &'static str,
    action: &'static str,
    button: &'static str,
    valid: bool,
    ask_name: bool,
    token: String,
    name: String,
    error: Option<String>,
    errors: FormErrors,
}

#[derive(Deserialize)]
struct TokenQuery {
    #[serde(default)]
    token: String,
}

#[derive(Deserialize)]
struct SetPasswordForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
}

struct TokenFlow {
    purpose: Purpose,
    heading: &'static str,
    action: &'static str,
    button: &'static str,
    ask_name: bool,
}

const RESET_FLOW: TokenFlow = TokenFlow {
    purpose: Purpose::Reset,
    heading: crate::i18n::k("auth-choose-password"),
    action: "/reset-password",
    button: crate::i18n::k("auth-set-password"),
    ask_name: false,
};

const INVITE_FLOW: TokenFlow = TokenFlow {
    purpose: Purpose::Invite,
    heading: crate::i18n::k("auth-accept-invitation"),
    action: "/invite/accept",
    button: crate::i18n::k("auth-create-account"),
    ask_name: true,
};

/// The token's user, when the token is valid for the resolved tenant.
async fn token_user(
    app: &AppState,
    ctx: &RequestContext,
    token: &str,
    purpose: Purpose,
) -> AppResult<Option<users::User>> {
    let Some(tenant) = &ctx.tenant else {
        return Ok(None);
    };
    match tokens::peek(&app.db, token, purpose).await? {
        Some((tid, uid)) if tid == tenant.id => {
            Ok(users::get(&app.db, &tenant.scope(), uid.as_str())
                .await?
                .filter(|u| u.status != UserStatus::Deactivated))
        }
        _ => Ok(None),
    }
}

fn token_view(
    ctx: &RequestContext,
    flow: &TokenFlow,
    token: String,
    user: Option<&users::User>,
    name: String,
    err: Option<&AppError>,
) -> AppResult<Response> {
    let mut r = render(&SetPasswordPage {
        page: PageCtx::new(ctx).with_class("auth-page"),
        heading: flow.heading,
        action: flow.action,
        button: flow.button,
        valid: user.is_some(),
        ask_name: flow.ask_name,
        name: if name.is_empty() {
            user.map(|u| u.name.clone()).unwrap_or_default()
        } else {
            name
        },
        token,
        error: err.map(|e| e.to_string()),
        errors: err.map(FormErrors::from).unwrap_or_default(),
    })?;
    if user.is_none() {
        *r.status_mut() = StatusCode::NOT_FOUND;
    } else if err.is_some() {
        *r.status_mut() = StatusCode::BAD_REQUEST;
    }
    Ok(r)
}

async fn token_page(
    app: AppState,
    ctx: RequestContext,
    token: String,
    flow: &TokenFlow,
) -> AppResult<Response> {
    if ctx.tenant.is_none() {
        return neutral(&ctx);
    }
    let user = token_user(&app, &ctx, &token, flow.purpose).await?;
    token_view(&ctx, flow, token, user.as_ref(), String::new(), None)
}

async fn token_submit(
    app: AppState,
    ctx: RequestContext,
    f: SetPasswordForm,
    flow: &TokenFlow,
) -> AppResult<Response> {
    let Some(tenant) = ctx.tenant.clone() else {
        return neutral(&ctx);
    };
    let Some(user) = token_user(&app, &ctx, &f.token, flow.purpose).await? else {
        return token_view(&ctx, flow, f.token, None, f.name, None);
    };
    let name = f.name.trim().to_string();
    let mut check = password::check_new(&f.password, &f.password_confirm, &user.email);
    if flow.ask_name
        && (name.is_empty()
            || crate::text::single_line("name", &name, crate::text::NAME_MAX).is_err())
    {
        let mut fields = match check {
            Err(AppError::Validation { fields, .. }) => fields,
            _ => Vec::new(),
        };
        fields.insert(
            0,
            crate::error::FieldError {
                field: "name".into(),
                message: "Enter your name (at most 120 characters).".into(),
            },
        );
        check = Err(AppError::fields(fields));
    }
    if let Err(e) = check {
        return token_view(&ctx, flow, f.token, Some(&user), f.name, Some(&e));
    }
    let hash = password::hash(&f.password).await?;
    let scope = tenant.scope();
    // Consuming is atomic: of two submissions of the same link only one gets through.
    if tokens::consume(&app.db, &f.token, flow.purpose)
        .await?
        .is_none()
    {
        return token_view(&ctx, flow, f.token, None, f.name, None);
    }
    users::set_password(
        &app.db,
        &scope,
        &user.id,
        &hash,
        flow.ask_name.then_some(name.as_str()),
    )
    .await?;
    sessions::end_all_for_user(&app.db, &scope, &user.id, None).await?;
    let action = match flow.purpose {
        Purpose::Invite => "user.invite_accepted",
        Purpose::Reset | Purpose::Mfa => "auth.password_reset",
    };
    audit::record(
        &app.db,
        &scope,
        Entry {
            actor_id: Some(user.id.as_str()),
            actor_email: Some(&user.email),
            company_id: user.company_id.as_ref().map(|c| c.as_str()),
            ip: Some(&ctx.ip),
            ..Entry::new(action)
        },
    )
    .await?;
    let notice = match flow.purpose {
        Purpose::Invite => "invite_accepted",
        Purpose::Reset | Purpose::Mfa => "password_reset",
    };
    Ok(Redirect::to(&format!(
        "{}?notice={notice}",
        user.role.kind().audience().login_path()
    ))
    .into_response())
}

async fn reset_page(
    State(app): State<AppState>,
    Ctx(ctx): Ctx,
    Query(q): Query<TokenQuery>,
) -> AppResult<Response> {
    token_page(app, ctx, q.token, &RESET_FLOW).await
}

async fn reset_form(
    State(app): State<AppState>,
    Ctx(ctx): Ctx,
    axum::Form(f): axum::Form<SetPasswordForm>,
) -> AppResult<Response> {
    token_submit(app, ctx, f, &RESET_FLOW).await
}

async fn invite_page(
    State(app): State<AppState>,
    Ctx(ctx): Ctx,
    Query(q): Query<TokenQuery>,
) -> AppResult<Response> {
    token_page(app, ctx, q.token, &INVITE_FLOW).await
}

async fn invite_form(
    State(app): State<AppState>,
    Ctx(ctx): Ctx,
    axum::Form(f): axum::Form<SetPasswordForm>,
) -> AppResult<Response> {
    token_submit(app, ctx, f, &INVITE_FLOW).await
}

// ---- JSON API ----

#[derive(Deserialize, schemars::JsonSchema)]
struct ApiLogin {
    email: String,
    password: String,
    /// Authenticator or recovery code, for accounts with two-step sign-in.
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    audience: Option<String>,
}

/// The signed-in user as `/api/v1/me` describes it.
#[derive(Serialize, schemars::JsonSchema)]
pub struct Me {
    user: MeUser,
    tenant: MeTenant,
    org_type: OrgType,
    role: super::Role,
    audience: Audience,
    permissions: Vec<super::Permission>,
    navigation: Vec<NavItem>,
    csrf_token: String,
}

#[derive(Serialize, schemars::JsonSchema)]
struct MeUser {
    id: UserId,
    email: String,
    name: String,
    company_id: Option<crate::companies::CompanyId>,
    company_name: Option<String>,
}

#[derive(Serialize, schemars::JsonSchema)]
struct MeTenant {
    slug: String,
    name: String,
    portal_name: String,
}

fn me_of(p: &Principal, csrf: String) -> Me {
    Me {
        user: MeUser {
            id: p.user_id.clone(),
            email: p.email.clone(),
            name: p.name.clone(),
            company_id: p.company_id.clone(),
            company_name: p.company_name.clone(),
        },
        tenant: MeTenant {
            slug: p.tenant.slug.clone(),
            name: p.tenant.name.clone(),
            portal_name: p.tenant.branding.portal_name.clone(),
        },
        org_type: p.tenant.org_type,
        role: p.role,
        audience: p.audience,
        permissions: p.role.permissions().to_vec(),
        navigation: crate::web::navigation(p, ""),
        csrf_token: csrf,
    }
}

async fn api_login(
    State(app): State<AppState>,
    Ctx(ctx): Ctx,
    Json(body): Json<ApiLogin>,
) -> AppResult<Response> {
    let tenant = ctx.tenant.clone().ok_or(AppError::NotFound)?;
    let audience = match body.audience.as_deref() {
        None | Some("portal") => Audience::Portal,
        Some("admin") => Audience::Admin,
        Some(_) => return Err(AppError::field("audience", "Use \"portal\" or \"admin\".")),
    };
    let user = check_password(&app, &ctx, &tenant, &body.email, &body.password, audience)
        .await
        .map_err(unauthorized_with)?;
    let mut mfa = None;
    if crate::mfa::state(&app.db, &tenant.scope(), &user.id)
        .await?
        .enabled()
    {
        let Some(code) = body.code.as_deref().filter(|c| !c.trim().is_empty()) else {
            return Ok(crate::mfa::routes::mfa_required());
        };
        mfa = Some(
            crate::mfa::routes::verify_sign_in_code(&app, &ctx.ip, &tenant, &user, code)
                .await
                .map_err(unauthorized_with)?,
        );
    }
    let token = start_session(&app, &ctx.ip, &tenant, &user, audience, mfa).await?;
    let principal = sessions::lookup(&app.db, &token, audience)
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("new session not found")))?;
    let csrf = crate::http::context::session_csrf(&app.config.secret_key, &principal.session_hash);
    let mut r = Json(me_of(&principal, csrf)).into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(audience.cookie(), &token, None, app.config.secure_cookies),
    );
    Ok(r)
}

fn unauthorized_with(e: AppError) -> AppError {
    // Wrong credentials are a 401 on the API, with the same generic message as the page.
    match e {
        AppError::Validation { .. } => AppError::Unauthorized,
        other => other,
    }
}

async fn api_logout(State(app): State<AppState>, Ctx(ctx): Ctx) -> AppResult<Response> {
    let mut r = StatusCode::NO_CONTENT.into_response();
    if let Some(p) = &ctx.principal {
        end_session(&app, p, &ctx.ip).await?;
        r.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(p.audience.cookie(), "", Some(0), app.config.secure_cookies),
        );
    }
    Ok(r)
}

async fn api_me(user: PortalUser, Ctx(ctx): Ctx) -> Json<Me> {
    Json(me_of(&user, ctx.csrf_token.clone()))
}

async fn api_admin_me(user: StaffUser, Ctx(ctx): Ctx) -> Json<Me> {
    Json(me_of(&user, ctx.csrf_token.clone()))
}
