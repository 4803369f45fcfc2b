//! What both network sources share: one HTTP client setup (bounded connects, Lonceng's user agent)
//! and one reading of a failed response (status, `Retry-After`, the JSON error body) into a
//! [`SourceError`] that says whether waiting can help.

use std::time::Duration;

use reqwest::{header, Response, StatusCode};

use super::source::{RetryAfter, SourceError};
use crate::protocol::ErrorBody;

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

/// The HTTP client of a source: bounded connects, Lonceng's user agent, and an overall timeout
/// for requests that are not streams.
fn client(timeout: Option<Duration>) -> Result<reqwest::Client, SourceError> {
    let mut b = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .user_agent(concat!("Lonceng/", env!("CARGO_PKG_VERSION")));
    if let Some(t) = timeout {
        b = b.timeout(t);
    }
    b.build().map_err(|e| SourceError::Network(e.to_string()))
}

pub fn network(e: reqwest::Error) -> SourceError {
    SourceError::Network(e.to_string())
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
