//! The client's catalog pages: browse and search, an item with its SLA and form, submit.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use super::api::ListQuery;
use super::{PAGE_SIZE, client, raw_answers};
use crate::app::AppState;
use crate::auth::{Permission, PortalUser, Principal};
use crate::catalog::service;
use crate::catalog::store::{self, Category, Item, ItemFilter};
use crate::catalog::{FieldKind, FormField, sla_words};
use crate::error::{AppError, AppResult};
use crate::http::context::{Ctx, RequestContext};
use crate::web::{FormErrors, PageCtx, render};

#[derive(askama::Template)]
#[template(path = "catalog/templates/portal_list.html")]
struct ListPage {
    page: PageCtx,
    categories: Vec<Category>,
    items: Vec<Item>,
    category: String,
    q: String,
    next: Option<String>,
}

impl ListPage {
    fn sla_line(&self, i: &Item) -> String {
        sla_words(
            &self.page.t,
            i.first_response_minutes,
            i.resolution_minutes,
            i.hours,
        )[0]
        .clone()
    }

    fn link(&self, cursor: &str) -> String {
        let mut s = String::from("/portal/catalog?");
        let enc = |v: &str| serde_urlencoded::to_string([("v", v)]).unwrap_or_default();
        if !self.q.is_empty() {
            s.push_str(&format!("q{}&", &enc(&self.q)[1..]));
        }
        if !self.category.is_empty() {
            s.push_str(&format!("category{}&", &enc(&self.category)[1..]));
        }
        s.push_str(&format!("cursor{}", &enc(cursor)[1..]));
        s
    }
}

pub(super) async fn list_page(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    let company = client(&user)?;
    let scope = user.scope();
    let categories = store::categories(&app.db, &scope, Some(&company)).await?;
    let category = q.category.clone().unwrap_or_default();
    // An unknown or foreign category id lists nothing rather than everything.
    let items = store::items(
        &app.db,
        &scope,
        &ItemFilter {
            company: Some(&company),
            category: Some(category.as_str()).filter(|c| !c.is_empty()),
            q: q.q.as_deref(),
            cursor: q.cursor.as_deref().filter(|c| !c.is_empty()),
            limit: PAGE_SIZE,
        },
    )
    .await?;
    let next = (items.len() as i64 == PAGE_SIZE)
        .then(|| items.last().map(|i| i.id.clone()))
        .flatten();
    let mut page = ListPage {
        page: PageCtx::new(&ctx),
        categories,
        items,
        category,
        q: q.q.clone().unwrap_or_default(),
        next: None,
    };
    page.next = next.map(|c| page.link(&c));
    render(&page)
}

/// One field as drawn, with what the client typed.
pub(crate) struct FieldView {
    pub f: FormField,
    /// Text value (text-like kinds).
    pub value: String,
    /// Chosen values (choice kinds).
    pub chosen: Vec<String>,
    /// Ticked (checkbox).
    pub ticked: bool,
}

impl FieldView {
    /// The input's id.
    pub fn id(&self) -> String {
        format!("q-{}", self.f.key)
    }

    /// The posted name.
    pub fn name(&self) -> String {
        format!("q_{}", self.f.key)
    }

    /// `aria-describedby`: help line and error.
    pub fn described_by(&self) -> String {
        let id = self.id();
        if self.f.help.is_empty() {
            format!("{id}-err")
        } else {
            format!("{id}-hint {id}-err")
        }
    }

    /// The text input's `type`.
    pub fn input_type(&self) -> &'static str {
        self.f.kind.input_type()
    }

    /// A short text-like input (not a textarea, choice or checkbox).
    pub fn is_line(&self) -> bool {
        matches!(
            self.f.kind,
            FieldKind::ShortText | FieldKind::Number | FieldKind::Date | FieldKind::Email
        )
    }
}

fn field_views(fields: &[FormField], raw: &BTreeMap<String, Vec<String>>) -> Vec<FieldView> {
    fields
        .iter()
        .map(|f| {
            let values = raw.get(&f.key).cloned().unwrap_or_default();
            FieldView {
                value: values.first().cloned().unwrap_or_default(),
                ticked: values
                    .iter()
                    .any(|v| matches!(v.as_str(), "on" | "true" | "1")),
                chosen: values,
                f: f.clone(),
            }
        })
        .collect()
}

#[derive(askama::Template)]
#[template(path = "catalog/templates/portal_item.html")]
struct ItemPage {
    page: PageCtx,
    item: Item,
    sla: [String; 2],
    fields: Vec<FieldView>,
    errors: FormErrors,
    can_submit: bool,
    icon: askama::filters::Safe<String>,
}

async fn item_view(
    ctx: &RequestContext,
    user: &Principal,
    item: Item,
    raw: &BTreeMap<String, Vec<String>>,
    errors: FormErrors,
) -> AppResult<Response> {
    let page = PageCtx::new(ctx);
    let failed = !errors.is_empty();
    let mut r = render(&ItemPage {
        sla: sla_words(
            &page.t,
            item.first_response_minutes,
            item.resolution_minutes,
            item.hours,
        ),
        fields: field_views(&item.fields, raw),
        icon: crate::catalog::icon_svg(&item.icon),
        page,
        item,
        errors,
        can_submit: user.can(Permission::CreateTickets),
    })?;
    if failed {
        *r.status_mut() = StatusCode::BAD_REQUEST;
    }
    Ok(r)
}

pub(super) async fn item_page(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let company = client(&user)?;
    let item = service::visible_item(&app, &user.scope(), &company, &id).await?;
    item_view(&ctx, &user, item, &BTreeMap::new(), FormErrors::default()).await
}

pub(super) async fn submit_form(
    State(app): State<AppState>,
    user: PortalUser,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let company = client(&user)?;
    let item = service::visible_item(&app, &user.scope(), &company, &id).await?;
    let actor = user.require(Permission::CreateTickets)?;
    let raw = raw_answers(&pairs);
    let page = PageCtx::new(&ctx);
    match service::submit(
        &app,
        &actor,
        &ctx.ip,
        &item,
        &raw,
        &page.t,
        service::zone(&user.tenant.time_zone),
    )
    .await
    {
        Ok(t) => Ok(
            Redirect::to(&format!("/portal/tickets/{}?notice=created", t.number)).into_response(),
        ),
        Err(e @ AppError::Validation { .. }) => {
            item_view(&ctx, &user, item, &raw, FormErrors::from(&e)).await
        }
        Err(e) => Err(e),
    }
}
