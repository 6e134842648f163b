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
    let mail = app.last_mail_to("vera@globex.example").await;
    assert!(mail.contains("Reminder"), "{mail}");
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
