//! One tenant's sync run, under the tenant's lease: pull the PSA's changes since the cursor and
//! apply them (conflict rule, comments de-duplicated by PSA id, internal PSA notes skipped),
//! push the outbox in order (each create and comment carrying its outbox id as idempotency
//! key, so a retried push never duplicates), then provision companies and contacts.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::connector::{
    AnyConnector, AttachmentRef, Connector, NewRemoteComment, NewRemoteTicket, PsaError,
    RemoteTicket, TicketPatch,
};
use super::store::{self, Item, Link, Settings};
use super::{Field, Winner, resolve};
use crate::audit::{self, Entry};
use crate::db::{Db, DbError, DbResult, Row, TenantTx, now_ms};
use crate::events::{Event, EventKind};
use crate::jobs::{Job, JobError, JobKind};
use crate::state::AppState;
use crate::tenancy::{TenantId, TenantScope};
use crate::tickets::store::{NewComment, StatusChange, Ticket};
use crate::tickets::{Priority, Status};

/// How long a run may hold the tenant's lease; a node that dies frees the tenant after this.
pub const LEASE_MS: i64 = 10 * 60 * 1000;
/// Email of the per-tenant account that authors what arrives from the PSA without a matching
/// local user (deactivated: nobody can sign in as it).
pub const SYNC_USER_EMAIL: &str = "psa-sync@portico.invalid";
/// Outbox items pushed per batch.
const PUSH_BATCH: i64 = 200;

/// How a run ended.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Another node holds the tenant's lease: nothing was done.
    pub busy: bool,
    /// Remote tickets applied.
    pub pulled: usize,
    /// Outbox items pushed.
    pub pushed: usize,
    /// Conflicts resolved.
    pub conflicts: usize,
    /// Remote tickets skipped (unknown company or requester), with why.
    pub skipped: Vec<String>,
}

/// Why a run stopped.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The PSA failed.
    #[error(transparent)]
    Psa(#[from] PsaError),
    /// Portico's database failed.
    #[error("database: {0}")]
    Db(#[from] DbError),
    /// The settings cannot be used (no key, key sealed with another server key).
    #[error("{0}")]
    Config(String),
}

impl From<sqlx::Error> for SyncError {
    fn from(e: sqlx::Error) -> Self {
        SyncError::Db(e.into())
    }
}

impl From<crate::error::AppError> for SyncError {
    fn from(e: crate::error::AppError) -> Self {
        SyncError::Config(e.to_string())
    }
}

/// The connector of saved settings.
pub fn connector_for(app: &AppState, s: &Settings) -> Result<AnyConnector, SyncError> {
    let key = s
        .api_key_sealed
        .as_deref()
        .and_then(|k| crate::mfa::open(&app.config.secret_key, k))
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| SyncError::Config("no usable API key is stored".into()))?;
    Ok(match s.connector.as_str() {
        "alga" => AnyConnector::Alga(super::alga::Alga::new(&s.base_url, &key)?),
        _ => AnyConnector::Generic(super::generic::Generic::new(&s.base_url, &key)?),
    })
}

/// Runs one sync of the tenant if no other node is running it.
pub async fn run_tenant(app: &AppState, scope: &TenantScope) -> Result<Report, SyncError> {
    let Some(settings) = store::settings(&app.db, scope).await? else {
        return Ok(Report::default());
    };
    if !settings.enabled {
        return Ok(Report::default());
    }
    let owner = format!("{}:{}", app.node_id, uuid::Uuid::new_v4().simple());
    if !store::take_lease(&app.db, scope, &owner, now_ms() + LEASE_MS).await? {
        metrics::counter!("portico_psa_sync_runs_total", "outcome" => "busy").increment(1);
        return Ok(Report {
            busy: true,
            ..Report::default()
        });
    }
    let started = std::time::Instant::now();
    let started_at = now_ms();
    let outcome = match connector_for(app, &settings) {
        Ok(c) => run_locked(app, scope, &settings, &c, &owner).await,
        Err(e) => Err(e),
    };
    let error = outcome.as_ref().err().map(|e| e.to_string());
    store::finish_run(&app.db, scope, &owner, error.as_deref()).await?;
    let done = outcome.as_ref().ok();
    let count = |f: fn(&Report) -> usize| done.map(f).unwrap_or(0) as i64;
    let history = store::Run {
        started_at,
        finished_at: now_ms(),
        ok: done.is_some(),
        pulled: count(|r| r.pulled),
        pushed: count(|r| r.pushed),
        conflicts: count(|r| r.conflicts),
        skipped: count(|r| r.skipped.len()),
        error: error.clone(),
    };
    if let Err(e) = store::record_run(&app.db, scope, &history).await {
        tracing::warn!(error = %e, "cannot record the PSA sync run");
    }
    let tenant = scope.tenant_id().as_str().to_string();
    if let Ok((pending, failed)) = store::counts(&app.db, scope).await {
        metrics::gauge!("portico_psa_pending_changes", "tenant" => tenant.clone())
            .set(pending as f64);
        metrics::gauge!("portico_psa_failed_changes", "tenant" => tenant.clone())
            .set(failed as f64);
    }
    let label = if outcome.is_ok() { "ok" } else { "error" };
    metrics::counter!("portico_psa_sync_runs_total", "outcome" => label).increment(1);
    metrics::histogram!("portico_psa_sync_seconds").record(started.elapsed().as_secs_f64());
    if outcome.is_ok() {
        metrics::gauge!("portico_psa_last_success_timestamp_seconds", "tenant" => tenant)
            .set((now_ms() / 1000) as f64);
    }
    outcome
}

async fn run_locked(
    app: &AppState,
    scope: &TenantScope,
    s: &Settings,
    c: &AnyConnector,
    owner: &str,
) -> Result<Report, SyncError> {
    let mut report = Report::default();
    let sync_user = ensure_sync_user(&app.db, scope).await?;
    // Companies first, so tickets of newly imported companies find their company.
    super::provision::run(app, scope, c, &sync_user).await?;
    let mut cursor = s.cursor.clone();
    loop {
        let page = c.list_changes(cursor.as_deref()).await?;
        for t in &page.tickets {
            apply_remote(app, scope, s, &sync_user, t, &mut report).await?;
        }
        if let Some(next) = &page.next_cursor {
            // Saved per page: a run cut short resumes where it stopped, and re-applying a page
            // changes nothing (fields compare with the last agreed values, comments by id).
            store::save_cursor(&app.db, scope, owner, next).await?;
            cursor = Some(next.clone());
        }
        if !page.has_more || page.next_cursor.is_none() {
            break;
        }
    }
    push(app, scope, s, c, &mut report).await?;
    Ok(report)
}

/// The id of the tenant's sync account, created on first use.
pub async fn ensure_sync_user(db: &Db, scope: &TenantScope) -> DbResult<String> {
    let q = "SELECT id FROM users WHERE tenant_id = $1 AND email = $2";
    if let Some(id) = sqlx::query_scalar::<_, String>(q)
        .bind(scope.tenant_id().as_str())
        .bind(SYNC_USER_EMAIL)
        .fetch_optional(db.tenant(scope).reader())
        .await?
    {
        return Ok(id);
    }
    let created = crate::users::create(
        db,
        scope,
        &crate::users::NewUser {
            email: SYNC_USER_EMAIL,
            name: "PSA",
            role: crate::auth::Role::Technician,
            company_id: None,
            status: crate::users::UserStatus::Deactivated,
            password_hash: None,
        },
    )
    .await;
    match created {
        Ok(id) => Ok(id.as_str().to_string()),
        // Another node created it a moment ago.
        Err(DbError::Conflict(_)) => Ok(sqlx::query_scalar::<_, String>(q)
            .bind(scope.tenant_id().as_str())
            .bind(SYNC_USER_EMAIL)
            .fetch_one(db.tenant(scope).reader())
            .await?),
        Err(e) => Err(e),
    }
}

/// A local user by email: `(id, is_staff)`.
async fn user_by_email(tx: &mut TenantTx, email: &str) -> DbResult<Option<(String, bool)>> {
    let tenant = tx.tenant_id().to_string();
    let r = sqlx::query("SELECT id, kind FROM users WHERE tenant_id = $1 AND email = $2")
        .bind(&tenant)
        .bind(crate::users::normalize_email(email))
        .fetch_optional(tx.conn())
        .await?;
    Ok(match r {
        Some(r) => {
            let kind: String = r.try_get("kind")?;
            Some((r.try_get("id")?, kind == "staff"))
        }
        None => None,
    })
}

async fn ticket_by_id(tx: &mut TenantTx, id: &str) -> DbResult<Option<Ticket>> {
    let tenant = tx.tenant_id().to_string();
    let n: Option<i64> =
        sqlx::query_scalar("SELECT number FROM tickets WHERE tenant_id = $1 AND id = $2")
            .bind(&tenant)
            .bind(id)
            .fetch_optional(tx.conn())
            .await?;
    match n {
        Some(n) => crate::tickets::store::by_number_in(tx, n).await,
        None => Ok(None),
    }
}

async fn publish(
    app: &AppState,
    tx: &mut TenantTx,
    t: &Ticket,
    kind: EventKind,
    extra: serde_json::Value,
) -> Result<(), SyncError> {
    let mut data = json!({
        "number": t.number,
        "subject": t.subject,
        "status": t.status.as_str(),
        "status_label": t.status.label(),
        "priority": t.priority.as_str(),
    });
    if let (Some(o), serde_json::Value::Object(e)) = (data.as_object_mut(), extra) {
        o.extend(e);
    }
    let mut participants = vec![t.requester.id.clone()];
    participants.extend(t.cc.iter().map(|p| p.id.clone()));
    app.events
        .publish_in(
            tx,
            Event {
                tenant_id: tx.tenant_id().to_string(),
                kind,
                object_id: t.number.to_string(),
                company_id: Some(t.company_id.clone()),
                participants,
                internal: false,
                data,
            },
        )
        .await
        .map_err(|e| SyncError::Config(e.to_string()))
}

fn sync_entry<'a>(action: &'a str, sync_user: &'a str, t: &'a Ticket) -> Entry<'a> {
    Entry {
        actor_id: Some(sync_user),
        actor_email: Some(SYNC_USER_EMAIL),
        company_id: Some(&t.company_id),
        ..Entry::new(action).target("ticket", &t.id)
    }
}

/// Applies one remote ticket in one transaction.
async fn apply_remote(
    app: &AppState,
    scope: &TenantScope,
    s: &Settings,
    sync_user: &str,
    rt: &RemoteTicket,
    report: &mut Report,
) -> Result<(), SyncError> {
    let mut tx = app.db.tenant(scope).begin().await?;
    let tenant = tx.tenant_id().to_string();
    let link = store::link_by_external(tx.conn(), &tenant, "ticket", &rt.id).await?;
    let (t, mut link, created) = match link {
        Some(l) => match ticket_by_id(&mut tx, &l.local_id).await? {
            Some(t) => (t, l, false),
            None => return Ok(()),
        },
        None => match create_local(app, &mut tx, s, sync_user, rt).await? {
            Ok((t, l)) => (t, l, true),
            Err(why) => {
                report.skipped.push(why);
                return Ok(());
            }
        },
    };
    let pending = store::pending_updates_in(&mut tx, &t.id).await?;
    let local_changed_at = |f: Field| {
        pending
            .iter()
            .filter(|i| i.fields.iter().any(|x| x == f.as_str()))
            .map(|i| i.created_at)
            .max()
    };
    let mut changed: Vec<&str> = Vec::new();
    let mut current = t.clone();

    // Status.
    if let Some(to) = rt.status.as_deref().and_then(|n| s.mapping.status_in(n)) {
        let psa_moved = link.base_status.as_deref() != Some(to.as_str());
        if psa_moved && to != current.status {
            let win = match local_changed_at(Field::Status) {
                Some(at) => {
                    let w = resolve(Field::Status, at, rt.updated_at);
                    conflict(
                        &mut tx,
                        sync_user,
                        &current,
                        Field::Status,
                        current.status.as_str(),
                        to.as_str(),
                        w,
                    )
                    .await?;
                    report.conflicts += 1;
                    w
                }
                None => Winner::Psa,
            };
            if win == Winner::Psa {
                crate::tickets::store::set_status(
                    &mut tx,
                    &t.id,
                    sync_user,
                    &StatusChange {
                        from: current.status,
                        to,
                        reason: None,
                    },
                    now_ms(),
                )
                .await?;
                store::drop_field_in(&mut tx, &pending, "status").await?;
                audit::append(
                    &mut tx,
                    sync_entry("psa.status_applied", sync_user, &current)
                        .detail(json!({ "number": t.number, "from": current.status.as_str(), "to": to.as_str() })),
                )
                .await?;
                changed.push("status");
                link.base_status = Some(to.as_str().into());
            }
        } else if psa_moved {
            link.base_status = Some(to.as_str().into());
        }
    }

    // Priority.
    if let Some(p) = rt
        .priority
        .as_deref()
        .and_then(|n| s.mapping.priority_in(n))
    {
        let psa_moved = link.base_priority.as_deref() != Some(p.as_str());
        if psa_moved && p != current.priority {
            let win = match local_changed_at(Field::Priority) {
                Some(at) => {
                    let w = resolve(Field::Priority, at, rt.updated_at);
                    conflict(
                        &mut tx,
                        sync_user,
                        &current,
                        Field::Priority,
                        current.priority.as_str(),
                        p.as_str(),
                        w,
                    )
                    .await?;
                    report.conflicts += 1;
                    w
                }
                None => Winner::Psa,
            };
            if win == Winner::Psa {
                crate::tickets::store::set_priority(&mut tx, &current, p).await?;
                store::drop_field_in(&mut tx, &pending, "priority").await?;
                audit::append(
                    &mut tx,
                    sync_entry("psa.priority_applied", sync_user, &current)
                        .detail(json!({ "number": t.number, "from": current.priority.as_str(), "to": p.as_str() })),
                )
                .await?;
                changed.push("priority");
                link.base_priority = Some(p.as_str().into());
            }
        } else if psa_moved {
            link.base_priority = Some(p.as_str().into());
        }
    }

    // Assignee: a PSA technician without a local staff account leaves the field alone.
    let psa_assignee: Option<Option<String>> = match rt.assignee_email.as_deref() {
        None => Some(None),
        Some(e) => match user_by_email(&mut tx, e).await? {
            Some((id, true)) => Some(Some(id)),
            _ => None,
        },
    };
    if let Some(a) = psa_assignee {
        let a_str = a.clone().unwrap_or_default();
        let local = current.assignee.as_ref().map(|x| x.id.clone());
        let psa_moved = link.base_assignee.as_deref() != Some(a_str.as_str());
        if psa_moved && a != local {
            let win = match local_changed_at(Field::Assignee) {
                Some(at) => {
                    let w = resolve(Field::Assignee, at, rt.updated_at);
                    let l = local.clone().unwrap_or_default();
                    conflict(&mut tx, sync_user, &current, Field::Assignee, &l, &a_str, w).await?;
                    report.conflicts += 1;
                    w
                }
                None => Winner::Psa,
            };
            if win == Winner::Psa {
                crate::tickets::store::set_assignee(&mut tx, &t.id, a.as_deref()).await?;
                store::drop_field_in(&mut tx, &pending, "assignee").await?;
                audit::append(
                    &mut tx,
                    sync_entry("psa.assignee_applied", sync_user, &current)
                        .detail(json!({ "number": t.number, "to": a })),
                )
                .await?;
                changed.push("assignee");
                link.base_assignee = Some(a_str);
            }
        } else if psa_moved {
            link.base_assignee = Some(a_str);
        }
    }
    if !changed.is_empty() {
        current = ticket_by_id(&mut tx, &t.id).await?.unwrap_or(current);
    }
    store::put_link(tx.conn(), &tenant, "ticket", &link).await?;

    // Comments: public ones once each (by PSA id); internal PSA notes never reach the portal.
    let remote_images = crate::branding::remote_images_allowed_in(&mut tx).await?;
    for rc in rt.comments.iter().filter(|c| !c.internal) {
        if store::link_by_external(tx.conn(), &tenant, "comment", &rc.id)
            .await?
            .is_some()
        {
            continue;
        }
        let author = match rc.author_email.as_deref() {
            Some(e) => user_by_email(&mut tx, e).await?,
            None => None,
        };
        let (author_id, by_staff) = author.unwrap_or_else(|| (sync_user.to_string(), true));
        let at = if rc.created_at > 0 {
            rc.created_at
        } else {
            now_ms()
        };
        let body = if rc.body.trim().is_empty() {
            "—"
        } else {
            rc.body.as_str()
        };
        let id = crate::tickets::store::add_comment(
            &mut tx,
            &t.id,
            &NewComment {
                author_id: &author_id,
                body,
                internal: false,
                staff_public: by_staff,
                status: None,
                now: at,
            },
            Some(
                sync_entry("psa.comment_received", sync_user, &current)
                    .detail(json!({ "number": t.number, "psa_comment": rc.id })),
            ),
        )
        .await?;
        store::put_link(
            tx.conn(),
            &tenant,
            "comment",
            &Link {
                local_id: id.clone(),
                external_id: rc.id.clone(),
                ..Link::default()
            },
        )
        .await?;
        let name = crate::tickets::store::user_name_in(&mut tx, &author_id)
            .await
            .unwrap_or_default();
        publish(
            app,
            &mut tx,
            &current,
            EventKind::TicketComment,
            json!({ "comment": {
                "id": id,
                "author": name,
                "body_html": crate::tickets::render_markdown_with(body, remote_images),
                "at": at,
                "internal": false,
                "attachments": [],
            }}),
        )
        .await?;
    }
    if created {
        publish(app, &mut tx, &current, EventKind::TicketCreated, json!({})).await?;
    } else if !changed.is_empty() {
        let mut extra = json!({ "changed": changed.join(",") });
        if changed.contains(&"assignee") {
            extra["assignee"] = json!(current.assignee.as_ref().map(|a| a.name.clone()));
        }
        publish(app, &mut tx, &current, EventKind::TicketUpdated, extra).await?;
    }
    tx.commit().await?;
    report.pulled += 1;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn conflict(
    tx: &mut TenantTx,
    sync_user: &str,
    t: &Ticket,
    field: Field,
    local: &str,
    psa: &str,
    winner: Winner,
) -> Result<(), SyncError> {
    store::add_conflict(
        tx,
        &t.id,
        field.as_str(),
        Some(local),
        Some(psa),
        winner.as_str(),
    )
    .await?;
    audit::append(
        tx,
        sync_entry("psa.conflict", sync_user, t).detail(json!({
            "number": t.number, "field": field.as_str(), "portico": local, "psa": psa, "winner": winner.as_str()
        })),
    )
    .await?;
    Ok(())
}

/// A ticket raised in the PSA for a synced company: created here for its requester.
async fn create_local(
    _app: &AppState,
    tx: &mut TenantTx,
    s: &Settings,
    sync_user: &str,
    rt: &RemoteTicket,
) -> Result<Result<(Ticket, Link), String>, SyncError> {
    let tenant = tx.tenant_id().to_string();
    let Some(company_ext) = rt.company_id.as_deref() else {
        return Ok(Err(format!("ticket {}: no company", rt.id)));
    };
    let Some(company) = store::link_by_external(tx.conn(), &tenant, "company", company_ext).await?
    else {
        return Ok(Err(format!(
            "ticket {}: company {company_ext} is not imported",
            rt.id
        )));
    };
    if !s.syncs_company(&company.local_id) {
        return Ok(Err(format!("ticket {}: company does not sync", rt.id)));
    }
    let requester = match rt.requester_email.as_deref() {
        Some(e) => {
            sqlx::query_scalar::<_, String>(
                "SELECT id FROM users WHERE tenant_id = $1 AND email = $2 AND company_id = $3",
            )
            .bind(&tenant)
            .bind(crate::users::normalize_email(e))
            .bind(&company.local_id)
            .fetch_optional(tx.conn())
            .await?
        }
        None => None,
    };
    let Some(requester) = requester else {
        return Ok(Err(format!(
            "ticket {}: the requester has no portal account",
            rt.id
        )));
    };
    let priority = rt
        .priority
        .as_deref()
        .and_then(|p| s.mapping.priority_in(p))
        .unwrap_or(Priority::Normal);
    let subject: String = rt.subject.trim().chars().take(200).collect();
    let subject = if subject.is_empty() {
        format!("PSA {}", rt.id)
    } else {
        subject
    };
    let (id, number) = crate::tickets::store::create(
        tx,
        &crate::tickets::store::NewTicket {
            company_id: &company.local_id,
            requester_id: &requester,
            actor_id: sync_user,
            subject: &subject,
            description: &rt.description,
            priority,
            category: "other",
            cc: &[],
            now: now_ms(),
        },
        Some(Entry {
            actor_id: Some(sync_user),
            actor_email: Some(SYNC_USER_EMAIL),
            company_id: Some(&company.local_id),
            detail: json!({ "psa_ticket": rt.id, "subject": subject }),
            ..Entry::new("psa.ticket_received")
        }),
    )
    .await?;
    let t = crate::tickets::store::by_number_in(tx, number)
        .await?
        .ok_or_else(|| SyncError::Config("the new ticket vanished".into()))?;
    let link = Link {
        local_id: id,
        external_id: rt.id.clone(),
        // Nothing agreed yet: the PSA's values apply below as changes.
        base_status: Some(Status::New.as_str().into()),
        base_priority: Some(priority.as_str().into()),
        base_assignee: Some(String::new()),
        missing_at: None,
    };
    Ok(Ok((t, link)))
}

/// Pushes pending outbox items, oldest first. A PSA outage stops the push (the items stay
/// pending for the next run); a refusal counts against that item only.
async fn push(
    app: &AppState,
    scope: &TenantScope,
    s: &Settings,
    c: &AnyConnector,
    report: &mut Report,
) -> Result<(), SyncError> {
    let mut after: Option<String> = None;
    loop {
        let items = store::pending(&app.db, scope, after.as_deref(), PUSH_BATCH).await?;
        let Some(last) = items.last() else {
            return Ok(());
        };
        after = Some(last.id.clone());
        for item in &items {
            match push_one(app, scope, s, c, item).await {
                Ok(true) => {
                    store::item_done(&app.db, scope, &item.id).await?;
                    report.pushed += 1;
                }
                Ok(false) => {}
                Err(SyncError::Psa(e)) if e.transient() => return Err(SyncError::Psa(e)),
                Err(e) => store::item_failed(&app.db, scope, &item.id, &e.to_string()).await?,
            }
        }
    }
}

/// A writer connection held for one statement only: never across a call to the PSA.
async fn w(db: &Db, scope: &TenantScope) -> DbResult<sqlx::pool::PoolConnection<sqlx::Any>> {
    Ok(db.tenant(scope).writer().acquire().await?)
}

async fn user_contact(db: &Db, scope: &TenantScope, id: &str) -> DbResult<(String, String)> {
    let r = sqlx::query("SELECT email, name FROM users WHERE tenant_id = $1 AND id = $2")
        .bind(scope.tenant_id().as_str())
        .bind(id)
        .fetch_optional(db.tenant(scope).reader())
        .await?;
    Ok(match r {
        Some(r) => (r.try_get("email")?, r.try_get("name")?),
        None => (String::new(), String::new()),
    })
}

/// Pushes one item; `Ok(false)` leaves it pending (its ticket's create has not gone yet).
async fn push_one(
    app: &AppState,
    scope: &TenantScope,
    s: &Settings,
    c: &AnyConnector,
    item: &Item,
) -> Result<bool, SyncError> {
    let db = &app.db;
    let tenant = scope.tenant_id().as_str().to_string();
    let number: Option<i64> =
        sqlx::query_scalar("SELECT number FROM tickets WHERE tenant_id = $1 AND id = $2")
            .bind(&tenant)
            .bind(&item.ticket_id)
            .fetch_optional(db.tenant(scope).reader())
            .await?;
    let t = match number {
        Some(n) => crate::tickets::store::by_number(db, scope, n).await?,
        None => None,
    };
    let Some(t) = t else {
        return Err(SyncError::Config("the ticket no longer exists".into()));
    };
    let link = store::link_by_local(&mut *w(db, scope).await?, &tenant, "ticket", &t.id).await?;
    let link = match link {
        Some(l) => l,
        None => {
            // Creates (and a ticket that predates the connection) go with the current state.
            let assignee = match &t.assignee {
                Some(a) => Some(user_contact(db, scope, &a.id).await?.0),
                None => None,
            };
            let (req_email, req_name) = user_contact(db, scope, &t.requester.id).await?;
            let company =
                store::link_by_local(&mut *w(db, scope).await?, &tenant, "company", &t.company_id)
                    .await?;
            let files = crate::tickets::store::attachments(db, scope, &t.id, false).await?;
            let attachments: Vec<AttachmentRef> = files
                .iter()
                .map(|f| AttachmentRef {
                    name: f.filename.clone(),
                    url: format!(
                        "{}/admin/tickets/{}/attachments/{}",
                        app.config.base_url, t.number, f.id
                    ),
                })
                .collect();
            let mut description = t.description.clone();
            if !attachments.is_empty() {
                description.push_str("\n\nAttachments:\n");
                for a in &attachments {
                    description.push_str(&format!("- {} <{}>\n", a.name, a.url));
                }
            }
            let created = c
                .create_ticket(
                    &NewRemoteTicket {
                        external_ref: format!("#{}", t.number),
                        company_id: company.map(|l| l.external_id),
                        company_name: t.company_name.clone(),
                        requester_email: req_email,
                        requester_name: req_name,
                        subject: t.subject.clone(),
                        description,
                        status: Some(s.mapping.status_out(t.status)),
                        priority: Some(s.mapping.priority_out(t.priority)),
                        assignee_email: assignee,
                        attachments,
                    },
                    &format!("portico-ticket-{}", t.id),
                )
                .await?;
            let l = Link {
                local_id: t.id.clone(),
                external_id: created.id,
                base_status: Some(t.status.as_str().into()),
                base_priority: Some(t.priority.as_str().into()),
                base_assignee: Some(
                    t.assignee
                        .as_ref()
                        .map(|a| a.id.clone())
                        .unwrap_or_default(),
                ),
                missing_at: None,
            };
            store::put_link(&mut *w(db, scope).await?, &tenant, "ticket", &l).await?;
            if item.kind != "comment" {
                // The create carried every field as it is now.
                return Ok(true);
            }
            l
        }
    };
    match item.kind.as_str() {
        "create" => Ok(true),
        "update" => {
            let mut patch = TicketPatch::default();
            let mut next = link.clone();
            for f in &item.fields {
                match f.as_str() {
                    "status" => {
                        patch.status = Some(s.mapping.status_out(t.status));
                        next.base_status = Some(t.status.as_str().into());
                    }
                    "priority" => {
                        patch.priority = Some(s.mapping.priority_out(t.priority));
                        next.base_priority = Some(t.priority.as_str().into());
                    }
                    "assignee" => {
                        let email = match &t.assignee {
                            Some(a) => Some(user_contact(db, scope, &a.id).await?.0),
                            None => None,
                        };
                        patch.assignee_email = Some(email);
                        next.base_assignee = Some(
                            t.assignee
                                .as_ref()
                                .map(|a| a.id.clone())
                                .unwrap_or_default(),
                        );
                    }
                    _ => {}
                }
            }
            c.update_ticket(&link.external_id, &patch).await?;
            store::put_link(&mut *w(db, scope).await?, &tenant, "ticket", &next).await?;
            Ok(true)
        }
        "comment" => {
            let Some(cid) = item.comment_id.as_deref() else {
                return Ok(true);
            };
            if store::link_by_local(&mut *w(db, scope).await?, &tenant, "comment", cid)
                .await?
                .is_some()
            {
                return Ok(true);
            }
            let r = sqlx::query(
                "SELECT m.body, m.internal, m.author_id FROM ticket_comments m WHERE m.tenant_id = $1 AND m.id = $2",
            )
            .bind(&tenant)
            .bind(cid)
            .fetch_optional(db.tenant(scope).reader())
            .await?;
            let Some(r) = r else {
                return Ok(true);
            };
            let author: String = r.try_get("author_id")?;
            let (author_email, author_name) = user_contact(db, scope, &author).await?;
            let id = c
                .add_comment(
                    &link.external_id,
                    &NewRemoteComment {
                        body: r.try_get("body")?,
                        internal: r.try_get::<i64, _>("internal")? != 0,
                        author_email,
                        author_name,
                    },
                    &format!("portico-comment-{cid}"),
                )
                .await?;
            store::put_link(
                &mut *w(db, scope).await?,
                &tenant,
                "comment",
                &Link {
                    local_id: cid.to_string(),
                    external_id: id,
                    ..Link::default()
                },
            )
            .await?;
            Ok(true)
        }
        _ => Ok(true),
    }
}

/// Payload of the `psa.sync` job: one tenant's sync run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SyncJob {
    /// Tenant to sync.
    pub tenant_id: String,
}

impl JobKind for SyncJob {
    const KIND: &'static str = "psa.sync";
    // A PSA that stays down for hours still gets its changes: the scheduled runs carry on
    // whatever this job's fate; this only bounds one job's retries.
    const MAX_ATTEMPTS: i64 = 6;

    async fn run(self, app: &AppState, _job: &Job) -> Result<(), JobError> {
        let op = app.db.operator("PSA sync job works for its tenant");
        let scope = TenantScope::for_operator(&op, TenantId(self.tenant_id.clone()));
        match run_tenant(app, &scope).await {
            Ok(r) if r.busy => Err(JobError::retry("another node is syncing this tenant")),
            Ok(_) => Ok(()),
            Err(SyncError::Config(e)) => Err(JobError::permanent(e)),
            Err(e) => Err(JobError::retry(e)),
        }
    }
}

/// Enqueues a sync for every tenant whose interval has passed, every 30 seconds.
pub fn spawn_watch(app: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if let Err(e) = enqueue_due(&app).await {
                tracing::warn!(error = %e, "cannot schedule PSA syncs");
            }
            tokio::time::sleep(Duration::from_secs(30)).await;
        }
    })
}

/// Enqueues the scheduled syncs that are due; returns how many.
pub async fn enqueue_due(app: &AppState) -> DbResult<usize> {
    let op = app.db.operator("PSA sync schedule looks at every tenant");
    let now = now_ms();
    let due: Vec<String> = sqlx::query_scalar(
        "SELECT s.tenant_id FROM psa_settings s WHERE s.enabled = 1 \
         AND (s.last_run_at IS NULL OR s.last_run_at + s.interval_minutes * 60000 <= $1) \
         AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.tenant_id = s.tenant_id AND j.kind = $2 \
         AND j.status IN ('queued', 'running'))",
    )
    .bind(now)
    .bind(SyncJob::KIND)
    .fetch_all(op.reader())
    .await?;
    for t in &due {
        crate::jobs::enqueue_operator(
            &app.db,
            Some(t),
            SyncJob::KIND,
            &json!({ "tenant_id": t }),
            now,
        )
        .await?;
    }
    Ok(due.len())
}
