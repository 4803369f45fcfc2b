//! The HTTP API (documented in `openapi.json`, kept true by a test): a thin adapter over the
//! [`Service`]. [`error`] maps failures to JSON answers, [`extract`] authenticates callers and
//! parses bodies, [`routes`] has one small handler per endpoint, [`stream`] is the SSE stream.
//!
//! Client routes answer 503 with `Retry-After` during maintenance; producer events are still
//! accepted and queued.

pub mod accounts;
pub mod auth;
pub mod console;
pub mod error;
pub mod extract;
pub mod qontak;
pub mod routes;
pub mod stream;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue};
use axum::routing::{get, post, put};
use axum::Router;

pub use error::ApiError;
pub use extract::Peer;
pub use routes::{IssuedToken, Me, StreamTicket};

use crate::db::Database;
use crate::service::Service;

type Request = axum::http::Request<axum::body::Body>;

/// The header that carries a request's id, in and out.
const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Request bodies larger than this are refused with 413.
pub const BODY_LIMIT: usize = 64 * 1024;

pub fn router<D: Database>(service: Arc<Service<D>>) -> Router {
    use routes::*;
    let cors = cors(&service.config.cors_origins);
    // Webhook bodies carry the channel's raw message: a larger limit of their own.
    let webhook = post(qontak::webhook::<D>).layer(DefaultBodyLimit::max(qontak::WEBHOOK_BODY_LIMIT));
    // The admin API, the sign-in's return from the identity provider and the console: the routes a
    // console session may be read on (ORG-4).
    let admin = Router::new()
        .route("/v1/admin/users", get(accounts::users::<D>).post(admin_user::<D>))
        .route("/v1/admin/agents.csv", get(accounts::export::<D>))
        .route("/v1/admin/tokens", post(admin_token::<D>))
        .route("/v1/admin/maintenance/windows", post(admin_window::<D>))
        .route("/v1/admin/maintenance/start", post(admin_start::<D>))
        .route("/v1/admin/maintenance/end", post(admin_end::<D>))
        .route("/v1/admin/users/{id}/qontak", put(qontak::link_user::<D>))
        .route("/v1/admin/qontak/agents", get(qontak::agents::<D>))
        .route("/v1/admin/qontak/bridge", get(qontak::bridge::<D>))
        .route(
            "/v1/admin/qontak/webhook-secrets",
            get(qontak::list_secrets::<D>).post(qontak::create_secret::<D>),
        )
        .route("/v1/admin/qontak/webhook-secrets/{id}/rotate", post(qontak::rotate_secret::<D>))
        .route("/v1/admin/qontak/dead-letters", get(qontak::dead_letters::<D>))
        .route("/v1/admin/qontak/dead-letters/{id}/replay", post(qontak::replay::<D>))
        .route("/v1/admin/users/{id}/devices", get(accounts::devices::<D>))
        .route("/v1/admin/users/{id}/devices/revoke", post(accounts::revoke_all::<D>))
        .route("/v1/admin/users/{id}/devices/{device}/revoke", post(accounts::revoke_device::<D>))
        .route("/v1/admin/users/{id}/disable", post(accounts::disable::<D>))
        .route("/v1/admin/users/{id}/enable", post(accounts::enable::<D>))
        .route("/v1/admin/audit", get(accounts::audit::<D>))
        .route("/v1/admin/nodes", get(accounts::nodes::<D>))
        .route("/v1/auth/callback", get(auth::callback::<D>))
        .merge(crate::api::console::routes::<D>())
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .route(
            "/v1/admin/agents/import",
            post(accounts::import::<D>).layer(DefaultBodyLimit::max(accounts::IMPORT_BODY_LIMIT)),
        )
        .layer(crate::api::console::session::layer(service.clone()));
    let router = Router::new()
        .route("/healthz", get(health))
        .route("/readyz", get(ready::<D>))
        .route("/metrics", get(metrics::<D>))
        .route("/v1/me", get(me))
        .route("/v1/notifications", get(list::<D>))
        .route("/v1/notifications/read-all", post(mark_all_read::<D>))
        .route("/v1/notifications/{id}/read", post(mark_read::<D>))
        .route("/v1/notifications/{id}/unread", post(mark_unread::<D>))
        .route("/v1/counts", get(counts::<D>))
        .route("/v1/changes", get(changes::<D>))
        .route("/v1/stream", get(stream::stream::<D>))
        .route("/v1/stream/tickets", post(stream_ticket::<D>))
        .route("/v1/presence", get(get_presence::<D>).put(put_presence::<D>))
        .route("/v1/maintenance", get(maintenance::<D>))
        .route("/v1/events", post(post_event::<D>))
        .route("/v1/auth/sign-in", get(auth::sign_in::<D>))
        .route("/v1/auth/token", post(auth::token::<D>))
        .route("/v1/auth/sign-out", post(auth::sign_out::<D>))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        // Registered in Qontak with a trailing slash, the URL must work all the same: every
        // delivery would otherwise be a 404 that Qontak's dashboard shows as an outage.
        .route("/v1/integrations/qontak/webhooks/{secret}/", webhook.clone())
        .route("/v1/integrations/qontak/webhooks/{secret}", webhook)
        .merge(admin)
        .fallback(|| async { ApiError::NotFound("no such path".into()) })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(axum::middleware::from_fn(request_id))
        .with_state(service);
    match cors {
        Some(cors) => router.layer(cors),
        None => router,
    }
}

/// The request's path as logs show it: without the query (stream tickets travel there) and without
/// the webhook's secret (it is the webhook's only credential).
fn logged_path(req: &Request) -> String {
    let path = req.uri().path();
    match path.strip_prefix(qontak::WEBHOOK_PREFIX) {
        Some(_) => format!("{}…", qontak::WEBHOOK_PREFIX),
        None => path.to_owned(),
    }
}

/// A request id a proxy in front may have set: kept when it is a plain token, else replaced.
fn given_request_id(req: &Request) -> Option<String> {
    let id = req.headers().get(REQUEST_ID)?.to_str().ok()?;
    let plain = (1..=64).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    plain.then(|| id.to_owned())
}

/// Every request gets an id (the proxy's `X-Request-Id`, or a new one), which every log line it
/// causes carries (its span) and the answer returns; one access line per answer, and the answer's
/// class counted for `/metrics`.
async fn request_id(mut req: Request, next: axum::middleware::Next) -> axum::response::Response {
    use tracing::Instrument;
    let id = given_request_id(&req).unwrap_or_else(|| crate::new_secret()[..16].to_owned());
    if let Ok(v) = HeaderValue::from_str(&id) {
        req.headers_mut().insert(REQUEST_ID, v);
    }
    let (method, path) = (req.method().clone(), logged_path(&req));
    let span = tracing::info_span!("request", request_id = %id, %method, path);
    let started = std::time::Instant::now();
    let mut response = next.run(req).instrument(span.clone()).await;
    let status = response.status().as_u16();
    crate::metrics::METRICS.response(status);
    span.in_scope(|| {
        tracing::info!(target: "lonceng_server::access", status, ms = started.elapsed().as_secs_f64() * 1e3, "answered")
    });
    if let Ok(v) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, v);
    }
    response
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
