//! Recurring gifts: a member's schedule (fund, amount, weekly or monthly from a start date),
//! changed, paused, resumed or cancelled by that member only, and the background job that
//! charges due schedules off-session to the member's saved card.
//!
//! Each occurrence is claimed once: a row in `mission_recurring_charges` unique per
//! (schedule, date), inserted in the same transaction that moves the schedule's next date on.
//! Only the run that inserted it calls the provider, with the idempotency key
//! `mission-recurring-{schedule}-{date}`, so concurrent runs or retries never charge twice. The
//! gift is recorded once per provider id (the payment intent), by the job's answer or the
//! provider's webhook, whichever comes first. A refusal leaves the schedule active and shows on
//! the member's page; the missed date is not tried again.
//!
//! A run that stops between its claim and recording the outcome (a crash, a deploy) leaves the
//! claim `pending`. A later run takes such a claim over once it is older than [`CLAIM_LEASE_MS`]
//! and asks the provider again with the SAME idempotency key, so a charge that did go through
//! the first time is answered again rather than made twice. Claims older than
//! [`CLAIM_RETRY_MS`] (beyond the provider's memory of keys) are settled as failed without a
//! call; the webhook still records the gift if the first charge went through.

use std::time::Duration;

use chrono::{Days, Months, NaiveDate};
use serde::{Deserialize, Serialize};

use super::NewGift;
use super::give::{self, Amount};
use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::auth::Actor;
use crate::db::{AnyRow, Db, DbResult, Row, new_id, now_ms};
use crate::error::{AppError, AppResult, FieldError};
use crate::i18n::k;
use crate::invoices::service::WebhookOutcome;
use crate::jobs::{Job, JobError, JobKind};
use crate::payments::{self, PaymentError, Provider, SessionObject};
use crate::tenancy::{OrgType, TenantScope};

/// How long a claimed occurrence may stay unsettled before a later run takes it over; far
/// longer than any provider call, so a run still waiting for its answer is not overtaken.
pub const CLAIM_LEASE_MS: i64 = 15 * 60 * 1000;

/// How old a claim may be and still be asked again: the provider forgets idempotency keys
/// after a day, and a key it forgot could charge twice.
pub const CLAIM_RETRY_MS: i64 = 20 * 3600 * 1000;

/// How often a schedule gives.
pub const FREQUENCIES: [&str; 2] = ["weekly", "monthly"];

/// A recurring gift schedule.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Schedule {
    /// Id.
    pub id: String,
    /// The giver.
    pub member_id: String,
    /// The giver's name.
    pub member_name: String,
    /// Fund id.
    pub fund_id: String,
    /// Fund name.
    pub fund_name: String,
    /// Amount per gift, minor units.
    pub amount_minor: i64,
    /// ISO currency.
    pub currency: String,
    /// `weekly` or `monthly`.
    pub frequency: String,
    /// First gift day, `YYYY-MM-DD` in the tenant's zone.
    pub start_on: String,
    /// Next gift day, `YYYY-MM-DD` in the tenant's zone.
    pub next_on: String,
    /// `active` or `paused`.
    pub status: String,
    /// Why the latest charge failed, until one succeeds.
    pub last_error: Option<String>,
    /// When it failed (Unix ms).
    pub last_error_at: Option<i64>,
}

fn schedule_from(r: &AnyRow) -> Result<Schedule, sqlx::Error> {
    Ok(Schedule {
        id: r.try_get("id")?,
        member_id: r.try_get("member_id")?,
        member_name: r.try_get("member_name")?,
        fund_id: r.try_get("fund_id")?,
        fund_name: r.try_get("fund_name")?,
        amount_minor: r.try_get("amount_minor")?,
        currency: r.try_get("currency")?,
        frequency: r.try_get("frequency")?,
        start_on: r.try_get("start_on")?,
        next_on: r.try_get("next_on")?,
        status: r.try_get("status")?,
        last_error: r.try_get("last_error")?,
        last_error_at: r.try_get("last_error_at")?,
    })
}

const SELECT: &str = "SELECT r.id, r.member_id, u.name AS member_name, r.fund_id, f.name AS fund_name, \
    r.amount_minor, r.currency, r.frequency, r.start_on, r.next_on, r.status, r.last_error, r.last_error_at \
    FROM mission_recurring r JOIN users u ON u.tenant_id = r.tenant_id AND u.id = r.member_id \
    JOIN mission_funds f ON f.tenant_id = r.tenant_id AND f.id = r.fund_id \
    WHERE r.tenant_id = $1 AND r.status <> 'cancelled'";

/// The live (not cancelled) schedules of the tenant, or of one member.
pub async fn list(
    db: &Db,
    scope: &TenantScope,
    member_id: Option<&str>,
) -> DbResult<Vec<Schedule>> {
    let rows = sqlx::query(&format!(
        "{SELECT} AND ($2 = '' OR r.member_id = $2) ORDER BY u.name, r.created_at, r.id"
    ))
    .bind(scope.tenant_id().as_str())
    .bind(member_id.unwrap_or(""))
    .fetch_all(db.tenant(scope).reader())
    .await?;
    Ok(rows.iter().map(schedule_from).collect::<Result<_, _>>()?)
}

/// One live schedule of the member; another member's (or tenant's) is `None`.
pub async fn mine(db: &Db, me: &Actor, id: &str) -> DbResult<Option<Schedule>> {
    let r = sqlx::query(&format!("{SELECT} AND r.member_id = $2 AND r.id = $3"))
        .bind(me.scope().tenant_id().as_str())
        .bind(me.user_id().as_str())
        .bind(id)
        .fetch_optional(db.tenant(me.scope()).reader())
        .await?;
    Ok(r.as_ref().map(schedule_from).transpose()?)
}

/// The `n`th gift day of a schedule (0 is the start).
fn nth(start: NaiveDate, frequency: &str, n: u32) -> Option<NaiveDate> {
    match frequency {
        "weekly" => start.checked_add_days(Days::new(7 * u64::from(n))),
        // From the start each time, so the 31st stays the 31st after a short month.
        _ => start.checked_add_months(Months::new(n)),
    }
}

/// The first gift day of a schedule on or after `from`.
pub fn first_on_or_after(start: NaiveDate, frequency: &str, from: NaiveDate) -> NaiveDate {
    if from <= start {
        return start;
    }
    let first = match frequency {
        "weekly" => ((from - start).num_days().max(0) as u32).div_ceil(7),
        _ => 0,
    };
    (first..first + 100_000)
        .filter_map(|n| nth(start, frequency, n))
        .find(|d| *d >= from)
        .unwrap_or(from)
}

/// A new schedule as the member asks for it.
#[derive(Clone, Debug, Default, Deserialize, schemars::JsonSchema)]
pub struct NewSchedule {
    /// Fund id (an active fund).
    #[serde(default)]
    pub fund_id: String,
    /// Amount per gift.
    #[serde(flatten)]
    pub amount: Amount,
    /// `weekly` or `monthly`.
    #[serde(default)]
    pub frequency: String,
    /// First gift day, `YYYY-MM-DD` (today or later, within a year).
    #[serde(default)]
    pub start_on: String,
}

/// A change to a schedule: only what is given changes.
#[derive(Clone, Debug, Default, Deserialize, schemars::JsonSchema)]
pub struct Change {
    /// Another fund.
    #[serde(default)]
    pub fund_id: Option<String>,
    /// Another amount (`amount_minor`, or `amount` as a decimal).
    #[serde(flatten)]
    pub amount: Amount,
    /// `paused` or `active` (resume).
    #[serde(default)]
    pub status: Option<String>,
}

fn field(f: &str, m: &str) -> FieldError {
    FieldError {
        field: f.into(),
        message: m.into(),
    }
}

/// Sets up a recurring gift for the member; it needs a saved card.
pub async fn create(
    app: &AppState,
    me: &Actor,
    ip: &str,
    input: &NewSchedule,
) -> AppResult<Schedule> {
    if !give::options(app, me.scope()).await?.recurring_new {
        return Err(AppError::Unprocessable(
            k("mission-error-give-unavailable").into(),
        ));
    }
    let tz = give::tenant_tz(&app.db, me.scope()).await?;
    let today = crate::mission::today(tz);
    let mut errs = Vec::new();
    let checked = give::check_gift(app, me.scope(), &input.fund_id, &input.amount).await;
    let (fund, amount, currency) = match checked {
        Ok(c) => Some(c),
        Err(AppError::Validation { fields, .. }) => {
            errs.extend(fields);
            None
        }
        Err(e) => return Err(e),
    }
    .unzip3();
    let frequency = input.frequency.trim().to_ascii_lowercase();
    if !FREQUENCIES.contains(&frequency.as_str()) {
        errs.push(field("frequency", k("mission-error-frequency")));
    }
    let start = if input.start_on.trim().is_empty() {
        Some(today)
    } else {
        crate::mission::parse_date(&input.start_on)
    };
    let start = match start {
        Some(d) if d >= today && d <= today + Days::new(366) => Some(d),
        _ => {
            errs.push(field("start_on", k("mission-error-start-on")));
            None
        }
    };
    let (Some(fund), Some(amount), Some(currency), Some(start)) = (fund, amount, currency, start)
    else {
        return Err(AppError::fields(errs));
    };
    if !errs.is_empty() {
        return Err(AppError::fields(errs));
    }
    if give::card(app, me).await?.label.is_none() {
        return Err(AppError::field("card", k("mission-error-card-needed")));
    }
    let id = new_id();
    let day = start.format("%Y-%m-%d").to_string();
    let mut tx = app.db.tenant(me.scope()).begin().await?;
    let tenant = tx.tenant_id().to_string();
    let now = now_ms();
    sqlx::query(
        "INSERT INTO mission_recurring (id, tenant_id, member_id, fund_id, amount_minor, currency, frequency, \
         start_on, next_on, status, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, 'active', $9, $9)",
    )
    .bind(&id)
    .bind(&tenant)
    .bind(me.user_id().as_str())
    .bind(&fund.id)
    .bind(amount)
    .bind(&currency)
    .bind(&frequency)
    .bind(&day)
    .bind(now)
    .execute(tx.conn())
    .await
    .map_err(crate::db::DbError::from)?;
    audit::append(
        &mut tx,
        Entry {
            ip: Some(ip),
            ..Entry::new("mission.recurring_created")
                .by(me)
                .target("recurring_gift", &id)
                .with("name", fund.name.clone())
                .with("fund_id", fund.id.clone())
                .with("amount_minor", amount)
                .with("frequency", frequency.clone())
                .with("start_on", day.clone())
        },
    )
    .await?;
    tx.commit().await?;
    mine(&app.db, me, &id).await?.ok_or(AppError::NotFound)
}

trait Unzip3<A, B, C> {
    fn unzip3(self) -> (Option<A>, Option<B>, Option<C>);
}

impl<A, B, C> Unzip3<A, B, C> for Option<(A, B, C)> {
    fn unzip3(self) -> (Option<A>, Option<B>, Option<C>) {
        match self {
            Some((a, b, c)) => (Some(a), Some(b), Some(c)),
            None => (None, None, None),
        }
    }
}

/// Changes the member's own schedule: fund, amount, pause or resume. Another member's
/// schedule is not found.
pub async fn change(
    app: &AppState,
    me: &Actor,
    ip: &str,
    id: &str,
    input: &Change,
) -> AppResult<Schedule> {
    let before = mine(&app.db, me, id).await?.ok_or(AppError::NotFound)?;
    let mut errs = Vec::new();
    let mut fund = (before.fund_id.clone(), before.fund_name.clone());
    if let Some(f) = input.fund_id.as_deref().filter(|f| !f.trim().is_empty()) {
        let funds = give::active_funds(&app.db, me.scope()).await?;
        match give::check_fund(&funds, f) {
            Ok(f) => fund = (f.id.clone(), f.name.clone()),
            Err(e) => errs.push(e),
        }
    }
    let mut amount = before.amount_minor;
    if input.amount.amount_minor.is_some() || input.amount.amount.is_some() {
        match input.amount.check(&before.currency) {
            Ok(a) => amount = a,
            Err(e) => errs.extend(e),
        }
    }
    let status = match input.status.as_deref().map(str::trim) {
        None | Some("") => before.status.clone(),
        Some(s @ ("active" | "paused")) => s.to_string(),
        Some(_) => {
            errs.push(field("status", k("mission-error-recurring-status")));
            before.status.clone()
        }
    };
    if !errs.is_empty() {
        return Err(AppError::fields(errs));
    }
    let mut next = before.next_on.clone();
    if status == "active" && before.status == "paused" {
        // Resuming never charges the days missed while paused.
        let tz = give::tenant_tz(&app.db, me.scope()).await?;
        let today = crate::mission::today(tz);
        if let (Some(start), Some(n)) = (
            crate::mission::parse_date(&before.start_on),
            crate::mission::parse_date(&before.next_on),
        ) && n < today
        {
            next = first_on_or_after(start, &before.frequency, today)
                .format("%Y-%m-%d")
                .to_string();
        }
    }
    let mut tx = app.db.tenant(me.scope()).begin().await?;
    let tenant = tx.tenant_id().to_string();
    let r = sqlx::query(
        "UPDATE mission_recurring SET fund_id = $4, amount_minor = $5, status = $6, next_on = $7, updated_at = $8 \
         WHERE tenant_id = $1 AND id = $2 AND member_id = $3 AND status <> 'cancelled'",
    )
    .bind(&tenant)
    .bind(id)
    .bind(me.user_id().as_str())
    .bind(&fund.0)
    .bind(amount)
    .bind(&status)
    .bind(&next)
    .bind(now_ms())
    .execute(tx.conn())
    .await
    .map_err(crate::db::DbError::from)?;
    if r.rows_affected() != 1 {
        return Err(AppError::NotFound);
    }
    let action = match (before.status.as_str(), status.as_str()) {
        ("active", "paused") => "mission.recurring_paused",
        ("paused", "active") => "mission.recurring_resumed",
        _ => "mission.recurring_changed",
    };
    audit::append(
        &mut tx,
        Entry {
            ip: Some(ip),
            ..Entry::new(action)
                .by(me)
                .target("recurring_gift", id)
                .with("name", fund.1.clone())
                .with("fund_id", fund.0.clone())
                .with("from_fund_id", before.fund_id.clone())
                .with("amount_minor", amount)
                .with("from_amount_minor", before.amount_minor)
                .with("status", status.clone())
        },
    )
    .await?;
    tx.commit().await?;
    mine(&app.db, me, id).await?.ok_or(AppError::NotFound)
}

/// Cancels the member's own schedule for good (nothing more is charged).
pub async fn cancel(app: &AppState, me: &Actor, ip: &str, id: &str) -> AppResult<Schedule> {
    let before = mine(&app.db, me, id).await?.ok_or(AppError::NotFound)?;
    let mut tx = app.db.tenant(me.scope()).begin().await?;
    let tenant = tx.tenant_id().to_string();
    let r = sqlx::query(
        "UPDATE mission_recurring SET status = 'cancelled', updated_at = $4 \
         WHERE tenant_id = $1 AND id = $2 AND member_id = $3 AND status <> 'cancelled'",
    )
    .bind(&tenant)
    .bind(id)
    .bind(me.user_id().as_str())
    .bind(now_ms())
    .execute(tx.conn())
    .await
    .map_err(crate::db::DbError::from)?;
    if r.rows_affected() != 1 {
        return Err(AppError::NotFound);
    }
    audit::append(
        &mut tx,
        Entry {
            ip: Some(ip),
            ..Entry::new("mission.recurring_cancelled")
                .by(me)
                .target("recurring_gift", id)
                .with("name", before.fund_name.clone())
                .with("amount_minor", before.amount_minor)
        },
    )
    .await?;
    tx.commit().await?;
    Ok(before)
}

// --- Charging ---

/// Payload of the `mission.recurring_gifts` job: charge every due schedule of every built-in
/// Mission tenant.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct RecurringJob {
    /// The day compared with next gift days (`YYYY-MM-DD`); each tenant's own today when absent.
    #[serde(default)]
    pub today: Option<String>,
}

impl JobKind for RecurringJob {
    const KIND: &'static str = "mission.recurring_gifts";
    const MAX_ATTEMPTS: i64 = 3;

    async fn run(self, app: &AppState, _job: &Job) -> Result<(), JobError> {
        let tenants = crate::tenancy::store::list(&app.db)
            .await
            .map_err(JobError::retry)?;
        for t in tenants
            .into_iter()
            .filter(|t| t.org_type == OrgType::Mission.as_str())
        {
            let Some(tenant) = crate::tenancy::store::by_slug(&app.db, &t.slug)
                .await
                .map_err(JobError::retry)?
            else {
                continue;
            };
            let today = match self.today.as_deref().and_then(crate::mission::parse_date) {
                Some(d) => d,
                None => crate::mission::today(crate::mission::tenant_zone(&tenant.time_zone)),
            };
            let n = charge_due(app, &tenant.scope(), &tenant.slug, today)
                .await
                .map_err(JobError::retry)?;
            if n > 0 {
                tracing::info!(tenant = %t.slug, charges = n, "recurring gifts charged");
            }
        }
        Ok(())
    }
}

/// Charges the tenant's schedules due on or before `today`; returns how many this run tried.
pub async fn charge_due(
    app: &AppState,
    scope: &TenantScope,
    slug: &str,
    today: NaiveDate,
) -> AppResult<usize> {
    let settings = crate::mission::settings::load(&app.db, scope).await?;
    if settings.source != "builtin" {
        return Ok(0);
    }
    // Without a provider nothing can be charged; the schedules wait, unclaimed.
    let Some(p) = give::provider_of(app, scope).await? else {
        return Ok(0);
    };
    let mut n = retry_stale(app, scope, slug, &p).await?;
    let day = today.format("%Y-%m-%d").to_string();
    let rows = sqlx::query(&format!(
        "{SELECT} AND r.status = 'active' AND r.next_on <= $2 ORDER BY r.next_on, r.id"
    ))
    .bind(scope.tenant_id().as_str())
    .bind(&day)
    .fetch_all(app.db.tenant(scope).reader())
    .await
    .map_err(crate::db::DbError::from)?;
    let due: Vec<Schedule> = rows
        .iter()
        .map(schedule_from)
        .collect::<Result<_, _>>()
        .map_err(crate::db::DbError::from)?;
    for s in &due {
        if charge_one(app, scope, slug, &p, s, today).await? {
            n += 1;
        }
    }
    Ok(n)
}

/// An occurrence this run holds: the claim row and what it charges.
struct Claimed {
    id: String,
    due_on: String,
    amount_minor: i64,
}

/// Takes over the tenant's claims left pending past the lease by a run that stopped, and asks
/// the provider again under the same key; returns how many this run settled.
async fn retry_stale(
    app: &AppState,
    scope: &TenantScope,
    slug: &str,
    p: &Provider,
) -> AppResult<usize> {
    let now = now_ms();
    let rows = sqlx::query(
        "SELECT id, schedule_id, due_on, amount_minor, created_at, updated_at FROM mission_recurring_charges          WHERE tenant_id = $1 AND status = 'pending' AND updated_at < $2 ORDER BY created_at, id",
    )
    .bind(scope.tenant_id().as_str())
    .bind(now - CLAIM_LEASE_MS)
    .fetch_all(app.db.tenant(scope).reader())
    .await
    .map_err(crate::db::DbError::from)?;
    let mut n = 0;
    for r in &rows {
        let get = |c: &str| r.try_get::<String, _>(c).map_err(crate::db::DbError::from);
        let (id, schedule_id, due_on) = (get("id")?, get("schedule_id")?, get("due_on")?);
        let amount_minor: i64 = r
            .try_get("amount_minor")
            .map_err(crate::db::DbError::from)?;
        let created_at: i64 = r.try_get("created_at").map_err(crate::db::DbError::from)?;
        let seen: i64 = r.try_get("updated_at").map_err(crate::db::DbError::from)?;
        // Renewing the lease from the value read is the take-over: of two runs, one matches.
        let mut tx = app.db.tenant(scope).begin().await?;
        let tenant = tx.tenant_id().to_string();
        let taken = sqlx::query(
            "UPDATE mission_recurring_charges SET updated_at = $4              WHERE tenant_id = $1 AND id = $2 AND status = 'pending' AND updated_at = $3",
        )
        .bind(&tenant)
        .bind(&id)
        .bind(seen)
        .bind(now_ms().max(seen + 1))
        .execute(tx.conn())
        .await
        .map_err(crate::db::DbError::from)?;
        if taken.rows_affected() != 1 {
            continue;
        }
        tx.commit().await?;
        let s = sqlx::query(&format!(
            "{} AND r.id = $2",
            SELECT.replace(" AND r.status <> 'cancelled'", "")
        ))
        .bind(scope.tenant_id().as_str())
        .bind(&schedule_id)
        .fetch_optional(app.db.tenant(scope).reader())
        .await
        .map_err(crate::db::DbError::from)?;
        let Some(s) = s
            .as_ref()
            .map(schedule_from)
            .transpose()
            .map_err(crate::db::DbError::from)?
        else {
            continue;
        };
        let c = Claimed {
            id,
            due_on,
            amount_minor,
        };
        tracing::warn!(tenant = %slug, schedule = %s.id, due_on = %c.due_on, "retrying an unsettled recurring gift charge");
        if now - created_at > CLAIM_RETRY_MS {
            let msg = "The charge could not be confirmed and was not tried again.".to_string();
            finish(app, scope, &s, &c, Err(msg)).await?;
        } else if s.status != "active" {
            // The giver paused or cancelled since: nothing new is charged. Had the first call
            // gone through, the provider's webhook still records the gift.
            let msg = "Not charged: the recurring gift was paused or cancelled.".to_string();
            finish(app, scope, &s, &c, Err(msg)).await?;
        } else {
            attempt(app, scope, slug, p, &s, &c).await?;
        }
        n += 1;
    }
    Ok(n)
}

/// Claims the schedule's due occurrence and moves its next day past `today`, in one
/// transaction; the claim when this run holds it.
async fn claim(
    app: &AppState,
    scope: &TenantScope,
    s: &Schedule,
    today: NaiveDate,
) -> AppResult<Option<Claimed>> {
    let Some(start) = crate::mission::parse_date(&s.start_on) else {
        return Ok(None);
    };
    let next = today
        .succ_opt()
        .map(|d| first_on_or_after(start, &s.frequency, d))
        .unwrap_or(today)
        .format("%Y-%m-%d")
        .to_string();
    let id = new_id();
    let now = now_ms();
    let mut tx = app.db.tenant(scope).begin().await?;
    let tenant = tx.tenant_id().to_string();
    let inserted = sqlx::query(
        "INSERT INTO mission_recurring_charges (id, tenant_id, schedule_id, due_on, amount_minor, currency, status, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $7) ON CONFLICT (tenant_id, schedule_id, due_on) DO NOTHING",
    )
    .bind(&id)
    .bind(&tenant)
    .bind(&s.id)
    .bind(&s.next_on)
    .bind(s.amount_minor)
    .bind(&s.currency)
    .bind(now)
    .execute(tx.conn())
    .await
    .map_err(crate::db::DbError::from)?;
    if inserted.rows_affected() != 1 {
        return Ok(None);
    }
    // Paused, cancelled or moved on by another run since it was read: not this run's to charge.
    let moved = sqlx::query(
        "UPDATE mission_recurring SET next_on = $4, updated_at = $5 \
         WHERE tenant_id = $1 AND id = $2 AND next_on = $3 AND status = 'active'",
    )
    .bind(&tenant)
    .bind(&s.id)
    .bind(&s.next_on)
    .bind(&next)
    .bind(now)
    .execute(tx.conn())
    .await
    .map_err(crate::db::DbError::from)?;
    if moved.rows_affected() != 1 {
        return Ok(None);
    }
    tx.commit().await?;
    Ok(Some(Claimed {
        id,
        due_on: s.next_on.clone(),
        amount_minor: s.amount_minor,
    }))
}

/// Charges one due occurrence, once; true when this run made the attempt.
async fn charge_one(
    app: &AppState,
    scope: &TenantScope,
    slug: &str,
    p: &Provider,
    s: &Schedule,
    today: NaiveDate,
) -> AppResult<bool> {
    let Some(charge) = claim(app, scope, s, today).await? else {
        return Ok(false);
    };
    attempt(app, scope, slug, p, s, &charge).await?;
    Ok(true)
}

/// Asks the provider for a held occurrence's charge (under the occurrence's own key, the same
/// on every try) and records the outcome.
async fn attempt(
    app: &AppState,
    scope: &TenantScope,
    slug: &str,
    p: &Provider,
    s: &Schedule,
    charge: &Claimed,
) -> AppResult<()> {
    let customer = give::customer(&app.db, scope, &s.member_id).await?;
    let card = match &customer {
        Some(c) => give::first_card(p, c).await.map_err(|e| e.to_string()),
        None => Ok(None),
    };
    let outcome = match (customer, card) {
        (_, Err(e)) => Err(e),
        (Some(customer), Ok(Some(card))) => {
            let req = payments::IntentRequest {
                amount: charge.amount_minor,
                currency: s.currency.clone(),
                customer,
                payment_method: card.id,
                metadata: [
                    ("tenant".to_string(), slug.to_string()),
                    ("mission_charge".to_string(), charge.id.clone()),
                    ("schedule_id".to_string(), s.id.clone()),
                ]
                .into(),
                idempotency_key: format!("mission-recurring-{}-{}", s.id, charge.due_on),
            };
            match payments::create_payment_intent(p, &req).await {
                Ok(pi) if pi.status == "succeeded" || pi.status == "processing" => Ok(pi.id),
                Ok(pi) => Err(format!("The payment needs the giver ({}).", pi.status)),
                Err(PaymentError::Refused { message, .. }) => Err(message),
                Err(e) => Err(e.to_string()),
            }
        }
        _ => Err("No card is saved for recurring gifts.".to_string()),
    };
    finish(app, scope, s, charge, outcome).await
}

/// The gift of a charged occurrence.
fn gift_of(s: &Schedule, due_on: &str, amount: i64) -> NewGift {
    NewGift {
        member_id: s.member_id.clone(),
        fund_id: s.fund_id.clone(),
        given_on: due_on.to_string(),
        amount_minor: amount,
        currency: s.currency.clone(),
        method: "card".into(),
        recurring: true,
    }
}

/// Records how a charge ended: the gift (once per payment intent) or the failure.
async fn finish(
    app: &AppState,
    scope: &TenantScope,
    s: &Schedule,
    charge: &Claimed,
    outcome: Result<String, String>,
) -> AppResult<()> {
    let (due_on, amount) = (&charge.due_on, charge.amount_minor);
    let mut tx = app.db.tenant(scope).begin().await?;
    let tenant = tx.tenant_id().to_string();
    let now = now_ms();
    match &outcome {
        Ok(pi) => {
            let gift = give::insert_confirmed(&mut tx, &gift_of(s, due_on, amount), pi).await?;
            sqlx::query(
                "UPDATE mission_recurring_charges SET status = 'charged', intent_id = $3, error = NULL, updated_at = $4 \
                 WHERE tenant_id = $1 AND id = $2",
            )
            .bind(&tenant)
            .bind(&charge.id)
            .bind(pi)
            .bind(now)
            .execute(tx.conn())
            .await
            .map_err(crate::db::DbError::from)?;
            sqlx::query(
                "UPDATE mission_recurring SET last_error = NULL, last_error_at = NULL WHERE tenant_id = $1 AND id = $2",
            )
            .bind(&tenant)
            .bind(&s.id)
            .execute(tx.conn())
            .await
            .map_err(crate::db::DbError::from)?;
            let mut e = Entry::new("mission.recurring_charged")
                .target("recurring_gift", &s.id)
                .with("name", s.fund_name.clone())
                .with("member_id", s.member_id.clone())
                .with("due_on", due_on.clone())
                .with("amount_minor", amount)
                .with("intent", pi.clone());
            if let Some(g) = gift {
                e = e.with("gift", g);
            }
            audit::append(&mut tx, e).await?;
        }
        Err(msg) => {
            let msg: String = msg.chars().take(500).collect();
            sqlx::query(
                "UPDATE mission_recurring_charges SET status = 'failed', error = $3, updated_at = $4 \
                 WHERE tenant_id = $1 AND id = $2 AND status = 'pending'",
            )
            .bind(&tenant)
            .bind(&charge.id)
            .bind(&msg)
            .bind(now)
            .execute(tx.conn())
            .await
            .map_err(crate::db::DbError::from)?;
            sqlx::query(
                "UPDATE mission_recurring SET last_error = $3, last_error_at = $4 WHERE tenant_id = $1 AND id = $2",
            )
            .bind(&tenant)
            .bind(&s.id)
            .bind(&msg)
            .bind(now)
            .execute(tx.conn())
            .await
            .map_err(crate::db::DbError::from)?;
            audit::append(
                &mut tx,
                Entry::new("mission.recurring_failed")
                    .target("recurring_gift", &s.id)
                    .with("name", s.fund_name.clone())
                    .with("member_id", s.member_id.clone())
                    .with("due_on", due_on.clone())
                    .with("amount_minor", amount)
                    .with("error", msg.clone()),
            )
            .await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Records the gift of a recurring charge the provider's webhook confirms, once per payment
/// intent (the job's own answer may record it first).
pub async fn record_paid_charge(
    app: &AppState,
    scope: &TenantScope,
    charge: &str,
    paid: &SessionObject,
    event_id: &str,
) -> AppResult<WebhookOutcome> {
    let r = sqlx::query(
        "SELECT c.due_on, c.amount_minor, c.schedule_id FROM mission_recurring_charges c \
         WHERE c.tenant_id = $1 AND c.id = $2",
    )
    .bind(scope.tenant_id().as_str())
    .bind(charge)
    .fetch_optional(app.db.tenant(scope).reader())
    .await
    .map_err(crate::db::DbError::from)?
    .ok_or(AppError::NotFound)?;
    let due_on: String = r.try_get("due_on").map_err(crate::db::DbError::from)?;
    let amount: i64 = r
        .try_get("amount_minor")
        .map_err(crate::db::DbError::from)?;
    let schedule_id: String = r.try_get("schedule_id").map_err(crate::db::DbError::from)?;
    if paid.amount_paid() != Some(amount) {
        return Err(AppError::Unprocessable(
            "the amount does not match the charge".into(),
        ));
    }
    // Cancelled since the charge was made: the money was still taken, so the gift counts.
    let s = sqlx::query(&format!(
        "{} AND r.id = $2",
        SELECT.replace(" AND r.status <> 'cancelled'", "")
    ))
    .bind(scope.tenant_id().as_str())
    .bind(&schedule_id)
    .fetch_optional(app.db.tenant(scope).reader())
    .await
    .map_err(crate::db::DbError::from)?
    .ok_or(AppError::NotFound)?;
    let s = schedule_from(&s).map_err(crate::db::DbError::from)?;
    let mut tx = app.db.tenant(scope).begin().await?;
    let tenant = tx.tenant_id().to_string();
    let Some(gift) =
        give::insert_confirmed(&mut tx, &gift_of(&s, &due_on, amount), &paid.id).await?
    else {
        return Ok(WebhookOutcome::Duplicate);
    };
    sqlx::query(
        "UPDATE mission_recurring_charges SET status = 'charged', intent_id = $3, error = NULL, updated_at = $4 \
         WHERE tenant_id = $1 AND id = $2",
    )
    .bind(&tenant)
    .bind(charge)
    .bind(&paid.id)
    .bind(now_ms())
    .execute(tx.conn())
    .await
    .map_err(crate::db::DbError::from)?;
    audit::append(
        &mut tx,
        Entry {
            actor_id: Some(&s.member_id),
            ..Entry::new("mission.gift_given_online")
                .target("gift", &gift)
                .with("member_id", s.member_id.clone())
                .with("fund_id", s.fund_id.clone())
                .with("amount_minor", amount)
                .with("recurring_gift", s.id.clone())
                .with("intent", paid.id.clone())
                .with("event", event_id.to_string())
        },
    )
    .await?;
    tx.commit().await?;
    Ok(WebhookOutcome::Recorded)
}

/// Enqueues the recurring-gift job at start and then every hour (a run with nothing due
/// charges nothing).
pub fn spawn_watch(app: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut last = -1;
        loop {
            let hour = now_ms() / 3_600_000;
            if hour != last {
                match crate::jobs::enqueue_operator(
                    &app.db,
                    None,
                    RecurringJob::KIND,
                    &serde_json::json!({}),
                    now_ms(),
                )
                .await
                {
                    Ok(_) => last = hour,
                    Err(e) => tracing::warn!(error = %e, "cannot enqueue the recurring gift job"),
                }
            }
            tokio::time::sleep(Duration::from_secs(15 * 60)).await;
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        crate::mission::parse_date(s).unwrap_or_default()
    }

    #[test]
    fn next_days_follow_the_start() {
        assert_eq!(
            first_on_or_after(d("2026-01-31"), "monthly", d("2026-02-01")),
            d("2026-02-28")
        );
        assert_eq!(
            first_on_or_after(d("2026-01-31"), "monthly", d("2026-03-01")),
            d("2026-03-31")
        );
        assert_eq!(
            first_on_or_after(d("2026-01-01"), "weekly", d("2026-01-02")),
            d("2026-01-08")
        );
        assert_eq!(
            first_on_or_after(d("2026-01-01"), "weekly", d("2026-01-08")),
            d("2026-01-08")
        );
        assert_eq!(
            first_on_or_after(d("2026-05-01"), "monthly", d("2026-01-01")),
            d("2026-05-01")
        );
    }
}
