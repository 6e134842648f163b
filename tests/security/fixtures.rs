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
        _ => {
            let _ = write;
            return None;
        }
    })
}
