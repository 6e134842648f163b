//! Tenant resolution, org type, branding endpoint.

use reqwest::StatusCode;
use serde_json::Value;

use crate::support::TestApp;

async fn resolution_order(app: TestApp) {
    let c = app.client();
    // No tenant at all: the neutral page, never a list of tenants.
    let r = c.get(app.url("/")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains("Find your organisation"));
    assert!(!html.contains("Acme IT") && !html.contains("Grace Church"));

    // Unknown slug: the neutral page with a message, 404.
    let r = c.get(app.url("/login?tenant=nobody")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("could not find that organisation")
    );

    // ?tenant= resolves and is remembered in the portal_tenant cookie.
    let r = c.get(app.url("/login?tenant=acme")).send().await.unwrap();
    let cookies: Vec<_> = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    assert!(
        cookies.iter().any(|c| c.starts_with("portal_tenant=acme")),
        "{cookies:?}"
    );
    assert!(r.text().await.unwrap().contains("Sign in to Acme IT"));
    let r = c.get(app.url("/login")).send().await.unwrap();
    assert!(
        r.text().await.unwrap().contains("Sign in to Acme IT"),
        "cookie not remembered"
    );

    // A registered custom domain wins over the cookie.
    let r = c
        .get(app.url("/login"))
        .header("host", "grace.localhost")
        .send()
        .await
        .unwrap();
    let html = r.text().await.unwrap();
    assert!(html.contains("Sign in to Grace Church"));
    assert!(
        html.contains("class=\"mission auth-page\""),
        "mission style before sign-in"
    );
}
crate::db_test!(tenant_resolution, resolution_order);

async fn default_tenant_and_mission_domains(app: TestApp) {
    let c = app.client();
    // A configured Mission domain shows the Mission style even on the neutral page.
    let r = c
        .get(app.url("/"))
        .header("host", "portal.mission.test")
        .send()
        .await
        .unwrap();
    assert!(r.text().await.unwrap().contains("<body class=\"mission"));
    drop(app);
}
crate::db_test!(mission_domain_style, default_tenant_and_mission_domains);

#[tokio::test]
async fn default_tenant_applies_when_nothing_else_does() {
    let app = TestApp::spawn_with(crate::support::Db::Sqlite, |c| {
        c.default_tenant = Some("grace".into())
    })
    .await
    .unwrap();
    let r = app.client().get(app.url("/login")).send().await.unwrap();
    assert!(r.text().await.unwrap().contains("Sign in to Grace Church"));
}

async fn branding_endpoint(app: TestApp) {
    let c = app.client();
    let b: Value = c
        .get(app.url("/api/portal/branding?tenant=acme"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(b["portal_name"], "Acme IT");
    assert_eq!(b["primary_color"], "#0ea5e9");
    assert_eq!(b["accent_color"], "#0ea5e9", "accent falls back to primary");
    assert_eq!(b["org_type"], "msp");
    let g: Value = c
        .get(app.url("/api/portal/branding"))
        .header("host", "grace.localhost")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(g["portal_name"], "Grace Church");
    assert_eq!(g["primary_color"], "#e11d48", "mission is always rose");
    let r = c
        .get(app.url("/api/portal/branding?tenant=nobody"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["code"], "not_found");
    assert!(e["error"]["message"].is_string());
    let css = c
        .get(app.url("/branding/acme/theme.css"))
        .send()
        .await
        .unwrap();
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
    assert!(
        css.text()
            .await
            .unwrap()
            .contains("--brand-primary: #0ea5e9")
    );
}
crate::db_test!(branding_api, branding_endpoint);
