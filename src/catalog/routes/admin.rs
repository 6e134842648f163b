//! The staff catalog pages: categories, the item list, and the item editor with its form
//! designer (no script needed: rows are numbered, reordered by position, removed by a tick,
//! and "Add a question" redraws the form with one more blank row).

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::PAGE_SIZE;
use crate::app::AppState;
use crate::auth::{Actor, Permission, StaffUser};
use crate::catalog::service::{self, ItemInput};
use crate::catalog::store::{self, Category, Item, ItemFilter};
use crate::catalog::{FIELD_KINDS, FieldKind, FormField, ICONS};
use crate::error::{AppError, AppResult};
use crate::http::context::{Ctx, RequestContext};
use crate::web::{FormErrors, PageCtx, render};

#[derive(Deserialize, Default)]
pub(super) struct ListQuery {
    cursor: Option<String>,
    q: Option<String>,
    notice: Option<String>,
}

#[derive(askama::Template)]
#[template(path = "catalog/templates/admin_list.html")]
struct ListPage {
    page: PageCtx,
    categories: Vec<Category>,
    items: Vec<Item>,
    q: String,
    next: Option<String>,
    notice: Option<&'static str>,
    error: Option<String>,
    errors: FormErrors,
    new_category: String,
}

impl ListPage {
    fn confirm_delete(&self, name: &str) -> String {
        self.page
            .t
            .arg("catalog-confirm-delete-category", "name", name)
    }
}

fn notice(key: Option<&str>) -> Option<&'static str> {
    match key? {
        "saved" => Some("catalog-notice-saved"),
        "deleted" => Some("catalog-notice-deleted"),
        _ => None,
    }
}

async fn list_view(
    app: &AppState,
    ctx: &RequestContext,
    actor: &Actor,
    q: &ListQuery,
    error: Option<&AppError>,
    new_category: String,
) -> AppResult<Response> {
    let items = store::items(
        &app.db,
        actor.scope(),
        &ItemFilter {
            company: None,
            category: None,
            q: q.q.as_deref(),
            cursor: q.cursor.as_deref().filter(|c| !c.is_empty()),
            limit: PAGE_SIZE,
        },
    )
    .await?;
    let qs = q.q.clone().unwrap_or_default();
    let next = (items.len() as i64 == PAGE_SIZE)
        .then(|| items.last().map(|i| i.id.clone()))
        .flatten()
        .map(|c| {
            format!(
                "/admin/catalog?{}",
                serde_urlencoded::to_string([("q", qs.as_str()), ("cursor", c.as_str())])
                    .unwrap_or_default()
            )
        });
    let mut r = render(&ListPage {
        page: PageCtx::new(ctx),
        categories: store::categories(&app.db, actor.scope(), None).await?,
        items,
        q: qs,
        next,
        notice: notice(q.notice.as_deref()),
        error: error
            .filter(|e| !matches!(e, AppError::Validation { .. }))
            .map(|e| e.to_string()),
        errors: error.map(FormErrors::from).unwrap_or_default(),
        new_category,
    })?;
    if let Some(e) = error {
        *r.status_mut() = e.status();
    }
    Ok(r)
}

pub(super) async fn list_page(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageCatalog)?;
    list_view(&app, &ctx, &actor, &q, None, String::new()).await
}

#[derive(Deserialize)]
pub(super) struct CategoryForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    position: Option<String>,
}

/// Renders the list again for a refused category form, or passes other errors on.
async fn category_outcome(
    app: &AppState,
    ctx: &RequestContext,
    actor: &Actor,
    r: AppResult<&'static str>,
    typed: String,
) -> AppResult<Response> {
    match r {
        Ok(n) => Ok(Redirect::to(&format!("/admin/catalog?notice={n}")).into_response()),
        Err(e @ (AppError::Validation { .. } | AppError::Conflict(_))) => {
            list_view(app, ctx, actor, &ListQuery::default(), Some(&e), typed).await
        }
        Err(e) => Err(e),
    }
}

pub(super) async fn category_create(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    axum::Form(f): axum::Form<CategoryForm>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageCatalog)?;
    let r = service::create_category(&app, &actor, &ctx.ip, &f.name)
        .await
        .map(|_| "saved");
    category_outcome(&app, &ctx, &actor, r, f.name).await
}

pub(super) async fn category_update(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<CategoryForm>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageCatalog)?;
    let before = store::category(&app.db, actor.scope(), &id)
        .await?
        .ok_or(AppError::NotFound)?;
    let position = f
        .position
        .as_deref()
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or(before.position);
    let r = service::update_category(&app, &actor, &ctx.ip, &id, &f.name, position)
        .await
        .map(|_| "saved");
    category_outcome(&app, &ctx, &actor, r, String::new()).await
}

pub(super) async fn category_delete(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageCatalog)?;
    let r = service::delete_category(&app, &actor, &ctx.ip, &id)
        .await
        .map(|_| "deleted");
    category_outcome(&app, &ctx, &actor, r, String::new()).await
}

/// One designer row as drawn.
pub(crate) struct FieldRow {
    pub key: String,
    pub label: String,
    pub kind: FieldKind,
    pub help: String,
    pub required: bool,
    pub choices: String,
}

#[derive(askama::Template)]
#[template(path = "catalog/templates/admin_item.html")]
struct ItemPage {
    page: PageCtx,
    /// `None` for a new item.
    id: Option<String>,
    form_version: i64,
    input: ItemInput,
    rows: Vec<FieldRow>,
    categories: Vec<Category>,
    companies: Vec<(String, String)>,
    errors: FormErrors,
    error: Option<String>,
    notice: Option<&'static str>,
    kinds: &'static [FieldKind],
    icons: &'static [(&'static str, &'static str)],
}

impl ItemPage {
    fn action(&self) -> String {
        match &self.id {
            Some(id) => format!("/admin/catalog/items/{id}"),
            None => "/admin/catalog/items".into(),
        }
    }

    fn row_error(&self, i: &usize) -> Option<&str> {
        self.errors.get(&format!("field-{i}"))
    }

    fn amount(&self, first: &bool) -> i64 {
        split_minutes(self.minutes(*first)).0
    }

    fn unit(&self, first: &bool) -> &'static str {
        split_minutes(self.minutes(*first)).1
    }

    fn span_error(&self, first: &bool) -> Option<&str> {
        self.errors.get(if *first {
            "first_response_minutes"
        } else {
            "resolution_minutes"
        })
    }

    fn span_invalid(&self, first: &bool) -> &'static str {
        if self.span_error(first).is_some() {
            "true"
        } else {
            "false"
        }
    }

    fn minutes(&self, first: bool) -> i64 {
        if first {
            self.input.first_response_minutes
        } else {
            self.input.resolution_minutes
        }
    }

    fn confirm_delete(&self) -> String {
        self.page
            .t
            .arg("catalog-confirm-delete-item", "name", &self.input.name)
    }
}

fn rows_of(fields: &[FormField]) -> Vec<FieldRow> {
    fields
        .iter()
        .map(|f| FieldRow {
            key: f.key.clone(),
            label: f.label.clone(),
            kind: f.kind,
            help: f.help.clone(),
            required: f.required,
            choices: f.choices.join("\n"),
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
async fn item_view(
    app: &AppState,
    ctx: &RequestContext,
    actor: &Actor,
    id: Option<String>,
    form_version: i64,
    input: ItemInput,
    extra_row: bool,
    error: Option<&AppError>,
    notice: Option<&'static str>,
) -> AppResult<Response> {
    let mut rows = rows_of(&input.fields);
    if extra_row || rows.is_empty() {
        rows.push(FieldRow {
            key: String::new(),
            label: String::new(),
            kind: FieldKind::ShortText,
            help: String::new(),
            required: false,
            choices: String::new(),
        });
    }
    let mut r = render(&ItemPage {
        page: PageCtx::new(ctx),
        id,
        form_version,
        input,
        rows,
        categories: store::categories(&app.db, actor.scope(), None).await?,
        companies: store::companies(&app.db, actor.scope()).await?,
        errors: error.map(FormErrors::from).unwrap_or_default(),
        error: error
            .filter(|e| !matches!(e, AppError::Validation { .. }))
            .map(|e| e.to_string()),
        notice,
        kinds: &FIELD_KINDS,
        icons: &ICONS,
    })?;
    if let Some(e) = error {
        *r.status_mut() = e.status();
    }
    Ok(r)
}

fn input_of_item(i: &Item) -> ItemInput {
    ItemInput {
        category_id: i.category_id.clone(),
        name: i.name.clone(),
        description: i.description.clone(),
        icon: i.icon.clone(),
        first_response_minutes: i.first_response_minutes,
        resolution_minutes: i.resolution_minutes,
        hours: i.hours.as_str().into(),
        price: i.price.clone().unwrap_or_default(),
        visibility: i.visibility.clone(),
        companies: i.companies.clone(),
        active: i.active,
        fields: i.fields.clone(),
    }
}

pub(super) async fn new_page(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageCatalog)?;
    let input = ItemInput {
        icon: "box".into(),
        first_response_minutes: 240,
        resolution_minutes: 2400,
        hours: "business".into(),
        visibility: "all".into(),
        active: true,
        ..ItemInput::default()
    };
    item_view(&app, &ctx, &actor, None, 1, input, false, None, None).await
}

#[derive(Deserialize, Default)]
pub(super) struct EditQuery {
    notice: Option<String>,
}

pub(super) async fn edit_page(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    Query(q): Query<EditQuery>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageCatalog)?;
    let item = store::item(&app.db, actor.scope(), &id, None)
        .await?
        .ok_or(AppError::NotFound)?;
    let input = input_of_item(&item);
    item_view(
        &app,
        &ctx,
        &actor,
        Some(item.id),
        item.form_version,
        input,
        false,
        None,
        notice(q.notice.as_deref()),
    )
    .await
}

/// Reads the item form: the item's fields and the designer rows (`field_<part>_<n>`), kept
/// in position order, removed rows and blank new rows left out, new rows given a key.
fn parse_item_form(pairs: &[(String, String)]) -> ItemInput {
    let mut one: BTreeMap<&str, &str> = BTreeMap::new();
    let mut companies = Vec::new();
    let mut rows: BTreeMap<usize, BTreeMap<&str, &str>> = BTreeMap::new();
    for (k, v) in pairs {
        if k == "companies" {
            companies.push(v.clone());
        } else if let Some(rest) = k.strip_prefix("field_")
            && let Some((part, n)) = rest.rsplit_once('_')
            && let Ok(n) = n.parse::<usize>()
        {
            if n < 200 {
                rows.entry(n).or_default().insert(part, v.as_str());
            }
        } else {
            one.insert(k.as_str(), v.as_str());
        }
    }
    let get = |k: &str| one.get(k).copied().unwrap_or("").to_string();
    let minutes = |k: &str| {
        let n: i64 = one
            .get(&*format!("{k}_amount"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        let unit = match one.get(&*format!("{k}_unit")).copied().unwrap_or("hours") {
            "minutes" => 1,
            "days" => 1440,
            _ => 60,
        };
        n.saturating_mul(unit)
    };
    let mut ordered: Vec<(i64, usize, &BTreeMap<&str, &str>)> = rows
        .iter()
        .filter(|(_, r)| r.get("remove").is_none())
        .filter(|(_, r)| {
            !r.get("label").unwrap_or(&"").trim().is_empty()
                || !r.get("key").unwrap_or(&"").is_empty()
        })
        .map(|(n, r)| {
            let pos = r
                .get("position")
                .and_then(|p| p.trim().parse().ok())
                .unwrap_or(*n as i64 + 1);
            (pos, *n, r)
        })
        .collect();
    ordered.sort_by_key(|(pos, n, _)| (*pos, *n));
    let mut taken: Vec<String> = ordered
        .iter()
        .filter_map(|(_, _, r)| r.get("key").map(|k| k.to_string()))
        .filter(|k| !k.is_empty())
        .collect();
    let fields = ordered
        .into_iter()
        .map(|(_, _, r)| {
            let label = r.get("label").unwrap_or(&"").to_string();
            let key = match r.get("key") {
                Some(k) if !k.is_empty() => k.to_string(),
                _ => {
                    let k = crate::catalog::new_key(&label, &taken);
                    taken.push(k.clone());
                    k
                }
            };
            FormField {
                key,
                label,
                kind: FieldKind::parse(r.get("kind").unwrap_or(&""))
                    .unwrap_or(FieldKind::ShortText),
                help: r.get("help").unwrap_or(&"").to_string(),
                required: r.get("required").is_some(),
                choices: r
                    .get("choices")
                    .unwrap_or(&"")
                    .lines()
                    .map(str::to_string)
                    .collect(),
            }
        })
        .collect();
    ItemInput {
        category_id: get("category_id"),
        name: get("name"),
        description: get("description"),
        icon: get("icon"),
        first_response_minutes: minutes("first_response"),
        resolution_minutes: minutes("resolution"),
        hours: get("hours"),
        price: get("price"),
        visibility: get("visibility"),
        companies,
        active: one.contains_key("active"),
        fields,
    }
}

pub(super) async fn create_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageCatalog)?;
    let input = parse_item_form(&pairs);
    if pairs.iter().any(|(k, v)| k == "action" && v == "add_field") {
        return item_view(&app, &ctx, &actor, None, 1, input, true, None, None).await;
    }
    match service::create_item(&app, &actor, &ctx.ip, input.clone()).await {
        Ok(id) => {
            Ok(Redirect::to(&format!("/admin/catalog/items/{id}?notice=saved")).into_response())
        }
        Err(e @ (AppError::Validation { .. } | AppError::Conflict(_))) => {
            item_view(&app, &ctx, &actor, None, 1, input, false, Some(&e), None).await
        }
        Err(e) => Err(e),
    }
}

pub(super) async fn update_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageCatalog)?;
    let item = store::item(&app.db, actor.scope(), &id, None)
        .await?
        .ok_or(AppError::NotFound)?;
    let input = parse_item_form(&pairs);
    if pairs.iter().any(|(k, v)| k == "action" && v == "add_field") {
        return item_view(
            &app,
            &ctx,
            &actor,
            Some(item.id),
            item.form_version,
            input,
            true,
            None,
            None,
        )
        .await;
    }
    match service::update_item(&app, &actor, &ctx.ip, &id, input.clone()).await {
        Ok(_) => {
            Ok(Redirect::to(&format!("/admin/catalog/items/{id}?notice=saved")).into_response())
        }
        Err(e @ (AppError::Validation { .. } | AppError::Conflict(_))) => {
            item_view(
                &app,
                &ctx,
                &actor,
                Some(item.id),
                item.form_version,
                input,
                false,
                Some(&e),
                None,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

pub(super) async fn delete_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageCatalog)?;
    match service::delete_item(&app, &actor, &ctx.ip, &id).await {
        Ok(()) => Ok(Redirect::to("/admin/catalog?notice=deleted").into_response()),
        Err(e @ AppError::Conflict(_)) => {
            let item = store::item(&app.db, actor.scope(), &id, None)
                .await?
                .ok_or(AppError::NotFound)?;
            let input = input_of_item(&item);
            let mut r = item_view(
                &app,
                &ctx,
                &actor,
                Some(item.id),
                item.form_version,
                input,
                false,
                Some(&e),
                None,
            )
            .await?;
            *r.status_mut() = StatusCode::CONFLICT;
            Ok(r)
        }
        Err(e) => Err(e),
    }
}

/// The SLA span shown in the editor as an amount and a unit.
pub(crate) fn split_minutes(m: i64) -> (i64, &'static str) {
    if m > 0 && m % 1440 == 0 {
        (m / 1440, "days")
    } else if m % 60 == 0 {
        (m / 60, "hours")
    } else {
        (m, "minutes")
    }
}
