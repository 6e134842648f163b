//! Online giving: a one-time gift paid on the tenant's payment provider's hosted checkout (the
//! same provider settings, client and signed webhook as invoices), and each member's saved card
//! for recurring gifts. A gift is recorded only when the provider's signed webhook confirms the
//! payment, once per provider id however often or concurrently the webhook arrives.
//!
//! Built-in tenants only: a tenant served by a remote Mission API records gifts in its own
//! system, so Portico offers its external giving link instead (see `docs/mission-api.md`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Fund, NewGift};
use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::auth::Actor;
use crate::db::{Db, DbResult, Row, TenantTx, now_ms};
use crate::error::{AppError, AppResult, FieldError};
use crate::i18n::k;
use crate::invoices::service::WebhookOutcome;
use crate::payments::{self, CheckoutRequest, PaymentError, Provider};
use crate::tenancy::TenantScope;

/// Smallest online gift, in minor units (1.00).
pub const MIN_MINOR: i64 = 100;
/// Largest online gift, in minor units (100,000.00).
pub const MAX_MINOR: i64 = 10_000_000;

/// What the member can do to give online.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct GiveOptions {
    /// `provider` (give here, through the tenant's payment provider), `link` (the tenant's
    /// external giving page) or `none` (giving online is not available).
    pub mode: String,
    /// The external giving page (mode `link`).
    pub giving_url: Option<String>,
    /// Currency of gifts (the tenant's).
    pub currency: String,
    /// Smallest amount, minor units.
    pub min_minor: i64,
    /// Largest amount, minor units.
    pub max_minor: i64,
    /// Funds that accept gifts (mode `provider`).
    pub funds: Vec<Fund>,
    /// Recurring gifts can be managed here (built-in tenants).
    pub recurring: bool,
    /// New recurring gifts can be set up (a provider is configured).
    pub recurring_new: bool,
}

impl GiveOptions {
    /// Gifts are paid here.
    pub fn provider(&self) -> bool {
        self.mode == "provider"
    }
}

/// The provider a tenant's payment settings point at (the invoices' settings row).
pub async fn provider_of(app: &AppState, scope: &TenantScope) -> AppResult<Option<Provider>> {
    let s = crate::invoices::store::settings(&app.db, scope).await?;
    Ok(crate::invoices::service::provider(app, &s))
}

/// Whether a tenant's payment provider is set up (key and webhook secret).
pub async fn provider_ready(app: &AppState, scope: &TenantScope) -> AppResult<bool> {
    let s = crate::invoices::store::settings(&app.db, scope).await?;
    Ok(s.webhook_secret_sealed.is_some() && crate::invoices::service::provider(app, &s).is_some())
}

/// The active funds of a built-in tenant.
pub async fn active_funds(db: &Db, scope: &TenantScope) -> DbResult<Vec<Fund>> {
    Ok(super::funds(db, scope)
        .await?
        .into_iter()
        .filter(|f| f.active)
        .collect())
}

/// How the tenant's members may give online.
pub async fn options(app: &AppState, scope: &TenantScope) -> AppResult<GiveOptions> {
    let settings = crate::mission::settings::load(&app.db, scope).await?;
    let builtin = settings.source == "builtin";
    let ready = builtin && provider_ready(app, scope).await?;
    let link = Some(settings.giving_url).filter(|u| !u.is_empty());
    let mode = if ready {
        "provider"
    } else if link.is_some() {
        "link"
    } else {
        "none"
    };
    Ok(GiveOptions {
        mode: mode.into(),
        giving_url: if ready { None } else { link },
        currency: settings.currency,
        min_minor: MIN_MINOR,
        max_minor: MAX_MINOR,
        funds: if ready {
            active_funds(&app.db, scope).await?
        } else {
            Vec::new()
        },
        recurring: builtin,
        recurring_new: ready,
    })
}

/// An amount as given: minor units (JSON) or a decimal typed by a person (forms).
#[derive(Clone, Debug, Default, Deserialize, schemars::JsonSchema)]
pub struct Amount {
    /// Amount in minor units (`2500` is 25.00).
    #[serde(default)]
    pub amount_minor: Option<i64>,
    /// Amount as a decimal (`25.00`), when `amount_minor` is absent.
    #[serde(default)]
    pub amount: Option<String>,
    /// ISO currency; must be the tenant's when given.
    #[serde(default)]
    pub currency: Option<String>,
}

impl Amount {
    /// The amount in minor units within the online limits, in the tenant's `currency`.
    pub fn check(&self, currency: &str) -> Result<i64, Vec<FieldError>> {
        let err = |f: &str, m: &str| FieldError {
            field: f.into(),
            message: m.into(),
        };
        let mut errs = Vec::new();
        if let Some(c) = self
            .currency
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
            && !c.eq_ignore_ascii_case(currency)
        {
            errs.push(err("currency", k("mission-error-give-currency")));
        }
        let minor = match (self.amount_minor, self.amount.as_deref()) {
            (Some(m), _) => Ok(m),
            (None, Some(text)) => crate::mission::parse_amount(text),
            (None, None) => Err("mission-error-amount-missing"),
        };
        match minor {
            Ok(m) if m < MIN_MINOR => errs.push(err("amount", k("mission-error-give-min"))),
            Ok(m) if m > MAX_MINOR => errs.push(err("amount", k("mission-error-give-max"))),
            Ok(m) if errs.is_empty() => return Ok(m),
            Ok(_) => {}
            Err(e) => errs.push(err("amount", e)),
        }
        Err(errs)
    }
}

/// Checks a fund id against the tenant's active funds.
pub fn check_fund<'f>(funds: &'f [Fund], id: &str) -> Result<&'f Fund, FieldError> {
    funds
        .iter()
        .find(|f| f.active && f.id == id.trim())
        .ok_or(FieldError {
            field: "fund_id".into(),
            message: k("mission-error-fund").into(),
        })
}

/// A one-time gift as the member asks for it.
#[derive(Clone, Debug, Default, Deserialize, schemars::JsonSchema)]
pub struct GiveInput {
    /// The fund (id of an active fund).
    #[serde(default)]
    pub fund_id: String,
    /// The amount.
    #[serde(flatten)]
    pub amount: Amount,
}

/// A started checkout: where to send the member.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Started {
    /// The provider's hosted checkout page.
    pub url: String,
    /// The provider's checkout id (the gift is recorded under it once paid).
    pub session_id: String,
}

/// Checks fund and amount for a gift or a schedule; errors name their fields.
pub async fn check_gift(
    app: &AppState,
    scope: &TenantScope,
    fund_id: &str,
    amount: &Amount,
) -> AppResult<(Fund, i64, String)> {
    let currency = crate::mission::settings::load(&app.db, scope)
        .await?
        .currency;
    let funds = active_funds(&app.db, scope).await?;
    let fund = check_fund(&funds, fund_id);
    let minor = amount.check(&currency);
    match (fund, minor) {
        (Ok(f), Ok(m)) => Ok((f.clone(), m, currency)),
        (f, m) => {
            let mut errs = Vec::new();
            if let Err(e) = f {
                errs.push(e);
            }
            if let Err(e) = m {
                errs.extend(e);
            }
            Err(AppError::fields(errs))
        }
    }
}

fn provider_error(e: PaymentError) -> AppError {
    tracing::warn!(error = %e, "payment provider call failed");
    AppError::Unprocessable(k("mission-error-provider").into())
}

/// Opens the provider's hosted checkout for a one-time gift of the member; the gift is
/// recorded when the provider's webhook reports the payment.
pub async fn start(
    app: &AppState,
    me: &Actor,
    ip: &str,
    slug: &str,
    input: &GiveInput,
) -> AppResult<Started> {
    let opts = options(app, me.scope()).await?;
    if !opts.provider() {
        return Err(AppError::Unprocessable(
            k("mission-error-give-unavailable").into(),
        ));
    }
    let (fund, amount, currency) =
        check_gift(app, me.scope(), &input.fund_id, &input.amount).await?;
    let Some(p) = provider_of(app, me.scope()).await? else {
        return Err(AppError::Unprocessable(
            k("mission-error-give-unavailable").into(),
        ));
    };
    let member = me.user_id().as_str().to_string();
    let metadata: BTreeMap<String, String> = [
        ("tenant".to_string(), slug.to_string()),
        ("mission_checkout".to_string(), "gift".to_string()),
        ("member_id".to_string(), member.clone()),
        ("fund_id".to_string(), fund.id.clone()),
    ]
    .into();
    let back = format!("{}/portal/mission/giving", app.config.base_url);
    let session = payments::create_checkout(
        &p,
        &CheckoutRequest {
            amount,
            currency: currency.clone(),
            description: format!("Gift: {}", fund.name),
            reference: member.clone(),
            success_url: format!("{back}?notice=given&session_id={{CHECKOUT_SESSION_ID}}"),
            cancel_url: format!("{back}?notice=give-cancelled"),
            email: Some(me.email().to_string()),
            metadata,
        },
    )
    .await
    .map_err(provider_error)?;
    let mut tx = app.db.tenant(me.scope()).begin().await?;
    let tenant = tx.tenant_id().to_string();
    sqlx::query(
        "INSERT INTO mission_checkouts (tenant_id, id, member_id, fund_id, amount_minor, currency, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&tenant)
    .bind(&session.id)
    .bind(&member)
    .bind(&fund.id)
    .bind(amount)
    .bind(&currency)
    .bind(now_ms())
    .execute(tx.conn())
    .await
    .map_err(crate::db::DbError::from)?;
    audit::append(
        &mut tx,
        Entry {
            ip: Some(ip),
            ..Entry::new("mission.give_started")
                .by(me)
                .target("fund", &fund.id)
                .with("name", fund.name.clone())
                .with("amount_minor", amount)
                .with("currency", currency.clone())
                .with("session", session.id.clone())
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Started {
        url: session.url,
        session_id: session.id,
    })
}

/// The tenant's time zone.
pub async fn tenant_tz(db: &Db, scope: &TenantScope) -> DbResult<chrono_tz::Tz> {
    let zone: String = sqlx::query("SELECT time_zone FROM tenants WHERE id = $1")
        .bind(scope.tenant_id().as_str())
        .fetch_one(db.tenant(scope).reader())
        .await?
        .try_get("time_zone")?;
    Ok(crate::mission::tenant_zone(&zone))
}

/// Inserts a gift the provider confirmed under its id; `None` when that id was recorded before.
pub async fn insert_confirmed(
    tx: &mut TenantTx,
    g: &NewGift,
    provider_ref: &str,
) -> DbResult<Option<String>> {
    let id = crate::db::new_id();
    let r = sqlx::query(
        "INSERT INTO mission_gifts (id, tenant_id, member_id, fund_id, given_on, amount_minor, currency, method, recurring, created_by, created_at, provider_ref) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, $10, $11) \
         ON CONFLICT (tenant_id, provider_ref) DO NOTHING RETURNING id",
    )
    .bind(&id)
    .bind(tx.tenant_id().to_string())
    .bind(&g.member_id)
    .bind(&g.fund_id)
    .bind(&g.given_on)
    .bind(g.amount_minor)
    .bind(&g.currency)
    .bind(&g.method)
    .bind(i64::from(g.recurring))
    .bind(now_ms())
    .bind(provider_ref)
    .fetch_optional(tx.conn())
    .await?;
    Ok(r.map(|_| id))
}

/// Whether a verified provider event is about Mission giving (not an invoice).
pub fn is_mission(event: &payments::Event) -> bool {
    let m = &event.data.object.metadata;
    m.contains_key("mission_checkout") || m.contains_key("mission_charge")
}

/// Records the gift a verified provider event reports, once per provider id. The checkout (or
/// recurring charge) must be the tenant's own; anything else is not found.
pub async fn record_webhook(
    app: &AppState,
    scope: &TenantScope,
    slug: &str,
    event: &payments::Event,
) -> AppResult<WebhookOutcome> {
    let Some(s) = event.paid_session() else {
        return Ok(WebhookOutcome::Ignored);
    };
    if s.metadata.get("tenant").map(String::as_str) != Some(slug) {
        return Err(AppError::NotFound);
    }
    if let Some(charge) = s.metadata.get("mission_charge") {
        return super::recurring::record_paid_charge(app, scope, charge, s, &event.id).await;
    }
    let row = sqlx::query(
        "SELECT member_id, fund_id, amount_minor, currency FROM mission_checkouts \
         WHERE tenant_id = $1 AND id = $2",
    )
    .bind(scope.tenant_id().as_str())
    .bind(&s.id)
    .fetch_optional(app.db.tenant(scope).reader())
    .await
    .map_err(crate::db::DbError::from)?
    .ok_or(AppError::NotFound)?;
    let get = |c: &str| {
        row.try_get::<String, _>(c)
            .map_err(crate::db::DbError::from)
    };
    let (member_id, fund_id, currency) = (get("member_id")?, get("fund_id")?, get("currency")?);
    let expected: i64 = row
        .try_get("amount_minor")
        .map_err(crate::db::DbError::from)?;
    if s.amount_paid() != Some(expected) {
        return Err(AppError::Unprocessable(
            "the amount does not match the checkout".into(),
        ));
    }
    if let Some(c) = &s.currency
        && !c.eq_ignore_ascii_case(&currency)
    {
        return Err(AppError::Unprocessable(
            "the currency does not match".into(),
        ));
    }
    let tz = tenant_tz(&app.db, scope).await?;
    let g = NewGift {
        member_id,
        fund_id,
        given_on: crate::mission::today(tz).format("%Y-%m-%d").to_string(),
        amount_minor: expected,
        currency,
        method: "online".into(),
        recurring: false,
    };
    let mut tx = app.db.tenant(scope).begin().await?;
    let Some(gift) = insert_confirmed(&mut tx, &g, &s.id).await? else {
        return Ok(WebhookOutcome::Duplicate);
    };
    audit::append(
        &mut tx,
        Entry {
            actor_id: Some(&g.member_id),
            ..Entry::new("mission.gift_given_online")
                .target("gift", &gift)
                .with("member_id", g.member_id.clone())
                .with("fund_id", g.fund_id.clone())
                .with("amount_minor", g.amount_minor)
                .with("currency", g.currency.clone())
                .with("session", s.id.clone())
                .with("event", event.id.clone())
        },
    )
    .await?;
    tx.commit().await?;
    Ok(WebhookOutcome::Recorded)
}

/// The gift recorded for a checkout the member started, if the webhook has confirmed it.
pub async fn confirmed_gift(
    db: &Db,
    scope: &TenantScope,
    member_id: &str,
    session_id: &str,
) -> DbResult<Option<(i64, String, String)>> {
    let r = sqlx::query(
        "SELECT g.amount_minor, g.currency, f.name FROM mission_gifts g \
         JOIN mission_funds f ON f.tenant_id = g.tenant_id AND f.id = g.fund_id \
         WHERE g.tenant_id = $1 AND g.member_id = $2 AND g.provider_ref = $3",
    )
    .bind(scope.tenant_id().as_str())
    .bind(member_id)
    .bind(session_id)
    .fetch_optional(db.tenant(scope).reader())
    .await?;
    match r {
        Some(r) => Ok(Some((
            r.try_get("amount_minor")?,
            r.try_get("currency")?,
            r.try_get("name")?,
        ))),
        None => Ok(None),
    }
}

// --- The member's saved card (recurring gifts are charged to it) ---

/// The member's provider customer, if one was created.
pub async fn customer(db: &Db, scope: &TenantScope, member_id: &str) -> DbResult<Option<String>> {
    let r = sqlx::query(
        "SELECT customer_id FROM mission_giver_accounts WHERE tenant_id = $1 AND member_id = $2",
    )
    .bind(scope.tenant_id().as_str())
    .bind(member_id)
    .fetch_optional(db.tenant(scope).reader())
    .await?;
    Ok(r.map(|r| r.try_get("customer_id")).transpose()?)
}

/// The member's card as shown.
#[derive(Clone, Debug, Default, Serialize, schemars::JsonSchema)]
pub struct CardState {
    /// "Visa •••• 4242", when a card is saved.
    pub label: Option<String>,
    /// False when the provider could not be asked.
    pub available: bool,
}

/// The card recurring gifts are charged to: the first card the provider lists for the
/// member's customer (only cards the provider attributes to that customer).
pub async fn first_card(
    p: &Provider,
    customer: &str,
) -> Result<Option<payments::PaymentMethod>, PaymentError> {
    Ok(payments::list_payment_methods(p, customer)
        .await?
        .into_iter()
        .next())
}

fn label(m: &payments::PaymentMethod) -> String {
    let card = m.card.clone().unwrap_or_default();
    let mut brand = card.brand;
    if let Some(f) = brand.get(0..1) {
        brand = format!("{}{}", f.to_uppercase(), &brand[1..]);
    }
    format!("{brand} •••• {}", card.last4)
}

/// The member's saved card, read from the provider.
pub async fn card(app: &AppState, me: &Actor) -> AppResult<CardState> {
    let Some(p) = provider_of(app, me.scope()).await? else {
        return Ok(CardState::default());
    };
    let Some(c) = customer(&app.db, me.scope(), me.user_id().as_str()).await? else {
        return Ok(CardState {
            label: None,
            available: true,
        });
    };
    match first_card(&p, &c).await {
        Ok(m) => Ok(CardState {
            label: m.as_ref().map(label),
            available: true,
        }),
        Err(e) => {
            tracing::warn!(error = %e, "the member's card could not be read");
            Ok(CardState::default())
        }
    }
}

/// Opens the provider's hosted page where the member saves a card (creating the member's
/// provider customer the first time); returns its address.
pub async fn start_card_setup(
    app: &AppState,
    me: &Actor,
    ip: &str,
    slug: &str,
) -> AppResult<String> {
    if !options(app, me.scope()).await?.recurring_new {
        return Err(AppError::Unprocessable(
            k("mission-error-give-unavailable").into(),
        ));
    }
    let Some(p) = provider_of(app, me.scope()).await? else {
        return Err(AppError::Unprocessable(
            k("mission-error-give-unavailable").into(),
        ));
    };
    let member = me.user_id().as_str().to_string();
    let metadata: BTreeMap<String, String> = [
        ("tenant".to_string(), slug.to_string()),
        ("mission_member".to_string(), member.clone()),
    ]
    .into();
    let mut cust = customer(&app.db, me.scope(), &member).await?;
    if cust.is_none() {
        let created = payments::create_customer(&p, me.email(), &metadata)
            .await
            .map_err(provider_error)?;
        let mut tx = app.db.tenant(me.scope()).begin().await?;
        let tenant = tx.tenant_id().to_string();
        // A concurrent setup may have stored one first; that one stays.
        sqlx::query(
            "INSERT INTO mission_giver_accounts (tenant_id, member_id, customer_id, created_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (tenant_id, member_id) DO NOTHING",
        )
        .bind(&tenant)
        .bind(&member)
        .bind(&created.id)
        .bind(now_ms())
        .execute(tx.conn())
        .await
        .map_err(crate::db::DbError::from)?;
        tx.commit().await?;
        cust = customer(&app.db, me.scope(), &member).await?;
    }
    let cust = cust.ok_or(AppError::NotFound)?;
    let back = format!("{}/portal/mission/giving", app.config.base_url);
    let session = payments::create_setup_session(
        &p,
        &cust,
        &format!("{back}?notice=card-saved#recurring-h"),
        &format!("{back}#recurring-h"),
        &metadata,
    )
    .await
    .map_err(provider_error)?;
    let mut tx = app.db.tenant(me.scope()).begin().await?;
    audit::append(
        &mut tx,
        Entry {
            ip: Some(ip),
            ..Entry::new("mission.card_setup_started")
                .by(me)
                .target("user", &member)
                .with("session", session.id.clone())
        },
    )
    .await?;
    tx.commit().await?;
    Ok(session.url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_checked_against_limits_and_currency() {
        let a = |m: i64| Amount {
            amount_minor: Some(m),
            ..Amount::default()
        };
        assert_eq!(a(2500).check("USD").ok(), Some(2500));
        assert!(a(99).check("USD").is_err());
        assert!(a(MAX_MINOR + 1).check("USD").is_err());
        let typed = Amount {
            amount: Some("25.50".into()),
            ..Amount::default()
        };
        assert_eq!(typed.check("USD").ok(), Some(2550));
        let euros = Amount {
            currency: Some("EUR".into()),
            ..a(2500)
        };
        assert_eq!(
            euros.check("USD").map_err(|e| e[0].field.clone()),
            Err("currency".to_string())
        );
    }
}
