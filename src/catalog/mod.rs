//! The service catalog: staff describe the services clients may request (with an SLA and a
//! request form), clients browse and submit them, and each request becomes a ticket.
//!
//! This file holds the pure rules (form fields, answer validation, SLA wording and due times);
//! `store` the SQL, `service` the one-transaction actions, `routes` the pages and API.

pub mod demo;
pub mod routes;
pub mod service;
pub mod store;

use std::collections::BTreeMap;

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Timelike, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::FieldError;
use crate::i18n::{Arg, Translator, k};

/// The kinds of request-form field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    /// One line of text.
    ShortText,
    /// Several lines of text.
    LongText,
    /// A number.
    Number,
    /// A calendar date (YYYY-MM-DD).
    Date,
    /// One of the choices.
    SingleChoice,
    /// Any of the choices.
    MultipleChoice,
    /// A yes/no tick.
    Checkbox,
    /// An email address.
    Email,
}

/// Every field kind, in the designer's order.
pub const FIELD_KINDS: [FieldKind; 8] = [
    FieldKind::ShortText,
    FieldKind::LongText,
    FieldKind::Number,
    FieldKind::Date,
    FieldKind::SingleChoice,
    FieldKind::MultipleChoice,
    FieldKind::Checkbox,
    FieldKind::Email,
];

impl FieldKind {
    /// Stored code.
    pub fn as_str(self) -> &'static str {
        match self {
            FieldKind::ShortText => "short_text",
            FieldKind::LongText => "long_text",
            FieldKind::Number => "number",
            FieldKind::Date => "date",
            FieldKind::SingleChoice => "single_choice",
            FieldKind::MultipleChoice => "multiple_choice",
            FieldKind::Checkbox => "checkbox",
            FieldKind::Email => "email",
        }
    }

    /// Parses a stored code.
    pub fn parse(s: &str) -> Option<FieldKind> {
        FIELD_KINDS.into_iter().find(|f| f.as_str() == s)
    }

    /// Catalog key of the kind's name.
    pub fn label_key(self) -> &'static str {
        match self {
            FieldKind::ShortText => "catalog-kind-short-text",
            FieldKind::LongText => "catalog-kind-long-text",
            FieldKind::Number => "catalog-kind-number",
            FieldKind::Date => "catalog-kind-date",
            FieldKind::SingleChoice => "catalog-kind-single-choice",
            FieldKind::MultipleChoice => "catalog-kind-multiple-choice",
            FieldKind::Checkbox => "catalog-kind-checkbox",
            FieldKind::Email => "catalog-kind-email",
        }
    }

    /// Whether the kind offers choices.
    pub fn has_choices(self) -> bool {
        matches!(self, FieldKind::SingleChoice | FieldKind::MultipleChoice)
    }

    /// The `type` of the `<input>` that mirrors the server's check in the browser.
    pub fn input_type(self) -> &'static str {
        match self {
            FieldKind::Number => "number",
            FieldKind::Date => "date",
            FieldKind::Email => "email",
            _ => "text",
        }
    }
}

/// One field of a request form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FormField {
    /// Stable key, kept across versions while the field exists (answers are stored by it).
    pub key: String,
    /// Question shown to the client.
    pub label: String,
    /// Kind.
    pub kind: FieldKind,
    /// Help line under the question.
    #[serde(default)]
    pub help: String,
    /// Must be answered.
    #[serde(default)]
    pub required: bool,
    /// Choices of the choice kinds.
    #[serde(default)]
    pub choices: Vec<String>,
}

/// Longest label, help line or choice.
const MAX_LABEL: usize = 200;
/// Most fields on one form.
pub const MAX_FIELDS: usize = 40;
/// Longest short-text answer.
const MAX_SHORT: usize = 200;
/// Longest long-text answer.
const MAX_LONG: usize = 5000;

fn err(field: &str, key: &'static str) -> FieldError {
    FieldError {
        field: field.into(),
        message: k(key).into(),
    }
}

/// Checks a designed form: labels present, choices for the choice kinds, keys unique and
/// well-formed. Errors name the field as `field-<index>`.
pub fn check_form(fields: &[FormField]) -> Result<(), Vec<FieldError>> {
    let mut errors = Vec::new();
    if fields.len() > MAX_FIELDS {
        errors.push(err("fields", "catalog-error-too-many-fields"));
    }
    let mut seen = std::collections::BTreeSet::new();
    for (i, f) in fields.iter().enumerate() {
        let name = format!("field-{i}");
        let key_ok = !f.key.is_empty()
            && f.key.len() <= 40
            && f.key
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !key_ok || !seen.insert(f.key.clone()) {
            errors.push(err(&name, "catalog-error-field-key"));
        } else if f.label.trim().is_empty() || f.label.chars().count() > MAX_LABEL {
            errors.push(err(&name, "catalog-error-field-label"));
        } else if f.help.chars().count() > MAX_LABEL {
            errors.push(err(&name, "catalog-error-field-help"));
        } else if f.kind.has_choices()
            && (f.choices.is_empty()
                || f.choices
                    .iter()
                    .any(|c| c.trim().is_empty() || c.chars().count() > MAX_LABEL))
        {
            errors.push(err(&name, "catalog-error-field-choices"));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// A checked answer set: field key → value (text as a string, a multiple choice as an array,
/// a checkbox as a boolean). Unanswered optional fields are left out.
pub type Answers = BTreeMap<String, Value>;

fn valid_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    s.len() <= 254
        && !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !s.chars().any(char::is_whitespace)
}

fn is_ticked(v: &str) -> bool {
    matches!(v, "on" | "true" | "1" | "yes")
}

/// Validates raw answers (each field's submitted values, by key) against a form; returns the
/// answers to store or every problem at once, each on the field's key.
pub fn validate(
    fields: &[FormField],
    raw: &BTreeMap<String, Vec<String>>,
) -> Result<Answers, Vec<FieldError>> {
    let mut out = Answers::new();
    let mut errors = Vec::new();
    for f in fields {
        let values: Vec<String> = raw
            .get(&f.key)
            .map(|v| {
                v.iter()
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        let first = values.first().cloned().unwrap_or_default();
        let missing = match f.kind {
            FieldKind::Checkbox => !values.iter().any(|v| is_ticked(v)),
            _ => values.is_empty(),
        };
        if missing {
            if f.required {
                let key = if f.kind == FieldKind::Checkbox {
                    "catalog-error-tick"
                } else {
                    "catalog-error-required"
                };
                errors.push(err(&f.key, key));
            } else if f.kind == FieldKind::Checkbox {
                out.insert(f.key.clone(), Value::Bool(false));
            }
            continue;
        }
        let checked: Result<Value, &str> = match f.kind {
            FieldKind::ShortText if first.chars().count() > MAX_SHORT || first.contains('\n') => {
                Err("catalog-error-too-long")
            }
            FieldKind::LongText if first.chars().count() > MAX_LONG => {
                Err("catalog-error-too-long")
            }
            FieldKind::ShortText | FieldKind::LongText => Ok(Value::String(first)),
            FieldKind::Number => match first.parse::<f64>() {
                Ok(n) if n.is_finite() && first.len() <= 30 => Ok(Value::String(first)),
                _ => Err("catalog-error-number"),
            },
            FieldKind::Date => match NaiveDate::parse_from_str(&first, "%Y-%m-%d") {
                Ok(d) => Ok(Value::String(d.format("%Y-%m-%d").to_string())),
                Err(_) => Err("catalog-error-date"),
            },
            FieldKind::Email if valid_email(&first) => Ok(Value::String(first)),
            FieldKind::Email => Err("catalog-error-email"),
            FieldKind::SingleChoice if values.len() == 1 && f.choices.contains(&first) => {
                Ok(Value::String(first))
            }
            FieldKind::SingleChoice => Err("catalog-error-choice"),
            FieldKind::MultipleChoice if values.iter().all(|v| f.choices.contains(v)) => {
                // Stored in the form's order, each once, whatever order they came in.
                Ok(Value::Array(
                    f.choices
                        .iter()
                        .filter(|c| values.contains(c))
                        .map(|c| Value::String(c.clone()))
                        .collect(),
                ))
            }
            FieldKind::MultipleChoice => Err("catalog-error-choice"),
            FieldKind::Checkbox => Ok(Value::Bool(true)),
        };
        match checked {
            Ok(v) => {
                out.insert(f.key.clone(), v);
            }
            Err(key) => errors.push(err(&f.key, key)),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// Turns a JSON answer object (strings, numbers, booleans or arrays of strings) into the
/// raw values [`validate`] reads.
pub fn raw_from_json(answers: &BTreeMap<String, Value>) -> BTreeMap<String, Vec<String>> {
    answers
        .iter()
        .map(|(key, v)| {
            let values = match v {
                Value::String(s) => vec![s.clone()],
                Value::Number(n) => vec![n.to_string()],
                Value::Bool(true) => vec!["true".into()],
                Value::Array(a) => a
                    .iter()
                    .filter_map(|x| match x {
                        Value::String(s) => Some(s.clone()),
                        Value::Number(n) => Some(n.to_string()),
                        _ => None,
                    })
                    .collect(),
                _ => Vec::new(),
            };
            (key.clone(), values)
        })
        .collect()
}

/// One answered question, for the answers table.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct AnswerRow {
    /// Field key.
    pub key: String,
    /// The question as it read on the form version the request was made on.
    pub label: String,
    /// Kind.
    pub kind: FieldKind,
    /// The answer as text ("" when left empty; checkboxes as "yes"/"no" in the reader's words
    /// on pages, `true`/`false` here).
    pub value: Value,
}

/// A ticket's catalog request: the item and the answers table.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct RequestView {
    /// Item requested.
    pub item_id: String,
    /// Its name now.
    pub item_name: String,
    /// Form version the answers were given on.
    pub form_version: i64,
    /// Questions and answers in that version's order.
    pub answers: Vec<AnswerRow>,
}

/// The answers in the form's order, labelled as that version of the form labelled them.
pub fn answer_rows(fields: &[FormField], answers: &Answers) -> Vec<AnswerRow> {
    fields
        .iter()
        .map(|f| AnswerRow {
            key: f.key.clone(),
            label: f.label.clone(),
            kind: f.kind,
            value: answers.get(&f.key).cloned().unwrap_or(Value::Null),
        })
        .collect()
}

/// An answer as display text in the reader's language.
pub fn answer_text(t: &Translator, v: &Value) -> String {
    match v {
        Value::Bool(true) => t.get("catalog-yes"),
        Value::Bool(false) => t.get("catalog-no"),
        Value::String(s) => s.clone(),
        Value::Array(a) => a
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(", "),
        Value::Number(n) => n.to_string(),
        Value::Null | Value::Object(_) => String::new(),
    }
}

/// When an item's clock runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Hours {
    /// Monday to Friday, 09:00–17:00 in the tenant's time zone.
    Business,
    /// Around the clock.
    #[serde(rename = "24x7")]
    Always,
}

impl Hours {
    /// Stored code.
    pub fn as_str(self) -> &'static str {
        match self {
            Hours::Business => "business",
            Hours::Always => "24x7",
        }
    }

    /// Parses a stored code.
    pub fn parse(s: &str) -> Option<Hours> {
        match s {
            "business" => Some(Hours::Business),
            "24x7" => Some(Hours::Always),
            _ => None,
        }
    }
}

/// Start of the business day.
const DAY_START: u32 = 9;
/// End of the business day.
const DAY_END: u32 = 17;
/// Minutes in one business day.
const BUSINESS_DAY: i64 = ((DAY_END - DAY_START) * 60) as i64;

fn to_ms(tz: Tz, local: NaiveDateTime) -> i64 {
    // A local time in a DST gap does not exist: the hour after it does.
    tz.from_local_datetime(&local)
        .earliest()
        .or_else(|| {
            tz.from_local_datetime(&(local + Duration::hours(1)))
                .earliest()
        })
        .map(|d| d.timestamp_millis())
        .unwrap_or_else(|| local.and_utc().timestamp_millis())
}

fn is_workday(d: NaiveDate) -> bool {
    !matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

/// When `minutes` of the item's clock have run from `start` (Unix ms): plain minutes for
/// 24×7, otherwise counted only Monday to Friday 09:00–17:00 in `tz`.
pub fn due_at(start: i64, minutes: i64, hours: Hours, tz: Tz) -> i64 {
    if hours == Hours::Always {
        return start + minutes * 60_000;
    }
    let Some(utc) = chrono::DateTime::from_timestamp_millis(start) else {
        return start + minutes * 60_000;
    };
    let mut at = utc.with_timezone(&tz).naive_local();
    let mut left = minutes.max(0);
    // At most a year of days: bounds the loop for absurd inputs.
    for _ in 0..=(left / BUSINESS_DAY + 400) {
        let day = at.date();
        let open = day.and_hms_opt(DAY_START, 0, 0).unwrap_or(at);
        let close = day.and_hms_opt(DAY_END, 0, 0).unwrap_or(at);
        if !is_workday(day) || at >= close {
            at = (day + Duration::days(1))
                .and_hms_opt(DAY_START, 0, 0)
                .unwrap_or(at + Duration::days(1));
            continue;
        }
        if at < open {
            at = open;
        }
        let today = (close - at).num_minutes();
        if left <= today {
            return to_ms(tz, at + Duration::minutes(left));
        }
        left -= today;
        at = close;
    }
    to_ms(tz, at)
}

/// A span of the item's clock in words ("4 business hours", "2 days").
fn duration_words(t: &Translator, minutes: i64, hours: Hours) -> String {
    let (key, n) = match hours {
        Hours::Business if minutes >= 2 * BUSINESS_DAY && minutes % BUSINESS_DAY == 0 => {
            ("catalog-dur-business-days", minutes / BUSINESS_DAY)
        }
        Hours::Business if minutes % 60 == 0 => ("catalog-dur-business-hours", minutes / 60),
        Hours::Business => ("catalog-dur-business-minutes", minutes),
        Hours::Always if minutes >= 1440 && minutes % 1440 == 0 => {
            ("catalog-dur-days", minutes / 1440)
        }
        Hours::Always if minutes % 60 == 0 => ("catalog-dur-hours", minutes / 60),
        Hours::Always => ("catalog-dur-minutes", minutes),
    };
    t.args(key, &[("count", Arg::Num(n))])
}

/// The SLA in plain words: "First response within 4 business hours" and "Resolved within 2
/// days, around the clock".
pub fn sla_words(t: &Translator, first: i64, resolution: i64, hours: Hours) -> [String; 2] {
    let (f, r) = match hours {
        Hours::Business => ("catalog-sla-first", "catalog-sla-resolution"),
        Hours::Always => ("catalog-sla-first-always", "catalog-sla-resolution-always"),
    };
    [
        t.args(
            f,
            &[("duration", Arg::Str(duration_words(t, first, hours)))],
        ),
        t.args(
            r,
            &[("duration", Arg::Str(duration_words(t, resolution, hours)))],
        ),
    ]
}

/// The icons staff may choose from, each with the inner shapes of its 24×24 line drawing.
pub const ICONS: [(&str, &str); 12] = [
    (
        "key",
        r#"<circle cx="8" cy="15" r="4"/><path d="M11 12l9-9M17 6l3 3M15 8l2 2"/>"#,
    ),
    (
        "laptop",
        r#"<rect x="4" y="5" width="16" height="11" rx="1"/><path d="M2 19h20"/>"#,
    ),
    (
        "monitor",
        r#"<rect x="3" y="4" width="18" height="12" rx="1"/><path d="M8 20h8M12 16v4"/>"#,
    ),
    (
        "phone",
        r#"<rect x="7" y="2" width="10" height="20" rx="2"/><path d="M11 18h2"/>"#,
    ),
    (
        "printer",
        r#"<path d="M6 9V3h12v6"/><rect x="3" y="9" width="18" height="8" rx="1"/><rect x="7" y="14" width="10" height="7"/>"#,
    ),
    (
        "app",
        r#"<rect x="3" y="3" width="7" height="7"/><rect x="14" y="3" width="7" height="7"/><rect x="3" y="14" width="7" height="7"/><rect x="14" y="14" width="7" height="7"/>"#,
    ),
    (
        "mail",
        r#"<rect x="3" y="5" width="18" height="14" rx="1"/><path d="M3 6l9 7 9-7"/>"#,
    ),
    (
        "network",
        r#"<circle cx="12" cy="12" r="9"/><path d="M3 12h18M12 3a14 14 0 0 1 0 18M12 3a14 14 0 0 0 0 18"/>"#,
    ),
    (
        "shield",
        r#"<path d="M12 3l8 3v6c0 5-3.5 8-8 9-4.5-1-8-4-8-9V6z"/>"#,
    ),
    (
        "cloud",
        r#"<path d="M7 18h10a4 4 0 0 0 .5-8A6 6 0 0 0 6 9.5 4.3 4.3 0 0 0 7 18z"/>"#,
    ),
    (
        "person",
        r#"<circle cx="12" cy="8" r="4"/><path d="M4 21c0-4 4-6 8-6s8 2 8 6"/>"#,
    ),
    (
        "box",
        r#"<path d="M3 7l9-4 9 4v10l-9 4-9-4zM3 7l9 4 9-4M12 11v10"/>"#,
    ),
];

/// An icon as an inline line drawing in the text colour (a box for an unknown name); it is
/// decoration, hidden from assistive technology, as the item's name is always beside it.
pub fn icon_svg(name: &str) -> askama::filters::Safe<String> {
    let shapes = ICONS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, s)| *s)
        .unwrap_or(ICONS[11].1);
    askama::filters::Safe(format!(
        "<svg class=\"catalog-svg\" viewBox=\"0 0 24 24\" width=\"28\" height=\"28\" fill=\"none\" \
         stroke=\"currentColor\" stroke-width=\"1.8\" stroke-linecap=\"round\" stroke-linejoin=\"round\" \
         aria-hidden=\"true\" focusable=\"false\">{shapes}</svg>"
    ))
}

/// Turns a label into a field key that is not yet in `taken`.
pub fn new_key(label: &str, taken: &[String]) -> String {
    let mut base: String = label
        .chars()
        .filter_map(|c| {
            if c.is_ascii_alphanumeric() {
                Some(c.to_ascii_lowercase())
            } else if c.is_whitespace() || c == '-' || c == '_' {
                Some('_')
            } else {
                None
            }
        })
        .collect();
    base = base.trim_matches('_').chars().take(30).collect();
    if base.is_empty() || base.starts_with(|c: char| c.is_ascii_digit()) {
        base = format!("field_{base}");
    }
    let mut key = base.clone();
    let mut n = 2;
    while taken.contains(&key) {
        key = format!("{base}_{n}");
        n += 1;
    }
    key
}

/// The local hour at `ms` in `tz` (tests of the business clock).
pub fn local_hour(ms: i64, tz: Tz) -> u32 {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|d| d.with_timezone(&tz).hour())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(key: &str, kind: FieldKind, required: bool) -> FormField {
        FormField {
            key: key.into(),
            label: key.into(),
            kind,
            help: String::new(),
            required,
            choices: vec!["A".into(), "B".into()],
        }
    }

    fn raw(pairs: &[(&str, &str)]) -> BTreeMap<String, Vec<String>> {
        let mut m: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (k, v) in pairs {
            m.entry((*k).into()).or_default().push((*v).into());
        }
        m
    }

    #[test]
    fn answers_are_checked_per_kind() {
        let form = vec![
            field("n", FieldKind::Number, true),
            field("d", FieldKind::Date, true),
            field("e", FieldKind::Email, true),
            field("s", FieldKind::SingleChoice, true),
            field("m", FieldKind::MultipleChoice, false),
            field("c", FieldKind::Checkbox, true),
        ];
        let bad = validate(
            &form,
            &raw(&[
                ("n", "ten"),
                ("d", "2026-13-01"),
                ("e", "nope"),
                ("s", "C"),
                ("m", "Z"),
            ]),
        )
        .unwrap_err();
        let fields: Vec<_> = bad.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["n", "d", "e", "s", "m", "c"]);
        let ok = validate(
            &form,
            &raw(&[
                ("n", "10.5"),
                ("d", "2026-12-01"),
                ("e", "a@b.example"),
                ("s", "B"),
                ("m", "B"),
                ("m", "A"),
                ("c", "on"),
            ]),
        )
        .unwrap();
        assert_eq!(ok["m"], serde_json::json!(["A", "B"]));
        assert_eq!(ok["c"], Value::Bool(true));
    }

    #[test]
    fn business_hours_skip_nights_and_weekends() {
        // Friday 2026-12-04 16:00 UTC + 2 business hours = Monday 10:00.
        let fri = chrono::Utc
            .with_ymd_and_hms(2026, 12, 4, 16, 0, 0)
            .unwrap()
            .timestamp_millis();
        let due = due_at(fri, 120, Hours::Business, Tz::UTC);
        let mon = chrono::Utc
            .with_ymd_and_hms(2026, 12, 7, 10, 0, 0)
            .unwrap()
            .timestamp_millis();
        assert_eq!(due, mon);
        assert_eq!(due_at(fri, 120, Hours::Always, Tz::UTC), fri + 7_200_000);
    }

    #[test]
    fn sla_reads_as_plain_words() {
        let t = Translator::new(crate::i18n::Locale::En);
        let [f, r] = sla_words(&t, 240, 2 * 1440, Hours::Always);
        assert_eq!(f, "First response within 4 hours, around the clock");
        assert_eq!(r, "Resolved within 2 days, around the clock");
        let [f, _] = sla_words(&t, 240, 960, Hours::Business);
        assert_eq!(f, "First response within 4 business hours");
    }
}
