//! One victim object per parameterised route: an object of acme/Globex that attackers try to reach.

use serde_json::{Value, json};

use crate::support::TestApp;

/// What the matrix needs to attack a route.
pub struct Fixture {
    /// Path with its parameters filled in.
    pub path: String,
    /// A valid body for writes, so denials are about access, not about input.
    pub body: Value,
    /// Text that must never appear in an attacker's response.
    pub marker: &'static str,
    /// A same-tenant principal with too low a role, and the status it must get.
    pub lower_role: Option<(&'static str, &'static str, &'static str, u16)>,
}

/// The fixture for a documented `(path, method)`, or `None` when none is defined yet.
pub async fn fixture(app: &TestApp, path: &str, method: &str) -> Option<Fixture> {
    let write = method != "get";
    Some(match path {
        "/api/v1/admin/companies/{id}" => Fixture {
            path: format!(
                "/api/v1/admin/companies/{}",
                app.company_id("acme", "Globex").await
            ),
            body: json!({"name": "Globex"}),
            marker: "Globex",
            lower_role: Some(("acme", "tech@acme.example", "admin", 403)),
        },
        "/api/v1/admin/users/{id}" => Fixture {
            path: format!(
                "/api/v1/admin/users/{}",
                app.user_id("acme", "bob@globex.example").await
            ),
            body: json!({"role": "client_user"}),
            marker: "bob@globex.example",
            lower_role: Some(("acme", "tech@acme.example", "admin", 403)),
        },
        "/api/v1/tickets/{number}"
        | "/api/v1/tickets/{number}/comments"
        | "/api/v1/tickets/{number}/close"
        | "/api/v1/tickets/{number}/reopen"
        | "/api/v1/tickets/{number}/attachments" => {
            let n = globex_ticket(app).await;
            Fixture {
                path: path.replace("{number}", &n.to_string()),
                body: json!({"body": "Hello", "reason": "Still broken"})
                    .as_object()
                    .map(|o| {
                        let mut o = o.clone();
                        if !path.ends_with("/comments") {
                            o.remove("body");
                        }
                        if !path.ends_with("/reopen") {
                            o.remove("reason");
                        }
                        Value::Object(o)
                    })
                    .unwrap_or_default(),
                marker: GLOBEX_TICKET,
                // Bob is neither requester nor cc; the viewer reads but never writes.
                lower_role: Some(if write {
                    ("acme", "vera@globex.example", "portal", 403)
                } else {
                    ("acme", "bob@globex.example", "portal", 404)
                }),
            }
        }
        "/api/v1/tickets/{number}/attachments/{id}" => {
            let (n, id) = globex_attachment(app).await;
            Fixture {
                path: format!("/api/v1/tickets/{n}/attachments/{id}"),
                body: Value::Null,
                marker: "fixture attachment",
                lower_role: Some(("acme", "bob@globex.example", "portal", 404)),
            }
        }
        "/api/v1/admin/tickets/{number}" | "/api/v1/admin/tickets/{number}/comments" => Fixture {
            path: path.replace("{number}", &globex_ticket(app).await.to_string()),
            body: if path.ends_with("/comments") {
                json!({"body": "Note", "internal": true})
            } else {
                json!({"priority": "high"})
            },
            marker: GLOBEX_TICKET,
            lower_role: None,
        },
        "/api/v1/team/{id}" | "/api/v1/team/{id}/resend" => Fixture {
            path: path.replace("{id}", &app.user_id("acme", "vera@globex.example").await),
            body: json!({"role": "client_viewer"}),
            marker: "vera@globex.example",
            lower_role: Some(("acme", "bob@globex.example", "portal", 403)),
        },
        "/api/v1/admin/jobs/{id}/retry" => Fixture {
            path: format!("/api/v1/admin/jobs/{}/retry", victim_job(app).await?),
            body: json!({}),
            marker: "not-an-address",
            lower_role: Some(("acme", "tech@acme.example", "admin", 403)),
        },
        "/api/v1/signatures/{id}"
        | "/api/v1/signatures/{id}/read"
        | "/api/v1/signatures/{id}/acknowledge"
        | "/api/v1/signatures/{id}/confirm" => Fixture {
            path: path.replace("{id}", &bob_signature(app).await?),
            body: json!({"content_hash": "0", "understood": true, "consent": true, "full_name": "Bob User"}),
            marker: DOC_MARKER,
            // A colleague of the same company: a request belongs to its one signer.
            lower_role: Some(("acme", "alice@globex.example", "portal", 404)),
        },
        "/api/v1/signatures/{id}/pdf" => Fixture {
            path: path.replace("{id}", &alice_signed(app).await?),
            body: Value::Null,
            marker: "%PDF",
            lower_role: Some(("acme", "bob@globex.example", "portal", 404)),
        },
        "/api/v1/admin/documents/signatures/{id}/pdf" => Fixture {
            path: path.replace("{id}", &alice_signed(app).await?),
            body: Value::Null,
            marker: "%PDF",
            lower_role: None,
        },
        "/api/v1/admin/documents/policies/{id}"
        | "/api/v1/admin/documents/policies/{id}/remind"
        | "/api/v1/admin/documents/policies/{id}/cancel" => Fixture {
            path: path.replace("{id}", &demo_policy(app).await?),
            body: json!({}),
            marker: DOC_MARKER,
            lower_role: None,
        },
        _ => {
            let _ = write;
            return None;
        }
    })
}

/// Subject of the demo ticket the ticket routes are attacked through (Alice's, Globex).
const GLOBEX_TICKET: &str = "Outlook keeps asking for my password";

async fn globex_ticket(app: &TestApp) -> i64 {
    use sqlx::Row;
    sqlx::query("SELECT number FROM tickets WHERE subject = $1")
        .bind(GLOBEX_TICKET)
        .fetch_one(app.state.db.operator("test").reader())
        .await
        .expect("demo ticket")
        .get::<i64, _>(0)
}

/// A stored attachment of the Globex demo ticket (created once per app).
async fn globex_attachment(app: &TestApp) -> (i64, String) {
    use sqlx::Row;
    let n = globex_ticket(app).await;
    let row = sqlx::query(
        "SELECT k.id, k.tenant_id, u.id AS uploader FROM tickets k JOIN users u ON u.id = k.requester_id WHERE k.number = $1 AND k.subject = $2",
    )
    .bind(n)
    .bind(GLOBEX_TICKET)
    .fetch_one(app.state.db.operator("test").reader())
    .await
    .expect("ticket");
    let (ticket, tenant, uploader): (String, String, String) = (row.get(0), row.get(1), row.get(2));
    let id = "0190f000-0000-7000-8000-00000000f1a7".to_string();
    // Written in the layout before migration 0012, which storage still reads.
    let dir = app.data_dir.join("files").join(&tenant);
    std::fs::create_dir_all(&dir).expect("files dir");
    std::fs::write(dir.join(&id), "fixture attachment").expect("file");
    sqlx::query(
        "INSERT INTO ticket_attachments (id, tenant_id, ticket_id, comment_id, internal, uploader_id, filename, \
         content_type, size, created_at, storage_key) \
         VALUES ($1, $2, $3, NULL, 0, $4, 'fixture.txt', 'text/plain', 18, 0, $2 || '/' || $1) \
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(&id)
    .bind(&tenant)
    .bind(&ticket)
    .bind(&uploader)
    .execute(app.state.db.operator("test").reader())
    .await
    .expect("attachment row");
    (n, id)
}

/// What the matrix needs to attack a page route (HTML forms and pages).
pub struct PageFixture {
    /// Path with its parameters filled in.
    pub path: String,
    /// Form fields of a valid post, so denials are about access, not about input.
    pub fields: Vec<(&'static str, &'static str)>,
    /// The form is `multipart/form-data` (it takes files).
    pub multipart: bool,
    /// Text that must never appear in an attacker's response.
    pub marker: String,
    /// A same-tenant principal with too low a role, and the status it must get.
    pub lower_role: Option<(&'static str, &'static str, &'static str, u16)>,
}

/// The fixture for a page `(path, method)`, or `None` when none is defined yet.
pub async fn page_fixture(app: &TestApp, path: &str, method: &str) -> Option<PageFixture> {
    let write = method != "get";
    let page = |p: String, fields: Vec<(&'static str, &'static str)>, marker: &str| PageFixture {
        path: p,
        fields,
        multipart: false,
        marker: marker.to_string(),
        lower_role: None,
    };
    Some(match path {
        "/admin/companies/{id}"
        | "/admin/companies/{id}/deactivate"
        | "/admin/companies/{id}/activate" => PageFixture {
            lower_role: Some(("acme", "tech@acme.example", "admin", 403)),
            ..page(
                path.replace("{id}", &app.company_id("acme", "Globex").await),
                vec![("name", "Globex")],
                "Globex",
            )
        },
        "/admin/users/{id}/role"
        | "/admin/users/{id}/deactivate"
        | "/admin/users/{id}/activate"
        | "/admin/users/{id}/reset-mfa"
        | "/admin/users/{id}/resend"
        | "/admin/users/{id}/revoke" => PageFixture {
            lower_role: Some(("acme", "tech@acme.example", "admin", 403)),
            ..page(
                path.replace("{id}", &app.user_id("acme", "bob@globex.example").await),
                vec![("role", "client_user")],
                "bob@globex.example",
            )
        },
        "/portal/team/{id}/role"
        | "/portal/team/{id}/deactivate"
        | "/portal/team/{id}/activate"
        | "/portal/team/{id}/resend"
        | "/portal/team/{id}/revoke" => PageFixture {
            lower_role: Some(("acme", "bob@globex.example", "portal", 403)),
            ..page(
                path.replace("{id}", &app.user_id("acme", "vera@globex.example").await),
                vec![("role", "client_viewer")],
                "vera@globex.example",
            )
        },
        "/portal/profile/sessions/{id}/end" | "/admin/profile/sessions/{id}/end" => {
            let (email, audience) = if path.starts_with("/admin") {
                ("staff@acme.example", "admin")
            } else {
                ("alice@globex.example", "portal")
            };
            let id = victim_session(app, email, audience).await;
            page(path.replace("{id}", &id), vec![], email)
        }
        "/admin/jobs/{id}/retry" => PageFixture {
            lower_role: Some(("acme", "tech@acme.example", "admin", 403)),
            ..page(
                format!("/admin/jobs/{}/retry", victim_job(app).await?),
                vec![],
                "not-an-address",
            )
        },
        "/portal/tickets/{number}"
        | "/portal/tickets/{number}/comments"
        | "/portal/tickets/{number}/close"
        | "/portal/tickets/{number}/reopen" => PageFixture {
            multipart: path.ends_with("/comments"),
            // Bob is neither requester nor cc; the viewer reads but never writes.
            lower_role: Some(if write {
                ("acme", "vera@globex.example", "portal", 403)
            } else {
                ("acme", "bob@globex.example", "portal", 404)
            }),
            ..page(
                path.replace("{number}", &globex_ticket(app).await.to_string()),
                vec![("body", "Hello"), ("reason", "Still broken")],
                GLOBEX_TICKET,
            )
        },
        "/admin/tickets/{number}"
        | "/admin/tickets/{number}/update"
        | "/admin/tickets/{number}/comments" => PageFixture {
            multipart: path.ends_with("/comments"),
            ..page(
                path.replace("{number}", &globex_ticket(app).await.to_string()),
                vec![("body", "Note"), ("internal", "1"), ("priority", "high")],
                GLOBEX_TICKET,
            )
        },
        "/admin/tickets/views/{id}" | "/admin/tickets/views/{id}/delete" => PageFixture {
            // Views are per user: a colleague of the same tenant cannot open or delete it.
            lower_role: Some(("acme", "tech@acme.example", "admin", 404)),
            ..page(
                path.replace("{id}", &victim_view(app).await?),
                vec![],
                "victim-view-marker",
            )
        },
        "/admin/tickets/{number}/attachments/{id}" => {
            let (n, id) = globex_attachment(app).await;
            page(
                format!("/admin/tickets/{n}/attachments/{id}"),
                vec![],
                "fixture attachment",
            )
        }
        "/portal/documents/{id}/sign"
        | "/portal/documents/{id}/acknowledge"
        | "/portal/documents/{id}/confirm" => PageFixture {
            lower_role: Some(("acme", "alice@globex.example", "portal", 404)),
            ..page(
                path.replace("{id}", &bob_signature(app).await?),
                vec![
                    ("understood", "yes"),
                    ("consent", "yes"),
                    ("full_name", "Bob User"),
                ],
                DOC_MARKER,
            )
        },
        "/portal/documents/{id}/pdf" => PageFixture {
            lower_role: Some(("acme", "bob@globex.example", "portal", 404)),
            ..page(
                path.replace("{id}", &alice_signed(app).await?),
                vec![],
                "%PDF",
            )
        },
        "/admin/documents/signatures/{id}/pdf" => page(
            path.replace("{id}", &alice_signed(app).await?),
            vec![],
            "%PDF",
        ),
        "/admin/documents/{id}"
        | "/admin/documents/{id}/remind"
        | "/admin/documents/{id}/cancel" => page(
            path.replace("{id}", &demo_policy(app).await?),
            vec![],
            DOC_MARKER,
        ),
        _ => return None,
    })
}

/// Title of the demo policy Bob has to sign (Globex).
const DOC_MARKER: &str = "Client Data Protection Standard";

/// Bob's request to sign the demo data-protection policy.
async fn bob_signature(app: &TestApp) -> Option<String> {
    use sqlx::Row;
    sqlx::query(
        "SELECT s.id FROM doc_signatures s JOIN doc_policies p ON p.tenant_id = s.tenant_id AND p.id = s.policy_id \
         JOIN users u ON u.id = s.user_id WHERE p.title = $1 AND u.email = 'bob@globex.example'",
    )
    .bind(DOC_MARKER)
    .fetch_one(app.state.db.operator("test").reader())
    .await
    .ok()?
    .try_get::<String, _>(0)
    .ok()
}

/// Alice's signed request of the demo acceptable-use policy (it has a signed PDF).
async fn alice_signed(app: &TestApp) -> Option<String> {
    use sqlx::Row;
    sqlx::query(
        "SELECT s.id FROM doc_signatures s JOIN users u ON u.id = s.user_id \
         WHERE s.state = 'signed' AND u.email = 'alice@globex.example'",
    )
    .fetch_one(app.state.db.operator("test").reader())
    .await
    .ok()?
    .try_get::<String, _>(0)
    .ok()
}

/// The demo data-protection policy.
async fn demo_policy(app: &TestApp) -> Option<String> {
    use sqlx::Row;
    sqlx::query("SELECT id FROM doc_policies WHERE title = $1")
        .bind(DOC_MARKER)
        .fetch_one(app.state.db.operator("test").reader())
        .await
        .ok()?
        .try_get::<String, _>(0)
        .ok()
}

/// The public id (as the profile page shows it) of a fresh session of `email`.
async fn victim_session(app: &TestApp, email: &str, audience: &str) -> String {
    use sha2::Digest;
    use sqlx::Row;
    let tenant = "acme";
    app.api_login(tenant, email, audience).await;
    let hash: String = sqlx::query(
        "SELECT s.token_hash FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE u.email = $1 ORDER BY s.created_at DESC LIMIT 1",
    )
    .bind(email)
    .fetch_one(app.state.db.operator("test").reader())
    .await
    .expect("victim session")
    .get(0);
    hex::encode(sha2::Sha256::digest(
        format!("session-id:{hash}").as_bytes(),
    ))[..20]
        .to_string()
}

/// A saved queue view of acme's staff admin.
async fn victim_view(app: &TestApp) -> Option<String> {
    use sqlx::Row;
    let user = app.user_id("acme", "staff@acme.example").await;
    let op = app.state.db.operator("test");
    sqlx::query(
        "INSERT INTO saved_views (tenant_id, id, user_id, name, query, created_at) \
         SELECT tenant_id, 'victim-view', id, 'Victim view', 'status=all&q=victim-view-marker', 0 \
         FROM users WHERE id = $1 ON CONFLICT DO NOTHING",
    )
    .bind(&user)
    .execute(op.writer())
    .await
    .ok()?;
    let row = sqlx::query("SELECT id FROM saved_views WHERE user_id = $1 AND name = 'Victim view'")
        .bind(&user)
        .fetch_one(op.reader())
        .await
        .ok()?;
    row.try_get::<String, _>(0).ok()
}

/// A failed email job of acme (only failed jobs can be retried).
async fn victim_job(app: &TestApp) -> Option<String> {
    let tenant = portico::tenancy::store::by_slug(&app.state.db, "acme")
        .await
        .ok()??;
    let job = portico::jobs::enqueue_operator(
        &app.state.db,
        Some(tenant.id.as_str()),
        "email",
        &json!({ "to": "not-an-address", "subject": "Victim job", "lines": [] }),
        0,
    )
    .await
    .ok()?;
    portico::jobs::run_due(&app.state).await;
    Some(job)
}
