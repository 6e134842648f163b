//! `/verify`: anyone holding a signed PDF uploads it and learns whether it is the file Portico
//! issued (its SHA-256 equals the stored one) and for which signer, time and version. No
//! sign-in; the tenant comes from the link on the certificate. The CLI does the same check
//! across tenants (`portico documents verify FILE`).

use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use sha2::{Digest, Sha256};

use super::store::{self, Signature};
use crate::app::AppState;
use crate::db::{Db, Row};
use crate::error::{AppError, AppResult};
use crate::http::PageRouter;
use crate::http::context::Ctx;
use crate::web::{PageCtx, render};

/// Largest file `/verify` reads.
pub const MAX_PDF: usize = 20 * 1024 * 1024;

/// The public verification page.
pub fn pages() -> PageRouter {
    PageRouter::default().route(
        "/verify",
        get(page)
            .post(check)
            .layer(DefaultBodyLimit::max(MAX_PDF + 64 * 1024)),
    )
}

/// What an upload turned out to be.
pub enum Outcome {
    /// The file Portico issued for this record.
    Match(Box<Signature>),
    /// Not a file Portico issued (or changed since).
    NoMatch,
}

#[derive(askama::Template)]
#[template(path = "documents/templates/verify.html")]
struct VerifyPage {
    page: PageCtx,
    outcome: Option<Outcome>,
    sha: String,
    missing_file: bool,
}

impl VerifyPage {
    fn at(&self, ms: &i64) -> String {
        super::pdf::utc(*ms)
    }
}

async fn page(Ctx(ctx): Ctx) -> AppResult<Response> {
    ctx.tenant.as_ref().ok_or(AppError::NotFound)?;
    render(&VerifyPage {
        page: PageCtx::new(&ctx),
        outcome: None,
        sha: String::new(),
        missing_file: false,
    })
}

async fn check(
    State(app): State<AppState>,
    Ctx(ctx): Ctx,
    mut form: Multipart,
) -> AppResult<Response> {
    let tenant = ctx.tenant.as_ref().ok_or(AppError::NotFound)?;
    let mut bytes: Option<Vec<u8>> = None;
    while let Some(mut field) = form
        .next_field()
        .await
        .map_err(|_| AppError::field("file", "msg-bad-request"))?
    {
        if field.name() != Some("file") {
            continue;
        }
        let mut buf = Vec::new();
        while let Some(chunk) = field
            .chunk()
            .await
            .map_err(|_| AppError::field("file", "msg-bad-request"))?
        {
            if buf.len() + chunk.len() > MAX_PDF {
                return Err(AppError::TooLarge);
            }
            buf.extend_from_slice(&chunk);
        }
        bytes = Some(buf);
    }
    let Some(bytes) = bytes.filter(|b| !b.is_empty()) else {
        let mut r = render(&VerifyPage {
            page: PageCtx::new(&ctx),
            outcome: None,
            sha: String::new(),
            missing_file: true,
        })?;
        *r.status_mut() = StatusCode::BAD_REQUEST;
        return Ok(r);
    };
    let sha = hex::encode(Sha256::digest(&bytes));
    let outcome = match store::by_pdf_hash(&app.db, &tenant.scope(), &sha).await? {
        Some(s) => Outcome::Match(Box::new(s)),
        None => Outcome::NoMatch,
    };
    render(&VerifyPage {
        page: PageCtx::new(&ctx),
        outcome: Some(outcome),
        sha,
        missing_file: false,
    })
}

/// A record found by the command line: tenant slug and the signing facts.
pub struct Found {
    /// Tenant slug.
    pub tenant: String,
    /// Policy title.
    pub title: String,
    /// Version signed.
    pub version: String,
    /// Signer name and email.
    pub signer: String,
    /// Signed (Unix ms).
    pub signed_at: i64,
    /// Record id.
    pub id: String,
}

/// Looks a file's SHA-256 up in every tenant (the CLI runs as the operator).
pub async fn find_any(db: &Db, sha: &str) -> anyhow::Result<Option<Found>> {
    let op = db.operator("document verify from the command line");
    let row = sqlx::query(
        "SELECT t.slug, p.title, s.version, s.signer_name, s.signer_email, s.signed_at, s.id \
         FROM doc_signatures s JOIN doc_policies p ON p.tenant_id = s.tenant_id AND p.id = s.policy_id \
         JOIN tenants t ON t.id = s.tenant_id WHERE s.pdf_sha256 = $1 AND s.state = 'signed'",
    )
    .bind(sha)
    .fetch_optional(op.reader())
    .await?;
    let Some(r) = row else {
        return Ok(None);
    };
    Ok(Some(Found {
        tenant: r.try_get(0)?,
        title: r.try_get(1)?,
        version: r.try_get(2)?,
        signer: format!(
            "{} <{}>",
            r.try_get::<String, _>(3)?,
            r.try_get::<String, _>(4)?
        ),
        signed_at: r.try_get(5)?,
        id: r.try_get(6)?,
    }))
}

/// `portico documents verify FILE`: prints the outcome; false when the file matches nothing.
pub async fn cli(db: &Db, path: &std::path::Path) -> anyhow::Result<bool> {
    let bytes = std::fs::read(path)?;
    let sha = hex::encode(Sha256::digest(&bytes));
    match find_any(db, &sha).await? {
        Some(f) => {
            println!("MATCH: this PDF is the signed record {}", f.id);
            println!("  organisation: {}", f.tenant);
            println!("  document:     {} (version {})", f.title, f.version);
            println!("  signer:       {}", f.signer);
            println!("  signed at:    {}", super::pdf::utc(f.signed_at));
            println!("  sha-256:      {sha}");
            Ok(true)
        }
        None => {
            println!("NO MATCH: this file does not match any signed record (sha-256 {sha})");
            Ok(false)
        }
    }
}
