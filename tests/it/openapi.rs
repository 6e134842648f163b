//! The generated OpenAPI document against the running app: every JSON route answers what its
//! schema says, the reference page loads its parts from this server, and no route serves a verb
//! the document does not list.

use std::collections::BTreeSet;

use reqwest::multipart::{Form, Part};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{Session, TestApp};

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n";

async fn document(app: &TestApp) -> Value {
    app.client()
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The documented JSON success response of `(path, method)`: its status and schema.
fn json_response(doc: &Value, path: &str, method: &str) -> Option<(u16, Value)> {
    let responses = doc["paths"][path][method]["responses"].as_object()?;
    responses.iter().find_map(|(status, r)| {
        let status: u16 = status.parse().ok()?;
        let schema = r["content"]["application/json"].get("schema")?;
        (200..300)
            .contains(&status)
            .then(|| (status, schema.clone()))
    })
}

/// Validates `body` against `schema`, resolving `#/components/...` in the document.
fn check(doc: &Value, label: &str, schema: &Value, body: &Value) {
    let root = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "allOf": [schema],
        "components": doc["components"],
    });
    let validator = jsonschema::validator_for(&root)
        .unwrap_or_else(|e| panic!("{label}: the schema does not compile: {e}"));
    let errors: Vec<String> = validator
        .iter_errors(body)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{label}: the answer does not match its schema: {errors:#?}\n{body:#}"
    );
}

struct Call<'a> {
    method: Method,
    /// Documented path (with `{param}`s).
    route: &'static str,
    /// Actual URL path.
    url: String,
    session: Option<&'a Session>,
    body: Option<Value>,
    multipart: bool,
}

fn call<'a>(
    method: Method,
    route: &'static str,
    url: impl Into<String>,
    session: Option<&'a Session>,
    body: Option<Value>,
) -> Call<'a> {
    Call {
        method,
        route,
        url: url.into(),
        session,
        body,
        multipart: false,
    }
}

async fn send(app: &TestApp, c: &Call<'_>) -> (StatusCode, Value) {
    let client = c
        .session
        .map(|s| s.client.clone())
        .unwrap_or_else(|| app.client());
    let mut req = client.request(c.method.clone(), app.url(&c.url));
    if let Some(s) = c.session {
        req = req.header("x-csrf-token", &s.csrf);
    }
    if let Some(b) = &c.body {
        req = req.json(b);
    }
    if c.multipart {
        req =
            req.multipart(Form::new().part("attachments", Part::bytes(PDF).file_name("plan.pdf")));
    }
    let r = req.send().await.unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    let body = serde_json::from_str(&text)
        .unwrap_or_else(|_| panic!("{} {}: not JSON ({status}): {text}", c.method, c.url));
    (status, body)
}

async fn every_json_route_answers_its_schema(app: TestApp) {
    let doc = document(&app).await;
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let alice = app
        .api_login("acme", "alice@globex.example", "portal")
        .await;
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    let globex = app.company_id("acme", "Globex").await;
    let bob_id = app.user_id("acme", "bob@globex.example").await;
    let mut checked = BTreeSet::new();
    let mut run = async |c: Call<'_>| -> Value {
        let (want, schema) = json_response(&doc, c.route, &c.method.as_str().to_lowercase())
            .unwrap_or_else(|| panic!("{} {} has no JSON answer documented", c.method, c.route));
        let (status, body) = send(&app, &c).await;
        assert_eq!(status.as_u16(), want, "{} {}: {body}", c.method, c.url);
        check(&doc, &format!("{} {}", c.method, c.route), &schema, &body);
        checked.insert((c.route.to_string(), c.method.as_str().to_lowercase()));
        body
    };
    use Method as M;

    // Public and session endpoints.
    run(call(
        M::GET,
        "/api/openapi.json",
        "/api/openapi.json",
        None,
        None,
    ))
    .await;
    run(call(
        M::GET,
        "/api/portal/branding",
        "/api/portal/branding?tenant=acme",
        None,
        None,
    ))
    .await;
    run(call(
        M::POST,
        "/api/v1/auth/login",
        "/api/v1/auth/login?tenant=acme",
        None,
        Some(
            json!({"email": "tech@acme.example", "password": "portico-demo", "audience": "admin"}),
        ),
    ))
    .await;
    run(call(M::GET, "/api/v1/me", "/api/v1/me", Some(&bob), None)).await;
    run(call(
        M::GET,
        "/api/v1/admin/me",
        "/api/v1/admin/me",
        Some(&staff),
        None,
    ))
    .await;

    // Branding.
    let branding = run(call(
        M::GET,
        "/api/v1/admin/branding",
        "/api/v1/admin/branding",
        Some(&staff),
        None,
    ))
    .await;
    run(call(
        M::PUT,
        "/api/v1/admin/branding",
        "/api/v1/admin/branding",
        Some(&staff),
        Some(branding),
    ))
    .await;

    // Companies.
    run(call(
        M::GET,
        "/api/v1/admin/companies",
        "/api/v1/admin/companies",
        Some(&staff),
        None,
    ))
    .await;
    let company = run(call(
        M::POST,
        "/api/v1/admin/companies",
        "/api/v1/admin/companies",
        Some(&staff),
        Some(json!({"name": "Schema Works"})),
    ))
    .await;
    let company_url = format!(
        "/api/v1/admin/companies/{}",
        company["id"].as_str().unwrap()
    );
    run(call(
        M::GET,
        "/api/v1/admin/companies/{id}",
        &company_url,
        Some(&staff),
        None,
    ))
    .await;
    run(call(
        M::PATCH,
        "/api/v1/admin/companies/{id}",
        &company_url,
        Some(&staff),
        Some(json!({"name": "Schema Works Ltd"})),
    ))
    .await;

    // Users.
    run(call(
        M::GET,
        "/api/v1/admin/users",
        "/api/v1/admin/users",
        Some(&staff),
        None,
    ))
    .await;
    let invited = run(call(
        M::POST,
        "/api/v1/admin/users",
        "/api/v1/admin/users",
        Some(&staff),
        Some(json!({"email": "nina@globex.example", "name": "Nina", "role": "client_user", "company_id": globex})),
    ))
    .await;
    let user_url = format!("/api/v1/admin/users/{}", invited["id"].as_str().unwrap());
    run(call(
        M::GET,
        "/api/v1/admin/users/{id}",
        &user_url,
        Some(&staff),
        None,
    ))
    .await;
    run(call(
        M::PATCH,
        "/api/v1/admin/users/{id}",
        &user_url,
        Some(&staff),
        Some(json!({"role": "client_viewer"})),
    ))
    .await;

    // Team (client admin).
    run(call(
        M::GET,
        "/api/v1/team",
        "/api/v1/team",
        Some(&alice),
        None,
    ))
    .await;
    let member = run(call(
        M::POST,
        "/api/v1/team",
        "/api/v1/team",
        Some(&alice),
        Some(json!({"email": "otto@globex.example", "name": "Otto", "role": "client_user"})),
    ))
    .await;
    let member_id = member["id"].as_str().unwrap().to_string();
    run(call(
        M::PATCH,
        "/api/v1/team/{id}",
        format!("/api/v1/team/{member_id}"),
        Some(&alice),
        Some(json!({"role": "client_viewer"})),
    ))
    .await;
    run(call(
        M::POST,
        "/api/v1/team/{id}/resend",
        format!("/api/v1/team/{member_id}/resend"),
        Some(&alice),
        None,
    ))
    .await;

    // Audit.
    run(call(
        M::GET,
        "/api/v1/audit",
        "/api/v1/audit",
        Some(&alice),
        None,
    ))
    .await;
    run(call(
        M::GET,
        "/api/v1/admin/audit",
        "/api/v1/admin/audit",
        Some(&staff),
        None,
    ))
    .await;

    // Jobs: the invitations above queued mail; one is made to have failed, then retried.
    let jobs = run(call(
        M::GET,
        "/api/v1/admin/jobs",
        "/api/v1/admin/jobs",
        Some(&staff),
        None,
    ))
    .await;
    let job = jobs["items"][0]["id"].as_str().expect("a job").to_string();
    sqlx::query("UPDATE jobs SET status = 'failed' WHERE id = $1")
        .bind(&job)
        .execute(app.state.db.operator("test").reader())
        .await
        .unwrap();
    run(call(
        M::POST,
        "/api/v1/admin/jobs/{id}/retry",
        format!("/api/v1/admin/jobs/{job}/retry"),
        Some(&staff),
        None,
    ))
    .await;

    // Tickets (client user).
    run(call(
        M::GET,
        "/api/v1/tickets",
        "/api/v1/tickets?status=all",
        Some(&bob),
        None,
    ))
    .await;
    let ticket = run(call(
        M::POST,
        "/api/v1/tickets",
        "/api/v1/tickets",
        Some(&bob),
        Some(json!({"subject": "Schema check", "description": "Printer **jammed**.", "priority": "high", "category": "General"})),
    ))
    .await;
    let n = ticket["number"].as_i64().unwrap();
    run(call(
        M::GET,
        "/api/v1/tickets/unseen",
        "/api/v1/tickets/unseen",
        Some(&bob),
        None,
    ))
    .await;
    run(call(
        M::GET,
        "/api/v1/tickets/{number}",
        format!("/api/v1/tickets/{n}"),
        Some(&bob),
        None,
    ))
    .await;
    run(call(
        M::POST,
        "/api/v1/tickets/{number}/comments",
        format!("/api/v1/tickets/{n}/comments"),
        Some(&bob),
        Some(json!({"body": "Still jammed."})),
    ))
    .await;
    let mut upload = call(
        M::POST,
        "/api/v1/tickets/{number}/attachments",
        format!("/api/v1/tickets/{n}/attachments"),
        Some(&bob),
        None,
    );
    upload.multipart = true;
    run(upload).await;
    run(call(
        M::POST,
        "/api/v1/tickets/{number}/close",
        format!("/api/v1/tickets/{n}/close"),
        Some(&bob),
        Some(json!({})),
    ))
    .await;
    run(call(
        M::POST,
        "/api/v1/tickets/{number}/reopen",
        format!("/api/v1/tickets/{n}/reopen"),
        Some(&bob),
        Some(json!({"reason": "It jammed again."})),
    ))
    .await;

    // The staff queue.
    run(call(
        M::GET,
        "/api/v1/admin/tickets",
        "/api/v1/admin/tickets",
        Some(&staff),
        None,
    ))
    .await;
    let raised = run(call(
        M::POST,
        "/api/v1/admin/tickets",
        "/api/v1/admin/tickets",
        Some(&staff),
        Some(json!({"requester_id": bob_id, "subject": "Phoned in", "description": "Call notes.", "priority": "low", "category": "General"})),
    ))
    .await;
    let m = raised["number"].as_i64().unwrap();
    run(call(
        M::GET,
        "/api/v1/admin/tickets/{number}",
        format!("/api/v1/admin/tickets/{n}"),
        Some(&staff),
        None,
    ))
    .await;
    run(call(
        M::PATCH,
        "/api/v1/admin/tickets/{number}",
        format!("/api/v1/admin/tickets/{m}"),
        Some(&staff),
        Some(json!({"priority": "urgent"})),
    ))
    .await;
    run(call(
        M::POST,
        "/api/v1/admin/tickets/{number}/comments",
        format!("/api/v1/admin/tickets/{m}/comments"),
        Some(&staff),
        Some(json!({"body": "Looking into it.", "internal": true})),
    ))
    .await;

    // Documents: a policy for Bob, signed step by step, then another reminded and cancelled.
    let policy = run(call(
        M::POST,
        "/api/v1/admin/documents/policies",
        "/api/v1/admin/documents/policies",
        Some(&staff),
        Some(json!({"title": "Schema policy", "body": "Read **this**.", "version": "1", "user_ids": [bob_id], "due": "2031-01-01", "reminders": "1"})),
    ))
    .await;
    let pid = policy["policy"]["id"].as_str().unwrap().to_string();
    let sid = policy["signatures"][0]["id"].as_str().unwrap().to_string();
    let hash = policy["policy"]["content_hash"]
        .as_str()
        .unwrap()
        .to_string();
    for (m, tpl, path) in [
        (
            M::GET,
            "/api/v1/admin/documents/policies",
            "/api/v1/admin/documents/policies".to_string(),
        ),
        (
            M::GET,
            "/api/v1/admin/documents/policies/{id}",
            format!("/api/v1/admin/documents/policies/{pid}"),
        ),
    ] {
        run(call(m, tpl, path, Some(&staff), None)).await;
    }
    run(call(
        M::GET,
        "/api/v1/signatures",
        "/api/v1/signatures".to_string(),
        Some(&bob),
        None,
    ))
    .await;
    run(call(
        M::GET,
        "/api/v1/signatures/{id}",
        format!("/api/v1/signatures/{sid}"),
        Some(&bob),
        None,
    ))
    .await;
    run(call(
        M::POST,
        "/api/v1/signatures/{id}/read",
        format!("/api/v1/signatures/{sid}/read"),
        Some(&bob),
        Some(json!({"content_hash": hash})),
    ))
    .await;
    run(call(
        M::POST,
        "/api/v1/signatures/{id}/acknowledge",
        format!("/api/v1/signatures/{sid}/acknowledge"),
        Some(&bob),
        Some(json!({"understood": true, "consent": true})),
    ))
    .await;
    run(call(
        M::POST,
        "/api/v1/signatures/{id}/confirm",
        format!("/api/v1/signatures/{sid}/confirm"),
        Some(&bob),
        Some(json!({"full_name": "Bob User"})),
    ))
    .await;
    run(call(
        M::POST,
        "/api/v1/admin/documents/policies/{id}/remind",
        format!("/api/v1/admin/documents/policies/{pid}/remind"),
        Some(&staff),
        Some(json!({})),
    ))
    .await;
    run(call(
        M::POST,
        "/api/v1/admin/documents/policies/{id}/cancel",
        format!("/api/v1/admin/documents/policies/{pid}/cancel"),
        Some(&staff),
        Some(json!({})),
    ))
    .await;

    // Every route the document gives a JSON answer was called above: a new one needs a sample.
    let json_routes: BTreeSet<(String, String)> = portico::app::documented_routes()
        .into_iter()
        .filter(|(p, m)| json_response(&doc, p, m).is_some())
        .collect();
    let missing: Vec<_> = json_routes.difference(&checked).collect();
    assert!(
        missing.is_empty(),
        "JSON routes without a sample call here: {missing:?}"
    );
}
crate::db_test!(
    json_answers_match_the_document,
    every_json_route_answers_its_schema
);

#[tokio::test]
async fn the_document_is_generated_and_complete() {
    let app = TestApp::spawn(crate::support::Db::Sqlite).await.unwrap();
    let doc = document(&app).await;
    assert_eq!(doc["openapi"], "3.1.0");
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["portalSession"]["in"], "cookie");
    assert_eq!(schemes["portalSession"]["name"], "portico_portal");
    assert_eq!(schemes["adminSession"]["name"], "portico_admin");
    assert_eq!(schemes["csrfToken"]["in"], "header");
    assert_eq!(schemes["csrfToken"]["name"], "X-CSRF-Token");
    // The error shape is a real schema.
    let error = &doc["components"]["schemas"]["ErrorBody"];
    assert_eq!(error["required"], json!(["error"]), "{error}");
    let detail = &doc["components"]["schemas"]["ErrorDetail"];
    assert!(
        detail["required"]
            .as_array()
            .unwrap()
            .contains(&json!("code"))
            && detail["required"]
                .as_array()
                .unwrap()
                .contains(&json!("message")),
        "{detail}"
    );
    for (path, method) in portico::app::documented_routes() {
        let op = &doc["paths"][&path][&method];
        assert!(
            op["summary"].as_str().is_some_and(|s| !s.is_empty()),
            "{method} {path} has no summary"
        );
        let security = op["security"].as_array().expect("security listed");
        let unsafe_method = method != "get";
        if path.starts_with("/api/v1/admin/") && path != "/api/v1/admin/auth/logout" {
            assert!(
                security.iter().all(|r| r.get("adminSession").is_some()),
                "{method} {path}: {security:?}"
            );
        }
        if !security.is_empty() && unsafe_method {
            assert!(
                security.iter().all(|r| r.get("csrfToken").is_some()),
                "{method} {path} must ask for X-CSRF-Token: {security:?}"
            );
        }
        if path.starts_with("/api/v1/")
            && !path.starts_with("/api/v1/auth/")
            && path != "/api/v1/admin/auth/logout"
        {
            assert!(!security.is_empty(), "{method} {path} needs a session");
        }
    }
    for public in [
        "/healthz",
        "/readyz",
        "/metrics",
        "/api/portal/branding",
        "/api/openapi.json",
    ] {
        assert_eq!(
            doc["paths"][public]["get"]["security"],
            json!([]),
            "{public}"
        );
    }
}

/// A verb a route answers but the document does not list would escape the isolation matrix
/// and the CSRF sweep; the router refuses every verb the document leaves out.
#[tokio::test]
async fn no_route_serves_an_undocumented_verb() {
    let app = TestApp::spawn(crate::support::Db::Sqlite).await.unwrap();
    let documented = portico::app::documented_routes();
    let paths: BTreeSet<&String> = documented.iter().map(|(p, _)| p).collect();
    for path in paths {
        let url = path.replace("{id}", "x").replace("{number}", "1");
        for method in ["get", "post", "put", "patch", "delete"] {
            if documented.contains(&(path.clone(), method.to_string())) {
                continue;
            }
            let r = app
                .client()
                .request(
                    Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(),
                    app.url(&url),
                )
                .send()
                .await
                .unwrap();
            assert_eq!(
                r.status(),
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path} is served but not documented"
            );
        }
    }
}

#[tokio::test]
async fn the_reference_page_loads_its_parts_from_here() {
    let app = TestApp::spawn(crate::support::Db::Sqlite).await.unwrap();
    let c = app.client();
    let r = c.get(app.url("/api/docs")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"));
    let html = r.text().await.unwrap();
    // No inline script and nothing from another origin.
    assert!(
        !html.contains("<script>") && !html.contains("http://") && !html.contains("https://"),
        "{html}"
    );
    for asset in [
        "/api/docs/swagger-ui-bundle.js",
        "/api/docs/swagger-ui.css",
        "/api/docs/docs.js",
        "/api/docs/docs.css",
    ] {
        assert!(html.contains(asset), "{asset} not referenced");
        let r = c.get(app.url(asset)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{asset}");
        assert!(r.bytes().await.unwrap().len() > 50, "{asset} is empty");
    }
    let init = c
        .get(app.url("/api/docs/docs.js"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(init.contains("\"/api/openapi.json\""), "{init}");
}
