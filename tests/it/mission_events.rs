//! Mission events: registration, waitlist and promotion (email, live event, audit), no
//! overbooking under concurrent registrations, `.ics` and the calendar feed, staff pages, and
//! privacy and isolation (another member's registration, another tenant, lower roles).

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{Session, TestApp};

async fn json_of(r: reqwest::Response) -> Value {
    r.json().await.unwrap_or(Value::Null)
}

/// The demo event called `title`, as `s` sees it in the upcoming list.
async fn event_named(s: &Session, title: &str) -> Value {
    let v = json_of(s.get("/api/v1/mission/events").await).await;
    v["items"]
        .as_array()
        .and_then(|a| a.iter().find(|e| e["title"] == title).cloned())
        .unwrap_or_else(|| panic!("no event {title} in {v}"))
}

/// Waits for the next `mission.registration` event on an SSE stream.
async fn next_registration_event(resp: &mut reqwest::Response, within: Duration) -> Option<Value> {
    let deadline = tokio::time::Instant::now() + within;
    let mut buf = String::new();
    loop {
        while let Some(end) = buf.find("\n\n") {
            let block: String = buf[..end].to_string();
            buf.drain(..end + 2);
            if block.contains("event: mission.registration") {
                let data = block
                    .lines()
                    .find_map(|l| l.strip_prefix("data:"))
                    .unwrap_or("null");
                return serde_json::from_str(data.trim()).ok();
            }
        }
        match tokio::time::timeout_at(deadline, resp.chunk()).await {
            Ok(Ok(Some(b))) => buf.push_str(&String::from_utf8_lossy(&b)),
            _ => return None,
        }
    }
}

/// Mary joins the full dinner's waitlist; when John cancels, the waitlist moves up in order
/// (Samuel first, then Mary), Mary gets an email and a live event, and it is all audited.
async fn waitlist_promotes_on_cancel(app: TestApp) {
    let mary = app.api_login("grace", "mary@grace.example", "portal").await;
    let john = app.api_login("grace", "john@grace.example", "portal").await;
    let dinner = event_named(&mary, "Marriage Enrichment Dinner").await;
    let id = dinner["id"].as_str().unwrap_or_default().to_string();
    assert_eq!(dinner["seats_left"], 0, "{dinner}");
    assert_eq!(dinner["waiting"], 1);

    let r = mary
        .post_json(
            &format!("/api/v1/mission/events/{id}/registration"),
            &json!({ "answers": ["No nuts, please"] }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let reg = json_of(r).await;
    assert_eq!(reg["status"], "waitlisted", "{reg}");
    // A second registration of the same member is refused.
    let again = mary
        .post_json(
            &format!("/api/v1/mission/events/{id}/registration"),
            &json!({}),
        )
        .await;
    assert_eq!(again.status(), StatusCode::CONFLICT);

    // Mary's open stream hears about her promotion.
    let mut stream = mary.get("/api/v1/events").await;
    assert_eq!(stream.status(), StatusCode::OK);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let mut greeting = String::new();
    while !greeting.contains("connected") {
        match tokio::time::timeout_at(deadline, stream.chunk()).await {
            Ok(Ok(Some(b))) => greeting.push_str(&String::from_utf8_lossy(&b)),
            _ => panic!("stream did not connect"),
        }
    }

    let r = john
        .client
        .delete(format!(
            "{}/api/v1/mission/events/{id}/registration",
            john.base
        ))
        .header("x-csrf-token", &john.csrf)
        .send()
        .await
        .expect("cancel");
    assert_eq!(r.status(), StatusCode::OK);
    let v = json_of(r).await;
    assert_eq!(
        v["promoted"], 2,
        "John's two seats move Samuel and Mary up: {v}"
    );

    let ev = next_registration_event(&mut stream, Duration::from_secs(5))
        .await
        .expect("Mary receives the live event");
    assert_eq!(ev["object_id"], id.as_str());

    let d = json_of(mary.get(&format!("/api/v1/mission/events/{id}")).await).await;
    assert_eq!(d["my_registration"]["status"], "registered", "{d}");
    assert_eq!(d["event"]["seats_left"], 0);
    assert_eq!(d["event"]["waiting"], 0);
    let page = mary
        .get(&format!("/portal/mission/events/{id}"))
        .await
        .text()
        .await
        .unwrap_or_default();
    assert!(page.contains("data-status=\"registered\""), "{page}");

    let mail = app.last_mail_to("mary@grace.example").await;
    assert!(mail.contains("Marriage Enrichment Dinner"), "{mail}");
    assert!(mail.contains("/portal/mission/events/"), "{mail}");

    let audit = app.audit_actions("grace").await;
    for a in [
        "mission.event_registered",
        "mission.registration_cancelled",
        "mission.registration_promoted",
    ] {
        assert!(audit.iter().any(|x| x == a), "{a} in {audit:?}");
    }
    // Mary cancels her own, and the page says so.
    let r = mary
        .post_form(&format!("/portal/mission/events/{id}/cancel"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let d = json_of(mary.get(&format!("/api/v1/mission/events/{id}")).await).await;
    assert!(d["my_registration"].is_null(), "{d}");
}
crate::db_test!(mission_events_waitlist, waitlist_promotes_on_cancel);

/// Many members registering at once for the last seats never overbook: exactly `capacity`
/// seats are confirmed, the rest wait (or are refused without a waitlist).
async fn concurrent_registrations_never_overbook(app: TestApp) {
    let pastor = app
        .api_login("grace", "pastor@grace.example", "admin")
        .await;
    let start = portico::db::now_ms() + 5 * 86_400_000;
    let mut ids = Vec::new();
    for waitlist in [true, false] {
        let r = pastor
            .post_json(
                "/api/v1/admin/mission/events",
                &json!({
                    "title": format!("Lunch for three (waitlist {waitlist})"),
                    "place": "Hall",
                    "starts_at": start,
                    "ends_at": start + 3_600_000,
                    "capacity": 3,
                    "waitlist": waitlist,
                }),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        ids.push(
            json_of(r).await["id"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        );
    }
    let emails = [
        "mary@grace.example",
        "mark@grace.example",
        "john@grace.example",
        "daniel@grace.example",
        "lucia@grace.example",
        "emeka@grace.example",
        "ingrid@grace.example",
        "nils@grace.example",
    ];
    let mut sessions = Vec::new();
    for e in emails {
        sessions.push(app.api_login("grace", e, "portal").await);
    }
    for (k, id) in ids.iter().enumerate() {
        let path = format!("/api/v1/mission/events/{id}/registration");
        let body = json!({});
        let results =
            futures::future::join_all(sessions.iter().map(|s| s.post_json(&path, &body))).await;
        let mut registered = 0;
        let mut waitlisted = 0;
        let mut refused = 0;
        for r in results {
            match r.status() {
                StatusCode::CREATED => match json_of(r).await["status"].as_str() {
                    Some("registered") => registered += 1,
                    Some("waitlisted") => waitlisted += 1,
                    other => panic!("unexpected status {other:?}"),
                },
                StatusCode::CONFLICT => refused += 1,
                other => panic!("unexpected response {other}"),
            }
        }
        assert_eq!(registered, 3, "exactly the capacity is confirmed");
        if k == 0 {
            assert_eq!((waitlisted, refused), (5, 0));
        } else {
            assert_eq!((waitlisted, refused), (0, 5));
        }
        let e = json_of(
            pastor
                .get(&format!("/api/v1/admin/mission/events/{id}"))
                .await,
        )
        .await;
        assert_eq!(e["taken"], 3, "{e}");
        assert_eq!(e["seats_left"], 0);
    }
    // More seats promote the waitlist at once (and that is audited as the staff change).
    let id = &ids[0];
    let r = pastor
        .put_json(
            &format!("/api/v1/admin/mission/events/{id}"),
            &json!({
                "title": "Lunch for five",
                "place": "Hall",
                "starts_at": start,
                "ends_at": start + 3_600_000,
                "capacity": 5,
                "waitlist": true,
            }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let e = json_of(r).await;
    assert_eq!(
        (e["taken"].as_i64(), e["waiting"].as_i64()),
        (Some(5), Some(3)),
        "{e}"
    );
    let audit = app.audit_actions("grace").await;
    assert!(audit.iter().any(|a| a == "mission.event_created"));
    assert!(audit.iter().any(|a| a == "mission.event_changed"));
}
crate::db_test!(
    mission_events_concurrency,
    concurrent_registrations_never_overbook
);

/// `.ics` per event, the secret calendar feed (reset revokes the old link), member pages and
/// the staff pages (registrations, CSV, check-in).
async fn calendar_and_pages(app: TestApp) {
    let mary = app.api_login("grace", "mary@grace.example", "portal").await;
    let potluck = event_named(&mary, "Sunday Worship & Potluck").await;
    let id = potluck["id"].as_str().unwrap_or_default().to_string();
    assert_eq!(potluck["my_status"], "registered");

    let r = mary
        .get(&format!("/portal/mission/events/{id}/event.ics"))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap_or("")
            .starts_with("text/calendar")
    );
    let ics = r.text().await.unwrap_or_default();
    assert!(ics.starts_with("BEGIN:VCALENDAR\r\n"), "{ics}");
    assert!(ics.contains("SUMMARY:Sunday Worship & Potluck"));
    assert!(ics.contains("STATUS:CONFIRMED"));

    let feed = json_of(
        mary.post_json("/api/v1/mission/calendar-feed", &json!({}))
            .await,
    )
    .await;
    let url = feed["url"].as_str().unwrap_or_default().to_string();
    let path = &url[url.find("/mission/calendar/").unwrap_or(0)..];
    let anon = app.client();
    let r = anon.get(app.url(path)).send().await.expect("feed");
    assert_eq!(r.status(), StatusCode::OK);
    let body = r.text().await.unwrap_or_default();
    assert!(body.contains("Sunday Worship & Potluck"), "{body}");
    assert!(
        !body.contains("Marriage Enrichment Dinner"),
        "only Mary's events"
    );
    // Reset: the old link stops working.
    let r = mary.post_form("/portal/mission/events/feed", &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.text()
            .await
            .unwrap_or_default()
            .contains("/mission/calendar/")
    );
    let r = anon.get(app.url(path)).send().await.expect("feed");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    for p in [
        "/portal/mission/events".to_string(),
        "/portal/mission/events?view=month".to_string(),
        format!("/portal/mission/events/{id}"),
    ] {
        let r = mary.get(&p).await;
        assert_eq!(r.status(), StatusCode::OK, "{p}");
        let html = r.text().await.unwrap_or_default();
        assert!(html.contains("Sunday Worship"), "{p}");
    }
    // Validation: a required question left empty is named beside its field.
    let youth = event_named(&mary, "Youth Retreat Info Night").await;
    let yid = youth["id"].as_str().unwrap_or_default();
    let r = mary
        .post_form(
            &format!("/portal/mission/events/{yid}/register"),
            &[("q0", "")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = r.text().await.unwrap_or_default();
    assert!(
        html.contains("id=\"r-q0-err\"") && html.contains("role=\"alert\""),
        "{html}"
    );
    let r = mary
        .post_form(
            &format!("/portal/mission/events/{yid}/register"),
            &[("q0", "10th"), ("guests", "Grandma Jo")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    let pastor = app
        .api_login("grace", "pastor@grace.example", "admin")
        .await;
    let r = pastor.get(&format!("/admin/mission/events/{yid}")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap_or_default().contains("Grandma Jo"));
    let csv = pastor
        .get(&format!("/admin/mission/events/{yid}/registrations.csv"))
        .await
        .text()
        .await
        .unwrap_or_default();
    assert!(
        csv.contains("Student's grade") && csv.contains("Mary Member") && csv.contains("10th"),
        "{csv}"
    );
    let regs = json_of(
        pastor
            .get(&format!("/api/v1/admin/mission/events/{yid}/registrations"))
            .await,
    )
    .await;
    let rid = regs
        .as_array()
        .and_then(|a| a.iter().find(|r| r["member_name"] == "Mary Member"))
        .and_then(|r| r["id"].as_str())
        .unwrap_or_default()
        .to_string();
    let r = pastor
        .post_form(
            &format!("/admin/mission/events/{yid}/checkin"),
            &[("registration", &rid)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let page = pastor
        .get(&format!("/admin/mission/events/{yid}/checkin"))
        .await
        .text()
        .await
        .unwrap_or_default();
    assert!(page.contains("1 of 2 checked in"), "{page}");
    assert!(
        app.audit_actions("grace")
            .await
            .iter()
            .any(|a| a == "mission.checked_in")
    );
    let r = pastor.get("/admin/mission/events").await;
    assert_eq!(r.status(), StatusCode::OK);
}
crate::db_test!(mission_events_calendar_pages, calendar_and_pages);

/// Another member's registration is never shown; members get 403 on staff routes; acme
/// (another tenant, an MSP) reaches no grace event by page, API or feed.
async fn events_privacy_and_isolation(app: TestApp) {
    let mary = app.api_login("grace", "mary@grace.example", "portal").await;
    let mark = app.api_login("grace", "mark@grace.example", "portal").await;
    let potluck = event_named(&mary, "Sunday Worship & Potluck").await;
    let id = potluck["id"].as_str().unwrap_or_default().to_string();

    let d = json_of(mark.get(&format!("/api/v1/mission/events/{id}")).await).await;
    assert!(
        d["my_registration"].is_null(),
        "Mark sees no registration: {d}"
    );
    assert!(d["event"]["my_status"].is_null());
    let mine = json_of(mark.get("/api/v1/mission/events?mine=true").await).await;
    assert_eq!(mine["items"].as_array().map(Vec::len), Some(0), "{mine}");
    // Mark cannot cancel Mary's registration: he has none to cancel.
    let r = mark
        .client
        .delete(format!(
            "{}/api/v1/mission/events/{id}/registration",
            mark.base
        ))
        .header("x-csrf-token", &mark.csrf)
        .send()
        .await
        .expect("delete");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let d = json_of(mary.get(&format!("/api/v1/mission/events/{id}")).await).await;
    assert_eq!(d["my_registration"]["status"], "registered");

    for p in [
        "/api/v1/admin/mission/events".to_string(),
        format!("/api/v1/admin/mission/events/{id}/registrations"),
    ] {
        assert_eq!(
            mary.get(&p).await.status(),
            StatusCode::UNAUTHORIZED,
            "{p}: portal session"
        );
    }
    // Nobody outside the household can be brought as "household".
    let pastor_id = app.user_id("grace", "pastor@grace.example").await;
    let r = mark
        .post_json(
            &format!("/api/v1/mission/events/{id}/registration"),
            &json!({ "household": [pastor_id] }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    let acme_staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let alice = app
        .api_login("acme", "alice@globex.example", "portal")
        .await;
    for (s, p) in [
        (&alice, "/api/v1/mission/events".to_string()),
        (&alice, format!("/api/v1/mission/events/{id}")),
        (&alice, format!("/portal/mission/events/{id}")),
        (&alice, format!("/portal/mission/events/{id}/event.ics")),
        (&acme_staff, format!("/api/v1/admin/mission/events/{id}")),
        (
            &acme_staff,
            format!("/admin/mission/events/{id}/registrations.csv"),
        ),
    ] {
        let r = s.get(&p).await;
        assert!(
            matches!(r.status(), StatusCode::NOT_FOUND | StatusCode::FORBIDDEN),
            "{p}: {}",
            r.status()
        );
        let body = r.text().await.unwrap_or_default();
        assert!(!body.contains("Potluck"), "{p}");
    }
    // A grace feed token means nothing on acme.
    let feed = json_of(
        mary.post_json("/api/v1/mission/calendar-feed", &json!({}))
            .await,
    )
    .await;
    let url = feed["url"].as_str().unwrap_or_default();
    let token = url
        .split("/mission/calendar/")
        .nth(1)
        .and_then(|t| t.split('?').next())
        .unwrap_or_default();
    let r = app
        .client()
        .get(app.url(&format!("/mission/calendar/{token}?tenant=acme")))
        .send()
        .await
        .expect("feed");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // Ministry staff without the permission? Technicians hold it; a member never does.
    let r = mary
        .post_form(
            &format!("/admin/mission/events/{id}/checkin"),
            &[("registration", "x")],
        )
        .await;
    assert!(
        matches!(
            r.status(),
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::SEE_OTHER
        ),
        "{}",
        r.status()
    );
}
crate::db_test!(mission_events_privacy, events_privacy_and_isolation);
