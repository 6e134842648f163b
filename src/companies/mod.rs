//! Client companies of an MSP tenant.

pub mod routes;

use serde::Serialize;

use crate::db::{AnyRow, Db, DbResult, Row, TenantTx, new_id, now_ms};
use crate::tenancy::TenantScope;

crate::typed_id!(
    /// Identifies a client company.
    CompanyId
);

/// A company with its head count.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Company {
    /// Id.
    pub id: CompanyId,
    /// Name.
    pub name: String,
    /// `active` or `deactivated`.
    pub status: String,
    /// Users in the company.
    pub user_count: i64,
    /// Created (Unix ms).
    pub created_at: i64,
}

fn from_row(r: &AnyRow) -> Result<Company, sqlx::Error> {
    Ok(Company {
        id: CompanyId(r.try_get("id")?),
        name: r.try_get("name")?,
        status: r.try_get("status")?,
        user_count: r.try_get("user_count")?,
        created_at: r.try_get("created_at")?,
    })
}

const SELECT: &str = "SELECT c.id, c.name, c.status, c.created_at, \
    (SELECT COUNT(*) FROM users u WHERE u.tenant_id = c.tenant_id AND u.company_id = c.id) AS user_count \
    FROM companies c";

/// Companies ordered by name, after `cursor` (a name).
pub async fn list(
    db: &Db,
    scope: &TenantScope,
    cursor: Option<&str>,
    limit: i64,
) -> DbResult<Vec<Company>> {
    let sql = format!("{SELECT} WHERE c.tenant_id = $1 AND c.name > $2 ORDER BY c.name LIMIT $3");
    let rows = sqlx::query(&sql)
        .bind(scope.tenant_id().as_str())
        .bind(cursor.unwrap_or(""))
        .bind(limit)
        .fetch_all(db.tenant(scope).reader())
        .await?;
    rows.iter().map(|r| Ok(from_row(r)?)).collect()
}

/// One company of the tenant.
pub async fn get(db: &Db, scope: &TenantScope, id: &str) -> DbResult<Option<Company>> {
    let sql = format!("{SELECT} WHERE c.tenant_id = $1 AND c.id = $2");
    let row = sqlx::query(&sql)
        .bind(scope.tenant_id().as_str())
        .bind(id)
        .fetch_optional(db.tenant(scope).reader())
        .await?;
    Ok(row.map(|r| from_row(&r)).transpose()?)
}

/// Creates a company; a name already used in the tenant is a conflict.
pub async fn create(tx: &mut TenantTx, name: &str) -> DbResult<CompanyId> {
    let id = new_id();
    let now = now_ms();
    sqlx::query(
        "INSERT INTO companies (id, tenant_id, name, status, created_at, updated_at) VALUES ($1, $2, $3, 'active', $4, $4)",
    )
    .bind(&id)
    .bind(tx.tenant_id().to_string())
    .bind(name)
    .bind(now)
    .execute(tx.conn())
    .await?;
    Ok(CompanyId(id))
}

/// Renames a company.
pub async fn rename(tx: &mut TenantTx, id: &CompanyId, name: &str) -> DbResult<()> {
    sqlx::query("UPDATE companies SET name = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2")
        .bind(tx.tenant_id().to_string())
        .bind(id.as_str())
        .bind(name)
        .bind(now_ms())
        .execute(tx.conn())
        .await?;
    crate::auth::cache::changed(tx, crate::auth::cache::Change::company(id)).await
}

/// Sets `active` or `deactivated`; deactivating also ends the company's sessions.
pub async fn set_status(tx: &mut TenantTx, id: &CompanyId, active: bool) -> DbResult<()> {
    let tenant = tx.tenant_id().to_string();
    sqlx::query(
        "UPDATE companies SET status = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2",
    )
    .bind(&tenant)
    .bind(id.as_str())
    .bind(if active { "active" } else { "deactivated" })
    .bind(now_ms())
    .execute(tx.conn())
    .await?;
    if !active {
        sqlx::query(
            "DELETE FROM sessions WHERE tenant_id = $1 AND user_id IN \
             (SELECT id FROM users WHERE tenant_id = $1 AND company_id = $2)",
        )
        .bind(&tenant)
        .bind(id.as_str())
        .execute(tx.conn())
        .await?;
    }
    crate::auth::cache::changed(tx, crate::auth::cache::Change::company(id)).await
}

/// Validates a company name.
pub fn check_name(name: &str) -> Result<String, crate::error::AppError> {
    let n = name.trim();
    if n.is_empty() {
        return Err(crate::error::AppError::field(
            "name",
            "Enter the company name.",
        ));
    }
    crate::text::single_line("name", n, crate::text::NAME_MAX)
        .map_err(|e| crate::error::AppError::fields(vec![e]))
}
