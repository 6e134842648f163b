//! Operations endpoints: health, readiness, metrics, and the OpenAPI document.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::app::AppState;
use crate::http::ApiRouter;

/// The base OpenAPI document, kept beside the code and checked against the router by a test.
const OPENAPI_BASE: &str = include_str!("openapi.json");

/// Per-feature fragments (`{"paths": {...}, "components": {"schemas": {...}}}`), merged into the
/// base so each feature documents its own routes.
const OPENAPI_FRAGMENTS: &[&str] = &[
    include_str!("openapi/team.json"),
    include_str!("openapi/audit.json"),
    include_str!("openapi/mfa.json"),
    include_str!("openapi/events.json"),
    include_str!("openapi/jobs.json"),
    include_str!("openapi/tickets.json"),
];

/// The full OpenAPI document.
pub fn openapi_document() -> serde_json::Value {
    let mut doc: serde_json::Value = serde_json::from_str(OPENAPI_BASE).unwrap_or_default();
    for frag in OPENAPI_FRAGMENTS {
        let Ok(frag) = serde_json::from_str::<serde_json::Value>(frag) else {
            continue;
        };
        for section in ["paths", "components"] {
            if let (Some(dst), Some(src)) = (doc.get_mut(section), frag.get(section)) {
                merge(dst, src);
            }
        }
    }
    doc
}

fn merge(dst: &mut serde_json::Value, src: &serde_json::Value) {
    match (dst, src) {
        (serde_json::Value::Object(d), serde_json::Value::Object(s)) => {
            for (k, v) in s {
                match d.get_mut(k) {
                    Some(existing) => merge(existing, v),
                    None => {
                        d.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (d, s) => *d = s.clone(),
    }
}

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

async fn metrics(State(app): State<AppState>) -> Response {
    let mut r = app.metrics.render().into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    r
}

async fn openapi() -> Response {
    static DOC: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let body = DOC.get_or_init(|| openapi_document().to_string()).clone();
    let mut r = body.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

#[cfg(test)]
mod tests {
    #[test]
    fn fragments_are_valid_json_with_paths() {
        for f in super::OPENAPI_FRAGMENTS {
            let v: serde_json::Value = serde_json::from_str(f).expect("fragment is JSON");
            assert!(
                v.get("paths").is_some_and(|p| p.is_object()),
                "fragment without paths"
            );
        }
    }
}
