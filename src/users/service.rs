//! Role and status changes, shared by staff (`/admin/users`) and company admins
//! (`/portal/team`): one service per action, with the rules that differ as a [`Policy`].
//!
//! Every change is one transaction: the checks that guard an invariant ("at least one active
//! admin") run inside it after taking a lock, so two admins demoting each other at the same
//! moment can never both succeed.

use serde_json::json;

use super::{User, UserStatus};
use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::auth::{Actor, Role, UserKind};
use crate::db::{Row, TenantTx, now_ms};
use crate::error::{AppError, AppResult};

/// Who is making the change, and so which rules apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    /// Tenant staff with `ManageUsers`: any user of the tenant, within the user's kind.
    Staff,
    /// A company admin with `ManageTeam`: members of the own company, client roles only.
    Company,
}

impl Policy {
    fn parse_role(self, user: &User, key: &str) -> AppResult<Role> {
        match self {
            Policy::Staff => Role::from_key(key)
                .filter(|r| r.kind() == user.role.kind())
                .ok_or_else(|| {
                    AppError::field(
                        "role",
                        "Choose a role of the same kind (staff, client or member).",
                    )
                }),
            Policy::Company => Role::from_key(key)
                .filter(|r| crate::team::TEAM_ROLES.contains(r))
                .ok_or_else(|| AppError::field("role", "Choose company admin, user or viewer.")),
        }
    }

    fn own_role_error(self) -> Option<&'static str> {
        match self {
            Policy::Staff => Some("You cannot change your own role; ask another admin."),
            // Stepping down is fine while another active company admin remains.
            Policy::Company => None,
        }
    }

    fn self_deactivate_error(self) -> &'static str {
        match self {
            Policy::Staff => "You cannot deactivate yourself.",
            Policy::Company => "You cannot deactivate yourself; ask another company admin.",
        }
    }

    /// The admins whose number must not drop to zero when `user` loses admin rights.
    fn guarded(self, user: &User) -> Option<Guard<'_>> {
        match (self, user.role) {
            (_, Role::StaffAdmin) => Some(Guard::Staff),
            (Policy::Company, Role::ClientAdmin) => {
                user.company_id.as_ref().map(|c| Guard::Company(c.as_str()))
            }
            _ => None,
        }
    }
}

enum Guard<'a> {
    Staff,
    Company(&'a str),
}

/// A change to a user: every field is checked before any is written.
#[derive(Clone, Copy, Debug, Default)]
pub struct Update<'a> {
    /// New role key (`client_admin`, `staff_technician`, …).
    pub role: Option<&'a str>,
    /// Activate (`true`) or deactivate (`false`).
    pub active: Option<bool>,
}

/// Applies `u` to `user` under `policy`, as one transaction with its audit rows; sessions end
/// when the role changes or the user is deactivated, so new permissions apply at once.
pub async fn update(
    app: &AppState,
    actor: &Actor,
    ip: &str,
    policy: Policy,
    user: &User,
    u: Update<'_>,
) -> AppResult<()> {
    let is_self = user.id == *actor.user_id();
    let role = match u.role {
        None => None,
        Some(key) => Some(policy.parse_role(user, key)?).filter(|r| *r != user.role),
    };
    if role.is_some()
        && is_self
        && let Some(msg) = policy.own_role_error()
    {
        return Err(AppError::Unprocessable(msg.into()));
    }
    let status = match (u.active, user.status) {
        (Some(false), UserStatus::Deactivated) | (None, _) => None,
        (Some(false), _) => {
            if is_self {
                return Err(AppError::Unprocessable(
                    policy.self_deactivate_error().into(),
                ));
            }
            Some(UserStatus::Deactivated)
        }
        (Some(true), UserStatus::Deactivated) => {
            let rec = super::find_for_login(&app.db, actor.scope(), &user.email).await?;
            Some(if rec.is_some_and(|r| r.password_hash.is_some()) {
                UserStatus::Active
            } else {
                UserStatus::Invited
            })
        }
        (Some(true), _) => None,
    };
    if role.is_none() && status.is_none() {
        return Ok(());
    }
    let mut tx = app.db.tenant(actor.scope()).begin().await?;
    let loses_admin = user.status == UserStatus::Active
        && (status == Some(UserStatus::Deactivated) || role.is_some());
    if loses_admin && let Some(guard) = policy.guarded(user) {
        guard_last_admin(&mut tx, guard).await?;
    }
    let tenant = tx.tenant_id().to_string();
    let company = user.company_id.as_ref().map(|c| c.as_str());
    // Role and status are both carried by the user's principals.
    crate::auth::cache::changed(&mut tx, crate::auth::cache::Change::user(&user.id)).await?;
    if let Some(r) = role {
        sqlx::query("UPDATE users SET role = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2")
            .bind(&tenant)
            .bind(user.id.as_str())
            .bind(r.stored_role())
            .bind(now_ms())
            .execute(tx.conn())
            .await?;
        if let Some(c) = company
            && r.kind() == UserKind::Client
        {
            super::memberships::sync_home(tx.conn(), &tenant, user.id.as_str(), c, r).await?;
        }
        audit::append(
            &mut tx,
            Entry {
                ip: Some(ip),
                company_id: company,
                detail: json!({ "from": user.role.key(), "to": r.key() }),
                ..Entry::new("user.role_changed")
                    .by(actor)
                    .target("user", user.id.as_str())
            },
        )
        .await?;
    }
    if let Some(s) = status {
        if let Some(c) = company
            && s != UserStatus::Deactivated
        {
            // Coming back takes a seat of the plan, atomically with the change.
            super::invitations::reserve_seat(tx.conn(), actor.scope(), c).await?;
        }
        sqlx::query(
            "UPDATE users SET status = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2",
        )
        .bind(&tenant)
        .bind(user.id.as_str())
        .bind(s.as_str())
        .bind(now_ms())
        .execute(tx.conn())
        .await?;
        if s == UserStatus::Deactivated {
            // A pending invitation link must die with the account it would open.
            sqlx::query(
                "UPDATE one_time_tokens SET used_at = $3 WHERE tenant_id = $1 AND user_id = $2 AND used_at IS NULL",
            )
            .bind(&tenant)
            .bind(user.id.as_str())
            .bind(now_ms())
            .execute(tx.conn())
            .await?;
        }
        audit::append(
            &mut tx,
            Entry {
                ip: Some(ip),
                company_id: company,
                ..Entry::new(if s == UserStatus::Deactivated {
                    "user.deactivated"
                } else {
                    "user.activated"
                })
                .by(actor)
                .target("user", user.id.as_str())
            },
        )
        .await?;
    }
    if role.is_some() || status == Some(UserStatus::Deactivated) {
        crate::auth::sessions::end_all_for_user_in(&mut tx, &user.id, None).await?;
    }
    if status == Some(UserStatus::Active) {
        // Policies that take later members of the company ask for this user's signature now.
        crate::documents::service::enroll_in(app, &mut tx, user.id.as_str()).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Refuses the change when it would leave no active admin of the guarded group. Runs inside
/// the action's transaction after locking the group's parent row (tenant or company), so
/// concurrent changes to the same group are checked one after another.
async fn guard_last_admin(tx: &mut TenantTx, guard: Guard<'_>) -> AppResult<()> {
    let tenant = tx.tenant_id().to_string();
    let (lock, count, message, company) = match guard {
        Guard::Staff => (
            "UPDATE tenants SET updated_at = updated_at WHERE id = $1 AND $2 = ''",
            "SELECT COUNT(*) AS n FROM users WHERE tenant_id = $1 AND $2 = '' AND kind = 'staff' \
             AND role = 'admin' AND status = 'active'",
            "The organisation must keep at least one active staff admin.",
            "",
        ),
        Guard::Company(c) => (
            "UPDATE companies SET updated_at = updated_at WHERE tenant_id = $1 AND id = $2",
            "SELECT COUNT(*) AS n FROM memberships m JOIN users u ON u.tenant_id = m.tenant_id \
             AND u.id = m.user_id WHERE m.tenant_id = $1 AND m.company_id = $2 AND u.kind = 'client' \
             AND m.role = 'admin' AND u.status = 'active'",
            "Your company must keep at least one active company admin. Make someone else an admin first.",
            c,
        ),
    };
    // On SQLite the single writer already serialises write transactions; on PostgreSQL the
    // row lock taken here makes a concurrent change wait, and the count that follows (a new
    // snapshot under READ COMMITTED) sees what it committed.
    sqlx::query(lock)
        .bind(&tenant)
        .bind(company)
        .execute(tx.conn())
        .await?;
    let n: i64 = sqlx::query(count)
        .bind(&tenant)
        .bind(company)
        .fetch_one(tx.conn())
        .await?
        .try_get("n")?;
    if n <= 1 {
        return Err(AppError::Unprocessable(message.into()));
    }
    Ok(())
}

/// Refuses a change that would leave `company` without an active company admin (counting
/// memberships), inside the caller's transaction and under the company's row lock.
pub(crate) async fn guard_company_admin(tx: &mut TenantTx, company: &str) -> AppResult<()> {
    guard_last_admin(tx, Guard::Company(company)).await
}

/// True when `user` is a kind the policy may touch at all (used by callers' lookups).
pub fn reachable(policy: Policy, actor: &Actor, user: &User) -> bool {
    match policy {
        Policy::Staff => true,
        Policy::Company => {
            user.role.kind() == UserKind::Client
                && user.company_id.is_some()
                && user.company_id.as_ref() == actor.company_id()
        }
    }
}
