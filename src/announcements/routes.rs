//! Announcement pages (portal list and detail, staff list and form) and the JSON API
//! (`/api/v1/announcements…`, `/api/v1/admin/announcements…`).

use aide::axum::routing::{get_with, post_with};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{Announcement, ClientView, Cursor, Input};
use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::auth::{Actor, Permission, PortalUser, Principal, StaffUser};
use crate::db::now_ms;
use crate::error::{AppError, AppResult};
use crate::http::context::{Ctx, RequestContext};
use crate::http::{ApiRouter, PageRouter};
use crate::web::{FormErrors, PageCtx, form_outcome, render, render_form};

const PAGE_SIZE: i64 = 20;

/// Pages.
pub fn pages() -> PageRouter {
    PageRouter::default()
        .route("/portal/announcements", get(portal_list))
        .route("/portal/announcements/read-all", post(portal_read_all))
        .route("/portal/announcements/{id}", get(portal_detail))
        .route("/admin/announcements", get(admin_list).post(admin_create))
        .route("/admin/announcements/new", get(admin_new))
        .route(
            "/admin/announcements/{id}",
            get(admin_edit).post(admin_update),
        )
        .route("/admin/announcements/{id}/delete", post(admin_delete))
}

/// JSON API.
pub fn api() -> ApiRouter {
    ApiRouter::default()
        .route(
            "/api/v1/announcements",
            get_with(api_list, |op| {
                op.id("listAnnouncements").tag("announcements").summary("Live announcements for my company, pinned first, then newest")
            }),
        )
        .route(
            "/api/v1/announcements/unread",
            get_with(api_unread, |op| {
                op.id("unreadAnnouncements").tag("announcements").summary("How many announcements I have not read, and the critical ones")
            }),
        )
        .route(
            "/api/v1/announcements/read-all",
            post_with(api_read_all, |op| {
                op.id("readAllAnnouncements").tag("announcements").summary("Mark every live announcement read")
            }),
        )
        .route(
            "/api/v1/announcements/{id}",
            get_with(api_get, |op| {
                op.id("getAnnouncement").tag("announcements").summary("One announcement (opening it marks it read)")
            }),
        )
        .route(
            "/api/v1/announcements/{id}/read",
            post_with(api_read, |op| {
                op.id("readAnnouncement").tag("announcements").summary("Mark one announcement read (e.g. a dismissed banner)")
            }),
        )
        .route(
            "/api/v1/admin/announcements",
            get_with(api_admin_list, |op| {
                op.id("adminListAnnouncements").tag("announcements").summary("Every announcement with its state and read count")
            })
            .post_with(api_admin_create, |op| {
                op.id("adminCreateAnnouncement").tag("announcements").summary("Publish or schedule an announcement")
                    .description("`publish_at` (Unix ms) in the future schedules it; absent publishes now. Live delivery (event stream, email per preferences) happens at publication.")
                    .response_with::<201, Json<AdminItem>, _>(|r| r.description("Created."))
            }),
        )
        .route(
            "/api/v1/admin/announcements/{id}",
            get_with(api_admin_get, |op| op.id("adminGetAnnouncement").tag("announcements").summary("One announcement"))
                .put_with(api_admin_update, |op| {
                    op.id("adminUpdateAnnouncement").tag("announcements").summary("Replace an announcement's fields")
                })
                .delete_with(api_admin_delete, |op| {
                    op.id("adminDeleteAnnouncement").tag("announcements").summary("Delete an announcement")
                        .response_with::<204, (), _>(|r| r.description("Deleted."))
                }),
        )
}

fn client_of(p: &Principal) -> AppResult<ClientView<'_>> {
    p.require(Permission::PortalAccess)?;
    Ok(ClientView {
        company_id: p
            .company_id
            .as_ref()
            .map(|c| c.as_str())
            .ok_or(AppError::NotFound)?,
        user_id: p.user_id.as_str(),
    })
}

fn parse_cursor(c: Option<&str>) -> Option<Cursor> {
    let mut parts = c?.splitn(3, ':');
    let p = parts.next()?.parse().ok()?;
    let t = parts.next()?.parse().ok()?;
    Some((p, t, parts.next()?.to_string()))
}

fn next_cursor(items: &[Announcement], limit: i64) -> Option<String> {
    (items.len() as i64 == limit)
        .then(|| {
            items
                .last()
                .map(|a| format!("{}:{}:{}", i64::from(a.pinned), a.publish_at, a.id))
        })
        .flatten()
}

async fn open(app: &AppState, p: &Principal, id: &str) -> AppResult<Announcement> {
    let v = client_of(p)?;
    let scope = p.scope();
    let a = super::get_for(&app.db, &scope, &v, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !a.read {
        let mut tx = app.db.tenant(&scope).begin().await?;
        super::mark_read(&mut tx, &a.id, v.user_id).await?;
        tx.commit().await?;
    }
    Ok(a)
}

// ---- portal pages ----

#[derive(Deserialize, Default, schemars::JsonSchema)]
struct ListQuery {
    /// Keyset cursor from `next_cursor`.
    cursor: Option<String>,
    /// Page size (at most 100).
    limit: Option<i64>,
}

#[derive(askama::Template)]
#[template(path = "announcements/templates/portal_list.html")]
struct PortalList {
    page: PageCtx,
    items: Vec<Announcement>,
    next_cursor: Option<String>,
    unread: i64,
}

async fn portal_list(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    let v = client_of(&user)?;
    let scope = user.scope();
    let items = super::list_for(
        &app.db,
        &scope,
        &v,
        parse_cursor(q.cursor.as_deref()).as_ref(),
        PAGE_SIZE,
    )
    .await?;
    let (unread, _) = super::unread(&app.db, &scope, &v).await?;
    render(&PortalList {
        page: PageCtx::new(&ctx),
        next_cursor: next_cursor(&items, PAGE_SIZE),
        items,
        unread,
    })
}

#[derive(askama::Template)]
#[template(path = "announcements/templates/portal_detail.html")]
struct PortalDetail {
    page: PageCtx,
    a: Announcement,
}

async fn portal_detail(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let a = open(&app, &user, &id).await?;
    render(&PortalDetail {
        page: PageCtx::new(&ctx),
        a,
    })
}

async fn portal_read_all(State(app): State<AppState>, user: PortalUser) -> AppResult<Response> {
    read_all(&app, &user).await?;
    Ok(Redirect::to("/portal/announcements").into_response())
}

async fn read_all(app: &AppState, p: &Principal) -> AppResult<u64> {
    let v = client_of(p)?;
    let mut tx = app.db.tenant(&p.scope()).begin().await?;
    let n = super::mark_all_read(&mut tx, &v).await?;
    tx.commit().await?;
    Ok(n)
}

// ---- staff ----

async fn create(app: &AppState, actor: &Actor, ip: &str, a: &Input) -> AppResult<String> {
    let mut tx = app.db.tenant(actor.scope()).begin().await?;
    let id = super::save(app, &mut tx, None, a, Some(actor.user_id().as_str())).await?;
    audit::append(
        &mut tx,
        Entry {
            ip: Some(ip),
            detail: json!({ "name": a.title, "severity": a.severity.as_str(), "companies": a.companies,
                "publish_at": a.publish_at, "expires_at": a.expires_at, "pinned": a.pinned }),
            ..Entry::new("announcement.created").by(actor).target("announcement", &id)
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

async fn update(app: &AppState, actor: &Actor, ip: &str, id: &str, a: &Input) -> AppResult<()> {
    let old = find(app, actor, id).await?;
    let mut tx = app.db.tenant(actor.scope()).begin().await?;
    super::save(app, &mut tx, Some(&old.id), a, None).await?;
    audit::append(
        &mut tx,
        Entry {
            ip: Some(ip),
            detail: json!({ "name": a.title, "severity": a.severity.as_str(), "companies": a.companies,
                "publish_at": a.publish_at, "expires_at": a.expires_at, "pinned": a.pinned }),
            ..Entry::new("announcement.updated").by(actor).target("announcement", &old.id)
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn delete(app: &AppState, actor: &Actor, ip: &str, id: &str) -> AppResult<()> {
    let old = find(app, actor, id).await?;
    let mut tx = app.db.tenant(actor.scope()).begin().await?;
    super::delete(&mut tx, &old.id).await?;
    audit::append(
        &mut tx,
        Entry {
            ip: Some(ip),
            detail: json!({ "name": old.title }),
            ..Entry::new("announcement.deleted")
                .by(actor)
                .target("announcement", &old.id)
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn find(app: &AppState, actor: &Actor, id: &str) -> AppResult<Announcement> {
    super::get(&app.db, actor.scope(), id)
        .await?
        .ok_or(AppError::NotFound)
}

#[derive(askama::Template)]
#[template(path = "announcements/templates/admin_list.html")]
struct AdminList {
    page: PageCtx,
    items: Vec<Announcement>,
    next_cursor: Option<String>,
    now: i64,
    notice: Option<&'static str>,
}

#[derive(Deserialize, Default)]
struct AdminQuery {
    cursor: Option<String>,
    notice: Option<String>,
}

fn staff_cursor(c: Option<&str>) -> Option<(i64, String)> {
    let (t, i) = c?.split_once(':')?;
    Some((t.parse().ok()?, i.to_string()))
}

async fn admin_list(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Query(q): Query<AdminQuery>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageAnnouncements)?;
    let items = super::list_all(
        &app.db,
        actor.scope(),
        staff_cursor(q.cursor.as_deref()),
        PAGE_SIZE,
    )
    .await?;
    let next = (items.len() as i64 == PAGE_SIZE)
        .then(|| items.last().map(|a| format!("{}:{}", a.publish_at, a.id)))
        .flatten();
    render(&AdminList {
        page: PageCtx::new(&ctx),
        items,
        next_cursor: next,
        now: now_ms(),
        notice: match q.notice.as_deref() {
            Some("saved") => Some("announcement-notice-saved"),
            Some("deleted") => Some("announcement-notice-deleted"),
            _ => None,
        },
    })
}

/// The form's values as typed.
#[derive(Clone, Debug, Default)]
struct FormValues {
    title: String,
    body: String,
    severity: String,
    audience: String,
    companies: Vec<String>,
    when: String,
    publish_at: String,
    expires_at: String,
    pinned: bool,
}

impl FormValues {
    fn from_pairs(pairs: Vec<(String, String)>) -> FormValues {
        let mut f = FormValues::default();
        for (k, v) in pairs {
            match k.as_str() {
                "title" => f.title = v,
                "body" => f.body = v,
                "severity" => f.severity = v,
                "audience" => f.audience = v,
                "companies" => f.companies.push(v),
                "when" => f.when = v,
                "publish_at" => f.publish_at = v,
                "expires_at" => f.expires_at = v,
                "pinned" => f.pinned = true,
                _ => {}
            }
        }
        f
    }

    fn check(&self, tz: chrono_tz::Tz) -> AppResult<Input> {
        let mut errors = Vec::new();
        let publish_at = if self.when == "later" {
            match local_ms(&self.publish_at, tz) {
                Some(ms) => Some(ms),
                None => {
                    errors.push(crate::error::FieldError {
                        field: "publish_at".into(),
                        message: crate::i18n::k("announcement-error-publish-at").into(),
                    });
                    None
                }
            }
        } else {
            None
        };
        let expires_at = if self.expires_at.trim().is_empty() {
            None
        } else {
            match local_ms(&self.expires_at, tz) {
                Some(ms) => Some(ms),
                None => {
                    errors.push(crate::error::FieldError {
                        field: "expires_at".into(),
                        message: crate::i18n::k("announcement-error-expiry").into(),
                    });
                    None
                }
            }
        };
        let checked = super::check(
            &self.title,
            &self.body,
            &self.severity,
            &self.audience,
            self.companies.clone(),
            publish_at,
            expires_at,
            self.pinned,
        );
        match checked {
            Ok(i) if errors.is_empty() => Ok(i),
            Ok(_) => Err(AppError::fields(errors)),
            Err(AppError::Validation { fields, .. }) => {
                errors.extend(fields);
                Err(AppError::fields(errors))
            }
            Err(e) => Err(e),
        }
    }

    fn chosen(&self, company: &str) -> bool {
        self.companies.iter().any(|c| c == company)
    }
}

/// A `datetime-local` value in the viewer's zone as Unix ms.
fn local_ms(s: &str, tz: chrono_tz::Tz) -> Option<i64> {
    use chrono::TimeZone;
    let naive = chrono::NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%dT%H:%M").ok()?;
    tz.from_local_datetime(&naive)
        .earliest()
        .map(|d| d.timestamp_millis())
}

/// Unix ms as a `datetime-local` value in the viewer's zone.
fn local_value(ms: i64, tz: chrono_tz::Tz) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|d| d.with_timezone(&tz).format("%Y-%m-%dT%H:%M").to_string())
        .unwrap_or_default()
}

#[derive(askama::Template)]
#[template(path = "announcements/templates/admin_edit.html")]
struct AdminEdit {
    page: PageCtx,
    id: Option<String>,
    f: FormValues,
    errors: FormErrors,
    companies: Vec<crate::companies::Company>,
}

async fn edit_view(
    app: &AppState,
    ctx: &RequestContext,
    actor: &Actor,
    id: Option<String>,
    f: FormValues,
    error: Option<&AppError>,
) -> AppResult<Response> {
    let companies = crate::companies::list(&app.db, actor.scope(), None, 500).await?;
    render_form(
        &AdminEdit {
            page: PageCtx::new(ctx),
            id,
            f,
            errors: error.map(FormErrors::from).unwrap_or_default(),
            companies,
        },
        error,
    )
}

async fn admin_new(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageAnnouncements)?;
    let f = FormValues {
        severity: "info".into(),
        audience: "all".into(),
        when: "now".into(),
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
    let actor = staff.require(Permission::ManageAnnouncements)?;
    let f = FormValues::from_pairs(pairs);
    let result = match f.check(ctx.tz) {
        Ok(a) => create(&app, &actor, &ctx.ip, &a).await,
        Err(e) => Err(e),
    };
    form_outcome(
        result,
        "/admin/announcements?notice=saved",
        |e| async move { edit_view(&app, &ctx, &actor, None, f, Some(&e)).await },
    )
    .await
}

async fn admin_edit(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageAnnouncements)?;
    let a = find(&app, &actor, &id).await?;
    let f = FormValues {
        title: a.title.clone(),
        body: a.body.clone(),
        severity: a.severity.as_str().into(),
        audience: a.audience.clone(),
        companies: a.companies.clone(),
        when: if a.publish_at > now_ms() {
            "later".into()
        } else {
            "now".into()
        },
        publish_at: local_value(a.publish_at, ctx.tz),
        expires_at: a
            .expires_at
            .map(|e| local_value(e, ctx.tz))
            .unwrap_or_default(),
        pinned: a.pinned,
    };
    edit_view(&app, &ctx, &actor, Some(a.id), f, None).await
}

async fn admin_update(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageAnnouncements)?;
    let a = find(&app, &actor, &id).await?;
    let mut f = FormValues::from_pairs(pairs);
    // Already live and "now" chosen again: keep the original publication time.
    if f.when != "later" && a.publish_at <= now_ms() {
        f.when = "later".into();
        f.publish_at = local_value(a.publish_at, ctx.tz);
    }
    let result = match f.check(ctx.tz) {
        Ok(input) => update(&app, &actor, &ctx.ip, &a.id, &input).await,
        Err(e) => Err(e),
    };
    form_outcome(
        result,
        "/admin/announcements?notice=saved",
        |e| async move { edit_view(&app, &ctx, &actor, Some(a.id), f, Some(&e)).await },
    )
    .await
}

async fn admin_delete(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageAnnouncements)?;
    delete(&app, &actor, &ctx.ip, &id).await?;
    Ok(Redirect::to("/admin/announcements?notice=deleted").into_response())
}

// ---- JSON API ----

/// An announcement as a client reads it.
#[derive(Serialize, schemars::JsonSchema)]
struct Item {
    id: String,
    title: String,
    /// Markdown source.
    body: String,
    /// Sanitised HTML.
    body_html: String,
    severity: super::Severity,
    publish_at: i64,
    expires_at: Option<i64>,
    pinned: bool,
    read: bool,
}

impl From<Announcement> for Item {
    fn from(a: Announcement) -> Item {
        Item {
            body_html: a.body_html(),
            id: a.id,
            title: a.title,
            body: a.body,
            severity: a.severity,
            publish_at: a.publish_at,
            expires_at: a.expires_at,
            pinned: a.pinned,
            read: a.read,
        }
    }
}

/// A page of announcements.
#[derive(Serialize, schemars::JsonSchema)]
struct ItemPage {
    items: Vec<Item>,
    next_cursor: Option<String>,
}

async fn api_list(
    State(app): State<AppState>,
    user: PortalUser,
    Query(q): Query<ListQuery>,
) -> AppResult<Json<ItemPage>> {
    let v = client_of(&user)?;
    let limit = q.limit.unwrap_or(PAGE_SIZE).clamp(1, 100);
    let items = super::list_for(
        &app.db,
        &user.scope(),
        &v,
        parse_cursor(q.cursor.as_deref()).as_ref(),
        limit,
    )
    .await?;
    let next_cursor = next_cursor(&items, limit);
    Ok(Json(ItemPage {
        items: items.into_iter().map(Item::from).collect(),
        next_cursor,
    }))
}

/// A critical unread announcement, for the banner.
#[derive(Serialize, schemars::JsonSchema)]
struct Banner {
    id: String,
    title: String,
}

/// Unread announcements: the count for the badge and the critical ones for the banner, with
/// the page's words in the reader's language.
#[derive(Serialize, schemars::JsonSchema)]
struct Unread {
    count: i64,
    critical: Vec<Banner>,
    /// "3 unread announcements" (badge label).
    label: String,
    /// The banner's "Read" link and "Dismiss" button labels.
    read_label: String,
    dismiss_label: String,
}

async fn api_unread(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
) -> AppResult<Json<Unread>> {
    let v = client_of(&user)?;
    let (count, critical) = super::unread(&app.db, &user.scope(), &v).await?;
    let t = crate::i18n::Translator::new(ctx.locale);
    Ok(Json(Unread {
        count,
        label: t.count("announcement-unread-label", count),
        read_label: t.get("announcement-banner-read"),
        dismiss_label: t.get("announcement-banner-dismiss"),
        critical: critical
            .into_iter()
            .map(|a| Banner {
                id: a.id,
                title: a.title,
            })
            .collect(),
    }))
}

/// How many announcements were marked read.
#[derive(Serialize, schemars::JsonSchema)]
struct Marked {
    marked: u64,
}

async fn api_read_all(State(app): State<AppState>, user: PortalUser) -> AppResult<Json<Marked>> {
    Ok(Json(Marked {
        marked: read_all(&app, &user).await?,
    }))
}

#[derive(Deserialize, schemars::JsonSchema)]
struct IdPath {
    id: String,
}

async fn api_get(
    State(app): State<AppState>,
    user: PortalUser,
    Path(IdPath { id }): Path<IdPath>,
) -> AppResult<Json<Item>> {
    let mut a = open(&app, &user, &id).await?;
    a.read = true;
    Ok(Json(a.into()))
}

async fn api_read(
    State(app): State<AppState>,
    user: PortalUser,
    Path(IdPath { id }): Path<IdPath>,
) -> AppResult<Json<Item>> {
    api_get(State(app), user, Path(IdPath { id })).await
}

/// An announcement as staff see it.
#[derive(Serialize, schemars::JsonSchema)]
struct AdminItem {
    #[serde(flatten)]
    announcement: Announcement,
    /// `scheduled`, `live` or `expired`.
    state: String,
}

impl From<Announcement> for AdminItem {
    fn from(a: Announcement) -> AdminItem {
        AdminItem {
            state: a.state(now_ms()).into(),
            announcement: a,
        }
    }
}

/// A page of announcements for staff.
#[derive(Serialize, schemars::JsonSchema)]
struct AdminPage {
    items: Vec<AdminItem>,
    next_cursor: Option<String>,
}

#[derive(Deserialize, schemars::JsonSchema)]
struct AdminListQuery {
    cursor: Option<String>,
    limit: Option<i64>,
}

async fn api_admin_list(
    State(app): State<AppState>,
    staff: StaffUser,
    Query(q): Query<AdminListQuery>,
) -> AppResult<Json<AdminPage>> {
    let actor = staff.require(Permission::ManageAnnouncements)?;
    let limit = q.limit.unwrap_or(PAGE_SIZE).clamp(1, 100);
    let items = super::list_all(
        &app.db,
        actor.scope(),
        staff_cursor(q.cursor.as_deref()),
        limit,
    )
    .await?;
    let next_cursor = (items.len() as i64 == limit)
        .then(|| items.last().map(|a| format!("{}:{}", a.publish_at, a.id)))
        .flatten();
    Ok(Json(AdminPage {
        items: items.into_iter().map(AdminItem::from).collect(),
        next_cursor,
    }))
}

/// An announcement as staff write it.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct Body {
    title: String,
    /// Markdown.
    body: String,
    severity: super::Severity,
    /// Company ids; empty or absent: every company.
    #[serde(default)]
    companies: Vec<String>,
    /// Unix ms; absent: now.
    #[serde(default)]
    publish_at: Option<i64>,
    /// Unix ms.
    #[serde(default)]
    expires_at: Option<i64>,
    #[serde(default)]
    pinned: bool,
}

impl Body {
    fn check(&self) -> AppResult<Input> {
        super::check(
            &self.title,
            &self.body,
            self.severity.as_str(),
            if self.companies.is_empty() {
                "all"
            } else {
                "companies"
            },
            self.companies.clone(),
            self.publish_at,
            self.expires_at,
            self.pinned,
        )
    }
}

async fn api_admin_create(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Json(b): Json<Body>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageAnnouncements)?;
    let id = create(&app, &actor, &ctx.ip, &b.check()?).await?;
    let a = find(&app, &actor, &id).await?;
    Ok((StatusCode::CREATED, Json(AdminItem::from(a))).into_response())
}

async fn api_admin_get(
    State(app): State<AppState>,
    staff: StaffUser,
    Path(IdPath { id }): Path<IdPath>,
) -> AppResult<Json<AdminItem>> {
    let actor = staff.require(Permission::ManageAnnouncements)?;
    Ok(Json(find(&app, &actor, &id).await?.into()))
}

async fn api_admin_update(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(IdPath { id }): Path<IdPath>,
    Json(b): Json<Body>,
) -> AppResult<Json<AdminItem>> {
    let actor = staff.require(Permission::ManageAnnouncements)?;
    find(&app, &actor, &id).await?;
    update(&app, &actor, &ctx.ip, &id, &b.check()?).await?;
    Ok(Json(find(&app, &actor, &id).await?.into()))
}

async fn api_admin_delete(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(IdPath { id }): Path<IdPath>,
) -> AppResult<StatusCode> {
    let actor = staff.require(Permission::ManageAnnouncements)?;
    delete(&app, &actor, &ctx.ip, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The announcements and articles section of a client's dashboard, rendered (empty when the
/// principal is no client of a company).
pub async fn dashboard_section(app: &AppState, p: &Principal, page: &PageCtx) -> AppResult<String> {
    let Some(company) = p.company_id.as_ref() else {
        return Ok(String::new());
    };
    let v = ClientView {
        company_id: company.as_str(),
        user_id: p.user_id.as_str(),
    };
    let items = super::list_for(&app.db, &p.scope(), &v, None, 3).await?;
    let (unread, _) = super::unread(&app.db, &p.scope(), &v).await?;
    let articles = crate::kb::routes::newest_for(app, p, 5).await?;
    use askama::Template;
    Ok(DashboardSection {
        page: page.clone(),
        items,
        unread,
        articles,
    }
    .render()?)
}

#[derive(askama::Template)]
#[template(path = "announcements/templates/_dashboard.html")]
struct DashboardSection {
    page: PageCtx,
    items: Vec<Announcement>,
    unread: i64,
    articles: Vec<crate::kb::store::ArticleSummary>,
}
