//! The sync engine: keeps the local store exactly in step with a source through anything a network
//! and a maintenance window can do (PRODUCT.md §4).
//!
//! One loop, per session: catch up from the stored cursor (pages applied atomically with the cursor,
//! so a process killed mid-way resumes where it stopped — MW-3), send the queued offline actions
//! (MW-6), then follow the live stream, or poll where the source has none. Ids dedupe re-sent items
//! and the store never turns read back into unread (MW-4). Failures back off exponentially with
//! jitter, honour `Retry-After`, and show as a calm status, never as error toasts (MW-2). Items
//! created long before they arrive are "late": they go into the list quietly and are counted into at
//! most one summary per outage (MW-5).
//!
//! Time comes from an injected [`Clock`] and waiting from an injected [`Sleeper`], so tests cross an
//! hour of maintenance in milliseconds. A jump of the wall clock against the monotonic clock (the
//! machine slept) drops the connection and reconnects at once.

pub mod crm_source;
pub mod lonceng;
pub mod sse;

use std::collections::{HashSet, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures_util::{Stream, StreamExt};
use rand::Rng;
use serde::Serialize;
use tokio::sync::{mpsc, watch, Notify};
use tokio_util::sync::CancellationToken;

use crate::clock::{Clock, Sleeper};
use crate::model::{ChatMessage, Notification, Tab};
use crate::protocol::{Change, ChangeBody, MaintenanceStatus, Presence};
use crate::rules;
use crate::store::{Batch, OutboxEntry, Rejected, RemoteRead, Store, StoreError, CURSOR_KEY};

/// The store, shared between the engine and the app.
pub type SharedStore = Arc<Mutex<Store>>;

pub type BoxFut<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
pub type EventStream = Pin<Box<dyn Stream<Item = Result<SourceEvent, SourceError>> + Send>>;

/// The HTTP client both sources use: bounded connects, Lonceng's user agent, and an overall
/// timeout for requests that are not streams.
pub(crate) fn http_client(timeout: Option<Duration>) -> Result<reqwest::Client, SourceError> {
    let mut b = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .user_agent(concat!("Lonceng/", env!("CARGO_PKG_VERSION")));
    if let Some(t) = timeout {
        b = b.timeout(t);
    }
    b.build().map_err(|e| SourceError::Network(e.to_string()))
}

/// The store's key for the last successful sync time (RFC 3339).
const LAST_SYNCED_KEY: &str = "last_synced_at";

/// What a source's live stream carries.
#[derive(Debug, Clone, PartialEq)]
pub enum SourceEvent {
    Change(Box<Change>),
    Presence(Presence),
    Maintenance(MaintenanceStatus),
    /// Proof of life, nothing else.
    KeepAlive,
}

/// One page of catch-up, ready to apply.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Pulled {
    pub items: Vec<Notification>,
    pub reads: Vec<RemoteRead>,
    pub expired: Vec<String>,
    pub chats: Vec<ChatMessage>,
    pub rejected: Vec<Rejected>,
    /// The cursor to store with this page (sources without cursors leave it empty).
    pub cursor: Option<String>,
    /// Where the next page of this catch-up starts.
    pub next: Option<String>,
    pub more: bool,
}

impl Pulled {
    /// Adds a change of the Lonceng protocol; items that fail validation are kept aside, not lost.
    pub fn absorb(&mut self, change: Change) {
        match change.body {
            ChangeBody::Created { notification } => {
                let raw = serde_json::to_string(&notification).unwrap_or_default();
                match notification.validate() {
                    Ok(n) => self.items.push(n),
                    Err(e) => self.rejected.push(Rejected { raw, error: e.to_string() }),
                }
            }
            ChangeBody::Read { ids, read_at } => {
                self.reads.extend(ids.into_iter().map(|id| RemoteRead { id, read_at }));
            }
            ChangeBody::Expired { ids } => self.expired.extend(ids),
            ChangeBody::Chat { message } => self.chats.push(message),
        }
        self.cursor = Some(change.seq.to_string());
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    /// 503: maintenance or overload. `retry_after` from the header.
    #[error("the server is unavailable{}", match .retry_after { Some(d) => format!(" (retry after {} s)", d.as_secs()), None => String::new() })]
    Unavailable { retry_after: Option<Duration>, maintenance: bool },
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
    #[error("unexpected answer: {0}")]
    Protocol(String),
}

/// A place to sync with: the Lonceng server ([`lonceng::LoncengSource`]) or the Qontak CRM API
/// ([`crm_source::CrmSource`]).
pub trait Source: Send + Sync + 'static {
    /// One page of catch-up from `since` (a cursor, a page, or nothing for the start).
    fn pull(&self, since: Option<String>) -> BoxFut<'_, Result<Pulled, SourceError>>;
    /// The live stream from `since`; `None` when the source cannot stream (then the engine polls).
    fn stream(&self, since: Option<String>) -> BoxFut<'_, Result<Option<EventStream>, SourceError>>;
    /// Sends one queued action. `covered` lists the ids a mark-all covered, for sources that need
    /// them ([`Source::needs_covered_ids`]).
    fn push<'a>(
        &'a self,
        entry: &'a OutboxEntry,
        covered: &'a [String],
    ) -> BoxFut<'a, Result<(), SourceError>>;
    fn needs_covered_ids(&self) -> bool {
        false
    }
    /// Announced maintenance (MW-1), where the source has such a thing.
    fn maintenance(&self) -> BoxFut<'_, Result<Option<MaintenanceStatus>, SourceError>>;
    /// How often to poll when not streaming.
    fn poll_interval(&self) -> Duration;
}

#[derive(Debug, Clone)]
pub struct SyncConfig {
    /// No bytes (not even a keep-alive) for this long: the connection is dead.
    pub keepalive_timeout: Duration,
    /// Created more than this before it arrived: late (MW-5).
    pub late_after: chrono::Duration,
    /// Quiet time after the last late arrival before the one summary is sent.
    pub summary_settle: Duration,
    pub backoff_min: Duration,
    pub backoff_max: Duration,
    /// How often the wall clock is compared with the monotonic one.
    pub wake_check: Duration,
    /// A wall-clock jump larger than this (beyond monotonic time) means the machine slept.
    pub wake_jump: chrono::Duration,
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig {
            keepalive_timeout: Duration::from_secs(45),
            late_after: chrono::Duration::minutes(2),
            summary_settle: Duration::from_secs(5),
            backoff_min: Duration::from_secs(1),
            backoff_max: Duration::from_secs(300),
            wake_check: Duration::from_secs(5),
            wake_jump: chrono::Duration::seconds(30),
        }
    }
}

/// The connection as the bell window and the tray show it (MW-2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ConnState {
    Connecting,
    Connected {
        streaming: bool,
    },
    Reconnecting {
        next_attempt_at: DateTime<Utc>,
    },
    Maintenance {
        until: Option<DateTime<Utc>>,
        next_attempt_at: DateTime<Utc>,
    },
    /// Needs the agent (the sign-in was refused, the local database is damaged).
    Offline {
        reason: String,
        next_attempt_at: DateTime<Utc>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyncStatus {
    pub state: ConnState,
    pub last_synced_at: Option<DateTime<Utc>>,
    /// Announced maintenance windows (MW-1).
    pub maintenance: Option<MaintenanceStatus>,
}

/// What the engine tells the rest of the app (toasts, tray, window).
#[derive(Debug, Clone, PartialEq)]
pub enum SyncEvent {
    /// Stored for the first time. Late ones go to the list quietly (MW-5).
    Arrived {
        notification: Notification,
        late: bool,
    },
    /// Were unread, are read now: withdraw their toasts (NC-R13).
    Read {
        ids: Vec<String>,
    },
    /// Removed by the server's retention.
    Removed {
        ids: Vec<String>,
    },
    /// A fresh incoming chat message, first time seen (NC-R4, MW-4).
    Chat(ChatMessage),
    /// MW-5: "23 notifications arrived while Qontak was unavailable".
    LateSummary {
        count: usize,
    },
    /// Away longer than a tab keeps items: some may have expired unseen.
    Gap {
        tab: Tab,
    },
    Presence(Presence),
    /// The store changed: refresh counts and lists.
    StoreChanged,
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

/// Chat event ids remembered for dedupe.
const RECENT_CHATS: usize = 2_000;

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
    recent_chats: (VecDeque<String>, HashSet<String>),
    /// When the current outage began.
    outage_since: Option<DateTime<Utc>>,
    late: LateTally,
    /// The last sync time a gap was reported for: once per absence, not per retry.
    gap_reported: Option<DateTime<Utc>>,
}

impl<S: Source> SyncEngine<S> {
    pub fn new(
        source: S,
        store: SharedStore,
        clock: Arc<dyn Clock>,
        sleeper: Arc<dyn Sleeper>,
        config: SyncConfig,
    ) -> (SyncEngine<S>, SyncHandle, mpsc::UnboundedReceiver<SyncEvent>) {
        let (events, rx) = mpsc::unbounded_channel();
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
        (engine, handle, rx)
    }

    /// Runs until `shutdown`.
    pub async fn run(mut self, shutdown: CancellationToken) {
        if let Ok(Some(t)) = self.with_store(|s| s.state(LAST_SYNCED_KEY)).await {
            let last = DateTime::parse_from_rfc3339(&t).ok().map(|t| t.with_timezone(&Utc));
            self.status.send_modify(|s| s.last_synced_at = last);
        }
        let mut attempt: u32 = 0;
        while !shutdown.is_cancelled() {
            let outcome = tokio::select! {
                _ = shutdown.cancelled() => return,
                r = self.session(&shutdown) => r,
            };
            let wait = match outcome {
                // The server ended the stream (e.g. maintenance began): reconnect soon.
                Ok(()) => {
                    attempt = 0;
                    self.jitter(self.config.backoff_min / 2)
                }
                Err(SyncError::Woke) => {
                    tracing::info!("woke from sleep: reconnecting now");
                    attempt = 0;
                    continue;
                }
                Err(e) => {
                    self.outage_since.get_or_insert_with(|| self.clock.now());
                    self.late.counting = true;
                    let wait = self.delay(&e, attempt);
                    attempt = attempt.saturating_add(1);
                    self.report_failure(&e, wait).await;
                    wait
                }
            };
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = self.sleeper.sleep(wait) => {}
            }
        }
    }

    async fn session(&mut self, shutdown: &CancellationToken) -> Result<(), SyncError> {
        self.report_gaps().await?;
        self.catch_up().await?;
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
    async fn catch_up(&mut self) -> Result<(), SyncError> {
        let mut since = self.cursor().await?;
        loop {
            let page = match self.source.pull(since.clone()).await {
                Err(SourceError::CursorGone) => {
                    tracing::warn!("cursor too old for the server's feed: replaying from the start");
                    self.source.pull(Some("0".into())).await?
                }
                other => other?,
            };
            let (more, next) = (page.more, page.next.clone());
            self.apply(page).await?;
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
            self.catch_up().await?;
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
                Ok(SourceEvent::Change(c)) => page.absorb(*c),
                Ok(SourceEvent::Presence(p)) => self.emit(SyncEvent::Presence(p)),
                Ok(SourceEvent::Maintenance(m)) => self.status.send_modify(|s| s.maintenance = Some(m)),
                Ok(SourceEvent::KeepAlive) => {}
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        if page.cursor.is_some() {
            self.apply(page).await?;
        }
        match failure {
            Some(e) => Err(e.into()),
            None => Ok(()),
        }
    }

    /// Applies one page atomically, then tells the app what changed.
    async fn apply(&mut self, page: Pulled) -> Result<(), SyncError> {
        let now = self.clock.now();
        let batch = Batch {
            items: page.items,
            reads: page.reads,
            expired: page.expired,
            rejected: page.rejected,
            cursor: page.cursor,
        };
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
                let late = now - n.created_at > self.config.late_after;
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
            if self.first_time(&chat.event_id) && now - chat.received_at <= self.config.late_after {
                self.emit(SyncEvent::Chat(chat));
            }
        }
        if changed {
            self.emit(SyncEvent::StoreChanged);
        }
        Ok(())
    }

    fn first_time(&mut self, event_id: &str) -> bool {
        let (order, seen) = &mut self.recent_chats;
        if !seen.insert(event_id.to_owned()) {
            return false;
        }
        order.push_back(event_id.to_owned());
        if order.len() > RECENT_CHATS {
            if let Some(old) = order.pop_front() {
                seen.remove(&old);
            }
        }
        true
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
        let away = self.clock.now() - last;
        for tab in Tab::ALL {
            if away > rules::retention(*tab) {
                self.emit(SyncEvent::Gap { tab: *tab });
            }
        }
        Ok(())
    }

    /// How long to wait before the next attempt: `Retry-After` when the server gave one (plus a
    /// little jitter so that every client does not return in the same second), otherwise exponential
    /// backoff with full jitter.
    fn delay(&self, e: &SyncError, attempt: u32) -> Duration {
        if let SyncError::Source(SourceError::Unavailable { retry_after: Some(d), .. }) = e {
            return *d + self.jitter((*d / 10).min(Duration::from_secs(5)));
        }
        let base = self
            .config
            .backoff_min
            .saturating_mul(2u32.saturating_pow(attempt.min(20)))
            .min(self.config.backoff_max);
        let base = match e {
            // A refused sign-in will not fix itself quickly.
            SyncError::Source(SourceError::Unauthorized(_)) | SyncError::Store(_) => self.config.backoff_max,
            _ => base,
        };
        base / 2 + self.jitter(base / 2)
    }

    fn jitter(&self, max: Duration) -> Duration {
        if max.is_zero() {
            return max;
        }
        Duration::from_millis(rand::rng().random_range(0..=max.as_millis().min(u64::MAX as u128) as u64))
    }

    async fn report_failure(&mut self, e: &SyncError, wait: Duration) {
        let next_attempt_at = self.clock.now() + chrono::Duration::from_std(wait).unwrap_or_default();
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
