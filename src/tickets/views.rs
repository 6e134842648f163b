//! Saved queue views: a staff user's named filter sets for the queue. A view belongs to one
//! user of one tenant; every query says both, so nobody reaches another's view by its id.

use serde_json::json;

use crate::audit::{self, Entry};
use crate::auth::Actor;
use crate::db::{Db, DbError, DbResult, Row, new_id, now_ms};
use crate::error::{AppError, AppResult};
use crate::i18n::k;

/// Longest view name.
pub const NAME_MAX: usize = 60;
/// Most views per user.
pub const MAX_VIEWS: usize = 30;
/// The filter keys a view keeps, in the order they are written.
pub const KEYS: [&str; 7] = [
    "status", "priority", "company", "assignee", "sla", "sort", "q",
];

/// A saved view.
#[derive(Clone, Debug)]
pub struct SavedView {
    /// Id.
    pub id: String,
    /// Name the user gave it.
    pub name: String,
    /// The queue's query string (filter keys only).
    pub query: String,
}

/// The filter part of a queue query string, in a fixed order: paging and notices are dropped,
/// unknown keys ignored, values bounded.
pub fn canonical_query(raw: &str) -> String {
    let pairs: Vec<(String, String)> =
        url::form_urlencoded::parse(raw.trim_start_matches('?').as_bytes())
            .into_owned()
            .collect();
    let mut out = url::form_urlencoded::Serializer::new(String::new());
    for key in KEYS {
        if let Some((_, v)) = pairs.iter().find(|(k, v)| k == key && !v.trim().is_empty()) {
            out.append_pair(key, &v.chars().take(200).collect::<String>());
        }
    }
    out.finish()
}

/// The user's views, by name.
pub async fn list(db: &Db, actor: &Actor) -> DbResult<Vec<SavedView>> {
    let rows = sqlx::query(
        "SELECT id, name, query FROM saved_views WHERE tenant_id = $1 AND user_id = $2 ORDER BY name",
    )
    .bind(actor.scope().tenant_id().as_str())
    .bind(actor.user_id().as_str())
    .fetch_all(db.tenant(actor.scope()).reader())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(SavedView {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                query: r.try_get("query")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(DbError::from)
}

/// One of the user's views.
pub async fn get(db: &Db, actor: &Actor, id: &str) -> DbResult<Option<SavedView>> {
    let row = sqlx::query(
        "SELECT id, name, query FROM saved_views WHERE tenant_id = $1 AND user_id = $2 AND id = $3",
    )
    .bind(actor.scope().tenant_id().as_str())
    .bind(actor.user_id().as_str())
    .bind(id)
    .fetch_optional(db.tenant(actor.scope()).reader())
    .await?;
    let Some(r) = row else { return Ok(None) };
    Ok(Some(SavedView {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        query: r.try_get("query")?,
    }))
}

/// Saves the current filters under `name` (a view of that name is replaced); audited.
pub async fn save(
    db: &Db,
    actor: &Actor,
    ip: &str,
    name: &str,
    query: &str,
) -> AppResult<SavedView> {
    let name =
        crate::text::single_line("name", name, NAME_MAX).map_err(|e| AppError::fields(vec![e]))?;
    if name.is_empty() {
        return Err(AppError::field("name", k("ticket-view-error-name")));
    }
    let query = canonical_query(query);
    let existing = list(db, actor).await?;
    if existing.len() >= MAX_VIEWS && !existing.iter().any(|v| v.name == name) {
        return Err(AppError::field("name", k("ticket-view-error-too-many")));
    }
    let tenant = actor.scope().tenant_id().to_string();
    let mut tx = db.tenant(actor.scope()).begin().await?;
    let id: String = sqlx::query(
        "INSERT INTO saved_views (tenant_id, id, user_id, name, query, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (tenant_id, user_id, name) DO UPDATE SET query = excluded.query RETURNING id",
    )
    .bind(&tenant)
    .bind(new_id())
    .bind(actor.user_id().as_str())
    .bind(&name)
    .bind(&query)
    .bind(now_ms())
    .fetch_one(tx.conn())
    .await
    .map_err(DbError::from)?
    .try_get(0)
    .map_err(DbError::from)?;
    audit::append(
        &mut tx,
        Entry {
            ip: Some(ip),
            detail: json!({ "name": name, "query": query }),
            ..Entry::new("ticket.view_saved")
                .by(actor)
                .target("saved_view", &id)
        },
    )
    .await?;
    tx.commit().await?;
    Ok(SavedView { id, name, query })
}

/// Deletes one of the user's views; 404 for any other id (another user's, another tenant's).
pub async fn delete(db: &Db, actor: &Actor, ip: &str, id: &str) -> AppResult<()> {
    let tenant = actor.scope().tenant_id().to_string();
    let mut tx = db.tenant(actor.scope()).begin().await?;
    let done =
        sqlx::query("DELETE FROM saved_views WHERE tenant_id = $1 AND user_id = $2 AND id = $3")
            .bind(&tenant)
            .bind(actor.user_id().as_str())
            .bind(id)
            .execute(tx.conn())
            .await
            .map_err(DbError::from)?;
    if done.rows_affected() == 0 {
        return Err(AppError::NotFound);
    }
    audit::append(
        &mut tx,
        Entry {
            ip: Some(ip),
            ..Entry::new("ticket.view_deleted")
                .by(actor)
                .target("saved_view", id)
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_keep_filters_only() {
        assert_eq!(
            canonical_query("?cursor=x&q=vpn+down&status=all&limit=5&evil=1&sort=priority"),
            "status=all&sort=priority&q=vpn+down"
        );
        assert_eq!(canonical_query(""), "");
    }
}
