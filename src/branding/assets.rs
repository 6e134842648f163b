//! Uploaded branding images (logo, favicon, sign-in background): checked by content, SVG
//! sanitised, stored through `files` and charged to the tenant's allowance, and served at
//! `/branding/<slug>/asset/<sha256 prefix>.<ext>`, which changes whenever the image does and
//! is therefore cached for good.

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::audit::{self, Entry};
use crate::auth::Actor;
use crate::db::{Db, DbResult, TenantTx, now_ms};
use crate::error::{AppError, AppResult};
use crate::files::{ObjectKey, Pending, StoredFile, quota};
use crate::http::upload::{self, Limits};
use crate::i18n::{Arg, k, msg_with};
use crate::state::AppState;
use crate::tenancy::{Tenant, TenantScope};

/// Largest image accepted.
pub const MAX_BYTES: u64 = 2 * 1024 * 1024;

/// Hex digits of the SHA-256 in an asset's name (64 bits: collisions within one tenant's
/// handful of images are not a concern, and the name stays short).
const HASH_CHARS: usize = 16;

/// Accepted image types: content type, extension, name shown to people.
const TYPES: &[(&str, &str, &str)] = &[
    ("image/png", "png", "PNG"),
    ("image/jpeg", "jpg", "JPEG"),
    ("image/webp", "webp", "WebP"),
    ("image/svg+xml", "svg", "SVG"),
];

/// Served to SVG images: nothing may load or run even when the file is opened on its own.
pub const SVG_CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; sandbox";

/// Which branding field an upload sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// The header logo.
    Logo,
    /// The browser tab icon.
    Favicon,
    /// The sign-in page background.
    LoginBackground,
}

impl Target {
    /// Every target, in page order.
    pub const ALL: [Target; 3] = [Target::Logo, Target::Favicon, Target::LoginBackground];

    /// The form value naming it.
    pub fn as_str(self) -> &'static str {
        match self {
            Target::Logo => "logo",
            Target::Favicon => "favicon",
            Target::LoginBackground => "login_background",
        }
    }

    /// From the form value.
    pub fn parse(s: &str) -> Option<Target> {
        Target::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// The branding field (and `tenants` column) it sets.
    pub fn column(self) -> &'static str {
        match self {
            Target::Logo => "logo_url",
            Target::Favicon => "favicon_url",
            Target::LoginBackground => "login_background_url",
        }
    }

    /// The file input's name, which upload problems are reported on.
    pub fn file_field(self) -> &'static str {
        match self {
            Target::Logo => "logo_image",
            Target::Favicon => "favicon_image",
            Target::LoginBackground => "login_background_image",
        }
    }

    /// The upload form's label (catalog key).
    pub fn label_key(self) -> &'static str {
        match self {
            Target::Logo => k("branding-upload-logo"),
            Target::Favicon => k("branding-upload-favicon"),
            Target::LoginBackground => k("branding-upload-login-background"),
        }
    }
}

/// Whether `name` is an asset name: 16 lowercase hex digits, a dot, an accepted extension.
pub fn valid_name(name: &str) -> bool {
    name.split_once('.').is_some_and(|(hash, ext)| {
        hash.len() == HASH_CHARS
            && hash
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            && TYPES.iter().any(|t| t.1 == ext)
    })
}

/// The asset name in `path` when it is `/branding/<slug>/asset/<name>` for this tenant.
pub fn parse_path<'a>(slug: &str, path: &'a str) -> Option<&'a str> {
    let name = path
        .strip_prefix("/branding/")?
        .strip_prefix(slug)?
        .strip_prefix("/asset/")?;
    valid_name(name).then_some(name)
}

/// Where an asset is served.
pub fn path(slug: &str, name: &str) -> String {
    format!("/branding/{slug}/asset/{name}")
}

/// The type a file name claims by its extension, when it names one we know.
fn claimed_type(filename: &str) -> Option<&'static (&'static str, &'static str, &'static str)> {
    let ext = filename.rsplit_once('.')?.1.to_ascii_lowercase();
    let ext = if ext == "jpeg" {
        "jpg".to_string()
    } else {
        ext
    };
    TYPES.iter().find(|t| t.1 == ext)
}

/// A stored asset.
#[derive(Clone, Debug)]
pub struct Asset {
    /// Its checked content type.
    pub content_type: String,
    /// Where the bytes are.
    pub storage_key: String,
}

/// The tenant's asset called `name`.
pub async fn find(db: &Db, scope: &TenantScope, name: &str) -> DbResult<Option<Asset>> {
    let row = sqlx::query(
        "SELECT content_type, storage_key FROM branding_assets WHERE tenant_id = $1 AND name = $2",
    )
    .bind(scope.tenant_id().as_str())
    .bind(name)
    .fetch_optional(db.tenant(scope).reader())
    .await?;
    Ok(match row {
        Some(r) => Some(Asset {
            content_type: r.try_get("content_type")?,
            storage_key: r.try_get("storage_key")?,
        }),
        None => None,
    })
}

/// Whether the tenant has an asset called `name`, as the action's transaction sees it.
pub async fn exists_in(tx: &mut TenantTx, name: &str) -> DbResult<bool> {
    let tenant = tx.tenant_id().to_string();
    let row =
        sqlx::query("SELECT 1 AS one FROM branding_assets WHERE tenant_id = $1 AND name = $2")
            .bind(tenant)
            .bind(name)
            .fetch_optional(tx.conn())
            .await?;
    Ok(row.is_some())
}

/// Refuses branding that points at uploads the tenant does not have (a typed path).
pub async fn check_paths(
    tx: &mut TenantTx,
    slug: &str,
    fields: &[(&str, Option<&str>)],
) -> AppResult<()> {
    let mut errs = Vec::new();
    for (field, value) in fields {
        if let Some(name) = value.and_then(|v| parse_path(slug, v))
            && !exists_in(tx, name).await?
        {
            errs.push(crate::error::FieldError {
                field: (*field).into(),
                message: k("branding-asset-missing").into(),
            });
        }
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(AppError::fields(errs))
    }
}

/// Reads an upload form (`_csrf`, `target`, one image), checks and stores the image, and points
/// the target's branding field at it: the row, the quota charge, the field and the audit entry
/// in one transaction. Returns the target and the served path.
pub async fn upload(
    app: &AppState,
    actor: &Actor,
    tenant: &Tenant,
    ip: &str,
    req: Request,
) -> AppResult<(Target, String)> {
    let form = upload::read(app, actor.scope(), req, Limits::image(MAX_BYTES, "image")).await?;
    let Some(target) = Target::parse(&form.get("target")) else {
        form.files.discard().await;
        return Err(AppError::field("image", k("branding-upload-target")));
    };
    let field = target.file_field();
    if let Some(e) = form.file_error() {
        form.files.discard().await;
        return Err(AppError::field(field, e.message));
    }
    let mut files = form.files;
    let result = store(app, actor, tenant, ip, Some(target), &mut files).await;
    Ok((target, settle(files, result).await?))
}

/// Reads an upload form (`_csrf`, one `image`) and stores the image as a tenant asset that no
/// branding field points at (pictures for knowledge-base articles). Returns the served path.
pub async fn upload_image(
    app: &AppState,
    actor: &Actor,
    tenant: &Tenant,
    ip: &str,
    req: Request,
) -> AppResult<String> {
    let form = upload::read(app, actor.scope(), req, Limits::image(MAX_BYTES, "image")).await?;
    if let Some(e) = form.file_error() {
        form.files.discard().await;
        return Err(AppError::field("image", e.message));
    }
    let mut files = form.files;
    let result = store(app, actor, tenant, ip, None, &mut files).await;
    settle(files, result).await
}

/// Keeps a new object, or drops a duplicate or a failed upload's.
async fn settle(files: Pending, result: AppResult<(String, bool)>) -> AppResult<String> {
    match result {
        Ok((path, fresh)) => {
            if fresh {
                files.keep();
            } else {
                // The same image was uploaded before: its first copy stays, this one goes.
                files.discard().await;
            }
            Ok(path)
        }
        Err(e) => {
            files.discard().await;
            Err(e)
        }
    }
}

/// Checks the stored upload and records it; `true` when the object is new (not a duplicate).
async fn store(
    app: &AppState,
    actor: &Actor,
    tenant: &Tenant,
    ip: &str,
    target: Option<Target>,
    files: &mut Pending,
) -> AppResult<(String, bool)> {
    let field = target.map_or("image", Target::file_field);
    let Some(file) = files.files().first().cloned() else {
        return Err(AppError::field(field, k("branding-upload-missing")));
    };
    let refuse = |key: &str, extra: &[(&str, Arg)]| {
        let mut args = vec![("name", Arg::Str(file.filename.clone()))];
        args.extend(extra.iter().map(|(n, a)| (*n, a.clone())));
        AppError::field(field, msg_with(key, &args))
    };
    let Some(actual) = TYPES.iter().find(|t| t.0 == file.content_type) else {
        return Err(refuse("branding-upload-type", &[]));
    };
    if let Some(claimed) = claimed_type(&file.filename)
        && claimed.0 != actual.0
    {
        return Err(refuse(
            "branding-upload-mismatch",
            &[
                ("claimed", Arg::Str(claimed.2.into())),
                ("actual", Arg::Str(actual.2.into())),
            ],
        ));
    }
    let (stored, sanitised) = if actual.0 == "image/svg+xml" {
        let raw = read_all(app, &file.key).await?;
        let clean = super::svg::sanitize(&raw).map_err(|why| refuse(why, &[]))?;
        let clean = write_new(app, actor.scope(), &file, clean.into_bytes()).await?;
        files.push(clean.clone());
        // The unsanitised original is never served; it goes at once (a failed delete is
        // retried by the guard, which still lists it).
        if let Err(e) = app.files.delete(&file.key).await {
            tracing::warn!(error = %e, "could not delete an unsanitised SVG upload");
        }
        (clean, true)
    } else {
        (file.clone(), false)
    };
    let name = format!("{}.{}", &stored.sha256[..HASH_CHARS], actual.1);
    let served = path(&tenant.slug, &name);
    let mut tx = app.db.tenant(actor.scope()).begin().await?;
    let fresh = !exists_in(&mut tx, &name).await?;
    if fresh {
        quota::charge(&mut tx, stored.size).await?;
        let t = tx.tenant_id().to_string();
        sqlx::query(
            "INSERT INTO branding_assets (tenant_id, name, sha256, content_type, storage_key, size, \
             created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(t)
        .bind(&name)
        .bind(&stored.sha256)
        .bind(actual.0)
        .bind(stored.key.as_str())
        .bind(stored.size)
        .bind(actor.user_id().as_str())
        .bind(now_ms())
        .execute(tx.conn())
        .await
        .map_err(crate::db::DbError::from)?;
    }
    if let Some(target) = target {
        set_field(&mut tx, target, &served).await?;
    }
    // An image for articles sets no branding field: it is only stored and served.
    let action = if target.is_some() {
        "branding.image_uploaded"
    } else {
        "kb.image_uploaded"
    };
    audit::append(
        &mut tx,
        Entry {
            ip: Some(ip),
            detail: json!({
                "field": target.map(Target::column),
                "path": served,
                "content_type": actual.0,
                "size": stored.size,
                "sanitised": sanitised,
                "reused": !fresh,
            }),
            ..Entry::new(action)
                .by(actor)
                .target("tenant", actor.scope().tenant_id().as_str())
        },
    )
    .await?;
    tx.commit().await?;
    Ok((served, fresh))
}

/// Points one branding image field at `value`.
async fn set_field(tx: &mut TenantTx, target: Target, value: &str) -> DbResult<()> {
    let tenant = tx.tenant_id().to_string();
    // The column comes from a fixed list, never from input.
    let sql = match target {
        Target::Logo => "UPDATE tenants SET logo_url = $2, updated_at = $3 WHERE id = $1",
        Target::Favicon => "UPDATE tenants SET favicon_url = $2, updated_at = $3 WHERE id = $1",
        Target::LoginBackground => {
            "UPDATE tenants SET login_background_url = $2, updated_at = $3 WHERE id = $1"
        }
    };
    sqlx::query(sql)
        .bind(tenant)
        .bind(value)
        .bind(now_ms())
        .execute(tx.conn())
        .await?;
    crate::auth::cache::changed(tx, crate::auth::cache::Change::Tenant).await
}

/// A stored object's bytes (uploads here are at most [`MAX_BYTES`]).
async fn read_all(app: &AppState, key: &ObjectKey) -> AppResult<Vec<u8>> {
    let (size, mut stream) = app.files.get(key).await?;
    let mut out = Vec::with_capacity(size.min(MAX_BYTES) as usize);
    while let Some(chunk) = stream.next().await {
        out.extend_from_slice(&chunk?);
    }
    Ok(out)
}

/// Stores `bytes` as a new object beside `like`.
async fn write_new(
    app: &AppState,
    scope: &TenantScope,
    like: &StoredFile,
    bytes: Vec<u8>,
) -> AppResult<StoredFile> {
    let mut w = app.files.writer(ObjectKey::generate(scope)).await?;
    if let Err(e) = w.write(&bytes).await {
        w.abort().await;
        return Err(e.into());
    }
    let (key, size, sha256) = w.finish().await?;
    debug_assert_eq!(sha256, hex::encode(Sha256::digest(&bytes)));
    Ok(StoredFile {
        key,
        size: size as i64,
        sha256,
        content_type: like.content_type,
        filename: like.filename.clone(),
    })
}

/// Serves an asset: the tenant's own image under its own slug only, and not from another
/// tenant's custom domain.
pub async fn serve(
    app: &AppState,
    tenant: &Tenant,
    name: &str,
    headers: &HeaderMap,
) -> AppResult<Response> {
    if !valid_name(name) {
        return Err(AppError::NotFound);
    }
    if let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) {
        let host = crate::tenancy::normalize_host(host);
        if let Some(owner) = app.domains.lookup(&app.db, &host).await?
            && &owner != tenant.scope().tenant_id()
        {
            return Err(AppError::NotFound);
        }
    }
    let asset = find(&app.db, &tenant.scope(), name)
        .await?
        .ok_or(AppError::NotFound)?;
    let (size, stream) = app
        .files
        .get(&ObjectKey::stored(asset.storage_key.clone()))
        .await
        .map_err(|e| {
            AppError::Internal(anyhow::anyhow!("branding asset {name} unreadable: {e}"))
        })?;
    let mut r = axum::body::Body::from_stream(stream).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&asset.content_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if asset.content_type == "image/svg+xml" {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(SVG_CSP),
        );
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_paths() {
        assert!(valid_name("0123456789abcdef.png"));
        assert!(valid_name("0123456789abcdef.svg"));
        assert!(!valid_name("0123456789ABCDEF.png"));
        assert!(!valid_name("0123456789abcdef.gif"));
        assert!(!valid_name("0123456789abcde.png"));
        assert!(!valid_name("../../etc/passwd"));
        assert_eq!(
            parse_path("acme", "/branding/acme/asset/0123456789abcdef.jpg"),
            Some("0123456789abcdef.jpg")
        );
        assert_eq!(
            parse_path("acme", "/branding/acmex/asset/0123456789abcdef.jpg"),
            None
        );
        assert_eq!(claimed_type("Logo.JPEG").map(|t| t.0), Some("image/jpeg"));
        assert_eq!(claimed_type("logo"), None);
    }
}
