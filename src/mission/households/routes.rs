//! Household pages and JSON: the staff's list, detail, create, rename, members and delete; the
//! member's sharing choice and household giving statement.
//!
//! A tenant on the remote Mission source keeps its households in its church management system
//! (the Mission API has no households endpoint; see docs/mission-api.md): staff pages say so,
//! member pages show a notice instead of the sharing form and statement, and the JSON answers
//! 422 `households-error-remote`. Portico's own household tables are left as they are.

use aide::axum::routing::{get_with, put_with};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};

use super::{Household, MyHousehold, Resident};
use crate::app::AppState;
use crate::auth::{Actor, Permission, PortalUser, StaffUser};
use crate::error::{AppError, AppResult};
use crate::http::context::{Ctx, RequestContext};
use crate::http::{ApiRouter, PageRouter};
use crate::web::{FormErrors, PageCtx, form_outcome, render, render_form};

/// Pages.
pub fn pages() -> PageRouter {
    PageRouter::default()
        .route(
            "/admin/mission/households",
            get(admin_list).post(admin_create_form),
        )
        .route(
            "/admin/mission/households/{id}",
            get(admin_detail).post(admin_rename_form),
        )
        .route(
            "/admin/mission/households/{id}/members",
            post(admin_add_form),
        )
        .route(
            "/admin/mission/households/{id}/members/{uid}/remove",
            post(admin_remove_form),
        )
        .route(
            "/admin/mission/households/{id}/delete",
            post(admin_delete_form),
        )
        .route("/portal/mission/giving/sharing", post(sharing_form))
        .route(
            "/portal/mission/giving/household-statement.pdf",
            get(household_statement),
        )
}

/// JSON API.
pub fn api() -> ApiRouter {
    ApiRouter::default()
        .route(
            "/api/v1/mission/household",
            get_with(api_mine, |op| {
                op.id("myHousehold").tag("mission").summary("My household and my statement sharing choice")
            })
            .put_with(api_set_sharing, |op| {
                op.id("setStatementSharing").tag("mission").summary("Share (or stop sharing) my gifts on my household's giving statement")
            }),
        )
        .route(
            "/api/v1/admin/mission/households",
            get_with(api_admin_list, |op| {
                op.id("adminListHouseholds").tag("mission-admin").summary("Households")
                    .description("Needs `manage_users`. By name, `cursor` pagination (`limit` up to 200).")
            })
            .post_with(api_admin_create, |op| {
                op.id("adminCreateHousehold").tag("mission-admin").summary("Create a household")
                    .response_with::<201, Json<Household>, _>(|r| r.description("Created."))
            }),
        )
        .route(
            "/api/v1/admin/mission/households/{id}",
            get_with(api_admin_get, |op| {
                op.id("adminGetHousehold").tag("mission-admin").summary("A household with its members")
            })
            .put_with(api_admin_rename, |op| {
                op.id("adminRenameHousehold").tag("mission-admin").summary("Rename a household")
            })
            .delete_with(api_admin_delete, |op| {
                op.id("adminDeleteHousehold").tag("mission-admin").summary("Delete a household (its members stay, in no household)")
            }),
        )
        .route(
            "/api/v1/admin/mission/households/{id}/members/{user_id}",
            put_with(api_admin_add, |op| {
                op.id("adminAddHouseholdMember").tag("mission-admin").summary("Put a member into the household")
                    .description("A member is in at most one household: one already in another is refused (400, field `user_id`).")
            })
            .delete_with(api_admin_remove, |op| {
                op.id("adminRemoveHouseholdMember").tag("mission-admin").summary("Take a member out of the household")
            }),
        )
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Whether the tenant's households live in its church management system (remote source).
pub async fn kept_remotely(app: &AppState, scope: &crate::tenancy::TenantScope) -> AppResult<bool> {
    Ok(crate::mission::settings::load(&app.db, scope).await?.source == "remote")
}

/// Refuses a households request of a remote-source tenant (JSON).
async fn refuse_remote(app: &AppState, actor: &Actor) -> AppResult<()> {
    if kept_remotely(app, actor.scope()).await? {
        return Err(AppError::Unprocessable(
            crate::i18n::k("households-error-remote").into(),
        ));
    }
    Ok(())
}

#[derive(askama::Template)]
#[template(path = "mission/templates/admin_households_remote.html")]
struct AdminRemote {
    page: PageCtx,
}

/// The staff's households page of a remote-source tenant: where households are managed.
async fn remote_page(
    app: &AppState,
    ctx: &RequestContext,
    actor: &Actor,
) -> AppResult<Option<Response>> {
    if !kept_remotely(app, actor.scope()).await? {
        return Ok(None);
    }
    Ok(Some(render(&AdminRemote {
        page: PageCtx::new(ctx),
    })?))
}

/// A staff form post of a remote-source tenant changes nothing and leads to that page.
async fn remote_post(app: &AppState, actor: &Actor) -> AppResult<Option<Response>> {
    Ok(kept_remotely(app, actor.scope())
        .await?
        .then(|| Redirect::to("/admin/mission/households").into_response()))
}

#[derive(Deserialize, Default)]
struct ListQuery {
    #[serde(default)]
    cursor: Option<String>,
    #[serde(default)]
    notice: Option<String>,
}

fn notice(n: Option<&str>) -> Option<&'static str> {
    match n {
        Some("created") => Some("households-notice-created"),
        Some("saved") => Some("households-notice-saved"),
        Some("deleted") => Some("households-notice-deleted"),
        Some("added") => Some("households-notice-added"),
        Some("removed") => Some("households-notice-removed"),
        _ => None,
    }
}

#[derive(askama::Template)]
#[template(path = "mission/templates/admin_households.html")]
struct AdminList {
    page: PageCtx,
    items: Vec<Household>,
    next: Option<String>,
    name_value: String,
    errors: FormErrors,
    notice: Option<&'static str>,
}

async fn admin_list_view(
    app: &AppState,
    ctx: &RequestContext,
    actor: &Actor,
    cursor: Option<&str>,
    name: String,
    error: Option<&AppError>,
    notice: Option<&'static str>,
) -> AppResult<Response> {
    let (items, next) = super::list(&app.db, actor.scope(), cursor, super::PAGE_SIZE).await?;
    render_form(
        &AdminList {
            page: PageCtx::new(ctx),
            items,
            next: next.map(|c| format!("/admin/mission/households?cursor={}", enc(&c))),
            name_value: name,
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
    let actor = staff.require(Permission::ManageUsers)?;
    if let Some(r) = remote_page(&app, &ctx, &actor).await? {
        return Ok(r);
    }
    admin_list_view(
        &app,
        &ctx,
        &actor,
        q.cursor.as_deref().filter(|c| !c.is_empty()),
        String::new(),
        None,
        notice(q.notice.as_deref()),
    )
    .await
}

#[derive(Deserialize, Default)]
struct NameForm {
    #[serde(default)]
    name: String,
}

async fn admin_create_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    axum::Form(f): axum::Form<NameForm>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageUsers)?;
    if let Some(r) = remote_post(&app, &actor).await? {
        return Ok(r);
    }
    let result = super::create(&app.db, &actor, &ctx.ip, &f.name).await;
    let done = match &result {
        Ok(id) => format!("/admin/mission/households/{}?notice=created", enc(id)),
        Err(_) => String::new(),
    };
    form_outcome(result, &done, |e| async move {
        admin_list_view(&app, &ctx, &actor, None, f.name, Some(&e), None).await
    })
    .await
}

#[derive(askama::Template)]
#[template(path = "mission/templates/admin_household.html")]
struct AdminDetail {
    page: PageCtx,
    h: Household,
    members: Vec<Resident>,
    people: Vec<(String, String)>,
    name_value: String,
    errors: FormErrors,
    notice: Option<&'static str>,
}

async fn admin_detail_view(
    app: &AppState,
    ctx: &RequestContext,
    actor: &Actor,
    id: &str,
    name: Option<String>,
    error: Option<&AppError>,
    notice: Option<&'static str>,
) -> AppResult<Response> {
    let scope = actor.scope();
    let h = super::get(&app.db, scope, id).await?;
    render_form(
        &AdminDetail {
            page: PageCtx::new(ctx),
            members: super::residents(&app.db, scope, &h.id).await?,
            people: super::unhoused(&app.db, scope).await?,
            name_value: name.unwrap_or_else(|| h.name.clone()),
            h,
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
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageUsers)?;
    if let Some(r) = remote_page(&app, &ctx, &actor).await? {
        return Ok(r);
    }
    admin_detail_view(
        &app,
        &ctx,
        &actor,
        &id,
        None,
        None,
        notice(q.notice.as_deref()),
    )
    .await
}

fn detail_url(id: &str, notice: &str) -> String {
    format!("/admin/mission/households/{}?notice={notice}", enc(id))
}

async fn admin_rename_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<NameForm>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageUsers)?;
    if let Some(r) = remote_post(&app, &actor).await? {
        return Ok(r);
    }
    let result = super::rename(&app.db, &actor, &ctx.ip, &id, &f.name).await;
    let done = detail_url(&id, "saved");
    form_outcome(result, &done, |e| async move {
        admin_detail_view(&app, &ctx, &actor, &id, Some(f.name), Some(&e), None).await
    })
    .await
}

#[derive(Deserialize, Default)]
struct MemberForm {
    #[serde(default)]
    user_id: String,
}

async fn admin_add_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<MemberForm>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageUsers)?;
    if let Some(r) = remote_post(&app, &actor).await? {
        return Ok(r);
    }
    let result = super::add_member(&app.db, &actor, &ctx.ip, &id, &f.user_id).await;
    let done = detail_url(&id, "added");
    form_outcome(result, &done, |e| async move {
        admin_detail_view(&app, &ctx, &actor, &id, None, Some(&e), None).await
    })
    .await
}

async fn admin_remove_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path((id, uid)): Path<(String, String)>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageUsers)?;
    if let Some(r) = remote_post(&app, &actor).await? {
        return Ok(r);
    }
    super::remove_member(&app.db, &actor, &ctx.ip, &id, &uid).await?;
    Ok(Redirect::to(&detail_url(&id, "removed")).into_response())
}

async fn admin_delete_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageUsers)?;
    if let Some(r) = remote_post(&app, &actor).await? {
        return Ok(r);
    }
    super::delete(&app.db, &actor, &ctx.ip, &id).await?;
    Ok(Redirect::to("/admin/mission/households?notice=deleted").into_response())
}

// --- Member ---

#[derive(Deserialize, Default)]
struct SharingForm {
    #[serde(default)]
    share: Option<String>,
}

async fn sharing_form(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    axum::Form(f): axum::Form<SharingForm>,
) -> AppResult<Response> {
    let me = user.require(Permission::MissionAccess)?;
    // Kept by the church management system: the giving page says so; nothing to save here.
    if kept_remotely(&app, me.scope()).await? {
        return Ok(Redirect::to("/portal/mission/giving#household").into_response());
    }
    super::set_sharing(&app.db, &me, &ctx.ip, f.share.as_deref() == Some("1")).await?;
    Ok(Redirect::to("/portal/mission/giving?notice=sharing").into_response())
}

#[derive(Deserialize, Default)]
struct YearQuery {
    #[serde(default)]
    year: Option<String>,
}

async fn household_statement(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Query(q): Query<YearQuery>,
) -> AppResult<Response> {
    let me = user.require(Permission::MissionAccess)?;
    if kept_remotely(&app, me.scope()).await? {
        return Ok(Redirect::to("/portal/mission/giving#household").into_response());
    }
    let tz = crate::mission::tenant_zone(&user.tenant.time_zone);
    let year = q
        .year
        .as_deref()
        .and_then(|y| y.trim().parse::<i32>().ok())
        .filter(|y| (1900..=9999).contains(y))
        .unwrap_or_else(|| chrono::Datelike::year(&crate::mission::today(tz)));
    let Some((name, gifts)) =
        super::statement_gifts(&app.db, me.scope(), me.user_id().as_str(), year).await?
    else {
        return Err(AppError::NotFound);
    };
    let settings = crate::mission::settings::load(&app.db, me.scope()).await?;
    let choices =
        crate::mission::directory::choices(&app.db, me.scope(), me.user_id().as_str()).await?;
    let bytes = crate::mission::giving::statement::pdf(
        &crate::mission::giving::statement::Statement {
            tenant: &user.tenant,
            settings: &settings,
            member_name: &name,
            member_address: &choices.address,
            year,
            gifts: &gifts,
            show_giver: true,
        },
        &PageCtx::new(&ctx).t,
    )
    .map_err(|e| AppError::Internal(anyhow::anyhow!("statement: {e}")))?;
    let mut r = bytes.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pdf"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"household-giving-statement-{year}.pdf\""
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(r)
}

async fn api_mine(State(app): State<AppState>, user: PortalUser) -> AppResult<Json<MyHousehold>> {
    let me = user.require(Permission::MissionAccess)?;
    refuse_remote(&app, &me).await?;
    Ok(Json(
        super::mine(&app.db, me.scope(), me.user_id().as_str()).await?,
    ))
}

/// The member's sharing choice.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct SharingBody {
    /// List my gifts on my household's giving statement.
    share_statements: bool,
}

async fn api_set_sharing(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Json(b): Json<SharingBody>,
) -> AppResult<Json<MyHousehold>> {
    let me = user.require(Permission::MissionAccess)?;
    refuse_remote(&app, &me).await?;
    super::set_sharing(&app.db, &me, &ctx.ip, b.share_statements).await?;
    Ok(Json(
        super::mine(&app.db, me.scope(), me.user_id().as_str()).await?,
    ))
}

// --- Staff JSON ---

#[derive(Deserialize, Default, schemars::JsonSchema)]
struct PageQuery {
    /// Id of the last household of the previous page.
    #[serde(default)]
    cursor: Option<String>,
    /// Page size (default 25, at most 200).
    #[serde(default)]
    limit: Option<i64>,
}

/// A page of households.
#[derive(Serialize, schemars::JsonSchema)]
struct HouseholdPage {
    items: Vec<Household>,
    next_cursor: Option<String>,
}

async fn api_admin_list(
    State(app): State<AppState>,
    staff: StaffUser,
    Query(q): Query<PageQuery>,
) -> AppResult<Json<HouseholdPage>> {
    let actor = staff.require(Permission::ManageUsers)?;
    refuse_remote(&app, &actor).await?;
    let (items, next_cursor) = super::list(
        &app.db,
        actor.scope(),
        q.cursor.as_deref().filter(|c| !c.is_empty()),
        q.limit.unwrap_or(super::PAGE_SIZE),
    )
    .await?;
    Ok(Json(HouseholdPage { items, next_cursor }))
}

/// A household's name.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct NameBody {
    /// Name.
    #[serde(default)]
    name: String,
}

async fn api_admin_create(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Json(b): Json<NameBody>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageUsers)?;
    refuse_remote(&app, &actor).await?;
    let id = super::create(&app.db, &actor, &ctx.ip, &b.name).await?;
    let h = super::get(&app.db, actor.scope(), &id).await?;
    Ok((StatusCode::CREATED, Json(h)).into_response())
}

/// A household and everyone in it (staff).
#[derive(Serialize, schemars::JsonSchema)]
struct AdminHousehold {
    household: Household,
    members: Vec<Resident>,
}

async fn admin_household(app: &AppState, actor: &Actor, id: &str) -> AppResult<AdminHousehold> {
    let household = super::get(&app.db, actor.scope(), id).await?;
    Ok(AdminHousehold {
        members: super::residents(&app.db, actor.scope(), &household.id).await?,
        household,
    })
}

async fn api_admin_get(
    State(app): State<AppState>,
    staff: StaffUser,
    Path(id): Path<String>,
) -> AppResult<Json<AdminHousehold>> {
    let actor = staff.require(Permission::ManageUsers)?;
    refuse_remote(&app, &actor).await?;
    Ok(Json(admin_household(&app, &actor, &id).await?))
}

async fn api_admin_rename(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    Json(b): Json<NameBody>,
) -> AppResult<Json<AdminHousehold>> {
    let actor = staff.require(Permission::ManageUsers)?;
    refuse_remote(&app, &actor).await?;
    super::rename(&app.db, &actor, &ctx.ip, &id, &b.name).await?;
    Ok(Json(admin_household(&app, &actor, &id).await?))
}

/// Outcome of a deletion.
#[derive(Serialize, schemars::JsonSchema)]
struct Deleted {
    deleted: bool,
}

async fn api_admin_delete(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> AppResult<Json<Deleted>> {
    let actor = staff.require(Permission::ManageUsers)?;
    refuse_remote(&app, &actor).await?;
    super::delete(&app.db, &actor, &ctx.ip, &id).await?;
    Ok(Json(Deleted { deleted: true }))
}

async fn api_admin_add(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path((id, user_id)): Path<(String, String)>,
) -> AppResult<Json<AdminHousehold>> {
    let actor = staff.require(Permission::ManageUsers)?;
    refuse_remote(&app, &actor).await?;
    super::add_member(&app.db, &actor, &ctx.ip, &id, &user_id).await?;
    Ok(Json(admin_household(&app, &actor, &id).await?))
}

async fn api_admin_remove(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path((id, user_id)): Path<(String, String)>,
) -> AppResult<Json<AdminHousehold>> {
    let actor = staff.require(Permission::ManageUsers)?;
    refuse_remote(&app, &actor).await?;
    super::remove_member(&app.db, &actor, &ctx.ip, &id, &user_id).await?;
    Ok(Json(admin_household(&app, &actor, &id).await?))
}
