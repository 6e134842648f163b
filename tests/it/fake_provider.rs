//! A small payment provider on loopback that speaks the Checkout Sessions endpoints the real
//! client calls (`POST /v1/checkout/sessions`, form-encoded, Bearer key), serves a hosted
//! checkout page, and on "Pay" sends the signed `checkout.session.completed` webhook the way
//! the real provider signs it. Shared by tests/it and tests/browser.rs.

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
}

#[derive(Default)]
struct Inner {
    sessions: Vec<FakeSession>,
    /// Where webhooks go (set by the test once the app runs).
    webhook_url: Option<String>,
    refused_auth: usize,
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
        let inner = Arc::new(Mutex::new(Inner::default()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind fake provider");
        let addr = listener.local_addr().expect("addr");
        let fake = FakeProvider { addr, inner };
        let app = Router::new()
            .route("/v1/checkout/sessions", post(create_session))
            .route("/pay/{id}", get(hosted_page).post(pay))
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
    let target = fake.inner.lock().expect("lock").webhook_url.clone();
    if let Some(url) = target {
        let body = FakeProvider::completed_event(&s, &format!("evt_{id}"), s.amount);
        let t = chrono::Utc::now().timestamp();
        let status = FakeProvider::post_signed(&url, &body, WEBHOOK_SECRET, t).await;
        assert_eq!(status, 200, "the app refused the fake provider's webhook");
    }
    Redirect::to(&s.success_url.replace("{CHECKOUT_SESSION_ID}", &id)).into_response()
}
