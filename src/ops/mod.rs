//! Operations endpoints: health, readiness, metrics, the OpenAPI document and its reference page.

use aide::axum::routing::get_with;
use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::http::ApiRouter;
use crate::state::AppState;

/// Routes.
pub fn routes() -> ApiRouter {
    ApiRouter::default()
        .route(
            "/healthz",
            get_with(healthz, |op| {
                op.id("healthz")
                    .tag("ops")
                    .summary("Liveness")
                    .description("Answers while the process serves requests. No tenant, no session.")
            }),
        )
        .route(
            "/readyz",
            get_with(readyz, |op| {
                op.id("readyz")
                    .tag("ops")
                    .summary("Readiness")
                    .description("Checks that the database answers.")
                    .response_with::<200, String, _>(|r| r.description("Ready.").example("ready"))
                    .response_with::<503, String, _>(|r| {
                        r.description("The database is unreachable.")
                            .example("database unreachable")
                    })
            }),
        )
        .route(
            "/metrics",
            get_with(metrics, |op| {
                op.id("metrics")
                    .tag("ops")
                    .summary("Prometheus metrics")
                    .description(
                        "Request counts (`portico_http_requests_total`) and latencies \
                         (`portico_http_request_duration_seconds`) per method and route pattern, \
                         in the Prometheus text format. Unauthenticated: restrict access at the proxy.",
                    )
                    .response_with::<200, String, _>(|r| r.description("Metrics."))
            }),
        )
        .route(
            "/api/openapi.json",
            get_with(openapi, |op| {
                op.id("openapi")
                    .tag("ops")
                    .summary("This OpenAPI document")
                    .description("Generated from the routes and their types; browsable at `/api/docs`.")
                    .response_with::<200, Json<serde_json::Value>, _>(|r| {
                        r.description("The OpenAPI 3.1 document.")
                    })
            }),
        )
}

/// The browsable API reference (Swagger UI, compiled in) at `/api/docs`; not part of the API.
pub fn docs() -> Router<AppState> {
    Router::new()
        .route("/api/docs", get(docs_page))
        .route("/api/docs/docs.js", get(docs_script))
        .route("/api/docs/docs.css", get(docs_style))
        .route("/api/docs/swagger-ui-bundle.js", get(swagger_script))
        .route("/api/docs/swagger-ui.css", get(swagger_style))
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(app): State<AppState>) -> Response {
    match sqlx::query("SELECT 1")
        .execute(app.db.operator("readiness probe").reader())
        .await
    {
        Ok(_) => "ready".into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response()
        }
    }
}

/// Marks requests that arrived on the separate metrics listener (`PORTICO_METRICS_LISTEN`).
#[derive(Clone, Copy, Debug)]
pub struct MetricsListener;

/// The router of the separate metrics listener: `/metrics` only.
pub fn metrics_router(state: AppState) -> axum::Router {
    axum::Router::new()
        .route("/metrics", get(metrics))
        .layer(axum::Extension(MetricsListener))
        .with_state(state)
}

async fn metrics(
    State(app): State<AppState>,
    listener: Option<axum::Extension<MetricsListener>>,
    headers: axum::http::HeaderMap,
) -> Response {
    // With its own listener, the public one answers as if there were no such page.
    if app.config.metrics_listen.is_some() && listener.is_none() {
        return StatusCode::NOT_FOUND.into_response();
    }
    if let Some(token) = &app.config.metrics_token {
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        // Constant time: the comparison does not reveal how much of a guess was right.
        let ok: bool = subtle::ConstantTimeEq::ct_eq(presented.as_bytes(), token.as_bytes()).into();
        if !ok {
            let mut r = (StatusCode::UNAUTHORIZED, "metrics need a bearer token").into_response();
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"metrics\""),
            );
            return r;
        }
    }
    let mut r = app.metrics.render().into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    r
}

async fn openapi() -> Response {
    static DOC: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let body = DOC
        .get_or_init(|| crate::app::openapi_document().to_string())
        .clone();
    asset(body, "application/json", false)
}

fn asset(body: impl IntoResponse, content_type: &'static str, cache: bool) -> Response {
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if cache {
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=3600"),
        );
    }
    r
}

async fn docs_page() -> Response {
    asset(
        include_str!("docs/index.html"),
        "text/html; charset=utf-8",
        false,
    )
}

async fn docs_script() -> Response {
    asset(
        include_str!("docs/docs.js"),
        "text/javascript; charset=utf-8",
        true,
    )
}

async fn docs_style() -> Response {
    asset(
        include_str!("docs/docs.css"),
        "text/css; charset=utf-8",
        true,
    )
}

async fn swagger_script() -> Response {
    asset(
        include_str!("docs/swagger-ui/swagger-ui-bundle.js"),
        "text/javascript; charset=utf-8",
        true,
    )
}

async fn swagger_style() -> Response {
    asset(
        include_str!("docs/swagger-ui/swagger-ui.css"),
        "text/css; charset=utf-8",
        true,
    )
}
