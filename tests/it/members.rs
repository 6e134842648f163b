//! People in several companies: switching the active company, isolation while in one,
//! forged switches, `/api/v1/me` memberships, staff adding and removing memberships, and the
//! "at least one company admin" rule counting memberships under concurrency.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{Session, TestApp};

async fn me(s: &Session) -> Value {
    s.get("/api/v1/me").await.json().await.unwrap()
}

async fn switch(s: &Session, company: &str) -> StatusCode {
    s.post_json("/api/v1/me/company", &json!({ "company_id": company }))
        .await
        .status()
}

async fn ticket(s: &Session, subject: &str) -> i64 {
    let r = s
        .post_json(
            "/api/v1/tickets",
            &json!({ "subject": subject, "description": "Only for this company." }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json::<Value>().await.unwrap()["number"].as_i64().unwrap()
}

/// Cora (Initech admin, Globex user) switches between her companies: each shows only its own
/// tickets and invoices, in pages and API, and her role follows the company.
async fn switching_isolates_companies(app: TestApp) {
    let globex = app.company_id("acme", "Globex").await;
    let initech = app.company_id("acme", "Initech").await;
    let cora = app
        .api_login("acme", "cora@consulting.example", "portal")
        .await;
    let m = me(&cora).await;
    assert_eq!(m["user"]["company_id"], initech.as_str(), "{m}");
    assert_eq!(m["role"], "client_admin");
    let list = m["memberships"].as_array().unwrap();
    assert_eq!(list.len(), 2, "{m}");
    assert!(list.iter().any(|x| x["company_id"] == globex.as_str()
        && x["role"] == "client_user"
        && x["active"] == false));
    assert!(
        list.iter()
            .any(|x| x["company_id"] == initech.as_str() && x["active"] == true)
    );
    let initech_ticket = ticket(&cora, "Initech payroll secret").await;
    // The header offers the switch.
    let page = cora.get("/portal/dashboard").await.text().await.unwrap();
    assert!(page.contains("/portal/companies"), "switcher shown");

    assert_eq!(switch(&cora, &globex).await, StatusCode::NO_CONTENT);
    let m = me(&cora).await;
    assert_eq!(m["user"]["company_id"], globex.as_str());
    assert_eq!(m["role"], "client_user");
    let globex_ticket = ticket(&cora, "Globex merger plans").await;
    let tickets = cora
        .get("/api/v1/tickets?status=all&limit=200")
        .await
        .text()
        .await
        .unwrap();
    assert!(tickets.contains("Globex merger plans"));
    assert!(!tickets.contains("Initech payroll secret"), "{tickets}");
    assert_eq!(
        cora.get(&format!("/api/v1/tickets/{initech_ticket}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let page = cora.get("/portal/tickets").await.text().await.unwrap();
    assert!(!page.contains("Initech payroll secret"));
    // A Globex user sees no invoices there.
    assert_eq!(
        cora.get("/api/v1/invoices").await.status(),
        StatusCode::FORBIDDEN
    );

    // Back in Initech (by the page form): Globex's ticket is out of reach.
    let r = cora
        .post_form("/portal/companies/switch", &[("company_id", &initech)])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/portal/dashboard");
    let tickets = cora
        .get("/api/v1/tickets?status=all&limit=200")
        .await
        .text()
        .await
        .unwrap();
    assert!(tickets.contains("Initech payroll secret"));
    assert!(!tickets.contains("Globex merger plans"), "{tickets}");
    assert_eq!(
        cora.get(&format!("/api/v1/tickets/{globex_ticket}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let invoices = cora.get("/api/v1/invoices?limit=200").await;
    assert_eq!(invoices.status(), StatusCode::OK);
    let invoices: Value = invoices.json().await.unwrap();
    for i in invoices["items"].as_array().unwrap() {
        assert_ne!(i["company_id"], globex.as_str(), "{i}");
    }
    let page = cora.get("/portal/companies").await.text().await.unwrap();
    assert!(page.contains("Globex") && page.contains("Initech"));
    assert!(
        app.audit_actions("acme")
            .await
            .iter()
            .any(|a| a == "membership.switched")
    );
}
crate::db_test!(
    members_switching_isolates_companies,
    switching_isolates_companies
);

/// A company that is not one of the person's, or another tenant's, is refused and changes
/// nothing.
async fn forged_switch_refused(app: TestApp) {
    let contoso = app.company_id("northwind", "Contoso").await;
    let globex = app.company_id("acme", "Globex").await;
    let initech = app.company_id("acme", "Initech").await;
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    assert_eq!(switch(&bob, &initech).await, StatusCode::NOT_FOUND);
    assert_eq!(switch(&bob, &contoso).await, StatusCode::NOT_FOUND);
    assert_eq!(switch(&bob, "nonsense").await, StatusCode::NOT_FOUND);
    let r = bob
        .post_form("/portal/companies/switch", &[("company_id", &initech)])
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(me(&bob).await["user"]["company_id"], globex.as_str());
    let cora = app
        .api_login("acme", "cora@consulting.example", "portal")
        .await;
    assert_eq!(switch(&cora, &contoso).await, StatusCode::NOT_FOUND);
    assert_eq!(me(&cora).await["user"]["company_id"], initech.as_str());
    // Without the CSRF token the switch is refused too.
    let r = cora
        .client
        .post(app.url("/api/v1/me/company"))
        .json(&json!({ "company_id": globex }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}
crate::db_test!(members_forged_switch_refused, forged_switch_refused);

/// Staff add an existing person to another company and take them out again; the last
/// membership stays; a session in the removed company falls back to home.
async fn staff_add_and_remove(app: TestApp) {
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let initech = app.company_id("acme", "Initech").await;
    let globex = app.company_id("acme", "Globex").await;
    let bob_id = app.user_id("acme", "bob@globex.example").await;
    let path = format!("/admin/companies/{initech}/members");
    let r = staff
        .post_form(
            &path,
            &[("email", "bob@globex.example"), ("role", "client_viewer")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let again = staff
        .post_form(
            &path,
            &[("email", "bob@globex.example"), ("role", "client_viewer")],
        )
        .await;
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    let page = staff.get(&path).await.text().await.unwrap();
    assert!(page.contains("bob@globex.example"));
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    assert_eq!(me(&bob).await["memberships"].as_array().unwrap().len(), 2);
    assert_eq!(switch(&bob, &initech).await, StatusCode::NO_CONTENT);
    assert_eq!(me(&bob).await["role"], "client_viewer");
    let r = staff
        .post_form(&format!("{path}/remove"), &[("user_id", &bob_id)])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let m = me(&bob).await;
    assert_eq!(m["user"]["company_id"], globex.as_str(), "back home: {m}");
    assert_eq!(m["memberships"].as_array().unwrap().len(), 1);
    // The last membership is never removed this way.
    let r = staff
        .post_form(
            &format!("/admin/companies/{globex}/members/remove"),
            &[("user_id", &bob_id)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let actions = app.audit_actions("acme").await;
    assert!(actions.iter().any(|a| a == "membership.added"));
    assert!(actions.iter().any(|a| a == "membership.removed"));
}
crate::db_test!(members_staff_add_and_remove, staff_add_and_remove);

/// Initech has two admins (Ian at home, Bob by membership); removing both at once leaves one.
async fn last_admin_under_concurrency(app: TestApp) {
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let initech = app.company_id("acme", "Initech").await;
    let path = format!("/admin/companies/{initech}/members");
    // Cora is an Initech admin too: take her admin role away first (a Globex-home membership
    // would be simpler, but the demo makes Initech her home); Bob joins as admin.
    let r = staff
        .post_form(
            &path,
            &[("email", "bob@globex.example"), ("role", "client_admin")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let bob = app.user_id("acme", "bob@globex.example").await;
    let cora = app.user_id("acme", "cora@consulting.example").await;
    // Cora's home is Initech; give her Globex as home by removing Initech is refused only when
    // last — she has Globex too, so her Initech membership can go.
    let r = staff
        .post_form(&format!("{path}/remove"), &[("user_id", &cora)])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // Ian's home membership is Initech only; give him a Globex one so his Initech one may go.
    let globex = app.company_id("acme", "Globex").await;
    let r = staff
        .post_form(
            &format!("/admin/companies/{globex}/members"),
            &[("email", "ian@initech.example"), ("role", "client_user")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let ian = app.user_id("acme", "ian@initech.example").await;
    let remove = |id: String| {
        let staff = &staff;
        let path = format!("{path}/remove");
        async move { staff.post_form(&path, &[("user_id", &id)]).await.status() }
    };
    let (a, b) = tokio::join!(remove(bob), remove(ian));
    let ok = [a, b]
        .iter()
        .filter(|s| **s == StatusCode::SEE_OTHER)
        .count();
    let refused = [a, b]
        .iter()
        .filter(|s| **s == StatusCode::UNPROCESSABLE_ENTITY)
        .count();
    assert_eq!((ok, refused), (1, 1), "{a} {b}");
    let admins: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM memberships WHERE company_id = $1 AND role = 'admin'",
    )
    .bind(&initech)
    .fetch_one(app.state.db.operator("test").reader())
    .await
    .unwrap();
    assert_eq!(admins, 1);
}
crate::db_test!(
    members_last_admin_under_concurrency,
    last_admin_under_concurrency
);

/// The `invitation_id` of the first pending invitation on "Your companies".
fn invitation_id(page: &str) -> String {
    let marker = "name=\"invitation_id\" value=\"";
    let start = page.find(marker).expect("an invitation on the page") + marker.len();
    page[start..]
        .split('"')
        .next()
        .expect("closing quote")
        .to_string()
}

/// A company admin invites the address of an existing client person of another company: no
/// second account; the person is mailed an offer, sees it on "Your companies" and accepts it
/// into a membership with the offered role (nobody else can); the company then lists them.
async fn admin_invites_existing_person(app: TestApp) {
    let initech = app.company_id("acme", "Initech").await;
    let ian = app.api_login("acme", "ian@initech.example", "portal").await;
    let r = ian
        .post_json(
            "/api/v1/team",
            &json!({ "email": "bob@globex.example", "name": "Bob", "role": "client_viewer" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let mail = app.last_mail_to("bob@globex.example").await;
    assert!(mail.contains("/portal/companies"), "{mail}");
    assert!(mail.contains("Initech"), "{mail}");
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    assert_eq!(me(&bob).await["memberships"].as_array().unwrap().len(), 1);
    let dashboard = bob.get("/portal/dashboard").await.text().await.unwrap();
    assert!(
        !dashboard.contains("company-switch"),
        "one company: no switcher"
    );
    let page = bob.get("/portal/companies").await.text().await.unwrap();
    assert!(page.contains("Initech"), "{page}");
    let id = invitation_id(&page);
    // Only the invited person accepts it.
    let alice = app
        .api_login("acme", "alice@globex.example", "portal")
        .await;
    let r = alice
        .post_form("/portal/companies/accept", &[("invitation_id", &id)])
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = bob
        .post_form("/portal/companies/accept", &[("invitation_id", &id)])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // The very next request of the same session shows the switcher (cache invalidated).
    let dashboard = bob.get("/portal/dashboard").await.text().await.unwrap();
    assert!(
        dashboard.contains("company-switch"),
        "switcher after accepting"
    );
    let m = me(&bob).await;
    let list = m["memberships"].as_array().unwrap();
    assert_eq!(list.len(), 2, "{m}");
    assert!(
        list.iter()
            .any(|x| x["company_id"] == initech.as_str() && x["role"] == "client_viewer"),
        "{m}"
    );
    assert_eq!(switch(&bob, &initech).await, StatusCode::NO_CONTENT);
    assert_eq!(me(&bob).await["role"], "client_viewer");
    // Accepted once: the same id is gone.
    let r = bob
        .post_form("/portal/companies/accept", &[("invitation_id", &id)])
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // Initech lists Bob once, as an active member in the offered role; one account only.
    let team: Value = ian
        .get("/api/v1/team?limit=200")
        .await
        .json()
        .await
        .unwrap();
    let bobs: Vec<&Value> = team["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["email"] == "bob@globex.example")
        .collect();
    assert_eq!(bobs.len(), 1, "{team}");
    assert_eq!(bobs[0]["status"], "active");
    assert_eq!(bobs[0]["role"], "client_viewer");
    let accounts: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE email = $1")
        .bind("bob@globex.example")
        .fetch_one(app.state.db.operator("test").reader())
        .await
        .unwrap();
    assert_eq!(accounts, 1);
    assert!(
        app.audit_actions("acme")
            .await
            .iter()
            .any(|a| a == "membership.accepted")
    );
}
crate::db_test!(
    members_admin_invites_existing_person,
    admin_invites_existing_person
);

/// A company admin manages a person who belongs to their company by membership only: the role
/// changes in that company alone, "deactivate" takes them out of the company (their account
/// and home company stay), and two admins demoting each other at once leave one admin.
async fn company_admin_manages_memberships(app: TestApp) {
    let initech = app.company_id("acme", "Initech").await;
    let cora = app.user_id("acme", "cora@consulting.example").await;
    let alice = app
        .api_login("acme", "alice@globex.example", "portal")
        .await;
    // Cora is in Globex's team in her Globex role.
    let team: Value = alice.get("/api/v1/team").await.json().await.unwrap();
    let row = team["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == cora.as_str())
        .cloned()
        .expect("Cora listed in Globex");
    assert_eq!(row["role"], "client_user", "{row}");

    // Promote her in Globex: her Initech role (admin) and her home stay.
    let path = format!("/api/v1/team/{cora}");
    let r = alice
        .patch_json(&path, &json!({ "role": "client_admin" }))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let u: Value = r.json().await.unwrap();
    assert_eq!(u["role"], "client_admin", "{u}");
    let cora_s = app
        .api_login("acme", "cora@consulting.example", "portal")
        .await;
    let m = me(&cora_s).await;
    assert_eq!(m["user"]["company_id"], initech.as_str(), "{m}");
    assert!(
        m["memberships"]
            .as_array()
            .unwrap()
            .iter()
            .all(|x| x["role"] == "client_admin"),
        "{m}"
    );

    // Alice and Cora are Globex's two admins; each demotes the other at the same moment.
    let alice_id = app.user_id("acme", "alice@globex.example").await;
    let globex = app.company_id("acme", "Globex").await;
    assert_eq!(switch(&cora_s, &globex).await, StatusCode::NO_CONTENT);
    let to_user = json!({ "role": "client_user" });
    let demote_cora = alice.patch_json(&path, &to_user);
    let alice_path = format!("/api/v1/team/{alice_id}");
    let demote_alice = cora_s.patch_json(&alice_path, &to_user);
    let (a, b) = tokio::join!(demote_cora, demote_alice);
    let mut codes = [a.status(), b.status()];
    codes.sort();
    assert_eq!(
        codes,
        [StatusCode::OK, StatusCode::UNPROCESSABLE_ENTITY],
        "exactly one demotion wins"
    );
    let admins: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM memberships WHERE company_id = $1 AND role = 'admin'",
    )
    .bind(&globex)
    .fetch_one(app.state.db.operator("test").reader())
    .await
    .unwrap();
    assert_eq!(admins, 1);
    // If Cora won, she makes Alice an admin again (Alice signs in anew: a role change ends
    // the sessions of the person changed).
    let alice = if b.status() == StatusCode::OK {
        let r = cora_s
            .patch_json(&alice_path, &json!({ "role": "client_admin" }))
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        app.api_login("acme", "alice@globex.example", "portal")
            .await
    } else {
        alice
    };
    let r = alice.delete(&path).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let team: Value = alice.get("/api/v1/team").await.json().await.unwrap();
    assert!(
        !team["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["id"] == cora.as_str()),
        "{team}"
    );
    // Cora still signs in, at home in Initech, with one membership left.
    let cora_s = app
        .api_login("acme", "cora@consulting.example", "portal")
        .await;
    let m = me(&cora_s).await;
    assert_eq!(m["user"]["company_id"], initech.as_str(), "{m}");
    assert_eq!(m["memberships"].as_array().unwrap().len(), 1, "{m}");
    // Gone from Globex means gone: a second removal is a 404, as for a stranger.
    assert_eq!(alice.delete(&path).await.status(), StatusCode::NOT_FOUND);
}
crate::db_test!(
    members_company_admin_manages_memberships,
    company_admin_manages_memberships
);

/// Policies follow the active company: one addressed to Initech reaches Cora (home) and one
/// addressed to Globex reaches her too (membership), but each is seen only while she is in
/// its company — list, count, detail and signing steps alike.
async fn policies_follow_active_company(app: TestApp) {
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let globex = app.company_id("acme", "Globex").await;
    let initech = app.company_id("acme", "Initech").await;
    let mut ids = Vec::new();
    for (title, company) in [
        ("Initech clean desk", &initech),
        ("Globex travel rules", &globex),
    ] {
        let r = staff
            .post_json(
                "/api/v1/admin/documents/policies",
                &json!({ "title": title, "body": "Rules.", "version": "1.0",
                         "company_ids": [company] }),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let p: Value = r.json().await.unwrap();
        let id = p["signatures"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["user_email"] == "cora@consulting.example")
            .unwrap_or_else(|| panic!("Cora signs {title}: {p}"))["id"]
            .as_str()
            .unwrap()
            .to_string();
        ids.push(id);
    }
    let cora = app
        .api_login("acme", "cora@consulting.example", "portal")
        .await;
    for (company, mine, other) in [(&initech, &ids[0], &ids[1]), (&globex, &ids[1], &ids[0])] {
        assert_eq!(switch(&cora, company).await, StatusCode::NO_CONTENT);
        let list: Value = cora.get("/api/v1/signatures").await.json().await.unwrap();
        let seen: Vec<&str> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|s| s["id"].as_str())
            .collect();
        assert!(seen.contains(&mine.as_str()), "{list}");
        assert!(!seen.contains(&other.as_str()), "{list}");
        let page = cora.get("/portal/documents").await.text().await.unwrap();
        let other_title = if company == &initech {
            "Globex travel rules"
        } else {
            "Initech clean desk"
        };
        assert!(!page.contains(other_title), "{other_title} shown");
        for path in [
            format!("/api/v1/signatures/{other}"),
            format!("/portal/documents/{other}/sign"),
        ] {
            assert_eq!(
                cora.get(&path).await.status(),
                StatusCode::NOT_FOUND,
                "{path}"
            );
        }
        let r = cora
            .post_json(
                &format!("/api/v1/signatures/{other}/read"),
                &json!({ "content_hash": "0".repeat(64) }),
            )
            .await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            cora.get(&format!("/api/v1/signatures/{mine}"))
                .await
                .status(),
            StatusCode::OK
        );
    }
}
crate::db_test!(
    members_policies_follow_active_company,
    policies_follow_active_company
);
