//! A small PSA on loopback speaking the generic connector's contract (docs/psa-sync.md):
//! Bearer key, `GET /changes?since=&limit=` paged, `POST /tickets` and
//! `POST /tickets/{id}/comments` honouring `Idempotency-Key`, `PATCH /tickets/{id}`, paged
//! `GET /companies` and `GET /contacts`. It can be down (503), rate limit (429 with
//! `Retry-After`), answer slowly, and it records how many calls were in flight at once.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use serde_json::{Value, json};

/// The API key the fake accepts.
pub const API_KEY: &str = "psa_test_key";

#[derive(Clone, Debug, Default)]
pub struct FComment {
    pub id: String,
    pub body: String,
    pub internal: bool,
    pub author_email: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct FTicket {
    pub id: String,
    pub company_id: Option<String>,
    pub requester_email: Option<String>,
    pub subject: String,
    pub description: String,
    pub status: String,
    pub priority: String,
    pub assignee_email: Option<String>,
    pub updated_at: i64,
    pub seq: i64,
    pub comments: Vec<FComment>,
}

#[derive(Default)]
struct Inner {
    tickets: Vec<FTicket>,
    companies: Vec<Value>,
    contacts: Vec<Value>,
    idempotent: HashMap<String, Value>,
    seq: i64,
    next_id: i64,
    down: bool,
    rate_limit_next: usize,
    rate_limited: usize,
    delay_ms: u64,
    in_flight: usize,
    max_in_flight: usize,
    page_size: usize,
    creates: usize,
    comment_posts: usize,
    patches: Vec<Value>,
}

/// A running fake PSA.
#[derive(Clone)]
pub struct FakePsa {
    pub addr: SocketAddr,
    inner: Arc<Mutex<Inner>>,
}

fn now() -> i64 {
    portico::db::now_ms()
}

impl FakePsa {
    /// Starts the fake on a loopback port.
    pub async fn start() -> FakePsa {
        let inner = Arc::new(Mutex::new(Inner {
            page_size: 2,
            ..Inner::default()
        }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind fake PSA");
        let addr = listener.local_addr().expect("addr");
        let fake = FakePsa { addr, inner };
        let app = Router::new()
            .route("/changes", get(changes))
            .route("/tickets", post(create_ticket))
            .route("/tickets/{id}", patch(update_ticket))
            .route("/tickets/{id}/comments", post(add_comment))
            .route("/companies", get(companies))
            .route("/contacts", get(contacts))
            .with_state(fake.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        fake
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        f(&mut self.inner.lock().expect("lock"))
    }

    pub fn set_down(&self, down: bool) {
        self.with(|i| i.down = down);
    }
    pub fn rate_limit(&self, n: usize) {
        self.with(|i| i.rate_limit_next = n);
    }
    pub fn rate_limited(&self) -> usize {
        self.with(|i| i.rate_limited)
    }
    pub fn set_page_size(&self, n: usize) {
        self.with(|i| i.page_size = n);
    }
    pub fn set_delay(&self, ms: u64) {
        self.with(|i| i.delay_ms = ms);
    }
    pub fn max_in_flight(&self) -> usize {
        self.with(|i| i.max_in_flight)
    }
    pub fn creates(&self) -> usize {
        self.with(|i| i.creates)
    }
    pub fn comment_posts(&self) -> usize {
        self.with(|i| i.comment_posts)
    }
    pub fn patches(&self) -> Vec<Value> {
        self.with(|i| i.patches.clone())
    }
    pub fn tickets(&self) -> Vec<FTicket> {
        self.with(|i| i.tickets.clone())
    }
    pub fn ticket(&self, id: &str) -> FTicket {
        self.tickets()
            .into_iter()
            .find(|t| t.id == id)
            .expect("fake ticket")
    }

    /// Changes a ticket as a technician would in the PSA.
    pub fn edit(&self, id: &str, f: impl FnOnce(&mut FTicket)) {
        self.with(|i| {
            i.seq += 1;
            let seq = i.seq;
            let t = i
                .tickets
                .iter_mut()
                .find(|t| t.id == id)
                .expect("fake ticket");
            f(t);
            t.seq = seq;
            t.updated_at = now();
        });
    }

    /// A comment written in the PSA.
    pub fn reply(&self, id: &str, body: &str, internal: bool, author: &str) -> String {
        let cid = self.with(|i| {
            i.next_id += 1;
            format!("c-{}", i.next_id)
        });
        let c = FComment {
            id: cid.clone(),
            body: body.into(),
            internal,
            author_email: Some(author.into()),
        };
        self.edit(id, |t| t.comments.push(c));
        cid
    }

    /// A ticket raised in the PSA.
    pub fn raise(&self, company: &str, requester: &str, subject: &str) -> String {
        self.with(|i| {
            i.next_id += 1;
            i.seq += 1;
            let id = format!("T-{}", i.next_id);
            i.tickets.push(FTicket {
                id: id.clone(),
                company_id: Some(company.into()),
                requester_email: Some(requester.into()),
                subject: subject.into(),
                description: "Raised in the PSA".into(),
                status: "New".into(),
                priority: "Medium".into(),
                updated_at: now(),
                seq: i.seq,
                ..FTicket::default()
            });
            id
        })
    }

    pub fn add_company(&self, id: &str, name: &str) {
        self.with(|i| {
            i.companies
                .push(json!({"id": id, "name": name, "active": true}))
        });
    }
    pub fn remove_company(&self, id: &str) {
        self.with(|i| i.companies.retain(|c| c["id"] != id));
    }
    pub fn set_contact(&self, id: &str, company: &str, email: &str, name: &str, portal: bool) {
        self.with(|i| {
            i.contacts.retain(|c| c["id"] != id);
            i.contacts.push(json!({"id": id, "company_id": company, "email": email, "name": name, "portal_access": portal, "active": true}));
        });
    }
}

fn ticket_json(t: &FTicket) -> Value {
    json!({
        "id": t.id, "company_id": t.company_id, "requester_email": t.requester_email,
        "subject": t.subject, "description": t.description, "status": t.status,
        "priority": t.priority, "assignee_email": t.assignee_email,
        "updated_at": chrono::DateTime::from_timestamp_millis(t.updated_at).map(|d| d.to_rfc3339()),
        "comments": t.comments.iter().map(|c| json!({
            "id": c.id, "body": c.body, "internal": c.internal, "author_email": c.author_email,
            "created_at": t.updated_at,
        })).collect::<Vec<_>>(),
    })
}

/// Common gate: auth, outage, rate limit, latency and the in-flight count.
async fn gate(fake: &FakePsa, headers: &HeaderMap) -> Result<Guard, Response> {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if auth != format!("Bearer {API_KEY}") {
        return Err((
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": {"message": "bad key"}})),
        )
            .into_response());
    }
    let (down, limited, delay) = fake.with(|i| {
        i.in_flight += 1;
        i.max_in_flight = i.max_in_flight.max(i.in_flight);
        let limited = i.rate_limit_next > 0;
        if limited {
            i.rate_limit_next -= 1;
            i.rate_limited += 1;
        }
        (i.down, limited, i.delay_ms)
    });
    let guard = Guard(fake.clone());
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    if down {
        return Err((
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"error": {"message": "PSA maintenance"}})),
        )
            .into_response());
    }
    if limited {
        return Err((
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "1")],
            "slow down",
        )
            .into_response());
    }
    Ok(guard)
}

struct Guard(FakePsa);

impl Drop for Guard {
    fn drop(&mut self) {
        self.0.with(|i| i.in_flight -= 1);
    }
}

async fn changes(
    State(fake): State<FakePsa>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let _g = match gate(&fake, &headers).await {
        Ok(g) => g,
        Err(r) => return r,
    };
    let since: i64 = q.get("since").and_then(|s| s.parse().ok()).unwrap_or(0);
    fake.with(|i| {
        let mut changed: Vec<&FTicket> = i.tickets.iter().filter(|t| t.seq > since).collect();
        changed.sort_by_key(|t| t.seq);
        let page: Vec<&FTicket> = changed.iter().take(i.page_size).copied().collect();
        let has_more = changed.len() > page.len();
        let next = page.last().map(|t| t.seq).unwrap_or(since);
        Json(json!({
            "tickets": page.iter().map(|t| ticket_json(t)).collect::<Vec<_>>(),
            "next_cursor": next.to_string(),
            "has_more": has_more,
        }))
        .into_response()
    })
}

async fn create_ticket(
    State(fake): State<FakePsa>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let _g = match gate(&fake, &headers).await {
        Ok(g) => g,
        Err(r) => return r,
    };
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    fake.with(|i| {
        if let Some(v) = i.idempotent.get(&key) {
            return (StatusCode::CREATED, Json(v.clone())).into_response();
        }
        i.next_id += 1;
        i.seq += 1;
        i.creates += 1;
        let t = FTicket {
            id: format!("T-{}", i.next_id),
            company_id: body["company_id"].as_str().map(str::to_string),
            requester_email: body["requester_email"].as_str().map(str::to_string),
            subject: body["subject"].as_str().unwrap_or_default().into(),
            description: body["description"].as_str().unwrap_or_default().into(),
            status: body["status"].as_str().unwrap_or("New").into(),
            priority: body["priority"].as_str().unwrap_or("Medium").into(),
            assignee_email: body["assignee_email"].as_str().map(str::to_string),
            updated_at: now(),
            seq: i.seq,
            comments: vec![],
        };
        let v = ticket_json(&t);
        i.tickets.push(t);
        i.idempotent.insert(key, v.clone());
        (StatusCode::CREATED, Json(v)).into_response()
    })
}

async fn update_ticket(
    State(fake): State<FakePsa>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    let _g = match gate(&fake, &headers).await {
        Ok(g) => g,
        Err(r) => return r,
    };
    fake.with(|i| {
        i.seq += 1;
        let seq = i.seq;
        i.patches.push(body.clone());
        let Some(t) = i.tickets.iter_mut().find(|t| t.id == id) else {
            return StatusCode::NOT_FOUND.into_response();
        };
        if let Some(s) = body["status"].as_str() {
            t.status = s.into();
        }
        if let Some(p) = body["priority"].as_str() {
            t.priority = p.into();
        }
        if let Some(a) = body.get("assignee_email") {
            t.assignee_email = a.as_str().map(str::to_string);
        }
        t.seq = seq;
        t.updated_at = now();
        Json(ticket_json(t)).into_response()
    })
}

async fn add_comment(
    State(fake): State<FakePsa>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    let _g = match gate(&fake, &headers).await {
        Ok(g) => g,
        Err(r) => return r,
    };
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    fake.with(|i| {
        if let Some(v) = i.idempotent.get(&key) {
            return (StatusCode::CREATED, Json(v.clone())).into_response();
        }
        i.next_id += 1;
        i.seq += 1;
        i.comment_posts += 1;
        let cid = format!("c-{}", i.next_id);
        let seq = i.seq;
        let Some(t) = i.tickets.iter_mut().find(|t| t.id == id) else {
            return StatusCode::NOT_FOUND.into_response();
        };
        t.comments.push(FComment {
            id: cid.clone(),
            body: body["body"].as_str().unwrap_or_default().into(),
            internal: body["internal"].as_bool().unwrap_or(false),
            author_email: body["author_email"].as_str().map(str::to_string),
        });
        t.seq = seq;
        t.updated_at = now();
        let v = json!({"id": cid});
        i.idempotent.insert(key, v.clone());
        (StatusCode::CREATED, Json(v)).into_response()
    })
}

fn paged(items: &[Value], q: &HashMap<String, String>, size: usize) -> Value {
    let start: usize = q.get("cursor").and_then(|c| c.parse().ok()).unwrap_or(0);
    let page: Vec<Value> = items.iter().skip(start).take(size).cloned().collect();
    let next = (start + page.len() < items.len()).then(|| (start + page.len()).to_string());
    json!({"items": page, "next_cursor": next})
}

async fn companies(
    State(fake): State<FakePsa>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let _g = match gate(&fake, &headers).await {
        Ok(g) => g,
        Err(r) => return r,
    };
    fake.with(|i| Json(paged(&i.companies, &q, i.page_size)).into_response())
}

async fn contacts(
    State(fake): State<FakePsa>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let _g = match gate(&fake, &headers).await {
        Ok(g) => g,
        Err(r) => return r,
    };
    fake.with(|i| Json(paged(&i.contacts, &q, i.page_size)).into_response())
}
