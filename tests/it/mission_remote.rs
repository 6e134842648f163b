//! The remote Mission source against a fake Mission API on loopback that implements the
//! contract of docs/mission-api.md.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use reqwest::StatusCode as S;
use serde_json::{Value, json};

use crate::support::TestApp;

const KEY: &str = "mission-api-test-key";

#[derive(Default)]
struct Inner {
    /// Every request: method, path and query.
    calls: Vec<String>,
    /// Answer 503 to everything.
    down: bool,
    /// Requests whose key was wrong.
    bad_auth: usize,
    posted: Vec<Value>,
}

#[derive(Clone)]
struct Fake {
    addr: SocketAddr,
    inner: Arc<Mutex<Inner>>,
}

type St = State<Arc<Mutex<Inner>>>;

fn gate(s: &Arc<Mutex<Inner>>, h: &HeaderMap, call: String) -> Option<Response> {
    let mut i = s.lock().unwrap();
    i.calls.push(call);
    if h.get("authorization").and_then(|v| v.to_str().ok()) != Some(&format!("Bearer {KEY}")) {
        i.bad_auth += 1;
        return Some(
            (
                StatusCode::UNAUTHORIZED,
                Json(json!({"error": {"code": "unauthorized", "message": "bad key"}})),
            )
                .into_response(),
        );
    }
    if i.down {
        return Some((StatusCode::SERVICE_UNAVAILABLE, "maintenance").into_response());
    }
    None
}

async fn funds(State(s): St, h: HeaderMap) -> Response {
    if let Some(r) = gate(&s, &h, "GET /funds".into()) {
        return r;
    }
    Json(json!({"items": [{"id": "f-general", "name": "General Fund", "active": true}]}))
        .into_response()
}

async fn gifts(
    State(s): St,
    h: HeaderMap,
    Path(m): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let qs: Vec<String> = q.iter().map(|(k, v)| format!("{k}={v}")).collect();
    if let Some(r) = gate(&s, &h, format!("GET /members/{m}/gifts?{}", qs.join("&"))) {
        return r;
    }
    // Whatever member id the API sends, Portico shows the gifts as the signed-in member's.
    Json(json!({"items": [
        {"id": "g1", "member_id": "someone-else", "member_name": format!("Member {m}"), "fund_id": "f-general",
         "fund_name": "General Fund", "given_on": "2026-03-01", "amount_minor": 12345, "currency": "USD",
         "method": "bank", "recurring": true}
    ], "next_cursor": null})).into_response()
}

async fn totals(State(s): St, h: HeaderMap, Path(m): Path<String>) -> Response {
    if let Some(r) = gate(&s, &h, format!("GET /members/{m}/totals")) {
        return r;
    }
    Json(
        json!({"by_year": [{"label": "2026", "amount_minor": 12345, "count": 1}],
                "by_fund": [{"label": "General Fund", "amount_minor": 12345, "count": 1}]}),
    )
    .into_response()
}

async fn wall(State(s): St, h: HeaderMap, Query(q): Query<Vec<(String, String)>>) -> Response {
    let viewer = q
        .iter()
        .find(|(k, _)| k == "viewer")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    if let Some(r) = gate(&s, &h, format!("GET /prayer?viewer={viewer}")) {
        return r;
    }
    let posted = s.lock().unwrap().posted.len();
    let base = |id: &str, vis: &str, anon: bool, mine: bool, author: &str| {
        json!({
        "id": id, "body": format!("Request {id}"), "visibility": vis, "anonymous": anon, "status": "published",
        "author": author, "mine": mine, "answered_at": null, "praise": "", "prayed_count": 2,
        "i_prayed": false, "reports": 3, "created_at": 1_760_000_000_000_i64 })
    };
    let mut items = vec![
        base("p-anon", "members", true, false, "Secret Person"),
        // A private request of someone else: a careless API sends it; Portico must not show it.
        base("p-private", "staff", false, false, "Other Member"),
        base("p-open", "members", false, false, "Open Member"),
    ];
    for n in 0..posted {
        items.push(base(&format!("p-new-{n}"), "members", false, true, "Me"));
    }
    Json(json!({"items": items, "next_cursor": null})).into_response()
}

async fn post_prayer(State(s): St, h: HeaderMap, Json(b): Json<Value>) -> Response {
    if let Some(r) = gate(&s, &h, "POST /prayer".into()) {
        return r;
    }
    let mut i = s.lock().unwrap();
    i.posted.push(b);
    let id = format!("p-new-{}", i.posted.len() - 1);
    (StatusCode::CREATED, Json(json!({"id": id}))).into_response()
}

async fn one_prayer(State(s): St, h: HeaderMap, Path(id): Path<String>) -> Response {
    if let Some(r) = gate(&s, &h, format!("GET /prayer/{id}")) {
        return r;
    }
    Json(json!({"id": id, "body": "Posted through the API", "visibility": "members", "anonymous": false,
        "status": "published", "author": "Me", "mine": true, "answered_at": null, "praise": "",
        "prayed_count": 0, "i_prayed": false, "reports": 0, "created_at": 1_760_000_000_000_i64})).into_response()
}

impl Fake {
    async fn start() -> Fake {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new()
            .route("/v1/funds", get(funds))
            .route("/v1/members/{m}/gifts", get(gifts))
            .route("/v1/members/{m}/totals", get(totals))
            .route("/v1/prayer", get(wall).post(post_prayer))
            .route("/v1/prayer/{id}", get(one_prayer))
            .route(
                "/v1/prayer/{id}/prayed",
                post(|| async { Json(json!({"count": 3})) }),
            )
            .with_state(inner.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Fake { addr, inner }
    }

    fn calls(&self, prefix: &str) -> usize {
        self.inner
            .lock()
            .unwrap()
            .calls
            .iter()
            .filter(|c| c.starts_with(prefix))
            .count()
    }
}

async fn body(r: reqwest::Response) -> Value {
    r.json().await.expect("json")
}

async fn remote_source_proxies_the_mission_api(app: TestApp) {
    let fake = Fake::start().await;
    let pastor = app
        .api_login("grace", "pastor@grace.example", "admin")
        .await;
    let mary = app.api_login("grace", "mary@grace.example", "portal").await;
    let mary_id = app.user_id("grace", "mary@grace.example").await;

    // Choosing the API without a key is refused beside the field; a plain-http address elsewhere too.
    let r = pastor
        .post_form(
            "/admin/mission/settings",
            &[
                ("currency", "USD"),
                ("source", "remote"),
                ("remote_url", "http://api.example.org/v1"),
            ],
        )
        .await;
    assert_eq!(r.status(), S::BAD_REQUEST);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Enter the API address") && html.contains("Enter the API key"),
        "{html}"
    );

    let url = format!("http://{}/v1", fake.addr);
    let r = pastor
        .post_form(
            "/admin/mission/settings",
            &[
                ("currency", "USD"),
                ("source", "remote"),
                ("remote_url", &url),
                ("remote_key", KEY),
            ],
        )
        .await;
    assert!(
        r.status().is_redirection() || r.status() == S::OK,
        "{}",
        r.status()
    );
    // The key is stored sealed, never as typed.
    let stored: Option<String> = sqlx::query_scalar(
        "SELECT m.remote_key_sealed FROM mission_settings m JOIN tenants t ON t.id = m.tenant_id WHERE t.slug = 'grace'",
    )
    .fetch_one(app.state.db.operator("test").reader())
    .await
    .unwrap();
    assert!(stored.is_some_and(|s| !s.contains(KEY)));
    assert!(
        app.audit_actions("grace")
            .await
            .contains(&"mission.settings_changed".to_string())
    );

    // Giving comes from the API, asked for by Mary's email (no external id mapped yet), and is
    // shown as hers whatever id the API put in.
    let v = body(mary.get("/api/v1/mission/giving").await).await;
    assert_eq!(v["items"][0]["amount_minor"], 12345, "{v}");
    assert_eq!(v["items"][0]["member_id"], mary_id.as_str());
    assert_eq!(v["by_fund"][0]["label"], "General Fund");
    assert_eq!(fake.calls("GET /members/mary@grace.example/gifts"), 1);
    // Read again at once: served from the cache.
    assert_eq!(mary.get("/api/v1/mission/giving").await.status(), S::OK);
    assert_eq!(fake.calls("GET /members/mary@grace.example/gifts"), 1);

    // With an external id mapped, that id is what the API hears.
    sqlx::query("INSERT INTO mission_external_ids (tenant_id, user_id, external_id) SELECT t.id, $1, 'M-1001' FROM tenants t WHERE t.slug = 'grace'")
        .bind(&mary_id)
        .execute(app.state.db.operator("test").writer())
        .await
        .unwrap();
    assert_eq!(
        mary.get("/api/v1/mission/giving?year=2026").await.status(),
        S::OK
    );
    assert_eq!(
        fake.calls("GET /members/M-1001/gifts?limit="),
        1,
        "{:?}",
        fake.inner.lock().unwrap().calls
    );

    // The wall: an anonymous author stays hidden, a private request of someone else never shows.
    let v = body(mary.get("/api/v1/mission/prayer").await).await;
    let ids: Vec<&str> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"p-anon") && ids.contains(&"p-open"), "{v}");
    assert!(!ids.contains(&"p-private"), "{v}");
    let anon = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "p-anon")
        .unwrap();
    assert!(anon["author"].is_null(), "{anon}");
    assert_eq!(anon["reports"], 0);
    let page = mary
        .get("/portal/mission/prayer")
        .await
        .text()
        .await
        .unwrap();
    assert!(!page.contains("Secret Person") && !page.contains("Other Member"));

    // A member's own post goes to the API as them and shows at once (the cache is cleared).
    let r = mary
        .post_json("/api/v1/mission/prayer", &json!({"body": "Please pray for my exams.", "visibility": "members", "anonymous": false}))
        .await;
    assert_eq!(r.status(), S::CREATED);
    let posted = fake.inner.lock().unwrap().posted[0].clone();
    assert_eq!(posted["author"], "M-1001");
    assert_eq!(posted["body"], "Please pray for my exams.");
    let v = body(mary.get("/api/v1/mission/prayer").await).await;
    assert!(
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["id"] == "p-new-0"),
        "{v}"
    );
    // Bad input never leaves Portico.
    let before = fake.calls("POST /prayer");
    let r = mary
        .post_json(
            "/api/v1/mission/prayer",
            &json!({"body": "  ", "visibility": "members"}),
        )
        .await;
    assert_eq!(r.status(), S::BAD_REQUEST);
    assert_eq!(fake.calls("POST /prayer"), before);

    // The API down: a notice, never a 500, and no other member's data.
    fake.inner.lock().unwrap().down = true;
    let r = mary.get("/api/v1/mission/giving?year=2025").await;
    assert_eq!(r.status(), S::UNPROCESSABLE_ENTITY);
    let t = r.text().await.unwrap();
    assert!(t.contains("not available right now"), "{t}");
    let r = mary.get("/portal/mission/giving?year=2025").await;
    assert_eq!(r.status(), S::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("not available right now"));
    assert_eq!(fake.inner.lock().unwrap().bad_auth, 0);
}
crate::db_test!(remote_source, remote_source_proxies_the_mission_api);

/// Another tenant's member never reaches grace's API, and grace's cached answers never reach
/// another tenant (the cache is keyed by tenant and member).
async fn remote_source_keeps_to_its_tenant(app: TestApp) {
    let fake = Fake::start().await;
    let pastor = app
        .api_login("grace", "pastor@grace.example", "admin")
        .await;
    let url = format!("http://{}/v1", fake.addr);
    let r = pastor
        .post_form(
            "/admin/mission/settings",
            &[
                ("currency", "USD"),
                ("source", "remote"),
                ("remote_url", &url),
                ("remote_key", KEY),
            ],
        )
        .await;
    assert!(r.status().is_redirection() || r.status() == S::OK);
    let mary = app.api_login("grace", "mary@grace.example", "portal").await;
    assert_eq!(mary.get("/api/v1/mission/giving").await.status(), S::OK);
    let calls = fake.inner.lock().unwrap().calls.len();
    // An MSP tenant's user has no Mission pages at all, and nothing reaches the API.
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    assert_eq!(
        bob.get("/api/v1/mission/giving").await.status(),
        S::NOT_FOUND
    );
    assert_eq!(fake.inner.lock().unwrap().calls.len(), calls);
    // A member cannot choose whose giving the API is asked for.
    let mark_id = app.user_id("grace", "mark@grace.example").await;
    let v = body(
        mary.get(&format!("/api/v1/mission/giving?member={mark_id}"))
            .await,
    )
    .await;
    assert!(
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|g| g["member_name"] == "Member mary@grace.example"),
        "{v}"
    );
}
crate::db_test!(remote_isolation, remote_source_keeps_to_its_tenant);

async fn households_count(app: &TestApp) -> i64 {
    sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM mission_households")
        .fetch_one(app.state.db.operator("test").reader())
        .await
        .unwrap()
}

/// On the remote source the church's own system keeps households: staff see a page saying so
/// (English and Spanish) instead of Portico's list, forms change nothing, members see a note in
/// place of the sharing choice and household statement, and the JSON answers 422; never a 404
/// or a 500.
async fn remote_households_are_the_church_systems(app: TestApp) {
    let fake = Fake::start().await;
    let pastor = app
        .api_login("grace", "pastor@grace.example", "admin")
        .await;
    let household: String = sqlx::query_scalar(
        "SELECT h.id FROM mission_households h JOIN tenants t ON t.id = h.tenant_id WHERE t.slug = 'grace' ORDER BY h.name LIMIT 1",
    )
    .fetch_one(app.state.db.operator("test").reader())
    .await
    .unwrap();
    let before = households_count(&app).await;
    // Built-in: Portico's list.
    let html = pastor
        .get("/admin/mission/households")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("id=\"admin-households\""), "{html}");

    let url = format!("http://{}/v1", fake.addr);
    let r = pastor
        .post_form(
            "/admin/mission/settings",
            &[
                ("currency", "USD"),
                ("source", "remote"),
                ("remote_url", &url),
                ("remote_key", KEY),
            ],
        )
        .await;
    assert!(r.status().is_redirection() || r.status() == S::OK);

    for path in [
        "/admin/mission/households".to_string(),
        format!("/admin/mission/households/{household}"),
    ] {
        let r = pastor.get(&path).await;
        assert_eq!(r.status(), S::OK, "{path}");
        let html = r.text().await.unwrap();
        assert!(
            html.contains("Households are managed in your church management system"),
            "{html}"
        );
        assert!(!html.contains("id=\"admin-households\"") && !html.contains("households-next"));
    }
    let es = pastor
        .client
        .get(app.url("/admin/mission/households"))
        .header("accept-language", "es")
        .send()
        .await
        .unwrap();
    assert_eq!(es.status(), S::OK);
    assert!(
        es.text()
            .await
            .unwrap()
            .contains("Los hogares se gestionan en el sistema de gestión de su iglesia")
    );
    // Forms change nothing and lead back to that page.
    let mark_id = app.user_id("grace", "mark@grace.example").await;
    for (path, fields) in [
        (
            "/admin/mission/households".to_string(),
            vec![("name", "The Newcomers")],
        ),
        (
            format!("/admin/mission/households/{household}"),
            vec![("name", "Renamed")],
        ),
        (
            format!("/admin/mission/households/{household}/members"),
            vec![("user_id", mark_id.as_str())],
        ),
        (
            format!("/admin/mission/households/{household}/delete"),
            vec![],
        ),
    ] {
        let r = pastor.post_form(&path, &fields).await;
        assert_eq!(r.status(), S::SEE_OTHER, "{path}");
        assert_eq!(
            r.headers()["location"].to_str().unwrap(),
            "/admin/mission/households"
        );
    }
    assert_eq!(households_count(&app).await, before);
    // Staff JSON: a clear refusal.
    for r in [
        pastor.get("/api/v1/admin/mission/households").await,
        pastor
            .post_json("/api/v1/admin/mission/households", &json!({"name": "X"}))
            .await,
        pastor
            .get(&format!("/api/v1/admin/mission/households/{household}"))
            .await,
    ] {
        assert_eq!(r.status(), S::UNPROCESSABLE_ENTITY);
        let v = body(r).await;
        assert!(v.to_string().contains("church management system"), "{v}");
    }

    // The member: a note on the giving page, no sharing form, no household statement.
    let mary = app.api_login("grace", "mary@grace.example", "portal").await;
    let r = mary.get("/portal/mission/giving").await;
    assert_eq!(r.status(), S::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains("id=\"household-remote\""), "{html}");
    assert!(!html.contains("id=\"share-statements\"") && !html.contains("household-statement.pdf"));
    let r = mary
        .get("/portal/mission/giving/household-statement.pdf?year=2025")
        .await;
    assert_eq!(r.status(), S::SEE_OTHER);
    assert_eq!(
        r.headers()["location"].to_str().unwrap(),
        "/portal/mission/giving#household"
    );
    let r = mary
        .post_form("/portal/mission/giving/sharing", &[("share", "1")])
        .await;
    assert_eq!(r.status(), S::SEE_OTHER);
    for r in [
        mary.get("/api/v1/mission/household").await,
        mary.put_json(
            "/api/v1/mission/household",
            &json!({"share_statements": true}),
        )
        .await,
    ] {
        assert_eq!(r.status(), S::UNPROCESSABLE_ENTITY);
    }
}
crate::db_test!(remote_households, remote_households_are_the_church_systems);
