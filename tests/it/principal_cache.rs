//! The per-node principal cache: a cached session stops working on every node the moment it
//! ends, and changes to what a principal carries show on the next request.

use std::time::{Duration, Instant};

use reqwest::{Client, StatusCode, header};
use serde_json::{Value, json};

use crate::support::{Db, TestApp, form_csrf};

/// A session held by hand (token and CSRF), so it can be replayed against any node even
/// after the server told the browser to forget the cookie.
struct Raw {
    http: Client,
    cookie: String,
    csrf: String,
}

impl Raw {
    async fn login(app: &TestApp, email: &str, audience: &str) -> Raw {
        let http = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let r = http
            .post(app.url("/api/v1/auth/login?tenant=acme"))
            .json(&json!({ "email": email, "password": "portico-demo", "audience": audience }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let name = if audience == "admin" {
            "portico_admin="
        } else {
            "portico_portal="
        };
        let cookie = r
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(name))
            .and_then(|v| v.split(';').next())
            .expect("session cookie")
            .to_string();
        let me: Value = r.json().await.unwrap();
        Raw {
            http,
            cookie,
            csrf: me["csrf_token"].as_str().unwrap().to_string(),
        }
    }

    async fn me(&self, app: &TestApp) -> (StatusCode, Value) {
        let r = self
            .http
            .get(app.url("/api/v1/me"))
            .header(header::COOKIE, &self.cookie)
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn send(&self, app: &TestApp, method: &str, path: &str, body: Value) -> StatusCode {
        self.http
            .request(method.parse().unwrap(), app.url(path))
            .header(header::COOKIE, &self.cookie)
            .header("x-csrf-token", &self.csrf)
            .json(&body)
            .send()
            .await
            .unwrap()
            .status()
    }

    async fn form(&self, app: &TestApp, path: &str, fields: &[(&str, &str)]) -> StatusCode {
        let mut all = vec![("_csrf", self.csrf.as_str())];
        all.extend_from_slice(fields);
        self.http
            .post(app.url(path))
            .header(header::COOKIE, &self.cookie)
            .form(&all)
            .send()
            .await
            .unwrap()
            .status()
    }

    /// Uses the session on `app` until it is served from that node's cache.
    async fn warm(&self, app: &TestApp) {
        let before = app.state.db.principals().stats().0;
        for _ in 0..3 {
            assert_eq!(self.me(app).await.0, StatusCode::OK);
        }
        assert!(
            app.state.db.principals().stats().0 > before,
            "the session is served from the cache"
        );
    }
}

/// Polls `app` until the session is refused; returns how long that took.
async fn refused_within(s: &Raw, app: &TestApp, limit: Duration) -> Duration {
    let start = Instant::now();
    loop {
        if s.me(app).await.0 == StatusCode::UNAUTHORIZED {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < limit,
            "session still accepted after {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Two nodes on one PostgreSQL: node B caches a session, node A ends it in each of the ways
/// a session can end, and B refuses it within a second.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ended_session_is_refused_on_the_other_node_within_a_second() {
    let Some(a) = TestApp::spawn(Db::Postgres).await else {
        return;
    };
    let b = a.spawn_peer().await;
    let second = Duration::from_secs(1);

    // Sign-out on A.
    let bob = Raw::login(&a, "bob@globex.example", "portal").await;
    bob.warm(&b).await;
    assert_eq!(
        bob.send(&a, "POST", "/api/v1/auth/logout", json!({})).await,
        StatusCode::NO_CONTENT
    );
    refused_within(&bob, &b, second).await;

    // One session ended from the profile of another session on A.
    let alice1 = Raw::login(&a, "alice@globex.example", "portal").await;
    let alice2 = Raw::login(&a, "alice@globex.example", "portal").await;
    alice2.warm(&b).await;
    let html = alice1
        .http
        .get(a.url("/portal/profile"))
        .header(header::COOKIE, &alice1.cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let start = html
        .find("/portal/profile/sessions/")
        .expect("session list");
    let path = html[start..].split('"').next().unwrap().to_string();
    assert_eq!(alice1.form(&a, &path, &[]).await, StatusCode::SEE_OTHER);
    refused_within(&alice2, &b, second).await;
    // "Sign out everywhere else".
    let alice3 = Raw::login(&a, "alice@globex.example", "portal").await;
    alice3.warm(&b).await;
    assert_eq!(
        alice1
            .form(&a, "/portal/profile/sessions/others", &[])
            .await,
        StatusCode::SEE_OTHER
    );
    refused_within(&alice3, &b, second).await;
    assert_eq!(
        alice1.me(&b).await.0,
        StatusCode::OK,
        "the acting session stays"
    );

    // Staff deactivate the user on A.
    let staff = Raw::login(&a, "staff@acme.example", "admin").await;
    let vera = Raw::login(&a, "vera@globex.example", "portal").await;
    vera.warm(&b).await;
    let vera_id = a.user_id("acme", "vera@globex.example").await;
    assert_eq!(
        alice1
            .send(
                &a,
                "PATCH",
                &format!("/api/v1/team/{vera_id}"),
                json!({"status": "deactivated"}),
            )
            .await,
        StatusCode::OK
    );
    refused_within(&vera, &b, second).await;

    // A company rename on A shows on B's next requests within the second, without a sign-in.
    let bob = Raw::login(&a, "bob@globex.example", "portal").await;
    bob.warm(&b).await;
    let globex = a.company_id("acme", "Globex").await;
    assert_eq!(
        staff
            .send(
                &a,
                "PATCH",
                &format!("/api/v1/admin/companies/{globex}"),
                json!({"name": "Globex Renamed"}),
            )
            .await,
        StatusCode::OK
    );
    let start = Instant::now();
    loop {
        let (status, me) = bob.me(&b).await;
        assert_eq!(status, StatusCode::OK);
        if me["user"]["company_name"] == "Globex Renamed" {
            break;
        }
        assert!(start.elapsed() < second, "rename not seen on B: {me}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// On one node, changes take effect on the very next request although the session is cached.
async fn changes_apply_on_the_next_request(app: TestApp) {
    // Deactivation by the company admin.
    let alice = Raw::login(&app, "alice@globex.example", "portal").await;
    let vera = Raw::login(&app, "vera@globex.example", "portal").await;
    vera.warm(&app).await;
    let vera_id = app.user_id("acme", "vera@globex.example").await;
    assert_eq!(
        alice
            .send(
                &app,
                "PATCH",
                &format!("/api/v1/team/{vera_id}"),
                json!({"status": "deactivated"}),
            )
            .await,
        StatusCode::OK
    );
    assert_eq!(vera.me(&app).await.0, StatusCode::UNAUTHORIZED);

    // Role change.
    let bob = Raw::login(&app, "bob@globex.example", "portal").await;
    bob.warm(&app).await;
    let bob_id = app.user_id("acme", "bob@globex.example").await;
    assert_eq!(
        alice
            .send(
                &app,
                "PATCH",
                &format!("/api/v1/team/{bob_id}"),
                json!({"role": "client_viewer"}),
            )
            .await,
        StatusCode::OK
    );
    assert_eq!(bob.me(&app).await.0, StatusCode::UNAUTHORIZED);

    // Password change: the other session ends, the acting one stays.
    let bob1 = Raw::login(&app, "bob@globex.example", "portal").await;
    let bob2 = Raw::login(&app, "bob@globex.example", "portal").await;
    bob1.warm(&app).await;
    bob2.warm(&app).await;
    assert_eq!(
        bob1.form(
            &app,
            "/portal/profile",
            &[
                ("current_password", "portico-demo"),
                ("password", "bob-new-password-1"),
                ("password_confirm", "bob-new-password-1"),
            ],
        )
        .await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(bob2.me(&app).await.0, StatusCode::UNAUTHORIZED);
    let (status, me) = bob1.me(&app).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["role"], "client_viewer", "the new role is read");

    // Profile language: the next page is in Spanish.
    let html = bob1
        .http
        .get(app.url("/portal/profile"))
        .header(header::COOKIE, &bob1.cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(form_csrf(&html), bob1.csrf);
    assert_eq!(
        bob1.form(
            &app,
            "/portal/profile/details",
            &[
                ("name", "Bob"),
                ("phone", ""),
                ("job_title", ""),
                ("language", "es"),
                ("time_zone", ""),
            ],
        )
        .await,
        StatusCode::SEE_OTHER
    );
    let html = bob1
        .http
        .get(app.url("/portal/profile"))
        .header(header::COOKIE, &bob1.cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("lang=\"es\""),
        "{}",
        &html[..html.len().min(400)]
    );

    // Sign-out ends the cached session on this node too.
    assert_eq!(
        alice
            .send(&app, "POST", "/api/v1/auth/logout", json!({}))
            .await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(alice.me(&app).await.0, StatusCode::UNAUTHORIZED);
}
crate::db_test!(principal_cache_changes, changes_apply_on_the_next_request);

/// Switching company and losing the active company's membership change what a cached
/// session's principal carries: the very next request shows the new company and role.
async fn membership_changes_apply_on_the_next_request(app: TestApp) {
    let globex = app.company_id("acme", "Globex").await;
    let initech = app.company_id("acme", "Initech").await;
    let cora = Raw::login(&app, "cora@consulting.example", "portal").await;
    cora.warm(&app).await;
    let (_, m) = cora.me(&app).await;
    assert_eq!(m["user"]["company_id"], initech.as_str(), "{m}");
    assert_eq!(
        cora.send(
            &app,
            "POST",
            "/api/v1/me/company",
            json!({ "company_id": globex })
        )
        .await,
        StatusCode::NO_CONTENT
    );
    let (_, m) = cora.me(&app).await;
    assert_eq!(m["user"]["company_id"], globex.as_str(), "switched: {m}");
    assert_eq!(m["role"], "client_user");
    // Cached again in Globex; then staff take her out of Globex: back home at once.
    cora.warm(&app).await;
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let cora_id = app.user_id("acme", "cora@consulting.example").await;
    let r = staff
        .post_form(
            &format!("/admin/companies/{globex}/members/remove"),
            &[("user_id", &cora_id)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (status, m) = cora.me(&app).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(m["user"]["company_id"], initech.as_str(), "home again: {m}");
    assert_eq!(m["role"], "client_admin");
    assert_eq!(m["memberships"].as_array().map(Vec::len), Some(1), "{m}");
    // Added again by staff: the header's switcher returns on the next page.
    let r = staff
        .post_form(
            &format!("/admin/companies/{globex}/members"),
            &[
                ("email", "cora@consulting.example"),
                ("role", "client_user"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let page = cora
        .http
        .get(app.url("/portal/dashboard"))
        .header(header::COOKIE, &cora.cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("company-switch"), "switcher after the add");
}
crate::db_test!(
    principal_cache_membership_changes,
    membership_changes_apply_on_the_next_request
);

/// Two nodes on one PostgreSQL: a switch made on node A shows on node B, which had the
/// session cached in the old company, within a second.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switch_applies_on_the_other_node_within_a_second() {
    let Some(a) = TestApp::spawn(Db::Postgres).await else {
        return;
    };
    let b = a.spawn_peer().await;
    let globex = a.company_id("acme", "Globex").await;
    let cora = Raw::login(&a, "cora@consulting.example", "portal").await;
    cora.warm(&b).await;
    assert_eq!(
        cora.send(
            &a,
            "POST",
            "/api/v1/me/company",
            json!({ "company_id": globex })
        )
        .await,
        StatusCode::NO_CONTENT
    );
    let start = Instant::now();
    loop {
        let (_, m) = cora.me(&b).await;
        if m["user"]["company_id"] == globex.as_str() {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "node B still serves the old company: {m}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
