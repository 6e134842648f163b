//! The append-only, hash-chained audit log (one chain per tenant), and its views.

pub mod routes;
pub mod words;

use futures::TryStreamExt;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::auth::Actor;
use crate::db::{AnyRow, Db, DbError, DbResult, Row, TenantTx, new_id, now_ms};
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

// The chain key: HMAC-SHA256 of a fixed label under PORTICO_SECRET_KEY, so the audit key is
// never the raw secret and never reused for CSRF or sealing. Process-wide because the write
// path (`record_in`) only sees a connection; every process builds its state (and so installs
// the key) before it writes.
static CHAIN_KEY: std::sync::RwLock<Option<[u8; 32]>> = std::sync::RwLock::new(None);

/// Derives the audit chain key from the secret key and makes it the process's key.
pub fn install_key(secret_key: &[u8]) {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret_key) else {
        return;
    };
    mac.update(b"portico audit chain v2");
    let key: [u8; 32] = mac.finalize().into_bytes().into();
    if let Ok(mut k) = CHAIN_KEY.write() {
        *k = Some(key);
    }
}

fn chain_key() -> DbResult<[u8; 32]> {
    CHAIN_KEY.read().ok().and_then(|k| *k).ok_or_else(|| {
        DbError::Sqlx(sqlx::Error::Configuration(
            "the audit chain key is not installed".into(),
        ))
    })
}

/// The fields a link of the chain covers, as stored.
struct Link<'a> {
    tenant_id: &'a str,
    prev: &'a str,
    seq: i64,
    at: i64,
    actor_id: Option<&'a str>,
    actor_email: Option<&'a str>,
    company_id: Option<&'a str>,
    action: &'a str,
    target_type: Option<&'a str>,
    target_id: Option<&'a str>,
    ip: Option<&'a str>,
    detail: &'a str,
}

impl<'a> Link<'a> {
    fn of(
        tenant_id: &'a str,
        prev: &'a str,
        seq: i64,
        at: i64,
        e: &'a Entry<'a>,
        detail: &'a str,
    ) -> Link<'a> {
        Link {
            tenant_id,
            prev,
            seq,
            at,
            actor_id: e.actor_id,
            actor_email: e.actor_email,
            company_id: e.company_id,
            action: e.action,
            target_type: e.target_type,
            target_id: e.target_id,
            ip: e.ip,
            detail,
        }
    }

    fn optional_fields(&self) -> [Option<&'a str>; 10] {
        [
            Some(self.tenant_id),
            Some(self.prev),
            self.actor_id,
            self.actor_email,
            self.company_id,
            Some(self.action),
            self.target_type,
            self.target_id,
            self.ip,
            Some(self.detail),
        ]
    }

    /// The keyed hash: HMAC-SHA256; each field tagged, so NULL (0) differs from "" (1, length 0).
    fn keyed_hash(&self, key: &[u8; 32]) -> String {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
            return String::new();
        };
        mac.update(&self.seq.to_be_bytes());
        mac.update(&self.at.to_be_bytes());
        for f in self.optional_fields() {
            match f {
                None => mac.update(&[0]),
                Some(v) => {
                    mac.update(&[1]);
                    mac.update(&(v.len() as u64).to_be_bytes());
                    mac.update(v.as_bytes());
                }
            }
        }
        hex::encode(mac.finalize().into_bytes())
    }

    /// The hash chains were written with before keying (plain SHA-256, NULL as ""); only
    /// used to check an old chain once before it is re-chained with the key.
    fn legacy_hash(&self) -> String {
        let mut h = Sha256::new();
        for part in [
            self.prev,
            &self.seq.to_string(),
            &self.at.to_string(),
            self.actor_id.unwrap_or(""),
            self.actor_email.unwrap_or(""),
            self.company_id.unwrap_or(""),
            self.action,
            self.target_type.unwrap_or(""),
            self.target_id.unwrap_or(""),
            self.ip.unwrap_or(""),
            self.detail,
        ] {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part.as_bytes());
        }
        hex::encode(h.finalize())
    }
}

/// The plain SHA-256 link hash of chains written before keying (exposed so tests can build
/// an old chain, or an attacker's recomputed one).
pub fn legacy_hash(prev: &str, seq: i64, at: i64, e: &Entry<'_>, detail: &str) -> String {
    Link::of("", prev, seq, at, e, detail).legacy_hash()
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
    let key = chain_key()?;
    let tenant_id = scope.tenant_id().as_str();
    let hash = Link::of(tenant_id, &prev, seq, at, &e, &detail).keyed_hash(&key);
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
    /// Actor's current display name.
    pub actor_name: Option<String>,
    /// Target's current name (users and companies).
    pub target_name: Option<String>,
}

/// The entry columns, with the actor's and target's names joined in for pages.
const ROW_FROM: &str = "SELECT a.seq, a.at, a.actor_email, a.company_id, a.action, a.target_type, \
    a.target_id, a.ip, a.detail, au.name AS actor_name, COALESCE(tu.name, tc.name) AS target_name \
    FROM audit_log a \
    LEFT JOIN users au ON au.id = a.actor_id AND au.tenant_id = a.tenant_id \
    LEFT JOIN users tu ON a.target_type = 'user' AND tu.id = a.target_id AND tu.tenant_id = a.tenant_id \
    LEFT JOIN companies tc ON a.target_type = 'company' AND tc.id = a.target_id AND tc.tenant_id = a.tenant_id";

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
        actor_name: r.try_get("actor_name")?,
        target_name: r.try_get("target_name")?,
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
        "{ROW_FROM} WHERE a.tenant_id = $1 \
         AND ($2 = '' OR a.company_id = $2) AND a.at >= $3 AND a.at < $4 \
         AND ($5 = '' OR a.actor_email = $5) AND ($6 = '' OR a.action = $6) \
         AND ($7 = '' OR a.action LIKE $7) AND a.seq < $8 ORDER BY a.seq DESC LIMIT $9"
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

const CHAIN_COLUMNS: &str = "seq, at, actor_id, actor_email, company_id, action, target_type, \
    target_id, ip, detail, prev_hash, hash";

/// One stored link, owned.
struct StoredLink {
    seq: i64,
    at: i64,
    actor_id: Option<String>,
    actor_email: Option<String>,
    company_id: Option<String>,
    action: String,
    target_type: Option<String>,
    target_id: Option<String>,
    ip: Option<String>,
    detail: String,
    prev_hash: String,
    hash: String,
}

impl StoredLink {
    fn from_row(r: &AnyRow) -> Result<StoredLink, sqlx::Error> {
        Ok(StoredLink {
            seq: r.try_get("seq")?,
            at: r.try_get("at")?,
            actor_id: r.try_get("actor_id")?,
            actor_email: r.try_get("actor_email")?,
            company_id: r.try_get("company_id")?,
            action: r.try_get("action")?,
            target_type: r.try_get("target_type")?,
            target_id: r.try_get("target_id")?,
            ip: r.try_get("ip")?,
            detail: r.try_get("detail")?,
            prev_hash: r.try_get("prev_hash")?,
            hash: r.try_get("hash")?,
        })
    }

    fn link<'a>(&'a self, tenant_id: &'a str, prev: &'a str) -> Link<'a> {
        Link {
            tenant_id,
            prev,
            seq: self.seq,
            at: self.at,
            actor_id: self.actor_id.as_deref(),
            actor_email: self.actor_email.as_deref(),
            company_id: self.company_id.as_deref(),
            action: &self.action,
            target_type: self.target_type.as_deref(),
            target_id: self.target_id.as_deref(),
            ip: self.ip.as_deref(),
            detail: &self.detail,
        }
    }
}

/// Walks the tenant's chain; returns the sequence number of the first broken link, if any.
///
/// Rows are streamed, not loaded at once. The walk stops at the tenant's recorded head
/// (`audit_seq`, `audit_head`), read first, so entries appended meanwhile are not judged and
/// entries removed from the end are: the last row must be the head. A tenant whose chain was
/// never keyed (its pre-key chain was already broken, or the flag was reset) fails at 1.
pub async fn verify(db: &Db, scope: &TenantScope) -> DbResult<Option<i64>> {
    let key = chain_key()?;
    let tenant_id = scope.tenant_id().as_str();
    let Some(head) =
        sqlx::query("SELECT audit_seq, audit_head, audit_keyed FROM tenants WHERE id = $1")
            .bind(tenant_id)
            .fetch_optional(db.tenant(scope).reader())
            .await?
    else {
        return Ok(None);
    };
    let head_seq: i64 = head.try_get("audit_seq")?;
    let head_hash: String = head.try_get("audit_head")?;
    if !crate::db::flag(&head, "audit_keyed")? {
        return Ok(Some(1));
    }
    let sql = format!(
        "SELECT {CHAIN_COLUMNS} FROM audit_log WHERE tenant_id = $1 AND seq <= $2 ORDER BY seq"
    );
    let mut rows = sqlx::query(&sql)
        .bind(tenant_id)
        .bind(head_seq)
        .fetch(db.tenant(scope).reader());
    let mut prev = String::new();
    let mut expected_seq = 1_i64;
    while let Some(r) = rows.try_next().await? {
        let l = StoredLink::from_row(&r)?;
        if l.seq != expected_seq
            || l.prev_hash != prev
            || l.link(tenant_id, &prev).keyed_hash(&key) != l.hash
        {
            return Ok(Some(expected_seq.min(l.seq)));
        }
        prev = l.hash;
        expected_seq += 1;
    }
    // The newest rows must still be there, ending in the head the tenant row records.
    if expected_seq - 1 != head_seq || prev != head_hash {
        return Ok(Some(expected_seq));
    }
    Ok(None)
}

/// True until the migration that keys the chain (0010) has been applied to `db`; read before
/// migrating, it tells the process whether it is the one that must re-chain old entries.
pub async fn keying_pending(db: &Db) -> bool {
    let applied =
        sqlx::query("SELECT COUNT(*) AS n FROM _sqlx_migrations WHERE version = 10 AND success")
            .fetch_one(db.operator("migration status").reader())
            .await
            .and_then(|r| r.try_get::<i64, _>("n"));
    // No migrations table yet: a fresh database, which has no old entries either way.
    !matches!(applied, Ok(n) if n > 0)
}

/// Re-chains every not-yet-keyed tenant with the key, once its plain SHA-256 chain checks
/// out (including its head). A tenant whose old chain is already broken is left as it is, so
/// `verify` keeps reporting it. Returns how many tenants were re-chained.
///
/// Only the process that applies migration 0010 calls this (see `AppState::build`): a flag
/// reset later by someone without the key is reported by `verify`, never re-blessed.
pub async fn key_legacy_chains(db: &Db) -> DbResult<usize> {
    let key = chain_key()?;
    let op = db.operator("re-keying audit chains at migration");
    let ids: Vec<String> = sqlx::query("SELECT id FROM tenants WHERE audit_keyed = 0")
        .fetch_all(op.reader())
        .await?
        .iter()
        .map(|r| r.try_get("id"))
        .collect::<Result<_, _>>()?;
    let mut done = 0;
    for id in ids {
        if key_one(db, &key, &id).await? {
            done += 1;
            let scope = op.scope(crate::tenancy::TenantId(id.clone()));
            record(
                db,
                &scope,
                Entry::new("audit.chain_keyed")
                    .detail(serde_json::json!({ "hash": "hmac-sha256" })),
            )
            .await?;
        } else {
            tracing::error!(tenant = %id, "audit chain was already broken before keying; left unkeyed, `portico audit verify` reports it");
        }
    }
    Ok(done)
}

async fn key_one(db: &Db, key: &[u8; 32], tenant_id: &str) -> DbResult<bool> {
    let mut tx = db
        .operator("re-keying audit chains at migration")
        .writer()
        .begin()
        .await?;
    // Locks the tenant row like `record_in` does, so no entry is appended meanwhile.
    let Some(head) = sqlx::query(
        "UPDATE tenants SET audit_seq = audit_seq WHERE id = $1 AND audit_keyed = 0 \
         RETURNING audit_seq, audit_head",
    )
    .bind(tenant_id)
    .fetch_optional(&mut *tx)
    .await?
    else {
        return Ok(false);
    };
    let head_seq: i64 = head.try_get("audit_seq")?;
    let head_hash: String = head.try_get("audit_head")?;
    let sql = format!(
        "SELECT {CHAIN_COLUMNS} FROM audit_log WHERE tenant_id = $1 AND seq > $2 ORDER BY seq LIMIT 500"
    );
    let (mut old_prev, mut new_prev, mut last_seq) = (String::new(), String::new(), 0_i64);
    loop {
        let batch = sqlx::query(&sql)
            .bind(tenant_id)
            .bind(last_seq)
            .fetch_all(&mut *tx)
            .await?;
        if batch.is_empty() {
            break;
        }
        for r in &batch {
            let l = StoredLink::from_row(r)?;
            if l.seq != last_seq + 1
                || l.prev_hash != old_prev
                || l.link("", &old_prev).legacy_hash() != l.hash
            {
                return Ok(false);
            }
            let new_hash = l.link(tenant_id, &new_prev).keyed_hash(key);
            sqlx::query(
                "UPDATE audit_log SET prev_hash = $3, hash = $4 WHERE tenant_id = $1 AND seq = $2",
            )
            .bind(tenant_id)
            .bind(l.seq)
            .bind(&new_prev)
            .bind(&new_hash)
            .execute(&mut *tx)
            .await?;
            old_prev = l.hash;
            new_prev = new_hash;
            last_seq = l.seq;
        }
    }
    if last_seq != head_seq || old_prev != head_hash {
        return Ok(false);
    }
    sqlx::query("UPDATE tenants SET audit_head = $2, audit_keyed = 1 WHERE id = $1")
        .bind(tenant_id)
        .bind(&new_prev)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(true)
}
