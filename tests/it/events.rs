//! Live events over SSE: who receives what, session revocation, and delivery across nodes.

use std::time::Duration;

use portico::events::{Event, EventKind};
use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};

use crate::support::{Db, TestApp};

/// Reads server-sent events from a streaming response.
struct SseClient {
    resp: Response,
    buf: String,
}

impl SseClient {
    /// Opens `path` and waits until the server says the subscription is in place.
    async fn open(app: &TestApp, client: &Client, path: &str) -> SseClient {
        let resp = client.get(app.url(path)).send().await.expect("sse request");
        assert_eq!(resp.status(), StatusCode::OK);
        assert!(
            resp.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/event-stream")
        );
        let mut c = SseClient {
            resp,
            buf: String::new(),
        };
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while !c.buf.contains(": connected") {
            assert!(
                c.fill(deadline).await,
                "stream ended before it was connected"
            );
        }
        c.buf.clear();
        c
    }

    /// Reads more bytes; false at end of stream or deadline.
    async fn fill(&mut self, deadline: tokio::time::Instant) -> bool {
        match tokio::time::timeout_at(deadline, self.resp.chunk()).await {
            Ok(Ok(Some(bytes))) => {
                self.buf.push_str(&String::from_utf8_lossy(&bytes));
                true
            }
            _ => false,
        }
    }

    /// The next event (kind, data) within `within`; `None` on timeout or end of stream.
    async fn next(&mut self, within: Duration) -> Option<(String, Value)> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            while let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf[..end].to_string();
                self.buf.drain(..end + 2);
                let mut kind = None;
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(k) = line.strip_prefix("event:") {
                        kind = Some(k.trim().to_string());
                    } else if let Some(d) = line.strip_prefix("data:") {
                        data.push_str(d.trim_start());
                    }
                }
                if let Some(k) = kind {
                    return Some((k, serde_json::from_str(&data).expect("event data is JSON")));
                }
            }
            if !self.fill(deadline).await {
                return None;
            }
        }
    }

    /// Asserts that no event reached the stream so far: publishes `sentinel` (an event this
    /// stream may see) and requires it to be the next one. A node delivers events to a stream
    /// in the order they were published, so one that should not have arrived would come first;
    /// no fixed wait decides "nothing came".
    async fn nothing_before(&mut self, app: &TestApp, sentinel: Event) {
        let id = sentinel.object_id.clone();
        app.state
            .events
            .publish(sentinel)
            .await
            .expect("publish sentinel");
        let got = self.next(WAIT).await.expect("the sentinel event arrives");
        assert_eq!(
            got.1["object_id"], id,
            "an event arrived that this stream must not see: {got:?}"
        );
    }

    /// True when the server closes the stream within `within`.
    async fn ends(&mut self, within: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            match tokio::time::timeout_at(deadline, self.resp.chunk()).await {
                Ok(Ok(None)) | Ok(Err(_)) => return true,
                Ok(Ok(Some(b))) => {
                    let s = String::from_utf8_lossy(&b);
                    assert!(!s.contains("event:"), "event after sign-out: {s}");
                }
                Err(_) => return false,
            }
        }
    }
}

async fn ids(app: &TestApp) -> (String, String, String) {
    use sqlx::Row;
    let acme: String = sqlx::query("SELECT id FROM tenants WHERE slug = 'acme'")
        .fetch_one(app.state.db.operator("test").reader())
        .await
        .unwrap()
        .get(0);
    let globex = app.company_id("acme", "Globex").await;
    let initech = app.company_id("acme", "Initech").await;
    (acme, globex, initech)
}

fn event(tenant: &str, company: &str, kind: &str, object: &str, internal: bool) -> Event {
    let kind: EventKind = serde_json::from_value(serde_json::Value::from(kind)).expect("kind");
    Event {
        tenant_id: tenant.into(),
        kind,
        object_id: object.into(),
        company_id: Some(company.into()),
        participants: vec![],
        internal,
        data: json!({ "subject": format!("about {object}") }),
    }
}

const WAIT: Duration = Duration::from_secs(3);

async fn events_reach_only_those_allowed(app: TestApp) {
    let (acme, globex, initech) = ids(&app).await;
    let alice = app
        .api_login("acme", "alice@globex.example", "portal")
        .await;
    let ian = app.api_login("acme", "ian@initech.example", "portal").await;
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let mut a = SseClient::open(&app, &alice.client, "/api/v1/events").await;
    let mut i = SseClient::open(&app, &ian.client, "/api/v1/events").await;
    let mut s = SseClient::open(&app, &staff.client, "/api/v1/admin/events").await;

    let bus = &app.state.events;
    bus.publish(event(&acme, &globex, "ticket.updated", "G-1", false))
        .await
        .unwrap();
    bus.publish(event(&acme, &globex, "ticket.comment", "G-1-note", true))
        .await
        .unwrap();
    bus.publish(event(&acme, &globex, "ticket.updated", "G-2", false))
        .await
        .unwrap();
    bus.publish(event(&acme, &initech, "ticket.updated", "I-1", false))
        .await
        .unwrap();

    // Alice (Globex admin): Globex's public events, never the internal note.
    let (kind, data) = a.next(WAIT).await.expect("alice gets G-1");
    assert_eq!(kind, "ticket.updated");
    assert_eq!(data["object_id"], "G-1");
    assert_eq!(data["subject"], "about G-1");
    assert_eq!(a.next(WAIT).await.unwrap().1["object_id"], "G-2");
    // Ian (Initech): only Initech's.
    assert_eq!(i.next(WAIT).await.unwrap().1["object_id"], "I-1");
    // The Initech sentinel reaches Ian (and staff) but not Alice, and vice versa.
    i.nothing_before(
        &app,
        event(&acme, &initech, "ticket.updated", "I-sentinel", false),
    )
    .await;
    a.nothing_before(
        &app,
        event(&acme, &globex, "ticket.updated", "G-sentinel", false),
    )
    .await;
    // Staff: everything, the internal note included.
    let got: Vec<String> = {
        let mut v = Vec::new();
        for _ in 0..4 {
            let (_, d) = s.next(WAIT).await.expect("staff event");
            v.push(d["object_id"].as_str().unwrap().to_string());
        }
        v
    };
    assert_eq!(got, ["G-1", "G-1-note", "G-2", "I-1"]);
    assert_eq!(s.next(WAIT).await.unwrap().1["object_id"], "I-sentinel");
    assert_eq!(s.next(WAIT).await.unwrap().1["object_id"], "G-sentinel");

    // Another tenant's staff hears nothing of acme.
    let pastor = app
        .api_login("grace", "pastor@grace.example", "admin")
        .await;
    let grace: String = {
        use sqlx::Row;
        sqlx::query("SELECT id FROM tenants WHERE slug = 'grace'")
            .fetch_one(app.state.db.operator("test").reader())
            .await
            .unwrap()
            .get(0)
    };
    let mut p = SseClient::open(&app, &pastor.client, "/api/v1/admin/events").await;
    bus.publish(event(&acme, &globex, "ticket.updated", "G-3", false))
        .await
        .unwrap();
    let mut grace_event = event(&grace, "", "ticket.updated", "grace-sentinel", false);
    grace_event.company_id = None;
    p.nothing_before(&app, grace_event).await;
}
crate::db_test!(
    events_reach_only_those_allowed_to_see_them,
    events_reach_only_those_allowed
);

async fn signed_out_stream_ends(app: TestApp) {
    let (acme, globex, _) = ids(&app).await;
    let alice = app
        .api_login("acme", "alice@globex.example", "portal")
        .await;
    let mut a = SseClient::open(&app, &alice.client, "/api/v1/events").await;
    let r = alice.post_json("/api/v1/auth/logout", &json!({})).await;
    assert!(r.status().is_success(), "{}", r.status());
    app.state
        .events
        .publish(event(&acme, &globex, "ticket.updated", "G-9", false))
        .await
        .unwrap();
    assert!(a.ends(WAIT).await, "the stream of a revoked session ends");
}
crate::db_test!(revoked_session_stream_ends, signed_out_stream_ends);

async fn streams_need_the_right_session(app: TestApp) {
    let c = app.client();
    let r = c
        .get(app.url("/api/v1/events?tenant=acme"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let alice = app
        .api_login("acme", "alice@globex.example", "portal")
        .await;
    let r = alice.get("/api/v1/admin/events").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let r = staff.get("/api/v1/events").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}
crate::db_test!(
    event_streams_need_the_right_session,
    streams_need_the_right_session
);

/// An event wakes only the streams that may see it: a reply in Initech wakes Ian's stream and
/// not Alice's (Globex), and a closed stream leaves the index.
async fn events_wake_only_their_audience(app: TestApp) {
    let (acme, globex, initech) = ids(&app).await;
    let alice = app
        .api_login("acme", "alice@globex.example", "portal")
        .await;
    let ian = app.api_login("acme", "ian@initech.example", "portal").await;
    let streams = app.state.events.streams.clone();
    let mut a = SseClient::open(&app, &alice.client, "/api/v1/events").await;
    let mut i = SseClient::open(&app, &ian.client, "/api/v1/events").await;
    let mut a2 = SseClient::open(&app, &alice.client, "/api/v1/events").await;
    assert_eq!(streams.open_streams(), 3);

    let before = streams.woken();
    app.state
        .events
        .publish(event(&acme, &initech, "ticket.updated", "I-1", false))
        .await
        .unwrap();
    assert_eq!(i.next(WAIT).await.unwrap().1["object_id"], "I-1");
    assert_eq!(streams.woken() - before, 1, "only Ian's stream wakes");

    let before = streams.woken();
    app.state
        .events
        .publish(event(&acme, &globex, "ticket.updated", "G-1", false))
        .await
        .unwrap();
    assert_eq!(a.next(WAIT).await.unwrap().1["object_id"], "G-1");
    assert_eq!(a2.next(WAIT).await.unwrap().1["object_id"], "G-1");
    assert_eq!(
        streams.woken() - before,
        2,
        "both of Alice's streams, not Ian's"
    );
    // An internal note wakes no portal stream at all.
    let before = streams.woken();
    app.state
        .events
        .publish(event(&acme, &globex, "ticket.comment", "G-note", true))
        .await
        .unwrap();
    i.nothing_before(
        &app,
        event(&acme, &initech, "ticket.updated", "I-sentinel", false),
    )
    .await;
    assert_eq!(streams.woken() - before, 1, "only the sentinel woke anyone");

    drop((a, a2, i));
    let deadline = tokio::time::Instant::now() + WAIT;
    while streams.open_streams() > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "closed streams stay in the index: {}",
            streams.open_streams()
        );
        // A closed stream leaves the index when its task notices, at the next event or sooner.
        app.state
            .events
            .publish(event(&acme, &globex, "ticket.updated", "G-poke", false))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
crate::db_test!(
    events_wake_only_their_audience,
    events_wake_only_their_audience
);

/// The requirement: an event published on node A reaches an SSE client on node B.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_published_on_one_node_reaches_a_client_of_another_postgres() {
    let Some(a) = TestApp::spawn(Db::Postgres).await else {
        return;
    };
    let b = a.spawn_peer().await;
    let (acme, globex, _) = ids(&a).await;
    let alice = b.api_login("acme", "alice@globex.example", "portal").await;
    let mut on_b = SseClient::open(&b, &alice.client, "/api/v1/events").await;
    let started = std::time::Instant::now();
    a.state
        .events
        .publish(event(&acme, &globex, "ticket.comment", "G-42", false))
        .await
        .unwrap();
    let (kind, data) = on_b
        .next(Duration::from_secs(1))
        .await
        .expect("delivered on node B within 1 s");
    assert_eq!(kind, "ticket.comment");
    assert_eq!(data["object_id"], "G-42");
    assert!(started.elapsed() < Duration::from_secs(1));
    // Exactly once, although both nodes listen: the next event is the sentinel, not a copy.
    on_b.nothing_before(
        &a,
        event(&acme, &globex, "ticket.updated", "G-sentinel", false),
    )
    .await;
}

/// A real staff reply posted to node A reaches the requester's stream on node B, and an
/// internal note posted to node A never does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_reply_on_one_node_reaches_a_client_of_another_postgres() {
    let Some(a) = TestApp::spawn(Db::Postgres).await else {
        return;
    };
    let b = a.spawn_peer().await;
    let bob = b.api_login("acme", "bob@globex.example", "portal").await;
    let r = bob
        .post_json(
            "/api/v1/tickets",
            &json!({"subject": "VPN drops every hour", "description": "Since Monday.", "priority": "high", "category": "Network"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let number = r.json::<Value>().await.unwrap()["number"]
        .as_i64()
        .expect("number");
    let mut on_b = SseClient::open(&b, &bob.client, "/api/v1/events").await;
    let staff = a.api_login("acme", "staff@acme.example", "admin").await;
    for (body, internal) in [
        ("Checking the firewall logs.", true),
        ("We found it: the DHCP lease. Fixed.", false),
    ] {
        let r = staff
            .post_json(
                &format!("/api/v1/admin/tickets/{number}/comments"),
                &json!({"body": body, "internal": internal}),
            )
            .await;
        assert!(r.status().is_success(), "{}", r.status());
    }
    let mut seen = Vec::new();
    while let Some((kind, data)) = on_b.next(Duration::from_secs(2)).await {
        let text = data.to_string();
        assert!(
            !text.contains("firewall logs"),
            "internal note reached a client: {text}"
        );
        seen.push(kind);
        if text.contains("DHCP lease") {
            break;
        }
    }
    assert!(
        seen.iter().any(|k| k == "ticket.comment"),
        "no comment event on node B: {seen:?}"
    );
}
