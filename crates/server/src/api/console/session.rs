//! The console's sessions (ORG-4), by `tower-sessions`: it makes the ids, sets and reads the cookie
//! and tracks expiry; this module keeps its records in the server's database (any node reads them)
//! and says who is signed in. The cookie is `__Host-` (Secure, path `/`, no domain: no other site
//! or subdomain can set or read it), `HttpOnly` and `SameSite=Strict` (no cross-site request carries
//! it). Each change also carries the session's CSRF token in a header, which a page on another
//! origin cannot read nor send.

use std::sync::Arc;

use axum::http::request::Parts;
use axum::http::Method;
use serde::{Deserialize, Serialize};
use tower_sessions::cookie::time;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};
use tower_sessions::{Expiry, Session, SessionManagerLayer};

use crate::api::error::ApiError;
use crate::db::Database;
use crate::service::{Actor, Service};

/// The cookie's name: the `__Host-` prefix makes browsers insist on Secure, path `/`, no domain.
pub const COOKIE: &str = "__Host-lonceng-admin";
/// The header every change made from the console carries.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// A session ends after this long without use.
pub const IDLE: chrono::Duration = chrono::Duration::hours(2);
/// And after this long in any case: an admin signs in again each working day.
pub const LONGEST: chrono::Duration = chrono::Duration::hours(12);
/// The session's key for who is signed in.
const ADMIN: &str = "admin";

/// Who is signed in to the console.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsoleAdmin {
    /// The admin's email (from the identity provider), or `admin` for the admin token.
    pub email: String,
    pub name: String,
    /// Sent back as [`CSRF_HEADER`] with each change.
    pub csrf: String,
    pub signed_in_at: chrono::DateTime<chrono::Utc>,
}

impl ConsoleAdmin {
    pub fn actor(&self, address: Option<String>) -> Actor {
        if self.email == "admin" {
            Actor::admin(address)
        } else {
            Actor::console(&self.email, address)
        }
    }
}

/// The session layer over the server's database.
pub fn layer<D: Database>(service: Arc<Service<D>>) -> SessionManagerLayer<DbStore<D>> {
    let idle = time::Duration::seconds(IDLE.num_seconds());
    SessionManagerLayer::new(DbStore(service))
        .with_name(COOKIE)
        .with_secure(true)
        .with_http_only(true)
        .with_same_site(tower_sessions::cookie::SameSite::Strict)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(idle))
}

/// Opens a session for `admin` (a new id: one a page was given before signing in is worthless).
pub async fn open(
    session: &Session,
    email: String,
    name: String,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<ConsoleAdmin, ApiError> {
    let admin = ConsoleAdmin { email, name, csrf: crate::new_secret(), signed_in_at: now };
    session.cycle_id().await.map_err(store_error)?;
    session.insert(ADMIN, &admin).await.map_err(store_error)?;
    Ok(admin)
}

/// Who is signed in on this request, if anyone; a session past [`LONGEST`] is ended.
pub async fn signed_in<D: Database>(
    session: &Session,
    service: &Service<D>,
) -> Result<Option<ConsoleAdmin>, ApiError> {
    let Some(admin) = session.get::<ConsoleAdmin>(ADMIN).await.map_err(store_error)? else { return Ok(None) };
    if service.clock.now() - admin.signed_in_at > LONGEST {
        session.delete().await.map_err(store_error)?;
        return Ok(None);
    }
    Ok(Some(admin))
}

/// The admin signed in on a request that may change something: a request that changes anything
/// must carry the session's CSRF token, and must not come from another site.
pub async fn admin_of<D: Database>(
    parts: &Parts,
    service: &Service<D>,
) -> Result<Option<ConsoleAdmin>, ApiError> {
    let Some(session) = parts.extensions.get::<Session>() else { return Ok(None) };
    let Some(admin) = signed_in(session, service).await? else { return Ok(None) };
    if !matches!(parts.method, Method::GET | Method::HEAD) {
        check_origin(&parts.headers)?;
        let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
        if !crate::same_secret(sent, &admin.csrf) {
            return Err(ApiError::Forbidden(
                "this change lacks the console's CSRF token: reload the console",
            ));
        }
    }
    Ok(Some(admin))
}

/// A change sent by a page of another site is refused, whatever it carries (the browser says
/// where a request comes from in `Sec-Fetch-Site`, and in `Origin`).
pub fn check_origin(headers: &axum::http::HeaderMap) -> Result<(), ApiError> {
    let site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    if site.is_some_and(|s| s != "same-origin" && s != "none") {
        return Err(ApiError::Forbidden("a change from another site is refused"));
    }
    let origin = headers.get("origin").and_then(|v| v.to_str().ok());
    let host = headers.get("host").and_then(|v| v.to_str().ok());
    if let (Some(origin), Some(host)) = (origin, host) {
        let same = url::Url::parse(origin).ok().is_some_and(|o| {
            let authority = match o.port() {
                Some(p) => format!("{}:{p}", o.host_str().unwrap_or_default()),
                None => o.host_str().unwrap_or_default().to_owned(),
            };
            authority.eq_ignore_ascii_case(host)
        });
        if !same {
            return Err(ApiError::Forbidden("a change from another origin is refused"));
        }
    }
    Ok(())
}

fn store_error(e: tower_sessions::session::Error) -> ApiError {
    tracing::warn!(error = %e, "a console session cannot be read or kept");
    ApiError::Unavailable
}

/// Console sessions in the server's database.
pub struct DbStore<D>(Arc<Service<D>>);

impl<D> Clone for DbStore<D> {
    fn clone(&self) -> Self {
        DbStore(self.0.clone())
    }
}

impl<D> std::fmt::Debug for DbStore<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DbStore")
    }
}

fn backend(e: crate::service::ServiceError) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

#[async_trait::async_trait]
impl<D: Database> SessionStore for DbStore<D> {
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let person = record
            .data
            .get(ADMIN)
            .and_then(|a| a.get("email"))
            .and_then(|e| e.as_str())
            .unwrap_or_default()
            .to_owned();
        let json = serde_json::to_string(record).map_err(|e| session_store::Error::Encode(e.to_string()))?;
        let expires = chrono::DateTime::from_timestamp(record.expiry_date.unix_timestamp(), 0)
            .ok_or_else(|| session_store::Error::Encode("the expiry is out of range".into()))?;
        self.0.save_console_session(&record.id.to_string(), &person, json, expires).await.map_err(backend)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let Some(json) = self.0.console_session(&id.to_string()).await.map_err(backend)? else {
            return Ok(None);
        };
        serde_json::from_str(&json).map(Some).map_err(|e| session_store::Error::Decode(e.to_string()))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.0.end_console_session(&id.to_string()).await.map_err(backend)
    }
}
