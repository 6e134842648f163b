//! The client side: `/portal/invoices` pages, the PDF, "Pay now" and its return page, the
//! client JSON API, and the provider's webhook (outside the session machinery, proven by its
//! signature).

use aide::axum::routing::{get_with, post_with};
use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};

use super::service::{self, WebhookOutcome};
use super::store::{self, Invoice, Line, ListFilter, Payment};
use super::{Status, TaxLine};
use crate::app::AppState;
use crate::auth::{Actor, PortalUser};
use crate::error::{AppError, AppResult};
use crate::http::context::{Ctx, RequestContext};
use crate::http::{ApiRouter, PageRouter};
use crate::i18n::{Arg, Translator, k};
use crate::payments;
use crate::web::{PageCtx, render};

/// Invoices per list page.
pub const PAGE_SIZE: i64 = 25;

/// Portal pages.
pub fn pages() -> PageRouter {
    PageRouter::default()
        .route("/portal/invoices", get(list_page))
        .route("/portal/invoices/{id}", get(detail_page))
        .route("/portal/invoices/{id}/pdf", get(pdf_download))
        .route("/portal/invoices/{id}/pay", post(pay_form))
        .route("/portal/invoices/{id}/return", get(return_page))
}

/// Client JSON API.
pub fn api() -> ApiRouter {
    ApiRouter::default()
        .route(
            "/api/v1/invoices",
            get_with(api_list, |op| {
                op.id("listInvoices").tag("invoices").summary("The company's invoices")
                    .description("Needs the billing permission (company admins; other client roles when the tenant allows). Drafts never appear. `status` filters by status, `from`/`to` by issue date (`YYYY-MM-DD`); `cursor` continues a page. `outstanding` and `overdue` are balances in minor units.")
            }),
        )
        .route(
            "/api/v1/invoices/payments",
            get_with(api_payments, |op| {
                op.id("listInvoicePayments").tag("invoices").summary("The company's payment history")
            }),
        )
        .route(
            "/api/v1/invoices/{id}",
            get_with(api_get, |op| {
                op.id("getInvoice").tag("invoices").summary("One invoice with lines, taxes and payments")
            }),
        )
        .route(
            "/api/v1/invoices/{id}/checkout",
            post_with(api_checkout, |op| {
                op.id("startInvoiceCheckout").tag("invoices").summary("Start a hosted checkout for the balance")
                    .description("Answers the provider's hosted page address; send the payer there. Only sent or overdue invoices with a balance.")
            }),
        )
}

/// The provider's webhook, outside the session and CSRF machinery: it proves itself with the
/// tenant's signing secret.
pub fn webhooks() -> Router<AppState> {
    Router::new().route("/webhooks/payments/{tenant}", post(webhook))
}

fn client_company(actor: &Actor) -> AppResult<String> {
    actor
        .company_id()
        .map(|c| c.as_str().to_string())
        .ok_or(AppError::NotFound)
}

/// List filter as given in the query string.
#[derive(Clone, Debug, Default, Deserialize, schemars::JsonSchema)]
pub struct ListQuery {
    /// One status (`sent`, `paid`, `overdue`, `void`).
    pub status: Option<String>,
    /// Issued on or after (`YYYY-MM-DD`).
    pub from: Option<String>,
    /// Issued on or before (`YYYY-MM-DD`).
    pub to: Option<String>,
    /// Continue after this cursor.
    pub cursor: Option<String>,
    /// Page size (1-200).
    pub limit: Option<i64>,
    /// Notice key after an action.
    pub notice: Option<String>,
}

impl ListQuery {
    /// The store filter; invalid values are dropped (the page shows all).
    pub fn filter(&self) -> ListFilter {
        let date = |d: &Option<String>| d.as_deref().and_then(|d| super::check_date("d", d).ok());
        ListFilter {
            company_id: None,
            status: self.status.as_deref().and_then(Status::parse),
            hide_drafts: false,
            from: date(&self.from),
            to: date(&self.to),
            cursor: self.cursor.clone().filter(|c| !c.is_empty()),
            limit: self.limit.unwrap_or(PAGE_SIZE),
        }
    }

    /// The query string of this filter with another cursor.
    pub fn next_link(&self, base: &str, cursor: &str) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("status", &self.status),
            ("from", &self.from),
            ("to", &self.to),
        ] {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                q.append_pair(k, v);
            }
        }
        q.append_pair("cursor", cursor);
        format!("{base}?{}", q.finish())
    }
}

/// A page of invoices with the company's balances.
#[derive(Serialize, schemars::JsonSchema)]
pub struct InvoicePage {
    /// Invoices, newest first.
    pub items: Vec<Invoice>,
    /// Cursor of the next page.
    pub next_cursor: Option<String>,
    /// Balance of sent and overdue invoices, minor units.
    pub outstanding: i64,
    /// Balance of overdue invoices.
    pub overdue: i64,
    /// Number of overdue invoices.
    pub overdue_count: i64,
    /// The tenant's currency.
    pub currency: String,
}

async fn client_page(app: &AppState, actor: &Actor, q: &ListQuery) -> AppResult<InvoicePage> {
    let company = client_company(actor)?;
    let mut f = q.filter();
    f.company_id = Some(company.clone());
    f.hide_drafts = true;
    if f.status == Some(Status::Draft) {
        f.status = None;
    }
    let (items, next_cursor) = store::list(&app.db, actor.scope(), &f).await?;
    let (outstanding, overdue, overdue_count) =
        store::balances(&app.db, actor.scope(), &company).await?;
    let currency = store::settings(&app.db, actor.scope()).await?.currency;
    Ok(InvoicePage {
        items,
        next_cursor,
        outstanding,
        overdue,
        overdue_count,
        currency,
    })
}

/// An invoice with everything its page shows.
#[derive(Serialize, schemars::JsonSchema)]
pub struct InvoiceView {
    /// The invoice.
    pub invoice: Invoice,
    /// Its lines.
    pub lines: Vec<Line>,
    /// Tax per rate.
    pub taxes: Vec<TaxLine>,
    /// Payments received.
    pub payments: Vec<Payment>,
    /// Some of it was paid outside the online checkout (recorded by staff or a sync).
    pub paid_elsewhere: bool,
    /// "Pay now" is offered (sent or overdue with a balance, and a provider set up).
    pub can_pay: bool,
}

/// Loads the view of an invoice already checked for access.
pub async fn view_of(app: &AppState, actor: &Actor, invoice: Invoice) -> AppResult<InvoiceView> {
    let lines = store::lines(&app.db, actor.scope(), &invoice.id).await?;
    let payments = store::payments(&app.db, actor.scope(), &invoice.id).await?;
    let taxes = store::totals_of(&lines).taxes;
    let settings = store::settings(&app.db, actor.scope()).await?;
    let can_pay = invoice.status.payable()
        && invoice.balance > 0
        && settings.provider_secret_sealed.is_some();
    Ok(InvoiceView {
        paid_elsewhere: payments.iter().any(Payment::elsewhere),
        invoice,
        lines,
        taxes,
        payments,
        can_pay,
    })
}

#[derive(askama::Template)]
#[template(path = "invoices/templates/list.html")]
struct ListPage {
    page: PageCtx,
    p: InvoicePage,
    next: Option<String>,
    status: String,
    from: String,
    to: String,
    statuses: Vec<(&'static str, &'static str)>,
}

async fn list_page(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    let actor = service::billing_actor(&app, &user).await?;
    let p = client_page(&app, &actor, &q).await?;
    render(&ListPage {
        page: PageCtx::new(&ctx),
        next: p
            .next_cursor
            .as_deref()
            .map(|c| q.next_link("/portal/invoices", c)),
        p,
        status: q.status.clone().unwrap_or_default(),
        from: q.from.clone().unwrap_or_default(),
        to: q.to.clone().unwrap_or_default(),
        statuses: client_statuses(),
    })
}

fn client_statuses() -> Vec<(&'static str, &'static str)> {
    vec![
        ("sent", k("invoice-status-sent")),
        ("overdue", k("invoice-status-overdue")),
        ("paid", k("invoice-status-paid")),
        ("void", k("invoice-status-void")),
    ]
}

#[derive(askama::Template)]
#[template(path = "invoices/templates/detail.html")]
struct DetailPage {
    page: PageCtx,
    v: InvoiceView,
    notice: Option<&'static str>,
    error: Option<String>,
}

async fn detail_view(
    app: &AppState,
    ctx: &RequestContext,
    actor: &Actor,
    id: &str,
    notice: Option<&'static str>,
    error: Option<&AppError>,
) -> AppResult<Response> {
    let inv = service::client_invoice(app, actor, id).await?;
    let v = view_of(app, actor, inv).await?;
    let mut r = render(&DetailPage {
        page: PageCtx::new(ctx),
        v,
        notice,
        error: error.map(|e| e.to_string()),
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

async fn detail_page(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> AppResult<Response> {
    let actor = service::billing_actor(&app, &user).await?;
    let notice = match q.notice.as_deref() {
        Some("payment-cancelled") => Some(k("invoice-notice-payment-cancelled")),
        _ => None,
    };
    detail_view(&app, &ctx, &actor, &id, notice, None).await
}

async fn pay_form(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let actor = service::billing_actor(&app, &user).await?;
    match service::start_checkout(&app, &actor, &ctx.ip, &user.tenant.slug, &id).await {
        Ok(url) => {
            // The site's CSP (`form-action 'self'`) stops a form's redirect to another origin,
            // so the answer is a page of ours that moves on by itself, with a link as well.
            let number = service::client_invoice(&app, &actor, &id).await?.number;
            let mut r = render(&CheckoutPage {
                page: PageCtx::new(&ctx),
                number,
                url: url.clone(),
            })?;
            if let Ok(v) = HeaderValue::from_str(&format!("0; url={url}")) {
                r.headers_mut().insert(header::REFRESH, v);
            }
            Ok(r)
        }
        Err(e @ AppError::Unprocessable(_)) => {
            detail_view(&app, &ctx, &actor, &id, None, Some(&e)).await
        }
        Err(e) => Err(e),
    }
}

#[derive(askama::Template)]
#[template(path = "invoices/templates/checkout.html")]
struct CheckoutPage {
    page: PageCtx,
    number: i64,
    url: String,
}

#[derive(Deserialize)]
struct ReturnQuery {
    session_id: Option<String>,
}

#[derive(askama::Template)]
#[template(path = "invoices/templates/return.html")]
struct ReturnPage {
    page: PageCtx,
    v: InvoiceView,
    /// `paid`, `partly` or `processing`.
    state: &'static str,
}

async fn return_page(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    Query(q): Query<ReturnQuery>,
) -> AppResult<Response> {
    let actor = service::billing_actor(&app, &user).await?;
    let inv = service::client_invoice(&app, &actor, &id).await?;
    // Only what the webhook recorded counts: the return address itself proves nothing.
    let recorded = match q.session_id.as_deref() {
        Some(s)
            if store::checkout_invoice(&app.db, actor.scope(), s)
                .await?
                .as_deref()
                == Some(inv.id.as_str()) =>
        {
            store::payment_by_ref(&app.db, actor.scope(), s).await?
        }
        _ => false,
    };
    let state = match (inv.status, recorded) {
        (Status::Paid, _) => "paid",
        (_, true) => "partly",
        _ => "processing",
    };
    let v = view_of(&app, &actor, inv).await?;
    let mut r = render(&ReturnPage {
        page: PageCtx::new(&ctx),
        v,
        state,
    })?;
    if state == "processing" {
        // The page looks again shortly: the webhook usually lands within seconds.
        r.headers_mut()
            .insert(header::REFRESH, HeaderValue::from_static("5"));
    }
    Ok(r)
}

/// The branded PDF of an invoice the viewer may see.
pub async fn pdf_response(
    app: &AppState,
    t: &Translator,
    tenant: &crate::tenancy::Tenant,
    v: &InvoiceView,
) -> AppResult<Response> {
    let bytes = super::pdf::render(app, t, tenant, v)?;
    let name = format!("invoice-{}.pdf", v.invoice.number);
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/pdf"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
                    .map_err(|e| AppError::Internal(e.into()))?,
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-store"),
            ),
        ],
        bytes,
    )
        .into_response())
}

async fn pdf_download(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let actor = service::billing_actor(&app, &user).await?;
    let inv = service::client_invoice(&app, &actor, &id).await?;
    let v = view_of(&app, &actor, inv).await?;
    let t = Translator::zoned(ctx.locale, ctx.tz);
    pdf_response(&app, &t, &user.tenant, &v).await
}

async fn api_list(
    State(app): State<AppState>,
    user: PortalUser,
    Query(q): Query<ListQuery>,
) -> AppResult<Json<InvoicePage>> {
    let actor = service::billing_actor(&app, &user).await?;
    Ok(Json(client_page(&app, &actor, &q).await?))
}

/// Path of one invoice.
#[derive(Deserialize, schemars::JsonSchema)]
pub struct InvoicePath {
    /// Invoice id.
    pub id: String,
}

async fn api_get(
    State(app): State<AppState>,
    user: PortalUser,
    Path(p): Path<InvoicePath>,
) -> AppResult<Json<InvoiceView>> {
    let actor = service::billing_actor(&app, &user).await?;
    let inv = service::client_invoice(&app, &actor, &p.id).await?;
    Ok(Json(view_of(&app, &actor, inv).await?))
}

/// The company's payments.
#[derive(Serialize, schemars::JsonSchema)]
pub struct PaymentList {
    /// Newest first (at most 200).
    pub items: Vec<Payment>,
}

async fn api_payments(
    State(app): State<AppState>,
    user: PortalUser,
) -> AppResult<Json<PaymentList>> {
    let actor = service::billing_actor(&app, &user).await?;
    let company = client_company(&actor)?;
    Ok(Json(PaymentList {
        items: store::company_payments(&app.db, actor.scope(), &company, 200).await?,
    }))
}

/// Where to send the payer.
#[derive(Serialize, schemars::JsonSchema)]
pub struct CheckoutAnswer {
    /// The provider's hosted checkout page.
    pub url: String,
}

async fn api_checkout(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Path(p): Path<InvoicePath>,
) -> AppResult<Json<CheckoutAnswer>> {
    let actor = service::billing_actor(&app, &user).await?;
    let url = service::start_checkout(&app, &actor, &ctx.ip, &user.tenant.slug, &p.id).await?;
    Ok(Json(CheckoutAnswer { url }))
}

/// Largest webhook body read.
const MAX_WEBHOOK_BYTES: usize = 256 * 1024;

fn answer(status: StatusCode, msg: &str) -> Response {
    (
        status,
        Json(serde_json::json!({ "received": status.is_success(), "message": msg })),
    )
        .into_response()
}

async fn webhook(
    State(app): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if body.len() > MAX_WEBHOOK_BYTES {
        return answer(StatusCode::PAYLOAD_TOO_LARGE, "too large");
    }
    let tenant = match crate::tenancy::store::by_slug(&app.db, &slug).await {
        Ok(Some(t)) => t,
        Ok(None) => return answer(StatusCode::NOT_FOUND, "unknown endpoint"),
        Err(e) => {
            tracing::error!(error = %e, "webhook: tenant lookup failed");
            return answer(StatusCode::SERVICE_UNAVAILABLE, "try again");
        }
    };
    let scope = tenant.scope();
    let secret = match store::settings(&app.db, &scope).await {
        Ok(s) => s
            .webhook_secret_sealed
            .and_then(|s| crate::mfa::open(&app.config.secret_key, &s))
            .and_then(|b| String::from_utf8(b).ok()),
        Err(e) => {
            tracing::error!(error = %e, "webhook: settings lookup failed");
            return answer(StatusCode::SERVICE_UNAVAILABLE, "try again");
        }
    };
    let Some(secret) = secret else {
        return answer(StatusCode::NOT_FOUND, "unknown endpoint");
    };
    let sig = headers
        .get(payments::SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let now = chrono::Utc::now().timestamp();
    if let Err(e) = payments::verify(sig, &body, &secret, now) {
        tracing::warn!(tenant = %slug, error = %e, "webhook refused");
        return answer(StatusCode::BAD_REQUEST, "invalid signature");
    }
    let event: payments::Event = match serde_json::from_slice(&body) {
        Ok(e) => e,
        Err(_) => return answer(StatusCode::OK, "ignored"),
    };
    // The same endpoint and secret serve Mission gifts; their metadata names them.
    let recorded = if crate::mission::giving::give::is_mission(&event) {
        crate::mission::giving::give::record_webhook(&app, &scope, &slug, &event).await
    } else {
        service::record_webhook(&app, &scope, &slug, &event).await
    };
    match recorded {
        Ok(WebhookOutcome::Recorded) => answer(StatusCode::OK, "recorded"),
        Ok(WebhookOutcome::Duplicate) => answer(StatusCode::OK, "already recorded"),
        Ok(WebhookOutcome::Ignored) => answer(StatusCode::OK, "ignored"),
        Err(AppError::NotFound) => answer(StatusCode::NOT_FOUND, "no such invoice"),
        Err(AppError::Unprocessable(m)) => answer(StatusCode::UNPROCESSABLE_ENTITY, &m),
        Err(e) => {
            tracing::error!(error = %e, "webhook: recording failed");
            answer(StatusCode::SERVICE_UNAVAILABLE, "try again")
        }
    }
}

/// Arguments of a status label, for templates.
pub fn status_key(s: Status) -> &'static str {
    s.label_key()
}

/// The money of an invoice formatted for `t`.
pub fn money(t: &Translator, minor: impl crate::i18n::Int, currency: &str) -> String {
    t.money(minor.int(), currency)
}

/// "Invoice 1042", translated.
pub fn title(t: &Translator, number: impl crate::i18n::Int) -> String {
    t.args(k("invoice-title"), &[("number", Arg::Num(number.int()))])
}
