//! `/auth/hub`: the Hub's signed-token redirect (GET for short tokens, POST for long ones).

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;

use super::Refusal;
use super::hub::{self, Refused};
use crate::app::AppState;
use crate::auth::Audience;
use crate::auth::routes::{signed_in_response, start_session};
use crate::error::AppResult;
use crate::http::PageRouter;
use crate::http::context::{Ctx, RequestContext};
use crate::web::{PageCtx, render};

/// Pages.
pub fn pages() -> PageRouter {
    PageRouter::default()
        .route("/auth/hub", get(hub_get).post(hub_post))
        .route("/portal/hub/{id}", get(super::bar::open))
        .merge(super::admin::pages())
        .merge(super::passwordless::pages())
        .merge(super::oidc::flow::pages())
        .merge(super::oidc::admin::pages())
}

/// The token and where to go afterwards.
#[derive(Deserialize, Default)]
#[serde(default)]
struct HubParams {
    token: String,
    next: String,
}

#[derive(askama::Template)]
#[template(path = "identity/templates/hub_error.html")]
struct HubErrorPage {
    page: PageCtx,
    title: String,
    body: String,
}

fn refused_page(ctx: &RequestContext, reason: Refusal) -> AppResult<Response> {
    let page = PageCtx::new(ctx).with_class("auth-page");
    let key = reason.key();
    let mut r = render(&HubErrorPage {
        title: page.t.get(&format!("{key}-title")),
        body: page.t.get(&format!("{key}-body")),
        page,
    })?;
    *r.status_mut() = match reason {
        Refusal::WrongTenant | Refusal::AccountRefused => StatusCode::FORBIDDEN,
        Refusal::NotConfigured => StatusCode::NOT_FOUND,
        Refusal::Replayed => StatusCode::CONFLICT,
        Refusal::Invalid | Refusal::Expired => StatusCode::UNAUTHORIZED,
    };
    Ok(r)
}

async fn hub_get(
    State(app): State<AppState>,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    Query(p): Query<HubParams>,
) -> AppResult<Response> {
    hub_sign_in(app, ctx, headers, p).await
}

async fn hub_post(
    State(app): State<AppState>,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    axum::Form(p): axum::Form<HubParams>,
) -> AppResult<Response> {
    hub_sign_in(app, ctx, headers, p).await
}

async fn hub_sign_in(
    app: AppState,
    ctx: RequestContext,
    headers: HeaderMap,
    p: HubParams,
) -> AppResult<Response> {
    let Some(tenant) = ctx.tenant.clone() else {
        return refused_page(&ctx, Refusal::NotConfigured);
    };
    let user = match hub::accept(&app, &ctx.ip, &tenant, p.token.trim()).await? {
        Ok(u) => u,
        Err(r) => return refuse(&app, &ctx, &tenant, r).await,
    };
    // The Hub vouched for the person, not for the second factor: TOTP still applies.
    if crate::mfa::state(&app.db, &tenant.scope(), &user.id)
        .await?
        .enabled()
    {
        return crate::mfa::routes::start_challenge(&app, &tenant, &user, &p.next).await;
    }
    let token = start_session(&app, &ctx.ip, &tenant, &user, Audience::Portal, None).await?;
    signed_in_response(&app, &headers, &tenant, Audience::Portal, &token, &p.next).await
}

async fn refuse(
    app: &AppState,
    ctx: &RequestContext,
    tenant: &crate::tenancy::Tenant,
    r: Refused,
) -> AppResult<Response> {
    hub::audit_refusal(app, &ctx.ip, tenant, &r).await?;
    refused_page(ctx, r.reason)
}
