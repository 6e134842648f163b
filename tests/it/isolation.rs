//! Tenant and company isolation, and the admin panel's companies, users and branding.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{TestApp, form_csrf};

async fn sessions_are_bound_to_their_tenant(app: TestApp) {
    let alice = app
        .api_login("acme", "alice@globex.example", "portal")
        .await;
    for (path, host) in [
        ("/api/v1/me?tenant=grace", None),
        ("/portal/dashboard?tenant=grace", None),
        ("/api/v1/me", Some("grace.localhost")),
        ("/portal/dashboard", Some("grace.localhost")),
    ] {
        let mut req = alice.client.get(app.url(path));
        if let Some(h) = host {
            req = req.header("host", h);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path} on {host:?}");
        let body = r.text().await.unwrap();
        assert!(
            !body.contains("Grace Church") || body.contains("signed in to"),
            "{body}"
        );
    }
    // The own tenant's custom domain and slug are fine.
    let r = alice
        .client
        .get(app.url("/api/v1/me?tenant=acme"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = alice
        .client
        .get(app.url("/api/v1/me"))
        .header("host", "acme.localhost")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let r = staff
        .client
        .get(app.url("/api/v1/admin/companies?tenant=grace"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}
crate::db_test!(session_tenant_binding, sessions_are_bound_to_their_tenant);

async fn staff_cannot_touch_another_tenant(app: TestApp) {
    // A Mission tenant has no companies page; a company row of its own stands in for any
    // record another tenant's staff might aim at.
    let choir_id = "choir-company".to_string();
    sqlx::query(
        "INSERT INTO companies (id, tenant_id, name, status, created_at, updated_at) \
         SELECT $1, id, 'Choir', 'active', 0, 0 FROM tenants WHERE slug = 'grace'",
    )
    .bind(&choir_id)
    .execute(app.state.db.operator("test").writer())
    .await
    .unwrap();
    let mary_id = app.user_id("grace", "mary@grace.example").await;

    let acme = app.api_login("acme", "staff@acme.example", "admin").await;
    let h = ("x-csrf-token", acme.csrf.clone());
    for (method, path, body) in [
        ("GET", format!("/api/v1/admin/companies/{choir_id}"), None),
        (
            "PATCH",
            format!("/api/v1/admin/companies/{choir_id}"),
            Some(json!({"name": "Taken"})),
        ),
        ("GET", format!("/api/v1/admin/users/{mary_id}"), None),
        (
            "PATCH",
            format!("/api/v1/admin/users/{mary_id}"),
            Some(json!({"status": "deactivated"})),
        ),
    ] {
        let mut req = acme
            .client
            .request(method.parse().unwrap(), app.url(&path))
            .header(h.0, &h.1);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{method} {path}");
        let text = r.text().await.unwrap();
        assert!(
            !text.contains("Choir") && !text.contains("mary@"),
            "leak: {text}"
        );
    }
    // Form routes too.
    let page = acme
        .client
        .get(app.url("/admin/companies"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!page.contains("Choir"));
    let csrf = form_csrf(&page);
    let r = acme
        .client
        .post(app.url(&format!("/admin/companies/{choir_id}/deactivate")))
        .form(&[("_csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = acme
        .client
        .post(app.url(&format!("/admin/users/{mary_id}/deactivate")))
        .form(&[("_csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // Lists hold only the own tenant.
    let users: Value = acme
        .client
        .get(app.url("/api/v1/admin/users?limit=200"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let emails: Vec<&str> = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap())
        .collect();
    assert!(
        emails.contains(&"alice@globex.example")
            && !emails.iter().any(|e| e.ends_with("grace.example"))
    );
    // Branding writes change only the own tenant.
    let r = acme
        .client
        .put(app.url("/api/v1/admin/branding"))
        .header(h.0, &h.1)
        .json(&json!({"portal_name": "Acme Renamed", "primary_color": "#123456"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let g: Value = app
        .client()
        .get(app.url("/api/portal/branding?tenant=grace"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(g["portal_name"], "Grace Church");
    let mary = app.api_login("grace", "mary@grace.example", "portal").await;
    assert_eq!(mary.me["tenant"]["portal_name"], "Grace Church");
    // Grace's data is untouched.
    let (name, status): (String, String) =
        sqlx::query_as("SELECT name, status FROM companies WHERE id = $1")
            .bind(&choir_id)
            .fetch_one(app.state.db.operator("test").reader())
            .await
            .unwrap();
    assert_eq!((name.as_str(), status.as_str()), ("Choir", "active"));
}
crate::db_test!(cross_tenant_staff, staff_cannot_touch_another_tenant);

async fn client_admins_stay_out_of_admin(app: TestApp) {
    let alice = app
        .api_login("acme", "alice@globex.example", "portal")
        .await;
    let ian_id = app.user_id("acme", "ian@initech.example").await;
    for path in [
        format!("/api/v1/admin/users/{ian_id}"),
        "/api/v1/admin/users".into(),
        "/api/v1/admin/companies".into(),
    ] {
        let r = alice.client.get(app.url(&path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{path}");
        assert!(!r.text().await.unwrap().contains("initech"));
    }
    let r = alice
        .client
        .patch(app.url(&format!("/api/v1/admin/users/{ian_id}")))
        .header("x-csrf-token", &alice.csrf)
        .json(&json!({"status": "deactivated"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // A technician holds no user or branding permission.
    let tech = app.api_login("acme", "tech@acme.example", "admin").await;
    let r = tech
        .client
        .get(app.url("/api/v1/admin/users"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = tech
        .client
        .put(app.url("/api/v1/admin/branding"))
        .header("x-csrf-token", &tech.csrf)
        .json(&json!({"portal_name": "Pwned"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}
crate::db_test!(client_admin_boundaries, client_admins_stay_out_of_admin);

async fn branding_edit_validates_and_applies(app: TestApp) {
    let s = app.api_login("acme", "staff@acme.example", "admin").await;
    let r = s.client.put(app.url("/api/v1/admin/branding")).header("x-csrf-token", &s.csrf)
        .json(&json!({"portal_name": "", "primary_color": "blue", "logo_url": "http://x.example/a.png", "custom_css": "@import url(https://evil.example/x.css);"}))
        .send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let e: Value = r.json().await.unwrap();
    let fields: Vec<&str> = e["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        ["portal_name", "logo_url", "primary_color", "custom_css"]
    );
    assert!(
        e["error"]["fields"][3]["message"]
            .as_str()
            .unwrap()
            .contains("@import")
    );
    // Unchanged after a refused save.
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

    // The HTML form keeps what was typed and marks the field.
    let page = s
        .client
        .get(app.url("/admin/branding"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = form_csrf(&page);
    let r = s
        .client
        .post(app.url("/admin/branding"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("portal_name", "Acme Typed"),
            ("primary_color", "#zzz"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = r.text().await.unwrap();
    assert!(html.contains("value=\"Acme Typed\"") && html.contains("Use a hex colour"));

    let r = s
        .client
        .post(app.url("/admin/branding"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("portal_name", "Acme Cloud"),
            ("primary_color", "#FF6600"),
            ("accent_color", ""),
            ("welcome_text", "Hello from <b>Acme</b>"),
            ("support_email", "help@acme.example"),
            ("powered_by_visible", "on"),
            ("custom_css", ".tile { border-radius: 0 }"),
            ("favicon_url", "https://cdn.example.com/f.ico"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let alice = app
        .api_login("acme", "alice@globex.example", "portal")
        .await;
    let html = alice
        .client
        .get(app.url("/portal/dashboard"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("<title>Dashboard · Acme Cloud</title>"));
    assert!(
        html.contains("Hello from &#60;b&#62;Acme&#60;/b&#62;")
            || html.contains("Hello from &lt;b&gt;Acme&lt;/b&gt;"),
        "welcome text escaped"
    );
    assert!(html.contains("https://cdn.example.com/f.ico"));
    assert!(html.contains("Powered by Portico") && html.contains("help@acme.example"));
    let b: Value = app
        .client()
        .get(app.url("/api/portal/branding?tenant=acme"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(b["primary_color"], "#ff6600");
    assert_eq!(b["accent_color"], "#ff6600");
    let css_url = b["custom_css_url"].as_str().unwrap().to_string();
    assert!(html.contains(&css_url.replace('&', "&amp;")) || html.contains(&css_url));
    let css = app.client().get(app.url(&css_url)).send().await.unwrap();
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
    assert_eq!(css.text().await.unwrap(), ".tile { border-radius: 0 }");
    let theme = app
        .client()
        .get(app.url(b["theme_css_url"].as_str().unwrap()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(theme.contains("--brand-primary: #ff6600"));
    assert!(
        app.audit_actions("acme")
            .await
            .contains(&"branding.updated".to_string())
    );
}
crate::db_test!(branding_edit, branding_edit_validates_and_applies);

async fn companies_admin(app: TestApp) {
    let s = app.api_login("acme", "staff@acme.example", "admin").await;
    let r = s
        .client
        .post(app.url("/api/v1/admin/companies"))
        .header("x-csrf-token", &s.csrf)
        .json(&json!({"name": "Globex"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "duplicate name");
    let r = s
        .client
        .post(app.url("/api/v1/admin/companies"))
        .header("x-csrf-token", &s.csrf)
        .json(&json!({"name": "  "}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let globex = app.company_id("acme", "Globex").await;
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    let r = s
        .client
        .patch(app.url(&format!("/api/v1/admin/companies/{globex}")))
        .header("x-csrf-token", &s.csrf)
        .json(&json!({"name": "Globex Corp", "status": "deactivated"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let c: Value = r.json().await.unwrap();
    assert_eq!(
        (c["name"].as_str(), c["status"].as_str()),
        (Some("Globex Corp"), Some("deactivated"))
    );
    assert_eq!(
        bob.client
            .get(app.url("/api/v1/me"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );
    let list: Value = s
        .client
        .get(app.url("/api/v1/admin/companies?limit=1"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let next = list["next_cursor"].as_str().expect("cursor").to_string();
    let list2: Value = s
        .client
        .get(app.url(&format!("/api/v1/admin/companies?limit=1&cursor={next}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_ne!(list["items"][0]["id"], list2["items"][0]["id"]);
    let actions = app.audit_actions("acme").await;
    assert!(
        actions.contains(&"company.renamed".to_string())
            && actions.contains(&"company.deactivated".to_string())
    );
}
crate::db_test!(companies, companies_admin);

async fn bad_input_is_a_clear_400(app: TestApp) {
    let s = app.api_login("acme", "staff@acme.example", "admin").await;
    let r = s
        .client
        .post(app.url("/api/v1/admin/companies"))
        .header("x-csrf-token", &s.csrf)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let e: Value = r.json().await.unwrap();
    assert!(e["error"]["code"].is_string() && e["error"]["message"].is_string());
    let r = s
        .client
        .patch(app.url(&format!(
            "/api/v1/admin/companies/{}",
            app.company_id("acme", "Globex").await
        )))
        .header("x-csrf-token", &s.csrf)
        .json(&json!({"status": "exploded"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = s
        .client
        .get(app.url("/api/v1/admin/nothing-here"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["code"], "not_found");
}
crate::db_test!(bad_input, bad_input_is_a_clear_400);

/// Two MSP tenants on one deployment: same kind, same routes, same ticket numbers, and neither
/// sees the other's tickets, companies or people by list, number, id or host.
async fn two_msps_never_meet(app: TestApp) {
    const ACME_SUBJECTS: [&str; 3] = [
        "File server unreachable",
        "Reset MFA for my new phone",
        "VPN disconnects every hour",
    ];
    const NORTHWIND_SUBJECT: &str = "Label printer in the warehouse offline";

    let carl = app
        .api_login("northwind", "carl@contoso.example", "portal")
        .await;
    let list = carl.get("/api/v1/tickets?status=all&scope=company").await;
    assert_eq!(list.status(), StatusCode::OK);
    let body = list.text().await.unwrap();
    assert!(body.contains(NORTHWIND_SUBJECT), "{body}");
    for s in ACME_SUBJECTS {
        assert!(!body.contains(s), "northwind client saw acme's {s:?}");
    }
    // Ticket numbers restart per tenant: Carl's numbers reach only Northwind's tickets.
    for number in 1000..1012 {
        let r = carl.get(&format!("/api/v1/tickets/{number}")).await;
        let text = r.text().await.unwrap();
        for s in ACME_SUBJECTS {
            assert!(!text.contains(s), "#{number} leaked {s:?}");
        }
    }

    let nora = app
        .api_login("northwind", "nora@northwind.example", "admin")
        .await;
    let queue = nora
        .get("/admin/tickets?status=all")
        .await
        .text()
        .await
        .unwrap();
    assert!(queue.contains(NORTHWIND_SUBJECT), "{queue}");
    for s in ACME_SUBJECTS {
        assert!(!queue.contains(s), "northwind staff saw acme's {s:?}");
    }
    let globex = app.company_id("acme", "Globex").await;
    let r = nora.get(&format!("/api/v1/admin/companies/{globex}")).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let alice = app.user_id("acme", "alice@globex.example").await;
    let r = nora.get(&format!("/api/v1/admin/users/{alice}")).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let users = nora.get("/api/v1/admin/users").await.text().await.unwrap();
    assert!(!users.contains("globex.example"), "{users}");

    // And the reverse, including Northwind's host name with an Acme session.
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let queue = staff
        .get("/admin/tickets?status=all")
        .await
        .text()
        .await
        .unwrap();
    assert!(!queue.contains(NORTHWIND_SUBJECT));
    let contoso = app.company_id("northwind", "Contoso").await;
    let r = staff
        .get(&format!("/api/v1/admin/companies/{contoso}"))
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = staff
        .client
        .get(app.url("/api/v1/admin/companies"))
        .header("host", "northwind.localhost")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}
crate::db_test!(two_msp_tenants, two_msps_never_meet);
