//! The prayer wall: requests shared with members or private to pastoral staff, optionally
//! anonymous; "I prayed" once per member; answered with a praise report; reports and an
//! approval queue for staff.
//!
//! Who wrote an anonymous request is decided in SQL: the author column is selected only for the
//! author and for staff, so no page, API answer or export can show it to other members.

pub mod routes;

use serde::Serialize;
use serde_json::json;

use crate::audit::{self, Entry};
use crate::auth::Actor;
use crate::db::{AnyRow, Db, DbResult, Row, flag, new_id, now_ms};
use crate::error::{AppError, AppResult};
use crate::tenancy::TenantScope;

/// Page size of the wall.
pub const PAGE_SIZE: i64 = 20;

/// One prayer request as the viewer may see it.
#[derive(Clone, Debug, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Prayer {
    /// Id.
    pub id: String,
    /// The request.
    pub body: String,
    /// `members` (shared) or `staff` (private to pastoral staff).
    pub visibility: String,
    /// Posted anonymously (other members do not see the author).
    pub anonymous: bool,
    /// `pending` (awaiting approval), `published` or `hidden`.
    pub status: String,
    /// The author's name; `None` when anonymous and the viewer is another member.
    pub author: Option<String>,
    /// The viewer wrote it.
    pub mine: bool,
    /// When it was answered (Unix ms).
    pub answered_at: Option<i64>,
    /// The praise report.
    pub praise: String,
    /// How many members prayed.
    pub prayed_count: i64,
    /// The viewer prayed.
    pub i_prayed: bool,
    /// Reports against it (staff only; 0 for members).
    pub reports: i64,
    /// Posted (Unix ms).
    pub created_at: i64,
}

fn from_row(r: &AnyRow) -> Result<Prayer, sqlx::Error> {
    Ok(Prayer {
        id: r.try_get("id")?,
        body: r.try_get("body")?,
        visibility: r.try_get("visibility")?,
        anonymous: flag(r, "anonymous")?,
        status: r.try_get("status")?,
        author: r.try_get("author")?,
        mine: flag(r, "mine")?,
        answered_at: r.try_get("answered_at")?,
        praise: r.try_get("praise")?,
        prayed_count: r.try_get("prayed_count")?,
        i_prayed: flag(r, "i_prayed")?,
        reports: r.try_get("reports")?,
        created_at: r.try_get("created_at")?,
    })
}

/// What the viewer is: a member sees shared, published requests and their own; staff see all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Viewer {
    /// A member of the congregation.
    Member,
    /// Pastoral staff (moderation).
    Staff,
}

/// Which requests to list.
#[derive(Clone, Debug, Default)]
pub struct WallFilter {
    /// Staff queue: only `pending`, `reported`, `private` or all (empty).
    pub queue: String,
    /// One request only.
    pub id: Option<String>,
    /// Continue after this cursor (`created_at|id`).
    pub cursor: Option<String>,
    /// Page size.
    pub limit: i64,
}

/// Requests visible to `viewer_id`, newest first, and the next cursor.
pub async fn wall(
    db: &Db,
    scope: &TenantScope,
    viewer_id: &str,
    viewer: Viewer,
    f: &WallFilter,
) -> DbResult<(Vec<Prayer>, Option<String>)> {
    let staff = i64::from(viewer == Viewer::Staff);
    let (c_at, c_id) = f
        .cursor
        .as_deref()
        .and_then(|c| c.split_once('|'))
        .and_then(|(a, i)| a.parse::<i64>().ok().map(|a| (a, i.to_string())))
        .unwrap_or((i64::MAX, String::new()));
    let limit = f.limit.clamp(1, 100);
    let rows = sqlx::query(
        "SELECT p.id, p.body, p.visibility, p.anonymous, p.status, p.answered_at, p.praise, p.created_at, \
         CASE WHEN $3 = 1 OR p.author_id = $2 OR p.anonymous = 0 THEN u.name END AS author, \
         CASE WHEN p.author_id = $2 THEN 1 ELSE 0 END AS mine, \
         (SELECT CAST(COUNT(*) AS BIGINT) FROM mission_prayed x WHERE x.tenant_id = p.tenant_id AND x.prayer_id = p.id) AS prayed_count, \
         (SELECT CAST(COUNT(*) AS BIGINT) FROM mission_prayed x WHERE x.tenant_id = p.tenant_id AND x.prayer_id = p.id AND x.user_id = $2) AS i_prayed, \
         CASE WHEN $3 = 1 THEN (SELECT CAST(COUNT(*) AS BIGINT) FROM mission_prayer_reports r WHERE r.tenant_id = p.tenant_id AND r.prayer_id = p.id) ELSE 0 END AS reports \
         FROM mission_prayers p JOIN users u ON u.tenant_id = p.tenant_id AND u.id = p.author_id \
         WHERE p.tenant_id = $1 \
         AND ($3 = 1 OR p.author_id = $2 OR (p.visibility = 'members' AND p.status = 'published')) \
         AND ($4 = '' OR p.id = $4) \
         AND ($5 = '' OR ($5 = 'pending' AND p.status = 'pending') OR ($5 = 'private' AND p.visibility = 'staff') \
              OR ($5 = 'reported' AND EXISTS (SELECT 1 FROM mission_prayer_reports r WHERE r.tenant_id = p.tenant_id AND r.prayer_id = p.id))) \
         AND (p.created_at < $6 OR (p.created_at = $6 AND ($7 = '' OR p.id < $7))) \
         ORDER BY p.created_at DESC, p.id DESC LIMIT $8",
    )
    .bind(scope.tenant_id().as_str())
    .bind(viewer_id)
    .bind(staff)
    .bind(f.id.as_deref().unwrap_or(""))
    .bind(&f.queue)
    .bind(c_at)
    .bind(&c_id)
    .bind(limit)
    .fetch_all(db.tenant(scope).reader())
    .await?;
    let items: Vec<Prayer> = rows.iter().map(from_row).collect::<Result<_, _>>()?;
    let next = (items.len() as i64 == limit)
        .then(|| items.last().map(|p| format!("{}|{}", p.created_at, p.id)))
        .flatten();
    Ok((items, next))
}

/// One request if the viewer may see it.
pub async fn visible(
    db: &Db,
    scope: &TenantScope,
    viewer_id: &str,
    viewer: Viewer,
    id: &str,
) -> AppResult<Prayer> {
    let f = WallFilter {
        id: Some(id.to_string()),
        limit: 1,
        ..WallFilter::default()
    };
    wall(db, scope, viewer_id, viewer, &f)
        .await?
        .0
        .into_iter()
        .next()
        .ok_or(AppError::NotFound)
}

/// A request to post.
#[derive(Clone, Debug, Default, serde::Deserialize, schemars::JsonSchema)]
pub struct NewPrayer {
    /// The request.
    #[serde(default)]
    pub body: String,
    /// `members` (default) or `staff`.
    #[serde(default)]
    pub visibility: String,
    /// Hide the author from other members.
    #[serde(default)]
    pub anonymous: bool,
}

/// Checks a request to post: its text, and `members` or `staff`.
pub fn check_new(n: &NewPrayer) -> AppResult<(String, &'static str)> {
    let body = super::body("body", &n.body, "mission-error-prayer-body")
        .map_err(|e| AppError::fields(vec![e]))?;
    let visibility = match n.visibility.trim() {
        "" | "members" => "members",
        "staff" => "staff",
        _ => return Err(AppError::field("visibility", "mission-error-visibility")),
    };
    Ok((body, visibility))
}

/// Posts a request; it waits for approval when the tenant asks for that (private requests go
/// straight to staff).
pub async fn post(db: &Db, actor: &Actor, ip: &str, n: &NewPrayer) -> AppResult<String> {
    let (body, visibility) = check_new(n)?;
    let settings = super::settings::load(db, actor.scope()).await?;
    let status = if visibility == "members" && settings.prayer_approval {
        "pending"
    } else {
        "published"
    };
    let id = new_id();
    let mut tx = db.tenant(actor.scope()).begin().await?;
    sqlx::query(
        "INSERT INTO mission_prayers (id, tenant_id, author_id, body, visibility, anonymous, status, praise, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, '', $8)",
    )
    .bind(&id)
    .bind(tx.tenant_id().to_string())
    .bind(actor.user_id().as_str())
    .bind(&body)
    .bind(visibility)
    .bind(i64::from(n.anonymous))
    .bind(status)
    .bind(now_ms())
    .execute(tx.conn())
    .await
    .map_err(crate::db::DbError::from)?;
    audit::append(
        &mut tx,
        Entry {
            ip: Some(ip),
            detail: json!({ "visibility": visibility, "anonymous": n.anonymous, "status": status }),
            ..Entry::new("mission.prayer_posted")
                .by(actor)
                .target("prayer", &id)
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Counts the viewer's prayer once, however often or concurrently they press the button;
/// returns the new count. Answered requests still accept prayers of thanks.
pub async fn pray(db: &Db, actor: &Actor, id: &str) -> AppResult<i64> {
    let p = visible(
        db,
        actor.scope(),
        actor.user_id().as_str(),
        Viewer::Member,
        id,
    )
    .await?;
    if p.status != "published" {
        return Err(AppError::Unprocessable(
            "mission-error-not-published".into(),
        ));
    }
    let t = db.tenant(actor.scope());
    // The primary key (tenant, prayer, user) makes the second insert a no-op on both backends,
    // so two simultaneous clicks still count once.
    sqlx::query(
        "INSERT INTO mission_prayed (tenant_id, prayer_id, user_id, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (tenant_id, prayer_id, user_id) DO NOTHING",
    )
    .bind(actor.scope().tenant_id().as_str())
    .bind(&p.id)
    .bind(actor.user_id().as_str())
    .bind(now_ms())
    .execute(t.writer())
    .await
    .map_err(crate::db::DbError::from)?;
    let n: i64 = sqlx::query(
        "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM mission_prayed WHERE tenant_id = $1 AND prayer_id = $2",
    )
    .bind(actor.scope().tenant_id().as_str())
    .bind(&p.id)
    .fetch_one(t.writer())
    .await
    .map_err(crate::db::DbError::from)?
    .try_get("n")
    .map_err(crate::db::DbError::from)?;
    Ok(n)
}

/// The author marks their request answered, with a short praise report.
pub async fn answer(db: &Db, actor: &Actor, ip: &str, id: &str, praise: &str) -> AppResult<()> {
    let p = visible(
        db,
        actor.scope(),
        actor.user_id().as_str(),
        Viewer::Member,
        id,
    )
    .await?;
    if !p.mine {
        return Err(AppError::Forbidden("mission-error-not-yours".into()));
    }
    let praise = if praise.trim().is_empty() {
        String::new()
    } else {
        super::body("praise", praise, "mission-error-prayer-body")
            .map_err(|e| AppError::fields(vec![e]))?
    };
    let mut tx = db.tenant(actor.scope()).begin().await?;
    sqlx::query(
        "UPDATE mission_prayers SET answered_at = $3, praise = $4 WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tx.tenant_id().to_string())
    .bind(&p.id)
    .bind(now_ms())
    .bind(&praise)
    .execute(tx.conn())
    .await
    .map_err(crate::db::DbError::from)?;
    audit::append(
        &mut tx,
        Entry {
            ip: Some(ip),
            ..Entry::new("mission.prayer_answered")
                .by(actor)
                .target("prayer", &p.id)
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A member reports a request to staff (once per member).
pub async fn report(db: &Db, actor: &Actor, ip: &str, id: &str) -> AppResult<()> {
    let p = visible(
        db,
        actor.scope(),
        actor.user_id().as_str(),
        Viewer::Member,
        id,
    )
    .await?;
    let mut tx = db.tenant(actor.scope()).begin().await?;
    sqlx::query(
        "INSERT INTO mission_prayer_reports (tenant_id, prayer_id, user_id, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (tenant_id, prayer_id, user_id) DO NOTHING",
    )
    .bind(tx.tenant_id().to_string())
    .bind(&p.id)
    .bind(actor.user_id().as_str())
    .bind(now_ms())
    .execute(tx.conn())
    .await
    .map_err(crate::db::DbError::from)?;
    audit::append(
        &mut tx,
        Entry {
            ip: Some(ip),
            ..Entry::new("mission.prayer_reported")
                .by(actor)
                .target("prayer", &p.id)
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Staff moderation: `approve`, `hide` or `delete`.
pub async fn moderate(db: &Db, actor: &Actor, ip: &str, id: &str, action: &str) -> AppResult<()> {
    let p = visible(
        db,
        actor.scope(),
        actor.user_id().as_str(),
        Viewer::Staff,
        id,
    )
    .await?;
    let mut tx = db.tenant(actor.scope()).begin().await?;
    let tenant = tx.tenant_id().to_string();
    let audit_action = match action {
        "approve" | "hide" => {
            sqlx::query("UPDATE mission_prayers SET status = $3 WHERE tenant_id = $1 AND id = $2")
                .bind(&tenant)
                .bind(&p.id)
                .bind(if action == "approve" {
                    "published"
                } else {
                    "hidden"
                })
                .execute(tx.conn())
                .await
                .map_err(crate::db::DbError::from)?;
            if action == "approve" {
                // Approval answers the reports.
                sqlx::query(
                    "DELETE FROM mission_prayer_reports WHERE tenant_id = $1 AND prayer_id = $2",
                )
                .bind(&tenant)
                .bind(&p.id)
                .execute(tx.conn())
                .await
                .map_err(crate::db::DbError::from)?;
                "mission.prayer_approved"
            } else {
                "mission.prayer_hidden"
            }
        }
        "delete" => {
            for sql in [
                "DELETE FROM mission_prayed WHERE tenant_id = $1 AND prayer_id = $2",
                "DELETE FROM mission_prayer_reports WHERE tenant_id = $1 AND prayer_id = $2",
                "DELETE FROM mission_prayers WHERE tenant_id = $1 AND id = $2",
            ] {
                sqlx::query(sql)
                    .bind(&tenant)
                    .bind(&p.id)
                    .execute(tx.conn())
                    .await
                    .map_err(crate::db::DbError::from)?;
            }
            "mission.prayer_deleted"
        }
        _ => return Err(AppError::field("action", "mission-error-moderation")),
    };
    audit::append(
        &mut tx,
        Entry {
            ip: Some(ip),
            detail: json!({ "from": p.status }),
            ..Entry::new(audit_action).by(actor).target("prayer", &p.id)
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
