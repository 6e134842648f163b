//! Portal pages (`pages`) and the client JSON API (`api`) for tickets, registered here with the
//! views and helpers both share; the staff side is `tickets::admin`.

mod api;
mod pages;

use aide::axum::routing::{get_with, post_with};

use axum::Json;
use axum::extract::{DefaultBodyLimit, Multipart};

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};

use super::service::MAX_FILES;
use super::store::{
    self, Attachment, Comment, HistoryRow, ListFilter, ListScope, Sort, Ticket, TicketSummary,
};
use super::{SlaState, Status};
use crate::app::AppState;
use crate::auth::{Permission, Principal};
use crate::db::now_ms;
use crate::error::{AppError, AppResult};
use crate::files::ObjectKey;
pub(crate) use crate::http::upload::FormData;
use crate::http::upload::{self, Limits};
use crate::http::{ApiRouter, PageRouter};
use crate::tenancy::{OrgType, TenantScope};

use api::*;
pub(crate) use api::{TicketPage, list_items};
use pages::*;

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
    let mut r = include_str!("../../web/static/tickets.js").into_response();
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
    /// The service-catalog request the ticket came from, with its answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub catalog_request: Option<crate::catalog::RequestView>,
}

/// Loads the thread; internal notes and their files only for staff.
pub(crate) async fn view(
    app: &AppState,
    scope: &TenantScope,
    t: Ticket,
    staff: bool,
) -> AppResult<TicketView> {
    // Independent reads run side by side: the page waits for the slowest, not the sum.
    let ((comments, attachments), history, catalog_request) = tokio::try_join!(
        async { Ok::<_, AppError>(store::thread(&app.db, scope, &t.id, staff).await?) },
        async { Ok::<_, AppError>(store::history(&app.db, scope, &t.id).await?) },
        crate::catalog::service::request_view(app, scope, &t.id),
    )?;
    Ok(TicketView {
        catalog_request,
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
