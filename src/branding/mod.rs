//! Per-tenant branding: the fields, their validation, and the theme stylesheet.

pub mod assets;
pub mod css;
pub mod routes;
pub mod svg;

use serde::{Deserialize, Serialize};

use crate::db::{Db, DbResult, Row, TenantTx, now_ms};
use crate::error::{AppError, FieldError};
use crate::tenancy::{DEFAULT_MSP_ACCENT, MISSION_ACCENT, OrgType, Tenant, TenantScope};

/// Branding as stored (custom CSS itself is loaded only where needed).
#[derive(Clone, Debug, Default)]
pub struct Branding {
    /// Browser tab and header when no logo.
    pub portal_name: String,
    /// Header logo (https).
    pub logo_url: Option<String>,
    /// Tab icon (https).
    pub favicon_url: Option<String>,
    /// Primary colour `#rrggbb`.
    pub primary_color: Option<String>,
    /// Accent colour `#rrggbb`; falls back to primary.
    pub accent_color: Option<String>,
    /// Shown under the user's name on the dashboard.
    pub welcome_text: Option<String>,
    /// Login page background (https).
    pub login_background_url: Option<String>,
    /// Show "Powered by Portico".
    pub powered_by_visible: bool,
    /// Whether custom CSS is set.
    pub has_custom_css: bool,
    /// Support contact address.
    pub support_email: Option<String>,
}

/// Effective colours after the mode and fallbacks are applied.
pub fn colors(t: &Tenant) -> (String, String) {
    match t.org_type {
        OrgType::Mission => (MISSION_ACCENT.into(), MISSION_ACCENT.into()),
        OrgType::Msp => {
            let p = t
                .branding
                .primary_color
                .clone()
                .unwrap_or_else(|| DEFAULT_MSP_ACCENT.into());
            let a = t.branding.accent_color.clone().unwrap_or_else(|| p.clone());
            (p, a)
        }
    }
}

/// Public branding, as `GET /api/portal/branding` returns it.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct PublicBranding {
    /// Tenant slug.
    pub tenant: String,
    /// msp or mission.
    pub org_type: OrgType,
    /// Portal name.
    pub portal_name: String,
    /// Logo URL.
    pub logo_url: Option<String>,
    /// Favicon URL.
    pub favicon_url: Option<String>,
    /// Effective primary colour.
    pub primary_color: String,
    /// Effective accent colour.
    pub accent_color: String,
    /// Welcome text.
    pub welcome_text: Option<String>,
    /// Login background URL.
    pub login_background_url: Option<String>,
    /// Show the powered-by footer.
    pub powered_by_visible: bool,
    /// Support email.
    pub support_email: Option<String>,
    /// The tenant's custom stylesheet, when set.
    pub custom_css_url: Option<String>,
    /// The theme stylesheet.
    pub theme_css_url: String,
}

impl PublicBranding {
    /// Builds the public view of a tenant's branding.
    pub fn of(t: &Tenant) -> PublicBranding {
        let (primary, accent) = colors(t);
        let b = &t.branding;
        PublicBranding {
            tenant: t.slug.clone(),
            org_type: t.org_type,
            portal_name: b.portal_name.clone(),
            logo_url: b.logo_url.clone(),
            favicon_url: b.favicon_url.clone(),
            primary_color: primary,
            accent_color: accent,
            welcome_text: b.welcome_text.clone(),
            login_background_url: b.login_background_url.clone(),
            powered_by_visible: b.powered_by_visible,
            support_email: b.support_email.clone(),
            custom_css_url: b
                .has_custom_css
                .then(|| format!("/branding/{}/custom.css?v={}", t.slug, t.updated_at)),
            theme_css_url: format!("/branding/{}/theme.css?v={}", t.slug, t.updated_at),
        }
    }
}

/// Branding as a staff admin submits it (form or JSON); every field is text until checked.
#[derive(Clone, Debug, Default, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(default)]
pub struct BrandingInput {
    /// Portal name.
    pub portal_name: String,
    /// Logo URL.
    pub logo_url: String,
    /// Favicon URL.
    pub favicon_url: String,
    /// Primary colour.
    pub primary_color: String,
    /// Accent colour.
    pub accent_color: String,
    /// Welcome text.
    pub welcome_text: String,
    /// Login background URL.
    pub login_background_url: String,
    /// Checkbox: present ("on") when checked in a form; `true`/`false` in JSON.
    #[serde(deserialize_with = "checkbox")]
    pub powered_by_visible: Option<String>,
    /// Custom CSS.
    pub custom_css: String,
    /// Support email.
    pub support_email: String,
}

/// Branding that passed validation; only this can be stored.
#[derive(Clone, Debug)]
pub struct ValidBranding {
    portal_name: String,
    logo_url: Option<String>,
    favicon_url: Option<String>,
    primary_color: Option<String>,
    accent_color: Option<String>,
    welcome_text: Option<String>,
    login_background_url: Option<String>,
    powered_by_visible: bool,
    custom_css: Option<String>,
    support_email: Option<String>,
}

/// Accepts a form checkbox (`"on"`) or a JSON boolean.
fn checkbox<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Flag {
        Bool(bool),
        Text(String),
    }
    Ok(match Option::<Flag>::deserialize(d)? {
        Some(Flag::Bool(true)) => Some("true".into()),
        Some(Flag::Bool(false)) | None => None,
        Some(Flag::Text(s)) => Some(s),
    })
}

fn opt(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

/// Parses `#rgb` or `#rrggbb` into lowercase `#rrggbb`.
pub fn parse_color(s: &str) -> Option<String> {
    let hex = s.trim().strip_prefix('#')?;
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    match hex.len() {
        6 => Some(format!("#{}", hex.to_ascii_lowercase())),
        3 => Some(format!(
            "#{}",
            hex.chars()
                .flat_map(|c| [c, c])
                .collect::<String>()
                .to_ascii_lowercase()
        )),
        _ => None,
    }
}

/// Checks an image URL: https, no characters that could break out of `url("…")` or an attribute.
pub fn parse_https_url(s: &str) -> Result<String, &'static str> {
    let s = s.trim();
    if s.len() > 2048 {
        return Err("Use an address shorter than 2,048 characters.");
    }
    if s.chars()
        .any(|c| c.is_whitespace() || c.is_control() || "\"'()\\<>`".contains(c))
    {
        return Err(
            "The address contains characters that are not allowed (spaces, quotes, brackets or backslashes).",
        );
    }
    match url::Url::parse(s) {
        Ok(u) if u.scheme() == "https" && u.host_str().is_some() => Ok(s.to_string()),
        Ok(_) => Err("Use an https:// address."),
        Err(_) => Err("Enter a full address starting with https://."),
    }
}

/// A branding image field: an https address or the path of one of the tenant's own uploads.
pub(crate) fn parse_image(slug: &str, s: &str) -> Result<String, &'static str> {
    let s = s.trim();
    if s.starts_with('/') {
        return assets::parse_path(slug, s)
            .map(|_| s.to_string())
            .ok_or(crate::i18n::k("branding-asset-path-invalid"));
    }
    parse_https_url(s)
}

impl BrandingInput {
    /// Validates every field, collecting one message per field. `slug` is the tenant's: image
    /// fields may name its own uploads (`/branding/<slug>/asset/<name>`).
    pub fn validate(
        &self,
        custom_css_allowed: bool,
        slug: &str,
    ) -> Result<ValidBranding, AppError> {
        let mut errs = Vec::new();
        let mut err = |f: &str, m: &str| {
            errs.push(FieldError {
                field: f.into(),
                message: m.into(),
            })
        };
        let portal_name = self.portal_name.trim().to_string();
        if portal_name.is_empty() {
            err("portal_name", "Enter the portal name.");
        } else if let Err(e) = crate::text::single_line("portal_name", &portal_name, 80) {
            err("portal_name", &e.message);
        }
        let mut url_field = |name: &str, value: &str| -> Option<String> {
            let v = opt(value)?;
            match parse_image(slug, &v) {
                Ok(u) => Some(u),
                Err(m) => {
                    err(name, m);
                    None
                }
            }
        };
        let logo_url = url_field("logo_url", &self.logo_url);
        let favicon_url = url_field("favicon_url", &self.favicon_url);
        let login_background_url = url_field("login_background_url", &self.login_background_url);
        let mut color_field = |name: &str, value: &str| -> Option<String> {
            let v = opt(value)?;
            match parse_color(&v) {
                Some(c) => Some(c),
                None => {
                    err(name, "Use a hex colour such as #0ea5e9.");
                    None
                }
            }
        };
        let primary_color = color_field("primary_color", &self.primary_color);
        let accent_color = color_field("accent_color", &self.accent_color);
        for (name, colour) in [
            ("primary_color", &primary_color),
            ("accent_color", &accent_color),
        ] {
            if let Some(p) = colour.as_deref().and_then(contrast_problem) {
                err(name, &p.message());
            }
        }
        let welcome_text = opt(&self.welcome_text);
        if let Some(Err(e)) = welcome_text
            .as_ref()
            .map(|w| crate::text::multi_line("welcome_text", w, 500))
        {
            err("welcome_text", &e.message);
        }
        let asset_hosts = asset_hosts([&logo_url, &favicon_url, &login_background_url]);
        let custom_css = opt(&self.custom_css);
        if let Some(c) = &custom_css {
            if !custom_css_allowed {
                err("custom_css", "Your plan does not include custom CSS.");
            } else if let Err(e) = crate::text::multi_line("custom_css", c, css::MAX_CSS_BYTES) {
                err("custom_css", &e.message);
            } else if let Err(m) = css::check(c, &asset_hosts) {
                err("custom_css", &m);
            }
        }
        let support_email = opt(&self.support_email);
        if let Some(e) = &support_email
            && (crate::text::bounded_email(e).is_none() || e.parse::<lettre::Address>().is_err())
        {
            err(
                "support_email",
                "Enter an email address such as support@example.com.",
            );
        }
        let powered_by_visible = self
            .powered_by_visible
            .as_deref()
            .is_some_and(|v| matches!(v, "on" | "true" | "1" | "yes"));
        if !errs.is_empty() {
            return Err(AppError::fields(errs));
        }
        Ok(ValidBranding {
            portal_name,
            logo_url,
            favicon_url,
            primary_color,
            accent_color,
            welcome_text,
            login_background_url,
            powered_by_visible,
            custom_css,
            support_email,
        })
    }

    /// The current branding as form input.
    pub fn from_stored(b: &Branding, custom_css: Option<String>) -> BrandingInput {
        BrandingInput {
            portal_name: b.portal_name.clone(),
            logo_url: b.logo_url.clone().unwrap_or_default(),
            favicon_url: b.favicon_url.clone().unwrap_or_default(),
            primary_color: b.primary_color.clone().unwrap_or_default(),
            accent_color: b.accent_color.clone().unwrap_or_default(),
            welcome_text: b.welcome_text.clone().unwrap_or_default(),
            login_background_url: b.login_background_url.clone().unwrap_or_default(),
            powered_by_visible: b.powered_by_visible.then(|| "on".into()),
            custom_css: custom_css.unwrap_or_default(),
            support_email: b.support_email.clone().unwrap_or_default(),
        }
    }
}

/// Stores validated branding.
pub async fn save(tx: &mut TenantTx, b: &ValidBranding) -> DbResult<()> {
    let tenant = tx.tenant_id().to_string();
    sqlx::query(
        "UPDATE tenants SET portal_name = $2, logo_url = $3, favicon_url = $4, primary_color = $5, \
         accent_color = $6, welcome_text = $7, login_background_url = $8, powered_by_visible = $9, \
         custom_css = $10, support_email = $11, updated_at = $12 WHERE id = $1",
    )
    .bind(&tenant)
    .bind(&b.portal_name)
    .bind(&b.logo_url)
    .bind(&b.favicon_url)
    .bind(&b.primary_color)
    .bind(&b.accent_color)
    .bind(&b.welcome_text)
    .bind(&b.login_background_url)
    .bind(b.powered_by_visible as i64)
    .bind(&b.custom_css)
    .bind(&b.support_email)
    .bind(now_ms())
    .execute(tx.conn())
    .await?;
    crate::auth::cache::changed(tx, crate::auth::cache::Change::Tenant).await
}

/// Whether ticket Markdown of the tenant may show images from other hosts.
pub async fn remote_images_allowed(db: &Db, scope: &TenantScope) -> DbResult<bool> {
    let mut conn = db.tenant(scope).reader().acquire().await?;
    remote_images_on(&mut conn, scope.tenant_id().as_str()).await
}

/// [`remote_images_allowed`] as the action's transaction sees it.
pub async fn remote_images_allowed_in(tx: &mut TenantTx) -> DbResult<bool> {
    let tenant = tx.tenant_id().to_string();
    remote_images_on(tx.conn(), &tenant).await
}

async fn remote_images_on(conn: &mut sqlx::AnyConnection, tenant: &str) -> DbResult<bool> {
    let row = sqlx::query("SELECT remote_images_allowed FROM tenants WHERE id = $1")
        .bind(tenant)
        .fetch_optional(conn)
        .await?;
    Ok(match row {
        Some(r) => crate::db::flag(&r, "remote_images_allowed")?,
        None => false,
    })
}

/// Allows or refuses images from other hosts in the tenant's ticket Markdown.
pub async fn set_remote_images(tx: &mut TenantTx, allowed: bool) -> DbResult<()> {
    let tenant = tx.tenant_id().to_string();
    sqlx::query("UPDATE tenants SET remote_images_allowed = $2, updated_at = $3 WHERE id = $1")
        .bind(&tenant)
        .bind(i64::from(allowed))
        .bind(now_ms())
        .execute(tx.conn())
        .await?;
    crate::auth::cache::changed(tx, crate::auth::cache::Change::Tenant).await
}

/// Sets the language the tenant's pages and emails use when neither the reader's profile nor
/// their browser names a supported one.
pub async fn set_default_locale(tx: &mut TenantTx, locale: crate::i18n::Locale) -> DbResult<()> {
    let tenant = tx.tenant_id().to_string();
    sqlx::query("UPDATE tenants SET default_locale = $2, updated_at = $3 WHERE id = $1")
        .bind(&tenant)
        .bind(locale.code())
        .bind(now_ms())
        .execute(tx.conn())
        .await?;
    crate::auth::cache::changed(tx, crate::auth::cache::Change::Tenant).await
}

/// The tenant's own assets, which custom CSS may load from: hosts of its branding images.
fn asset_hosts(urls: [&Option<String>; 3]) -> Vec<String> {
    urls.into_iter()
        .flatten()
        .filter_map(|u| {
            url::Url::parse(u)
                .ok()?
                .host_str()
                .map(str::to_ascii_lowercase)
        })
        .collect()
}

/// The stored custom CSS as it may be served: checked again against today's rules and the
/// tenant's current asset hosts, because a stylesheet saved before a rule existed (or written
/// to the database directly) never passed it. One that fails is withheld entirely.
pub fn servable_css(b: &Branding, stored: String) -> String {
    let hosts = asset_hosts([&b.logo_url, &b.favicon_url, &b.login_background_url]);
    match css::check(&stored, &hosts) {
        Ok(()) if crate::text::clean(&stored, crate::text::Lines::Multi) => stored,
        _ => {
            tracing::warn!("stored custom CSS fails the current checks; not served");
            "/* custom CSS withheld: it fails the current checks; save it again under Admin, Branding */\n".into()
        }
    }
}

/// The tenant's custom CSS.
pub async fn custom_css(db: &Db, scope: &TenantScope) -> DbResult<Option<String>> {
    let row = sqlx::query("SELECT custom_css FROM tenants WHERE id = $1")
        .bind(scope.tenant_id().as_str())
        .fetch_optional(db.tenant(scope).reader())
        .await?;
    Ok(match row {
        Some(r) => r.try_get("custom_css")?,
        None => None,
    })
}

/// Whether the tenant's plan includes custom CSS.
pub async fn custom_css_allowed(db: &Db, scope: &TenantScope) -> DbResult<bool> {
    let row = sqlx::query(
        "SELECT p.feature_custom_css FROM tenants t JOIN plans p ON p.name = t.plan WHERE t.id = $1",
    )
    .bind(scope.tenant_id().as_str())
    .fetch_optional(db.tenant(scope).reader())
    .await?;
    Ok(match row {
        Some(r) => r.try_get::<i64, _>("feature_custom_css")? != 0,
        None => false,
    })
}

fn rgb(hex: &str) -> (f64, f64, f64) {
    let v = u32::from_str_radix(hex.trim_start_matches('#'), 16).unwrap_or(0);
    (
        ((v >> 16) & 0xff) as f64,
        ((v >> 8) & 0xff) as f64,
        (v & 0xff) as f64,
    )
}

/// WCAG relative luminance.
fn luminance((r, g, b): (f64, f64, f64)) -> f64 {
    let lin = |c: f64| {
        let c = c / 255.0;
        if c <= 0.03928 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)
}

fn contrast(a: (f64, f64, f64), b: (f64, f64, f64)) -> f64 {
    let (x, y) = (luminance(a), luminance(b));
    (x.max(y) + 0.05) / (x.min(y) + 0.05)
}

/// WCAG AA for normal text: text on buttons, active navigation and badges must reach it.
pub const MIN_CONTRAST: f64 = 4.5;

/// The dark text colour the theme puts on light brand colours.
const DARK_TEXT: &str = "#111827";

/// A brand colour whose text (white or dark, whichever the theme picks) reads below
/// [`MIN_CONTRAST`], with the nearest shade that passes.
#[derive(Clone, Debug, PartialEq)]
pub struct ContrastProblem {
    /// The colour as entered (`#rrggbb`).
    pub color: String,
    /// Its ratio with the text the theme would use.
    pub ratio: f64,
    /// Whether that text is white (else dark).
    pub white_text: bool,
    /// The nearest passing shade: darker under white text or lighter under dark text,
    /// whichever moves less.
    pub shade: String,
    /// The shade's ratio with its text.
    pub shade_ratio: f64,
}

impl ContrastProblem {
    /// The field message (`branding-contrast-low` with its arguments).
    pub fn message(&self) -> String {
        use crate::i18n::{Arg, msg_with};
        let text = if self.white_text {
            "branding-contrast-white-text"
        } else {
            "branding-contrast-dark-text"
        };
        msg_with(
            "branding-contrast-low",
            &[
                ("color", Arg::Str(self.color.clone())),
                ("ratio", Arg::Str(format!("{:.1}", floor1(self.ratio)))),
                ("text", Arg::Keys(vec![text.into()])),
                ("shade", Arg::Str(self.shade.clone())),
                (
                    "shade_ratio",
                    Arg::Str(format!("{:.1}", floor1(self.shade_ratio))),
                ),
            ],
        )
    }
}

/// Rounds down to one decimal, so a ratio never reads as passing when it does not.
fn floor1(r: f64) -> f64 {
    (r * 10.0).floor() / 10.0
}

fn hex_of((r, g, b): (f64, f64, f64)) -> String {
    let c = |v: f64| v.round().clamp(0.0, 255.0) as u8;
    format!("#{:02x}{:02x}{:02x}", c(r), c(g), c(b))
}

/// Contrast of a `#rrggbb` colour with the text the theme puts on it.
pub fn text_contrast(hex: &str) -> f64 {
    contrast(rgb(hex), rgb(contrast_for(hex)))
}

/// `None` when text on `hex` passes AA; else the problem and the nearest passing shade.
pub fn contrast_problem(hex: &str) -> Option<ContrastProblem> {
    let ratio = text_contrast(hex);
    if ratio >= MIN_CONTRAST {
        return None;
    }
    let (r, g, b) = rgb(hex);
    // Step by 1% towards black (for white text) and towards white (for dark text); the first
    // step that passes on each side is a candidate, and the side that needs fewer steps wins.
    let darker = (1..=100).find_map(|i| {
        let f = 1.0 - f64::from(i) / 100.0;
        let shade = hex_of((r * f, g * f, b * f));
        let c = contrast(rgb(&shade), rgb("#ffffff"));
        (c >= MIN_CONTRAST).then_some((i, shade, c))
    });
    let lighter = (1..=100).find_map(|i| {
        let t = f64::from(i) / 100.0;
        let mix = |v: f64| v + (255.0 - v) * t;
        let shade = hex_of((mix(r), mix(g), mix(b)));
        let c = contrast(rgb(&shade), rgb(DARK_TEXT));
        (c >= MIN_CONTRAST).then_some((i, shade, c))
    });
    let (_, shade, shade_ratio) = match (darker, lighter) {
        (Some(d), Some(l)) => {
            if l.0 < d.0 {
                l
            } else {
                d
            }
        }
        (Some(x), None) | (None, Some(x)) => x,
        (None, None) => (
            100,
            "#000000".into(),
            contrast(rgb("#000000"), rgb("#ffffff")),
        ),
    };
    Some(ContrastProblem {
        color: hex.to_string(),
        ratio,
        white_text: contrast_for(hex) == "#ffffff",
        shade,
        shade_ratio,
    })
}

/// Text on the brand colour: whichever of white and near-black reads better (WCAG ratio).
fn contrast_for(hex: &str) -> &'static str {
    let c = rgb(hex);
    if contrast(c, rgb(DARK_TEXT)) > contrast(c, rgb("#ffffff")) {
        DARK_TEXT
    } else {
        "#ffffff"
    }
}

/// The brand colour darkened until it reaches 4.5:1 on the light page background, for links.
fn text_color(hex: &str) -> String {
    let (r, g, b) = rgb(hex);
    let bg = rgb("#f6f7fb");
    let mut f = 1.0;
    while f > 0.0 && contrast((r * f, g * f, b * f), bg) < 4.6 {
        f -= 0.05;
    }
    let f = f.max(0.0);
    format!(
        "#{:02x}{:02x}{:02x}",
        (r * f) as u8,
        (g * f) as u8,
        (b * f) as u8
    )
}

/// Colours of a branded email.
#[derive(Clone, Debug)]
pub struct EmailColours {
    /// Header and button background.
    pub primary: String,
    /// Text on it (white or dark, whichever reads better).
    pub on_primary: &'static str,
    /// Links on the white message body.
    pub link: String,
}

/// The tenant's colours as its emails use them.
pub fn email_colours(t: &Tenant) -> EmailColours {
    let (primary, _) = colors(t);
    // Stored colours are checked on save; anything else falls back to the default.
    let primary = parse_color(&primary).unwrap_or_else(|| DEFAULT_MSP_ACCENT.into());
    EmailColours {
        on_primary: contrast_for(&primary),
        link: text_color(&primary),
        primary,
    }
}

/// The theme stylesheet: brand colours as custom properties and the login background.
pub fn theme_css(t: &Tenant) -> String {
    let (primary, accent) = colors(t);
    let mut css = format!(
        ":root, body.msp, body.mission {{\n  --brand-primary: {primary};\n  --brand-accent: {accent};\n  --brand-contrast: {};\n  --brand-accent-contrast: {};\n  --brand-text: {};\n}}\n",
        contrast_for(&primary),
        contrast_for(&accent),
        text_color(&primary)
    );
    if let Some(bg) = &t.branding.login_background_url {
        // Validated on save: https and free of quotes, brackets and backslashes.
        css.push_str(&format!(
            "body.auth-page .plain {{ background-image: url(\"{bg}\"); }}\n"
        ));
    }
    css
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_and_urls() {
        assert_eq!(parse_color("#0EA5E9").as_deref(), Some("#0ea5e9"));
        assert_eq!(parse_color("#abc").as_deref(), Some("#aabbcc"));
        assert_eq!(parse_color("red"), None);
        assert_eq!(parse_color("#12345g"), None);
        assert!(parse_https_url("https://cdn.example.com/logo.png").is_ok());
        assert!(parse_https_url("http://cdn.example.com/logo.png").is_err());
        assert!(parse_https_url("javascript:alert(1)").is_err());
        assert!(parse_https_url("https://x.example/a\").png").is_err());
    }

    #[test]
    fn every_bad_field_gets_its_own_message() {
        let input = BrandingInput {
            portal_name: " ".into(),
            primary_color: "blue".into(),
            logo_url: "http://x.example/l.png".into(),
            support_email: "nope".into(),
            custom_css: "@import 'x';".into(),
            ..Default::default()
        };
        let AppError::Validation { fields, .. } = input.validate(true, "acme").unwrap_err() else {
            panic!("expected validation error")
        };
        let names: Vec<_> = fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            names,
            [
                "portal_name",
                "logo_url",
                "primary_color",
                "custom_css",
                "support_email"
            ]
        );
    }

    #[test]
    fn default_colours_pass_aa() {
        for c in [DEFAULT_MSP_ACCENT, MISSION_ACCENT] {
            assert!(
                text_contrast(c) >= MIN_CONTRAST,
                "{c}: {}",
                text_contrast(c)
            );
            assert_eq!(contrast_problem(c), None);
            // Links use the colour darkened for the page background.
            assert!(contrast(rgb(&text_color(c)), rgb("#f6f7fb")) >= MIN_CONTRAST);
        }
    }

    #[test]
    fn a_failing_colour_gets_the_nearest_passing_shade() {
        // Mid-tones read badly with white and with dark text.
        let p = contrast_problem("#d9534f").expect("fails");
        assert!(p.ratio < MIN_CONTRAST);
        assert!(p.shade_ratio >= MIN_CONTRAST);
        assert!(text_contrast(&p.shade) >= MIN_CONTRAST, "{p:?}");
        assert_eq!(contrast_problem(&p.shade), None);
        // Nearest: the step before the proposal still fails.
        let (r, g, b) = rgb("#d9534f");
        let shade = rgb(&p.shade);
        let moved = (shade.0 - r).abs() + (shade.1 - g).abs() + (shade.2 - b).abs();
        assert!(moved > 0.0 && moved < 120.0, "{p:?}");
        let msg = p.message();
        assert!(msg.starts_with("branding-contrast-low?"), "{msg}");
        assert!(msg.contains(&p.shade.replace('#', "%23")), "{msg}");
        let en = crate::i18n::Translator::new(crate::i18n::Locale::En).msg(&msg);
        assert!(en.contains("#d9534f") && en.contains(&p.shade), "{en}");
        // Light and dark colours pass with the text the theme picks for them.
        for ok in ["#ffffff", "#000000", "#5aa0ff", "#1d4ed8", "#fde68a"] {
            assert_eq!(contrast_problem(ok), None, "{ok}");
        }
    }

    #[test]
    fn links_always_reach_aa_on_the_page() {
        for v in (0..=0xff_ffffu32).step_by(0x0a_0b0c) {
            let c = format!("#{v:06x}");
            let link = text_color(&c);
            assert!(
                contrast(rgb(&link), rgb("#f6f7fb")) >= MIN_CONTRAST,
                "{c} -> {link}"
            );
        }
    }

    #[test]
    fn own_uploads_are_accepted_as_images() {
        let input = BrandingInput {
            portal_name: "Acme".into(),
            logo_url: "/branding/acme/asset/0123456789abcdef.png".into(),
            favicon_url: "/branding/grace/asset/0123456789abcdef.png".into(),
            login_background_url: "/etc/passwd".into(),
            ..Default::default()
        };
        let AppError::Validation { fields, .. } = input.validate(false, "acme").unwrap_err() else {
            panic!("expected validation error")
        };
        let names: Vec<_> = fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(names, ["favicon_url", "login_background_url"]);
    }
}
