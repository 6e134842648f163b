//! Sign-in, sessions, CSRF, throttling, reset and invitations.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{TestApp, form_csrf, link_in};

async fn form_sign_in_and_out(app: TestApp) {
    let (c, r) = app
        .form_login("acme", "alice@globex.example", "portico-demo", false)
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/portal/dashboard");
    let html = c
        .get(app.url("/portal/dashboard"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Welcome to Acme IT"));
    assert!(html.contains("aria-current=\"page\">Dashboard"));
    let csrf = form_csrf(&html);
    let r = c
        .post(app.url("/logout"))
        .form(&[("_csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = c.get(app.url("/portal/dashboard")).send().await.unwrap();
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "signed out session still works"
    );
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/login")
    );
    let actions = app.audit_actions("acme").await;
    assert!(
        actions.contains(&"auth.login".to_string()) && actions.contains(&"auth.logout".to_string()),
        "{actions:?}"
    );
}
crate::db_test!(form_sign_in, form_sign_in_and_out);

async fn mission_member_lands_on_mission_dashboard(app: TestApp) {
    let (c, r) = app
        .form_login("grace", "mary@grace.example", "portico-demo", false)
        .await;
    assert_eq!(r.headers()["location"], "/portal/mission/dashboard");
    let html = c
        .get(app.url("/portal/mission/dashboard"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for label in ["Giving", "Events", "Groups", "Directory", "Prayer Wall"] {
        assert!(html.contains(label), "{label} missing");
    }
    assert!(!html.contains(">Invoices<"));
    let r = c
        .get(app.url("/portal/mission/events"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // Events and groups are built now: no Mission tile leads to "coming soon" any more.
    assert!(!r.text().await.unwrap().contains("Coming soon"));
}
crate::db_test!(mission_member, mission_member_lands_on_mission_dashboard);

async fn failures_are_generic_and_throttled(app: TestApp) {
    let (_, wrong_pw) = app
        .form_login("acme", "alice@globex.example", "not-the-password", false)
        .await;
    assert_eq!(wrong_pw.status(), StatusCode::UNAUTHORIZED);
    let a = wrong_pw.text().await.unwrap();
    let (_, no_user) = app
        .form_login("acme", "nobody@globex.example", "not-the-password", false)
        .await;
    let b = no_user.text().await.unwrap();
    let msg = "That email and password do not match an account here.";
    assert!(a.contains(msg) && b.contains(msg));
    // A staff account cannot use the client sign-in, with the same message.
    let (_, staff) = app
        .form_login("acme", "staff@acme.example", "portico-demo", false)
        .await;
    assert!(staff.text().await.unwrap().contains(msg));

    for _ in 0..4 {
        app.form_login("acme", "bob@globex.example", "wrong-password!", false)
            .await;
    }
    let (_, r) = app
        .form_login("acme", "bob@globex.example", "wrong-password!", false)
        .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let (_, r) = app
        .form_login("acme", "bob@globex.example", "portico-demo", false)
        .await;
    assert_eq!(
        r.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "sixth attempt must be throttled even with the right password"
    );
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 0 && retry <= 900);
    assert!(r.text().await.unwrap().contains("Too many attempts"));
    // The API answers the same with JSON.
    let r = app
        .client()
        .post(app.url("/api/v1/auth/login?tenant=acme"))
        .json(&json!({"email": "bob@globex.example", "password": "portico-demo"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().get("retry-after").is_some());
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["code"], "rate_limited");
    let actions = app.audit_actions("acme").await;
    assert!(actions.iter().filter(|a| *a == "auth.login_failed").count() >= 7);
}
crate::db_test!(sign_in_failures, failures_are_generic_and_throttled);

async fn per_ip_throttle(app: TestApp) {
    for i in 0..20 {
        app.form_login(
            "acme",
            &format!("ghost{i}@example.com"),
            "wrong-password!",
            false,
        )
        .await;
    }
    let (_, r) = app
        .form_login("acme", "vera@globex.example", "portico-demo", false)
        .await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
}
crate::db_test!(ip_throttle, per_ip_throttle);

async fn csrf_is_required_for_cookie_writes(app: TestApp) {
    // Form without token.
    let c = app.client();
    c.get(app.url("/login?tenant=acme")).send().await.unwrap();
    let r = c
        .post(app.url("/login"))
        .form(&[
            ("email", "alice@globex.example"),
            ("password", "portico-demo"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Signed-in API write without the header.
    let s = app.api_login("acme", "staff@acme.example", "admin").await;
    let r = s
        .client
        .post(app.url("/api/v1/admin/companies"))
        .json(&json!({"name": "Hooli"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = s
        .client
        .post(app.url("/api/v1/admin/companies"))
        .header("x-csrf-token", "wrong")
        .json(&json!({"name": "Hooli"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = s
        .client
        .post(app.url("/api/v1/admin/companies"))
        .header("x-csrf-token", &s.csrf)
        .json(&json!({"name": "Hooli"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
}
crate::db_test!(csrf, csrf_is_required_for_cookie_writes);

async fn api_me_and_session_separation(app: TestApp) {
    let s = app
        .api_login("acme", "alice@globex.example", "portal")
        .await;
    let me: Value = s
        .client
        .get(app.url("/api/v1/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["user"]["email"], "alice@globex.example");
    assert_eq!(me["tenant"]["slug"], "acme");
    assert_eq!(me["org_type"], "msp");
    assert_eq!(me["role"], "client_admin");
    let nav: Vec<&str> = me["navigation"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["label"].as_str().unwrap())
        .collect();
    assert_eq!(
        nav,
        [
            "Dashboard",
            "Tickets",
            "Service Catalog",
            "Invoices",
            "Billing",
            "Documents",
            "Knowledge base",
            "Announcements",
            "Team",
            "Profile"
        ]
    );
    assert!(me["navigation"][0]["path"] == "/portal/dashboard");
    // A client session never reaches /admin.
    let r = s.client.get(app.url("/admin")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/admin/login")
    );
    let r = s
        .client
        .get(app.url("/api/v1/admin/users"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // A staff session is not a portal session.
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let r = staff
        .client
        .get(app.url("/api/v1/me"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = staff
        .client
        .get(app.url("/portal/dashboard"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let me: Value = staff
        .client
        .get(app.url("/api/v1/admin/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["role"], "staff_admin");
    // Viewer sees neither invoices (billing is the company admin's unless the tenant allows
    // more) nor team.
    let v = app.api_login("acme", "vera@globex.example", "portal").await;
    let labels: Vec<String> = v.me["navigation"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["label"].as_str().unwrap().to_string())
        .collect();
    assert!(!labels.contains(&"Invoices".to_string()) && !labels.contains(&"Team".to_string()));
    // Logout ends the session.
    let r = s
        .client
        .post(app.url("/api/v1/auth/logout"))
        .header("x-csrf-token", &s.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = s.client.get(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}
crate::db_test!(api_me, api_me_and_session_separation);

async fn new_token_at_every_sign_in(app: TestApp) {
    let a = app.api_login("acme", "bob@globex.example", "portal").await;
    let first = a.csrf.clone();
    let r = a
        .client
        .post(app.url("/api/v1/auth/login?tenant=acme"))
        .header("x-csrf-token", &first)
        .json(&json!({"email": "bob@globex.example", "password": "portico-demo"}))
        .send()
        .await
        .unwrap();
    let me: Value = r.json().await.unwrap();
    assert_ne!(
        me["csrf_token"].as_str().unwrap(),
        first,
        "session was not renewed"
    );
}
crate::db_test!(session_renewal, new_token_at_every_sign_in);

async fn forgot_and_reset_password(app: TestApp) {
    let c = app.client();
    let other = app.api_login("acme", "bob@globex.example", "portal").await;
    let page = c
        .get(app.url("/forgot-password?tenant=acme"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = form_csrf(&page);
    let known = c
        .post(app.url("/forgot-password"))
        .form(&[("_csrf", csrf.as_str()), ("email", "bob@globex.example")])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let unknown = c
        .post(app.url("/forgot-password"))
        .form(&[("_csrf", csrf.as_str()), ("email", "nobody@globex.example")])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let msg = "If an account exists for that address";
    assert!(known.contains(msg) && unknown.contains(msg));
    let mail = app.last_mail_to("bob@globex.example").await;
    assert!(mail.contains("Acme IT"), "mail is branded");
    let link = link_in(&mail, &app.url("/reset-password"));
    let token = link.split("token=").nth(1).unwrap().to_string();
    let page = c.get(&link).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.unwrap();
    let csrf = form_csrf(&page);
    // Mismatch keeps the user on the form with a field message.
    let r = c
        .post(app.url("/reset-password"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("token", token.as_str()),
            ("password", "a-brand-new-pass"),
            ("password_confirm", "different"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("do not match"));
    let r = c
        .post(app.url("/reset-password"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("token", token.as_str()),
            ("password", "a-brand-new-pass"),
            ("password_confirm", "a-brand-new-pass"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // Single use.
    let r = c
        .post(app.url("/reset-password"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("token", token.as_str()),
            ("password", "another-new-pass"),
            ("password_confirm", "another-new-pass"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // Old sessions ended, old password gone, new one works.
    assert_eq!(
        other
            .client
            .get(app.url("/api/v1/me"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );
    let (_, r) = app
        .form_login("acme", "bob@globex.example", "portico-demo", false)
        .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let (_, r) = app
        .form_login("acme", "bob@globex.example", "a-brand-new-pass", false)
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(
        app.audit_actions("acme")
            .await
            .contains(&"auth.password_reset".to_string())
    );
}
crate::db_test!(password_reset, forgot_and_reset_password);

async fn profile_password_change_ends_other_sessions(app: TestApp) {
    let other = app.api_login("acme", "vera@globex.example", "portal").await;
    let (c, _) = app
        .form_login("acme", "vera@globex.example", "portico-demo", false)
        .await;
    let page = c
        .get(app.url("/portal/profile"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = form_csrf(&page);
    let r = c
        .post(app.url("/portal/profile"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("current_password", "wrong"),
            ("password", "vera-new-password"),
            ("password_confirm", "vera-new-password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("not your current password")
    );
    let r = c
        .post(app.url("/portal/profile"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("current_password", "portico-demo"),
            ("password", "vera-new-password"),
            ("password_confirm", "vera-new-password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        c.get(app.url("/portal/profile"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK,
        "current session survives"
    );
    assert_eq!(
        other
            .client
            .get(app.url("/api/v1/me"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert!(
        app.audit_actions("acme")
            .await
            .contains(&"auth.password_changed".to_string())
    );
}
crate::db_test!(password_change, profile_password_change_ends_other_sessions);

async fn invitation_flow(app: TestApp) {
    let s = app.api_login("acme", "staff@acme.example", "admin").await;
    let globex = app.company_id("acme", "Globex").await;
    let r = s.client.post(app.url("/api/v1/admin/users")).header("x-csrf-token", &s.csrf)
        .json(&json!({"email": "Nina@Globex.example", "name": "Nina New", "role": "client_user", "company_id": globex})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let u: Value = r.json().await.unwrap();
    assert_eq!(u["status"], "invited");
    assert_eq!(u["email"], "nina@globex.example");
    // Same email again: conflict with a field message.
    let r = s.client.post(app.url("/api/v1/admin/users")).header("x-csrf-token", &s.csrf)
        .json(&json!({"email": "nina@globex.example", "name": "Nina", "role": "client_user", "company_id": globex})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let mail = app.last_mail_to("nina@globex.example").await;
    let link = link_in(&mail, &app.url("/invite/accept"));
    let c = app.client();
    let page = c.get(&link).send().await.unwrap().text().await.unwrap();
    let token = link.split("token=").nth(1).unwrap().to_string();
    let csrf = form_csrf(&page);
    let r = c
        .post(app.url("/invite/accept"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("token", token.as_str()),
            ("name", "Nina N."),
            ("password", "nina-password-1"),
            ("password_confirm", "nina-password-1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, r) = app
        .form_login("acme", "nina@globex.example", "nina-password-1", false)
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let actions = app.audit_actions("acme").await;
    assert!(
        actions.contains(&"user.invited".to_string())
            && actions.contains(&"user.invite_accepted".to_string())
    );
}
crate::db_test!(invitations, invitation_flow);

async fn role_change_and_deactivation_end_sessions(app: TestApp) {
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    let bob_id = app.user_id("acme", "bob@globex.example").await;
    let r = staff
        .client
        .patch(app.url(&format!("/api/v1/admin/users/{bob_id}")))
        .header("x-csrf-token", &staff.csrf)
        .json(&json!({"role": "client_viewer"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let u: Value = r.json().await.unwrap();
    assert_eq!(u["role"], "client_viewer");
    assert_eq!(
        bob.client
            .get(app.url("/api/v1/me"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );
    // A client role cannot become a staff role.
    let r = staff
        .client
        .patch(app.url(&format!("/api/v1/admin/users/{bob_id}")))
        .header("x-csrf-token", &staff.csrf)
        .json(&json!({"role": "staff_admin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let alice = app
        .api_login("acme", "alice@globex.example", "portal")
        .await;
    let alice_id = app.user_id("acme", "alice@globex.example").await;
    let r = staff
        .client
        .patch(app.url(&format!("/api/v1/admin/users/{alice_id}")))
        .header("x-csrf-token", &staff.csrf)
        .json(&json!({"status": "deactivated"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        alice
            .client
            .get(app.url("/api/v1/me"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );
    let (_, r) = app
        .form_login("acme", "alice@globex.example", "portico-demo", false)
        .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // The last staff admin cannot be removed, and nobody deactivates themself.
    let me_id = app.user_id("acme", "staff@acme.example").await;
    let r = staff
        .client
        .patch(app.url(&format!("/api/v1/admin/users/{me_id}")))
        .header("x-csrf-token", &staff.csrf)
        .json(&json!({"status": "deactivated"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let actions = app.audit_actions("acme").await;
    assert!(
        actions.contains(&"user.role_changed".to_string())
            && actions.contains(&"user.deactivated".to_string())
    );
    // The chain verifies.
    let scope = portico::demo::operator_scope(&app.state.db, "acme")
        .await
        .unwrap();
    assert_eq!(
        portico::audit::verify(&app.state.db, &scope).await.unwrap(),
        None
    );
}
crate::db_test!(
    role_and_deactivation,
    role_change_and_deactivation_end_sessions
);
