//! `portico backup` under write load, and `portico restore` of what it wrote.

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{Value, json};

use crate::support::{Db, TestApp};

const KEY: &str = "test-secret-key-that-is-long-enough-0123456789";

fn portico(data_dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_portico"))
        .args(args)
        .env_clear()
        .env("PORTICO_DATA_DIR", data_dir)
        .env("PORTICO_SECRET_KEY", KEY)
        .env("PORTICO_BASE_URL", "https://portal.example.com")
        .output()
        .expect("run portico")
}

fn text(o: &[u8]) -> String {
    String::from_utf8_lossy(o).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_taken_under_write_load_restores_whole() {
    let app = TestApp::spawn(Db::Sqlite).await.expect("sqlite app");
    let bob = Arc::new(app.api_login("acme", "bob@globex.example", "portal").await);
    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(std::sync::Mutex::new(Vec::<i64>::new()));
    let mut writers = Vec::new();
    for w in 0..3 {
        let (bob, stop, acked) = (bob.clone(), stop.clone(), acked.clone());
        writers.push(tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                i += 1;
                let r = bob
                    .post_json(
                        "/api/v1/tickets",
                        &json!({ "subject": format!("Load {w}-{i}"), "description": "Backup under load.", "priority": "normal" }),
                    )
                    .await;
                if r.status().is_success() {
                    let t: Value = r.json().await.expect("json");
                    acked.lock().expect("lock").push(t["number"].as_i64().expect("number"));
                }
            }
        }));
    }
    // Let the writers get going, note what is acknowledged, then back up while they go on.
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let before: Vec<i64> = acked.lock().expect("lock").clone();
    assert!(!before.is_empty(), "the writers created tickets");
    let out_dir = tempfile::tempdir().expect("tempdir");
    let file = out_dir.path().join("portico-backup.db");
    let (dd, f) = (app.data_dir.clone(), file.clone());
    let out =
        tokio::task::spawn_blocking(move || portico(&dd, &["backup", f.to_str().expect("path")]))
            .await
            .expect("join");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("backup written to"));
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.await.expect("writer");
    }

    // A backup never overwrites.
    let again = portico(&app.data_dir, &["backup", file.to_str().expect("path")]);
    assert!(!again.status.success());
    assert!(text(&again.stderr).contains("exists already"));

    // Restore into a fresh deployment and check it there.
    let fresh = tempfile::tempdir().expect("tempdir");
    let out = portico(fresh.path(), &["restore", file.to_str().expect("path")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let verify = portico(fresh.path(), &["audit", "verify", "--tenant", "acme"]);
    assert!(
        verify.status.success() && text(&verify.stdout).contains("OK"),
        "{}{}",
        text(&verify.stdout),
        text(&verify.stderr)
    );
    let restored = portico::db::Db::connect(&format!(
        "sqlite://{}",
        fresh.path().join("portico.db").display()
    ))
    .await
    .expect("open restored");
    let numbers: Vec<i64> = sqlx::query_scalar(
        "SELECT CAST(k.number AS BIGINT) FROM tickets k JOIN tenants t ON t.id = k.tenant_id WHERE t.slug = 'acme' AND k.subject LIKE 'Load %'",
    )
    .fetch_all(restored.operator("test").reader())
    .await
    .expect("numbers");
    for n in &before {
        assert!(
            numbers.contains(n),
            "ticket {n} acknowledged before the backup is in it"
        );
    }
    // Every restored ticket came with its audit row: the snapshot is one moment, not a blend.
    let unaudited: i64 = sqlx::query_scalar(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM tickets k JOIN tenants t ON t.id = k.tenant_id \
         WHERE t.slug = 'acme' AND k.subject LIKE 'Load %' AND NOT EXISTS \
         (SELECT 1 FROM audit_log a WHERE a.tenant_id = k.tenant_id AND a.target_id = k.id)",
    )
    .fetch_one(restored.operator("test").reader())
    .await
    .expect("count");
    assert_eq!(unaudited, 0);

    // A file that is not a backup is refused and the database stays.
    let junk = out_dir.path().join("junk.db");
    std::fs::write(&junk, b"not a database").expect("write");
    let out = portico(fresh.path(), &["restore", junk.to_str().expect("path")]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("not a usable Portico backup"),
        "{}",
        text(&out.stderr)
    );
    assert!(fresh.path().join("portico.db").exists());
}
