//! Tenant and domain storage.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use super::{OrgType, Tenant, TenantId, TenantScope};
use crate::branding::Branding;
use crate::db::{AnyRow, Db, DbResult, Row, flag, new_id, now_ms};

/// Columns of `tenants` (aliased `t`) that every request needs, in the order `from_row` reads.
pub const TENANT_COLUMNS: &str = "t.id AS t_id, t.slug AS t_slug, t.name AS t_name, \
    t.org_type AS t_org_type, t.plan AS t_plan, t.portal_name AS t_portal_name, \
    t.logo_url AS t_logo_url, t.favicon_url AS t_favicon_url, t.primary_color AS t_primary_color, \
    t.accent_color AS t_accent_color, t.welcome_text AS t_welcome_text, \
    t.login_background_url AS t_login_background_url, t.powered_by_visible AS t_powered_by_visible, \
    CASE WHEN t.custom_css IS NULL OR t.custom_css = '' THEN 0 ELSE 1 END AS t_has_custom_css, \
    t.support_email AS t_support_email, t.updated_at AS t_updated_at, \
    t.default_locale AS t_default_locale, t.time_zone AS t_time_zone";

/// Builds a [`Tenant`] from a row selected with [`TENANT_COLUMNS`].
pub fn tenant_from_row(row: &AnyRow) -> Result<Tenant, sqlx::Error> {
    let org: String = row.try_get("t_org_type")?;
    let id: String = row.try_get("t_id")?;
    Ok(Tenant {
        scope: TenantScope {
            tenant_id: TenantId(id.clone()),
        },
        id: TenantId(id),
        slug: row.try_get("t_slug")?,
        name: row.try_get("t_name")?,
        org_type: OrgType::parse(&org).unwrap_or(OrgType::Msp),
        plan: row.try_get("t_plan")?,
        branding: Branding {
            portal_name: row.try_get("t_portal_name")?,
            logo_url: row.try_get("t_logo_url")?,
            favicon_url: row.try_get("t_favicon_url")?,
            primary_color: row.try_get("t_primary_color")?,
            accent_color: row.try_get("t_accent_color")?,
            welcome_text: row.try_get("t_welcome_text")?,
            login_background_url: row.try_get("t_login_background_url")?,
            powered_by_visible: flag(row, "t_powered_by_visible")?,
            has_custom_css: flag(row, "t_has_custom_css")?,
            support_email: row.try_get("t_support_email")?,
        },
        updated_at: row.try_get("t_updated_at")?,
        default_locale: row.try_get("t_default_locale")?,
        time_zone: row.try_get("t_time_zone")?,
    })
}

/// Finds a tenant by slug.
pub async fn by_slug(db: &Db, slug: &str) -> DbResult<Option<Tenant>> {
    let sql = format!("SELECT {TENANT_COLUMNS} FROM tenants t WHERE t.slug = $1");
    let row = sqlx::query(&sql)
        .bind(slug)
        .fetch_optional(
            db.operator("tenant resolution and operator commands")
                .reader(),
        )
        .await?;
    Ok(row.map(|r| tenant_from_row(&r)).transpose()?)
}

/// Finds a tenant by id.
pub async fn by_id(db: &Db, id: &TenantId) -> DbResult<Option<Tenant>> {
    let sql = format!("SELECT {TENANT_COLUMNS} FROM tenants t WHERE t.id = $1");
    let row = sqlx::query(&sql)
        .bind(id.as_str())
        .fetch_optional(
            db.operator("tenant resolution and operator commands")
                .reader(),
        )
        .await?;
    Ok(row.map(|r| tenant_from_row(&r)).transpose()?)
}

/// What an operator supplies to create a tenant.
#[derive(Clone, Debug)]
pub struct NewTenant {
    /// URL slug.
    pub slug: String,
    /// Organisation name; also the initial portal name.
    pub name: String,
    /// MSP or Mission.
    pub org_type: OrgType,
    /// Plan name.
    pub plan: String,
}

/// Creates a tenant; a taken slug is a conflict.
pub async fn create(db: &Db, t: &NewTenant) -> DbResult<TenantId> {
    let id = new_id();
    let now = now_ms();
    sqlx::query(
        "INSERT INTO tenants (id, slug, name, org_type, plan, portal_name, powered_by_visible, \
         audit_seq, audit_head, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $3, 1, 0, '', $6, $6)",
    )
    .bind(&id)
    .bind(&t.slug)
    .bind(&t.name)
    .bind(t.org_type.as_str())
    .bind(&t.plan)
    .bind(now)
    .execute(
        db.operator("tenant resolution and operator commands")
            .writer(),
    )
    .await?;
    Ok(TenantId(id))
}

/// True when the plan exists.
pub async fn plan_exists(db: &Db, plan: &str) -> DbResult<bool> {
    let row = sqlx::query("SELECT name FROM plans WHERE name = $1")
        .bind(plan)
        .fetch_optional(
            db.operator("tenant resolution and operator commands")
                .reader(),
        )
        .await?;
    Ok(row.is_some())
}

/// One line of `portico tenant list`.
#[derive(Debug)]
pub struct TenantSummary {
    /// Slug.
    pub slug: String,
    /// Name.
    pub name: String,
    /// msp or mission.
    pub org_type: String,
    /// Plan.
    pub plan: String,
    /// Registered custom domains.
    pub domains: Vec<String>,
}

/// Every tenant with its domains, for operators.
pub async fn list(db: &Db) -> DbResult<Vec<TenantSummary>> {
    let rows = sqlx::query("SELECT id, slug, name, org_type, plan FROM tenants ORDER BY slug")
        .fetch_all(
            db.operator("tenant resolution and operator commands")
                .reader(),
        )
        .await?;
    let domains = sqlx::query("SELECT tenant_id, domain FROM tenant_domains ORDER BY domain")
        .fetch_all(
            db.operator("tenant resolution and operator commands")
                .reader(),
        )
        .await?;
    let mut by_tenant: HashMap<String, Vec<String>> = HashMap::new();
    for d in &domains {
        by_tenant
            .entry(d.try_get("tenant_id")?)
            .or_default()
            .push(d.try_get("domain")?);
    }
    rows.iter()
        .map(|r| {
            let id: String = r.try_get("id")?;
            Ok(TenantSummary {
                slug: r.try_get("slug")?,
                name: r.try_get("name")?,
                org_type: r.try_get("org_type")?,
                plan: r.try_get("plan")?,
                domains: by_tenant.remove(&id).unwrap_or_default(),
            })
        })
        .collect()
}

/// Why a domain could not be added.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// The plan does not allow more custom domains.
    #[error("the {plan} plan allows {limit} custom domain(s); remove one or change plan")]
    PlanLimit {
        /// Plan name.
        plan: String,
        /// Its limit.
        limit: i64,
    },
    /// The domain already belongs to a tenant.
    #[error("that domain is already registered")]
    Taken,
    /// Storage failed.
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
}

/// Registers a custom domain, honouring the plan's domain limit atomically.
pub async fn add_domain(db: &Db, scope: &TenantScope, domain: &str) -> Result<(), DomainError> {
    let mut tx = db.tenant(scope).begin().await?;
    // Touching the tenant row first serialises concurrent additions for the same tenant.
    let row = sqlx::query("UPDATE tenants SET updated_at = $2 WHERE id = $1 RETURNING plan")
        .bind(scope.tenant_id().as_str())
        .bind(now_ms())
        .fetch_one(tx.conn())
        .await
        .map_err(crate::db::DbError::from)?;
    let plan: String = row.try_get("plan").map_err(crate::db::DbError::from)?;
    let limit = sqlx::query(
        "SELECT max_custom_domains, \
         (SELECT COUNT(*) FROM tenant_domains WHERE tenant_id = $1) AS used \
         FROM plans WHERE name = $2",
    )
    .bind(scope.tenant_id().as_str())
    .bind(&plan)
    .fetch_one(tx.conn())
    .await
    .map_err(crate::db::DbError::from)?;
    let max: Option<i64> = limit
        .try_get("max_custom_domains")
        .map_err(crate::db::DbError::from)?;
    let used: i64 = limit.try_get("used").map_err(crate::db::DbError::from)?;
    if let Some(max) = max
        && used >= max
    {
        return Err(DomainError::PlanLimit { plan, limit: max });
    }
    match sqlx::query(
        "INSERT INTO tenant_domains (domain, tenant_id, created_at) VALUES ($1, $2, $3)",
    )
    .bind(domain)
    .bind(scope.tenant_id().as_str())
    .bind(now_ms())
    .execute(tx.conn())
    .await
    .map_err(crate::db::DbError::from)
    {
        Ok(_) => {}
        Err(crate::db::DbError::Conflict(_)) => return Err(DomainError::Taken),
        Err(e) => return Err(e.into()),
    }
    // The tenant's `updated_at` moved, and principals carry it.
    crate::auth::cache::changed(&mut tx, crate::auth::cache::Change::Tenant).await?;
    tx.commit().await?;
    Ok(())
}

/// In-memory map of custom domains to tenants, refreshed periodically.
///
/// Domains change rarely (an operator command), while every request needs the lookup; a
/// short staleness window on other nodes is the price of not querying on each request.
pub struct DomainCache {
    inner: RwLock<(Option<Instant>, HashMap<String, TenantId>)>,
}

const DOMAIN_CACHE_TTL: Duration = Duration::from_secs(30);

impl Default for DomainCache {
    fn default() -> Self {
        DomainCache {
            inner: RwLock::new((None, HashMap::new())),
        }
    }
}

impl DomainCache {
    /// The tenant registered for `host`, if any.
    pub async fn lookup(&self, db: &Db, host: &str) -> DbResult<Option<TenantId>> {
        let fresh = {
            let g = self.inner.read().unwrap_or_else(|p| p.into_inner());
            g.0.is_some_and(|t| t.elapsed() < DOMAIN_CACHE_TTL)
        };
        if !fresh {
            self.refresh(db).await?;
        }
        let g = self.inner.read().unwrap_or_else(|p| p.into_inner());
        Ok(g.1.get(host).cloned())
    }

    /// Reloads the map now (after a local change).
    pub async fn refresh(&self, db: &Db) -> DbResult<()> {
        let rows = sqlx::query("SELECT domain, tenant_id FROM tenant_domains")
            .fetch_all(
                db.operator("tenant resolution and operator commands")
                    .reader(),
            )
            .await?;
        let mut map = HashMap::with_capacity(rows.len());
        for r in rows {
            map.insert(r.try_get("domain")?, TenantId(r.try_get("tenant_id")?));
        }
        let mut g = self.inner.write().unwrap_or_else(|p| p.into_inner());
        *g = (Some(Instant::now()), map);
        Ok(())
    }
}

/// Sets the tenant's default time zone (an IANA name the caller has checked).
pub async fn set_time_zone(tx: &mut crate::db::TenantTx, zone: &str) -> DbResult<()> {
    let tenant = tx.tenant_id().to_string();
    sqlx::query("UPDATE tenants SET time_zone = $2, updated_at = $3 WHERE id = $1")
        .bind(&tenant)
        .bind(zone)
        .bind(now_ms())
        .execute(tx.conn())
        .await?;
    crate::auth::cache::changed(tx, crate::auth::cache::Change::Tenant).await
}
