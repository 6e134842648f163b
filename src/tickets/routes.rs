//! Portal pages and the client JSON API for tickets; shared upload and download helpers.

use aide::axum::routing::{get_with, post_with};

use axum::Json;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};

use super::service::{self, CommentInput, CreateInput, MAX_FILES};
use super::store::{
    self, Attachment, Comment, HistoryRow, ListFilter, ListScope, Pick, Sort, Ticket, TicketSummary,
};
use super::{CATEGORIES, Priority, SlaState, Status};
use crate::app::AppState;
use crate::auth::{Permission, PortalUser, Principal};
use crate::db::now_ms;
use crate::error::{AppError, AppResult, FieldError};
use crate::files::{ObjectKey, Pending};
use crate::http::context::{Ctx, RequestContext};
pub(crate) use crate::http::upload::FormData;
use crate::http::upload::{self, Limits};
use crate::http::{ApiRouter, PageRouter};
use crate::i18n::{Arg, k};
use crate::tenancy::{OrgType, TenantScope};
use crate::web::{FormErrors, PageCtx, render};

/// Default page size of lists.
pub const PAGE_SIZE: i64 = 25;

/// Portal pages.
pub fn pages() -> PageRouter {
    PageRouter::default()
        .route(
            "/portal/tickets",
            get(list_page).merge(post(create_form).layer(DefaultBodyLimit::disable())),
        )
        .route("/portal/tickets/new", get(new_page))
        .route("/portal/tickets/{number}", get(detail_page))
        .route(
            "/portal/tickets/{number}/comments",
            post(comment_form).layer(DefaultBodyLimit::disable()),
        )
        .route("/portal/tickets/{number}/close", post(close_form))
        .route("/portal/tickets/{number}/reopen", post(reopen_form))
}

/// Client JSON API.
pub fn api() -> ApiRouter {
    ApiRouter::default()
        .route(
            "/api/v1/tickets",
            get_with(api_list, |op| {
                op.id("listTickets").tag("tickets").summary("List my tickets")
                    .description("Client users see their own tickets (client admins: `scope=company` for the whole company). `status` is `open` (default), `resolved`, `closed` or `all`; `q` searches subject and description.")
            })
            .post_with(api_create, |op| {
                op.id("createTicket").tag("tickets").summary("Raise a ticket")
                    .response_with::<201, Json<TicketView>, _>(|r| r.description("Created."))
            }),
        )
        .route(
            "/api/v1/tickets/unseen",
            get_with(api_unseen, |op| {
                op.id("ticketsUnseen").tag("tickets").summary("Count of own tickets with unseen updates")
            }),
        )
        .route(
            "/api/v1/tickets/{number}",
            get_with(api_get, |op| {
                op.id("getTicket").tag("tickets").summary("Get a ticket with its public thread")
            }),
        )
        .route(
            "/api/v1/tickets/{number}/comments",
            post_with(api_comment, |op| {
                op.id("commentOnTicket").tag("tickets").summary("Add a comment")
                    .response_with::<201, Json<TicketView>, _>(|r| r.description("The ticket with the new comment."))
            }),
        )
        .route(
            "/api/v1/tickets/{number}/close",
            post_with(api_close, |op| {
                op.id("closeTicket").tag("tickets").summary("Close a ticket (\"my issue is solved\")")
            }),
        )
        .route(
            "/api/v1/tickets/{number}/reopen",
            post_with(api_reopen, |op| {
                op.id("reopenTicket").tag("tickets").summary("Reopen a resolved or closed ticket")
            }),
        )
        .route(
            "/api/v1/tickets/{number}/attachments",
            post_with(api_upload, |op| {
                op.id("uploadTicketAttachments").tag("tickets").summary("Attach files")
                    .description("A `multipart/form-data` body with one or more `attachments` file parts.")
                    .input::<Multipart>()
                    .response_with::<201, Json<TicketView>, _>(|r| r.description("The ticket with its files."))
            })
            .layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/api/v1/tickets/{number}/attachments/{id}",
            get_with(api_download, |op| {
                op.id("downloadTicketAttachment").tag("tickets").summary("Download an attachment")
                    .response_with::<200, Vec<u8>, _>(|r| r.description("The file, as an attachment download."))
            }),
        )
}

/// Serves the live-update script (`/assets/tickets.js`).
pub async fn script() -> Response {
    let mut r = include_str!("../web/static/tickets.js").into_response();
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

/// Parses `{number}`; anything else is a missing ticket.
pub(crate) fn number(s: &str) -> AppResult<i64> {
    s.trim_start_matches('#')
        .parse::<i64>()
        .map_err(|_| AppError::NotFound)
}

/// A client of an MSP tenant: tickets exist only there.
fn client(p: &Principal) -> AppResult<String> {
    match (&p.company_id, p.tenant.org_type) {
        (Some(c), OrgType::Msp) => Ok(c.as_str().to_string()),
        _ => Err(AppError::NotFound),
    }
}

/// Reads a ticket form or upload (files on `attachments`, at most [`MAX_FILES`]), streaming
/// its files into `scope`'s storage. Called after the access checks, so that a caller who may
/// not see the ticket gets its 404 whatever the body is.
pub(crate) async fn read_multipart(
    app: &AppState,
    scope: &TenantScope,
    req: axum::extract::Request,
) -> AppResult<FormData> {
    upload::read(app, scope, req, Limits::new(app, MAX_FILES, "attachments")).await
}

/// Sends an attachment's bytes as a download.
pub(crate) async fn download(
    app: &AppState,
    scope: &TenantScope,
    t: &Ticket,
    id: &str,
    include_internal: bool,
) -> AppResult<Response> {
    let a = store::attachment(&app.db, scope, &t.id, id, include_internal)
        .await?
        .ok_or(AppError::NotFound)?;
    let (size, stream) = app
        .files
        .get(&ObjectKey::stored(a.storage_key.clone()))
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("attachment {} unreadable: {e}", a.id)))?;
    let mut r = axum::body::Body::from_stream(stream).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&a.content_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    let ascii: String = a
        .filename
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = a
        .filename
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(r)
}

// ---------------------------------------------------------------------------------------
// Views shared by pages and the API.

/// A ticket with its thread, as the API returns it and the detail pages show it.
#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct TicketView {
    #[serde(flatten)]
    pub ticket: Ticket,
    pub sla_state: SlaState,
    pub comments: Vec<Comment>,
    /// Files attached to the ticket itself (not to a comment).
    pub attachments: Vec<Attachment>,
    pub history: Vec<HistoryRow>,
}

/// Loads the thread; internal notes and their files only for staff.
pub(crate) async fn view(
    app: &AppState,
    scope: &TenantScope,
    t: Ticket,
    staff: bool,
) -> AppResult<TicketView> {
    let comments = store::comments(&app.db, scope, &t.id, staff).await?;
    let attachments = store::attachments(&app.db, scope, &t.id, staff)
        .await?
        .into_iter()
        .filter(|a| a.comment_id.is_none())
        .collect();
    let history = store::history(&app.db, scope, &t.id).await?;
    Ok(TicketView {
        sla_state: t.sla_state(now_ms()),
        ticket: t,
        comments,
        attachments,
        history,
    })
}

/// A list row for pages.
pub(crate) struct Row {
    pub t: TicketSummary,
    pub sla: SlaState,
}

/// Turns the list query into a filter.
#[derive(Deserialize, Default, Clone, schemars::JsonSchema)]
pub(crate) struct ListQuery {
    pub status: Option<String>,
    pub q: Option<String>,
    pub sort: Option<String>,
    pub scope: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
    pub priority: Option<String>,
    pub company: Option<String>,
    pub assignee: Option<String>,
    pub sla: Option<String>,
    pub notice: Option<String>,
}

/// `open` (default), `closed` or `all`; a single status name also works.
pub(crate) fn statuses(s: Option<&str>) -> Vec<Status> {
    let active = vec![Status::New, Status::Open, Status::Pending, Status::OnHold];
    match s.unwrap_or("open") {
        "all" => Vec::new(),
        "open" => active,
        "open_only" => vec![Status::Open],
        "closed" => vec![Status::Resolved, Status::Closed],
        other => Status::parse(other).map(|s| vec![s]).unwrap_or(active),
    }
}

/// The scope of a client's list: company-wide viewers see the company (admins may narrow to
/// their own); everyone else their own and cc'd tickets.
fn client_scope(
    p: &Principal,
    company_id: String,
    requested: Option<&str>,
) -> (ListScope, &'static str) {
    let wide = p.can(Permission::ViewCompanyTickets);
    if wide && !(requested == Some("mine") && p.can(Permission::CreateTickets)) {
        (ListScope::Company(company_id), "company")
    } else {
        (
            ListScope::Mine {
                company_id,
                user_id: p.user_id.as_str().to_string(),
            },
            "mine",
        )
    }
}

fn client_filter(p: &Principal, company_id: String, q: &ListQuery) -> (ListFilter, &'static str) {
    let (scope, name) = client_scope(p, company_id, q.scope.as_deref());
    (
        ListFilter {
            scope,
            statuses: statuses(q.status.as_deref()),
            q: q.q.clone().filter(|s| !s.trim().is_empty()),
            priority: None,
            company_id: None,
            assignee_id: None,
            sla: None,
            sort: Sort::parse(q.sort.as_deref()),
            cursor: q.cursor.clone().filter(|c| !c.is_empty()),
            limit: q.limit.unwrap_or(PAGE_SIZE).clamp(1, 200),
            search_internal: false,
        },
        name,
    )
}

/// A page link keeping the filters, with another cursor.
pub(crate) fn next_link(base: &str, q: &ListQuery, cursor: &str) -> String {
    let mut pairs: Vec<(&str, String)> = Vec::new();
    for (k, v) in [
        ("status", &q.status),
        ("q", &q.q),
        ("sort", &q.sort),
        ("scope", &q.scope),
        ("priority", &q.priority),
        ("company", &q.company),
        ("assignee", &q.assignee),
        ("sla", &q.sla),
    ] {
        if let Some(v) = v.as_ref().filter(|v| !v.is_empty()) {
            pairs.push((k, v.clone()));
        }
    }
    pairs.push(("cursor", cursor.to_string()));
    format!(
        "{base}?{}",
        serde_urlencoded::to_string(&pairs).unwrap_or_default()
    )
}

// ---------------------------------------------------------------------------------------
// Pages.

#[derive(askama::Template)]
#[template(path = "tickets/templates/list.html")]
struct ListPage {
    page: PageCtx,
    rows: Vec<Row>,
    next: Option<String>,
    status: String,
    q: String,
    sort: String,
    scope: String,
    can_choose_scope: bool,
    can_create: bool,
    notice: Option<&'static str>,
}

async fn list_page(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    let company = client(&user)?;
    let (filter, scope) = client_filter(&user, company, &q);
    let (items, next) = store::list(&app.db, &user.scope(), &filter).await?;
    let now = now_ms();
    render(&ListPage {
        page: PageCtx::new(&ctx),
        rows: items
            .into_iter()
            .map(|t| Row {
                sla: t.sla_state(now),
                t,
            })
            .collect(),
        next: next.map(|c| next_link("/portal/tickets", &q, &c)),
        status: q.status.clone().unwrap_or_else(|| "open".into()),
        q: q.q.clone().unwrap_or_default(),
        sort: filter.sort.as_str().into(),
        scope: scope.into(),
        can_choose_scope: user.can(Permission::ViewCompanyTickets)
            && user.can(Permission::CreateTickets),
        can_create: user.can(Permission::CreateTickets),
        notice: match q.notice.as_deref() {
            Some("created") => Some(k("ticket-notice-created")),
            _ => None,
        },
    })
}

#[derive(askama::Template)]
#[template(path = "tickets/templates/new.html")]
struct NewPage {
    page: PageCtx,
    errors: FormErrors,
    subject: String,
    description: String,
    priority: String,
    category: String,
    cc: Vec<String>,
    colleagues: Vec<Pick>,
    categories: &'static [&'static str],
    priorities: &'static [Priority],
}

async fn new_view(
    app: &AppState,
    ctx: &RequestContext,
    user: &Principal,
    form: Option<&FormData>,
    errors: FormErrors,
) -> AppResult<Response> {
    let company = client(user)?;
    let colleagues = store::users_of_kind(&app.db, &user.scope(), "client", Some(&company))
        .await?
        .into_iter()
        .filter(|u| u.id != user.user_id.as_str())
        .collect();
    let get = |k: &str| form.map(|f| f.get(k)).unwrap_or_default();
    let failed = !errors.is_empty();
    let mut r = render(&NewPage {
        page: PageCtx::new(ctx),
        errors,
        subject: get("subject"),
        description: get("description"),
        priority: form
            .map(|f| f.get("priority"))
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| "normal".into()),
        category: get("category"),
        cc: form.map(|f| f.all("cc")).unwrap_or_default(),
        colleagues,
        categories: &CATEGORIES,
        priorities: &super::ALL_PRIORITIES,
    })?;
    if failed {
        *r.status_mut() = StatusCode::BAD_REQUEST;
    }
    Ok(r)
}

async fn new_page(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
) -> AppResult<Response> {
    user.require(Permission::CreateTickets)?;
    new_view(&app, &ctx, &user, None, FormErrors::default()).await
}

async fn create_form(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    req: axum::extract::Request,
) -> AppResult<Response> {
    let company = client(&user)?;
    let actor = user.require(Permission::CreateTickets)?;
    let form = read_multipart(&app, actor.scope(), req).await?;
    let checked = service::check_fields(
        &form.get("subject"),
        &form.get("description"),
        &form.get("priority"),
        &form.get("category"),
    );
    let (subject, description, priority, category) = match (checked, form.file_error()) {
        (Ok(v), None) => v,
        (r, fe) => {
            let mut errs = r.err().unwrap_or_default();
            errs.extend(fe);
            if !form.files.is_empty() || errs.iter().any(|e| e.field == "attachments") {
                errs.push(FieldError {
                    field: "attachments_again".into(),
                    message: k("ticket-error-attach-again").into(),
                });
            }
            return new_view(&app, &ctx, &user, Some(&form), FormErrors(errs)).await;
        }
    };
    let t = service::create(
        &app,
        &actor,
        &ctx.ip,
        CreateInput {
            company_id: company,
            requester_id: actor.user_id().as_str().to_string(),
            subject,
            description,
            priority,
            category: category.into(),
            cc: form.all("cc"),
        },
        form.files,
    )
    .await?;
    Ok(Redirect::to(&format!("/portal/tickets/{}?notice=created", t.number)).into_response())
}

#[derive(askama::Template)]
#[template(path = "tickets/templates/detail.html")]
struct DetailPage {
    page: PageCtx,
    v: TicketView,
    file_base: String,
    can_comment: bool,
    can_close: bool,
    can_reopen: bool,
    reopen_days: i64,
    errors: FormErrors,
    body: String,
    reason: String,
    notice: Option<&'static str>,
    error: Option<String>,
}

impl DetailPage {
    fn confirm_close(&self) -> String {
        self.page.t.args(
            k("ticket-confirm-close"),
            &[
                ("number", Arg::Str(self.v.ticket.number.to_string())),
                ("days", Arg::Num(self.reopen_days)),
            ],
        )
    }

    fn reopen_hint(&self) -> String {
        self.page.t.args(
            k("ticket-reopen-hint"),
            &[("days", Arg::Num(self.reopen_days))],
        )
    }
}

struct DetailInput<'a> {
    errors: FormErrors,
    body: String,
    reason: String,
    notice: Option<&'a str>,
    error: Option<String>,
}

async fn detail_view(
    app: &AppState,
    ctx: &RequestContext,
    user: &Principal,
    t: Ticket,
    input: DetailInput<'_>,
    status: StatusCode,
) -> AppResult<Response> {
    let can_comment = user.can(Permission::CommentOnTickets) && !t.status.is_done();
    let can_close = user.can(Permission::CloseTickets) && super::allowed(t.status, Status::Closed);
    let can_reopen = user.can(Permission::CloseTickets)
        && super::can_reopen(t.status, t.done_at(), now_ms(), app.config.reopen_days);
    let file_base = format!("/api/v1/tickets/{}/attachments", t.number);
    let v = view(app, &user.scope(), t, false).await?;
    let mut r = render(&DetailPage {
        page: PageCtx::new(ctx),
        v,
        file_base,
        can_comment,
        can_close,
        can_reopen,
        reopen_days: app.config.reopen_days,
        errors: input.errors,
        body: input.body,
        reason: input.reason,
        notice: match input.notice {
            Some("created") => Some(k("ticket-notice-created")),
            Some("commented") => Some(k("ticket-notice-commented")),
            Some("closed") => Some(k("ticket-notice-closed")),
            Some("reopened") => Some(k("ticket-notice-reopened")),
            _ => None,
        },
        error: input.error,
    })?;
    *r.status_mut() = status;
    Ok(r)
}

#[derive(Deserialize, Default)]
struct NoticeQuery {
    notice: Option<String>,
}

async fn detail_page(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Path(n): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> AppResult<Response> {
    client(&user)?;
    let t = service::visible(&app, &user, number(&n)?).await?;
    store::mark_seen(
        &app.db,
        &user.scope(),
        user.user_id.as_str(),
        &t.id,
        t.updated_at,
    )
    .await?;
    detail_view(
        &app,
        &ctx,
        &user,
        t,
        DetailInput {
            errors: FormErrors::default(),
            body: String::new(),
            reason: String::new(),
            notice: q.notice.as_deref(),
            error: None,
        },
        StatusCode::OK,
    )
    .await
}

/// Re-renders the detail page for a refused form, keeping what was typed.
async fn detail_error(
    app: &AppState,
    ctx: &RequestContext,
    user: &Principal,
    t: Ticket,
    e: AppError,
    body: String,
    reason: String,
) -> AppResult<Response> {
    let status = e.status();
    let (errors, error) = match &e {
        AppError::Validation { .. } => (FormErrors::from(&e), None),
        AppError::Unprocessable(_) | AppError::Conflict(_) => {
            (FormErrors::default(), Some(e.to_string()))
        }
        _ => return Err(e),
    };
    detail_view(
        app,
        ctx,
        user,
        t,
        DetailInput {
            errors,
            body,
            reason,
            notice: None,
            error,
        },
        status,
    )
    .await
}

async fn comment_form(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Path(n): Path<String>,
    req: axum::extract::Request,
) -> AppResult<Response> {
    client(&user)?;
    let t = service::visible(&app, &user, number(&n)?).await?;
    let actor = user.require(Permission::CommentOnTickets)?;
    let form = read_multipart(&app, actor.scope(), req).await?;
    let body = form.get("body");
    if let Some(fe) = form.file_error() {
        return detail_error(
            &app,
            &ctx,
            &user,
            t,
            AppError::fields(vec![fe]),
            body,
            String::new(),
        )
        .await;
    }
    let number = t.number;
    match service::comment(
        &app,
        &actor,
        &ctx.ip,
        &t,
        CommentInput {
            body: body.clone(),
            internal: false,
        },
        form.files,
    )
    .await
    {
        Ok(_) => Ok(Redirect::to(&format!(
            "/portal/tickets/{number}?notice=commented#comments"
        ))
        .into_response()),
        Err(e) => detail_error(&app, &ctx, &user, t, e, body, String::new()).await,
    }
}

async fn close_form(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Path(n): Path<String>,
) -> AppResult<Response> {
    client(&user)?;
    let t = service::visible(&app, &user, number(&n)?).await?;
    let actor = user.require(Permission::CloseTickets)?;
    let number = t.number;
    match service::set_status(&app, &actor, &ctx.ip, &t, Status::Closed, None).await {
        Ok(_) => {
            Ok(Redirect::to(&format!("/portal/tickets/{number}?notice=closed")).into_response())
        }
        Err(e) => detail_error(&app, &ctx, &user, t, e, String::new(), String::new()).await,
    }
}

#[derive(Deserialize)]
struct ReopenForm {
    #[serde(default)]
    reason: String,
}

async fn reopen_form(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Path(n): Path<String>,
    axum::Form(f): axum::Form<ReopenForm>,
) -> AppResult<Response> {
    client(&user)?;
    let t = service::visible(&app, &user, number(&n)?).await?;
    let actor = user.require(Permission::CloseTickets)?;
    let number = t.number;
    match service::reopen(&app, &actor, &ctx.ip, &t, &f.reason).await {
        Ok(_) => {
            Ok(Redirect::to(&format!("/portal/tickets/{number}?notice=reopened")).into_response())
        }
        Err(e) => detail_error(&app, &ctx, &user, t, e, String::new(), f.reason).await,
    }
}

// ---------------------------------------------------------------------------------------
// JSON API.

/// A page of tickets.
#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct TicketPage {
    pub items: Vec<ListItem>,
    pub next_cursor: Option<String>,
}

/// A list item: the ticket without its description, plus the SLA state.
#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct ListItem {
    pub number: i64,
    pub subject: String,
    pub status: Status,
    pub priority: Priority,
    pub category: String,
    pub company_id: String,
    pub company_name: String,
    pub requester: store::Person,
    pub assignee: Option<store::Person>,
    pub sla: super::Sla,
    pub sla_state: SlaState,
    pub created_at: i64,
    pub updated_at: i64,
}

pub(crate) fn list_items(items: Vec<TicketSummary>) -> Vec<ListItem> {
    let now = now_ms();
    items
        .into_iter()
        .map(|t| ListItem {
            sla_state: t.sla_state(now),
            number: t.number,
            subject: t.subject,
            status: t.status,
            priority: t.priority,
            category: t.category,
            company_id: t.company_id,
            company_name: t.company_name,
            requester: t.requester,
            assignee: t.assignee,
            sla: t.sla,
            created_at: t.created_at,
            updated_at: t.updated_at,
        })
        .collect()
}

async fn api_list(
    State(app): State<AppState>,
    user: PortalUser,
    Query(q): Query<ListQuery>,
) -> AppResult<Json<TicketPage>> {
    let company = client(&user)?;
    let (filter, _) = client_filter(&user, company, &q);
    let (items, next_cursor) = store::list(&app.db, &user.scope(), &filter).await?;
    Ok(Json(TicketPage {
        items: list_items(items),
        next_cursor,
    }))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    #[serde(default)]
    subject: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    priority: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    cc: Vec<String>,
}

async fn api_create(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Json(b): Json<CreateBody>,
) -> AppResult<Response> {
    let company = client(&user)?;
    let actor = user.require(Permission::CreateTickets)?;
    let (subject, description, priority, category) =
        service::check_fields(&b.subject, &b.description, &b.priority, &b.category)
            .map_err(AppError::fields)?;
    let t = service::create(
        &app,
        &actor,
        &ctx.ip,
        CreateInput {
            company_id: company,
            requester_id: actor.user_id().as_str().to_string(),
            subject,
            description,
            priority,
            category: category.into(),
            cc: b.cc,
        },
        Pending::new(app.files.clone()),
    )
    .await?;
    store::mark_seen(
        &app.db,
        actor.scope(),
        actor.user_id().as_str(),
        &t.id,
        t.updated_at,
    )
    .await?;
    let v = view(&app, actor.scope(), t, false).await?;
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

async fn api_get(
    State(app): State<AppState>,
    user: PortalUser,
    Path(n): Path<String>,
) -> AppResult<Json<TicketView>> {
    client(&user)?;
    let t = service::visible(&app, &user, number(&n)?).await?;
    store::mark_seen(
        &app.db,
        &user.scope(),
        user.user_id.as_str(),
        &t.id,
        t.updated_at,
    )
    .await?;
    Ok(Json(view(&app, &user.scope(), t, false).await?))
}

/// Number of the user's tickets with updates they have not opened yet (the navigation badge).
#[derive(Serialize, schemars::JsonSchema)]
struct Unseen {
    count: i64,
}

async fn api_unseen(State(app): State<AppState>, user: PortalUser) -> AppResult<Json<Unseen>> {
    client(&user)?;
    let count = store::unseen_count(&app.db, &user.scope(), user.user_id.as_str()).await?;
    Ok(Json(Unseen { count }))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct CommentBody {
    #[serde(default)]
    body: String,
}

async fn api_comment(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Path(n): Path<String>,
    Json(b): Json<CommentBody>,
) -> AppResult<Response> {
    client(&user)?;
    let t = service::visible(&app, &user, number(&n)?).await?;
    let actor = user.require(Permission::CommentOnTickets)?;
    let t = service::comment(
        &app,
        &actor,
        &ctx.ip,
        &t,
        CommentInput {
            body: b.body,
            internal: false,
        },
        Pending::new(app.files.clone()),
    )
    .await?;
    store::mark_seen(
        &app.db,
        actor.scope(),
        actor.user_id().as_str(),
        &t.id,
        t.updated_at,
    )
    .await?;
    let v = view(&app, actor.scope(), t, false).await?;
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

/// `POST …/close` takes an empty JSON object, so a stray or malformed body is refused
/// instead of closing the ticket.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct CloseBody {}

async fn api_close(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Path(n): Path<String>,
    Json(_): Json<CloseBody>,
) -> AppResult<Json<TicketView>> {
    client(&user)?;
    let t = service::visible(&app, &user, number(&n)?).await?;
    let actor = user.require(Permission::CloseTickets)?;
    let t = service::set_status(&app, &actor, &ctx.ip, &t, Status::Closed, None).await?;
    Ok(Json(view(&app, actor.scope(), t, false).await?))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct ReopenBody {
    #[serde(default)]
    reason: String,
}

async fn api_reopen(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Path(n): Path<String>,
    Json(b): Json<ReopenBody>,
) -> AppResult<Json<TicketView>> {
    client(&user)?;
    let t = service::visible(&app, &user, number(&n)?).await?;
    let actor = user.require(Permission::CloseTickets)?;
    let t = service::reopen(&app, &actor, &ctx.ip, &t, &b.reason).await?;
    Ok(Json(view(&app, actor.scope(), t, false).await?))
}

async fn api_upload(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Path(n): Path<String>,
    req: axum::extract::Request,
) -> AppResult<Response> {
    client(&user)?;
    let t = service::visible(&app, &user, number(&n)?).await?;
    let actor = user.require(Permission::CommentOnTickets)?;
    let form = read_multipart(&app, actor.scope(), req).await?;
    if let Some(fe) = form.file_error() {
        return Err(AppError::fields(vec![fe]));
    }
    if form.files.is_empty() {
        return Err(AppError::field("attachments", "Choose at least one file."));
    }
    let t = service::add_files(&app, &actor, &ctx.ip, &t, form.files).await?;
    let v = view(&app, actor.scope(), t, false).await?;
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

async fn api_download(
    State(app): State<AppState>,
    user: PortalUser,
    Path((n, id)): Path<(String, String)>,
) -> AppResult<Response> {
    client(&user)?;
    let t = service::visible(&app, &user, number(&n)?).await?;
    download(&app, &user.scope(), &t, &id, false).await
}
