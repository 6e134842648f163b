//! Two-step sign-in pages: the code prompt after the password (`/mfa`), enrolment and
//! management under each profile, and the tenant policy at `/admin/security`.

use std::sync::Arc;

use crate::http::PageRouter;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::json;

use super::{Accepted, Policy};
use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::auth::routes::{signed_in_response, start_session};
use crate::auth::tokens::{self, Purpose};
use crate::auth::{Permission, Principal, StaffUser, throttle};
use crate::error::{AppError, AppResult, FieldError};
use crate::http::context::{Ctx, RequestContext, cookie, set_cookie};
use crate::tenancy::{OrgType, Tenant};
use crate::users::{self, User, UserStatus};
use crate::web::{FormErrors, PageCtx, notice, render};

/// Cookie carrying the pending second step of a sign-in.
pub const MFA_COOKIE: &str = "portico_mfa";

/// Pages.
pub fn pages() -> PageRouter {
    let mut r = PageRouter::default()
        .route("/mfa", get(challenge_page).post(challenge_form))
        .route("/admin/security", get(security_page).post(security_form));
    for base in ["/portal/profile/mfa", "/admin/profile/mfa"] {
        r = r
            .route(base, get(setup_page))
            .route(&format!("{base}/enable"), axum::routing::post(enable_form))
            .route(
                &format!("{base}/recovery"),
                axum::routing::post(recovery_form),
            )
            .route(
                &format!("{base}/disable"),
                axum::routing::post(disable_form),
            );
    }
    r
}

// ---- the second sign-in step ----

/// After a correct password for an account with MFA: remember the pending sign-in for five
/// minutes and ask for the code.
pub async fn start_challenge(
    app: &AppState,
    tenant: &Tenant,
    user: &User,
    next: &str,
) -> AppResult<Response> {
    let scope = tenant.scope();
    let mut tx = app.db.tenant(&scope).begin().await?;
    let token = tokens::issue(&mut tx, &user.id, Purpose::Mfa).await?;
    tx.commit().await?;
    let q = serde_urlencoded::to_string([("next", next)]).unwrap_or_default();
    let mut r = Redirect::to(&format!("/mfa?{q}")).into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(
            MFA_COOKIE,
            &token,
            Some(Purpose::Mfa.ttl_ms() / 1000),
            app.config.secure_cookies,
        ),
    );
    Ok(r)
}

/// The API's answer when a code is needed: 401 with code `mfa_required`.
pub fn mfa_required() -> Response {
    let detail = crate::error::ErrorDetail {
        code: "mfa_required".into(),
        message: "This account uses two-step sign-in. Send the current code from the authenticator app (or a recovery code) as \"code\".".into(),
        fields: Vec::new(),
    };
    let mut r = (
        StatusCode::UNAUTHORIZED,
        Json(crate::error::ErrorBody {
            error: detail.clone(),
        }),
    )
        .into_response();
    // Marks the body as final so the error layer keeps the specific code.
    r.extensions_mut()
        .insert(crate::error::RenderedError(detail));
    r
}

const BAD_CODE: &str = "That code is not valid. Enter the current code from your authenticator app, or one of your recovery codes.";

/// Checks a second-factor code with throttling and audit; returns how it was accepted.
pub async fn verify_sign_in_code(
    app: &AppState,
    ip: &str,
    tenant: &Tenant,
    user: &User,
    code: &str,
) -> AppResult<&'static str> {
    let scope = tenant.scope();
    let key = format!("mfa:acct:{}:{}", tenant.id, user.id);
    let entry = |action| Entry {
        actor_id: Some(user.id.as_str()),
        actor_email: Some(&user.email),
        company_id: user.company_id.as_ref().map(|c| c.as_str()),
        ip: Some(ip),
        ..Entry::new(action)
    };
    // The slot is taken before the code is checked: parallel guesses get no extra tries.
    if let throttle::Slot::Blocked { wait, first } =
        throttle::take(&app.db, &key, throttle::LOGIN_PER_ACCOUNT).await?
    {
        if first {
            audit::record(&app.db, &scope, entry("auth.login_throttled")).await?;
        }
        return Err(AppError::TooManyRequests(wait));
    }
    if code.len() > 64 {
        return Err(AppError::field("code", BAD_CODE));
    }
    match super::check_code(&app.db, &app.config.secret_key, &scope, &user.id, code).await? {
        Some(how) => {
            throttle::clear(&app.db, &key).await?;
            Ok(match how {
                Accepted::Totp => "totp",
                Accepted::Recovery => "recovery",
            })
        }
        None => {
            audit::record(&app.db, &scope, entry("auth.mfa_failed")).await?;
            Err(AppError::Validation {
                message: BAD_CODE.into(),
                fields: vec![FieldError {
                    field: "code".into(),
                    message: BAD_CODE.into(),
                }],
            })
        }
    }
}

#[derive(askama::Template)]
#[template(path = "mfa/templates/challenge.html")]
struct ChallengePage {
    page: PageCtx,
    next: String,
    error: Option<String>,
    restart: &'static str,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ChallengeQuery {
    next: String,
}

/// The user of the pending sign-in in the cookie, if it is still valid for this tenant.
async fn pending_user(
    app: &AppState,
    ctx: &RequestContext,
    headers: &HeaderMap,
) -> AppResult<Option<(Tenant, User)>> {
    let Some(tenant) = ctx.tenant.clone() else {
        return Ok(None);
    };
    let Some(token) = cookie(headers, MFA_COOKIE) else {
        return Ok(None);
    };
    let Some((tenant_id, user_id)) = tokens::peek(&app.db, token, Purpose::Mfa).await? else {
        return Ok(None);
    };
    if tenant_id != tenant.id {
        return Ok(None);
    }
    let user = users::get(&app.db, &tenant.scope(), user_id.as_str()).await?;
    Ok(user
        .filter(|u| u.status == UserStatus::Active)
        .map(|u| (tenant, u)))
}

fn expired() -> Response {
    Redirect::to("/login?notice=session_ended").into_response()
}

fn challenge_view(
    ctx: &RequestContext,
    user: &User,
    next: String,
    error: Option<String>,
) -> AppResult<Response> {
    let mut r = render(&ChallengePage {
        page: PageCtx::new(ctx).with_class("auth-page"),
        next,
        error: error.clone(),
        restart: user.role.kind().audience().login_path(),
    })?;
    if error.is_some() {
        *r.status_mut() = StatusCode::UNAUTHORIZED;
    }
    Ok(r)
}

async fn challenge_page(
    State(app): State<AppState>,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    Query(q): Query<ChallengeQuery>,
) -> AppResult<Response> {
    let Some((_, user)) = pending_user(&app, &ctx, &headers).await? else {
        return Ok(expired());
    };
    challenge_view(&ctx, &user, q.next, None)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ChallengeForm {
    code: String,
    next: String,
}

async fn challenge_form(
    State(app): State<AppState>,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    axum::Form(f): axum::Form<ChallengeForm>,
) -> AppResult<Response> {
    let Some((tenant, user)) = pending_user(&app, &ctx, &headers).await? else {
        return Ok(expired());
    };
    let how = match verify_sign_in_code(&app, &ctx.ip, &tenant, &user, &f.code).await {
        Ok(how) => how,
        Err(AppError::Validation { message, .. }) => {
            return challenge_view(&ctx, &user, f.next, Some(message));
        }
        Err(e) => return Err(e),
    };
    // Use the pending sign-in up; a second tab racing this one gets nothing.
    let token = cookie(&headers, MFA_COOKIE).unwrap_or_default();
    if tokens::consume(&app.db, token, Purpose::Mfa)
        .await?
        .is_none()
    {
        return Ok(expired());
    }
    let audience = user.role.kind().audience();
    let session = start_session(&app, &ctx.ip, &tenant, &user, audience, Some(how)).await?;
    let mut r = signed_in_response(&app, &headers, &tenant, audience, &session, &f.next).await?;
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(MFA_COOKIE, "", Some(0), app.config.secure_cookies),
    );
    Ok(r)
}

// ---- enrolment and management ----

fn me(ctx: &RequestContext) -> AppResult<Arc<Principal>> {
    ctx.principal.clone().ok_or(AppError::Unauthorized)
}

#[derive(askama::Template)]
#[template(path = "mfa/templates/setup.html")]
struct SetupPage {
    page: PageCtx,
    base: &'static str,
    profile: &'static str,
    enabled: bool,
    required: bool,
    qr_base64: String,
    secret: String,
    recovery_left: i64,
    codes: Vec<String>,
    failed: &'static str,
    errors: FormErrors,
}

async fn setup_view(
    app: &AppState,
    ctx: &RequestContext,
    p: &Principal,
    codes: Vec<String>,
    failed: &'static str,
    err: Option<&AppError>,
) -> AppResult<Response> {
    let scope = p.scope();
    let st = super::state(&app.db, &scope, &p.user_id).await?;
    let (mut qr_base64, mut secret) = (String::new(), String::new());
    if !st.enabled() {
        let raw = match st
            .pending
            .as_deref()
            .and_then(|s| super::open(&app.config.secret_key, s))
        {
            Some(raw) => raw,
            None => {
                let raw = super::new_secret();
                let sealed = super::seal(&app.config.secret_key, &raw);
                super::set_pending(&app.db, &scope, &p.user_id, &sealed).await?;
                raw
            }
        };
        let t = super::totp(raw, &p.tenant.branding.portal_name, &p.email)
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("cannot build TOTP")))?;
        qr_base64 = t
            .get_qr_base64()
            .map_err(|e| AppError::Internal(anyhow::anyhow!(e)))?;
        secret = t.get_secret_base32();
    }
    let base = super::enrol_path(p);
    let mut r = render(&SetupPage {
        page: PageCtx::new(ctx),
        base,
        profile: crate::profile::routes::base(p),
        enabled: st.enabled(),
        required: p.mfa_enrolment_required,
        qr_base64,
        secret,
        recovery_left: st.recovery_left,
        codes,
        failed,
        errors: err.map(FormErrors::from).unwrap_or_default(),
    })?;
    if let Some(e) = err {
        *r.status_mut() = e.status();
    }
    Ok(r)
}

async fn setup_page(State(app): State<AppState>, Ctx(ctx): Ctx) -> AppResult<Response> {
    let p = me(&ctx)?;
    setup_view(&app, &ctx, &p, Vec::new(), "", None).await
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

#[derive(Deserialize, Default)]
#[serde(default)]
struct CodeForm {
    code: String,
}

async fn enable_form(
    State(app): State<AppState>,
    Ctx(ctx): Ctx,
    axum::Form(f): axum::Form<CodeForm>,
) -> AppResult<Response> {
    let p = me(&ctx)?;
    let scope = p.scope();
    let st = super::state(&app.db, &scope, &p.user_id).await?;
    if st.enabled() {
        return Ok(Redirect::to(super::enrol_path(&p)).into_response());
    }
    let step = st
        .pending
        .as_deref()
        .and_then(|s| super::open(&app.config.secret_key, s))
        .and_then(|raw| super::totp(raw, "Portico", "user"))
        .and_then(|t| {
            let now = u64::try_from(crate::db::now_ms() / 1000).unwrap_or(0);
            super::matching_step(&t, &f.code, now)
        });
    let Some(step) = step else {
        let e = AppError::field(
            "code",
            "That code does not match. Enter the 6-digit code your app shows now for this account.",
        );
        return setup_view(&app, &ctx, &p, Vec::new(), "enable", Some(&e)).await;
    };
    let mut tx = app.db.tenant(&scope).begin().await?;
    super::enable(&mut tx, &p.user_id, step).await?;
    let codes = super::new_recovery_codes(&mut tx, &p.user_id).await?;
    audit::append(&mut tx, audit_entry(&p, &ctx.ip, "mfa.enabled")).await?;
    tx.commit().await?;
    setup_view(&app, &ctx, &p, codes, "", None).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PasswordForm {
    password: String,
}

async fn confirm_password(app: &AppState, p: &Principal, ip: &str, pass: &str) -> AppResult<()> {
    crate::profile::routes::reconfirm_password(app, p, ip, "password", pass).await
}

async fn recovery_form(
    State(app): State<AppState>,
    Ctx(ctx): Ctx,
    axum::Form(f): axum::Form<PasswordForm>,
) -> AppResult<Response> {
    let p = me(&ctx)?;
    let scope = p.scope();
    if !super::state(&app.db, &scope, &p.user_id).await?.enabled() {
        return Ok(Redirect::to(super::enrol_path(&p)).into_response());
    }
    if let Err(e) = confirm_password(&app, &p, &ctx.ip, &f.password).await {
        return setup_view(&app, &ctx, &p, Vec::new(), "recovery", Some(&e)).await;
    }
    let mut tx = app.db.tenant(&scope).begin().await?;
    let codes = super::new_recovery_codes(&mut tx, &p.user_id).await?;
    audit::append(
        &mut tx,
        audit_entry(&p, &ctx.ip, "mfa.recovery_codes_regenerated"),
    )
    .await?;
    tx.commit().await?;
    setup_view(&app, &ctx, &p, codes, "", None).await
}

async fn disable_form(
    State(app): State<AppState>,
    Ctx(ctx): Ctx,
    axum::Form(f): axum::Form<PasswordForm>,
) -> AppResult<Response> {
    let p = me(&ctx)?;
    let scope = p.scope();
    if let Err(e) = confirm_password(&app, &p, &ctx.ip, &f.password).await {
        return setup_view(&app, &ctx, &p, Vec::new(), "disable", Some(&e)).await;
    }
    if super::policy(&app.db, &scope).await?.covers(p.role) {
        let e = AppError::Unprocessable(
            "Your organisation requires two-step sign-in for your role, so it cannot be turned off. You can set up a new authenticator by regenerating after sign-in, or ask an administrator."
                .into(),
        );
        return setup_view(&app, &ctx, &p, Vec::new(), "disable", Some(&e)).await;
    }
    let mut tx = app.db.tenant(&scope).begin().await?;
    super::disable(&mut tx, &p.user_id).await?;
    audit::append(&mut tx, audit_entry(&p, &ctx.ip, "mfa.disabled")).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!(
        "{}?notice=mfa_disabled",
        crate::profile::routes::base(&p)
    ))
    .into_response())
}

// ---- tenant policy ----

#[derive(askama::Template)]
#[template(path = "mfa/templates/security.html")]
struct SecurityPage {
    page: PageCtx,
    policy: Policy,
    is_msp: bool,
    notice: Option<&'static str>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NoticeQuery {
    notice: Option<String>,
}

async fn security_page(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Query(q): Query<NoticeQuery>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageUsers)?;
    render(&SecurityPage {
        page: PageCtx::new(&ctx),
        policy: super::policy(&app.db, actor.scope()).await?,
        is_msp: staff.tenant.org_type == OrgType::Msp,
        notice: notice(q.notice.as_deref()),
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SecurityForm {
    require_staff: Option<String>,
    require_client_admins: Option<String>,
}

async fn security_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    axum::Form(f): axum::Form<SecurityForm>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageUsers)?;
    let before = super::policy(&app.db, actor.scope()).await?;
    let policy = Policy {
        staff: f.require_staff.is_some(),
        client_admins: f.require_client_admins.is_some() && staff.tenant.org_type == OrgType::Msp,
    };
    if policy != before {
        let mut tx = app.db.tenant(actor.scope()).begin().await?;
        super::set_policy(&mut tx, policy).await?;
        audit::append(
            &mut tx,
            Entry {
                ip: Some(&ctx.ip),
                detail: json!({ "require_mfa": policy }),
                ..Entry::new("security.mfa_policy_changed").by(&actor)
            },
        )
        .await?;
        tx.commit().await?;
    }
    Ok(Redirect::to("/admin/security?notice=saved").into_response())
}

/// Where a principal who must still enrol is sent (pages) or told to go (API).
pub fn enrolment_gate(p: &Principal, path: &str) -> Option<Response> {
    if !p.mfa_enrolment_required || super::allowed_before_enrolment(path) {
        return None;
    }
    let to = super::enrol_path(p);
    if path.starts_with("/api/") {
        return Some(
            AppError::Forbidden(format!(
                "Your organisation requires two-step sign-in. Set it up at {to} first."
            ))
            .into_response(),
        );
    }
    Some(Redirect::to(to).into_response())
}
