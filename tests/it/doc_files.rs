//! Shared files: staff share with everyone, a company or one user; versions; withdrawal;
//! search and cursor pages; and that nobody downloads a file they were not given, by any route
//! (pages, API, old versions, another tenant).

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::Value;

use crate::support::{Session, TestApp};

async fn status_json(r: reqwest::Response) -> (StatusCode, Value) {
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

fn file_form(name: &str, body: &str, fields: &[(&str, &str)]) -> Form {
    let mut f = Form::new();
    for (k, v) in fields {
        f = f.text(k.to_string(), v.to_string());
    }
    f.part(
        "file",
        Part::bytes(body.as_bytes().to_vec()).file_name(name.to_string()),
    )
}

/// Shares a text file as staff through the API; returns the file detail.
async fn share(staff: &Session, name: &str, body: &str, fields: &[(&str, &str)]) -> Value {
    let (s, v) = status_json(
        staff
            .upload(
                "/api/v1/admin/documents/files",
                file_form(name, body, fields),
            )
            .await,
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v
}

async fn body_of(r: reqwest::Response) -> (StatusCode, String) {
    let s = r.status();
    (s, r.text().await.unwrap_or_default())
}

fn ids(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|i| i["id"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

async fn share_replace_withdraw_and_isolation(app: TestApp) {
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    let alice = app
        .api_login("acme", "alice@globex.example", "portal")
        .await;
    let ian = app.api_login("acme", "ian@initech.example", "portal").await;
    let carl = app
        .api_login("northwind", "carl@contoso.example", "portal")
        .await;
    let nora = app
        .api_login("northwind", "nora@northwind.example", "admin")
        .await;
    let globex = app.company_id("acme", "Globex").await;
    let bob_id = app.user_id("acme", "bob@globex.example").await;

    // Validation: an audience that names nothing of this tenant is refused, nothing is kept.
    let (s, v) = status_json(
        staff
            .upload(
                "/api/v1/admin/documents/files",
                file_form("x.txt", "x", &[("audience", "company")]),
            )
            .await,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(v.to_string().contains("company_id"), "{v}");
    let contoso = app.company_id("northwind", "Contoso").await;
    let (s, _) = status_json(
        staff
            .upload(
                "/api/v1/admin/documents/files",
                file_form(
                    "x.txt",
                    "x",
                    &[("audience", "company"), ("company_id", &contoso)],
                ),
            )
            .await,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    let g = share(
        &staff,
        "globex-plan.txt",
        "Globex plan v1\n",
        &[
            ("title", "Globex rollout plan"),
            ("audience", "company"),
            ("company_id", &globex),
        ],
    )
    .await;
    let gid = g["file"]["id"].as_str().unwrap().to_string();
    assert_eq!(g["file"]["version"], 1);
    assert_eq!(g["file"]["content_type"], "text/plain");
    assert_eq!(g["file"]["size"], 15);
    let b = share(
        &staff,
        "bob-notes.txt",
        "For Bob only\n",
        &[("audience", "user"), ("user_id", &bob_id)],
    )
    .await;
    let bid = b["file"]["id"].as_str().unwrap().to_string();
    assert_eq!(b["file"]["title"], "bob-notes.txt");

    // Who sees what, by list, detail and download.
    let (_, l) = status_json(bob.get("/api/v1/documents/files").await).await;
    assert!(ids(&l).contains(&gid) && ids(&l).contains(&bid), "{l}");
    let (_, l) = status_json(alice.get("/api/v1/documents/files").await).await;
    assert!(ids(&l).contains(&gid) && !ids(&l).contains(&bid), "{l}");
    let (s, text) = body_of(
        alice
            .get(&format!("/api/v1/documents/files/{gid}/download"))
            .await,
    )
    .await;
    assert_eq!((s, text.as_str()), (StatusCode::OK, "Globex plan v1\n"));
    let (s, text) = body_of(
        bob.get(&format!("/portal/documents/files/{bid}/download"))
            .await,
    )
    .await;
    assert_eq!((s, text.as_str()), (StatusCode::OK, "For Bob only\n"));
    for (who, id) in [(&alice, &bid), (&ian, &gid), (&ian, &bid), (&carl, &gid)] {
        for path in [
            format!("/api/v1/documents/files/{id}"),
            format!("/api/v1/documents/files/{id}/download"),
            format!("/portal/documents/files/{id}/download"),
        ] {
            assert_eq!(
                who.get(&path).await.status(),
                StatusCode::NOT_FOUND,
                "{path}"
            );
        }
        let (_, l) = status_json(who.get("/api/v1/documents/files").await).await;
        assert!(!ids(&l).contains(id));
        let (_, html) = body_of(who.get("/portal/documents?state=shared").await).await;
        assert!(!html.contains(id.as_str()));
    }
    // Staff routes are staff only, and only in their own tenant.
    let old = format!("/api/v1/admin/documents/files/{gid}/versions/1/download");
    for path in [
        old.clone(),
        format!("/admin/documents/files/{gid}/versions/1/download"),
    ] {
        // Refused, or (a page) sent to the staff sign-in: never the file.
        let r = bob.get(&path).await;
        let s = r.status();
        assert!(!s.is_success(), "{path}: {s}");
        assert!(!r.text().await.unwrap_or_default().contains("Globex plan"));
        assert_eq!(nora.get(&path).await.status(), StatusCode::NOT_FOUND);
    }
    let r = nora
        .post_json(
            &format!("/api/v1/admin/documents/files/{gid}/withdraw"),
            &Value::Null,
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let (_, l) = status_json(nora.get("/api/v1/admin/documents/files").await).await;
    assert!(!ids(&l).contains(&gid));

    // A new version: clients get it, the history keeps the old one for staff.
    let (s, v) = status_json(
        staff
            .upload(
                &format!("/api/v1/admin/documents/files/{gid}/versions"),
                file_form("globex-plan-v2.txt", "Globex plan v2\n", &[]),
            )
            .await,
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["file"]["version"], 2);
    assert_eq!(v["versions"].as_array().map(Vec::len), Some(2));
    let (_, text) = body_of(
        alice
            .get(&format!("/api/v1/documents/files/{gid}/download"))
            .await,
    )
    .await;
    assert_eq!(text, "Globex plan v2\n");
    let (s, text) = body_of(staff.get(&old).await).await;
    assert_eq!((s, text.as_str()), (StatusCode::OK, "Globex plan v1\n"));
    let s = alice.get(&old).await.status();
    assert_ne!(s, StatusCode::OK);

    // Search.
    let (_, l) = status_json(bob.get("/api/v1/documents/files?q=ROLLOUT").await).await;
    assert_eq!(ids(&l), vec![gid.clone()]);
    let (_, l) = status_json(bob.get("/api/v1/documents/files?q=%25").await).await;
    assert!(ids(&l).is_empty(), "{l}");
    let (_, html) = body_of(bob.get("/portal/documents?state=shared&q=rollout").await).await;
    assert!(html.contains("Globex rollout plan") && !html.contains("bob-notes.txt"));

    // Withdrawn: gone for clients by every route (old versions included); staff keep it.
    let r = staff
        .post_form(&format!("/admin/documents/files/{gid}/withdraw"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    for path in [
        format!("/api/v1/documents/files/{gid}"),
        format!("/api/v1/documents/files/{gid}/download"),
        format!("/portal/documents/files/{gid}/download"),
    ] {
        assert_eq!(alice.get(&path).await.status(), StatusCode::NOT_FOUND);
    }
    let (_, l) = status_json(alice.get("/api/v1/documents/files").await).await;
    assert!(!ids(&l).contains(&gid));
    let (s, v) = status_json(
        staff
            .get(&format!("/api/v1/admin/documents/files/{gid}"))
            .await,
    )
    .await;
    assert_eq!(
        (s, v["file"]["status"].as_str()),
        (StatusCode::OK, Some("withdrawn"))
    );
    // A withdrawn file takes no new version, and cannot be withdrawn twice.
    let r = staff
        .upload(
            &format!("/api/v1/admin/documents/files/{gid}/versions"),
            file_form("v3.txt", "v3", &[]),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let r = staff
        .post_json(
            &format!("/api/v1/admin/documents/files/{gid}/withdraw"),
            &Value::Null,
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);

    let actions = app.audit_actions("acme").await;
    for a in [
        "document.file_shared",
        "document.file_replaced",
        "document.file_withdrawn",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a} in {actions:?}");
    }
    assert_eq!(
        actions
            .iter()
            .filter(|a| *a == "document.file_shared")
            .count(),
        2
    );
}
crate::db_test!(share_and_isolation, share_replace_withdraw_and_isolation);

async fn pages_and_demo_files(app: TestApp) {
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    let alice = app
        .api_login("acme", "alice@globex.example", "portal")
        .await;
    let ian = app.api_login("acme", "ian@initech.example", "portal").await;
    let carl = app
        .api_login("northwind", "carl@contoso.example", "portal")
        .await;
    let titles = |l: &Value| -> Vec<String> {
        l["items"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|i| i["title"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let (_, l) = status_json(bob.get("/api/v1/documents/files").await).await;
    let mut t = titles(&l);
    t.sort();
    assert_eq!(
        t,
        [
            "Globex VPN setup",
            "Service desk guide",
            "Your new laptop: handover notes"
        ]
    );
    let (_, l) = status_json(alice.get("/api/v1/documents/files").await).await;
    assert_eq!(titles(&l).len(), 2);
    let (_, l) = status_json(ian.get("/api/v1/documents/files").await).await;
    assert_eq!(titles(&l), ["Service desk guide"]);
    // Northwind has no Globex: only its own guide.
    let (_, l) = status_json(carl.get("/api/v1/documents/files").await).await;
    assert_eq!(titles(&l), ["Service desk guide"]);
    let id = l["items"][0]["id"].as_str().unwrap().to_string();
    let (s, text) = body_of(
        carl.get(&format!("/api/v1/documents/files/{id}/download"))
            .await,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(text.contains("service desk"), "{text}");
    assert_eq!(
        ian.get(&format!("/api/v1/documents/files/{id}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );

    // The portal tab lists them with size and a download link.
    let (s, html) = body_of(bob.get("/portal/documents?state=shared").await).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("Globex VPN setup") && html.contains("/portal/documents/files/"));

    // Staff share through the page form; the same page shows field errors.
    let r = staff
        .upload(
            "/admin/documents/files",
            file_form("", "", &[("_csrf", &staff.csrf), ("audience", "all")]),
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = r.text().await.unwrap_or_default();
    assert!(
        html.contains("role=\"alert\"") && html.contains("sf-file-err"),
        "{html}"
    );
    let r = staff
        .upload(
            "/admin/documents/files",
            file_form(
                "holiday-rota.txt",
                "Rota\n",
                &[
                    ("_csrf", &staff.csrf),
                    ("audience", "all"),
                    ("title", "Holiday rota"),
                ],
            ),
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let (s, html) = body_of(staff.get(&to).await).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("Holiday rota") && html.contains("data-confirm"));
    let (s, html) = body_of(staff.get("/admin/documents/files").await).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("Holiday rota") && html.contains("Globex VPN setup"));
    let (_, l) = status_json(ian.get("/api/v1/documents/files").await).await;
    assert!(titles(&l).contains(&"Holiday rota".to_string()));
}
crate::db_test!(pages_and_demo, pages_and_demo_files);

async fn cursor_pages(app: TestApp) {
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let ian = app.api_login("acme", "ian@initech.example", "portal").await;
    for i in 0..27 {
        share(
            &staff,
            &format!("memo-{i:02}.txt"),
            "memo",
            &[("audience", "all")],
        )
        .await;
    }
    let mut seen = Vec::new();
    let mut path = "/api/v1/documents/files?q=memo".to_string();
    let mut pages = 0;
    loop {
        let (s, l) = status_json(ian.get(&path).await).await;
        assert_eq!(s, StatusCode::OK);
        pages += 1;
        seen.extend(ids(&l));
        match l["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/documents/files?q=memo&after={c}"),
            None => break,
        }
        assert!(pages < 5);
    }
    assert_eq!(pages, 2);
    assert_eq!(seen.len(), 27);
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 27);
    let (_, html) = body_of(ian.get("/portal/documents?state=shared&q=memo").await).await;
    let at = html.find("</table>").unwrap_or(0);
    assert!(
        html.contains("q=memo&#38;after="),
        "next link: {}",
        &html[at..(at + 300).min(html.len())]
    );
}
crate::db_test!(file_pages, cursor_pages);
