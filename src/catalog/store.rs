//! SQL of the service catalog. Every statement names its tenant.

use serde::Serialize;

use super::{Answers, FormField, Hours};
use crate::db::{AnyRow, Db, DbResult, Row, TenantTx, flag, new_id, now_ms};
use crate::tenancy::TenantScope;

/// A catalog category.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Category {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Sort position (lowest first).
    pub position: i64,
    /// Items in it (for staff: all; for clients: the ones they may see).
    pub item_count: i64,
}

/// A catalog item with its current form.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Item {
    /// Id.
    pub id: String,
    /// Category.
    pub category_id: String,
    /// Category name.
    pub category_name: String,
    /// Name.
    pub name: String,
    /// Markdown.
    pub description: String,
    /// The description rendered and sanitised.
    pub description_html: String,
    /// Icon name (one of `catalog::ICONS`).
    pub icon: String,
    /// Minutes to the first response.
    pub first_response_minutes: i64,
    /// Minutes to resolution.
    pub resolution_minutes: i64,
    /// When the clock runs.
    pub hours: Hours,
    /// Price as staff wrote it ("€49 per user per month").
    pub price: Option<String>,
    /// `all` companies, or only the chosen `companies`.
    pub visibility: String,
    /// The chosen companies (staff views only; empty for clients).
    pub companies: Vec<String>,
    /// Offered to clients.
    pub active: bool,
    /// Current form version.
    pub form_version: i64,
    /// Fields of the current form version.
    pub fields: Vec<FormField>,
    /// Last changed (Unix ms).
    pub updated_at: i64,
}

const ITEM_COLS: &str = "i.id, i.category_id, c.name AS category_name, i.name, i.description, \
    i.description_html, i.icon, i.first_response_minutes, i.resolution_minutes, i.hours, i.price, \
    i.visibility, i.active, i.form_version, i.updated_at, f.fields";

const ITEM_FROM: &str = "FROM catalog_items i \
    JOIN catalog_categories c ON c.tenant_id = i.tenant_id AND c.id = i.category_id \
    JOIN catalog_form_versions f ON f.tenant_id = i.tenant_id AND f.item_id = i.id AND f.version = i.form_version";

/// The condition "visible to the company bound at `$n`" on `i`.
fn visible_to(n: usize) -> String {
    format!(
        "(i.visibility = 'all' OR EXISTS (SELECT 1 FROM catalog_item_companies v \
         WHERE v.tenant_id = i.tenant_id AND v.item_id = i.id AND v.company_id = ${n}))"
    )
}

fn item_from_row(r: &AnyRow) -> Result<Item, sqlx::Error> {
    let fields: String = r.try_get("fields")?;
    let hours: String = r.try_get("hours")?;
    Ok(Item {
        id: r.try_get("id")?,
        category_id: r.try_get("category_id")?,
        category_name: r.try_get("category_name")?,
        name: r.try_get("name")?,
        description: r.try_get("description")?,
        description_html: r.try_get("description_html")?,
        icon: r.try_get("icon")?,
        first_response_minutes: r.try_get("first_response_minutes")?,
        resolution_minutes: r.try_get("resolution_minutes")?,
        hours: Hours::parse(&hours).unwrap_or(Hours::Business),
        price: r.try_get("price")?,
        visibility: r.try_get("visibility")?,
        companies: Vec::new(),
        active: flag(r, "active")?,
        form_version: r.try_get("form_version")?,
        fields: serde_json::from_str(&fields).unwrap_or_default(),
        updated_at: r.try_get("updated_at")?,
    })
}

/// Categories in order, each with how many items `company` may see (all items for `None`).
pub async fn categories(
    db: &Db,
    scope: &TenantScope,
    company: Option<&str>,
) -> DbResult<Vec<Category>> {
    let filter = if company.is_some() {
        format!(" AND i.active = 1 AND {}", visible_to(2))
    } else {
        " AND $2 = $2".to_string()
    };
    let sql = format!(
        "SELECT k.id, k.name, k.position, (SELECT COUNT(*) FROM catalog_items i \
         WHERE i.tenant_id = k.tenant_id AND i.category_id = k.id{filter}) AS item_count \
         FROM catalog_categories k WHERE k.tenant_id = $1 ORDER BY k.position, k.name"
    );
    let rows = sqlx::query(&sql)
        .bind(scope.tenant_id().as_str())
        .bind(company.unwrap_or(""))
        .fetch_all(db.tenant(scope).reader())
        .await?;
    rows.iter()
        .map(|r| {
            Ok(Category {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                position: r.try_get("position")?,
                item_count: r.try_get("item_count")?,
            })
        })
        .collect()
}

/// Creates a category at the end of the list.
pub async fn insert_category(tx: &mut TenantTx, name: &str) -> DbResult<String> {
    let id = new_id();
    let tenant = tx.tenant_id().to_string();
    let now = now_ms();
    sqlx::query(
        "INSERT INTO catalog_categories (id, tenant_id, name, position, created_at, updated_at) \
         VALUES ($1, $2, $3, (SELECT COALESCE(MAX(position), 0) + 1 FROM catalog_categories WHERE tenant_id = $2), $4, $4)",
    )
    .bind(&id)
    .bind(&tenant)
    .bind(name)
    .bind(now)
    .execute(tx.conn())
    .await?;
    Ok(id)
}

/// Renames a category and sets its position; false when it does not exist.
pub async fn update_category(
    tx: &mut TenantTx,
    id: &str,
    name: &str,
    position: i64,
) -> DbResult<bool> {
    let r = sqlx::query(
        "UPDATE catalog_categories SET name = $3, position = $4, updated_at = $5 WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tx.tenant_id().to_string())
    .bind(id)
    .bind(name)
    .bind(position)
    .bind(now_ms())
    .execute(tx.conn())
    .await?;
    Ok(r.rows_affected() > 0)
}

/// Deletes an empty category; false when it has items or does not exist.
pub async fn delete_category(tx: &mut TenantTx, id: &str) -> DbResult<bool> {
    let r = sqlx::query(
        "DELETE FROM catalog_categories WHERE tenant_id = $1 AND id = $2 \
         AND NOT EXISTS (SELECT 1 FROM catalog_items i WHERE i.tenant_id = $1 AND i.category_id = $2)",
    )
    .bind(tx.tenant_id().to_string())
    .bind(id)
    .execute(tx.conn())
    .await?;
    Ok(r.rows_affected() > 0)
}

/// A category by id.
pub async fn category(db: &Db, scope: &TenantScope, id: &str) -> DbResult<Option<Category>> {
    Ok(categories(db, scope, None)
        .await?
        .into_iter()
        .find(|c| c.id == id))
}

/// What a list of items is filtered by.
#[derive(Default)]
pub struct ItemFilter<'a> {
    /// Only items this company may see, and only active ones (clients); `None` for staff.
    pub company: Option<&'a str>,
    /// One category.
    pub category: Option<&'a str>,
    /// Words in the name or description.
    pub q: Option<&'a str>,
    /// After this item id (in name order).
    pub cursor: Option<&'a str>,
    /// Page size.
    pub limit: i64,
}

fn like_pattern(q: &str) -> String {
    let escaped = q
        .trim()
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// Items in name order after the cursor; one more than `limit` is not fetched, the caller
/// pages on a full page.
pub async fn items(db: &Db, scope: &TenantScope, f: &ItemFilter<'_>) -> DbResult<Vec<Item>> {
    let mut sql = format!("SELECT {ITEM_COLS} {ITEM_FROM} WHERE i.tenant_id = $1");
    if f.company.is_some() {
        sql.push_str(&format!(" AND i.active = 1 AND {}", visible_to(2)));
    } else {
        sql.push_str(" AND $2 = $2");
    }
    if f.category.is_some() {
        sql.push_str(" AND i.category_id = $3");
    } else {
        sql.push_str(" AND $3 = $3");
    }
    if f.q.is_some_and(|q| !q.trim().is_empty()) {
        sql.push_str(
            " AND (LOWER(i.name) LIKE $4 ESCAPE '\\' OR LOWER(i.description) LIKE $4 ESCAPE '\\')",
        );
    } else {
        sql.push_str(" AND $4 = $4");
    }
    if f.cursor.is_some() {
        sql.push_str(
            " AND (i.name > (SELECT name FROM catalog_items WHERE tenant_id = $1 AND id = $5) \
             OR (i.name = (SELECT name FROM catalog_items WHERE tenant_id = $1 AND id = $5) AND i.id > $5))",
        );
    } else {
        sql.push_str(" AND $5 = $5");
    }
    sql.push_str(" ORDER BY i.name, i.id LIMIT $6");
    let rows = sqlx::query(&sql)
        .bind(scope.tenant_id().as_str())
        .bind(f.company.unwrap_or(""))
        .bind(f.category.unwrap_or(""))
        .bind(like_pattern(f.q.unwrap_or("")))
        .bind(f.cursor.unwrap_or(""))
        .bind(f.limit)
        .fetch_all(db.tenant(scope).reader())
        .await?;
    rows.iter().map(|r| Ok(item_from_row(r)?)).collect()
}

/// One item; with `company`, only when active and visible to it. Staff get the chosen
/// companies filled in.
pub async fn item(
    db: &Db,
    scope: &TenantScope,
    id: &str,
    company: Option<&str>,
) -> DbResult<Option<Item>> {
    let mut sql = format!("SELECT {ITEM_COLS} {ITEM_FROM} WHERE i.tenant_id = $1 AND i.id = $2");
    if company.is_some() {
        sql.push_str(&format!(" AND i.active = 1 AND {}", visible_to(3)));
    } else {
        sql.push_str(" AND $3 = $3");
    }
    let row = sqlx::query(&sql)
        .bind(scope.tenant_id().as_str())
        .bind(id)
        .bind(company.unwrap_or(""))
        .fetch_optional(db.tenant(scope).reader())
        .await?;
    let Some(row) = row else { return Ok(None) };
    let mut item = item_from_row(&row)?;
    if company.is_none() {
        let rows = sqlx::query(
            "SELECT company_id FROM catalog_item_companies WHERE tenant_id = $1 AND item_id = $2 ORDER BY company_id",
        )
        .bind(scope.tenant_id().as_str())
        .bind(id)
        .fetch_all(db.tenant(scope).reader())
        .await?;
        item.companies = rows
            .iter()
            .map(|r| r.try_get("company_id"))
            .collect::<Result<_, _>>()?;
    }
    Ok(Some(item))
}

/// An item's fields as staff wrote them (without the form, which has its own versions).
pub struct ItemRow<'a> {
    /// Category.
    pub category_id: &'a str,
    /// Name.
    pub name: &'a str,
    /// Markdown.
    pub description: &'a str,
    /// Sanitised HTML of the description.
    pub description_html: &'a str,
    /// Icon name.
    pub icon: &'a str,
    /// Minutes to the first response.
    pub first_response_minutes: i64,
    /// Minutes to resolution.
    pub resolution_minutes: i64,
    /// Clock.
    pub hours: Hours,
    /// Price text.
    pub price: Option<&'a str>,
    /// `all` or `companies`.
    pub visibility: &'a str,
    /// Offered.
    pub active: bool,
}

/// Creates an item with form version 1 (empty until [`insert_form_version`] writes it).
pub async fn insert_item(tx: &mut TenantTx, r: &ItemRow<'_>) -> DbResult<String> {
    let id = new_id();
    let now = now_ms();
    sqlx::query(
        "INSERT INTO catalog_items (id, tenant_id, category_id, name, description, description_html, icon, \
         first_response_minutes, resolution_minutes, hours, price, visibility, active, form_version, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 1, $14, $14)",
    )
    .bind(&id)
    .bind(tx.tenant_id().to_string())
    .bind(r.category_id)
    .bind(r.name)
    .bind(r.description)
    .bind(r.description_html)
    .bind(r.icon)
    .bind(r.first_response_minutes)
    .bind(r.resolution_minutes)
    .bind(r.hours.as_str())
    .bind(r.price)
    .bind(r.visibility)
    .bind(i64::from(r.active))
    .bind(now)
    .execute(tx.conn())
    .await?;
    Ok(id)
}

/// Updates an item's fields and points it at `form_version`.
pub async fn update_item(
    tx: &mut TenantTx,
    id: &str,
    r: &ItemRow<'_>,
    form_version: i64,
) -> DbResult<()> {
    sqlx::query(
        "UPDATE catalog_items SET category_id = $3, name = $4, description = $5, description_html = $6, icon = $7, \
         first_response_minutes = $8, resolution_minutes = $9, hours = $10, price = $11, visibility = $12, \
         active = $13, form_version = $14, updated_at = $15 WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tx.tenant_id().to_string())
    .bind(id)
    .bind(r.category_id)
    .bind(r.name)
    .bind(r.description)
    .bind(r.description_html)
    .bind(r.icon)
    .bind(r.first_response_minutes)
    .bind(r.resolution_minutes)
    .bind(r.hours.as_str())
    .bind(r.price)
    .bind(r.visibility)
    .bind(i64::from(r.active))
    .bind(form_version)
    .bind(now_ms())
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Locks an item row for the rest of the transaction (PostgreSQL) and returns its current form
/// version, so two saves at once cannot both write the same next version.
pub async fn lock_item(tx: &mut TenantTx, id: &str) -> DbResult<Option<i64>> {
    let row = sqlx::query(
        "UPDATE catalog_items SET updated_at = updated_at WHERE tenant_id = $1 AND id = $2 RETURNING form_version",
    )
    .bind(tx.tenant_id().to_string())
    .bind(id)
    .fetch_optional(tx.conn())
    .await?;
    Ok(row.map(|r| r.try_get("form_version")).transpose()?)
}

/// Replaces the companies an item is restricted to.
pub async fn set_companies(tx: &mut TenantTx, id: &str, companies: &[String]) -> DbResult<()> {
    let tenant = tx.tenant_id().to_string();
    sqlx::query("DELETE FROM catalog_item_companies WHERE tenant_id = $1 AND item_id = $2")
        .bind(&tenant)
        .bind(id)
        .execute(tx.conn())
        .await?;
    for c in companies {
        sqlx::query(
            "INSERT INTO catalog_item_companies (tenant_id, item_id, company_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(&tenant)
        .bind(id)
        .bind(c)
        .execute(tx.conn())
        .await?;
    }
    Ok(())
}

/// Stores a version of an item's form.
pub async fn insert_form_version(
    tx: &mut TenantTx,
    item_id: &str,
    version: i64,
    fields: &[FormField],
    by: Option<&str>,
) -> DbResult<()> {
    let json = serde_json::to_string(fields).unwrap_or_else(|_| "[]".into());
    sqlx::query(
        "INSERT INTO catalog_form_versions (tenant_id, item_id, version, fields, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(tx.tenant_id().to_string())
    .bind(item_id)
    .bind(version)
    .bind(json)
    .bind(by)
    .bind(now_ms())
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Deletes an item that no request refers to; false otherwise.
pub async fn delete_item(tx: &mut TenantTx, id: &str) -> DbResult<bool> {
    let tenant = tx.tenant_id().to_string();
    let used: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM catalog_requests WHERE tenant_id = $1 AND item_id = $2",
    )
    .bind(&tenant)
    .bind(id)
    .fetch_one(tx.conn())
    .await?
    .try_get("n")?;
    if used > 0 {
        return Ok(false);
    }
    for sql in [
        "DELETE FROM catalog_item_companies WHERE tenant_id = $1 AND item_id = $2",
        "DELETE FROM catalog_form_versions WHERE tenant_id = $1 AND item_id = $2",
        "DELETE FROM catalog_items WHERE tenant_id = $1 AND id = $2",
    ] {
        sqlx::query(sql)
            .bind(&tenant)
            .bind(id)
            .execute(tx.conn())
            .await?;
    }
    Ok(true)
}

/// Records a request against the ticket it became.
pub async fn insert_request(
    tx: &mut TenantTx,
    ticket_id: &str,
    item_id: &str,
    form_version: i64,
    answers: &Answers,
    now: i64,
) -> DbResult<String> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO catalog_requests (id, tenant_id, ticket_id, item_id, form_version, answers, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&id)
    .bind(tx.tenant_id().to_string())
    .bind(ticket_id)
    .bind(item_id)
    .bind(form_version)
    .bind(serde_json::to_string(answers).unwrap_or_else(|_| "{}".into()))
    .bind(now)
    .execute(tx.conn())
    .await?;
    Ok(id)
}

/// Sets a ticket's SLA due times (from the item it was requested through).
pub async fn set_ticket_due(
    tx: &mut TenantTx,
    ticket_id: &str,
    first_response_due_at: i64,
    resolution_due_at: i64,
) -> DbResult<()> {
    sqlx::query(
        "UPDATE tickets SET first_response_due_at = $3, resolution_due_at = $4 WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tx.tenant_id().to_string())
    .bind(ticket_id)
    .bind(first_response_due_at)
    .bind(resolution_due_at)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// A stored request with the form version it was made on.
pub struct RequestRow {
    /// Item.
    pub item_id: String,
    /// Item name now.
    pub item_name: String,
    /// Form version answered.
    pub form_version: i64,
    /// That version's fields.
    pub fields: Vec<FormField>,
    /// Answers.
    pub answers: Answers,
}

/// The catalog request behind a ticket, if it came from one.
pub async fn request_for_ticket(
    db: &Db,
    scope: &TenantScope,
    ticket_id: &str,
) -> DbResult<Option<RequestRow>> {
    let row = sqlx::query(
        "SELECT r.item_id, i.name AS item_name, r.form_version, r.answers, f.fields FROM catalog_requests r \
         JOIN catalog_items i ON i.tenant_id = r.tenant_id AND i.id = r.item_id \
         JOIN catalog_form_versions f ON f.tenant_id = r.tenant_id AND f.item_id = r.item_id AND f.version = r.form_version \
         WHERE r.tenant_id = $1 AND r.ticket_id = $2",
    )
    .bind(scope.tenant_id().as_str())
    .bind(ticket_id)
    .fetch_optional(db.tenant(scope).reader())
    .await?;
    let Some(r) = row else { return Ok(None) };
    let fields: String = r.try_get("fields")?;
    let answers: String = r.try_get("answers")?;
    Ok(Some(RequestRow {
        item_id: r.try_get("item_id")?,
        item_name: r.try_get("item_name")?,
        form_version: r.try_get("form_version")?,
        fields: serde_json::from_str(&fields).unwrap_or_default(),
        answers: serde_json::from_str(&answers).unwrap_or_default(),
    }))
}

/// Whether a company id belongs to the tenant.
pub async fn company_exists(tx: &mut TenantTx, id: &str) -> DbResult<bool> {
    let row = sqlx::query("SELECT 1 AS one FROM companies WHERE tenant_id = $1 AND id = $2")
        .bind(tx.tenant_id().to_string())
        .bind(id)
        .fetch_optional(tx.conn())
        .await?;
    Ok(row.is_some())
}

/// The tenant's companies as `(id, name)`, for the visibility picker.
pub async fn companies(db: &Db, scope: &TenantScope) -> DbResult<Vec<(String, String)>> {
    let rows = sqlx::query(
        "SELECT id, name FROM companies WHERE tenant_id = $1 AND status = 'active' ORDER BY name LIMIT 500",
    )
    .bind(scope.tenant_id().as_str())
    .fetch_all(db.tenant(scope).reader())
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("id")?, r.try_get("name")?)))
        .collect()
}

/// The tenant's category ids, read in the action's transaction.
pub async fn categories_in(tx: &mut TenantTx) -> DbResult<Vec<String>> {
    let rows = sqlx::query("SELECT id FROM catalog_categories WHERE tenant_id = $1")
        .bind(tx.tenant_id().to_string())
        .fetch_all(tx.conn())
        .await?;
    rows.iter().map(|r| Ok(r.try_get("id")?)).collect()
}

/// The fields of one form version, read in the action's transaction.
pub async fn form_fields_in(
    tx: &mut TenantTx,
    item_id: &str,
    version: i64,
) -> DbResult<Vec<FormField>> {
    let row = sqlx::query(
        "SELECT fields FROM catalog_form_versions WHERE tenant_id = $1 AND item_id = $2 AND version = $3",
    )
    .bind(tx.tenant_id().to_string())
    .bind(item_id)
    .bind(version)
    .fetch_optional(tx.conn())
    .await?;
    let fields: Option<String> = row.map(|r| r.try_get("fields")).transpose()?;
    Ok(fields
        .and_then(|f| serde_json::from_str(&f).ok())
        .unwrap_or_default())
}
