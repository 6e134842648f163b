//! What the dashboards say about tickets: counts that link to a filtered list, and the newest
//! replies. A few aggregate queries per page, never one per ticket.

use super::store::{OPEN_ONLY, sla_exprs};
use super::{DUE_SOON_MS, Status};
use crate::db::{Db, DbResult, Row, now_ms};
use crate::tenancy::TenantScope;

/// A reply shown on a dashboard.
#[derive(Clone, Debug)]
pub struct Reply {
    /// Ticket number.
    pub number: i64,
    /// Ticket subject.
    pub subject: String,
    /// Who wrote it.
    pub author: String,
    /// The start of the reply, on one line.
    pub excerpt: String,
    /// When.
    pub at: i64,
}

/// A client's (or member's) view of their tickets.
#[derive(Clone, Debug, Default)]
pub struct ClientSummary {
    /// Open tickets they raised or follow.
    pub mine_open: i64,
    /// Of those, how many wait for a reply from the client.
    pub mine_waiting: i64,
    /// Open tickets of the whole company (company admins only).
    pub company_open: Option<i64>,
    /// The newest staff replies on tickets they can see.
    pub replies: Vec<Reply>,
}

/// Staff's view of the queue.
#[derive(Clone, Debug, Default)]
pub struct StaffSummary {
    /// Open tickets per open status, in workflow order.
    pub by_status: Vec<(Status, i64)>,
    /// Open tickets nobody is assigned to.
    pub unassigned: i64,
    /// Open tickets past a deadline.
    pub breached: i64,
    /// Open tickets with a deadline coming up (not yet breached).
    pub due_soon: i64,
    /// Open tickets assigned to the viewer.
    pub mine: i64,
    /// The newest client replies.
    pub replies: Vec<Reply>,
}

/// Which tickets of a company a client sees on the dashboard.
pub struct ClientView<'a> {
    /// Their company.
    pub company_id: &'a str,
    /// Themselves.
    pub user_id: &'a str,
    /// Company admins also get the company-wide count and replies.
    pub company_wide: bool,
}

const REPLY_LIMIT: i64 = 5;

/// The client dashboard's ticket numbers and newest staff replies.
pub async fn client(db: &Db, scope: &TenantScope, v: &ClientView<'_>) -> DbResult<ClientSummary> {
    let tdb = db.tenant(scope);
    let mine = "(t.requester_id = $3 OR EXISTS (SELECT 1 FROM ticket_cc x WHERE x.ticket_id = t.id AND x.user_id = $4))";
    let sql = format!(
        "SELECT CAST(COALESCE(SUM(CASE WHEN {mine} THEN 1 ELSE 0 END), 0) AS BIGINT) AS mine_open, \
         CAST(COALESCE(SUM(CASE WHEN {mine2} AND t.status = 'pending' THEN 1 ELSE 0 END), 0) AS BIGINT) AS mine_waiting, \
         CAST(COUNT(*) AS BIGINT) AS company_open \
         FROM tickets t WHERE t.tenant_id = $1 AND t.company_id = $2{OPEN_ONLY}",
        mine2 = mine.replace("$3", "$5").replace("$4", "$6"),
    );
    let row = sqlx::query(&sql)
        .bind(scope.tenant_id().as_str())
        .bind(v.company_id)
        .bind(v.user_id)
        .bind(v.user_id)
        .bind(v.user_id)
        .bind(v.user_id)
        .fetch_one(tdb.reader())
        .await?;
    let who = if v.company_wide { "" } else { mine };
    let sql = format!(
        "SELECT t.number, t.subject, u.name, c.body, c.created_at FROM ticket_comments c \
         JOIN tickets t ON t.id = c.ticket_id AND t.tenant_id = c.tenant_id \
         JOIN users u ON u.id = c.author_id AND u.tenant_id = c.tenant_id \
         WHERE c.tenant_id = $1 AND t.company_id = $2 AND c.internal = 0 AND u.kind = 'staff'{} \
         ORDER BY c.created_at DESC LIMIT {REPLY_LIMIT}",
        if who.is_empty() {
            String::new()
        } else {
            format!(" AND {who}")
        }
    );
    let mut q = sqlx::query(&sql)
        .bind(scope.tenant_id().as_str())
        .bind(v.company_id);
    if !v.company_wide {
        q = q.bind(v.user_id).bind(v.user_id);
    }
    let replies = q.fetch_all(tdb.reader()).await?;
    Ok(ClientSummary {
        mine_open: row.try_get("mine_open")?,
        mine_waiting: row.try_get("mine_waiting")?,
        company_open: if v.company_wide {
            Some(row.try_get("company_open")?)
        } else {
            None
        },
        replies: replies.iter().map(reply).collect::<Result<_, _>>()?,
    })
}

/// The staff dashboard's queue numbers and newest client replies.
pub async fn staff(db: &Db, scope: &TenantScope, me: &str) -> DbResult<StaffSummary> {
    let tdb = db.tenant(scope);
    let now = now_ms();
    let (breached, due_soon) = sla_exprs("$3", "$4");
    let (breached2, _) = sla_exprs("$5", "$6");
    let sql = format!(
        "SELECT t.status, CAST(COUNT(*) AS BIGINT) AS n, \
         CAST(SUM(CASE WHEN t.assignee_id IS NULL THEN 1 ELSE 0 END) AS BIGINT) AS unassigned, \
         CAST(SUM(CASE WHEN t.assignee_id = $2 THEN 1 ELSE 0 END) AS BIGINT) AS mine, \
         CAST(SUM(CASE WHEN {breached} THEN 1 ELSE 0 END) AS BIGINT) AS breached, \
         CAST(SUM(CASE WHEN {due_soon} AND NOT {breached2} THEN 1 ELSE 0 END) AS BIGINT) AS due_soon \
         FROM tickets t WHERE t.tenant_id = $1{OPEN_ONLY} GROUP BY t.status"
    );
    let rows = sqlx::query(&sql)
        .bind(scope.tenant_id().as_str())
        .bind(me)
        .bind(now)
        .bind(now + DUE_SOON_MS)
        .bind(now)
        .bind(now + DUE_SOON_MS)
        .fetch_all(tdb.reader())
        .await?;
    let mut s = StaffSummary::default();
    let mut counts = Vec::new();
    for r in &rows {
        let status: String = r.try_get("status")?;
        counts.push((status, r.try_get::<i64, _>("n")?));
        s.unassigned += r.try_get::<i64, _>("unassigned")?;
        s.mine += r.try_get::<i64, _>("mine")?;
        s.breached += r.try_get::<i64, _>("breached")?;
        s.due_soon += r.try_get::<i64, _>("due_soon")?;
    }
    s.by_status = super::ALL_STATUSES
        .iter()
        .filter(|st| !st.is_done())
        .map(|st| {
            let n = counts
                .iter()
                .find(|(name, _)| name == st.as_str())
                .map_or(0, |(_, n)| *n);
            (*st, n)
        })
        .collect();
    let replies = sqlx::query(&format!(
        "SELECT t.number, t.subject, u.name, c.body, c.created_at FROM ticket_comments c \
         JOIN tickets t ON t.id = c.ticket_id AND t.tenant_id = c.tenant_id \
         JOIN users u ON u.id = c.author_id AND u.tenant_id = c.tenant_id \
         WHERE c.tenant_id = $1 AND u.kind <> 'staff' \
         ORDER BY c.created_at DESC LIMIT {REPLY_LIMIT}"
    ))
    .bind(scope.tenant_id().as_str())
    .fetch_all(tdb.reader())
    .await?;
    s.replies = replies.iter().map(reply).collect::<Result<_, _>>()?;
    Ok(s)
}

fn reply(r: &crate::db::AnyRow) -> Result<Reply, sqlx::Error> {
    let body: String = r.try_get("body")?;
    Ok(Reply {
        number: r.try_get("number")?,
        subject: r.try_get("subject")?,
        author: r.try_get("name")?,
        excerpt: excerpt(&body, 140),
        at: r.try_get("created_at")?,
    })
}

/// The first `max` characters of `text` on one line, with an ellipsis when cut.
fn excerpt(text: &str, max: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        return flat;
    }
    let mut cut: String = flat.chars().take(max).collect();
    if let Some(i) = cut.rfind(' ') {
        cut.truncate(i);
    }
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::excerpt;

    #[test]
    fn excerpts_are_one_line_and_cut_at_a_word() {
        assert_eq!(excerpt("a\n\nb  c", 10), "a b c");
        assert_eq!(excerpt("hello wonderful world", 12), "hello…");
    }
}
