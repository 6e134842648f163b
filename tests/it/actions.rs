//! One transaction per action: a write, its audit row, its jobs and its notification commit
//! together or not at all; invariants hold under concurrent requests.

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::Row;

use crate::support::{Session, TestApp};

async fn send(
    app: &TestApp,
    s: &Session,
    method: reqwest::Method,
    path: &str,
    body: Value,
) -> (StatusCode, Value) {
    let r = s
        .client
        .request(method, app.url(path))
        .header("x-csrf-token", &s.csrf)
        .json(&body)
        .send()
        .await
        .expect("request");
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn scalar(app: &TestApp, sql: &str) -> i64 {
    sqlx::query(sql)
        .fetch_one(app.state.db.operator("test").reader())
        .await
        .expect(sql)
        .get::<i64, _>(0)
}

async fn exec(app: &TestApp, sql: &str) {
    sqlx::query(sql)
        .execute(app.state.db.operator("test").writer())
        .await
        .expect(sql);
}

async fn audit_len(app: &TestApp) -> i64 {
    scalar(app, "SELECT COUNT(*) FROM audit_log").await
}

async fn patch_validates_every_field_first(app: TestApp) {
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let n = scalar(
        &app,
        "SELECT MIN(number) FROM tickets WHERE status = 'closed'",
    )
    .await;
    let before = scalar(
        &app,
        &format!("SELECT priority_rank FROM tickets WHERE number = {n}"),
    )
    .await;
    let audit = audit_len(&app).await;
    let (status, body) = send(
        &app,
        &staff,
        reqwest::Method::PATCH,
        &format!("/api/v1/admin/tickets/{n}"),
        json!({ "priority": "urgent", "status": "pending" }),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let after = scalar(
        &app,
        &format!("SELECT priority_rank FROM tickets WHERE number = {n}"),
    )
    .await;
    assert_eq!(before, after, "the priority must not change");
    assert_eq!(audit, audit_len(&app).await, "nothing was audited");
}
crate::db_test!(
    action_patch_validates_every_field_first,
    patch_validates_every_field_first
);

async fn team_patch_is_all_or_nothing(app: TestApp) {
    let alice = app
        .api_login("acme", "alice@globex.example", "portal")
        .await;
    let alice_id = app.user_id("acme", "alice@globex.example").await;
    let (status, body) = send(
        &app,
        &alice,
        reqwest::Method::PATCH,
        &format!("/api/v1/team/{alice_id}"),
        json!({ "role": "client_user", "status": "deactivated" }),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let role: String = sqlx::query("SELECT role FROM users WHERE id = $1")
        .bind(&alice_id)
        .fetch_one(app.state.db.operator("test").reader())
        .await
        .unwrap()
        .get(0);
    assert_eq!(role, "admin", "the role change must not be kept");
}
crate::db_test!(
    action_team_patch_is_all_or_nothing,
    team_patch_is_all_or_nothing
);

/// A failure in the middle of a write (here: the outbox table is gone, so queueing the reply's
/// email fails) leaves nothing behind: no comment, no audit row, no status move.
async fn failed_outbox_rolls_back_the_comment(app: TestApp) {
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let n = scalar(&app, "SELECT MIN(number) FROM tickets WHERE status = 'new'").await;
    let comments = scalar(&app, "SELECT COUNT(*) FROM ticket_comments").await;
    let audit = audit_len(&app).await;
    exec(&app, "ALTER TABLE jobs RENAME TO jobs_gone").await;
    let (status, _) = send(
        &app,
        &staff,
        reqwest::Method::POST,
        &format!("/api/v1/admin/tickets/{n}/comments"),
        json!({ "body": "We are on it." }),
    )
    .await;
    exec(&app, "ALTER TABLE jobs_gone RENAME TO jobs").await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        comments,
        scalar(&app, "SELECT COUNT(*) FROM ticket_comments").await,
        "the comment must not be saved without its email"
    );
    assert_eq!(audit, audit_len(&app).await);
    let still_new = scalar(
        &app,
        &format!("SELECT COUNT(*) FROM tickets WHERE number = {n} AND status = 'new'"),
    )
    .await;
    assert_eq!(still_new, 1, "the status move must roll back too");
    // And once the outbox is back, the same reply goes through with its email queued.
    let (status, _) = send(
        &app,
        &staff,
        reqwest::Method::POST,
        &format!("/api/v1/admin/tickets/{n}/comments"),
        json!({ "body": "We are on it." }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(scalar(&app, "SELECT COUNT(*) FROM jobs WHERE kind = 'email'").await > 0);
}
crate::db_test!(
    action_failed_outbox_rolls_back_the_comment,
    failed_outbox_rolls_back_the_comment
);

async fn active_admins(app: &TestApp, sql: &str) -> i64 {
    scalar(app, sql).await
}

/// Two company admins demote each other at the same moment: one of them stays admin.
async fn company_admins_demoting_each_other_leave_one(app: TestApp) {
    let alice_id = app.user_id("acme", "alice@globex.example").await;
    let bob_id = app.user_id("acme", "bob@globex.example").await;
    let count = "SELECT COUNT(*) FROM users WHERE email LIKE '%@globex.example' AND role = 'admin' \
                 AND status = 'active'";
    for round in 0..4 {
        let alice = app
            .api_login("acme", "alice@globex.example", "portal")
            .await;
        let (status, body) = send(
            &app,
            &alice,
            reqwest::Method::PATCH,
            &format!("/api/v1/team/{bob_id}"),
            json!({ "role": "client_admin" }),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "round {round}: {body}");
        let alice = app
            .api_login("acme", "alice@globex.example", "portal")
            .await;
        let bob = app.api_login("acme", "bob@globex.example", "portal").await;
        assert_eq!(active_admins(&app, count).await, 2);
        let (to_bob, to_alice) = (
            format!("/api/v1/team/{bob_id}"),
            format!("/api/v1/team/{alice_id}"),
        );
        let a = send(
            &app,
            &alice,
            reqwest::Method::PATCH,
            &to_bob,
            json!({ "role": "client_user" }),
        );
        let b = send(
            &app,
            &bob,
            reqwest::Method::PATCH,
            &to_alice,
            json!({ "role": "client_user" }),
        );
        let ((sa, _), (sb, _)) = tokio::join!(a, b);
        assert_eq!(
            active_admins(&app, count).await,
            1,
            "round {round}: alice {sa}, bob {sb}"
        );
        // Whoever is still admin makes alice the only admin again for the next round.
        let admin: String = sqlx::query(
            "SELECT email FROM users WHERE email LIKE '%@globex.example' AND role = 'admin' AND status = 'active'",
        )
        .fetch_one(app.state.db.operator("test").reader())
        .await
        .unwrap()
        .get(0);
        if admin == "bob@globex.example" {
            let bob = app.api_login("acme", "bob@globex.example", "portal").await;
            let (s, body) = send(
                &app,
                &bob,
                reqwest::Method::PATCH,
                &format!("/api/v1/team/{alice_id}"),
                json!({ "role": "client_admin" }),
            )
            .await;
            assert_eq!(s, StatusCode::OK, "{body}");
            let alice = app
                .api_login("acme", "alice@globex.example", "portal")
                .await;
            let (s, body) = send(
                &app,
                &alice,
                reqwest::Method::PATCH,
                &format!("/api/v1/team/{bob_id}"),
                json!({ "role": "client_user" }),
            )
            .await;
            assert_eq!(s, StatusCode::OK, "{body}");
        }
    }
}
crate::db_test!(
    action_company_admins_demoting_each_other_leave_one,
    company_admins_demoting_each_other_leave_one
);

/// Two staff admins deactivate each other at the same moment: one stays active.
async fn staff_admins_deactivating_each_other_leave_one(app: TestApp) {
    let tech_id = app.user_id("acme", "tech@acme.example").await;
    let staff_id = app.user_id("acme", "staff@acme.example").await;
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let (status, body) = send(
        &app,
        &staff,
        reqwest::Method::PATCH,
        &format!("/api/v1/admin/users/{tech_id}"),
        json!({ "role": "staff_admin" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let tech = app.api_login("acme", "tech@acme.example", "admin").await;
    let (to_tech, to_staff) = (
        format!("/api/v1/admin/users/{tech_id}"),
        format!("/api/v1/admin/users/{staff_id}"),
    );
    let a = send(
        &app,
        &staff,
        reqwest::Method::PATCH,
        &to_tech,
        json!({ "status": "deactivated" }),
    );
    let b = send(
        &app,
        &tech,
        reqwest::Method::PATCH,
        &to_staff,
        json!({ "status": "deactivated" }),
    );
    let ((sa, _), (sb, _)) = tokio::join!(a, b);
    let left = active_admins(
        &app,
        "SELECT COUNT(*) FROM users u JOIN tenants t ON t.id = u.tenant_id WHERE t.slug = 'acme' \
         AND u.kind = 'staff' AND u.role = 'admin' AND u.status = 'active'",
    )
    .await;
    assert_eq!(left, 1, "staff {sa}, tech {sb}");
}
crate::db_test!(
    action_staff_admins_deactivating_each_other_leave_one,
    staff_admins_deactivating_each_other_leave_one
);

/// A reset whose audit row cannot be written stores no password and leaves the emailed link
/// usable: the token, the password, the ended sessions and the audit row are one transaction.
async fn failed_reset_keeps_the_link(app: TestApp) {
    use crate::support::{form_csrf, link_in};
    let c = app.client();
    let page = c
        .get(app.url("/forgot-password?tenant=acme"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = form_csrf(&page);
    c.post(app.url("/forgot-password"))
        .form(&[("_csrf", csrf.as_str()), ("email", "bob@globex.example")])
        .send()
        .await
        .unwrap();
    let mail = app.last_mail_to("bob@globex.example").await;
    let link = link_in(&mail, &app.url("/reset-password"));
    let token = link.split("token=").nth(1).unwrap().to_string();
    let page = c.get(&link).send().await.unwrap().text().await.unwrap();
    let csrf = form_csrf(&page);
    let hash_sql = "SELECT password_hash FROM users WHERE email = 'bob@globex.example'";
    let hash_before: String = sqlx::query(hash_sql)
        .fetch_one(app.state.db.operator("test").reader())
        .await
        .unwrap()
        .get(0);
    let submit = |password: &'static str| {
        c.post(app.url("/reset-password"))
            .form(&[
                ("_csrf", csrf.as_str()),
                ("token", token.as_str()),
                ("password", password),
                ("password_confirm", password),
            ])
            .send()
    };
    exec(&app, "ALTER TABLE audit_log RENAME TO audit_gone").await;
    let r = submit("a-brand-new-pass").await.unwrap();
    exec(&app, "ALTER TABLE audit_gone RENAME TO audit_log").await;
    assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let hash_after: String = sqlx::query(hash_sql)
        .fetch_one(app.state.db.operator("test").reader())
        .await
        .unwrap()
        .get(0);
    assert_eq!(hash_before, hash_after, "no password stored");
    let r = submit("a-brand-new-pass").await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "the link still works");
}
crate::db_test!(
    action_failed_reset_keeps_the_link,
    failed_reset_keeps_the_link
);

/// A profile save whose audit row cannot be written changes nothing.
async fn failed_profile_save_changes_nothing(app: TestApp) {
    let (c, _) = app
        .form_login("acme", "bob@globex.example", "portico-demo", false)
        .await;
    let page = c
        .get(app.url("/portal/profile"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = crate::support::form_csrf(&page);
    exec(&app, "ALTER TABLE audit_log RENAME TO audit_gone").await;
    let r = c
        .post(app.url("/portal/profile/details"))
        .form(&[("_csrf", csrf.as_str()), ("name", "Robert Renamed")])
        .send()
        .await
        .unwrap();
    exec(&app, "ALTER TABLE audit_gone RENAME TO audit_log").await;
    assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let name: String = sqlx::query("SELECT name FROM users WHERE email = 'bob@globex.example'")
        .fetch_one(app.state.db.operator("test").reader())
        .await
        .unwrap()
        .get(0);
    assert_ne!(name, "Robert Renamed");
}
crate::db_test!(
    action_failed_profile_save_changes_nothing,
    failed_profile_save_changes_nothing
);
