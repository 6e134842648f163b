//! Who is asking: roles, permissions, passwords, sessions and the principal extractors.

pub mod cache;
pub mod password;
pub mod routes;
pub mod sessions;
pub mod throttle;
pub mod tokens;

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::Serialize;

use crate::companies::CompanyId;
use crate::error::AppError;
use crate::http::context::RequestContext;
use crate::tenancy::{OrgType, Tenant, TenantScope};

crate::typed_id!(
    /// Identifies a user (staff, client or member).
    UserId
);

/// Which sign-in a session belongs to; portal and admin sessions never mix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Audience {
    /// Client users and members at `/portal`.
    Portal,
    /// Staff at `/admin`.
    Admin,
}

impl Audience {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Audience::Portal => "portal",
            Audience::Admin => "admin",
        }
    }

    /// Session cookie name.
    pub fn cookie(self) -> &'static str {
        match self {
            Audience::Portal => "portico_portal",
            Audience::Admin => "portico_admin",
        }
    }

    /// Sign-in page.
    pub fn login_path(self) -> &'static str {
        match self {
            Audience::Portal => "/login",
            Audience::Admin => "/admin/login",
        }
    }

    /// The audience a request path belongs to.
    pub fn for_path(path: &str) -> Audience {
        if path == "/admin" || path.starts_with("/admin/") || path.starts_with("/api/v1/admin/") {
            Audience::Admin
        } else {
            Audience::Portal
        }
    }
}

/// A user's role; the kind of user follows from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Staff: everything in the tenant.
    StaffAdmin,
    /// Staff: tickets, catalog, KB, announcements, documents.
    Technician,
    /// Client company admin.
    ClientAdmin,
    /// Client user.
    ClientUser,
    /// Client read-only.
    ClientViewer,
    /// Mission member.
    Member,
    /// Mission leader.
    Leader,
}

/// What kind of account a user is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UserKind {
    /// Tenant staff (`/admin`).
    Staff,
    /// User of a client company (MSP portal).
    Client,
    /// Member of a mission organisation.
    Member,
}

impl UserKind {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            UserKind::Staff => "staff",
            UserKind::Client => "client",
            UserKind::Member => "member",
        }
    }

    /// The sign-in this kind uses.
    pub fn audience(self) -> Audience {
        match self {
            UserKind::Staff => Audience::Admin,
            _ => Audience::Portal,
        }
    }
}

/// Every role with its key, for forms and parsing.
pub const ALL_ROLES: [Role; 7] = [
    Role::StaffAdmin,
    Role::Technician,
    Role::ClientAdmin,
    Role::ClientUser,
    Role::ClientViewer,
    Role::Member,
    Role::Leader,
];

impl Role {
    /// Parses the stored `(kind, role)` pair.
    pub fn from_stored(kind: &str, role: &str) -> Option<Role> {
        Some(match (kind, role) {
            ("staff", "admin") => Role::StaffAdmin,
            ("staff", "technician") => Role::Technician,
            ("client", "admin") => Role::ClientAdmin,
            ("client", "user") => Role::ClientUser,
            ("client", "viewer") => Role::ClientViewer,
            ("member", "member") => Role::Member,
            ("member", "leader") => Role::Leader,
            _ => return None,
        })
    }

    /// Parses the form/API key (`client_admin`, `staff_technician`, `member`, …).
    pub fn from_key(key: &str) -> Option<Role> {
        ALL_ROLES.into_iter().find(|r| r.key() == key)
    }

    /// The form/API key.
    pub fn key(self) -> &'static str {
        match self {
            Role::StaffAdmin => "staff_admin",
            Role::Technician => "staff_technician",
            Role::ClientAdmin => "client_admin",
            Role::ClientUser => "client_user",
            Role::ClientViewer => "client_viewer",
            Role::Member => "member",
            Role::Leader => "leader",
        }
    }

    /// The kind of user holding this role.
    pub fn kind(self) -> UserKind {
        match self {
            Role::StaffAdmin | Role::Technician => UserKind::Staff,
            Role::ClientAdmin | Role::ClientUser | Role::ClientViewer => UserKind::Client,
            Role::Member | Role::Leader => UserKind::Member,
        }
    }

    /// The stored role column.
    pub fn stored_role(self) -> &'static str {
        match self {
            Role::StaffAdmin | Role::ClientAdmin => "admin",
            Role::Technician => "technician",
            Role::ClientUser => "user",
            Role::ClientViewer => "viewer",
            Role::Member => "member",
            Role::Leader => "leader",
        }
    }

    /// A label for people.
    pub fn label(self) -> &'static str {
        match self {
            Role::StaffAdmin => "Staff admin",
            Role::Technician => "Technician",
            Role::ClientAdmin => "Company admin",
            Role::ClientUser => "User",
            Role::ClientViewer => "Viewer (read-only)",
            Role::Member => "Member",
            Role::Leader => "Leader",
        }
    }

    /// Label in the words of the organisation: a church's staff are not "technicians".
    pub fn label_in(self, org: OrgType) -> &'static str {
        match (self, org) {
            (Role::StaffAdmin, OrgType::Mission) => "Church admin",
            (Role::Technician, OrgType::Mission) => "Ministry staff",
            _ => self.label(),
        }
    }

    /// Whether the role may exist in a tenant of this org type.
    pub fn fits(self, org: OrgType) -> bool {
        match self.kind() {
            UserKind::Staff => true,
            UserKind::Client => org == OrgType::Msp,
            UserKind::Member => org == OrgType::Mission,
        }
    }

    /// The one table of who may do what.
    pub fn permissions(self) -> &'static [Permission] {
        use Permission::*;
        match self {
            Role::StaffAdmin => &[
                AdminAccess,
                ManageBranding,
                ManageCompanies,
                ManageUsers,
                ViewTenantAudit,
                ManageIntegrations,
                ManageInvoices,
                ManageTickets,
                ManageCatalog,
                ManageKnowledgeBase,
                ManageAnnouncements,
                ManageDocuments,
                ViewJobs,
                ManageGiving,
                ModeratePrayer,
                ManageEvents,
                ManageGroups,
            ],
            Role::Technician => &[
                AdminAccess,
                ManageTickets,
                ManageCatalog,
                ManageKnowledgeBase,
                ManageAnnouncements,
                ManageDocuments,
                ModeratePrayer,
                ManageEvents,
                ManageGroups,
            ],
            Role::ClientAdmin => &[
                PortalAccess,
                CreateTickets,
                CommentOnTickets,
                CloseTickets,
                ViewCompanyTickets,
                ViewInvoices,
                ManageTeam,
                ViewCompanyAudit,
                ChangeOwnProfile,
            ],
            Role::ClientUser => &[
                PortalAccess,
                CreateTickets,
                CommentOnTickets,
                CloseTickets,
                ChangeOwnProfile,
            ],
            // Billing is the company admin's unless the tenant allows more (invoices settings).
            Role::ClientViewer => &[PortalAccess, ViewCompanyTickets, ChangeOwnProfile],
            Role::Member | Role::Leader => &[PortalAccess, MissionAccess, ChangeOwnProfile],
        }
    }

    /// True when the role holds `p`.
    pub fn has(self, p: Permission) -> bool {
        self.permissions().contains(&p)
    }
}

/// A capability a handler asks for; never compare role names in handlers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Use the client or member portal.
    PortalAccess,
    /// Use the member (Mission) pages.
    MissionAccess,
    /// Raise tickets.
    CreateTickets,
    /// Comment on the tickets one may see.
    CommentOnTickets,
    /// Close ("my issue is solved") and reopen the tickets one may see.
    CloseTickets,
    /// See every ticket of the own company.
    ViewCompanyTickets,
    /// See the company's invoices.
    ViewInvoices,
    /// Manage the company's team.
    ManageTeam,
    /// See the company's audit log.
    ViewCompanyAudit,
    /// Edit own profile and password.
    ChangeOwnProfile,
    /// Enter `/admin`.
    AdminAccess,
    /// Edit branding.
    ManageBranding,
    /// Create, rename, deactivate companies.
    ManageCompanies,
    /// Invite users, change roles, deactivate.
    ManageUsers,
    /// See the tenant's audit log.
    ViewTenantAudit,
    /// Configure integrations.
    ManageIntegrations,
    /// Manage invoices.
    ManageInvoices,
    /// Work the ticket queue.
    ManageTickets,
    /// Manage the service catalog.
    ManageCatalog,
    /// Manage knowledge-base articles.
    ManageKnowledgeBase,
    /// Publish announcements.
    ManageAnnouncements,
    /// Upload and send documents.
    ManageDocuments,
    /// See the tenant's background jobs (email delivery) and retry failed ones.
    ViewJobs,
    /// Mission: funds, gifts, giving statements and the Mission settings.
    ManageGiving,
    /// Mission: the prayer moderation queue, private prayer requests.
    ModeratePrayer,
    /// Mission: events, registrations and check-in.
    ManageEvents,
    /// Mission: groups, categories and leaders.
    ManageGroups,
}

/// The signed-in user behind a request.
#[derive(Clone, Debug)]
pub struct Principal {
    /// User id.
    pub user_id: UserId,
    /// Email (lowercase).
    pub email: String,
    /// Display name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Company for client users.
    pub company_id: Option<CompanyId>,
    /// Company name for client users.
    pub company_name: Option<String>,
    /// The session's tenant, authoritative for the request.
    pub tenant: Tenant,
    /// Portal or admin.
    pub audience: Audience,
    /// Hash of the session token (identifies the session without the secret).
    pub session_hash: String,
    /// The tenant requires two-step sign-in for this role and the user has not set it up:
    /// every page but enrolment and sign-out leads there.
    pub mfa_enrolment_required: bool,
    /// Interface language from the profile, when the user chose one.
    pub language: Option<String>,
    /// Time zone from the profile, when the user chose one.
    pub time_zone: Option<String>,
    /// The tenant's billing settings let this role see invoices (beyond the static
    /// `ViewInvoices` of company admins); menus read it, `billing_actor` decides access.
    pub billing_viewer: bool,
    /// Companies the person holds a membership in (more than one shows the switcher).
    pub membership_count: i64,
}

impl Principal {
    /// The tenant scope of this principal.
    pub fn scope(&self) -> TenantScope {
        self.tenant.scope()
    }

    /// Obtains `p` or refuses with 403; the returned actor carries the scope for the write.
    pub fn require(&self, p: Permission) -> Result<Actor, AppError> {
        if self.role.has(p) {
            Ok(Actor {
                scope: self.scope(),
                user_id: self.user_id.clone(),
                email: self.email.clone(),
                company_id: self.company_id.clone(),
                permission: p,
                staff: self.audience == Audience::Admin && self.role.kind() == UserKind::Staff,
            })
        } else {
            Err(AppError::Forbidden(
                "Your role does not allow this. Ask an administrator if you need it.".into(),
            ))
        }
    }

    /// True when the role holds `p`.
    pub fn can(&self, p: Permission) -> bool {
        self.role.has(p)
    }

    /// True when the menu should list an entry needing `p`: the role holds it, or it is
    /// `ViewInvoices` and the tenant extends invoices to this role.
    pub fn sees(&self, p: Permission) -> bool {
        self.can(p) || (p == Permission::ViewInvoices && self.billing_viewer)
    }
}

/// Proof that a principal holds a permission in a tenant; writes take one and audit it.
///
/// Its fields are private: the only way to get one is [`Principal::require`].
#[derive(Clone, Debug)]
pub struct Actor {
    scope: TenantScope,
    user_id: UserId,
    email: String,
    company_id: Option<CompanyId>,
    permission: Permission,
    staff: bool,
}

impl Actor {
    /// Tenant scope of the grant.
    pub fn scope(&self) -> &TenantScope {
        &self.scope
    }

    /// Acting user.
    pub fn user_id(&self) -> &UserId {
        &self.user_id
    }

    /// Acting user's email.
    pub fn email(&self) -> &str {
        &self.email
    }

    /// Acting user's company (client users).
    pub fn company_id(&self) -> Option<&CompanyId> {
        self.company_id.as_ref()
    }

    /// The permission that was granted.
    pub fn permission(&self) -> Permission {
        self.permission
    }

    /// True when the actor acts as tenant staff (an admin session), e.g. may write internal
    /// notes; derived from the grant, never passed as a flag.
    pub fn is_staff(&self) -> bool {
        self.staff
    }
}

fn principal_for(parts: &Parts, audience: Audience) -> Result<Arc<Principal>, AppError> {
    let ctx = parts
        .extensions
        .get::<RequestContext>()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("request context missing")))?;
    match &ctx.principal {
        Some(p) if p.audience == audience => Ok(p.clone()),
        _ => Err(AppError::Unauthorized),
    }
}

/// A signed-in client user or member (portal session).
#[derive(Clone, Debug)]
pub struct PortalUser(pub Arc<Principal>);

impl<S: Send + Sync> FromRequestParts<S> for PortalUser {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        let p = principal_for(parts, Audience::Portal)?;
        if !p.can(Permission::PortalAccess) {
            return Err(AppError::Unauthorized);
        }
        Ok(PortalUser(p))
    }
}

/// A signed-in staff user (admin session).
#[derive(Clone, Debug)]
pub struct StaffUser(pub Arc<Principal>);

impl<S: Send + Sync> FromRequestParts<S> for StaffUser {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        let p = principal_for(parts, Audience::Admin)?;
        if !p.can(Permission::AdminAccess) {
            return Err(AppError::Unauthorized);
        }
        Ok(StaffUser(p))
    }
}

impl std::ops::Deref for PortalUser {
    type Target = Principal;
    fn deref(&self) -> &Principal {
        &self.0
    }
}

impl std::ops::Deref for StaffUser {
    type Target = Principal;
    fn deref(&self) -> &Principal {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_and_viewers_cannot_write() {
        for r in ALL_ROLES {
            assert_eq!(Role::from_key(r.key()), Some(r));
            assert_eq!(
                Role::from_stored(r.kind().as_str(), r.stored_role()),
                Some(r)
            );
        }
        assert!(!Role::ClientViewer.has(Permission::CreateTickets));
        assert!(!Role::ClientViewer.has(Permission::CommentOnTickets));
        assert!(!Role::ClientViewer.has(Permission::CloseTickets));
        assert!(!Role::ClientUser.has(Permission::ManageTeam));
        assert!(!Role::Technician.has(Permission::ManageBranding));
        assert!(!Role::ClientAdmin.has(Permission::AdminAccess));
    }
}
