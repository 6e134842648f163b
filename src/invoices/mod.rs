//! Invoices: the pure rules (statuses, money arithmetic, tax rounding, field checks). SQL is in
//! `store`, one-transaction actions in `service`, the portal side in `routes`, the staff side in
//! `admin`, the daily overdue job in `overdue`, demo data in `demo`.
//!
//! Money is always an integer of minor units (cents) beside an ISO currency code, never a float.
//! Quantities are integer thousandths (`1.5` hours is `1500`), so "1.25 h × $120.00" is exact.
//!
//! **Rounding rule.** A line's amount is `quantity × unit price`, rounded half away from zero to
//! the cent. Tax is computed **per invoice and per rate**: the amounts of all lines carrying the
//! same rate are summed, multiplied by the rate, and rounded once, half away from zero (the
//! common "half-up" of invoices and of most VAT rules). Rounding once per rate, not per line,
//! keeps an invoice of many small lines from drifting by a cent per line.

pub mod admin;
pub mod demo;
pub mod overdue;
pub mod pdf;
pub mod routes;
pub mod service;
pub mod store;

use serde::{Deserialize, Serialize};

use crate::error::{AppError, FieldError};

/// The life of an invoice. `Draft` is staff-only; `Paid` and `Void` are final.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Being prepared; invisible to clients.
    Draft,
    /// Sent to the company, not yet due.
    Sent,
    /// Fully paid.
    Paid,
    /// Sent and past its due date with a balance.
    Overdue,
    /// Cancelled; cannot be paid.
    Void,
}

/// Every status, in list order.
pub const ALL_STATUSES: [Status; 5] = [
    Status::Draft,
    Status::Sent,
    Status::Paid,
    Status::Overdue,
    Status::Void,
];

impl Status {
    /// Stored and API name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Sent => "sent",
            Status::Paid => "paid",
            Status::Overdue => "overdue",
            Status::Void => "void",
        }
    }

    /// Parses a stored or submitted name.
    pub fn parse(s: &str) -> Option<Status> {
        ALL_STATUSES.into_iter().find(|x| x.as_str() == s)
    }

    /// Catalog key of the label.
    pub fn label_key(self) -> &'static str {
        match self {
            Status::Draft => "invoice-status-draft",
            Status::Sent => "invoice-status-sent",
            Status::Paid => "invoice-status-paid",
            Status::Overdue => "invoice-status-overdue",
            Status::Void => "invoice-status-void",
        }
    }

    /// True when money can still be received against it.
    pub fn payable(self) -> bool {
        matches!(self, Status::Sent | Status::Overdue)
    }
}

/// Rounds `num / den` to the nearest integer, halves away from zero (`den > 0`).
pub fn div_round_half_up(num: i128, den: i128) -> i128 {
    let q = num / den;
    let r = num % den;
    if 2 * r.abs() >= den {
        q + num.signum()
    } else {
        q
    }
}

/// A line's amount in minor units: quantity (thousandths) × unit price, rounded half-up.
pub fn line_amount(quantity_milli: i64, unit_price: i64) -> i64 {
    let v = div_round_half_up(quantity_milli as i128 * unit_price as i128, 1000);
    v.clamp(i64::MIN as i128, i64::MAX as i128) as i64
}

/// Tax on `base` minor units at `rate_bp` basis points (825 = 8.25 %), rounded half-up.
pub fn tax_amount(base: i64, rate_bp: i64) -> i64 {
    let v = div_round_half_up(base as i128 * rate_bp as i128, 10_000);
    v.clamp(i64::MIN as i128, i64::MAX as i128) as i64
}

/// What an invoice's lines add up to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Totals {
    /// Sum of line amounts.
    pub subtotal: i64,
    /// One entry per distinct tax (name and rate), in first-use order.
    pub taxes: Vec<TaxLine>,
    /// Sum of the taxes.
    pub tax_total: i64,
    /// Subtotal plus taxes.
    pub total: i64,
}

/// One tax on an invoice.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct TaxLine {
    /// Name of the rate ("Sales tax").
    pub name: String,
    /// Rate in basis points.
    pub rate_bp: i64,
    /// Sum of the line amounts it applies to.
    pub base: i64,
    /// The tax, rounded once per rate.
    pub amount: i64,
}

/// Totals of lines given as `(amount, optional (tax name, rate))`, by the rule in the module
/// documentation.
pub fn totals<'a>(lines: impl IntoIterator<Item = (i64, Option<(&'a str, i64)>)>) -> Totals {
    let mut subtotal = 0i64;
    let mut taxes: Vec<TaxLine> = Vec::new();
    for (amount, tax) in lines {
        subtotal = subtotal.saturating_add(amount);
        if let Some((name, rate)) = tax {
            match taxes
                .iter_mut()
                .find(|t| t.name == name && t.rate_bp == rate)
            {
                Some(t) => t.base = t.base.saturating_add(amount),
                None => taxes.push(TaxLine {
                    name: name.to_string(),
                    rate_bp: rate,
                    base: amount,
                    amount: 0,
                }),
            }
        }
    }
    for t in &mut taxes {
        t.amount = tax_amount(t.base, t.rate_bp);
    }
    let tax_total = taxes.iter().map(|t| t.amount).sum::<i64>();
    Totals {
        subtotal,
        tax_total,
        total: subtotal.saturating_add(tax_total),
        taxes,
    }
}

/// Parses a decimal with at most `places` fractional digits into an integer scaled by
/// 10^places ("1.5" with 3 places is 1500). Accepts "," as the decimal mark too.
pub fn parse_scaled(s: &str, places: u32) -> Option<i64> {
    let s = s.trim().replace(',', ".");
    let (neg, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest.to_string()),
        None => (false, s),
    };
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i.to_string(), f.to_string()),
        None => (s.clone(), String::new()),
    };
    if int.is_empty() && frac.is_empty()
        || !int.chars().all(|c| c.is_ascii_digit())
        || !frac.chars().all(|c| c.is_ascii_digit())
        || frac.len() > places as usize
        || int.len() > 12
    {
        return None;
    }
    let int: i64 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let mut frac_v: i64 = if frac.is_empty() {
        0
    } else {
        frac.parse().ok()?
    };
    for _ in frac.len()..places as usize {
        frac_v *= 10;
    }
    let v = int.checked_mul(10i64.pow(places))?.checked_add(frac_v)?;
    Some(if neg { -v } else { v })
}

/// Shows an integer scaled by 10^places without trailing zeros ("1500" → "1.5").
pub fn format_scaled(v: impl crate::i18n::Int, places: u32) -> String {
    let v = v.int();
    let p = 10i64.pow(places);
    let sign = if v < 0 { "-" } else { "" };
    let (i, f) = (v.unsigned_abs() / p as u64, v.unsigned_abs() % p as u64);
    if f == 0 {
        return format!("{sign}{i}");
    }
    let frac = format!("{f:0width$}", width = places as usize);
    format!("{sign}{i}.{}", frac.trim_end_matches('0'))
}

/// A quantity in thousandths as people write it ("1.5").
pub fn quantity_text(milli: i64) -> String {
    format_scaled(milli, 3)
}

/// Minor units as a plain decimal for form fields ("1234.50").
pub fn amount_text(minor: impl crate::i18n::Int) -> String {
    let minor = minor.int();
    let sign = if minor < 0 { "-" } else { "" };
    format!(
        "{sign}{}.{:02}",
        minor.unsigned_abs() / 100,
        minor.unsigned_abs() % 100
    )
}

/// Largest quantity on a line (one million units).
pub const MAX_QUANTITY_MILLI: i64 = 1_000_000_000;
/// Largest unit price (ten million in major units).
pub const MAX_UNIT_PRICE: i64 = 1_000_000_000;

/// A checked line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineInput {
    /// What was delivered.
    pub description: String,
    /// Quantity in thousandths.
    pub quantity_milli: i64,
    /// Unit price in minor units.
    pub unit_price: i64,
    /// Tax rate id, if taxed.
    pub tax_rate_id: Option<String>,
}

/// Checks a line as typed; errors name the fields.
pub fn check_line(
    description: &str,
    quantity: &str,
    unit_price: &str,
    tax_rate_id: &str,
) -> Result<LineInput, AppError> {
    let mut errs = Vec::new();
    let description = description.trim().to_string();
    if description.is_empty() || description.chars().count() > 300 {
        errs.push(FieldError {
            field: "description".into(),
            message: "invoice-error-description".into(),
        });
    }
    let q = parse_scaled(quantity, 3).filter(|q| *q > 0 && *q <= MAX_QUANTITY_MILLI);
    if q.is_none() {
        errs.push(FieldError {
            field: "quantity".into(),
            message: "invoice-error-quantity".into(),
        });
    }
    let p = parse_scaled(unit_price, 2).filter(|p| p.abs() <= MAX_UNIT_PRICE);
    if p.is_none() {
        errs.push(FieldError {
            field: "unit_price".into(),
            message: "invoice-error-unit-price".into(),
        });
    }
    match (q, p) {
        (Some(quantity_milli), Some(unit_price)) if errs.is_empty() => Ok(LineInput {
            description,
            quantity_milli,
            unit_price,
            tax_rate_id: Some(tax_rate_id.trim().to_string()).filter(|s| !s.is_empty()),
        }),
        _ => Err(AppError::fields(errs)),
    }
}

/// Checks an ISO date (`YYYY-MM-DD`).
pub fn check_date(field: &str, s: &str) -> Result<String, AppError> {
    chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map(|d| d.format("%Y-%m-%d").to_string())
        .map_err(|_| AppError::field(field, "invoice-error-date"))
}

/// Today's date in the IANA zone `zone` (UTC when unknown) as `YYYY-MM-DD`: the day the overdue
/// rule compares due dates with.
pub fn today_in(zone: &str) -> String {
    let tz: chrono_tz::Tz = zone.parse().unwrap_or(chrono_tz::UTC);
    chrono::Utc::now()
        .with_timezone(&tz)
        .date_naive()
        .format("%Y-%m-%d")
        .to_string()
}

/// Today's date in UTC (`YYYY-MM-DD`).
pub fn today() -> String {
    chrono::Utc::now()
        .date_naive()
        .format("%Y-%m-%d")
        .to_string()
}

/// Unix milliseconds of the start (UTC) of an ISO date, for the date helpers of pages.
pub fn date_ms(date: &str) -> i64 {
    chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(12, 0, 0))
        .map(|d| d.and_utc().timestamp_millis())
        .unwrap_or(0)
}

/// Checks a currency code (three capital letters).
pub fn check_currency(s: &str) -> Result<String, AppError> {
    let s = s.trim().to_ascii_uppercase();
    if s.len() == 3 && s.chars().all(|c| c.is_ascii_uppercase()) {
        Ok(s)
    } else {
        Err(AppError::field("currency", "invoice-error-currency"))
    }
}

/// Catalog key of a payment method's label.
pub fn method_key(method: &str) -> String {
    format!("invoice-method-{}", method.replace('_', "-"))
}

/// Catalog key of a client role's label, for the settings page.
pub fn role_label_key(role: &str) -> String {
    crate::auth::Role::from_key(role)
        .map(|r| crate::i18n::key_for("role", r.label()))
        .unwrap_or_default()
}

/// Client roles a tenant may additionally allow to see invoices (the company admin always can).
pub const EXTRA_VIEWER_ROLES: [&str; 2] = ["client_user", "client_viewer"];

#[cfg(test)]
mod tests {
    #[test]
    fn today_follows_the_tenant_zone() {
        // UTC+14 and UTC-11 are always on different calendar days.
        assert!(super::today_in("Pacific/Kiritimati") > super::today_in("Pacific/Pago_Pago"));
        assert_eq!(super::today_in("Nowhere/Else"), super::today_in("UTC"));
    }

    use super::*;

    #[test]
    fn half_up_rounds_halves_away_from_zero() {
        assert_eq!(div_round_half_up(5, 10), 1);
        assert_eq!(div_round_half_up(4, 10), 0);
        assert_eq!(div_round_half_up(15, 10), 2);
        assert_eq!(div_round_half_up(25, 10), 3, "not banker's rounding");
        assert_eq!(div_round_half_up(-5, 10), -1);
        assert_eq!(div_round_half_up(-4, 10), 0);
    }

    #[test]
    fn line_amounts_use_thousandths() {
        // 1.5 h at $120.00
        assert_eq!(line_amount(1500, 12000), 18000);
        // 0.333 × $10.00 = $3.33
        assert_eq!(line_amount(333, 1000), 333);
        // 2.5 × $0.99 = 2.475 → $2.48 (half-up)
        assert_eq!(line_amount(2500, 99), 248);
        // 1.005 × $1.00 = 1.005 → $1.01
        assert_eq!(line_amount(1005, 100), 101);
        assert_eq!(line_amount(1000, -500), -500);
    }

    #[test]
    fn tax_is_rounded_once_per_rate() {
        // Three lines of $0.10 at 5 %: per line 0.5¢ each would round to 1¢ × 3 = 3¢;
        // once per rate it is 1.5¢ → 2¢.
        let t = totals([
            (10, Some(("VAT", 500))),
            (10, Some(("VAT", 500))),
            (10, Some(("VAT", 500))),
            (1000, None),
        ]);
        assert_eq!(t.subtotal, 1030);
        assert_eq!(t.taxes.len(), 1);
        assert_eq!(t.taxes[0].base, 30);
        assert_eq!(t.taxes[0].amount, 2);
        assert_eq!(t.total, 1032);
        // 8.25 % of $18.00 = 148.5¢ → 149¢
        assert_eq!(tax_amount(1800, 825), 149);
        // Two rates stay separate.
        let t = totals([
            (10000, Some(("Sales tax", 825))),
            (5000, Some(("Service tax", 500))),
        ]);
        assert_eq!(
            t.taxes.iter().map(|x| x.amount).collect::<Vec<_>>(),
            vec![825, 250]
        );
        assert_eq!(t.tax_total, 1075);
    }

    #[test]
    fn decimals_parse_and_print() {
        assert_eq!(parse_scaled("1.5", 3), Some(1500));
        assert_eq!(parse_scaled("1,25", 3), Some(1250));
        assert_eq!(parse_scaled("2", 3), Some(2000));
        assert_eq!(parse_scaled(".5", 3), Some(500));
        assert_eq!(parse_scaled("1.2345", 3), None);
        assert_eq!(parse_scaled("abc", 3), None);
        assert_eq!(parse_scaled("", 3), None);
        assert_eq!(parse_scaled("99.99", 2), Some(9999));
        assert_eq!(quantity_text(1500), "1.5");
        assert_eq!(quantity_text(2000), "2");
        assert_eq!(quantity_text(333), "0.333");
        assert_eq!(amount_text(123450), "1234.50");
    }

    #[test]
    fn lines_are_checked() {
        assert!(check_line("Support", "1.5", "120", "").is_ok());
        assert!(check_line("", "1", "1", "").is_err());
        assert!(check_line("x", "0", "1", "").is_err());
        assert!(check_line("x", "1", "1.234", "").is_err());
        assert_eq!(check_currency("usd").ok().as_deref(), Some("USD"));
        assert!(check_currency("US").is_err());
        assert!(check_date("due_date", "2026-02-30").is_err());
    }
}
