//! Health, metrics, headers, the OpenAPI document and schema agreement.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::Value;

use crate::support::{Db, TestApp};

async fn health_ready_metrics(app: TestApp) {
    let c = app.client();
    let r = c.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = c.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.text().await.unwrap(), "ready");
    let r = c.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body = r.text().await.unwrap();
    assert!(body.contains("portico_http_requests_total"), "{body}");
}
crate::db_test!(health_ready_metrics_work, health_ready_metrics);

async fn every_response_type_carries_security_headers(app: TestApp) {
    let c = app.client();
    for path in [
        "/login?tenant=acme",               // HTML
        "/api/portal/branding?tenant=acme", // JSON
        "/branding/acme/theme.css",         // CSS
        "/assets/portico.js",               // script
        "/no/such/page",                    // HTML error
        "/api/v1/me",                       // JSON error
    ] {
        let r = c.get(app.url(path)).send().await.unwrap();
        let h = r.headers();
        let csp = h
            .get("content-security-policy")
            .unwrap_or_else(|| panic!("no CSP on {path}"))
            .to_str()
            .unwrap();
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{path}: {csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"), "{path}");
        assert_eq!(
            h.get("x-content-type-options").unwrap(),
            "nosniff",
            "{path}"
        );
        assert!(h.get("referrer-policy").is_some(), "{path}");
        assert!(h.get("x-request-id").is_some(), "{path}");
    }
}
crate::db_test!(
    security_headers_everywhere,
    every_response_type_carries_security_headers
);

#[tokio::test]
async fn openapi_document_matches_the_router() {
    let app = TestApp::spawn(Db::Sqlite).await.unwrap();
    let doc: Value = app
        .client()
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        doc["openapi"].as_str().map(|v| v.starts_with("3.")),
        Some(true)
    );
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().unwrap().keys() {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                documented.insert((path.clone(), method.clone()));
            }
        }
    }
    let served = portico::app::documented_routes();
    let missing: Vec<_> = served.difference(&documented).collect();
    let stale: Vec<_> = documented.difference(&served).collect();
    assert!(
        missing.is_empty(),
        "routes missing from the OpenAPI document: {missing:?}"
    );
    assert!(
        stale.is_empty(),
        "OpenAPI document lists routes the server does not have: {stale:?}"
    );
}

#[tokio::test]
async fn sqlite_and_postgres_schemas_agree() {
    let sqlite = TestApp::spawn(Db::Sqlite).await.unwrap();
    let Some(pg) = TestApp::spawn(Db::Postgres).await else {
        return;
    };
    let a = sqlite.state.db.schema_columns().await.unwrap();
    let b = pg.state.db.schema_columns().await.unwrap();
    assert!(a.len() > 40, "suspiciously few columns: {a:?}");
    assert_eq!(
        a, b,
        "the SQLite and PostgreSQL migrations define different tables or columns"
    );
}

async fn demo_seed_is_idempotent(app: TestApp) {
    use sqlx::Row;
    let count = |sql: &'static str| {
        let db = app.state.db.clone();
        async move {
            sqlx::query(sql)
                .fetch_one(db.operator("test").reader())
                .await
                .unwrap()
                .get::<i64, _>(0)
        }
    };
    let before = (
        count("SELECT COUNT(*) FROM users").await,
        count("SELECT COUNT(*) FROM companies").await,
        count("SELECT COUNT(*) FROM tenants").await,
    );
    portico::demo::seed(&app.state.db).await.unwrap();
    let after = (
        count("SELECT COUNT(*) FROM users").await,
        count("SELECT COUNT(*) FROM companies").await,
        count("SELECT COUNT(*) FROM tenants").await,
    );
    assert_eq!(before, after);
    assert_eq!(before.2, 3, "acme, northwind and grace");
}
crate::db_test!(demo_is_idempotent, demo_seed_is_idempotent);

async fn scale_seed_is_deterministic_and_usable(app: TestApp) {
    let s = portico::seed::seed_scale(&app.state.db, 0.05)
        .await
        .expect("seed");
    assert_eq!(
        (s.tenants, s.companies, s.users, s.tickets),
        (1, 20, 200, 5000)
    );
    assert!(s.comments > 20_000, "{} comments", s.comments);
    assert!(
        portico::seed::seed_scale(&app.state.db, 0.05)
            .await
            .is_err(),
        "second seed must refuse"
    );
    let admin = app.api_login("bench-01", &s.sample_admin, "portal").await;
    assert_eq!(admin.me["role"], "client_admin");
    let staff = app.api_login("bench-01", &s.sample_staff, "admin").await;
    let users: serde_json::Value = staff
        .client
        .get(app.url("/api/v1/admin/users?limit=200"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(users["items"].as_array().unwrap().len(), 200);
    assert!(users["next_cursor"].is_string());
    let user = app.api_login("bench-01", &s.sample_user, "portal").await;
    let t: serde_json::Value = user
        .client
        .get(app.url("/api/v1/tickets/1001"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        t["comments"].as_array().map(|c| c.len()),
        Some(20),
        "the detail scenario's ticket"
    );
    let page: serde_json::Value = user
        .client
        .get(app.url("/api/v1/tickets?status=all&limit=25"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 25);
}
crate::db_test!(scale_seed, scale_seed_is_deterministic_and_usable);
