//! HTTP machinery shared by all features: middleware, security headers, route registry.

pub mod context;
pub mod errors;
pub mod openapi;
pub mod upload;

use std::collections::BTreeSet;
use std::time::Instant;

use aide::axum::routing::ApiMethodRouter;
use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::state::AppState;

/// Largest urlencoded form body read (CSRF check and form extractors).
pub const FORM_LIMIT: usize = 256 * 1024;
/// Largest JSON body accepted.
pub const JSON_LIMIT: usize = 1024 * 1024;

/// Content-Security-Policy on every response: no inline script, no framing.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; \
    font-src 'self' https:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; \
    form-action 'self'; object-src 'none'";

/// Adds the security headers to every response, whatever produced it.
pub async fn security_headers(
    axum::extract::State(app): axum::extract::State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    // A handler may answer with its own policy, always a stricter one (uploaded SVG images)
    // or one that only loosens framing to this origin (the email preview frame).
    if !h.contains_key("content-security-policy") {
        h.insert("content-security-policy", HeaderValue::from_static(CSP));
    }
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    if !h.contains_key("x-frame-options") {
        h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    }
    h.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=()"),
    );
    if app.config.secure_cookies {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

/// Counts requests and their latency per route pattern for `/metrics`.
pub async fn track_metrics(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().to_string();
    let resp = next.run(req).await;
    let status = resp.status().as_u16().to_string();
    metrics::counter!("portico_http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("portico_http_request_duration_seconds", "method" => method, "route" => route)
        .record(start.elapsed().as_secs_f64());
    resp
}

/// The JSON API and operations routes, each documented by the same value that serves it: a
/// route is added as an aide `ApiMethodRouter` (`get_with(handler, |op| op.summary(..))`), so
/// its verbs, parameters and schemas reach the OpenAPI document and `documented_routes()`
/// (the isolation matrix, the CSRF sweep) without a second list to keep in step.
pub struct ApiRouter {
    router: aide::axum::ApiRouter<AppState>,
}

impl Default for ApiRouter {
    fn default() -> Self {
        ApiRouter {
            router: aide::axum::ApiRouter::new(),
        }
    }
}

impl ApiRouter {
    /// Adds a documented route.
    pub fn route(mut self, path: &str, handler: ApiMethodRouter<AppState>) -> Self {
        self.router = self.router.api_route(path, handler);
        self
    }

    /// Merges another registry.
    pub fn merge(mut self, other: ApiRouter) -> Self {
        self.router = self.router.merge(other.router);
        self
    }

    /// Splits into the router and the generated OpenAPI document.
    pub fn into_parts(self) -> (Router<AppState>, serde_json::Value) {
        let mut api = openapi::base_document();
        let router = self.router.finish_api(&mut api);
        let mut doc = serde_json::to_value(&api).unwrap_or_default();
        openapi::finish(&mut doc);
        (router, doc)
    }
}

/// The `(path, method)` pairs an OpenAPI document lists.
pub fn operations(doc: &serde_json::Value) -> BTreeSet<(String, String)> {
    const METHODS: [&str; 8] = [
        "get", "put", "post", "delete", "options", "head", "patch", "trace",
    ];
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for method in item.as_object().into_iter().flat_map(|i| i.keys()) {
            if METHODS.contains(&method.as_str()) {
                out.insert((path.clone(), method.clone()));
            }
        }
    }
    out
}

/// A router that remembers its page (HTML) routes, so the isolation matrix covers every page
/// with an object id in its path. The methods come from the handler itself.
pub struct PageRouter {
    router: Router<AppState>,
    routes: BTreeSet<(String, String)>,
}

impl Default for PageRouter {
    fn default() -> Self {
        PageRouter {
            router: Router::new(),
            routes: BTreeSet::new(),
        }
    }
}

impl PageRouter {
    /// Adds a route, recording each verb `handler` answers.
    pub fn route(mut self, path: &str, handler: axum::routing::MethodRouter<AppState>) -> Self {
        for m in methods_of(&handler) {
            self.routes.insert((path.to_string(), m));
        }
        self.router = self.router.route(path, handler);
        self
    }

    /// Merges another registry.
    pub fn merge(mut self, other: PageRouter) -> Self {
        self.routes.extend(other.routes);
        self.router = self.router.merge(other.router);
        self
    }

    /// Splits into the router and the list of `(path, method)` pairs.
    pub fn into_parts(self) -> (Router<AppState>, BTreeSet<(String, String)>) {
        (self.router, self.routes)
    }
}

/// The verbs a method router answers, lowercase, without the HEAD that axum adds to GET.
///
/// axum has no accessor for them, but its `Debug` output shows the `Allow` header it will send
/// (`allow_header: Bytes(b"GET,HEAD,POST")`); the unit test below holds this to axum's format.
fn methods_of<S>(handler: &axum::routing::MethodRouter<S>) -> Vec<String> {
    let debug = format!("{handler:?}");
    let Some((_, rest)) = debug.split_once("allow_header: Bytes(b\"") else {
        return Vec::new();
    };
    rest.split('"')
        .next()
        .unwrap_or("")
        .split(',')
        .filter(|m| !m.is_empty() && *m != "HEAD")
        .map(str::to_ascii_lowercase)
        .collect()
}

/// Parses the `status` field of update bodies: `"active"` → true, `"deactivated"` → false.
pub fn parse_active(status: Option<&str>) -> Result<Option<bool>, crate::error::AppError> {
    match status {
        None => Ok(None),
        Some("active") => Ok(Some(true)),
        Some("deactivated") => Ok(Some(false)),
        Some(_) => Err(crate::error::AppError::field(
            "status",
            "Use \"active\" or \"deactivated\".",
        )),
    }
}

#[cfg(test)]
mod tests {
    use axum::routing::{get, post};

    use super::methods_of;

    async fn ok() {}

    #[test]
    fn page_methods_are_read_from_the_handler() {
        assert_eq!(methods_of::<()>(&get(ok)), ["get"]);
        assert_eq!(methods_of::<()>(&post(ok)), ["post"]);
        assert_eq!(
            methods_of::<()>(
                &get(ok).merge(post(ok).layer(axum::extract::DefaultBodyLimit::disable()))
            ),
            ["get", "post"]
        );
        assert_eq!(
            methods_of::<()>(&get(ok).post(ok).patch(ok)),
            ["get", "post", "patch"]
        );
    }
}
