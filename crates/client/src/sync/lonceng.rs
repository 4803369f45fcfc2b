//! The Lonceng Notification Center server as a sync source: the change feed for catch-up, the SSE
//! stream for live changes (resumed with `Last-Event-ID`), and the client endpoints for actions.
//! The Lonceng protocol ([`lonceng_domain::protocol`]) is parsed here, and only here: the engine sees pages.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use reqwest::{header, StatusCode};

use super::source::Sent;
use super::sse::{SseItem, SseParser};
use super::{BoxFut, EventStream, Pulled, Source, SourceError, SourceEvent};
use crate::auth::{Bearer, Fixed};
use crate::store::{OutboxEntry, OutboxOp, RemoteRead};
use lonceng_domain::model::Rejected;
use lonceng_domain::net::{failure, network, ok, read_capped, Endpoint};
use lonceng_domain::protocol::{sse, Change, ChangeBody, MaintenanceStatus, MarkAllReadRequest, Presence};

/// Changes per catch-up page.
const PAGE: usize = 1_000;
/// The largest page of the change feed read (a thousand changes are a few megabytes).
const MAX_PAGE_BYTES: usize = 32 << 20;
/// Every request but the stream must answer within this.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

pub struct LoncengSource {
    at: Endpoint,
    bearer: Arc<dyn Bearer>,
}

impl LoncengSource {
    /// `base` is the server's URL (`https://notifications.example.com`), `token` a device token an
    /// admin issued.
    pub fn new(base: &str, token: &str) -> Result<LoncengSource, SourceError> {
        LoncengSource::with_bearer(base, Arc::new(Fixed(token.to_owned())))
    }

    /// With the device credentials of a sign-in (ORG-1), or any other [`Bearer`].
    pub fn with_bearer(base: &str, bearer: Arc<dyn Bearer>) -> Result<LoncengSource, SourceError> {
        // No overall timeout: the stream is long-lived; other requests set REQUEST_TIMEOUT.
        Ok(LoncengSource { at: Endpoint::new(base, None)?, bearer })
    }

    pub fn with_poll_interval(mut self, d: Duration) -> LoncengSource {
        self.at.poll_interval = d;
        self
    }

    /// Sends a request with the bearer's token; a 401 is tried once more when the bearer has a new
    /// token (its access token ran out, or was replaced meanwhile).
    async fn authed(
        &self,
        build: impl Fn(&str) -> reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, SourceError> {
        let token = self.bearer.token().await?;
        let resp = build(&token).send().await.map_err(network)?;
        if resp.status() == StatusCode::UNAUTHORIZED && self.bearer.refused(&token).await? {
            let token = self.bearer.token().await?;
            return build(&token).send().await.map_err(network);
        }
        Ok(resp)
    }

    fn get(&self, path: &str, token: &str) -> reqwest::RequestBuilder {
        self.at.http.get(self.at.url(path)).bearer_auth(token)
    }

    fn post(&self, path: &str, token: &str) -> reqwest::RequestBuilder {
        self.at.http.post(self.at.url(path)).bearer_auth(token)
    }
}

/// A response that must be a success.
async fn success(resp: reqwest::Response) -> Result<reqwest::Response, SourceError> {
    ok(Ok(resp)).await
}

/// Adds a change of the Lonceng protocol to a page; items that fail validation are kept aside
/// with the reason, not lost.
fn absorb(page: &mut Pulled, change: Change) {
    match change.body {
        ChangeBody::Created { notification } => {
            let raw = serde_json::to_string(&notification).unwrap_or_default();
            match notification.validate() {
                Ok(n) => page.batch.items.push(n),
                Err(e) => page.batch.rejected.push(Rejected::new(&raw, e.to_string())),
            }
        }
        // A page is applied as a whole: of a read and an unread of one item, the later wins.
        ChangeBody::Read { ids, read_at } => {
            page.batch.unreads.retain(|u| !ids.contains(u));
            page.batch.reads.extend(ids.into_iter().map(|id| RemoteRead { id, read_at }));
        }
        ChangeBody::Unread { ids } => {
            page.batch.reads.retain(|r| !ids.contains(&r.id));
            page.batch.unreads.retain(|u| !ids.contains(u));
            page.batch.unreads.extend(ids);
        }
        ChangeBody::Expired { ids } => page.batch.expired.extend(ids),
        ChangeBody::Chat { message } => page.chats.push(message),
    }
    page.batch.cursor = Some(change.seq.to_string());
}

/// Adds one change as it came (JSON): one that does not decode is quarantined with the reason and
/// the cursor moves past it (to its `seq`, or `at` where it has none), so that nothing after it is
/// held up and the same bad change is not fetched forever.
fn absorb_raw(page: &mut Pulled, raw: &str, at: Option<i64>) {
    match serde_json::from_str::<Change>(raw) {
        Ok(change) => absorb(page, change),
        Err(e) => {
            tracing::warn!(error = %e, "a change that does not decode was quarantined");
            page.batch.rejected.push(Rejected::new(raw, format!("change: {e}")));
            let seq = serde_json::from_str::<serde_json::Value>(raw)
                .ok()
                .and_then(|v| v.get("seq").and_then(serde_json::Value::as_i64));
            if let Some(seq) = seq.or(at) {
                page.batch.cursor = Some(seq.to_string());
            }
        }
    }
}

/// A page of the change feed with each change still raw, so that one bad change cannot fail it.
#[derive(serde::Deserialize)]
struct RawPage {
    #[serde(default)]
    changes: Vec<Box<serde_json::value::RawValue>>,
    cursor: i64,
    #[serde(default)]
    more: bool,
}

/// Decodes a page of `GET /v1/changes`. Only a page that is not a page fails; a change in it that
/// does not decode is quarantined and passed (fuzzed: `fuzz/fuzz_targets/changes.rs`).
pub fn decode_changes(body: &[u8]) -> Result<Pulled, SourceError> {
    let page: RawPage =
        serde_json::from_slice(body).map_err(|e| SourceError::Protocol(format!("change feed: {e}")))?;
    let mut pulled = Pulled { more: page.more, ..Pulled::default() };
    for change in page.changes {
        absorb_raw(&mut pulled, change.get(), None);
    }
    pulled.batch.cursor = Some(page.cursor.to_string());
    pulled.next = pulled.batch.cursor.clone();
    Ok(pulled)
}

/// What one item of the stream means to the engine; nothing in it can fail the stream (fuzzed:
/// `fuzz/fuzz_targets/sse.rs`).
pub fn decode_event(item: SseItem) -> SourceEvent {
    match item {
        SseItem::Comment => SourceEvent::KeepAlive,
        SseItem::Event { event, data, id } => match event.as_str() {
            sse::CHANGE => {
                let mut page = Pulled::default();
                absorb_raw(&mut page, &data, id.and_then(|i| i.trim().parse().ok()));
                SourceEvent::Changes(Box::new(page))
            }
            sse::PRESENCE => match serde_json::from_str::<Presence>(&data) {
                Ok(p) => SourceEvent::Presence(p),
                Err(e) => ignored("presence", e),
            },
            sse::MAINTENANCE => match serde_json::from_str::<MaintenanceStatus>(&data) {
                Ok(m) => SourceEvent::Maintenance(m),
                Err(e) => ignored("maintenance", e),
            },
            // Unknown events from a newer server are proof of life, nothing more.
            _ => SourceEvent::KeepAlive,
        },
    }
}

/// A presence or maintenance notice that does not decode informs nothing; the stream goes on.
fn ignored(what: &str, e: serde_json::Error) -> SourceEvent {
    tracing::warn!(error = %e, "a {what} event that does not decode was ignored");
    SourceEvent::KeepAlive
}

impl Source for LoncengSource {
    fn pull(&self, since: Option<String>) -> BoxFut<'_, Result<Pulled, SourceError>> {
        Box::pin(async move {
            let since = since.unwrap_or_else(|| "0".into());
            let path = format!("/v1/changes?since={since}&limit={PAGE}");
            let resp = success(self.authed(|t| self.get(&path, t).timeout(REQUEST_TIMEOUT)).await?).await?;
            decode_changes(&read_capped(resp, MAX_PAGE_BYTES).await?)
        })
    }

    fn stream(&self, since: Option<String>) -> BoxFut<'_, Result<Option<EventStream>, SourceError>> {
        Box::pin(async move {
            let resp = self
                .authed(|t| {
                    let req = self.get("/v1/stream", t).header(header::ACCEPT, "text/event-stream");
                    match &since {
                        Some(since) => req.header("Last-Event-ID", since),
                        None => req,
                    }
                })
                .await?;
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
                        Ok(items) => items.into_iter().map(|i| Ok(decode_event(i))).collect(),
                        Err(e) => vec![Err(SourceError::Protocol(e.to_string()))],
                    },
                };
                futures_util::stream::iter(items)
            });
            Ok(Some(Box::pin(events) as EventStream))
        })
    }

    fn push<'a>(&'a self, entry: &'a OutboxEntry, _covered: &'a [String]) -> Sent<'a> {
        Box::pin(async move {
            let build = |t: &str| {
                let req = match &entry.op {
                    OutboxOp::MarkRead { id, .. } => self.post(&format!("/v1/notifications/{id}/read"), t),
                    OutboxOp::MarkUnread { id, .. } => {
                        self.post(&format!("/v1/notifications/{id}/unread"), t)
                    }
                    OutboxOp::MarkAllRead { tab, category, upto_cursor, .. } => {
                        let upto = upto_cursor.as_deref().and_then(|c| c.parse().ok());
                        self.post("/v1/notifications/read-all", t).json(&MarkAllReadRequest {
                            tab: *tab,
                            category: *category,
                            upto_cursor: upto,
                        })
                    }
                };
                req.header("Idempotency-Key", &entry.idempotency_key).timeout(REQUEST_TIMEOUT)
            };
            let resp = self.authed(build).await;
            match async { success(resp?).await }.await {
                // Gone from the server (expired): nothing left to mark.
                Err(SourceError::Rejected { status: 404, .. }) => Ok(()),
                other => other.map(drop),
            }
        })
    }

    fn maintenance(&self) -> BoxFut<'_, Result<Option<MaintenanceStatus>, SourceError>> {
        Box::pin(async move {
            let resp =
                ok(self.at.http.get(self.at.url("/v1/maintenance")).timeout(REQUEST_TIMEOUT).send().await)
                    .await?;
            Ok(Some(resp.json().await.map_err(|e| SourceError::Protocol(e.to_string()))?))
        })
    }

    fn poll_interval(&self) -> Duration {
        self.at.poll_interval
    }
}
