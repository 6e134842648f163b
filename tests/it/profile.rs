//! The own profile: details, notification preferences, sessions.

use reqwest::StatusCode;

use crate::support::{TestApp, form_csrf};

async fn page(c: &reqwest::Client, app: &TestApp, path: &str) -> String {
    c.get(app.url(path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn profile_details_and_preferences(app: TestApp) {
    let (c, _) = app
        .form_login("acme", "bob@globex.example", "portico-demo", false)
        .await;
    let html = page(&c, &app, "/portal/profile").await;
    let csrf = form_csrf(&html);
    // Invalid input is refused field by field and nothing is stored.
    let r = c
        .post(app.url("/portal/profile/details"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("name", ""),
            ("phone", "call me maybe"),
            ("job_title", "Engineer"),
            ("time_zone", "Mars/Olympus"),
            ("language", "tlh"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body = r.text().await.unwrap();
    for msg in [
        "Enter your name",
        "Enter a phone number",
        "Choose a time zone",
        "Choose one of the listed languages",
    ] {
        assert!(body.contains(msg), "{msg}");
    }
    let r = c
        .post(app.url("/portal/profile/details"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("name", "Bob Builder"),
            ("phone", "+49 30 1234567"),
            ("job_title", "Site engineer"),
            ("time_zone", "Europe/Berlin"),
            ("language", "de"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = page(&c, &app, "/portal/profile").await;
    assert!(html.contains("value=\"Bob Builder\""));
    assert!(html.contains("value=\"Site engineer\""));
    assert!(html.contains("<option value=\"Europe/Berlin\" selected>"));
    assert!(html.contains("<option value=\"de\" selected>"));

    // Notification preferences: on by default, unchecked boxes turn them off.
    let scope_user = app.user_id("acme", "bob@globex.example").await;
    let tenant = portico::tenancy::store::by_slug(&app.state.db, "acme")
        .await
        .unwrap()
        .unwrap();
    let uid = portico::auth::UserId(scope_user);
    let prefs = portico::profile::prefs_for(&app.state.db, &tenant.scope(), &uid)
        .await
        .unwrap();
    assert_eq!(prefs, portico::profile::NotificationPrefs::default());
    assert!(prefs.ticket_replies && prefs.signature_requests);
    let r = c
        .post(app.url("/portal/profile/notifications"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("ticket_replies", "1"),
            ("signature_requests", "1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let prefs = portico::profile::prefs_for(&app.state.db, &tenant.scope(), &uid)
        .await
        .unwrap();
    assert!(prefs.ticket_replies && prefs.signature_requests);
    assert!(!prefs.status_changes && !prefs.announcements);

    let actions = app.audit_actions("acme").await;
    assert!(actions.contains(&"profile.updated".to_string()));
    assert!(actions.contains(&"profile.notifications_changed".to_string()));

    // The staff profile works the same.
    let (s, _) = app
        .form_login("acme", "tech@acme.example", "portico-demo", true)
        .await;
    let html = page(&s, &app, "/admin/profile").await;
    assert!(html.contains("/admin/profile/details"), "{html}");
    let csrf = form_csrf(&html);
    let r = s
        .post(app.url("/admin/profile/details"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("name", "Terry Tech"),
            ("phone", ""),
            ("job_title", "Technician"),
            ("time_zone", "UTC"),
            ("language", "nl"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // A portal session cannot post to the admin profile.
    let r = c
        .post(app.url("/admin/profile/details"))
        .form(&[("_csrf", "x"), ("name", "Hacker")])
        .send()
        .await
        .unwrap();
    assert!(r.status() == StatusCode::FORBIDDEN || r.status() == StatusCode::UNAUTHORIZED);
}
crate::db_test!(profile_details, profile_details_and_preferences);

async fn sessions_can_be_listed_and_ended(app: TestApp) {
    let other1 = app
        .api_login("acme", "alice@globex.example", "portal")
        .await;
    let other2 = app
        .api_login("acme", "alice@globex.example", "portal")
        .await;
    let (c, _) = app
        .form_login("acme", "alice@globex.example", "portico-demo", false)
        .await;
    let html = page(&c, &app, "/portal/profile").await;
    assert!(html.contains("This session"));
    assert_eq!(html.matches("/sessions/").count(), 3, "{html}");
    // Demo profile fields are filled in.
    assert!(html.contains("Office manager"));
    let csrf = form_csrf(&html);
    // Sign out one specific session.
    let start = html.find("/portal/profile/sessions/").unwrap();
    let path = html[start..].split('"').next().unwrap().to_string();
    assert!(path.ends_with("/end"), "{path}");
    let r = c
        .post(app.url(&path))
        .form(&[("_csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let alive = |s: &crate::support::Session| {
        let c = s.client.clone();
        let u = app.url("/api/v1/me");
        async move { c.get(u).send().await.unwrap().status() == StatusCode::OK }
    };
    let a1 = alive(&other1).await;
    let a2 = alive(&other2).await;
    assert!(a1 ^ a2, "exactly one of the other sessions ended");
    // Ending an unknown or someone else's session is a 404.
    let r = c
        .post(app.url("/portal/profile/sessions/0000000000/end"))
        .form(&[("_csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // Everywhere else.
    let r = c
        .post(app.url("/portal/profile/sessions/others"))
        .form(&[("_csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(!alive(&other1).await && !alive(&other2).await);
    let html = page(&c, &app, "/portal/profile").await;
    assert!(html.contains("This session"));
    let actions = app.audit_actions("acme").await;
    assert!(actions.contains(&"auth.session_ended".to_string()));
    assert!(actions.contains(&"auth.other_sessions_ended".to_string()));
}
crate::db_test!(profile_sessions, sessions_can_be_listed_and_ended);
