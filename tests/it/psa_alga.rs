//! PSA two-way sync with the Alga PSA connector, against a fake Alga on loopback
//! (`fake_alga.rs`): a portal ticket reaches Alga, Alga's reply and status come back, an outage
//! delivers every pending change once, `Retry-After` is honoured, a contact's client-portal
//! user decides portal access, a wrong API key is reported on the run.

#[path = "fake_alga.rs"]
mod fake_alga;

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

use crate::psa::{ok_json, psa_id, raise, settings_form, sync, sync_err};
use crate::support::{Session, TestApp};
use fake_alga::{API_KEY, FakeAlga};

/// A connected fake Alga: Globex's client id, the tech's user id, acme's staff session.
struct Alga {
    fake: FakeAlga,
    globex: String,
    tech: String,
    staff: Session,
}

/// Saves acme's PSA settings with the Alga connector.
async fn save(app: &TestApp, fake: &FakeAlga, key: &str) -> Session {
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let base = fake.base_url();
    let mut form = settings_form(&base, key);
    form.retain(|(k, _)| *k != "connector");
    form.push(("connector", "alga"));
    let r = staff.post_form("/admin/integrations/psa", &form).await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap()
    );
    staff
}

/// Connects acme to a fake Alga that knows Globex, Bob (a client-portal user) and the tech,
/// and runs the first sync.
async fn connect(app: &TestApp) -> Alga {
    let fake = FakeAlga::start().await;
    let globex = fake.add_client("Globex");
    fake.set_contact(&globex, "bob@globex.example", "Bob", true);
    let tech = fake.add_technician("tech@acme.example");
    let staff = save(app, &fake, API_KEY).await;
    sync(app).await;
    Alga {
        fake,
        globex,
        tech,
        staff,
    }
}

async fn portal_ticket(bob: &Session, n: i64) -> serde_json::Value {
    ok_json(
        bob.get(&format!("/api/v1/tickets/{n}")).await,
        StatusCode::OK,
    )
    .await
}

async fn round_trip(app: TestApp) {
    let a = connect(&app).await;
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    let n = raise(&bob, "Printer on fire").await;
    sync(&app).await;

    // One run: the ticket is in Alga with its subject, description, client and contact.
    let id = psa_id(&app, n).await;
    assert_eq!(a.fake.creates(), 1);
    let t = a.fake.seen(&id);
    assert_eq!(t.title, "Printer on fire");
    assert!(t.description.contains("About Printer on fire."), "{t:?}");
    assert_eq!(t.client_id, a.globex);
    assert_eq!(t.requester_email.as_deref(), Some("bob@globex.example"));
    assert_eq!(t.status, "New");
    assert_eq!(t.priority, "Medium");
    assert_eq!(t.attributes["portico_ref"], json!(format!("#{n}")));

    // Bob adds detail; staff write an internal note: both reach Alga once, the note internal.
    ok_json(
        bob.post_json(
            &format!("/api/v1/tickets/{n}/comments"),
            &json!({ "body": "More detail" }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    ok_json(
        a.staff
            .post_json(
                &format!("/api/v1/admin/tickets/{n}/comments"),
                &json!({ "body": "Check the fuser", "internal": true }),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    sync(&app).await;
    let t = a.fake.seen(&id);
    let detail: Vec<_> = t
        .comments
        .iter()
        .filter(|(c, _)| c.contains("More detail"))
        .collect();
    assert_eq!(detail.len(), 1, "{t:?}");
    assert!(!detail[0].1 && detail[0].0.contains("bob@globex.example"));
    assert!(
        t.comments
            .iter()
            .any(|(c, internal)| c.contains("Check the fuser") && *internal)
    );

    // The technician replies, writes an internal note and moves the status in Alga: one run
    // brings the reply and the status to the portal, never the note.
    a.fake.reply(&id, "We are on our way", false, &a.tech);
    a.fake
        .reply(&id, "ALGA-ONLY internal remark", true, &a.tech);
    a.fake.set_status(&id, "On Hold");
    sync(&app).await;
    let v = portal_ticket(&bob, n).await;
    let text = v.to_string();
    assert_eq!(
        v["ticket"]["status"].as_str().or(v["status"].as_str()),
        Some("on_hold"),
        "{text}"
    );
    assert_eq!(
        text.matches("\"body\":\"We are on our way\"").count(),
        1,
        "{text}"
    );
    assert!(!text.contains("ALGA-ONLY"));
    // What Portico sent does not come back as a second copy.
    assert_eq!(
        text.matches("\"body\":\"More detail\"").count(),
        1,
        "{text}"
    );

    // Further runs change nothing on either side.
    let (creates, posts) = (a.fake.creates(), a.fake.comment_posts());
    sync(&app).await;
    sync(&app).await;
    assert_eq!((a.fake.creates(), a.fake.comment_posts()), (creates, posts));
    let text = portal_ticket(&bob, n).await.to_string();
    assert_eq!(text.matches("\"body\":\"We are on our way\"").count(), 1);

    // Staff's status change goes to Alga by name (the status id on the ticket's board).
    ok_json(
        a.staff
            .patch_json(
                &format!("/api/v1/admin/tickets/{n}"),
                &json!({ "status": "resolved", "priority": "urgent" }),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    sync(&app).await;
    let t = a.fake.seen(&id);
    assert_eq!(
        (t.status.as_str(), t.priority.as_str()),
        ("Resolved", "Critical")
    );

    // Tickets raised in Alga for Bob appear in his portal (more than one page of changes is
    // not needed: Alga pages at 100).
    let alga_id = a.fake.raise(&a.globex, "bob@globex.example", "From Alga");
    sync(&app).await;
    let list = bob.get("/api/v1/tickets").await.text().await.unwrap();
    assert!(list.contains("From Alga"), "{list}");
    let ian = app.api_login("acme", "ian@initech.example", "portal").await;
    let list = ian.get("/api/v1/tickets").await.text().await.unwrap();
    assert!(!list.contains("From Alga"));
    let _ = alga_id;
}
crate::db_test!(psa_alga_round_trip, round_trip);

async fn outage(app: TestApp) {
    let a = connect(&app).await;
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    a.fake.set_down(true);
    let n = raise(&bob, "Raised while Alga is down").await;
    ok_json(
        bob.post_json(
            &format!("/api/v1/tickets/{n}/comments"),
            &json!({ "body": "More detail" }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    ok_json(
        a.staff
            .patch_json(
                &format!("/api/v1/admin/tickets/{n}"),
                &json!({ "priority": "high" }),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    for _ in 0..3 {
        let e = sync_err(&app).await;
        assert!(e.contains("Alga maintenance"), "{e}");
    }
    let st = ok_json(
        a.staff.get("/api/v1/admin/integrations/psa/status").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(st["pending"], 3, "{st}");
    assert_eq!(a.fake.creates(), 0);

    // Back: every pending change arrives exactly once.
    a.fake.set_down(false);
    sync(&app).await;
    sync(&app).await;
    assert_eq!(a.fake.creates(), 1, "the ticket arrives exactly once");
    let id = psa_id(&app, n).await;
    let t = a.fake.seen(&id);
    assert_eq!(
        t.comments
            .iter()
            .filter(|(c, _)| c.contains("More detail"))
            .count(),
        1,
        "{t:?}"
    );
    assert_eq!(a.fake.comment_posts(), 1);
    assert_eq!(t.priority, "High");
    let st = ok_json(
        a.staff.get("/api/v1/admin/integrations/psa/status").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(st["pending"], 0, "{st}");
    assert!(st["last_error"].is_null(), "{st}");
}
crate::db_test!(psa_alga_outage, outage);

/// Runs until one run succeeds (the local change's own job may be running the first ones).
async fn settle(app: &TestApp) {
    let s = crate::psa::scope(app, "acme").await;
    for _ in 0..200 {
        match portico::psa::sync::run_tenant(&app.state, &s).await {
            Ok(r) if !r.busy => return,
            _ => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    panic!("no run succeeded");
}

async fn lost_answer(app: TestApp) {
    let a = connect(&app).await;
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    // Alga stores the ticket but its answer never arrives: the retry finds the ticket by the
    // key it carries instead of creating a second one.
    a.fake.lose_answers(1);
    let n = raise(&bob, "Created but the answer was lost").await;
    settle(&app).await;
    settle(&app).await;
    assert_eq!(a.fake.lost(), 1);
    assert_eq!(a.fake.creates(), 1, "no second ticket");
    let id = psa_id(&app, n).await;
    assert_eq!(a.fake.seen(&id).title, "Created but the answer was lost");
    // Nor was it pulled back as a second portal ticket.
    let list = bob.get("/api/v1/tickets").await.text().await.unwrap();
    assert_eq!(
        list.matches("Created but the answer was lost").count(),
        1,
        "{list}"
    );
    // Same for a comment.
    a.fake.lose_answers(1);
    ok_json(
        bob.post_json(
            &format!("/api/v1/tickets/{n}/comments"),
            &json!({ "body": "Posted but the answer was lost" }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    settle(&app).await;
    settle(&app).await;
    assert_eq!(a.fake.lost(), 2);
    let t = a.fake.seen(&id);
    assert_eq!(
        t.comments
            .iter()
            .filter(|(c, _)| c.contains("Posted but the answer was lost"))
            .count(),
        1,
        "{t:?}"
    );
    assert_eq!(a.fake.comment_posts(), 1);
}
crate::db_test!(psa_alga_lost_answer, lost_answer);

async fn rate_limit(app: TestApp) {
    let a = connect(&app).await;
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    let n = raise(&bob, "Raised while Alga rate limits").await;
    a.fake.rate_limit(2);
    let started = Instant::now();
    sync(&app).await;
    assert_eq!(a.fake.rate_limited(), 2);
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "each 429 waited its Retry-After second: {:?}",
        started.elapsed()
    );
    psa_id(&app, n).await;
    assert_eq!(a.fake.creates(), 1);
}
crate::db_test!(psa_alga_rate_limit, rate_limit);

async fn portal_access(app: TestApp) {
    let a = connect(&app).await;
    let status = |email: &'static str| {
        let db = app.state.db.clone();
        async move {
            sqlx::query_scalar::<_, String>("SELECT status FROM users WHERE email = $1")
                .bind(email)
                .fetch_optional(db.operator("test").reader())
                .await
                .unwrap()
        }
    };
    // A contact without a client-portal user is not a portal user.
    a.fake
        .set_contact(&a.globex, "dana@globex.example", "Dana Scully", false);
    sync(&app).await;
    assert_eq!(status("dana@globex.example").await, None);
    // Gaining one invites her.
    a.fake
        .set_contact(&a.globex, "dana@globex.example", "Dana Scully", true);
    sync(&app).await;
    assert_eq!(
        status("dana@globex.example").await.as_deref(),
        Some("invited")
    );
    assert!(
        app.last_mail_to("dana@globex.example")
            .await
            .contains("/invite/accept")
    );
    // Its deactivation takes portal access away.
    a.fake
        .set_contact(&a.globex, "dana@globex.example", "Dana Scully", false);
    sync(&app).await;
    assert_eq!(
        status("dana@globex.example").await.as_deref(),
        Some("deactivated")
    );
    // Bob kept his all along.
    assert_eq!(
        status("bob@globex.example").await.as_deref(),
        Some("active")
    );
    let actions = app.audit_actions("acme").await;
    for x in ["psa.contact_invited", "psa.contact_deactivated"] {
        assert!(actions.contains(&x.to_string()), "{x}");
    }
}
crate::db_test!(psa_alga_portal_access, portal_access);

async fn wrong_key(app: TestApp) {
    let fake = FakeAlga::start().await;
    fake.add_client("Globex");
    let staff = save(&app, &fake, "not-the-key").await;
    let e = sync_err(&app).await;
    assert!(e.contains("401") && e.contains("Invalid API key"), "{e}");
    assert!(e.contains("API key"), "{e}");
    let st = ok_json(
        staff.get("/api/v1/admin/integrations/psa/status").await,
        StatusCode::OK,
    )
    .await;
    let last = st["last_error"].as_str().unwrap_or_default();
    assert!(last.contains("Alga did not accept the API key"), "{st}");
    assert_eq!(st["recent_runs"][0]["ok"], false, "{st}");
    let html = staff
        .get("/admin/integrations/psa")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Alga did not accept the API key"));
    assert!(fake.calls().is_empty(), "nothing passed the key check");
}
crate::db_test!(psa_alga_wrong_key, wrong_key);
