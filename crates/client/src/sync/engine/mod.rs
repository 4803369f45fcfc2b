//! The sync loop: one session at a time (catch up, flush the outbox, follow or poll), and between
//! sessions the wait that the failure calls for. See the module above for the guarantees.
//!
//! Rooms: this module owns the engine and its loop across sessions; `session` (one connection's
//! life: catch up, then follow or poll), `apply` (a pulled page into the store and out as events,
//! MW-5's late tally), `outbox` (queued offline actions sent, MW-6), `status` (a failure's wait and
//! what the status says meanwhile, MW-2). Every room is methods on [`SyncEngine`]: its state is
//! one value, owned by the one task that runs it.

mod apply;
mod outbox;
mod session;
mod status;

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::FutureExt;
use tokio::sync::{mpsc, watch, Notify};
use tokio_util::sync::CancellationToken;

use super::pacing;
use super::recent::RecentChats;
use super::source::{Source, SourceError};
use super::{ConnState, SharedStore, SyncConfig, SyncEvent, SyncStatus};
use crate::store::{Store, StoreError};
use apply::LateTally;
use lonceng_domain::clock::{Clock, Sleeper};

/// The store's key for the last successful sync time (RFC 3339).
const LAST_SYNCED_KEY: &str = "last_synced_at";

/// MW-5: a catch-up after a (re)connection that brings more than this many new items brings them
/// quietly, however short the outage was: they go to the list, and one summary says how many.
pub const HANDFUL: usize = 5;

#[derive(Debug, thiserror::Error)]
enum SyncError {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no keep-alive for too long")]
    Dead,
    #[error("the machine woke from sleep")]
    Woke,
    #[error("the store worker stopped")]
    Worker,
    /// A bug: the session panicked. The engine reports it and starts a new session.
    #[error("sync stopped unexpectedly ({0}); it starts again by itself")]
    Panicked(String),
}

/// Control of a running engine.
#[derive(Clone)]
pub struct SyncHandle {
    pub status: watch::Receiver<SyncStatus>,
    nudge: Arc<Notify>,
    retry: Arc<Notify>,
}

impl SyncHandle {
    /// A local action was queued: send it now if connected.
    pub fn nudge(&self) {
        self.nudge.notify_one();
    }

    /// MW-2: the agent's "Try now": a wait between attempts ends at once, with the backoff reset.
    /// Nothing is kept for later: pressed while connected, it does nothing.
    pub fn retry_now(&self) {
        self.retry.notify_waiters();
    }
}

pub struct SyncEngine<S> {
    source: Arc<S>,
    store: SharedStore,
    clock: Arc<dyn Clock>,
    sleeper: Arc<dyn Sleeper>,
    config: SyncConfig,
    events: mpsc::UnboundedSender<SyncEvent>,
    status: watch::Sender<SyncStatus>,
    nudge: Arc<Notify>,
    retry: Arc<Notify>,
    recent_chats: RecentChats,
    /// When the current outage began.
    outage_since: Option<DateTime<Utc>>,
    late: LateTally,
    /// The last sync time a gap was reported for: once per absence, not per retry.
    gap_reported: Option<DateTime<Utc>>,
}

impl<S: Source> SyncEngine<S> {
    /// An engine that reports to `events` (the app's one event channel: toasts, tray, window).
    pub fn new(
        source: S,
        store: SharedStore,
        clock: Arc<dyn Clock>,
        sleeper: Arc<dyn Sleeper>,
        config: SyncConfig,
        events: mpsc::UnboundedSender<SyncEvent>,
    ) -> (SyncEngine<S>, SyncHandle) {
        let initial = SyncStatus { state: ConnState::Connecting, last_synced_at: None, maintenance: None };
        let (status, status_rx) = watch::channel(initial);
        let nudge = Arc::new(Notify::new());
        let retry = Arc::new(Notify::new());
        let handle = SyncHandle { status: status_rx, nudge: nudge.clone(), retry: retry.clone() };
        let engine = SyncEngine {
            source: Arc::new(source),
            store,
            clock,
            sleeper,
            config,
            events,
            status,
            nudge,
            retry,
            recent_chats: Default::default(),
            outage_since: None,
            late: LateTally::default(),
            gap_reported: None,
        };
        (engine, handle)
    }

    /// Runs until `shutdown`. A session that fails waits as its failure calls for and starts
    /// again; one that panics (a bug) is reported in the status and started again the same way, so
    /// the engine never stops while the app runs.
    pub async fn run(mut self, shutdown: CancellationToken) {
        if let Ok(Some(t)) = self.with_store(|s| s.state(LAST_SYNCED_KEY)).await {
            let last = DateTime::parse_from_rfc3339(&t).ok().map(|t| t.with_timezone(&Utc));
            self.status.send_modify(|s| s.last_synced_at = last);
        }
        let mut attempt: u32 = 0;
        while !shutdown.is_cancelled() {
            let step = AssertUnwindSafe(self.step(&shutdown, &mut attempt)).catch_unwind();
            let wait = tokio::select! {
                _ = shutdown.cancelled() => return,
                r = step => match r {
                    Ok(Some(wait)) => wait,
                    Ok(None) => continue,
                    Err(panic) => {
                        let e = SyncError::Panicked(panic_message(&*panic));
                        tracing::error!(error = %e, "sync session panicked");
                        let wait = pacing::backoff(&self.config, attempt, false);
                        attempt = attempt.saturating_add(1);
                        self.fault(&e, wait);
                        wait
                    }
                },
            };
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = self.sleeper.sleep(wait) => {}
                _ = self.retry.notified() => {
                    tracing::info!("the agent asked to try now");
                    attempt = 0;
                }
            }
        }
    }

    /// One session and what follows it: how long to wait before the next (`None`: at once).
    async fn step(&mut self, shutdown: &CancellationToken, attempt: &mut u32) -> Option<Duration> {
        match self.session(shutdown).await {
            // The server ended the stream (e.g. maintenance began): reconnect soon.
            Ok(()) => {
                *attempt = 0;
                Some(pacing::jitter(self.config.backoff_min / 2))
            }
            Err(SyncError::Woke) => {
                tracing::info!("woke from sleep: reconnecting now");
                *attempt = 0;
                None
            }
            Err(e) => {
                self.outage_since.get_or_insert_with(|| self.clock.now());
                self.late.outage();
                let wait = self.report_failure(&e, *attempt).await;
                *attempt = attempt.saturating_add(1);
                Some(wait)
            }
        }
    }

    fn emit(&self, event: SyncEvent) {
        // Nobody listening (the app is shutting down) is not an error.
        let _ = self.events.send(event);
    }

    async fn with_store<T, F>(&self, f: F) -> Result<T, SyncError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store) -> Result<T, StoreError> + Send + 'static,
    {
        let store = self.store.clone();
        let result = tokio::task::spawn_blocking(move || {
            let mut s = store.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut s)
        })
        .await
        .map_err(|_| SyncError::Worker)?;
        Ok(result?)
    }
}

/// What a panic said, for the status and the log.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".to_owned())
}
