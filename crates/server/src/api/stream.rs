//! `GET /v1/stream`: a user's changes as Server-Sent Events. Resumes after `Last-Event-ID` (or
//! `?since=`) by replaying from the database, then follows live frames from the hub. A gap in the
//! live sequence (a lagging receiver, or two commits published out of order) switches back to
//! replay, so a stream never skips a change (MW-3). Changes committed on another node arrive as a
//! wake-up with the user's newest sequence number, and are read from the database the same way.
//!
//! The handler answers with the head only; the stream itself runs on the connection's socket once
//! hyper has let go of it ([`HandOff`]), so that an idle stream keeps no HTTP buffers (10,000 open
//! streams are 3.8 KB each, docs/PERFORMANCE.md).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Response, Version};
use axum::Extension;
use futures_util::future::BoxFuture;
use lonceng_domain::protocol::{sse, Change};
use serde::Deserialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::broadcast::error::RecvError;

use super::error::ApiError;
use super::extract::{StreamClient, Q};
use crate::db::Database;
use crate::hub::{sse_frame, Frame};
use crate::service::{Service, ServiceError};

/// Changes read from the database at a time while a stream catches up.
const REPLAY_PAGE: usize = 500;

/// While the database is unreachable, an open stream waits this long between tries to read what
/// it was woken for (keep-alives go on): it stays open, as DEPLOY.md says.
const REPLAY_RETRY: std::time::Duration = std::time::Duration::from_secs(2);

#[derive(Deserialize)]
pub struct StreamParams {
    since: Option<i64>,
}

/// What carries a stream on once hyper has written its head and let go of the connection: the
/// connection's socket goes to this, and hyper's buffers (8 KB each way) are freed. An idle stream
/// then costs its task, its socket and its receivers (docs/PERFORMANCE.md, issue 25).
pub type Continuation = Box<dyn FnOnce(TcpStream) -> BoxFuture<'static, ()> + Send>;

/// Where a request's handler leaves its [`Continuation`] for the connection (`crate::serve` puts one
/// in every request and takes it when hyper is done with the connection).
#[derive(Clone, Default)]
pub struct HandOff(Arc<Mutex<Option<Continuation>>>);

impl HandOff {
    fn set(&self, c: Continuation) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(c);
    }

    pub fn take(&self) -> Option<Continuation> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

pub async fn stream<D: Database>(
    State(service): State<Arc<Service<D>>>,
    StreamClient(d): StreamClient,
    Extension(hand_off): Extension<HandOff>,
    headers: HeaderMap,
    Q(p): Q<StreamParams>,
) -> Result<Response<Body>, ApiError> {
    if !service.config.streaming {
        return Err(ApiError::NotImplemented(
            "streaming_disabled",
            "this server does not stream; poll GET /v1/changes instead",
        ));
    }
    let header_id =
        headers.get("last-event-id").and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse().ok());
    let (rx_user, rx_global) = service.subscribe(&d.user_id);
    // Both ways need the database before the answer: while it is unreachable a resuming stream is
    // a 503 with `Retry-After` like every other request, not a 200 that ends at once (browsers
    // would then reconnect every second).
    let (last, replay, replay_done) = match header_id.or(p.since) {
        Some(seq) => {
            let page = service.changes(&d.user_id, seq, REPLAY_PAGE).await?;
            (seq, VecDeque::from(page.changes), !page.more)
        }
        None => (service.stream_start(&d.user_id).await?, VecDeque::new(), true),
    };
    let presence = serde_json::to_string(&service.presence(&d.user_id)).unwrap_or_default();
    let state = StreamState {
        service,
        user: d.user_id,
        device: d.device_id,
        last,
        replay,
        replay_done,
        rx_user,
        rx_global,
        closing: false,
    };
    // `retry:` tells a browser's EventSource how soon to reconnect when the stream ends.
    let first = sse_frame(sse::PRESENCE, None, &presence, Some(1000));
    hand_off.set(Box::new(move |socket| Box::pin(follow(state, socket, first))));
    // The head only: an HTTP/1.0 answer with a body that runs until the connection closes (no
    // chunks, so hyper has nothing to end it with), and the connection is not kept for another
    // request: hyper lets go of it after the head, and the stream goes on on its socket.
    let mut response =
        Response::new(Body::from_stream(futures_util::stream::empty::<Result<Bytes, std::io::Error>>()));
    *response.version_mut() = Version::HTTP_10;
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(header::CONNECTION, HeaderValue::from_static("close"));
    Ok(response)
}

/// Writes the stream to its socket until it ends: the client goes away, the device is signed out,
/// maintenance begins, or the server shuts down. A comment every `keep_alive` keeps proxies and
/// clients from taking a quiet stream for a dead one.
async fn follow<D: Database>(mut st: StreamState<D>, mut socket: TcpStream, first: Bytes) {
    let shutdown = st.service.shutdown.clone();
    let keep_alive = st.service.config.keep_alive;
    if socket.write_all(&first).await.is_err() {
        return;
    }
    let mut idle = tokio::time::interval_at(tokio::time::Instant::now() + keep_alive, keep_alive);
    let mut scrap = [0u8; 64];
    loop {
        let out = tokio::select! {
            next = next_frame(&mut st) => match next {
                Some(bytes) => bytes,
                None => return,
            },
            _ = idle.tick() => Bytes::from_static(b":\n\n"),
            // Whatever a client sends after its request is not asked for; nothing means it left.
            read = socket.read(&mut scrap) => match read {
                Ok(0) | Err(_) => return,
                Ok(_) => continue,
            },
            _ = shutdown.cancelled() => return,
        };
        if socket.write_all(&out).await.is_err() {
            return;
        }
        idle.reset();
    }
}

struct StreamState<D> {
    service: Arc<Service<D>>,
    user: String,
    device: String,
    last: i64,
    replay: VecDeque<Change>,
    replay_done: bool,
    rx_user: tokio::sync::broadcast::Receiver<Frame>,
    rx_global: tokio::sync::broadcast::Receiver<Frame>,
    closing: bool,
}

/// Counts a change written to a stream, and how long after its commit (a replay of old changes
/// counts as late: it is).
fn sent<D: Database>(service: &Service<D>, at: chrono::DateTime<chrono::Utc>) {
    let m = &crate::metrics::METRICS;
    m.changes_sent.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    m.delivery_lag.observe((service.clock.now() - at).to_std().unwrap_or_default());
}

/// The next frame to write: a replayed change, or what the hub hands on; `None` ends the stream.
/// Cancel-safe (it runs in a `select!`): what it took is kept in `st` until it is returned.
async fn next_frame<D: Database>(st: &mut StreamState<D>) -> Option<Bytes> {
    loop {
        if st.closing {
            return None;
        }
        if let Some(c) = st.replay.pop_front() {
            st.last = c.seq;
            sent(&st.service, c.at);
            let json = serde_json::to_string(&c).unwrap_or_default();
            return Some(sse_frame(sse::CHANGE, Some(c.seq), &json, None));
        }
        if !st.replay_done {
            match st.service.changes(&st.user, st.last, REPLAY_PAGE).await {
                Ok(page) => {
                    st.replay_done = !page.more;
                    st.replay.extend(page.changes);
                    continue;
                }
                Err(ServiceError::Unavailable) => {
                    tokio::time::sleep(REPLAY_RETRY).await;
                    continue;
                }
                // The client must list again; ending the stream makes it call /v1/changes and see 410.
                Err(e) => {
                    tracing::info!(error = %e, user = %st.user, "stream replay ended");
                    return None;
                }
            }
        }
        tokio::select! {
            r = st.rx_user.recv() => match r {
                Ok(Frame::Change { seq, at, sse }) => {
                    if seq <= st.last {
                        continue;
                    }
                    if seq > st.last + 1 {
                        st.replay_done = false;
                        continue;
                    }
                    st.last = seq;
                    sent(&st.service, at);
                    // The frame the hub rendered once for every stream of the user.
                    return Some(sse);
                }
                // Another node's commit: read the feed from the cursor (the data is never in the signal).
                Ok(Frame::Wake(seq)) => {
                    if seq > st.last {
                        st.replay_done = false;
                    }
                }
                Ok(Frame::Presence(frame)) => return Some(frame),
                // ORG-2: this device was signed out: its stream ends now (its next request is 401).
                Ok(Frame::Revoked(devices)) if devices.contains(&st.device) => return None,
                Ok(Frame::Maintenance(_) | Frame::Close | Frame::Revoked(_)) => continue,
                Err(RecvError::Lagged(_)) => st.replay_done = false,
                Err(RecvError::Closed) => return None,
            },
            r = st.rx_global.recv() => match r {
                Ok(Frame::Maintenance(frame)) => return Some(frame),
                Ok(Frame::Close) => st.closing = true,
                Ok(_) | Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return None,
            },
        }
    }
}
