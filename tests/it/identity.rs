//! Hub single sign-on (behaviour): accounts found, linked or created by a signed token, the
//! session it starts, the second factor, the tenant's "token updates name and role" option,
//! and the CLI that mints tokens.

use portico::identity::{self, HubClaims, demo::DEMO_HUB_SECRET};
use reqwest::{Client, StatusCode};
use serde_json::Value;

use crate::support::{TestApp, form_csrf};

/// A fresh token for `email` at `tenant`, as the Hub would sign it.
pub fn claims(tenant: &str, email: &str) -> HubClaims {
    identity::new_claims(tenant, email, identity::now_secs(), 120)
}

pub fn sign(c: &HubClaims) -> String {
    identity::mint(c, DEMO_HUB_SECRET.as_bytes()).expect("mint")
}

async fn follow(app: &TestApp, c: &Client, tenant: &str, token: &str) -> reqwest::Response {
    c.get(app.url(&format!("/auth/hub?tenant={tenant}&token={token}")))
        .send()
        .await
        .expect("hub request")
}

async fn me(app: &TestApp, c: &Client) -> Value {
    let r = c.get(app.url("/api/v1/me")).send().await.expect("me");
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.expect("me json")
}

async fn existing_user_signs_in_and_new_user_is_created(app: TestApp) {
    // An existing client user, linked by email within the company.
    let c = app.client();
    let mut t = claims("acme", "bob@globex.example");
    t.company = Some("Globex".into());
    let r = follow(&app, &c, "acme", &sign(&t)).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/portal/dashboard");
    let m = me(&app, &c).await;
    assert_eq!(m["user"]["email"], "bob@globex.example");
    assert_eq!(m["role"], "client_user");

    // A new person of Initech is created with the token's role and name; the company can be
    // named by its Portico id.
    let initech = app.company_id("acme", "Initech").await;
    let c = app.client();
    let mut t = claims("acme", "Nina@Initech.example");
    t.company = Some(initech.clone());
    t.role = Some("client_viewer".into());
    t.name = "Nina Newcomer".into();
    let r = follow(&app, &c, "acme", &sign(&t)).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let m = me(&app, &c).await;
    assert_eq!(m["user"]["email"], "nina@initech.example");
    assert_eq!(m["user"]["name"], "Nina Newcomer");
    assert_eq!(m["user"]["company_id"], initech.as_str());
    assert_eq!(m["role"], "client_viewer");

    // The form post (long tokens) works without a CSRF token or any cookie, from another site.
    let c = app.client();
    let mut t = claims("acme", "alice@globex.example");
    t.company = Some("Globex".into());
    let r = c
        .post(app.url("/auth/hub?tenant=acme"))
        .form(&[("token", sign(&t).as_str()), ("next", "/portal/tickets")])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/portal/tickets");
    assert_eq!(me(&app, &c).await["user"]["email"], "alice@globex.example");

    // Mission members need no company.
    let c = app.client();
    let r = follow(
        &app,
        &c,
        "grace",
        &sign(&claims("grace", "mary@grace.example")),
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/portal/mission/dashboard");

    let actions = app.audit_actions("acme").await;
    assert_eq!(
        actions
            .iter()
            .filter(|a| *a == "identity.hub_accepted")
            .count(),
        3
    );
    assert!(actions.iter().any(|a| a == "auth.login"));
}
crate::db_test!(
    existing_and_new_users,
    existing_user_signs_in_and_new_user_is_created
);

async fn accounts_the_token_cannot_use_are_refused(app: TestApp) {
    let c = app.client();
    // Another company's person.
    let mut t = claims("acme", "bob@globex.example");
    t.company = Some("Initech".into());
    let r = follow(&app, &c, "acme", &sign(&t)).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.unwrap().contains("cannot sign in here"));
    // Staff never sign in through the Hub, whatever the token says.
    let t = claims("acme", "staff@acme.example");
    let r = follow(&app, &c, "acme", &sign(&t)).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let mut t = claims("acme", "someone@globex.example");
    t.company = Some("Globex".into());
    t.role = Some("staff_admin".into());
    let r = follow(&app, &c, "acme", &sign(&t)).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // A client without a company.
    let r = follow(&app, &c, "acme", &sign(&claims("acme", "x@y.example"))).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Nothing was signed in, nothing was created, and each refusal was audited.
    let r = c.get(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM users WHERE email IN ('someone@globex.example', 'x@y.example')",
    )
    .fetch_one(app.state.db.operator("test").reader())
    .await
    .unwrap();
    assert_eq!(n, 0);
    let refused = app
        .audit_actions("acme")
        .await
        .into_iter()
        .filter(|a| a == "identity.hub_refused")
        .count();
    assert_eq!(refused, 4);
    // Northwind has no Hub secret: the page says so.
    let r = follow(
        &app,
        &c,
        "northwind",
        &sign(&claims("northwind", "carl@contoso.example")),
    )
    .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(r.text().await.unwrap().contains("not set up"));
}
crate::db_test!(refused_accounts, accounts_the_token_cannot_use_are_refused);

async fn two_step_sign_in_still_applies(app: TestApp) {
    // Bob turns on two-step sign-in with his password session.
    let (c, r) = app
        .form_login("acme", "bob@globex.example", "portico-demo", false)
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = c
        .get(app.url("/portal/profile/mfa"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let tag = "<code id=\"mfa-secret\" class=\"mfa-secret\">";
    let start = html.find(tag).unwrap() + tag.len();
    let secret = html[start..].split("</code>").next().unwrap().to_string();
    let code = totp_rs::TOTP::new(
        totp_rs::Algorithm::SHA1,
        6,
        1,
        30,
        totp_rs::Secret::Encoded(secret).to_bytes().unwrap(),
        None,
        "x".into(),
    )
    .unwrap()
    .generate_current()
    .unwrap();
    let r = c
        .post(app.url("/portal/profile/mfa/enable"))
        .form(&[
            ("_csrf", form_csrf(&html).as_str()),
            ("code", code.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // The Hub token leads to the code prompt, not into the portal.
    let hub = app.client();
    let mut t = claims("acme", "bob@globex.example");
    t.company = Some("Globex".into());
    let r = follow(&app, &hub, "acme", &sign(&t)).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/mfa")
    );
    let r = hub.get(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}
crate::db_test!(hub_then_totp, two_step_sign_in_still_applies);

async fn cli_mints_a_token_the_portal_accepts(app: TestApp) {
    let exe = env!("CARGO_BIN_EXE_portico");
    let out = std::process::Command::new(exe)
        .env_clear()
        .args([
            "sso",
            "token",
            "--tenant",
            "acme",
            "--email",
            "vera@globex.example",
        ])
        .args(["--company", "Globex", "--role", "client_viewer"])
        .env("PORTICO_DATABASE_URL", &app.state.config.database_url)
        .env("PORTICO_DATA_DIR", &app.data_dir)
        .env(
            "PORTICO_SECRET_KEY",
            "test-secret-key-that-is-long-enough-0123456789",
        )
        .output()
        .expect("run portico");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(String::from_utf8_lossy(&out.stderr).contains("/auth/hub?tenant=acme&token="));
    let c = app.client();
    let r = follow(&app, &c, "acme", &token).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(me(&app, &c).await["user"]["email"], "vera@globex.example");
    // Northwind has no secret: the command says so and fails.
    let out = std::process::Command::new(exe)
        .env_clear()
        .args([
            "sso",
            "token",
            "--tenant",
            "northwind",
            "--email",
            "carl@contoso.example",
        ])
        .env("PORTICO_DATABASE_URL", &app.state.config.database_url)
        .env("PORTICO_DATA_DIR", &app.data_dir)
        .env(
            "PORTICO_SECRET_KEY",
            "test-secret-key-that-is-long-enough-0123456789",
        )
        .output()
        .expect("run portico");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no Hub secret"));
}
crate::db_test!(cli_token, cli_mints_a_token_the_portal_accepts);

/// Staff of acme turn the identity options on (the form posts every checkbox it keeps on).
async fn set_options(app: &TestApp, options: &[&str]) {
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let mut fields: Vec<(&str, &str)> = options.iter().map(|o| (*o, "1")).collect();
    fields.push(("hub_audience", ""));
    fields.push(("hub_issuer", ""));
    let r = staff
        .post_form("/admin/integrations/identity", &fields)
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

/// Asks for a sign-in email for `email` at acme.
async fn ask(app: &TestApp, c: &Client, email: &str) -> reqwest::Response {
    let html = c
        .get(app.url("/login/email?tenant=acme"))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    c.post(app.url("/login/email"))
        .form(&[
            ("_csrf", form_csrf(&html).as_str()),
            ("email", email),
            ("next", ""),
        ])
        .send()
        .await
        .expect("ask")
}

/// The six-digit code in the newest mail to `to`.
async fn mailed_code(app: &TestApp, to: &str) -> String {
    let mail = app.last_mail_to(to).await;
    let at = mail.find("sign-in code is ").expect("code in mail") + 16;
    mail[at..at + 6].to_string()
}

async fn enter_code(app: &TestApp, c: &Client, email: &str, code: &str) -> reqwest::Response {
    let html = c
        .get(app.url("/login/email?tenant=acme"))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    c.post(app.url("/login/code"))
        .form(&[
            ("_csrf", form_csrf(&html).as_str()),
            ("email", email),
            ("code", code),
            ("next", "/portal/tickets"),
        ])
        .send()
        .await
        .expect("code")
}

async fn passwordless_codes_and_links(app: TestApp) {
    // Off by default: no page, no link on the login page.
    let c = app.client();
    let r = c
        .get(app.url("/login/email?tenant=acme"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let login = c
        .get(app.url("/login?tenant=acme"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!login.contains("/login/email"));

    set_options(&app, &["passwordless_link", "passwordless_code"]).await;
    let c = app.client();
    let login = c
        .get(app.url("/login?tenant=acme"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(login.contains("/login/email"));

    // A code: wrong first, then right, then the same code again.
    let r = ask(&app, &c, "Bob@Globex.example").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("one-time-code"));
    let code = mailed_code(&app, "bob@globex.example").await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let r = enter_code(&app, &c, "bob@globex.example", wrong).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = enter_code(&app, &c, "bob@globex.example", &code).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/portal/tickets");
    assert_eq!(me(&app, &c).await["user"]["email"], "bob@globex.example");
    let c2 = app.client();
    let r = enter_code(&app, &c2, "bob@globex.example", &code).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // A link: opening it only shows a button; the button signs in, once.
    let c = app.client();
    ask(&app, &c, "alice@globex.example").await;
    let mail = app.last_mail_to("alice@globex.example").await;
    let link = crate::support::link_in(&mail, &app.url("/login/link"));
    assert!(link.contains("/login/link?tenant=acme&token="), "{link}");
    let path = &link[link.find("/login/link").unwrap()..];
    let page = c.get(app.url(path)).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    let token = path.split("token=").nth(1).unwrap().to_string();
    let post = |c: Client, html: String, token: String| {
        let app = &app;
        async move {
            c.post(app.url("/login/link"))
                .form(&[
                    ("_csrf", form_csrf(&html).as_str()),
                    ("token", token.as_str()),
                    ("next", ""),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    let r = post(c.clone(), html.clone(), token.clone()).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/portal/dashboard");
    assert_eq!(me(&app, &c).await["user"]["email"], "alice@globex.example");
    let other = app.client();
    let html2 = other
        .get(app.url("/login/email?tenant=acme"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let r = post(other.clone(), html2, token.clone()).await;
    assert_eq!(r.status(), StatusCode::GONE);
    // Another tenant never accepts acme's link (northwind has passwordless off: no page).
    let r = other
        .get(app.url(&format!("/login/link?tenant=northwind&token={token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // Unknown people and staff get the same answer and no mail.
    let before = app.sent_mail().len();
    let r = ask(&app, &app.client(), "nobody@globex.example").await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = ask(&app, &app.client(), "staff@acme.example").await;
    assert_eq!(r.status(), StatusCode::OK);
    app.drain_jobs().await;
    assert_eq!(app.sent_mail().len(), before);

    let actions = app.audit_actions("acme").await;
    assert_eq!(
        actions
            .iter()
            .filter(|a| *a == "identity.passwordless_used")
            .count(),
        2
    );
    assert!(actions.iter().any(|a| a == "identity.passwordless_failed"));
}
crate::db_test!(passwordless, passwordless_codes_and_links);

async fn passwordless_codes_are_throttled_and_totp_follows(app: TestApp) {
    set_options(&app, &["passwordless_code"]).await;
    let c = app.client();
    ask(&app, &c, "vera@globex.example").await;
    let code = mailed_code(&app, "vera@globex.example").await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    // Five wrong codes, like five wrong passwords; the sixth try is refused even when right.
    for _ in 0..5 {
        let r = enter_code(&app, &c, "vera@globex.example", wrong).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let r = enter_code(&app, &c, "vera@globex.example", &code).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    // The password counter is the same one.
    let (_, r) = app
        .form_login("acme", "vera@globex.example", "portico-demo", false)
        .await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    // Link sign-in is off here.
    let r = c
        .get(app.url("/login/link?tenant=acme&token=x"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // With two-step sign-in on, a right code leads to the authenticator prompt.
    let (s, r) = app
        .form_login("acme", "alice@globex.example", "portico-demo", false)
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    enable_totp(&app, &s).await;
    let c = app.client();
    ask(&app, &c, "alice@globex.example").await;
    let code = mailed_code(&app, "alice@globex.example").await;
    let r = enter_code(&app, &c, "alice@globex.example", &code).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/mfa")
    );
    let r = c.get(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}
crate::db_test!(
    passwordless_throttle_and_totp,
    passwordless_codes_are_throttled_and_totp_follows
);

/// Turns on two-step sign-in for the signed-in client `c`.
async fn enable_totp(app: &TestApp, c: &Client) {
    let html = c
        .get(app.url("/portal/profile/mfa"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let tag = "<code id=\"mfa-secret\" class=\"mfa-secret\">";
    let start = html.find(tag).unwrap() + tag.len();
    let secret = html[start..].split("</code>").next().unwrap().to_string();
    let code = totp_rs::TOTP::new(
        totp_rs::Algorithm::SHA1,
        6,
        1,
        30,
        totp_rs::Secret::Encoded(secret).to_bytes().unwrap(),
        None,
        "x".into(),
    )
    .unwrap()
    .generate_current()
    .unwrap();
    let r = c
        .post(app.url("/portal/profile/mfa/enable"))
        .form(&[
            ("_csrf", form_csrf(&html).as_str()),
            ("code", code.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

async fn hub_bar_and_its_admin_page(app: TestApp) {
    // Only staff who manage integrations reach the page.
    let tech = app.api_login("acme", "tech@acme.example", "admin").await;
    assert_eq!(
        tech.get("/admin/integrations/identity").await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        tech.post_form(
            "/admin/integrations/identity/apps",
            &[
                ("name", "PSA"),
                ("url", "https://psa.example"),
                ("icon_url", "")
            ]
        )
        .await
        .status(),
        StatusCode::FORBIDDEN
    );
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    let r = bob.get("/admin/integrations/identity").await;
    assert!(matches!(
        r.status(),
        StatusCode::FORBIDDEN | StatusCode::SEE_OTHER | StatusCode::UNAUTHORIZED
    ));

    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let r = staff.get("/admin/integrations/identity").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("public demo secret"));
    // Only web addresses.
    let r = staff
        .post_form(
            "/admin/integrations/identity/apps",
            &[
                ("name", "Evil"),
                ("url", "javascript:alert(1)"),
                ("icon_url", ""),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = staff
        .post_form(
            "/admin/integrations/identity/apps",
            &[
                ("name", "Hub PSA"),
                ("url", "https://psa.acme.example/"),
                ("icon_url", "https://psa.acme.example/icon.png"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    // Off by default: the app is listed for staff but no bar on portal pages yet.
    let html = bob.get("/portal/dashboard").await.text().await.unwrap();
    assert!(!html.contains("class=\"hubbar\""));
    set_options(&app, &["hub_bar_enabled"]).await;
    let html = bob.get("/portal/dashboard").await.text().await.unwrap();
    assert!(html.contains("class=\"hubbar\""));
    assert!(html.contains("https://psa.acme.example/"));
    assert!(html.contains("Hub PSA"));
    // Other tenants see no bar of acme's.
    let carl = app
        .api_login("northwind", "carl@contoso.example", "portal")
        .await;
    let html = carl.get("/portal/dashboard").await.text().await.unwrap();
    assert!(!html.contains("class=\"hubbar\""));
    // Staff pages have no bar.
    let html = staff.get("/admin").await.text().await.unwrap();
    assert!(!html.contains("class=\"hubbar\""));

    // Another tenant's staff cannot remove acme's app.
    let id: String = sqlx::query_scalar("SELECT id FROM identity_hub_apps WHERE name = 'Hub PSA'")
        .fetch_one(app.state.db.operator("test").reader())
        .await
        .unwrap();
    let nora = app
        .api_login("northwind", "nora@northwind.example", "admin")
        .await;
    let r = nora
        .post_form(
            &format!("/admin/integrations/identity/apps/{id}/remove"),
            &[],
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = staff
        .post_form(
            &format!("/admin/integrations/identity/apps/{id}/remove"),
            &[],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = bob.get("/portal/dashboard").await.text().await.unwrap();
    assert!(!html.contains("Hub PSA"));
    let actions = app.audit_actions("acme").await;
    assert!(actions.iter().any(|a| a == "identity.hub_app_added"));
    assert!(actions.iter().any(|a| a == "identity.hub_app_removed"));
    assert!(actions.iter().any(|a| a == "identity.settings_changed"));
}
crate::db_test!(hub_bar, hub_bar_and_its_admin_page);

/// The Hub bar's single sign-on out: an app marked for it opens through Portico with a
/// one-minute token naming the person, their company and role, audience the app's origin;
/// the token is refused by Portico's own `/auth/hub`; plain apps get no token; another
/// tenant's users cannot open acme's apps.
async fn hub_bar_single_sign_on_out(app: TestApp) {
    set_options(&app, &["hub_bar_enabled"]).await;
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let r = staff
        .post_form(
            "/admin/integrations/identity/apps",
            &[
                ("name", "Hub PSA"),
                ("url", "https://psa.acme.example/start?from=portal"),
                ("icon_url", ""),
                ("sso", "1"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let id_of = |name: &'static str| {
        let db = app.state.db.clone();
        async move {
            sqlx::query_scalar::<_, String>(
                "SELECT a.id FROM identity_hub_apps a JOIN tenants t ON t.id = a.tenant_id \
                 WHERE t.slug = 'acme' AND a.name = $1",
            )
            .bind(name)
            .fetch_one(db.operator("test").reader())
            .await
            .unwrap()
        }
    };
    let psa = id_of("Hub PSA").await;
    let docs = id_of("Documentation").await;

    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    let html = bob.get("/portal/dashboard").await.text().await.unwrap();
    assert!(
        html.contains(&format!("href=\"/portal/hub/{psa}\"")),
        "{html}"
    );
    assert!(html.contains("href=\"https://docs.example/\""));

    let r = bob.get(&format!("/portal/hub/{psa}")).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    assert!(
        location.starts_with("https://psa.acme.example/start?from=portal&token="),
        "{location}"
    );
    let token = url::Url::parse(&location)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    // The app verifies it with the tenant's secret and its own origin as audience.
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    v.set_audience(&["https://psa.acme.example"]);
    let c = jsonwebtoken::decode::<HubClaims>(
        &token,
        &jsonwebtoken::DecodingKey::from_secret(DEMO_HUB_SECRET.as_bytes()).unwrap(),
        &v,
    )
    .expect("the app can verify the token")
    .claims;
    assert_eq!(c.email, "bob@globex.example");
    assert_eq!(c.tenant, "acme");
    assert_eq!(c.role.as_deref(), Some("client_user"));
    assert_eq!(c.org_type.as_deref(), Some("msp"));
    assert_eq!(
        c.company.as_deref(),
        Some(app.company_id("acme", "Globex").await.as_str())
    );
    assert!(c.exp - c.iat <= 60);
    assert_eq!(c.portico_app.as_deref(), Some(psa.as_str()));
    // Wrong audience: another app checking its own origin refuses it.
    let mut other = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    other.set_audience(&["https://docs.example"]);
    assert!(
        jsonwebtoken::decode::<HubClaims>(
            &token,
            &jsonwebtoken::DecodingKey::from_secret(DEMO_HUB_SECRET.as_bytes()).unwrap(),
            &other,
        )
        .is_err()
    );
    // The app cannot turn it into a Portico sign-in.
    let fresh = app.client();
    let r = follow(&app, &fresh, "acme", &token).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(
        app.audit_actions("acme")
            .await
            .contains(&"identity.hub_app_opened".to_string())
    );

    // A plain app: straight to its address, no token.
    let r = bob.get(&format!("/portal/hub/{docs}")).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "https://docs.example/");

    // Another tenant's user, and signed-out visitors, reach nothing.
    let carl = app
        .api_login("northwind", "carl@contoso.example", "portal")
        .await;
    let r = carl.get(&format!("/portal/hub/{psa}")).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = app
        .client()
        .get(app.url(&format!("/portal/hub/{psa}?tenant=acme")))
        .send()
        .await
        .unwrap();
    assert!(
        r.headers()
            .get("location")
            .is_none_or(|l| !l.to_str().unwrap().contains("token=")),
        "signed out"
    );
    assert_ne!(r.status(), StatusCode::OK);
    // With the bar off, no app opens.
    set_options(&app, &[]).await;
    assert_eq!(
        bob.get(&format!("/portal/hub/{psa}")).await.status(),
        StatusCode::NOT_FOUND
    );
}
crate::db_test!(hub_bar_sso, hub_bar_single_sign_on_out);
