//! What a person sees first: times in their own time zone, dashboards that inform, the
//! activity log in words.

use reqwest::StatusCode;

use crate::support::{TestApp, form_csrf};

async fn page(c: &reqwest::Client, url: String) -> String {
    let r = c.get(url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.text().await.unwrap()
}

async fn first_ticket(app: &TestApp) -> i64 {
    sqlx::query_scalar::<_, i64>(
        "SELECT CAST(MIN(k.number) AS BIGINT) FROM tickets k JOIN tenants t ON t.id = k.tenant_id WHERE t.slug = 'acme'",
    )
    .fetch_one(app.state.db.operator("test").reader())
    .await
    .unwrap()
}

/// Signs in without a cookie jar and returns the session cookies, so a test can send them
/// with a cookie of its own (the browser's time zone).
async fn session_cookies(app: &TestApp, email: &str) -> String {
    let c = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = c
        .get(app.url("/admin/login?tenant=acme"))
        .send()
        .await
        .unwrap();
    let mut jar: Vec<String> = cookies(&r);
    let csrf = form_csrf(&r.text().await.unwrap());
    let r = c
        .post(app.url("/admin/login"))
        .header("cookie", jar.join("; "))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("email", email),
            ("password", "portico-demo"),
            ("next", ""),
        ])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection(), "{}", r.status());
    jar.extend(cookies(&r));
    jar.join("; ")
}

fn cookies(r: &reqwest::Response) -> Vec<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .map(str::to_string)
        .collect()
}

/// Times follow the viewer: their profile's zone, else their browser's, else the tenant's.
async fn times_in_viewer_zone(app: TestApp) {
    let n = first_ticket(&app).await;
    let path = format!("/admin/tickets/{n}");
    // The demo staff lead chose America/Chicago in their profile: December is CST.
    let (staff, _) = app
        .form_login("acme", "staff@acme.example", "portico-demo", true)
        .await;
    let html = page(&staff, app.url(&path)).await;
    assert!(html.contains(" CST"), "{html}");
    assert!(!html.contains(" UTC</dd>"), "{html}");
    // The technician chose none: the browser's zone applies…
    let jar = session_cookies(&app, "tech@acme.example").await;
    let r = reqwest::Client::new()
        .get(app.url(&path))
        .header("cookie", format!("{jar}; portico_tz=Asia/Tokyo"))
        .send()
        .await
        .unwrap();
    let html = r.text().await.unwrap();
    assert!(html.contains(" JST"), "{html}");
    // …and a cookie that names no zone falls through to the tenant's, which an admin sets.
    let form = page(&staff, app.url("/admin/branding")).await;
    let csrf = form_csrf(&form);
    let r = staff
        .post(app.url("/admin/branding/language"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("default_locale", "en"),
            ("time_zone", "Europe/Madrid"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = reqwest::Client::new()
        .get(app.url(&path))
        .header("cookie", format!("{jar}; portico_tz=Mars/Olympus"))
        .send()
        .await
        .unwrap();
    let html = r.text().await.unwrap();
    assert!(html.contains(" CET"), "{html}");
    assert!(
        app.audit_actions("acme")
            .await
            .contains(&"branding.time_zone_changed".to_string())
    );
    // A zone that is not offered is refused, and nothing changes.
    let r = staff
        .post(app.url("/admin/branding/language"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("default_locale", "en"),
            ("time_zone", "Mars/Olympus"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // Lists read relative, with the exact time on hover.
    let html = page(&staff, app.url("/admin/tickets")).await;
    assert!(html.contains("<time datetime=\""), "{html}");
    assert!(html.contains(" ago</time>") || html.contains("just now</time>"));
}
crate::db_test!(experience_times_in_viewer_zone, times_in_viewer_zone);

/// The client dashboard counts the client's tickets and those waiting for them, links each
/// count to the filtered list, and shows staff replies but never internal notes; the staff
/// dashboard counts the queue and links to the filtered queue.
async fn dashboards_inform(app: TestApp) {
    let (bob, _) = app
        .form_login("acme", "bob@globex.example", "portico-demo", false)
        .await;
    let html = page(&bob, app.url("/portal/dashboard")).await;
    assert!(
        html.contains(r#"href="/portal/tickets?status=pending" id="stat-waiting""#),
        "{html}"
    );
    assert!(
        !html.contains("stat-company"),
        "a plain user sees no company-wide count"
    );
    // Bob's numbers are the ones his own list shows.
    let open: i64 = sqlx::query_scalar(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM tickets k JOIN users u ON u.id = k.requester_id \
         WHERE u.email = 'bob@globex.example' AND k.status NOT IN ('resolved', 'closed')",
    )
    .fetch_one(app.state.db.operator("test").reader())
    .await
    .unwrap();
    assert!(
        html.contains(&format!(
            r#"id="stat-mine"><span class="stat-n">{open}</span>"#
        )),
        "{html}"
    );
    // An internal note on one of Bob's tickets never reaches his dashboard.
    let (staff, _) = app
        .form_login("acme", "staff@acme.example", "portico-demo", true)
        .await;
    let n: i64 = sqlx::query_scalar(
        "SELECT CAST(MIN(k.number) AS BIGINT) FROM tickets k JOIN users u ON u.id = k.requester_id \
         WHERE u.email = 'bob@globex.example'",
    )
    .fetch_one(app.state.db.operator("test").reader())
    .await
    .unwrap();
    let api = app.api_login("acme", "staff@acme.example", "admin").await;
    let r = api
        .post_json(
            &format!("/api/v1/admin/tickets/{n}/comments"),
            &serde_json::json!({ "body": "Secret staff-only note about the vendor contract", "internal": true }),
        )
        .await;
    assert!(r.status().is_success(), "{}", r.status());
    let html = page(&bob, app.url("/portal/dashboard")).await;
    assert!(!html.contains("Secret staff-only"), "{html}");
    // Alice, a company admin, also sees the company-wide count.
    let (alice, _) = app
        .form_login("acme", "alice@globex.example", "portico-demo", false)
        .await;
    let html = page(&alice, app.url("/portal/dashboard")).await;
    assert!(
        html.contains(r#"href="/portal/tickets?scope=company" id="stat-company""#),
        "{html}"
    );
    // Staff: the queue's numbers, each linked to the filtered queue, and the newest client reply.
    let html = page(&staff, app.url("/admin")).await;
    for link in [
        "/admin/tickets?sla=breached",
        "/admin/tickets?assignee=none",
        "/admin/tickets?assignee=me",
        "/admin/tickets?status=pending",
    ] {
        assert!(html.contains(&format!("href=\"{link}\"")), "{link}: {html}");
    }
    assert!(html.contains("id=\"dash-replies\""));
    // "My tickets" is the queue filtered to the viewer.
    let mine = page(&staff, app.url("/admin/tickets?assignee=me")).await;
    let me = app.user_id("acme", "staff@acme.example").await;
    assert!(
        mine.contains(&format!("<option value=\"{me}\" selected")),
        "{mine}"
    );
}
crate::db_test!(experience_dashboards_inform, dashboards_inform);

/// A Mission tenant has no ticket queue or companies, whatever the role, not even by URL or
/// API; an MSP has no Mission pages. Role names follow the organisation.
async fn each_org_keeps_to_its_features(app: TestApp) {
    let (pastor, _) = app
        .form_login("grace", "pastor@grace.example", "portico-demo", true)
        .await;
    for path in [
        "/admin/tickets",
        "/admin/companies",
        "/api/v1/admin/tickets",
        "/admin/tickets/1001",
    ] {
        let r = pastor.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let users = page(&pastor, app.url("/admin/users")).await;
    assert!(users.contains("Church admin"), "{users}");
    assert!(!users.contains(">Technician<"), "{users}");
    let (mary, _) = app
        .form_login("grace", "mary@grace.example", "portico-demo", false)
        .await;
    for path in ["/portal/tickets", "/portal/dashboard", "/api/v1/tickets"] {
        let r = mary.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let (bob, _) = app
        .form_login("acme", "bob@globex.example", "portico-demo", false)
        .await;
    let r = bob
        .get(app.url("/portal/mission/giving"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}
crate::db_test!(
    experience_each_org_keeps_to_its_features,
    each_org_keeps_to_its_features
);

/// Confirmations say what happened to whom, from a user id of the tenant (never from text in
/// the address bar).
async fn confirmations_name_what_happened(app: TestApp) {
    let (staff, _) = app
        .form_login("acme", "staff@acme.example", "portico-demo", true)
        .await;
    let html = page(&staff, app.url("/admin/users")).await;
    let csrf = form_csrf(&html);
    let globex = app.company_id("acme", "Globex").await;
    let r = staff
        .post(app.url("/admin/users/invite"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("email", "nina@globex.example"),
            ("name", "Nina New"),
            ("role", "client_user"),
            ("company_id", globex.as_str()),
        ])
        .send()
        .await
        .unwrap();
    let to = r.headers()["location"].to_str().unwrap().to_string();
    assert!(to.contains("notice=invited&user="), "{to}");
    let html = page(&staff, app.url(&to)).await;
    assert!(
        html.contains("Invitation sent to nina@globex.example."),
        "{html}"
    );
    let bob = app.user_id("acme", "bob@globex.example").await;
    let r = staff
        .post(app.url(&format!("/admin/users/{bob}/role")))
        .form(&[("_csrf", csrf.as_str()), ("role", "client_admin")])
        .send()
        .await
        .unwrap();
    let to = r.headers()["location"].to_str().unwrap().to_string();
    let html = page(&staff, app.url(&to)).await;
    assert!(
        html.contains("Bob User is now Company admin (active)."),
        "{html}"
    );
    // Another tenant's user id names nobody.
    let mary = app.user_id("grace", "mary@grace.example").await;
    let html = page(
        &staff,
        app.url(&format!("/admin/users?notice=invited&user={mary}")),
    )
    .await;
    assert!(!html.contains("mary@grace.example"));
    // A company admin's team page says the same of a colleague, and names nobody outside
    // the company.
    let (alice, _) = app
        .form_login("acme", "alice@globex.example", "portico-demo", false)
        .await;
    let html = page(&alice, app.url("/portal/team")).await;
    let csrf = form_csrf(&html);
    let r = alice
        .post(app.url(&format!("/portal/team/{bob}/role")))
        .form(&[("_csrf", csrf.as_str()), ("role", "client_user")])
        .send()
        .await
        .unwrap();
    let to = r.headers()["location"].to_str().unwrap().to_string();
    let html = page(&alice, app.url(&to)).await;
    assert!(html.contains("Bob User is now User (active)."), "{html}");
    let ian = app.user_id("acme", "ian@initech.example").await;
    let html = page(
        &alice,
        app.url(&format!("/portal/team?notice=updated&user={ian}")),
    )
    .await;
    assert!(!html.contains("is now"), "{html}");
    let html = page(
        &alice,
        app.url(&format!("/portal/team?notice=invited&user={ian}")),
    )
    .await;
    assert!(!html.contains("ian@initech.example"), "{html}");
    // Inviting from the team page names the address the invitation went to.
    let r = alice
        .post(app.url("/portal/team/invite"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("email", "olga@globex.example"),
            ("name", "Olga Office"),
            ("role", "client_user"),
        ])
        .send()
        .await
        .unwrap();
    let to = r.headers()["location"].to_str().unwrap().to_string();
    assert!(to.contains("notice=invited&user="), "{to}");
    let html = page(&alice, app.url(&to)).await;
    assert!(
        html.contains("Invitation sent to olga@globex.example."),
        "{html}"
    );
}
crate::db_test!(
    experience_confirmations_name_what_happened,
    confirmations_name_what_happened
);
