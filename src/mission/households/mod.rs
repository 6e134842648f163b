//! Households: staff group members into households (a member is in at most one); each member
//! chooses whether their gifts appear on the household's shared giving statement.

pub mod routes;

use serde::Serialize;
use serde_json::json;

use crate::audit::{self, Entry};
use crate::auth::Actor;
use crate::db::{Db, DbError, DbResult, Row, TenantTx, flag, new_id, now_ms};
use crate::error::{AppError, AppResult};
use crate::mission::giving::Gift;
use crate::tenancy::TenantScope;

/// Households per admin page.
pub const PAGE_SIZE: i64 = 25;
/// Longest household name.
pub const NAME_MAX: usize = 80;

/// A household.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Household {
    /// Id.
    pub id: String,
    /// Name ("Garcia household").
    pub name: String,
    /// How many members are in it.
    pub members: i64,
}

/// A member of a household.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Resident {
    /// The member's user id.
    pub user_id: String,
    /// Name.
    pub name: String,
    /// Email.
    pub email: String,
    /// The member lets the household statement list their gifts.
    pub share_statements: bool,
}

/// A member's own household, as they see it.
#[derive(Clone, Debug, Default, Serialize, schemars::JsonSchema)]
pub struct MyHousehold {
    /// The household, when the member is in one.
    pub household: Option<Household>,
    /// Everyone in it (names and sharing choices; no emails).
    pub members: Vec<Resident>,
    /// The member's own choice to share their gifts on the household statement.
    pub share_statements: bool,
}

const HOUSEHOLD_SELECT: &str = "SELECT h.id, h.name, \
     (SELECT CAST(COUNT(*) AS BIGINT) FROM mission_members m WHERE m.tenant_id = h.tenant_id AND m.household_id = h.id) AS members \
     FROM mission_households h";

fn household_from(r: &crate::db::AnyRow) -> Result<Household, sqlx::Error> {
    Ok(Household {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        members: r.try_get("members")?,
    })
}

/// A page of households by name; `cursor` is the id of the last household of the previous page.
pub async fn list(
    db: &Db,
    scope: &TenantScope,
    cursor: Option<&str>,
    limit: i64,
) -> DbResult<(Vec<Household>, Option<String>)> {
    let limit = limit.clamp(1, 200);
    let rows = sqlx::query(&format!(
        "{HOUSEHOLD_SELECT} WHERE h.tenant_id = $1 AND ($2 = '' OR h.name > (SELECT c.name FROM mission_households c WHERE c.tenant_id = $1 AND c.id = $2) \
         OR (h.name = (SELECT c.name FROM mission_households c WHERE c.tenant_id = $1 AND c.id = $2) AND h.id > $2)) \
         ORDER BY h.name, h.id LIMIT $3"
    ))
    .bind(scope.tenant_id().as_str())
    .bind(cursor.unwrap_or(""))
    .bind(limit)
    .fetch_all(db.tenant(scope).reader())
    .await?;
    let items: Vec<Household> = rows.iter().map(household_from).collect::<Result<_, _>>()?;
    let next = (items.len() as i64 == limit)
        .then(|| items.last().map(|h| h.id.clone()))
        .flatten();
    Ok((items, next))
}

/// One household of the tenant (404 for any other id).
pub async fn get(db: &Db, scope: &TenantScope, id: &str) -> AppResult<Household> {
    let row = sqlx::query(&format!(
        "{HOUSEHOLD_SELECT} WHERE h.tenant_id = $1 AND h.id = $2"
    ))
    .bind(scope.tenant_id().as_str())
    .bind(id)
    .fetch_optional(db.tenant(scope).reader())
    .await
    .map_err(DbError::from)?;
    row.as_ref()
        .map(household_from)
        .transpose()
        .map_err(DbError::from)?
        .ok_or(AppError::NotFound)
}

async fn get_in(tx: &mut TenantTx, id: &str) -> AppResult<Household> {
    let tenant = tx.tenant_id().to_string();
    let row = sqlx::query(&format!(
        "{HOUSEHOLD_SELECT} WHERE h.tenant_id = $1 AND h.id = $2"
    ))
    .bind(&tenant)
    .bind(id)
    .fetch_optional(tx.conn())
    .await
    .map_err(DbError::from)?;
    row.as_ref()
        .map(household_from)
        .transpose()
        .map_err(DbError::from)?
        .ok_or(AppError::NotFound)
}

/// The members of a household, by name.
pub async fn residents(db: &Db, scope: &TenantScope, id: &str) -> DbResult<Vec<Resident>> {
    let rows = sqlx::query(
        "SELECT u.id, u.name, u.email, m.share_statements FROM mission_members m \
         JOIN users u ON u.tenant_id = m.tenant_id AND u.id = m.user_id \
         WHERE m.tenant_id = $1 AND m.household_id = $2 ORDER BY u.name, u.id",
    )
    .bind(scope.tenant_id().as_str())
    .bind(id)
    .fetch_all(db.tenant(scope).reader())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Resident {
                user_id: r.try_get("id")?,
                name: r.try_get("name")?,
                email: r.try_get("email")?,
                share_statements: flag(r, "share_statements")?,
            })
        })
        .collect()
}

/// Members of the tenant in no household (id, name), who may be added to one.
pub async fn unhoused(db: &Db, scope: &TenantScope) -> DbResult<Vec<(String, String)>> {
    let rows = sqlx::query(
        "SELECT u.id, u.name FROM users u LEFT JOIN mission_members m ON m.tenant_id = u.tenant_id AND m.user_id = u.id \
         WHERE u.tenant_id = $1 AND u.kind = 'member' AND m.household_id IS NULL ORDER BY u.name, u.id",
    )
    .bind(scope.tenant_id().as_str())
    .fetch_all(db.tenant(scope).reader())
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("id")?, r.try_get("name")?)))
        .collect()
}

fn check_name(name: &str) -> AppResult<String> {
    let name =
        crate::mission::line("name", name, NAME_MAX).map_err(|e| AppError::fields(vec![e]))?;
    if name.is_empty() {
        return Err(AppError::field("name", "households-error-name"));
    }
    Ok(name)
}

async fn audit_change(
    tx: &mut TenantTx,
    actor: &Actor,
    ip: &str,
    action: &str,
    id: &str,
    detail: serde_json::Value,
) -> AppResult<()> {
    audit::append(
        tx,
        Entry {
            ip: Some(ip),
            detail,
            ..Entry::new(action).by(actor).target("household", id)
        },
    )
    .await?;
    Ok(())
}

/// Creates a household (staff); returns its id.
pub async fn create(db: &Db, actor: &Actor, ip: &str, name: &str) -> AppResult<String> {
    let name = check_name(name)?;
    let id = new_id();
    let mut tx = db.tenant(actor.scope()).begin().await?;
    let tenant = tx.tenant_id().to_string();
    sqlx::query("INSERT INTO mission_households (id, tenant_id, name) VALUES ($1, $2, $3)")
        .bind(&id)
        .bind(&tenant)
        .bind(&name)
        .execute(tx.conn())
        .await
        .map_err(DbError::from)?;
    audit_change(
        &mut tx,
        actor,
        ip,
        "mission.household_created",
        &id,
        json!({ "name": name }),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Renames a household (staff).
pub async fn rename(db: &Db, actor: &Actor, ip: &str, id: &str, name: &str) -> AppResult<()> {
    let name = check_name(name)?;
    let mut tx = db.tenant(actor.scope()).begin().await?;
    let before = get_in(&mut tx, id).await?;
    let tenant = tx.tenant_id().to_string();
    sqlx::query("UPDATE mission_households SET name = $3 WHERE tenant_id = $1 AND id = $2")
        .bind(&tenant)
        .bind(&before.id)
        .bind(&name)
        .execute(tx.conn())
        .await
        .map_err(DbError::from)?;
    audit_change(
        &mut tx,
        actor,
        ip,
        "mission.household_renamed",
        &before.id,
        json!({ "from": before.name, "to": name }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Deletes a household (staff); its members stay members, in no household.
pub async fn delete(db: &Db, actor: &Actor, ip: &str, id: &str) -> AppResult<()> {
    let mut tx = db.tenant(actor.scope()).begin().await?;
    let h = get_in(&mut tx, id).await?;
    let tenant = tx.tenant_id().to_string();
    for sql in [
        "UPDATE mission_members SET household_id = NULL WHERE tenant_id = $1 AND household_id = $2",
        "DELETE FROM mission_households WHERE tenant_id = $1 AND id = $2",
    ] {
        sqlx::query(sql)
            .bind(&tenant)
            .bind(&h.id)
            .execute(tx.conn())
            .await
            .map_err(DbError::from)?;
    }
    audit_change(
        &mut tx,
        actor,
        ip,
        "mission.household_deleted",
        &h.id,
        json!({ "name": h.name, "members": h.members }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn member_name(tx: &mut TenantTx, user_id: &str) -> AppResult<String> {
    let tenant = tx.tenant_id().to_string();
    let row =
        sqlx::query("SELECT name FROM users WHERE tenant_id = $1 AND id = $2 AND kind = 'member'")
            .bind(&tenant)
            .bind(user_id)
            .fetch_optional(tx.conn())
            .await
            .map_err(DbError::from)?;
    match row {
        Some(r) => Ok(r.try_get("name").map_err(DbError::from)?),
        None => Err(AppError::field("user_id", "households-error-member")),
    }
}

/// Puts a member into a household (staff). A member already in another household is refused:
/// the check and the write are one statement, so two staff adding the same person to two
/// households at once cannot both succeed.
pub async fn add_member(
    db: &Db,
    actor: &Actor,
    ip: &str,
    id: &str,
    user_id: &str,
) -> AppResult<()> {
    let mut tx = db.tenant(actor.scope()).begin().await?;
    let h = get_in(&mut tx, id).await?;
    let name = member_name(&mut tx, user_id).await?;
    let tenant = tx.tenant_id().to_string();
    let r = sqlx::query(
        "INSERT INTO mission_members (tenant_id, user_id, household_id, updated_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (tenant_id, user_id) DO UPDATE SET household_id = excluded.household_id, updated_at = excluded.updated_at \
         WHERE mission_members.household_id IS NULL",
    )
    .bind(&tenant)
    .bind(user_id)
    .bind(&h.id)
    .bind(now_ms())
    .execute(tx.conn())
    .await
    .map_err(DbError::from)?;
    if r.rows_affected() == 0 {
        let current: Option<String> = sqlx::query(
            "SELECT household_id FROM mission_members WHERE tenant_id = $1 AND user_id = $2",
        )
        .bind(&tenant)
        .bind(user_id)
        .fetch_optional(tx.conn())
        .await
        .map_err(DbError::from)?
        .map(|r| r.try_get::<Option<String>, _>("household_id"))
        .transpose()
        .map_err(DbError::from)?
        .flatten();
        if current.as_deref() == Some(h.id.as_str()) {
            return Ok(());
        }
        return Err(AppError::field("user_id", "households-error-elsewhere"));
    }
    audit_change(
        &mut tx,
        actor,
        ip,
        "mission.household_member_added",
        &h.id,
        json!({ "household": h.name, "user_id": user_id, "name": name }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Takes a member out of a household (staff); 404 when they are not in it.
pub async fn remove_member(
    db: &Db,
    actor: &Actor,
    ip: &str,
    id: &str,
    user_id: &str,
) -> AppResult<()> {
    let mut tx = db.tenant(actor.scope()).begin().await?;
    let h = get_in(&mut tx, id).await?;
    let tenant = tx.tenant_id().to_string();
    let r = sqlx::query(
        "UPDATE mission_members SET household_id = NULL, updated_at = $4 WHERE tenant_id = $1 AND household_id = $2 AND user_id = $3",
    )
    .bind(&tenant)
    .bind(&h.id)
    .bind(user_id)
    .bind(now_ms())
    .execute(tx.conn())
    .await
    .map_err(DbError::from)?;
    if r.rows_affected() == 0 {
        return Err(AppError::NotFound);
    }
    audit_change(
        &mut tx,
        actor,
        ip,
        "mission.household_member_removed",
        &h.id,
        json!({ "household": h.name, "user_id": user_id }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The member's household, its members and the member's own sharing choice.
pub async fn mine(db: &Db, scope: &TenantScope, user_id: &str) -> DbResult<MyHousehold> {
    let row = sqlx::query(
        "SELECT household_id, share_statements FROM mission_members WHERE tenant_id = $1 AND user_id = $2",
    )
    .bind(scope.tenant_id().as_str())
    .bind(user_id)
    .fetch_optional(db.tenant(scope).reader())
    .await?;
    let (hid, share) = match &row {
        Some(r) => (
            r.try_get::<Option<String>, _>("household_id")?,
            flag(r, "share_statements")?,
        ),
        None => (None, false),
    };
    let household = match hid {
        Some(id) => get(db, scope, &id).await.ok(),
        None => None,
    };
    let members = match &household {
        Some(h) => residents(db, scope, &h.id)
            .await?
            .into_iter()
            // Household members know each other; their addresses stay with staff.
            .map(|r| Resident {
                email: String::new(),
                ..r
            })
            .collect(),
        None => Vec::new(),
    };
    Ok(MyHousehold {
        household,
        members,
        share_statements: share,
    })
}

/// The member's own choice to list their gifts on their household's statement.
pub async fn set_sharing(db: &Db, actor: &Actor, ip: &str, share: bool) -> AppResult<()> {
    let mut tx = db.tenant(actor.scope()).begin().await?;
    let tenant = tx.tenant_id().to_string();
    sqlx::query(
        "INSERT INTO mission_members (tenant_id, user_id, share_statements, updated_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (tenant_id, user_id) DO UPDATE SET share_statements = excluded.share_statements, updated_at = excluded.updated_at",
    )
    .bind(&tenant)
    .bind(actor.user_id().as_str())
    .bind(i64::from(share))
    .bind(now_ms())
    .execute(tx.conn())
    .await
    .map_err(DbError::from)?;
    audit::append(
        &mut tx,
        Entry {
            ip: Some(ip),
            detail: json!({ "share_statements": share }),
            ..Entry::new("mission.statement_sharing_changed")
                .by(actor)
                .target("user", actor.user_id().as_str())
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The household statement of `user_id`'s household for `year`: the household's name and the
/// gifts (oldest first) of the members who chose to share, and only theirs. `None` when the
/// member is in no household.
pub async fn statement_gifts(
    db: &Db,
    scope: &TenantScope,
    user_id: &str,
    year: i32,
) -> DbResult<Option<(String, Vec<Gift>)>> {
    let me = mine(db, scope, user_id).await?;
    let Some(h) = me.household else {
        return Ok(None);
    };
    let mut gifts = Vec::new();
    for r in me.members.iter().filter(|r| r.share_statements) {
        let f = crate::mission::giving::GiftFilter {
            member_id: Some(r.user_id.clone()),
            year: Some(year),
            limit: 5000,
            ..Default::default()
        };
        gifts.extend(crate::mission::giving::gifts(db, scope, &f).await?.0);
    }
    gifts.sort_by(|a, b| (&a.given_on, &a.id).cmp(&(&b.given_on, &b.id)));
    Ok(Some((h.name, gifts)))
}
