//! Knowledge-base SQL. Every statement is bound to one tenant; reads take the [`Reader`] whose
//! visibility they apply (`VIS`, with `$3` the reader's company and `$4` its mode).

use serde::Serialize;

use super::{MARK_END, MARK_START, Reader, Visibility};
use crate::db::{AnyRow, Backend, Db, DbResult, Row, TenantTx, new_id, now_ms};
use crate::tenancy::TenantScope;

/// An article without its body, as lists and search show it.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct ArticleSummary {
    /// Id.
    pub id: String,
    /// URL name, unique in the tenant.
    pub slug: String,
    /// Title.
    pub title: String,
    /// Category.
    pub category: String,
    /// Tags, comma-separated.
    pub tags: String,
    /// Who may read it.
    pub visibility: Visibility,
    /// `draft` or `published`.
    pub status: String,
    /// "Helpful" votes.
    pub helpful: i64,
    /// "Not helpful" votes.
    pub not_helpful: i64,
    /// First published (Unix ms).
    pub published_at: Option<i64>,
    /// Last changed (Unix ms).
    pub updated_at: i64,
}

/// A whole article.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Article {
    /// Everything a list shows.
    #[serde(flatten)]
    pub summary: ArticleSummary,
    /// Markdown source.
    pub body: String,
    /// Companies that may read it (visibility `companies`).
    pub companies: Vec<String>,
}

/// A search result.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Hit {
    /// The article.
    #[serde(flatten)]
    pub article: ArticleSummary,
    /// A passage of the body around the matches: escaped HTML with `<mark>` around matches.
    pub snippet_html: String,
}

const COLS: &str = "a.id, a.slug, a.title, a.category, a.tags, a.visibility, a.status, a.published_at, a.updated_at, \
    (SELECT COUNT(*) FROM kb_votes v WHERE v.tenant_id = a.tenant_id AND v.article_id = a.id AND v.helpful = 1) AS helpful, \
    (SELECT COUNT(*) FROM kb_votes v WHERE v.tenant_id = a.tenant_id AND v.article_id = a.id AND v.helpful = 0) AS not_helpful";

/// Visibility for the reader bound as `$3` (company) and `$4` (mode).
const VIS: &str = "($4 = 'staff' OR (a.status = 'published' AND (a.visibility = 'public' OR ($4 = 'client' AND \
    (a.visibility = 'clients' OR (a.visibility = 'companies' AND EXISTS (SELECT 1 FROM kb_article_companies ac \
    WHERE ac.tenant_id = a.tenant_id AND ac.article_id = a.id AND ac.company_id = $3)))))))";

/// The weighted document PostgreSQL searches; the same expression as the GIN index.
const VEC: &str = "(setweight(to_tsvector('simple', a.title), 'A') || setweight(to_tsvector('simple', a.tags), 'B') || setweight(to_tsvector('simple', a.body), 'C'))";

fn summary(r: &AnyRow) -> Result<ArticleSummary, sqlx::Error> {
    let vis: String = r.try_get("visibility")?;
    Ok(ArticleSummary {
        id: r.try_get("id")?,
        slug: r.try_get("slug")?,
        title: r.try_get("title")?,
        category: r.try_get("category")?,
        tags: r.try_get("tags")?,
        visibility: Visibility::parse(&vis).unwrap_or(Visibility::Companies),
        status: r.try_get("status")?,
        helpful: r.try_get("helpful")?,
        not_helpful: r.try_get("not_helpful")?,
        published_at: r.try_get("published_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// One article the reader may see, by slug or id.
pub async fn get(
    db: &Db,
    scope: &TenantScope,
    reader: &Reader,
    slug_or_id: &str,
) -> DbResult<Option<Article>> {
    let (mode, company) = reader.binds();
    let sql = format!(
        "SELECT {COLS}, a.body FROM kb_articles a WHERE a.tenant_id = $1 AND (a.slug = $2 OR a.id = $2) AND {VIS}"
    );
    let row = sqlx::query(&sql)
        .bind(scope.tenant_id().as_str())
        .bind(slug_or_id)
        .bind(&company)
        .bind(mode)
        .fetch_optional(db.tenant(scope).reader())
        .await?;
    let Some(r) = row else { return Ok(None) };
    let summary = summary(&r)?;
    let body: String = r.try_get("body")?;
    let companies = companies_of(db, scope, &summary.id).await?;
    Ok(Some(Article {
        summary,
        body,
        companies,
    }))
}

async fn companies_of(db: &Db, scope: &TenantScope, article: &str) -> DbResult<Vec<String>> {
    let rows = sqlx::query(
        "SELECT company_id FROM kb_article_companies WHERE tenant_id = $1 AND article_id = $2 ORDER BY company_id",
    )
    .bind(scope.tenant_id().as_str())
    .bind(article)
    .fetch_all(db.tenant(scope).reader())
    .await?;
    Ok(rows
        .iter()
        .map(|r| r.try_get::<String, _>(0))
        .collect::<Result<_, _>>()?)
}

/// Articles the reader may see, by category and title, after the keyset `(title, id)`.
pub async fn list(
    db: &Db,
    scope: &TenantScope,
    reader: &Reader,
    category: Option<&str>,
    after: Option<(&str, &str)>,
    limit: i64,
) -> DbResult<Vec<ArticleSummary>> {
    let (mode, company) = reader.binds();
    let (t, i) = after.unwrap_or(("", ""));
    let sql = format!(
        "SELECT {COLS} FROM kb_articles a WHERE a.tenant_id = $1 AND {VIS} \
         AND ($2 = '' OR a.category = $2) AND (a.title > $5 OR (a.title = $5 AND a.id > $6)) \
         ORDER BY a.title, a.id LIMIT $7"
    );
    let rows = sqlx::query(&sql)
        .bind(scope.tenant_id().as_str())
        .bind(category.unwrap_or(""))
        .bind(&company)
        .bind(mode)
        .bind(t)
        .bind(i)
        .bind(limit)
        .fetch_all(db.tenant(scope).reader())
        .await?;
    Ok(rows.iter().map(summary).collect::<Result<_, _>>()?)
}

/// The newest published articles the reader may see.
pub async fn newest(
    db: &Db,
    scope: &TenantScope,
    reader: &Reader,
    limit: i64,
) -> DbResult<Vec<ArticleSummary>> {
    let (mode, company) = reader.binds();
    let sql = format!(
        "SELECT {COLS} FROM kb_articles a WHERE a.tenant_id = $1 AND a.status = $2 AND {VIS} \
         ORDER BY a.published_at DESC, a.id DESC LIMIT $5"
    );
    let rows = sqlx::query(&sql)
        .bind(scope.tenant_id().as_str())
        .bind("published")
        .bind(&company)
        .bind(mode)
        .bind(limit)
        .fetch_all(db.tenant(scope).reader())
        .await?;
    Ok(rows.iter().map(summary).collect::<Result<_, _>>()?)
}

/// Categories the reader has articles in, with their counts, by name.
pub async fn categories(
    db: &Db,
    scope: &TenantScope,
    reader: &Reader,
) -> DbResult<Vec<(String, i64)>> {
    let (mode, company) = reader.binds();
    let sql = format!(
        "SELECT a.category, COUNT(*) AS n FROM kb_articles a WHERE a.tenant_id = $1 AND $2 = $2 AND {VIS} \
         GROUP BY a.category ORDER BY a.category"
    );
    let rows = sqlx::query(&sql)
        .bind(scope.tenant_id().as_str())
        .bind("")
        .bind(&company)
        .bind(mode)
        .fetch_all(db.tenant(scope).reader())
        .await?;
    Ok(rows
        .iter()
        .map(|r| Ok((r.try_get("category")?, r.try_get("n")?)))
        .collect::<Result<_, sqlx::Error>>()?)
}

/// Ranked full-text search over title (weighted most), tags and body, with every word a
/// prefix. `all`: every word must match (else any). Returns highlighted snippets.
pub async fn search(
    db: &Db,
    scope: &TenantScope,
    reader: &Reader,
    terms: &[String],
    all: bool,
    limit: i64,
) -> DbResult<Vec<Hit>> {
    if terms.is_empty() {
        return Ok(Vec::new());
    }
    let (mode, company) = reader.binds();
    let handle = db.tenant(scope);
    let rows = match handle.backend() {
        Backend::Sqlite => {
            let sql = format!(
                "SELECT {COLS}, snippet(kb_fts, 4, $5, $6, '…', 18) AS snippet FROM kb_fts \
                 JOIN kb_articles a ON a.tenant_id = kb_fts.tenant_id AND a.id = kb_fts.article_id \
                 WHERE kb_fts MATCH $2 AND kb_fts.tenant_id = $1 AND a.tenant_id = $1 AND {VIS} \
                 ORDER BY bm25(kb_fts, 0.0, 0.0, 10.0, 4.0, 1.0), a.title LIMIT $7"
            );
            sqlx::query(&sql)
                .bind(scope.tenant_id().as_str())
                .bind(super::fts5_query(terms, all))
                .bind(&company)
                .bind(mode)
                .bind(MARK_START)
                .bind(MARK_END)
                .bind(limit)
                .fetch_all(handle.reader())
                .await?
        }
        Backend::Postgres => {
            // Rank and cut first; headlines (costly) only for the rows shown.
            let sql = format!(
                "SELECT {COLS}, ts_headline('simple', a.body, to_tsquery('simple', $2), $5) AS snippet \
                 FROM kb_articles a JOIN (SELECT a.id, ts_rank({VEC}, to_tsquery('simple', $2)) AS rank \
                 FROM kb_articles a WHERE a.tenant_id = $1 AND {VEC} @@ to_tsquery('simple', $2) AND {VIS} \
                 ORDER BY rank DESC, a.title LIMIT $6) best ON best.id = a.id \
                 WHERE a.tenant_id = $1 ORDER BY best.rank DESC, a.title"
            );
            sqlx::query(&sql)
                .bind(scope.tenant_id().as_str())
                .bind(super::tsquery(terms, all))
                .bind(&company)
                .bind(mode)
                .bind(format!(
                    "StartSel={MARK_START}, StopSel={MARK_END}, MaxWords=30, MinWords=12, MaxFragments=1, FragmentDelimiter=…"
                ))
                .bind(limit)
                .fetch_all(handle.reader())
                .await?
        }
    };
    rows.iter()
        .map(|r| {
            let raw: String = r.try_get("snippet")?;
            Ok(Hit {
                article: summary(r)?,
                snippet_html: super::snippet_html(&raw),
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

/// Whether a slug is taken in the tenant (by another article than `except`).
pub async fn slug_taken(tx: &mut TenantTx, slug: &str, except: &str) -> DbResult<bool> {
    let tenant = tx.tenant_id().to_string();
    let row =
        sqlx::query("SELECT id FROM kb_articles WHERE tenant_id = $1 AND slug = $2 AND id <> $3")
            .bind(&tenant)
            .bind(slug)
            .bind(except)
            .fetch_optional(tx.conn())
            .await?;
    Ok(row.is_some())
}

/// How many of `ids` are companies of the tenant.
pub async fn known_companies(tx: &mut TenantTx, ids: &[String]) -> DbResult<usize> {
    let tenant = tx.tenant_id().to_string();
    let mut n = 0;
    for id in ids {
        let row = sqlx::query("SELECT id FROM companies WHERE tenant_id = $1 AND id = $2")
            .bind(&tenant)
            .bind(id)
            .fetch_optional(tx.conn())
            .await?;
        n += usize::from(row.is_some());
    }
    Ok(n)
}

/// Inserts an article; returns its id.
pub async fn insert(
    tx: &mut TenantTx,
    a: &super::ArticleInput,
    slug: &str,
    author: &str,
) -> DbResult<String> {
    let id = new_id();
    let now = now_ms();
    let tenant = tx.tenant_id().to_string();
    sqlx::query(
        "INSERT INTO kb_articles (tenant_id, id, slug, title, category, tags, body, visibility, status, author_id, published_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)",
    )
    .bind(&tenant)
    .bind(&id)
    .bind(slug)
    .bind(&a.title)
    .bind(&a.category)
    .bind(&a.tags)
    .bind(&a.body)
    .bind(a.visibility.as_str())
    .bind(if a.published { "published" } else { "draft" })
    .bind(author)
    .bind(a.published.then_some(now))
    .bind(now)
    .execute(tx.conn())
    .await?;
    set_companies(tx, &id, &a.companies).await?;
    Ok(id)
}

/// Replaces an article's fields (the first publication keeps its date).
pub async fn update(tx: &mut TenantTx, id: &str, a: &super::ArticleInput) -> DbResult<()> {
    let tenant = tx.tenant_id().to_string();
    let now = now_ms();
    sqlx::query(
        "UPDATE kb_articles SET title = $3, category = $4, tags = $5, body = $6, visibility = $7, status = $8, \
         published_at = COALESCE(published_at, $9), updated_at = $10 WHERE tenant_id = $1 AND id = $2",
    )
    .bind(&tenant)
    .bind(id)
    .bind(&a.title)
    .bind(&a.category)
    .bind(&a.tags)
    .bind(&a.body)
    .bind(a.visibility.as_str())
    .bind(if a.published { "published" } else { "draft" })
    .bind(a.published.then_some(now))
    .bind(now)
    .execute(tx.conn())
    .await?;
    sqlx::query("DELETE FROM kb_article_companies WHERE tenant_id = $1 AND article_id = $2")
        .bind(&tenant)
        .bind(id)
        .execute(tx.conn())
        .await?;
    set_companies(tx, id, &a.companies).await
}

async fn set_companies(tx: &mut TenantTx, id: &str, companies: &[String]) -> DbResult<()> {
    let tenant = tx.tenant_id().to_string();
    for c in companies {
        sqlx::query(
            "INSERT INTO kb_article_companies (tenant_id, article_id, company_id) VALUES ($1, $2, $3)",
        )
        .bind(&tenant)
        .bind(id)
        .bind(c)
        .execute(tx.conn())
        .await?;
    }
    Ok(())
}

/// Deletes an article with its votes, company list and deflection records.
pub async fn delete(tx: &mut TenantTx, id: &str) -> DbResult<()> {
    let tenant = tx.tenant_id().to_string();
    for sql in [
        "DELETE FROM kb_article_companies WHERE tenant_id = $1 AND article_id = $2",
        "DELETE FROM kb_votes WHERE tenant_id = $1 AND article_id = $2",
        "DELETE FROM kb_deflections WHERE tenant_id = $1 AND article_id = $2",
        "DELETE FROM kb_articles WHERE tenant_id = $1 AND id = $2",
    ] {
        sqlx::query(sql)
            .bind(&tenant)
            .bind(id)
            .execute(tx.conn())
            .await?;
    }
    Ok(())
}

/// Records a user's vote; a second vote by the same user replaces the first (the primary key
/// makes it one row per user, however many arrive at once).
pub async fn vote(tx: &mut TenantTx, article: &str, user: &str, helpful: bool) -> DbResult<()> {
    let tenant = tx.tenant_id().to_string();
    sqlx::query(
        "INSERT INTO kb_votes (tenant_id, article_id, user_id, helpful, created_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (tenant_id, article_id, user_id) DO UPDATE SET helpful = excluded.helpful, created_at = excluded.created_at",
    )
    .bind(&tenant)
    .bind(article)
    .bind(user)
    .bind(i64::from(helpful))
    .bind(now_ms())
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The user's own vote on an article, if any.
pub async fn my_vote(
    db: &Db,
    scope: &TenantScope,
    article: &str,
    user: &str,
) -> DbResult<Option<bool>> {
    let row = sqlx::query(
        "SELECT helpful FROM kb_votes WHERE tenant_id = $1 AND article_id = $2 AND user_id = $3",
    )
    .bind(scope.tenant_id().as_str())
    .bind(article)
    .bind(user)
    .fetch_optional(db.tenant(scope).reader())
    .await?;
    Ok(row
        .map(|r| r.try_get::<i64, _>(0))
        .transpose()?
        .map(|h| h == 1))
}

/// Records that a user opened an article suggested on the new-ticket form.
pub async fn record_opened(tx: &mut TenantTx, article: &str, user: &str) -> DbResult<()> {
    let tenant = tx.tenant_id().to_string();
    sqlx::query(
        "INSERT INTO kb_deflections (tenant_id, id, article_id, user_id, opened_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&tenant)
    .bind(new_id())
    .bind(article)
    .bind(user)
    .bind(now_ms())
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Deflection figures for staff.
#[derive(Clone, Debug, Default, Serialize, schemars::JsonSchema)]
pub struct Deflection {
    /// Suggested articles opened from the new-ticket form.
    pub suggestions_opened: i64,
    /// Of those (older than the window), how many were not followed by a ticket from the same
    /// user within 30 minutes.
    pub tickets_avoided: i64,
}

/// Counts suggestions opened and tickets avoided.
pub async fn deflection(db: &Db, scope: &TenantScope) -> DbResult<Deflection> {
    let r = sqlx::query(
        "SELECT CAST(COUNT(*) AS BIGINT) AS opened, CAST(COALESCE(SUM(CASE WHEN d.opened_at < $2 AND NOT EXISTS \
         (SELECT 1 FROM tickets t WHERE t.tenant_id = d.tenant_id AND t.requester_id = d.user_id \
         AND t.created_at >= d.opened_at AND t.created_at <= d.opened_at + $3) THEN 1 ELSE 0 END), 0) AS BIGINT) AS avoided \
         FROM kb_deflections d WHERE d.tenant_id = $1",
    )
    .bind(scope.tenant_id().as_str())
    .bind(now_ms() - super::DEFLECTION_WINDOW_MS)
    .bind(super::DEFLECTION_WINDOW_MS)
    .fetch_one(db.tenant(scope).reader())
    .await?;
    Ok(Deflection {
        suggestions_opened: r.try_get("opened")?,
        tickets_avoided: r.try_get("avoided")?,
    })
}
