//! Demo tickets for the acme tenant: Globex and Initech in every status, with staff replies,
//! an internal note and one overdue ticket. Inserts only what is missing.

use super::store::{self, NewComment, NewTicket, StatusChange};
use super::{Priority, Status};
use crate::db::{Db, Row, now_ms};
use crate::tenancy::TenantScope;

struct Reply {
    by: &'static str,
    body: &'static str,
    internal: bool,
    /// Minutes after the ticket was raised.
    after: i64,
}

struct DemoTicket {
    requester: &'static str,
    cc: &'static [&'static str],
    subject: &'static str,
    description: &'static str,
    priority: Priority,
    category: &'static str,
    /// Minutes ago it was raised.
    age: i64,
    replies: &'static [Reply],
    /// Status path after creation.
    path: &'static [Status],
    assignee: Option<&'static str>,
}

const TECH: &str = "tech@acme.example";
const STAFF: &str = "staff@acme.example";

const TICKETS: &[DemoTicket] = &[
    DemoTicket {
        requester: "alice@globex.example",
        cc: &[],
        subject: "Outlook keeps asking for my password",
        description: "Since this morning Outlook on my laptop asks for my password every few minutes. \
            Webmail works fine.\n\n- Windows 11, Outlook 365\n- Happens in the office and at home",
        priority: Priority::High,
        category: "Software",
        age: 5 * 60,
        replies: &[
            Reply {
                by: TECH,
                body: "Thanks Alice, I'm on it. Could you tell me whether you changed your password recently?",
                internal: false,
                after: 35,
            },
            Reply {
                by: TECH,
                body: "Cached credentials are stale after the M365 tenant migration. Plan: clear Credential Manager remotely at 14:00.",
                internal: true,
                after: 40,
            },
            Reply {
                by: "alice@globex.example",
                body: "Yes, last Friday. Thanks!",
                internal: false,
                after: 60,
            },
        ],
        path: &[Status::Open],
        assignee: Some(TECH),
    },
    DemoTicket {
        requester: "bob@globex.example",
        cc: &["alice@globex.example"],
        subject: "New starter laptop for Monday",
        description: "Our new colleague Dana starts on Monday. She needs a laptop with the standard setup and access to the sales share.",
        priority: Priority::Normal,
        category: "Hardware",
        age: 50,
        replies: &[],
        path: &[],
        assignee: None,
    },
    DemoTicket {
        requester: "bob@globex.example",
        cc: &[],
        subject: "VPN disconnects every hour",
        description: "The VPN drops roughly every hour and I have to reconnect. It started after the last update.",
        priority: Priority::High,
        category: "Network",
        age: 5 * 60,
        replies: &[Reply {
            by: TECH,
            body: "Could you send us the client log? It is under *Help → Export logs*. Attach it here, please.",
            internal: false,
            after: 45,
        }],
        path: &[Status::Open, Status::Pending],
        assignee: Some(TECH),
    },
    DemoTicket {
        requester: "alice@globex.example",
        cc: &[],
        subject: "Printer on the 2nd floor jams",
        description: "The HP printer on the 2nd floor jams on almost every double-sided print.",
        priority: Priority::Low,
        category: "Hardware",
        age: 3 * 24 * 60,
        replies: &[Reply {
            by: STAFF,
            body: "The replacement fuser is ordered and should arrive on Thursday. We'll fit it the same day.",
            internal: false,
            after: 120,
        }],
        path: &[Status::Open, Status::OnHold],
        assignee: Some(STAFF),
    },
    DemoTicket {
        requester: "alice@globex.example",
        cc: &[],
        subject: "Give Vera access to the finance share",
        description: "Vera needs read access to `\\\\files\\finance` for the audit.",
        priority: Priority::Normal,
        category: "Access",
        age: 2 * 24 * 60,
        replies: &[Reply {
            by: TECH,
            body: "Done: Vera has read-only access to the finance share. She needs to sign out and back in once.",
            internal: false,
            after: 90,
        }],
        path: &[Status::Open, Status::Resolved],
        assignee: Some(TECH),
    },
    DemoTicket {
        requester: "bob@globex.example",
        cc: &[],
        subject: "Invoice shows the wrong VAT number",
        description: "Invoice 2024-118 shows our old VAT number. Could you reissue it?",
        priority: Priority::Normal,
        category: "Billing",
        age: 6 * 24 * 60,
        replies: &[Reply {
            by: STAFF,
            body: "Sorry about that. The corrected invoice is now in your Invoices page.",
            internal: false,
            after: 200,
        }],
        path: &[Status::Open, Status::Resolved, Status::Closed],
        assignee: Some(STAFF),
    },
    DemoTicket {
        requester: "ian@initech.example",
        cc: &[],
        subject: "File server unreachable",
        description: "Nobody at Initech can reach the file server since 8:00. Work has stopped.",
        priority: Priority::Urgent,
        category: "Network",
        age: 6 * 60,
        replies: &[],
        path: &[],
        assignee: None,
    },
    DemoTicket {
        requester: "ian@initech.example",
        cc: &[],
        subject: "Reset MFA for my new phone",
        description: "I replaced my phone and can no longer approve sign-ins. Please reset my MFA.",
        priority: Priority::High,
        category: "Access",
        age: 90,
        replies: &[Reply {
            by: TECH,
            body: "Reset done. You'll be asked to register the authenticator on your next sign-in.",
            internal: false,
            after: 30,
        }],
        path: &[Status::Open],
        assignee: Some(TECH),
    },
    // Northwind's own (the second MSP tenant): only its users exist there, so only it gets this.
    DemoTicket {
        requester: "carl@contoso.example",
        cc: &[],
        subject: "Label printer in the warehouse offline",
        description: "The Zebra printer by loading dock 2 shows offline since this morning.",
        priority: Priority::Normal,
        category: "Hardware",
        age: 3 * 60,
        replies: &[Reply {
            by: "nora@northwind.example",
            body: "We can see it dropped off the network; a technician will visit at 2 pm.",
            internal: false,
            after: 45,
        }],
        path: &[Status::Open],
        assignee: Some("nora@northwind.example"),
    },
];

async fn user(
    db: &Db,
    scope: &TenantScope,
    email: &str,
) -> anyhow::Result<Option<(String, Option<String>)>> {
    let row = sqlx::query("SELECT id, company_id FROM users WHERE tenant_id = $1 AND email = $2")
        .bind(scope.tenant_id().as_str())
        .bind(email)
        .fetch_optional(db.tenant(scope).reader())
        .await?;
    Ok(match row {
        Some(r) => Some((r.try_get("id")?, r.try_get("company_id")?)),
        None => None,
    })
}

/// Creates the demo tickets that do not exist yet (matched by subject).
pub async fn seed(db: &Db, scope: &TenantScope) -> anyhow::Result<()> {
    let now = now_ms();
    for d in TICKETS {
        let exists = sqlx::query("SELECT 1 FROM tickets WHERE tenant_id = $1 AND subject = $2")
            .bind(scope.tenant_id().as_str())
            .bind(d.subject)
            .fetch_optional(db.tenant(scope).reader())
            .await?;
        if exists.is_some() {
            continue;
        }
        let Some((requester, Some(company))) = user(db, scope, d.requester).await? else {
            continue;
        };
        let mut cc = Vec::new();
        for c in d.cc {
            if let Some((id, _)) = user(db, scope, c).await? {
                cc.push(id);
            }
        }
        let created = now - d.age * 60_000;
        // One ticket's story is one transaction: a crash leaves it whole or absent.
        let mut tx = db.tenant(scope).begin().await?;
        let (id, number) = store::create(
            &mut tx,
            &NewTicket {
                company_id: &company,
                requester_id: &requester,
                actor_id: &requester,
                subject: d.subject,
                description: d.description,
                priority: d.priority,
                category: d.category,
                cc: &cc,
                now: created,
            },
            None,
        )
        .await?;
        let mut status = Status::New;
        let mut at = created;
        for r in d.replies {
            let Some((author, author_company)) = user(db, scope, r.by).await? else {
                continue;
            };
            at = created + r.after * 60_000;
            let staff_public = author_company.is_none() && !r.internal;
            let change = (staff_public && status == Status::New).then_some(StatusChange {
                from: Status::New,
                to: Status::Open,
                reason: None,
            });
            if change.is_some() {
                status = Status::Open;
            }
            store::add_comment(
                &mut tx,
                &id,
                &NewComment {
                    author_id: &author,
                    body: r.body,
                    internal: r.internal,
                    staff_public,
                    status: change,
                    now: at,
                },
                None,
            )
            .await?;
        }
        let staff_actor = user(db, scope, STAFF)
            .await?
            .map(|u| u.0)
            .unwrap_or_default();
        for to in d.path {
            if *to == status || !super::allowed(status, *to) {
                continue;
            }
            at += 10 * 60_000;
            store::set_status(
                &mut tx,
                &id,
                &staff_actor,
                &StatusChange {
                    from: status,
                    to: *to,
                    reason: None,
                },
                at.min(now),
            )
            .await?;
            status = *to;
        }
        if let Some(a) = d.assignee
            && let Some((aid, _)) = user(db, scope, a).await?
        {
            store::set_assignee(&mut tx, &id, Some(&aid)).await?;
        }
        // Keep the story's times rather than the seeding time.
        sqlx::query("UPDATE tickets SET updated_at = $3 WHERE tenant_id = $1 AND id = $2")
            .bind(scope.tenant_id().as_str())
            .bind(&id)
            .bind(at.min(now))
            .execute(tx.conn())
            .await?;
        tx.commit().await?;
        tracing::debug!(number, "demo ticket created");
    }
    seed_view(db, scope).await
}

/// A saved queue view for the demo staff admin, so the queue shows what views are for.
async fn seed_view(db: &Db, scope: &TenantScope) -> anyhow::Result<()> {
    let Some((staff, _)) = user(db, scope, STAFF).await? else {
        return Ok(());
    };
    sqlx::query(
        "INSERT INTO saved_views (tenant_id, id, user_id, name, query, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant_id, user_id, name) DO NOTHING",
    )
    .bind(scope.tenant_id().as_str())
    .bind(crate::db::new_id())
    .bind(&staff)
    .bind(DEMO_VIEW_NAME)
    .bind("status=open&assignee=none&sort=priority")
    .bind(now_ms())
    .execute(db.tenant(scope).writer())
    .await?;
    Ok(())
}

/// Name of the demo staff admin's saved view.
pub const DEMO_VIEW_NAME: &str = "Unassigned, most urgent first";
