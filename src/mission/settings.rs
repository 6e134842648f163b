//! The Mission settings of a tenant: where its data comes from, its statement details (address,
//! tax id, wording), its external giving link and whether prayer requests wait for approval.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::auth::{Actor, Permission, StaffUser};
use crate::db::{Db, DbResult, Row, flag, now_ms};
use crate::error::{AppResult, FieldError};
use crate::http::PageRouter;
use crate::http::context::Ctx;
use crate::tenancy::TenantScope;
use crate::web::{FormErrors, PageCtx, render};

/// A tenant's Mission settings (defaults when never saved).
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Settings {
    /// `builtin` (Portico's tables) or `remote` (the tenant's Mission API).
    pub source: String,
    /// Address of the Mission API (remote source).
    pub remote_url: String,
    /// The API key, sealed with the server key; never shown or serialised.
    #[serde(skip)]
    #[schemars(skip)]
    pub remote_key_sealed: Option<String>,
    /// ISO currency of gifts.
    pub currency: String,
    /// Postal address printed on statements.
    pub org_address: String,
    /// Tax id printed on statements.
    pub tax_id: String,
    /// Closing words of the year-end statement.
    pub statement_wording: String,
    /// External giving page shown to members, when the tenant has one.
    pub giving_url: String,
    /// New prayer requests wait for staff approval.
    pub prayer_approval: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            source: "builtin".into(),
            remote_url: String::new(),
            remote_key_sealed: None,
            currency: "USD".into(),
            org_address: String::new(),
            tax_id: String::new(),
            statement_wording: String::new(),
            giving_url: String::new(),
            prayer_approval: false,
        }
    }
}

/// Reads the tenant's settings.
pub async fn load(db: &Db, scope: &TenantScope) -> DbResult<Settings> {
    let row = sqlx::query(
        "SELECT source, remote_url, remote_key_sealed, currency, org_address, tax_id, statement_wording, giving_url, prayer_approval \
         FROM mission_settings WHERE tenant_id = $1",
    )
    .bind(scope.tenant_id().as_str())
    .fetch_optional(db.tenant(scope).reader())
    .await?;
    let Some(r) = row else {
        return Ok(Settings::default());
    };
    let get = |c: &str| r.try_get::<String, _>(c);
    Ok(Settings {
        source: get("source")?,
        remote_url: get("remote_url")?,
        remote_key_sealed: r.try_get("remote_key_sealed")?,
        currency: get("currency")?,
        org_address: get("org_address")?,
        tax_id: get("tax_id")?,
        statement_wording: get("statement_wording")?,
        giving_url: get("giving_url")?,
        prayer_approval: flag(&r, "prayer_approval")?,
    })
}

/// Writes the settings inside a transaction (an upsert both backends accept).
pub async fn save_in(tx: &mut crate::db::TenantTx, s: &Settings) -> DbResult<()> {
    let tenant = tx.tenant_id().to_string();
    sqlx::query(
        "INSERT INTO mission_settings (tenant_id, source, currency, org_address, tax_id, statement_wording, giving_url, prayer_approval, updated_at, remote_url, remote_key_sealed) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
         ON CONFLICT (tenant_id) DO UPDATE SET source = $2, currency = $3, org_address = $4, tax_id = $5, \
         statement_wording = $6, giving_url = $7, prayer_approval = $8, updated_at = $9, remote_url = $10, \
         remote_key_sealed = $11",
    )
    .bind(&tenant)
    .bind(&s.source)
    .bind(&s.currency)
    .bind(&s.org_address)
    .bind(&s.tax_id)
    .bind(&s.statement_wording)
    .bind(&s.giving_url)
    .bind(i64::from(s.prayer_approval))
    .bind(now_ms())
    .bind(&s.remote_url)
    .bind(&s.remote_key_sealed)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Staff pages.
pub fn pages() -> PageRouter {
    PageRouter::default().route(
        "/admin/mission/settings",
        get(settings_page).post(settings_form),
    )
}

#[derive(askama::Template)]
#[template(path = "mission/templates/admin_settings.html")]
struct SettingsPage {
    page: PageCtx,
    s: Settings,
    errors: FormErrors,
    saved: bool,
    /// The payment provider (shared with invoices): its address and whether keys are stored.
    provider_base_url: String,
    provider_key_set: bool,
    webhook_secret_set: bool,
    webhook_url: String,
}

/// What the page shows of the payment provider settings (never the keys).
async fn provider_view(
    app: &AppState,
    scope: &TenantScope,
    slug: &str,
) -> AppResult<(String, bool, bool, String)> {
    let b = crate::invoices::store::settings(&app.db, scope).await?;
    Ok((
        b.provider_base_url.unwrap_or_default(),
        b.provider_secret_sealed.is_some(),
        b.webhook_secret_sealed.is_some(),
        format!("{}/webhooks/payments/{slug}", app.config.base_url),
    ))
}

#[derive(Deserialize, Default)]
struct SavedQuery {
    notice: Option<String>,
}

async fn settings_page(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Query(q): Query<SavedQuery>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageGiving)?;
    let s = load(&app.db, actor.scope()).await?;
    let (provider_base_url, provider_key_set, webhook_secret_set, webhook_url) =
        provider_view(&app, actor.scope(), &staff.tenant.slug).await?;
    render(&SettingsPage {
        page: PageCtx::new(&ctx),
        s,
        errors: FormErrors::default(),
        saved: q.notice.as_deref() == Some("saved"),
        provider_base_url,
        provider_key_set,
        webhook_secret_set,
        webhook_url,
    })
}

#[derive(Deserialize)]
struct SettingsForm {
    #[serde(default)]
    currency: String,
    #[serde(default)]
    org_address: String,
    #[serde(default)]
    tax_id: String,
    #[serde(default)]
    statement_wording: String,
    #[serde(default)]
    giving_url: String,
    #[serde(default)]
    prayer_approval: Option<String>,
    #[serde(default)]
    source: String,
    #[serde(default)]
    remote_url: String,
    /// A new API key; empty keeps the stored one.
    #[serde(default)]
    remote_key: String,
    /// Payment provider API base (empty: the real provider).
    #[serde(default)]
    provider_base_url: String,
    /// A new provider secret key; empty keeps the stored one.
    #[serde(default)]
    provider_secret_key: String,
    /// A new webhook signing secret; empty keeps the stored one.
    #[serde(default)]
    webhook_secret: String,
}

/// A Mission API address: https, or http on this machine (tests, a local bridge).
fn check_remote_url(s: &str) -> Result<String, FieldError> {
    let bad = || FieldError {
        field: "remote_url".into(),
        message: "mission-error-remote-url".into(),
    };
    let s = s.trim().trim_end_matches('/');
    let u = url::Url::parse(s).map_err(|_| bad())?;
    let loopback = matches!(u.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    if (u.scheme() == "https" || (u.scheme() == "http" && loopback)) && s.len() <= 500 {
        Ok(s.to_string())
    } else {
        Err(bad())
    }
}

fn check(
    f: &SettingsForm,
    current: &Settings,
    server_key: &[u8],
) -> Result<Settings, Vec<FieldError>> {
    let mut errs = Vec::new();
    let mut keep = |r: Result<String, FieldError>| match r {
        Ok(v) => v,
        Err(e) => {
            errs.push(e);
            String::new()
        }
    };
    let currency = f.currency.trim().to_ascii_uppercase();
    let currency = if currency.len() == 3 && currency.bytes().all(|b| b.is_ascii_uppercase()) {
        currency
    } else {
        keep(Err(FieldError {
            field: "currency".into(),
            message: "mission-error-currency".into(),
        }))
    };
    let org_address = keep(crate::text::multi_line(
        "org_address",
        f.org_address.trim(),
        400,
    ));
    let tax_id = keep(super::line("tax_id", &f.tax_id, 60));
    let statement_wording = keep(crate::text::multi_line(
        "statement_wording",
        f.statement_wording.trim(),
        1000,
    ));
    let url = f.giving_url.trim();
    let giving_url = if url.is_empty() || url.starts_with("https://") {
        keep(super::line("giving_url", url, 500))
    } else {
        keep(Err(FieldError {
            field: "giving_url".into(),
            message: "mission-error-giving-url".into(),
        }))
    };
    let source = if f.source == "remote" {
        "remote"
    } else {
        "builtin"
    };
    let mut remote_url = current.remote_url.clone();
    let mut remote_key_sealed = current.remote_key_sealed.clone();
    if !f.remote_key.trim().is_empty() {
        remote_key_sealed = Some(crate::mfa::seal(server_key, f.remote_key.trim().as_bytes()));
    }
    if source == "remote" || !f.remote_url.trim().is_empty() {
        match check_remote_url(&f.remote_url) {
            Ok(u) => remote_url = u,
            Err(e) => errs.push(e),
        }
    }
    if source == "remote" && remote_key_sealed.is_none() {
        errs.push(FieldError {
            field: "remote_key".into(),
            message: "mission-error-remote-key".into(),
        });
    }
    if !errs.is_empty() {
        return Err(errs);
    }
    Ok(Settings {
        source: source.into(),
        remote_url,
        remote_key_sealed,
        currency,
        org_address,
        tax_id,
        statement_wording,
        giving_url,
        prayer_approval: f.prayer_approval.is_some(),
    })
}

/// The payment provider part of the form, checked: base address and new keys.
struct ProviderForm {
    base: Option<String>,
    secret_key: Option<String>,
    webhook_secret: Option<String>,
}

async fn save(
    app: &AppState,
    actor: &Actor,
    ip: &str,
    s: &Settings,
    p: &ProviderForm,
) -> AppResult<()> {
    let mut tx = app.db.tenant(actor.scope()).begin().await?;
    save_in(&mut tx, s).await?;
    // The provider settings are the invoices' row: one integration, one webhook endpoint.
    let mut b = crate::invoices::store::settings_in(&mut tx).await?;
    let mut keys_changed = Vec::new();
    if let Some(k) = &p.secret_key {
        b.provider_secret_sealed = Some(crate::mfa::seal(&app.config.secret_key, k.as_bytes()));
        keys_changed.push("provider_secret_key");
    }
    if let Some(k) = &p.webhook_secret {
        b.webhook_secret_sealed = Some(crate::mfa::seal(&app.config.secret_key, k.as_bytes()));
        keys_changed.push("webhook_secret");
    }
    let provider_changed = b.provider_base_url != p.base || !keys_changed.is_empty();
    b.provider_base_url = p.base.clone();
    b.currency = s.currency.clone();
    crate::invoices::store::save_settings(&mut tx, &b).await?;
    if provider_changed {
        audit::append(
            &mut tx,
            Entry {
                ip: Some(ip),
                // Which keys changed, never their values.
                detail: json!({ "provider_base_url": p.base, "keys_changed": keys_changed }),
                ..Entry::new("mission.payment_settings_changed").by(actor)
            },
        )
        .await?;
    }
    audit::append(
        &mut tx,
        Entry {
            ip: Some(ip),
            detail: json!({ "currency": s.currency, "prayer_approval": s.prayer_approval, "giving_url": s.giving_url,
                "source": s.source, "remote_url": s.remote_url }),
            ..Entry::new("mission.settings_changed").by(actor)
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn settings_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    axum::Form(f): axum::Form<SettingsForm>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageGiving)?;
    let current = load(&app.db, actor.scope()).await?;
    let keep = |k: &str| Some(k.trim().to_string()).filter(|k| !k.is_empty());
    let base =
        crate::invoices::service::check_base_url(&f.provider_base_url).map_err(|_| FieldError {
            field: "provider_base_url".into(),
            message: "mission-error-provider-url".into(),
        });
    let checked = match (check(&f, &current, &app.config.secret_key), base) {
        (Ok(s), Ok(base)) => Ok((s, base)),
        (Err(mut e), Err(b)) => {
            e.push(b);
            Err(e)
        }
        (Err(e), _) => Err(e),
        (_, Err(b)) => Err(vec![b]),
    };
    match checked {
        Ok((s, base)) => {
            let p = ProviderForm {
                base,
                secret_key: keep(&f.provider_secret_key),
                webhook_secret: keep(&f.webhook_secret),
            };
            save(&app, &actor, &ctx.ip, &s, &p).await?;
            Ok(Redirect::to("/admin/mission/settings?notice=saved").into_response())
        }
        Err(errs) => {
            let (_, provider_key_set, webhook_secret_set, webhook_url) =
                provider_view(&app, actor.scope(), &staff.tenant.slug).await?;
            let mut r = render(&SettingsPage {
                page: PageCtx::new(&ctx),
                s: Settings {
                    currency: f.currency,
                    org_address: f.org_address,
                    tax_id: f.tax_id,
                    statement_wording: f.statement_wording,
                    giving_url: f.giving_url,
                    prayer_approval: f.prayer_approval.is_some(),
                    source: if f.source == "remote" {
                        "remote".into()
                    } else {
                        "builtin".into()
                    },
                    remote_url: f.remote_url,
                    ..current
                },
                errors: FormErrors(errs),
                saved: false,
                provider_base_url: f.provider_base_url,
                provider_key_set,
                webhook_secret_set,
                webhook_url,
            })?;
            *r.status_mut() = StatusCode::BAD_REQUEST;
            Ok(r)
        }
    }
}
