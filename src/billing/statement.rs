//! The account statement of a company over a period: every invoice issued and payment received
//! between `from` and `to` (both days included, on the tenant's calendar), with the balance
//! before (opening) and after (closing), as a branded PDF and as CSV.
//!
//! What counts: sent, overdue and paid invoices (drafts are not the client's yet, void ones were
//! cancelled) and the payments against them. An invoice counts on its issue date, a payment on
//! the day it was received in the tenant's time zone. On one day invoices come before payments.
//! Amounts are integers of minor units, so the balances add up exactly; nothing is rounded.

use chrono::{NaiveDate, TimeZone};
use serde::Serialize;

use super::store::{self, StatementInvoice, StatementPayment};
use crate::app::AppState;
use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::i18n::{Translator, k};
use crate::pdf::{Align, Brand, Colour, Column, Pdf};
use crate::tenancy::Tenant;

/// Longest period a statement covers (days).
pub const MAX_DAYS: i64 = 3700;

/// What a statement line records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// An invoice issued (a debit).
    Invoice,
    /// A payment received (a credit).
    Payment,
}

/// One line of a statement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Line {
    /// Day (`YYYY-MM-DD`).
    pub date: String,
    /// Invoice or payment.
    pub kind: Kind,
    /// Number of the invoice (issued, or paid).
    pub invoice_number: i64,
    /// Payment method, for payments.
    pub method: Option<String>,
    /// Amount invoiced, minor units (0 for payments).
    pub debit: i64,
    /// Amount paid, minor units (0 for invoices).
    pub credit: i64,
    /// Running balance after this line.
    pub balance: i64,
}

/// A company's statement over a period.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Statement {
    /// Company name.
    pub company: String,
    /// First day (`YYYY-MM-DD`).
    pub from: String,
    /// Last day, included.
    pub to: String,
    /// The tenant's currency.
    pub currency: String,
    /// Balance at the start of `from`.
    pub opening: i64,
    /// The period's lines, in order.
    pub lines: Vec<Line>,
    /// Sum of debits in the period.
    pub invoiced: i64,
    /// Sum of credits in the period.
    pub paid: i64,
    /// Balance at the end of `to`.
    pub closing: i64,
}

/// Checks a period; empty `from` is the first of this year, empty `to` is `today`.
pub fn period(from: &str, to: &str, today: NaiveDate) -> AppResult<(NaiveDate, NaiveDate)> {
    let parse = |field: &str, s: &str, default: NaiveDate| {
        if s.trim().is_empty() {
            Ok(default)
        } else {
            NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
                .map_err(|_| AppError::field(field, k("statement-error-date")))
        }
    };
    let first = NaiveDate::from_ymd_opt(chrono::Datelike::year(&today), 1, 1).unwrap_or(today);
    let from = parse("from", from, first)?;
    let to = parse("to", to, today)?;
    if to < from {
        return Err(AppError::field("to", k("statement-error-order")));
    }
    if (to - from).num_days() > MAX_DAYS {
        return Err(AppError::field("from", k("statement-error-span")));
    }
    Ok((from, to))
}

/// Builds the lines and balances from the rows the store gave (any order); payments carry
/// their day already.
pub fn build(
    invoices: &[StatementInvoice],
    payments: &[(String, StatementPayment)],
    from: &str,
    to: &str,
) -> (i64, Vec<Line>, i64) {
    let mut opening = 0i64;
    let mut lines: Vec<Line> = Vec::new();
    for i in invoices {
        if i.issue_date.as_str() < from {
            opening += i.total;
        } else if i.issue_date.as_str() <= to {
            lines.push(Line {
                date: i.issue_date.clone(),
                kind: Kind::Invoice,
                invoice_number: i.number,
                method: None,
                debit: i.total,
                credit: 0,
                balance: 0,
            });
        }
    }
    for (day, p) in payments {
        if day.as_str() < from {
            opening -= p.amount;
        } else if day.as_str() <= to {
            lines.push(Line {
                date: day.clone(),
                kind: Kind::Payment,
                invoice_number: p.invoice_number,
                method: Some(p.method.clone()),
                debit: 0,
                credit: p.amount,
                balance: 0,
            });
        }
    }
    // Stable: payments of one day keep their received order.
    lines.sort_by(|a, b| {
        a.date
            .cmp(&b.date)
            .then_with(|| (a.kind == Kind::Payment).cmp(&(b.kind == Kind::Payment)))
            .then_with(|| match a.kind {
                Kind::Invoice => a.invoice_number.cmp(&b.invoice_number),
                Kind::Payment => std::cmp::Ordering::Equal,
            })
    });
    let mut balance = opening;
    for l in &mut lines {
        balance += l.debit - l.credit;
        l.balance = balance;
    }
    (opening, lines, balance)
}

/// The day `ms` falls on in `tz`.
pub fn day_in(tz: chrono_tz::Tz, ms: i64) -> String {
    match chrono::Utc.timestamp_millis_opt(ms).single() {
        Some(t) => t.with_timezone(&tz).format("%Y-%m-%d").to_string(),
        None => String::new(),
    }
}

/// Loads the statement of the client's company (`actor` from `billing_actor`).
pub async fn load(
    app: &AppState,
    actor: &Actor,
    tenant: &Tenant,
    from: &str,
    to: &str,
) -> AppResult<Statement> {
    let company_id = actor.company_id().ok_or(AppError::NotFound)?;
    let company = crate::companies::get(&app.db, actor.scope(), company_id.as_str())
        .await?
        .ok_or(AppError::NotFound)?;
    let tz: chrono_tz::Tz = tenant.time_zone.parse().unwrap_or(chrono_tz::UTC);
    let today = chrono::Utc::now().with_timezone(&tz).date_naive();
    let (from, to) = period(from, to, today)?;
    let (from, to) = (
        from.format("%Y-%m-%d").to_string(),
        to.format("%Y-%m-%d").to_string(),
    );
    let end = NaiveDate::parse_from_str(&to, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.succ_opt())
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .and_then(|d| tz.from_local_datetime(&d).earliest())
        .map(|d| d.timestamp_millis())
        .unwrap_or(i64::MAX);
    let invoices =
        store::statement_invoices(&app.db, actor.scope(), company_id.as_str(), &to).await?;
    let payments: Vec<(String, StatementPayment)> =
        store::statement_payments(&app.db, actor.scope(), company_id.as_str(), end)
            .await?
            .into_iter()
            .map(|p| (day_in(tz, p.received_at), p))
            .collect();
    let (opening, lines, closing) = build(&invoices, &payments, &from, &to);
    let currency = crate::invoices::store::settings(&app.db, actor.scope())
        .await?
        .currency;
    Ok(Statement {
        company: company.name,
        invoiced: lines.iter().map(|l| l.debit).sum(),
        paid: lines.iter().map(|l| l.credit).sum(),
        from,
        to,
        currency,
        opening,
        lines,
        closing,
    })
}

/// The statement as CSV: a header, an `opening` row, one row per line, a `closing` row.
/// Column names and kinds are fixed English words and amounts plain decimals ("1234.50"), so
/// spreadsheets and scripts read it the same in every language.
pub fn csv(s: &Statement) -> AppResult<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let err = |e: csv::Error| AppError::Internal(anyhow::anyhow!("statement CSV: {e}"));
    let amt = |v: i64| crate::invoices::amount_text(v);
    w.write_record([
        "date", "type", "invoice", "method", "debit", "credit", "balance", "currency",
    ])
    .map_err(err)?;
    w.write_record([
        s.from.as_str(),
        "opening",
        "",
        "",
        "",
        "",
        &amt(s.opening),
        &s.currency,
    ])
    .map_err(err)?;
    for l in &s.lines {
        let (kind, debit, credit) = match l.kind {
            Kind::Invoice => ("invoice", amt(l.debit), String::new()),
            Kind::Payment => ("payment", String::new(), amt(l.credit)),
        };
        w.write_record([
            l.date.as_str(),
            kind,
            &l.invoice_number.to_string(),
            l.method.as_deref().unwrap_or(""),
            &debit,
            &credit,
            &amt(l.balance),
            &s.currency,
        ])
        .map_err(err)?;
    }
    w.write_record([
        s.to.as_str(),
        "closing",
        "",
        "",
        &amt(s.invoiced),
        &amt(s.paid),
        &amt(s.closing),
        &s.currency,
    ])
    .map_err(err)?;
    w.into_inner()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("statement CSV: {e}")))
}

/// The statement as a branded PDF in the viewer's language.
pub fn pdf(t: &Translator, tenant: &Tenant, s: &Statement) -> AppResult<Vec<u8>> {
    let (primary, _) = crate::branding::colors(tenant);
    let accent = Colour::from_hex(&primary, Colour(0x0e, 0xa5, 0xe9));
    let title = t.get(k("statement-title"));
    let mut pdf = Pdf::new(
        Brand {
            name: tenant.branding.portal_name.clone(),
            accent,
            logo: None,
        },
        title.clone(),
    );
    pdf.heading(&title);
    let from_label = t.get(k("invoice-pdf-from"));
    let to_label = t.get(k("invoice-pdf-bill-to"));
    let mut left: Vec<&str> = vec![from_label.as_str(), tenant.name.as_str()];
    if let Some(e) = tenant.branding.support_email.as_deref() {
        left.push(e);
    }
    pdf.two_columns(&left, &[to_label.as_str(), s.company.as_str()]);
    let (l_from, l_to) = (
        t.get(k("statement-period-from")),
        t.get(k("statement-period-to")),
    );
    let (d_from, d_to) = (
        t.date(crate::invoices::date_ms(&s.from)),
        t.date(crate::invoices::date_ms(&s.to)),
    );
    pdf.key_values(&[
        (l_from.as_str(), d_from.as_str()),
        (l_to.as_str(), d_to.as_str()),
    ]);
    let money = |v: i64| t.money(v, &s.currency);
    let mut rows: Vec<Vec<String>> = vec![vec![
        d_from.clone(),
        t.get(k("statement-opening")),
        String::new(),
        String::new(),
        money(s.opening),
    ]];
    for l in &s.lines {
        let what = match l.kind {
            Kind::Invoice => crate::invoices::routes::title(t, l.invoice_number),
            Kind::Payment => t.args(
                k("statement-payment-for"),
                &[("number", crate::i18n::Arg::Num(l.invoice_number))],
            ),
        };
        rows.push(vec![
            t.date(crate::invoices::date_ms(&l.date)),
            what,
            if l.debit != 0 {
                money(l.debit)
            } else {
                String::new()
            },
            if l.credit != 0 {
                money(l.credit)
            } else {
                String::new()
            },
            money(l.balance),
        ]);
    }
    pdf.table(
        &[
            Column::new(t.get(k("statement-col-date")), 1.5, Align::Left),
            Column::new(t.get(k("statement-col-description")), 3.0, Align::Left),
            Column::new(t.get(k("statement-col-invoiced")), 1.5, Align::Right),
            Column::new(t.get(k("statement-col-paid")), 1.5, Align::Right),
            Column::new(t.get(k("statement-col-balance")), 1.5, Align::Right),
        ],
        &rows,
    );
    let totals = [
        (t.get(k("statement-opening")), money(s.opening), false),
        (t.get(k("statement-invoiced")), money(s.invoiced), false),
        (t.get(k("statement-paid")), money(s.paid), false),
        (t.get(k("statement-closing")), money(s.closing), true),
    ];
    let refs: Vec<(&str, &str, bool)> = totals
        .iter()
        .map(|(a, b, c)| (a.as_str(), b.as_str(), *c))
        .collect();
    pdf.totals(&refs);
    pdf.footer(format!("{} · {} · {}", tenant.name, title, s.company));
    pdf.finish()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("statement PDF: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inv(number: i64, day: &str, total: i64) -> StatementInvoice {
        StatementInvoice {
            number,
            issue_date: day.into(),
            due_date: day.into(),
            total,
        }
    }

    fn pay(number: i64, day: &str, amount: i64) -> (String, StatementPayment) {
        (
            day.into(),
            StatementPayment {
                invoice_number: number,
                received_at: 0,
                amount,
                method: "card".into(),
            },
        )
    }

    #[test]
    fn both_ends_of_the_period_are_included_and_balances_add_up() {
        let invoices = [
            inv(1, "2026-01-31", 10_001),
            inv(2, "2026-02-01", 20_000),
            inv(3, "2026-02-28", 333),
            inv(4, "2026-03-01", 99_999),
        ];
        let payments = [
            pay(1, "2026-01-31", 5_000),
            pay(2, "2026-02-01", 20_000),
            pay(1, "2026-02-28", 5_001),
            pay(3, "2026-03-01", 333),
        ];
        let (opening, lines, closing) = build(&invoices, &payments, "2026-02-01", "2026-02-28");
        assert_eq!(opening, 5_001);
        let seen: Vec<_> = lines.iter().map(|l| (l.kind, l.invoice_number)).collect();
        assert_eq!(
            seen,
            [
                (Kind::Invoice, 2),
                (Kind::Payment, 2),
                (Kind::Invoice, 3),
                (Kind::Payment, 1)
            ]
        );
        assert_eq!(closing, 5_001 + 20_000 - 20_000 + 333 - 5_001);
        assert_eq!(lines.last().map(|l| l.balance), Some(closing));
    }

    #[test]
    fn a_payment_counts_on_the_tenants_day() {
        let tz: chrono_tz::Tz = "America/New_York".parse().unwrap();
        // 2026-03-01 03:00 UTC is still Feb 28 in New York.
        let ms = chrono::Utc
            .with_ymd_and_hms(2026, 3, 1, 3, 0, 0)
            .single()
            .unwrap()
            .timestamp_millis();
        assert_eq!(day_in(tz, ms), "2026-02-28");
        assert_eq!(day_in(chrono_tz::UTC, ms), "2026-03-01");
    }

    #[test]
    fn periods_are_checked() {
        let today = NaiveDate::from_ymd_opt(2026, 6, 15).unwrap();
        let (f, t) = period("", "", today).unwrap();
        assert_eq!(
            (f.to_string(), t.to_string()),
            ("2026-01-01".into(), "2026-06-15".into())
        );
        assert!(period("2026-02-01", "2026-01-31", today).is_err());
        assert!(period("2026-13-01", "", today).is_err());
        assert!(period("2026-02-01", "2026-02-01", today).is_ok());
    }
}
