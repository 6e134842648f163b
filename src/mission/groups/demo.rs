//! Demo groups for grace: categories, open and closed groups with leaders, members, a pending
//! request and messages from leaders; Mary belongs to two groups. Seeded once (nothing happens
//! when grace has groups).

use super::GroupInput;
use crate::db::{Db, new_id, now_ms};
use crate::tenancy::TenantScope;
use crate::users;

const CATEGORIES: &[&str] = &["Bible study", "Men", "Women", "Youth", "Serving"];

/// (name, category index, day, time, location, open, description, leader, members, pending,
/// messages from the leader (text, hours ago))
type Demo = (
    &'static str,
    usize,
    &'static str,
    &'static str,
    &'static str,
    bool,
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
    &'static [(&'static str, i64)],
);

const GROUPS: &[Demo] = &[
    (
        "Tuesday Evening Bible Study",
        0,
        "tuesday",
        "19:00",
        "Room 12",
        true,
        "We read through the Gospel of Mark together, one chapter a week. Coffee from 18:45.",
        "ruth@grace.example",
        &[
            "mary@grace.example",
            "john@grace.example",
            "hannah@grace.example",
        ],
        &[],
        &[
            ("This week: Mark 4, the parables. Bring a friend!", 5),
            (
                "No meeting next Tuesday, the room is booked for the youth night.",
                50,
            ),
        ],
    ),
    (
        "Women's Prayer Breakfast",
        2,
        "saturday",
        "08:00",
        "Fellowship Hall",
        false,
        "A small circle that prays together over breakfast. Ask to join and Esther will welcome you.",
        "esther@grace.example",
        &["mary@grace.example", "naomi@grace.example"],
        &["lucia@grace.example"],
        &[(
            "Pancakes on Saturday, thanks to Naomi. Prayer list in the usual folder.",
            20,
        )],
    ),
    (
        "Men's Breakfast",
        1,
        "saturday",
        "07:30",
        "Daisy's Diner, 12 Oak Street",
        true,
        "Eggs, coffee and an honest conversation, first and third Saturday of the month.",
        "john@grace.example",
        &["samuel@grace.example", "peter@grace.example"],
        &[],
        &[("See you at Daisy's at 7:30 sharp.", 30)],
    ),
    (
        "Young Adults",
        3,
        "thursday",
        "19:30",
        "Youth Room",
        false,
        "For 18–30s: dinner, a short study and games.",
        "daniel@grace.example",
        &["sofia@grace.example"],
        &["caleb@grace.example"],
        &[],
    ),
    (
        "Food Pantry Team",
        4,
        "wednesday",
        "17:00",
        "Church basement",
        true,
        "Sort donations and pack bags for the Springfield food bank.",
        "mark@grace.example",
        &["miguel@grace.example"],
        &[],
        &[("We need two more pairs of hands this Wednesday.", 8)],
    ),
];

/// Seeds grace's demo groups once.
pub async fn seed(db: &Db, scope: &TenantScope) -> anyhow::Result<()> {
    let t = db.tenant(scope);
    let exists = sqlx::query("SELECT id FROM mission_groups WHERE tenant_id = $1 LIMIT 1")
        .bind(scope.tenant_id().as_str())
        .fetch_optional(t.reader())
        .await?;
    if exists.is_some() {
        return Ok(());
    }
    let mut people = std::collections::HashMap::new();
    for g in GROUPS {
        for email in std::iter::once(&g.7).chain(g.8.iter()).chain(g.9.iter()) {
            if let Some(u) = users::find_for_login(db, scope, email).await? {
                people.insert(*email, u.user.id.as_str().to_string());
            }
        }
    }
    let now = now_ms();
    let mut tx = t.begin().await?;
    let tenant = tx.tenant_id().to_string();
    let mut cats = Vec::new();
    for name in CATEGORIES {
        let id = new_id();
        sqlx::query(
            "INSERT INTO mission_group_categories (id, tenant_id, name, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(&id)
        .bind(&tenant)
        .bind(*name)
        .bind(now)
        .execute(tx.conn())
        .await?;
        cats.push(id);
    }
    for (name, cat, day, time, place, open, description, leader, members, pending, messages) in
        GROUPS
    {
        let id = new_id();
        super::insert_in(
            &mut tx,
            &id,
            &GroupInput {
                name: (*name).into(),
                category_id: cats.get(*cat).cloned(),
                description: (*description).into(),
                meeting_day: (*day).into(),
                meeting_time: (*time).into(),
                location: (*place).into(),
                open: *open,
            },
        )
        .await?;
        let rows = std::iter::once((*leader, "leader", "active"))
            .chain(members.iter().map(|m| (*m, "member", "active")))
            .chain(pending.iter().map(|m| (*m, "member", "pending")));
        for (i, (email, role, status)) in rows.enumerate() {
            let Some(user) = people.get(email) else {
                continue;
            };
            sqlx::query(
                "INSERT INTO mission_group_members (tenant_id, group_id, user_id, role, status, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&tenant)
            .bind(&id)
            .bind(user)
            .bind(role)
            .bind(status)
            .bind(now - 30 * 86_400_000 + i as i64 * 60_000)
            .execute(tx.conn())
            .await?;
        }
        let Some(author) = people.get(leader) else {
            continue;
        };
        for (body, hours) in *messages {
            sqlx::query(
                "INSERT INTO mission_group_messages (id, tenant_id, group_id, author_id, body, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(new_id())
            .bind(&tenant)
            .bind(&id)
            .bind(author)
            .bind(*body)
            .bind(now - hours * 3_600_000)
            .execute(tx.conn())
            .await?;
        }
    }
    tx.commit().await?;
    Ok(())
}
