//! Ticket writes with their side effects: audit row, live event, email jobs. Both the portal
//! and the staff routes call these, so every path records and notifies the same way.

use serde_json::{Value, json};

use super::store::{self, Audience, NewComment, NewTicket, StatusChange, Ticket};
use super::{Priority, Status, Visibility, can_see, check_transition};
use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::auth::{Actor, Principal};
use crate::db::{DbError, TenantTx, new_id, now_ms};
use crate::error::{AppError, AppResult, FieldError};
use crate::events::{Event, EventKind};
use crate::files::{Pending, StoredFile};
use crate::i18n::{Arg, Translator, for_recipient, k, msg_with};
use crate::jobs::{EmailJob, JobKind};

/// Most files accepted in one form or request.
pub const MAX_FILES: usize = 10;

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

/// Publishes a ticket event as part of the action's transaction.
async fn publish(
    app: &AppState,
    tx: &mut TenantTx,
    t: &Ticket,
    kind: EventKind,
    internal: bool,
    data: Value,
) -> AppResult<()> {
    // The requester comes first: `Event::visible_to` reads it as such.
    let mut participants = vec![t.requester.id.clone()];
    participants.extend(t.cc.iter().map(|p| p.id.clone()));
    let e = Event {
        tenant_id: tx.tenant_id().to_string(),
        kind,
        object_id: t.number.to_string(),
        company_id: Some(t.company_id.clone()),
        participants,
        internal,
        data,
    };
    // Every ticket change passes here, so this one line queues it for the PSA in the same
    // transaction (the sync applies PSA changes without this path, so nothing echoes back).
    crate::psa::store::record_change(tx, t, kind, &e.data).await?;
    app.events
        .publish_in(tx, e)
        .await
        .map_err(AppError::Internal)
}

/// Which preference an email honours.
#[derive(Clone, Copy)]
pub(crate) enum Pref {
    Replies,
    Status,
    NewTickets,
    SlaWarnings,
    /// A confirmation the recipient needs whatever their settings (a ticket raised for them).
    Always,
}

impl Pref {
    fn wanted(self, r: &store::Recipient) -> bool {
        match self {
            Pref::Replies => r.ticket_replies,
            Pref::Status => r.status_changes,
            Pref::NewTickets => r.new_tickets,
            Pref::SlaWarnings => r.sla_warnings,
            Pref::Always => true,
        }
    }
}

/// Queues the ticket's emails to its requester and cc'd users in the action's transaction
/// (the outbox): they exist exactly when the change does. `compose` writes subject and lines
/// in each recipient's language.
async fn email(
    app: &AppState,
    tx: &mut TenantTx,
    actor_id: &str,
    t: &Ticket,
    pref: Pref,
    compose: impl Fn(&Translator) -> (String, Vec<String>),
) -> AppResult<()> {
    let recipients = store::recipients(tx, &t.id).await?;
    send_each(app, tx, actor_id, t, recipients, false, pref, compose).await
}

/// Queues emails to the ticket's staff side (the assignee, or every active staff user while
/// nobody is assigned) or to its requester alone, read in the action's transaction.
pub(crate) async fn email_to(
    app: &AppState,
    tx: &mut TenantTx,
    actor_id: &str,
    t: &Ticket,
    who: store::Audience,
    pref: Pref,
    compose: impl Fn(&Translator) -> (String, Vec<String>),
) -> AppResult<()> {
    let recipients = store::recipients_in(tx, &t.id, who).await?;
    let staff = who == store::Audience::Staff;
    send_each(app, tx, actor_id, t, recipients, staff, pref, compose).await
}

#[allow(clippy::too_many_arguments)]
async fn send_each(
    app: &AppState,
    tx: &mut TenantTx,
    actor_id: &str,
    t: &Ticket,
    recipients: Vec<store::Recipient>,
    staff: bool,
    pref: Pref,
    compose: impl Fn(&Translator) -> (String, Vec<String>),
) -> AppResult<()> {
    let area = if staff { "admin" } else { "portal" };
    let url = format!("{}/{area}/tickets/{}", app.config.base_url, t.number);
    let reply_to = super::inbound::reply_address(&app.config, tx.tenant_id(), t);
    for r in recipients {
        if !pref.wanted(&r) || r.user_id == actor_id {
            continue;
        }
        let tr = Translator::new(for_recipient(r.language.as_deref(), Some(&r.tenant_locale)));
        let (subject, mut lines) = compose(&tr);
        if let Some(address) = &reply_to {
            lines.push(String::new());
            lines.push(tr.arg(k("ticket-email-reply-by-email"), "address", address));
        }
        EmailJob {
            to: r.email,
            subject,
            lines,
            action_url: Some(url.clone()),
            action_label: Some(tr.get(k("email-ticket-action"))),
            lang: Some(tr.lang().into()),
            reply_to: reply_to.clone(),
        }
        .enqueue(tx)
        .await?;
    }
    Ok(())
}

/// A ticket's number and subject as message arguments.
pub(crate) fn ticket_args(t: &Ticket) -> [(&'static str, Arg); 2] {
    [
        ("number", Arg::Str(t.number.to_string())),
        ("subject", Arg::Str(t.subject.clone())),
    ]
}

async fn audit_ticket(
    tx: &mut TenantTx,
    actor: &Actor,
    ip: &str,
    t: &Ticket,
    action: &str,
    detail: Value,
) -> AppResult<()> {
    audit::append(
        tx,
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

async fn reload(tx: &mut TenantTx, number: i64) -> AppResult<Ticket> {
    store::by_number_in(tx, number)
        .await?
        .ok_or(AppError::NotFound)
}

/// Records stored uploads (with their audit rows) in the action's transaction, after charging
/// their size to the tenant's storage allowance there.
#[allow(clippy::too_many_arguments)]
async fn attach(
    tx: &mut TenantTx,
    actor: &Actor,
    ip: &str,
    t: &Ticket,
    comment_id: Option<&str>,
    internal: bool,
    files: &[StoredFile],
) -> AppResult<Vec<String>> {
    crate::files::quota::charge(tx, files.iter().map(|f| f.size).sum()).await?;
    let mut names = Vec::new();
    for f in files {
        let id = new_id();
        store::add_attachment(
            tx,
            &id,
            &t.id,
            comment_id,
            internal,
            actor.user_id().as_str(),
            f,
        )
        .await?;
        audit_ticket(
            tx,
            actor,
            ip,
            t,
            "ticket.attachment_added",
            json!({ "number": t.number, "attachment": id, "filename": f.filename, "size": f.size, "sha256": f.sha256, "internal": internal }),
        )
        .await?;
        names.push(f.filename.clone());
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

/// Creates a ticket with its attachments; audits, publishes `ticket.created`, all in one
/// transaction. The stored files are kept only if it commits.
pub async fn create(
    app: &AppState,
    actor: &Actor,
    ip: &str,
    input: CreateInput,
    files: Pending,
) -> AppResult<Ticket> {
    let r = create_in(app, actor, ip, input, files.files(), None).await;
    files.settle(r).await
}

/// Work another feature adds to a new ticket's transaction, run once the ticket row exists
/// and before its event and emails (a catalog request records its answers and SLA there).
pub type CreateHook = Box<
    dyn for<'a> FnOnce(
            &'a mut TenantTx,
            &'a Ticket,
        ) -> futures::future::BoxFuture<'a, AppResult<()>>
        + Send,
>;

/// [`create`] with `hook` run inside the same transaction.
pub async fn create_with(
    app: &AppState,
    actor: &Actor,
    ip: &str,
    input: CreateInput,
    files: Pending,
    hook: CreateHook,
) -> AppResult<Ticket> {
    let r = create_in(app, actor, ip, input, files.files(), Some(hook)).await;
    files.settle(r).await
}

async fn create_in(
    app: &AppState,
    actor: &Actor,
    ip: &str,
    input: CreateInput,
    files: &[StoredFile],
    hook: Option<CreateHook>,
) -> AppResult<Ticket> {
    // Cc only users of the ticket's own company.
    let company_users = if input.cc.is_empty() {
        Vec::new()
    } else {
        store::users_of_kind(&app.db, actor.scope(), "client", Some(&input.company_id)).await?
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
    let mut tx = app.db.tenant(actor.scope()).begin().await?;
    let (_, number) = store::create(
        &mut tx,
        &NewTicket {
            company_id: &input.company_id,
            requester_id: &input.requester_id,
            actor_id: actor.user_id().as_str(),
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
    let t = reload(&mut tx, number).await?;
    attach(&mut tx, actor, ip, &t, None, false, files).await?;
    if let Some(hook) = hook {
        hook(&mut tx, &t).await?;
    }
    let t = reload(&mut tx, number).await?;
    publish(
        app,
        &mut tx,
        &t,
        EventKind::TicketCreated,
        false,
        event_data(&t, t.status, json!({})),
    )
    .await?;
    let author = store::user_name_in(&mut tx, actor.user_id().as_str()).await?;
    let new_ticket = |tr: &Translator| {
        let [number, subject] = ticket_args(&t);
        let lines = vec![
            tr.args(
                k("ticket-email-new-intro"),
                &[
                    ("requester", Arg::Str(t.requester.name.clone())),
                    ("company", Arg::Str(t.company_name.clone())),
                    number.clone(),
                    subject.clone(),
                ],
            ),
            tr.args(
                k("ticket-email-priority-line"),
                &[("priority", Arg::key(t.priority.label_key()))],
            ),
            String::new(),
        ]
        .into_iter()
        .chain(t.description.lines().take(40).map(str::to_string))
        .collect();
        (
            tr.args(k("ticket-email-new-subject"), &[number, subject]),
            lines,
        )
    };
    let by = actor.user_id().as_str();
    email_to(
        app,
        &mut tx,
        by,
        &t,
        Audience::Staff,
        Pref::NewTickets,
        new_ticket,
    )
    .await?;
    if actor.is_staff() {
        // Raised on the client's behalf: they learn it exists and how to follow it.
        let confirm = |tr: &Translator| {
            let [number, subject] = ticket_args(&t);
            let lines = vec![
                tr.args(
                    k("ticket-email-confirm-intro"),
                    &[
                        ("author", Arg::Str(author.clone())),
                        number.clone(),
                        subject.clone(),
                    ],
                ),
                tr.get(k("ticket-email-confirm-body")),
            ];
            (
                tr.args(k("ticket-email-confirm-subject"), &[number, subject]),
                lines,
            )
        };
        email_to(
            app,
            &mut tx,
            by,
            &t,
            Audience::Requester,
            Pref::Always,
            confirm,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(t)
}

/// A comment to add.
pub struct CommentInput {
    /// Markdown.
    pub body: String,
    /// Staff-only note (honoured only for staff actors).
    pub internal: bool,
    /// The Message-ID of the email this comment came in as: recorded in the same
    /// transaction, so a redelivered message adds no second comment.
    pub via_email: Option<String>,
}

/// Adds a comment; a public staff reply sets the first response time, moves a new ticket to
/// open and emails the requester and cc'd users. Internal notes only reach staff. Whether the
/// author is staff follows from the actor's grant, not from the caller.
pub async fn comment(
    app: &AppState,
    actor: &Actor,
    ip: &str,
    t: &Ticket,
    input: CommentInput,
    files: Pending,
) -> AppResult<Ticket> {
    let r = comment_in(app, actor, ip, t, input, files.files()).await;
    files.settle(r).await
}

async fn comment_in(
    app: &AppState,
    actor: &Actor,
    ip: &str,
    t: &Ticket,
    input: CommentInput,
    files: &[StoredFile],
) -> AppResult<Ticket> {
    let body = super::check_body("body", &input.body, files.is_empty())
        .map_err(|f| AppError::fields(vec![f]))?;
    let by_staff = actor.is_staff();
    let internal = input.internal && by_staff;
    let staff_public = by_staff && !internal;
    let now = now_ms();
    let author = store::user_name(&app.db, actor.scope(), actor.user_id().as_str()).await?;
    let remote_images = crate::branding::remote_images_allowed(&app.db, actor.scope()).await?;
    let mut moved: Option<Ticket> = None;
    loop {
        let current = moved.as_ref().unwrap_or(t);
        if !by_staff && current.status.is_done() {
            return Err(AppError::Unprocessable(
                k("ticket-error-finished-comment").into(),
            ));
        }
        let status = if staff_public && current.status == Status::New {
            Some(StatusChange {
                from: Status::New,
                to: Status::Open,
                reason: None,
            })
        } else if !by_staff && current.status == Status::Pending {
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
            detail: json!({ "number": t.number, "internal": internal, "via": if input.via_email.is_some() { "email" } else { "web" } }),
            ..Entry::new(if internal {
                "ticket.note_added"
            } else {
                "ticket.commented"
            })
            .by(actor)
            .target("ticket", &t.id)
        };
        let mut tx = app.db.tenant(actor.scope()).begin().await?;
        let added = store::add_comment(
            &mut tx,
            &t.id,
            &NewComment {
                author_id: actor.user_id().as_str(),
                body: &body,
                internal,
                staff_public,
                status,
                now,
            },
            Some(audit),
        )
        .await;
        let comment_id = match added {
            // The status moved under us, most often because another reply made the same move
            // (two people answering a pending ticket at once). The comment must not be lost:
            // look again and add it with the move that is due now.
            // Read it in this transaction: on SQLite the move that beat us may be an earlier
            // action of the same group commit, not committed yet and seen only here.
            Err(DbError::Conflict(_)) if moved.is_none() => {
                moved = Some(reload(&mut tx, t.number).await?);
                drop(tx);
                continue;
            }
            other => other.map_err(conflict)?,
        };
        if let Some(message_id) = &input.via_email {
            match store::record_inbound(&mut tx, message_id, &t.id, &comment_id, now).await {
                Err(DbError::Conflict(_)) => {
                    return Err(AppError::Conflict(k("ticket-error-email-duplicate").into()));
                }
                other => other?,
            }
        }
        let names = attach(&mut tx, actor, ip, t, Some(&comment_id), internal, files).await?;
        let fresh = reload(&mut tx, t.number).await?;
        let data = event_data(
            &fresh,
            fresh.status,
            json!({ "comment": {
                "id": comment_id,
                "author": author,
                "body_html": super::render_markdown_with(&body, remote_images),
                "at": now,
                "internal": internal,
                "attachments": names,
            }}),
        );
        publish(
            app,
            &mut tx,
            &fresh,
            EventKind::TicketComment,
            internal,
            data,
        )
        .await?;
        if staff_public {
            let compose = |tr: &Translator| {
                let [number, subject] = ticket_args(t);
                let mut lines = vec![
                    tr.args(
                        k("email-ticket-reply-intro"),
                        &[
                            ("author", Arg::Str(author.clone())),
                            number.clone(),
                            subject.clone(),
                        ],
                    ),
                    String::new(),
                ];
                lines.extend(body.lines().take(40).map(str::to_string));
                let subject = tr.args(k("email-ticket-reply-subject"), &[number, subject]);
                (subject, lines)
            };
            email(
                app,
                &mut tx,
                actor.user_id().as_str(),
                &fresh,
                Pref::Replies,
                compose,
            )
            .await?;
        } else if !by_staff {
            let compose = |tr: &Translator| {
                let [number, subject] = ticket_args(t);
                let mut lines = vec![
                    tr.args(
                        k("ticket-email-client-reply-intro"),
                        &[
                            ("author", Arg::Str(author.clone())),
                            number.clone(),
                            subject.clone(),
                        ],
                    ),
                    String::new(),
                ];
                lines.extend(body.lines().take(40).map(str::to_string));
                let subject = tr.args(k("ticket-email-client-reply-subject"), &[number, subject]);
                (subject, lines)
            };
            let by = actor.user_id().as_str();
            email_to(
                app,
                &mut tx,
                by,
                &fresh,
                Audience::Staff,
                Pref::Replies,
                compose,
            )
            .await?;
        }
        tx.commit().await?;
        return Ok(fresh);
    }
}

fn conflict(e: DbError) -> AppError {
    match e {
        DbError::Conflict(_) => AppError::Conflict(k("ticket-error-conflict").into()),
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
    // Asked for explicitly, even "to the same status" is checked by the table (closing a
    // closed ticket is refused, not ignored).
    check_transition(t.status, to)?;
    update(
        app,
        actor,
        ip,
        t,
        Changes {
            status: Some(to),
            reason,
            ..Changes::default()
        },
    )
    .await
}

/// A client reopens a finished ticket within the window, giving a reason.
pub async fn reopen(
    app: &AppState,
    actor: &Actor,
    ip: &str,
    t: &Ticket,
    reason: &str,
) -> AppResult<Ticket> {
    let reason =
        crate::text::multi_line("reason", reason, 2000).map_err(|e| AppError::fields(vec![e]))?;
    let reason = reason.as_str();
    if reason.is_empty() {
        return Err(AppError::field("reason", k("ticket-error-reopen-reason")));
    }
    if !t.status.is_done() {
        return Err(AppError::Unprocessable(k("ticket-error-still-open").into()));
    }
    if !super::can_reopen(t.status, t.done_at(), now_ms(), app.config.reopen_days) {
        return Err(AppError::Unprocessable(msg_with(
            k("ticket-error-reopen-too-late"),
            &[("days", Arg::Num(app.config.reopen_days))],
        )));
    }
    set_status(app, actor, ip, t, Status::Open, Some(reason)).await
}

/// Changes to a ticket's fields, applied together or not at all.
#[derive(Default)]
pub struct Changes<'a> {
    /// New status (checked against the transition table).
    pub status: Option<Status>,
    /// Reason given with the status change (reopen).
    pub reason: Option<&'a str>,
    /// New priority (the SLA deadlines follow).
    pub priority: Option<Priority>,
    /// New assignee: `Some(None)` clears it.
    pub assignee: Option<Option<&'a str>>,
}

/// Applies status, priority and assignee changes as one action: every field is checked before
/// any is written, and the changes, their audit rows, the event and the emails commit in one
/// transaction. A field equal to its current value is left alone.
pub async fn update(
    app: &AppState,
    actor: &Actor,
    ip: &str,
    t: &Ticket,
    c: Changes<'_>,
) -> AppResult<Ticket> {
    let status = c.status.filter(|s| *s != t.status);
    let priority = c.priority.filter(|p| *p != t.priority);
    let assignee = c
        .assignee
        .filter(|a| *a != t.assignee.as_ref().map(|x| x.id.as_str()));
    // Check everything first.
    if let Some(to) = status {
        check_transition(t.status, to)?;
    }
    if let Some(Some(a)) = assignee {
        let staff = store::users_of_kind(&app.db, actor.scope(), "staff", None).await?;
        if !staff.iter().any(|s| s.id == a) {
            return Err(AppError::field("assignee_id", k("ticket-error-assignee")));
        }
    }
    if status.is_none() && priority.is_none() && assignee.is_none() {
        return Ok(t.clone());
    }
    let mut tx = app.db.tenant(actor.scope()).begin().await?;
    let mut changed = Vec::new();
    if let Some(a) = assignee {
        store::set_assignee(&mut tx, &t.id, a).await?;
        audit_ticket(
            &mut tx,
            actor,
            ip,
            t,
            "ticket.assigned",
            json!({ "number": t.number, "from": t.assignee.as_ref().map(|a| &a.id), "to": a }),
        )
        .await?;
        changed.push("assignee");
    }
    if let Some(p) = priority {
        store::set_priority(&mut tx, t, p).await?;
        audit_ticket(
            &mut tx,
            actor,
            ip,
            t,
            "ticket.priority_changed",
            json!({ "number": t.number, "from": t.priority.as_str(), "to": p.as_str() }),
        )
        .await?;
        changed.push("priority");
    }
    if let Some(to) = status {
        store::set_status(
            &mut tx,
            &t.id,
            actor.user_id().as_str(),
            &StatusChange {
                from: t.status,
                to,
                reason: c.reason,
            },
            now_ms(),
        )
        .await
        .map_err(conflict)?;
        audit_ticket(
            &mut tx,
            actor,
            ip,
            t,
            "ticket.status_changed",
            json!({ "number": t.number, "from": t.status.as_str(), "to": to.as_str(), "reason": c.reason }),
        )
        .await?;
        changed.push("status");
        // A client's reason for reopening is part of the conversation, where staff read
        // replies, not only a line in the collapsed status history.
        if let (Some(reason), false) = (c.reason, actor.is_staff())
            && t.status.is_done()
        {
            store::add_comment(
                &mut tx,
                &t.id,
                &NewComment {
                    author_id: actor.user_id().as_str(),
                    body: reason,
                    internal: false,
                    staff_public: false,
                    status: None,
                    now: now_ms(),
                },
                None,
            )
            .await?;
        }
    }
    let fresh = reload(&mut tx, t.number).await?;
    let mut extra = json!({ "changed": changed.join(",") });
    if assignee.is_some() {
        extra["assignee"] = json!(fresh.assignee.as_ref().map(|a| a.name.clone()));
    }
    publish(
        app,
        &mut tx,
        &fresh,
        EventKind::TicketUpdated,
        false,
        event_data(&fresh, fresh.status, extra),
    )
    .await?;
    if let Some(to) = status {
        let compose = |tr: &Translator| {
            let [number, subject] = ticket_args(t);
            let status = ("status", Arg::key(to.label_key()));
            let mut lines = vec![tr.args(
                k("email-ticket-status-line"),
                &[number.clone(), subject.clone(), status.clone()],
            )];
            if let Some(r) = c.reason {
                lines.push(tr.arg(k("email-ticket-reason"), "reason", r));
            }
            let subject = tr.args(k("email-ticket-status-subject"), &[number, status, subject]);
            (subject, lines)
        };
        email(
            app,
            &mut tx,
            actor.user_id().as_str(),
            &fresh,
            Pref::Status,
            compose,
        )
        .await?;
        if !actor.is_staff() && t.status.is_done() && !to.is_done() {
            // A client reopened it: whoever works it should know without watching the queue.
            let author = store::user_name_in(&mut tx, actor.user_id().as_str()).await?;
            let reopened = |tr: &Translator| {
                let [number, subject] = ticket_args(t);
                let mut lines = vec![tr.args(
                    k("ticket-email-reopened-intro"),
                    &[
                        ("author", Arg::Str(author.clone())),
                        number.clone(),
                        subject.clone(),
                    ],
                )];
                if let Some(r) = c.reason {
                    lines.push(tr.arg(k("email-ticket-reason"), "reason", r));
                }
                let subject = tr.args(k("ticket-email-reopened-subject"), &[number, subject]);
                (subject, lines)
            };
            let by = actor.user_id().as_str();
            email_to(
                app,
                &mut tx,
                by,
                &fresh,
                Audience::Staff,
                Pref::Status,
                reopened,
            )
            .await?;
        }
    }
    tx.commit().await?;
    Ok(fresh)
}

/// Attaches files to a ticket outside a comment (API upload).
pub async fn add_files(
    app: &AppState,
    actor: &Actor,
    ip: &str,
    t: &Ticket,
    files: Pending,
) -> AppResult<Ticket> {
    let r = add_files_in(app, actor, ip, t, files.files()).await;
    files.settle(r).await
}

async fn add_files_in(
    app: &AppState,
    actor: &Actor,
    ip: &str,
    t: &Ticket,
    files: &[StoredFile],
) -> AppResult<Ticket> {
    if t.status.is_done() && !actor.is_staff() {
        return Err(AppError::Unprocessable(
            k("ticket-error-finished-files").into(),
        ));
    }
    let mut tx = app.db.tenant(actor.scope()).begin().await?;
    let names = attach(&mut tx, actor, ip, t, None, false, files).await?;
    let fresh = reload(&mut tx, t.number).await?;
    publish(
        app,
        &mut tx,
        &fresh,
        EventKind::TicketUpdated,
        false,
        event_data(
            &fresh,
            fresh.status,
            json!({ "changed": "attachments", "attachments": names }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(fresh)
}
