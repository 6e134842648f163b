//! The signer's side: the `/portal/documents` tabs, the three-step signing page, and the
//! client JSON API under `/api/v1/signatures`.

use aide::axum::routing::{get_with, post_with};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};

use super::Step;
use super::service::{self, Client};
use super::store::{self, Cursor, Signature, Which};
use crate::app::AppState;
use crate::auth::{Permission, PortalUser, Principal};
use crate::db::now_ms;
use crate::error::{AppError, AppResult};
use crate::http::context::{Ctx, RequestContext};
use crate::http::{ApiRouter, PageRouter};
use crate::i18n::k;
use crate::tenancy::OrgType;
use crate::web::{FormErrors, PageCtx, render};

/// Portal pages.
pub fn pages() -> PageRouter {
    PageRouter::default()
        .route("/portal/documents", get(list_page))
        .route("/portal/documents/{id}/sign", get(sign_page))
        .route("/portal/documents/{id}/acknowledge", post(acknowledge_form))
        .route("/portal/documents/{id}/confirm", post(confirm_form))
        .route("/portal/documents/{id}/pdf", get(pdf_page))
}

/// Client JSON API.
pub fn api() -> ApiRouter {
    ApiRouter::default()
        .route(
            "/api/v1/signatures",
            get_with(api_list, |op| {
                op.id("listSignatures").tag("documents").summary("List my signature requests")
                    .description("`state` is `pending` (default) or `signed`; `after` is the `next_cursor` of the previous page.")
            }),
        )
        .route(
            "/api/v1/signatures/{id}",
            get_with(api_get, |op| {
                op.id("getSignature").tag("documents").summary("Get a signature request with the document to sign")
            }),
        )
        .route(
            "/api/v1/signatures/{id}/pdf",
            get_with(api_pdf, |op| {
                op.id("downloadSignedPdf").tag("documents").summary("Download the signed PDF with its certificate page")
                    .response_with::<200, Vec<u8>, _>(|r| r.description("The signed PDF (application/pdf)."))
            }),
        )
        .route(
            "/api/v1/signatures/{id}/read",
            post_with(api_read, |op| {
                op.id("readSignature").tag("documents").summary("Step 1: report the document read to its end")
                    .description("`content_hash` is the `content_hash` of the document as shown; a document changed since must be read again (409). Steps out of order answer 409.")
            }),
        )
        .route(
            "/api/v1/signatures/{id}/acknowledge",
            post_with(api_acknowledge, |op| {
                op.id("acknowledgeSignature").tag("documents").summary("Step 2: acknowledge and consent to sign electronically")
            }),
        )
        .route(
            "/api/v1/signatures/{id}/confirm",
            post_with(api_confirm, |op| {
                op.id("confirmSignature").tag("documents").summary("Step 3: sign by typing the account's full name")
                    .description("The name must match the account name, case and extra spaces ignored (400 otherwise).")
            }),
        )
}

/// Serves the signing page script (`/assets/documents.js`).
pub async fn script() -> Response {
    let mut r = include_str!("sign.js").into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/javascript; charset=utf-8"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    r
}

/// Documents exist for client users of MSP tenants.
fn signer(p: &Principal) -> AppResult<()> {
    match (&p.company_id, p.tenant.org_type) {
        (Some(_), OrgType::Msp) => {
            p.require(Permission::PortalAccess)?;
            Ok(())
        }
        _ => Err(AppError::NotFound),
    }
}

/// The user agent, cut to a length worth keeping.
pub(crate) fn user_agent(h: &HeaderMap) -> String {
    h.get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_control())
        .take(400)
        .collect()
}

/// List query.
#[derive(Deserialize, schemars::JsonSchema, Default)]
pub(crate) struct ListQuery {
    /// `pending` (default) or `signed` (the API); pages also take `shared`.
    #[serde(default)]
    state: Option<String>,
    /// The `next_cursor` of the previous page.
    #[serde(default)]
    after: Option<String>,
    /// Notice to show (pages).
    #[serde(default)]
    notice: Option<String>,
    /// Search in shared files (pages, `shared` tab).
    #[serde(default)]
    q: Option<String>,
}

/// A page of signature requests.
#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct SignaturePage {
    items: Vec<Signature>,
    next_cursor: Option<String>,
}

/// A signature request with the document as shown for signing.
#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct SignatureDetail {
    #[serde(flatten)]
    signature: Signature,
    /// The document's Markdown.
    body: String,
    /// The document as HTML (sanitised).
    body_html: String,
}

fn detail(s: Signature) -> SignatureDetail {
    SignatureDetail {
        body_html: crate::tickets::render_markdown_with(&s.body, false),
        body: s.body.clone(),
        signature: s,
    }
}

async fn api_list(
    State(app): State<AppState>,
    user: PortalUser,
    Query(q): Query<ListQuery>,
) -> AppResult<Json<SignaturePage>> {
    signer(&user)?;
    let which = match q.state.as_deref() {
        None | Some("pending") => Which::Pending,
        Some("signed") => Which::Signed,
        Some(_) => return Err(AppError::field("state", k("documents-error-state"))),
    };
    let after = q.after.as_deref().and_then(Cursor::parse);
    let (items, next) = store::mine(
        &app.db,
        &user.scope(),
        user.user_id.as_str(),
        user.company_id.as_ref().map(|c| c.as_str()).unwrap_or(""),
        which,
        after.as_ref(),
    )
    .await?;
    Ok(Json(SignaturePage {
        items,
        next_cursor: next.map(|c| c.text()),
    }))
}

/// Path of one signature request.
#[derive(Deserialize, schemars::JsonSchema)]
pub(crate) struct IdPath {
    /// Signature request id.
    id: String,
}

async fn api_get(
    State(app): State<AppState>,
    user: PortalUser,
    Path(p): Path<IdPath>,
) -> AppResult<Json<SignatureDetail>> {
    signer(&user)?;
    Ok(Json(detail(service::own(&app, &user, &p.id).await?)))
}

async fn signed_pdf(app: &AppState, user: &Principal, id: &str) -> AppResult<Response> {
    signer(user)?;
    let s = service::own(app, user, id).await?;
    let bytes = super::pdf::signed_pdf(app, &user.tenant, &s).await?;
    Ok(super::pdf::download(bytes, &s.title))
}

async fn api_pdf(
    State(app): State<AppState>,
    user: PortalUser,
    Path(p): Path<IdPath>,
) -> AppResult<Response> {
    signed_pdf(&app, &user, &p.id).await
}

async fn pdf_page(
    State(app): State<AppState>,
    user: PortalUser,
    Path(id): Path<String>,
) -> AppResult<Response> {
    signed_pdf(&app, &user, &id).await
}

/// Step 1 body.
#[derive(Deserialize, schemars::JsonSchema)]
pub(crate) struct ReadBody {
    /// The `content_hash` of the document as shown.
    content_hash: String,
}

async fn api_read(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    Path(p): Path<IdPath>,
    Json(b): Json<ReadBody>,
) -> AppResult<Json<Signature>> {
    signer(&user)?;
    let ua = user_agent(&headers);
    let c = Client {
        ip: &ctx.ip,
        ua: &ua,
    };
    Ok(Json(
        service::read(&app, &user, &c, &p.id, &b.content_hash).await?,
    ))
}

/// Step 2 body.
#[derive(Deserialize, schemars::JsonSchema)]
pub(crate) struct AckBody {
    /// "I have read and understood this document."
    #[serde(default)]
    understood: bool,
    /// Consent to sign electronically.
    #[serde(default)]
    consent: bool,
}

async fn api_acknowledge(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    Path(p): Path<IdPath>,
    Json(b): Json<AckBody>,
) -> AppResult<Json<Signature>> {
    signer(&user)?;
    let ua = user_agent(&headers);
    let c = Client {
        ip: &ctx.ip,
        ua: &ua,
    };
    Ok(Json(
        service::acknowledge(&app, &user, &c, &p.id, b.understood, b.consent).await?,
    ))
}

/// Step 3 body.
#[derive(Deserialize, schemars::JsonSchema)]
pub(crate) struct ConfirmBody {
    /// The signer's full name as typed.
    full_name: String,
}

async fn api_confirm(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    Path(p): Path<IdPath>,
    Json(b): Json<ConfirmBody>,
) -> AppResult<Json<Signature>> {
    signer(&user)?;
    let ua = user_agent(&headers);
    let c = Client {
        ip: &ctx.ip,
        ua: &ua,
    };
    Ok(Json(
        service::confirm(&app, &user, &c, &p.id, &b.full_name).await?,
    ))
}

/// A row of the pending or signed tab.
pub(crate) struct Row {
    s: Signature,
    overdue: bool,
}

#[derive(askama::Template)]
#[template(path = "documents/templates/portal_list.html")]
struct ListPage {
    page: PageCtx,
    tab: &'static str,
    rows: Vec<Row>,
    next: Option<String>,
    pending: i64,
    notice: Option<&'static str>,
    files: Vec<super::shared::SharedFile>,
    q: String,
}

impl ListPage {
    fn size(&self, n: &i64) -> String {
        crate::files::human_size(n)
    }
}

async fn list_page(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    signer(&user)?;
    let (tab, which) = match q.state.as_deref() {
        Some("signed") => ("signed", Some(Which::Signed)),
        Some("shared") => ("shared", None),
        _ => ("pending", Some(Which::Pending)),
    };
    let after = q.after.as_deref().and_then(Cursor::parse);
    let (items, next) = match which {
        Some(w) => {
            store::mine(
                &app.db,
                &user.scope(),
                user.user_id.as_str(),
                user.company_id.as_ref().map(|c| c.as_str()).unwrap_or(""),
                w,
                after.as_ref(),
            )
            .await?
        }
        None => (Vec::new(), None),
    };
    let search = q.q.clone().unwrap_or_default();
    let (files, next) = if tab == "shared" {
        let (files, next) =
            super::shared_routes::client_page(&app, &user, &search, q.after.as_deref()).await?;
        let enc: String = url::form_urlencoded::byte_serialize(search.as_bytes()).collect();
        (
            files,
            next.map(|c| format!("/portal/documents?state=shared&q={enc}&after={c}")),
        )
    } else {
        (
            Vec::new(),
            next.map(|c| format!("/portal/documents?state={tab}&after={}", c.text())),
        )
    };
    let now = now_ms();
    let pending = store::pending_count(
        &app.db,
        &user.scope(),
        user.user_id.as_str(),
        user.company_id.as_ref().map(|c| c.as_str()).unwrap_or(""),
    )
    .await?;
    render(&ListPage {
        page: PageCtx::new(&ctx),
        tab,
        rows: items
            .into_iter()
            .map(|s| Row {
                overdue: s.overdue(now),
                s,
            })
            .collect(),
        next,
        pending,
        notice: match q.notice.as_deref() {
            Some("signed") => Some(k("documents-notice-signed")),
            _ => None,
        },
        files,
        q: search,
    })
}

#[derive(askama::Template)]
#[template(path = "documents/templates/sign.html")]
struct SignPage {
    page: PageCtx,
    s: Signature,
    body_html: String,
    step: Step,
    overdue: bool,
    errors: FormErrors,
    full_name: String,
    error: Option<String>,
}

async fn sign_view(
    app: &AppState,
    ctx: &RequestContext,
    user: &Principal,
    id: &str,
    errors: FormErrors,
    full_name: String,
    error: Option<String>,
) -> AppResult<Response> {
    let s = service::own(app, user, id).await?;
    let failed = !errors.is_empty() || error.is_some();
    let mut r = render(&SignPage {
        page: PageCtx::new(ctx),
        body_html: crate::tickets::render_markdown_with(&s.body, false),
        step: s.state,
        overdue: s.overdue(now_ms()),
        s,
        errors,
        full_name,
        error,
    })?;
    if failed {
        *r.status_mut() = StatusCode::BAD_REQUEST;
    }
    Ok(r)
}

async fn sign_page(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    signer(&user)?;
    sign_view(
        &app,
        &ctx,
        &user,
        &id,
        FormErrors::default(),
        String::new(),
        None,
    )
    .await
}

/// A step refused for its input shows the page again with the messages beside the fields;
/// a step out of order shows the page at the step the request is really at.
async fn after_step(
    app: &AppState,
    ctx: &RequestContext,
    user: &Principal,
    id: &str,
    full_name: String,
    r: AppResult<Signature>,
    done: impl FnOnce(&Signature) -> String,
) -> AppResult<Response> {
    match r {
        Ok(s) => Ok(Redirect::to(&done(&s)).into_response()),
        Err(AppError::Validation { fields, .. }) => {
            sign_view(app, ctx, user, id, FormErrors(fields), full_name, None).await
        }
        Err(AppError::Conflict(m)) => {
            sign_view(
                app,
                ctx,
                user,
                id,
                FormErrors::default(),
                full_name,
                Some(m),
            )
            .await
        }
        Err(e) => Err(e),
    }
}

async fn acknowledge_form(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> AppResult<Response> {
    signer(&user)?;
    let form = Fields::parse(&body);
    let ua = user_agent(&headers);
    let c = Client {
        ip: &ctx.ip,
        ua: &ua,
    };
    let r = service::acknowledge(
        &app,
        &user,
        &c,
        &id,
        form.get("understood") == "yes",
        form.get("consent") == "yes",
    )
    .await;
    after_step(&app, &ctx, &user, &id, String::new(), r, |s| {
        format!("/portal/documents/{}/sign", s.id)
    })
    .await
}

async fn confirm_form(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> AppResult<Response> {
    signer(&user)?;
    let ua = user_agent(&headers);
    let c = Client {
        ip: &ctx.ip,
        ua: &ua,
    };
    let form = Fields::parse(&body);
    let typed = form.get("full_name");
    let r = service::confirm(&app, &user, &c, &id, &typed).await;
    after_step(&app, &ctx, &user, &id, typed, r, |s| {
        format!("/portal/documents/{}/sign?notice=signed", s.id)
    })
    .await
}

/// The fields of an urlencoded form.
pub(crate) struct Fields(Vec<(String, String)>);

impl Fields {
    /// Parses a form body.
    pub(crate) fn parse(body: &[u8]) -> Fields {
        Fields(url::form_urlencoded::parse(body).into_owned().collect())
    }

    /// The first value of `key`, or empty.
    pub(crate) fn get(&self, key: &str) -> String {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    /// Every value of `key`.
    pub(crate) fn all(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect()
    }
}
