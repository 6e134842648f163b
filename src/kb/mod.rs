//! Knowledge base: Markdown articles with per-company visibility, full-text ranked search
//! (SQLite FTS5 / PostgreSQL tsvector), helpful votes and ticket deflection.
//!
//! `mod.rs` holds the rules (visibility, validation, search terms, snippets), `store` the SQL,
//! `routes` the portal and staff pages and JSON API, `demo` the demo articles.

pub mod demo;
pub mod routes;
pub mod store;

use serde::{Deserialize, Serialize};

use crate::auth::{Audience, Permission, Principal};
use crate::error::{AppError, FieldError};
use crate::i18n::k;

/// How long after opening a suggested article a ticket still counts as "not avoided".
pub const DEFLECTION_WINDOW_MS: i64 = 30 * 60 * 1000;
/// Most suggestions shown beside the new-ticket form.
pub const MAX_SUGGESTIONS: i64 = 5;

/// Who may read an article.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Anyone, also without signing in, on the tenant's portal.
    Public,
    /// Every signed-in client user.
    Clients,
    /// Users of the chosen companies only.
    Companies,
}

impl Visibility {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Public => "public",
            Visibility::Clients => "clients",
            Visibility::Companies => "companies",
        }
    }

    /// Parses the stored name.
    pub fn parse(s: &str) -> Option<Visibility> {
        Some(match s {
            "public" => Visibility::Public,
            "clients" => Visibility::Clients,
            "companies" => Visibility::Companies,
            _ => return None,
        })
    }
}

/// Who is reading: decides which articles exist for them.
#[derive(Clone, Debug)]
pub enum Reader {
    /// Staff of the tenant: every article, drafts included.
    Staff,
    /// A client user of a company.
    Client(String),
    /// Not signed in (or signed in without a company): public articles only.
    Anonymous,
}

impl Reader {
    /// The reader a principal (or nobody) is.
    pub fn of(p: Option<&Principal>) -> Reader {
        match p {
            Some(p) if p.audience == Audience::Admin && p.can(Permission::ManageKnowledgeBase) => {
                Reader::Staff
            }
            Some(p) if p.audience == Audience::Portal => match &p.company_id {
                Some(c) => Reader::Client(c.as_str().to_string()),
                None => Reader::Anonymous,
            },
            _ => Reader::Anonymous,
        }
    }

    /// `(mode, company)` as bound by the store's visibility condition.
    pub fn binds(&self) -> (&'static str, String) {
        match self {
            Reader::Staff => ("staff", String::new()),
            Reader::Client(c) => ("client", c.clone()),
            Reader::Anonymous => ("anonymous", String::new()),
        }
    }
}

/// Validated article fields.
#[derive(Clone, Debug)]
pub struct ArticleInput {
    /// Title.
    pub title: String,
    /// Category name.
    pub category: String,
    /// Tags, comma-separated and normalised.
    pub tags: String,
    /// Markdown body.
    pub body: String,
    /// Visibility.
    pub visibility: Visibility,
    /// Chosen companies (for `companies`).
    pub companies: Vec<String>,
    /// Published (else draft).
    pub published: bool,
}

/// Checks an article's fields; every problem is reported at once.
#[allow(clippy::too_many_arguments)]
pub fn check_article(
    title: &str,
    category: &str,
    tags: &str,
    body: &str,
    visibility: &str,
    companies: Vec<String>,
    status: &str,
) -> Result<ArticleInput, AppError> {
    let mut errors: Vec<FieldError> = Vec::new();
    let mut take = |r: Result<String, FieldError>| match r {
        Ok(v) => v,
        Err(e) => {
            errors.push(e);
            String::new()
        }
    };
    let title = take(crate::text::single_line("title", title, 160));
    let category = take(crate::text::single_line("category", category, 80));
    let tags = take(crate::text::single_line("tags", tags, 300));
    let body = take(crate::text::multi_line("body", body, 100_000));
    if title.is_empty() && !errors.iter().any(|e| e.field == "title") {
        errors.push(fe("title", k("kb-error-title")));
    }
    if category.is_empty() && !errors.iter().any(|e| e.field == "category") {
        errors.push(fe("category", k("kb-error-category")));
    }
    if body.is_empty() && !errors.iter().any(|e| e.field == "body") {
        errors.push(fe("body", k("kb-error-body")));
    }
    let visibility = match Visibility::parse(visibility) {
        Some(v) => v,
        None => {
            errors.push(fe("visibility", k("kb-error-visibility")));
            Visibility::Clients
        }
    };
    let mut companies = companies;
    companies.sort();
    companies.dedup();
    companies.retain(|c| !c.is_empty());
    if visibility == Visibility::Companies && companies.is_empty() {
        errors.push(fe("companies", k("kb-error-companies")));
    }
    if visibility != Visibility::Companies {
        companies.clear();
    }
    let published = match status {
        "published" => true,
        "draft" | "" => false,
        _ => {
            errors.push(fe("status", k("kb-error-status")));
            false
        }
    };
    if !errors.is_empty() {
        return Err(AppError::fields(errors));
    }
    Ok(ArticleInput {
        title,
        category,
        tags: normalise_tags(&tags),
        body,
        visibility,
        companies,
        published,
    })
}

fn fe(field: &str, message: &str) -> FieldError {
    FieldError {
        field: field.into(),
        message: message.into(),
    }
}

/// Tags as stored: trimmed, lowercase, de-duplicated, comma-separated.
pub fn normalise_tags(s: &str) -> String {
    let mut tags: Vec<String> = s
        .split(',')
        .map(|t| t.trim().to_lowercase())
        .filter(|t| !t.is_empty())
        .collect();
    tags.dedup();
    tags.truncate(12);
    tags.join(", ")
}

/// A URL slug from a title (ASCII letters and digits joined by dashes).
pub fn slugify(title: &str) -> String {
    let mut out = String::new();
    for c in title.chars() {
        let c = match c {
            'á' | 'à' | 'ä' | 'â' | 'Á' => 'a',
            'é' | 'è' | 'ë' | 'ê' | 'É' => 'e',
            'í' | 'ì' | 'ï' | 'î' | 'Í' => 'i',
            'ó' | 'ò' | 'ö' | 'ô' | 'Ó' => 'o',
            'ú' | 'ù' | 'ü' | 'û' | 'Ú' => 'u',
            'ñ' | 'Ñ' => 'n',
            c => c,
        };
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
        if out.len() >= 80 {
            break;
        }
    }
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() {
        "article".into()
    } else {
        out
    }
}

/// The words of a search, as the full-text engines get them: letters and digits only (so no
/// query syntax can be injected), lowercase, at most eight.
pub fn terms(q: &str, min_len: usize) -> Vec<String> {
    let mut out: Vec<String> = q
        .split(|c: char| !c.is_alphanumeric())
        .map(|w| w.to_lowercase())
        .filter(|w| w.chars().count() >= min_len)
        .map(|w| w.chars().take(40).collect())
        .collect();
    out.dedup();
    out.truncate(8);
    out
}

/// An FTS5 query: every term as a prefix, all required (`all`) or any.
pub fn fts5_query(terms: &[String], all: bool) -> String {
    terms
        .iter()
        .map(|t| format!("\"{t}\"*"))
        .collect::<Vec<_>>()
        .join(if all { " " } else { " OR " })
}

/// A PostgreSQL `to_tsquery` text: every term as a prefix (`:*`), all required or any.
pub fn tsquery(terms: &[String], all: bool) -> String {
    terms
        .iter()
        .map(|t| format!("{t}:*"))
        .collect::<Vec<_>>()
        .join(if all { " & " } else { " | " })
}

/// Marks the database puts around matched words (private-use characters, which no article
/// text is expected to hold, so marks survive HTML escaping unambiguously).
pub const MARK_START: &str = "\u{E000}";
/// End of a matched word.
pub const MARK_END: &str = "\u{E001}";

/// Turns a snippet with marks into safe HTML: the text escaped, Markdown punctuation dropped,
/// matches in `<mark>`.
pub fn snippet_html(raw: &str) -> String {
    let mut text = String::with_capacity(raw.len());
    for c in raw.chars() {
        match c {
            '*' | '#' | '`' | '|' | '_' | '>' => text.push(' '),
            '\u{E000}' | '\u{E001}' => text.push(c),
            c if c.is_control() => text.push(' '),
            c => text.push(c),
        }
    }
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out = String::with_capacity(collapsed.len() + 32);
    let mut open = false;
    for c in collapsed.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\u{E000}' if !open => {
                out.push_str("<mark>");
                open = true;
            }
            '\u{E001}' if open => {
                out.push_str("</mark>");
                open = false;
            }
            '\u{E000}' | '\u{E001}' => {}
            c => out.push(c),
        }
    }
    if open {
        out.push_str("</mark>");
    }
    out
}

/// Renders an article body: sanitised Markdown; remote images per the tenant's setting.
pub fn render(body: &str, remote_images: bool) -> String {
    crate::tickets::render_markdown_with(body, remote_images)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_drop_query_syntax() {
        assert_eq!(terms("vpn \"OR* NEAR(x", 2), vec!["vpn", "or", "near"]);
        assert_eq!(
            fts5_query(&terms("Wi-Fi pass", 2), true),
            "\"wi\"* \"fi\"* \"pass\"*"
        );
        assert_eq!(tsquery(&terms("vpn setup", 2), false), "vpn:* | setup:*");
    }

    #[test]
    fn snippets_are_escaped() {
        let s = snippet_html("a <script>\u{E000}vpn\u{E001}</script> **b**");
        assert_eq!(s, "a &lt;script <mark>vpn</mark>&lt;/script b");
    }

    #[test]
    fn slugs() {
        assert_eq!(
            slugify("Set up the VPN (Windows 11)"),
            "set-up-the-vpn-windows-11"
        );
        assert_eq!(slugify("¿Qué?"), "que");
        assert_eq!(slugify("!!!"), "article");
    }
}
