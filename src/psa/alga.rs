//! The Alga PSA connector: Alga's REST API v1 (`/api/v1/...`, header `x-api-key`), as its
//! route code and OpenAPI document in the Nine-Minds/alga-psa repository define it. Alga keys
//! statuses, priorities, boards, users and contacts by UUID; this connector resolves them to
//! the names and emails the sync engine speaks, loading each list at most once per run (a
//! connector lives for one run). See docs/psa-sync.md, "Alga PSA".

use std::collections::HashMap;

use reqwest::Method;
use serde_json::{Value, json};
use tokio::sync::OnceCell;

use super::connector::{
    ChangePage, Connector, Http, NewRemoteComment, NewRemoteTicket, PsaError, RemoteComment,
    RemoteCompany, RemoteContact, RemoteTicket, TicketPatch, parse_time, str_of,
};
use super::generic::enc;

/// Alga's largest `limit` on list endpoints.
const PAGE: usize = 100;
/// Comments asked per call (Alga allows up to 200 on this endpoint).
const COMMENT_PAGE: usize = 200;
/// Pages fetched per list before giving up (a loop guard, far above real sizes).
const MAX_PAGES: usize = 10_000;
/// How far behind the clock a run's final cursor stays (longer than an Alga transaction).
const OVERLAP_MS: i64 = 10_000;
/// Alga refuses comments longer than this (visible characters).
const MAX_COMMENT: usize = 5000;
/// Alga's longest ticket title.
const MAX_TITLE: usize = 255;

/// An Alga PSA instance.
#[derive(Debug)]
pub struct Alga {
    http: Http,
    // Boxed: the lists would make this variant of `AnyConnector` far larger than the other.
    cache: Box<Cache>,
}

/// Lists loaded at most once per run.
#[derive(Debug, Default)]
struct Cache {
    users: OnceCell<Vec<User>>,
    contacts: OnceCell<Vec<Value>>,
    statuses: OnceCell<Vec<Value>>,
    priorities: OnceCell<Vec<Value>>,
    board: OnceCell<String>,
}

/// An Alga user: technicians (`internal`) and client-portal users (`client`, tied to a contact).
#[derive(Clone, Debug)]
struct User {
    id: String,
    email: String,
    kind: String,
    contact_id: Option<String>,
    inactive: bool,
}

/// Where `list_changes` stands: changes stamped at or after `since` (Unix ms; `None`: all),
/// this page of them oldest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Cursor {
    since: Option<i64>,
    page: usize,
}

impl Cursor {
    /// `<RFC 3339 time>|<page>`; a bare time means page 1; anything unreadable starts over.
    fn parse(s: Option<&str>) -> Cursor {
        let Some(s) = s.map(str::trim).filter(|s| !s.is_empty()) else {
            return Cursor {
                since: None,
                page: 1,
            };
        };
        let (t, p) = s.split_once('|').unwrap_or((s, "1"));
        let since = chrono::DateTime::parse_from_rfc3339(t)
            .ok()
            .map(|d| d.timestamp_millis());
        Cursor {
            since,
            page: if since.is_some() {
                p.parse().ok().filter(|p| *p >= 1).unwrap_or(1)
            } else {
                1
            },
        }
    }

    fn render(&self) -> Option<String> {
        self.since.map(|ms| format!("{}|{}", iso(ms), self.page))
    }

    /// The cursor after a page whose newest change is `newest`. Within a run, move the time on
    /// when the page got past it, else (a page full of one instant) turn the page. At the end
    /// of a run, stay `OVERLAP_MS` behind the clock: a ticket whose transaction committed
    /// after a later-stamped one is then still asked for (re-applying is harmless).
    fn next(&self, newest: Option<i64>, has_more: bool, now: i64) -> Cursor {
        let moved = newest.filter(|n| self.since.is_none_or(|s| *n > s));
        if has_more {
            return match moved {
                Some(n) => Cursor {
                    since: Some(n),
                    page: 1,
                },
                None => Cursor {
                    since: self.since,
                    page: self.page + 1,
                },
            };
        }
        let settled = newest.map(|n| n.min(now - OVERLAP_MS));
        let since = match (self.since, settled) {
            (Some(s), Some(n)) => Some(s.max(n)),
            (s, n) => s.or(n),
        };
        Cursor { since, page: 1 }
    }
}

/// Alga's datetime form (`z.string().datetime()` wants UTC with `Z`).
fn iso(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl Alga {
    /// A connector for `base` (the Alga address, e.g. `https://algapsa.example.com`) with
    /// `api_key`.
    pub fn new(base: &str, api_key: &str) -> Result<Alga, PsaError> {
        Ok(Alga {
            http: Http::new(base, "x-api-key", api_key.to_string())?,
            cache: Box::default(),
        })
    }

    /// One call; Alga's `{"data": …}` envelope is left to the caller.
    async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<Value, PsaError> {
        match self.http.call(method, path, query, body, None).await {
            // Say which setting is wrong instead of a bare "Unauthorized".
            Err(PsaError::Refused { status, message }) if status == 401 || status == 403 => {
                Err(PsaError::Refused {
                    status,
                    message: format!(
                        "Alga did not accept the API key ({message}); check the key and that its user may read and update tickets, clients, contacts and users"
                    ),
                })
            }
            other => other,
        }
    }

    /// Every item of a paged Alga list (`page`/`limit`, `pagination.hasNext`).
    async fn list_all(&self, path: &str, extra: &[(&str, String)]) -> Result<Vec<Value>, PsaError> {
        let mut out = Vec::new();
        for page in 1..=MAX_PAGES {
            let mut q = vec![
                ("page", page.to_string()),
                ("limit", PAGE.to_string()),
                ("sort", "created_at".to_string()),
                ("order", "asc".to_string()),
            ];
            q.extend(extra.iter().map(|(k, v)| (*k, v.clone())));
            let v = self.call(Method::GET, path, &q, None).await?;
            let items = data_array(&v, path)?;
            let n = items.len();
            out.extend(items);
            if n == 0 || !v["pagination"]["hasNext"].as_bool().unwrap_or(false) {
                break;
            }
        }
        Ok(out)
    }

    async fn users(&self) -> Result<&Vec<User>, PsaError> {
        self.cache
            .users
            .get_or_try_init(|| async {
                Ok(self
                    .list_all("/api/v1/users", &[])
                    .await?
                    .iter()
                    .filter_map(|u| {
                        Some(User {
                            id: str_of(&u["user_id"])?,
                            email: str_of(&u["email"]).unwrap_or_default(),
                            kind: str_of(&u["user_type"]).unwrap_or_default(),
                            contact_id: str_of(&u["contact_id"]),
                            inactive: u["is_inactive"].as_bool().unwrap_or(false),
                        })
                    })
                    .collect())
            })
            .await
    }

    async fn contacts(&self) -> Result<&Vec<Value>, PsaError> {
        self.cache
            .contacts
            .get_or_try_init(|| self.list_all("/api/v1/contacts", &[]))
            .await
    }

    async fn statuses(&self) -> Result<&Vec<Value>, PsaError> {
        self.cache
            .statuses
            .get_or_try_init(|| async {
                let v = self
                    .call(Method::GET, "/api/v1/tickets/statuses", &[], None)
                    .await?;
                data_array(&v, "/api/v1/tickets/statuses")
            })
            .await
    }

    async fn priorities(&self) -> Result<&Vec<Value>, PsaError> {
        self.cache
            .priorities
            .get_or_try_init(|| async {
                let v = self
                    .call(Method::GET, "/api/v1/tickets/priorities", &[], None)
                    .await?;
                data_array(&v, "/api/v1/tickets/priorities")
            })
            .await
    }

    /// The board new tickets go to: Alga's default board (else the first active one).
    async fn board(&self) -> Result<&String, PsaError> {
        self.cache
            .board
            .get_or_try_init(|| async {
                let boards = self.list_all("/api/v1/boards", &[]).await?;
                let active = |b: &&Value| !b["is_inactive"].as_bool().unwrap_or(false);
                boards
                    .iter()
                    .filter(active)
                    .find(|b| b["is_default"].as_bool().unwrap_or(false))
                    .or_else(|| boards.iter().find(active))
                    .and_then(|b| str_of(&b["board_id"]))
                    .ok_or_else(|| refused("Alga has no active board for new tickets"))
            })
            .await
    }

    async fn user_email(&self, id: Option<String>) -> Result<Option<String>, PsaError> {
        let Some(id) = id else { return Ok(None) };
        Ok(self
            .users()
            .await?
            .iter()
            .find(|u| u.id == id)
            .map(|u| u.email.clone())
            .filter(|e| !e.is_empty()))
    }

    /// The Alga technician with this email.
    async fn technician(&self, email: &str) -> Result<Option<String>, PsaError> {
        Ok(self
            .users()
            .await?
            .iter()
            .find(|u| u.kind != "client" && !u.inactive && u.email.eq_ignore_ascii_case(email))
            .map(|u| u.id.clone()))
    }

    /// The Alga contact with this email, preferring one of `client`.
    async fn contact_id(
        &self,
        email: &str,
        client: Option<&str>,
    ) -> Result<Option<String>, PsaError> {
        let contacts = self.contacts().await?;
        let matches = |c: &&Value| {
            c["email"]
                .as_str()
                .is_some_and(|e| e.eq_ignore_ascii_case(email))
        };
        Ok(contacts
            .iter()
            .filter(matches)
            .find(|c| client.is_some() && c["client_id"].as_str() == client)
            .or_else(|| contacts.iter().find(matches))
            .and_then(|c| str_of(&c["contact_name_id"])))
    }

    async fn contact_email(&self, id: Option<String>) -> Result<Option<String>, PsaError> {
        let Some(id) = id else { return Ok(None) };
        Ok(self
            .contacts()
            .await?
            .iter()
            .find(|c| c["contact_name_id"].as_str() == Some(id.as_str()))
            .and_then(|c| str_of(&c["email"])))
    }

    async fn status_id(&self, board: &str, name: &str) -> Result<String, PsaError> {
        let statuses = self.statuses().await?;
        let on_board = |s: &&Value| s["board_id"].as_str() == Some(board);
        statuses
            .iter()
            .filter(on_board)
            .find(|s| named(s, "name", name))
            .and_then(|s| str_of(&s["status_id"]))
            .ok_or_else(|| {
                refused(&format!(
                    "Alga's board has no ticket status named \"{name}\" (check the status mapping)"
                ))
            })
    }

    async fn priority_id(&self, name: &str) -> Result<String, PsaError> {
        self.priorities()
            .await?
            .iter()
            .find(|p| named(p, "priority_name", name))
            .and_then(|p| str_of(&p["priority_id"]))
            .ok_or_else(|| {
                refused(&format!(
                    "Alga has no ticket priority named \"{name}\" (check the priority mapping)"
                ))
            })
    }

    /// A ticket's comments, oldest first.
    async fn comments(&self, ticket_id: &str) -> Result<Vec<Value>, PsaError> {
        let path = format!("/api/v1/tickets/{}/comments", enc(ticket_id));
        let mut out = Vec::new();
        for page in 0..MAX_PAGES {
            let q = [
                ("limit", COMMENT_PAGE.to_string()),
                ("offset", (page * COMMENT_PAGE).to_string()),
                ("order", "asc".to_string()),
            ];
            let v = self.call(Method::GET, &path, &q, None).await?;
            let items = data_array(&v, &path)?;
            let n = items.len();
            out.extend(items);
            if n < COMMENT_PAGE {
                break;
            }
        }
        Ok(out)
    }

    async fn comment_of(&self, c: &Value) -> Result<Option<RemoteComment>, PsaError> {
        let Some(id) = str_of(&c["comment_id"]) else {
            return Ok(None);
        };
        // Deleted comments and scheduled ones not yet published are not there for anyone.
        let unpublished = c["publish_state"]
            .as_str()
            .is_some_and(|s| s != "published");
        if !c["deleted_at"].is_null() || unpublished {
            return Ok(None);
        }
        let body = match c["markdown_content"]
            .as_str()
            .filter(|s| !s.trim().is_empty())
        {
            Some(md) => md.to_string(),
            None => rich_text(&c["comment_text"]),
        };
        let author_email = match str_of(&c["author_contact_email"]) {
            Some(e) => Some(e),
            None => {
                self.user_email(str_of(&c["created_by"]).or_else(|| str_of(&c["user_id"])))
                    .await?
            }
        };
        Ok(Some(RemoteComment {
            id,
            body,
            internal: c["is_internal"].as_bool().unwrap_or(false),
            author_email,
            created_at: parse_time(&c["created_at"]),
        }))
    }

    /// An Alga ticket row (list, get or create answer) in Portico's terms, without comments.
    async fn ticket_of(&self, v: &Value) -> Result<RemoteTicket, PsaError> {
        let id = str_of(&v["ticket_id"])
            .ok_or_else(|| PsaError::Malformed("an Alga ticket has no ticket_id".into()))?;
        let updated = parse_time(&v["updated_at"]);
        Ok(RemoteTicket {
            id,
            company_id: str_of(&v["client_id"]),
            requester_email: self.contact_email(str_of(&v["contact_name_id"])).await?,
            subject: v["title"].as_str().unwrap_or_default().to_string(),
            description: rich_text(&v["attributes"]["description"]),
            status: str_of(&v["status_name"]),
            priority: str_of(&v["priority_name"]),
            assignee_email: self.user_email(str_of(&v["assigned_to"])).await?,
            updated_at: if updated > 0 {
                updated
            } else {
                parse_time(&v["entered_at"])
            },
            comments: Vec::new(),
        })
    }

    /// The ticket an earlier attempt of this create made (its key is in `attributes`).
    async fn created_before(
        &self,
        client_id: &str,
        title: &str,
        key: &str,
    ) -> Result<Option<Value>, PsaError> {
        let q = [
            ("client_id", client_id.to_string()),
            ("title", title.to_string()),
            ("limit", PAGE.to_string()),
            ("sort", "entered_at".to_string()),
            ("order", "desc".to_string()),
        ];
        let v = self.call(Method::GET, "/api/v1/tickets", &q, None).await?;
        Ok(data_array(&v, "/api/v1/tickets")?
            .into_iter()
            .find(|t| t["attributes"]["portico_key"].as_str() == Some(key)))
    }
}

/// A refusal of ours, worded for staff (the item fails; retrying would not help).
fn refused(message: &str) -> PsaError {
    PsaError::Refused {
        status: 422,
        message: message.to_string(),
    }
}

fn named(v: &Value, field: &str, name: &str) -> bool {
    v[field]
        .as_str()
        .is_some_and(|n| n.trim().eq_ignore_ascii_case(name.trim()))
}

/// The `data` array of an Alga answer.
fn data_array(v: &Value, path: &str) -> Result<Vec<Value>, PsaError> {
    v["data"]
        .as_array()
        .cloned()
        .ok_or_else(|| PsaError::Malformed(format!("{path}: no data array")))
}

/// Text of an Alga rich-text field: plain text, or BlockNote JSON (as a value or serialised),
/// read as its blocks' text, one line per block.
fn rich_text(v: &Value) -> String {
    match v {
        Value::String(s) => {
            let t = s.trim_start();
            if (t.starts_with('[') || t.starts_with('{'))
                && let Ok(parsed) = serde_json::from_str::<Value>(s)
            {
                return blocks_text(&parsed);
            }
            s.clone()
        }
        Value::Array(_) | Value::Object(_) => blocks_text(v),
        _ => String::new(),
    }
}

fn blocks_text(v: &Value) -> String {
    let blocks: Vec<&Value> = match v {
        Value::Array(a) => a.iter().collect(),
        Value::Object(_) => vec![v],
        _ => return String::new(),
    };
    let mut lines = Vec::new();
    for b in blocks {
        lines.push(inline_text(&b["content"]));
        let children = blocks_text(&b["children"]);
        if !children.is_empty() {
            lines.push(children);
        }
    }
    lines.join("\n").trim_end().to_string()
}

fn inline_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(a) => a.iter().map(inline_text).collect(),
        Value::Object(o) => match o.get("text") {
            Some(Value::String(s)) => s.clone(),
            // Links and other wrappers carry their text in `content`.
            _ => o.get("content").map(inline_text).unwrap_or_default(),
        },
        _ => String::new(),
    }
}

/// The comment text Alga stores: who wrote it in Portico (the API key's user is Alga's
/// author), then the text, cut to Alga's limit.
fn comment_text(c: &NewRemoteComment) -> String {
    let who = match (c.author_name.trim(), c.author_email.trim()) {
        ("", "") => String::new(),
        ("", e) => format!("{e} (via Portico):\n\n"),
        (n, "") => format!("{n} (via Portico):\n\n"),
        (n, e) => format!("{n} <{e}> (via Portico):\n\n"),
    };
    let body = if c.body.trim().is_empty() {
        "—"
    } else {
        c.body.as_str()
    };
    let text = format!("{who}{body}");
    if text.chars().count() <= MAX_COMMENT {
        return text;
    }
    let mut cut: String = text.chars().take(MAX_COMMENT - 1).collect();
    cut.push('…');
    cut
}

impl Connector for Alga {
    async fn list_changes(&self, cursor: Option<&str>) -> Result<ChangePage, PsaError> {
        let cur = Cursor::parse(cursor);
        let mut q = vec![
            ("page", cur.page.to_string()),
            ("limit", PAGE.to_string()),
            ("sort", "updated_at".to_string()),
            ("order", "asc".to_string()),
        ];
        if let Some(since) = cur.since {
            q.push(("updated_from", iso(since)));
        }
        let v = self.call(Method::GET, "/api/v1/tickets", &q, None).await?;
        let rows = data_array(&v, "/api/v1/tickets")?;
        let mut tickets = Vec::with_capacity(rows.len());
        for row in &rows {
            let mut t = self.ticket_of(row).await?;
            // A ticket Portico created is never imported as a new one: were its create's
            // answer lost, the pull would copy it before the retried create finds it by its
            // key and links it. Without a company, an unlinked one is skipped until then; a
            // linked one does not need it.
            if row["attributes"]["portico_key"].is_string() {
                t.company_id = None;
            }
            for c in self.comments(&t.id).await? {
                if let Some(rc) = self.comment_of(&c).await? {
                    t.comments.push(rc);
                }
            }
            tickets.push(t);
        }
        let newest = tickets
            .iter()
            .map(|t| t.updated_at)
            .filter(|t| *t > 0)
            .max();
        let has_more = v["pagination"]["hasNext"].as_bool().unwrap_or(false) && !rows.is_empty();
        let next = cur.next(newest, has_more, crate::db::now_ms());
        Ok(ChangePage {
            tickets,
            next_cursor: next.render().or_else(|| cursor.map(str::to_string)),
            has_more,
        })
    }

    async fn create_ticket(
        &self,
        t: &NewRemoteTicket,
        key: &str,
    ) -> Result<RemoteTicket, PsaError> {
        let client = t.company_id.as_deref().ok_or_else(|| {
            refused(&format!(
                "company \"{}\" is not linked to an Alga client; Alga needs one for every ticket",
                t.company_name
            ))
        })?;
        let title: String = t.subject.trim().chars().take(MAX_TITLE).collect();
        let title = if title.is_empty() {
            format!("Portico ticket {}", t.external_ref)
        } else {
            title
        };
        // Alga has no idempotency keys: the key is kept on the ticket and looked for first.
        if let Some(existing) = self.created_before(client, &title, key).await? {
            return self.ticket_of(&existing).await;
        }
        let board = self.board().await?.clone();
        let status = t
            .status
            .as_deref()
            .unwrap_or(crate::psa::default_status_name(crate::tickets::Status::New));
        let priority = t
            .priority
            .as_deref()
            .unwrap_or(crate::psa::default_priority_name(
                crate::tickets::Priority::Normal,
            ));
        let mut body = json!({
            "title": title,
            "board_id": board,
            "client_id": client,
            "status_id": self.status_id(&board, status).await?,
            "priority_id": self.priority_id(priority).await?,
            "attributes": {
                "description": t.description,
                "portico_ref": t.external_ref,
                "portico_key": key,
            },
        });
        if let Some(c) = self.contact_id(&t.requester_email, Some(client)).await? {
            body["contact_name_id"] = json!(c);
        }
        if let Some(email) = t.assignee_email.as_deref()
            && let Some(u) = self.technician(email).await?
        {
            body["assigned_to"] = json!(u);
        }
        let v = self
            .call(Method::POST, "/api/v1/tickets", &[], Some(&body))
            .await?;
        self.ticket_of(&v["data"]).await
    }

    async fn update_ticket(&self, id: &str, p: &TicketPatch) -> Result<(), PsaError> {
        let path = format!("/api/v1/tickets/{}", enc(id));
        let mut body = serde_json::Map::new();
        if let Some(s) = p.status.as_deref() {
            // Statuses belong to boards: look the ticket's up.
            let v = self.call(Method::GET, &path, &[], None).await?;
            let board = str_of(&v["data"]["board_id"])
                .ok_or_else(|| PsaError::Malformed(format!("Alga ticket {id} has no board_id")))?;
            body.insert("status_id".into(), json!(self.status_id(&board, s).await?));
        }
        if let Some(pr) = p.priority.as_deref() {
            body.insert("priority_id".into(), json!(self.priority_id(pr).await?));
        }
        if !body.is_empty() {
            self.call(Method::PUT, &path, &[], Some(&Value::Object(body)))
                .await?;
        }
        if let Some(a) = &p.assignee_email {
            let user = match a.as_deref() {
                Some(email) => match self.technician(email).await? {
                    Some(u) => Some(u),
                    // A Portico technician unknown to Alga: leave Alga's assignment alone.
                    None => return Ok(()),
                },
                None => None,
            };
            self.call(
                Method::PUT,
                &format!("{path}/assignment"),
                &[],
                Some(&json!({ "assigned_to": user })),
            )
            .await?;
        }
        Ok(())
    }

    async fn add_comment(
        &self,
        ticket_id: &str,
        c: &NewRemoteComment,
        key: &str,
    ) -> Result<String, PsaError> {
        // Alga has no idempotency keys: the key is kept in the comment's metadata and looked
        // for first.
        let existing = self.comments(ticket_id).await?;
        if let Some(id) = existing
            .iter()
            .find(|x| x["metadata"]["portico_key"].as_str() == Some(key))
            .and_then(|x| str_of(&x["comment_id"]))
        {
            return Ok(id);
        }
        let body = json!({
            "comment_text": comment_text(c),
            "is_internal": c.internal,
            "metadata": {
                "portico_key": key,
                "portico_author_email": c.author_email,
                "portico_author_name": c.author_name,
            },
        });
        let v = self
            .call(
                Method::POST,
                &format!("/api/v1/tickets/{}/comments", enc(ticket_id)),
                &[],
                Some(&body),
            )
            .await?;
        str_of(&v["data"]["comment_id"])
            .ok_or_else(|| PsaError::Malformed("a created Alga comment has no comment_id".into()))
    }

    async fn list_companies(&self) -> Result<Vec<RemoteCompany>, PsaError> {
        Ok(self
            .list_all("/api/v1/clients", &[])
            .await?
            .iter()
            .filter_map(|c| {
                Some(RemoteCompany {
                    id: str_of(&c["client_id"])?,
                    name: str_of(&c["client_name"]).unwrap_or_default(),
                    active: !c["is_inactive"].as_bool().unwrap_or(false),
                })
            })
            .collect())
    }

    async fn list_contacts(&self) -> Result<Vec<RemoteContact>, PsaError> {
        let contacts = self.contacts().await?;
        // Portal access in Alga is a client-portal user (`user_type: client`) tied to the
        // contact; an inactive one has lost it.
        let portal: HashMap<&str, bool> = self
            .users()
            .await?
            .iter()
            .filter(|u| u.kind == "client")
            .filter_map(|u| Some((u.contact_id.as_deref()?, !u.inactive)))
            .fold(HashMap::new(), |mut m, (c, active)| {
                *m.entry(c).or_insert(false) |= active;
                m
            });
        Ok(contacts
            .iter()
            .filter_map(|c| {
                let id = str_of(&c["contact_name_id"])?;
                let email = str_of(&c["email"])?;
                Some(RemoteContact {
                    portal_access: portal.get(id.as_str()).copied().unwrap_or(false),
                    company_id: str_of(&c["client_id"]),
                    email,
                    name: str_of(&c["full_name"]).unwrap_or_default(),
                    active: !c["is_inactive"].as_bool().unwrap_or(false),
                    id,
                })
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_moves_on_by_time_or_page() {
        let t = 1_700_000_000_000;
        let later = t + 3_600_000;
        let start = Cursor::parse(None);
        assert_eq!(start.render(), None);
        let c = start.next(Some(t), true, later);
        assert_eq!(c.render().as_deref(), Some("2023-11-14T22:13:20.000Z|1"));
        assert_eq!(Cursor::parse(c.render().as_deref()), c);
        // A page that got no further in time (one instant) turns the page.
        let same = c.next(Some(t), true, later);
        assert_eq!(same.page, 2);
        assert_eq!(same.next(Some(t + 1), true, later).page, 1);
        // The run's last cursor stays behind the clock, never before where it was.
        assert_eq!(c.next(Some(t + 5), false, t + 6).since, Some(t));
        assert_eq!(
            c.next(Some(t + 50_000), false, later).since,
            Some(t + 50_000)
        );
        assert_eq!(start.next(None, false, later), start);
        assert_eq!(Cursor::parse(Some("garbage|7")), start);
        assert_eq!(Cursor::parse(Some("2023-11-14T22:13:20Z")).page, 1);
    }

    #[test]
    fn blocknote_reads_as_text() {
        let doc = json!([
            {"type": "paragraph", "content": [{"type": "text", "text": "Hello "}, {"type": "text", "text": "there"}], "children": []},
            {"type": "paragraph", "content": [{"type": "link", "href": "https://x", "content": [{"type": "text", "text": "link"}]}], "children": []}
        ]);
        assert_eq!(rich_text(&doc), "Hello there\nlink");
        assert_eq!(rich_text(&json!(doc.to_string())), "Hello there\nlink");
        assert_eq!(rich_text(&json!("plain [text]")), "plain [text]");
        assert_eq!(rich_text(&Value::Null), "");
    }

    #[test]
    fn comments_name_their_author_and_fit() {
        let c = NewRemoteComment {
            body: "x".repeat(6000),
            internal: false,
            author_email: "bob@globex.example".into(),
            author_name: "Bob".into(),
        };
        let t = comment_text(&c);
        assert!(t.starts_with("Bob <bob@globex.example> (via Portico):"));
        assert_eq!(t.chars().count(), MAX_COMMENT);
    }
}
