//! SQL for invoices, lines, tax rates, payments, checkouts and billing settings. Every
//! statement names its tenant; writes run on the action's `TenantTx`.

use serde::Serialize;

use super::{LineInput, Status, Totals};
use crate::db::{AnyRow, Db, DbResult, Row, TenantTx, new_id, now_ms};
use crate::tenancy::TenantScope;

/// Billing settings of a tenant (defaults when never saved).
#[derive(Clone, Debug)]
pub struct Settings {
    /// Currency of new invoices.
    pub currency: String,
    /// Client roles besides the company admin that may see invoices.
    pub viewer_roles: Vec<String>,
    /// Email a reminder when an invoice becomes overdue.
    pub overdue_reminders: bool,
    /// Payment provider API base, when not the real one.
    pub provider_base_url: Option<String>,
    /// Sealed provider secret key.
    pub provider_secret_sealed: Option<String>,
    /// Sealed webhook signing secret.
    pub webhook_secret_sealed: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            currency: "USD".into(),
            viewer_roles: Vec::new(),
            overdue_reminders: false,
            provider_base_url: None,
            provider_secret_sealed: None,
            webhook_secret_sealed: None,
        }
    }
}

fn settings_row(r: &AnyRow) -> Result<Settings, sqlx::Error> {
    let roles: String = r.try_get("viewer_roles")?;
    Ok(Settings {
        currency: r.try_get("currency")?,
        viewer_roles: roles
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        overdue_reminders: crate::db::flag(r, "overdue_reminders")?,
        provider_base_url: r.try_get("provider_base_url")?,
        provider_secret_sealed: r.try_get("provider_secret_sealed")?,
        webhook_secret_sealed: r.try_get("webhook_secret_sealed")?,
    })
}

const SETTINGS: &str = "SELECT currency, viewer_roles, overdue_reminders, provider_base_url, \
    provider_secret_sealed, webhook_secret_sealed FROM billing_settings WHERE tenant_id = $1";

/// The tenant's billing settings.
pub async fn settings(db: &Db, scope: &TenantScope) -> DbResult<Settings> {
    let r = sqlx::query(SETTINGS)
        .bind(scope.tenant_id().as_str())
        .fetch_optional(db.tenant(scope).reader())
        .await?;
    Ok(match r {
        Some(r) => settings_row(&r)?,
        None => Settings::default(),
    })
}

/// The tenant's billing settings, read inside a transaction.
pub async fn settings_in(tx: &mut TenantTx) -> DbResult<Settings> {
    let tenant = tx.tenant_id().to_string();
    let r = sqlx::query(SETTINGS)
        .bind(&tenant)
        .fetch_optional(tx.conn())
        .await?;
    Ok(match r {
        Some(r) => settings_row(&r)?,
        None => Settings::default(),
    })
}

/// Saves the settings whole.
pub async fn save_settings(tx: &mut TenantTx, s: &Settings) -> DbResult<()> {
    let tenant = tx.tenant_id().to_string();
    sqlx::query(
        "INSERT INTO billing_settings (tenant_id, currency, viewer_roles, overdue_reminders, provider_base_url, \
         provider_secret_sealed, webhook_secret_sealed, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (tenant_id) DO UPDATE SET currency = $2, viewer_roles = $3, overdue_reminders = $4, \
         provider_base_url = $5, provider_secret_sealed = $6, webhook_secret_sealed = $7, updated_at = $8",
    )
    .bind(&tenant)
    .bind(&s.currency)
    .bind(s.viewer_roles.join(","))
    .bind(i64::from(s.overdue_reminders))
    .bind(s.provider_base_url.as_deref())
    .bind(s.provider_secret_sealed.as_deref())
    .bind(s.webhook_secret_sealed.as_deref())
    .bind(now_ms())
    .execute(tx.conn())
    .await?;
    crate::auth::cache::changed(tx, crate::auth::cache::Change::Tenant).await
}

/// A named tax rate.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct TaxRate {
    /// Id.
    pub id: String,
    /// Name ("Sales tax").
    pub name: String,
    /// Basis points (825 = 8.25 %).
    pub rate_bp: i64,
}

impl TaxRate {
    /// The rate as a percentage for people ("8.25").
    pub fn percent(&self) -> String {
        super::format_scaled(self.rate_bp, 2)
    }
}

/// The tenant's tax rates by name.
pub async fn tax_rates(db: &Db, scope: &TenantScope) -> DbResult<Vec<TaxRate>> {
    let rows = sqlx::query(
        "SELECT id, name, rate_bp FROM tax_rates WHERE tenant_id = $1 ORDER BY name, id",
    )
    .bind(scope.tenant_id().as_str())
    .fetch_all(db.tenant(scope).reader())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(TaxRate {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                rate_bp: r.try_get("rate_bp")?,
            })
        })
        .collect()
}

/// One tax rate, read in a transaction.
pub async fn tax_rate_in(tx: &mut TenantTx, id: &str) -> DbResult<Option<TaxRate>> {
    let tenant = tx.tenant_id().to_string();
    let r = sqlx::query("SELECT id, name, rate_bp FROM tax_rates WHERE tenant_id = $1 AND id = $2")
        .bind(&tenant)
        .bind(id)
        .fetch_optional(tx.conn())
        .await?;
    r.map(|r| {
        Ok(TaxRate {
            id: r.try_get("id")?,
            name: r.try_get("name")?,
            rate_bp: r.try_get("rate_bp")?,
        })
    })
    .transpose()
}

/// Adds a tax rate.
pub async fn create_tax_rate(tx: &mut TenantTx, name: &str, rate_bp: i64) -> DbResult<String> {
    let tenant = tx.tenant_id().to_string();
    let id = new_id();
    sqlx::query(
        "INSERT INTO tax_rates (id, tenant_id, name, rate_bp, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&id)
    .bind(&tenant)
    .bind(name)
    .bind(rate_bp)
    .bind(now_ms())
    .execute(tx.conn())
    .await?;
    Ok(id)
}

/// An invoice with its totals and its company's name.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Invoice {
    /// Id.
    pub id: String,
    /// Number, unique in the tenant.
    pub number: i64,
    /// Company billed.
    pub company_id: String,
    /// Its name.
    pub company_name: String,
    /// Status.
    pub status: Status,
    /// ISO currency code.
    pub currency: String,
    /// Issue date (`YYYY-MM-DD`).
    pub issue_date: String,
    /// Due date (`YYYY-MM-DD`).
    pub due_date: String,
    /// Note printed on the invoice.
    pub notes: String,
    /// Id in the PSA it was imported from.
    pub external_id: Option<String>,
    /// Why it was voided.
    pub void_reason: Option<String>,
    /// Sum of lines, minor units.
    pub subtotal: i64,
    /// Sum of taxes.
    pub tax_total: i64,
    /// Total.
    pub total: i64,
    /// Received so far.
    pub paid: i64,
    /// Total minus paid.
    pub balance: i64,
    /// Sent (Unix ms).
    pub sent_at: Option<i64>,
    /// Fully paid (Unix ms).
    pub paid_at: Option<i64>,
    /// Voided (Unix ms).
    pub voided_at: Option<i64>,
    /// Created (Unix ms).
    pub created_at: i64,
    /// Last change (Unix ms).
    pub updated_at: i64,
}

impl Invoice {
    /// Some money was received but a balance remains.
    pub fn partly_paid(&self) -> bool {
        self.paid > 0 && self.balance > 0
    }
}

const SELECT: &str = "SELECT i.id, i.number, i.company_id, c.name AS company_name, i.status, i.currency, \
    i.issue_date, i.due_date, i.notes, i.external_id, i.void_reason, i.subtotal, i.tax_total, i.total, \
    i.paid, i.sent_at, i.paid_at, i.voided_at, i.created_at, i.updated_at \
    FROM invoices i JOIN companies c ON c.tenant_id = i.tenant_id AND c.id = i.company_id";

fn invoice_row(r: &AnyRow) -> Result<Invoice, sqlx::Error> {
    let status: String = r.try_get("status")?;
    let total: i64 = r.try_get("total")?;
    let paid: i64 = r.try_get("paid")?;
    Ok(Invoice {
        id: r.try_get("id")?,
        number: r.try_get("number")?,
        company_id: r.try_get("company_id")?,
        company_name: r.try_get("company_name")?,
        status: Status::parse(&status).unwrap_or(Status::Draft),
        currency: r.try_get("currency")?,
        issue_date: r.try_get("issue_date")?,
        due_date: r.try_get("due_date")?,
        notes: r.try_get("notes")?,
        external_id: r.try_get("external_id")?,
        void_reason: r.try_get("void_reason")?,
        subtotal: r.try_get("subtotal")?,
        tax_total: r.try_get("tax_total")?,
        total,
        paid,
        balance: total - paid,
        sent_at: r.try_get("sent_at")?,
        paid_at: r.try_get("paid_at")?,
        voided_at: r.try_get("voided_at")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// One invoice by id.
pub async fn get(db: &Db, scope: &TenantScope, id: &str) -> DbResult<Option<Invoice>> {
    let sql = format!("{SELECT} WHERE i.tenant_id = $1 AND i.id = $2");
    let r = sqlx::query(&sql)
        .bind(scope.tenant_id().as_str())
        .bind(id)
        .fetch_optional(db.tenant(scope).reader())
        .await?;
    Ok(r.as_ref().map(invoice_row).transpose()?)
}

/// One invoice read inside a transaction, after taking its row lock (PostgreSQL) so
/// concurrent changes to the same invoice queue up behind each other.
pub async fn get_locked(tx: &mut TenantTx, id: &str) -> DbResult<Option<Invoice>> {
    let tenant = tx.tenant_id().to_string();
    let touched =
        sqlx::query("UPDATE invoices SET updated_at = updated_at WHERE tenant_id = $1 AND id = $2")
            .bind(&tenant)
            .bind(id)
            .execute(tx.conn())
            .await?;
    if touched.rows_affected() == 0 {
        return Ok(None);
    }
    let sql = format!("{SELECT} WHERE i.tenant_id = $1 AND i.id = $2");
    let r = sqlx::query(&sql)
        .bind(&tenant)
        .bind(id)
        .fetch_optional(tx.conn())
        .await?;
    Ok(r.as_ref().map(invoice_row).transpose()?)
}

/// What a list shows.
#[derive(Clone, Debug, Default)]
pub struct ListFilter {
    /// One company only (clients: always theirs).
    pub company_id: Option<String>,
    /// One status only.
    pub status: Option<Status>,
    /// Leave drafts out (clients).
    pub hide_drafts: bool,
    /// Issued on or after (`YYYY-MM-DD`).
    pub from: Option<String>,
    /// Issued on or before.
    pub to: Option<String>,
    /// Continue after this `issue_date|number`.
    pub cursor: Option<String>,
    /// Page size.
    pub limit: i64,
}

/// Invoices newest first; returns the page and the next cursor.
pub async fn list(
    db: &Db,
    scope: &TenantScope,
    f: &ListFilter,
) -> DbResult<(Vec<Invoice>, Option<String>)> {
    let limit = f.limit.clamp(1, 200);
    let mut sql = format!("{SELECT} WHERE i.tenant_id = $1");
    let mut binds: Vec<String> = vec![scope.tenant_id().as_str().to_string()];
    let mut push = |cond: &str, v: String, sql: &mut String| {
        binds.push(v);
        sql.push_str(&cond.replace('?', &format!("${}", binds.len())));
    };
    if let Some(c) = &f.company_id {
        push(" AND i.company_id = ?", c.clone(), &mut sql);
    }
    if let Some(s) = f.status {
        push(" AND i.status = ?", s.as_str().into(), &mut sql);
    }
    if f.hide_drafts {
        sql.push_str(" AND i.status <> 'draft'");
    }
    if let Some(d) = &f.from {
        push(" AND i.issue_date >= ?", d.clone(), &mut sql);
    }
    if let Some(d) = &f.to {
        push(" AND i.issue_date <= ?", d.clone(), &mut sql);
    }
    if let Some((d, n)) = f.cursor.as_deref().and_then(|c| c.split_once('|'))
        && let Ok(n) = n.parse::<i64>()
    {
        binds.push(d.to_string());
        let a = binds.len();
        // `n` is a parsed integer, safe to write into the statement.
        sql.push_str(&format!(
            " AND (i.issue_date < ${a} OR (i.issue_date = ${a} AND i.number < {n}))"
        ));
    }
    sql.push_str(&format!(
        " ORDER BY i.issue_date DESC, i.number DESC LIMIT ${}",
        binds.len() + 1
    ));
    let mut q = sqlx::query(&sql);
    for b in &binds {
        q = q.bind(b.clone());
    }
    let rows = q.bind(limit).fetch_all(db.tenant(scope).reader()).await?;
    let items = rows
        .iter()
        .map(invoice_row)
        .collect::<Result<Vec<_>, _>>()?;
    let next = (items.len() as i64 == limit)
        .then(|| {
            items
                .last()
                .map(|i| format!("{}|{}", i.issue_date, i.number))
        })
        .flatten();
    Ok((items, next))
}

/// Money still owed by a company: (outstanding balance, overdue balance, overdue count),
/// per currency collapsed into the tenant's one currency.
pub async fn balances(db: &Db, scope: &TenantScope, company_id: &str) -> DbResult<(i64, i64, i64)> {
    let r = sqlx::query(
        "SELECT CAST(COALESCE(SUM(total - paid), 0) AS BIGINT) AS outstanding, \
         CAST(COALESCE(SUM(CASE WHEN status = 'overdue' THEN total - paid ELSE 0 END), 0) AS BIGINT) AS overdue, \
         CAST(COALESCE(SUM(CASE WHEN status = 'overdue' THEN 1 ELSE 0 END), 0) AS BIGINT) AS overdue_count \
         FROM invoices WHERE tenant_id = $1 AND company_id = $2 AND status IN ('sent', 'overdue')",
    )
    .bind(scope.tenant_id().as_str())
    .bind(company_id)
    .fetch_one(db.tenant(scope).reader())
    .await?;
    Ok((
        r.try_get("outstanding")?,
        r.try_get("overdue")?,
        r.try_get("overdue_count")?,
    ))
}

/// Fields of a new invoice.
pub struct NewInvoice<'a> {
    /// Company billed.
    pub company_id: &'a str,
    /// Currency.
    pub currency: &'a str,
    /// Issue date.
    pub issue_date: &'a str,
    /// Due date.
    pub due_date: &'a str,
    /// Printed note.
    pub notes: &'a str,
    /// PSA id.
    pub external_id: Option<&'a str>,
    /// Creating user.
    pub created_by: Option<&'a str>,
}

/// Creates a draft; returns its id and number.
pub async fn create(tx: &mut TenantTx, n: &NewInvoice<'_>) -> DbResult<(String, i64)> {
    let tenant = tx.tenant_id().to_string();
    // The counter row serialises number allocation per tenant.
    let number: i64 = sqlx::query(
        "INSERT INTO invoice_counters (tenant_id, last_number) VALUES ($1, 1001) \
         ON CONFLICT (tenant_id) DO UPDATE SET last_number = invoice_counters.last_number + 1 \
         RETURNING last_number",
    )
    .bind(&tenant)
    .fetch_one(tx.conn())
    .await?
    .try_get(0)?;
    let id = new_id();
    let now = now_ms();
    sqlx::query(
        "INSERT INTO invoices (id, tenant_id, number, company_id, status, currency, issue_date, due_date, notes, \
         external_id, void_reason, subtotal, tax_total, total, paid, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, 'draft', $5, $6, $7, $8, $9, NULL, 0, 0, 0, 0, $10, $11, $11)",
    )
    .bind(&id)
    .bind(&tenant)
    .bind(number)
    .bind(n.company_id)
    .bind(n.currency)
    .bind(n.issue_date)
    .bind(n.due_date)
    .bind(n.notes)
    .bind(n.external_id)
    .bind(n.created_by)
    .bind(now)
    .execute(tx.conn())
    .await?;
    Ok((id, number))
}

/// Changes the dates and note of a draft.
pub async fn update_header(
    tx: &mut TenantTx,
    id: &str,
    issue_date: &str,
    due_date: &str,
    notes: &str,
) -> DbResult<()> {
    let tenant = tx.tenant_id().to_string();
    sqlx::query(
        "UPDATE invoices SET issue_date = $3, due_date = $4, notes = $5, updated_at = $6 WHERE tenant_id = $1 AND id = $2",
    )
    .bind(&tenant)
    .bind(id)
    .bind(issue_date)
    .bind(due_date)
    .bind(notes)
    .bind(now_ms())
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// A line of an invoice.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Line {
    /// Id.
    pub id: String,
    /// Order on the invoice.
    pub position: i64,
    /// What was delivered.
    pub description: String,
    /// Quantity in thousandths (1500 = 1.5).
    pub quantity_milli: i64,
    /// Quantity as a decimal ("1.5").
    pub quantity: String,
    /// Unit price, minor units.
    pub unit_price: i64,
    /// Quantity × unit price, rounded half-up to the minor unit.
    pub amount: i64,
    /// Tax applied, if any.
    pub tax_name: Option<String>,
    /// Its rate in basis points.
    pub tax_rate_bp: Option<i64>,
}

const LINES: &str = "SELECT id, position, description, quantity_milli, unit_price, amount, tax_name, tax_rate_bp \
    FROM invoice_lines WHERE tenant_id = $1 AND invoice_id = $2 ORDER BY position, id";

fn line_row(r: &AnyRow) -> Result<Line, sqlx::Error> {
    let q: i64 = r.try_get("quantity_milli")?;
    Ok(Line {
        id: r.try_get("id")?,
        position: r.try_get("position")?,
        description: r.try_get("description")?,
        quantity_milli: q,
        quantity: super::quantity_text(q),
        unit_price: r.try_get("unit_price")?,
        amount: r.try_get("amount")?,
        tax_name: r.try_get("tax_name")?,
        tax_rate_bp: r.try_get("tax_rate_bp")?,
    })
}

/// Lines of an invoice.
pub async fn lines(db: &Db, scope: &TenantScope, invoice_id: &str) -> DbResult<Vec<Line>> {
    let rows = sqlx::query(LINES)
        .bind(scope.tenant_id().as_str())
        .bind(invoice_id)
        .fetch_all(db.tenant(scope).reader())
        .await?;
    Ok(rows.iter().map(line_row).collect::<Result<Vec<_>, _>>()?)
}

/// Totals of lines as stored.
pub fn totals_of(lines: &[Line]) -> Totals {
    super::totals(
        lines
            .iter()
            .map(|l| (l.amount, l.tax_name.as_deref().zip(l.tax_rate_bp))),
    )
}

/// Adds a line at the end; the tax name and rate are copied so later rate edits leave sent
/// invoices alone.
pub async fn add_line(
    tx: &mut TenantTx,
    invoice_id: &str,
    l: &LineInput,
    tax: Option<&TaxRate>,
) -> DbResult<String> {
    let tenant = tx.tenant_id().to_string();
    let id = new_id();
    sqlx::query(
        "INSERT INTO invoice_lines (id, tenant_id, invoice_id, position, description, quantity_milli, unit_price, amount, tax_name, tax_rate_bp) \
         VALUES ($1, $2, $3, (SELECT COALESCE(MAX(position), 0) + 1 FROM invoice_lines WHERE tenant_id = $2 AND invoice_id = $3), \
         $4, $5, $6, $7, $8, $9)",
    )
    .bind(&id)
    .bind(&tenant)
    .bind(invoice_id)
    .bind(&l.description)
    .bind(l.quantity_milli)
    .bind(l.unit_price)
    .bind(super::line_amount(l.quantity_milli, l.unit_price))
    .bind(tax.map(|t| t.name.clone()))
    .bind(tax.map(|t| t.rate_bp))
    .execute(tx.conn())
    .await?;
    Ok(id)
}

/// Replaces a line's fields; false when the line is not on that invoice.
pub async fn update_line(
    tx: &mut TenantTx,
    invoice_id: &str,
    line_id: &str,
    l: &LineInput,
    tax: Option<&TaxRate>,
) -> DbResult<bool> {
    let tenant = tx.tenant_id().to_string();
    let r = sqlx::query(
        "UPDATE invoice_lines SET description = $4, quantity_milli = $5, unit_price = $6, amount = $7, tax_name = $8, tax_rate_bp = $9 \
         WHERE tenant_id = $1 AND invoice_id = $2 AND id = $3",
    )
    .bind(&tenant)
    .bind(invoice_id)
    .bind(line_id)
    .bind(&l.description)
    .bind(l.quantity_milli)
    .bind(l.unit_price)
    .bind(super::line_amount(l.quantity_milli, l.unit_price))
    .bind(tax.map(|t| t.name.clone()))
    .bind(tax.map(|t| t.rate_bp))
    .execute(tx.conn())
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Removes a line; false when it is not on that invoice.
pub async fn delete_line(tx: &mut TenantTx, invoice_id: &str, line_id: &str) -> DbResult<bool> {
    let tenant = tx.tenant_id().to_string();
    let r = sqlx::query(
        "DELETE FROM invoice_lines WHERE tenant_id = $1 AND invoice_id = $2 AND id = $3",
    )
    .bind(&tenant)
    .bind(invoice_id)
    .bind(line_id)
    .execute(tx.conn())
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Recomputes and stores an invoice's totals from its lines; returns them.
pub async fn recompute(tx: &mut TenantTx, invoice_id: &str) -> DbResult<Totals> {
    let tenant = tx.tenant_id().to_string();
    let rows = sqlx::query(LINES)
        .bind(&tenant)
        .bind(invoice_id)
        .fetch_all(tx.conn())
        .await?;
    let lines = rows.iter().map(line_row).collect::<Result<Vec<_>, _>>()?;
    let t = totals_of(&lines);
    sqlx::query(
        "UPDATE invoices SET subtotal = $3, tax_total = $4, total = $5, updated_at = $6 WHERE tenant_id = $1 AND id = $2",
    )
    .bind(&tenant)
    .bind(invoice_id)
    .bind(t.subtotal)
    .bind(t.tax_total)
    .bind(t.total)
    .bind(now_ms())
    .execute(tx.conn())
    .await?;
    Ok(t)
}

/// Moves an invoice from one of `from` to `to`; false when it was in another status (a
/// concurrent change won).
pub async fn transition(
    tx: &mut TenantTx,
    id: &str,
    from: &[Status],
    to: Status,
    void_reason: Option<&str>,
) -> DbResult<bool> {
    let tenant = tx.tenant_id().to_string();
    let now = now_ms();
    let list = from
        .iter()
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "UPDATE invoices SET status = $3, updated_at = $4, \
         sent_at = CASE WHEN $3 = 'sent' AND sent_at IS NULL THEN $4 ELSE sent_at END, \
         paid_at = CASE WHEN $3 = 'paid' THEN $4 ELSE paid_at END, \
         voided_at = CASE WHEN $3 = 'void' THEN $4 ELSE voided_at END, \
         void_reason = COALESCE($5, void_reason) \
         WHERE tenant_id = $1 AND id = $2 AND status IN ({list})"
    );
    let r = sqlx::query(&sql)
        .bind(&tenant)
        .bind(id)
        .bind(to.as_str())
        .bind(now)
        .bind(void_reason)
        .execute(tx.conn())
        .await?;
    Ok(r.rows_affected() == 1)
}

/// A payment received.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Payment {
    /// Id.
    pub id: String,
    /// Invoice paid.
    pub invoice_id: String,
    /// Its number.
    pub invoice_number: i64,
    /// Amount, minor units.
    pub amount: i64,
    /// Currency.
    pub currency: String,
    /// `card` (online checkout), `bank_transfer`, `check`, `cash` or `other`.
    pub method: String,
    /// Provider reference (checkout session), when paid online.
    pub provider_ref: Option<String>,
    /// Staff note.
    pub note: String,
    /// Who recorded it (staff), when recorded by hand.
    pub recorded_by: Option<String>,
    /// Received (Unix ms).
    pub received_at: i64,
}

impl Payment {
    /// Recorded outside the online checkout (by staff or a sync).
    pub fn elsewhere(&self) -> bool {
        self.provider_ref.is_none()
    }

    /// Catalog key of the method's label.
    pub fn method_key(&self) -> String {
        super::method_key(&self.method)
    }
}

/// Payment methods staff can record by hand.
pub const MANUAL_METHODS: [&str; 4] = ["bank_transfer", "check", "cash", "other"];

const PAYMENTS: &str = "SELECT p.id, p.invoice_id, i.number AS invoice_number, p.amount, p.currency, p.method, \
    p.provider_ref, p.note, p.recorded_by, p.received_at FROM payments p \
    JOIN invoices i ON i.tenant_id = p.tenant_id AND i.id = p.invoice_id";

fn payment_row(r: &AnyRow) -> Result<Payment, sqlx::Error> {
    Ok(Payment {
        id: r.try_get("id")?,
        invoice_id: r.try_get("invoice_id")?,
        invoice_number: r.try_get("invoice_number")?,
        amount: r.try_get("amount")?,
        currency: r.try_get("currency")?,
        method: r.try_get("method")?,
        provider_ref: r.try_get("provider_ref")?,
        note: r.try_get("note")?,
        recorded_by: r.try_get("recorded_by")?,
        received_at: r.try_get("received_at")?,
    })
}

/// Payments of an invoice, oldest first.
pub async fn payments(db: &Db, scope: &TenantScope, invoice_id: &str) -> DbResult<Vec<Payment>> {
    let sql = format!(
        "{PAYMENTS} WHERE p.tenant_id = $1 AND p.invoice_id = $2 ORDER BY p.received_at, p.id"
    );
    let rows = sqlx::query(&sql)
        .bind(scope.tenant_id().as_str())
        .bind(invoice_id)
        .fetch_all(db.tenant(scope).reader())
        .await?;
    Ok(rows
        .iter()
        .map(payment_row)
        .collect::<Result<Vec<_>, _>>()?)
}

/// The latest payments of a company, newest first.
pub async fn company_payments(
    db: &Db,
    scope: &TenantScope,
    company_id: &str,
    limit: i64,
) -> DbResult<Vec<Payment>> {
    let sql = format!(
        "{PAYMENTS} WHERE p.tenant_id = $1 AND p.company_id = $2 ORDER BY p.received_at DESC, p.id DESC LIMIT $3"
    );
    let rows = sqlx::query(&sql)
        .bind(scope.tenant_id().as_str())
        .bind(company_id)
        .bind(limit)
        .fetch_all(db.tenant(scope).reader())
        .await?;
    Ok(rows
        .iter()
        .map(payment_row)
        .collect::<Result<Vec<_>, _>>()?)
}

/// A payment to record.
pub struct NewPayment<'a> {
    /// Invoice.
    pub invoice_id: &'a str,
    /// Its company.
    pub company_id: &'a str,
    /// Amount.
    pub amount: i64,
    /// Currency.
    pub currency: &'a str,
    /// Method.
    pub method: &'a str,
    /// Provider reference (unique per tenant).
    pub provider_ref: Option<&'a str>,
    /// Note.
    pub note: &'a str,
    /// Staff who recorded it.
    pub recorded_by: Option<&'a str>,
    /// When it was received.
    pub received_at: i64,
}

/// Records a payment and adds it to the invoice's paid sum; `None` when a payment with the
/// same provider reference exists already (a duplicate delivery), which changes nothing.
pub async fn insert_payment(tx: &mut TenantTx, p: &NewPayment<'_>) -> DbResult<Option<String>> {
    let tenant = tx.tenant_id().to_string();
    let id = new_id();
    let inserted = sqlx::query(
        "INSERT INTO payments (id, tenant_id, invoice_id, company_id, amount, currency, method, provider_ref, note, \
         recorded_by, received_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
         ON CONFLICT (tenant_id, provider_ref) DO NOTHING RETURNING id",
    )
    .bind(&id)
    .bind(&tenant)
    .bind(p.invoice_id)
    .bind(p.company_id)
    .bind(p.amount)
    .bind(p.currency)
    .bind(p.method)
    .bind(p.provider_ref)
    .bind(p.note)
    .bind(p.recorded_by)
    .bind(p.received_at)
    .bind(now_ms())
    .fetch_optional(tx.conn())
    .await?;
    if inserted.is_none() {
        return Ok(None);
    }
    sqlx::query(
        "UPDATE invoices SET paid = paid + $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2",
    )
    .bind(&tenant)
    .bind(p.invoice_id)
    .bind(p.amount)
    .bind(now_ms())
    .execute(tx.conn())
    .await?;
    Ok(Some(id))
}

/// Whether a payment with this provider reference was recorded.
pub async fn payment_by_ref(db: &Db, scope: &TenantScope, provider_ref: &str) -> DbResult<bool> {
    let r = sqlx::query("SELECT id FROM payments WHERE tenant_id = $1 AND provider_ref = $2")
        .bind(scope.tenant_id().as_str())
        .bind(provider_ref)
        .fetch_optional(db.tenant(scope).reader())
        .await?;
    Ok(r.is_some())
}

/// Remembers a started checkout.
pub async fn insert_checkout(
    tx: &mut TenantTx,
    session_id: &str,
    invoice_id: &str,
    amount: i64,
    by: &str,
) -> DbResult<()> {
    let tenant = tx.tenant_id().to_string();
    sqlx::query(
        "INSERT INTO checkout_sessions (id, tenant_id, invoice_id, amount, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(session_id)
    .bind(&tenant)
    .bind(invoice_id)
    .bind(amount)
    .bind(by)
    .bind(now_ms())
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The invoice a started checkout belongs to.
pub async fn checkout_invoice(
    db: &Db,
    scope: &TenantScope,
    session_id: &str,
) -> DbResult<Option<String>> {
    let r =
        sqlx::query("SELECT invoice_id FROM checkout_sessions WHERE tenant_id = $1 AND id = $2")
            .bind(scope.tenant_id().as_str())
            .bind(session_id)
            .fetch_optional(db.tenant(scope).reader())
            .await?;
    Ok(r.map(|r| r.try_get("invoice_id")).transpose()?)
}

/// Active users of a company who receive its invoices: the company admins and the roles the
/// tenant lets see invoices. `(email, name, language)`.
pub async fn billing_contacts(
    tx: &mut TenantTx,
    company_id: &str,
    roles: &[String],
) -> DbResult<Vec<(String, String, Option<String>)>> {
    let tenant = tx.tenant_id().to_string();
    let rows = sqlx::query(
        "SELECT email, name, language, kind, role FROM users WHERE tenant_id = $1 AND company_id = $2 AND status = 'active' ORDER BY email",
    )
    .bind(&tenant)
    .bind(company_id)
    .fetch_all(tx.conn())
    .await?;
    let mut out = Vec::new();
    for r in rows {
        let kind: String = r.try_get("kind")?;
        let role: String = r.try_get("role")?;
        let Some(role) = crate::auth::Role::from_stored(&kind, &role) else {
            continue;
        };
        if role == crate::auth::Role::ClientAdmin || roles.iter().any(|r| r == role.key()) {
            out.push((
                r.try_get("email")?,
                r.try_get("name")?,
                r.try_get("language")?,
            ));
        }
    }
    Ok(out)
}

/// Sent invoices of the tenant due before `today`, marked overdue; returns their ids.
pub async fn mark_overdue(tx: &mut TenantTx, today: &str) -> DbResult<Vec<String>> {
    let tenant = tx.tenant_id().to_string();
    let rows = sqlx::query(
        "UPDATE invoices SET status = 'overdue', updated_at = $3 \
         WHERE tenant_id = $1 AND status = 'sent' AND due_date < $2 AND total > paid RETURNING id",
    )
    .bind(&tenant)
    .bind(today)
    .bind(now_ms())
    .fetch_all(tx.conn())
    .await?;
    rows.iter()
        .map(|r| Ok(r.try_get::<String, _>("id")?))
        .collect()
}

/// Number of overdue invoices of a company (the dashboard's figure).
pub async fn overdue_count(db: &Db, scope: &TenantScope, company_id: &str) -> DbResult<i64> {
    let r = sqlx::query(
        "SELECT COUNT(*) AS n FROM invoices WHERE tenant_id = $1 AND company_id = $2 AND status = 'overdue'",
    )
    .bind(scope.tenant_id().as_str())
    .bind(company_id)
    .fetch_one(db.tenant(scope).reader())
    .await?;
    Ok(r.try_get("n")?)
}
