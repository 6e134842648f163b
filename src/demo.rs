//! Operator provisioning and the demo data set of `serve --demo` (idempotent).

use serde_json::json;

use crate::audit::{self, Entry};
use crate::auth::{Role, UserId, password};
use crate::db::{Db, Row};
use crate::tenancy::store::{self, NewTenant};
use crate::tenancy::{OrgType, TenantId, TenantScope};
use crate::users::{self, NewUser, UserStatus};

/// Password of every demo account.
pub const DEMO_PASSWORD: &str = "portico-demo";

/// Creates a tenant and its first staff admin.
pub async fn provision_tenant(
    db: &Db,
    t: &NewTenant,
    admin_email: &str,
    admin_name: &str,
    password_hash: Option<&str>,
) -> anyhow::Result<(TenantId, UserId)> {
    if !crate::tenancy::valid_slug(&t.slug) {
        anyhow::bail!("--slug: use 2-48 lowercase letters, digits and '-'");
    }
    if !store::plan_exists(db, &t.plan).await? {
        anyhow::bail!(
            "--plan: no plan named '{}' (try team or enterprise)",
            t.plan
        );
    }
    let email = users::normalize_email(admin_email);
    if !users::valid_email(&email) {
        anyhow::bail!("--admin-email: '{admin_email}' is not an email address");
    }
    let id = store::create(db, t).await.map_err(|e| match e {
        crate::db::DbError::Conflict(_) => {
            anyhow::anyhow!("a tenant with slug '{}' already exists", t.slug)
        }
        other => other.into(),
    })?;
    let scope = db.operator("demo seeding").scope(id.clone());
    let user = users::create(
        db,
        &scope,
        &NewUser {
            email: &email,
            name: admin_name,
            role: Role::StaffAdmin,
            company_id: None,
            status: if password_hash.is_some() {
                UserStatus::Active
            } else {
                UserStatus::Invited
            },
            password_hash,
        },
    )
    .await?;
    audit::record(
        db,
        &scope,
        Entry::new("tenant.created")
            .target("tenant", id.as_str())
            .detail(json!({ "slug": t.slug, "org_type": t.org_type.as_str(), "plan": t.plan, "admin": email })),
    )
    .await?;
    Ok((id, user))
}

/// The scope of a tenant looked up by slug, for operator commands.
pub async fn operator_scope(db: &Db, slug: &str) -> anyhow::Result<TenantScope> {
    let t = store::by_slug(db, slug)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no tenant with slug '{slug}'"))?;
    Ok(db.operator("demo seeding").scope(t.id))
}

struct DemoUser {
    email: &'static str,
    name: &'static str,
    role: Role,
    company: Option<&'static str>,
}

struct DemoTenant {
    slug: &'static str,
    name: &'static str,
    org_type: OrgType,
    plan: &'static str,
    portal_name: &'static str,
    primary: Option<&'static str>,
    welcome: &'static str,
    support: &'static str,
    domain: &'static str,
    companies: &'static [&'static str],
    users: &'static [DemoUser],
}

const DEMO: &[DemoTenant] = &[
    DemoTenant {
        slug: "acme",
        name: "Acme IT Services",
        org_type: OrgType::Msp,
        plan: "enterprise",
        portal_name: "Acme IT",
        primary: Some("#0ea5e9"),
        welcome: "Welcome to Acme IT. Everything we do for you, in one place.",
        support: "support@acme.example",
        domain: "acme.localhost",
        companies: &["Globex", "Initech"],
        users: &[
            DemoUser {
                email: "staff@acme.example",
                name: "Sam Staff",
                role: Role::StaffAdmin,
                company: None,
            },
            DemoUser {
                email: "tech@acme.example",
                name: "Terry Tech",
                role: Role::Technician,
                company: None,
            },
            DemoUser {
                email: "alice@globex.example",
                name: "Alice Admin",
                role: Role::ClientAdmin,
                company: Some("Globex"),
            },
            DemoUser {
                email: "bob@globex.example",
                name: "Bob User",
                role: Role::ClientUser,
                company: Some("Globex"),
            },
            DemoUser {
                email: "vera@globex.example",
                name: "Vera Viewer",
                role: Role::ClientViewer,
                company: Some("Globex"),
            },
            DemoUser {
                email: "ian@initech.example",
                name: "Ian Initech",
                role: Role::ClientAdmin,
                company: Some("Initech"),
            },
            // A consultant in two client companies: admin at Initech (home), user at Globex
            // (the membership added by `demo_memberships`); the header offers a switch.
            DemoUser {
                email: "cora@consulting.example",
                name: "Cora Consultant",
                role: Role::ClientAdmin,
                company: Some("Initech"),
            },
        ],
    },
    // A second MSP, so isolation between two tenants of the same kind is visible (and tested)
    // without the organisation-kind guard answering first.
    DemoTenant {
        slug: "northwind",
        name: "Northwind Managed IT",
        org_type: OrgType::Msp,
        plan: "team",
        portal_name: "Northwind Support",
        primary: Some("#047857"),
        welcome: "Northwind Support: raise a request, follow it, and find answers.",
        support: "help@northwind.example",
        domain: "northwind.localhost",
        companies: &["Contoso"],
        users: &[
            DemoUser {
                email: "nora@northwind.example",
                name: "Nora North",
                role: Role::StaffAdmin,
                company: None,
            },
            DemoUser {
                email: "carl@contoso.example",
                name: "Carl Contoso",
                role: Role::ClientAdmin,
                company: Some("Contoso"),
            },
        ],
    },
    DemoTenant {
        slug: "grace",
        name: "Grace Church",
        org_type: OrgType::Mission,
        plan: "team",
        portal_name: "Grace Church",
        primary: None,
        welcome: "Welcome home. See your giving, find an event and pray with us.",
        support: "office@grace.example",
        domain: "grace.localhost",
        companies: &[],
        users: &[
            DemoUser {
                email: "pastor@grace.example",
                name: "Pastor Paul",
                role: Role::StaffAdmin,
                company: None,
            },
            DemoUser {
                email: "mary@grace.example",
                name: "Mary Member",
                role: Role::Member,
                company: None,
            },
        ],
    },
];

/// One line of the start-up listing.
pub struct DemoLogin {
    /// Tenant slug.
    pub tenant: &'static str,
    /// Account email.
    pub email: &'static str,
    /// Role label.
    pub role: &'static str,
    /// Where to sign in.
    pub login_path: &'static str,
}

/// Creates whatever part of the demo data is missing; never changes what exists.
pub async fn seed(db: &Db) -> anyhow::Result<Vec<DemoLogin>> {
    let hash = password::hash(DEMO_PASSWORD)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut logins = Vec::new();
    for t in DEMO {
        let scope = match store::by_slug(db, t.slug).await? {
            Some(existing) => db.operator("demo seeding").scope(existing.id),
            None => {
                let admin = &t.users[0];
                let (id, _) = provision_tenant(
                    db,
                    &NewTenant {
                        slug: t.slug.into(),
                        name: t.name.into(),
                        org_type: t.org_type,
                        plan: t.plan.into(),
                    },
                    admin.email,
                    admin.name,
                    Some(&hash),
                )
                .await?;
                sqlx::query(
                    "UPDATE tenants SET portal_name = $2, primary_color = $3, welcome_text = $4, support_email = $5 WHERE id = $1",
                )
                .bind(id.as_str())
                .bind(t.portal_name)
                .bind(t.primary)
                .bind(t.welcome)
                .bind(t.support)
                .execute(db.operator("demo seeding").writer())
                .await?;
                let scope = db.operator("demo seeding").scope(id);
                if let Err(e) = store::add_domain(db, &scope, t.domain).await {
                    tracing::warn!(domain = t.domain, error = %e, "demo domain not added");
                }
                scope
            }
        };
        for c in t.companies {
            let exists = sqlx::query("SELECT id FROM companies WHERE tenant_id = $1 AND name = $2")
                .bind(scope.tenant_id().as_str())
                .bind(*c)
                .fetch_optional(db.operator("demo seeding").reader())
                .await?;
            if exists.is_none() {
                let mut tx = db.tenant(&scope).begin().await?;
                crate::companies::create(&mut tx, c).await?;
                tx.commit().await?;
            }
        }
        for u in t.users {
            let company_id = match u.company {
                Some(name) => {
                    let r =
                        sqlx::query("SELECT id FROM companies WHERE tenant_id = $1 AND name = $2")
                            .bind(scope.tenant_id().as_str())
                            .bind(name)
                            .fetch_one(db.operator("demo seeding").reader())
                            .await?;
                    Some(r.try_get::<String, _>("id")?)
                }
                None => None,
            };
            if users::find_for_login(db, &scope, u.email).await?.is_none() {
                users::create(
                    db,
                    &scope,
                    &NewUser {
                        email: u.email,
                        name: u.name,
                        role: u.role,
                        company_id: company_id.as_deref(),
                        status: UserStatus::Active,
                        password_hash: Some(&hash),
                    },
                )
                .await?;
            }
            logins.push(DemoLogin {
                tenant: t.slug,
                email: u.email,
                role: u.role.label(),
                login_path: u.role.kind().audience().login_path(),
            });
        }
        demo_profiles(db, &scope).await?;
        if t.slug == "acme" {
            demo_memberships(db, &scope).await?;
        }
        crate::identity::demo::seed(db, &scope, t.slug).await?;
        if t.org_type == OrgType::Msp {
            crate::tickets::demo::seed(db, &scope).await?;
            crate::catalog::demo::seed(db, &scope).await?;
            crate::kb::demo::seed(db, &scope).await?;
            crate::announcements::demo::seed(db, &scope).await?;
            crate::invoices::demo::seed(db, &scope).await?;
            crate::billing::demo::seed(db, &scope).await?;
            crate::documents::demo::seed(db, &scope).await?;
        }
        if t.slug == "acme" {
            crate::psa::demo::seed(db, &scope).await?;
            crate::assistant::demo::seed(db, &scope).await?;
        }
        if t.slug == "grace" {
            crate::mission::demo::seed(db, &scope, &hash).await?;
            crate::mission::events::demo::seed(db, &scope).await?;
            crate::mission::groups::demo::seed(db, &scope).await?;
        }
    }
    Ok(logins)
}

/// Second memberships of demo people: (email, company, stored role).
const DEMO_MEMBERSHIPS: &[(&str, &str, &str)] = &[("cora@consulting.example", "Globex", "user")];

/// Adds the demo people's memberships in further companies, once.
async fn demo_memberships(db: &Db, scope: &TenantScope) -> anyhow::Result<()> {
    for (email, company, role) in DEMO_MEMBERSHIPS {
        sqlx::query(
            "INSERT INTO memberships (tenant_id, user_id, company_id, role, created_at) \
             SELECT u.tenant_id, u.id, c.id, $4, u.created_at FROM users u \
             JOIN companies c ON c.tenant_id = u.tenant_id AND c.name = $3 \
             WHERE u.tenant_id = $1 AND u.email = $2 \
             ON CONFLICT (tenant_id, user_id, company_id) DO NOTHING",
        )
        .bind(scope.tenant_id().as_str())
        .bind(*email)
        .bind(*company)
        .bind(*role)
        .execute(db.tenant(scope).writer())
        .await?;
    }
    Ok(())
}

/// Profile details of demo users: (email, job title, phone, time zone, language).
const DEMO_PROFILES: &[(&str, &str, &str, &str, &str)] = &[
    (
        "alice@globex.example",
        "Office manager",
        "+1 555 0142",
        "America/New_York",
        "en",
    ),
    (
        "staff@acme.example",
        "Service desk lead",
        "+1 555 0100",
        "America/Chicago",
        "en",
    ),
];

/// Fills in demo profiles that were never edited, with an audit entry as if the user did it.
async fn demo_profiles(db: &Db, scope: &TenantScope) -> anyhow::Result<()> {
    for (email, title, phone, tz, lang) in DEMO_PROFILES {
        let row = sqlx::query(
            "UPDATE users SET job_title = $3, phone = $4, time_zone = $5, language = $6 \
             WHERE tenant_id = $1 AND email = $2 AND job_title IS NULL AND phone IS NULL \
             AND time_zone IS NULL AND language IS NULL RETURNING id, company_id",
        )
        .bind(scope.tenant_id().as_str())
        .bind(*email)
        .bind(*title)
        .bind(*phone)
        .bind(*tz)
        .bind(*lang)
        .fetch_optional(db.operator("demo seeding").writer())
        .await?;
        if let Some(r) = row {
            let id: String = r.try_get("id")?;
            let company: Option<String> = r.try_get("company_id")?;
            audit::record(
                db,
                scope,
                Entry {
                    actor_id: Some(&id),
                    actor_email: Some(email),
                    company_id: company.as_deref(),
                    detail: json!({ "changed": ["phone", "job_title", "time_zone", "language"] }),
                    ..Entry::new("profile.updated").target("user", &id)
                },
            )
            .await?;
        }
    }
    Ok(())
}
