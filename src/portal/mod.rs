//! The client and member portal shell: dashboards and pages still to come (the profile is in
//! `profile`).

use crate::http::PageRouter;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};

use crate::app::AppState;
use crate::tickets::dashboard::{ClientSummary, ClientView};
use axum::routing::get;

use crate::auth::{Permission, PortalUser, Principal};
use crate::error::{AppError, AppResult};
use crate::http::context::{Ctx, RequestContext};
use crate::tenancy::OrgType;
use crate::web::{PageCtx, render};

/// Pages.
pub fn pages() -> PageRouter {
    let mut r = PageRouter::default()
        .route("/portal", get(portal_root))
        .route("/portal/dashboard", get(msp_dashboard));
    for path in crate::web::nav::unbuilt(crate::auth::Audience::Portal) {
        r = r.route(path, get(portal_coming_soon));
    }
    r
}

struct Tile {
    label: &'static str,
    path: &'static str,
    blurb: &'static str,
}

#[derive(askama::Template)]
#[template(path = "portal/templates/dashboard.html")]
struct DashboardPage {
    page: PageCtx,
    name: String,
    welcome: Option<String>,
    company: Option<String>,
    tiles: Vec<Tile>,
    read_only: bool,
    /// The ticket summary (MSP clients).
    tickets: Option<ClientSummary>,
    /// The client has tickets of their own (may raise them).
    own_tickets: bool,
    /// Overdue invoices of the company, for those who may see invoices.
    overdue_invoices: Option<i64>,
    /// Unread announcements and newest articles (rendered by `announcements`).
    news: String,
    /// Documents waiting for the user's signature (MSP clients).
    pending_signatures: Option<i64>,
}

async fn dashboard(app: &AppState, p: &Principal, ctx: &RequestContext) -> AppResult<Response> {
    let page = PageCtx::new(ctx);
    let news = if p.tenant.org_type == OrgType::Msp {
        crate::announcements::routes::dashboard_section(app, p, &page).await?
    } else {
        String::new()
    };
    let tickets = match (&p.company_id, p.tenant.org_type) {
        (Some(company), OrgType::Msp) => Some(
            crate::tickets::dashboard::client(
                &app.db,
                &p.scope(),
                &ClientView {
                    company_id: company.as_str(),
                    user_id: p.user_id.as_str(),
                    company_wide: p.can(Permission::ViewCompanyTickets),
                },
            )
            .await?,
        ),
        _ => None,
    };
    // Shortcuts to the rest of the portal (already filtered by permission); tickets have
    // their own section above them when there is one.
    let tiles = crate::web::nav_defs(p)
        .filter(|d| p.sees(d.needs))
        .filter(|d| tickets.is_none() || d.path != "/portal/tickets")
        .filter_map(|d| {
            d.blurb.map(|blurb| Tile {
                label: d.label,
                path: d.path,
                blurb,
            })
        })
        .collect();
    let pending_signatures = match tickets {
        Some(_) => Some(
            crate::documents::store::pending_count(
                &app.db,
                &p.scope(),
                p.user_id.as_str(),
                p.company_id.as_ref().map(|c| c.as_str()).unwrap_or(""),
            )
            .await?,
        ),
        None => None,
    };
    render(&DashboardPage {
        pending_signatures,
        page,
        name: p.name.clone(),
        welcome: p.tenant.branding.welcome_text.clone(),
        company: p.company_name.clone(),
        tiles,
        // A client who may not raise tickets is told so once, quietly, instead of finding out
        // from a missing button.
        read_only: p.tenant.org_type == OrgType::Msp && !p.can(Permission::CreateTickets),
        own_tickets: p.can(Permission::CreateTickets),
        tickets,
        news,
        overdue_invoices: crate::invoices::service::dashboard_overdue(app, p).await?,
    })
}

async fn portal_root(user: PortalUser) -> Redirect {
    Redirect::to(user.tenant.org_type.home())
}

async fn msp_dashboard(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
) -> AppResult<Response> {
    if user.tenant.org_type == OrgType::Mission {
        return Ok(Redirect::to(OrgType::Mission.home()).into_response());
    }
    dashboard(&app, &user, &ctx).await
}

#[derive(askama::Template)]
#[template(path = "web/templates/coming_soon.html")]
struct ComingSoon {
    page: PageCtx,
    label: &'static str,
}

/// A "coming soon" page for a navigation entry whose feature is not built yet.
pub fn coming_soon(p: &Principal, ctx: &RequestContext) -> AppResult<Response> {
    let def = crate::web::nav_defs(p)
        .find(|d| d.path == ctx.path)
        .ok_or(AppError::NotFound)?;
    p.require(def.needs)?;
    render(&ComingSoon {
        page: PageCtx::new(ctx),
        label: def.label,
    })
}

async fn portal_coming_soon(user: PortalUser, Ctx(ctx): Ctx) -> AppResult<Response> {
    coming_soon(&user, &ctx)
}
