//! `kill -9` in the middle of a write load loses no acknowledged write: every ticket the server
//! answered 201 for is in the database after a restart, on SQLite and PostgreSQL.

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sqlx::Row;

use crate::support::{Db, postgres_url};

const KEY: &str = "test-secret-key-that-is-long-enough-0123456789";

struct Node {
    child: Child,
    base: String,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// `portico serve` (with `--demo` the first time) on `url`.
async fn start(dir: &std::path::Path, url: &str, demo: bool) -> Node {
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_portico"));
    cmd.arg("serve");
    if demo {
        cmd.arg("--demo");
    }
    let log = std::fs::File::create(dir.join(format!("portico-{port}.log"))).expect("log file");
    let child = cmd
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("PORTICO_LISTEN", format!("127.0.0.1:{port}"))
        .env("PORTICO_DATA_DIR", dir)
        .env("PORTICO_DATABASE_URL", url)
        .env("PORTICO_SECRET_KEY", KEY)
        .env("PORTICO_BASE_URL", &base)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start portico");
    let mut node = Node { child, base };
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Ok(Some(status)) = node.child.try_wait() {
            panic!("portico exited during start-up: {status}");
        }
        if let Ok(r) = http.get(format!("{}/readyz", node.base)).send().await
            && r.status().is_success()
        {
            return node;
        }
        assert!(Instant::now() < deadline, "portico did not get ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn login(base: &str) -> (reqwest::Client, String) {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let me: Value = client
        .post(format!("{base}/api/v1/auth/login?tenant=acme"))
        .json(&json!({ "email": "bob@globex.example", "password": "portico-demo", "audience": "portal" }))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("login json");
    let csrf = me["csrf_token"].as_str().expect("csrf").to_string();
    (client, csrf)
}

async fn stored_numbers(url: &str, db: Db) -> Vec<i64> {
    let q = "SELECT t.number FROM tickets t JOIN tenants n ON n.id = t.tenant_id \
             WHERE n.slug = 'acme' AND t.subject LIKE 'Crash test %'";
    match db {
        Db::Sqlite => {
            let pool = sqlx::SqlitePool::connect(url).await.expect("open sqlite");
            sqlx::query(q)
                .fetch_all(&pool)
                .await
                .expect("query")
                .iter()
                .map(|r| r.get::<i64, _>(0))
                .collect()
        }
        Db::Postgres => {
            let pool = sqlx::PgPool::connect(url).await.expect("open postgres");
            sqlx::query(q)
                .fetch_all(&pool)
                .await
                .expect("query")
                .iter()
                .map(|r| r.get::<i64, _>(0))
                .collect()
        }
    }
}

async fn no_acknowledged_write_is_lost(db: Db) {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = match db {
        Db::Sqlite => format!("sqlite://{}", dir.path().join("portico.db").display()),
        Db::Postgres => match postgres_url().await {
            Some(u) => u,
            None => return,
        },
    };
    let mut node = start(dir.path(), &url, true).await;
    let (client, csrf) = login(&node.base).await;
    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(Mutex::new(Vec::<i64>::new()));
    let mut writers = Vec::new();
    for w in 0..8 {
        let (client, csrf, base) = (client.clone(), csrf.clone(), node.base.clone());
        let (stop, acked) = (stop.clone(), acked.clone());
        writers.push(tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                i += 1;
                let r = client
                    .post(format!("{base}/api/v1/tickets"))
                    .header("x-csrf-token", &csrf)
                    .json(&json!({ "subject": format!("Crash test {w}-{i}"), "description": "Written under kill -9.", "priority": "normal" }))
                    .send()
                    .await;
                let Ok(r) = r else { break };
                if r.status().as_u16() != 201 {
                    break;
                }
                // Acknowledged only once the whole answer is in.
                let Ok(t) = r.json::<Value>().await else {
                    break;
                };
                if let Some(n) = t["number"].as_i64() {
                    acked.lock().unwrap_or_else(|e| e.into_inner()).push(n);
                }
            }
        }));
    }
    // Kill once the load is well under way.
    let deadline = Instant::now() + Duration::from_secs(60);
    while acked.lock().unwrap_or_else(|e| e.into_inner()).len() < 200 {
        assert!(Instant::now() < deadline, "the writers made no progress");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    node.child.kill().expect("kill -9");
    let _ = node.child.wait();
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        let _ = w.await;
    }
    let acked: Vec<i64> = acked.lock().unwrap_or_else(|e| e.into_inner()).clone();

    // The restarted node recovers the database and serves what was acknowledged.
    let node = start(dir.path(), &url, false).await;
    let stored = stored_numbers(&url, db).await;
    let missing: Vec<&i64> = acked.iter().filter(|n| !stored.contains(n)).collect();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged tickets lost: {missing:?}",
        missing.len(),
        acked.len()
    );
    // And it takes new writes.
    let (client, csrf) = login(&node.base).await;
    let r = client
        .post(format!("{}/api/v1/tickets", node.base))
        .header("x-csrf-token", &csrf)
        .json(&json!({ "subject": "Crash test after restart", "description": "Back up.", "priority": "normal" }))
        .send()
        .await
        .expect("create after restart");
    assert_eq!(r.status().as_u16(), 201);
}
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_nine_loses_no_acknowledged_write_sqlite() {
    no_acknowledged_write_is_lost(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_nine_loses_no_acknowledged_write_postgres() {
    no_acknowledged_write_is_lost(Db::Postgres).await;
}
