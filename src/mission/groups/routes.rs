//! Group pages and JSON: the member's browse page, my groups, a group (members and messages for
//! its members, requests for its leaders), join, leave, decide and post; the staff's groups,
//! categories and leaders.

use aide::axum::routing::{delete_with, get_with, post_with, put_with};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};

use super::{Category, Group, GroupFilter, GroupInput, GroupMember, GroupMessage, GroupView};
use crate::app::AppState;
use crate::auth::{Actor, Permission, PortalUser, StaffUser};
use crate::error::{AppError, AppResult};
use crate::http::context::{Ctx, RequestContext};
use crate::http::{ApiRouter, PageRouter};
use crate::web::{FormErrors, PageCtx, form_outcome, render, render_form};

/// Pages.
pub fn pages() -> PageRouter {
    PageRouter::default()
        .route("/portal/mission/groups", get(list_page))
        .route("/portal/mission/groups/{id}", get(detail_page))
        .route("/portal/mission/groups/{id}/join", post(join_form))
        .route("/portal/mission/groups/{id}/leave", post(leave_form))
        .route(
            "/portal/mission/groups/{id}/requests/{uid}",
            post(decide_form),
        )
        .route("/portal/mission/groups/{id}/messages", post(message_form))
        .route(
            "/admin/mission/groups",
            get(admin_list).post(admin_create_form),
        )
        .route(
            "/admin/mission/groups/{id}",
            get(admin_detail).post(admin_update_form),
        )
        .route("/admin/mission/groups/{id}/delete", post(admin_delete_form))
        .route(
            "/admin/mission/groups/{id}/leaders",
            post(admin_leader_form),
        )
        .route(
            "/admin/mission/groups/{id}/requests/{uid}",
            post(admin_decide_form),
        )
        .route("/admin/mission/group-categories", post(admin_category_form))
        .route(
            "/admin/mission/group-categories/{id}/delete",
            post(admin_category_delete_form),
        )
}

/// JSON API.
pub fn api() -> ApiRouter {
    ApiRouter::default()
        .route(
            "/api/v1/mission/groups",
            get_with(api_list, |op| {
                op.id("listMissionGroups").tag("mission").summary("Groups and categories")
                    .description("Filter by `category` (id), `day` (`monday`…`sunday`) and `location` (text); `mine=true` lists only groups I belong to or asked to join.")
            }),
        )
        .route(
            "/api/v1/mission/groups/{id}",
            get_with(api_detail, |op| {
                op.id("getMissionGroup").tag("mission").summary("A group")
                    .description("The member list and messages are given to the group's members only; requests to join to its leaders only.")
            }),
        )
        .route(
            "/api/v1/mission/groups/{id}/membership",
            post_with(api_join, |op| {
                op.id("joinMissionGroup").tag("mission").summary("Join (open group) or ask to join (closed group)")
                    .response_with::<201, Json<Membership>, _>(|r| r.description("`active` or `pending`."))
            })
            .delete_with(api_leave, |op| {
                op.id("leaveMissionGroup").tag("mission").summary("Leave a group or withdraw my request")
            }),
        )
        .route(
            "/api/v1/mission/groups/{id}/requests/{user_id}",
            post_with(api_decide, |op| {
                op.id("decideGroupRequest").tag("mission").summary("Approve or decline a request to join")
                    .description("Leaders of the group only: 403 for other members, 404 for everyone else.")
            }),
        )
        .route(
            "/api/v1/mission/groups/{id}/messages",
            post_with(api_message, |op| {
                op.id("postGroupMessage").tag("mission").summary("Post a message to the group (leaders)")
                    .response_with::<201, Json<GroupMessage>, _>(|r| r.description("Posted."))
            }),
        )
        .route(
            "/api/v1/admin/mission/groups",
            get_with(api_admin_list, |op| {
                op.id("adminListGroups").tag("mission-admin").summary("Groups")
                    .description("Needs `manage_groups`.")
            })
            .post_with(api_admin_create, |op| {
                op.id("adminCreateGroup").tag("mission-admin").summary("Create a group")
                    .response_with::<201, Json<Group>, _>(|r| r.description("Created."))
            }),
        )
        .route(
            "/api/v1/admin/mission/groups/{id}",
            get_with(api_admin_get, |op| {
                op.id("adminGetGroup").tag("mission-admin").summary("A group with its members and requests")
            })
            .put_with(api_admin_update, |op| {
                op.id("adminUpdateGroup").tag("mission-admin").summary("Change a group")
            })
            .delete_with(api_admin_delete, |op| {
                op.id("adminDeleteGroup").tag("mission-admin").summary("Delete a group, its members and messages")
            }),
        )
        .route(
            "/api/v1/admin/mission/groups/{id}/leaders/{user_id}",
            put_with(api_admin_leader, |op| {
                op.id("adminSetGroupLeader").tag("mission-admin").summary("Make a member a leader (`leader: true`) or a plain member again")
            }),
        )
        .route(
            "/api/v1/admin/mission/group-categories",
            get_with(api_admin_categories, |op| {
                op.id("adminListGroupCategories").tag("mission-admin").summary("Group categories")
            })
            .post_with(api_admin_category_create, |op| {
                op.id("adminCreateGroupCategory").tag("mission-admin").summary("Create a category")
                    .response_with::<201, Json<Category>, _>(|r| r.description("Created."))
            }),
        )
        .route(
            "/api/v1/admin/mission/group-categories/{id}",
            delete_with(api_admin_category_delete, |op| {
                op.id("adminDeleteGroupCategory").tag("mission-admin").summary("Delete a category (its groups become uncategorised)")
            }),
        )
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn member(user: &PortalUser) -> AppResult<Actor> {
    user.require(Permission::MissionAccess)
}

#[derive(Deserialize, Default)]
struct ListQuery {
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    day: Option<String>,
    #[serde(default)]
    location: Option<String>,
    #[serde(default)]
    notice: Option<String>,
}

#[derive(askama::Template)]
#[template(path = "mission/templates/groups.html")]
struct ListPage {
    page: PageCtx,
    mine: Vec<Group>,
    items: Vec<Group>,
    categories: Vec<Category>,
    days: &'static [&'static str],
    category: String,
    day: String,
    location: String,
    notice: Option<&'static str>,
}

async fn list_page(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    let me = member(&user)?;
    let scope = me.scope();
    let viewer = me.user_id().as_str();
    let f = GroupFilter {
        category: q.category.clone(),
        day: q.day.clone(),
        location: q.location.clone(),
        mine: None,
    };
    let items = super::list(&app.db, scope, viewer, &f).await?;
    let mine = super::list(
        &app.db,
        scope,
        viewer,
        &GroupFilter {
            mine: Some(true),
            ..GroupFilter::default()
        },
    )
    .await?;
    render(&ListPage {
        page: PageCtx::new(&ctx),
        mine,
        items,
        categories: super::categories(&app.db, scope).await?,
        days: super::DAYS,
        category: q.category.unwrap_or_default(),
        day: q.day.unwrap_or_default(),
        location: q.location.unwrap_or_default(),
        notice: match q.notice.as_deref() {
            Some("left") => Some("groups-notice-left"),
            _ => None,
        },
    })
}

#[derive(askama::Template)]
#[template(path = "mission/templates/group.html")]
struct DetailPage {
    page: PageCtx,
    v: GroupView,
    errors: FormErrors,
    draft: String,
    notice: Option<&'static str>,
}

#[derive(Deserialize, Default)]
struct NoticeQuery {
    #[serde(default)]
    notice: Option<String>,
}

async fn detail_view(
    app: &AppState,
    ctx: &RequestContext,
    me: &Actor,
    id: &str,
    notice: Option<&'static str>,
    errors: FormErrors,
    draft: String,
) -> AppResult<Response> {
    let v = super::view(&app.db, me.scope(), me.user_id().as_str(), id).await?;
    let failed = !errors.is_empty();
    let mut r = render(&DetailPage {
        page: PageCtx::new(ctx),
        v,
        errors,
        draft,
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
    Query(q): Query<NoticeQuery>,
) -> AppResult<Response> {
    let me = member(&user)?;
    let notice = match q.notice.as_deref() {
        Some("active") => Some("groups-notice-joined"),
        Some("pending") => Some("groups-notice-requested"),
        Some("posted") => Some("groups-notice-posted"),
        Some("decided") => Some("groups-notice-decided"),
        _ => None,
    };
    detail_view(
        &app,
        &ctx,
        &me,
        &id,
        notice,
        FormErrors::default(),
        String::new(),
    )
    .await
}

fn to_group(id: &str, notice: &str) -> Response {
    Redirect::to(&format!(
        "/portal/mission/groups/{}?notice={notice}",
        enc(id)
    ))
    .into_response()
}

async fn join_form(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let me = member(&user)?;
    let status = super::join(&app.db, &me, &ctx.ip, &id).await?;
    Ok(to_group(&id, &status))
}

async fn leave_form(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let me = member(&user)?;
    super::leave(&app.db, &me, &ctx.ip, &id).await?;
    Ok(Redirect::to("/portal/mission/groups?notice=left").into_response())
}

#[derive(Deserialize, Default)]
struct DecisionForm {
    #[serde(default)]
    decision: String,
}

async fn decide_form(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Path((id, uid)): Path<(String, String)>,
    axum::Form(f): axum::Form<DecisionForm>,
) -> AppResult<Response> {
    let me = member(&user)?;
    super::decide(
        &app.db,
        &me,
        &ctx.ip,
        &id,
        &uid,
        f.decision == "approve",
        false,
    )
    .await?;
    Ok(to_group(&id, "decided"))
}

#[derive(Deserialize, Default)]
struct MessageForm {
    #[serde(default)]
    body: String,
}

async fn message_form(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<MessageForm>,
) -> AppResult<Response> {
    let me = member(&user)?;
    match super::post_message(&app.db, &me, &ctx.ip, &id, &f.body).await {
        Ok(_) => Ok(to_group(&id, "posted")),
        Err(e @ AppError::Validation { .. }) => {
            detail_view(&app, &ctx, &me, &id, None, FormErrors::from(&e), f.body).await
        }
        Err(e) => Err(e),
    }
}

// --- Member JSON ---

#[derive(Deserialize, Default, schemars::JsonSchema)]
struct ApiListQuery {
    /// Category id.
    #[serde(default)]
    category: Option<String>,
    /// `monday`…`sunday`.
    #[serde(default)]
    day: Option<String>,
    /// Text in the location.
    #[serde(default)]
    location: Option<String>,
    /// Only my groups (and my requests).
    #[serde(default)]
    mine: Option<bool>,
}

/// Groups and the categories to filter by.
#[derive(Serialize, schemars::JsonSchema)]
struct GroupList {
    items: Vec<Group>,
    categories: Vec<Category>,
}

async fn api_list(
    State(app): State<AppState>,
    user: PortalUser,
    Query(q): Query<ApiListQuery>,
) -> AppResult<Json<GroupList>> {
    let me = member(&user)?;
    let f = GroupFilter {
        category: q.category,
        day: q.day,
        location: q.location,
        mine: q.mine,
    };
    Ok(Json(GroupList {
        items: super::list(&app.db, me.scope(), me.user_id().as_str(), &f).await?,
        categories: super::categories(&app.db, me.scope()).await?,
    }))
}

async fn api_detail(
    State(app): State<AppState>,
    user: PortalUser,
    Path(id): Path<String>,
) -> AppResult<Json<GroupView>> {
    let me = member(&user)?;
    Ok(Json(
        super::view(&app.db, me.scope(), me.user_id().as_str(), &id).await?,
    ))
}

/// My membership after joining.
#[derive(Serialize, schemars::JsonSchema)]
struct Membership {
    /// `active` (open group) or `pending` (waiting for a leader).
    status: String,
}

async fn api_join(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let me = member(&user)?;
    let status = super::join(&app.db, &me, &ctx.ip, &id).await?;
    Ok((StatusCode::CREATED, Json(Membership { status })).into_response())
}

/// Outcome of leaving.
#[derive(Serialize, schemars::JsonSchema)]
struct Left {
    left: bool,
}

async fn api_leave(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> AppResult<Json<Left>> {
    let me = member(&user)?;
    super::leave(&app.db, &me, &ctx.ip, &id).await?;
    Ok(Json(Left { left: true }))
}

/// A leader's decision.
#[derive(Deserialize, schemars::JsonSchema)]
struct Decision {
    /// `true` admits the member, `false` declines the request.
    approve: bool,
}

/// Outcome of a decision.
#[derive(Serialize, schemars::JsonSchema)]
struct Decided {
    approved: bool,
}

async fn api_decide(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Path((id, uid)): Path<(String, String)>,
    Json(d): Json<Decision>,
) -> AppResult<Json<Decided>> {
    let me = member(&user)?;
    super::decide(&app.db, &me, &ctx.ip, &id, &uid, d.approve, false).await?;
    Ok(Json(Decided {
        approved: d.approve,
    }))
}

/// A message to post.
#[derive(Deserialize, schemars::JsonSchema)]
struct NewMessage {
    /// Text (up to 2000 characters).
    body: String,
}

async fn api_message(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    Json(m): Json<NewMessage>,
) -> AppResult<Response> {
    let me = member(&user)?;
    let msg = super::post_message(&app.db, &me, &ctx.ip, &id, &m.body).await?;
    Ok((StatusCode::CREATED, Json(msg)).into_response())
}

// --- Staff pages ---

#[derive(Deserialize, Default, Clone)]
struct GroupForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    category_id: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    meeting_day: String,
    #[serde(default)]
    meeting_time: String,
    #[serde(default)]
    location: String,
    #[serde(default)]
    open: Option<String>,
}

impl GroupForm {
    fn input(&self) -> GroupInput {
        GroupInput {
            name: self.name.clone(),
            category_id: Some(self.category_id.clone()),
            description: self.description.clone(),
            meeting_day: self.meeting_day.clone(),
            meeting_time: self.meeting_time.clone(),
            location: self.location.clone(),
            open: self.open.is_some(),
        }
    }

    fn of(g: &Group) -> GroupForm {
        GroupForm {
            name: g.name.clone(),
            category_id: g.category_id.clone().unwrap_or_default(),
            description: g.description.clone(),
            meeting_day: g.meeting_day.clone(),
            meeting_time: g.meeting_time.clone(),
            location: g.location.clone(),
            open: g.open.then(|| "1".into()),
        }
    }
}

#[derive(askama::Template)]
#[template(path = "mission/templates/admin_groups.html")]
struct AdminList {
    page: PageCtx,
    items: Vec<Group>,
    categories: Vec<Category>,
    days: &'static [&'static str],
    form: GroupForm,
    errors: FormErrors,
    category_name: String,
    notice: Option<&'static str>,
}

async fn admin_list_view(
    app: &AppState,
    ctx: &RequestContext,
    actor: &Actor,
    form: GroupForm,
    error: Option<&AppError>,
    category_name: String,
    notice: Option<&'static str>,
) -> AppResult<Response> {
    let items = super::list(&app.db, actor.scope(), "", &GroupFilter::default()).await?;
    render_form(
        &AdminList {
            page: PageCtx::new(ctx),
            items,
            categories: super::categories(&app.db, actor.scope()).await?,
            days: super::DAYS,
            form,
            errors: error.map(FormErrors::from).unwrap_or_default(),
            category_name,
            notice,
        },
        error,
    )
}

fn staff_notice(n: Option<&str>) -> Option<&'static str> {
    match n {
        Some("created") => Some("groups-notice-created"),
        Some("saved") => Some("groups-notice-saved"),
        Some("deleted") => Some("groups-notice-deleted"),
        Some("done") => Some("groups-notice-done"),
        _ => None,
    }
}

async fn admin_list(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Query(q): Query<NoticeQuery>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageGroups)?;
    let form = GroupForm {
        open: Some("1".into()),
        ..GroupForm::default()
    };
    admin_list_view(
        &app,
        &ctx,
        &actor,
        form,
        None,
        String::new(),
        staff_notice(q.notice.as_deref()),
    )
    .await
}

async fn admin_create_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    axum::Form(f): axum::Form<GroupForm>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageGroups)?;
    let result = super::create(&app.db, &actor, &ctx.ip, &f.input()).await;
    let done = match &result {
        Ok(id) => format!("/admin/mission/groups/{id}?notice=created"),
        Err(_) => String::new(),
    };
    form_outcome(result, &done, |e| async move {
        admin_list_view(&app, &ctx, &actor, f, Some(&e), String::new(), None).await
    })
    .await
}

#[derive(Deserialize, Default)]
struct CategoryForm {
    #[serde(default)]
    category: String,
}

async fn admin_category_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    axum::Form(f): axum::Form<CategoryForm>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageGroups)?;
    let result = super::create_category(&app.db, &actor, &ctx.ip, &f.category).await;
    form_outcome(
        result,
        "/admin/mission/groups?notice=done",
        |e| async move {
            let form = GroupForm {
                open: Some("1".into()),
                ..GroupForm::default()
            };
            admin_list_view(&app, &ctx, &actor, form, Some(&e), f.category, None).await
        },
    )
    .await
}

async fn admin_category_delete_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageGroups)?;
    super::delete_category(&app.db, &actor, &ctx.ip, &id).await?;
    Ok(Redirect::to("/admin/mission/groups?notice=done").into_response())
}

#[derive(askama::Template)]
#[template(path = "mission/templates/admin_group.html")]
struct AdminDetail {
    page: PageCtx,
    g: Group,
    members: Vec<GroupMember>,
    requests: Vec<GroupMember>,
    people: Vec<(String, String)>,
    categories: Vec<Category>,
    days: &'static [&'static str],
    form: GroupForm,
    errors: FormErrors,
    notice: Option<&'static str>,
}

async fn admin_detail_view(
    app: &AppState,
    ctx: &RequestContext,
    actor: &Actor,
    id: &str,
    form: Option<GroupForm>,
    error: Option<&AppError>,
    notice: Option<&'static str>,
) -> AppResult<Response> {
    let scope = actor.scope();
    let g = super::get(&app.db, scope, "", id).await?;
    render_form(
        &AdminDetail {
            page: PageCtx::new(ctx),
            members: super::people(&app.db, scope, &g.id, "active").await?,
            requests: super::people(&app.db, scope, &g.id, "pending").await?,
            people: super::tenant_members(&app.db, scope).await?,
            categories: super::categories(&app.db, scope).await?,
            days: super::DAYS,
            form: form.unwrap_or_else(|| GroupForm::of(&g)),
            g,
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
    Query(q): Query<NoticeQuery>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageGroups)?;
    admin_detail_view(
        &app,
        &ctx,
        &actor,
        &id,
        None,
        None,
        staff_notice(q.notice.as_deref()),
    )
    .await
}

fn admin_group_url(id: &str, notice: &str) -> String {
    format!("/admin/mission/groups/{}?notice={notice}", enc(id))
}

fn to_admin_group(id: &str, notice: &str) -> Response {
    Redirect::to(&admin_group_url(id, notice)).into_response()
}

async fn admin_update_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<GroupForm>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageGroups)?;
    let result = super::update(&app.db, &actor, &ctx.ip, &id, &f.input()).await;
    let done = admin_group_url(&id, "saved");
    form_outcome(result, &done, |e| async move {
        admin_detail_view(&app, &ctx, &actor, &id, Some(f), Some(&e), None).await
    })
    .await
}

async fn admin_delete_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageGroups)?;
    super::delete(&app.db, &actor, &ctx.ip, &id).await?;
    Ok(Redirect::to("/admin/mission/groups?notice=deleted").into_response())
}

#[derive(Deserialize, Default)]
struct LeaderForm {
    #[serde(default)]
    user_id: String,
    #[serde(default)]
    leader: String,
}

async fn admin_leader_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<LeaderForm>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageGroups)?;
    let result =
        super::set_leader(&app.db, &actor, &ctx.ip, &id, &f.user_id, f.leader == "1").await;
    let done = admin_group_url(&id, "done");
    form_outcome(result, &done, |e| async move {
        admin_detail_view(&app, &ctx, &actor, &id, None, Some(&e), None).await
    })
    .await
}

async fn admin_decide_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path((id, uid)): Path<(String, String)>,
    axum::Form(f): axum::Form<DecisionForm>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageGroups)?;
    super::decide(
        &app.db,
        &actor,
        &ctx.ip,
        &id,
        &uid,
        f.decision == "approve",
        true,
    )
    .await?;
    Ok(to_admin_group(&id, "done"))
}

// --- Staff JSON ---

/// Every group.
#[derive(Serialize, schemars::JsonSchema)]
struct AdminGroupList {
    items: Vec<Group>,
}

async fn api_admin_list(
    State(app): State<AppState>,
    staff: StaffUser,
) -> AppResult<Json<AdminGroupList>> {
    let actor = staff.require(Permission::ManageGroups)?;
    Ok(Json(AdminGroupList {
        items: super::list(&app.db, actor.scope(), "", &GroupFilter::default()).await?,
    }))
}

async fn api_admin_create(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Json(i): Json<GroupInput>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageGroups)?;
    let id = super::create(&app.db, &actor, &ctx.ip, &i).await?;
    let g = super::get(&app.db, actor.scope(), "", &id).await?;
    Ok((StatusCode::CREATED, Json(g)).into_response())
}

/// A group with everyone in it and every request (staff).
#[derive(Serialize, schemars::JsonSchema)]
struct AdminGroup {
    group: Group,
    members: Vec<GroupMember>,
    requests: Vec<GroupMember>,
}

async fn admin_group(app: &AppState, actor: &Actor, id: &str) -> AppResult<AdminGroup> {
    let scope = actor.scope();
    let group = super::get(&app.db, scope, "", id).await?;
    Ok(AdminGroup {
        members: super::people(&app.db, scope, &group.id, "active").await?,
        requests: super::people(&app.db, scope, &group.id, "pending").await?,
        group,
    })
}

async fn api_admin_get(
    State(app): State<AppState>,
    staff: StaffUser,
    Path(id): Path<String>,
) -> AppResult<Json<AdminGroup>> {
    let actor = staff.require(Permission::ManageGroups)?;
    Ok(Json(admin_group(&app, &actor, &id).await?))
}

async fn api_admin_update(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    Json(i): Json<GroupInput>,
) -> AppResult<Json<AdminGroup>> {
    let actor = staff.require(Permission::ManageGroups)?;
    super::update(&app.db, &actor, &ctx.ip, &id, &i).await?;
    Ok(Json(admin_group(&app, &actor, &id).await?))
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
    let actor = staff.require(Permission::ManageGroups)?;
    super::delete(&app.db, &actor, &ctx.ip, &id).await?;
    Ok(Json(Deleted { deleted: true }))
}

/// Leader or plain member.
#[derive(Deserialize, schemars::JsonSchema)]
struct LeaderBody {
    /// `true` makes the member a leader (adding them to the group when needed).
    leader: bool,
}

async fn api_admin_leader(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path((id, uid)): Path<(String, String)>,
    Json(b): Json<LeaderBody>,
) -> AppResult<Json<AdminGroup>> {
    let actor = staff.require(Permission::ManageGroups)?;
    super::set_leader(&app.db, &actor, &ctx.ip, &id, &uid, b.leader).await?;
    Ok(Json(admin_group(&app, &actor, &id).await?))
}

/// Every category.
#[derive(Serialize, schemars::JsonSchema)]
struct CategoryList {
    items: Vec<Category>,
}

async fn api_admin_categories(
    State(app): State<AppState>,
    staff: StaffUser,
) -> AppResult<Json<CategoryList>> {
    let actor = staff.require(Permission::ManageGroups)?;
    Ok(Json(CategoryList {
        items: super::categories(&app.db, actor.scope()).await?,
    }))
}

async fn api_admin_category_create(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Json(c): Json<super::CategoryInput>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageGroups)?;
    let id = super::create_category(&app.db, &actor, &ctx.ip, &c.name).await?;
    let cat = super::categories(&app.db, actor.scope())
        .await?
        .into_iter()
        .find(|c| c.id == id)
        .ok_or(AppError::NotFound)?;
    Ok((StatusCode::CREATED, Json(cat)).into_response())
}

async fn api_admin_category_delete(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> AppResult<Json<Deleted>> {
    let actor = staff.require(Permission::ManageGroups)?;
    super::delete_category(&app.db, &actor, &ctx.ip, &id).await?;
    Ok(Json(Deleted { deleted: true }))
}
