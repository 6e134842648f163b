//! The append-only, hash-chained audit log (one chain per tenant), and its views.

pub mod routes;

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::auth::Actor;
use crate::db::{Db, DbResult, Row, TenantTx, new_id, now_ms};
use crate::tenancy::TenantScope;

/// One event to record.
#[derive(Clone, Debug)]
pub struct Entry<'a> {
    /// Acting user id, when known.
    pub actor_id: Option<&'a str>,
    /// Acting or attempted email.
    pub actor_email: Option<&'a str>,
    /// Company the event concerns (lets client admins see their own events).
    pub company_id: Option<&'a str>,
    /// Dotted action name, e.g. `auth.login`.
    pub action: &'a str,
    /// Kind of object acted on.
    pub target_type: Option<&'a str>,
    /// Id of the object acted on.
    pub target_id: Option<&'a str>,
    /// Client IP.
    pub ip: Option<&'a str>,
    /// Extra facts as JSON.
    pub detail: Value,
}

impl<'a> Entry<'a> {
    /// An entry for `action` with nothing else filled in.
    pub fn new(action: &'a str) -> Entry<'a> {
        Entry {
            actor_id: None,
            actor_email: None,
            company_id: None,
            action,
            target_type: None,
            target_id: None,
            ip: None,
            detail: Value::Object(Default::default()),
        }
    }

    /// Fills the actor from a permission grant.
    pub fn by(mut self, actor: &'a Actor) -> Entry<'a> {
        self.actor_id = Some(actor.user_id().as_str());
        self.actor_email = Some(actor.email());
        if self.company_id.is_none() {
            self.company_id = actor.company_id().map(|c| c.as_str());
        }
        self
    }

    /// Sets the target.
    pub fn target(mut self, kind: &'a str, id: &'a str) -> Entry<'a> {
        self.target_type = Some(kind);
        self.target_id = Some(id);
        self
    }

    /// Adds one field to the detail JSON (a fact known only inside the write, such as a new id).
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Entry<'a> {
        if let Some(o) = self.detail.as_object_mut() {
            o.insert(key.into(), value.into());
        }
        self
    }

    /// Sets the detail JSON.
    pub fn detail(mut self, v: Value) -> Entry<'a> {
        self.detail = v;
        self
    }
}

fn chain_hash(prev: &str, seq: i64, at: i64, e: &Entry<'_>, detail: &str) -> String {
    let mut h = Sha256::new();
    for part in [
        prev,
        &seq.to_string(),
        &at.to_string(),
        e.actor_id.unwrap_or(""),
        e.actor_email.unwrap_or(""),
        e.company_id.unwrap_or(""),
        e.action,
        e.target_type.unwrap_or(""),
        e.target_id.unwrap_or(""),
        e.ip.unwrap_or(""),
        detail,
    ] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Appends an entry to the tenant's chain in a transaction of its own: for events that change
/// nothing else (sign-in attempts, exports). A write action uses [`append`] instead.
pub async fn record(db: &Db, scope: &TenantScope, e: Entry<'_>) -> DbResult<()> {
    let mut tx = db.tenant(scope).begin().await?;
    append(&mut tx, e).await?;
    tx.commit().await
}

/// Appends an entry inside the action's transaction, so the change and its record commit
/// together.
pub async fn append(tx: &mut TenantTx, e: Entry<'_>) -> DbResult<()> {
    let scope = tx.scope().clone();
    record_in(tx.conn(), &scope, e).await
}

/// Appends an entry inside the caller's transaction, so the change and its record commit
/// together.
pub async fn record_in(
    tx: &mut sqlx::AnyConnection,
    scope: &TenantScope,
    e: Entry<'_>,
) -> DbResult<()> {
    // Claiming the next sequence number on the tenant row serialises writers per tenant, so
    // the chain never forks (a row lock on PostgreSQL, the write lock on SQLite).
    let row = sqlx::query(
        "UPDATE tenants SET audit_seq = audit_seq + 1 WHERE id = $1 RETURNING audit_seq, audit_head",
    )
    .bind(scope.tenant_id().as_str())
    .fetch_one(&mut *tx)
    .await?;
    let seq: i64 = row.try_get("audit_seq")?;
    let prev: String = row.try_get("audit_head")?;
    let at = now_ms();
    let detail = e.detail.to_string();
    let hash = chain_hash(&prev, seq, at, &e, &detail);
    sqlx::query(
        "INSERT INTO audit_log (id, tenant_id, seq, at, actor_id, actor_email, company_id, action, \
         target_type, target_id, ip, detail, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(new_id())
    .bind(scope.tenant_id().as_str())
    .bind(seq)
    .bind(at)
    .bind(e.actor_id)
    .bind(e.actor_email)
    .bind(e.company_id)
    .bind(e.action)
    .bind(e.target_type)
    .bind(e.target_id)
    .bind(e.ip)
    .bind(&detail)
    .bind(&prev)
    .bind(&hash)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE tenants SET audit_head = $2 WHERE id = $1")
        .bind(scope.tenant_id().as_str())
        .bind(&hash)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// A stored audit row.
#[derive(Clone, Debug, serde::Serialize)]
pub struct AuditRow {
    /// Position in the chain.
    pub seq: i64,
    /// When (Unix ms).
    pub at: i64,
    /// Actor email.
    pub actor_email: Option<String>,
    /// Company the event concerns.
    pub company_id: Option<String>,
    /// Action.
    pub action: String,
    /// Target kind.
    pub target_type: Option<String>,
    /// Target id.
    pub target_id: Option<String>,
    /// Client IP.
    pub ip: Option<String>,
    /// Detail JSON.
    pub detail: String,
}

const ROW_COLUMNS: &str =
    "seq, at, actor_email, company_id, action, target_type, target_id, ip, detail";

fn row_from(r: &crate::db::AnyRow) -> Result<AuditRow, sqlx::Error> {
    Ok(AuditRow {
        seq: r.try_get("seq")?,
        at: r.try_get("at")?,
        actor_email: r.try_get("actor_email")?,
        company_id: r.try_get("company_id")?,
        action: r.try_get("action")?,
        target_type: r.try_get("target_type")?,
        target_id: r.try_get("target_id")?,
        ip: r.try_get("ip")?,
        detail: r.try_get("detail")?,
    })
}

/// The newest entries of a tenant, newest first.
pub async fn recent(db: &Db, scope: &TenantScope, limit: i64) -> DbResult<Vec<AuditRow>> {
    search(
        db,
        scope,
        &Filter {
            limit,
            ..Filter::default()
        },
    )
    .await
}

/// What an audit search asks for; empty fields do not filter.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Only this company's events (client admins always set it).
    pub company_id: Option<String>,
    /// From this time on (Unix ms, inclusive).
    pub since: Option<i64>,
    /// Before this time (Unix ms, exclusive).
    pub until: Option<i64>,
    /// Actor email (exact, lowercase).
    pub actor: Option<String>,
    /// Action name, or a prefix ending in `.` (e.g. `auth.`).
    pub action: Option<String>,
    /// Entries older than this sequence number (the cursor).
    pub before_seq: Option<i64>,
    /// Page size.
    pub limit: i64,
}

/// Entries matching `f`, newest first (keyset pagination by `seq`).
pub async fn search(db: &Db, scope: &TenantScope, f: &Filter) -> DbResult<Vec<AuditRow>> {
    let action = f.action.clone().unwrap_or_default();
    let (action_exact, action_prefix) = if action.ends_with('.') {
        (String::new(), format!("{action}%"))
    } else {
        (action, String::new())
    };
    let sql = format!(
        "SELECT {ROW_COLUMNS} FROM audit_log WHERE tenant_id = $1 \
         AND ($2 = '' OR company_id = $2) AND at >= $3 AND at < $4 \
         AND ($5 = '' OR actor_email = $5) AND ($6 = '' OR action = $6) \
         AND ($7 = '' OR action LIKE $7) AND seq < $8 ORDER BY seq DESC LIMIT $9"
    );
    let rows = sqlx::query(&sql)
        .bind(scope.tenant_id().as_str())
        .bind(f.company_id.as_deref().unwrap_or(""))
        .bind(f.since.unwrap_or(i64::MIN))
        .bind(f.until.unwrap_or(i64::MAX))
        .bind(f.actor.as_deref().unwrap_or(""))
        .bind(&action_exact)
        .bind(&action_prefix)
        .bind(f.before_seq.unwrap_or(i64::MAX))
        .bind(f.limit)
        .fetch_all(db.tenant(scope).reader())
        .await?;
    rows.iter().map(|r| Ok(row_from(r)?)).collect()
}

/// Walks the tenant's chain; returns the sequence number of the first broken link, if any.
pub async fn verify(db: &Db, scope: &TenantScope) -> DbResult<Option<i64>> {
    let rows = sqlx::query(
        "SELECT seq, at, actor_id, actor_email, company_id, action, target_type, target_id, ip, \
         detail, prev_hash, hash FROM audit_log WHERE tenant_id = $1 ORDER BY seq",
    )
    .bind(scope.tenant_id().as_str())
    .fetch_all(db.tenant(scope).reader())
    .await?;
    let mut prev = String::new();
    for (expected_seq, r) in (1_i64..).zip(rows.iter()) {
        let seq: i64 = r.try_get("seq")?;
        let actor_id: Option<String> = r.try_get("actor_id")?;
        let actor_email: Option<String> = r.try_get("actor_email")?;
        let company_id: Option<String> = r.try_get("company_id")?;
        let action: String = r.try_get("action")?;
        let target_type: Option<String> = r.try_get("target_type")?;
        let target_id: Option<String> = r.try_get("target_id")?;
        let ip: Option<String> = r.try_get("ip")?;
        let detail: String = r.try_get("detail")?;
        let prev_hash: String = r.try_get("prev_hash")?;
        let hash: String = r.try_get("hash")?;
        let e = Entry {
            actor_id: actor_id.as_deref(),
            actor_email: actor_email.as_deref(),
            company_id: company_id.as_deref(),
            action: &action,
            target_type: target_type.as_deref(),
            target_id: target_id.as_deref(),
            ip: ip.as_deref(),
            detail: Value::Null,
        };
        let at: i64 = r.try_get("at")?;
        if seq != expected_seq
            || prev_hash != prev
            || chain_hash(&prev, seq, at, &e, &detail) != hash
        {
            return Ok(Some(seq));
        }
        prev = hash;
    }
    Ok(None)
}
