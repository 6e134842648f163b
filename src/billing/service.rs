//! Subscription actions, one transaction each: the change and its audit row commit together.
//! Staff actions take an `Actor` holding `ManageInvoices` (the billing staff permission); client
//! reads go through [`crate::invoices::service::billing_actor`], the invoices' own grant.

use super::store::{self, Subscription};
use super::{Checked, SubStatus, SubscriptionInput};
use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::auth::Actor;
use crate::db::{DbError, TenantTx};
use crate::error::{AppError, AppResult};
use crate::i18n::k;

fn entry<'a>(action: &'a str, actor: &'a Actor, ip: &'a str, s: &'a Subscription) -> Entry<'a> {
    Entry {
        ip: Some(ip),
        company_id: Some(&s.company_id),
        ..Entry::new(action)
            .by(actor)
            .target("subscription", &s.id)
            .with("name", s.name.clone())
            .with("status", s.status.as_str())
    }
}

fn external_taken(e: DbError) -> AppError {
    match e {
        DbError::Conflict(_) => {
            AppError::field("external_id", k("subscription-error-external-taken"))
        }
        other => other.into(),
    }
}

async fn locked(tx: &mut TenantTx, id: &str) -> AppResult<Subscription> {
    store::get_locked(tx, id).await?.ok_or(AppError::NotFound)
}

/// The client's subscriptions; `actor` comes from `billing_actor`.
pub async fn client_subscriptions(app: &AppState, actor: &Actor) -> AppResult<Vec<Subscription>> {
    let company = actor.company_id().ok_or(AppError::NotFound)?;
    Ok(store::for_company(&app.db, actor.scope(), company.as_str()).await?)
}

/// Adds a subscription to a company of the tenant, in the tenant's billing currency.
pub async fn create(
    app: &AppState,
    actor: &Actor,
    ip: &str,
    company_id: &str,
    input: &SubscriptionInput,
) -> AppResult<Subscription> {
    let company = crate::companies::get(&app.db, actor.scope(), company_id.trim())
        .await?
        .ok_or(AppError::NotFound)?;
    let c: Checked = super::check(input)?;
    let mut tx = app.db.tenant(actor.scope()).begin().await?;
    let currency = crate::invoices::store::settings_in(&mut tx).await?.currency;
    let id = store::create(
        &mut tx,
        company.id.as_str(),
        &currency,
        &c,
        Some(actor.user_id().as_str()),
    )
    .await
    .map_err(external_taken)?;
    let s = locked(&mut tx, &id).await?;
    audit::append(
        &mut tx,
        entry("subscription.created", actor, ip, &s).with("company", company.name.clone()),
    )
    .await?;
    tx.commit().await?;
    Ok(s)
}

/// Replaces a subscription's fields.
pub async fn update(
    app: &AppState,
    actor: &Actor,
    ip: &str,
    id: &str,
    input: &SubscriptionInput,
) -> AppResult<Subscription> {
    let c = super::check(input)?;
    let mut tx = app.db.tenant(actor.scope()).begin().await?;
    let before = locked(&mut tx, id).await?;
    store::update(&mut tx, id, &c)
        .await
        .map_err(external_taken)?;
    let s = locked(&mut tx, id).await?;
    audit::append(
        &mut tx,
        entry("subscription.updated", actor, ip, &s)
            .with("from", before.status.as_str())
            .with("to", s.status.as_str()),
    )
    .await?;
    tx.commit().await?;
    Ok(s)
}

/// Cancels a subscription (kept for the record). Cancelling twice changes nothing and writes no
/// second audit row.
pub async fn cancel(app: &AppState, actor: &Actor, ip: &str, id: &str) -> AppResult<Subscription> {
    let mut tx = app.db.tenant(actor.scope()).begin().await?;
    let before = locked(&mut tx, id).await?;
    if before.status == SubStatus::Cancelled {
        tx.commit().await?;
        return Ok(before);
    }
    store::set_status(&mut tx, id, SubStatus::Cancelled).await?;
    let s = locked(&mut tx, id).await?;
    audit::append(&mut tx, entry("subscription.cancelled", actor, ip, &s)).await?;
    tx.commit().await?;
    Ok(s)
}
