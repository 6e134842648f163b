//! The help assistant: a widget on every portal page that answers from the knowledge base and
//! the user's own data, and proposes actions (create a ticket, comment, escalate) that run only
//! after the user's confirm click.
//!
//! `mod.rs` holds the pure rules (intents, search words, drafts, limits), `store` the SQL,
//! `service` the built-in answerer and the confirmed actions, `routes` the JSON and SSE API and
//! the widget script. No model is needed: the built-in assistant is the default.

pub mod demo;
pub mod model;
pub mod routes;
pub mod service;
pub mod settings;
pub mod store;

use serde::{Deserialize, Serialize};

use crate::tickets::Priority;

/// Longest question accepted, in characters.
pub const MAX_INPUT: usize = 1_000;
/// Questions one user may ask per [`RATE_WINDOW_MS`].
pub const USER_LIMIT: i64 = 20;
/// Questions a whole tenant may ask per [`RATE_WINDOW_MS`].
pub const TENANT_LIMIT: i64 = 600;
/// The rate-limit window.
pub const RATE_WINDOW_MS: i64 = 10 * 60 * 1000;
/// How long a proposed action can still be confirmed.
pub const ACTION_TTL_MS: i64 = 60 * 60 * 1000;
/// Articles cited in one answer.
pub const MAX_ARTICLES: i64 = 3;

/// What the user wants, as the built-in assistant recognises it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    /// Raise a ticket.
    CreateTicket,
    /// How a ticket is going.
    TicketStatus,
    /// Add something to an existing ticket.
    Comment,
    /// Talk to a person.
    Escalate,
    /// Order something from the service catalog.
    RequestItem,
    /// Mission: the next event.
    NextEvent,
    /// Anything else: look it up.
    FindArticle,
}

fn has_any(text: &str, phrases: &[&str]) -> bool {
    phrases.iter().any(|p| text.contains(p))
}

/// Recognises the intent of a question (English and Spanish phrasings).
pub fn recognise(text: &str) -> Intent {
    let t = format!(" {} ", text.to_lowercase());
    if has_any(
        &t,
        &[
            "escalat",
            "human",
            "a person",
            "real person",
            "an agent",
            "talk to",
            "speak to",
            "speak with",
            "talk with",
            "call me",
            "una persona",
            "humano",
            "hablar con",
            "un agente",
            "escalar",
        ],
    ) {
        return Intent::Escalate;
    }
    if ticket_ref(text).is_some()
        && has_any(
            &t,
            &[
                " add ",
                "comment",
                "tell them",
                "update it",
                "añad",
                "coment",
                "agreg",
            ],
        )
    {
        return Intent::Comment;
    }
    if has_any(
        &t,
        &[
            "create a ticket",
            "open a ticket",
            "raise a ticket",
            "log a ticket",
            "new ticket",
            "file a ticket",
            "submit a ticket",
            "create ticket",
            "crear un ticket",
            "abrir un ticket",
            "nuevo ticket",
            "crear ticket",
        ],
    ) {
        return Intent::CreateTicket;
    }
    if ticket_ref(text).is_some()
        || has_any(
            &t,
            &[
                "status",
                "my ticket",
                "my tickets",
                "ticket waiting",
                "still waiting",
                "any update",
                "estado",
                "mi ticket",
                "mis tickets",
            ],
        )
    {
        return Intent::TicketStatus;
    }
    if has_any(&t, &[" event", "youth", "evento", "jóvenes", "jovenes"]) {
        return Intent::NextEvent;
    }
    if has_any(
        &t,
        &[
            " order ",
            "i need a new",
            "request a",
            "request an",
            "can i get a",
            "solicitar",
            "pedir",
            "necesito un nuevo",
            "necesito una nueva",
        ],
    ) {
        return Intent::RequestItem;
    }
    Intent::FindArticle
}

/// A ticket number written in the question (`#1001`, `ticket 1001`).
pub fn ticket_ref(text: &str) -> Option<i64> {
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower.split_whitespace().collect();
    for (i, w) in words.iter().enumerate() {
        let w = w.trim_matches(|c: char| !c.is_alphanumeric() && c != '#');
        if let Some(n) = w.strip_prefix('#')
            && let Ok(n) = n.parse::<i64>()
        {
            return Some(n);
        }
        if i > 0
            && matches!(words[i - 1], "ticket" | "tickets" | "número" | "numero")
            && let Ok(n) = w.parse::<i64>()
        {
            return Some(n);
        }
    }
    None
}

/// Words that carry no meaning for a search (English and Spanish).
const STOPWORDS: &[&str] = &[
    "a",
    "about",
    "after",
    "again",
    "all",
    "am",
    "an",
    "and",
    "any",
    "are",
    "as",
    "at",
    "be",
    "because",
    "been",
    "but",
    "by",
    "can",
    "cannot",
    "could",
    "did",
    "do",
    "does",
    "doing",
    "don",
    "dont",
    "for",
    "from",
    "get",
    "gets",
    "getting",
    "got",
    "had",
    "has",
    "have",
    "help",
    "how",
    "i",
    "if",
    "im",
    "in",
    "into",
    "is",
    "it",
    "its",
    "just",
    "keep",
    "keeps",
    "know",
    "like",
    "me",
    "mine",
    "my",
    "need",
    "no",
    "not",
    "now",
    "of",
    "on",
    "or",
    "our",
    "please",
    "should",
    "so",
    "some",
    "someone",
    "still",
    "that",
    "the",
    "their",
    "them",
    "then",
    "there",
    "this",
    "to",
    "up",
    "us",
    "use",
    "want",
    "was",
    "way",
    "we",
    "what",
    "when",
    "where",
    "which",
    "who",
    "why",
    "will",
    "with",
    "without",
    "won",
    "work",
    "works",
    "would",
    "you",
    "your",
    "cant",
    "wont",
    "doesnt",
    "isnt",
    "ive",
    "it's",
    "tell",
    "show",
    "find",
    "article",
    "articles",
    "thing",
    "things",
    "something",
    "anything",
    "again",
    "happen",
    "happens",
    "trying",
    "try",
    "tried",
    "make",
    "set",
    "since",
    "today",
    "every",
    "time",
    "times",
    "always",
    "never",
    "suddenly",
    "really",
    "also",
    "too",
    "very",
    // Spanish.
    "el",
    "la",
    "los",
    "las",
    "un",
    "una",
    "unos",
    "unas",
    "de",
    "del",
    "que",
    "y",
    "o",
    "en",
    "mi",
    "mis",
    "es",
    "por",
    "para",
    "con",
    "no",
    "se",
    "me",
    "como",
    "cómo",
    "qué",
    "lo",
    "al",
    "su",
    "sus",
    "puedo",
    "quiero",
    "necesito",
    "hacer",
    "hago",
    "sigue",
    "está",
    "esta",
    "tengo",
    "ayuda",
];

/// Extra words searched with a word the articles may not use themselves.
const SYNONYMS: &[(&str, &[&str])] = &[
    ("wifi", &["network"]),
    ("internet", &["network", "vpn"]),
    ("remote", &["vpn"]),
    ("home", &["vpn", "remote"]),
    ("globalprotect", &["vpn"]),
    ("locked", &["password"]),
    ("forgot", &["password", "reset"]),
    ("login", &["password"]),
    ("signin", &["password"]),
    ("contraseña", &["password"]),
    ("contrasena", &["password"]),
    ("2fa", &["mfa", "authenticator"]),
    ("authenticator", &["mfa"]),
    ("otp", &["mfa"]),
    ("mail", &["email", "outlook"]),
    ("inbox", &["outlook"]),
    ("correo", &["email", "outlook"]),
    ("vacation", &["autoreply"]),
    ("holiday", &["autoreply"]),
    ("away", &["autoreply"]),
    ("vacaciones", &["autoreply"]),
    ("spam", &["junk", "quarantine"]),
    ("quarantined", &["quarantine"]),
    ("print", &["printer"]),
    ("impresora", &["printer"]),
    ("jammed", &["jam"]),
    ("stuck", &["jam"]),
    ("charge", &["battery"]),
    ("batería", &["battery"]),
    ("bateria", &["battery"]),
    ("computer", &["laptop"]),
    ("deleted", &["restore", "recycle"]),
    ("recover", &["restore"]),
    ("undelete", &["restore"]),
    ("share", &["sharing"]),
    ("drive", &["network"]),
    ("meeting", &["teams", "meetings"]),
    ("alerts", &["notifications"]),
    ("scam", &["phishing"]),
    ("suspicious", &["phishing"]),
    ("fake", &["phishing"]),
    ("hacked", &["incident", "phishing"]),
    ("badge", &["badge"]),
];

/// The words a question is searched with: meaningful words (no stopwords, no syntax), with
/// synonyms added, at most ten.
pub fn search_terms(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .map(|w| w.to_lowercase())
        .filter(|w| w.chars().count() >= 2 && !w.chars().all(|c| c.is_ascii_digit()))
        .filter(|w| !STOPWORDS.contains(&w.as_str()))
        .map(|w| w.chars().take(40).collect())
        .collect();
    for w in words {
        // Plural "s" dropped so the prefix search matches singular titles ("printers").
        let stem = if w.len() > 4 && w.ends_with('s') && !w.ends_with("ss") {
            w[..w.len() - 1].to_string()
        } else {
            w.clone()
        };
        if !out.contains(&stem) {
            out.push(stem);
        }
        if let Some((_, extra)) = SYNONYMS.iter().find(|(k, _)| *k == w) {
            for e in *extra {
                if !out.iter().any(|o| o == e) {
                    out.push((*e).to_string());
                }
            }
        }
    }
    out.truncate(10);
    out
}

/// A ticket subject drafted from the question: its first sentence, capitalised, bounded.
pub fn draft_subject(text: &str) -> String {
    let first = text
        .split(['\n', '.', '?', '!'])
        .map(str::trim)
        .find(|s| !s.is_empty())
        .unwrap_or("")
        .trim();
    let mut s: String = first.chars().take(120).collect();
    if let Some(c) = s.chars().next() {
        let upper: String = c.to_uppercase().collect();
        s.replace_range(..c.len_utf8(), &upper);
    }
    s
}

/// A priority drafted from the question: high when it sounds like an outage.
pub fn draft_priority(text: &str) -> Priority {
    let t = text.to_lowercase();
    if has_any(
        &t,
        &[
            "urgent",
            "asap",
            "outage",
            "everyone",
            "nobody can",
            "can't work",
            "cannot work",
            "server down",
            "is down",
            "urgente",
            "nadie puede",
        ],
    ) {
        Priority::High
    } else {
        Priority::Normal
    }
}

/// A conversation's title from its first question.
pub fn title_of(text: &str) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut t: String = one_line.chars().take(80).collect();
    if one_line.chars().count() > 80 {
        t.push('…');
    }
    t
}

/// Catalog keys of the suggested questions for the page at `path`.
pub fn suggestions(path: &str, mission: bool) -> Vec<&'static str> {
    if mission {
        return vec![
            "assistant-suggest-next-youth-event",
            "assistant-suggest-password",
            "assistant-suggest-person",
        ];
    }
    if path.starts_with("/portal/tickets") {
        vec![
            "assistant-suggest-ticket-waiting",
            "assistant-suggest-vpn",
            "assistant-suggest-create-ticket",
        ]
    } else if path.starts_with("/portal/catalog") {
        vec![
            "assistant-suggest-new-laptop",
            "assistant-suggest-ticket-waiting",
            "assistant-suggest-person",
        ]
    } else if path.starts_with("/portal/kb") {
        vec![
            "assistant-suggest-vpn",
            "assistant-suggest-password",
            "assistant-suggest-printer",
        ]
    } else {
        vec![
            "assistant-suggest-vpn",
            "assistant-suggest-ticket-waiting",
            "assistant-suggest-password",
        ]
    }
}

/// The kinds of action the assistant can propose. Paying, signing, roles and invitations are
/// deliberately absent: the assistant has no way to ask for them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    /// Raise a ticket with the transcript.
    CreateTicket,
    /// Comment on one of the user's tickets.
    Comment,
    /// A ticket flagged for staff with the transcript.
    Escalate,
    /// A service-catalog request, with the item's form answered.
    RequestItem,
    /// Mission: a registration for an event (or a place on its waitlist).
    RegisterEvent,
}

impl ActionKind {
    /// Every kind, in the order staff see them.
    pub const ALL: [ActionKind; 5] = [
        ActionKind::CreateTicket,
        ActionKind::Comment,
        ActionKind::Escalate,
        ActionKind::RequestItem,
        ActionKind::RegisterEvent,
    ];

    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::CreateTicket => "create_ticket",
            ActionKind::Comment => "comment",
            ActionKind::Escalate => "escalate",
            ActionKind::RequestItem => "request_item",
            ActionKind::RegisterEvent => "register_event",
        }
    }

    /// Catalog key of its name on the settings page.
    pub fn label_key(self) -> &'static str {
        match self {
            ActionKind::CreateTicket => "assistant-kind-create-ticket",
            ActionKind::Comment => "assistant-kind-comment",
            ActionKind::Escalate => "assistant-kind-escalate",
            ActionKind::RequestItem => "assistant-kind-request-item",
            ActionKind::RegisterEvent => "assistant-kind-register-event",
        }
    }

    /// Parses the stored name.
    pub fn parse(s: &str) -> Option<ActionKind> {
        Some(match s {
            "create_ticket" => ActionKind::CreateTicket,
            "comment" => ActionKind::Comment,
            "escalate" => ActionKind::Escalate,
            "request_item" => ActionKind::RequestItem,
            "register_event" => ActionKind::RegisterEvent,
            _ => return None,
        })
    }
}

/// Where the assistant may look for answers; staff switch sources off in `/admin/assistant`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// Knowledge-base articles the user may read.
    Articles,
    /// The user's own tickets (MSP).
    Tickets,
    /// Announcements addressed to the user's company.
    Announcements,
    /// Service-catalog items the company may request.
    Catalog,
    /// Mission events and groups.
    Events,
}

impl SourceKind {
    /// Every source, in the order staff see them.
    pub const ALL: [SourceKind; 5] = [
        SourceKind::Articles,
        SourceKind::Tickets,
        SourceKind::Announcements,
        SourceKind::Catalog,
        SourceKind::Events,
    ];

    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Articles => "articles",
            SourceKind::Tickets => "tickets",
            SourceKind::Announcements => "announcements",
            SourceKind::Catalog => "catalog",
            SourceKind::Events => "events",
        }
    }

    /// Catalog key of its name on the settings page.
    pub fn label_key(self) -> &'static str {
        match self {
            SourceKind::Articles => "assistant-source-articles",
            SourceKind::Tickets => "assistant-source-tickets",
            SourceKind::Announcements => "assistant-source-announcements",
            SourceKind::Catalog => "assistant-source-catalog",
            SourceKind::Events => "assistant-source-events",
        }
    }

    /// Parses the stored name.
    pub fn parse(s: &str) -> Option<SourceKind> {
        SourceKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intents() {
        assert_eq!(recognise("my VPN keeps dropping"), Intent::FindArticle);
        assert_eq!(
            recognise("Please create a ticket for this"),
            Intent::CreateTicket
        );
        assert_eq!(recognise("Why is my ticket waiting?"), Intent::TicketStatus);
        assert_eq!(
            recognise("What's the status of #1002"),
            Intent::TicketStatus
        );
        assert_eq!(
            recognise("add to #1002 that it happened again"),
            Intent::Comment
        );
        assert_eq!(recognise("I want to talk to a person"), Intent::Escalate);
        assert_eq!(recognise("Quiero hablar con una persona"), Intent::Escalate);
        assert_eq!(
            recognise("When is the next youth event?"),
            Intent::NextEvent
        );
        assert_eq!(recognise("I need a new laptop"), Intent::RequestItem);
    }

    #[test]
    fn terms_drop_noise_and_add_synonyms() {
        assert_eq!(
            search_terms("my VPN keeps dropping"),
            vec!["vpn", "dropping"]
        );
        assert_eq!(
            search_terms("I'm locked out \"OR* NEAR("),
            vec!["locked", "password", "out", "near"]
        );
        assert_eq!(ticket_ref("status of ticket 1002?"), Some(1002));
        assert_eq!(ticket_ref("#1003 please"), Some(1003));
        assert_eq!(ticket_ref("I have 3 printers"), None);
    }

    #[test]
    fn drafts() {
        assert_eq!(
            draft_subject("  my VPN keeps dropping. Since Monday"),
            "My VPN keeps dropping"
        );
        assert_eq!(draft_priority("URGENT: nobody can print"), Priority::High);
        assert_eq!(draft_priority("printer is slow"), Priority::Normal);
    }
}
