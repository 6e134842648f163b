//! The staff side: `/admin/invoices` (list across companies, drafts, lines, send, payments,
//! void, billing settings and tax rates) and `/api/v1/admin/invoices…`. Every action needs
//! `ManageInvoices` and writes an audit row (in `service`).

use aide::axum::routing::{get_with, patch_with, post_with};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};

use super::routes::{InvoicePath, InvoiceView, PAGE_SIZE, view_of};
use super::service::{self, DraftInput, PaymentInput, SettingsInput};
use super::store::{self, Invoice, ListFilter, TaxRate};
use super::{ALL_STATUSES, LineInput, Status};
use crate::app::AppState;
use crate::auth::{Actor, Permission, StaffUser};
use crate::companies::Company;
use crate::error::{AppError, AppResult};
use crate::http::context::{Ctx, RequestContext};
use crate::http::{ApiRouter, PageRouter};
use crate::i18n::{Translator, k};
use crate::web::{FormErrors, PageCtx, render};

/// Staff pages.
pub fn pages() -> PageRouter {
    PageRouter::default()
        .route("/admin/invoices", get(list_page).post(create_form))
        .route(
            "/admin/invoices/settings",
            get(settings_page).post(settings_form),
        )
        .route("/admin/invoices/tax-rates", post(tax_rate_form))
        .route("/admin/invoices/{id}", get(detail_page).post(header_form))
        .route("/admin/invoices/{id}/pdf", get(pdf_download))
        .route("/admin/invoices/{id}/lines", post(line_add_form))
        .route("/admin/invoices/{id}/lines/{line}", post(line_edit_form))
        .route(
            "/admin/invoices/{id}/lines/{line}/delete",
            post(line_delete_form),
        )
        .route("/admin/invoices/{id}/send", post(send_form))
        .route("/admin/invoices/{id}/payments", post(payment_form))
        .route("/admin/invoices/{id}/void", post(void_form))
}

/// Staff JSON API.
pub fn api() -> ApiRouter {
    ApiRouter::default()
        .route(
            "/api/v1/admin/invoices",
            get_with(api_list, |op| {
                op.id("adminListInvoices").tag("invoices").summary("List invoices across companies")
                    .description("Needs `manage_invoices`. Filters: `company`, `status`, `from`/`to` (issue date). Newest first; `cursor` continues.")
            })
            .post_with(api_create, |op| {
                op.id("adminCreateInvoice").tag("invoices").summary("Create a draft invoice for a company")
                    .response_with::<201, Json<InvoiceView>, _>(|r| r.description("Created."))
            }),
        )
        .route(
            "/api/v1/admin/invoices/settings",
            get_with(api_settings, |op| {
                op.id("adminGetBillingSettings").tag("invoices").summary("Billing settings (keys are never shown)")
            })
            .put_with(api_put_settings, |op| {
                op.id("adminPutBillingSettings").tag("invoices").summary("Save billing settings")
                    .description("Empty key fields keep the stored keys. Keys are stored sealed with the server key.")
            }),
        )
        .route(
            "/api/v1/admin/invoices/tax-rates",
            get_with(api_tax_rates, |op| {
                op.id("adminListTaxRates").tag("invoices").summary("Named tax rates")
            })
            .post_with(api_create_tax_rate, |op| {
                op.id("adminCreateTaxRate").tag("invoices").summary("Add a named tax rate")
                    .response_with::<201, Json<TaxRate>, _>(|r| r.description("Created."))
            }),
        )
        .route(
            "/api/v1/admin/invoices/{id}",
            get_with(api_get, |op| {
                op.id("adminGetInvoice").tag("invoices").summary("One invoice with lines, taxes and payments")
            })
            .patch_with(api_update, |op| {
                op.id("adminUpdateInvoice").tag("invoices").summary("Change a draft's dates and note")
            }),
        )
        .route(
            "/api/v1/admin/invoices/{id}/lines",
            post_with(api_add_line, |op| {
                op.id("adminAddInvoiceLine").tag("invoices").summary("Add a line to a draft")
                    .response_with::<201, Json<InvoiceView>, _>(|r| r.description("The invoice with its new line."))
            }),
        )
        .route(
            "/api/v1/admin/invoices/{id}/lines/{line}",
            patch_with(api_edit_line, |op| {
                op.id("adminEditInvoiceLine").tag("invoices").summary("Change a line of a draft")
            })
            .delete_with(api_delete_line, |op| {
                op.id("adminDeleteInvoiceLine").tag("invoices").summary("Remove a line from a draft")
            }),
        )
        .route(
            "/api/v1/admin/invoices/{id}/send",
            post_with(api_send, |op| {
                op.id("adminSendInvoice").tag("invoices").summary("Send a draft to the company's billing contacts")
            }),
        )
        .route(
            "/api/v1/admin/invoices/{id}/payments",
            post_with(api_payment, |op| {
                op.id("adminRecordPayment").tag("invoices").summary("Record a payment received outside the checkout")
            }),
        )
        .route(
            "/api/v1/admin/invoices/{id}/void",
            post_with(api_void, |op| {
                op.id("adminVoidInvoice").tag("invoices").summary("Void an invoice (with a reason)")
                    .description("Invoices with payments cannot be voided; a void invoice can never be paid.")
            }),
        )
}

fn staff_actor(staff: &StaffUser) -> AppResult<Actor> {
    staff.require(Permission::ManageInvoices)
}

/// Staff list filter.
#[derive(Clone, Debug, Default, Deserialize, schemars::JsonSchema)]
pub struct AdminListQuery {
    /// One company.
    pub company: Option<String>,
    /// One status.
    pub status: Option<String>,
    /// Issued on or after (`YYYY-MM-DD`).
    pub from: Option<String>,
    /// Issued on or before.
    pub to: Option<String>,
    /// Continue after this cursor.
    pub cursor: Option<String>,
    /// Page size (1-200).
    pub limit: Option<i64>,
    /// Notice key after an action.
    pub notice: Option<String>,
}

impl AdminListQuery {
    fn filter(&self) -> ListFilter {
        let date = |d: &Option<String>| d.as_deref().and_then(|d| super::check_date("d", d).ok());
        ListFilter {
            company_id: self.company.clone().filter(|c| !c.is_empty()),
            status: self.status.as_deref().and_then(Status::parse),
            hide_drafts: false,
            from: date(&self.from),
            to: date(&self.to),
            cursor: self.cursor.clone().filter(|c| !c.is_empty()),
            limit: self.limit.unwrap_or(PAGE_SIZE),
        }
    }

    fn next_link(&self, cursor: &str) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("company", &self.company),
            ("status", &self.status),
            ("from", &self.from),
            ("to", &self.to),
        ] {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                q.append_pair(k, v);
            }
        }
        q.append_pair("cursor", cursor);
        format!("/admin/invoices?{}", q.finish())
    }
}

/// A page of invoices for staff.
#[derive(Serialize, schemars::JsonSchema)]
pub struct AdminInvoicePage {
    /// Invoices, newest first.
    pub items: Vec<Invoice>,
    /// Cursor of the next page.
    pub next_cursor: Option<String>,
}

#[derive(askama::Template)]
#[template(path = "invoices/templates/admin_list.html")]
struct ListPage {
    page: PageCtx,
    items: Vec<Invoice>,
    next: Option<String>,
    companies: Vec<Company>,
    q: AdminListQuery,
    statuses: Vec<(&'static str, &'static str)>,
    errors: FormErrors,
    form: DraftInput,
    notice: Option<&'static str>,
}

fn all_statuses() -> Vec<(&'static str, &'static str)> {
    ALL_STATUSES
        .iter()
        .map(|s| (s.as_str(), s.label_key()))
        .collect()
}

async fn list_view(
    app: &AppState,
    ctx: &RequestContext,
    actor: &Actor,
    q: AdminListQuery,
    form: DraftInput,
    error: Option<&AppError>,
) -> AppResult<Response> {
    let (items, next) = store::list(&app.db, actor.scope(), &q.filter()).await?;
    let companies = crate::companies::list(&app.db, actor.scope(), None, 200).await?;
    let mut r = render(&ListPage {
        page: PageCtx::new(ctx),
        items,
        next: next.as_deref().map(|c| q.next_link(c)),
        companies,
        notice: match q.notice.as_deref() {
            Some("voided") => Some(k("invoice-notice-voided")),
            _ => None,
        },
        q,
        statuses: all_statuses(),
        errors: error.map(FormErrors::from).unwrap_or_default(),
        form,
    })?;
    if let Some(e) = error {
        *r.status_mut() = e.status();
    }
    Ok(r)
}

async fn list_page(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Query(q): Query<AdminListQuery>,
) -> AppResult<Response> {
    let actor = staff_actor(&staff)?;
    list_view(&app, &ctx, &actor, q, DraftInput::default(), None).await
}

async fn create_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    axum::Form(f): axum::Form<DraftInput>,
) -> AppResult<Response> {
    let actor = staff_actor(&staff)?;
    match service::create_draft(&app, &actor, &ctx.ip, &f).await {
        Ok(inv) => {
            Ok(Redirect::to(&format!("/admin/invoices/{}?notice=created", inv.id)).into_response())
        }
        Err(e @ AppError::Validation { .. }) => {
            list_view(&app, &ctx, &actor, AdminListQuery::default(), f, Some(&e)).await
        }
        Err(e) => Err(e),
    }
}

#[derive(askama::Template)]
#[template(path = "invoices/templates/admin_detail.html")]
struct DetailPage {
    page: PageCtx,
    v: InvoiceView,
    rates: Vec<TaxRate>,
    methods: &'static [&'static str],
    today: String,
    /// Which form the errors belong to.
    failed: &'static str,
    errors: FormErrors,
    /// No errors, for the forms that did not fail.
    forms_none: FormErrors,
    error: Option<String>,
    notice: Option<&'static str>,
}

impl DetailPage {
    fn is_draft(&self) -> bool {
        self.v.invoice.status == Status::Draft
    }
}

#[allow(clippy::too_many_arguments)]
async fn detail_view(
    app: &AppState,
    ctx: &RequestContext,
    actor: &Actor,
    id: &str,
    notice: Option<&'static str>,
    failed: &'static str,
    error: Option<&AppError>,
) -> AppResult<Response> {
    let inv = service::staff_invoice(app, actor, id).await?;
    let v = view_of(app, actor, inv).await?;
    let rates = store::tax_rates(&app.db, actor.scope()).await?;
    let mut r = render(&DetailPage {
        page: PageCtx::new(ctx),
        v,
        rates,
        methods: &store::MANUAL_METHODS,
        today: super::today(),
        failed,
        errors: error.map(FormErrors::from).unwrap_or_default(),
        forms_none: FormErrors::default(),
        error: error
            .filter(|e| !matches!(e, AppError::Validation { .. }))
            .map(|e| e.to_string()),
        notice,
    })?;
    if let Some(e) = error {
        *r.status_mut() = e.status();
    }
    Ok(r)
}

#[derive(Deserialize)]
struct NoticeQuery {
    notice: Option<String>,
}

fn notice_for(key: Option<&str>) -> Option<&'static str> {
    Some(match key? {
        "created" => k("invoice-notice-created"),
        "saved" => k("invoice-notice-saved"),
        "sent" => k("invoice-notice-sent"),
        "payment" => k("invoice-notice-payment"),
        "voided" => k("invoice-notice-voided"),
        _ => return None,
    })
}

async fn detail_page(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> AppResult<Response> {
    let actor = staff_actor(&staff)?;
    detail_view(
        &app,
        &ctx,
        &actor,
        &id,
        notice_for(q.notice.as_deref()),
        "",
        None,
    )
    .await
}

/// Runs a form action: on success back to the invoice with a notice, on a refusal the page
/// again with the error beside the form that failed.
async fn after(
    app: &AppState,
    ctx: &RequestContext,
    actor: &Actor,
    id: &str,
    form: &'static str,
    notice: &str,
    r: AppResult<Invoice>,
) -> AppResult<Response> {
    match r {
        Ok(_) => Ok(Redirect::to(&format!("/admin/invoices/{id}?notice={notice}")).into_response()),
        Err(
            e @ (AppError::Validation { .. } | AppError::Unprocessable(_) | AppError::Conflict(_)),
        ) => detail_view(app, ctx, actor, id, None, form, Some(&e)).await,
        Err(e) => Err(e),
    }
}

async fn header_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<DraftInput>,
) -> AppResult<Response> {
    let actor = staff_actor(&staff)?;
    let r = service::update_draft(&app, &actor, &ctx.ip, &id, &f).await;
    after(&app, &ctx, &actor, &id, "header", "saved", r).await
}

/// A line as typed.
#[derive(Clone, Debug, Default, Deserialize, schemars::JsonSchema)]
pub struct LineBody {
    /// What was delivered.
    #[serde(default)]
    pub description: String,
    /// Quantity, decimals allowed ("1.5").
    #[serde(default)]
    pub quantity: String,
    /// Unit price as a decimal in major units ("120.00").
    #[serde(default)]
    pub unit_price: String,
    /// Tax rate id; empty for none.
    #[serde(default)]
    pub tax_rate_id: String,
}

impl LineBody {
    fn check(&self) -> AppResult<LineInput> {
        super::check_line(
            &self.description,
            &self.quantity,
            &self.unit_price,
            &self.tax_rate_id,
        )
    }
}

async fn line_add_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<LineBody>,
) -> AppResult<Response> {
    let actor = staff_actor(&staff)?;
    let r = match f.check() {
        Ok(l) => service::change_line(&app, &actor, &ctx.ip, &id, None, Some(&l)).await,
        Err(e) => Err(e),
    };
    after(&app, &ctx, &actor, &id, "line", "saved", r).await
}

async fn line_edit_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path((id, line)): Path<(String, String)>,
    axum::Form(f): axum::Form<LineBody>,
) -> AppResult<Response> {
    let actor = staff_actor(&staff)?;
    let r = match f.check() {
        Ok(l) => service::change_line(&app, &actor, &ctx.ip, &id, Some(&line), Some(&l)).await,
        Err(e) => Err(e),
    };
    after(&app, &ctx, &actor, &id, "edit", "saved", r).await
}

async fn line_delete_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path((id, line)): Path<(String, String)>,
) -> AppResult<Response> {
    let actor = staff_actor(&staff)?;
    let r = service::change_line(&app, &actor, &ctx.ip, &id, Some(&line), None).await;
    after(&app, &ctx, &actor, &id, "edit", "saved", r).await
}

async fn send_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let actor = staff_actor(&staff)?;
    let r = service::send(&app, &actor, &ctx.ip, &id).await;
    after(&app, &ctx, &actor, &id, "send", "sent", r).await
}

async fn payment_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<PaymentInput>,
) -> AppResult<Response> {
    let actor = staff_actor(&staff)?;
    let r = service::record_payment(&app, &actor, &ctx.ip, &id, &f).await;
    after(&app, &ctx, &actor, &id, "payment", "payment", r).await
}

/// Why an invoice is voided.
#[derive(Clone, Debug, Default, Deserialize, schemars::JsonSchema)]
pub struct VoidBody {
    /// Reason, kept with the invoice and shown to the client.
    #[serde(default)]
    pub reason: String,
}

async fn void_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<VoidBody>,
) -> AppResult<Response> {
    let actor = staff_actor(&staff)?;
    let r = service::void(&app, &actor, &ctx.ip, &id, &f.reason).await;
    after(&app, &ctx, &actor, &id, "void", "voided", r).await
}

async fn pdf_download(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let actor = staff_actor(&staff)?;
    let inv = service::staff_invoice(&app, &actor, &id).await?;
    let v = view_of(&app, &actor, inv).await?;
    let t = Translator::zoned(ctx.locale, ctx.tz);
    super::routes::pdf_response(&app, &t, &staff.tenant, &v).await
}

/// Billing settings as staff see them (keys only as "set" or not).
#[derive(Serialize, schemars::JsonSchema)]
pub struct SettingsView {
    /// Currency of new invoices.
    pub currency: String,
    /// Client roles besides the company admin that may see invoices.
    pub viewer_roles: Vec<String>,
    /// Email a reminder when an invoice becomes overdue.
    pub overdue_reminders: bool,
    /// Provider API base, when not the real one.
    pub provider_base_url: Option<String>,
    /// A secret API key is stored.
    pub provider_key_set: bool,
    /// A webhook signing secret is stored.
    pub webhook_secret_set: bool,
    /// The address to give the provider for webhooks.
    pub webhook_url: String,
}

async fn settings_view(app: &AppState, actor: &Actor, slug: &str) -> AppResult<SettingsView> {
    let s = store::settings(&app.db, actor.scope()).await?;
    Ok(SettingsView {
        currency: s.currency,
        viewer_roles: s.viewer_roles,
        overdue_reminders: s.overdue_reminders,
        provider_base_url: s.provider_base_url,
        provider_key_set: s.provider_secret_sealed.is_some(),
        webhook_secret_set: s.webhook_secret_sealed.is_some(),
        webhook_url: format!("{}/webhooks/payments/{slug}", app.config.base_url),
    })
}

#[derive(askama::Template)]
#[template(path = "invoices/templates/settings.html")]
struct SettingsPage {
    page: PageCtx,
    s: SettingsView,
    rates: Vec<TaxRate>,
    roles: &'static [&'static str],
    errors: FormErrors,
    notice: Option<&'static str>,
}

impl SettingsPage {
    fn allows(&self, role: &str) -> bool {
        self.s.viewer_roles.iter().any(|r| r == role)
    }
}

async fn settings_render(
    app: &AppState,
    ctx: &RequestContext,
    actor: &Actor,
    slug: &str,
    notice: Option<&'static str>,
    error: Option<&AppError>,
) -> AppResult<Response> {
    let mut r = render(&SettingsPage {
        page: PageCtx::new(ctx),
        s: settings_view(app, actor, slug).await?,
        rates: store::tax_rates(&app.db, actor.scope()).await?,
        roles: &super::EXTRA_VIEWER_ROLES,
        errors: error.map(FormErrors::from).unwrap_or_default(),
        notice,
    })?;
    if let Some(e) = error {
        *r.status_mut() = e.status();
    }
    Ok(r)
}

async fn settings_page(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Query(q): Query<NoticeQuery>,
) -> AppResult<Response> {
    let actor = staff_actor(&staff)?;
    settings_render(
        &app,
        &ctx,
        &actor,
        &staff.tenant.slug,
        notice_for(q.notice.as_deref()),
        None,
    )
    .await
}

async fn settings_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    body: axum::body::Bytes,
) -> AppResult<Response> {
    let actor = staff_actor(&staff)?;
    // Checkbox lists repeat a name; read pairs rather than a struct.
    let mut input = SettingsInput::default();
    for (k, v) in url::form_urlencoded::parse(&body) {
        match k.as_ref() {
            "currency" => input.currency = v.into_owned(),
            "viewer_roles" => input.viewer_roles.push(v.into_owned()),
            "overdue_reminders" => input.overdue_reminders = v == "on" || v == "true",
            "provider_base_url" => input.provider_base_url = v.into_owned(),
            "provider_secret_key" => input.provider_secret_key = v.into_owned(),
            "webhook_secret" => input.webhook_secret = v.into_owned(),
            _ => {}
        }
    }
    match service::save_settings(&app, &actor, &ctx.ip, &input).await {
        Ok(()) => Ok(Redirect::to("/admin/invoices/settings?notice=saved").into_response()),
        Err(e @ AppError::Validation { .. }) => {
            settings_render(&app, &ctx, &actor, &staff.tenant.slug, None, Some(&e)).await
        }
        Err(e) => Err(e),
    }
}

/// A new tax rate.
#[derive(Clone, Debug, Default, Deserialize, schemars::JsonSchema)]
pub struct TaxRateBody {
    /// Name ("Sales tax").
    #[serde(default)]
    pub name: String,
    /// Percent as a decimal ("8.25").
    #[serde(default)]
    pub percent: String,
}

async fn tax_rate_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    axum::Form(f): axum::Form<TaxRateBody>,
) -> AppResult<Response> {
    let actor = staff_actor(&staff)?;
    match service::create_tax_rate(&app, &actor, &ctx.ip, &f.name, &f.percent).await {
        Ok(_) => Ok(Redirect::to("/admin/invoices/settings?notice=saved").into_response()),
        Err(e @ AppError::Validation { .. }) => {
            settings_render(&app, &ctx, &actor, &staff.tenant.slug, None, Some(&e)).await
        }
        Err(e) => Err(e),
    }
}

async fn api_list(
    State(app): State<AppState>,
    staff: StaffUser,
    Query(q): Query<AdminListQuery>,
) -> AppResult<Json<AdminInvoicePage>> {
    let actor = staff_actor(&staff)?;
    let (items, next_cursor) = store::list(&app.db, actor.scope(), &q.filter()).await?;
    Ok(Json(AdminInvoicePage { items, next_cursor }))
}

async fn view(app: &AppState, actor: &Actor, inv: Invoice) -> AppResult<Json<InvoiceView>> {
    Ok(Json(view_of(app, actor, inv).await?))
}

async fn api_create(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Json(body): Json<DraftInput>,
) -> AppResult<(StatusCode, Json<InvoiceView>)> {
    let actor = staff_actor(&staff)?;
    let inv = service::create_draft(&app, &actor, &ctx.ip, &body).await?;
    Ok((StatusCode::CREATED, view(&app, &actor, inv).await?))
}

async fn api_get(
    State(app): State<AppState>,
    staff: StaffUser,
    Path(p): Path<InvoicePath>,
) -> AppResult<Json<InvoiceView>> {
    let actor = staff_actor(&staff)?;
    let inv = service::staff_invoice(&app, &actor, &p.id).await?;
    view(&app, &actor, inv).await
}

async fn api_update(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(p): Path<InvoicePath>,
    Json(body): Json<DraftInput>,
) -> AppResult<Json<InvoiceView>> {
    let actor = staff_actor(&staff)?;
    let inv = service::update_draft(&app, &actor, &ctx.ip, &p.id, &body).await?;
    view(&app, &actor, inv).await
}

async fn api_add_line(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(p): Path<InvoicePath>,
    Json(body): Json<LineBody>,
) -> AppResult<(StatusCode, Json<InvoiceView>)> {
    let actor = staff_actor(&staff)?;
    let l = body.check()?;
    let inv = service::change_line(&app, &actor, &ctx.ip, &p.id, None, Some(&l)).await?;
    Ok((StatusCode::CREATED, view(&app, &actor, inv).await?))
}

/// Path of one line.
#[derive(Deserialize, schemars::JsonSchema)]
pub struct LinePath {
    /// Invoice id.
    pub id: String,
    /// Line id.
    pub line: String,
}

async fn api_edit_line(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(p): Path<LinePath>,
    Json(body): Json<LineBody>,
) -> AppResult<Json<InvoiceView>> {
    let actor = staff_actor(&staff)?;
    let l = body.check()?;
    let inv = service::change_line(&app, &actor, &ctx.ip, &p.id, Some(&p.line), Some(&l)).await?;
    view(&app, &actor, inv).await
}

async fn api_delete_line(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(p): Path<LinePath>,
) -> AppResult<Json<InvoiceView>> {
    let actor = staff_actor(&staff)?;
    let inv = service::change_line(&app, &actor, &ctx.ip, &p.id, Some(&p.line), None).await?;
    view(&app, &actor, inv).await
}

async fn api_send(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(p): Path<InvoicePath>,
) -> AppResult<Json<InvoiceView>> {
    let actor = staff_actor(&staff)?;
    let inv = service::send(&app, &actor, &ctx.ip, &p.id).await?;
    view(&app, &actor, inv).await
}

async fn api_payment(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(p): Path<InvoicePath>,
    Json(body): Json<PaymentInput>,
) -> AppResult<Json<InvoiceView>> {
    let actor = staff_actor(&staff)?;
    let inv = service::record_payment(&app, &actor, &ctx.ip, &p.id, &body).await?;
    view(&app, &actor, inv).await
}

async fn api_void(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(p): Path<InvoicePath>,
    Json(body): Json<VoidBody>,
) -> AppResult<Json<InvoiceView>> {
    let actor = staff_actor(&staff)?;
    let inv = service::void(&app, &actor, &ctx.ip, &p.id, &body.reason).await?;
    view(&app, &actor, inv).await
}

async fn api_settings(
    State(app): State<AppState>,
    staff: StaffUser,
) -> AppResult<Json<SettingsView>> {
    let actor = staff_actor(&staff)?;
    Ok(Json(settings_view(&app, &actor, &staff.tenant.slug).await?))
}

async fn api_put_settings(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Json(body): Json<SettingsInput>,
) -> AppResult<Json<SettingsView>> {
    let actor = staff_actor(&staff)?;
    service::save_settings(&app, &actor, &ctx.ip, &body).await?;
    Ok(Json(settings_view(&app, &actor, &staff.tenant.slug).await?))
}

/// The tenant's tax rates.
#[derive(Serialize, schemars::JsonSchema)]
pub struct TaxRateList {
    /// By name.
    pub items: Vec<TaxRate>,
}

async fn api_tax_rates(
    State(app): State<AppState>,
    staff: StaffUser,
) -> AppResult<Json<TaxRateList>> {
    let actor = staff_actor(&staff)?;
    Ok(Json(TaxRateList {
        items: store::tax_rates(&app.db, actor.scope()).await?,
    }))
}

async fn api_create_tax_rate(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Json(body): Json<TaxRateBody>,
) -> AppResult<(StatusCode, Json<TaxRate>)> {
    let actor = staff_actor(&staff)?;
    let r = service::create_tax_rate(&app, &actor, &ctx.ip, &body.name, &body.percent).await?;
    Ok((StatusCode::CREATED, Json(r)))
}
