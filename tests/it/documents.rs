//! Documents: policies sent for signature, the server-enforced read → acknowledge → confirm
//! steps (order, replay, concurrency), name matching, one signer per request, isolation,
//! permissions, audit rows and request emails.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{Session, TestApp};

async fn status_json(r: reqwest::Response) -> (StatusCode, Value) {
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

/// Sends a policy to `users` (ids) as staff; returns the policy JSON.
async fn send(app: &TestApp, staff: &Session, title: &str, body: Value) -> Value {
    let mut b = json!({ "title": title, "body": "## Rules\n\nBe careful.", "version": "1.0" });
    if let (Some(o), Some(e)) = (b.as_object_mut(), body.as_object()) {
        o.extend(e.clone());
    }
    let (s, v) = status_json(
        staff
            .post_json("/api/v1/admin/documents/policies", &b)
            .await,
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let _ = app;
    v
}

/// The id of `email`'s request in a policy answer.
fn request_of(policy: &Value, email: &str) -> String {
    policy["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["user_email"] == email)
        .unwrap_or_else(|| panic!("no request for {email} in {policy}"))["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn step(s: &Session, id: &str, what: &str, body: Value) -> (StatusCode, Value) {
    status_json(
        s.post_json(&format!("/api/v1/signatures/{id}/{what}"), &body)
            .await,
    )
    .await
}

async fn steps_are_enforced_in_order(app: TestApp) {
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    let bob_id = app.user_id("acme", "bob@globex.example").await;
    let p = send(
        &app,
        &staff,
        "Clean desk policy",
        json!({ "user_ids": [bob_id], "due": "2030-01-31" }),
    )
    .await;
    let id = request_of(&p, "bob@globex.example");
    let hash = p["policy"]["content_hash"].as_str().unwrap().to_string();
    assert_eq!(hash.len(), 64);

    // The signer sees it among the pending requests, with the document to read.
    let (s, list) = status_json(bob.get("/api/v1/signatures").await).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["id"] == id.as_str())
    );
    let (s, d) = status_json(bob.get(&format!("/api/v1/signatures/{id}")).await).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(d["state"], "pending");
    assert!(d["body_html"].as_str().unwrap().contains("<h2>Rules</h2>"));

    // Nothing can be skipped.
    let (s, _) = step(&bob, &id, "confirm", json!({ "full_name": "Bob User" })).await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, _) = step(
        &bob,
        &id,
        "acknowledge",
        json!({ "understood": true, "consent": true }),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);
    // Reading needs the text as it is now.
    let (s, _) = step(&bob, &id, "read", json!({ "content_hash": "0".repeat(64) })).await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, v) = step(&bob, &id, "read", json!({ "content_hash": hash })).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["state"], "read");
    // No replay, and still no skipping.
    let (s, _) = step(&bob, &id, "read", json!({ "content_hash": hash })).await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, _) = step(&bob, &id, "confirm", json!({ "full_name": "Bob User" })).await;
    assert_eq!(s, StatusCode::CONFLICT);
    // Both boxes are needed.
    let (s, v) = step(
        &bob,
        &id,
        "acknowledge",
        json!({ "understood": true, "consent": false }),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(v.to_string().contains("consent"), "{v}");
    let (s, v) = step(
        &bob,
        &id,
        "acknowledge",
        json!({ "understood": true, "consent": true }),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["state"], "acknowledged");
    // The typed name must be the account's.
    let (s, v) = step(&bob, &id, "confirm", json!({ "full_name": "Robert User" })).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(v.to_string().contains("full_name"), "{v}");
    let (s, v) = step(
        &bob,
        &id,
        "confirm",
        json!({ "full_name": "  bob    USER " }),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["state"], "signed");
    assert_eq!(v["version"], "1.0");
    assert_eq!(v["content_hash"], hash.as_str());
    assert_eq!(v["signer_name"], "Bob User");
    assert!(v["read_at"].as_i64().unwrap() <= v["acknowledged_at"].as_i64().unwrap());
    assert!(v["acknowledged_at"].as_i64().unwrap() <= v["signed_at"].as_i64().unwrap());
    // Signed is final.
    let (s, _) = step(&bob, &id, "confirm", json!({ "full_name": "Bob User" })).await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, list) = status_json(bob.get("/api/v1/signatures?state=signed").await).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["id"] == id.as_str())
    );

    // Staff see who signed; every step left an audit row; the request email went out.
    let (s, d) = status_json(
        staff
            .get(&format!(
                "/api/v1/admin/documents/policies/{}",
                p["policy"]["id"].as_str().unwrap()
            ))
            .await,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(d["policy"]["signed"], 1);
    let actions = app.audit_actions("acme").await;
    for a in [
        "document.policy_created",
        "document.read",
        "document.acknowledged",
        "document.signed",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a} missing in {actions:?}");
    }
    let mail = app.last_mail_to("bob@globex.example").await;
    assert!(mail.contains("Clean desk policy"), "{mail}");
    assert!(
        mail.contains(&format!("/portal/documents/{id}/sign")),
        "{mail}"
    );
}
crate::db_test!(steps_are_enforced, steps_are_enforced_in_order);

async fn concurrent_confirms_sign_once(app: TestApp) {
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    let bob_id = app.user_id("acme", "bob@globex.example").await;
    let p = send(&app, &staff, "Race policy", json!({ "user_ids": [bob_id] })).await;
    let id = request_of(&p, "bob@globex.example");
    let hash = p["policy"]["content_hash"].as_str().unwrap().to_string();
    assert_eq!(
        step(&bob, &id, "read", json!({ "content_hash": hash }))
            .await
            .0,
        StatusCode::OK
    );
    // Two reads at once: one wins.
    assert_eq!(
        step(
            &bob,
            &id,
            "acknowledge",
            json!({ "understood": true, "consent": true })
        )
        .await
        .0,
        StatusCode::OK
    );
    let body = json!({ "full_name": "Bob User" });
    let path = format!("/api/v1/signatures/{id}/confirm");
    let (a, b, c) = tokio::join!(
        bob.post_json(&path, &body),
        bob.post_json(&path, &body),
        bob.post_json(&path, &body)
    );
    let mut codes = vec![a.status(), b.status(), c.status()];
    codes.sort();
    assert_eq!(
        codes,
        vec![StatusCode::OK, StatusCode::CONFLICT, StatusCode::CONFLICT]
    );
    let signed = app
        .audit_actions("acme")
        .await
        .into_iter()
        .filter(|a| a == "document.signed")
        .count();
    assert_eq!(signed, 1);
}
crate::db_test!(concurrent_confirms, concurrent_confirms_sign_once);

async fn a_request_belongs_to_one_signer(app: TestApp) {
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    let alice = app
        .api_login("acme", "alice@globex.example", "portal")
        .await;
    let ian = app.api_login("acme", "ian@initech.example", "portal").await;
    let grace = app.api_login("grace", "mary@grace.example", "portal").await;
    let bob_id = app.user_id("acme", "bob@globex.example").await;
    let p = send(&app, &staff, "Bob only", json!({ "user_ids": [bob_id] })).await;
    let id = request_of(&p, "bob@globex.example");
    let hash = p["policy"]["content_hash"].as_str().unwrap().to_string();
    for other in [&alice, &ian, &grace] {
        let r = other.get(&format!("/api/v1/signatures/{id}")).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        let (s, _) = step(other, &id, "read", json!({ "content_hash": hash })).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let r = other.get(&format!("/portal/documents/{id}/sign")).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        let (_, list) = status_json(other.get("/api/v1/signatures").await).await;
        assert!(!list.to_string().contains(&id));
    }
    // Alice's steps did not move Bob's request.
    let (_, d) = status_json(bob.get(&format!("/api/v1/signatures/{id}")).await).await;
    assert_eq!(d["state"], "pending");
    // Clients cannot use the staff API; another tenant's staff cannot see the policy.
    let pid = p["policy"]["id"].as_str().unwrap();
    let r = bob.get("/api/v1/admin/documents/policies").await;
    assert!(r.status() == StatusCode::UNAUTHORIZED || r.status() == StatusCode::FORBIDDEN);
    let pastor = app
        .api_login("grace", "pastor@grace.example", "admin")
        .await;
    let r = pastor
        .get(&format!("/api/v1/admin/documents/policies/{pid}"))
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = pastor
        .post_json(
            &format!("/api/v1/admin/documents/policies/{pid}/cancel"),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}
crate::db_test!(one_signer, a_request_belongs_to_one_signer);

async fn companies_cancel_and_remind(app: TestApp) {
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let vera = app.api_login("acme", "vera@globex.example", "portal").await;
    let globex = app.company_id("acme", "Globex").await;
    // Validation: signers, reminders and due dates.
    let (s, v) = status_json(
        staff
            .post_json(
                "/api/v1/admin/documents/policies",
                &json!({ "title": "", "body": "x", "version": "1", "reminders": "soon" }),
            )
            .await,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    for f in ["title", "reminders", "signers"] {
        assert!(v.to_string().contains(f), "{f} in {v}");
    }
    let p = send(
        &app,
        &staff,
        "Company policy",
        json!({ "company_ids": [globex], "include_future": true, "due": "2020-01-01", "reminders": "3,1" }),
    )
    .await;
    let total = p["policy"]["total"].as_i64().unwrap();
    assert!(total >= 3, "every active Globex user signs: {p}");
    let id = request_of(&p, "vera@globex.example");
    let pid = p["policy"]["id"].as_str().unwrap().to_string();
    // Overdue shows on the signer's list.
    let html = vera.get("/portal/documents").await.text().await.unwrap();
    assert!(html.contains("Company policy"));
    assert!(html.contains("badge-overdue"));
    // Remind, then cancel: the request closes and can no longer be taken further.
    let r = staff
        .post_json(
            &format!("/api/v1/admin/documents/policies/{pid}/remind"),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    // The worker may still be sending the first request while the reminder goes out, so look
    // for the reminder among Vera's mail rather than at the newest file.
    app.drain_jobs().await;
    let mails: Vec<String> = app
        .sent_mail()
        .into_iter()
        .map(|m| m.replace("=\r\n", ""))
        .filter(|m| m.contains("vera@globex.example"))
        .collect();
    assert!(mails.iter().any(|m| m.contains("Reminder")), "{mails:?}");
    let r = staff
        .post_json(
            &format!("/api/v1/admin/documents/policies/{pid}/cancel"),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let hash = p["policy"]["content_hash"].as_str().unwrap().to_string();
    let (s, _) = step(&vera, &id, "read", json!({ "content_hash": hash })).await;
    assert_eq!(s, StatusCode::CONFLICT);
    let r = staff
        .post_json(
            &format!("/api/v1/admin/documents/policies/{pid}/remind"),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let actions = app.audit_actions("acme").await;
    for a in ["document.policy_reminded", "document.policy_cancelled"] {
        assert!(actions.iter().any(|x| x == a), "{a}");
    }
}
crate::db_test!(companies_cancel_remind, companies_cancel_and_remind);

async fn pages_walk_the_steps(app: TestApp) {
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    // The demo: two pending for Bob, one of them overdue; Alice signed the acceptable-use policy.
    let (_, list) = status_json(bob.get("/api/v1/signatures").await).await;
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{list}");
    let html = bob.get("/portal/documents").await.text().await.unwrap();
    assert!(html.contains("Acceptable Use Policy") && html.contains("badge-overdue"));
    let html = bob.get("/portal/dashboard").await.text().await.unwrap();
    assert!(
        html.contains("id=\"stat-signatures\"") && html.contains("documents to sign"),
        "{html}"
    );
    let alice = app
        .api_login("acme", "alice@globex.example", "portal")
        .await;
    let (_, signed) = status_json(alice.get("/api/v1/signatures?state=signed").await).await;
    assert_eq!(signed["items"][0]["title"], "Acceptable Use Policy");
    for path in ["/admin/documents", "/admin/documents/new"] {
        let r = staff.get(path).await;
        assert_eq!(r.status(), StatusCode::OK, "{path}");
    }
    // The sign page: the read step has a disabled Continue and no confirm form.
    let id = items
        .iter()
        .find(|i| i["title"] == "Acceptable Use Policy")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let html = bob
        .get(&format!("/portal/documents/{id}/sign"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("id=\"doc-continue\" disabled"));
    assert!(!html.contains("/confirm\""));
    // Forms out of order are refused with the page at the real step.
    let r = bob
        .post_form(
            &format!("/portal/documents/{id}/confirm"),
            &[("full_name", "Bob User")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let hash = items.iter().find(|i| i["id"] == id.as_str()).unwrap()["content_hash"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        step(&bob, &id, "read", json!({ "content_hash": hash }))
            .await
            .0,
        StatusCode::OK
    );
    let r = bob
        .post_form(
            &format!("/portal/documents/{id}/acknowledge"),
            &[("understood", "yes"), ("consent", "yes")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = bob
        .post_form(
            &format!("/portal/documents/{id}/confirm"),
            &[("full_name", "Someone Else")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("does not match the name on your account"),
        "{html}"
    );
    let r = bob
        .post_form(
            &format!("/portal/documents/{id}/confirm"),
            &[("full_name", "bob user")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = bob
        .get(&format!("/portal/documents/{id}/sign"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("You signed this document."));
    let pid = items.iter().find(|i| i["id"] == id.as_str()).unwrap()["policy_id"]
        .as_str()
        .unwrap()
        .to_string();
    let html = staff
        .get(&format!("/admin/documents/{pid}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Bob User") && html.contains("Alice Admin"));
}
crate::db_test!(pages, pages_walk_the_steps);

/// Text of a PDF, read back with `pdftotext` (poppler-utils).
fn pdf_text(bytes: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("doc.pdf");
    std::fs::write(&path, bytes).unwrap();
    let out = std::process::Command::new("pdftotext")
        .arg("-layout")
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) installed");
    assert!(out.status.success(), "pdftotext failed");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Bob signs a fresh policy through the API; returns (request id, content hash, signed_at).
async fn bob_signs(
    app: &TestApp,
    staff: &Session,
    bob: &Session,
    title: &str,
) -> (String, String, i64) {
    let bob_id = app.user_id("acme", "bob@globex.example").await;
    let p = send(app, staff, title, json!({ "user_ids": [bob_id] })).await;
    let id = request_of(&p, "bob@globex.example");
    let hash = p["policy"]["content_hash"].as_str().unwrap().to_string();
    assert_eq!(
        step(bob, &id, "read", json!({ "content_hash": hash }))
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        step(
            bob,
            &id,
            "acknowledge",
            json!({ "understood": true, "consent": true })
        )
        .await
        .0,
        StatusCode::OK
    );
    let (s, v) = step(bob, &id, "confirm", json!({ "full_name": "Bob User" })).await;
    assert_eq!(s, StatusCode::OK);
    (id, hash, v["signed_at"].as_i64().unwrap())
}

async fn verify_upload(app: &TestApp, bytes: Vec<u8>) -> (StatusCode, String) {
    let c = app.client();
    let page = c.get(app.url("/verify?tenant=acme")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let csrf = crate::support::form_csrf(&page.text().await.unwrap());
    let form = reqwest::multipart::Form::new().text("_csrf", csrf).part(
        "file",
        reqwest::multipart::Part::bytes(bytes)
            .file_name("signed.pdf")
            .mime_str("application/pdf")
            .unwrap(),
    );
    let r = c
        .post(app.url("/verify?tenant=acme"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let s = r.status();
    (s, r.text().await.unwrap())
}

async fn signed_pdf_and_verification(app: TestApp) {
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    let (id, hash, signed_at) = bob_signs(&app, &staff, &bob, "Password policy").await;
    let r = bob.get(&format!("/api/v1/signatures/{id}/pdf")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    let pdf = r.bytes().await.unwrap().to_vec();
    let text = pdf_text(&pdf);
    assert!(text.contains("Password policy"), "{text}");
    assert!(text.contains("Certificate of signature"), "{text}");
    assert!(text.contains("Bob User"), "{text}");
    assert!(text.contains(&hash), "{text}");
    let when = chrono::DateTime::from_timestamp_millis(signed_at)
        .unwrap()
        .format("%Y-%m-%d %H:%M:%S UTC")
        .to_string();
    assert!(text.contains(&when), "{when} in {text}");
    assert!(text.contains("/verify?tenant=acme"), "{text}");
    // The same file every time, for the signer (page and API) and for staff.
    let again = bob
        .get(&format!("/portal/documents/{id}/pdf"))
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(again.as_ref(), pdf.as_slice());
    let r = staff
        .get(&format!("/api/v1/admin/documents/signatures/{id}/pdf"))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.bytes().await.unwrap().as_ref(), pdf.as_slice());
    // Nobody else gets it, by any route.
    let alice = app
        .api_login("acme", "alice@globex.example", "portal")
        .await;
    let ian = app.api_login("acme", "ian@initech.example", "portal").await;
    let pastor = app
        .api_login("grace", "pastor@grace.example", "admin")
        .await;
    for (who, path) in [
        (&alice, format!("/api/v1/signatures/{id}/pdf")),
        (&alice, format!("/portal/documents/{id}/pdf")),
        (&ian, format!("/portal/documents/{id}/pdf")),
        (
            &pastor,
            format!("/api/v1/admin/documents/signatures/{id}/pdf"),
        ),
        (&pastor, format!("/admin/documents/signatures/{id}/pdf")),
    ] {
        let r = who.get(&path).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let r = app
        .client()
        .get(app.url(&format!("/api/v1/signatures/{id}/pdf")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // An unsigned request has no PDF.
    let (_, list) = status_json(bob.get("/api/v1/signatures").await).await;
    let pending = list["items"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(
        bob.get(&format!("/api/v1/signatures/{pending}/pdf"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );

    // /verify: the genuine file matches, a changed one does not.
    let (s, html) = verify_upload(&app, pdf.clone()).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains("matches our record") && html.contains("Bob User") && html.contains(&when),
        "{html}"
    );
    let mut tampered = pdf.clone();
    let at = tampered.len() / 2;
    tampered[at] ^= 0x01;
    let (s, html) = verify_upload(&app, tampered.clone()).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains("does not match") && !html.contains("Bob User"),
        "{html}"
    );

    // The command line does the same.
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.pdf");
    let bad = dir.path().join("bad.pdf");
    std::fs::write(&good, &pdf).unwrap();
    std::fs::write(&bad, &tampered).unwrap();
    let cli = |file: &std::path::Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_portico"))
            .args(["documents", "verify"])
            .arg(file)
            .env_clear()
            .env("PORTICO_DATA_DIR", &app.data_dir)
            .env("PORTICO_DATABASE_URL", &app.state.config.database_url)
            .env(
                "PORTICO_SECRET_KEY",
                "test-secret-key-that-is-long-enough-0123456789",
            )
            .env("PORTICO_BASE_URL", "https://portal.example.com")
            .output()
            .expect("run portico")
    };
    let out = cli(&good);
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{said} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        said.contains("MATCH") && said.contains("bob@globex.example"),
        "{said}"
    );
    let out = cli(&bad);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("NO MATCH"));
    let actions = app.audit_actions("acme").await;
    assert_eq!(
        actions
            .iter()
            .filter(|a| *a == "document.pdf_issued")
            .count(),
        1
    );
}
crate::db_test!(signed_pdf, signed_pdf_and_verification);
