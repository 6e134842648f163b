//! Isolation matrix and CSRF over the documented routes.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::fixtures::{PageFixture, fixture, page_fixture};
use crate::support::{Session, TestApp};

fn object_routes() -> Vec<(String, String)> {
    portico::app::documented_routes()
        .into_iter()
        .filter(|(p, _)| p.contains('{'))
        .collect()
}

/// Page (HTML) routes with an object in the path, from the router's page registry.
fn page_object_routes() -> Vec<(String, String)> {
    portico::app::page_routes()
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

/// Sends a page request the way a browser would: a GET, or a form post with `_csrf`.
async fn send_page(
    app: &TestApp,
    s: Option<&Session>,
    m: &str,
    f: &PageFixture,
) -> (StatusCode, String) {
    let r = match (s, m) {
        (Some(s), "get") => s.get(&f.path).await,
        (Some(s), "post") if f.multipart => s.upload(&f.path, multipart(f)).await,
        (Some(s), "post") => s.post_form(&f.path, &f.fields).await,
        (None, "get") => app
            .client()
            .get(app.url(&f.path))
            .send()
            .await
            .expect("GET"),
        (None, "post") => app
            .client()
            .post(app.url(&f.path))
            .form(&f.fields)
            .send()
            .await
            .expect("POST"),
        _ => panic!("page routes answer GET and POST only, not {m} {}", f.path),
    };
    let status = r.status();
    (status, r.text().await.unwrap_or_default())
}

fn multipart(f: &PageFixture) -> reqwest::multipart::Form {
    f.fields
        .iter()
        .fold(reqwest::multipart::Form::new(), |form, (k, v)| {
            form.text(*k, *v)
        })
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
    let pages = page_object_routes();
    assert!(
        pages.contains(&(
            "/admin/tickets/{number}/attachments/{id}".into(),
            "get".into()
        )),
        "the page registry misses routes: {pages:?}"
    );
    for (path, m) in pages {
        if page_fixture(&app, &path, &m).await.is_none() {
            missing.push(format!("{} {path} (page)", m.to_uppercase()));
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
    // A member of Globex and Initech, signed in to Initech (her home): Globex's objects are
    // out of reach until she switches.
    let member_elsewhere = app
        .api_login("acme", "cora@consulting.example", "portal")
        .await;
    for (path, m) in object_routes() {
        let f = fixture(&app, &path, &m)
            .await
            .expect("fixture (see every_object_route_has_a_fixture)");
        let admin_route = path.starts_with("/api/v1/admin/");
        // The demo has one Mission tenant, so for its objects the other tenant is acme; what
        // grace's own members may not see is each fixture's `lower_role`.
        let mission = path.contains("/mission/");
        let (foreign_staff, foreign_member) = if mission {
            (&staff, &client)
        } else {
            (&other_tenant_staff, &other_tenant_member)
        };
        let mut attackers: Vec<(&str, Option<&Session>, &[u16])> =
            vec![("anonymous", None, &[401])];
        if admin_route {
            attackers.push(("other tenant's staff admin", Some(foreign_staff), &[404]));
            // A client of the Mission tenant itself: an acme client's Mission request is already
            // a 404 at the org guard, before any sign-in check.
            let client = if mission {
                &other_tenant_member
            } else {
                &client
            };
            attackers.push(("client session on an admin route", Some(client), &[401]));
        } else {
            attackers.push(("other tenant's member", Some(foreign_member), &[403, 404]));
            attackers.push((
                "other company's admin",
                Some(&other_company_admin),
                &[403, 404],
            ));
            if !mission {
                attackers.push((
                    "Globex member while in Initech",
                    Some(&member_elsewhere),
                    &[403, 404],
                ));
            }
            // A Mission route is 404 to every MSP session; its own tenant's staff cookie is
            // the one that must be refused as the wrong audience.
            let staff = if path.contains("/mission/") {
                &other_tenant_staff
            } else {
                &staff
            };
            attackers.push(("staff session on a portal route", Some(staff), &[401]));
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

/// The page routes: another tenant's or company's object answers 404, as on the API.
async fn page_isolation_matrix(app: TestApp) {
    let other_tenant_staff = app
        .api_login("grace", "pastor@grace.example", "admin")
        .await;
    let other_tenant_member = app.api_login("grace", "mary@grace.example", "portal").await;
    let other_company_admin = app.api_login("acme", "ian@initech.example", "portal").await;
    let client = app
        .api_login("acme", "alice@globex.example", "portal")
        .await;
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let member_elsewhere = app
        .api_login("acme", "cora@consulting.example", "portal")
        .await;
    // Without a usable session a page sends the visitor to sign in (GET) or refuses the form.
    const NO_SESSION: &[u16] = &[303, 401, 403];
    for (path, m) in page_object_routes() {
        let f = page_fixture(&app, &path, &m)
            .await
            .expect("fixture (see every_object_route_has_a_fixture)");
        // As on the API: for Mission objects the other tenant is acme.
        let mission = path.contains("/mission/");
        let (foreign_staff, foreign_member) = if mission {
            (&staff, &client)
        } else {
            (&other_tenant_staff, &other_tenant_member)
        };
        let mut attackers: Vec<(&str, Option<&Session>, &[u16])> =
            vec![("anonymous", None, NO_SESSION)];
        if path.starts_with("/admin/") {
            attackers.push(("other tenant's staff admin", Some(foreign_staff), &[404]));
            let client = if mission {
                &other_tenant_member
            } else {
                &client
            };
            attackers.push(("client session on an admin page", Some(client), NO_SESSION));
        } else {
            // A member without the page's permission is refused before any lookup (403).
            attackers.push(("other tenant's member", Some(foreign_member), &[403, 404]));
            attackers.push(("other company's admin", Some(&other_company_admin), &[404]));
            if !mission {
                attackers.push((
                    "Globex member while in Initech",
                    Some(&member_elsewhere),
                    &[403, 404],
                ));
            }
            let staff = if path.contains("/mission/") {
                &other_tenant_staff
            } else {
                &staff
            };
            attackers.push(("staff session on a portal page", Some(staff), NO_SESSION));
        }
        // The calendar feed takes no session: its token is the credential, so every attacker
        // holding a wrong token gets the same 404. OIDC sign-in routes take no session either:
        // a provider that is off or another tenant's is a 404 to everyone.
        let feed = path.starts_with("/mission/calendar/") || path.starts_with("/auth/oidc/");
        for (who, session, allowed) in attackers {
            let allowed: &[u16] = if feed { &[404] } else { allowed };
            let (status, body) = send_page(&app, session, &m, &f).await;
            assert!(
                allowed.contains(&status.as_u16()),
                "{who}: {} {} answered {status}",
                m.to_uppercase(),
                f.path
            );
            assert!(
                !body.contains(&f.marker),
                "{who}: {} {} leaked '{}': {body}",
                m.to_uppercase(),
                f.path,
                f.marker
            );
        }
        if let Some((tenant, email, audience, expected)) = f.lower_role {
            let s = app.api_login(tenant, email, audience).await;
            let (status, body) = send_page(&app, Some(&s), &m, &f).await;
            assert_eq!(
                status.as_u16(),
                expected,
                "lower role {email}: {} {}",
                m.to_uppercase(),
                f.path
            );
            assert!(!body.contains(&f.marker), "lower role leaked: {body}");
        }
    }
}
crate::db_test!(page_isolation, page_isolation_matrix);

/// The company switch (API and page form) and accepting a membership invitation take only
/// the person's own: another tenant's company, a company of the tenant they are not in, a
/// forged id, a staff or no session are refused, and the session stays where it was.
async fn company_switch_refuses_foreign_companies(app: TestApp) {
    let globex = app.company_id("acme", "Globex").await;
    let initech = app.company_id("acme", "Initech").await;
    let contoso = app.company_id("northwind", "Contoso").await;
    let mary = app.api_login("grace", "mary@grace.example", "portal").await;
    let alice = app
        .api_login("acme", "alice@globex.example", "portal")
        .await;
    let cora = app
        .api_login("acme", "cora@consulting.example", "portal")
        .await;
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let cases: [(&str, Option<&Session>, &str, &[u16]); 7] = [
        ("anonymous", None, &globex, &[401]),
        ("staff session", Some(&staff), &globex, &[401]),
        ("other tenant's member", Some(&mary), &globex, &[404]),
        ("member of Globex only", Some(&alice), &initech, &[404]),
        (
            "member of both, other tenant's company",
            Some(&cora),
            &contoso,
            &[404],
        ),
        ("forged id", Some(&cora), "' OR 1=1 --", &[404]),
        ("empty id", Some(&cora), "", &[404]),
    ];
    for (who, s, company, allowed) in cases {
        let body = json!({ "company_id": company });
        let (status, _) = send(&app, s, "post", "/api/v1/me/company", &body).await;
        assert!(
            allowed.contains(&status.as_u16()),
            "{who}: API answered {status}"
        );
        if let Some(s) = s {
            let r = s
                .post_form("/portal/companies/switch", &[("company_id", company)])
                .await;
            // A staff session reaches no portal form at all (403); the rest are 401 or 404.
            assert!(
                [401, 403, 404].contains(&r.status().as_u16()),
                "{who}: page answered {}",
                r.status()
            );
            let r = s
                .post_form("/portal/companies/accept", &[("invitation_id", company)])
                .await;
            assert!(
                [401, 403, 404].contains(&r.status().as_u16()),
                "{who}: accept answered {}",
                r.status()
            );
        }
    }
    for (s, home) in [(&alice, &globex), (&cora, &initech)] {
        let m: serde_json::Value = s.get("/api/v1/me").await.json().await.expect("me");
        assert_eq!(m["user"]["company_id"], home.as_str(), "{m}");
    }
}
crate::db_test!(company_switch, company_switch_refuses_foreign_companies);

async fn every_cookie_write_needs_the_csrf_token(app: TestApp) {
    let portal = app
        .api_login("acme", "alice@globex.example", "portal")
        .await;
    let admin = app.api_login("acme", "staff@acme.example", "admin").await;
    // Mission routes are 404 to MSP sessions, so a Mission tenant's sessions try them.
    let grace_portal = app.api_login("grace", "mary@grace.example", "portal").await;
    let grace_admin = app
        .api_login("grace", "pastor@grace.example", "admin")
        .await;
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
        let s = match (
            path.starts_with("/api/v1/admin/"),
            path.contains("/mission"),
        ) {
            (true, false) => &admin,
            (false, false) => &portal,
            (true, true) => &grace_admin,
            (false, true) => &grace_portal,
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
    // Every page form too, posted with the session cookie and without `_csrf`.
    for (path, m) in portico::app::page_routes() {
        // The Hub's cross-site POST is exempt by design: its signed, single-use token is the
        // proof of intent (tests/security/identity.rs attacks it).
        if m != "post" || path == "/auth/hub" {
            continue;
        }
        let (target, multipart_form) = if path.contains('{') {
            match page_fixture(&app, &path, &m).await {
                Some(f) => (f.path.clone(), f.multipart.then(|| multipart(&f))),
                None => continue, // reported by every_object_route_has_a_fixture
            }
        } else {
            (path.clone(), None)
        };
        let s = match (path.starts_with("/admin"), path.contains("/mission")) {
            (true, false) => &admin,
            (false, false) => &portal,
            (true, true) => &grace_admin,
            (false, true) => &grace_portal,
        };
        let req = s.client.post(app.url(&target));
        let req = match multipart_form {
            Some(form) => req.multipart(form),
            None => req.form(&[("name", "x")]),
        };
        let r = req.send().await.expect("request");
        assert_eq!(
            r.status(),
            StatusCode::FORBIDDEN,
            "POST {target} accepted a form without _csrf"
        );
    }
    // Form posts from a form sign-in.
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

/// Failed sign-ins counted on one node block the account on another (PostgreSQL only).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttle_holds_across_two_nodes() {
    let Some(a) = TestApp::spawn(crate::support::Db::Postgres).await else {
        return;
    };
    let b = a.spawn_peer().await;
    for i in 0..5 {
        let node = if i % 2 == 0 { &a } else { &b };
        let (_, r) = node
            .form_login("acme", "bob@globex.example", "wrong-password!", false)
            .await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    for node in [&a, &b] {
        let (_, r) = node
            .form_login("acme", "bob@globex.example", "portico-demo", false)
            .await;
        assert_eq!(
            r.status(),
            StatusCode::TOO_MANY_REQUESTS,
            "a node let the throttled account in"
        );
    }
}
