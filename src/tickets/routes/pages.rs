//! The client's ticket pages: list, raise, detail, comment, close and reopen.

use axum::extract::{Path, Query, State};

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::app::AppState;
use crate::auth::{Permission, PortalUser, Principal};
use crate::db::now_ms;
use crate::error::{AppError, AppResult, FieldError};
use crate::http::context::{Ctx, RequestContext};
use crate::i18n::{Arg, k};
use crate::tickets::service::{self, CommentInput, CreateInput};
use crate::tickets::store::{self, Pick, Ticket};
use crate::tickets::{CATEGORIES, Priority, Status};
use crate::web::{FormErrors, PageCtx, render};

use super::*;

#[derive(askama::Template)]
#[template(path = "tickets/templates/list.html")]
pub(super) struct ListPage {
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

pub(super) async fn list_page(
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
pub(super) struct NewPage {
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

pub(super) async fn new_view(
    app: &AppState,
    ctx: &RequestContext,
    user: &Principal,
    form: Option<&FormData>,
    errors: FormErrors,
) -> AppResult<Response> {
    new_view_with(app, ctx, user, form, errors, &Prefill::default()).await
}

async fn new_view_with(
    app: &AppState,
    ctx: &RequestContext,
    user: &Principal,
    form: Option<&FormData>,
    errors: FormErrors,
    pre: &Prefill,
) -> AppResult<Response> {
    let company = client(user)?;
    let colleagues = store::users_of_kind(&app.db, &user.scope(), "client", Some(&company))
        .await?
        .into_iter()
        .filter(|u| u.id != user.user_id.as_str())
        .collect();
    let prefilled = |k: &str| {
        let v = match k {
            "subject" => &pre.subject,
            "description" => &pre.description,
            _ => &pre.category,
        };
        // Only a known category is taken; subject and body are cut to the form's limits.
        v.as_deref()
            .filter(|c| k != "category" || CATEGORIES.contains(c))
            .map(|v| v.chars().take(5000).collect::<String>())
            .unwrap_or_default()
    };
    let get = |k: &str| form.map(|f| f.get(k)).unwrap_or_else(|| prefilled(k));
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
        priorities: &crate::tickets::ALL_PRIORITIES,
    })?;
    if failed {
        *r.status_mut() = StatusCode::BAD_REQUEST;
    }
    Ok(r)
}

/// Fields a link may prefill on the new-ticket form (billing's "request a change").
#[derive(serde::Deserialize, Default)]
pub(super) struct Prefill {
    subject: Option<String>,
    description: Option<String>,
    category: Option<String>,
}

pub(super) async fn new_page(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Query(pre): Query<Prefill>,
) -> AppResult<Response> {
    user.require(Permission::CreateTickets)?;
    new_view_with(&app, &ctx, &user, None, FormErrors::default(), &pre).await
}

pub(super) async fn create_form(
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
pub(super) struct DetailPage {
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

pub(super) struct DetailInput<'a> {
    errors: FormErrors,
    body: String,
    reason: String,
    notice: Option<&'a str>,
    error: Option<String>,
}

pub(super) async fn detail_view(
    app: &AppState,
    ctx: &RequestContext,
    user: &Principal,
    t: Ticket,
    input: DetailInput<'_>,
    status: StatusCode,
) -> AppResult<Response> {
    let can_comment = user.can(Permission::CommentOnTickets) && !t.status.is_done();
    let can_close =
        user.can(Permission::CloseTickets) && crate::tickets::allowed(t.status, Status::Closed);
    let can_reopen = user.can(Permission::CloseTickets)
        && crate::tickets::can_reopen(t.status, t.done_at(), now_ms(), app.config.reopen_days);
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
pub(super) struct NoticeQuery {
    notice: Option<String>,
}

pub(super) async fn detail_page(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Path(n): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> AppResult<Response> {
    client(&user)?;
    let t = service::visible(&app, &user, number(&n)?).await?;
    let scope = user.scope();
    let ticket_id = t.id.clone();
    // The seen marker does not change what the page shows: record it beside the page's reads.
    let seen = store::mark_seen(
        &app.db,
        &scope,
        user.user_id.as_str(),
        &ticket_id,
        t.updated_at,
    );
    let page = detail_view(
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
    );
    let ((), page) = tokio::try_join!(async { Ok(seen.await?) }, page)?;
    Ok(page)
}

/// Re-renders the detail page for a refused form, keeping what was typed.
pub(super) async fn detail_error(
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

pub(super) async fn comment_form(
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
            via_email: None,
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

pub(super) async fn close_form(
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
pub(super) struct ReopenForm {
    #[serde(default)]
    reason: String,
}

pub(super) async fn reopen_form(
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
