//! The invitation flow shared by staff (`/admin/users`) and client admins (`/portal/team`):
//! validation, the plan's per-company seat cap (checked atomically), the token, the email and
//! the audit entry; also resending and revoking.

use serde_json::json;

use super::{NewUser, User, UserStatus, normalize_email, valid_email};
use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::auth::tokens::{self, Purpose};
use crate::auth::{Actor, Role, UserId};
use crate::companies::Company;
use crate::db::{DbError, Row, TenantTx, now_ms};
use crate::error::{AppError, AppResult, FieldError};
use crate::i18n::{Arg, Translator, for_recipient, k};
use crate::jobs::JobKind;
use crate::tenancy::{Tenant, TenantScope};

/// A person to invite, after the caller has chosen role and company.
pub struct Invitee<'a> {
    /// Email as typed.
    pub email: &'a str,
    /// Name as typed.
    pub name: &'a str,
    /// Role.
    pub role: Role,
    /// Company, for client roles.
    pub company: Option<&'a Company>,
}

/// Checks email and name; returns the normalised pair or the field errors found so far.
pub fn check_person(email: &str, name: &str, errs: &mut Vec<FieldError>) -> (String, String) {
    let email = normalize_email(email);
    if !crate::text::clean(&email, crate::text::Lines::Single) || !valid_email(&email) {
        errs.push(FieldError {
            field: "email".into(),
            message: "Enter an email address such as name@example.com.".into(),
        });
    }
    let name = match crate::text::single_line("name", name, crate::text::NAME_MAX) {
        Ok(n) if !n.is_empty() => n,
        Ok(_) => {
            errs.push(FieldError {
                field: "name".into(),
                message: "Enter a name (at most 120 characters).".into(),
            });
            String::new()
        }
        Err(e) => {
            errs.push(e);
            name.trim().to_string()
        }
    };
    (email, name)
}

/// Refusal when a company has no free seat on the tenant's plan.
fn cap_error(plan: &str, limit: i64) -> AppError {
    AppError::Unprocessable(format!(
        "The {plan} plan allows {limit} users per company (active and invited together). \
         Revoke an invitation or deactivate someone first, or ask your provider about a larger plan."
    ))
}

/// Inside `tx`, locks the company row and checks that one more active or invited user fits
/// the plan. Touching the row first serialises concurrent invitations for the same company
/// (a row lock on PostgreSQL, the write lock on SQLite), so two cannot both take the last seat.
pub async fn reserve_seat(
    conn: &mut sqlx::AnyConnection,
    scope: &TenantScope,
    company_id: &str,
) -> AppResult<()> {
    let locked = sqlx::query(
        "UPDATE companies SET updated_at = $3 WHERE tenant_id = $1 AND id = $2 RETURNING id",
    )
    .bind(scope.tenant_id().as_str())
    .bind(company_id)
    .bind(now_ms())
    .fetch_optional(&mut *conn)
    .await?;
    if locked.is_none() {
        return Err(AppError::NotFound);
    }
    let row = sqlx::query(
        "SELECT p.name AS plan, p.max_client_users_per_company AS max_users, \
         (SELECT COUNT(*) FROM memberships mm JOIN users u ON u.tenant_id = mm.tenant_id \
          AND u.id = mm.user_id WHERE mm.tenant_id = $1 AND mm.company_id = $2 \
          AND u.status IN ('active', 'invited')) \
         + (SELECT COUNT(*) FROM masked_invitations m WHERE m.tenant_id = $1 \
          AND m.company_id = $2) AS used \
         FROM tenants t JOIN plans p ON p.name = t.plan WHERE t.id = $1",
    )
    .bind(scope.tenant_id().as_str())
    .bind(company_id)
    .fetch_one(&mut *conn)
    .await?;
    let max: Option<i64> = row.try_get("max_users")?;
    let used: i64 = row.try_get("used")?;
    if let Some(max) = max
        && used >= max
    {
        let plan: String = row.try_get("plan")?;
        return Err(cap_error(&plan, max));
    }
    Ok(())
}

/// Creates the invited user (within the plan's cap), emails the link and audits it.
pub async fn invite(
    app: &AppState,
    tenant: &Tenant,
    actor: &Actor,
    inviter: &str,
    ip: &str,
    who: &Invitee<'_>,
) -> AppResult<User> {
    let company_id = who.company.map(|c| c.id.as_str());
    let mut tx = app.db.tenant(actor.scope()).begin().await?;
    if let Some(c) = company_id {
        reserve_seat(tx.conn(), actor.scope(), c).await?;
    }
    let id = super::insert(
        tx.conn(),
        actor.scope(),
        &NewUser {
            email: who.email,
            name: who.name,
            role: who.role,
            company_id,
            status: UserStatus::Invited,
            password_hash: None,
        },
    )
    .await
    .map_err(|e| match e {
        DbError::Conflict(_) => AppError::field(
            "email",
            "Someone with that email already has an account here.",
        ),
        other => other.into(),
    })?;
    send(
        &mut tx,
        app,
        tenant,
        inviter,
        (&id, who.email, who.name),
        who.company,
    )
    .await?;
    audit::append(
        &mut tx,
        Entry {
            ip: Some(ip),
            company_id,
            detail: json!({ "email": who.email, "role": who.role.key() }),
            ..Entry::new("user.invited")
                .by(actor)
                .target("user", id.as_str())
        },
    )
    .await?;
    tx.commit().await?;
    super::get(&app.db, actor.scope(), id.as_str())
        .await?
        .ok_or(AppError::NotFound)
}

/// Issues a fresh token (retiring the old one) and queues the invitation email, inside the
/// action's transaction.
async fn send(
    tx: &mut TenantTx,
    app: &AppState,
    tenant: &Tenant,
    inviter: &str,
    (id, email, name): (&UserId, &str, &str),
    company: Option<&Company>,
) -> AppResult<()> {
    let token = tokens::issue(tx, id, Purpose::Invite).await?;
    let link = format!(
        "{}/invite/accept?tenant={}&token={token}",
        app.config.base_url, tenant.slug
    );
    // An invitee has not chosen a language yet: the tenant's default decides.
    let t = Translator::new(for_recipient(None, Some(&tenant.default_locale)));
    let portal = ("portal", Arg::Str(tenant.branding.portal_name.clone()));
    let by = ("inviter", Arg::Str(inviter.to_string()));
    let intro = match company {
        Some(c) => t.args(
            k("email-invite-intro-company"),
            &[by, portal, ("company", Arg::Str(c.name.clone()))],
        ),
        None => t.args("email-invite-intro", &[by, portal]),
    };
    // Queued, so the request never waits for SMTP; the worker retries failures.
    crate::jobs::EmailJob {
        to: email.to_string(),
        subject: t.get("email-invite-subject"),
        lines: vec![
            t.arg("email-hello", "name", name),
            intro,
            t.get("email-invite-body"),
        ],
        action_url: Some(link),
        action_label: Some(t.get("email-invite-action")),
        lang: Some(t.lang().into()),
        reply_to: None,
    }
    .enqueue(tx)
    .await?;
    Ok(())
}

/// Sends a still-pending invitation again with a new link; the old link stops working.
pub async fn resend(
    app: &AppState,
    tenant: &Tenant,
    actor: &Actor,
    inviter: &str,
    ip: &str,
    user: &User,
    company: Option<&Company>,
) -> AppResult<()> {
    if user.status != UserStatus::Invited {
        return Err(AppError::Unprocessable(
            "Only pending invitations can be sent again; this person has already joined or was deactivated."
                .into(),
        ));
    }
    let mut tx = app.db.tenant(actor.scope()).begin().await?;
    send(
        &mut tx,
        app,
        tenant,
        inviter,
        (&user.id, &user.email, &user.name),
        company,
    )
    .await?;
    audit::append(
        &mut tx,
        Entry {
            ip: Some(ip),
            company_id: user.company_id.as_ref().map(|c| c.as_str()),
            detail: json!({ "email": user.email }),
            ..Entry::new("user.invitation_resent")
                .by(actor)
                .target("user", user.id.as_str())
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Withdraws a pending invitation: the link stops working and the account is deleted (or,
/// if something already refers to it, deactivated).
pub async fn revoke(app: &AppState, actor: &Actor, ip: &str, user: &User) -> AppResult<()> {
    if user.status != UserStatus::Invited {
        return Err(AppError::Unprocessable(
            "Only pending invitations can be revoked; deactivate members who have joined.".into(),
        ));
    }
    let scope = actor.scope();
    let now = now_ms();
    let mut tx = app.db.tenant(scope).begin().await?;
    sqlx::query(
        "UPDATE one_time_tokens SET used_at = $3 WHERE tenant_id = $1 AND user_id = $2 AND used_at IS NULL",
    )
    .bind(scope.tenant_id().as_str())
    .bind(user.id.as_str())
    .bind(now)
    .execute(tx.conn())
    .await?;
    // Delete in a savepoint: if something already refers to the account, only the savepoint
    // rolls back and the account is deactivated instead, still in this one transaction.
    let deleted = async {
        let mut sp = sqlx::Connection::begin(tx.conn()).await?;
        for sql in [
            "DELETE FROM one_time_tokens WHERE tenant_id = $1 AND user_id = $2",
            "DELETE FROM notification_prefs WHERE tenant_id = $1 AND user_id = $2",
            "DELETE FROM memberships WHERE tenant_id = $1 AND user_id = $2",
            "DELETE FROM users WHERE tenant_id = $1 AND id = $2 AND status = 'invited'",
        ] {
            sqlx::query(sql)
                .bind(scope.tenant_id().as_str())
                .bind(user.id.as_str())
                .execute(&mut *sp)
                .await?;
        }
        sp.commit().await
    }
    .await;
    // Deleted or deactivated below, either way the account's principals go.
    crate::auth::cache::changed(&mut tx, crate::auth::cache::Change::user(&user.id)).await?;
    let removed = match deleted {
        Ok(()) => true,
        Err(e) => {
            tracing::info!(error = %e, "invited user is referenced; deactivating instead");
            sqlx::query(
                "UPDATE users SET status = 'deactivated', updated_at = $3 WHERE tenant_id = $1 AND id = $2",
            )
            .bind(scope.tenant_id().as_str())
            .bind(user.id.as_str())
            .bind(now)
            .execute(tx.conn())
            .await?;
            false
        }
    };
    audit::append(
        &mut tx,
        Entry {
            ip: Some(ip),
            company_id: user.company_id.as_ref().map(|c| c.as_str()),
            detail: json!({ "email": user.email, "deleted": removed }),
            ..Entry::new("user.invitation_revoked")
                .by(actor)
                .target("user", user.id.as_str())
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
