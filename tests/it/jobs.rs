//! The job queue: exactly-once claiming across nodes, retries, and the staff Delivery page.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::smtp::{dead_port, newest_job};
use crate::support::{Db, TestApp, form_csrf};

async fn tenant_id(app: &TestApp, slug: &str) -> String {
    use sqlx::Row;
    sqlx::query("SELECT id FROM tenants WHERE slug = $1")
        .bind(slug)
        .fetch_one(app.state.db.operator("test").reader())
        .await
        .unwrap()
        .get::<String, _>(0)
}

async fn concurrent_workers_send_each_job_once(app: TestApp) {
    // A second node on the same database races the first one (and both background workers).
    let peer = app.spawn_peer().await;
    let acme = tenant_id(&app, "acme").await;
    let n = 40;
    for i in 0..n {
        portico::jobs::enqueue_operator(
            &app.state.db,
            Some(&acme),
            portico::jobs::EMAIL,
            &json!({"to": format!("load-{i}@globex.example"), "subject": "Load", "lines": ["hello"]}),
            portico::db::now_ms(),
        )
        .await
        .unwrap();
    }
    loop {
        let (a, b, c) = tokio::join!(
            portico::jobs::run_due(&app.state),
            portico::jobs::run_due(&app.state),
            portico::jobs::run_due(&peer.state),
        );
        if a + b + c == 0 {
            break;
        }
    }
    app.drain_jobs().await;
    let mut all = app.sent_mail();
    all.extend(peer.sent_mail());
    for i in 0..n {
        let to = format!("load-{i}@globex.example");
        let copies = all.iter().filter(|m| m.contains(&to)).count();
        assert_eq!(copies, 1, "{to} was sent {copies} times");
    }
    use sqlx::Row;
    // Only the emails queued above: the demo data queues jobs of its own (announcements, the
    // overdue check) that the same workers run.
    let done: i64 = sqlx::query(
        "SELECT COUNT(*) FROM jobs WHERE status = 'done' AND attempts = 1 AND locked_by IS NULL \
         AND payload LIKE '%load-%@globex.example%'",
    )
    .fetch_one(app.state.db.operator("test").reader())
    .await
    .unwrap()
    .get(0);
    assert_eq!(done, n);
}
crate::db_test!(
    concurrent_run_due_never_sends_twice,
    concurrent_workers_send_each_job_once
);

async fn expired_lease_is_taken_over(app: TestApp) {
    let acme = tenant_id(&app, "acme").await;
    let id = portico::jobs::enqueue_operator(
        &app.state.db,
        Some(&acme),
        portico::jobs::EMAIL,
        &json!({"to": "lease@globex.example", "subject": "Lease", "lines": ["x"]}),
        portico::db::now_ms() + 3_600_000,
    )
    .await
    .unwrap();
    // A node claimed it and died: running, lease already over.
    sqlx::query(
        "UPDATE jobs SET status = 'running', locked_by = 'dead-node:1', locked_until = $2, run_at = $2 WHERE id = $1",
    )
    .bind(&id)
    .bind(portico::db::now_ms() - 1)
    .execute(app.state.db.operator("test").reader())
    .await
    .unwrap();
    app.drain_jobs().await;
    let (attempts, status, _, _) = newest_job(&app).await;
    assert_eq!((attempts, status.as_str()), (1, "done"));
    assert!(
        app.sent_mail()
            .iter()
            .any(|m| m.contains("lease@globex.example"))
    );
}
crate::db_test!(
    expired_lease_lets_another_worker_run_the_job,
    expired_lease_is_taken_over
);

async fn unknown_payload_fails_without_retry(app: TestApp) {
    let acme = tenant_id(&app, "acme").await;
    portico::jobs::enqueue_operator(
        &app.state.db,
        Some(&acme),
        portico::jobs::EMAIL,
        &json!({"to": "not an address", "subject": "x", "lines": []}),
        portico::db::now_ms(),
    )
    .await
    .unwrap();
    app.drain_jobs().await;
    let (attempts, status, _, error) = newest_job(&app).await;
    assert_eq!((attempts, status.as_str()), (1, "failed"));
    assert!(error.unwrap().contains("not an email address"));
}
crate::db_test!(
    bad_email_job_fails_at_once,
    unknown_payload_fails_without_retry
);

async fn staff_see_and_retry_failed_jobs(db: Db) {
    let port = dead_port().await;
    let Some(app) = TestApp::spawn_with(db, |c| {
        c.smtp_url = Some(format!("smtp://127.0.0.1:{port}"))
    })
    .await
    else {
        return;
    };
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    // An invitation whose mail cannot be delivered.
    let globex = app.company_id("acme", "Globex").await;
    let r = staff
        .client
        .post(app.url("/api/v1/admin/users"))
        .header("x-csrf-token", &staff.csrf)
        .json(&json!({"email": "nina@globex.example", "name": "Nina", "role": "client_user", "company_id": globex}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    app.drain_jobs().await;
    // Out of attempts: the next failure is final.
    sqlx::query("UPDATE jobs SET max_attempts = 2, run_at = $1 WHERE kind = 'email'")
        .bind(portico::db::now_ms())
        .execute(app.state.db.operator("test").reader())
        .await
        .unwrap();
    app.drain_jobs().await;
    let (attempts, status, _, _) = newest_job(&app).await;
    assert_eq!((attempts, status.as_str()), (2, "failed"));

    // The Delivery page shows it with a retry button.
    let (c, _) = app
        .form_login("acme", "staff@acme.example", "portico-demo", true)
        .await;
    let html = c
        .get(app.url("/admin/jobs"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Delivery"));
    assert!(
        html.contains("You are invited → nina@globex.example"),
        "{html}"
    );
    assert!(html.contains("badge-job-failed"));
    assert!(html.contains("Retry now"));
    let list: Value = staff
        .client
        .get(app.url("/api/v1/admin/jobs?limit=1"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = list["items"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(list["items"][0]["status"], "failed");

    // Other tenants and lower roles see nothing of it.
    let pastor = app
        .api_login("grace", "pastor@grace.example", "admin")
        .await;
    let theirs = pastor
        .client
        .get(app.url("/api/v1/admin/jobs"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!theirs.contains(&id) && !theirs.contains("nina@"));
    let r = pastor
        .client
        .post(app.url(&format!("/api/v1/admin/jobs/{id}/retry")))
        .header("x-csrf-token", &pastor.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let tech = app.api_login("acme", "tech@acme.example", "admin").await;
    let r = tech
        .client
        .get(app.url("/api/v1/admin/jobs"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = tech
        .client
        .get(app.url("/admin/jobs"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let alice = app
        .api_login("acme", "alice@globex.example", "portal")
        .await;
    let r = alice
        .client
        .get(app.url("/api/v1/admin/jobs"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // Without the CSRF token the form is refused.
    let r = c
        .post(app.url(&format!("/admin/jobs/{id}/retry")))
        .form(&[("_csrf", "wrong")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Retry now through the form: queued again with fresh attempts, then tried at once.
    let csrf = form_csrf(&html);
    let r = c
        .post(app.url(&format!("/admin/jobs/{id}/retry")))
        .form(&[("_csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    app.drain_jobs().await;
    let (attempts, status, _, error) = newest_job(&app).await;
    assert_eq!((attempts, status.as_str()), (1, "queued"));
    assert!(error.is_some());
    assert!(
        app.audit_actions("acme")
            .await
            .contains(&"job.retried".to_string())
    );
    // A job that is neither failed nor waiting to retry cannot be retried.
    sqlx::query("UPDATE jobs SET status = 'done' WHERE id = $1")
        .bind(&id)
        .execute(app.state.db.operator("test").reader())
        .await
        .unwrap();
    let r = staff
        .client
        .post(app.url(&format!("/api/v1/admin/jobs/{id}/retry")))
        .header("x-csrf-token", &staff.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
}
crate::db_test_with!(
    delivery_page_shows_and_retries_failed_jobs,
    staff_see_and_retry_failed_jobs
);
