//! PSA sync storage: settings (with the sync lease and status), the outbox of local changes,
//! links to PSA records, conflicts. Every query filters by the tenant of its scope.

use std::collections::BTreeMap;

use serde_json::Value;

use super::Mapping;
use crate::db::{AnyRow, Db, DbResult, Row, TenantTx, new_id, now_ms};
use crate::events::EventKind;
use crate::jobs::JobKind;
use crate::tenancy::TenantScope;
use crate::tickets::store::Ticket;

/// A tenant's PSA settings and sync status.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    /// `generic` or `alga`.
    pub connector: String,
    /// API base address.
    pub base_url: String,
    /// Sealed API key.
    pub api_key_sealed: Option<String>,
    /// Sealed webhook signing secret.
    pub webhook_secret_sealed: Option<String>,
    /// Sync runs at all.
    pub enabled: bool,
    /// Minutes between scheduled runs.
    pub interval_minutes: i64,
    /// Local company ids that sync; empty means every company.
    pub companies: Vec<String>,
    /// Status and priority mapping (defaults filled in).
    pub mapping: Mapping,
    /// Where the next pull starts.
    pub cursor: Option<String>,
    /// Last run started (Unix ms).
    pub last_run_at: Option<i64>,
    /// Last run that finished without error (Unix ms).
    pub last_success_at: Option<i64>,
    /// The last run's error, with the PSA's message.
    pub last_error: Option<String>,
}

impl Settings {
    /// Whether tickets of `company_id` sync.
    pub fn syncs_company(&self, company_id: &str) -> bool {
        self.companies.is_empty() || self.companies.iter().any(|c| c == company_id)
    }
}

const COLUMNS: &str = "connector, base_url, api_key_sealed, webhook_secret_sealed, enabled, interval_minutes, \
    companies, status_map, priority_map, sync_cursor, last_run_at, last_success_at, last_error";

fn map_of(s: &str) -> BTreeMap<String, String> {
    serde_json::from_str(s).unwrap_or_default()
}

fn settings_from(r: &AnyRow) -> Result<Settings, sqlx::Error> {
    let companies: String = r.try_get("companies")?;
    let status: String = r.try_get("status_map")?;
    let priority: String = r.try_get("priority_map")?;
    Ok(Settings {
        connector: r.try_get("connector")?,
        base_url: r.try_get("base_url")?,
        api_key_sealed: r.try_get("api_key_sealed")?,
        webhook_secret_sealed: r.try_get("webhook_secret_sealed")?,
        enabled: r.try_get::<i64, _>("enabled")? != 0,
        interval_minutes: r.try_get("interval_minutes")?,
        companies: serde_json::from_str(&companies).unwrap_or_default(),
        mapping: Mapping::with_defaults(map_of(&status), map_of(&priority)),
        cursor: r.try_get("sync_cursor")?,
        last_run_at: r.try_get("last_run_at")?,
        last_success_at: r.try_get("last_success_at")?,
        last_error: r.try_get("last_error")?,
    })
}

/// The tenant's settings, if a PSA was ever configured.
pub async fn settings(db: &Db, scope: &TenantScope) -> DbResult<Option<Settings>> {
    let r = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM psa_settings WHERE tenant_id = $1"
    ))
    .bind(scope.tenant_id().as_str())
    .fetch_optional(db.tenant(scope).reader())
    .await?;
    Ok(r.as_ref().map(settings_from).transpose()?)
}

async fn settings_in(tx: &mut TenantTx) -> DbResult<Option<Settings>> {
    let tenant = tx.tenant_id().to_string();
    let r = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM psa_settings WHERE tenant_id = $1"
    ))
    .bind(&tenant)
    .fetch_optional(tx.conn())
    .await?;
    Ok(r.as_ref().map(settings_from).transpose()?)
}

/// Saves the settings staff edit (the sync status columns are left alone).
pub async fn save_settings(tx: &mut TenantTx, s: &Settings) -> DbResult<()> {
    let tenant = tx.tenant_id().to_string();
    let companies = serde_json::to_string(&s.companies).unwrap_or_else(|_| "[]".into());
    let status = serde_json::to_string(&s.mapping.status).unwrap_or_else(|_| "{}".into());
    let priority = serde_json::to_string(&s.mapping.priority).unwrap_or_else(|_| "{}".into());
    sqlx::query(
        "INSERT INTO psa_settings (tenant_id, connector, base_url, api_key_sealed, webhook_secret_sealed, enabled, \
         interval_minutes, companies, status_map, priority_map, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
         ON CONFLICT (tenant_id) DO UPDATE SET connector = $2, base_url = $3, api_key_sealed = $4, \
         webhook_secret_sealed = $5, enabled = $6, interval_minutes = $7, companies = $8, status_map = $9, \
         priority_map = $10, updated_at = $11",
    )
    .bind(&tenant)
    .bind(&s.connector)
    .bind(&s.base_url)
    .bind(s.api_key_sealed.as_deref())
    .bind(s.webhook_secret_sealed.as_deref())
    .bind(i64::from(s.enabled))
    .bind(s.interval_minutes)
    .bind(companies)
    .bind(status)
    .bind(priority)
    .bind(now_ms())
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Records a local ticket change for the PSA in the change's own transaction (the outbox),
/// and makes sure a sync job is queued to push it. Called by the ticket service for every
/// ticket event; does nothing when the tenant has no enabled PSA or the company does not sync.
pub async fn record_change(
    tx: &mut TenantTx,
    t: &Ticket,
    kind: EventKind,
    data: &Value,
) -> DbResult<()> {
    let (item, comment, fields): (&str, Option<String>, Vec<&str>) = match kind {
        EventKind::TicketCreated => ("create", None, vec![]),
        EventKind::TicketComment => (
            "comment",
            data["comment"]["id"].as_str().map(str::to_string),
            vec![],
        ),
        EventKind::TicketUpdated => {
            let changed = data["changed"].as_str().unwrap_or_default();
            let fields: Vec<&str> = changed
                .split(',')
                .filter(|f| matches!(*f, "status" | "priority" | "assignee"))
                .collect();
            if fields.is_empty() {
                return Ok(());
            }
            ("update", None, fields)
        }
        _ => return Ok(()),
    };
    let Some(s) = settings_in(tx).await? else {
        return Ok(());
    };
    if !s.enabled || !s.syncs_company(&t.company_id) {
        return Ok(());
    }
    let tenant = tx.tenant_id().to_string();
    sqlx::query(
        "INSERT INTO psa_outbox (id, tenant_id, ticket_id, kind, comment_id, fields, status, attempts, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $7)",
    )
    .bind(new_id())
    .bind(&tenant)
    .bind(&t.id)
    .bind(item)
    .bind(comment)
    .bind(serde_json::to_string(&fields).unwrap_or_else(|_| "[]".into()))
    .bind(now_ms())
    .execute(tx.conn())
    .await?;
    queue_sync(tx).await
}

/// Queues a sync job for the tenant unless one is already waiting.
pub async fn queue_sync(tx: &mut TenantTx) -> DbResult<()> {
    let tenant = tx.tenant_id().to_string();
    let waiting: Option<String> = sqlx::query_scalar(
        "SELECT id FROM jobs WHERE tenant_id = $1 AND kind = $2 AND status = 'queued' AND attempts = 0 LIMIT 1",
    )
    .bind(&tenant)
    .bind(super::sync::SyncJob::KIND)
    .fetch_optional(tx.conn())
    .await?;
    if waiting.is_none() {
        super::sync::SyncJob { tenant_id: tenant }
            .enqueue(tx)
            .await?;
    }
    Ok(())
}

/// One pending (or failed) outbox item.
#[derive(Clone, Debug)]
pub struct Item {
    /// Row id (also the idempotency key sent to the PSA).
    pub id: String,
    /// Local ticket id.
    pub ticket_id: String,
    /// `create`, `comment` or `update`.
    pub kind: String,
    /// Local comment id (comments).
    pub comment_id: Option<String>,
    /// Changed fields (updates).
    pub fields: Vec<String>,
    /// `pending`, `done` or `failed`.
    pub status: String,
    /// Failed pushes so far.
    pub attempts: i64,
    /// Last push error.
    pub last_error: Option<String>,
    /// Recorded (Unix ms).
    pub created_at: i64,
}

fn item_from(r: &AnyRow) -> Result<Item, sqlx::Error> {
    let fields: String = r.try_get("fields")?;
    Ok(Item {
        id: r.try_get("id")?,
        ticket_id: r.try_get("ticket_id")?,
        kind: r.try_get("kind")?,
        comment_id: r.try_get("comment_id")?,
        fields: serde_json::from_str(&fields).unwrap_or_default(),
        status: r.try_get("status")?,
        attempts: r.try_get("attempts")?,
        last_error: r.try_get("last_error")?,
        created_at: r.try_get("created_at")?,
    })
}

const ITEM_COLUMNS: &str =
    "id, ticket_id, kind, comment_id, fields, status, attempts, last_error, created_at";

/// Pending items, oldest first, after `after` (keyset on id, which grows with time).
pub async fn pending(
    db: &Db,
    scope: &TenantScope,
    after: Option<&str>,
    limit: i64,
) -> DbResult<Vec<Item>> {
    let rows = sqlx::query(&format!(
        "SELECT {ITEM_COLUMNS} FROM psa_outbox WHERE tenant_id = $1 AND status = 'pending' AND id > $2 \
         ORDER BY id LIMIT $3"
    ))
    .bind(scope.tenant_id().as_str())
    .bind(after.unwrap_or(""))
    .bind(limit)
    .fetch_all(db.tenant(scope).reader())
    .await?;
    Ok(rows.iter().map(item_from).collect::<Result<_, _>>()?)
}

/// Pending local updates of one ticket (for the conflict rule).
pub async fn pending_updates_in(tx: &mut TenantTx, ticket_id: &str) -> DbResult<Vec<Item>> {
    let tenant = tx.tenant_id().to_string();
    let rows = sqlx::query(&format!(
        "SELECT {ITEM_COLUMNS} FROM psa_outbox WHERE tenant_id = $1 AND ticket_id = $2 AND kind = 'update' \
         AND status = 'pending' ORDER BY id"
    ))
    .bind(&tenant)
    .bind(ticket_id)
    .fetch_all(tx.conn())
    .await?;
    Ok(rows.iter().map(item_from).collect::<Result<_, _>>()?)
}

/// Drops `field` from pending updates of a ticket (the PSA's value won); an update left with
/// no field is done.
pub async fn drop_field_in(tx: &mut TenantTx, items: &[Item], field: &str) -> DbResult<()> {
    let tenant = tx.tenant_id().to_string();
    for i in items.iter().filter(|i| i.fields.iter().any(|f| f == field)) {
        let rest: Vec<&String> = i.fields.iter().filter(|f| *f != field).collect();
        let status = if rest.is_empty() { "done" } else { "pending" };
        sqlx::query(
            "UPDATE psa_outbox SET fields = $3, status = $4, done_at = $5 WHERE tenant_id = $1 AND id = $2",
        )
        .bind(&tenant)
        .bind(&i.id)
        .bind(serde_json::to_string(&rest).unwrap_or_else(|_| "[]".into()))
        .bind(status)
        .bind(now_ms())
        .execute(tx.conn())
        .await?;
    }
    Ok(())
}

/// Marks an item pushed.
pub async fn item_done(db: &Db, scope: &TenantScope, id: &str) -> DbResult<()> {
    sqlx::query(
        "UPDATE psa_outbox SET status = 'done', done_at = $3, last_error = NULL WHERE tenant_id = $1 AND id = $2",
    )
    .bind(scope.tenant_id().as_str())
    .bind(id)
    .bind(now_ms())
    .execute(db.tenant(scope).writer())
    .await?;
    Ok(())
}

/// Pushes refused by the PSA before an item is set aside as failed (staff retry it).
pub const MAX_ITEM_ATTEMPTS: i64 = 5;

/// Records a refused push; the item fails after [`MAX_ITEM_ATTEMPTS`].
pub async fn item_failed(db: &Db, scope: &TenantScope, id: &str, error: &str) -> DbResult<()> {
    sqlx::query(
        "UPDATE psa_outbox SET attempts = attempts + 1, last_error = $3, \
         status = CASE WHEN attempts + 1 >= $4 THEN 'failed' ELSE status END WHERE tenant_id = $1 AND id = $2",
    )
    .bind(scope.tenant_id().as_str())
    .bind(id)
    .bind(error.chars().take(1000).collect::<String>())
    .bind(MAX_ITEM_ATTEMPTS)
    .execute(db.tenant(scope).writer())
    .await?;
    Ok(())
}

/// Failed items, newest first.
pub async fn failed(db: &Db, scope: &TenantScope, limit: i64) -> DbResult<Vec<Item>> {
    let rows = sqlx::query(&format!(
        "SELECT {ITEM_COLUMNS} FROM psa_outbox WHERE tenant_id = $1 AND status = 'failed' ORDER BY id DESC LIMIT $2"
    ))
    .bind(scope.tenant_id().as_str())
    .bind(limit)
    .fetch_all(db.tenant(scope).reader())
    .await?;
    Ok(rows.iter().map(item_from).collect::<Result<_, _>>()?)
}

/// Makes a failed item pending again with fresh attempts; false when it is not failed.
pub async fn retry_item(tx: &mut TenantTx, id: &str) -> DbResult<bool> {
    let tenant = tx.tenant_id().to_string();
    let r = sqlx::query(
        "UPDATE psa_outbox SET status = 'pending', attempts = 0 WHERE tenant_id = $1 AND id = $2 AND status = 'failed'",
    )
    .bind(&tenant)
    .bind(id)
    .execute(tx.conn())
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Counts of pending and failed items.
pub async fn counts(db: &Db, scope: &TenantScope) -> DbResult<(i64, i64)> {
    let r = sqlx::query(
        "SELECT CAST(COALESCE(SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END), 0) AS BIGINT) AS pending, \
         CAST(COALESCE(SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END), 0) AS BIGINT) AS failed \
         FROM psa_outbox WHERE tenant_id = $1 AND status IN ('pending', 'failed')",
    )
    .bind(scope.tenant_id().as_str())
    .fetch_one(db.tenant(scope).reader())
    .await?;
    Ok((r.try_get("pending")?, r.try_get("failed")?))
}

/// A link between a local row and a PSA record, with the ticket fields as last synced.
#[derive(Clone, Debug, Default)]
pub struct Link {
    /// Local id.
    pub local_id: String,
    /// PSA id.
    pub external_id: String,
    /// Status as last agreed (Portico name).
    pub base_status: Option<String>,
    /// Priority as last agreed.
    pub base_priority: Option<String>,
    /// Assignee user id as last agreed (empty: nobody).
    pub base_assignee: Option<String>,
    /// When the PSA record was found missing.
    pub missing_at: Option<i64>,
}

fn link_from(r: &AnyRow) -> Result<Link, sqlx::Error> {
    Ok(Link {
        local_id: r.try_get("local_id")?,
        external_id: r.try_get("external_id")?,
        base_status: r.try_get("base_status")?,
        base_priority: r.try_get("base_priority")?,
        base_assignee: r.try_get("base_assignee")?,
        missing_at: r.try_get("missing_at")?,
    })
}

const LINK_COLUMNS: &str =
    "local_id, external_id, base_status, base_priority, base_assignee, missing_at";

/// The link of a local row.
pub async fn link_by_local(
    conn: &mut sqlx::AnyConnection,
    tenant: &str,
    kind: &str,
    local_id: &str,
) -> DbResult<Option<Link>> {
    let r = sqlx::query(&format!(
        "SELECT {LINK_COLUMNS} FROM psa_links WHERE tenant_id = $1 AND kind = $2 AND local_id = $3"
    ))
    .bind(tenant)
    .bind(kind)
    .bind(local_id)
    .fetch_optional(conn)
    .await?;
    Ok(r.as_ref().map(link_from).transpose()?)
}

/// The link of a PSA record.
pub async fn link_by_external(
    conn: &mut sqlx::AnyConnection,
    tenant: &str,
    kind: &str,
    external_id: &str,
) -> DbResult<Option<Link>> {
    let r = sqlx::query(&format!(
        "SELECT {LINK_COLUMNS} FROM psa_links WHERE tenant_id = $1 AND kind = $2 AND external_id = $3"
    ))
    .bind(tenant)
    .bind(kind)
    .bind(external_id)
    .fetch_optional(conn)
    .await?;
    Ok(r.as_ref().map(link_from).transpose()?)
}

/// Every link of a kind.
pub async fn links(db: &Db, scope: &TenantScope, kind: &str) -> DbResult<Vec<Link>> {
    let rows = sqlx::query(&format!(
        "SELECT {LINK_COLUMNS} FROM psa_links WHERE tenant_id = $1 AND kind = $2 ORDER BY local_id"
    ))
    .bind(scope.tenant_id().as_str())
    .bind(kind)
    .fetch_all(db.tenant(scope).reader())
    .await?;
    Ok(rows.iter().map(link_from).collect::<Result<_, _>>()?)
}

/// Creates or replaces a link with its base values.
pub async fn put_link(
    conn: &mut sqlx::AnyConnection,
    tenant: &str,
    kind: &str,
    l: &Link,
) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO psa_links (tenant_id, kind, local_id, external_id, base_status, base_priority, base_assignee, \
         missing_at, synced_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (tenant_id, kind, local_id) DO UPDATE SET external_id = $4, base_status = $5, \
         base_priority = $6, base_assignee = $7, missing_at = $8, synced_at = $9",
    )
    .bind(tenant)
    .bind(kind)
    .bind(&l.local_id)
    .bind(&l.external_id)
    .bind(l.base_status.as_deref())
    .bind(l.base_priority.as_deref())
    .bind(l.base_assignee.as_deref())
    .bind(l.missing_at)
    .bind(now_ms())
    .execute(conn)
    .await?;
    Ok(())
}

/// A recorded conflict.
#[derive(Clone, Debug, serde::Serialize, schemars::JsonSchema)]
pub struct Conflict {
    /// Field.
    pub field: String,
    /// Portico's value.
    pub local_value: Option<String>,
    /// The PSA's value.
    pub psa_value: Option<String>,
    /// `psa` or `portico`.
    pub winner: String,
    /// When (Unix ms).
    pub at: i64,
}

impl Conflict {
    /// Catalog key of the field's name.
    pub fn field_key(&self) -> &'static str {
        match self.field.as_str() {
            "status" => "psa-field-status",
            "priority" => "psa-field-priority",
            _ => "psa-field-assignee",
        }
    }

    /// Catalog key saying which side's value stands.
    pub fn winner_key(&self) -> &'static str {
        if self.winner == "portico" {
            "psa-winner-portico"
        } else {
            "psa-winner-psa"
        }
    }

    /// Catalog key of a status or priority value (assignees are not named here).
    pub fn value_key(&self, v: &Option<String>) -> Option<&'static str> {
        let v = v.as_deref()?;
        match self.field.as_str() {
            "status" => crate::tickets::Status::parse(v).map(|s| s.label_key_for(true)),
            "priority" => crate::tickets::Priority::parse(v).map(|p| p.label_key()),
            _ => None,
        }
    }
}

/// The PSA id of a local ticket, when it has been created there.
pub async fn ticket_external_id(
    db: &Db,
    scope: &TenantScope,
    ticket_id: &str,
) -> DbResult<Option<String>> {
    Ok(sqlx::query_scalar(
        "SELECT external_id FROM psa_links WHERE tenant_id = $1 AND kind = 'ticket' AND local_id = $2",
    )
    .bind(scope.tenant_id().as_str())
    .bind(ticket_id)
    .fetch_optional(db.tenant(scope).reader())
    .await?)
}

/// Records a conflict on a ticket.
pub async fn add_conflict(
    tx: &mut TenantTx,
    ticket_id: &str,
    field: &str,
    local: Option<&str>,
    psa: Option<&str>,
    winner: &str,
) -> DbResult<()> {
    let tenant = tx.tenant_id().to_string();
    sqlx::query(
        "INSERT INTO psa_conflicts (id, tenant_id, ticket_id, field, local_value, psa_value, winner, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(new_id())
    .bind(&tenant)
    .bind(ticket_id)
    .bind(field)
    .bind(local)
    .bind(psa)
    .bind(winner)
    .bind(now_ms())
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// A ticket's conflicts, newest first.
pub async fn conflicts(db: &Db, scope: &TenantScope, ticket_id: &str) -> DbResult<Vec<Conflict>> {
    let rows = sqlx::query(
        "SELECT field, local_value, psa_value, winner, at FROM psa_conflicts WHERE tenant_id = $1 AND ticket_id = $2 \
         ORDER BY at DESC, id DESC LIMIT 50",
    )
    .bind(scope.tenant_id().as_str())
    .bind(ticket_id)
    .fetch_all(db.tenant(scope).reader())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Conflict {
                field: r.try_get("field")?,
                local_value: r.try_get("local_value")?,
                psa_value: r.try_get("psa_value")?,
                winner: r.try_get("winner")?,
                at: r.try_get("at")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

/// Takes the tenant's sync lease for `owner` until `until`; false while another holder's
/// lease runs. One conditional UPDATE: PostgreSQL's row lock (SQLite's single writer) lets
/// exactly one of two racing nodes match the condition.
pub async fn take_lease(db: &Db, scope: &TenantScope, owner: &str, until: i64) -> DbResult<bool> {
    let r = sqlx::query(
        "UPDATE psa_settings SET lease_owner = $2, lease_until = $3, last_run_at = $4 \
         WHERE tenant_id = $1 AND (lease_until IS NULL OR lease_until < $4)",
    )
    .bind(scope.tenant_id().as_str())
    .bind(owner)
    .bind(until)
    .bind(now_ms())
    .execute(db.tenant(scope).writer())
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Ends a run: releases the lease (only the holder's) and records the outcome.
pub async fn finish_run(
    db: &Db,
    scope: &TenantScope,
    owner: &str,
    error: Option<&str>,
) -> DbResult<()> {
    let sql = if error.is_some() {
        "UPDATE psa_settings SET lease_owner = NULL, lease_until = NULL, last_error = $3 \
         WHERE tenant_id = $1 AND lease_owner = $2"
    } else {
        "UPDATE psa_settings SET lease_owner = NULL, lease_until = NULL, last_error = $3, last_success_at = $4 \
         WHERE tenant_id = $1 AND lease_owner = $2"
    };
    sqlx::query(sql)
        .bind(scope.tenant_id().as_str())
        .bind(owner)
        .bind(error.map(|e| e.chars().take(1000).collect::<String>()))
        .bind(now_ms())
        .execute(db.tenant(scope).writer())
        .await?;
    Ok(())
}

/// Saves the pull cursor (only while `owner` holds the lease).
pub async fn save_cursor(db: &Db, scope: &TenantScope, owner: &str, cursor: &str) -> DbResult<()> {
    sqlx::query(
        "UPDATE psa_settings SET sync_cursor = $3 WHERE tenant_id = $1 AND lease_owner = $2",
    )
    .bind(scope.tenant_id().as_str())
    .bind(owner)
    .bind(cursor)
    .execute(db.tenant(scope).writer())
    .await?;
    Ok(())
}

/// One finished sync run.
#[derive(Clone, Debug, Default, serde::Serialize, schemars::JsonSchema)]
pub struct Run {
    /// Started (Unix ms).
    pub started_at: i64,
    /// Finished (Unix ms).
    pub finished_at: i64,
    /// Ended without error.
    pub ok: bool,
    /// Remote tickets applied.
    pub pulled: i64,
    /// Local changes pushed.
    pub pushed: i64,
    /// Conflicts resolved.
    pub conflicts: i64,
    /// Remote tickets skipped (unknown company or requester).
    pub skipped: i64,
    /// The error, with the PSA's message.
    pub error: Option<String>,
}

/// Runs kept per tenant.
const RUNS_KEPT: i64 = 100;

/// Records a finished run and forgets the ones beyond the last hundred.
pub async fn record_run(db: &Db, scope: &TenantScope, r: &Run) -> DbResult<()> {
    let tenant = scope.tenant_id().as_str();
    let mut tx = db.tenant(scope).begin().await?;
    sqlx::query(
        "INSERT INTO psa_runs (id, tenant_id, started_at, finished_at, ok, pulled, pushed, conflicts, skipped, error) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(new_id())
    .bind(tenant)
    .bind(r.started_at)
    .bind(r.finished_at)
    .bind(i64::from(r.ok))
    .bind(r.pulled)
    .bind(r.pushed)
    .bind(r.conflicts)
    .bind(r.skipped)
    .bind(r.error.as_deref())
    .execute(tx.conn())
    .await?;
    let oldest_kept: Option<i64> = sqlx::query_scalar(
        "SELECT started_at FROM psa_runs WHERE tenant_id = $1 ORDER BY started_at DESC LIMIT 1 OFFSET $2",
    )
    .bind(tenant)
    .bind(RUNS_KEPT - 1)
    .fetch_optional(tx.conn())
    .await?;
    if let Some(at) = oldest_kept {
        sqlx::query("DELETE FROM psa_runs WHERE tenant_id = $1 AND started_at < $2")
            .bind(tenant)
            .bind(at)
            .execute(tx.conn())
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The tenant's latest runs, newest first.
pub async fn runs(db: &Db, scope: &TenantScope, limit: i64) -> DbResult<Vec<Run>> {
    let rows = sqlx::query(
        "SELECT started_at, finished_at, ok, pulled, pushed, conflicts, skipped, error FROM psa_runs \
         WHERE tenant_id = $1 ORDER BY started_at DESC, id DESC LIMIT $2",
    )
    .bind(scope.tenant_id().as_str())
    .bind(limit)
    .fetch_all(db.tenant(scope).reader())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Run {
                started_at: r.try_get("started_at")?,
                finished_at: r.try_get("finished_at")?,
                ok: r.try_get::<i64, _>("ok")? != 0,
                pulled: r.try_get("pulled")?,
                pushed: r.try_get("pushed")?,
                conflicts: r.try_get("conflicts")?,
                skipped: r.try_get("skipped")?,
                error: r.try_get("error")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}
