//! Tickets: the model and its rules (statuses and their transitions, SLA, who may see what,
//! Markdown, uploads). SQL lives in `store`, HTTP in `routes` (portal) and `admin` (staff),
//! and the writes with their side effects (audit, events, emails) in `service`.

pub mod admin;
pub mod dashboard;
pub mod demo;
pub mod inbound;
pub mod legacy_files;
pub mod routes;
pub mod service;
pub mod sla;
pub mod views;

pub mod store;

use serde::Serialize;

use crate::auth::{Permission, Principal};
use crate::error::AppError;
use crate::i18n::{Arg, Translator, k, key_for, msg_with};

/// Where a ticket is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Raised, nobody has looked yet.
    New,
    /// Being worked on.
    Open,
    /// Waiting for the client.
    Pending,
    /// Parked (waiting for a vendor, a part, a change window).
    OnHold,
    /// Fixed; the client may still reopen it.
    Resolved,
    /// Done.
    Closed,
}

/// Every status, in the order forms show them.
pub const ALL_STATUSES: [Status; 6] = [
    Status::New,
    Status::Open,
    Status::Pending,
    Status::OnHold,
    Status::Resolved,
    Status::Closed,
];

/// The one table of allowed status changes; every route goes through [`allowed`].
const TRANSITIONS: &[(Status, Status)] = {
    use Status::*;
    &[
        (New, Open),
        (New, Pending),
        (New, OnHold),
        (New, Resolved),
        (New, Closed),
        (Open, Pending),
        (Open, OnHold),
        (Open, Resolved),
        (Open, Closed),
        (Pending, Open),
        (Pending, OnHold),
        (Pending, Resolved),
        (Pending, Closed),
        (OnHold, Open),
        (OnHold, Pending),
        (OnHold, Resolved),
        (OnHold, Closed),
        (Resolved, Open),
        (Resolved, Closed),
        (Closed, Open),
    ]
};

/// Whether a ticket may move from `from` to `to`.
pub fn allowed(from: Status, to: Status) -> bool {
    TRANSITIONS.contains(&(from, to))
}

/// Refuses a change the table does not allow with a 422 that says what is possible.
pub fn check_transition(from: Status, to: Status) -> Result<(), AppError> {
    if allowed(from, to) {
        return Ok(());
    }
    let options = ALL_STATUSES
        .iter()
        .filter(|s| allowed(from, **s))
        .map(|s| s.label_key().to_string())
        .collect();
    Err(AppError::Unprocessable(msg_with(
        k("ticket-error-transition"),
        &[
            ("from", Arg::key(from.label_key())),
            ("to", Arg::key(to.label_key())),
            ("options", Arg::Keys(options)),
        ],
    )))
}

impl Status {
    /// Stored and API name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Open => "open",
            Status::Pending => "pending",
            Status::OnHold => "on_hold",
            Status::Resolved => "resolved",
            Status::Closed => "closed",
        }
    }

    /// Parses the stored or API name.
    pub fn parse(s: &str) -> Option<Status> {
        ALL_STATUSES.into_iter().find(|x| x.as_str() == s)
    }

    /// An English label, for API clients (the `status_label` of live events).
    pub fn label(self) -> &'static str {
        match self {
            Status::New => "New",
            Status::Open => "Open",
            Status::Pending => "Waiting for you",
            Status::OnHold => "On hold",
            Status::Resolved => "Resolved",
            Status::Closed => "Closed",
        }
    }

    /// The catalog key of the label for people.
    pub fn label_key(self) -> &'static str {
        match self {
            Status::New => k("ticket-status-new"),
            Status::Open => k("ticket-status-open"),
            Status::Pending => k("ticket-status-pending"),
            Status::OnHold => k("ticket-status-on-hold"),
            Status::Resolved => k("ticket-status-resolved"),
            Status::Closed => k("ticket-status-closed"),
        }
    }

    /// The label key as the viewer reads it: staff wait *on the client* where the client is
    /// told the ticket waits *for them*.
    pub fn label_key_for(self, staff: impl std::borrow::Borrow<bool>) -> &'static str {
        match (self, *staff.borrow()) {
            (Status::Pending, true) => k("ticket-status-pending-staff"),
            _ => self.label_key(),
        }
    }

    /// The catalog key of the staff queue's filter option for this status alone.
    pub fn filter_key(self) -> &'static str {
        match self {
            Status::New => k("ticket-filter-only-new"),
            Status::Open => k("ticket-filter-only-open"),
            Status::Pending => k("ticket-filter-only-pending-staff"),
            Status::OnHold => k("ticket-filter-only-on-hold"),
            Status::Resolved => k("ticket-filter-only-resolved"),
            Status::Closed => k("ticket-filter-only-closed"),
        }
    }

    /// True for resolved and closed tickets.
    pub fn is_done(self) -> bool {
        matches!(self, Status::Resolved | Status::Closed)
    }
}

/// How urgent a ticket is; selects the SLA.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    /// Whenever convenient.
    Low,
    /// The default.
    Normal,
    /// Hurts work.
    High,
    /// Business stopped.
    Urgent,
}

/// Every priority, lowest first.
pub const ALL_PRIORITIES: [Priority; 4] = [
    Priority::Low,
    Priority::Normal,
    Priority::High,
    Priority::Urgent,
];

impl Priority {
    /// Stored and API name.
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Low => "low",
            Priority::Normal => "normal",
            Priority::High => "high",
            Priority::Urgent => "urgent",
        }
    }

    /// Parses the stored or API name.
    pub fn parse(s: &str) -> Option<Priority> {
        ALL_PRIORITIES.into_iter().find(|x| x.as_str() == s)
    }

    /// The catalog key of the label for people.
    pub fn label_key(self) -> &'static str {
        match self {
            Priority::Low => k("ticket-priority-low"),
            Priority::Normal => k("ticket-priority-normal"),
            Priority::High => k("ticket-priority-high"),
            Priority::Urgent => k("ticket-priority-urgent"),
        }
    }

    /// Sort rank (higher is more urgent), stored for the priority sort.
    pub fn rank(self) -> i64 {
        match self {
            Priority::Low => 1,
            Priority::Normal => 2,
            Priority::High => 3,
            Priority::Urgent => 4,
        }
    }

    /// Default SLA minutes `(first response, resolution)` when the tenant has set none.
    pub fn default_sla(self) -> (i64, i64) {
        match self {
            Priority::Urgent => (60, 240),
            Priority::High => (240, 1440),
            Priority::Normal => (480, 2880),
            Priority::Low => (1440, 7200),
        }
    }
}

/// The fixed category list (stored in English; shown through `ticket-category-<name>`).
pub const CATEGORIES: [&str; 6] = [
    "General", "Hardware", "Software", "Network", "Access", "Billing",
];

/// A stored category in the reader's language; one no longer in the list is shown as stored.
pub fn category_label(t: &Translator, category: &str) -> String {
    match CATEGORIES.iter().find(|c| c.eq_ignore_ascii_case(category)) {
        Some(c) => t.get(&key_for("ticket-category", c)),
        None => category.to_string(),
    }
}

/// A deadline closer than this counts as "due soon".
pub const DUE_SOON_MS: i64 = 2 * 60 * 60 * 1000;

/// Where a ticket stands against its SLA.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SlaState {
    /// Within time.
    Ok,
    /// A deadline is less than [`DUE_SOON_MS`] away.
    DueSoon,
    /// A deadline was missed.
    Breached,
}

impl SlaState {
    /// API name (also the CSS modifier).
    pub fn as_str(self) -> &'static str {
        match self {
            SlaState::Ok => "ok",
            SlaState::DueSoon => "due_soon",
            SlaState::Breached => "breached",
        }
    }

    /// The catalog key of the label for people.
    pub fn label_key(self) -> &'static str {
        match self {
            SlaState::Ok => k("ticket-sla-ok"),
            SlaState::DueSoon => k("ticket-sla-due-soon"),
            SlaState::Breached => k("ticket-sla-breached"),
        }
    }
}

/// The SLA facts of a ticket.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Sla {
    /// First staff reply due (Unix ms).
    pub first_response_due_at: Option<i64>,
    /// Resolution due (Unix ms).
    pub resolution_due_at: Option<i64>,
    /// First public staff reply (Unix ms).
    pub first_responded_at: Option<i64>,
    /// Resolved (Unix ms).
    pub resolved_at: Option<i64>,
}

impl Sla {
    /// The state at `now` for a ticket in `status`. The SQL filters of the staff queue
    /// (`store::sla_filter`) say the same for open tickets.
    pub fn state(&self, status: Status, now: i64) -> SlaState {
        let done_at = if status.is_done() {
            self.resolved_at.or(Some(now))
        } else {
            None
        };
        // A deadline is met by its event, or pending against `now`.
        let checks = [
            (
                self.first_response_due_at,
                self.first_responded_at.or(done_at),
            ),
            (self.resolution_due_at, done_at),
        ];
        let mut state = SlaState::Ok;
        for (due, met) in checks {
            let Some(due) = due else { continue };
            match met {
                Some(at) if at > due => return SlaState::Breached,
                Some(_) => {}
                None if now > due => return SlaState::Breached,
                None if due - now < DUE_SOON_MS => state = SlaState::DueSoon,
                None => {}
            }
        }
        state
    }
}

/// The SLA deadlines for a ticket created at `now` with the given minutes.
pub fn due_times(now: i64, first_response_minutes: i64, resolution_minutes: i64) -> (i64, i64) {
    (
        now + first_response_minutes * 60_000,
        now + resolution_minutes * 60_000,
    )
}

/// The facts visibility depends on.
pub struct Visibility<'a> {
    /// Ticket's company.
    pub company_id: &'a str,
    /// Requester.
    pub requester_id: &'a str,
    /// Cc'd users.
    pub cc: &'a [String],
}

/// Whether `p` may see a ticket: staff who work tickets; a client's company-wide viewers of
/// their company; otherwise only the requester and cc'd users of the same company.
pub fn can_see(p: &Principal, t: &Visibility<'_>) -> bool {
    if p.can(Permission::ManageTickets) {
        return true;
    }
    let same_company = p.company_id.as_ref().map(|c| c.as_str()) == Some(t.company_id);
    same_company
        && (p.can(Permission::ViewCompanyTickets)
            || t.requester_id == p.user_id.as_str()
            || t.cc.iter().any(|u| u == p.user_id.as_str()))
}

/// Whether a client may still reopen a ticket finished at `done_at`.
pub fn can_reopen(status: Status, done_at: Option<i64>, now: i64, window_days: i64) -> bool {
    status.is_done() && done_at.is_some_and(|at| now - at <= window_days * 86_400_000)
}

/// Renders user Markdown to HTML that is safe to embed (links get `rel="noopener noreferrer"`),
/// with images from other hosts refused (the default of every tenant).
pub fn render_markdown(src: &str) -> String {
    render_markdown_with(src, false)
}

/// True for an image address that would be fetched from another host.
fn is_remote(url: &str) -> bool {
    // Browsers skip leading spaces and controls and read '\\' as '/' in web addresses.
    let u = url
        .trim_start_matches(|c: char| c <= ' ')
        .replace('\\', "/");
    u.starts_with("//")
        || u.split_once(':').is_some_and(|(scheme, _)| {
            !scheme.is_empty()
                && !scheme.contains('/')
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        })
}

/// Renders user Markdown; `remote_images` is the tenant's setting. When off, a Markdown image
/// from another host becomes a plain link to it, and an `<img>` written as HTML loses its
/// `src`: a remote image would tell its host who read the ticket, when, and from where.
pub fn render_markdown_with(src: &str, remote_images: bool) -> String {
    use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd, html};
    let mut opts = Options::empty();
    opts.insert(Options::ENABLE_TABLES);
    opts.insert(Options::ENABLE_STRIKETHROUGH);
    opts.insert(Options::ENABLE_TASKLISTS);
    // Image ends carry no address, so remember which image starts were turned into links.
    let mut as_link = Vec::new();
    let events = Parser::new_ext(src, opts).map(|e| match e {
        Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) => {
            let refuse = !remote_images && is_remote(&dest_url);
            as_link.push(refuse);
            if refuse {
                Event::Start(Tag::Link {
                    link_type,
                    dest_url,
                    title,
                    id,
                })
            } else {
                Event::Start(Tag::Image {
                    link_type,
                    dest_url,
                    title,
                    id,
                })
            }
        }
        Event::End(TagEnd::Image) if as_link.pop().unwrap_or(false) => Event::End(TagEnd::Link),
        other => other,
    });
    let mut out = String::new();
    html::push_html(&mut out, events);
    let mut cleaner = ammonia::Builder::default();
    if !remote_images {
        cleaner.attribute_filter(|element, attribute, value| {
            if element == "img" && matches!(attribute, "src" | "srcset") && is_remote(value) {
                None
            } else {
                Some(value.into())
            }
        });
    }
    cleaner.clean(&out).to_string()
}

/// Validates a subject.
pub fn check_subject(s: &str) -> Result<String, crate::error::FieldError> {
    let s = crate::text::single_line("subject", s, crate::text::SUBJECT_MAX)?;
    if s.is_empty() {
        return Err(field("subject", k("ticket-error-subject")));
    }
    Ok(s)
}

/// Validates a description or comment body.
pub fn check_body(name: &str, s: &str, required: bool) -> Result<String, crate::error::FieldError> {
    let t = crate::text::multi_line(name, s, 50_000)?;
    if required && t.is_empty() {
        return Err(field(
            name,
            if name == "description" {
                k("ticket-error-description")
            } else {
                k("ticket-error-message")
            },
        ));
    }
    Ok(t)
}

fn field(name: &str, msg: &str) -> crate::error::FieldError {
    crate::error::FieldError {
        field: name.into(),
        message: msg.into(),
    }
}

/// Parses a priority field (empty → normal).
pub fn check_priority(s: &str) -> Result<Priority, crate::error::FieldError> {
    if s.trim().is_empty() {
        return Ok(Priority::Normal);
    }
    Priority::parse(s.trim()).ok_or_else(|| field("priority", k("ticket-error-priority")))
}

/// Parses a category field (empty → General).
pub fn check_category(s: &str) -> Result<&'static str, crate::error::FieldError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(CATEGORIES[0]);
    }
    CATEGORIES
        .iter()
        .find(|c| c.eq_ignore_ascii_case(s))
        .copied()
        .ok_or_else(|| field("category", k("ticket-error-category")))
}

pub use crate::files::{clean_filename, human_size, sniff_upload};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transitions() {
        assert!(allowed(Status::New, Status::Open));
        assert!(allowed(Status::Resolved, Status::Open));
        assert!(!allowed(Status::Closed, Status::Pending));
        assert!(!allowed(Status::Open, Status::New));
        assert!(!allowed(Status::Open, Status::Open));
        assert!(check_transition(Status::Closed, Status::Pending).is_err());
        for s in ALL_STATUSES {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn sla_states() {
        let sla = Sla {
            first_response_due_at: Some(10_000_000),
            resolution_due_at: Some(50_000_000),
            first_responded_at: None,
            resolved_at: None,
        };
        assert_eq!(sla.state(Status::New, 0), SlaState::Ok);
        assert_eq!(sla.state(Status::New, 9_000_000), SlaState::DueSoon);
        assert_eq!(sla.state(Status::New, 10_000_001), SlaState::Breached);
        let answered = Sla {
            first_responded_at: Some(5),
            ..sla
        };
        assert_eq!(answered.state(Status::Open, 10_000_001), SlaState::Ok);
    }

    #[test]
    fn markdown_is_sanitised() {
        let html = render_markdown("**hi** <script>alert(1)</script> [x](javascript:alert(1))");
        assert!(html.contains("<strong>hi</strong>"));
        assert!(!html.contains("<script"));
        assert!(!html.contains("javascript:"));
    }

    #[test]
    fn remote_images_are_refused_unless_allowed() {
        let src = "![pixel](https://tracker.example/p.png) ![local](/tickets/1/a.png) <img src=\"//tracker.example/q.png\"> <img src=\"/\\tracker.example/r.png\">";
        let html = render_markdown(src);
        assert!(!html.contains("<img src=\"https://tracker"), "{html}");
        assert!(!html.contains("src=\"//tracker"), "{html}");
        assert!(!html.contains("tracker.example/r.png"), "{html}");
        assert!(
            html.contains("<a href=\"https://tracker.example/p.png\""),
            "a refused image stays reachable as a link: {html}"
        );
        assert!(html.contains("<img src=\"/tickets/1/a.png\""), "{html}");
        let allowed = render_markdown_with(src, true);
        assert!(
            allowed.contains("<img src=\"https://tracker.example/p.png\""),
            "{allowed}"
        );
    }
}
