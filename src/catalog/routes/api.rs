//! The catalog JSON API: clients browse and request, staff manage.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{PAGE_SIZE, client};
use crate::app::AppState;
use crate::auth::{Permission, PortalUser, StaffUser};
use crate::catalog::service::{self, ItemInput};
use crate::catalog::store::{self, Category, Item, ItemFilter};
use crate::catalog::{FormField, sla_words};
use crate::error::{AppError, AppResult};
use crate::http::context::Ctx;
use crate::i18n::Translator;

/// List and search parameters.
#[derive(Deserialize, Default, schemars::JsonSchema)]
pub(crate) struct ListQuery {
    /// Words in the name or description.
    pub q: Option<String>,
    /// A category id.
    pub category: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size (1–100).
    pub limit: Option<i64>,
}

/// A catalog item as a client sees it.
#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct ClientItem {
    /// Id.
    id: String,
    /// Category.
    category_id: String,
    /// Category name.
    category_name: String,
    /// Name.
    name: String,
    /// Markdown.
    description: String,
    /// Sanitised HTML.
    description_html: String,
    /// Icon name.
    icon: String,
    /// Price text.
    price: Option<String>,
    /// Minutes to the first response.
    first_response_minutes: i64,
    /// Minutes to resolution.
    resolution_minutes: i64,
    /// `business` (Mon–Fri 09:00–17:00) or `24x7`.
    hours: crate::catalog::Hours,
    /// The SLA in words, in the request's language.
    sla: Vec<String>,
    /// Current form version.
    form_version: i64,
    /// The request form.
    fields: Vec<FormField>,
}

fn client_item(t: &Translator, i: Item) -> ClientItem {
    ClientItem {
        sla: sla_words(t, i.first_response_minutes, i.resolution_minutes, i.hours).to_vec(),
        id: i.id,
        category_id: i.category_id,
        category_name: i.category_name,
        name: i.name,
        description: i.description,
        description_html: i.description_html,
        icon: i.icon,
        price: i.price,
        first_response_minutes: i.first_response_minutes,
        resolution_minutes: i.resolution_minutes,
        hours: i.hours,
        form_version: i.form_version,
        fields: i.fields,
    }
}

/// A page of the catalog.
#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct CatalogPage {
    /// Categories with how many items the caller may see in each.
    categories: Vec<Category>,
    /// Items.
    items: Vec<ClientItem>,
    /// Pass as `cursor` for the next page.
    next_cursor: Option<String>,
}

fn next_cursor(items: &[Item], limit: i64) -> Option<String> {
    (items.len() as i64 == limit)
        .then(|| items.last().map(|i| i.id.clone()))
        .flatten()
}

pub(super) async fn list(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Query(q): Query<ListQuery>,
) -> AppResult<Json<CatalogPage>> {
    let company = client(&user)?;
    let limit = q.limit.unwrap_or(PAGE_SIZE).clamp(1, 100);
    let scope = user.scope();
    let items = store::items(
        &app.db,
        &scope,
        &ItemFilter {
            company: Some(&company),
            category: q.category.as_deref().filter(|c| !c.is_empty()),
            q: q.q.as_deref(),
            cursor: q.cursor.as_deref().filter(|c| !c.is_empty()),
            limit,
        },
    )
    .await?;
    let t = Translator::new(ctx.locale);
    Ok(Json(CatalogPage {
        categories: store::categories(&app.db, &scope, Some(&company)).await?,
        next_cursor: next_cursor(&items, limit),
        items: items.into_iter().map(|i| client_item(&t, i)).collect(),
    }))
}

pub(super) async fn get(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> AppResult<Json<ClientItem>> {
    let company = client(&user)?;
    let item = service::visible_item(&app, &user.scope(), &company, &id).await?;
    Ok(Json(client_item(&Translator::new(ctx.locale), item)))
}

/// A request's answers.
#[derive(Deserialize, schemars::JsonSchema)]
pub(crate) struct SubmitBody {
    /// Field key → answer.
    #[serde(default)]
    answers: BTreeMap<String, Value>,
}

/// The ticket a request became.
#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct Created {
    /// Ticket number.
    number: i64,
    /// Ticket subject (the item's name).
    subject: String,
    /// First response due (Unix ms), from the item's SLA.
    first_response_due_at: Option<i64>,
    /// Resolution due (Unix ms), from the item's SLA.
    resolution_due_at: Option<i64>,
    /// The request with its answers.
    request: Option<crate::catalog::RequestView>,
}

pub(super) async fn submit(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    Json(b): Json<SubmitBody>,
) -> AppResult<Response> {
    let company = client(&user)?;
    let item = service::visible_item(&app, &user.scope(), &company, &id).await?;
    let actor = user.require(Permission::CreateTickets)?;
    let raw = crate::catalog::raw_from_json(&b.answers);
    let t = service::submit(
        &app,
        &actor,
        &ctx.ip,
        &item,
        &raw,
        &Translator::new(ctx.locale),
        service::zone(&user.tenant.time_zone),
    )
    .await?;
    let request = service::request_view(&app, actor.scope(), &t.id).await?;
    Ok((
        StatusCode::CREATED,
        Json(Created {
            number: t.number,
            subject: t.subject,
            first_response_due_at: t.sla.first_response_due_at,
            resolution_due_at: t.sla.resolution_due_at,
            request,
        }),
    )
        .into_response())
}

// ---------------------------------------------------------------------------------------
// Staff.

/// Categories.
#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct Categories {
    /// In order.
    items: Vec<Category>,
}

pub(super) async fn admin_categories(
    State(app): State<AppState>,
    staff: StaffUser,
) -> AppResult<Json<Categories>> {
    let actor = staff.require(Permission::ManageCatalog)?;
    Ok(Json(Categories {
        items: store::categories(&app.db, actor.scope(), None).await?,
    }))
}

/// A category as staff write it.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CategoryBody {
    /// Name.
    name: String,
    /// Sort position (lowest first).
    position: Option<i64>,
}

async fn one_category(
    app: &AppState,
    scope: &crate::tenancy::TenantScope,
    id: &str,
) -> AppResult<Category> {
    store::category(&app.db, scope, id)
        .await?
        .ok_or(AppError::NotFound)
}

pub(super) async fn admin_create_category(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Json(b): Json<CategoryBody>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageCatalog)?;
    let id = service::create_category(&app, &actor, &ctx.ip, &b.name).await?;
    if let Some(p) = b.position {
        service::update_category(&app, &actor, &ctx.ip, &id, &b.name, p).await?;
    }
    let c = one_category(&app, actor.scope(), &id).await?;
    Ok((StatusCode::CREATED, Json(c)).into_response())
}

pub(super) async fn admin_update_category(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    Json(b): Json<CategoryBody>,
) -> AppResult<Json<Category>> {
    let actor = staff.require(Permission::ManageCatalog)?;
    let before = one_category(&app, actor.scope(), &id).await?;
    let position = b.position.unwrap_or(before.position);
    service::update_category(&app, &actor, &ctx.ip, &id, &b.name, position).await?;
    Ok(Json(one_category(&app, actor.scope(), &id).await?))
}

pub(super) async fn admin_delete_category(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    let actor = staff.require(Permission::ManageCatalog)?;
    service::delete_category(&app, &actor, &ctx.ip, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A page of items for staff.
#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct ItemPage {
    /// Items (active and inactive).
    items: Vec<Item>,
    /// Pass as `cursor` for the next page.
    next_cursor: Option<String>,
}

pub(super) async fn admin_items(
    State(app): State<AppState>,
    staff: StaffUser,
    Query(q): Query<ListQuery>,
) -> AppResult<Json<ItemPage>> {
    let actor = staff.require(Permission::ManageCatalog)?;
    let limit = q.limit.unwrap_or(PAGE_SIZE).clamp(1, 100);
    let items = store::items(
        &app.db,
        actor.scope(),
        &ItemFilter {
            company: None,
            category: q.category.as_deref().filter(|c| !c.is_empty()),
            q: q.q.as_deref(),
            cursor: q.cursor.as_deref().filter(|c| !c.is_empty()),
            limit,
        },
    )
    .await?;
    Ok(Json(ItemPage {
        next_cursor: next_cursor(&items, limit),
        items,
    }))
}

/// An item as staff write it.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ItemBody {
    /// Category id.
    category_id: String,
    /// Name.
    name: String,
    /// Markdown.
    #[serde(default)]
    description: String,
    /// One of `key`, `laptop`, `monitor`, `phone`, `printer`, `app`, `mail`, `network`,
    /// `shield`, `cloud`, `person`, `box`.
    icon: String,
    /// Minutes to the first response.
    first_response_minutes: i64,
    /// Minutes to resolution.
    resolution_minutes: i64,
    /// `business` or `24x7`.
    hours: String,
    /// Price text.
    #[serde(default)]
    price: Option<String>,
    /// `all` or `companies`.
    visibility: String,
    /// Company ids (for `companies`).
    #[serde(default)]
    companies: Vec<String>,
    /// Offered to clients.
    active: bool,
    /// The request form; a field without a key gets one from its label.
    #[serde(default)]
    fields: Vec<FieldBody>,
}

/// A form field as staff write it.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct FieldBody {
    /// Stable key (keep it to keep the field's identity across versions).
    #[serde(default)]
    key: Option<String>,
    /// Question.
    label: String,
    /// Kind.
    kind: crate::catalog::FieldKind,
    /// Help line.
    #[serde(default)]
    help: String,
    /// Must be answered.
    #[serde(default)]
    required: bool,
    /// Choices (choice kinds).
    #[serde(default)]
    choices: Vec<String>,
}

fn input_of(b: ItemBody) -> ItemInput {
    let mut taken: Vec<String> = b.fields.iter().filter_map(|f| f.key.clone()).collect();
    let fields = b
        .fields
        .into_iter()
        .map(|f| {
            let key = match f.key {
                Some(k) if !k.trim().is_empty() => k,
                _ => {
                    let k = crate::catalog::new_key(&f.label, &taken);
                    taken.push(k.clone());
                    k
                }
            };
            FormField {
                key,
                label: f.label,
                kind: f.kind,
                help: f.help,
                required: f.required,
                choices: f.choices,
            }
        })
        .collect();
    ItemInput {
        category_id: b.category_id,
        name: b.name,
        description: b.description,
        icon: b.icon,
        first_response_minutes: b.first_response_minutes,
        resolution_minutes: b.resolution_minutes,
        hours: b.hours,
        price: b.price.unwrap_or_default(),
        visibility: b.visibility,
        companies: b.companies,
        active: b.active,
        fields,
    }
}

async fn one_item(
    app: &AppState,
    scope: &crate::tenancy::TenantScope,
    id: &str,
) -> AppResult<Item> {
    store::item(&app.db, scope, id, None)
        .await?
        .ok_or(AppError::NotFound)
}

pub(super) async fn admin_create_item(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Json(b): Json<ItemBody>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageCatalog)?;
    let id = service::create_item(&app, &actor, &ctx.ip, input_of(b)).await?;
    let item = one_item(&app, actor.scope(), &id).await?;
    Ok((StatusCode::CREATED, Json(item)).into_response())
}

pub(super) async fn admin_item(
    State(app): State<AppState>,
    staff: StaffUser,
    Path(id): Path<String>,
) -> AppResult<Json<Item>> {
    let actor = staff.require(Permission::ManageCatalog)?;
    Ok(Json(one_item(&app, actor.scope(), &id).await?))
}

pub(super) async fn admin_update_item(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    Json(b): Json<ItemBody>,
) -> AppResult<Json<Item>> {
    let actor = staff.require(Permission::ManageCatalog)?;
    service::update_item(&app, &actor, &ctx.ip, &id, input_of(b)).await?;
    Ok(Json(one_item(&app, actor.scope(), &id).await?))
}

pub(super) async fn admin_delete_item(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    let actor = staff.require(Permission::ManageCatalog)?;
    service::delete_item(&app, &actor, &ctx.ip, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
