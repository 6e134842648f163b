//! A small Alga PSA on loopback: exactly the REST API v1 endpoints the Alga connector calls,
//! shaped as Alga's route code answers them (`{"data": …}`, lists paged with `page`/`limit` and
//! a `pagination` object, UUID ids, `x-api-key` checked). It can be down (503) and rate limit
//! (429 with `Retry-After: 1`).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use serde_json::{Value, json};

/// The API key the fake accepts.
pub const API_KEY: &str = "alga_test_key";
/// Email of the Alga user the API key belongs to (the author of what the connector posts).
pub const API_USER_EMAIL: &str = "portico-api@msp.example";

#[derive(Clone, Debug, Default)]
pub struct AComment {
    pub id: String,
    pub text: String,
    pub internal: bool,
    pub created_by: Option<String>,
    pub metadata: Value,
    pub created_at: i64,
}

#[derive(Clone, Debug, Default)]
pub struct ATicket {
    pub id: String,
    pub number: String,
    pub title: String,
    pub board_id: String,
    pub client_id: String,
    pub contact_id: Option<String>,
    pub status_id: String,
    pub priority_id: String,
    pub assigned_to: Option<String>,
    pub attributes: Value,
    pub entered_at: i64,
    pub updated_at: i64,
    pub comments: Vec<AComment>,
}

/// A ticket as a test reads it: ids resolved to names and emails.
#[derive(Clone, Debug, Default)]
pub struct Seen {
    pub title: String,
    pub description: String,
    pub client_id: String,
    pub requester_email: Option<String>,
    pub status: String,
    pub priority: String,
    pub attributes: Value,
    /// `(text, internal)`, oldest first.
    pub comments: Vec<(String, bool)>,
}

#[derive(Default)]
struct Inner {
    board_id: String,
    statuses: Vec<(String, String)>,
    priorities: Vec<(String, String)>,
    clients: Vec<Value>,
    contacts: Vec<Value>,
    users: Vec<Value>,
    tickets: Vec<ATicket>,
    api_user: String,
    next_number: i64,
    down: bool,
    rate_limit_next: usize,
    rate_limited: usize,
    lose_answers: usize,
    lost: usize,
    creates: usize,
    comment_posts: usize,
    calls: Vec<String>,
}

/// A running fake Alga.
#[derive(Clone)]
pub struct FakeAlga {
    pub addr: SocketAddr,
    inner: Arc<Mutex<Inner>>,
}

fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn now() -> i64 {
    portico::db::now_ms()
}

fn iso(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(json!({"error": {"code": code, "message": message}})),
    )
        .into_response()
}

impl FakeAlga {
    /// Starts the fake on a loopback port with Alga's default board, statuses and priorities.
    pub async fn start() -> FakeAlga {
        let api_user = uuid();
        let inner = Inner {
            board_id: uuid(),
            statuses: [
                "New",
                "In Progress",
                "Waiting on Client",
                "On Hold",
                "Resolved",
                "Closed",
            ]
            .iter()
            .map(|n| (uuid(), n.to_string()))
            .collect(),
            priorities: ["Low", "Medium", "High", "Critical"]
                .iter()
                .map(|n| (uuid(), n.to_string()))
                .collect(),
            users: vec![json!({
                "user_id": api_user, "email": API_USER_EMAIL, "first_name": "Portico",
                "last_name": "API", "user_type": "internal", "contact_id": null,
                "is_inactive": false, "created_at": iso(now()),
            })],
            api_user,
            next_number: 1000,
            ..Inner::default()
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind fake Alga");
        let addr = listener.local_addr().expect("addr");
        let fake = FakeAlga {
            addr,
            inner: Arc::new(Mutex::new(inner)),
        };
        let app = Router::new()
            .route("/api/v1/tickets", get(list_tickets).post(create_ticket))
            .route("/api/v1/tickets/statuses", get(statuses))
            .route("/api/v1/tickets/priorities", get(priorities))
            .route("/api/v1/tickets/{id}", get(get_ticket).put(update_ticket))
            .route("/api/v1/tickets/{id}/assignment", put(assign))
            .route(
                "/api/v1/tickets/{id}/comments",
                get(list_comments).post(add_comment),
            )
            .route("/api/v1/boards", get(boards))
            .route("/api/v1/clients", get(clients))
            .route("/api/v1/contacts", get(contacts))
            .route("/api/v1/users", get(users))
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
    /// The next `n` calls answer 429 with `Retry-After: 1`.
    pub fn rate_limit(&self, n: usize) {
        self.with(|i| i.rate_limit_next = n);
    }
    /// The next `n` creates (tickets or comments) are stored but answered 502, as when the
    /// answer is lost on the way back.
    pub fn lose_answers(&self, n: usize) {
        self.with(|i| i.lose_answers = n);
    }
    /// Answers lost so far.
    pub fn lost(&self) -> usize {
        self.with(|i| i.lost)
    }
    pub fn rate_limited(&self) -> usize {
        self.with(|i| i.rate_limited)
    }
    pub fn creates(&self) -> usize {
        self.with(|i| i.creates)
    }
    pub fn comment_posts(&self) -> usize {
        self.with(|i| i.comment_posts)
    }
    /// `METHOD path` of every authenticated call, in order.
    pub fn calls(&self) -> Vec<String> {
        self.with(|i| i.calls.clone())
    }

    pub fn add_client(&self, name: &str) -> String {
        let id = uuid();
        self.with(|i| {
            i.clients.push(json!({
                "client_id": id, "client_name": name, "is_inactive": false,
                "created_at": iso(now()), "updated_at": iso(now()),
            }))
        });
        id
    }

    /// A technician (an internal Alga user).
    pub fn add_technician(&self, email: &str) -> String {
        let id = uuid();
        self.with(|i| {
            i.users.push(json!({
                "user_id": id, "email": email, "first_name": "Tech", "last_name": "Nician",
                "user_type": "internal", "contact_id": null, "is_inactive": false,
                "created_at": iso(now()),
            }))
        });
        id
    }

    /// Creates or changes a contact; `portal` gives it an active client-portal user (or
    /// deactivates the one it has). Returns the contact id.
    pub fn set_contact(&self, client: &str, email: &str, name: &str, portal: bool) -> String {
        self.with(|i| {
            let id = match i.contacts.iter_mut().find(|c| c["email"] == email) {
                Some(c) => {
                    c["client_id"] = json!(client);
                    c["full_name"] = json!(name);
                    c["contact_name_id"].as_str().unwrap().to_string()
                }
                None => {
                    let id = uuid();
                    i.contacts.push(json!({
                        "contact_name_id": id, "full_name": name, "email": email,
                        "client_id": client, "is_inactive": false,
                        "created_at": iso(now()), "updated_at": iso(now()),
                    }));
                    id
                }
            };
            match i.users.iter_mut().find(|u| u["contact_id"] == id.as_str()) {
                Some(u) => u["is_inactive"] = json!(!portal),
                None if portal => i.users.push(json!({
                    "user_id": uuid(), "email": email, "first_name": name, "last_name": "",
                    "user_type": "client", "contact_id": id, "is_inactive": false,
                    "created_at": iso(now()),
                })),
                None => {}
            }
            id
        })
    }

    /// A ticket with its ids resolved.
    pub fn seen(&self, id: &str) -> Seen {
        self.with(|i| {
            let t = i
                .tickets
                .iter()
                .find(|t| t.id == id)
                .expect("fake Alga ticket");
            let name = |list: &[(String, String)], id: &str| {
                list.iter()
                    .find(|(i, _)| i == id)
                    .map(|(_, n)| n.clone())
                    .unwrap_or_default()
            };
            Seen {
                title: t.title.clone(),
                description: t.attributes["description"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                client_id: t.client_id.clone(),
                requester_email: t.contact_id.as_ref().and_then(|c| {
                    i.contacts
                        .iter()
                        .find(|x| x["contact_name_id"] == c.as_str())
                        .and_then(|x| x["email"].as_str().map(str::to_string))
                }),
                status: name(&i.statuses, &t.status_id),
                priority: name(&i.priorities, &t.priority_id),
                attributes: t.attributes.clone(),
                comments: t
                    .comments
                    .iter()
                    .map(|c| (c.text.clone(), c.internal))
                    .collect(),
            }
        })
    }

    /// Changes a ticket as a technician would in Alga.
    fn touch(&self, id: &str, f: impl FnOnce(&mut Inner, usize)) {
        self.with(|i| {
            let k = i
                .tickets
                .iter()
                .position(|t| t.id == id)
                .expect("fake Alga ticket");
            f(i, k);
            i.tickets[k].updated_at = now();
        });
    }

    /// A comment a technician writes in Alga.
    pub fn reply(&self, id: &str, text: &str, internal: bool, tech: &str) -> String {
        let cid = uuid();
        let c = AComment {
            id: cid.clone(),
            text: text.into(),
            internal,
            created_by: Some(tech.into()),
            metadata: Value::Null,
            created_at: now(),
        };
        self.touch(id, |i, k| i.tickets[k].comments.push(c));
        cid
    }

    /// A ticket raised in Alga for the contact with this email.
    pub fn raise(&self, client: &str, contact_email: &str, title: &str) -> String {
        self.with(|i| {
            i.next_number += 1;
            let at = now();
            let t = ATicket {
                id: uuid(),
                number: format!("TIC{}", i.next_number),
                title: title.into(),
                board_id: i.board_id.clone(),
                client_id: client.into(),
                contact_id: i
                    .contacts
                    .iter()
                    .find(|c| c["email"] == contact_email)
                    .and_then(|c| c["contact_name_id"].as_str().map(str::to_string)),
                status_id: i.statuses[0].0.clone(),
                priority_id: i.priorities[1].0.clone(),
                assigned_to: None,
                attributes: json!({"description": "Raised in Alga"}),
                entered_at: at,
                updated_at: at,
                comments: vec![],
            };
            let id = t.id.clone();
            i.tickets.push(t);
            id
        })
    }

    /// Moves a ticket to the status of that name.
    pub fn set_status(&self, id: &str, name: &str) {
        self.touch(id, |i, k| {
            let s = i
                .statuses
                .iter()
                .find(|(_, n)| n == name)
                .expect("status")
                .0
                .clone();
            i.tickets[k].status_id = s;
        });
    }
}

/// Common gate: auth, outage, rate limit; records the call. `Some` is the refusal.
fn gate(fake: &FakeAlga, headers: &HeaderMap, call: String) -> Option<Response> {
    let Some(key) = headers.get("x-api-key").and_then(|v| v.to_str().ok()) else {
        return Some(error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED",
            "API key required",
        ));
    };
    if key != API_KEY {
        return Some(error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED",
            "Invalid API key",
        ));
    }
    fake.with(|i| {
        if i.down {
            return Some(error(
                StatusCode::SERVICE_UNAVAILABLE,
                "SERVICE_UNAVAILABLE",
                "Alga maintenance",
            ));
        }
        if i.rate_limit_next > 0 {
            i.rate_limit_next -= 1;
            i.rate_limited += 1;
            return Some(
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    [("retry-after", "1")],
                    Json(
                        json!({"error": {"code": "RATE_LIMITED", "message": "Too many requests"}}),
                    ),
                )
                    .into_response(),
            );
        }
        i.calls.push(call);
        None
    })
}

macro_rules! gate {
    ($fake:expr, $headers:expr, $call:expr) => {
        if let Some(r) = gate(&$fake, &$headers, $call) {
            return r;
        }
    };
}

fn num(q: &HashMap<String, String>, k: &str, default: usize) -> usize {
    q.get(k).and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Alga's paged answer.
fn paged(items: Vec<Value>, q: &HashMap<String, String>) -> Response {
    let page = num(q, "page", 1).max(1);
    let limit = num(q, "limit", 25).clamp(1, 100);
    let total = items.len();
    let data: Vec<Value> = items
        .into_iter()
        .skip((page - 1) * limit)
        .take(limit)
        .collect();
    let total_pages = total.div_ceil(limit);
    Json(json!({
        "data": data,
        "pagination": {
            "page": page, "limit": limit, "total": total, "totalPages": total_pages,
            "hasNext": page < total_pages, "hasPrev": page > 1,
        },
        "meta": {},
    }))
    .into_response()
}

fn ticket_json(i: &Inner, t: &ATicket) -> Value {
    let name = |list: &[(String, String)], id: &str| {
        list.iter().find(|(i, _)| i == id).map(|(_, n)| n.clone())
    };
    json!({
        "ticket_id": t.id, "ticket_number": t.number, "title": t.title, "url": null,
        "board_id": t.board_id, "client_id": t.client_id, "contact_name_id": t.contact_id,
        "status_id": t.status_id, "priority_id": t.priority_id, "assigned_to": t.assigned_to,
        "entered_by": i.api_user, "entered_at": iso(t.entered_at),
        "updated_at": iso(t.updated_at), "closed_at": null, "attributes": t.attributes,
        "status_name": name(&i.statuses, &t.status_id),
        "priority_name": name(&i.priorities, &t.priority_id),
        "client_name": i.clients.iter().find(|c| c["client_id"] == t.client_id.as_str()).map(|c| c["client_name"].clone()),
    })
}

async fn list_tickets(
    State(fake): State<FakeAlga>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    gate!(fake, headers, "GET /api/v1/tickets".into());
    let from = match q.get("updated_from") {
        Some(s) => match chrono::DateTime::parse_from_rfc3339(s) {
            // Alga's zod `datetime()` takes UTC with a `Z` only.
            Ok(d) if s.ends_with('Z') => Some(d.timestamp_millis()),
            _ => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "VALIDATION_ERROR",
                    "updated_from: Invalid datetime",
                );
            }
        },
        None => None,
    };
    fake.with(|i| {
        let mut ts: Vec<&ATicket> = i
            .tickets
            .iter()
            .filter(|t| from.is_none_or(|f| t.updated_at >= f))
            .filter(|t| q.get("client_id").is_none_or(|c| &t.client_id == c))
            .filter(|t| {
                q.get("title")
                    .is_none_or(|s| t.title.to_lowercase().contains(&s.to_lowercase()))
            })
            .collect();
        let desc = q.get("order").map(String::as_str) != Some("asc");
        match q.get("sort").map(String::as_str) {
            Some("updated_at") => ts.sort_by_key(|t| t.updated_at),
            _ => ts.sort_by_key(|t| t.entered_at),
        }
        if desc {
            ts.reverse();
        }
        let items = ts.iter().map(|t| ticket_json(i, t)).collect();
        paged(items, &q)
    })
}

async fn get_ticket(
    State(fake): State<FakeAlga>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    gate!(fake, headers, format!("GET /api/v1/tickets/{id}"));
    fake.with(|i| match i.tickets.iter().find(|t| t.id == id) {
        Some(t) => Json(json!({"data": ticket_json(i, t)})).into_response(),
        None => error(StatusCode::NOT_FOUND, "NOT_FOUND", "Ticket not found"),
    })
}

async fn create_ticket(
    State(fake): State<FakeAlga>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    gate!(fake, headers, "POST /api/v1/tickets".into());
    let s = |k: &str| body[k].as_str().map(str::to_string);
    let (Some(title), Some(board), Some(client), Some(status), Some(priority)) = (
        s("title"),
        s("board_id"),
        s("client_id"),
        s("status_id"),
        s("priority_id"),
    ) else {
        return error(
            StatusCode::BAD_REQUEST,
            "VALIDATION_ERROR",
            "Required ticket fields missing: client_id, title, board_id, status_id, priority_id",
        );
    };
    fake.with(|i| {
        if board != i.board_id || !i.statuses.iter().any(|(id, _)| *id == status) {
            return error(
                StatusCode::BAD_REQUEST,
                "VALIDATION_ERROR",
                "status_id does not belong to board_id",
            );
        }
        if !i.priorities.iter().any(|(id, _)| *id == priority)
            || !i.clients.iter().any(|c| c["client_id"] == client.as_str())
        {
            return error(StatusCode::BAD_REQUEST, "VALIDATION_ERROR", "Unknown id");
        }
        i.creates += 1;
        i.next_number += 1;
        let at = now();
        let t = ATicket {
            id: uuid(),
            number: format!("TIC{}", i.next_number),
            title,
            board_id: board,
            client_id: client,
            contact_id: s("contact_name_id"),
            status_id: status,
            priority_id: priority,
            assigned_to: s("assigned_to"),
            attributes: body["attributes"].clone(),
            entered_at: at,
            updated_at: at,
            comments: vec![],
        };
        let v = ticket_json(i, &t);
        i.tickets.push(t);
        created(i, v)
    })
}

async fn update_ticket(
    State(fake): State<FakeAlga>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    gate!(fake, headers, format!("PUT /api/v1/tickets/{id}"));
    fake.with(|i| {
        let Some(k) = i.tickets.iter().position(|t| t.id == id) else {
            return error(StatusCode::NOT_FOUND, "NOT_FOUND", "Ticket not found");
        };
        if let Some(s) = body["status_id"].as_str() {
            if !i.statuses.iter().any(|(id, _)| id == s) {
                return error(
                    StatusCode::BAD_REQUEST,
                    "VALIDATION_ERROR",
                    "Status not found",
                );
            }
            i.tickets[k].status_id = s.into();
        }
        if let Some(p) = body["priority_id"].as_str() {
            i.tickets[k].priority_id = p.into();
        }
        i.tickets[k].updated_at = now();
        let v = ticket_json(i, &i.tickets[k]);
        Json(json!({"data": v})).into_response()
    })
}

async fn assign(
    State(fake): State<FakeAlga>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    gate!(
        fake,
        headers,
        format!("PUT /api/v1/tickets/{id}/assignment")
    );
    fake.with(|i| {
        let Some(k) = i.tickets.iter().position(|t| t.id == id) else {
            return error(StatusCode::NOT_FOUND, "NOT_FOUND", "Ticket not found");
        };
        i.tickets[k].assigned_to = body["assigned_to"].as_str().map(str::to_string);
        i.tickets[k].updated_at = now();
        let v = ticket_json(i, &i.tickets[k]);
        Json(json!({"data": v})).into_response()
    })
}

/// The answer to a create, unless it is to be lost.
fn created(i: &mut Inner, v: Value) -> Response {
    if i.lose_answers > 0 {
        i.lose_answers -= 1;
        i.lost += 1;
        return error(
            StatusCode::BAD_GATEWAY,
            "BAD_GATEWAY",
            "upstream connection reset",
        );
    }
    (StatusCode::CREATED, Json(json!({"data": v}))).into_response()
}

fn comment_json(i: &Inner, t: &ATicket, c: &AComment) -> Value {
    json!({
        "comment_id": c.id, "ticket_id": t.id, "comment_text": c.text, "note": c.text,
        "markdown_content": null, "is_internal": c.internal, "created_by": c.created_by,
        "user_id": c.created_by, "created_at": iso(c.created_at), "updated_at": iso(c.created_at),
        "metadata": c.metadata, "deleted_at": null, "publish_state": "published",
        "author_contact_email": null, "tenant": i.api_user,
    })
}

async fn list_comments(
    State(fake): State<FakeAlga>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    gate!(fake, headers, format!("GET /api/v1/tickets/{id}/comments"));
    let offset = num(&q, "offset", 0);
    let limit = num(&q, "limit", 1000);
    fake.with(|i| {
        let Some(t) = i.tickets.iter().find(|t| t.id == id) else {
            return error(StatusCode::NOT_FOUND, "NOT_FOUND", "Ticket not found");
        };
        let data: Vec<Value> = t
            .comments
            .iter()
            .skip(offset)
            .take(limit)
            .map(|c| comment_json(i, t, c))
            .collect();
        Json(json!({"data": data})).into_response()
    })
}

async fn add_comment(
    State(fake): State<FakeAlga>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    gate!(fake, headers, format!("POST /api/v1/tickets/{id}/comments"));
    let Some(text) = body["comment_text"]
        .as_str()
        .filter(|s| !s.trim().is_empty())
    else {
        return error(
            StatusCode::BAD_REQUEST,
            "VALIDATION_ERROR",
            "Comment text is required",
        );
    };
    if text.chars().count() > 5000 {
        return error(
            StatusCode::BAD_REQUEST,
            "VALIDATION_ERROR",
            "Comment text is too long (max 5000 characters)",
        );
    }
    fake.with(|i| {
        let Some(k) = i.tickets.iter().position(|t| t.id == id) else {
            return error(StatusCode::NOT_FOUND, "NOT_FOUND", "Ticket not found");
        };
        i.comment_posts += 1;
        let c = AComment {
            id: uuid(),
            text: text.into(),
            internal: body["is_internal"].as_bool().unwrap_or(false),
            created_by: Some(i.api_user.clone()),
            metadata: body["metadata"].clone(),
            created_at: now(),
        };
        i.tickets[k].comments.push(c.clone());
        i.tickets[k].updated_at = now();
        let v = comment_json(i, &i.tickets[k], &c);
        created(i, v)
    })
}

async fn statuses(State(fake): State<FakeAlga>, headers: HeaderMap) -> Response {
    gate!(fake, headers, "GET /api/v1/tickets/statuses".into());
    fake.with(|i| {
        let data: Vec<Value> = i
            .statuses
            .iter()
            .enumerate()
            .map(|(n, (id, name))| {
                json!({"status_id": id, "board_id": i.board_id, "name": name,
                       "is_closed": name == "Closed", "is_default": n == 0, "order_number": n})
            })
            .collect();
        Json(json!({"data": data})).into_response()
    })
}

async fn priorities(State(fake): State<FakeAlga>, headers: HeaderMap) -> Response {
    gate!(fake, headers, "GET /api/v1/tickets/priorities".into());
    fake.with(|i| {
        let data: Vec<Value> = i
            .priorities
            .iter()
            .map(|(id, name)| json!({"priority_id": id, "priority_name": name}))
            .collect();
        Json(json!({"data": data})).into_response()
    })
}

async fn boards(
    State(fake): State<FakeAlga>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    gate!(fake, headers, "GET /api/v1/boards".into());
    let items = fake.with(|i| {
        vec![
            json!({"board_id": uuid(), "board_name": "Projects", "is_default": false, "is_inactive": false}),
            json!({"board_id": i.board_id, "board_name": "General Support", "is_default": true, "is_inactive": false}),
        ]
    });
    paged(items, &q)
}

async fn clients(
    State(fake): State<FakeAlga>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    gate!(fake, headers, "GET /api/v1/clients".into());
    let items = fake.with(|i| i.clients.clone());
    paged(items, &q)
}

async fn contacts(
    State(fake): State<FakeAlga>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    gate!(fake, headers, "GET /api/v1/contacts".into());
    let items = fake.with(|i| i.contacts.clone());
    paged(items, &q)
}

async fn users(
    State(fake): State<FakeAlga>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    gate!(fake, headers, "GET /api/v1/users".into());
    let items = fake.with(|i| i.users.clone());
    paged(items, &q)
}
