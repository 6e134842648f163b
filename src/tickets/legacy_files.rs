//! Ticket attachments stored before the storage interface (migration 0012): an operator
//! command (`portico storage migrate`) moves them under tenant-namespaced keys in the
//! configured store. Lives with tickets because it reads and rewrites ticket rows.

use futures::StreamExt;

use crate::files;
use crate::state::AppState;

/// Moves files stored in the pre-0012 layout (`<data_dir>/files/<tenant>/<id>`) into the
/// configured store under tenant-namespaced keys, updating each row. Returns how many moved.
/// Idempotent; rows already under `t/` are skipped.
pub async fn migrate(app: &AppState) -> anyhow::Result<usize> {
    let legacy = files::Storage::from_config(&crate::config::StorageConfig::Local(
        app.config.data_dir.join("files"),
    ))?;
    let op = app
        .db
        .operator("storage migrate: every tenant's legacy attachments");
    let rows = super::store::legacy_attachments(&op).await?;
    let mut moved = 0;
    for (tenant_id, id, old) in rows {
        let scope = op.scope(crate::tenancy::TenantId(tenant_id));
        let old = files::ObjectKey::stored(old);
        let (_, mut stream) = legacy.get(&old).await?;
        let key = files::ObjectKey::generate(&scope);
        let mut w = app.files.writer(key).await?;
        let mut failed = None;
        while let Some(chunk) = stream.next().await {
            match chunk {
                Ok(c) => {
                    if let Err(e) = w.write(&c).await {
                        failed = Some(e);
                        break;
                    }
                }
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        if let Some(e) = failed {
            w.abort().await;
            return Err(e.into());
        }
        let (key, _, sha256) = w.finish().await?;
        if let Err(e) =
            super::store::move_attachment(&app.db, &scope, &id, &old, &key, &sha256).await
        {
            let _ = app.files.delete(&key).await;
            return Err(e.into());
        }
        legacy.delete(&old).await?;
        moved += 1;
    }
    Ok(moved)
}
