//! Shared files: staff share a stored file with every client, one company or one user;
//! replacing it adds a version (history kept), withdrawing hides it from clients. Who may see a
//! file is decided in one SQL predicate ([`VISIBLE`]) used by every client route, so a list,
//! a detail and a download can never disagree. Clients only ever get the current version;
//! older versions are for staff.

use serde::Serialize;
use serde_json::json;

use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::auth::{Actor, Principal};
use crate::db::{AnyRow, Db, DbError, DbResult, Row, TenantTx, new_id, now_ms};
use crate::error::{AppError, AppResult, FieldError};
use crate::files::{ObjectKey, StoredFile};
use crate::i18n::k;
use crate::tenancy::TenantScope;

/// Rows per list page.
pub const PAGE: i64 = 25;
/// Longest title.
pub const MAX_TITLE: usize = 200;

/// Who a file is shared with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Audience {
    /// Every client user of the tenant.
    All,
    /// Every user of one company.
    Company(String),
    /// One user.
    User(String),
}

impl Audience {
    /// Reads the form/API fields (`audience` = all | company | user).
    pub fn parse(kind: &str, company_id: &str, user_id: &str) -> Result<Audience, FieldError> {
        let err = |field: &str, key: &'static str| FieldError {
            field: field.into(),
            message: k(key).into(),
        };
        match kind.trim() {
            "all" => Ok(Audience::All),
            "company" if !company_id.trim().is_empty() => {
                Ok(Audience::Company(company_id.trim().into()))
            }
            "company" => Err(err("company_id", "files-error-company")),
            "user" if !user_id.trim().is_empty() => Ok(Audience::User(user_id.trim().into())),
            "user" => Err(err("user_id", "files-error-user")),
            _ => Err(err("audience", "files-error-audience")),
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Audience::All => "all",
            Audience::Company(_) => "company",
            Audience::User(_) => "user",
        }
    }
}

/// A shared file with its current version.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct SharedFile {
    /// Id.
    pub id: String,
    /// Title shown in the list.
    pub title: String,
    /// `all`, `company` or `user`.
    pub audience: String,
    /// The company it is shared with (`company`).
    pub company_id: Option<String>,
    /// That company's name.
    pub company_name: Option<String>,
    /// The user it is shared with (`user`).
    pub user_id: Option<String>,
    /// That user's name.
    pub user_name: Option<String>,
    /// `active` or `withdrawn`.
    pub status: String,
    /// Current version number (1, 2, …).
    pub version: i64,
    /// File name of the current version.
    pub filename: String,
    /// Content type of the current version (detected from the content).
    pub content_type: String,
    /// Size of the current version in bytes.
    pub size: i64,
    /// SHA-256 of the current version, hex.
    pub sha256: String,
    /// Shared (Unix ms).
    pub created_at: i64,
    /// Last replaced (Unix ms).
    pub updated_at: i64,
    /// Withdrawn (Unix ms).
    pub withdrawn_at: Option<i64>,
    #[serde(skip)]
    storage_key: String,
}

impl SharedFile {
    /// The object holding the current version.
    pub fn key(&self) -> ObjectKey {
        ObjectKey::stored(self.storage_key.clone())
    }
}

/// One stored version of a shared file.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct FileVersion {
    /// Version number.
    pub version: i64,
    /// File name.
    pub filename: String,
    /// Content type.
    pub content_type: String,
    /// Size in bytes.
    pub size: i64,
    /// SHA-256, hex.
    pub sha256: String,
    /// Uploaded (Unix ms).
    pub created_at: i64,
    #[serde(skip)]
    storage_key: String,
}

impl FileVersion {
    /// The object holding this version.
    pub fn key(&self) -> ObjectKey {
        ObjectKey::stored(self.storage_key.clone())
    }
}

const COLS: &str = "f.id, f.title, f.audience, f.company_id, c.name AS company_name, f.user_id, \
    u.name AS user_name, f.status, f.version, v.filename, v.content_type, v.size, v.sha256, \
    v.storage_key, f.created_at, f.updated_at, f.withdrawn_at";

const FROM: &str = "doc_files f JOIN doc_file_versions v ON v.tenant_id = f.tenant_id \
    AND v.file_id = f.id AND v.version = f.version \
    LEFT JOIN companies c ON c.tenant_id = f.tenant_id AND c.id = f.company_id \
    LEFT JOIN users u ON u.tenant_id = f.tenant_id AND u.id = f.user_id";

/// The one rule for what a client user sees: active files shared with everyone, with the
/// user's company ($2) or with the user ($3).
const VISIBLE: &str = "f.status = 'active' AND (f.audience = 'all' \
    OR (f.audience = 'company' AND f.company_id = $2) OR (f.audience = 'user' AND f.user_id = $3))";

fn row(r: &AnyRow) -> Result<SharedFile, sqlx::Error> {
    Ok(SharedFile {
        id: r.try_get("id")?,
        title: r.try_get("title")?,
        audience: r.try_get("audience")?,
        company_id: r.try_get("company_id")?,
        company_name: r.try_get("company_name")?,
        user_id: r.try_get("user_id")?,
        user_name: r.try_get("user_name")?,
        status: r.try_get("status")?,
        version: r.try_get("version")?,
        filename: r.try_get("filename")?,
        content_type: r.try_get("content_type")?,
        size: r.try_get("size")?,
        sha256: r.try_get("sha256")?,
        storage_key: r.try_get("storage_key")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        withdrawn_at: r.try_get("withdrawn_at")?,
    })
}

/// A list position: rows older than `(updated_at, id)`.
#[derive(Clone, Debug)]
pub struct Cursor {
    at: i64,
    id: String,
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

/// The search text as a `LIKE` pattern (escaped), or empty for no search.
fn pattern(q: &str) -> String {
    let q = q.trim().to_lowercase();
    if q.is_empty() {
        return String::new();
    }
    let mut out = String::from("%");
    for c in q.chars().take(100) {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// Who is asking for a list: a client user (only what they were given) or staff (everything).
pub enum Viewer<'a> {
    /// A client user: company and user id.
    Client(&'a str, &'a str),
    /// Staff.
    Staff,
}

/// One page of files, most recently changed first, matching `q` on title or file name.
pub async fn list(
    db: &Db,
    scope: &TenantScope,
    viewer: Viewer<'_>,
    q: &str,
    after: Option<&Cursor>,
) -> DbResult<(Vec<SharedFile>, Option<Cursor>)> {
    let (at, id) = after
        .map(|c| (c.at, c.id.clone()))
        .unwrap_or((i64::MAX, String::new()));
    let (company, user, visible) = match viewer {
        Viewer::Client(c, u) => (c.to_string(), u.to_string(), VISIBLE),
        Viewer::Staff => (String::new(), String::new(), "($2 = $2 AND $3 = $3)"),
    };
    let rows = sqlx::query(&format!(
        "SELECT {COLS} FROM {FROM} WHERE f.tenant_id = $1 AND {visible} \
         AND ($4 = '' OR LOWER(f.title) LIKE $4 ESCAPE '\\' OR LOWER(v.filename) LIKE $4 ESCAPE '\\') \
         AND (f.updated_at < $5 OR (f.updated_at = $5 AND ($6 = '' OR f.id < $6))) \
         ORDER BY f.updated_at DESC, f.id DESC LIMIT $7"
    ))
    .bind(scope.tenant_id().as_str())
    .bind(company)
    .bind(user)
    .bind(pattern(q))
    .bind(at)
    .bind(id)
    .bind(PAGE + 1)
    .fetch_all(db.tenant(scope).reader())
    .await?;
    let mut items = rows
        .iter()
        .map(row)
        .collect::<Result<Vec<_>, _>>()
        .map_err(DbError::from)?;
    let next = if items.len() as i64 > PAGE {
        items.truncate(PAGE as usize);
        items.last().map(|f| Cursor {
            at: f.updated_at,
            id: f.id.clone(),
        })
    } else {
        None
    };
    Ok((items, next))
}

/// A file the client user was given, or `None` (withdrawn, someone else's, another tenant's).
pub async fn visible(
    db: &Db,
    scope: &TenantScope,
    company_id: &str,
    user_id: &str,
    id: &str,
) -> DbResult<Option<SharedFile>> {
    let r = sqlx::query(&format!(
        "SELECT {COLS} FROM {FROM} WHERE f.tenant_id = $1 AND {VISIBLE} AND f.id = $4"
    ))
    .bind(scope.tenant_id().as_str())
    .bind(company_id)
    .bind(user_id)
    .bind(id)
    .fetch_optional(db.tenant(scope).reader())
    .await?;
    r.as_ref().map(row).transpose().map_err(DbError::from)
}

/// Any file of the tenant (staff).
pub async fn by_id(db: &Db, scope: &TenantScope, id: &str) -> DbResult<Option<SharedFile>> {
    let r = sqlx::query(&format!(
        "SELECT {COLS} FROM {FROM} WHERE f.tenant_id = $1 AND f.id = $2"
    ))
    .bind(scope.tenant_id().as_str())
    .bind(id)
    .fetch_optional(db.tenant(scope).reader())
    .await?;
    r.as_ref().map(row).transpose().map_err(DbError::from)
}

async fn by_id_in(tx: &mut TenantTx, id: &str) -> DbResult<Option<SharedFile>> {
    let tenant = tx.tenant_id().to_string();
    let r = sqlx::query(&format!(
        "SELECT {COLS} FROM {FROM} WHERE f.tenant_id = $1 AND f.id = $2"
    ))
    .bind(tenant)
    .bind(id)
    .fetch_optional(tx.conn())
    .await?;
    r.as_ref().map(row).transpose().map_err(DbError::from)
}

/// Every version of a file, newest first (staff).
pub async fn versions(db: &Db, scope: &TenantScope, file_id: &str) -> DbResult<Vec<FileVersion>> {
    let rows = sqlx::query(
        "SELECT version, filename, content_type, size, sha256, storage_key, created_at \
         FROM doc_file_versions WHERE tenant_id = $1 AND file_id = $2 ORDER BY version DESC",
    )
    .bind(scope.tenant_id().as_str())
    .bind(file_id)
    .fetch_all(db.tenant(scope).reader())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(FileVersion {
                version: r.try_get("version")?,
                filename: r.try_get("filename")?,
                content_type: r.try_get("content_type")?,
                size: r.try_get("size")?,
                sha256: r.try_get("sha256")?,
                storage_key: r.try_get("storage_key")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .map_err(DbError::from)
}

async fn insert_version(
    tx: &mut TenantTx,
    file_id: &str,
    version: i64,
    f: &StoredFile,
    by: Option<&str>,
    now: i64,
) -> DbResult<()> {
    let tenant = tx.tenant_id().to_string();
    sqlx::query(
        "INSERT INTO doc_file_versions (tenant_id, file_id, version, filename, content_type, size, \
         sha256, storage_key, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(tenant)
    .bind(file_id)
    .bind(version)
    .bind(&f.filename)
    .bind(f.content_type)
    .bind(f.size)
    .bind(&f.sha256)
    .bind(f.key.as_str())
    .bind(by)
    .bind(now)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Checks that the audience names a company or client user of this tenant.
async fn check_audience(tx: &mut TenantTx, a: &Audience) -> AppResult<()> {
    let tenant = tx.tenant_id().to_string();
    let (sql, id, field, key) = match a {
        Audience::All => return Ok(()),
        Audience::Company(c) => (
            "SELECT COUNT(*) FROM companies WHERE tenant_id = $1 AND id = $2",
            c,
            "company_id",
            "files-error-company",
        ),
        Audience::User(u) => (
            "SELECT COUNT(*) FROM users WHERE tenant_id = $1 AND id = $2 AND kind = 'client'",
            u,
            "user_id",
            "files-error-user",
        ),
    };
    let n: i64 = sqlx::query(sql)
        .bind(tenant)
        .bind(id)
        .fetch_one(tx.conn())
        .await
        .map_err(DbError::from)?
        .try_get(0)
        .map_err(DbError::from)?;
    if n == 0 {
        return Err(AppError::field(field, k(key)));
    }
    Ok(())
}

/// Checks a title: the file name stands in for an empty one.
pub fn title_of(title: &str, file: &StoredFile) -> Result<String, FieldError> {
    let t = title.trim();
    let t = if t.is_empty() {
        file.filename.trim()
    } else {
        t
    };
    if t.chars().count() > MAX_TITLE {
        return Err(FieldError {
            field: "title".into(),
            message: k("files-error-title").into(),
        });
    }
    Ok(t.to_string())
}

/// Shares a stored file: the row, its first version, the storage charge and the audit entry in
/// one transaction. Returns the new file's id.
pub async fn share(
    app: &AppState,
    actor: &Actor,
    ip: &str,
    title: &str,
    audience: &Audience,
    file: &StoredFile,
) -> AppResult<String> {
    let title = title_of(title, file).map_err(|e| AppError::fields(vec![e]))?;
    let mut tx = app.db.tenant(actor.scope()).begin().await?;
    check_audience(&mut tx, audience).await?;
    crate::files::quota::charge(&mut tx, file.size).await?;
    let id = insert(
        &mut tx,
        &title,
        audience,
        file,
        Some(actor.user_id().as_str()),
    )
    .await?;
    let company = match audience {
        Audience::Company(c) => Some(c.as_str()),
        _ => None,
    };
    audit::append(
        &mut tx,
        Entry {
            ip: Some(ip),
            company_id: company,
            detail: json!({ "name": title, "audience": audience.kind(), "filename": file.filename,
                "size": file.size, "sha256": file.sha256 }),
            ..Entry::new("document.file_shared")
                .by(actor)
                .target("shared_file", &id)
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Inserts a file and its first version (shared by staff and the demo).
pub async fn insert(
    tx: &mut TenantTx,
    title: &str,
    audience: &Audience,
    file: &StoredFile,
    by: Option<&str>,
) -> DbResult<String> {
    let tenant = tx.tenant_id().to_string();
    let id = new_id();
    let now = now_ms();
    let (company, user) = match audience {
        Audience::All => (None, None),
        Audience::Company(c) => (Some(c.as_str()), None),
        Audience::User(u) => (None, Some(u.as_str())),
    };
    sqlx::query(
        "INSERT INTO doc_files (tenant_id, id, title, audience, company_id, user_id, status, \
         version, created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'active', 1, $7, $8, $8)",
    )
    .bind(tenant)
    .bind(&id)
    .bind(title)
    .bind(audience.kind())
    .bind(company)
    .bind(user)
    .bind(by)
    .bind(now)
    .execute(tx.conn())
    .await?;
    insert_version(tx, &id, 1, file, by, now).await?;
    Ok(id)
}

/// Replaces an active file with a new version; earlier versions stay for staff. Concurrent
/// replacements each get their own number (the version row's key refuses a duplicate).
pub async fn replace(
    app: &AppState,
    actor: &Actor,
    ip: &str,
    id: &str,
    file: &StoredFile,
) -> AppResult<i64> {
    let mut tx = app.db.tenant(actor.scope()).begin().await?;
    let tenant = tx.tenant_id().to_string();
    let now = now_ms();
    // Claims the next number first, so the row is locked (PostgreSQL) before it is read.
    let bumped = sqlx::query(
        "UPDATE doc_files SET version = version + 1, updated_at = $3 \
         WHERE tenant_id = $1 AND id = $2 AND status = 'active'",
    )
    .bind(&tenant)
    .bind(id)
    .bind(now)
    .execute(tx.conn())
    .await
    .map_err(DbError::from)?;
    let f = by_id_in_raw(&mut tx, id).await?.ok_or(AppError::NotFound)?;
    if bumped.rows_affected() == 0 {
        return Err(AppError::Conflict(k("files-error-withdrawn").into()));
    }
    crate::files::quota::charge(&mut tx, file.size).await?;
    insert_version(&mut tx, id, f.1, file, Some(actor.user_id().as_str()), now).await?;
    audit::append(
        &mut tx,
        Entry {
            ip: Some(ip),
            company_id: f.2.as_deref(),
            detail: json!({ "name": f.0, "version": f.1, "filename": file.filename,
                "size": file.size, "sha256": file.sha256 }),
            ..Entry::new("document.file_replaced")
                .by(actor)
                .target("shared_file", id)
        },
    )
    .await?;
    tx.commit().await?;
    Ok(f.1)
}

/// Title, version number and company of a file row (without its version join).
async fn by_id_in_raw(
    tx: &mut TenantTx,
    id: &str,
) -> DbResult<Option<(String, i64, Option<String>)>> {
    let tenant = tx.tenant_id().to_string();
    let r = sqlx::query(
        "SELECT title, version, company_id FROM doc_files WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant)
    .bind(id)
    .fetch_optional(tx.conn())
    .await?;
    Ok(match r {
        Some(r) => Some((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)),
        None => None,
    })
}

/// Withdraws a file: clients no longer see or download it (any version); staff keep it.
pub async fn withdraw(app: &AppState, actor: &Actor, ip: &str, id: &str) -> AppResult<()> {
    let mut tx = app.db.tenant(actor.scope()).begin().await?;
    let f = by_id_in(&mut tx, id).await?.ok_or(AppError::NotFound)?;
    let tenant = tx.tenant_id().to_string();
    let now = now_ms();
    let done = sqlx::query(
        "UPDATE doc_files SET status = 'withdrawn', withdrawn_at = $3, updated_at = $3 \
         WHERE tenant_id = $1 AND id = $2 AND status = 'active'",
    )
    .bind(tenant)
    .bind(id)
    .bind(now)
    .execute(tx.conn())
    .await
    .map_err(DbError::from)?;
    if done.rows_affected() == 0 {
        return Err(AppError::Conflict(k("files-error-withdrawn").into()));
    }
    audit::append(
        &mut tx,
        Entry {
            ip: Some(ip),
            company_id: f.company_id.as_deref(),
            detail: json!({ "name": f.title, "version": f.version }),
            ..Entry::new("document.file_withdrawn")
                .by(actor)
                .target("shared_file", id)
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The client user's company and id, or 404 for anyone who has no shared files.
pub fn client_of(p: &Principal) -> AppResult<(String, String)> {
    match (&p.company_id, p.tenant.org_type) {
        (Some(c), crate::tenancy::OrgType::Msp) => {
            p.require(crate::auth::Permission::PortalAccess)?;
            Ok((c.as_str().to_string(), p.user_id.as_str().to_string()))
        }
        _ => Err(AppError::NotFound),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audiences_parse() {
        assert!(matches!(Audience::parse("all", "", ""), Ok(Audience::All)));
        assert!(matches!(
            Audience::parse("company", "c1", ""),
            Ok(Audience::Company(c)) if c == "c1"
        ));
        assert!(Audience::parse("company", " ", "u").is_err());
        assert!(Audience::parse("user", "c", "").is_err());
        assert!(Audience::parse("everyone", "", "").is_err());
    }

    #[test]
    fn search_patterns_escape_wildcards() {
        assert_eq!(pattern("  "), "");
        assert_eq!(pattern("50%_a"), "%50\\%\\_a%");
        assert_eq!(pattern("VPN"), "%vpn%");
    }
}
