//! What every page shares: the branded layout context, navigation per mode, static assets.

pub mod nav;

use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use serde::Serialize;

use crate::auth::{Audience, Principal};
use crate::error::AppResult;
use crate::http::context::RequestContext;
use crate::i18n::Translator;

/// Cache-busting version for static assets.
pub const ASSET_VERSION: &str = env!("CARGO_PKG_VERSION");

/// One navigation entry as shown.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct NavItem {
    /// Label.
    pub label: &'static str,
    /// Path.
    pub path: &'static str,
    /// Catalog key of the label (pages show the translation; the API keeps `label`).
    #[serde(skip)]
    pub key: String,
    /// Current page.
    #[serde(skip)]
    pub active: bool,
}

pub use nav::{NavDef, REGISTRY, nav_defs};

/// The navigation a principal sees on `path`, filtered by permission.
pub fn navigation(p: &Principal, path: &str) -> Vec<NavItem> {
    nav_defs(p)
        .filter(|d| p.sees(d.needs))
        .map(|d| NavItem {
            label: d.label,
            path: d.path,
            key: crate::i18n::key_for("nav", d.label),
            active: path == d.path
                || (path.starts_with(d.path)
                    && path.as_bytes().get(d.path.len()) == Some(&b'/')
                    && d.path != "/admin"),
        })
        .collect()
}

/// Everything the base layout needs.
#[derive(Clone, Debug)]
pub struct PageCtx {
    /// Portal name (title, header).
    pub portal_name: String,
    /// Header logo.
    pub logo_url: Option<String>,
    /// Tab icon.
    pub favicon_url: Option<String>,
    /// Tenant theme stylesheet.
    pub theme_css: Option<String>,
    /// Tenant custom stylesheet.
    pub custom_css: Option<String>,
    /// Tenant slug (mirrored to localStorage by the page script).
    pub tenant_slug: String,
    /// Classes on `<body>`.
    pub body_class: String,
    /// Signed-in user's name.
    pub user_name: Option<String>,
    /// Signed-in user's role label.
    pub role_label: String,
    /// Navigation entries.
    pub nav: Vec<NavItem>,
    /// CSRF token for forms.
    pub csrf: String,
    /// Show "Powered by Portico".
    pub powered_by: bool,
    /// Sign-out form target.
    pub logout_action: &'static str,
    /// Profile link.
    pub profile_path: &'static str,
    /// Support contact.
    pub support_email: Option<String>,
    /// Asset version.
    pub asset_version: &'static str,
    /// Messages and formats in the request's locale (templates call `page.t.get` with a key).
    pub t: Translator,
    /// The viewer is staff (admin panel): shared views use staff wording.
    pub staff: bool,
    /// The Hub bar's apps (portal pages of tenants that turned it on).
    pub hub_bar: Vec<crate::identity::store::HubApp>,
    /// The active company's name, for people with more than one (the header's switcher).
    pub company_switch: Option<String>,
}

impl PageCtx {
    /// Builds the layout context for a request.
    pub fn new(ctx: &RequestContext) -> PageCtx {
        let mission = ctx.is_mission();
        let mut body_class = String::from(if mission { "mission" } else { "msp" });
        let (portal_name, logo_url, favicon_url, theme_css, custom_css, slug, powered_by, support) =
            match &ctx.tenant {
                Some(t) => {
                    let b = &t.branding;
                    (
                        b.portal_name.clone(),
                        b.logo_url.clone(),
                        b.favicon_url.clone(),
                        Some(format!("/branding/{}/theme.css?v={}", t.slug, t.updated_at)),
                        b.has_custom_css
                            .then(|| format!("/branding/{}/custom.css?v={}", t.slug, t.updated_at)),
                        t.slug.clone(),
                        b.powered_by_visible,
                        b.support_email.clone(),
                    )
                }
                None => (
                    "Portico".into(),
                    None,
                    None,
                    None,
                    None,
                    String::new(),
                    true,
                    None,
                ),
            };
        let (user_name, role_label, nav, logout_action, profile_path) = match &ctx.principal {
            Some(p) => {
                body_class.push_str(match p.audience {
                    Audience::Admin => " area-admin",
                    Audience::Portal => " area-portal",
                });
                (
                    Some(p.name.clone()),
                    Translator::new(ctx.locale).get(&crate::i18n::key_for(
                        "role",
                        p.role.label_in(p.tenant.org_type),
                    )),
                    navigation(p, &ctx.path),
                    match p.audience {
                        Audience::Admin => "/admin/logout",
                        Audience::Portal => "/logout",
                    },
                    match p.audience {
                        Audience::Admin => "/admin/profile",
                        Audience::Portal => "/portal/profile",
                    },
                )
            }
            None => (
                None,
                String::new(),
                Vec::new(),
                "/logout",
                "/portal/profile",
            ),
        };
        PageCtx {
            portal_name,
            logo_url,
            favicon_url,
            theme_css,
            custom_css,
            tenant_slug: slug,
            body_class,
            staff: ctx
                .principal
                .as_ref()
                .is_some_and(|p| p.audience == Audience::Admin),
            user_name,
            role_label,
            nav,
            csrf: ctx.csrf_token.clone(),
            powered_by,
            logout_action,
            profile_path,
            support_email: support,
            asset_version: ASSET_VERSION,
            t: Translator::zoned(ctx.locale, ctx.tz),
            hub_bar: ctx.hub_bar.clone(),
            company_switch: ctx
                .principal
                .as_ref()
                .filter(|p| p.audience == Audience::Portal && p.membership_count > 1)
                .and_then(|p| p.company_name.clone()),
        }
    }

    /// Adds a class to `<body>`.
    pub fn with_class(mut self, class: &str) -> PageCtx {
        self.body_class.push(' ');
        self.body_class.push_str(class);
        self
    }
}

/// Renders a template into an HTML response.
pub fn render<T: askama::Template>(t: &T) -> AppResult<Response> {
    Ok(Html(t.render()?).into_response())
}

/// Renders a form page; with a validation error it answers at that error's status (400).
pub fn render_form<T: askama::Template>(
    t: &T,
    error: Option<&crate::error::AppError>,
) -> AppResult<Response> {
    let mut r = render(t)?;
    if let Some(e) = error {
        *r.status_mut() = e.status();
    }
    Ok(r)
}

/// Answers a form post: a redirect to `done` when `result` is Ok, the form again (from
/// `again`, given the error) on a validation error, any other error as it is.
pub async fn form_outcome<T, Fut>(
    result: AppResult<T>,
    done: &str,
    again: impl FnOnce(crate::error::AppError) -> Fut,
) -> AppResult<Response>
where
    Fut: std::future::Future<Output = AppResult<Response>>,
{
    match result {
        Ok(_) => Ok(axum::response::Redirect::to(done).into_response()),
        Err(e @ crate::error::AppError::Validation { .. }) => again(e).await,
        Err(e) => Err(e),
    }
}

/// A message shown above a form, chosen by a fixed key so nothing user-supplied is reflected.
pub fn notice(key: Option<&str>) -> Option<&'static str> {
    Some(match key? {
        "signed_out" => "You have signed out.",
        "password_reset" => "Your password has been changed. Sign in with the new one.",
        "invite_accepted" => "Your account is ready. Sign in with your new password.",
        "reset_sent" => {
            "If an account exists for that address, we have emailed a link to reset the password. It works once, within an hour."
        }
        "password_changed" => {
            "Your password has been changed. Your other sessions have been signed out."
        }
        "saved" => "Your changes have been saved.",
        "sessions_ended" => "Signed out. Those sessions have ended.",
        "mfa_enabled" => "Two-step sign-in is on. Keep your recovery codes somewhere safe.",
        "mfa_disabled" => "Two-step sign-in is off.",
        "session_ended" => "Your session has ended. Please sign in again.",
        _ => return None,
    })
}

/// Field errors keyed by field name, for templates.
#[derive(Clone, Debug, Default)]
pub struct FormErrors(pub Vec<crate::error::FieldError>);

impl FormErrors {
    /// The message for `field`, if any.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|f| f.field == field)
            .map(|f| f.message.as_str())
    }

    /// `aria-invalid` value for `field`.
    pub fn invalid(&self, field: &str) -> &'static str {
        if self.get(field).is_some() {
            "true"
        } else {
            "false"
        }
    }

    /// True when there are no errors.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<&crate::error::AppError> for FormErrors {
    fn from(e: &crate::error::AppError) -> Self {
        match e {
            crate::error::AppError::Validation { fields, .. } => FormErrors(fields.clone()),
            _ => FormErrors::default(),
        }
    }
}

/// Serves the compiled-in stylesheet.
pub async fn stylesheet() -> Response {
    static_asset(
        include_str!("static/portico.css"),
        "text/css; charset=utf-8",
    )
}

/// Serves the compiled-in page script.
pub async fn script() -> Response {
    static_asset(
        include_str!("static/portico.js"),
        "text/javascript; charset=utf-8",
    )
}

fn static_asset(body: &'static str, content_type: &'static str) -> Response {
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    r
}

/// Formats Unix milliseconds as a UTC date and time for pages.
pub fn datetime(ms: &i64) -> String {
    chrono::DateTime::from_timestamp_millis(*ms)
        .map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}
