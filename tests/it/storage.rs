//! File storage: uploads stream into the object store under tenant keys and stream back out;
//! refused and failed uploads leave no object behind; the tenant's allowance holds under
//! concurrent uploads; legacy files move with `storage migrate`. The round trip and the
//! oversize refusal also run against S3 (moto's server on loopback).

use std::path::{Path, PathBuf};
use std::time::Duration;

use portico::config::{S3Config, StorageConfig};
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::support::{Db, Session, TestApp};

async fn tenant_id(app: &TestApp, slug: &str) -> String {
    let op = app.state.db.operator("test: tenant id");
    sqlx::query_scalar::<_, String>("SELECT id FROM tenants WHERE slug = $1")
        .bind(slug)
        .fetch_one(op.reader())
        .await
        .expect("tenant id")
}

/// Objects in the tenant's namespace.
async fn objects(app: &TestApp, tenant: &str) -> Vec<String> {
    app.state
        .files
        .list(&format!("t/{tenant}"))
        .await
        .expect("list objects")
}

/// Waits (up to 5 s) for the tenant's namespace to be empty; background clean-up after an
/// early refusal is asynchronous.
async fn objects_gone(app: &TestApp, tenant: &str) -> Vec<String> {
    for _ in 0..50 {
        let left = objects(app, tenant).await;
        if left.is_empty() {
            return left;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    objects(app, tenant).await
}

/// Regular files under the local store's directory (parts of unfinished uploads included).
fn files_on_disk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_on_disk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

async fn used_bytes(app: &TestApp, tenant: &str) -> i64 {
    let op = app.state.db.operator("test: storage usage");
    sqlx::query_scalar::<_, i64>("SELECT storage_used_bytes FROM tenants WHERE id = $1")
        .bind(tenant)
        .fetch_one(op.writer())
        .await
        .expect("usage")
}

async fn set_quota(app: &TestApp, tenant: &str, bytes: i64) {
    let op = app.state.db.operator("test: storage quota");
    sqlx::query("UPDATE tenants SET storage_quota_bytes = $2 WHERE id = $1")
        .bind(tenant)
        .bind(bytes)
        .execute(op.writer())
        .await
        .expect("set quota");
}

async fn raise(s: &Session, subject: &str) -> i64 {
    let r = s
        .post_json(
            "/api/v1/tickets",
            &json!({ "subject": subject, "description": "Storage test", "priority": "low", "category": "General" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json::<Value>().await.expect("ticket")["number"]
        .as_i64()
        .expect("number")
}

/// A plain-text log of about `bytes` bytes, with multi-byte characters so chunk boundaries
/// fall inside them.
fn log_text(bytes: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes + 64);
    let mut n = 0u64;
    while out.len() < bytes {
        out.extend_from_slice(format!("{n:08} línea del registro — ok\n").as_bytes());
        n += 1;
    }
    out
}

fn file_form(name: &str, bytes: Vec<u8>) -> Form {
    Form::new().part(
        "attachments",
        Part::bytes(bytes).file_name(name.to_string()),
    )
}

/// Upload through the API, download it again: same bytes, same headers as before, the object
/// under `t/<tenant>/`, its size charged to the tenant.
async fn round_trip(app: TestApp) {
    let tenant = tenant_id(&app, "acme").await;
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    let n = raise(&bob, "Round trip").await;
    let used_before = used_bytes(&app, &tenant).await;
    // Several storage parts long (1 MiB locally, 5 MiB on S3).
    let content = log_text(7 * 1024 * 1024 + 123);
    let r = bob
        .upload(
            &format!("/api/v1/tickets/{n}/attachments"),
            file_form("server log.txt", content.clone()),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let t: Value = r.json().await.expect("ticket");
    let att = &t["attachments"][0];
    assert_eq!(att["filename"], "server log.txt");
    assert_eq!(att["content_type"], "text/plain");
    assert_eq!(att["size"].as_i64(), Some(content.len() as i64));
    let keys = objects(&app, &tenant).await;
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert!(keys[0].starts_with(&format!("t/{tenant}/")), "{keys:?}");
    assert_eq!(
        used_bytes(&app, &tenant).await,
        used_before + content.len() as i64
    );
    let r = bob
        .get(&format!(
            "/api/v1/tickets/{n}/attachments/{}",
            att["id"].as_str().expect("id")
        ))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let h = r.headers().clone();
    assert!(
        h["content-disposition"]
            .to_str()
            .expect("disposition")
            .starts_with("attachment; filename=\"server log.txt\"")
    );
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["content-type"], "text/plain");
    assert_eq!(h["content-length"], content.len().to_string().as_str());
    let body = r.bytes().await.expect("body");
    assert_eq!(Sha256::digest(&body), Sha256::digest(&content));
    // Another company's user cannot fetch it.
    let ian = app.api_login("acme", "ian@initech.example", "portal").await;
    let r = ian
        .get(&format!(
            "/api/v1/tickets/{n}/attachments/{}",
            att["id"].as_str().expect("id")
        ))
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}
crate::db_test!(storage_round_trip, round_trip);

/// A file over the limit is cut off while it streams: a clear field error, nothing stored,
/// nothing charged.
async fn oversized_upload_leaves_nothing(app: TestApp) {
    let tenant = tenant_id(&app, "acme").await;
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    let n = raise(&bob, "Too big").await;
    let used_before = used_bytes(&app, &tenant).await;
    let limit = app.state.config.max_upload_bytes as usize;
    let r = bob
        .upload(
            &format!("/api/v1/tickets/{n}/attachments"),
            file_form("huge.log", log_text(limit * 2)),
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let e: Value = r.json().await.expect("error");
    assert_eq!(e["error"]["fields"][0]["field"], "attachments");
    assert!(
        e["error"]["fields"][0]["message"]
            .as_str()
            .expect("message")
            .starts_with("huge.log is larger than"),
        "{e}"
    );
    assert_eq!(objects_gone(&app, &tenant).await, Vec::<String>::new());
    assert_eq!(used_bytes(&app, &tenant).await, used_before);
    if let StorageConfig::Local(dir) = &app.state.config.storage {
        assert_eq!(files_on_disk(dir), Vec::<PathBuf>::new());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_upload_is_refused_while_streaming() {
    let app = TestApp::spawn_with(Db::Sqlite, |c| c.max_upload_bytes = 2 * 1024 * 1024)
        .await
        .expect("app");
    oversized_upload_leaves_nothing(app).await;
}

/// Over the allowance: the clear message (translated), nothing stored, nothing charged.
async fn quota_exceeded(app: TestApp) {
    let tenant = tenant_id(&app, "acme").await;
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    let n = raise(&bob, "Full").await;
    let used = used_bytes(&app, &tenant).await;
    set_quota(&app, &tenant, used + 100 * 1024).await;
    let r = bob
        .upload(
            &format!("/api/v1/tickets/{n}/attachments"),
            file_form("big.log", log_text(200 * 1024)),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let e: Value = r.json().await.expect("error");
    assert!(
        e["error"]["message"]
            .as_str()
            .expect("message")
            .starts_with("This organisation has used its storage allowance"),
        "{e}"
    );
    assert_eq!(objects(&app, &tenant).await, Vec::<String>::new());
    assert_eq!(used_bytes(&app, &tenant).await, used);
    // In Spanish for a Spanish browser; the page form says it too.
    let r = bob
        .client
        .post(format!(
            "{}/api/v1/tickets/{n}/attachments?_csrf={}",
            bob.base, bob.csrf
        ))
        .header("accept-language", "es")
        .multipart(file_form("big.log", log_text(200 * 1024)))
        .send()
        .await
        .expect("upload");
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let e: Value = r.json().await.expect("error");
    assert!(
        e["error"]["message"]
            .as_str()
            .expect("message")
            .starts_with("Esta organización ha agotado su espacio"),
        "{e}"
    );
    // A file that fits still goes in, and unlimited (NULL) means unlimited.
    let r = bob
        .upload(
            &format!("/api/v1/tickets/{n}/attachments"),
            file_form("small.log", log_text(50 * 1024)),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let op = app.state.db.operator("test: unlimited");
    sqlx::query("UPDATE tenants SET storage_quota_bytes = NULL WHERE id = $1")
        .bind(&tenant)
        .execute(op.writer())
        .await
        .expect("unlimited");
    let r = bob
        .upload(
            &format!("/api/v1/tickets/{n}/attachments"),
            file_form("big.log", log_text(200 * 1024)),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(objects(&app, &tenant).await.len(), 2);
}
crate::db_test!(storage_quota_exceeded, quota_exceeded);

/// Concurrent uploads against an allowance that fits exactly one of them: one lands, the
/// others are refused and leave nothing; usage counts one file.
async fn concurrent_uploads_respect_the_quota(app: TestApp) {
    let tenant = tenant_id(&app, "acme").await;
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    let n = raise(&bob, "Race").await;
    let size = 300 * 1024;
    let used = used_bytes(&app, &tenant).await;
    set_quota(&app, &tenant, used + size as i64 + size as i64 / 2).await;
    let path = format!("/api/v1/tickets/{n}/attachments");
    let sends =
        (0..4).map(|i| bob.upload(&path, file_form(&format!("race{i}.log"), log_text(size))));
    let statuses: Vec<StatusCode> = futures::future::join_all(sends)
        .await
        .into_iter()
        .map(|r| r.status())
        .collect();
    let ok = statuses
        .iter()
        .filter(|s| **s == StatusCode::CREATED)
        .count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNPROCESSABLE_ENTITY)
        .count();
    assert_eq!((ok, refused), (1, 3), "{statuses:?}");
    assert_eq!(objects_gone_but(&app, &tenant, 1).await, 1);
    let stored = used_bytes(&app, &tenant).await - used;
    let op = app.state.db.operator("test: attachment sizes");
    let recorded = sqlx::query_scalar::<_, i64>(
        "SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM ticket_attachments WHERE tenant_id = $1",
    )
    .bind(&tenant)
    .fetch_one(op.reader())
    .await
    .expect("sum");
    assert_eq!(used_bytes(&app, &tenant).await, recorded);
    assert!(
        stored > 0 && stored <= size as i64 + size as i64 / 2,
        "{stored}"
    );
}
crate::db_test!(
    storage_concurrent_quota,
    concurrent_uploads_respect_the_quota
);

/// Waits until exactly `n` objects remain (refused ones are deleted) and returns the count.
async fn objects_gone_but(app: &TestApp, tenant: &str, n: usize) -> usize {
    for _ in 0..50 {
        if objects(app, tenant).await.len() == n {
            return n;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    objects(app, tenant).await.len()
}

/// An action that fails after its files were stored deletes them: a refusal in the service
/// (a closed ticket), and a form shown again for a missing field.
async fn failed_actions_leave_no_orphans(app: TestApp) {
    let tenant = tenant_id(&app, "acme").await;
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    let n = raise(&bob, "Closing").await;
    let r = bob
        .post_json(&format!("/api/v1/tickets/{n}/close"), &json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let used = used_bytes(&app, &tenant).await;
    let r = bob
        .upload(
            &format!("/api/v1/tickets/{n}/attachments"),
            file_form("late.log", log_text(64 * 1024)),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(objects(&app, &tenant).await, Vec::<String>::new());
    // The page form without a subject is shown again; the stored file is cleaned up.
    let r = bob
        .upload(
            "/portal/tickets",
            Form::new()
                .text("subject", "")
                .text("description", "no subject")
                .part(
                    "attachments",
                    Part::bytes(log_text(64 * 1024)).file_name("orphan.log"),
                ),
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(objects_gone(&app, &tenant).await, Vec::<String>::new());
    assert_eq!(used_bytes(&app, &tenant).await, used);
    if let StorageConfig::Local(dir) = &app.state.config.storage {
        assert_eq!(files_on_disk(dir), Vec::<PathBuf>::new());
    }
}
crate::db_test!(storage_no_orphans, failed_actions_leave_no_orphans);

/// Files stored before migration 0012 (`files/<tenant>/<id>`) are still served, and
/// `storage migrate` moves them under `t/<tenant>/`.
async fn legacy_files_are_served_and_migrated(app: TestApp) {
    let tenant = tenant_id(&app, "acme").await;
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    let n = raise(&bob, "Old file").await;
    let content = log_text(300 * 1024);
    let r = bob
        .upload(
            &format!("/api/v1/tickets/{n}/attachments"),
            file_form("old.log", content.clone()),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let id = r.json::<Value>().await.expect("ticket")["attachments"][0]["id"]
        .as_str()
        .expect("id")
        .to_string();
    // Put it back the way the old code stored it.
    let StorageConfig::Local(dir) = app.state.config.storage.clone() else {
        panic!("local storage expected");
    };
    let key = objects(&app, &tenant).await.remove(0);
    let legacy = dir.join(&tenant).join(&id);
    std::fs::create_dir_all(legacy.parent().expect("parent")).expect("mkdir");
    std::fs::rename(dir.join(&key), &legacy).expect("move to the old layout");
    let op = app.state.db.operator("test: legacy row");
    sqlx::query(
        "UPDATE ticket_attachments SET storage_key = tenant_id || '/' || id, sha256 = NULL \
         WHERE tenant_id = $1 AND id = $2",
    )
    .bind(&tenant)
    .bind(&id)
    .execute(op.writer())
    .await
    .expect("legacy row");
    let path = format!("/api/v1/tickets/{n}/attachments/{id}");
    let r = bob.get(&path).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.bytes().await.expect("body").as_ref(), content.as_slice());

    assert_eq!(
        portico::tickets::legacy_files::migrate(&app.state)
            .await
            .expect("migrate"),
        1
    );
    assert!(!legacy.exists(), "the old file is removed");
    let keys = objects(&app, &tenant).await;
    assert_eq!(keys.len(), 1);
    let (stored_key, sha) = sqlx::query_as::<_, (String, Option<String>)>(
        "SELECT storage_key, sha256 FROM ticket_attachments WHERE tenant_id = $1 AND id = $2",
    )
    .bind(&tenant)
    .bind(&id)
    .fetch_one(op.reader())
    .await
    .expect("row");
    assert_eq!(stored_key, keys[0]);
    assert_eq!(sha, Some(hex::encode(Sha256::digest(&content))));
    let r = bob.get(&path).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.bytes().await.expect("body").as_ref(), content.as_slice());
    assert_eq!(
        portico::tickets::legacy_files::migrate(&app.state)
            .await
            .expect("migrate again"),
        0
    );
}
crate::db_test!(
    storage_legacy_migration,
    legacy_files_are_served_and_migrated
);

// ---------------------------------------------------------------------------------------
// S3 (moto)

/// moto's S3 server on a loopback port with one bucket; killed when dropped.
struct Moto {
    child: std::process::Child,
    endpoint: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const BUCKET: &str = "portico-test";

/// Starts moto, or `None` (with a message) when it is not installed and S3 is not required.
async fn moto() -> Option<Moto> {
    let required = std::env::var("PORTICO_REQUIRE_S3").is_ok_and(|v| v == "1");
    let python = std::env::var("PORTICO_PYTHON").unwrap_or_else(|_| "python3".into());
    let installed = std::process::Command::new(&python)
        .args(["-c", "import moto.server, flask"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !installed {
        assert!(
            !required,
            "PORTICO_REQUIRE_S3=1 but moto is not installed: pip install 'moto[server]'"
        );
        eprintln!("S3 TESTS SKIPPED: pip install 'moto[server]' to run them");
        return None;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let child = std::process::Command::new(&python)
        .args([
            "-m",
            "moto.server",
            "-H",
            "127.0.0.1",
            "-p",
            &port.to_string(),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start moto");
    let moto = Moto {
        child,
        endpoint: format!("http://127.0.0.1:{port}"),
    };
    let client = reqwest::Client::new();
    for _ in 0..150 {
        if let Ok(r) = client
            .put(format!("{}/{BUCKET}", moto.endpoint))
            .send()
            .await
            && r.status().is_success()
        {
            return Some(moto);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("moto did not start on {}", moto.endpoint);
}

fn s3_config(m: &Moto) -> StorageConfig {
    StorageConfig::S3(S3Config {
        bucket: BUCKET.into(),
        endpoint: Some(m.endpoint.clone()),
        region: "us-east-1".into(),
        access_key_id: Some("testing".into()),
        secret_access_key: Some("testing".into()),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_round_trip() {
    let Some(m) = moto().await else { return };
    let storage = s3_config(&m);
    let app = TestApp::spawn_with(Db::Sqlite, |c| c.storage = storage)
        .await
        .expect("app");
    round_trip(app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_oversized_upload_is_refused_while_streaming() {
    let Some(m) = moto().await else { return };
    let storage = s3_config(&m);
    // Past one 5 MiB part, so a part is uploaded before the abort.
    let app = TestApp::spawn_with(Db::Sqlite, |c| {
        c.storage = storage;
        c.max_upload_bytes = 6 * 1024 * 1024;
    })
    .await
    .expect("app");
    oversized_upload_leaves_nothing(app).await;
    // No unfinished multipart upload is left in the bucket either.
    let listing = reqwest::get(format!("{}/{BUCKET}?uploads", m.endpoint))
        .await
        .expect("list uploads")
        .text()
        .await
        .expect("listing");
    assert!(!listing.contains("<Upload>"), "{listing}");
}

/// Staff who manage the tenant's settings see its storage use against the allowance on the
/// admin dashboard; a technician does not.
async fn dashboard_shows_storage_use(app: TestApp) {
    let (staff, _) = app
        .form_login("acme", "staff@acme.example", "portico-demo", true)
        .await;
    let html = staff
        .get(app.url("/admin"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("id=\"storage-usage\""), "{html}");
    assert!(html.contains("MB of this organisation"), "{html}");
    let (tech, _) = app
        .form_login("acme", "tech@acme.example", "portico-demo", true)
        .await;
    let html = tech
        .get(app.url("/admin"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!html.contains("storage-usage"));
}
crate::db_test!(storage_dashboard_shows_use, dashboard_shows_storage_use);
