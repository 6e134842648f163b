//! The Legal integration on the web: staff manage integration keys on
//! `/admin/integrations/legal`; the pushing system calls `POST /api/v1/integrations/legal/policies`
//! with one of them as its bearer token.

use aide::axum::routing::post_with;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::legal::{self, Key, PushBody, PushResult};
use super::routes::Fields;
use crate::app::AppState;
use crate::auth::{Permission, StaffUser};
use crate::error::{AppError, AppResult};
use crate::http::context::{Ctx, RequestContext};
use crate::http::{ApiRouter, PageRouter};
use crate::i18n::k;
use crate::web::{FormErrors, PageCtx, render};

/// Staff pages.
pub fn pages() -> PageRouter {
    PageRouter::default()
        .route(
            "/admin/integrations/legal",
            get(keys_page).merge(post(create_form)),
        )
        .route("/admin/integrations/legal/{id}/rotate", post(rotate_form))
        .route("/admin/integrations/legal/{id}/revoke", post(revoke_form))
}

/// The push API.
pub fn api() -> ApiRouter {
    ApiRouter::default().route(
        "/api/v1/integrations/legal/policies",
        post_with(api_push, |op| {
            op.input::<Json<PushBody>>()
                .security_requirement(crate::http::openapi::INTEGRATION_KEY)
                .id("pushLegalPolicy").tag("documents").summary("Push a policy for signature (Legal integration)")
                .description("Authenticated with an integration key: `Authorization: Bearer plk_…` (created on /admin/integrations/legal). \
                    Signers are `{\"email\": …}` or `{\"company\": id or name}`. Pushing the same `external_id` and `version` again answers \
                    with the same policy and creates nothing; a new `version` supersedes the older one for its pending signers. \
                    With `callback_url`, each completed signature is POSTed there as JSON with an `X-Portico-Signature: t=<unix>,v1=<hex>` \
                    header: HMAC-SHA256 of `<t>.<body>` under the tenant's callback secret. Failed keys are throttled per address (429). \
                    A body that is not JSON is a 400 naming the problem; JSON of the wrong shape (a missing or mistyped field) is a 422 saying what is wrong; \
                    invalid values (empty title, unknown signers, bad due date or callback address) are a 400 with `fields`.")
        }),
    )
}

async fn api_push(
    State(app): State<AppState>,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> AppResult<Json<PushResult>> {
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    // The key first: a caller without one learns nothing about the payload's shape.
    let (tenant, key_id) = legal::authenticate(&app, ctx.tenant.as_ref(), &ctx.ip, auth).await?;
    let b = legal::parse_push(&body)?;
    Ok(Json(
        legal::push(&app, &tenant, &key_id, &ctx.ip, &b).await?,
    ))
}

#[derive(askama::Template)]
#[template(path = "documents/templates/legal_keys.html")]
struct KeysPage {
    page: PageCtx,
    keys: Vec<Key>,
    /// A secret just created: shown on this response only.
    secret: Option<String>,
    callback_secret: String,
    endpoint: String,
    errors: FormErrors,
    key_name: String,
    notice: Option<&'static str>,
}

async fn keys_view(
    app: &AppState,
    ctx: &RequestContext,
    staff: &StaffUser,
    secret: Option<String>,
    errors: FormErrors,
    key_name: String,
    notice: Option<&'static str>,
) -> AppResult<Response> {
    staff.require(Permission::ManageDocuments)?;
    let keys = legal::keys(&app.db, &staff.scope()).await?;
    let failed = !errors.is_empty();
    let mut r = render(&KeysPage {
        page: PageCtx::new(ctx),
        keys,
        secret,
        callback_secret: legal::callback_secret(app, staff.tenant.id.as_str()),
        endpoint: format!("{}/api/v1/integrations/legal/policies", app.config.base_url),
        errors,
        key_name,
        notice,
    })?;
    if failed {
        *r.status_mut() = StatusCode::BAD_REQUEST;
    }
    // The page may carry a secret: never keep it in a cache.
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    Ok(r)
}

/// Notice query.
#[derive(Deserialize, Default)]
struct NoticeQuery {
    #[serde(default)]
    notice: Option<String>,
}

async fn keys_page(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    axum::extract::Query(q): axum::extract::Query<NoticeQuery>,
) -> AppResult<Response> {
    let notice = match q.notice.as_deref() {
        Some("revoked") => Some(k("legal-notice-revoked")),
        _ => None,
    };
    keys_view(
        &app,
        &ctx,
        &staff,
        None,
        FormErrors::default(),
        String::new(),
        notice,
    )
    .await
}

async fn create_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    body: axum::body::Bytes,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageDocuments)?;
    let name = Fields::parse(&body).get("name");
    match legal::create_key(&app, &actor, &ctx.ip, &name).await {
        Ok((_, secret)) => {
            keys_view(
                &app,
                &ctx,
                &staff,
                Some(secret),
                FormErrors::default(),
                String::new(),
                Some(k("legal-notice-created")),
            )
            .await
        }
        Err(AppError::Validation { fields, .. }) => {
            keys_view(&app, &ctx, &staff, None, FormErrors(fields), name, None).await
        }
        Err(e) => Err(e),
    }
}

async fn rotate_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageDocuments)?;
    let (_, secret) = legal::rotate_key(&app, &actor, &ctx.ip, &id).await?;
    keys_view(
        &app,
        &ctx,
        &staff,
        Some(secret),
        FormErrors::default(),
        String::new(),
        Some(k("legal-notice-rotated")),
    )
    .await
}

async fn revoke_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageDocuments)?;
    legal::revoke_key(&app, &actor, &ctx.ip, &id).await?;
    Ok(Redirect::to("/admin/integrations/legal?notice=revoked").into_response())
}
