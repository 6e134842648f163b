//! Billing beyond single invoices: the subscriptions of client companies (staff maintain them
//! on the company page, clients see them with their upcoming charges on `/portal/billing`), the
//! company's billing contacts, and the account statement (PDF and CSV). Pure rules here, SQL in
//! `store`, one-transaction actions in `service`, pages and API in `routes` (client) and
//! `admin` (staff), the statement in `statement`, demo data in `demo`.
//!
//! Money follows `crate::invoices`: integer minor units beside the tenant's currency, quantities
//! in integer thousandths, a charge is `quantity × unit price` rounded half away from zero.

pub mod admin;
pub mod autopay;
pub mod demo;
pub mod routes;
pub mod service;
pub mod statement;
pub mod store;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::error::{AppError, FieldError};
use crate::i18n::k;

/// How often a subscription is charged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Cycle {
    /// Every month on the same day.
    Monthly,
    /// Every year on the same date.
    Annual,
}

impl Cycle {
    /// Stored and API name.
    pub fn as_str(self) -> &'static str {
        match self {
            Cycle::Monthly => "monthly",
            Cycle::Annual => "annual",
        }
    }

    /// Parses a stored or submitted name.
    pub fn parse(s: &str) -> Option<Cycle> {
        [Cycle::Monthly, Cycle::Annual]
            .into_iter()
            .find(|c| c.as_str() == s.trim())
    }

    /// Catalog key of the label.
    pub fn label_key(self) -> &'static str {
        match self {
            Cycle::Monthly => "subscription-cycle-monthly",
            Cycle::Annual => "subscription-cycle-annual",
        }
    }

    /// The billing date one cycle after `d`; a day the month lacks becomes its last day.
    pub fn after(self, d: NaiveDate) -> NaiveDate {
        let months = match self {
            Cycle::Monthly => 1,
            Cycle::Annual => 12,
        };
        d.checked_add_months(chrono::Months::new(months))
            .unwrap_or(d)
    }
}

/// Every cycle, in form order.
pub const CYCLES: [Cycle; 2] = [Cycle::Monthly, Cycle::Annual];

/// Where a subscription stands. Only `Active` ones produce upcoming charges.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SubStatus {
    /// Charged every cycle.
    Active,
    /// Kept, not charged for now.
    Paused,
    /// Ended; kept for the record.
    Cancelled,
}

/// Every status, in form order.
pub const STATUSES: [SubStatus; 3] = [SubStatus::Active, SubStatus::Paused, SubStatus::Cancelled];

impl SubStatus {
    /// Stored and API name.
    pub fn as_str(self) -> &'static str {
        match self {
            SubStatus::Active => "active",
            SubStatus::Paused => "paused",
            SubStatus::Cancelled => "cancelled",
        }
    }

    /// Parses a stored or submitted name.
    pub fn parse(s: &str) -> Option<SubStatus> {
        STATUSES.into_iter().find(|x| x.as_str() == s.trim())
    }

    /// Catalog key of the label.
    pub fn label_key(self) -> &'static str {
        match self {
            SubStatus::Active => "subscription-status-active",
            SubStatus::Paused => "subscription-status-paused",
            SubStatus::Cancelled => "subscription-status-cancelled",
        }
    }
}

/// A subscription's fields as typed by staff (form or JSON).
#[derive(Clone, Debug, Default, Deserialize, schemars::JsonSchema)]
pub struct SubscriptionInput {
    /// Service name, e.g. "Managed backup".
    #[serde(default)]
    pub name: String,
    /// Quantity; decimals allowed (three places).
    #[serde(default)]
    pub quantity: String,
    /// Unit price per cycle in the tenant's currency, e.g. "45.00".
    #[serde(default)]
    pub unit_price: String,
    /// `monthly` or `annual`.
    #[serde(default)]
    pub cycle: String,
    /// Next billing date (`YYYY-MM-DD`).
    #[serde(default)]
    pub next_billing_date: String,
    /// `active`, `paused` or `cancelled`; `active` when empty.
    #[serde(default)]
    pub status: String,
    /// Id in the PSA, for imported subscriptions.
    #[serde(default)]
    pub external_id: Option<String>,
}

/// Checked subscription fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checked {
    /// Trimmed name.
    pub name: String,
    /// Quantity in thousandths.
    pub quantity_milli: i64,
    /// Unit price in minor units.
    pub unit_price: i64,
    /// Billing cycle.
    pub cycle: Cycle,
    /// `YYYY-MM-DD`.
    pub next_billing_date: String,
    /// Status.
    pub status: SubStatus,
    /// External id, when given.
    pub external_id: Option<String>,
}

/// Checks every field, naming each bad one.
pub fn check(input: &SubscriptionInput) -> Result<Checked, AppError> {
    let mut errs: Vec<FieldError> = Vec::new();
    let mut bad = |field: &str, key: &'static str| {
        errs.push(FieldError {
            field: field.into(),
            message: key.into(),
        })
    };
    let name = input.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 200 {
        bad("name", k("subscription-error-name"));
    }
    let quantity =
        crate::invoices::parse_scaled(&input.quantity, 3).filter(|q| *q > 0 && *q <= 1_000_000_000);
    if quantity.is_none() {
        bad("quantity", k("subscription-error-quantity"));
    }
    let price = crate::invoices::parse_scaled(&input.unit_price, 2)
        .filter(|p| *p >= 0 && *p <= 100_000_000_000);
    if price.is_none() {
        bad("unit_price", k("subscription-error-price"));
    }
    let cycle = Cycle::parse(&input.cycle);
    if cycle.is_none() {
        bad("cycle", k("subscription-error-cycle"));
    }
    let date = NaiveDate::parse_from_str(input.next_billing_date.trim(), "%Y-%m-%d")
        .ok()
        .filter(|d| d.year() >= 2000 && d.year() <= 2200);
    if date.is_none() {
        bad("next_billing_date", k("subscription-error-date"));
    }
    let status = if input.status.trim().is_empty() {
        Some(SubStatus::Active)
    } else {
        SubStatus::parse(&input.status)
    };
    if status.is_none() {
        bad("status", k("subscription-error-status"));
    }
    let external_id = input
        .external_id
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    if external_id
        .as_ref()
        .is_some_and(|e| e.chars().count() > 100)
    {
        bad("external_id", k("subscription-error-external"));
    }
    match (quantity, price, cycle, date, status) {
        (Some(q), Some(p), Some(c), Some(d), Some(s)) if errs.is_empty() => Ok(Checked {
            name,
            quantity_milli: q,
            unit_price: p,
            cycle: c,
            next_billing_date: d.format("%Y-%m-%d").to_string(),
            status: s,
            external_id,
        }),
        _ => Err(AppError::fields(errs)),
    }
}

/// One charge to come.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Charge {
    /// Billing date (`YYYY-MM-DD`).
    pub date: String,
    /// Subscription name.
    pub name: String,
    /// Amount in minor units.
    pub amount: i64,
    /// Currency.
    pub currency: String,
}

/// The charges of active subscriptions falling on or after `today` and before `until`, by date
/// then name. Billing dates already past still count once (on `today`): the charge is due.
pub fn upcoming(subs: &[store::Subscription], today: NaiveDate, until: NaiveDate) -> Vec<Charge> {
    let mut out = Vec::new();
    for s in subs.iter().filter(|s| s.status == SubStatus::Active) {
        let Ok(mut d) = NaiveDate::parse_from_str(&s.next_billing_date, "%Y-%m-%d") else {
            continue;
        };
        if d < today {
            d = today;
        }
        while d < until {
            out.push(Charge {
                date: d.format("%Y-%m-%d").to_string(),
                name: s.name.clone(),
                amount: s.amount,
                currency: s.currency.clone(),
            });
            let next = s.cycle.after(d);
            if next <= d {
                break;
            }
            d = next;
        }
    }
    out.sort_by(|a, b| a.date.cmp(&b.date).then_with(|| a.name.cmp(&b.name)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cycles_step_and_clamp_month_ends() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(Cycle::Monthly.after(d("2026-01-31")), d("2026-02-28"));
        assert_eq!(Cycle::Annual.after(d("2028-02-29")), d("2029-02-28"));
    }

    #[test]
    fn check_names_each_bad_field() {
        let e = check(&SubscriptionInput {
            quantity: "0".into(),
            unit_price: "1.234".into(),
            cycle: "weekly".into(),
            ..Default::default()
        });
        match e {
            Err(AppError::Validation { fields, .. }) => {
                let names: Vec<_> = fields.iter().map(|f| f.field.as_str()).collect();
                assert_eq!(
                    names,
                    [
                        "name",
                        "quantity",
                        "unit_price",
                        "cycle",
                        "next_billing_date"
                    ]
                );
            }
            other => panic!("{other:?}"),
        }
    }
}
