//! Provisioning from the PSA: companies and contacts are imported and linked; a contact
//! flagged for portal access becomes an invited portal user, losing the flag (or going
//! inactive) deactivates the account. A PSA record that vanished is marked and reported,
//! never deleted here.

use serde_json::json;

use super::connector::{AnyConnector, Connector, RemoteCompany, RemoteContact};
use super::store::{self, Link};
use super::sync::SyncError;
use crate::audit::{self, Entry};
use crate::auth::tokens::{self, Purpose};
use crate::auth::{Role, UserId};
use crate::companies::CompanyId;
use crate::db::{Row, TenantTx, now_ms};
use crate::i18n::{Arg, Translator, for_recipient, k};
use crate::jobs::JobKind;
use crate::state::AppState;
use crate::tenancy::TenantScope;
use crate::users::{NewUser, UserStatus};

/// Imports companies, then contacts.
pub async fn run(
    app: &AppState,
    scope: &TenantScope,
    c: &AnyConnector,
    sync_user: &str,
) -> Result<(), SyncError> {
    let companies = c.list_companies().await?;
    let contacts = c.list_contacts().await?;
    let mut tx = app.db.tenant(scope).begin().await?;
    for rc in &companies {
        company(&mut tx, sync_user, rc).await?;
    }
    mark_missing(
        &mut tx,
        sync_user,
        "company",
        companies.iter().map(|c| c.id.as_str()),
    )
    .await?;
    tx.commit().await?;
    let tenant = crate::tenancy::store::by_id(&app.db, scope.tenant_id()).await?;
    for rc in &contacts {
        // One transaction per contact: a seat cap refusing one never blocks the others.
        let mut tx = app.db.tenant(scope).begin().await?;
        match contact(app, &mut tx, sync_user, tenant.as_ref(), rc).await {
            Ok(()) => tx.commit().await?,
            Err(e) => tracing::warn!(contact = %rc.id, error = %e, "PSA contact not provisioned"),
        }
    }
    let mut tx = app.db.tenant(scope).begin().await?;
    mark_missing(
        &mut tx,
        sync_user,
        "contact",
        contacts.iter().map(|c| c.id.as_str()),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

fn entry<'a>(action: &'a str, sync_user: &'a str) -> Entry<'a> {
    Entry {
        actor_id: Some(sync_user),
        actor_email: Some(super::sync::SYNC_USER_EMAIL),
        ..Entry::new(action)
    }
}

async fn company(tx: &mut TenantTx, sync_user: &str, rc: &RemoteCompany) -> Result<(), SyncError> {
    let tenant = tx.tenant_id().to_string();
    let name: String = rc.name.trim().chars().take(120).collect();
    if name.is_empty() {
        return Ok(());
    }
    let link = store::link_by_external(tx.conn(), &tenant, "company", &rc.id).await?;
    let local = match &link {
        Some(l) => l.local_id.clone(),
        None => {
            let existing: Option<String> = sqlx::query_scalar(
                "SELECT id FROM companies WHERE tenant_id = $1 AND LOWER(name) = LOWER($2)",
            )
            .bind(&tenant)
            .bind(&name)
            .fetch_optional(tx.conn())
            .await?;
            match existing {
                Some(id) => id,
                None => {
                    let id = crate::companies::create(tx, &name).await?;
                    audit::append(
                        tx,
                        entry("psa.company_imported", sync_user)
                            .target("company", id.as_str())
                            .detail(json!({ "name": name, "psa_company": rc.id })),
                    )
                    .await?;
                    id.as_str().to_string()
                }
            }
        }
    };
    let status: Option<String> =
        sqlx::query_scalar("SELECT status FROM companies WHERE tenant_id = $1 AND id = $2")
            .bind(&tenant)
            .bind(&local)
            .fetch_optional(tx.conn())
            .await?;
    let active = status.as_deref() == Some("active");
    if active != rc.active {
        crate::companies::set_status(tx, &CompanyId(local.clone()), rc.active).await?;
        audit::append(
            tx,
            entry("psa.company_status", sync_user)
                .target("company", &local)
                .detail(json!({ "active": rc.active, "psa_company": rc.id })),
        )
        .await?;
    }
    if link.is_none() || link.as_ref().is_some_and(|l| l.missing_at.is_some()) {
        store::put_link(
            tx.conn(),
            &tenant,
            "company",
            &Link {
                local_id: local,
                external_id: rc.id.clone(),
                ..Link::default()
            },
        )
        .await?;
    }
    Ok(())
}

async fn contact(
    app: &AppState,
    tx: &mut TenantTx,
    sync_user: &str,
    tenant: Option<&crate::tenancy::Tenant>,
    rc: &RemoteContact,
) -> Result<(), SyncError> {
    let tid = tx.tenant_id().to_string();
    let email = crate::users::normalize_email(&rc.email);
    if !crate::users::valid_email(&email) {
        return Ok(());
    }
    let Some(company_ext) = rc.company_id.as_deref() else {
        return Ok(());
    };
    let Some(company) = store::link_by_external(tx.conn(), &tid, "company", company_ext).await?
    else {
        return Ok(());
    };
    let wants = rc.portal_access && rc.active;
    let existing = sqlx::query(
        "SELECT id, status, kind, company_id, password_hash FROM users WHERE tenant_id = $1 AND email = $2",
    )
    .bind(&tid)
    .bind(&email)
    .fetch_optional(tx.conn())
    .await?;
    let user_id = match existing {
        Some(r) => {
            let id: String = r.try_get("id")?;
            let kind: String = r.try_get("kind")?;
            let status: String = r.try_get("status")?;
            let company_id: Option<String> = r.try_get("company_id")?;
            if kind != "client" || company_id.as_deref() != Some(company.local_id.as_str()) {
                // Someone else's account by that address (staff, another company): leave it.
                return Ok(());
            }
            let has_password = r.try_get::<Option<String>, _>("password_hash")?.is_some();
            let to = match (wants, status.as_str()) {
                (false, "active" | "invited") => Some("deactivated"),
                (true, "deactivated") if has_password => Some("active"),
                (true, "deactivated") => Some("invited"),
                _ => None,
            };
            if let Some(to) = to {
                if to != "deactivated" {
                    let scope = tx.scope().clone();
                    crate::users::invitations::reserve_seat(tx.conn(), &scope, &company.local_id)
                        .await?;
                }
                sqlx::query(
                    "UPDATE users SET status = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2",
                )
                .bind(&tid)
                .bind(&id)
                .bind(to)
                .bind(now_ms())
                .execute(tx.conn())
                .await?;
                let uid = UserId(id.clone());
                crate::auth::cache::changed(tx, crate::auth::cache::Change::user(&uid)).await?;
                if to == "deactivated" {
                    crate::auth::sessions::end_all_for_user_in(tx, &uid, None).await?;
                } else if to == "invited"
                    && let Some(t) = tenant
                {
                    invite_email(app, tx, t, &uid, &email, &rc.name).await?;
                }
                audit::append(
                    tx,
                    Entry {
                        company_id: Some(&company.local_id),
                        ..entry(
                            if to == "deactivated" {
                                "psa.contact_deactivated"
                            } else {
                                "psa.contact_reactivated"
                            },
                            sync_user,
                        )
                        .target("user", &id)
                        .detail(json!({ "email": email, "psa_contact": rc.id }))
                    },
                )
                .await?;
            }
            id
        }
        None if wants => {
            let scope = tx.scope().clone();
            crate::users::invitations::reserve_seat(tx.conn(), &scope, &company.local_id).await?;
            let name: String = rc.name.trim().chars().take(120).collect();
            let name = if name.is_empty() { email.clone() } else { name };
            let id = crate::users::insert(
                tx.conn(),
                &scope,
                &NewUser {
                    email: &email,
                    name: &name,
                    role: Role::ClientUser,
                    company_id: Some(&company.local_id),
                    status: UserStatus::Invited,
                    password_hash: None,
                },
            )
            .await?;
            if let Some(t) = tenant {
                invite_email(app, tx, t, &id, &email, &name).await?;
            }
            audit::append(
                tx,
                Entry {
                    company_id: Some(&company.local_id),
                    ..entry("psa.contact_invited", sync_user)
                        .target("user", id.as_str())
                        .detail(json!({ "email": email, "psa_contact": rc.id }))
                },
            )
            .await?;
            id.as_str().to_string()
        }
        None => return Ok(()),
    };
    store::put_link(
        tx.conn(),
        &tid,
        "contact",
        &Link {
            local_id: user_id,
            external_id: rc.id.clone(),
            ..Link::default()
        },
    )
    .await?;
    Ok(())
}

/// Queues the invitation email (the same message staff invitations send).
async fn invite_email(
    app: &AppState,
    tx: &mut TenantTx,
    tenant: &crate::tenancy::Tenant,
    id: &UserId,
    email: &str,
    name: &str,
) -> Result<(), SyncError> {
    let token = tokens::issue(tx, id, Purpose::Invite).await?;
    let link = format!(
        "{}/invite/accept?tenant={}&token={token}",
        app.config.base_url, tenant.slug
    );
    let t = Translator::new(for_recipient(None, Some(&tenant.default_locale)));
    crate::jobs::EmailJob {
        to: email.to_string(),
        subject: t.get("email-invite-subject"),
        lines: vec![
            t.arg("email-hello", "name", name),
            t.args(
                "email-invite-intro",
                &[
                    ("inviter", Arg::Str(tenant.branding.portal_name.clone())),
                    ("portal", Arg::Str(tenant.branding.portal_name.clone())),
                ],
            ),
            t.get(k("email-invite-body")),
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

/// Marks linked records of `kind` that the PSA no longer lists (once), with an audit row.
async fn mark_missing<'a>(
    tx: &mut TenantTx,
    sync_user: &str,
    kind: &str,
    present: impl Iterator<Item = &'a str>,
) -> Result<(), SyncError> {
    let tenant = tx.tenant_id().to_string();
    let present: std::collections::HashSet<&str> = present.collect();
    let rows = sqlx::query(
        "SELECT local_id, external_id FROM psa_links WHERE tenant_id = $1 AND kind = $2 AND missing_at IS NULL",
    )
    .bind(&tenant)
    .bind(kind)
    .fetch_all(tx.conn())
    .await?;
    for r in rows {
        let local: String = r.try_get("local_id")?;
        let ext: String = r.try_get("external_id")?;
        if present.contains(ext.as_str()) {
            continue;
        }
        sqlx::query(
            "UPDATE psa_links SET missing_at = $4 WHERE tenant_id = $1 AND kind = $2 AND local_id = $3",
        )
        .bind(&tenant)
        .bind(kind)
        .bind(&local)
        .bind(now_ms())
        .execute(tx.conn())
        .await?;
        let target = if kind == "company" { "company" } else { "user" };
        audit::append(
            tx,
            entry("psa.record_missing", sync_user)
                .target(target, &local)
                .detail(json!({ "kind": kind, "psa_id": ext })),
        )
        .await?;
    }
    Ok(())
}
