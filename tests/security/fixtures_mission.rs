//! Isolation fixtures for Mission (grace) routes: events, groups, recurring gifts, the calendar
//! feed.
//!
//! The demo has one Mission tenant (grace), so the matrix's foreign attackers are acme accounts;
//! what grace's own members may not do is each fixture's `lower_role`. grace has a single staff
//! account (the pastor), so staff routes have no lower staff role to try.

use serde_json::{Value, json};
use sqlx::Row;

use crate::fixtures::{Fixture, PageFixture};
use crate::support::TestApp;

/// Title of the demo event the event routes are attacked through (full, with a waitlist).
const EVENT: &str = "Marriage Enrichment Dinner";
/// Ruth is registered for it.
const EVENT_REGISTRANT: &str = "ruth@grace.example";
/// Part of the name of the closed demo group the group routes are attacked through (the full
/// name has an apostrophe, which HTML escapes).
const GROUP: &str = "Prayer Breakfast";
/// A leader's message in that group: only its members read it.
const GROUP_MESSAGE: &str = "Pancakes on Saturday, thanks to Naomi";
/// Lucia asked to join that group; Naomi is a plain member; Mary a plain member; John is not in it.
const GROUP_REQUESTER: &str = "lucia@grace.example";
const GROUP_MEMBER: &str = "naomi@grace.example";
/// A demo group category.
const CATEGORY: &str = "Bible study";
/// The demo household the household routes are attacked through, and one of its members.
const HOUSEHOLD: &str = "Member family";
const HOUSEHOLD_MEMBER: &str = "mark@grace.example";
/// The year of the statement run made for the attacks, as its JSON shows it.
const RUN_MARKER: &str = "\"year\":2019";
/// A file name inside that run's archive.
const ARCHIVE_MARKER: &str = "2019-Mary-Member.pdf";

/// The fixture for a documented `(path, method)`, or `None` when none is defined yet.
pub async fn fixture(app: &TestApp, path: &str, method: &str) -> Option<Fixture> {
    let _ = method;
    Some(match path {
        // --- Events, member side: every grace member may see and register; no lower role.
        "/api/v1/mission/events/{id}" | "/api/v1/mission/events/{id}/registration" => Fixture {
            path: path.replace("{id}", &event(app).await?),
            body: json!({"household": [], "guests": [], "answers": [""]}),
            marker: EVENT,
            lower_role: None,
        },
        // --- Events, staff side.
        "/api/v1/admin/mission/events/{id}"
        | "/api/v1/admin/mission/events/{id}/registrations"
        | "/api/v1/admin/mission/events/{id}/registrations/{rid}"
        | "/api/v1/admin/mission/events/{id}/registrations/{rid}/check-in" => {
            let (id, rid) = registration(app).await?;
            Fixture {
                path: path.replace("{id}", &id).replace("{rid}", &rid),
                body: if path.ends_with("/check-in") {
                    json!({"undo": false})
                } else {
                    event_body()
                },
                marker: EVENT,
                lower_role: None,
            }
        }
        // --- Groups, member side.
        "/api/v1/mission/groups/{id}" => Fixture {
            path: path.replace("{id}", &group(app).await?),
            body: Value::Null,
            marker: GROUP_MESSAGE,
            // John is not in the group: he sees it, never its messages.
            lower_role: Some(("grace", "john@grace.example", "portal", 200)),
        },
        "/api/v1/mission/groups/{id}/membership" => Fixture {
            path: path.replace("{id}", &group(app).await?),
            body: json!({}),
            marker: GROUP,
            lower_role: None,
        },
        "/api/v1/mission/groups/{id}/messages"
        | "/api/v1/mission/groups/{id}/requests/{user_id}" => {
            Fixture {
                path: path
                    .replace("{id}", &group(app).await?)
                    .replace("{user_id}", &app.user_id("grace", GROUP_REQUESTER).await),
                body: json!({"body": "Hello group", "approve": true}),
                marker: GROUP,
                // Mary is a member but not a leader: leaders only.
                lower_role: Some(("grace", "mary@grace.example", "portal", 403)),
            }
        }
        // --- Groups, staff side.
        "/api/v1/admin/mission/groups/{id}"
        | "/api/v1/admin/mission/groups/{id}/leaders/{user_id}" => Fixture {
            path: path
                .replace("{id}", &group(app).await?)
                .replace("{user_id}", &app.user_id("grace", GROUP_MEMBER).await),
            body: json!({"name": "Taken", "description": "x", "meeting_day": "saturday",
                             "meeting_time": "08:00", "location": "Hall", "open": false, "leader": true}),
            marker: GROUP,
            lower_role: None,
        },
        // --- Households and statement runs, staff side.
        "/api/v1/admin/mission/households/{id}"
        | "/api/v1/admin/mission/households/{id}/members/{user_id}" => Fixture {
            path: path
                .replace("{id}", &household(app).await?)
                .replace("{user_id}", &app.user_id("grace", HOUSEHOLD_MEMBER).await),
            body: json!({"name": "Taken"}),
            marker: HOUSEHOLD,
            lower_role: None,
        },
        "/api/v1/admin/mission/statements/{id}" => Fixture {
            path: path.replace("{id}", &statement_run(app).await?),
            body: Value::Null,
            marker: RUN_MARKER,
            lower_role: None,
        },
        // --- Recurring gifts: only their member; Mary's demo schedule, John the other member.
        "/api/v1/mission/giving/recurring/{id}" => Fixture {
            path: path.replace("{id}", &recurring(app).await?),
            body: json!({"status": "paused", "amount_minor": 100}),
            marker: RECURRING_FUND,
            lower_role: Some(("grace", "john@grace.example", "portal", 404)),
        },
        "/api/v1/admin/mission/group-categories/{id}" => Fixture {
            path: path.replace("{id}", &category(app).await?),
            body: Value::Null,
            marker: CATEGORY,
            lower_role: None,
        },
        _ => return None,
    })
}

/// The fixture for a page `(path, method)`, or `None` when none is defined yet.
pub async fn page_fixture(app: &TestApp, path: &str, method: &str) -> Option<PageFixture> {
    let _ = method;
    let page = |p: String, fields: Vec<(&'static str, &'static str)>, marker: &str| PageFixture {
        path: p,
        fields,
        multipart: false,
        marker: marker.to_string(),
        lower_role: None,
    };
    Some(match path {
        "/portal/mission/events/{id}"
        | "/portal/mission/events/{id}/register"
        | "/portal/mission/events/{id}/cancel"
        | "/portal/mission/events/{id}/event.ics" => page(
            path.replace("{id}", &event(app).await?),
            vec![("q0", "")],
            EVENT,
        ),
        "/admin/mission/events/{id}"
        | "/admin/mission/events/{id}/status"
        | "/admin/mission/events/{id}/checkin"
        | "/admin/mission/events/{id}/registrations.csv"
        | "/admin/mission/events/{id}/registrations/{rid}/cancel" => {
            let (id, rid) = registration(app).await?;
            page(
                path.replace("{id}", &id).replace("{rid}", &rid),
                vec![
                    ("title", "Taken"),
                    ("description", "x"),
                    ("place", "Hall"),
                    ("starts", "2031-01-10T18:00"),
                    ("ends", "2031-01-10T21:00"),
                    ("capacity", "4"),
                    ("waitlist", "1"),
                    ("questions", ""),
                    ("cancelled", "1"),
                    ("registration", leak(rid)),
                ],
                EVENT,
            )
        }
        "/portal/mission/groups/{id}" => PageFixture {
            // John is not in the group: he sees it, never its messages.
            lower_role: Some(("grace", "john@grace.example", "portal", 200)),
            ..page(
                path.replace("{id}", &group(app).await?),
                vec![],
                GROUP_MESSAGE,
            )
        },
        "/portal/mission/groups/{id}/join" | "/portal/mission/groups/{id}/leave" => {
            page(path.replace("{id}", &group(app).await?), vec![], GROUP)
        }
        "/portal/mission/groups/{id}/messages" | "/portal/mission/groups/{id}/requests/{uid}" => {
            PageFixture {
                // Mary is a member but not a leader: leaders only.
                lower_role: Some(("grace", "mary@grace.example", "portal", 403)),
                ..page(
                    path.replace("{id}", &group(app).await?)
                        .replace("{uid}", &app.user_id("grace", GROUP_REQUESTER).await),
                    vec![("body", "Hello group"), ("decision", "approve")],
                    GROUP,
                )
            }
        }
        "/admin/mission/groups/{id}"
        | "/admin/mission/groups/{id}/delete"
        | "/admin/mission/groups/{id}/leaders"
        | "/admin/mission/groups/{id}/requests/{uid}" => page(
            path.replace("{id}", &group(app).await?)
                .replace("{uid}", &app.user_id("grace", GROUP_REQUESTER).await),
            vec![
                ("name", "Taken"),
                ("category_id", ""),
                ("description", "x"),
                ("meeting_day", "saturday"),
                ("meeting_time", "08:00"),
                ("location", "Hall"),
                ("user_id", leak(app.user_id("grace", GROUP_MEMBER).await)),
                ("leader", "1"),
                ("decision", "approve"),
            ],
            GROUP,
        ),
        "/admin/mission/group-categories/{id}/delete" => page(
            path.replace("{id}", &category(app).await?),
            vec![],
            CATEGORY,
        ),
        "/admin/mission/households/{id}"
        | "/admin/mission/households/{id}/members"
        | "/admin/mission/households/{id}/members/{uid}/remove"
        | "/admin/mission/households/{id}/delete" => page(
            path.replace("{id}", &household(app).await?)
                .replace("{uid}", &app.user_id("grace", HOUSEHOLD_MEMBER).await),
            vec![
                ("name", "Taken"),
                (
                    "user_id",
                    leak(app.user_id("grace", "john@grace.example").await),
                ),
            ],
            HOUSEHOLD,
        ),
        "/admin/mission/statements/{id}/archive.zip" => page(
            path.replace("{id}", &statement_run(app).await?),
            vec![],
            ARCHIVE_MARKER,
        ),
        "/portal/mission/giving/recurring/{id}"
        | "/portal/mission/giving/recurring/{id}/pause"
        | "/portal/mission/giving/recurring/{id}/resume"
        | "/portal/mission/giving/recurring/{id}/cancel" => PageFixture {
            lower_role: Some(("grace", "john@grace.example", "portal", 404)),
            ..page(
                path.replace("{id}", &recurring(app).await?),
                vec![("fund_id", ""), ("amount", "1.00")],
                RECURRING_FUND,
            )
        },
        "/mission/calendar/{token}" => calendar_fixture(app).await?,
        _ => return None,
    })
}

/// The personal calendar feed is a capability URL: no session (calendar apps have none), the
/// secret token in the path is the whole credential, and it names its member only within the
/// tenant the request comes to. Handing Mary's real token to the attackers would not be an
/// attack but the intended use of the URL: grace's pastor (the matrix's "staff session on a
/// portal page" sends no portal cookie here) would get her feed, 200, by design. So the victim
/// is Mary's live feed, checked here to serve the marker with her token, and the attackers hold
/// what they can have: a token one character off hers. Every one of them gets 404 (anonymous
/// and the pastor's admin cookie included: no session is ever asked for, so there is no 303/401).
async fn calendar_fixture(app: &TestApp) -> Option<PageFixture> {
    let mary = feed_token(app, "grace", "mary@grace.example").await?;
    let r = app
        .client()
        .get(app.url(&format!("/mission/calendar/{mary}.ics?tenant=grace")))
        .send()
        .await
        .ok()?;
    let feed = r.text().await.unwrap_or_default();
    assert!(
        feed.contains(FEED_MARKER),
        "Mary's own feed no longer lists '{FEED_MARKER}': {feed}"
    );
    let mut forged = mary;
    let last = if forged.pop() == Some('0') { '1' } else { '0' };
    forged.push(last);
    Some(PageFixture {
        path: format!("/mission/calendar/{forged}.ics"),
        fields: vec![],
        multipart: false,
        marker: FEED_MARKER.into(),
        lower_role: None,
    })
}

/// The event Mary is registered for, listed in her feed.
const FEED_MARKER: &str = "Sunday Worship";

/// A fresh feed token of `email` (created through the API, as the member would).
async fn feed_token(app: &TestApp, tenant: &str, email: &str) -> Option<String> {
    let s = app.api_login(tenant, email, "portal").await;
    let r = s
        .post_json("/api/v1/mission/calendar-feed", &json!({}))
        .await;
    if !r.status().is_success() {
        return None;
    }
    let v: Value = r.json().await.ok()?;
    let url = v["url"].as_str()?;
    let token = url
        .split("/mission/calendar/")
        .nth(1)?
        .split(".ics")
        .next()?;
    Some(token.to_string())
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

fn event_body() -> Value {
    json!({"title": EVENT, "description": "x", "place": "Hall", "starts_at": 1_925_000_000_000_i64,
           "ends_at": 1_925_000_360_000_i64, "capacity": 4, "waitlist": true, "questions": []})
}

async fn one(app: &TestApp, sql: &str, arg: &str) -> Option<String> {
    sqlx::query(sql)
        .bind(arg)
        .fetch_one(app.state.db.operator("test").reader())
        .await
        .ok()?
        .try_get::<String, _>(0)
        .ok()
}

/// The fund of Mary's demo recurring gift.
const RECURRING_FUND: &str = "General Fund";

/// Mary's demo recurring gift.
async fn recurring(app: &TestApp) -> Option<String> {
    one(
        app,
        "SELECT r.id FROM mission_recurring r JOIN users u ON u.tenant_id = r.tenant_id AND u.id = r.member_id \
         WHERE u.email = $1",
        "mary@grace.example",
    )
    .await
}

/// The demo event.
async fn event(app: &TestApp) -> Option<String> {
    one(app, "SELECT id FROM mission_events WHERE title = $1", EVENT).await
}

/// The demo event and Ruth's registration for it.
async fn registration(app: &TestApp) -> Option<(String, String)> {
    let id = event(app).await?;
    let ruth = app.user_id("grace", EVENT_REGISTRANT).await;
    let rid =
        sqlx::query("SELECT id FROM mission_registrations WHERE event_id = $1 AND user_id = $2")
            .bind(&id)
            .bind(&ruth)
            .fetch_one(app.state.db.operator("test").reader())
            .await
            .ok()?
            .try_get::<String, _>(0)
            .ok()?;
    Some((id, rid))
}

/// The closed demo group.
async fn group(app: &TestApp) -> Option<String> {
    one(
        app,
        "SELECT id FROM mission_groups WHERE name LIKE $1",
        &format!("%{GROUP}%"),
    )
    .await
}

/// The demo group category.
async fn category(app: &TestApp) -> Option<String> {
    one(
        app,
        "SELECT id FROM mission_group_categories WHERE name = $1",
        CATEGORY,
    )
    .await
}

/// The demo household.
async fn household(app: &TestApp) -> Option<String> {
    one(
        app,
        "SELECT id FROM mission_households WHERE name = $1",
        HOUSEHOLD,
    )
    .await
}

/// A finished archive run of grace's statements for 2019 (made once, by the pastor).
async fn statement_run(app: &TestApp) -> Option<String> {
    if let Some(id) = one(
        app,
        "SELECT id FROM mission_statement_runs WHERE delivery = $1",
        "archive",
    )
    .await
    {
        return Some(id);
    }
    let pastor = app
        .api_login("grace", "pastor@grace.example", "admin")
        .await;
    let r = pastor
        .post_json(
            "/api/v1/admin/mission/gifts",
            &json!({"email": "mary@grace.example", "date": "2019-06-01", "fund": "General Fund", "amount": "12.00"}),
        )
        .await;
    if !r.status().is_success() {
        return None;
    }
    let r = pastor
        .post_json(
            "/api/v1/admin/mission/statements",
            &json!({"year": 2019, "delivery": "archive"}),
        )
        .await;
    let v: Value = r.json().await.ok()?;
    app.drain_jobs().await;
    v["id"].as_str().map(String::from)
}
