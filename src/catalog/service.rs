//! Catalog writes: each staff change is one transaction with its audit row; a client's request
//! becomes a ticket through `tickets::service`, with the answers and the item's SLA recorded in
//! the ticket's own transaction.

use std::collections::BTreeMap;

use chrono_tz::Tz;
use serde_json::json;

use super::store::{self, Item, ItemRow};
use super::{FormField, Hours};
use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::auth::Actor;
use crate::db::{DbError, TenantTx};
use crate::error::{AppError, AppResult, FieldError};
use crate::files::Pending;
use crate::i18n::{Translator, k};
use crate::tickets::Priority;
use crate::tickets::service::{CreateHook, CreateInput};
use crate::tickets::store::Ticket;

/// Longest SLA span staff may set (a year).
const MAX_MINUTES: i64 = 366 * 24 * 60;
/// Longest item description.
const MAX_DESCRIPTION: usize = 20_000;

/// An item as staff submit it (page form or API), before checks.
#[derive(Clone, Debug, Default)]
pub struct ItemInput {
    /// Category id.
    pub category_id: String,
    /// Name.
    pub name: String,
    /// Markdown description.
    pub description: String,
    /// Icon name.
    pub icon: String,
    /// Minutes to the first response.
    pub first_response_minutes: i64,
    /// Minutes to resolution.
    pub resolution_minutes: i64,
    /// `business` or `24x7`.
    pub hours: String,
    /// Price text ("" for none).
    pub price: String,
    /// `all` or `companies`.
    pub visibility: String,
    /// Chosen companies (for `companies`).
    pub companies: Vec<String>,
    /// Offered to clients.
    pub active: bool,
    /// The request form.
    pub fields: Vec<FormField>,
}

fn ferr(field: &str, key: &'static str) -> FieldError {
    FieldError {
        field: field.into(),
        message: k(key).into(),
    }
}

fn invalid(fields: Vec<FieldError>) -> AppError {
    AppError::fields(fields)
}

/// Checks an item's fields; every problem at once.
fn check_item(i: &ItemInput) -> Result<Hours, Vec<FieldError>> {
    let mut errs = Vec::new();
    if i.name.trim().is_empty() {
        errs.push(ferr("name", "catalog-error-name"));
    } else if let Err(e) = crate::text::single_line("name", i.name.trim(), 120) {
        errs.push(e);
    }
    if i.description.chars().count() > MAX_DESCRIPTION {
        errs.push(ferr("description", "catalog-error-too-long"));
    }
    if !super::ICONS.iter().any(|(n, _)| *n == i.icon) {
        errs.push(ferr("icon", "catalog-error-icon"));
    }
    if !(1..=MAX_MINUTES).contains(&i.first_response_minutes) {
        errs.push(ferr("first_response_minutes", "catalog-error-minutes"));
    }
    if !(1..=MAX_MINUTES).contains(&i.resolution_minutes)
        || i.resolution_minutes < i.first_response_minutes
    {
        errs.push(ferr("resolution_minutes", "catalog-error-resolution"));
    }
    let hours = Hours::parse(&i.hours);
    if hours.is_none() {
        errs.push(ferr("hours", "catalog-error-hours"));
    }
    if i.price.chars().count() > 120 || i.price.contains('\n') {
        errs.push(ferr("price", "catalog-error-too-long"));
    }
    match i.visibility.as_str() {
        "all" => {}
        "companies" if !i.companies.is_empty() => {}
        "companies" => errs.push(ferr("companies", "catalog-error-companies")),
        _ => errs.push(ferr("visibility", "catalog-error-visibility")),
    }
    if let Err(e) = super::check_form(&i.fields) {
        errs.extend(e);
    }
    match hours {
        Some(h) if errs.is_empty() => Ok(h),
        _ => Err(errs),
    }
}

/// Normalises the form as staff wrote it: trimmed text, choices only on the choice kinds.
fn tidy_fields(fields: &[FormField]) -> Vec<FormField> {
    fields
        .iter()
        .map(|f| FormField {
            key: f.key.trim().to_string(),
            label: f.label.trim().to_string(),
            kind: f.kind,
            help: f.help.trim().to_string(),
            required: f.required,
            choices: if f.kind.has_choices() {
                f.choices
                    .iter()
                    .map(|c| c.trim().to_string())
                    .filter(|c| !c.is_empty())
                    .collect()
            } else {
                Vec::new()
            },
        })
        .collect()
}

async fn check_category_and_companies(tx: &mut TenantTx, i: &ItemInput) -> AppResult<Vec<String>> {
    let known = store::categories_in(tx).await?;
    if !known.contains(&i.category_id) {
        return Err(invalid(vec![ferr("category_id", "catalog-error-category")]));
    }
    let mut companies = Vec::new();
    if i.visibility == "companies" {
        for c in &i.companies {
            if !store::company_exists(tx, c).await? {
                return Err(invalid(vec![ferr("companies", "catalog-error-companies")]));
            }
            if !companies.contains(c) {
                companies.push(c.clone());
            }
        }
    }
    Ok(companies)
}

fn row<'a>(i: &'a ItemInput, html: &'a str, hours: Hours, price: Option<&'a str>) -> ItemRow<'a> {
    ItemRow {
        category_id: &i.category_id,
        name: i.name.trim(),
        description: &i.description,
        description_html: html,
        icon: &i.icon,
        first_response_minutes: i.first_response_minutes,
        resolution_minutes: i.resolution_minutes,
        hours,
        price,
        visibility: &i.visibility,
        active: i.active,
    }
}

async fn audit_item(
    tx: &mut TenantTx,
    actor: &Actor,
    ip: &str,
    action: &str,
    id: &str,
    detail: serde_json::Value,
) -> AppResult<()> {
    audit::append(
        tx,
        Entry {
            ip: Some(ip),
            detail,
            ..Entry::new(action).by(actor).target("catalog_item", id)
        },
    )
    .await?;
    Ok(())
}

/// Creates an item with its first form version; returns its id.
pub async fn create_item(
    app: &AppState,
    actor: &Actor,
    ip: &str,
    mut input: ItemInput,
) -> AppResult<String> {
    input.fields = tidy_fields(&input.fields);
    let hours = check_item(&input).map_err(invalid)?;
    let mut tx = app.db.tenant(actor.scope()).begin().await?;
    let companies = check_category_and_companies(&mut tx, &input).await?;
    let remote = crate::branding::remote_images_allowed_in(&mut tx).await?;
    let html = crate::tickets::render_markdown_with(&input.description, remote);
    let price = input.price.trim();
    let price = (!price.is_empty()).then_some(price);
    let id = store::insert_item(&mut tx, &row(&input, &html, hours, price)).await?;
    store::insert_form_version(
        &mut tx,
        &id,
        1,
        &input.fields,
        Some(actor.user_id().as_str()),
    )
    .await?;
    store::set_companies(&mut tx, &id, &companies).await?;
    audit_item(
        &mut tx,
        actor,
        ip,
        "catalog.item_created",
        &id,
        json!({ "name": input.name.trim(), "visibility": input.visibility, "companies": companies, "active": input.active, "form_version": 1 }),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Saves an item; a changed form becomes a new version (requests keep theirs). Returns the
/// form version now current.
pub async fn update_item(
    app: &AppState,
    actor: &Actor,
    ip: &str,
    id: &str,
    mut input: ItemInput,
) -> AppResult<i64> {
    let before = store::item(&app.db, actor.scope(), id, None)
        .await?
        .ok_or(AppError::NotFound)?;
    input.fields = tidy_fields(&input.fields);
    let hours = check_item(&input).map_err(invalid)?;
    let mut tx = app.db.tenant(actor.scope()).begin().await?;
    let current = store::lock_item(&mut tx, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let companies = check_category_and_companies(&mut tx, &input).await?;
    let current_fields = store::form_fields_in(&mut tx, id, current).await?;
    let form_changed = current_fields != input.fields;
    let version = if form_changed { current + 1 } else { current };
    if form_changed {
        store::insert_form_version(
            &mut tx,
            id,
            version,
            &input.fields,
            Some(actor.user_id().as_str()),
        )
        .await?;
    }
    let remote = crate::branding::remote_images_allowed_in(&mut tx).await?;
    let html = crate::tickets::render_markdown_with(&input.description, remote);
    let price = input.price.trim();
    let price = (!price.is_empty()).then_some(price);
    store::update_item(&mut tx, id, &row(&input, &html, hours, price), version).await?;
    store::set_companies(&mut tx, id, &companies).await?;
    audit_item(
        &mut tx,
        actor,
        ip,
        "catalog.item_updated",
        id,
        json!({
            "name": input.name.trim(),
            "from": before.name,
            "visibility": input.visibility,
            "companies": companies,
            "active": input.active,
            "form_version": version,
            "form_changed": form_changed,
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(version)
}

/// Deletes an item nobody has requested yet (otherwise staff deactivate it).
pub async fn delete_item(app: &AppState, actor: &Actor, ip: &str, id: &str) -> AppResult<()> {
    let item = store::item(&app.db, actor.scope(), id, None)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut tx = app.db.tenant(actor.scope()).begin().await?;
    if !store::delete_item(&mut tx, id).await? {
        return Err(AppError::Conflict(k("catalog-error-item-in-use").into()));
    }
    audit_item(
        &mut tx,
        actor,
        ip,
        "catalog.item_deleted",
        id,
        json!({ "name": item.name }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

fn check_category_name(name: &str) -> AppResult<String> {
    let n = name.trim();
    if n.is_empty() {
        return Err(invalid(vec![ferr("name", "catalog-error-name")]));
    }
    crate::text::single_line("name", n, 80).map_err(|e| invalid(vec![e]))
}

fn name_taken(e: DbError) -> AppError {
    match e {
        DbError::Conflict(_) => invalid(vec![ferr("name", "catalog-error-category-taken")]),
        other => other.into(),
    }
}

async fn audit_category(
    tx: &mut TenantTx,
    actor: &Actor,
    ip: &str,
    action: &str,
    id: &str,
    name: &str,
) -> AppResult<()> {
    audit::append(
        tx,
        Entry {
            ip: Some(ip),
            detail: json!({ "name": name }),
            ..Entry::new(action).by(actor).target("catalog_category", id)
        },
    )
    .await?;
    Ok(())
}

/// Creates a category; returns its id.
pub async fn create_category(
    app: &AppState,
    actor: &Actor,
    ip: &str,
    name: &str,
) -> AppResult<String> {
    let name = check_category_name(name)?;
    let mut tx = app.db.tenant(actor.scope()).begin().await?;
    let id = store::insert_category(&mut tx, &name)
        .await
        .map_err(name_taken)?;
    audit_category(&mut tx, actor, ip, "catalog.category_created", &id, &name).await?;
    tx.commit().await?;
    Ok(id)
}

/// Renames and moves a category.
pub async fn update_category(
    app: &AppState,
    actor: &Actor,
    ip: &str,
    id: &str,
    name: &str,
    position: i64,
) -> AppResult<()> {
    let name = check_category_name(name)?;
    let mut tx = app.db.tenant(actor.scope()).begin().await?;
    if !store::update_category(&mut tx, id, &name, position.clamp(0, 10_000))
        .await
        .map_err(name_taken)?
    {
        return Err(AppError::NotFound);
    }
    audit_category(&mut tx, actor, ip, "catalog.category_updated", id, &name).await?;
    tx.commit().await?;
    Ok(())
}

/// Deletes an empty category.
pub async fn delete_category(app: &AppState, actor: &Actor, ip: &str, id: &str) -> AppResult<()> {
    let c = store::category(&app.db, actor.scope(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut tx = app.db.tenant(actor.scope()).begin().await?;
    if !store::delete_category(&mut tx, id).await? {
        return Err(AppError::Conflict(
            k("catalog-error-category-in-use").into(),
        ));
    }
    audit_category(&mut tx, actor, ip, "catalog.category_deleted", id, &c.name).await?;
    tx.commit().await?;
    Ok(())
}

/// The item a client may request, or 404 (hidden, inactive, another tenant's).
pub async fn visible_item(
    app: &AppState,
    actor_scope: &crate::tenancy::TenantScope,
    company: &str,
    id: &str,
) -> AppResult<Item> {
    store::item(&app.db, actor_scope, id, Some(company))
        .await?
        .ok_or(AppError::NotFound)
}

/// Submits a request for `item` (already checked visible to the actor's company): validates
/// the answers against the item's current form, then raises the ticket with the answers, the
/// form version and the item's SLA due times in the ticket's transaction.
pub async fn submit(
    app: &AppState,
    actor: &Actor,
    ip: &str,
    item: &Item,
    raw: &BTreeMap<String, Vec<String>>,
    tr: &Translator,
    tz: Tz,
) -> AppResult<Ticket> {
    let company = actor
        .company_id()
        .ok_or(AppError::NotFound)?
        .as_str()
        .to_string();
    let answers = super::validate(&item.fields, raw).map_err(invalid)?;
    let (item_id, version) = (item.id.clone(), item.form_version);
    let (fr, res, hours) = (
        item.first_response_minutes,
        item.resolution_minutes,
        item.hours,
    );
    let hook: CreateHook = Box::new(move |tx, t| {
        Box::pin(async move {
            // The clock starts when the ticket does.
            let now = t.created_at;
            let first = super::due_at(now, fr, hours, tz);
            let resolution = super::due_at(now, res, hours, tz);
            // The form may have changed since the page was drawn: the answers were checked
            // against the version read above, and are stored with that version.
            store::insert_request(tx, &t.id, &item_id, version, &answers, now).await?;
            store::set_ticket_due(tx, &t.id, first, resolution).await?;
            audit::append(
                tx,
                Entry {
                    company_id: Some(&t.company_id),
                    detail: json!({ "number": t.number, "item": item_id, "form_version": version }),
                    ..Entry::new("catalog.requested").target("ticket", &t.id)
                },
            )
            .await?;
            Ok(())
        })
    });
    crate::tickets::service::create_with(
        app,
        actor,
        ip,
        CreateInput {
            company_id: company,
            requester_id: actor.user_id().as_str().to_string(),
            subject: item.name.clone(),
            description: tr.arg("catalog-ticket-description", "item", &item.name),
            priority: Priority::Normal,
            category: "General".into(),
            cc: Vec::new(),
        },
        Pending::new(app.files.clone()),
        hook,
    )
    .await
}

/// The request behind a ticket, as an answers table in the form's words of that version.
pub async fn request_view(
    app: &AppState,
    scope: &crate::tenancy::TenantScope,
    ticket_id: &str,
) -> AppResult<Option<super::RequestView>> {
    Ok(store::request_for_ticket(&app.db, scope, ticket_id)
        .await?
        .map(|r| super::RequestView {
            item_id: r.item_id,
            item_name: r.item_name,
            form_version: r.form_version,
            answers: super::answer_rows(&r.fields, &r.answers),
        }))
}

/// Parses a tenant's time zone (UTC when unknown).
pub fn zone(name: &str) -> Tz {
    name.parse().unwrap_or(Tz::UTC)
}
