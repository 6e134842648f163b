//! Isolation fixtures for billing, shared files, Legal keys, PSA, assistant routes.

use serde_json::{Value, json};

use crate::fixtures::{Fixture, PageFixture};
use crate::support::TestApp;

/// The fixture for a documented `(path, method)`, or `None` when none is defined yet.
pub async fn fixture(app: &TestApp, path: &str, method: &str) -> Option<Fixture> {
    let _ = method;
    Some(match path {
        "/api/v1/admin/billing/subscriptions/{id}"
        | "/api/v1/admin/billing/subscriptions/{id}/cancel" => Fixture {
            path: path.replace("{id}", &globex_subscription(app).await?),
            body: json!({"name": GLOBEX_SUBSCRIPTION, "quantity": "24", "unit_price": "45.00",
                         "cycle": "monthly", "next_billing_date": "2030-01-01", "status": "active"}),
            marker: GLOBEX_SUBSCRIPTION,
            // Technicians do not manage billing.
            lower_role: Some(("acme", "tech@acme.example", "admin", 403)),
        },
        // Globex's card at the provider: the demo configures no provider, so nobody can reach
        // a card here; what matters is that no other company's session ever gets past 403/404
        // (and so never to a detach), and never sees Globex's provider customer.
        "/api/v1/billing/payment-methods/{id}" => Fixture {
            path: path.replace("{id}", GLOBEX_CARD),
            body: Value::Null,
            marker: GLOBEX_CUSTOMER,
            // Bob has no billing grant.
            lower_role: Some(("acme", "bob@globex.example", "portal", 403)),
        },
        "/api/v1/documents/files/{id}" | "/api/v1/documents/files/{id}/download" => Fixture {
            path: path.replace("{id}", &bob_file(app).await?),
            body: Value::Null,
            marker: if path.ends_with("/download") {
                BOB_FILE_CONTENT
            } else {
                BOB_FILE
            },
            // Shared with Bob only: his colleague does not see it.
            lower_role: Some(("acme", "alice@globex.example", "portal", 404)),
        },
        "/api/v1/admin/documents/files/{id}"
        | "/api/v1/admin/documents/files/{id}/versions"
        | "/api/v1/admin/documents/files/{id}/versions/{version}/download"
        | "/api/v1/admin/documents/files/{id}/withdraw" => Fixture {
            path: path
                .replace("{id}", &bob_file(app).await?)
                .replace("{version}", "1"),
            body: json!({}),
            marker: if path.ends_with("/download") {
                BOB_FILE_CONTENT
            } else {
                BOB_FILE
            },
            lower_role: None,
        },
        "/api/v1/admin/integrations/psa/tickets/{number}/conflicts" => Fixture {
            path: path.replace("{number}", &psa_ticket(app).await?.to_string()),
            body: Value::Null,
            // Only a conflict list has this key; the demo records one on the linked ticket.
            marker: "\"psa_value\"",
            // Technicians do not manage integrations.
            lower_role: Some(("acme", "tech@acme.example", "admin", 403)),
        },
        "/api/v1/assistant/conversations/{id}" => Fixture {
            path: path.replace("{id}", &bob_conversation(app).await?),
            body: Value::Null,
            marker: BOB_CONVERSATION,
            // Conversations are per user: a colleague of the same company cannot open one.
            lower_role: Some(("acme", "alice@globex.example", "portal", 404)),
        },
        "/api/v1/admin/assistant/conversations/{id}" => Fixture {
            path: path.replace("{id}", &bob_conversation(app).await?),
            body: Value::Null,
            marker: BOB_CONVERSATION,
            lower_role: None,
        },
        _ => return None,
    })
}

/// The fixture for a page `(path, method)`, or `None` when none is defined yet.
pub async fn page_fixture(app: &TestApp, path: &str, method: &str) -> Option<PageFixture> {
    let _ = method;
    let page = |p: String, fields: Vec<(&'static str, &'static str)>, marker: &str| PageFixture {
        path: p,
        fields,
        multipart: false,
        marker: marker.to_string(),
        lower_role: None,
    };
    Some(match path {
        // acme's demo Google provider (turned off): its admin pages are acme staff's only, and
        // its sign-in routes answer 404 to everyone (off, or another tenant's).
        "/admin/integrations/oidc/{id}" | "/admin/integrations/oidc/{id}/delete" => PageFixture {
            lower_role: Some(("acme", "tech@acme.example", "admin", 403)),
            ..page(
                path.replace("{id}", &demo_oidc_provider(app).await?),
                vec![
                    ("preset", "google"),
                    ("name", "Google"),
                    ("issuer", "https://accounts.google.com"),
                    ("client_id", "example-client-id.apps.googleusercontent.com"),
                    ("client_secret", ""),
                    ("domains", "globex.example = Globex"),
                    ("new_user_role", "client_user"),
                ],
                "example-client-id",
            )
        },
        "/auth/oidc/{id}/start" | "/auth/oidc/{id}/callback" => page(
            path.replace("{id}", &demo_oidc_provider(app).await?),
            vec![],
            "accounts.google.com",
        ),
        "/admin/companies/{id}/subscriptions"
        | "/admin/companies/{id}/subscriptions/{sub}"
        | "/admin/companies/{id}/subscriptions/{sub}/cancel" => PageFixture {
            lower_role: Some(("acme", "tech@acme.example", "admin", 403)),
            ..page(
                path.replace("{id}", &app.company_id("acme", "Globex").await)
                    .replace("{sub}", &globex_subscription(app).await?),
                vec![
                    ("name", GLOBEX_SUBSCRIPTION),
                    ("quantity", "24"),
                    ("unit_price", "45.00"),
                    ("cycle", "monthly"),
                    ("next_billing_date", "2030-01-01"),
                    ("status", "active"),
                ],
                // Creating names no subscription yet: what must not show is the company's.
                if path.ends_with("/subscriptions") {
                    "Globex"
                } else {
                    GLOBEX_SUBSCRIPTION
                },
            )
        },
        "/portal/billing/methods/{id}/remove" => PageFixture {
            lower_role: Some(("acme", "bob@globex.example", "portal", 403)),
            ..page(path.replace("{id}", GLOBEX_CARD), vec![], GLOBEX_CUSTOMER)
        },
        "/portal/documents/files/{id}/download" => PageFixture {
            lower_role: Some(("acme", "alice@globex.example", "portal", 404)),
            ..page(
                path.replace("{id}", &bob_file(app).await?),
                vec![],
                BOB_FILE_CONTENT,
            )
        },
        "/admin/documents/files/{id}"
        | "/admin/documents/files/{id}/replace"
        | "/admin/documents/files/{id}/withdraw"
        | "/admin/documents/files/{id}/versions/{version}/download" => PageFixture {
            multipart: path.ends_with("/replace"),
            ..page(
                path.replace("{id}", &bob_file(app).await?)
                    .replace("{version}", "1"),
                vec![("title", "Replaced")],
                if path.ends_with("/download") {
                    BOB_FILE_CONTENT
                } else {
                    BOB_FILE
                },
            )
        },
        // Technicians manage documents, so there is no lower role for the Legal keys.
        "/admin/integrations/legal/{id}/revoke" | "/admin/integrations/legal/{id}/rotate" => page(
            path.replace("{id}", &legal_key(app).await?),
            vec![],
            LEGAL_KEY,
        ),
        "/admin/integrations/psa/items/{id}/retry" => PageFixture {
            lower_role: Some(("acme", "tech@acme.example", "admin", 403)),
            ..page(
                path.replace("{id}", &psa_item(app).await?),
                vec![],
                PSA_ITEM_ERROR,
            )
        },
        _ => return None,
    })
}

/// First value of a one-column query binding `binds` in order.
async fn scalar(app: &TestApp, sql: &str, binds: &[&str]) -> Option<String> {
    let mut q = sqlx::query_scalar::<_, String>(sql);
    for b in binds {
        q = q.bind(*b);
    }
    q.fetch_optional(app.state.db.operator("test").reader())
        .await
        .ok()?
}

/// Runs one write binding `binds` in order.
async fn write(app: &TestApp, sql: &str, binds: &[&str]) -> Option<()> {
    let mut q = sqlx::query(sql);
    for b in binds {
        q = q.bind(*b);
    }
    q.execute(app.state.db.operator("test").writer())
        .await
        .expect("fixture row");
    Some(())
}

/// Name of a demo subscription of Globex.
const GLOBEX_SUBSCRIPTION: &str = "Managed workstation support";

async fn globex_subscription(app: &TestApp) -> Option<String> {
    scalar(
        app,
        "SELECT s.id FROM subscriptions s JOIN companies c ON c.tenant_id = s.tenant_id AND c.id = s.company_id \
         JOIN tenants t ON t.id = s.tenant_id WHERE t.slug = 'acme' AND c.name = 'Globex' AND s.name = $1",
        &[GLOBEX_SUBSCRIPTION],
    )
    .await
}

/// Globex's provider customer in the demo (`billing::demo::DEMO_GLOBEX_CUSTOMER`).
const GLOBEX_CUSTOMER: &str = "cus_demo_globex";
/// A card id of Globex's at the provider (the card itself lives there, never in Portico).
const GLOBEX_CARD: &str = "pm_demo_globex_visa";

/// Title and content of the demo file shared with Bob only.
const BOB_FILE: &str = "Your new laptop: handover notes";
const BOB_FILE_CONTENT: &str = "Serial: 5CD1234XYZ";

async fn bob_file(app: &TestApp) -> Option<String> {
    scalar(
        app,
        "SELECT f.id FROM doc_files f JOIN tenants t ON t.id = f.tenant_id WHERE t.slug = 'acme' AND f.title = $1",
        &[BOB_FILE],
    )
    .await
}

/// Name of the Legal key the fixtures add to acme.
const LEGAL_KEY: &str = "Victim legal key";

async fn legal_key(app: &TestApp) -> Option<String> {
    let id = "victim-legal-key";
    write(
        app,
        "INSERT INTO doc_legal_keys (tenant_id, id, name, prefix, key_hash, created_by, created_at) \
         SELECT id, $1, $2, 'plk_victim', 'victim-legal-key-hash', NULL, 0 FROM tenants WHERE slug = 'acme' \
         ON CONFLICT DO NOTHING",
        &[id, LEGAL_KEY],
    )
    .await?;
    Some(id.to_string())
}

/// Number of the demo ticket linked to the PSA (it has a recorded conflict).
async fn psa_ticket(app: &TestApp) -> Option<i64> {
    sqlx::query_scalar::<_, i64>(
        "SELECT k.number FROM tickets k JOIN tenants t ON t.id = k.tenant_id \
         WHERE t.slug = 'acme' AND k.subject = 'VPN disconnects every hour'",
    )
    .fetch_optional(app.state.db.operator("test").reader())
    .await
    .ok()?
}

/// Error of the failed PSA outbox item the fixtures add to acme.
const PSA_ITEM_ERROR: &str = "victim PSA item refused";

async fn psa_item(app: &TestApp) -> Option<String> {
    let id = "victim-psa-item";
    write(
        app,
        "INSERT INTO psa_outbox (id, tenant_id, ticket_id, kind, comment_id, fields, status, attempts, last_error, created_at) \
         SELECT $1, k.tenant_id, k.id, 'update', NULL, '[\"priority\"]', 'failed', 3, $2, 0 \
         FROM tickets k JOIN tenants t ON t.id = k.tenant_id \
         WHERE t.slug = 'acme' AND k.subject = 'VPN disconnects every hour' ON CONFLICT DO NOTHING",
        &[id, PSA_ITEM_ERROR],
    )
    .await?;
    Some(id.to_string())
}

/// Title of Bob's assistant conversation the fixtures add (escalated, so staff may open it).
const BOB_CONVERSATION: &str = "Victim chat about the plotter";

async fn bob_conversation(app: &TestApp) -> Option<String> {
    let id = "victim-assistant-conversation";
    let bob = app.user_id("acme", "bob@globex.example").await;
    write(
        app,
        "INSERT INTO assistant_conversations (tenant_id, id, user_id, title, escalated_ticket, created_at, updated_at) \
         SELECT u.tenant_id, $1, u.id, $2, COALESCE((SELECT MIN(k.number) FROM tickets k WHERE k.tenant_id = u.tenant_id AND k.requester_id = u.id), \
         (SELECT MIN(k.number) FROM tickets k WHERE k.tenant_id = u.tenant_id)), 0, 0 \
         FROM users u WHERE u.id = $3 ON CONFLICT DO NOTHING",
        &[id, BOB_CONVERSATION, &bob],
    )
    .await?;
    Some(id.to_string())
}

/// Id of acme's demo OpenID provider (Google, turned off).
async fn demo_oidc_provider(app: &TestApp) -> Option<String> {
    sqlx::query_scalar(
        "SELECT p.id FROM identity_oidc_providers p JOIN tenants t ON t.id = p.tenant_id \
         WHERE t.slug = 'acme' AND p.name = 'Google'",
    )
    .fetch_one(app.state.db.operator("test").reader())
    .await
    .ok()
}
