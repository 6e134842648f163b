//! Small groups: categories, open and closed groups, leaders, join requests and messages from
//! leaders.
//!
//! Groups live in Portico's own tables for every Mission tenant (they are not behind the
//! built-in/remote [`crate::mission::source::MissionSource`] switch). A group's member list and
//! messages are shown only to its active members (and staff); join requests are decided only by
//! the group's leaders (and staff). Every change is one transaction with its audit row.

pub mod demo;
pub mod routes;

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::audit::{self, Entry};
use crate::auth::Actor;
use crate::db::{AnyRow, Db, DbError, DbResult, Row, TenantTx, flag, new_id, now_ms};
use crate::error::{AppError, AppResult, FieldError};
use crate::tenancy::TenantScope;

/// Meeting days a group may name (`""` when it has none).
pub const DAYS: &[&str] = &[
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// A group category.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Category {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Groups in it.
    pub groups: i64,
}

/// A group as the viewer sees it.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Group {
    /// Id.
    pub id: String,
    /// Category id.
    pub category_id: Option<String>,
    /// Category name.
    pub category: Option<String>,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Meeting day (`monday`…`sunday`, or empty).
    pub meeting_day: String,
    /// Meeting time as typed by staff (`19:00`).
    pub meeting_time: String,
    /// Where it meets.
    pub location: String,
    /// Open groups take members at once; closed ones wait for a leader.
    pub open: bool,
    /// Active members.
    pub members: i64,
    /// Requests waiting for a leader.
    pub pending: i64,
    /// The viewer's membership: `active` or `pending`.
    pub my_status: Option<String>,
    /// The viewer's role: `member` or `leader`.
    pub my_role: Option<String>,
}

impl Group {
    /// The viewer is an active member (sees the member list and messages).
    pub fn is_member(&self) -> bool {
        self.my_status.as_deref() == Some("active")
    }

    /// The catalog key of the meeting day's name.
    pub fn day_key(&self) -> String {
        format!("groups-day-{}", self.meeting_day)
    }

    /// The viewer leads the group (decides requests, posts messages).
    pub fn is_leader(&self) -> bool {
        self.is_member() && self.my_role.as_deref() == Some("leader")
    }
}

const GROUP_COLS: &str = "g.id, g.category_id, c.name AS category, g.name, g.description, g.meeting_day, g.meeting_time, g.location, g.open, \
     (SELECT CAST(COUNT(*) AS BIGINT) FROM mission_group_members m WHERE m.tenant_id = g.tenant_id AND m.group_id = g.id AND m.status = 'active') AS members, \
     (SELECT CAST(COUNT(*) AS BIGINT) FROM mission_group_members m WHERE m.tenant_id = g.tenant_id AND m.group_id = g.id AND m.status = 'pending') AS pending, \
     (SELECT m.status FROM mission_group_members m WHERE m.tenant_id = g.tenant_id AND m.group_id = g.id AND m.user_id = $2) AS my_status, \
     (SELECT m.role FROM mission_group_members m WHERE m.tenant_id = g.tenant_id AND m.group_id = g.id AND m.user_id = $2) AS my_role \
     FROM mission_groups g LEFT JOIN mission_group_categories c ON c.tenant_id = g.tenant_id AND c.id = g.category_id";

fn group_row(r: &AnyRow) -> Result<Group, sqlx::Error> {
    Ok(Group {
        id: r.try_get("id")?,
        category_id: r.try_get("category_id")?,
        category: r.try_get("category")?,
        name: r.try_get("name")?,
        description: r.try_get("description")?,
        meeting_day: r.try_get("meeting_day")?,
        meeting_time: r.try_get("meeting_time")?,
        location: r.try_get("location")?,
        open: flag(r, "open")?,
        members: r.try_get("members")?,
        pending: r.try_get("pending")?,
        my_status: r.try_get("my_status")?,
        my_role: r.try_get("my_role")?,
    })
}

/// Which groups to list.
#[derive(Clone, Debug, Default, Deserialize, schemars::JsonSchema)]
pub struct GroupFilter {
    /// Only this category (id).
    #[serde(default)]
    pub category: Option<String>,
    /// Only groups meeting on this day (`monday`…`sunday`).
    #[serde(default)]
    pub day: Option<String>,
    /// Only groups whose location contains this text.
    #[serde(default)]
    pub location: Option<String>,
    /// Only groups I belong to or asked to join.
    #[serde(default)]
    pub mine: Option<bool>,
}

/// Groups in name order as `viewer_id` sees them.
pub async fn list(
    db: &Db,
    scope: &TenantScope,
    viewer_id: &str,
    f: &GroupFilter,
) -> DbResult<Vec<Group>> {
    let nonempty = |o: &Option<String>| {
        o.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let category = nonempty(&f.category).unwrap_or_default();
    let day = nonempty(&f.day).unwrap_or_default().to_lowercase();
    let location = nonempty(&f.location)
        .map(|l| {
            format!(
                "%{}%",
                l.to_lowercase()
                    .replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_")
            )
        })
        .unwrap_or_default();
    let rows = sqlx::query(&format!(
        "SELECT {GROUP_COLS} WHERE g.tenant_id = $1 \
         AND ($3 = '' OR g.category_id = $3) AND ($4 = '' OR g.meeting_day = $4) \
         AND ($5 = '' OR LOWER(g.location) LIKE $5 ESCAPE '\\') \
         AND ($6 = 0 OR EXISTS (SELECT 1 FROM mission_group_members m WHERE m.tenant_id = g.tenant_id AND m.group_id = g.id AND m.user_id = $2)) \
         ORDER BY g.name, g.id LIMIT 500"
    ))
    .bind(scope.tenant_id().as_str())
    .bind(viewer_id)
    .bind(&category)
    .bind(&day)
    .bind(&location)
    .bind(i64::from(f.mine.unwrap_or(false)))
    .fetch_all(db.tenant(scope).reader())
    .await?;
    Ok(rows.iter().map(group_row).collect::<Result<_, _>>()?)
}

/// One group as `viewer_id` sees it.
pub async fn get(db: &Db, scope: &TenantScope, viewer_id: &str, id: &str) -> AppResult<Group> {
    let row = sqlx::query(&format!(
        "SELECT {GROUP_COLS} WHERE g.tenant_id = $1 AND g.id = $3"
    ))
    .bind(scope.tenant_id().as_str())
    .bind(viewer_id)
    .bind(id)
    .fetch_optional(db.tenant(scope).reader())
    .await
    .map_err(DbError::from)?
    .ok_or(AppError::NotFound)?;
    Ok(group_row(&row).map_err(DbError::from)?)
}

async fn get_in(tx: &mut TenantTx, viewer_id: &str, id: &str) -> AppResult<Group> {
    let tenant = tx.tenant_id().to_string();
    let row = sqlx::query(&format!(
        "SELECT {GROUP_COLS} WHERE g.tenant_id = $1 AND g.id = $3"
    ))
    .bind(&tenant)
    .bind(viewer_id)
    .bind(id)
    .fetch_optional(tx.conn())
    .await
    .map_err(DbError::from)?
    .ok_or(AppError::NotFound)?;
    Ok(group_row(&row).map_err(DbError::from)?)
}

/// Categories in name order with their group counts.
pub async fn categories(db: &Db, scope: &TenantScope) -> DbResult<Vec<Category>> {
    let rows = sqlx::query(
        "SELECT c.id, c.name, (SELECT CAST(COUNT(*) AS BIGINT) FROM mission_groups g WHERE g.tenant_id = c.tenant_id AND g.category_id = c.id) AS groups \
         FROM mission_group_categories c WHERE c.tenant_id = $1 ORDER BY c.name, c.id",
    )
    .bind(scope.tenant_id().as_str())
    .fetch_all(db.tenant(scope).reader())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Category {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                groups: r.try_get("groups")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(DbError::from)
}

/// Someone in a group (or asking to join).
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct GroupMember {
    /// User id.
    pub user_id: String,
    /// Name.
    pub name: String,
    /// `member` or `leader`.
    pub role: String,
    /// `active` or `pending`.
    pub status: String,
    /// Joined or asked (Unix ms).
    pub since: i64,
}

/// The group's people with `status` (`active` or `pending`), leaders first.
pub async fn people(
    db: &Db,
    scope: &TenantScope,
    group_id: &str,
    status: &str,
) -> DbResult<Vec<GroupMember>> {
    let rows = sqlx::query(
        "SELECT m.user_id, u.name, m.role, m.status, m.created_at FROM mission_group_members m \
         JOIN users u ON u.tenant_id = m.tenant_id AND u.id = m.user_id \
         WHERE m.tenant_id = $1 AND m.group_id = $2 AND m.status = $3 \
         ORDER BY CASE WHEN m.role = 'leader' THEN 0 ELSE 1 END, u.name, u.id",
    )
    .bind(scope.tenant_id().as_str())
    .bind(group_id)
    .bind(status)
    .fetch_all(db.tenant(scope).reader())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(GroupMember {
                user_id: r.try_get("user_id")?,
                name: r.try_get("name")?,
                role: r.try_get("role")?,
                status: r.try_get("status")?,
                since: r.try_get("created_at")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(DbError::from)
}

/// A message from a leader to the group.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct GroupMessage {
    /// Id.
    pub id: String,
    /// The group.
    pub group_id: String,
    /// The group's name.
    pub group_name: String,
    /// Who wrote it.
    pub author: String,
    /// Text.
    pub body: String,
    /// Posted (Unix ms).
    pub created_at: i64,
}

fn message_row(r: &AnyRow) -> Result<GroupMessage, sqlx::Error> {
    Ok(GroupMessage {
        id: r.try_get("id")?,
        group_id: r.try_get("group_id")?,
        group_name: r.try_get("group_name")?,
        author: r.try_get("author")?,
        body: r.try_get("body")?,
        created_at: r.try_get("created_at")?,
    })
}

const MESSAGE_SELECT: &str = "SELECT x.id, x.group_id, g.name AS group_name, u.name AS author, x.body, x.created_at \
     FROM mission_group_messages x JOIN mission_groups g ON g.tenant_id = x.tenant_id AND g.id = x.group_id \
     JOIN users u ON u.tenant_id = x.tenant_id AND u.id = x.author_id";

/// A group's messages, newest first.
pub async fn messages(
    db: &Db,
    scope: &TenantScope,
    group_id: &str,
    limit: i64,
) -> DbResult<Vec<GroupMessage>> {
    let rows = sqlx::query(&format!(
        "{MESSAGE_SELECT} WHERE x.tenant_id = $1 AND x.group_id = $2 ORDER BY x.created_at DESC, x.id DESC LIMIT $3"
    ))
    .bind(scope.tenant_id().as_str())
    .bind(group_id)
    .bind(limit.clamp(1, 500))
    .fetch_all(db.tenant(scope).reader())
    .await?;
    Ok(rows.iter().map(message_row).collect::<Result<_, _>>()?)
}

/// The newest messages of every group `user_id` actively belongs to (the dashboard).
pub async fn my_newest_messages(
    db: &Db,
    scope: &TenantScope,
    user_id: &str,
    limit: i64,
) -> DbResult<Vec<GroupMessage>> {
    let rows = sqlx::query(&format!(
        "{MESSAGE_SELECT} WHERE x.tenant_id = $1 AND EXISTS (SELECT 1 FROM mission_group_members m \
         WHERE m.tenant_id = x.tenant_id AND m.group_id = x.group_id AND m.user_id = $2 AND m.status = 'active') \
         ORDER BY x.created_at DESC, x.id DESC LIMIT $3"
    ))
    .bind(scope.tenant_id().as_str())
    .bind(user_id)
    .bind(limit.clamp(1, 50))
    .fetch_all(db.tenant(scope).reader())
    .await?;
    Ok(rows.iter().map(message_row).collect::<Result<_, _>>()?)
}

/// What a group shows to `viewer`: members and messages for members only, requests for
/// leaders only.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct GroupView {
    /// The group.
    pub group: Group,
    /// Active members (empty unless the viewer is one).
    pub members: Vec<GroupMember>,
    /// Messages from leaders, newest first (empty unless the viewer is a member).
    pub messages: Vec<GroupMessage>,
    /// Requests to join (empty unless the viewer leads the group).
    pub requests: Vec<GroupMember>,
}

/// The group as a member sees it (see [`GroupView`]).
pub async fn view(db: &Db, scope: &TenantScope, viewer_id: &str, id: &str) -> AppResult<GroupView> {
    let group = get(db, scope, viewer_id, id).await?;
    let (members, msgs) = if group.is_member() {
        (
            people(db, scope, &group.id, "active").await?,
            messages(db, scope, &group.id, 50).await?,
        )
    } else {
        (Vec::new(), Vec::new())
    };
    let requests = if group.is_leader() {
        people(db, scope, &group.id, "pending").await?
    } else {
        Vec::new()
    };
    Ok(GroupView {
        group,
        members,
        messages: msgs,
        requests,
    })
}

/// Asks to join: an open group takes the member at once (`active`), a closed one records a
/// request (`pending`). Returns the new status.
pub async fn join(db: &Db, actor: &Actor, ip: &str, group_id: &str) -> AppResult<String> {
    let me = actor.user_id().as_str();
    let mut tx = db.tenant(actor.scope()).begin().await?;
    let g = get_in(&mut tx, me, group_id).await?;
    if g.my_status.is_some() {
        return Err(AppError::Conflict("groups-error-already".into()));
    }
    let status = if g.open { "active" } else { "pending" };
    let tenant = tx.tenant_id().to_string();
    sqlx::query(
        "INSERT INTO mission_group_members (tenant_id, group_id, user_id, role, status, created_at) VALUES ($1, $2, $3, 'member', $4, $5)",
    )
    .bind(&tenant)
    .bind(&g.id)
    .bind(me)
    .bind(status)
    .bind(now_ms())
    .execute(tx.conn())
    .await
    .map_err(|err| match DbError::from(err) {
        DbError::Conflict(_) => {
            AppError::Conflict("groups-error-already".into())
        }
        other => AppError::from(other),
    })?;
    audit::append(
        &mut tx,
        Entry {
            ip: Some(ip),
            detail: json!({ "status": status }),
            ..Entry::new(if g.open {
                "mission.group_joined"
            } else {
                "mission.group_join_requested"
            })
            .by(actor)
            .target("group", &g.id)
        },
    )
    .await?;
    tx.commit().await?;
    Ok(status.to_string())
}

/// Leaves a group (or withdraws a request). The last leader cannot leave while others remain.
pub async fn leave(db: &Db, actor: &Actor, ip: &str, group_id: &str) -> AppResult<()> {
    let me = actor.user_id().as_str();
    let mut tx = db.tenant(actor.scope()).begin().await?;
    let g = get_in(&mut tx, me, group_id).await?;
    if g.my_status.is_none() {
        return Err(AppError::NotFound);
    }
    let tenant = tx.tenant_id().to_string();
    if g.is_leader() {
        let leaders: i64 = sqlx::query(
            "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM mission_group_members WHERE tenant_id = $1 AND group_id = $2 AND role = 'leader' AND status = 'active'",
        )
        .bind(&tenant)
        .bind(&g.id)
        .fetch_one(tx.conn())
        .await
        .and_then(|r| r.try_get("n"))
        .map_err(DbError::from)?;
        if leaders <= 1 && g.members > 1 {
            return Err(AppError::Conflict("groups-error-last-leader".into()));
        }
    }
    sqlx::query(
        "DELETE FROM mission_group_members WHERE tenant_id = $1 AND group_id = $2 AND user_id = $3",
    )
    .bind(&tenant)
    .bind(&g.id)
    .bind(me)
    .execute(tx.conn())
    .await
    .map_err(DbError::from)?;
    audit::append(
        &mut tx,
        Entry {
            ip: Some(ip),
            detail: json!({ "was": g.my_status }),
            ..Entry::new("mission.group_left")
                .by(actor)
                .target("group", &g.id)
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A leader (or staff, `staff` true) approves or declines a request to join.
pub async fn decide(
    db: &Db,
    actor: &Actor,
    ip: &str,
    group_id: &str,
    user_id: &str,
    approve: bool,
    staff: bool,
) -> AppResult<()> {
    let me = actor.user_id().as_str();
    let mut tx = db.tenant(actor.scope()).begin().await?;
    let g = get_in(&mut tx, me, group_id).await?;
    if !staff && !g.is_leader() {
        // Members learn nothing about requests; non-members do not even see that it exists.
        return Err(if g.is_member() {
            AppError::Forbidden("groups-error-not-leader".into())
        } else {
            AppError::NotFound
        });
    }
    let tenant = tx.tenant_id().to_string();
    let done = if approve {
        sqlx::query(
            "UPDATE mission_group_members SET status = 'active' WHERE tenant_id = $1 AND group_id = $2 AND user_id = $3 AND status = 'pending'",
        )
    } else {
        sqlx::query(
            "DELETE FROM mission_group_members WHERE tenant_id = $1 AND group_id = $2 AND user_id = $3 AND status = 'pending'",
        )
    }
    .bind(&tenant)
    .bind(&g.id)
    .bind(user_id)
    .execute(tx.conn())
    .await
    .map_err(DbError::from)?;
    if done.rows_affected() == 0 {
        return Err(AppError::NotFound);
    }
    audit::append(
        &mut tx,
        Entry {
            ip: Some(ip),
            detail: json!({ "group": g.id, "member": user_id }),
            ..Entry::new(if approve {
                "mission.group_request_approved"
            } else {
                "mission.group_request_declined"
            })
            .by(actor)
            .target("group", &g.id)
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A leader posts a message to the group.
pub async fn post_message(
    db: &Db,
    actor: &Actor,
    ip: &str,
    group_id: &str,
    body: &str,
) -> AppResult<GroupMessage> {
    let me = actor.user_id().as_str();
    let body = super::body("body", body, "groups-error-message-empty")
        .map_err(|e| AppError::fields(vec![e]))?;
    let mut tx = db.tenant(actor.scope()).begin().await?;
    let g = get_in(&mut tx, me, group_id).await?;
    if !g.is_leader() {
        return Err(if g.is_member() {
            AppError::Forbidden("groups-error-not-leader".into())
        } else {
            AppError::NotFound
        });
    }
    let id = new_id();
    let now = now_ms();
    let tenant = tx.tenant_id().to_string();
    sqlx::query(
        "INSERT INTO mission_group_messages (id, tenant_id, group_id, author_id, body, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&id)
    .bind(&tenant)
    .bind(&g.id)
    .bind(me)
    .bind(&body)
    .bind(now)
    .execute(tx.conn())
    .await
    .map_err(DbError::from)?;
    audit::append(
        &mut tx,
        Entry {
            ip: Some(ip),
            detail: json!({ "group": g.id }),
            ..Entry::new("mission.group_message_posted")
                .by(actor)
                .target("group_message", &id)
        },
    )
    .await?;
    tx.commit().await?;
    let author = sqlx::query("SELECT name FROM users WHERE tenant_id = $1 AND id = $2")
        .bind(actor.scope().tenant_id().as_str())
        .bind(me)
        .fetch_one(db.tenant(actor.scope()).reader())
        .await
        .and_then(|r| r.try_get("name"))
        .map_err(DbError::from)?;
    Ok(GroupMessage {
        id,
        group_id: g.id,
        group_name: g.name,
        author,
        body,
        created_at: now,
    })
}

// --- Staff ---

/// A group as staff create or change it.
#[derive(Clone, Debug, Default, Deserialize, schemars::JsonSchema)]
pub struct GroupInput {
    /// Name.
    pub name: String,
    /// Category id (none for uncategorised).
    #[serde(default)]
    pub category_id: Option<String>,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// Meeting day (`monday`…`sunday`, or empty).
    #[serde(default)]
    pub meeting_day: String,
    /// Meeting time (`19:00`).
    #[serde(default)]
    pub meeting_time: String,
    /// Where it meets.
    #[serde(default)]
    pub location: String,
    /// Open (join at once) or closed (a leader approves).
    #[serde(default)]
    pub open: bool,
}

fn field(f: &str, m: &str) -> FieldError {
    FieldError {
        field: f.into(),
        message: m.into(),
    }
}

/// Validates staff input; field errors name the form's fields.
pub fn check_input(i: &GroupInput) -> Result<GroupInput, AppError> {
    let mut errs = Vec::new();
    let mut one = |f: &str, v: &str, max: usize| {
        super::line(f, v, max).unwrap_or_else(|e| {
            errs.push(e);
            String::new()
        })
    };
    let name = one("name", &i.name, 120);
    let meeting_time = one("meeting_time", &i.meeting_time, 40);
    let location = one("location", &i.location, 200);
    if name.is_empty() && errs.is_empty() {
        errs.push(field("name", "groups-error-name"));
    }
    let day = i.meeting_day.trim().to_lowercase();
    if !day.is_empty() && !DAYS.contains(&day.as_str()) {
        errs.push(field("meeting_day", "groups-error-day"));
    }
    let description = if i.description.trim().is_empty() {
        String::new()
    } else {
        super::body("description", &i.description, "groups-error-name").unwrap_or_else(|e| {
            errs.push(e);
            String::new()
        })
    };
    if !errs.is_empty() {
        return Err(AppError::fields(errs));
    }
    Ok(GroupInput {
        name,
        category_id: i
            .category_id
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_string),
        description,
        meeting_day: day,
        meeting_time,
        location,
        open: i.open,
    })
}

async fn check_category(tx: &mut TenantTx, category: Option<&str>) -> AppResult<()> {
    let Some(c) = category else {
        return Ok(());
    };
    let tenant = tx.tenant_id().to_string();
    sqlx::query("SELECT id FROM mission_group_categories WHERE tenant_id = $1 AND id = $2")
        .bind(&tenant)
        .bind(c)
        .fetch_optional(tx.conn())
        .await
        .map_err(DbError::from)?
        .ok_or_else(|| AppError::field("category_id", "groups-error-category"))?;
    Ok(())
}

/// Inserts a group row (create and demo).
pub async fn insert_in(tx: &mut TenantTx, id: &str, i: &GroupInput) -> DbResult<()> {
    let tenant = tx.tenant_id().to_string();
    sqlx::query(
        "INSERT INTO mission_groups (id, tenant_id, category_id, name, description, meeting_day, meeting_time, location, open, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(id)
    .bind(&tenant)
    .bind(i.category_id.as_deref())
    .bind(&i.name)
    .bind(&i.description)
    .bind(&i.meeting_day)
    .bind(&i.meeting_time)
    .bind(&i.location)
    .bind(i64::from(i.open))
    .bind(now_ms())
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Creates a group (staff); returns its id.
pub async fn create(db: &Db, actor: &Actor, ip: &str, i: &GroupInput) -> AppResult<String> {
    let i = check_input(i)?;
    let id = new_id();
    let mut tx = db.tenant(actor.scope()).begin().await?;
    check_category(&mut tx, i.category_id.as_deref()).await?;
    insert_in(&mut tx, &id, &i).await?;
    audit::append(
        &mut tx,
        Entry {
            ip: Some(ip),
            detail: json!({ "name": i.name, "open": i.open }),
            ..Entry::new("mission.group_created")
                .by(actor)
                .target("group", &id)
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Changes a group (staff). Opening a closed group does not admit pending requests by itself.
pub async fn update(db: &Db, actor: &Actor, ip: &str, id: &str, i: &GroupInput) -> AppResult<()> {
    let i = check_input(i)?;
    let mut tx = db.tenant(actor.scope()).begin().await?;
    let before = get_in(&mut tx, "", id).await?;
    check_category(&mut tx, i.category_id.as_deref()).await?;
    let tenant = tx.tenant_id().to_string();
    sqlx::query(
        "UPDATE mission_groups SET category_id = $3, name = $4, description = $5, meeting_day = $6, meeting_time = $7, location = $8, open = $9 \
         WHERE tenant_id = $1 AND id = $2",
    )
    .bind(&tenant)
    .bind(&before.id)
    .bind(i.category_id.as_deref())
    .bind(&i.name)
    .bind(&i.description)
    .bind(&i.meeting_day)
    .bind(&i.meeting_time)
    .bind(&i.location)
    .bind(i64::from(i.open))
    .execute(tx.conn())
    .await
    .map_err(DbError::from)?;
    audit::append(
        &mut tx,
        Entry {
            ip: Some(ip),
            detail: json!({ "name": { "from": before.name, "to": i.name }, "open": { "from": before.open, "to": i.open } }),
            ..Entry::new("mission.group_changed")
                .by(actor)
                .target("group", &before.id)
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Deletes a group with its members and messages (staff).
pub async fn delete(db: &Db, actor: &Actor, ip: &str, id: &str) -> AppResult<()> {
    let mut tx = db.tenant(actor.scope()).begin().await?;
    let g = get_in(&mut tx, "", id).await?;
    let tenant = tx.tenant_id().to_string();
    for sql in [
        "DELETE FROM mission_group_messages WHERE tenant_id = $1 AND group_id = $2",
        "DELETE FROM mission_group_members WHERE tenant_id = $1 AND group_id = $2",
        "DELETE FROM mission_groups WHERE tenant_id = $1 AND id = $2",
    ] {
        sqlx::query(sql)
            .bind(&tenant)
            .bind(&g.id)
            .execute(tx.conn())
            .await
            .map_err(DbError::from)?;
    }
    audit::append(
        &mut tx,
        Entry {
            ip: Some(ip),
            detail: json!({ "name": g.name, "members": g.members }),
            ..Entry::new("mission.group_deleted")
                .by(actor)
                .target("group", &g.id)
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Makes a member of the tenant a leader of the group (adding them when needed), or a plain
/// member again (staff).
pub async fn set_leader(
    db: &Db,
    actor: &Actor,
    ip: &str,
    group_id: &str,
    user_id: &str,
    leader: bool,
) -> AppResult<()> {
    let mut tx = db.tenant(actor.scope()).begin().await?;
    let g = get_in(&mut tx, "", group_id).await?;
    let tenant = tx.tenant_id().to_string();
    sqlx::query(
        "SELECT id FROM users WHERE tenant_id = $1 AND id = $2 AND kind = 'member' AND status = 'active'",
    )
    .bind(&tenant)
    .bind(user_id)
    .fetch_optional(tx.conn())
    .await
    .map_err(DbError::from)?
    .ok_or_else(|| AppError::field("user_id", "groups-error-member"))?;
    let role = if leader { "leader" } else { "member" };
    let changed = sqlx::query(
        "UPDATE mission_group_members SET role = $4, status = 'active' WHERE tenant_id = $1 AND group_id = $2 AND user_id = $3",
    )
    .bind(&tenant)
    .bind(&g.id)
    .bind(user_id)
    .bind(role)
    .execute(tx.conn())
    .await
    .map_err(DbError::from)?;
    if changed.rows_affected() == 0 {
        if !leader {
            return Err(AppError::NotFound);
        }
        sqlx::query(
            "INSERT INTO mission_group_members (tenant_id, group_id, user_id, role, status, created_at) VALUES ($1, $2, $3, 'leader', 'active', $4)",
        )
        .bind(&tenant)
        .bind(&g.id)
        .bind(user_id)
        .bind(now_ms())
        .execute(tx.conn())
        .await
        .map_err(DbError::from)?;
    }
    audit::append(
        &mut tx,
        Entry {
            ip: Some(ip),
            detail: json!({ "group": g.id, "member": user_id, "role": role }),
            ..Entry::new(if leader {
                "mission.group_leader_added"
            } else {
                "mission.group_leader_removed"
            })
            .by(actor)
            .target("group", &g.id)
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The tenant's active members (for the staff leader picker).
pub async fn tenant_members(db: &Db, scope: &TenantScope) -> DbResult<Vec<(String, String)>> {
    let rows = sqlx::query(
        "SELECT id, name FROM users WHERE tenant_id = $1 AND kind = 'member' AND status = 'active' ORDER BY name, id LIMIT 2000",
    )
    .bind(scope.tenant_id().as_str())
    .fetch_all(db.tenant(scope).reader())
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("id")?, r.try_get("name")?)))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(DbError::from)
}

/// What staff send to create a category.
#[derive(Clone, Debug, Default, Deserialize, schemars::JsonSchema)]
pub struct CategoryInput {
    /// Name (unique in the tenant).
    pub name: String,
}

/// Creates a category (staff); returns its id.
pub async fn create_category(db: &Db, actor: &Actor, ip: &str, name: &str) -> AppResult<String> {
    let name = super::line("category", name, 80).map_err(|e| AppError::fields(vec![e]))?;
    if name.is_empty() {
        return Err(AppError::field("category", "groups-error-category-name"));
    }
    let id = new_id();
    let mut tx = db.tenant(actor.scope()).begin().await?;
    let tenant = tx.tenant_id().to_string();
    sqlx::query(
        "INSERT INTO mission_group_categories (id, tenant_id, name, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(&id)
    .bind(&tenant)
    .bind(&name)
    .bind(now_ms())
    .execute(tx.conn())
    .await
    .map_err(|err| match DbError::from(err) {
        DbError::Conflict(_) => {
            AppError::field("category", "groups-error-category-taken")
        }
        other => AppError::from(other),
    })?;
    audit::append(
        &mut tx,
        Entry {
            ip: Some(ip),
            detail: json!({ "name": name }),
            ..Entry::new("mission.group_category_created")
                .by(actor)
                .target("group_category", &id)
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Deletes a category (staff); its groups become uncategorised.
pub async fn delete_category(db: &Db, actor: &Actor, ip: &str, id: &str) -> AppResult<()> {
    let mut tx = db.tenant(actor.scope()).begin().await?;
    let tenant = tx.tenant_id().to_string();
    let name: String =
        sqlx::query("SELECT name FROM mission_group_categories WHERE tenant_id = $1 AND id = $2")
            .bind(&tenant)
            .bind(id)
            .fetch_optional(tx.conn())
            .await
            .map_err(DbError::from)?
            .ok_or(AppError::NotFound)?
            .try_get("name")
            .map_err(DbError::from)?;
    for sql in [
        "UPDATE mission_groups SET category_id = NULL WHERE tenant_id = $1 AND category_id = $2",
        "DELETE FROM mission_group_categories WHERE tenant_id = $1 AND id = $2",
    ] {
        sqlx::query(sql)
            .bind(&tenant)
            .bind(id)
            .execute(tx.conn())
            .await
            .map_err(DbError::from)?;
    }
    audit::append(
        &mut tx,
        Entry {
            ip: Some(ip),
            detail: json!({ "name": name }),
            ..Entry::new("mission.group_category_deleted")
                .by(actor)
                .target("group_category", id)
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_is_checked() {
        let bad = GroupInput {
            meeting_day: "someday".into(),
            ..GroupInput::default()
        };
        assert!(check_input(&bad).is_err());
        let ok = check_input(&GroupInput {
            name: " Men's Breakfast ".into(),
            meeting_day: "Saturday".into(),
            category_id: Some("  ".into()),
            ..GroupInput::default()
        });
        assert!(
            matches!(ok, Ok(ref g) if g.name == "Men's Breakfast" && g.meeting_day == "saturday" && g.category_id.is_none())
        );
    }
}
