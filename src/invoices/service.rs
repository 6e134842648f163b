//! Invoice actions, one transaction each: the change, its audit row and its emails commit
//! together. Staff actions take an `Actor` holding `ManageInvoices`; client reads go through
//! [`billing_actor`], which adds the tenant's setting to the role table.

use std::collections::BTreeMap;

use serde_json::json;

use super::store::{self, Invoice, NewInvoice, NewPayment, Settings};
use super::{LineInput, Status};
use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::auth::{Actor, Permission, Principal};
use crate::db::{DbError, TenantTx, now_ms};
use crate::error::{AppError, AppResult};
use crate::i18n::{Arg, Translator, for_recipient, k};
use crate::jobs::{EmailJob, JobKind};
use crate::payments::{self, CheckoutRequest, Provider};
use crate::tenancy::TenantScope;

/// The grant a client user reads and pays invoices with: the company admin's `ViewInvoices`,
/// or for another client role the tenant allows, its portal access. Others get 403.
pub async fn billing_actor(app: &AppState, p: &Principal) -> AppResult<Actor> {
    if p.company_id.is_none() {
        return Err(AppError::Forbidden(k("invoice-error-no-company").into()));
    }
    if p.can(Permission::ViewInvoices) {
        return p.require(Permission::ViewInvoices);
    }
    let settings = store::settings(&app.db, &p.scope()).await?;
    if settings.viewer_roles.iter().any(|r| r == p.role.key()) {
        return p.require(Permission::PortalAccess);
    }
    Err(AppError::Forbidden(k("invoice-error-no-billing").into()))
}

/// The number of overdue invoices of the viewer's company, when they may see invoices (the
/// dashboard's figure).
pub async fn dashboard_overdue(app: &AppState, p: &Principal) -> AppResult<Option<i64>> {
    if p.tenant.org_type != crate::tenancy::OrgType::Msp {
        return Ok(None);
    }
    let Ok(actor) = billing_actor(app, p).await else {
        return Ok(None);
    };
    let Some(company) = actor.company_id() else {
        return Ok(None);
    };
    Ok(Some(
        store::overdue_count(&app.db, actor.scope(), company.as_str()).await?,
    ))
}

/// A client's invoice: theirs, not a draft; anything else is "not found".
pub async fn client_invoice(app: &AppState, actor: &Actor, id: &str) -> AppResult<Invoice> {
    let inv = store::get(&app.db, actor.scope(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let own = actor.company_id().map(|c| c.as_str()) == Some(inv.company_id.as_str());
    if !own || inv.status == Status::Draft {
        return Err(AppError::NotFound);
    }
    Ok(inv)
}

/// Any invoice of the tenant, for staff.
pub async fn staff_invoice(app: &AppState, actor: &Actor, id: &str) -> AppResult<Invoice> {
    store::get(&app.db, actor.scope(), id)
        .await?
        .ok_or(AppError::NotFound)
}

async fn locked(tx: &mut TenantTx, id: &str) -> AppResult<Invoice> {
    store::get_locked(tx, id).await?.ok_or(AppError::NotFound)
}

fn audit_entry<'a>(action: &'a str, actor: &'a Actor, ip: &'a str, inv: &'a Invoice) -> Entry<'a> {
    Entry {
        ip: Some(ip),
        company_id: Some(&inv.company_id),
        ..Entry::new(action)
            .by(actor)
            .target("invoice", &inv.id)
            .with("number", inv.number)
            .with("name", format!("#{}", inv.number))
    }
}

fn require_draft(inv: &Invoice) -> AppResult<()> {
    if inv.status == Status::Draft {
        Ok(())
    } else {
        Err(AppError::Unprocessable(k("invoice-error-not-draft").into()))
    }
}

/// Fields of a new draft as typed.
#[derive(Clone, Debug, Default, serde::Deserialize, schemars::JsonSchema)]
pub struct DraftInput {
    /// Company billed.
    #[serde(default)]
    pub company_id: String,
    /// Issue date (`YYYY-MM-DD`); today when empty.
    #[serde(default)]
    pub issue_date: String,
    /// Due date (`YYYY-MM-DD`); 30 days after issue when empty.
    #[serde(default)]
    pub due_date: String,
    /// Note printed on the invoice.
    #[serde(default)]
    pub notes: String,
    /// Id in the PSA, for imported invoices.
    #[serde(default)]
    pub external_id: Option<String>,
}

fn check_dates(issue: &str, due: &str) -> AppResult<(String, String)> {
    let issue = if issue.trim().is_empty() {
        super::today()
    } else {
        super::check_date("issue_date", issue)?
    };
    let due = if due.trim().is_empty() {
        chrono::NaiveDate::parse_from_str(&issue, "%Y-%m-%d")
            .map(|d| (d + chrono::Days::new(30)).format("%Y-%m-%d").to_string())
            .map_err(|_| AppError::field("issue_date", k("invoice-error-date")))?
    } else {
        super::check_date("due_date", due)?
    };
    if due < issue {
        return Err(AppError::field(
            "due_date",
            k("invoice-error-due-before-issue"),
        ));
    }
    Ok((issue, due))
}

/// Creates a draft for a company of the tenant.
pub async fn create_draft(
    app: &AppState,
    actor: &Actor,
    ip: &str,
    input: &DraftInput,
) -> AppResult<Invoice> {
    let (issue, due) = check_dates(&input.issue_date, &input.due_date)?;
    let notes = input.notes.trim();
    if notes.chars().count() > 2000 {
        return Err(AppError::field("notes", k("invoice-error-notes")));
    }
    let company = crate::companies::get(&app.db, actor.scope(), input.company_id.trim())
        .await?
        .ok_or_else(|| AppError::field("company_id", k("invoice-error-company")))?;
    let external = input
        .external_id
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let mut tx = app.db.tenant(actor.scope()).begin().await?;
    let settings = store::settings_in(&mut tx).await?;
    let (id, _) = store::create(
        &mut tx,
        &NewInvoice {
            company_id: company.id.as_str(),
            currency: &settings.currency,
            issue_date: &issue,
            due_date: &due,
            notes,
            external_id: external,
            created_by: Some(actor.user_id().as_str()),
        },
    )
    .await
    .map_err(|e| match e {
        DbError::Conflict(_) => AppError::field("external_id", k("invoice-error-external-taken")),
        other => other.into(),
    })?;
    let inv = locked(&mut tx, &id).await?;
    audit::append(
        &mut tx,
        audit_entry("invoice.created", actor, ip, &inv).with("company", company.name.clone()),
    )
    .await?;
    tx.commit().await?;
    Ok(inv)
}

/// Changes the dates and note of a draft.
pub async fn update_draft(
    app: &AppState,
    actor: &Actor,
    ip: &str,
    id: &str,
    input: &DraftInput,
) -> AppResult<Invoice> {
    let (issue, due) = check_dates(&input.issue_date, &input.due_date)?;
    let notes = input.notes.trim();
    if notes.chars().count() > 2000 {
        return Err(AppError::field("notes", k("invoice-error-notes")));
    }
    let mut tx = app.db.tenant(actor.scope()).begin().await?;
    let inv = locked(&mut tx, id).await?;
    require_draft(&inv)?;
    store::update_header(&mut tx, id, &issue, &due, notes).await?;
    audit::append(
        &mut tx,
        audit_entry("invoice.updated", actor, ip, &inv)
            .with("issue_date", issue.clone())
            .with("due_date", due.clone()),
    )
    .await?;
    let inv = locked(&mut tx, id).await?;
    tx.commit().await?;
    Ok(inv)
}

async fn rate_for(tx: &mut TenantTx, l: &LineInput) -> AppResult<Option<store::TaxRate>> {
    match &l.tax_rate_id {
        None => Ok(None),
        Some(rid) => Ok(Some(store::tax_rate_in(tx, rid).await?.ok_or_else(
            || AppError::field("tax_rate_id", k("invoice-error-tax-rate")),
        )?)),
    }
}

/// Adds, replaces (`line_id`) or removes (`line = None`) a line of a draft, recomputing the
/// totals in the same transaction.
pub async fn change_line(
    app: &AppState,
    actor: &Actor,
    ip: &str,
    id: &str,
    line_id: Option<&str>,
    line: Option<&LineInput>,
) -> AppResult<Invoice> {
    let mut tx = app.db.tenant(actor.scope()).begin().await?;
    let inv = locked(&mut tx, id).await?;
    require_draft(&inv)?;
    let action = match (line_id, line) {
        (None, Some(l)) => {
            let tax = rate_for(&mut tx, l).await?;
            store::add_line(&mut tx, id, l, tax.as_ref()).await?;
            "invoice.line_added"
        }
        (Some(lid), Some(l)) => {
            let tax = rate_for(&mut tx, l).await?;
            if !store::update_line(&mut tx, id, lid, l, tax.as_ref()).await? {
                return Err(AppError::NotFound);
            }
            "invoice.line_updated"
        }
        (Some(lid), None) => {
            if !store::delete_line(&mut tx, id, lid).await? {
                return Err(AppError::NotFound);
            }
            "invoice.line_removed"
        }
        (None, None) => return Err(AppError::NotFound),
    };
    let totals = store::recompute(&mut tx, id).await?;
    let mut e = audit_entry(action, actor, ip, &inv).with("total", totals.total);
    if let Some(l) = line {
        e = e
            .with("description", l.description.clone())
            .with("quantity", super::quantity_text(l.quantity_milli))
            .with("unit_price", l.unit_price);
    }
    audit::append(&mut tx, e).await?;
    let inv = locked(&mut tx, id).await?;
    tx.commit().await?;
    Ok(inv)
}

/// Adds a named tax rate (percent as typed, e.g. "8.25").
pub async fn create_tax_rate(
    app: &AppState,
    actor: &Actor,
    ip: &str,
    name: &str,
    percent: &str,
) -> AppResult<store::TaxRate> {
    let name = name.trim();
    let mut errs = Vec::new();
    if name.is_empty() || name.chars().count() > 60 {
        errs.push(crate::error::FieldError {
            field: "name".into(),
            message: k("invoice-error-tax-name").into(),
        });
    }
    let bp = super::parse_scaled(percent, 2).filter(|b| (0..=10_000).contains(b));
    if bp.is_none() {
        errs.push(crate::error::FieldError {
            field: "percent".into(),
            message: k("invoice-error-tax-percent").into(),
        });
    }
    let Some(bp) = bp.filter(|_| errs.is_empty()) else {
        return Err(AppError::fields(errs));
    };
    let mut tx = app.db.tenant(actor.scope()).begin().await?;
    let id = store::create_tax_rate(&mut tx, name, bp)
        .await
        .map_err(|e| match e {
            DbError::Conflict(_) => AppError::field("name", k("invoice-error-tax-taken")),
            other => other.into(),
        })?;
    audit::append(
        &mut tx,
        Entry {
            ip: Some(ip),
            ..Entry::new("invoice.tax_rate_created")
                .by(actor)
                .target("tax_rate", &id)
                .with("name", name)
                .with("rate_bp", bp)
        },
    )
    .await?;
    tx.commit().await?;
    Ok(store::TaxRate {
        id,
        name: name.into(),
        rate_bp: bp,
    })
}

/// Link to an invoice in the portal, as emails carry it.
pub fn portal_link(app: &AppState, inv: &Invoice) -> String {
    format!("{}/portal/invoices/{}", app.config.base_url, inv.id)
}

/// Queues an email about `inv` to each billing contact of its company.
async fn email_contacts(
    app: &AppState,
    tx: &mut TenantTx,
    inv: &Invoice,
    settings: &Settings,
    subject_key: &'static str,
    body_key: &'static str,
) -> AppResult<usize> {
    let contacts = store::billing_contacts(tx, &inv.company_id, &settings.viewer_roles).await?;
    let tenant_locale = tenant_locale(tx).await?;
    let n = contacts.len();
    for (email, name, lang) in contacts {
        let t = Translator::new(for_recipient(lang.as_deref(), Some(&tenant_locale)));
        let args = [
            ("number", Arg::Num(inv.number)),
            ("name", Arg::Str(name)),
            ("total", Arg::Str(t.money(inv.total, &inv.currency))),
            ("balance", Arg::Str(t.money(inv.balance, &inv.currency))),
            ("due", Arg::Str(t.date(super::date_ms(&inv.due_date)))),
        ];
        EmailJob {
            to: email,
            subject: t.args(subject_key, &args),
            lines: vec![t.args(body_key, &args)],
            action_url: Some(portal_link(app, inv)),
            action_label: Some(t.get("invoice-email-open")),
            lang: Some(t.lang().into()),
            reply_to: None,
        }
        .enqueue(tx)
        .await?;
    }
    Ok(n)
}

async fn tenant_locale(tx: &mut TenantTx) -> AppResult<String> {
    use crate::db::Row;
    let tenant = tx.tenant_id().to_string();
    let r = sqlx::query("SELECT default_locale FROM tenants WHERE id = $1")
        .bind(&tenant)
        .fetch_one(tx.conn())
        .await
        .map_err(DbError::from)?;
    Ok(r.try_get::<String, _>("default_locale")
        .map_err(DbError::from)?)
}

/// Sends a draft: it becomes visible to the company and its billing contacts get an email.
pub async fn send(app: &AppState, actor: &Actor, ip: &str, id: &str) -> AppResult<Invoice> {
    let mut tx = app.db.tenant(actor.scope()).begin().await?;
    let inv = locked(&mut tx, id).await?;
    require_draft(&inv)?;
    if inv.total <= 0 {
        return Err(AppError::Unprocessable(k("invoice-error-empty").into()));
    }
    if !store::transition(&mut tx, id, &[Status::Draft], Status::Sent, None).await? {
        return Err(AppError::Conflict(k("invoice-error-changed").into()));
    }
    let inv = locked(&mut tx, id).await?;
    let settings = store::settings_in(&mut tx).await?;
    let n = email_contacts(
        app,
        &mut tx,
        &inv,
        &settings,
        k("invoice-email-sent-subject"),
        k("invoice-email-sent-body"),
    )
    .await?;
    // A company paying automatically is charged by a job enqueued with the send.
    let autopay = crate::billing::autopay::on_sent(&mut tx, &inv).await?;
    audit::append(
        &mut tx,
        audit_entry("invoice.sent", actor, ip, &inv)
            .with("recipients", n as i64)
            .with("autopay", autopay),
    )
    .await?;
    tx.commit().await?;
    Ok(inv)
}

/// Voids an invoice that has no payments; a void invoice can never be paid.
pub async fn void(
    app: &AppState,
    actor: &Actor,
    ip: &str,
    id: &str,
    reason: &str,
) -> AppResult<Invoice> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(AppError::field("reason", k("invoice-error-void-reason")));
    }
    let mut tx = app.db.tenant(actor.scope()).begin().await?;
    let inv = locked(&mut tx, id).await?;
    if inv.paid > 0 {
        return Err(AppError::Unprocessable(k("invoice-error-void-paid").into()));
    }
    if !store::transition(
        &mut tx,
        id,
        &[Status::Draft, Status::Sent, Status::Overdue],
        Status::Void,
        Some(reason),
    )
    .await?
    {
        return Err(AppError::Unprocessable(
            k("invoice-error-not-voidable").into(),
        ));
    }
    audit::append(
        &mut tx,
        audit_entry("invoice.voided", actor, ip, &inv)
            .with("reason", reason)
            .with("from", inv.status.as_str()),
    )
    .await?;
    let inv = locked(&mut tx, id).await?;
    tx.commit().await?;
    Ok(inv)
}

/// A payment as staff type it.
#[derive(Clone, Debug, Default, serde::Deserialize, schemars::JsonSchema)]
pub struct PaymentInput {
    /// Amount as a decimal ("120.50").
    #[serde(default)]
    pub amount: String,
    /// `bank_transfer`, `check`, `cash` or `other`.
    #[serde(default)]
    pub method: String,
    /// Date received (`YYYY-MM-DD`); today when empty.
    #[serde(default)]
    pub received_on: String,
    /// Note (cheque number, bank reference).
    #[serde(default)]
    pub note: String,
}

/// Applies a received amount inside `tx`: the payment row, the paid sum, and `paid` when the
/// balance reaches zero. `None` when the provider reference was recorded before.
async fn apply_payment(
    tx: &mut TenantTx,
    inv: &Invoice,
    p: &NewPayment<'_>,
) -> AppResult<Option<(String, Invoice)>> {
    let Some(pid) = store::insert_payment(tx, p).await? else {
        return Ok(None);
    };
    let after = locked(tx, &inv.id).await?;
    if after.balance <= 0 {
        store::transition(
            tx,
            &inv.id,
            &[Status::Sent, Status::Overdue],
            Status::Paid,
            None,
        )
        .await?;
    }
    Ok(Some((pid, locked(tx, &inv.id).await?)))
}

/// Records a payment received outside the online checkout ("paid elsewhere").
pub async fn record_payment(
    app: &AppState,
    actor: &Actor,
    ip: &str,
    id: &str,
    input: &PaymentInput,
) -> AppResult<Invoice> {
    let mut errs = Vec::new();
    let amount = super::parse_scaled(&input.amount, 2).filter(|a| *a > 0);
    if amount.is_none() {
        errs.push(crate::error::FieldError {
            field: "amount".into(),
            message: k("invoice-error-amount").into(),
        });
    }
    let method = input.method.trim();
    if !store::MANUAL_METHODS.contains(&method) {
        errs.push(crate::error::FieldError {
            field: "method".into(),
            message: k("invoice-error-method").into(),
        });
    }
    let received = if input.received_on.trim().is_empty() {
        Ok(super::today())
    } else {
        super::check_date("received_on", &input.received_on)
    };
    let received = match received {
        Ok(d) => Some(d),
        Err(_) => {
            errs.push(crate::error::FieldError {
                field: "received_on".into(),
                message: k("invoice-error-date").into(),
            });
            None
        }
    };
    let note = input.note.trim();
    let (Some(amount), Some(received)) = (amount, received) else {
        return Err(AppError::fields(errs));
    };
    if !errs.is_empty() {
        return Err(AppError::fields(errs));
    }
    let mut tx = app.db.tenant(actor.scope()).begin().await?;
    let inv = locked(&mut tx, id).await?;
    if !inv.status.payable() {
        return Err(AppError::Unprocessable(
            k("invoice-error-not-payable").into(),
        ));
    }
    if amount > inv.balance {
        return Err(AppError::field("amount", k("invoice-error-amount-over")));
    }
    let applied = apply_payment(
        &mut tx,
        &inv,
        &NewPayment {
            invoice_id: &inv.id,
            company_id: &inv.company_id,
            amount,
            currency: &inv.currency,
            method,
            provider_ref: None,
            note,
            recorded_by: Some(actor.user_id().as_str()),
            received_at: super::date_ms(&received),
        },
    )
    .await?;
    let Some((pid, after)) = applied else {
        return Err(AppError::Conflict(k("invoice-error-changed").into()));
    };
    audit::append(
        &mut tx,
        audit_entry("invoice.payment_recorded", actor, ip, &inv)
            .with("payment", pid)
            .with("amount", amount)
            .with("method", method)
            .with("to", after.status.as_str()),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// The provider a tenant's settings point at, with its key opened; `None` when not set up.
pub fn provider(app: &AppState, s: &Settings) -> Option<Provider> {
    let sealed = s.provider_secret_sealed.as_deref()?;
    let key = crate::mfa::open(&app.config.secret_key, sealed)?;
    Some(Provider {
        base_url: s
            .provider_base_url
            .clone()
            .unwrap_or_else(|| payments::DEFAULT_BASE_URL.into()),
        secret_key: String::from_utf8(key).ok()?,
    })
}

/// Starts a hosted checkout for the balance of a client's invoice; returns the page to send
/// the payer to.
pub async fn start_checkout(
    app: &AppState,
    actor: &Actor,
    ip: &str,
    tenant_slug: &str,
    id: &str,
) -> AppResult<String> {
    let inv = client_invoice(app, actor, id).await?;
    if !inv.status.payable() || inv.balance <= 0 {
        return Err(AppError::Unprocessable(
            k("invoice-error-not-payable").into(),
        ));
    }
    let settings = store::settings(&app.db, actor.scope()).await?;
    let Some(provider) = provider(app, &settings) else {
        return Err(AppError::Unprocessable(
            k("invoice-error-no-provider").into(),
        ));
    };
    let base = format!("{}/portal/invoices/{}", app.config.base_url, inv.id);
    let metadata: BTreeMap<String, String> = [
        ("tenant".to_string(), tenant_slug.to_string()),
        ("invoice_id".to_string(), inv.id.clone()),
        ("invoice_number".to_string(), inv.number.to_string()),
    ]
    .into();
    let session = payments::create_checkout(
        &provider,
        &CheckoutRequest {
            amount: inv.balance,
            currency: inv.currency.clone(),
            description: Translator::new(Default::default()).args(
                k("invoice-checkout-item"),
                &[("number", Arg::Num(inv.number))],
            ),
            reference: inv.id.clone(),
            success_url: format!("{base}/return?session_id={{CHECKOUT_SESSION_ID}}"),
            cancel_url: format!("{base}?notice=payment-cancelled"),
            email: Some(actor.email().to_string()),
            metadata,
        },
    )
    .await
    .map_err(|e| {
        tracing::warn!(error = %e, "checkout could not be started");
        AppError::Unprocessable(k("invoice-error-provider").into())
    })?;
    let mut tx = app.db.tenant(actor.scope()).begin().await?;
    store::insert_checkout(
        &mut tx,
        &session.id,
        &inv.id,
        inv.balance,
        actor.user_id().as_str(),
    )
    .await?;
    audit::append(
        &mut tx,
        audit_entry("invoice.checkout_started", actor, ip, &inv)
            .with("session", session.id.clone())
            .with("amount", inv.balance),
    )
    .await?;
    tx.commit().await?;
    Ok(session.url)
}

/// What a verified webhook did.
#[derive(Debug, PartialEq, Eq)]
pub enum WebhookOutcome {
    /// A payment was recorded.
    Recorded,
    /// The same payment was recorded before (a replay or duplicate delivery).
    Duplicate,
    /// Not an event Portico acts on.
    Ignored,
}

/// Records the payment a verified `checkout.session.completed` event reports, once. The
/// invoice must be the tenant's (the webhook's address names the tenant); another tenant's
/// invoice is refused as not found.
pub async fn record_webhook(
    app: &AppState,
    scope: &TenantScope,
    slug: &str,
    event: &payments::Event,
) -> AppResult<WebhookOutcome> {
    let Some(s) = event.paid_session() else {
        return Ok(WebhookOutcome::Ignored);
    };
    if s.metadata.get("tenant").map(String::as_str) != Some(slug) {
        return Err(AppError::NotFound);
    }
    let invoice_id = s
        .metadata
        .get("invoice_id")
        .or(s.client_reference_id.as_ref())
        .ok_or(AppError::NotFound)?;
    let amount = s
        .amount_paid()
        .filter(|a| *a > 0)
        .ok_or_else(|| AppError::Unprocessable("the event carries no amount".into()))?;
    let mut tx = app.db.tenant(scope).begin().await?;
    let inv = locked(&mut tx, invoice_id).await?;
    if let Some(c) = &s.currency
        && !c.eq_ignore_ascii_case(&inv.currency)
    {
        return Err(AppError::Unprocessable(
            "the currency does not match".into(),
        ));
    }
    if inv.status == Status::Void || inv.status == Status::Draft {
        // Money for an invoice that cannot take it: keep the delivery from retrying forever,
        // and leave a trace for staff to refund.
        audit::append(
            &mut tx,
            Entry {
                company_id: Some(&inv.company_id),
                ..Entry::new("invoice.payment_refused")
                    .target("invoice", &inv.id)
                    .with("number", inv.number)
                    .with("name", format!("#{}", inv.number))
                    .with("session", s.id.clone())
                    .with("amount", amount)
            },
        )
        .await?;
        tx.commit().await?;
        return Ok(WebhookOutcome::Ignored);
    }
    let applied = apply_payment(
        &mut tx,
        &inv,
        &NewPayment {
            invoice_id: &inv.id,
            company_id: &inv.company_id,
            amount,
            currency: &inv.currency,
            method: "card",
            provider_ref: Some(&s.id),
            note: "",
            recorded_by: None,
            received_at: now_ms(),
        },
    )
    .await?;
    let Some((pid, after)) = applied else {
        return Ok(WebhookOutcome::Duplicate);
    };
    audit::append(
        &mut tx,
        Entry {
            company_id: Some(&inv.company_id),
            ..Entry::new("invoice.paid_online")
                .target("invoice", &inv.id)
                .with("number", inv.number)
                .with("name", format!("#{}", inv.number))
                .with("payment", pid)
                .with("event", event.id.clone())
                .with("session", s.id.clone())
                .with("amount", amount)
                .with("to", after.status.as_str())
        },
    )
    .await?;
    tx.commit().await?;
    Ok(WebhookOutcome::Recorded)
}

/// Billing settings as staff submit them; empty key fields keep the stored keys.
#[derive(Clone, Debug, Default, serde::Deserialize, schemars::JsonSchema)]
pub struct SettingsInput {
    /// Currency of new invoices.
    #[serde(default)]
    pub currency: String,
    /// Client roles besides the company admin that may see invoices
    /// (`client_user`, `client_viewer`).
    #[serde(default)]
    pub viewer_roles: Vec<String>,
    /// Email a reminder when an invoice becomes overdue.
    #[serde(default)]
    pub overdue_reminders: bool,
    /// Provider API base (empty: the real provider). Must be https, or http on loopback.
    #[serde(default)]
    pub provider_base_url: String,
    /// New secret API key (kept when empty).
    #[serde(default)]
    pub provider_secret_key: String,
    /// New webhook signing secret (kept when empty).
    #[serde(default)]
    pub webhook_secret: String,
}

/// A provider API base: empty for the real provider, https, or http on this machine.
pub fn check_base_url(s: &str) -> AppResult<Option<String>> {
    let s = s.trim().trim_end_matches('/');
    if s.is_empty() {
        return Ok(None);
    }
    let u = url::Url::parse(s)
        .map_err(|_| AppError::field("provider_base_url", k("invoice-error-base-url")))?;
    let loopback = matches!(u.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    if u.scheme() == "https" || (u.scheme() == "http" && loopback) {
        Ok(Some(s.to_string()))
    } else {
        Err(AppError::field(
            "provider_base_url",
            k("invoice-error-base-url"),
        ))
    }
}

/// Saves billing settings; keys are sealed with the server key and never shown again.
pub async fn save_settings(
    app: &AppState,
    actor: &Actor,
    ip: &str,
    input: &SettingsInput,
) -> AppResult<()> {
    let currency = super::check_currency(&input.currency)?;
    let base = check_base_url(&input.provider_base_url)?;
    let mut roles = Vec::new();
    for r in &input.viewer_roles {
        if !super::EXTRA_VIEWER_ROLES.contains(&r.as_str()) {
            return Err(AppError::field("viewer_roles", k("invoice-error-roles")));
        }
        if !roles.contains(r) {
            roles.push(r.clone());
        }
    }
    let mut tx = app.db.tenant(actor.scope()).begin().await?;
    let mut s = store::settings_in(&mut tx).await?;
    let mut changed_keys = Vec::new();
    if !input.provider_secret_key.trim().is_empty() {
        s.provider_secret_sealed = Some(crate::mfa::seal(
            &app.config.secret_key,
            input.provider_secret_key.trim().as_bytes(),
        ));
        changed_keys.push("provider_secret_key");
    }
    if !input.webhook_secret.trim().is_empty() {
        s.webhook_secret_sealed = Some(crate::mfa::seal(
            &app.config.secret_key,
            input.webhook_secret.trim().as_bytes(),
        ));
        changed_keys.push("webhook_secret");
    }
    s.currency = currency.clone();
    s.viewer_roles = roles.clone();
    s.overdue_reminders = input.overdue_reminders;
    s.provider_base_url = base.clone();
    store::save_settings(&mut tx, &s).await?;
    audit::append(
        &mut tx,
        Entry {
            ip: Some(ip),
            // Which keys changed, never their values.
            detail: json!({ "currency": currency, "viewer_roles": roles, "overdue_reminders": input.overdue_reminders,
                "provider_base_url": base, "keys_changed": changed_keys }),
            ..Entry::new("invoice.settings_updated").by(actor)
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Marks the tenant's sent invoices past due as overdue and, when the tenant wants it, emails
/// their billing contacts; returns how many changed. Safe to run twice: only the run that
/// flips an invoice emails about it.
pub async fn mark_overdue(app: &AppState, scope: &TenantScope, today: &str) -> AppResult<usize> {
    let mut tx = app.db.tenant(scope).begin().await?;
    let ids = store::mark_overdue(&mut tx, today).await?;
    let settings = store::settings_in(&mut tx).await?;
    for id in &ids {
        let inv = locked(&mut tx, id).await?;
        if settings.overdue_reminders {
            email_contacts(
                app,
                &mut tx,
                &inv,
                &settings,
                k("invoice-email-overdue-subject"),
                k("invoice-email-overdue-body"),
            )
            .await?;
        }
        audit::append(
            &mut tx,
            Entry {
                company_id: Some(&inv.company_id),
                ..Entry::new("invoice.overdue")
                    .target("invoice", &inv.id)
                    .with("number", inv.number)
                    .with("name", format!("#{}", inv.number))
                    .with("reminded", settings.overdue_reminders)
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(ids.len())
}
