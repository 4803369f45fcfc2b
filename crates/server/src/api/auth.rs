//! Sign-in (ORG-1) over HTTP: the two pages a browser visits (`/v1/auth/sign-in`, then the identity
//! provider's answer at `/v1/auth/callback`), the token endpoint the app calls (RFC 6749 form
//! posts, answers and errors, so any OAuth 2 client library speaks it), and a device signing itself
//! out. What the browser sees is plain HTML under a CSP that allows nothing; nothing is cached and
//! no page sends a `Referer` (codes travel in URLs).

use axum::extract::rejection::FormRejection;
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, LOCATION, REFERRER_POLICY};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::extract::{Address, Client};
use super::routes::Svc;
use crate::db::Database;
use crate::service::signin::{AppSignIn, Callback, GrantError};
use crate::service::{Actor, ServiceError};

/// Headers every answer of sign-in carries.
fn private(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"));
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    r
}

fn redirect(to: &str) -> Response {
    match HeaderValue::from_str(to) {
        Ok(v) => private((StatusCode::FOUND, [(LOCATION, v)]).into_response()),
        Err(_) => page(StatusCode::BAD_GATEWAY, "Sign-in failed", "The address to continue at is not valid."),
    }
}

/// A page for a person in a browser (text escaped; no script, no style).
fn page(status: StatusCode, title: &str, text: &str) -> Response {
    let esc =
        |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t} · Lonceng</title></head>\
         <body><h1>{t}</h1><p>{x}</p></body></html>",
        t = esc(title),
        x = esc(text)
    );
    private((status, [(axum::http::header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response())
}

/// A failure shown as a page rather than JSON: a person is looking at it.
fn failure_page(e: ServiceError) -> Response {
    match e {
        ServiceError::Invalid(why) => page(StatusCode::BAD_REQUEST, "This sign-in link is not valid", &why),
        ServiceError::NotConfigured(why) => page(StatusCode::NOT_IMPLEMENTED, "Sign-in is not set up", why),
        ServiceError::IdentityProvider(why) => {
            page(StatusCode::BAD_GATEWAY, "The identity provider cannot be reached", &why)
        }
        other => {
            let status = ApiError::from(other).into_response().status();
            page(status, "Sign-in failed", "Something went wrong on the server. Try again in a moment.")
        }
    }
}

pub async fn sign_in<D: Database>(
    axum::extract::State(s): Svc<D>,
    Address(address): Address,
    q: Result<axum::extract::Query<AppSignIn>, axum::extract::rejection::QueryRejection>,
) -> Response {
    // Said first: the app asks with no query to learn whether sign-in is set up here.
    if s.config.oidc.is_none() {
        return failure_page(crate::service::ServiceError::NotConfigured(
            "this server has no identity provider set up (--oidc-issuer); ask your admin for a token",
        ));
    }
    let Ok(axum::extract::Query(app)) = q else {
        return page(
            StatusCode::BAD_REQUEST,
            "This sign-in link is not valid",
            "Start signing in from the Lonceng app: it opens this page with what it needs.",
        );
    };
    match s.begin_sign_in(app, address).await {
        Ok(to) => redirect(&to),
        Err(e) => failure_page(e),
    }
}

#[derive(Deserialize)]
pub struct IdpAnswer {
    #[serde(default)]
    state: String,
    code: Option<String>,
    error: Option<String>,
}

pub async fn callback<D: Database>(
    axum::extract::State(s): Svc<D>,
    Address(address): Address,
    session: tower_sessions::Session,
    q: Result<axum::extract::Query<IdpAnswer>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(axum::extract::Query(a)) = q else {
        return page(
            StatusCode::BAD_REQUEST,
            "This sign-in has expired",
            "The answer from the identity provider is not one Lonceng can read. Start again from the Lonceng app.",
        );
    };
    match s.finish_sign_in(&a.state, a.code.as_deref(), a.error.as_deref(), address).await {
        Ok(Callback::ToApp(to)) => redirect(&to),
        // The session cookie is SameSite=Strict: set now, on the way back from the provider's
        // site, it is not sent on a redirect that continues this navigation. A page that moves on
        // by itself is a new navigation from this site, and carries it.
        Ok(Callback::Console { email, name }) => {
            match crate::api::console::session::open(&session, email, name, s.clock.now()).await {
                Ok(_) => crate::api::console::page(
                    StatusCode::OK,
                    "You are signed in",
                    "Opening the Lonceng admin console…",
                    Some("/admin/"),
                ),
                Err(e) => e.into_response(),
            }
        }
        Ok(Callback::ConsoleRefused(why)) => {
            crate::api::console::page(StatusCode::FORBIDDEN, "You cannot use the admin console", &why, None)
        }
        Ok(Callback::Unknown) => page(
            StatusCode::BAD_REQUEST,
            "This sign-in has expired",
            "It was already used, or took longer than 10 minutes. Start again from the Lonceng app.",
        ),
        Err(e) => failure_page(e),
    }
}

/// A token request (RFC 6749 §4.1.3 and §6).
#[derive(Deserialize)]
pub struct TokenRequest {
    grant_type: String,
    code: Option<String>,
    code_verifier: Option<String>,
    redirect_uri: Option<String>,
    refresh_token: Option<String>,
}

/// A refused token request (RFC 6749 §5.2).
#[derive(Serialize)]
pub struct TokenError {
    error: &'static str,
    error_description: String,
}

fn grant_error(status: StatusCode, error: &'static str, description: String) -> Response {
    private((status, Json(TokenError { error, error_description: description })).into_response())
}

pub async fn token<D: Database>(
    axum::extract::State(s): Svc<D>,
    Address(address): Address,
    form: Result<Form<TokenRequest>, FormRejection>,
) -> Response {
    let Ok(Form(t)) = form else {
        return grant_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "send grant_type and its parameters as application/x-www-form-urlencoded".into(),
        );
    };
    let answer = match (t.grant_type.as_str(), t.code, t.code_verifier, t.redirect_uri, t.refresh_token) {
        ("authorization_code", Some(code), Some(verifier), Some(redirect), _) => {
            s.redeem_sign_in(&code, &verifier, &redirect, address).await
        }
        ("authorization_code", ..) => Err(GrantError::InvalidRequest(
            "authorization_code needs code, code_verifier and redirect_uri".into(),
        )),
        ("refresh_token", _, _, _, Some(refresh)) => s.refresh_credentials(&refresh, address).await,
        ("refresh_token", ..) => Err(GrantError::InvalidRequest("refresh_token needs refresh_token".into())),
        _ => {
            return grant_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "grant_type is authorization_code or refresh_token".into(),
            )
        }
    };
    match answer {
        Ok(credentials) => private(Json(credentials).into_response()),
        Err(GrantError::InvalidRequest(why)) => grant_error(StatusCode::BAD_REQUEST, "invalid_request", why),
        Err(GrantError::InvalidGrant(why)) => grant_error(StatusCode::BAD_REQUEST, "invalid_grant", why),
        Err(GrantError::Service(e)) => private(ApiError::from(e).into_response()),
    }
}

/// The device signs itself out: its tokens stop working everywhere.
pub async fn sign_out<D: Database>(
    axum::extract::State(s): Svc<D>,
    Address(address): Address,
    Client(d): Client,
) -> Result<StatusCode, ApiError> {
    s.revoke_devices(&Actor::user(&d.user_id, address), &d.user_id, Some(&d.device_id)).await?;
    Ok(StatusCode::NO_CONTENT)
}
