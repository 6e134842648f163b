//! The sign-in JSON API: login, logout and the signed-in user (`/api/v1/me`).

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::*;
use crate::app::AppState;
use crate::auth::{Audience, PortalUser, Principal, StaffUser, UserId, sessions};
use crate::error::{AppError, AppResult};
use crate::http::context::{Ctx, set_cookie};
use crate::tenancy::OrgType;
use crate::web::NavItem;

#[derive(Deserialize, schemars::JsonSchema)]
pub(super) struct ApiLogin {
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
    role: crate::auth::Role,
    audience: Audience,
    permissions: Vec<crate::auth::Permission>,
    navigation: Vec<NavItem>,
    /// The companies the person belongs to (client users), with the active one marked.
    memberships: Vec<crate::users::memberships::Membership>,
    csrf_token: String,
}

#[derive(Serialize, schemars::JsonSchema)]
pub(super) struct MeUser {
    id: UserId,
    email: String,
    name: String,
    company_id: Option<crate::companies::CompanyId>,
    company_name: Option<String>,
}

#[derive(Serialize, schemars::JsonSchema)]
pub(super) struct MeTenant {
    slug: String,
    name: String,
    portal_name: String,
}

/// The signed-in user with their memberships (read for client users only).
pub(super) async fn me_with_memberships(
    app: &AppState,
    p: &Principal,
    csrf: String,
) -> AppResult<Me> {
    let mut me = me_of(p, csrf);
    if p.role.kind() == crate::auth::UserKind::Client {
        me.memberships = crate::users::memberships::of_user(
            &app.db,
            &p.scope(),
            &p.user_id,
            p.company_id.as_ref(),
        )
        .await?;
    }
    Ok(me)
}

pub(super) fn me_of(p: &Principal, csrf: String) -> Me {
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
        memberships: Vec::new(),
        csrf_token: csrf,
    }
}

pub(super) async fn api_login(
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
    let mut r = Json(me_with_memberships(&app, &principal, csrf).await?).into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(audience.cookie(), &token, None, app.config.secure_cookies),
    );
    Ok(r)
}

pub(super) fn unauthorized_with(e: AppError) -> AppError {
    // Wrong credentials are a 401 on the API, with the same generic message as the page.
    match e {
        AppError::Validation { .. } => AppError::Unauthorized,
        other => other,
    }
}

pub(super) async fn api_logout(State(app): State<AppState>, Ctx(ctx): Ctx) -> AppResult<Response> {
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

pub(super) async fn api_me(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
) -> AppResult<Json<Me>> {
    Ok(Json(
        me_with_memberships(&app, &user, ctx.csrf_token.clone()).await?,
    ))
}

pub(super) async fn api_admin_me(user: StaffUser, Ctx(ctx): Ctx) -> Json<Me> {
    Json(me_of(&user, ctx.csrf_token.clone()))
}
