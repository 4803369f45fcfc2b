//! Request extractors whose rejections are [`ApiError`]s: JSON bodies, query strings, and the three
//! kinds of caller (a client device, a producer, an operator).

use std::sync::Arc;

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::Json;

use super::error::ApiError;
use super::BODY_LIMIT;
use crate::db::{Database, Device};
use crate::service::Service;

/// A JSON object body whose rejections are [`ApiError`]s. Only an object is taken: serde would
/// also read a struct from an array of its fields (`["u-1", "Sari"]`), which no client means.
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let unprocessable = |message: String| ApiError::Unprocessable { code: "invalid_body", message };
        match Json::<serde_json::Value>::from_request(req, state).await {
            Ok(Json(v)) if v.is_object() => {
                serde_json::from_value(v).map(Body).map_err(|e| unprocessable(e.to_string()))
            }
            Ok(Json(_)) => Err(unprocessable("the body must be a JSON object".into())),
            Err(r) => Err(match r.status() {
                StatusCode::PAYLOAD_TOO_LARGE => {
                    ApiError::TooLarge(format!("the request body is larger than {BODY_LIMIT} bytes"))
                }
                StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::UnsupportedMedia(
                    "send the body as JSON with Content-Type: application/json".into(),
                ),
                StatusCode::UNPROCESSABLE_ENTITY => {
                    ApiError::Unprocessable { code: "invalid_body", message: r.body_text() }
                }
                _ => ApiError::bad("malformed_json", r.body_text()),
            }),
        }
    }
}

/// Path parameters whose rejections are [`ApiError`]s (an id that is not a number, text that is not
/// UTF-8), not axum's plain text.
pub struct P<T>(pub T);

impl<S: Send + Sync, T> FromRequestParts<S> for P<T>
where
    Path<T>: FromRequestParts<S, Rejection = PathRejection>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(v)| P(v))
            .map_err(|r| ApiError::bad("invalid_path", r.body_text()))
    }
}

/// Query parameters whose rejections are [`ApiError`]s.
pub struct Q<T>(pub T);

impl<S: Send + Sync, T> FromRequestParts<S> for Q<T>
where
    Query<T>: FromRequestParts<S, Rejection = QueryRejection>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| Q(v))
            .map_err(|r| ApiError::bad("invalid_query", r.body_text()))
    }
}

fn bearer(parts: &Parts) -> Option<&str> {
    parts.headers.get(AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ").map(str::trim)
}

/// An authenticated client device. Rejects with 503 during maintenance, 401 without a valid token.
pub struct Client(pub Device);

impl<D: Database> FromRequestParts<Arc<Service<D>>> for Client {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, service: &Arc<Service<D>>) -> Result<Self, ApiError> {
        service.reject_if_maintenance()?;
        let token = bearer(parts).ok_or(ApiError::Unauthorized("send Authorization: Bearer <token>"))?;
        Ok(Client(service.authenticate(token).await?))
    }
}

/// A client of the stream: a bearer token, or (for a web page's `EventSource`, which cannot send
/// headers) a stream ticket in the query (`?ticket=`). Rejects with 503 during maintenance.
pub struct StreamClient(pub Device);

impl<D: Database> FromRequestParts<Arc<Service<D>>> for StreamClient {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, service: &Arc<Service<D>>) -> Result<Self, ApiError> {
        service.reject_if_maintenance()?;
        if let Some(token) = bearer(parts) {
            return Ok(StreamClient(service.authenticate(token).await?));
        }
        let ticket = parts.uri.query().and_then(|q| form_urlencoded_value(q, "ticket")).ok_or(
            ApiError::Unauthorized("send Authorization: Bearer <token>, or ?ticket= from /v1/stream/tickets"),
        )?;
        let device = service.redeem_ticket(&ticket)?;
        // A ticket outlives a revocation by up to its lifetime: its device must still be signed in.
        service.still_signed_in(&device).await?;
        Ok(StreamClient(device))
    }
}

/// One value of a query string.
fn form_urlencoded_value(query: &str, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

/// Whether the request holds `secret` as its bearer token (compared in constant time).
fn holds(parts: &Parts, secret: &str, why: &'static str) -> Result<(), ApiError> {
    match bearer(parts) {
        Some(t) if crate::same_secret(t, secret) => Ok(()),
        _ => Err(ApiError::Unauthorized(why)),
    }
}

/// A producer (CRM, Omnichannel, chatbot) holding the producer token.
pub struct Producer<D>(pub Arc<Service<D>>);

impl<D: Database> FromRequestParts<Arc<Service<D>>> for Producer<D> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, service: &Arc<Service<D>>) -> Result<Self, ApiError> {
        holds(parts, &service.config.producer_token, "producer token required")?;
        Ok(Producer(service.clone()))
    }
}

/// An operator: the holder of the admin token, or an admin signed in to the console (ORG-4),
/// whose changes also carry the console's CSRF token. Both reach the same handlers.
pub struct Admin<D>(pub Arc<Service<D>>);

impl<D: Database> FromRequestParts<Arc<Service<D>>> for Admin<D> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, service: &Arc<Service<D>>) -> Result<Self, ApiError> {
        let AdminActor(s, _) = AdminActor::from_request_parts(parts, service).await?;
        Ok(Admin(s))
    }
}

/// An operator, as the audit trail names them.
pub struct AdminActor<D>(pub Arc<Service<D>>, pub crate::service::Actor);

impl<D: Database> FromRequestParts<Arc<Service<D>>> for AdminActor<D> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, service: &Arc<Service<D>>) -> Result<Self, ApiError> {
        let Ok(Address(address)) = Address::from_request_parts(parts, service).await;
        const WHY: &str = "admin token required (or sign in to the console at /admin)";
        if bearer(parts).is_some() {
            holds(parts, &service.config.admin_token, WHY)?;
            return Ok(AdminActor(service.clone(), crate::service::Actor::admin(address)));
        }
        match crate::api::console::session::admin_of(parts, service).await? {
            Some(admin) => Ok(AdminActor(service.clone(), admin.actor(address))),
            None => Err(ApiError::Unauthorized(WHY)),
        }
    }
}

/// The address of the connection a request came on (set by the server's accept loop).
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub std::net::IpAddr);

/// Where a request came from, for the audit trail: the peer, or the client a trusted proxy (nginx
/// on this host, by default) names last in `X-Forwarded-For`.
pub struct Address(pub Option<String>);

impl<D: Database> FromRequestParts<Arc<Service<D>>> for Address {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        service: &Arc<Service<D>>,
    ) -> Result<Self, Self::Rejection> {
        let Some(Peer(peer)) = parts.extensions.get::<Peer>().copied() else { return Ok(Address(None)) };
        let forwarded = service
            .config
            .trusted_proxies
            .contains(&peer)
            .then(|| {
                parts.headers.get("x-forwarded-for")?.to_str().ok()?.rsplit(',').next()?.trim().parse().ok()
            })
            .flatten();
        Ok(Address(Some(forwarded.unwrap_or(peer).to_string())))
    }
}
