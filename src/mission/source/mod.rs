//! Where a tenant's Mission data comes from. Every member-facing read and write goes through
//! [`MissionSource`], so pages and the JSON API do not know whether Portico's own tables answer
//! or a church's own system does.
//!
//! The remote source ([`remote`], a Mission API the tenant configures, see
//! `docs/mission-api.md`) calls the API with the member's external id, caches reads briefly and
//! turns timeouts into a friendly notice. Because the member is always the [`Actor`] (never an
//! id from the request), no variant can be asked for another member's giving.

pub mod remote;

use reqwest::Method;
use serde::Deserialize;
use serde_json::json;

use crate::app::AppState;
use crate::auth::Actor;
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::mission::directory::{self, Choices, Listing};
use crate::mission::events::{
    self, EventFilter, HouseholdMember, MissionEvent, NewRegistration, Notify, Registration,
};
use crate::mission::giving::{self, Fund, Gift, GiftFilter, Total};
use crate::mission::prayer::{self, NewPrayer, Prayer, Viewer, WallFilter};
use crate::tenancy::TenantScope;

/// The built-in source: Portico's own tables, reached only through the tenant's scope.
pub struct BuiltIn<'a> {
    db: &'a Db,
    scope: TenantScope,
}

/// A tenant's Mission data source.
pub enum MissionSource<'a> {
    /// Portico's own tables (the default).
    BuiltIn(BuiltIn<'a>),
    /// The tenant's Mission API.
    Remote(remote::Remote<'a>),
}

/// A page of a remote list.
#[derive(Deserialize)]
struct Page<T> {
    items: Vec<T>,
    #[serde(default)]
    next_cursor: Option<String>,
}

/// A remote member's totals.
#[derive(Deserialize)]
struct Totals {
    by_year: Vec<Total>,
    by_fund: Vec<Total>,
}

/// What a remote write answers.
#[derive(Deserialize)]
struct Written {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    count: Option<i64>,
}

/// A member may see a remote request only as the built-in wall would show it: shared and
/// published, or their own; an anonymous author stays hidden whatever the API sent.
fn as_member_sees(mut p: Prayer) -> Option<Prayer> {
    let visible = p.mine || (p.status == "published" && p.visibility == "members");
    if p.anonymous && !p.mine {
        p.author = None;
    }
    p.reports = 0;
    visible.then_some(p)
}

impl<'a> MissionSource<'a> {
    /// Portico's own tables for this tenant: events and groups live there whatever the
    /// source of giving, the directory and the prayer wall.
    fn local(&self) -> BuiltIn<'a> {
        match self {
            MissionSource::BuiltIn(b) => BuiltIn {
                db: b.db,
                scope: b.scope.clone(),
            },
            MissionSource::Remote(r) => BuiltIn {
                db: r.db(),
                scope: r.scope().clone(),
            },
        }
    }

    /// The source the tenant is configured for.
    pub async fn for_tenant(
        app: &'a AppState,
        scope: &TenantScope,
    ) -> AppResult<MissionSource<'a>> {
        let settings = crate::mission::settings::load(&app.db, scope).await?;
        match settings.source.as_str() {
            "builtin" => Ok(MissionSource::BuiltIn(BuiltIn {
                db: &app.db,
                scope: scope.clone(),
            })),
            "remote" => {
                let key = settings
                    .remote_key_sealed
                    .as_deref()
                    .and_then(|s| crate::mfa::open(&app.config.secret_key, s))
                    .and_then(|k| String::from_utf8(k).ok());
                match (settings.remote_url.is_empty(), key) {
                    (false, Some(key)) => Ok(MissionSource::Remote(remote::Remote::new(
                        &app.db,
                        scope,
                        settings.remote_url,
                        key,
                    ))),
                    // Half configured: a notice, never data from the wrong place.
                    _ => Err(AppError::Unprocessable(remote::UNAVAILABLE.into())),
                }
            }
            _ => Err(AppError::Unprocessable(remote::UNAVAILABLE.into())),
        }
    }

    /// The funds members may give to.
    pub async fn funds(&self) -> AppResult<Vec<Fund>> {
        match self {
            MissionSource::BuiltIn(b) => Ok(giving::funds(b.db, &b.scope).await?),
            MissionSource::Remote(r) => Ok(r.get::<Page<Fund>>("/funds").await?.items),
        }
    }

    /// A page of the member's own gifts; the member is always the actor.
    pub async fn my_gifts(
        &self,
        me: &Actor,
        year: Option<i32>,
        fund_id: Option<String>,
        cursor: Option<String>,
        limit: i64,
    ) -> AppResult<(Vec<Gift>, Option<String>)> {
        match self {
            MissionSource::BuiltIn(b) => {
                let f = GiftFilter {
                    member_id: Some(me.user_id().as_str().to_string()),
                    year,
                    fund_id,
                    cursor,
                    limit,
                };
                Ok(giving::gifts(b.db, &b.scope, &f).await?)
            }
            MissionSource::Remote(r) => {
                let m = remote::enc(&r.member(me).await?);
                let mut path = format!("/members/{m}/gifts?limit={limit}");
                if let Some(y) = year {
                    path.push_str(&format!("&year={y}"));
                }
                if let Some(f) = fund_id {
                    path.push_str(&format!("&fund_id={}", remote::enc(&f)));
                }
                if let Some(c) = cursor {
                    path.push_str(&format!("&cursor={}", remote::enc(&c)));
                }
                let page: Page<Gift> = r.get(&path).await?;
                // The giver is the actor, whatever the answer says.
                let gifts = page
                    .items
                    .into_iter()
                    .map(|mut g| {
                        g.member_id = me.user_id().as_str().to_string();
                        g
                    })
                    .collect();
                Ok((gifts, page.next_cursor))
            }
        }
    }

    /// The member's totals by year, and by fund within `year`.
    pub async fn my_totals(
        &self,
        me: &Actor,
        year: Option<i32>,
    ) -> AppResult<(Vec<Total>, Vec<Total>)> {
        match self {
            MissionSource::BuiltIn(b) => {
                Ok(giving::totals(b.db, &b.scope, me.user_id().as_str(), year).await?)
            }
            MissionSource::Remote(r) => {
                let m = remote::enc(&r.member(me).await?);
                let path = match year {
                    Some(y) => format!("/members/{m}/totals?year={y}"),
                    None => format!("/members/{m}/totals"),
                };
                let t: Totals = r.get(&path).await?;
                Ok((t.by_year, t.by_fund))
            }
        }
    }

    /// Directory search as `me` sees it.
    pub async fn directory(
        &self,
        me: &Actor,
        q: &str,
        cursor: Option<&str>,
    ) -> AppResult<(Vec<Listing>, Option<String>)> {
        match self {
            MissionSource::BuiltIn(b) => {
                Ok(directory::search(b.db, &b.scope, me.user_id().as_str(), q, cursor).await?)
            }
            MissionSource::Remote(r) => {
                let m = remote::enc(&r.member(me).await?);
                let mut path = format!("/directory?viewer={m}&q={}", remote::enc(q));
                if let Some(c) = cursor {
                    path.push_str(&format!("&cursor={}", remote::enc(c)));
                }
                let page: Page<Listing> = r.get(&path).await?;
                Ok((page.items, page.next_cursor))
            }
        }
    }

    /// The member's own directory choices.
    pub async fn my_choices(&self, me: &Actor) -> AppResult<Choices> {
        match self {
            MissionSource::BuiltIn(b) => {
                Ok(directory::choices(b.db, &b.scope, me.user_id().as_str()).await?)
            }
            MissionSource::Remote(r) => {
                let m = remote::enc(&r.member(me).await?);
                r.get(&format!("/members/{m}/directory")).await
            }
        }
    }

    /// Saves the member's own directory choices.
    pub async fn set_my_choices(&self, me: &Actor, ip: &str, c: &Choices) -> AppResult<()> {
        match self {
            MissionSource::BuiltIn(b) => directory::save(b.db, me, ip, c).await,
            MissionSource::Remote(r) => {
                let m = remote::enc(&r.member(me).await?);
                let body = serde_json::to_value(c).map_err(|e| AppError::Internal(e.into()))?;
                r.send::<serde_json::Value>(Method::PUT, &format!("/members/{m}/directory"), body)
                    .await?;
                Ok(())
            }
        }
    }

    /// The prayer wall as a member sees it.
    pub async fn prayer_wall(
        &self,
        me: &Actor,
        cursor: Option<String>,
        limit: i64,
    ) -> AppResult<(Vec<Prayer>, Option<String>)> {
        match self {
            MissionSource::BuiltIn(b) => {
                let f = WallFilter {
                    cursor,
                    limit,
                    ..WallFilter::default()
                };
                Ok(prayer::wall(b.db, &b.scope, me.user_id().as_str(), Viewer::Member, &f).await?)
            }
            MissionSource::Remote(r) => {
                let m = remote::enc(&r.member(me).await?);
                let mut path = format!("/prayer?viewer={m}&limit={limit}");
                if let Some(c) = cursor {
                    path.push_str(&format!("&cursor={}", remote::enc(&c)));
                }
                let page: Page<Prayer> = r.get(&path).await?;
                let items = page.items.into_iter().filter_map(as_member_sees).collect();
                Ok((items, page.next_cursor))
            }
        }
    }

    /// One request as a member sees it.
    pub async fn prayer(&self, me: &Actor, id: &str) -> AppResult<Prayer> {
        match self {
            MissionSource::BuiltIn(b) => {
                prayer::visible(b.db, &b.scope, me.user_id().as_str(), Viewer::Member, id).await
            }
            MissionSource::Remote(r) => {
                let m = remote::enc(&r.member(me).await?);
                let p: Prayer = r
                    .get(&format!("/prayer/{}?viewer={m}", remote::enc(id)))
                    .await?;
                as_member_sees(p).ok_or(AppError::NotFound)
            }
        }
    }

    /// Posts a request.
    pub async fn post_prayer(&self, me: &Actor, ip: &str, n: &NewPrayer) -> AppResult<String> {
        match self {
            MissionSource::BuiltIn(b) => prayer::post(b.db, me, ip, n).await,
            MissionSource::Remote(r) => {
                // The same checks as the built-in wall, so a bad request never leaves Portico.
                prayer::check_new(n)?;
                let m = r.member(me).await?;
                let w: Written = r
                    .send(
                        Method::POST,
                        "/prayer",
                        json!({ "author": m, "body": n.body.trim(), "visibility": if n.visibility.trim() == "staff" { "staff" } else { "members" }, "anonymous": n.anonymous }),
                    )
                    .await?;
                w.id.ok_or_else(|| AppError::Unprocessable(remote::UNAVAILABLE.into()))
            }
        }
    }

    /// "I prayed"; returns the count.
    pub async fn pray(&self, me: &Actor, id: &str) -> AppResult<i64> {
        match self {
            MissionSource::BuiltIn(b) => prayer::pray(b.db, me, id).await,
            MissionSource::Remote(r) => {
                let m = r.member(me).await?;
                let w: Written = r
                    .send(
                        Method::POST,
                        &format!("/prayer/{}/prayed", remote::enc(id)),
                        json!({ "member": m }),
                    )
                    .await?;
                Ok(w.count.unwrap_or_default())
            }
        }
    }

    /// Marks the member's own request answered.
    pub async fn answer(&self, me: &Actor, ip: &str, id: &str, praise: &str) -> AppResult<()> {
        match self {
            MissionSource::BuiltIn(b) => prayer::answer(b.db, me, ip, id, praise).await,
            MissionSource::Remote(r) => {
                let m = r.member(me).await?;
                r.send::<serde_json::Value>(
                    Method::POST,
                    &format!("/prayer/{}/answer", remote::enc(id)),
                    json!({ "member": m, "praise": praise.trim() }),
                )
                .await?;
                Ok(())
            }
        }
    }

    /// Reports a request to staff.
    pub async fn report(&self, me: &Actor, ip: &str, id: &str) -> AppResult<()> {
        match self {
            MissionSource::BuiltIn(b) => prayer::report(b.db, me, ip, id).await,
            MissionSource::Remote(r) => {
                let m = r.member(me).await?;
                r.send::<serde_json::Value>(
                    Method::POST,
                    &format!("/prayer/{}/report", remote::enc(id)),
                    json!({ "member": m }),
                )
                .await?;
                Ok(())
            }
        }
    }

    /// Events as the member sees them (with their own registration status).
    pub async fn events(
        &self,
        me: &Actor,
        f: &EventFilter,
    ) -> AppResult<(Vec<MissionEvent>, Option<String>)> {
        let b = self.local();
        Ok(events::list(b.db, &b.scope, me.user_id().as_str(), f).await?)
    }

    /// One event as the member sees it.
    pub async fn event(&self, me: &Actor, id: &str) -> AppResult<MissionEvent> {
        let b = self.local();
        events::get(b.db, &b.scope, me.user_id().as_str(), id, false).await
    }

    /// The member's own registration for an event.
    pub async fn my_registration(&self, me: &Actor, id: &str) -> AppResult<Option<Registration>> {
        let b = self.local();
        Ok(events::my_registration(b.db, &b.scope, me.user_id().as_str(), id).await?)
    }

    /// The other members of the member's household.
    pub async fn household(&self, me: &Actor) -> AppResult<Vec<HouseholdMember>> {
        let b = self.local();
        Ok(events::household(b.db, &b.scope, me.user_id().as_str()).await?)
    }

    /// Registers the member (or puts them on the waitlist).
    pub async fn register(
        &self,
        me: &Actor,
        ip: &str,
        id: &str,
        n: &NewRegistration,
    ) -> AppResult<Registration> {
        let b = self.local();
        events::register(b.db, me, ip, id, n).await
    }

    /// Cancels the member's own registration; returns the members whose registration changed.
    pub async fn cancel_registration(
        &self,
        me: &Actor,
        ip: &str,
        id: &str,
        notify: &Notify<'_>,
    ) -> AppResult<Vec<String>> {
        let b = self.local();
        events::cancel(b.db, me, ip, id, None, notify).await
    }
}
