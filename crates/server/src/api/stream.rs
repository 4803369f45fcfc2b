//! `GET /v1/stream`: a user's changes as Server-Sent Events. Resumes after `Last-Event-ID` (or
//! `?since=`) by replaying from the database, then follows live frames from the hub. A gap in the
//! live sequence (a lagging receiver, or two commits published out of order) switches back to
//! replay, so a stream never skips a change (MW-3). Changes committed on another node arrive as a
//! wake-up with the user's newest sequence number, and are read from the database the same way.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream, StreamExt};
use lonceng_domain::protocol::{sse, Change};
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;

use super::error::ApiError;
use super::extract::{StreamClient, Q};
use crate::db::Database;
use crate::hub::Frame;
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

pub async fn stream<D: Database>(
    State(service): State<Arc<Service<D>>>,
    StreamClient(d): StreamClient,
    headers: HeaderMap,
    Q(p): Q<StreamParams>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
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
        None => (service.last_seq(&d.user_id).await?, VecDeque::new(), true),
    };
    let presence = serde_json::to_string(&service.presence(&d.user_id)).unwrap_or_default();
    let state = StreamState {
        service: service.clone(),
        user: d.user_id,
        device: d.device_id,
        last,
        replay,
        replay_done,
        rx_user,
        rx_global,
        // `retry:` tells a browser's EventSource how soon to reconnect when the stream ends.
        first: Some(
            Event::default().event(sse::PRESENCE).data(presence).retry(std::time::Duration::from_secs(1)),
        ),
        closing: false,
    };
    let events = stream::unfold(state, next_event).take_until(service.shutdown.clone().cancelled_owned());
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(service.config.keep_alive)))
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
    first: Option<Event>,
    closing: bool,
}

/// Counts a change written to a stream, and how long after its commit (a replay of old changes
/// counts as late: it is).
fn sent<D: Database>(service: &Service<D>, at: chrono::DateTime<chrono::Utc>) {
    let m = &crate::metrics::METRICS;
    m.changes_sent.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    m.delivery_lag.observe((service.clock.now() - at).to_std().unwrap_or_default());
}

fn change_event(seq: i64, json: &str) -> Event {
    Event::default().event(sse::CHANGE).id(seq.to_string()).data(json)
}

async fn next_event<D: Database>(
    mut st: StreamState<D>,
) -> Option<(Result<Event, Infallible>, StreamState<D>)> {
    if let Some(first) = st.first.take() {
        return Some((Ok(first), st));
    }
    loop {
        if st.closing {
            return None;
        }
        if let Some(c) = st.replay.pop_front() {
            st.last = c.seq;
            sent(&st.service, c.at);
            let json = serde_json::to_string(&c).unwrap_or_default();
            return Some((Ok(change_event(c.seq, &json)), st));
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
                Ok(Frame::Change { seq, at, json }) => {
                    if seq <= st.last {
                        continue;
                    }
                    if seq > st.last + 1 {
                        st.replay_done = false;
                        continue;
                    }
                    st.last = seq;
                    sent(&st.service, at);
                    return Some((Ok(change_event(seq, &json)), st));
                }
                // Another node's commit: read the feed from the cursor (the data is never in the signal).
                Ok(Frame::Wake(seq)) => {
                    if seq > st.last {
                        st.replay_done = false;
                    }
                }
                Ok(Frame::Presence(json)) => return Some((Ok(Event::default().event(sse::PRESENCE).data(&*json)), st)),
                // ORG-2: this device was signed out: its stream ends now (its next request is 401).
                Ok(Frame::Revoked(devices)) if devices.contains(&st.device) => return None,
                Ok(Frame::Maintenance(_) | Frame::Close | Frame::Revoked(_)) => continue,
                Err(RecvError::Lagged(_)) => st.replay_done = false,
                Err(RecvError::Closed) => return None,
            },
            r = st.rx_global.recv() => match r {
                Ok(Frame::Maintenance(json)) => return Some((Ok(Event::default().event(sse::MAINTENANCE).data(&*json)), st)),
                Ok(Frame::Close) => st.closing = true,
                Ok(_) | Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return None,
            },
        }
    }
}
