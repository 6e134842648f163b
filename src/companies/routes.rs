//! Admin pages and JSON API for companies.

use aide::axum::routing::get_with;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{Company, CompanyId};
use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::auth::{Actor, Permission, StaffUser};
use crate::error::{AppError, AppResult};
use crate::http::context::Ctx;
use crate::http::{ApiRouter, PageRouter};
use crate::web::{FormErrors, PageCtx, notice, render};

const PAGE_SIZE: i64 = 50;

/// Admin pages.
pub fn pages() -> PageRouter {
    PageRouter::default()
        .route("/admin/companies", get(list_page).post(create_form))
        .route("/admin/companies/{id}", post(rename_form))
        .route("/admin/companies/{id}/deactivate", post(deactivate_form))
        .route("/admin/companies/{id}/activate", post(activate_form))
}

/// JSON API.
pub fn api() -> ApiRouter {
    ApiRouter::default()
        .route(
            "/api/v1/admin/companies",
            get_with(api_list, |op| {
                op.id("listCompanies")
                    .tag("companies")
                    .summary("List companies")
                    .description("Needs `manage_companies`. Keyset pagination by name.")
            })
            .post_with(api_create, |op| {
                op.id("createCompany")
                    .tag("companies")
                    .summary("Create a company")
                    .response_with::<201, Json<Company>, _>(|r| r.description("Created."))
            }),
        )
        .route(
            "/api/v1/admin/companies/{id}",
            get_with(api_get, |op| {
                op.id("getCompany").tag("companies").summary("One company")
            })
            .patch_with(api_update, |op| {
                op.id("updateCompany")
                    .tag("companies")
                    .summary("Rename, deactivate or reactivate a company")
                    .description(
                        "`status: deactivated` also ends every session of the company's users.",
                    )
            }),
        )
}

#[derive(askama::Template)]
#[template(path = "companies/templates/list.html")]
struct ListPage {
    page: PageCtx,
    companies: Vec<Company>,
    next_cursor: Option<String>,
    notice: Option<&'static str>,
    error: Option<String>,
    errors: FormErrors,
    new_name: String,
}

#[derive(Deserialize, Default, schemars::JsonSchema)]
struct ListQuery {
    cursor: Option<String>,
    limit: Option<i64>,
    notice: Option<String>,
}

async fn page_of(
    app: &AppState,
    actor: &Actor,
    cursor: Option<&str>,
    limit: i64,
) -> AppResult<(Vec<Company>, Option<String>)> {
    let limit = limit.clamp(1, 200);
    let items = super::list(&app.db, actor.scope(), cursor, limit).await?;
    let next = (items.len() as i64 == limit)
        .then(|| items.last().map(|c| c.name.clone()))
        .flatten();
    Ok((items, next))
}

async fn list_view(
    app: &AppState,
    ctx: &crate::http::context::RequestContext,
    actor: &Actor,
    q: &ListQuery,
    error: Option<&AppError>,
    new_name: String,
) -> AppResult<Response> {
    let (companies, next_cursor) = page_of(app, actor, q.cursor.as_deref(), PAGE_SIZE).await?;
    let mut r = render(&ListPage {
        page: PageCtx::new(ctx),
        companies,
        next_cursor,
        notice: notice(q.notice.as_deref()),
        error: error
            .filter(|e| !matches!(e, AppError::Validation { .. }))
            .map(|e| e.to_string()),
        errors: error.map(FormErrors::from).unwrap_or_default(),
        new_name,
    })?;
    if let Some(e) = error {
        *r.status_mut() = e.status();
    }
    Ok(r)
}

async fn list_page(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageCompanies)?;
    list_view(&app, &ctx, &actor, &q, None, String::new()).await
}

#[derive(Deserialize)]
struct NameForm {
    #[serde(default)]
    name: String,
}

async fn create(app: &AppState, actor: &Actor, ip: &str, name: &str) -> AppResult<CompanyId> {
    let name = super::check_name(name)?;
    let mut tx = app.db.tenant(actor.scope()).begin().await?;
    let id = super::create(&mut tx, &name).await.map_err(|e| match e {
        crate::db::DbError::Conflict(_) => {
            AppError::field("name", "A company with that name already exists.")
        }
        other => other.into(),
    })?;
    audit::append(
        &mut tx,
        Entry {
            ip: Some(ip),
            detail: json!({ "name": name }),
            ..Entry::new("company.created")
                .by(actor)
                .target("company", id.as_str())
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

async fn create_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    axum::Form(f): axum::Form<NameForm>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageCompanies)?;
    match create(&app, &actor, &ctx.ip, &f.name).await {
        Ok(_) => Ok(Redirect::to("/admin/companies?notice=saved").into_response()),
        Err(e @ (AppError::Validation { .. } | AppError::Conflict(_))) => {
            list_view(&app, &ctx, &actor, &ListQuery::default(), Some(&e), f.name).await
        }
        Err(e) => Err(e),
    }
}

async fn find(app: &AppState, actor: &Actor, id: &str) -> AppResult<Company> {
    super::get(&app.db, actor.scope(), id)
        .await?
        .ok_or(AppError::NotFound)
}

async fn rename(
    app: &AppState,
    actor: &Actor,
    ip: &str,
    id: &str,
    name: &str,
) -> AppResult<Company> {
    let company = find(app, actor, id).await?;
    let name = super::check_name(name)?;
    let mut tx = app.db.tenant(actor.scope()).begin().await?;
    super::rename(&mut tx, &company.id, &name)
        .await
        .map_err(|e| match e {
            crate::db::DbError::Conflict(_) => {
                AppError::field("name", "A company with that name already exists.")
            }
            other => other.into(),
        })?;
    audit::append(
        &mut tx,
        Entry {
            ip: Some(ip),
            detail: json!({ "from": company.name, "to": name }),
            ..Entry::new("company.renamed")
                .by(actor)
                .target("company", company.id.as_str())
        },
    )
    .await?;
    tx.commit().await?;
    Ok(company)
}

async fn set_active(
    app: &AppState,
    actor: &Actor,
    ip: &str,
    id: &str,
    active: bool,
) -> AppResult<()> {
    let company = find(app, actor, id).await?;
    let mut tx = app.db.tenant(actor.scope()).begin().await?;
    super::set_status(&mut tx, &company.id, active).await?;
    let action = if active {
        "company.activated"
    } else {
        "company.deactivated"
    };
    audit::append(
        &mut tx,
        Entry {
            ip: Some(ip),
            company_id: Some(company.id.as_str()),
            ..Entry::new(action)
                .by(actor)
                .target("company", company.id.as_str())
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn rename_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<NameForm>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageCompanies)?;
    match rename(&app, &actor, &ctx.ip, &id, &f.name).await {
        Ok(_) => Ok(Redirect::to("/admin/companies?notice=saved").into_response()),
        Err(e @ AppError::Validation { .. }) => {
            list_view(
                &app,
                &ctx,
                &actor,
                &ListQuery::default(),
                Some(&e),
                String::new(),
            )
            .await
        }
        Err(e) => Err(e),
    }
}

async fn deactivate_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageCompanies)?;
    set_active(&app, &actor, &ctx.ip, &id, false).await?;
    Ok(Redirect::to("/admin/companies?notice=saved").into_response())
}

async fn activate_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageCompanies)?;
    set_active(&app, &actor, &ctx.ip, &id, true).await?;
    Ok(Redirect::to("/admin/companies?notice=saved").into_response())
}

/// A page of companies.
#[derive(Serialize, schemars::JsonSchema)]
struct CompanyPage {
    items: Vec<Company>,
    next_cursor: Option<String>,
}

async fn api_list(
    State(app): State<AppState>,
    staff: StaffUser,
    Query(q): Query<ListQuery>,
) -> AppResult<Json<CompanyPage>> {
    let actor = staff.require(Permission::ManageCompanies)?;
    let (items, next_cursor) = page_of(
        &app,
        &actor,
        q.cursor.as_deref(),
        q.limit.unwrap_or(PAGE_SIZE),
    )
    .await?;
    Ok(Json(CompanyPage { items, next_cursor }))
}

#[derive(Deserialize, schemars::JsonSchema)]
struct CreateBody {
    name: String,
}

async fn api_create(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Json(b): Json<CreateBody>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageCompanies)?;
    let id = create(&app, &actor, &ctx.ip, &b.name).await?;
    let company = find(&app, &actor, id.as_str()).await?;
    Ok((StatusCode::CREATED, Json(company)).into_response())
}

async fn api_get(
    State(app): State<AppState>,
    staff: StaffUser,
    Path(id): Path<String>,
) -> AppResult<Json<Company>> {
    let actor = staff.require(Permission::ManageCompanies)?;
    Ok(Json(find(&app, &actor, &id).await?))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct UpdateBody {
    name: Option<String>,
    status: Option<String>,
}

async fn api_update(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    Json(b): Json<UpdateBody>,
) -> AppResult<Json<Company>> {
    let actor = staff.require(Permission::ManageCompanies)?;
    find(&app, &actor, &id).await?;
    let active = crate::http::parse_active(b.status.as_deref())?;
    if let Some(name) = &b.name {
        rename(&app, &actor, &ctx.ip, &id, name).await?;
    }
    if let Some(active) = active {
        set_active(&app, &actor, &ctx.ip, &id, active).await?;
    }
    Ok(Json(find(&app, &actor, &id).await?))
}
