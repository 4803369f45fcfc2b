//! The sync loop: one session at a time (catch up, flush the outbox, follow or poll), and between
//! sessions the wait that the failure calls for. See the module above for the guarantees.

use std::collections::HashSet;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures_util::{FutureExt, StreamExt};
use tokio::sync::{mpsc, watch, Notify};
use tokio_util::sync::CancellationToken;

use super::pacing;
use super::recent::RecentChats;
use super::source::{EventStream, Pulled, Source, SourceError, SourceEvent};
use super::{ConnState, SharedStore, SyncConfig, SyncEvent, SyncStatus};
use crate::store::{Store, StoreError, CURSOR_KEY};
use lonceng_domain::clock::{Clock, Sleeper};
use lonceng_domain::model::Tab;
use lonceng_domain::protocol::MaintenanceStatus;
use lonceng_domain::rules;

/// The store's key for the last successful sync time (RFC 3339).
const LAST_SYNCED_KEY: &str = "last_synced_at";

/// MW-5: a catch-up after a (re)connection that brings more than this many new items brings them
/// quietly, however short the outage was: they go to the list, and one summary says how many.
pub const HANDFUL: usize = 5;

/// How a page came: live (the stream, a regular poll), or catching up after a (re)connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Arrival {
    Live,
    CatchUp,
}

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

/// MW-5: late arrivals are counted only while recovering from an outage (a first sync's backlog is
/// not news), and summarised once they have settled.
#[derive(Debug, Default)]
struct LateTally {
    /// An outage happened and its late arrivals are being counted.
    counting: bool,
    pending: usize,
    /// The last late arrival, or the reconnection: the summary waits for quiet after it.
    last: Option<Instant>,
}

/// Control of a running engine.
#[derive(Clone)]
pub struct SyncHandle {
    pub status: watch::Receiver<SyncStatus>,
    nudge: Arc<Notify>,
}

impl SyncHandle {
    /// A local action was queued: send it now if connected.
    pub fn nudge(&self) {
        self.nudge.notify_one();
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
        let handle = SyncHandle { status: status_rx, nudge: nudge.clone() };
        let engine = SyncEngine {
            source: Arc::new(source),
            store,
            clock,
            sleeper,
            config,
            events,
            status,
            nudge,
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
                self.late.counting = true;
                let wait = self.delay(&e, *attempt);
                *attempt = attempt.saturating_add(1);
                self.report_failure(&e, wait).await;
                Some(wait)
            }
        }
    }

    async fn session(&mut self, shutdown: &CancellationToken) -> Result<(), SyncError> {
        self.report_gaps().await?;
        self.catch_up(Arrival::CatchUp).await?;
        self.flush_outbox().await?;
        let maintenance = self.source.maintenance().await.ok().flatten();
        let stream = self.source.stream(self.cursor().await?).await?;
        self.connected(stream.is_some(), maintenance).await?;
        match stream {
            Some(stream) => self.follow(stream, shutdown).await,
            None => self.poll(shutdown).await,
        }
    }

    async fn connected(
        &mut self,
        streaming: bool,
        maintenance: Option<MaintenanceStatus>,
    ) -> Result<(), SyncError> {
        let now = self.clock.now();
        self.with_store(move |s| s.set_state(LAST_SYNCED_KEY, &now.to_rfc3339())).await?;
        if self.outage_since.take().is_some() {
            tracing::info!("back online");
            self.late.last = Some(Instant::now());
        }
        self.status.send_modify(|s| {
            s.state = ConnState::Connected { streaming };
            s.last_synced_at = Some(now);
            if maintenance.is_some() {
                s.maintenance = maintenance;
            }
        });
        Ok(())
    }

    async fn cursor(&self) -> Result<Option<String>, SyncError> {
        self.with_store(|s| s.state(CURSOR_KEY)).await
    }

    /// Pulls and applies pages until the source has no more.
    async fn catch_up(&mut self, arrival: Arrival) -> Result<(), SyncError> {
        let mut since = self.cursor().await?;
        let mut brought = 0usize;
        loop {
            let page = match self.source.pull(since.clone()).await {
                Err(SourceError::CursorGone) => {
                    tracing::warn!("cursor too old for the server's feed: replaying from the start");
                    self.source.pull(Some("0".into())).await?
                }
                other => other?,
            };
            let (more, next) = (page.more, page.next.clone());
            brought = brought.saturating_add(page.batch.items.len());
            let quiet = arrival == Arrival::CatchUp && brought > HANDFUL;
            self.apply(page, quiet).await?;
            if !more {
                return Ok(());
            }
            since = next;
        }
    }

    /// Polls when the source cannot stream.
    async fn poll(&mut self, shutdown: &CancellationToken) -> Result<(), SyncError> {
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                _ = self.sleeper.sleep(self.source.poll_interval()) => {}
                _ = self.nudge.notified() => {}
            }
            self.catch_up(Arrival::Live).await?;
            self.flush_outbox().await?;
            self.maybe_summarise();
            let now = self.clock.now();
            self.with_store(move |s| s.set_state(LAST_SYNCED_KEY, &now.to_rfc3339())).await?;
            self.status.send_modify(|s| s.last_synced_at = Some(now));
        }
    }

    /// Follows the live stream until it ends or dies.
    async fn follow(&mut self, stream: EventStream, shutdown: &CancellationToken) -> Result<(), SyncError> {
        // Apply whatever is ready together: a burst after maintenance is one transaction, not hundreds.
        let mut stream = stream.ready_chunks(500);
        let mut wake_check = tokio::time::interval(self.config.wake_check);
        let (mut wall, mut mono) = (self.clock.now(), Instant::now());
        // One deadline across loop turns: a timeout rebuilt on every turn would be reset by the other
        // branches and never fire.
        let mut deadline = tokio::time::Instant::now() + self.config.keepalive_timeout;
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                _ = tokio::time::sleep_until(deadline) => return Err(SyncError::Dead),
                next = stream.next() => match next {
                    None => return Ok(()),
                    Some(events) => {
                        deadline = tokio::time::Instant::now() + self.config.keepalive_timeout;
                        self.on_events(events).await?;
                    }
                },
                _ = self.nudge.notified() => self.flush_outbox().await?,
                _ = wake_check.tick() => {
                    let (now_wall, now_mono) = (self.clock.now(), Instant::now());
                    let mono_passed = chrono::Duration::from_std(now_mono - mono).unwrap_or_default();
                    if (now_wall - wall) - mono_passed > self.config.wake_jump {
                        return Err(SyncError::Woke);
                    }
                    (wall, mono) = (now_wall, now_mono);
                    self.maybe_summarise();
                }
            }
        }
    }

    async fn on_events(&mut self, events: Vec<Result<SourceEvent, SourceError>>) -> Result<(), SyncError> {
        let mut page = Pulled::default();
        let mut failure = None;
        for event in events {
            match event {
                Ok(SourceEvent::Changes(p)) => page.merge(*p),
                Ok(SourceEvent::Presence(p)) => self.emit(SyncEvent::Presence(p)),
                Ok(SourceEvent::Maintenance(m)) => self.status.send_modify(|s| s.maintenance = Some(m)),
                Ok(SourceEvent::KeepAlive) => {}
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        if page.batch.cursor.is_some() {
            self.apply(page, false).await?;
        }
        match failure {
            Some(e) => Err(e.into()),
            None => Ok(()),
        }
    }

    /// Applies one page atomically, then tells the app what changed. Arrivals are late (quiet,
    /// MW-5) when they are old, or when the page is part of a catch-up that brought more than a
    /// handful (`quiet`).
    async fn apply(&mut self, page: Pulled, quiet: bool) -> Result<(), SyncError> {
        let now = self.clock.now();
        let batch = page.batch;
        let (batch, report) = self
            .with_store(move |s| {
                let report = s.apply(&batch, now)?;
                Ok((batch, report))
            })
            .await?;
        let mut changed = !report.newly_read.is_empty() || report.removed > 0 || report.quarantined > 0;
        if !report.inserted.is_empty() {
            changed = true;
            // A page can hold an item and its re-send (MW-4): report each inserted id once.
            let mut inserted: HashSet<&str> = report.inserted.iter().map(String::as_str).collect();
            for n in batch.items.into_iter().filter(|n| inserted.remove(n.id.as_str())) {
                let late = quiet || now - n.created_at > self.config.late_after;
                if late && self.late.counting {
                    self.late.pending += 1;
                    self.late.last = Some(Instant::now());
                }
                self.emit(SyncEvent::Arrived { notification: n, late });
            }
        }
        if !report.newly_read.is_empty() {
            self.emit(SyncEvent::Read { ids: report.newly_read });
        }
        if report.removed > 0 {
            self.emit(SyncEvent::Removed { ids: batch.expired });
        }
        for chat in page.chats {
            if self.recent_chats.first_time(&chat.event_id)
                && now - chat.received_at <= self.config.late_after
            {
                self.emit(SyncEvent::Chat(chat));
            }
        }
        if changed {
            self.emit(SyncEvent::StoreChanged);
        }
        Ok(())
    }

    /// MW-5: once an outage's late arrivals have settled, one summary for all of them.
    fn maybe_summarise(&mut self) {
        let settled = self.late.last.is_some_and(|t| t.elapsed() >= self.config.summary_settle);
        if self.late.counting && settled {
            let count = std::mem::take(&mut self.late.pending);
            if count > 0 {
                self.emit(SyncEvent::LateSummary { count });
            }
            self.late = LateTally::default();
        }
    }

    /// Sends queued offline actions in order (MW-6). A refusal for good drops the action (retrying
    /// cannot help, and it must not block the ones behind it); anything else stops the flush.
    async fn flush_outbox(&mut self) -> Result<(), SyncError> {
        loop {
            let now = self.clock.now();
            let pending = self.with_store(move |s| s.outbox_pending(50, now)).await?;
            if pending.is_empty() {
                return Ok(());
            }
            for entry in pending {
                let covered = if self.source.needs_covered_ids() {
                    let op = entry.op.clone();
                    self.with_store(move |s| s.ids_covered(&op)).await?
                } else {
                    Vec::new()
                };
                let seq = entry.seq;
                match self.source.push(&entry, &covered).await {
                    Ok(()) => self.with_store(move |s| s.outbox_done(seq)).await?,
                    Err(SourceError::Rejected { status, message }) => {
                        tracing::warn!(status, %message, key = %entry.idempotency_key, "server refused a queued action; dropped");
                        self.with_store(move |s| s.outbox_done(seq)).await?;
                    }
                    Err(e) => {
                        let why = e.to_string();
                        self.with_store(move |s| s.outbox_failed(seq, &why)).await?;
                        return Err(e.into());
                    }
                }
            }
        }
    }

    /// Away longer than a tab keeps items: say which tabs may have lost some.
    async fn report_gaps(&mut self) -> Result<(), SyncError> {
        let Some(last) = self.status.borrow().last_synced_at else { return Ok(()) };
        if self.gap_reported == Some(last) {
            return Ok(());
        }
        self.gap_reported = Some(last);
        let now = self.clock.now();
        let away = now - last;
        for tab in Tab::ALL {
            if away > rules::retention(*tab) {
                // Kept, so that the tab shows it until the agent dismisses it.
                let tab = *tab;
                self.with_store(move |s| s.mark_gap(tab, now)).await?;
                self.emit(SyncEvent::Gap { tab });
            }
        }
        Ok(())
    }

    /// How long to wait before the next attempt ([`pacing`](super::pacing)).
    fn delay(&self, e: &SyncError, attempt: u32) -> Duration {
        if let SyncError::Source(SourceError::Unavailable { retry_after: Some(r), .. }) = e {
            return pacing::after_retry_after(*r, self.clock.now());
        }
        let slow = matches!(e, SyncError::Source(SourceError::Unauthorized(_)) | SyncError::Store(_));
        pacing::backoff(&self.config, attempt, slow)
    }

    /// A panicked session: the status says so (offline, with the reason), and when it retries.
    fn fault(&mut self, e: &SyncError, wait: Duration) {
        let next_attempt_at = self.next_attempt_at(wait);
        self.status.send_modify(|s| s.state = ConnState::Offline { reason: e.to_string(), next_attempt_at });
    }

    fn next_attempt_at(&self, wait: Duration) -> DateTime<Utc> {
        let now = self.clock.now();
        chrono::Duration::from_std(wait).ok().and_then(|w| now.checked_add_signed(w)).unwrap_or(now)
    }

    async fn report_failure(&mut self, e: &SyncError, wait: Duration) {
        let now = self.clock.now();
        let next_attempt_at =
            chrono::Duration::from_std(wait).ok().and_then(|w| now.checked_add_signed(w)).unwrap_or(now);
        let state = match e {
            SyncError::Source(SourceError::Unavailable { maintenance: true, .. }) => {
                let status = self.source.maintenance().await.ok().flatten();
                let until = status.as_ref().and_then(|m| m.until);
                if status.is_some() {
                    self.status.send_modify(|s| s.maintenance = status);
                }
                ConnState::Maintenance { until, next_attempt_at }
            }
            SyncError::Source(SourceError::Unauthorized(m)) => {
                ConnState::Offline { reason: m.clone(), next_attempt_at }
            }
            SyncError::Store(e) => ConnState::Offline { reason: e.to_string(), next_attempt_at },
            _ => ConnState::Reconnecting { next_attempt_at },
        };
        tracing::info!(error = %e, ?wait, "sync interrupted");
        self.status.send_modify(|s| s.state = state);
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
