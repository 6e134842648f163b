//! The year-end giving statement (PDF) and the gifts CSV of one member.

use super::Gift;
use crate::i18n::Translator;
use crate::pdf::{Align, Brand, Colour, Column, Pdf};
use crate::tenancy::Tenant;

/// Everything a statement prints.
pub struct Statement<'a> {
    /// The organisation.
    pub tenant: &'a Tenant,
    /// Its Mission settings (address, tax id, wording).
    pub settings: &'a crate::mission::settings::Settings,
    /// The giver's name.
    pub member_name: &'a str,
    /// The giver's postal address (may be empty).
    pub member_address: &'a str,
    /// The year.
    pub year: i32,
    /// Every gift of the year, oldest first.
    pub gifts: &'a [Gift],
    /// Name each gift's giver (a household statement lists several people's gifts).
    pub show_giver: bool,
}

/// Sum of the gifts in minor units (exact; never rounded).
pub fn total(gifts: &[Gift]) -> i64 {
    gifts.iter().map(|g| g.amount_minor).sum()
}

/// The statement as PDF bytes, in the reader's language.
pub fn pdf(s: &Statement<'_>, t: &Translator) -> Result<Vec<u8>, crate::pdf::PdfError> {
    let brand = Brand {
        name: s.tenant.name.clone(),
        accent: Colour::from_hex(crate::tenancy::MISSION_ACCENT, Colour::TEXT),
        logo: None,
    };
    let year = s.year.to_string();
    let title = t.arg("mission-statement-title", "year", &year);
    let mut doc = Pdf::new(brand, title.clone());
    let org: Vec<&str> = std::iter::once(s.tenant.name.as_str())
        .chain(s.settings.org_address.lines())
        .collect();
    let tax = (!s.settings.tax_id.is_empty())
        .then(|| t.arg("mission-statement-tax-id", "id", &s.settings.tax_id));
    let mut org = org;
    if let Some(tax) = tax.as_deref() {
        org.push(tax);
    }
    let member: Vec<&str> = std::iter::once(s.member_name)
        .chain(s.member_address.lines())
        .collect();
    doc.heading(&title);
    doc.two_columns(&org, &member);
    let currency = s
        .gifts
        .first()
        .map(|g| g.currency.clone())
        .unwrap_or_else(|| s.settings.currency.clone());
    let rows: Vec<Vec<String>> = s
        .gifts
        .iter()
        .map(|g| {
            let mut row = vec![g.given_on.clone()];
            if s.show_giver {
                row.push(g.member_name.clone());
            }
            row.extend([
                g.fund_name.clone(),
                t.get(&format!("mission-method-{}", g.method)),
                t.money(g.amount_minor, &g.currency),
            ]);
            row
        })
        .collect();
    if rows.is_empty() {
        doc.paragraph(&t.get("mission-statement-none"));
    } else {
        let mut columns = vec![Column::new(t.get("mission-date"), 2.0, Align::Left)];
        if s.show_giver {
            columns.push(Column::new(t.get("households-giver"), 3.0, Align::Left));
        }
        columns.extend([
            Column::new(t.get("mission-fund"), 3.0, Align::Left),
            Column::new(t.get("mission-method"), 2.0, Align::Left),
            Column::new(t.get("mission-amount"), 2.0, Align::Right),
        ]);
        doc.table(&columns, &rows);
    }
    let sum = t.money(total(s.gifts), &currency);
    doc.totals(&[(&t.get("mission-statement-total"), &sum, true)]);
    let wording = if s.settings.statement_wording.is_empty() {
        t.get("mission-statement-default-wording")
    } else {
        s.settings.statement_wording.clone()
    };
    doc.paragraph(&wording);
    doc.footer(s.tenant.name.clone());
    doc.finish()
}

/// The gifts as CSV (raw codes and plain decimals, for spreadsheets).
pub fn csv(gifts: &[Gift]) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["date", "fund", "method", "recurring", "amount", "currency"])?;
    for g in gifts {
        w.write_record([
            crate::text::csv_cell(&g.given_on).as_ref(),
            crate::text::csv_cell(&g.fund_name).as_ref(),
            g.method.as_str(),
            if g.recurring { "yes" } else { "no" },
            crate::mission::plain_amount(g.amount_minor).as_str(),
            g.currency.as_str(),
        ])?;
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}
