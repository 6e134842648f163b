//! Branding: the admin editor, its JSON API, the public branding endpoint and stylesheets.

use aide::axum::routing::get_with;
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::assets::{self, Target};
use super::{BrandingInput, PublicBranding};
use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::auth::{Actor, Permission, StaffUser};
use crate::error::{AppError, AppResult};
use crate::http::context::{Ctx, RequestContext};
use crate::http::{ApiRouter, PageRouter};
use crate::tenancy::{OrgType, Tenant, store, valid_slug};
use crate::web::{FormErrors, PageCtx, notice, render};

/// Pages and stylesheets.
pub fn pages() -> PageRouter {
    PageRouter::default()
        .route("/admin/branding", get(edit_page).post(edit_form))
        .route("/admin/branding/images", axum::routing::post(images_form))
        .route(
            "/admin/branding/image",
            axum::routing::post(image_form).layer(DefaultBodyLimit::disable()),
        )
        .route("/admin/branding/email-preview", get(email_preview_page))
        .route(
            "/admin/branding/email-preview/frame",
            get(email_preview_frame),
        )
        .route(
            "/admin/branding/language",
            axum::routing::post(language_form),
        )
        .route("/favicon.ico", get(favicon))
}

/// `/favicon.ico`: the tenant's own icon when it set one, else a generated one in its colour
/// with its initial; never a 404 (browsers ask for it on every site).
async fn favicon(Ctx(ctx): Ctx) -> Response {
    if let Some(url) = ctx
        .tenant
        .as_ref()
        .and_then(|t| t.branding.favicon_url.as_deref())
    {
        return Redirect::temporary(url).into_response();
    }
    let (colour, initial) = match &ctx.tenant {
        Some(t) => {
            let (primary, _) = super::colors(t);
            let initial = t
                .branding
                .portal_name
                .chars()
                .find(|c| c.is_alphanumeric())
                .map(|c| c.to_uppercase().to_string())
                .unwrap_or_default();
            (primary, initial)
        }
        None => (super::DEFAULT_MSP_ACCENT.to_string(), "P".to_string()),
    };
    // Only a hex colour and one alphanumeric character reach the SVG text: nothing to escape.
    let colour = super::parse_color(&colour).unwrap_or_else(|| super::DEFAULT_MSP_ACCENT.into());
    let svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 32 32\"><rect width=\"32\" height=\"32\" rx=\"7\" fill=\"{colour}\"/><text x=\"16\" y=\"22\" font-family=\"sans-serif\" font-size=\"18\" font-weight=\"700\" text-anchor=\"middle\" fill=\"#fff\">{initial}</text></svg>"
    );
    let mut r = svg.into_response();
    let h = r.headers_mut();
    h.insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("image/svg+xml"),
    );
    h.insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("public, max-age=3600"),
    );
    r
}

/// Stylesheets (no session needed; they are public).
pub fn stylesheets() -> Router<AppState> {
    Router::new()
        .route("/branding/{slug}/theme.css", get(theme_css))
        .route("/branding/{slug}/custom.css", get(custom_css))
        .route("/branding/{slug}/asset/{name}", get(asset))
        .route("/assets/branding.js", get(script))
}

/// Serves the branding page's preview script (`/assets/branding.js`).
async fn script() -> Response {
    let mut r = include_str!("../web/static/branding.js").into_response();
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

/// An uploaded branding image of the tenant named by the path.
async fn asset(
    State(app): State<AppState>,
    Path((slug, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let tenant = tenant_by_slug(&app, &slug).await?;
    assets::serve(&app, &tenant, &name, &headers).await
}

/// JSON API.
pub fn api() -> ApiRouter {
    ApiRouter::default()
        .route(
            "/api/portal/branding",
            get_with(public_branding, |op| {
                op.id("getPublicBranding").tag("portal").summary("Public branding of the resolved tenant")
                    .description("Public; no session needed. The tenant is resolved as usual (session, custom-domain `Host`, `?tenant=`, `portal_tenant` cookie, default tenant). Use it to brand a sign-in screen.")
            }),
        )
        .route(
            "/api/v1/admin/branding",
            get_with(api_get, |op| {
                op.id("getBranding").tag("branding").summary("The branding as the editor sees it")
                    .description("Needs the `manage_branding` permission (staff admins).")
            })
            .put_with(api_put, |op| {
                op.id("putBranding").tag("branding").summary("Replace the branding")
                    .description("Needs `manage_branding`. An omitted field counts as empty, so a PUT replaces the whole branding. All invalid fields are reported together as one 400 `validation_failed`.")
            }),
        )
}

struct TextField {
    name: &'static str,
    label: &'static str,
    kind: &'static str,
    hint: &'static str,
    value: String,
}

#[derive(askama::Template)]
#[template(path = "branding/templates/edit.html")]
struct EditPage {
    page: PageCtx,
    form: BrandingInput,
    text_fields: Vec<TextField>,
    errors: FormErrors,
    notice: Option<&'static str>,
    mission: bool,
    remote_images: bool,
    default_locale: String,
    languages: Vec<(&'static str, &'static str)>,
    time_zone: String,
    time_zones: &'static [&'static str],
    uploads: Vec<UploadForm>,
    /// Field, proposed shade, button label.
    suggestions: Vec<(&'static str, String, String)>,
    preview: Preview,
}

/// One image upload form on the branding page.
struct UploadForm {
    target: &'static str,
    label: &'static str,
    field: &'static str,
}

/// What the preview panel shows before the script takes over: the form's values.
struct Preview {
    portal_name: String,
    logo_url: Option<String>,
    login_background_url: Option<String>,
    default_primary: &'static str,
    mission: bool,
}

fn text_fields(f: &BrandingInput) -> Vec<TextField> {
    use crate::i18n::k;
    let t = |name, label, kind, hint, value: &String| TextField {
        name,
        label,
        kind,
        hint,
        value: value.clone(),
    };
    vec![
        t(
            "portal_name",
            k("branding-label-portal-name"),
            "text",
            k("branding-hint-portal-name"),
            &f.portal_name,
        ),
        t(
            "support_email",
            k("branding-label-support-email"),
            "email",
            k("branding-hint-support-email"),
            &f.support_email,
        ),
        t(
            "primary_color",
            k("branding-label-primary-color"),
            "text",
            k("branding-hint-primary-color"),
            &f.primary_color,
        ),
        t(
            "accent_color",
            k("branding-label-accent-color"),
            "text",
            k("branding-hint-accent-color"),
            &f.accent_color,
        ),
        t(
            "logo_url",
            k("branding-label-logo-url"),
            "url",
            k("branding-hint-logo-url"),
            &f.logo_url,
        ),
        t(
            "favicon_url",
            k("branding-label-favicon-url"),
            "url",
            k("branding-hint-favicon-url"),
            &f.favicon_url,
        ),
        t(
            "login_background_url",
            k("branding-label-login-background-url"),
            "url",
            k("branding-hint-login-background-url"),
            &f.login_background_url,
        ),
    ]
}

async fn edit_view(
    app: &AppState,
    ctx: &RequestContext,
    tenant: &Tenant,
    form: BrandingInput,
    err: Option<&AppError>,
    notice_key: Option<&str>,
) -> AppResult<Response> {
    let remote_images = super::remote_images_allowed(&app.db, &tenant.scope()).await?;
    let image = |v: &str| {
        super::parse_image(&tenant.slug, v)
            .ok()
            .filter(|v| !v.is_empty())
    };
    let page = PageCtx::new(ctx);
    let preview = Preview {
        portal_name: form.portal_name.clone(),
        logo_url: image(&form.logo_url),
        login_background_url: image(&form.login_background_url),
        default_primary: if tenant.org_type == OrgType::Mission {
            crate::tenancy::MISSION_ACCENT
        } else {
            crate::tenancy::DEFAULT_MSP_ACCENT
        },
        mission: tenant.org_type == OrgType::Mission,
    };
    let suggestions = [
        ("primary_color", &form.primary_color),
        ("accent_color", &form.accent_color),
    ]
    .into_iter()
    .filter_map(|(f, v)| {
        use crate::i18n::{Arg, key_for};
        let p = super::parse_color(v).and_then(|c| super::contrast_problem(&c))?;
        let label = page.t.args(
            "branding-contrast-use",
            &[
                ("shade", Arg::Str(p.shade.clone())),
                ("field", Arg::Keys(vec![key_for("branding-label", f)])),
            ],
        );
        Some((f, p.shade, label))
    })
    .collect();
    let mut r = render(&EditPage {
        uploads: Target::ALL
            .into_iter()
            .map(|t| UploadForm {
                target: t.as_str(),
                label: t.label_key(),
                field: t.file_field(),
            })
            .collect(),
        suggestions,
        preview,
        remote_images,
        default_locale: tenant.default_locale.clone(),
        time_zone: tenant.time_zone.clone(),
        time_zones: crate::profile::TIME_ZONES,
        languages: crate::i18n::LOCALES
            .iter()
            .map(|l| (l.code(), l.native_name()))
            .collect(),
        page,
        text_fields: text_fields(&form),
        form,
        errors: err.map(FormErrors::from).unwrap_or_default(),
        notice: notice(notice_key),
        mission: tenant.org_type == OrgType::Mission,
    })?;
    if let Some(e) = err {
        *r.status_mut() = e.status();
    }
    Ok(r)
}

#[derive(Deserialize)]
struct NoticeQuery {
    notice: Option<String>,
}

async fn current_input(app: &AppState, actor: &Actor, tenant: &Tenant) -> AppResult<BrandingInput> {
    let css = super::custom_css(&app.db, actor.scope()).await?;
    Ok(BrandingInput::from_stored(&tenant.branding, css))
}

async fn edit_page(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Query(q): Query<NoticeQuery>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageBranding)?;
    let form = current_input(&app, &actor, &staff.tenant).await?;
    edit_view(&app, &ctx, &staff.tenant, form, None, q.notice.as_deref()).await
}

async fn save(
    app: &AppState,
    actor: &Actor,
    slug: &str,
    ip: &str,
    input: &BrandingInput,
) -> AppResult<()> {
    let allowed = super::custom_css_allowed(&app.db, actor.scope()).await?;
    let valid = input.validate(allowed, slug)?;
    let mut tx = app.db.tenant(actor.scope()).begin().await?;
    assets::check_paths(
        &mut tx,
        slug,
        &[
            ("logo_url", valid.logo_url.as_deref()),
            ("favicon_url", valid.favicon_url.as_deref()),
            (
                "login_background_url",
                valid.login_background_url.as_deref(),
            ),
        ],
    )
    .await?;
    super::save(&mut tx, &valid).await?;
    let changed: Vec<&str> = [
        "portal_name",
        "logo_url",
        "favicon_url",
        "primary_color",
        "accent_color",
        "welcome_text",
        "login_background_url",
        "powered_by_visible",
        "custom_css",
        "support_email",
    ]
    .to_vec();
    audit::append(
        &mut tx,
        Entry {
            ip: Some(ip),
            detail: json!({ "fields": changed }),
            ..Entry::new("branding.updated")
                .by(actor)
                .target("tenant", actor.scope().tenant_id().as_str())
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn edit_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    axum::Form(f): axum::Form<BrandingInput>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageBranding)?;
    match save(&app, &actor, &staff.tenant.slug, &ctx.ip, &f).await {
        Ok(()) => Ok(Redirect::to("/admin/branding?notice=saved").into_response()),
        Err(e @ AppError::Validation { .. }) => {
            edit_view(&app, &ctx, &staff.tenant, f, Some(&e), None).await
        }
        Err(e) => Err(e),
    }
}

/// Uploads a logo, favicon or sign-in background (multipart: `_csrf` first, then `target` and
/// the file) and points that branding field at it.
async fn image_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    req: Request,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageBranding)?;
    match assets::upload(&app, &actor, &staff.tenant, &ctx.ip, req).await {
        Ok(_) => Ok(Redirect::to("/admin/branding?notice=saved").into_response()),
        Err(e @ AppError::Validation { .. }) => {
            let form = current_input(&app, &actor, &staff.tenant).await?;
            edit_view(&app, &ctx, &staff.tenant, form, Some(&e), None).await
        }
        Err(e) => Err(e),
    }
}

#[derive(askama::Template)]
#[template(path = "branding/templates/email_preview.html")]
struct EmailPreviewPage {
    page: PageCtx,
    subject: String,
    text: String,
}

/// A sample message in the tenant's branding, composed exactly as the mail worker does.
fn sample_email(
    app: &AppState,
    tenant: &Tenant,
    t: crate::i18n::Translator,
) -> AppResult<crate::mail::Composed> {
    let action_url = format!(
        "{}/portal/tickets",
        app.config.base_url.trim_end_matches('/')
    );
    let subject = t.get("branding-email-sample-subject");
    let label = t.get("branding-email-sample-action");
    let email = crate::mail::Email {
        to: "client@example.com",
        subject: &subject,
        lines: vec![
            t.get("branding-email-sample-greeting"),
            t.get("branding-email-sample-body"),
        ],
        action: Some((&action_url, &label)),
        lang: t.lang(),
        reply_to: None,
    };
    crate::mail::compose(tenant, &email, &app.config.base_url).map_err(AppError::Internal)
}

/// `GET /admin/branding/email-preview`: a sample email as it would be sent, HTML in a
/// sandboxed frame and its plain-text part.
async fn email_preview_page(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
) -> AppResult<Response> {
    staff.require(Permission::ManageBranding)?;
    let page = PageCtx::new(&ctx);
    let m = sample_email(&app, &staff.tenant, page.t)?;
    render(&EmailPreviewPage {
        page,
        subject: m.subject,
        text: m.text,
    })
}

/// The sample email's HTML part, for the preview frame: its inline styles need a policy of
/// their own, which allows nothing else (no script, no forms) and framing only by this site.
async fn email_preview_frame(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
) -> AppResult<Response> {
    staff.require(Permission::ManageBranding)?;
    let m = sample_email(&app, &staff.tenant, PageCtx::new(&ctx).t)?;
    let mut r = axum::response::Html(m.html).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; img-src http: https: data:; frame-ancestors 'self'; base-uri 'none'; form-action 'none'",
        ),
    );
    h.insert(
        header::X_FRAME_OPTIONS,
        HeaderValue::from_static("SAMEORIGIN"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ImagesForm {
    remote_images: Option<String>,
}

/// Turns remote images in ticket Markdown on or off for the tenant (off by default).
async fn images_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    axum::Form(f): axum::Form<ImagesForm>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageBranding)?;
    let allowed = f.remote_images.is_some();
    if super::remote_images_allowed(&app.db, actor.scope()).await? != allowed {
        let mut tx = app.db.tenant(actor.scope()).begin().await?;
        super::set_remote_images(&mut tx, allowed).await?;
        audit::append(
            &mut tx,
            Entry {
                ip: Some(&ctx.ip),
                detail: json!({ "remote_images_allowed": allowed }),
                ..Entry::new("branding.remote_images_changed")
                    .by(&actor)
                    .target("tenant", actor.scope().tenant_id().as_str())
            },
        )
        .await?;
        tx.commit().await?;
    }
    Ok(Redirect::to("/admin/branding?notice=saved").into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LanguageForm {
    default_locale: String,
    time_zone: String,
}

/// Sets the tenant's default language (pages and emails when the reader names none).
async fn language_form(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    axum::Form(f): axum::Form<LanguageForm>,
) -> AppResult<Response> {
    let actor = staff.require(Permission::ManageBranding)?;
    // Only the exact code of a supported language: the picker offers nothing else.
    let Some(locale) = crate::i18n::LOCALES
        .iter()
        .copied()
        .find(|l| l.code() == f.default_locale)
    else {
        return Err(AppError::field(
            "default_locale",
            "branding-language-unsupported",
        ));
    };
    if staff.tenant.default_locale != locale.code() {
        let mut tx = app.db.tenant(actor.scope()).begin().await?;
        super::set_default_locale(&mut tx, locale).await?;
        audit::append(
            &mut tx,
            Entry {
                ip: Some(&ctx.ip),
                detail: json!({ "from": staff.tenant.default_locale, "to": locale.code() }),
                ..Entry::new("branding.language_changed")
                    .by(&actor)
                    .target("tenant", actor.scope().tenant_id().as_str())
            },
        )
        .await?;
        tx.commit().await?;
    }
    // An absent zone (an older form) keeps the current one; anything else must be offered.
    if !f.time_zone.is_empty() && f.time_zone != staff.tenant.time_zone {
        if !crate::profile::TIME_ZONES.contains(&f.time_zone.as_str()) {
            return Err(AppError::field(
                "time_zone",
                "branding-time-zone-unsupported",
            ));
        }
        let mut tx = app.db.tenant(actor.scope()).begin().await?;
        crate::tenancy::store::set_time_zone(&mut tx, &f.time_zone).await?;
        audit::append(
            &mut tx,
            Entry {
                ip: Some(&ctx.ip),
                detail: json!({ "from": staff.tenant.time_zone, "to": f.time_zone }),
                ..Entry::new("branding.time_zone_changed")
                    .by(&actor)
                    .target("tenant", actor.scope().tenant_id().as_str())
            },
        )
        .await?;
        tx.commit().await?;
    }
    Ok(Redirect::to("/admin/branding?notice=saved").into_response())
}

async fn api_get(State(app): State<AppState>, staff: StaffUser) -> AppResult<Json<BrandingInput>> {
    let actor = staff.require(Permission::ManageBranding)?;
    Ok(Json(current_input(&app, &actor, &staff.tenant).await?))
}

async fn api_put(
    State(app): State<AppState>,
    staff: StaffUser,
    Ctx(ctx): Ctx,
    Json(b): Json<BrandingInput>,
) -> AppResult<Json<PublicBranding>> {
    let actor = staff.require(Permission::ManageBranding)?;
    save(&app, &actor, &staff.tenant.slug, &ctx.ip, &b).await?;
    let tenant = store::by_id(&app.db, actor.scope().tenant_id())
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Json(PublicBranding::of(&tenant)))
}

async fn public_branding(Ctx(ctx): Ctx) -> AppResult<Json<PublicBranding>> {
    let tenant = ctx.tenant.as_ref().ok_or(AppError::NotFound)?;
    Ok(Json(PublicBranding::of(tenant)))
}

#[derive(Deserialize)]
struct VersionQuery {
    v: Option<i64>,
}

fn css_response(body: String, tenant: &Tenant, v: Option<i64>) -> Response {
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/css; charset=utf-8"),
    );
    // Versioned URLs change whenever branding changes, so they can be cached for good.
    let cache = if v == Some(tenant.updated_at) {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    r
}

async fn tenant_by_slug(app: &AppState, slug: &str) -> AppResult<Tenant> {
    if !valid_slug(slug) {
        return Err(AppError::NotFound);
    }
    store::by_slug(&app.db, slug)
        .await?
        .ok_or(AppError::NotFound)
}

async fn theme_css(
    State(app): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<VersionQuery>,
) -> AppResult<Response> {
    let tenant = tenant_by_slug(&app, &slug).await?;
    Ok(css_response(super::theme_css(&tenant), &tenant, q.v))
}

async fn custom_css(
    State(app): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<VersionQuery>,
) -> AppResult<Response> {
    let tenant = tenant_by_slug(&app, &slug).await?;
    let css = super::custom_css(&app.db, &tenant.scope())
        .await?
        .map(|c| super::servable_css(&tenant.branding, c))
        .unwrap_or_default();
    Ok(css_response(css, &tenant, q.v))
}
