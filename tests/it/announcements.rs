//! Announcements: targeting by page, API and event stream; unread, mark read, mark all;
//! scheduled publication and expiry through the job queue; email per preferences; audit;
//! isolation from other companies and tenants.

use std::time::Duration;

use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};

use crate::support::{Session, TestApp};

/// A minimal server-sent-events reader.
struct Sse {
    resp: Response,
    buf: String,
}

impl Sse {
    async fn open(app: &TestApp, client: &Client) -> Sse {
        let resp = client.get(app.url("/api/v1/events")).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        let mut s = Sse {
            resp,
            buf: String::new(),
        };
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while !s.buf.contains(": connected") {
            assert!(s.fill(deadline).await, "stream ended before it connected");
        }
        s.buf.clear();
        s
    }

    async fn fill(&mut self, deadline: tokio::time::Instant) -> bool {
        match tokio::time::timeout_at(deadline, self.resp.chunk()).await {
            Ok(Ok(Some(b))) => {
                self.buf.push_str(&String::from_utf8_lossy(&b));
                true
            }
            _ => false,
        }
    }

    /// The next event's (kind, data) within 5 s.
    async fn next(&mut self) -> Option<(String, Value)> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            while let Some(end) = self.buf.find("\n\n") {
                let block = self.buf[..end].to_string();
                self.buf.drain(..end + 2);
                let mut kind = None;
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(k) = line.strip_prefix("event:") {
                        kind = Some(k.trim().to_string());
                    } else if let Some(d) = line.strip_prefix("data:") {
                        data.push_str(d.trim_start());
                    }
                }
                if let Some(k) = kind {
                    return Some((k, serde_json::from_str(&data).unwrap()));
                }
            }
            if !self.fill(deadline).await {
                return None;
            }
        }
    }
}

async fn publish(staff: &Session, body: Value) -> Value {
    let r = staff.post_json("/api/v1/admin/announcements", &body).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json().await.unwrap()
}

async fn ids(s: &Session) -> Vec<String> {
    let v: Value = s.get("/api/v1/announcements").await.json().await.unwrap();
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap().to_string())
        .collect()
}

async fn unread(s: &Session) -> Value {
    s.get("/api/v1/announcements/unread")
        .await
        .json()
        .await
        .unwrap()
}

async fn targeting_by_page_api_and_events(app: TestApp) {
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let alice = app
        .api_login("acme", "alice@globex.example", "portal")
        .await;
    let ian = app.api_login("acme", "ian@initech.example", "portal").await;
    let initech = app.company_id("acme", "Initech").await;
    let mut alice_events = Sse::open(&app, &alice.client).await;
    let mut ian_events = Sse::open(&app, &ian.client).await;

    let before = unread(&alice).await["count"].as_i64().unwrap();
    let targeted = publish(
        &staff,
        json!({
            "title": "Initech-only fibre works", "body": "Digging **outside** your office.",
            "severity": "warning", "companies": [initech]
        }),
    )
    .await;
    let tid = targeted["id"].as_str().unwrap().to_string();
    let all = publish(&staff, json!({
        "title": "Everyone: outage on Monday", "body": "All services down 02:00-03:00.", "severity": "critical"
    })).await;
    let aid = all["id"].as_str().unwrap().to_string();

    // Events: Ian gets both, in order; Alice's first event is the one for everyone.
    let (k, d) = ian_events.next().await.expect("ian hears the targeted one");
    assert_eq!(
        (k.as_str(), d["id"].as_str()),
        ("announcement.published", Some(tid.as_str()))
    );
    assert_eq!(ian_events.next().await.unwrap().1["id"], aid.as_str());
    let (_, d) = alice_events
        .next()
        .await
        .expect("alice hears the general one");
    assert_eq!(
        d["id"],
        aid.as_str(),
        "the Initech-only announcement never reaches Globex"
    );

    // Pages and API.
    assert!(
        ids(&ian)
            .await
            .contains(&"Initech-only fibre works".to_string())
    );
    assert!(
        !ids(&alice)
            .await
            .contains(&"Initech-only fibre works".to_string())
    );
    assert_eq!(
        alice
            .get(&format!("/api/v1/announcements/{tid}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        alice
            .get(&format!("/portal/announcements/{tid}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let page = alice
        .get("/portal/announcements")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Everyone: outage on Monday") && !page.contains("Initech-only"));
    let u = unread(&alice).await;
    assert_eq!(u["count"].as_i64().unwrap(), before + 1);
    assert!(
        u["critical"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == aid.as_str())
    );

    // Another tenant's staff and members.
    let pastor = app
        .api_login("grace", "pastor@grace.example", "admin")
        .await;
    assert_eq!(
        pastor
            .get(&format!("/api/v1/admin/announcements/{tid}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let list = pastor
        .get("/api/v1/admin/announcements")
        .await
        .text()
        .await
        .unwrap();
    assert!(!list.contains("Initech-only"));
    let mary = app.api_login("grace", "mary@grace.example", "portal").await;
    assert!(
        mary.get(&format!("/api/v1/announcements/{aid}"))
            .await
            .status()
            .is_client_error()
    );
    // Clients cannot publish.
    assert_eq!(
        alice
            .post_json("/api/v1/admin/announcements", &json!({}))
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );

    // Email: Initech users only, per their preference.
    app.drain_jobs().await;
    let mails: Vec<String> = app
        .sent_mail()
        .into_iter()
        .map(|m| m.replace("=\r\n", "").replace("=3D", "="))
        .filter(|m| m.contains("Initech-only fibre works"))
        .collect();
    assert!(mails.iter().any(|m| m.contains("ian@initech.example")));
    assert!(
        !mails.iter().any(|m| m.contains("@globex.example")),
        "no Globex user is emailed"
    );
    let actions = app.audit_actions("acme").await;
    assert!(
        actions
            .iter()
            .filter(|a| *a == "announcement.created")
            .count()
            >= 2
    );
}
crate::db_test!(announcement_targeting, targeting_by_page_api_and_events);

async fn unread_read_and_read_all(app: TestApp) {
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    let n0 = unread(&bob).await["count"].as_i64().unwrap();
    assert!(n0 >= 2, "the demo has unread announcements for Globex");
    let a = publish(
        &staff,
        json!({ "title": "Read me", "body": "Text.", "severity": "info" }),
    )
    .await;
    let id = a["id"].as_str().unwrap();
    assert_eq!(unread(&bob).await["count"].as_i64().unwrap(), n0 + 1);
    // Opening the page marks it read, once.
    let page = bob.get(&format!("/portal/announcements/{id}")).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(unread(&bob).await["count"].as_i64().unwrap(), n0);
    let v: Value = bob.get("/api/v1/announcements").await.json().await.unwrap();
    let item = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == id)
        .unwrap()
        .clone();
    assert_eq!(item["read"], true);
    // Mark all read (page form), then the count is zero; staff see the read counts.
    let r = bob.post_form("/portal/announcements/read-all", &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let u = unread(&bob).await;
    assert_eq!(u["count"], 0);
    assert!(u["critical"].as_array().unwrap().is_empty());
    let s: Value = staff
        .get(&format!("/api/v1/admin/announcements/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(s["reads"], 1);
    // Mark all via the API answers how many it marked (none left).
    let m: Value = bob
        .post_json("/api/v1/announcements/read-all", &json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(m["marked"], 0);
    // The dashboard shows the newest; the nav has the entry.
    let dash = bob.get("/portal/dashboard").await.text().await.unwrap();
    assert!(dash.contains("Read me"));
    assert!(dash.contains("href=\"/portal/announcements\""));
}
crate::db_test!(announcement_reads, unread_read_and_read_all);

async fn scheduled_publication_and_expiry_via_jobs(app: TestApp) {
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let ian = app.api_login("acme", "ian@initech.example", "portal").await;
    let now = portico::db::now_ms();
    let sched = publish(&staff, json!({
        "title": "Scheduled notice", "body": "Later.", "severity": "info", "publish_at": now + 1500
    })).await;
    assert_eq!(sched["state"], "scheduled");
    let expiring = publish(&staff, json!({
        "title": "Short-lived notice", "body": "Soon gone.", "severity": "info", "expires_at": now + 1500
    })).await;
    assert_eq!(expiring["state"], "live");
    let titles = ids(&ian).await;
    assert!(!titles.contains(&"Scheduled notice".to_string()));
    assert!(titles.contains(&"Short-lived notice".to_string()));
    let sid = sched["id"].as_str().unwrap();
    assert_eq!(
        ian.get(&format!("/api/v1/announcements/{sid}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );

    let mut events = Sse::open(&app, &ian.client).await;
    tokio::time::sleep(Duration::from_millis(1700)).await;
    app.drain_jobs().await;
    // Publication and expiry reach the open page, in time order.
    let mut kinds = Vec::new();
    for _ in 0..2 {
        let (k, d) = events.next().await.expect("event");
        kinds.push((k, d["id"].as_str().unwrap().to_string()));
    }
    kinds.sort();
    assert_eq!(
        kinds,
        [
            (
                "announcement.expired".to_string(),
                expiring["id"].as_str().unwrap().to_string()
            ),
            ("announcement.published".to_string(), sid.to_string())
        ]
    );
    let titles = ids(&ian).await;
    assert!(titles.contains(&"Scheduled notice".to_string()));
    assert!(!titles.contains(&"Short-lived notice".to_string()));
    let s: Value = staff
        .get(&format!("/api/v1/admin/announcements/{sid}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(s["state"], "live");
    // Delivered once: the email went out, and running the queue again sends no second.
    let mail = app.last_mail_to("ian@initech.example").await;
    assert!(mail.contains("Scheduled notice"));
    let count = |app: &TestApp| {
        app.sent_mail()
            .iter()
            .filter(|m| m.contains("ian@initech.example") && m.contains("Scheduled notice"))
            .count()
    };
    let n = count(&app);
    app.drain_jobs().await;
    assert_eq!(count(&app), n);
    // The staff page lists every state.
    let page = staff
        .get("/admin/announcements")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Scheduled") && page.contains("Expired") && page.contains("Live"));
}
crate::db_test!(
    announcement_schedule,
    scheduled_publication_and_expiry_via_jobs
);

async fn staff_form_and_validation(app: TestApp) {
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let r = staff
        .post_form(
            "/admin/announcements",
            &[
                ("title", ""),
                ("body", ""),
                ("severity", "info"),
                ("audience", "companies"),
                ("when", "now"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("role=\"alert\"")
            && body.contains("Enter a title.")
            && body.contains("Choose at least one company")
    );
    let r = staff
        .post_form(
            "/admin/announcements",
            &[
                ("title", "Form made"),
                ("body", "Hello"),
                ("severity", "critical"),
                ("audience", "all"),
                ("when", "now"),
                ("pinned", "1"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let page = staff
        .get("/admin/announcements")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Form made"));
    let tech = app.api_login("acme", "tech@acme.example", "admin").await;
    let st = tech.get("/admin/announcements").await.status();
    let can = st == StatusCode::OK;
    assert!(can || st == StatusCode::FORBIDDEN);
    // Spanish staff page.
    let es = staff
        .client
        .get(app.url("/admin/announcements/new"))
        .header("accept-language", "es")
        .send()
        .await
        .unwrap();
    assert_eq!(es.status(), StatusCode::OK);
}
crate::db_test!(announcement_form, staff_form_and_validation);

async fn email_follows_the_preference(app: TestApp) {
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    // Bob keeps ticket emails but turns announcements off.
    let r = bob
        .post_form("/portal/profile/notifications", &[("ticket_replies", "on")])
        .await;
    assert!(
        r.status().is_redirection() || r.status().is_success(),
        "{}",
        r.status()
    );
    publish(
        &staff,
        json!({ "title": "Preference probe", "body": "Hi.", "severity": "info" }),
    )
    .await;
    app.drain_jobs().await;
    let to = |who: &str| {
        app.sent_mail()
            .into_iter()
            .map(|m| m.replace("=\r\n", "").replace("=3D", "="))
            .filter(|m| m.contains("Preference probe") && m.contains(who))
            .count()
    };
    assert_eq!(to("alice@globex.example"), 1);
    assert_eq!(to("ian@initech.example"), 1);
    assert_eq!(
        to("bob@globex.example"),
        0,
        "bob turned announcement emails off"
    );
    // Staff get none (they write them).
    assert_eq!(to("staff@acme.example"), 0);
}
crate::db_test!(announcement_email_prefs, email_follows_the_preference);
