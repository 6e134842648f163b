//! The Hub bar's single sign-on out: opening an app marked for it mints a short-lived token
//! for the signed-in person, signed like the Hub's own tokens, and redirects to the app with
//! it. The token names the app (`aud` is the app's origin, `portico_app` its id), so one app
//! cannot replay it at another that checks its audience, and `/auth/hub` refuses it.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::json;

use super::{HubClaims, store};
use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::auth::{Permission, PortalUser};
use crate::error::{AppError, AppResult};
use crate::http::context::Ctx;

/// How long a token for an app lives: it is for the redirect only.
const APP_TOKEN_SECS: i64 = 60;

/// `GET /portal/hub/{id}`: the app's address, with a token when it takes single sign-on and the
/// tenant has a Hub secret.
pub async fn open(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let actor = user.require(Permission::PortalAccess)?;
    let scope = actor.scope().clone();
    let bar = store::hub_bar(&app.db, &scope).await?;
    let target = bar
        .into_iter()
        .find(|a| a.id == id)
        .ok_or(AppError::NotFound)?;
    let settings = store::settings(&app.db, &scope).await?;
    let secret = super::hub::secret(&app, &settings);
    let (Some(secret), true) = (secret, target.sso) else {
        return Ok(Redirect::to(&target.url).into_response());
    };
    let url = url::Url::parse(&target.url).map_err(|_| AppError::NotFound)?;
    let now = super::now_secs();
    let claims = HubClaims {
        sub: user.user_id.as_str().to_string(),
        email: user.email.clone(),
        name: user.name.clone(),
        tenant: user.tenant.slug.clone(),
        company: user.company_id.as_ref().map(|c| c.as_str().to_string()),
        role: Some(user.role.key().to_string()),
        org_type: Some(user.tenant.org_type.as_str().to_string()),
        exp: now + APP_TOKEN_SECS,
        iat: now,
        nbf: now,
        jti: uuid::Uuid::new_v4().simple().to_string(),
        aud: Some(url.origin().ascii_serialization()),
        iss: Some(app.config.base_url.clone()),
        portico_app: Some(target.id.clone()),
    };
    let token = super::mint(&claims, &secret).map_err(AppError::Internal)?;
    let mut tx = app.db.tenant(&scope).begin().await?;
    audit::append(
        &mut tx,
        Entry {
            ip: Some(&ctx.ip),
            detail: json!({ "app": target.name, "jti": claims.jti }),
            ..Entry::new("identity.hub_app_opened")
                .by(&actor)
                .target("hub_app", &target.id)
        },
    )
    .await?;
    tx.commit().await?;
    let mut out = url;
    out.query_pairs_mut().append_pair("token", &token);
    Ok(Redirect::to(out.as_str()).into_response())
}
