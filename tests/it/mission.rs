//! The Mission portal: giving privacy, statements (rounding, year boundaries in the tenant's
//! zone), the all-or-nothing CSV import, directory privacy, the prayer wall (private,
//! anonymous, "I prayed" once under concurrency, approval), and isolation from MSP tenants.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{Session, TestApp};

async fn json_of(r: reqwest::Response) -> Value {
    r.json().await.unwrap_or(Value::Null)
}

async fn text_of(s: &Session, path: &str) -> (StatusCode, String) {
    let r = s.get(path).await;
    (r.status(), r.text().await.unwrap_or_default())
}

async fn set_zone(app: &TestApp, tz: &str) {
    sqlx::query("UPDATE tenants SET time_zone = $1 WHERE slug = 'grace'")
        .bind(tz)
        .execute(app.state.db.operator("test").writer())
        .await
        .unwrap();
}

fn pdf_text(bytes: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.pdf");
    std::fs::write(&path, bytes).unwrap();
    let out = std::process::Command::new("pdftotext")
        .arg("-layout")
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) is installed");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

async fn import(pastor: &Session, csv: &str, dry_run: bool) -> (StatusCode, Value) {
    let r = pastor
        .post_json(
            "/api/v1/admin/mission/gifts/import",
            &json!({ "csv": csv, "dry_run": dry_run }),
        )
        .await;
    (r.status(), json_of(r).await)
}

/// A member sees only their own gifts by every route; staff entries are audited.
async fn giving_is_private(app: TestApp) {
    let mary = app.api_login("grace", "mary@grace.example", "portal").await;
    let mark = app.api_login("grace", "mark@grace.example", "portal").await;
    let pastor = app
        .api_login("grace", "pastor@grace.example", "admin")
        .await;
    let mary_id = app.user_id("grace", "mary@grace.example").await;

    let v = json_of(mary.get("/api/v1/mission/giving").await).await;
    let items = v["items"].as_array().cloned().unwrap_or_default();
    assert!(items.len() > 10, "Mary has two years of demo gifts: {v}");
    assert!(items.iter().all(|g| g["member_id"] == mary_id.as_str()));
    assert!(items.iter().any(|g| g["recurring"] == true));

    // Mark has no gifts, and no parameter reaches Mary's.
    for path in [
        "/api/v1/mission/giving".to_string(),
        format!("/api/v1/mission/giving?member={mary_id}"),
    ] {
        let v = json_of(mark.get(&path).await).await;
        assert_eq!(v["items"].as_array().map(Vec::len), Some(0), "{path}: {v}");
        assert_eq!(
            v["by_year"].as_array().map(Vec::len),
            Some(0),
            "{path}: {v}"
        );
    }
    let (status, page) = text_of(&mark, "/portal/mission/giving").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!page.contains("$150.00"), "Mary's tithe on Mark's page");
    let csv = mark
        .get("/portal/mission/giving/gifts.csv")
        .await
        .text()
        .await
        .unwrap_or_default();
    assert_eq!(csv.lines().count(), 1, "only the header: {csv}");

    // Staff record a gift for Mark: he sees it, Mary does not; the entry is audited.
    let r = pastor
        .post_json(
            "/api/v1/admin/mission/gifts",
            &json!({"email": "mark@grace.example", "date": "2024-05-05", "fund": "Missions", "amount": "42.42", "method": "card"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v = json_of(mark.get("/api/v1/mission/giving?year=2024").await).await;
    assert_eq!(v["items"][0]["amount_minor"], 4242);
    let v = json_of(mary.get("/api/v1/mission/giving?year=2024").await).await;
    assert!(
        v["items"]
            .as_array()
            .is_some_and(|i| i.iter().all(|g| g["amount_minor"] != 4242))
    );
    assert!(
        app.audit_actions("grace")
            .await
            .iter()
            .any(|a| a == "mission.gift_recorded"),
        "gift entry is audited"
    );

    // Members cannot use the staff API; MSP tenants do not have Mission pages at all.
    assert_eq!(
        mary.get("/api/v1/admin/mission/gifts").await.status(),
        StatusCode::UNAUTHORIZED
    );
    let alice = app
        .api_login("acme", "alice@globex.example", "portal")
        .await;
    let acme_staff = app.api_login("acme", "staff@acme.example", "admin").await;
    for path in [
        "/portal/mission/giving",
        "/portal/mission/giving/statement.pdf?year=2025",
        "/portal/mission/directory",
        "/portal/mission/prayer",
        "/portal/mission/dashboard",
        "/api/v1/mission/giving",
        "/api/v1/mission/directory?q=mary",
        "/api/v1/mission/prayer",
    ] {
        let (status, body) = text_of(&alice, path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(
            !body.contains("Mary") && !body.contains("General Fund"),
            "{path}"
        );
    }
    for path in [
        "/admin/mission/gifts",
        "/admin/mission/prayer",
        "/admin/mission/settings",
        "/api/v1/admin/mission/gifts",
        "/api/v1/admin/mission/prayer",
    ] {
        assert_eq!(
            acme_staff.get(path).await.status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let r = acme_staff
        .post_form("/admin/mission/funds", &[("name", "Acme fund")])
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // And the reverse: grace's staff and members have no MSP pages.
    assert_eq!(
        pastor.get("/api/v1/admin/tickets").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        mary.get("/portal/tickets").await.status(),
        StatusCode::NOT_FOUND
    );
}
crate::db_test!(mission_giving_private, giving_is_private);

/// Statements add exact minor units, and a year is the tenant's year, not UTC's.
async fn statements_round_and_respect_the_zone(app: TestApp) {
    set_zone(&app, "America/Chicago").await;
    let pastor = app
        .api_login("grace", "pastor@grace.example", "admin")
        .await;
    let mark = app.api_login("grace", "mark@grace.example", "portal").await;
    let csv = "email,date,fund,amount,method\n\
        mark@grace.example,2026-01-01T04:30:00Z,General Fund,0.10,online\n\
        mark@grace.example,2025-12-31,General Fund,0.10,cash\n\
        mark@grace.example,2025-06-01,Missions,0.10,cash\n\
        mark@grace.example,2026-01-01T06:30:00Z,Missions,1000,online\n";
    let (status, v) = import(&pastor, csv, false).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["imported"], 4, "{v}");

    // 04:30 UTC on New Year's Day is still 31 December in Chicago.
    let v = json_of(mark.get("/api/v1/mission/giving?year=2025").await).await;
    assert_eq!(v["items"].as_array().map(Vec::len), Some(3), "{v}");
    let y2025 = v["by_year"]
        .as_array()
        .and_then(|a| a.iter().find(|t| t["label"] == "2025").cloned());
    assert_eq!(y2025.map(|t| t["amount_minor"].clone()), Some(json!(30)));
    let csv = mark
        .get("/portal/mission/giving/gifts.csv?year=2025")
        .await
        .text()
        .await
        .unwrap_or_default();
    assert!(
        csv.contains("2025-12-31,General Fund,online,no,0.10,USD"),
        "{csv}"
    );
    assert!(!csv.contains("1000.00"), "{csv}");

    let r = mark
        .get("/portal/mission/giving/statement.pdf?year=2025")
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/pdf")
    );
    let text = pdf_text(&r.bytes().await.unwrap_or_default());
    assert!(text.contains("Grace Church"), "{text}");
    assert!(text.contains("EIN 12-3456789"), "{text}");
    assert!(text.contains("100 Chapel Street"), "{text}");
    assert!(
        text.contains("Mark Member") && text.contains("12 Elm Street"),
        "{text}"
    );
    assert!(text.contains("$0.30"), "total of three 0.10 gifts: {text}");
    assert!(
        !text.contains("1,000.00"),
        "a 2026 gift on the 2025 statement: {text}"
    );
    assert!(
        text.contains("No goods or services were provided"),
        "{text}"
    );
    let text2026 = pdf_text(
        &mark
            .get("/portal/mission/giving/statement.pdf?year=2026")
            .await
            .bytes()
            .await
            .unwrap_or_default(),
    );
    assert!(text2026.contains("$1,000.00"), "{text2026}");
}
crate::db_test!(mission_statements, statements_round_and_respect_the_zone);

/// An import with one bad row records nothing and says which row and field.
async fn import_is_all_or_nothing(app: TestApp) {
    let pastor = app
        .api_login("grace", "pastor@grace.example", "admin")
        .await;
    let bad = "email,date,fund,amount\n\
        mary@grace.example,2025-02-02,General Fund,10.00\n\
        nobody@grace.example,2025-02-31,Nope,10.005\n";
    let (status, v) = import(&pastor, bad, false).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["imported"], 0);
    assert_eq!(v["rows"][0]["errors"].as_array().map(Vec::len), Some(0));
    let fields: Vec<String> = v["rows"][1]["errors"]
        .as_array()
        .map(|e| {
            e.iter()
                .filter_map(|x| x["field"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(fields, ["email", "date", "fund", "amount"], "{v}");
    assert_eq!(v["rows"][1]["line"], 3);
    let mary = app.api_login("grace", "mary@grace.example", "portal").await;
    let before = json_of(mary.get("/api/v1/mission/giving?year=2025").await).await["items"]
        .as_array()
        .map(Vec::len);

    // The page shows the preview with the problem beside its row, and imports nothing.
    let r = pastor
        .post_form(
            "/admin/mission/gifts/import",
            &[("csv", bad), ("step", "import")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let page = r.text().await.unwrap_or_default();
    assert!(page.contains("role=\"alert\"") && page.contains("nobody@grace.example"));
    let after = json_of(mary.get("/api/v1/mission/giving?year=2025").await).await["items"]
        .as_array()
        .map(Vec::len);
    assert_eq!(before, after, "nothing imported");

    let good = "email,date,fund,amount,method,recurring\nmary@grace.example,2025-02-02,general fund,10,cash,yes\n";
    let (_, v) = import(&pastor, good, true).await;
    assert_eq!(v["imported"], 0, "dry run by default keeps nothing");
    let r = pastor
        .post_form(
            "/admin/mission/gifts/import",
            &[("csv", good), ("step", "import")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let after = json_of(mary.get("/api/v1/mission/giving?year=2025").await).await["items"]
        .as_array()
        .map(Vec::len);
    assert_eq!(after, before.map(|n| n + 1));
}
crate::db_test!(mission_import, import_is_all_or_nothing);

/// What a member hides never reaches another member: page, API or search.
async fn directory_keeps_choices(app: TestApp) {
    let mary = app.api_login("grace", "mary@grace.example", "portal").await;
    let mark = app.api_login("grace", "mark@grace.example", "portal").await;

    // John shares nothing: name only. Nils left the directory.
    let v = json_of(mary.get("/api/v1/mission/directory?q=whitaker").await).await;
    assert_eq!(v["items"][0]["name"], "John Whitaker", "{v}");
    for f in ["email", "phone", "address", "birthday", "household"] {
        assert!(v["items"][0][f].is_null(), "{f}: {v}");
    }
    let v = json_of(mary.get("/api/v1/mission/directory?q=lindqvist").await).await;
    let names: Vec<&str> = v["items"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["name"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(names, ["Ingrid Lindqvist"]);
    // Search matches names only: a hidden email finds nobody.
    let v = json_of(mary.get("/api/v1/mission/directory?q=john%40grace").await).await;
    assert_eq!(v["items"].as_array().map(Vec::len), Some(0));
    let (_, page) = text_of(&mary, "/portal/mission/directory?q=").await;
    assert!(page.contains("John Whitaker"));
    for hidden in [
        "john@grace.example",
        "+1 555 0112",
        "8 Oak Lane",
        "Nils",
        "nils@grace.example",
    ] {
        assert!(
            !page.contains(hidden),
            "{hidden} leaked on the directory page"
        );
    }

    // Mary shares her email and phone; Mark sees them, then not once she hides them.
    let v = json_of(mark.get("/api/v1/mission/directory?q=mary").await).await;
    assert_eq!(v["items"][0]["email"], "mary@grace.example");
    assert_eq!(v["items"][0]["phone"], "+1 555 0110");
    assert!(v["items"][0]["address"].is_null());
    let r = mary
        .post_form(
            "/portal/mission/directory/settings",
            &[
                ("listed", "1"),
                ("show_birthday", "1"),
                ("address", "12 Elm Street"),
                ("birthday", "04-12"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let v = json_of(mark.get("/api/v1/mission/directory?q=mary").await).await;
    assert!(
        v["items"][0]["email"].is_null() && v["items"][0]["phone"].is_null(),
        "{v}"
    );
    assert_eq!(v["items"][0]["birthday"], "04-12");
    let (_, page) = text_of(&mark, "/portal/mission/directory?q=mary").await;
    assert!(!page.contains("mary@grace.example") && !page.contains("0110"));
    // She still sees her own details.
    let v = json_of(mary.get("/api/v1/mission/directory?q=mary").await).await;
    assert_eq!(v["items"][0]["email"], "mary@grace.example");

    // Leaving the directory hides her from everyone else's search.
    let r = mary
        .put_json(
            "/api/v1/mission/directory/me",
            &json!({"listed": false, "show_photo": false, "show_email": true, "show_phone": true,
                    "show_address": true, "show_birthday": true, "show_household": true}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v = json_of(mark.get("/api/v1/mission/directory?q=mary").await).await;
    assert_eq!(v["items"].as_array().map(Vec::len), Some(0), "{v}");
    // Invalid birthdays are refused beside the field.
    let r = mary
        .post_form(
            "/portal/mission/directory/settings",
            &[("birthday", "13-40")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(
        app.audit_actions("grace")
            .await
            .iter()
            .any(|a| a == "mission.directory_changed")
    );
}
crate::db_test!(mission_directory, directory_keeps_choices);

/// Private requests reach staff only; anonymous ones never name their author to members.
async fn prayer_privacy(app: TestApp) {
    let mary = app.api_login("grace", "mary@grace.example", "portal").await;
    let mark = app.api_login("grace", "mark@grace.example", "portal").await;
    let pastor = app
        .api_login("grace", "pastor@grace.example", "admin")
        .await;
    const PRIVATE: &str = "struggling in my marriage";

    let wall = json_of(mary.get("/api/v1/mission/prayer").await).await;
    let text = wall.to_string();
    assert!(
        !text.contains(PRIVATE),
        "a private request on a member's wall"
    );
    assert!(
        !text.contains("Grace Okafor"),
        "an anonymous author named: {text}"
    );
    assert!(text.contains("two interviews"));
    let (_, page) = text_of(&mary, "/portal/mission/prayer").await;
    assert!(!page.contains(PRIVATE) && !page.contains("Grace Okafor"));
    let (_, dash) = text_of(&mary, "/portal/mission/dashboard").await;
    assert!(!dash.contains(PRIVATE) && !dash.contains("Grace Okafor"));

    let queue = json_of(
        pastor
            .get("/api/v1/admin/mission/prayer?queue=private")
            .await,
    )
    .await;
    let private_id = queue["items"]
        .as_array()
        .and_then(|a| {
            a.iter()
                .find(|p| p["body"].as_str().is_some_and(|b| b.contains(PRIVATE)))
        })
        .and_then(|p| p["id"].as_str().map(String::from))
        .expect("staff see the private request");
    // Members cannot reach it by id either.
    for path in ["prayed", "report", "answer"] {
        let r = mary
            .post_json(
                &format!("/api/v1/mission/prayer/{private_id}/{path}"),
                &json!({}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
    }

    // Mary posts anonymously: she sees it is hers, Mark sees no name.
    let r = mary
        .post_json(
            "/api/v1/mission/prayer",
            &json!({"body": "Courage for a hard conversation at work.", "anonymous": true}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let mine = json_of(r).await;
    assert_eq!(mine["author"], "Mary Member");
    let id = mine["id"].as_str().unwrap_or_default().to_string();
    let wall = json_of(mark.get("/api/v1/mission/prayer").await).await;
    let post = wall["items"]
        .as_array()
        .and_then(|a| a.iter().find(|p| p["id"] == id.as_str()).cloned())
        .expect("on Mark's wall");
    assert!(post["author"].is_null() && post["mine"] == false, "{post}");
    let (_, page) = text_of(&mark, "/portal/mission/prayer").await;
    let card = page
        .split(&format!("data-prayer=\"{id}\""))
        .nth(1)
        .and_then(|rest| rest.split("</li>").next())
        .unwrap_or_default();
    assert!(
        card.contains("hard conversation") && !card.contains("Mary Member"),
        "{card}"
    );

    // A private request by Mary is on her own wall, not on Mark's.
    let r = mary
        .post_form(
            "/portal/mission/prayer",
            &[
                ("body", "Only for the pastors: a family matter."),
                ("visibility", "staff"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(
        text_of(&mary, "/portal/mission/prayer")
            .await
            .1
            .contains("a family matter")
    );
    assert!(
        !text_of(&mark, "/portal/mission/prayer")
            .await
            .1
            .contains("a family matter")
    );
    assert!(
        text_of(&pastor, "/admin/mission/prayer?queue=private")
            .await
            .1
            .contains("a family matter")
    );

    // Only the author marks it answered.
    let r = mark
        .post_json(
            &format!("/api/v1/mission/prayer/{id}/answer"),
            &json!({"praise": "x"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = mary
        .post_json(
            &format!("/api/v1/mission/prayer/{id}/answer"),
            &json!({"praise": "It went well!"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(json_of(r).await["praise"], "It went well!");
}
crate::db_test!(mission_prayer_privacy, prayer_privacy);

/// "I prayed" counts each member once, however many requests arrive at the same moment.
async fn prayed_once_under_concurrency(app: TestApp) {
    let mary = app.api_login("grace", "mary@grace.example", "portal").await;
    let mark = app.api_login("grace", "mark@grace.example", "portal").await;
    let r = mary
        .post_json(
            "/api/v1/mission/prayer",
            &json!({"body": "Rain for the farms."}),
        )
        .await;
    let id = json_of(r).await["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let path = format!("/api/v1/mission/prayer/{id}/prayed");
    let empty = json!({});
    let mut calls = Vec::new();
    for _ in 0..8 {
        calls.push(mary.post_json(&path, &empty));
        calls.push(mark.post_json(&path, &empty));
    }
    for r in futures::future::join_all(calls).await {
        assert_eq!(r.status(), StatusCode::OK);
    }
    let wall = json_of(mark.get("/api/v1/mission/prayer").await).await;
    let post = wall["items"]
        .as_array()
        .and_then(|a| a.iter().find(|p| p["id"] == id.as_str()).cloned())
        .expect("post");
    assert_eq!(post["prayed_count"], 2, "{post}");
    assert_eq!(post["i_prayed"], true);
    let (_, page) = text_of(&mary, "/portal/mission/prayer").await;
    assert!(page.contains("2 people prayed"));
}
crate::db_test!(mission_prayed_once, prayed_once_under_concurrency);

/// With approval on, new requests wait in the staff queue; reports reach it too.
async fn approval_queue(app: TestApp) {
    let mary = app.api_login("grace", "mary@grace.example", "portal").await;
    let mark = app.api_login("grace", "mark@grace.example", "portal").await;
    let pastor = app
        .api_login("grace", "pastor@grace.example", "admin")
        .await;
    let r = pastor
        .post_form(
            "/admin/mission/settings",
            &[
                ("currency", "USD"),
                ("org_address", "100 Chapel Street"),
                ("tax_id", "EIN 12-3456789"),
                ("statement_wording", "Thank you."),
                ("giving_url", "https://give.grace.example"),
                ("prayer_approval", "1"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = pastor
        .post_form(
            "/admin/mission/settings",
            &[("currency", "dollars"), ("giving_url", "http://x")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    let r = mary
        .post_form(
            "/portal/mission/prayer",
            &[("body", "Healing for Aunt June.")],
        )
        .await;
    assert_eq!(
        r.headers().get("location").and_then(|v| v.to_str().ok()),
        Some("/portal/mission/prayer?notice=pending")
    );
    assert!(
        !text_of(&mark, "/portal/mission/prayer")
            .await
            .1
            .contains("Aunt June")
    );
    assert!(
        text_of(&mary, "/portal/mission/prayer")
            .await
            .1
            .contains("Aunt June")
    );
    let queue = json_of(
        pastor
            .get("/api/v1/admin/mission/prayer?queue=pending")
            .await,
    )
    .await;
    let id = queue["items"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        queue["items"][0]["body"]
            .as_str()
            .is_some_and(|b| b.contains("Aunt June"))
    );
    let r = pastor
        .post_form(
            "/admin/mission/prayer/moderate",
            &[("id", &id), ("action", "approve")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(
        text_of(&mark, "/portal/mission/prayer")
            .await
            .1
            .contains("Aunt June")
    );

    // Mark reports it; staff see it in the reported queue and hide it.
    let r = mark
        .post_form(&format!("/portal/mission/prayer/{id}/report"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(
        text_of(&pastor, "/admin/mission/prayer?queue=reported")
            .await
            .1
            .contains("Aunt June")
    );
    let r = pastor
        .post_json(
            "/api/v1/admin/mission/prayer/moderate",
            &json!({"id": id, "action": "hide"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        !text_of(&mark, "/portal/mission/prayer")
            .await
            .1
            .contains("Aunt June")
    );
    let r = pastor
        .post_json(
            "/api/v1/admin/mission/prayer/moderate",
            &json!({"id": id, "action": "delete"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        !text_of(&mary, "/portal/mission/prayer")
            .await
            .1
            .contains("Aunt June")
    );
    let actions = app.audit_actions("grace").await;
    for a in [
        "mission.settings_changed",
        "mission.prayer_approved",
        "mission.prayer_hidden",
        "mission.prayer_deleted",
        "mission.prayer_reported",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a} audited");
    }
    // Members cannot moderate.
    assert_eq!(
        mary.post_json(
            "/api/v1/admin/mission/prayer/moderate",
            &json!({"id": id, "action": "delete"})
        )
        .await
        .status(),
        StatusCode::UNAUTHORIZED
    );
}
crate::db_test!(mission_prayer_approval, approval_queue);

/// The dashboard shows the member's latest gift, year-to-date total and newest requests.
async fn dashboard_summarises(app: TestApp) {
    let mary = app.api_login("grace", "mary@grace.example", "portal").await;
    let (status, page) = text_of(&mary, "/portal/mission/dashboard").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("id=\"latest-gift\""), "latest gift shown");
    assert!(page.contains("id=\"stat-ytd\""));
    assert!(
        page.contains("$150.00"),
        "the monthly tithe is the latest gift"
    );
    assert!(
        page.contains("hip surgery") || page.contains("interviews"),
        "newest requests"
    );
    let (_, giving) = text_of(&mary, "/portal/mission/giving").await;
    assert!(
        giving.contains("https://give.grace.example"),
        "external giving link"
    );
}
crate::db_test!(mission_dashboard, dashboard_summarises);
