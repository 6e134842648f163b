//! Users of a tenant: staff, client users and members; invitations, roles, deactivation.

pub mod invitations;
pub mod membership_routes;
pub mod memberships;
pub mod routes;
pub mod service;

use serde::Serialize;

use crate::auth::{Role, UserId};
use crate::companies::CompanyId;
use crate::db::{AnyRow, Db, DbResult, Row, new_id, now_ms};
use crate::tenancy::TenantScope;

/// Account state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum UserStatus {
    /// Invited, has not set a password yet.
    Invited,
    /// Can sign in.
    Active,
    /// Cannot sign in.
    Deactivated,
}

impl UserStatus {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Invited => "invited",
            UserStatus::Active => "active",
            UserStatus::Deactivated => "deactivated",
        }
    }

    fn parse(s: &str) -> UserStatus {
        match s {
            "active" => UserStatus::Active,
            "invited" => UserStatus::Invited,
            _ => UserStatus::Deactivated,
        }
    }
}

/// A user as lists and detail views show it.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct User {
    /// Id.
    pub id: UserId,
    /// Email.
    pub email: String,
    /// Name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Status.
    pub status: UserStatus,
    /// Company (client users).
    pub company_id: Option<CompanyId>,
    /// Company name.
    pub company_name: Option<String>,
    /// Last sign-in (Unix ms).
    pub last_login_at: Option<i64>,
    /// Two-step sign-in is on.
    pub mfa_enabled: bool,
}

const USER_COLUMNS: &str = "u.id, u.email, u.name, u.kind, u.role, u.status, u.company_id, \
    c.name AS company_name, u.last_login_at, u.mfa_enabled_at";

fn user_from_row(r: &AnyRow) -> Result<User, sqlx::Error> {
    let kind: String = r.try_get("kind")?;
    let role: String = r.try_get("role")?;
    let status: String = r.try_get("status")?;
    Ok(User {
        id: UserId(r.try_get("id")?),
        email: r.try_get("email")?,
        name: r.try_get("name")?,
        role: Role::from_stored(&kind, &role).unwrap_or(Role::ClientViewer),
        status: UserStatus::parse(&status),
        company_id: r.try_get::<Option<String>, _>("company_id")?.map(CompanyId),
        company_name: r.try_get("company_name")?,
        last_login_at: r.try_get("last_login_at")?,
        mfa_enabled: r.try_get::<Option<i64>, _>("mfa_enabled_at")?.is_some(),
    })
}

/// What sign-in needs to know about an account.
pub struct LoginRecord {
    /// The user.
    pub user: User,
    /// Stored hash.
    pub password_hash: Option<String>,
    /// Company status for client users.
    pub company_active: bool,
    /// Profile language, when chosen (the language of the account's emails).
    pub language: Option<String>,
}

/// Normalises an email for storage and lookup.
pub fn normalize_email(s: &str) -> String {
    s.trim().to_ascii_lowercase()
}

/// True when `s` is an email address we can send to.
pub fn valid_email(s: &str) -> bool {
    s.len() <= 254 && s.parse::<lettre::Address>().is_ok()
}

/// Finds an account for sign-in or reset.
pub async fn find_for_login(
    db: &Db,
    scope: &TenantScope,
    email: &str,
) -> DbResult<Option<LoginRecord>> {
    let sql = format!(
        "SELECT {USER_COLUMNS}, u.password_hash, c.status AS company_status, u.language FROM users u \
         LEFT JOIN companies c ON c.id = u.company_id WHERE u.tenant_id = $1 AND u.email = $2"
    );
    let row = sqlx::query(&sql)
        .bind(scope.tenant_id().as_str())
        .bind(email)
        .fetch_optional(db.tenant(scope).reader())
        .await?;
    let Some(r) = row else { return Ok(None) };
    let company_status: Option<String> = r.try_get("company_status")?;
    Ok(Some(LoginRecord {
        user: user_from_row(&r)?,
        password_hash: r.try_get("password_hash")?,
        company_active: company_status.is_none_or(|s| s == "active"),
        language: r.try_get("language")?,
    }))
}

/// One user of the tenant.
pub async fn get(db: &Db, scope: &TenantScope, id: &str) -> DbResult<Option<User>> {
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM users u LEFT JOIN companies c ON c.id = u.company_id \
         WHERE u.tenant_id = $1 AND u.id = $2"
    );
    let row = sqlx::query(&sql)
        .bind(scope.tenant_id().as_str())
        .bind(id)
        .fetch_optional(db.tenant(scope).reader())
        .await?;
    Ok(row.map(|r| user_from_row(&r)).transpose()?)
}

/// Users of the tenant ordered by email, after `cursor` (an email), optionally one company's.
pub async fn list(
    db: &Db,
    scope: &TenantScope,
    company: Option<&str>,
    cursor: Option<&str>,
    limit: i64,
) -> DbResult<Vec<User>> {
    // One company's list holds everyone with a membership there, in that membership's role.
    let columns = USER_COLUMNS.replace(
        "u.role,",
        "COALESCE((SELECT mm.role FROM memberships mm WHERE mm.tenant_id = u.tenant_id \
         AND mm.user_id = u.id AND mm.company_id = $2), u.role) AS role,",
    );
    let sql = format!(
        "SELECT {columns} FROM users u LEFT JOIN companies c ON c.id = u.company_id \
         WHERE u.tenant_id = $1 AND ($2 = '' OR u.company_id = $2 OR EXISTS (SELECT 1 FROM memberships mm \
         WHERE mm.tenant_id = u.tenant_id AND mm.user_id = u.id AND mm.company_id = $2)) \
         AND u.email > $3 ORDER BY u.email LIMIT $4"
    );
    let rows = sqlx::query(&sql)
        .bind(scope.tenant_id().as_str())
        .bind(company.unwrap_or(""))
        .bind(cursor.unwrap_or(""))
        .bind(limit)
        .fetch_all(db.tenant(scope).reader())
        .await?;
    rows.iter().map(|r| Ok(user_from_row(r)?)).collect()
}

/// A user to create.
pub struct NewUser<'a> {
    /// Email (normalised).
    pub email: &'a str,
    /// Name.
    pub name: &'a str,
    /// Role.
    pub role: Role,
    /// Company for client users.
    pub company_id: Option<&'a str>,
    /// Initial status.
    pub status: UserStatus,
    /// Password hash when the password is set at once (CLI, demo).
    pub password_hash: Option<&'a str>,
}

/// Creates a user; an email already used in the tenant is a conflict.
pub async fn create(db: &Db, scope: &TenantScope, u: &NewUser<'_>) -> DbResult<UserId> {
    let mut conn = db.tenant(scope).writer().acquire().await?;
    insert(&mut conn, scope, u).await
}

/// Creates a user on `conn` (inside the caller's transaction, e.g. after a seat check).
pub async fn insert(
    conn: &mut sqlx::AnyConnection,
    scope: &TenantScope,
    u: &NewUser<'_>,
) -> DbResult<UserId> {
    let id = new_id();
    let now = now_ms();
    sqlx::query(
        "INSERT INTO users (id, tenant_id, kind, company_id, email, name, role, status, password_hash, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
    )
    .bind(&id)
    .bind(scope.tenant_id().as_str())
    .bind(u.role.kind().as_str())
    .bind(u.company_id)
    .bind(u.email)
    .bind(u.name)
    .bind(u.role.stored_role())
    .bind(u.status.as_str())
    .bind(u.password_hash)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    if let Some(company) = u
        .company_id
        .filter(|_| u.role.kind() == crate::auth::UserKind::Client)
    {
        memberships::sync_home(conn, scope.tenant_id().as_str(), &id, company, u.role).await?;
    }
    Ok(UserId(id))
}

/// Changes a user's status.
pub async fn set_status(
    db: &Db,
    scope: &TenantScope,
    id: &UserId,
    status: UserStatus,
) -> DbResult<()> {
    sqlx::query("UPDATE users SET status = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2")
        .bind(scope.tenant_id().as_str())
        .bind(id.as_str())
        .bind(status.as_str())
        .bind(now_ms())
        .execute(db.tenant(scope).writer())
        .await?;
    crate::auth::cache::changed_now(
        db,
        scope.tenant_id().as_str(),
        crate::auth::cache::Change::user(id),
    )
    .await
}

/// Sets a password hash (and activates an invited account when `activate`).
pub async fn set_password(
    tx: &mut crate::db::TenantTx,
    id: &UserId,
    hash: &str,
    name: Option<&str>,
) -> DbResult<()> {
    let tenant = tx.tenant_id().to_string();
    sqlx::query(
        "UPDATE users SET password_hash = $3, name = COALESCE($4, name), \
         status = CASE WHEN status = 'invited' THEN 'active' ELSE status END, updated_at = $5 \
         WHERE tenant_id = $1 AND id = $2",
    )
    .bind(&tenant)
    .bind(id.as_str())
    .bind(hash)
    .bind(name)
    .bind(now_ms())
    .execute(tx.conn())
    .await?;
    crate::auth::cache::changed(tx, crate::auth::cache::Change::user(id)).await
}

/// Records a successful sign-in.
pub async fn record_login(tx: &mut crate::db::TenantTx, id: &UserId) -> DbResult<()> {
    let tenant = tx.tenant_id().to_string();
    sqlx::query("UPDATE users SET last_login_at = $3 WHERE tenant_id = $1 AND id = $2")
        .bind(&tenant)
        .bind(id.as_str())
        .bind(now_ms())
        .execute(tx.conn())
        .await?;
    Ok(())
}
