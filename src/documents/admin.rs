//! Staff side: `/admin/documents` (policies: create, who signed, remind, cancel) and the
//! admin JSON API under `/api/v1/admin/documents`.

use aide::axum::routing::{get_with, post_with};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{NaiveDate, TimeZone};
use serde::{Deserialize, Serialize};

use super::Step;
use super::routes::Fields;
use super::service::{self, Origin, PolicyInput};
use super::store::{self, Choice, Cursor, Policy, Signature};
use crate::app::AppState;
use crate::auth::{Permission, StaffUser};
use crate::error::{AppError, AppResult, FieldError};
use crate::http::context::{Ctx, RequestContext};
use crate::http::{ApiRouter, PageRouter};
use crate::i18n::{Arg, k};
use crate::web::{FormErrors, PageCtx, render};

/// Staff pages.
pub fn pages() -> PageRouter {
    PageRouter::default()
        .route("/admin/documents", get(list_page).merge(post(create_form)))
        .route("/admin/documents/new", get(new_page))
        .route("/admin/documents/{id}", get(detail_page))
        .route("/admin/documents/{id}/remind", post(remind_form))
        .route("/admin/documents/{id}/cancel", post(cancel_form))
        .route("/admin/documents/signatures/{id}/pdf", get(pdf_page))
}

/// Staff JSON API.
pub fn api() -> ApiRouter {
    ApiRouter::default()
        .route(
            "/api/v1/admin/documents/policies",
            get_with(api_list, |op| {
                op.id("listPolicies").tag("documents").summary("List policies sent for signature")
            })
            .post_with(api_create, |op| {
                op.id("createPolicy").tag("documents").summary("Send a policy for signature")
                    .description("Signers are `user_ids` and/or every active user of `company_ids` (with `include_future`, users who join those companies later too). `due` is a date (YYYY-MM-DD); `reminders` days before it, e.g. `7,1`.")
                    .response_with::<201, Json<PolicyDetail>, _>(|r| r.description("Created."))
            }),
        )
        .route(
            "/api/v1/admin/documents/policies/{id}",
            get_with(api_get, |op| {
                op.id("getPolicy").tag("documents").summary("A policy with who has signed and who is pending")
            }),
        )
        .route(
            "/api/v1/admin/documents/signatures/{id}/pdf",
            get_with(api_pdf, |op| {
                op.id("downloadSignedPdfAsStaff").tag("documents").summary("Download a signer's signed PDF")
                    .response_with::<200, Vec<u8>, _>(|r| r.description("The signed PDF (application/pdf)."))
            }),
        )
        .route(
            "/api/v1/admin/documents/policies/{id}/remind",
            post_with(api_remind, |op| {
                op.id("remindPolicy").tag("documents").summary("Email a reminder to every pending signer")
            }),
        )
        .route(
            "/api/v1/admin/documents/policies/{id}/cancel",
            post_with(api_cancel, |op| {
                op.id("cancelPolicy").tag("documents").summary("Cancel a policy: pending requests close, signed ones stay")
            }),
        )
}

/// A page of policies.
#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct PolicyPage {
    items: Vec<Policy>,
    next_cursor: Option<String>,
}

/// A policy with its signature requests.
#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct PolicyDetail {
    policy: Policy,
    signatures: Vec<Signature>,
}

/// List query.
#[derive(Deserialize, schemars::JsonSchema, Default)]
pub(crate) struct ListQuery {
    /// The `next_cursor` of the previous page.
    #[serde(default)]
    after: Option<String>,
    /// Notice to show (pages).
    #[serde(default)]
    notice: Option<String>,
}

/// Path of one policy.
#[derive(Deserialize, schemars::JsonSchema)]
pub(crate) struct IdPath {
    /// Policy id.
    id: String,
}

/// A new policy.
#[derive(Deserialize, schemars::JsonSchema)]
pub(crate) struct CreateBody {
    /// Title.
    title: String,
    /// Markdown body.
    body: String,
    /// Version label, e.g. `2026.1`.
    version: String,
    /// Signers by user id.
    #[serde(default)]
    user_ids: Vec<String>,
    /// Companies whose active users sign.
    #[serde(default)]
    company_ids: Vec<String>,
    /// Users who join those companies later sign too.
    #[serde(default)]
    include_future: bool,
    /// Due date, `YYYY-MM-DD` (end of that day in the tenant's time zone).
    #[serde(default)]
    due: Option<String>,
    /// Reminder schedule: days before the due date, comma separated.
    #[serde(default)]
    reminders: Option<String>,
}

/// The end of `date` in `tz`, in Unix ms; an error naming the `due` field otherwise.
pub(crate) fn due_ms(date: &str, tz: chrono_tz::Tz) -> Result<Option<i64>, FieldError> {
    let date = date.trim();
    if date.is_empty() {
        return Ok(None);
    }
    let bad = || FieldError {
        field: "due".into(),
        message: k("documents-error-due").into(),
    };
    let d = NaiveDate::parse_from_str(date, "%Y-%m-%d").map_err(|_| bad())?;
    let end = d.and_hms_opt(23, 59, 59).ok_or_else(bad)?;
    let at = tz.from_local_datetime(&end).earliest().ok_or_else(bad)?;
    Ok(Some(at.timestamp_millis()))
}

fn input_of(b: &CreateBody, tz: chrono_tz::Tz) -> Result<PolicyInput, AppError> {
    let due_at =
        due_ms(b.due.as_deref().unwrap_or(""), tz).map_err(|e| AppError::fields(vec![e]))?;
    Ok(PolicyInput {
        title: b.title.clone(),
        body: b.body.clone(),
        version: b.version.clone(),
        user_ids: b.user_ids.clone(),
        company_ids: b.company_ids.clone(),
        include_future: b.include_future,
        due_at,
        reminders: b.reminders.clone().unwrap_or_default(),
    })
}

async fn detail_of(app: &AppState, staff: &StaffUser, id: &str) -> AppResult<PolicyDetail> {
    let scope = staff.scope();
    let policy = store::policy_by_id(&app.db, &scope, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let signatures = store::of_policy(&app.db, &scope, id).await?;
    Ok(PolicyDetail { policy, signatures })
}

async fn api_list(
    State(app): State<AppState>,
    staff: StaffUser,
    Query(q): Query<ListQuery>,
) -> AppResult<Json<PolicyPage>> {
    staff.require(Permission::ManageDocuments)?;
    let after = q.after.as_deref().and_then(Cursor::parse);
    let (items, next) = store::policies(&app.db, &staff.scope(), after.as_ref()).await?;
    Ok(Json(PolicyPage {
        items,
        next_cursor: next.map(|c| c.text()),
    }))
}

async fn api_create(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Json(b): Json<CreateBody>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageDocuments)?;
    let input = input_of(&b, ctx.tz)?;
    let origin = Origin {
        actor: Some(&actor),
        ip: &ctx.ip,
        via: None,
    };
    let id = service::create(&app, actor.scope(), &origin, &input, None, None).await?;
    Ok((
        StatusCode::CREATED,
        Json(detail_of(&app, &staff, &id).await?),
    )
        .into_response())
}

async fn api_get(
    State(app): State<AppState>,
    staff: StaffUser,
    Path(p): Path<IdPath>,
) -> AppResult<Json<PolicyDetail>> {
    staff.require(Permission::ManageDocuments)?;
    Ok(Json(detail_of(&app, &staff, &p.id).await?))
}

async fn api_remind(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(p): Path<IdPath>,
) -> AppResult<Json<PolicyDetail>> {
    let actor = staff.require(Permission::ManageDocuments)?;
    service::remind(&app, &actor, &ctx.ip, &p.id).await?;
    Ok(Json(detail_of(&app, &staff, &p.id).await?))
}

async fn api_cancel(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(p): Path<IdPath>,
) -> AppResult<Json<PolicyDetail>> {
    let actor = staff.require(Permission::ManageDocuments)?;
    service::cancel(&app, &actor, &ctx.ip, &p.id).await?;
    Ok(Json(detail_of(&app, &staff, &p.id).await?))
}

async fn signed_pdf(app: &AppState, staff: &StaffUser, id: &str) -> AppResult<Response> {
    staff.require(Permission::ManageDocuments)?;
    let s = store::signature(&app.db, &staff.scope(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let bytes = super::pdf::signed_pdf(app, &staff.tenant, &s).await?;
    Ok(super::pdf::download(bytes, &s.title))
}

async fn api_pdf(
    State(app): State<AppState>,
    staff: StaffUser,
    Path(p): Path<IdPath>,
) -> AppResult<Response> {
    signed_pdf(&app, &staff, &p.id).await
}

async fn pdf_page(
    State(app): State<AppState>,
    staff: StaffUser,
    Path(id): Path<String>,
) -> AppResult<Response> {
    signed_pdf(&app, &staff, &id).await
}

#[derive(askama::Template)]
#[template(path = "documents/templates/admin_list.html")]
struct ListPage {
    page: PageCtx,
    rows: Vec<Policy>,
    next: Option<String>,
    notice: Option<&'static str>,
}

impl ListPage {
    fn progress(&self, p: &Policy) -> String {
        self.page.t.args(
            k("documents-progress"),
            &[("signed", Arg::Num(p.signed)), ("total", Arg::Num(p.total))],
        )
    }
}

async fn list_page(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    staff.require(Permission::ManageDocuments)?;
    let after = q.after.as_deref().and_then(Cursor::parse);
    let (rows, next) = store::policies(&app.db, &staff.scope(), after.as_ref()).await?;
    render(&ListPage {
        page: PageCtx::new(&ctx),
        rows,
        next: next.map(|c| format!("/admin/documents?after={}", c.text())),
        notice: match q.notice.as_deref() {
            Some("cancelled") => Some(k("documents-notice-cancelled")),
            _ => None,
        },
    })
}

#[derive(askama::Template)]
#[template(path = "documents/templates/admin_new.html")]
struct NewPage {
    page: PageCtx,
    errors: FormErrors,
    f: NewForm,
    users: Vec<Choice>,
    companies: Vec<Choice>,
}

#[derive(Default)]
struct NewForm {
    title: String,
    body: String,
    version: String,
    due: String,
    reminders: String,
    user_ids: Vec<String>,
    company_ids: Vec<String>,
    include_future: bool,
}

async fn new_view(
    app: &AppState,
    ctx: &RequestContext,
    staff: &StaffUser,
    f: NewForm,
    errors: FormErrors,
) -> AppResult<Response> {
    let (users, companies) = store::choices(&app.db, &staff.scope()).await?;
    let failed = !errors.is_empty();
    let mut r = render(&NewPage {
        page: PageCtx::new(ctx),
        errors,
        f,
        users,
        companies,
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
    staff.require(Permission::ManageDocuments)?;
    let f = NewForm {
        version: "1.0".into(),
        ..NewForm::default()
    };
    new_view(&app, &ctx, &staff, f, FormErrors::default()).await
}

async fn create_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    body: axum::body::Bytes,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageDocuments)?;
    let form = Fields::parse(&body);
    let f = NewForm {
        title: form.get("title"),
        body: form.get("body"),
        version: form.get("version"),
        due: form.get("due"),
        reminders: form.get("reminders"),
        user_ids: form.all("user_ids"),
        company_ids: form.all("company_ids"),
        include_future: form.get("include_future") == "yes",
    };
    let due_at = match due_ms(&f.due, ctx.tz) {
        Ok(d) => d,
        Err(e) => return new_view(&app, &ctx, &staff, f, FormErrors(vec![e])).await,
    };
    let input = PolicyInput {
        title: f.title.clone(),
        body: f.body.clone(),
        version: f.version.clone(),
        user_ids: f.user_ids.clone(),
        company_ids: f.company_ids.clone(),
        include_future: f.include_future,
        due_at,
        reminders: f.reminders.clone(),
    };
    let origin = Origin {
        actor: Some(&actor),
        ip: &ctx.ip,
        via: None,
    };
    match service::create(&app, actor.scope(), &origin, &input, None, None).await {
        Ok(id) => {
            Ok(Redirect::to(&format!("/admin/documents/{id}?notice=created")).into_response())
        }
        Err(AppError::Validation { fields, .. }) => {
            new_view(&app, &ctx, &staff, f, FormErrors(fields)).await
        }
        Err(e) => Err(e),
    }
}

#[derive(askama::Template)]
#[template(path = "documents/templates/admin_detail.html")]
struct DetailPage {
    page: PageCtx,
    d: PolicyDetail,
    signed: Vec<Signature>,
    pending: Vec<Signature>,
    closed: Vec<Signature>,
    notice: Option<&'static str>,
    now: i64,
}

impl DetailPage {
    fn late(&self, s: &Signature) -> bool {
        s.overdue(self.now)
    }

    fn count(&self, key: &str, n: usize) -> String {
        self.page.t.args(
            key,
            &[("count", Arg::Num(i64::try_from(n).unwrap_or(i64::MAX)))],
        )
    }
}

/// Notice query.
#[derive(Deserialize, Default)]
struct NoticeQuery {
    #[serde(default)]
    notice: Option<String>,
}

async fn detail_page(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> AppResult<Response> {
    staff.require(Permission::ManageDocuments)?;
    let d = detail_of(&app, &staff, &id).await?;
    let (mut signed, mut pending, mut closed) = (Vec::new(), Vec::new(), Vec::new());
    for s in &d.signatures {
        match s.state {
            Step::Signed => signed.push(s.clone()),
            st if st.is_open() => pending.push(s.clone()),
            _ => closed.push(s.clone()),
        }
    }
    render(&DetailPage {
        page: PageCtx::new(&ctx),
        d,
        signed,
        pending,
        closed,
        notice: match q.notice.as_deref() {
            Some("created") => Some(k("documents-notice-created")),
            Some("reminded") => Some(k("documents-notice-reminded")),
            _ => None,
        },
        now: crate::db::now_ms(),
    })
}

async fn remind_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageDocuments)?;
    service::remind(&app, &actor, &ctx.ip, &id).await?;
    Ok(Redirect::to(&format!("/admin/documents/{id}?notice=reminded")).into_response())
}

async fn cancel_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageDocuments)?;
    service::cancel(&app, &actor, &ctx.ip, &id).await?;
    Ok(Redirect::to("/admin/documents?notice=cancelled").into_response())
}
