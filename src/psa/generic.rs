//! The generic connector: the JSON contract in docs/psa-sync.md, which any PSA or a small
//! middleware can implement. `Authorization: Bearer <API key>`; lists page with `cursor`.

use reqwest::Method;
use serde_json::{Value, json};

use super::connector::{
    ChangePage, Connector, Http, NewRemoteComment, NewRemoteTicket, PsaError, RemoteComment,
    RemoteCompany, RemoteContact, RemoteTicket, TicketPatch, parse_time, str_of,
};

/// Pages fetched per list before giving up (a loop guard, far above real sizes).
const MAX_PAGES: usize = 10_000;

/// A PSA speaking the generic contract.
#[derive(Debug)]
pub struct Generic {
    http: Http,
}

impl Generic {
    /// A connector for `base` with `api_key`.
    pub fn new(base: &str, api_key: &str) -> Result<Generic, PsaError> {
        Ok(Generic {
            http: Http::new(base, "authorization", format!("Bearer {api_key}"))?,
        })
    }

    async fn list_all(&self, path: &str) -> Result<Vec<Value>, PsaError> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut q = vec![("limit", "100".to_string())];
            if let Some(c) = &cursor {
                q.push(("cursor", c.clone()));
            }
            let v = self.http.call(Method::GET, path, &q, None, None).await?;
            let items = v["items"]
                .as_array()
                .ok_or_else(|| PsaError::Malformed(format!("{path}: no items array")))?;
            out.extend(items.iter().cloned());
            match str_of(&v["next_cursor"]) {
                Some(c) if !items.is_empty() => cursor = Some(c),
                _ => return Ok(out),
            }
        }
        Ok(out)
    }
}

/// Reads a ticket of the contract.
pub fn ticket_of(v: &Value) -> Result<RemoteTicket, PsaError> {
    let id = str_of(&v["id"]).ok_or_else(|| PsaError::Malformed("a ticket has no id".into()))?;
    let comments = v["comments"]
        .as_array()
        .map(|a| a.iter().filter_map(comment_of).collect())
        .unwrap_or_default();
    Ok(RemoteTicket {
        id,
        company_id: str_of(&v["company_id"]),
        requester_email: str_of(&v["requester_email"]),
        subject: v["subject"].as_str().unwrap_or_default().to_string(),
        description: v["description"].as_str().unwrap_or_default().to_string(),
        status: str_of(&v["status"]),
        priority: str_of(&v["priority"]),
        assignee_email: str_of(&v["assignee_email"]),
        updated_at: parse_time(&v["updated_at"]),
        comments,
    })
}

fn comment_of(v: &Value) -> Option<RemoteComment> {
    Some(RemoteComment {
        id: str_of(&v["id"])?,
        body: v["body"].as_str().unwrap_or_default().to_string(),
        internal: v["internal"].as_bool().unwrap_or(false),
        author_email: str_of(&v["author_email"]),
        created_at: parse_time(&v["created_at"]),
    })
}

impl Connector for Generic {
    async fn list_changes(&self, cursor: Option<&str>) -> Result<ChangePage, PsaError> {
        let mut q = vec![("limit", "100".to_string())];
        if let Some(c) = cursor {
            q.push(("since", c.to_string()));
        }
        let v = self
            .http
            .call(Method::GET, "/changes", &q, None, None)
            .await?;
        let tickets = v["tickets"]
            .as_array()
            .ok_or_else(|| PsaError::Malformed("/changes: no tickets array".into()))?
            .iter()
            .map(ticket_of)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ChangePage {
            tickets,
            next_cursor: str_of(&v["next_cursor"]),
            has_more: v["has_more"].as_bool().unwrap_or(false),
        })
    }

    async fn create_ticket(
        &self,
        t: &NewRemoteTicket,
        key: &str,
    ) -> Result<RemoteTicket, PsaError> {
        let body = serde_json::to_value(t).map_err(|e| PsaError::Malformed(e.to_string()))?;
        let v = self
            .http
            .call(Method::POST, "/tickets", &[], Some(&body), Some(key))
            .await?;
        ticket_of(&v)
    }

    async fn update_ticket(&self, id: &str, p: &TicketPatch) -> Result<(), PsaError> {
        let body = serde_json::to_value(p).map_err(|e| PsaError::Malformed(e.to_string()))?;
        self.http
            .call(
                Method::PATCH,
                &format!("/tickets/{}", enc(id)),
                &[],
                Some(&body),
                None,
            )
            .await?;
        Ok(())
    }

    async fn add_comment(
        &self,
        ticket_id: &str,
        c: &NewRemoteComment,
        key: &str,
    ) -> Result<String, PsaError> {
        let body = json!(c);
        let v = self
            .http
            .call(
                Method::POST,
                &format!("/tickets/{}/comments", enc(ticket_id)),
                &[],
                Some(&body),
                Some(key),
            )
            .await?;
        str_of(&v["id"]).ok_or_else(|| PsaError::Malformed("a created comment has no id".into()))
    }

    async fn list_companies(&self) -> Result<Vec<RemoteCompany>, PsaError> {
        self.list_all("/companies")
            .await?
            .into_iter()
            .map(|v| serde_json::from_value(v).map_err(|e| PsaError::Malformed(e.to_string())))
            .collect()
    }

    async fn list_contacts(&self) -> Result<Vec<RemoteContact>, PsaError> {
        self.list_all("/contacts")
            .await?
            .into_iter()
            .map(|v| serde_json::from_value(v).map_err(|e| PsaError::Malformed(e.to_string())))
            .collect()
    }
}

/// Percent-encodes a path segment.
pub fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
