//! The built-in assistant and the actions it runs after a confirm click. Everything it reads
//! comes through the same functions the pages use, with the asking user's principal, so it can
//! cite and act on nothing the user could not open themselves.

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{ActionKind, Intent, SourceKind, store};
use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::auth::sessions::{random_token, token_hash};
use crate::auth::{Permission, Principal};
use crate::db::now_ms;
use crate::error::{AppError, AppResult};
use crate::files::Pending;
use crate::i18n::{Arg, Translator, k};
use crate::tenancy::OrgType;
use crate::tickets::service::{CommentInput, CreateInput};
use crate::tickets::store::{ListFilter, ListScope, Sort};

/// A page an answer cites (always one the user may open).
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Source {
    /// `article`, `ticket`, `announcement` or `catalog_item`.
    pub kind: String,
    /// Title shown.
    pub title: String,
    /// Portal path.
    pub url: String,
}

/// An action the assistant proposes; it runs only when the user confirms it with `token`.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Proposal {
    /// Single-use confirmation token (only in the answer that proposed it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// What it does.
    pub kind: ActionKind,
    /// Button label.
    pub label: String,
    /// Drafted ticket subject (create, escalate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// Drafted description or comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Drafted priority (`low`, `normal`, `high`, `urgent`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<String>,
    /// The ticket a comment goes to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<i64>,
    /// The catalog item a request is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_id: Option<String>,
    /// The event a registration is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    /// Questions the user answers before confirming (the item's request form, the event's
    /// questions as `q0`, `q1`, …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<crate::catalog::FormField>,
}

/// A built answer before it is stored.
#[derive(Clone, Debug)]
pub struct Answer {
    /// Recognised intent.
    pub intent: Intent,
    /// Markdown text.
    pub markdown: String,
    /// Cited pages.
    pub sources: Vec<Source>,
    /// Proposed actions.
    pub actions: Vec<Proposal>,
}

/// One message as the widget shows it.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct MessageView {
    /// Id.
    pub id: String,
    /// `user` or `assistant`.
    pub role: String,
    /// The text as written (Markdown for answers).
    pub text: String,
    /// Sanitised HTML of the text.
    pub html: String,
    /// Cited pages.
    pub sources: Vec<Source>,
    /// Proposed actions (tokens only right after they were proposed).
    pub actions: Vec<Proposal>,
    /// Sent (Unix ms).
    pub created_at: i64,
}

#[derive(Default, Serialize, Deserialize)]
struct Extra {
    #[serde(default)]
    sources: Vec<Source>,
    #[serde(default)]
    actions: Vec<Proposal>,
}

/// A stored message as shown.
pub fn view(m: &store::Message) -> MessageView {
    let extra: Extra = serde_json::from_str(&m.extra).unwrap_or_default();
    let html = if m.role == "assistant" {
        crate::tickets::render_markdown(&m.body)
    } else {
        crate::tickets::render_markdown(&escape_markdown(&m.body))
    };
    MessageView {
        id: m.id.clone(),
        role: m.role.clone(),
        text: m.body.clone(),
        html,
        sources: extra.sources,
        actions: extra
            .actions
            .into_iter()
            .map(|mut a| {
                a.token = None;
                a
            })
            .collect(),
        created_at: m.created_at,
    }
}

/// Text shown as typed: Markdown punctuation escaped, so a question renders as itself.
fn escape_markdown(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if "\\`*_{}[]()#+-.!|<>&~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A title inside Markdown link text.
fn link_text(s: &str) -> String {
    escape_markdown(&s.replace(['\n', '\r'], " "))
}

/// The MSP client company of a principal (tickets, catalog and announcements exist there).
fn msp_company(p: &Principal) -> Option<String> {
    match (&p.company_id, p.tenant.org_type) {
        (Some(c), OrgType::Msp) => Some(c.as_str().to_string()),
        _ => None,
    }
}

/// Refuses a question over the per-user or per-tenant limit.
async fn check_rate(app: &AppState, p: &Principal) -> AppResult<()> {
    let since = now_ms() - super::RATE_WINDOW_MS;
    let scope = p.scope();
    let mine = store::questions_since(&app.db, &scope, Some(p.user_id.as_str()), since).await?;
    let all = store::questions_since(&app.db, &scope, None, since).await?;
    if mine >= super::USER_LIMIT || all >= super::TENANT_LIMIT {
        return Err(AppError::TooManyRequests(60));
    }
    Ok(())
}

/// Checks a question: one to [`super::MAX_INPUT`] characters of text.
pub fn check_question(text: &str) -> AppResult<String> {
    let t = crate::text::multi_line("message", text, super::MAX_INPUT)
        .map_err(|f| AppError::fields(vec![f]))?;
    if t.trim().is_empty() {
        return Err(AppError::field("message", k("assistant-error-empty")));
    }
    Ok(t.trim().to_string())
}

/// Builds the built-in answer to `text` from what `p` may see.
pub async fn answer(
    app: &AppState,
    p: &Principal,
    t: &Translator,
    eff: &super::settings::Effective,
    text: &str,
) -> AppResult<Answer> {
    let intent = super::recognise(text);
    let uses = |s: SourceKind| eff.uses(s);
    let scope = p.scope();
    let company = msp_company(p);
    let can_create = company.is_some() && p.can(Permission::CreateTickets);
    let mut md = String::new();
    let mut sources: Vec<Source> = Vec::new();
    let mut actions: Vec<Proposal> = Vec::new();
    let terms = super::search_terms(text);

    match intent {
        Intent::TicketStatus | Intent::Comment
            if company.is_some() && uses(SourceKind::Tickets) =>
        {
            if let Some(n) = super::ticket_ref(text) {
                match crate::tickets::service::visible(app, p, n).await {
                    Ok(tk) => {
                        let status = t.get(tk.status.label_key_for(false));
                        md.push_str(&t.args(
                            k("assistant-answer-ticket-status"),
                            &[
                                ("number", Arg::Num(tk.number)),
                                ("subject", Arg::Str(link_text(&tk.subject))),
                                ("status", Arg::Str(status)),
                            ],
                        ));
                        md.push_str("\n\n");
                        if tk.status == crate::tickets::Status::Pending {
                            md.push_str(&t.get(k("assistant-answer-ticket-pending")));
                            md.push_str("\n\n");
                        } else if let (None, Some(due)) =
                            (tk.sla.first_responded_at, tk.sla.first_response_due_at)
                            && !tk.status.is_done()
                        {
                            md.push_str(&t.args(
                                k("assistant-answer-ticket-due"),
                                &[("due", Arg::Str(t.datetime(due)))],
                            ));
                            md.push_str("\n\n");
                        }
                        sources.push(Source {
                            kind: "ticket".into(),
                            title: format!("#{} {}", tk.number, tk.subject),
                            url: format!("/portal/tickets/{}", tk.number),
                        });
                        if intent == Intent::Comment
                            && !tk.status.is_done()
                            && p.can(Permission::CommentOnTickets)
                        {
                            md.push_str(&t.args(
                                k("assistant-answer-comment"),
                                &[("number", Arg::Num(tk.number))],
                            ));
                            actions.push(Proposal {
                                token: None,
                                kind: ActionKind::Comment,
                                label: t.args(
                                    k("assistant-action-comment"),
                                    &[("number", Arg::Num(tk.number))],
                                ),
                                subject: None,
                                description: Some(text.to_string()),
                                priority: None,
                                ticket: Some(tk.number),
                                item_id: None,
                                event_id: None,
                                fields: Vec::new(),
                            });
                        }
                    }
                    Err(AppError::NotFound) => {
                        md.push_str(&t.args(
                            k("assistant-answer-ticket-unknown"),
                            &[("number", Arg::Num(n))],
                        ));
                    }
                    Err(e) => return Err(e),
                }
            } else if let Some(c) = &company {
                let filter = ListFilter {
                    scope: ListScope::Mine {
                        company_id: c.clone(),
                        user_id: p.user_id.as_str().to_string(),
                    },
                    statuses: vec![
                        crate::tickets::Status::New,
                        crate::tickets::Status::Open,
                        crate::tickets::Status::Pending,
                    ],
                    q: None,
                    priority: None,
                    company_id: None,
                    assignee_id: None,
                    sla: None,
                    sort: Sort::Updated,
                    cursor: None,
                    limit: 5,
                    search_internal: false,
                };
                let (items, _) = crate::tickets::store::list(&app.db, &scope, &filter).await?;
                if items.is_empty() {
                    md.push_str(&t.get(k("assistant-answer-no-tickets")));
                } else {
                    md.push_str(&t.get(k("assistant-answer-tickets")));
                    md.push_str("\n\n");
                    for it in &items {
                        let url = format!("/portal/tickets/{}", it.number);
                        md.push_str(&format!(
                            "- [#{} {}]({}) — {}\n",
                            it.number,
                            link_text(&it.subject),
                            url,
                            t.get(it.status.label_key_for(false))
                        ));
                        sources.push(Source {
                            kind: "ticket".into(),
                            title: format!("#{} {}", it.number, it.subject),
                            url,
                        });
                    }
                    if items
                        .iter()
                        .any(|i| i.status == crate::tickets::Status::Pending)
                    {
                        md.push('\n');
                        md.push_str(&t.get(k("assistant-answer-ticket-pending")));
                    }
                }
            }
        }
        Intent::NextEvent if p.can(Permission::MissionAccess) && uses(SourceKind::Events) => {
            next_events(app, p, t, &terms, &mut md, &mut sources, &mut actions).await?;
        }
        Intent::NextEvent => {
            md.push_str(&t.get(k("assistant-answer-events-unavailable")));
        }
        _ => {}
    }

    let look_up = matches!(
        intent,
        Intent::FindArticle | Intent::CreateTicket | Intent::Escalate | Intent::RequestItem
    ) || (company.is_none() && intent != Intent::NextEvent);
    let mut found_articles = 0;
    if look_up && !terms.is_empty() {
        let reader = crate::kb::Reader::of(Some(p));
        let hits = if uses(SourceKind::Articles) {
            crate::kb::store::search(&app.db, &scope, &reader, &terms, false, super::MAX_ARTICLES)
                .await?
        } else {
            Vec::new()
        };
        found_articles = hits.len();
        if intent == Intent::RequestItem
            && uses(SourceKind::Catalog)
            && let Some(c) = &company
        {
            let items = catalog_items(app, p, c, &terms).await?;
            if let Some((id, _)) = items.first()
                && p.can(Permission::CreateTickets)
            {
                let item = crate::catalog::service::visible_item(app, &scope, c, id).await?;
                actions.push(item_proposal(t, &item));
            }
            if !items.is_empty() {
                md.push_str(&t.get(k("assistant-answer-catalog")));
                md.push_str("\n\n");
                for (id, name) in items {
                    let url = format!("/portal/catalog/{id}");
                    md.push_str(&format!("- [{}]({url})\n", link_text(&name)));
                    sources.push(Source {
                        kind: "catalog_item".into(),
                        title: name,
                        url,
                    });
                }
                md.push('\n');
            }
        }
        if !hits.is_empty() {
            md.push_str(&t.get(k("assistant-answer-articles")));
            md.push_str("\n\n");
            for h in &hits {
                let url = format!("/portal/kb/{}", h.article.slug);
                md.push_str(&format!(
                    "- [{}]({url}) · {}\n",
                    link_text(&h.article.title),
                    link_text(&h.article.category)
                ));
                sources.push(Source {
                    kind: "article".into(),
                    title: h.article.title.clone(),
                    url,
                });
            }
            md.push('\n');
        } else if intent == Intent::FindArticle {
            md.push_str(&t.get(k("assistant-answer-nothing")));
            md.push_str("\n\n");
        }
        if let Some(c) = company.as_ref().filter(|_| uses(SourceKind::Announcements)) {
            for (id, title) in announcements(app, p, c, &terms).await? {
                let url = format!("/portal/announcements/{id}");
                md.push_str(&t.args(
                    k("assistant-answer-announcement"),
                    &[("link", Arg::Str(format!("[{}]({url})", link_text(&title))))],
                ));
                md.push_str("\n\n");
                sources.push(Source {
                    kind: "announcement".into(),
                    title,
                    url,
                });
            }
        }
    }

    if can_create {
        let subject = super::draft_subject(text);
        let priority = super::draft_priority(text);
        match intent {
            Intent::Escalate => {
                md.push_str(&t.get(k("assistant-answer-escalate")));
                actions.push(Proposal {
                    token: None,
                    kind: ActionKind::Escalate,
                    label: t.get(k("assistant-action-escalate")),
                    subject: Some(subject),
                    description: Some(text.to_string()),
                    priority: Some(priority.as_str().to_string()),
                    ticket: None,
                    item_id: None,
                    event_id: None,
                    fields: Vec::new(),
                });
            }
            Intent::CreateTicket | Intent::FindArticle => {
                md.push_str(&t.get(if intent == Intent::CreateTicket {
                    k("assistant-answer-create")
                } else {
                    k("assistant-answer-offer")
                }));
                let subject = if intent == Intent::CreateTicket {
                    let cleaned = strip_phrase(text);
                    if cleaned.is_empty() {
                        subject
                    } else {
                        super::draft_subject(&cleaned)
                    }
                } else {
                    subject
                };
                actions.push(Proposal {
                    token: None,
                    kind: ActionKind::CreateTicket,
                    label: t.get(k("assistant-action-create")),
                    subject: Some(subject),
                    description: Some(text.to_string()),
                    priority: Some(priority.as_str().to_string()),
                    ticket: None,
                    item_id: None,
                    event_id: None,
                    fields: Vec::new(),
                });
                if found_articles == 0 {
                    actions.push(Proposal {
                        token: None,
                        kind: ActionKind::Escalate,
                        label: t.get(k("assistant-action-escalate")),
                        subject: Some(super::draft_subject(text)),
                        description: Some(text.to_string()),
                        priority: Some(priority.as_str().to_string()),
                        ticket: None,
                        item_id: None,
                        event_id: None,
                        fields: Vec::new(),
                    });
                }
            }
            _ => {}
        }
    } else if intent == Intent::Escalate || intent == Intent::CreateTicket {
        md.push_str(&t.get(k("assistant-answer-no-tickets-here")));
    }
    if md.trim().is_empty() {
        md = t.get(k("assistant-answer-nothing"));
    }
    Ok(Answer {
        intent,
        markdown: md.trim().to_string(),
        sources,
        actions,
    })
}

/// The question without "create a ticket" phrasing, for a subject.
fn strip_phrase(text: &str) -> String {
    let lower = text.to_lowercase();
    for p in [
        "please create a ticket",
        "create a ticket",
        "open a ticket",
        "raise a ticket",
        "log a ticket",
        "crear un ticket",
        "abrir un ticket",
    ] {
        if let Some(i) = lower.find(p) {
            let rest = format!("{} {}", &text[..i], &text[i + p.len()..]);
            return rest
                .trim()
                .trim_start_matches([':', ',', '-', ' '])
                .trim_start_matches("for ")
                .trim_start_matches("about ")
                .trim()
                .to_string();
        }
    }
    text.to_string()
}

/// Catalog items the user's company may request whose name or description has a question word.
async fn catalog_items(
    app: &AppState,
    p: &Principal,
    company: &str,
    terms: &[String],
) -> AppResult<Vec<(String, String)>> {
    let scope = p.scope();
    let mut out: Vec<(String, String, usize)> = Vec::new();
    for term in terms.iter().filter(|t| t.chars().count() >= 3).take(3) {
        let items = crate::catalog::store::items(
            &app.db,
            &scope,
            &crate::catalog::store::ItemFilter {
                company: Some(company),
                category: None,
                q: Some(term),
                cursor: None,
                limit: 3,
            },
        )
        .await?;
        for i in items {
            if !out.iter().any(|(id, _, _)| *id == i.id) {
                // Words in the name count more than words in the description: "a new laptop"
                // is the laptop, not the new user account.
                let name = i.name.to_lowercase();
                let desc = i.description.to_lowercase();
                let score: usize = terms
                    .iter()
                    .map(|t| {
                        2 * usize::from(name.contains(t.as_str()))
                            + usize::from(desc.contains(t.as_str()))
                    })
                    .sum();
                out.push((i.id, i.name, score));
            }
        }
    }
    out.sort_by_key(|x| std::cmp::Reverse(x.2));
    Ok(out
        .into_iter()
        .take(3)
        .map(|(id, name, _)| (id, name))
        .collect())
}

/// A proposed catalog request: the item's form goes along so the widget asks its fields.
pub(super) fn item_proposal(t: &Translator, item: &crate::catalog::store::Item) -> Proposal {
    Proposal {
        token: None,
        kind: ActionKind::RequestItem,
        label: t.args(
            k("assistant-action-request"),
            &[("item", Arg::Str(item.name.clone()))],
        ),
        subject: Some(item.name.clone()),
        description: None,
        priority: None,
        ticket: None,
        item_id: Some(item.id.clone()),
        event_id: None,
        fields: item.fields.clone(),
    }
}

/// A proposed event registration: the event's questions go along as fields `q0`, `q1`, ….
pub(super) fn event_proposal(t: &Translator, e: &crate::mission::events::MissionEvent) -> Proposal {
    let full = e.seats_left == Some(0) || (e.capacity > 0 && e.waiting > 0);
    Proposal {
        token: None,
        kind: ActionKind::RegisterEvent,
        label: t.args(
            k(if full {
                "assistant-action-waitlist"
            } else {
                "assistant-action-register"
            }),
            &[("event", Arg::Str(e.title.clone()))],
        ),
        subject: Some(e.title.clone()),
        description: None,
        priority: None,
        ticket: None,
        item_id: None,
        event_id: Some(e.id.clone()),
        fields: e
            .questions
            .iter()
            .enumerate()
            .map(|(i, q)| crate::catalog::FormField {
                key: format!("q{i}"),
                label: q.label.clone(),
                kind: crate::catalog::FieldKind::ShortText,
                help: String::new(),
                required: q.required,
                choices: Vec::new(),
            })
            .collect(),
    }
}

/// Upcoming events the member may register for, the ones that mention a question word first.
pub(super) async fn upcoming_events(
    app: &AppState,
    p: &Principal,
    terms: &[String],
) -> AppResult<Vec<crate::mission::events::MissionEvent>> {
    let actor = p.require(Permission::MissionAccess)?;
    let src = crate::mission::source::MissionSource::for_tenant(app, actor.scope()).await?;
    let (mut list, _) = src
        .events(
            &actor,
            &crate::mission::events::EventFilter {
                from: now_ms(),
                until: i64::MAX,
                include_cancelled: false,
                mine_only: false,
                cursor: None,
                limit: 20,
            },
        )
        .await?;
    let words: Vec<&String> = terms
        .iter()
        .filter(|w| w.chars().count() >= 3 && !["event", "evento", "next"].contains(&w.as_str()))
        .collect();
    let matches = |e: &crate::mission::events::MissionEvent| {
        let text = format!("{} {}", e.title, e.description).to_lowercase();
        words.iter().any(|w| text.contains(w.as_str()))
    };
    // Stable: matching events first, each group still in start order.
    list.sort_by_key(|e| !matches(e));
    list.truncate(3);
    Ok(list)
}

/// The built-in answer about events: the next ones, and a registration for the first the
/// member is not registered for.
async fn next_events(
    app: &AppState,
    p: &Principal,
    t: &Translator,
    terms: &[String],
    md: &mut String,
    sources: &mut Vec<Source>,
    actions: &mut Vec<Proposal>,
) -> AppResult<()> {
    let list = upcoming_events(app, p, terms).await?;
    if list.is_empty() {
        md.push_str(&t.get(k("assistant-answer-no-events")));
        return Ok(());
    }
    md.push_str(&t.get(k("assistant-answer-events")));
    md.push_str("\n\n");
    for e in &list {
        let url = format!("/portal/mission/events/{}", e.id);
        md.push_str(&format!(
            "- [{}]({url}) — {}\n",
            link_text(&e.title),
            t.datetime(e.starts_at)
        ));
        sources.push(Source {
            kind: "event".into(),
            title: e.title.clone(),
            url,
        });
    }
    if let Some(e) = list.iter().find(|e| e.my_status.is_none()) {
        actions.push(event_proposal(t, e));
    }
    Ok(())
}

/// Live announcements for the user that mention a question word (at most two).
async fn announcements(
    app: &AppState,
    p: &Principal,
    company: &str,
    terms: &[String],
) -> AppResult<Vec<(String, String)>> {
    let view = crate::announcements::ClientView {
        company_id: company,
        user_id: p.user_id.as_str(),
    };
    let list = crate::announcements::list_for(&app.db, &p.scope(), &view, None, 20).await?;
    let words: Vec<&String> = terms.iter().filter(|t| t.chars().count() >= 4).collect();
    Ok(list
        .into_iter()
        .filter(|a| {
            let text = format!("{} {}", a.title, a.body).to_lowercase();
            words.iter().any(|w| text.contains(w.as_str()))
        })
        .take(2)
        .map(|a| (a.id, a.title))
        .collect())
}

/// The first millisecond of the current calendar month (UTC), where token budgets restart.
pub fn month_start(now: i64) -> i64 {
    use chrono::{Datelike, TimeZone, Utc};
    let d = Utc
        .timestamp_millis_opt(now)
        .single()
        .unwrap_or_else(Utc::now);
    Utc.with_ymd_and_hms(d.year(), d.month(), 1, 0, 0, 0)
        .single()
        .map(|m| m.timestamp_millis())
        .unwrap_or(0)
}

/// Where the model's text goes while it streams in.
pub type Deltas = tokio::sync::mpsc::UnboundedSender<String>;

/// How a question was answered.
enum By {
    /// The model, with the tokens it used.
    Model(Answer, i64),
    /// The built-in assistant because no model applies.
    Builtin,
    /// The built-in assistant in place of a model that failed or whose budget is spent.
    Fallback,
}

/// The model's answer when the tenant's settings give one and the tenant is within its
/// monthly token budget.
async fn model_answer(
    app: &AppState,
    p: &Principal,
    t: &Translator,
    eff: &super::settings::Effective,
    existing: Option<&store::Conversation>,
    text: &str,
    deltas: Option<&Deltas>,
) -> AppResult<By> {
    let Some(cfg) = eff.model.as_ref() else {
        return Ok(By::Builtin);
    };
    let scope = p.scope();
    let (_, _, used, _) = store::usage_since(&app.db, &scope, month_start(now_ms())).await?;
    if used >= cfg.monthly_tokens {
        return Ok(By::Fallback);
    }
    let history: Vec<(String, String)> = match existing {
        Some(c) => store::messages(&app.db, &scope, &c.id)
            .await?
            .into_iter()
            .map(|m| (m.role, m.body))
            .collect(),
        None => Vec::new(),
    };
    match super::model::answer(app, cfg, p, t, eff, &history, text, deltas).await? {
        Ok(m) => Ok(By::Model(m.answer, m.tokens)),
        Err(e) => {
            tracing::warn!(error = %e.0, "assistant model failed; the built-in assistant answers");
            Ok(By::Fallback)
        }
    }
}

/// Checks what can be refused before anything is answered (switched off, a bad question,
/// someone else's conversation, over a limit); returns the question and the settings in force.
pub async fn precheck(
    app: &AppState,
    p: &Principal,
    conversation: Option<&str>,
    text: &str,
) -> AppResult<(
    String,
    super::settings::Effective,
    Option<store::Conversation>,
)> {
    let actor = p.require(Permission::PortalAccess)?;
    let eff = super::settings::effective(app, actor.scope()).await?;
    if !eff.enabled {
        return Err(AppError::Forbidden(k("assistant-error-disabled").into()));
    }
    let text = check_question(text)?;
    let existing = match conversation.filter(|c| !c.is_empty()) {
        Some(id) => Some(
            store::owned(&app.db, actor.scope(), p.user_id.as_str(), id)
                .await?
                .ok_or(AppError::NotFound)?,
        ),
        None => None,
    };
    check_rate(app, p).await?;
    Ok((text, eff, existing))
}

/// What asking produced: the conversation and the stored answer (with fresh action tokens).
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Reply {
    /// Conversation id (new when none was given).
    pub conversation_id: String,
    /// The question as stored.
    pub question: MessageView,
    /// The answer.
    pub answer: MessageView,
}

/// Asks the assistant: checks limits, answers, stores both messages and the proposed actions
/// in one transaction.
pub async fn ask(
    app: &AppState,
    p: &Principal,
    t: &Translator,
    conversation: Option<&str>,
    text: &str,
) -> AppResult<Reply> {
    let (text, eff, existing) = precheck(app, p, conversation, text).await?;
    answer_checked(app, p, t, &eff, existing.as_ref(), &text, None).await
}

/// Answers a question that passed [`precheck`], sending the model's text to `deltas` as it
/// arrives.
pub async fn answer_checked(
    app: &AppState,
    p: &Principal,
    t: &Translator,
    eff: &super::settings::Effective,
    existing: Option<&store::Conversation>,
    text: &str,
    deltas: Option<&Deltas>,
) -> AppResult<Reply> {
    let actor = p.require(Permission::PortalAccess)?;
    let text = text.to_string();
    let (mut a, by_model, tokens, fallback) =
        match model_answer(app, p, t, eff, existing, &text, deltas).await? {
            By::Model(a, tokens) => (a, true, tokens, false),
            By::Builtin => (answer(app, p, t, eff, &text).await?, false, 0, false),
            By::Fallback => (answer(app, p, t, eff, &text).await?, false, 0, true),
        };
    // Staff may have switched some actions off.
    a.actions.retain(|x| eff.allows(x.kind));
    let now = now_ms();
    let user = p.user_id.as_str();
    let mut tx = app.db.tenant(actor.scope()).begin().await?;
    store::record_usage(&mut tx, user, by_model, tokens, fallback, now).await?;
    let conv_id = match existing {
        Some(c) => c.id.clone(),
        None => store::insert_conversation(&mut tx, user, &super::title_of(&text), now).await?,
    };
    let q_id = store::add_message(&mut tx, &conv_id, user, "user", &text, "{}", now).await?;
    for action in &mut a.actions {
        let token = random_token();
        let payload = serde_json::to_string(&*action).map_err(|e| AppError::Internal(e.into()))?;
        store::insert_action(
            &mut tx,
            &token_hash(&token),
            &conv_id,
            user,
            action.kind.as_str(),
            &payload,
            now,
            now + super::ACTION_TTL_MS,
        )
        .await?;
        action.token = Some(token);
    }
    let stored_actions: Vec<Proposal> = a
        .actions
        .iter()
        .cloned()
        .map(|mut x| {
            x.token = None;
            x
        })
        .collect();
    let extra = serde_json::to_string(&json!({ "sources": a.sources, "actions": stored_actions }))
        .map_err(|e| AppError::Internal(e.into()))?;
    // The answer sorts after the question even when both carry the same millisecond.
    let a_id = store::add_message(
        &mut tx,
        &conv_id,
        user,
        "assistant",
        &a.markdown,
        &extra,
        now + 1,
    )
    .await?;
    tx.commit().await?;
    let question = view(&store::Message {
        id: q_id,
        role: "user".into(),
        body: text.clone(),
        extra: "{}".into(),
        created_at: now,
    });
    let mut answer = view(&store::Message {
        id: a_id,
        role: "assistant".into(),
        body: a.markdown,
        extra,
        created_at: now + 1,
    });
    answer.actions = a.actions;
    Ok(Reply {
        conversation_id: conv_id,
        question,
        answer,
    })
}

/// Deletes one of the user's conversations (404 for anyone else's).
pub async fn delete(app: &AppState, p: &Principal, ip: &str, id: &str) -> AppResult<()> {
    let actor = p.require(Permission::PortalAccess)?;
    let mut tx = app.db.tenant(actor.scope()).begin().await?;
    if !store::delete(&mut tx, p.user_id.as_str(), id).await? {
        return Err(AppError::NotFound);
    }
    audit::append(
        &mut tx,
        Entry {
            ip: Some(ip),
            target_type: Some("assistant_conversation"),
            target_id: Some(id),
            ..Entry::new("assistant.conversation_deleted").by(&actor)
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The user's edits to a proposed action before confirming it.
#[derive(Clone, Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Confirm {
    /// The token from the proposal.
    pub token: String,
    /// Edited subject (create, escalate).
    #[serde(default)]
    pub subject: Option<String>,
    /// Edited description or comment.
    #[serde(default)]
    pub description: Option<String>,
    /// Edited priority (`low`, `normal`, `high`, `urgent`).
    #[serde(default)]
    pub priority: Option<String>,
    /// Answers to the proposal's `fields`, by key (a catalog request's form, an event's
    /// questions).
    #[serde(default)]
    #[schemars(with = "Option<std::collections::BTreeMap<String, serde_json::Value>>")]
    pub answers: Option<std::collections::BTreeMap<String, serde_json::Value>>,
}

/// What a confirmed action did.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Done {
    /// What ran.
    pub kind: ActionKind,
    /// The ticket created, requested, escalated to or commented on (none for an event
    /// registration).
    pub ticket_number: Option<i64>,
    /// Its portal page (the event's page for a registration).
    pub url: String,
    /// Sentence for the user (with the SLA after an escalation).
    pub message: String,
    /// The assistant's note added to the conversation.
    pub note: MessageView,
}

/// The conversation so far, as a quoted transcript for a ticket.
async fn transcript(
    app: &AppState,
    p: &Principal,
    t: &Translator,
    conversation: &str,
) -> AppResult<String> {
    let msgs = store::messages(&app.db, &p.scope(), conversation).await?;
    let mut out = format!(
        "\n\n---\n\n{}\n\n",
        t.get(k("assistant-transcript-heading"))
    );
    let assistant = t.get(k("assistant-name"));
    for m in msgs.iter().rev().take(20).rev() {
        let who = if m.role == "user" {
            p.name.as_str()
        } else {
            assistant.as_str()
        };
        let body = if m.role == "user" {
            escape_markdown(&m.body)
        } else {
            m.body.clone()
        };
        out.push_str(&format!("> **{}:**\n>\n", link_text(who)));
        for line in body.lines() {
            out.push_str("> ");
            out.push_str(line);
            out.push('\n');
        }
        out.push_str(">\n");
    }
    // Bounded like every ticket description.
    Ok(out.chars().take(40_000).collect())
}

/// Runs a proposed action after the user's confirm click, with the user's own permissions,
/// through the same ticket service as the pages. The token works once.
pub async fn confirm(
    app: &AppState,
    p: &Principal,
    t: &Translator,
    ip: &str,
    c: Confirm,
) -> AppResult<Done> {
    let scope = p.scope();
    let hash = token_hash(c.token.trim());
    let user = p.user_id.as_str().to_string();
    let pending = store::peek_action(&app.db, &scope, &hash, &user, now_ms())
        .await?
        .ok_or_else(|| AppError::Conflict(k("assistant-error-action-used").into()))?;
    let draft: Proposal =
        serde_json::from_str(&pending.payload).map_err(|e| AppError::Internal(e.into()))?;
    let kind = ActionKind::parse(&pending.kind).ok_or(AppError::NotFound)?;
    // Staff may have switched the assistant or this action off since it was proposed.
    let eff = super::settings::effective(app, &scope).await?;
    if !eff.enabled || !eff.allows(kind) {
        return Err(AppError::Forbidden(k("assistant-error-action-off").into()));
    }
    let conv = store::owned(&app.db, &scope, &user, &pending.conversation_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let description = c
        .description
        .clone()
        .or(draft.description.clone())
        .unwrap_or_default();
    match kind {
        ActionKind::RequestItem => {
            request_item(app, p, t, ip, &hash, &pending, &conv, &draft, &c).await
        }
        ActionKind::RegisterEvent => {
            register_event(app, p, t, ip, &hash, &pending, &conv, &draft, &c).await
        }
        ActionKind::Comment => {
            let number = draft.ticket.ok_or(AppError::NotFound)?;
            let actor = p.require(Permission::CommentOnTickets)?;
            let ticket = crate::tickets::service::visible(app, p, number).await?;
            let mut tx = app.db.tenant(&scope).begin().await?;
            store::claim_action(&mut tx, &hash, &user, now_ms())
                .await?
                .ok_or_else(|| AppError::Conflict(k("assistant-error-action-used").into()))?;
            tx.commit().await?;
            let r = crate::tickets::service::comment(
                app,
                &actor,
                ip,
                &ticket,
                CommentInput {
                    body: description,
                    internal: false,
                    via_email: None,
                },
                Pending::new(app.files.clone()),
            )
            .await;
            if let Err(e) = r {
                let mut tx = app.db.tenant(&scope).begin().await?;
                store::release_action(&mut tx, &pending.id).await?;
                tx.commit().await?;
                return Err(e);
            }
            let message = t.args(k("assistant-done-comment"), &[("number", Arg::Num(number))]);
            let mut tx = app.db.tenant(&scope).begin().await?;
            audit::append(
                &mut tx,
                Entry {
                    ip: Some(ip),
                    target_type: Some("ticket"),
                    target_id: Some(&ticket.id),
                    detail: json!({ "number": number, "conversation": conv.id }),
                    ..Entry::new("assistant.commented").by(&actor)
                },
            )
            .await?;
            let note = note(&mut tx, &conv.id, &user, &message, number).await?;
            tx.commit().await?;
            Ok(Done {
                kind,
                ticket_number: Some(number),
                url: format!("/portal/tickets/{number}"),
                message,
                note,
            })
        }
        ActionKind::CreateTicket | ActionKind::Escalate => {
            let company = msp_company(p).ok_or(AppError::NotFound)?;
            let actor = p.require(Permission::CreateTickets)?;
            if kind == ActionKind::Escalate
                && let Some(number) = conv.escalated_ticket
            {
                return escalate_again(app, p, t, ip, &hash, &pending, &conv, number).await;
            }
            let subject = c
                .subject
                .clone()
                .or(draft.subject.clone())
                .unwrap_or_default();
            let subject = if kind == ActionKind::Escalate && c.subject.is_none() {
                t.args(
                    k("assistant-escalated-subject"),
                    &[("subject", Arg::Str(subject))],
                )
                .chars()
                .take(crate::text::SUBJECT_MAX)
                .collect()
            } else {
                subject
            };
            let priority = c
                .priority
                .clone()
                .or(draft.priority.clone())
                .unwrap_or_default();
            let full = format!(
                "{}{}",
                description.trim(),
                transcript(app, p, t, &conv.id).await?
            );
            let (subject, full, priority, category) =
                crate::tickets::service::check_fields(&subject, &full, &priority, "")
                    .map_err(AppError::fields)?;
            let conv_id = conv.id.clone();
            let user_id = user.clone();
            let hash2 = hash.clone();
            let ip2 = ip.to_string();
            let actor2 = actor.clone();
            let escalate_to = eff
                .escalate_to
                .clone()
                .filter(|_| kind == ActionKind::Escalate);
            let action = if kind == ActionKind::Escalate {
                "assistant.escalated"
            } else {
                "assistant.ticket_created"
            };
            let hook: crate::tickets::service::CreateHook = Box::new(move |tx, tk| {
                Box::pin(async move {
                    // Claimed inside the ticket's transaction: a second confirm finds the
                    // token used, and a failed create leaves it unused.
                    store::claim_action(tx, &hash2, &user_id, now_ms())
                        .await?
                        .ok_or_else(|| {
                            AppError::Conflict(k("assistant-error-action-used").into())
                        })?;
                    if kind == ActionKind::Escalate {
                        store::set_escalated(tx, &conv_id, tk.number).await?;
                    }
                    // The person staff chose answers escalations, if they still may.
                    if let Some(staff) = &escalate_to
                        && store::active_staff_in(tx, staff).await?
                    {
                        crate::tickets::store::set_assignee(tx, &tk.id, Some(staff)).await?;
                    }
                    audit::append(
                        tx,
                        Entry {
                            ip: Some(&ip2),
                            target_type: Some("ticket"),
                            target_id: Some(&tk.id),
                            company_id: Some(&tk.company_id),
                            detail: json!({ "number": tk.number, "conversation": conv_id }),
                            ..Entry::new(action).by(&actor2)
                        },
                    )
                    .await?;
                    Ok(())
                })
            });
            let tk = crate::tickets::service::create_with(
                app,
                &actor,
                ip,
                CreateInput {
                    company_id: company,
                    requester_id: user.clone(),
                    subject,
                    description: full,
                    priority,
                    category: category.into(),
                    cc: Vec::new(),
                },
                Pending::new(app.files.clone()),
                hook,
            )
            .await?;
            let message = if kind == ActionKind::Escalate {
                escalation_message(t, &tk)
            } else {
                t.args(
                    k("assistant-done-created"),
                    &[("number", Arg::Num(tk.number))],
                )
            };
            let mut tx = app.db.tenant(&scope).begin().await?;
            let note = note(&mut tx, &conv.id, &user, &message, tk.number).await?;
            tx.commit().await?;
            Ok(Done {
                kind,
                ticket_number: Some(tk.number),
                url: format!("/portal/tickets/{}", tk.number),
                message,
                note,
            })
        }
    }
}

/// Claims an action's token in its own transaction: of two confirms of one token (a replay,
/// or two at once) only one gets past this.
async fn claim(app: &AppState, p: &Principal, hash: &str) -> AppResult<()> {
    let mut tx = app.db.tenant(&p.scope()).begin().await?;
    store::claim_action(&mut tx, hash, p.user_id.as_str(), now_ms())
        .await?
        .ok_or_else(|| AppError::Conflict(k("assistant-error-action-used").into()))?;
    tx.commit().await?;
    Ok(())
}

/// Makes a claimed token usable again after its action failed.
async fn release(app: &AppState, p: &Principal, pending: &store::PendingAction) -> AppResult<()> {
    let mut tx = app.db.tenant(&p.scope()).begin().await?;
    store::release_action(&mut tx, &pending.id).await?;
    tx.commit().await?;
    Ok(())
}

/// A confirmed catalog request: the same request the catalog form makes, with the item's
/// form answered in the widget and checked against the item as it is now.
#[allow(clippy::too_many_arguments)]
async fn request_item(
    app: &AppState,
    p: &Principal,
    t: &Translator,
    ip: &str,
    hash: &str,
    pending: &store::PendingAction,
    conv: &store::Conversation,
    draft: &Proposal,
    c: &Confirm,
) -> AppResult<Done> {
    let scope = p.scope();
    let company = msp_company(p).ok_or(AppError::NotFound)?;
    let item_id = draft.item_id.as_deref().ok_or(AppError::NotFound)?;
    let item = crate::catalog::service::visible_item(app, &scope, &company, item_id).await?;
    let actor = p.require(Permission::CreateTickets)?;
    let raw = crate::catalog::raw_from_json(&c.answers.clone().unwrap_or_default());
    // Checked before the claim, so a missing answer does not use the token up.
    crate::catalog::validate(&item.fields, &raw).map_err(AppError::fields)?;
    claim(app, p, hash).await?;
    let tz = crate::catalog::service::zone(&p.tenant.time_zone);
    let tk = match crate::catalog::service::submit(app, &actor, ip, &item, &raw, t, tz).await {
        Ok(tk) => tk,
        Err(e) => {
            release(app, p, pending).await?;
            return Err(e);
        }
    };
    let message = t.args(
        k("assistant-done-requested"),
        &[
            ("item", Arg::Str(item.name.clone())),
            ("number", Arg::Num(tk.number)),
        ],
    );
    let mut tx = app.db.tenant(&scope).begin().await?;
    audit::append(
        &mut tx,
        Entry {
            ip: Some(ip),
            target_type: Some("ticket"),
            target_id: Some(&tk.id),
            company_id: Some(&tk.company_id),
            detail: json!({ "number": tk.number, "item": item.id, "conversation": conv.id }),
            ..Entry::new("assistant.item_requested").by(&actor)
        },
    )
    .await?;
    let note = note(&mut tx, &conv.id, p.user_id.as_str(), &message, tk.number).await?;
    tx.commit().await?;
    Ok(Done {
        kind: ActionKind::RequestItem,
        ticket_number: Some(tk.number),
        url: format!("/portal/tickets/{}", tk.number),
        message,
        note,
    })
}

/// A confirmed event registration through the member's Mission source (capacity and the
/// waitlist are the registration's own rules).
#[allow(clippy::too_many_arguments)]
async fn register_event(
    app: &AppState,
    p: &Principal,
    t: &Translator,
    ip: &str,
    hash: &str,
    pending: &store::PendingAction,
    conv: &store::Conversation,
    draft: &Proposal,
    c: &Confirm,
) -> AppResult<Done> {
    let actor = p.require(Permission::MissionAccess)?;
    let event_id = draft.event_id.as_deref().ok_or(AppError::NotFound)?;
    let src = crate::mission::source::MissionSource::for_tenant(app, actor.scope()).await?;
    let event = src.event(&actor, event_id).await?;
    let given = c.answers.clone().unwrap_or_default();
    let answers: Vec<String> = (0..event.questions.len())
        .map(|i| match given.get(&format!("q{i}")) {
            Some(serde_json::Value::String(s)) => s.clone(),
            _ => String::new(),
        })
        .collect();
    crate::mission::events::check_answers(&event.questions, &answers)?;
    claim(app, p, hash).await?;
    let n = crate::mission::events::NewRegistration {
        household: Vec::new(),
        guests: Vec::new(),
        answers,
    };
    let reg = match src.register(&actor, ip, event_id, &n).await {
        Ok(r) => r,
        Err(e) => {
            release(app, p, pending).await?;
            return Err(e);
        }
    };
    let message = t.args(
        k(if reg.status == "waitlisted" {
            "assistant-done-waitlisted"
        } else {
            "assistant-done-registered"
        }),
        &[("event", Arg::Str(event.title.clone()))],
    );
    let url = format!("/portal/mission/events/{}", event.id);
    let mut tx = app.db.tenant(actor.scope()).begin().await?;
    audit::append(
        &mut tx,
        Entry {
            ip: Some(ip),
            target_type: Some("registration"),
            target_id: Some(&reg.id),
            detail: json!({ "event": event.id, "status": reg.status, "conversation": conv.id }),
            ..Entry::new("assistant.event_registered").by(&actor)
        },
    )
    .await?;
    let note = note_linking(
        &mut tx,
        &conv.id,
        p.user_id.as_str(),
        &message,
        "event",
        &event.title,
        &url,
    )
    .await?;
    tx.commit().await?;
    Ok(Done {
        kind: ActionKind::RegisterEvent,
        ticket_number: None,
        url,
        message,
        note,
    })
}

/// Who answers an escalation and by when (the ticket's first-response SLA).
fn escalation_message(t: &Translator, tk: &crate::tickets::store::Ticket) -> String {
    let who = match &tk.assignee {
        Some(a) => a.name.clone(),
        None => t.get(k("assistant-escalated-team")),
    };
    match tk.sla.first_response_due_at {
        Some(due) if tk.sla.first_responded_at.is_none() => t.args(
            k("assistant-done-escalated"),
            &[
                ("number", Arg::Num(tk.number)),
                ("who", Arg::Str(who)),
                ("due", Arg::Str(t.datetime(due))),
            ],
        ),
        _ => t.args(
            k("assistant-done-escalated-nosla"),
            &[("number", Arg::Num(tk.number)), ("who", Arg::Str(who))],
        ),
    }
}

/// A second escalation of the same conversation adds the new transcript to its ticket.
#[allow(clippy::too_many_arguments)]
async fn escalate_again(
    app: &AppState,
    p: &Principal,
    t: &Translator,
    ip: &str,
    hash: &str,
    pending: &store::PendingAction,
    conv: &store::Conversation,
    number: i64,
) -> AppResult<Done> {
    let scope = p.scope();
    let user = p.user_id.as_str();
    let actor = p.require(Permission::CommentOnTickets)?;
    let ticket = crate::tickets::service::visible(app, p, number).await?;
    let body = format!(
        "{}{}",
        t.get(k("assistant-escalated-again")),
        transcript(app, p, t, &conv.id).await?
    );
    let mut tx = app.db.tenant(&scope).begin().await?;
    store::claim_action(&mut tx, hash, user, now_ms())
        .await?
        .ok_or_else(|| AppError::Conflict(k("assistant-error-action-used").into()))?;
    tx.commit().await?;
    let r = if ticket.status.is_done() {
        crate::tickets::service::reopen(
            app,
            &actor,
            ip,
            &ticket,
            &t.get(k("assistant-escalated-again")),
        )
        .await
        .map(|_| ())
    } else {
        Ok(())
    };
    let r = match r {
        Ok(()) => {
            let ticket = crate::tickets::service::visible(app, p, number).await?;
            crate::tickets::service::comment(
                app,
                &actor,
                ip,
                &ticket,
                CommentInput {
                    body,
                    internal: false,
                    via_email: None,
                },
                Pending::new(app.files.clone()),
            )
            .await
        }
        Err(e) => Err(e),
    };
    let tk = match r {
        Ok(tk) => tk,
        Err(e) => {
            let mut tx = app.db.tenant(&scope).begin().await?;
            store::release_action(&mut tx, &pending.id).await?;
            tx.commit().await?;
            return Err(e);
        }
    };
    let message = escalation_message(t, &tk);
    let mut tx = app.db.tenant(&scope).begin().await?;
    audit::append(
        &mut tx,
        Entry {
            ip: Some(ip),
            target_type: Some("ticket"),
            target_id: Some(&tk.id),
            detail: json!({ "number": number, "conversation": conv.id }),
            ..Entry::new("assistant.escalated").by(&actor)
        },
    )
    .await?;
    let note = note(&mut tx, &conv.id, user, &message, number).await?;
    tx.commit().await?;
    Ok(Done {
        kind: ActionKind::Escalate,
        ticket_number: Some(number),
        url: format!("/portal/tickets/{number}"),
        message,
        note,
    })
}

/// The assistant's note in the conversation after an action, linking the ticket.
async fn note(
    tx: &mut crate::db::TenantTx,
    conv: &str,
    user: &str,
    message: &str,
    number: i64,
) -> AppResult<MessageView> {
    let url = format!("/portal/tickets/{number}");
    note_linking(
        tx,
        conv,
        user,
        message,
        "ticket",
        &format!("#{number}"),
        &url,
    )
    .await
}

/// The assistant's note in the conversation after an action, linking what it made.
async fn note_linking(
    tx: &mut crate::db::TenantTx,
    conv: &str,
    user: &str,
    message: &str,
    kind: &str,
    title: &str,
    url: &str,
) -> AppResult<MessageView> {
    let body = format!("{message} [{}]({url})", link_text(title));
    let extra = serde_json::to_string(&json!({
        "sources": [{ "kind": kind, "title": title, "url": url }],
        "actions": [],
    }))
    .map_err(|e| AppError::Internal(e.into()))?;
    let now = now_ms();
    let id = store::add_message(tx, conv, user, "assistant", &body, &extra, now).await?;
    Ok(view(&store::Message {
        id,
        role: "assistant".into(),
        body,
        extra,
        created_at: now,
    }))
}
