//! Isolation matrix and CSRF over the documented routes.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::fixtures::fixture;
use crate::support::{Session, TestApp};

fn object_routes() -> Vec<(String, String)> {
    portico::app::documented_routes()
        .into_iter()
        .filter(|(p, _)| p.contains('{'))
        .collect()
}

fn method(m: &str) -> Method {
    m.to_ascii_uppercase().parse().expect("method")
}

async fn send(
    app: &TestApp,
    s: Option<&Session>,
    m: &str,
    path: &str,
    body: &serde_json::Value,
) -> (StatusCode, String) {
    let client = s.map(|s| s.client.clone()).unwrap_or_else(|| app.client());
    let mut req = client.request(method(m), app.url(path));
    if let Some(s) = s {
        req = req.header("x-csrf-token", &s.csrf);
    }
    if m != "get" && m != "delete" {
        req = req.json(body);
    }
    let r = req.send().await.expect("request");
    let status = r.status();
    (status, r.text().await.unwrap_or_default())
}

#[tokio::test]
async fn every_object_route_has_a_fixture() {
    let app = TestApp::spawn(crate::support::Db::Sqlite)
        .await
        .expect("app");
    let mut missing = Vec::new();
    for (path, m) in object_routes() {
        if fixture(&app, &path, &m).await.is_none() {
            missing.push(format!("{} {path}", m.to_uppercase()));
        }
    }
    assert!(
        missing.is_empty(),
        "routes with an object id but no isolation fixture in tests/security/fixtures.rs: {missing:?}"
    );
}

async fn isolation_matrix(app: TestApp) {
    let other_tenant_staff = app
        .api_login("grace", "pastor@grace.example", "admin")
        .await;
    let other_tenant_member = app.api_login("grace", "mary@grace.example", "portal").await;
    let other_company_admin = app.api_login("acme", "ian@initech.example", "portal").await;
    let client = app
        .api_login("acme", "alice@globex.example", "portal")
        .await;
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    for (path, m) in object_routes() {
        let f = fixture(&app, &path, &m)
            .await
            .expect("fixture (see every_object_route_has_a_fixture)");
        let admin_route = path.starts_with("/api/v1/admin/");
        let mut attackers: Vec<(&str, Option<&Session>, &[u16])> =
            vec![("anonymous", None, &[401])];
        if admin_route {
            attackers.push((
                "other tenant's staff admin",
                Some(&other_tenant_staff),
                &[404],
            ));
            attackers.push(("client session on an admin route", Some(&client), &[401]));
        } else {
            attackers.push((
                "other tenant's member",
                Some(&other_tenant_member),
                &[403, 404],
            ));
            attackers.push((
                "other company's admin",
                Some(&other_company_admin),
                &[403, 404],
            ));
            attackers.push(("staff session on a portal route", Some(&staff), &[401]));
        }
        for (who, session, allowed) in attackers {
            let (status, body) = send(&app, session, &m, &f.path, &f.body).await;
            assert!(
                allowed.contains(&status.as_u16()),
                "{who}: {} {} answered {status}",
                m.to_uppercase(),
                f.path
            );
            assert!(
                !body.contains(f.marker),
                "{who}: {} {} leaked '{}': {body}",
                m.to_uppercase(),
                f.path,
                f.marker
            );
        }
        if let Some((tenant, email, audience, expected)) = f.lower_role {
            let s = app.api_login(tenant, email, audience).await;
            let (status, body) = send(&app, Some(&s), &m, &f.path, &f.body).await;
            assert_eq!(
                status.as_u16(),
                expected,
                "lower role {email}: {} {}",
                m.to_uppercase(),
                f.path
            );
            assert!(!body.contains(f.marker), "lower role leaked: {body}");
        }
    }
}
crate::db_test!(isolation, isolation_matrix);

async fn every_cookie_write_needs_the_csrf_token(app: TestApp) {
    let portal = app
        .api_login("acme", "alice@globex.example", "portal")
        .await;
    let admin = app.api_login("acme", "staff@acme.example", "admin").await;
    for (path, m) in portico::app::documented_routes() {
        if m == "get" {
            continue;
        }
        let target = if path.contains('{') {
            match fixture(&app, &path, &m).await {
                Some(f) => f.path,
                None => continue, // reported by every_object_route_has_a_fixture
            }
        } else {
            path.clone()
        };
        let s = if path.starts_with("/api/v1/admin/") {
            &admin
        } else {
            &portal
        };
        let r = s
            .client
            .request(method(&m), app.url(&target))
            .json(&json!({}))
            .send()
            .await
            .expect("request");
        assert_eq!(
            r.status(),
            StatusCode::FORBIDDEN,
            "{} {target} accepted a cookie write without X-CSRF-Token",
            m.to_uppercase()
        );
    }
    // Form posts too.
    let (c, _) = app
        .form_login("acme", "staff@acme.example", "portico-demo", true)
        .await;
    for path in [
        "/admin/companies",
        "/admin/branding",
        "/admin/users/invite",
        "/admin/logout",
    ] {
        let r = c
            .post(app.url(path))
            .form(&[("name", "x")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path}");
    }
    assert_eq!(
        c.get(app.url("/admin")).send().await.unwrap().status(),
        StatusCode::OK,
        "session survived the refused posts"
    );
}
crate::db_test!(csrf, every_cookie_write_needs_the_csrf_token);

#[tokio::test]
async fn session_cookies_carry_their_flags() {
    let app = TestApp::spawn_with(crate::support::Db::Sqlite, |c| {
        c.base_url = "https://portal.example.com".into();
        c.secure_cookies = true;
    })
    .await
    .expect("app");
    let r = app
        .client()
        .post(app.url("/api/v1/auth/login?tenant=acme"))
        .json(&json!({"email": "bob@globex.example", "password": "portico-demo"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("portico_portal="))
        .expect("session cookie");
    for flag in ["HttpOnly", "SameSite=Lax", "Secure", "Path=/"] {
        assert!(cookie.contains(flag), "{flag} missing: {cookie}");
    }
    assert!(
        r.headers().get("strict-transport-security").is_some(),
        "HSTS behind https"
    );
}
