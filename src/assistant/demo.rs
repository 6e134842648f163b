//! Demo conversations for acme: two that Globex users escalated to the service desk (so
//! `/admin/assistant` shows transcripts; they count for no limit or budget) and one Bob kept to himself. Seeded once,
//! when the tenant has no conversation yet.

use serde_json::json;

use crate::db::{Db, Row, new_id, now_ms};
use crate::tenancy::TenantScope;

/// One message: who speaks (`user` or `assistant`), the text, and the sources it cites.
type Line = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str, &'static str)],
);

struct DemoConversation {
    user: &'static str,
    /// The demo ticket it was escalated to (by subject), if any.
    escalated_to: Option<&'static str>,
    /// Minutes ago it started.
    age: i64,
    lines: &'static [Line],
}

const VPN: (&str, &str, &str) = (
    "article",
    "Connect to the office VPN",
    "/portal/kb/connect-to-the-office-vpn",
);

const CONVERSATIONS: &[DemoConversation] = &[
    DemoConversation {
        user: "bob@globex.example",
        escalated_to: Some("VPN disconnects every hour"),
        age: 4 * 60,
        lines: &[
            ("user", "My VPN keeps dropping since the last update", &[]),
            (
                "assistant",
                "These articles may help:\n\n- [Connect to the office VPN](/portal/kb/connect-to-the-office-vpn) · Remote work\n\nIf they do not solve it, I can create a ticket for you.",
                &[VPN],
            ),
            ("user", "I already tried that. Can I talk to a person?", &[]),
            (
                "assistant",
                "I passed this conversation to the service desk: Terry Tech from the service desk will answer it.",
                &[],
            ),
        ],
    },
    DemoConversation {
        user: "alice@globex.example",
        escalated_to: Some("Printer on the 2nd floor jams"),
        age: 2 * 24 * 60,
        lines: &[
            (
                "user",
                "The printer on the 2nd floor jams on every double-sided print",
                &[],
            ),
            (
                "assistant",
                "These articles may help:\n\n- [Clear a paper jam](/portal/kb/clear-a-paper-jam) · Hardware\n\nIf they do not solve it, I can create a ticket for you.",
                &[(
                    "article",
                    "Clear a paper jam",
                    "/portal/kb/clear-a-paper-jam",
                )],
            ),
            (
                "user",
                "Please escalate it, the whole floor is affected",
                &[],
            ),
            (
                "assistant",
                "I passed this conversation to the service desk: Sam Staff from the service desk will answer it.",
                &[],
            ),
        ],
    },
    DemoConversation {
        user: "bob@globex.example",
        escalated_to: None,
        age: 26 * 60,
        lines: &[
            ("user", "How do I set an out-of-office reply?", &[]),
            (
                "assistant",
                "These articles may help:\n\n- [Set an out-of-office reply](/portal/kb/set-an-out-of-office-reply) · Email",
                &[(
                    "article",
                    "Set an out-of-office reply",
                    "/portal/kb/set-an-out-of-office-reply",
                )],
            ),
        ],
    },
];

/// Seeds the demo conversations once.
pub async fn seed(db: &Db, scope: &TenantScope) -> anyhow::Result<()> {
    let t = db.tenant(scope);
    let tenant = scope.tenant_id().as_str();
    let exists = sqlx::query("SELECT id FROM assistant_conversations WHERE tenant_id = $1 LIMIT 1")
        .bind(tenant)
        .fetch_optional(t.reader())
        .await?;
    if exists.is_some() {
        return Ok(());
    }
    let now = now_ms();
    let mut tx = t.begin().await?;
    for c in CONVERSATIONS {
        let Some(user) = sqlx::query("SELECT id FROM users WHERE tenant_id = $1 AND email = $2")
            .bind(tenant)
            .bind(c.user)
            .fetch_optional(tx.conn())
            .await?
        else {
            continue;
        };
        let user: String = user.try_get("id")?;
        let ticket: Option<i64> = match c.escalated_to {
            Some(subject) => {
                sqlx::query("SELECT number FROM tickets WHERE tenant_id = $1 AND subject = $2")
                    .bind(tenant)
                    .bind(subject)
                    .fetch_optional(tx.conn())
                    .await?
                    .map(|r| r.try_get::<i64, _>("number"))
                    .transpose()?
            }
            None => None,
        };
        let started = now - c.age * 60_000;
        let id = new_id();
        let last = started + (c.lines.len() as i64) * 60_000;
        sqlx::query(
            "INSERT INTO assistant_conversations (tenant_id, id, user_id, title, escalated_ticket, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(tenant)
        .bind(&id)
        .bind(&user)
        .bind(super::title_of(c.lines[0].1))
        .bind(ticket)
        .bind(started)
        .bind(last)
        .execute(tx.conn())
        .await?;
        for (i, (role, body, sources)) in c.lines.iter().enumerate() {
            let at = started + (i as i64) * 60_000;
            let sources: Vec<_> = sources
                .iter()
                .map(|(kind, title, url)| json!({ "kind": kind, "title": title, "url": url }))
                .collect();
            let extra = if *role == "assistant" {
                json!({ "sources": sources, "actions": [] }).to_string()
            } else {
                "{}".to_string()
            };
            sqlx::query(
                "INSERT INTO assistant_messages (tenant_id, id, conversation_id, user_id, role, body, extra, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(tenant)
            .bind(new_id())
            .bind(&id)
            .bind(&user)
            .bind(*role)
            .bind(*body)
            .bind(extra)
            .bind(at)
            .execute(tx.conn())
            .await?;
        }
    }
    tx.commit().await?;
    Ok(())
}
