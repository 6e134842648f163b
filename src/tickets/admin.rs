//! Staff pages and JSON API for the ticket queue.

use aide::axum::routing::{get_with, post_with};
use axum::Json;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::routes::{
    FormData, ListQuery, PAGE_SIZE, Row, TicketPage, TicketView, download, list_items, next_link,
    number, read_multipart, statuses, view,
};
use super::service::{self, CommentInput, CreateInput};
use super::store::{self, ListFilter, ListScope, Pick, Sort, Ticket};
use super::views::{self, SavedView};
use super::{ALL_PRIORITIES, ALL_STATUSES, CATEGORIES, Priority, SlaState, Status};
use crate::app::AppState;
use crate::auth::{Actor, Permission, StaffUser};
use crate::db::now_ms;
use crate::error::{AppError, AppResult, FieldError};
use crate::files::Pending;
use crate::http::context::{Ctx, RequestContext};
use crate::http::{ApiRouter, PageRouter};
use crate::i18n::k;
use crate::web::{FormErrors, PageCtx, render};

/// Staff pages.
pub fn pages() -> PageRouter {
    PageRouter::default()
        .route(
            "/admin/tickets",
            get(queue_page).merge(post(create_form).layer(DefaultBodyLimit::disable())),
        )
        .route("/admin/tickets/new", get(new_page))
        .route("/admin/tickets/bulk", post(bulk_form))
        .route("/admin/tickets/views", post(save_view_form))
        .route("/admin/tickets/views/{id}", get(open_view))
        .route("/admin/tickets/views/{id}/delete", post(delete_view_form))
        .route("/admin/tickets/{number}", get(detail_page))
        .route("/admin/tickets/{number}/update", post(update_form))
        .route(
            "/admin/tickets/{number}/comments",
            post(comment_form).layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/admin/tickets/{number}/attachments/{id}",
            get(download_page),
        )
}

/// Staff JSON API.
pub fn api() -> ApiRouter {
    ApiRouter::default()
        .route(
            "/api/v1/admin/tickets",
            get_with(api_list, |op| {
                op.id("listQueue")
                    .tag("tickets")
                    .summary("The staff ticket queue")
                    .description("Needs `manage_tickets`.")
            })
            .post_with(api_create, |op| {
                op.id("createTicketForClient")
                    .tag("tickets")
                    .summary("Raise a ticket on a client's behalf")
                    .response_with::<201, Json<TicketView>, _>(|r| r.description("Created."))
            }),
        )
        .route(
            "/api/v1/admin/tickets/{number}",
            get_with(api_get, |op| {
                op.id("getQueueTicket")
                    .tag("tickets")
                    .summary("Get a ticket with internal notes")
            })
            .patch_with(api_patch, |op| {
                op.id("updateTicket")
                    .tag("tickets")
                    .summary("Change status, priority or assignee")
            }),
        )
        .route(
            "/api/v1/admin/tickets/{number}/comments",
            post_with(api_comment, |op| {
                op.id("replyToTicket")
                    .tag("tickets")
                    .summary("Reply publicly or add an internal note")
                    .response_with::<201, Json<TicketView>, _>(|r| {
                        r.description("The ticket with the new comment.")
                    })
            }),
        )
}

/// The queue filter of a query; `assignee=me` is the viewer (the dashboard's "My tickets").
fn staff_filter(q: &ListQuery, me: &str) -> ListFilter {
    ListFilter {
        scope: ListScope::Tenant,
        statuses: statuses(q.status.as_deref()),
        q: q.q.clone().filter(|s| !s.trim().is_empty()),
        priority: q.priority.as_deref().and_then(Priority::parse),
        company_id: q.company.clone().filter(|c| !c.is_empty()),
        assignee_id: match q.assignee.as_deref() {
            None | Some("") | Some("any") => None,
            Some("none") => Some(String::new()),
            Some("me") => Some(me.to_string()),
            Some(a) => Some(a.to_string()),
        },
        sla: match q.sla.as_deref() {
            Some("breached") => Some(SlaState::Breached),
            Some("due_soon") => Some(SlaState::DueSoon),
            Some("ok") => Some(SlaState::Ok),
            _ => None,
        },
        sort: Sort::parse(q.sort.as_deref()),
        cursor: q.cursor.clone().filter(|c| !c.is_empty()),
        limit: q.limit.unwrap_or(PAGE_SIZE).clamp(1, 200),
        search_internal: true,
    }
}

#[derive(askama::Template)]
#[template(path = "tickets/templates/admin_list.html")]
struct QueuePage {
    page: PageCtx,
    rows: Vec<Row>,
    next: Option<String>,
    q: ListQuery,
    companies: Vec<crate::companies::Company>,
    staff: Vec<Pick>,
    statuses: &'static [Status],
    priorities: &'static [Priority],
    /// The user's saved views.
    views: Vec<SavedView>,
    /// The filters shown, as a saved view would keep them.
    current_query: String,
    notice: Option<&'static str>,
    errors: FormErrors,
    /// The outcome per ticket of a bulk action just applied.
    bulk: Vec<BulkOutcome>,
}

impl QueuePage {
    fn sel(&self, v: &Option<String>, want: &str) -> bool {
        v.as_deref().unwrap_or("") == want
    }

    /// The filter value of a single status (`open` alone means every active status).
    fn status_key(&self, s: &Status) -> &'static str {
        if *s == Status::Open {
            "open_only"
        } else {
            s.as_str()
        }
    }
}

/// What happened to one ticket of a bulk action.
struct BulkOutcome {
    number: String,
    /// The message (a catalog key or encoded message) when it was not changed.
    error: Option<String>,
}

/// The filters of a queue query as a saved view keeps them.
fn filter_query(q: &ListQuery) -> String {
    let mut out = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in [
        ("status", &q.status),
        ("priority", &q.priority),
        ("company", &q.company),
        ("assignee", &q.assignee),
        ("sla", &q.sla),
        ("sort", &q.sort),
        ("q", &q.q),
    ] {
        if let Some(v) = v.as_ref().filter(|v| !v.is_empty()) {
            out.append_pair(k, v);
        }
    }
    views::canonical_query(&out.finish())
}

/// Extras of a queue page beyond its list.
#[derive(Default)]
struct QueueExtras {
    notice: Option<&'static str>,
    errors: FormErrors,
    bulk: Vec<BulkOutcome>,
}

async fn queue_view(
    app: &AppState,
    ctx: &RequestContext,
    actor: &Actor,
    q: ListQuery,
    extras: QueueExtras,
) -> AppResult<Response> {
    let filter = staff_filter(&q, actor.user_id().as_str());
    let (items, next) = store::list(&app.db, actor.scope(), &filter).await?;
    let now = now_ms();
    let mut q = q;
    if q.assignee.as_deref() == Some("me") {
        // Show the viewer as the chosen assignee, so the filter bar tells the truth.
        q.assignee = Some(actor.user_id().as_str().to_string());
    }
    if q.status.is_none() {
        q.status = Some("open".into());
    }
    let notice = extras.notice.or(match q.notice.as_deref() {
        Some("view_saved") => Some(k("ticket-view-saved")),
        Some("view_deleted") => Some(k("ticket-view-deleted")),
        _ => None,
    });
    render(&QueuePage {
        page: PageCtx::new(ctx),
        rows: items
            .into_iter()
            .map(|t| Row {
                sla: t.sla_state(now),
                t,
            })
            .collect(),
        next: next.map(|c| next_link("/admin/tickets", &q, &c)),
        companies: crate::companies::list(&app.db, actor.scope(), None, 500).await?,
        staff: store::users_of_kind(&app.db, actor.scope(), "staff", None).await?,
        views: views::list(&app.db, actor).await?,
        current_query: filter_query(&q),
        q,
        statuses: &ALL_STATUSES,
        priorities: &ALL_PRIORITIES,
        notice,
        errors: extras.errors,
        bulk: extras.bulk,
    })
}

async fn queue_page(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageTickets)?;
    queue_view(&app, &ctx, &actor, q, QueueExtras::default()).await
}

#[derive(Deserialize, Default)]
struct SaveViewForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    query: String,
}

async fn save_view_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    axum::Form(f): axum::Form<SaveViewForm>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageTickets)?;
    match views::save(&app.db, &actor, &ctx.ip, &f.name, &f.query).await {
        Ok(v) => {
            let sep = if v.query.is_empty() { "" } else { "&" };
            Ok(
                Redirect::to(&format!("/admin/tickets?{}{sep}notice=view_saved", v.query))
                    .into_response(),
            )
        }
        Err(e @ AppError::Validation { .. }) => {
            let q: ListQuery =
                serde_urlencoded::from_str(&views::canonical_query(&f.query)).unwrap_or_default();
            let extras = QueueExtras {
                errors: FormErrors::from(&e),
                ..QueueExtras::default()
            };
            let mut r = queue_view(&app, &ctx, &actor, q, extras).await?;
            *r.status_mut() = StatusCode::BAD_REQUEST;
            Ok(r)
        }
        Err(e) => Err(e),
    }
}

/// Opens a saved view: the queue with its filters.
async fn open_view(
    State(app): State<AppState>,
    staff: StaffUser,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageTickets)?;
    let v = views::get(&app.db, &actor, &id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Redirect::to(&format!("/admin/tickets?{}", v.query)).into_response())
}

async fn delete_view_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageTickets)?;
    views::delete(&app.db, &actor, &ctx.ip, &id).await?;
    Ok(Redirect::to("/admin/tickets?notice=view_deleted").into_response())
}

/// Most tickets one bulk action changes.
const BULK_MAX: usize = 200;

/// Applies one change to every selected ticket, each through `service::update` (rules,
/// audit row, event, emails per ticket, each in its own transaction), and reports per ticket.
async fn bulk_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    body: axum::body::Bytes,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageTickets)?;
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
    let get = |key: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let mut numbers: Vec<String> = Vec::new();
    for (k, v) in &pairs {
        if k == "number" && !numbers.contains(v) {
            numbers.push(v.clone());
        }
    }
    let q: ListQuery =
        serde_urlencoded::from_str(&views::canonical_query(&get("query"))).unwrap_or_default();
    let refuse = |field: &str, key: &'static str| AppError::field(field, k(key));
    let change = match get("action").as_str() {
        "assign" => Ok(service::Changes {
            assignee: Some(None),
            ..service::Changes::default()
        }),
        "status" => match Status::parse(&get("status")) {
            Some(s) => Ok(service::Changes {
                status: Some(s),
                ..service::Changes::default()
            }),
            None => Err(refuse("status", "ticket-error-status-value")),
        },
        _ => Err(refuse("action", "ticket-bulk-error-action")),
    };
    let change = change.and_then(|c| {
        if numbers.is_empty() {
            Err(refuse("number", "ticket-bulk-error-none"))
        } else if numbers.len() > BULK_MAX {
            Err(refuse("number", "ticket-bulk-error-too-many"))
        } else {
            Ok(c)
        }
    });
    let change = match change {
        Ok(c) => c,
        Err(e) => {
            let extras = QueueExtras {
                errors: FormErrors::from(&e),
                ..QueueExtras::default()
            };
            let mut r = queue_view(&app, &ctx, &actor, q, extras).await?;
            *r.status_mut() = StatusCode::BAD_REQUEST;
            return Ok(r);
        }
    };
    let assignee = get("assignee_id");
    let mut outcomes = Vec::new();
    for n in numbers {
        let result = async {
            let t = find(&app, &staff, &n).await?;
            let c = service::Changes {
                status: change.status,
                assignee: change
                    .assignee
                    .map(|_| Some(assignee.as_str()).filter(|a| !a.is_empty())),
                ..service::Changes::default()
            };
            service::update(&app, &actor, &ctx.ip, &t, c).await
        }
        .await;
        outcomes.push(BulkOutcome {
            number: n,
            error: match result {
                Ok(_) => None,
                Err(AppError::NotFound) => Some(k("ticket-bulk-not-found").to_string()),
                Err(AppError::Internal(e)) => return Err(AppError::Internal(e)),
                Err(e) => Some(e.to_string()),
            },
        });
    }
    let failed = outcomes.iter().all(|o| o.error.is_some());
    let extras = QueueExtras {
        notice: Some(if failed {
            k("ticket-bulk-none-changed")
        } else {
            k("ticket-bulk-applied")
        }),
        bulk: outcomes,
        ..QueueExtras::default()
    };
    let mut r = queue_view(&app, &ctx, &actor, q, extras).await?;
    if failed {
        *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(r)
}

#[derive(askama::Template)]
#[template(path = "tickets/templates/admin_new.html")]
struct NewPage {
    page: PageCtx,
    errors: FormErrors,
    requester_id: String,
    subject: String,
    description: String,
    priority: String,
    category: String,
    clients: Vec<Pick>,
    categories: &'static [&'static str],
    priorities: &'static [Priority],
}

async fn new_view(
    app: &AppState,
    ctx: &RequestContext,
    actor: &Actor,
    form: Option<&FormData>,
    errors: FormErrors,
) -> AppResult<Response> {
    let get = |k: &str| form.map(|f| f.get(k)).unwrap_or_default();
    let failed = !errors.is_empty();
    let mut r = render(&NewPage {
        page: PageCtx::new(ctx),
        errors,
        requester_id: get("requester_id"),
        subject: get("subject"),
        description: get("description"),
        priority: form
            .map(|f| f.get("priority"))
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| "normal".into()),
        category: get("category"),
        clients: store::users_of_kind(&app.db, actor.scope(), "client", None).await?,
        categories: &CATEGORIES,
        priorities: &ALL_PRIORITIES,
    })?;
    if failed {
        *r.status_mut() = StatusCode::BAD_REQUEST;
    }
    Ok(r)
}

async fn new_page(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageTickets)?;
    new_view(&app, &ctx, &actor, None, FormErrors::default()).await
}

/// Checks the fields of a ticket raised on a client's behalf.
async fn check_create(
    app: &AppState,
    actor: &Actor,
    requester_id: &str,
    subject: &str,
    description: &str,
    priority: &str,
    category: &str,
) -> Result<CreateInput, Vec<FieldError>> {
    let mut errs = Vec::new();
    let clients = store::users_of_kind(&app.db, actor.scope(), "client", None)
        .await
        .unwrap_or_default();
    let requester = clients.iter().find(|c| c.id == requester_id);
    if requester.is_none() {
        errs.push(FieldError {
            field: "requester_id".into(),
            message: k("ticket-error-requester").into(),
        });
    }
    let fields = service::check_fields(subject, description, priority, category);
    match (fields, requester) {
        (Ok((subject, description, priority, category)), Some(r)) if errs.is_empty() => {
            Ok(CreateInput {
                company_id: r.company_id.clone().unwrap_or_default(),
                requester_id: r.id.clone(),
                subject,
                description,
                priority,
                category: category.into(),
                cc: Vec::new(),
            })
        }
        (f, _) => {
            errs.extend(f.err().unwrap_or_default());
            Err(errs)
        }
    }
}

async fn create_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    req: axum::extract::Request,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageTickets)?;
    let form = read_multipart(&app, actor.scope(), req).await?;
    let checked = check_create(
        &app,
        &actor,
        &form.get("requester_id"),
        &form.get("subject"),
        &form.get("description"),
        &form.get("priority"),
        &form.get("category"),
    )
    .await;
    let input = match (checked, form.file_error()) {
        (Ok(i), None) => i,
        (r, fe) => {
            let mut errs = r.err().unwrap_or_default();
            errs.extend(fe);
            return new_view(&app, &ctx, &actor, Some(&form), FormErrors(errs)).await;
        }
    };
    let t = service::create(&app, &actor, &ctx.ip, input, form.files).await?;
    Ok(Redirect::to(&format!("/admin/tickets/{}?notice=created", t.number)).into_response())
}

#[derive(askama::Template)]
#[template(path = "tickets/templates/admin_detail.html")]
struct DetailPage {
    page: PageCtx,
    v: TicketView,
    file_base: String,
    staff: Vec<Pick>,
    next_statuses: Vec<Status>,
    priorities: &'static [Priority],
    errors: FormErrors,
    body: String,
    /// The compose form opens in "internal note" mode (a refused note is shown as a note).
    note_mode: bool,
    notice: Option<&'static str>,
    error: Option<String>,
    /// The ticket's id in the tenant's PSA, once synced.
    psa_id: Option<String>,
    /// PSA sync conflicts on this ticket, newest first.
    psa_conflicts: Vec<crate::psa::store::Conflict>,
}

/// What a re-rendered detail page keeps from the request.
#[derive(Default)]
struct Shown<'a> {
    errors: FormErrors,
    body: String,
    note_mode: bool,
    notice: Option<&'a str>,
    error: Option<String>,
}

async fn detail_view(
    app: &AppState,
    ctx: &RequestContext,
    actor: &Actor,
    t: Ticket,
    shown: Shown<'_>,
    status: StatusCode,
) -> AppResult<Response> {
    let Shown {
        errors,
        body,
        note_mode,
        notice,
        error,
    } = shown;
    let next_statuses = ALL_STATUSES
        .into_iter()
        .filter(|s| *s == t.status || super::allowed(t.status, *s))
        .collect();
    let file_base = format!("/admin/tickets/{}/attachments", t.number);
    let scope = actor.scope();
    let ticket_id = t.id.clone();
    // Independent reads run side by side: the page waits for the slowest, not the sum.
    let (psa_id, psa_conflicts, v, staff) = tokio::try_join!(
        async {
            Ok::<_, AppError>(
                crate::psa::store::ticket_external_id(&app.db, scope, &ticket_id).await?,
            )
        },
        async {
            Ok::<_, AppError>(crate::psa::store::conflicts(&app.db, scope, &ticket_id).await?)
        },
        view(app, scope, t, true),
        async { Ok::<_, AppError>(store::users_of_kind(&app.db, scope, "staff", None).await?) },
    )?;
    let mut r = render(&DetailPage {
        page: PageCtx::new(ctx),
        v,
        file_base,
        staff,
        next_statuses,
        priorities: &ALL_PRIORITIES,
        errors,
        body,
        note_mode,
        notice: match notice {
            Some("created") => Some(k("ticket-notice-staff-created")),
            Some("saved") => Some(k("notice-saved")),
            Some("replied") => Some(k("ticket-notice-replied")),
            Some("noted") => Some(k("ticket-notice-noted")),
            _ => None,
        },
        error,
        psa_id,
        psa_conflicts,
    })?;
    *r.status_mut() = status;
    Ok(r)
}

#[derive(Deserialize, Default)]
struct NoticeQuery {
    notice: Option<String>,
}

async fn find(app: &AppState, staff: &StaffUser, n: &str) -> AppResult<Ticket> {
    service::visible(app, staff, number(n)?).await
}

async fn detail_page(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(n): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageTickets)?;
    let t = find(&app, &staff, &n).await?;
    detail_view(
        &app,
        &ctx,
        &actor,
        t,
        Shown {
            notice: q.notice.as_deref(),
            ..Shown::default()
        },
        StatusCode::OK,
    )
    .await
}

#[derive(Deserialize, Default)]
struct UpdateForm {
    #[serde(default)]
    status: String,
    #[serde(default)]
    priority: String,
    assignee_id: Option<String>,
}

/// Parses status, priority and assignee changes and applies them together (or none of them).
async fn update(
    app: &AppState,
    actor: &Actor,
    ip: &str,
    t: Ticket,
    status: Option<&str>,
    priority: Option<&str>,
    assignee: Option<Option<&str>>,
) -> AppResult<Ticket> {
    let status = match status.filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(
            Status::parse(s)
                .ok_or_else(|| AppError::field("status", k("ticket-error-status-value")))?,
        ),
    };
    let priority = match priority.filter(|s| !s.is_empty()) {
        None => None,
        Some(p) => Some(
            Priority::parse(p)
                .ok_or_else(|| AppError::field("priority", k("ticket-error-priority-value")))?,
        ),
    };
    // Every field is parsed above and checked by the service before anything is written.
    service::update(
        app,
        actor,
        ip,
        &t,
        service::Changes {
            status,
            priority,
            assignee: assignee.map(|a| a.filter(|a| !a.is_empty())),
            reason: None,
        },
    )
    .await
}

async fn update_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(n): Path<String>,
    axum::Form(f): axum::Form<UpdateForm>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageTickets)?;
    let t = find(&app, &staff, &n).await?;
    let number = t.number;
    match update(
        &app,
        &actor,
        &ctx.ip,
        t.clone(),
        Some(&f.status),
        Some(&f.priority),
        Some(f.assignee_id.as_deref()),
    )
    .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/admin/tickets/{number}?notice=saved")).into_response()),
        Err(
            e @ (AppError::Validation { .. } | AppError::Unprocessable(_) | AppError::Conflict(_)),
        ) => {
            let t = find(&app, &staff, &n).await.unwrap_or(t);
            let status = e.status();
            detail_view(
                &app,
                &ctx,
                &actor,
                t,
                Shown {
                    errors: FormErrors::from(&e),
                    error: (!matches!(e, AppError::Validation { .. })).then(|| e.to_string()),
                    ..Shown::default()
                },
                status,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

async fn comment_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(n): Path<String>,
    req: axum::extract::Request,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageTickets)?;
    let t = find(&app, &staff, &n).await?;
    let form = read_multipart(&app, actor.scope(), req).await?;
    let body = form.get("body");
    // The mode is chosen explicitly: a reply or a note, never a forgotten tick. `internal=1`
    // (the former checkbox) still means a note for programmatic clients.
    let kind = compose_kind(&form.get("kind"), &form.get("internal"));
    let internal = matches!(kind, Ok(true));
    let result = match (kind, form.file_error()) {
        (Err(e), _) => Err(e),
        (_, Some(fe)) => Err(AppError::fields(vec![fe])),
        (Ok(internal), None) => {
            service::comment(
                &app,
                &actor,
                &ctx.ip,
                &t,
                CommentInput {
                    body: body.clone(),
                    internal,
                    via_email: None,
                },
                form.files,
            )
            .await
        }
    };
    match result {
        Ok(t) => {
            let notice = if internal { "noted" } else { "replied" };
            Ok(Redirect::to(&format!(
                "/admin/tickets/{}?notice={notice}#comments",
                t.number
            ))
            .into_response())
        }
        Err(
            e @ (AppError::Validation { .. } | AppError::Unprocessable(_) | AppError::Conflict(_)),
        ) => {
            let status = e.status();
            let error = (!matches!(e, AppError::Validation { .. })).then(|| e.to_string());
            let shown = Shown {
                errors: FormErrors::from(&e),
                body,
                note_mode: internal,
                notice: None,
                error,
            };
            detail_view(&app, &ctx, &actor, t, shown, status).await
        }
        Err(e) => Err(e),
    }
}

/// Reads the compose mode: `Ok(true)` for an internal note, `Ok(false)` for a public reply.
fn compose_kind(kind: &str, legacy_internal: &str) -> AppResult<bool> {
    match (kind.trim(), legacy_internal) {
        ("note", _) => Ok(true),
        ("reply", _) => Ok(false),
        ("", "1") => Ok(true),
        _ => Err(AppError::field("kind", k("ticket-error-compose-kind"))),
    }
}

async fn download_page(
    State(app): State<AppState>,
    staff: StaffUser,
    Path((n, id)): Path<(String, String)>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageTickets)?;
    let t = find(&app, &staff, &n).await?;
    download(&app, actor.scope(), &t, &id, true).await
}

// ---------------------------------------------------------------------------------------
// JSON API.

async fn api_list(
    State(app): State<AppState>,
    staff: StaffUser,
    Query(q): Query<ListQuery>,
) -> AppResult<Json<TicketPage>> {
    let actor = staff.require(Permission::ManageTickets)?;
    let (items, next_cursor) = store::list(
        &app.db,
        actor.scope(),
        &staff_filter(&q, actor.user_id().as_str()),
    )
    .await?;
    Ok(Json(TicketPage {
        items: list_items(items),
        next_cursor,
    }))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    #[serde(default)]
    requester_id: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    priority: String,
    #[serde(default)]
    category: String,
}

async fn api_create(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Json(b): Json<CreateBody>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageTickets)?;
    let input = check_create(
        &app,
        &actor,
        &b.requester_id,
        &b.subject,
        &b.description,
        &b.priority,
        &b.category,
    )
    .await
    .map_err(AppError::fields)?;
    let t = service::create(
        &app,
        &actor,
        &ctx.ip,
        input,
        Pending::new(app.files.clone()),
    )
    .await?;
    let v = view(&app, actor.scope(), t, true).await?;
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

async fn api_get(
    State(app): State<AppState>,
    staff: StaffUser,
    Path(n): Path<String>,
) -> AppResult<Json<TicketView>> {
    let actor = staff.require(Permission::ManageTickets)?;
    let t = find(&app, &staff, &n).await?;
    Ok(Json(view(&app, actor.scope(), t, true).await?))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct PatchBody {
    status: Option<String>,
    priority: Option<String>,
    /// `null` clears the assignee; absent leaves it.
    #[serde(default, deserialize_with = "double_option")]
    assignee_id: Option<Option<String>>,
}

fn double_option<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<String>>, D::Error> {
    Ok(Some(Option::<String>::deserialize(d)?))
}

async fn api_patch(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(n): Path<String>,
    Json(b): Json<PatchBody>,
) -> AppResult<Json<TicketView>> {
    let actor = staff.require(Permission::ManageTickets)?;
    let t = find(&app, &staff, &n).await?;
    let t = update(
        &app,
        &actor,
        &ctx.ip,
        t,
        b.status.as_deref(),
        b.priority.as_deref(),
        b.assignee_id.as_ref().map(|a| a.as_deref()),
    )
    .await?;
    Ok(Json(view(&app, actor.scope(), t, true).await?))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct CommentBody {
    #[serde(default)]
    body: String,
    #[serde(default)]
    internal: bool,
}

async fn api_comment(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(n): Path<String>,
    Json(b): Json<CommentBody>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageTickets)?;
    let t = find(&app, &staff, &n).await?;
    let t = service::comment(
        &app,
        &actor,
        &ctx.ip,
        &t,
        CommentInput {
            body: b.body,
            internal: b.internal,
            via_email: None,
        },
        Pending::new(app.files.clone()),
    )
    .await?;
    let v = view(&app, actor.scope(), t, true).await?;
    Ok((StatusCode::CREATED, Json(v)).into_response())
}
