//! Mission online giving: give now through the payment provider's hosted checkout (recorded
//! once by the signed webhook, whatever the replays), the external link and "not available"
//! fallbacks, recurring gifts (set up, change, pause, resume, cancel) and the job that charges
//! them off-session exactly once per occurrence, and isolation between members and tenants.

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::Row;

use crate::fake_provider::{FakeProvider, SECRET_KEY, WEBHOOK_SECRET};
use crate::support::{Session, TestApp};

async fn ok_json(r: reqwest::Response, want: StatusCode) -> Value {
    let status = r.status();
    let body = r.text().await.unwrap();
    assert_eq!(status, want, "{body}");
    serde_json::from_str(&body).unwrap_or(Value::Null)
}

async fn text(r: reqwest::Response, want: StatusCode) -> String {
    let status = r.status();
    let body = r.text().await.unwrap();
    assert_eq!(status, want, "{body}");
    body
}

/// Saves grace's Mission settings with `giving_url` and, when given, the fake as provider.
async fn settings(app: &TestApp, giving_url: &str, fake: Option<&FakeProvider>) -> Session {
    let pastor = app
        .api_login("grace", "pastor@grace.example", "admin")
        .await;
    let base = fake.map(|f| f.base_url()).unwrap_or_default();
    let mut fields = vec![
        ("currency", "USD"),
        ("org_address", "100 Chapel Street"),
        ("tax_id", "EIN 12-3456789"),
        ("statement_wording", "Thank you."),
        ("giving_url", giving_url),
    ];
    if fake.is_some() {
        fields.extend([
            ("provider_base_url", base.as_str()),
            ("provider_secret_key", SECRET_KEY),
            ("webhook_secret", WEBHOOK_SECRET),
        ]);
    }
    let r = pastor.post_form("/admin/mission/settings", &fields).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    if let Some(f) = fake {
        f.deliver_to(&app.url("/webhooks/payments/grace"));
    }
    pastor
}

async fn scalar(app: &TestApp, sql: &str, args: &[&str]) -> i64 {
    let mut q = sqlx::query(sql);
    for a in args {
        q = q.bind(*a);
    }
    q.fetch_one(app.state.db.operator("test").reader())
        .await
        .expect(sql)
        .get::<i64, _>(0)
}

async fn fund(app: &TestApp, name: &str) -> String {
    sqlx::query("SELECT id FROM mission_funds WHERE name = $1")
        .bind(name)
        .fetch_one(app.state.db.operator("test").reader())
        .await
        .expect("fund")
        .get::<String, _>(0)
}

async fn gifts_for(app: &TestApp, provider_ref: &str) -> i64 {
    scalar(
        app,
        "SELECT COUNT(*) FROM mission_gifts WHERE provider_ref = $1",
        &[provider_ref],
    )
    .await
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Give now: the link and "not available" fallbacks, refusals with clear messages, and the
/// gift recorded once by the signed webhook however often and concurrently it comes.
async fn give_now(app: TestApp) {
    let mary = app.api_login("grace", "mary@grace.example", "portal").await;
    // The demo: no provider, an external giving link.
    let v = ok_json(
        mary.get("/api/v1/mission/giving/give").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v["mode"], "link", "{v}");
    assert_eq!(v["giving_url"], "https://give.grace.example");
    let page = text(mary.get("/portal/mission/giving").await, StatusCode::OK).await;
    assert!(page.contains("id=\"give-link\"") && page.contains("Give online"));
    assert!(page.contains("https://give.grace.example"));
    // Neither: giving online is not available, and starting one is refused.
    settings(&app, "", None).await;
    let v = ok_json(
        mary.get("/api/v1/mission/giving/give").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v["mode"], "none");
    let page = text(mary.get("/portal/mission/giving").await, StatusCode::OK).await;
    assert!(page.contains("Giving online is not available"), "{page}");
    let missions = fund(&app, "Missions").await;
    let r = mary
        .post_json(
            "/api/v1/mission/giving/give",
            &json!({"fund_id": missions, "amount_minor": 2500}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // With the provider: a form, and the provider's page.
    let fake = FakeProvider::start().await;
    settings(&app, "https://give.grace.example", Some(&fake)).await;
    let v = ok_json(
        mary.get("/api/v1/mission/giving/give").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v["mode"], "provider");
    assert_eq!(v["currency"], "USD");
    assert_eq!(v["funds"].as_array().unwrap().len(), 3);
    let page = text(mary.get("/portal/mission/giving").await, StatusCode::OK).await;
    assert!(page.contains("action=\"/portal/mission/giving/give\""));

    // Refusals name the field and say why; nothing reaches the provider.
    for (body, field) in [
        (json!({"fund_id": missions, "amount_minor": 99}), "amount"),
        (
            json!({"fund_id": missions, "amount_minor": 10_000_001}),
            "amount",
        ),
        (json!({"fund_id": missions, "amount_minor": -5}), "amount"),
        (
            json!({"fund_id": "no-such-fund", "amount_minor": 2500}),
            "fund_id",
        ),
        (
            json!({"fund_id": missions, "amount_minor": 2500, "currency": "EUR"}),
            "currency",
        ),
    ] {
        let v = ok_json(
            mary.post_json("/api/v1/mission/giving/give", &body).await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        let fields = v["error"]["fields"].as_array().unwrap();
        assert!(fields.iter().any(|f| f["field"] == field), "{body}: {v}");
    }
    let page = text(
        mary.post_form(
            "/portal/mission/giving/give",
            &[("fund_id", &missions), ("amount", "0.50")],
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(page.contains("The smallest gift online is 1.00."), "{page}");
    let page = text(
        mary.post_form(
            "/portal/mission/giving/give",
            &[("fund_id", &missions), ("amount", "ten")],
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(page.contains("Enter the amount as a number"));
    assert!(fake.sessions().is_empty());

    // The happy path: checkout, pay on the provider's page, the webhook records the gift.
    let v = ok_json(
        mary.post_json(
            "/api/v1/mission/giving/give",
            &json!({"fund_id": missions, "amount_minor": 2500, "currency": "usd"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let url = v["url"].as_str().unwrap().to_string();
    let sid = v["session_id"].as_str().unwrap().to_string();
    assert!(url.starts_with(&fake.base_url()));
    let session = fake.sessions().pop().unwrap();
    assert_eq!(session.id, sid);
    assert_eq!(session.amount, 2500);
    assert_eq!(session.currency, "usd");
    assert_eq!(session.metadata["tenant"], "grace");
    assert_eq!(session.metadata["mission_checkout"], "gift");
    // Coming back proves nothing: only the webhook records.
    assert_eq!(gifts_for(&app, &sid).await, 0);
    let r = no_redirects().post(&url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let back = r.headers()["location"].to_str().unwrap().to_string();
    assert!(
        back.contains(&format!("notice=given&session_id={sid}")),
        "{back}"
    );
    assert_eq!(gifts_for(&app, &sid).await, 1);
    let page = text(
        mary.get(&format!(
            "/portal/mission/giving?notice=given&session_id={sid}"
        ))
        .await,
        StatusCode::OK,
    )
    .await;
    assert!(
        page.contains("Thank you! Your gift of $25.00 to Missions is recorded."),
        "{page}"
    );
    let g = ok_json(mary.get("/api/v1/mission/giving").await, StatusCode::OK).await;
    let newest = &g["items"][0];
    assert_eq!(newest["amount_minor"], 2500);
    assert_eq!(newest["method"], "online");
    assert_eq!(newest["fund_name"], "Missions");
    assert_eq!(newest["recurring"], false);

    // Replays, duplicates and concurrent deliveries: still one gift.
    let hook = app.url("/webhooks/payments/grace");
    let now = chrono::Utc::now().timestamp();
    let body = FakeProvider::completed_event(&session, "evt_again", 2500);
    assert_eq!(
        FakeProvider::post_signed(&hook, &body, WEBHOOK_SECRET, now).await,
        200
    );
    let deliveries = (0..8).map(|i| {
        let body = FakeProvider::completed_event(&session, &format!("evt_c{i}"), 2500);
        let hook = hook.clone();
        async move { FakeProvider::post_signed(&hook, &body, WEBHOOK_SECRET, now).await }
    });
    for status in futures::future::join_all(deliveries).await {
        assert_eq!(status, 200);
    }
    assert_eq!(gifts_for(&app, &sid).await, 1);
    // A forged or stale signature, or a different amount, records nothing.
    let v2 = ok_json(
        mary.post_json(
            "/api/v1/mission/giving/give",
            &json!({"fund_id": missions, "amount_minor": 4000}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let sid2 = v2["session_id"].as_str().unwrap().to_string();
    let s2 = fake.sessions().pop().unwrap();
    let body = FakeProvider::completed_event(&s2, "evt_forged", 4000);
    assert_eq!(
        FakeProvider::post_signed(&hook, &body, "whsec_wrong", now).await,
        400
    );
    assert_eq!(
        FakeProvider::post_signed(&hook, &body, WEBHOOK_SECRET, now - 3600).await,
        400
    );
    let short = FakeProvider::completed_event(&s2, "evt_short", 100);
    assert_eq!(
        FakeProvider::post_signed(&hook, &short, WEBHOOK_SECRET, now).await,
        422
    );
    assert_eq!(gifts_for(&app, &sid2).await, 0);
    // Another member never sees Mary's gift.
    let john = app.api_login("grace", "john@grace.example", "portal").await;
    let theirs = ok_json(john.get("/api/v1/mission/giving").await, StatusCode::OK).await;
    assert!(!theirs.to_string().contains("\"amount_minor\":2500"));
    let audit = app.audit_actions("grace").await;
    for a in ["mission.give_started", "mission.gift_given_online"] {
        assert!(audit.contains(&a.to_string()), "{a}");
    }
    // The page's form: a page of ours moves on to the provider (the CSP keeps form posts home).
    let r = mary
        .post_form(
            "/portal/mission/giving/give",
            &[("fund_id", &missions), ("amount", "12.50")],
        )
        .await;
    let refresh = r.headers()["refresh"].to_str().unwrap().to_string();
    let page = text(r, StatusCode::OK).await;
    assert!(refresh.contains(&fake.base_url()), "{refresh}");
    assert!(page.contains("id=\"checkout-link\""));
    assert_eq!(fake.sessions().pop().unwrap().amount, 1250);
}
crate::db_test!(give_now_both_dbs, give_now);

/// Saves a card for the session's member through the fake's hosted setup page; returns the
/// member's provider customer.
async fn save_card(s: &Session, fake: &FakeProvider, pay: bool) -> String {
    let v = ok_json(
        s.post_json("/api/v1/mission/giving/card", &json!({})).await,
        StatusCode::OK,
    )
    .await;
    let url = v["url"].as_str().unwrap().to_string();
    let session = fake.sessions().pop().unwrap();
    assert_eq!(session.mode, "setup");
    if pay {
        let r = no_redirects().post(&url).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
    }
    session.customer
}

fn day(d: chrono::NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

async fn grace_today(app: &TestApp) -> chrono::NaiveDate {
    let tz = portico::mission::tenant_zone(
        &portico::tenancy::store::by_slug(&app.state.db, "grace")
            .await
            .unwrap()
            .unwrap()
            .time_zone,
    );
    portico::mission::today(tz)
}

/// Runs the recurring-gift job twice at once (as two nodes would) for `today`.
async fn run_job_twice(app: &TestApp, today: &str) {
    for _ in 0..2 {
        portico::jobs::enqueue_operator(
            &app.state.db,
            None,
            "mission.recurring_gifts",
            &json!({"today": today}),
            portico::db::now_ms(),
        )
        .await
        .unwrap();
    }
    futures::future::join(
        portico::jobs::run_due(&app.state),
        portico::jobs::run_due(&app.state),
    )
    .await;
    app.drain_jobs().await;
}

async fn schedule(s: &Session, id: &str) -> Value {
    ok_json(
        s.get(&format!("/api/v1/mission/giving/recurring/{id}"))
            .await,
        StatusCode::OK,
    )
    .await
}

/// Recurring gifts: set up with a saved card, charged once per occurrence however many job
/// runs race, paused (nothing charged), resumed, changed, a refusal shown, cancelled.
async fn recurring(app: TestApp) {
    let fake = FakeProvider::start().await;
    let pastor = settings(&app, "https://give.grace.example", Some(&fake)).await;
    let mary = app.api_login("grace", "mary@grace.example", "portal").await;
    let today = grace_today(&app).await;
    // The demo's monthly tithe.
    let v = ok_json(
        mary.get("/api/v1/mission/giving/recurring").await,
        StatusCode::OK,
    )
    .await;
    let items = v["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{v}");
    assert_eq!(items[0]["frequency"], "monthly");
    assert_eq!(items[0]["amount_minor"], 15000);
    assert!(items[0]["next_on"].as_str().unwrap() > day(today).as_str());
    // Cancelled through the API, so the job runs below only meet the schedules made here.
    let demo = items[0]["id"].as_str().unwrap().to_string();
    let v = ok_json(
        mary.delete(&format!("/api/v1/mission/giving/recurring/{demo}"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v["cancelled"], true);
    let missions = fund(&app, "Missions").await;
    let general = fund(&app, "General Fund").await;
    let new = json!({"fund_id": missions, "amount_minor": 1000, "frequency": "weekly", "start_on": day(today)});
    // Without a card: refused, saying so.
    let v = ok_json(
        mary.post_json("/api/v1/mission/giving/recurring", &new)
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(v["error"]["fields"][0]["field"], "card", "{v}");
    // Bad fields, each named.
    let v = ok_json(
        mary.post_json(
            "/api/v1/mission/giving/recurring",
            &json!({"fund_id": "x", "amount_minor": 5, "frequency": "daily",
                    "start_on": day(today - chrono::Days::new(1))}),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    let fields: Vec<&str> = v["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    for f in ["fund_id", "amount", "frequency", "start_on"] {
        assert!(fields.contains(&f), "{f} in {v}");
    }
    let customer = save_card(&mary, &fake, true).await;
    let card = ok_json(
        mary.get("/api/v1/mission/giving/card").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(card["label"], "Visa •••• 4242");
    let created = ok_json(
        mary.post_json("/api/v1/mission/giving/recurring", &new)
            .await,
        StatusCode::CREATED,
    )
    .await;
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(created["next_on"], day(today));
    assert_eq!(created["status"], "active");
    let page = text(mary.get("/portal/mission/giving").await, StatusCode::OK).await;
    assert!(page.contains(&format!("/portal/mission/giving/recurring/{id}/cancel")));
    assert!(page.contains("Visa •••• 4242"));

    // Two job runs at once, twice over: one charge, one gift.
    run_job_twice(&app, &day(today)).await;
    run_job_twice(&app, &day(today)).await;
    let intents = fake.intents();
    assert_eq!(intents.len(), 1, "{intents:?}");
    assert_eq!(
        intents[0].idempotency_key,
        format!("mission-recurring-{id}-{}", day(today))
    );
    let f = &intents[0].form;
    for (k, want) in [
        ("amount", "1000"),
        ("customer", customer.as_str()),
        ("off_session", "true"),
        ("metadata[tenant]", "grace"),
    ] {
        assert!(f.iter().any(|(n, v)| n == k && v == want), "{k} in {f:?}");
    }
    assert_eq!(gifts_for(&app, &intents[0].id).await, 1);
    let g = ok_json(mary.get("/api/v1/mission/giving").await, StatusCode::OK).await;
    assert!(
        g["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["amount_minor"] == 1000
                && x["recurring"] == true
                && x["fund_name"] == "Missions"
                && x["given_on"] == day(today)),
        "{g}"
    );
    let next = day(today + chrono::Days::new(7));
    assert_eq!(schedule(&mary, &id).await["next_on"], next.as_str());
    // The service itself, twice at once for the next date: one more charge.
    let tenant = portico::tenancy::store::by_slug(&app.state.db, "grace")
        .await
        .unwrap()
        .unwrap();
    let d7 = today + chrono::Days::new(7);
    let (a, b) = futures::future::join(
        portico::mission::giving::recurring::charge_due(&app.state, &tenant.scope(), "grace", d7),
        portico::mission::giving::recurring::charge_due(&app.state, &tenant.scope(), "grace", d7),
    )
    .await;
    assert_eq!(a.unwrap() + b.unwrap(), 1);
    assert_eq!(fake.intents().len(), 2);

    // Paused: nothing is charged, whatever the date.
    let v = ok_json(
        mary.patch_json(
            &format!("/api/v1/mission/giving/recurring/{id}"),
            &json!({"status": "paused"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v["status"], "paused");
    run_job_twice(&app, &day(today + chrono::Days::new(30))).await;
    assert_eq!(fake.intents().len(), 2);
    // Resumed through the page, and changed: fund and amount.
    let r = mary
        .post_form(
            &format!("/portal/mission/giving/recurring/{id}/resume"),
            &[],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(schedule(&mary, &id).await["status"], "active");
    let r = mary
        .post_form(
            &format!("/portal/mission/giving/recurring/{id}"),
            &[("fund_id", &general), ("amount", "0.10")],
        )
        .await;
    let page = text(r, StatusCode::BAD_REQUEST).await;
    assert!(page.contains("The smallest gift online is 1.00."));
    let r = mary
        .post_form(
            &format!("/portal/mission/giving/recurring/{id}"),
            &[("fund_id", &general), ("amount", "20.00")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let v = schedule(&mary, &id).await;
    assert_eq!(v["amount_minor"], 2000);
    assert_eq!(v["fund_name"], "General Fund");

    // A refused card: the schedule stays, the failure shows; no gift.
    let john = app.api_login("grace", "john@grace.example", "portal").await;
    let johns = save_card(&john, &fake, false).await;
    fake.add_card(&johns, "visa", "0002");
    let jv = ok_json(
        john.post_json("/api/v1/mission/giving/recurring", &new)
            .await,
        StatusCode::CREATED,
    )
    .await;
    let jid = jv["id"].as_str().unwrap().to_string();
    let before = fake.intents().len();
    run_job_twice(&app, &day(today)).await;
    assert_eq!(fake.intents().len(), before + 1);
    let declined = fake.intents().pop().unwrap();
    assert!(!declined.succeeded);
    assert_eq!(gifts_for(&app, &declined.id).await, 0);
    let j = schedule(&john, &jid).await;
    assert_eq!(j["status"], "active");
    assert_eq!(j["last_error"], "Your card was declined.");
    let page = text(john.get("/portal/mission/giving").await, StatusCode::OK).await;
    assert!(page.contains("The last charge failed:") && page.contains("Your card was declined."));

    // Staff see every member's schedules, read-only.
    let mary_id = app.user_id("grace", "mary@grace.example").await;
    let v = ok_json(
        pastor
            .get(&format!("/api/v1/admin/mission/recurring?member={mary_id}"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v["items"].as_array().unwrap().len(), 1, "{v}");
    let page = text(
        pastor
            .get(&format!("/admin/mission/gifts?member={mary_id}"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(page.contains("Recurring gifts") && page.contains("$20.00"));
    assert!(!page.contains("Your card was declined."));

    // Cancel: a confirmation first, then nothing more is charged.
    let confirm = text(
        mary.get(&format!("/portal/mission/giving/recurring/{id}/cancel"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(confirm.contains("Cancel this recurring gift") && confirm.contains("$20.00"));
    let r = mary
        .post_form(
            &format!("/portal/mission/giving/recurring/{id}/cancel"),
            &[],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        mary.get(&format!("/api/v1/mission/giving/recurring/{id}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let n = fake.intents().len();
    run_job_twice(&app, &day(today + chrono::Days::new(60))).await;
    let after: Vec<_> = fake.intents().into_iter().skip(n).collect();
    assert!(
        after.iter().all(|i| !i.idempotency_key.contains(&id)),
        "{after:?}"
    );
    let audit = app.audit_actions("grace").await;
    for a in [
        "mission.card_setup_started",
        "mission.recurring_created",
        "mission.recurring_paused",
        "mission.recurring_resumed",
        "mission.recurring_changed",
        "mission.recurring_cancelled",
        "mission.recurring_charged",
        "mission.recurring_failed",
        "mission.payment_settings_changed",
    ] {
        assert!(audit.contains(&a.to_string()), "{a}");
    }
}
crate::db_test!(recurring_both_dbs, recurring);

/// Another member, or another tenant, can neither see nor change a schedule.
async fn isolation(app: TestApp) {
    let mary = app.api_login("grace", "mary@grace.example", "portal").await;
    let v = ok_json(
        mary.get("/api/v1/mission/giving/recurring").await,
        StatusCode::OK,
    )
    .await;
    let id = v["items"][0]["id"].as_str().unwrap().to_string();
    let john = app.api_login("grace", "john@grace.example", "portal").await;
    let alice = app
        .api_login("acme", "alice@globex.example", "portal")
        .await;
    let api = format!("/api/v1/mission/giving/recurring/{id}");
    for s in [&john, &alice] {
        assert_eq!(s.get(&api).await.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            s.patch_json(&api, &json!({"status": "paused", "amount_minor": 100}))
                .await
                .status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(s.delete(&api).await.status(), StatusCode::NOT_FOUND);
        for page in ["", "/cancel"] {
            assert_eq!(
                s.get(&format!("/portal/mission/giving/recurring/{id}{page}"))
                    .await
                    .status(),
                StatusCode::NOT_FOUND
            );
        }
        for page in ["", "/pause", "/resume", "/cancel"] {
            let r = s
                .post_form(
                    &format!("/portal/mission/giving/recurring/{id}{page}"),
                    &[("amount", "1.00")],
                )
                .await;
            assert_eq!(r.status(), StatusCode::NOT_FOUND, "{page}");
        }
    }
    let theirs = ok_json(
        john.get("/api/v1/mission/giving/recurring").await,
        StatusCode::OK,
    )
    .await;
    assert!(!theirs.to_string().contains(&id));
    let page = text(john.get("/portal/mission/giving").await, StatusCode::OK).await;
    assert!(!page.contains(&id));
    // Mary's schedule is as it was.
    let v = schedule(&mary, &id).await;
    assert_eq!(v["status"], "active");
    assert_eq!(v["amount_minor"], 15000);
}
crate::db_test!(isolation_both_dbs, isolation);

/// Leaves a claim for `schedule`'s occurrence on `due_on` as a run that stopped right after
/// claiming would: pending, last touched `age_ms` ago, the schedule already moved on a week.
async fn stale_claim(app: &TestApp, schedule: &str, due_on: &str, amount: i64, age_ms: i64) {
    let tenant = portico::tenancy::store::by_slug(&app.state.db, "grace")
        .await
        .unwrap()
        .unwrap()
        .id
        .to_string();
    let at = portico::db::now_ms() - age_ms;
    let db = app.state.db.operator("test");
    sqlx::query(
        "INSERT INTO mission_recurring_charges (id, tenant_id, schedule_id, due_on, amount_minor, currency, status, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, 'USD', 'pending', $6, $6)",
    )
    .bind(portico::db::new_id())
    .bind(&tenant)
    .bind(schedule)
    .bind(due_on)
    .bind(amount)
    .bind(at)
    .execute(db.writer())
    .await
    .expect("claim");
    let next = day(parse(due_on) + chrono::Days::new(7));
    sqlx::query("UPDATE mission_recurring SET next_on = $2 WHERE id = $1")
        .bind(schedule)
        .bind(&next)
        .execute(db.writer())
        .await
        .expect("move on");
}

fn parse(d: &str) -> chrono::NaiveDate {
    chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap()
}

async fn charge_status(app: &TestApp, schedule: &str, due_on: &str) -> String {
    sqlx::query(
        "SELECT status FROM mission_recurring_charges WHERE schedule_id = $1 AND due_on = $2",
    )
    .bind(schedule)
    .bind(due_on)
    .fetch_one(app.state.db.operator("test").reader())
    .await
    .expect("charge")
    .get::<String, _>(0)
}

/// A run that stopped between claiming an occurrence and recording its outcome: a later run
/// takes the claim over once the lease has passed and asks the provider again under the same
/// key. Never charged before: charged now, once. Already charged (its webhook lost): the
/// provider answers the first charge again, and the gift is recorded once. Racing runs settle
/// each claim once.
async fn recurring_crash_recovery(app: TestApp) {
    let fake = FakeProvider::start().await;
    settings(&app, "https://give.grace.example", Some(&fake)).await;
    let mary = app.api_login("grace", "mary@grace.example", "portal").await;
    let today = grace_today(&app).await;
    let v = ok_json(
        mary.get("/api/v1/mission/giving/recurring").await,
        StatusCode::OK,
    )
    .await;
    let demo = v["items"][0]["id"].as_str().unwrap().to_string();
    mary.delete(&format!("/api/v1/mission/giving/recurring/{demo}"))
        .await;
    let customer = save_card(&mary, &fake, true).await;
    let missions = fund(&app, "Missions").await;
    let new = json!({"fund_id": missions, "amount_minor": 1000, "frequency": "weekly", "start_on": day(today)});
    let a = ok_json(
        mary.post_json("/api/v1/mission/giving/recurring", &new)
            .await,
        StatusCode::CREATED,
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string();

    // Claimed a moment ago: another run may still be waiting for the provider; left alone.
    let lease = portico::mission::giving::recurring::CLAIM_LEASE_MS;
    stale_claim(&app, &a, &day(today), 1000, 60_000).await;
    run_job_twice(&app, &day(today)).await;
    assert!(fake.intents().is_empty(), "{:?}", fake.intents());
    assert_eq!(charge_status(&app, &a, &day(today)).await, "pending");
    // Past the lease: charged once, under the occurrence's key, however many runs race.
    sqlx::query(
        "UPDATE mission_recurring_charges SET updated_at = updated_at - $2 WHERE schedule_id = $1",
    )
    .bind(&a)
    .bind(lease)
    .execute(app.state.db.operator("test").writer())
    .await
    .unwrap();
    run_job_twice(&app, &day(today)).await;
    run_job_twice(&app, &day(today)).await;
    let intents = fake.intents();
    assert_eq!(intents.len(), 1, "{intents:?}");
    assert_eq!(
        intents[0].idempotency_key,
        format!("mission-recurring-{a}-{}", day(today))
    );
    assert_eq!(gifts_for(&app, &intents[0].id).await, 1);
    assert_eq!(charge_status(&app, &a, &day(today)).await, "charged");
    assert_eq!(
        scalar(
            &app,
            "SELECT COUNT(*) FROM mission_gifts WHERE recurring = 1 AND given_on = $1 AND amount_minor = 1000",
            &[&day(today)],
        )
        .await,
        1
    );
    // The schedule's own next date was not charged early.
    assert_eq!(
        schedule(&mary, &a).await["next_on"],
        day(today + chrono::Days::new(7))
    );

    // The provider took the first charge, but its answer and webhook never arrived.
    let b = ok_json(
        mary.post_json(
            "/api/v1/mission/giving/recurring",
            &json!({"fund_id": missions, "amount_minor": 2500, "frequency": "weekly", "start_on": day(today)}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let key = format!("mission-recurring-{b}-{}", day(today));
    let card = fake
        .methods()
        .into_iter()
        .find(|m| m.customer.as_deref() == Some(customer.as_str()))
        .unwrap()
        .id;
    fake.hold_webhooks();
    let r = reqwest::Client::new()
        .post(format!("{}/v1/payment_intents", fake.base_url()))
        .bearer_auth(SECRET_KEY)
        .header("Idempotency-Key", &key)
        .form(&[
            ("amount", "2500"),
            ("currency", "usd"),
            ("customer", customer.as_str()),
            ("payment_method", card.as_str()),
            ("off_session", "true"),
            ("confirm", "true"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    fake.deliver_to(&app.url("/webhooks/payments/grace"));
    let first = fake.intents().pop().unwrap();
    assert_eq!(gifts_for(&app, &first.id).await, 0);
    stale_claim(&app, &b, &day(today), 2500, lease + 60_000).await;
    let replays = fake.replays();
    run_job_twice(&app, &day(today)).await;
    run_job_twice(&app, &day(today)).await;
    let intents = fake.intents();
    assert_eq!(
        intents.iter().filter(|i| i.idempotency_key == key).count(),
        1,
        "{intents:?}"
    );
    assert_eq!(intents.len(), 2, "{intents:?}");
    assert_eq!(fake.replays(), replays + 1);
    assert_eq!(gifts_for(&app, &first.id).await, 1);
    assert_eq!(charge_status(&app, &b, &day(today)).await, "charged");
    let g = ok_json(mary.get("/api/v1/mission/giving").await, StatusCode::OK).await;
    let found = g["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["amount_minor"] == 2500 && x["recurring"] == true)
        .count();
    assert_eq!(found, 1, "{g}");

    // A claim left by a run that stopped before the gift was cancelled: settled, not charged.
    let before = fake.intents().len();
    let c = ok_json(
        mary.post_json(
            "/api/v1/mission/giving/recurring",
            &json!({"fund_id": missions, "amount_minor": 700, "frequency": "weekly", "start_on": day(today)}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    stale_claim(&app, &c, &day(today), 700, lease + 60_000).await;
    mary.delete(&format!("/api/v1/mission/giving/recurring/{c}"))
        .await;
    run_job_twice(&app, &day(today)).await;
    assert_eq!(fake.intents().len(), before);
    assert_eq!(charge_status(&app, &c, &day(today)).await, "failed");
}
crate::db_test!(recurring_crash_recovery_both_dbs, recurring_crash_recovery);
