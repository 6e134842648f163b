//! Server-sent event streams: `/api/v1/events` (portal) and `/api/v1/admin/events` (staff).

use aide::axum::routing::get_with;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use tokio::time::Instant;

use super::audience::{Delivery, Subscription};
use crate::auth::{Audience, PortalUser, Principal, StaffUser};
use crate::http::ApiRouter;
use crate::http::context::cookie;
use crate::state::AppState;

/// How often an idle stream checks that its session still exists.
const RECHECK: Duration = Duration::from_secs(60);
/// Comment lines keep proxies from closing a quiet stream.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// JSON API.
pub fn api() -> ApiRouter {
    ApiRouter::default()
        .route(
            "/api/v1/events",
            get_with(portal_stream, |op| {
                op.id("portalEvents")
                    .tag("events")
                    .summary("Live events (portal)")
                    .with(crate::http::openapi::event_stream)
            }),
        )
        .route(
            "/api/v1/admin/events",
            get_with(admin_stream, |op| {
                op.id("adminEvents")
                    .tag("events")
                    .summary("Live events (staff)")
                    .with(crate::http::openapi::event_stream)
            }),
        )
}

async fn portal_stream(
    State(app): State<AppState>,
    user: PortalUser,
    headers: HeaderMap,
) -> Response {
    stream(app, user.0, &headers, Audience::Portal)
}

async fn admin_stream(
    State(app): State<AppState>,
    staff: StaffUser,
    headers: HeaderMap,
) -> Response {
    stream(app, staff.0, &headers, Audience::Admin)
}

struct Conn {
    app: AppState,
    sub: Subscription,
    principal: Arc<Principal>,
    token: String,
    audience: Audience,
    next_check: Instant,
    greeted: bool,
}

/// The session as it is now: `None` when it was revoked or expired (the stream ends).
async fn recheck(c: &mut Conn, since: Instant) -> bool {
    let checks = c.app.events.checks.clone();
    match checks.session(&c.app.db, &c.token, c.audience, since).await {
        // A switch of company ends the stream: it is filed under the company it started in,
        // and the client reconnects into the new one.
        Ok(Some(p)) if p.company_id != c.principal.company_id => false,
        Ok(Some(p)) => {
            c.principal = p;
            c.next_check = Instant::now() + RECHECK;
            true
        }
        Ok(None) => false,
        Err(()) => {
            // A database hiccup should not drop every stream; try again soon.
            c.next_check = Instant::now() + Duration::from_secs(5);
            true
        }
    }
}

/// The SSE form of an event: `event: <kind>`, `data: <data with object_id>`.
pub fn to_sse(d: &Delivery) -> SseEvent {
    SseEvent::default()
        .event(d.event.kind.as_str())
        .data(&d.data)
}

async fn next(mut c: Conn) -> Option<(Result<SseEvent, Infallible>, Conn)> {
    if !c.greeted {
        // Tells the client the subscription is in place.
        c.greeted = true;
        return Some((Ok(SseEvent::default().comment("connected")), c));
    }
    loop {
        tokio::select! {
            r = c.sub.rx.recv() => match r {
                Some(d) => {
                    if !d.event.visible_to(&c.principal) {
                        continue;
                    }
                    // Checked here, on the receiving node, with the session as it is now: a
                    // lookup that started after the event arrived, shared by the session's
                    // other streams.
                    if !recheck(&mut c, d.arrived).await {
                        return None;
                    }
                    if d.event.visible_to(&c.principal) {
                        return Some((Ok(to_sse(&d)), c));
                    }
                }
                None => return None,
            },
            _ = tokio::time::sleep_until(c.next_check) => {
                if !recheck(&mut c, Instant::now()).await {
                    return None;
                }
            }
        }
    }
}

fn stream(app: AppState, p: Arc<Principal>, headers: &HeaderMap, audience: Audience) -> Response {
    // The extractor already validated this cookie; the stream keeps it to re-check later.
    let token = cookie(headers, audience.cookie())
        .unwrap_or_default()
        .to_string();
    let conn = Conn {
        sub: app.events.streams.subscribe(&p, audience),
        app,
        principal: p,
        token,
        audience,
        next_check: Instant::now() + RECHECK,
        greeted: false,
    };
    let mut resp = Sse::new(futures::stream::unfold(conn, next))
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
        .into_response();
    // Reverse proxies (nginx) must pass events through as they come.
    resp.headers_mut()
        .insert("x-accel-buffering", HeaderValue::from_static("no"));
    resp
}
