//! Signing in the native-app way (RFC 8252): the app listens on a loopback port of its own, opens
//! the system browser at the server's sign-in page with a PKCE challenge (RFC 7636) and a fresh
//! `state`, and waits for the browser to come back with a one-time code, which it redeems with the
//! PKCE verifier for device credentials. The browser is shown a page that says it can be closed.
//! Each sign-in has its own port, state and verifier: a second click starts afresh and the first
//! one's answer, should it still arrive, finds nobody listening. A sign-in nobody finishes ends
//! after [`WAIT`].

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use oauth2::{AuthorizationCode, CsrfToken, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use super::{credentials, oauth_client, token_failure, token_http, Credentials, OAuthClient};
use crate::sync::SourceError;

/// How long a sign-in waits for the browser.
pub const WAIT: Duration = Duration::from_secs(300);
/// The path the browser comes back to.
const CALLBACK: &str = "/callback";

/// What the device says of itself to the server (the admin's list of devices shows it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInfo {
    pub name: String,
    pub os: String,
    pub app_version: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error("{0}")]
    Refused(String),
    #[error("the sign-in was not finished in the browser within {} minutes", WAIT.as_secs() / 60)]
    TimedOut,
    #[error("a newer sign-in replaced this one")]
    Replaced,
    #[error("the browser came back from another sign-in")]
    StateMismatch,
    #[error("the loopback listener: {0}")]
    Listen(String),
    #[error(transparent)]
    Source(#[from] SourceError),
}

/// What the browser brought back.
#[derive(Debug)]
enum Answer {
    Code { code: String, state: String },
    Error { state: String, description: String },
}

/// A sign-in waiting for the browser.
pub struct Pending {
    server: String,
    client: OAuthClient,
    state: CsrfToken,
    verifier: PkceCodeVerifier,
    answer: oneshot::Receiver<Answer>,
    /// Stops the listener when the sign-in ends or is dropped (a newer one replaced it).
    _listening: tokio_util::sync::DropGuard,
}

/// Starts a sign-in with `server`: the URL to open in the browser, and the sign-in to wait on.
pub async fn start(server: &str, device: &DeviceInfo) -> Result<(String, Pending), SignInError> {
    let listener =
        TcpListener::bind(("127.0.0.1", 0)).await.map_err(|e| SignInError::Listen(e.to_string()))?;
    let port = listener.local_addr().map_err(|e| SignInError::Listen(e.to_string()))?.port();
    let redirect = format!("http://127.0.0.1:{port}{CALLBACK}");
    let client = oauth_client(server)?
        .set_redirect_uri(RedirectUrl::new(redirect).map_err(|e| SignInError::Listen(e.to_string()))?);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state) = client
        .authorize_url(CsrfToken::new_random)
        .set_pkce_challenge(challenge)
        .add_extra_param("device_name", device.name.clone())
        .add_extra_param("os", device.os.clone())
        .add_extra_param("app_version", device.app_version.clone())
        .url();
    let (tx, answer) = oneshot::channel();
    let stop = tokio_util::sync::CancellationToken::new();
    tokio::spawn(listen(listener, tx, stop.clone()));
    let pending =
        Pending { server: server.to_owned(), client, state, verifier, answer, _listening: stop.drop_guard() };
    Ok((url.to_string(), pending))
}

impl Pending {
    /// Waits for the browser (at most [`WAIT`]) and redeems its code for device credentials.
    pub async fn finish(self, now: impl Fn() -> DateTime<Utc>) -> Result<Credentials, SignInError> {
        let Pending { server, client, state, verifier, answer, _listening } = self;
        let answer = match tokio::time::timeout(WAIT, answer).await {
            Err(_) => return Err(SignInError::TimedOut),
            Ok(Err(_)) => return Err(SignInError::Replaced),
            Ok(Ok(a)) => a,
        };
        drop(_listening);
        let code = match answer {
            Answer::Code { code, state: s } if s == *state.secret() => code,
            Answer::Error { state: s, description } if s == *state.secret() => {
                return Err(SignInError::Refused(description))
            }
            _ => return Err(SignInError::StateMismatch),
        };
        let answer = client
            .exchange_code(AuthorizationCode::new(code))
            .set_pkce_verifier(verifier)
            .request_async(&token_http())
            .await
            .map_err(token_failure)?;
        Ok(credentials(&server, &answer, now())?)
    }
}

/// Serves the loopback port until the browser comes back (or the sign-in is dropped).
async fn listen(
    listener: TcpListener,
    tx: oneshot::Sender<Answer>,
    stop: tokio_util::sync::CancellationToken,
) {
    let tx = Arc::new(Mutex::new(Some(tx)));
    loop {
        let stream = tokio::select! {
            _ = stop.cancelled() => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => continue,
            },
        };
        let tx = tx.clone();
        let service = hyper::service::service_fn(move |req: Request<Incoming>| {
            let tx = tx.clone();
            async move { Ok::<_, Infallible>(answer_browser(&req, &tx)) }
        });
        tokio::spawn(async move {
            let io = hyper_util::rt::TokioIo::new(stream);
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await;
        });
    }
}

/// The browser's request: the callback hands its answer over once; anything else is 404.
fn answer_browser(req: &Request<Incoming>, tx: &Mutex<Option<oneshot::Sender<Answer>>>) -> Response<String> {
    if req.uri().path() != CALLBACK {
        return page(StatusCode::NOT_FOUND, "Not found", "");
    }
    let q: HashMap<String, String> =
        url::form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes()).into_owned().collect();
    let state = q.get("state").cloned().unwrap_or_default();
    let (answer, title, text) = match (q.get("code"), q.get("error")) {
        (Some(code), _) => (
            Answer::Code { code: code.clone(), state },
            "You are signed in to Lonceng",
            "You can close this tab and go back to Lonceng.",
        ),
        (None, _) => {
            let description = q.get("error_description").cloned().unwrap_or_else(|| {
                format!("the sign-in was refused ({})", q.get("error").map_or("no code", String::as_str))
            });
            (
                Answer::Error { state, description },
                "Lonceng could not sign you in",
                "Lonceng shows why. You can close this tab.",
            )
        }
    };
    let taken = tx.lock().unwrap_or_else(|p| p.into_inner()).take();
    match taken {
        Some(tx) => {
            let _ = tx.send(answer);
            page(StatusCode::OK, title, text)
        }
        None => page(StatusCode::OK, "This sign-in is over", "You can close this tab."),
    }
}

/// A page for the browser: plain text, nothing it could run.
fn page(status: StatusCode, title: &str, text: &str) -> Response<String> {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body><h1>{title}</h1><p>{text}</p></body></html>"
    );
    let mut r = Response::new(html);
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert("content-type", hyper::header::HeaderValue::from_static("text/html; charset=utf-8"));
    h.insert("content-security-policy", hyper::header::HeaderValue::from_static("default-src 'none'"));
    h.insert("referrer-policy", hyper::header::HeaderValue::from_static("no-referrer"));
    h.insert("cache-control", hyper::header::HeaderValue::from_static("no-store"));
    r
}
