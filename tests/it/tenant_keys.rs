//! Tenant isolation held by the database itself: composite foreign keys refuse a row that
//! references another tenant's row, whatever the code above them does.

use sqlx::Row;

use crate::support::TestApp;

async fn tenant_id(app: &TestApp, slug: &str) -> String {
    sqlx::query("SELECT id FROM tenants WHERE slug = $1")
        .bind(slug)
        .fetch_one(app.state.db.operator("test").reader())
        .await
        .expect("tenant")
        .get(0)
}

async fn insert_ticket(
    app: &TestApp,
    tenant: &str,
    number: i64,
    company: &str,
    requester: &str,
) -> Result<String, sqlx::Error> {
    let id = portico::db::new_id();
    sqlx::query(
        "INSERT INTO tickets (id, tenant_id, number, company_id, requester_id, assignee_id, subject, \
         description, description_html, priority, priority_rank, category, status, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, NULL, 'Raw insert', '', '', 'normal', 2, 'Other', 'new', 0, 0)",
    )
    .bind(&id)
    .bind(tenant)
    .bind(number)
    .bind(company)
    .bind(requester)
    .execute(app.state.db.operator("test").writer())
    .await
    .map(|_| id)
}

async fn insert_comment(
    app: &TestApp,
    tenant: &str,
    ticket: &str,
    author: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO ticket_comments (id, tenant_id, ticket_id, author_id, body, body_html, internal, created_at) \
         VALUES ($1, $2, $3, $4, 'Raw comment', '', 0, 0)",
    )
    .bind(portico::db::new_id())
    .bind(tenant)
    .bind(ticket)
    .bind(author)
    .execute(app.state.db.operator("test").writer())
    .await
    .map(|_| ())
}

#[track_caller]
fn assert_fk_refused<T: std::fmt::Debug>(r: Result<T, sqlx::Error>, what: &str) {
    match r {
        Err(sqlx::Error::Database(e)) if e.is_foreign_key_violation() => {}
        other => panic!("{what}: expected a foreign key violation, got {other:?}"),
    }
}

async fn cross_tenant_rows_are_refused(app: TestApp) {
    let acme = tenant_id(&app, "acme").await;
    let grace = tenant_id(&app, "grace").await;
    let globex = app.company_id("acme", "Globex").await;
    let bob = app.user_id("acme", "bob@globex.example").await;
    let mary = app.user_id("grace", "mary@grace.example").await;
    // Grace has no companies in the demo; give it one to point at.
    let grace_company = portico::db::new_id();
    sqlx::query(
        "INSERT INTO companies (id, tenant_id, name, status, created_at, updated_at) VALUES ($1, $2, 'Grace Office', 'active', 0, 0)",
    )
    .bind(&grace_company)
    .bind(&grace)
    .execute(app.state.db.operator("test").writer())
    .await
    .expect("grace company");

    // The same statement with the tenant's own rows is accepted, so what is refused below is
    // the tenant mismatch and nothing else.
    let ticket = insert_ticket(&app, &acme, 900_001, &globex, &bob)
        .await
        .expect("a ticket of acme's own company");
    insert_comment(&app, &acme, &ticket, &bob)
        .await
        .expect("a comment on acme's own ticket");

    assert_fk_refused(
        insert_ticket(&app, &acme, 900_002, &grace_company, &bob).await,
        "acme ticket for grace's company",
    );
    assert_fk_refused(
        insert_ticket(&app, &acme, 900_003, &globex, &mary).await,
        "acme ticket requested by grace's member",
    );
    assert_fk_refused(
        insert_comment(&app, &grace, &ticket, &mary).await,
        "grace comment on acme's ticket",
    );
    assert_fk_refused(
        insert_comment(&app, &acme, &ticket, &mary).await,
        "acme comment written by grace's member",
    );
    // Moving an existing row across is refused too.
    assert_fk_refused(
        sqlx::query("UPDATE tickets SET company_id = $1 WHERE id = $2")
            .bind(&grace_company)
            .bind(&ticket)
            .execute(app.state.db.operator("test").writer())
            .await,
        "acme ticket moved to grace's company",
    );
    let n: i64 = sqlx::query(
        "SELECT COUNT(*) FROM tickets WHERE tenant_id = $1 AND number IN (900002, 900003)",
    )
    .bind(&acme)
    .fetch_one(app.state.db.operator("test").reader())
    .await
    .expect("count")
    .get(0);
    assert_eq!(n, 0, "a refused ticket was stored");
}
crate::db_test!(
    cross_tenant_references_fail_in_the_database,
    cross_tenant_rows_are_refused
);

/// Through the HTTP surface: another tenant's user cannot be made a ticket's assignee (a field
/// error, not a database error), and an uploaded attachment is stored under the ticket's tenant.
async fn references_through_http(app: TestApp) {
    use reqwest::StatusCode;
    use serde_json::json;

    let acme = tenant_id(&app, "acme").await;
    let pastor = app.user_id("grace", "pastor@grace.example").await;
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let alice = app
        .api_login("acme", "alice@globex.example", "portal")
        .await;
    let r = alice
        .post_json(
            "/api/v1/tickets",
            &json!({"subject": "Keys test", "description": "x", "priority": "high", "category": "Network"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let number = r.json::<serde_json::Value>().await.expect("json")["number"]
        .as_i64()
        .expect("number");

    let r = staff
        .patch_json(
            &format!("/api/v1/admin/tickets/{number}"),
            &json!({"assignee_id": pastor}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{:?}", r.text().await);
    let r = staff
        .post_form(
            &format!("/admin/tickets/{number}/update"),
            &[("assignee_id", pastor.as_str())],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = staff.get(&format!("/api/v1/admin/tickets/{number}")).await;
    let t: serde_json::Value = r.json().await.expect("ticket");
    assert!(t["assignee"].is_null(), "assignee changed: {t}");

    let form = reqwest::multipart::Form::new()
        .text("body", "See log")
        .part(
            "attachments",
            reqwest::multipart::Part::bytes(b"log line\n".to_vec())
                .file_name("log.txt")
                .mime_str("text/plain")
                .expect("mime"),
        );
    let r = alice
        .upload(&format!("/portal/tickets/{number}/comments"), form)
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let tenants: Vec<String> = sqlx::query(
        "SELECT a.tenant_id FROM ticket_attachments a JOIN tickets k ON k.id = a.ticket_id \
         WHERE k.number = $1 AND k.tenant_id = $2",
    )
    .bind(number)
    .bind(&acme)
    .fetch_all(app.state.db.operator("test").reader())
    .await
    .expect("attachments")
    .iter()
    .map(|r| r.get(0))
    .collect();
    assert_eq!(tenants, [acme], "one attachment, in the ticket's tenant");
}
crate::db_test!(tenant_references_through_http, references_through_http);
