//! The assistant's JSON and SSE API under `/api/v1/assistant/…` (the widget uses nothing else),
//! the staff's view of escalated conversations, and the widget script.

use std::convert::Infallible;
use std::time::Duration;

use aide::axum::routing::{get_with, post_with};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::service::{self, Confirm, Done, MessageView, Reply};
use super::store::{self, Conversation};
use crate::app::AppState;
use crate::auth::{Permission, PortalUser, StaffUser};
use crate::error::{AppError, AppResult};
use crate::http::ApiRouter;
use crate::http::context::Ctx;
use crate::i18n::{Translator, k};

/// Pause between streamed words: answers appear word by word, quickly.
const WORD_PAUSE: Duration = Duration::from_millis(12);

/// JSON and SSE API.
pub fn api() -> ApiRouter {
    super::settings::api()
        .route(
            "/api/v1/assistant/widget",
            get_with(widget, |op| {
                op.id("assistantWidget").tag("assistant").summary("The widget's labels, greeting and suggested questions for a page")
            }),
        )
        .route(
            "/api/v1/assistant/conversations",
            get_with(list, |op| {
                op.id("listAssistantConversations").tag("assistant").summary("My conversations, last active first")
            }),
        )
        .route(
            "/api/v1/assistant/conversations/{id}",
            get_with(get_one, |op| {
                op.id("getAssistantConversation").tag("assistant").summary("One of my conversations with its messages")
            })
            .delete_with(delete_one, |op| {
                op.id("deleteAssistantConversation").tag("assistant").summary("Delete one of my conversations")
                    .response_with::<204, (), _>(|r| r.description("Deleted."))
            }),
        )
        .route(
            "/api/v1/assistant/messages",
            post_with(ask, |op| {
                op.id("askAssistant").tag("assistant").summary("Ask the assistant (whole answer at once)")
                    .description("Starts a conversation when `conversation_id` is empty. Proposed actions carry a single-use `token` for `confirmAssistantAction`.")
                    .response_with::<201, Json<Reply>, _>(|r| r.description("The stored question and answer."))
            }),
        )
        .route(
            "/api/v1/assistant/messages/stream",
            post_with(ask_stream, |op| {
                op.id("askAssistantStream").tag("assistant").summary("Ask the assistant, the answer streamed word by word")
                    .description("A `text/event-stream`: `start` (`{conversation_id}`, null for a new conversation), then `token` events (`{text}`) as the model streams them (the built-in assistant's word by word), then `done` with the whole `Reply` as `askAssistant` answers it (its text replaces the tokens), or `error` (`{message}`).")
                    .response_with::<200, String, _>(|r| {
                        r.description("The answer stream.").with(|mut r| {
                            let content = &mut r.inner().content;
                            if let Some(media) = content.shift_remove("text/plain; charset=utf-8") {
                                content.insert("text/event-stream".into(), media);
                            }
                            r
                        })
                    })
            }),
        )
        .route(
            "/api/v1/assistant/actions/confirm",
            post_with(confirm, |op| {
                op.id("confirmAssistantAction").tag("assistant").summary("Run a proposed action (the user's confirm click)")
                    .description("Runs with the user's own permissions through the same services as the pages. A token works once and for an hour.")
            }),
        )
        .route(
            "/api/v1/admin/assistant/escalations",
            get_with(escalations, |op| {
                op.id("listAssistantEscalations").tag("assistant").summary("Conversations escalated to staff")
            }),
        )
        .route(
            "/api/v1/admin/assistant/usage",
            get_with(usage, |op| {
                op.id("getAssistantUsage").tag("assistant").summary("This month's assistant use of the tenant: questions, model answers and tokens against the budget")
            }),
        )
        .route(
            "/api/v1/admin/assistant/conversations/{id}",
            get_with(staff_conversation, |op| {
                op.id("getEscalatedConversation").tag("assistant").summary("An escalated conversation (others do not exist for staff)")
            }),
        )
}

/// Serves the widget script (`/assets/assistant.js`).
pub async fn script() -> Response {
    let mut r = include_str!("../web/static/assistant.js").into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/javascript; charset=utf-8"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    r
}

fn tr(ctx: &crate::http::context::RequestContext) -> Translator {
    Translator::zoned(ctx.locale, ctx.tz)
}

#[derive(Deserialize, schemars::JsonSchema)]
struct WidgetQuery {
    /// The page the widget is on (chooses the suggestions).
    #[serde(default)]
    path: Option<String>,
}

/// Everything the widget shows, in the user's language.
#[derive(Serialize, schemars::JsonSchema)]
struct Widget {
    enabled: bool,
    greeting: String,
    suggestions: Vec<String>,
    labels: std::collections::BTreeMap<&'static str, String>,
}

async fn widget(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Query(q): Query<WidgetQuery>,
) -> AppResult<Json<Widget>> {
    let actor = user.require(Permission::PortalAccess)?;
    let settings = super::settings::current(&app, actor.scope()).await?;
    let enabled = settings.enabled;
    let t = tr(&ctx);
    let mission = user.tenant.org_type == crate::tenancy::OrgType::Mission;
    let path = q.path.unwrap_or_default();
    let labels = [
        ("open", "assistant-open"),
        ("close", "assistant-close"),
        ("title", "assistant-title"),
        ("input", "assistant-input-label"),
        ("send", "assistant-send"),
        ("placeholder", "assistant-placeholder"),
        ("history", "assistant-history"),
        ("new", "assistant-new-conversation"),
        ("delete", "assistant-delete"),
        ("delete_confirm", "assistant-delete-confirm"),
        ("sources", "assistant-sources"),
        ("suggested", "assistant-suggested"),
        ("subject", "assistant-field-subject"),
        ("description", "assistant-field-description"),
        ("priority", "assistant-field-priority"),
        ("confirm", "assistant-confirm"),
        ("cancel", "assistant-cancel"),
        ("thinking", "assistant-thinking"),
        ("error", "assistant-error-generic"),
        ("empty_history", "assistant-history-empty"),
        ("you", "assistant-you"),
        ("name", "assistant-name"),
        ("priority_low", "ticket-priority-low"),
        ("priority_normal", "ticket-priority-normal"),
        ("priority_high", "ticket-priority-high"),
        ("priority_urgent", "ticket-priority-urgent"),
        ("yes", "assistant-yes"),
    ]
    .into_iter()
    .map(|(n, key)| (n, t.get(key)))
    .collect();
    Ok(Json(Widget {
        enabled,
        greeting: if settings.greeting.is_empty() {
            t.args(
                k("assistant-greeting"),
                &[(
                    "portal",
                    crate::i18n::Arg::Str(user.tenant.branding.portal_name.clone()),
                )],
            )
        } else {
            settings.greeting
        },
        suggestions: super::suggestions(&path, mission)
            .into_iter()
            .map(|key| t.get(key))
            .collect(),
        labels,
    }))
}

#[derive(Deserialize, schemars::JsonSchema)]
struct ListQuery {
    /// From a previous page's `next_cursor`.
    #[serde(default)]
    cursor: Option<String>,
}

/// A page of conversations.
#[derive(Serialize, schemars::JsonSchema)]
struct ConversationPage {
    items: Vec<Conversation>,
    next_cursor: Option<String>,
}

const PAGE: i64 = 20;

async fn list(
    State(app): State<AppState>,
    user: PortalUser,
    Query(q): Query<ListQuery>,
) -> AppResult<Json<ConversationPage>> {
    let actor = user.require(Permission::PortalAccess)?;
    let after = q.cursor.as_deref().and_then(store::parse_cursor);
    let mut items = store::list(
        &app.db,
        actor.scope(),
        user.user_id.as_str(),
        after.as_ref().map(|(t, i)| (*t, i.as_str())),
        PAGE + 1,
    )
    .await?;
    let next_cursor = if items.len() as i64 > PAGE {
        items.truncate(PAGE as usize);
        items.last().map(store::cursor_of)
    } else {
        None
    };
    Ok(Json(ConversationPage { items, next_cursor }))
}

/// A conversation with its messages.
#[derive(Serialize, schemars::JsonSchema)]
struct ConversationView {
    #[serde(flatten)]
    conversation: Conversation,
    messages: Vec<MessageView>,
}

async fn get_one(
    State(app): State<AppState>,
    user: PortalUser,
    Path(id): Path<String>,
) -> AppResult<Json<ConversationView>> {
    let actor = user.require(Permission::PortalAccess)?;
    let c = store::owned(&app.db, actor.scope(), user.user_id.as_str(), &id)
        .await?
        .ok_or(AppError::NotFound)?;
    let messages = store::messages(&app.db, actor.scope(), &c.id)
        .await?
        .iter()
        .map(service::view)
        .collect();
    Ok(Json(ConversationView {
        conversation: c,
        messages,
    }))
}

async fn delete_one(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    service::delete(&app, &user, &ctx.ip, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct AskBody {
    /// The question (at most 1,000 characters).
    #[serde(default)]
    message: String,
    /// Continue this conversation (empty: start one).
    #[serde(default)]
    conversation_id: Option<String>,
}

async fn ask(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Json(b): Json<AskBody>,
) -> AppResult<Response> {
    let t = tr(&ctx);
    let r = service::ask(&app, &user, &t, b.conversation_id.as_deref(), &b.message).await?;
    Ok((StatusCode::CREATED, Json(r)).into_response())
}

async fn ask_stream(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Json(b): Json<AskBody>,
) -> AppResult<Response> {
    let t = tr(&ctx);
    // Switched off, limits, checks and someone else's conversation are refused before the
    // stream starts, so refusals are ordinary JSON errors with their status.
    let (text, eff, existing) =
        service::precheck(&app, &user, b.conversation_id.as_deref(), &b.message).await?;
    let (ev_tx, ev_rx) = tokio::sync::mpsc::unbounded_channel::<SseEvent>();
    // A new conversation gets its id when the answer is stored; `done` carries it.
    let start = serde_json::json!({ "conversation_id": existing.as_ref().map(|c| c.id.clone()) });
    let _ = ev_tx.send(SseEvent::default().event("start").data(start.to_string()));
    let p = user.0.clone();
    // The answer is produced (and stored) even when the user goes away mid-stream.
    tokio::spawn(async move {
        let (d_tx, mut d_rx) = tokio::sync::mpsc::unbounded_channel::<String>();
        let answering = async move {
            let r =
                service::answer_checked(&app, &p, &t, &eff, existing.as_ref(), &text, Some(&d_tx))
                    .await;
            drop(d_tx);
            r
        };
        let relay = async {
            let mut streamed = false;
            while let Some(d) = d_rx.recv().await {
                streamed = true;
                let _ = ev_tx.send(token_event(&d));
            }
            streamed
        };
        let (reply, streamed) = tokio::join!(answering, relay);
        match reply {
            Ok(r) => {
                // The built-in assistant has no stream of its own: its words go one by one.
                if !streamed {
                    for w in r.answer.text.split_inclusive(char::is_whitespace) {
                        if ev_tx.send(token_event(w)).is_err() {
                            break;
                        }
                        tokio::time::sleep(WORD_PAUSE).await;
                    }
                }
                match serde_json::to_string(&r) {
                    Ok(done) => {
                        let _ = ev_tx.send(SseEvent::default().event("done").data(done));
                    }
                    Err(e) => tracing::error!(error = %e, "assistant reply not serialisable"),
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "assistant answer failed mid-stream");
                let msg = serde_json::json!({ "message": t.get(k("assistant-error-generic")) });
                let _ = ev_tx.send(SseEvent::default().event("error").data(msg.to_string()));
            }
        }
    });
    let stream = futures::stream::unfold(ev_rx, |mut rx| async move {
        rx.recv().await.map(|e| (Ok::<_, Infallible>(e), rx))
    });
    let mut resp = Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response();
    resp.headers_mut()
        .insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(resp)
}

fn token_event(text: &str) -> SseEvent {
    SseEvent::default()
        .event("token")
        .data(serde_json::json!({ "text": text }).to_string())
}

async fn confirm(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Json(b): Json<Confirm>,
) -> AppResult<Json<Done>> {
    let t = tr(&ctx);
    Ok(Json(service::confirm(&app, &user, &t, &ctx.ip, b).await?))
}

/// An escalated conversation as staff see it.
#[derive(Serialize, schemars::JsonSchema)]
struct Escalation {
    #[serde(flatten)]
    conversation: Conversation,
    /// Who asked.
    user_name: String,
}

/// A page of escalated conversations.
#[derive(Serialize, schemars::JsonSchema)]
struct EscalationList {
    items: Vec<Escalation>,
    /// Pass as `cursor` for the next (older) page; absent on the last page.
    next_cursor: Option<String>,
}

const ESCALATION_PAGE: i64 = 50;

async fn escalations(
    State(app): State<AppState>,
    staff: StaffUser,
    Query(q): Query<ListQuery>,
) -> AppResult<Json<EscalationList>> {
    let actor = staff.require(Permission::ManageTickets)?;
    let after = q.cursor.as_deref().and_then(store::parse_cursor);
    let mut rows = store::escalations(
        &app.db,
        actor.scope(),
        after.as_ref().map(|(t, i)| (*t, i.as_str())),
        ESCALATION_PAGE + 1,
    )
    .await?;
    let next_cursor = if rows.len() as i64 > ESCALATION_PAGE {
        rows.truncate(ESCALATION_PAGE as usize);
        rows.last().map(|(c, _)| store::cursor_of(c))
    } else {
        None
    };
    let items = rows
        .into_iter()
        .map(|(conversation, user_name)| Escalation {
            conversation,
            user_name,
        })
        .collect();
    Ok(Json(EscalationList { items, next_cursor }))
}

async fn staff_conversation(
    State(app): State<AppState>,
    staff: StaffUser,
    Path(id): Path<String>,
) -> AppResult<Json<ConversationView>> {
    let actor = staff.require(Permission::ManageTickets)?;
    let c = store::escalated(&app.db, actor.scope(), &id)
        .await?
        .ok_or(AppError::NotFound)?;
    let messages = store::messages(&app.db, actor.scope(), &c.id)
        .await?
        .iter()
        .map(service::view)
        .map(|mut m| {
            m.actions.clear();
            m
        })
        .collect();
    Ok(Json(ConversationView {
        conversation: c,
        messages,
    }))
}

/// The tenant's assistant use this calendar month (UTC).
#[derive(Serialize, schemars::JsonSchema)]
struct Usage {
    /// Whether a model answers (else the built-in assistant does), with the tenant's settings.
    model_configured: bool,
    /// The model's name, when one is configured.
    model: Option<String>,
    /// Tokens the tenant may use per month (0 without a model).
    monthly_token_budget: i64,
    /// Questions asked this month.
    questions: i64,
    /// Of those, answered by the model.
    model_answers: i64,
    /// Of those, answered by the built-in assistant because the model failed or the budget
    /// was spent.
    fallbacks: i64,
    /// Model tokens used this month.
    tokens: i64,
}

async fn usage(State(app): State<AppState>, staff: StaffUser) -> AppResult<Json<Usage>> {
    let actor = staff.require(Permission::ManageTickets)?;
    let u = super::settings::month_usage(&app.db, actor.scope()).await?;
    let eff = super::settings::effective(&app, actor.scope()).await?;
    let cfg = eff.model.as_ref();
    Ok(Json(Usage {
        model_configured: cfg.is_some(),
        model: cfg.map(|c| c.model.clone()),
        monthly_token_budget: cfg.map(|c| c.monthly_tokens).unwrap_or(0),
        questions: u.questions,
        model_answers: u.model_answers,
        fallbacks: u.fallbacks,
        tokens: u.tokens,
    }))
}
