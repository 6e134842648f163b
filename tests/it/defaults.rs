//! Safe defaults a newcomer meets: the least powerful role on a fresh invitation form, and a
//! favicon on every tenant's domain.

use reqwest::StatusCode;

use crate::support::TestApp;

async fn text(c: &reqwest::Client, url: String) -> (StatusCode, String, String) {
    let r = c.get(url).send().await.unwrap();
    let status = r.status();
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    (status, ct, r.text().await.unwrap_or_default())
}

/// A fresh staff invitation form selects the technician (MSP) or member (Mission) role, never
/// staff admin.
async fn invite_form_offers_least_powerful_role(app: TestApp) {
    let (staff, _) = app
        .form_login("acme", "staff@acme.example", "portico-demo", true)
        .await;
    let (_, _, html) = text(&staff, app.url("/admin/users")).await;
    assert!(
        html.contains(r#"<option value="staff_technician" selected>"#),
        "{html}"
    );
    assert!(!html.contains(r#"<option value="staff_admin" selected>"#));
    let (pastor, _) = app
        .form_login("grace", "pastor@grace.example", "portico-demo", true)
        .await;
    let (_, _, html) = text(&pastor, app.url("/admin/users")).await;
    assert!(
        html.contains(r#"<option value="member" selected>"#),
        "{html}"
    );
}
crate::db_test!(
    defaults_invite_form_offers_least_powerful_role,
    invite_form_offers_least_powerful_role
);

/// `/favicon.ico` never 404s: the tenant's own icon by redirect when set, else an icon drawn
/// in the tenant's colour with its initial, else a neutral one.
async fn favicon_never_missing(app: TestApp) {
    let c = app.client();
    let (status, ct, body) = text(&c, app.url("/favicon.ico?tenant=acme")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ct, "image/svg+xml");
    assert!(body.contains("#0ea5e9") && body.contains(">A<"), "{body}");
    let (status, _, body) = text(&app.client(), app.url("/favicon.ico")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.starts_with("<svg"));
    sqlx::query("UPDATE tenants SET favicon_url = $1 WHERE slug = 'acme'")
        .bind("https://cdn.acme.example/icon.png")
        .execute(app.state.db.operator("test").writer())
        .await
        .unwrap();
    let r = c
        .get(app.url("/favicon.ico?tenant=acme"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(r.headers()["location"], "https://cdn.acme.example/icon.png");
}
crate::db_test!(defaults_favicon_never_missing, favicon_never_missing);

/// Staff read a ticket that waits for the client as "Waiting on client"; the client reads
/// "Waiting for you".
async fn waiting_status_worded_for_the_reader(app: TestApp) {
    use sqlx::Row;
    let n: i64 = sqlx::query(
        "SELECT MIN(t.number) FROM tickets t JOIN companies c ON c.id = t.company_id \
         WHERE t.status = 'pending' AND c.name = 'Globex'",
    )
    .fetch_one(app.state.db.operator("test").reader())
    .await
    .unwrap()
    .get(0);
    let (staff, _) = app
        .form_login("acme", "staff@acme.example", "portico-demo", true)
        .await;
    let (_, _, html) = text(&staff, app.url(&format!("/admin/tickets/{n}"))).await;
    assert!(html.contains("Waiting on client"), "{html}");
    assert!(!html.contains("Waiting for you"));
    let (_, _, html) = text(&staff, app.url("/admin/tickets")).await;
    assert!(html.contains("Waiting on client") && !html.contains("Waiting for you"));
    let (alice, _) = app
        .form_login("acme", "alice@globex.example", "portico-demo", false)
        .await;
    let (_, _, html) = text(&alice, app.url(&format!("/portal/tickets/{n}"))).await;
    assert!(html.contains("Waiting for you"), "{html}");
    assert!(!html.contains("Waiting on client"));
}
crate::db_test!(
    defaults_waiting_status_worded_for_the_reader,
    waiting_status_worded_for_the_reader
);

/// A viewer is told, quietly, that their access is read-only; a user who can raise tickets
/// is not.
async fn viewer_told_read_only(app: TestApp) {
    let (vera, _) = app
        .form_login("acme", "vera@globex.example", "portico-demo", false)
        .await;
    let (_, _, html) = text(&vera, app.url("/portal/dashboard")).await;
    assert!(html.contains("id=\"read-only-note\""), "{html}");
    assert!(html.contains("read-only"));
    let (bob, _) = app
        .form_login("acme", "bob@globex.example", "portico-demo", false)
        .await;
    let (_, _, html) = text(&bob, app.url("/portal/dashboard")).await;
    assert!(!html.contains("read-only-note"));
}
crate::db_test!(defaults_viewer_told_read_only, viewer_told_read_only);
