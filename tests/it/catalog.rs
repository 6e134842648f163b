//! Service catalog: staff CRUD and form versions, client requests with per-field validation,
//! tickets with answers and the item's SLA, viewers, company-restricted items and tenants.

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::Row;

use crate::support::{Session, TestApp};

async fn body(r: reqwest::Response) -> (StatusCode, Value) {
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

async fn page(s: &Session, path: &str) -> (StatusCode, String) {
    let r = s.get(path).await;
    (r.status(), r.text().await.unwrap_or_default())
}

/// Id of a demo item by name (as staff see it).
async fn item_id(staff: &Session, name: &str) -> String {
    let (s, v) = body(
        staff
            .get(&format!(
                "/api/v1/admin/catalog/items?limit=100&q={}",
                name.replace(' ', "%20")
            ))
            .await,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == name)
        .unwrap_or_else(|| panic!("no item {name}: {v}"))["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn ticket_times(app: &TestApp, number: i64) -> (i64, i64, i64) {
    let r = sqlx::query(
        "SELECT k.created_at, k.first_response_due_at, k.resolution_due_at FROM tickets k \
         JOIN tenants t ON t.id = k.tenant_id WHERE t.slug = 'acme' AND k.number = $1",
    )
    .bind(number)
    .fetch_one(app.state.db.operator("test").reader())
    .await
    .unwrap();
    (r.get(0), r.get(1), r.get(2))
}

fn laptop_body(category: &str, fields: Value) -> Value {
    json!({
        "category_id": category,
        "name": "Docking station",
        "description": "A USB-C dock. <script>alert(1)</script>",
        "icon": "laptop",
        "first_response_minutes": 60,
        "resolution_minutes": 2880,
        "hours": "24x7",
        "price": "€180",
        "visibility": "all",
        "active": true,
        "fields": fields,
    })
}

async fn staff_manage_items_and_forms_keep_their_versions(app: TestApp) {
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;

    // Category and item through the API, with audit rows.
    let (s, cat) = body(
        staff
            .post_json(
                "/api/v1/admin/catalog/categories",
                &json!({"name": "Desk gear"}),
            )
            .await,
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{cat}");
    let cat = cat["id"].as_str().unwrap().to_string();
    let v1 = json!([
        {"label": "Desk number", "kind": "short_text", "required": true},
        {"label": "Ports", "kind": "multiple_choice", "choices": ["HDMI", "DisplayPort", "Ethernet"]},
        {"label": "Needed by", "kind": "date"},
    ]);
    let (s, item) = body(
        staff
            .post_json("/api/v1/admin/catalog/items", &laptop_body(&cat, v1))
            .await,
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{item}");
    let id = item["id"].as_str().unwrap().to_string();
    assert_eq!(item["form_version"], 1);
    assert_eq!(item["fields"][0]["key"], "desk_number");
    assert!(
        !item["description_html"]
            .as_str()
            .unwrap()
            .contains("<script")
    );

    // Saving the same form keeps the version; a changed one makes version 2.
    let mut same = laptop_body(&cat, item["fields"].clone());
    let (s, v) = body(
        staff
            .put_json(&format!("/api/v1/admin/catalog/items/{id}"), &same)
            .await,
    )
    .await;
    assert_eq!((s, v["form_version"].clone()), (StatusCode::OK, json!(1)));

    // A request on version 1.
    let (s, created) = body(
        bob.post_json(
            &format!("/api/v1/catalog/{id}/requests"),
            &json!({"answers": {"desk_number": "4.12", "ports": ["Ethernet", "HDMI"], "needed_by": "2026-12-24"}}),
        )
        .await,
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    let old = created["number"].as_i64().unwrap();
    assert_eq!(created["request"]["form_version"], 1);

    same["fields"] = json!([
        {"key": "desk_number", "label": "Desk or room", "kind": "short_text", "required": true},
        {"label": "Monitor count", "kind": "number", "required": true},
    ]);
    let (s, v) = body(
        staff
            .put_json(&format!("/api/v1/admin/catalog/items/{id}"), &same)
            .await,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["form_version"], 2);
    assert_eq!(v["fields"].as_array().unwrap().len(), 2);

    // The old request still reads as it was asked, on both sides and in the API.
    for (who, path) in [
        (&bob, format!("/portal/tickets/{old}")),
        (&staff, format!("/admin/tickets/{old}")),
    ] {
        let (s, html) = page(who, &path).await;
        assert_eq!(s, StatusCode::OK);
        assert!(
            html.contains("Desk number") && html.contains("4.12"),
            "{html}"
        );
        assert!(
            html.contains("HDMI, Ethernet"),
            "choices in form order: {html}"
        );
        assert!(html.contains("2026-12-24") && !html.contains("Monitor count"));
    }
    let (_, t) = body(bob.get(&format!("/api/v1/tickets/{old}")).await).await;
    assert_eq!(t["catalog_request"]["form_version"], 1);
    assert_eq!(t["catalog_request"]["answers"][0]["label"], "Desk number");

    // A new request answers version 2, and the old answers are not asked any more.
    let (s, v) = body(
        bob.post_json(
            &format!("/api/v1/catalog/{id}/requests"),
            &json!({"answers": {"desk_number": "Room 7", "monitor_count": 2}}),
        )
        .await,
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["request"]["form_version"], 2);

    // In use: cannot be deleted; its category neither. Deactivated: gone for clients.
    let r = staff
        .client
        .delete(format!("{}/api/v1/admin/catalog/items/{id}", staff.base))
        .header("x-csrf-token", &staff.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let r = staff
        .client
        .delete(format!(
            "{}/api/v1/admin/catalog/categories/{cat}",
            staff.base
        ))
        .header("x-csrf-token", &staff.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    same["active"] = json!(false);
    let (s, _) = body(
        staff
            .put_json(&format!("/api/v1/admin/catalog/items/{id}"), &same)
            .await,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        bob.get(&format!("/api/v1/catalog/{id}")).await.status(),
        StatusCode::NOT_FOUND
    );
    // ...and still there for the old ticket.
    let (_, html) = page(&bob, &format!("/portal/tickets/{old}")).await;
    assert!(html.contains("4.12"));

    // An unused item and an empty category can go.
    let (_, spare) = body(
        staff
            .post_json(
                "/api/v1/admin/catalog/items",
                &json!({"category_id": cat, "name": "Spare", "icon": "box", "first_response_minutes": 60,
                        "resolution_minutes": 60, "hours": "business", "visibility": "all", "active": true}),
            )
            .await,
    )
    .await;
    let spare = spare["id"].as_str().unwrap();
    let r = staff
        .client
        .delete(format!("{}/api/v1/admin/catalog/items/{spare}", staff.base))
        .header("x-csrf-token", &staff.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);

    let actions = app.audit_actions("acme").await;
    for a in [
        "catalog.category_created",
        "catalog.item_created",
        "catalog.item_updated",
        "catalog.item_deleted",
        "catalog.requested",
        "ticket.created",
    ] {
        assert!(actions.iter().any(|x| x == a), "no {a} in {actions:?}");
    }
    // The audit log says it in words.
    let (_, log) = page(&staff, "/admin/audit").await;
    assert!(log.contains("added the catalog service"), "{log}");

    // Bad input: every problem at once, by field.
    let (s, v) = body(
        staff
            .post_json(
                "/api/v1/admin/catalog/items",
                &json!({"category_id": "nope", "name": "", "icon": "rocket", "first_response_minutes": 0,
                        "resolution_minutes": 5, "hours": "sometimes", "visibility": "companies", "active": true,
                        "fields": [{"label": "Pick", "kind": "single_choice"}]}),
            )
            .await,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let fields: Vec<&str> = v["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    for f in [
        "name",
        "icon",
        "first_response_minutes",
        "hours",
        "companies",
        "field-0",
    ] {
        assert!(fields.contains(&f), "{f} missing in {v}");
    }
    // Technicians manage the catalog; clients do not.
    let tech = app.api_login("acme", "tech@acme.example", "admin").await;
    assert_eq!(
        tech.get("/api/v1/admin/catalog/items").await.status(),
        StatusCode::OK
    );
    assert_ne!(
        bob.get("/api/v1/admin/catalog/items").await.status(),
        StatusCode::OK
    );
}
crate::db_test!(
    admin_crud_and_versions,
    staff_manage_items_and_forms_keep_their_versions
);

async fn staff_pages_design_a_form(app: TestApp) {
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let (s, html) = page(&staff, "/admin/catalog").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("Hardware") && html.contains("New laptop"));
    let r = staff
        .post_form("/admin/catalog/categories", &[("name", "Facilities")])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // A taken name comes back with the error beside the field and the name kept.
    let r = staff
        .post_form("/admin/catalog/categories", &[("name", "Facilities")])
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = r.text().await.unwrap();
    assert!(html.contains("already exists") && html.contains("value=\"Facilities\""));

    let cat: String = sqlx::query(
        "SELECT c.id FROM catalog_categories c JOIN tenants t ON t.id = c.tenant_id WHERE t.slug = 'acme' AND c.name = 'Facilities'",
    )
    .fetch_one(app.state.db.operator("test").reader())
    .await
    .unwrap()
    .get(0);
    let (s, _) = page(&staff, "/admin/catalog/items/new").await;
    assert_eq!(s, StatusCode::OK);
    let item = [
        ("name", "Meeting room setup"),
        ("category_id", cat.as_str()),
        ("icon", "monitor"),
        ("description", "We set up the room."),
        ("first_response_amount", "2"),
        ("first_response_unit", "hours"),
        ("resolution_amount", "1"),
        ("resolution_unit", "days"),
        ("hours", "business"),
        ("visibility", "all"),
        ("active", "on"),
        ("field_key_0", ""),
        ("field_label_0", "Room"),
        ("field_kind_0", "single_choice"),
        ("field_choices_0", "Boardroom\nLab"),
        ("field_required_0", "on"),
        ("field_position_0", "2"),
        ("field_key_1", ""),
        ("field_label_1", "Attendees"),
        ("field_kind_1", "number"),
        ("field_position_1", "1"),
        ("field_key_2", ""),
        ("field_label_2", ""),
        ("field_kind_2", "short_text"),
        ("action", "save"),
    ];
    let r = staff.post_form("/admin/catalog/items", &item).await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap()
    );
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    let id = loc
        .trim_start_matches("/admin/catalog/items/")
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let (_, v) = body(
        staff
            .get(&format!("/api/v1/admin/catalog/items/{id}"))
            .await,
    )
    .await;
    // Reordered by position, the blank row skipped.
    assert_eq!(v["fields"][0]["label"], "Attendees");
    assert_eq!(v["fields"][1]["choices"], json!(["Boardroom", "Lab"]));
    assert_eq!(
        (
            v["first_response_minutes"].clone(),
            v["resolution_minutes"].clone()
        ),
        (json!(120), json!(1440))
    );
    let (_, html) = page(&staff, &loc).await;
    assert!(html.contains("value=\"Attendees\"") && html.contains("Saved."));

    // Remove a question: a new version.
    let edit = [
        ("name", "Meeting room setup"),
        ("category_id", cat.as_str()),
        ("icon", "monitor"),
        ("first_response_amount", "2"),
        ("first_response_unit", "hours"),
        ("resolution_amount", "1"),
        ("resolution_unit", "days"),
        ("hours", "business"),
        ("visibility", "all"),
        ("active", "on"),
        ("field_key_0", "attendees"),
        ("field_label_0", "Attendees"),
        ("field_kind_0", "number"),
        ("field_remove_0", "on"),
        ("field_key_1", "room"),
        ("field_label_1", "Room"),
        ("field_kind_1", "single_choice"),
        ("field_choices_1", "Boardroom\nLab"),
        ("action", "save"),
    ];
    let r = staff
        .post_form(&format!("/admin/catalog/items/{id}"), &edit)
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, v) = body(
        staff
            .get(&format!("/api/v1/admin/catalog/items/{id}"))
            .await,
    )
    .await;
    assert_eq!(v["form_version"], 2);
    assert_eq!(v["fields"].as_array().unwrap().len(), 1);
    // "Add a question" redraws with a blank row and saves nothing.
    let mut add = edit.to_vec();
    add.retain(|(k, _)| *k != "action");
    add.push(("action", "add_field"));
    let r = staff
        .post_form(&format!("/admin/catalog/items/{id}"), &add)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("field_label_1"));
    let (_, v) = body(
        staff
            .get(&format!("/api/v1/admin/catalog/items/{id}"))
            .await,
    )
    .await;
    assert_eq!(v["form_version"], 2);
    // A choice question without choices is refused beside its row, what was typed kept.
    let bad = [
        ("name", "Meeting room setup"),
        ("category_id", cat.as_str()),
        ("icon", "monitor"),
        ("first_response_amount", "2"),
        ("first_response_unit", "hours"),
        ("resolution_amount", "1"),
        ("resolution_unit", "days"),
        ("hours", "business"),
        ("visibility", "all"),
        ("field_key_0", ""),
        ("field_label_0", "Which floor?"),
        ("field_kind_0", "single_choice"),
        ("action", "save"),
    ];
    let r = staff
        .post_form(&format!("/admin/catalog/items/{id}"), &bad)
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = r.text().await.unwrap();
    assert!(html.contains("Enter the choices") && html.contains("value=\"Which floor?\""));
    // Clients have no staff pages.
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    assert_ne!(page(&bob, "/admin/catalog").await.0, StatusCode::OK);
}
crate::db_test!(admin_pages, staff_pages_design_a_form);

async fn requests_are_validated_and_become_tickets(app: TestApp) {
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    let id = item_id(&staff, "New user account").await;

    let (s, html) = page(&bob, "/portal/catalog").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains("New user account")
            && html.contains("First response within 4 business hours")
    );
    let (s, html) = page(&bob, &format!("/portal/catalog/{id}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("Resolved within 2 business days"));
    // The browser mirrors the checks.
    assert!(
        html.contains("type=\"email\"")
            && html.contains("type=\"date\"")
            && html.contains(" required")
    );

    let path = format!("/portal/catalog/{id}");
    let r = bob
        .post_form(
            &path,
            &[
                ("q_full_name", "Dana Whitfield"),
                ("q_start_date", "next monday"),
                ("q_job_title", "Account manager"),
                ("q_manager_email", "not-an-address"),
                ("q_access", "VPN"),
                ("q_access", "CRM"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = r.text().await.unwrap();
    assert!(html.contains("Enter a date as YYYY-MM-DD"), "{html}");
    assert!(html.contains("Enter an email address"));
    assert!(html.contains("role=\"alert\""));
    // Nothing typed is lost.
    for kept in [
        "value=\"Dana Whitfield\"",
        "value=\"next monday\"",
        "value=\"Account manager\"",
        "value=\"not-an-address\"",
    ] {
        assert!(html.contains(kept), "{kept} lost");
    }
    assert!(html.contains("value=\"VPN\" checked") && html.contains("value=\"CRM\" checked"));
    assert!(!html.contains("value=\"Email\" checked"));

    // The API says the same per field.
    let (s, v) = body(
        bob.post_json(
            &format!("/api/v1/catalog/{id}/requests"),
            &json!({"answers": {"full_name": "Dana", "start_date": "2026-02-30", "manager_email": "x", "access": ["Teleport"]}}),
        )
        .await,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let fields: Vec<&str> = v["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["start_date", "manager_email", "access"]);

    let r = bob
        .post_form(
            &path,
            &[
                ("q_full_name", "Dana Whitfield"),
                ("q_start_date", "2027-01-04"),
                ("q_manager_email", "bob@globex.example"),
                ("q_access", "VPN"),
                ("q_laptop", "on"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    assert!(loc.starts_with("/portal/tickets/"));
    let n: i64 = loc
        .trim_start_matches("/portal/tickets/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let (_, html) = page(&bob, &loc).await;
    assert!(html.contains("Request details: New user account"));
    for shown in [
        "Dana Whitfield",
        "2027-01-04",
        "bob@globex.example",
        "Also needs a laptop",
        "Yes",
        "Not answered",
    ] {
        assert!(html.contains(shown), "{shown} not on the ticket");
    }
    // The item's SLA, not the priority's: 4 business hours (at least 4 h, at most over a weekend).
    let (created, first, resolution) = ticket_times(&app, n).await;
    assert!(
        first - created >= 4 * 3_600_000 && first - created <= 4 * 86_400_000,
        "{created} {first}"
    );
    assert!(resolution > first);
    // Staff were told by email job in the same transaction.
    let jobs: i64 = sqlx::query("SELECT COUNT(*) FROM jobs j JOIN tenants t ON t.id = j.tenant_id WHERE t.slug = 'acme' AND j.payload LIKE '%New user account%'")
        .fetch_one(app.state.db.operator("test").reader())
        .await
        .map(|r| r.get::<i64, _>(0))
        .unwrap_or(0);
    assert!(jobs > 0, "no email job for the new ticket");

    // Around the clock: exactly the minutes.
    let reset = item_id(&staff, "Password or MFA reset").await;
    let (s, v) = body(
        bob.post_json(
            &format!("/api/v1/catalog/{reset}/requests"),
            &json!({"answers": {"account": "VPN", "phone": "+1 555 0199"}}),
        )
        .await,
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (created, first, resolution) = ticket_times(&app, v["number"].as_i64().unwrap()).await;
    assert_eq!(
        (first - created, resolution - created),
        (30 * 60_000, 240 * 60_000)
    );
    let (_, html) = page(&bob, &format!("/portal/catalog/{reset}")).await;
    assert!(html.contains("First response within 30 minutes, around the clock"));
}
crate::db_test!(submit_requests, requests_are_validated_and_become_tickets);

async fn viewers_browse_but_cannot_request(app: TestApp) {
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let vera = app.api_login("acme", "vera@globex.example", "portal").await;
    let id = item_id(&staff, "VPN access").await;
    let (s, html) = page(&vera, &format!("/portal/catalog/{id}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(!html.contains("catalog-submit") && html.contains("catalog-read-only"));
    let r = vera
        .post_form(
            &format!("/portal/catalog/{id}"),
            &[
                ("q_user_email", "vera@globex.example"),
                ("q_device", "Company laptop"),
                ("q_policy", "on"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = vera
        .post_json(
            &format!("/api/v1/catalog/{id}/requests"),
            &json!({"answers": {"user_email": "vera@globex.example", "device": "Company laptop", "policy": true}}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let n: i64 = sqlx::query(
        "SELECT COUNT(*) FROM catalog_requests r JOIN tenants t ON t.id = r.tenant_id WHERE t.slug = 'acme'",
    )
        .fetch_one(app.state.db.operator("test").reader())
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 1, "only the demo request exists");
}
crate::db_test!(viewer_forbidden, viewers_browse_but_cannot_request);

async fn restricted_items_stay_with_their_company(app: TestApp) {
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let alice = app
        .api_login("acme", "alice@globex.example", "portal")
        .await;
    let ian = app.api_login("acme", "ian@initech.example", "portal").await;
    let erp = item_id(&staff, "Initech ERP access").await;

    // Initech sees and finds it.
    assert_eq!(
        page(&ian, &format!("/portal/catalog/{erp}")).await.0,
        StatusCode::OK
    );
    let (_, v) = body(ian.get("/api/v1/catalog?q=erp").await).await;
    assert_eq!(v["items"][0]["name"], "Initech ERP access");
    assert!(
        page(&ian, "/portal/catalog?q=ERP")
            .await
            .1
            .contains("Initech ERP access")
    );

    // Globex does not: page, API, submit, list, search, category counts.
    assert_eq!(
        page(&alice, &format!("/portal/catalog/{erp}")).await.0,
        StatusCode::NOT_FOUND
    );
    let r = alice.get(&format!("/api/v1/catalog/{erp}")).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(!r.text().await.unwrap().contains("Initech"));
    let r = alice
        .post_json(
            &format!("/api/v1/catalog/{erp}/requests"),
            &json!({"answers": {"user_email": "alice@globex.example", "role": "Viewer", "cost_centre": 1200}}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = alice
        .post_form(
            &format!("/portal/catalog/{erp}"),
            &[
                ("q_user_email", "alice@globex.example"),
                ("q_role", "Viewer"),
                ("q_cost_centre", "1200"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    for path in [
        "/portal/catalog",
        "/portal/catalog?q=erp",
        "/portal/catalog?q=Initech",
    ] {
        let (s, html) = page(&alice, path).await;
        assert_eq!(s, StatusCode::OK);
        assert!(!html.contains("Initech ERP"), "{path} leaks");
    }
    let (_, all) = body(alice.get("/api/v1/catalog?limit=100").await).await;
    let names: Vec<&str> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 12, "{names:?}");
    assert!(!names.contains(&"Initech ERP access"));
    let (_, found) = body(alice.get("/api/v1/catalog?q=ERP").await).await;
    assert_eq!(found["items"].as_array().unwrap().len(), 0);
    let access = all["categories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "Accounts & Access")
        .unwrap()["item_count"]
        .clone();
    assert_eq!(access, 3);
    // Paging with a cursor walks the rest without repeats.
    let (_, p1) = body(alice.get("/api/v1/catalog?limit=5").await).await;
    let cursor = p1["next_cursor"].as_str().unwrap();
    let (_, p2) = body(
        alice
            .get(&format!("/api/v1/catalog?limit=5&cursor={cursor}"))
            .await,
    )
    .await;
    assert_ne!(p1["items"][0]["id"], p2["items"][0]["id"]);
    assert!(p2["items"][0]["name"].as_str().unwrap() > p1["items"][4]["name"].as_str().unwrap());
    // Staff see everything, and the restriction.
    let (_, v) = body(
        staff
            .get(&format!("/api/v1/admin/catalog/items/{erp}"))
            .await,
    )
    .await;
    assert_eq!(v["visibility"], "companies");
    assert_eq!(
        v["companies"],
        json!([app.company_id("acme", "Initech").await])
    );
}
crate::db_test!(restricted_items, restricted_items_stay_with_their_company);

async fn another_tenants_catalog_is_out_of_reach(app: TestApp) {
    // Grace is a Mission tenant: a catalog row of its own stands in for any other tenant's.
    let op = app.state.db.operator("test");
    for sql in [
        "INSERT INTO catalog_categories (id, tenant_id, name, position, created_at, updated_at) \
         SELECT 'grace-cat', id, 'Choir gear', 1, 0, 0 FROM tenants WHERE slug = 'grace'",
        "INSERT INTO catalog_items (id, tenant_id, category_id, name, description, description_html, icon, \
         first_response_minutes, resolution_minutes, hours, price, visibility, active, form_version, created_at, updated_at) \
         SELECT 'grace-item', id, 'grace-cat', 'Choir robes', 'Robes', '<p>Robes</p>', 'box', 60, 120, '24x7', NULL, 'all', 1, 1, 0, 0 \
         FROM tenants WHERE slug = 'grace'",
        "INSERT INTO catalog_form_versions (tenant_id, item_id, version, fields, created_by, created_at) \
         SELECT id, 'grace-item', 1, '[]', NULL, 0 FROM tenants WHERE slug = 'grace'",
    ] {
        sqlx::query(sql).execute(op.writer()).await.unwrap();
    }
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let alice = app
        .api_login("acme", "alice@globex.example", "portal")
        .await;
    for r in [
        staff.get("/api/v1/admin/catalog/items/grace-item").await,
        staff
            .put_json(
                "/api/v1/admin/catalog/items/grace-item",
                &laptop_body("grace-cat", json!([])),
            )
            .await,
        staff
            .patch_json(
                "/api/v1/admin/catalog/categories/grace-cat",
                &json!({"name": "Taken"}),
            )
            .await,
        alice.get("/api/v1/catalog/grace-item").await,
        alice
            .post_json(
                "/api/v1/catalog/grace-item/requests",
                &json!({"answers": {}}),
            )
            .await,
        alice.get("/portal/catalog/grace-item").await,
        staff.get("/admin/catalog/items/grace-item").await,
        staff
            .post_form("/admin/catalog/categories/grace-cat/delete", &[])
            .await,
    ] {
        let url = r.url().to_string();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{url}");
        assert!(!r.text().await.unwrap().contains("Choir"), "{url} leaks");
    }
    // Creating an item in another tenant's category is refused as an unknown category.
    let (s, _) = body(
        staff
            .post_json(
                "/api/v1/admin/catalog/items",
                &laptop_body("grace-cat", json!([])),
            )
            .await,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    for (who, path) in [
        (&staff, "/api/v1/admin/catalog/items?q=robes"),
        (&staff, "/api/v1/admin/catalog/categories"),
        (&alice, "/api/v1/catalog?q=robes"),
        (&staff, "/admin/catalog"),
        (&alice, "/portal/catalog?q=robes"),
    ] {
        let (_, text) = page(who, path).await;
        assert!(!text.contains("Choir"), "{path} leaks");
    }
    // Another MSP (Northwind) has a catalog of its own and cannot reach acme's.
    let acme_item = item_id(&staff, "Initech ERP access").await;
    let nora = app
        .api_login("northwind", "nora@northwind.example", "admin")
        .await;
    let carl = app
        .api_login("northwind", "carl@contoso.example", "portal")
        .await;
    for r in [
        nora.get(&format!("/api/v1/admin/catalog/items/{acme_item}"))
            .await,
        nora.get(&format!("/admin/catalog/items/{acme_item}")).await,
        carl.get(&format!("/api/v1/catalog/{acme_item}")).await,
        carl.get(&format!("/portal/catalog/{acme_item}")).await,
        carl.post_json(
            &format!("/api/v1/catalog/{acme_item}/requests"),
            &json!({"answers": {}}),
        )
        .await,
    ] {
        let url = r.url().to_string();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{url}");
        assert!(!r.text().await.unwrap().contains("Initech"), "{url} leaks");
    }
    let (_, theirs) = body(carl.get("/api/v1/catalog?limit=100&q=erp").await).await;
    assert_eq!(theirs["items"].as_array().unwrap().len(), 0, "{theirs}");
    let (_, all) = body(nora.get("/api/v1/admin/catalog/items?limit=100").await).await;
    assert!(!all.to_string().contains("Initech"));
    // The Mission tenant itself has no catalog.
    let pastor = app
        .api_login("grace", "pastor@grace.example", "admin")
        .await;
    assert_eq!(
        pastor.get("/api/v1/admin/catalog/items").await.status(),
        StatusCode::NOT_FOUND
    );
}
crate::db_test!(cross_tenant, another_tenants_catalog_is_out_of_reach);

async fn demo_ticket_shows_its_request(app: TestApp) {
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    let n: i64 = sqlx::query(
        "SELECT k.number FROM tickets k JOIN tenants t ON t.id = k.tenant_id \
         WHERE t.slug = 'acme' AND k.subject = 'New starter laptop for Monday'",
    )
    .fetch_one(app.state.db.operator("test").reader())
    .await
    .unwrap()
    .get(0);
    let (s, html) = page(&bob, &format!("/portal/tickets/{n}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("Request details: New laptop") && html.contains("Dock, Headset"));
    // Seeding again adds nothing.
    portico::demo::seed(&app.state.db).await.unwrap();
    let count: i64 = sqlx::query(
        "SELECT COUNT(*) FROM catalog_items i JOIN tenants t ON t.id = i.tenant_id WHERE t.slug = 'acme'",
    )
        .fetch_one(app.state.db.operator("test").reader())
        .await
        .unwrap()
        .get(0);
    assert_eq!(count, 13);
}
crate::db_test!(demo_request, demo_ticket_shows_its_request);

async fn concurrent_form_edits_each_get_a_version(app: TestApp) {
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let tech = app.api_login("acme", "tech@acme.example", "admin").await;
    let id = item_id(&staff, "Shared mailbox").await;
    let (_, item) = body(
        staff
            .get(&format!("/api/v1/admin/catalog/items/{id}"))
            .await,
    )
    .await;
    let put = |label: &str| {
        let mut b = json!({
            "category_id": item["category_id"], "name": item["name"], "description": item["description"],
            "icon": item["icon"], "first_response_minutes": item["first_response_minutes"],
            "resolution_minutes": item["resolution_minutes"], "hours": item["hours"], "price": item["price"],
            "visibility": item["visibility"], "active": true, "fields": item["fields"],
        });
        b["fields"][0]["label"] = json!(label);
        b
    };
    let path = format!("/api/v1/admin/catalog/items/{id}");
    let (body_a, body_b) = (put("Mailbox name (A)"), put("Mailbox name (B)"));
    let (a, b) = tokio::join!(
        staff.put_json(&path, &body_a),
        tech.put_json(&path, &body_b)
    );
    assert_eq!((a.status(), b.status()), (StatusCode::OK, StatusCode::OK));
    let versions: Vec<i64> = sqlx::query(
        "SELECT version FROM catalog_form_versions WHERE item_id = $1 ORDER BY version",
    )
    .bind(&id)
    .fetch_all(app.state.db.operator("test").reader())
    .await
    .unwrap()
    .iter()
    .map(|r| r.get(0))
    .collect();
    assert_eq!(versions, [1, 2, 3], "each edit its own version, none lost");
    let (_, now) = body(staff.get(&path).await).await;
    assert_eq!(now["form_version"], 3);
}
crate::db_test!(concurrent_edits, concurrent_form_edits_each_get_a_version);
