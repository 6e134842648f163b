//! Group commit on SQLite's single writer: write actions that queue for the writer share one
//! transaction, each in its own savepoint. Concurrent creates all succeed and are stored; an
//! action that fails on a unique constraint, is dropped without committing or panics takes
//! nothing of its neighbours in the same batch with it. On PostgreSQL (many writers, no
//! batching) the same scenarios must simply hold.

use std::time::{Duration, Instant};

use portico::db::{Backend, Db, DbError, TenantTx};
use portico::tenancy::{TenantId, TenantScope};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::Row;

use crate::support::TestApp;

async fn acme(db: &Db) -> TenantScope {
    let id: String = sqlx::query("SELECT id FROM tenants WHERE slug = 'acme'")
        .fetch_one(db.operator("test").reader())
        .await
        .expect("acme")
        .get(0);
    db.operator("test").scope(TenantId(id))
}

/// Adds a company named `name` in the action's transaction.
async fn add_company(tx: &mut TenantTx, name: &str) -> Result<(), DbError> {
    let tenant = tx.tenant_id().to_string();
    sqlx::query(
        "INSERT INTO companies (id, tenant_id, name, status, created_at, updated_at) \
         VALUES ($1, $2, $3, 'active', 0, 0)",
    )
    .bind(portico::db::new_id())
    .bind(tenant)
    .bind(name)
    .execute(tx.conn())
    .await?;
    Ok(())
}

async fn stored_companies(db: &Db, prefix: &str) -> Vec<String> {
    sqlx::query("SELECT name FROM companies WHERE name LIKE $1 ORDER BY name")
        .bind(format!("{prefix}%"))
        .fetch_all(db.operator("test").reader())
        .await
        .expect("companies")
        .iter()
        .map(|r| r.get::<String, _>(0))
        .collect()
}

/// Waits until `n` actions queue for SQLite's writer, so the order of a batch is known. On
/// PostgreSQL nothing queues: a short pause lets the action start.
async fn until_waiting(db: &Db, n: usize) {
    if db.backend() == Backend::Postgres {
        tokio::time::sleep(Duration::from_millis(50)).await;
        return;
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while db.writers_waiting() < n {
        assert!(Instant::now() < deadline, "{n} writers never queued");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// What one queued action does once it has the writer.
#[derive(Clone, Copy)]
enum Plan {
    /// Adds its company and commits.
    Commit,
    /// Adds its company, then one that already exists (a unique violation), and gives up.
    Conflict,
    /// Adds its company and is dropped without committing.
    Drop,
    /// Adds its company and panics.
    Panic,
}

fn queue_action(
    db: &Db,
    scope: &TenantScope,
    name: String,
    plan: Plan,
) -> tokio::task::JoinHandle<Result<(), DbError>> {
    let (db, scope) = (db.clone(), scope.clone());
    tokio::spawn(async move {
        let mut tx = db.tenant(&scope).begin().await?;
        add_company(&mut tx, &name).await?;
        match plan {
            Plan::Commit => tx.commit().await,
            Plan::Conflict => {
                // Its own insert first, so the rollback has something of its own to undo.
                add_company(&mut tx, "GC first").await?;
                tx.commit().await
            }
            Plan::Drop => Ok(()),
            Plan::Panic => panic!("an action panics half-way"),
        }
    })
}

async fn a_failing_action_spares_its_batch(app: TestApp) {
    let db = app.state.db.clone();
    let scope = acme(&db).await;
    let before = db.write_batches();

    // The first action holds the writer while the others queue behind it, in this order.
    let mut first = db.tenant(&scope).begin().await.expect("begin");
    add_company(&mut first, "GC first").await.expect("first");
    let plans = [
        ("GC conflict", Plan::Conflict),
        ("GC second", Plan::Commit),
        ("GC dropped", Plan::Drop),
        ("GC panicked", Plan::Panic),
        ("GC last", Plan::Commit),
    ];
    let mut handles = Vec::new();
    for (i, (name, plan)) in plans.iter().enumerate() {
        handles.push(queue_action(&db, &scope, name.to_string(), *plan));
        until_waiting(&db, i + 1).await;
    }
    first.commit().await.expect("first commit");

    let mut results = Vec::new();
    for h in handles {
        results.push(h.await);
    }
    assert!(
        matches!(results[0], Ok(Err(DbError::Conflict(_)))),
        "the duplicate is refused as a conflict: {:?}",
        results[0]
    );
    assert!(matches!(results[1], Ok(Ok(()))), "{:?}", results[1]);
    assert!(matches!(results[2], Ok(Ok(()))), "{:?}", results[2]);
    assert!(results[3].as_ref().is_err_and(|e| e.is_panic()));
    assert!(matches!(results[4], Ok(Ok(()))), "{:?}", results[4]);

    // Only what was committed is stored: the failed, dropped and panicked actions left no
    // trace, their neighbours lost nothing.
    assert_eq!(
        stored_companies(&db, "GC ").await,
        vec!["GC first", "GC last", "GC second"]
    );
    if db.backend() == Backend::Sqlite {
        let after = db.write_batches();
        // The three committed actions share one COMMIT, or two when the batch's time bound
        // ends it early (a slow debug build can take longer than `MAX_WAIT`).
        assert!(
            after.largest >= 2 && after.commits - before.commits < after.actions - before.actions,
            "the committed actions shared commits: {before:?} → {after:?}"
        );
    }

    // The writer is free again and takes the next write.
    let mut tx = db.tenant(&scope).begin().await.expect("begin after");
    add_company(&mut tx, "GC after").await.expect("after");
    tx.commit().await.expect("commit after");
    assert!(stored_companies(&db, "GC after").await.len() == 1);
}
crate::db_test!(
    group_commit_failing_action_spares_its_batch,
    a_failing_action_spares_its_batch
);

async fn a_batch_reads_its_own_writes(app: TestApp) {
    let db = app.state.db.clone();
    let scope = acme(&db).await;
    let mut first = db.tenant(&scope).begin().await.expect("begin");
    add_company(&mut first, "GC seen").await.expect("first");
    // Queued behind the first: inside the shared transaction it sees the first action's row
    // (on SQLite) or, after that commits, the committed row (on PostgreSQL, once unblocked).
    let (db2, scope2) = (db.clone(), scope.clone());
    let reader = tokio::spawn(async move {
        let mut tx = db2.tenant(&scope2).begin().await?;
        let tenant = tx.tenant_id().to_string();
        let n: i64 = sqlx::query(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM companies WHERE tenant_id = $1 AND name = 'GC seen'",
        )
        .bind(tenant)
        .fetch_one(tx.conn())
        .await?
        .get(0);
        add_company(&mut tx, &format!("GC saw {n}")).await?;
        tx.commit().await
    });
    until_waiting(&db, 1).await;
    first.commit().await.expect("commit");
    reader.await.expect("join").expect("reader");
    if db.backend() == Backend::Sqlite {
        assert_eq!(
            stored_companies(&db, "GC saw").await,
            vec!["GC saw 1"],
            "the second action read the first one's uncommitted row in the shared transaction"
        );
    }
}
crate::db_test!(
    group_commit_batch_reads_its_own_writes,
    a_batch_reads_its_own_writes
);

async fn concurrent_creates_are_grouped_and_stored(app: TestApp) {
    let s = app.api_login("acme", "bob@globex.example", "portal").await;
    let db = app.state.db.clone();
    let before = db.write_batches();
    let mut acked = Vec::new();
    // A few rounds of 48 at once: enough queueing that SQLite's writer groups commits.
    for round in 0..3 {
        let mut reqs = Vec::new();
        for i in 0..48 {
            let (client, csrf, url) =
                (s.client.clone(), s.csrf.clone(), app.url("/api/v1/tickets"));
            reqs.push(tokio::spawn(async move {
                let r = client
                    .post(url)
                    .header("x-csrf-token", csrf)
                    .json(&json!({ "subject": format!("Grouped {round}-{i}"), "description": "Under load.", "priority": "normal" }))
                    .send()
                    .await
                    .expect("create");
                assert_eq!(r.status(), StatusCode::CREATED);
                r.json::<Value>().await.expect("json")["number"]
                    .as_i64()
                    .expect("number")
            }));
        }
        for r in reqs {
            acked.push(r.await.expect("join"));
        }
    }
    let mut distinct = acked.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(
        distinct.len(),
        acked.len(),
        "every ticket got its own number"
    );

    let stored: Vec<i64> = sqlx::query(
        "SELECT CAST(k.number AS BIGINT) FROM tickets k JOIN tenants t ON t.id = k.tenant_id \
         WHERE t.slug = 'acme' AND k.subject LIKE 'Grouped %' ORDER BY k.number",
    )
    .fetch_all(db.operator("test").reader())
    .await
    .expect("stored")
    .iter()
    .map(|r| r.get::<i64, _>(0))
    .collect();
    assert_eq!(stored, distinct, "every acknowledged ticket is stored");

    // Each create is its own audited action: the chain still verifies.
    let actions = app.audit_actions("acme").await;
    assert!(
        actions
            .iter()
            .filter(|a| a.as_str() == "ticket.created")
            .count()
            >= acked.len(),
        "every create wrote its audit row"
    );
    let scope = acme(&db).await;
    assert_eq!(
        portico::audit::verify(&db, &scope).await.expect("verify"),
        None,
        "the audit chain written through shared commits verifies"
    );

    if db.backend() == Backend::Sqlite {
        let after = db.write_batches();
        assert!(
            after.largest > 1 && after.commits - before.commits < after.actions - before.actions,
            "concurrent creates shared commits: {before:?} → {after:?}"
        );
        // And the grouping shows on /metrics.
        let body = app.state.metrics.render();
        assert!(
            body.contains("portico_db_group_commit_actions"),
            "/metrics reports actions per commit"
        );
    }
}
crate::db_test!(
    group_commit_concurrent_creates,
    concurrent_creates_are_grouped_and_stored
);
