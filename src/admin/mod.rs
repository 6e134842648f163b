//! The admin panel shell: dashboard and sections still to come (the audit log is in `audit`).

use crate::http::PageRouter;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;

use crate::app::AppState;
use crate::audit::{self, AuditRow};
use crate::auth::{Permission, StaffUser};
use crate::error::AppResult;
use crate::http::context::Ctx;
use crate::tenancy::OrgType;
use crate::tickets::dashboard::StaffSummary;
use crate::tickets::store::{ListFilter, ListScope, Sort, TicketSummary};
use crate::web::{PageCtx, render};

/// Pages.
pub fn pages() -> PageRouter {
    let mut r = PageRouter::default().route("/admin", get(dashboard));
    for path in crate::web::nav::unbuilt(crate::auth::Audience::Admin) {
        r = r.route(path, get(coming_soon));
    }
    r
}

#[derive(askama::Template)]
#[template(path = "admin/templates/dashboard.html")]
struct DashboardPage {
    page: PageCtx,
    recent: Vec<AuditRow>,
    storage: Option<crate::files::quota::Usage>,
    /// The queue at a glance (MSP staff who work tickets).
    queue: Option<StaffSummary>,
    /// The viewer's own open tickets, most recently changed first.
    mine: Vec<TicketSummary>,
    /// Emails that failed or are being retried (staff who see deliveries).
    failing_emails: Option<i64>,
}

async fn dashboard(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
) -> AppResult<Response> {
    let page = PageCtx::new(&ctx);
    let scope = staff.scope();
    let recent = if staff.can(Permission::ViewTenantAudit) {
        audit::recent(&app.db, &scope, 8).await?
    } else {
        Vec::new()
    };
    // Tenant settings are the branding managers' business; so is the storage allowance.
    let storage = if staff.can(Permission::ManageBranding) {
        Some(crate::files::quota::usage(&app.db, &scope).await?)
    } else {
        None
    };
    let works_tickets =
        staff.can(Permission::ManageTickets) && staff.tenant.org_type == OrgType::Msp;
    let (queue, mine) = if works_tickets {
        let me = staff.user_id.as_str();
        let queue = crate::tickets::dashboard::staff(&app.db, &scope, me).await?;
        let (mine, _) = crate::tickets::store::list(
            &app.db,
            &scope,
            &ListFilter {
                scope: ListScope::Tenant,
                statuses: crate::tickets::routes::statuses(None),
                q: None,
                priority: None,
                company_id: None,
                assignee_id: Some(me.to_string()),
                sla: None,
                sort: Sort::Updated,
                cursor: None,
                limit: 5,
                search_internal: false,
            },
        )
        .await?;
        (Some(queue), mine)
    } else {
        (None, Vec::new())
    };
    let failing_emails = if staff.can(Permission::ViewJobs) {
        Some(crate::jobs::failing_emails(&app.db, &scope).await?)
    } else {
        None
    };
    render(&DashboardPage {
        page,
        recent,
        storage,
        queue,
        mine,
        failing_emails,
    })
}

async fn coming_soon(staff: StaffUser, Ctx(ctx): Ctx) -> AppResult<Response> {
    crate::portal::coming_soon(&staff, &ctx)
}
