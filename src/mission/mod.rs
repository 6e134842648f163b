//! The Mission portal (churches and nonprofits): giving, the member directory and the prayer
//! wall under `/portal/mission/*`, with the staff side under `/admin/mission/*`.
//!
//! Member-facing reads and writes go through [`source::MissionSource`], so a tenant can be served
//! from Portico's own tables (built-in, the default) or, later, from a remote Mission API. The
//! pure rules (money, dates, privacy) live here; each area keeps its SQL beside its service.

pub mod dashboard;
pub mod demo;
pub mod directory;
pub mod events;
pub mod giving;
pub mod groups;
pub mod households;
pub mod prayer;
pub mod settings;
pub mod source;
pub mod statements;

use chrono::{Datelike, NaiveDate, TimeZone};
use chrono_tz::Tz;

use crate::http::{ApiRouter, PageRouter};

/// Longest free text a member may post (prayer requests, praise reports).
pub const BODY_MAX: usize = 2000;

/// Every Mission page.
pub fn pages() -> PageRouter {
    giving::routes::pages()
        .merge(directory::routes::pages())
        .merge(prayer::routes::pages())
        .merge(events::routes::pages())
        .merge(groups::routes::pages())
        .merge(households::routes::pages())
        .merge(statements::routes::pages())
        .merge(dashboard::pages())
        .merge(settings::pages())
}

/// Every Mission JSON route (member and staff).
pub fn api() -> ApiRouter {
    giving::routes::api()
        .merge(directory::routes::api())
        .merge(prayer::routes::api())
        .merge(events::routes::api())
        .merge(groups::routes::api())
        .merge(households::routes::api())
        .merge(statements::routes::api())
}

/// Parses an amount typed by a person (`12`, `12.5`, `1,234.50`) into minor units. More than two
/// decimals is refused rather than rounded: a gift is never silently changed.
pub fn parse_amount(text: &str) -> Result<i64, &'static str> {
    let t = text.trim().replace([',', ' ', '$', '€', '£'], "");
    if t.is_empty() {
        return Err("mission-error-amount-missing");
    }
    let (units, cents) = match t.split_once('.') {
        Some((u, c)) => (u, c),
        None => (t.as_str(), ""),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(units) || !(cents.is_empty() || digits(cents)) {
        return Err("mission-error-amount-invalid");
    }
    if cents.len() > 2 {
        return Err("mission-error-amount-decimals");
    }
    let units: i64 = units.parse().map_err(|_| "mission-error-amount-invalid")?;
    let cents: i64 = if cents.is_empty() {
        0
    } else {
        format!("{cents:0<2}")
            .parse()
            .map_err(|_| "mission-error-amount-invalid")?
    };
    let total = units
        .checked_mul(100)
        .and_then(|u| u.checked_add(cents))
        .ok_or("mission-error-amount-invalid")?;
    if total <= 0 {
        return Err("mission-error-amount-positive");
    }
    if total > 10_000_000_000 {
        return Err("mission-error-amount-large");
    }
    Ok(total)
}

/// Minor units as a plain decimal (`1234.50`) for CSV files.
pub fn plain_amount(minor: i64) -> String {
    format!(
        "{}{}.{:02}",
        if minor < 0 { "-" } else { "" },
        (minor / 100).abs(),
        (minor % 100).abs()
    )
}

/// The calendar day an instant falls on in the tenant's zone: a gift made at 23:30 on
/// 31 December in Chicago belongs to that year's statement even though it is already January in
/// UTC.
pub fn local_date(ms: i64, tz: Tz) -> Option<NaiveDate> {
    chrono::DateTime::from_timestamp_millis(ms).map(|d| d.with_timezone(&tz).date_naive())
}

/// Parses `YYYY-MM-DD`.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()
}

/// Today in the tenant's zone.
pub fn today(tz: Tz) -> NaiveDate {
    chrono::Utc::now().with_timezone(&tz).date_naive()
}

/// The tenant's zone (UTC when unset or unknown).
pub fn tenant_zone(name: &str) -> Tz {
    name.parse().unwrap_or(Tz::UTC)
}

/// Unix ms of local midnight starting `date` in `tz` (for showing a date as a time).
pub fn date_ms(date: NaiveDate, tz: Tz) -> i64 {
    date.and_hms_opt(12, 0, 0)
        .and_then(|d| tz.from_local_datetime(&d).earliest())
        .map(|d| d.timestamp_millis())
        .unwrap_or_default()
}

/// The year of a stored `YYYY-MM-DD` day.
pub fn year_of(day: &str) -> i32 {
    parse_date(day).map(|d| d.year()).unwrap_or_default()
}

/// A one-line free-text field, trimmed and bounded.
pub fn line(field: &str, text: &str, max: usize) -> Result<String, crate::error::FieldError> {
    crate::text::single_line(field, text.trim(), max)
}

/// Multi-line free text, trimmed and bounded; `missing` is the error when it is empty.
pub fn body(
    field: &str,
    text: &str,
    missing: &'static str,
) -> Result<String, crate::error::FieldError> {
    let t = text.trim();
    let err = |m: &str| crate::error::FieldError {
        field: field.into(),
        message: m.into(),
    };
    if t.is_empty() {
        return Err(err(missing));
    }
    if t.chars().count() > BODY_MAX {
        return Err(err("mission-error-too-long"));
    }
    crate::text::multi_line(field, &t.replace("\r\n", "\n"), BODY_MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_exact_minor_units() {
        assert_eq!(parse_amount("12"), Ok(1200));
        assert_eq!(parse_amount("12.5"), Ok(1250));
        assert_eq!(parse_amount("1,234.05"), Ok(123_405));
        assert_eq!(parse_amount(" $0.10 "), Ok(10));
        assert_eq!(parse_amount("10.005"), Err("mission-error-amount-decimals"));
        assert_eq!(parse_amount("0"), Err("mission-error-amount-positive"));
        assert_eq!(parse_amount("-5"), Err("mission-error-amount-invalid"));
        assert_eq!(parse_amount("abc"), Err("mission-error-amount-invalid"));
        assert_eq!(plain_amount(123_405), "1234.05");
        // Ten gifts of 0.10 total exactly 1.00: no float ever touches money.
        let sum: i64 = (0..10).filter_map(|_| parse_amount("0.10").ok()).sum();
        assert_eq!(plain_amount(sum), "1.00");
    }

    #[test]
    fn the_local_day_decides_the_year() {
        let chicago: Tz = "America/Chicago".parse().unwrap_or(Tz::UTC);
        // 2026-01-01 04:30 UTC is still New Year's Eve in Chicago.
        let ms = chrono::Utc
            .with_ymd_and_hms(2026, 1, 1, 4, 30, 0)
            .single()
            .map(|d| d.timestamp_millis())
            .unwrap_or_default();
        assert_eq!(local_date(ms, chicago).map(|d| d.year()), Some(2025));
        assert_eq!(local_date(ms, Tz::UTC).map(|d| d.year()), Some(2026));
    }
}
