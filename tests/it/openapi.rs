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
    /// An integration key sent as `Authorization: Bearer …`.
    bearer: Option<String>,
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
        bearer: None,
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
    if let Some(k) = &c.bearer {
        req = req.bearer_auth(k);
    }
    if let Some(b) = &c.body {
        req = req.json(b);
    }
    if c.multipart {
        let mut form = Form::new();
        // Sharing a file needs its audience.
        if c.route == "/api/v1/admin/documents/files" {
            form = form.text("audience", "all");
        }
        req = req.multipart(form.part("attachments", Part::bytes(PDF).file_name("plan.pdf")));
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
    let cora = app
        .api_login("acme", "cora@consulting.example", "portal")
        .await;
    let me = run(call(M::GET, "/api/v1/me", "/api/v1/me", Some(&cora), None)).await;
    assert_eq!(me["memberships"].as_array().map(Vec::len), Some(2), "{me}");
    // The switch answers 204 without a body; it is documented all the same.
    assert!(doc["paths"]["/api/v1/me/company"]["post"].is_object());
    let schemas = doc["components"]["schemas"].to_string();
    assert!(
        schemas.contains("\"memberships\""),
        "Me documents its memberships"
    );
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

    // Invoices: staff settings against the loopback fake provider, a draft through its life,
    // then the client side.
    let fake = crate::fake_provider::FakeProvider::start().await;
    run(call(
        M::GET,
        "/api/v1/admin/invoices/settings",
        "/api/v1/admin/invoices/settings",
        Some(&staff),
        None,
    ))
    .await;
    run(call(
        M::PUT,
        "/api/v1/admin/invoices/settings",
        "/api/v1/admin/invoices/settings",
        Some(&staff),
        Some(json!({"currency": "USD", "provider_base_url": fake.base_url(), "provider_secret_key": crate::fake_provider::SECRET_KEY, "webhook_secret": crate::fake_provider::WEBHOOK_SECRET})),
    ))
    .await;
    run(call(
        M::GET,
        "/api/v1/admin/invoices/tax-rates",
        "/api/v1/admin/invoices/tax-rates",
        Some(&staff),
        None,
    ))
    .await;
    let rate = run(call(
        M::POST,
        "/api/v1/admin/invoices/tax-rates",
        "/api/v1/admin/invoices/tax-rates",
        Some(&staff),
        Some(json!({"name": "Schema tax", "percent": "7.5"})),
    ))
    .await;
    run(call(
        M::GET,
        "/api/v1/admin/invoices",
        "/api/v1/admin/invoices?status=overdue",
        Some(&staff),
        None,
    ))
    .await;
    let inv = run(call(
        M::POST,
        "/api/v1/admin/invoices",
        "/api/v1/admin/invoices",
        Some(&staff),
        Some(json!({"company_id": globex, "notes": "Schema"})),
    ))
    .await;
    let inv_id = inv["invoice"]["id"].as_str().unwrap().to_string();
    let inv_url = format!("/api/v1/admin/invoices/{inv_id}");
    run(call(
        M::GET,
        "/api/v1/admin/invoices/{id}",
        &inv_url,
        Some(&staff),
        None,
    ))
    .await;
    run(call(
        M::PATCH,
        "/api/v1/admin/invoices/{id}",
        &inv_url,
        Some(&staff),
        Some(
            json!({"issue_date": "2026-03-01", "due_date": "2026-03-31", "notes": "Schema check"}),
        ),
    ))
    .await;
    let with_line = run(call(
        M::POST,
        "/api/v1/admin/invoices/{id}/lines",
        format!("{inv_url}/lines"),
        Some(&staff),
        Some(json!({"description": "Hours", "quantity": "1.5", "unit_price": "100", "tax_rate_id": rate["id"]})),
    ))
    .await;
    let line = with_line["lines"][0]["id"].as_str().unwrap().to_string();
    run(call(
        M::PATCH,
        "/api/v1/admin/invoices/{id}/lines/{line}",
        format!("{inv_url}/lines/{line}"),
        Some(&staff),
        Some(json!({"description": "Hours", "quantity": "2.25", "unit_price": "100"})),
    ))
    .await;
    run(call(
        M::DELETE,
        "/api/v1/admin/invoices/{id}/lines/{line}",
        format!("{inv_url}/lines/{line}"),
        Some(&staff),
        None,
    ))
    .await;
    run(call(
        M::POST,
        "/api/v1/admin/invoices/{id}/lines",
        format!("{inv_url}/lines"),
        Some(&staff),
        Some(json!({"description": "Backup (TB)", "quantity": "1.25", "unit_price": "80"})),
    ))
    .await;
    run(call(
        M::POST,
        "/api/v1/admin/invoices/{id}/send",
        format!("{inv_url}/send"),
        Some(&staff),
        None,
    ))
    .await;
    run(call(
        M::POST,
        "/api/v1/admin/invoices/{id}/payments",
        format!("{inv_url}/payments"),
        Some(&staff),
        Some(json!({"amount": "10.00", "method": "bank_transfer", "note": "Part"})),
    ))
    .await;
    let spare = run(call(
        M::POST,
        "/api/v1/admin/invoices",
        "/api/v1/admin/invoices",
        Some(&staff),
        Some(json!({"company_id": globex})),
    ))
    .await;
    run(call(
        M::POST,
        "/api/v1/admin/invoices/{id}/void",
        format!(
            "/api/v1/admin/invoices/{}/void",
            spare["invoice"]["id"].as_str().unwrap()
        ),
        Some(&staff),
        Some(json!({"reason": "Not needed"})),
    ))
    .await;
    run(call(
        M::GET,
        "/api/v1/invoices",
        "/api/v1/invoices",
        Some(&alice),
        None,
    ))
    .await;
    run(call(
        M::GET,
        "/api/v1/invoices/payments",
        "/api/v1/invoices/payments",
        Some(&alice),
        None,
    ))
    .await;
    run(call(
        M::GET,
        "/api/v1/invoices/{id}",
        format!("/api/v1/invoices/{inv_id}"),
        Some(&alice),
        None,
    ))
    .await;
    run(call(
        M::POST,
        "/api/v1/invoices/{id}/checkout",
        format!("/api/v1/invoices/{inv_id}/checkout"),
        Some(&alice),
        None,
    ))
    .await;

    // The Mission side (grace): giving, directory, prayer wall and their staff counterparts.
    let pastor = app
        .api_login("grace", "pastor@grace.example", "admin")
        .await;
    let mary = app.api_login("grace", "mary@grace.example", "portal").await;
    for (path, who) in [
        ("/api/v1/mission/giving", &mary),
        ("/api/v1/mission/funds", &mary),
        ("/api/v1/mission/directory", &mary),
        ("/api/v1/mission/directory/me", &mary),
        ("/api/v1/mission/prayer", &mary),
        ("/api/v1/admin/mission/funds", &pastor),
        ("/api/v1/admin/mission/gifts", &pastor),
        ("/api/v1/admin/mission/prayer", &pastor),
    ] {
        run(call(M::GET, path, path, Some(who), None)).await;
    }
    run(call(
        M::PUT,
        "/api/v1/mission/directory/me",
        "/api/v1/mission/directory/me",
        Some(&mary),
        Some(
            json!({"listed": true, "show_photo": false, "show_email": true, "show_phone": false,
                    "show_address": false, "show_birthday": true, "show_household": true,
                    "address": "12 Elm Street", "birthday": "04-12"}),
        ),
    ))
    .await;
    run(call(
        M::POST,
        "/api/v1/admin/mission/funds",
        "/api/v1/admin/mission/funds",
        Some(&pastor),
        Some(json!({"name": "Youth camp"})),
    ))
    .await;
    run(call(
        M::POST,
        "/api/v1/admin/mission/gifts",
        "/api/v1/admin/mission/gifts",
        Some(&pastor),
        Some(json!({"email": "mary@grace.example", "date": "2025-03-01", "fund": "Youth camp", "amount": "20.00", "method": "cash"})),
    ))
    .await;
    run(call(
        M::POST,
        "/api/v1/admin/mission/gifts/import",
        "/api/v1/admin/mission/gifts/import",
        Some(&pastor),
        Some(json!({"csv": "email,date,fund,amount\nmary@grace.example,2025-03-02,Missions,5\n", "dry_run": true})),
    ))
    .await;
    let prayer = run(call(
        M::POST,
        "/api/v1/mission/prayer",
        "/api/v1/mission/prayer",
        Some(&mary),
        Some(json!({"body": "Schema check prayer."})),
    ))
    .await;
    let pid = prayer["id"].as_str().expect("prayer id").to_string();
    for (tail, body) in [
        ("prayed", json!({})),
        ("report", json!({})),
        ("answer", json!({"praise": "Answered."})),
    ] {
        run(call(
            M::POST,
            match tail {
                "prayed" => "/api/v1/mission/prayer/{id}/prayed",
                "report" => "/api/v1/mission/prayer/{id}/report",
                _ => "/api/v1/mission/prayer/{id}/answer",
            },
            format!("/api/v1/mission/prayer/{pid}/{tail}"),
            Some(&mary),
            Some(body),
        ))
        .await;
    }
    run(call(
        M::POST,
        "/api/v1/admin/mission/prayer/moderate",
        "/api/v1/admin/mission/prayer/moderate",
        Some(&pastor),
        Some(json!({"id": pid, "action": "approve"})),
    ))
    .await;
    // Mission events: list, detail, waitlist and cancel, the calendar feed, and staff.
    let events = run(call(
        M::GET,
        "/api/v1/mission/events",
        "/api/v1/mission/events",
        Some(&mary),
        None,
    ))
    .await;
    let eid = events["items"][0]["id"]
        .as_str()
        .expect("event id")
        .to_string();
    run(call(
        M::GET,
        "/api/v1/mission/events/{id}",
        format!("/api/v1/mission/events/{eid}"),
        Some(&mary),
        None,
    ))
    .await;
    run(call(
        M::POST,
        "/api/v1/mission/calendar-feed",
        "/api/v1/mission/calendar-feed",
        Some(&mary),
        Some(json!({})),
    ))
    .await;
    let start = portico::db::now_ms() + 86_400_000;
    let new_event = json!({"title": "Schema supper", "starts_at": start, "ends_at": start + 3_600_000,
        "capacity": 10, "waitlist": true, "questions": [{"label": "Allergies?", "required": false}]});
    let created = run(call(
        M::POST,
        "/api/v1/admin/mission/events",
        "/api/v1/admin/mission/events",
        Some(&pastor),
        Some(new_event.clone()),
    ))
    .await;
    let sid = created["id"].as_str().expect("event id").to_string();
    run(call(
        M::GET,
        "/api/v1/admin/mission/events",
        "/api/v1/admin/mission/events",
        Some(&pastor),
        None,
    ))
    .await;
    run(call(
        M::GET,
        "/api/v1/admin/mission/events/{id}",
        format!("/api/v1/admin/mission/events/{sid}"),
        Some(&pastor),
        None,
    ))
    .await;
    run(call(
        M::PUT,
        "/api/v1/admin/mission/events/{id}",
        format!("/api/v1/admin/mission/events/{sid}"),
        Some(&pastor),
        Some(new_event),
    ))
    .await;
    let reg = run(call(
        M::POST,
        "/api/v1/mission/events/{id}/registration",
        format!("/api/v1/mission/events/{sid}/registration"),
        Some(&mary),
        Some(json!({"guests": ["Sam"], "answers": ["none"]})),
    ))
    .await;
    let rid = reg["id"].as_str().expect("registration id").to_string();
    run(call(
        M::GET,
        "/api/v1/admin/mission/events/{id}/registrations",
        format!("/api/v1/admin/mission/events/{sid}/registrations"),
        Some(&pastor),
        None,
    ))
    .await;
    run(call(
        M::POST,
        "/api/v1/admin/mission/events/{id}/registrations/{rid}/check-in",
        format!("/api/v1/admin/mission/events/{sid}/registrations/{rid}/check-in"),
        Some(&pastor),
        Some(json!({"undo": false})),
    ))
    .await;
    run(call(
        M::DELETE,
        "/api/v1/admin/mission/events/{id}/registrations/{rid}",
        format!("/api/v1/admin/mission/events/{sid}/registrations/{rid}"),
        Some(&pastor),
        None,
    ))
    .await;
    run(call(
        M::POST,
        "/api/v1/mission/events/{id}/registration",
        format!("/api/v1/mission/events/{sid}/registration"),
        Some(&mary),
        Some(json!({"answers": []})),
    ))
    .await;
    run(call(
        M::DELETE,
        "/api/v1/mission/events/{id}/registration",
        format!("/api/v1/mission/events/{sid}/registration"),
        Some(&mary),
        None,
    ))
    .await;
    // Mission groups: browse, join and leave, leaders' decisions and messages, and staff.
    let groups = run(call(
        M::GET,
        "/api/v1/mission/groups",
        "/api/v1/mission/groups",
        Some(&mary),
        None,
    ))
    .await;
    let gid = groups["items"][0]["id"]
        .as_str()
        .expect("group id")
        .to_string();
    run(call(
        M::GET,
        "/api/v1/mission/groups/{id}",
        format!("/api/v1/mission/groups/{gid}"),
        Some(&mary),
        None,
    ))
    .await;
    let gcat = run(call(
        M::POST,
        "/api/v1/admin/mission/group-categories",
        "/api/v1/admin/mission/group-categories",
        Some(&pastor),
        Some(json!({"name": "Schema circle"})),
    ))
    .await;
    let gcat_id = gcat["id"].as_str().expect("category id").to_string();
    run(call(
        M::GET,
        "/api/v1/admin/mission/group-categories",
        "/api/v1/admin/mission/group-categories",
        Some(&pastor),
        None,
    ))
    .await;
    let new_group = json!({"name": "Schema group", "category_id": gcat_id, "meeting_day": "friday",
        "meeting_time": "18:00", "location": "Room 3", "open": false});
    let sg = run(call(
        M::POST,
        "/api/v1/admin/mission/groups",
        "/api/v1/admin/mission/groups",
        Some(&pastor),
        Some(new_group.clone()),
    ))
    .await;
    let sgid = sg["id"].as_str().expect("group id").to_string();
    run(call(
        M::GET,
        "/api/v1/admin/mission/groups",
        "/api/v1/admin/mission/groups",
        Some(&pastor),
        None,
    ))
    .await;
    run(call(
        M::GET,
        "/api/v1/admin/mission/groups/{id}",
        format!("/api/v1/admin/mission/groups/{sgid}"),
        Some(&pastor),
        None,
    ))
    .await;
    run(call(
        M::PUT,
        "/api/v1/admin/mission/groups/{id}",
        format!("/api/v1/admin/mission/groups/{sgid}"),
        Some(&pastor),
        Some(new_group),
    ))
    .await;
    let mary_id = app.user_id("grace", "mary@grace.example").await;
    run(call(
        M::PUT,
        "/api/v1/admin/mission/groups/{id}/leaders/{user_id}",
        format!("/api/v1/admin/mission/groups/{sgid}/leaders/{mary_id}"),
        Some(&pastor),
        Some(json!({"leader": true})),
    ))
    .await;
    run(call(
        M::POST,
        "/api/v1/mission/groups/{id}/messages",
        format!("/api/v1/mission/groups/{sgid}/messages"),
        Some(&mary),
        Some(json!({"body": "Welcome to the schema group."})),
    ))
    .await;
    let mark = app.api_login("grace", "mark@grace.example", "portal").await;
    let mark_id = app.user_id("grace", "mark@grace.example").await;
    run(call(
        M::POST,
        "/api/v1/mission/groups/{id}/membership",
        format!("/api/v1/mission/groups/{sgid}/membership"),
        Some(&mark),
        Some(json!({})),
    ))
    .await;
    run(call(
        M::POST,
        "/api/v1/mission/groups/{id}/requests/{user_id}",
        format!("/api/v1/mission/groups/{sgid}/requests/{mark_id}"),
        Some(&mary),
        Some(json!({"approve": true})),
    ))
    .await;
    run(call(
        M::DELETE,
        "/api/v1/mission/groups/{id}/membership",
        format!("/api/v1/mission/groups/{sgid}/membership"),
        Some(&mark),
        None,
    ))
    .await;
    run(call(
        M::DELETE,
        "/api/v1/admin/mission/group-categories/{id}",
        format!("/api/v1/admin/mission/group-categories/{gcat_id}"),
        Some(&pastor),
        None,
    ))
    .await;
    run(call(
        M::DELETE,
        "/api/v1/admin/mission/groups/{id}",
        format!("/api/v1/admin/mission/groups/{sgid}"),
        Some(&pastor),
        None,
    ))
    .await;

    // Households and year-end statements.
    let hh = run(call(
        M::POST,
        "/api/v1/admin/mission/households",
        "/api/v1/admin/mission/households",
        Some(&pastor),
        Some(json!({"name": "Schema household"})),
    ))
    .await;
    let hid = hh["id"].as_str().expect("household id").to_string();
    run(call(
        M::GET,
        "/api/v1/admin/mission/households",
        "/api/v1/admin/mission/households",
        Some(&pastor),
        None,
    ))
    .await;
    run(call(
        M::PUT,
        "/api/v1/admin/mission/households/{id}",
        format!("/api/v1/admin/mission/households/{hid}"),
        Some(&pastor),
        Some(json!({"name": "Schema home"})),
    ))
    .await;
    let john_id = app.user_id("grace", "john@grace.example").await;
    run(call(
        M::PUT,
        "/api/v1/admin/mission/households/{id}/members/{user_id}",
        format!("/api/v1/admin/mission/households/{hid}/members/{john_id}"),
        Some(&pastor),
        None,
    ))
    .await;
    run(call(
        M::GET,
        "/api/v1/admin/mission/households/{id}",
        format!("/api/v1/admin/mission/households/{hid}"),
        Some(&pastor),
        None,
    ))
    .await;
    run(call(
        M::DELETE,
        "/api/v1/admin/mission/households/{id}/members/{user_id}",
        format!("/api/v1/admin/mission/households/{hid}/members/{john_id}"),
        Some(&pastor),
        None,
    ))
    .await;
    run(call(
        M::DELETE,
        "/api/v1/admin/mission/households/{id}",
        format!("/api/v1/admin/mission/households/{hid}"),
        Some(&pastor),
        None,
    ))
    .await;
    run(call(
        M::GET,
        "/api/v1/mission/household",
        "/api/v1/mission/household",
        Some(&mary),
        None,
    ))
    .await;
    run(call(
        M::PUT,
        "/api/v1/mission/household",
        "/api/v1/mission/household",
        Some(&mary),
        Some(json!({"share_statements": true})),
    ))
    .await;
    let srun = run(call(
        M::POST,
        "/api/v1/admin/mission/statements",
        "/api/v1/admin/mission/statements",
        Some(&pastor),
        Some(json!({"year": 2025, "delivery": "archive"})),
    ))
    .await;
    let srid = srun["id"].as_str().expect("run id").to_string();
    run(call(
        M::GET,
        "/api/v1/admin/mission/statements",
        "/api/v1/admin/mission/statements",
        Some(&pastor),
        None,
    ))
    .await;
    run(call(
        M::GET,
        "/api/v1/admin/mission/statements/{id}",
        format!("/api/v1/admin/mission/statements/{srid}"),
        Some(&pastor),
        None,
    ))
    .await;

    // The service catalog: staff build, a client browses and requests.
    run(call(
        M::GET,
        "/api/v1/admin/catalog/categories",
        "/api/v1/admin/catalog/categories",
        Some(&staff),
        None,
    ))
    .await;
    let cat = run(call(
        M::POST,
        "/api/v1/admin/catalog/categories",
        "/api/v1/admin/catalog/categories",
        Some(&staff),
        Some(json!({"name": "Schema gear"})),
    ))
    .await;
    let cat_id = cat["id"].as_str().unwrap().to_string();
    run(call(
        M::PATCH,
        "/api/v1/admin/catalog/categories/{id}",
        format!("/api/v1/admin/catalog/categories/{cat_id}"),
        Some(&staff),
        Some(json!({"name": "Schema kit", "position": 9})),
    ))
    .await;
    let item_body = json!({"category_id": cat_id, "name": "Schema item", "description": "**Bold**", "icon": "box",
        "first_response_minutes": 60, "resolution_minutes": 480, "hours": "business", "price": "€1",
        "visibility": "all", "active": true,
        "fields": [{"label": "Colour", "kind": "single_choice", "required": true, "choices": ["Red", "Blue"]},
                   {"label": "Count", "kind": "number"}]});
    run(call(
        M::GET,
        "/api/v1/admin/catalog/items",
        "/api/v1/admin/catalog/items",
        Some(&staff),
        None,
    ))
    .await;
    let item = run(call(
        M::POST,
        "/api/v1/admin/catalog/items",
        "/api/v1/admin/catalog/items",
        Some(&staff),
        Some(item_body.clone()),
    ))
    .await;
    let item_id = item["id"].as_str().unwrap().to_string();
    run(call(
        M::GET,
        "/api/v1/admin/catalog/items/{id}",
        format!("/api/v1/admin/catalog/items/{item_id}"),
        Some(&staff),
        None,
    ))
    .await;
    run(call(
        M::PUT,
        "/api/v1/admin/catalog/items/{id}",
        format!("/api/v1/admin/catalog/items/{item_id}"),
        Some(&staff),
        Some(item_body),
    ))
    .await;
    run(call(
        M::GET,
        "/api/v1/catalog",
        "/api/v1/catalog?q=schema",
        Some(&bob),
        None,
    ))
    .await;
    run(call(
        M::GET,
        "/api/v1/catalog/{id}",
        format!("/api/v1/catalog/{item_id}"),
        Some(&bob),
        None,
    ))
    .await;
    run(call(
        M::POST,
        "/api/v1/catalog/{id}/requests",
        format!("/api/v1/catalog/{item_id}/requests"),
        Some(&bob),
        Some(json!({"answers": {"colour": "Blue", "count": 2}})),
    ))
    .await;

    // Knowledge base and announcements.
    let initech = app.company_id("acme", "Initech").await;
    let art = run(call(
        M::POST,
        "/api/v1/admin/kb/articles",
        "/api/v1/admin/kb/articles",
        Some(&staff),
        Some(json!({"title": "Schema sample", "category": "Misc", "tags": ["a"], "body": "Text **bold**.", "visibility": "companies", "companies": [globex], "status": "published"})),
    ))
    .await;
    let art_id = art["id"].as_str().unwrap().to_string();
    let art_slug = art["slug"].as_str().unwrap().to_string();
    for (route, url) in [
        (
            "/api/v1/admin/kb/articles",
            "/api/v1/admin/kb/articles".to_string(),
        ),
        (
            "/api/v1/admin/kb/articles/{id}",
            format!("/api/v1/admin/kb/articles/{art_id}"),
        ),
        (
            "/api/v1/admin/kb/stats",
            "/api/v1/admin/kb/stats".to_string(),
        ),
    ] {
        run(call(M::GET, route, url, Some(&staff), None)).await;
    }
    run(call(
        M::PUT,
        "/api/v1/admin/kb/articles/{id}",
        format!("/api/v1/admin/kb/articles/{art_id}"),
        Some(&staff),
        Some(json!({"title": "Schema sample", "category": "Misc", "body": "Text.", "visibility": "companies", "companies": [globex], "status": "published"})),
    ))
    .await;
    for (route, url) in [
        (
            "/api/v1/kb/articles",
            "/api/v1/kb/articles?q=schema".to_string(),
        ),
        ("/api/v1/kb/categories", "/api/v1/kb/categories".to_string()),
        (
            "/api/v1/kb/suggest",
            "/api/v1/kb/suggest?q=schema%20sample".to_string(),
        ),
        (
            "/api/v1/kb/articles/{slug}",
            format!("/api/v1/kb/articles/{art_slug}"),
        ),
    ] {
        run(call(M::GET, route, url, Some(&alice), None)).await;
    }
    run(call(
        M::POST,
        "/api/v1/kb/articles/{slug}/vote",
        format!("/api/v1/kb/articles/{art_slug}/vote"),
        Some(&alice),
        Some(json!({"helpful": true})),
    ))
    .await;
    let ann = run(call(
        M::POST,
        "/api/v1/admin/announcements",
        "/api/v1/admin/announcements",
        Some(&staff),
        Some(json!({"title": "Schema notice", "body": "Hello.", "severity": "warning", "companies": [globex, initech], "expires_at": portico::db::now_ms() + 86_400_000, "pinned": true})),
    ))
    .await;
    let ann_id = ann["id"].as_str().unwrap().to_string();
    run(call(
        M::GET,
        "/api/v1/admin/announcements",
        "/api/v1/admin/announcements",
        Some(&staff),
        None,
    ))
    .await;
    run(call(
        M::GET,
        "/api/v1/admin/announcements/{id}",
        format!("/api/v1/admin/announcements/{ann_id}"),
        Some(&staff),
        None,
    ))
    .await;
    run(call(
        M::PUT,
        "/api/v1/admin/announcements/{id}",
        format!("/api/v1/admin/announcements/{ann_id}"),
        Some(&staff),
        Some(json!({"title": "Schema notice", "body": "Hello again.", "severity": "info"})),
    ))
    .await;
    run(call(
        M::GET,
        "/api/v1/announcements",
        "/api/v1/announcements",
        Some(&alice),
        None,
    ))
    .await;
    run(call(
        M::GET,
        "/api/v1/announcements/unread",
        "/api/v1/announcements/unread",
        Some(&alice),
        None,
    ))
    .await;
    run(call(
        M::GET,
        "/api/v1/announcements/{id}",
        format!("/api/v1/announcements/{ann_id}"),
        Some(&alice),
        None,
    ))
    .await;
    run(call(
        M::POST,
        "/api/v1/announcements/{id}/read",
        format!("/api/v1/announcements/{ann_id}/read"),
        Some(&alice),
        None,
    ))
    .await;
    run(call(
        M::POST,
        "/api/v1/announcements/read-all",
        "/api/v1/announcements/read-all",
        Some(&alice),
        None,
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

    // Billing: subscriptions, contacts, statement (client); subscriptions (staff).
    for path in [
        "/api/v1/billing/subscriptions",
        "/api/v1/billing/contacts",
        "/api/v1/billing/statement",
    ] {
        run(call(M::GET, path, path.to_string(), Some(&alice), None)).await;
    }
    let sub = call(
        M::POST,
        "/api/v1/admin/billing/subscriptions",
        "/api/v1/admin/billing/subscriptions".to_string(),
        Some(&staff),
        Some(
            json!({"company_id": globex, "name": "Sample", "quantity": "1", "unit_price": "9.99", "cycle": "monthly", "next_billing_date": "2027-01-01"}),
        ),
    );
    let sub_id = run(sub).await["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    run(call(
        M::GET,
        "/api/v1/admin/billing/subscriptions",
        "/api/v1/admin/billing/subscriptions".to_string(),
        Some(&staff),
        None,
    ))
    .await;
    run(call(
        M::GET,
        "/api/v1/admin/billing/subscriptions/{id}",
        format!("/api/v1/admin/billing/subscriptions/{sub_id}"),
        Some(&staff),
        None,
    ))
    .await;
    run(call(
        M::PUT,
        "/api/v1/admin/billing/subscriptions/{id}",
        format!("/api/v1/admin/billing/subscriptions/{sub_id}"),
        Some(&staff),
        Some(json!({"name": "Sample", "quantity": "2", "unit_price": "9.99", "cycle": "annual", "next_billing_date": "2027-01-01"})),
    ))
    .await;
    run(call(
        M::POST,
        "/api/v1/admin/billing/subscriptions/{id}/cancel",
        format!("/api/v1/admin/billing/subscriptions/{sub_id}/cancel"),
        Some(&staff),
        Some(json!({})),
    ))
    .await;

    // PSA sync status and a ticket's sync conflicts (none yet).
    run(call(
        M::GET,
        "/api/v1/admin/integrations/psa/status",
        "/api/v1/admin/integrations/psa/status".to_string(),
        Some(&staff),
        None,
    ))
    .await;
    run(call(
        M::GET,
        "/api/v1/admin/integrations/psa/tickets/{number}/conflicts",
        "/api/v1/admin/integrations/psa/tickets/1001/conflicts".to_string(),
        Some(&staff),
        None,
    ))
    .await;

    // Shared files.
    let mut share = call(
        M::POST,
        "/api/v1/admin/documents/files",
        "/api/v1/admin/documents/files",
        Some(&staff),
        None,
    );
    share.multipart = true;
    let shared = run(share).await;
    let fid = shared["file"]["id"].as_str().unwrap().to_string();
    let mut replace = call(
        M::POST,
        "/api/v1/admin/documents/files/{id}/versions",
        format!("/api/v1/admin/documents/files/{fid}/versions"),
        Some(&staff),
        None,
    );
    replace.multipart = true;
    run(replace).await;
    run(call(
        M::GET,
        "/api/v1/admin/documents/files",
        "/api/v1/admin/documents/files",
        Some(&staff),
        None,
    ))
    .await;
    run(call(
        M::GET,
        "/api/v1/admin/documents/files/{id}",
        format!("/api/v1/admin/documents/files/{fid}"),
        Some(&staff),
        None,
    ))
    .await;
    run(call(
        M::GET,
        "/api/v1/documents/files",
        "/api/v1/documents/files",
        Some(&bob),
        None,
    ))
    .await;
    run(call(
        M::GET,
        "/api/v1/documents/files/{id}",
        format!("/api/v1/documents/files/{fid}"),
        Some(&bob),
        None,
    ))
    .await;
    run(call(
        M::POST,
        "/api/v1/admin/documents/files/{id}/withdraw",
        format!("/api/v1/admin/documents/files/{fid}/withdraw"),
        Some(&staff),
        Some(json!({})),
    ))
    .await;

    // The Legal push, with an integration key made on the staff page.
    let html = staff
        .post_form("/admin/integrations/legal", &[("name", "Contracts")])
        .await
        .text()
        .await
        .unwrap();
    let at = html.find("value=\"plk_").expect("new key shown") + 7;
    let key = html[at..].split('"').next().unwrap().to_string();
    let mut push = call(
        M::POST,
        "/api/v1/integrations/legal/policies",
        "/api/v1/integrations/legal/policies",
        None,
        Some(json!({
            "external_id": "POL-9", "version": "1", "title": "Conduct", "body": "Be kind.",
            "signers": [{ "email": "bob@globex.example" }, { "company": "Globex" }],
            "due": "2030-01-31", "reminders": "3", "callback_url": "https://legal.example/hook"
        })),
    );
    push.bearer = Some(key);
    run(push).await;

    // The help assistant.
    run(call(
        M::GET,
        "/api/v1/assistant/widget",
        "/api/v1/assistant/widget?path=/portal/tickets",
        Some(&bob),
        None,
    ))
    .await;
    let reply = run(call(
        M::POST,
        "/api/v1/assistant/messages",
        "/api/v1/assistant/messages",
        Some(&bob),
        Some(json!({"message": "my VPN keeps dropping, I want to talk to a person"})),
    ))
    .await;
    let conv = reply["conversation_id"].as_str().unwrap().to_string();
    let token = reply["answer"]["actions"][0]["token"]
        .as_str()
        .unwrap()
        .to_string();
    run(call(
        M::POST,
        "/api/v1/assistant/actions/confirm",
        "/api/v1/assistant/actions/confirm",
        Some(&bob),
        Some(json!({"token": token})),
    ))
    .await;
    run(call(
        M::GET,
        "/api/v1/assistant/conversations",
        "/api/v1/assistant/conversations",
        Some(&bob),
        None,
    ))
    .await;
    run(call(
        M::GET,
        "/api/v1/assistant/conversations/{id}",
        format!("/api/v1/assistant/conversations/{conv}"),
        Some(&bob),
        None,
    ))
    .await;
    run(call(
        M::GET,
        "/api/v1/admin/assistant/escalations",
        "/api/v1/admin/assistant/escalations",
        Some(&staff),
        None,
    ))
    .await;
    run(call(
        M::GET,
        "/api/v1/admin/assistant/usage",
        "/api/v1/admin/assistant/usage",
        Some(&staff),
        None,
    ))
    .await;
    run(call(
        M::GET,
        "/api/v1/admin/assistant/settings",
        "/api/v1/admin/assistant/settings",
        Some(&staff),
        None,
    ))
    .await;
    run(call(
        M::PUT,
        "/api/v1/admin/assistant/settings",
        "/api/v1/admin/assistant/settings",
        Some(&staff),
        Some(
            json!({"enabled": true, "mode": "builtin", "instructions": "Be brief.",
            "actions": ["create_ticket", "comment", "escalate", "request_item", "register_event"]}),
        ),
    ))
    .await;
    run(call(
        M::GET,
        "/api/v1/admin/assistant/conversations/{id}",
        format!("/api/v1/admin/assistant/conversations/{conv}"),
        Some(&staff),
        None,
    ))
    .await;

    // Saved cards and autopay, against the fake provider configured above.
    let setup = call(
        M::POST,
        "/api/v1/billing/payment-methods/setup",
        "/api/v1/billing/payment-methods/setup".to_string(),
        Some(&alice),
        Some(json!({})),
    );
    run(setup).await;
    let customer = fake
        .sessions()
        .pop()
        .map(|s| s.customer)
        .unwrap_or_default();
    let pm = fake.add_card(&customer, "visa", "4242");
    run(call(
        M::GET,
        "/api/v1/billing/payment-methods",
        "/api/v1/billing/payment-methods".to_string(),
        Some(&alice),
        None,
    ))
    .await;
    run(call(
        M::PUT,
        "/api/v1/billing/autopay",
        "/api/v1/billing/autopay".to_string(),
        Some(&alice),
        Some(json!({"payment_method_id": pm})),
    ))
    .await;
    run(call(
        M::GET,
        "/api/v1/billing/autopay",
        "/api/v1/billing/autopay".to_string(),
        Some(&alice),
        None,
    ))
    .await;
    run(call(
        M::DELETE,
        "/api/v1/billing/payment-methods/{id}",
        format!("/api/v1/billing/payment-methods/{pm}"),
        Some(&alice),
        None,
    ))
    .await;

    // Online giving and recurring gifts (grace), against the same fake provider.
    let r = pastor
        .post_form(
            "/admin/mission/settings",
            &[
                ("currency", "USD"),
                ("giving_url", "https://give.grace.example"),
                ("provider_base_url", fake.base_url().as_str()),
                ("provider_secret_key", crate::fake_provider::SECRET_KEY),
                ("webhook_secret", crate::fake_provider::WEBHOOK_SECRET),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let general: String =
        sqlx::query_scalar("SELECT id FROM mission_funds WHERE name = 'General Fund'")
            .fetch_one(app.state.db.operator("test").reader())
            .await
            .expect("general fund");
    run(call(
        M::GET,
        "/api/v1/mission/giving/give",
        "/api/v1/mission/giving/give",
        Some(&mary),
        None,
    ))
    .await;
    run(call(
        M::POST,
        "/api/v1/mission/giving/give",
        "/api/v1/mission/giving/give",
        Some(&mary),
        Some(json!({"fund_id": general, "amount_minor": 2500, "currency": "usd"})),
    ))
    .await;
    let setup = run(call(
        M::POST,
        "/api/v1/mission/giving/card",
        "/api/v1/mission/giving/card",
        Some(&mary),
        Some(json!({})),
    ))
    .await;
    // Completes the hosted setup page, so Mary has a card for the recurring gift.
    let r = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .post(setup["url"].as_str().expect("setup url"))
        .send()
        .await
        .expect("setup page");
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    run(call(
        M::GET,
        "/api/v1/mission/giving/card",
        "/api/v1/mission/giving/card",
        Some(&mary),
        None,
    ))
    .await;
    let start = (chrono::Utc::now() + chrono::Duration::days(3))
        .format("%Y-%m-%d")
        .to_string();
    let rg = run(call(
        M::POST,
        "/api/v1/mission/giving/recurring",
        "/api/v1/mission/giving/recurring",
        Some(&mary),
        Some(json!({"fund_id": general, "amount_minor": 1000, "frequency": "weekly", "start_on": start})),
    ))
    .await;
    let rgid = rg["id"].as_str().expect("schedule id").to_string();
    run(call(
        M::GET,
        "/api/v1/mission/giving/recurring",
        "/api/v1/mission/giving/recurring",
        Some(&mary),
        None,
    ))
    .await;
    run(call(
        M::GET,
        "/api/v1/mission/giving/recurring/{id}",
        format!("/api/v1/mission/giving/recurring/{rgid}"),
        Some(&mary),
        None,
    ))
    .await;
    run(call(
        M::PATCH,
        "/api/v1/mission/giving/recurring/{id}",
        format!("/api/v1/mission/giving/recurring/{rgid}"),
        Some(&mary),
        Some(json!({"status": "paused"})),
    ))
    .await;
    run(call(
        M::GET,
        "/api/v1/admin/mission/recurring",
        "/api/v1/admin/mission/recurring",
        Some(&pastor),
        None,
    ))
    .await;
    run(call(
        M::DELETE,
        "/api/v1/mission/giving/recurring/{id}",
        format!("/api/v1/mission/giving/recurring/{rgid}"),
        Some(&mary),
        None,
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
        // An integration key is no cookie: no browser sends it by itself, so no CSRF header.
        let by_key = security.iter().any(|r| r.get("integrationKey").is_some());
        if !security.is_empty() && unsafe_method && !by_key {
            assert!(
                security.iter().all(|r| r.get("csrfToken").is_some()),
                "{method} {path} must ask for X-CSRF-Token: {security:?}"
            );
        }
        if path.starts_with("/api/v1/")
            && !path.starts_with("/api/v1/auth/")
            && path != "/api/v1/admin/auth/logout"
            // Called by the PSA, not a browser: signed with the tenant's webhook secret instead.
            && path != "/api/v1/integrations/psa/webhook"
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
