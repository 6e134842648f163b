//! Tickets: creation with uploads, scopes per role, isolation, internal notes, transitions,
//! the reopen window, the staff queue, audit rows, email jobs and live events.

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use sqlx::Row;

use crate::support::{Session, TestApp};

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n";

async fn max_number(app: &TestApp) -> i64 {
    sqlx::query(
        "SELECT CAST(COALESCE(MAX(k.number), 1000) AS BIGINT) FROM tickets k JOIN tenants t ON t.id = k.tenant_id WHERE t.slug = 'acme'",
    )
    .fetch_one(app.state.db.operator("test").reader())
    .await
    .unwrap()
    .get::<i64, _>(0)
}

/// Raises a ticket through the JSON API; returns its number.
async fn raise(app: &TestApp, s: &Session, subject: &str, extra: Value) -> i64 {
    let mut body = json!({ "subject": subject, "description": format!("About {subject}."), "priority": "normal" });
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    let r = s
        .client
        .post(app.url("/api/v1/tickets"))
        .header("x-csrf-token", &s.csrf)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json::<Value>().await.unwrap()["number"].as_i64().unwrap()
}

async fn get(app: &TestApp, s: &Session, path: &str) -> (StatusCode, String) {
    let r = s.client.get(app.url(path)).send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

async fn post_json(app: &TestApp, s: &Session, path: &str, body: Value) -> (StatusCode, Value) {
    let r = s
        .client
        .post(app.url(path))
        .header("x-csrf-token", &s.csrf)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn patch_json(app: &TestApp, s: &Session, path: &str, body: Value) -> (StatusCode, Value) {
    let r = s
        .client
        .patch(app.url(path))
        .header("x-csrf-token", &s.csrf)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn numbers(page: &Value) -> Vec<i64> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["number"].as_i64().unwrap())
        .collect()
}

async fn ticket_form(subject: &str, file: Option<(&str, &'static [u8])>) -> Form {
    let mut f = Form::new()
        .text("subject", subject.to_string())
        .text("description", "The **printer** on floor 2 jams.")
        .text("priority", "high")
        .text("category", "Hardware");
    if let Some((name, bytes)) = file {
        f = f.part(
            "attachments",
            Part::bytes(bytes).file_name(name.to_string()),
        );
    }
    f
}

async fn create_with_attachment(app: TestApp) {
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    let before = max_number(&app).await;
    // The page form posts multipart with the token in the query string.
    let r = bob
        .client
        .post(app.url(&format!("/portal/tickets?_csrf={}", bob.csrf)))
        .multipart(ticket_form("Printer jams", Some(("jam report.pdf", PDF))).await)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let first = before + 1;
    assert_eq!(
        r.headers()["location"].to_str().unwrap(),
        format!("/portal/tickets/{first}?notice=created")
    );
    let r = bob
        .client
        .post(app.url(&format!("/portal/tickets?_csrf={}", bob.csrf)))
        .multipart(ticket_form("Second printer", None).await)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        r.headers()["location"].to_str().unwrap(),
        format!("/portal/tickets/{}?notice=created", first + 1)
    );

    let (status, body) = get(&app, &bob, &format!("/api/v1/tickets/{first}")).await;
    assert_eq!(status, StatusCode::OK);
    let t: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(t["status"], "new");
    assert_eq!(t["priority"], "high");
    assert_eq!(t["category"], "Hardware");
    assert!(
        t["description_html"]
            .as_str()
            .unwrap()
            .contains("<strong>printer</strong>")
    );
    assert!(
        t["sla"]["first_response_due_at"].as_i64().unwrap() > t["created_at"].as_i64().unwrap()
    );
    let att = &t["attachments"][0];
    assert_eq!(att["filename"], "jam report.pdf");
    assert_eq!(att["content_type"], "application/pdf");
    let r = bob
        .client
        .get(app.url(&format!(
            "/api/v1/tickets/{first}/attachments/{}",
            att["id"].as_str().unwrap()
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let cd = r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(cd.starts_with("attachment;"), "{cd}");
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert_eq!(r.bytes().await.unwrap().as_ref(), PDF);

    // The page shows the ticket with its file.
    let (status, html) = get(&app, &bob, &format!("/portal/tickets/{first}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Printer jams") && html.contains("jam report.pdf"));
    assert!(html.contains(&format!("data-ticket-number=\"{first}\"")));

    // An executable is refused by content; what was typed comes back.
    let r = bob
        .client
        .post(app.url(&format!("/portal/tickets?_csrf={}", bob.csrf)))
        .multipart(
            ticket_form(
                "Keep this subject",
                Some(("invoice.pdf", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00")),
            )
            .await,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("invoice.pdf is of a type we do not accept"),
        "{html}"
    );
    assert!(html.contains("value=\"Keep this subject\""));
    // An HTML page disguised as text is refused too.
    let r = bob
        .client
        .post(app.url(&format!("/portal/tickets?_csrf={}", bob.csrf)))
        .multipart(
            ticket_form(
                "x",
                Some(("notes.txt", b"<html><script>alert(1)</script></html>")),
            )
            .await,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // Missing fields are reported beside them.
    let r = bob
        .client
        .post(app.url(&format!("/portal/tickets?_csrf={}", bob.csrf)))
        .multipart(Form::new().text("subject", "").text("description", ""))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = r.text().await.unwrap();
    assert!(html.contains("Enter a short summary"));
    assert!(html.contains("Describe the problem"));
    assert_eq!(
        max_number(&app).await,
        first + 1,
        "refused forms create nothing"
    );

    let actions = app.audit_actions("acme").await;
    assert!(actions.contains(&"ticket.created".to_string()));
    assert!(actions.contains(&"ticket.attachment_added".to_string()));
}
crate::db_test!(ticket_create_with_attachment, create_with_attachment);

async fn multipart_needs_the_csrf_token(app: TestApp) {
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    let before = max_number(&app).await;
    for path in [
        "/portal/tickets".to_string(),
        "/portal/tickets?_csrf=wrong".to_string(),
    ] {
        let r = bob
            .client
            .post(app.url(&path))
            .multipart(ticket_form("Forged", None).await)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path}");
    }
    assert_eq!(max_number(&app).await, before);
}
crate::db_test!(ticket_multipart_csrf, multipart_needs_the_csrf_token);

/// Upload forms carry the token as their first field, so it never shows in the address bar:
/// the page's form action has no token; the token as the first field is accepted, a wrong one
/// or one placed after a file is refused and nothing is stored.
async fn multipart_token_in_the_body(app: TestApp) {
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    let page = bob.get("/portal/tickets/new").await.text().await.unwrap();
    assert!(!page.contains("_csrf="), "token in a form action");
    let before = max_number(&app).await;
    let with_first = |token: String| {
        let f = Form::new().text("_csrf", token);
        f.text("subject", "Token in the body")
            .text("description", "The printer jams.")
            .text("priority", "high")
            .text("category", "Hardware")
    };
    let r = bob
        .client
        .post(app.url("/portal/tickets"))
        .multipart(with_first("wrong".into()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let late = Form::new()
        .part("attachments", Part::bytes(PDF).file_name("a.pdf"))
        .text("_csrf", bob.csrf.clone())
        .text("subject", "Late token")
        .text("description", "x");
    let r = bob
        .client
        .post(app.url("/portal/tickets"))
        .multipart(late)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(max_number(&app).await, before);
    let r = bob
        .client
        .post(app.url("/portal/tickets"))
        .multipart(with_first(bob.csrf.clone()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(max_number(&app).await, before + 1);
}
crate::db_test!(ticket_multipart_token_in_body, multipart_token_in_the_body);

async fn scopes_per_role(app: TestApp) {
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    let alice = app
        .api_login("acme", "alice@globex.example", "portal")
        .await;
    let vera = app.api_login("acme", "vera@globex.example", "portal").await;
    let bob_id = app.user_id("acme", "bob@globex.example").await;
    let own = raise(&app, &bob, "Bob's laptop", json!({})).await;
    let cc = raise(&app, &alice, "Office move", json!({ "cc": [bob_id] })).await;
    let other = raise(&app, &alice, "Budget approval", json!({})).await;

    let all = "/api/v1/tickets?status=all&limit=200";
    let (_, b) = get(&app, &bob, all).await;
    let seen = numbers(&serde_json::from_str(&b).unwrap());
    assert!(seen.contains(&own) && seen.contains(&cc), "{seen:?}");
    assert!(!seen.contains(&other));
    assert_eq!(
        get(&app, &bob, &format!("/api/v1/tickets/{other}")).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&app, &bob, &format!("/portal/tickets/{other}")).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&app, &bob, &format!("/portal/tickets/{cc}")).await.0,
        StatusCode::OK
    );

    let (_, b) = get(&app, &alice, all).await;
    let seen = numbers(&serde_json::from_str(&b).unwrap());
    assert!(seen.contains(&own) && seen.contains(&cc) && seen.contains(&other));
    let (_, b) = get(&app, &alice, &format!("{all}&scope=mine")).await;
    let seen = numbers(&serde_json::from_str(&b).unwrap());
    assert!(!seen.contains(&own) && seen.contains(&cc) && seen.contains(&other));

    // The viewer reads everything of the company and writes nothing.
    let (_, b) = get(&app, &vera, all).await;
    let seen = numbers(&serde_json::from_str(&b).unwrap());
    assert!(seen.contains(&own) && seen.contains(&other));
    let (status, html) = get(&app, &vera, &format!("/portal/tickets/{own}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains("Add a comment") && !html.contains("My issue is solved"));
    for (path, body) in [
        (
            "/api/v1/tickets".to_string(),
            json!({ "subject": "x", "description": "y" }),
        ),
        (
            format!("/api/v1/tickets/{own}/comments"),
            json!({ "body": "hi" }),
        ),
        (format!("/api/v1/tickets/{own}/close"), json!({})),
        (
            format!("/api/v1/tickets/{own}/reopen"),
            json!({ "reason": "x" }),
        ),
    ] {
        assert_eq!(
            post_json(&app, &vera, &path, body).await.0,
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    assert_eq!(
        get(&app, &vera, "/portal/tickets/new").await.0,
        StatusCode::FORBIDDEN
    );
    let r = vera
        .client
        .post(app.url(&format!(
            "/portal/tickets/{own}/comments?_csrf={}",
            vera.csrf
        )))
        .multipart(Form::new().text("body", "sneaky"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // Search finds by subject and by number.
    let (_, b) = get(&app, &alice, "/api/v1/tickets?status=all&q=office%20MOVE").await;
    assert_eq!(numbers(&serde_json::from_str(&b).unwrap()), vec![cc]);
    let (_, b) = get(
        &app,
        &alice,
        &format!("/api/v1/tickets?status=all&q=%23{own}"),
    )
    .await;
    assert_eq!(numbers(&serde_json::from_str(&b).unwrap()), vec![own]);

    // Keyset pages cover the list once, in order.
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let (_, b) = get(
            &app,
            &alice,
            &format!("/api/v1/tickets?status=all&limit=2&cursor={cursor}"),
        )
        .await;
        let page: Value = serde_json::from_str(&b).unwrap();
        seen.extend(numbers(&page));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = c.to_string(),
            None => break,
        }
    }
    let (_, b) = get(&app, &alice, "/api/v1/tickets?status=all&limit=200").await;
    assert_eq!(seen, numbers(&serde_json::from_str(&b).unwrap()));
}
crate::db_test!(ticket_scopes_per_role, scopes_per_role);

async fn other_companies_and_tenants_get_404(app: TestApp) {
    let alice = app
        .api_login("acme", "alice@globex.example", "portal")
        .await;
    let n = raise(&app, &alice, "Globex secret project", json!({})).await;
    let r = alice
        .client
        .post(app.url(&format!("/api/v1/tickets/{n}/attachments")))
        .header("x-csrf-token", &alice.csrf)
        .multipart(Form::new().part("attachments", Part::bytes(PDF).file_name("plan.pdf")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let t: Value = r.json().await.unwrap();
    let att = t["attachments"][0]["id"].as_str().unwrap().to_string();

    let ian = app.api_login("acme", "ian@initech.example", "portal").await;
    for path in [
        format!("/portal/tickets/{n}"),
        format!("/api/v1/tickets/{n}"),
        format!("/api/v1/tickets/{n}/attachments/{att}"),
    ] {
        let (status, body) = get(&app, &ian, &path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(!body.contains("Globex secret"), "{path}");
    }
    for (path, body) in [
        (
            format!("/api/v1/tickets/{n}/comments"),
            json!({ "body": "x" }),
        ),
        (format!("/api/v1/tickets/{n}/close"), json!({})),
        (
            format!("/api/v1/tickets/{n}/reopen"),
            json!({ "reason": "x" }),
        ),
    ] {
        let (status, _) = post_json(&app, &ian, &path, body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    let r = ian
        .client
        .post(app.url(&format!("/portal/tickets/{n}/comments?_csrf={}", ian.csrf)))
        .multipart(Form::new().text("body", "x"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = ian
        .client
        .post(app.url(&format!("/api/v1/tickets/{n}/attachments")))
        .header("x-csrf-token", &ian.csrf)
        .multipart(Form::new().part("attachments", Part::bytes(PDF).file_name("x.pdf")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let (_, b) = get(&app, &ian, "/api/v1/tickets?status=all&limit=200").await;
    assert!(!numbers(&serde_json::from_str(&b).unwrap()).contains(&n));
    assert!(!b.contains("Globex"));

    // Another tenant sees no acme ticket, portal or staff.
    let mary = app.api_login("grace", "mary@grace.example", "portal").await;
    assert_eq!(
        get(&app, &mary, &format!("/api/v1/tickets/{n}")).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&app, &mary, "/portal/tickets").await.0,
        StatusCode::NOT_FOUND
    );
    let pastor = app
        .api_login("grace", "pastor@grace.example", "admin")
        .await;
    let (status, body) = get(&app, &pastor, &format!("/api/v1/admin/tickets/{n}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!body.contains("Globex"));
    let (status, b) = get(&app, &pastor, "/api/v1/admin/tickets?status=all").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!b.contains("Globex"));
    assert_eq!(
        get(
            &app,
            &pastor,
            &format!("/admin/tickets/{n}/attachments/{att}")
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
}
crate::db_test!(ticket_isolation, other_companies_and_tenants_get_404);

async fn internal_notes_stay_internal(app: TestApp) {
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    let alice = app
        .api_login("acme", "alice@globex.example", "portal")
        .await;
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let n = raise(&app, &bob, "VPN drops", json!({})).await;
    let mut events = app.state.events.subscribe();

    let (status, t) = post_json(
        &app,
        &staff,
        &format!("/api/v1/admin/tickets/{n}/comments"),
        json!({ "body": "SECRET-NOTE: client firewall is misconfigured", "internal": true }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(
        t["sla"]["first_responded_at"].is_null(),
        "a note is not a response"
    );
    let e = events.recv().await.unwrap();
    assert_eq!(e.kind.as_str(), "ticket.comment");
    assert!(e.internal);

    let (status, t) = post_json(
        &app,
        &staff,
        &format!("/api/v1/admin/tickets/{n}/comments"),
        json!({ "body": "We are looking into it." }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(t["sla"]["first_responded_at"].is_i64());
    assert_eq!(t["status"], "open", "the first reply opens a new ticket");
    let e = events.recv().await.unwrap();
    assert_eq!(e.kind.as_str(), "ticket.comment");
    assert!(!e.internal);
    assert_eq!(e.data["number"], n);
    assert_eq!(e.data["status"], "open");
    assert!(
        e.data["comment"]["body_html"]
            .as_str()
            .unwrap()
            .contains("looking into it")
    );
    assert!(!e.data.to_string().contains("SECRET-NOTE"));
    assert!(
        e.participants
            .contains(&app.user_id("acme", "bob@globex.example").await)
    );

    for s in [&bob, &alice] {
        for path in [
            format!("/api/v1/tickets/{n}"),
            format!("/portal/tickets/{n}"),
            "/api/v1/tickets?status=all&q=secret-note".to_string(),
            "/portal/tickets?status=all&q=secret-note".to_string(),
        ] {
            let (status, body) = get(&app, s, &path).await;
            assert_eq!(status, StatusCode::OK, "{path}");
            assert!(!body.contains("SECRET-NOTE"), "{path}: {body}");
            assert!(!body.contains("Internal note"), "{path}");
        }
        let (_, body) = get(&app, s, &format!("/api/v1/tickets/{n}")).await;
        assert!(body.contains("We are looking into it."));
    }
    let (_, b) = get(&app, &bob, "/api/v1/tickets?status=all&q=secret-note").await;
    assert_eq!(
        numbers(&serde_json::from_str(&b).unwrap()),
        Vec::<i64>::new()
    );
    // Staff see the note and find it.
    let (_, body) = get(&app, &staff, &format!("/api/v1/admin/tickets/{n}")).await;
    assert!(body.contains("SECRET-NOTE"));
    let (_, html) = get(&app, &staff, &format!("/admin/tickets/{n}")).await;
    assert!(html.contains("SECRET-NOTE") && html.contains("Internal note"));
    let (_, b) = get(
        &app,
        &staff,
        "/api/v1/admin/tickets?status=all&q=secret-note",
    )
    .await;
    assert_eq!(numbers(&serde_json::from_str(&b).unwrap()), vec![n]);

    // Internal note emails nobody; the public reply emails the requester.
    let jobs = email_jobs(&app).await;
    assert_eq!(
        jobs.iter()
            .filter(|j| j["to"] == "bob@globex.example")
            .count(),
        1,
        "{jobs:?}"
    );
    assert!(jobs.iter().all(|j| !j.to_string().contains("SECRET-NOTE")));
    let actions = app.audit_actions("acme").await;
    assert!(actions.contains(&"ticket.note_added".to_string()));
    assert!(actions.contains(&"ticket.commented".to_string()));
}
crate::db_test!(ticket_internal_notes, internal_notes_stay_internal);

async fn email_jobs(app: &TestApp) -> Vec<Value> {
    sqlx::query("SELECT payload FROM jobs WHERE kind = 'email' ORDER BY created_at, id")
        .fetch_all(app.state.db.operator("test").reader())
        .await
        .unwrap()
        .iter()
        .map(|r| serde_json::from_str(&r.get::<String, _>(0)).unwrap())
        .collect()
}

async fn emails_follow_preferences(app: TestApp) {
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let alice_id = app.user_id("acme", "alice@globex.example").await;
    let vera_id = app.user_id("acme", "vera@globex.example").await;
    let n = raise(
        &app,
        &bob,
        "Email prefs",
        json!({ "cc": [alice_id, vera_id] }),
    )
    .await;
    sqlx::query(
        "INSERT INTO notification_prefs (tenant_id, user_id, ticket_replies, status_changes, announcements, \
         signature_requests, updated_at) SELECT tenant_id, id, 0, 1, 1, 1, 0 FROM users WHERE id = $1",
    )
    .bind(&alice_id)
    .execute(app.state.db.operator("test").reader())
    .await
    .unwrap();
    post_json(
        &app,
        &staff,
        &format!("/api/v1/admin/tickets/{n}/comments"),
        json!({ "body": "Hello" }),
    )
    .await;
    let jobs = email_jobs(&app).await;
    let to: Vec<&str> = jobs.iter().map(|j| j["to"].as_str().unwrap()).collect();
    assert!(
        to.contains(&"bob@globex.example") && to.contains(&"vera@globex.example"),
        "{to:?}"
    );
    assert!(
        !to.contains(&"alice@globex.example"),
        "alice turned reply emails off"
    );
    // The first email to the requester (staff were told about the new ticket before).
    let j = jobs
        .iter()
        .find(|j| j["to"] == "bob@globex.example")
        .unwrap();
    assert!(j["subject"].as_str().unwrap().contains(&format!("#{n}")));
    assert!(j["lines"].is_array());
    // The worker wakes when the comment commits, so the job may already be sent (and its
    // link redacted): the link is checked in the message itself.
    let url = j["action_url"].as_str().unwrap();
    assert!(
        url == "(sent)" || url.ends_with(&format!("/portal/tickets/{n}")),
        "{url}"
    );
    app.drain_jobs().await;
    assert!(
        app.last_mail_to("bob@globex.example")
            .await
            .contains(&format!("/portal/tickets/{n}"))
    );
    assert_eq!(j["action_label"], "View the ticket");
    let before = jobs.len();
    patch_json(
        &app,
        &staff,
        &format!("/api/v1/admin/tickets/{n}"),
        json!({ "status": "resolved" }),
    )
    .await;
    let jobs = email_jobs(&app).await;
    let new: Vec<&str> = jobs[before..]
        .iter()
        .map(|j| j["to"].as_str().unwrap())
        .collect();
    assert_eq!(new.len(), 3, "{new:?}");
    assert!(
        new.contains(&"alice@globex.example"),
        "status emails stay on"
    );
    // The requester's own close does not email the requester.
    let before = jobs.len();
    post_json(&app, &bob, &format!("/api/v1/tickets/{n}/close"), json!({})).await;
    let jobs = email_jobs(&app).await;
    assert!(
        jobs[before..]
            .iter()
            .all(|j| j["to"] != "bob@globex.example")
    );
}
crate::db_test!(ticket_emails, emails_follow_preferences);

async fn transitions_and_reopen_window(app: TestApp) {
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let n = raise(&app, &bob, "Monitor flickers", json!({})).await;
    let path = format!("/api/v1/admin/tickets/{n}");
    let (status, t) = patch_json(&app, &staff, &path, json!({ "status": "closed" })).await;
    assert_eq!(status, StatusCode::OK);
    assert!(t["closed_at"].is_i64());
    let (status, e) = patch_json(&app, &staff, &path, json!({ "status": "pending" })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    let (status, _) = patch_json(&app, &staff, &path, json!({ "status": "bogus" })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Clients cannot comment on a finished ticket, but may reopen it with a reason.
    let (status, _) = post_json(
        &app,
        &bob,
        &format!("/api/v1/tickets/{n}/comments"),
        json!({ "body": "still" }),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, e) = post_json(
        &app,
        &bob,
        &format!("/api/v1/tickets/{n}/reopen"),
        json!({ "reason": " " }),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(e["error"]["fields"][0]["field"], "reason");
    let (status, t) = post_json(
        &app,
        &bob,
        &format!("/api/v1/tickets/{n}/reopen"),
        json!({ "reason": "It flickers again" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(t["status"], "open");
    assert!(t["history"].to_string().contains("It flickers again"));
    // The reason is also in the conversation, as the client's words.
    let last = t["comments"].as_array().and_then(|c| c.last()).cloned();
    let last = last.expect("a comment");
    assert_eq!(last["body"], "It flickers again", "{last}");
    assert_eq!(last["internal"], false);
    let (status, _) = post_json(
        &app,
        &bob,
        &format!("/api/v1/tickets/{n}/reopen"),
        json!({ "reason": "x" }),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "an open ticket cannot be reopened"
    );
    // Closing twice is refused by the table too.
    let (status, _) = post_json(&app, &bob, &format!("/api/v1/tickets/{n}/close"), json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = post_json(&app, &bob, &format!("/api/v1/tickets/{n}/close"), json!({})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // Past the window, reopening is refused and the page offers no form.
    let old = portico::db::now_ms() - 15 * 86_400_000;
    sqlx::query("UPDATE tickets SET closed_at = $1, resolved_at = $1 WHERE number = $2")
        .bind(old)
        .bind(n)
        .execute(app.state.db.operator("test").reader())
        .await
        .unwrap();
    let (status, e) = post_json(
        &app,
        &bob,
        &format!("/api/v1/tickets/{n}/reopen"),
        json!({ "reason": "again" }),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(e["error"]["message"].as_str().unwrap().contains("14 days"));
    let (_, html) = get(&app, &bob, &format!("/portal/tickets/{n}")).await;
    assert!(!html.contains("Reopen ticket"));
    let actions = app.audit_actions("acme").await;
    assert!(
        actions
            .iter()
            .filter(|a| *a == "ticket.status_changed")
            .count()
            >= 3
    );
}
crate::db_test!(ticket_transitions, transitions_and_reopen_window);

async fn staff_queue_filters(app: TestApp) {
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    let ian = app.api_login("acme", "ian@initech.example", "portal").await;
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let tech_id = app.user_id("acme", "tech@acme.example").await;
    let urgent = raise(&app, &bob, "Server down", json!({ "priority": "urgent" })).await;
    let initech = raise(
        &app,
        &ian,
        "Initech badge reader",
        json!({ "priority": "low" }),
    )
    .await;
    let late = raise(&app, &bob, "Late one", json!({})).await;
    sqlx::query("UPDATE tickets SET first_response_due_at = $1 WHERE number = $2")
        .bind(portico::db::now_ms() - 60_000)
        .bind(late)
        .execute(app.state.db.operator("test").reader())
        .await
        .unwrap();

    let list = |q: String| {
        let staff = &staff;
        let app = &app;
        async move {
            let (status, b) =
                get(app, staff, &format!("/api/v1/admin/tickets?limit=200&{q}")).await;
            assert_eq!(status, StatusCode::OK, "{q}: {b}");
            numbers(&serde_json::from_str(&b).unwrap())
        }
    };
    let (_, dbg) = get(&app, &staff, "/api/v1/admin/tickets?limit=200").await;
    eprintln!("DBG {dbg}");
    let seen = list("priority=urgent".into()).await;
    assert!(
        seen.contains(&urgent) && !seen.contains(&initech) && !seen.contains(&late),
        "{seen:?} urgent={urgent} initech={initech} late={late}"
    );
    let initech_id = app.company_id("acme", "Initech").await;
    let seen = list(format!("company={initech_id}")).await;
    assert!(seen.contains(&initech) && !seen.contains(&urgent));
    let seen = list("sla=breached".into()).await;
    assert!(seen.contains(&late) && !seen.contains(&urgent) && !seen.contains(&initech));
    // An urgent ticket's first reply is due within the hour: due soon.
    let seen = list("sla=due_soon".into()).await;
    assert!(seen.contains(&urgent) && !seen.contains(&late));

    let (status, t) = patch_json(
        &app,
        &staff,
        &format!("/api/v1/admin/tickets/{urgent}"),
        json!({ "assignee_id": tech_id, "priority": "high" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(t["assignee"]["name"], "Terry Tech");
    assert_eq!(t["priority"], "high");
    let seen = list(format!("assignee={tech_id}")).await;
    assert!(seen.contains(&urgent) && !seen.contains(&late));
    assert!(!list("assignee=none".into()).await.contains(&urgent));
    let (status, _) = patch_json(
        &app,
        &staff,
        &format!("/api/v1/admin/tickets/{urgent}"),
        json!({ "assignee_id": app.user_id("acme", "bob@globex.example").await }),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "only staff can be assigned"
    );
    let (status, t) = patch_json(
        &app,
        &staff,
        &format!("/api/v1/admin/tickets/{urgent}"),
        json!({ "assignee_id": null }),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(t["assignee"].is_null());

    // The queue page renders with filters; staff create on a client's behalf.
    let (status, html) = get(&app, &staff, "/admin/tickets?sla=breached").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Late one") && !html.contains("Server down"));
    let bob_id = app.user_id("acme", "bob@globex.example").await;
    let (status, t) = post_json(&app, &staff, "/api/v1/admin/tickets", json!({ "requester_id": bob_id, "subject": "Phoned in", "description": "Bob called about Wi-Fi." })).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(t["requester"]["name"], "Bob User");
    assert_eq!(t["company_name"], "Globex");
    let (status, _) = get(&app, &bob, &format!("/api/v1/tickets/{}", t["number"])).await;
    assert_eq!(status, StatusCode::OK);
    let r = staff
        .client
        .post(app.url(&format!("/admin/tickets?_csrf={}", staff.csrf)))
        .multipart(
            Form::new()
                .text("requester_id", bob_id)
                .text("subject", "Form ticket")
                .text("description", "Via the page")
                .part("attachments", Part::bytes(PDF).file_name("a.pdf")),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // Technicians work the queue; clients cannot reach it.
    let tech = app.api_login("acme", "tech@acme.example", "admin").await;
    assert_eq!(get(&app, &tech, "/admin/tickets").await.0, StatusCode::OK);
    assert_eq!(
        get(&app, &bob, "/api/v1/admin/tickets").await.0,
        StatusCode::UNAUTHORIZED
    );
    let actions = app.audit_actions("acme").await;
    assert!(actions.contains(&"ticket.assigned".to_string()));
    assert!(actions.contains(&"ticket.priority_changed".to_string()));
}
crate::db_test!(ticket_staff_queue, staff_queue_filters);

async fn demo_tickets_cover_every_status(app: TestApp) {
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let (_, b) = get(&app, &staff, "/api/v1/admin/tickets?status=all&limit=200").await;
    let page: Value = serde_json::from_str(&b).unwrap();
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 8);
    for s in ["new", "open", "pending", "on_hold", "resolved", "closed"] {
        assert!(
            items.iter().any(|t| t["status"] == s),
            "no demo ticket is {s}"
        );
    }
    let breached: Vec<&Value> = items
        .iter()
        .filter(|t| t["sla_state"] == "breached")
        .collect();
    assert_eq!(breached.len(), 1, "exactly one overdue demo ticket");
    assert_eq!(breached[0]["subject"], "File server unreachable");
    assert!(items.iter().any(|t| t["company_name"] == "Initech"));
    let n = items
        .iter()
        .map(|t| t["number"].as_i64().unwrap())
        .min()
        .unwrap();
    assert_eq!(n, 1001, "numbers start at 1001");
    let (_, b) = get(&app, &staff, "/api/v1/admin/tickets/1001").await;
    let t: Value = serde_json::from_str(&b).unwrap();
    assert!(
        t["comments"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["internal"] == true)
    );
    // Seeding again adds nothing.
    portico::demo::seed(&app.state.db).await.unwrap();
    assert_eq!(max_number(&app).await, 1008);
    // Clients see the replies but not the note.
    let alice = app
        .api_login("acme", "alice@globex.example", "portal")
        .await;
    let (_, b) = get(&app, &alice, "/api/v1/tickets/1001").await;
    assert!(b.contains("I'm on it") && !b.contains("Credential Manager"));
}
crate::db_test!(ticket_demo_data, demo_tickets_cover_every_status);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_over_the_limit_are_refused() {
    let app = TestApp::spawn_with(crate::support::Db::Sqlite, |c| c.max_upload_bytes = 1024)
        .await
        .unwrap();
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    static BIG: [u8; 4096] = [b'a'; 4096];
    let r = bob
        .client
        .post(app.url(&format!("/portal/tickets?_csrf={}", bob.csrf)))
        .multipart(ticket_form("Big log", Some(("big.log", &BIG))).await)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = r.text().await.unwrap();
    assert!(html.contains("big.log is larger than 1 KB"), "{html}");
    assert!(html.contains("value=\"Big log\""));
}

async fn unseen_badge_counts_updates_until_opened(app: TestApp) {
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    let unseen = |s: &crate::support::Session| {
        let c = s.client.clone();
        let url = app.url("/api/v1/tickets/unseen");
        async move {
            c.get(url)
                .send()
                .await
                .unwrap()
                .json::<serde_json::Value>()
                .await
                .unwrap()["count"]
                .as_i64()
                .unwrap()
        }
    };
    // Open everything the demo gave Bob once, so only new changes count.
    let list: serde_json::Value = bob
        .client
        .get(app.url("/api/v1/tickets?status=all&limit=200"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for t in list["items"].as_array().unwrap() {
        bob.client
            .get(app.url(&format!("/api/v1/tickets/{}", t["number"])))
            .send()
            .await
            .unwrap();
    }
    assert_eq!(unseen(&bob).await, 0);
    let r = bob.client.post(app.url("/api/v1/tickets")).header("x-csrf-token", &bob.csrf)
        .json(&serde_json::json!({"subject": "Badge test", "description": "x", "priority": "low", "category": "General"})).send().await.unwrap();
    let number = r.json::<serde_json::Value>().await.unwrap()["number"]
        .as_i64()
        .unwrap();
    assert_eq!(
        unseen(&bob).await,
        0,
        "creating a ticket is not an unseen update"
    );
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    staff
        .client
        .post(app.url(&format!("/api/v1/admin/tickets/{number}/comments")))
        .header("x-csrf-token", &staff.csrf)
        .json(&serde_json::json!({"body": "Looking at it.", "internal": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(unseen(&bob).await, 1);
    // Alice (same company, not requester) has no badge for Bob's ticket.
    let alice = app
        .api_login("acme", "alice@globex.example", "portal")
        .await;
    let before = unseen(&alice).await;
    bob.client
        .get(app.url(&format!("/portal/tickets/{number}")))
        .send()
        .await
        .unwrap();
    assert_eq!(unseen(&bob).await, 0, "opening the ticket clears it");
    assert_eq!(unseen(&alice).await, before);
}
crate::db_test!(unseen_badge, unseen_badge_counts_updates_until_opened);

async fn concurrent_replies_to_a_pending_ticket_all_land(app: TestApp) {
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let n = raise(&app, &bob, "Racing replies", json!({})).await;
    let (st, _) = patch_json(
        &app,
        &staff,
        &format!("/api/v1/admin/tickets/{n}"),
        json!({ "status": "pending" }),
    )
    .await;
    assert!(st.is_success(), "{st}");
    // Every request reads the ticket as pending and wants to reopen it; only one can make
    // that move, and none of the comments may be lost to it.
    let path = format!("/api/v1/tickets/{n}/comments");
    let posts =
        (0..8).map(|i| post_json(&app, &bob, &path, json!({ "body": format!("Answer {i}") })));
    let results = futures::future::join_all(posts).await;
    for (st, body) in &results {
        assert_eq!(*st, StatusCode::CREATED, "{body}");
    }
    let (_, body) = get(&app, &bob, &format!("/api/v1/tickets/{n}")).await;
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["status"], "open");
    for i in 0..8 {
        assert!(
            body.contains(&format!("Answer {i}")),
            "comment {i} is missing"
        );
    }
    let reopened: i64 = sqlx::query(
        "SELECT COUNT(*) FROM ticket_status_history h JOIN tickets t ON t.id = h.ticket_id \
         WHERE t.number = $1 AND t.tenant_id = (SELECT id FROM tenants WHERE slug = 'acme') \
         AND h.from_status = 'pending' AND h.to_status = 'open'",
    )
    .bind(n)
    .fetch_one(app.state.db.operator("test").reader())
    .await
    .unwrap()
    .get(0);
    assert_eq!(reopened, 1, "one reopening, however many replies");
    let audited = app
        .audit_actions("acme")
        .await
        .iter()
        .filter(|a| *a == "ticket.commented")
        .count();
    assert!(audited >= 8, "every comment is audited");
}
crate::db_test!(
    concurrent_replies,
    concurrent_replies_to_a_pending_ticket_all_land
);
