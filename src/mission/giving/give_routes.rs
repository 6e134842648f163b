//! Give now and recurring gifts: the member's forms on the giving page, the change and cancel
//! pages of a schedule, their JSON API, and the staff's read-only list of schedules.

use aide::axum::routing::get_with;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};

use super::Fund;
use super::give::{self, Amount, CardState, GiveInput, GiveOptions, Started};
use super::recurring::{self, Change, NewSchedule, Schedule};
use super::routes::{GiveNotice, GiveState, GivingQuery, giving_response};
use crate::app::AppState;
use crate::auth::{Actor, Permission, PortalUser, StaffUser};
use crate::error::{AppError, AppResult};
use crate::http::context::{Ctx, RequestContext};
use crate::http::{ApiRouter, PageRouter};
use crate::web::{FormErrors, PageCtx, render};

/// Pages.
pub fn pages() -> PageRouter {
    PageRouter::default()
        .route("/portal/mission/giving/give", post(give_form))
        .route("/portal/mission/giving/card", post(card_form))
        .route("/portal/mission/giving/recurring", post(create_form))
        .route(
            "/portal/mission/giving/recurring/{id}",
            get(edit_page).post(edit_form),
        )
        .route(
            "/portal/mission/giving/recurring/{id}/pause",
            post(pause_form),
        )
        .route(
            "/portal/mission/giving/recurring/{id}/resume",
            post(resume_form),
        )
        .route(
            "/portal/mission/giving/recurring/{id}/cancel",
            get(cancel_page).post(cancel_form),
        )
}

/// JSON API.
pub fn api() -> ApiRouter {
    ApiRouter::default()
        .route(
            "/api/v1/mission/giving/give",
            get_with(api_options, |op| {
                op.id("missionGiveOptions").tag("mission").summary("How I can give online")
                    .description("`mode` is `provider` (give here: `POST` this path), `link` (the organisation's external giving page, `giving_url`) or `none`. Amounts are minor units of `currency`, between `min_minor` and `max_minor`.")
            })
            .post_with(api_give, |op| {
                op.id("missionGive").tag("mission").summary("Start a one-time gift")
                    .description("Opens the payment provider's hosted checkout for a gift to an active fund (`fund_id`, `amount_minor`, optional `currency` which must be the organisation's); send the member to `url`. The gift is recorded when the provider's signed webhook confirms the payment, once. 422 when giving online is not available (see `GET`).")
            }),
        )
        .route(
            "/api/v1/mission/giving/card",
            get_with(api_card, |op| {
                op.id("missionGivingCard").tag("mission").summary("My card for recurring gifts")
            })
            .post_with(api_card_setup, |op| {
                op.id("missionGivingCardSetup").tag("mission").summary("Save a card for recurring gifts")
                    .description("Opens the provider's hosted page where the member saves a card; send the member to `url`.")
            }),
        )
        .route(
            "/api/v1/mission/giving/recurring",
            get_with(api_list, |op| {
                op.id("listRecurringGifts").tag("mission").summary("My recurring gifts")
            })
            .post_with(api_create, |op| {
                op.id("createRecurringGift").tag("mission").summary("Set up a recurring gift")
                    .description("`fund_id`, `amount_minor`, `frequency` (`weekly` or `monthly`), `start_on` (`YYYY-MM-DD`, today or later). Needs a saved card (see `/api/v1/mission/giving/card`); charged off-session on each gift day. Built-in Mission data only.")
                    .response_with::<201, Json<Schedule>, _>(|r| r.description("Set up."))
            }),
        )
        .route(
            "/api/v1/mission/giving/recurring/{id}",
            get_with(api_get, |op| {
                op.id("getRecurringGift").tag("mission").summary("One of my recurring gifts")
            })
            .patch_with(api_change, |op| {
                op.id("changeRecurringGift").tag("mission").summary("Change, pause or resume a recurring gift")
                    .description("Only the fields given change: `fund_id`, `amount_minor`, `status` (`paused` or `active`). Resuming skips the days missed while paused.")
            })
            .delete_with(api_cancel, |op| {
                op.id("cancelRecurringGift").tag("mission").summary("Cancel a recurring gift")
            }),
        )
        .route(
            "/api/v1/admin/mission/recurring",
            get_with(api_admin_list, |op| {
                op.id("adminListRecurringGifts").tag("mission-admin").summary("Recurring gift schedules")
                    .description("Needs `manage_giving`. Every live schedule, or one member's (`member`, a user id). Read-only: only the member changes a schedule.")
            }),
        )
}

#[derive(askama::Template)]
#[template(path = "mission/templates/give_redirect.html")]
struct RedirectPage {
    page: PageCtx,
    url: String,
}

/// The site's CSP (`form-action 'self'`) stops a form's redirect to another origin, so a form
/// that goes to the provider answers with a page of ours that moves on by itself, and a link.
fn to_provider(ctx: &RequestContext, url: String) -> AppResult<Response> {
    let mut r = render(&RedirectPage {
        page: PageCtx::new(ctx),
        url: url.clone(),
    })?;
    if let Ok(v) = axum::http::HeaderValue::from_str(&format!("0; url={url}")) {
        r.headers_mut().insert(axum::http::header::REFRESH, v);
    }
    Ok(r)
}

fn member(user: &PortalUser) -> AppResult<Actor> {
    user.require(Permission::MissionAccess)
}

/// A form post answered with the giving page again: its field errors, or a message.
#[allow(clippy::too_many_arguments)]
async fn again(
    app: &AppState,
    user: &PortalUser,
    ctx: &RequestContext,
    e: AppError,
    mut s: GiveState,
) -> AppResult<Response> {
    let status = e.status();
    match e {
        AppError::Validation { fields, .. } => s.errors = FormErrors(fields),
        AppError::Unprocessable(m) => s.error = Some(m),
        other => return Err(other),
    }
    giving_response(
        app,
        user,
        ctx,
        &GivingQuery::default(),
        &GiveNotice::default(),
        s,
        status,
    )
    .await
}

#[derive(Deserialize)]
struct GiveForm {
    #[serde(default)]
    fund_id: String,
    #[serde(default)]
    amount: String,
}

async fn give_form(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    axum::Form(f): axum::Form<GiveForm>,
) -> AppResult<Response> {
    let me = member(&user)?;
    let input = GiveInput {
        fund_id: f.fund_id.clone(),
        amount: Amount {
            amount: Some(f.amount.clone()),
            ..Amount::default()
        },
    };
    match give::start(&app, &me, &ctx.ip, &user.tenant.slug, &input).await {
        Ok(s) => to_provider(&ctx, s.url),
        Err(e) => {
            let s = GiveState {
                form: "give",
                fund_id: f.fund_id,
                amount: f.amount,
                ..GiveState::default()
            };
            again(&app, &user, &ctx, e, s).await
        }
    }
}

async fn card_form(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
) -> AppResult<Response> {
    let me = member(&user)?;
    match give::start_card_setup(&app, &me, &ctx.ip, &user.tenant.slug).await {
        Ok(url) => to_provider(&ctx, url),
        Err(e) => {
            let s = GiveState {
                form: "recurring",
                ..GiveState::default()
            };
            again(&app, &user, &ctx, e, s).await
        }
    }
}

#[derive(Deserialize)]
struct ScheduleForm {
    #[serde(default)]
    fund_id: String,
    #[serde(default)]
    amount: String,
    #[serde(default)]
    frequency: String,
    #[serde(default)]
    start_on: String,
}

async fn create_form(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    axum::Form(f): axum::Form<ScheduleForm>,
) -> AppResult<Response> {
    let me = member(&user)?;
    let input = NewSchedule {
        fund_id: f.fund_id.clone(),
        amount: Amount {
            amount: Some(f.amount.clone()),
            ..Amount::default()
        },
        frequency: f.frequency.clone(),
        start_on: f.start_on.clone(),
    };
    match recurring::create(&app, &me, &ctx.ip, &input).await {
        Ok(_) => Ok(
            Redirect::to("/portal/mission/giving?notice=recurring-created#recurring-h")
                .into_response(),
        ),
        Err(e) => {
            let s = GiveState {
                form: "recurring",
                fund_id: f.fund_id,
                amount: f.amount,
                frequency: f.frequency,
                start_on: f.start_on,
                ..GiveState::default()
            };
            again(&app, &user, &ctx, e, s).await
        }
    }
}

#[derive(askama::Template)]
#[template(path = "mission/templates/recurring.html")]
struct EditPage {
    page: PageCtx,
    r: Schedule,
    funds: Vec<Fund>,
    fund_id: String,
    amount: String,
    errors: FormErrors,
}

impl EditPage {
    fn frequency(&self, f: &str) -> String {
        self.page.t.get(&format!("mission-frequency-{f}"))
    }
    fn day(&self, d: &str) -> String {
        crate::mission::parse_date(d)
            .map(|d| {
                self.page
                    .t
                    .date(crate::mission::date_ms(d, chrono_tz::Tz::UTC))
            })
            .unwrap_or_default()
    }
}

async fn mine_or_404(app: &AppState, me: &Actor, id: &str) -> AppResult<Schedule> {
    recurring::mine(&app.db, me, id)
        .await?
        .ok_or(AppError::NotFound)
}

async fn edit_page(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let me = member(&user)?;
    let r = mine_or_404(&app, &me, &id).await?;
    render(&EditPage {
        page: PageCtx::new(&ctx),
        funds: give::active_funds(&app.db, me.scope()).await?,
        fund_id: r.fund_id.clone(),
        amount: crate::mission::plain_amount(r.amount_minor),
        errors: FormErrors::default(),
        r,
    })
}

#[derive(Deserialize)]
struct EditForm {
    #[serde(default)]
    fund_id: String,
    #[serde(default)]
    amount: String,
}

async fn edit_form(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<EditForm>,
) -> AppResult<Response> {
    let me = member(&user)?;
    let change = Change {
        fund_id: Some(f.fund_id.clone()),
        amount: Amount {
            amount: Some(f.amount.clone()),
            ..Amount::default()
        },
        status: None,
    };
    match recurring::change(&app, &me, &ctx.ip, &id, &change).await {
        Ok(_) => Ok(
            Redirect::to("/portal/mission/giving?notice=recurring-changed#recurring-h")
                .into_response(),
        ),
        Err(e @ AppError::Validation { .. }) => {
            let r = mine_or_404(&app, &me, &id).await?;
            let mut resp = render(&EditPage {
                page: PageCtx::new(&ctx),
                funds: give::active_funds(&app.db, me.scope()).await?,
                fund_id: f.fund_id,
                amount: f.amount,
                errors: FormErrors::from(&e),
                r,
            })?;
            *resp.status_mut() = StatusCode::BAD_REQUEST;
            Ok(resp)
        }
        Err(e) => Err(e),
    }
}

async fn set_status(
    app: &AppState,
    user: &PortalUser,
    ip: &str,
    id: &str,
    status: &str,
    notice: &str,
) -> AppResult<Response> {
    let me = member(user)?;
    let change = Change {
        status: Some(status.into()),
        ..Change::default()
    };
    recurring::change(app, &me, ip, id, &change).await?;
    Ok(Redirect::to(&format!(
        "/portal/mission/giving?notice={notice}#recurring-h"
    ))
    .into_response())
}

async fn pause_form(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    set_status(&app, &user, &ctx.ip, &id, "paused", "recurring-paused").await
}

async fn resume_form(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    set_status(&app, &user, &ctx.ip, &id, "active", "recurring-resumed").await
}

#[derive(askama::Template)]
#[template(path = "mission/templates/recurring_cancel.html")]
struct CancelPage {
    page: PageCtx,
    r: Schedule,
}

impl CancelPage {
    fn frequency(&self, f: &str) -> String {
        self.page.t.get(&format!("mission-frequency-{f}"))
    }
}

async fn cancel_page(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let me = member(&user)?;
    let r = mine_or_404(&app, &me, &id).await?;
    render(&CancelPage {
        page: PageCtx::new(&ctx),
        r,
    })
}

async fn cancel_form(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let me = member(&user)?;
    recurring::cancel(&app, &me, &ctx.ip, &id).await?;
    Ok(
        Redirect::to("/portal/mission/giving?notice=recurring-cancelled#recurring-h")
            .into_response(),
    )
}

// --- JSON ---

async fn api_options(
    State(app): State<AppState>,
    user: PortalUser,
) -> AppResult<Json<GiveOptions>> {
    let me = member(&user)?;
    Ok(Json(give::options(&app, me.scope()).await?))
}

async fn api_give(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Json(b): Json<GiveInput>,
) -> AppResult<Json<Started>> {
    let me = member(&user)?;
    Ok(Json(
        give::start(&app, &me, &ctx.ip, &user.tenant.slug, &b).await?,
    ))
}

async fn api_card(State(app): State<AppState>, user: PortalUser) -> AppResult<Json<CardState>> {
    let me = member(&user)?;
    Ok(Json(give::card(&app, &me).await?))
}

/// Where to send the member.
#[derive(Serialize, schemars::JsonSchema)]
struct Url {
    url: String,
}

async fn api_card_setup(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
) -> AppResult<Json<Url>> {
    let me = member(&user)?;
    let url = give::start_card_setup(&app, &me, &ctx.ip, &user.tenant.slug).await?;
    Ok(Json(Url { url }))
}

/// A list of schedules.
#[derive(Serialize, schemars::JsonSchema)]
struct Schedules {
    items: Vec<Schedule>,
}

/// Recurring gifts are kept in Portico's own tables: a remote Mission API tenant has none here.
async fn require_builtin(app: &AppState, me: &Actor) -> AppResult<()> {
    if give::options(app, me.scope()).await?.recurring {
        Ok(())
    } else {
        Err(AppError::Unprocessable(
            crate::i18n::k("mission-error-recurring-remote").into(),
        ))
    }
}

async fn api_list(State(app): State<AppState>, user: PortalUser) -> AppResult<Json<Schedules>> {
    let me = member(&user)?;
    require_builtin(&app, &me).await?;
    Ok(Json(Schedules {
        items: recurring::list(&app.db, me.scope(), Some(me.user_id().as_str())).await?,
    }))
}

async fn api_create(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Json(b): Json<NewSchedule>,
) -> AppResult<Response> {
    let me = member(&user)?;
    let s = recurring::create(&app, &me, &ctx.ip, &b).await?;
    Ok((StatusCode::CREATED, Json(s)).into_response())
}

async fn api_get(
    State(app): State<AppState>,
    user: PortalUser,
    Path(id): Path<String>,
) -> AppResult<Json<Schedule>> {
    let me = member(&user)?;
    Ok(Json(mine_or_404(&app, &me, &id).await?))
}

async fn api_change(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    Json(b): Json<Change>,
) -> AppResult<Json<Schedule>> {
    let me = member(&user)?;
    Ok(Json(recurring::change(&app, &me, &ctx.ip, &id, &b).await?))
}

/// A cancelled schedule.
#[derive(Serialize, schemars::JsonSchema)]
struct Cancelled {
    cancelled: bool,
    id: String,
}

async fn api_cancel(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> AppResult<Json<Cancelled>> {
    let me = member(&user)?;
    let s = recurring::cancel(&app, &me, &ctx.ip, &id).await?;
    Ok(Json(Cancelled {
        cancelled: true,
        id: s.id,
    }))
}

#[derive(Deserialize, Default, schemars::JsonSchema)]
struct MemberQuery {
    /// One member's schedules (user id).
    #[serde(default)]
    member: Option<String>,
}

async fn api_admin_list(
    State(app): State<AppState>,
    staff: StaffUser,
    Query(q): Query<MemberQuery>,
) -> AppResult<Json<Schedules>> {
    let actor = staff.require(Permission::ManageGiving)?;
    Ok(Json(Schedules {
        items: recurring::list(
            &app.db,
            actor.scope(),
            q.member.as_deref().filter(|m| !m.is_empty()),
        )
        .await?,
    }))
}
