//! Per-tenant assistant settings (`/admin/assistant` and `/api/v1/admin/assistant/settings`):
//! on/off, built-in or model, the model's address, name and sealed key, the monthly token
//! budget, extra instructions and which actions the assistant may propose. Without a saved row
//! the deployment's configuration (`PORTICO_ASSISTANT_MODEL_*`) applies.

use aide::axum::routing::get_with;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::service::{self, MessageView};
use super::store::{self, Conversation};
use super::{ActionKind, SourceKind};
use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::auth::{Actor, Permission, StaffUser};
use crate::config::AssistantModel;
use crate::db::{Db, DbResult, Row, TenantTx, flag, now_ms};
use crate::error::{AppError, AppResult, FieldError};
use crate::http::context::Ctx;
use crate::http::{ApiRouter, PageRouter};
use crate::tenancy::TenantScope;
use crate::web::{FormErrors, PageCtx, render};

/// Longest extra instructions, in characters.
const MAX_INSTRUCTIONS: usize = 2_000;
/// Longest greeting, in characters.
const MAX_GREETING: usize = 300;
/// Default model name when neither the tenant nor the deployment names one.
const DEFAULT_MODEL: &str = "gpt-4o-mini";

/// A tenant's saved assistant settings.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// The widget is shown and answers.
    pub enabled: bool,
    /// `builtin` (never a model) or `model`.
    pub mode: String,
    /// The tenant's own endpoint (empty: the deployment's).
    pub model_url: String,
    /// The tenant's model name (empty: the deployment's).
    pub model_name: String,
    /// The tenant's key, sealed with the server key.
    pub api_key_sealed: Option<String>,
    /// The tenant's monthly token budget (`None`: the deployment's).
    pub monthly_tokens: Option<i64>,
    /// Tone and extra instructions added to the model's system prompt.
    pub instructions: String,
    /// Actions the assistant may propose.
    pub actions: Vec<ActionKind>,
    /// The widget's greeting (empty: the translated default).
    pub greeting: String,
    /// Where answers may come from.
    pub sources: Vec<SourceKind>,
    /// The staff member escalations are assigned to (`None`: the team's queue, unassigned).
    pub escalate_to: Option<String>,
}

impl Settings {
    /// What applies before staff save anything: on, a model when the deployment has one.
    pub fn defaults(deployment: Option<&AssistantModel>) -> Settings {
        Settings {
            enabled: true,
            mode: if deployment.is_some() {
                "model".into()
            } else {
                "builtin".into()
            },
            model_url: String::new(),
            model_name: String::new(),
            api_key_sealed: None,
            monthly_tokens: None,
            instructions: String::new(),
            actions: ActionKind::ALL.to_vec(),
            greeting: String::new(),
            sources: SourceKind::ALL.to_vec(),
            escalate_to: None,
        }
    }
}

/// The settings in force for one question: the tenant's over the deployment's.
#[derive(Clone, Debug)]
pub struct Effective {
    /// The widget answers at all.
    pub enabled: bool,
    /// The model to ask, if any.
    pub model: Option<AssistantModel>,
    /// Extra instructions for the model.
    pub instructions: String,
    /// Actions that may be proposed and confirmed.
    pub actions: Vec<ActionKind>,
    /// Where answers may come from.
    pub sources: Vec<SourceKind>,
    /// The staff member escalations are assigned to.
    pub escalate_to: Option<String>,
}

impl Effective {
    /// Whether `kind` may be proposed and confirmed.
    pub fn allows(&self, kind: ActionKind) -> bool {
        self.actions.contains(&kind)
    }

    /// Whether answers may come from `source`.
    pub fn uses(&self, source: SourceKind) -> bool {
        self.sources.contains(&source)
    }
}

/// Reads the tenant's saved settings, if any.
pub async fn load(db: &Db, scope: &TenantScope) -> DbResult<Option<Settings>> {
    let row = sqlx::query(
        "SELECT enabled, mode, model_url, model_name, api_key_sealed, monthly_tokens, instructions, actions, \
         greeting, sources, escalate_to FROM assistant_settings WHERE tenant_id = $1",
    )
    .bind(scope.tenant_id().as_str())
    .fetch_optional(db.tenant(scope).reader())
    .await?;
    let Some(r) = row else { return Ok(None) };
    let actions: String = r.try_get("actions")?;
    let sources: String = r.try_get("sources")?;
    Ok(Some(Settings {
        enabled: flag(&r, "enabled")?,
        mode: r.try_get("mode")?,
        model_url: r.try_get("model_url")?,
        model_name: r.try_get("model_name")?,
        api_key_sealed: r.try_get("api_key_sealed")?,
        monthly_tokens: r.try_get("monthly_tokens")?,
        instructions: r.try_get("instructions")?,
        actions: actions.split(',').filter_map(ActionKind::parse).collect(),
        greeting: r.try_get("greeting")?,
        sources: sources.split(',').filter_map(SourceKind::parse).collect(),
        escalate_to: r.try_get("escalate_to")?,
    }))
}

/// The saved settings, or the defaults.
pub async fn current(app: &AppState, scope: &TenantScope) -> DbResult<Settings> {
    Ok(load(&app.db, scope)
        .await?
        .unwrap_or_else(|| Settings::defaults(app.config.assistant_model.as_ref())))
}

/// Combines saved settings with the deployment's model. The deployment's key is only ever
/// sent to the deployment's own endpoint, never to an address a tenant typed.
pub fn combine(s: &Settings, deployment: Option<&AssistantModel>, server_key: &[u8]) -> Effective {
    let own_key = s
        .api_key_sealed
        .as_deref()
        .and_then(|k| crate::mfa::open(server_key, k))
        .and_then(|k| String::from_utf8(k).ok());
    let model = if s.mode != "model" {
        None
    } else if !s.model_url.is_empty() {
        Some(AssistantModel {
            base_url: s.model_url.clone(),
            model: non_empty(&s.model_name)
                .or(deployment.map(|d| d.model.clone()))
                .unwrap_or_else(|| DEFAULT_MODEL.into()),
            api_key: own_key,
            monthly_tokens: s
                .monthly_tokens
                .or(deployment.map(|d| d.monthly_tokens))
                .unwrap_or(1_000_000),
        })
    } else {
        deployment.map(|d| AssistantModel {
            base_url: d.base_url.clone(),
            model: non_empty(&s.model_name).unwrap_or_else(|| d.model.clone()),
            api_key: own_key.or(d.api_key.clone()),
            monthly_tokens: s.monthly_tokens.unwrap_or(d.monthly_tokens),
        })
    };
    Effective {
        enabled: s.enabled,
        model,
        instructions: s.instructions.clone(),
        actions: s.actions.clone(),
        sources: s.sources.clone(),
        escalate_to: s.escalate_to.clone(),
    }
}

fn non_empty(s: &str) -> Option<String> {
    (!s.trim().is_empty()).then(|| s.trim().to_string())
}

/// The settings in force for the tenant.
pub async fn effective(app: &AppState, scope: &TenantScope) -> DbResult<Effective> {
    let s = current(app, scope).await?;
    Ok(combine(
        &s,
        app.config.assistant_model.as_ref(),
        &app.config.secret_key,
    ))
}

async fn save_in(tx: &mut TenantTx, s: &Settings) -> DbResult<()> {
    let tenant = tx.tenant_id().to_string();
    let actions: Vec<&str> = s.actions.iter().map(|a| a.as_str()).collect();
    let sources: Vec<&str> = s.sources.iter().map(|a| a.as_str()).collect();
    sqlx::query(
        "INSERT INTO assistant_settings (tenant_id, enabled, mode, model_url, model_name, api_key_sealed, monthly_tokens, instructions, actions, updated_at, greeting, sources, escalate_to) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
         ON CONFLICT (tenant_id) DO UPDATE SET enabled = $2, mode = $3, model_url = $4, model_name = $5, \
         api_key_sealed = $6, monthly_tokens = $7, instructions = $8, actions = $9, updated_at = $10, \
         greeting = $11, sources = $12, escalate_to = $13",
    )
    .bind(&tenant)
    .bind(i64::from(s.enabled))
    .bind(&s.mode)
    .bind(&s.model_url)
    .bind(&s.model_name)
    .bind(&s.api_key_sealed)
    .bind(s.monthly_tokens)
    .bind(&s.instructions)
    .bind(actions.join(","))
    .bind(now_ms())
    .bind(&s.greeting)
    .bind(sources.join(","))
    .bind(&s.escalate_to)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Settings as staff send them (form or JSON). An empty `api_key` keeps the stored key.
#[derive(Clone, Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsInput {
    /// The widget is shown and answers.
    #[serde(default)]
    pub enabled: bool,
    /// `builtin` or `model`.
    #[serde(default)]
    pub mode: String,
    /// The tenant's own endpoint before `/chat/completions` (https; empty: the deployment's).
    #[serde(default)]
    pub model_url: String,
    /// Model name (empty: the deployment's).
    #[serde(default)]
    pub model_name: String,
    /// A new key; empty keeps the stored one.
    #[serde(default)]
    pub api_key: String,
    /// Remove the stored key.
    #[serde(default)]
    pub clear_api_key: bool,
    /// Monthly token budget (empty: the deployment's).
    #[serde(default)]
    pub monthly_tokens: Option<i64>,
    /// Tone and extra instructions for the model.
    #[serde(default)]
    pub instructions: String,
    /// Allowed actions (`create_ticket`, `comment`, `escalate`, `request_item`,
    /// `register_event`).
    #[serde(default)]
    pub actions: Vec<String>,
    /// The widget's greeting (empty: the translated default).
    #[serde(default)]
    pub greeting: String,
    /// Where answers may come from (`articles`, `tickets`, `announcements`, `catalog`,
    /// `events`; absent: unchanged).
    #[serde(default)]
    pub sources: Option<Vec<String>>,
    /// Id of the staff member escalations are assigned to (empty: unassigned).
    #[serde(default)]
    pub escalate_to: String,
}

fn err(field: &str, key: &str) -> FieldError {
    FieldError {
        field: field.into(),
        message: key.into(),
    }
}

/// A model address: https, or http on this machine (a local model, tests).
fn check_url(s: &str) -> Result<String, FieldError> {
    let s = s.trim().trim_end_matches('/');
    if s.is_empty() {
        return Ok(String::new());
    }
    let u = url::Url::parse(s).map_err(|_| err("model_url", "assistant-error-model-url"))?;
    let loopback = matches!(u.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    if (u.scheme() == "https" || (u.scheme() == "http" && loopback))
        && s.len() <= 500
        && u.username().is_empty()
        && u.password().is_none()
    {
        Ok(s.to_string())
    } else {
        Err(err("model_url", "assistant-error-model-url"))
    }
}

/// Checks input against the stored settings; every problem at once.
pub fn check(
    f: &SettingsInput,
    current: &Settings,
    deployment: Option<&AssistantModel>,
    server_key: &[u8],
) -> Result<Settings, Vec<FieldError>> {
    let mut errs = Vec::new();
    let mode = match f.mode.as_str() {
        "model" => "model",
        "builtin" | "" => "builtin",
        _ => {
            errs.push(err("mode", "assistant-error-mode"));
            "builtin"
        }
    };
    let model_url = check_url(&f.model_url).unwrap_or_else(|e| {
        errs.push(e);
        String::new()
    });
    let model_name = f.model_name.trim().to_string();
    if model_name.chars().count() > 100 || model_name.chars().any(char::is_control) {
        errs.push(err("model_name", "assistant-error-model-name"));
    }
    let monthly_tokens = match f.monthly_tokens {
        Some(n) if !(0..=1_000_000_000_000).contains(&n) => {
            errs.push(err("monthly_tokens", "assistant-error-budget"));
            None
        }
        other => other,
    };
    let instructions =
        match crate::text::multi_line("instructions", f.instructions.trim(), MAX_INSTRUCTIONS) {
            Ok(v) => v,
            Err(e) => {
                errs.push(e);
                String::new()
            }
        };
    let mut actions = Vec::new();
    for a in &f.actions {
        match ActionKind::parse(a) {
            Some(k) if !actions.contains(&k) => actions.push(k),
            Some(_) => {}
            None => errs.push(err("actions", "assistant-error-action")),
        }
    }
    let greeting = match crate::text::single_line("greeting", f.greeting.trim(), MAX_GREETING) {
        Ok(v) => v,
        Err(e) => {
            errs.push(e);
            String::new()
        }
    };
    let mut sources = Vec::new();
    for a in f.sources.as_deref().unwrap_or_default() {
        match SourceKind::parse(a) {
            Some(k) if !sources.contains(&k) => sources.push(k),
            Some(_) => {}
            None => errs.push(err("sources", "assistant-error-source")),
        }
    }
    if f.sources.is_none() {
        sources = current.sources.clone();
    }
    let escalate_to = non_empty(&f.escalate_to);
    let mut api_key_sealed = if f.clear_api_key {
        None
    } else {
        current.api_key_sealed.clone()
    };
    let key = f.api_key.trim();
    if !key.is_empty() {
        if key.len() > 500 || key.chars().any(|c| c.is_control() || c.is_whitespace()) {
            errs.push(err("api_key", "assistant-error-key"));
        } else {
            api_key_sealed = Some(crate::mfa::seal(server_key, key.as_bytes()));
        }
    }
    // A tenant's own address with the stored key of another address would leak that key: a
    // changed address needs its key again.
    if !model_url.is_empty()
        && model_url != current.model_url
        && key.is_empty()
        && api_key_sealed.is_some()
    {
        api_key_sealed = None;
    }
    if mode == "model" && model_url.is_empty() && deployment.is_none() {
        errs.push(err("model_url", "assistant-error-model-needed"));
    }
    if !errs.is_empty() {
        return Err(errs);
    }
    Ok(Settings {
        enabled: f.enabled,
        mode: mode.into(),
        model_url,
        model_name,
        api_key_sealed,
        monthly_tokens,
        instructions,
        actions,
        greeting,
        sources,
        escalate_to,
    })
}

/// Escalations go to an active staff member of this tenant, or to nobody in particular.
fn check_escalate_to(
    staff: &[crate::tickets::store::Pick],
    s: &Settings,
) -> Result<(), FieldError> {
    match &s.escalate_to {
        Some(id) if !staff.iter().any(|p| &p.id == id) => {
            Err(err("escalate_to", "assistant-error-escalate-to"))
        }
        _ => Ok(()),
    }
}

async fn staff_of(
    app: &AppState,
    scope: &TenantScope,
) -> DbResult<Vec<crate::tickets::store::Pick>> {
    crate::tickets::store::users_of_kind(&app.db, scope, "staff", None).await
}

async fn save(app: &AppState, actor: &Actor, ip: &str, s: &Settings) -> AppResult<()> {
    let mut tx = app.db.tenant(actor.scope()).begin().await?;
    save_in(&mut tx, s).await?;
    let actions: Vec<&str> = s.actions.iter().map(|a| a.as_str()).collect();
    audit::append(
        &mut tx,
        Entry {
            ip: Some(ip),
            // Never the key itself: only whether one is stored.
            detail: json!({ "enabled": s.enabled, "mode": s.mode, "model_url": s.model_url,
                "model_name": s.model_name, "key_set": s.api_key_sealed.is_some(),
                "monthly_tokens": s.monthly_tokens, "actions": actions, "greeting": s.greeting,
                "sources": s.sources, "escalate_to": s.escalate_to }),
            ..Entry::new("assistant.settings_changed").by(actor)
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Settings as staff read them (the key is never shown, only whether one is stored).
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct SettingsView {
    /// The widget is shown and answers.
    pub enabled: bool,
    /// `builtin` or `model`.
    pub mode: String,
    /// The tenant's own endpoint (empty: the deployment's).
    pub model_url: String,
    /// The tenant's model name (empty: the deployment's).
    pub model_name: String,
    /// The tenant has its own key stored.
    pub api_key_set: bool,
    /// The tenant's budget (`null`: the deployment's).
    pub monthly_tokens: Option<i64>,
    /// Tone and extra instructions.
    pub instructions: String,
    /// Allowed actions.
    pub actions: Vec<ActionKind>,
    /// The widget's greeting (empty: the translated default).
    pub greeting: String,
    /// Where answers may come from.
    pub sources: Vec<SourceKind>,
    /// Id of the staff member escalations are assigned to (`null`: unassigned).
    pub escalate_to: Option<String>,
    /// The deployment configures a model (the default for an empty address).
    pub deployment_model: bool,
    /// What applies now: the model's name, or `null` for the built-in assistant.
    pub effective_model: Option<String>,
    /// What applies now: the monthly token budget (0 without a model).
    pub effective_monthly_tokens: i64,
}

fn view_of(app: &AppState, s: &Settings) -> SettingsView {
    let e = combine(
        s,
        app.config.assistant_model.as_ref(),
        &app.config.secret_key,
    );
    SettingsView {
        enabled: s.enabled,
        mode: s.mode.clone(),
        model_url: s.model_url.clone(),
        model_name: s.model_name.clone(),
        api_key_set: s.api_key_sealed.is_some(),
        monthly_tokens: s.monthly_tokens,
        instructions: s.instructions.clone(),
        actions: s.actions.clone(),
        greeting: s.greeting.clone(),
        sources: s.sources.clone(),
        escalate_to: s.escalate_to.clone(),
        deployment_model: app.config.assistant_model.is_some(),
        effective_model: e.model.as_ref().map(|m| m.model.clone()),
        effective_monthly_tokens: e.model.as_ref().map(|m| m.monthly_tokens).unwrap_or(0),
    }
}

/// This month's use (UTC calendar month).
#[derive(Clone, Debug, Default, Serialize, schemars::JsonSchema)]
pub struct MonthUsage {
    /// Questions asked.
    pub questions: i64,
    /// Answered by the model.
    pub model_answers: i64,
    /// Answered by the built-in assistant because the model failed or the budget was spent.
    pub fallbacks: i64,
    /// Model tokens used.
    pub tokens: i64,
}

/// The tenant's use this month.
pub async fn month_usage(db: &Db, scope: &TenantScope) -> DbResult<MonthUsage> {
    let (questions, model_answers, tokens, fallbacks) =
        store::usage_since(db, scope, service::month_start(now_ms())).await?;
    Ok(MonthUsage {
        questions,
        model_answers,
        fallbacks,
        tokens,
    })
}

/// JSON API.
pub fn api() -> ApiRouter {
    ApiRouter::default().route(
        "/api/v1/admin/assistant/settings",
        get_with(api_get, |op| {
            op.id("getAssistantSettings")
                .tag("assistant")
                .summary("The tenant's assistant settings (the key is never shown)")
                .description("Needs `manage_integrations`.")
        })
        .put_with(api_put, |op| {
            op.id("putAssistantSettings")
                .tag("assistant")
                .summary("Save the tenant's assistant settings")
                .description("An empty `api_key` keeps the stored key (unless `model_url` changes); the key is stored sealed with the server key. A `model_url` must be https.")
        }),
    )
}

/// Staff pages.
pub fn pages() -> PageRouter {
    PageRouter::default().route("/admin/assistant", get(page).post(form))
}

async fn api_get(State(app): State<AppState>, staff: StaffUser) -> AppResult<Json<SettingsView>> {
    let actor = staff.require(Permission::ManageIntegrations)?;
    let s = current(&app, actor.scope()).await?;
    Ok(Json(view_of(&app, &s)))
}

async fn api_put(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Json(f): Json<SettingsInput>,
) -> AppResult<Json<SettingsView>> {
    let actor = staff.require(Permission::ManageIntegrations)?;
    let cur = current(&app, actor.scope()).await?;
    let s = check(
        &f,
        &cur,
        app.config.assistant_model.as_ref(),
        &app.config.secret_key,
    )
    .map_err(AppError::fields)?;
    let staff = staff_of(&app, actor.scope()).await?;
    check_escalate_to(&staff, &s).map_err(|e| AppError::fields(vec![e]))?;
    save(&app, &actor, &ctx.ip, &s).await?;
    Ok(Json(view_of(&app, &s)))
}

/// An escalated conversation with its transcript, on the page.
struct Transcript {
    conversation: Conversation,
    user_name: String,
    messages: Vec<MessageView>,
}

#[derive(askama::Template)]
#[template(path = "assistant/templates/admin.html")]
struct AdminPage {
    page: PageCtx,
    s: SettingsView,
    errors: FormErrors,
    saved: bool,
    usage: MonthUsage,
    conversations: Vec<Transcript>,
    /// The link to the next, older page of escalations, when there is one.
    older: Option<String>,
    /// Showing an older page of the queue (offers the way back to the newest).
    paged: bool,
    all_actions: Vec<(&'static str, &'static str, bool)>,
    all_sources: Vec<(&'static str, &'static str, bool)>,
    staff: Vec<crate::tickets::store::Pick>,
}

#[derive(Deserialize, Default)]
struct Notice {
    notice: Option<String>,
    /// The escalation queue's cursor (older escalations).
    older: Option<String>,
}

/// Escalated conversations per page of the queue (staff see no others: those are the users' own).
const RECENT: i64 = 10;

async fn render_page(
    app: &AppState,
    actor: &Actor,
    ctx: &crate::http::context::RequestContext,
    s: SettingsView,
    errors: FormErrors,
    saved: bool,
    older: Option<&str>,
) -> AppResult<Response> {
    let scope = actor.scope();
    let usage = month_usage(&app.db, scope).await?;
    let paged = older.is_some();
    let after = older.and_then(store::parse_cursor);
    let mut rows = store::escalations(
        &app.db,
        scope,
        after.as_ref().map(|(t, i)| (*t, i.as_str())),
        RECENT + 1,
    )
    .await?;
    let older = if rows.len() as i64 > RECENT {
        rows.truncate(RECENT as usize);
        rows.last().map(|(c, _)| {
            format!(
                "/admin/assistant?older={}#as-conv-h",
                url::form_urlencoded::byte_serialize(store::cursor_of(c).as_bytes())
                    .collect::<String>()
            )
        })
    } else {
        None
    };
    // The page's transcripts are independent reads: side by side, not one after another.
    let conversations = futures::future::try_join_all(rows.into_iter().map(
        |(conversation, user_name)| async move {
            let messages = store::messages(&app.db, scope, &conversation.id)
                .await?
                .iter()
                .map(service::view)
                .collect();
            Ok::<_, AppError>(Transcript {
                conversation,
                user_name,
                messages,
            })
        },
    ))
    .await?;
    let all_actions = ActionKind::ALL
        .iter()
        .map(|a| (a.as_str(), a.label_key(), s.actions.contains(a)))
        .collect();
    let all_sources = SourceKind::ALL
        .iter()
        .map(|a| (a.as_str(), a.label_key(), s.sources.contains(a)))
        .collect();
    let staff = staff_of(app, scope).await?;
    render(&AdminPage {
        page: PageCtx::new(ctx),
        s,
        errors,
        saved,
        usage,
        conversations,
        older,
        paged,
        all_actions,
        all_sources,
        staff,
    })
}

async fn page(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Query(q): Query<Notice>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageIntegrations)?;
    let s = current(&app, actor.scope()).await?;
    render_page(
        &app,
        &actor,
        &ctx,
        view_of(&app, &s),
        FormErrors::default(),
        q.notice.as_deref() == Some("saved"),
        q.older.as_deref(),
    )
    .await
}

/// The HTML form: checkboxes arrive as repeated keys, so it is read as pairs.
async fn form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageIntegrations)?;
    // Unticking every source is a choice too: the form always sends its sources.
    let mut f = SettingsInput {
        sources: Some(Vec::new()),
        ..SettingsInput::default()
    };
    let mut budget = String::new();
    for (k, v) in pairs {
        match k.as_str() {
            "enabled" => f.enabled = true,
            "mode" => f.mode = v,
            "model_url" => f.model_url = v,
            "model_name" => f.model_name = v,
            "api_key" => f.api_key = v,
            "clear_api_key" => f.clear_api_key = true,
            "monthly_tokens" => budget = v,
            "instructions" => f.instructions = v,
            "actions" => f.actions.push(v),
            "greeting" => f.greeting = v,
            "sources" => f.sources.get_or_insert_default().push(v),
            "escalate_to" => f.escalate_to = v,
            _ => {}
        }
    }
    let mut errs = Vec::new();
    let budget = budget.trim().replace([',', '_', ' '], "");
    if !budget.is_empty() {
        match budget.parse::<i64>() {
            Ok(n) => f.monthly_tokens = Some(n),
            Err(_) => errs.push(err("monthly_tokens", "assistant-error-budget")),
        }
    }
    let cur = current(&app, actor.scope()).await?;
    let checked = check(
        &f,
        &cur,
        app.config.assistant_model.as_ref(),
        &app.config.secret_key,
    );
    if let Ok(s) = &checked {
        let staff = staff_of(&app, actor.scope()).await?;
        if let Err(e) = check_escalate_to(&staff, s) {
            errs.push(e);
        }
    }
    match checked {
        Ok(s) if errs.is_empty() => {
            save(&app, &actor, &ctx.ip, &s).await?;
            Ok(Redirect::to("/admin/assistant?notice=saved").into_response())
        }
        other => {
            if let Err(e) = other {
                errs.extend(e);
            }
            let mut v = view_of(&app, &cur);
            v.enabled = f.enabled;
            v.mode = if f.mode == "model" {
                "model".into()
            } else {
                "builtin".into()
            };
            v.model_url = f.model_url;
            v.model_name = f.model_name;
            v.monthly_tokens = f.monthly_tokens;
            v.instructions = f.instructions;
            v.actions = f
                .actions
                .iter()
                .filter_map(|a| ActionKind::parse(a))
                .collect();
            v.greeting = f.greeting;
            v.sources = f
                .sources
                .iter()
                .flatten()
                .filter_map(|a| SourceKind::parse(a))
                .collect();
            v.escalate_to = non_empty(&f.escalate_to);
            let mut r = render_page(&app, &actor, &ctx, v, FormErrors(errs), false, None).await?;
            *r.status_mut() = StatusCode::BAD_REQUEST;
            Ok(r)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployment() -> AssistantModel {
        AssistantModel {
            base_url: "https://models.example/v1".into(),
            model: "dep-model".into(),
            api_key: Some("dep-key".into()),
            monthly_tokens: 500,
        }
    }

    #[test]
    fn tenant_overrides_and_never_leaks_the_deployment_key() {
        let key = [7u8; 32];
        let d = deployment();
        let mut s = Settings::defaults(Some(&d));
        let e = combine(&s, Some(&d), &key);
        assert_eq!(
            e.model.as_ref().map(|m| m.model.as_str()),
            Some("dep-model")
        );
        s.model_url = "https://tenant.example/v1".into();
        let e = combine(&s, Some(&d), &key);
        let m = e.model.expect("model");
        assert_eq!(m.base_url, "https://tenant.example/v1");
        assert_eq!(m.api_key, None, "the deployment's key goes nowhere else");
        assert_eq!(m.monthly_tokens, 500);
        s.api_key_sealed = Some(crate::mfa::seal(&key, b"tenant-key"));
        s.monthly_tokens = Some(9);
        let m = combine(&s, Some(&d), &key).model.expect("model");
        assert_eq!(m.api_key.as_deref(), Some("tenant-key"));
        assert_eq!(m.monthly_tokens, 9);
        s.mode = "builtin".into();
        assert!(combine(&s, Some(&d), &key).model.is_none());
        assert!(Settings::defaults(None).mode == "builtin");
    }

    #[test]
    fn checks_addresses() {
        assert!(check_url("http://10.0.0.1/v1").is_err());
        assert!(check_url("ftp://x.example").is_err());
        assert!(check_url("https://user:pw@x.example").is_err());
        assert_eq!(
            check_url("https://x.example/v1/").ok().as_deref(),
            Some("https://x.example/v1")
        );
        assert!(check_url("http://127.0.0.1:9/v1").is_ok());
    }
}
