//! The HTTP API (documented in `openapi.json`, kept true by a test): a thin adapter over the
//! [`Service`]. [`error`] maps failures to JSON answers, [`extract`] authenticates callers and
//! parses bodies, [`routes`] has one small handler per endpoint, [`stream`] is the SSE stream.
//!
//! Client routes answer 503 with `Retry-After` during maintenance; producer events are still
//! accepted and queued.

pub mod error;
pub mod extract;
pub mod qontak;
pub mod routes;
pub mod stream;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post, put};
use axum::Router;

pub use error::ApiError;
pub use routes::{IssuedToken, Me, StreamTicket};

use crate::db::Database;
use crate::service::Service;

/// Request bodies larger than this are refused with 413.
pub const BODY_LIMIT: usize = 64 * 1024;

pub fn router<D: Database>(service: Arc<Service<D>>) -> Router {
    use routes::*;
    let cors = cors(&service.config.cors_origins);
    // Webhook bodies carry the channel's raw message: a larger limit of their own.
    let webhook = post(qontak::webhook::<D>).layer(DefaultBodyLimit::max(qontak::WEBHOOK_BODY_LIMIT));
    let router = Router::new()
        .route("/healthz", get(health))
        .route("/v1/me", get(me))
        .route("/v1/notifications", get(list::<D>))
        .route("/v1/notifications/read-all", post(mark_all_read::<D>))
        .route("/v1/notifications/{id}/read", post(mark_read::<D>))
        .route("/v1/counts", get(counts::<D>))
        .route("/v1/changes", get(changes::<D>))
        .route("/v1/stream", get(stream::stream::<D>))
        .route("/v1/stream/tickets", post(stream_ticket::<D>))
        .route("/v1/presence", get(get_presence::<D>).put(put_presence::<D>))
        .route("/v1/maintenance", get(maintenance::<D>))
        .route("/v1/events", post(post_event::<D>))
        .route("/v1/admin/users", post(admin_user::<D>))
        .route("/v1/admin/tokens", post(admin_token::<D>))
        .route("/v1/admin/maintenance/windows", post(admin_window::<D>))
        .route("/v1/admin/maintenance/start", post(admin_start::<D>))
        .route("/v1/admin/maintenance/end", post(admin_end::<D>))
        .route("/v1/admin/users/{id}/qontak", put(qontak::link_user::<D>))
        .route("/v1/admin/qontak/agents", get(qontak::agents::<D>))
        .route(
            "/v1/admin/qontak/webhook-secrets",
            get(qontak::list_secrets::<D>).post(qontak::create_secret::<D>),
        )
        .route("/v1/admin/qontak/webhook-secrets/{id}/rotate", post(qontak::rotate_secret::<D>))
        .route("/v1/admin/qontak/dead-letters", get(qontak::dead_letters::<D>))
        .route("/v1/admin/qontak/dead-letters/{id}/replay", post(qontak::replay::<D>))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .route("/v1/integrations/qontak/webhooks/{secret}", webhook)
        .fallback(|| async { ApiError::NotFound("no such path".into()) })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(tower_http::trace::TraceLayer::new_for_http().make_span_with(request_span))
        .with_state(service);
    match cors {
        Some(cors) => router.layer(cors),
        None => router,
    }
}

/// The span of a request: its method and path, without the query (stream tickets travel there) and
/// without the webhook's secret (it is the webhook's only credential).
fn request_span(req: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    let path = req.uri().path();
    let path = match path.strip_prefix(qontak::WEBHOOK_PREFIX) {
        Some(_) => format!("{}…", qontak::WEBHOOK_PREFIX),
        None => path.to_owned(),
    };
    tracing::debug_span!("request", method = %req.method(), path)
}

/// Browsers on these origins may call the API (a web page with a stream ticket, say): what they
/// send (a bearer token, JSON, an idempotency key) and what they must read (`Retry-After`).
fn cors(origins: &[String]) -> Option<tower_http::cors::CorsLayer> {
    use axum::http::{header, HeaderName, HeaderValue, Method};
    let origins: Vec<HeaderValue> = origins.iter().filter_map(|o| o.parse().ok()).collect();
    if origins.is_empty() {
        return None;
    }
    Some(
        tower_http::cors::CorsLayer::new()
            .allow_origin(origins)
            .allow_methods([Method::GET, Method::POST, Method::PUT])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                HeaderName::from_static("idempotency-key"),
                HeaderName::from_static("last-event-id"),
            ])
            .expose_headers([header::RETRY_AFTER])
            .max_age(std::time::Duration::from_secs(600)),
    )
}
