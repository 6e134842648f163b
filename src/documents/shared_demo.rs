//! Demo shared files: a service-desk guide for every client, a VPN guide for Globex only and a
//! laptop handover note for Bob only. Their content is built in (keys under `demo/`, which no
//! upload can produce), so the demo needs no storage at seed time and is the same on every start.

use sha2::{Digest, Sha256};

use super::shared::{self, Audience};
use crate::db::{Db, DbResult, Row};
use crate::files::{ObjectKey, StoredFile};
use crate::tenancy::TenantScope;

/// Built-in demo files: (key, title, file name, content).
const FILES: &[(&str, &str, &str, &str)] = &[
    (
        "demo/service-desk-guide",
        "Service desk guide",
        "service-desk-guide.txt",
        "Acme Managed IT service desk\n\nHours: Monday to Friday, 8:00 to 18:00.\nOut of hours: call \
         +1 555 0100 for outages only.\n\nRaise everything else as a ticket in the portal, with a \
         screenshot if you can. We answer urgent tickets within one hour.\n",
    ),
    (
        "demo/globex-vpn",
        "Globex VPN setup",
        "globex-vpn-setup.txt",
        "Connecting to the Globex office network from home\n\n1. Install the VPN client from the \
         company portal.\n2. Sign in with your Globex email and approve the prompt on your phone.\n3. \
         Choose the \"Globex HQ\" profile.\n\nIf the connection drops every few minutes, raise a ticket.\n",
    ),
    (
        "demo/bob-laptop",
        "Your new laptop: handover notes",
        "laptop-handover-bob.txt",
        "Bob, your new laptop is ready.\n\nSerial: 5CD1234XYZ\nWarranty: three years, next business \
         day on site.\nYour files were copied from the old machine on Monday; the old one will be wiped \
         next week.\n",
    ),
];

/// The built-in content behind a demo key.
pub fn content(key: &ObjectKey) -> Option<&'static str> {
    FILES.iter().find(|f| f.0 == key.as_str()).map(|f| f.3)
}

fn stored(i: usize) -> StoredFile {
    let (key, _, name, body) = FILES[i];
    StoredFile {
        key: ObjectKey::stored(key.into()),
        size: body.len() as i64,
        sha256: hex::encode(Sha256::digest(body.as_bytes())),
        content_type: "text/plain",
        filename: name.into(),
    }
}

/// Seeds the demo files that are missing (Globex's and Bob's only where they exist).
pub async fn seed(db: &Db, scope: &TenantScope) -> DbResult<()> {
    let t = db.tenant(scope);
    let tenant = scope.tenant_id().as_str();
    let one = |sql: &'static str| sqlx::query(sql).bind(tenant).fetch_optional(t.reader());
    let globex: Option<String> =
        one("SELECT id FROM companies WHERE tenant_id = $1 AND name = 'Globex'")
            .await?
            .map(|r| r.try_get(0))
            .transpose()?;
    let bob: Option<String> =
        one("SELECT id FROM users WHERE tenant_id = $1 AND email = 'bob@globex.example'")
            .await?
            .map(|r| r.try_get(0))
            .transpose()?;
    let audiences = [
        Some(Audience::All),
        globex.map(Audience::Company),
        bob.map(Audience::User),
    ];
    let mut tx = t.begin().await?;
    for (i, audience) in audiences.into_iter().enumerate() {
        let Some(audience) = audience else { continue };
        let have = sqlx::query(
            "SELECT COUNT(*) FROM doc_file_versions WHERE tenant_id = $1 AND storage_key = $2",
        )
        .bind(tenant)
        .bind(FILES[i].0)
        .fetch_one(tx.conn())
        .await?
        .try_get::<i64, _>(0)?;
        if have == 0 {
            shared::insert(&mut tx, FILES[i].1, &audience, &stored(i), None).await?;
        }
    }
    tx.commit().await?;
    Ok(())
}
