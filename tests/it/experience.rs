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
