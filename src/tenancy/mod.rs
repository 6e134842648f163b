//! Tenants: who they are, how a request finds its tenant, and the scope that tenant data needs.

pub mod store;

use serde::Serialize;

use crate::branding::Branding;

crate::typed_id!(
    /// Identifies a tenant.
    TenantId
);

/// What kind of organisation a tenant is; selects navigation, routes and accent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum OrgType {
    /// IT managed-service provider with client companies.
    Msp,
    /// Church or nonprofit with members.
    Mission,
}

impl OrgType {
    /// Parses the stored or typed name.
    pub fn parse(s: &str) -> Option<OrgType> {
        match s {
            "msp" => Some(OrgType::Msp),
            "mission" => Some(OrgType::Mission),
            _ => None,
        }
    }

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            OrgType::Msp => "msp",
            OrgType::Mission => "mission",
        }
    }

    /// Where a signed-in portal user lands.
    pub fn home(self) -> &'static str {
        match self {
            OrgType::Msp => "/portal/dashboard",
            OrgType::Mission => "/portal/mission/dashboard",
        }
    }
}

/// Fixed Mission accent (rose), not tenant-configurable.
pub const MISSION_ACCENT: &str = "#e11d48";
/// MSP accent when a tenant has set none (violet).
pub const DEFAULT_MSP_ACCENT: &str = "#7c3aed";

/// A tenant as every request sees it (custom CSS is loaded only by its own route).
#[derive(Clone, Debug)]
pub struct Tenant {
    /// Row id.
    pub id: TenantId,
    /// URL slug (`?tenant=`).
    pub slug: String,
    /// Legal or display name of the organisation.
    pub name: String,
    /// MSP or Mission.
    pub org_type: OrgType,
    /// Plan name (limits and features live in the `plans` table).
    pub plan: String,
    /// Public branding.
    pub branding: Branding,
    /// Last change, used to bust stylesheet caches.
    pub updated_at: i64,
    /// Interface language when neither the user nor the browser names a supported one.
    pub default_locale: String,
    /// IANA time zone for pages when neither the viewer's profile nor browser names one.
    pub time_zone: String,
    /// Private, so a `Tenant` (and through it a scope) comes only from tenancy's own lookups.
    scope: TenantScope,
}

impl Tenant {
    /// The scope that lets code read this tenant's public data (branding, sign-in).
    pub fn scope(&self) -> TenantScope {
        self.scope.clone()
    }
}

/// Proof that a request has resolved a tenant; every query on tenant data takes one.
///
/// It can only be obtained from a resolved [`Tenant`] or a signed-in principal, so no code
/// path reaches tenant rows without having gone through resolution or authentication.
#[derive(Clone, Debug)]
pub struct TenantScope {
    tenant_id: TenantId,
}

impl TenantScope {
    /// The tenant this scope is bound to.
    pub fn tenant_id(&self) -> &TenantId {
        &self.tenant_id
    }

    /// For operator paths (CLI, job worker, seeding): needs the operator database handle.
    pub fn for_operator(_op: &crate::db::Operator<'_>, tenant_id: TenantId) -> TenantScope {
        TenantScope { tenant_id }
    }
}

/// True when `s` is a usable tenant slug.
pub fn valid_slug(s: &str) -> bool {
    (2..=48).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// Normalises a `Host` header value: lowercase, without port.
pub fn normalize_host(host: &str) -> String {
    let h = host.trim().to_ascii_lowercase();
    match h.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) && !name.ends_with(']') => {
            name.to_string()
        }
        _ => h,
    }
}

/// True when `d` looks like a domain name a tenant may register.
pub fn valid_domain(d: &str) -> bool {
    let labels: Vec<&str> = d.split('.').collect();
    d.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_and_hosts() {
        assert!(valid_slug("acme"));
        assert!(valid_slug("acme-msp2"));
        assert!(!valid_slug("Acme"));
        assert!(!valid_slug("a"));
        assert!(!valid_slug("-acme"));
        assert!(!valid_slug("ac me"));
        assert_eq!(normalize_host("Portal.Acme.COM:8443"), "portal.acme.com");
        assert_eq!(normalize_host("localhost"), "localhost");
        assert!(valid_domain("portal.acme.com"));
        assert!(!valid_domain("portal"));
        assert!(!valid_domain("portal..com"));
        assert!(!valid_domain("Portal.com"));
    }
}
