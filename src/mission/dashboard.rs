//! The member's Mission dashboard: latest gift and year-to-date total, my groups' newest
//! messages, the newest prayer requests, and the shortcuts to every Mission page.

use axum::extract::State;
use axum::response::Response;
use axum::routing::get;

use crate::app::AppState;
use crate::auth::{Permission, PortalUser};
use crate::error::AppResult;
use crate::http::PageRouter;
use crate::http::context::Ctx;
use crate::mission::giving::{Gift, Total};
use crate::mission::groups::GroupMessage;
use crate::mission::prayer::Prayer;
use crate::mission::source::MissionSource;
use crate::web::{PageCtx, render};

/// Pages.
pub fn pages() -> PageRouter {
    PageRouter::default().route("/portal/mission/dashboard", get(dashboard))
}

struct Tile {
    label: &'static str,
    path: &'static str,
    blurb: &'static str,
}

#[derive(askama::Template)]
#[template(path = "mission/templates/dashboard.html")]
struct Page {
    page: PageCtx,
    name: String,
    welcome: Option<String>,
    latest: Option<Gift>,
    ytd: Option<Total>,
    year: i32,
    currency: String,
    prayers: Vec<Prayer>,
    group_messages: Vec<GroupMessage>,
    tiles: Vec<Tile>,
}

async fn dashboard(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
) -> AppResult<Response> {
    let me = user.require(Permission::MissionAccess)?;
    let src = MissionSource::for_tenant(&app, me.scope()).await?;
    let tz = crate::mission::tenant_zone(&user.tenant.time_zone);
    let year = chrono::Datelike::year(&crate::mission::today(tz));
    let (latest, _) = src.my_gifts(&me, None, None, None, 1).await?;
    let (by_year, _) = src.my_totals(&me, Some(year)).await?;
    let ytd = by_year.into_iter().find(|t| t.label == year.to_string());
    let (prayers, _) = src.prayer_wall(&me, None, 3).await?;
    let group_messages =
        crate::mission::groups::my_newest_messages(&app.db, me.scope(), me.user_id().as_str(), 3)
            .await?;
    let settings = crate::mission::settings::load(&app.db, me.scope()).await?;
    let tiles = crate::web::nav_defs(&user)
        .filter(|d| user.can(d.needs))
        .filter_map(|d| {
            d.blurb.map(|blurb| Tile {
                label: d.label,
                path: d.path,
                blurb,
            })
        })
        .collect();
    render(&Page {
        page: PageCtx::new(&ctx),
        name: user.name.clone(),
        welcome: user.tenant.branding.welcome_text.clone(),
        latest: latest.into_iter().next(),
        ytd,
        year,
        currency: settings.currency,
        prayers,
        group_messages,
        tiles,
    })
}
