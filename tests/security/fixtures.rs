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
        "/api/v1/catalog/{id}" | "/api/v1/catalog/{id}/requests" => Fixture {
            path: path.replace("{id}", &globex_item(app).await),
            body: json!({"answers": {"employee": "Pat"}}),
            marker: GLOBEX_ITEM,
            // Initech's admin gets 404 (hidden item); the viewer reads but never requests.
            lower_role: write.then_some(("acme", "vera@globex.example", "portal", 403)),
        },
        "/api/v1/admin/catalog/items/{id}" => Fixture {
            path: path.replace("{id}", &globex_item(app).await),
            body: json!({"category_id": "x", "name": "Taken", "icon": "box", "first_response_minutes": 1,
                         "resolution_minutes": 1, "hours": "24x7", "visibility": "all", "active": true}),
            marker: GLOBEX_ITEM,
            lower_role: None,
        },
        "/api/v1/admin/catalog/categories/{id}" => {
            globex_item(app).await;
            Fixture {
                path: path.replace("{id}", VICTIM_CATEGORY_ID),
                body: json!({"name": "Taken"}),
                marker: VICTIM_CATEGORY,
                lower_role: None,
            }
        }
        "/api/v1/kb/articles/{slug}" | "/api/v1/kb/articles/{slug}/vote" => Fixture {
            path: path.replace("{slug}", GLOBEX_ARTICLE_SLUG),
            body: json!({"helpful": true}),
            marker: GLOBEX_ARTICLE_MARKER,
            lower_role: None,
        },
        "/api/v1/admin/kb/articles/{id}" => Fixture {
            path: path.replace("{id}", &globex_article(app).await),
            body: json!({"title": "Globex: badge reader at the warehouse door", "category": "Facilities",
                "body": "The warehouse badge reader.", "visibility": "clients", "status": "published"}),
            marker: GLOBEX_ARTICLE_MARKER,
            lower_role: None,
        },
        "/api/v1/announcements/{id}" | "/api/v1/announcements/{id}/read" => Fixture {
            path: path.replace("{id}", &globex_announcement(app).await),
            body: json!({}),
            marker: GLOBEX_ANNOUNCEMENT,
            lower_role: None,
        },
        "/api/v1/admin/announcements/{id}" => Fixture {
            path: path.replace("{id}", &globex_announcement(app).await),
            body: json!({"title": GLOBEX_ANNOUNCEMENT, "body": "Text.", "severity": "info"}),
            marker: GLOBEX_ANNOUNCEMENT,
            lower_role: None,
        },
        // A grace member's request private to the pastoral staff: another grace member (the
        // matrix's "other tenant's member") must get 404 like everyone else.
        "/api/v1/mission/prayer/{id}/prayed"
        | "/api/v1/mission/prayer/{id}/answer"
        | "/api/v1/mission/prayer/{id}/report" => Fixture {
            path: path.replace("{id}", &private_prayer(app).await),
            body: json!({"praise": "Answered"}),
            marker: PRIVATE_PRAYER,
            // Another grace member: a request private to the pastoral staff is not theirs.
            lower_role: Some(("grace", "mary@grace.example", "portal", 404)),
        },
        "/api/v1/admin/invoices/{id}"
        | "/api/v1/admin/invoices/{id}/lines"
        | "/api/v1/admin/invoices/{id}/lines/{line}"
        | "/api/v1/admin/invoices/{id}/send"
        | "/api/v1/admin/invoices/{id}/payments"
        | "/api/v1/admin/invoices/{id}/void" => {
            let (id, line) = globex_invoice(app).await;
            Fixture {
                path: path.replace("{id}", &id).replace("{line}", &line),
                body: json!({"description": "x", "quantity": "1", "unit_price": "1", "amount": "1.00", "method": "cash", "reason": "x"}),
                marker: GLOBEX_INVOICE_LINE,
                lower_role: Some(("acme", "tech@acme.example", "admin", 403)),
            }
        }
        "/api/v1/invoices/{id}" | "/api/v1/invoices/{id}/checkout" => Fixture {
            path: path.replace("{id}", &globex_invoice(app).await.0),
            body: json!({}),
            marker: GLOBEX_INVOICE_LINE,
            lower_role: Some(("acme", "bob@globex.example", "portal", 403)),
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
            if path.contains("/mission/") {
                return crate::fixtures_mission::fixture(app, path, method).await;
            }
            return crate::fixtures_more::fixture(app, path, method).await;
        }
    })
}

/// The demo article only Globex may read.
const GLOBEX_ARTICLE_SLUG: &str = "globex-badge-reader-at-the-warehouse-door";
/// Text of its body.
const GLOBEX_ARTICLE_MARKER: &str = "blue Globex badges";
/// Title of the Globex-only announcement the fixtures add.
const GLOBEX_ANNOUNCEMENT: &str = "Globex fixture announcement";

async fn globex_article(app: &TestApp) -> String {
    use sqlx::Row;
    sqlx::query("SELECT id FROM kb_articles WHERE slug = $1")
        .bind(GLOBEX_ARTICLE_SLUG)
        .fetch_one(app.state.db.operator("test").reader())
        .await
        .expect("demo article")
        .get::<String, _>(0)
}

/// A live announcement for Globex only (created once per app).
async fn globex_announcement(app: &TestApp) -> String {
    let id = "0190f000-0000-7000-8000-00000000a11a".to_string();
    let globex = app.company_id("acme", "Globex").await;
    let db = app.state.db.operator("test");
    sqlx::query(
        "INSERT INTO announcements (tenant_id, id, title, body, severity, audience, publish_at, pinned, delivered_at, created_at, updated_at) \
         SELECT tenant_id, $1, $2, 'Only for Globex.', 'info', 'companies', 0, 0, 0, 0, 0 FROM companies WHERE id = $3 \
         ON CONFLICT (tenant_id, id) DO NOTHING",
    )
    .bind(&id)
    .bind(GLOBEX_ANNOUNCEMENT)
    .bind(&globex)
    .execute(db.writer())
    .await
    .expect("announcement row");
    sqlx::query(
        "INSERT INTO announcement_companies (tenant_id, announcement_id, company_id) \
         SELECT tenant_id, $1, id FROM companies WHERE id = $2 ON CONFLICT (tenant_id, announcement_id, company_id) DO NOTHING",
    )
    .bind(&id)
    .bind(&globex)
    .execute(db.writer())
    .await
    .expect("announcement audience");
    id
}

/// Words of the demo prayer request John keeps private to the pastoral staff (grace).
const PRIVATE_PRAYER: &str = "struggling in my marriage";

async fn private_prayer(app: &TestApp) -> String {
    use sqlx::Row;
    sqlx::query("SELECT id FROM mission_prayers WHERE body LIKE $1")
        .bind(format!("%{PRIVATE_PRAYER}%"))
        .fetch_one(app.state.db.operator("test").reader())
        .await
        .expect("demo private prayer")
        .get::<String, _>(0)
}

/// A line of the overdue Globex demo invoice the invoice routes are attacked through.
const GLOBEX_INVOICE_LINE: &str = "Remote support hours";

/// The overdue Globex demo invoice and one of its lines.
async fn globex_invoice(app: &TestApp) -> (String, String) {
    use sqlx::Row;
    let row = sqlx::query(
        "SELECT i.id, l.id AS line FROM invoices i JOIN companies c ON c.tenant_id = i.tenant_id AND c.id = i.company_id \
         JOIN invoice_lines l ON l.tenant_id = i.tenant_id AND l.invoice_id = i.id \
         WHERE c.name = 'Globex' AND i.status = 'overdue' ORDER BY l.position LIMIT 1",
    )
    .fetch_one(app.state.db.operator("test").reader())
    .await
    .expect("demo invoice");
    (row.get(0), row.get(1))
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

/// Id of one of acme's demo Hub bar apps.
async fn acme_hub_app(app: &TestApp, name: &str) -> Option<String> {
    sqlx::query_scalar(
        "SELECT a.id FROM identity_hub_apps a JOIN tenants t ON t.id = a.tenant_id \
         WHERE t.slug = 'acme' AND a.name = $1",
    )
    .bind(name)
    .fetch_one(app.state.db.operator("test").reader())
    .await
    .ok()
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
        | "/admin/companies/{id}/activate"
        | "/admin/companies/{id}/members"
        | "/admin/companies/{id}/members/remove" => PageFixture {
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
        "/portal/hub/{id}" => page(
            path.replace("{id}", &acme_hub_app(app, "Hub").await?),
            vec![],
            "token=",
        ),
        "/admin/integrations/identity/apps/{id}/remove" => {
            let id = acme_hub_app(app, "Documentation").await?;
            PageFixture {
                lower_role: Some(("acme", "tech@acme.example", "admin", 403)),
                ..page(path.replace("{id}", &id), vec![], "https://docs.example/")
            }
        }
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
        "/portal/kb/{slug}" | "/portal/kb/{slug}/vote" => page(
            path.replace("{slug}", GLOBEX_ARTICLE_SLUG),
            vec![("helpful", "yes")],
            GLOBEX_ARTICLE_MARKER,
        ),
        "/admin/kb/{id}" | "/admin/kb/{id}/delete" => page(
            path.replace("{id}", &globex_article(app).await),
            vec![
                ("title", "Changed"),
                ("category", "Facilities"),
                ("body", "Changed."),
                ("visibility", "clients"),
                ("status", "published"),
            ],
            GLOBEX_ARTICLE_MARKER,
        ),
        "/portal/announcements/{id}" => page(
            path.replace("{id}", &globex_announcement(app).await),
            vec![],
            GLOBEX_ANNOUNCEMENT,
        ),
        "/admin/announcements/{id}" | "/admin/announcements/{id}/delete" => page(
            path.replace("{id}", &globex_announcement(app).await),
            vec![
                ("title", "Changed"),
                ("body", "Changed."),
                ("severity", "info"),
                ("audience", "all"),
                ("when", "now"),
            ],
            GLOBEX_ANNOUNCEMENT,
        ),
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
        "/admin/invoices/{id}"
        | "/admin/invoices/{id}/pdf"
        | "/admin/invoices/{id}/lines"
        | "/admin/invoices/{id}/lines/{line}"
        | "/admin/invoices/{id}/lines/{line}/delete"
        | "/admin/invoices/{id}/send"
        | "/admin/invoices/{id}/payments"
        | "/admin/invoices/{id}/void" => {
            let (id, line) = globex_invoice(app).await;
            PageFixture {
                lower_role: Some(("acme", "tech@acme.example", "admin", 403)),
                ..page(
                    path.replace("{id}", &id).replace("{line}", &line),
                    vec![
                        ("description", "x"),
                        ("quantity", "1"),
                        ("unit_price", "1"),
                        ("amount", "1.00"),
                        ("method", "cash"),
                        ("reason", "x"),
                    ],
                    GLOBEX_INVOICE_LINE,
                )
            }
        }
        "/portal/invoices/{id}"
        | "/portal/invoices/{id}/pdf"
        | "/portal/invoices/{id}/pay"
        | "/portal/invoices/{id}/return" => PageFixture {
            lower_role: Some(("acme", "bob@globex.example", "portal", 403)),
            ..page(
                path.replace("{id}", &globex_invoice(app).await.0),
                vec![],
                GLOBEX_INVOICE_LINE,
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
        "/portal/catalog/{id}" => PageFixture {
            lower_role: write.then_some(("acme", "vera@globex.example", "portal", 403)),
            ..page(
                path.replace("{id}", &globex_item(app).await),
                vec![("q_employee", "Pat")],
                GLOBEX_ITEM,
            )
        },
        "/admin/catalog/items/{id}" | "/admin/catalog/items/{id}/delete" => page(
            path.replace("{id}", &globex_item(app).await),
            vec![("name", "Taken")],
            GLOBEX_ITEM,
        ),
        "/admin/catalog/categories/{id}" | "/admin/catalog/categories/{id}/delete" => {
            globex_item(app).await;
            page(
                path.replace("{id}", VICTIM_CATEGORY_ID),
                vec![("name", "Taken")],
                VICTIM_CATEGORY,
            )
        }
        "/portal/mission/prayer/{id}/prayed"
        | "/portal/mission/prayer/{id}/answer"
        | "/portal/mission/prayer/{id}/report" => PageFixture {
            lower_role: Some(("grace", "mary@grace.example", "portal", 404)),
            ..page(
                path.replace("{id}", &private_prayer(app).await),
                vec![("praise", "Answered")],
                PRIVATE_PRAYER,
            )
        },
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
        _ if path.contains("/mission/") => {
            return crate::fixtures_mission::page_fixture(app, path, method).await;
        }
        _ => return crate::fixtures_more::page_fixture(app, path, method).await,
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

/// Name of the catalog item the catalog routes are attacked through (Globex only).
const GLOBEX_ITEM: &str = "Globex payroll access";
const VICTIM_CATEGORY: &str = "Victim shelf";
const VICTIM_CATEGORY_ID: &str = "victim-catalog-category";

/// A catalog item of acme offered to Globex only, in a category of its own (created once).
async fn globex_item(app: &TestApp) -> String {
    let globex = app.company_id("acme", "Globex").await;
    let op = app.state.db.operator("test");
    let id = "victim-catalog-item";
    for sql in [
        "INSERT INTO catalog_categories (id, tenant_id, name, position, created_at, updated_at) \
         SELECT $1, tenant_id, 'Victim shelf', 99, 0, 0 FROM companies WHERE id = $3 ON CONFLICT DO NOTHING",
        "INSERT INTO catalog_items (id, tenant_id, category_id, name, description, description_html, icon, \
         first_response_minutes, resolution_minutes, hours, price, visibility, active, form_version, created_at, updated_at) \
         SELECT $2, tenant_id, $1, 'Globex payroll access', '', '', 'key', 60, 120, '24x7', NULL, 'companies', 1, 1, 0, 0 \
         FROM companies WHERE id = $3 ON CONFLICT DO NOTHING",
        "INSERT INTO catalog_form_versions (tenant_id, item_id, version, fields, created_by, created_at) \
         SELECT tenant_id, $2, 1, '[{\"key\":\"employee\",\"label\":\"Employee\",\"kind\":\"short_text\",\"required\":true}]', NULL, 0 \
         FROM companies WHERE id = $3 ON CONFLICT DO NOTHING",
        "INSERT INTO catalog_item_companies (tenant_id, item_id, company_id) \
         SELECT tenant_id, $2, id FROM companies WHERE id = $3 ON CONFLICT DO NOTHING",
    ] {
        sqlx::query(sql)
            .bind(VICTIM_CATEGORY_ID)
            .bind(id)
            .bind(&globex)
            .execute(op.writer())
            .await
            .expect("victim catalog row");
    }
    id.to_string()
}
