//! Online payment: the real provider client against the loopback fake, the signed webhook
//! (signature, tolerance, replay, duplicates under concurrency, another tenant's invoice) and
//! the return page that tells the truth.

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::Row;

use crate::fake_provider::{FakeProvider, SECRET_KEY, WEBHOOK_SECRET};
use crate::support::{Session, TestApp};

/// Id of the first demo invoice of `company` in `status`.
pub async fn demo_invoice(app: &TestApp, company: &str, status: &str) -> String {
    sqlx::query(
        "SELECT i.id FROM invoices i JOIN companies c ON c.tenant_id = i.tenant_id AND c.id = i.company_id \
         JOIN tenants t ON t.id = i.tenant_id WHERE t.slug = 'acme' AND c.name = $1 AND i.status = $2 \
         ORDER BY i.number LIMIT 1",
    )
    .bind(company)
    .bind(status)
    .fetch_one(app.state.db.operator("test").reader())
    .await
    .expect("demo invoice")
    .get::<String, _>(0)
}

/// Points acme's billing settings at the fake provider; returns the staff session.
pub async fn configure(app: &TestApp, fake: &FakeProvider) -> Session {
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let r = staff
        .put_json(
            "/api/v1/admin/invoices/settings",
            &json!({
                "currency": "USD",
                "overdue_reminders": true,
                "provider_base_url": fake.base_url(),
                "provider_secret_key": SECRET_KEY,
                "webhook_secret": WEBHOOK_SECRET,
            }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["provider_key_set"], true);
    assert!(
        !v.to_string().contains(SECRET_KEY) && !v.to_string().contains(WEBHOOK_SECRET),
        "keys are never shown back"
    );
    fake.deliver_to(&app.url("/webhooks/payments/acme"));
    staff
}

async fn invoice_json(s: &Session, id: &str) -> Value {
    let r = s.get(&format!("/api/v1/invoices/{id}")).await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

async fn payment_count(app: &TestApp, invoice: &str) -> i64 {
    sqlx::query("SELECT COUNT(*) FROM payments WHERE invoice_id = $1")
        .bind(invoice)
        .fetch_one(app.state.db.operator("test").reader())
        .await
        .unwrap()
        .get::<i64, _>(0)
}

async fn pay_through_the_fake(app: TestApp) {
    let fake = FakeProvider::start().await;
    configure(&app, &fake).await;
    // The stored key is sealed, not the plain text.
    let sealed: String = sqlx::query("SELECT provider_secret_sealed FROM billing_settings")
        .fetch_one(app.state.db.operator("test").reader())
        .await
        .unwrap()
        .get(0);
    assert!(!sealed.contains(SECRET_KEY));
    let alice = app
        .api_login("acme", "alice@globex.example", "portal")
        .await;
    let id = demo_invoice(&app, "Globex", "overdue").await;
    let before = invoice_json(&alice, &id).await;
    assert_eq!(before["can_pay"], true);
    let balance = before["invoice"]["balance"].as_i64().unwrap();
    // The page form redirects to the hosted checkout.
    let r = alice
        .post_form(&format!("/portal/invoices/{id}/pay"), &[])
        .await;
    // A page of ours moves on to the hosted checkout (a form may not redirect off-site).
    assert_eq!(r.status(), StatusCode::OK);
    let refresh = r.headers()["refresh"].to_str().unwrap().to_string();
    let hosted = refresh.trim_start_matches("0; url=").to_string();
    assert!(
        r.text()
            .await
            .unwrap()
            .contains(&format!("href=\"{hosted}\""))
    );
    assert!(hosted.starts_with(&fake.base_url()), "{hosted}");
    let s = fake.sessions().pop().expect("a session was created");
    assert_eq!(s.amount, balance);
    assert_eq!(s.currency, "usd");
    assert_eq!(s.metadata.get("invoice_id"), Some(&id));
    assert_eq!(s.metadata.get("tenant").map(String::as_str), Some("acme"));
    assert!(s.success_url.contains("{CHECKOUT_SESSION_ID}"));
    assert!(s.cancel_url.ends_with("?notice=payment-cancelled"));
    assert!(
        s.form
            .contains(&("customer_email".into(), "alice@globex.example".into()))
    );
    assert!(s.form.contains(&("mode".into(), "payment".into())));
    // Before the webhook the return page does not claim success.
    let ret = s.success_url.replace("{CHECKOUT_SESSION_ID}", &s.id);
    let path = ret.trim_start_matches(&app.url(""));
    let r = alice.get(path).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers().contains_key("refresh"));
    let html = r.text().await.unwrap();
    assert!(html.contains("data-payment-state=\"processing\""), "{html}");
    // The payer pays on the hosted page; the fake signs and delivers the webhook.
    let r = app.client().post(&hosted).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let after = invoice_json(&alice, &id).await;
    assert_eq!(after["invoice"]["status"], "paid");
    assert_eq!(after["invoice"]["balance"], 0);
    assert_eq!(after["payments"].as_array().unwrap().len(), 1);
    assert_eq!(after["payments"][0]["method"], "card");
    let html = alice.get(path).await.text().await.unwrap();
    assert!(html.contains("data-payment-state=\"paid\""));
    // Paid invoices cannot be paid again.
    let r = alice
        .post_json(&format!("/api/v1/invoices/{id}/checkout"), &json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let actions = app.audit_actions("acme").await;
    assert!(actions.contains(&"invoice.checkout_started".to_string()));
    assert!(actions.contains(&"invoice.paid_online".to_string()));
    // A wrong key is refused by the provider and reported without leaking details.
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let r = staff
        .put_json(
            "/api/v1/admin/invoices/settings",
            &json!({"currency": "USD", "provider_base_url": fake.base_url(), "provider_secret_key": "sk_wrong"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let other = demo_invoice(&app, "Globex", "sent").await;
    let r = alice
        .post_json(&format!("/api/v1/invoices/{other}/checkout"), &json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fake.refused_auth(), 1);
}
crate::db_test!(pay_through_the_fake_provider, pay_through_the_fake);

async fn signatures_replays_and_tenants(app: TestApp) {
    let fake = FakeProvider::start().await;
    configure(&app, &fake).await;
    let alice = app
        .api_login("acme", "alice@globex.example", "portal")
        .await;
    let id = demo_invoice(&app, "Globex", "overdue").await;
    let r = alice
        .post_json(&format!("/api/v1/invoices/{id}/checkout"), &json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let s = fake.sessions().pop().unwrap();
    let url = app.url("/webhooks/payments/acme");
    let now = chrono::Utc::now().timestamp();
    let half = s.amount / 2;
    let body = FakeProvider::completed_event(&s, "evt_1", half);
    // Wrong secret, tampered body, stale timestamp, no header: refused, nothing recorded.
    assert_eq!(
        FakeProvider::post_signed(&url, &body, "whsec_other", now).await,
        400
    );
    let mut tampered = body.clone();
    let n = tampered.len();
    tampered[n - 3] = b' ';
    let sig = portico::payments::sign(WEBHOOK_SECRET, now, &body);
    let r = reqwest::Client::new()
        .post(&url)
        .header("stripe-signature", sig)
        .body(tampered)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        FakeProvider::post_signed(&url, &body, WEBHOOK_SECRET, now - 301).await,
        400
    );
    let r = reqwest::Client::new()
        .post(&url)
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(payment_count(&app, &id).await, 0);
    // The same event delivered eight times at once records one payment.
    let deliveries = (0..8).map(|_| FakeProvider::post_signed(&url, &body, WEBHOOK_SECRET, now));
    let statuses = futures::future::join_all(deliveries).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(payment_count(&app, &id).await, 1);
    // A replay later (a new event id for the same session) changes nothing either.
    let again = FakeProvider::completed_event(&s, "evt_2", half);
    assert_eq!(
        FakeProvider::post_signed(&url, &again, WEBHOOK_SECRET, now).await,
        200
    );
    assert_eq!(payment_count(&app, &id).await, 1);
    let v = invoice_json(&alice, &id).await;
    assert_eq!(v["invoice"]["paid"].as_i64().unwrap(), half);
    assert_eq!(
        v["invoice"]["status"], "overdue",
        "partly paid stays overdue"
    );
    let html = alice
        .get(&format!("/portal/invoices/{id}/return?session_id={}", s.id))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("data-payment-state=\"partly\""), "{html}");
    // Another tenant's endpoint, with its own secret, naming acme's invoice: refused.
    let grace_secret = "whsec_grace";
    sqlx::query(
        "INSERT INTO billing_settings (tenant_id, currency, viewer_roles, overdue_reminders, webhook_secret_sealed, updated_at) \
         SELECT id, 'USD', '', 0, $1, 0 FROM tenants WHERE slug = 'grace'",
    )
    .bind(portico::mfa::seal(&app.state.config.secret_key, grace_secret.as_bytes()))
    .execute(app.state.db.operator("test").writer())
    .await
    .unwrap();
    let mut foreign = s.clone();
    foreign.id = "cs_foreign_1".into();
    foreign.metadata.insert("tenant".into(), "grace".into());
    let body = FakeProvider::completed_event(&foreign, "evt_3", 100);
    let grace_url = app.url("/webhooks/payments/grace");
    assert_eq!(
        FakeProvider::post_signed(&grace_url, &body, grace_secret, now).await,
        404
    );
    // Signed for acme but claiming another tenant in its metadata: refused too.
    assert_eq!(
        FakeProvider::post_signed(&url, &body, WEBHOOK_SECRET, now).await,
        404
    );
    assert_eq!(payment_count(&app, &id).await, 1);
    // A void invoice never takes a payment, even from a valid webhook.
    let void = demo_invoice(&app, "Globex", "void").await;
    let mut vs = s.clone();
    vs.id = "cs_void_1".into();
    vs.metadata.insert("invoice_id".into(), void.clone());
    let body = FakeProvider::completed_event(&vs, "evt_4", 500);
    assert_eq!(
        FakeProvider::post_signed(&url, &body, WEBHOOK_SECRET, now).await,
        200
    );
    assert_eq!(payment_count(&app, &void).await, 0);
    assert!(
        app.audit_actions("acme")
            .await
            .contains(&"invoice.payment_refused".to_string())
    );
    let r = alice
        .post_json(&format!("/api/v1/invoices/{void}/checkout"), &json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // Unknown tenants and tenants without a secret answer 404.
    assert_eq!(
        FakeProvider::post_signed(
            &app.url("/webhooks/payments/nobody"),
            &body,
            WEBHOOK_SECRET,
            now
        )
        .await,
        404
    );
}
crate::db_test!(
    webhook_signatures_replays_and_tenants,
    signatures_replays_and_tenants
);
