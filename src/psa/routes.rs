//! `/admin/integrations/psa` (settings, test connection, sync now, status, failed items and
//! their retry), its JSON API, and the signed inbound webhook
//! `POST /api/v1/integrations/psa/webhook`. Staff actions need `ManageIntegrations` and write
//! an audit row; the PSA is an MSP feature.

use std::collections::BTreeMap;

use aide::axum::routing::{get_with, post_with};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::connector::Connector;
use super::store::{self, Item, Settings};
use super::{CONNECTORS, DEFAULT_INTERVAL_MINUTES, Mapping};
use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::auth::{Actor, Permission, StaffUser};
use crate::error::{AppError, AppResult, FieldError};
use crate::http::context::{Ctx, RequestContext};
use crate::http::{ApiRouter, PageRouter};
use crate::i18n::k;
use crate::tenancy::OrgType;
use crate::tickets::{ALL_PRIORITIES, ALL_STATUSES, Priority, Status};
use crate::web::{FormErrors, PageCtx, render};

/// Name of the webhook signature header (`t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`).
pub const SIGNATURE_HEADER: &str = "x-portico-signature";
const MAX_WEBHOOK_BYTES: usize = 64 * 1024;

/// Staff pages.
pub fn pages() -> PageRouter {
    PageRouter::default()
        .route(
            "/admin/integrations/psa",
            get(settings_page).post(settings_form),
        )
        .route("/admin/integrations/psa/test", post(test_form))
        .route("/admin/integrations/psa/sync", post(sync_form))
        .route("/admin/integrations/psa/items/{id}/retry", post(retry_form))
}

/// JSON API, including the PSA's webhook.
pub fn api() -> ApiRouter {
    ApiRouter::default()
        .route(
            "/api/v1/admin/integrations/psa/status",
            get_with(api_status, |op| {
                op.id("adminPsaStatus").tag("integrations").summary("PSA sync status of the tenant")
                    .description("Needs `manage_integrations`. Last run, last success, the last error with the PSA's message, pending and failed changes.")
            }),
        )
        .route(
            "/api/v1/admin/integrations/psa/sync",
            post_with(api_sync, |op| {
                op.id("adminPsaSyncNow").tag("integrations").summary("Queue a PSA sync run now")
            }),
        )
        .route(
            "/api/v1/admin/integrations/psa/tickets/{number}/conflicts",
            get_with(api_conflicts, |op| {
                op.id("adminPsaTicketConflicts").tag("integrations").summary("Field conflicts the sync resolved on a ticket")
            }),
        )
        .route(
            "/api/v1/integrations/psa/webhook",
            post_with(webhook, |op| {
                op.id("psaWebhook").tag("integrations").summary("The PSA tells Portico something changed")
                    .description("No session. The tenant comes from the host (or `?tenant=`). Signed with the tenant's webhook secret: header `X-Portico-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of \"t.body\">`, at most 5 minutes old. Queues a sync run; answers 202.")
            }),
        )
}

fn actor(staff: &StaffUser) -> AppResult<Actor> {
    if staff.tenant.org_type != OrgType::Msp {
        return Err(AppError::NotFound);
    }
    staff.require(Permission::ManageIntegrations)
}

/// Runs listed in the history.
const RUNS_SHOWN: i64 = 10;

/// Sync status as staff see it.
#[derive(Clone, Debug, Default, Serialize, schemars::JsonSchema)]
pub struct StatusView {
    /// A PSA is configured.
    pub configured: bool,
    /// Sync runs.
    pub enabled: bool,
    /// Connector kind.
    pub connector: String,
    /// Last run started (Unix ms).
    pub last_run_at: Option<i64>,
    /// Last error-free run (Unix ms).
    pub last_success_at: Option<i64>,
    /// The last run's error, with the PSA's message.
    pub last_error: Option<String>,
    /// Local changes waiting to be pushed.
    pub pending: i64,
    /// Local changes the PSA refused repeatedly (staff can retry them).
    pub failed: i64,
    /// The latest finished runs, newest first.
    pub recent_runs: Vec<store::Run>,
}

async fn status_view(app: &AppState, actor: &Actor) -> AppResult<StatusView> {
    let s = store::settings(&app.db, actor.scope()).await?;
    let (pending, failed) = store::counts(&app.db, actor.scope()).await?;
    let recent_runs = store::runs(&app.db, actor.scope(), RUNS_SHOWN).await?;
    Ok(match s {
        Some(s) => StatusView {
            configured: true,
            enabled: s.enabled,
            connector: s.connector,
            last_run_at: s.last_run_at,
            last_success_at: s.last_success_at,
            last_error: s.last_error,
            pending,
            failed,
            recent_runs,
        },
        None => StatusView {
            pending,
            failed,
            recent_runs,
            ..StatusView::default()
        },
    })
}

/// A company choice on the form.
struct CompanyChoice {
    id: String,
    name: String,
    checked: bool,
}

/// A mapping row on the form.
struct MapRow {
    key: &'static str,
    label_key: &'static str,
    value: String,
}

#[derive(askama::Template)]
#[template(path = "psa/templates/settings.html")]
struct SettingsPage {
    page: PageCtx,
    connectors: &'static [&'static str],
    connector: String,
    base_url: String,
    key_set: bool,
    enabled: bool,
    interval: String,
    webhook_secret: Option<String>,
    webhook_url: String,
    companies: Vec<CompanyChoice>,
    statuses: Vec<MapRow>,
    priorities: Vec<MapRow>,
    status: StatusView,
    failed: Vec<Item>,
    errors: FormErrors,
    notice: Option<String>,
}

/// What the settings form posts.
#[derive(Clone, Debug, Default)]
pub struct SettingsInput {
    /// `generic` or `alga`.
    pub connector: String,
    /// API base address.
    pub base_url: String,
    /// New API key; empty keeps the stored one.
    pub api_key: String,
    /// Sync runs.
    pub enabled: bool,
    /// Minutes between runs.
    pub interval_minutes: String,
    /// Companies that sync (empty: all).
    pub companies: Vec<String>,
    /// Portico status → PSA status.
    pub status_map: BTreeMap<String, String>,
    /// Portico priority → PSA priority.
    pub priority_map: BTreeMap<String, String>,
}

async fn render_page(
    app: &AppState,
    ctx: &RequestContext,
    actor: &Actor,
    input: Option<&SettingsInput>,
    notice: Option<String>,
    error: Option<&AppError>,
) -> AppResult<Response> {
    let saved = store::settings(&app.db, actor.scope()).await?;
    let s = saved.clone().unwrap_or_else(|| Settings {
        connector: "generic".into(),
        enabled: true,
        interval_minutes: DEFAULT_INTERVAL_MINUTES,
        mapping: Mapping::with_defaults(BTreeMap::new(), BTreeMap::new()),
        ..Settings::default()
    });
    let chosen: Vec<String> = input
        .map(|i| i.companies.clone())
        .unwrap_or(s.companies.clone());
    let companies = crate::companies::list(&app.db, actor.scope(), None, 500)
        .await?
        .into_iter()
        .map(|c| CompanyChoice {
            checked: chosen.iter().any(|x| x == c.id.as_str()),
            id: c.id.as_str().to_string(),
            name: c.name,
        })
        .collect();
    let status_of = |st: Status| {
        input
            .and_then(|i| i.status_map.get(st.as_str()).cloned())
            .unwrap_or_else(|| s.mapping.status_out(st))
    };
    let priority_of = |p: Priority| {
        input
            .and_then(|i| i.priority_map.get(p.as_str()).cloned())
            .unwrap_or_else(|| s.mapping.priority_out(p))
    };
    let webhook_secret = s
        .webhook_secret_sealed
        .as_deref()
        .and_then(|w| crate::mfa::open(&app.config.secret_key, w))
        .and_then(|b| String::from_utf8(b).ok());
    let slug = ctx
        .tenant
        .as_ref()
        .map(|t| t.slug.clone())
        .unwrap_or_default();
    let mut r = render(&SettingsPage {
        page: PageCtx::new(ctx),
        connectors: &CONNECTORS,
        connector: input
            .map(|i| i.connector.clone())
            .unwrap_or(s.connector.clone()),
        base_url: input
            .map(|i| i.base_url.clone())
            .unwrap_or(s.base_url.clone()),
        key_set: s.api_key_sealed.is_some(),
        enabled: input.map(|i| i.enabled).unwrap_or(s.enabled),
        interval: input
            .map(|i| i.interval_minutes.clone())
            .unwrap_or(s.interval_minutes.to_string()),
        webhook_secret,
        webhook_url: format!(
            "{}/api/v1/integrations/psa/webhook?tenant={slug}",
            app.config.base_url
        ),
        companies,
        statuses: ALL_STATUSES
            .into_iter()
            .map(|st| MapRow {
                key: st.as_str(),
                label_key: st.label_key_for(true),
                value: status_of(st),
            })
            .collect(),
        priorities: ALL_PRIORITIES
            .into_iter()
            .map(|p| MapRow {
                key: p.as_str(),
                label_key: p.label_key(),
                value: priority_of(p),
            })
            .collect(),
        status: status_view(app, actor).await?,
        failed: store::failed(&app.db, actor.scope(), 50).await?,
        errors: error.map(FormErrors::from).unwrap_or_default(),
        notice,
    })?;
    if let Some(e) = error {
        *r.status_mut() = e.status();
    }
    Ok(r)
}

#[derive(Deserialize, Default)]
struct NoticeQuery {
    notice: Option<String>,
}

fn notice_for(key: Option<&str>) -> Option<String> {
    Some(
        match key? {
            "saved" => k("psa-notice-saved"),
            "sync" => k("psa-notice-sync"),
            "retried" => k("psa-notice-retried"),
            _ => return None,
        }
        .to_string(),
    )
}

async fn settings_page(
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
        None,
        notice_for(q.notice.as_deref()),
        None,
    )
    .await
}

fn parse_form(body: &[u8]) -> SettingsInput {
    let mut i = SettingsInput::default();
    for (key, v) in url::form_urlencoded::parse(body) {
        let v = v.into_owned();
        match key.as_ref() {
            "connector" => i.connector = v,
            "base_url" => i.base_url = v,
            "api_key" => i.api_key = v,
            "enabled" => i.enabled = v == "on" || v == "true",
            "interval_minutes" => i.interval_minutes = v,
            "companies" => i.companies.push(v),
            other => {
                if let Some(s) = other.strip_prefix("status_") {
                    i.status_map.insert(s.to_string(), v);
                } else if let Some(p) = other.strip_prefix("priority_") {
                    i.priority_map.insert(p.to_string(), v);
                }
            }
        }
    }
    i
}

async fn settings_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    body: Bytes,
) -> AppResult<Response> {
    let actor = actor(&staff)?;
    let input = parse_form(&body);
    match save(&app, &actor, &ctx.ip, &input).await {
        Ok(()) => Ok(Redirect::to("/admin/integrations/psa?notice=saved").into_response()),
        Err(e @ AppError::Validation { .. }) => {
            render_page(&app, &ctx, &actor, Some(&input), None, Some(&e)).await
        }
        Err(e) => Err(e),
    }
}

fn check_name(field: String, v: &str, errs: &mut Vec<FieldError>) -> String {
    let v = v.trim();
    if v.is_empty() || v.chars().count() > 60 || !crate::text::clean(v, crate::text::Lines::Single)
    {
        errs.push(FieldError {
            field,
            message: k("psa-error-map").into(),
        });
    }
    v.to_string()
}

/// Validates and saves the settings (sealing a new API key; creating the webhook secret on
/// first save), with an audit row.
pub async fn save(app: &AppState, actor: &Actor, ip: &str, i: &SettingsInput) -> AppResult<()> {
    let mut errs = Vec::new();
    if !CONNECTORS.contains(&i.connector.as_str()) {
        errs.push(FieldError {
            field: "connector".into(),
            message: k("psa-error-connector").into(),
        });
    }
    let base = i.base_url.trim().trim_end_matches('/').to_string();
    let base_ok = url::Url::parse(&base)
        .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
    if !base_ok {
        errs.push(FieldError {
            field: "base_url".into(),
            message: k("psa-error-base-url").into(),
        });
    }
    let interval = match i.interval_minutes.trim().parse::<i64>() {
        Ok(n) if (1..=1440).contains(&n) => n,
        _ => {
            errs.push(FieldError {
                field: "interval_minutes".into(),
                message: k("psa-error-interval").into(),
            });
            DEFAULT_INTERVAL_MINUTES
        }
    };
    let old = store::settings(&app.db, actor.scope()).await?;
    let key = i.api_key.trim();
    if key.is_empty()
        && old
            .as_ref()
            .and_then(|o| o.api_key_sealed.as_ref())
            .is_none()
    {
        errs.push(FieldError {
            field: "api_key".into(),
            message: k("psa-error-api-key").into(),
        });
    }
    let mut status = BTreeMap::new();
    for st in ALL_STATUSES {
        let v = i.status_map.get(st.as_str()).cloned().unwrap_or_default();
        let f = format!("status_{}", st.as_str());
        status.insert(st.as_str().to_string(), check_name(f, &v, &mut errs));
    }
    let mut priority = BTreeMap::new();
    for p in ALL_PRIORITIES {
        let v = i.priority_map.get(p.as_str()).cloned().unwrap_or_default();
        let f = format!("priority_{}", p.as_str());
        priority.insert(p.as_str().to_string(), check_name(f, &v, &mut errs));
    }
    if !errs.is_empty() {
        return Err(AppError::fields(errs));
    }
    let known = crate::companies::list(&app.db, actor.scope(), None, 500).await?;
    let companies: Vec<String> = i
        .companies
        .iter()
        .filter(|c| known.iter().any(|k| k.id.as_str() == c.as_str()))
        .cloned()
        .collect();
    let old = old.unwrap_or_default();
    let sealed_key = if key.is_empty() {
        old.api_key_sealed.clone()
    } else {
        Some(crate::mfa::seal(&app.config.secret_key, key.as_bytes()))
    };
    let webhook = old.webhook_secret_sealed.clone().unwrap_or_else(|| {
        let secret = format!("whsec_{}", crate::auth::sessions::random_token());
        crate::mfa::seal(&app.config.secret_key, secret.as_bytes())
    });
    let s = Settings {
        connector: i.connector.clone(),
        base_url: base.clone(),
        api_key_sealed: sealed_key,
        webhook_secret_sealed: Some(webhook),
        enabled: i.enabled,
        interval_minutes: interval,
        companies: companies.clone(),
        mapping: Mapping::with_defaults(status, priority),
        ..old
    };
    let mut tx = app.db.tenant(actor.scope()).begin().await?;
    store::save_settings(&mut tx, &s).await?;
    audit::append(
        &mut tx,
        Entry {
            ip: Some(ip),
            detail: json!({
                "connector": s.connector, "base_url": base, "enabled": s.enabled,
                "interval_minutes": interval, "companies": companies, "key_changed": !key.is_empty()
            }),
            ..Entry::new("psa.settings_saved").by(actor)
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn test_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
) -> AppResult<Response> {
    let actor = actor(&staff)?;
    let s = store::settings(&app.db, actor.scope())
        .await?
        .ok_or_else(|| AppError::Unprocessable(k("psa-error-not-configured").into()))?;
    let outcome = match super::sync::connector_for(&app, &s) {
        Ok(c) => c
            .list_companies()
            .await
            .map(|v| v.len())
            .map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    audit::record(
        &app.db,
        actor.scope(),
        Entry {
            ip: Some(&ctx.ip),
            detail: json!({ "ok": outcome.is_ok(), "error": outcome.as_ref().err() }),
            ..Entry::new("psa.connection_tested").by(&actor)
        },
    )
    .await?;
    let t = PageCtx::new(&ctx).t;
    let notice = match outcome {
        Ok(n) => t.count("psa-test-ok", n as i64),
        Err(e) => t.arg("psa-test-failed", "error", &e),
    };
    render_page(&app, &ctx, &actor, None, Some(notice), None).await
}

/// Queues a sync run now (staff asked), with an audit row.
pub async fn request_sync(app: &AppState, actor: &Actor, ip: &str) -> AppResult<()> {
    let mut tx = app.db.tenant(actor.scope()).begin().await?;
    store::queue_sync(&mut tx).await?;
    audit::append(
        &mut tx,
        Entry {
            ip: Some(ip),
            ..Entry::new("psa.sync_requested").by(actor)
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn sync_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
) -> AppResult<Response> {
    let actor = actor(&staff)?;
    request_sync(&app, &actor, &ctx.ip).await?;
    Ok(Redirect::to("/admin/integrations/psa?notice=sync").into_response())
}

async fn retry_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let actor = actor(&staff)?;
    let mut tx = app.db.tenant(actor.scope()).begin().await?;
    if !store::retry_item(&mut tx, &id).await? {
        return Err(AppError::NotFound);
    }
    store::queue_sync(&mut tx).await?;
    audit::append(
        &mut tx,
        Entry {
            ip: Some(&ctx.ip),
            detail: json!({ "item": id }),
            ..Entry::new("psa.item_retried").by(&actor)
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to("/admin/integrations/psa?notice=retried").into_response())
}

async fn api_status(State(app): State<AppState>, staff: StaffUser) -> AppResult<Json<StatusView>> {
    let actor = actor(&staff)?;
    Ok(Json(status_view(&app, &actor).await?))
}

/// An accepted request.
#[derive(Serialize, schemars::JsonSchema)]
pub struct Accepted {
    /// Always true.
    pub queued: bool,
}

async fn api_sync(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
) -> AppResult<(StatusCode, Json<Accepted>)> {
    let actor = actor(&staff)?;
    request_sync(&app, &actor, &ctx.ip).await?;
    Ok((StatusCode::ACCEPTED, Json(Accepted { queued: true })))
}

#[derive(Deserialize, schemars::JsonSchema)]
struct NumberPath {
    number: i64,
}

async fn api_conflicts(
    State(app): State<AppState>,
    staff: StaffUser,
    Path(p): Path<NumberPath>,
) -> AppResult<Json<Vec<store::Conflict>>> {
    let actor = actor(&staff)?;
    let t = crate::tickets::store::by_number(&app.db, actor.scope(), p.number)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Json(store::conflicts(&app.db, actor.scope(), &t.id).await?))
}

async fn webhook(
    State(app): State<AppState>,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<(StatusCode, Json<Accepted>)> {
    if body.len() > MAX_WEBHOOK_BYTES {
        return Err(AppError::TooLarge);
    }
    let tenant = ctx.tenant.clone().ok_or(AppError::NotFound)?;
    if tenant.org_type != OrgType::Msp {
        return Err(AppError::NotFound);
    }
    let scope = tenant.scope();
    let secret = store::settings(&app.db, &scope)
        .await?
        .filter(|s| s.enabled)
        .and_then(|s| s.webhook_secret_sealed)
        .and_then(|w| crate::mfa::open(&app.config.secret_key, &w))
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or(AppError::NotFound)?;
    let sig = headers
        .get(SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let now = chrono::Utc::now().timestamp();
    if let Err(e) = crate::payments::verify(sig, &body, &secret, now) {
        tracing::warn!(tenant = %tenant.slug, error = %e, "PSA webhook refused");
        return Err(AppError::Unauthorized);
    }
    let mut tx = app.db.tenant(&scope).begin().await?;
    store::queue_sync(&mut tx).await?;
    tx.commit().await?;
    Ok((StatusCode::ACCEPTED, Json(Accepted { queued: true })))
}
