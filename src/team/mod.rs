//! Team management for client company admins: members of the own company, invitations
//! (shared with staff through `users::invitations`), roles, deactivation.

pub mod masked;
pub mod routes;

use crate::app::AppState;

use serde_json::json;

use crate::audit::{self, Entry};
use crate::auth::{Actor, Principal, Role, UserKind};
use crate::companies::{self, Company};
use crate::db::Row;
use crate::error::{AppError, AppResult, FieldError};
use crate::users::service::{Policy, Update};
use crate::users::{self, User, UserStatus, invitations};

/// Roles a company admin may hand out.
pub const TEAM_ROLES: [Role; 3] = [Role::ClientAdmin, Role::ClientUser, Role::ClientViewer];

/// The admin's own company (active), or 404 for principals without one.
pub async fn own_company(app: &AppState, actor: &Actor) -> AppResult<Company> {
    let id = actor.company_id().ok_or(AppError::NotFound)?;
    companies::get(&app.db, actor.scope(), id.as_str())
        .await?
        .ok_or(AppError::NotFound)
}

/// Members of the company ordered by email, after `cursor`.
pub async fn members(
    app: &AppState,
    actor: &Actor,
    cursor: Option<&str>,
    limit: i64,
) -> AppResult<Vec<User>> {
    let company = actor.company_id().ok_or(AppError::NotFound)?;
    let mut all = users::list(
        &app.db,
        actor.scope(),
        Some(company.as_str()),
        cursor,
        limit,
    )
    .await?;
    // Masked invitations sit among the members by email, as real ones would.
    all.extend(
        masked::list(&app.db, actor.scope(), company, cursor, limit)
            .await?
            .into_iter()
            .map(|(u, _)| u),
    );
    all.sort_by(|a, b| a.email.cmp(&b.email));
    all.truncate(usize::try_from(limit).unwrap_or(0));
    Ok(all)
}

/// A member of the actor's own company; anyone else (other company, other tenant, staff) is
/// a 404.
pub async fn member(app: &AppState, actor: &Actor, id: &str) -> AppResult<User> {
    Ok(lookup(app, actor, id).await?.0)
}

/// How a listed person belongs to the admin's company.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Belongs {
    /// Their home company; `elsewhere` when they also belong to other companies.
    Home { elsewhere: bool },
    /// A membership beside a home company elsewhere: the company admin manages the
    /// membership, never the account.
    Membership,
    /// A masked invitation (see `masked`).
    Masked,
}

/// A member (shown in their role in this company), and how they belong to it.
async fn lookup(app: &AppState, actor: &Actor, id: &str) -> AppResult<(User, Belongs)> {
    let company = actor.company_id().ok_or(AppError::NotFound)?;
    if let Some(mut user) = users::get(&app.db, actor.scope(), id).await?
        && user.role.kind() == UserKind::Client
        && let Some((role, n)) =
            users::memberships::role_in(&app.db, actor.scope(), &user.id, company).await?
    {
        if users::service::reachable(Policy::Company, actor, &user) {
            return Ok((user, Belongs::Home { elsewhere: n > 1 }));
        }
        user.role = role;
        return Ok((user, Belongs::Membership));
    }
    masked::get(&app.db, actor.scope(), company, id)
        .await?
        .map(|u| (u, Belongs::Masked))
        .ok_or(AppError::NotFound)
}

/// Audits an action on a masked invitation for staff only (no company on the row).
async fn audit_masked(
    tx: &mut crate::db::TenantTx,
    actor: &Actor,
    ip: &str,
    action: &'static str,
    user: &User,
) -> AppResult<()> {
    let mut entry = Entry::new(action)
        .by(actor)
        .target("masked_invitation", user.id.as_str())
        .detail(json!({ "email": user.email }));
    entry.company_id = None;
    entry.ip = Some(ip);
    audit::append(tx, entry).await?;
    Ok(())
}

/// When each pending invitation of the company stops working (user id → Unix ms); members
/// whose link has expired or was retired are absent.
pub async fn invitation_expiries(
    app: &AppState,
    actor: &Actor,
) -> AppResult<std::collections::HashMap<String, i64>> {
    let company = actor.company_id().ok_or(AppError::NotFound)?;
    let rows = sqlx::query(
        "SELECT t.user_id, CAST(MAX(t.expires_at) AS BIGINT) AS expires_at FROM one_time_tokens t \
         JOIN users u ON u.id = t.user_id AND u.tenant_id = t.tenant_id \
         WHERE t.tenant_id = $1 AND u.company_id = $2 AND u.status = 'invited' \
         AND t.purpose = 'invite' AND t.used_at IS NULL AND t.expires_at > $3 GROUP BY t.user_id",
    )
    .bind(actor.scope().tenant_id().as_str())
    .bind(company.as_str())
    .bind(crate::db::now_ms())
    .fetch_all(app.db.tenant(actor.scope()).reader())
    .await?;
    let mut out: std::collections::HashMap<String, i64> = rows
        .iter()
        .map(|r| Ok((r.try_get("user_id")?, r.try_get("expires_at")?)))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(AppError::from)?;
    out.extend(masked::expiries(&app.db, actor.scope(), company).await?);
    Ok(out)
}

fn team_role(key: &str) -> Option<Role> {
    Role::from_key(key).filter(|r| TEAM_ROLES.contains(r))
}

/// Invites someone into the actor's own company.
pub async fn invite(
    app: &AppState,
    p: &Principal,
    actor: &Actor,
    ip: &str,
    email: &str,
    name: &str,
    role: &str,
) -> AppResult<User> {
    let company = own_company(app, actor).await?;
    let mut errs = Vec::new();
    let (email, name) = invitations::check_person(email, name, &mut errs);
    let role = team_role(role);
    if role.is_none() {
        errs.push(FieldError {
            field: "role".into(),
            message: "Choose company admin, user or viewer.".into(),
        });
    }
    let Some(role) = role.filter(|_| errs.is_empty()) else {
        return Err(AppError::fields(errs));
    };
    if let Some(existing) = users::find_for_login(&app.db, actor.scope(), &email).await?
        && !users::memberships::is_member(&app.db, actor.scope(), &existing.user.id, &company.id)
            .await?
    {
        let who = Invited {
            email: &email,
            name: &name,
            role,
        };
        return unrevealed_invitation(app, p, actor, ip, &company, &who, &existing).await;
    }
    invitations::invite(
        app,
        &p.tenant,
        actor,
        &p.name,
        ip,
        &invitations::Invitee {
            email: &email,
            name: &name,
            role,
            company: Some(&company),
        },
    )
    .await
}

/// The address, name and role a company admin typed.
struct Invited<'a> {
    email: &'a str,
    name: &'a str,
    role: Role,
}

/// The answer to inviting an address that has an account outside the admin's company: the
/// same as a fresh invitation (after the same seat check), so a company admin cannot probe
/// which addresses have accounts elsewhere. Nothing is written but the masked invitation and
/// a staff-only audit row; an active client person is mailed an offer of a membership, which
/// they accept on "Your companies" (until then the company sees a pending invitation).
async fn unrevealed_invitation(
    app: &AppState,
    p: &Principal,
    actor: &Actor,
    ip: &str,
    company: &Company,
    who: &Invited<'_>,
    existing: &users::LoginRecord,
) -> AppResult<User> {
    let (email, name, role) = (who.email, who.name, who.role);
    // A full company refuses a fresh invitation too: the masked one takes a seat like it.
    let mut tx = app.db.tenant(actor.scope()).begin().await?;
    invitations::reserve_seat(tx.conn(), actor.scope(), company.id.as_str()).await?;
    let Some(id) = masked::create(&mut tx, &company.id, email, name, role).await? else {
        // The same answer as inviting someone of the own company twice.
        return Err(AppError::field(
            "email",
            "Someone with that email already has an account here.",
        ));
    };
    let mut entry = Entry::new("user.invitation_suppressed")
        .by(actor)
        .target("masked_invitation", id.as_str())
        .detail(json!({ "email": email, "inviting_company": company.id.as_str() }));
    // No company: the row is for staff, not for the inviting company's own audit view.
    entry.company_id = None;
    entry.ip = Some(ip);
    audit::append(&mut tx, entry).await?;
    if existing.user.role.kind() == crate::auth::UserKind::Client
        && existing.user.status == UserStatus::Active
    {
        users::memberships::offer(&mut tx, app, &p.tenant, &p.name, existing, company).await?;
    }
    tx.commit().await?;
    Ok(User {
        id,
        email: email.to_string(),
        name: name.to_string(),
        role,
        status: UserStatus::Invited,
        company_id: Some(company.id.clone()),
        company_name: Some(company.name.clone()),
        last_login_at: None,
        mfa_enabled: false,
    })
}

/// Changes a member's role; their sessions end so the new permissions apply at once.
pub async fn change_role(
    app: &AppState,
    actor: &Actor,
    ip: &str,
    id: &str,
    role_key: &str,
) -> AppResult<User> {
    update(
        app,
        actor,
        ip,
        id,
        Update {
            role: Some(role_key),
            active: None,
        },
    )
    .await
}

/// Deactivates (ending their sessions at once) or reactivates a member.
pub async fn set_active(
    app: &AppState,
    actor: &Actor,
    ip: &str,
    id: &str,
    active: bool,
) -> AppResult<User> {
    update(
        app,
        actor,
        ip,
        id,
        Update {
            role: None,
            active: Some(active),
        },
    )
    .await
}

/// Changes a member's role and status together: both are checked before either is written.
/// For someone who also belongs to other companies, deactivating takes them out of this
/// company only; their account and other memberships stay.
pub async fn update(
    app: &AppState,
    actor: &Actor,
    ip: &str,
    id: &str,
    u: Update<'_>,
) -> AppResult<User> {
    let (user, belongs) = lookup(app, actor, id).await?;
    match belongs {
        Belongs::Masked => return update_masked(app, actor, ip, user, u).await,
        Belongs::Home { elsewhere: false } => {
            users::service::update(app, actor, ip, Policy::Company, &user, u).await?;
        }
        Belongs::Home { elsewhere: true } | Belongs::Membership => {
            return update_membership(app, actor, ip, user, belongs, u).await;
        }
    }
    member(app, actor, id).await
}

/// `update` for a person who belongs to other companies too.
async fn update_membership(
    app: &AppState,
    actor: &Actor,
    ip: &str,
    mut user: User,
    belongs: Belongs,
    u: Update<'_>,
) -> AppResult<User> {
    let company = actor.company_id().ok_or(AppError::NotFound)?.clone();
    let is_self = actor.user_id() == &user.id;
    if u.active == Some(false) {
        if is_self {
            return Err(AppError::Unprocessable(
                "You cannot remove yourself from your company. Ask another company admin.".into(),
            ));
        }
        users::memberships::remove(app, actor, ip, &company, &user.id).await?;
        user.status = UserStatus::Deactivated;
        return Ok(user);
    }
    if u.active == Some(true) && user.status == UserStatus::Deactivated {
        return Err(AppError::Unprocessable(
            "This person's account was deactivated by their home company; only they or staff can \
             reactivate it."
                .into(),
        ));
    }
    let Some(key) = u.role else {
        return Ok(user);
    };
    let role = team_role(key)
        .ok_or_else(|| AppError::field("role", "Choose company admin, user or viewer."))?;
    if role == user.role {
        return Ok(user);
    }
    if is_self {
        return Err(AppError::Unprocessable(
            "You cannot change your own role. Ask another company admin.".into(),
        ));
    }
    if matches!(belongs, Belongs::Home { .. }) {
        // The home role lives on the account too; the service keeps both in step.
        let only_role = Update {
            role: Some(key),
            active: None,
        };
        users::service::update(app, actor, ip, Policy::Company, &user, only_role).await?;
    } else {
        users::memberships::set_role(app, actor, ip, &company, &user.id, role).await?;
    }
    user.role = role;
    Ok(user)
}

/// `update` for a masked invitation: a role change is kept, deactivation withdraws it.
async fn update_masked(
    app: &AppState,
    actor: &Actor,
    ip: &str,
    mut user: User,
    u: Update<'_>,
) -> AppResult<User> {
    let role = match u.role {
        Some(key) => Some(
            team_role(key)
                .ok_or_else(|| AppError::field("role", "Choose company admin, user or viewer."))?,
        ),
        None => None,
    };
    let mut tx = app.db.tenant(actor.scope()).begin().await?;
    if let Some(role) = role.filter(|r| *r != user.role) {
        masked::set_role(&mut tx, &user.id, role).await?;
        user.role = role;
        audit_masked(
            &mut tx,
            actor,
            ip,
            "user.masked_invitation_role_changed",
            &user,
        )
        .await?;
    }
    if u.active == Some(false) {
        masked::delete(&mut tx, &user.id).await?;
        user.status = UserStatus::Deactivated;
        audit_masked(
            &mut tx,
            actor,
            ip,
            "user.masked_invitation_withdrawn",
            &user,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(user)
}

/// Removes a member: a pending invitation is revoked (the account deleted), anyone who has
/// joined is deactivated (their history stays attributable).
pub async fn remove(app: &AppState, actor: &Actor, ip: &str, id: &str) -> AppResult<()> {
    let (user, belongs) = lookup(app, actor, id).await?;
    if belongs == Belongs::Masked {
        return withdraw_masked(app, actor, ip, &user).await;
    }
    if user.status == UserStatus::Invited && belongs == (Belongs::Home { elsewhere: false }) {
        invitations::revoke(app, actor, ip, &user).await
    } else {
        set_active(app, actor, ip, id, false).await.map(|_| ())
    }
}

/// Sends a pending invitation again with a new link.
pub async fn resend(
    app: &AppState,
    p: &Principal,
    actor: &Actor,
    ip: &str,
    id: &str,
) -> AppResult<User> {
    let (user, belongs) = lookup(app, actor, id).await?;
    if belongs == Belongs::Masked {
        // Nothing to send; the answer is the same as for a real resend.
        let mut tx = app.db.tenant(actor.scope()).begin().await?;
        audit_masked(&mut tx, actor, ip, "user.masked_invitation_resent", &user).await?;
        tx.commit().await?;
        return Ok(user);
    }
    let company = own_company(app, actor).await?;
    invitations::resend(app, &p.tenant, actor, &p.name, ip, &user, Some(&company)).await?;
    Ok(user)
}

/// Revokes a pending invitation.
pub async fn revoke(app: &AppState, actor: &Actor, ip: &str, id: &str) -> AppResult<()> {
    let (user, belongs) = lookup(app, actor, id).await?;
    match belongs {
        Belongs::Masked => return withdraw_masked(app, actor, ip, &user).await,
        // Someone with a home elsewhere has no invitation of this company to revoke.
        Belongs::Membership => return Err(AppError::NotFound),
        Belongs::Home { .. } => {}
    }
    invitations::revoke(app, actor, ip, &user).await
}

async fn withdraw_masked(app: &AppState, actor: &Actor, ip: &str, user: &User) -> AppResult<()> {
    let mut tx = app.db.tenant(actor.scope()).begin().await?;
    masked::delete(&mut tx, &user.id).await?;
    audit_masked(&mut tx, actor, ip, "user.masked_invitation_withdrawn", user).await?;
    tx.commit().await?;
    Ok(())
}
