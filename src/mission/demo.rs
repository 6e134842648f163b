//! Demo data for the grace tenant: settings, three funds, two years of Mary's gifts (some
//! recurring), about thirty members with households and varied directory choices, and prayer
//! requests (shared, private, anonymous, answered). Inserts only what is missing: nothing is
//! seeded once grace has a fund.

use chrono::Datelike;

use crate::auth::Role;
use crate::db::{Db, Row, new_id, now_ms};
use crate::mission::giving::{self, NewGift};
use crate::mission::settings::{self, Settings};
use crate::tenancy::TenantScope;
use crate::users::{self, NewUser, UserStatus};

/// Members who share their gifts on their household's giving statement.
const SHARING: &[&str] = &[
    "mary@grace.example",
    "mark@grace.example",
    "daniel@grace.example",
];

/// (email, name, household, phone, address, birthday MM-DD, directory choice)
/// choice: 0 = name only (default), 1 = email, 2 = email+phone, 3 = everything, 4 = unlisted,
/// 5 = household and birthday only.
const MEMBERS: &[(&str, &str, &str, &str, &str, &str, u8)] = &[
    (
        "mary@grace.example",
        "Mary Member",
        "Member family",
        "+1 555 0110",
        "12 Elm Street\nSpringfield, IL 62704",
        "04-12",
        2,
    ),
    (
        "mark@grace.example",
        "Mark Member",
        "Member family",
        "+1 555 0111",
        "12 Elm Street\nSpringfield, IL 62704",
        "09-30",
        3,
    ),
    (
        "john@grace.example",
        "John Whitaker",
        "",
        "+1 555 0112",
        "8 Oak Lane\nSpringfield, IL 62702",
        "01-05",
        0,
    ),
    (
        "daniel@grace.example",
        "Daniel Garcia",
        "Garcia household",
        "+1 555 0113",
        "40 Maple Ave\nSpringfield, IL 62703",
        "07-21",
        3,
    ),
    (
        "lucia@grace.example",
        "Lucía Garcia",
        "Garcia household",
        "+1 555 0114",
        "40 Maple Ave\nSpringfield, IL 62703",
        "11-02",
        5,
    ),
    (
        "grace.okafor@grace.example",
        "Grace Okafor",
        "Okafor household",
        "+1 555 0115",
        "3 Birch Court\nSpringfield, IL 62711",
        "03-18",
        1,
    ),
    (
        "emeka@grace.example",
        "Emeka Okafor",
        "Okafor household",
        "+1 555 0116",
        "3 Birch Court\nSpringfield, IL 62711",
        "06-09",
        2,
    ),
    (
        "ingrid@grace.example",
        "Ingrid Lindqvist",
        "Lindqvist household",
        "+1 555 0117",
        "77 Cedar Road\nChatham, IL 62629",
        "12-24",
        3,
    ),
    (
        "nils@grace.example",
        "Nils Lindqvist",
        "Lindqvist household",
        "+1 555 0118",
        "77 Cedar Road\nChatham, IL 62629",
        "02-14",
        4,
    ),
    (
        "thanh@grace.example",
        "Thanh Nguyen",
        "Nguyen household",
        "+1 555 0119",
        "19 Willow Way\nSpringfield, IL 62707",
        "08-08",
        1,
    ),
    (
        "linh@grace.example",
        "Linh Nguyen",
        "Nguyen household",
        "+1 555 0120",
        "19 Willow Way\nSpringfield, IL 62707",
        "05-27",
        0,
    ),
    (
        "ruth@grace.example",
        "Ruth Abernathy",
        "",
        "+1 555 0121",
        "5 Chapel Row\nSpringfield, IL 62701",
        "10-10",
        3,
    ),
    (
        "samuel@grace.example",
        "Samuel Boateng",
        "",
        "+1 555 0122",
        "210 Lake Drive\nSherman, IL 62684",
        "06-30",
        2,
    ),
    (
        "hannah@grace.example",
        "Hannah Brooks",
        "Brooks household",
        "+1 555 0123",
        "66 Pine Street\nSpringfield, IL 62704",
        "09-01",
        1,
    ),
    (
        "peter@grace.example",
        "Peter Brooks",
        "Brooks household",
        "+1 555 0124",
        "66 Pine Street\nSpringfield, IL 62704",
        "04-04",
        0,
    ),
    (
        "esther@grace.example",
        "Esther Cohen",
        "",
        "+1 555 0125",
        "14 Hill Street\nSpringfield, IL 62702",
        "03-03",
        4,
    ),
    (
        "miguel@grace.example",
        "Miguel Santos",
        "",
        "+1 555 0126",
        "9 River Road\nRiverton, IL 62561",
        "12-12",
        2,
    ),
    (
        "abigail@grace.example",
        "Abigail Foster",
        "Foster household",
        "+1 555 0127",
        "31 Church Lane\nSpringfield, IL 62701",
        "07-04",
        3,
    ),
    (
        "james@grace.example",
        "James Foster",
        "Foster household",
        "+1 555 0128",
        "31 Church Lane\nSpringfield, IL 62701",
        "01-22",
        5,
    ),
    (
        "priya@grace.example",
        "Priya Raman",
        "",
        "+1 555 0129",
        "88 Sunset Blvd\nSpringfield, IL 62711",
        "11-19",
        1,
    ),
    (
        "tomas@grace.example",
        "Tomás Herrera",
        "",
        "+1 555 0130",
        "2 Garden Court\nSpringfield, IL 62703",
        "05-05",
        0,
    ),
    (
        "naomi@grace.example",
        "Naomi Williams",
        "Williams household",
        "+1 555 0131",
        "120 Main Street\nSpringfield, IL 62701",
        "08-15",
        3,
    ),
    (
        "isaac@grace.example",
        "Isaac Williams",
        "Williams household",
        "+1 555 0132",
        "120 Main Street\nSpringfield, IL 62701",
        "02-28",
        0,
    ),
    (
        "olivia@grace.example",
        "Olivia Park",
        "",
        "+1 555 0133",
        "45 Orchard Lane\nSpringfield, IL 62707",
        "10-31",
        2,
    ),
    (
        "joseph@grace.example",
        "Joseph Mensah",
        "",
        "+1 555 0134",
        "7 Station Road\nSpringfield, IL 62702",
        "06-16",
        1,
    ),
    (
        "deborah@grace.example",
        "Deborah King",
        "",
        "+1 555 0135",
        "16 Meadow Drive\nSpringfield, IL 62704",
        "09-09",
        4,
    ),
    (
        "caleb@grace.example",
        "Caleb Turner",
        "",
        "+1 555 0136",
        "50 Valley Road\nSpringfield, IL 62711",
        "03-29",
        0,
    ),
    (
        "martha@grace.example",
        "Martha Lewis",
        "",
        "+1 555 0137",
        "23 Park Place\nSpringfield, IL 62701",
        "12-01",
        3,
    ),
    (
        "elijah@grace.example",
        "Elijah Grant",
        "",
        "+1 555 0138",
        "11 Mill Street\nSpringfield, IL 62703",
        "07-11",
        1,
    ),
    (
        "sofia@grace.example",
        "Sofía Ramírez",
        "",
        "+1 555 0139",
        "4 Plaza Court\nSpringfield, IL 62707",
        "01-30",
        5,
    ),
];

const FUNDS: [&str; 3] = ["General Fund", "Missions", "Building Fund"];

/// (author email, request, visibility, anonymous, answered praise, minutes ago)
const PRAYERS: &[(&str, &str, &str, bool, &str, i64)] = &[
    (
        "mary@grace.example",
        "Please pray for my mother's hip surgery on Thursday, and for the surgeons.",
        "members",
        false,
        "",
        60 * 5,
    ),
    (
        "john@grace.example",
        "I am struggling in my marriage and would like to talk with Pastor Paul privately.",
        "staff",
        false,
        "",
        60 * 20,
    ),
    (
        "grace.okafor@grace.example",
        "Pray for a new job: I have two interviews this week.",
        "members",
        true,
        "",
        60 * 30,
    ),
    (
        "daniel@grace.example",
        "Safe travels for our mission team going to Guatemala.",
        "members",
        false,
        "The whole team is home safe, and the clinic opened on schedule!",
        60 * 24 * 12,
    ),
    (
        "ruth@grace.example",
        "For my grandson Leo, who starts chemotherapy next week.",
        "members",
        false,
        "",
        60 * 24 * 2,
    ),
    (
        "samuel@grace.example",
        "Wisdom for our family as we decide whether to move for work.",
        "members",
        true,
        "",
        60 * 24 * 4,
    ),
];

/// Seeds the grace tenant's Mission data if it has none. `hash` is the demo password hash.
pub async fn seed(db: &Db, scope: &TenantScope, hash: &str) -> anyhow::Result<()> {
    if !giving::funds(db, scope).await?.is_empty() {
        return Ok(());
    }
    let t = db.tenant(scope);
    let mut tx = t.begin().await?;
    settings::save_in(
        &mut tx,
        &Settings {
            source: "builtin".into(),
            currency: "USD".into(),
            org_address: "100 Chapel Street\nSpringfield, IL 62701".into(),
            tax_id: "EIN 12-3456789".into(),
            statement_wording: "No goods or services were provided in exchange for these contributions, other than intangible religious benefits. Thank you for your faithful generosity.".into(),
            giving_url: "https://give.grace.example".into(),
            prayer_approval: false,
            ..Settings::default()
        },
    )
    .await?;
    let mut fund_ids = Vec::new();
    for f in FUNDS {
        fund_ids.push(giving::insert_fund(&mut tx, f).await?);
    }
    tx.commit().await?;

    // Members, households and directory choices.
    let mut households: Vec<(&str, String)> = Vec::new();
    let mut ids = std::collections::HashMap::new();
    for (email, name, household, phone, address, birthday, choice) in MEMBERS {
        let id = match users::find_for_login(db, scope, email).await? {
            Some(u) => u.user.id.as_str().to_string(),
            None => users::create(
                db,
                scope,
                &NewUser {
                    email,
                    name,
                    role: Role::Member,
                    company_id: None,
                    status: UserStatus::Active,
                    password_hash: Some(hash),
                },
            )
            .await?
            .as_str()
            .to_string(),
        };
        ids.insert(*email, id.clone());
        let mut tx = t.begin().await?;
        let tenant = tx.tenant_id().to_string();
        let household_id = if household.is_empty() {
            None
        } else if let Some((_, hid)) = households.iter().find(|(n, _)| n == household) {
            Some(hid.clone())
        } else {
            let hid = new_id();
            sqlx::query("INSERT INTO mission_households (id, tenant_id, name) VALUES ($1, $2, $3)")
                .bind(&hid)
                .bind(&tenant)
                .bind(*household)
                .execute(tx.conn())
                .await?;
            households.push((household, hid.clone()));
            Some(hid)
        };
        sqlx::query(
            "UPDATE users SET phone = $3 WHERE tenant_id = $1 AND id = $2 AND phone IS NULL",
        )
        .bind(&tenant)
        .bind(&id)
        .bind(*phone)
        .execute(tx.conn())
        .await?;
        let (listed, email_, phone_, addr, bday, house) = match choice {
            1 => (1, 1, 0, 0, 0, 0),
            2 => (1, 1, 1, 0, 0, 1),
            3 => (1, 1, 1, 1, 1, 1),
            4 => (0, 0, 0, 0, 0, 0),
            5 => (1, 0, 0, 0, 1, 1),
            _ => (1, 0, 0, 0, 0, 0),
        };
        sqlx::query(
            "INSERT INTO mission_members (tenant_id, user_id, household_id, address, birthday, listed, show_photo, \
             show_email, show_phone, show_address, show_birthday, show_household, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8, $9, $10, $11, $12)",
        )
        .bind(&tenant)
        .bind(&id)
        .bind(household_id.as_deref())
        .bind(*address)
        .bind(*birthday)
        .bind(listed as i64)
        .bind(email_ as i64)
        .bind(phone_ as i64)
        .bind(addr as i64)
        .bind(bday as i64)
        .bind(house as i64)
        .bind(now_ms())
        .execute(tx.conn())
        .await?;
        tx.commit().await?;
    }

    // Mary and Mark share their gifts on the Member family's household statement; Daniel
    // shares, Lucía does not, so the Garcia statement shows only his.
    let mut tx = t.begin().await?;
    let tenant = tx.tenant_id().to_string();
    for email in SHARING {
        if let Some(id) = ids.get(email) {
            sqlx::query(
                "UPDATE mission_members SET share_statements = 1 WHERE tenant_id = $1 AND user_id = $2",
            )
            .bind(&tenant)
            .bind(id)
            .execute(tx.conn())
            .await?;
        }
    }
    tx.commit().await?;

    // Two years of Mary's giving: a recurring monthly tithe, and one-off gifts.
    let tz = crate::mission::tenant_zone(
        &sqlx::query("SELECT time_zone FROM tenants WHERE id = $1")
            .bind(scope.tenant_id().as_str())
            .fetch_one(t.reader())
            .await?
            .try_get::<String, _>("time_zone")?,
    );
    let today = crate::mission::today(tz);
    if let Some(mary) = ids.get("mary@grace.example") {
        let mut tx = t.begin().await?;
        let gift = |y: i32, m: u32, d: u32, fund: usize, cents: i64, method: &str, rec: bool| {
            chrono::NaiveDate::from_ymd_opt(y, m, d)
                .filter(|day| *day <= today)
                .map(|day| NewGift {
                    member_id: mary.clone(),
                    fund_id: fund_ids[fund].clone(),
                    given_on: day.format("%Y-%m-%d").to_string(),
                    amount_minor: cents,
                    currency: "USD".into(),
                    method: method.into(),
                    recurring: rec,
                })
        };
        let mut gifts = Vec::new();
        for y in [today.year() - 1, today.year()] {
            for m in 1..=12 {
                gifts.extend(gift(y, m, 1, 0, 15_000, "bank", true));
            }
            gifts.extend(gift(y, 3, 15, 1, 5_000, "card", false));
            gifts.extend(gift(y, 9, 14, 1, 7_550, "card", false));
            gifts.extend(gift(y, 12, 24, 2, 25_000, "check", false));
        }
        gifts.extend(gift(today.year() - 1, 6, 8, 0, 2_025, "cash", false));
        for g in &gifts {
            giving::insert(&mut tx, g, None).await?;
        }
        // The monthly tithe above is Mary's recurring schedule: the 1st of every month.
        if let Some(start) = chrono::NaiveDate::from_ymd_opt(today.year() - 1, 1, 1) {
            let next = today
                .succ_opt()
                .map(|d| giving::recurring::first_on_or_after(start, "monthly", d))
                .unwrap_or(start);
            let now = now_ms();
            sqlx::query(
                "INSERT INTO mission_recurring (id, tenant_id, member_id, fund_id, amount_minor, currency, frequency, \
                 start_on, next_on, status, created_at, updated_at) VALUES ($1, $2, $3, $4, 15000, 'USD', 'monthly', $5, $6, 'active', $7, $7)",
            )
            .bind(new_id())
            .bind(tx.tenant_id().to_string())
            .bind(mary)
            .bind(&fund_ids[0])
            .bind(start.format("%Y-%m-%d").to_string())
            .bind(next.format("%Y-%m-%d").to_string())
            .bind(now)
            .execute(tx.conn())
            .await?;
        }
        tx.commit().await?;
    }

    // Prayer requests, with prayers from a few members.
    let now = now_ms();
    let mut tx = t.begin().await?;
    let tenant = tx.tenant_id().to_string();
    for (i, (author, body, visibility, anonymous, praise, ago)) in PRAYERS.iter().enumerate() {
        let Some(author_id) = ids.get(author) else {
            continue;
        };
        let id = new_id();
        let at = now - ago * 60_000;
        sqlx::query(
            "INSERT INTO mission_prayers (id, tenant_id, author_id, body, visibility, anonymous, status, answered_at, praise, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 'published', $7, $8, $9)",
        )
        .bind(&id)
        .bind(&tenant)
        .bind(author_id)
        .bind(*body)
        .bind(*visibility)
        .bind(i64::from(*anonymous))
        .bind((!praise.is_empty()).then_some(at + 7 * 86_400_000))
        .bind(*praise)
        .bind(at)
        .execute(tx.conn())
        .await?;
        if *visibility == "members" {
            for who in MEMBERS.iter().skip(3 + i).step_by(4).take(1 + i % 3) {
                if let Some(uid) = ids.get(who.0) {
                    sqlx::query(
                        "INSERT INTO mission_prayed (tenant_id, prayer_id, user_id, created_at) VALUES ($1, $2, $3, $4)",
                    )
                    .bind(&tenant)
                    .bind(&id)
                    .bind(uid)
                    .bind(at + 60_000)
                    .execute(tx.conn())
                    .await?;
                }
            }
        }
    }
    tx.commit().await?;
    Ok(())
}
