//! Event pages and JSON: the member's list, month calendar, detail, registration, `.ics` and
//! calendar feed; the staff's events, registrations (CSV) and the phone check-in page.

use aide::axum::routing::{get_with, post_with};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{Datelike, NaiveDate, TimeZone};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::{
    EventFilter, EventInput, HouseholdMember, MissionEvent, NewRegistration, Notify, PAGE_SIZE,
    Question, Registration,
};
use crate::app::AppState;
use crate::auth::{Actor, Permission, PortalUser, StaffUser};
use crate::error::{AppError, AppResult};
use crate::http::context::{Ctx, RequestContext};
use crate::http::{ApiRouter, PageRouter};
use crate::mission::source::MissionSource;
use crate::web::{FormErrors, PageCtx, form_outcome, render, render_form};

/// Pages.
pub fn pages() -> PageRouter {
    PageRouter::default()
        .route("/portal/mission/events", get(list_page))
        .route("/portal/mission/events/live.js", get(script))
        .route("/portal/mission/events/feed", post(feed_form))
        .route("/portal/mission/events/{id}", get(detail_page))
        .route("/portal/mission/events/{id}/register", post(register_form))
        .route("/portal/mission/events/{id}/cancel", post(cancel_form))
        .route("/portal/mission/events/{id}/event.ics", get(event_ics))
        .route("/mission/calendar/{token}", get(feed_ics))
        .route(
            "/admin/mission/events",
            get(admin_list).post(admin_create_form),
        )
        .route(
            "/admin/mission/events/{id}",
            get(admin_detail).post(admin_update_form),
        )
        .route("/admin/mission/events/{id}/status", post(admin_status_form))
        .route(
            "/admin/mission/events/{id}/registrations.csv",
            get(admin_csv),
        )
        .route(
            "/admin/mission/events/{id}/registrations/{rid}/cancel",
            post(admin_cancel_form),
        )
        .route(
            "/admin/mission/events/{id}/checkin",
            get(checkin_page).post(checkin_form),
        )
}

/// JSON API.
pub fn api() -> ApiRouter {
    ApiRouter::default()
        .route(
            "/api/v1/mission/events",
            get_with(api_list, |op| {
                op.id("listMissionEvents").tag("mission").summary("Upcoming events")
                    .description("Upcoming events in start order (`cursor` pagination), or every event of `month` (`YYYY-MM`, the viewer's zone). `mine=true` lists only events I registered for.")
            }),
        )
        .route(
            "/api/v1/mission/events/{id}",
            get_with(api_detail, |op| {
                op.id("getMissionEvent").tag("mission").summary("An event, my registration and my household")
            }),
        )
        .route(
            "/api/v1/mission/events/{id}/registration",
            post_with(api_register, |op| {
                op.id("registerForEvent").tag("mission").summary("Register (me, household members, guests)")
                    .description("Lands on the waitlist when the event is full and has one; 409 when full without one or already registered.")
                    .response_with::<201, Json<Registration>, _>(|r| r.description("Registered or waitlisted."))
            })
            .delete_with(api_cancel, |op| {
                op.id("cancelEventRegistration").tag("mission").summary("Cancel my registration")
                    .description("Frees the seats; the waitlist is promoted at once (email and live event to each promoted member).")
            }),
        )
        .route(
            "/api/v1/mission/calendar-feed",
            post_with(api_feed, |op| {
                op.id("resetCalendarFeed").tag("mission").summary("Create or reset my calendar feed")
                    .description("Returns the new secret feed URL (shown once); the previous URL stops working.")
            }),
        )
        .route(
            "/api/v1/admin/mission/events",
            get_with(api_admin_list, |op| {
                op.id("adminListEvents").tag("mission-admin").summary("Events")
                    .description("Needs `manage_events`. Upcoming events, called-off ones included.")
            })
            .post_with(api_admin_create, |op| {
                op.id("adminCreateEvent").tag("mission-admin").summary("Create an event")
                    .response_with::<201, Json<MissionEvent>, _>(|r| r.description("Created."))
            }),
        )
        .route(
            "/api/v1/admin/mission/events/{id}",
            get_with(api_admin_get, |op| op.id("adminGetEvent").tag("mission-admin").summary("An event"))
                .put_with(api_admin_update, |op| {
                    op.id("adminUpdateEvent").tag("mission-admin").summary("Change an event")
                        .description("More seats promote the waitlist at once.")
                }),
        )
        .route(
            "/api/v1/admin/mission/events/{id}/registrations",
            get_with(api_admin_regs, |op| {
                op.id("adminEventRegistrations").tag("mission-admin").summary("Registrations and waitlist")
            }),
        )
        .route(
            "/api/v1/admin/mission/events/{id}/registrations/{rid}",
            aide::axum::routing::delete_with(api_admin_cancel, |op| {
                op.id("adminCancelRegistration").tag("mission-admin").summary("Cancel a registration")
            }),
        )
        .route(
            "/api/v1/admin/mission/events/{id}/registrations/{rid}/check-in",
            post_with(api_admin_checkin, |op| {
                op.id("adminCheckIn").tag("mission-admin").summary("Check a registration in (or `undo`)")
            }),
        )
}

fn notify(app: &AppState) -> Notify<'_> {
    Notify {
        bus: &app.events,
        base_url: &app.config.base_url,
    }
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// `YYYY-MM` → the first day of that month.
fn parse_month(m: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(&format!("{}-01", m.trim()), "%Y-%m-%d").ok()
}

fn local_ms(d: NaiveDate, tz: Tz) -> i64 {
    d.and_hms_opt(0, 0, 0)
        .and_then(|d| tz.from_local_datetime(&d).earliest())
        .map(|d| d.timestamp_millis())
        .unwrap_or_default()
}

fn next_month(d: NaiveDate) -> NaiveDate {
    d.checked_add_months(chrono::Months::new(1)).unwrap_or(d)
}

/// Parses a `datetime-local` value in `tz` (staff forms).
fn parse_local(s: &str, tz: Tz) -> i64 {
    chrono::NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%dT%H:%M")
        .ok()
        .and_then(|d| tz.from_local_datetime(&d).earliest())
        .map(|d| d.timestamp_millis())
        .unwrap_or_default()
}

/// Unix ms as a `datetime-local` value in `tz`.
fn local_input(ms: i64, tz: Tz) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|d| d.with_timezone(&tz).format("%Y-%m-%dT%H:%M").to_string())
        .unwrap_or_default()
}

fn hhmm(ms: i64, tz: Tz) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|d| d.with_timezone(&tz).format("%H:%M").to_string())
        .unwrap_or_default()
}

#[derive(Deserialize, Default, schemars::JsonSchema)]
struct ListQuery {
    /// Next page.
    #[serde(default)]
    cursor: Option<String>,
    /// `YYYY-MM`: every event of that month.
    #[serde(default)]
    month: Option<String>,
    /// Only events I registered for.
    #[serde(default)]
    mine: Option<bool>,
    #[serde(default)]
    #[schemars(skip)]
    view: Option<String>,
    #[serde(default)]
    #[schemars(skip)]
    notice: Option<String>,
}

/// A page of events.
#[derive(Serialize, schemars::JsonSchema)]
struct EventPage {
    items: Vec<MissionEvent>,
    next_cursor: Option<String>,
}

/// One day of the month grid.
struct Day {
    date: NaiveDate,
    in_month: bool,
    today: bool,
    events: Vec<(String, String, String)>,
}

#[derive(askama::Template)]
#[template(path = "mission/templates/events.html")]
struct ListPage {
    page: PageCtx,
    month_view: bool,
    items: Vec<MissionEvent>,
    next: Option<String>,
    month_label: String,
    prev_month: String,
    next_month: String,
    days: Vec<Day>,
    feed_url: Option<String>,
    has_feed: bool,
    notice: Option<&'static str>,
}

fn month_filter(month: NaiveDate, tz: Tz) -> EventFilter {
    EventFilter {
        from: local_ms(month, tz),
        until: local_ms(next_month(month), tz),
        limit: 500,
        ..EventFilter::default()
    }
}

async fn list_view(
    app: &AppState,
    ctx: &RequestContext,
    user: &PortalUser,
    q: &ListQuery,
    feed_url: Option<String>,
) -> AppResult<Response> {
    let me = user.require(Permission::MissionAccess)?;
    let src = MissionSource::for_tenant(app, me.scope()).await?;
    let page = PageCtx::new(ctx);
    let tz = page.t.tz;
    let today = crate::mission::today(tz);
    let month_view = q.view.as_deref() == Some("month") || q.month.is_some();
    let month = q
        .month
        .as_deref()
        .and_then(parse_month)
        .unwrap_or_else(|| today.with_day(1).unwrap_or(today));
    let (items, next, days) = if month_view {
        let (items, _) = src.events(&me, &month_filter(month, tz)).await?;
        let lead = month.weekday().num_days_from_monday() as i64;
        let start = month - chrono::Duration::days(lead);
        let end = next_month(month);
        let mut days = Vec::new();
        let mut d = start;
        while d < end || d.weekday().num_days_from_monday() != 0 {
            let events = items
                .iter()
                .filter(|e| crate::mission::local_date(e.starts_at, tz) == Some(d))
                .map(|e| (e.id.clone(), e.title.clone(), hhmm(e.starts_at, tz)))
                .collect();
            days.push(Day {
                date: d,
                in_month: d.month() == month.month(),
                today: d == today,
                events,
            });
            d += chrono::Duration::days(1);
        }
        (items, None, days)
    } else {
        let f = EventFilter {
            from: crate::db::now_ms(),
            until: i64::MAX,
            cursor: q.cursor.clone(),
            limit: PAGE_SIZE,
            mine_only: q.mine.unwrap_or(false),
            ..EventFilter::default()
        };
        let (items, next) = src.events(&me, &f).await?;
        (items, next, Vec::new())
    };
    let has_feed = super::has_feed(&app.db, me.scope(), me.user_id().as_str()).await?;
    let month_label = format!(
        "{} {}",
        page.t.get(&format!("events-month-{}", month.month())),
        month.year()
    );
    render(&ListPage {
        month_view,
        items,
        next: next.map(|c| format!("/portal/mission/events?cursor={}", enc(&c))),
        month_label,
        prev_month: month
            .checked_sub_months(chrono::Months::new(1))
            .unwrap_or(month)
            .format("%Y-%m")
            .to_string(),
        next_month: next_month(month).format("%Y-%m").to_string(),
        days,
        feed_url,
        has_feed,
        notice: match q.notice.as_deref() {
            Some("cancelled") => Some("events-notice-cancelled"),
            _ => None,
        },
        page,
    })
}

async fn list_page(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    list_view(&app, &ctx, &user, &q, None).await
}

fn feed_link(app: &AppState, ctx: &RequestContext, token: &str) -> String {
    let slug = ctx
        .tenant
        .as_ref()
        .map(|t| t.slug.clone())
        .unwrap_or_default();
    format!(
        "{}/mission/calendar/{token}.ics?tenant={}",
        app.config.base_url.trim_end_matches('/'),
        enc(&slug)
    )
}

async fn feed_form(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
) -> AppResult<Response> {
    let me = user.require(Permission::MissionAccess)?;
    let token = super::reset_feed(&app.db, &me, &ctx.ip).await?;
    let url = feed_link(&app, &ctx, &token);
    list_view(&app, &ctx, &user, &ListQuery::default(), Some(url)).await
}

#[derive(askama::Template)]
#[template(path = "mission/templates/event.html")]
struct DetailPage {
    page: PageCtx,
    e: MissionEvent,
    mine: Option<Registration>,
    household: Vec<HouseholdMember>,
    errors: FormErrors,
    answers: Vec<String>,
    guests: String,
    notice: Option<&'static str>,
}

impl DetailPage {
    fn answer(&self, i: &usize) -> &str {
        self.answers.get(*i).map(String::as_str).unwrap_or("")
    }
}

#[derive(Deserialize, Default)]
struct DetailQuery {
    #[serde(default)]
    notice: Option<String>,
}

#[allow(clippy::too_many_arguments)]
async fn detail_view(
    app: &AppState,
    ctx: &RequestContext,
    user: &PortalUser,
    id: &str,
    notice: Option<&'static str>,
    errors: FormErrors,
    answers: Vec<String>,
    guests: String,
) -> AppResult<Response> {
    let me = user.require(Permission::MissionAccess)?;
    let src = MissionSource::for_tenant(app, me.scope()).await?;
    let e = src.event(&me, id).await?;
    let mine = src.my_registration(&me, id).await?;
    let household = src.household(&me).await?;
    let failed = !errors.is_empty();
    let mut r = render(&DetailPage {
        page: PageCtx::new(ctx),
        e,
        mine,
        household,
        errors,
        answers,
        guests,
        notice,
    })?;
    if failed {
        *r.status_mut() = StatusCode::BAD_REQUEST;
    }
    Ok(r)
}

async fn detail_page(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    Query(q): Query<DetailQuery>,
) -> AppResult<Response> {
    let notice = match q.notice.as_deref() {
        Some("registered") => Some("events-notice-registered"),
        Some("waitlisted") => Some("events-notice-waitlisted"),
        _ => None,
    };
    detail_view(
        &app,
        &ctx,
        &user,
        &id,
        notice,
        FormErrors::default(),
        Vec::new(),
        String::new(),
    )
    .await
}

fn registration_from_form(fields: &[(String, String)]) -> (NewRegistration, String) {
    let mut n = NewRegistration::default();
    let mut guests = String::new();
    let mut answers: Vec<(usize, String)> = Vec::new();
    for (k, v) in fields {
        match k.as_str() {
            "household" => n.household.push(v.clone()),
            "guests" => guests = v.clone(),
            k => {
                if let Some(i) = k.strip_prefix('q').and_then(|i| i.parse::<usize>().ok()) {
                    answers.push((i, v.clone()));
                }
            }
        }
    }
    answers.sort_by_key(|(i, _)| *i);
    let len = answers
        .last()
        .map(|(i, _)| i + 1)
        .unwrap_or(0)
        .min(super::MAX_QUESTIONS);
    n.answers = vec![String::new(); len];
    for (i, v) in answers {
        if let Some(slot) = n.answers.get_mut(i) {
            *slot = v;
        }
    }
    n.guests = guests.lines().map(str::to_string).collect();
    (n, guests)
}

async fn register_form(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    axum::Form(fields): axum::Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let me = user.require(Permission::MissionAccess)?;
    let (n, guests) = registration_from_form(&fields);
    let src = MissionSource::for_tenant(&app, me.scope()).await?;
    match src.register(&me, &ctx.ip, &id, &n).await {
        Ok(r) => Ok(Redirect::to(&format!(
            "/portal/mission/events/{}?notice={}",
            enc(&id),
            r.status
        ))
        .into_response()),
        Err(e @ AppError::Validation { .. }) => {
            detail_view(
                &app,
                &ctx,
                &user,
                &id,
                None,
                FormErrors::from(&e),
                n.answers,
                guests,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

async fn cancel_form(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let me = user.require(Permission::MissionAccess)?;
    let src = MissionSource::for_tenant(&app, me.scope()).await?;
    src.cancel_registration(&me, &ctx.ip, &id, &notify(&app))
        .await?;
    Ok(Redirect::to("/portal/mission/events?notice=cancelled").into_response())
}

fn ics_response(body: String, filename: &str) -> Response {
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/calendar; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    r
}

fn host_of(app: &AppState) -> String {
    url::Url::parse(&app.config.base_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| "portico".into())
}

async fn event_ics(
    State(app): State<AppState>,
    user: PortalUser,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let me = user.require(Permission::MissionAccess)?;
    let src = MissionSource::for_tenant(&app, me.scope()).await?;
    let e = src.event(&me, &id).await?;
    let base = app.config.base_url.trim_end_matches('/').to_string();
    let body = super::ics::calendar(&user.tenant.name, &host_of(&app), &[e], |e| {
        format!("{base}/portal/mission/events/{}", e.id)
    });
    Ok(ics_response(body, "event.ics"))
}

/// The personal feed: no session (calendar apps have none); the secret token names the member
/// within the tenant the request came to.
async fn feed_ics(
    State(app): State<AppState>,
    Ctx(ctx): Ctx,
    Path(token): Path<String>,
) -> AppResult<Response> {
    let tenant = ctx.tenant.as_ref().ok_or(AppError::NotFound)?;
    let scope = tenant.scope();
    let token = token.trim_end_matches(".ics");
    let Some(owner) = super::feed_owner(&app.db, &scope, token).await? else {
        return Err(AppError::NotFound);
    };
    let settings = crate::mission::settings::load(&app.db, &scope).await?;
    if settings.source != "builtin" {
        return Err(AppError::NotFound);
    }
    // A week back keeps just-finished events visible in the subscribing calendar.
    let f = EventFilter {
        from: crate::db::now_ms() - 7 * 24 * 3600 * 1000,
        until: i64::MAX,
        mine_only: true,
        limit: 500,
        ..EventFilter::default()
    };
    let (items, _) = super::list(&app.db, &scope, &owner, &f).await?;
    let base = app.config.base_url.trim_end_matches('/').to_string();
    let body = super::ics::calendar(&tenant.name, &host_of(&app), &items, |e| {
        format!("{base}/portal/mission/events/{}", e.id)
    });
    Ok(ics_response(body, "events.ics"))
}

/// Reloads the viewer's registration box when the server says it changed (promotion).
async fn script() -> Response {
    let mut r = include_str!("live.js").into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/javascript; charset=utf-8"),
    );
    r
}

async fn api_list(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Query(q): Query<ListQuery>,
) -> AppResult<Json<EventPage>> {
    let me = user.require(Permission::MissionAccess)?;
    let src = MissionSource::for_tenant(&app, me.scope()).await?;
    let f = match q.month.as_deref() {
        Some(m) => {
            let month = parse_month(m).ok_or(AppError::field("month", "events-error-month"))?;
            EventFilter {
                mine_only: q.mine.unwrap_or(false),
                ..month_filter(month, ctx.tz)
            }
        }
        None => EventFilter {
            from: crate::db::now_ms(),
            until: i64::MAX,
            cursor: q.cursor.clone(),
            limit: PAGE_SIZE,
            mine_only: q.mine.unwrap_or(false),
            ..EventFilter::default()
        },
    };
    let (items, next_cursor) = src.events(&me, &f).await?;
    Ok(Json(EventPage { items, next_cursor }))
}

/// An event with the viewer's own registration.
#[derive(Serialize, schemars::JsonSchema)]
struct EventDetail {
    event: MissionEvent,
    my_registration: Option<Registration>,
    household: Vec<HouseholdMember>,
}

async fn api_detail(
    State(app): State<AppState>,
    user: PortalUser,
    Path(id): Path<String>,
) -> AppResult<Json<EventDetail>> {
    let me = user.require(Permission::MissionAccess)?;
    let src = MissionSource::for_tenant(&app, me.scope()).await?;
    Ok(Json(EventDetail {
        event: src.event(&me, &id).await?,
        my_registration: src.my_registration(&me, &id).await?,
        household: src.household(&me).await?,
    }))
}

async fn api_register(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    Json(n): Json<NewRegistration>,
) -> AppResult<Response> {
    let me = user.require(Permission::MissionAccess)?;
    let src = MissionSource::for_tenant(&app, me.scope()).await?;
    let r = src.register(&me, &ctx.ip, &id, &n).await?;
    Ok((StatusCode::CREATED, Json(r)).into_response())
}

/// Outcome of a cancellation.
#[derive(Serialize, schemars::JsonSchema)]
struct Cancelled {
    cancelled: bool,
    /// How many waitlisted registrations moved up.
    promoted: usize,
}

async fn api_cancel(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> AppResult<Json<Cancelled>> {
    let me = user.require(Permission::MissionAccess)?;
    let src = MissionSource::for_tenant(&app, me.scope()).await?;
    let changed = src
        .cancel_registration(&me, &ctx.ip, &id, &notify(&app))
        .await?;
    Ok(Json(Cancelled {
        cancelled: true,
        promoted: changed.len().saturating_sub(1),
    }))
}

/// A new calendar feed URL.
#[derive(Serialize, schemars::JsonSchema)]
struct Feed {
    url: String,
}

async fn api_feed(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
) -> AppResult<Json<Feed>> {
    let me = user.require(Permission::MissionAccess)?;
    let token = super::reset_feed(&app.db, &me, &ctx.ip).await?;
    Ok(Json(Feed {
        url: feed_link(&app, &ctx, &token),
    }))
}

// --- Staff ---

/// The staff form: times as `datetime-local` in the viewer's zone, questions one per line
/// (`*` first marks a required one).
#[derive(Deserialize, Default, Clone)]
struct EventForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    place: String,
    #[serde(default)]
    starts: String,
    #[serde(default)]
    ends: String,
    #[serde(default)]
    capacity: String,
    #[serde(default)]
    waitlist: Option<String>,
    #[serde(default)]
    questions: String,
}

impl EventForm {
    fn input(&self, tz: Tz) -> Result<EventInput, AppError> {
        let capacity = if self.capacity.trim().is_empty() {
            0
        } else {
            self.capacity
                .trim()
                .parse::<i64>()
                .map_err(|_| AppError::field("capacity", "events-error-capacity"))?
        };
        Ok(EventInput {
            title: self.title.clone(),
            description: self.description.clone(),
            place: self.place.clone(),
            starts_at: parse_local(&self.starts, tz),
            ends_at: parse_local(&self.ends, tz),
            capacity,
            waitlist: self.waitlist.is_some(),
            questions: self
                .questions
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| {
                    let l = l.trim();
                    Question {
                        label: l.trim_start_matches('*').trim().to_string(),
                        required: l.starts_with('*'),
                    }
                })
                .collect(),
        })
    }

    fn of(e: &MissionEvent, tz: Tz) -> EventForm {
        EventForm {
            title: e.title.clone(),
            description: e.description.clone(),
            place: e.place.clone(),
            starts: local_input(e.starts_at, tz),
            ends: local_input(e.ends_at, tz),
            capacity: e.capacity.to_string(),
            waitlist: e.waitlist.then(|| "1".into()),
            questions: e
                .questions
                .iter()
                .map(|q| format!("{}{}", if q.required { "* " } else { "" }, q.label))
                .collect::<Vec<_>>()
                .join("\n"),
        }
    }
}

#[derive(askama::Template)]
#[template(path = "mission/templates/admin_events.html")]
struct AdminList {
    page: PageCtx,
    items: Vec<MissionEvent>,
    next: Option<String>,
    form: EventForm,
    errors: FormErrors,
    notice: Option<&'static str>,
}

async fn admin_list_view(
    app: &AppState,
    ctx: &RequestContext,
    actor: &Actor,
    cursor: Option<String>,
    form: EventForm,
    error: Option<&AppError>,
    notice: Option<&'static str>,
) -> AppResult<Response> {
    let f = EventFilter {
        from: crate::db::now_ms() - 24 * 3600 * 1000,
        until: i64::MAX,
        include_cancelled: true,
        cursor,
        limit: PAGE_SIZE,
        ..EventFilter::default()
    };
    let (items, next) = super::list(&app.db, actor.scope(), actor.user_id().as_str(), &f).await?;
    render_form(
        &AdminList {
            page: PageCtx::new(ctx),
            items,
            next: next.map(|c| format!("/admin/mission/events?cursor={}", enc(&c))),
            form,
            errors: error.map(FormErrors::from).unwrap_or_default(),
            notice,
        },
        error,
    )
}

async fn admin_list(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageEvents)?;
    let notice = match q.notice.as_deref() {
        Some("created") => Some("events-notice-created"),
        _ => None,
    };
    let form = EventForm {
        waitlist: Some("1".into()),
        ..EventForm::default()
    };
    admin_list_view(&app, &ctx, &actor, q.cursor, form, None, notice).await
}

async fn admin_create_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    axum::Form(f): axum::Form<EventForm>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageEvents)?;
    let created = match f.input(ctx.tz) {
        Ok(i) => super::create(&app.db, &actor, &ctx.ip, &i).await,
        Err(e) => Err(e),
    };
    let done = match &created {
        Ok(id) => format!("/admin/mission/events/{id}?notice=created"),
        Err(_) => String::new(),
    };
    form_outcome(created, &done, |e| async move {
        admin_list_view(&app, &ctx, &actor, None, f, Some(&e), None).await
    })
    .await
}

#[derive(askama::Template)]
#[template(path = "mission/templates/admin_event.html")]
struct AdminDetail {
    page: PageCtx,
    e: MissionEvent,
    regs: Vec<Registration>,
    form: EventForm,
    errors: FormErrors,
    notice: Option<&'static str>,
}

async fn admin_detail_view(
    app: &AppState,
    ctx: &RequestContext,
    actor: &Actor,
    id: &str,
    form: Option<EventForm>,
    error: Option<&AppError>,
    notice: Option<&'static str>,
) -> AppResult<Response> {
    let e = super::get(&app.db, actor.scope(), actor.user_id().as_str(), id, true).await?;
    let regs = super::registrations(&app.db, actor.scope(), &e.id).await?;
    render_form(
        &AdminDetail {
            page: PageCtx::new(ctx),
            form: form.unwrap_or_else(|| EventForm::of(&e, ctx.tz)),
            e,
            regs,
            errors: error.map(FormErrors::from).unwrap_or_default(),
            notice,
        },
        error,
    )
}

async fn admin_detail(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    Query(q): Query<DetailQuery>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageEvents)?;
    let notice = match q.notice.as_deref() {
        Some("created") => Some("events-notice-created"),
        Some("saved") => Some("events-notice-saved"),
        Some("done") => Some("events-notice-done"),
        _ => None,
    };
    admin_detail_view(&app, &ctx, &actor, &id, None, None, notice).await
}

async fn admin_update_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<EventForm>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageEvents)?;
    let done = match f.input(ctx.tz) {
        Ok(i) => super::update(&app.db, &actor, &ctx.ip, &id, &i, &notify(&app)).await,
        Err(e) => Err(e),
    };
    let to = format!("/admin/mission/events/{}?notice=saved", enc(&id));
    form_outcome(done, &to, |e| async move {
        admin_detail_view(&app, &ctx, &actor, &id, Some(f), Some(&e), None).await
    })
    .await
}

#[derive(Deserialize)]
struct StatusForm {
    #[serde(default)]
    cancelled: String,
}

async fn admin_status_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<StatusForm>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageEvents)?;
    super::set_cancelled(&app.db, &actor, &ctx.ip, &id, f.cancelled == "1").await?;
    Ok(Redirect::to(&format!("/admin/mission/events/{}?notice=done", enc(&id))).into_response())
}

async fn admin_cancel_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path((id, rid)): Path<(String, String)>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageEvents)?;
    super::cancel(&app.db, &actor, &ctx.ip, &id, Some(&rid), &notify(&app)).await?;
    Ok(Redirect::to(&format!("/admin/mission/events/{}?notice=done", enc(&id))).into_response())
}

async fn admin_csv(
    State(app): State<AppState>,
    staff: StaffUser,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageEvents)?;
    let e = super::get(&app.db, actor.scope(), actor.user_id().as_str(), &id, true).await?;
    let regs = super::registrations(&app.db, actor.scope(), &e.id).await?;
    let bytes =
        super::csv(&e, &regs).map_err(|e| AppError::Internal(anyhow::anyhow!("csv: {e}")))?;
    let mut r = bytes.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"registrations.csv\""),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(r)
}

#[derive(askama::Template)]
#[template(path = "mission/templates/admin_checkin.html")]
struct CheckinPage {
    page: PageCtx,
    e: MissionEvent,
    regs: Vec<Registration>,
    checked: usize,
}

impl CheckinPage {
    fn done(&self) -> i64 {
        self.checked as i64
    }

    fn total(&self) -> i64 {
        self.regs.len() as i64
    }
}

async fn checkin_page(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageEvents)?;
    let e = super::get(&app.db, actor.scope(), actor.user_id().as_str(), &id, true).await?;
    let regs: Vec<Registration> = super::registrations(&app.db, actor.scope(), &e.id)
        .await?
        .into_iter()
        .filter(|r| r.status == "registered")
        .collect();
    let checked = regs.iter().filter(|r| r.checked_in_at.is_some()).count();
    render(&CheckinPage {
        page: PageCtx::new(&ctx),
        e,
        regs,
        checked,
    })
}

#[derive(Deserialize, Default, schemars::JsonSchema)]
struct CheckinBody {
    /// Clear the check-in instead.
    #[serde(default)]
    undo: bool,
}

#[derive(Deserialize, Default)]
struct CheckinForm {
    #[serde(default)]
    registration: String,
    #[serde(default)]
    undo: Option<String>,
}

async fn checkin_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<CheckinForm>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageEvents)?;
    super::check_in(
        &app.db,
        &actor,
        &ctx.ip,
        &id,
        &f.registration,
        f.undo.is_some(),
    )
    .await?;
    Ok(Redirect::to(&format!(
        "/admin/mission/events/{}/checkin#r-{}",
        enc(&id),
        enc(&f.registration)
    ))
    .into_response())
}

async fn api_admin_list(
    State(app): State<AppState>,
    staff: StaffUser,
    Query(q): Query<ListQuery>,
) -> AppResult<Json<EventPage>> {
    let actor = staff.require(Permission::ManageEvents)?;
    let f = EventFilter {
        from: crate::db::now_ms() - 24 * 3600 * 1000,
        until: i64::MAX,
        include_cancelled: true,
        cursor: q.cursor,
        limit: PAGE_SIZE,
        ..EventFilter::default()
    };
    let (items, next_cursor) =
        super::list(&app.db, actor.scope(), actor.user_id().as_str(), &f).await?;
    Ok(Json(EventPage { items, next_cursor }))
}

async fn api_admin_create(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Json(i): Json<EventInput>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageEvents)?;
    let id = super::create(&app.db, &actor, &ctx.ip, &i).await?;
    let e = super::get(&app.db, actor.scope(), actor.user_id().as_str(), &id, true).await?;
    Ok((StatusCode::CREATED, Json(e)).into_response())
}

async fn api_admin_get(
    State(app): State<AppState>,
    staff: StaffUser,
    Path(id): Path<String>,
) -> AppResult<Json<MissionEvent>> {
    let actor = staff.require(Permission::ManageEvents)?;
    Ok(Json(
        super::get(&app.db, actor.scope(), actor.user_id().as_str(), &id, true).await?,
    ))
}

async fn api_admin_update(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    Json(i): Json<EventInput>,
) -> AppResult<Json<MissionEvent>> {
    let actor = staff.require(Permission::ManageEvents)?;
    super::update(&app.db, &actor, &ctx.ip, &id, &i, &notify(&app)).await?;
    Ok(Json(
        super::get(&app.db, actor.scope(), actor.user_id().as_str(), &id, true).await?,
    ))
}

async fn api_admin_regs(
    State(app): State<AppState>,
    staff: StaffUser,
    Path(id): Path<String>,
) -> AppResult<Json<Vec<Registration>>> {
    let actor = staff.require(Permission::ManageEvents)?;
    let e = super::get(&app.db, actor.scope(), actor.user_id().as_str(), &id, true).await?;
    Ok(Json(
        super::registrations(&app.db, actor.scope(), &e.id).await?,
    ))
}

async fn api_admin_cancel(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path((id, rid)): Path<(String, String)>,
) -> AppResult<Json<Cancelled>> {
    let actor = staff.require(Permission::ManageEvents)?;
    let changed = super::cancel(&app.db, &actor, &ctx.ip, &id, Some(&rid), &notify(&app)).await?;
    Ok(Json(Cancelled {
        cancelled: true,
        promoted: changed.len().saturating_sub(1),
    }))
}

/// Outcome of a check-in.
#[derive(Serialize, schemars::JsonSchema)]
struct CheckedIn {
    checked_in: bool,
}

async fn api_admin_checkin(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path((id, rid)): Path<(String, String)>,
    Json(b): Json<CheckinBody>,
) -> AppResult<Json<CheckedIn>> {
    let actor = staff.require(Permission::ManageEvents)?;
    super::check_in(&app.db, &actor, &ctx.ip, &id, &rid, b.undo).await?;
    Ok(Json(CheckedIn {
        checked_in: !b.undo,
    }))
}
