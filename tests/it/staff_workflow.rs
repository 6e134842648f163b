//! Staff workflow: reply or internal note as explicit modes, staff notifications and SLA
//! warnings, replies by email, saved queue views, bulk actions and the demo data for them.

use reqwest::StatusCode;
use reqwest::multipart::Form;
use serde_json::{Value, json};

use crate::support::{Session, TestApp};

/// Raises a ticket as `s` through the client API; returns its number.
async fn raise(s: &Session, subject: &str) -> i64 {
    let r = s
        .post_json(
            "/api/v1/tickets",
            &json!({ "subject": subject, "description": format!("About {subject}."), "priority": "normal" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json::<Value>().await.unwrap()["number"].as_i64().unwrap()
}

/// `(body, internal)` of a ticket's comments as staff see them.
async fn comments(staff: &Session, n: i64) -> Vec<(String, bool)> {
    let t: Value = staff
        .get(&format!("/api/v1/admin/tickets/{n}"))
        .await
        .json()
        .await
        .unwrap();
    t["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["body"].as_str().unwrap().to_string(),
                c["internal"].as_bool().unwrap(),
            )
        })
        .collect()
}

async fn reply_and_note_are_separate_modes(app: TestApp) {
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let n = raise(&bob, "Modes").await;

    let page = staff
        .get(&format!("/admin/tickets/{n}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(r#"name="kind" value="reply" checked"#),
        "reply is the default mode"
    );
    assert!(page.contains(r#"name="kind" value="note""#));
    assert!(page.contains("Only staff will see this"));
    assert!(!page.contains(r#"name="internal""#), "the checkbox is gone");

    let path = format!("/admin/tickets/{n}/comments");
    let post = |kind: &'static str, body: &'static str| {
        let form = Form::new().text("kind", kind).text("body", body);
        staff.upload(&path, form)
    };
    let r = post("note", "NOTE-ONLY-STAFF").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap()
            .contains("notice=noted")
    );
    let r = post("reply", "PUBLIC-REPLY").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap()
            .contains("notice=replied")
    );
    // No mode, or an unknown one, is refused and nothing is added.
    let r = post("", "NO-MODE").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Choose “Reply to client” or “Internal note”."),
        "{html}"
    );
    let r = post("secret", "ODD-MODE").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    let c = comments(&staff, n).await;
    assert!(c.contains(&("NOTE-ONLY-STAFF".into(), true)), "{c:?}");
    assert!(c.contains(&("PUBLIC-REPLY".into(), false)), "{c:?}");
    assert!(!c.iter().any(|(b, _)| b == "NO-MODE" || b == "ODD-MODE"));
    let client_view = bob
        .get(&format!("/api/v1/tickets/{n}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(client_view.contains("PUBLIC-REPLY"));
    assert!(!client_view.contains("NOTE-ONLY-STAFF"));
}
crate::db_test!(staff_compose_modes, reply_and_note_are_separate_modes);
