//! Signature reminders and later members: the reminder job follows each policy's schedule
//! (days before the due date), sends one reminder per signer and day at most, never to a
//! signer who finished and never after the due date; "include users added later" creates
//! requests on the write paths (invitation accepted) and in the job's sweep, never while a
//! page is viewed.

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::Row;

use crate::support::{Session, TestApp, form_csrf, link_in};

async fn send(staff: &Session, title: &str, extra: Value) -> Value {
    let mut b = json!({ "title": title, "body": "## Rules\n\nPack light.", "version": "1.0" });
    if let (Some(o), Some(e)) = (b.as_object_mut(), extra.as_object()) {
        o.extend(e.clone());
    }
    let r = staff
        .post_json("/api/v1/admin/documents/policies", &b)
        .await;
    let s = r.status();
    let v: Value = r.json().await.unwrap_or(Value::Null);
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v
}

fn request_of(policy: &Value, email: &str) -> String {
    policy["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["user_email"] == email)
        .unwrap_or_else(|| panic!("no request for {email} in {policy}"))["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn sign(s: &Session, id: &str) {
    let d: Value = s
        .get(&format!("/api/v1/signatures/{id}"))
        .await
        .json()
        .await
        .unwrap();
    let hash = d["content_hash"].as_str().unwrap().to_string();
    for (step, body) in [
        ("read", json!({ "content_hash": hash })),
        (
            "acknowledge",
            json!({ "understood": true, "consent": true }),
        ),
        ("confirm", json!({ "full_name": d["user_name"] })),
    ] {
        let r = s
            .post_json(&format!("/api/v1/signatures/{id}/{step}"), &body)
            .await;
        assert_eq!(r.status(), StatusCode::OK, "{step}");
    }
}

/// Noon UTC of a day, as Unix ms (the same calendar day in the demo tenants' zones).
fn noon(day: &str) -> i64 {
    chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d")
        .unwrap()
        .and_hms_opt(12, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp_millis()
}

/// Runs the reminder job as of `now` and waits for it and the mail it queued.
async fn run_job(app: &TestApp, now: i64) {
    portico::jobs::enqueue_operator(
        &app.state.db,
        None,
        "documents.reminders",
        &json!({ "now": now }),
        portico::db::now_ms(),
    )
    .await
    .unwrap();
    app.drain_jobs().await;
}

fn reminders_about(app: &TestApp, title: &str) -> Vec<String> {
    app.sent_mail()
        .into_iter()
        .map(|m| m.replace("=\r\n", "").replace("=3D", "="))
        .filter(|m| m.contains("Reminder") && m.contains(title))
        .collect()
}

async fn count(app: &TestApp, sql: &str, bind: &str) -> i64 {
    sqlx::query(sql)
        .bind(bind)
        .fetch_one(app.state.db.operator("test").reader())
        .await
        .expect(sql)
        .get::<i64, _>(0)
}

async fn reminders_follow_the_schedule(app: TestApp) {
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let vera = app.api_login("acme", "vera@globex.example", "portal").await;
    let globex = app.company_id("acme", "Globex").await;
    let p = send(
        &staff,
        "Travel rules",
        json!({ "company_ids": [globex], "due": "2030-06-30", "reminders": "7,1" }),
    )
    .await;
    let pid = p["policy"]["id"].as_str().unwrap().to_string();
    let signers = p["signatures"].as_array().unwrap().len();
    assert!(signers >= 2, "{p}");
    // Vera signs at once: she is never reminded.
    sign(&vera, &request_of(&p, "vera@globex.example")).await;
    let open = signers - 1;
    app.drain_jobs().await;

    // Before the first day of the schedule: nothing.
    run_job(&app, noon("2030-06-22")).await;
    assert_eq!(reminders_about(&app, "Travel rules").len(), 0);
    // Seven days before: one reminder per open signer; again the same day: nothing more.
    run_job(&app, noon("2030-06-23")).await;
    let first = reminders_about(&app, "Travel rules");
    assert_eq!(first.len(), open, "{first:?}");
    assert!(!first.iter().any(|m| m.contains("vera@globex.example")));
    assert!(first.iter().any(|m| m.contains("bob@globex.example")));
    assert!(first[0].contains("/portal/documents/") && first[0].contains("/sign"));
    run_job(&app, noon("2030-06-23") + 5 * 3_600_000).await;
    run_job(&app, noon("2030-06-25")).await;
    assert_eq!(reminders_about(&app, "Travel rules").len(), open);
    // The day before: the second and last one.
    run_job(&app, noon("2030-06-29")).await;
    run_job(&app, noon("2030-06-29") + 3_600_000).await;
    assert_eq!(reminders_about(&app, "Travel rules").len(), 2 * open);
    // After the due date the schedule is over.
    run_job(&app, noon("2030-07-02")).await;
    assert_eq!(reminders_about(&app, "Travel rules").len(), 2 * open);
    let rows = count(
        &app,
        "SELECT COUNT(*) FROM doc_reminders_sent r JOIN doc_signatures s ON s.tenant_id = r.tenant_id \
         AND s.id = r.signature_id WHERE s.policy_id = $1",
        &pid,
    )
    .await;
    assert_eq!(rows as usize, 2 * open);
    // Staff see when each signer was last reminded.
    let d: Value = staff
        .get(&format!("/api/v1/admin/documents/policies/{pid}"))
        .await
        .json()
        .await
        .unwrap();
    let bob = d["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["user_email"] == "bob@globex.example")
        .cloned()
        .unwrap();
    assert!(bob["reminded_at"].as_i64().is_some(), "{bob}");
    assert!(
        app.audit_actions("acme")
            .await
            .contains(&"document.reminded".to_string())
    );
    // A cancelled policy reminds nobody.
    let p2 = send(
        &staff,
        "Parking rules",
        json!({ "company_ids": [globex], "due": "2030-06-30", "reminders": "7" }),
    )
    .await;
    let pid2 = p2["policy"]["id"].as_str().unwrap();
    let r = staff
        .post_json(
            &format!("/api/v1/admin/documents/policies/{pid2}/cancel"),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    run_job(&app, noon("2030-06-24")).await;
    assert_eq!(reminders_about(&app, "Parking rules").len(), 0);
}
crate::db_test!(doc_reminders_schedule, reminders_follow_the_schedule);

async fn later_members_are_added_on_writes(app: TestApp) {
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let vera = app.api_login("acme", "vera@globex.example", "portal").await;
    let globex = app.company_id("acme", "Globex").await;
    let p = send(
        &staff,
        "Badge rules",
        json!({ "company_ids": [globex], "include_future": true }),
    )
    .await;
    let pid = p["policy"]["id"].as_str().unwrap().to_string();
    let once = send(&staff, "Desk rules", json!({ "company_ids": [globex] })).await;
    let once_id = once["policy"]["id"].as_str().unwrap().to_string();
    // Vera is an active member without a request (as if added by a path that does not
    // enroll, e.g. the command line).
    let vera_id = app.user_id("acme", "vera@globex.example").await;
    sqlx::query("DELETE FROM doc_signatures WHERE policy_id = $1 AND user_id = $2")
        .bind(&pid)
        .bind(&vera_id)
        .execute(app.state.db.operator("test").writer())
        .await
        .unwrap();
    let all = "SELECT COUNT(*) FROM doc_signatures WHERE tenant_id <> $1";
    let before = count(&app, all, "").await;
    // Viewing pages and lists writes nothing.
    for path in [
        "/portal/documents",
        "/portal/documents?state=signed",
        "/api/v1/signatures",
        "/api/v1/signatures?state=signed",
        "/portal/dashboard",
    ] {
        let r = vera.get(path).await;
        assert_eq!(r.status(), StatusCode::OK, "{path}");
    }
    assert_eq!(count(&app, all, "").await, before);
    // The job's sweep gives her the request.
    run_job(&app, portico::db::now_ms()).await;
    let mine = "SELECT COUNT(*) FROM doc_signatures s JOIN users u ON u.tenant_id = s.tenant_id \
         AND u.id = s.user_id WHERE u.email = $1 AND s.policy_id = ";
    assert_eq!(
        count(&app, &format!("{mine}'{pid}'"), "vera@globex.example").await,
        1
    );

    // A newly invited user gets the request when they accept the invitation.
    let r = staff
        .post_json(
            "/api/v1/admin/users",
            &json!({"email": "nina@globex.example", "name": "Nina New", "role": "client_user", "company_id": globex}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(
        count(&app, &format!("{mine}'{pid}'"), "nina@globex.example").await,
        0,
        "not before the invitation is accepted"
    );
    let mail = app.last_mail_to("nina@globex.example").await;
    let link = link_in(&mail, &app.url("/invite/accept"));
    let c = app.client();
    let page = c.get(&link).send().await.unwrap().text().await.unwrap();
    let token = link.split("token=").nth(1).unwrap().to_string();
    let csrf = form_csrf(&page);
    let r = c
        .post(app.url("/invite/accept"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("token", token.as_str()),
            ("name", "Nina New"),
            ("password", "nina-password-1"),
            ("password_confirm", "nina-password-1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        count(&app, &format!("{mine}'{pid}'"), "nina@globex.example").await,
        1
    );
    // Only the policy that takes later members.
    assert_eq!(
        count(&app, &format!("{mine}'{once_id}'"), "nina@globex.example").await,
        0
    );
    // The request email (the demo's policy that takes later members asks too).
    app.drain_jobs().await;
    assert!(
        app.sent_mail()
            .iter()
            .any(|m| m.contains("To: nina@globex.example") && m.contains("Badge rules"))
    );
    assert!(
        app.audit_actions("acme")
            .await
            .contains(&"document.requested".to_string())
    );
    // Another tenant's later members are not touched.
    let n = count(
        &app,
        "SELECT COUNT(*) FROM doc_signatures s JOIN tenants t ON t.id = s.tenant_id WHERE t.slug <> 'acme' AND s.policy_id = $1",
        &pid,
    )
    .await;
    assert_eq!(n, 0);
}
crate::db_test!(doc_later_members, later_members_are_added_on_writes);
