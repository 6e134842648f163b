//! `/auth/oidc/{provider}/start` and `/auth/oidc/{provider}/callback`: the authorization code
//! flow. `state`, `nonce` and the PKCE verifier stay on the server (one row per sign-in, spent
//! once); the browser holds only a short-lived cookie that binds the row to it.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::json;

use super::store::{self, Flow};
use super::{FLOW_COOKIE, Failure, Provider};
use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::auth::routes::{signed_in_response, start_session};
use crate::auth::sessions::{random_token, token_hash};
use crate::auth::{Audience, UserKind};
use crate::error::{AppError, AppResult};
use crate::http::PageRouter;
use crate::http::context::{Ctx, RequestContext, cookie, set_cookie};
use crate::tenancy::Tenant;
use crate::users::{self, NewUser, User, UserStatus};
use crate::web::{PageCtx, render};

/// Longest provider subject remembered (OIDC says at most 255 ASCII characters).
const MAX_SUBJECT: usize = 255;

/// Pages.
pub fn pages() -> PageRouter {
    PageRouter::default()
        .route("/auth/oidc/{id}/start", get(start))
        .route("/auth/oidc/{id}/callback", get(callback))
}

/// The redirect URI staff register at the provider.
pub fn redirect_uri(app: &AppState, tenant: &Tenant, provider_id: &str) -> String {
    format!(
        "{}/auth/oidc/{provider_id}/callback?tenant={}",
        app.config.base_url, tenant.slug
    )
}

/// The login page's buttons: enabled providers as `(label, start link)`.
pub async fn buttons(
    app: &AppState,
    tenant: &Tenant,
    next: &str,
) -> AppResult<Vec<(String, String)>> {
    let q = serde_urlencoded::to_string([("next", next)]).unwrap_or_default();
    Ok(store::list(&app.db, &tenant.scope())
        .await?
        .into_iter()
        .filter(|p| p.enabled)
        .map(|p| (p.name, format!("/auth/oidc/{}/start?{q}", p.id)))
        .collect())
}

#[derive(askama::Template)]
#[template(path = "identity/templates/oidc_error.html")]
struct ErrorPage {
    page: PageCtx,
    title: String,
    body: String,
}

fn failure_page(ctx: &RequestContext, f: Failure) -> AppResult<Response> {
    let page = PageCtx::new(ctx).with_class("auth-page");
    let key = f.key();
    let mut r = render(&ErrorPage {
        title: page.t.get(&format!("{key}-title")),
        body: page.t.get(&format!("{key}-body")),
        page,
    })?;
    *r.status_mut() = f.status();
    // The sign-in is over either way: the browser's flow cookie goes.
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(FLOW_COOKIE, "", Some(0), false),
    );
    Ok(r)
}

/// Audits a failed sign-in and shows its page.
async fn fail(
    app: &AppState,
    ctx: &RequestContext,
    tenant: &Tenant,
    provider: Option<&Provider>,
    f: Failure,
    email: Option<&str>,
) -> AppResult<Response> {
    audit::record(
        &app.db,
        &tenant.scope(),
        Entry {
            actor_email: email,
            ip: Some(&ctx.ip),
            detail: json!({
                "reason": f.code(),
                "provider": provider.map(|p| p.name.as_str()),
                "provider_id": provider.map(|p| p.id.as_str()),
            }),
            ..Entry::new("identity.oidc_refused")
        },
    )
    .await?;
    failure_page(ctx, f)
}

/// The tenant's enabled provider `id`, or the failure to show.
async fn enabled_provider(
    app: &AppState,
    ctx: &RequestContext,
    id: &str,
) -> AppResult<Result<(Tenant, Provider), Response>> {
    let Some(tenant) = ctx.tenant.clone() else {
        return Ok(Err(failure_page(ctx, Failure::NotFound)?));
    };
    // Looked up inside the tenant the request reached: another tenant's id is simply unknown.
    match store::get(&app.db, &tenant.scope(), id).await? {
        Some(p) if p.enabled => Ok(Ok((tenant, p))),
        _ => Ok(Err(
            fail(app, ctx, &tenant, None, Failure::NotFound, None).await?
        )),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct StartQuery {
    next: String,
}

async fn start(
    State(app): State<AppState>,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    Query(q): Query<StartQuery>,
) -> AppResult<Response> {
    let (tenant, provider) = match enabled_provider(&app, &ctx, &id).await? {
        Ok(v) => v,
        Err(r) => return Ok(r),
    };
    let meta = match super::discover(&provider.issuer).await {
        Ok(m) => m,
        Err(f) => return fail(&app, &ctx, &tenant, Some(&provider), f, None).await,
    };
    let state = random_token();
    let nonce = random_token();
    let verifier = random_token();
    let browser = random_token();
    let next: String = q.next.chars().take(500).collect();
    let mut tx = app.db.tenant(&tenant.scope()).begin().await?;
    store::start_flow(
        &mut tx,
        &token_hash(&state),
        &Flow {
            provider_id: provider.id.clone(),
            browser_hash: token_hash(&browser),
            nonce: nonce.clone(),
            pkce_verifier: verifier.clone(),
            next,
        },
    )
    .await?;
    tx.commit().await?;
    let mut url = url::Url::parse(&meta.authorization_endpoint)
        .map_err(|_| AppError::Internal(anyhow::anyhow!("authorization endpoint")))?;
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &provider.client_id)
        .append_pair("redirect_uri", &redirect_uri(&app, &tenant, &provider.id))
        .append_pair("scope", "openid email profile")
        .append_pair("state", &state)
        .append_pair("nonce", &nonce)
        .append_pair("code_challenge", &super::pkce_challenge(&verifier))
        .append_pair("code_challenge_method", "S256");
    let mut r = Redirect::to(url.as_str()).into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(
            FLOW_COOKIE,
            &browser,
            Some(super::FLOW_TTL_MS / 1000),
            app.config.secure_cookies,
        ),
    );
    Ok(r)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CallbackQuery {
    code: String,
    state: String,
    error: String,
    /// RFC 9207: the issuer that answered, when the provider says it.
    iss: String,
}

async fn callback(
    State(app): State<AppState>,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<CallbackQuery>,
) -> AppResult<Response> {
    let (tenant, provider) = match enabled_provider(&app, &ctx, &id).await? {
        Ok(v) => v,
        Err(r) => return Ok(r),
    };
    let p = Some(&provider);
    if q.state.is_empty() || q.state.len() > 128 {
        return fail(&app, &ctx, &tenant, p, Failure::State, None).await;
    }
    // The state is spent first, whatever follows: a callback URL works once.
    let mut tx = app.db.tenant(&tenant.scope()).begin().await?;
    let flow = store::spend_flow(&mut tx, &token_hash(&q.state)).await?;
    tx.commit().await?;
    let browser = cookie(&headers, FLOW_COOKIE).map(token_hash);
    let Some(flow) = flow.filter(|f| {
        f.provider_id == provider.id && browser.as_deref() == Some(f.browser_hash.as_str())
    }) else {
        return fail(&app, &ctx, &tenant, p, Failure::State, None).await;
    };
    // An answer from another issuer (mix-up attack) is refused before its code is used.
    if !q.iss.is_empty() && q.iss != provider.issuer {
        return fail(&app, &ctx, &tenant, p, Failure::Invalid, None).await;
    }
    if !q.error.is_empty() || q.code.is_empty() || q.code.len() > 2048 {
        return fail(&app, &ctx, &tenant, p, Failure::Denied, None).await;
    }
    let claims = match sign_in_claims(&app, &tenant, &provider, &flow, &q.code).await {
        Ok(c) => c,
        Err(f) => return fail(&app, &ctx, &tenant, p, f, None).await,
    };
    let email = claims
        .email
        .as_deref()
        .and_then(crate::text::bounded_email)
        .filter(|e| users::valid_email(e));
    let Some(email) = email else {
        return fail(&app, &ctx, &tenant, p, Failure::Unverified, None).await;
    };
    // Linking by email is only safe when the provider vouches for the address.
    if !claims.email_is_verified() {
        return fail(&app, &ctx, &tenant, p, Failure::Unverified, Some(&email)).await;
    }
    let user = match account(&app, &ctx, &tenant, &provider, &claims, &email).await? {
        Ok(u) => u,
        Err(f) => return fail(&app, &ctx, &tenant, p, f, Some(&email)).await,
    };
    let mut r = if crate::mfa::state(&app.db, &tenant.scope(), &user.id)
        .await?
        .enabled()
    {
        // The provider vouched for the person, not for Portico's second factor.
        crate::mfa::routes::start_challenge(&app, &tenant, &user, &flow.next).await?
    } else {
        let token = start_session(&app, &ctx.ip, &tenant, &user, Audience::Portal, None).await?;
        signed_in_response(
            &app,
            &headers,
            &tenant,
            Audience::Portal,
            &token,
            &flow.next,
        )
        .await?
    };
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(FLOW_COOKIE, "", Some(0), app.config.secure_cookies),
    );
    Ok(r)
}

async fn sign_in_claims(
    app: &AppState,
    tenant: &Tenant,
    provider: &Provider,
    flow: &Flow,
    code: &str,
) -> Result<super::IdClaims, Failure> {
    let meta = super::discover(&provider.issuer).await?;
    let secret = crate::mfa::open(&app.config.secret_key, &provider.client_secret_sealed)
        .and_then(|s| String::from_utf8(s).ok())
        .ok_or(Failure::Exchange)?;
    let id_token = super::exchange(
        &meta,
        &provider.client_id,
        &secret,
        code,
        &redirect_uri(app, tenant, &provider.id),
        &flow.pkce_verifier,
    )
    .await?;
    super::validate(
        &id_token,
        &meta,
        &provider.client_id,
        &flow.nonce,
        crate::identity::now_secs(),
    )
    .await
}

/// The account for a verified email: linked when it exists (same company, usable), created
/// when the provider allows it. One transaction with the audit row.
async fn account(
    app: &AppState,
    ctx: &RequestContext,
    tenant: &Tenant,
    provider: &Provider,
    claims: &super::IdClaims,
    email: &str,
) -> AppResult<Result<User, Failure>> {
    let Some(rule) = provider.rule_for(email) else {
        return Ok(Err(Failure::Domain));
    };
    let scope = tenant.scope();
    if let Some(c) = &rule.company_id {
        match crate::identity::store::company_by_ref(&app.db, &scope, c).await? {
            Some((_, true)) => {}
            _ => return Ok(Err(Failure::AccountRefused)),
        }
    }
    // The provider's subject is the stable identity: a person signed in before is found by it
    // even when their address changed at the provider; else a verified email links the account.
    let subject = Some(claims.sub.as_str()).filter(|s| !s.is_empty() && s.len() <= MAX_SUBJECT);
    let linked = match subject {
        Some(s) => match store::subject_user(&app.db, &scope, &provider.id, s).await? {
            Some(uid) => users::get(&app.db, &scope, &uid).await?,
            None => None,
        },
        None => None,
    };
    let by_subject = linked.is_some();
    let lookup = linked.map_or_else(|| email.to_string(), |u| u.email);
    let existing = users::find_for_login(&app.db, &scope, &lookup).await?;
    let mut tx = app.db.tenant(&scope).begin().await?;
    let (user_id, created) = match existing {
        Some(rec) => {
            let u = rec.user;
            if u.status == UserStatus::Deactivated
                || u.role.kind() == UserKind::Staff
                || u.company_id.as_ref().map(|c| c.as_str()) != rule.company_id.as_deref()
                || !rec.company_active
            {
                return Ok(Err(Failure::AccountRefused));
            }
            if u.status == UserStatus::Invited {
                crate::identity::store::activate(&mut tx, &u.id).await?;
            }
            (u.id, false)
        }
        None if provider.create_users => {
            let name: String = claims
                .name
                .as_deref()
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| email.split('@').next().unwrap_or(email))
                .chars()
                .filter(|c| !c.is_control())
                .take(120)
                .collect();
            let id = users::insert(
                tx.conn(),
                &scope,
                &NewUser {
                    email,
                    name: &name,
                    role: provider.new_user_role,
                    company_id: rule.company_id.as_deref(),
                    status: UserStatus::Active,
                    password_hash: None,
                },
            )
            .await?;
            (id, true)
        }
        None => return Ok(Err(Failure::NoAccount)),
    };
    if let Some(s) = subject {
        store::link_subject(&mut tx, &provider.id, s, user_id.as_str()).await?;
    }
    audit::append(
        &mut tx,
        Entry {
            actor_id: Some(user_id.as_str()),
            actor_email: Some(email),
            company_id: rule.company_id.as_deref(),
            ip: Some(&ctx.ip),
            detail: json!({
                "provider": provider.name,
                "provider_id": provider.id,
                "subject": claims.sub,
                "created": created,
                "found_by": if by_subject { "subject" } else { "email" },
            }),
            ..Entry::new("identity.oidc_signed_in").target("user", user_id.as_str())
        },
    )
    .await?;
    tx.commit().await?;
    let user = users::get(&app.db, &scope, user_id.as_str())
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("oidc user vanished")))?;
    Ok(Ok(user))
}
