//! Invoices: the staff flow (draft, lines with decimals and taxes, send, payments, void), the
//! client pages and PDF, isolation (other company, other tenant, drafts, roles), the overdue
//! job, and the demo data.

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::Row;

use crate::payments::demo_invoice;
use crate::support::{Session, TestApp};

async fn ok_json(r: reqwest::Response, want: StatusCode) -> Value {
    let status = r.status();
    let body = r.text().await.unwrap();
    assert_eq!(status, want, "{body}");
    serde_json::from_str(&body).unwrap_or(Value::Null)
}

async fn tax_rate(staff: &Session, name: &str, percent: &str) -> String {
    let v = ok_json(
        staff
            .post_json(
                "/api/v1/admin/invoices/tax-rates",
                &json!({"name": name, "percent": percent}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    v["id"].as_str().unwrap().to_string()
}

/// A draft for `company` with the given dates; returns its id.
async fn draft(app: &TestApp, staff: &Session, company: &str, issue: &str, due: &str) -> String {
    let company_id = app.company_id("acme", company).await;
    let v = ok_json(
        staff
            .post_json(
                "/api/v1/admin/invoices",
                &json!({"company_id": company_id, "issue_date": issue, "due_date": due, "notes": "Thanks"}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(v["invoice"]["status"], "draft");
    v["invoice"]["id"].as_str().unwrap().to_string()
}

async fn staff_flow(app: TestApp) {
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let vat = tax_rate(&staff, "VAT 21", "21").await;
    let small = tax_rate(&staff, "Levy", "5").await;
    let id = draft(&app, &staff, "Globex", "2026-01-10", "2026-02-09").await;
    let lines = format!("/api/v1/admin/invoices/{id}/lines");
    // 1.5 h × 120.00 at 21 %, three lines of 0.10 at 5 % (tax rounded once per rate).
    ok_json(
        staff
            .post_json(&lines, &json!({"description": "Support hours", "quantity": "1.5", "unit_price": "120.00", "tax_rate_id": vat}))
            .await,
        StatusCode::CREATED,
    )
    .await;
    for _ in 0..3 {
        ok_json(
            staff
                .post_json(&lines, &json!({"description": "Cable tie", "quantity": "1", "unit_price": "0.10", "tax_rate_id": small}))
                .await,
            StatusCode::CREATED,
        )
        .await;
    }
    let v = ok_json(
        staff
            .post_json(
                &lines,
                &json!({"description": "Storage", "quantity": "0.333", "unit_price": "10"}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    // 18000 + 30 + 333 = 18363; VAT 3780; levy 1.5 → 2; total 22145.
    assert_eq!(v["invoice"]["subtotal"], 18363);
    assert_eq!(v["invoice"]["tax_total"], 3782);
    assert_eq!(v["invoice"]["total"], 22145);
    assert_eq!(v["lines"][0]["quantity"], "1.5");
    assert_eq!(v["lines"][4]["quantity"], "0.333");
    // Bad input names its fields.
    let bad = ok_json(
        staff
            .post_json(
                &lines,
                &json!({"description": "", "quantity": "1.2345", "unit_price": "x"}),
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
    assert_eq!(fields, ["description", "quantity", "unit_price"]);
    // Edit and remove a line.
    let last = v["lines"][4]["id"].as_str().unwrap().to_string();
    let v = ok_json(
        staff
            .patch_json(
                &format!("{lines}/{last}"),
                &json!({"description": "Storage (TB)", "quantity": "2", "unit_price": "10"}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v["lines"][4]["amount"], 2000);
    let r = staff
        .client
        .delete(app.url(&format!("{lines}/{last}")))
        .header("x-csrf-token", &staff.csrf)
        .send()
        .await
        .unwrap();
    let v = ok_json(r, StatusCode::OK).await;
    assert_eq!(v["lines"].as_array().unwrap().len(), 4);
    assert_eq!(v["invoice"]["total"], 18030 + 3780 + 2);
    // Clients never see drafts.
    let alice = app
        .api_login("acme", "alice@globex.example", "portal")
        .await;
    assert_eq!(
        alice.get(&format!("/api/v1/invoices/{id}")).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        alice.get(&format!("/portal/invoices/{id}")).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        alice
            .get(&format!("/portal/invoices/{id}/pdf"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let list = ok_json(
        alice.get("/api/v1/invoices?limit=200").await,
        StatusCode::OK,
    )
    .await;
    assert!(
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["status"] != "draft" && i["id"] != id.as_str())
    );
    // Send: Alice (the company admin) gets an email with the link.
    let v = ok_json(
        staff
            .post_json(&format!("/api/v1/admin/invoices/{id}/send"), &json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v["invoice"]["status"], "sent");
    let mail = app.last_mail_to("alice@globex.example").await;
    assert!(mail.contains(&format!("/portal/invoices/{id}")), "{mail}");
    // Sent invoices are no longer editable.
    let r = staff
        .post_json(
            &lines,
            &json!({"description": "x", "quantity": "1", "unit_price": "1"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // A manual partial payment, then the rest: paid, shown as paid elsewhere.
    let pay = format!("/api/v1/admin/invoices/{id}/payments");
    let v = ok_json(
        staff
            .post_json(
                &pay,
                &json!({"amount": "100.00", "method": "bank_transfer"}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v["invoice"]["status"], "sent");
    assert_eq!(v["invoice"]["paid"], 10000);
    let r = staff
        .post_json(&pay, &json!({"amount": "9999.00", "method": "check"}))
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "more than the balance");
    let v = ok_json(
        staff
            .post_json(&pay, &json!({"amount": "118.12", "method": "check"}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v["invoice"]["status"], "paid");
    assert_eq!(v["invoice"]["balance"], 0);
    let seen = ok_json(
        alice.get(&format!("/api/v1/invoices/{id}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(seen["paid_elsewhere"], true);
    // Paid invoices cannot be voided; a fresh one can, with a reason, and then never paid.
    let r = staff
        .post_json(
            &format!("/api/v1/admin/invoices/{id}/void"),
            &json!({"reason": "oops"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let other = draft(&app, &staff, "Globex", "2026-01-11", "2026-02-10").await;
    let r = staff
        .post_json(
            &format!("/api/v1/admin/invoices/{other}/void"),
            &json!({"reason": ""}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let v = ok_json(
        staff
            .post_json(
                &format!("/api/v1/admin/invoices/{other}/void"),
                &json!({"reason": "Duplicate"}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v["invoice"]["status"], "void");
    assert_eq!(v["invoice"]["void_reason"], "Duplicate");
    let r = staff
        .post_json(
            &format!("/api/v1/admin/invoices/{other}/payments"),
            &json!({"amount": "1.00", "method": "cash"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // Every change left an audit row.
    let actions = app.audit_actions("acme").await;
    for a in [
        "invoice.tax_rate_created",
        "invoice.created",
        "invoice.line_added",
        "invoice.line_updated",
        "invoice.line_removed",
        "invoice.sent",
        "invoice.payment_recorded",
        "invoice.voided",
    ] {
        assert!(actions.contains(&a.to_string()), "no {a} in {actions:?}");
    }
    // The staff pages render, with the activity log in words.
    for p in [
        "/admin/invoices",
        &format!("/admin/invoices/{id}"),
        &format!("/admin/invoices/{other}"),
        "/admin/invoices/settings",
        "/admin/audit",
    ] {
        let r = staff.get(p).await;
        assert_eq!(r.status(), StatusCode::OK, "{p}");
        let html = r.text().await.unwrap();
        assert!(
            !html.contains("invoice-") || !html.contains("audit-say-"),
            "untranslated key on {p}"
        );
    }
    // Page forms: a draft through the form, a line with an error shown beside the form.
    let company_id = app.company_id("acme", "Initech").await;
    let r = staff
        .post_form(
            "/admin/invoices",
            &[
                ("company_id", &company_id),
                ("issue_date", ""),
                ("due_date", ""),
                ("notes", ""),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    let new_id = loc
        .trim_start_matches("/admin/invoices/")
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let r = staff
        .post_form(
            &format!("/admin/invoices/{new_id}/lines"),
            &[
                ("description", "Hours"),
                ("quantity", "abc"),
                ("unit_price", "10"),
                ("tax_rate_id", ""),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("role=\"alert\"") && html.contains("three decimals"),
        "{html}"
    );
    let r = staff
        .post_form(
            &format!("/admin/invoices/{new_id}/lines"),
            &[
                ("description", "Hours"),
                ("quantity", "2.25"),
                ("unit_price", "80"),
                ("tax_rate_id", &vat),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = staff
        .post_form(&format!("/admin/invoices/{new_id}/send"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let mail = app.last_mail_to("ian@initech.example").await;
    assert!(mail.contains(&new_id));
}
crate::db_test!(staff_flow_with_decimals_taxes_payments_and_void, staff_flow);

async fn client_pages_and_pdf(app: TestApp) {
    let alice = app
        .api_login("acme", "alice@globex.example", "portal")
        .await;
    let page = ok_json(
        alice.get("/api/v1/invoices?limit=200").await,
        StatusCode::OK,
    )
    .await;
    let items = page["items"].as_array().unwrap();
    assert!(items.iter().all(|i| i["company_name"] == "Globex"));
    assert!(page["overdue"].as_i64().unwrap() > 0);
    assert!(page["outstanding"].as_i64().unwrap() > page["overdue"].as_i64().unwrap());
    assert_eq!(page["overdue_count"], 1);
    let overdue = ok_json(
        alice.get("/api/v1/invoices?status=overdue").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(overdue["items"].as_array().unwrap().len(), 1);
    // Cursor pagination walks every invoice once.
    let mut seen = Vec::new();
    let mut next = Some(String::new());
    while let Some(c) = next {
        let p = ok_json(
            alice
                .get(&format!(
                    "/api/v1/invoices?limit=5&cursor={}",
                    urlencode(&c)
                ))
                .await,
            StatusCode::OK,
        )
        .await;
        seen.extend(
            p["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["number"].as_i64().unwrap()),
        );
        next = p["next_cursor"].as_str().map(str::to_string);
    }
    assert_eq!(seen.len(), items.len());
    // A period filter.
    let r = ok_json(
        alice.get("/api/v1/invoices?from=2999-01-01").await,
        StatusCode::OK,
    )
    .await;
    assert!(r["items"].as_array().unwrap().is_empty());
    // The list and detail pages.
    let html = alice.get("/portal/invoices").await.text().await.unwrap();
    assert!(html.contains("data-overdue") && html.contains("Outstanding"));
    let id = demo_invoice(&app, "Globex", "overdue").await;
    let html = alice
        .get(&format!("/portal/invoices/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Remote support hours")
            && html.contains("Sales tax")
            && html.contains("Overdue")
    );
    let v = ok_json(
        alice.get(&format!("/api/v1/invoices/{id}")).await,
        StatusCode::OK,
    )
    .await;
    let decimal = v["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["quantity"].as_str().unwrap().to_string())
        .find(|q| q.contains('.'))
        .expect("a decimal quantity");
    assert!(
        html.contains(&format!(">{decimal}<")),
        "decimal quantity {decimal} shown"
    );
    let es = alice
        .client
        .get(app.url(&format!("/portal/invoices/{id}")))
        .header("accept-language", "es")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // Alice's profile says English; the page stays English for her.
    assert!(es.contains("Balance due"));
    // The PDF is a real PDF with extractable text.
    let r = alice.get(&format!("/portal/invoices/{id}/pdf")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    let bytes = r.bytes().await.unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
    let number: i64 = sqlx::query("SELECT number FROM invoices WHERE id = $1")
        .bind(&id)
        .fetch_one(app.state.db.operator("test").reader())
        .await
        .unwrap()
        .get(0);
    if let Some(text) = pdf_text(&bytes) {
        for want in [
            format!("Invoice {number}"),
            "Globex".into(),
            "Remote support hours".into(),
            "Overdue".into(),
            "Acme IT".into(),
        ] {
            assert!(text.contains(&want), "{want} not in the PDF text: {text}");
        }
    }
    // The partly paid one shows its payment and balance.
    let partly: String = sqlx::query(
        "SELECT i.id FROM invoices i JOIN companies c ON c.tenant_id = i.tenant_id AND c.id = i.company_id WHERE c.name = 'Globex' AND i.paid > 0 AND i.paid < i.total",
    )
    .fetch_one(app.state.db.operator("test").reader())
    .await
    .unwrap()
    .get(0);
    let v = ok_json(
        alice.get(&format!("/api/v1/invoices/{partly}")).await,
        StatusCode::OK,
    )
    .await;
    assert!(v["invoice"]["balance"].as_i64().unwrap() > 0);
    assert_eq!(v["payments"].as_array().unwrap().len(), 1);
    let payments = ok_json(alice.get("/api/v1/invoices/payments").await, StatusCode::OK).await;
    assert!(payments["items"].as_array().unwrap().len() >= 5);
}
crate::db_test!(client_pages_filters_and_pdf, client_pages_and_pdf);

fn urlencode(s: &str) -> String {
    url_escape(s)
}

fn url_escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The text of a PDF by `pdftotext`, or `None` (with a note) when it is not installed; CI has it.
pub fn pdf_text(bytes: &[u8]) -> Option<String> {
    let dir = tempfile::tempdir().ok()?;
    let path = dir.path().join("doc.pdf");
    std::fs::write(&path, bytes).ok()?;
    match std::process::Command::new("pdftotext")
        .arg(&path)
        .arg("-")
        .output()
    {
        Ok(out) => {
            assert!(out.status.success(), "pdftotext failed");
            Some(String::from_utf8_lossy(&out.stdout).into_owned())
        }
        Err(_) => {
            eprintln!("PDF TEXT CHECK SKIPPED: pdftotext is not installed");
            None
        }
    }
}

async fn isolation(app: TestApp) {
    let id = demo_invoice(&app, "Globex", "overdue").await;
    let ian = app.api_login("acme", "ian@initech.example", "portal").await;
    for p in [
        format!("/portal/invoices/{id}"),
        format!("/portal/invoices/{id}/pdf"),
        format!("/portal/invoices/{id}/return?session_id=x"),
        format!("/api/v1/invoices/{id}"),
    ] {
        let r = ian.get(&p).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{p}");
        assert!(!r.text().await.unwrap().contains("Remote support hours"));
    }
    let r = ian
        .post_json(&format!("/api/v1/invoices/{id}/checkout"), &json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = ian
        .post_form(&format!("/portal/invoices/{id}/pay"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let list = ok_json(ian.get("/api/v1/invoices?limit=200").await, StatusCode::OK).await;
    assert!(
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["company_name"] == "Initech")
    );
    let payments = ok_json(ian.get("/api/v1/invoices/payments").await, StatusCode::OK).await;
    assert!(!payments.to_string().contains(&id));
    // Client roles without the billing permission: 403 on pages and API.
    for who in ["bob@globex.example", "vera@globex.example"] {
        let s = app.api_login("acme", who, "portal").await;
        for p in [
            "/portal/invoices".to_string(),
            format!("/portal/invoices/{id}"),
            "/api/v1/invoices".into(),
            format!("/api/v1/invoices/{id}"),
        ] {
            assert_eq!(s.get(&p).await.status(), StatusCode::FORBIDDEN, "{who} {p}");
        }
    }
    // The tenant lets viewers see invoices: Vera now can, Bob still cannot.
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let r = staff
        .put_json(
            "/api/v1/admin/invoices/settings",
            &json!({"currency": "USD", "viewer_roles": ["client_viewer"]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let vera = app.api_login("acme", "vera@globex.example", "portal").await;
    assert_eq!(
        vera.get(&format!("/api/v1/invoices/{id}")).await.status(),
        StatusCode::OK
    );
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    assert_eq!(
        bob.get("/api/v1/invoices").await.status(),
        StatusCode::FORBIDDEN
    );
    let r = staff
        .put_json(
            "/api/v1/admin/invoices/settings",
            &json!({"currency": "USD", "viewer_roles": ["staff_admin"]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // Staff without the invoices permission, and another tenant's staff.
    let tech = app.api_login("acme", "tech@acme.example", "admin").await;
    assert_eq!(
        tech.get("/admin/invoices").await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        tech.get(&format!("/api/v1/admin/invoices/{id}"))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let pastor = app
        .api_login("grace", "pastor@grace.example", "admin")
        .await;
    assert_eq!(
        pastor
            .get(&format!("/api/v1/admin/invoices/{id}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        pastor
            .get(&format!("/admin/invoices/{id}/pdf"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let mary = app.api_login("grace", "mary@grace.example", "portal").await;
    assert_eq!(
        mary.get(&format!("/api/v1/invoices/{id}")).await.status(),
        StatusCode::NOT_FOUND
    );
    // Staff cannot draft an invoice for another tenant's company.
    let r = staff
        .post_json("/api/v1/admin/invoices", &json!({"company_id": "nope"}))
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}
crate::db_test!(invoices_isolation_and_permissions, isolation);

async fn overdue_job(app: TestApp) {
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let id = draft(&app, &staff, "Globex", "2026-01-01", "2026-01-31").await;
    ok_json(
        staff
            .post_json(
                &format!("/api/v1/admin/invoices/{id}/lines"),
                &json!({"description": "Support", "quantity": "1", "unit_price": "50"}),
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
    app.drain_jobs().await;
    let mails_before = app.sent_mail().len();
    let run = |day: &'static str| {
        let db = app.state.db.clone();
        async move {
            portico::jobs::enqueue_operator(
                &db,
                None,
                "invoices.overdue",
                &json!({"today": day}),
                portico::db::now_ms(),
            )
            .await
            .unwrap();
        }
    };
    // The day before the due date nothing happens.
    run("2026-01-31").await;
    app.drain_jobs().await;
    let v = ok_json(
        staff.get(&format!("/api/v1/admin/invoices/{id}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v["invoice"]["status"], "sent");
    // The day after it becomes overdue and Alice gets a reminder (the demo turns reminders on).
    run("2026-02-01").await;
    app.drain_jobs().await;
    let v = ok_json(
        staff.get(&format!("/api/v1/admin/invoices/{id}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v["invoice"]["status"], "overdue");
    let mails = app.sent_mail();
    let reminders = mails[mails_before..]
        .iter()
        .filter(|m| m.contains("overdue"))
        .count();
    assert_eq!(reminders, 1, "one reminder to the one billing contact");
    // Running it again sends nothing more.
    run("2026-02-02").await;
    app.drain_jobs().await;
    assert_eq!(app.sent_mail().len(), mails.len());
    assert!(
        app.audit_actions("acme")
            .await
            .contains(&"invoice.overdue".to_string())
    );
    // The client dashboard counts overdue invoices.
    let alice = app
        .api_login("acme", "alice@globex.example", "portal")
        .await;
    let html = alice.get("/portal/dashboard").await.text().await.unwrap();
    assert!(html.contains("data-overdue-invoices=\"2\""), "{html}");
}
crate::db_test!(overdue_job_marks_and_reminds_once, overdue_job);

async fn demo_covers_every_status(app: TestApp) {
    let rows = sqlx::query(
        "SELECT c.name, i.status, i.paid, i.total, i.issue_date FROM invoices i JOIN companies c ON c.tenant_id = i.tenant_id AND c.id = i.company_id",
    )
    .fetch_all(app.state.db.operator("test").reader())
    .await
    .unwrap();
    for status in ["draft", "sent", "paid", "overdue", "void"] {
        assert!(
            rows.iter().any(|r| r.get::<String, _>("status") == status),
            "no {status}"
        );
    }
    for company in ["Globex", "Initech"] {
        assert!(
            rows.iter()
                .filter(|r| r.get::<String, _>("name") == company)
                .count()
                >= 6
        );
    }
    let partly = rows
        .iter()
        .filter(|r| {
            r.get::<i64, _>("paid") > 0 && r.get::<i64, _>("paid") < r.get::<i64, _>("total")
        })
        .count();
    assert_eq!(partly, 1);
    let rates: i64 = sqlx::query("SELECT COUNT(*) FROM tax_rates")
        .fetch_one(app.state.db.operator("test").reader())
        .await
        .unwrap()
        .get(0);
    assert_eq!(rates, 2);
    let fractional: i64 =
        sqlx::query("SELECT COUNT(*) FROM invoice_lines WHERE quantity_milli % 1000 <> 0")
            .fetch_one(app.state.db.operator("test").reader())
            .await
            .unwrap()
            .get(0);
    assert!(fractional > 0);
    // Seeding again adds nothing.
    portico::demo::seed(&app.state.db).await.unwrap();
    let n: i64 = sqlx::query("SELECT COUNT(*) FROM invoices")
        .fetch_one(app.state.db.operator("test").reader())
        .await
        .unwrap()
        .get(0);
    assert_eq!(n as usize, rows.len());
}
crate::db_test!(demo_invoices_cover_every_status, demo_covers_every_status);
