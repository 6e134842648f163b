//! The one feature registry behind every menu: each entry names its audience, the kinds of
//! organisation that have it, its label, path, permission and whether it is built yet. Menus,
//! dashboard tiles, "coming soon" routes and the catalog check all read this table.

use crate::auth::{Audience, Permission, Principal};
use crate::tenancy::OrgType;

/// Which kinds of organisation show an entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Orgs {
    /// MSP tenants only.
    Msp,
    /// Mission tenants only.
    Mission,
    /// Every tenant.
    Both,
}

impl Orgs {
    fn includes(self, org: OrgType) -> bool {
        matches!(
            (self, org),
            (Orgs::Both, _) | (Orgs::Msp, OrgType::Msp) | (Orgs::Mission, OrgType::Mission)
        )
    }
}

/// One navigation entry as defined.
#[derive(Debug)]
pub struct NavDef {
    /// Portal or admin panel.
    pub audience: Audience,
    /// Kinds of organisation that have it.
    pub orgs: Orgs,
    /// Label (English; its catalog key is derived from it).
    pub label: &'static str,
    /// Path.
    pub path: &'static str,
    /// Permission needed to see it.
    pub needs: Permission,
    /// False while the feature is not built: the path shows a "coming soon" page.
    pub built: bool,
    /// Catalog key of the dashboard tile's one-line description, if it has a tile.
    pub blurb: Option<&'static str>,
}

const fn entry(
    audience: Audience,
    orgs: Orgs,
    label: &'static str,
    path: &'static str,
    needs: Permission,
    built: bool,
    blurb: Option<&'static str>,
) -> NavDef {
    NavDef {
        audience,
        orgs,
        label,
        path,
        needs,
        built,
        blurb,
    }
}

use Audience::{Admin, Portal};
use Orgs::{Both, Mission, Msp};
use Permission as P;

/// Every menu entry, in menu order; a mode's menu is the entries of its audience and org type.
/// The portal lists are exactly the spec's.
#[rustfmt::skip]
pub const REGISTRY: &[NavDef] = &[
    // The MSP client portal.
    entry(Portal, Msp, "Dashboard", "/portal/dashboard", P::PortalAccess, true, None),
    entry(Portal, Msp, "Tickets", "/portal/tickets", P::PortalAccess, true, Some("blurb-portal-tickets")),
    entry(Portal, Msp, "Service Catalog", "/portal/catalog", P::PortalAccess, true, Some("blurb-portal-catalog")),
    entry(Portal, Msp, "Invoices", "/portal/invoices", P::ViewInvoices, true, Some("blurb-portal-invoices")),
    entry(Portal, Msp, "Billing", "/portal/billing", P::ViewInvoices, true, Some("blurb-portal-billing")),
    entry(Portal, Msp, "Documents", "/portal/documents", P::PortalAccess, true, Some("blurb-portal-documents")),
    entry(Portal, Msp, "Knowledge base", "/portal/kb", P::PortalAccess, true, Some("blurb-portal-kb")),
    entry(Portal, Msp, "Announcements", "/portal/announcements", P::PortalAccess, true, Some("blurb-portal-announcements")),
    entry(Portal, Msp, "Team", "/portal/team", P::ManageTeam, true, Some("blurb-portal-team")),
    entry(Portal, Msp, "Profile", "/portal/profile", P::ChangeOwnProfile, true, None),
    // The Mission member portal.
    entry(Portal, Mission, "Dashboard", "/portal/mission/dashboard", P::MissionAccess, true, None),
    entry(Portal, Mission, "Giving", "/portal/mission/giving", P::MissionAccess, true, Some("blurb-portal-mission-giving")),
    entry(Portal, Mission, "Events", "/portal/mission/events", P::MissionAccess, true, Some("blurb-portal-mission-events")),
    entry(Portal, Mission, "Groups", "/portal/mission/groups", P::MissionAccess, true, Some("blurb-portal-mission-groups")),
    entry(Portal, Mission, "Directory", "/portal/mission/directory", P::MissionAccess, true, Some("blurb-portal-mission-directory")),
    entry(Portal, Mission, "Prayer Wall", "/portal/mission/prayer", P::MissionAccess, true, Some("blurb-portal-mission-prayer")),
    // The admin panel.
    entry(Admin, Both, "Dashboard", "/admin", P::AdminAccess, true, None),
    entry(Admin, Msp, "Tickets", "/admin/tickets", P::ManageTickets, true, None),
    entry(Admin, Msp, "Companies", "/admin/companies", P::ManageCompanies, true, None),
    entry(Admin, Msp, "Users", "/admin/users", P::ManageUsers, true, None),
    entry(Admin, Mission, "Members", "/admin/users", P::ManageUsers, true, None),
    entry(Admin, Mission, "Giving", "/admin/mission/gifts", P::ManageGiving, true, None),
    entry(Admin, Mission, "Events", "/admin/mission/events", P::ManageEvents, true, None),
    entry(Admin, Mission, "Groups", "/admin/mission/groups", P::ManageGroups, true, None),
    entry(Admin, Mission, "Households", "/admin/mission/households", P::ManageUsers, true, None),
    entry(Admin, Mission, "Giving statements", "/admin/mission/statements", P::ManageGiving, true, None),
    entry(Admin, Mission, "Prayer requests", "/admin/mission/prayer", P::ModeratePrayer, true, None),
    entry(Admin, Mission, "Mission settings", "/admin/mission/settings", P::ManageGiving, true, None),
    entry(Admin, Both, "Branding", "/admin/branding", P::ManageBranding, true, None),
    entry(Admin, Both, "Announcements", "/admin/announcements", P::ManageAnnouncements, true, None),
    entry(Admin, Msp, "Documents", "/admin/documents", P::ManageDocuments, true, None),
    entry(Admin, Msp, "Catalog", "/admin/catalog", P::ManageCatalog, true, None),
    entry(Admin, Msp, "Knowledge base", "/admin/kb", P::ManageKnowledgeBase, true, None),
    entry(Admin, Msp, "Invoices", "/admin/invoices", P::ManageInvoices, true, None),
    entry(Admin, Both, "Integrations", "/admin/integrations", P::ManageIntegrations, true, None),
    entry(Admin, Both, "Assistant", "/admin/assistant", P::ManageIntegrations, true, None),
    entry(Admin, Both, "Delivery", "/admin/jobs", P::ViewJobs, true, None),
    entry(Admin, Both, "Audit log", "/admin/audit", P::ViewTenantAudit, true, None),
    entry(Admin, Both, "Security", "/admin/security", P::ManageUsers, true, None),
];

/// JSON APIs behind pages only one kind of organisation has (the pages themselves are in the
/// registry).
const ORG_ONLY_APIS: &[(&str, Orgs)] = &[
    ("/api/v1/tickets", Msp),
    ("/api/v1/admin/tickets", Msp),
    ("/api/v1/admin/companies", Msp),
    ("/api/v1/catalog", Msp),
    ("/api/v1/invoices", Msp),
    ("/api/v1/admin/invoices", Msp),
    ("/api/v1/billing", Msp),
    ("/api/v1/admin/billing", Msp),
    ("/api/v1/mission", Mission),
    ("/api/v1/admin/mission", Mission),
    // Every staff page of the Mission side, including the form targets the menu does not list.
    ("/admin/mission", Mission),
    ("/api/v1/admin/catalog", Msp),
    ("/api/v1/team", Msp),
    ("/api/v1/kb", Msp),
    ("/api/v1/admin/kb", Msp),
];

/// Pages every organisation has though only one menu lists them (the Mission menu is exactly
/// the spec's, which leaves the profile to the header link).
const SHARED: &[&str] = &["/portal/profile"];

/// Whether `path` is `base` or below it.
fn under(path: &str, base: &str) -> bool {
    path == base || (path.starts_with(base) && path.as_bytes().get(base.len()) == Some(&b'/'))
}

/// True when `path` belongs to a feature the tenant's kind of organisation does not have: a
/// Mission tenant has no ticket queue or companies, an MSP no giving or prayer wall. The
/// request layer answers such paths with 404 whatever the role, so no page can forget.
pub fn foreign_to(path: &str, org: OrgType) -> bool {
    let owned = REGISTRY
        .iter()
        .filter(|d| d.orgs != Both && !SHARED.contains(&d.path))
        .map(|d| (d.path, d.orgs))
        .chain(ORG_ONLY_APIS.iter().copied());
    let mut claimed = false;
    for (base, orgs) in owned {
        if under(path, base) {
            if orgs.includes(org) {
                return false;
            }
            claimed = true;
        }
    }
    claimed
}

/// The entries of one mode (audience and org type), in menu order.
pub fn entries(audience: Audience, org: OrgType) -> impl Iterator<Item = &'static NavDef> {
    REGISTRY
        .iter()
        .filter(move |d| d.audience == audience && d.orgs.includes(org))
}

/// The navigation definitions for a principal's mode.
pub fn nav_defs(p: &Principal) -> impl Iterator<Item = &'static NavDef> {
    entries(p.audience, p.tenant.org_type)
}

/// Paths of an audience's entries that are not built yet, each once.
pub fn unbuilt(audience: Audience) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for d in REGISTRY
        .iter()
        .filter(|d| d.audience == audience && !d.built)
    {
        if !out.contains(&d.path) {
            out.push(d.path);
        }
    }
    out
}

#[cfg(test)]
mod org_tests {
    use super::*;

    #[test]
    fn each_kind_of_organisation_keeps_to_its_own_features() {
        for p in [
            "/admin/tickets",
            "/admin/tickets/1001",
            "/admin/companies",
            "/portal/tickets/new",
            "/api/v1/admin/tickets",
            "/portal/dashboard",
        ] {
            assert!(foreign_to(p, OrgType::Mission), "{p}");
            assert!(!foreign_to(p, OrgType::Msp), "{p}");
        }
        for p in ["/portal/mission/giving", "/portal/mission/dashboard"] {
            assert!(foreign_to(p, OrgType::Msp), "{p}");
            assert!(!foreign_to(p, OrgType::Mission), "{p}");
        }
        // Shared pages, and a page both have under different names.
        for p in [
            "/admin",
            "/admin/users",
            "/admin/branding",
            "/portal/profile",
            "/admin/ticketsx",
        ] {
            assert!(!foreign_to(p, OrgType::Mission), "{p}");
            assert!(!foreign_to(p, OrgType::Msp), "{p}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_mode_lists_a_path_once_and_starts_at_its_dashboard() {
        for audience in [Portal, Admin] {
            for org in [OrgType::Msp, OrgType::Mission] {
                let paths: Vec<_> = entries(audience, org).map(|d| d.path).collect();
                let mut unique = paths.clone();
                unique.sort_unstable();
                unique.dedup();
                assert_eq!(paths.len(), unique.len(), "{audience:?} {org:?}");
                assert!(paths[0] == "/admin" || paths[0].ends_with("/dashboard"));
            }
        }
        let mission: Vec<_> = entries(Admin, OrgType::Mission).map(|d| d.label).collect();
        assert!(mission.contains(&"Members") && !mission.contains(&"Users"));
        assert!(!mission.contains(&"Tickets"));
    }

    #[test]
    fn unbuilt_paths_are_listed_once() {
        let admin = unbuilt(Admin);
        for p in &admin {
            assert_eq!(admin.iter().filter(|q| q == &p).count(), 1, "{p}");
        }
        assert!(!admin.contains(&"/admin/users"));
        assert!(!admin.contains(&"/admin/integrations"));
    }
}
