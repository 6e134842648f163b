//! Knowledge base: ranked prefix search with escaped snippets, visibility (public, clients,
//! chosen companies, drafts) by page, API and search, votes once per user, deflection counts,
//! audit rows, and isolation from other companies and tenants.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{Session, TestApp};

async fn write(staff: &Session, body: Value) -> Value {
    let r = staff.post_json("/api/v1/admin/kb/articles", &body).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json().await.unwrap()
}

async fn search(s: &Session, q: &str) -> Vec<Value> {
    let r = s
        .get(&format!("/api/v1/kb/articles?q={}", urlencode(q)))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    v["items"].as_array().unwrap().clone()
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn titles(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|i| i["title"].as_str().unwrap().to_string())
        .collect()
}

async fn search_ranks_prefixes_and_escapes(app: TestApp) {
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let alice = app
        .api_login("acme", "alice@globex.example", "portal")
        .await;
    write(&staff, json!({
        "title": "Quokka scanner mentions", "category": "Hardware", "body": "Some text that mentions a zanzibarite once, among other words.",
        "visibility": "clients", "status": "published"
    })).await;
    write(
        &staff,
        json!({
            "title": "Zanzibarite cable setup", "category": "Hardware", "tags": ["zanzibarite"],
            "body": "If 2 < 3, plug the <script>alert(1)</script> zanzibarite cable & tighten it.",
            "visibility": "clients", "status": "published"
        }),
    )
    .await;

    // A prefix finds both; the title (and tag) match ranks first.
    let hits = search(&alice, "zanzib").await;
    assert_eq!(
        titles(&hits),
        ["Zanzibarite cable setup", "Quokka scanner mentions"]
    );
    let snippet = hits[0]["snippet_html"].as_str().unwrap();
    assert!(snippet.contains("<mark>zanzibarite</mark>"), "{snippet}");
    assert!(
        !snippet.contains("<script"),
        "snippet is escaped: {snippet}"
    );
    // (PostgreSQL's headline drops tags; SQLite's snippet keeps them as escaped text.)
    assert!(snippet.contains("&amp;"), "{snippet}");

    // Every word must match when some article has them all; query syntax is inert.
    assert_eq!(
        titles(&search(&alice, "zanzibarite cable").await),
        ["Zanzibarite cable setup"]
    );
    assert!(search(&alice, "\"* OR NEAR(").await.is_empty());
    // No article has all the words: any of them, best first.
    let any = search(&alice, "zanzibarite nonexistentword").await;
    assert_eq!(any.len(), 2);

    // The portal page highlights too, escaped.
    let page = alice.get("/portal/kb?q=zanzib").await.text().await.unwrap();
    assert!(page.contains("<mark>zanzibarite</mark>"));
    assert!(!page.contains("<script>alert(1)"));
    // The article body is sanitised Markdown.
    let a = alice
        .get("/portal/kb/zanzibarite-cable-setup")
        .await
        .text()
        .await
        .unwrap();
    assert!(!a.contains("<script>alert(1)"));
    assert!(a.contains("Zanzibarite cable setup"));
}
crate::db_test!(kb_search, search_ranks_prefixes_and_escapes);

async fn visibility_by_page_api_and_search(app: TestApp) {
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let alice = app
        .api_login("acme", "alice@globex.example", "portal")
        .await;
    let ian = app.api_login("acme", "ian@initech.example", "portal").await;
    let globex = app.company_id("acme", "Globex").await;
    let secret = write(&staff, json!({
        "title": "Globex vaultkeeper procedure", "category": "Security", "body": "The vaultkeeper code rotates monthly.",
        "visibility": "companies", "companies": [globex], "status": "published"
    })).await;
    let slug = secret["slug"].as_str().unwrap().to_string();
    write(&staff, json!({
        "title": "Vaultkeeper draft notes", "category": "Security", "body": "Unfinished vaultkeeper notes.",
        "visibility": "clients"
    })).await;
    let public = write(&staff, json!({
        "title": "Public vaultkeeper overview", "category": "Security", "body": "What a vaultkeeper is.",
        "visibility": "public", "status": "published"
    })).await;
    let public_slug = public["slug"].as_str().unwrap().to_string();

    // Globex sees its article and the public one; never the draft.
    let mut seen = titles(&search(&alice, "vaultkeeper").await);
    seen.sort();
    assert_eq!(
        seen,
        [
            "Globex vaultkeeper procedure",
            "Public vaultkeeper overview"
        ]
    );
    assert_eq!(
        alice
            .get(&format!("/api/v1/kb/articles/{slug}"))
            .await
            .status(),
        StatusCode::OK
    );
    // Initech: not in search, not by page, not by API, not in the list or the suggestions.
    assert_eq!(
        titles(&search(&ian, "vaultkeeper").await),
        ["Public vaultkeeper overview"]
    );
    assert_eq!(
        ian.get(&format!("/api/v1/kb/articles/{slug}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        ian.get(&format!("/portal/kb/{slug}")).await.status(),
        StatusCode::NOT_FOUND
    );
    let list = ian
        .get("/api/v1/kb/articles?category=Security")
        .await
        .text()
        .await
        .unwrap();
    assert!(!list.contains("Globex vaultkeeper"));
    let sug = ian
        .get("/api/v1/kb/suggest?q=vaultkeeper%20procedure")
        .await
        .text()
        .await
        .unwrap();
    assert!(!sug.contains("Globex vaultkeeper"), "{sug}");
    let page = ian
        .get("/portal/kb?q=vaultkeeper")
        .await
        .text()
        .await
        .unwrap();
    assert!(!page.contains("Globex vaultkeeper"));
    // Drafts: only staff.
    assert_eq!(
        alice
            .get("/api/v1/kb/articles/vaultkeeper-draft-notes")
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let admin = staff
        .get("/api/v1/admin/kb/articles?q=vaultkeeper")
        .await
        .text()
        .await
        .unwrap();
    assert!(admin.contains("Vaultkeeper draft notes"));

    // Anonymous readers of the tenant's portal: public articles only.
    let anon = app.client();
    let r = anon
        .get(app.url(&format!("/portal/kb/{public_slug}?tenant=acme")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("What a vaultkeeper is."));
    let r = anon
        .get(app.url("/api/v1/kb/articles?q=vaultkeeper&tenant=acme"))
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        titles(v["items"].as_array().unwrap()),
        ["Public vaultkeeper overview"]
    );
    let r = anon
        .get(app.url(&format!("/api/v1/kb/articles/{slug}?tenant=acme")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = anon
        .get(app.url(&format!("/portal/kb/{slug}?tenant=acme")))
        .send()
        .await
        .unwrap();
    assert_ne!(r.status(), StatusCode::OK);

    // Another tenant (a Mission) has no knowledge base and never sees acme's.
    let mary = app.api_login("grace", "mary@grace.example", "portal").await;
    assert_eq!(
        mary.get("/api/v1/kb/articles?q=vaultkeeper").await.status(),
        StatusCode::NOT_FOUND
    );
    let pastor = app
        .api_login("grace", "pastor@grace.example", "admin")
        .await;
    let id = secret["id"].as_str().unwrap();
    assert_eq!(
        pastor
            .get(&format!("/api/v1/admin/kb/articles/{id}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    // Clients cannot write, and the technician role may not either if it lacks the permission.
    assert_eq!(
        alice
            .post_json("/api/v1/admin/kb/articles", &json!({}))
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    // Choosing another tenant's or unknown company is refused.
    let r = staff.post_json("/api/v1/admin/kb/articles", &json!({
        "title": "X", "category": "Y", "body": "Z", "visibility": "companies", "companies": ["nope"]
    })).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}
crate::db_test!(kb_visibility, visibility_by_page_api_and_search);

async fn votes_once_per_user_and_audit(app: TestApp) {
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let alice = app
        .api_login("acme", "alice@globex.example", "portal")
        .await;
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    let a = write(&staff, json!({
        "title": "Vote target", "category": "Misc", "body": "Body.", "visibility": "clients", "status": "published"
    })).await;
    let slug = a["slug"].as_str().unwrap().to_string();
    let id = a["id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/kb/articles/{slug}/vote");
    let yes = json!({ "helpful": true });
    let votes = (0..8).map(|_| alice.post_json(&path, &yes));
    for r in futures::future::join_all(votes).await {
        assert_eq!(r.status(), StatusCode::OK);
    }
    let r = bob
        .post_form(&format!("/portal/kb/{slug}/vote"), &[("helpful", "no")])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let v: Value = staff
        .get(&format!("/api/v1/admin/kb/articles/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        v["helpful"], 1,
        "one vote per user however many arrive: {v}"
    );
    assert_eq!(v["not_helpful"], 1);
    // Changing one's mind replaces the vote.
    alice.post_json(&path, &json!({ "helpful": false })).await;
    let v: Value = staff
        .get(&format!("/api/v1/admin/kb/articles/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (v["helpful"].as_i64(), v["not_helpful"].as_i64()),
        (Some(0), Some(2))
    );
    let v: Value = alice
        .get(&format!("/api/v1/kb/articles/{slug}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["my_vote"], false);
    // The staff page shows the counts.
    let page = staff.get("/admin/kb").await.text().await.unwrap();
    assert!(
        page.contains("0 helpful · 2 not helpful"),
        "staff see the counts"
    );

    // Staff changes are audited.
    let r = staff.put_json(&format!("/api/v1/admin/kb/articles/{id}"), &json!({
        "title": "Vote target 2", "category": "Misc", "body": "Body.", "visibility": "public", "status": "published"
    })).await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = staff
        .client
        .delete(app.url(&format!("/api/v1/admin/kb/articles/{id}")))
        .header("x-csrf-token", &staff.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let actions = app.audit_actions("acme").await;
    for a in [
        "kb.article_created",
        "kb.article_updated",
        "kb.article_deleted",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a} audited");
    }
    assert_eq!(
        alice
            .get(&format!("/api/v1/kb/articles/{slug}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}
crate::db_test!(kb_votes, votes_once_per_user_and_audit);

async fn deflection_counts_tickets_avoided(app: TestApp) {
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let alice = app
        .api_login("acme", "alice@globex.example", "portal")
        .await;
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    // Demo articles are there; suggestions follow the subject.
    let v: Value = alice
        .get("/api/v1/kb/suggest?q=outlook%20keeps%20asking%20password")
        .await
        .json()
        .await
        .unwrap();
    let items = v["items"].as_array().unwrap();
    assert!(!items.is_empty() && items.len() <= 5);
    assert_eq!(items[0]["slug"], "outlook-keeps-asking-for-my-password");
    let before: Value = staff
        .get("/api/v1/admin/kb/stats")
        .await
        .json()
        .await
        .unwrap();
    // Alice opens a suggestion and raises no ticket; Bob opens one and raises a ticket.
    assert_eq!(
        alice
            .get("/portal/kb/printer-shows-offline?from=suggest")
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        bob.get("/portal/kb/printer-shows-offline?from=suggest")
            .await
            .status(),
        StatusCode::OK
    );
    let r = bob.post_json("/api/v1/tickets", &json!({
        "subject": "Printer still offline", "description": "Tried the article.", "priority": "normal"
    })).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    // Forty minutes later (moved back in time rather than waited for).
    let db = app.state.db.operator("test");
    sqlx::query("UPDATE kb_deflections SET opened_at = opened_at - 2400000")
        .execute(db.writer())
        .await
        .unwrap();
    sqlx::query("UPDATE tickets SET created_at = created_at - 2400000 WHERE subject = 'Printer still offline'")
        .execute(db.writer()).await.unwrap();
    let after: Value = staff
        .get("/api/v1/admin/kb/stats")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        after["suggestions_opened"].as_i64().unwrap()
            - before["suggestions_opened"].as_i64().unwrap(),
        2
    );
    assert_eq!(
        after["tickets_avoided"].as_i64().unwrap() - before["tickets_avoided"].as_i64().unwrap(),
        1
    );
    let page = staff.get("/admin/kb").await.text().await.unwrap();
    assert!(page.contains("ticket avoided") || page.contains("tickets avoided"));
}
crate::db_test!(kb_deflection, deflection_counts_tickets_avoided);

async fn demo_and_dashboard(app: TestApp) {
    let alice = app
        .api_login("acme", "alice@globex.example", "portal")
        .await;
    let ian = app.api_login("acme", "ian@initech.example", "portal").await;
    let cats: Value = alice
        .get("/api/v1/kb/categories")
        .await
        .json()
        .await
        .unwrap();
    assert!(cats.as_array().unwrap().len() >= 5, "{cats}");
    let page = alice.get("/portal/kb").await.text().await.unwrap();
    assert!(page.contains("Connect to the office VPN"));
    assert!(
        alice
            .get("/portal/kb?category=Facilities")
            .await
            .text()
            .await
            .unwrap()
            .contains("badge reader")
    );
    assert!(
        !ian.get("/portal/kb?category=Facilities")
            .await
            .text()
            .await
            .unwrap()
            .contains("badge reader")
    );
    let dash = alice.get("/portal/dashboard").await.text().await.unwrap();
    assert!(dash.contains("New in the knowledge base"));
    // The public index needs no sign-in.
    let r = app
        .client()
        .get(app.url("/portal/kb?tenant=acme"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body = r.text().await.unwrap();
    assert!(body.contains("Reset your password"));
    assert!(
        !body.contains("Printer shows offline"),
        "clients-only articles stay private"
    );
    // Spanish.
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    let es = bob
        .client
        .get(app.url("/portal/kb"))
        .header("accept-language", "es")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(es.contains("Categorías") || es.contains("Buscar"));
}
crate::db_test!(kb_demo, demo_and_dashboard);

async fn search_is_fast_on_thousands(app: TestApp) {
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let alice = app
        .api_login("acme", "alice@globex.example", "portal")
        .await;
    let db = app.state.db.operator("test");
    let mut tx = db.writer().begin().await.unwrap();
    let words = [
        "router", "firmware", "laptop", "docking", "monitor", "license", "backup", "mailbox",
    ];
    for i in 0..3000 {
        let w = words[i % words.len()];
        let w2 = words[(i / 8) % words.len()];
        sqlx::query(
            "INSERT INTO kb_articles (tenant_id, id, slug, title, category, tags, body, visibility, status, published_at, created_at, updated_at) \
             SELECT id, $1, $2, $3, 'Bulk', $4, $5, 'clients', 'published', 1, 1, 1 FROM tenants WHERE slug = 'acme'",
        )
        .bind(format!("bulk-{i:05}"))
        .bind(format!("bulk-{i}"))
        .bind(format!("How to fix the {w} issue number {i}"))
        .bind(w2)
        .bind(format!("Steps for the {w} and the {w2}. Restart, update, check cables. Case {i}."))
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    // Warm up, then time the ranked prefix search as a client and as staff.
    search(&alice, "firmw").await;
    let start = std::time::Instant::now();
    let hits = search(&alice, "firmw dock").await;
    let took = start.elapsed();
    assert!(!hits.is_empty());
    assert!(
        took < std::time::Duration::from_millis(750),
        "search took {took:?}"
    );
    let start = std::time::Instant::now();
    let r = staff
        .get("/api/v1/admin/kb/articles?q=backup%20mailbox")
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(start.elapsed() < std::time::Duration::from_millis(750));
}
crate::db_test!(kb_search_speed, search_is_fast_on_thousands);

/// Posts the staff page's image form: `_csrf` first, then the file.
async fn upload_image(s: &Session, name: &str, bytes: Vec<u8>) -> reqwest::Response {
    use reqwest::multipart::{Form, Part};
    let form = Form::new()
        .text("_csrf", s.csrf.clone())
        .part("image", Part::bytes(bytes).file_name(name.to_string()));
    s.client
        .post(format!("{}/admin/kb/images", s.base))
        .multipart(form)
        .send()
        .await
        .expect("upload")
}

/// Staff upload a picture into the platform's storage and place it in an article with the
/// Markdown the page gives them; the article shows it, the file is served from the tenant's
/// assets, wrong types are refused beside the field, and clients cannot upload.
async fn article_images_live_in_the_platform_storage(app: TestApp) {
    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89\0\0\0\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\0\x05\0\x01\xff\x89\x99=\x1d\0\0\0\0IEND\xaeB`\x82";
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let r = upload_image(&staff, "diagram.png", PNG.to_vec()).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()["location"].to_str().unwrap().to_string();
    assert!(to.starts_with("/admin/kb?image="), "{to}");
    let html = staff.get(&to).await.text().await.unwrap();
    let start = html
        .find("](/branding/acme/asset/")
        .expect("markdown shown")
        + 2;
    let path = &html[start..start + html[start..].find(')').unwrap()];
    assert!(path.ends_with(".png"), "{path}");
    assert!(
        app.audit_actions("acme")
            .await
            .contains(&"kb.image_uploaded".to_string())
    );
    // Served from storage, and placed in an article it renders as an image.
    let r = app.client().get(app.url(path)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(r.bytes().await.unwrap().as_ref(), PNG);
    let art = write(
        &staff,
        json!({"title": "Where the patch panel is", "category": "Office", "tags": [],
               "body": format!("The panel:\n\n![Patch panel]({path})"),
               "visibility": "clients", "status": "published"}),
    )
    .await;
    let alice = app
        .api_login("acme", "alice@globex.example", "portal")
        .await;
    let slug = art["slug"].as_str().unwrap();
    let page = alice
        .get(&format!("/portal/kb/{slug}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains(&format!("<img src=\"{path}\"")), "{page}");
    // The address bar cannot make the page echo anything but this tenant's own asset path.
    let html = staff
        .get("/admin/kb?image=javascript:alert(1)")
        .await
        .text()
        .await
        .unwrap();
    assert!(!html.contains("javascript:alert"));
    // A file that is not an image is refused beside the field; nothing is stored.
    let r = upload_image(&staff, "notes.png", b"just some text".to_vec()).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = r.text().await.unwrap();
    assert!(html.contains("id=\"image-err\""), "{html}");
    // Clients have no upload.
    let r = upload_image(&alice, "x.png", PNG.to_vec()).await;
    assert!(
        r.status() == StatusCode::FORBIDDEN || r.status() == StatusCode::SEE_OTHER,
        "{}",
        r.status()
    );
}
crate::db_test!(kb_images, article_images_live_in_the_platform_storage);
