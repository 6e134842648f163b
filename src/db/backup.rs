//! Online backup and offline restore of a SQLite deployment (`portico backup` / `restore`).
//!
//! PostgreSQL deployments use `pg_dump`/`pg_restore` (docs/deploy.md): the server already has
//! consistent online dumps, so Portico does not wrap them.

use std::path::{Path, PathBuf};

use super::{Backend, Db, DbError};

/// Why a backup or restore could not run, in words an operator can act on.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The deployment runs on PostgreSQL.
    #[error("this deployment uses PostgreSQL: back it up with pg_dump (see docs/deploy.md)")]
    Postgres,
    /// The destination exists already; a backup never overwrites.
    #[error("{0} exists already; choose a new file name")]
    Exists(PathBuf),
    /// The file to restore is not a healthy Portico database.
    #[error("{path} is not a usable Portico backup: {why}")]
    NotABackup {
        /// The file given.
        path: PathBuf,
        /// What is wrong with it.
        why: String,
    },
    /// File system trouble.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The database refused.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for BackupError {
    fn from(e: sqlx::Error) -> Self {
        BackupError::Db(e.into())
    }
}

/// The file behind a `sqlite:` URL.
pub fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}

/// Writes a consistent copy of the live database to `dest` while it keeps serving.
///
/// `VACUUM INTO` reads one snapshot (WAL mode lets writers go on meanwhile) and writes a
/// compacted file, so a backup taken under write load holds every transaction committed before
/// it began and none half-done.
pub async fn backup(db: &Db, dest: &Path) -> Result<u64, BackupError> {
    if db.backend() == Backend::Postgres {
        return Err(BackupError::Postgres);
    }
    if dest.exists() {
        return Err(BackupError::Exists(dest.to_path_buf()));
    }
    if let Some(parent) = dest.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    // A temporary name first, so an interrupted backup never looks like a finished one.
    let partial = partial_name(dest);
    let _ = std::fs::remove_file(&partial);
    sqlx::query("VACUUM INTO $1")
        .bind(partial.display().to_string())
        .execute(&db.pool)
        .await?;
    std::fs::rename(&partial, dest)?;
    Ok(std::fs::metadata(dest)?.len())
}

/// Replaces the database at `url` with the backup at `from`; the server must be stopped.
///
/// The backup is checked first (integrity, and migrations no newer than this binary knows);
/// the current database is kept beside it as `<name>.before-restore-<unix time>`.
pub async fn restore(url: &str, from: &Path) -> Result<Option<PathBuf>, BackupError> {
    let Some(target) = sqlite_path(url) else {
        return Err(BackupError::Postgres);
    };
    let not = |why: String| BackupError::NotABackup {
        path: from.to_path_buf(),
        why,
    };
    if !from.is_file() {
        return Err(not("no such file".into()));
    }
    check_backup(from).await.map_err(not)?;
    if let Some(parent) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    let incoming = partial_name(&target);
    std::fs::copy(from, &incoming)?;
    let kept = if target.exists() {
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        let aside = PathBuf::from(format!("{}.before-restore-{stamp}", target.display()));
        std::fs::rename(&target, &aside)?;
        Some(aside)
    } else {
        None
    };
    // The old write-ahead log belongs to the old file; replayed onto the restored one it would
    // corrupt it.
    for ext in ["-wal", "-shm"] {
        let side = PathBuf::from(format!("{}{ext}", target.display()));
        if side.exists() {
            std::fs::remove_file(side)?;
        }
    }
    std::fs::rename(&incoming, &target)?;
    Ok(kept)
}

/// Opens `path` read-only and checks it is whole and not from a newer Portico.
async fn check_backup(path: &Path) -> Result<(), String> {
    use sqlx::Row;
    sqlx::any::install_default_drivers();
    let url = format!("sqlite://{}?mode=ro", path.display());
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&url)
        .await
        .map_err(|e| e.to_string())?;
    let ok: String = sqlx::query("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await
        .and_then(|r| r.try_get(0))
        .map_err(|e| format!("not a SQLite database ({e})"))?;
    if ok != "ok" {
        return Err(format!("integrity check failed: {ok}"));
    }
    let newest: i64 =
        sqlx::query("SELECT CAST(COALESCE(MAX(version), 0) AS BIGINT) FROM _sqlx_migrations")
            .fetch_one(&mut conn)
            .await
            .and_then(|r| r.try_get(0))
            .map_err(|_| "it has no Portico migrations table".to_string())?;
    let known = super::SQLITE_MIGRATOR
        .iter()
        .map(|m| m.version)
        .max()
        .unwrap_or_default();
    if newest > known {
        return Err(format!(
            "it was written by a newer Portico (migration {newest}; this one knows up to {known})"
        ));
    }
    Ok(())
}

fn partial_name(p: &Path) -> PathBuf {
    PathBuf::from(format!("{}.partial", p.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_file_behind_a_sqlite_url() {
        assert_eq!(
            sqlite_path("sqlite:///var/lib/portico/portico.db?mode=rwc"),
            Some(PathBuf::from("/var/lib/portico/portico.db"))
        );
        assert_eq!(
            sqlite_path("sqlite://./data/p.db"),
            Some(PathBuf::from("./data/p.db"))
        );
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(sqlite_path("postgres://x/y"), None);
    }
}
