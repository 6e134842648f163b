//! Where a tenant's Mission data comes from. Every member-facing read and write goes through
//! [`MissionSource`], so pages and the JSON API do not know whether Portico's own tables answer
//! or a church's own system does.
//!
//! Only the built-in source exists today. A remote source (a Mission API the tenant configures,
//! see `docs/mission-api.md`) becomes a second variant: its methods call the API with the
//! member's external id, cache reads briefly and turn timeouts into a friendly notice. Because
//! the member is always the [`Actor`] (never an id from the request), no variant can be asked
//! for another member's giving.

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
}

impl<'a> MissionSource<'a> {
    /// The source the tenant is configured for.
    pub async fn for_tenant(db: &'a Db, scope: &TenantScope) -> AppResult<MissionSource<'a>> {
        let settings = crate::mission::settings::load(db, scope).await?;
        match settings.source.as_str() {
            "builtin" => Ok(MissionSource::BuiltIn(BuiltIn {
                db,
                scope: scope.clone(),
            })),
            // A tenant switched to a remote source before it exists sees a notice, not data
            // from the wrong place.
            _ => Err(AppError::Unprocessable("mission-source-unavailable".into())),
        }
    }

    /// The funds members may give to.
    pub async fn funds(&self) -> AppResult<Vec<Fund>> {
        match self {
            MissionSource::BuiltIn(b) => Ok(giving::funds(b.db, &b.scope).await?),
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
        }
    }

    /// The member's own directory choices.
    pub async fn my_choices(&self, me: &Actor) -> AppResult<Choices> {
        match self {
            MissionSource::BuiltIn(b) => {
                Ok(directory::choices(b.db, &b.scope, me.user_id().as_str()).await?)
            }
        }
    }

    /// Saves the member's own directory choices.
    pub async fn set_my_choices(&self, me: &Actor, ip: &str, c: &Choices) -> AppResult<()> {
        match self {
            MissionSource::BuiltIn(b) => directory::save(b.db, me, ip, c).await,
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
        }
    }

    /// One request as a member sees it.
    pub async fn prayer(&self, me: &Actor, id: &str) -> AppResult<Prayer> {
        match self {
            MissionSource::BuiltIn(b) => {
                prayer::visible(b.db, &b.scope, me.user_id().as_str(), Viewer::Member, id).await
            }
        }
    }

    /// Posts a request.
    pub async fn post_prayer(&self, me: &Actor, ip: &str, n: &NewPrayer) -> AppResult<String> {
        match self {
            MissionSource::BuiltIn(b) => prayer::post(b.db, me, ip, n).await,
        }
    }

    /// "I prayed"; returns the count.
    pub async fn pray(&self, me: &Actor, id: &str) -> AppResult<i64> {
        match self {
            MissionSource::BuiltIn(b) => prayer::pray(b.db, me, id).await,
        }
    }

    /// Marks the member's own request answered.
    pub async fn answer(&self, me: &Actor, ip: &str, id: &str, praise: &str) -> AppResult<()> {
        match self {
            MissionSource::BuiltIn(b) => prayer::answer(b.db, me, ip, id, praise).await,
        }
    }

    /// Reports a request to staff.
    pub async fn report(&self, me: &Actor, ip: &str, id: &str) -> AppResult<()> {
        match self {
            MissionSource::BuiltIn(b) => prayer::report(b.db, me, ip, id).await,
        }
    }

    /// Events as the member sees them (with their own registration status).
    pub async fn events(
        &self,
        me: &Actor,
        f: &EventFilter,
    ) -> AppResult<(Vec<MissionEvent>, Option<String>)> {
        match self {
            MissionSource::BuiltIn(b) => {
                Ok(events::list(b.db, &b.scope, me.user_id().as_str(), f).await?)
            }
        }
    }

    /// One event as the member sees it.
    pub async fn event(&self, me: &Actor, id: &str) -> AppResult<MissionEvent> {
        match self {
            MissionSource::BuiltIn(b) => {
                events::get(b.db, &b.scope, me.user_id().as_str(), id, false).await
            }
        }
    }

    /// The member's own registration for an event.
    pub async fn my_registration(&self, me: &Actor, id: &str) -> AppResult<Option<Registration>> {
        match self {
            MissionSource::BuiltIn(b) => {
                Ok(events::my_registration(b.db, &b.scope, me.user_id().as_str(), id).await?)
            }
        }
    }

    /// The other members of the member's household.
    pub async fn household(&self, me: &Actor) -> AppResult<Vec<HouseholdMember>> {
        match self {
            MissionSource::BuiltIn(b) => {
                Ok(events::household(b.db, &b.scope, me.user_id().as_str()).await?)
            }
        }
    }

    /// Registers the member (or puts them on the waitlist).
    pub async fn register(
        &self,
        me: &Actor,
        ip: &str,
        id: &str,
        n: &NewRegistration,
    ) -> AppResult<Registration> {
        match self {
            MissionSource::BuiltIn(b) => events::register(b.db, me, ip, id, n).await,
        }
    }

    /// Cancels the member's own registration; returns the members whose registration changed.
    pub async fn cancel_registration(
        &self,
        me: &Actor,
        ip: &str,
        id: &str,
        notify: &Notify<'_>,
    ) -> AppResult<Vec<String>> {
        match self {
            MissionSource::BuiltIn(b) => events::cancel(b.db, me, ip, id, None, notify).await,
        }
    }
}
