//! Saved payment methods and autopay. Cards live at the provider, never here: a company has
//! one provider Customer (`billing_accounts.customer_id`), its cards are read from the provider
//! on every view, added on the provider's hosted page (a Checkout Session with `mode=setup`)
//! and detached there. A method is only ever shown, chosen or detached when the provider's
//! answer says it belongs to the company's own customer.
//!
//! Autopay: the company picks one saved method; when staff send an invoice to that company,
//! the sending transaction enqueues [`AutopayJob`], which creates an off-session payment
//! intent. The payment is recorded by the provider's webhook (`payment_intent.succeeded`), the
//! same idempotent path as a checkout; a refusal leaves the invoice sent and is shown on
//! `/portal/billing`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::auth::Actor;
use crate::db::{Db, DbResult, Row, TenantTx, new_id, now_ms};
use crate::error::{AppError, AppResult};
use crate::i18n::k;
use crate::invoices::store::Invoice;
use crate::jobs::{Job, JobError, JobKind};
use crate::payments::{self, PaymentError, Provider};
use crate::tenancy::{TenantId, TenantScope};

/// A company's account at the provider.
#[derive(Clone, Debug, Default)]
pub struct Account {
    /// The provider Customer holding the company's saved methods.
    pub customer_id: Option<String>,
    /// The saved method new invoices are charged to (autopay on).
    pub autopay_method_id: Option<String>,
    /// How that method was shown when chosen ("Visa •••• 4242").
    pub autopay_label: Option<String>,
}

fn account_row(r: &crate::db::AnyRow) -> Result<Account, sqlx::Error> {
    Ok(Account {
        customer_id: r.try_get("customer_id")?,
        autopay_method_id: r.try_get("autopay_method_id")?,
        autopay_label: r.try_get("autopay_label")?,
    })
}

const ACCOUNT: &str = "SELECT customer_id, autopay_method_id, autopay_label FROM billing_accounts \
    WHERE tenant_id = $1 AND company_id = $2";

/// The company's account (empty when it never saved a method).
pub async fn account(db: &Db, scope: &TenantScope, company_id: &str) -> DbResult<Account> {
    let r = sqlx::query(ACCOUNT)
        .bind(scope.tenant_id().as_str())
        .bind(company_id)
        .fetch_optional(db.tenant(scope).reader())
        .await?;
    Ok(r.as_ref().map(account_row).transpose()?.unwrap_or_default())
}

async fn account_in(tx: &mut TenantTx, company_id: &str) -> DbResult<Account> {
    let tenant = tx.tenant_id().to_string();
    let r = sqlx::query(ACCOUNT)
        .bind(&tenant)
        .bind(company_id)
        .fetch_optional(tx.conn())
        .await?;
    Ok(r.as_ref().map(account_row).transpose()?.unwrap_or_default())
}

/// Stores the company's provider customer unless one is stored already (then that one stays).
async fn keep_customer(
    tx: &mut TenantTx,
    company_id: &str,
    customer_id: &str,
    by: &str,
) -> DbResult<()> {
    let tenant = tx.tenant_id().to_string();
    sqlx::query(
        "INSERT INTO billing_accounts (tenant_id, company_id, customer_id, updated_by, updated_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, company_id) DO UPDATE SET \
         customer_id = COALESCE(billing_accounts.customer_id, $3), updated_by = $4, updated_at = $5",
    )
    .bind(&tenant)
    .bind(company_id)
    .bind(customer_id)
    .bind(by)
    .bind(now_ms())
    .execute(tx.conn())
    .await?;
    Ok(())
}

async fn store_autopay(
    tx: &mut TenantTx,
    company_id: &str,
    method: Option<(&str, &str)>,
    by: &str,
) -> DbResult<()> {
    let tenant = tx.tenant_id().to_string();
    sqlx::query(
        "UPDATE billing_accounts SET autopay_method_id = $3, autopay_label = $4, updated_by = $5, \
         updated_at = $6 WHERE tenant_id = $1 AND company_id = $2",
    )
    .bind(&tenant)
    .bind(company_id)
    .bind(method.map(|m| m.0))
    .bind(method.map(|m| m.1))
    .bind(by)
    .bind(now_ms())
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// A saved card as shown (masked: brand, last four digits, expiry).
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct SavedMethod {
    /// Provider id (`pm_…`).
    pub id: String,
    /// Card brand (`visa`, `mastercard`, …).
    pub brand: String,
    /// Last four digits.
    pub last4: String,
    /// Expiry month.
    pub exp_month: i64,
    /// Expiry year.
    pub exp_year: i64,
    /// New invoices are charged to this method.
    pub autopay: bool,
}

impl SavedMethod {
    /// "Visa •••• 4242".
    pub fn label(&self) -> String {
        let mut brand = self.brand.clone();
        if let Some(f) = brand.get(0..1) {
            brand = format!("{}{}", f.to_uppercase(), &brand[1..]);
        }
        format!("{brand} •••• {}", self.last4)
    }

    /// "04/2030".
    pub fn expiry(&self) -> String {
        format!("{:02}/{}", self.exp_month, self.exp_year)
    }
}

/// The saved methods of a company, and whether the provider could be asked.
#[derive(Clone, Debug, Default, Serialize, schemars::JsonSchema)]
pub struct Methods {
    /// Saved cards, as the provider lists them.
    pub items: Vec<SavedMethod>,
    /// The method autopay charges, when autopay is on.
    pub autopay_method_id: Option<String>,
    /// False when the tenant has no payment provider set up or it could not be reached.
    pub available: bool,
}

fn provider_error(e: PaymentError) -> AppError {
    match e {
        PaymentError::Refused { status: 404, .. } => AppError::NotFound,
        e => {
            tracing::warn!(error = %e, "payment provider call failed");
            AppError::Unprocessable(k("billing-method-error-provider").into())
        }
    }
}

async fn provider_of(app: &AppState, scope: &TenantScope) -> AppResult<Option<Provider>> {
    let settings = crate::invoices::store::settings(&app.db, scope).await?;
    Ok(crate::invoices::service::provider(app, &settings))
}

fn company(actor: &Actor) -> AppResult<String> {
    Ok(actor
        .company_id()
        .ok_or(AppError::NotFound)?
        .as_str()
        .to_string())
}

fn shown(m: payments::PaymentMethod, autopay: Option<&str>) -> SavedMethod {
    let card = m.card.unwrap_or_default();
    SavedMethod {
        autopay: autopay == Some(m.id.as_str()),
        id: m.id,
        brand: card.brand,
        last4: card.last4,
        exp_month: card.exp_month,
        exp_year: card.exp_year,
    }
}

/// The company's saved cards, read from the provider; `actor` comes from `billing_actor`.
pub async fn methods(app: &AppState, actor: &Actor) -> AppResult<Methods> {
    let company = company(actor)?;
    let acct = account(&app.db, actor.scope(), &company).await?;
    let Some(p) = provider_of(app, actor.scope()).await? else {
        return Ok(Methods::default());
    };
    let Some(customer) = acct.customer_id else {
        return Ok(Methods {
            available: true,
            ..Methods::default()
        });
    };
    match payments::list_payment_methods(&p, &customer).await {
        Ok(list) => Ok(Methods {
            items: list
                .into_iter()
                .map(|m| shown(m, acct.autopay_method_id.as_deref()))
                .collect(),
            autopay_method_id: acct.autopay_method_id,
            available: true,
        }),
        Err(e) => {
            tracing::warn!(error = %e, "saved payment methods could not be listed");
            Ok(Methods {
                autopay_method_id: acct.autopay_method_id,
                ..Methods::default()
            })
        }
    }
}

/// Opens the provider's hosted page where the payer saves a card for the company (creating
/// the company's provider customer the first time); returns the page's address.
pub async fn start_setup(
    app: &AppState,
    actor: &Actor,
    ip: &str,
    tenant_slug: &str,
) -> AppResult<String> {
    let company_id = company(actor)?;
    let Some(p) = provider_of(app, actor.scope()).await? else {
        return Err(AppError::Unprocessable(
            k("invoice-error-no-provider").into(),
        ));
    };
    let metadata: BTreeMap<String, String> = [
        ("tenant".to_string(), tenant_slug.to_string()),
        ("company_id".to_string(), company_id.clone()),
    ]
    .into();
    let mut customer = account(&app.db, actor.scope(), &company_id)
        .await?
        .customer_id;
    if customer.is_none() {
        let c = crate::companies::get(&app.db, actor.scope(), &company_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let created = payments::create_customer(&p, &c.name, &metadata)
            .await
            .map_err(provider_error)?;
        let mut tx = app.db.tenant(actor.scope()).begin().await?;
        keep_customer(&mut tx, &company_id, &created.id, actor.user_id().as_str()).await?;
        customer = account_in(&mut tx, &company_id).await?.customer_id;
        tx.commit().await?;
    }
    let customer = customer.ok_or(AppError::NotFound)?;
    let back = format!("{}/portal/billing", app.config.base_url);
    let session = payments::create_setup_session(
        &p,
        &customer,
        &format!("{back}?notice=method-added"),
        &back,
        &metadata,
    )
    .await
    .map_err(provider_error)?;
    let mut tx = app.db.tenant(actor.scope()).begin().await?;
    audit::append(
        &mut tx,
        Entry {
            ip: Some(ip),
            company_id: Some(&company_id),
            ..Entry::new("billing.payment_method_setup_started")
                .by(actor)
                .target("company", &company_id)
                .with("session", session.id.clone())
        },
    )
    .await?;
    tx.commit().await?;
    Ok(session.url)
}

/// The saved method `id` when the provider says it belongs to the company's customer; any
/// other method (another company's, unknown) is not found.
async fn own_method(
    app: &AppState,
    actor: &Actor,
    id: &str,
) -> AppResult<(Provider, payments::PaymentMethod)> {
    let company_id = company(actor)?;
    let customer = account(&app.db, actor.scope(), &company_id)
        .await?
        .customer_id
        .ok_or(AppError::NotFound)?;
    let p = provider_of(app, actor.scope())
        .await?
        .ok_or(AppError::NotFound)?;
    let m = payments::get_payment_method(&p, id.trim())
        .await
        .map_err(provider_error)?;
    if m.customer.as_deref() != Some(customer.as_str()) {
        return Err(AppError::NotFound);
    }
    Ok((p, m))
}

/// One of the company's saved methods, for the removal confirmation.
pub async fn method(app: &AppState, actor: &Actor, id: &str) -> AppResult<SavedMethod> {
    let (_, m) = own_method(app, actor, id).await?;
    let acct = account(&app.db, actor.scope(), &company(actor)?).await?;
    Ok(shown(m, acct.autopay_method_id.as_deref()))
}

/// Detaches one of the company's saved methods at the provider; autopay with it turns off.
pub async fn remove(app: &AppState, actor: &Actor, ip: &str, id: &str) -> AppResult<SavedMethod> {
    let company_id = company(actor)?;
    let (p, m) = own_method(app, actor, id).await?;
    let acct = account(&app.db, actor.scope(), &company_id).await?;
    let gone = shown(m, acct.autopay_method_id.as_deref());
    payments::detach_payment_method(&p, &gone.id)
        .await
        .map_err(provider_error)?;
    let mut tx = app.db.tenant(actor.scope()).begin().await?;
    let now = account_in(&mut tx, &company_id).await?;
    let autopay_off = now.autopay_method_id.as_deref() == Some(gone.id.as_str());
    if autopay_off {
        store_autopay(&mut tx, &company_id, None, actor.user_id().as_str()).await?;
    }
    audit::append(
        &mut tx,
        Entry {
            ip: Some(ip),
            company_id: Some(&company_id),
            ..Entry::new("billing.payment_method_removed")
                .by(actor)
                .target("company", &company_id)
                .with("method", gone.id.clone())
                .with("name", gone.label())
                .with("autopay_off", autopay_off)
        },
    )
    .await?;
    tx.commit().await?;
    Ok(gone)
}

/// The autopay choice as submitted: a saved method's id, or empty for off.
#[derive(Clone, Debug, Default, Deserialize, schemars::JsonSchema)]
pub struct AutopayInput {
    /// The saved method to charge new invoices to; empty or absent turns autopay off.
    #[serde(default)]
    pub payment_method_id: Option<String>,
}

/// The autopay setting.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct AutopayState {
    /// On when a method is chosen.
    pub enabled: bool,
    /// The chosen method.
    pub payment_method_id: Option<String>,
    /// How it is shown.
    pub label: Option<String>,
}

/// Turns autopay on with one of the company's saved methods, or off.
pub async fn set_autopay(
    app: &AppState,
    actor: &Actor,
    ip: &str,
    input: &AutopayInput,
) -> AppResult<AutopayState> {
    let company_id = company(actor)?;
    let wanted = input
        .payment_method_id
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let chosen = match wanted {
        Some(id) => match own_method(app, actor, id).await {
            Ok((_, m)) => Some(shown(m, None)),
            Err(AppError::NotFound) => {
                return Err(AppError::field(
                    "payment_method_id",
                    k("billing-autopay-error-method"),
                ));
            }
            Err(e) => return Err(e),
        },
        None => None,
    };
    let label = chosen.as_ref().map(SavedMethod::label);
    let mut tx = app.db.tenant(actor.scope()).begin().await?;
    let before = account_in(&mut tx, &company_id).await?;
    store_autopay(
        &mut tx,
        &company_id,
        chosen
            .as_ref()
            .zip(label.as_ref())
            .map(|(m, l)| (m.id.as_str(), l.as_str())),
        actor.user_id().as_str(),
    )
    .await?;
    if before.autopay_method_id.as_deref() != chosen.as_ref().map(|m| m.id.as_str()) {
        let action = if chosen.is_some() {
            "billing.autopay_on"
        } else {
            "billing.autopay_off"
        };
        audit::append(
            &mut tx,
            Entry {
                ip: Some(ip),
                company_id: Some(&company_id),
                ..Entry::new(action)
                    .by(actor)
                    .target("company", &company_id)
                    .with("name", label.clone().unwrap_or_default())
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(AutopayState {
        enabled: chosen.is_some(),
        payment_method_id: chosen.map(|m| m.id),
        label,
    })
}

/// The current autopay setting of the actor's company.
pub async fn autopay_state(app: &AppState, actor: &Actor) -> AppResult<AutopayState> {
    let acct = account(&app.db, actor.scope(), &company(actor)?).await?;
    Ok(AutopayState {
        enabled: acct.autopay_method_id.is_some(),
        payment_method_id: acct.autopay_method_id,
        label: acct.autopay_label,
    })
}

/// An automatic charge the provider refused, on an invoice still to be paid.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct AutopayFailure {
    /// The invoice.
    pub invoice_id: String,
    /// Its number.
    pub number: i64,
    /// Amount tried, minor units.
    pub amount: i64,
    /// Currency.
    pub currency: String,
    /// The provider's reason.
    pub error: String,
    /// When it failed (Unix ms).
    pub failed_at: i64,
}

/// Failed automatic charges of the company whose invoices are still sent or overdue.
pub async fn failures(
    db: &Db,
    scope: &TenantScope,
    company_id: &str,
) -> DbResult<Vec<AutopayFailure>> {
    let rows = sqlx::query(
        "SELECT a.invoice_id, i.number, a.amount, i.currency, a.error, a.updated_at \
         FROM autopay_attempts a JOIN invoices i ON i.tenant_id = a.tenant_id AND i.id = a.invoice_id \
         WHERE a.tenant_id = $1 AND a.company_id = $2 AND a.status = 'failed' \
         AND i.status IN ('sent', 'overdue') ORDER BY a.updated_at DESC, a.id LIMIT 50",
    )
    .bind(scope.tenant_id().as_str())
    .bind(company_id)
    .fetch_all(db.tenant(scope).reader())
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(AutopayFailure {
            invoice_id: r.try_get("invoice_id")?,
            number: r.try_get("number")?,
            amount: r.try_get("amount")?,
            currency: r.try_get("currency")?,
            error: r.try_get::<Option<String>, _>("error")?.unwrap_or_default(),
            failed_at: r.try_get("updated_at")?,
        });
    }
    Ok(out)
}

/// Called inside the transaction that sends `inv`: when its company pays automatically, the
/// charge is enqueued with the send (it exists exactly when the send committed).
pub async fn on_sent(tx: &mut TenantTx, inv: &Invoice) -> DbResult<bool> {
    let acct = account_in(tx, &inv.company_id).await?;
    if acct.autopay_method_id.is_none() || acct.customer_id.is_none() {
        return Ok(false);
    }
    AutopayJob {
        invoice_id: inv.id.clone(),
    }
    .enqueue(tx)
    .await?;
    Ok(true)
}

/// Payload of the `billing.autopay` job: charge one sent invoice to the saved method.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AutopayJob {
    /// The invoice.
    pub invoice_id: String,
}

impl JobKind for AutopayJob {
    const KIND: &'static str = "billing.autopay";
    const MAX_ATTEMPTS: i64 = 5;

    async fn run(self, app: &AppState, job: &Job) -> Result<(), JobError> {
        let tenant_id = job
            .tenant_id
            .clone()
            .ok_or_else(|| JobError::permanent("the autopay job names no tenant"))?;
        let tenant = crate::tenancy::store::by_id(&app.db, &TenantId(tenant_id))
            .await
            .map_err(JobError::retry)?
            .ok_or_else(|| JobError::permanent("the tenant no longer exists"))?;
        let last_try = job.attempts + 1 >= job.max_attempts;
        charge(
            app,
            &tenant.scope(),
            &tenant.slug,
            &self.invoice_id,
            last_try,
        )
        .await
    }
}

/// Claims the invoice's one attempt: its id when it is (still) to be made.
async fn claim(
    app: &AppState,
    scope: &TenantScope,
    inv: &Invoice,
    method: &str,
) -> AppResult<Option<String>> {
    let mut tx = app.db.tenant(scope).begin().await?;
    let tenant = tx.tenant_id().to_string();
    let r = sqlx::query(
        "SELECT id, status FROM autopay_attempts WHERE tenant_id = $1 AND invoice_id = $2",
    )
    .bind(&tenant)
    .bind(&inv.id)
    .fetch_optional(tx.conn())
    .await
    .map_err(crate::db::DbError::from)?;
    let id = match r {
        Some(r) => {
            let status: String = r.try_get("status").map_err(crate::db::DbError::from)?;
            if status != "pending" {
                return Ok(None);
            }
            r.try_get::<String, _>("id")
                .map_err(crate::db::DbError::from)?
        }
        None => {
            let id = new_id();
            let now = now_ms();
            sqlx::query(
                "INSERT INTO autopay_attempts (id, tenant_id, company_id, invoice_id, payment_method_id, \
                 amount, status, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $7)",
            )
            .bind(&id)
            .bind(&tenant)
            .bind(&inv.company_id)
            .bind(&inv.id)
            .bind(method)
            .bind(inv.balance)
            .bind(now)
            .execute(tx.conn())
            .await
            .map_err(crate::db::DbError::from)?;
            id
        }
    };
    tx.commit().await?;
    Ok(Some(id))
}

/// Records how the attempt ended, with its audit row.
async fn finish(
    app: &AppState,
    scope: &TenantScope,
    inv: &Invoice,
    attempt: &str,
    outcome: Result<String, String>,
) -> AppResult<()> {
    let mut tx = app.db.tenant(scope).begin().await?;
    let tenant = tx.tenant_id().to_string();
    let (status, intent, error) = match &outcome {
        Ok(pi) => ("charged", Some(pi.as_str()), None),
        Err(e) => ("failed", None, Some(e.as_str())),
    };
    sqlx::query(
        "UPDATE autopay_attempts SET status = $3, intent_id = $4, error = $5, updated_at = $6 \
         WHERE tenant_id = $1 AND id = $2 AND status = 'pending'",
    )
    .bind(&tenant)
    .bind(attempt)
    .bind(status)
    .bind(intent)
    .bind(error)
    .bind(now_ms())
    .execute(tx.conn())
    .await
    .map_err(crate::db::DbError::from)?;
    let action = if outcome.is_ok() {
        "invoice.autopay_charged"
    } else {
        "invoice.autopay_failed"
    };
    let mut e = Entry::new(action)
        .target("invoice", &inv.id)
        .with("number", inv.number)
        .with("name", format!("#{}", inv.number))
        .with("amount", inv.balance);
    e = match &outcome {
        Ok(pi) => e.with("intent", pi.clone()),
        Err(msg) => e.with("error", msg.clone()),
    };
    audit::append(
        &mut tx,
        Entry {
            company_id: Some(&inv.company_id),
            ..e
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Charges the balance of a sent invoice to its company's autopay method, once.
pub async fn charge(
    app: &AppState,
    scope: &TenantScope,
    slug: &str,
    invoice_id: &str,
    last_try: bool,
) -> Result<(), JobError> {
    let Some(inv) = crate::invoices::store::get(&app.db, scope, invoice_id)
        .await
        .map_err(JobError::retry)?
    else {
        return Ok(());
    };
    if !inv.status.payable() || inv.balance <= 0 {
        return Ok(());
    }
    let acct = account(&app.db, scope, &inv.company_id)
        .await
        .map_err(JobError::retry)?;
    let (Some(customer), Some(method)) = (acct.customer_id, acct.autopay_method_id) else {
        return Ok(());
    };
    let Some(attempt) = claim(app, scope, &inv, &method)
        .await
        .map_err(JobError::retry)?
    else {
        return Ok(());
    };
    let p = provider_of(app, scope).await.map_err(JobError::retry)?;
    let outcome = match p {
        None => Err("No payment provider is set up.".to_string()),
        Some(p) => {
            let req = payments::IntentRequest {
                amount: inv.balance,
                currency: inv.currency.clone(),
                customer,
                payment_method: method,
                metadata: [
                    ("tenant".to_string(), slug.to_string()),
                    ("invoice_id".to_string(), inv.id.clone()),
                    ("invoice_number".to_string(), inv.number.to_string()),
                    ("autopay".to_string(), attempt.clone()),
                ]
                .into(),
                idempotency_key: format!("autopay-{attempt}"),
            };
            match payments::create_payment_intent(&p, &req).await {
                Ok(pi) if pi.status == "succeeded" || pi.status == "processing" => Ok(pi.id),
                Ok(pi) => Err(format!("The payment needs the payer ({}).", pi.status)),
                Err(PaymentError::Refused { message, .. }) => Err(message),
                Err(e) if last_try => Err(e.to_string()),
                Err(e) => return Err(JobError::retry(e)),
            }
        }
    };
    finish(app, scope, &inv, &attempt, outcome)
        .await
        .map_err(JobError::retry)
}
