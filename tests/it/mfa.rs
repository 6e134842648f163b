//! Two-step sign-in: enrolment, the code prompt, recovery codes, throttling, disabling, the
//! API login, and the tenant requirement.

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use totp_rs::{Algorithm, Secret, TOTP};

use crate::support::{TestApp, form_csrf};

async fn text(c: &Client, app: &TestApp, path: &str) -> String {
    c.get(app.url(path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

fn between<'a>(html: &'a str, start: &str, end: &str) -> &'a str {
    let i = html
        .find(start)
        .unwrap_or_else(|| panic!("{start} in {html}"))
        + start.len();
    let j = html[i..].find(end).unwrap() + i;
    &html[i..j]
}

fn code_at(secret: &str, offset: i64) -> String {
    let t = TOTP::new(
        Algorithm::SHA1,
        6,
        1,
        30,
        Secret::Encoded(secret.to_string()).to_bytes().unwrap(),
        None,
        "x".into(),
    )
    .unwrap();
    let now = chrono::Utc::now().timestamp() + offset;
    t.generate(now as u64)
}

/// Enrols the signed-in client `c` under `base`; returns (secret, recovery codes).
async fn enrol(c: &Client, app: &TestApp, base: &str) -> (String, Vec<String>) {
    let html = text(c, app, base).await;
    assert!(html.contains("src=\"data:image/png;base64,"), "{html}");
    let secret = between(
        &html,
        "<code id=\"mfa-secret\" class=\"mfa-secret\">",
        "</code>",
    )
    .to_string();
    let csrf = form_csrf(&html);
    // A wrong code does not enable anything.
    let r = c
        .post(app.url(&format!("{base}/enable")))
        .form(&[("_csrf", csrf.as_str()), ("code", "000000")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // Reloading keeps the same secret until enrolment finishes.
    let again = text(c, app, base).await;
    assert!(again.contains(&secret));
    let r = c
        .post(app.url(&format!("{base}/enable")))
        .form(&[("_csrf", csrf.as_str()), ("code", &code_at(&secret, 0))])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    let list = between(
        &html,
        "<ul class=\"recovery-codes\" id=\"recovery-codes\">",
        "</ul>",
    );
    let codes: Vec<String> = list
        .split("<code>")
        .skip(1)
        .map(|s| s.split("</code>").next().unwrap().to_string())
        .collect();
    assert_eq!(codes.len(), 10);
    (secret, codes)
}

async fn sign_in_to_code_prompt(app: &TestApp, email: &str, admin: bool) -> (Client, String) {
    let (c, r) = app.form_login("acme", email, "portico-demo", admin).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()["location"].to_str().unwrap().to_string();
    assert!(to.starts_with("/mfa"), "{to}");
    // No session yet: the portal still wants a sign-in.
    let r = c.get(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let html = text(&c, app, &to).await;
    (c, form_csrf(&html))
}

async fn enrol_sign_in_recover_disable(app: TestApp) {
    let (c, _) = app
        .form_login("acme", "bob@globex.example", "portico-demo", false)
        .await;
    let (secret, codes) = enrol(&c, &app, "/portal/profile/mfa").await;
    let stored: String = {
        use sqlx::Row;
        sqlx::query("SELECT mfa_secret FROM users WHERE email = 'bob@globex.example'")
            .fetch_one(app.state.db.operator("test").reader())
            .await
            .unwrap()
            .get("mfa_secret")
    };
    assert!(!stored.contains(&secret), "the secret is stored sealed");

    // Sign-in now asks for a code; a wrong one is refused.
    let (c2, csrf) = sign_in_to_code_prompt(&app, "bob@globex.example", false).await;
    let r = c2
        .post(app.url("/mfa"))
        .form(&[("_csrf", csrf.as_str()), ("code", "123456"), ("next", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // The enrolment code cannot be replayed; the next one works.
    let r = c2
        .post(app.url("/mfa"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("code", &code_at(&secret, 30)),
            ("next", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/portal/dashboard");
    let r = c2.get(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    // A recovery code works once.
    let (c3, csrf) = sign_in_to_code_prompt(&app, "bob@globex.example", false).await;
    let r = c3
        .post(app.url("/mfa"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("code", codes[0].as_str()),
            ("next", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (c4, csrf) = sign_in_to_code_prompt(&app, "bob@globex.example", false).await;
    let r = c4
        .post(app.url("/mfa"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("code", codes[0].as_str()),
            ("next", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // Regenerating and disabling need the password.
    let html = text(&c, &app, "/portal/profile/mfa").await;
    assert!(html.contains("9 unused recovery codes"), "{html}");
    let csrf = form_csrf(&html);
    let r = c
        .post(app.url("/portal/profile/mfa/recovery"))
        .form(&[("_csrf", csrf.as_str()), ("password", "wrong")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = c
        .post(app.url("/portal/profile/mfa/recovery"))
        .form(&[("_csrf", csrf.as_str()), ("password", "portico-demo")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("recovery-codes"));
    // Old codes died with the regeneration.
    let (c5, csrf5) = sign_in_to_code_prompt(&app, "bob@globex.example", false).await;
    let r = c5
        .post(app.url("/mfa"))
        .form(&[
            ("_csrf", csrf5.as_str()),
            ("code", codes[1].as_str()),
            ("next", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    let r = c
        .post(app.url("/portal/profile/mfa/disable"))
        .form(&[("_csrf", csrf.as_str()), ("password", "wrong")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = c
        .post(app.url("/portal/profile/mfa/disable"))
        .form(&[("_csrf", csrf.as_str()), ("password", "portico-demo")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, r) = app
        .form_login("acme", "bob@globex.example", "portico-demo", false)
        .await;
    assert_eq!(r.headers()["location"], "/portal/dashboard");

    let actions = app.audit_actions("acme").await;
    for a in [
        "mfa.enabled",
        "auth.mfa_failed",
        "mfa.recovery_codes_regenerated",
        "mfa.disabled",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a}");
    }
}
crate::db_test!(mfa_enrol_and_sign_in, enrol_sign_in_recover_disable);

async fn wrong_codes_are_throttled_and_api_login_needs_code(app: TestApp) {
    let (c, _) = app
        .form_login("acme", "vera@globex.example", "portico-demo", false)
        .await;
    let (secret, _) = enrol(&c, &app, "/portal/profile/mfa").await;

    // API: password alone → 401 mfa_required; a code in the same call signs in.
    let api = app.client();
    let r = api
        .post(app.url("/api/v1/auth/login?tenant=acme"))
        .json(&json!({"email": "vera@globex.example", "password": "portico-demo"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "mfa_required");
    let r = api
        .post(app.url("/api/v1/auth/login?tenant=acme"))
        .json(&json!({"email": "vera@globex.example", "password": "wrong", "code": code_at(&secret, 30)}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = api
        .post(app.url("/api/v1/auth/login?tenant=acme"))
        .json(&json!({"email": "vera@globex.example", "password": "portico-demo", "code": code_at(&secret, 30)}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    // Five wrong codes, then even the right one waits.
    let (c2, csrf) = sign_in_to_code_prompt(&app, "vera@globex.example", false).await;
    for _ in 0..5 {
        let r = c2
            .post(app.url("/mfa"))
            .form(&[("_csrf", csrf.as_str()), ("code", "999999"), ("next", "")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let r = c2
        .post(app.url("/mfa"))
        .form(&[("_csrf", csrf.as_str()), ("code", "111111"), ("next", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    // Without the pending cookie the code page sends you back to sign in.
    let r = app
        .client()
        .get(app.url("/mfa?tenant=acme"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}
crate::db_test!(
    mfa_throttle_and_api,
    wrong_codes_are_throttled_and_api_login_needs_code
);

async fn tenant_requirement_forces_enrolment(app: TestApp) {
    let (staff, _) = app
        .form_login("acme", "staff@acme.example", "portico-demo", true)
        .await;
    let html = text(&staff, &app, "/admin").await;
    assert!(html.contains("/admin/security"), "nav entry");
    let html = text(&staff, &app, "/admin/security").await;
    let csrf = form_csrf(&html);
    let r = staff
        .post(app.url("/admin/security"))
        .form(&[("_csrf", csrf.as_str()), ("require_client_admins", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(
        text(&staff, &app, "/admin/security")
            .await
            .contains("name=\"require_client_admins\" value=\"1\" checked")
    );
    // Staff are not covered: the admin panel still works.
    assert_eq!(
        staff
            .get(app.url("/admin/users"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    // Company admins and their pages are fenced to enrolment; bob (a user) is not.
    let (alice, r) = app
        .form_login("acme", "alice@globex.example", "portico-demo", false)
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    for path in ["/portal/dashboard", "/portal/team", "/portal/profile"] {
        let r = alice.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(r.headers()["location"], "/portal/profile/mfa");
    }
    let r = alice.get(app.url("/api/v1/team")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let (bob, _) = app
        .form_login("acme", "bob@globex.example", "portico-demo", false)
        .await;
    assert_eq!(
        bob.get(app.url("/portal/dashboard"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let html = text(&alice, &app, "/portal/profile/mfa").await;
    assert!(html.contains("requires two-step sign-in"));
    enrol(&alice, &app, "/portal/profile/mfa").await;
    assert_eq!(
        alice
            .get(app.url("/portal/dashboard"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    // Covered users cannot turn it off again.
    let html = text(&alice, &app, "/portal/profile/mfa").await;
    let csrf = form_csrf(&html);
    let r = alice
        .post(app.url("/portal/profile/mfa/disable"))
        .form(&[("_csrf", csrf.as_str()), ("password", "portico-demo")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // Technicians may not change the policy.
    let (tech, _) = app
        .form_login("acme", "tech@acme.example", "portico-demo", true)
        .await;
    assert_eq!(
        tech.get(app.url("/admin/security"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
    assert!(
        app.audit_actions("acme")
            .await
            .contains(&"security.mfa_policy_changed".to_string())
    );
}
crate::db_test!(mfa_tenant_requirement, tenant_requirement_forces_enrolment);
