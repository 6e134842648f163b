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
    tiles: Vec<(&'static str, &'static str, &'static str)>,
    recent: Vec<AuditRow>,
    storage: Option<crate::files::quota::Usage>,
}

async fn dashboard(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
) -> AppResult<Response> {
    let page = PageCtx::new(&ctx);
    let tiles = page
        .nav
        .iter()
        .filter(|n| n.path != "/admin")
        .map(|n| (n.path, n.label, "Open"))
        .collect();
    let recent = if staff.can(Permission::ViewTenantAudit) {
        audit::recent(&app.db, &staff.scope(), 10).await?
    } else {
        Vec::new()
    };
    // Tenant settings are the branding managers' business; so is the storage allowance.
    let storage = if staff.can(Permission::ManageBranding) {
        Some(crate::files::quota::usage(&app.db, &staff.scope()).await?)
    } else {
        None
    };
    render(&DashboardPage {
        page,
        tiles,
        recent,
        storage,
    })
}

async fn coming_soon(staff: StaffUser, Ctx(ctx): Ctx) -> AppResult<Response> {
    crate::portal::coming_soon(&staff, &ctx)
}
