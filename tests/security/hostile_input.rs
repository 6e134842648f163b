//! Hostile input never causes a 500 or a partial write, and stored text is always escaped.

use reqwest::StatusCode;
use serde_json::json;

use crate::fixtures::fixture;
use crate::support::TestApp;

const XSS: &[&str] = &[
    "<script>alert(1)</script>",
    "\"><img src=x onerror=alert(1)>",
    "javascript:alert(1)",
    "<svg onload=alert(1)>",
    "</style><script>alert(1)</script>",
    "'; alert(1); '",
];

async fn bad_bodies_and_parameters(app: TestApp) {
    let portal = app
        .api_login("acme", "alice@globex.example", "portal")
        .await;
    let admin = app.api_login("acme", "staff@acme.example", "admin").await;
    let before: i64 = {
        use sqlx::Row;
        sqlx::query("SELECT COUNT(*) FROM companies")
            .fetch_one(app.state.db.operator("test").reader())
            .await
            .unwrap()
            .get(0)
    };
    for (path, m) in portico::app::documented_routes() {
        let target = if path.contains('{') {
            match fixture(&app, &path, &m).await {
                Some(f) => f.path,
                None => continue,
            }
        } else {
            path.clone()
        };
        let s = if path.starts_with("/api/v1/admin/") {
            &admin
        } else {
            &portal
        };
        // Sign-out and DELETE read no body (and would end sessions or remove the fixtures).
        if path.ends_with("/logout") || m == "delete" {
            continue;
        }
        if m == "get" {
            for q in [
                "limit=99999999999",
                "limit=-5",
                "cursor=%00%FF%FE",
                "limit=abc",
                "tenant=%FF",
            ] {
                let sep = if target.contains('?') { '&' } else { '?' };
                let r = s
                    .client
                    .get(app.url(&format!("{target}{sep}{q}")))
                    .send()
                    .await
                    .unwrap();
                assert!(
                    r.status().as_u16() < 500,
                    "GET {target}?{q} → {}",
                    r.status()
                );
            }
            continue;
        }
        let bodies: Vec<(&str, Vec<u8>)> = vec![
            ("malformed JSON", b"{\"name\": ".to_vec()),
            (
                "invalid UTF-8",
                vec![b'{', b'"', 0xff, 0xfe, b'"', b':', b'1', b'}'],
            ),
            (
                "wrong types",
                br#"{"name": 5, "email": [], "role": {"x": 1}, "status": "exploded"}"#.to_vec(),
            ),
            ("oversized", vec![b'a'; 3 * 1024 * 1024]),
        ];
        // A route that ignores its body answers malformed JSON with something other than 400;
        // for it only "never a server error" applies.
        let mut reads_body = true;
        for (what, body) in bodies {
            let sent = s
                .client
                .request(m.to_uppercase().parse().unwrap(), app.url(&target))
                .header("x-csrf-token", &s.csrf)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await;
            // The server may answer 413 and close before an oversized body is fully written;
            // the client then sees a broken pipe, which is a refusal too.
            let r = match sent {
                Err(e) if what == "oversized" && e.is_request() => continue,
                other => other.unwrap(),
            };
            let status = r.status();
            if what == "malformed JSON" {
                reads_body = status == StatusCode::BAD_REQUEST;
            }
            if !reads_body {
                assert!(status.as_u16() < 500, "{what}: {target} → {status}");
                continue;
            }
            assert!(
                status.is_client_error(),
                "{what}: {} {target} → {status}",
                m.to_uppercase()
            );
            if what == "oversized" {
                assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{target}");
            }
            let text = r.text().await.unwrap_or_default();
            assert!(
                text.contains("\"error\""),
                "{what}: {target}: not the JSON error shape: {text}"
            );
        }
    }
    let after: i64 = {
        use sqlx::Row;
        sqlx::query("SELECT COUNT(*) FROM companies")
            .fetch_one(app.state.db.operator("test").reader())
            .await
            .unwrap()
            .get(0)
    };
    assert_eq!(before, after, "a refused request wrote something");
    // A form with a huge body is refused with 413 and a page, not a crash.
    let page = admin
        .client
        .get(app.url("/admin/companies"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = crate::support::form_csrf(&page);
    let huge = "x".repeat(2 * 1024 * 1024);
    let r = admin
        .client
        .post(app.url("/admin/companies"))
        .form(&[("_csrf", csrf.as_str()), ("name", huge.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // Invalid UTF-8 in a form is decoded lossily (replacement characters), never a crash.
    let r = admin
        .client
        .post(app.url("/admin/companies"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("_csrf={csrf}&name=%FF%FE%FD"))
        .send()
        .await
        .unwrap();
    assert!(r.status().as_u16() < 500, "{}", r.status());
}
crate::db_test!(bad_input, bad_bodies_and_parameters);

async fn stored_payloads_are_escaped_everywhere(app: TestApp) {
    let admin = app.api_login("acme", "staff@acme.example", "admin").await;
    let globex = app.company_id("acme", "Globex").await;
    for (i, p) in XSS.iter().enumerate() {
        let r = admin
            .client
            .post(app.url("/api/v1/admin/companies"))
            .header("x-csrf-token", &admin.csrf)
            .json(&json!({"name": format!("Co{i} {p}")}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED, "{p}");
        let r = admin.client.post(app.url("/api/v1/admin/users")).header("x-csrf-token", &admin.csrf)
            .json(&json!({"email": format!("x{i}@globex.example"), "name": format!("N{i} {p}"), "role": "client_user", "company_id": globex})).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::CREATED, "{p}");
    }
    let r = admin.client.put(app.url("/api/v1/admin/branding")).header("x-csrf-token", &admin.csrf)
        .json(&json!({"portal_name": XSS[1], "welcome_text": XSS.join(" "), "support_email": "help@acme.example"})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // URL and colour fields refuse payloads outright.
    for field in [
        "logo_url",
        "favicon_url",
        "login_background_url",
        "primary_color",
        "accent_color",
        "custom_css",
        "support_email",
    ] {
        for p in XSS {
            let r = admin
                .client
                .put(app.url("/api/v1/admin/branding"))
                .header("x-csrf-token", &admin.csrf)
                .json(&json!({"portal_name": "Acme", field: p}))
                .send()
                .await
                .unwrap();
            if field == "custom_css" && !p.contains('<') && !p.contains("javascript") {
                continue; // plain text is valid (if odd) CSS
            }
            assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{field} accepted {p}");
        }
    }
    let alice = app
        .api_login("acme", "alice@globex.example", "portal")
        .await;
    // Profile fields and a team invitation by the client admin.
    let page = alice
        .client
        .get(app.url("/portal/profile"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = crate::support::form_csrf(&page);
    let r = alice
        .client
        .post(app.url("/portal/profile/details"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("name", XSS[0]),
            ("phone", "+44 20 7946 0000"),
            ("job_title", XSS[1]),
            ("time_zone", "Europe/London"),
            ("language", "en"),
        ])
        .send()
        .await
        .unwrap();
    assert!(r.status().as_u16() < 500, "profile save: {}", r.status());
    let r = alice
        .client
        .post(app.url("/api/v1/team"))
        .header("x-csrf-token", &alice.csrf)
        .json(&json!({"email": "t1@globex.example", "name": XSS[4], "role": "client_user"}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "team invite: {}", r.status());
    // A ticket whose subject, Markdown description and comment carry every payload.
    let r = alice
        .client
        .post(app.url("/api/v1/tickets"))
        .header("x-csrf-token", &alice.csrf)
        .json(&json!({"subject": XSS[1], "description": XSS.join("\n\n"), "priority": "normal", "category": "General"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let number = r.json::<serde_json::Value>().await.unwrap()["number"]
        .as_i64()
        .unwrap();
    let r = alice
        .client
        .post(app.url(&format!("/api/v1/tickets/{number}/comments")))
        .header("x-csrf-token", &alice.csrf)
        .json(&json!({"body": XSS.join(" ")}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "comment: {}", r.status());
    let ticket_page = format!("/portal/tickets/{number}");
    let admin_ticket_page = format!("/admin/tickets/{number}");
    let pages = [
        (&alice.client, ticket_page.as_str()),
        (&alice.client, "/portal/tickets"),
        (&admin.client, admin_ticket_page.as_str()),
        (&admin.client, "/admin/tickets"),
        (&admin.client, "/admin/companies"),
        (&admin.client, "/admin/users?limit=200"),
        (&admin.client, "/admin/branding"),
        (&admin.client, "/admin"),
        (&alice.client, "/portal/dashboard"),
        (&alice.client, "/portal/profile"),
        (&alice.client, "/portal/team"),
        (&alice.client, "/portal/audit"),
    ];
    for (client, path) in pages {
        let html = client
            .get(app.url(path))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        for p in XSS {
            if p.contains('<') || p.contains('"') {
                assert!(!html.contains(p), "{path} shows an unescaped payload {p}");
            }
        }
        assert!(!html.contains("<script>alert"), "{path}");
    }
    let login = app
        .client()
        .get(app.url("/login?tenant=acme"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !login.contains(XSS[1]),
        "login page shows the raw portal name"
    );
}
crate::db_test!(xss_escaping, stored_payloads_are_escaped_everywhere);
