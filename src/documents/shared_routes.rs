//! Shared files on the web: the client's downloads (`/portal/documents/files/…`,
//! `/api/v1/documents/files…`) and the staff side (`/admin/documents/files…`,
//! `/api/v1/admin/documents/files…`). Every client route goes through
//! [`shared::visible`]; every staff route needs `ManageDocuments`.

use aide::axum::routing::{get_with, post_with};
use axum::Json;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};

use super::shared::{self, Audience, Cursor, FileVersion, SharedFile, Viewer};
use super::store::Choice;
use crate::app::AppState;
use crate::auth::{Actor, Permission, PortalUser, StaffUser};
use crate::error::{AppError, AppResult};
use crate::files::{ObjectKey, StoredFile};
use crate::http::context::{Ctx, RequestContext};
use crate::http::upload::{self, FormData, Limits};
use crate::http::{ApiRouter, PageRouter};
use crate::i18n::k;
use crate::web::{FormErrors, PageCtx, render};

/// Client and staff pages.
pub fn pages() -> PageRouter {
    PageRouter::default()
        .route(
            "/portal/documents/files/{id}/download",
            get(portal_download),
        )
        .route(
            "/admin/documents/files",
            get(admin_list).merge(post(admin_share_form).layer(DefaultBodyLimit::disable())),
        )
        .route("/admin/documents/files/{id}", get(admin_detail))
        .route(
            "/admin/documents/files/{id}/replace",
            post(admin_replace_form).layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/admin/documents/files/{id}/withdraw",
            post(admin_withdraw_form),
        )
        .route(
            "/admin/documents/files/{id}/versions/{version}/download",
            get(admin_download_page),
        )
}

/// Client and staff JSON API.
pub fn api() -> ApiRouter {
    ApiRouter::default()
        .route(
            "/api/v1/documents/files",
            get_with(api_list, |op| {
                op.id("listSharedFiles").tag("documents").summary("List files shared with me")
                    .description("Files shared with every client, my company or me. `q` searches titles and file names; `after` is the `next_cursor` of the previous page.")
            }),
        )
        .route(
            "/api/v1/documents/files/{id}",
            get_with(api_get, |op| {
                op.id("getSharedFile").tag("documents").summary("A file shared with me")
            }),
        )
        .route(
            "/api/v1/documents/files/{id}/download",
            get_with(api_download, |op| {
                op.id("downloadSharedFile").tag("documents").summary("Download the current version of a file shared with me")
                    .response_with::<200, Vec<u8>, _>(|r| r.description("The file, as an attachment download."))
            }),
        )
        .route(
            "/api/v1/admin/documents/files",
            get_with(api_admin_list, |op| {
                op.id("listSharedFilesAsStaff").tag("documents").summary("List shared files, withdrawn ones included")
            })
            .post_with(api_admin_share, |op| {
                op.id("shareFile").tag("documents").summary("Share a file")
                    .description("A `multipart/form-data` body: one `file` part, `title` (optional: the file name), `audience` (`all`, `company` or `user`) and `company_id` or `user_id`.")
                    .input::<Multipart>()
                    .response_with::<201, Json<FileDetail>, _>(|r| r.description("Shared."))
            })
            .layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/api/v1/admin/documents/files/{id}",
            get_with(api_admin_get, |op| {
                op.id("getSharedFileAsStaff").tag("documents").summary("A shared file with its version history")
            }),
        )
        .route(
            "/api/v1/admin/documents/files/{id}/versions",
            post_with(api_admin_replace, |op| {
                op.id("replaceSharedFile").tag("documents").summary("Replace a shared file with a new version")
                    .description("A `multipart/form-data` body with one `file` part. Earlier versions stay in the history.")
                    .input::<Multipart>()
                    .response_with::<201, Json<FileDetail>, _>(|r| r.description("The file with its new version."))
            })
            .layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/api/v1/admin/documents/files/{id}/versions/{version}/download",
            get_with(api_admin_download, |op| {
                op.id("downloadSharedFileVersion").tag("documents").summary("Download any version of a shared file")
                    .response_with::<200, Vec<u8>, _>(|r| r.description("The file, as an attachment download."))
            }),
        )
        .route(
            "/api/v1/admin/documents/files/{id}/withdraw",
            post_with(api_admin_withdraw, |op| {
                op.id("withdrawSharedFile").tag("documents").summary("Withdraw a shared file: clients no longer see or download it")
            }),
        )
}

/// List query.
#[derive(Deserialize, schemars::JsonSchema, Default)]
pub(crate) struct ListQuery {
    /// Search in titles and file names.
    #[serde(default)]
    q: Option<String>,
    /// The `next_cursor` of the previous page.
    #[serde(default)]
    after: Option<String>,
    /// Notice to show (pages).
    #[serde(default)]
    notice: Option<String>,
}

/// A page of shared files.
#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct FilePage {
    items: Vec<SharedFile>,
    next_cursor: Option<String>,
}

/// A shared file with its versions (staff).
#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct FileDetail {
    file: SharedFile,
    versions: Vec<FileVersion>,
}

/// Path of one file.
#[derive(Deserialize, schemars::JsonSchema)]
pub(crate) struct IdPath {
    /// Shared file id.
    id: String,
}

/// Path of one version.
#[derive(Deserialize, schemars::JsonSchema)]
pub(crate) struct VersionPath {
    /// Shared file id.
    id: String,
    /// Version number.
    version: i64,
}

/// Sends a stored object as a download.
async fn send(
    app: &AppState,
    key: &ObjectKey,
    filename: &str,
    content_type: &str,
) -> AppResult<Response> {
    let mut r = if let Some(body) = super::shared_demo::content(key) {
        let mut r = body.into_response();
        r.headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
        r
    } else {
        let (size, stream) = app.files.get(key).await.map_err(|e| {
            AppError::Internal(anyhow::anyhow!(
                "shared file {} unreadable: {e}",
                key.as_str()
            ))
        })?;
        let mut r = axum::body::Body::from_stream(stream).into_response();
        r.headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from(size));
        r
    };
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(content_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    let ascii: String = filename
        .chars()
        .map(|c| {
            if (c.is_ascii_graphic() && c != '"' && c != '\\') || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = url::form_urlencoded::byte_serialize(filename.as_bytes())
        .collect::<String>()
        .replace('+', "%20");
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(r)
}

// ---- client ----

/// The client's page of files (also the "Shared files" tab).
pub(crate) async fn client_page(
    app: &AppState,
    user: &crate::auth::Principal,
    q: &str,
    after: Option<&str>,
) -> AppResult<(Vec<SharedFile>, Option<String>)> {
    let (company, me) = shared::client_of(user)?;
    let after = after.and_then(Cursor::parse);
    let (items, next) = shared::list(
        &app.db,
        &user.scope(),
        Viewer::Client(&company, &me),
        q,
        after.as_ref(),
    )
    .await?;
    Ok((items, next.map(|c| c.text())))
}

async fn client_file(
    app: &AppState,
    user: &crate::auth::Principal,
    id: &str,
) -> AppResult<SharedFile> {
    let (company, me) = shared::client_of(user)?;
    shared::visible(&app.db, &user.scope(), &company, &me, id)
        .await?
        .ok_or(AppError::NotFound)
}

async fn api_list(
    State(app): State<AppState>,
    user: PortalUser,
    Query(q): Query<ListQuery>,
) -> AppResult<Json<FilePage>> {
    let (items, next_cursor) = client_page(
        &app,
        &user,
        q.q.as_deref().unwrap_or(""),
        q.after.as_deref(),
    )
    .await?;
    Ok(Json(FilePage { items, next_cursor }))
}

async fn api_get(
    State(app): State<AppState>,
    user: PortalUser,
    Path(p): Path<IdPath>,
) -> AppResult<Json<SharedFile>> {
    Ok(Json(client_file(&app, &user, &p.id).await?))
}

async fn api_download(
    State(app): State<AppState>,
    user: PortalUser,
    Path(p): Path<IdPath>,
) -> AppResult<Response> {
    let f = client_file(&app, &user, &p.id).await?;
    send(&app, &f.key(), &f.filename, &f.content_type).await
}

async fn portal_download(
    State(app): State<AppState>,
    user: PortalUser,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let f = client_file(&app, &user, &id).await?;
    send(&app, &f.key(), &f.filename, &f.content_type).await
}

// ---- staff ----

async fn detail_of(app: &AppState, staff: &StaffUser, id: &str) -> AppResult<FileDetail> {
    let scope = staff.scope();
    let file = shared::by_id(&app.db, &scope, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let versions = shared::versions(&app.db, &scope, id).await?;
    Ok(FileDetail { file, versions })
}

/// Reads a share or replace upload (one `file`).
async fn read_upload(app: &AppState, actor: &Actor, req: Request) -> AppResult<FormData> {
    upload::read(app, actor.scope(), req, Limits::new(app, 1, "file")).await
}

/// The one stored file of an upload, or the reason there is none.
fn the_file(form: &FormData) -> AppResult<StoredFile> {
    if let Some(e) = form.file_error() {
        return Err(AppError::fields(vec![e]));
    }
    form.files
        .files()
        .first()
        .cloned()
        .ok_or_else(|| AppError::field("file", k("files-error-missing")))
}

/// Shares the uploaded file; keeps the object only when the share committed.
async fn share_upload(
    app: &AppState,
    actor: &Actor,
    ip: &str,
    form: FormData,
) -> (AppResult<String>, FormValues) {
    let values = FormValues::of(&form);
    let result = async {
        let file = the_file(&form)?;
        let audience = Audience::parse(&values.audience, &values.company_id, &values.user_id)
            .map_err(|e| AppError::fields(vec![e]))?;
        shared::share(app, actor, ip, &values.title, &audience, &file).await
    }
    .await;
    (form.files.settle(result).await, values)
}

async fn replace_upload(
    app: &AppState,
    actor: &Actor,
    ip: &str,
    id: &str,
    form: FormData,
) -> AppResult<i64> {
    let result = async {
        let file = the_file(&form)?;
        shared::replace(app, actor, ip, id, &file).await
    }
    .await;
    form.files.settle(result).await
}

async fn api_admin_list(
    State(app): State<AppState>,
    staff: StaffUser,
    Query(q): Query<ListQuery>,
) -> AppResult<Json<FilePage>> {
    staff.require(Permission::ManageDocuments)?;
    let after = q.after.as_deref().and_then(Cursor::parse);
    let (items, next) = shared::list(
        &app.db,
        &staff.scope(),
        Viewer::Staff,
        q.q.as_deref().unwrap_or(""),
        after.as_ref(),
    )
    .await?;
    Ok(Json(FilePage {
        items,
        next_cursor: next.map(|c| c.text()),
    }))
}

async fn api_admin_share(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    req: Request,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageDocuments)?;
    let form = read_upload(&app, &actor, req).await?;
    let id = share_upload(&app, &actor, &ctx.ip, form).await.0?;
    Ok((
        StatusCode::CREATED,
        Json(detail_of(&app, &staff, &id).await?),
    )
        .into_response())
}

async fn api_admin_get(
    State(app): State<AppState>,
    staff: StaffUser,
    Path(p): Path<IdPath>,
) -> AppResult<Json<FileDetail>> {
    staff.require(Permission::ManageDocuments)?;
    Ok(Json(detail_of(&app, &staff, &p.id).await?))
}

async fn api_admin_replace(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(p): Path<IdPath>,
    req: Request,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageDocuments)?;
    // A file that is not there answers 404 before the body is read.
    detail_of(&app, &staff, &p.id).await?;
    let form = read_upload(&app, &actor, req).await?;
    replace_upload(&app, &actor, &ctx.ip, &p.id, form).await?;
    Ok((
        StatusCode::CREATED,
        Json(detail_of(&app, &staff, &p.id).await?),
    )
        .into_response())
}

async fn staff_version(
    app: &AppState,
    staff: &StaffUser,
    id: &str,
    version: i64,
) -> AppResult<Response> {
    staff.require(Permission::ManageDocuments)?;
    let v = shared::versions(&app.db, &staff.scope(), id)
        .await?
        .into_iter()
        .find(|v| v.version == version)
        .ok_or(AppError::NotFound)?;
    send(app, &v.key(), &v.filename, &v.content_type).await
}

async fn api_admin_download(
    State(app): State<AppState>,
    staff: StaffUser,
    Path(p): Path<VersionPath>,
) -> AppResult<Response> {
    staff_version(&app, &staff, &p.id, p.version).await
}

async fn admin_download_page(
    State(app): State<AppState>,
    staff: StaffUser,
    Path((id, version)): Path<(String, i64)>,
) -> AppResult<Response> {
    staff_version(&app, &staff, &id, version).await
}

async fn api_admin_withdraw(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(p): Path<IdPath>,
) -> AppResult<Json<FileDetail>> {
    let actor = staff.require(Permission::ManageDocuments)?;
    shared::withdraw(&app, &actor, &ctx.ip, &p.id).await?;
    Ok(Json(detail_of(&app, &staff, &p.id).await?))
}

/// What the share form holds, to show it again after an error.
#[derive(Default)]
pub(crate) struct FormValues {
    title: String,
    audience: String,
    company_id: String,
    user_id: String,
}

impl FormValues {
    fn of(form: &FormData) -> FormValues {
        FormValues {
            title: form.get("title"),
            audience: form.get("audience"),
            company_id: form.get("company_id"),
            user_id: form.get("user_id"),
        }
    }
}

#[derive(askama::Template)]
#[template(path = "documents/templates/files_admin_list.html")]
struct AdminListPage {
    page: PageCtx,
    rows: Vec<SharedFile>,
    q: String,
    next: Option<String>,
    notice: Option<&'static str>,
    errors: FormErrors,
    f: FormValues,
    users: Vec<Choice>,
    companies: Vec<Choice>,
}

impl AdminListPage {
    fn size(&self, n: &i64) -> String {
        crate::files::human_size(n)
    }
}

async fn admin_list_view(
    app: &AppState,
    ctx: &RequestContext,
    staff: &StaffUser,
    q: ListQuery,
    errors: FormErrors,
    f: FormValues,
) -> AppResult<Response> {
    staff.require(Permission::ManageDocuments)?;
    let search = q.q.clone().unwrap_or_default();
    let after = q.after.as_deref().and_then(Cursor::parse);
    let (rows, next) = shared::list(
        &app.db,
        &staff.scope(),
        Viewer::Staff,
        &search,
        after.as_ref(),
    )
    .await?;
    let (users, companies) = super::store::choices(&app.db, &staff.scope()).await?;
    let failed = !errors.is_empty();
    let q_enc: String = url::form_urlencoded::byte_serialize(search.as_bytes()).collect();
    let mut r = render(&AdminListPage {
        page: PageCtx::new(ctx),
        rows,
        next: next.map(|c| format!("/admin/documents/files?q={q_enc}&after={}", c.text())),
        q: search,
        notice: match q.notice.as_deref() {
            Some("shared") => Some(k("files-notice-shared")),
            Some("withdrawn") => Some(k("files-notice-withdrawn")),
            _ => None,
        },
        errors,
        f,
        users,
        companies,
    })?;
    if failed {
        *r.status_mut() = StatusCode::BAD_REQUEST;
    }
    Ok(r)
}

async fn admin_list(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    let f = FormValues {
        audience: "all".into(),
        ..FormValues::default()
    };
    admin_list_view(&app, &ctx, &staff, q, FormErrors::default(), f).await
}

async fn admin_share_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    req: Request,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageDocuments)?;
    let form = read_upload(&app, &actor, req).await?;
    match share_upload(&app, &actor, &ctx.ip, form).await {
        (Ok(id), _) => {
            Ok(Redirect::to(&format!("/admin/documents/files/{id}?notice=shared")).into_response())
        }
        (Err(AppError::Validation { fields, .. }), f) => {
            admin_list_view(
                &app,
                &ctx,
                &staff,
                ListQuery::default(),
                FormErrors(fields),
                f,
            )
            .await
        }
        (Err(e), _) => Err(e),
    }
}

#[derive(askama::Template)]
#[template(path = "documents/templates/files_admin_detail.html")]
struct AdminDetailPage {
    page: PageCtx,
    d: FileDetail,
    notice: Option<&'static str>,
    errors: FormErrors,
}

impl AdminDetailPage {
    fn size(&self, n: &i64) -> String {
        crate::files::human_size(n)
    }
}

/// Notice query.
#[derive(Deserialize, Default)]
struct NoticeQuery {
    #[serde(default)]
    notice: Option<String>,
}

async fn admin_detail_view(
    app: &AppState,
    ctx: &RequestContext,
    staff: &StaffUser,
    id: &str,
    notice: Option<&'static str>,
    errors: FormErrors,
) -> AppResult<Response> {
    staff.require(Permission::ManageDocuments)?;
    let d = detail_of(app, staff, id).await?;
    let failed = !errors.is_empty();
    let mut r = render(&AdminDetailPage {
        page: PageCtx::new(ctx),
        d,
        notice,
        errors,
    })?;
    if failed {
        *r.status_mut() = StatusCode::BAD_REQUEST;
    }
    Ok(r)
}

async fn admin_detail(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> AppResult<Response> {
    let notice = match q.notice.as_deref() {
        Some("shared") => Some(k("files-notice-shared")),
        Some("replaced") => Some(k("files-notice-replaced")),
        _ => None,
    };
    admin_detail_view(&app, &ctx, &staff, &id, notice, FormErrors::default()).await
}

async fn admin_replace_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    req: Request,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageDocuments)?;
    detail_of(&app, &staff, &id).await?;
    let form = read_upload(&app, &actor, req).await?;
    match replace_upload(&app, &actor, &ctx.ip, &id, form).await {
        Ok(_) => Ok(
            Redirect::to(&format!("/admin/documents/files/{id}?notice=replaced")).into_response(),
        ),
        Err(AppError::Validation { fields, .. }) => {
            admin_detail_view(&app, &ctx, &staff, &id, None, FormErrors(fields)).await
        }
        Err(e) => Err(e),
    }
}

async fn admin_withdraw_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageDocuments)?;
    shared::withdraw(&app, &actor, &ctx.ip, &id).await?;
    Ok(Redirect::to("/admin/documents/files?notice=withdrawn").into_response())
}
