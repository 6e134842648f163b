//! Live events: what happened, to whom it may be shown, and the bus that carries it.

pub mod audience;
pub mod checks;
pub mod routes;

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sqlx::postgres::PgListener;
use tokio::sync::broadcast;

use crate::auth::{Audience, Permission, Principal};
use crate::db::{Backend, Db, TenantTx};

/// What kind of thing happened. Serialised as its dotted name (`ticket.updated`), which is also
/// the SSE event name the browser listens for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventKind {
    /// A ticket was raised.
    #[serde(rename = "ticket.created")]
    TicketCreated,
    /// A ticket's status, priority or assignee changed.
    #[serde(rename = "ticket.updated")]
    TicketUpdated,
    /// A comment (reply or internal note) was added to a ticket.
    #[serde(rename = "ticket.comment")]
    TicketComment,
    /// An announcement went live (published now, or its scheduled time came).
    #[serde(rename = "announcement.published")]
    AnnouncementPublished,
    /// An announcement reached its expiry.
    #[serde(rename = "announcement.expired")]
    AnnouncementExpired,
    /// A member's event registration changed (promoted from the waitlist, cancelled).
    #[serde(rename = "mission.registration")]
    MissionRegistration,
}

impl EventKind {
    /// The dotted name.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::TicketCreated => "ticket.created",
            EventKind::TicketUpdated => "ticket.updated",
            EventKind::TicketComment => "ticket.comment",
            EventKind::AnnouncementPublished => "announcement.published",
            EventKind::AnnouncementExpired => "announcement.expired",
            EventKind::MissionRegistration => "mission.registration",
        }
    }

    /// Whether the event concerns a ticket (and so follows the ticket visibility rule).
    pub fn is_ticket(self) -> bool {
        matches!(
            self,
            EventKind::TicketCreated | EventKind::TicketUpdated | EventKind::TicketComment
        )
    }
}

/// Something that happened in a tenant, published to every node.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Event {
    /// Tenant the event belongs to.
    pub tenant_id: String,
    /// What happened.
    pub kind: EventKind,
    /// Id (or human number) of the object concerned.
    pub object_id: String,
    /// Company the object belongs to, when it is a client company's object.
    pub company_id: Option<String>,
    /// Users directly involved (requester, cc): they see it even without company-wide rights.
    pub participants: Vec<String>,
    /// Staff-only (e.g. an internal note): never sent to a portal session.
    pub internal: bool,
    /// Client-safe data sent to the browser.
    pub data: serde_json::Value,
}

impl Event {
    /// Whether `p` may receive this event; checked on the receiving node before sending.
    pub fn visible_to(&self, p: &Principal) -> bool {
        if p.tenant.id.as_str() != self.tenant_id {
            return false;
        }
        if self.internal && p.audience != Audience::Admin {
            return false;
        }
        if self.kind.is_ticket() {
            // The same rule as the ticket pages and API: the requester is the first participant.
            let (requester, cc) = match self.participants.split_first() {
                Some((r, cc)) => (r.as_str(), cc),
                None => ("", &[][..]),
            };
            let Some(company_id) = self.company_id.as_deref() else {
                return p.can(Permission::ManageTickets);
            };
            return crate::tickets::can_see(
                p,
                &crate::tickets::Visibility {
                    company_id,
                    requester_id: requester,
                    cc,
                },
            );
        }
        if matches!(
            self.kind,
            EventKind::AnnouncementPublished | EventKind::AnnouncementExpired
        ) && p.audience == Audience::Portal
        {
            // An announcement for every company carries none; a targeted one is published
            // once per chosen company.
            return p.company_id.is_some()
                && (self.company_id.is_none()
                    || self.company_id.as_deref() == p.company_id.as_ref().map(|c| c.as_str()));
        }
        // Other kinds: staff of the tenant, or the company's company-wide viewers.
        match p.audience {
            Audience::Admin => p.can(Permission::AdminAccess),
            Audience::Portal => {
                // A person in several companies sees a company's events only while in it.
                match self.company_id.as_deref() {
                    Some(c) => Some(c) == p.company_id.as_ref().map(|c| c.as_str()),
                    None => self.participants.iter().any(|u| u == p.user_id.as_str()),
                }
            }
        }
    }
}

/// PostgreSQL channel every node listens on.
pub const CHANNEL: &str = "portico_events";
/// PostgreSQL refuses NOTIFY payloads of 8000 bytes or more; stay below with some margin.
pub const MAX_NOTIFY_BYTES: usize = 7900;

/// Fan-out of events to the SSE connections of every node.
///
/// On SQLite (one node) events go straight to this process's subscribers. On PostgreSQL
/// `publish` sends `pg_notify`, and each node's listener task — including the publisher's —
/// hands what it hears to `deliver_local`, so every node delivers each event exactly once.
#[derive(Clone)]
pub struct EventBus {
    /// Every event, for in-process listeners (tests, jobs); streams use `streams`.
    tx: broadcast::Sender<Arc<Event>>,
    /// This node's event streams, indexed by audience.
    pub streams: Arc<audience::Registry>,
    pg: Option<Db>,
    _listener: Option<Arc<ListenerTask>>,
    /// Session re-checks the streams of this node share.
    pub checks: Arc<checks::SessionChecks>,
}

/// Stops the listener task when the last handle to the bus goes.
struct ListenerTask(tokio::task::JoinHandle<()>);

impl Drop for ListenerTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Default for EventBus {
    fn default() -> Self {
        let (tx, _) = broadcast::channel(1024);
        EventBus {
            tx,
            streams: Arc::default(),
            pg: None,
            _listener: None,
            checks: Arc::default(),
        }
    }
}

/// The payload sent through NOTIFY: the event, with `data` dropped when it would not fit.
pub fn notify_payload(e: &Event) -> anyhow::Result<String> {
    let json = serde_json::to_string(e)?;
    if json.len() < MAX_NOTIFY_BYTES {
        return Ok(json);
    }
    // Receivers refetch the object; the event still says what changed and where.
    let mut slim = e.clone();
    slim.data = serde_json::json!({ "truncated": true });
    let json = serde_json::to_string(&slim)?;
    if json.len() < MAX_NOTIFY_BYTES {
        Ok(json)
    } else {
        anyhow::bail!(
            "event {} for {} is too large to publish ({} bytes)",
            e.kind.as_str(),
            e.object_id,
            json.len()
        )
    }
}

async fn listen(url: &str) -> Result<PgListener, sqlx::Error> {
    let mut l = PgListener::connect(url).await?;
    l.listen_all([CHANNEL, crate::auth::cache::CHANNEL]).await?;
    Ok(l)
}

/// Forwards notifications into the local bus (and principal invalidations into the node's
/// cache) forever, reconnecting after errors.
async fn listen_loop(
    mut listener: PgListener,
    url: String,
    bus: EventBus,
    principals: Arc<crate::auth::cache::PrincipalCache>,
) {
    let mut delay = Duration::from_millis(250);
    loop {
        // `try_recv` says when the connection was lost and silently re-established: the
        // notifications in between are gone, so the principal cache starts over.
        match listener.try_recv().await {
            Ok(None) => {
                tracing::warn!("event listener reconnected; some notifications may be lost");
                principals.set_live(true);
            }
            Ok(Some(n)) => {
                delay = Duration::from_millis(250);
                if n.channel() == crate::auth::cache::CHANNEL {
                    crate::auth::cache::apply_notification(&principals, n.payload());
                    continue;
                }
                match serde_json::from_str::<Event>(n.payload()) {
                    Ok(e) => bus.deliver_local(Arc::new(e)),
                    Err(e) => tracing::warn!(error = %e, "ignoring a malformed event notification"),
                }
            }
            Err(e) => {
                // Events published while disconnected are lost; clients refetch on reconnect.
                tracing::warn!(error = %e, "event listener lost its connection; reconnecting");
                // Invalidations from other nodes may be missed too: read every session from
                // the database until the listener is back.
                principals.set_live(false);
                loop {
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(10));
                    match listen(&url).await {
                        Ok(l) => {
                            listener = l;
                            principals.set_live(true);
                            break;
                        }
                        Err(e) => tracing::warn!(error = %e, "event listener cannot reconnect"),
                    }
                }
            }
        }
    }
}

impl EventBus {
    /// The bus for this database: in-process on SQLite; LISTEN/NOTIFY across nodes on
    /// PostgreSQL, listening before it returns so no event published afterwards is missed.
    pub async fn for_db(db: &Db, url: &str) -> anyhow::Result<EventBus> {
        let bus = EventBus::default();
        if db.backend() != Backend::Postgres {
            return Ok(bus);
        }
        let listener = listen(url).await.map_err(|e| {
            anyhow::anyhow!(
                "cannot listen for events on {}: {e}",
                crate::config::redact_url(url)
            )
        })?;
        // The task holds a handle without the listener, so dropping the last outside handle
        // still stops it.
        let principals = db.principals();
        principals.set_live(true);
        let task = tokio::spawn(listen_loop(
            listener,
            url.to_string(),
            bus.clone(),
            principals,
        ));
        Ok(EventBus {
            pg: Some(db.clone()),
            _listener: Some(Arc::new(ListenerTask(task))),
            ..bus
        })
    }

    /// Delivers an event to this node's subscribers.
    pub fn deliver_local(&self, e: Arc<Event>) {
        self.streams.dispatch(e.clone());
        // No receivers is normal (nobody listening in-process).
        let _ = self.tx.send(e);
    }

    /// Publishes an event to every node.
    pub async fn publish(&self, e: Event) -> anyhow::Result<()> {
        match &self.pg {
            Some(db) => {
                let payload = notify_payload(&e)?;
                sqlx::query("SELECT pg_notify($1, $2)")
                    .bind(CHANNEL)
                    .bind(payload)
                    .execute(db.operator("event fan-out").reader())
                    .await?;
            }
            None => self.deliver_local(Arc::new(e)),
        }
        Ok(())
    }

    /// Publishes an event as part of a write action: on PostgreSQL the `pg_notify` runs in the
    /// action's transaction (PostgreSQL delivers it at commit, never after a rollback); on
    /// SQLite it is delivered in-process once the transaction has committed.
    pub async fn publish_in(&self, tx: &mut TenantTx, mut e: Event) -> anyhow::Result<()> {
        // An action only ever speaks for its own tenant.
        e.tenant_id = tx.tenant_id().to_string();
        match tx.backend() {
            Backend::Postgres => {
                let payload = notify_payload(&e)?;
                sqlx::query("SELECT pg_notify($1, $2)")
                    .bind(CHANNEL)
                    .bind(payload)
                    .execute(tx.conn())
                    .await?;
            }
            Backend::Sqlite => {
                let bus = self.clone();
                tx.after_commit(move || bus.deliver_local(Arc::new(e)));
            }
        }
        Ok(())
    }

    /// A receiver of this node's events.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.tx.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oversized_data_is_dropped_from_notifications() {
        let mut e = Event {
            tenant_id: "t".into(),
            kind: EventKind::TicketUpdated,
            object_id: "42".into(),
            company_id: None,
            participants: vec![],
            internal: false,
            data: serde_json::json!({ "subject": "x".repeat(10_000) }),
        };
        let p = notify_payload(&e).unwrap();
        assert!(p.len() < MAX_NOTIFY_BYTES && p.contains("truncated"));
        e.data = serde_json::json!({ "subject": "short" });
        assert!(notify_payload(&e).unwrap().contains("short"));
    }
}
