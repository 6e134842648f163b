//! `/admin/integrations`: the index of the tenant's connections to other systems, one card
//! each (the PSA for MSPs; legal-document push and identity for every tenant). The pages
//! behind the cards belong to their features.

use axum::extract::State;
use axum::response::Response;
use axum::routing::get;

use crate::app::AppState;
use crate::auth::{Permission, StaffUser};
use crate::error::AppResult;
use crate::http::PageRouter;
use crate::http::context::Ctx;
use crate::tenancy::OrgType;
use crate::web::{PageCtx, render};

/// Staff pages.
pub fn pages() -> PageRouter {
    PageRouter::default().route("/admin/integrations", get(index))
}

/// One card on the index.
pub struct Card {
    /// Where it leads.
    pub href: &'static str,
    /// Catalog key of its title.
    pub title: &'static str,
    /// Catalog key of its description.
    pub blurb: &'static str,
}

/// The cards a kind of organisation sees, in order.
pub fn cards(org: OrgType) -> Vec<Card> {
    let mut out = Vec::new();
    if org == OrgType::Msp {
        out.push(Card {
            href: "/admin/integrations/psa",
            title: "integrations-psa",
            blurb: "integrations-psa-blurb",
        });
    }
    out.push(Card {
        href: "/admin/integrations/legal",
        title: "integrations-legal",
        blurb: "integrations-legal-blurb",
    });
    out.push(Card {
        href: "/admin/integrations/identity",
        title: "integrations-identity",
        blurb: "integrations-identity-blurb",
    });
    out.push(Card {
        href: "/admin/integrations/oidc",
        title: "integrations-oidc",
        blurb: "integrations-oidc-blurb",
    });
    out
}

#[derive(askama::Template)]
#[template(path = "integrations/templates/index.html")]
struct IndexPage {
    page: PageCtx,
    cards: Vec<Card>,
}

async fn index(
    State(_app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
) -> AppResult<Response> {
    staff.require(Permission::ManageIntegrations)?;
    render(&IndexPage {
        page: PageCtx::new(&ctx),
        cards: cards(staff.tenant.org_type),
    })
}
