//! The reference Lonceng Notification Center server.
//!
//! Producers post domain events; the server applies the rules of `lonceng_core::rules` (NC-R1, R2, R4),
//! stores notifications per user (NC-R3), appends every change to the user's feed and fans it out to
//! the user's open streams. Maintenance (the maintenance seed) makes client routes answer 503 with
//! `Retry-After` while producer events queue up; when it ends the queue is delivered late, optionally
//! re-sending some items on purpose so that clients prove they dedupe (MW-4) and stay quiet (MW-5).
//!
//! [`start`] binds the API to a listener and returns a [`Running`] handle whose `stop` shuts it down
//! gracefully, streams included; tests start it on port 0.

pub mod api;
pub mod db;
pub mod demo;
pub mod hub;
pub mod presence;
pub mod sqlite;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use lonceng_core::clock::Clock;
use lonceng_core::protocol::{ChangeBody, EventResponse, EventStatus, MaintenanceStatus, MaintenanceWindow};
use lonceng_core::rules::{self, Outcome, ProducerEvent};
use rand::Rng;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::api::ApiError;
use crate::db::{Database, DbError, DbResult, UserChange};
use crate::hub::{Frame, Hub};
use crate::presence::PresenceBook;

/// Server settings.
#[derive(Debug, Clone)]
pub struct Config {
    pub producer_token: String,
    pub admin_token: String,
    /// SSE keep-alive comment interval.
    pub keep_alive: StdDuration,
    /// How long a presence report counts.
    pub presence_ttl: Duration,
    /// How often maintenance windows, the queue and retention are checked.
    pub tick: StdDuration,
    /// After maintenance, re-send every n-th delivered item (0: never).
    pub resend_every: u32,
    /// Whether `GET /v1/stream` is offered (off: clients poll `GET /v1/changes`).
    pub streaming: bool,
}

impl Config {
    pub fn new(producer_token: impl Into<String>, admin_token: impl Into<String>) -> Config {
        Config {
            producer_token: producer_token.into(),
            admin_token: admin_token.into(),
            keep_alive: StdDuration::from_secs(15),
            presence_ttl: Duration::minutes(2),
            tick: StdDuration::from_secs(1),
            resend_every: 0,
            streaming: true,
        }
    }
}

/// The SHA-256 of a token, hex: what the database keeps.
pub fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares two secrets in constant time (of their digests, so length leaks nothing either).
pub fn same_secret(given: &str, expected: &str) -> bool {
    let (a, b) = (Sha256::digest(given.as_bytes()), Sha256::digest(expected.as_bytes()));
    !expected.is_empty() && bool::from(a.ct_eq(&b))
}

/// A new random secret: 32 bytes, hex.
pub fn new_secret() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(Debug, Default)]
struct MaintenanceState {
    /// Started by an operator: `Some(until)`.
    manual: Option<Option<DateTime<Utc>>>,
    windows: Vec<MaintenanceWindow>,
    was_active: bool,
    /// Re-send setting for the end of the current maintenance.
    resend_every: Option<u32>,
    last_prune: Option<DateTime<Utc>>,
}

pub struct AppState<D> {
    pub db: D,
    pub hub: Hub,
    pub presence: PresenceBook,
    pub clock: Arc<dyn Clock>,
    pub config: Config,
    pub shutdown: CancellationToken,
    maintenance: Mutex<MaintenanceState>,
    /// Serialises maintenance transitions and queue flushes.
    transition: tokio::sync::Mutex<()>,
}

impl<D: Database> AppState<D> {
    pub async fn new(db: D, config: Config, clock: Arc<dyn Clock>) -> DbResult<Arc<AppState<D>>> {
        let windows = db.windows(clock.now()).await?;
        Ok(Arc::new(AppState {
            presence: PresenceBook::new(config.presence_ttl),
            db,
            hub: Hub::default(),
            clock,
            config,
            shutdown: CancellationToken::new(),
            maintenance: Mutex::new(MaintenanceState { windows, ..MaintenanceState::default() }),
            transition: tokio::sync::Mutex::new(()),
        }))
    }

    fn state(&self) -> std::sync::MutexGuard<'_, MaintenanceState> {
        self.maintenance.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// MW-1/MW-2: whether maintenance is on now, until when, and the windows announced.
    pub fn maintenance_status(&self) -> MaintenanceStatus {
        let now = self.clock.now();
        let st = self.state();
        let window = st.windows.iter().find(|w| w.starts_at <= now && now < w.ends_at);
        let active = st.manual.is_some() || window.is_some();
        let until = st.manual.flatten().or(window.map(|w| w.ends_at)).filter(|_| active);
        let windows = st.windows.iter().filter(|w| w.ends_at > now).cloned().collect();
        MaintenanceStatus { active, until, windows }
    }

    pub fn reject_if_maintenance(&self) -> Result<(), ApiError> {
        let status = self.maintenance_status();
        if !status.active {
            return Ok(());
        }
        let retry_after = match status.until {
            Some(t) => (t - self.clock.now()).num_seconds().clamp(1, 3600) as u64,
            None => 60,
        };
        Err(ApiError::Maintenance { until: status.until, retry_after })
    }

    /// Accepts a producer event: applies it, or queues it during maintenance. Invalid events are
    /// refused at once, maintenance or not.
    pub async fn submit(&self, event: ProducerEvent) -> Result<EventResponse, ApiError> {
        let outcome = rules::decide(&event)?;
        let key = match &event {
            ProducerEvent::Notification(e) => e.idempotency_key.clone(),
            ProducerEvent::ChatMessage(m) => format!("chat:{}", m.event_id),
        };
        if self.maintenance_status().active {
            if let Some(mut seen) = self.db.event_response(key.clone()).await? {
                seen.duplicate = true;
                return Ok(seen);
            }
            let fresh = self.db.queue_event(key, event, self.clock.now()).await?;
            return Ok(EventResponse {
                status: EventStatus::Queued,
                created: vec![],
                suppressed: vec![],
                duplicate: !fresh,
            });
        }
        Ok(self.apply(key, outcome).await?.0)
    }

    async fn apply(&self, key: String, outcome: Outcome) -> DbResult<(EventResponse, Vec<UserChange>)> {
        let applied = self.db.apply_event(key, outcome, self.clock.now()).await?;
        self.hub.publish(&applied.changes);
        Ok((applied.response, applied.changes))
    }

    pub async fn issue_token(&self, user_id: &str, device_id: &str) -> DbResult<String> {
        let token = new_secret();
        self.db
            .add_token(token_hash(&token), user_id.to_owned(), device_id.to_owned(), self.clock.now())
            .await?;
        Ok(token)
    }

    /// MW-1: announces a window; it takes effect when it starts.
    pub async fn announce(
        &self,
        starts_at: DateTime<Utc>,
        ends_at: DateTime<Utc>,
        message: String,
    ) -> DbResult<MaintenanceWindow> {
        let w = self.db.add_window(starts_at, ends_at, message).await?;
        self.state().windows.push(w.clone());
        self.state().windows.sort_by_key(|w| w.starts_at);
        self.broadcast_status();
        self.sync_maintenance().await?;
        Ok(w)
    }

    pub async fn start_maintenance(&self, until: Option<DateTime<Utc>>) -> DbResult<()> {
        self.state().manual = Some(until);
        self.sync_maintenance().await
    }

    pub async fn end_maintenance(&self, resend_every: Option<u32>) -> DbResult<()> {
        {
            let mut st = self.state();
            st.manual = None;
            st.resend_every = resend_every;
        }
        self.sync_maintenance().await
    }

    fn broadcast_status(&self) {
        if let Ok(json) = serde_json::to_string(&self.maintenance_status()) {
            self.hub.broadcast(Frame::Maintenance(json.into()));
        }
    }

    /// Acts on a change of maintenance state: at the start, tells every stream and closes it; at the
    /// end, delivers the queue.
    async fn sync_maintenance(&self) -> DbResult<()> {
        let _guard = self.transition.lock().await;
        let active = self.maintenance_status().active;
        let was_active = std::mem::replace(&mut self.state().was_active, active);
        if active && !was_active {
            tracing::info!("maintenance started");
            self.broadcast_status();
            self.hub.broadcast(Frame::Close);
        } else if !active && was_active {
            let resend = self.state().resend_every.take().unwrap_or(self.config.resend_every);
            let delivered = self.flush_queue(resend).await?;
            tracing::info!(delivered, "maintenance ended");
            self.broadcast_status();
        } else if !active {
            // Events queued in the instant maintenance ended.
            self.flush_queue(0).await?;
        }
        Ok(())
    }

    /// Applies queued events in arrival order; re-sends every `resend_every`-th delivered item.
    async fn flush_queue(&self, resend_every: u32) -> DbResult<usize> {
        let mut delivered: Vec<UserChange> = Vec::new();
        loop {
            let batch = self.db.queued_events(100).await?;
            if batch.is_empty() {
                break;
            }
            for (key, event) in batch {
                // Validated when queued; an event that no longer passes is recorded as applied to nothing.
                let outcome = rules::decide(&event).unwrap_or(Outcome::List(vec![]));
                delivered.extend(self.apply(key, outcome).await?.1);
            }
        }
        if resend_every > 0 {
            let again: Vec<(String, ChangeBody)> = delivered
                .iter()
                .filter(|(_, c)| matches!(c.body, ChangeBody::Created { .. } | ChangeBody::Chat { .. }))
                .enumerate()
                .filter(|(i, _)| (i + 1) % resend_every as usize == 0)
                .map(|(_, (user, c))| (user.clone(), c.body.clone()))
                .collect();
            if !again.is_empty() {
                let changes = self.db.append_changes(again, self.clock.now()).await?;
                tracing::info!(resent = changes.len(), "re-sent items on purpose");
                self.hub.publish(&changes);
            }
        }
        Ok(delivered.len())
    }

    /// Periodic work: maintenance windows starting or ending, leftovers in the queue, and retention
    /// (NC-R5) once an hour.
    pub async fn tick(&self) -> DbResult<()> {
        self.sync_maintenance().await?;
        let now = self.clock.now();
        let due = self.state().last_prune.is_none_or(|t| now - t >= Duration::hours(1));
        if due {
            let changes = self.db.prune(now).await?;
            self.hub.publish(&changes);
            self.state().last_prune = Some(now);
        }
        self.hub.prune_idle();
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("listener: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// A server that is running; [`Running::stop`] shuts it down.
pub struct Running<D> {
    pub addr: SocketAddr,
    pub app: Arc<AppState<D>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl<D: Database> Running<D> {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Graceful shutdown: open streams end, in-flight requests finish.
    pub async fn stop(self) {
        self.app.shutdown.cancel();
        match self.task.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "server ended with an error"),
            Err(e) => tracing::warn!(error = %e, "server task failed"),
        }
    }
}

/// Accepts HTTP/1.1 connections until `shutdown`, then lets them finish (streams end on the same
/// token). hyper is driven directly rather than through `axum::serve` for two measured reasons (see
/// docs/PERFORMANCE.md): `axum::serve` with a `Router` rebuilds the route table for every connection
/// (about 9 KB, kept while a stream is open), and hyper's default read buffer grows to 16 KB on an idle
/// keep-alive connection; `max_buf_size(8192)` (hyper's minimum, and ample for our requests) keeps it
/// at 8 KB. Together they took an open stream from 35 KB to the figure in the performance table.
async fn serve(
    listener: TcpListener,
    router: axum::Router,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    loop {
        let stream = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(StdDuration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let service = hyper_util::service::TowerToHyperService::new(router.clone());
        let conn = hyper::server::conn::http1::Builder::new()
            .max_buf_size(8192)
            .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    graceful.shutdown().await;
    Ok(())
}

/// Serves the API on `listener` with periodic ticks until stopped.
pub async fn start<D: Database>(
    db: D,
    config: Config,
    clock: Arc<dyn Clock>,
    listener: TcpListener,
) -> Result<Running<D>, StartError> {
    let addr = listener.local_addr()?;
    let app = AppState::new(db, config, clock).await?;
    let ticker = app.clone();
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(ticker.config.tick);
        loop {
            tokio::select! {
                _ = ticker.shutdown.cancelled() => break,
                _ = interval.tick() => {
                    if let Err(e) = ticker.tick().await {
                        tracing::error!(error = %e, "periodic work failed");
                    }
                }
            }
        }
    });
    let task = tokio::spawn(serve(listener, api::router(app.clone()), app.shutdown.clone()));
    Ok(Running { addr, app, task })
}
