//! `/admin/integrations/identity`: the tenant's Hub secret, token options, passwordless
//! sign-in and the Hub bar. Every change is one transaction with its audit row.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;

use super::store::{self, HubApp, Settings};
use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::auth::{Actor, Permission, StaffUser};
use crate::error::{AppError, AppResult, FieldError};
use crate::http::PageRouter;
use crate::http::context::{Ctx, RequestContext};
use crate::web::{FormErrors, PageCtx, notice, render};

const PATH: &str = "/admin/integrations/identity";

/// Pages.
pub fn pages() -> PageRouter {
    PageRouter::default()
        .route(PATH, get(page).post(settings_form))
        .route(&format!("{PATH}/secret"), post(secret_form))
        .route(&format!("{PATH}/secret/remove"), post(secret_remove))
        .route(&format!("{PATH}/apps"), post(app_add))
        .route(&format!("{PATH}/apps/{{id}}/remove"), post(app_remove))
}

/// Where the Hub secret comes from, as the page shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecretSource {
    /// The tenant's own secret.
    Own,
    /// The public demo secret.
    Demo,
    /// The deployment's `PORTAL_CLIENT_SSO_SECRET`.
    Deployment,
    /// None: Hub sign-in is off.
    None,
}

impl SecretSource {
    /// Catalog key of the status line.
    pub fn key(self) -> &'static str {
        match self {
            SecretSource::Own => "identity-secret-own",
            SecretSource::Demo => "identity-secret-demo",
            SecretSource::Deployment => "identity-secret-deployment",
            SecretSource::None => "identity-secret-none",
        }
    }
}

#[derive(askama::Template)]
#[template(path = "identity/templates/admin.html")]
struct AdminPage {
    page: PageCtx,
    settings: Settings,
    source: SecretSource,
    apps: Vec<HubApp>,
    notice: Option<&'static str>,
    errors: FormErrors,
    app_form: AppBody,
    hub_url: String,
}

fn actor(staff: &StaffUser) -> AppResult<Actor> {
    staff.require(Permission::ManageIntegrations)
}

async fn render_page(
    app: &AppState,
    ctx: &RequestContext,
    actor: &Actor,
    notice_key: Option<&str>,
    err: Option<&AppError>,
    app_form: AppBody,
) -> AppResult<Response> {
    let settings = store::settings(&app.db, actor.scope()).await?;
    let source = match settings.hub_secret_sealed.as_deref() {
        Some(super::demo::DEMO_MARKER) => SecretSource::Demo,
        Some(_) => SecretSource::Own,
        None if app.config.hub_sso_secret.is_some() => SecretSource::Deployment,
        None => SecretSource::None,
    };
    let slug = ctx
        .tenant
        .as_ref()
        .map(|t| t.slug.clone())
        .unwrap_or_default();
    let mut r = render(&AdminPage {
        page: PageCtx::new(ctx),
        source,
        apps: store::apps(&app.db, actor.scope()).await?,
        settings,
        notice: notice(notice_key),
        errors: err.map(FormErrors::from).unwrap_or_default(),
        app_form,
        hub_url: format!("{}/auth/hub?tenant={slug}", app.config.base_url),
    })?;
    if err.is_some() {
        *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(r)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NoticeQuery {
    notice: Option<String>,
}

async fn page(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Query(q): Query<NoticeQuery>,
) -> AppResult<Response> {
    let actor = actor(&staff)?;
    render_page(
        &app,
        &ctx,
        &actor,
        q.notice.as_deref(),
        None,
        AppBody::default(),
    )
    .await
}

fn field(name: &str, key: &str) -> AppError {
    AppError::Validation {
        message: "msg-fix-fields".into(),
        fields: vec![FieldError {
            field: name.into(),
            message: key.into(),
        }],
    }
}

/// The options form.
#[derive(Deserialize, Default)]
#[serde(default)]
struct SettingsBody {
    hub_audience: String,
    hub_issuer: String,
    hub_updates_profile: Option<String>,
    passwordless_link: Option<String>,
    passwordless_code: Option<String>,
    hub_bar_enabled: Option<String>,
}

async fn settings_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    axum::Form(f): axum::Form<SettingsBody>,
) -> AppResult<Response> {
    let actor = actor(&staff)?;
    let before = store::settings(&app.db, actor.scope()).await?;
    let audience = f.hub_audience.trim();
    let issuer = f.hub_issuer.trim();
    for (name, v) in [("hub_audience", audience), ("hub_issuer", issuer)] {
        if v.len() > 200 || v.chars().any(char::is_control) {
            let e = field(name, "identity-error-claim-value");
            return render_page(&app, &ctx, &actor, None, Some(&e), AppBody::default()).await;
        }
    }
    let after = Settings {
        hub_audience: audience.into(),
        hub_issuer: issuer.into(),
        hub_updates_profile: f.hub_updates_profile.is_some(),
        passwordless_link: f.passwordless_link.is_some(),
        passwordless_code: f.passwordless_code.is_some(),
        hub_bar_enabled: f.hub_bar_enabled.is_some(),
        ..before.clone()
    };
    let mut tx = app.db.tenant(actor.scope()).begin().await?;
    store::save(&mut tx, &after).await?;
    audit::append(
        &mut tx,
        Entry {
            ip: Some(&ctx.ip),
            detail: json!({
                "hub_audience": after.hub_audience,
                "hub_issuer": after.hub_issuer,
                "hub_updates_profile": after.hub_updates_profile,
                "passwordless_link": after.passwordless_link,
                "passwordless_code": after.passwordless_code,
                "hub_bar_enabled": after.hub_bar_enabled,
            }),
            ..Entry::new("identity.settings_changed").by(&actor)
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("{PATH}?notice=saved")).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SecretBody {
    secret: String,
}

async fn secret_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    axum::Form(f): axum::Form<SecretBody>,
) -> AppResult<Response> {
    let actor = actor(&staff)?;
    let secret = f.secret.trim();
    if secret.len() < super::MIN_SECRET_LEN || secret.len() > 512 {
        let e = field("secret", "identity-error-secret-length");
        return render_page(&app, &ctx, &actor, None, Some(&e), AppBody::default()).await;
    }
    let mut s = store::settings(&app.db, actor.scope()).await?;
    let rotated = s.hub_secret_sealed.is_some();
    s.hub_secret_sealed = Some(crate::mfa::seal(&app.config.secret_key, secret.as_bytes()));
    let mut tx = app.db.tenant(actor.scope()).begin().await?;
    store::save(&mut tx, &s).await?;
    audit::append(
        &mut tx,
        Entry {
            ip: Some(&ctx.ip),
            detail: json!({ "rotated": rotated }),
            ..Entry::new("identity.hub_secret_set").by(&actor)
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("{PATH}?notice=saved")).into_response())
}

async fn secret_remove(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
) -> AppResult<Response> {
    let actor = actor(&staff)?;
    let mut s = store::settings(&app.db, actor.scope()).await?;
    if s.hub_secret_sealed.take().is_some() {
        let mut tx = app.db.tenant(actor.scope()).begin().await?;
        store::save(&mut tx, &s).await?;
        audit::append(
            &mut tx,
            Entry {
                ip: Some(&ctx.ip),
                ..Entry::new("identity.hub_secret_removed").by(&actor)
            },
        )
        .await?;
        tx.commit().await?;
    }
    Ok(Redirect::to(&format!("{PATH}?notice=saved")).into_response())
}

/// A Hub bar app as the form sends it.
#[derive(Clone, Deserialize, Default)]
#[serde(default)]
struct AppBody {
    name: String,
    url: String,
    icon_url: String,
    sso: Option<String>,
}

/// Links out go to web addresses only (no `javascript:`); plain http only on loopback.
fn web_url(s: &str) -> bool {
    match url::Url::parse(s) {
        Ok(u) => {
            u.scheme() == "https"
                || (u.scheme() == "http" && matches!(u.host_str(), Some("localhost" | "127.0.0.1")))
        }
        Err(_) => false,
    }
}

async fn app_add(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    axum::Form(f): axum::Form<AppBody>,
) -> AppResult<Response> {
    let actor = actor(&staff)?;
    let name = f.name.trim();
    let url = f.url.trim();
    let icon = f.icon_url.trim();
    let mut fields = Vec::new();
    if name.is_empty() || name.chars().count() > 40 || name.chars().any(char::is_control) {
        fields.push(FieldError {
            field: "name".into(),
            message: "identity-error-app-name".into(),
        });
    }
    if url.len() > 500 || !web_url(url) {
        fields.push(FieldError {
            field: "url".into(),
            message: "identity-error-app-url".into(),
        });
    }
    if !icon.is_empty() && (icon.len() > 500 || !web_url(icon)) {
        fields.push(FieldError {
            field: "icon_url".into(),
            message: "identity-error-app-url".into(),
        });
    }
    if store::apps(&app.db, actor.scope()).await?.len() >= 12 {
        fields.push(FieldError {
            field: "name".into(),
            message: "identity-error-app-limit".into(),
        });
    }
    if !fields.is_empty() {
        let e = AppError::Validation {
            message: "msg-fix-fields".into(),
            fields,
        };
        return render_page(&app, &ctx, &actor, None, Some(&e), f).await;
    }
    let mut tx = app.db.tenant(actor.scope()).begin().await?;
    let id = store::add_app(&mut tx, name, url, icon, f.sso.is_some()).await?;
    audit::append(
        &mut tx,
        Entry {
            ip: Some(&ctx.ip),
            detail: json!({ "name": name, "url": url, "sso": f.sso.is_some() }),
            ..Entry::new("identity.hub_app_added")
                .by(&actor)
                .target("hub_app", &id)
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("{PATH}?notice=saved")).into_response())
}

async fn app_remove(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let actor = actor(&staff)?;
    let mut tx = app.db.tenant(actor.scope()).begin().await?;
    let Some(name) = store::remove_app(&mut tx, &id).await? else {
        return Err(AppError::NotFound);
    };
    audit::append(
        &mut tx,
        Entry {
            ip: Some(&ctx.ip),
            detail: json!({ "name": name }),
            ..Entry::new("identity.hub_app_removed")
                .by(&actor)
                .target("hub_app", &id)
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("{PATH}?notice=saved")).into_response())
}
