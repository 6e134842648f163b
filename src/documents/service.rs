//! Document writes, each one transaction with its audit row and email jobs: staff create,
//! remind and cancel policies; signers take the three steps in order.

use serde_json::json;

use super::store::{self, NewPolicy, Seen, Signature, Signing};
use super::{Step, names_match, parse_reminders};
use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::auth::{Actor, Permission, Principal};
use crate::db::{DbError, Row, TenantTx, now_ms};
use crate::error::{AppError, AppResult, FieldError};
use crate::i18n::{Translator, for_recipient, k};
use crate::jobs::{EmailJob, JobKind};
use crate::text;

/// Longest title.
pub const MAX_TITLE: usize = 200;
/// Longest body (characters).
pub const MAX_BODY: usize = 200_000;

/// What staff (or the Legal integration) send for signature.
#[derive(Clone, Debug, Default)]
pub struct PolicyInput {
    /// Title.
    pub title: String,
    /// Markdown body.
    pub body: String,
    /// Version label.
    pub version: String,
    /// Chosen signers (user ids).
    pub user_ids: Vec<String>,
    /// Companies whose active users sign.
    pub company_ids: Vec<String>,
    /// Later members of those companies sign too.
    pub include_future: bool,
    /// Due date (Unix ms), optional.
    pub due_at: Option<i64>,
    /// Reminder schedule, days before the due date ("7,1").
    pub reminders: String,
}

/// Checks a policy's fields; every problem at once.
pub fn check(input: &PolicyInput) -> Result<(String, String, String, Vec<i64>), Vec<FieldError>> {
    let mut errs = Vec::new();
    let mut need = |field: &str, r: Result<String, FieldError>| match r {
        Ok(v) if v.is_empty() => {
            errs.push(FieldError {
                field: field.into(),
                message: k("documents-error-required").into(),
            });
            None
        }
        Ok(v) => Some(v),
        Err(e) => {
            errs.push(e);
            None
        }
    };
    let title = need("title", text::single_line("title", &input.title, MAX_TITLE));
    let body = need("body", text::multi_line("body", &input.body, MAX_BODY));
    let version = need("version", text::single_line("version", &input.version, 40));
    let days = parse_reminders(&input.reminders);
    if days.is_none() {
        errs.push(FieldError {
            field: "reminders".into(),
            message: k("documents-error-reminders").into(),
        });
    }
    if days.as_ref().is_some_and(|d| !d.is_empty()) && input.due_at.is_none() {
        errs.push(FieldError {
            field: "due".into(),
            message: k("documents-error-reminders-need-due").into(),
        });
    }
    if input.user_ids.is_empty() && input.company_ids.is_empty() {
        errs.push(FieldError {
            field: "signers".into(),
            message: k("documents-error-no-signers").into(),
        });
    }
    match (title, body, version, days) {
        (Some(t), Some(b), Some(v), Some(d)) if errs.is_empty() => Ok((t, b, v, d)),
        _ => Err(errs),
    }
}

/// Who created a policy and from where, for its audit row.
pub struct Origin<'a> {
    /// The staff actor (none for an integration push).
    pub actor: Option<&'a Actor>,
    /// Client address.
    pub ip: &'a str,
    /// The integration key that pushed it (Legal integration).
    pub via: Option<&'a str>,
}

/// Creates a policy and one request per signer, queues the request emails, and audits it.
/// With `supersedes`, the older version's open requests become `superseded`.
pub async fn create(
    app: &AppState,
    scope: &crate::tenancy::TenantScope,
    origin: &Origin<'_>,
    input: &PolicyInput,
    external: Option<(&str, Option<&str>)>,
    supersedes: Option<&str>,
) -> AppResult<String> {
    let (title, body, version, days) = check(input).map_err(|fields| AppError::Validation {
        message: k("msg-fix-fields").into(),
        fields,
    })?;
    let now = now_ms();
    let mut tx = app.db.tenant(scope).begin().await?;
    let id = store::insert_policy(
        &mut tx,
        &NewPolicy {
            title: &title,
            body: &body,
            version: &version,
            due_at: input.due_at,
            reminder_days: &days,
            include_future: input.include_future,
            external_id: external.map(|e| e.0),
            callback_url: external.and_then(|e| e.1),
            supersedes_id: supersedes,
            created_by: origin.actor.map(|a| a.user_id().as_str()),
        },
        now,
    )
    .await?;
    if let Some(old) = supersedes {
        store::close_open(&mut tx, old, Step::Superseded, now).await?;
        store::set_policy_status(&mut tx, old, "superseded", now).await?;
    }
    let mut signers: Vec<String> = Vec::new();
    for c in &input.company_ids {
        store::add_company(&mut tx, &id, c).await?;
        for u in store::company_users(&mut tx, c).await? {
            if !signers.contains(&u) {
                signers.push(u);
            }
        }
    }
    for u in &input.user_ids {
        if !signers.contains(u) {
            signers.push(u.clone());
        }
    }
    let mut created = Vec::new();
    for u in &signers {
        if let Some(sid) = store::add_request(&mut tx, &id, u, now).await? {
            created.push(sid);
        }
    }
    let action = if supersedes.is_some() {
        "document.policy_versioned"
    } else {
        "document.policy_created"
    };
    let mut entry = Entry {
        ip: Some(origin.ip),
        detail: json!({ "name": title, "version": version, "signers": created.len(),
            "integration_key": origin.via }),
        ..Entry::new(action).target("policy", &id)
    };
    if let Some(a) = origin.actor {
        entry = entry.by(a);
    }
    audit::append(&mut tx, entry).await?;
    email_requests(app, &mut tx, &created, false).await?;
    tx.commit().await?;
    Ok(id)
}

/// Queues the "please sign" (or reminder) email for each request, in its signer's language.
pub(super) async fn email_requests(
    app: &AppState,
    tx: &mut TenantTx,
    ids: &[String],
    reminder: bool,
) -> AppResult<()> {
    for id in ids {
        let Some(s) = store::signature_in(tx, id).await? else {
            continue;
        };
        let tenant = tx.tenant_id().to_string();
        let row = sqlx::query(
            "SELECT u.language, t.default_locale FROM users u JOIN tenants t ON t.id = u.tenant_id \
             WHERE u.tenant_id = $1 AND u.id = $2",
        )
        .bind(&tenant)
        .bind(&s.user_id)
        .fetch_one(tx.conn())
        .await
        .map_err(DbError::from)?;
        let language: Option<String> = row.try_get(0).map_err(DbError::from)?;
        let locale: String = row.try_get(1).map_err(DbError::from)?;
        let tr = Translator::new(for_recipient(language.as_deref(), Some(&locale)));
        let mut lines = vec![tr.arg(
            k(if reminder {
                "documents-email-reminder-line"
            } else {
                "documents-email-request-line"
            }),
            "title",
            &s.title,
        )];
        if let Some(d) = s.due_at {
            lines.push(tr.arg(k("documents-email-due"), "date", &tr.date(d)));
        }
        EmailJob {
            to: s.user_email.clone(),
            subject: tr.arg(
                k(if reminder {
                    "documents-email-reminder-subject"
                } else {
                    "documents-email-request-subject"
                }),
                "title",
                &s.title,
            ),
            lines,
            action_url: Some(format!(
                "{}/portal/documents/{}/sign",
                app.config.base_url, s.id
            )),
            action_label: Some(tr.get(k("documents-email-action"))),
            lang: Some(tr.lang().into()),
            reply_to: None,
        }
        .enqueue(tx)
        .await?;
    }
    Ok(())
}

/// Sends a reminder to every open signer of a policy now.
pub async fn remind(app: &AppState, actor: &Actor, ip: &str, policy_id: &str) -> AppResult<usize> {
    let mut tx = app.db.tenant(actor.scope()).begin().await?;
    let p = store::policy_in(&mut tx, policy_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if p.status != "active" {
        return Err(AppError::Conflict(k("documents-error-not-active").into()));
    }
    let ids: Vec<String> = store::open_of_policy(&mut tx, policy_id)
        .await?
        .into_iter()
        .map(|s| s.id)
        .collect();
    store::mark_reminded(&mut tx, &ids, now_ms()).await?;
    email_requests(app, &mut tx, &ids, true).await?;
    audit::append(
        &mut tx,
        Entry {
            ip: Some(ip),
            detail: json!({ "name": p.title, "version": p.version, "reminded": ids.len() }),
            ..Entry::new("document.policy_reminded")
                .by(actor)
                .target("policy", policy_id)
        },
    )
    .await?;
    tx.commit().await?;
    Ok(ids.len())
}

/// Cancels a policy: its open requests close; signed ones stay as they are.
pub async fn cancel(app: &AppState, actor: &Actor, ip: &str, policy_id: &str) -> AppResult<()> {
    let mut tx = app.db.tenant(actor.scope()).begin().await?;
    let p = store::policy_in(&mut tx, policy_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if p.status != "active" {
        return Err(AppError::Conflict(k("documents-error-not-active").into()));
    }
    let now = now_ms();
    let closed = store::close_open(&mut tx, policy_id, Step::Cancelled, now).await?;
    store::set_policy_status(&mut tx, policy_id, "cancelled", now).await?;
    audit::append(
        &mut tx,
        Entry {
            ip: Some(ip),
            detail: json!({ "name": p.title, "version": p.version, "closed": closed }),
            ..Entry::new("document.policy_cancelled")
                .by(actor)
                .target("policy", policy_id)
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Creates, in the caller's transaction, the requests a user is owed by active policies that
/// take later members of their company ("include users added later"), with their emails and
/// audit rows; returns how many. Called by the write paths that make a client user active in
/// a company (invitation accepted, account reactivated) and by the reminder job's sweep; a
/// user who is not an active client user gets nothing.
pub async fn enroll_in(app: &AppState, tx: &mut TenantTx, user_id: &str) -> AppResult<usize> {
    let tenant = tx.tenant_id().to_string();
    let row = sqlx::query(
        "SELECT company_id FROM users WHERE tenant_id = $1 AND id = $2 AND kind = 'client' \
         AND status = 'active'",
    )
    .bind(&tenant)
    .bind(user_id)
    .fetch_optional(tx.conn())
    .await
    .map_err(DbError::from)?;
    let company: Option<String> = match row {
        Some(r) => r.try_get(0).map_err(DbError::from)?,
        None => None,
    };
    let Some(company) = company else {
        return Ok(0);
    };
    let missing = store::missing_for(tx, &company, user_id).await?;
    let now = now_ms();
    let mut created = Vec::new();
    for policy in missing {
        if let Some(id) = store::add_request(tx, &policy, user_id, now).await? {
            audit::append(
                tx,
                Entry {
                    company_id: Some(company.as_str()),
                    detail: json!({ "policy": policy, "later_member": true }),
                    ..Entry::new("document.requested").target("signature", &id)
                },
            )
            .await?;
            created.push(id);
        }
    }
    email_requests(app, tx, &created, false).await?;
    Ok(created.len())
}

/// The signer's own request, or 404 for anyone else's (one request, one signer).
pub async fn own(app: &AppState, p: &Principal, id: &str) -> AppResult<Signature> {
    let s = store::signature(&app.db, &p.scope(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    if s.user_id != p.user_id.as_str() {
        return Err(AppError::NotFound);
    }
    let company = p.company_id.as_ref().map(|c| c.as_str()).unwrap_or("");
    if !store::seen_from(&app.db, &p.scope(), id, company).await? {
        return Err(AppError::NotFound);
    }
    Ok(s)
}

/// Where a step came from: address and user agent.
pub struct Client<'a> {
    /// Address.
    pub ip: &'a str,
    /// User agent (truncated).
    pub ua: &'a str,
}

/// The answer when a step arrives out of order (skipped, replayed, or raced by another).
fn out_of_order(s: &Signature) -> AppError {
    match s.state {
        Step::Signed => AppError::Conflict(k("documents-error-already-signed").into()),
        Step::Cancelled | Step::Superseded => {
            AppError::Conflict(k("documents-error-closed").into())
        }
        _ => AppError::Conflict(k("documents-error-out-of-order").into()),
    }
}

async fn step(
    app: &AppState,
    actor: &Actor,
    s: &Signature,
    client: &Client<'_>,
    from: Step,
    to: Step,
    signing: Option<&Signing<'_>>,
) -> AppResult<()> {
    if s.policy_status != "active" || s.state != from {
        return Err(out_of_order(s));
    }
    let seen = Seen {
        at: now_ms(),
        ip: client.ip,
        ua: client.ua,
    };
    let mut tx = app.db.tenant(actor.scope()).begin().await?;
    let moved = match signing {
        Some(sig) => store::sign(&mut tx, &s.id, &s.user_id, &seen, sig).await?,
        None => store::advance(&mut tx, &s.id, &s.user_id, from, to, &seen).await?,
    };
    if !moved {
        // Another request took this step first: report what it is now.
        drop(tx);
        let now = store::signature(&app.db, actor.scope(), &s.id)
            .await?
            .ok_or(AppError::NotFound)?;
        return Err(out_of_order(&now));
    }
    let action = match to {
        Step::Read => "document.read",
        Step::Acknowledged => "document.acknowledged",
        _ => "document.signed",
    };
    if to == Step::Signed {
        super::legal::on_signed(&mut tx, &s.id).await?;
    }
    audit::append(
        &mut tx,
        Entry {
            ip: Some(client.ip),
            company_id: actor.company_id().map(|c| c.as_str()),
            detail: json!({
                "name": s.title,
                "version": s.version,
                "content_sha256": s.content_hash,
                "user_agent": client.ua,
            }),
            ..Entry::new(action).by(actor).target("signature", &s.id)
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Step 1: the signer reached the end of the document. `shown_hash` is the content hash of
/// the page they read; a document changed since then must be read again.
pub async fn read(
    app: &AppState,
    p: &Principal,
    client: &Client<'_>,
    id: &str,
    shown_hash: &str,
) -> AppResult<Signature> {
    let actor = p.require(Permission::PortalAccess)?;
    let s = own(app, p, id).await?;
    if s.state == Step::Pending && shown_hash != s.content_hash {
        return Err(AppError::Conflict(k("documents-error-changed").into()));
    }
    step(app, &actor, &s, client, Step::Pending, Step::Read, None).await?;
    own(app, p, id).await
}

/// Step 2: "I have read and understood" and consent to sign electronically, both required.
pub async fn acknowledge(
    app: &AppState,
    p: &Principal,
    client: &Client<'_>,
    id: &str,
    understood: bool,
    consent: bool,
) -> AppResult<Signature> {
    let actor = p.require(Permission::PortalAccess)?;
    let s = own(app, p, id).await?;
    if s.state == Step::Read && !(understood && consent) {
        let mut fields = Vec::new();
        if !understood {
            fields.push(FieldError {
                field: "understood".into(),
                message: k("documents-error-understood").into(),
            });
        }
        if !consent {
            fields.push(FieldError {
                field: "consent".into(),
                message: k("documents-error-consent").into(),
            });
        }
        return Err(AppError::Validation {
            message: k("msg-fix-fields").into(),
            fields,
        });
    }
    step(
        app,
        &actor,
        &s,
        client,
        Step::Read,
        Step::Acknowledged,
        None,
    )
    .await?;
    own(app, p, id).await
}

/// Step 3: the typed full name must match the account name (case and extra spaces ignored).
pub async fn confirm(
    app: &AppState,
    p: &Principal,
    client: &Client<'_>,
    id: &str,
    typed: &str,
) -> AppResult<Signature> {
    let actor = p.require(Permission::PortalAccess)?;
    let s = own(app, p, id).await?;
    if s.state == Step::Acknowledged && !names_match(typed, &p.name) {
        return Err(AppError::field(
            "full_name",
            k("documents-error-name-mismatch"),
        ));
    }
    let typed = typed.split_whitespace().collect::<Vec<_>>().join(" ");
    step(
        app,
        &actor,
        &s,
        client,
        Step::Acknowledged,
        Step::Signed,
        Some(&Signing {
            typed_name: &typed,
            signer_name: &p.name,
            signer_email: &p.email,
            version: &s.version,
            content_hash: &s.content_hash,
        }),
    )
    .await?;
    own(app, p, id).await
}
