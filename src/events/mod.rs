//! Live events: what happened, to whom it may be shown, and the bus that carries it.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use crate::auth::{Audience, Permission, Principal};

/// Something that happened in a tenant, published to every node.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Event {
    /// Tenant the event belongs to.
    pub tenant_id: String,
    /// Dotted kind, e.g. `ticket.updated`, `ticket.comment`.
    pub kind: String,
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
        match p.audience {
            Audience::Admin => true,
            Audience::Portal => {
                !self.internal
                    && (self.participants.iter().any(|u| u == p.user_id.as_str())
                        || (p.can(Permission::ViewCompanyTickets)
                            && self.company_id.is_some()
                            && self.company_id.as_deref()
                                == p.company_id.as_ref().map(|c| c.as_str())))
            }
        }
    }
}

/// Fan-out of events to the SSE connections of this node.
#[derive(Clone)]
pub struct EventBus {
    tx: broadcast::Sender<Arc<Event>>,
}

impl Default for EventBus {
    fn default() -> Self {
        let (tx, _) = broadcast::channel(1024);
        EventBus { tx }
    }
}

impl EventBus {
    /// Delivers an event to this node's subscribers.
    pub fn deliver_local(&self, e: Arc<Event>) {
        // No receivers is normal (nobody connected).
        let _ = self.tx.send(e);
    }

    /// Publishes an event to every node (in-process for now).
    pub async fn publish(&self, e: Event) -> anyhow::Result<()> {
        self.deliver_local(Arc::new(e));
        Ok(())
    }

    /// A receiver of this node's events.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.tx.subscribe()
    }
}
