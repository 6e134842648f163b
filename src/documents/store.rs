//! Document storage: every query filters by the tenant of the scope it is given.

use serde::Serialize;

use super::Step;
use crate::db::{AnyRow, Db, DbError, DbResult, Row, TenantTx, new_id};
use crate::tenancy::TenantScope;

/// Rows per list page.
pub const PAGE: i64 = 25;

/// A policy as staff see it.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Policy {
    /// Id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Markdown body.
    pub body: String,
    /// Version label.
    pub version: String,
    /// SHA-256 of title, version and body (see `documents::content_hash`).
    pub content_hash: String,
    /// Due (Unix ms).
    pub due_at: Option<i64>,
    /// Reminder schedule: days before the due date, comma separated.
    pub reminder_days: String,
    /// Users who join the chosen companies later sign too.
    pub include_future: bool,
    /// `active`, `cancelled` or `superseded`.
    pub status: String,
    /// Id in the system that pushed it (Legal integration).
    pub external_id: Option<String>,
    /// Created (Unix ms).
    pub created_at: i64,
    /// Signature requests signed.
    pub signed: i64,
    /// Signature requests in all (cancelled and superseded ones excluded).
    pub total: i64,
}

/// A signature request with its policy, as the signer and staff see it.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Signature {
    /// Id.
    pub id: String,
    /// Policy id.
    pub policy_id: String,
    /// Signer.
    pub user_id: String,
    /// Signer's account name now.
    pub user_name: String,
    /// Signer's email now.
    pub user_email: String,
    /// Step reached.
    pub state: Step,
    /// Policy title.
    pub title: String,
    /// Policy body (Markdown).
    #[serde(skip)]
    pub body: String,
    /// Policy version (for a signed request: the version signed).
    pub version: String,
    /// SHA-256 of the content shown (for a signed request: as signed).
    pub content_hash: String,
    /// Policy status.
    pub policy_status: String,
    /// Due (Unix ms).
    pub due_at: Option<i64>,
    /// Requested (Unix ms).
    pub created_at: i64,
    /// Read to the end (Unix ms).
    pub read_at: Option<i64>,
    /// Acknowledged (Unix ms).
    pub acknowledged_at: Option<i64>,
    /// Signed (Unix ms).
    pub signed_at: Option<i64>,
    /// Last reminder (Unix ms).
    pub reminded_at: Option<i64>,
    /// Evidence of each step: address and user agent.
    #[serde(skip)]
    pub evidence: Evidence,
    /// Name typed at Confirm.
    pub typed_name: Option<String>,
    /// Account name at signing.
    pub signer_name: Option<String>,
    /// Account email at signing.
    pub signer_email: Option<String>,
    /// SHA-256 of the signed PDF as produced.
    #[serde(skip)]
    pub pdf_sha256: Option<String>,
    /// Storage key of the signed PDF as produced.
    #[serde(skip)]
    pub pdf_key: Option<String>,
}

/// Address and user agent recorded at each step.
#[derive(Clone, Debug, Default)]
pub struct Evidence {
    /// Read step address.
    pub read_ip: Option<String>,
    /// Read step user agent.
    pub read_ua: Option<String>,
    /// Acknowledge step address.
    pub ack_ip: Option<String>,
    /// Acknowledge step user agent.
    pub ack_ua: Option<String>,
    /// Confirm step address.
    pub signed_ip: Option<String>,
    /// Confirm step user agent.
    pub signed_ua: Option<String>,
}

impl Signature {
    /// Past its due date and not signed.
    pub fn overdue(&self, now: i64) -> bool {
        self.state.is_open() && self.due_at.is_some_and(|d| d < now)
    }
}

const SIG_COLS: &str = "s.id, s.policy_id, s.user_id, u.name AS user_name, u.email AS user_email, \
    s.state, p.title, p.body, COALESCE(s.version, p.version) AS version, \
    COALESCE(s.content_hash, p.content_hash) AS content_hash, p.status AS policy_status, p.due_at, \
    s.created_at, s.read_at, s.acknowledged_at, s.signed_at, s.reminded_at, s.read_ip, s.read_ua, \
    s.ack_ip, s.ack_ua, s.signed_ip, s.signed_ua, s.typed_name, s.signer_name, s.signer_email, \
    s.pdf_sha256, s.pdf_key";

const SIG_FROM: &str = "doc_signatures s JOIN doc_policies p ON p.tenant_id = s.tenant_id AND p.id = s.policy_id \
    JOIN users u ON u.tenant_id = s.tenant_id AND u.id = s.user_id";

fn sig(r: &AnyRow) -> Result<Signature, sqlx::Error> {
    let state: String = r.try_get("state")?;
    Ok(Signature {
        id: r.try_get("id")?,
        policy_id: r.try_get("policy_id")?,
        user_id: r.try_get("user_id")?,
        user_name: r.try_get("user_name")?,
        user_email: r.try_get("user_email")?,
        state: Step::parse(&state).unwrap_or(Step::Cancelled),
        title: r.try_get("title")?,
        body: r.try_get("body")?,
        version: r.try_get("version")?,
        content_hash: r.try_get("content_hash")?,
        policy_status: r.try_get("policy_status")?,
        due_at: r.try_get("due_at")?,
        created_at: r.try_get("created_at")?,
        read_at: r.try_get("read_at")?,
        acknowledged_at: r.try_get("acknowledged_at")?,
        signed_at: r.try_get("signed_at")?,
        reminded_at: r.try_get("reminded_at")?,
        evidence: Evidence {
            read_ip: r.try_get("read_ip")?,
            read_ua: r.try_get("read_ua")?,
            ack_ip: r.try_get("ack_ip")?,
            ack_ua: r.try_get("ack_ua")?,
            signed_ip: r.try_get("signed_ip")?,
            signed_ua: r.try_get("signed_ua")?,
        },
        typed_name: r.try_get("typed_name")?,
        signer_name: r.try_get("signer_name")?,
        signer_email: r.try_get("signer_email")?,
        pdf_sha256: r.try_get("pdf_sha256")?,
        pdf_key: r.try_get("pdf_key")?,
    })
}

const POLICY_COLS: &str = "p.id, p.title, p.body, p.version, p.content_hash, p.due_at, p.reminder_days, \
    p.include_future, p.status, p.external_id, p.created_at, \
    (SELECT COUNT(*) FROM doc_signatures s WHERE s.tenant_id = p.tenant_id AND s.policy_id = p.id AND s.state = 'signed') AS signed, \
    (SELECT COUNT(*) FROM doc_signatures s WHERE s.tenant_id = p.tenant_id AND s.policy_id = p.id AND s.state NOT IN ('cancelled', 'superseded')) AS total";

fn policy(r: &AnyRow) -> Result<Policy, sqlx::Error> {
    Ok(Policy {
        id: r.try_get("id")?,
        title: r.try_get("title")?,
        body: r.try_get("body")?,
        version: r.try_get("version")?,
        content_hash: r.try_get("content_hash")?,
        due_at: r.try_get("due_at")?,
        reminder_days: r.try_get("reminder_days")?,
        include_future: r.try_get::<i64, _>("include_future")? != 0,
        status: r.try_get("status")?,
        external_id: r.try_get("external_id")?,
        created_at: r.try_get("created_at")?,
        signed: r.try_get("signed")?,
        total: r.try_get("total")?,
    })
}

/// A list position: rows older than `(created_at, id)`.
#[derive(Clone, Debug)]
pub struct Cursor {
    /// Created (Unix ms) of the last row shown.
    pub at: i64,
    /// Id of the last row shown.
    pub id: String,
}

impl Cursor {
    /// Parses `at.id`.
    pub fn parse(s: &str) -> Option<Cursor> {
        let (at, id) = s.split_once('.')?;
        Some(Cursor {
            at: at.parse().ok()?,
            id: id.to_string(),
        })
    }

    /// The text form.
    pub fn text(&self) -> String {
        format!("{}.{}", self.at, self.id)
    }
}

fn cursor_args(c: Option<&Cursor>) -> (i64, String) {
    c.map(|c| (c.at, c.id.clone()))
        .unwrap_or((i64::MAX, String::new()))
}

/// One page of policies, newest first, and the cursor of the next page.
pub async fn policies(
    db: &Db,
    scope: &TenantScope,
    after: Option<&Cursor>,
) -> DbResult<(Vec<Policy>, Option<Cursor>)> {
    let (at, id) = cursor_args(after);
    let rows = sqlx::query(&format!(
        "SELECT {POLICY_COLS} FROM doc_policies p WHERE p.tenant_id = $1 \
         AND (p.created_at < $2 OR (p.created_at = $2 AND ($3 = '' OR p.id < $3))) \
         ORDER BY p.created_at DESC, p.id DESC LIMIT $4"
    ))
    .bind(scope.tenant_id().as_str())
    .bind(at)
    .bind(id)
    .bind(PAGE + 1)
    .fetch_all(db.tenant(scope).reader())
    .await?;
    let mut items = rows
        .iter()
        .map(policy)
        .collect::<Result<Vec<_>, _>>()
        .map_err(DbError::from)?;
    let next = page_end(&mut items, |p| Cursor {
        at: p.created_at,
        id: p.id.clone(),
    });
    Ok((items, next))
}

fn page_end<T>(items: &mut Vec<T>, cursor: impl Fn(&T) -> Cursor) -> Option<Cursor> {
    if items.len() as i64 > PAGE {
        items.truncate(PAGE as usize);
        items.last().map(cursor)
    } else {
        None
    }
}

/// A policy by id.
pub async fn policy_by_id(db: &Db, scope: &TenantScope, id: &str) -> DbResult<Option<Policy>> {
    let row = sqlx::query(&format!(
        "SELECT {POLICY_COLS} FROM doc_policies p WHERE p.tenant_id = $1 AND p.id = $2"
    ))
    .bind(scope.tenant_id().as_str())
    .bind(id)
    .fetch_optional(db.tenant(scope).reader())
    .await?;
    row.as_ref().map(policy).transpose().map_err(DbError::from)
}

/// A policy by id inside a transaction, locked against concurrent changes where the backend
/// can (PostgreSQL row lock; SQLite holds the write lock already).
pub async fn policy_in(tx: &mut TenantTx, id: &str) -> DbResult<Option<Policy>> {
    let lock = match tx.backend() {
        crate::db::Backend::Postgres => " FOR UPDATE OF p",
        _ => "",
    };
    let tenant = tx.tenant_id().to_string();
    let row = sqlx::query(&format!(
        "SELECT {POLICY_COLS} FROM doc_policies p WHERE p.tenant_id = $1 AND p.id = $2{lock}"
    ))
    .bind(&tenant)
    .bind(id)
    .fetch_optional(tx.conn())
    .await?;
    row.as_ref().map(policy).transpose().map_err(DbError::from)
}

/// The facts of a new policy.
pub struct NewPolicy<'a> {
    /// Title.
    pub title: &'a str,
    /// Markdown body.
    pub body: &'a str,
    /// Version label.
    pub version: &'a str,
    /// Due (Unix ms).
    pub due_at: Option<i64>,
    /// Days before the due date a reminder goes out.
    pub reminder_days: &'a [i64],
    /// Later members of the chosen companies sign too.
    pub include_future: bool,
    /// Id in the pushing system.
    pub external_id: Option<&'a str>,
    /// Where to report completed signatures.
    pub callback_url: Option<&'a str>,
    /// The policy this version replaces.
    pub supersedes_id: Option<&'a str>,
    /// Staff user who created it (none for an integration push).
    pub created_by: Option<&'a str>,
}

/// Inserts a policy; returns its id.
pub async fn insert_policy(tx: &mut TenantTx, p: &NewPolicy<'_>, now: i64) -> DbResult<String> {
    let id = new_id();
    let tenant = tx.tenant_id().to_string();
    let days = p
        .reminder_days
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    sqlx::query(
        "INSERT INTO doc_policies (tenant_id, id, title, body, version, content_hash, due_at, \
         reminder_days, include_future, status, external_id, callback_url, supersedes_id, created_by, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'active', $10, $11, $12, $13, $14, $14)",
    )
    .bind(&tenant)
    .bind(&id)
    .bind(p.title)
    .bind(p.body)
    .bind(p.version)
    .bind(super::content_hash(p.title, p.version, p.body))
    .bind(p.due_at)
    .bind(days)
    .bind(i64::from(p.include_future))
    .bind(p.external_id)
    .bind(p.callback_url)
    .bind(p.supersedes_id)
    .bind(p.created_by)
    .bind(now)
    .execute(tx.conn())
    .await?;
    Ok(id)
}

/// Records a company whose users sign the policy.
pub async fn add_company(tx: &mut TenantTx, policy_id: &str, company_id: &str) -> DbResult<()> {
    let tenant = tx.tenant_id().to_string();
    sqlx::query(
        "INSERT INTO doc_policy_companies (tenant_id, policy_id, company_id) \
         SELECT $1, $2, c.id FROM companies c WHERE c.tenant_id = $1 AND c.id = $3 \
         ON CONFLICT DO NOTHING",
    )
    .bind(&tenant)
    .bind(policy_id)
    .bind(company_id)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Active client users with a membership in a company (home or not).
pub async fn company_users(tx: &mut TenantTx, company_id: &str) -> DbResult<Vec<String>> {
    let tenant = tx.tenant_id().to_string();
    let rows = sqlx::query(
        "SELECT u.id FROM users u JOIN memberships m ON m.tenant_id = u.tenant_id AND m.user_id = u.id \
         WHERE u.tenant_id = $1 AND m.company_id = $2 AND u.kind = 'client' \
         AND u.status = 'active' ORDER BY u.id",
    )
    .bind(&tenant)
    .bind(company_id)
    .fetch_all(tx.conn())
    .await?;
    rows.iter()
        .map(|r| r.try_get::<String, _>(0))
        .collect::<Result<_, _>>()
        .map_err(DbError::from)
}

/// Creates a signer's request unless the user is not an active client user of this tenant or
/// already has one; returns the new request's id.
pub async fn add_request(
    tx: &mut TenantTx,
    policy_id: &str,
    user_id: &str,
    now: i64,
) -> DbResult<Option<String>> {
    let tenant = tx.tenant_id().to_string();
    let id = new_id();
    let done = sqlx::query(
        "INSERT INTO doc_signatures (tenant_id, id, policy_id, user_id, state, created_at) \
         SELECT $1, $2, $3, u.id, 'pending', $5 FROM users u WHERE u.tenant_id = $1 AND u.id = $4 \
         AND u.kind = 'client' AND u.status = 'active' ON CONFLICT DO NOTHING",
    )
    .bind(&tenant)
    .bind(&id)
    .bind(policy_id)
    .bind(user_id)
    .bind(now)
    .execute(tx.conn())
    .await?;
    Ok((done.rows_affected() == 1).then_some(id))
}

/// Active policies that take later members of `company_id` and have no request for the user.
pub async fn missing_for(
    tx: &mut TenantTx,
    company_id: &str,
    user_id: &str,
) -> DbResult<Vec<String>> {
    let tenant = tx.tenant_id().to_string();
    let rows = sqlx::query(
        "SELECT p.id FROM doc_policies p JOIN doc_policy_companies pc ON pc.tenant_id = p.tenant_id \
         AND pc.policy_id = p.id WHERE p.tenant_id = $1 AND pc.company_id = $2 AND p.status = 'active' \
         AND p.include_future = 1 AND NOT EXISTS (SELECT 1 FROM doc_signatures s WHERE s.tenant_id = p.tenant_id \
         AND s.policy_id = p.id AND s.user_id = $3)",
    )
    .bind(&tenant)
    .bind(company_id)
    .bind(user_id)
    .fetch_all(tx.conn())
    .await?;
    rows.iter()
        .map(|r| r.try_get::<String, _>(0))
        .collect::<Result<_, _>>()
        .map_err(DbError::from)
}

/// A signature request by id, whoever it belongs to (callers check the owner).
pub async fn signature(db: &Db, scope: &TenantScope, id: &str) -> DbResult<Option<Signature>> {
    let row = sqlx::query(&format!(
        "SELECT {SIG_COLS} FROM {SIG_FROM} WHERE s.tenant_id = $1 AND s.id = $2"
    ))
    .bind(scope.tenant_id().as_str())
    .bind(id)
    .fetch_optional(db.tenant(scope).reader())
    .await?;
    row.as_ref().map(sig).transpose().map_err(DbError::from)
}

/// The same inside a transaction.
pub async fn signature_in(tx: &mut TenantTx, id: &str) -> DbResult<Option<Signature>> {
    let tenant = tx.tenant_id().to_string();
    let row = sqlx::query(&format!(
        "SELECT {SIG_COLS} FROM {SIG_FROM} WHERE s.tenant_id = $1 AND s.id = $2"
    ))
    .bind(&tenant)
    .bind(id)
    .fetch_optional(tx.conn())
    .await?;
    row.as_ref().map(sig).transpose().map_err(DbError::from)
}

/// Which of a signer's requests a list shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    /// Waiting for the signer.
    Pending,
    /// Signed.
    Signed,
}

/// A request is seen from the signer's active company (`$6`) unless it came through another
/// of their companies: when the policy is addressed to a company the signer belongs to, it
/// shows only while they are in one of the policy's companies. A policy sent to the person by
/// name (not through a company of theirs) follows them everywhere, so a person in two
/// companies never sees one company's policies while in the other.
const IN_COMPANY: &str = "(NOT EXISTS (SELECT 1 FROM doc_policy_companies pc JOIN memberships m \
     ON m.tenant_id = pc.tenant_id AND m.company_id = pc.company_id AND m.user_id = s.user_id \
     WHERE pc.tenant_id = s.tenant_id AND pc.policy_id = s.policy_id) \
     OR EXISTS (SELECT 1 FROM doc_policy_companies pc \
     WHERE pc.tenant_id = s.tenant_id AND pc.policy_id = s.policy_id AND pc.company_id = $6))";

/// Whether the request `id` is seen from `company` (see `IN_COMPANY`).
pub async fn seen_from(db: &Db, scope: &TenantScope, id: &str, company: &str) -> DbResult<bool> {
    let sql = format!(
        "SELECT COUNT(*) FROM doc_signatures s WHERE s.tenant_id = $1 AND s.id = $2 AND {}",
        IN_COMPANY.replace("$6", "$3")
    );
    let n: i64 = sqlx::query(&sql)
        .bind(scope.tenant_id().as_str())
        .bind(id)
        .bind(company)
        .fetch_one(db.tenant(scope).reader())
        .await?
        .try_get(0)?;
    Ok(n > 0)
}

/// One page of a user's requests seen from their active `company` (see `IN_COMPANY`):
/// pending ones by due date, signed ones newest first.
pub async fn mine(
    db: &Db,
    scope: &TenantScope,
    user_id: &str,
    company: &str,
    which: Which,
    after: Option<&Cursor>,
) -> DbResult<(Vec<Signature>, Option<Cursor>)> {
    let (at, id) = cursor_args(after);
    let (filter, order) = match which {
        Which::Pending => (
            "s.state IN ('pending', 'read', 'acknowledged') AND p.status = 'active'",
            "s.created_at DESC, s.id DESC",
        ),
        Which::Signed => ("s.state = 'signed'", "s.created_at DESC, s.id DESC"),
    };
    let rows = sqlx::query(&format!(
        "SELECT {SIG_COLS} FROM {SIG_FROM} WHERE s.tenant_id = $1 AND s.user_id = $2 AND {filter} \
         AND (s.created_at < $3 OR (s.created_at = $3 AND ($4 = '' OR s.id < $4))) \
         AND {IN_COMPANY} ORDER BY {order} LIMIT $5"
    ))
    .bind(scope.tenant_id().as_str())
    .bind(user_id)
    .bind(at)
    .bind(id)
    .bind(PAGE + 1)
    .bind(company)
    .fetch_all(db.tenant(scope).reader())
    .await?;
    let mut items = rows
        .iter()
        .map(sig)
        .collect::<Result<Vec<_>, _>>()
        .map_err(DbError::from)?;
    let next = page_end(&mut items, |s| Cursor {
        at: s.created_at,
        id: s.id.clone(),
    });
    Ok((items, next))
}

/// How many requests wait for the user in their active `company`.
pub async fn pending_count(
    db: &Db,
    scope: &TenantScope,
    user_id: &str,
    company: &str,
) -> DbResult<i64> {
    let row = sqlx::query(&format!(
        "SELECT COUNT(*) FROM doc_signatures s JOIN doc_policies p ON p.tenant_id = s.tenant_id \
         AND p.id = s.policy_id WHERE s.tenant_id = $1 AND s.user_id = $2 \
         AND s.state IN ('pending', 'read', 'acknowledged') AND p.status = 'active' AND {}",
        IN_COMPANY.replace("$6", "$3")
    ))
    .bind(scope.tenant_id().as_str())
    .bind(user_id)
    .bind(company)
    .fetch_one(db.tenant(scope).reader())
    .await?;
    Ok(row.try_get::<i64, _>(0)?)
}

/// Every request of a policy, signers by name.
pub async fn of_policy(db: &Db, scope: &TenantScope, policy_id: &str) -> DbResult<Vec<Signature>> {
    let rows = sqlx::query(&format!(
        "SELECT {SIG_COLS} FROM {SIG_FROM} WHERE s.tenant_id = $1 AND s.policy_id = $2 ORDER BY u.name, s.id LIMIT 5000"
    ))
    .bind(scope.tenant_id().as_str())
    .bind(policy_id)
    .fetch_all(db.tenant(scope).reader())
    .await?;
    rows.iter()
        .map(sig)
        .collect::<Result<_, _>>()
        .map_err(DbError::from)
}

/// The open requests of a policy, with the signers' addresses (inside a transaction).
pub async fn open_of_policy(tx: &mut TenantTx, policy_id: &str) -> DbResult<Vec<Signature>> {
    let tenant = tx.tenant_id().to_string();
    let rows = sqlx::query(&format!(
        "SELECT {SIG_COLS} FROM {SIG_FROM} WHERE s.tenant_id = $1 AND s.policy_id = $2 \
         AND s.state IN ('pending', 'read', 'acknowledged') ORDER BY s.id"
    ))
    .bind(&tenant)
    .bind(policy_id)
    .fetch_all(tx.conn())
    .await?;
    rows.iter()
        .map(sig)
        .collect::<Result<_, _>>()
        .map_err(DbError::from)
}

/// Where a step was taken from.
pub struct Seen<'a> {
    /// Time (Unix ms).
    pub at: i64,
    /// Client address.
    pub ip: &'a str,
    /// User agent.
    pub ua: &'a str,
}

/// Moves the signer's request from `from` to `to`, recording the step's time and evidence;
/// false when the request is not in `from` (a skipped, replayed or concurrent step) or is not
/// the user's. The condition in the UPDATE is what makes the order hold under concurrency.
pub async fn advance(
    tx: &mut TenantTx,
    id: &str,
    user_id: &str,
    from: Step,
    to: Step,
    seen: &Seen<'_>,
) -> DbResult<bool> {
    let cols = match to {
        Step::Read => "read_at = $5, read_ip = $6, read_ua = $7",
        Step::Acknowledged => "acknowledged_at = $5, ack_ip = $6, ack_ua = $7",
        _ => return Ok(false),
    };
    let tenant = tx.tenant_id().to_string();
    let done = sqlx::query(&format!(
        "UPDATE doc_signatures SET state = $8, {cols} WHERE tenant_id = $1 AND id = $2 AND user_id = $3 AND state = $4"
    ))
    .bind(&tenant)
    .bind(id)
    .bind(user_id)
    .bind(from.as_str())
    .bind(seen.at)
    .bind(seen.ip)
    .bind(seen.ua)
    .bind(to.as_str())
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// What the Confirm step records.
pub struct Signing<'a> {
    /// Name as typed.
    pub typed_name: &'a str,
    /// Account name.
    pub signer_name: &'a str,
    /// Account email.
    pub signer_email: &'a str,
    /// Version signed.
    pub version: &'a str,
    /// SHA-256 of the content shown.
    pub content_hash: &'a str,
}

/// Signs an acknowledged request; false when it is not acknowledged (or not the user's).
pub async fn sign(
    tx: &mut TenantTx,
    id: &str,
    user_id: &str,
    seen: &Seen<'_>,
    s: &Signing<'_>,
) -> DbResult<bool> {
    let tenant = tx.tenant_id().to_string();
    let done = sqlx::query(
        "UPDATE doc_signatures SET state = 'signed', signed_at = $4, signed_ip = $5, signed_ua = $6, \
         typed_name = $7, signer_name = $8, signer_email = $9, version = $10, content_hash = $11, closed_at = $4 \
         WHERE tenant_id = $1 AND id = $2 AND user_id = $3 AND state = 'acknowledged'",
    )
    .bind(&tenant)
    .bind(id)
    .bind(user_id)
    .bind(seen.at)
    .bind(seen.ip)
    .bind(seen.ua)
    .bind(s.typed_name)
    .bind(s.signer_name)
    .bind(s.signer_email)
    .bind(s.version)
    .bind(s.content_hash)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Closes a policy's open requests as `cancelled` or `superseded`; returns how many.
pub async fn close_open(tx: &mut TenantTx, policy_id: &str, to: Step, now: i64) -> DbResult<u64> {
    let tenant = tx.tenant_id().to_string();
    let done = sqlx::query(
        "UPDATE doc_signatures SET state = $3, closed_at = $4 WHERE tenant_id = $1 AND policy_id = $2 \
         AND state IN ('pending', 'read', 'acknowledged')",
    )
    .bind(&tenant)
    .bind(policy_id)
    .bind(to.as_str())
    .bind(now)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected())
}

/// Sets a policy's status.
pub async fn set_policy_status(
    tx: &mut TenantTx,
    policy_id: &str,
    status: &str,
    now: i64,
) -> DbResult<()> {
    let tenant = tx.tenant_id().to_string();
    sqlx::query(
        "UPDATE doc_policies SET status = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2",
    )
    .bind(&tenant)
    .bind(policy_id)
    .bind(status)
    .bind(now)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Marks open requests as reminded now.
pub async fn mark_reminded(tx: &mut TenantTx, ids: &[String], now: i64) -> DbResult<()> {
    let tenant = tx.tenant_id().to_string();
    for id in ids {
        sqlx::query(
            "UPDATE doc_signatures SET reminded_at = $3, reminders_sent = reminders_sent + 1 \
             WHERE tenant_id = $1 AND id = $2 AND state IN ('pending', 'read', 'acknowledged')",
        )
        .bind(&tenant)
        .bind(id)
        .bind(now)
        .execute(tx.conn())
        .await?;
    }
    Ok(())
}

/// Records the signed PDF the first time it is produced; false when another request stored
/// one first (that one stays the record).
pub async fn set_pdf(tx: &mut TenantTx, id: &str, key: &str, sha: &str) -> DbResult<bool> {
    let tenant = tx.tenant_id().to_string();
    let done = sqlx::query(
        "UPDATE doc_signatures SET pdf_key = $3, pdf_sha256 = $4 WHERE tenant_id = $1 AND id = $2 \
         AND state = 'signed' AND pdf_key IS NULL",
    )
    .bind(&tenant)
    .bind(id)
    .bind(key)
    .bind(sha)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The signed request whose PDF has this SHA-256, in this tenant.
pub async fn by_pdf_hash(db: &Db, scope: &TenantScope, sha: &str) -> DbResult<Option<Signature>> {
    let row = sqlx::query(&format!(
        "SELECT {SIG_COLS} FROM {SIG_FROM} WHERE s.tenant_id = $1 AND s.pdf_sha256 = $2 AND s.state = 'signed'"
    ))
    .bind(scope.tenant_id().as_str())
    .bind(sha)
    .fetch_optional(db.tenant(scope).reader())
    .await?;
    row.as_ref().map(sig).transpose().map_err(DbError::from)
}

/// A person staff may choose as a signer.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Choice {
    /// Id.
    pub id: String,
    /// Name (a user's, or a company's).
    pub name: String,
    /// Company name (users only).
    pub company: Option<String>,
}

/// Active client users and active companies, for the policy form.
pub async fn choices(db: &Db, scope: &TenantScope) -> DbResult<(Vec<Choice>, Vec<Choice>)> {
    let r = db.tenant(scope).reader();
    let users = sqlx::query(
        "SELECT u.id, u.name, c.name AS company FROM users u LEFT JOIN companies c ON c.tenant_id = u.tenant_id \
         AND c.id = u.company_id WHERE u.tenant_id = $1 AND u.kind = 'client' AND u.status = 'active' \
         ORDER BY c.name, u.name LIMIT 1000",
    )
    .bind(scope.tenant_id().as_str())
    .fetch_all(r)
    .await?;
    let companies = sqlx::query(
        "SELECT id, name FROM companies WHERE tenant_id = $1 AND status = 'active' ORDER BY name LIMIT 1000",
    )
    .bind(scope.tenant_id().as_str())
    .fetch_all(r)
    .await?;
    let users = users
        .iter()
        .map(|r| {
            Ok(Choice {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                company: r.try_get("company")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()?;
    let companies = companies
        .iter()
        .map(|r| {
            Ok(Choice {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                company: None,
            })
        })
        .collect::<Result<_, sqlx::Error>>()?;
    Ok((users, companies))
}
