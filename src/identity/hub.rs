//! Hub sign-in: a verified token becomes a portal account (found, linked or created) in one
//! transaction with its single-use record and audit row.

use serde_json::json;

use super::store::{self, Settings};
use super::{Expect, HubClaims, Refusal};
use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::auth::UserKind;
use crate::error::AppResult;
use crate::tenancy::{OrgType, Tenant};
use crate::users::{self, NewUser, User, UserStatus};

/// The secret that signs this tenant's Hub tokens: its own, else the deployment's.
pub fn secret(app: &AppState, s: &Settings) -> Option<Vec<u8>> {
    s.hub_secret_sealed
        .as_deref()
        .and_then(|sealed| match sealed {
            super::demo::DEMO_MARKER => Some(super::demo::DEMO_HUB_SECRET.as_bytes().to_vec()),
            _ => crate::mfa::open(&app.config.secret_key, sealed),
        })
        .or_else(|| app.config.hub_sso_secret.clone())
        .filter(|k| k.len() >= super::MIN_SECRET_LEN)
}

/// A refusal with what is known of the token, for the audit row.
#[derive(Debug)]
pub struct Refused {
    /// Why.
    pub reason: Refusal,
    /// The token's email, once its signature was good.
    pub email: Option<String>,
}

impl From<Refusal> for Refused {
    fn from(reason: Refusal) -> Refused {
        Refused {
            reason,
            email: None,
        }
    }
}

/// Checks `token` for `tenant` and returns the account to sign in, creating or linking it.
pub async fn accept(
    app: &AppState,
    ip: &str,
    tenant: &Tenant,
    token: &str,
) -> AppResult<Result<User, Refused>> {
    let scope = tenant.scope();
    let settings = store::settings(&app.db, &scope).await?;
    let Some(secret) = secret(app, &settings) else {
        return Ok(Err(Refusal::NotConfigured.into()));
    };
    let expect = Expect {
        audience: Some(settings.hub_audience.as_str()).filter(|s| !s.is_empty()),
        issuer: Some(settings.hub_issuer.as_str()).filter(|s| !s.is_empty()),
    };
    let claims = match super::verify(token, &secret, &expect, super::now_secs()) {
        Ok(c) => c,
        Err(r) => return Ok(Err(r.into())),
    };
    let refuse = |reason| {
        Ok(Err(Refused {
            reason,
            email: crate::text::bounded_email(&claims.email),
        }))
    };
    // The signed tenant must be the one the request reached: a deployment-wide secret signs
    // for every tenant, so this is what keeps one tenant's token out of another's portal.
    if claims.tenant != tenant.slug
        || claims
            .org_type
            .as_deref()
            .is_some_and(|o| OrgType::parse(o) != Some(tenant.org_type))
    {
        return refuse(Refusal::WrongTenant);
    }
    let Some(email) = crate::text::bounded_email(&claims.email).filter(|e| users::valid_email(e))
    else {
        return refuse(Refusal::Invalid);
    };
    let Some(role) = super::portal_role(claims.role.as_deref(), tenant.org_type) else {
        return refuse(Refusal::Invalid);
    };
    let company = match (role.kind(), claims.company.as_deref().map(str::trim)) {
        (UserKind::Client, Some(c)) if !c.is_empty() => {
            match store::company_by_ref(&app.db, &scope, c).await? {
                Some((id, true)) => Some(id),
                _ => return refuse(Refusal::AccountRefused),
            }
        }
        (UserKind::Client, _) => return refuse(Refusal::AccountRefused),
        _ => None,
    };
    let existing = users::find_for_login(&app.db, &scope, &email).await?;
    let mut tx = app.db.tenant(&scope).begin().await?;
    // The token is spent first: whatever follows, it never works a second time.
    if !store::remember_jti(&mut tx, &claims.jti, claims.exp * 1000).await? {
        drop(tx);
        return refuse(Refusal::Replayed);
    }
    let name = display_name(&claims, &email);
    let (user_id, created, updated) = match existing {
        Some(rec) => {
            let u = rec.user;
            let same_company = u.company_id.as_ref().map(|c| c.as_str()) == company.as_deref();
            if u.status == UserStatus::Deactivated
                || u.role.kind() == UserKind::Staff
                || u.role.kind() != role.kind()
                || !same_company
                || !rec.company_active
            {
                drop(tx);
                // The token id stays unspent: nothing was signed in.
                return refuse(Refusal::AccountRefused);
            }
            if u.status == UserStatus::Invited {
                store::activate(&mut tx, &u.id).await?;
            }
            let change = settings.hub_updates_profile
                && (u.role != role || (!claims.name.trim().is_empty() && u.name != name));
            if change {
                let name = if claims.name.trim().is_empty() {
                    u.name.clone()
                } else {
                    name.clone()
                };
                store::update_profile(&mut tx, &u.id, &name, role).await?;
            }
            (u.id, false, change)
        }
        None => {
            let id = users::insert(
                tx.conn(),
                &scope,
                &NewUser {
                    email: &email,
                    name: &name,
                    role,
                    company_id: company.as_deref(),
                    status: UserStatus::Active,
                    password_hash: None,
                },
            )
            .await?;
            (id, true, false)
        }
    };
    audit::append(
        &mut tx,
        Entry {
            actor_id: Some(user_id.as_str()),
            actor_email: Some(&email),
            company_id: company.as_deref(),
            ip: Some(ip),
            detail: json!({
                "email": email,
                "hub_user": claims.sub,
                "jti": claims.jti,
                "created": created,
                "profile_updated": updated,
                "role": role.key(),
            }),
            ..Entry::new("identity.hub_accepted").target("user", user_id.as_str())
        },
    )
    .await?;
    tx.commit().await?;
    let user = users::get(&app.db, &scope, user_id.as_str())
        .await?
        .ok_or_else(|| crate::error::AppError::Internal(anyhow::anyhow!("hub user vanished")))?;
    Ok(Ok(user))
}

fn display_name(c: &HubClaims, email: &str) -> String {
    let n: String = c.name.trim().chars().take(120).collect();
    if n.is_empty() {
        email.split('@').next().unwrap_or(email).to_string()
    } else {
        n
    }
}

/// Audits a refused token (when the request reached a tenant).
pub async fn audit_refusal(
    app: &AppState,
    ip: &str,
    tenant: &Tenant,
    r: &Refused,
) -> AppResult<()> {
    audit::record(
        &app.db,
        &tenant.scope(),
        Entry {
            actor_email: r.email.as_deref(),
            ip: Some(ip),
            detail: json!({ "reason": r.reason.code() }),
            ..Entry::new("identity.hub_refused")
        },
    )
    .await?;
    Ok(())
}
