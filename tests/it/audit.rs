//! Audit log views: company vs tenant scope, filters, pagination, CSV, and `audit verify`.

use reqwest::StatusCode;
use serde_json::Value;

use crate::support::TestApp;

async fn get_json(s: &crate::support::Session, app: &TestApp, path: &str) -> (StatusCode, Value) {
    let r = s.client.get(app.url(path)).send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn company_admins_see_only_their_company(app: TestApp) {
    let ian = app.api_login("acme", "ian@initech.example", "portal").await;
    let alice = app
        .api_login("acme", "alice@globex.example", "portal")
        .await;
    let globex = app.company_id("acme", "Globex").await;
    let (status, page) = get_json(&alice, &app, "/api/v1/audit").await;
    assert_eq!(status, StatusCode::OK);
    let items = page["items"].as_array().unwrap();
    assert!(!items.is_empty());
    assert!(
        items.iter().all(|i| i["company_id"] == globex.as_str()),
        "{page}"
    );
    assert!(
        items
            .iter()
            .any(|i| i["action"] == "auth.login" && i["actor_email"] == "alice@globex.example")
    );
    assert!(!page.to_string().contains("ian@initech.example"));
    // The page shows the same.
    let html = alice
        .client
        .get(app.url("/portal/audit"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("auth.login"), "{html}");
    assert!(!html.contains("ian@initech.example"));
    // Users and viewers may not read it; staff APIs are not reachable with a portal session.
    for who in ["bob@globex.example", "vera@globex.example"] {
        let s = app.api_login("acme", who, "portal").await;
        let (status, body) = get_json(&s, &app, "/api/v1/audit").await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{who}");
        assert!(body.get("items").is_none());
        let r = s.client.get(app.url("/portal/audit")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
    }
    let (status, _) = get_json(&alice, &app, "/api/v1/admin/audit").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Another tenant's staff admin sees none of acme's events.
    let pastor = app
        .api_login("grace", "pastor@grace.example", "admin")
        .await;
    let (_, page) = get_json(&pastor, &app, "/api/v1/admin/audit?limit=200").await;
    assert!(!page.to_string().contains("acme.example"), "{page}");
    assert!(!page.to_string().contains("globex"), "{page}");
    drop(ian);
}
crate::db_test!(audit_company_scope, company_admins_see_only_their_company);

async fn staff_filters_pages_and_exports(app: TestApp) {
    app.api_login("acme", "ian@initech.example", "portal").await;
    app.api_login("acme", "bob@globex.example", "portal").await;
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let (status, page) = get_json(&staff, &app, "/api/v1/admin/audit").await;
    assert_eq!(status, StatusCode::OK);
    let all = page["items"].as_array().unwrap().len();
    assert!(all >= 4, "{page}");

    let (_, page) = get_json(
        &staff,
        &app,
        "/api/v1/admin/audit?actor=IAN@initech.example",
    )
    .await;
    let items = page["items"].as_array().unwrap();
    assert!(!items.is_empty());
    assert!(
        items
            .iter()
            .all(|i| i["actor_email"] == "ian@initech.example")
    );

    let (_, page) = get_json(&staff, &app, "/api/v1/admin/audit?action=auth.").await;
    let items = page["items"].as_array().unwrap();
    assert!(
        items
            .iter()
            .all(|i| i["action"].as_str().unwrap().starts_with("auth."))
    );
    assert!(items.iter().any(|i| i["action"] == "auth.login"));

    // Cursor pagination walks the same events, newest first, without repeats.
    let mut seen = Vec::new();
    let mut path = "/api/v1/admin/audit?limit=2".to_string();
    loop {
        let (status, page) = get_json(&staff, &app, &path).await;
        assert_eq!(status, StatusCode::OK);
        for i in page["items"].as_array().unwrap() {
            seen.push(i["seq"].as_i64().unwrap());
        }
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/admin/audit?limit=2&cursor={c}"),
            None => break,
        }
    }
    assert!(seen.len() >= all);
    assert!(seen.windows(2).all(|w| w[0] > w[1]), "{seen:?}");

    // Dates: the future is empty, yesterday-to-today holds everything, garbage is refused.
    let today = chrono::Utc::now().date_naive();
    let (_, page) = get_json(
        &staff,
        &app,
        &format!(
            "/api/v1/admin/audit?since={}",
            today + chrono::Duration::days(2)
        ),
    )
    .await;
    assert_eq!(page["items"].as_array().unwrap().len(), 0);
    let (_, page) = get_json(
        &staff,
        &app,
        &format!(
            "/api/v1/admin/audit?since={}&until={today}",
            today - chrono::Duration::days(1)
        ),
    )
    .await;
    assert_eq!(page["items"].as_array().unwrap().len(), all);
    let (status, body) = get_json(&staff, &app, "/api/v1/admin/audit?since=31/12/2024").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["fields"][0]["field"], "since");
    let r = staff
        .client
        .get(app.url("/admin/audit?until=nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("YYYY-MM-DD"));

    // The page shows the chain status and a CSV link.
    let html = staff
        .client
        .get(app.url("/admin/audit"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("The chain is intact."), "{html}");
    assert!(html.contains("format=csv"));

    // CSV: an attachment, properly quoted (the JSON detail holds quotes and commas).
    let r = staff
        .client
        .get(app.url("/admin/audit?format=csv&action=auth.login"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let cd = r.headers()["content-disposition"].to_str().unwrap();
    assert!(cd.starts_with("attachment;") && cd.contains(".csv"), "{cd}");
    let body = r.text().await.unwrap();
    let mut rdr = csv::Reader::from_reader(body.as_bytes());
    let headers = rdr.headers().unwrap().clone();
    assert_eq!(&headers[0], "seq");
    assert_eq!(&headers[7], "detail");
    let rows: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
    assert!(rows.len() >= 3);
    for row in &rows {
        assert_eq!(&row[3], "auth.login");
        let detail: Value = serde_json::from_str(&row[7]).unwrap();
        assert!(detail.get("audience").is_some(), "{detail}");
    }
    // Company admins export only their company.
    let alice = app
        .api_login("acme", "alice@globex.example", "portal")
        .await;
    let body = alice
        .client
        .get(app.url("/portal/audit?format=csv"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(body.contains("bob@globex.example"));
    assert!(!body.contains("ian@initech.example"));
}
crate::db_test!(audit_filters_and_csv, staff_filters_pages_and_exports);

#[test]
fn audit_verify_command_reports_broken_links() {
    use std::process::Command;
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_portico"))
            .args(args)
            .env("PORTICO_DATA_DIR", dir.path())
            .env_remove("PORTICO_DATABASE_URL")
            .env_remove("PORTICO_SMTP_URL")
            .output()
            .expect("run portico")
    };
    let out = run(&[
        "tenant",
        "create",
        "--slug",
        "vt",
        "--name",
        "Verify Test",
        "--org-type",
        "msp",
        "--admin-email",
        "admin@vt.example",
    ]);
    assert!(out.status.success(), "{out:?}");
    let out = run(&["tenant", "add-domain", "vt", "portal.vt.example"]);
    assert!(out.status.success(), "{out:?}");
    let out = run(&["audit", "verify", "--tenant", "vt"]);
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("OK"));

    // Tamper with the second entry directly in the database file.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        sqlx::any::install_default_drivers();
        let url = format!("sqlite://{}", dir.path().join("portico.db").display());
        let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&url)
            .await
            .unwrap();
        sqlx::query("UPDATE audit_log SET detail = '{\"domain\":\"evil.example\"}' WHERE seq = 2")
            .execute(&mut conn)
            .await
            .unwrap();
    });
    let out = run(&["audit", "verify", "--tenant", "vt"]);
    assert!(!out.status.success(), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("broken at entry 2"), "{err}");
    let out = run(&["audit", "verify", "--tenant", "nosuch"]);
    assert!(!out.status.success());
}
