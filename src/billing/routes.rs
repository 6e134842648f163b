//! The client side: `/portal/billing` (subscriptions with upcoming charges and "request a
//! change", billing contacts, the statement form), the statement downloads, and the client
//! JSON API under `/api/v1/billing`. Every route needs the invoices' billing grant.

use aide::axum::routing::{delete_with, get_with, post_with};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};

use super::autopay::{self, AutopayFailure, AutopayInput, AutopayState, Methods, SavedMethod};
use super::statement::{self, Statement};
use super::store::Subscription;
use super::{Charge, service};
use crate::app::AppState;
use crate::auth::{Actor, Permission, PortalUser};
use crate::error::{AppError, AppResult};
use crate::http::context::{Ctx, RequestContext};
use crate::http::{ApiRouter, PageRouter};
use crate::i18n::{Translator, k};
use crate::invoices::service::billing_actor;
use crate::web::{PageCtx, render};

/// How far ahead the upcoming charges look (days).
pub const UPCOMING_DAYS: u64 = 90;

/// Portal pages.
pub fn pages() -> PageRouter {
    PageRouter::default()
        .route("/portal/billing", get(billing_page))
        .route("/portal/billing/statement", get(statement_download))
        .route("/portal/billing/methods", post(add_method_form))
        .route(
            "/portal/billing/methods/{id}/remove",
            get(remove_confirm).post(remove_form),
        )
        .route("/portal/billing/autopay", post(autopay_form))
}

/// Client JSON API.
pub fn api() -> ApiRouter {
    ApiRouter::default()
        .route(
            "/api/v1/billing/subscriptions",
            get_with(api_subscriptions, |op| {
                op.id("listBillingSubscriptions").tag("billing").summary("The company's subscriptions and upcoming charges")
                    .description("Needs the billing permission (as for invoices). `upcoming` lists the charges of active subscriptions over the next 90 days.")
            }),
        )
        .route(
            "/api/v1/billing/contacts",
            get_with(api_contacts, |op| {
                op.id("listBillingContacts").tag("billing").summary("Who receives the company's invoices")
            }),
        )
        .route(
            "/api/v1/billing/statement",
            get_with(api_statement, |op| {
                op.id("getBillingStatement").tag("billing").summary("Account statement over a period")
                    .description("`from`/`to` are days (`YYYY-MM-DD`, both included; defaults: first of this year, today). Invoices count on their issue date, payments on the day received in the tenant's zone; amounts in minor units of the tenant's currency. The same statement as PDF or CSV is at `/portal/billing/statement?format=pdf|csv`.")
            }),
        )
        .route(
            "/api/v1/billing/payment-methods",
            get_with(api_methods, |op| {
                op.id("listPaymentMethods").tag("billing").summary("The company's saved cards, masked")
                    .description("Read from the payment provider (brand, last four digits, expiry). `available` is false when the tenant has no provider set up or it could not be reached.")
            }),
        )
        .route(
            "/api/v1/billing/payment-methods/setup",
            post_with(api_setup, |op| {
                op.id("startPaymentMethodSetup").tag("billing").summary("Start saving a card on the provider's hosted page")
                    .description("Answers the hosted page's address; send the payer there. They return to `/portal/billing`.")
            }),
        )
        .route(
            "/api/v1/billing/payment-methods/{id}",
            delete_with(api_remove, |op| {
                op.id("removePaymentMethod").tag("billing").summary("Remove a saved card")
                    .description("Detaches the card at the provider; autopay with it turns off. A card that is not the company's is not found.")
            }),
        )
        .route(
            "/api/v1/billing/autopay",
            get_with(api_autopay, |op| {
                op.id("getAutopay").tag("billing").summary("The autopay setting")
            })
            .put_with(api_set_autopay, |op| {
                op.id("setAutopay").tag("billing").summary("Pay new invoices automatically with a saved card, or stop")
                    .description("`payment_method_id`: one of the company's saved cards; empty or null turns autopay off. When staff send an invoice, its balance is charged to that card; a refused charge leaves the invoice to pay and is listed in `failures` of `GET /api/v1/billing/autopay`.")
            }),
        )
}

/// A billing contact as shown.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Contact {
    /// Name.
    pub name: String,
    /// Email address invoices go to.
    pub email: String,
}

/// The company's billing contacts: the users invoices are emailed to (see
/// `crate::invoices::store::billing_contacts`).
pub async fn contacts(app: &AppState, actor: &Actor) -> AppResult<Vec<Contact>> {
    let company = actor.company_id().ok_or(AppError::NotFound)?;
    let mut tx = app.db.tenant(actor.scope()).begin().await?;
    let roles = crate::invoices::store::settings_in(&mut tx)
        .await?
        .viewer_roles;
    let list = crate::invoices::store::billing_contacts(&mut tx, company.as_str(), &roles).await?;
    tx.commit().await?;
    Ok(list
        .into_iter()
        .map(|(email, name, _)| Contact { name, email })
        .collect())
}

/// Subscriptions with the charges to come.
#[derive(Serialize, schemars::JsonSchema)]
pub struct SubscriptionPage {
    /// Active first, then paused, then cancelled.
    pub items: Vec<Subscription>,
    /// Charges of active subscriptions over the next 90 days, by date.
    pub upcoming: Vec<Charge>,
    /// Sum of `upcoming`, minor units.
    pub upcoming_total: i64,
    /// The tenant's currency.
    pub currency: String,
}

async fn subscription_page(
    app: &AppState,
    actor: &Actor,
    tenant: &crate::tenancy::Tenant,
) -> AppResult<SubscriptionPage> {
    let items = service::client_subscriptions(app, actor).await?;
    let tz: chrono_tz::Tz = tenant.time_zone.parse().unwrap_or(chrono_tz::UTC);
    let today = chrono::Utc::now().with_timezone(&tz).date_naive();
    let until = today + chrono::Days::new(UPCOMING_DAYS);
    let upcoming = super::upcoming(&items, today, until);
    let currency = crate::invoices::store::settings(&app.db, actor.scope())
        .await?
        .currency;
    Ok(SubscriptionPage {
        upcoming_total: upcoming.iter().map(|c| c.amount).sum(),
        items,
        upcoming,
        currency,
    })
}

/// The new-ticket link that asks for a change to `s`, prefilled.
pub fn change_link(t: &Translator, s: &Subscription) -> String {
    let subject = t.arg(k("subscription-change-subject"), "name", &s.name);
    let body = t.args(
        k("subscription-change-body"),
        &[
            ("name", crate::i18n::Arg::Str(s.name.clone())),
            ("quantity", crate::i18n::Arg::Str(s.quantity.clone())),
            ("cycle", crate::i18n::Arg::key(s.cycle.label_key())),
        ],
    );
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("subject", &subject)
        .append_pair("description", &body)
        .append_pair("category", "Billing");
    format!("/portal/tickets/new?{}", q.finish())
}

#[derive(askama::Template)]
#[template(path = "billing/templates/billing.html")]
struct BillingPage {
    page: PageCtx,
    s: SubscriptionPage,
    m: Methods,
    failures: Vec<AutopayFailure>,
    notice: Option<&'static str>,
    contacts: Vec<Contact>,
    can_request: bool,
    from: String,
    to: String,
    errors: crate::web::FormErrors,
}

async fn billing_view(
    app: &AppState,
    ctx: &RequestContext,
    user: &PortalUser,
    actor: &Actor,
    q: &StatementQuery,
    error: Option<&AppError>,
) -> AppResult<Response> {
    let s = subscription_page(app, actor, &user.tenant).await?;
    let contacts = contacts(app, actor).await?;
    let m = autopay::methods(app, actor).await?;
    let company = actor.company_id().ok_or(AppError::NotFound)?;
    let failures = autopay::failures(&app.db, actor.scope(), company.as_str()).await?;
    let notice = match q.notice.as_deref() {
        Some("method-added") => Some(k("billing-notice-method-added")),
        Some("method-removed") => Some(k("billing-notice-method-removed")),
        Some("autopay-saved") => Some(k("billing-notice-autopay-saved")),
        _ => None,
    };
    let mut r = render(&BillingPage {
        page: PageCtx::new(ctx),
        s,
        m,
        failures,
        notice,
        contacts,
        can_request: user.can(Permission::CreateTickets),
        from: q.from.clone().unwrap_or_default(),
        to: q.to.clone().unwrap_or_default(),
        errors: error.map(crate::web::FormErrors::from).unwrap_or_default(),
    })?;
    if let Some(e) = error {
        *r.status_mut() = e.status();
    }
    Ok(r)
}

async fn billing_page(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Query(q): Query<StatementQuery>,
) -> AppResult<Response> {
    let actor = billing_actor(&app, &user).await?;
    let q = StatementQuery {
        notice: q.notice,
        ..StatementQuery::default()
    };
    billing_view(&app, &ctx, &user, &actor, &q, None).await
}

/// The period of a statement.
#[derive(Clone, Debug, Default, Deserialize, schemars::JsonSchema)]
pub struct StatementQuery {
    /// First day (`YYYY-MM-DD`).
    pub from: Option<String>,
    /// Last day, included.
    pub to: Option<String>,
    /// `pdf` (default) or `csv`; pages only.
    pub format: Option<String>,
    /// A message to show on the billing page (a fixed key); pages only.
    #[serde(default)]
    #[schemars(skip)]
    pub notice: Option<String>,
}

async fn statement_of(
    app: &AppState,
    user: &PortalUser,
    actor: &Actor,
    q: &StatementQuery,
) -> AppResult<Statement> {
    statement::load(
        app,
        actor,
        &user.tenant,
        q.from.as_deref().unwrap_or(""),
        q.to.as_deref().unwrap_or(""),
    )
    .await
}

fn download(bytes: Vec<u8>, content_type: &'static str, name: &str) -> AppResult<Response> {
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
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

async fn statement_download(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Query(q): Query<StatementQuery>,
) -> AppResult<Response> {
    let actor = billing_actor(&app, &user).await?;
    let s = match statement_of(&app, &user, &actor, &q).await {
        Ok(s) => s,
        // A bad period shows the billing page again with the error beside the field.
        Err(e @ AppError::Validation { .. }) => {
            return billing_view(&app, &ctx, &user, &actor, &q, Some(&e)).await;
        }
        Err(e) => return Err(e),
    };
    let name = format!("statement-{}-{}", s.from, s.to);
    match q.format.as_deref() {
        Some("csv") => download(
            statement::csv(&s)?,
            "text/csv; charset=utf-8",
            &format!("{name}.csv"),
        ),
        None | Some("") | Some("pdf") => {
            let t = Translator::zoned(ctx.locale, ctx.tz);
            download(
                statement::pdf(&t, &user.tenant, &s)?,
                "application/pdf",
                &format!("{name}.pdf"),
            )
        }
        Some(_) => Err(AppError::field("format", k("statement-error-format"))),
    }
}

async fn api_subscriptions(
    State(app): State<AppState>,
    user: PortalUser,
) -> AppResult<Json<SubscriptionPage>> {
    let actor = billing_actor(&app, &user).await?;
    Ok(Json(subscription_page(&app, &actor, &user.tenant).await?))
}

/// The billing contacts.
#[derive(Serialize, schemars::JsonSchema)]
pub struct ContactList {
    /// By email.
    pub items: Vec<Contact>,
}

async fn api_contacts(
    State(app): State<AppState>,
    user: PortalUser,
) -> AppResult<Json<ContactList>> {
    let actor = billing_actor(&app, &user).await?;
    Ok(Json(ContactList {
        items: contacts(&app, &actor).await?,
    }))
}

async fn api_statement(
    State(app): State<AppState>,
    user: PortalUser,
    Query(q): Query<StatementQuery>,
) -> AppResult<Json<Statement>> {
    let actor = billing_actor(&app, &user).await?;
    Ok(Json(statement_of(&app, &user, &actor, &q).await?))
}

async fn add_method_form(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
) -> AppResult<Response> {
    let actor = billing_actor(&app, &user).await?;
    let url = autopay::start_setup(&app, &actor, &ctx.ip, &user.tenant.slug).await?;
    Ok(Redirect::to(&url).into_response())
}

#[derive(askama::Template)]
#[template(path = "billing/templates/remove_method.html")]
struct RemovePage {
    page: PageCtx,
    m: SavedMethod,
}

async fn remove_confirm(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let actor = billing_actor(&app, &user).await?;
    let m = autopay::method(&app, &actor, &id).await?;
    render(&RemovePage {
        page: PageCtx::new(&ctx),
        m,
    })
}

async fn remove_form(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let actor = billing_actor(&app, &user).await?;
    autopay::remove(&app, &actor, &ctx.ip, &id).await?;
    Ok(Redirect::to("/portal/billing?notice=method-removed").into_response())
}

async fn autopay_form(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    axum::Form(f): axum::Form<AutopayInput>,
) -> AppResult<Response> {
    let actor = billing_actor(&app, &user).await?;
    match autopay::set_autopay(&app, &actor, &ctx.ip, &f).await {
        Ok(_) => Ok(Redirect::to("/portal/billing?notice=autopay-saved").into_response()),
        Err(e @ AppError::Validation { .. }) => {
            billing_view(
                &app,
                &ctx,
                &user,
                &actor,
                &StatementQuery::default(),
                Some(&e),
            )
            .await
        }
        Err(e) => Err(e),
    }
}

async fn api_methods(State(app): State<AppState>, user: PortalUser) -> AppResult<Json<Methods>> {
    let actor = billing_actor(&app, &user).await?;
    Ok(Json(autopay::methods(&app, &actor).await?))
}

/// The provider's hosted page.
#[derive(Serialize, schemars::JsonSchema)]
pub struct SetupStarted {
    /// Where to send the payer.
    pub url: String,
}

async fn api_setup(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
) -> AppResult<Json<SetupStarted>> {
    let actor = billing_actor(&app, &user).await?;
    Ok(Json(SetupStarted {
        url: autopay::start_setup(&app, &actor, &ctx.ip, &user.tenant.slug).await?,
    }))
}

/// Path of one saved method.
#[derive(Deserialize, schemars::JsonSchema)]
pub struct MethodPath {
    /// Provider id (`pm_…`).
    pub id: String,
}

async fn api_remove(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Path(p): Path<MethodPath>,
) -> AppResult<Json<SavedMethod>> {
    let actor = billing_actor(&app, &user).await?;
    Ok(Json(autopay::remove(&app, &actor, &ctx.ip, &p.id).await?))
}

/// The autopay setting with the refused automatic charges still to be paid.
#[derive(Serialize, schemars::JsonSchema)]
pub struct AutopayView {
    /// The setting.
    #[serde(flatten)]
    pub state: AutopayState,
    /// Refused automatic charges of invoices still sent or overdue, newest first.
    pub failures: Vec<AutopayFailure>,
}

async fn api_autopay(
    State(app): State<AppState>,
    user: PortalUser,
) -> AppResult<Json<AutopayView>> {
    let actor = billing_actor(&app, &user).await?;
    let company = actor.company_id().ok_or(AppError::NotFound)?;
    Ok(Json(AutopayView {
        state: autopay::autopay_state(&app, &actor).await?,
        failures: autopay::failures(&app.db, actor.scope(), company.as_str()).await?,
    }))
}

/// The autopay choice on the API. Unlike the form (which also carries `_csrf`), a body with
/// any other field, or a field of the wrong type, is refused rather than read as "off".
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct AutopayBody {
    /// The saved method to charge new invoices to; empty or null turns autopay off.
    payment_method_id: Option<String>,
}

async fn api_set_autopay(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Json(b): Json<AutopayBody>,
) -> AppResult<Json<AutopayState>> {
    let actor = billing_actor(&app, &user).await?;
    let input = AutopayInput {
        payment_method_id: b.payment_method_id,
    };
    Ok(Json(
        autopay::set_autopay(&app, &actor, &ctx.ip, &input).await?,
    ))
}
