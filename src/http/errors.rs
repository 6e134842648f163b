//! Turns every error response into the one JSON shape (API) or a readable page (HTML).

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use crate::auth::Audience;
use crate::error::{ErrorBody, ErrorDetail, RenderedError};
use crate::http::context::RequestContext;
use crate::i18n::{Translator, k};
use crate::web::PageCtx;

#[derive(askama::Template)]
#[template(path = "web/templates/error.html")]
struct ErrorPage {
    page: PageCtx,
    title: String,
    message: String,
    retry_after: Option<String>,
    back: String,
    back_label: String,
}

fn title_for(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => k("error-title-400"),
        401 => k("error-title-401"),
        403 | 405 => k("error-title-403"),
        404 => k("error-title-404"),
        409 => k("error-title-409"),
        413 => k("error-title-413"),
        415 => k("error-title-415"),
        422 => k("error-title-422"),
        429 => k("error-title-429"),
        _ => k("error-title-500"),
    }
}

fn default_detail(status: StatusCode) -> ErrorDetail {
    let (code, message) = match status.as_u16() {
        400 | 422 => ("bad_request", "The request could not be read."),
        401 => ("unauthorized", "Please sign in to continue."),
        403 => ("forbidden", "You are not allowed to do that."),
        404 => ("not_found", "We could not find that page or record."),
        405 => ("method_not_allowed", "That action is not available here."),
        413 => ("payload_too_large", "That upload or form is too large."),
        415 => (
            "unsupported_media_type",
            "Send JSON with Content-Type: application/json, or a form.",
        ),
        429 => (
            "rate_limited",
            "Too many attempts. Please wait and try again.",
        ),
        _ => (
            "internal_error",
            "Something went wrong on our side. Please try again.",
        ),
    };
    ErrorDetail {
        code: code.into(),
        message: message.into(),
        fields: Vec::new(),
    }
}

/// Puts an error's messages into the request's language: messages are looked up by their
/// English text (gettext-style message ids), so code that raises errors stays unchanged.
fn localize(t: &Translator, mut d: ErrorDetail, retry: Option<&HeaderValue>) -> ErrorDetail {
    let wait = retry
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i64>().ok());
    d.message = match (d.code.as_str(), wait) {
        ("rate_limited", Some(secs)) => t.count("error-rate-limited-wait", secs),
        _ => t.msg(&d.message),
    };
    for f in &mut d.fields {
        f.message = t.msg(&f.message);
    }
    d
}

/// True for paths that answer JSON.
pub fn is_api(path: &str) -> bool {
    path.starts_with("/api/")
}

/// Normalises an error response for the request it answers (no-op for successes).
pub fn render(ctx: Option<&RequestContext>, resp: Response) -> Response {
    let status = resp.status();
    if status.as_u16() < 400 {
        return resp;
    }
    let path = ctx.map(|c| c.path.as_str()).unwrap_or("/");
    let rendered = resp.extensions().get::<RenderedError>().cloned();
    // A page a handler rendered itself (a form shown again with its errors) stays as it is.
    let is_page = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if rendered.is_none() && is_page {
        return resp;
    }
    let retry = resp.headers().get(header::RETRY_AFTER).cloned();
    // Framework rejections (bad JSON, wrong method, …) carry no detail; their 422 means the
    // body did not fit the expected shape, which for clients is a 400.
    let (status, detail) = match rendered {
        Some(RenderedError(d)) => (status, d),
        None if status == StatusCode::UNPROCESSABLE_ENTITY => (
            StatusCode::BAD_REQUEST,
            default_detail(StatusCode::BAD_REQUEST),
        ),
        None => (status, default_detail(status)),
    };
    let t = Translator::new(ctx.map(|c| c.locale).unwrap_or_default());
    let detail = localize(&t, detail, retry.as_ref());
    let mut out = if is_api(path) {
        (status, axum::Json(ErrorBody { error: detail })).into_response()
    } else if status == StatusCode::UNAUTHORIZED {
        let audience = Audience::for_path(path);
        let mut to = audience.login_path().to_string();
        if path.starts_with("/portal") || path.starts_with("/admin") {
            to.push_str("?next=");
            to.push_str(&url::form_urlencoded::byte_serialize(path.as_bytes()).collect::<String>());
        }
        Redirect::to(&to).into_response()
    } else {
        let page = match ctx {
            Some(c) => PageCtx::new(c),
            None => PageCtx::new(&RequestContext {
                tenant: None,
                principal: None,
                csrf_token: String::new(),
                ip: String::new(),
                mission_host: false,
                unknown_tenant: false,
                path: path.to_string(),
                locale: t.locale,
                tz: t.tz,
                hub_bar: Vec::new(),
            }),
        };
        let signed_in = page.user_name.is_some();
        let t = ErrorPage {
            title: t.get(title_for(status)),
            message: detail.message,
            retry_after: retry
                .as_ref()
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
            back: if signed_in {
                "/".into()
            } else {
                "/login".into()
            },
            back_label: t.get(if signed_in {
                "error-back-dashboard"
            } else {
                "error-back-sign-in"
            }),
            page,
        };
        match askama::Template::render(&t) {
            Ok(html) => (status, axum::response::Html(html)).into_response(),
            Err(_) => (status, Body::from(title_for(status))).into_response(),
        }
    };
    if let Some(r) = retry {
        out.headers_mut().insert(header::RETRY_AFTER, r);
    }
    out.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    out
}
