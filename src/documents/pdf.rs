//! The signed PDF: the document text, then a certificate page with the signing facts, the
//! hashes, a verification code and a link (and QR code) to `/verify`. It is produced once,
//! kept in the platform storage, and its SHA-256 is the record `/verify` and the CLI compare
//! an uploaded file against, so any change to the file reads as "does not match".

use futures::StreamExt;
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::store::{self, Signature};
use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::error::{AppError, AppResult};
use crate::files::ObjectKey;
use crate::i18n::{Translator, for_recipient, k};
use crate::pdf::{Brand, Colour, Pdf};
use crate::tenancy::Tenant;

/// A time as the certificate prints it: UTC, to the second, the same for every reader.
pub fn utc(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_default()
}

/// A keyed code binding the record's facts, printed on the certificate: it shows the PDF was
/// issued by this Portico for this record (the file hash shows it is unchanged).
pub fn verification_code(secret: &[u8], tenant_id: &str, s: &Signature) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return String::new();
    };
    mac.update(
        format!(
            "portico-signature-v1\n{tenant_id}\n{}\n{}\n{}\n{}\n{}",
            s.id,
            s.version,
            s.content_hash,
            s.signed_at.unwrap_or_default(),
            s.signer_email.as_deref().unwrap_or_default()
        )
        .as_bytes(),
    );
    hex::encode(&mac.finalize().into_bytes()[..16])
}

/// Where a holder of the PDF checks it.
pub fn verify_url(app: &AppState, tenant: &Tenant) -> String {
    format!("{}/verify?tenant={}", app.config.base_url, tenant.slug)
}

fn internal(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(anyhow::anyhow!("signed pdf: {e}"))
}

/// Draws the signed PDF of a signed request.
pub fn render(app: &AppState, tenant: &Tenant, s: &Signature) -> AppResult<Vec<u8>> {
    let t = Translator::new(for_recipient(None, Some(&tenant.default_locale)));
    let brand = Brand {
        name: tenant.branding.portal_name.clone(),
        accent: Colour::from_hex(
            tenant
                .branding
                .primary_color
                .as_deref()
                .unwrap_or("#1d4ed8"),
            Colour::TEXT,
        ),
        logo: None,
    };
    let mut pdf = Pdf::new(brand, s.title.clone());
    pdf.footer(t.arg(k("documents-pdf-footer"), "id", &s.id));
    pdf.heading(&s.title);
    pdf.small(&t.arg(k("documents-version-label"), "version", &s.version));
    pdf.spacer(6.0);
    pdf.markdown(&s.body);
    pdf.page_break();
    pdf.heading(&t.get(k("documents-pdf-certificate")));
    let none = String::new();
    let ev = &s.evidence;
    let step = |at: Option<i64>, ip: &Option<String>| {
        format!(
            "{} · {}",
            at.map(utc).unwrap_or_default(),
            ip.as_deref().unwrap_or_default()
        )
    };
    let signer = format!(
        "{} <{}>",
        s.signer_name.as_deref().unwrap_or_default(),
        s.signer_email.as_deref().unwrap_or_default()
    );
    let pairs: Vec<(String, String)> = vec![
        (t.get(k("documents-signer")), signer),
        (
            t.get(k("documents-pdf-typed-name")),
            s.typed_name.clone().unwrap_or_default(),
        ),
        (t.get(k("documents-col-version")), s.version.clone()),
        (t.get(k("documents-pdf-requested")), utc(s.created_at)),
        (t.get(k("documents-pdf-read")), step(s.read_at, &ev.read_ip)),
        (
            t.get(k("documents-pdf-acknowledged")),
            step(s.acknowledged_at, &ev.ack_ip),
        ),
        (
            t.get(k("documents-signed-at")),
            step(s.signed_at, &ev.signed_ip),
        ),
        (t.get(k("documents-pdf-record")), s.id.clone()),
    ];
    let refs: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    pdf.key_values(&refs);
    pdf.spacer(6.0);
    pdf.strong(&t.get(k("documents-content-hash")));
    pdf.small(&s.content_hash);
    pdf.strong(&t.get(k("documents-pdf-user-agents")));
    for ua in [&ev.read_ua, &ev.ack_ua, &ev.signed_ua] {
        pdf.small(ua.as_ref().unwrap_or(&none));
    }
    pdf.strong(&t.get(k("documents-pdf-code")));
    pdf.small(&verification_code(
        &app.config.secret_key,
        tenant.scope().tenant_id().as_str(),
        s,
    ));
    pdf.spacer(6.0);
    pdf.paragraph(&t.get(k("documents-pdf-verify-how")));
    let url = verify_url(app, tenant);
    pdf.link(&url, &url);
    pdf.qr(&url, 90.0).map_err(internal)?;
    pdf.finish().map_err(internal)
}

/// The signed PDF of a signed request: the stored one, or produced, stored and recorded now.
pub async fn signed_pdf(app: &AppState, tenant: &Tenant, s: &Signature) -> AppResult<Vec<u8>> {
    if s.state != super::Step::Signed {
        return Err(AppError::NotFound);
    }
    if let Some(key) = &s.pdf_key {
        return read(app, key).await;
    }
    let bytes = render(app, tenant, s)?;
    let scope = tenant.scope();
    let key = ObjectKey::generate(&scope);
    let mut w = app.files.writer(key).await.map_err(internal)?;
    w.write(&bytes).await.map_err(internal)?;
    let (key, _, _) = w.finish().await.map_err(internal)?;
    let sha = hex::encode(Sha256::digest(&bytes));
    let mut tx = app.db.tenant(&scope).begin().await?;
    if !store::set_pdf(&mut tx, &s.id, key.as_str(), &sha).await? {
        // Another download stored it first; that file is the record.
        drop(tx);
        let _ = app.files.delete(&key).await;
        let now = store::signature(&app.db, &scope, &s.id)
            .await?
            .ok_or(AppError::NotFound)?;
        let stored = now.pdf_key.ok_or(AppError::NotFound)?;
        return read(app, &stored).await;
    }
    audit::append(
        &mut tx,
        Entry {
            detail: json!({ "name": s.title, "pdf_sha256": sha }),
            ..Entry::new("document.pdf_issued").target("signature", &s.id)
        },
    )
    .await?;
    tx.commit().await?;
    Ok(bytes)
}

async fn read(app: &AppState, key: &str) -> AppResult<Vec<u8>> {
    let (_, mut stream) = app
        .files
        .get(&ObjectKey::stored(key.to_string()))
        .await
        .map_err(internal)?;
    let mut out = Vec::new();
    while let Some(chunk) = stream.next().await {
        out.extend_from_slice(&chunk.map_err(internal)?);
    }
    Ok(out)
}

/// A PDF download answer.
pub fn download(bytes: Vec<u8>, title: &str) -> axum::response::Response {
    use axum::http::header;
    use axum::response::IntoResponse;
    let name: String = title
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    (
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"{}-signed.pdf\"",
                    name.trim_matches('-')
                ),
            ),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
        ],
        bytes,
    )
        .into_response()
}
