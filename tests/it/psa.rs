//! PSA two-way sync against a fake PSA on loopback (generic contract): the integrations index,
//! settings and permissions, tickets/comments/status both ways, the conflict rule, an outage
//! with exactly-once delivery, rate limits, the per-tenant lease across two nodes, the
//! signed webhook, provisioning of companies and contacts.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::Row;

use crate::fake_psa::{API_KEY, FakePsa};
use crate::support::{Session, TestApp};
use portico::psa::sync::{Report, run_tenant};
use portico::tenancy::TenantScope;

pub(crate) async fn scope(app: &TestApp, slug: &str) -> TenantScope {
    portico::tenancy::store::by_slug(&app.state.db, slug)
        .await
        .unwrap()
        .unwrap()
        .scope()
}

/// One finished sync run (waiting while another run holds the lease).
pub(crate) async fn sync(app: &TestApp) -> Report {
    let s = scope(app, "acme").await;
    for _ in 0..200 {
        let r = run_tenant(&app.state, &s).await.expect("sync run");
        if !r.busy {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the lease never came free");
}

/// A run that is expected to fail (the PSA is down).
pub(crate) async fn sync_err(app: &TestApp) -> String {
    let s = scope(app, "acme").await;
    for _ in 0..200 {
        match run_tenant(&app.state, &s).await {
            Ok(r) if r.busy => tokio::time::sleep(Duration::from_millis(50)).await,
            Ok(r) => panic!("the run should fail: {r:?}"),
            Err(e) => return e.to_string(),
        }
    }
    panic!("the lease never came free");
}

pub(crate) fn settings_form<'a>(base: &'a str, key: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("connector", "generic"),
        ("base_url", base),
        ("api_key", key),
        ("enabled", "on"),
        ("interval_minutes", "5"),
        ("status_new", "New"),
        ("status_open", "In Progress"),
        ("status_pending", "Waiting on Client"),
        ("status_on_hold", "On Hold"),
        ("status_resolved", "Resolved"),
        ("status_closed", "Closed"),
        ("priority_low", "Low"),
        ("priority_normal", "Medium"),
        ("priority_high", "High"),
        ("priority_urgent", "Critical"),
    ]
}

/// Connects acme to the fake (Globex is known to it) and runs the first sync.
async fn connect(app: &TestApp, fake: &FakePsa) -> Session {
    fake.add_company("C-GLOBEX", "Globex");
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let base = fake.base_url();
    let r = staff
        .post_form("/admin/integrations/psa", &settings_form(&base, API_KEY))
        .await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap()
    );
    sync(app).await;
    staff
}

pub(crate) async fn ok_json(r: reqwest::Response, want: StatusCode) -> Value {
    let status = r.status();
    let body = r.text().await.unwrap();
    assert_eq!(status, want, "{body}");
    serde_json::from_str(&body).unwrap_or(Value::Null)
}

pub(crate) async fn raise(s: &Session, subject: &str) -> i64 {
    let v = ok_json(
        s.post_json(
            "/api/v1/tickets",
            &json!({ "subject": subject, "description": format!("About {subject}."), "priority": "normal" }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    v["number"].as_i64().unwrap()
}

pub(crate) async fn psa_id(app: &TestApp, number: i64) -> String {
    let row = sqlx::query(
        "SELECT l.external_id FROM psa_links l JOIN tickets t ON t.id = l.local_id AND t.tenant_id = l.tenant_id \
         WHERE l.kind = 'ticket' AND t.number = $1",
    )
    .bind(number)
    .fetch_one(app.state.db.operator("test").reader())
    .await
    .expect("ticket link");
    row.get::<String, _>(0)
}

async fn index_and_settings(app: TestApp) {
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let html = staff.get("/admin/integrations").await.text().await.unwrap();
    for href in [
        "/admin/integrations/psa",
        "/admin/integrations/legal",
        "/admin/integrations/identity",
    ] {
        assert!(html.contains(href), "{href}");
    }
    // The Mission side has the index without the PSA.
    let pastor = app
        .api_login("grace", "pastor@grace.example", "admin")
        .await;
    let r = pastor.get("/admin/integrations").await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("/admin/integrations/legal") && !html.contains("/admin/integrations/psa")
    );
    assert_eq!(
        pastor.get("/admin/integrations/psa").await.status(),
        StatusCode::NOT_FOUND
    );
    // Technicians may not configure integrations; clients never reach the admin side.
    let tech = app.api_login("acme", "tech@acme.example", "admin").await;
    assert_eq!(
        tech.get("/admin/integrations").await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        tech.get("/api/v1/admin/integrations/psa/status")
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let r = tech
        .post_form(
            "/admin/integrations/psa",
            &settings_form("http://x.test", "k"),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // The demo tenant shows a paused connection with its run history, and the linked demo
    // ticket names its PSA ticket and the recorded conflict to staff (never to the client).
    let html = staff
        .get("/admin/integrations/psa")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains(portico::psa::demo::DEMO_BASE_URL), "{html}");
    assert!(html.contains("data-psa-run=\"ok\"") && html.contains("data-psa-run=\"error\""));
    let vpn: i64 =
        sqlx::query("SELECT number FROM tickets WHERE subject = 'VPN disconnects every hour'")
            .fetch_one(app.state.db.operator("test").reader())
            .await
            .unwrap()
            .get(0);
    let html = staff
        .get(&format!("/admin/tickets/{vpn}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("T-4711") && html.contains("data-psa-conflict=\"priority\""));
    let alice = app
        .api_login("acme", "alice@globex.example", "portal")
        .await;
    let html = alice
        .get(&format!("/tickets/{vpn}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(!html.contains("T-4711") && !html.contains("data-psa-conflict"));
    // Paused: local changes are not recorded for the PSA.
    raise(&alice, "While the demo PSA is paused").await;
    let outbox: i64 = sqlx::query("SELECT CAST(COUNT(*) AS BIGINT) FROM psa_outbox")
        .fetch_one(app.state.db.operator("test").reader())
        .await
        .unwrap()
        .get(0);
    assert_eq!(outbox, 0);

    // Validation errors come back beside the fields, in Spanish for a Spanish viewer too.
    let r = staff
        .post_form("/admin/integrations/psa", &settings_form("not a url", ""))
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = r.text().await.unwrap();
    assert!(html.contains("role=\"alert\"") && html.contains("psa-base-err"));

    // Saved: the key is sealed (never stored or shown in clear), a webhook secret exists.
    let fake = FakePsa::start().await;
    let staff = connect(&app, &fake).await;
    let row = sqlx::query("SELECT api_key_sealed FROM psa_settings")
        .fetch_one(app.state.db.operator("test").reader())
        .await
        .unwrap();
    let sealed: String = row.get(0);
    assert!(!sealed.contains(API_KEY));
    let html = staff
        .get("/admin/integrations/psa")
        .await
        .text()
        .await
        .unwrap();
    assert!(!html.contains(API_KEY) && html.contains("whsec_"));
    let st = ok_json(
        staff.get("/api/v1/admin/integrations/psa/status").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(st["configured"], true);
    assert!(st["last_success_at"].is_i64());
    // Test connection reports what the PSA answered.
    let r = staff.post_form("/admin/integrations/psa/test", &[]).await;
    let html = r.text().await.unwrap();
    assert!(html.contains("The PSA answered"), "{html}");
    let actions = app.audit_actions("acme").await;
    assert!(actions.contains(&"psa.settings_saved".to_string()));
    assert!(actions.contains(&"psa.connection_tested".to_string()));
}
crate::db_test!(psa_index_and_settings, index_and_settings);

async fn round_trip(app: TestApp) {
    let fake = FakePsa::start().await;
    let staff = connect(&app, &fake).await;
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    let n = raise(&bob, "Printer on fire").await;
    sync(&app).await;
    let id = psa_id(&app, n).await;
    let t = fake.ticket(&id);
    assert_eq!(t.subject, "Printer on fire");
    assert_eq!(t.requester_email.as_deref(), Some("bob@globex.example"));
    assert_eq!(t.company_id.as_deref(), Some("C-GLOBEX"));
    assert_eq!(t.priority, "Medium");
    assert_eq!(fake.creates(), 1, "{:?}", fake.tickets());

    // Portico's internal note goes to the PSA as internal.
    ok_json(
        staff
            .post_json(
                &format!("/api/v1/admin/tickets/{n}/comments"),
                &json!({ "body": "Check the fuser", "internal": true }),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    sync(&app).await;
    let t = fake.ticket(&id);
    assert!(
        t.comments
            .iter()
            .any(|c| c.body == "Check the fuser" && c.internal)
    );

    // The technician replies, writes an internal note and moves the status in the PSA.
    let mut events = app.state.events.subscribe();
    fake.reply(&id, "We are on our way", false, "tech@acme.example");
    fake.reply(&id, "PSA-ONLY internal remark", true, "tech@acme.example");
    fake.edit(&id, |t| t.status = "On Hold".into());
    sync(&app).await;
    let v = ok_json(
        bob.get(&format!("/api/v1/tickets/{n}")).await,
        StatusCode::OK,
    )
    .await;
    let text = v.to_string();
    assert_eq!(
        v["ticket"]["status"].as_str().or(v["status"].as_str()),
        Some("on_hold"),
        "{text}"
    );
    assert!(text.contains("We are on our way"));
    assert!(
        !text.contains("PSA-ONLY"),
        "internal PSA notes never reach the portal"
    );
    let staff_view = staff
        .get(&format!("/api/v1/admin/tickets/{n}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(!staff_view.contains("PSA-ONLY"));
    // Live: an open page hears the reply and the change.
    let mut kinds = Vec::new();
    while let Ok(Ok(e)) = tokio::time::timeout(Duration::from_secs(2), events.recv()).await {
        if e.object_id == n.to_string() {
            assert!(!e.internal);
            kinds.push(e.kind.as_str());
        }
        if kinds.contains(&"ticket.comment") && kinds.contains(&"ticket.updated") {
            break;
        }
    }
    assert!(
        kinds.contains(&"ticket.comment") && kinds.contains(&"ticket.updated"),
        "{kinds:?}"
    );

    // Nothing echoes back and a second run adds nothing.
    let patches = fake.patches().len();
    let posts = fake.comment_posts();
    sync(&app).await;
    sync(&app).await;
    assert_eq!(fake.patches().len(), patches);
    assert_eq!(fake.comment_posts(), posts);
    let v = ok_json(
        bob.get(&format!("/api/v1/tickets/{n}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        v.to_string()
            .matches("\"body\":\"We are on our way\"")
            .count(),
        1
    );

    // Tickets raised in the PSA for Bob appear in his portal (three: more than one page).
    for s in ["From PSA one", "From PSA two", "From PSA three"] {
        fake.raise("C-GLOBEX", "bob@globex.example", s);
    }
    sync(&app).await;
    let list = bob.get("/api/v1/tickets").await.text().await.unwrap();
    for s in ["From PSA one", "From PSA two", "From PSA three"] {
        assert!(list.contains(s), "{s}");
    }
    // Another company cannot see them.
    let ian = app.api_login("acme", "ian@initech.example", "portal").await;
    let list = ian.get("/api/v1/tickets").await.text().await.unwrap();
    assert!(!list.contains("From PSA"));
}
crate::db_test!(psa_round_trip, round_trip);

async fn conflicts(app: TestApp) {
    let fake = FakePsa::start().await;
    let staff = connect(&app, &fake).await;
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    let n = raise(&bob, "Conflicting ticket").await;
    sync(&app).await;
    let id = psa_id(&app, n).await;

    // Between runs: the PSA changes status and priority and comments...
    fake.edit(&id, |t| {
        t.status = "Resolved".into();
        t.priority = "Low".into();
    });
    fake.reply(&id, "PSA side comment", false, "tech@acme.example");
    tokio::time::sleep(Duration::from_millis(20)).await;
    // ...then Portico changes the same fields (later) and comments.
    ok_json(
        staff
            .patch_json(
                &format!("/api/v1/admin/tickets/{n}"),
                &json!({ "status": "pending", "priority": "urgent" }),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    ok_json(
        staff
            .post_json(
                &format!("/api/v1/admin/tickets/{n}/comments"),
                &json!({ "body": "Portico side comment" }),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    // The local change's own push job may run first; either way the rule is the same.
    sync(&app).await;
    sync(&app).await;

    // The PSA wins the status; the later change (Portico's) wins the priority, everywhere.
    let v = ok_json(
        staff.get(&format!("/api/v1/admin/tickets/{n}")).await,
        StatusCode::OK,
    )
    .await;
    let text = v.to_string();
    assert!(text.contains("\"status\":\"resolved\""), "{text}");
    assert!(text.contains("\"priority\":\"urgent\""), "{text}");
    let t = fake.ticket(&id);
    assert_eq!(t.status, "Resolved");
    assert_eq!(t.priority, "Critical");
    // Both comments exist exactly once on both sides.
    assert_eq!(text.matches("\"body\":\"PSA side comment\"").count(), 1);
    assert_eq!(text.matches("\"body\":\"Portico side comment\"").count(), 1);
    assert_eq!(
        t.comments
            .iter()
            .filter(|c| c.body == "PSA side comment")
            .count(),
        1
    );
    assert_eq!(
        t.comments
            .iter()
            .filter(|c| c.body == "Portico side comment")
            .count(),
        1
    );
    // Recorded in the audit log and visible to staff on the ticket.
    let actions = app.audit_actions("acme").await;
    assert_eq!(actions.iter().filter(|a| *a == "psa.conflict").count(), 2);
    let c = ok_json(
        staff
            .get(&format!(
                "/api/v1/admin/integrations/psa/tickets/{n}/conflicts"
            ))
            .await,
        StatusCode::OK,
    )
    .await;
    let c = c.as_array().unwrap();
    assert!(
        c.iter()
            .any(|x| x["field"] == "status" && x["winner"] == "psa")
    );
    assert!(
        c.iter()
            .any(|x| x["field"] == "priority" && x["winner"] == "portico")
    );
    // The staff ticket page shows them beside the PSA ticket id.
    let html = staff
        .get(&format!("/admin/tickets/{n}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains(&id));
    assert!(
        html.contains("data-psa-conflict=\"status\"")
            && html.contains("data-psa-conflict=\"priority\"")
    );
    // Not for clients.
    let html = bob
        .get(&format!("/tickets/{n}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(!html.contains("data-psa-conflict"));
    let r = bob
        .get(&format!(
            "/api/v1/admin/integrations/psa/tickets/{n}/conflicts"
        ))
        .await;
    assert!(r.status() == StatusCode::UNAUTHORIZED || r.status() == StatusCode::FORBIDDEN);
}
crate::db_test!(psa_conflicts, conflicts);

async fn outage(app: TestApp) {
    let fake = FakePsa::start().await;
    let staff = connect(&app, &fake).await;
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    fake.set_down(true);
    let n = raise(&bob, "Raised while the PSA is down").await;
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
        staff
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
        assert!(e.contains("PSA maintenance"), "{e}");
    }
    let st = ok_json(
        staff.get("/api/v1/admin/integrations/psa/status").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(st["pending"], 3);
    assert!(
        st["last_error"]
            .as_str()
            .unwrap()
            .contains("PSA maintenance")
    );
    let html = staff
        .get("/admin/integrations/psa")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("PSA maintenance"));
    assert_eq!(fake.creates(), 0);
    let failed_runs = st["recent_runs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["ok"] == false)
        .count();
    assert!(failed_runs >= 3, "{st}");

    // Back up, but rate limiting at first: the connector waits as Retry-After says.
    fake.set_down(false);
    fake.rate_limit(1);
    sync(&app).await;
    sync(&app).await;
    assert!(fake.rate_limited() >= 1);
    assert_eq!(fake.creates(), 1, "the ticket arrives exactly once");
    let id = psa_id(&app, n).await;
    let t = fake.ticket(&id);
    assert_eq!(
        t.comments
            .iter()
            .filter(|c| c.body == "More detail")
            .count(),
        1
    );
    assert_eq!(t.priority, "High");
    let st = ok_json(
        staff.get("/api/v1/admin/integrations/psa/status").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(st["pending"], 0);
    assert!(st["last_error"].is_null());
    let last = &st["recent_runs"][0];
    assert_eq!(last["ok"], true, "{st}");
    let pushed: i64 = st["recent_runs"]
        .as_array()
        .unwrap()
        .iter()
        // Newest first: the runs since the PSA came back (older ones are the outage's and the
        // demo history's).
        .take_while(|r| r["ok"] == true)
        .filter_map(|r| r["pushed"].as_i64())
        .sum();
    assert_eq!(
        pushed, 3,
        "the ticket, the comment and the change were pushed once: {st}"
    );
    // /metrics carries the sync status.
    let m = reqwest::get(app.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap_or_default();
    assert!(m.contains("portico_psa_sync_runs_total"), "{m}");
    assert!(m.contains("portico_psa_pending_changes"));
}
crate::db_test!(psa_outage, outage);

async fn lease(app: TestApp) {
    let fake = FakePsa::start().await;
    connect(&app, &fake).await;
    let peer = app.spawn_peer().await;
    fake.set_delay(150);
    let s = scope(&app, "acme").await;
    let (a, b) = tokio::join!(run_tenant(&app.state, &s), run_tenant(&peer.state, &s));
    let (a, b) = (a.expect("node a"), b.expect("node b"));
    assert!(a.busy != b.busy, "exactly one node ran: {a:?} {b:?}");
    assert_eq!(
        fake.max_in_flight(),
        1,
        "never two runs of one tenant at once"
    );
}
crate::db_test!(psa_lease, lease);

async fn webhook(app: TestApp) {
    let fake = FakePsa::start().await;
    connect(&app, &fake).await;
    let secret = {
        let row = sqlx::query("SELECT webhook_secret_sealed FROM psa_settings")
            .fetch_one(app.state.db.operator("test").reader())
            .await
            .unwrap();
        let sealed: String = row.get(0);
        String::from_utf8(portico::mfa::open(&app.state.config.secret_key, &sealed).unwrap())
            .unwrap()
    };
    let body = br#"{"event":"ticket.updated","id":"T-1"}"#;
    let now = chrono::Utc::now().timestamp();
    let url = app.url("/api/v1/integrations/psa/webhook?tenant=acme");
    let client = reqwest::Client::new();
    let bad = client
        .post(&url)
        .header("content-type", "application/json")
        .header(
            "x-portico-signature",
            portico::payments::sign("wrong", now, body),
        )
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
    let old = client
        .post(&url)
        .header("content-type", "application/json")
        .header(
            "x-portico-signature",
            portico::payments::sign(&secret, now - 3600, body),
        )
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(
        old.status(),
        StatusCode::UNAUTHORIZED,
        "a replayed old delivery is refused"
    );
    // Another tenant's endpoint does not take this tenant's secret.
    let other = client
        .post(app.url("/api/v1/integrations/psa/webhook?tenant=northwind"))
        .header("content-type", "application/json")
        .header(
            "x-portico-signature",
            portico::payments::sign(&secret, now, body),
        )
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::NOT_FOUND);
    let ok = client
        .post(&url)
        .header("content-type", "application/json")
        .header(
            "x-portico-signature",
            portico::payments::sign(&secret, now, body),
        )
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::ACCEPTED);
    let queued: i64 =
        sqlx::query("SELECT CAST(COUNT(*) AS BIGINT) FROM jobs WHERE kind = 'psa.sync'")
            .fetch_one(app.state.db.operator("test").reader())
            .await
            .unwrap()
            .get(0);
    assert!(queued >= 1);
}
crate::db_test!(psa_webhook, webhook);

async fn provisioning(app: TestApp) {
    let fake = FakePsa::start().await;
    fake.add_company("C-UMB", "Umbrella Corp");
    fake.set_contact(
        "P-1",
        "C-GLOBEX",
        "dana@globex.example",
        "Dana Scully",
        true,
    );
    fake.set_contact("P-2", "C-GLOBEX", "nope@globex.example", "No Access", false);
    let staff = connect(&app, &fake).await;
    let status = |email: &'static str| {
        let db = app.state.db.clone();
        async move {
            sqlx::query("SELECT status FROM users WHERE email = $1")
                .bind(email)
                .fetch_optional(db.operator("test").reader())
                .await
                .unwrap()
                .map(|r| r.get::<String, _>(0))
        }
    };
    assert_eq!(
        status("dana@globex.example").await.as_deref(),
        Some("invited")
    );
    assert_eq!(status("nope@globex.example").await, None);
    let mail = app.last_mail_to("dana@globex.example").await;
    assert!(mail.contains("/invite/accept"));
    let companies = staff
        .get("/api/v1/admin/companies")
        .await
        .text()
        .await
        .unwrap();
    assert!(companies.contains("Umbrella Corp"));

    // Losing the flag deactivates; regaining it brings the account back.
    fake.set_contact(
        "P-1",
        "C-GLOBEX",
        "dana@globex.example",
        "Dana Scully",
        false,
    );
    sync(&app).await;
    assert_eq!(
        status("dana@globex.example").await.as_deref(),
        Some("deactivated")
    );
    fake.set_contact(
        "P-1",
        "C-GLOBEX",
        "dana@globex.example",
        "Dana Scully",
        true,
    );
    sync(&app).await;
    assert_eq!(
        status("dana@globex.example").await.as_deref(),
        Some("invited")
    );

    // A company that vanished from the PSA is kept and marked, never deleted.
    fake.remove_company("C-UMB");
    sync(&app).await;
    let companies = staff
        .get("/api/v1/admin/companies")
        .await
        .text()
        .await
        .unwrap();
    assert!(companies.contains("Umbrella Corp"));
    let missing: Option<i64> = sqlx::query(
        "SELECT missing_at FROM psa_links WHERE kind = 'company' AND external_id = 'C-UMB'",
    )
    .fetch_one(app.state.db.operator("test").reader())
    .await
    .unwrap()
    .get(0);
    assert!(missing.is_some());
    let actions = app.audit_actions("acme").await;
    for a in [
        "psa.contact_invited",
        "psa.contact_deactivated",
        "psa.record_missing",
    ] {
        assert!(actions.contains(&a.to_string()), "{a}");
    }
    // Another tenant sees none of it.
    let nora = app
        .api_login("northwind", "nora@northwind.example", "admin")
        .await;
    let other = nora
        .get("/api/v1/admin/companies")
        .await
        .text()
        .await
        .unwrap();
    assert!(!other.contains("Umbrella"));
    let other_status = nora
        .get("/api/v1/admin/integrations/psa/status")
        .await
        .text()
        .await
        .unwrap();
    assert!(!other_status.contains("\"configured\":true"));
}
crate::db_test!(psa_provisioning, provisioning);

async fn retry(app: TestApp) {
    // A change the PSA refused (seeded directly: the demo connection is paused).
    sqlx::query(
        "INSERT INTO psa_outbox (id, tenant_id, ticket_id, kind, comment_id, fields, status, attempts, last_error, created_at) \
         SELECT 'item-refused', t.tenant_id, t.id, 'update', NULL, '[\"priority\"]', 'failed', 3, \
         'the PSA refused the request (404): no such ticket', 1 \
         FROM tickets t WHERE t.subject = 'VPN disconnects every hour'",
    )
    .execute(app.state.db.operator("test").writer())
    .await
    .unwrap();
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let html = staff
        .get("/admin/integrations/psa")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("/admin/integrations/psa/items/item-refused/retry")
            && html.contains("no such ticket")
    );
    let st = ok_json(
        staff.get("/api/v1/admin/integrations/psa/status").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(st["failed"], 1);
    // Another tenant's staff, and a technician, cannot retry it.
    let nora = app
        .api_login("northwind", "nora@northwind.example", "admin")
        .await;
    let r = nora
        .post_form("/admin/integrations/psa/items/item-refused/retry", &[])
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let tech = app.api_login("acme", "tech@acme.example", "admin").await;
    let r = tech
        .post_form("/admin/integrations/psa/items/item-refused/retry", &[])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let status = || async {
        sqlx::query("SELECT status FROM psa_outbox WHERE id = 'item-refused'")
            .fetch_one(app.state.db.operator("test").reader())
            .await
            .unwrap()
            .get::<String, _>(0)
    };
    assert_eq!(status().await, "failed");
    // Staff retry it: pending again, a run queued, audited; an unknown item is a 404.
    let r = staff
        .post_form("/admin/integrations/psa/items/item-refused/retry", &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(status().await, "pending");
    let r = staff
        .post_form("/admin/integrations/psa/items/item-refused/retry", &[])
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(
        app.audit_actions("acme")
            .await
            .contains(&"psa.item_retried".to_string())
    );
}
crate::db_test!(psa_retry, retry);

/// Portal tickets raised by many clients at once while the tenant's sync pushes them: every
/// create answers 201 and every ticket reaches the PSA once.
async fn concurrent_creates(app: TestApp) {
    let fake = FakePsa::start().await;
    connect(&app, &fake).await;
    let bob = std::sync::Arc::new(app.api_login("acme", "bob@globex.example", "portal").await);
    let mut tasks = Vec::new();
    for w in 0..16 {
        let bob = bob.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..15 {
                raise(&bob, &format!("Concurrent {w}-{i}")).await;
            }
        }));
    }
    for t in tasks {
        t.await.expect("creates");
    }
    for _ in 0..100 {
        if fake.creates() >= 240 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    app.drain_jobs().await;
    sync(&app).await;
    assert_eq!(fake.creates(), 240, "each ticket pushed once");
}
crate::db_test!(psa_concurrent_creates, concurrent_creates);
