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
    /// NULL.
    Null,
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
    // Both engines cap bound parameters per statement (SQLite 32766, PostgreSQL 65535).
    let per_stmt = (30_000 / columns.len()).clamp(1, 1000);
    let mut tx = db.pool().begin().await?;
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
        users.push(vec![
            Val::from(new_id()),
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
            for u in 0..users_per_company {
                let role = match u {
                    0 => "admin",
                    1 | 2 => "viewer",
                    _ => "user",
                };
                let first = FIRST[rng.gen_range(0..FIRST.len())];
                let last = LAST[rng.gen_range(0..LAST.len())];
                users.push(vec![
                    new_id().into(),
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
    Ok(ScaleSummary {
        tenants: n_tenants,
        companies: companies.len(),
        users: users.len() - n_tenants,
        password: crate::demo::DEMO_PASSWORD,
        sample_admin: "u0.c0@bench-01.example".into(),
        sample_user: "u3.c0@bench-01.example".into(),
        sample_staff: "staff@bench-01.example".into(),
    })
}
