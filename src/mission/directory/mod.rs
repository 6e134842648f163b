//! The member directory: each member chooses what other members see. The choice is applied in
//! SQL, so a hidden field never leaves the database for another member's page, API call or
//! search (search matches names only).

pub mod routes;

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::audit::{self, Entry};
use crate::auth::Actor;
use crate::db::{AnyRow, Db, DbResult, Row, flag, now_ms};
use crate::error::{AppError, AppResult, FieldError};
use crate::tenancy::TenantScope;

/// Page size of the directory.
pub const PAGE_SIZE: i64 = 30;

/// One member as another member sees them: `None` for what they keep private.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Listing {
    /// User id (to link to them).
    pub id: String,
    /// Name (always shown while listed).
    pub name: String,
    /// Email, when shared.
    pub email: Option<String>,
    /// Phone, when shared.
    pub phone: Option<String>,
    /// Postal address, when shared.
    pub address: Option<String>,
    /// Birthday as `MM-DD` (never the year), when shared.
    pub birthday: Option<String>,
    /// Household name, when shared.
    pub household: Option<String>,
}

/// A member's own directory choices and details.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Choices {
    /// Appear in the directory at all.
    pub listed: bool,
    /// Show the profile photo.
    pub show_photo: bool,
    /// Show the email.
    pub show_email: bool,
    /// Show the phone.
    pub show_phone: bool,
    /// Show the postal address.
    pub show_address: bool,
    /// Show the birthday (day and month).
    pub show_birthday: bool,
    /// Show the household.
    pub show_household: bool,
    /// Postal address (also printed on giving statements).
    #[serde(default)]
    pub address: String,
    /// Birthday as `MM-DD`, or empty.
    #[serde(default)]
    pub birthday: String,
    /// The household's name (set by staff; read-only here).
    #[serde(default)]
    pub household: Option<String>,
}

impl Default for Choices {
    /// The default shows the name only.
    fn default() -> Self {
        Choices {
            listed: true,
            show_photo: false,
            show_email: false,
            show_phone: false,
            show_address: false,
            show_birthday: false,
            show_household: false,
            address: String::new(),
            birthday: String::new(),
            household: None,
        }
    }
}

fn entry_from(r: &AnyRow) -> Result<Listing, sqlx::Error> {
    let text = |c: &str| -> Result<Option<String>, sqlx::Error> {
        Ok(r.try_get::<Option<String>, _>(c)?.filter(|s| !s.is_empty()))
    };
    Ok(Listing {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        email: text("email")?,
        phone: text("phone")?,
        address: text("address")?,
        birthday: text("birthday")?,
        household: text("household")?,
    })
}

/// Listed members whose name contains `q`, by name after `cursor` (`name|id`). Each field is
/// selected only when its owner shares it (or the viewer is the owner).
pub async fn search(
    db: &Db,
    scope: &TenantScope,
    viewer_id: &str,
    q: &str,
    cursor: Option<&str>,
) -> DbResult<(Vec<Listing>, Option<String>)> {
    let pattern = format!(
        "%{}%",
        q.trim().to_lowercase().replace(['\\', '%', '_'], "")
    );
    let (c_name, c_id) = cursor
        .and_then(|c| c.split_once('|'))
        .map(|(n, i)| (n.to_string(), i.to_string()))
        .unwrap_or_default();
    let rows = sqlx::query(
        "SELECT u.id, u.name, \
         CASE WHEN u.id = $2 OR m.show_email = 1 THEN u.email END AS email, \
         CASE WHEN u.id = $2 OR m.show_phone = 1 THEN u.phone END AS phone, \
         CASE WHEN u.id = $2 OR m.show_address = 1 THEN m.address END AS address, \
         CASE WHEN u.id = $2 OR m.show_birthday = 1 THEN m.birthday END AS birthday, \
         CASE WHEN u.id = $2 OR m.show_household = 1 THEN h.name END AS household \
         FROM users u \
         LEFT JOIN mission_members m ON m.tenant_id = u.tenant_id AND m.user_id = u.id \
         LEFT JOIN mission_households h ON h.tenant_id = m.tenant_id AND h.id = m.household_id \
         WHERE u.tenant_id = $1 AND u.kind = 'member' AND u.status = 'active' \
         AND (m.listed IS NULL OR m.listed = 1 OR u.id = $2) \
         AND LOWER(u.name) LIKE $3 \
         AND (u.name > $4 OR (u.name = $4 AND u.id > $5)) \
         ORDER BY u.name, u.id LIMIT $6",
    )
    .bind(scope.tenant_id().as_str())
    .bind(viewer_id)
    .bind(&pattern)
    .bind(&c_name)
    .bind(&c_id)
    .bind(PAGE_SIZE)
    .fetch_all(db.tenant(scope).reader())
    .await?;
    let items: Vec<Listing> = rows.iter().map(entry_from).collect::<Result<_, _>>()?;
    let next = (items.len() as i64 == PAGE_SIZE)
        .then(|| items.last().map(|e| format!("{}|{}", e.name, e.id)))
        .flatten();
    Ok((items, next))
}

/// A member's own choices (defaults when never saved).
pub async fn choices(db: &Db, scope: &TenantScope, user_id: &str) -> DbResult<Choices> {
    let row = sqlx::query(
        "SELECT m.listed, m.show_photo, m.show_email, m.show_phone, m.show_address, m.show_birthday, \
         m.show_household, m.address, m.birthday, h.name AS household FROM mission_members m \
         LEFT JOIN mission_households h ON h.tenant_id = m.tenant_id AND h.id = m.household_id \
         WHERE m.tenant_id = $1 AND m.user_id = $2",
    )
    .bind(scope.tenant_id().as_str())
    .bind(user_id)
    .fetch_optional(db.tenant(scope).reader())
    .await?;
    let Some(r) = row else {
        return Ok(Choices::default());
    };
    Ok(Choices {
        listed: flag(&r, "listed")?,
        show_photo: flag(&r, "show_photo")?,
        show_email: flag(&r, "show_email")?,
        show_phone: flag(&r, "show_phone")?,
        show_address: flag(&r, "show_address")?,
        show_birthday: flag(&r, "show_birthday")?,
        show_household: flag(&r, "show_household")?,
        address: r.try_get("address")?,
        birthday: r.try_get("birthday")?,
        household: r.try_get("household")?,
    })
}

/// Checks a birthday typed as `MM-DD` (or `--MM-DD`, or empty).
pub fn check_birthday(text: &str) -> Result<String, FieldError> {
    let t = text.trim().trim_start_matches("--");
    if t.is_empty() {
        return Ok(String::new());
    }
    // 2000 is a leap year, so 29 February is a valid birthday.
    match chrono::NaiveDate::parse_from_str(&format!("2000-{t}"), "%Y-%m-%d") {
        Ok(d) => Ok(d.format("%m-%d").to_string()),
        Err(_) => Err(FieldError {
            field: "birthday".into(),
            message: "mission-error-birthday".into(),
        }),
    }
}

/// Saves a member's own choices, with an audit row.
pub async fn save(db: &Db, actor: &Actor, ip: &str, c: &Choices) -> AppResult<()> {
    let mut errs = Vec::new();
    let address = crate::text::multi_line("address", c.address.trim(), 300)
        .map_err(|e| errs.push(e))
        .unwrap_or_default();
    let birthday = check_birthday(&c.birthday)
        .map_err(|e| errs.push(e))
        .unwrap_or_default();
    if !errs.is_empty() {
        return Err(AppError::fields(errs));
    }
    let b = |v: bool| i64::from(v);
    let mut tx = db.tenant(actor.scope()).begin().await?;
    sqlx::query(
        "INSERT INTO mission_members (tenant_id, user_id, listed, show_photo, show_email, show_phone, show_address, \
         show_birthday, show_household, address, birthday, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
         ON CONFLICT (tenant_id, user_id) DO UPDATE SET listed = $3, show_photo = $4, show_email = $5, \
         show_phone = $6, show_address = $7, show_birthday = $8, show_household = $9, address = $10, \
         birthday = $11, updated_at = $12",
    )
    .bind(tx.tenant_id().to_string())
    .bind(actor.user_id().as_str())
    .bind(b(c.listed))
    .bind(b(c.show_photo))
    .bind(b(c.show_email))
    .bind(b(c.show_phone))
    .bind(b(c.show_address))
    .bind(b(c.show_birthday))
    .bind(b(c.show_household))
    .bind(&address)
    .bind(&birthday)
    .bind(now_ms())
    .execute(tx.conn())
    .await
    .map_err(crate::db::DbError::from)?;
    audit::append(
        &mut tx,
        Entry {
            ip: Some(ip),
            detail: json!({
                "listed": c.listed, "show_photo": c.show_photo, "show_email": c.show_email,
                "show_phone": c.show_phone, "show_address": c.show_address,
                "show_birthday": c.show_birthday, "show_household": c.show_household,
            }),
            ..Entry::new("mission.directory_changed")
                .by(actor)
                .target("user", actor.user_id().as_str())
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
