//! Flows that start from an emailed link: password reset and invitation acceptance.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::json;

use super::*;
use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::auth::tokens::{self, Purpose};
use crate::auth::{password, sessions, throttle};
use crate::error::{AppError, AppResult};
use crate::http::context::{Ctx, RequestContext};
use crate::i18n::{Translator, for_recipient};
use crate::jobs::{EmailJob, JobKind};
use crate::tenancy::Tenant;
use crate::users::{self, UserStatus};
use crate::web::{FormErrors, PageCtx, notice, render};

#[derive(askama::Template)]
#[template(path = "auth/templates/forgot.html")]
pub(super) struct ForgotPage {
    page: PageCtx,
    email: String,
    notice: Option<&'static str>,
    errors: FormErrors,
}

pub(super) async fn forgot_page(Ctx(ctx): Ctx) -> AppResult<Response> {
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
pub(super) struct ForgotForm {
    #[serde(default)]
    email: String,
}

pub(super) async fn forgot_form(
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

pub(super) async fn send_reset(
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
            ..Entry::new("auth.password_reset_requested")
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[derive(askama::Template)]
#[template(path = "auth/templates/set_password.html")]
pub(super) struct SetPasswordPage {
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
pub(super) struct TokenQuery {
    #[serde(default)]
    token: String,
}

#[derive(Deserialize)]
pub(super) struct SetPasswordForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
}

pub(super) struct TokenFlow {
    purpose: Purpose,
    heading: &'static str,
    action: &'static str,
    button: &'static str,
    ask_name: bool,
}

pub(super) const RESET_FLOW: TokenFlow = TokenFlow {
    purpose: Purpose::Reset,
    heading: crate::i18n::k("auth-choose-password"),
    action: "/reset-password",
    button: crate::i18n::k("auth-set-password"),
    ask_name: false,
};

pub(super) const INVITE_FLOW: TokenFlow = TokenFlow {
    purpose: Purpose::Invite,
    heading: crate::i18n::k("auth-accept-invitation"),
    action: "/invite/accept",
    button: crate::i18n::k("auth-create-account"),
    ask_name: true,
};

/// The token's user, when the token is valid for the resolved tenant.
pub(super) async fn token_user(
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

pub(super) fn token_view(
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

pub(super) async fn token_page(
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

pub(super) async fn token_submit(
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
    // One transaction: the link is used up only if the password is stored, and the audit row
    // goes with it. Consuming is atomic: of two submissions of the same link one gets through.
    let mut tx = app.db.tenant(&scope).begin().await?;
    if tokens::consume_in(&mut tx, &f.token, flow.purpose)
        .await?
        .as_ref()
        != Some(&user.id)
    {
        drop(tx);
        return token_view(&ctx, flow, f.token, None, f.name, None);
    }
    users::set_password(
        &mut tx,
        &user.id,
        &hash,
        flow.ask_name.then_some(name.as_str()),
    )
    .await?;
    sessions::end_all_for_user_in(&mut tx, &user.id, None).await?;
    if flow.purpose == Purpose::Invite {
        // The new member now signs the policies that take later members of their company.
        crate::documents::service::enroll_in(&app, &mut tx, user.id.as_str()).await?;
    }
    let action = match flow.purpose {
        Purpose::Invite => "user.invite_accepted",
        Purpose::Reset | Purpose::Mfa => "auth.password_reset",
    };
    audit::append(
        &mut tx,
        Entry {
            actor_id: Some(user.id.as_str()),
            actor_email: Some(&user.email),
            company_id: user.company_id.as_ref().map(|c| c.as_str()),
            ip: Some(&ctx.ip),
            ..Entry::new(action)
        },
    )
    .await?;
    tx.commit().await?;
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

pub(super) async fn reset_page(
    State(app): State<AppState>,
    Ctx(ctx): Ctx,
    Query(q): Query<TokenQuery>,
) -> AppResult<Response> {
    token_page(app, ctx, q.token, &RESET_FLOW).await
}

pub(super) async fn reset_form(
    State(app): State<AppState>,
    Ctx(ctx): Ctx,
    axum::Form(f): axum::Form<SetPasswordForm>,
) -> AppResult<Response> {
    token_submit(app, ctx, f, &RESET_FLOW).await
}

pub(super) async fn invite_page(
    State(app): State<AppState>,
    Ctx(ctx): Ctx,
    Query(q): Query<TokenQuery>,
) -> AppResult<Response> {
    token_page(app, ctx, q.token, &INVITE_FLOW).await
}

pub(super) async fn invite_form(
    State(app): State<AppState>,
    Ctx(ctx): Ctx,
    axum::Form(f): axum::Form<SetPasswordForm>,
) -> AppResult<Response> {
    token_submit(app, ctx, f, &INVITE_FLOW).await
}
