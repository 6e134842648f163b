//! Masked invitations: what a company admin sees after inviting an address that has an account
//! elsewhere in the tenant. Nothing is created for the address and nothing is sent, but the
//! invitation behaves like a real pending one towards the inviting company (listed, counted
//! against its seats, refused as a duplicate, resendable, revocable, its role changeable), so
//! the company cannot learn that the address exists. Staff see `user.invitation_*` audit rows
//! without a company.

use sqlx::Row;

use crate::auth::{Role, UserId};
use crate::companies::CompanyId;
use crate::db::{DbError, DbResult, TenantTx, now_ms};
use crate::tenancy::TenantScope;
use crate::users::{User, UserStatus};

const COLUMNS: &str =
    "m.id, m.email, m.name, m.role, m.company_id, c.name AS company_name, m.created_at";

fn from_row(r: &sqlx::any::AnyRow) -> Result<(User, i64), sqlx::Error> {
    let role: String = r.try_get("role")?;
    let user = User {
        id: UserId(r.try_get("id")?),
        email: r.try_get("email")?,
        name: r.try_get("name")?,
        role: Role::from_key(&role).ok_or_else(|| sqlx::Error::Decode("unknown role".into()))?,
        status: UserStatus::Invited,
        company_id: Some(CompanyId(r.try_get("company_id")?)),
        company_name: r.try_get("company_name")?,
        last_login_at: None,
        mfa_enabled: false,
    };
    Ok((user, r.try_get("created_at")?))
}

/// Records a masked invitation; `Ok(None)` when the company already has one for the address
/// (the caller answers as for any duplicate).
pub async fn create(
    tx: &mut TenantTx,
    company: &CompanyId,
    email: &str,
    name: &str,
    role: Role,
) -> DbResult<Option<UserId>> {
    let tenant = tx.tenant_id().to_string();
    let id = crate::db::new_id();
    let r = sqlx::query(
        "INSERT INTO masked_invitations (tenant_id, id, company_id, email, name, role, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&tenant)
    .bind(&id)
    .bind(company.as_str())
    .bind(email)
    .bind(name)
    .bind(role.key())
    .bind(now_ms())
    .execute(tx.conn())
    .await
    .map_err(DbError::from);
    match r {
        Ok(_) => Ok(Some(UserId(id))),
        Err(DbError::Conflict(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The company's masked invitations ordered by email, after `cursor`.
pub async fn list(
    db: &crate::db::Db,
    scope: &TenantScope,
    company: &CompanyId,
    cursor: Option<&str>,
    limit: i64,
) -> DbResult<Vec<(User, i64)>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM masked_invitations m JOIN companies c \
         ON c.tenant_id = m.tenant_id AND c.id = m.company_id \
         WHERE m.tenant_id = $1 AND m.company_id = $2 AND m.email > $3 ORDER BY m.email LIMIT $4"
    );
    let rows = sqlx::query(&sql)
        .bind(scope.tenant_id().as_str())
        .bind(company.as_str())
        .bind(cursor.unwrap_or(""))
        .bind(limit)
        .fetch_all(db.tenant(scope).reader())
        .await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

/// One of the company's masked invitations.
pub async fn get(
    db: &crate::db::Db,
    scope: &TenantScope,
    company: &CompanyId,
    id: &str,
) -> DbResult<Option<User>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM masked_invitations m JOIN companies c \
         ON c.tenant_id = m.tenant_id AND c.id = m.company_id \
         WHERE m.tenant_id = $1 AND m.company_id = $2 AND m.id = $3"
    );
    let row = sqlx::query(&sql)
        .bind(scope.tenant_id().as_str())
        .bind(company.as_str())
        .bind(id)
        .fetch_optional(db.tenant(scope).reader())
        .await?;
    Ok(row.as_ref().map(from_row).transpose()?.map(|(u, _)| u))
}

/// Changes the role a masked invitation shows.
pub async fn set_role(tx: &mut TenantTx, id: &UserId, role: Role) -> DbResult<()> {
    let tenant = tx.tenant_id().to_string();
    sqlx::query("UPDATE masked_invitations SET role = $3 WHERE tenant_id = $1 AND id = $2")
        .bind(&tenant)
        .bind(id.as_str())
        .bind(role.key())
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Withdraws a masked invitation.
pub async fn delete(tx: &mut TenantTx, id: &UserId) -> DbResult<()> {
    let tenant = tx.tenant_id().to_string();
    sqlx::query("DELETE FROM masked_invitations WHERE tenant_id = $1 AND id = $2")
        .bind(&tenant)
        .bind(id.as_str())
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// When each of the company's masked invitations would stop working, as a real link would
/// (seven days after it was sent); expired ones are absent.
pub async fn expiries(
    db: &crate::db::Db,
    scope: &TenantScope,
    company: &CompanyId,
) -> DbResult<Vec<(String, i64)>> {
    const LIFETIME_MS: i64 = 7 * 24 * 3600 * 1000;
    let rows = sqlx::query(
        "SELECT id, created_at FROM masked_invitations WHERE tenant_id = $1 AND company_id = $2 \
         AND created_at > $3",
    )
    .bind(scope.tenant_id().as_str())
    .bind(company.as_str())
    .bind(now_ms() - LIFETIME_MS)
    .fetch_all(db.tenant(scope).reader())
    .await?;
    Ok(rows
        .iter()
        .map(|r| {
            Ok((
                r.try_get("id")?,
                r.try_get::<i64, _>("created_at")? + LIFETIME_MS,
            ))
        })
        .collect::<Result<_, sqlx::Error>>()?)
}
