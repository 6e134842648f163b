//! The connector interface the sync engine talks to, the records it exchanges, and the HTTP
//! plumbing both connectors share (rate limits honoured, server errors reported as retryable).

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A ticket as the PSA holds it, in Portico's terms after the connector's translation (status
/// and priority stay the PSA's own names; the engine maps them).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct RemoteTicket {
    /// PSA id.
    pub id: String,
    /// PSA company id.
    #[serde(default)]
    pub company_id: Option<String>,
    /// Requester's email.
    #[serde(default)]
    pub requester_email: Option<String>,
    /// Summary.
    #[serde(default)]
    pub subject: String,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// The PSA's status name.
    #[serde(default)]
    pub status: Option<String>,
    /// The PSA's priority name.
    #[serde(default)]
    pub priority: Option<String>,
    /// Assigned technician's email.
    #[serde(default)]
    pub assignee_email: Option<String>,
    /// Last change in the PSA (Unix ms).
    #[serde(default)]
    pub updated_at: i64,
    /// Comments, oldest first.
    #[serde(default)]
    pub comments: Vec<RemoteComment>,
}

/// A comment as the PSA holds it.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct RemoteComment {
    /// PSA id.
    pub id: String,
    /// Text (Markdown or plain).
    #[serde(default)]
    pub body: String,
    /// An internal note (never shown in the portal).
    #[serde(default)]
    pub internal: bool,
    /// Author's email.
    #[serde(default)]
    pub author_email: Option<String>,
    /// Written (Unix ms).
    #[serde(default)]
    pub created_at: i64,
}

/// One page of changed tickets.
#[derive(Clone, Debug, Default)]
pub struct ChangePage {
    /// Tickets changed since the cursor.
    pub tickets: Vec<RemoteTicket>,
    /// Cursor to ask from next time (or for the next page).
    pub next_cursor: Option<String>,
    /// More pages follow now.
    pub has_more: bool,
}

/// A ticket to create in the PSA.
#[derive(Clone, Debug, Default, Serialize)]
pub struct NewRemoteTicket {
    /// Portico's reference (`#1042`), echoed back by PSAs that keep it.
    pub external_ref: String,
    /// PSA company id, when the company is linked.
    pub company_id: Option<String>,
    /// Company name (for PSAs that match by name).
    pub company_name: String,
    /// Requester's email.
    pub requester_email: String,
    /// Requester's name.
    pub requester_name: String,
    /// Summary.
    pub subject: String,
    /// Description, with the attachments' names and links appended.
    pub description: String,
    /// PSA status name.
    pub status: Option<String>,
    /// PSA priority name.
    pub priority: Option<String>,
    /// Assigned technician's email.
    pub assignee_email: Option<String>,
    /// Attachments' names and links.
    pub attachments: Vec<AttachmentRef>,
}

/// An attachment's name and where it can be downloaded.
#[derive(Clone, Debug, Default, Serialize)]
pub struct AttachmentRef {
    /// File name.
    pub name: String,
    /// Staff link in Portico.
    pub url: String,
}

/// Field changes to push to a PSA ticket; `None` leaves a field alone.
#[derive(Clone, Debug, Default, Serialize)]
pub struct TicketPatch {
    /// PSA status name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// PSA priority name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<String>,
    /// Assignee email; `Some(None)` clears it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignee_email: Option<Option<String>>,
}

/// A comment to add in the PSA.
#[derive(Clone, Debug, Default, Serialize)]
pub struct NewRemoteComment {
    /// Text.
    pub body: String,
    /// Portico internal note: added as internal in the PSA.
    pub internal: bool,
    /// Author's email.
    pub author_email: String,
    /// Author's name.
    pub author_name: String,
}

/// A company in the PSA.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct RemoteCompany {
    /// PSA id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Still an active client.
    #[serde(default = "yes")]
    pub active: bool,
}

/// A contact in the PSA.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct RemoteContact {
    /// PSA id.
    pub id: String,
    /// PSA company id.
    #[serde(default)]
    pub company_id: Option<String>,
    /// Email.
    pub email: String,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Flagged for portal access.
    #[serde(default)]
    pub portal_access: bool,
    /// Still active in the PSA.
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

/// Why a PSA call failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PsaError {
    /// Network failure, timeout, 429 beyond patience, or a 5xx: worth retrying.
    #[error("the PSA could not be reached: {0}")]
    Unavailable(String),
    /// The PSA refused the request (4xx other than 429).
    #[error("the PSA refused the request ({status}): {message}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// The PSA's message.
        message: String,
    },
    /// The answer was not what the contract says.
    #[error("the PSA answered something unexpected: {0}")]
    Malformed(String),
}

impl PsaError {
    /// Whether trying again later may help.
    pub fn transient(&self) -> bool {
        match self {
            PsaError::Unavailable(_) => true,
            PsaError::Refused { status, .. } => *status == 408 || *status == 409,
            PsaError::Malformed(_) => false,
        }
    }
}

/// What a PSA connector can do; each method is one logical call (paging inside).
pub trait Connector: Send + Sync {
    /// Tickets changed since `cursor` (`None`: from the beginning), one page.
    fn list_changes(
        &self,
        cursor: Option<&str>,
    ) -> impl std::future::Future<Output = Result<ChangePage, PsaError>> + Send;
    /// Creates a ticket; `key` makes a retried create return the first one.
    fn create_ticket(
        &self,
        t: &NewRemoteTicket,
        key: &str,
    ) -> impl std::future::Future<Output = Result<RemoteTicket, PsaError>> + Send;
    /// Changes a ticket's fields.
    fn update_ticket(
        &self,
        id: &str,
        p: &TicketPatch,
    ) -> impl std::future::Future<Output = Result<(), PsaError>> + Send;
    /// Adds a comment; `key` makes a retried add return the first one. Returns the PSA id.
    fn add_comment(
        &self,
        ticket_id: &str,
        c: &NewRemoteComment,
        key: &str,
    ) -> impl std::future::Future<Output = Result<String, PsaError>> + Send;
    /// Every company.
    fn list_companies(
        &self,
    ) -> impl std::future::Future<Output = Result<Vec<RemoteCompany>, PsaError>> + Send;
    /// Every contact.
    fn list_contacts(
        &self,
    ) -> impl std::future::Future<Output = Result<Vec<RemoteContact>, PsaError>> + Send;
}

/// The configured connector of a tenant.
pub enum AnyConnector {
    /// The documented JSON contract (docs/psa-sync.md).
    Generic(super::generic::Generic),
    /// Alga PSA's REST API.
    Alga(super::alga::Alga),
}

macro_rules! dispatch {
    ($self:ident, $c:ident => $e:expr) => {
        match $self {
            AnyConnector::Generic($c) => $e,
            AnyConnector::Alga($c) => $e,
        }
    };
}

impl Connector for AnyConnector {
    async fn list_changes(&self, cursor: Option<&str>) -> Result<ChangePage, PsaError> {
        dispatch!(self, c => c.list_changes(cursor).await)
    }
    async fn create_ticket(
        &self,
        t: &NewRemoteTicket,
        key: &str,
    ) -> Result<RemoteTicket, PsaError> {
        dispatch!(self, c => c.create_ticket(t, key).await)
    }
    async fn update_ticket(&self, id: &str, p: &TicketPatch) -> Result<(), PsaError> {
        dispatch!(self, c => c.update_ticket(id, p).await)
    }
    async fn add_comment(
        &self,
        ticket_id: &str,
        c2: &NewRemoteComment,
        key: &str,
    ) -> Result<String, PsaError> {
        dispatch!(self, c => c.add_comment(ticket_id, c2, key).await)
    }
    async fn list_companies(&self) -> Result<Vec<RemoteCompany>, PsaError> {
        dispatch!(self, c => c.list_companies().await)
    }
    async fn list_contacts(&self) -> Result<Vec<RemoteContact>, PsaError> {
        dispatch!(self, c => c.list_contacts().await)
    }
}

/// Longest wait a `Retry-After` may ask for before the call gives up (the run retries later).
const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);
/// Rate-limited attempts per call.
const RATE_LIMIT_TRIES: usize = 4;

/// An authenticated JSON client for one PSA.
#[derive(Clone)]
pub struct Http {
    base: String,
    auth: (String, String),
    client: reqwest::Client,
}

impl std::fmt::Debug for Http {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Http")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl Http {
    /// A client for `base` sending `header: value` on every call (the API key).
    pub fn new(base: &str, header: &str, value: String) -> Result<Http, PsaError> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| PsaError::Unavailable(e.to_string()))?;
        Ok(Http {
            base: base.trim_end_matches('/').to_string(),
            auth: (header.to_string(), value),
            client,
        })
    }

    /// Sends one request, waiting out 429s as `Retry-After` says; returns the JSON body
    /// (`Null` for an empty one).
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
        idempotency_key: Option<&str>,
    ) -> Result<Value, PsaError> {
        let url = format!("{}{path}", self.base);
        for attempt in 0..RATE_LIMIT_TRIES {
            let mut req = self
                .client
                .request(method.clone(), &url)
                .header(&self.auth.0, &self.auth.1)
                .header("accept", "application/json")
                .query(query);
            if let Some(k) = idempotency_key {
                req = req.header("Idempotency-Key", k);
            }
            if let Some(b) = body {
                req = req.json(b);
            }
            let resp = req
                .send()
                .await
                .map_err(|e| PsaError::Unavailable(e.without_url().to_string()))?;
            let status = resp.status();
            if status.as_u16() == 429 {
                let wait = retry_after(resp.headers());
                if attempt + 1 == RATE_LIMIT_TRIES || wait > MAX_RETRY_AFTER {
                    return Err(PsaError::Unavailable(format!(
                        "rate limited (429), retry after {} s",
                        wait.as_secs()
                    )));
                }
                tokio::time::sleep(wait).await;
                continue;
            }
            let text = resp
                .text()
                .await
                .map_err(|e| PsaError::Unavailable(e.without_url().to_string()))?;
            if status.is_server_error() {
                return Err(PsaError::Unavailable(format!(
                    "{} {}",
                    status.as_u16(),
                    message_of(&text, status)
                )));
            }
            if !status.is_success() {
                return Err(PsaError::Refused {
                    status: status.as_u16(),
                    message: message_of(&text, status),
                });
            }
            if text.trim().is_empty() {
                return Ok(Value::Null);
            }
            return serde_json::from_str(&text).map_err(|e| PsaError::Malformed(e.to_string()));
        }
        Err(PsaError::Unavailable("rate limited (429)".into()))
    }
}

/// The wait a 429 asks for: `Retry-After` in seconds (HTTP dates are rare from APIs; they and
/// a missing header mean one second).
pub fn retry_after(h: &reqwest::header::HeaderMap) -> Duration {
    h.get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
        .unwrap_or(Duration::from_secs(1))
}

/// The PSA's own error message from a JSON body, or the status reason.
fn message_of(text: &str, status: reqwest::StatusCode) -> String {
    let v: Option<Value> = serde_json::from_str(text).ok();
    v.as_ref()
        .and_then(|v| {
            v["error"]["message"]
                .as_str()
                .or(v["error"].as_str())
                .or(v["message"].as_str())
        })
        .map(|s| s.chars().take(500).collect())
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_string())
}

/// Parses a time given as Unix ms or RFC 3339; 0 when absent or unreadable.
pub fn parse_time(v: &Value) -> i64 {
    match v {
        Value::Number(n) => n.as_i64().unwrap_or(0),
        Value::String(s) => chrono::DateTime::parse_from_rfc3339(s)
            .map(|d| d.timestamp_millis())
            .unwrap_or(0),
        _ => 0,
    }
}

/// A string field that may come as a number.
pub fn str_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_parse_in_both_forms() {
        assert_eq!(
            parse_time(&serde_json::json!(1_700_000_000_000i64)),
            1_700_000_000_000
        );
        assert_eq!(
            parse_time(&serde_json::json!("2023-11-14T22:13:20Z")),
            1_700_000_000_000
        );
        assert_eq!(parse_time(&serde_json::json!(null)), 0);
    }

    #[test]
    fn only_transient_failures_retry() {
        assert!(PsaError::Unavailable("x".into()).transient());
        assert!(
            !PsaError::Refused {
                status: 400,
                message: "bad".into()
            }
            .transient()
        );
    }
}
