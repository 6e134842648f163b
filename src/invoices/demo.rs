//! Demo invoices for the acme tenant: twelve months of Globex and Initech invoices in every
//! status (one overdue, one partly paid, one void, a draft), lines with decimal quantities and
//! two tax rates. Dates count back from today, so the overdue one is always overdue. Inserts
//! nothing when the tenant has invoices already.

use super::store::{self, NewInvoice, NewPayment, Settings};
use super::{LineInput, Status};
use crate::db::{Db, Row};
use crate::tenancy::TenantScope;

/// (description, quantity in thousandths, unit price in cents, tax: 0 none, 1 sales, 2 service)
type DemoLine = (&'static str, i64, i64, u8);

const GLOBEX_LINES: &[DemoLine] = &[
    ("Managed workstation support (per device)", 24_000, 4_500, 1),
    ("Remote support hours", 3_500, 12_000, 2),
    ("Cloud backup storage (TB)", 1_250, 8_000, 0),
];

const INITECH_LINES: &[DemoLine] = &[
    ("Managed server monitoring (per server)", 6_000, 9_500, 1),
    ("On-site visit hours", 2_750, 14_000, 2),
];

/// What happens to the invoice issued `months_ago`.
#[derive(Clone, Copy)]
enum Fate {
    Paid,
    PaidElsewhere,
    Overdue,
    PartlyPaid,
    Sent,
    Void,
    Draft,
}

const GLOBEX: &[(u32, Fate)] = &[
    (11, Fate::Paid),
    (10, Fate::Paid),
    (9, Fate::PaidElsewhere),
    (8, Fate::Paid),
    (7, Fate::Paid),
    (6, Fate::Void),
    (6, Fate::Paid),
    (5, Fate::Paid),
    (4, Fate::PaidElsewhere),
    (3, Fate::Paid),
    (2, Fate::Overdue),
    (1, Fate::PartlyPaid),
    (0, Fate::Sent),
    (0, Fate::Draft),
];

const INITECH: &[(u32, Fate)] = &[
    (11, Fate::Paid),
    (9, Fate::Paid),
    (7, Fate::PaidElsewhere),
    (5, Fate::Paid),
    (3, Fate::Paid),
    (2, Fate::Overdue),
    (1, Fate::Sent),
];

fn date(d: chrono::NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// Seeds the demo invoices of `scope` (an MSP tenant with Globex and Initech).
pub async fn seed(db: &Db, scope: &TenantScope) -> anyhow::Result<()> {
    let tenant = scope.tenant_id().as_str();
    let any = sqlx::query("SELECT id FROM invoices WHERE tenant_id = $1 LIMIT 1")
        .bind(tenant)
        .fetch_optional(db.tenant(scope).reader())
        .await?;
    // The demo billing story is Acme's (Globex and Initech); another MSP tenant gets none.
    let globex = sqlx::query("SELECT id FROM companies WHERE tenant_id = $1 AND name = 'Globex'")
        .bind(tenant)
        .fetch_optional(db.tenant(scope).reader())
        .await?;
    if any.is_some() || globex.is_none() {
        return Ok(());
    }
    let mut tx = db.tenant(scope).begin().await?;
    store::save_settings(
        &mut tx,
        &Settings {
            overdue_reminders: true,
            ..Settings::default()
        },
    )
    .await?;
    let sales_id = store::create_tax_rate(&mut tx, "Sales tax", 825).await?;
    let service_id = store::create_tax_rate(&mut tx, "Service tax", 500).await?;
    let sales = store::tax_rate_in(&mut tx, &sales_id).await?;
    let service = store::tax_rate_in(&mut tx, &service_id).await?;
    let staff: Option<String> =
        sqlx::query("SELECT id FROM users WHERE tenant_id = $1 AND email = 'staff@acme.example'")
            .bind(tenant)
            .fetch_optional(tx.conn())
            .await?
            .map(|r| r.try_get("id"))
            .transpose()?;
    let today = chrono::Utc::now().date_naive();
    for (company, plan, lines) in [
        ("Globex", GLOBEX, GLOBEX_LINES),
        ("Initech", INITECH, INITECH_LINES),
    ] {
        // Only Acme has these companies; another MSP tenant gets settings and rates, no invoices.
        let Some(row) = sqlx::query("SELECT id FROM companies WHERE tenant_id = $1 AND name = $2")
            .bind(tenant)
            .bind(company)
            .fetch_optional(tx.conn())
            .await?
        else {
            continue;
        };
        let company_id: String = row.try_get("id")?;
        for (i, (months_ago, fate)) in plan.iter().enumerate() {
            let issue = today
                .checked_sub_months(chrono::Months::new(*months_ago))
                .unwrap_or(today)
                - chrono::Days::new(3);
            let due = match fate {
                // Due a week ago, whatever day it is.
                Fate::Overdue => today - chrono::Days::new(7),
                Fate::PartlyPaid | Fate::Sent | Fate::Draft => today + chrono::Days::new(20),
                _ => issue + chrono::Days::new(30),
            };
            let (id, _) = store::create(
                &mut tx,
                &NewInvoice {
                    company_id: &company_id,
                    currency: "USD",
                    issue_date: &date(issue),
                    due_date: &date(due),
                    notes: "Thank you for your business. Payment terms: 30 days.",
                    external_id: Some(&format!(
                        "PSA-{}-{:02}",
                        &company[..3].to_uppercase(),
                        i + 1
                    )),
                    created_by: staff.as_deref(),
                },
            )
            .await?;
            // Months differ a little, as real usage does.
            let extra = (*months_ago as i64 % 3) * 500;
            for (desc, qty, price, tax) in lines.iter() {
                let rate = match tax {
                    1 => sales.as_ref(),
                    2 => service.as_ref(),
                    _ => None,
                };
                store::add_line(
                    &mut tx,
                    &id,
                    &LineInput {
                        description: (*desc).into(),
                        quantity_milli: qty + extra,
                        unit_price: *price,
                        tax_rate_id: None,
                    },
                    rate,
                )
                .await?;
            }
            let totals = store::recompute(&mut tx, &id).await?;
            let pay = |amount: i64, method: &'static str, provider: Option<String>| {
                (amount, method, provider)
            };
            let (to, payment) = match fate {
                Fate::Draft => (None, None),
                Fate::Sent => (Some(Status::Sent), None),
                Fate::Overdue => (Some(Status::Overdue), None),
                Fate::Void => (Some(Status::Void), None),
                Fate::PartlyPaid => (
                    Some(Status::Sent),
                    Some(pay(totals.total / 2, "bank_transfer", None)),
                ),
                Fate::PaidElsewhere => (Some(Status::Paid), Some(pay(totals.total, "check", None))),
                Fate::Paid => (
                    Some(Status::Paid),
                    Some(pay(
                        totals.total,
                        "card",
                        Some(format!("cs_demo_{company}_{i}")),
                    )),
                ),
            };
            if let Some(to) = to {
                store::transition(
                    &mut tx,
                    &id,
                    &[Status::Draft],
                    if to == Status::Void {
                        Status::Void
                    } else {
                        Status::Sent
                    },
                    (to == Status::Void)
                        .then_some("Issued twice by mistake; replaced by the next invoice."),
                )
                .await?;
                if to == Status::Overdue {
                    store::transition(&mut tx, &id, &[Status::Sent], Status::Overdue, None).await?;
                }
            }
            if let Some((amount, method, provider)) = payment {
                store::insert_payment(
                    &mut tx,
                    &NewPayment {
                        invoice_id: &id,
                        company_id: &company_id,
                        amount,
                        currency: "USD",
                        method,
                        provider_ref: provider.as_deref(),
                        note: "",
                        recorded_by: if provider.is_none() {
                            staff.as_deref()
                        } else {
                            None
                        },
                        received_at: super::date_ms(&date(issue + chrono::Days::new(12))),
                    },
                )
                .await?;
                if to == Some(Status::Paid) {
                    store::transition(&mut tx, &id, &[Status::Sent], Status::Paid, None).await?;
                }
            }
        }
    }
    tx.commit().await?;
    Ok(())
}
