//! Ticket storage: every query filters by the tenant of the scope it is given.

use serde::Serialize;

use super::{ALL_PRIORITIES, DUE_SOON_MS, Priority, Sla, SlaState, Status};
use crate::db::{AnyRow, Db, DbError, DbResult, Row, TenantDb, TenantTx, flag, new_id, now_ms};
use crate::tenancy::TenantScope;

/// A person shown beside a ticket.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Person {
    /// User id.
    pub id: String,
    /// Display name.
    pub name: String,
}

/// A ticket as pages and the API show it.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Ticket {
    /// Row id.
    #[serde(skip)]
    pub id: String,
    /// Per-tenant number (#1001…).
    pub number: i64,
    /// Summary.
    pub subject: String,
    /// Markdown source.
    pub description: String,
    /// Sanitised HTML of the description.
    pub description_html: String,
    /// Priority.
    pub priority: Priority,
    /// Category.
    pub category: String,
    /// Status.
    pub status: Status,
    /// Company id.
    pub company_id: String,
    /// Company name.
    pub company_name: String,
    /// Who raised it.
    pub requester: Person,
    /// Technician working it.
    pub assignee: Option<Person>,
    /// Users copied on it.
    pub cc: Vec<Person>,
    /// SLA deadlines and events.
    pub sla: Sla,
    /// Closed (Unix ms).
    pub closed_at: Option<i64>,
    /// Created (Unix ms).
    pub created_at: i64,
    /// Last change (Unix ms).
    pub updated_at: i64,
}

impl Ticket {
    /// SLA state now.
    pub fn sla_state(&self, now: i64) -> SlaState {
        self.sla.state(self.status, now)
    }

    /// When the ticket was finished (for the reopen window).
    pub fn done_at(&self) -> Option<i64> {
        self.closed_at.or(self.sla.resolved_at)
    }

    /// The facts `can_see` needs.
    pub fn visibility(&self) -> (Vec<String>, &str, &str) {
        (
            self.cc.iter().map(|p| p.id.clone()).collect(),
            &self.company_id,
            &self.requester.id,
        )
    }
}

/// A ticket as lists show it: no description, no cc list.
#[derive(Clone, Debug)]
pub struct TicketSummary {
    /// Row id.
    pub id: String,
    /// Per-tenant number.
    pub number: i64,
    /// Summary line.
    pub subject: String,
    /// Priority.
    pub priority: Priority,
    /// Category.
    pub category: String,
    /// Status.
    pub status: Status,
    /// Company id.
    pub company_id: String,
    /// Company name.
    pub company_name: String,
    /// Who raised it.
    pub requester: Person,
    /// Technician working it.
    pub assignee: Option<Person>,
    /// SLA deadlines and events.
    pub sla: Sla,
    /// Closed (Unix ms).
    pub closed_at: Option<i64>,
    /// Created (Unix ms).
    pub created_at: i64,
    /// Last change (Unix ms).
    pub updated_at: i64,
}

impl TicketSummary {
    /// SLA state now.
    pub fn sla_state(&self, now: i64) -> SlaState {
        self.sla.state(self.status, now)
    }
}

/// The flat JSON object a list row arrives as (see `Db::json_rows_sql`).
#[derive(serde::Deserialize)]
struct SummaryRow {
    id: String,
    number: i64,
    subject: String,
    priority: String,
    category: String,
    status: String,
    company_id: String,
    company_name: String,
    requester_id: String,
    requester_name: String,
    assignee_id: Option<String>,
    assignee_name: Option<String>,
    first_response_due_at: Option<i64>,
    resolution_due_at: Option<i64>,
    first_responded_at: Option<i64>,
    resolved_at: Option<i64>,
    closed_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

/// Output columns of the list query, in `SummaryRow` order.
const SUMMARY_COLS: &[&str] = &[
    "id",
    "number",
    "subject",
    "priority",
    "category",
    "status",
    "company_id",
    "company_name",
    "requester_id",
    "requester_name",
    "assignee_id",
    "assignee_name",
    "first_response_due_at",
    "resolution_due_at",
    "first_responded_at",
    "resolved_at",
    "closed_at",
    "created_at",
    "updated_at",
    "priority_rank",
];

impl From<SummaryRow> for TicketSummary {
    fn from(r: SummaryRow) -> Self {
        TicketSummary {
            id: r.id,
            number: r.number,
            subject: r.subject,
            priority: Priority::parse(&r.priority).unwrap_or(Priority::Normal),
            category: r.category,
            status: Status::parse(&r.status).unwrap_or(Status::Open),
            company_id: r.company_id,
            company_name: r.company_name,
            requester: Person {
                id: r.requester_id,
                name: r.requester_name,
            },
            assignee: r.assignee_id.map(|id| Person {
                id,
                name: r.assignee_name.unwrap_or_default(),
            }),
            sla: Sla {
                first_response_due_at: r.first_response_due_at,
                resolution_due_at: r.resolution_due_at,
                first_responded_at: r.first_responded_at,
                resolved_at: r.resolved_at,
            },
            closed_at: r.closed_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// A file attached to a ticket or comment.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Attachment {
    /// Id.
    pub id: String,
    /// Comment it came with, if any.
    pub comment_id: Option<String>,
    /// Only staff see it (attached to an internal note).
    #[serde(skip)]
    pub internal: bool,
    /// File name.
    pub filename: String,
    /// Type detected from the content.
    pub content_type: String,
    /// Bytes.
    pub size: i64,
    /// Uploaded (Unix ms).
    pub created_at: i64,
    /// Object key in file storage.
    #[serde(skip)]
    pub storage_key: String,
}

/// A reply or an internal note.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Comment {
    /// Id.
    pub id: String,
    /// Author.
    pub author: Person,
    /// Whether the author is staff.
    pub by_staff: bool,
    /// Markdown source.
    pub body: String,
    /// Sanitised HTML.
    pub body_html: String,
    /// Staff-only note.
    pub internal: bool,
    /// Written (Unix ms).
    pub created_at: i64,
    /// Files attached with it.
    pub attachments: Vec<Attachment>,
}

/// A status change.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct HistoryRow {
    /// Previous status (none for creation).
    pub from: Option<Status>,
    /// New status.
    pub to: Status,
    /// Who changed it.
    pub by: Option<String>,
    /// Reason given (reopen).
    pub reason: Option<String>,
    /// When (Unix ms).
    pub at: i64,
}

const SELECT: &str = "SELECT t.id, t.number, t.subject, t.description, t.description_html, t.priority, \
    t.category, t.status, t.company_id, c.name AS company_name, t.requester_id, r.name AS requester_name, \
    t.assignee_id, a.name AS assignee_name, t.first_response_due_at, t.resolution_due_at, \
    t.first_responded_at, t.resolved_at, t.closed_at, t.created_at, t.updated_at, t.priority_rank \
    FROM tickets t JOIN companies c ON c.id = t.company_id JOIN users r ON r.id = t.requester_id \
    LEFT JOIN users a ON a.id = t.assignee_id";

/// The list columns: `SELECT` without the description.
const LIST_SELECT: &str = "SELECT t.id, t.number, t.subject, t.priority, \
    t.category, t.status, t.company_id, c.name AS company_name, t.requester_id, r.name AS requester_name, \
    t.assignee_id, a.name AS assignee_name, t.first_response_due_at, t.resolution_due_at, \
    t.first_responded_at, t.resolved_at, t.closed_at, t.created_at, t.updated_at, t.priority_rank \
    FROM tickets t JOIN companies c ON c.id = t.company_id JOIN users r ON r.id = t.requester_id \
    LEFT JOIN users a ON a.id = t.assignee_id";

fn ticket_from_row(r: &AnyRow) -> Result<Ticket, sqlx::Error> {
    let status: String = r.try_get("status")?;
    let priority: String = r.try_get("priority")?;
    let assignee_id: Option<String> = r.try_get("assignee_id")?;
    let assignee_name: Option<String> = r.try_get("assignee_name")?;
    Ok(Ticket {
        id: r.try_get("id")?,
        number: r.try_get("number")?,
        subject: r.try_get("subject")?,
        description: r.try_get("description")?,
        description_html: r.try_get("description_html")?,
        priority: Priority::parse(&priority).unwrap_or(Priority::Normal),
        category: r.try_get("category")?,
        status: Status::parse(&status).unwrap_or(Status::Open),
        company_id: r.try_get("company_id")?,
        company_name: r.try_get("company_name")?,
        requester: Person {
            id: r.try_get("requester_id")?,
            name: r.try_get("requester_name")?,
        },
        assignee: assignee_id.map(|id| Person {
            id,
            name: assignee_name.unwrap_or_default(),
        }),
        cc: Vec::new(),
        sla: Sla {
            first_response_due_at: r.try_get("first_response_due_at")?,
            resolution_due_at: r.try_get("resolution_due_at")?,
            first_responded_at: r.try_get("first_responded_at")?,
            resolved_at: r.try_get("resolved_at")?,
        },
        closed_at: r.try_get("closed_at")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// Whose tickets a list shows.
#[derive(Clone, Debug)]
pub enum ListScope {
    /// Staff: the whole tenant.
    Tenant,
    /// Every ticket of a company.
    Company(String),
    /// Tickets a user requested or is cc'd on, within their company.
    Mine {
        /// The user's company.
        company_id: String,
        /// The user.
        user_id: String,
    },
}

/// List order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sort {
    /// Last change first.
    Updated,
    /// Newest first.
    Created,
    /// Most urgent first, then last change.
    Priority,
}

impl Sort {
    /// Parses the query value (default: updated).
    pub fn parse(s: Option<&str>) -> Sort {
        match s {
            Some("created") => Sort::Created,
            Some("priority") => Sort::Priority,
            _ => Sort::Updated,
        }
    }

    /// Query value.
    pub fn as_str(self) -> &'static str {
        match self {
            Sort::Updated => "updated",
            Sort::Created => "created",
            Sort::Priority => "priority",
        }
    }
}

/// Filters of a ticket list.
#[derive(Clone, Debug)]
pub struct ListFilter {
    /// Whose tickets.
    pub scope: ListScope,
    /// Statuses to include (empty: all).
    pub statuses: Vec<Status>,
    /// Text to find in subject, description or (public, for clients) comments.
    pub q: Option<String>,
    /// Only this priority.
    pub priority: Option<Priority>,
    /// Only this company (staff).
    pub company_id: Option<String>,
    /// Only this assignee (`Some("")`: unassigned).
    pub assignee_id: Option<String>,
    /// Only tickets in this SLA state.
    pub sla: Option<SlaState>,
    /// Order.
    pub sort: Sort,
    /// Opaque position from the previous page.
    pub cursor: Option<String>,
    /// Page size (already clamped).
    pub limit: i64,
    /// Whether internal notes count for the text search (staff only).
    pub search_internal: bool,
}

enum Arg {
    S(String),
    I(i64),
}

/// A WHERE clause under construction with its binds, numbered `$1…` for both backends.
#[derive(Default)]
struct Query {
    sql: String,
    args: Vec<Arg>,
}

impl Query {
    fn s(&mut self, v: impl Into<String>) -> String {
        self.args.push(Arg::S(v.into()));
        format!("${}", self.args.len())
    }
    fn i(&mut self, v: i64) -> String {
        self.args.push(Arg::I(v));
        format!("${}", self.args.len())
    }
    fn push(&mut self, s: &str) {
        self.sql.push_str(s);
    }
    async fn fetch_one(self, db: TenantDb<'_>, sql: &str) -> DbResult<AnyRow> {
        let mut q = sqlx::query(sql);
        for a in self.args {
            q = match a {
                Arg::S(s) => q.bind(s),
                Arg::I(i) => q.bind(i),
            };
        }
        Ok(q.fetch_one(db.reader()).await?)
    }
}

/// Encodes the keyset position after `t` for `sort`.
fn cursor_of(sort: Sort, t: &TicketSummary) -> String {
    use base64::Engine;
    let key = match sort {
        Sort::Updated => t.updated_at,
        Sort::Created => t.created_at,
        Sort::Priority => t.updated_at,
    };
    let raw = format!("{}|{}|{}|{}", sort.as_str(), t.priority.rank(), key, t.id);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

fn parse_cursor(sort: Sort, c: &str) -> Option<(i64, i64, String)> {
    use base64::Engine;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(c)
        .ok()?;
    let raw = String::from_utf8(raw).ok()?;
    let mut parts = raw.splitn(4, '|');
    if parts.next()? != sort.as_str() {
        return None;
    }
    let rank = parts.next()?.parse().ok()?;
    let key = parts.next()?.parse().ok()?;
    Some((rank, key, parts.next()?.to_string()))
}

/// Prefixes every column of an `ORDER BY` list with a table alias.
fn qualify(alias: &str, order: &str) -> String {
    order
        .split(", ")
        .map(|c| format!("{alias}{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Escapes `LIKE` wildcards in user text.
fn like_pattern(q: &str) -> String {
    let mut p = String::from("%");
    for ch in q.to_lowercase().chars() {
        if matches!(ch, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(ch);
    }
    p.push('%');
    p
}

/// The open tickets, in the words of the partial index `tickets_open_updated`.
pub(super) const OPEN_ONLY: &str = " AND t.status NOT IN ('resolved', 'closed')";

/// SQL conditions on `t` for "breached" and "due within [`DUE_SOON_MS`]" at the bound times
/// `n` and `soon` (kept in step with `Sla::state` for open tickets).
pub(super) fn sla_exprs(n: &str, soon: &str) -> (String, String) {
    (
        format!(
            "((t.first_responded_at IS NULL AND t.first_response_due_at < {n}) OR t.resolution_due_at < {n} \
             OR COALESCE(t.first_responded_at, 0) > COALESCE(t.first_response_due_at, t.first_responded_at))"
        ),
        format!(
            "((t.first_responded_at IS NULL AND t.first_response_due_at < {soon}) OR t.resolution_due_at < {soon})"
        ),
    )
}

/// SQL saying a ticket is in `state` at `now`.
fn sla_filter(q: &mut Query, state: SlaState, now: i64) {
    let n = q.i(now);
    let soon = q.i(now + DUE_SOON_MS);
    let open = OPEN_ONLY.trim_start_matches(" AND ");
    let (breached, due_soon) = sla_exprs(&n, &soon);
    match state {
        SlaState::Breached => q.push(&format!(" AND {open} AND {breached}")),
        SlaState::DueSoon => q.push(&format!(" AND {open} AND NOT {breached} AND {due_soon}")),
        SlaState::Ok => q.push(&format!(" AND NOT ({open} AND ({breached} OR {due_soon}))")),
    }
}

/// One page of tickets and the cursor of the next.
pub async fn list(
    db: &Db,
    scope: &TenantScope,
    f: &ListFilter,
) -> DbResult<(Vec<TicketSummary>, Option<String>)> {
    let mut q = Query::default();
    q.push(LIST_SELECT);
    let t = q.s(scope.tenant_id().as_str());
    q.push(&format!(" WHERE t.tenant_id = {t}"));
    match &f.scope {
        ListScope::Tenant => {}
        ListScope::Company(c) => {
            let c = q.s(c.clone());
            q.push(&format!(" AND t.company_id = {c}"));
        }
        ListScope::Mine {
            company_id,
            user_id,
        } => {
            let c = q.s(company_id.clone());
            let u = q.s(user_id.clone());
            q.push(&format!(
                " AND t.company_id = {c} AND (t.requester_id = {u} OR EXISTS \
                 (SELECT 1 FROM ticket_cc x WHERE x.ticket_id = t.id AND x.user_id = {u}))"
            ));
        }
    }
    let every_open = [Status::New, Status::Open, Status::Pending, Status::OnHold]
        .iter()
        .all(|s| f.statuses.contains(s));
    if every_open && f.statuses.iter().all(|s| !s.is_done()) {
        // Every open status: spelled as the partial index `tickets_open_updated` is, so the
        // queue is read in order instead of sorted.
        q.push(OPEN_ONLY);
    } else if !f.statuses.is_empty() {
        let list: Vec<String> = f.statuses.iter().map(|s| q.s(s.as_str())).collect();
        q.push(&format!(" AND t.status IN ({})", list.join(", ")));
    }
    if let Some(p) = f.priority {
        let p = q.s(p.as_str());
        q.push(&format!(" AND t.priority = {p}"));
    }
    if let Some(c) = &f.company_id {
        let c = q.s(c.clone());
        q.push(&format!(" AND t.company_id = {c}"));
    }
    match f.assignee_id.as_deref() {
        None => {}
        Some("") => q.push(" AND t.assignee_id IS NULL"),
        Some(a) => {
            let a = q.s(a);
            q.push(&format!(" AND t.assignee_id = {a}"));
        }
    }
    if let Some(state) = f.sla {
        sla_filter(&mut q, state, now_ms());
    }
    // Plain LIKE over subject, description and comments for now; full-text search comes later.
    if let Some(text) = f.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let pat = q.s(like_pattern(&text.replace('\0', "")));
        let internal = if f.search_internal {
            ""
        } else {
            " AND m.internal = 0"
        };
        let number = text
            .trim_start_matches('#')
            .parse::<i64>()
            .ok()
            .map(|n| {
                let n = q.i(n);
                format!(" OR t.number = {n}")
            })
            .unwrap_or_default();
        q.push(&format!(
            " AND (lower(t.subject) LIKE {pat} ESCAPE '\\' OR lower(t.description) LIKE {pat} ESCAPE '\\' \
             OR EXISTS (SELECT 1 FROM ticket_comments m WHERE m.tenant_id = t.tenant_id AND m.ticket_id = t.id{internal} \
             AND lower(m.body) LIKE {pat} ESCAPE '\\'){number})"
        ));
    }
    let key = match f.sort {
        Sort::Created => "t.created_at",
        _ => "t.updated_at",
    };
    if let Some((rank, k, id)) = f.cursor.as_deref().and_then(|c| parse_cursor(f.sort, c)) {
        let k1 = q.i(k);
        let k2 = q.i(k);
        let id = q.s(id);
        let after = format!("({key} < {k1} OR ({key} = {k2} AND t.id < {id}))");
        if f.sort == Sort::Priority {
            let r1 = q.i(rank);
            let r2 = q.i(rank);
            q.push(&format!(
                " AND (t.priority_rank < {r1} OR (t.priority_rank = {r2} AND {after}))"
            ));
        } else {
            q.push(&format!(" AND {after}"));
        }
    }
    let order = match f.sort {
        Sort::Priority => "priority_rank DESC, updated_at DESC, id DESC",
        Sort::Created => "created_at DESC, id DESC",
        Sort::Updated => "updated_at DESC, id DESC",
    };
    let lim = q.i(f.limit + 1);
    q.push(&format!(" ORDER BY {} LIMIT {lim}", qualify("t.", order)));
    let sql = db.json_rows_sql(SUMMARY_COLS, &q.sql, &qualify("j.", order));
    let row = q.fetch_one(db.tenant(scope), &sql).await?;
    let mut items: Vec<TicketSummary> = crate::db::json_rows::<SummaryRow>(&row)?
        .into_iter()
        .map(TicketSummary::from)
        .collect();
    let next = if items.len() as i64 > f.limit {
        items.truncate(f.limit as usize);
        items.last().map(|t| cursor_of(f.sort, t))
    } else {
        None
    };
    Ok((items, next))
}

/// A ticket by its number, with its cc list; the two queries run side by side, because a
/// page pays each reader round trip in full (docs/performance.md).
pub async fn by_number(db: &Db, scope: &TenantScope, number: i64) -> DbResult<Option<Ticket>> {
    let tenant = scope.tenant_id().as_str();
    let pool = db.tenant(scope).reader();
    let sql = format!("{SELECT} WHERE t.tenant_id = $1 AND t.number = $2");
    let ticket = sqlx::query(&sql)
        .bind(tenant)
        .bind(number)
        .fetch_optional(pool);
    let cc = sqlx::query(
        "SELECT u.id, u.name FROM tickets t JOIN ticket_cc x ON x.tenant_id = t.tenant_id AND x.ticket_id = t.id \
         JOIN users u ON u.id = x.user_id WHERE t.tenant_id = $1 AND t.number = $2 ORDER BY u.name",
    )
    .bind(tenant)
    .bind(number)
    .fetch_all(pool);
    let (row, cc) = tokio::try_join!(ticket, cc)?;
    let Some(row) = row else { return Ok(None) };
    let mut t = ticket_from_row(&row)?;
    t.cc = people(&cc)?;
    Ok(Some(t))
}

fn people(rows: &[AnyRow]) -> Result<Vec<Person>, sqlx::Error> {
    rows.iter()
        .map(|r| {
            Ok(Person {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
            })
        })
        .collect()
}

/// A ticket as the action's transaction sees it (after its own changes).
pub async fn by_number_in(tx: &mut TenantTx, number: i64) -> DbResult<Option<Ticket>> {
    let tenant = tx.tenant_id().to_string();
    ticket_on(tx.conn(), &tenant, number).await
}

async fn ticket_on(
    conn: &mut sqlx::AnyConnection,
    tenant: &str,
    number: i64,
) -> DbResult<Option<Ticket>> {
    let sql = format!("{SELECT} WHERE t.tenant_id = $1 AND t.number = $2");
    let Some(row) = sqlx::query(&sql)
        .bind(tenant)
        .bind(number)
        .fetch_optional(&mut *conn)
        .await?
    else {
        return Ok(None);
    };
    let mut t = ticket_from_row(&row)?;
    let cc = sqlx::query(
        "SELECT u.id, u.name FROM ticket_cc x JOIN users u ON u.id = x.user_id \
         WHERE x.tenant_id = $1 AND x.ticket_id = $2 ORDER BY u.name",
    )
    .bind(tenant)
    .bind(&t.id)
    .fetch_all(&mut *conn)
    .await?;
    t.cc = people(&cc)?;
    Ok(Some(t))
}

fn attachment_from_row(r: &AnyRow) -> Result<Attachment, sqlx::Error> {
    Ok(Attachment {
        id: r.try_get("id")?,
        comment_id: r.try_get("comment_id")?,
        internal: flag(r, "internal")?,
        filename: r.try_get("filename")?,
        content_type: r.try_get("content_type")?,
        size: r.try_get("size")?,
        created_at: r.try_get("created_at")?,
        storage_key: r.try_get("storage_key")?,
    })
}

/// The attachments of a ticket, oldest first; internal ones only when asked.
pub async fn attachments(
    db: &Db,
    scope: &TenantScope,
    ticket_id: &str,
    include_internal: bool,
) -> DbResult<Vec<Attachment>> {
    let rows = sqlx::query(
        "SELECT id, comment_id, internal, filename, content_type, size, created_at, storage_key FROM ticket_attachments \
         WHERE tenant_id = $1 AND ticket_id = $2 AND (internal = 0 OR $3 = 1) ORDER BY created_at, id",
    )
    .bind(scope.tenant_id().as_str())
    .bind(ticket_id)
    .bind(i64::from(include_internal))
    .fetch_all(db.tenant(scope).reader())
    .await?;
    Ok(rows
        .iter()
        .map(attachment_from_row)
        .collect::<Result<_, _>>()?)
}

/// One attachment of a ticket; internal ones only when asked.
pub async fn attachment(
    db: &Db,
    scope: &TenantScope,
    ticket_id: &str,
    id: &str,
    include_internal: bool,
) -> DbResult<Option<Attachment>> {
    let row = sqlx::query(
        "SELECT id, comment_id, internal, filename, content_type, size, created_at, storage_key FROM ticket_attachments \
         WHERE tenant_id = $1 AND ticket_id = $2 AND id = $3 AND (internal = 0 OR $4 = 1)",
    )
    .bind(scope.tenant_id().as_str())
    .bind(ticket_id)
    .bind(id)
    .bind(i64::from(include_internal))
    .fetch_optional(db.tenant(scope).reader())
    .await?;
    Ok(row.map(|r| attachment_from_row(&r)).transpose()?)
}

/// The comments of a ticket, oldest first, with their attachments; internal notes only when asked.
pub async fn comments(
    db: &Db,
    scope: &TenantScope,
    ticket_id: &str,
    include_internal: bool,
) -> DbResult<Vec<Comment>> {
    Ok(thread(db, scope, ticket_id, include_internal).await?.0)
}

/// The comments of a ticket with their attachments, and the attachments not on any comment;
/// comments and attachments are read side by side.
pub async fn thread(
    db: &Db,
    scope: &TenantScope,
    ticket_id: &str,
    include_internal: bool,
) -> DbResult<(Vec<Comment>, Vec<Attachment>)> {
    let rows = sqlx::query(
        "SELECT m.id, m.author_id, u.name AS author_name, u.kind AS author_kind, m.body, m.body_html, \
         m.internal, m.created_at FROM ticket_comments m JOIN users u ON u.id = m.author_id \
         WHERE m.tenant_id = $1 AND m.ticket_id = $2 AND (m.internal = 0 OR $3 = 1) \
         ORDER BY m.created_at, m.id",
    )
    .bind(scope.tenant_id().as_str())
    .bind(ticket_id)
    .bind(i64::from(include_internal))
    .fetch_all(db.tenant(scope).reader());
    let (rows, files) = tokio::try_join!(
        async { rows.await.map_err(DbError::from) },
        attachments(db, scope, ticket_id, include_internal)
    )?;
    let comments = rows
        .iter()
        .map(|r| {
            let id: String = r.try_get("id")?;
            let kind: String = r.try_get("author_kind")?;
            Ok(Comment {
                attachments: files
                    .iter()
                    .filter(|a| a.comment_id.as_deref() == Some(id.as_str()))
                    .cloned()
                    .collect(),
                id,
                author: Person {
                    id: r.try_get("author_id")?,
                    name: r.try_get("author_name")?,
                },
                by_staff: kind == "staff",
                body: r.try_get("body")?,
                body_html: r.try_get("body_html")?,
                internal: flag(r, "internal")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()?;
    let loose = files
        .into_iter()
        .filter(|a| a.comment_id.is_none())
        .collect();
    Ok((comments, loose))
}

/// The status history of a ticket, oldest first.
pub async fn history(db: &Db, scope: &TenantScope, ticket_id: &str) -> DbResult<Vec<HistoryRow>> {
    let rows = sqlx::query(
        "SELECT h.from_status, h.to_status, u.name AS by_name, h.reason, h.at FROM ticket_status_history h \
         LEFT JOIN users u ON u.id = h.actor_id WHERE h.tenant_id = $1 AND h.ticket_id = $2 ORDER BY h.at, h.id",
    )
    .bind(scope.tenant_id().as_str())
    .bind(ticket_id)
    .fetch_all(db.tenant(scope).reader())
    .await?;
    rows.iter()
        .map(|r| {
            let from: Option<String> = r.try_get("from_status")?;
            let to: String = r.try_get("to_status")?;
            Ok(HistoryRow {
                from: from.as_deref().and_then(Status::parse),
                to: Status::parse(&to).unwrap_or(Status::Open),
                by: r.try_get("by_name")?,
                reason: r.try_get("reason")?,
                at: r.try_get("at")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(DbError::from)
}

/// SLA minutes `(first response, resolution)` of a priority, seeding the defaults when absent,
/// inside the action's transaction.
pub async fn sla_minutes(tx: &mut TenantTx, p: Priority) -> DbResult<(i64, i64)> {
    let tenant = tx.tenant_id().to_string();
    let row = sqlx::query(
        "SELECT first_response_minutes, resolution_minutes FROM sla_policies WHERE tenant_id = $1 AND priority = $2",
    )
    .bind(&tenant)
    .bind(p.as_str())
    .fetch_optional(tx.conn())
    .await?;
    if let Some(r) = row {
        return Ok((r.try_get(0)?, r.try_get(1)?));
    }
    for pr in ALL_PRIORITIES {
        let (f, r) = pr.default_sla();
        sqlx::query(
            "INSERT INTO sla_policies (tenant_id, priority, first_response_minutes, resolution_minutes) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (tenant_id, priority) DO NOTHING",
        )
        .bind(&tenant)
        .bind(pr.as_str())
        .bind(f)
        .bind(r)
        .execute(tx.conn())
        .await?;
    }
    Ok(p.default_sla())
}

/// What a new ticket holds.
pub struct NewTicket<'a> {
    /// Company.
    pub company_id: &'a str,
    /// Requester.
    pub requester_id: &'a str,
    /// Who created it (requester or staff on their behalf).
    pub actor_id: &'a str,
    /// Summary.
    pub subject: &'a str,
    /// Markdown.
    pub description: &'a str,
    /// Priority.
    pub priority: Priority,
    /// Category.
    pub category: &'a str,
    /// Users to copy.
    pub cc: &'a [String],
    /// Created at (Unix ms); tests and demo data may set the past.
    pub now: i64,
}

/// Creates a ticket with the next number of the tenant; returns `(id, number)`.
/// Creates a ticket and records `audit` (completed with the ticket's id and number) in the
/// same transaction; demo data, which has no request behind it, passes `None`.
pub async fn create(
    tx: &mut TenantTx,
    n: &NewTicket<'_>,
    audit: Option<crate::audit::Entry<'_>>,
) -> DbResult<(String, i64)> {
    let (fr, res) = sla_minutes(tx, n.priority).await?;
    let (fr_due, res_due) = super::due_times(n.now, fr, res);
    let remote_images = crate::branding::remote_images_allowed_in(tx).await?;
    let html = super::render_markdown_with(n.description, remote_images);
    let tenant = &tx.tenant_id().to_string();
    // The counter row serialises number allocation per tenant: no gaps from races, no duplicates.
    let number: i64 = sqlx::query(
        "INSERT INTO ticket_counters (tenant_id, last_number) VALUES ($1, 1001) \
         ON CONFLICT (tenant_id) DO UPDATE SET last_number = ticket_counters.last_number + 1 \
         RETURNING last_number",
    )
    .bind(tenant)
    .fetch_one(tx.conn())
    .await?
    .try_get(0)?;
    let id = new_id();
    sqlx::query(
        "INSERT INTO tickets (id, tenant_id, number, company_id, requester_id, assignee_id, subject, description, \
         description_html, priority, priority_rank, category, status, first_response_due_at, resolution_due_at, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, NULL, $6, $7, $8, $9, $10, $11, 'new', $12, $13, $14, $14)",
    )
    .bind(&id)
    .bind(tenant)
    .bind(number)
    .bind(n.company_id)
    .bind(n.requester_id)
    .bind(n.subject)
    .bind(n.description)
    .bind(&html)
    .bind(n.priority.as_str())
    .bind(n.priority.rank())
    .bind(n.category)
    .bind(fr_due)
    .bind(res_due)
    .bind(n.now)
    .execute(tx.conn())
    .await?;
    for u in n.cc {
        sqlx::query(
            "INSERT INTO ticket_cc (ticket_id, user_id, tenant_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(&id)
        .bind(u)
        .bind(tenant)
        .execute(tx.conn())
        .await?;
    }
    sqlx::query(
        "INSERT INTO ticket_status_history (id, tenant_id, ticket_id, from_status, to_status, actor_id, reason, at) \
         VALUES ($1, $2, $3, NULL, 'new', $4, NULL, $5)",
    )
    .bind(new_id())
    .bind(tenant)
    .bind(&id)
    .bind(n.actor_id)
    .bind(n.now)
    .execute(tx.conn())
    .await?;
    if let Some(audit) = audit {
        let entry = audit.with("number", number).target("ticket", &id);
        crate::audit::append(tx, entry).await?;
    }
    Ok((id, number))
}

/// A status change to apply with a comment or alone.
pub struct StatusChange<'a> {
    /// Expected current status (the write fails with a conflict if it changed meanwhile).
    pub from: Status,
    /// New status.
    pub to: Status,
    /// Reason (reopen).
    pub reason: Option<&'a str>,
}

async fn apply_status(
    tx: &mut sqlx::AnyConnection,
    tenant: &str,
    ticket_id: &str,
    actor_id: &str,
    c: &StatusChange<'_>,
    now: i64,
) -> DbResult<()> {
    let (resolved, closed) = match c.to {
        Status::Resolved => ("$4", "NULL"),
        Status::Closed => ("COALESCE(resolved_at, $4)", "$4"),
        _ => ("NULL", "NULL"),
    };
    let done = sqlx::query(&format!(
        "UPDATE tickets SET status = $5, updated_at = $4, resolved_at = {resolved}, closed_at = {closed} \
         WHERE tenant_id = $1 AND id = $2 AND status = $3"
    ))
    .bind(tenant)
    .bind(ticket_id)
    .bind(c.from.as_str())
    .bind(now)
    .bind(c.to.as_str())
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(DbError::Conflict("ticket status changed".into()));
    }
    sqlx::query(
        "INSERT INTO ticket_status_history (id, tenant_id, ticket_id, from_status, to_status, actor_id, reason, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(new_id())
    .bind(tenant)
    .bind(ticket_id)
    .bind(c.from.as_str())
    .bind(c.to.as_str())
    .bind(actor_id)
    .bind(c.reason)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Changes the status (checked against the transition table by the caller).
pub async fn set_status(
    tx: &mut TenantTx,
    ticket_id: &str,
    actor_id: &str,
    c: &StatusChange<'_>,
    now: i64,
) -> DbResult<()> {
    let tenant = tx.tenant_id().to_string();
    apply_status(tx.conn(), &tenant, ticket_id, actor_id, c, now).await
}

/// A new comment.
pub struct NewComment<'a> {
    /// Author.
    pub author_id: &'a str,
    /// Markdown.
    pub body: &'a str,
    /// Staff-only.
    pub internal: bool,
    /// A public staff reply (sets the first response time once).
    pub staff_public: bool,
    /// Status change made with it.
    pub status: Option<StatusChange<'a>>,
    /// When (Unix ms).
    pub now: i64,
}

/// Adds a comment, its status change and its audit record (`audit`, completed with the
/// comment's id) in the action's transaction; returns the comment id.
pub async fn add_comment(
    tx: &mut TenantTx,
    ticket_id: &str,
    c: &NewComment<'_>,
    audit: Option<crate::audit::Entry<'_>>,
) -> DbResult<String> {
    let tenant = &tx.tenant_id().to_string();
    let id = new_id();
    let remote_images = crate::branding::remote_images_allowed_in(tx).await?;
    sqlx::query(
        "INSERT INTO ticket_comments (id, tenant_id, ticket_id, author_id, body, body_html, internal, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&id)
    .bind(tenant)
    .bind(ticket_id)
    .bind(c.author_id)
    .bind(c.body)
    .bind(super::render_markdown_with(c.body, remote_images))
    .bind(i64::from(c.internal))
    .bind(c.now)
    .execute(tx.conn())
    .await?;
    let first = if c.staff_public {
        "COALESCE(first_responded_at, $3)"
    } else {
        "first_responded_at"
    };
    sqlx::query(&format!(
        "UPDATE tickets SET updated_at = $3, first_responded_at = {first} WHERE tenant_id = $1 AND id = $2"
    ))
    .bind(tenant)
    .bind(ticket_id)
    .bind(c.now)
    .execute(tx.conn())
    .await?;
    if let Some(s) = &c.status {
        apply_status(tx.conn(), tenant, ticket_id, c.author_id, s, c.now).await?;
    }
    if let Some(audit) = audit {
        crate::audit::append(tx, audit.with("comment", id.as_str())).await?;
    }
    Ok(id)
}

/// Sets the priority and recomputes the SLA deadlines from the creation time.
pub async fn set_priority(tx: &mut TenantTx, t: &Ticket, p: Priority) -> DbResult<()> {
    let (fr, res) = sla_minutes(tx, p).await?;
    let tenant = tx.tenant_id().to_string();
    let (fr_due, res_due) = super::due_times(t.created_at, fr, res);
    sqlx::query(
        "UPDATE tickets SET priority = $3, priority_rank = $4, first_response_due_at = $5, resolution_due_at = $6, \
         updated_at = $7, sla_first_warned_at = NULL, sla_resolution_warned_at = NULL \
         WHERE tenant_id = $1 AND id = $2",
    )
    .bind(&tenant)
    .bind(&t.id)
    .bind(p.as_str())
    .bind(p.rank())
    .bind(fr_due)
    .bind(res_due)
    .bind(now_ms())
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Records an email taken in as a comment; a second delivery of the same message fails with
/// a conflict (the primary key), which rolls back its comment.
pub async fn record_inbound(
    tx: &mut TenantTx,
    message_id: &str,
    ticket_id: &str,
    comment_id: &str,
    now: i64,
) -> DbResult<()> {
    let tenant = tx.tenant_id().to_string();
    sqlx::query(
        "INSERT INTO inbound_messages (tenant_id, message_id, ticket_id, comment_id, received_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&tenant)
    .bind(message_id)
    .bind(ticket_id)
    .bind(comment_id)
    .bind(now)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Whether an email with this Message-ID was already taken in.
pub async fn inbound_seen(db: &Db, scope: &TenantScope, message_id: &str) -> DbResult<bool> {
    let row =
        sqlx::query("SELECT 1 FROM inbound_messages WHERE tenant_id = $1 AND message_id = $2")
            .bind(scope.tenant_id().as_str())
            .bind(message_id)
            .fetch_optional(db.tenant(scope).reader())
            .await?;
    Ok(row.is_some())
}

/// An active user of the tenant found by email address, with what a principal needs:
/// `(id, email, name, kind, role, company_id, company_name, language)`.
pub struct Sender {
    /// User id.
    pub id: String,
    /// Address (as stored).
    pub email: String,
    /// Display name.
    pub name: String,
    /// `staff` or `client`.
    pub kind: String,
    /// Stored role.
    pub role: String,
    /// Company (clients).
    pub company_id: Option<String>,
    /// Company name (clients).
    pub company_name: Option<String>,
    /// Profile language.
    pub language: Option<String>,
}

/// The active user with this address in the tenant.
pub async fn active_user_by_email(
    db: &Db,
    scope: &TenantScope,
    email: &str,
) -> DbResult<Option<Sender>> {
    let row = sqlx::query(
        "SELECT u.id, u.email, u.name, u.kind, u.role, u.company_id, c.name AS company_name, u.language \
         FROM users u LEFT JOIN companies c ON c.id = u.company_id AND c.tenant_id = u.tenant_id \
         WHERE u.tenant_id = $1 AND LOWER(u.email) = $2 AND u.status = 'active'",
    )
    .bind(scope.tenant_id().as_str())
    .bind(email.to_lowercase())
    .fetch_optional(db.tenant(scope).reader())
    .await?;
    let Some(r) = row else { return Ok(None) };
    Ok(Some(Sender {
        id: r.try_get("id")?,
        email: r.try_get("email")?,
        name: r.try_get("name")?,
        kind: r.try_get("kind")?,
        role: r.try_get("role")?,
        company_id: r.try_get("company_id")?,
        company_name: r.try_get("company_name")?,
        language: r.try_get("language")?,
    }))
}

/// Every tenant's ticket with this number, as `(tenant_id, ticket_id)`: the inbound address
/// names only the number, and its token says which tenant's ticket it is.
pub async fn tickets_numbered(
    op: &crate::db::Operator<'_>,
    number: i64,
) -> DbResult<Vec<(String, String)>> {
    let rows = sqlx::query("SELECT tenant_id, id FROM tickets WHERE number = $1 LIMIT 10000")
        .bind(number)
        .fetch_all(op.reader())
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("tenant_id")?, r.try_get("id")?)))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

/// A ticket deadline staff are warned about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Deadline {
    /// First public staff reply.
    FirstResponse,
    /// Resolution.
    Resolution,
}

impl Deadline {
    /// Name in audit details.
    pub fn as_str(self) -> &'static str {
        match self {
            Deadline::FirstResponse => "first_response",
            Deadline::Resolution => "resolution",
        }
    }
}

/// Records that the warning for `d` goes out now, if the deadline is still unmet, falls due
/// within `window` and was not warned about yet; returns the due time when this call claimed it.
pub async fn claim_sla_warning(
    tx: &mut TenantTx,
    ticket_id: &str,
    d: Deadline,
    now: i64,
    window: i64,
) -> DbResult<Option<i64>> {
    let (due, warned, unmet) = match d {
        Deadline::FirstResponse => (
            "first_response_due_at",
            "sla_first_warned_at",
            "first_responded_at IS NULL",
        ),
        Deadline::Resolution => ("resolution_due_at", "sla_resolution_warned_at", "1 = 1"),
    };
    let tenant = tx.tenant_id().to_string();
    let row = sqlx::query(&format!(
        "UPDATE tickets SET {warned} = $3 WHERE tenant_id = $1 AND id = $2 AND {warned} IS NULL \
         AND {unmet} AND status IN ('new', 'open', 'pending', 'on_hold') \
         AND {due} > $3 AND {due} <= $4 RETURNING {due}"
    ))
    .bind(&tenant)
    .bind(ticket_id)
    .bind(now)
    .bind(now + window)
    .fetch_optional(tx.conn())
    .await?;
    Ok(row.map(|r| r.try_get::<i64, _>(0)).transpose()?)
}

/// Sets or clears the assignee.
pub async fn set_assignee(
    tx: &mut TenantTx,
    ticket_id: &str,
    assignee: Option<&str>,
) -> DbResult<()> {
    let tenant = tx.tenant_id().to_string();
    sqlx::query(
        "UPDATE tickets SET assignee_id = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2",
    )
    .bind(&tenant)
    .bind(ticket_id)
    .bind(assignee)
    .bind(now_ms())
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Records an attachment whose file is already in storage.
pub async fn add_attachment(
    tx: &mut TenantTx,
    id: &str,
    ticket_id: &str,
    comment_id: Option<&str>,
    internal: bool,
    uploader_id: &str,
    file: &crate::files::StoredFile,
) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO ticket_attachments (id, tenant_id, ticket_id, comment_id, internal, uploader_id, filename, \
         content_type, size, created_at, storage_key, sha256) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(id)
    .bind(tx.tenant_id().to_string())
    .bind(ticket_id)
    .bind(comment_id)
    .bind(i64::from(internal))
    .bind(uploader_id)
    .bind(&file.filename)
    .bind(file.content_type)
    .bind(file.size)
    .bind(now_ms())
    .bind(file.key.as_str())
    .bind(&file.sha256)
    .execute(tx.conn())
    .await?;
    sqlx::query("UPDATE tickets SET updated_at = $3 WHERE tenant_id = $1 AND id = $2")
        .bind(tx.tenant_id().to_string())
        .bind(ticket_id)
        .bind(now_ms())
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Attachments of every tenant still stored in the pre-0012 layout: `(tenant, id, key)`.
pub async fn legacy_attachments(
    op: &crate::db::Operator<'_>,
) -> DbResult<Vec<(String, String, String)>> {
    let rows = sqlx::query(
        "SELECT tenant_id, id, storage_key FROM ticket_attachments \
         WHERE storage_key NOT LIKE 't/%' ORDER BY tenant_id, created_at, id",
    )
    .fetch_all(op.reader())
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("tenant_id")?,
                r.try_get("id")?,
                r.try_get("storage_key")?,
            ))
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

/// Points an attachment at its copied object (only if it still names `old`).
pub async fn move_attachment(
    db: &Db,
    scope: &TenantScope,
    id: &str,
    old: &crate::files::ObjectKey,
    new: &crate::files::ObjectKey,
    sha256: &str,
) -> DbResult<()> {
    sqlx::query(
        "UPDATE ticket_attachments SET storage_key = $4, sha256 = $5 \
         WHERE tenant_id = $1 AND id = $2 AND storage_key = $3",
    )
    .bind(scope.tenant_id().as_str())
    .bind(id)
    .bind(old.as_str())
    .bind(new.as_str())
    .bind(sha256)
    .execute(db.tenant(scope).writer())
    .await?;
    Ok(())
}

/// Someone who gets ticket emails, with their preferences.
pub struct Recipient {
    /// User id.
    pub user_id: String,
    /// Address.
    pub email: String,
    /// Wants reply emails.
    pub ticket_replies: bool,
    /// Wants status-change emails.
    pub status_changes: bool,
    /// Staff: wants new-ticket emails.
    pub new_tickets: bool,
    /// Staff: wants SLA warnings.
    pub sla_warnings: bool,
    /// Profile language, when chosen.
    pub language: Option<String>,
    /// The tenant's default locale (for recipients without a language).
    pub tenant_locale: String,
}

/// Requester and cc'd users who are active, with their email preferences from the profile's
/// `notification_prefs` (on when unset) and what decides their emails' language.
pub async fn recipients(tx: &mut TenantTx, ticket_id: &str) -> DbResult<Vec<Recipient>> {
    let tenant = tx.tenant_id().to_string();
    let rows = sqlx::query(
        "SELECT u.id, u.email, COALESCE(p.ticket_replies, 1) AS ticket_replies, \
         COALESCE(p.status_changes, 1) AS status_changes, COALESCE(p.new_tickets, 1) AS new_tickets, \
         COALESCE(p.sla_warnings, 1) AS sla_warnings, u.language, t.default_locale FROM users u \
         JOIN tenants t ON t.id = u.tenant_id \
         LEFT JOIN notification_prefs p ON p.tenant_id = u.tenant_id AND p.user_id = u.id \
         WHERE u.tenant_id = $1 AND u.status = 'active' AND (u.id = (SELECT requester_id FROM tickets WHERE id = $2 AND tenant_id = $1) \
         OR u.id IN (SELECT user_id FROM ticket_cc WHERE ticket_id = $2 AND tenant_id = $1))",
    )
    .bind(&tenant)
    .bind(ticket_id)
    .fetch_all(tx.conn())
    .await?;
    recipients_from(&rows)
}

fn recipients_from(rows: &[AnyRow]) -> DbResult<Vec<Recipient>> {
    rows.iter()
        .map(|r| {
            Ok(Recipient {
                user_id: r.try_get("id")?,
                email: r.try_get("email")?,
                ticket_replies: flag(r, "ticket_replies")?,
                status_changes: flag(r, "status_changes")?,
                new_tickets: flag(r, "new_tickets")?,
                sla_warnings: flag(r, "sla_warnings")?,
                language: r.try_get("language")?,
                tenant_locale: r.try_get("default_locale")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(DbError::from)
}

/// Who a staff-side email about a ticket goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Audience {
    /// The requester alone (confirmation of a ticket raised on their behalf).
    Requester,
    /// The assigned technician; when nobody is assigned, every active staff user.
    Staff,
}

/// Recipients with their preferences, read in the action's transaction (so a ticket created
/// in it is seen).
pub async fn recipients_in(
    tx: &mut TenantTx,
    ticket_id: &str,
    who: Audience,
) -> DbResult<Vec<Recipient>> {
    let condition = match who {
        Audience::Requester => {
            "u.id = (SELECT requester_id FROM tickets WHERE id = $2 AND tenant_id = $1)"
        }
        Audience::Staff => {
            "u.kind = 'staff' AND (u.id = (SELECT assignee_id FROM tickets WHERE id = $2 AND tenant_id = $1) \
             OR NOT EXISTS (SELECT 1 FROM tickets WHERE id = $2 AND tenant_id = $1 AND assignee_id IS NOT NULL))"
        }
    };
    let tenant = tx.tenant_id().to_string();
    let rows = sqlx::query(&format!(
        "SELECT u.id, u.email, COALESCE(p.ticket_replies, 1) AS ticket_replies, \
         COALESCE(p.status_changes, 1) AS status_changes, COALESCE(p.new_tickets, 1) AS new_tickets, \
         COALESCE(p.sla_warnings, 1) AS sla_warnings, u.language, t.default_locale FROM users u \
         JOIN tenants t ON t.id = u.tenant_id \
         LEFT JOIN notification_prefs p ON p.tenant_id = u.tenant_id AND p.user_id = u.id \
         WHERE u.tenant_id = $1 AND u.status = 'active' AND {condition} ORDER BY u.email"
    ))
    .bind(&tenant)
    .bind(ticket_id)
    .fetch_all(tx.conn())
    .await?;
    recipients_from(&rows)
}

/// A user offered in pickers.
#[derive(Clone, Debug, Serialize)]
pub struct Pick {
    /// User id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Email.
    pub email: String,
    /// Company id (clients).
    pub company_id: Option<String>,
    /// Company name (clients).
    pub company_name: Option<String>,
}

/// Active users of a kind (`staff` or `client`), optionally of one company, by name.
pub async fn users_of_kind(
    db: &Db,
    scope: &TenantScope,
    kind: &str,
    company_id: Option<&str>,
) -> DbResult<Vec<Pick>> {
    let rows = sqlx::query(
        "SELECT u.id, u.name, u.email, u.company_id, c.name AS company_name FROM users u \
         LEFT JOIN companies c ON c.id = u.company_id WHERE u.tenant_id = $1 AND u.kind = $2 \
         AND u.status = 'active' AND ($3 = '' OR u.company_id = $3) ORDER BY c.name, u.name LIMIT 1000",
    )
    .bind(scope.tenant_id().as_str())
    .bind(kind)
    .bind(company_id.unwrap_or(""))
    .fetch_all(db.tenant(scope).reader())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Pick {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                email: r.try_get("email")?,
                company_id: r.try_get("company_id")?,
                company_name: r.try_get("company_name")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(DbError::from)
}

/// A user's display name (empty when unknown).
/// A user's name read inside the action's transaction: on PostgreSQL reads and writes share one
/// pool, so a read taken beside an open transaction can wait for a connection that only frees
/// when that transaction commits.
pub async fn user_name_in(tx: &mut TenantTx, user_id: &str) -> DbResult<String> {
    let tenant = tx.tenant_id().to_string();
    let row = sqlx::query("SELECT name FROM users WHERE tenant_id = $1 AND id = $2")
        .bind(&tenant)
        .bind(user_id)
        .fetch_optional(tx.conn())
        .await?;
    Ok(row
        .map(|r| r.try_get::<String, _>(0))
        .transpose()?
        .unwrap_or_default())
}

/// A user's name (empty when unknown).
pub async fn user_name(db: &Db, scope: &TenantScope, user_id: &str) -> DbResult<String> {
    let row = sqlx::query("SELECT name FROM users WHERE tenant_id = $1 AND id = $2")
        .bind(scope.tenant_id().as_str())
        .bind(user_id)
        .fetch_optional(db.tenant(scope).reader())
        .await?;
    Ok(row
        .map(|r| r.try_get::<String, _>(0))
        .transpose()?
        .unwrap_or_default())
}

/// Records that the user has seen the ticket as it is (`updated_at`). Viewing a ticket already
/// seen since its last change writes nothing: on SQLite every write queues for the one writer,
/// and a page view should not.
pub async fn mark_seen(
    db: &Db,
    scope: &TenantScope,
    user_id: &str,
    ticket_id: &str,
    updated_at: i64,
) -> DbResult<()> {
    let seen = sqlx::query(
        "SELECT seen_at FROM ticket_reads WHERE user_id = $1 AND ticket_id = $2 AND tenant_id = $3",
    )
    .bind(user_id)
    .bind(ticket_id)
    .bind(scope.tenant_id().as_str())
    .fetch_optional(db.tenant(scope).reader())
    .await?;
    if let Some(row) = seen
        && row.try_get::<i64, _>("seen_at")? >= updated_at
    {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO ticket_reads (user_id, ticket_id, tenant_id, seen_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (user_id, ticket_id) DO UPDATE SET seen_at = excluded.seen_at",
    )
    .bind(user_id)
    .bind(ticket_id)
    .bind(scope.tenant_id().as_str())
    .bind(now_ms())
    .execute(db.tenant(scope).writer())
    .await?;
    Ok(())
}

/// How many of the user's own tickets (requested or cc'd) changed since they last opened them.
pub async fn unseen_count(db: &Db, scope: &TenantScope, user_id: &str) -> DbResult<i64> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM tickets t \
         LEFT JOIN ticket_reads r ON r.user_id = $2 AND r.ticket_id = t.id \
         WHERE t.tenant_id = $1 \
           AND (t.requester_id = $2 OR EXISTS (SELECT 1 FROM ticket_cc c WHERE c.ticket_id = t.id AND c.user_id = $2)) \
           AND t.updated_at > COALESCE(r.seen_at, 0)",
    )
    .bind(scope.tenant_id().as_str())
    .bind(user_id)
    .fetch_one(db.tenant(scope).reader())
    .await?;
    Ok(row.try_get("n")?)
}
