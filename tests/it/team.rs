//! Team management for company admins: isolation, invitations, roles, the plan's seat cap.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{Session, TestApp, form_csrf, link_in};

async fn send(
    s: &Session,
    app: &TestApp,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = s
        .client
        .request(m, app.url(path))
        .header("x-csrf-token", &s.csrf);
    if let Some(b) = body {
        req = req.json(&b);
    }
    req.send().await.unwrap()
}

async fn team_is_isolated(app: TestApp) {
    let alice = app
        .api_login("acme", "alice@globex.example", "portal")
        .await;
    let r = send(&alice, &app, "GET", "/api/v1/team", None).await;
    assert_eq!(r.status(), StatusCode::OK);
    let page: Value = r.json().await.unwrap();
    let emails: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap())
        .collect();
    assert_eq!(
        emails,
        [
            "alice@globex.example",
            "bob@globex.example",
            // The demo consultant belongs to Globex by a membership (home: Initech).
            "cora@consulting.example",
            "vera@globex.example"
        ]
    );
    // The HTML page lists the same and no one else.
    let html = alice
        .client
        .get(app.url("/portal/team"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("bob@globex.example"), "{html}");
    assert!(!html.contains("initech"), "{html}");

    // Initech's admin and another tenant's member are invisible to Globex's admin.
    let ian = app.user_id("acme", "ian@initech.example").await;
    let mary = app.user_id("grace", "mary@grace.example").await;
    let staff = app.user_id("acme", "staff@acme.example").await;
    for id in [&ian, &mary, &staff] {
        for (method, path, body) in [
            (
                "PATCH",
                format!("/api/v1/team/{id}"),
                Some(json!({"role": "client_viewer"})),
            ),
            ("DELETE", format!("/api/v1/team/{id}"), None),
            ("POST", format!("/api/v1/team/{id}/resend"), None),
        ] {
            let r = send(&alice, &app, method, &path, body).await;
            assert_eq!(r.status(), StatusCode::NOT_FOUND, "{method} {path}");
            let text = r.text().await.unwrap();
            assert!(!text.contains("ian@") && !text.contains("mary@"), "{text}");
        }
        let r = alice
            .client
            .post(app.url(&format!("/portal/team/{id}/deactivate")))
            .form(&[("_csrf", alice.csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
    }
    // Ian is untouched.
    let ian_s = app.api_login("acme", "ian@initech.example", "portal").await;
    let r = send(&ian_s, &app, "GET", "/api/v1/team", None).await;
    let page: Value = r.json().await.unwrap();
    // Initech's team: Ian and Cora (Initech is her home; she is in Globex too), both admins.
    let emails: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap())
        .collect();
    assert_eq!(emails, ["cora@consulting.example", "ian@initech.example"]);
    assert!(
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["role"] == "client_admin")
    );

    // A user and a viewer may not manage the team.
    for who in ["bob@globex.example", "vera@globex.example"] {
        let s = app.api_login("acme", who, "portal").await;
        let r = send(&s, &app, "GET", "/api/v1/team", None).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{who}");
        let r = send(
            &s,
            &app,
            "POST",
            "/api/v1/team",
            Some(json!({"email": "x@globex.example", "name": "X", "role": "client_user"})),
        )
        .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{who}");
        let r = s.client.get(app.url("/portal/team")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{who}");
        assert!(!r.text().await.unwrap().contains("vera@globex.example"));
    }
    // A member of another (Mission) tenant has no team at all: not even the route exists there.
    let mary_s = app.api_login("grace", "mary@grace.example", "portal").await;
    let r = send(&mary_s, &app, "GET", "/api/v1/team", None).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}
crate::db_test!(team_isolation, team_is_isolated);

async fn invite_resend_revoke_and_roles(app: TestApp) {
    let alice = app
        .api_login("acme", "alice@globex.example", "portal")
        .await;
    // Validation.
    let r = send(
        &alice,
        &app,
        "POST",
        "/api/v1/team",
        Some(json!({"email": "nope", "name": "", "role": "staff_admin"})),
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let err: Value = r.json().await.unwrap();
    let fields: Vec<&str> = err["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["email", "name", "role"]);

    // Invite: lands in Globex whatever the body says.
    let r = send(
        &alice,
        &app,
        "POST",
        "/api/v1/team",
        Some(json!({"email": "Carol@Globex.example", "name": "Carol", "role": "client_user"})),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let carol: Value = r.json().await.unwrap();
    assert_eq!(carol["status"], "invited");
    assert_eq!(carol["company_name"], "Globex");
    let carol_id = carol["id"].as_str().unwrap().to_string();
    let first = link_in(&app.last_mail_to("carol@globex.example").await, "http://");
    assert!(first.contains("/invite/accept?"), "{first}");

    // Resend: a new link, the old one retired.
    let r = send(
        &alice,
        &app,
        "POST",
        &format!("/api/v1/team/{carol_id}/resend"),
        None,
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let second = link_in(&app.last_mail_to("carol@globex.example").await, "http://");
    assert_ne!(first, second);
    let anon = app.client();
    let old = anon.get(&first).send().await.unwrap().text().await.unwrap();
    let new = anon
        .get(&second)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_ne!(old, new, "the old link must no longer work");
    let team_page = |c: reqwest::Client| {
        let u = app.url("/portal/team");
        async move { c.get(u).send().await.unwrap().text().await.unwrap() }
    };
    assert!(
        team_page(alice.client.clone())
            .await
            .contains("link valid until")
    );
    // After 7 days the link is dead and the page says so.
    sqlx::query("UPDATE one_time_tokens SET expires_at = 1 WHERE user_id = $1")
        .bind(&carol_id)
        .execute(app.state.db.operator("test").reader())
        .await
        .unwrap();
    assert!(
        team_page(alice.client.clone())
            .await
            .contains("link expired: send it again")
    );
    let expired = anon
        .get(&second)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(expired, old);
    let r = send(
        &alice,
        &app,
        "POST",
        &format!("/api/v1/team/{carol_id}/resend"),
        None,
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let second = link_in(&app.last_mail_to("carol@globex.example").await, "http://");
    assert_ne!(
        anon.get(&second)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        old
    );

    // Revoke: the account disappears and the link dies.
    let r = send(
        &alice,
        &app,
        "DELETE",
        &format!("/api/v1/team/{carol_id}"),
        None,
    )
    .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let gone = anon
        .get(&second)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(gone, old);
    let r = send(&alice, &app, "GET", "/api/v1/team", None).await;
    let page: Value = r.json().await.unwrap();
    assert!(!page.to_string().contains("carol@"));

    // Role change ends Bob's sessions at once.
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    let bob_id = app.user_id("acme", "bob@globex.example").await;
    let r = send(
        &alice,
        &app,
        "PATCH",
        &format!("/api/v1/team/{bob_id}"),
        Some(json!({"role": "client_viewer"})),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["role"], "client_viewer");
    let r = bob.client.get(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // Deactivation through the page ends Vera's sessions too.
    let vera = app.api_login("acme", "vera@globex.example", "portal").await;
    let vera_id = app.user_id("acme", "vera@globex.example").await;
    let html = alice
        .client
        .get(app.url("/portal/team"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = form_csrf(&html);
    let r = alice
        .client
        .post(app.url(&format!("/portal/team/{vera_id}/deactivate")))
        .form(&[("_csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = vera.client.get(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // The last company admin stays.
    let alice_id = app.user_id("acme", "alice@globex.example").await;
    let r = send(
        &alice,
        &app,
        "PATCH",
        &format!("/api/v1/team/{bob_id}"),
        Some(json!({"role": "client_admin"})),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    let r = send(
        &bob,
        &app,
        "PATCH",
        &format!("/api/v1/team/{alice_id}"),
        Some(json!({"status": "deactivated"})),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = send(
        &bob,
        &app,
        "PATCH",
        &format!("/api/v1/team/{bob_id}"),
        Some(json!({"role": "client_user"})),
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let err: Value = r.json().await.unwrap();
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("at least one active company admin"),
        "{err}"
    );

    let actions = app.audit_actions("acme").await;
    for a in [
        "user.invited",
        "user.invitation_resent",
        "user.invitation_revoked",
        "user.role_changed",
        "user.deactivated",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a} in {actions:?}");
    }
    // Audit rows carry the company so the company admin can see them.
    use sqlx::Row;
    let n: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'user.invited' AND company_id = $1",
    )
    .bind(app.company_id("acme", "Globex").await)
    .fetch_one(app.state.db.operator("test").reader())
    .await
    .unwrap()
    .get("n");
    assert_eq!(n, 1);
}
crate::db_test!(team_invite_flow, invite_resend_revoke_and_roles);

async fn switch_to_team_plan(app: &TestApp) {
    sqlx::query("UPDATE tenants SET plan = 'team' WHERE slug = 'acme'")
        .execute(app.state.db.operator("test").reader())
        .await
        .unwrap();
    // The seat counts below are Globex's own three people: the demo consultant's Globex
    // membership (her second company) would take a fourth seat.
    sqlx::query(
        "DELETE FROM memberships WHERE company_id = $1 AND user_id = \
         (SELECT id FROM users WHERE email = 'cora@consulting.example')",
    )
    .bind(app.company_id("acme", "Globex").await)
    .execute(app.state.db.operator("test").reader())
    .await
    .unwrap();
}

async fn plan_caps_company_seats(app: TestApp) {
    switch_to_team_plan(&app).await;
    let alice = app
        .api_login("acme", "alice@globex.example", "portal")
        .await;
    // Globex has 3 of 5 seats; two more fit.
    for n in 1..=2 {
        let r = send(
            &alice,
            &app,
            "POST",
            "/api/v1/team",
            Some(json!({"email": format!("p{n}@globex.example"), "name": "P", "role": "client_user"})),
        )
        .await;
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    let r = send(
        &alice,
        &app,
        "POST",
        "/api/v1/team",
        Some(json!({"email": "p3@globex.example", "name": "P", "role": "client_user"})),
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let err: Value = r.json().await.unwrap();
    let msg = err["error"]["message"].as_str().unwrap();
    assert!(msg.contains("team plan allows 5 users"), "{msg}");

    // The staff path is capped the same way.
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let globex = app.company_id("acme", "Globex").await;
    let r = send(
        &staff,
        &app,
        "POST",
        "/api/v1/admin/users",
        Some(json!({"email": "p4@globex.example", "name": "P", "role": "client_user", "company_id": globex})),
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // The form shows the limit too.
    let html = alice
        .client
        .get(app.url("/portal/team"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = form_csrf(&html);
    let r = alice
        .client
        .post(app.url("/portal/team/invite"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("email", "p5@globex.example"),
            ("name", "P"),
            ("role", "client_user"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("allows 5 users"));

    // Revoking frees a seat; deactivated members do not count, reactivating takes one.
    let p1 = app.user_id("acme", "p1@globex.example").await;
    let r = send(&alice, &app, "DELETE", &format!("/api/v1/team/{p1}"), None).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let vera = app.user_id("acme", "vera@globex.example").await;
    let r = send(
        &alice,
        &app,
        "PATCH",
        &format!("/api/v1/team/{vera}"),
        Some(json!({"status": "deactivated"})),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = send(
        &alice,
        &app,
        "POST",
        "/api/v1/team",
        Some(json!({"email": "p6@globex.example", "name": "P", "role": "client_viewer"})),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = send(
        &alice,
        &app,
        "POST",
        "/api/v1/team",
        Some(json!({"email": "p7@globex.example", "name": "P", "role": "client_viewer"})),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = send(
        &alice,
        &app,
        "PATCH",
        &format!("/api/v1/team/{vera}"),
        Some(json!({"status": "active"})),
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
}
crate::db_test!(team_plan_cap, plan_caps_company_seats);

async fn concurrent_invitations_take_one_seat(app: TestApp) {
    switch_to_team_plan(&app).await;
    let alice = app
        .api_login("acme", "alice@globex.example", "portal")
        .await;
    let r = send(
        &alice,
        &app,
        "POST",
        "/api/v1/team",
        Some(json!({"email": "q0@globex.example", "name": "Q", "role": "client_user"})),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    // One seat left; race several invitations for it, repeatedly freeing it again.
    for round in 0..3 {
        let reqs = (0..2).map(|i| {
            send(
                &alice,
                &app,
                "POST",
                "/api/v1/team",
                Some(json!({"email": format!("r{round}-{i}@globex.example"), "name": "R", "role": "client_user"})),
            )
        });
        let results = futures::future::join_all(reqs).await;
        let statuses: Vec<StatusCode> = results.iter().map(|r| r.status()).collect();
        let created = statuses
            .iter()
            .filter(|s| **s == StatusCode::CREATED)
            .count();
        let refused = statuses
            .iter()
            .filter(|s| **s == StatusCode::UNPROCESSABLE_ENTITY)
            .count();
        assert_eq!((created, refused), (1, 1), "round {round}: {statuses:?}");
        use sqlx::Row;
        let n: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM users WHERE company_id = $1 AND status IN ('active', 'invited')",
        )
        .bind(app.company_id("acme", "Globex").await)
        .fetch_one(app.state.db.operator("test").reader())
        .await
        .unwrap()
        .get("n");
        assert_eq!(n, 5);
        // Free the seat for the next round.
        for i in 0..2 {
            let email = format!("r{round}-{i}@globex.example");
            let found: Option<String> = sqlx::query("SELECT id FROM users WHERE email = $1")
                .bind(&email)
                .fetch_optional(app.state.db.operator("test").reader())
                .await
                .unwrap()
                .map(|r| r.get("id"));
            if let Some(id) = found {
                let r = send(&alice, &app, "DELETE", &format!("/api/v1/team/{id}"), None).await;
                assert_eq!(r.status(), StatusCode::NO_CONTENT);
            }
        }
    }
}
crate::db_test!(team_cap_concurrency, concurrent_invitations_take_one_seat);

async fn staff_share_the_invitation_flow(app: TestApp) {
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let globex = app.company_id("acme", "Globex").await;
    let r = send(
        &staff,
        &app,
        "POST",
        "/api/v1/admin/users",
        Some(json!({"email": "dora@globex.example", "name": "Dora", "role": "client_user", "company_id": globex})),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let dora: Value = r.json().await.unwrap();
    let id = dora["id"].as_str().unwrap().to_string();
    let first = link_in(&app.last_mail_to("dora@globex.example").await, "http://");
    let html = staff
        .client
        .get(app.url("/admin/users"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains(&format!("/admin/users/{id}/resend")));
    let csrf = form_csrf(&html);
    let r = staff
        .client
        .post(app.url(&format!("/admin/users/{id}/resend")))
        .form(&[("_csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let second = link_in(&app.last_mail_to("dora@globex.example").await, "http://");
    assert_ne!(first, second);
    assert!(
        app.last_mail_to("dora@globex.example")
            .await
            .contains("Globex")
    );
    let r = staff
        .client
        .post(app.url(&format!("/admin/users/{id}/revoke")))
        .form(&[("_csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = send(
        &staff,
        &app,
        "GET",
        &format!("/api/v1/admin/users/{id}"),
        None,
    )
    .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // Only pending invitations can be revoked.
    let bob = app.user_id("acme", "bob@globex.example").await;
    let r = staff
        .client
        .post(app.url(&format!("/admin/users/{bob}/revoke")))
        .form(&[("_csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
}
crate::db_test!(team_staff_invitations, staff_share_the_invitation_flow);
