//! Catalog routes: the client's pages (`portal`), the staff pages (`admin`) and the JSON API
//! of both (`api`).

mod admin;
mod api;
mod portal;

use std::collections::BTreeMap;

use aide::axum::routing::{get_with, post_with};
use axum::Json;
use axum::routing::{get, post};

use super::store::Item;
use crate::auth::Principal;
use crate::error::{AppError, AppResult};
use crate::http::{ApiRouter, PageRouter};
use crate::tenancy::OrgType;

/// Page size of item lists.
pub const PAGE_SIZE: i64 = 24;

/// Portal and admin pages.
pub fn pages() -> PageRouter {
    PageRouter::default()
        .route("/portal/catalog", get(portal::list_page))
        .route(
            "/portal/catalog/{id}",
            get(portal::item_page).post(portal::submit_form),
        )
        .route("/admin/catalog", get(admin::list_page))
        .route("/admin/catalog/categories", post(admin::category_create))
        .route(
            "/admin/catalog/categories/{id}",
            post(admin::category_update),
        )
        .route(
            "/admin/catalog/categories/{id}/delete",
            post(admin::category_delete),
        )
        .route("/admin/catalog/items", post(admin::create_form))
        .route("/admin/catalog/items/new", get(admin::new_page))
        .route(
            "/admin/catalog/items/{id}",
            get(admin::edit_page).post(admin::update_form),
        )
        .route("/admin/catalog/items/{id}/delete", post(admin::delete_form))
}

/// The JSON API.
pub fn api() -> ApiRouter {
    ApiRouter::default()
        .route(
            "/api/v1/catalog",
            get_with(api::list, |op| {
                op.id("listCatalog").tag("catalog").summary("Browse and search the service catalog")
                    .description("The active items the caller's company may see, in name order, with the categories. `q` searches name and description; `category` filters.")
            }),
        )
        .route(
            "/api/v1/catalog/{id}",
            get_with(api::get, |op| {
                op.id("getCatalogItem").tag("catalog").summary("A catalog item with its SLA and request form")
            }),
        )
        .route(
            "/api/v1/catalog/{id}/requests",
            post_with(api::submit, |op| {
                op.id("requestCatalogItem").tag("catalog").summary("Request a catalog item")
                    .description("`answers` maps each form field's key to its answer: a string (text, number, date, email, single choice), an array of strings (multiple choice) or a boolean (checkbox). A 400 lists each refused field by key. The request becomes a ticket with the item's SLA.")
                    .response_with::<201, Json<api::Created>, _>(|r| r.description("The ticket raised."))
            }),
        )
        .route(
            "/api/v1/admin/catalog/categories",
            get_with(api::admin_categories, |op| {
                op.id("listCatalogCategories").tag("catalog").summary("Catalog categories")
            })
            .post_with(api::admin_create_category, |op| {
                op.id("createCatalogCategory").tag("catalog").summary("Create a catalog category")
                    .response_with::<201, Json<super::store::Category>, _>(|r| r.description("Created."))
            }),
        )
        .route(
            "/api/v1/admin/catalog/categories/{id}",
            aide::axum::routing::patch_with(api::admin_update_category, |op| {
                op.id("updateCatalogCategory").tag("catalog").summary("Rename or move a catalog category")
            })
            .delete_with(api::admin_delete_category, |op| {
                op.id("deleteCatalogCategory").tag("catalog").summary("Delete an empty catalog category")
                    .response_with::<204, (), _>(|r| r.description("Deleted."))
            }),
        )
        .route(
            "/api/v1/admin/catalog/items",
            get_with(api::admin_items, |op| {
                op.id("listCatalogItems").tag("catalog").summary("Catalog items (all, active or not)")
            })
            .post_with(api::admin_create_item, |op| {
                op.id("createCatalogItem").tag("catalog").summary("Create a catalog item")
                    .response_with::<201, Json<Item>, _>(|r| r.description("Created."))
            }),
        )
        .route(
            "/api/v1/admin/catalog/items/{id}",
            get_with(api::admin_item, |op| {
                op.id("getCatalogItemAdmin").tag("catalog").summary("A catalog item with its current form")
            })
            .put_with(api::admin_update_item, |op| {
                op.id("updateCatalogItem").tag("catalog").summary("Replace a catalog item")
                    .description("A changed `fields` list becomes a new form version; requests already made keep theirs.")
            })
            .delete_with(api::admin_delete_item, |op| {
                op.id("deleteCatalogItem").tag("catalog").summary("Delete a catalog item nobody has requested")
                    .response_with::<204, (), _>(|r| r.description("Deleted."))
            }),
        )
}

/// The client's company, or 404 (staff sessions, Mission members).
fn client(p: &Principal) -> AppResult<String> {
    match (&p.company_id, p.tenant.org_type) {
        (Some(c), OrgType::Msp) => Ok(c.as_str().to_string()),
        _ => Err(AppError::NotFound),
    }
}

/// Form answers posted as `q_<key>` fields, by key.
fn raw_answers(pairs: &[(String, String)]) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in pairs {
        if let Some(key) = name.strip_prefix("q_") {
            out.entry(key.to_string()).or_default().push(value.clone());
        }
    }
    out
}
