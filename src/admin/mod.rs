//! The admin panel shell: dashboard, audit log, and sections still to come.

use axum::Router;
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
pub fn pages() -> Router<AppState> {
    let mut r = Router::new()
        .route("/admin", get(dashboard))
        .route("/admin/audit", get(audit_page));
    let mut seen = std::collections::HashSet::new();
    for def in crate::web::ADMIN_MSP_NAV
        .iter()
        .chain(crate::web::ADMIN_MISSION_NAV)
        .filter(|d| !d.built)
    {
        if seen.insert(def.path) {
            r = r.route(def.path, get(coming_soon));
        }
    }
    r
}

#[derive(askama::Template)]
#[template(path = "admin/templates/dashboard.html")]
struct DashboardPage {
    page: PageCtx,
    tiles: Vec<(&'static str, &'static str, &'static str)>,
    recent: Vec<AuditRow>,
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
    render(&DashboardPage {
        page,
        tiles,
        recent,
    })
}

#[derive(askama::Template)]
#[template(path = "admin/templates/audit.html")]
struct AuditPage {
    page: PageCtx,
    recent: Vec<AuditRow>,
    chain_ok: bool,
    broken_at: i64,
}

async fn audit_page(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ViewTenantAudit)?;
    let recent = audit::recent(&app.db, &actor.scope, 100).await?;
    let broken = audit::verify(&app.db, &actor.scope).await?;
    render(&AuditPage {
        page: PageCtx::new(&ctx),
        recent,
        chain_ok: broken.is_none(),
        broken_at: broken.unwrap_or(0),
    })
}

async fn coming_soon(staff: StaffUser, Ctx(ctx): Ctx) -> AppResult<Response> {
    crate::portal::coming_soon(&staff, &ctx, crate::web::nav_defs(&staff))
}
