//! The Lonceng Notification Center server as a sync source: the change feed for catch-up, the SSE
//! stream for live changes (resumed with `Last-Event-ID`), and the client endpoints for actions.

use std::time::Duration;

use futures_util::StreamExt;
use reqwest::{header, Response, StatusCode};

use super::sse::{SseItem, SseParser};
use super::{BoxFut, EventStream, Pulled, Source, SourceError, SourceEvent};
use crate::protocol::{sse, Change, ChangesPage, ErrorBody, MaintenanceStatus, MarkAllReadRequest, Presence};
use crate::store::{OutboxEntry, OutboxOp};

/// Changes per catch-up page.
const PAGE: usize = 1_000;
/// Every request but the stream must answer within this.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

pub struct LoncengSource {
    http: reqwest::Client,
    base: String,
    token: String,
    poll_interval: Duration,
}

impl LoncengSource {
    /// `base` is the server's URL (`https://notifications.example.com`), `token` the device token.
    pub fn new(base: &str, token: &str) -> Result<LoncengSource, SourceError> {
        // No overall timeout: the stream is long-lived; other requests set REQUEST_TIMEOUT.
        let http = super::http_client(None)?;
        Ok(LoncengSource {
            http,
            base: base.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
            poll_interval: Duration::from_secs(30),
        })
    }

    pub fn with_poll_interval(mut self, d: Duration) -> LoncengSource {
        self.poll_interval = d;
        self
    }

    fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.http.get(format!("{}{path}", self.base)).bearer_auth(&self.token)
    }

    fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.http.post(format!("{}{path}", self.base)).bearer_auth(&self.token)
    }
}

fn network(e: reqwest::Error) -> SourceError {
    SourceError::Network(e.to_string())
}

/// Maps a non-success response to a [`SourceError`], reading `Retry-After` and the error body.
pub(crate) async fn failure(resp: Response) -> SourceError {
    let status = resp.status();
    let retry_after = resp
        .headers()
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
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

async fn ok(resp: Result<Response, reqwest::Error>) -> Result<Response, SourceError> {
    let resp = resp.map_err(network)?;
    if resp.status().is_success() {
        Ok(resp)
    } else {
        Err(failure(resp).await)
    }
}

fn to_event(item: SseItem) -> Result<SourceEvent, SourceError> {
    let decode = |e: serde_json::Error| SourceError::Protocol(format!("stream event: {e}"));
    match item {
        SseItem::Comment => Ok(SourceEvent::KeepAlive),
        SseItem::Event { event, data, .. } => match event.as_str() {
            sse::CHANGE => {
                Ok(SourceEvent::Change(Box::new(serde_json::from_str::<Change>(&data).map_err(decode)?)))
            }
            sse::PRESENCE => {
                Ok(SourceEvent::Presence(serde_json::from_str::<Presence>(&data).map_err(decode)?))
            }
            sse::MAINTENANCE => Ok(SourceEvent::Maintenance(
                serde_json::from_str::<MaintenanceStatus>(&data).map_err(decode)?,
            )),
            // Unknown events from a newer server are proof of life, nothing more.
            _ => Ok(SourceEvent::KeepAlive),
        },
    }
}

impl Source for LoncengSource {
    fn pull(&self, since: Option<String>) -> BoxFut<'_, Result<Pulled, SourceError>> {
        Box::pin(async move {
            let since = since.unwrap_or_else(|| "0".into());
            let resp = ok(self
                .get(&format!("/v1/changes?since={since}&limit={PAGE}"))
                .timeout(REQUEST_TIMEOUT)
                .send()
                .await)
            .await?;
            let page: ChangesPage = resp.json().await.map_err(|e| SourceError::Protocol(e.to_string()))?;
            let mut pulled = Pulled { more: page.more, ..Pulled::default() };
            for change in page.changes {
                pulled.absorb(change);
            }
            pulled.cursor = Some(page.cursor.to_string());
            pulled.next = pulled.cursor.clone();
            Ok(pulled)
        })
    }

    fn stream(&self, since: Option<String>) -> BoxFut<'_, Result<Option<EventStream>, SourceError>> {
        Box::pin(async move {
            let mut req = self.get("/v1/stream").header(header::ACCEPT, "text/event-stream");
            if let Some(since) = since {
                req = req.header("Last-Event-ID", since);
            }
            let resp = req.send().await.map_err(network)?;
            if resp.status() == StatusCode::NOT_IMPLEMENTED {
                return Ok(None);
            }
            if !resp.status().is_success() {
                return Err(failure(resp).await);
            }
            let mut parser = SseParser::default();
            let events = resp.bytes_stream().flat_map(move |chunk| {
                let items: Vec<Result<SourceEvent, SourceError>> = match chunk {
                    Err(e) => vec![Err(network(e))],
                    Ok(bytes) => match parser.push(&bytes) {
                        Ok(items) => items.into_iter().map(to_event).collect(),
                        Err(e) => vec![Err(SourceError::Protocol(e.to_string()))],
                    },
                };
                futures_util::stream::iter(items)
            });
            Ok(Some(Box::pin(events) as EventStream))
        })
    }

    fn push<'a>(
        &'a self,
        entry: &'a OutboxEntry,
        _covered: &'a [String],
    ) -> BoxFut<'a, Result<(), SourceError>> {
        Box::pin(async move {
            let req = match &entry.op {
                OutboxOp::MarkRead { id, .. } => self.post(&format!("/v1/notifications/{id}/read")),
                OutboxOp::MarkAllRead { tab, category, upto_cursor, .. } => {
                    let upto = upto_cursor.as_deref().and_then(|c| c.parse().ok());
                    self.post("/v1/notifications/read-all").json(&MarkAllReadRequest {
                        tab: *tab,
                        category: *category,
                        upto_cursor: upto,
                    })
                }
            };
            let resp =
                req.header("Idempotency-Key", &entry.idempotency_key).timeout(REQUEST_TIMEOUT).send().await;
            match ok(resp).await {
                // Gone from the server (expired): nothing left to mark.
                Err(SourceError::Rejected { status: 404, .. }) => Ok(()),
                other => other.map(drop),
            }
        })
    }

    fn maintenance(&self) -> BoxFut<'_, Result<Option<MaintenanceStatus>, SourceError>> {
        Box::pin(async move {
            let resp = ok(self
                .http
                .get(format!("{}/v1/maintenance", self.base))
                .timeout(REQUEST_TIMEOUT)
                .send()
                .await)
            .await?;
            Ok(Some(resp.json().await.map_err(|e| SourceError::Protocol(e.to_string()))?))
        })
    }

    fn poll_interval(&self) -> Duration {
        self.poll_interval
    }
}
