//! Mission groups: joining open and closed groups, leaving, leaders deciding requests and posting
//! messages; a member list and messages only for members; only leaders decide; staff CRUD with
//! audit rows; grace groups never reach acme.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{Session, TestApp};

async fn json_of(r: reqwest::Response) -> Value {
    r.json().await.unwrap_or(Value::Null)
}

/// The id of the group called `name`, as `s` sees it.
async fn group_named(s: &Session, name: &str) -> String {
    let v = json_of(s.get("/api/v1/mission/groups").await).await;
    v["items"]
        .as_array()
        .and_then(|a| a.iter().find(|g| g["name"] == name))
        .and_then(|g| g["id"].as_str())
        .unwrap_or_else(|| panic!("no group {name} in {v}"))
        .to_string()
}

async fn delete(s: &Session, path: &str) -> reqwest::Response {
    s.client
        .delete(format!("{}{path}", s.base))
        .header("x-csrf-token", &s.csrf)
        .send()
        .await
        .expect("delete")
}

/// Mark joins an open group at once, asks to join a closed one, a member who is not a leader
/// cannot decide, the leader approves and declines, posts a message that reaches members'
/// dashboards, and Mark leaves.
async fn join_leave_and_leaders(app: TestApp) {
    let mary = app.api_login("grace", "mary@grace.example", "portal").await;
    let mark = app.api_login("grace", "mark@grace.example", "portal").await;
    let esther = app
        .api_login("grace", "esther@grace.example", "portal")
        .await;
    let mark_id = app.user_id("grace", "mark@grace.example").await;
    let lucia_id = app.user_id("grace", "lucia@grace.example").await;

    // Mary is in two demo groups.
    let mine = json_of(mary.get("/api/v1/mission/groups?mine=true").await).await;
    assert_eq!(mine["items"].as_array().map(Vec::len), Some(2), "{mine}");
    // Filters: by day and location.
    let sat = json_of(mary.get("/api/v1/mission/groups?day=saturday").await).await;
    assert_eq!(sat["items"].as_array().map(Vec::len), Some(2), "{sat}");
    let diner = json_of(mary.get("/api/v1/mission/groups?location=diner").await).await;
    assert_eq!(diner["items"][0]["name"], "Men's Breakfast", "{diner}");
    let cat = sat["items"][0]["category_id"].as_str().unwrap_or_default();
    let by_cat = json_of(
        mary.get(&format!("/api/v1/mission/groups?category={cat}"))
            .await,
    )
    .await;
    assert!(
        by_cat["items"]
            .as_array()
            .is_some_and(|a| a.iter().all(|g| g["category_id"] == cat)),
        "{by_cat}"
    );

    let bible = group_named(&mark, "Tuesday Evening Bible Study").await;
    let women = group_named(&mark, "Women's Prayer Breakfast").await;

    // A non-member sees the group but neither its members nor its messages.
    let d = json_of(mark.get(&format!("/api/v1/mission/groups/{bible}")).await).await;
    assert_eq!(d["group"]["members"], 4, "{d}");
    assert_eq!(d["members"], json!([]), "{d}");
    assert_eq!(d["messages"], json!([]), "{d}");
    let page = mark
        .get(&format!("/portal/mission/groups/{bible}"))
        .await
        .text()
        .await
        .unwrap_or_default();
    assert!(!page.contains("group-members"), "{page}");
    assert!(!page.contains("the parables"), "{page}");

    // Open group: joined at once; now the member list and messages show.
    let r = mark
        .post_json(
            &format!("/api/v1/mission/groups/{bible}/membership"),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(json_of(r).await["status"], "active");
    let again = mark
        .post_json(
            &format!("/api/v1/mission/groups/{bible}/membership"),
            &json!({}),
        )
        .await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    let d = json_of(mark.get(&format!("/api/v1/mission/groups/{bible}")).await).await;
    assert_eq!(d["group"]["my_status"], "active");
    assert!(d["members"].as_array().is_some_and(|a| a.len() == 5), "{d}");
    assert!(
        d["messages"][0]["body"]
            .as_str()
            .is_some_and(|b| b.contains("parables"))
    );
    // A plain member sees no requests and cannot post.
    assert_eq!(d["requests"], json!([]));

    // Closed group through the page form: the request waits.
    let r = mark
        .post_form(&format!("/portal/mission/groups/{women}/join"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let d = json_of(mark.get(&format!("/api/v1/mission/groups/{women}")).await).await;
    assert_eq!(d["group"]["my_status"], "pending", "{d}");
    assert_eq!(
        d["members"],
        json!([]),
        "a pending member sees no list: {d}"
    );
    assert_eq!(d["messages"], json!([]));

    // Mary belongs to the group but does not lead it: no requests, no deciding, no posting.
    let d = json_of(mary.get(&format!("/api/v1/mission/groups/{women}")).await).await;
    assert_eq!(d["requests"], json!([]), "{d}");
    let r = mary
        .post_json(
            &format!("/api/v1/mission/groups/{women}/requests/{mark_id}"),
            &json!({ "approve": true }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = mary
        .post_form(
            &format!("/portal/mission/groups/{women}/requests/{mark_id}"),
            &[("decision", "approve")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = mary
        .post_json(
            &format!("/api/v1/mission/groups/{women}/messages"),
            &json!({ "body": "Hello" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // A non-member learns nothing at all.
    let r = mark
        .post_json(
            &format!("/api/v1/mission/groups/{women}/requests/{lucia_id}"),
            &json!({ "approve": true }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let d = json_of(mark.get(&format!("/api/v1/mission/groups/{women}")).await).await;
    assert_eq!(d["group"]["my_status"], "pending", "{d}");

    // The leader sees both requests, approves Mark and declines Lucia.
    let d = json_of(esther.get(&format!("/api/v1/mission/groups/{women}")).await).await;
    let asked: Vec<&str> = d["requests"]
        .as_array()
        .map(|a| a.iter().filter_map(|r| r["user_id"].as_str()).collect())
        .unwrap_or_default();
    assert!(
        asked.contains(&mark_id.as_str()) && asked.contains(&lucia_id.as_str()),
        "{d}"
    );
    let r = esther
        .post_form(
            &format!("/portal/mission/groups/{women}/requests/{mark_id}"),
            &[("decision", "approve")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = esther
        .post_json(
            &format!("/api/v1/mission/groups/{women}/requests/{lucia_id}"),
            &json!({ "approve": false }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let d = json_of(esther.get(&format!("/api/v1/mission/groups/{women}")).await).await;
    assert_eq!(d["requests"], json!([]), "{d}");
    let d = json_of(mark.get(&format!("/api/v1/mission/groups/{women}")).await).await;
    assert_eq!(d["group"]["my_status"], "active", "{d}");

    // The leader's message reaches the members' dashboards.
    let r = esther
        .post_form(
            &format!("/portal/mission/groups/{women}/messages"),
            &[("body", "Welcome, Mark! Bring a friend on Saturday.")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let empty = esther
        .post_form(
            &format!("/portal/mission/groups/{women}/messages"),
            &[("body", "  ")],
        )
        .await;
    assert_eq!(empty.status(), StatusCode::BAD_REQUEST);
    let dash = mary
        .get("/portal/mission/dashboard")
        .await
        .text()
        .await
        .unwrap_or_default();
    assert!(dash.contains("Welcome, Mark!"), "{dash}");
    let lucia = app
        .api_login("grace", "lucia@grace.example", "portal")
        .await;
    let dash = lucia
        .get("/portal/mission/dashboard")
        .await
        .text()
        .await
        .unwrap_or_default();
    assert!(!dash.contains("Welcome, Mark!"), "{dash}");

    // Mark leaves the Bible study through the page.
    let r = mark
        .post_form(&format!("/portal/mission/groups/{bible}/leave"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let d = json_of(mark.get(&format!("/api/v1/mission/groups/{bible}")).await).await;
    assert!(d["group"]["my_status"].is_null(), "{d}");
    assert_eq!(d["members"], json!([]));
    let r = delete(&mark, &format!("/api/v1/mission/groups/{bible}/membership")).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // The pages render.
    for p in [
        "/portal/mission/groups",
        "/portal/mission/groups?day=tuesday&location=room",
    ] {
        let r = mark.get(p).await;
        assert_eq!(r.status(), StatusCode::OK, "{p}");
    }

    let audit = app.audit_actions("grace").await;
    for a in [
        "mission.group_joined",
        "mission.group_join_requested",
        "mission.group_request_approved",
        "mission.group_request_declined",
        "mission.group_message_posted",
        "mission.group_left",
    ] {
        assert!(audit.iter().any(|x| x == a), "{a} in {audit:?}");
    }
}
crate::db_test!(mission_groups_membership, join_leave_and_leaders);

/// Staff manage categories, groups and leaders with audit rows; members and acme get nothing.
async fn staff_and_isolation(app: TestApp) {
    let pastor = app
        .api_login("grace", "pastor@grace.example", "admin")
        .await;
    let mary = app.api_login("grace", "mary@grace.example", "portal").await;
    let mary_id = app.user_id("grace", "mary@grace.example").await;

    let r = pastor.get("/admin/mission/groups").await;
    assert_eq!(r.status(), StatusCode::OK);
    let page = r.text().await.unwrap_or_default();
    assert!(page.contains("Young Adults"), "{page}");

    let r = pastor
        .post_form(
            "/admin/mission/group-categories",
            &[("category", "Seniors")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let dup = pastor
        .post_form(
            "/admin/mission/group-categories",
            &[("category", "Seniors")],
        )
        .await;
    assert_eq!(dup.status(), StatusCode::BAD_REQUEST);
    let cats = json_of(pastor.get("/api/v1/admin/mission/group-categories").await).await;
    let seniors = cats["items"]
        .as_array()
        .and_then(|a| a.iter().find(|c| c["name"] == "Seniors"))
        .and_then(|c| c["id"].as_str())
        .unwrap_or_default()
        .to_string();
    assert!(!seniors.is_empty(), "{cats}");

    let r = pastor
        .post_form(
            "/admin/mission/groups",
            &[
                ("name", "Golden Years"),
                ("category_id", &seniors),
                ("meeting_day", "monday"),
                ("meeting_time", "10:00"),
                ("location", "Library"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let bad = pastor
        .post_form(
            "/admin/mission/groups",
            &[("name", ""), ("meeting_day", "funday")],
        )
        .await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let id = group_named(&mary, "Golden Years").await;
    let g = json_of(
        pastor
            .get(&format!("/api/v1/admin/mission/groups/{id}"))
            .await,
    )
    .await;
    assert_eq!(g["group"]["open"], false, "{g}");
    assert_eq!(g["group"]["category"], "Seniors");

    // Mary is named leader; she then approves a request herself.
    let r = pastor
        .post_form(
            &format!("/admin/mission/groups/{id}/leaders"),
            &[("user_id", &mary_id), ("leader", "1")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = pastor.get(&format!("/admin/mission/groups/{id}")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let d = json_of(mary.get(&format!("/api/v1/mission/groups/{id}")).await).await;
    assert_eq!(d["group"]["my_role"], "leader", "{d}");
    let john = app.api_login("grace", "john@grace.example", "portal").await;
    let john_id = app.user_id("grace", "john@grace.example").await;
    let r = john
        .post_json(
            &format!("/api/v1/mission/groups/{id}/membership"),
            &json!({}),
        )
        .await;
    assert_eq!(json_of(r).await["status"], "pending");
    let r = mary
        .post_json(
            &format!("/api/v1/mission/groups/{id}/requests/{john_id}"),
            &json!({ "approve": true }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    // The only leader may not walk away from members.
    let r = delete(&mary, &format!("/api/v1/mission/groups/{id}/membership")).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);

    let r = pastor
        .put_json(
            &format!("/api/v1/admin/mission/groups/{id}"),
            &json!({ "name": "Golden Years Club", "open": true, "meeting_day": "monday" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(json_of(r).await["group"]["name"], "Golden Years Club");

    // Members never reach staff routes.
    for p in [
        "/admin/mission/groups".to_string(),
        format!("/api/v1/admin/mission/groups/{id}"),
    ] {
        let r = mary.get(&p).await;
        assert!(
            matches!(
                r.status(),
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::SEE_OTHER
            ),
            "{p}: {}",
            r.status()
        );
    }
    let r = mary
        .post_form(&format!("/admin/mission/groups/{id}/delete"), &[])
        .await;
    assert!(
        matches!(
            r.status(),
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::SEE_OTHER
        ),
        "{}",
        r.status()
    );

    // Acme never sees grace groups.
    let acme_staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let alice = app
        .api_login("acme", "alice@globex.example", "portal")
        .await;
    for (s, p) in [
        (&alice, "/api/v1/mission/groups".to_string()),
        (&alice, format!("/api/v1/mission/groups/{id}")),
        (&alice, format!("/portal/mission/groups/{id}")),
        (&acme_staff, "/api/v1/admin/mission/groups".to_string()),
        (&acme_staff, format!("/api/v1/admin/mission/groups/{id}")),
        (&acme_staff, format!("/admin/mission/groups/{id}")),
    ] {
        let r = s.get(&p).await;
        let status = r.status();
        let body = r.text().await.unwrap_or_default();
        assert!(!body.contains("Golden Years"), "{p}: {body}");
        assert!(!body.contains("Young Adults"), "{p}: {body}");
        // A list may answer (empty) where a role holds the permission; a grace id never does.
        assert!(
            p.ends_with("/groups")
                || matches!(status, StatusCode::NOT_FOUND | StatusCode::FORBIDDEN),
            "{p}: {status}"
        );
    }
    let r = alice
        .post_json(
            &format!("/api/v1/mission/groups/{id}/membership"),
            &json!({}),
        )
        .await;
    assert!(
        matches!(r.status(), StatusCode::NOT_FOUND | StatusCode::FORBIDDEN),
        "{}",
        r.status()
    );
    let r = delete(&acme_staff, &format!("/api/v1/admin/mission/groups/{id}")).await;
    assert!(
        matches!(r.status(), StatusCode::NOT_FOUND | StatusCode::FORBIDDEN),
        "{}",
        r.status()
    );

    // Staff delete the category (the group stays, uncategorised) and then the group.
    let r = pastor
        .post_form(
            &format!("/admin/mission/group-categories/{seniors}/delete"),
            &[],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let g = json_of(
        pastor
            .get(&format!("/api/v1/admin/mission/groups/{id}"))
            .await,
    )
    .await;
    assert!(g["group"]["category_id"].is_null(), "{g}");
    let r = pastor
        .post_form(&format!("/admin/mission/groups/{id}/delete"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = mary.get(&format!("/api/v1/mission/groups/{id}")).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    let audit = app.audit_actions("grace").await;
    for a in [
        "mission.group_category_created",
        "mission.group_created",
        "mission.group_leader_added",
        "mission.group_changed",
        "mission.group_category_deleted",
        "mission.group_deleted",
    ] {
        assert!(audit.iter().any(|x| x == a), "{a} in {audit:?}");
    }
}
crate::db_test!(mission_groups_staff, staff_and_isolation);
