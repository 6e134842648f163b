//! Operations endpoints: health, readiness, metrics, and the OpenAPI document.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::app::AppState;
use crate::http::ApiRouter;

/// The OpenAPI document, kept beside the code and checked against the router by a test.
pub const OPENAPI: &str = include_str!("openapi.json");

/// Routes.
pub fn routes() -> ApiRouter {
    ApiRouter::default()
        .route("/healthz", &["get"], get(healthz))
        .route("/readyz", &["get"], get(readyz))
        .route("/metrics", &["get"], get(metrics))
        .route("/api/openapi.json", &["get"], get(openapi))
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(app): State<AppState>) -> Response {
    match sqlx::query("SELECT 1").execute(app.db.pool()).await {
        Ok(_) => "ready".into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response()
        }
    }
}

async fn metrics(State(app): State<AppState>) -> Response {
    let mut r = app.metrics.render().into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    r
}

async fn openapi() -> Response {
    let mut r = OPENAPI.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}
