//! Ticket writes with their side effects: audit row, live event, email jobs. Both the portal
//! and the staff routes call these, so every path records and notifies the same way.

use serde_json::{Value, json};

use super::store::{self, NewComment, NewTicket, StatusChange, StoredFile, Ticket};
use super::{Priority, Status, Visibility, can_see, check_transition};
use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::auth::{Actor, Principal};
use crate::db::{DbError, new_id, now_ms};
use crate::error::{AppError, AppResult, FieldError};
use crate::events::Event;
use crate::tenancy::TenantScope;

/// Most files accepted in one form or request.
pub const MAX_FILES: usize = 10;

/// A checked upload held in memory until its ticket or comment exists.
#[derive(Clone, Debug)]
pub struct Upload {
    /// Cleaned file name.
    pub filename: String,
    /// Type detected from the content.
    pub content_type: &'static str,
    /// The bytes.
    pub bytes: Vec<u8>,
}

/// A ticket the principal may see, or 404 (also for other companies' and tenants' tickets).
pub async fn visible(app: &AppState, p: &Principal, number: i64) -> AppResult<Ticket> {
    let t = store::by_number(&app.db, &p.scope(), number)
        .await?
        .ok_or(AppError::NotFound)?;
    let (cc, company_id, requester_id) = t.visibility();
    let ok = can_see(
        p,
        &Visibility {
            company_id,
            requester_id,
            cc: &cc,
        },
    );
    if ok { Ok(t) } else { Err(AppError::NotFound) }
}

/// The client-safe event payload of a ticket.
fn event_data(t: &Ticket, status: Status, extra: Value) -> Value {
    let mut d = json!({
        "number": t.number,
        "subject": t.subject,
        "status": status.as_str(),
        "status_label": status.label(),
        "priority": t.priority.as_str(),
    });
    if let (Some(o), Value::Object(e)) = (d.as_object_mut(), extra) {
        o.extend(e);
    }
    d
}

async fn publish(
    app: &AppState,
    scope: &TenantScope,
    t: &Ticket,
    kind: &str,
    internal: bool,
    data: Value,
) {
    let mut participants = vec![t.requester.id.clone()];
    participants.extend(t.cc.iter().map(|p| p.id.clone()));
    let e = Event {
        tenant_id: scope.tenant_id().as_str().to_string(),
        kind: kind.into(),
        object_id: t.number.to_string(),
        company_id: Some(t.company_id.clone()),
        participants,
        internal,
        data,
    };
    // A lost live update is not worth failing the write for: pages still show it on reload.
    if let Err(e) = app.events.publish(e).await {
        tracing::warn!(error = %e, "ticket event not published");
    }
}

/// Which preference an email honours.
#[derive(Clone, Copy)]
enum Pref {
    Replies,
    Status,
}

async fn email(
    app: &AppState,
    scope: &TenantScope,
    actor_id: &str,
    t: &Ticket,
    pref: Pref,
    subject: &str,
    lines: Vec<String>,
) -> AppResult<()> {
    let url = format!("{}/portal/tickets/{}", app.config.base_url, t.number);
    for r in store::recipients(&app.db, scope, &t.id).await? {
        let wanted = match pref {
            Pref::Replies => r.ticket_replies,
            Pref::Status => r.status_changes,
        };
        if !wanted || r.user_id == actor_id {
            continue;
        }
        crate::jobs::enqueue(
            &app.db,
            Some(scope.tenant_id().as_str()),
            crate::jobs::EMAIL,
            &json!({
                "to": r.email,
                "subject": subject,
                "lines": lines,
                "action_url": url,
                "action_label": "View the ticket",
            }),
            now_ms(),
        )
        .await?;
    }
    Ok(())
}

async fn audit_ticket(
    app: &AppState,
    actor: &Actor,
    ip: &str,
    t: &Ticket,
    action: &str,
    detail: Value,
) -> AppResult<()> {
    audit::record(
        &app.db,
        &actor.scope,
        Entry {
            ip: Some(ip),
            company_id: Some(&t.company_id),
            detail,
            ..Entry::new(action).by(actor).target("ticket", &t.id)
        },
    )
    .await?;
    Ok(())
}

async fn reload(app: &AppState, scope: &TenantScope, number: i64) -> AppResult<Ticket> {
    store::by_number(&app.db, scope, number)
        .await?
        .ok_or(AppError::NotFound)
}

/// Writes uploads to disk and records them against the ticket (and comment).
async fn attach(
    app: &AppState,
    actor: &Actor,
    ip: &str,
    t: &Ticket,
    comment_id: Option<&str>,
    internal: bool,
    files: Vec<Upload>,
) -> AppResult<Vec<String>> {
    let mut names = Vec::new();
    for f in files {
        let stored = StoredFile {
            id: new_id(),
            filename: f.filename,
            content_type: f.content_type,
            size: f.bytes.len() as i64,
        };
        let path = store::file_path(&app.config.data_dir, &actor.scope, &stored.id);
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir).await.map_err(|e| {
                AppError::Internal(anyhow::anyhow!("cannot create {}: {e}", dir.display()))
            })?;
        }
        tokio::fs::write(&path, &f.bytes).await.map_err(|e| {
            AppError::Internal(anyhow::anyhow!("cannot write {}: {e}", path.display()))
        })?;
        if let Err(e) = store::add_attachment(
            &app.db,
            &actor.scope,
            &t.id,
            comment_id,
            internal,
            actor.user_id.as_str(),
            &stored,
        )
        .await
        {
            let _ = tokio::fs::remove_file(&path).await;
            return Err(e.into());
        }
        audit_ticket(
            app,
            actor,
            ip,
            t,
            "ticket.attachment_added",
            json!({ "number": t.number, "attachment": stored.id, "filename": stored.filename, "size": stored.size, "internal": internal }),
        )
        .await?;
        names.push(stored.filename);
    }
    Ok(names)
}

/// What a new ticket needs, already checked by the caller for presence.
pub struct CreateInput {
    /// Company.
    pub company_id: String,
    /// Requester.
    pub requester_id: String,
    /// Summary.
    pub subject: String,
    /// Markdown.
    pub description: String,
    /// Priority.
    pub priority: Priority,
    /// Category.
    pub category: String,
    /// Users to copy (same company, checked here).
    pub cc: Vec<String>,
}

/// Validates raw ticket fields; returns every problem at once.
pub fn check_fields(
    subject: &str,
    description: &str,
    priority: &str,
    category: &str,
) -> Result<(String, String, Priority, &'static str), Vec<FieldError>> {
    let s = super::check_subject(subject);
    let d = super::check_body("description", description, true);
    let p = super::check_priority(priority);
    let c = super::check_category(category);
    match (s, d, p, c) {
        (Ok(s), Ok(d), Ok(p), Ok(c)) => Ok((s, d, p, c)),
        (s, d, p, c) => Err([s.err(), d.err(), p.err(), c.err()]
            .into_iter()
            .flatten()
            .collect()),
    }
}

/// Creates a ticket with its attachments; audits, publishes `ticket.created`.
pub async fn create(
    app: &AppState,
    actor: &Actor,
    ip: &str,
    input: CreateInput,
    files: Vec<Upload>,
) -> AppResult<Ticket> {
    // Cc only users of the ticket's own company.
    let company_users = if input.cc.is_empty() {
        Vec::new()
    } else {
        store::users_of_kind(&app.db, &actor.scope, "client", Some(&input.company_id)).await?
    };
    let cc: Vec<String> = input
        .cc
        .iter()
        .filter(|u| **u != input.requester_id)
        .filter(|u| company_users.iter().any(|c| &c.id == *u))
        .cloned()
        .collect();
    let audit = Entry {
        ip: Some(ip),
        company_id: Some(&input.company_id),
        detail: json!({ "subject": input.subject, "priority": input.priority.as_str(), "category": input.category }),
        ..Entry::new("ticket.created").by(actor)
    };
    let (_, number) = store::create(
        &app.db,
        &actor.scope,
        &NewTicket {
            company_id: &input.company_id,
            requester_id: &input.requester_id,
            actor_id: actor.user_id.as_str(),
            subject: &input.subject,
            description: &input.description,
            priority: input.priority,
            category: &input.category,
            cc: &cc,
            now: now_ms(),
        },
        Some(audit),
    )
    .await?;
    let t = reload(app, &actor.scope, number).await?;
    let with_files = !files.is_empty();
    attach(app, actor, ip, &t, None, false, files).await?;
    publish(
        app,
        &actor.scope,
        &t,
        "ticket.created",
        false,
        event_data(&t, t.status, json!({})),
    )
    .await;
    if with_files {
        reload(app, &actor.scope, number).await
    } else {
        Ok(t)
    }
}

/// A comment to add.
pub struct CommentInput {
    /// Markdown.
    pub body: String,
    /// Staff-only note.
    pub internal: bool,
    /// The author is staff.
    pub by_staff: bool,
}

/// Adds a comment; a public staff reply sets the first response time, moves a new ticket to
/// open and emails the requester and cc'd users. Internal notes only reach staff.
pub async fn comment(
    app: &AppState,
    actor: &Actor,
    ip: &str,
    t: &Ticket,
    input: CommentInput,
    files: Vec<Upload>,
) -> AppResult<Ticket> {
    let body = super::check_body("body", &input.body, files.is_empty())
        .map_err(|f| AppError::fields(vec![f]))?;
    let internal = input.internal && input.by_staff;
    let staff_public = input.by_staff && !internal;
    let now = now_ms();
    let mut moved: Option<Ticket> = None;
    let comment_id = loop {
        let current = moved.as_ref().unwrap_or(t);
        if !input.by_staff && current.status.is_done() {
            return Err(AppError::Unprocessable(
                "This ticket is finished. Reopen it to add a comment.".into(),
            ));
        }
        let status = if staff_public && current.status == Status::New {
            Some(StatusChange {
                from: Status::New,
                to: Status::Open,
                reason: None,
            })
        } else if !input.by_staff && current.status == Status::Pending {
            // The client answered what we were waiting for.
            Some(StatusChange {
                from: Status::Pending,
                to: Status::Open,
                reason: None,
            })
        } else {
            None
        };
        let audit = Entry {
            ip: Some(ip),
            company_id: Some(&t.company_id),
            detail: json!({ "number": t.number, "internal": internal }),
            ..Entry::new(if internal {
                "ticket.note_added"
            } else {
                "ticket.commented"
            })
            .by(actor)
            .target("ticket", &t.id)
        };
        let added = store::add_comment(
            &app.db,
            &actor.scope,
            &t.id,
            &NewComment {
                author_id: actor.user_id.as_str(),
                body: &body,
                internal,
                staff_public,
                status,
                now,
            },
            Some(audit),
        )
        .await;
        match added {
            // The status moved under us, most often because another reply made the same move
            // (two people answering a pending ticket at once). The comment must not be lost:
            // look again and add it with the move that is due now.
            Err(DbError::Conflict(_)) if moved.is_none() => {
                moved = Some(reload(app, &actor.scope, t.number).await?);
            }
            other => break other.map_err(conflict)?,
        }
    };
    let names = attach(app, actor, ip, t, Some(&comment_id), internal, files).await?;
    let fresh = reload(app, &actor.scope, t.number).await?;
    let author = store::user_name(&app.db, &actor.scope, actor.user_id.as_str()).await?;
    let data = event_data(
        &fresh,
        fresh.status,
        json!({ "comment": {
            "id": comment_id,
            "author": author,
            "body_html": super::render_markdown(&body),
            "at": now,
            "internal": internal,
            "attachments": names,
        }}),
    );
    publish(app, &actor.scope, &fresh, "ticket.comment", internal, data).await;
    if staff_public {
        let mut lines = vec![
            format!(
                "{author} replied to your ticket #{}: {}",
                t.number, t.subject
            ),
            String::new(),
        ];
        lines.extend(body.lines().take(40).map(str::to_string));
        email(
            app,
            &actor.scope,
            actor.user_id.as_str(),
            &fresh,
            Pref::Replies,
            &format!("[#{}] New reply: {}", t.number, t.subject),
            lines,
        )
        .await?;
    }
    Ok(fresh)
}

fn conflict(e: DbError) -> AppError {
    match e {
        DbError::Conflict(_) => AppError::Conflict(
            "Someone changed this ticket at the same time. Reload the page and try again.".into(),
        ),
        other => other.into(),
    }
}

/// Changes the status after checking the transition table; emails on the change.
pub async fn set_status(
    app: &AppState,
    actor: &Actor,
    ip: &str,
    t: &Ticket,
    to: Status,
    reason: Option<&str>,
) -> AppResult<Ticket> {
    check_transition(t.status, to)?;
    store::set_status(
        &app.db,
        &actor.scope,
        &t.id,
        actor.user_id.as_str(),
        &StatusChange {
            from: t.status,
            to,
            reason,
        },
        now_ms(),
    )
    .await
    .map_err(conflict)?;
    audit_ticket(
        app,
        actor,
        ip,
        t,
        "ticket.status_changed",
        json!({ "number": t.number, "from": t.status.as_str(), "to": to.as_str(), "reason": reason }),
    )
    .await?;
    let fresh = reload(app, &actor.scope, t.number).await?;
    publish(
        app,
        &actor.scope,
        &fresh,
        "ticket.updated",
        false,
        event_data(&fresh, to, json!({ "changed": "status" })),
    )
    .await;
    let mut lines = vec![format!(
        "Ticket #{} \"{}\" is now {}.",
        t.number,
        t.subject,
        to.label().to_lowercase()
    )];
    if let Some(r) = reason {
        lines.push(format!("Reason: {r}"));
    }
    email(
        app,
        &actor.scope,
        actor.user_id.as_str(),
        &fresh,
        Pref::Status,
        &format!("[#{}] {}: {}", t.number, to.label(), t.subject),
        lines,
    )
    .await?;
    Ok(fresh)
}

/// A client reopens a finished ticket within the window, giving a reason.
pub async fn reopen(
    app: &AppState,
    actor: &Actor,
    ip: &str,
    t: &Ticket,
    reason: &str,
) -> AppResult<Ticket> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(AppError::field(
            "reason",
            "Tell us why the problem is not solved.",
        ));
    }
    if reason.chars().count() > 2000 {
        return Err(AppError::field("reason", "Use at most 2,000 characters."));
    }
    if !t.status.is_done() {
        return Err(AppError::Unprocessable("This ticket is still open.".into()));
    }
    if !super::can_reopen(t.status, t.done_at(), now_ms(), app.config.reopen_days) {
        return Err(AppError::Unprocessable(format!(
            "This ticket was finished more than {} days ago and can no longer be reopened. Please raise a new ticket.",
            app.config.reopen_days
        )));
    }
    set_status(app, actor, ip, t, Status::Open, Some(reason)).await
}

/// Staff change the priority (the SLA deadlines follow).
pub async fn set_priority(
    app: &AppState,
    actor: &Actor,
    ip: &str,
    t: &Ticket,
    p: Priority,
) -> AppResult<Ticket> {
    if p == t.priority {
        return Ok(t.clone());
    }
    store::set_priority(&app.db, &actor.scope, t, p).await?;
    audit_ticket(
        app,
        actor,
        ip,
        t,
        "ticket.priority_changed",
        json!({ "number": t.number, "from": t.priority.as_str(), "to": p.as_str() }),
    )
    .await?;
    let fresh = reload(app, &actor.scope, t.number).await?;
    publish(
        app,
        &actor.scope,
        &fresh,
        "ticket.updated",
        false,
        event_data(&fresh, fresh.status, json!({ "changed": "priority" })),
    )
    .await;
    Ok(fresh)
}

/// Staff assign a technician (or clear the assignee with `None`).
pub async fn assign(
    app: &AppState,
    actor: &Actor,
    ip: &str,
    t: &Ticket,
    assignee: Option<&str>,
) -> AppResult<Ticket> {
    if assignee == t.assignee.as_ref().map(|a| a.id.as_str()) {
        return Ok(t.clone());
    }
    if let Some(a) = assignee {
        let staff = store::users_of_kind(&app.db, &actor.scope, "staff", None).await?;
        if !staff.iter().any(|s| s.id == a) {
            return Err(AppError::field(
                "assignee_id",
                "Choose a technician of your team.",
            ));
        }
    }
    store::set_assignee(&app.db, &actor.scope, &t.id, assignee).await?;
    audit_ticket(
        app,
        actor,
        ip,
        t,
        "ticket.assigned",
        json!({ "number": t.number, "from": t.assignee.as_ref().map(|a| &a.id), "to": assignee }),
    )
    .await?;
    let fresh = reload(app, &actor.scope, t.number).await?;
    let assignee_name = fresh.assignee.as_ref().map(|a| a.name.clone());
    publish(
        app,
        &actor.scope,
        &fresh,
        "ticket.updated",
        false,
        event_data(
            &fresh,
            fresh.status,
            json!({ "changed": "assignee", "assignee": assignee_name }),
        ),
    )
    .await;
    Ok(fresh)
}

/// Attaches files to a ticket outside a comment (API upload).
pub async fn add_files(
    app: &AppState,
    actor: &Actor,
    ip: &str,
    t: &Ticket,
    files: Vec<Upload>,
) -> AppResult<Ticket> {
    if t.status.is_done() && actor.company_id.is_some() {
        return Err(AppError::Unprocessable(
            "This ticket is finished. Reopen it to add files.".into(),
        ));
    }
    let names = attach(app, actor, ip, t, None, false, files).await?;
    let fresh = reload(app, &actor.scope, t.number).await?;
    publish(
        app,
        &actor.scope,
        &fresh,
        "ticket.updated",
        false,
        event_data(
            &fresh,
            fresh.status,
            json!({ "changed": "attachments", "attachments": names }),
        ),
    )
    .await;
    Ok(fresh)
}
