//! What every remote source shares — the client's sync sources and the server's CRM bridge: one
//! HTTP client setup (bounded connects, Lonceng's user agent, the proxy of [`proxy`], the
//! operating system's trust store) and one reading of a failed response (status, `Retry-After`,
//! the JSON error body) into a [`SourceError`] that says whether waiting can help.
//!
//! A server-given delay is data from the network: it is parsed in both of its forms (seconds and
//! HTTP-date), never overflows, and is capped at [`MAX_SERVER_DELAY`] (a maintenance window lasts
//! hours, not years).

use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};
use reqwest::{header, Response, StatusCode};

use crate::protocol::ErrorBody;

mod proxy;

pub use proxy::{
    bypassed, no_proxy_list, proxy, proxy_for, route, use_os_proxy, use_proxy, OsProxy, ProxyChoice, Route,
};

/// The longest wait a server can ask for.
pub const MAX_SERVER_DELAY: Duration = Duration::from_secs(6 * 3600);

/// A `Retry-After` header as sent: a number of seconds, or an HTTP-date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryAfter {
    /// Seconds (saturated: a 20-digit number is `u64::MAX`).
    Seconds(u64),
    At(DateTime<Utc>),
}

impl RetryAfter {
    /// Parses the header value; `None` for what is neither form.
    pub fn parse(value: &str) -> Option<RetryAfter> {
        let v = value.trim();
        if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
            return Some(RetryAfter::Seconds(v.parse().unwrap_or(u64::MAX)));
        }
        // IMF-fixdate (and the obsolete RFC 850 and asctime forms HTTP still allows).
        if let Ok(t) = DateTime::parse_from_rfc2822(v) {
            return Some(RetryAfter::At(t.with_timezone(&Utc)));
        }
        ["%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"]
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(v, f).ok())
            .map(|t| RetryAfter::At(t.and_utc()))
    }

    /// How long to wait from `now`, at most [`MAX_SERVER_DELAY`] (a date in the past: no wait).
    pub fn delay(self, now: DateTime<Utc>) -> Duration {
        let asked = match self {
            RetryAfter::Seconds(s) => Duration::from_secs(s),
            RetryAfter::At(t) => (t - now).to_std().unwrap_or(Duration::ZERO),
        };
        asked.min(MAX_SERVER_DELAY)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    /// 503 (maintenance or overload) or 429, with the `Retry-After` it gave.
    #[error("the server is unavailable{}", if .retry_after.is_some() { " (it said when to retry)" } else { "" })]
    Unavailable { retry_after: Option<RetryAfter>, maintenance: bool },
    #[error("the sign-in was refused: {0}")]
    Unauthorized(String),
    /// The stored cursor is older than the server's feed: replay from the start.
    #[error("the sync cursor is too old")]
    CursorGone,
    /// The server refused this request for good (4xx): retrying cannot help.
    #[error("the server refused the request ({status}): {message}")]
    Rejected { status: u16, message: String },
    #[error("the server failed ({0})")]
    Server(u16),
    #[error("network: {0}")]
    Network(String),
    /// The server's certificate does not chain to a root this computer trusts (a proxy that
    /// inspects TLS, whose root IT has not installed): waiting alone cannot help.
    #[error("{0}")]
    Untrusted(String),
    #[error("unexpected answer: {0}")]
    Protocol(String),
}

/// Where a network source is: its HTTP client, its base URL, and how often it is polled when it
/// does not stream.
pub struct Endpoint {
    pub http: reqwest::Client,
    base: String,
    pub poll_interval: Duration,
}

impl Endpoint {
    /// `timeout` bounds every request (`None` for a source with a long-lived stream).
    pub fn new(base: &str, timeout: Option<Duration>) -> Result<Endpoint, SourceError> {
        Ok(Endpoint {
            http: client(timeout)?,
            base: base.trim_end_matches('/').to_owned(),
            poll_interval: Duration::from_secs(30),
        })
    }

    /// An endpoint on an HTTP client made already (shared by many sources: the server's bridge).
    pub fn with_client(base: &str, http: reqwest::Client) -> Endpoint {
        Endpoint { http, base: base.trim_end_matches('/').to_owned(), poll_interval: Duration::from_secs(30) }
    }

    /// The absolute URL of `path` (with its query).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

/// Every HTTP client of the app starts here: the proxy chosen, the operating system's trust
/// store, and Lonceng's user agent.
pub fn builder() -> reqwest::ClientBuilder {
    let mut b = reqwest::Client::builder().user_agent(concat!("Lonceng/", env!("CARGO_PKG_VERSION")));
    match tls() {
        Ok(config) => b = b.use_preconfigured_tls(config),
        // Without it the built-in roots still reach public servers; `doctor` says why.
        Err(e) => tracing::warn!(error = %e, "the system's certificates cannot be used"),
    }
    match proxy() {
        // The environment first (reqwest reads it, and Windows' Internet settings, by itself),
        // else the desktop's settings (GNOME's).
        ProxyChoice::System if proxy::environment_names_one() => b,
        ProxyChoice::System => proxy::desktop_proxies().into_iter().fold(b, |b, p| b.proxy(p)),
        ProxyChoice::Direct => b.no_proxy(),
        // Checked when it was set; the user and password in it go to the proxy (Basic).
        ProxyChoice::Url(u) => match reqwest::Proxy::all(&u) {
            Ok(p) => b.proxy(p),
            Err(e) => {
                tracing::warn!(error = %e, "the proxy in Settings cannot be used; going without");
                b
            }
        },
    }
}

/// TLS as the operating system trusts: its own verifier on Windows (the roots IT deploys
/// included), the system's certificates on Linux (`SSL_CERT_FILE` / `SSL_CERT_DIR` when set).
/// Made anew for each client, so a root installed since is trusted at the next reconnect.
pub fn tls() -> Result<rustls::ClientConfig, String> {
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let verifier = rustls_platform_verifier::Verifier::new(provider.clone()).map_err(|e| e.to_string())?;
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(std::sync::Arc::new(verifier))
        .with_no_client_auth())
}

/// Which certificates are trusted, in a few words, or why the system's cannot be used.
pub fn trust_store() -> Result<String, String> {
    tls()?;
    if cfg!(windows) {
        return Ok("Windows' certificate store".into());
    }
    let named = ["SSL_CERT_FILE", "SSL_CERT_DIR"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|x| !x.is_empty()).map(|x| format!("{x} ({v})")));
    Ok(named.unwrap_or_else(|| "the system's certificates".into()))
}

/// The HTTP client of a source: bounded connects, Lonceng's user agent, and an overall timeout
/// for requests that are not streams.
fn client(timeout: Option<Duration>) -> Result<reqwest::Client, SourceError> {
    let mut b = builder().connect_timeout(Duration::from_secs(10));
    if let Some(t) = timeout {
        b = b.timeout(t);
    }
    b.build().map_err(|e| SourceError::Network(e.to_string()))
}

/// Whether the failure is a certificate that chains to no root this computer trusts (rather than
/// one expired, or for another name: those are said as they are). rustls' error sits inside an
/// I/O error, whose `source()` skips it.
fn unknown_issuer(e: &reqwest::Error) -> bool {
    use rustls::{CertificateError, Error as Tls};
    let mut cause: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(c) = cause {
        let tls = c.downcast_ref::<Tls>().or_else(|| {
            c.downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref())
                .and_then(|i| i.downcast_ref::<Tls>())
        });
        if matches!(tls, Some(Tls::InvalidCertificate(CertificateError::UnknownIssuer))) {
            return true;
        }
        cause = c.source();
    }
    false
}

/// A failed request in words an agent and IT can act on: the causes it hides behind "error
/// sending request" spelled out, and a certificate this computer does not trust named as such.
pub fn network(e: reqwest::Error) -> SourceError {
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(&e);
    while let Some(c) = cause {
        let said = c.to_string();
        if !text.contains(&said) {
            text = format!("{text}: {said}");
        }
        cause = c.source();
    }
    if unknown_issuer(&e) {
        return SourceError::Untrusted(format!(
            "the server's certificate is not trusted by this computer (a proxy that inspects secure \
             connections needs the company's root certificate installed, then Lonceng restarted): \
             {text}"
        ));
    }
    SourceError::Network(text)
}

/// Maps a non-success response to a [`SourceError`], reading `Retry-After` and the error body.
pub async fn failure(resp: Response) -> SourceError {
    let status = resp.status();
    let retry_after =
        resp.headers().get(header::RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(RetryAfter::parse);
    let body: Option<ErrorBody> = resp.json().await.ok();
    let (code, message) =
        body.map_or_else(|| (String::new(), status.to_string()), |b| (b.error.code, b.error.message));
    match status {
        StatusCode::SERVICE_UNAVAILABLE => {
            SourceError::Unavailable { retry_after, maintenance: code == "maintenance" }
        }
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => SourceError::Unauthorized(message),
        // The proxy, not the server: said so, with what to do.
        StatusCode::PROXY_AUTHENTICATION_REQUIRED => SourceError::Unauthorized(
            "the proxy asks for a user name and password: put them in the proxy's address in Settings \
             (http://user:password@proxy:port)"
                .into(),
        ),
        StatusCode::GONE => SourceError::CursorGone,
        StatusCode::TOO_MANY_REQUESTS => SourceError::Unavailable { retry_after, maintenance: false },
        s if s.is_client_error() => SourceError::Rejected { status: s.as_u16(), message },
        s => SourceError::Server(s.as_u16()),
    }
}

/// The body of a response, refused when it grows past `limit` bytes (a hostile or broken server
/// cannot make the app read without end).
pub async fn read_capped(resp: Response, limit: usize) -> Result<Vec<u8>, SourceError> {
    use futures_util::StreamExt;
    let mut body = Vec::new();
    let mut chunks = resp.bytes_stream();
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk.map_err(network)?;
        if body.len().saturating_add(chunk.len()) > limit {
            return Err(SourceError::Protocol(format!("the answer is larger than {} MiB", limit >> 20)));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A response, or the failure it stands for.
pub async fn ok(resp: Result<Response, reqwest::Error>) -> Result<Response, SourceError> {
    let resp = resp.map_err(network)?;
    if resp.status().is_success() {
        Ok(resp)
    } else {
        Err(failure(resp).await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // MW-2: a server can ask for any wait, in either form, and never for more than the cap.
    #[test]
    fn mw2_retry_after_is_read_in_both_forms_and_capped_without_overflow() {
        let now: DateTime<Utc> = "1994-11-06T08:00:00Z".parse().unwrap();
        assert_eq!(RetryAfter::parse("120"), Some(RetryAfter::Seconds(120)));
        assert_eq!(RetryAfter::parse(" 99999999999999999999 "), Some(RetryAfter::Seconds(u64::MAX)));
        let at = |s: &str| RetryAfter::parse(s).map(|r| r.delay(now));
        let minutes = Some(Duration::from_secs(49 * 60 + 37));
        assert_eq!(at("Sun, 06 Nov 1994 08:49:37 GMT"), minutes);
        assert_eq!(at("Sunday, 06-Nov-94 08:49:37 GMT"), minutes);
        assert_eq!(at("Sun Nov  6 08:49:37 1994"), minutes);
        assert_eq!(at("Sat, 05 Nov 1994 08:49:37 GMT"), Some(Duration::ZERO), "a date gone by: no wait");
        assert_eq!(at("Fri, 31 Dec 9999 23:59:59 GMT"), Some(MAX_SERVER_DELAY));
        for bad in ["", "-1", "1.5", "soon", "12 s", "Sun, 06 Nov 1994"] {
            assert_eq!(RetryAfter::parse(bad), None, "{bad}");
        }
        assert_eq!(RetryAfter::Seconds(u64::MAX).delay(now), MAX_SERVER_DELAY);
    }
}
