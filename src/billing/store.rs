//! SQL for subscriptions and for the statement's invoice and payment rows. Every statement
//! names its tenant; writes run on the action's `TenantTx`.

use serde::Serialize;

use super::{Checked, Cycle, SubStatus};
use crate::db::{AnyRow, Db, DbResult, Row, TenantTx, new_id, now_ms};
use crate::tenancy::TenantScope;

/// A company's subscription to a service.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Subscription {
    /// Id.
    pub id: String,
    /// Company subscribed.
    pub company_id: String,
    /// Service name.
    pub name: String,
    /// Quantity as people write it ("2.5").
    pub quantity: String,
    /// Quantity in thousandths.
    pub quantity_milli: i64,
    /// Unit price per cycle, minor units.
    pub unit_price: i64,
    /// Charge per cycle (quantity × unit price, rounded half-up), minor units.
    pub amount: i64,
    /// Currency.
    pub currency: String,
    /// Billing cycle.
    pub cycle: Cycle,
    /// Next billing date (`YYYY-MM-DD`).
    pub next_billing_date: String,
    /// Status.
    pub status: SubStatus,
    /// Id in the PSA, when imported.
    pub external_id: Option<String>,
    /// Created (Unix ms).
    pub created_at: i64,
    /// Last change (Unix ms).
    pub updated_at: i64,
}

const SELECT: &str = "SELECT id, company_id, name, quantity_milli, unit_price, currency, cycle, \
    next_billing_date, status, external_id, created_at, updated_at FROM subscriptions";

fn sub_row(r: &AnyRow) -> Result<Subscription, sqlx::Error> {
    let q: i64 = r.try_get("quantity_milli")?;
    let p: i64 = r.try_get("unit_price")?;
    let cycle: String = r.try_get("cycle")?;
    let status: String = r.try_get("status")?;
    Ok(Subscription {
        id: r.try_get("id")?,
        company_id: r.try_get("company_id")?,
        name: r.try_get("name")?,
        quantity: crate::invoices::quantity_text(q),
        quantity_milli: q,
        unit_price: p,
        amount: crate::invoices::line_amount(q, p),
        currency: r.try_get("currency")?,
        cycle: Cycle::parse(&cycle).unwrap_or(Cycle::Monthly),
        next_billing_date: r.try_get("next_billing_date")?,
        status: SubStatus::parse(&status).unwrap_or(SubStatus::Cancelled),
        external_id: r.try_get("external_id")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// Subscriptions of a company: active first, then paused, then cancelled; by name.
pub async fn for_company(
    db: &Db,
    scope: &TenantScope,
    company_id: &str,
) -> DbResult<Vec<Subscription>> {
    let sql = format!(
        "{SELECT} WHERE tenant_id = $1 AND company_id = $2 \
         ORDER BY CASE status WHEN 'active' THEN 0 WHEN 'paused' THEN 1 ELSE 2 END, name, id"
    );
    let rows = sqlx::query(&sql)
        .bind(scope.tenant_id().as_str())
        .bind(company_id)
        .fetch_all(db.tenant(scope).reader())
        .await?;
    Ok(rows.iter().map(sub_row).collect::<Result<Vec<_>, _>>()?)
}

/// A page of the tenant's subscriptions (optionally of one company), keyset by id.
pub async fn list(
    db: &Db,
    scope: &TenantScope,
    company_id: Option<&str>,
    after: Option<&str>,
    limit: i64,
) -> DbResult<Vec<Subscription>> {
    let sql = format!(
        "{SELECT} WHERE tenant_id = $1 AND ($2 = '' OR company_id = $2) AND id > $3 ORDER BY id LIMIT $4"
    );
    let rows = sqlx::query(&sql)
        .bind(scope.tenant_id().as_str())
        .bind(company_id.unwrap_or(""))
        .bind(after.unwrap_or(""))
        .bind(limit)
        .fetch_all(db.tenant(scope).reader())
        .await?;
    Ok(rows.iter().map(sub_row).collect::<Result<Vec<_>, _>>()?)
}

/// One subscription by id.
pub async fn get(db: &Db, scope: &TenantScope, id: &str) -> DbResult<Option<Subscription>> {
    let sql = format!("{SELECT} WHERE tenant_id = $1 AND id = $2");
    let r = sqlx::query(&sql)
        .bind(scope.tenant_id().as_str())
        .bind(id)
        .fetch_optional(db.tenant(scope).reader())
        .await?;
    Ok(r.as_ref().map(sub_row).transpose()?)
}

/// One subscription read inside a transaction after touching its row (a PostgreSQL row lock,
/// so concurrent edits queue up).
pub async fn get_locked(tx: &mut TenantTx, id: &str) -> DbResult<Option<Subscription>> {
    let tenant = tx.tenant_id().to_string();
    let touched = sqlx::query(
        "UPDATE subscriptions SET updated_at = updated_at WHERE tenant_id = $1 AND id = $2",
    )
    .bind(&tenant)
    .bind(id)
    .execute(tx.conn())
    .await?;
    if touched.rows_affected() == 0 {
        return Ok(None);
    }
    let sql = format!("{SELECT} WHERE tenant_id = $1 AND id = $2");
    let r = sqlx::query(&sql)
        .bind(&tenant)
        .bind(id)
        .fetch_optional(tx.conn())
        .await?;
    Ok(r.as_ref().map(sub_row).transpose()?)
}

/// Inserts a subscription; returns its id.
pub async fn create(
    tx: &mut TenantTx,
    company_id: &str,
    currency: &str,
    c: &Checked,
    created_by: Option<&str>,
) -> DbResult<String> {
    let tenant = tx.tenant_id().to_string();
    let id = new_id();
    let now = now_ms();
    sqlx::query(
        "INSERT INTO subscriptions (id, tenant_id, company_id, name, quantity_milli, unit_price, currency, \
         cycle, next_billing_date, status, external_id, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)",
    )
    .bind(&id)
    .bind(&tenant)
    .bind(company_id)
    .bind(&c.name)
    .bind(c.quantity_milli)
    .bind(c.unit_price)
    .bind(currency)
    .bind(c.cycle.as_str())
    .bind(&c.next_billing_date)
    .bind(c.status.as_str())
    .bind(c.external_id.as_deref())
    .bind(created_by)
    .bind(now)
    .execute(tx.conn())
    .await?;
    Ok(id)
}

/// Replaces the fields of a subscription.
pub async fn update(tx: &mut TenantTx, id: &str, c: &Checked) -> DbResult<()> {
    let tenant = tx.tenant_id().to_string();
    sqlx::query(
        "UPDATE subscriptions SET name = $3, quantity_milli = $4, unit_price = $5, cycle = $6, \
         next_billing_date = $7, status = $8, external_id = $9, updated_at = $10 \
         WHERE tenant_id = $1 AND id = $2",
    )
    .bind(&tenant)
    .bind(id)
    .bind(&c.name)
    .bind(c.quantity_milli)
    .bind(c.unit_price)
    .bind(c.cycle.as_str())
    .bind(&c.next_billing_date)
    .bind(c.status.as_str())
    .bind(c.external_id.as_deref())
    .bind(now_ms())
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Sets only the status.
pub async fn set_status(tx: &mut TenantTx, id: &str, status: SubStatus) -> DbResult<()> {
    let tenant = tx.tenant_id().to_string();
    sqlx::query(
        "UPDATE subscriptions SET status = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2",
    )
    .bind(&tenant)
    .bind(id)
    .bind(status.as_str())
    .bind(now_ms())
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// An invoice as the statement counts it.
#[derive(Clone, Debug)]
pub struct StatementInvoice {
    /// Number.
    pub number: i64,
    /// Issue date (`YYYY-MM-DD`).
    pub issue_date: String,
    /// Due date.
    pub due_date: String,
    /// Total, minor units.
    pub total: i64,
}

/// A payment as the statement counts it.
#[derive(Clone, Debug)]
pub struct StatementPayment {
    /// Number of the invoice paid.
    pub invoice_number: i64,
    /// Received (Unix ms).
    pub received_at: i64,
    /// Amount, minor units.
    pub amount: i64,
    /// Method name.
    pub method: String,
}

/// Invoices of a company that count towards its balance (sent, overdue or paid: drafts are
/// not the client's yet and void ones were cancelled) issued on or before `to`.
pub async fn statement_invoices(
    db: &Db,
    scope: &TenantScope,
    company_id: &str,
    to: &str,
) -> DbResult<Vec<StatementInvoice>> {
    let rows = sqlx::query(
        "SELECT number, issue_date, due_date, total FROM invoices WHERE tenant_id = $1 AND company_id = $2 \
         AND status IN ('sent', 'overdue', 'paid') AND issue_date <= $3 ORDER BY issue_date, number",
    )
    .bind(scope.tenant_id().as_str())
    .bind(company_id)
    .bind(to)
    .fetch_all(db.tenant(scope).reader())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(StatementInvoice {
                number: r.try_get("number")?,
                issue_date: r.try_get("issue_date")?,
                due_date: r.try_get("due_date")?,
                total: r.try_get("total")?,
            })
        })
        .collect()
}

/// Payments of a company against the invoices the statement counts, received before
/// `before_ms`.
pub async fn statement_payments(
    db: &Db,
    scope: &TenantScope,
    company_id: &str,
    before_ms: i64,
) -> DbResult<Vec<StatementPayment>> {
    let rows = sqlx::query(
        "SELECT i.number AS invoice_number, p.received_at, p.amount, p.method FROM payments p \
         JOIN invoices i ON i.tenant_id = p.tenant_id AND i.id = p.invoice_id \
         WHERE p.tenant_id = $1 AND p.company_id = $2 AND i.status IN ('sent', 'overdue', 'paid') \
         AND p.received_at < $3 ORDER BY p.received_at, p.id",
    )
    .bind(scope.tenant_id().as_str())
    .bind(company_id)
    .bind(before_ms)
    .fetch_all(db.tenant(scope).reader())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(StatementPayment {
                invoice_number: r.try_get("invoice_number")?,
                received_at: r.try_get("received_at")?,
                amount: r.try_get("amount")?,
                method: r.try_get("method")?,
            })
        })
        .collect()
}
