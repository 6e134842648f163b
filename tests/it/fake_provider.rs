//! A small payment provider on loopback that speaks the Checkout Sessions endpoints the real
//! client calls (`POST /v1/checkout/sessions`, form-encoded, Bearer key), serves a hosted
//! checkout page, and on "Pay" sends the signed `checkout.session.completed` webhook the way
//! the real provider signs it. Shared by tests/it and tests/browser.rs.
//!
//! Saved methods too: customers (`POST /v1/customers`), their cards
//! (`GET /v1/customers/{id}/payment_methods`, `GET /v1/payment_methods/{id}`,
//! `POST /v1/payment_methods/{id}/detach`), setup sessions (`mode=setup`: "Pay" saves a Visa
//! ending 4242 for the session's customer), and off-session payment intents
//! (`POST /v1/payment_intents`): a card ending 0002 is declined (402, `card_declined`), any other
//! succeeds and the signed `payment_intent.succeeded` webhook is delivered before the answer.
//! Like the real provider, a repeated `Idempotency-Key` answers the first request's result again
//! (no second intent, no second webhook).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;

/// The secret API key the fake accepts.
pub const SECRET_KEY: &str = "sk_test_fake_provider_key";
/// The provider customer the demo data gives Globex.
pub const DEMO_CUSTOMER: &str = "cus_demo_globex";
/// The webhook signing secret it signs with.
pub const WEBHOOK_SECRET: &str = "whsec_fake_provider_secret";

/// One created checkout session.
#[derive(Clone, Debug)]
pub struct FakeSession {
    pub id: String,
    pub amount: i64,
    pub currency: String,
    pub success_url: String,
    pub cancel_url: String,
    pub metadata: BTreeMap<String, String>,
    pub form: Vec<(String, String)>,
    /// `payment` or `setup`.
    pub mode: String,
    /// The customer of a setup session.
    pub customer: String,
}

/// A saved card at the fake.
#[derive(Clone, Debug)]
pub struct FakeMethod {
    pub id: String,
    /// Attached customer; `None` once detached.
    pub customer: Option<String>,
    pub brand: String,
    pub last4: String,
}

/// A payment intent the fake was asked to create.
#[derive(Clone, Debug)]
pub struct FakeIntent {
    pub id: String,
    pub form: Vec<(String, String)>,
    pub idempotency_key: String,
    pub succeeded: bool,
    /// The amount asked for.
    pub amount: i64,
}

#[derive(Default)]
struct Inner {
    sessions: Vec<FakeSession>,
    customers: Vec<String>,
    methods: Vec<FakeMethod>,
    intents: Vec<FakeIntent>,
    /// Where webhooks go (set by the test once the app runs).
    webhook_url: Option<String>,
    refused_auth: usize,
    /// Requests answered from an earlier one with the same idempotency key.
    replays: usize,
}

/// A running fake provider.
#[derive(Clone)]
pub struct FakeProvider {
    pub addr: SocketAddr,
    inner: Arc<Mutex<Inner>>,
}

impl FakeProvider {
    /// Starts the fake on a loopback port.
    pub async fn start() -> FakeProvider {
        // The demo's Globex customer exists with one saved Visa (src/billing/demo.rs).
        let inner = Arc::new(Mutex::new(Inner {
            customers: vec![DEMO_CUSTOMER.to_string()],
            methods: vec![FakeMethod {
                id: "pm_demo_globex".into(),
                customer: Some(DEMO_CUSTOMER.to_string()),
                brand: "visa".into(),
                last4: "4242".into(),
            }],
            ..Inner::default()
        }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind fake provider");
        let addr = listener.local_addr().expect("addr");
        let fake = FakeProvider { addr, inner };
        let app = Router::new()
            .route("/v1/checkout/sessions", post(create_session))
            .route("/pay/{id}", get(hosted_page).post(pay))
            .route("/v1/customers", post(create_customer))
            .route("/v1/customers/{id}/payment_methods", get(list_methods))
            .route("/v1/payment_methods/{id}", get(get_method))
            .route("/v1/payment_methods/{id}/detach", post(detach_method))
            .route("/v1/payment_intents", post(create_intent))
            .with_state(fake.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        fake
    }

    /// Base URL to configure as the tenant's provider address.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Sends webhooks for completed payments to `url`.
    pub fn deliver_to(&self, url: &str) {
        self.inner.lock().expect("lock").webhook_url = Some(url.to_string());
    }

    /// Sessions created so far.
    pub fn sessions(&self) -> Vec<FakeSession> {
        self.inner.lock().expect("lock").sessions.clone()
    }

    /// Customers created so far.
    pub fn customers(&self) -> Vec<String> {
        self.inner.lock().expect("lock").customers.clone()
    }

    /// Saved cards (detached ones have no customer).
    pub fn methods(&self) -> Vec<FakeMethod> {
        self.inner.lock().expect("lock").methods.clone()
    }

    /// Payment intents asked for (one per idempotency key).
    pub fn intents(&self) -> Vec<FakeIntent> {
        self.inner.lock().expect("lock").intents.clone()
    }

    /// How many payment intent requests repeated an earlier idempotency key.
    pub fn replays(&self) -> usize {
        self.inner.lock().expect("lock").replays
    }

    /// Stops sending webhooks (as if they were lost), until `deliver_to` again.
    pub fn hold_webhooks(&self) {
        self.inner.lock().expect("lock").webhook_url = None;
    }

    /// Saves a card for `customer` directly (as if through the hosted page); returns its id.
    pub fn add_card(&self, customer: &str, brand: &str, last4: &str) -> String {
        let mut inner = self.inner.lock().expect("lock");
        let id = format!("pm_test_{}", inner.methods.len() + 1);
        inner.methods.push(FakeMethod {
            id: id.clone(),
            customer: Some(customer.to_string()),
            brand: brand.to_string(),
            last4: last4.to_string(),
        });
        id
    }

    /// Requests refused for a wrong key.
    pub fn refused_auth(&self) -> usize {
        self.inner.lock().expect("lock").refused_auth
    }

    /// The `checkout.session.completed` event body for `s`, paid with `amount`.
    pub fn completed_event(s: &FakeSession, event_id: &str, amount: i64) -> Vec<u8> {
        json!({
            "id": event_id,
            "object": "event",
            "type": "checkout.session.completed",
            "data": { "object": {
                "id": s.id,
                "object": "checkout.session",
                "amount_total": amount,
                "currency": s.currency,
                "payment_status": "paid",
                "client_reference_id": s.metadata.get("invoice_id"),
                "metadata": s.metadata,
            }}
        })
        .to_string()
        .into_bytes()
    }

    /// Posts `body` to `url` signed at Unix time `t` with `secret`; returns the status.
    pub async fn post_signed(url: &str, body: &[u8], secret: &str, t: i64) -> u16 {
        reqwest::Client::new()
            .post(url)
            .header("content-type", "application/json")
            .header("stripe-signature", portico::payments::sign(secret, t, body))
            .body(body.to_vec())
            .send()
            .await
            .expect("webhook delivery")
            .status()
            .as_u16()
    }
}

async fn create_session(
    State(fake): State<FakeProvider>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if auth != format!("Bearer {SECRET_KEY}") {
        fake.inner.lock().expect("lock").refused_auth += 1;
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": {"message": "Invalid API Key provided"}})),
        )
            .into_response();
    }
    let form: Vec<(String, String)> = serde_urlencoded::from_str(&body).unwrap_or_default();
    let get = |k: &str| {
        form.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let metadata: BTreeMap<String, String> = form
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix("metadata[")
                .and_then(|r| r.strip_suffix(']'))
                .map(|name| (name.to_string(), v.clone()))
        })
        .collect();
    let mut inner = fake.inner.lock().expect("lock");
    let id = format!("cs_test_{}", inner.sessions.len() + 1);
    inner.sessions.push(FakeSession {
        id: id.clone(),
        amount: get("line_items[0][price_data][unit_amount]")
            .parse()
            .unwrap_or(0),
        currency: get("line_items[0][price_data][currency]"),
        success_url: get("success_url"),
        cancel_url: get("cancel_url"),
        metadata,
        form: form.clone(),
        mode: match get("mode").as_str() {
            "" => "payment".to_string(),
            m => m.to_string(),
        },
        customer: get("customer"),
    });
    let url = format!("http://{}/pay/{id}", fake.addr);
    Json(json!({ "id": id, "object": "checkout.session", "url": url })).into_response()
}

fn session(fake: &FakeProvider, id: &str) -> Option<FakeSession> {
    fake.inner
        .lock()
        .expect("lock")
        .sessions
        .iter()
        .find(|s| s.id == id)
        .cloned()
}

async fn hosted_page(State(fake): State<FakeProvider>, Path(id): Path<String>) -> Response {
    let Some(s) = session(&fake, &id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><title>Fake checkout</title></head><body>\
         <h1>Fake checkout</h1><p id=\"amount\">{} {}</p>\
         <form method=\"post\" action=\"/pay/{id}\"><button id=\"pay\" type=\"submit\">Pay</button></form>\
         </body></html>",
        s.amount,
        s.currency.to_uppercase()
    ))
    .into_response()
}

async fn pay(State(fake): State<FakeProvider>, Path(id): Path<String>) -> Response {
    let Some(s) = session(&fake, &id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if s.mode == "setup" {
        fake.add_card(&s.customer, "visa", "4242");
        return Redirect::to(&s.success_url).into_response();
    }
    let target = fake.inner.lock().expect("lock").webhook_url.clone();
    if let Some(url) = target {
        let body = FakeProvider::completed_event(&s, &format!("evt_{id}"), s.amount);
        let t = chrono::Utc::now().timestamp();
        let status = FakeProvider::post_signed(&url, &body, WEBHOOK_SECRET, t).await;
        assert_eq!(status, 200, "the app refused the fake provider's webhook");
    }
    Redirect::to(&s.success_url.replace("{CHECKOUT_SESSION_ID}", &id)).into_response()
}

/// The refusal when the request does not carry the fake's key.
fn unauthorized(fake: &FakeProvider, headers: &HeaderMap) -> Option<Response> {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if auth == format!("Bearer {SECRET_KEY}") {
        return None;
    }
    fake.inner.lock().expect("lock").refused_auth += 1;
    Some(
        (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": {"message": "Invalid API Key provided"}})),
        )
            .into_response(),
    )
}

fn not_found(what: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({"error": {"type": "invalid_request_error", "message": format!("No such {what}")}})),
    )
        .into_response()
}

fn method_json(m: &FakeMethod) -> serde_json::Value {
    json!({
        "id": m.id,
        "object": "payment_method",
        "type": "card",
        "customer": m.customer,
        "card": {"brand": m.brand, "last4": m.last4, "exp_month": 4, "exp_year": 2030},
    })
}

async fn create_customer(State(fake): State<FakeProvider>, headers: HeaderMap) -> Response {
    if let Some(r) = unauthorized(&fake, &headers) {
        return r;
    }
    let mut inner = fake.inner.lock().expect("lock");
    let id = format!("cus_test_{}", inner.customers.len() + 1);
    inner.customers.push(id.clone());
    Json(json!({"id": id, "object": "customer"})).into_response()
}

async fn list_methods(
    State(fake): State<FakeProvider>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Some(r) = unauthorized(&fake, &headers) {
        return r;
    }
    let inner = fake.inner.lock().expect("lock");
    if !inner.customers.contains(&id) {
        return not_found("customer");
    }
    let data: Vec<_> = inner
        .methods
        .iter()
        .filter(|m| m.customer.as_deref() == Some(id.as_str()))
        .map(method_json)
        .collect();
    Json(json!({"object": "list", "data": data})).into_response()
}

async fn get_method(
    State(fake): State<FakeProvider>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Some(r) = unauthorized(&fake, &headers) {
        return r;
    }
    let inner = fake.inner.lock().expect("lock");
    match inner.methods.iter().find(|m| m.id == id) {
        Some(m) => Json(method_json(m)).into_response(),
        None => not_found("payment_method"),
    }
}

async fn detach_method(
    State(fake): State<FakeProvider>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Some(r) = unauthorized(&fake, &headers) {
        return r;
    }
    let mut inner = fake.inner.lock().expect("lock");
    match inner.methods.iter_mut().find(|m| m.id == id) {
        Some(m) => {
            m.customer = None;
            Json(method_json(m)).into_response()
        }
        None => not_found("payment_method"),
    }
}

async fn create_intent(
    State(fake): State<FakeProvider>,
    headers: HeaderMap,
    body: String,
) -> Response {
    if let Some(r) = unauthorized(&fake, &headers) {
        return r;
    }
    let form: Vec<(String, String)> = serde_urlencoded::from_str(&body).unwrap_or_default();
    let get = |k: &str| {
        form.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let metadata: BTreeMap<String, String> = form
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix("metadata[")
                .and_then(|r| r.strip_suffix(']'))
                .map(|name| (name.to_string(), v.clone()))
        })
        .collect();
    let amount: i64 = get("amount").parse().unwrap_or(0);
    let (id, declined, target) = {
        let mut inner = fake.inner.lock().expect("lock");
        let earlier = inner
            .intents
            .iter()
            .find(|i| !key.is_empty() && i.idempotency_key == key)
            .cloned();
        if let Some(i) = earlier {
            inner.replays += 1;
            drop(inner);
            return intent_answer(&i.id, !i.succeeded, i.amount);
        }
        let Some(m) = inner
            .methods
            .iter()
            .find(|m| m.id == get("payment_method"))
            .cloned()
        else {
            return not_found("payment_method");
        };
        if m.customer.as_deref() != Some(get("customer").as_str()) {
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({"error": {"message": "The payment method does not belong to the customer."}})),
            )
                .into_response();
        }
        let declined = m.last4 == "0002";
        let id = format!("pi_test_{}", inner.intents.len() + 1);
        inner.intents.push(FakeIntent {
            id: id.clone(),
            form: form.clone(),
            idempotency_key: key,
            succeeded: !declined,
            amount,
        });
        (id, declined, inner.webhook_url.clone())
    };
    if declined {
        return intent_answer(&id, true, amount);
    }
    if let Some(url) = target {
        let body = json!({
            "id": format!("evt_{id}"),
            "object": "event",
            "type": "payment_intent.succeeded",
            "data": {"object": {
                "id": id,
                "object": "payment_intent",
                "amount": amount,
                "amount_received": amount,
                "currency": get("currency"),
                "status": "succeeded",
                "metadata": metadata,
            }}
        })
        .to_string()
        .into_bytes();
        let t = chrono::Utc::now().timestamp();
        let status = FakeProvider::post_signed(&url, &body, WEBHOOK_SECRET, t).await;
        assert_eq!(status, 200, "the app refused the fake provider's webhook");
    }
    intent_answer(&id, false, amount)
}

/// The answer to a payment intent request: declined (402) or succeeded.
fn intent_answer(id: &str, declined: bool, amount: i64) -> Response {
    if declined {
        return (
            StatusCode::PAYMENT_REQUIRED,
            Json(
                json!({"error": {"type": "card_error", "code": "card_declined",
                "message": "Your card was declined.",
                "payment_intent": {"id": id, "status": "requires_payment_method"}}}),
            ),
        )
            .into_response();
    }
    Json(json!({"id": id, "object": "payment_intent", "status": "succeeded", "amount": amount}))
        .into_response()
}
