//! The Legal integration: keys made on the staff page (hashed, shown once, rotated, revoked),
//! pushes with them (idempotent, also concurrently; new versions supersede), signed callbacks
//! to a loopback receiver with retries, tenant isolation and throttled failed keys.

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode as AxStatus};
use axum::routing::post;
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::support::{Session, TestApp};

/// A callback receiver on loopback: records every POST; answers 500 to the first `fail` ones.
#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<(String, String)>>>,
    fail: Arc<Mutex<usize>>,
}

async fn receive(State(r): State<Receiver>, h: HeaderMap, body: String) -> AxStatus {
    let sig = h
        .get("x-portico-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    if let Ok(mut g) = r.got.lock() {
        g.push((sig, body));
    }
    let mut f = match r.fail.lock() {
        Ok(f) => f,
        Err(_) => return AxStatus::INTERNAL_SERVER_ERROR,
    };
    if *f > 0 {
        *f -= 1;
        AxStatus::INTERNAL_SERVER_ERROR
    } else {
        AxStatus::NO_CONTENT
    }
}

async fn start_receiver(fail: usize) -> (Receiver, String) {
    let r = Receiver::default();
    *r.fail.lock().unwrap() = fail;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new()
        .route("/hook", post(receive))
        .with_state(r.clone());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (r, format!("http://{addr}/hook"))
}

/// The value of the first readonly input whose value starts with `prefix`.
fn value_starting(html: &str, prefix: &str) -> String {
    let at = html
        .find(&format!("value=\"{prefix}"))
        .unwrap_or_else(|| panic!("no {prefix} value in page"));
    html[at + 7..].split('"').next().unwrap().to_string()
}

fn text_starting(html: &str, prefix: &str) -> String {
    let at = html
        .find(prefix)
        .unwrap_or_else(|| panic!("no {prefix} in page"));
    html[at..]
        .split(|c: char| c == '<' || c.is_whitespace())
        .next()
        .unwrap()
        .to_string()
}

async fn new_key(staff: &Session, name: &str) -> String {
    let r = staff
        .post_form("/admin/integrations/legal", &[("name", name)])
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    value_starting(&html, "plk_")
}

async fn push(app: &TestApp, key: Option<&str>, path: &str, body: &Value) -> (StatusCode, Value) {
    let mut req = app.client().post(app.url(path)).json(body);
    if let Some(k) = key {
        req = req.bearer_auth(k);
    }
    let r = req.send().await.unwrap();
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

const PUSH: &str = "/api/v1/integrations/legal/policies";

fn policy(ext: &str, version: &str, signers: Value, callback: Option<&str>) -> Value {
    let mut v = json!({
        "external_id": ext,
        "version": version,
        "title": format!("Code of conduct {version}"),
        "body": "## Conduct\n\nBe kind.",
        "signers": signers,
        "due": "2030-06-30",
    });
    if let Some(c) = callback {
        v["callback_url"] = json!(c);
    }
    v
}

async fn sign(s: &Session, id: &str) {
    let (_, d) = (
        (),
        s.get(&format!("/api/v1/signatures/{id}"))
            .await
            .json::<Value>()
            .await
            .unwrap(),
    );
    let hash = d["content_hash"].as_str().unwrap().to_string();
    for (step, body) in [
        ("read", json!({ "content_hash": hash })),
        (
            "acknowledge",
            json!({ "understood": true, "consent": true }),
        ),
        ("confirm", json!({ "full_name": d["user_name"] })),
    ] {
        let r = s
            .post_json(&format!("/api/v1/signatures/{id}/{step}"), &body)
            .await;
        assert_eq!(r.status(), StatusCode::OK, "{step}");
    }
}

fn check_signature(secret: &str, header: &str, body: &str) -> bool {
    let Some((t, v1)) = header.strip_prefix("t=").and_then(|r| r.split_once(",v1=")) else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    hex::encode(mac.finalize().into_bytes()) == v1
}

async fn release_retries(app: &TestApp) {
    sqlx::query(
        "UPDATE jobs SET run_at = 0 WHERE kind = 'documents.legal_callback' AND status = 'queued'",
    )
    .execute(app.state.db.operator("test").writer())
    .await
    .unwrap();
}

async fn push_sign_and_callback(app: TestApp) {
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    let key = new_key(&staff, "Contracts system").await;
    // Only a fingerprint is stored; the page shows the secret once, then only its start.
    let stored: i64 = {
        use sqlx::Row;
        sqlx::query("SELECT COUNT(*) FROM doc_legal_keys WHERE key_hash = $1")
            .bind(&key)
            .fetch_one(app.state.db.operator("test").reader())
            .await
            .unwrap()
            .get(0)
    };
    assert_eq!(stored, 0);
    let html = staff
        .get("/admin/integrations/legal")
        .await
        .text()
        .await
        .unwrap();
    assert!(!html.contains(&key) && html.contains(&key[..10]));
    let cb_secret = text_starting(&html, "whsec_");
    // Clients have no way in.
    assert_ne!(
        bob.get("/admin/integrations/legal").await.status(),
        StatusCode::OK
    );

    let (receiver, hook) = start_receiver(1).await;
    let body = policy(
        "LGL-1",
        "1",
        json!([{ "email": "BOB@globex.example" }, { "company": "Initech" }]),
        Some(&hook),
    );
    let (s, _) = push(&app, None, PUSH, &body).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = push(&app, Some("plk_nope"), PUSH, &body).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, first) = push(&app, Some(&key), PUSH, &body).await;
    assert_eq!(s, StatusCode::OK, "{first}");
    let emails: Vec<&str> = first["signers"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["email"].as_str())
        .collect();
    // Cora's home is Initech: she signs what Initech signs (and sees it only while in Initech).
    assert_eq!(
        emails,
        [
            "bob@globex.example",
            "cora@consulting.example",
            "ian@initech.example"
        ]
    );
    // Again: the same answer, nothing new.
    let (s, again) = push(&app, Some(&key), PUSH, &body).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(again, first);

    // A new version supersedes the first for its pending signers.
    let (s, v2) = push(
        &app,
        Some(&key),
        PUSH,
        &policy(
            "LGL-1",
            "2",
            json!([{ "email": "bob@globex.example" }]),
            Some(&hook),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v2}");
    assert_eq!(v2["supersedes_id"], first["policy_id"]);
    let old_req = first["signers"][0]["signature_id"].as_str().unwrap();
    let d: Value = bob
        .get(&format!("/api/v1/signatures/{old_req}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(d["state"], "superseded");

    // Bob signs version 2: the callback is signed and retried until the receiver takes it.
    let new_req = v2["signers"][0]["signature_id"]
        .as_str()
        .unwrap()
        .to_string();
    sign(&bob, &new_req).await;
    app.drain_jobs().await;
    assert_eq!(receiver.got.lock().unwrap().len(), 1);
    release_retries(&app).await;
    app.drain_jobs().await;
    let got = receiver.got.lock().unwrap().clone();
    assert_eq!(got.len(), 2, "{got:?}");
    for (sig, body) in &got {
        assert!(check_signature(&cb_secret, sig, body), "{sig} {body}");
        assert!(!check_signature("whsec_other", sig, body));
        let v: Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["event"], "signature.completed");
        assert_eq!(v["external_id"], "LGL-1");
        assert_eq!(v["version"], "2");
        assert_eq!(v["signer"]["email"], "bob@globex.example");
        assert_eq!(v["signature_id"], new_req.as_str());
    }
    let done: i64 = {
        use sqlx::Row;
        sqlx::query(
            "SELECT COUNT(*) FROM jobs WHERE kind = 'documents.legal_callback' AND status = 'done'",
        )
        .fetch_one(app.state.db.operator("test").reader())
        .await
        .unwrap()
        .get(0)
    };
    assert_eq!(done, 1);
    let actions = app.audit_actions("acme").await;
    assert!(actions.iter().any(|a| a == "document.legal_key_created"));
    assert!(actions.iter().any(|a| a == "document.policy_versioned"));
}
crate::db_test!(legal_push_and_callback, push_sign_and_callback);

async fn concurrent_pushes_make_one_policy(app: TestApp) {
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let key = new_key(&staff, "Contracts").await;
    let body = policy("LGL-C", "7", json!([{ "company": "Globex" }]), None);
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let (client, url, key, body) = (app.client(), app.url(PUSH), key.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            let r = client
                .post(url)
                .bearer_auth(key)
                .json(&body)
                .send()
                .await
                .unwrap();
            (r.status(), r.json::<Value>().await.unwrap_or(Value::Null))
        }));
    }
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    for (s, v) in &answers {
        assert_eq!(*s, StatusCode::OK, "{v}");
        assert_eq!(v, &answers[0].1);
    }
    use sqlx::Row;
    let n: i64 = sqlx::query("SELECT COUNT(*) FROM doc_policies WHERE external_id = 'LGL-C'")
        .fetch_one(app.state.db.operator("test").reader())
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 1);
    let reqs: i64 = sqlx::query(
        "SELECT COUNT(*) FROM doc_signatures s JOIN doc_policies p ON p.id = s.policy_id WHERE p.external_id = 'LGL-C'",
    )
    .fetch_one(app.state.db.operator("test").reader())
    .await
    .unwrap()
    .get(0);
    // Alice, Bob, Vera, and Cora (a Globex member besides her Initech home).
    assert_eq!(reqs, 4, "one request per Globex member");
}
crate::db_test!(legal_concurrent, concurrent_pushes_make_one_policy);

async fn keys_isolation_rotation_and_throttle(app: TestApp) {
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let nora = app
        .api_login("northwind", "nora@northwind.example", "admin")
        .await;
    let key = new_key(&staff, "Contracts").await;
    let nkey = new_key(&nora, "Northwind contracts").await;
    // Another tenant's users are not reachable with this tenant's key, nor is its address.
    let (s, v) = push(
        &app,
        Some(&key),
        PUSH,
        &policy("X", "1", json!([{ "email": "carl@contoso.example" }]), None),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert!(v.to_string().contains("signers"));
    let (s, _) = push(
        &app,
        Some(&key),
        &format!("{PUSH}?tenant=northwind"),
        &policy("X", "1", json!([{ "email": "carl@contoso.example" }]), None),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, v) = push(
        &app,
        Some(&nkey),
        PUSH,
        &policy("X", "1", json!([{ "email": "carl@contoso.example" }]), None),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    // Northwind's push did not land in Acme: the same external id is new there.
    let (s, a) = push(
        &app,
        Some(&key),
        PUSH,
        &policy("X", "1", json!([{ "email": "bob@globex.example" }]), None),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_ne!(a["policy_id"], v["policy_id"]);
    // Staff of one tenant cannot rotate another's key.
    let html = staff
        .get("/admin/integrations/legal")
        .await
        .text()
        .await
        .unwrap();
    let rotate = {
        let at = html.find("/rotate\"").expect("rotate form");
        let start = html[..at].rfind("action=\"").unwrap() + 8;
        format!("{}/rotate", &html[start..at])
    };
    let r = nora.post_form(&rotate, &[]).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // Rotation: the old secret stops working at once.
    let r = staff.post_form(&rotate, &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let rotated = value_starting(&r.text().await.unwrap(), "plk_");
    assert_ne!(rotated, key);
    let body = policy("Y", "1", json!([{ "email": "bob@globex.example" }]), None);
    assert_eq!(
        push(&app, Some(&key), PUSH, &body).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        push(&app, Some(&rotated), PUSH, &body).await.0,
        StatusCode::OK
    );
    // Revocation.
    let html = staff
        .get("/admin/integrations/legal")
        .await
        .text()
        .await
        .unwrap();
    let at = html.find("/revoke\"").expect("revoke form");
    let start = html[..at].rfind("action=\"").unwrap() + 8;
    let r = staff
        .post_form(&format!("{}/revoke", &html[start..at]), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        push(&app, Some(&rotated), PUSH, &body).await.0,
        StatusCode::UNAUTHORIZED
    );
    let actions = app.audit_actions("acme").await;
    assert!(actions.iter().any(|a| a == "document.legal_key_rotated"));
    assert!(actions.iter().any(|a| a == "document.legal_key_revoked"));
    // Failed keys are throttled per address; by then even a good key waits.
    let mut last = StatusCode::OK;
    for _ in 0..12 {
        last = push(&app, Some("plk_guess"), PUSH, &body).await.0;
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        push(&app, Some(&nkey), PUSH, &body).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
}
crate::db_test!(legal_keys, keys_isolation_rotation_and_throttle);

async fn bad_payloads_are_explained(app: TestApp) {
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let key = new_key(&staff, "Contracts").await;
    let raw = |key: Option<String>, body: &'static str| {
        let mut req = app
            .client()
            .post(app.url(PUSH))
            .header("content-type", "application/json")
            .body(body);
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        async move {
            let r = req.send().await.unwrap();
            let s = r.status();
            (s, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    // Without a key the body is not even read.
    assert_eq!(raw(None, "not json").await.0, StatusCode::UNAUTHORIZED);
    // Not JSON: 400 saying so.
    let (s, v) = raw(Some(key.clone()), "{not json").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let msg = v["error"]["message"].as_str().unwrap_or("");
    assert!(msg.contains("not valid JSON"), "{v}");
    // JSON of the wrong shape: 422 naming the missing field.
    let (s, v) = raw(Some(key.clone()), r#"{"external_id": "A", "version": "1"}"#).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let msg = v["error"]["message"].as_str().unwrap_or("");
    assert!(msg.contains("missing field `title`"), "{v}");
    let (s, v) = raw(
        Some(key.clone()),
        r#"{"external_id": "A", "version": "1", "title": "T", "body": "B", "signers": "bob"}"#,
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("invalid type"),
        "{v}"
    );
    // Invalid values: 400 with a message per field.
    let mut body = policy("B", "1", json!([]), Some("ftp://legal.example/"));
    body["title"] = json!("");
    body["due"] = json!("next week");
    let (s, v) = push(&app, Some(&key), PUSH, &body).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let fields: Vec<&str> = v["error"]["fields"]
        .as_array()
        .map(|a| a.iter().filter_map(|f| f["field"].as_str()).collect())
        .unwrap_or_default();
    assert!(fields.contains(&"callback_url"), "{v}");
    let (s, v) = push(
        &app,
        Some(&key),
        PUSH,
        &policy("B", "1", json!([{ "email": "bob@globex.example" }]), None)
            .as_object()
            .map(|o| {
                let mut o = o.clone();
                o.insert("due".into(), json!("next week"));
                Value::Object(o)
            })
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["error"]["fields"][0]["field"], "due", "{v}");
    let mut empty = policy("B", "1", json!([]), None);
    empty["title"] = json!(" ");
    let (s, v) = push(&app, Some(&key), PUSH, &empty).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let fields = v["error"]["fields"].to_string();
    assert!(
        fields.contains("title") && fields.contains("signers"),
        "{v}"
    );
    // Nothing was created by any of these.
    use sqlx::Row;
    let n: i64 = sqlx::query("SELECT COUNT(*) FROM doc_policies WHERE external_id IN ('A', 'B')")
        .fetch_one(app.state.db.operator("test").reader())
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 0);
}
crate::db_test!(legal_bad_payloads, bad_payloads_are_explained);
