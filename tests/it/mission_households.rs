//! Mission households and year-end statements: staff CRUD with audit rows and paging; members
//! cannot reach the staff routes; grace households never reach acme and the reverse; the
//! household statement lists only the gifts of members who chose to share; the statements run
//! shows progress, mails each giver once (even run twice, at once) and builds an archive.

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::Row;

use crate::support::{Session, TestApp};

async fn json_of(r: reqwest::Response) -> Value {
    r.json().await.unwrap_or(Value::Null)
}

/// The id of the demo household called `name`, as staff see it.
async fn household_named(s: &Session, name: &str) -> String {
    let v = json_of(s.get("/api/v1/admin/mission/households?limit=200").await).await;
    v["items"]
        .as_array()
        .and_then(|a| a.iter().find(|h| h["name"] == name))
        .and_then(|h| h["id"].as_str())
        .unwrap_or_else(|| panic!("no household {name} in {v}"))
        .to_string()
}

/// Staff list (paged), create, rename, add and remove members (one household each), and delete
/// (members stay); every change is audited.
async fn staff_crud(app: TestApp) {
    let pastor = app
        .api_login("grace", "pastor@grace.example", "admin")
        .await;
    let page = pastor.get("/admin/mission/households").await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap_or_default();
    assert!(html.contains("Member family"), "{html}");
    assert!(html.contains("Garcia household"), "{html}");

    // Paging by cursor: two pages of two never repeat a household.
    let p1 = json_of(pastor.get("/api/v1/admin/mission/households?limit=2").await).await;
    let cursor = p1["next_cursor"].as_str().expect("next cursor").to_string();
    let p2 = json_of(
        pastor
            .get(&format!(
                "/api/v1/admin/mission/households?limit=2&cursor={cursor}"
            ))
            .await,
    )
    .await;
    let ids = |v: &Value| -> Vec<String> {
        v["items"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|h| h["id"].as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(ids(&p1).len(), 2);
    assert_eq!(ids(&p2).len(), 2);
    assert!(ids(&p2).iter().all(|i| !ids(&p1).contains(i)), "{p1} {p2}");

    // Create (JSON), with a name required.
    let r = pastor
        .post_json("/api/v1/admin/mission/households", &json!({"name": " "}))
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = pastor
        .post_json(
            "/api/v1/admin/mission/households",
            &json!({"name": "Whitaker household"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let id = json_of(r).await["id"].as_str().expect("id").to_string();

    // John joins; Mary, already in the Member family, is refused.
    let john = app.user_id("grace", "john@grace.example").await;
    let mary = app.user_id("grace", "mary@grace.example").await;
    let r = pastor
        .put_json(
            &format!("/api/v1/admin/mission/households/{id}/members/{john}"),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v = json_of(r).await;
    assert_eq!(v["members"][0]["name"], "John Whitaker", "{v}");
    let r = pastor
        .put_json(
            &format!("/api/v1/admin/mission/households/{id}/members/{mary}"),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let v = json_of(r).await;
    assert!(v.to_string().contains("user_id"), "{v}");

    // Rename (page form), then the detail page shows the new name and John.
    let r = pastor
        .post_form(
            &format!("/admin/mission/households/{id}"),
            &[("name", "Whitaker home")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = pastor
        .get(&format!("/admin/mission/households/{id}"))
        .await
        .text()
        .await
        .unwrap_or_default();
    assert!(
        html.contains("Whitaker home") && html.contains("John Whitaker"),
        "{html}"
    );
    assert!(html.contains("data-confirm"), "deleting asks first");

    // Remove John (page form), then removing him again is 404; add him back.
    let r = pastor
        .post_form(
            &format!("/admin/mission/households/{id}/members/{john}/remove"),
            &[],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = pastor
        .delete(&format!(
            "/api/v1/admin/mission/households/{id}/members/{john}"
        ))
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = pastor
        .post_form(
            &format!("/admin/mission/households/{id}/members"),
            &[("user_id", &john)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    // Delete: the household goes, John stays a member in no household.
    let r = pastor
        .post_form(&format!("/admin/mission/households/{id}/delete"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = pastor
        .get(&format!("/api/v1/admin/mission/households/{id}"))
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let js = app.api_login("grace", "john@grace.example", "portal").await;
    let v = json_of(js.get("/api/v1/mission/household").await).await;
    assert!(v["household"].is_null(), "{v}");

    let audit = app.audit_actions("grace").await;
    for a in [
        "mission.household_created",
        "mission.household_member_added",
        "mission.household_renamed",
        "mission.household_member_removed",
        "mission.household_deleted",
    ] {
        assert!(audit.iter().any(|x| x == a), "{a} in {audit:?}");
    }
}
crate::db_test!(mission_households_crud, staff_crud);

/// Members reach no staff route; acme never sees grace households and grace never sees acme's.
async fn access_and_isolation(app: TestApp) {
    let pastor = app
        .api_login("grace", "pastor@grace.example", "admin")
        .await;
    let id = household_named(&pastor, "Member family").await;
    let mary = app.api_login("grace", "mary@grace.example", "portal").await;
    let acme_staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let alice = app
        .api_login("acme", "alice@globex.example", "portal")
        .await;
    let john = app.user_id("grace", "john@grace.example").await;
    for s in [&mary, &acme_staff, &alice] {
        for p in [
            "/api/v1/admin/mission/households".to_string(),
            format!("/api/v1/admin/mission/households/{id}"),
            format!("/admin/mission/households/{id}"),
            "/admin/mission/households".to_string(),
            "/admin/mission/statements".to_string(),
            "/api/v1/admin/mission/statements".to_string(),
        ] {
            let r = s.get(&p).await;
            let status = r.status();
            let body = r.text().await.unwrap_or_default();
            assert!(!body.contains("Member family"), "{p}: {body}");
            assert_ne!(status, StatusCode::OK, "{p}");
        }
        for r in [
            s.put_json(
                &format!("/api/v1/admin/mission/households/{id}/members/{john}"),
                &json!({}),
            )
            .await,
            s.delete(&format!("/api/v1/admin/mission/households/{id}"))
                .await,
            s.post_json(
                "/api/v1/admin/mission/statements",
                &json!({"year": 2025, "delivery": "email"}),
            )
            .await,
        ] {
            assert!(
                matches!(
                    r.status(),
                    StatusCode::NOT_FOUND | StatusCode::FORBIDDEN | StatusCode::UNAUTHORIZED
                ),
                "{}",
                r.status()
            );
        }
    }
    // Nothing changed.
    let v = json_of(
        pastor
            .get(&format!("/api/v1/admin/mission/households/{id}"))
            .await,
    )
    .await;
    assert_eq!(v["members"].as_array().map(Vec::len), Some(2), "{v}");

    // A household row in acme (none of its pages would make one) is invisible to grace.
    let acme_id = {
        let tid: String = sqlx::query("SELECT id FROM tenants WHERE slug = 'acme'")
            .fetch_one(app.state.db.operator("test").reader())
            .await
            .expect("acme")
            .get(0);
        let hid = portico::db::new_id();
        sqlx::query("INSERT INTO mission_households (id, tenant_id, name) VALUES ($1, $2, 'Acme Secret House')")
            .bind(&hid)
            .bind(&tid)
            .execute(app.state.db.operator("test").writer())
            .await
            .expect("acme household");
        hid
    };
    let all = pastor
        .get("/api/v1/admin/mission/households?limit=200")
        .await
        .text()
        .await
        .unwrap_or_default();
    assert!(!all.contains("Acme Secret House"), "{all}");
    for p in [
        format!("/api/v1/admin/mission/households/{acme_id}"),
        format!("/admin/mission/households/{acme_id}"),
    ] {
        let r = pastor.get(&p).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{p}");
    }
    let r = pastor
        .put_json(
            &format!("/api/v1/admin/mission/households/{acme_id}/members/{john}"),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}
crate::db_test!(mission_households_isolation, access_and_isolation);

async fn pdf_of(s: &Session, path: &str) -> String {
    let r = s.get(path).await;
    assert_eq!(r.status(), StatusCode::OK, "{path}");
    let bytes = r.bytes().await.expect("pdf");
    crate::invoices::pdf_text(&bytes).unwrap_or_default()
}

/// The household statement lists the gifts of members who share, and nobody else's.
async fn household_statement(app: TestApp) {
    let pastor = app
        .api_login("grace", "pastor@grace.example", "admin")
        .await;
    let year = 2021;
    for (email, amount) in [
        ("mark@grace.example", "777.77"),
        ("mary@grace.example", "111.11"),
        ("john@grace.example", "555.55"),
    ] {
        let r = pastor
            .post_json(
                "/api/v1/admin/mission/gifts",
                &json!({"email": email, "date": format!("{year}-05-02"), "fund": "General Fund", "amount": amount, "method": "check"}),
            )
            .await;
        assert_eq!(
            r.status(),
            StatusCode::CREATED,
            "{}",
            r.text().await.unwrap_or_default()
        );
    }
    let mary = app.api_login("grace", "mary@grace.example", "portal").await;
    let mark = app.api_login("grace", "mark@grace.example", "portal").await;
    let path = format!("/portal/mission/giving/household-statement.pdf?year={year}");

    // Mark stops sharing: only Mary's gift is on the household statement.
    let r = mark
        .put_json(
            "/api/v1/mission/household",
            &json!({"share_statements": false}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v = json_of(mary.get("/api/v1/mission/household").await).await;
    assert_eq!(v["household"]["name"], "Member family", "{v}");
    assert_eq!(v["share_statements"], true, "{v}");
    let text = pdf_of(&mary, &path).await;
    if !text.is_empty() {
        assert!(text.contains("111.11"), "{text}");
        assert!(!text.contains("777.77"), "{text}");
        assert!(!text.contains("555.55"), "{text}");
    }
    // The page form: Mark shares again, and his gift appears with his name.
    let r = mark
        .post_form("/portal/mission/giving/sharing", &[("share", "1")])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let page = mary
        .get("/portal/mission/giving")
        .await
        .text()
        .await
        .unwrap_or_default();
    assert!(page.contains("household-statement-pdf"), "{page}");
    let text = pdf_of(&mark, &path).await;
    if !text.is_empty() {
        assert!(text.contains("777.77") && text.contains("111.11"), "{text}");
        assert!(text.contains("Mark Member"), "{text}");
        assert!(text.contains("888.88"), "total of the two: {text}");
        assert!(!text.contains("555.55"), "{text}");
    }
    // Mary stops sharing: Mark's statement no longer lists her gift.
    let r = mary.post_form("/portal/mission/giving/sharing", &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let text = pdf_of(&mark, &path).await;
    if !text.is_empty() {
        assert!(!text.contains("111.11"), "{text}");
    }
    // John is in no household.
    let john = app.api_login("grace", "john@grace.example", "portal").await;
    let r = john.get(&path).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(
        app.audit_actions("grace")
            .await
            .iter()
            .any(|a| a == "mission.statement_sharing_changed")
    );
}
crate::db_test!(mission_household_statement, household_statement);

/// Mails to `to` that carry a statement for `year`.
fn statement_mails(app: &TestApp, to: &str, year: i64) -> usize {
    app.sent_mail()
        .iter()
        .filter(|m| {
            m.contains(&format!("To: {to}")) && m.contains(&format!("giving-statement-{year}.pdf"))
        })
        .count()
}

/// A run for a year mails every giver their statement PDF once: progress reaches n of n, and
/// running the run's job again, twice at once, mails nobody twice. An archive run offers one zip.
async fn statements_run(app: TestApp) {
    let pastor = app
        .api_login("grace", "pastor@grace.example", "admin")
        .await;
    let year = 2020_i64;
    for (email, amount) in [
        ("mary@grace.example", "10.00"),
        ("mary@grace.example", "5.25"),
        ("mark@grace.example", "20.00"),
    ] {
        let r = pastor
            .post_json(
                "/api/v1/admin/mission/gifts",
                &json!({"email": email, "date": format!("{year}-03-01"), "fund": "General Fund", "amount": amount}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    let r = pastor
        .post_json(
            "/api/v1/admin/mission/statements",
            &json!({"year": year, "delivery": "fax"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = pastor
        .post_json(
            "/api/v1/admin/mission/statements",
            &json!({"year": year, "delivery": "email"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let run = json_of(r).await;
    let id = run["id"].as_str().expect("id").to_string();
    assert_eq!(run["total"], 2, "{run}");
    assert_eq!(run["done"], 0, "{run}");
    // The run's job queues one mail job per giver; a mail job retried under load runs a little
    // later, so wait for the run to finish rather than for one empty queue.
    let mut run = Value::Null;
    for _ in 0..150 {
        app.drain_jobs().await;
        run = json_of(
            pastor
                .get(&format!("/api/v1/admin/mission/statements/{id}"))
                .await,
        )
        .await;
        if run["status"] == "done" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(run["status"], "done", "{run}");
    assert_eq!(run["done"], 2, "{run}");
    let page = pastor
        .get("/admin/mission/statements")
        .await
        .text()
        .await
        .unwrap_or_default();
    assert!(page.contains("2 of 2"), "{page}");
    assert_eq!(statement_mails(&app, "mary@grace.example", year), 1);
    assert_eq!(statement_mails(&app, "mark@grace.example", year), 1);
    assert_eq!(statement_mails(&app, "john@grace.example", year), 0);
    let mail = app.last_mail_to("mary@grace.example").await;
    assert!(mail.contains("application/pdf"), "{mail}");

    // The run's job again, as after a crash, twice at the same time: nobody is mailed again.
    let tenant: String = sqlx::query("SELECT id FROM tenants WHERE slug = 'grace'")
        .fetch_one(app.state.db.operator("test").reader())
        .await
        .expect("grace")
        .get(0);
    sqlx::query("UPDATE mission_statement_runs SET status = 'running' WHERE id = $1")
        .bind(&id)
        .execute(app.state.db.operator("test").writer())
        .await
        .expect("reset status");
    for _ in 0..2 {
        portico::jobs::enqueue_operator(
            &app.state.db,
            Some(&tenant),
            "mission_statements",
            &json!({"run_id": id}),
            portico::db::now_ms(),
        )
        .await
        .expect("enqueue");
    }
    // The app's own worker may take them first; either way nobody is mailed twice.
    let _ = tokio::join!(
        portico::jobs::run_due(&app.state),
        portico::jobs::run_due(&app.state)
    );
    app.drain_jobs().await;
    assert_eq!(statement_mails(&app, "mary@grace.example", year), 1);
    assert_eq!(statement_mails(&app, "mark@grace.example", year), 1);

    // A second run for the same year, itself started twice at once: each run mails each giver
    // once, so two runs make two mails each, never more.
    let body = json!({"year": year, "delivery": "email"});
    let (r1, r2) = tokio::join!(
        pastor.post_json("/api/v1/admin/mission/statements", &body),
        pastor.post_json("/api/v1/admin/mission/statements", &body)
    );
    assert_eq!(r1.status(), StatusCode::CREATED);
    assert_eq!(r2.status(), StatusCode::CREATED);
    app.drain_jobs().await;
    assert_eq!(statement_mails(&app, "mary@grace.example", year), 3);

    // Archive: one zip with each giver's statement.
    let r = pastor
        .post_form(
            "/admin/mission/statements",
            &[("year", "2020"), ("delivery", "archive")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    app.drain_jobs().await;
    let runs = json_of(pastor.get("/api/v1/admin/mission/statements").await).await;
    let archive = runs["items"]
        .as_array()
        .and_then(|a| a.iter().find(|r| r["delivery"] == "archive"))
        .cloned()
        .expect("archive run");
    assert_eq!(archive["status"], "done", "{archive}");
    assert_eq!(archive["archive_ready"], true, "{archive}");
    let aid = archive["id"].as_str().expect("id");
    let r = pastor
        .get(&format!("/admin/mission/statements/{aid}/archive.zip"))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let bytes = r.bytes().await.expect("zip");
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).expect("a zip");
    assert_eq!(zip.len(), 2);
    let mut names: Vec<String> = (0..zip.len())
        .filter_map(|i| zip.by_index(i).ok().map(|f| f.name().to_string()))
        .collect();
    names.sort();
    assert_eq!(names, vec!["2020-Mark-Member.pdf", "2020-Mary-Member.pdf"]);
    // Staff's archive of grace is not acme's to fetch.
    let acme_staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let r = acme_staff
        .get(&format!("/admin/mission/statements/{aid}/archive.zip"))
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(
        app.audit_actions("grace")
            .await
            .iter()
            .any(|a| a == "mission.statements_started")
    );
}
crate::db_test!(mission_statements_run, statements_run);
