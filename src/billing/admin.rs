//! The staff side: the company page `/admin/companies/{id}` with its subscriptions section
//! (add, edit, cancel), and `/api/v1/admin/billing/subscriptions…`. The page needs
//! `ManageCompanies`; changing subscriptions needs `ManageInvoices` and writes an audit row (in
//! `service`).

use aide::axum::routing::{get_with, post_with};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};

use super::store::{self, Subscription};
use super::{CYCLES, STATUSES, SubscriptionInput, service};
use crate::app::AppState;
use crate::auth::{Actor, Permission, StaffUser};
use crate::companies::Company;
use crate::error::{AppError, AppResult};
use crate::http::context::{Ctx, RequestContext};
use crate::http::{ApiRouter, PageRouter};
use crate::i18n::k;
use crate::web::{FormErrors, PageCtx, render};

/// Staff pages.
pub fn pages() -> PageRouter {
    PageRouter::default()
        .route("/admin/companies/{id}", get(company_page))
        .route("/admin/companies/{id}/subscriptions", post(create_form))
        .route(
            "/admin/companies/{id}/subscriptions/{sub}",
            post(update_form),
        )
        .route(
            "/admin/companies/{id}/subscriptions/{sub}/cancel",
            post(cancel_form),
        )
}

/// Staff JSON API.
pub fn api() -> ApiRouter {
    ApiRouter::default()
        .route(
            "/api/v1/admin/billing/subscriptions",
            get_with(api_list, |op| {
                op.id("adminListSubscriptions").tag("billing").summary("List subscriptions")
                    .description("Needs `manage_invoices`. `company_id` filters by company; ordered by id, `cursor` continues.")
            })
            .post_with(api_create, |op| {
                op.id("adminCreateSubscription").tag("billing").summary("Add a subscription to a company")
                    .description("Amounts are decimals in the tenant's billing currency (`unit_price: \"45.00\"`); `quantity` allows three decimals. `external_id` keeps the PSA's id and is unique per tenant.")
                    .response_with::<201, Json<Subscription>, _>(|r| r.description("Created."))
            }),
        )
        .route(
            "/api/v1/admin/billing/subscriptions/{id}",
            get_with(api_get, |op| {
                op.id("adminGetSubscription").tag("billing").summary("One subscription")
            })
            .put_with(api_update, |op| {
                op.id("adminUpdateSubscription").tag("billing").summary("Replace a subscription's fields")
            }),
        )
        .route(
            "/api/v1/admin/billing/subscriptions/{id}/cancel",
            post_with(api_cancel, |op| {
                op.id("adminCancelSubscription").tag("billing").summary("Cancel a subscription (kept for the record)")
            }),
        )
}

#[derive(askama::Template)]
#[template(path = "billing/templates/company.html")]
struct CompanyPage {
    page: PageCtx,
    company: Company,
    subs: Vec<Subscription>,
    can_manage: bool,
    notice: Option<&'static str>,
    errors: FormErrors,
    forms_none: FormErrors,
    /// Which form failed: `new` or a subscription id.
    failed: String,
    form: SubscriptionInput,
    cycles: Vec<(&'static str, &'static str)>,
    statuses: Vec<(&'static str, &'static str)>,
}

impl CompanyPage {
    fn failed_is(&self, id: &str) -> bool {
        self.failed == id
    }

    /// The errors of the form `id`: only the form that failed shows them.
    fn errs_for(&self, id: &str) -> &FormErrors {
        if self.failed_is(id) {
            &self.errors
        } else {
            &self.forms_none
        }
    }
}

#[derive(Deserialize, Default)]
struct NoticeQuery {
    notice: Option<String>,
}

async fn company(app: &AppState, actor: &Actor, id: &str) -> AppResult<Company> {
    crate::companies::get(&app.db, actor.scope(), id)
        .await?
        .ok_or(AppError::NotFound)
}

async fn company_view(
    app: &AppState,
    ctx: &RequestContext,
    staff: &StaffUser,
    id: &str,
    notice: Option<&'static str>,
    failure: Option<(&str, &SubscriptionInput, &AppError)>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageCompanies)?;
    let company = company(app, &actor, id).await?;
    let can_manage = staff.can(Permission::ManageInvoices);
    let subs = if can_manage {
        store::for_company(&app.db, actor.scope(), company.id.as_str()).await?
    } else {
        Vec::new()
    };
    let mut r = render(&CompanyPage {
        page: PageCtx::new(ctx),
        company,
        subs,
        can_manage,
        notice,
        errors: failure.map(|f| FormErrors::from(f.2)).unwrap_or_default(),
        forms_none: FormErrors::default(),
        failed: failure.map(|f| f.0.to_string()).unwrap_or_default(),
        form: failure.map(|f| f.1.clone()).unwrap_or_default(),
        cycles: CYCLES.iter().map(|c| (c.as_str(), c.label_key())).collect(),
        statuses: STATUSES
            .iter()
            .map(|s| (s.as_str(), s.label_key()))
            .collect(),
    })?;
    if let Some((_, _, e)) = failure {
        *r.status_mut() = e.status();
    }
    Ok(r)
}

async fn company_page(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> AppResult<Response> {
    let notice = match q.notice.as_deref() {
        Some("added") => Some(k("subscription-notice-added")),
        Some("saved") => Some(k("subscription-notice-saved")),
        Some("cancelled") => Some(k("subscription-notice-cancelled")),
        _ => None,
    };
    company_view(&app, &ctx, &staff, &id, notice, None).await
}

/// A staff subscription of `company`, or "not found" (also for another company's id in the
/// path, so a form cannot reach across companies).
async fn own_subscription(
    app: &AppState,
    actor: &Actor,
    company_id: &str,
    id: &str,
) -> AppResult<Subscription> {
    store::get(&app.db, actor.scope(), id)
        .await?
        .filter(|s| s.company_id == company_id)
        .ok_or(AppError::NotFound)
}

async fn create_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<SubscriptionInput>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageInvoices)?;
    match service::create(&app, &actor, &ctx.ip, &id, &f).await {
        Ok(_) => Ok(Redirect::to(&format!("/admin/companies/{id}?notice=added")).into_response()),
        Err(e @ AppError::Validation { .. }) => {
            company_view(&app, &ctx, &staff, &id, None, Some(("new", &f, &e))).await
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
struct SubPath {
    id: String,
    sub: String,
}

async fn update_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(p): Path<SubPath>,
    axum::Form(f): axum::Form<SubscriptionInput>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageInvoices)?;
    own_subscription(&app, &actor, &p.id, &p.sub).await?;
    match service::update(&app, &actor, &ctx.ip, &p.sub, &f).await {
        Ok(_) => {
            Ok(Redirect::to(&format!("/admin/companies/{}?notice=saved", p.id)).into_response())
        }
        Err(e @ AppError::Validation { .. }) => {
            company_view(&app, &ctx, &staff, &p.id, None, Some((&p.sub, &f, &e))).await
        }
        Err(e) => Err(e),
    }
}

async fn cancel_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(p): Path<SubPath>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageInvoices)?;
    own_subscription(&app, &actor, &p.id, &p.sub).await?;
    service::cancel(&app, &actor, &ctx.ip, &p.sub).await?;
    Ok(Redirect::to(&format!("/admin/companies/{}?notice=cancelled", p.id)).into_response())
}

/// Staff list filter.
#[derive(Deserialize, Default, schemars::JsonSchema)]
pub struct AdminListQuery {
    /// Only this company's.
    pub company_id: Option<String>,
    /// Continue after this id.
    pub cursor: Option<String>,
    /// Page size (1-200, default 50).
    pub limit: Option<i64>,
}

/// A page of subscriptions.
#[derive(Serialize, schemars::JsonSchema)]
pub struct AdminSubscriptionPage {
    /// By id.
    pub items: Vec<Subscription>,
    /// Cursor of the next page.
    pub next_cursor: Option<String>,
}

async fn api_list(
    State(app): State<AppState>,
    staff: StaffUser,
    Query(q): Query<AdminListQuery>,
) -> AppResult<Json<AdminSubscriptionPage>> {
    let actor = staff.require(Permission::ManageInvoices)?;
    let limit = q.limit.unwrap_or(50).clamp(1, 200);
    let items = store::list(
        &app.db,
        actor.scope(),
        q.company_id.as_deref().filter(|c| !c.is_empty()),
        q.cursor.as_deref().filter(|c| !c.is_empty()),
        limit,
    )
    .await?;
    let next_cursor = (items.len() as i64 == limit)
        .then(|| items.last().map(|s| s.id.clone()))
        .flatten();
    Ok(Json(AdminSubscriptionPage { items, next_cursor }))
}

/// A new subscription: its company and fields.
#[derive(Deserialize, schemars::JsonSchema)]
pub struct CreateBody {
    /// Company subscribed.
    pub company_id: String,
    /// The fields.
    #[serde(flatten)]
    pub fields: SubscriptionInput,
}

async fn api_create(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Json(b): Json<CreateBody>,
) -> AppResult<(StatusCode, Json<Subscription>)> {
    let actor = staff.require(Permission::ManageInvoices)?;
    let s = service::create(&app, &actor, &ctx.ip, &b.company_id, &b.fields)
        .await
        .map_err(|e| match e {
            AppError::NotFound => AppError::field("company_id", k("subscription-error-company")),
            other => other,
        })?;
    Ok((StatusCode::CREATED, Json(s)))
}

/// Path of one subscription.
#[derive(Deserialize, schemars::JsonSchema)]
pub struct IdPath {
    /// Subscription id.
    pub id: String,
}

async fn api_get(
    State(app): State<AppState>,
    staff: StaffUser,
    Path(p): Path<IdPath>,
) -> AppResult<Json<Subscription>> {
    let actor = staff.require(Permission::ManageInvoices)?;
    Ok(Json(
        store::get(&app.db, actor.scope(), &p.id)
            .await?
            .ok_or(AppError::NotFound)?,
    ))
}

async fn api_update(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(p): Path<IdPath>,
    Json(b): Json<SubscriptionInput>,
) -> AppResult<Json<Subscription>> {
    let actor = staff.require(Permission::ManageInvoices)?;
    Ok(Json(
        service::update(&app, &actor, &ctx.ip, &p.id, &b).await?,
    ))
}

async fn api_cancel(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(p): Path<IdPath>,
) -> AppResult<Json<Subscription>> {
    let actor = staff.require(Permission::ManageInvoices)?;
    Ok(Json(service::cancel(&app, &actor, &ctx.ip, &p.id).await?))
}
