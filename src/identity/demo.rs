//! Demo: `acme` and `grace` accept Hub tokens signed with [`DEMO_HUB_SECRET`] and have two
//! Hub bar apps (the bar itself is off, as for every tenant); acme has an example Google
//! sign-in provider, turned off.

use super::store;
use crate::db::Db;
use crate::tenancy::TenantScope;

/// The demo tenants' Hub secret, printed at start-up in demo mode (never use it elsewhere).
pub const DEMO_HUB_SECRET: &str = "portico-demo-hub-secret-do-not-use-in-production";
/// Tenants that accept demo Hub tokens.
pub const DEMO_HUB_TENANTS: &[&str] = &["acme", "grace"];

/// Stored in place of a sealed secret: seeding runs without the server key, and the demo
/// secret is public anyway (printed at start-up).
pub const DEMO_MARKER: &str = "demo";

/// Gives the tenant the demo Hub secret unless it already has one of its own.
pub async fn seed(db: &Db, scope: &TenantScope, slug: &str) -> anyhow::Result<()> {
    if !DEMO_HUB_TENANTS.contains(&slug) {
        return Ok(());
    }
    let mut s = store::settings(db, scope).await?;
    if s.hub_secret_sealed.is_some() {
        return seed_oidc(db, scope, slug).await;
    }
    s.hub_secret_sealed = Some(DEMO_MARKER.into());
    let mut tx = db.tenant(scope).begin().await?;
    store::save(&mut tx, &s).await?;
    // The stack's other apps, ready for the Hub bar (which stays off until staff turn it on).
    if store::apps(db, scope).await?.is_empty() {
        // The Hub takes Portico's signed token (single sign-on out); the documentation site is
        // a plain link.
        for (name, url, sso) in [
            ("Hub", "https://hub.example/", true),
            ("Documentation", "https://docs.example/", false),
        ] {
            store::add_app(&mut tx, name, url, "", sso).await?;
        }
    }
    tx.commit().await?;
    seed_oidc(db, scope, slug).await
}

/// acme shows an example Google sign-in provider on its integrations page, turned off (the
/// client id is a placeholder and the secret cannot be opened: staff replace both).
async fn seed_oidc(db: &Db, scope: &TenantScope, slug: &str) -> anyhow::Result<()> {
    use super::oidc::{self, DomainRule, Preset, Provider};
    if slug != "acme" || !oidc::store::list(db, scope).await?.is_empty() {
        return Ok(());
    }
    let globex = store::company_by_ref(db, scope, "Globex").await?;
    let p = Provider {
        id: String::new(),
        name: Preset::Google.name().into(),
        preset: Preset::Google,
        issuer: Preset::Google.issuer().into(),
        client_id: "example-client-id.apps.googleusercontent.com".into(),
        client_secret_sealed: DEMO_MARKER.into(),
        domains: vec![DomainRule {
            domain: "globex.example".into(),
            company_id: globex.map(|(id, _)| id),
        }],
        create_users: false,
        new_user_role: crate::auth::Role::ClientUser,
        enabled: false,
    };
    let mut tx = db.tenant(scope).begin().await?;
    oidc::store::save(&mut tx, &p).await?;
    tx.commit().await?;
    Ok(())
}
