//! People in several companies: a client person holds one membership per company of the
//! tenant, each with its own role. `users.company_id`/`role` stay the home membership (its row
//! here is kept in step); the session's active company picks the membership that the
//! principal's company, role and permissions come from (`auth::sessions::lookup`).

use serde::Serialize;
use serde_json::json;

use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::auth::cache::{self, Change};
use crate::auth::{Actor, Permission, Principal, Role, UserId, UserKind, sessions};
use crate::companies::{Company, CompanyId};
use crate::db::{Db, DbError, DbResult, Row, TenantTx, now_ms};
use crate::error::{AppError, AppResult};
use crate::tenancy::TenantScope;

/// One company a person belongs to.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Membership {
    /// Company id.
    pub company_id: CompanyId,
    /// Company name.
    pub company_name: String,
    /// The person's role in that company.
    pub role: Role,
    /// The company the person's session is in now.
    pub active: bool,
    /// The person's home company (where a new session starts).
    pub home: bool,
}

/// Writes the home membership of `user` (after creating the user or changing the home role).
pub async fn sync_home(
    conn: &mut sqlx::AnyConnection,
    tenant: &str,
    user: &str,
    company: &str,
    role: Role,
) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO memberships (tenant_id, user_id, company_id, role, created_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, user_id, company_id) \
         DO UPDATE SET role = excluded.role",
    )
    .bind(tenant)
    .bind(user)
    .bind(company)
    .bind(role.stored_role())
    .bind(now_ms())
    .execute(conn)
    .await?;
    Ok(())
}

/// The active companies `user` belongs to, by name; `active` marks `active_company`.
pub async fn of_user(
    db: &Db,
    scope: &TenantScope,
    user: &UserId,
    active_company: Option<&CompanyId>,
) -> DbResult<Vec<Membership>> {
    let rows = sqlx::query(
        "SELECT m.company_id, c.name AS company_name, m.role, u.company_id AS home_company \
         FROM memberships m JOIN companies c ON c.tenant_id = m.tenant_id AND c.id = m.company_id \
         JOIN users u ON u.tenant_id = m.tenant_id AND u.id = m.user_id \
         WHERE m.tenant_id = $1 AND m.user_id = $2 AND c.status = 'active' \
         ORDER BY c.name, m.company_id",
    )
    .bind(scope.tenant_id().as_str())
    .bind(user.as_str())
    .fetch_all(db.tenant(scope).reader())
    .await?;
    rows.iter()
        .map(|r| {
            let company: String = r.try_get("company_id")?;
            let role: String = r.try_get("role")?;
            let home: Option<String> = r.try_get("home_company")?;
            Ok(Membership {
                active: active_company.is_some_and(|a| a.as_str() == company),
                home: home.as_deref() == Some(company.as_str()),
                company_name: r.try_get("company_name")?,
                role: Role::from_stored("client", &role).unwrap_or(Role::ClientViewer),
                company_id: CompanyId(company),
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(DbError::from)
}

/// Moves the signed-in person's session into another of their companies, audited in that
/// company. A company that is not one of theirs (another tenant's, or forged) is a 404.
pub async fn switch(app: &AppState, p: &Principal, ip: &str, company: &str) -> AppResult<()> {
    let actor = p.require(Permission::PortalAccess)?;
    if p.role.kind() != UserKind::Client {
        return Err(AppError::NotFound);
    }
    let target = CompanyId(company.to_string());
    let mut tx = app.db.tenant(actor.scope()).begin().await?;
    if !sessions::switch_company(&mut tx, &p.session_hash, &p.user_id, &target).await? {
        return Err(AppError::NotFound);
    }
    // The cached principal of this session carries the old company and role (on every node).
    cache::changed(&mut tx, Change::Session(p.session_hash.clone())).await?;
    let from = p.company_id.as_ref().map(|c| c.as_str()).unwrap_or("");
    audit::append(
        &mut tx,
        Entry {
            ip: Some(ip),
            company_id: Some(target.as_str()),
            detail: json!({ "from": from, "to": target.as_str() }),
            ..Entry::new("membership.switched")
                .by(&actor)
                .target("company", target.as_str())
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Adds `user` (a client person of the tenant) to `company` with `role`, within the plan's
/// seats; a person already there is a conflict.
pub async fn add(
    app: &AppState,
    actor: &Actor,
    ip: &str,
    company: &Company,
    user: &UserId,
    role: Role,
) -> AppResult<()> {
    if role.kind() != UserKind::Client {
        return Err(AppError::field(
            "role",
            "Choose company admin, user or viewer.",
        ));
    }
    let mut tx = app.db.tenant(actor.scope()).begin().await?;
    super::invitations::reserve_seat(tx.conn(), actor.scope(), company.id.as_str()).await?;
    let tenant = tx.tenant_id().to_string();
    let r = sqlx::query(
        "INSERT INTO memberships (tenant_id, user_id, company_id, role, created_at) \
         SELECT tenant_id, id, $3, $4, $5 FROM users WHERE tenant_id = $1 AND id = $2 AND kind = 'client'",
    )
    .bind(&tenant)
    .bind(user.as_str())
    .bind(company.id.as_str())
    .bind(role.stored_role())
    .bind(now_ms())
    .execute(tx.conn())
    .await
    .map_err(DbError::from);
    match r {
        Ok(done) if done.rows_affected() == 1 => {}
        Ok(_) => return Err(AppError::NotFound),
        Err(DbError::Conflict(_)) => {
            return Err(AppError::field(
                "email",
                "That person is already a member of this company.",
            ));
        }
        Err(e) => return Err(e.into()),
    }
    // The person's principals carry their membership count (the header's switcher).
    record(
        &mut tx,
        actor,
        ip,
        "membership.added",
        company.id.as_str(),
        user,
        json!({ "role": role.key() }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Takes `user` out of `company`. The last membership of a person is never removed this way,
/// and the company must keep an active admin (checked under the company's row lock). When the
/// home company goes, the oldest remaining membership becomes home; sessions in the company
/// fall back to home.
pub async fn remove(
    app: &AppState,
    actor: &Actor,
    ip: &str,
    company: &CompanyId,
    user: &UserId,
) -> AppResult<()> {
    let mut tx = app.db.tenant(actor.scope()).begin().await?;
    let tenant = tx.tenant_id().to_string();
    // Serialises changes to this person's memberships (the last one must stay).
    let person = sqlx::query(
        "UPDATE users SET updated_at = updated_at WHERE tenant_id = $1 AND id = $2 \
         RETURNING company_id, status",
    )
    .bind(&tenant)
    .bind(user.as_str())
    .fetch_optional(tx.conn())
    .await?
    .ok_or(AppError::NotFound)?;
    let home: Option<String> = person.try_get("company_id")?;
    let status: String = person.try_get("status")?;
    let row = sqlx::query(
        "SELECT role, (SELECT COUNT(*) FROM memberships a WHERE a.tenant_id = $1 AND a.user_id = $2) AS n \
         FROM memberships WHERE tenant_id = $1 AND user_id = $2 AND company_id = $3",
    )
    .bind(&tenant)
    .bind(user.as_str())
    .bind(company.as_str())
    .fetch_optional(tx.conn())
    .await?
    .ok_or(AppError::NotFound)?;
    let role: String = row.try_get("role")?;
    let n: i64 = row.try_get("n")?;
    if n <= 1 {
        return Err(AppError::Unprocessable(
            "This is the person's only company. Deactivate the account instead.".into(),
        ));
    }
    if role == "admin" && status == "active" {
        super::service::guard_company_admin(&mut tx, company.as_str()).await?;
    }
    sqlx::query(
        "DELETE FROM memberships WHERE tenant_id = $1 AND user_id = $2 AND company_id = $3",
    )
    .bind(&tenant)
    .bind(user.as_str())
    .bind(company.as_str())
    .execute(tx.conn())
    .await?;
    if home.as_deref() == Some(company.as_str()) {
        sqlx::query(
            "UPDATE users SET (company_id, role) = (SELECT m.company_id, m.role FROM memberships m \
             WHERE m.tenant_id = $1 AND m.user_id = $2 ORDER BY m.created_at, m.company_id LIMIT 1), \
             updated_at = $3 WHERE tenant_id = $1 AND id = $2",
        )
        .bind(&tenant)
        .bind(user.as_str())
        .bind(now_ms())
        .execute(tx.conn())
        .await?;
    }
    sqlx::query(
        "UPDATE sessions SET company_id = NULL WHERE tenant_id = $1 AND user_id = $2 AND company_id = $3",
    )
    .bind(&tenant)
    .bind(user.as_str())
    .bind(company.as_str())
    .execute(tx.conn())
    .await?;
    // Sessions in the company fall back home, and every principal's count (or home) changed.
    record(
        &mut tx,
        actor,
        ip,
        "membership.removed",
        company.as_str(),
        user,
        json!({ "role": role }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The role `user` holds in `company` by membership, if any.
pub async fn role_in(
    db: &Db,
    scope: &TenantScope,
    user: &UserId,
    company: &CompanyId,
) -> DbResult<Option<(Role, i64)>> {
    let row = sqlx::query(
        "SELECT role, (SELECT COUNT(*) FROM memberships a WHERE a.tenant_id = $1 AND a.user_id = $2) AS n \
         FROM memberships WHERE tenant_id = $1 AND user_id = $2 AND company_id = $3",
    )
    .bind(scope.tenant_id().as_str())
    .bind(user.as_str())
    .bind(company.as_str())
    .fetch_optional(db.tenant(scope).reader())
    .await?;
    let Some(row) = row else { return Ok(None) };
    let role: String = row.try_get("role")?;
    let n: i64 = row.try_get("n")?;
    Ok(Role::from_stored("client", &role).map(|r| (r, n)))
}

/// Changes the role `user` holds in `company` (not their home company: that goes through
/// `users::service::update`, which keeps the home row in step). Demoting the company's last
/// active admin is refused under the company's row lock.
pub async fn set_role(
    app: &AppState,
    actor: &Actor,
    ip: &str,
    company: &CompanyId,
    user: &UserId,
    role: Role,
) -> AppResult<()> {
    if role.kind() != UserKind::Client {
        return Err(AppError::field(
            "role",
            "Choose company admin, user or viewer.",
        ));
    }
    let mut tx = app.db.tenant(actor.scope()).begin().await?;
    let tenant = tx.tenant_id().to_string();
    let old: String = sqlx::query(
        "SELECT role FROM memberships WHERE tenant_id = $1 AND user_id = $2 AND company_id = $3",
    )
    .bind(&tenant)
    .bind(user.as_str())
    .bind(company.as_str())
    .fetch_optional(tx.conn())
    .await?
    .ok_or(AppError::NotFound)?
    .try_get("role")?;
    sqlx::query(
        "UPDATE memberships SET role = $4 WHERE tenant_id = $1 AND user_id = $2 AND company_id = $3",
    )
    .bind(&tenant)
    .bind(user.as_str())
    .bind(company.as_str())
    .bind(role.stored_role())
    .execute(tx.conn())
    .await?;
    if old == "admin" && role != Role::ClientAdmin {
        // Counts after the update, so a concurrent demotion of the other admin waits and fails.
        super::service::guard_company_admin(&mut tx, company.as_str()).await?;
    }
    // Sessions in this company carry the old role in their cached principal.
    record(
        &mut tx,
        actor,
        ip,
        "membership.role_changed",
        company.as_str(),
        user,
        json!({ "from": old, "to": role.stored_role() }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Whether `user` already holds a membership in `company`.
pub async fn is_member(
    db: &Db,
    scope: &TenantScope,
    user: &UserId,
    company: &CompanyId,
) -> DbResult<bool> {
    Ok(role_in(db, scope, user, company).await?.is_some())
}

/// In the caller's transaction: drops `user`'s cached principals on every node (their
/// membership count, role or home changed) and audits `action` in `company`.
async fn record(
    tx: &mut TenantTx,
    actor: &Actor,
    ip: &str,
    action: &'static str,
    company: &str,
    user: &UserId,
    detail: serde_json::Value,
) -> AppResult<()> {
    cache::changed(tx, Change::user(user)).await?;
    audit::append(
        tx,
        Entry {
            ip: Some(ip),
            company_id: Some(company),
            detail,
            ..Entry::new(action).by(actor).target("user", user.as_str())
        },
    )
    .await?;
    Ok(())
}

/// A company admin's invitation waiting for the signed-in person (a masked invitation to
/// their address, see `team::masked`).
#[derive(Clone, Debug)]
pub struct Offer {
    /// The masked invitation's id.
    pub id: String,
    /// The inviting company's name.
    pub company_name: String,
    /// The role offered.
    pub role: Role,
}

/// Mails `person` (an active client account) that `company` invites them, inside the
/// invitation's transaction. The link leads to "Your companies", where they accept.
pub async fn offer(
    tx: &mut crate::db::TenantTx,
    app: &AppState,
    tenant: &crate::tenancy::Tenant,
    inviter: &str,
    person: &super::LoginRecord,
    company: &Company,
) -> AppResult<()> {
    use crate::i18n::{Arg, Translator, for_recipient};
    use crate::jobs::JobKind;
    let t = Translator::new(for_recipient(
        person.language.as_deref(),
        Some(&tenant.default_locale),
    ));
    let company_name = ("company", Arg::Str(company.name.clone()));
    crate::jobs::EmailJob {
        to: person.user.email.clone(),
        subject: t.args(
            "email-membership-subject",
            std::slice::from_ref(&company_name),
        ),
        lines: vec![
            t.arg("email-hello", "name", &person.user.name),
            t.args(
                "email-membership-intro",
                &[
                    ("inviter", Arg::Str(inviter.to_string())),
                    ("portal", Arg::Str(tenant.branding.portal_name.clone())),
                    company_name,
                ],
            ),
            t.get("email-membership-body"),
        ],
        action_url: Some(format!("{}/portal/companies", app.config.base_url)),
        action_label: Some(t.get("email-membership-action")),
        lang: Some(t.lang().into()),
        reply_to: None,
    }
    .enqueue(tx)
    .await?;
    Ok(())
}

/// The invitations waiting for the person with `email`, by company name.
pub async fn offers(db: &Db, scope: &TenantScope, email: &str) -> DbResult<Vec<Offer>> {
    let rows = sqlx::query(
        "SELECT m.id, c.name AS company_name, m.role FROM masked_invitations m \
         JOIN companies c ON c.tenant_id = m.tenant_id AND c.id = m.company_id \
         WHERE m.tenant_id = $1 AND m.email = $2 AND c.status = 'active' ORDER BY c.name, m.id",
    )
    .bind(scope.tenant_id().as_str())
    .bind(email)
    .fetch_all(db.tenant(scope).reader())
    .await?;
    rows.iter()
        .map(|r| {
            let role: String = r.try_get("role")?;
            Ok(Offer {
                id: r.try_get("id")?,
                company_name: r.try_get("company_name")?,
                role: Role::from_key(&role).unwrap_or(Role::ClientViewer),
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(DbError::from)
}

/// The signed-in person accepts invitation `id` (addressed to their email): it becomes a
/// membership with the offered role, in one transaction. The seat it held passes to the
/// membership. Anyone else's invitation, or a forged id, is a 404.
pub async fn accept(app: &AppState, p: &Principal, ip: &str, id: &str) -> AppResult<()> {
    let actor = p.require(Permission::PortalAccess)?;
    if p.role.kind() != UserKind::Client {
        return Err(AppError::NotFound);
    }
    let mut tx = app.db.tenant(actor.scope()).begin().await?;
    let tenant = tx.tenant_id().to_string();
    let row = sqlx::query(
        "DELETE FROM masked_invitations WHERE tenant_id = $1 AND id = $2 AND email = $3 \
         RETURNING company_id, role",
    )
    .bind(&tenant)
    .bind(id)
    .bind(&p.email)
    .fetch_optional(tx.conn())
    .await?
    .ok_or(AppError::NotFound)?;
    let company: String = row.try_get("company_id")?;
    let role_key: String = row.try_get("role")?;
    let role = Role::from_key(&role_key)
        .filter(|r| r.kind() == UserKind::Client)
        .ok_or(AppError::NotFound)?;
    let added = sqlx::query(
        "INSERT INTO memberships (tenant_id, user_id, company_id, role, created_at) \
         SELECT c.tenant_id, $2, c.id, $4, $5 FROM companies c \
         WHERE c.tenant_id = $1 AND c.id = $3 AND c.status = 'active' \
         ON CONFLICT (tenant_id, user_id, company_id) DO NOTHING",
    )
    .bind(&tenant)
    .bind(p.user_id.as_str())
    .bind(&company)
    .bind(role.stored_role())
    .bind(now_ms())
    .execute(tx.conn())
    .await?;
    if added.rows_affected() == 0 {
        // A deactivated company, or a membership made meanwhile: nothing to accept.
        return Err(AppError::NotFound);
    }
    record(
        &mut tx,
        &actor,
        ip,
        "membership.accepted",
        company.as_str(),
        &p.user_id,
        json!({ "role": role.key() }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
