//! Translations and locale formatting.
//!
//! Every user-facing string comes from the Fluent catalogs in `src/i18n/locales/<lang>/*.ftl`,
//! embedded at compile time. A request's [`Locale`] is negotiated once in the request context
//! (profile language, then `Accept-Language`, then the tenant's default, then English) and
//! pages reach the catalog through `page.t` (a [`Translator`]).

use std::borrow::Cow;
use std::collections::HashMap;

use chrono_tz::Tz;
use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader, langid};

fluent_templates::static_loader! {
    static CATALOG = {
        locales: "./src/i18n/locales",
        fallback_language: "en",
        // Unicode isolation marks around arguments would end up inside HTML attributes and
        // email text; every argument here is plain text in the message's own direction.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

/// A language the interface is fully translated into.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Locale {
    /// English (the fallback).
    #[default]
    En,
    /// Spanish.
    Es,
}

/// Every supported locale, fallback first.
pub const LOCALES: &[Locale] = &[Locale::En, Locale::Es];

static EN: LanguageIdentifier = langid!("en");
static ES: LanguageIdentifier = langid!("es");

impl Locale {
    /// The BCP 47 code (`lang` attribute, stored preference).
    pub fn code(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::Es => "es",
        }
    }

    /// The language's name in that language (for pickers).
    pub fn native_name(self) -> &'static str {
        match self {
            Locale::En => "English",
            Locale::Es => "Español",
        }
    }

    /// Parses a language tag (`es`, `es-MX`, `EN_us`) by its primary subtag.
    pub fn from_tag(tag: &str) -> Option<Locale> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        LOCALES.iter().copied().find(|l| l.code() == primary)
    }

    fn langid(self) -> &'static LanguageIdentifier {
        match self {
            Locale::En => &EN,
            Locale::Es => &ES,
        }
    }

    fn chrono(self) -> chrono::Locale {
        match self {
            Locale::En => chrono::Locale::en_US,
            Locale::Es => chrono::Locale::es_ES,
        }
    }
}

/// The best supported locale in an `Accept-Language` header, honouring q-values (q=0 refuses).
pub fn from_accept_language(header: &str) -> Option<Locale> {
    let mut ranked: Vec<(f32, Locale)> = header
        .split(',')
        .filter_map(|part| {
            let mut it = part.split(';');
            let tag = it.next()?.trim();
            let q = it
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|v| v.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            (q > 0.0).then_some(())?;
            Some((q, Locale::from_tag(tag)?))
        })
        .collect();
    // Stable sort: equal weights keep the client's order.
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
    ranked.first().map(|(_, l)| *l)
}

/// Picks the request's locale: the user's profile language, then the browser's
/// `Accept-Language`, then the tenant's default, then English. Unsupported values fall through.
pub fn negotiate(
    profile: Option<&str>,
    accept_language: Option<&str>,
    tenant_default: Option<&str>,
) -> Locale {
    profile
        .and_then(Locale::from_tag)
        .or_else(|| accept_language.and_then(from_accept_language))
        .or_else(|| tenant_default.and_then(Locale::from_tag))
        .unwrap_or_default()
}

/// The locale of a message to someone outside a request (an email): their profile language,
/// else the tenant's default, else English. There is no browser to ask.
pub fn for_recipient(language: Option<&str>, tenant_default: Option<&str>) -> Locale {
    negotiate(language, None, tenant_default)
}

/// Marks a string literal as a catalog key stored in Rust data (navigation, notices, errors),
/// so the catalog test finds it; returns it unchanged.
pub const fn k(key: &'static str) -> &'static str {
    key
}

/// The catalog key for an English label kept in Rust data: `key_for("nav", "Audit log")` is
/// `nav-audit-log`. Tests walk those tables to check every derived key exists.
pub fn key_for(prefix: &str, label: &str) -> String {
    let mut key = String::with_capacity(prefix.len() + label.len() + 1);
    key.push_str(prefix);
    for word in label.split(|c: char| !c.is_ascii_alphanumeric()) {
        if !word.is_empty() {
            key.push('-');
            key.push_str(&word.to_ascii_lowercase());
        }
    }
    key
}

/// Cookie the page script sets to the browser's IANA time zone, consulted when the profile
/// names none.
pub const TZ_COOKIE: &str = "portico_tz";

/// Picks the viewer's time zone: the profile's, then the browser's (cookie), then the tenant's,
/// then UTC. Names that are not IANA zones fall through.
pub fn viewer_zone(profile: Option<&str>, browser: Option<&str>, tenant: Option<&str>) -> Tz {
    [profile, browser, tenant]
        .into_iter()
        .flatten()
        .find_map(|name| name.parse::<Tz>().ok())
        .unwrap_or(Tz::UTC)
}

/// Looks messages up and formats values in one locale and time zone; cheap to copy into every
/// page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Translator {
    /// The locale everything is rendered in.
    pub locale: Locale,
    /// The time zone dates and times are shown in.
    pub tz: Tz,
}

impl Default for Translator {
    fn default() -> Self {
        Translator::new(Locale::default())
    }
}

impl Translator {
    /// A translator for `locale`, showing times in UTC (emails, API messages).
    pub fn new(locale: Locale) -> Translator {
        Translator {
            locale,
            tz: Tz::UTC,
        }
    }

    /// A translator for `locale` showing times in `tz` (pages).
    pub fn zoned(locale: Locale, tz: Tz) -> Translator {
        Translator { locale, tz }
    }

    /// The `lang` attribute value.
    pub fn lang(&self) -> &'static str {
        self.locale.code()
    }

    /// The message `key`; the key itself when the catalog lacks it (the catalog test keeps
    /// that from shipping).
    pub fn get(&self, key: &str) -> String {
        CATALOG
            .try_lookup(self.locale.langid(), key)
            .unwrap_or_else(|| key.to_string())
    }

    /// The message `key` with named arguments (strings, numbers, or catalog keys translated
    /// first).
    pub fn args<N: AsRef<str>>(&self, key: &str, args: &[(N, Arg)]) -> String {
        let map: HashMap<Cow<'static, str>, FluentValue> = args
            .iter()
            .map(|(name, v)| (Cow::Owned(name.as_ref().to_string()), self.value(v)))
            .collect();
        CATALOG
            .try_lookup_with_args(self.locale.langid(), key, &map)
            .unwrap_or_else(|| key.to_string())
    }

    /// The message `key` with one string argument.
    pub fn arg(&self, key: &str, name: &str, value: &str) -> String {
        self.args(key, &[(name, Arg::Str(value.to_string()))])
    }

    /// The message `key` chosen by the plural category of `count` (passed as `$count`).
    pub fn count(&self, key: &str, count: impl Int) -> String {
        self.args(key, &[("count", Arg::Num(count.int()))])
    }

    /// Translates `text` when it is a catalog key (or a key with arguments from [`msg_with`]),
    /// else returns it as it is. Lets messages that travel as strings (validation errors,
    /// notices) be keys without a second type.
    pub fn msg(&self, text: &str) -> String {
        if let Some((key, query)) = text.split_once('?')
            && is_key_shaped(key)
        {
            let args: Vec<(String, Arg)> = url::form_urlencoded::parse(query.as_bytes())
                .map(|(name, value)| decode_arg(&name, &value))
                .collect();
            return self.args(key, &args);
        }
        let key = if is_key_shaped(text) {
            Some(text)
        } else {
            by_english().get(text).copied()
        };
        key.and_then(|k| CATALOG.try_lookup(self.locale.langid(), k))
            .unwrap_or_else(|| text.to_string())
    }

    /// Whether the catalog has `key` in this locale (without falling back to English).
    pub fn has(&self, key: &str) -> bool {
        match CATALOG.lookup_single_language::<&str>(self.locale.langid(), key, None) {
            Ok(_) => true,
            // Found, but formatted without its arguments (the error type is not exported).
            Err(e) => e.to_string().starts_with("Fluent errors"),
        }
    }

    /// An integer with the locale's digit grouping (`1,234` / `1.234`).
    pub fn number(&self, n: impl Int) -> String {
        let n = n.int();
        let (sep, _) = self.numeric();
        group(n.unsigned_abs(), sep, n < 0)
    }

    /// An amount in minor units (cents) with the locale's separators and currency placement,
    /// e.g. `$1,234.50` in English and `1.234,50 €` in Spanish for the currency given.
    pub fn money(&self, minor: i64, currency: &str) -> String {
        let (sep, point) = self.numeric();
        let units = group((minor / 100).unsigned_abs(), sep, minor < 0);
        let cents = (minor % 100).unsigned_abs();
        let symbol = match currency {
            "USD" => "$",
            "EUR" => "€",
            "GBP" => "£",
            other => other,
        };
        match self.locale {
            Locale::En => format!("{symbol}{units}{point}{cents:02}"),
            Locale::Es => format!("{units}{point}{cents:02}\u{a0}{symbol}"),
        }
    }

    /// Unix milliseconds as a date in the locale (`Mar 5, 2026` / `5 mar 2026`), in the
    /// viewer's time zone.
    pub fn date(&self, ms: impl Int) -> String {
        let fmt = match self.locale {
            Locale::En => "%b %-d, %Y",
            Locale::Es => "%-d %b %Y",
        };
        self.format(ms.int(), fmt)
    }

    /// Unix milliseconds as a date and time in the locale and the viewer's time zone, with the
    /// zone's abbreviation so nobody has to guess.
    pub fn datetime(&self, ms: impl Int) -> String {
        let fmt = match self.locale {
            Locale::En => "%b %-d, %Y %H:%M %Z",
            Locale::Es => "%-d %b %Y %H:%M %Z",
        };
        self.format(ms.int(), fmt)
    }

    fn format(&self, ms: i64, fmt: &str) -> String {
        chrono::DateTime::from_timestamp_millis(ms)
            .map(|d| {
                d.with_timezone(&self.tz)
                    .format_localized(fmt, self.locale.chrono())
                    .to_string()
            })
            .unwrap_or_default()
    }

    /// How long ago (or how far ahead) `ms` is from now, in words: "just now", "5 minutes ago",
    /// "in 2 hours"; a date once it is more than a week away.
    pub fn ago(&self, ms: impl Int) -> String {
        self.relative(ms.int(), crate::db::now_ms())
    }

    /// [`Translator::ago`] measured from `now` (testable).
    pub fn relative(&self, ms: i64, now: i64) -> String {
        const MIN: i64 = 60_000;
        const HOUR: i64 = 60 * MIN;
        const DAY: i64 = 24 * HOUR;
        let delta = now - ms;
        let past = delta >= 0;
        let d = delta.abs();
        let (unit, count) = if d < MIN {
            return self.get("time-just-now");
        } else if d < HOUR {
            ("minutes", d / MIN)
        } else if d < DAY {
            ("hours", d / HOUR)
        } else if d < 7 * DAY {
            ("days", d / DAY)
        } else {
            return self.date(ms);
        };
        let key = format!("time-{unit}-{}", if past { "ago" } else { "ahead" });
        self.count(&key, count)
    }

    /// A `<time>` element reading relative ("2 hours ago") with the exact local time on hover
    /// and as its machine-readable value.
    pub fn when(&self, ms: impl Int) -> askama::filters::Safe<String> {
        let ms = ms.int();
        let iso = chrono::DateTime::from_timestamp_millis(ms)
            .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_default();
        askama::filters::Safe(format!(
            "<time datetime=\"{}\" title=\"{}\">{}</time>",
            escape_html(&iso),
            escape_html(&self.datetime(ms)),
            escape_html(&self.ago(ms))
        ))
    }

    fn value(&self, arg: &Arg) -> FluentValue<'static> {
        match arg {
            Arg::Str(s) => FluentValue::from(s.clone()),
            Arg::Num(n) => FluentValue::from(*n),
            Arg::Keys(keys) => FluentValue::from(
                keys.iter()
                    .map(|k| self.get(k))
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
        }
    }

    fn numeric(&self) -> (&'static str, &'static str) {
        use pure_rust_locales::{en_US, es_ES};
        match self.locale {
            Locale::En => (
                en_US::LC_NUMERIC::THOUSANDS_SEP,
                en_US::LC_NUMERIC::DECIMAL_POINT,
            ),
            Locale::Es => (
                es_ES::LC_NUMERIC::THOUSANDS_SEP,
                es_ES::LC_NUMERIC::DECIMAL_POINT,
            ),
        }
    }
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// An integer however deeply referenced (templates pass fields by reference).
pub trait Int {
    /// The value.
    fn int(&self) -> i64;
}

impl Int for i64 {
    fn int(&self) -> i64 {
        *self
    }
}

impl<T: Int + ?Sized> Int for &T {
    fn int(&self) -> i64 {
        (**self).int()
    }
}

/// A message argument.
#[derive(Clone, Debug)]
pub enum Arg {
    /// Text, inserted as is.
    Str(String),
    /// A number (selects plural forms).
    Num(i64),
    /// Catalog keys, each translated into the message's locale, joined with ", " (a status,
    /// or a list of statuses).
    Keys(Vec<String>),
}

impl Arg {
    /// One catalog key, translated where the message is.
    pub fn key(key: &str) -> Arg {
        Arg::Keys(vec![key.to_string()])
    }
}

/// A message with arguments as one string, for the places messages travel as text (errors,
/// field errors, notices, the JSON `message`): `key?name=value&…`, urlencoded. [`Translator::msg`]
/// formats it in the reader's locale. A number's name gets `#` in front, catalog keys' `@`.
pub fn msg_with(key: &str, args: &[(&str, Arg)]) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    for (name, v) in args {
        match v {
            Arg::Str(s) => q.append_pair(name, s),
            Arg::Num(n) => q.append_pair(&format!("#{name}"), &n.to_string()),
            Arg::Keys(keys) => q.append_pair(&format!("@{name}"), &keys.join(",")),
        };
    }
    format!("{key}?{}", q.finish())
}

fn decode_arg(name: &str, value: &str) -> (String, Arg) {
    if let Some(n) = name.strip_prefix('#') {
        // Not a number after all: keep the text rather than lose it.
        let v = value
            .parse::<i64>()
            .map_or_else(|_| Arg::Str(value.to_string()), Arg::Num);
        (n.to_string(), v)
    } else if let Some(n) = name.strip_prefix('@') {
        let keys = value
            .split(',')
            .filter(|k| is_key_shaped(k))
            .map(str::to_string)
            .collect();
        (n.to_string(), Arg::Keys(keys))
    } else {
        (name.to_string(), Arg::Str(value.to_string()))
    }
}

impl From<&str> for Arg {
    fn from(s: &str) -> Arg {
        Arg::Str(s.to_string())
    }
}

impl From<String> for Arg {
    fn from(s: String) -> Arg {
        Arg::Str(s)
    }
}

impl From<&String> for Arg {
    fn from(s: &String) -> Arg {
        Arg::Str(s.clone())
    }
}

impl From<i64> for Arg {
    fn from(n: i64) -> Arg {
        Arg::Num(n)
    }
}

/// Messages raised as English prose (errors, validation, notices) live in `messages.ftl`; their
/// English text is their message id, as in gettext, so the code raising them needs no change.
pub const ENGLISH_MESSAGES: &str = include_str!("locales/en/messages.ftl");

fn by_english() -> &'static HashMap<&'static str, &'static str> {
    static MAP: std::sync::LazyLock<HashMap<&'static str, &'static str>> =
        std::sync::LazyLock::new(|| {
            ENGLISH_MESSAGES
                .lines()
                .filter(|l| !l.starts_with('#') && !l.contains('{'))
                .filter_map(|l| l.split_once(" = "))
                .map(|(k, v)| (v.trim(), k.trim()))
                .collect()
        });
    &MAP
}

/// True for strings that can only be catalog keys (`lowercase-with-dashes`), never prose.
pub fn is_key_shaped(s: &str) -> bool {
    s.contains('-')
        && s.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn group(n: u64, sep: &str, negative: bool) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if negative {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push_str(sep);
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zone_order_and_relative_times() {
        assert_eq!(
            viewer_zone(Some("Europe/Madrid"), Some("Asia/Tokyo"), Some("UTC")),
            Tz::Europe__Madrid
        );
        assert_eq!(
            viewer_zone(Some("Nowhere/Land"), Some("Asia/Tokyo"), None),
            Tz::Asia__Tokyo
        );
        assert_eq!(viewer_zone(None, None, Some("bogus")), Tz::UTC);
        let en = Translator::new(Locale::En);
        let es = Translator::new(Locale::Es);
        let now = 1_780_000_000_000;
        assert_eq!(en.relative(now - 30_000, now), "just now");
        assert_eq!(en.relative(now - 5 * 60_000, now), "5 minutes ago");
        assert_eq!(en.relative(now - 3_600_000, now), "1 hour ago");
        assert_eq!(es.relative(now - 2 * 3_600_000, now), "hace 2 horas");
        assert_eq!(en.relative(now + 20 * 60_000, now), "in 20 minutes");
        assert_eq!(en.relative(now - 86_400_000, now), "yesterday");
        // Beyond a week a date reads better than "23 days ago".
        assert_eq!(
            en.relative(now - 23 * 86_400_000, now),
            en.date(now - 23 * 86_400_000)
        );
        let madrid = Translator::zoned(Locale::En, Tz::Europe__Madrid);
        // 2026-05-28 20:26:40 UTC is 22:26 in Madrid (summer time).
        assert_eq!(madrid.datetime(now), "May 28, 2026 22:26 CEST");
    }

    #[test]
    fn negotiation_order() {
        assert_eq!(negotiate(Some("es"), Some("en"), Some("en")), Locale::Es);
        assert_eq!(negotiate(Some("en"), Some("es"), None), Locale::En);
        // An unsupported profile language falls through to the browser.
        assert_eq!(
            negotiate(Some("de"), Some("es-MX,en;q=0.5"), None),
            Locale::Es
        );
        assert_eq!(
            negotiate(None, Some("fr, en;q=0.1"), Some("es")),
            Locale::En
        );
        assert_eq!(negotiate(None, Some("fr"), Some("es")), Locale::Es);
        assert_eq!(negotiate(None, None, None), Locale::En);
        // q=0 means "not this one"; weights beat order.
        assert_eq!(from_accept_language("es;q=0, en"), Some(Locale::En));
        assert_eq!(from_accept_language("en;q=0.3, es;q=0.9"), Some(Locale::Es));
        assert_eq!(from_accept_language(""), None);
    }

    #[test]
    fn formats_follow_the_locale() {
        let en = Translator::new(Locale::En);
        let es = Translator::new(Locale::Es);
        assert_eq!(en.number(1234567), "1,234,567");
        assert_eq!(es.number(-1234567), "-1.234.567");
        assert_eq!(en.money(123450, "USD"), "$1,234.50");
        assert_eq!(es.money(123450, "EUR"), "1.234,50\u{a0}€");
        // 2026-03-05 14:07 UTC
        let ms = 1_772_719_620_000;
        assert_eq!(en.date(ms), "Mar 5, 2026");
        assert_eq!(es.date(ms), "5 mar 2026");
        assert_eq!(es.datetime(ms), "5 mar 2026 14:07 UTC");
    }

    #[test]
    fn plurals_and_arguments() {
        let en = Translator::new(Locale::En);
        let es = Translator::new(Locale::Es);
        assert_eq!(en.count("tickets-count", 1), "1 ticket");
        assert_eq!(en.count("tickets-count", 3), "3 tickets");
        assert_eq!(es.count("tickets-count", 1), "1 solicitud");
        assert_eq!(es.count("tickets-count", 3), "3 solicitudes");
        assert_eq!(es.arg("dashboard-hello", "name", "Ana"), "Hola, Ana");
        assert_eq!(en.msg("Free text stays"), "Free text stays");
        assert_eq!(es.msg("common-save"), "Guardar");
    }

    #[test]
    fn messages_carry_their_arguments() {
        let en = Translator::new(Locale::En);
        let es = Translator::new(Locale::Es);
        let m = msg_with(
            k("ticket-error-transition"),
            &[
                ("from", Arg::key("ticket-status-closed")),
                ("to", Arg::key("ticket-status-pending")),
                (
                    "options",
                    Arg::Keys(vec![
                        "ticket-status-open".into(),
                        "ticket-status-new".into(),
                    ]),
                ),
            ],
        );
        assert_eq!(
            en.msg(&m),
            "A ticket that is “Closed” cannot be set to “Waiting for you”. Possible: Open, New."
        );
        assert!(es.msg(&m).contains("«Cerrada»"), "{}", es.msg(&m));
        let m = msg_with(k("ticket-error-reopen-too-late"), &[("days", Arg::Num(14))]);
        assert!(
            en.msg(&m).contains("more than 14 days ago"),
            "{}",
            en.msg(&m)
        );
        assert!(es.msg(&m).contains("hace más de 14 días"), "{}", es.msg(&m));
        // Text that only looks like a query stays as it is.
        assert_eq!(en.msg("Why? Because."), "Why? Because.");
        // Arguments are text, never markup or further arguments.
        let m = msg_with(
            k("email-hello"),
            &[("name", Arg::Str("A&b=c, <d>?".into()))],
        );
        assert_eq!(en.msg(&m), "Hello A&b=c, <d>?,");
    }
}

#[cfg(test)]
mod catalog_check;
