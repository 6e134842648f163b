//! `/admin/integrations/oidc`: the tenant's OpenID Connect providers (add from a preset, edit,
//! disable, delete). Every change is one transaction with its audit row.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;

use super::{DomainRule, Preset, Provider, store};
use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::auth::{ALL_ROLES, Actor, Audience, Permission, Role, StaffUser};
use crate::error::{AppError, AppResult, FieldError};
use crate::http::PageRouter;
use crate::http::context::{Ctx, RequestContext};
use crate::tenancy::OrgType;
use crate::web::{FormErrors, PageCtx, notice, render};

const PATH: &str = "/admin/integrations/oidc";

/// Pages.
pub fn pages() -> PageRouter {
    PageRouter::default()
        .route(PATH, get(index))
        .route(&format!("{PATH}/new"), get(new_page).post(create))
        .route(&format!("{PATH}/{{id}}"), get(edit_page).post(update))
        .route(&format!("{PATH}/{{id}}/delete"), post(delete))
}

fn actor(staff: &StaffUser) -> AppResult<Actor> {
    staff.require(Permission::ManageIntegrations)
}

/// A provider as the list shows it.
struct Row {
    id: String,
    name: String,
    issuer: String,
    enabled: bool,
    redirect_uri: String,
}

#[derive(askama::Template)]
#[template(path = "identity/templates/oidc_admin.html")]
struct IndexPage {
    page: PageCtx,
    rows: Vec<Row>,
    notice: Option<&'static str>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct IndexQuery {
    notice: Option<String>,
    preset: String,
}

async fn index(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Query(q): Query<IndexQuery>,
) -> AppResult<Response> {
    let actor = actor(&staff)?;
    let rows = store::list(&app.db, actor.scope())
        .await?
        .into_iter()
        .map(|p| Row {
            redirect_uri: super::flow::redirect_uri(&app, &staff.tenant, &p.id),
            id: p.id,
            name: p.name,
            issuer: p.issuer,
            enabled: p.enabled,
        })
        .collect();
    render(&IndexPage {
        page: PageCtx::new(&ctx),
        rows,
        notice: notice(q.notice.as_deref()),
    })
}

/// The form's fields.
#[derive(Clone, Deserialize, Default)]
#[serde(default)]
struct Form {
    preset: String,
    name: String,
    issuer: String,
    client_id: String,
    client_secret: String,
    domains: String,
    create_users: Option<String>,
    new_user_role: String,
    enabled: Option<String>,
}

#[derive(askama::Template)]
#[template(path = "identity/templates/oidc_edit.html")]
struct EditPage {
    page: PageCtx,
    /// Empty for a new provider.
    id: String,
    form: Form,
    roles: Vec<(&'static str, String)>,
    mission: bool,
    errors: FormErrors,
    redirect_uri: String,
    has_secret: bool,
}

/// The portal roles new accounts may get in this kind of organisation.
fn roles(org: OrgType) -> Vec<(&'static str, String)> {
    ALL_ROLES
        .into_iter()
        .filter(|r| r.fits(org) && r.kind().audience() == Audience::Portal)
        .map(|r| (r.key(), crate::i18n::key_for("role", r.label_in(org))))
        .collect()
}

/// The domain lines as the form shows them: `domain = Company name`.
async fn domain_lines(app: &AppState, actor: &Actor, rules: &[DomainRule]) -> AppResult<String> {
    let mut lines = Vec::new();
    for r in rules {
        let company = match &r.company_id {
            Some(id) => crate::companies::get(&app.db, actor.scope(), id).await?,
            None => None,
        };
        lines.push(match company {
            Some(c) => format!("{} = {}", r.domain, c.name),
            None => r.domain.clone(),
        });
    }
    Ok(lines.join("\n"))
}

#[allow(clippy::too_many_arguments)]
fn edit_view(
    app: &AppState,
    ctx: &RequestContext,
    staff: &StaffUser,
    id: &str,
    form: Form,
    has_secret: bool,
    err: Option<&AppError>,
) -> AppResult<Response> {
    let mut r = render(&EditPage {
        page: PageCtx::new(ctx),
        id: id.to_string(),
        roles: roles(staff.tenant.org_type),
        mission: staff.tenant.org_type == OrgType::Mission,
        errors: err.map(FormErrors::from).unwrap_or_default(),
        redirect_uri: if id.is_empty() {
            String::new()
        } else {
            super::flow::redirect_uri(app, &staff.tenant, id)
        },
        has_secret,
        form,
    })?;
    if err.is_some() {
        *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(r)
}

async fn new_page(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Query(q): Query<IndexQuery>,
) -> AppResult<Response> {
    actor(&staff)?;
    let preset = Preset::parse(&q.preset);
    let default_role = match staff.tenant.org_type {
        OrgType::Msp => Role::ClientUser,
        OrgType::Mission => Role::Member,
    };
    let form = Form {
        preset: preset.key().into(),
        name: preset.name().into(),
        issuer: preset.issuer().into(),
        new_user_role: default_role.key().into(),
        enabled: Some("1".into()),
        ..Form::default()
    };
    edit_view(&app, &ctx, &staff, "", form, false, None)
}

async fn edit_page(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let actor = actor(&staff)?;
    let p = store::get(&app.db, actor.scope(), &id)
        .await?
        .ok_or(AppError::NotFound)?;
    let form = Form {
        preset: p.preset.key().into(),
        name: p.name.clone(),
        issuer: p.issuer.clone(),
        client_id: p.client_id.clone(),
        client_secret: String::new(),
        domains: domain_lines(&app, &actor, &p.domains).await?,
        create_users: p.create_users.then(|| "1".into()),
        new_user_role: p.new_user_role.key().into(),
        enabled: p.enabled.then(|| "1".into()),
    };
    edit_view(&app, &ctx, &staff, &p.id, form, true, None)
}

fn push(fields: &mut Vec<FieldError>, field: &str, key: &str) {
    fields.push(FieldError {
        field: field.into(),
        message: key.into(),
    });
}

/// Checks the form into a provider (secret still plain in `client_secret`), or field errors.
async fn parse(
    app: &AppState,
    actor: &Actor,
    org: OrgType,
    f: &Form,
    creating: bool,
) -> AppResult<Result<Provider, AppError>> {
    let mut fields = Vec::new();
    let name = f.name.trim();
    if name.is_empty() || name.chars().count() > 60 || name.chars().any(char::is_control) {
        push(&mut fields, "name", "identity-oidc-error-name");
    }
    let issuer = f.issuer.trim().trim_end_matches('/');
    if issuer.len() > 300 || !super::issuer_ok(issuer) {
        push(&mut fields, "issuer", "identity-oidc-error-issuer");
    }
    let client_id = f.client_id.trim();
    if client_id.is_empty() || client_id.len() > 255 || client_id.chars().any(char::is_control) {
        push(&mut fields, "client_id", "identity-oidc-error-client-id");
    }
    let secret = f.client_secret.trim();
    if (creating && secret.is_empty()) || secret.len() > 1000 {
        push(&mut fields, "client_secret", "identity-oidc-error-secret");
    }
    let role = Role::from_key(f.new_user_role.trim())
        .filter(|r| r.fits(org) && r.kind().audience() == Audience::Portal);
    if role.is_none() {
        push(&mut fields, "new_user_role", "identity-oidc-error-role");
    }
    let mut domains: Vec<DomainRule> = Vec::new();
    let mut domain_error = None;
    for line in f.domains.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (domain, company) = match line.split_once('=') {
            Some((d, c)) => (d.trim().to_ascii_lowercase(), Some(c.trim())),
            None => (line.to_ascii_lowercase(), None),
        };
        if !crate::tenancy::valid_domain(&domain) || domains.iter().any(|d| d.domain == domain) {
            domain_error = Some("identity-oidc-error-domain");
            break;
        }
        let company_id = match (org, company.filter(|c| !c.is_empty())) {
            (OrgType::Msp, Some(c)) => {
                match crate::identity::store::company_by_ref(&app.db, actor.scope(), c).await? {
                    Some((id, _)) => Some(id),
                    None => {
                        domain_error = Some("identity-oidc-error-company");
                        break;
                    }
                }
            }
            (OrgType::Msp, None) => {
                domain_error = Some("identity-oidc-error-company");
                break;
            }
            (OrgType::Mission, _) => None,
        };
        domains.push(DomainRule { domain, company_id });
    }
    if domain_error.is_none() && (domains.is_empty() || domains.len() > 50) {
        domain_error = Some("identity-oidc-error-domains");
    }
    if let Some(k) = domain_error {
        push(&mut fields, "domains", k);
    }
    if !fields.is_empty() {
        return Ok(Err(AppError::Validation {
            message: "msg-fix-fields".into(),
            fields,
        }));
    }
    Ok(Ok(Provider {
        id: String::new(),
        name: name.into(),
        preset: Preset::parse(&f.preset),
        issuer: issuer.into(),
        client_id: client_id.into(),
        client_secret_sealed: secret.into(),
        domains,
        create_users: f.create_users.is_some(),
        new_user_role: role.unwrap_or(Role::ClientViewer),
        enabled: f.enabled.is_some(),
    }))
}

fn detail(p: &Provider) -> serde_json::Value {
    json!({
        "name": p.name,
        "preset": p.preset.key(),
        "issuer": p.issuer,
        "client_id": p.client_id,
        "domains": p.domains.iter().map(|d| &d.domain).collect::<Vec<_>>(),
        "create_users": p.create_users,
        "new_user_role": p.new_user_role.key(),
        "enabled": p.enabled,
    })
}

async fn create(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    axum::Form(f): axum::Form<Form>,
) -> AppResult<Response> {
    let actor = actor(&staff)?;
    let mut p = match parse(&app, &actor, staff.tenant.org_type, &f, true).await? {
        Ok(p) => p,
        Err(e) => return edit_view(&app, &ctx, &staff, "", f, false, Some(&e)),
    };
    if store::list(&app.db, actor.scope()).await?.len() >= 20 {
        let e = AppError::Validation {
            message: "msg-fix-fields".into(),
            fields: vec![FieldError {
                field: "name".into(),
                message: "identity-oidc-error-limit".into(),
            }],
        };
        return edit_view(&app, &ctx, &staff, "", f, false, Some(&e));
    }
    p.client_secret_sealed =
        crate::mfa::seal(&app.config.secret_key, f.client_secret.trim().as_bytes());
    let mut tx = app.db.tenant(actor.scope()).begin().await?;
    let id = store::save(&mut tx, &p).await?;
    audit::append(
        &mut tx,
        Entry {
            ip: Some(&ctx.ip),
            detail: detail(&p),
            ..Entry::new("identity.oidc_provider_added")
                .by(&actor)
                .target("oidc_provider", &id)
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("{PATH}?notice=saved")).into_response())
}

async fn update(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<Form>,
) -> AppResult<Response> {
    let actor = actor(&staff)?;
    let before = store::get(&app.db, actor.scope(), &id)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut p = match parse(&app, &actor, staff.tenant.org_type, &f, false).await? {
        Ok(p) => p,
        Err(e) => return edit_view(&app, &ctx, &staff, &id, f, true, Some(&e)),
    };
    p.id = before.id.clone();
    // A blank secret keeps the current one: the page never shows it back.
    let rotated = !f.client_secret.trim().is_empty();
    p.client_secret_sealed = if rotated {
        crate::mfa::seal(&app.config.secret_key, f.client_secret.trim().as_bytes())
    } else {
        before.client_secret_sealed.clone()
    };
    let mut tx = app.db.tenant(actor.scope()).begin().await?;
    store::save(&mut tx, &p).await?;
    let mut d = detail(&p);
    d["secret_rotated"] = json!(rotated);
    audit::append(
        &mut tx,
        Entry {
            ip: Some(&ctx.ip),
            detail: d,
            ..Entry::new("identity.oidc_provider_changed")
                .by(&actor)
                .target("oidc_provider", &id)
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("{PATH}?notice=saved")).into_response())
}

async fn delete(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let actor = actor(&staff)?;
    let mut tx = app.db.tenant(actor.scope()).begin().await?;
    let Some(name) = store::delete(&mut tx, &id).await? else {
        return Err(AppError::NotFound);
    };
    audit::append(
        &mut tx,
        Entry {
            ip: Some(&ctx.ip),
            detail: json!({ "name": name }),
            ..Entry::new("identity.oidc_provider_deleted")
                .by(&actor)
                .target("oidc_provider", &id)
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("{PATH}?notice=saved")).into_response())
}
