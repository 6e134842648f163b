//! Demo events for grace: a handful of upcoming events, one full with a waitlist, and Mary
//! registered for the Sunday potluck. Seeded once (nothing happens when grace has events).

use chrono::TimeZone;
use serde_json::json;

use super::{EventInput, Question};
use crate::db::{Db, Row, new_id, now_ms};
use crate::tenancy::TenantScope;
use crate::users;

/// (title, days ahead, local start hour, hours long, capacity, waitlist, place, description,
/// questions)
type Demo = (
    &'static str,
    i64,
    u32,
    i64,
    i64,
    bool,
    &'static str,
    &'static str,
    &'static [(&'static str, bool)],
);

const EVENTS: &[Demo] = &[
    (
        "Sunday Worship & Potluck",
        3,
        11,
        3,
        120,
        true,
        "Fellowship Hall",
        "Worship together, then stay for lunch. Bring a dish to share if you can.",
        &[("What dish are you bringing?", false)],
    ),
    (
        "Marriage Enrichment Dinner",
        9,
        18,
        3,
        4,
        true,
        "The Olive Tree, 40 Main Street",
        "An evening for couples: dinner, a short talk and time to talk together. Seats are limited.",
        &[("Any dietary needs?", false)],
    ),
    (
        "Youth Retreat Info Night",
        16,
        19,
        2,
        40,
        true,
        "Youth Room",
        "Parents and students: everything about the spring retreat, costs and scholarships.",
        &[("Student's grade", true)],
    ),
    (
        "Community Food Drive",
        23,
        9,
        4,
        0,
        false,
        "Church parking lot",
        "Sort and pack donations for the Springfield food bank. All ages welcome.",
        &[],
    ),
    (
        "Candlelight Carol Service",
        30,
        19,
        2,
        300,
        true,
        "Sanctuary",
        "Carols, readings and candlelight. Invite a friend!",
        &[],
    ),
];

/// (event index, member email, guests, status)
const REGISTRATIONS: &[(usize, &str, &[&str], &str)] = &[
    (0, "mary@grace.example", &[], "registered"),
    (0, "john@grace.example", &["Anna"], "registered"),
    (1, "john@grace.example", &["Anna"], "registered"),
    (1, "ruth@grace.example", &["Boaz"], "registered"),
    (1, "samuel@grace.example", &[], "waitlisted"),
    (2, "esther@grace.example", &[], "registered"),
];

/// Seeds grace's demo events once.
pub async fn seed(db: &Db, scope: &TenantScope) -> anyhow::Result<()> {
    let t = db.tenant(scope);
    let exists = sqlx::query("SELECT id FROM mission_events WHERE tenant_id = $1 LIMIT 1")
        .bind(scope.tenant_id().as_str())
        .fetch_optional(t.reader())
        .await?;
    if exists.is_some() {
        return Ok(());
    }
    let zone: String = sqlx::query("SELECT time_zone FROM tenants WHERE id = $1")
        .bind(scope.tenant_id().as_str())
        .fetch_one(t.reader())
        .await?
        .try_get("time_zone")?;
    let tz = crate::mission::tenant_zone(&zone);
    let today = crate::mission::today(tz);
    let mut ids = Vec::new();
    let mut tx = t.begin().await?;
    for (title, days, hour, hours, capacity, waitlist, place, description, questions) in EVENTS {
        let day = today + chrono::Duration::days(*days);
        let starts_at = day
            .and_hms_opt(*hour, 0, 0)
            .and_then(|d| tz.from_local_datetime(&d).earliest())
            .map(|d| d.timestamp_millis())
            .unwrap_or_default();
        let id = new_id();
        super::insert_in(
            &mut tx,
            &id,
            &EventInput {
                title: (*title).into(),
                description: (*description).into(),
                place: (*place).into(),
                starts_at,
                ends_at: starts_at + hours * 3600 * 1000,
                capacity: *capacity,
                waitlist: *waitlist,
                questions: questions
                    .iter()
                    .map(|(label, required)| Question {
                        label: (*label).into(),
                        required: *required,
                    })
                    .collect(),
            },
        )
        .await?;
        ids.push(id);
    }
    let tenant = tx.tenant_id().to_string();
    for (i, (event, email, guests, status)) in REGISTRATIONS.iter().enumerate() {
        let (Some(event_id), Some(user)) = (
            ids.get(*event),
            users::find_for_login(db, scope, email).await?,
        ) else {
            continue;
        };
        let mut attendees = vec![json!({ "name": user.user.name, "kind": "self" })];
        attendees.extend(guests.iter().map(|g| json!({ "name": g, "kind": "guest" })));
        let answers: Vec<&str> = EVENTS
            .get(*event)
            .map(|e| e.8.iter().map(|_| "").collect())
            .unwrap_or_default();
        // Registration order decides the waitlist: keep it in the order listed.
        let at = now_ms() - 86_400_000 + i as i64 * 1000;
        sqlx::query(
            "INSERT INTO mission_registrations (id, tenant_id, event_id, user_id, seats, attendees, answers, status, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
        )
        .bind(new_id())
        .bind(&tenant)
        .bind(event_id)
        .bind(user.user.id.as_str())
        .bind(attendees.len() as i64)
        .bind(json!(attendees).to_string())
        .bind(json!(answers).to_string())
        .bind(*status)
        .bind(at)
        .execute(tx.conn())
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
