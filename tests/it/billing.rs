//! Billing: subscriptions (staff maintain them on the company page and the API, clients see
//! them with upcoming charges and ask for changes through a prefilled ticket), billing
//! contacts, the account statement (CSV and PDF, boundaries and balances), and isolation.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::invoices::pdf_text;
use crate::support::{Session, TestApp};

async fn ok_json(r: reqwest::Response, want: StatusCode) -> Value {
    let status = r.status();
    let body = r.text().await.unwrap();
    assert_eq!(status, want, "{body}");
    serde_json::from_str(&body).unwrap_or(Value::Null)
}

async fn text(r: reqwest::Response, want: StatusCode) -> String {
    let status = r.status();
    let body = r.text().await.unwrap();
    assert_eq!(status, want, "{body}");
    body
}

fn names(v: &Value) -> Vec<String> {
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_string())
        .collect()
}

/// The `href` of the first link whose address starts with `prefix`, unescaped.
fn href(html: &str, prefix: &str) -> String {
    let at = html.find(&format!("href=\"{prefix}")).expect(prefix) + 6;
    let end = html[at..].find('"').unwrap() + at;
    html[at..end].replace("&amp;", "&").replace("&#38;", "&")
}

async fn client_view(app: TestApp) {
    let alice = app
        .api_login("acme", "alice@globex.example", "portal")
        .await;
    let v = ok_json(
        alice.get("/api/v1/billing/subscriptions").await,
        StatusCode::OK,
    )
    .await;
    let got = names(&v);
    assert_eq!(got.len(), 4, "{got:?}");
    assert!(got.contains(&"Managed workstation support".to_string()));
    assert!(got.contains(&"Firewall security licence".to_string()));
    // Active first; the paused one last and without upcoming charges.
    assert_eq!(v["items"][3]["status"], "paused");
    let ws = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "Managed workstation support")
        .unwrap();
    assert_eq!(ws["amount"], 24 * 4500);
    assert_eq!(ws["cycle"], "monthly");
    let upcoming = v["upcoming"].as_array().unwrap();
    // Two monthly services three times in 90 days (12, 42, 72 days ahead), the annual once.
    assert_eq!(upcoming.len(), 7, "{upcoming:?}");
    assert!(
        upcoming
            .iter()
            .all(|c| c["name"] != "Cloud backup storage (TB)")
    );
    assert_eq!(v["upcoming_total"], 3 * (24 * 4500 + 24 * 2200) + 119_900);
    // The page: subscriptions, upcoming charges, contacts, statement form, and the menu entry.
    let page = text(alice.get("/portal/billing").await, StatusCode::OK).await;
    for want in [
        "Managed workstation support",
        "Request a change",
        "Billing contacts",
        "alice@globex.example",
        "href=\"/portal/billing\"",
        "action=\"/portal/billing/statement\"",
    ] {
        assert!(page.contains(want), "{want}");
    }
    assert!(!page.contains("Managed server monitoring"));
    // Contacts: the company admin receives invoices, a plain user does not.
    let c = ok_json(alice.get("/api/v1/billing/contacts").await, StatusCode::OK).await;
    let emails: Vec<&str> = c["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["email"].as_str().unwrap())
        .collect();
    assert_eq!(emails, ["alice@globex.example"]);
    // "Request a change" opens the new-ticket form prefilled; sending it makes a ticket.
    let link = href(&page, "/portal/tickets/new?");
    let form = text(alice.get(&link).await, StatusCode::OK).await;
    assert!(
        form.contains("Change to subscription: "),
        "subject not prefilled"
    );
    assert!(
        form.contains("value=\"Billing\" selected") || form.contains("value=\"Billing\"  selected")
    );
    let subject = "Change to subscription: Managed workstation support";
    let r = alice
        .upload(
            "/portal/tickets",
            reqwest::multipart::Form::new()
                .text("subject", subject)
                .text("description", "Please go from 24 to 30 devices.")
                .text("priority", "normal")
                .text("category", "Billing"),
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let tickets = ok_json(alice.get("/api/v1/tickets").await, StatusCode::OK).await;
    assert!(tickets.to_string().contains(subject));
}
crate::db_test!(client_view_both_dbs, client_view);

async fn staff_maintain(app: TestApp) {
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let initech = app.company_id("acme", "Initech").await;
    let globex = app.company_id("acme", "Globex").await;
    // Bad input names every bad field.
    let bad = ok_json(
        staff
            .post_json(
                "/api/v1/admin/billing/subscriptions",
                &json!({"company_id": initech, "name": "", "quantity": "-1", "unit_price": "1.001", "cycle": "weekly", "next_billing_date": "tomorrow"}),
            )
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    let fields: Vec<&str> = bad["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "name",
            "quantity",
            "unit_price",
            "cycle",
            "next_billing_date"
        ]
    );
    let s = ok_json(
        staff
            .post_json(
                "/api/v1/admin/billing/subscriptions",
                &json!({"company_id": initech, "name": "Endpoint protection", "quantity": "12.5", "unit_price": "3.99", "cycle": "annual", "next_billing_date": "2027-01-15", "external_id": "PSA-X-1"}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    // 12.5 × 3.99 = 49.875 → 49.88 (half away from zero).
    assert_eq!(s["amount"], 4988);
    assert_eq!(s["currency"], "USD");
    let id = s["id"].as_str().unwrap().to_string();
    // The PSA id is unique per tenant.
    let dup = ok_json(
        staff
            .post_json(
                "/api/v1/admin/billing/subscriptions",
                &json!({"company_id": initech, "name": "Other", "quantity": "1", "unit_price": "1", "cycle": "monthly", "next_billing_date": "2027-01-15", "external_id": "PSA-X-1"}),
            )
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(dup["error"]["fields"][0]["field"], "external_id");
    let s = ok_json(
        staff
            .put_json(
                &format!("/api/v1/admin/billing/subscriptions/{id}"),
                &json!({"name": "Endpoint protection", "quantity": "15", "unit_price": "3.99", "cycle": "monthly", "next_billing_date": "2027-02-01", "status": "paused"}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(s["status"], "paused");
    assert_eq!(s["amount"], 5985);
    let s = ok_json(
        staff
            .post_json(
                &format!("/api/v1/admin/billing/subscriptions/{id}/cancel"),
                &json!({}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(s["status"], "cancelled");
    // Cancelling twice writes one audit row.
    staff
        .post_json(
            &format!("/api/v1/admin/billing/subscriptions/{id}/cancel"),
            &json!({}),
        )
        .await;
    let audit = app.audit_actions("acme").await;
    for a in [
        "subscription.created",
        "subscription.updated",
        "subscription.cancelled",
    ] {
        assert!(audit.iter().any(|x| x == a), "{a}");
    }
    assert_eq!(
        audit
            .iter()
            .filter(|x| *x == "subscription.cancelled")
            .count(),
        1
    );
    // The company page: its subscriptions, add through the form, errors beside the fields.
    let page = text(
        staff.get(&format!("/admin/companies/{initech}")).await,
        StatusCode::OK,
    )
    .await;
    assert!(page.contains("Endpoint protection") && page.contains("Managed server monitoring"));
    assert!(!page.contains("Managed workstation support"));
    let r = staff
        .post_form(
            &format!("/admin/companies/{initech}/subscriptions"),
            &[
                ("name", "Phone system"),
                ("quantity", "8"),
                ("unit_price", "19.50"),
                ("cycle", "monthly"),
                ("next_billing_date", "2027-03-01"),
                ("external_id", ""),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = staff
        .post_form(
            &format!("/admin/companies/{initech}/subscriptions"),
            &[
                ("name", "Broken"),
                ("quantity", "x"),
                ("unit_price", "1"),
                ("cycle", "monthly"),
                ("next_billing_date", "2027-03-01"),
            ],
        )
        .await;
    let body = text(r, StatusCode::BAD_REQUEST).await;
    assert!(body.contains("role=\"alert\"") && body.contains("three decimals"));
    let list = ok_json(
        staff
            .get(&format!(
                "/api/v1/admin/billing/subscriptions?company_id={initech}"
            ))
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(names(&list).contains(&"Phone system".to_string()));
    assert!(!names(&list).contains(&"Broken".to_string()));
    // A Globex subscription cannot be changed through Initech's page.
    let gx = ok_json(
        staff
            .get(&format!(
                "/api/v1/admin/billing/subscriptions?company_id={globex}"
            ))
            .await,
        StatusCode::OK,
    )
    .await;
    let gid = gx["items"][0]["id"].as_str().unwrap().to_string();
    let r = staff
        .post_form(
            &format!("/admin/companies/{initech}/subscriptions/{gid}/cancel"),
            &[],
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}
crate::db_test!(staff_maintain_both_dbs, staff_maintain);

async fn isolation(app: TestApp) {
    let globex = app.company_id("acme", "Globex").await;
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let gx = ok_json(
        staff
            .get(&format!(
                "/api/v1/admin/billing/subscriptions?company_id={globex}"
            ))
            .await,
        StatusCode::OK,
    )
    .await;
    let gid = gx["items"][0]["id"].as_str().unwrap().to_string();
    // Initech's admin sees only Initech's subscriptions and statement.
    let ian = app.api_login("acme", "ian@initech.example", "portal").await;
    let v = ok_json(
        ian.get("/api/v1/billing/subscriptions").await,
        StatusCode::OK,
    )
    .await;
    assert!(!v.to_string().contains(&gid));
    assert!(!names(&v).contains(&"Managed workstation support".to_string()));
    assert!(names(&v).contains(&"Managed server monitoring".to_string()));
    let page = text(ian.get("/portal/billing").await, StatusCode::OK).await;
    assert!(!page.contains("Managed workstation support") && !page.contains("alice@globex"));
    let st = ok_json(
        ian.get("/api/v1/billing/statement?from=2020-01-01").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(st["company"], "Initech");
    let csv = text(
        ian.get("/portal/billing/statement?from=2020-01-01&format=csv")
            .await,
        StatusCode::OK,
    )
    .await;
    let globex_numbers = ok_json(
        staff
            .get(&format!(
                "/api/v1/admin/invoices?company={globex}&limit=200"
            ))
            .await,
        StatusCode::OK,
    )
    .await;
    for i in globex_numbers["items"].as_array().unwrap() {
        let n = i["number"].to_string();
        assert!(
            !csv.lines().any(|l| l.split(',').nth(2) == Some(n.as_str())),
            "Globex invoice {n} on Initech's statement"
        );
    }
    // Client sessions never reach the staff API; clients without billing get 403 everywhere.
    assert!(
        ian.get(&format!("/api/v1/admin/billing/subscriptions/{gid}"))
            .await
            .status()
            .is_client_error()
    );
    for who in ["bob@globex.example", "vera@globex.example"] {
        let s = app.api_login("acme", who, "portal").await;
        for p in [
            "/portal/billing",
            "/portal/billing/statement",
            "/portal/billing/statement?format=csv",
            "/api/v1/billing/subscriptions",
            "/api/v1/billing/contacts",
            "/api/v1/billing/statement",
        ] {
            assert_eq!(s.get(p).await.status(), StatusCode::FORBIDDEN, "{who} {p}");
        }
        let menu = text(s.get("/portal/dashboard").await, StatusCode::OK).await;
        assert!(!menu.contains("href=\"/portal/billing\""), "{who}");
    }
    // Staff without the billing permission; another MSP's staff and client.
    let tech = app.api_login("acme", "tech@acme.example", "admin").await;
    assert_eq!(
        tech.get("/api/v1/admin/billing/subscriptions")
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let nora = app
        .api_login("northwind", "nora@northwind.example", "admin")
        .await;
    assert_eq!(
        nora.get(&format!("/api/v1/admin/billing/subscriptions/{gid}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        nora.get(&format!("/admin/companies/{globex}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let r = nora
        .post_json(
            &format!("/api/v1/admin/billing/subscriptions/{gid}/cancel"),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = nora
        .post_json(
            "/api/v1/admin/billing/subscriptions",
            &json!({"company_id": globex, "name": "Sneaky", "quantity": "1", "unit_price": "1", "cycle": "monthly", "next_billing_date": "2027-01-01"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let list = ok_json(
        nora.get("/api/v1/admin/billing/subscriptions").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 0);
    let carl = app
        .api_login("northwind", "carl@contoso.example", "portal")
        .await;
    let v = ok_json(
        carl.get("/api/v1/billing/subscriptions").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v["items"].as_array().unwrap().len(), 0);
    // The still-active Globex subscription is untouched.
    let again = ok_json(
        staff
            .get(&format!("/api/v1/admin/billing/subscriptions/{gid}"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_ne!(again["status"], "cancelled");
    // A Mission tenant has no billing.
    let member = app
        .api_login("grace", "pastor@grace.example", "admin")
        .await;
    assert_eq!(
        member
            .get("/api/v1/admin/billing/subscriptions")
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}
crate::db_test!(isolation_both_dbs, isolation);

/// A sent Initech invoice of one line, issued `issue`; returns `(id, number)`.
async fn sent_invoice(
    app: &TestApp,
    staff: &Session,
    issue: &str,
    quantity: &str,
    price: &str,
) -> (String, i64) {
    let company_id = app.company_id("acme", "Initech").await;
    let v = ok_json(
        staff
            .post_json(
                "/api/v1/admin/invoices",
                &json!({"company_id": company_id, "issue_date": issue, "due_date": issue}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let id = v["invoice"]["id"].as_str().unwrap().to_string();
    let number = v["invoice"]["number"].as_i64().unwrap();
    ok_json(
        staff
            .post_json(
                &format!("/api/v1/admin/invoices/{id}/lines"),
                &json!({"description": "Service", "quantity": quantity, "unit_price": price}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    ok_json(
        staff
            .post_json(&format!("/api/v1/admin/invoices/{id}/send"), &json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    (id, number)
}

async fn pay(staff: &Session, id: &str, amount: &str, on: &str) {
    ok_json(
        staff
            .post_json(
                &format!("/api/v1/admin/invoices/{id}/payments"),
                &json!({"amount": amount, "method": "bank_transfer", "received_on": on}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
}

async fn statement(app: TestApp) {
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    // Far before the demo data, so only these count.
    let (a, na) = sent_invoice(&app, &staff, "2020-01-31", "1", "100.00").await;
    // 0.333 × 10.00 = 3.33; 1.5 × 0.01 = 0.015 → 0.02 (half away from zero).
    let (b, nb) = sent_invoice(&app, &staff, "2020-02-01", "0.333", "10.00").await;
    let (_c, nc) = sent_invoice(&app, &staff, "2020-02-29", "1.5", "0.01").await;
    let (d, _nd) = sent_invoice(&app, &staff, "2020-03-01", "1", "50.00").await;
    pay(&staff, &a, "40.00", "2020-01-31").await;
    pay(&staff, &a, "60.00", "2020-02-01").await;
    pay(&staff, &b, "3.33", "2020-02-29").await;
    pay(&staff, &d, "50.00", "2020-03-01").await;
    let ian = app.api_login("acme", "ian@initech.example", "portal").await;
    let csv = text(
        ian.get("/portal/billing/statement?from=2020-02-01&to=2020-02-29&format=csv")
            .await,
        StatusCode::OK,
    )
    .await;
    let want = format!(
        "date,type,invoice,method,debit,credit,balance,currency\n\
         2020-02-01,opening,,,,,60.00,USD\n\
         2020-02-01,invoice,{nb},,3.33,,63.33,USD\n\
         2020-02-01,payment,{na},bank_transfer,,60.00,3.33,USD\n\
         2020-02-29,invoice,{nc},,0.02,,3.35,USD\n\
         2020-02-29,payment,{nb},bank_transfer,,3.33,0.02,USD\n\
         2020-02-29,closing,,,3.35,63.33,0.02,USD\n"
    );
    assert_eq!(csv, want);
    // The JSON agrees; a one-day period includes that day's invoice and payment.
    let v = ok_json(
        ian.get("/api/v1/billing/statement?from=2020-01-31&to=2020-01-31")
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v["opening"], 0);
    assert_eq!(v["lines"].as_array().unwrap().len(), 2);
    assert_eq!(v["closing"], 6000);
    // The period up to the day before: nothing yet.
    let v = ok_json(
        ian.get("/api/v1/billing/statement?from=2019-01-01&to=2020-01-30")
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (v["opening"].as_i64(), v["closing"].as_i64()),
        (Some(0), Some(0))
    );
    // The PDF is a real PDF with the balances in its text.
    let r = ian
        .get("/portal/billing/statement?from=2020-02-01&to=2020-02-29")
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "application/pdf"
    );
    let bytes = r.bytes().await.unwrap();
    assert!(bytes.starts_with(b"%PDF"));
    if let Some(t) = pdf_text(&bytes) {
        for want in [
            "Account statement",
            "Initech",
            "Opening balance",
            "Closing balance",
            "$60.00",
            "$63.33",
            "$0.02",
        ] {
            assert!(t.contains(want), "{want} missing in:\n{t}");
        }
        assert!(!t.contains("$50.00"), "March is outside the period");
    }
    // Bad periods: named fields, the page shows the form again.
    let bad = ok_json(
        ian.get("/api/v1/billing/statement?from=2020-03-01&to=2020-02-01")
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(bad["error"]["fields"][0]["field"], "to");
    let page = text(
        ian.get("/portal/billing/statement?from=2020-02-31").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(page.contains("role=\"alert\""));
}
crate::db_test!(statement_both_dbs, statement);

/// The client roles the tenant lists in its billing settings see the Invoices and Billing
/// menu entries and open the pages; the others get neither the entries nor the pages.
async fn billing_viewer_menu(app: TestApp) {
    let vera = app.api_login("acme", "vera@globex.example", "portal").await;
    let home = text(vera.get("/portal/dashboard").await, StatusCode::OK).await;
    assert!(!home.contains("href=\"/portal/invoices\""));
    assert!(!home.contains("href=\"/portal/billing\""));
    assert_eq!(
        vera.get("/portal/invoices").await.status(),
        StatusCode::FORBIDDEN
    );
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let r = staff
        .put_json(
            "/api/v1/admin/invoices/settings",
            &json!({"currency": "USD", "viewer_roles": ["client_viewer"]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    // The same session: the grant is read on every request.
    let home = text(vera.get("/portal/dashboard").await, StatusCode::OK).await;
    assert!(home.contains("href=\"/portal/invoices\""), "{home}");
    assert!(home.contains("href=\"/portal/billing\""));
    let list = text(vera.get("/portal/invoices").await, StatusCode::OK).await;
    assert!(list.contains("href=\"/portal/invoices\""));
    text(vera.get("/portal/billing").await, StatusCode::OK).await;
    // Bob's role is not listed: no entry, 403.
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    let home = text(bob.get("/portal/dashboard").await, StatusCode::OK).await;
    assert!(!home.contains("href=\"/portal/invoices\""));
    assert!(!home.contains("href=\"/portal/billing\""));
    for p in ["/portal/invoices", "/portal/billing"] {
        assert_eq!(bob.get(p).await.status(), StatusCode::FORBIDDEN, "{p}");
    }
}
crate::db_test!(billing_viewer_menu_both_dbs, billing_viewer_menu);

/// Saves a card for the session's company through the hosted setup page of the fake (as the
/// payer would); returns the company's provider customer.
async fn save_card_through_setup(s: &Session, fake: &crate::fake_provider::FakeProvider) -> String {
    let v = ok_json(
        s.post_json("/api/v1/billing/payment-methods/setup", &json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    let url = v["url"].as_str().unwrap().to_string();
    assert!(url.starts_with(&fake.base_url()), "{url}");
    let session = fake.sessions().pop().unwrap();
    assert_eq!(session.mode, "setup");
    assert!(session.customer.starts_with("cus_"));
    let r = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(&url)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let back = r.headers()["location"].to_str().unwrap().to_string();
    assert!(
        back.ends_with("/portal/billing?notice=method-added"),
        "{back}"
    );
    session.customer
}

/// Saved cards: listed masked from the provider, added through the hosted setup page, removed
/// after a confirmation; a company never lists, removes or picks another company's card.
async fn saved_methods(app: TestApp) {
    let fake = crate::fake_provider::FakeProvider::start().await;
    crate::payments::configure(&app, &fake).await;
    let alice = app
        .api_login("acme", "alice@globex.example", "portal")
        .await;
    let v = ok_json(
        alice.get("/api/v1/billing/payment-methods").await,
        StatusCode::OK,
    )
    .await;
    // The demo gives Globex a provider customer with one saved card, autopay off.
    assert_eq!(v["available"], true);
    assert_eq!(v["items"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v["items"][0]["id"], "pm_demo_globex");
    assert_eq!(v["items"][0]["autopay"], false);
    assert!(v["autopay_method_id"].is_null());
    let globex_customer = save_card_through_setup(&alice, &fake).await;
    assert_eq!(globex_customer, crate::fake_provider::DEMO_CUSTOMER);
    // A second setup reuses the company's customer.
    let again = save_card_through_setup(&alice, &fake).await;
    assert_eq!(again, globex_customer);
    assert_eq!(fake.customers().len(), 1);
    let v = ok_json(
        alice.get("/api/v1/billing/payment-methods").await,
        StatusCode::OK,
    )
    .await;
    let items = v["items"].as_array().unwrap();
    assert_eq!(items.len(), 3, "{v}");
    assert_eq!(items[0]["brand"], "visa");
    assert_eq!(items[0]["last4"], "4242");
    assert_eq!(items[0]["exp_month"], 4);
    assert_eq!(items[0]["exp_year"], 2030);
    let mine = items[0]["id"].as_str().unwrap().to_string();
    let page = text(
        alice.get("/portal/billing?notice=method-added").await,
        StatusCode::OK,
    )
    .await;
    assert!(page.contains("Payment methods"));
    assert!(page.contains("Visa •••• 4242"), "{page}");
    assert!(page.contains("04/2030"));
    assert!(page.contains("The card shows here once saved."));
    assert!(!page.contains("4242424242"));

    // Initech has its own customer and card.
    let ian = app.api_login("acme", "ian@initech.example", "portal").await;
    let initech_customer = save_card_through_setup(&ian, &fake).await;
    assert_ne!(initech_customer, globex_customer);
    let theirs = fake.add_card(&initech_customer, "mastercard", "5555");
    let v = ok_json(
        alice.get("/api/v1/billing/payment-methods").await,
        StatusCode::OK,
    )
    .await;
    assert!(!v.to_string().contains(&theirs));
    assert!(!v.to_string().contains("5555"));
    // Alice cannot remove or choose Initech's card, nor see its confirmation page.
    assert_eq!(
        alice
            .delete(&format!("/api/v1/billing/payment-methods/{theirs}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        alice
            .get(&format!("/portal/billing/methods/{theirs}/remove"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        alice
            .post_form(&format!("/portal/billing/methods/{theirs}/remove"), &[])
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        alice
            .put_json(
                "/api/v1/billing/autopay",
                &json!({"payment_method_id": theirs})
            )
            .await
            .status(),
        StatusCode::BAD_REQUEST
    );
    assert!(
        fake.methods()
            .iter()
            .any(|m| m.id == theirs && m.customer.as_deref() == Some(initech_customer.as_str()))
    );
    // Without the billing grant: 403 everywhere.
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    for r in [
        bob.get("/api/v1/billing/payment-methods").await,
        bob.delete(&format!("/api/v1/billing/payment-methods/{mine}"))
            .await,
        bob.get(&format!("/portal/billing/methods/{mine}/remove"))
            .await,
        bob.post_form("/portal/billing/methods", &[]).await,
        bob.put_json(
            "/api/v1/billing/autopay",
            &json!({"payment_method_id": mine}),
        )
        .await,
    ] {
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
    }
    // Removing her own card: a confirmation page, then the provider detaches it.
    let confirm = text(
        alice
            .get(&format!("/portal/billing/methods/{mine}/remove"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(confirm.contains("Remove the card") && confirm.contains("Visa •••• 4242"));
    let r = alice
        .post_form(&format!("/portal/billing/methods/{mine}/remove"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(
        fake.methods()
            .iter()
            .any(|m| m.id == mine && m.customer.is_none())
    );
    let v = ok_json(
        alice.get("/api/v1/billing/payment-methods").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v["items"].as_array().unwrap().len(), 2);
    // The add button goes to the provider's hosted page.
    let r = alice.post_form("/portal/billing/methods", &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with(&fake.base_url())
    );
    let audit = app.audit_actions("acme").await;
    assert!(audit.contains(&"billing.payment_method_removed".to_string()));
    assert!(audit.contains(&"billing.payment_method_setup_started".to_string()));
}
crate::db_test!(saved_methods_both_dbs, saved_methods);

async fn invoice_status(staff: &Session, id: &str) -> String {
    let v = ok_json(
        staff.get(&format!("/api/v1/admin/invoices/{id}")).await,
        StatusCode::OK,
    )
    .await;
    v["invoice"]["status"]
        .as_str()
        .or(v["status"].as_str())
        .unwrap()
        .to_string()
}

/// Autopay: sending an invoice to a company that pays automatically charges its chosen card
/// off-session; the webhook records the payment; a declined card leaves the invoice sent and
/// shows on /portal/billing; autopay off charges nothing.
async fn autopay(app: TestApp) {
    let fake = crate::fake_provider::FakeProvider::start().await;
    let staff = crate::payments::configure(&app, &fake).await;
    let ian = app.api_login("acme", "ian@initech.example", "portal").await;
    let customer = save_card_through_setup(&ian, &fake).await;
    let good = fake.methods().pop().unwrap().id;
    let bad = fake.add_card(&customer, "visa", "0002");
    let v = ok_json(
        ian.put_json(
            "/api/v1/billing/autopay",
            &json!({"payment_method_id": good}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v["enabled"], true);
    assert_eq!(v["label"], "Visa •••• 4242");

    let (paid, number) = sent_invoice(&app, &staff, "2026-11-02", "2", "60.00").await;
    app.drain_jobs().await;
    let intents = fake.intents();
    assert_eq!(intents.len(), 1);
    let f = &intents[0].form;
    for (k, want) in [
        ("amount", "12000"),
        ("currency", "usd"),
        ("customer", customer.as_str()),
        ("payment_method", good.as_str()),
        ("off_session", "true"),
        ("confirm", "true"),
        ("metadata[tenant]", "acme"),
        ("metadata[invoice_id]", paid.as_str()),
    ] {
        assert!(f.iter().any(|(n, v)| n == k && v == want), "{k} in {f:?}");
    }
    assert!(intents[0].idempotency_key.starts_with("autopay-"));
    assert!(intents[0].succeeded && intents[0].id.starts_with("pi_"));
    assert_eq!(invoice_status(&staff, &paid).await, "paid");
    // Running the queue again charges nothing more.
    app.drain_jobs().await;
    assert_eq!(fake.intents().len(), 1);

    // The declined card: the invoice stays sent and the failure shows on the billing page.
    let r = ian
        .post_form("/portal/billing/autopay", &[("payment_method_id", &bad)])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (unpaid, unpaid_number) = sent_invoice(&app, &staff, "2026-11-03", "1", "75.00").await;
    assert_ne!(unpaid_number, number);
    app.drain_jobs().await;
    assert_eq!(fake.intents().len(), 2);
    assert!(!fake.intents()[1].succeeded);
    assert_eq!(invoice_status(&staff, &unpaid).await, "sent");
    let page = text(ian.get("/portal/billing").await, StatusCode::OK).await;
    assert!(page.contains("Automatic payment failed"), "{page}");
    assert!(page.contains("Your card was declined."));
    assert!(page.contains(&format!("/portal/invoices/{unpaid}")));
    let v = ok_json(ian.get("/api/v1/billing/autopay").await, StatusCode::OK).await;
    assert_eq!(v["failures"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v["failures"][0]["invoice_id"], unpaid.as_str());
    // Another company never sees it.
    let alice = app
        .api_login("acme", "alice@globex.example", "portal")
        .await;
    let v = ok_json(alice.get("/api/v1/billing/autopay").await, StatusCode::OK).await;
    assert_eq!(v["failures"].as_array().unwrap().len(), 0);
    assert_eq!(v["enabled"], false);

    // Autopay off: nothing is charged.
    ok_json(
        ian.put_json(
            "/api/v1/billing/autopay",
            &json!({"payment_method_id": null}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    sent_invoice(&app, &staff, "2026-11-04", "1", "10.00").await;
    app.drain_jobs().await;
    assert_eq!(fake.intents().len(), 2);
    let audit = app.audit_actions("acme").await;
    for a in [
        "billing.autopay_on",
        "billing.autopay_off",
        "invoice.autopay_charged",
        "invoice.autopay_failed",
        "invoice.paid_online",
    ] {
        assert!(audit.contains(&a.to_string()), "{a}");
    }
}
crate::db_test!(autopay_both_dbs, autopay);
