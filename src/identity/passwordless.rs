//! Passwordless sign-in: "email me a sign-in link" and one-time codes. A request emails the
//! newest code and link (10 minutes, single use); using either is throttled like a password,
//! and two-step sign-in still follows when it is on.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use rand::Rng;
use serde::Deserialize;
use serde_json::json;
use subtle::ConstantTimeEq;

use super::store::{self, Settings};
use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::auth::routes::{signed_in_response, start_session};
use crate::auth::sessions::{random_token, token_hash};
use crate::auth::{Audience, throttle};
use crate::error::{AppError, AppResult};
use crate::http::PageRouter;
use crate::http::context::{Ctx, RequestContext};
use crate::i18n::{Translator, for_recipient};
use crate::jobs::{EmailJob, JobKind};
use crate::tenancy::Tenant;
use crate::users::{self, User, UserStatus};
use crate::web::{PageCtx, render};

/// How long a code and link work.
pub const TTL_MS: i64 = 10 * 60 * 1000;

/// Pages.
pub fn pages() -> PageRouter {
    PageRouter::default()
        .route("/login/email", get(request_page).post(request_form))
        .route("/login/code", axum::routing::post(code_form))
        .route("/login/link", get(link_page).post(link_form))
}

/// Whether the login page offers passwordless sign-in.
pub async fn offered(app: &AppState, tenant: &Tenant) -> AppResult<bool> {
    let s = store::settings(&app.db, &tenant.scope()).await?;
    Ok(s.passwordless_link || s.passwordless_code)
}

fn code_hash(id: &str, code: &str) -> String {
    token_hash(&format!("{id}:{code}"))
}

/// A code as typed: digits only, spaces and dashes ignored.
fn clean_code(s: &str) -> Option<String> {
    let c: String = s.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    (c.len() == 6 && c.chars().all(|c| c.is_ascii_digit())).then_some(c)
}

#[derive(askama::Template)]
#[template(path = "identity/templates/passwordless.html")]
struct PasswordlessPage {
    page: PageCtx,
    /// `request`, `sent` or `link`.
    step: &'static str,
    settings: Settings,
    email: String,
    next: String,
    token: String,
    error: Option<String>,
}

struct View<'a> {
    step: &'static str,
    settings: Settings,
    email: &'a str,
    next: &'a str,
    token: &'a str,
    error: Option<&'a str>,
}

fn view(ctx: &RequestContext, v: View<'_>) -> AppResult<Response> {
    let page = PageCtx::new(ctx).with_class("auth-page");
    render(&PasswordlessPage {
        page,
        step: v.step,
        settings: v.settings,
        email: v.email.to_string(),
        next: v.next.to_string(),
        token: v.token.to_string(),
        error: v.error.map(str::to_string),
    })
}

/// The tenant and its settings, when it offers passwordless sign-in at all.
async fn enabled(app: &AppState, ctx: &RequestContext) -> AppResult<(Tenant, Settings)> {
    let Some(tenant) = ctx.tenant.clone() else {
        return Err(AppError::NotFound);
    };
    let s = store::settings(&app.db, &tenant.scope()).await?;
    if !(s.passwordless_link || s.passwordless_code) {
        return Err(AppError::NotFound);
    }
    Ok((tenant, s))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RequestBody {
    email: String,
    next: String,
}

async fn request_page(
    State(app): State<AppState>,
    Ctx(ctx): Ctx,
    Query(q): Query<RequestBody>,
) -> AppResult<Response> {
    let (_, settings) = enabled(&app, &ctx).await?;
    view(
        &ctx,
        View {
            step: "request",
            settings,
            email: q.email.trim(),
            next: &q.next,
            token: "",
            error: None,
        },
    )
}

async fn request_form(
    State(app): State<AppState>,
    Ctx(ctx): Ctx,
    axum::Form(f): axum::Form<RequestBody>,
) -> AppResult<Response> {
    let (tenant, settings) = enabled(&app, &ctx).await?;
    let email = crate::text::bounded_email(&f.email).unwrap_or_default();
    if !users::valid_email(&email) {
        let mut r = view(
            &ctx,
            View {
                step: "request",
                settings,
                email: f.email.trim(),
                next: &f.next,
                token: "",
                error: Some("identity-passwordless-email-invalid"),
            },
        )?;
        *r.status_mut() = StatusCode::BAD_REQUEST;
        return Ok(r);
    }
    let ip_key = format!("passwordless:ip:{}", ctx.ip);
    if let Some(wait) = throttle::take(&app.db, &ip_key, throttle::RESET_PER_IP)
        .await?
        .wait()
    {
        return Err(AppError::TooManyRequests(wait));
    }
    let acct_key = format!("passwordless:acct:{}:{email}", tenant.id);
    // Over the per-account limit the answer is the same as ever, so it reveals nothing.
    if throttle::take(&app.db, &acct_key, throttle::RESET_PER_ACCOUNT).await?
        == throttle::Slot::Taken
    {
        send(&app, &ctx, &tenant, &settings, &email).await?;
    }
    view(
        &ctx,
        View {
            step: "sent",
            settings,
            email: &email,
            next: &f.next,
            token: "",
            error: None,
        },
    )
}

/// Who may sign in without a password: active portal accounts of active companies.
fn usable(rec: &users::LoginRecord) -> bool {
    rec.user.status == UserStatus::Active
        && rec.company_active
        && rec.user.role.kind().audience() == Audience::Portal
}

/// Emails a fresh code and link to the account of `email`, when there is a usable one. Either
/// way one audit row tells what happened.
async fn send(
    app: &AppState,
    ctx: &RequestContext,
    tenant: &Tenant,
    settings: &Settings,
    email: &str,
) -> AppResult<()> {
    let scope = tenant.scope();
    let rec = users::find_for_login(&app.db, &scope, email)
        .await?
        .filter(usable);
    let Some(rec) = rec else {
        audit::record(
            &app.db,
            &scope,
            Entry {
                actor_email: Some(email),
                ip: Some(&ctx.ip),
                detail: json!({ "account": false }),
                ..Entry::new("identity.passwordless_requested")
            },
        )
        .await?;
        return Ok(());
    };
    let code = format!("{:06}", rand::thread_rng().gen_range(0..1_000_000u32));
    let link_token = random_token();
    let mut tx = app.db.tenant(&scope).begin().await?;
    // The row id salts the code's hash.
    let id = crate::db::new_id();
    store::issue_sign_in(
        &mut tx,
        &id,
        &rec.user.id,
        &code_hash(&id, &code),
        &token_hash(&link_token),
        crate::db::now_ms() + TTL_MS,
    )
    .await?;
    let t = Translator::new(for_recipient(
        rec.language.as_deref(),
        Some(&tenant.default_locale),
    ));
    let mut lines = vec![t.arg("email-hello", "name", &rec.user.name)];
    if settings.passwordless_code {
        lines.push(t.arg("identity-passwordless-email-code", "code", &code));
    }
    if settings.passwordless_link {
        lines.push(t.get("identity-passwordless-email-link"));
    }
    lines.push(t.get("identity-passwordless-email-ignore"));
    let link = settings.passwordless_link.then(|| {
        format!(
            "{}/login/link?tenant={}&token={link_token}",
            app.config.base_url, tenant.slug
        )
    });
    EmailJob {
        to: email.to_string(),
        subject: t.get("identity-passwordless-email-subject"),
        lines,
        action_label: link
            .as_ref()
            .map(|_| t.get("identity-passwordless-email-action")),
        action_url: link,
        lang: Some(t.lang().into()),
        reply_to: None,
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
            ..Entry::new("identity.passwordless_requested")
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CodeBody {
    email: String,
    code: String,
    next: String,
}

async fn code_form(
    State(app): State<AppState>,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    axum::Form(f): axum::Form<CodeBody>,
) -> AppResult<Response> {
    let (tenant, settings) = enabled(&app, &ctx).await?;
    if !settings.passwordless_code {
        return Err(AppError::NotFound);
    }
    let scope = tenant.scope();
    let refuse = |settings: Settings| -> AppResult<Response> {
        let mut r = view(
            &ctx,
            View {
                step: "sent",
                settings,
                email: f.email.trim(),
                next: &f.next,
                token: "",
                error: Some("identity-passwordless-code-wrong"),
            },
        )?;
        *r.status_mut() = StatusCode::UNAUTHORIZED;
        Ok(r)
    };
    let Some(email) = crate::text::bounded_email(&f.email) else {
        return refuse(settings);
    };
    // The same counters as passwords: a code is a password that works once.
    let acct_key = format!("login:acct:{}:{email}", tenant.id);
    let ip_key = format!("login:ip:{}", ctx.ip);
    let slot = throttle::take_all(
        &app.db,
        &[
            (&acct_key, throttle::LOGIN_PER_ACCOUNT),
            (&ip_key, throttle::LOGIN_PER_IP),
        ],
    )
    .await?;
    if let throttle::Slot::Blocked { wait, first } = slot {
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
    let rec = users::find_for_login(&app.db, &scope, &email)
        .await?
        .filter(usable);
    let live = match &rec {
        Some(r) => store::live_code(&app.db, &scope, &r.user.id).await?,
        None => None,
    };
    let matched = match (clean_code(&f.code), &live) {
        (Some(code), Some((id, hash))) => {
            bool::from(code_hash(id, &code).as_bytes().ct_eq(hash.as_bytes()))
        }
        _ => false,
    };
    let (Some(rec), Some((id, _)), true) = (rec, live, matched) else {
        audit::record(
            &app.db,
            &scope,
            Entry {
                actor_email: Some(&email),
                ip: Some(&ctx.ip),
                detail: json!({ "method": "code" }),
                ..Entry::new("identity.passwordless_failed")
            },
        )
        .await?;
        return refuse(settings);
    };
    let mut tx = app.db.tenant(&scope).begin().await?;
    if !store::spend_code(&mut tx, &id).await? {
        drop(tx);
        return refuse(settings);
    }
    used(&mut tx, &ctx, &rec.user, "code").await?;
    tx.commit().await?;
    throttle::clear(&app.db, &acct_key).await?;
    throttle::give_back(&app.db, &ip_key).await?;
    finish(&app, &ctx, &headers, &tenant, &rec.user, &f.next).await
}

async fn used(
    tx: &mut crate::db::TenantTx,
    ctx: &RequestContext,
    user: &User,
    method: &str,
) -> AppResult<()> {
    audit::append(
        tx,
        Entry {
            actor_id: Some(user.id.as_str()),
            actor_email: Some(&user.email),
            company_id: user.company_id.as_ref().map(|c| c.as_str()),
            ip: Some(&ctx.ip),
            detail: json!({ "method": method }),
            ..Entry::new("identity.passwordless_used").target("user", user.id.as_str())
        },
    )
    .await?;
    Ok(())
}

/// The second factor when it is on, else the session.
async fn finish(
    app: &AppState,
    ctx: &RequestContext,
    headers: &HeaderMap,
    tenant: &Tenant,
    user: &User,
    next: &str,
) -> AppResult<Response> {
    if crate::mfa::state(&app.db, &tenant.scope(), &user.id)
        .await?
        .enabled()
    {
        return crate::mfa::routes::start_challenge(app, tenant, user, next).await;
    }
    let token = start_session(app, &ctx.ip, tenant, user, Audience::Portal, None).await?;
    signed_in_response(app, headers, tenant, Audience::Portal, &token, next).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LinkBody {
    token: String,
    next: String,
}

fn link_refused(ctx: &RequestContext, settings: Settings) -> AppResult<Response> {
    let mut r = view(
        ctx,
        View {
            step: "request",
            settings,
            email: "",
            next: "",
            token: "",
            error: Some("identity-passwordless-link-invalid"),
        },
    )?;
    *r.status_mut() = StatusCode::GONE;
    Ok(r)
}

/// Opening the link only shows a button: mail scanners that fetch links do not use it up.
async fn link_page(
    State(app): State<AppState>,
    Ctx(ctx): Ctx,
    Query(q): Query<LinkBody>,
) -> AppResult<Response> {
    let (tenant, settings) = enabled(&app, &ctx).await?;
    if !settings.passwordless_link {
        return Err(AppError::NotFound);
    }
    let token = q.token.trim();
    if token.is_empty()
        || token.len() > 128
        || store::peek_link(&app.db, &tenant.scope(), &token_hash(token))
            .await?
            .is_none()
    {
        return link_refused(&ctx, settings);
    }
    view(
        &ctx,
        View {
            step: "link",
            settings,
            email: "",
            next: &q.next,
            token,
            error: None,
        },
    )
}

async fn link_form(
    State(app): State<AppState>,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    axum::Form(f): axum::Form<LinkBody>,
) -> AppResult<Response> {
    let (tenant, settings) = enabled(&app, &ctx).await?;
    if !settings.passwordless_link {
        return Err(AppError::NotFound);
    }
    let token = f.token.trim();
    if token.is_empty() || token.len() > 128 {
        return link_refused(&ctx, settings);
    }
    let ip_key = format!("login:ip:{}", ctx.ip);
    if let Some(wait) = throttle::take(&app.db, &ip_key, throttle::LOGIN_PER_IP)
        .await?
        .wait()
    {
        return Err(AppError::TooManyRequests(wait));
    }
    let scope = tenant.scope();
    let mut tx = app.db.tenant(&scope).begin().await?;
    let Some(user_id) = store::spend_link(&mut tx, &token_hash(token)).await? else {
        drop(tx);
        return link_refused(&ctx, settings);
    };
    let user = users::get(&app.db, &scope, user_id.as_str()).await?;
    let rec = match &user {
        Some(u) => users::find_for_login(&app.db, &scope, &u.email)
            .await?
            .filter(usable),
        None => None,
    };
    let Some(rec) = rec else {
        drop(tx);
        return link_refused(&ctx, settings);
    };
    used(&mut tx, &ctx, &rec.user, "link").await?;
    tx.commit().await?;
    throttle::give_back(&app.db, &ip_key).await?;
    finish(&app, &ctx, &headers, &tenant, &rec.user, &f.next).await
}

/// Makes the login page's "sign in without a password" link (see `auth/templates/login.html`).
pub fn login_link(next: &str) -> String {
    let q = serde_urlencoded::to_string([("next", next)]).unwrap_or_default();
    format!("/login/email?{q}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_digits() {
        assert_eq!(clean_code(" 123 456 "), Some("123456".into()));
        assert_eq!(clean_code("123-456"), Some("123456".into()));
        assert_eq!(clean_code("12345"), None);
        assert_eq!(clean_code("12345a"), None);
        assert_eq!(clean_code("١٢٣٤٥٦"), None);
    }
}
