//! Knowledge-base pages (portal, also for anonymous readers of public articles; staff) and
//! the JSON API (`/api/v1/kb…`, `/api/v1/admin/kb…`).

use std::sync::Arc;

use aide::axum::routing::{get_with, post_with};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::store::{self, Article, ArticleSummary, Deflection, Hit};
use super::{ArticleInput, Reader, Visibility};
use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::auth::{Actor, Permission, PortalUser, Principal, StaffUser};
use crate::error::{AppError, AppResult};
use crate::http::context::{Ctx, RequestContext};
use crate::http::{ApiRouter, PageRouter};
use crate::tenancy::TenantScope;
use crate::web::{FormErrors, PageCtx, form_outcome, render, render_form};

const PAGE_SIZE: i64 = 30;

/// Portal and staff pages.
pub fn pages() -> PageRouter {
    PageRouter::default()
        .route("/portal/kb", get(portal_list))
        .route("/portal/kb/{slug}", get(portal_article))
        .route("/portal/kb/{slug}/vote", post(portal_vote))
        .route("/admin/kb", get(admin_list).post(admin_create))
        .route("/admin/kb/new", get(admin_new))
        .route("/admin/kb/images", post(admin_image))
        .route("/admin/kb/{id}", get(admin_edit).post(admin_update))
        .route("/admin/kb/{id}/delete", post(admin_delete))
}

/// JSON API.
pub fn api() -> ApiRouter {
    ApiRouter::default()
        .route(
            "/api/v1/kb/articles",
            get_with(api_list, |op| {
                op.with(optional_session).id("listKbArticles").tag("kb").summary("List or search knowledge-base articles")
                    .description("Without a session only public articles are listed. `q` runs a ranked full-text search (every word a prefix) and fills `snippet_html` (escaped HTML with `<mark>` around matches); otherwise articles are listed by title, optionally in one `category`, with keyset `cursor`.")
            }),
        )
        .route(
            "/api/v1/kb/categories",
            get_with(api_categories, |op| {
                op.with(optional_session).id("listKbCategories").tag("kb").summary("Categories with their article counts")
            }),
        )
        .route(
            "/api/v1/kb/suggest",
            get_with(api_suggest, |op| {
                op.id("suggestKbArticles").tag("kb").summary("Up to five articles matching a new ticket's subject")
            }),
        )
        .route(
            "/api/v1/kb/articles/{slug}",
            get_with(api_get, |op| {
                op.with(optional_session).id("getKbArticle").tag("kb").summary("One article with its rendered body")
                    .description("Public articles need no session; others answer 401 without one and 404 when the reader may not see them.")
            }),
        )
        .route(
            "/api/v1/kb/articles/{slug}/vote",
            post_with(api_vote, |op| {
                op.id("voteKbArticle").tag("kb").summary("Mark an article helpful or not (one vote per user; a new vote replaces the old)")
            }),
        )
        .route(
            "/api/v1/admin/kb/articles",
            get_with(api_admin_list, |op| {
                op.id("adminListKbArticles").tag("kb").summary("All articles, drafts included, with vote counts")
            })
            .post_with(api_admin_create, |op| {
                op.id("adminCreateKbArticle").tag("kb").summary("Write an article")
                    .response_with::<201, Json<ArticleView>, _>(|r| r.description("Created."))
            }),
        )
        .route(
            "/api/v1/admin/kb/stats",
            get_with(api_admin_stats, |op| {
                op.id("adminKbStats").tag("kb").summary("Deflection: suggestions opened and tickets avoided")
            }),
        )
        .route(
            "/api/v1/admin/kb/articles/{id}",
            get_with(api_admin_get, |op| op.id("adminGetKbArticle").tag("kb").summary("One article"))
                .put_with(api_admin_update, |op| {
                    op.id("adminUpdateKbArticle").tag("kb").summary("Replace an article's fields")
                })
                .delete_with(api_admin_delete, |op| {
                    op.id("adminDeleteKbArticle").tag("kb").summary("Delete an article")
                        .response_with::<204, (), _>(|r| r.description("Deleted."))
                }),
        )
}

/// Documents a route that answers with or without a portal session (public articles).
fn optional_session(
    mut op: aide::transform::TransformOperation<'_>,
) -> aide::transform::TransformOperation<'_> {
    let mut session = aide::openapi::SecurityRequirement::default();
    session.insert("portalSession".into(), Vec::new());
    op.inner_mut().security.push(session);
    op.inner_mut().security.push(Default::default());
    op
}

// ---- one-transaction actions ----

async fn check_companies(tx: &mut crate::db::TenantTx, a: &ArticleInput) -> AppResult<()> {
    if store::known_companies(tx, &a.companies).await? != a.companies.len() {
        return Err(AppError::field(
            "companies",
            crate::i18n::k("kb-error-companies"),
        ));
    }
    Ok(())
}

/// Writes a new article with its audit row; returns its id.
pub async fn create(
    app: &AppState,
    actor: &Actor,
    ip: &str,
    a: &ArticleInput,
) -> AppResult<String> {
    let mut tx = app.db.tenant(actor.scope()).begin().await?;
    check_companies(&mut tx, a).await?;
    let base = super::slugify(&a.title);
    let mut slug = base.clone();
    let mut n = 2;
    while store::slug_taken(&mut tx, &slug, "").await? {
        slug = format!("{base}-{n}");
        n += 1;
    }
    let id = store::insert(&mut tx, a, &slug, actor.user_id().as_str()).await?;
    audit::append(
        &mut tx,
        Entry {
            ip: Some(ip),
            detail: json!({ "name": a.title, "slug": slug, "visibility": a.visibility.as_str(), "published": a.published }),
            ..Entry::new("kb.article_created").by(actor).target("kb_article", &id)
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

async fn update(
    app: &AppState,
    actor: &Actor,
    ip: &str,
    id: &str,
    a: &ArticleInput,
) -> AppResult<()> {
    let old = find_staff(app, actor.scope(), id).await?;
    let mut tx = app.db.tenant(actor.scope()).begin().await?;
    check_companies(&mut tx, a).await?;
    store::update(&mut tx, &old.summary.id, a).await?;
    audit::append(
        &mut tx,
        Entry {
            ip: Some(ip),
            detail: json!({ "name": a.title, "visibility": a.visibility.as_str(), "published": a.published,
                "was_published": old.summary.status == "published" }),
            ..Entry::new("kb.article_updated").by(actor).target("kb_article", &old.summary.id)
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn delete(app: &AppState, actor: &Actor, ip: &str, id: &str) -> AppResult<()> {
    let old = find_staff(app, actor.scope(), id).await?;
    let mut tx = app.db.tenant(actor.scope()).begin().await?;
    store::delete(&mut tx, &old.summary.id).await?;
    audit::append(
        &mut tx,
        Entry {
            ip: Some(ip),
            detail: json!({ "name": old.summary.title }),
            ..Entry::new("kb.article_deleted")
                .by(actor)
                .target("kb_article", &old.summary.id)
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn vote(app: &AppState, p: &Principal, slug: &str, helpful: bool) -> AppResult<Article> {
    let a = readable(app, p.scope(), Some(p), slug).await?;
    let mut tx = app.db.tenant(&p.scope()).begin().await?;
    store::vote(&mut tx, &a.summary.id, p.user_id.as_str(), helpful).await?;
    tx.commit().await?;
    readable(app, p.scope(), Some(p), slug).await
}

async fn find_staff(app: &AppState, scope: &TenantScope, id: &str) -> AppResult<Article> {
    store::get(&app.db, scope, &Reader::Staff, id)
        .await?
        .filter(|a| a.summary.id == id)
        .ok_or(AppError::NotFound)
}

/// The article as this reader may see it: 404 when hidden from a signed-in reader, 401 for
/// an anonymous one (it may exist for readers who sign in; which is not said).
async fn readable(
    app: &AppState,
    scope: TenantScope,
    p: Option<&Principal>,
    slug: &str,
) -> AppResult<Article> {
    let reader = Reader::of(p);
    match store::get(&app.db, &scope, &reader, slug).await? {
        Some(a) => Ok(a),
        None if matches!(reader, Reader::Anonymous) && p.is_none() => Err(AppError::Unauthorized),
        None => Err(AppError::NotFound),
    }
}

/// The tenant and reader of a request that may come without a session.
fn reader_ctx(ctx: &RequestContext) -> AppResult<(TenantScope, Option<Arc<Principal>>)> {
    // Without a known tenant nothing is public: signing in names the tenant.
    let tenant = ctx.tenant.as_ref().ok_or(AppError::Unauthorized)?;
    let p = ctx
        .principal
        .clone()
        .filter(|p| p.audience == crate::auth::Audience::Portal && p.can(Permission::PortalAccess));
    Ok((tenant.scope(), p))
}

// ---- portal pages ----

#[derive(Deserialize, Default, schemars::JsonSchema)]
struct ListQuery {
    /// Search words.
    q: Option<String>,
    /// Only this category.
    category: Option<String>,
    /// Keyset cursor from `next_cursor`.
    cursor: Option<String>,
    /// Page size (at most 100).
    limit: Option<i64>,
}

fn split_cursor(c: &str) -> Option<(&str, &str)> {
    c.split_once('\u{1f}')
}

async fn search_or_list(
    app: &AppState,
    scope: &TenantScope,
    reader: &Reader,
    q: &ListQuery,
    limit: i64,
) -> AppResult<(Vec<Hit>, Option<String>)> {
    let text = q.q.as_deref().unwrap_or("").trim();
    if !text.is_empty() {
        let terms = super::terms(text, 1);
        let mut hits = store::search(&app.db, scope, reader, &terms, true, limit).await?;
        if hits.is_empty() && terms.len() > 1 {
            // No article has every word: show those with any of them, best first.
            hits =
                store::search(&app.db, scope, reader, &super::terms(text, 3), false, limit).await?;
        }
        return Ok((hits, None));
    }
    let cat = q.category.as_deref().filter(|c| !c.is_empty());
    let items = store::list(
        &app.db,
        scope,
        reader,
        cat,
        q.cursor.as_deref().and_then(split_cursor),
        limit,
    )
    .await?;
    let next = (items.len() as i64 == limit)
        .then(|| items.last().map(|a| format!("{}\u{1f}{}", a.title, a.id)))
        .flatten();
    Ok((
        items
            .into_iter()
            .map(|a| Hit {
                article: a,
                snippet_html: String::new(),
            })
            .collect(),
        next,
    ))
}

#[derive(askama::Template)]
#[template(path = "kb/templates/portal_list.html")]
struct PortalList {
    page: PageCtx,
    q: String,
    category: String,
    categories: Vec<(String, i64)>,
    items: Vec<Hit>,
    next_cursor: Option<String>,
    searched: bool,
    signed_in: bool,
}

async fn portal_list(
    State(app): State<AppState>,
    Ctx(ctx): Ctx,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    let (scope, p) = reader_ctx(&ctx)?;
    let reader = Reader::of(p.as_deref());
    let categories = store::categories(&app.db, &scope, &reader).await?;
    let (items, next_cursor) = search_or_list(&app, &scope, &reader, &q, PAGE_SIZE).await?;
    render(&PortalList {
        page: PageCtx::new(&ctx),
        searched: q.q.as_deref().is_some_and(|s| !s.trim().is_empty()),
        q: q.q.clone().unwrap_or_default(),
        category: q.category.clone().unwrap_or_default(),
        categories,
        items,
        next_cursor,
        signed_in: p.is_some(),
    })
}

#[derive(askama::Template)]
#[template(path = "kb/templates/portal_article.html")]
struct PortalArticle {
    page: PageCtx,
    a: ArticleSummary,
    body_html: String,
    my_vote: Option<bool>,
    signed_in: bool,
    voted: bool,
}

#[derive(Deserialize, Default)]
struct ArticleQuery {
    from: Option<String>,
    voted: Option<String>,
}

async fn portal_article(
    State(app): State<AppState>,
    Ctx(ctx): Ctx,
    Path(slug): Path<String>,
    Query(q): Query<ArticleQuery>,
) -> AppResult<Response> {
    let (scope, p) = reader_ctx(&ctx)?;
    let a = readable(&app, scope.clone(), p.as_deref(), &slug).await?;
    let mut my_vote = None;
    if let Some(p) = &p {
        if q.from.as_deref() == Some("suggest") {
            // Opened from the new-ticket form's suggestions: a ticket possibly avoided.
            let mut tx = app.db.tenant(&scope).begin().await?;
            store::record_opened(&mut tx, &a.summary.id, p.user_id.as_str()).await?;
            tx.commit().await?;
        }
        my_vote = store::my_vote(&app.db, &scope, &a.summary.id, p.user_id.as_str()).await?;
    }
    let remote = crate::branding::remote_images_allowed(&app.db, &scope).await?;
    render(&PortalArticle {
        page: PageCtx::new(&ctx),
        body_html: super::render(&a.body, remote),
        a: a.summary,
        my_vote,
        signed_in: p.is_some(),
        voted: q.voted.is_some(),
    })
}

#[derive(Deserialize)]
struct VoteForm {
    #[serde(default)]
    helpful: String,
}

async fn portal_vote(
    State(app): State<AppState>,
    user: PortalUser,
    Path(slug): Path<String>,
    axum::Form(f): axum::Form<VoteForm>,
) -> AppResult<Response> {
    let a = vote(&app, &user, &slug, f.helpful == "yes").await?;
    Ok(Redirect::to(&format!("/portal/kb/{}?voted=1#vote", a.summary.slug)).into_response())
}

// ---- staff pages ----

#[derive(askama::Template)]
#[template(path = "kb/templates/admin_list.html")]
struct AdminList {
    page: PageCtx,
    items: Vec<Hit>,
    q: String,
    next_cursor: Option<String>,
    stats: Deflection,
    notice: Option<&'static str>,
    /// An image just uploaded: its served path, to paste into an article.
    image: Option<String>,
    /// Why the last image upload was refused.
    errors: FormErrors,
}

#[derive(Deserialize, Default)]
struct AdminQuery {
    q: Option<String>,
    cursor: Option<String>,
    notice: Option<String>,
    image: Option<String>,
}

async fn admin_list(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Query(q): Query<AdminQuery>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageKnowledgeBase)?;
    admin_list_view(&app, &ctx, &staff, &actor, q, None).await
}

/// Uploads a picture for articles (multipart: `_csrf` first, then `image`) into the tenant's
/// assets and shows the Markdown that places it.
async fn admin_image(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    req: axum::extract::Request,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageKnowledgeBase)?;
    match crate::branding::assets::upload_image(&app, &actor, &staff.tenant, &ctx.ip, req).await {
        Ok(path) => Ok(Redirect::to(&format!(
            "/admin/kb?image={}",
            url::form_urlencoded::byte_serialize(path.as_bytes()).collect::<String>()
        ))
        .into_response()),
        Err(e @ AppError::Validation { .. }) => {
            let mut r =
                admin_list_view(&app, &ctx, &staff, &actor, AdminQuery::default(), Some(&e))
                    .await?;
            *r.status_mut() = e.status();
            Ok(r)
        }
        Err(e) => Err(e),
    }
}

async fn admin_list_view(
    app: &AppState,
    ctx: &RequestContext,
    staff: &StaffUser,
    actor: &Actor,
    q: AdminQuery,
    error: Option<&AppError>,
) -> AppResult<Response> {
    // Only a path of this tenant's own assets is echoed back, never text from the address bar.
    let image = q.image.as_deref().and_then(|p| {
        crate::branding::assets::parse_path(&staff.tenant.slug, p)
            .filter(|name| crate::branding::assets::valid_name(name))
            .map(|name| crate::branding::assets::path(&staff.tenant.slug, name))
    });
    let lq = ListQuery {
        q: q.q.clone(),
        cursor: q.cursor.clone(),
        ..Default::default()
    };
    let (items, next_cursor) =
        search_or_list(app, actor.scope(), &Reader::Staff, &lq, PAGE_SIZE).await?;
    render(&AdminList {
        page: PageCtx::new(ctx),
        items,
        q: q.q.unwrap_or_default(),
        next_cursor,
        stats: store::deflection(&app.db, actor.scope()).await?,
        notice: match q.notice.as_deref() {
            Some("saved") => Some("kb-notice-saved"),
            Some("deleted") => Some("kb-notice-deleted"),
            _ => None,
        },
        image,
        errors: error.map(FormErrors::from).unwrap_or_default(),
    })
}

/// The article form's values as typed.
#[derive(Clone, Debug, Default)]
struct FormValues {
    title: String,
    category: String,
    tags: String,
    body: String,
    visibility: String,
    companies: Vec<String>,
    status: String,
}

impl FormValues {
    fn from_pairs(pairs: Vec<(String, String)>) -> FormValues {
        let mut f = FormValues::default();
        for (k, v) in pairs {
            match k.as_str() {
                "title" => f.title = v,
                "category" => f.category = v,
                "tags" => f.tags = v,
                "body" => f.body = v,
                "visibility" => f.visibility = v,
                "companies" => f.companies.push(v),
                "status" => f.status = v,
                _ => {}
            }
        }
        f
    }

    fn check(&self) -> AppResult<ArticleInput> {
        super::check_article(
            &self.title,
            &self.category,
            &self.tags,
            &self.body,
            &self.visibility,
            self.companies.clone(),
            &self.status,
        )
    }

    fn chosen(&self, company: &str) -> bool {
        self.companies.iter().any(|c| c == company)
    }
}

#[derive(askama::Template)]
#[template(path = "kb/templates/admin_edit.html")]
struct AdminEdit {
    page: PageCtx,
    id: Option<String>,
    slug: String,
    f: FormValues,
    errors: FormErrors,
    companies: Vec<crate::companies::Company>,
    categories: Vec<(String, i64)>,
    counts: (i64, i64),
}

async fn edit_view(
    app: &AppState,
    ctx: &RequestContext,
    actor: &Actor,
    id: Option<&Article>,
    f: FormValues,
    error: Option<&AppError>,
) -> AppResult<Response> {
    let companies = crate::companies::list(&app.db, actor.scope(), None, 500).await?;
    let categories = store::categories(&app.db, actor.scope(), &Reader::Staff).await?;
    render_form(
        &AdminEdit {
            page: PageCtx::new(ctx),
            id: id.map(|a| a.summary.id.clone()),
            slug: id.map(|a| a.summary.slug.clone()).unwrap_or_default(),
            counts: id
                .map(|a| (a.summary.helpful, a.summary.not_helpful))
                .unwrap_or((0, 0)),
            f,
            errors: error.map(FormErrors::from).unwrap_or_default(),
            companies,
            categories,
        },
        error,
    )
}

async fn admin_new(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageKnowledgeBase)?;
    let f = FormValues {
        visibility: "clients".into(),
        status: "draft".into(),
        ..Default::default()
    };
    edit_view(&app, &ctx, &actor, None, f, None).await
}

async fn admin_create(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageKnowledgeBase)?;
    let f = FormValues::from_pairs(pairs);
    let result = match f.check() {
        Ok(a) => create(&app, &actor, &ctx.ip, &a).await,
        Err(e) => Err(e),
    };
    form_outcome(result, "/admin/kb?notice=saved", |e| async move {
        edit_view(&app, &ctx, &actor, None, f, Some(&e)).await
    })
    .await
}

async fn admin_edit(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageKnowledgeBase)?;
    let a = find_staff(&app, actor.scope(), &id).await?;
    let f = FormValues {
        title: a.summary.title.clone(),
        category: a.summary.category.clone(),
        tags: a.summary.tags.clone(),
        body: a.body.clone(),
        visibility: a.summary.visibility.as_str().into(),
        companies: a.companies.clone(),
        status: a.summary.status.clone(),
    };
    edit_view(&app, &ctx, &actor, Some(&a), f, None).await
}

async fn admin_update(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageKnowledgeBase)?;
    let a = find_staff(&app, actor.scope(), &id).await?;
    let f = FormValues::from_pairs(pairs);
    let result = match f.check() {
        Ok(input) => update(&app, &actor, &ctx.ip, &id, &input).await,
        Err(e) => Err(e),
    };
    form_outcome(result, "/admin/kb?notice=saved", |e| async move {
        edit_view(&app, &ctx, &actor, Some(&a), f, Some(&e)).await
    })
    .await
}

async fn admin_delete(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageKnowledgeBase)?;
    delete(&app, &actor, &ctx.ip, &id).await?;
    Ok(Redirect::to("/admin/kb?notice=deleted").into_response())
}

// ---- JSON API ----

/// A page of articles (search results carry a snippet).
#[derive(Serialize, schemars::JsonSchema)]
struct ArticlePage {
    items: Vec<Hit>,
    next_cursor: Option<String>,
}

/// An article with its body rendered as sanitised HTML.
#[derive(Serialize, schemars::JsonSchema)]
struct ArticleView {
    #[serde(flatten)]
    article: Article,
    /// The Markdown body rendered and sanitised.
    body_html: String,
    /// The reader's own vote (`true`: helpful), when signed in and voted.
    my_vote: Option<bool>,
}

async fn view(
    app: &AppState,
    scope: &TenantScope,
    a: Article,
    user: Option<&str>,
) -> AppResult<ArticleView> {
    let remote = crate::branding::remote_images_allowed(&app.db, scope).await?;
    let my_vote = match user {
        Some(u) => store::my_vote(&app.db, scope, &a.summary.id, u).await?,
        None => None,
    };
    Ok(ArticleView {
        body_html: super::render(&a.body, remote),
        my_vote,
        article: a,
    })
}

/// What clients see of an article: the chosen companies are staff's business.
fn for_client(mut a: Article) -> Article {
    a.companies.clear();
    a
}

async fn api_list(
    State(app): State<AppState>,
    Ctx(ctx): Ctx,
    Query(q): Query<ListQuery>,
) -> AppResult<Json<ArticlePage>> {
    let (scope, p) = reader_ctx(&ctx)?;
    let reader = Reader::of(p.as_deref());
    let limit = q.limit.unwrap_or(PAGE_SIZE).clamp(1, 100);
    let (items, next_cursor) = search_or_list(&app, &scope, &reader, &q, limit).await?;
    Ok(Json(ArticlePage { items, next_cursor }))
}

/// A category and how many articles the reader has in it.
#[derive(Serialize, schemars::JsonSchema)]
struct Category {
    name: String,
    articles: i64,
}

async fn api_categories(
    State(app): State<AppState>,
    Ctx(ctx): Ctx,
) -> AppResult<Json<Vec<Category>>> {
    let (scope, p) = reader_ctx(&ctx)?;
    let cats = store::categories(&app.db, &scope, &Reader::of(p.as_deref())).await?;
    Ok(Json(
        cats.into_iter()
            .map(|(name, articles)| Category { name, articles })
            .collect(),
    ))
}

#[derive(Deserialize, schemars::JsonSchema)]
struct SuggestQuery {
    /// The subject typed so far.
    q: Option<String>,
}

/// Suggested articles, best first.
#[derive(Serialize, schemars::JsonSchema)]
struct Suggestions {
    items: Vec<Hit>,
    /// The heading to show above them, in the reader's language.
    heading: String,
}

async fn api_suggest(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Query(q): Query<SuggestQuery>,
) -> AppResult<Json<Suggestions>> {
    let reader = Reader::of(Some(&user));
    let terms = super::terms(q.q.as_deref().unwrap_or(""), 3);
    let items = store::search(
        &app.db,
        &user.scope(),
        &reader,
        &terms,
        false,
        super::MAX_SUGGESTIONS,
    )
    .await?;
    let heading = crate::i18n::Translator::new(ctx.locale).get("kb-suggest-heading");
    Ok(Json(Suggestions { items, heading }))
}

#[derive(Deserialize, schemars::JsonSchema)]
struct SlugPath {
    slug: String,
}

async fn api_get(
    State(app): State<AppState>,
    Ctx(ctx): Ctx,
    Path(SlugPath { slug }): Path<SlugPath>,
) -> AppResult<Json<ArticleView>> {
    let (scope, p) = reader_ctx(&ctx)?;
    let a = readable(&app, scope.clone(), p.as_deref(), &slug).await?;
    let user = p.as_ref().map(|p| p.user_id.as_str().to_string());
    Ok(Json(
        view(&app, &scope, for_client(a), user.as_deref()).await?,
    ))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct VoteBody {
    /// `true`: helpful; `false`: not helpful.
    helpful: bool,
}

async fn api_vote(
    State(app): State<AppState>,
    user: PortalUser,
    Path(SlugPath { slug }): Path<SlugPath>,
    Json(b): Json<VoteBody>,
) -> AppResult<Json<ArticleView>> {
    let a = vote(&app, &user, &slug, b.helpful).await?;
    Ok(Json(
        view(
            &app,
            &user.scope(),
            for_client(a),
            Some(user.user_id.as_str()),
        )
        .await?,
    ))
}

async fn api_admin_list(
    State(app): State<AppState>,
    staff: StaffUser,
    Query(q): Query<ListQuery>,
) -> AppResult<Json<ArticlePage>> {
    let actor = staff.require(Permission::ManageKnowledgeBase)?;
    let limit = q.limit.unwrap_or(PAGE_SIZE).clamp(1, 100);
    let (items, next_cursor) =
        search_or_list(&app, actor.scope(), &Reader::Staff, &q, limit).await?;
    Ok(Json(ArticlePage { items, next_cursor }))
}

async fn api_admin_stats(
    State(app): State<AppState>,
    staff: StaffUser,
) -> AppResult<Json<Deflection>> {
    let actor = staff.require(Permission::ManageKnowledgeBase)?;
    Ok(Json(store::deflection(&app.db, actor.scope()).await?))
}

/// An article as staff write it.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct ArticleBody {
    title: String,
    category: String,
    #[serde(default)]
    tags: Vec<String>,
    /// Markdown.
    body: String,
    visibility: Visibility,
    /// Company ids (visibility `companies`).
    #[serde(default)]
    companies: Vec<String>,
    /// `draft` (default) or `published`.
    #[serde(default)]
    status: Option<String>,
}

impl ArticleBody {
    fn check(&self) -> AppResult<ArticleInput> {
        super::check_article(
            &self.title,
            &self.category,
            &self.tags.join(","),
            &self.body,
            self.visibility.as_str(),
            self.companies.clone(),
            self.status.as_deref().unwrap_or("draft"),
        )
    }
}

async fn api_admin_create(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Json(b): Json<ArticleBody>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageKnowledgeBase)?;
    let id = create(&app, &actor, &ctx.ip, &b.check()?).await?;
    let a = find_staff(&app, actor.scope(), &id).await?;
    Ok((
        StatusCode::CREATED,
        Json(view(&app, actor.scope(), a, None).await?),
    )
        .into_response())
}

#[derive(Deserialize, schemars::JsonSchema)]
struct IdPath {
    id: String,
}

async fn api_admin_get(
    State(app): State<AppState>,
    staff: StaffUser,
    Path(IdPath { id }): Path<IdPath>,
) -> AppResult<Json<ArticleView>> {
    let actor = staff.require(Permission::ManageKnowledgeBase)?;
    let a = find_staff(&app, actor.scope(), &id).await?;
    Ok(Json(view(&app, actor.scope(), a, None).await?))
}

async fn api_admin_update(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(IdPath { id }): Path<IdPath>,
    Json(b): Json<ArticleBody>,
) -> AppResult<Json<ArticleView>> {
    let actor = staff.require(Permission::ManageKnowledgeBase)?;
    find_staff(&app, actor.scope(), &id).await?;
    update(&app, &actor, &ctx.ip, &id, &b.check()?).await?;
    let a = find_staff(&app, actor.scope(), &id).await?;
    Ok(Json(view(&app, actor.scope(), a, None).await?))
}

async fn api_admin_delete(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(IdPath { id }): Path<IdPath>,
) -> AppResult<StatusCode> {
    let actor = staff.require(Permission::ManageKnowledgeBase)?;
    delete(&app, &actor, &ctx.ip, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The newest articles a client may read, for the dashboard.
pub async fn newest_for(
    app: &AppState,
    p: &Principal,
    limit: i64,
) -> AppResult<Vec<ArticleSummary>> {
    Ok(store::newest(&app.db, &p.scope(), &Reader::of(Some(p)), limit).await?)
}
