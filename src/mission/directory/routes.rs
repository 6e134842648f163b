//! Directory pages and JSON: search, and the member's own choices.

use aide::axum::routing::get_with;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};

use super::{Choices, Listing};
use crate::app::AppState;
use crate::auth::{Permission, PortalUser};
use crate::error::{AppError, AppResult};
use crate::http::context::Ctx;
use crate::http::{ApiRouter, PageRouter};
use crate::mission::source::MissionSource;
use crate::web::{FormErrors, PageCtx, render};

/// Pages.
pub fn pages() -> PageRouter {
    PageRouter::default()
        .route("/portal/mission/directory", get(directory_page))
        .route(
            "/portal/mission/directory/settings",
            get(settings_page).post(settings_form),
        )
}

/// JSON API.
pub fn api() -> ApiRouter {
    ApiRouter::default()
        .route(
            "/api/v1/mission/directory",
            get_with(api_search, |op| {
                op.id("searchDirectory").tag("mission").summary("Search the member directory")
                    .description("Listed members whose name contains `q`; each field appears only when its member shares it. `cursor` pagination.")
            }),
        )
        .route(
            "/api/v1/mission/directory/me",
            get_with(api_mine, |op| {
                op.id("myDirectoryChoices").tag("mission").summary("My directory choices")
            })
            .put_with(api_set_mine, |op| {
                op.id("setMyDirectoryChoices").tag("mission").summary("Change what other members see")
            }),
        )
}

#[derive(Deserialize, Default, schemars::JsonSchema)]
struct SearchQuery {
    /// Part of a name.
    #[serde(default)]
    q: Option<String>,
    /// Next page.
    #[serde(default)]
    cursor: Option<String>,
    #[serde(default)]
    #[schemars(skip)]
    notice: Option<String>,
}

/// A page of the directory.
#[derive(Serialize, schemars::JsonSchema)]
struct DirectoryPage {
    items: Vec<Listing>,
    next_cursor: Option<String>,
}

#[derive(askama::Template)]
#[template(path = "mission/templates/directory.html")]
struct Page {
    page: PageCtx,
    items: Vec<Listing>,
    q: String,
    next: Option<String>,
}

impl Page {
    fn birthday(&self, b: &str) -> String {
        chrono::NaiveDate::parse_from_str(&format!("2000-{b}"), "%Y-%m-%d")
            .map(|d| {
                let fmt = if self.page.t.lang() == "es" {
                    "%-d %B"
                } else {
                    "%B %-d"
                };
                d.format_localized(
                    fmt,
                    if self.page.t.lang() == "es" {
                        chrono::Locale::es_ES
                    } else {
                        chrono::Locale::en_US
                    },
                )
                .to_string()
            })
            .unwrap_or_default()
    }
}

async fn directory_page(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Query(q): Query<SearchQuery>,
) -> AppResult<Response> {
    let me = user.require(Permission::MissionAccess)?;
    let src = MissionSource::for_tenant(&app, me.scope()).await?;
    let text = q.q.clone().unwrap_or_default();
    let (items, next) = src.directory(&me, &text, q.cursor.as_deref()).await?;
    render(&Page {
        page: PageCtx::new(&ctx),
        items,
        next: next.map(|c| {
            let mut s = url::form_urlencoded::Serializer::new(String::new());
            s.append_pair("q", &text);
            s.append_pair("cursor", &c);
            format!("/portal/mission/directory?{}", s.finish())
        }),
        q: text,
    })
}

async fn api_search(
    State(app): State<AppState>,
    user: PortalUser,
    Query(q): Query<SearchQuery>,
) -> AppResult<Json<DirectoryPage>> {
    let me = user.require(Permission::MissionAccess)?;
    let src = MissionSource::for_tenant(&app, me.scope()).await?;
    let (items, next_cursor) = src
        .directory(&me, q.q.as_deref().unwrap_or(""), q.cursor.as_deref())
        .await?;
    Ok(Json(DirectoryPage { items, next_cursor }))
}

#[derive(askama::Template)]
#[template(path = "mission/templates/directory_settings.html")]
struct SettingsPage {
    page: PageCtx,
    c: Choices,
    errors: FormErrors,
    saved: bool,
}

async fn settings_page(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Query(q): Query<SearchQuery>,
) -> AppResult<Response> {
    let me = user.require(Permission::MissionAccess)?;
    let src = MissionSource::for_tenant(&app, me.scope()).await?;
    render(&SettingsPage {
        page: PageCtx::new(&ctx),
        c: src.my_choices(&me).await?,
        errors: FormErrors::default(),
        saved: q.notice.as_deref() == Some("saved"),
    })
}

#[derive(Deserialize)]
struct ChoicesForm {
    #[serde(default)]
    listed: Option<String>,
    #[serde(default)]
    show_photo: Option<String>,
    #[serde(default)]
    show_email: Option<String>,
    #[serde(default)]
    show_phone: Option<String>,
    #[serde(default)]
    show_address: Option<String>,
    #[serde(default)]
    show_birthday: Option<String>,
    #[serde(default)]
    show_household: Option<String>,
    #[serde(default)]
    address: String,
    #[serde(default)]
    birthday: String,
}

async fn settings_form(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    axum::Form(f): axum::Form<ChoicesForm>,
) -> AppResult<Response> {
    let me = user.require(Permission::MissionAccess)?;
    let src = MissionSource::for_tenant(&app, me.scope()).await?;
    let current = src.my_choices(&me).await?;
    let c = Choices {
        listed: f.listed.is_some(),
        show_photo: f.show_photo.is_some(),
        show_email: f.show_email.is_some(),
        show_phone: f.show_phone.is_some(),
        show_address: f.show_address.is_some(),
        show_birthday: f.show_birthday.is_some(),
        show_household: f.show_household.is_some(),
        address: f.address,
        birthday: f.birthday,
        household: current.household,
    };
    match src.set_my_choices(&me, &ctx.ip, &c).await {
        Ok(()) => {
            Ok(Redirect::to("/portal/mission/directory/settings?notice=saved").into_response())
        }
        Err(e @ AppError::Validation { .. }) => {
            let mut r = render(&SettingsPage {
                page: PageCtx::new(&ctx),
                c,
                errors: FormErrors::from(&e),
                saved: false,
            })?;
            *r.status_mut() = StatusCode::BAD_REQUEST;
            Ok(r)
        }
        Err(e) => Err(e),
    }
}

async fn api_mine(State(app): State<AppState>, user: PortalUser) -> AppResult<Json<Choices>> {
    let me = user.require(Permission::MissionAccess)?;
    let src = MissionSource::for_tenant(&app, me.scope()).await?;
    Ok(Json(src.my_choices(&me).await?))
}

async fn api_set_mine(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Json(c): Json<Choices>,
) -> AppResult<Json<Choices>> {
    let me = user.require(Permission::MissionAccess)?;
    let src = MissionSource::for_tenant(&app, me.scope()).await?;
    src.set_my_choices(&me, &ctx.ip, &c).await?;
    Ok(Json(src.my_choices(&me).await?))
}
