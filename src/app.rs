//! Assembles the application: shared state, the router with its layers, and the server loop.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::get;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnFailure, DefaultOnResponse, TraceLayer};

use crate::config::Config;
use crate::db::Db;
use crate::error::AppError;
use crate::http::{ApiRouter, JSON_LIMIT, PageRouter};
use crate::mail::Mailer;
use crate::tenancy::store::DomainCache;

pub use crate::state::{AppState, Inner};

fn metrics_handle() -> anyhow::Result<PrometheusHandle> {
    // The recorder is process-global and tests build many apps in one process: install once.
    static HANDLE: OnceLock<Result<PrometheusHandle, String>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            PrometheusBuilder::new()
                .install_recorder()
                .map_err(|e| e.to_string())
        })
        .clone()
        .map_err(anyhow::Error::msg)
}

impl AppState {
    /// Connects, migrates and builds the state.
    pub async fn build(config: Config) -> anyhow::Result<AppState> {
        let db = Db::connect(&config.database_url).await.map_err(|e| {
            anyhow::anyhow!(
                "cannot open the database {}: {e}",
                crate::config::redact_url(&config.database_url)
            )
        })?;
        crate::audit::install_key(&config.secret_key);
        let keying = crate::audit::keying_pending(&db).await;
        db.migrate().await?;
        if keying {
            crate::audit::key_legacy_chains(&db).await?;
        }
        let mailer = Mailer::from_config(&config)?;
        let files = crate::files::Storage::from_config(&config.storage)?;
        let events = crate::events::EventBus::for_db(&db, &config.database_url).await?;
        let node_id = format!(
            "{}-{}",
            std::process::id(),
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        Ok(AppState(Arc::new(Inner {
            db,
            config,
            domains: DomainCache::default(),
            mailer,
            metrics: metrics_handle()?,
            events,
            node_id,
            files,
        })))
    }
}

fn api() -> ApiRouter {
    crate::auth::routes::api()
        .merge(crate::branding::routes::api())
        .merge(crate::companies::routes::api())
        .merge(crate::users::routes::api())
        .merge(crate::users::membership_routes::api())
        .merge(crate::tickets::routes::api())
        .merge(crate::tickets::admin::api())
        .merge(crate::catalog::routes::api())
        .merge(crate::documents::routes::api())
        .merge(crate::documents::admin::api())
        .merge(crate::documents::shared_routes::api())
        .merge(crate::documents::legal_routes::api())
        .merge(crate::team::routes::api())
        .merge(crate::audit::routes::api())
        .merge(crate::jobs::routes::api())
        .merge(crate::invoices::routes::api())
        .merge(crate::invoices::admin::api())
        .merge(crate::billing::routes::api())
        .merge(crate::billing::admin::api())
        .merge(crate::mission::api())
        .merge(crate::events::routes::api())
        .merge(crate::kb::routes::api())
        .merge(crate::announcements::routes::api())
        .merge(crate::psa::routes::api())
        .merge(crate::assistant::routes::api())
}

/// The OpenAPI document, generated from the routes of the JSON API and operations endpoints.
pub fn openapi_document() -> &'static serde_json::Value {
    static DOC: OnceLock<serde_json::Value> = OnceLock::new();
    DOC.get_or_init(|| api().merge(crate::ops::routes()).into_parts().1)
}

/// Every `(path, method)` of the JSON API and operations endpoints, as the router serves them.
pub fn documented_routes() -> BTreeSet<(String, String)> {
    crate::http::operations(openapi_document())
}

fn pages() -> PageRouter {
    crate::auth::routes::pages()
        .merge(crate::portal::pages())
        .merge(crate::admin::pages())
        .merge(crate::companies::routes::pages())
        .merge(crate::users::routes::pages())
        .merge(crate::users::membership_routes::pages())
        .merge(crate::team::routes::pages())
        .merge(crate::audit::routes::pages())
        .merge(crate::profile::routes::pages())
        .merge(crate::mfa::routes::pages())
        .merge(crate::invoices::routes::pages())
        .merge(crate::invoices::admin::pages())
        .merge(crate::billing::routes::pages())
        .merge(crate::billing::admin::pages())
        .merge(crate::branding::routes::pages())
        .merge(crate::mission::pages())
        .merge(crate::jobs::routes::pages())
        .merge(crate::tickets::routes::pages())
        .merge(crate::tickets::admin::pages())
        .merge(crate::catalog::routes::pages())
        .merge(crate::kb::routes::pages())
        .merge(crate::announcements::routes::pages())
        .merge(crate::documents::routes::pages())
        .merge(crate::documents::admin::pages())
        .merge(crate::documents::shared_routes::pages())
        .merge(crate::documents::legal_routes::pages())
        .merge(crate::documents::verify::pages())
        .merge(crate::integrations::pages())
        .merge(crate::psa::routes::pages())
        .merge(crate::identity::routes::pages())
        .merge(crate::assistant::settings::pages())
}

/// Every `(path, method)` of the HTML pages (the isolation matrix covers those with an id).
pub fn page_routes() -> BTreeSet<(String, String)> {
    pages().into_parts().1
}

async fn not_found() -> AppError {
    AppError::NotFound
}

/// The full router.
pub fn router(state: AppState) -> Router {
    let (api_router, _) = api().into_parts();
    let (ops_router, _) = crate::ops::routes().into_parts();
    let (page_router, _) = pages().into_parts();
    let app_routes = Router::new()
        .merge(page_router)
        .merge(api_router)
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(JSON_LIMIT))
        .layer(from_fn_with_state(
            state.clone(),
            crate::http::context::resolve,
        ));
    let public = Router::new()
        .route("/assets/portico.css", get(crate::web::stylesheet))
        .route("/assets/portico.js", get(crate::web::script))
        .route("/assets/tickets.js", get(crate::tickets::routes::script))
        .route(
            "/assets/announcements.js",
            get(crate::announcements::script),
        )
        .route(
            "/assets/assistant.js",
            get(crate::assistant::routes::script),
        )
        .route(
            "/assets/documents.js",
            get(crate::documents::routes::script),
        )
        .merge(crate::branding::routes::stylesheets())
        .merge(crate::tickets::inbound::routes())
        .merge(crate::invoices::routes::webhooks())
        .merge(crate::ops::docs())
        .merge(ops_router);
    Router::new()
        .merge(app_routes)
        .merge(public)
        .layer(from_fn(crate::http::track_metrics))
        .layer(from_fn_with_state(state.clone(), crate::http::security_headers))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
                let id = req
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                // The path only: query strings can carry reset and invitation tokens.
                tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
            })
            .on_response(DefaultOnResponse::new().level(tracing::Level::INFO))
            .on_failure(DefaultOnFailure::new().level(tracing::Level::ERROR)),
        )
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}

/// Serves until the future `shutdown` completes; runs this node's job worker meanwhile.
pub async fn serve(
    state: AppState,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    // Metrics on their own address (e.g. only reachable from the monitoring network).
    let metrics = match state.config.metrics_listen {
        Some(addr) => {
            let l = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
                anyhow::anyhow!("PORTICO_METRICS_LISTEN: cannot listen on {addr}: {e}")
            })?;
            let r = crate::ops::metrics_router(state.clone());
            Some(tokio::spawn(async move { axum::serve(l, r).await }))
        }
        None => None,
    };
    let worker = crate::jobs::spawn_worker(state.clone());
    let sla_watch = crate::tickets::sla::spawn_watch(state.clone());
    let overdue_watch = crate::invoices::overdue::spawn_watch(state.clone());
    let psa_watch = crate::psa::sync::spawn_watch(state.clone());
    let reminder_watch = crate::documents::reminders::spawn_watch(state.clone());
    let recurring_watch = crate::mission::giving::recurring::spawn_watch(state.clone());
    let app = router(state);
    let served = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await;
    // A job cut off here keeps its lease and is picked up again when the lease runs out.
    worker.abort();
    sla_watch.abort();
    overdue_watch.abort();
    psa_watch.abort();
    reminder_watch.abort();
    recurring_watch.abort();
    if let Some(m) = metrics {
        m.abort();
    }
    served?;
    Ok(())
}
