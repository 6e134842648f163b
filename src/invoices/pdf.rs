//! The branded invoice PDF: the tenant's name band and colour, the address block, the lines,
//! the totals and the status, through `crate::pdf`. Text stays real text (extractable).

use super::routes::InvoiceView;
use crate::app::AppState;
use crate::error::{AppError, AppResult};
use crate::i18n::{Translator, k};
use crate::pdf::{Align, Brand, Colour, Column, Pdf};
use crate::tenancy::Tenant;

/// Renders `v` for `tenant` in the viewer's language.
pub fn render(
    _app: &AppState,
    t: &Translator,
    tenant: &Tenant,
    v: &InvoiceView,
) -> AppResult<Vec<u8>> {
    let inv = &v.invoice;
    let (primary, _) = crate::branding::colors(tenant);
    let accent = Colour::from_hex(&primary, Colour(0x0e, 0xa5, 0xe9));
    let title = super::routes::title(t, inv.number);
    let mut pdf = Pdf::new(
        Brand {
            name: tenant.branding.portal_name.clone(),
            accent,
            logo: None,
        },
        title.clone(),
    );
    let status_colour = match inv.status {
        super::Status::Overdue => Colour(0xb9, 0x1c, 0x1c),
        super::Status::Paid => Colour(0x15, 0x80, 0x3d),
        _ => accent,
    };
    pdf.heading(&title)
        .badge(&t.get(inv.status.label_key()), status_colour);
    let from: Vec<String> = [
        Some(tenant.name.clone()),
        tenant.branding.support_email.clone(),
    ]
    .into_iter()
    .flatten()
    .collect();
    let from_label = t.get(k("invoice-pdf-from"));
    let to_label = t.get(k("invoice-pdf-bill-to"));
    let mut left: Vec<&str> = vec![from_label.as_str()];
    left.extend(from.iter().map(String::as_str));
    let right = [to_label.as_str(), inv.company_name.as_str()];
    pdf.two_columns(&left, &right);
    let issued = t.date(super::date_ms(&inv.issue_date));
    let due = t.date(super::date_ms(&inv.due_date));
    let (l_issue, l_due, l_number) = (
        t.get(k("invoice-issue-date")),
        t.get(k("invoice-due-date")),
        t.get(k("invoice-number")),
    );
    let number = inv.number.to_string();
    pdf.key_values(&[
        (l_number.as_str(), number.as_str()),
        (l_issue.as_str(), issued.as_str()),
        (l_due.as_str(), due.as_str()),
    ]);
    let rows: Vec<Vec<String>> = v
        .lines
        .iter()
        .map(|l| {
            vec![
                l.description.clone(),
                l.quantity.clone(),
                t.money(l.unit_price, &inv.currency),
                t.money(l.amount, &inv.currency),
            ]
        })
        .collect();
    pdf.table(
        &[
            Column::new(t.get(k("invoice-col-description")), 4.0, Align::Left),
            Column::new(t.get(k("invoice-col-quantity")), 1.0, Align::Right),
            Column::new(t.get(k("invoice-col-unit-price")), 1.5, Align::Right),
            Column::new(t.get(k("invoice-col-amount")), 1.5, Align::Right),
        ],
        &rows,
    );
    let mut totals: Vec<(String, String, bool)> = vec![(
        t.get(k("invoice-subtotal")),
        t.money(inv.subtotal, &inv.currency),
        false,
    )];
    for tax in &v.taxes {
        totals.push((
            format!("{} ({} %)", tax.name, super::format_scaled(tax.rate_bp, 2)),
            t.money(tax.amount, &inv.currency),
            false,
        ));
    }
    totals.push((
        t.get(k("invoice-total")),
        t.money(inv.total, &inv.currency),
        true,
    ));
    if inv.paid > 0 {
        totals.push((
            t.get(k("invoice-paid")),
            t.money(inv.paid, &inv.currency),
            false,
        ));
    }
    totals.push((
        t.get(k("invoice-balance")),
        t.money(inv.balance, &inv.currency),
        true,
    ));
    let refs: Vec<(&str, &str, bool)> = totals
        .iter()
        .map(|(a, b, c)| (a.as_str(), b.as_str(), *c))
        .collect();
    pdf.totals(&refs);
    if let Some(reason) = &inv.void_reason {
        pdf.paragraph(&t.arg(k("invoice-void-reason-line"), "reason", reason));
    }
    if !inv.notes.is_empty() {
        pdf.paragraph(&inv.notes);
    }
    pdf.footer(format!("{} · {}", tenant.name, title));
    pdf.finish()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("invoice PDF: {e}")))
}
