//! Database access shared by every feature: one pool over SQLite or PostgreSQL.
//!
//! Business queries are written once in the SQL both engines accept (`$1` placeholders,
//! `ON CONFLICT`, `RETURNING`) and run through sqlx's `Any` driver; only migrations are
//! per backend. See docs/decisions/0001-one-sql-two-backends.md.

use std::str::FromStr;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, ConnectOptions};

use crate::tenancy::TenantScope;

pub mod backup;
mod group;

pub use group::{MAX_ACTIONS, MAX_WAIT, WriteBatches};

pub use sqlx::Row;
pub use sqlx::any::AnyRow;

/// Which engine sits behind the pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite, the default.
    Sqlite,
    /// PostgreSQL for scale-out.
    Postgres,
}

/// Errors from the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// A unique constraint refused the write; the string names the constraint when known.
    #[error("already exists")]
    Conflict(String),
    /// Text the database cannot store (PostgreSQL refuses NUL characters).
    #[error("text contains characters that cannot be stored")]
    InvalidText,
    /// Anything else from the driver.
    #[error(transparent)]
    Sqlx(sqlx::Error),
    /// Migrations failed.
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The shared (group) commit that carried this write failed, so the write is not stored.
    #[error("the commit carrying this write failed: {0}")]
    CommitFailed(String),
}

impl From<sqlx::Error> for DbError {
    fn from(e: sqlx::Error) -> Self {
        // 22021: invalid byte sequence (a NUL in text), 22P05: untranslatable character.
        if let sqlx::Error::Database(db) = &e
            && matches!(db.code().as_deref(), Some("22021") | Some("22P05"))
        {
            return DbError::InvalidText;
        }
        if let sqlx::Error::Database(db) = &e
            && db.is_unique_violation()
        {
            return DbError::Conflict(db.constraint().unwrap_or_default().to_string());
        }
        DbError::Sqlx(e)
    }
}

/// Result alias for storage calls.
pub type DbResult<T> = Result<T, DbError>;

/// The shared connection pool and the backend it talks to.
#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    writer: AnyPool,
    backend: Backend,
    /// Wakes this node's job worker when a transaction that enqueued a job commits.
    jobs_committed: std::sync::Arc<tokio::sync::Notify>,
    /// SQLite: the queue of write actions that share the writer's transactions.
    group: std::sync::Arc<group::GroupCommit>,
    /// This node's cache of signed-in principals (see `auth::cache`).
    principals: std::sync::Arc<crate::auth::cache::PrincipalCache>,
}

static SQLITE_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

impl Db {
    /// Connects to `url` (`sqlite:` or `postgres://`), creating a SQLite file when missing.
    pub async fn connect(url: &str) -> DbResult<Db> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        };
        let (url, max) = match backend {
            Backend::Sqlite => {
                let sep = if url.contains('?') { '&' } else { '?' };
                let mut u = url.to_string();
                if !url.contains("mode=") {
                    u.push(sep);
                    u.push_str("mode=rwc");
                }
                (u, 8)
            }
            Backend::Postgres => (url.to_string(), 16),
        };
        let opts = AnyConnectOptions::from_str(&url)?.disable_statement_logging();
        let pool = pool_options(backend, max)
            .connect_with(opts.clone())
            .await?;
        // SQLite has one writer at a time. Writers that meet a held lock wait in SQLite's busy
        // handler, which sleeps 1, 2, 5, 10… ms between tries: under load most of a write's
        // latency was that sleep. One connection for every write turns the lock into a queue
        // that hands over at once. PostgreSQL locks rows, so there writes share the pool.
        let writer = match backend {
            Backend::Sqlite => pool_options(backend, 1).connect_with(opts).await?,
            Backend::Postgres => pool.clone(),
        };
        Ok(Db {
            pool,
            writer,
            backend,
            jobs_committed: Default::default(),
            group: Default::default(),
            // On PostgreSQL other nodes write too: serve entries only once the event bus
            // listens for their invalidations.
            principals: std::sync::Arc::new(crate::auth::cache::PrincipalCache::new(
                backend == Backend::Sqlite,
            )),
        })
    }

    /// This node's principal cache.
    pub fn principals(&self) -> std::sync::Arc<crate::auth::cache::PrincipalCache> {
        self.principals.clone()
    }

    /// A handle bound to `scope`: the only way feature code reaches tenant data.
    pub fn tenant<'a>(&'a self, scope: &'a TenantScope) -> TenantDb<'a> {
        TenantDb { db: self, scope }
    }

    /// The cross-tenant handle for operator paths (CLI, job worker, seeding, tenant and
    /// session resolution). `why` names the path; it is logged, and the SQL-scan test
    /// holds the list of modules allowed to ask for it.
    pub fn operator(&self, why: &'static str) -> Operator<'_> {
        tracing::trace!(why, "operator database handle");
        Operator { db: self }
    }

    /// Applies the backend's migrations.
    pub async fn migrate(&self) -> DbResult<()> {
        match self.backend {
            Backend::Sqlite => SQLITE_MIGRATOR.run(&self.writer).await?,
            Backend::Postgres => POSTGRES_MIGRATOR.run(&self.writer).await?,
        }
        Ok(())
    }

    /// Which backend this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// How SQLite's write actions were grouped into commits (all zero on PostgreSQL).
    pub fn write_batches(&self) -> WriteBatches {
        self.group.stats()
    }

    /// Write actions waiting for SQLite's writer right now (zero on PostgreSQL).
    pub fn writers_waiting(&self) -> usize {
        self.group.waiting()
    }

    /// Wraps `inner` so the database hands back its rows as one JSON array of objects.
    ///
    /// A list of N rows through sqlx costs a copy, a conversion and an allocation per value and
    /// a thread hand-off per row; building the array inside the engine makes it one value. `cols`
    /// are the output column names of `inner` (the object keys); `order` orders the array by
    /// them (`j.<col>`), so the order does not rest on the subquery. Only the function names
    /// differ between the engines, so the query text is still written once.
    pub fn json_rows_sql(&self, cols: &[&str], inner: &str, order: &str) -> String {
        let (obj, agg) = match self.backend {
            Backend::Sqlite => ("json_object", "json_group_array"),
            Backend::Postgres => ("json_build_object", "json_agg"),
        };
        let mut fields = String::new();
        for (i, c) in cols.iter().enumerate() {
            if i > 0 {
                fields.push_str(", ");
            }
            fields.push_str(&format!("'{c}', j.{c}"));
        }
        format!(
            "SELECT CAST({agg}({obj}({fields}) ORDER BY {order}) AS TEXT) AS rows FROM ({inner}) j"
        )
    }

    /// Lists `(table, column)` pairs of the schema, for the test that the two backends agree.
    pub async fn schema_columns(&self) -> DbResult<Vec<(String, String)>> {
        let sql = match self.backend {
            Backend::Sqlite => {
                "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p \
                 WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '_sqlx%' \
                 AND NOT EXISTS (SELECT 1 FROM sqlite_master v WHERE v.sql LIKE 'CREATE VIRTUAL TABLE%' \
                 AND (m.name = v.name OR m.name LIKE v.name || '\\_%' ESCAPE '\\')) \
                 ORDER BY m.name, p.name"
            }
            Backend::Postgres => {
                "SELECT CAST(table_name AS TEXT), CAST(column_name AS TEXT) FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name NOT LIKE '_sqlx%' \
                 ORDER BY 1, 2"
            }
        };
        let rows = sqlx::query(sql).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| Ok((r.try_get::<String, _>(0)?, r.try_get::<String, _>(1)?)))
            .collect()
    }
}

/// Database access bound to one tenant: features reach tenant rows only through this.
///
/// Every statement run through it must still say `tenant_id = …` (the SQL-scan test checks
/// the texts); the handle makes sure a scope, obtained from resolution, a principal or the
/// operator path, exists before any connection does.
#[derive(Clone, Copy)]
pub struct TenantDb<'a> {
    db: &'a Db,
    scope: &'a TenantScope,
}

impl<'a> TenantDb<'a> {
    /// The scope this handle is bound to.
    pub fn scope(&self) -> &'a TenantScope {
        self.scope
    }

    /// The tenant id to bind as `tenant_id`.
    pub fn tenant_id(&self) -> &'a str {
        self.scope.tenant_id().as_str()
    }

    /// The pool for reads.
    pub fn reader(&self) -> &'a AnyPool {
        &self.db.pool
    }

    /// The pool for a single write that needs no audit row (SQLite: the single writer).
    pub fn writer(&self) -> &'a AnyPool {
        &self.db.writer
    }

    /// Which backend this is.
    pub fn backend(&self) -> Backend {
        self.db.backend
    }

    /// See [`Db::json_rows_sql`].
    pub fn json_rows_sql(&self, cols: &[&str], inner: &str, order: &str) -> String {
        self.db.json_rows_sql(cols, inner, order)
    }

    /// Starts the one transaction of a write action: the change, its audit row, the jobs it
    /// enqueues and (PostgreSQL) its notifications commit together or not at all.
    ///
    /// On SQLite, actions that queue for the writer share one transaction, each in its own
    /// savepoint (group commit, see `src/db/group.rs`); the action is still atomic and
    /// [`TenantTx::commit`] still returns only once it is stored.
    pub async fn begin(&self) -> DbResult<TenantTx> {
        let tx = match self.db.backend {
            Backend::Sqlite => Tx::Grouped(self.db.group.begin(&self.db.writer).await?),
            Backend::Postgres => Tx::Own(self.db.writer.begin().await?),
        };
        Ok(TenantTx {
            tx,
            scope: self.scope.clone(),
            backend: self.db.backend,
            jobs_committed: self.db.jobs_committed.clone(),
            principals: self.db.principals.clone(),
            after_commit: Vec::new(),
        })
    }
}

/// Work to do once a transaction has committed (in-process event delivery, waking workers).
type AfterCommit = Box<dyn FnOnce() + Send>;

/// The transaction a write action runs in.
enum Tx {
    /// Its own transaction (PostgreSQL).
    Own(sqlx::Transaction<'static, sqlx::Any>),
    /// A place in the writer's shared transaction (SQLite).
    Grouped(group::Action),
}

/// One write action's transaction, bound to a tenant.
pub struct TenantTx {
    tx: Tx,
    scope: TenantScope,
    backend: Backend,
    jobs_committed: std::sync::Arc<tokio::sync::Notify>,
    principals: std::sync::Arc<crate::auth::cache::PrincipalCache>,
    after_commit: Vec<AfterCommit>,
}

impl TenantTx {
    /// The connection to run this action's statements on.
    pub fn conn(&mut self) -> &mut sqlx::AnyConnection {
        match &mut self.tx {
            Tx::Own(tx) => tx,
            Tx::Grouped(a) => a.conn(),
        }
    }

    /// The scope of the action.
    pub fn scope(&self) -> &TenantScope {
        &self.scope
    }

    /// The tenant id to bind as `tenant_id`.
    pub fn tenant_id(&self) -> &str {
        self.scope.tenant_id().as_str()
    }

    /// Which backend this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// This node's principal cache (see `auth::cache::changed`).
    pub fn principals(&self) -> std::sync::Arc<crate::auth::cache::PrincipalCache> {
        self.principals.clone()
    }

    /// Runs `f` after a successful commit, never after a rollback.
    pub fn after_commit(&mut self, f: impl FnOnce() + Send + 'static) {
        self.after_commit.push(Box::new(f));
    }

    /// Notes that this action enqueued a job, so the node's worker wakes after the commit.
    pub fn job_enqueued(&mut self) {
        let n = self.jobs_committed.clone();
        self.after_commit(move || n.notify_one());
    }

    /// Commits, then runs the after-commit work. Returns only once the write is stored.
    pub async fn commit(self) -> DbResult<()> {
        match self.tx {
            Tx::Own(tx) => {
                tx.commit().await?;
                for f in self.after_commit {
                    f();
                }
                Ok(())
            }
            // The hooks run after the real COMMIT, before this returns.
            Tx::Grouped(a) => a.commit(self.after_commit).await,
        }
    }
}

/// The cross-tenant handle (see [`Db::operator`]).
#[derive(Clone, Copy)]
pub struct Operator<'a> {
    db: &'a Db,
}

impl<'a> Operator<'a> {
    /// The pool for reads.
    pub fn reader(&self) -> &'a AnyPool {
        &self.db.pool
    }

    /// The pool for writes (SQLite: the single writer).
    pub fn writer(&self) -> &'a AnyPool {
        &self.db.writer
    }

    /// Which backend this is.
    pub fn backend(&self) -> Backend {
        self.db.backend
    }

    /// Acts on one tenant from an operator path (CLI, job worker, seeding).
    pub fn scope(&self, tenant_id: crate::tenancy::TenantId) -> TenantScope {
        TenantScope::for_operator(self, tenant_id)
    }

    /// Wakes this node's job worker (after an operator path enqueued a job).
    pub fn wake_jobs(&self) {
        self.db.jobs_committed.notify_one();
    }

    /// Waits until a job is committed on this node (the worker's idle wait).
    pub fn jobs_committed(&self) -> tokio::sync::futures::Notified<'a> {
        self.db.jobs_committed.notified()
    }
}

/// Pool settings; SQLite connections get WAL and a busy timeout.
fn pool_options(backend: Backend, max: u32) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(max)
        .after_connect(move |conn, _| {
            Box::pin(async move {
                if backend == Backend::Sqlite {
                    use sqlx::Executor;
                    // WAL lets readers run beside the single writer; busy_timeout queues
                    // writers from other processes (the CLI) instead of failing them.
                    conn.execute(
                        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; \
                         PRAGMA busy_timeout=10000; PRAGMA foreign_keys=ON;",
                    )
                    .await?;
                }
                Ok(())
            })
        })
}

/// Current time as Unix milliseconds, the unit every timestamp column uses.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// A new time-ordered row id (UUIDv7).
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Decodes the single JSON-array value made by [`Db::json_rows_sql`] (NULL when no rows).
pub fn json_rows<T: serde::de::DeserializeOwned>(row: &AnyRow) -> Result<Vec<T>, sqlx::Error> {
    match row.try_get::<Option<String>, _>(0)? {
        None => Ok(Vec::new()),
        Some(text) => serde_json::from_str(&text).map_err(|e| sqlx::Error::Decode(Box::new(e))),
    }
}

/// Reads a 0/1 flag column.
pub fn flag(row: &AnyRow, col: &str) -> Result<bool, sqlx::Error> {
    Ok(row.try_get::<i64, _>(col)? != 0)
}

/// Declares a typed id over the text UUID stored in the database.
#[macro_export]
macro_rules! typed_id {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
        #[serde(transparent)]
        pub struct $name(pub String);
        impl $name {
            /// The id as stored.
            pub fn as_str(&self) -> &str { &self.0 }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(&self.0) }
        }
    };
}
