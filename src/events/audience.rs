//! The streams of this node indexed by who they belong to, so an event wakes only the streams
//! that may see it: staff streams of its tenant, portal streams of its company, and the streams
//! of the users it names. Before this index every event woke every stream of the node, and each
//! stream decided for itself (docs/performance.md).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::{Event, EventKind};
use crate::auth::{Audience, Principal};

/// Events a stream may have queued before it counts as lagging and misses the next ones.
const QUEUE: usize = 64;

/// An event as handed to the streams: serialised once, stamped with its arrival on this node.
#[derive(Debug)]
pub struct Delivery {
    /// The event.
    pub event: Arc<Event>,
    /// When this node received it; a session re-check that started later serves every stream
    /// of that session.
    pub arrived: Instant,
    /// The SSE `data:` line (the event's client data with `object_id`), built once.
    pub data: String,
}

impl Delivery {
    /// Serialises `event` for the browser.
    pub fn new(event: Arc<Event>) -> Delivery {
        let mut data = match &event.data {
            serde_json::Value::Object(o) => o.clone(),
            serde_json::Value::Null => serde_json::Map::new(),
            other => {
                let mut m = serde_json::Map::new();
                m.insert("value".into(), other.clone());
                m
            }
        };
        data.insert("object_id".into(), event.object_id.clone().into());
        Delivery {
            data: serde_json::Value::Object(data).to_string(),
            arrived: Instant::now(),
            event,
        }
    }
}

type Sender = mpsc::Sender<Arc<Delivery>>;

#[derive(Default)]
struct TenantStreams {
    staff: HashMap<u64, Sender>,
    /// Portal streams by company.
    companies: HashMap<String, HashMap<u64, Sender>>,
    /// Portal streams by user (members without a company are only here).
    users: HashMap<String, HashMap<u64, Sender>>,
}

impl TenantStreams {
    fn is_empty(&self) -> bool {
        self.staff.is_empty() && self.companies.is_empty() && self.users.is_empty()
    }
}

/// Where a stream is filed, to take it out again.
#[derive(Clone, Debug)]
struct Key {
    id: u64,
    tenant: String,
    audience: Audience,
    company: Option<String>,
    user: String,
}

/// The index of this node's open streams.
#[derive(Default)]
pub struct Registry {
    tenants: Mutex<HashMap<String, TenantStreams>>,
    next: AtomicU64,
    lagged: AtomicU64,
    woken: AtomicU64,
}

/// A stream's place in the index; dropping it takes the stream out.
pub struct Subscription {
    /// Events for this stream.
    pub rx: mpsc::Receiver<Arc<Delivery>>,
    registry: Arc<Registry>,
    key: Key,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.registry.remove(&self.key);
    }
}

fn remove_from(map: &mut HashMap<String, HashMap<u64, Sender>>, bucket: &str, id: u64) {
    if let Some(b) = map.get_mut(bucket) {
        b.remove(&id);
        if b.is_empty() {
            map.remove(bucket);
        }
    }
}

impl Registry {
    /// Files a new stream for `p` in `audience`.
    pub fn subscribe(self: &Arc<Self>, p: &Principal, audience: Audience) -> Subscription {
        let (tx, rx) = mpsc::channel(QUEUE);
        let key = Key {
            id: self.next.fetch_add(1, Ordering::Relaxed),
            tenant: p.tenant.id.as_str().to_string(),
            audience,
            company: p.company_id.as_ref().map(|c| c.as_str().to_string()),
            user: p.user_id.as_str().to_string(),
        };
        {
            let mut tenants = self.tenants.lock().unwrap_or_else(|e| e.into_inner());
            let t = tenants.entry(key.tenant.clone()).or_default();
            match audience {
                Audience::Admin => {
                    t.staff.insert(key.id, tx);
                }
                Audience::Portal => {
                    if let Some(c) = &key.company {
                        t.companies
                            .entry(c.clone())
                            .or_default()
                            .insert(key.id, tx.clone());
                    }
                    t.users
                        .entry(key.user.clone())
                        .or_default()
                        .insert(key.id, tx);
                }
            }
        }
        Subscription {
            rx,
            registry: self.clone(),
            key,
        }
    }

    fn remove(&self, key: &Key) {
        let mut tenants = self.tenants.lock().unwrap_or_else(|e| e.into_inner());
        let Some(t) = tenants.get_mut(&key.tenant) else {
            return;
        };
        match key.audience {
            Audience::Admin => {
                t.staff.remove(&key.id);
            }
            Audience::Portal => {
                if let Some(c) = &key.company {
                    remove_from(&mut t.companies, c, key.id);
                }
                remove_from(&mut t.users, &key.user, key.id);
            }
        }
        if t.is_empty() {
            tenants.remove(&key.tenant);
        }
    }

    /// Hands `e` to the streams that may see it. Each stream still checks the event against
    /// its session before sending it: the index only decides whom to wake.
    pub fn dispatch(&self, e: Arc<Event>) {
        let d = Arc::new(Delivery::new(e));
        let ev = &d.event;
        let tenants = self.tenants.lock().unwrap_or_else(|e| e.into_inner());
        let Some(t) = tenants.get(&ev.tenant_id) else {
            return;
        };
        let mut woken = 0u64;
        let mut lagged = 0u64;
        let mut send = |tx: &Sender| {
            woken += 1;
            if tx.try_send(d.clone()).is_err() {
                // A full queue is a slow client: it misses this event, as a lagging broadcast
                // receiver would. A closed one is a stream on its way out.
                lagged += 1;
            }
        };
        for tx in t.staff.values() {
            send(tx);
        }
        if !ev.internal {
            let announcement = matches!(
                ev.kind,
                EventKind::AnnouncementPublished | EventKind::AnnouncementExpired
            );
            // Only needed to skip a participant's stream that its company already woke.
            let track = !ev.participants.is_empty();
            let mut sent: HashSet<u64> = HashSet::new();
            match ev.company_id.as_deref() {
                // An announcement for every company reaches every company's streams.
                None if announcement => {
                    for b in t.companies.values() {
                        for (id, tx) in b {
                            if track {
                                sent.insert(*id);
                            }
                            send(tx);
                        }
                    }
                }
                None => {}
                Some(c) => {
                    if let Some(b) = t.companies.get(c) {
                        for (id, tx) in b {
                            if track {
                                sent.insert(*id);
                            }
                            send(tx);
                        }
                    }
                }
            }
            for u in &ev.participants {
                if let Some(b) = t.users.get(u) {
                    for (id, tx) in b {
                        if sent.insert(*id) {
                            send(tx);
                        }
                    }
                }
            }
        }
        drop(tenants);
        self.woken.fetch_add(woken, Ordering::Relaxed);
        if lagged > 0 {
            self.lagged.fetch_add(lagged, Ordering::Relaxed);
            tracing::debug!(woken, lagged, "event streams lagged");
        }
    }

    /// Streams woken so far (each stream once per event handed to it).
    pub fn woken(&self) -> u64 {
        self.woken.load(Ordering::Relaxed)
    }

    /// Events dropped so far because a stream's queue was full.
    pub fn lagged(&self) -> u64 {
        self.lagged.load(Ordering::Relaxed)
    }

    /// Open streams on this node (for tests and metrics).
    pub fn open_streams(&self) -> usize {
        let tenants = self.tenants.lock().unwrap_or_else(|e| e.into_inner());
        tenants
            .values()
            .map(|t| t.staff.len() + t.users.values().map(HashMap::len).sum::<usize>())
            .sum()
    }
}
