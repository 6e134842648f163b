//! Branding images, contrast and branded email through the HTTP surface: uploads are checked by
//! content, SVG is sanitised, images are served from a content-hashed path of their own tenant
//! only, colours below 4.5:1 are refused with a passing shade, and emails carry the brand.

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::support::{Session, TestApp, form_csrf};

/// A 1×1 PNG.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89\0\0\0\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\0\x05\0\x01\xff\x89\x99=\x1d\0\0\0\0IEND\xaeB`\x82";
/// The head of a JPEG (enough for the magic-byte check).
const JPEG: &[u8] = b"\xff\xd8\xff\xe0\0\x10JFIF\0\x01\x01\0\0\x01\0\x01\0\0\xff\xdb\0C\0";

const DIRTY_SVG: &str = r##"<?xml version="1.0"?>
<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10" onload="alert(1)">
  <script>alert(2)</script>
  <rect width="10" height="10" fill="#0b5394" onclick="alert(3)"/>
  <a href="javascript:alert(4)"><circle r="2"/></a>
  <foreignObject><div xmlns="http://www.w3.org/1999/xhtml">hi</div></foreignObject>
</svg>"##;

/// Posts an upload form as the page does: `_csrf` first, then `target`, then the file.
async fn upload(s: &Session, target: &str, name: &str, bytes: Vec<u8>) -> reqwest::Response {
    let form = Form::new()
        .text("_csrf", s.csrf.clone())
        .text("target", target.to_string())
        .part(
            format!("{target}_image"),
            Part::bytes(bytes).file_name(name.to_string()),
        );
    s.client
        .post(format!("{}/admin/branding/image", s.base))
        .multipart(form)
        .send()
        .await
        .expect("upload")
}

async fn branding(s: &Session) -> Value {
    let r = s.get("/api/v1/admin/branding").await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.expect("branding json")
}

async fn used_bytes(app: &TestApp, slug: &str) -> i64 {
    sqlx::query_scalar::<_, i64>("SELECT storage_used_bytes FROM tenants WHERE slug = $1")
        .bind(slug)
        .fetch_one(app.state.db.operator("test: usage").reader())
        .await
        .expect("usage")
}

async fn objects(app: &TestApp, slug: &str) -> Vec<String> {
    let id = sqlx::query_scalar::<_, String>("SELECT id FROM tenants WHERE slug = $1")
        .bind(slug)
        .fetch_one(app.state.db.operator("test: tenant id").reader())
        .await
        .expect("tenant id");
    app.state
        .files
        .list(&format!("t/{id}"))
        .await
        .expect("list")
}

/// GET `path` with the given `Host` header, as a browser on that domain would.
async fn get_from(app: &TestApp, host: &str, path: &str) -> reqwest::Response {
    app.client()
        .get(app.url(path))
        .header("host", host)
        .send()
        .await
        .expect("GET")
}

/// A PNG logo: stored, charged, audited, set as the logo, served immutably at its hashed path
/// from the tenant's own domain and nowhere else.
async fn png_logo_is_served_immutably(app: TestApp) {
    let admin = app.api_login("acme", "staff@acme.example", "admin").await;
    let before = used_bytes(&app, "acme").await;
    let r = upload(&admin, "logo", "logo.png", PNG.to_vec()).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let logo = branding(&admin).await["logo_url"]
        .as_str()
        .expect("logo set")
        .to_string();
    let name = logo
        .strip_prefix("/branding/acme/asset/")
        .unwrap_or_else(|| panic!("hashed path: {logo}"));
    assert!(name.ends_with(".png") && name.len() == 16 + 4, "{name}");
    assert_eq!(used_bytes(&app, "acme").await, before + PNG.len() as i64);
    assert!(
        app.audit_actions("acme")
            .await
            .contains(&"branding.image_uploaded".to_string())
    );
    let r = get_from(&app, "acme.localhost", &logo).await;
    assert_eq!(r.status(), StatusCode::OK);
    let h = r.headers().clone();
    assert_eq!(h["cache-control"], "public, max-age=31536000, immutable");
    assert_eq!(h["content-type"], "image/png");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(r.bytes().await.expect("body").as_ref(), PNG);
    // The public branding names it too (the login page and header use it).
    let pb: Value = app
        .client()
        .get(app.url("/api/portal/branding?tenant=acme"))
        .send()
        .await
        .expect("public branding")
        .json()
        .await
        .expect("json");
    assert_eq!(pb["logo_url"], logo.as_str());
    // The same image again is the same asset: no second charge.
    let r = upload(&admin, "favicon", "icon.png", PNG.to_vec()).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(branding(&admin).await["favicon_url"], logo.as_str());
    assert_eq!(used_bytes(&app, "acme").await, before + PNG.len() as i64);
    // Tenant isolation: not under another tenant's slug, nor from its domain.
    let other = logo.replace("/branding/acme/", "/branding/grace/");
    assert_eq!(
        get_from(&app, "grace.localhost", &other).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get_from(&app, "grace.localhost", &logo).await.status(),
        StatusCode::NOT_FOUND
    );
    // Another tenant cannot point its branding at it.
    let pastor = app
        .api_login("grace", "pastor@grace.example", "admin")
        .await;
    let mut b = branding(&pastor).await;
    b["logo_url"] = json!(logo);
    let r = pastor.put_json("/api/v1/admin/branding", &b).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let e: Value = r.json().await.expect("error");
    assert_eq!(e["error"]["fields"][0]["field"], "logo_url", "{e}");
    // Nor can the owner name an upload it does not have; a pasted https address still works.
    let mut b = branding(&admin).await;
    b["login_background_url"] = json!("/branding/acme/asset/0000000000000000.png");
    let r = admin.put_json("/api/v1/admin/branding", &b).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    b["login_background_url"] = json!("https://cdn.example.com/bg.jpg");
    let r = admin.put_json("/api/v1/admin/branding", &b).await;
    assert_eq!(r.status(), StatusCode::OK);
    let saved: Value = r.json().await.expect("saved");
    assert_eq!(saved["logo_url"], logo.as_str());
    assert_eq!(
        saved["login_background_url"],
        "https://cdn.example.com/bg.jpg"
    );
}
crate::db_test!(branding_png_logo, png_logo_is_served_immutably);

/// An SVG with a script, handlers, a javascript: link and foreignObject is stored without
/// them and served with a policy that allows nothing to run; one that declares entities is
/// refused.
async fn svg_is_sanitised(app: TestApp) {
    let admin = app.api_login("acme", "staff@acme.example", "admin").await;
    let r = upload(&admin, "logo", "logo.svg", DIRTY_SVG.as_bytes().to_vec()).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let logo = branding(&admin).await["logo_url"]
        .as_str()
        .expect("logo")
        .to_string();
    assert!(logo.ends_with(".svg"), "{logo}");
    let r = get_from(&app, "acme.localhost", &logo).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "image/svg+xml");
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .expect("csp")
        .to_string();
    assert!(csp.starts_with("default-src 'none'"), "{csp}");
    let body = r.text().await.expect("svg").to_ascii_lowercase();
    for bad in ["script", "onload", "onclick", "javascript", "foreignobject"] {
        assert!(!body.contains(bad), "{bad} served: {body}");
    }
    assert!(body.contains("<rect"), "{body}");
    // Only the sanitised copy is kept.
    assert_eq!(objects(&app, "acme").await.len(), 1);
    let laughs = r#"<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaa">]><svg xmlns="http://www.w3.org/2000/svg">&a;</svg>"#;
    let r = upload(&admin, "logo", "bomb.svg", laughs.as_bytes().to_vec()).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let page = r.text().await.expect("page");
    assert!(
        page.contains("bomb.svg declares or uses XML entities"),
        "{page}"
    );
    assert_eq!(objects(&app, "acme").await.len(), 1);
}
crate::db_test!(branding_svg_sanitised, svg_is_sanitised);

/// Bytes that do not match their name, content that is no image, and files over 2 MB are
/// refused with a clear message, and nothing is stored or charged.
async fn bad_files_are_refused(app: TestApp) {
    let admin = app.api_login("acme", "staff@acme.example", "admin").await;
    let before = used_bytes(&app, "acme").await;
    let r = upload(&admin, "logo", "logo.png", JPEG.to_vec()).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let page = r.text().await.expect("page");
    assert!(
        page.contains("logo.png is named as a PNG image, but its content is a JPEG image"),
        "{page}"
    );
    let r = upload(&admin, "favicon", "icon.png", b"<html>hi</html>".to_vec()).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let page = r.text().await.expect("page");
    assert!(
        page.contains("icon.png is not a PNG, JPEG, WebP or SVG image."),
        "{page}"
    );
    let mut big = PNG.to_vec();
    big.resize(2 * 1024 * 1024 + 1, 0);
    let r = upload(&admin, "login_background", "huge.png", big).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let page = r.text().await.expect("page");
    assert!(page.contains("huge.png is larger than 2.0 MB."), "{page}");
    assert_eq!(used_bytes(&app, "acme").await, before);
    assert_eq!(objects(&app, "acme").await, Vec::<String>::new());
    assert_eq!(branding(&admin).await["logo_url"], "");
}
crate::db_test!(branding_bad_files, bad_files_are_refused);

/// Technicians may not upload or see the email preview.
async fn only_branding_managers(app: TestApp) {
    let tech = app.api_login("acme", "tech@acme.example", "admin").await;
    let r = upload(&tech, "logo", "logo.png", PNG.to_vec()).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        tech.get("/admin/branding/email-preview").await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        tech.get("/admin/branding/email-preview/frame")
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(objects(&app, "acme").await, Vec::<String>::new());
}
crate::db_test!(branding_upload_forbidden, only_branding_managers);

/// A primary colour whose button text reads below 4.5:1 is refused with the nearest passing
/// shade, which the page offers as a button; the shade itself is accepted.
async fn low_contrast_is_refused(app: TestApp) {
    let admin = app.api_login("acme", "staff@acme.example", "admin").await;
    let mut b = branding(&admin).await;
    b["primary_color"] = json!("#d9534f");
    let r = admin.put_json("/api/v1/admin/branding", &b).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let e: Value = r.json().await.expect("error");
    let f = &e["error"]["fields"][0];
    assert_eq!(f["field"], "primary_color", "{e}");
    let msg = f["message"].as_str().expect("message");
    assert!(
        msg.starts_with("#d9534f gives 4.4:1 with dark text; #"),
        "{msg}"
    );
    let shade = msg
        .split("; ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .expect("shade")
        .to_string();
    assert!(msg.contains(&format!("{shade} passes (4.")), "{msg}");
    // The form shows the message and offers the shade.
    let page = admin
        .get("/admin/branding")
        .await
        .text()
        .await
        .expect("page");
    let csrf = form_csrf(&page);
    let r = admin
        .client
        .post(app.url("/admin/branding"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("portal_name", "Acme IT"),
            ("primary_color", "#d9534f"),
        ])
        .send()
        .await
        .expect("form");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let page = r.text().await.expect("page");
    assert!(page.contains(&format!("data-shade=\"{shade}\"")), "{page}");
    b["primary_color"] = json!(shade);
    let r = admin.put_json("/api/v1/admin/branding", &b).await;
    assert_eq!(r.status(), StatusCode::OK);
}
crate::db_test!(branding_contrast, low_contrast_is_refused);

/// Splits a MIME message into `(content type, decoded body)` parts.
fn mime_parts(eml: &str) -> Vec<(String, String)> {
    use base64::Engine;
    let mut out = Vec::new();
    let boundary = eml
        .split("boundary=\"")
        .nth(1)
        .and_then(|b| b.split('"').next())
        .expect("multipart boundary");
    for chunk in eml.split(&format!("--{boundary}")) {
        let Some((head, body)) = chunk.split_once("\r\n\r\n") else {
            continue;
        };
        let lower = head.to_ascii_lowercase();
        let Some(ct) = lower
            .split("content-type:")
            .nth(1)
            .map(|v| v.trim().split(';').next().unwrap_or("").trim().to_string())
        else {
            continue;
        };
        if ct.starts_with("multipart/") {
            continue;
        }
        let body = if lower.contains("content-transfer-encoding: base64") {
            let joined: String = body.split_whitespace().collect();
            String::from_utf8(
                base64::engine::general_purpose::STANDARD
                    .decode(joined)
                    .expect("base64 part"),
            )
            .expect("utf-8 part")
        } else {
            body.replace("=\r\n", "").replace("=3D", "=")
        };
        out.push((ct, body));
    }
    out
}

/// The email preview shows the sample as sent; a real email has a plain-text and an HTML part,
/// the HTML carrying the uploaded logo at an absolute address, the colours and the footer.
async fn emails_are_branded(app: TestApp) {
    let admin = app.api_login("acme", "staff@acme.example", "admin").await;
    let r = upload(&admin, "logo", "logo.png", PNG.to_vec()).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let logo = branding(&admin).await["logo_url"]
        .as_str()
        .expect("logo")
        .to_string();
    let absolute = app.url(&logo);
    let r = admin.get("/admin/branding/email-preview").await;
    assert_eq!(r.status(), StatusCode::OK);
    let page = r.text().await.expect("page");
    assert!(
        page.contains("src=\"/admin/branding/email-preview/frame\""),
        "{page}"
    );
    assert!(page.contains("View the ticket: http://"), "{page}");
    let r = admin.get("/admin/branding/email-preview/frame").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["x-frame-options"], "SAMEORIGIN");
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .expect("csp")
        .to_string();
    assert!(
        csp.contains("style-src 'unsafe-inline'") && !csp.contains("script-src"),
        "{csp}"
    );
    let html = r.text().await.expect("frame");
    assert!(html.contains(&format!("src=\"{absolute}\"")), "{html}");
    // A real message: the password reset of a client.
    let c = app.client();
    let page = c
        .get(app.url("/forgot-password?tenant=acme"))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    let csrf = form_csrf(&page);
    c.post(app.url("/forgot-password"))
        .form(&[("_csrf", csrf.as_str()), ("email", "bob@globex.example")])
        .send()
        .await
        .expect("forgot");
    let mail = app.last_mail_to("bob@globex.example").await;
    let parts = mime_parts(&mail);
    let text = parts
        .iter()
        .find(|p| p.0 == "text/plain")
        .unwrap_or_else(|| panic!("no text/plain part: {mail}"));
    let html = parts
        .iter()
        .find(|p| p.0 == "text/html")
        .unwrap_or_else(|| panic!("no text/html part: {mail}"));
    assert!(
        html.1.contains(&format!("src=\"{absolute}\"")),
        "{}",
        html.1
    );
    assert!(html.1.contains("background:#0ea5e9"), "{}", html.1);
    assert!(html.1.contains("mailto:support@acme.example"), "{}", html.1);
    assert!(html.1.contains("You are receiving this email because"));
    // The plain part says the same: the link, the support address and why.
    assert!(text.1.contains("/reset-password?"), "{}", text.1);
    assert!(text.1.contains("support@acme.example"), "{}", text.1);
    assert!(text.1.contains("You are receiving this email because"));
}
crate::db_test!(branding_email, emails_are_branded);
