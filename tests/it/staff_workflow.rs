//! Staff workflow: reply or internal note as explicit modes, staff notifications and SLA
//! warnings, replies by email, saved queue views, bulk actions and the demo data for them.

use reqwest::StatusCode;
use reqwest::multipart::Form;
use serde_json::{Value, json};

use sqlx::Row;

use crate::support::{Session, TestApp};

/// Raises a ticket as `s` through the client API; returns its number.
async fn raise(s: &Session, subject: &str) -> i64 {
    let r = s
        .post_json(
            "/api/v1/tickets",
            &json!({ "subject": subject, "description": format!("About {subject}."), "priority": "normal" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json::<Value>().await.unwrap()["number"].as_i64().unwrap()
}

/// Every queued email job's payload, oldest first.
async fn email_jobs(app: &TestApp) -> Vec<Value> {
    sqlx::query("SELECT payload FROM jobs WHERE kind = 'email' ORDER BY created_at, id")
        .fetch_all(app.state.db.operator("test").reader())
        .await
        .unwrap()
        .iter()
        .map(|r| serde_json::from_str(&r.get::<String, _>(0)).unwrap())
        .collect()
}

/// The emails queued after the first `before`.
async fn new_emails(app: &TestApp, before: usize) -> Vec<Value> {
    email_jobs(app).await.split_off(before)
}

/// `(to, subject)` of emails.
fn to_subject(jobs: &[Value]) -> Vec<(String, String)> {
    jobs.iter()
        .map(|j| {
            (
                j["to"].as_str().unwrap().to_string(),
                j["subject"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Runs a statement as the operator (test set-up only).
async fn exec(app: &TestApp, sql: &str, binds: &[&str]) {
    let mut q = sqlx::query(sql);
    for b in binds {
        q = q.bind(*b);
    }
    q.execute(app.state.db.operator("test").writer())
        .await
        .expect(sql);
}

/// `(body, internal)` of a ticket's comments as staff see them.
async fn comments(staff: &Session, n: i64) -> Vec<(String, bool)> {
    let t: Value = staff
        .get(&format!("/api/v1/admin/tickets/{n}"))
        .await
        .json()
        .await
        .unwrap();
    t["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["body"].as_str().unwrap().to_string(),
                c["internal"].as_bool().unwrap(),
            )
        })
        .collect()
}

async fn reply_and_note_are_separate_modes(app: TestApp) {
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let n = raise(&bob, "Modes").await;

    let page = staff
        .get(&format!("/admin/tickets/{n}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(r#"name="kind" value="reply" checked"#),
        "reply is the default mode"
    );
    assert!(page.contains(r#"name="kind" value="note""#));
    assert!(page.contains("Only staff will see this"));
    assert!(!page.contains(r#"name="internal""#), "the checkbox is gone");

    let path = format!("/admin/tickets/{n}/comments");
    let post = |kind: &'static str, body: &'static str| {
        let form = Form::new().text("kind", kind).text("body", body);
        staff.upload(&path, form)
    };
    let r = post("note", "NOTE-ONLY-STAFF").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap()
            .contains("notice=noted")
    );
    let r = post("reply", "PUBLIC-REPLY").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap()
            .contains("notice=replied")
    );
    // No mode, or an unknown one, is refused and nothing is added.
    let r = post("", "NO-MODE").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Choose “Reply to client” or “Internal note”."),
        "{html}"
    );
    let r = post("secret", "ODD-MODE").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    let c = comments(&staff, n).await;
    assert!(c.contains(&("NOTE-ONLY-STAFF".into(), true)), "{c:?}");
    assert!(c.contains(&("PUBLIC-REPLY".into(), false)), "{c:?}");
    assert!(!c.iter().any(|(b, _)| b == "NO-MODE" || b == "ODD-MODE"));
    let client_view = bob
        .get(&format!("/api/v1/tickets/{n}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(client_view.contains("PUBLIC-REPLY"));
    assert!(!client_view.contains("NOTE-ONLY-STAFF"));
}
crate::db_test!(staff_compose_modes, reply_and_note_are_separate_modes);

async fn staff_hear_of_new_tickets_replies_reopens_and_deadlines(app: TestApp) {
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let tech_id = app.user_id("acme", "tech@acme.example").await;
    // The technician reads Spanish.
    exec(
        &app,
        "UPDATE users SET language = 'es' WHERE id = $1",
        &[&tech_id],
    )
    .await;

    // A new unassigned ticket: every acme staff user hears of it, in their language, with a
    // link to the staff page; nobody of another tenant does.
    let before = email_jobs(&app).await.len();
    let n = raise(&bob, "Printer on fire").await;
    let mails = new_emails(&app, before).await;
    let got = to_subject(&mails);
    assert!(
        got.contains(&(
            "staff@acme.example".into(),
            format!("[#{n}] New ticket: Printer on fire")
        )),
        "{got:?}"
    );
    assert!(
        got.contains(&(
            "tech@acme.example".into(),
            format!("[#{n}] Nueva solicitud: Printer on fire")
        )),
        "{got:?}"
    );
    assert!(
        got.iter().all(|(to, _)| to.ends_with("@acme.example")),
        "{got:?}"
    );
    let staff_mail = mails
        .iter()
        .find(|j| j["to"] == "staff@acme.example")
        .unwrap();
    let url = staff_mail["action_url"].as_str().unwrap();
    assert!(
        url == "(sent)" || url.ends_with(&format!("/admin/tickets/{n}")),
        "{url}"
    );

    // Assigned: a client reply reaches the technician alone.
    let r = staff
        .patch_json(
            &format!("/api/v1/admin/tickets/{n}"),
            &json!({ "assignee_id": tech_id }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let before = email_jobs(&app).await.len();
    let r = bob
        .post_json(
            &format!("/api/v1/tickets/{n}/comments"),
            &json!({ "body": "It is smoking now." }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let got = to_subject(&new_emails(&app, before).await);
    assert_eq!(
        got,
        vec![(
            "tech@acme.example".to_string(),
            format!("[#{n}] El cliente respondió: Printer on fire")
        )]
    );

    // A client reopening a resolved ticket tells the technician.
    let r = staff
        .patch_json(
            &format!("/api/v1/admin/tickets/{n}"),
            &json!({ "status": "resolved" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let before = email_jobs(&app).await.len();
    let r = bob
        .post_json(
            &format!("/api/v1/tickets/{n}/reopen"),
            &json!({ "reason": "Smoke again." }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let got = to_subject(&new_emails(&app, before).await);
    assert!(
        got.contains(&(
            "tech@acme.example".into(),
            format!("[#{n}] Reabierta: Printer on fire")
        )),
        "{got:?}"
    );

    // The staff admin turns new-ticket emails off on the profile page; the technician still
    // hears of the next unassigned ticket.
    let page = staff.get("/admin/profile").await.text().await.unwrap();
    assert!(
        page.contains(r#"name="new_tickets" value="1" checked"#),
        "shown to staff"
    );
    assert!(page.contains(r#"name="sla_warnings""#));
    let portal_page = bob.get("/portal/profile").await.text().await.unwrap();
    assert!(
        !portal_page.contains("new_tickets"),
        "clients are not offered staff emails"
    );
    let r = staff
        .post_form(
            "/admin/profile/notifications",
            &[
                ("ticket_replies", "1"),
                ("status_changes", "1"),
                ("sla_warnings", "1"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let page = staff.get("/admin/profile").await.text().await.unwrap();
    assert!(
        page.contains(r#"name="new_tickets" value="1">"#),
        "saved unchecked"
    );
    let before = email_jobs(&app).await.len();
    let n2 = raise(&bob, "Second").await;
    let got = to_subject(&new_emails(&app, before).await);
    assert!(
        got.iter().any(|(to, _)| to == "tech@acme.example"),
        "{got:?}"
    );
    assert!(
        !got.iter().any(|(to, _)| to == "staff@acme.example"),
        "{got:?}"
    );

    // Raised by staff on the client's behalf: the client gets a confirmation.
    let bob_id = app.user_id("acme", "bob@globex.example").await;
    let before = email_jobs(&app).await.len();
    let r = staff
        .post_json(
            "/api/v1/admin/tickets",
            &json!({ "requester_id": bob_id, "subject": "Raised for you", "description": "From a call." }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let n3 = r.json::<Value>().await.unwrap()["number"].as_i64().unwrap();
    let mails = new_emails(&app, before).await;
    let got = to_subject(&mails);
    assert!(
        got.contains(&(
            "bob@globex.example".into(),
            format!("[#{n3}] We opened a ticket for you: Raised for you")
        )),
        "{got:?}"
    );
    let bob_mail = mails
        .iter()
        .find(|j| j["to"] == "bob@globex.example")
        .unwrap();
    let url = bob_mail["action_url"].as_str().unwrap();
    assert!(
        url == "(sent)" || url.ends_with(&format!("/portal/tickets/{n3}")),
        "{url}"
    );

    // SLA: a first response due in ten minutes warns the staff side once; a deadline two hours
    // away does not yet.
    let now = portico::db::now_ms();
    let soon = (now + 10 * 60_000).to_string();
    let later = (now + 120 * 60_000).to_string();
    let n2s = n2.to_string();
    let n3s = n3.to_string();
    exec(
        &app,
        "UPDATE tickets SET first_response_due_at = CAST($1 AS BIGINT), resolution_due_at = CAST($2 AS BIGINT) \
         WHERE number = CAST($3 AS BIGINT) AND tenant_id = (SELECT id FROM tenants WHERE slug = 'acme')",
        &[&soon, &later, &n2s],
    )
    .await;
    exec(
        &app,
        "UPDATE tickets SET first_response_due_at = CAST($1 AS BIGINT), resolution_due_at = CAST($1 AS BIGINT) \
         WHERE number = CAST($2 AS BIGINT) AND tenant_id = (SELECT id FROM tenants WHERE slug = 'acme')",
        &[&later, &n3s],
    )
    .await;
    let before = email_jobs(&app).await.len();
    let sent = portico::tickets::sla::scan(&app.state).await.unwrap();
    assert!(sent >= 1);
    let got = to_subject(&new_emails(&app, before).await);
    let warned: Vec<_> = got
        .iter()
        .filter(|(_, s)| s.contains(&format!("#{n2}]")))
        .collect();
    assert!(
        warned.contains(&&(
            "tech@acme.example".to_string(),
            format!("[#{n2}] Vence pronto: Second")
        )),
        "{got:?}"
    );
    assert!(
        warned.iter().any(|(to, _)| to == "staff@acme.example"),
        "SLA warnings stay on for the admin: {got:?}"
    );
    assert!(
        !got.iter().any(|(_, s)| s.contains(&format!("#{n3}]"))),
        "{got:?}"
    );
    let before = email_jobs(&app).await.len();
    portico::tickets::sla::scan(&app.state).await.unwrap();
    let again = to_subject(&new_emails(&app, before).await);
    assert!(
        !again.iter().any(|(_, s)| s.contains(&format!("#{n2}]"))),
        "warned once: {again:?}"
    );
    assert!(
        app.audit_actions("acme")
            .await
            .contains(&"ticket.sla_warned".to_string())
    );
}
crate::db_test!(
    staff_notifications,
    staff_hear_of_new_tickets_replies_reopens_and_deadlines
);

const INBOUND_SECRET: &str = "inbound-secret-for-tests-0123456789";
const INBOUND_DOMAIN: &str = "in.portico.test";

async fn inbound_app(db: crate::support::Db) -> Option<TestApp> {
    TestApp::spawn_with(db, |c| {
        c.inbound_domain = Some(INBOUND_DOMAIN.into());
        c.inbound_secret = Some(INBOUND_SECRET.into());
    })
    .await
}

/// A real MIME reply: multipart/alternative, quoted-printable text with the quoted message.
fn reply_mail(from: &str, to: &str, message_id: &str, text: &str) -> String {
    format!(
        "From: Someone <{from}>\r\nTo: {to}\r\nSubject: Re: your ticket\r\nMessage-ID: <{message_id}>\r\n\
         Date: Thu, 03 Dec 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/alternative; boundary=\"b1\"\r\n\r\n\
         --b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n\
         {text}\r\n\r\nOn Thu, 3 Dec 2026 at 09:00, Acme Support <support@acme.example>\r\nwrote:\r\n\
         > We are looking into it.\r\n> QUOTED-OLD-TEXT\r\n\
         --b1\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>{text}</p><blockquote>QUOTED-OLD-TEXT</blockquote>\r\n--b1--\r\n"
    )
}

async fn post_inbound(app: &TestApp, secret: Option<&str>, raw: String) -> (StatusCode, Value) {
    let mut req = app
        .client()
        .post(app.url("/inbound/email"))
        .header("content-type", "message/rfc822")
        .body(raw);
    if let Some(s) = secret {
        req = req.header("x-portico-inbound-secret", s);
    }
    let r = req.send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn replies_by_email(app: TestApp) {
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let n = raise(&bob, "Mail reply").await;
    let before = email_jobs(&app).await.len();
    let r = staff
        .post_json(
            &format!("/api/v1/admin/tickets/{n}/comments"),
            &json!({ "body": "We are looking into it." }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let mails = new_emails(&app, before).await;
    let to_bob = mails
        .iter()
        .find(|j| j["to"] == "bob@globex.example")
        .unwrap();
    let address = to_bob["reply_to"].as_str().unwrap().to_string();
    assert!(
        address.starts_with(&format!("reply+{n}."))
            && address.ends_with(&format!("@{INBOUND_DOMAIN}")),
        "{address}"
    );
    assert!(to_bob["lines"].to_string().contains(&address));
    // The sent message carries it as its Reply-To, so "Reply" in a mail client just works.
    let eml = app.last_mail_to("bob@globex.example").await;
    assert!(eml.contains(&format!("Reply-To: {address}")), "{eml}");

    // The gateway must present the secret.
    let mail = reply_mail(
        "bob@globex.example",
        &address,
        "m1@globex.example",
        "Thanks =E2=80=94 it works now.",
    );
    let (status, body) = post_inbound(&app, None, mail.clone()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (status, _) = post_inbound(&app, Some("wrong-secret-wrong-secret"), mail.clone()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Taken in as Bob's comment, quoted text gone, staff told, audited.
    let before = email_jobs(&app).await.len();
    let (status, body) = post_inbound(&app, Some(INBOUND_SECRET), mail.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let c = comments(&staff, n).await;
    let added: Vec<_> = c
        .iter()
        .filter(|(b, _)| b.starts_with("Thanks — it works now."))
        .collect();
    assert_eq!(added.len(), 1, "{c:?}");
    assert_eq!(added[0].0, "Thanks — it works now.");
    assert!(!added[0].1, "a client's email reply is public");
    assert!(!c.iter().any(|(b, _)| b.contains("QUOTED-OLD-TEXT")));
    let got = to_subject(&new_emails(&app, before).await);
    assert!(
        got.iter()
            .any(|(to, s)| to.ends_with("@acme.example") && s.contains("Client replied")),
        "{got:?}"
    );
    let t: Value = bob
        .get(&format!("/api/v1/tickets/{n}"))
        .await
        .json()
        .await
        .unwrap();
    let last = t["comments"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        last["author"]["id"],
        app.user_id("acme", "bob@globex.example").await
    );
    assert!(
        app.audit_actions("acme")
            .await
            .contains(&"ticket.commented".to_string())
    );

    // The same message delivered again adds nothing.
    let (status, body) = post_inbound(&app, Some(INBOUND_SECRET), mail.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "duplicate");
    // Two deliveries of a new message at the same moment add it once.
    let m2 = reply_mail(
        "bob@globex.example",
        &address,
        "m2@globex.example",
        "Second thought.",
    );
    let (a, b) = tokio::join!(
        post_inbound(&app, Some(INBOUND_SECRET), m2.clone()),
        post_inbound(&app, Some(INBOUND_SECRET), m2.clone())
    );
    let mut statuses = [a.0.as_u16(), b.0.as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 201], "{a:?} {b:?}");
    let c = comments(&staff, n).await;
    assert_eq!(
        c.iter()
            .filter(|(b, _)| b.starts_with("Thanks — it works"))
            .count(),
        1
    );
    assert_eq!(
        c.iter().filter(|(b, _)| b == "Second thought.").count(),
        1,
        "{c:?}"
    );

    // Refusals: each with its reason and no comment.
    let count = comments(&staff, n).await.len();
    let (local, _) = address.split_once('@').unwrap();
    let token = local.rsplit_once('.').unwrap().1;
    let flipped: String = token
        .chars()
        .enumerate()
        .map(|(i, ch)| {
            if i == 0 {
                if ch == 'a' { 'b' } else { 'a' }
            } else {
                ch
            }
        })
        .collect();
    let forged = format!("reply+{n}.{flipped}@{INBOUND_DOMAIN}");
    let (status, body) = post_inbound(
        &app,
        Some(INBOUND_SECRET),
        reply_mail("bob@globex.example", &forged, "m3@x", "Forged"),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"]["code"], "bad_token");
    // The token of this ticket does not open another one.
    let moved = format!("reply+{}.{token}@{INBOUND_DOMAIN}", n - 1);
    let (status, body) = post_inbound(
        &app,
        Some(INBOUND_SECRET),
        reply_mail("bob@globex.example", &moved, "m4@x", "Moved"),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"]["code"], "bad_token");
    // A token made for this ticket number in another tenant matches nothing here.
    let grace_id: String = sqlx::query("SELECT id FROM tenants WHERE slug = 'grace'")
        .fetch_one(app.state.db.operator("test").reader())
        .await
        .unwrap()
        .get(0);
    let ticket_id: String = sqlx::query(
        "SELECT k.id FROM tickets k JOIN tenants t ON t.id = k.tenant_id WHERE t.slug = 'acme' AND k.number = $1",
    )
    .bind(n)
    .fetch_one(app.state.db.operator("test").reader())
    .await
    .unwrap()
    .get(0);
    let other =
        portico::tickets::inbound::token(&app.state.config.secret_key, &grace_id, &ticket_id);
    let cross = format!("reply+{n}.{other}@{INBOUND_DOMAIN}");
    let (status, body) = post_inbound(
        &app,
        Some(INBOUND_SECRET),
        reply_mail("bob@globex.example", &cross, "m5@x", "Cross"),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"]["code"], "bad_token");
    // Strangers: a client of another company, another tenant's staff, an unknown address.
    for (who, id) in [
        ("ian@initech.example", "m6@x"),
        ("pastor@grace.example", "m7@x"),
        ("nobody@elsewhere.example", "m8@x"),
    ] {
        let (status, body) = post_inbound(
            &app,
            Some(INBOUND_SECRET),
            reply_mail(who, &address, id, "Let me in"),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{who}: {body}");
        assert_eq!(body["error"]["code"], "unknown_sender", "{who}");
    }
    // Oversized, and not a message at all.
    let huge = reply_mail(
        "bob@globex.example",
        &address,
        "m9@x",
        &"x".repeat(600 * 1024),
    );
    let (status, body) = post_inbound(&app, Some(INBOUND_SECRET), huge).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(body["error"]["code"], "too_large");
    let (status, _) = post_inbound(&app, Some(INBOUND_SECRET), "just some words".into()).await;
    assert_eq!(status.as_u16() / 100, 4);
    assert_eq!(
        comments(&staff, n).await.len(),
        count,
        "no refused message added a comment"
    );

    // Staff may answer by email too (a public reply); a finished ticket refuses the client.
    let (status, body) = post_inbound(
        &app,
        Some(INBOUND_SECRET),
        reply_mail(
            "tech@acme.example",
            &address,
            "m10@x",
            "Replaced the cable.",
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(
        comments(&staff, n)
            .await
            .contains(&("Replaced the cable.".into(), false))
    );
    let r = staff
        .patch_json(
            &format!("/api/v1/admin/tickets/{n}"),
            &json!({ "status": "closed" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let (status, body) = post_inbound(
        &app,
        Some(INBOUND_SECRET),
        reply_mail("bob@globex.example", &address, "m11@x", "One more thing"),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("finished"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inbound_email_sqlite() {
    replies_by_email(
        inbound_app(crate::support::Db::Sqlite)
            .await
            .expect("sqlite app"),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inbound_email_postgres() {
    if let Some(app) = inbound_app(crate::support::Db::Postgres).await {
        replies_by_email(app).await;
    }
}

/// `(status, assignee id)` of a ticket as staff see it.
async fn state_of(staff: &Session, n: i64) -> (String, Option<String>) {
    let t: Value = staff
        .get(&format!("/api/v1/admin/tickets/{n}"))
        .await
        .json()
        .await
        .unwrap();
    (
        t["status"].as_str().unwrap().to_string(),
        t["assignee"]["id"].as_str().map(str::to_string),
    )
}

async fn saved_views_bulk_actions_and_shortcuts(app: TestApp) {
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let tech = app.api_login("acme", "tech@acme.example", "admin").await;
    let grace = app
        .api_login("grace", "pastor@grace.example", "admin")
        .await;
    let tech_id = app.user_id("acme", "tech@acme.example").await;

    // Save the current filters; paging and unknown keys are not kept.
    let r = staff
        .post_form(
            "/admin/tickets/views",
            &[
                ("name", "Urgent open"),
                ("query", "status=open&priority=urgent&cursor=abc&evil=1"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        r.headers()["location"],
        "/admin/tickets?status=open&priority=urgent&notice=view_saved"
    );
    let page = staff.get("/admin/tickets").await.text().await.unwrap();
    // The link to it, among the demo admin's own view.
    let id = page
        .split("href=\"/admin/tickets/views/")
        .skip(1)
        .find_map(|part| {
            let (id, rest) = part.split_once('"')?;
            rest.starts_with(">Urgent open<").then(|| id.to_string())
        })
        .expect("the view is listed above the queue");
    assert!(page.contains("Urgent open"));
    assert!(
        page.contains("data-confirm=\"Delete the view “Urgent open”?\""),
        "delete asks first"
    );
    let r = staff
        .post_form("/admin/tickets/views", &[("name", ""), ("query", "")])
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "a view needs a name");

    // Opening it applies its filters.
    let r = staff.get(&format!("/admin/tickets/views/{id}")).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        r.headers()["location"],
        "/admin/tickets?status=open&priority=urgent"
    );
    // Nobody else opens or deletes it: not a colleague, not another tenant's staff.
    for s in [&tech, &grace] {
        assert_eq!(
            s.get(&format!("/admin/tickets/views/{id}")).await.status(),
            StatusCode::NOT_FOUND
        );
        let r = s
            .post_form(&format!("/admin/tickets/views/{id}/delete"), &[])
            .await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
    }
    assert!(
        !tech
            .get("/admin/tickets")
            .await
            .text()
            .await
            .unwrap()
            .contains("Urgent open")
    );
    let r = staff
        .post_form(&format!("/admin/tickets/views/{id}/delete"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        staff
            .get(&format!("/admin/tickets/views/{id}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let actions = app.audit_actions("acme").await;
    assert!(actions.contains(&"ticket.view_saved".to_string()));
    assert!(actions.contains(&"ticket.view_deleted".to_string()));

    // The queue: a checkbox per row (with its label for stacked cards), select-all, shortcuts.
    let n1 = raise(&bob, "Bulk one").await;
    let n2 = raise(&bob, "Bulk two").await;
    let n3 = raise(&bob, "Bulk three").await;
    let page = staff.get("/admin/tickets").await.text().await.unwrap();
    assert!(page.contains(&format!(r#"name="number" value="{n1}""#)));
    assert!(page.contains(r#"<td data-label="Select">"#));
    assert!(page.contains("data-select-all"));
    assert!(page.contains("data-kb-queue"));
    assert!(page.contains("Keyboard shortcuts"));
    let detail = staff
        .get(&format!("/admin/tickets/{n1}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(detail.contains("data-reply-box"), "r focuses the reply box");

    // Bulk assign: each ticket through the service (audited, one row each).
    let assigned_before = app
        .audit_actions("acme")
        .await
        .iter()
        .filter(|a| *a == "ticket.assigned")
        .count();
    let (s1, s2) = (n1.to_string(), n2.to_string());
    let r = staff
        .post_form(
            "/admin/tickets/bulk",
            &[
                ("number", &s1),
                ("number", &s2),
                ("action", "assign"),
                ("assignee_id", &tech_id),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains(&format!("#{n1}: changed.")), "{html}");
    assert_eq!(
        state_of(&staff, n1).await.1.as_deref(),
        Some(tech_id.as_str())
    );
    assert_eq!(
        state_of(&staff, n2).await.1.as_deref(),
        Some(tech_id.as_str())
    );
    assert_eq!(state_of(&staff, n3).await.1, None);
    let assigned_after = app
        .audit_actions("acme")
        .await
        .iter()
        .filter(|a| *a == "ticket.assigned")
        .count();
    assert_eq!(assigned_after, assigned_before + 2);

    // Bulk status, reported per ticket: an unknown number and a refused transition are named,
    // the others change.
    let s3 = n3.to_string();
    let r = staff
        .post_form(
            "/admin/tickets/bulk",
            &[
                ("number", &s1),
                ("number", &s3),
                ("number", "999999"),
                ("action", "status"),
                ("status", "resolved"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("#999999: <span class=\"field-error\">no such ticket.</span>"),
        "{html}"
    );
    assert_eq!(state_of(&staff, n1).await.0, "resolved");
    assert_eq!(state_of(&staff, n3).await.0, "resolved");
    assert_eq!(state_of(&staff, n2).await.0, "new");
    let r = staff
        .post_form(
            "/admin/tickets/bulk",
            &[("number", &s1), ("action", "status"), ("status", "new")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("cannot be set to"), "{html}");
    let r = staff
        .post_form(
            "/admin/tickets/bulk",
            &[("action", "status"), ("status", "open")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "nothing selected");

    // Another tenant's staff cannot change these tickets by number.
    let r = grace
        .post_form(
            "/admin/tickets/bulk",
            &[("number", &s2), ("action", "status"), ("status", "closed")],
        )
        .await;
    // (A Mission tenant has no ticket queue at all: the request layer answers 404.)
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(!r.text().await.unwrap().contains("Globex"));
    assert_eq!(state_of(&staff, n2).await.0, "new");
    // Clients cannot use it at all.
    let r = bob
        .post_form(
            "/admin/tickets/bulk",
            &[("number", &s2), ("action", "status"), ("status", "closed")],
        )
        .await;
    assert!(
        matches!(r.status().as_u16(), 303 | 401 | 403),
        "{}",
        r.status()
    );
    assert_eq!(state_of(&staff, n2).await.0, "new");
}
crate::db_test!(staff_views_and_bulk, saved_views_bulk_actions_and_shortcuts);

async fn demo_has_a_view_and_a_note(app: TestApp) {
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let page = staff.get("/admin/tickets").await.text().await.unwrap();
    assert!(
        page.contains(portico::tickets::demo::DEMO_VIEW_NAME),
        "the demo admin has a saved view"
    );
    let tech = app.api_login("acme", "tech@acme.example", "admin").await;
    let page = tech.get("/admin/tickets").await.text().await.unwrap();
    assert!(
        !page.contains(portico::tickets::demo::DEMO_VIEW_NAME),
        "views are per user"
    );
    // Seeding again adds no second view.
    portico::demo::seed(&app.state.db).await.unwrap();
    let n: i64 = sqlx::query("SELECT COUNT(*) FROM saved_views")
        .fetch_one(app.state.db.operator("test").reader())
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 1);
    let notes: i64 = sqlx::query(
        "SELECT COUNT(*) FROM ticket_comments c JOIN tenants t ON t.id = c.tenant_id WHERE t.slug = 'acme' AND c.internal = 1",
    )
    .fetch_one(app.state.db.operator("test").reader())
    .await
    .unwrap()
    .get(0);
    assert!(notes >= 1, "a demo ticket carries an internal note");
}
crate::db_test!(staff_demo_data, demo_has_a_view_and_a_note);
