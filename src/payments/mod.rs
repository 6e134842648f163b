//! The payment-provider client: hosted checkout in the shape of Stripe's Checkout Sessions API
//! and verification of its signed webhooks. Generic over what is paid for (metadata carries the
//! caller's references), so other features (the Mission portal's giving) can reuse it.
//!
//! - `POST {base}/v1/checkout/sessions`, form-encoded, `Authorization: Bearer {secret key}`;
//!   the answer's `url` is the hosted page the payer is sent to.
//! - Saved methods: a Customer per payer (`POST /v1/customers`), its cards
//!   (`GET /v1/customers/{id}/payment_methods`), added through a Checkout Session with
//!   `mode=setup`, removed with `POST /v1/payment_methods/{id}/detach`, charged off-session with
//!   `POST /v1/payment_intents` (`confirm=true`, `off_session=true`).
//! - Webhooks carry `Stripe-Signature: t={unix seconds},v1={hex HMAC-SHA256 of "t.payload"}`
//!   under the endpoint's signing secret; a signature older than [`TOLERANCE_SECS`] is refused.

use std::collections::BTreeMap;
use std::time::Duration;

use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// The real provider's API address; tests and other deployments point a tenant elsewhere.
pub const DEFAULT_BASE_URL: &str = "https://api.stripe.com";
/// Name of the webhook signature header.
pub const SIGNATURE_HEADER: &str = "stripe-signature";
/// How old a webhook signature may be.
pub const TOLERANCE_SECS: i64 = 300;

/// Where and as whom to call the provider.
#[derive(Clone)]
pub struct Provider {
    /// API base address without a trailing slash.
    pub base_url: String,
    /// Secret API key.
    pub secret_key: String,
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provider")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

/// What a hosted checkout should charge.
#[derive(Clone, Debug)]
pub struct CheckoutRequest {
    /// Amount in minor units.
    pub amount: i64,
    /// ISO currency code.
    pub currency: String,
    /// What the payer sees ("Invoice 1042").
    pub description: String,
    /// The caller's reference for the paid object.
    pub reference: String,
    /// Where the payer lands after paying (`{CHECKOUT_SESSION_ID}` is filled in by the provider).
    pub success_url: String,
    /// Where the payer lands after giving up.
    pub cancel_url: String,
    /// Payer email to prefill, if known.
    pub email: Option<String>,
    /// Facts echoed back in the webhook.
    pub metadata: BTreeMap<String, String>,
}

/// A created hosted checkout.
#[derive(Clone, Debug, Deserialize)]
pub struct CheckoutSession {
    /// Provider id (`cs_…`).
    pub id: String,
    /// Hosted page address.
    pub url: String,
}

/// Why the provider could not be used.
#[derive(Debug, thiserror::Error)]
pub enum PaymentError {
    /// Network failure or an unreadable answer.
    #[error("the payment provider could not be reached: {0}")]
    Unreachable(String),
    /// The provider refused the request.
    #[error("the payment provider refused the request ({status}): {message}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// The provider's message.
        message: String,
    },
}

fn client() -> Result<reqwest::Client, PaymentError> {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| PaymentError::Unreachable(e.to_string()))
}

/// The form fields of a checkout session request, in the provider's bracket notation.
pub fn checkout_form(req: &CheckoutRequest) -> Vec<(String, String)> {
    let mut f: Vec<(String, String)> = vec![
        ("mode".into(), "payment".into()),
        ("success_url".into(), req.success_url.clone()),
        ("cancel_url".into(), req.cancel_url.clone()),
        ("client_reference_id".into(), req.reference.clone()),
        ("line_items[0][quantity]".into(), "1".into()),
        (
            "line_items[0][price_data][currency]".into(),
            req.currency.to_ascii_lowercase(),
        ),
        (
            "line_items[0][price_data][unit_amount]".into(),
            req.amount.to_string(),
        ),
        (
            "line_items[0][price_data][product_data][name]".into(),
            req.description.clone(),
        ),
    ];
    if let Some(e) = &req.email {
        f.push(("customer_email".into(), e.clone()));
    }
    for (k, v) in &req.metadata {
        f.push((format!("metadata[{k}]"), v.clone()));
        f.push((format!("payment_intent_data[metadata][{k}]"), v.clone()));
    }
    f
}

/// Creates a hosted checkout; the payer is then redirected to its `url`.
pub async fn create_checkout(
    p: &Provider,
    req: &CheckoutRequest,
) -> Result<CheckoutSession, PaymentError> {
    let url = format!("{}/v1/checkout/sessions", p.base_url.trim_end_matches('/'));
    let resp = client()?
        .post(&url)
        .bearer_auth(&p.secret_key)
        // Retrying a timed-out create must not open a second session for the same attempt.
        .header("Idempotency-Key", uuid::Uuid::new_v4().to_string())
        .form(&checkout_form(req))
        .send()
        .await
        .map_err(|e| PaymentError::Unreachable(e.without_url().to_string()))?;
    let status = resp.status();
    let body = resp
        .text()
        .await
        .map_err(|e| PaymentError::Unreachable(e.without_url().to_string()))?;
    if !status.is_success() {
        let message = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["error"]["message"].as_str().map(str::to_string))
            .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_string());
        return Err(PaymentError::Refused {
            status: status.as_u16(),
            message,
        });
    }
    let s: CheckoutSession = serde_json::from_str(&body)
        .map_err(|e| PaymentError::Unreachable(format!("unexpected answer: {e}")))?;
    if !(s.url.starts_with("https://") || s.url.starts_with("http://")) {
        return Err(PaymentError::Unreachable(
            "the checkout address is not a web address".into(),
        ));
    }
    Ok(s)
}

/// The provider's message in an error answer, or the status's reason.
fn error_message(status: reqwest::StatusCode, body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["error"]["message"].as_str().map(str::to_string))
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_string())
}

/// Sends one API request (form-encoded body for POST) and reads the JSON answer.
async fn call<T: serde::de::DeserializeOwned>(
    p: &Provider,
    method: reqwest::Method,
    path: &str,
    form: &[(String, String)],
    idempotency_key: Option<&str>,
) -> Result<T, PaymentError> {
    let url = format!("{}{path}", p.base_url.trim_end_matches('/'));
    let mut req = client()?
        .request(method.clone(), &url)
        .bearer_auth(&p.secret_key);
    if method == reqwest::Method::GET {
        req = req.query(form);
    } else {
        req = req.form(form);
    }
    if let Some(key) = idempotency_key {
        req = req.header("Idempotency-Key", key);
    }
    let resp = req
        .send()
        .await
        .map_err(|e| PaymentError::Unreachable(e.without_url().to_string()))?;
    let status = resp.status();
    let body = resp
        .text()
        .await
        .map_err(|e| PaymentError::Unreachable(e.without_url().to_string()))?;
    if !status.is_success() {
        return Err(PaymentError::Refused {
            status: status.as_u16(),
            message: error_message(status, &body),
        });
    }
    serde_json::from_str(&body)
        .map_err(|e| PaymentError::Unreachable(format!("unexpected answer: {e}")))
}

/// A customer at the provider (`cus_…`).
#[derive(Clone, Debug, Deserialize)]
pub struct Customer {
    /// Provider id.
    pub id: String,
}

/// Creates the provider customer that holds one payer's saved methods.
pub async fn create_customer(
    p: &Provider,
    name: &str,
    metadata: &BTreeMap<String, String>,
) -> Result<Customer, PaymentError> {
    let mut f: Vec<(String, String)> = vec![("name".into(), name.to_string())];
    for (k, v) in metadata {
        f.push((format!("metadata[{k}]"), v.clone()));
    }
    let key = uuid::Uuid::new_v4().to_string();
    call(p, reqwest::Method::POST, "/v1/customers", &f, Some(&key)).await
}

/// The card details of a saved method.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Card {
    /// `visa`, `mastercard`, …
    #[serde(default)]
    pub brand: String,
    /// Last four digits.
    #[serde(default)]
    pub last4: String,
    /// Expiry month (1–12).
    #[serde(default)]
    pub exp_month: i64,
    /// Expiry year.
    #[serde(default)]
    pub exp_year: i64,
}

/// A saved payment method (`pm_…`).
#[derive(Clone, Debug, Deserialize)]
pub struct PaymentMethod {
    /// Provider id.
    pub id: String,
    /// The customer it is attached to, if any.
    #[serde(default)]
    pub customer: Option<String>,
    /// Card details (card methods only).
    #[serde(default)]
    pub card: Option<Card>,
}

#[derive(Deserialize)]
struct MethodList {
    data: Vec<PaymentMethod>,
}

/// The card methods saved for `customer`. Only methods the answer attributes to that customer
/// are returned, whatever else the answer holds.
pub async fn list_payment_methods(
    p: &Provider,
    customer: &str,
) -> Result<Vec<PaymentMethod>, PaymentError> {
    let path = format!("/v1/customers/{}/payment_methods", path_segment(customer)?);
    let list: MethodList = call(
        p,
        reqwest::Method::GET,
        &path,
        &[
            ("type".into(), "card".into()),
            ("limit".into(), "100".into()),
        ],
        None,
    )
    .await?;
    Ok(list
        .data
        .into_iter()
        .filter(|m| m.customer.as_deref() == Some(customer))
        .collect())
}

/// One saved method as the provider knows it.
pub async fn get_payment_method(p: &Provider, id: &str) -> Result<PaymentMethod, PaymentError> {
    let path = format!("/v1/payment_methods/{}", path_segment(id)?);
    call(p, reqwest::Method::GET, &path, &[], None).await
}

/// Detaches a saved method from its customer (it can no longer be charged).
pub async fn detach_payment_method(p: &Provider, id: &str) -> Result<PaymentMethod, PaymentError> {
    let path = format!("/v1/payment_methods/{}/detach", path_segment(id)?);
    call(p, reqwest::Method::POST, &path, &[], None).await
}

/// Provider ids are plain tokens (`pm_…`, `cus_…`); anything else never reaches a URL path.
fn path_segment(id: &str) -> Result<&str, PaymentError> {
    if !id.is_empty()
        && id.len() <= 255
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        Ok(id)
    } else {
        Err(PaymentError::Refused {
            status: 404,
            message: "no such object".into(),
        })
    }
}

/// Opens a hosted page (a Checkout Session with `mode=setup`) where the payer saves a card
/// for `customer`; the payer returns to `success_url`.
pub async fn create_setup_session(
    p: &Provider,
    customer: &str,
    success_url: &str,
    cancel_url: &str,
    metadata: &BTreeMap<String, String>,
) -> Result<CheckoutSession, PaymentError> {
    let mut f: Vec<(String, String)> = vec![
        ("mode".into(), "setup".into()),
        ("customer".into(), customer.to_string()),
        ("payment_method_types[0]".into(), "card".into()),
        ("success_url".into(), success_url.to_string()),
        ("cancel_url".into(), cancel_url.to_string()),
    ];
    for (k, v) in metadata {
        f.push((format!("metadata[{k}]"), v.clone()));
    }
    let key = uuid::Uuid::new_v4().to_string();
    let s: CheckoutSession = call(
        p,
        reqwest::Method::POST,
        "/v1/checkout/sessions",
        &f,
        Some(&key),
    )
    .await?;
    if !(s.url.starts_with("https://") || s.url.starts_with("http://")) {
        return Err(PaymentError::Unreachable(
            "the checkout address is not a web address".into(),
        ));
    }
    Ok(s)
}

/// An off-session charge of a saved method.
#[derive(Clone, Debug)]
pub struct IntentRequest {
    /// Amount in minor units.
    pub amount: i64,
    /// ISO currency code.
    pub currency: String,
    /// The provider customer.
    pub customer: String,
    /// The saved method to charge.
    pub payment_method: String,
    /// Facts echoed back in the webhook.
    pub metadata: BTreeMap<String, String>,
    /// The same key for a retried attempt, so it never charges twice.
    pub idempotency_key: String,
}

/// A payment intent as created (`pi_…`).
#[derive(Clone, Debug, Deserialize)]
pub struct PaymentIntent {
    /// Provider id.
    pub id: String,
    /// `succeeded`, `processing`, `requires_action`, …
    #[serde(default)]
    pub status: String,
}

/// The form fields of an off-session payment intent.
pub fn intent_form(req: &IntentRequest) -> Vec<(String, String)> {
    let mut f: Vec<(String, String)> = vec![
        ("amount".into(), req.amount.to_string()),
        ("currency".into(), req.currency.to_ascii_lowercase()),
        ("customer".into(), req.customer.clone()),
        ("payment_method".into(), req.payment_method.clone()),
        ("off_session".into(), "true".into()),
        ("confirm".into(), "true".into()),
    ];
    for (k, v) in &req.metadata {
        f.push((format!("metadata[{k}]"), v.clone()));
    }
    f
}

/// Charges a saved method without the payer present (`off_session`, `confirm`). The payment
/// itself is recorded when the provider's `payment_intent.succeeded` webhook arrives.
pub async fn create_payment_intent(
    p: &Provider,
    req: &IntentRequest,
) -> Result<PaymentIntent, PaymentError> {
    call(
        p,
        reqwest::Method::POST,
        "/v1/payment_intents",
        &intent_form(req),
        Some(&req.idempotency_key),
    )
    .await
}

fn mac_hex(secret: &str, t: i64, payload: &[u8]) -> String {
    // HMAC accepts keys of any length; the error branch cannot happen.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(payload);
    hex::encode(mac.finalize().into_bytes())
}

/// The signature header for `payload` at Unix time `t` (what the provider sends; tests sign
/// with it).
pub fn sign(secret: &str, t: i64, payload: &[u8]) -> String {
    format!("t={t},v1={}", mac_hex(secret, t, payload))
}

/// Why a webhook was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// No usable `t=` or `v1=` in the header.
    #[error("the signature header is malformed")]
    Malformed,
    /// No `v1` matched.
    #[error("the signature does not match")]
    Mismatch,
    /// Outside the tolerance window (a replay of an old delivery).
    #[error("the signature is too old")]
    Expired,
}

/// Verifies a signature header against the raw payload at Unix time `now`.
pub fn verify(header: &str, payload: &[u8], secret: &str, now: i64) -> Result<(), SignatureError> {
    let mut t = None;
    let mut sigs = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("v1", v)) => sigs.push(v.to_string()),
            _ => {}
        }
    }
    let t = t.ok_or(SignatureError::Malformed)?;
    if sigs.is_empty() {
        return Err(SignatureError::Malformed);
    }
    let expected = mac_hex(secret, t, payload);
    let ok = sigs
        .iter()
        .any(|s| bool::from(s.as_bytes().ct_eq(expected.as_bytes())));
    if !ok {
        return Err(SignatureError::Mismatch);
    }
    if (now - t).abs() > TOLERANCE_SECS {
        return Err(SignatureError::Expired);
    }
    Ok(())
}

/// A webhook event, as far as Portico reads it.
#[derive(Clone, Debug, Deserialize)]
pub struct Event {
    /// Event id (`evt_…`).
    pub id: String,
    /// Event type (`checkout.session.completed`, …).
    #[serde(rename = "type")]
    pub kind: String,
    /// The object the event is about.
    pub data: EventData,
}

/// `data` of an event.
#[derive(Clone, Debug, Deserialize)]
pub struct EventData {
    /// A checkout session for the checkout events.
    pub object: SessionObject,
}

/// A checkout session as webhooks carry it.
#[derive(Clone, Debug, Deserialize)]
pub struct SessionObject {
    /// Session id (`cs_…`).
    pub id: String,
    /// Amount charged, minor units.
    #[serde(default)]
    pub amount_total: Option<i64>,
    /// Lowercase currency code.
    #[serde(default)]
    pub currency: Option<String>,
    /// `paid`, `unpaid` or `no_payment_required`.
    #[serde(default)]
    pub payment_status: Option<String>,
    /// The caller's reference.
    #[serde(default)]
    pub client_reference_id: Option<String>,
    /// The metadata given at creation.
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    /// Amount received (payment intents).
    #[serde(default)]
    pub amount_received: Option<i64>,
    /// `succeeded`, … (payment intents).
    #[serde(default)]
    pub status: Option<String>,
}

impl SessionObject {
    /// The amount paid: a checkout's total or an intent's amount received.
    pub fn amount_paid(&self) -> Option<i64> {
        self.amount_total.or(self.amount_received)
    }
}

impl Event {
    /// The completed and paid checkout (or succeeded payment intent, as autopay creates) this
    /// event reports, if that is what it is.
    pub fn paid_session(&self) -> Option<&SessionObject> {
        let o = &self.data.object;
        let paid = (matches!(
            self.kind.as_str(),
            "checkout.session.completed" | "checkout.session.async_payment_succeeded"
        ) && o.payment_status.as_deref() == Some("paid"))
            || (self.kind == "payment_intent.succeeded"
                && o.status.as_deref() == Some("succeeded"));
        paid.then_some(&self.data.object)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_and_expire() {
        let body = br#"{"id":"evt_1"}"#;
        let h = sign("whsec_x", 1_000_000, body);
        assert_eq!(verify(&h, body, "whsec_x", 1_000_100), Ok(()));
        assert_eq!(
            verify(&h, body, "whsec_y", 1_000_100),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(&h, b"{}", "whsec_x", 1_000_100),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(&h, body, "whsec_x", 1_000_000 + TOLERANCE_SECS + 1),
            Err(SignatureError::Expired)
        );
        assert_eq!(
            verify("v1=abc", body, "whsec_x", 0),
            Err(SignatureError::Malformed)
        );
        // A second (rotated) signature is accepted when one matches.
        let two = format!("{h},v1=deadbeef");
        assert_eq!(verify(&two, body, "whsec_x", 1_000_000), Ok(()));
    }

    #[test]
    fn checkout_form_uses_bracket_notation() {
        let f = checkout_form(&CheckoutRequest {
            amount: 1234,
            currency: "USD".into(),
            description: "Invoice 7".into(),
            reference: "inv1".into(),
            success_url: "https://x/ok".into(),
            cancel_url: "https://x/no".into(),
            email: None,
            metadata: [("invoice_id".to_string(), "inv1".to_string())].into(),
        });
        assert!(f.contains(&(
            "line_items[0][price_data][unit_amount]".into(),
            "1234".into()
        )));
        assert!(f.contains(&("line_items[0][price_data][currency]".into(), "usd".into())));
        assert!(f.contains(&("metadata[invoice_id]".into(), "inv1".into())));
    }
}
