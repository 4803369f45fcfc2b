//! The service layer: everything the server does, whatever calls it (the HTTP API, the demo
//! simulator, the CLI, and later the Qontak webhook intake). HTTP is a thin adapter over it.
//!
//! The service owns "commit, then publish": every operation that changes what a user's devices must
//! see commits through the [`Database`] first and only then hands the committed changes to the
//! [`Hub`], so a stream never shows a change the database does not hold (and a crash between the
//! two loses nothing: streams replay from the database).
//!
//! [`ServiceError`] says what went wrong in the service's own terms; `api::error` maps it to HTTP.

mod accounts;
mod console;
mod crm;
mod group;
mod maintenance;
pub mod qontak;
pub mod signin;
mod tickets;

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use lonceng_domain::clock::Clock;
use lonceng_domain::model::{check_scope, WireNotification};
use lonceng_domain::protocol::{
    sse, ChangesPage, Counts, EventResponse, EventStatus, MaintenanceWindow, MarkAllReadRequest,
    MarkAllReadResponse, MarkReadResponse, MarkUnreadResponse, Presence, PresenceReport,
};
use lonceng_domain::rules::{self, InvalidEvent, Outcome, ProducerEvent};
use tokio::sync::broadcast::Receiver;
use tokio_util::sync::CancellationToken;

use crate::db::{Applied, Database, DbError, Device, ListFilter, MarkAll, NewToken, Signal, UserChange};
use crate::hub::{sse_frame, Frame, Hub};
use crate::presence::PresenceBook;
use crate::{new_secret, token_hash, Config};

pub use accounts::{read_agents_csv, Actor, ImportReport, ImportRow, NodeView, IMPORT_COLUMNS};
use maintenance::MaintenanceState;
pub use tickets::TICKET_LIFETIME;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// A producer event that cannot be accepted (NC-R1, NC-R2, NC-R4 and validation).
    #[error(transparent)]
    InvalidEvent(#[from] InvalidEvent),
    /// A request whose content is wrong (a category outside its tab, an empty id).
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
    /// Something that must be unique is taken (a Qontak agent linked to another user).
    #[error("{0}")]
    Conflict(String),
    #[error("the token is not valid")]
    Unauthorized,
    /// Something this server is not set up for (sign-in without an identity provider).
    #[error("{0}")]
    NotConfigured(&'static str),
    /// The identity provider cannot be reached or read.
    #[error("{0}")]
    IdentityProvider(String),
    /// MW-2: client routes are closed; come back after `retry_after` seconds.
    #[error("under maintenance")]
    Maintenance { until: Option<DateTime<Utc>>, retry_after: u64 },
    #[error("the change cursor {since} is older than the oldest change kept ({oldest}); replay from 0")]
    CursorGone { since: i64, oldest: i64 },
    /// The database cannot be reached now: clients and producers retry (503).
    #[error("the service is unavailable for a moment")]
    Unavailable,
    #[error(transparent)]
    Storage(DbError),
}

impl From<DbError> for ServiceError {
    fn from(e: DbError) -> ServiceError {
        match e {
            DbError::CursorGone { since, oldest } => ServiceError::CursorGone { since, oldest },
            DbError::Conflict(what) => ServiceError::Conflict(what),
            DbError::Unavailable(why) => {
                tracing::warn!(error = %why, "the database is unavailable");
                ServiceError::Unavailable
            }
            other => ServiceError::Storage(other),
        }
    }
}

pub type ServiceResult<T> = Result<T, ServiceError>;

/// How long a client token found in the database is known without asking it again. A revoked
/// device's tokens are forgotten at once on every node (`Signal::Revoked`), and an expiring token
/// is remembered with its expiry, so remembering one cannot let a revoked or expired token in.
const TOKEN_MEMORY: std::time::Duration = std::time::Duration::from_secs(60);
/// Tokens remembered at most (about 200 bytes each).
const TOKENS_REMEMBERED: usize = 100_000;

/// This node's name on the health page: the host and the process.
fn node_name() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok().map(|h| h.trim().to_owned()))
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "node".into());
    format!("{host}/{}", std::process::id())
}

/// A user or device id as an administrator gives it: 1 to 128 characters of text.
fn plain_id(s: &str) -> bool {
    lonceng_domain::model::is_plain_id(s, 128)
}

/// Producer events applied in one transaction at most (group commit).
const EVENTS_PER_COMMIT: usize = 64;

pub struct Service<D> {
    db: D,
    /// Private: changes reach streams only through "commit, then publish".
    hub: Hub,
    presence: PresenceBook,
    pub clock: Arc<dyn Clock>,
    pub config: Config,
    pub shutdown: CancellationToken,
    maintenance: Mutex<MaintenanceState>,
    /// Serialises maintenance transitions and queue flushes.
    transition: tokio::sync::Mutex<()>,
    /// The CRM bridge's state (idle without CRM credentials).
    pub bridge: crate::bridge::Bridge,
    intake: qontak::IntakeState,
    /// Producer events waiting for the next commit (group commit).
    events: group::GroupCommit<(String, Outcome), Applied, EVENTS_PER_COMMIT>,
    /// Client tokens recently found, by hash (see `authenticate`).
    tokens: Mutex<std::collections::HashMap<String, KnownToken>>,
    /// Sign-in through the identity provider (idle without `config.oidc`).
    signin: signin::SignInState,
    /// This node, as the health page names it, and since when it runs.
    node: (String, DateTime<Utc>),
}

/// A client token found in the database, remembered for a while.
struct KnownToken {
    device: Device,
    expires_at: Option<DateTime<Utc>>,
    found: std::time::Instant,
}

impl<D: Database> Service<D> {
    pub async fn new(db: D, config: Config, clock: Arc<dyn Clock>) -> ServiceResult<Arc<Service<D>>> {
        let windows = db.windows(clock.now()).await?;
        let started = clock.now();
        Ok(Arc::new(Service {
            presence: PresenceBook::new(config.presence_ttl),
            db,
            hub: Hub::default(),
            clock,
            config,
            shutdown: CancellationToken::new(),
            maintenance: Mutex::new(MaintenanceState::new(windows)),
            transition: tokio::sync::Mutex::new(()),
            bridge: crate::bridge::Bridge::default(),
            intake: qontak::IntakeState::default(),
            events: group::GroupCommit::default(),
            tokens: Mutex::default(),
            signin: signin::SignInState::default(),
            node: (node_name(), started),
        }))
    }

    /// Receivers for one user's frames and for everyone's (a stream subscribing).
    pub fn subscribe(&self, user: &str) -> (Receiver<Frame>, Receiver<Frame>) {
        self.hub.subscribe(user)
    }

    /// Open streams.
    pub fn streams(&self) -> usize {
        self.hub.streams()
    }

    /// Hands committed changes to the open streams. Only called after the database committed them.
    fn publish(&self, changes: &[UserChange]) {
        self.hub.publish(changes);
    }

    // ---- producers ----

    /// Accepts a producer event: applies it, or queues it during maintenance. Invalid events are
    /// refused at once, maintenance or not.
    pub async fn submit(&self, event: ProducerEvent) -> ServiceResult<EventResponse> {
        crate::metrics::METRICS.events_received.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let outcome = rules::admit(&event, self.clock.now(), &self.config.links)?;
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

    /// Applies a decided event: commit (with the events that arrive meanwhile), then publish.
    async fn apply(&self, key: String, outcome: Outcome) -> ServiceResult<(EventResponse, Vec<UserChange>)> {
        let applied = self
            .events
            .apply((key, outcome), |events| async move {
                let applied = self.db.apply_events(events, self.clock.now()).await?;
                for a in &applied {
                    self.publish(&a.changes);
                }
                Ok(applied)
            })
            .await?;
        Ok((applied.response, applied.changes))
    }

    // ---- clients ----

    /// The device of a client token (NC-R3: every client call is scoped to its user). Tokens seen
    /// in the last minute are known without the database: after a restart every desktop reconnects
    /// at once, and each would otherwise cost a query before its stream opens. Unknown tokens are
    /// never remembered (a guess costs a query, and a new token works at once).
    pub async fn authenticate(&self, token: &str) -> ServiceResult<Device> {
        let hash = token_hash(token);
        let now = std::time::Instant::now();
        let time = self.clock.now();
        if let Some(known) = self.known_tokens().get(&hash) {
            if now.duration_since(known.found) < TOKEN_MEMORY && known.expires_at.is_none_or(|e| e > time) {
                return Ok(known.device.clone());
            }
        }
        let found = self.db.device(hash.clone(), time).await?.ok_or(ServiceError::Unauthorized)?;
        let mut known = self.known_tokens();
        if known.len() >= TOKENS_REMEMBERED {
            known.retain(|_, k| now.duration_since(k.found) < TOKEN_MEMORY);
            if known.len() >= TOKENS_REMEMBERED {
                known.clear();
            }
        }
        let device = found.device.clone();
        known.insert(hash, KnownToken { device: found.device, expires_at: found.expires_at, found: now });
        Ok(device)
    }

    fn known_tokens(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, KnownToken>> {
        self.tokens.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub async fn list(&self, user: &str, filter: ListFilter) -> ServiceResult<Vec<WireNotification>> {
        Ok(self.db.list(user.to_owned(), filter).await?)
    }

    pub async fn counts(&self, user: &str) -> ServiceResult<Counts> {
        Ok(self.db.counts(user.to_owned()).await?)
    }

    pub async fn changes(&self, user: &str, since: i64, limit: usize) -> ServiceResult<ChangesPage> {
        Ok(self.db.changes(user.to_owned(), since, limit).await?)
    }

    pub async fn last_seq(&self, user: &str) -> ServiceResult<i64> {
        Ok(self.db.last_seq(user.to_owned()).await?)
    }

    /// Where a new stream of `user` starts (subscribed already): the user's newest sequence number,
    /// known without the database while other streams of the user are open here. After a restart
    /// every desktop reconnects at once, and each would otherwise cost a query before its stream
    /// opens (the accept time in docs/PERFORMANCE.md).
    pub async fn stream_start(&self, user: &str) -> ServiceResult<i64> {
        if let Some(seq) = self.hub.newest(user) {
            return Ok(seq);
        }
        let seq = self.last_seq(user).await?;
        self.hub.note_newest(user, seq);
        Ok(seq)
    }

    /// NC-R8 / NC-R13: marks one of the user's items read; another user's item is not found (NC-R3).
    pub async fn mark_read(&self, user: &str, id: &str) -> ServiceResult<MarkReadResponse> {
        let acted = self
            .db
            .mark_read(user.to_owned(), id.to_owned(), self.clock.now())
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("no notification '{id}'")))?;
        self.publish(&acted.changes);
        if acted.response.changed && lonceng_domain::crm::crm_id_of(id).is_some() {
            self.bridge.nudge(user);
        }
        Ok(acted.response)
    }

    /// ORG-7: marks one of the user's items unread again, on every device (a change, as for a read).
    pub async fn mark_unread(&self, user: &str, id: &str) -> ServiceResult<MarkUnreadResponse> {
        let acted = self
            .db
            .mark_unread(user.to_owned(), id.to_owned(), self.clock.now())
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("no notification '{id}'")))?;
        self.publish(&acted.changes);
        Ok(acted.response)
    }

    /// NC-R6: exactly the tab and category; repeats with the same key return the first answer.
    pub async fn mark_all_read(
        &self,
        user: &str,
        request: MarkAllReadRequest,
        idempotency_key: Option<String>,
    ) -> ServiceResult<MarkAllReadResponse> {
        check_scope(request.tab, request.category).map_err(|e| ServiceError::Invalid(e.to_string()))?;
        let op = MarkAll { user_id: user.to_owned(), request, idempotency_key, now: self.clock.now() };
        let acted = self.db.mark_all_read(op).await?;
        self.publish(&acted.changes);
        let ids = acted.changes.iter().flat_map(|(_, c)| match &c.body {
            lonceng_domain::protocol::ChangeBody::Read { ids, .. } => ids.as_slice(),
            _ => &[],
        });
        if ids.into_iter().any(|id| lonceng_domain::crm::crm_id_of(id).is_some()) {
            self.bridge.nudge(user);
        }
        Ok(acted.response)
    }

    pub fn presence(&self, user: &str) -> Presence {
        self.presence.get(user, self.clock.now())
    }

    /// A device reports where the agent is (input to NC-R12); the user's other devices hear of it,
    /// on whichever node they stream from.
    pub async fn report_presence(&self, device: &Device, report: PresenceReport) -> Presence {
        let at = self.clock.now();
        let presence = self.take_presence(&device.user_id, &device.device_id, report, at);
        let (user, device) = (device.user_id.clone(), device.device_id.clone());
        self.share(Signal::Presence { user, device, report, at }).await;
        presence
    }

    fn take_presence(&self, user: &str, device: &str, report: PresenceReport, at: DateTime<Utc>) -> Presence {
        let presence = self.presence.report(user, device, report, at);
        if let Ok(json) = serde_json::to_string(&presence) {
            self.hub.send_to(user, Frame::Presence(sse_frame(sse::PRESENCE, None, &json, None)));
        }
        presence
    }

    // ---- the other nodes ----

    /// Tells the other nodes on the database; one that misses it catches up (presence is reported
    /// again within its lifetime, maintenance windows are read again on a resync).
    async fn share(&self, signal: Signal) {
        if let Err(e) = self.db.signal(signal).await {
            tracing::warn!(error = %e, "not shared with the other nodes");
        }
    }

    /// What the other nodes signal, when the backend has other nodes.
    pub fn signals(&self) -> Option<tokio::sync::broadcast::Receiver<Signal>> {
        self.db.signals()
    }

    /// Acts on another node's signal.
    pub async fn follow(&self, signal: Signal) -> ServiceResult<()> {
        match signal {
            Signal::Changed { user, from, seq } => self.catch_up(&user, from, seq).await?,
            Signal::Presence { user, device, report, at } => {
                self.take_presence(&user, &device, report, at);
            }
            Signal::Maintenance(change) => self.follow_maintenance(change).await?,
            Signal::Revoked { user, devices } => self.drop_devices(&user, &devices),
            Signal::Resync => {
                self.hub.wake_all();
                self.reload_windows().await?;
                self.sync_maintenance().await?;
            }
        }
        Ok(())
    }

    /// Another node committed `user`'s changes up to `seq`: this node reads them once and hands
    /// them to its streams of the user (none: nothing to do). If the read fails, or there is more
    /// than a page, the streams read for themselves.
    async fn catch_up(&self, user: &str, from: i64, seq: i64) -> ServiceResult<()> {
        let Some(since) = self.hub.behind(user, from, seq) else { return Ok(()) };
        match self.db.changes(user.to_owned(), since, 500).await {
            Ok(page) => {
                let more = page.more;
                let changes: Vec<UserChange> =
                    page.changes.into_iter().map(|c| (user.to_owned(), c)).collect();
                self.publish(&changes);
                if more {
                    self.hub.wake(user, seq);
                }
                Ok(())
            }
            Err(e) => {
                self.hub.wake(user, seq);
                Err(e.into())
            }
        }
    }

    /// `/readyz`: the database answers.
    pub async fn ready(&self) -> ServiceResult<()> {
        Ok(self.db.ping().await?)
    }

    // ---- administration ----

    pub async fn add_user(&self, id: &str, name: &str) -> ServiceResult<()> {
        if !plain_id(id) || name.chars().count() > 200 || name.contains('\0') {
            return Err(ServiceError::Invalid(
                "id must be 1 to 128 characters without control characters, and name at most 200".into(),
            ));
        }
        Ok(self.db.add_user(id.to_owned(), name.to_owned()).await?)
    }

    /// A new client token for a user's device; only its hash is stored.
    pub async fn issue_token(&self, user_id: &str, device_id: &str) -> ServiceResult<String> {
        if !(plain_id(user_id) && plain_id(device_id)) {
            return Err(ServiceError::Invalid(
                "user_id and device_id must be 1 to 128 characters without control characters".into(),
            ));
        }
        let token = new_secret();
        self.keep_token(&token, user_id, device_id).await?;
        Ok(token)
    }

    /// Seeds a user with a known token (the demo's fixed agents).
    pub async fn add_user_with_token(
        &self,
        id: &str,
        name: &str,
        token: &str,
        device: &str,
    ) -> ServiceResult<()> {
        self.add_user(id, name).await?;
        self.keep_token(token, id, device).await
    }

    /// Keeps a client token's hash for a user's device.
    async fn keep_token(&self, token: &str, user_id: &str, device_id: &str) -> ServiceResult<()> {
        let t = NewToken {
            hash: token_hash(token),
            user_id: user_id.to_owned(),
            device_id: device_id.to_owned(),
            at: self.clock.now(),
        };
        Ok(self.db.add_token(t).await?)
    }

    /// MW-1: announces a window; it takes effect when it starts.
    pub async fn announce(
        &self,
        starts_at: DateTime<Utc>,
        ends_at: DateTime<Utc>,
        message: String,
    ) -> ServiceResult<MaintenanceWindow> {
        if ends_at <= starts_at {
            return Err(ServiceError::Invalid("ends_at must be after starts_at".into()));
        }
        let w = self.db.add_window(starts_at, ends_at, message).await?;
        self.state().add_window(w.clone());
        self.broadcast_status();
        self.sync_maintenance().await?;
        self.share(Signal::Maintenance(crate::db::MaintenanceChange::Announced)).await;
        Ok(w)
    }
}
