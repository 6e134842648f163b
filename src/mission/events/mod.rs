//! Events: capacity, custom questions, a waitlist promoted automatically when seats free up,
//! check-in, `.ics` files and a personal calendar feed.
//!
//! Seats are counted inside the registering transaction after the event row is locked
//! (PostgreSQL `FOR UPDATE`; SQLite has one writer), so concurrent registrations for the last
//! seats never overbook. A cancellation promotes the waitlist in the same transaction, queues
//! the promoted member's email and publishes a live event to them.

pub mod demo;
pub mod ics;
pub mod routes;

use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::audit::{self, Entry};
use crate::auth::Actor;
use crate::db::{AnyRow, Backend, Db, DbError, DbResult, Row, TenantTx, flag, new_id, now_ms};
use crate::error::{AppError, AppResult, FieldError};
use crate::events::{Event as LiveEvent, EventBus, EventKind};
use crate::i18n::{Arg, Translator, for_recipient};
use crate::jobs::{EmailJob, JobKind};
use crate::tenancy::TenantScope;

/// Page size of event lists.
pub const PAGE_SIZE: i64 = 20;
/// Most guests one registration may bring.
pub const MAX_GUESTS: usize = 10;
/// Most custom questions an event may ask.
pub const MAX_QUESTIONS: usize = 10;

/// A question the event asks each registration.
#[derive(Clone, Debug, Default, Serialize, Deserialize, schemars::JsonSchema, PartialEq)]
pub struct Question {
    /// What is asked.
    pub label: String,
    /// An answer is required.
    #[serde(default)]
    pub required: bool,
}

/// An event as the viewer sees it.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct MissionEvent {
    /// Id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Where.
    pub place: String,
    /// Starts (Unix ms).
    pub starts_at: i64,
    /// Ends (Unix ms).
    pub ends_at: i64,
    /// Seats in all; 0 means no limit.
    pub capacity: i64,
    /// A full event takes a waitlist.
    pub waitlist: bool,
    /// Custom questions.
    pub questions: Vec<Question>,
    /// Called off by staff.
    pub cancelled: bool,
    /// Seats taken by confirmed registrations.
    pub taken: i64,
    /// Seats left; `None` when there is no limit.
    pub seats_left: Option<i64>,
    /// Registrations on the waitlist.
    pub waiting: i64,
    /// The viewer's own registration: `registered` or `waitlisted`.
    pub my_status: Option<String>,
    /// The viewer's registration id.
    pub my_registration: Option<String>,
}

const EVENT_COLS: &str = "e.id, e.title, e.description, e.place, e.starts_at, e.ends_at, e.capacity, e.waitlist, e.questions, e.cancelled, \
     COALESCE((SELECT CAST(SUM(r.seats) AS BIGINT) FROM mission_registrations r WHERE r.tenant_id = e.tenant_id AND r.event_id = e.id AND r.status = 'registered'), 0) AS taken, \
     (SELECT CAST(COUNT(*) AS BIGINT) FROM mission_registrations r WHERE r.tenant_id = e.tenant_id AND r.event_id = e.id AND r.status = 'waitlisted') AS waiting, \
     (SELECT r.status FROM mission_registrations r WHERE r.tenant_id = e.tenant_id AND r.event_id = e.id AND r.user_id = $2 AND r.status <> 'cancelled') AS my_status, \
     (SELECT r.id FROM mission_registrations r WHERE r.tenant_id = e.tenant_id AND r.event_id = e.id AND r.user_id = $2 AND r.status <> 'cancelled') AS my_registration";

fn event_row(r: &AnyRow) -> Result<MissionEvent, sqlx::Error> {
    let capacity: i64 = r.try_get("capacity")?;
    let taken: i64 = r.try_get("taken")?;
    let questions: String = r.try_get("questions")?;
    Ok(MissionEvent {
        id: r.try_get("id")?,
        title: r.try_get("title")?,
        description: r.try_get("description")?,
        place: r.try_get("place")?,
        starts_at: r.try_get("starts_at")?,
        ends_at: r.try_get("ends_at")?,
        capacity,
        waitlist: flag(r, "waitlist")?,
        questions: serde_json::from_str(&questions).unwrap_or_default(),
        cancelled: flag(r, "cancelled")?,
        taken,
        seats_left: (capacity > 0).then_some((capacity - taken).max(0)),
        waiting: r.try_get("waiting")?,
        my_status: r.try_get("my_status")?,
        my_registration: r.try_get("my_registration")?,
    })
}

/// Which events to list.
#[derive(Clone, Debug, Default)]
pub struct EventFilter {
    /// Only events ending after this (Unix ms); upcoming lists pass now.
    pub from: i64,
    /// Only events starting before this (Unix ms); `i64::MAX` for no end.
    pub until: i64,
    /// Staff lists include called-off events.
    pub include_cancelled: bool,
    /// Only events the viewer registered for (or waits for).
    pub mine_only: bool,
    /// Continue after this cursor (`starts_at|id`).
    pub cursor: Option<String>,
    /// Page size.
    pub limit: i64,
}

/// Events in start order as `viewer_id` sees them, and the next cursor.
pub async fn list(
    db: &Db,
    scope: &TenantScope,
    viewer_id: &str,
    f: &EventFilter,
) -> DbResult<(Vec<MissionEvent>, Option<String>)> {
    let (c_at, c_id) = f
        .cursor
        .as_deref()
        .and_then(|c| c.split_once('|'))
        .and_then(|(a, i)| a.parse::<i64>().ok().map(|a| (a, i.to_string())))
        .unwrap_or((i64::MIN, String::new()));
    let limit = f.limit.clamp(1, 500);
    let rows = sqlx::query(&format!(
        "SELECT {EVENT_COLS} FROM mission_events e WHERE e.tenant_id = $1 \
         AND e.ends_at >= $3 AND e.starts_at < $4 AND ($5 = 1 OR e.cancelled = 0) \
         AND ($6 = 0 OR EXISTS (SELECT 1 FROM mission_registrations r WHERE r.tenant_id = e.tenant_id AND r.event_id = e.id AND r.user_id = $2 AND r.status <> 'cancelled')) \
         AND (e.starts_at > $7 OR (e.starts_at = $7 AND e.id > $8)) \
         ORDER BY e.starts_at, e.id LIMIT $9"
    ))
    .bind(scope.tenant_id().as_str())
    .bind(viewer_id)
    .bind(f.from)
    .bind(f.until)
    .bind(i64::from(f.include_cancelled))
    .bind(i64::from(f.mine_only))
    .bind(c_at)
    .bind(&c_id)
    .bind(limit)
    .fetch_all(db.tenant(scope).reader())
    .await?;
    let items: Vec<MissionEvent> = rows.iter().map(event_row).collect::<Result<_, _>>()?;
    let next = (items.len() as i64 == limit)
        .then(|| items.last().map(|e| format!("{}|{}", e.starts_at, e.id)))
        .flatten();
    Ok((items, next))
}

/// One event as `viewer_id` sees it; members never see called-off events.
pub async fn get(
    db: &Db,
    scope: &TenantScope,
    viewer_id: &str,
    id: &str,
    staff: bool,
) -> AppResult<MissionEvent> {
    let row = sqlx::query(&format!(
        "SELECT {EVENT_COLS} FROM mission_events e WHERE e.tenant_id = $1 AND e.id = $3 AND ($4 = 1 OR e.cancelled = 0)"
    ))
    .bind(scope.tenant_id().as_str())
    .bind(viewer_id)
    .bind(id)
    .bind(i64::from(staff))
    .fetch_optional(db.tenant(scope).reader())
    .await
    .map_err(DbError::from)?
    .ok_or(AppError::NotFound)?;
    Ok(event_row(&row).map_err(DbError::from)?)
}

/// The same inside a write, with the event row locked so seat counts stay true until commit.
async fn locked(tx: &mut TenantTx, viewer_id: &str, id: &str) -> AppResult<MissionEvent> {
    let tenant = tx.tenant_id().to_string();
    if tx.backend() == Backend::Postgres {
        sqlx::query("SELECT id FROM mission_events WHERE tenant_id = $1 AND id = $2 FOR UPDATE")
            .bind(&tenant)
            .bind(id)
            .execute(tx.conn())
            .await
            .map_err(DbError::from)?;
    }
    let row = sqlx::query(&format!(
        "SELECT {EVENT_COLS} FROM mission_events e WHERE e.tenant_id = $1 AND e.id = $3"
    ))
    .bind(&tenant)
    .bind(viewer_id)
    .bind(id)
    .fetch_optional(tx.conn())
    .await
    .map_err(DbError::from)?
    .ok_or(AppError::NotFound)?;
    Ok(event_row(&row).map_err(DbError::from)?)
}

/// Someone coming with a registration.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Attendee {
    /// Name.
    pub name: String,
    /// `self`, `household` or `guest`.
    pub kind: String,
}

/// A registration.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Registration {
    /// Id.
    pub id: String,
    /// The event.
    pub event_id: String,
    /// The member who registered.
    pub user_id: String,
    /// Their name.
    pub member_name: String,
    /// Their email (staff lists only; empty for members).
    pub member_email: String,
    /// Seats taken (the member, household members and guests).
    pub seats: i64,
    /// Who comes.
    pub attendees: Vec<Attendee>,
    /// Answers to the event's questions, in order.
    pub answers: Vec<String>,
    /// `registered`, `waitlisted` or `cancelled`.
    pub status: String,
    /// Checked in at the door (Unix ms).
    pub checked_in_at: Option<i64>,
    /// Registered (Unix ms).
    pub created_at: i64,
}

fn reg_row(r: &AnyRow) -> Result<Registration, sqlx::Error> {
    let attendees: String = r.try_get("attendees")?;
    let answers: String = r.try_get("answers")?;
    Ok(Registration {
        id: r.try_get("id")?,
        event_id: r.try_get("event_id")?,
        user_id: r.try_get("user_id")?,
        member_name: r.try_get("member_name")?,
        member_email: r.try_get("member_email")?,
        seats: r.try_get("seats")?,
        attendees: serde_json::from_str(&attendees).unwrap_or_default(),
        answers: serde_json::from_str(&answers).unwrap_or_default(),
        status: r.try_get("status")?,
        checked_in_at: r.try_get("checked_in_at")?,
        created_at: r.try_get("created_at")?,
    })
}

const REG_SELECT: &str = "SELECT r.id, r.event_id, r.user_id, u.name AS member_name, u.email AS member_email, r.seats, r.attendees, r.answers, r.status, r.checked_in_at, r.created_at \
     FROM mission_registrations r JOIN users u ON u.tenant_id = r.tenant_id AND u.id = r.user_id";

/// Every live registration of an event (staff), confirmed first, then the waitlist in order.
pub async fn registrations(
    db: &Db,
    scope: &TenantScope,
    event_id: &str,
) -> DbResult<Vec<Registration>> {
    let rows = sqlx::query(&format!(
        "{REG_SELECT} WHERE r.tenant_id = $1 AND r.event_id = $2 AND r.status <> 'cancelled' \
         ORDER BY CASE WHEN r.status = 'registered' THEN 0 ELSE 1 END, r.created_at, r.id"
    ))
    .bind(scope.tenant_id().as_str())
    .bind(event_id)
    .fetch_all(db.tenant(scope).reader())
    .await?;
    Ok(rows.iter().map(reg_row).collect::<Result<_, _>>()?)
}

/// The member's own live registration for an event, if any (never anyone else's).
pub async fn my_registration(
    db: &Db,
    scope: &TenantScope,
    user_id: &str,
    event_id: &str,
) -> DbResult<Option<Registration>> {
    let row = sqlx::query(&format!(
        "{REG_SELECT} WHERE r.tenant_id = $1 AND r.event_id = $2 AND r.user_id = $3 AND r.status <> 'cancelled'"
    ))
    .bind(scope.tenant_id().as_str())
    .bind(event_id)
    .bind(user_id)
    .fetch_optional(db.tenant(scope).reader())
    .await?;
    let mut r = row.as_ref().map(reg_row).transpose()?;
    if let Some(r) = r.as_mut() {
        r.member_email.clear();
    }
    Ok(r)
}

/// What a member sends to register.
#[derive(Clone, Debug, Default, Deserialize, schemars::JsonSchema)]
pub struct NewRegistration {
    /// Household members (user ids) who come too.
    #[serde(default)]
    pub household: Vec<String>,
    /// Names of guests who come too.
    #[serde(default)]
    pub guests: Vec<String>,
    /// Answers to the event's questions, in order.
    #[serde(default)]
    pub answers: Vec<String>,
}

/// A member of the viewer's household (for "register my household").
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct HouseholdMember {
    /// User id.
    pub id: String,
    /// Name.
    pub name: String,
}

/// The other members of `user_id`'s household.
pub async fn household(
    db: &Db,
    scope: &TenantScope,
    user_id: &str,
) -> DbResult<Vec<HouseholdMember>> {
    let rows = sqlx::query(
        "SELECT u.id, u.name FROM mission_members me \
         JOIN mission_members m ON m.tenant_id = me.tenant_id AND m.household_id = me.household_id AND m.user_id <> me.user_id \
         JOIN users u ON u.tenant_id = m.tenant_id AND u.id = m.user_id \
         WHERE me.tenant_id = $1 AND me.user_id = $2 AND me.household_id IS NOT NULL ORDER BY u.name, u.id",
    )
    .bind(scope.tenant_id().as_str())
    .bind(user_id)
    .fetch_all(db.tenant(scope).reader())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(HouseholdMember {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(DbError::from)
}

fn field(f: &str, m: &str) -> FieldError {
    FieldError {
        field: f.into(),
        message: m.into(),
    }
}

/// Checks answers against the questions; returns them trimmed, one per question.
pub fn check_answers(questions: &[Question], answers: &[String]) -> Result<Vec<String>, AppError> {
    let mut out = Vec::new();
    let mut errs = Vec::new();
    for (i, q) in questions.iter().enumerate() {
        let a = answers.get(i).map(|s| s.trim()).unwrap_or("");
        if q.required && a.is_empty() {
            errs.push(field(&format!("q{i}"), "events-error-answer-required"));
            continue;
        }
        match super::line(&format!("q{i}"), a, 500) {
            Ok(a) => out.push(a),
            Err(e) => errs.push(e),
        }
    }
    if errs.is_empty() {
        Ok(out)
    } else {
        Err(AppError::fields(errs))
    }
}

/// Whether a party of `seats` fits: seats free and nobody already waiting ahead of them.
pub fn fits(capacity: i64, taken: i64, waiting: i64, seats: i64) -> bool {
    capacity == 0 || (waiting == 0 && taken + seats <= capacity)
}

/// Registers the member (with household members and guests). Goes to the waitlist when the
/// event is full and has one; refused when full without one.
pub async fn register(
    db: &Db,
    actor: &Actor,
    ip: &str,
    event_id: &str,
    n: &NewRegistration,
) -> AppResult<Registration> {
    let me = actor.user_id().as_str();
    let family = household(db, actor.scope(), me).await?;
    let mut attendees = Vec::new();
    let name: String = sqlx::query("SELECT name FROM users WHERE tenant_id = $1 AND id = $2")
        .bind(actor.scope().tenant_id().as_str())
        .bind(me)
        .fetch_one(db.tenant(actor.scope()).reader())
        .await
        .map_err(DbError::from)?
        .try_get("name")
        .map_err(DbError::from)?;
    attendees.push(Attendee {
        name,
        kind: "self".into(),
    });
    let mut seen = std::collections::HashSet::new();
    for id in n.household.iter().filter(|id| seen.insert(id.as_str())) {
        let Some(m) = family.iter().find(|f| f.id == *id) else {
            return Err(AppError::field("household", "events-error-household"));
        };
        attendees.push(Attendee {
            name: m.name.clone(),
            kind: "household".into(),
        });
    }
    let guests: Vec<&String> = n.guests.iter().filter(|g| !g.trim().is_empty()).collect();
    if guests.len() > MAX_GUESTS {
        return Err(AppError::field("guests", "events-error-too-many-guests"));
    }
    for g in guests {
        let g = super::line("guests", g, 120).map_err(|e| AppError::fields(vec![e]))?;
        attendees.push(Attendee {
            name: g,
            kind: "guest".into(),
        });
    }
    let seats = attendees.len() as i64;

    let mut tx = db.tenant(actor.scope()).begin().await?;
    let e = locked(&mut tx, me, event_id).await?;
    if e.cancelled {
        return Err(AppError::NotFound);
    }
    if e.ends_at < now_ms() {
        return Err(AppError::Unprocessable("events-error-past".into()));
    }
    if e.my_status.is_some() {
        return Err(AppError::Conflict("events-error-already".into()));
    }
    let answers = check_answers(&e.questions, &n.answers)?;
    if e.capacity > 0 && seats > e.capacity {
        return Err(AppError::field("guests", "events-error-party-too-big"));
    }
    let status = if fits(e.capacity, e.taken, e.waiting, seats) {
        "registered"
    } else if e.waitlist {
        "waitlisted"
    } else {
        return Err(AppError::Conflict("events-error-full".into()));
    };
    let id = new_id();
    let now = now_ms();
    let tenant = tx.tenant_id().to_string();
    sqlx::query(
        "INSERT INTO mission_registrations (id, tenant_id, event_id, user_id, seats, attendees, answers, status, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
    )
    .bind(&id)
    .bind(&tenant)
    .bind(&e.id)
    .bind(me)
    .bind(seats)
    .bind(json!(attendees).to_string())
    .bind(json!(answers).to_string())
    .bind(status)
    .bind(now)
    .execute(tx.conn())
    .await
    .map_err(|err| match DbError::from(err) {
        // The one-live-registration index: a second click raced the first.
        DbError::Sqlx(sqlx::Error::Database(d)) if d.is_unique_violation() => {
            AppError::Conflict("events-error-already".into())
        }
        other => AppError::from(other),
    })?;
    audit::append(
        &mut tx,
        Entry {
            ip: Some(ip),
            detail: json!({ "event": e.id, "seats": seats, "status": status }),
            ..Entry::new("mission.event_registered")
                .by(actor)
                .target("registration", &id)
        },
    )
    .await?;
    tx.commit().await?;
    my_registration(db, actor.scope(), me, event_id)
        .await?
        .ok_or(AppError::NotFound)
}

/// Where the promotion email and live event go.
pub struct Notify<'a> {
    /// The event bus.
    pub bus: &'a EventBus,
    /// Absolute base URL of the portal.
    pub base_url: &'a str,
}

/// Cancels a registration: the member's own (`staff` false) or any (staff). Promotes the
/// waitlist in the same transaction.
pub async fn cancel(
    db: &Db,
    actor: &Actor,
    ip: &str,
    event_id: &str,
    registration_id: Option<&str>,
    notify: &Notify<'_>,
) -> AppResult<Vec<String>> {
    let me = actor.user_id().as_str();
    let mut tx = db.tenant(actor.scope()).begin().await?;
    let e = locked(&mut tx, me, event_id).await?;
    let tenant = tx.tenant_id().to_string();
    let row = sqlx::query(
        "SELECT id, user_id FROM mission_registrations WHERE tenant_id = $1 AND event_id = $2 AND status <> 'cancelled' \
         AND (($3 <> '' AND id = $3) OR ($3 = '' AND user_id = $4))",
    )
    .bind(&tenant)
    .bind(&e.id)
    .bind(registration_id.unwrap_or(""))
    .bind(me)
    .fetch_optional(tx.conn())
    .await
    .map_err(DbError::from)?
    .ok_or(AppError::NotFound)?;
    let reg_id: String = row.try_get("id").map_err(DbError::from)?;
    let owner: String = row.try_get("user_id").map_err(DbError::from)?;
    sqlx::query(
        "UPDATE mission_registrations SET status = 'cancelled', updated_at = $3 WHERE tenant_id = $1 AND id = $2",
    )
    .bind(&tenant)
    .bind(&reg_id)
    .bind(now_ms())
    .execute(tx.conn())
    .await
    .map_err(DbError::from)?;
    audit::append(
        &mut tx,
        Entry {
            ip: Some(ip),
            detail: json!({ "event": e.id, "member": owner }),
            ..Entry::new(if registration_id.is_some() {
                "mission.registration_cancelled_by_staff"
            } else {
                "mission.registration_cancelled"
            })
            .by(actor)
            .target("registration", &reg_id)
        },
    )
    .await?;
    let mut changed = vec![owner.clone()];
    changed.extend(promote(&mut tx, actor, ip, &e.id, notify).await?);
    for user in &changed {
        publish(&mut tx, notify, &e.id, user).await?;
    }
    tx.commit().await?;
    Ok(changed)
}

async fn publish(
    tx: &mut TenantTx,
    notify: &Notify<'_>,
    event_id: &str,
    user: &str,
) -> AppResult<()> {
    notify
        .bus
        .publish_in(
            tx,
            LiveEvent {
                tenant_id: String::new(),
                kind: EventKind::MissionRegistration,
                object_id: event_id.to_string(),
                company_id: None,
                participants: vec![user.to_string()],
                internal: false,
                data: json!({ "event_id": event_id }),
            },
        )
        .await
        .map_err(AppError::Internal)
}

/// Moves waitlisted registrations up, first come first served, while the next one fits;
/// each promoted member gets an email. Returns the promoted members' ids.
async fn promote(
    tx: &mut TenantTx,
    actor: &Actor,
    ip: &str,
    event_id: &str,
    notify: &Notify<'_>,
) -> AppResult<Vec<String>> {
    let e = locked(tx, "", event_id).await?;
    let tenant = tx.tenant_id().to_string();
    let rows = sqlx::query(&format!(
        "{REG_SELECT} WHERE r.tenant_id = $1 AND r.event_id = $2 AND r.status = 'waitlisted' ORDER BY r.created_at, r.id"
    ))
    .bind(&tenant)
    .bind(event_id)
    .fetch_all(tx.conn())
    .await
    .map_err(DbError::from)?;
    let waiting: Vec<Registration> = rows
        .iter()
        .map(reg_row)
        .collect::<Result<_, _>>()
        .map_err(DbError::from)?;
    let mut taken = e.taken;
    let mut promoted = Vec::new();
    for r in waiting {
        if e.capacity > 0 && taken + r.seats > e.capacity {
            break;
        }
        taken += r.seats;
        sqlx::query(
            "UPDATE mission_registrations SET status = 'registered', updated_at = $3 WHERE tenant_id = $1 AND id = $2",
        )
        .bind(&tenant)
        .bind(&r.id)
        .bind(now_ms())
        .execute(tx.conn())
        .await
        .map_err(DbError::from)?;
        audit::append(
            tx,
            Entry {
                ip: Some(ip),
                detail: json!({ "event": e.id, "member": r.user_id }),
                ..Entry::new("mission.registration_promoted")
                    .by(actor)
                    .target("registration", &r.id)
            },
        )
        .await?;
        promotion_email(tx, &e, &r, notify).await?;
        promoted.push(r.user_id);
    }
    Ok(promoted)
}

async fn promotion_email(
    tx: &mut TenantTx,
    e: &MissionEvent,
    r: &Registration,
    notify: &Notify<'_>,
) -> AppResult<()> {
    let tenant = tx.tenant_id().to_string();
    let row = sqlx::query(
        "SELECT u.language, u.time_zone, t.default_locale, t.time_zone AS tenant_zone FROM users u JOIN tenants t ON t.id = u.tenant_id \
         WHERE u.tenant_id = $1 AND u.id = $2",
    )
    .bind(&tenant)
    .bind(&r.user_id)
    .fetch_one(tx.conn())
    .await
    .map_err(DbError::from)?;
    let lang: Option<String> = row.try_get("language").map_err(DbError::from)?;
    let zone: Option<String> = row.try_get("time_zone").map_err(DbError::from)?;
    let default_locale: String = row.try_get("default_locale").map_err(DbError::from)?;
    let tenant_zone: String = row.try_get("tenant_zone").map_err(DbError::from)?;
    let tz = crate::i18n::viewer_zone(zone.as_deref(), None, Some(&tenant_zone));
    let t = Translator::zoned(for_recipient(lang.as_deref(), Some(&default_locale)), tz);
    let args = [
        ("name", Arg::Str(r.member_name.clone())),
        ("event", Arg::Str(e.title.clone())),
        ("when", Arg::Str(t.datetime(e.starts_at))),
    ];
    EmailJob {
        to: r.member_email.clone(),
        subject: t.args("events-email-promoted-subject", &args),
        lines: vec![t.args("events-email-promoted-body", &args)],
        action_url: Some(crate::mail::absolute(
            notify.base_url,
            &format!("/portal/mission/events/{}", e.id),
        )),
        action_label: Some(t.get("events-email-open")),
        lang: Some(t.lang().into()),
        reply_to: None,
    }
    .enqueue(tx)
    .await?;
    Ok(())
}

/// What staff enter for an event.
#[derive(Clone, Debug, Default, Deserialize, schemars::JsonSchema)]
pub struct EventInput {
    /// Title.
    #[serde(default)]
    pub title: String,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// Where.
    #[serde(default)]
    pub place: String,
    /// Starts (Unix ms).
    #[serde(default)]
    pub starts_at: i64,
    /// Ends (Unix ms); must be after the start.
    #[serde(default)]
    pub ends_at: i64,
    /// Seats; 0 for no limit.
    #[serde(default)]
    pub capacity: i64,
    /// Take a waitlist when full.
    #[serde(default)]
    pub waitlist: bool,
    /// Custom questions.
    #[serde(default)]
    pub questions: Vec<Question>,
}

/// Validates staff input; field errors name the form's fields.
pub fn check_input(i: &EventInput) -> Result<EventInput, AppError> {
    let mut errs = Vec::new();
    let title = super::line("title", &i.title, 200).unwrap_or_else(|e| {
        errs.push(e);
        String::new()
    });
    if title.is_empty() && errs.is_empty() {
        errs.push(field("title", "events-error-title"));
    }
    let place = super::line("place", &i.place, 200).unwrap_or_else(|e| {
        errs.push(e);
        String::new()
    });
    let description = if i.description.trim().is_empty() {
        String::new()
    } else {
        super::body("description", &i.description, "events-error-title").unwrap_or_else(|e| {
            errs.push(e);
            String::new()
        })
    };
    if i.starts_at <= 0 {
        errs.push(field("starts_at", "events-error-start"));
    } else if i.ends_at <= i.starts_at {
        errs.push(field("ends_at", "events-error-end"));
    }
    if !(0..=100_000).contains(&i.capacity) {
        errs.push(field("capacity", "events-error-capacity"));
    }
    let questions: Vec<Question> = i
        .questions
        .iter()
        .filter(|q| !q.label.trim().is_empty())
        .map(|q| Question {
            label: q.label.trim().chars().take(200).collect(),
            required: q.required,
        })
        .collect();
    if questions.len() > MAX_QUESTIONS {
        errs.push(field("questions", "events-error-questions"));
    }
    if !errs.is_empty() {
        return Err(AppError::fields(errs));
    }
    Ok(EventInput {
        title,
        description,
        place,
        starts_at: i.starts_at,
        ends_at: i.ends_at,
        capacity: i.capacity,
        waitlist: i.waitlist,
        questions,
    })
}

/// Creates an event (staff); returns its id.
pub async fn create(db: &Db, actor: &Actor, ip: &str, i: &EventInput) -> AppResult<String> {
    let i = check_input(i)?;
    let id = new_id();
    let mut tx = db.tenant(actor.scope()).begin().await?;
    insert_in(&mut tx, &id, &i).await?;
    audit::append(
        &mut tx,
        Entry {
            ip: Some(ip),
            detail: json!({ "title": i.title, "capacity": i.capacity }),
            ..Entry::new("mission.event_created")
                .by(actor)
                .target("event", &id)
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Inserts an event row (create and demo).
pub async fn insert_in(tx: &mut TenantTx, id: &str, i: &EventInput) -> DbResult<()> {
    let now = now_ms();
    let tenant = tx.tenant_id().to_string();
    sqlx::query(
        "INSERT INTO mission_events (id, tenant_id, title, description, place, starts_at, ends_at, capacity, waitlist, questions, cancelled, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 0, $11, $11)",
    )
    .bind(id)
    .bind(&tenant)
    .bind(&i.title)
    .bind(&i.description)
    .bind(&i.place)
    .bind(i.starts_at)
    .bind(i.ends_at)
    .bind(i.capacity)
    .bind(i64::from(i.waitlist))
    .bind(json!(i.questions).to_string())
    .bind(now)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Changes an event (staff). More seats promote the waitlist at once.
pub async fn update(
    db: &Db,
    actor: &Actor,
    ip: &str,
    id: &str,
    i: &EventInput,
    notify: &Notify<'_>,
) -> AppResult<()> {
    let i = check_input(i)?;
    let mut tx = db.tenant(actor.scope()).begin().await?;
    let before = locked(&mut tx, "", id).await?;
    let tenant = tx.tenant_id().to_string();
    sqlx::query(
        "UPDATE mission_events SET title = $3, description = $4, place = $5, starts_at = $6, ends_at = $7, capacity = $8, \
         waitlist = $9, questions = $10, updated_at = $11 WHERE tenant_id = $1 AND id = $2",
    )
    .bind(&tenant)
    .bind(&before.id)
    .bind(&i.title)
    .bind(&i.description)
    .bind(&i.place)
    .bind(i.starts_at)
    .bind(i.ends_at)
    .bind(i.capacity)
    .bind(i64::from(i.waitlist))
    .bind(json!(i.questions).to_string())
    .bind(now_ms())
    .execute(tx.conn())
    .await
    .map_err(DbError::from)?;
    audit::append(
        &mut tx,
        Entry {
            ip: Some(ip),
            detail: json!({ "capacity": { "from": before.capacity, "to": i.capacity }, "title": i.title }),
            ..Entry::new("mission.event_changed")
                .by(actor)
                .target("event", &before.id)
        },
    )
    .await?;
    for user in promote(&mut tx, actor, ip, &before.id, notify).await? {
        publish(&mut tx, notify, &before.id, &user).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Calls an event off or back on (staff).
pub async fn set_cancelled(
    db: &Db,
    actor: &Actor,
    ip: &str,
    id: &str,
    cancelled: bool,
) -> AppResult<()> {
    let mut tx = db.tenant(actor.scope()).begin().await?;
    let e = locked(&mut tx, "", id).await?;
    let tenant = tx.tenant_id().to_string();
    sqlx::query("UPDATE mission_events SET cancelled = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2")
        .bind(&tenant)
        .bind(&e.id)
        .bind(i64::from(cancelled))
        .bind(now_ms())
        .execute(tx.conn())
        .await
        .map_err(DbError::from)?;
    audit::append(
        &mut tx,
        Entry {
            ip: Some(ip),
            ..Entry::new(if cancelled {
                "mission.event_called_off"
            } else {
                "mission.event_restored"
            })
            .by(actor)
            .target("event", &e.id)
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Checks a registration in at the door (staff); `undo` clears it.
pub async fn check_in(
    db: &Db,
    actor: &Actor,
    ip: &str,
    event_id: &str,
    registration_id: &str,
    undo: bool,
) -> AppResult<()> {
    let mut tx = db.tenant(actor.scope()).begin().await?;
    let tenant = tx.tenant_id().to_string();
    let done = sqlx::query(
        "UPDATE mission_registrations SET checked_in_at = $4, updated_at = $5 \
         WHERE tenant_id = $1 AND event_id = $2 AND id = $3 AND status = 'registered'",
    )
    .bind(&tenant)
    .bind(event_id)
    .bind(registration_id)
    .bind(if undo { None } else { Some(now_ms()) })
    .bind(now_ms())
    .execute(tx.conn())
    .await
    .map_err(DbError::from)?
    .rows_affected();
    if done == 0 {
        return Err(AppError::NotFound);
    }
    audit::append(
        &mut tx,
        Entry {
            ip: Some(ip),
            detail: json!({ "event": event_id }),
            ..Entry::new(if undo {
                "mission.check_in_undone"
            } else {
                "mission.checked_in"
            })
            .by(actor)
            .target("registration", registration_id)
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Registrations as CSV (staff export).
pub fn csv(e: &MissionEvent, regs: &[Registration]) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut head = vec![
        "name".to_string(),
        "email".into(),
        "status".into(),
        "seats".into(),
        "attendees".into(),
        "checked_in".into(),
    ];
    head.extend(e.questions.iter().map(|q| q.label.clone()));
    w.write_record(head.iter().map(|h| crate::text::csv_cell(h).into_owned()))?;
    for r in regs {
        let mut row = vec![
            crate::text::csv_cell(&r.member_name).into_owned(),
            crate::text::csv_cell(&r.member_email).into_owned(),
            r.status.clone(),
            r.seats.to_string(),
            crate::text::csv_cell(
                &r.attendees
                    .iter()
                    .map(|a| a.name.as_str())
                    .collect::<Vec<_>>()
                    .join("; "),
            )
            .into_owned(),
            if r.checked_in_at.is_some() {
                "yes"
            } else {
                "no"
            }
            .to_string(),
        ];
        row.extend(
            r.answers
                .iter()
                .map(|a| crate::text::csv_cell(a).into_owned()),
        );
        w.write_record(&row)?;
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Whether the member has a calendar feed.
pub async fn has_feed(db: &Db, scope: &TenantScope, user_id: &str) -> DbResult<bool> {
    Ok(sqlx::query(
        "SELECT user_id FROM mission_calendar_feeds WHERE tenant_id = $1 AND user_id = $2",
    )
    .bind(scope.tenant_id().as_str())
    .bind(user_id)
    .fetch_optional(db.tenant(scope).reader())
    .await?
    .is_some())
}

/// Creates or replaces the member's calendar feed token; the old link stops working. The
/// token is shown once (only its hash is kept).
pub async fn reset_feed(db: &Db, actor: &Actor, ip: &str) -> AppResult<String> {
    use rand::RngCore;
    let mut raw = [0u8; 24];
    rand::thread_rng().fill_bytes(&mut raw);
    let token = hex::encode(raw);
    let mut tx = db.tenant(actor.scope()).begin().await?;
    let tenant = tx.tenant_id().to_string();
    sqlx::query("DELETE FROM mission_calendar_feeds WHERE tenant_id = $1 AND user_id = $2")
        .bind(&tenant)
        .bind(actor.user_id().as_str())
        .execute(tx.conn())
        .await
        .map_err(DbError::from)?;
    sqlx::query(
        "INSERT INTO mission_calendar_feeds (tenant_id, user_id, token_hash, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(&tenant)
    .bind(actor.user_id().as_str())
    .bind(hash_token(&token))
    .bind(now_ms())
    .execute(tx.conn())
    .await
    .map_err(DbError::from)?;
    audit::append(
        &mut tx,
        Entry {
            ip: Some(ip),
            ..Entry::new("mission.calendar_feed_reset")
                .by(actor)
                .target("user", actor.user_id().as_str())
        },
    )
    .await?;
    tx.commit().await?;
    Ok(token)
}

/// The member a feed token belongs to, within the tenant the request came to.
pub async fn feed_owner(db: &Db, scope: &TenantScope, token: &str) -> DbResult<Option<String>> {
    let row = sqlx::query(
        "SELECT user_id FROM mission_calendar_feeds WHERE tenant_id = $1 AND token_hash = $2",
    )
    .bind(scope.tenant_id().as_str())
    .bind(hash_token(token))
    .fetch_optional(db.tenant(scope).reader())
    .await?;
    row.map(|r| r.try_get::<String, _>("user_id"))
        .transpose()
        .map_err(DbError::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_party_fits_only_without_a_queue_ahead() {
        assert!(fits(0, 500, 3, 4), "no limit");
        assert!(fits(10, 8, 0, 2));
        assert!(!fits(10, 9, 0, 2));
        assert!(!fits(10, 5, 1, 1), "someone waits already");
    }

    #[test]
    fn required_questions_need_answers() {
        let q = vec![
            Question {
                label: "Dietary needs".into(),
                required: false,
            },
            Question {
                label: "T-shirt size".into(),
                required: true,
            },
        ];
        assert!(check_answers(&q, &["".into()]).is_err());
        assert_eq!(
            check_answers(&q, &["".into(), " M ".into()]).ok(),
            Some(vec!["".to_string(), "M".to_string()])
        );
    }
}
