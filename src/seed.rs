//! Deterministic data at scale for the benchmark: `portico demo --scale N`.
//!
//! At N = 1: 20 tenants, 400 companies, 4,000 client users (plus two staff per tenant), and the
//! tickets and comments of the features that exist; larger N scales linearly. Rows go in with
//! multi-row INSERTs inside transactions, so N = 1 seeds in seconds.

use std::io::Write;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::db::{Db, new_id, now_ms};

/// A value for a bulk insert.
#[derive(Clone, Debug)]
pub enum Val {
    /// Text.
    Text(String),
    /// Integer.
    Int(i64),
    /// NULL in a text column.
    Null,
    /// NULL in an integer column (PostgreSQL wants the type).
    NullInt,
}

impl From<&str> for Val {
    fn from(s: &str) -> Val {
        Val::Text(s.to_string())
    }
}
impl From<String> for Val {
    fn from(s: String) -> Val {
        Val::Text(s)
    }
}
impl From<i64> for Val {
    fn from(i: i64) -> Val {
        Val::Int(i)
    }
}
impl From<Option<String>> for Val {
    fn from(o: Option<String>) -> Val {
        o.map(Val::Text).unwrap_or(Val::Null)
    }
}

/// Inserts `rows` into `table` in multi-row statements, printing progress under `label`.
pub async fn bulk_insert(
    db: &Db,
    table: &str,
    columns: &[&str],
    rows: &[Vec<Val>],
    label: &str,
) -> anyhow::Result<()> {
    // SQLite resolves each `$N` by a linear walk of the statement's parameter list
    // (sqlite3_bind_parameter_name), so binding is quadratic in the parameter count: keep its
    // statements small. PostgreSQL caps a statement at 65,535 parameters and likes them large.
    let max_params = match db.backend() {
        crate::db::Backend::Sqlite => 400,
        crate::db::Backend::Postgres => 30_000,
    };
    let per_stmt = (max_params / columns.len()).clamp(1, 1000);
    let mut tx = db.operator("benchmark seeding").writer().begin().await?;
    let mut done = 0usize;
    for chunk in rows.chunks(per_stmt) {
        let mut sql = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
        let mut n = 1;
        for (i, _) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            for c in 0..columns.len() {
                if c > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!("${n}"));
                n += 1;
            }
            sql.push(')');
        }
        let mut q = sqlx::query(&sql);
        for row in chunk {
            for v in row {
                q = match v {
                    Val::Text(s) => q.bind(s.clone()),
                    Val::Int(i) => q.bind(*i),
                    Val::Null => q.bind(Option::<String>::None),
                    Val::NullInt => q.bind(Option::<i64>::None),
                };
            }
        }
        q.execute(&mut *tx).await?;
        done += chunk.len();
        if done % 20_000 < per_stmt || done == rows.len() {
            print!("\r  {label}: {done}/{}", rows.len());
            let _ = std::io::stdout().flush();
        }
    }
    tx.commit().await?;
    println!();
    Ok(())
}

const FIRST: &[&str] = &[
    "Ada", "Ben", "Cleo", "Dev", "Eva", "Finn", "Gia", "Hugo", "Iris", "Jon", "Kai", "Lena",
    "Milo", "Nora", "Omar", "Pia", "Quinn", "Rosa", "Sam", "Tara",
];
const LAST: &[&str] = &[
    "Adler", "Brook", "Chen", "Diaz", "Evans", "Fox", "Garcia", "Hale", "Ito", "Jensen", "Khan",
    "Lund", "Moreau", "Novak", "Okafor", "Park", "Quist", "Reyes", "Singh", "Tanaka",
];
const CO: &[&str] = &[
    "Logistics",
    "Dental",
    "Law",
    "Bakery",
    "Architects",
    "Clinic",
    "Motors",
    "Studio",
    "Foods",
    "Realty",
];

/// What the scale seed created, for the benchmark runner.
#[derive(Debug, serde::Serialize)]
pub struct ScaleSummary {
    /// Tenants created.
    pub tenants: usize,
    /// Companies created.
    pub companies: usize,
    /// Client users created.
    pub users: usize,
    /// Tickets created.
    pub tickets: usize,
    /// Comments created.
    pub comments: usize,
    /// Password of every seeded account.
    pub password: &'static str,
    /// A client admin with a full company (`bench-01`).
    pub sample_admin: String,
    /// A client user of that company.
    pub sample_user: String,
    /// A staff admin of that tenant.
    pub sample_staff: String,
}

/// Seeds `scale` × the base data set (tenants `bench-01` …). Refuses when already seeded.
pub async fn seed_scale(db: &Db, scale: f64) -> anyhow::Result<ScaleSummary> {
    if crate::tenancy::store::by_slug(db, "bench-01")
        .await?
        .is_some()
    {
        anyhow::bail!(
            "this database already holds scale data (tenant bench-01); use a fresh PORTICO_DATA_DIR or database"
        );
    }
    let n_tenants = ((20.0 * scale).round() as usize).max(1);
    let companies_per_tenant = 20usize;
    let users_per_company = 10usize;
    let mut rng = StdRng::seed_from_u64(42);
    let hash = crate::auth::password::hash(crate::demo::DEMO_PASSWORD)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let now = now_ms();
    let mut companies = Vec::new();
    let mut users = Vec::new();
    let mut tenant_ids = Vec::new();
    // Per tenant: (tenant id, staff id, [(company id, [user ids])]) for the tickets below.
    let mut layout: Vec<TenantLayout> = Vec::new();
    for t in 1..=n_tenants {
        let slug = format!("bench-{t:02}");
        let (tid, _) = crate::demo::provision_tenant(
            db,
            &crate::tenancy::store::NewTenant {
                slug: slug.clone(),
                name: format!("Bench MSP {t}"),
                org_type: crate::tenancy::OrgType::Msp,
                plan: "enterprise".into(),
            },
            &format!("staff@{slug}.example"),
            "Staff Admin",
            Some(&hash),
        )
        .await?;
        tenant_ids.push(tid.clone());
        let tech_id = new_id();
        layout.push((tid.0.clone(), tech_id.clone(), Vec::new()));
        users.push(vec![
            Val::from(tech_id),
            tid.0.clone().into(),
            "staff".into(),
            Val::Null,
            format!("tech@{slug}.example").into(),
            "Tech Nician".into(),
            "technician".into(),
            "active".into(),
            hash.clone().into(),
            now.into(),
            now.into(),
        ]);
        for c in 0..companies_per_tenant {
            let cid = new_id();
            let name = format!(
                "{} {} {c}",
                LAST[rng.gen_range(0..LAST.len())],
                CO[rng.gen_range(0..CO.len())]
            );
            companies.push(vec![
                cid.clone().into(),
                tid.0.clone().into(),
                name.into(),
                "active".into(),
                now.into(),
                now.into(),
            ]);
            let mut company_users = Vec::new();
            for u in 0..users_per_company {
                let role = match u {
                    0 => "admin",
                    1 | 2 => "viewer",
                    _ => "user",
                };
                let first = FIRST[rng.gen_range(0..FIRST.len())];
                let last = LAST[rng.gen_range(0..LAST.len())];
                let uid = new_id();
                company_users.push(uid.clone());
                users.push(vec![
                    uid.into(),
                    tid.0.clone().into(),
                    "client".into(),
                    cid.clone().into(),
                    format!("u{u}.c{c}@{slug}.example").into(),
                    format!("{first} {last}").into(),
                    role.into(),
                    "active".into(),
                    hash.clone().into(),
                    now.into(),
                    now.into(),
                ]);
            }
            if let Some(last) = layout.last_mut() {
                last.2.push((cid, company_users));
            }
        }
    }
    bulk_insert(
        db,
        "companies",
        &[
            "id",
            "tenant_id",
            "name",
            "status",
            "created_at",
            "updated_at",
        ],
        &companies,
        "companies",
    )
    .await?;
    bulk_insert(
        db,
        "users",
        &[
            "id",
            "tenant_id",
            "kind",
            "company_id",
            "email",
            "name",
            "role",
            "status",
            "password_hash",
            "created_at",
            "updated_at",
        ],
        &users,
        "users",
    )
    .await?;
    let (tickets, comments) = seed_tickets(db, &layout, scale, &mut rng).await?;
    Ok(ScaleSummary {
        tickets,
        comments,
        tenants: n_tenants,
        companies: companies.len(),
        users: users.len() - n_tenants,
        password: crate::demo::DEMO_PASSWORD,
        sample_admin: "u0.c0@bench-01.example".into(),
        sample_user: "u3.c0@bench-01.example".into(),
        sample_staff: "staff@bench-01.example".into(),
    })
}

/// A seeded tenant: its id, its technician's id, and each company's id with its members' ids.
type TenantLayout = (String, String, Vec<(String, Vec<String>)>);

const SUBJECTS: &[&str] = &[
    "Outlook keeps asking for my password",
    "Printer on floor 2 jams",
    "VPN drops every hour",
    "New starter needs a laptop",
    "Cannot open the shared drive",
    "Teams calls freeze",
    "Phishing email received",
    "Monitor flickers",
    "Reset MFA for a colleague",
    "Wi-Fi slow in meeting room",
];
const STATUSES: &[&str] = &[
    "new", "open", "open", "pending", "on_hold", "resolved", "closed", "closed",
];
const PRIORITIES: &[(&str, i64)] = &[
    ("low", 1),
    ("normal", 2),
    ("normal", 2),
    ("high", 3),
    ("urgent", 4),
];

/// 5,000 tickets per tenant at N = 1 (100,000 over 20 tenants), five comments each on average;
/// ticket #1001 of every tenant belongs to the sample user and has exactly 20 comments.
async fn seed_tickets(
    db: &Db,
    layout: &[TenantLayout],
    scale: f64,
    rng: &mut StdRng,
) -> anyhow::Result<(usize, usize)> {
    let per_tenant = ((100_000.0 * scale) / layout.len().max(1) as f64)
        .round()
        .max(1.0) as usize;
    let now = now_ms();
    let (mut n_tickets, mut n_comments) = (0, 0);
    for (ti, (tenant, tech, companies)) in layout.iter().enumerate() {
        let mut tickets = Vec::with_capacity(per_tenant);
        let mut comments = Vec::with_capacity(per_tenant * 5);
        for i in 0..per_tenant {
            let (company, members) = &companies[i % companies.len()];
            // The sample user (member 3) raises a quarter of the company's tickets, so every
            // list scenario has full pages.
            let (requester, n_comments_here) = if i == 0 {
                (members[3].clone(), 20)
            } else if i % 4 == 0 {
                (members[3].clone(), rng.gen_range(0..=10))
            } else {
                (
                    members[rng.gen_range(0..members.len())].clone(),
                    rng.gen_range(0..=10),
                )
            };
            let id = new_id();
            let created = now - rng.gen_range(0..90) * 86_400_000 - rng.gen_range(0..86_400_000);
            let updated = created + rng.gen_range(0..3) * 3_600_000;
            let status = if i == 0 {
                "open"
            } else {
                STATUSES[rng.gen_range(0..STATUSES.len())]
            };
            let (priority, rank) = PRIORITIES[rng.gen_range(0..PRIORITIES.len())];
            let subject = SUBJECTS[rng.gen_range(0..SUBJECTS.len())];
            let description = format!("{subject}. Started this morning; affects the whole team.");
            let finished = matches!(status, "resolved" | "closed");
            tickets.push(vec![
                id.clone().into(),
                tenant.clone().into(),
                (1001 + i as i64).into(),
                company.clone().into(),
                requester.clone().into(),
                if i % 3 == 0 {
                    Val::from(tech.clone())
                } else {
                    Val::Null
                },
                subject.into(),
                description.clone().into(),
                format!("<p>{description}</p>").into(),
                priority.into(),
                rank.into(),
                "General".into(),
                status.into(),
                (created + 8 * 3_600_000).into(),
                (created + 48 * 3_600_000).into(),
                if status == "new" {
                    Val::NullInt
                } else {
                    Val::from(created + 3_600_000)
                },
                if finished {
                    Val::from(updated)
                } else {
                    Val::NullInt
                },
                if status == "closed" {
                    Val::from(updated)
                } else {
                    Val::NullInt
                },
                created.into(),
                updated.into(),
            ]);
            for c in 0..n_comments_here {
                let staff_reply = c % 2 == 0;
                let body = if staff_reply {
                    "We are looking into it and will update you shortly."
                } else {
                    "Thanks, it still happens after a restart."
                };
                comments.push(vec![
                    new_id().into(),
                    tenant.clone().into(),
                    id.clone().into(),
                    if staff_reply {
                        tech.clone().into()
                    } else {
                        requester.clone().into()
                    },
                    body.into(),
                    format!("<p>{body}</p>").into(),
                    Val::Int(0),
                    (created + (c as i64 + 1) * 60_000).into(),
                ]);
            }
        }
        bulk_insert(
            db,
            "tickets",
            &[
                "id",
                "tenant_id",
                "number",
                "company_id",
                "requester_id",
                "assignee_id",
                "subject",
                "description",
                "description_html",
                "priority",
                "priority_rank",
                "category",
                "status",
                "first_response_due_at",
                "resolution_due_at",
                "first_responded_at",
                "resolved_at",
                "closed_at",
                "created_at",
                "updated_at",
            ],
            &tickets,
            &format!("tickets of tenant {}/{}", ti + 1, layout.len()),
        )
        .await?;
        bulk_insert(
            db,
            "ticket_comments",
            &[
                "id",
                "tenant_id",
                "ticket_id",
                "author_id",
                "body",
                "body_html",
                "internal",
                "created_at",
            ],
            &comments,
            &format!("comments of tenant {}/{}", ti + 1, layout.len()),
        )
        .await?;
        sqlx::query("INSERT INTO ticket_counters (tenant_id, last_number) VALUES ($1, $2)")
            .bind(tenant)
            .bind(1000 + per_tenant as i64)
            .execute(db.operator("benchmark seeding").writer())
            .await?;
        n_tickets += tickets.len();
        n_comments += comments.len();
    }
    Ok((n_tickets, n_comments))
}
