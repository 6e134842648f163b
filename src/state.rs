//! The shared state every handler receives: infrastructure only (database, configuration,
//! mail, live events, metrics). Features depend on it; it depends on no feature, so generic
//! layers (`http`, `jobs`, `events`) can take it without reaching up into the application.
//! `app` builds it and assembles the routes.

use std::sync::Arc;

use axum::extract::FromRef;
use metrics_exporter_prometheus::PrometheusHandle;

use crate::config::Config;
use crate::db::Db;
use crate::events::EventBus;
use crate::mail::Mailer;
use crate::tenancy::store::DomainCache;

/// Everything handlers share.
pub struct Inner {
    /// Database.
    pub db: Db,
    /// Configuration.
    pub config: Config,
    /// Custom-domain map.
    pub domains: DomainCache,
    /// Outgoing mail.
    pub mailer: Mailer,
    /// Prometheus renderer.
    pub metrics: PrometheusHandle,
    /// Live events.
    pub events: EventBus,
    /// Identifies this process in job claims (`locked_by`).
    pub node_id: String,
    /// Uploaded files (local directory or S3).
    pub files: crate::files::Storage,
}

/// Cheaply clonable handle to the shared state.
#[derive(Clone)]
pub struct AppState(pub Arc<Inner>);

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// Handlers and layers that need only the database take `State<Db>`.
impl FromRef<AppState> for Db {
    fn from_ref(app: &AppState) -> Db {
        app.db.clone()
    }
}

/// Handlers that need only live events take `State<EventBus>`.
impl FromRef<AppState> for EventBus {
    fn from_ref(app: &AppState) -> EventBus {
        app.events.clone()
    }
}
