//! Giving pages and JSON: the member's gifts, totals, statement and CSV; the staff's funds,
//! gift entry and CSV import.

use aide::axum::routing::{get_with, post_with};
use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};

use super::statement::{self, Statement};
use super::{Fund, Gift, GiftFilter, GiftInput, ImportReport, METHODS, PAGE_SIZE, Total};
use crate::app::AppState;
use crate::auth::{Actor, Permission, PortalUser, StaffUser};
use crate::error::{AppError, AppResult};
use crate::http::context::{Ctx, RequestContext};
use crate::http::{ApiRouter, PageRouter};
use crate::i18n::Arg;
use crate::mission::source::MissionSource;
use crate::web::{FormErrors, PageCtx, render};

/// Pages.
pub fn pages() -> PageRouter {
    PageRouter::default()
        .route("/portal/mission/giving", get(giving_page))
        .route("/portal/mission/giving/statement.pdf", get(statement_pdf))
        .route("/portal/mission/giving/gifts.csv", get(gifts_csv))
        .route(
            "/admin/mission/gifts",
            get(admin_page).post(admin_gift_form),
        )
        .route("/admin/mission/funds", post(admin_fund_form))
        .route("/admin/mission/gifts/import", post(admin_import_form))
        .merge(super::give_routes::pages())
}

/// JSON API.
pub fn api() -> ApiRouter {
    ApiRouter::default()
        .route(
            "/api/v1/mission/giving",
            get_with(api_giving, |op| {
                op.id("myGiving").tag("mission").summary("My gifts and totals")
                    .description("The signed-in member's own gifts (newest first, `cursor` pagination), totals by year and, for `year`, by fund. Filter by `year` and `fund` (id).")
            }),
        )
        .route(
            "/api/v1/mission/funds",
            get_with(api_funds, |op| op.id("listMissionFunds").tag("mission").summary("Funds")),
        )
        .route(
            "/api/v1/admin/mission/funds",
            get_with(api_admin_funds, |op| {
                op.id("adminListFunds").tag("mission-admin").summary("Funds")
                    .description("Needs `manage_giving`.")
            })
            .post_with(api_admin_create_fund, |op| {
                op.id("adminCreateFund").tag("mission-admin").summary("Create a fund")
                    .response_with::<201, Json<Fund>, _>(|r| r.description("Created."))
            }),
        )
        .route(
            "/api/v1/admin/mission/gifts",
            get_with(api_admin_gifts, |op| {
                op.id("adminListGifts").tag("mission-admin").summary("Gifts of every member")
                    .description("Needs `manage_giving`. Filter by `year`, `fund`, `member` (user id).")
            })
            .post_with(api_admin_record_gift, |op| {
                op.id("adminRecordGift").tag("mission-admin").summary("Record a gift")
                    .response_with::<201, Json<Recorded>, _>(|r| r.description("Recorded."))
            }),
        )
        .route(
            "/api/v1/admin/mission/gifts/import",
            post_with(api_admin_import, |op| {
                op.id("adminImportGifts").tag("mission-admin").summary("Import gifts from CSV")
                    .description("Columns `email,date,fund,amount[,method][,recurring]`. With `dry_run` (default) nothing is recorded; otherwise every row is recorded in one transaction, or none when any row is invalid.")
            }),
        )
        .merge(super::give_routes::api())
}

#[derive(Deserialize, Default, schemars::JsonSchema)]
pub(super) struct GivingQuery {
    /// Calendar year (`2026`).
    #[serde(default)]
    year: Option<String>,
    /// Fund id.
    #[serde(default)]
    fund: Option<String>,
    /// Next page.
    #[serde(default)]
    cursor: Option<String>,
    /// Staff only: one member's gifts.
    #[serde(default)]
    member: Option<String>,
}

impl GivingQuery {
    fn year(&self) -> Option<i32> {
        self.year
            .as_deref()
            .and_then(|y| y.trim().parse().ok())
            .filter(|y| (1900..=9999).contains(y))
    }

    fn fund(&self) -> Option<String> {
        self.fund.clone().filter(|f| !f.is_empty())
    }
}

/// A member's giving: one page of gifts and the totals.
#[derive(Serialize, schemars::JsonSchema)]
struct GivingView {
    items: Vec<Gift>,
    next_cursor: Option<String>,
    by_year: Vec<Total>,
    by_fund: Vec<Total>,
    currency: String,
    giving_url: Option<String>,
}

async fn giving_view(app: &AppState, me: &Actor, q: &GivingQuery) -> AppResult<GivingView> {
    let src = MissionSource::for_tenant(app, me.scope()).await?;
    let (items, next_cursor) = src
        .my_gifts(me, q.year(), q.fund(), q.cursor.clone(), PAGE_SIZE)
        .await?;
    let (by_year, by_fund) = src.my_totals(me, q.year()).await?;
    let settings = crate::mission::settings::load(&app.db, me.scope()).await?;
    Ok(GivingView {
        items,
        next_cursor,
        by_year,
        by_fund,
        currency: settings.currency,
        giving_url: Some(settings.giving_url).filter(|u| !u.is_empty()),
    })
}

#[derive(askama::Template)]
#[template(path = "mission/templates/giving.html")]
struct GivingPage {
    page: PageCtx,
    v: GivingView,
    funds: Vec<Fund>,
    year: String,
    fund: String,
    statement_year: String,
    next: Option<String>,
    household: crate::mission::households::MyHousehold,
    /// Households are kept in the church management system (remote source).
    household_remote: bool,
    household_notice: Option<&'static str>,
    give: super::give::GiveOptions,
    schedules: Vec<super::recurring::Schedule>,
    card: super::give::CardState,
    s: GiveState,
    notice: Option<String>,
    today: String,
}

impl GivingPage {
    fn method(&self, m: &str) -> String {
        self.page.t.get(&format!("mission-method-{m}"))
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
    fn frequency(&self, f: &str) -> String {
        self.page.t.get(&format!("mission-frequency-{f}"))
    }
    fn status(&self, s: &str) -> String {
        self.page.t.get(&format!("mission-recurring-status-{s}"))
    }
    fn limits(&self) -> String {
        let c = self.give.currency.as_str();
        self.page.t.args(
            "mission-give-limits",
            &[
                ("min", Arg::Str(self.page.t.money(self.give.min_minor, c))),
                ("max", Arg::Str(self.page.t.money(self.give.max_minor, c))),
            ],
        )
    }
}

/// What the giving page's two forms hold after a refused post.
#[derive(Default)]
pub(super) struct GiveState {
    /// Field errors of the form that was posted.
    pub errors: FormErrors,
    /// `give` or `recurring`: which form they belong to.
    pub form: &'static str,
    pub fund_id: String,
    pub amount: String,
    pub frequency: String,
    pub start_on: String,
    /// A message for the whole form (a catalog key).
    pub error: Option<String>,
}

#[derive(Deserialize, Default)]
pub(super) struct GiveNotice {
    #[serde(default)]
    notice: Option<String>,
    #[serde(default)]
    session_id: Option<String>,
}

async fn giving_page(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Query(q): Query<GivingQuery>,
    Query(n): Query<GiveNotice>,
) -> AppResult<Response> {
    giving_response(
        &app,
        &user,
        &ctx,
        &q,
        &n,
        GiveState::default(),
        StatusCode::OK,
    )
    .await
}

/// The giving page, with the give forms' state after a refused post.
pub(super) async fn giving_response(
    app: &AppState,
    user: &PortalUser,
    ctx: &RequestContext,
    q: &GivingQuery,
    n: &GiveNotice,
    s: GiveState,
    status: StatusCode,
) -> AppResult<Response> {
    let me = user.require(Permission::MissionAccess)?;
    let v = giving_view(app, &me, q).await?;
    let household_remote =
        crate::mission::households::routes::kept_remotely(app, me.scope()).await?;
    let household = if household_remote {
        crate::mission::households::MyHousehold::default()
    } else {
        crate::mission::households::mine(&app.db, me.scope(), me.user_id().as_str()).await?
    };
    let funds = MissionSource::for_tenant(app, me.scope())
        .await?
        .funds()
        .await?;
    let tz = crate::mission::tenant_zone(&user.tenant.time_zone);
    let statement_year = q
        .year()
        .unwrap_or_else(|| chrono::Datelike::year(&crate::mission::today(tz)));
    let next = v.next_cursor.as_ref().map(|c| {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        s.append_pair("year", q.year.as_deref().unwrap_or(""));
        s.append_pair("fund", q.fund.as_deref().unwrap_or(""));
        s.append_pair("cursor", c);
        format!("/portal/mission/giving?{}", s.finish())
    });
    let give = super::give::options(app, me.scope()).await?;
    let schedules = if give.recurring {
        super::recurring::list(&app.db, me.scope(), Some(me.user_id().as_str())).await?
    } else {
        Vec::new()
    };
    let card = if give.recurring_new {
        super::give::card(app, &me).await?
    } else {
        super::give::CardState::default()
    };
    let page = PageCtx::new(ctx);
    let notice = match n.notice.as_deref() {
        Some("given") => {
            let confirmed = match n.session_id.as_deref() {
                Some(sid) => {
                    super::give::confirmed_gift(&app.db, me.scope(), me.user_id().as_str(), sid)
                        .await?
                }
                None => None,
            };
            Some(match confirmed {
                Some((amount, currency, fund)) => page.t.args(
                    "mission-notice-given",
                    &[
                        ("amount", Arg::Str(page.t.money(amount, &currency))),
                        ("fund", Arg::Str(fund)),
                    ],
                ),
                None => page.t.get("mission-notice-give-processing"),
            })
        }
        Some("give-cancelled") => Some(page.t.get("mission-notice-give-cancelled")),
        Some("card-saved") => Some(page.t.get("mission-notice-card-saved")),
        Some("recurring-created") => Some(page.t.get("mission-notice-recurring-created")),
        Some("recurring-changed") => Some(page.t.get("mission-notice-recurring-changed")),
        Some("recurring-paused") => Some(page.t.get("mission-notice-recurring-paused")),
        Some("recurring-resumed") => Some(page.t.get("mission-notice-recurring-resumed")),
        Some("recurring-cancelled") => Some(page.t.get("mission-notice-recurring-cancelled")),
        _ => None,
    };
    let mut s = s;
    if s.frequency.is_empty() {
        s.frequency = "monthly".into();
    }
    let today = crate::mission::today(tz).format("%Y-%m-%d").to_string();
    if s.start_on.is_empty() {
        s.start_on = today.clone();
    }
    let mut r = render(&GivingPage {
        page,
        funds,
        year: q.year().map(|y| y.to_string()).unwrap_or_default(),
        fund: q.fund().unwrap_or_default(),
        statement_year: statement_year.to_string(),
        next,
        household,
        household_remote,
        household_notice: (n.notice.as_deref() == Some("sharing"))
            .then_some("households-notice-sharing"),
        v,
        give,
        schedules,
        card,
        s,
        notice,
        today,
    })?;
    *r.status_mut() = status;
    Ok(r)
}

async fn api_giving(
    State(app): State<AppState>,
    user: PortalUser,
    Query(q): Query<GivingQuery>,
) -> AppResult<Json<GivingView>> {
    let me = user.require(Permission::MissionAccess)?;
    Ok(Json(giving_view(&app, &me, &q).await?))
}

async fn api_funds(State(app): State<AppState>, user: PortalUser) -> AppResult<Json<Vec<Fund>>> {
    let me = user.require(Permission::MissionAccess)?;
    let src = MissionSource::for_tenant(&app, me.scope()).await?;
    Ok(Json(src.funds().await?))
}

/// Every gift of the member in `year`, oldest first (statements list them all).
async fn year_gifts(app: &AppState, me: &Actor, year: i32) -> AppResult<Vec<Gift>> {
    let src = MissionSource::for_tenant(app, me.scope()).await?;
    let (mut gifts, _) = src.my_gifts(me, Some(year), None, None, 5000).await?;
    gifts.reverse();
    Ok(gifts)
}

fn download(body: Vec<u8>, content_type: &'static str, filename: &str) -> Response {
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    r
}

fn statement_year(q: &GivingQuery, ctx: &RequestContext) -> i32 {
    q.year().unwrap_or_else(|| {
        let tz = ctx
            .tenant
            .as_ref()
            .map(|t| crate::mission::tenant_zone(&t.time_zone))
            .unwrap_or(chrono_tz::Tz::UTC);
        chrono::Datelike::year(&crate::mission::today(tz))
    })
}

async fn statement_pdf(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Query(q): Query<GivingQuery>,
) -> AppResult<Response> {
    let me = user.require(Permission::MissionAccess)?;
    let year = statement_year(&q, &ctx);
    let gifts = year_gifts(&app, &me, year).await?;
    let settings = crate::mission::settings::load(&app.db, me.scope()).await?;
    let choices =
        crate::mission::directory::choices(&app.db, me.scope(), me.user_id().as_str()).await?;
    let bytes = statement::pdf(
        &Statement {
            tenant: &user.tenant,
            settings: &settings,
            member_name: &user.name,
            member_address: &choices.address,
            year,
            gifts: &gifts,
            show_giver: false,
        },
        &PageCtx::new(&ctx).t,
    )
    .map_err(|e| AppError::Internal(anyhow::anyhow!("statement: {e}")))?;
    Ok(download(
        bytes,
        "application/pdf",
        &format!("giving-statement-{year}.pdf"),
    ))
}

async fn gifts_csv(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Query(q): Query<GivingQuery>,
) -> AppResult<Response> {
    let me = user.require(Permission::MissionAccess)?;
    let year = statement_year(&q, &ctx);
    let gifts = year_gifts(&app, &me, year).await?;
    let bytes =
        statement::csv(&gifts).map_err(|e| AppError::Internal(anyhow::anyhow!("csv: {e}")))?;
    Ok(download(
        bytes,
        "text/csv; charset=utf-8",
        &format!("gifts-{year}.csv"),
    ))
}

// --- Staff ---

#[derive(askama::Template)]
#[template(path = "mission/templates/admin_gifts.html")]
struct AdminPage {
    page: PageCtx,
    gifts: Vec<Gift>,
    next: Option<String>,
    funds: Vec<Fund>,
    members: Vec<(String, String, String)>,
    methods: &'static [&'static str],
    errors: FormErrors,
    form: GiftInput,
    fund_name: String,
    import_text: String,
    report: Option<ImportReport>,
    notice: Option<&'static str>,
    schedules: Vec<super::recurring::Schedule>,
}

impl AdminPage {
    fn status(&self, s: &str) -> String {
        self.page.t.get(&format!("mission-recurring-status-{s}"))
    }
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
    fn method(&self, m: &str) -> String {
        self.page.t.get(&format!("mission-method-{m}"))
    }
    fn row_errors(&self, errs: &[crate::error::FieldError]) -> String {
        errs.iter()
            .map(|e| format!("{}: {}", e.field, self.page.t.msg(&e.message)))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

struct AdminState {
    errors: FormErrors,
    form: GiftInput,
    fund_name: String,
    import_text: String,
    report: Option<ImportReport>,
    notice: Option<&'static str>,
    status: StatusCode,
}

impl Default for AdminState {
    fn default() -> Self {
        AdminState {
            errors: FormErrors::default(),
            form: GiftInput {
                method: "cash".into(),
                ..GiftInput::default()
            },
            fund_name: String::new(),
            import_text: String::new(),
            report: None,
            notice: None,
            status: StatusCode::OK,
        }
    }
}

async fn admin_view(
    app: &AppState,
    ctx: &RequestContext,
    actor: &Actor,
    q: &GivingQuery,
    s: AdminState,
) -> AppResult<Response> {
    let f = GiftFilter {
        member_id: q.member.clone().filter(|m| !m.is_empty()),
        year: q.year(),
        fund_id: q.fund(),
        cursor: q.cursor.clone(),
        limit: PAGE_SIZE,
    };
    let (gifts, next) = super::gifts(&app.db, actor.scope(), &f).await?;
    let mut r = render(&AdminPage {
        page: PageCtx::new(ctx),
        gifts,
        next: next.map(|c| {
            format!(
                "/admin/mission/gifts?cursor={}",
                url::form_urlencoded::byte_serialize(c.as_bytes()).collect::<String>()
            )
        }),
        funds: super::funds(&app.db, actor.scope()).await?,
        members: super::members_by_email(&app.db, actor.scope()).await?,
        methods: &METHODS,
        errors: s.errors,
        form: s.form,
        fund_name: s.fund_name,
        import_text: s.import_text,
        report: s.report,
        notice: s.notice,
        schedules: super::recurring::list(
            &app.db,
            actor.scope(),
            q.member.as_deref().filter(|m| !m.is_empty()),
        )
        .await?,
    })?;
    *r.status_mut() = s.status;
    Ok(r)
}

async fn admin_page(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Query(q): Query<GivingQuery>,
    Query(n): Query<NoticeQuery>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageGiving)?;
    let notice = match n.notice.as_deref() {
        Some("gift") => Some("mission-notice-gift-recorded"),
        Some("fund") => Some("mission-notice-fund-created"),
        Some("imported") => Some("mission-notice-imported"),
        _ => None,
    };
    admin_view(
        &app,
        &ctx,
        &actor,
        &q,
        AdminState {
            notice,
            ..AdminState::default()
        },
    )
    .await
}

#[derive(Deserialize, Default)]
struct NoticeQuery {
    notice: Option<String>,
}

#[derive(Deserialize)]
struct GiftForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    fund: String,
    #[serde(default)]
    amount: String,
    #[serde(default)]
    method: String,
    #[serde(default)]
    recurring: Option<String>,
}

async fn admin_gift_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    axum::Form(f): axum::Form<GiftForm>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageGiving)?;
    let input = GiftInput {
        email: f.email,
        date: f.date,
        fund: f.fund,
        amount: f.amount,
        method: f.method,
        recurring: f.recurring.is_some(),
    };
    match super::record(&app.db, &actor, &ctx.ip, &input).await {
        Ok(_) => Ok(Redirect::to("/admin/mission/gifts?notice=gift").into_response()),
        Err(e @ AppError::Validation { .. }) => {
            admin_view(
                &app,
                &ctx,
                &actor,
                &GivingQuery::default(),
                AdminState {
                    errors: FormErrors::from(&e),
                    form: input,
                    status: StatusCode::BAD_REQUEST,
                    ..AdminState::default()
                },
            )
            .await
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
struct FundForm {
    #[serde(default)]
    name: String,
}

async fn admin_fund_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    axum::Form(f): axum::Form<FundForm>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageGiving)?;
    match super::create_fund(&app.db, &actor, &ctx.ip, &f.name).await {
        Ok(_) => Ok(Redirect::to("/admin/mission/gifts?notice=fund").into_response()),
        Err(e @ AppError::Validation { .. }) => {
            admin_view(
                &app,
                &ctx,
                &actor,
                &GivingQuery::default(),
                AdminState {
                    errors: FormErrors::from(&e),
                    fund_name: f.name,
                    status: StatusCode::BAD_REQUEST,
                    ..AdminState::default()
                },
            )
            .await
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
struct ImportForm {
    #[serde(default)]
    csv: String,
    /// `preview` or `import`.
    #[serde(default)]
    step: String,
}

async fn admin_import_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    axum::Form(f): axum::Form<ImportForm>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageGiving)?;
    let commit = f.step == "import";
    let report = super::import(&app.db, &actor, &ctx.ip, &f.csv, commit).await?;
    if report.imported > 0 {
        return Ok(Redirect::to("/admin/mission/gifts?notice=imported").into_response());
    }
    let bad = !report.file_errors.is_empty() || report.rows.iter().any(|r| !r.errors.is_empty());
    admin_view(
        &app,
        &ctx,
        &actor,
        &GivingQuery::default(),
        AdminState {
            import_text: f.csv,
            report: Some(report),
            status: if bad {
                StatusCode::BAD_REQUEST
            } else {
                StatusCode::OK
            },
            ..AdminState::default()
        },
    )
    .await
}

/// A page of gifts (staff).
#[derive(Serialize, schemars::JsonSchema)]
struct GiftPage {
    items: Vec<Gift>,
    next_cursor: Option<String>,
}

async fn api_admin_gifts(
    State(app): State<AppState>,
    staff: StaffUser,
    Query(q): Query<GivingQuery>,
) -> AppResult<Json<GiftPage>> {
    let actor = staff.require(Permission::ManageGiving)?;
    let f = GiftFilter {
        member_id: q.member.clone().filter(|m| !m.is_empty()),
        year: q.year(),
        fund_id: q.fund(),
        cursor: q.cursor.clone(),
        limit: PAGE_SIZE,
    };
    let (items, next_cursor) = super::gifts(&app.db, actor.scope(), &f).await?;
    Ok(Json(GiftPage { items, next_cursor }))
}

/// The id of what was recorded.
#[derive(Serialize, schemars::JsonSchema)]
struct Recorded {
    id: String,
}

async fn api_admin_record_gift(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Json(b): Json<GiftInput>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageGiving)?;
    let id = super::record(&app.db, &actor, &ctx.ip, &b).await?;
    Ok((StatusCode::CREATED, Json(Recorded { id })).into_response())
}

async fn api_admin_funds(
    State(app): State<AppState>,
    staff: StaffUser,
) -> AppResult<Json<Vec<Fund>>> {
    let actor = staff.require(Permission::ManageGiving)?;
    Ok(Json(super::funds(&app.db, actor.scope()).await?))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct FundBody {
    #[serde(default)]
    name: String,
}

async fn api_admin_create_fund(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Json(b): Json<FundBody>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageGiving)?;
    let id = super::create_fund(&app.db, &actor, &ctx.ip, &b.name).await?;
    let fund = super::funds(&app.db, actor.scope())
        .await?
        .into_iter()
        .find(|f| f.id == id)
        .ok_or(AppError::NotFound)?;
    Ok((StatusCode::CREATED, Json(fund)).into_response())
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct ImportBody {
    /// The CSV text.
    #[serde(default)]
    csv: String,
    /// Only check (default true).
    #[serde(default)]
    dry_run: Option<bool>,
}

async fn api_admin_import(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Json(b): Json<ImportBody>,
) -> AppResult<Json<ImportReport>> {
    let actor = staff.require(Permission::ManageGiving)?;
    let commit = !b.dry_run.unwrap_or(true);
    Ok(Json(
        super::import(&app.db, &actor, &ctx.ip, &b.csv, commit).await?,
    ))
}
