//! Every failure is a JSON [`ErrorBody`] with a stable code and a sentence for a person; extractor
//! rejections are mapped too, so a malformed body never gets axum's plain-text answer. Storage
//! failures are logged here and answered 500 without detail; a database that cannot be reached is
//! 503 with `Retry-After`, which clients and producers already wait out (MW-2).

use axum::http::header::{RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use lonceng_domain::protocol::{ErrorBody, ErrorDetail};

use crate::service::ServiceError;

/// Seconds a client waits before retrying while the database is unreachable: a PostgreSQL restart
/// takes a few.
const UNAVAILABLE_RETRY_AFTER: u64 = 5;

#[derive(Debug)]
pub enum ApiError {
    BadRequest {
        code: &'static str,
        message: String,
    },
    Unprocessable {
        code: &'static str,
        message: String,
    },
    Unauthorized(&'static str),
    /// Known, but not allowed this (a change without the console's CSRF token, from another site).
    Forbidden(&'static str),
    NotFound(String),
    Conflict(String),
    MethodNotAllowed,
    Gone(String),
    TooLarge(String),
    UnsupportedMedia(String),
    NotImplemented(&'static str, &'static str),
    Maintenance {
        until: Option<DateTime<Utc>>,
        retry_after: u64,
    },
    /// The database cannot be reached for a moment (it restarts, a node lost it): retry soon.
    Unavailable,
    /// A service this server depends on (the identity provider) failed.
    BadGateway(String),
    Internal,
}

impl ApiError {
    pub fn bad(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::BadRequest { code, message: message.into() }
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> ApiError {
        match e {
            ServiceError::InvalidEvent(e) => {
                ApiError::Unprocessable { code: "invalid_event", message: e.to_string() }
            }
            ServiceError::Invalid(message) => ApiError::Unprocessable { code: "invalid_body", message },
            ServiceError::NotFound(what) => ApiError::NotFound(what),
            ServiceError::Conflict(what) => ApiError::Conflict(what),
            ServiceError::Unauthorized => ApiError::Unauthorized("the token is not valid"),
            ServiceError::Maintenance { until, retry_after } => ApiError::Maintenance { until, retry_after },
            e @ ServiceError::CursorGone { .. } => ApiError::Gone(e.to_string()),
            ServiceError::Unavailable => ApiError::Unavailable,
            ServiceError::NotConfigured(why) => ApiError::NotImplemented("not_configured", why),
            ServiceError::IdentityProvider(why) => ApiError::BadGateway(why),
            ServiceError::Storage(e) => {
                tracing::error!(error = %e, "storage failed");
                ApiError::Internal
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, message) = match &self {
            ApiError::BadRequest { code, message } => (StatusCode::BAD_REQUEST, *code, message.clone()),
            ApiError::Unprocessable { code, message } => {
                (StatusCode::UNPROCESSABLE_ENTITY, *code, message.clone())
            }
            ApiError::Unauthorized(why) => (StatusCode::UNAUTHORIZED, "unauthorized", (*why).to_owned()),
            ApiError::Forbidden(why) => (StatusCode::FORBIDDEN, "forbidden", (*why).to_owned()),
            ApiError::NotFound(what) => (StatusCode::NOT_FOUND, "not_found", what.clone()),
            ApiError::Conflict(what) => (StatusCode::CONFLICT, "conflict", what.clone()),
            ApiError::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this path does not take that method".into(),
            ),
            ApiError::Gone(m) => (StatusCode::GONE, "cursor_gone", m.clone()),
            ApiError::TooLarge(m) => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", m.clone()),
            ApiError::UnsupportedMedia(m) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", m.clone())
            }
            ApiError::NotImplemented(code, m) => (StatusCode::NOT_IMPLEMENTED, *code, (*m).to_owned()),
            ApiError::BadGateway(m) => (StatusCode::BAD_GATEWAY, "bad_gateway", m.clone()),
            ApiError::Maintenance { until, .. } => (
                StatusCode::SERVICE_UNAVAILABLE,
                "maintenance",
                match until {
                    Some(t) => format!("under maintenance until {}", t.to_rfc3339()),
                    None => "under maintenance".to_owned(),
                },
            ),
            ApiError::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the server cannot reach its database for a moment; try again shortly".into(),
            ),
            ApiError::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "the server failed; it has been logged".into(),
            ),
        };
        let body = ErrorBody { error: ErrorDetail { code: code.to_owned(), message } };
        let mut response = (status, Json(body)).into_response();
        match self {
            ApiError::Maintenance { retry_after, .. } => {
                response.headers_mut().insert(RETRY_AFTER, HeaderValue::from(retry_after));
            }
            ApiError::Unavailable => {
                response.headers_mut().insert(RETRY_AFTER, HeaderValue::from(UNAVAILABLE_RETRY_AFTER));
            }
            ApiError::Unauthorized(_) => {
                response.headers_mut().insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            _ => {}
        }
        response
    }
}
