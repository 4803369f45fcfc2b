//! ORG-4: the admin console at `/admin`, served by every node. Its pages are built by Vite from
//! `admin/` (TypeScript, no framework) and embedded in the binary: nothing is fetched from
//! elsewhere at run time. The pages call the admin API (`/v1/admin/…`) with the session cookie
//! instead of the admin token: the same handlers and service calls, no second path.
//!
//! Sign-in is the server's OpenID Connect set-up with the admin group (`--oidc-admin-group`); the
//! admin token stays for bootstrap (the sign-in page takes it too) and automation. Every console
//! answer carries a Content-Security-Policy that runs only the console's own scripts and styles and
//! may not be framed; [`session`] has the cookie and the CSRF rule.

pub mod session;

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use crate::api::error::ApiError;
use crate::api::extract::{Address, AdminActor};
use crate::db::Database;
use crate::service::Service;
use session::ConsoleAdmin;

/// The console's pages, as `npm run build` in `admin/` left them (embedded in every build; a build
/// without them answers that the console is not built).
#[derive(rust_embed::Embed)]
#[folder = "../../admin/dist/"]
#[allow_missing = true]
struct Pages;

/// What the console's pages may do: run and style only what this server serves, talk only to it,
/// be framed by nobody.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                       connect-src 'self'; font-src 'self'; form-action 'self'; base-uri 'none'; \
                       frame-ancestors 'none'";

/// The console's routes (under the session layer, with the admin API, in `api::router`).
pub fn routes<D: Database>() -> Router<Arc<Service<D>>> {
    Router::new()
        .route("/admin", get(|| async { redirect("/admin/") }))
        .route("/admin/", get(index))
        .route("/admin/assets/{file}", get(asset))
        .route("/admin/sign-in", get(sign_in::<D>))
        .route("/admin/session", get(whoami::<D>).post(token_sign_in::<D>).delete(sign_out::<D>))
}

/// Headers on every console answer.
pub fn guarded(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert("content-security-policy", HeaderValue::from_static(CSP));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    h.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    h.insert("cross-origin-resource-policy", HeaderValue::from_static("same-origin"));
    if !h.contains_key(CACHE_CONTROL) {
        h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    r
}

fn redirect(to: &'static str) -> Response {
    guarded((StatusCode::SEE_OTHER, [(LOCATION, HeaderValue::from_static(to))]).into_response())
}

/// A page for a person (text escaped; no script, no style).
pub fn page(status: StatusCode, title: &str, text: &str, refresh_to: Option<&str>) -> Response {
    let esc =
        |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
    let refresh = refresh_to
        .map(|to| format!("<meta http-equiv=\"refresh\" content=\"0; url={}\">", esc(to)))
        .unwrap_or_default();
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">{refresh}<title>{t} · Lonceng</title>\
         </head><body><h1>{t}</h1><p>{x}</p><p><a href=\"/admin/\">Lonceng admin console</a></p></body></html>",
        t = esc(title),
        x = esc(text)
    );
    guarded((status, [(CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response())
}

async fn index() -> Response {
    match Pages::get("index.html") {
        Some(f) => {
            guarded(([(CONTENT_TYPE, "text/html; charset=utf-8")], f.data.into_owned()).into_response())
        }
        None => page(
            StatusCode::SERVICE_UNAVAILABLE,
            "The console is not built",
            "This server was built without the admin console's pages (npm run build in admin/).",
            None,
        ),
    }
}

async fn asset(Path(file): Path<String>) -> Response {
    match Pages::get(&format!("assets/{file}")) {
        Some(f) => {
            let mime = f.metadata.mimetype().to_owned();
            let mut r = ([(CONTENT_TYPE, mime)], f.data.into_owned()).into_response();
            // Vite names assets by their content: a name never changes its bytes.
            r.headers_mut()
                .insert(CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
            guarded(r)
        }
        None => guarded(ApiError::NotFound("no such file".into()).into_response()),
    }
}

/// `GET /admin/sign-in`: to the identity provider, back at `/v1/auth/callback`.
async fn sign_in<D: Database>(State(s): State<Arc<Service<D>>>, Address(address): Address) -> Response {
    match s.begin_console_sign_in(address).await {
        Ok(to) => match HeaderValue::from_str(&to) {
            Ok(v) => guarded((StatusCode::SEE_OTHER, [(LOCATION, v)]).into_response()),
            Err(_) => page(
                StatusCode::BAD_GATEWAY,
                "Sign-in failed",
                "The identity provider's address is not valid.",
                None,
            ),
        },
        Err(crate::service::ServiceError::NotConfigured(why)) => {
            page(StatusCode::NOT_IMPLEMENTED, "Sign-in through your organisation is not set up", why, None)
        }
        Err(e) => {
            let status = ApiError::from(e).into_response().status();
            page(
                status,
                "Sign-in failed",
                "The identity provider cannot be reached now. Try again in a moment.",
                None,
            )
        }
    }
}

/// Who is signed in, for the console's pages (and the token to send with changes).
#[derive(Debug, Serialize, Deserialize)]
pub struct SessionView {
    pub email: String,
    pub name: String,
    pub csrf: String,
    /// The console's sign-in through the identity provider is set up.
    pub organisation: bool,
}

/// Said to a page nobody is signed in on: which ways to sign in there are.
#[derive(Debug, Serialize, Deserialize)]
pub struct SignedOut {
    pub organisation: bool,
}

fn organisation<D: Database>(s: &Service<D>) -> bool {
    s.config.oidc.as_ref().is_some_and(|o| o.admin_group.is_some())
}

fn view<D: Database>(s: &Service<D>, a: ConsoleAdmin) -> SessionView {
    SessionView { email: a.email, name: a.name, csrf: a.csrf, organisation: organisation(s) }
}

async fn whoami<D: Database>(State(s): State<Arc<Service<D>>>, session: Session) -> Response {
    match session::signed_in(&session, &s).await {
        Ok(Some(a)) => guarded(Json(view(&s, a)).into_response()),
        Ok(None) => guarded(
            (StatusCode::UNAUTHORIZED, Json(SignedOut { organisation: organisation(&s) })).into_response(),
        ),
        Err(e) => guarded(e.into_response()),
    }
}

#[derive(Deserialize)]
pub struct TokenSignIn {
    token: String,
}

/// `POST /admin/session` with the admin token: bootstrap, before the identity provider is set up.
async fn token_sign_in<D: Database>(
    State(s): State<Arc<Service<D>>>,
    Address(address): Address,
    session: Session,
    headers: HeaderMap,
    body: Result<Json<TokenSignIn>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let answer = async {
        session::check_origin(&headers)?;
        let Json(body) = body.map_err(|r| ApiError::bad("invalid_body", r.body_text()))?;
        let actor = crate::service::Actor::admin(address);
        if !crate::same_secret(&body.token, &s.config.admin_token) {
            s.note(&actor, "console_sign_in_refused", "console", "a wrong admin token").await;
            return Err(ApiError::Unauthorized("that is not the admin token"));
        }
        let admin = session::open(&session, "admin".into(), "Admin token".into(), s.clock.now()).await?;
        s.note(&actor, "console_sign_in", "console", "the admin token").await;
        Ok(view(&s, admin))
    };
    match answer.await {
        Ok(v) => guarded(Json(v).into_response()),
        Err(e) => guarded(e.into_response()),
    }
}

/// `DELETE /admin/session`: signs out (with the CSRF token, like every change).
async fn sign_out<D: Database>(admin: Result<AdminActor<D>, ApiError>, session: Session) -> Response {
    let answer = async {
        let AdminActor(s, actor) = admin?;
        s.note(&actor, "console_sign_out", "console", "").await;
        session.delete().await.map_err(|_| ApiError::Unavailable)?;
        Ok::<_, ApiError>(StatusCode::NO_CONTENT)
    };
    match answer.await {
        Ok(v) => guarded(v.into_response()),
        Err(e) => guarded(e.into_response()),
    }
}
