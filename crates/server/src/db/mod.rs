//! Storage behind a trait, one implementation per backend: the `sqlite` module (embedded, one node)
//! and the `postgres` module (several nodes on one database); `backend::Backend` picks one at run
//! time. The service only sees [`Database`], and one story suite runs against both. What a write
//! does is decided once for both, in [`plan`]; how a schema grows, once for both, in [`schema`].
//!
//! Every method that changes what a user's devices must see returns the [`Change`]s it appended to
//! that user's feed, already committed; the caller broadcasts them. Appending and committing happen in
//! one transaction, so the feed and the data never disagree, even across a crash.

mod accounts;
pub mod plan;
pub mod schema;

pub use accounts::*;

use std::collections::BTreeMap;
use std::future::Future;

use chrono::{DateTime, Utc};
use lonceng_domain::model::Notification;
use lonceng_domain::model::{Category, Tab, WireNotification};
use lonceng_domain::protocol::{
    Change, ChangeBody, ChangesPage, Counts, EventResponse, MaintenanceWindow, MarkAllReadRequest,
    MarkAllReadResponse, MarkReadResponse, MarkUnreadResponse, PresenceReport,
};
use lonceng_domain::qontak::{LinkedUser, RoomState};
use lonceng_domain::rules::{Outcome, ProducerEvent};

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL's error in full (its server message and code, or the cause): the backend spells
    /// it out, so that this type names nothing of PostgreSQL's.
    #[error("database: {0}")]
    Postgres(String),
    /// The database cannot be reached now (restarting, network): worth retrying, not a fault.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    #[error("stored data cannot be read back: {0}")]
    Decode(String),
    #[error("the change cursor {since} is older than the oldest change kept ({oldest}); replay from 0")]
    CursorGone { since: i64, oldest: i64 },
    #[error("the database worker stopped: {0}")]
    Worker(String),
    /// A value that must be unique is taken already (a Qontak agent linked to another user).
    #[error("{0}")]
    Conflict(String),
}

pub type DbResult<T> = Result<T, DbError>;

/// A user's list query (`GET /v1/notifications`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListFilter {
    pub tab: Tab,
    pub category: Option<Category>,
    pub unread_only: bool,
    /// Keyset position: items strictly older than `(created_at, id)`.
    pub after: Option<(DateTime<Utc>, String)>,
    pub limit: usize,
}

/// A client token to keep: its SHA-256 (never the token), whose device it is, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewToken {
    pub hash: String,
    pub user_id: String,
    pub device_id: String,
    pub at: DateTime<Utc>,
}

/// A user's scoped mark-all (NC-R6), idempotent by its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkAll {
    pub user_id: String,
    pub request: MarkAllReadRequest,
    pub idempotency_key: Option<String>,
    pub now: DateTime<Utc>,
}

/// A change appended to a user's feed.
pub type UserChange = (String, Change);

/// The result of applying one producer event.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    pub response: EventResponse,
    pub changes: Vec<UserChange>,
}

/// What a client action changed.
#[derive(Debug, Clone, PartialEq)]
pub struct Acted<R> {
    pub response: R,
    pub changes: Vec<UserChange>,
}

/// A secret of the Qontak webhook URL, by its SHA-256; after a rotation the one it replaced is
/// still accepted until `previous_until`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookSecret {
    pub id: String,
    pub hash: String,
    pub previous_hash: Option<String>,
    pub previous_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub rotated_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A Lonceng user and the Qontak identities linked to them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentLink {
    pub user_id: String,
    pub name: String,
    /// The Omnichannel agent id (room events name agents by it).
    pub agent_id: Option<String>,
    /// The CRM SSO user id (`X-Crm-User-Sso-Id`).
    pub crm_sso_id: Option<String>,
    /// The user's email, when known (imported, or from their sign-in).
    pub email: Option<String>,
}

/// Something received that could not be used, kept with the reason (never dropped); the admin API
/// lists it as it is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DeadLetter {
    pub id: i64,
    /// `qontak_webhook` or `crm`.
    pub source: String,
    pub received_at: DateTime<Utc>,
    pub reason: String,
    /// The body as received (lossy UTF-8).
    pub body: String,
    /// Replays tried that failed again.
    pub replays: i64,
}

/// A dead letter to keep; the same `key` (the same body re-sent) is kept once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDeadLetter {
    pub source: &'static str,
    pub key: String,
    pub reason: String,
    pub body: String,
    pub at: DateTime<Utc>,
}

/// How a room event is decided inside the transaction that keeps the room: from the room as it
/// was and the linked users of the agents involved, the room's new state (`None`: stale, keep the
/// old one) and the outcome, or the reason it cannot be used.
pub type RoomDecision = Box<
    dyn FnOnce(
            Option<&RoomState>,
            &BTreeMap<String, LinkedUser>,
        ) -> Result<(Option<RoomState>, Outcome), String>
        + Send,
>;

/// One room event to apply.
pub struct RoomJob {
    pub key: String,
    pub room_id: String,
    /// The agent ids the event names.
    pub agents: Vec<String>,
    pub decide: RoomDecision,
}

/// What one node tells the others on the same database. Changes themselves are never sent: a
/// [`Signal::Changed`] only says how far a user's feed has grown, and streams read it from the table.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Signal {
    /// A user's feed has grown by the changes `from..=seq` (committed).
    Changed { user: String, from: i64, seq: i64 },
    /// A device reported where the agent is (NC-R12).
    Presence { user: String, device: String, report: PresenceReport, at: DateTime<Utc> },
    /// An operator started or ended maintenance, or announced a window (MW-1, MW-2).
    Maintenance(MaintenanceChange),
    /// ORG-2: devices were signed out: their streams end and their tokens are forgotten.
    Revoked { user: String, devices: Vec<String> },
    /// Signals may have been missed (the listener reconnected): every stream reads its feed again.
    Resync,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaintenanceChange {
    Started {
        until: Option<DateTime<Utc>>,
    },
    Ended {
        resend_every: Option<u32>,
    },
    /// A window was announced: read them again.
    Announced,
}

pub trait Database: Send + Sync + 'static {
    /// What the other nodes on this database signal; `None` for a backend only one node uses.
    fn signals(&self) -> Option<tokio::sync::broadcast::Receiver<Signal>>;
    /// Tells the other nodes (presence and maintenance; changes are signalled by their commit).
    fn signal(&self, signal: Signal) -> impl Future<Output = DbResult<()>> + Send;
    /// Whether the database answers now (`/readyz`).
    fn ping(&self) -> impl Future<Output = DbResult<()>> + Send;

    /// The device of a client token, by the token's SHA-256 (tokens are never stored in clear):
    /// none when the token is unknown or expired by `now`, its device revoked or its user disabled.
    fn device(
        &self,
        token_hash: String,
        now: DateTime<Utc>,
    ) -> impl Future<Output = DbResult<Option<Authenticated>>> + Send;
    fn add_user(&self, id: String, name: String) -> impl Future<Output = DbResult<()>> + Send;
    /// Keeps an admin's token; its device is listed with the user's devices (and made usable again
    /// if it had been revoked: the admin chose to).
    fn add_token(&self, token: NewToken) -> impl Future<Output = DbResult<()>> + Send;

    // ---- sign-in, devices, audit (see `accounts`) ----

    /// Keeps a sign-in that went to the identity provider, by its state's hash.
    fn start_sign_in(
        &self,
        state_hash: String,
        request: SignInRequest,
        at: DateTime<Utc>,
    ) -> impl Future<Output = DbResult<()>> + Send;
    /// Takes back the sign-in the identity provider's answer names, once: none when it is unknown,
    /// taken already, or started before `since`.
    fn take_sign_in(
        &self,
        state_hash: String,
        since: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> impl Future<Output = DbResult<Option<SignInRequest>>> + Send;
    /// Gives a taken sign-in the one-time code the app redeems, for `user_id`, with the identity
    /// provider's refresh token (sealed) if it gave one.
    fn code_sign_in(
        &self,
        state_hash: String,
        code_hash: String,
        user_id: String,
        idp_refresh: Option<String>,
        at: DateTime<Utc>,
    ) -> impl Future<Output = DbResult<()>> + Send;
    /// Keeps the identity provider's new refresh token (sealed) for a device.
    fn set_idp_refresh(
        &self,
        device: Device,
        sealed: Option<String>,
    ) -> impl Future<Output = DbResult<()>> + Send;
    /// The sign-in a one-time code was given for, redeemed or not.
    fn coded_sign_in(&self, code_hash: String) -> impl Future<Output = DbResult<Option<SignIn>>> + Send;
    /// Redeems a one-time code given at or after `since` once, making the device and its first
    /// credentials in the same transaction. A second redemption revokes that device.
    fn redeem_code(
        &self,
        code_hash: String,
        since: DateTime<Utc>,
        device: NewDevice,
        tokens: NewTokens,
    ) -> impl Future<Output = DbResult<Redeemed>> + Send;
    /// Rotates a device's credentials by its refresh token (issued at or after `since`); a refresh
    /// token used before revokes the device (it was copied), unless it was spent at or after
    /// `retry_since` and the token it was replaced by was never used: the answer was lost on the
    /// way, and this is the app asking again.
    fn refresh(
        &self,
        refresh_hash: String,
        since: DateTime<Utc>,
        retry_since: DateTime<Utc>,
        tokens: NewTokens,
    ) -> impl Future<Output = DbResult<Refreshed>> + Send;
    /// The user a person signing in is: by their identity, else by their (imported) email, else a
    /// new user made for them.
    fn sign_in_user(&self, identity: Identity) -> impl Future<Output = DbResult<SignedInUser>> + Send;
    /// A user's devices, newest first; none when there is no such user.
    fn devices(&self, user_id: String) -> impl Future<Output = DbResult<Option<Vec<DeviceInfo>>>> + Send;
    /// Revokes one device of a user, or all of them: their tokens go. Returns the devices revoked
    /// now (a device revoked before is not revoked again).
    fn revoke(
        &self,
        user_id: String,
        device_id: Option<String>,
        why: String,
        at: DateTime<Utc>,
    ) -> impl Future<Output = DbResult<Vec<String>>> + Send;
    /// Disables (every device revoked, sign-in refused) or enables a user; none when there is no
    /// such user, else the devices revoked now.
    fn set_disabled(
        &self,
        user_id: String,
        disabled: bool,
        at: DateTime<Utc>,
    ) -> impl Future<Output = DbResult<Option<Vec<String>>>> + Send;
    /// The user with this email, made (named `name`) when there is none; returns the user's id.
    fn person(&self, email: String, name: String) -> impl Future<Output = DbResult<String>> + Send;
    fn add_audit(&self, entry: NewAudit) -> impl Future<Output = DbResult<()>> + Send;
    /// The newest audit entries the query names.
    fn audit(&self, query: AuditQuery) -> impl Future<Output = DbResult<Vec<AuditEntry>>> + Send;
    /// Users, by id, as the query names them.
    fn users(&self, query: UserQuery) -> impl Future<Output = DbResult<Vec<UserInfo>>> + Send;
    /// Keeps this node's report (replacing its last one).
    fn report_node(&self, report: NodeReport) -> impl Future<Output = DbResult<()>> + Send;
    /// The nodes that reported at or after `since`, by id.
    fn nodes(&self, since: DateTime<Utc>) -> impl Future<Output = DbResult<Vec<NodeReport>>> + Send;
    /// Keeps an admin console session (replacing it when its id is kept already).
    fn save_session(&self, session: ConsoleSession) -> impl Future<Output = DbResult<()>> + Send;
    /// A console session's data, when it is kept and has not expired by `now`.
    fn load_session(
        &self,
        id_hash: String,
        now: DateTime<Utc>,
    ) -> impl Future<Output = DbResult<Option<String>>> + Send;
    fn delete_session(&self, id_hash: String) -> impl Future<Output = DbResult<()>> + Send;
    /// Forgets what is past use (see [`Forget`]).
    fn forget(&self, what: Forget) -> impl Future<Output = DbResult<()>> + Send;

    /// Applies decided producer events, in order and in one transaction (group commit), once per
    /// idempotency key (MW-4): a key seen before (or earlier in `events`) returns the first
    /// response with `duplicate: true` and appends nothing. Removes the keys from the maintenance
    /// queue in the same transaction. One answer per event, in order.
    fn apply_events(
        &self,
        events: Vec<(String, Outcome)>,
        now: DateTime<Utc>,
    ) -> impl Future<Output = DbResult<Vec<Applied>>> + Send;
    /// The response already given for an idempotency key.
    fn event_response(&self, key: String) -> impl Future<Output = DbResult<Option<EventResponse>>> + Send;
    /// Keeps an event for later (maintenance). False when the key is queued or applied already.
    fn queue_event(
        &self,
        key: String,
        event: ProducerEvent,
        now: DateTime<Utc>,
    ) -> impl Future<Output = DbResult<bool>> + Send;
    /// The oldest queued events, in arrival order.
    fn queued_events(
        &self,
        limit: usize,
    ) -> impl Future<Output = DbResult<Vec<(String, ProducerEvent)>>> + Send;
    /// Appends changes to users' feeds as they are (a deliberate re-send).
    fn append_changes(
        &self,
        changes: Vec<(String, ChangeBody)>,
        now: DateTime<Utc>,
    ) -> impl Future<Output = DbResult<Vec<UserChange>>> + Send;

    fn list(
        &self,
        user_id: String,
        filter: ListFilter,
    ) -> impl Future<Output = DbResult<Vec<WireNotification>>> + Send;
    fn changes(
        &self,
        user_id: String,
        since: i64,
        limit: usize,
    ) -> impl Future<Output = DbResult<ChangesPage>> + Send;
    /// The user's newest sequence number.
    fn last_seq(&self, user_id: String) -> impl Future<Output = DbResult<i64>> + Send;
    fn counts(&self, user_id: String) -> impl Future<Output = DbResult<Counts>> + Send;

    /// Marks one of the user's items read. `None` when the user has no such item (NC-R3: another
    /// user's item is indistinguishable from a missing one).
    fn mark_read(
        &self,
        user_id: String,
        id: String,
        now: DateTime<Utc>,
    ) -> impl Future<Output = DbResult<Option<Acted<MarkReadResponse>>>> + Send;
    /// ORG-7: marks one of the user's items unread again. `None` when the user has no such item.
    fn mark_unread(
        &self,
        user_id: String,
        id: String,
        now: DateTime<Utc>,
    ) -> impl Future<Output = DbResult<Option<Acted<MarkUnreadResponse>>>> + Send;
    /// NC-R6: marks the user's unread items of the tab (and category) read, none created after
    /// `upto_cursor`. With an idempotency key, a repeat returns the first response.
    fn mark_all_read(&self, op: MarkAll)
        -> impl Future<Output = DbResult<Acted<MarkAllReadResponse>>> + Send;

    /// NC-R5: deletes items past retention; their users get `expired` changes.
    fn prune(&self, now: DateTime<Utc>) -> impl Future<Output = DbResult<Vec<UserChange>>> + Send;

    fn add_window(
        &self,
        starts_at: DateTime<Utc>,
        ends_at: DateTime<Utc>,
        message: String,
    ) -> impl Future<Output = DbResult<MaintenanceWindow>> + Send;
    /// Windows that have not ended by `now`, soonest first.
    fn windows(&self, now: DateTime<Utc>) -> impl Future<Output = DbResult<Vec<MaintenanceWindow>>> + Send;

    // ---- Qontak ----

    fn webhook_secrets(&self) -> impl Future<Output = DbResult<Vec<WebhookSecret>>> + Send;
    /// Creates or replaces a secret (by id).
    fn put_webhook_secret(&self, secret: WebhookSecret) -> impl Future<Output = DbResult<()>> + Send;
    fn webhook_secret_used(&self, id: String, at: DateTime<Utc>)
        -> impl Future<Output = DbResult<()>> + Send;

    /// Links a user to their Qontak identities (`None` unlinks); `None` when there is no such user.
    fn link_agent(
        &self,
        user_id: String,
        agent_id: Option<String>,
        crm_sso_id: Option<String>,
    ) -> impl Future<Output = DbResult<Option<AgentLink>>> + Send;
    /// Every user with a Qontak identity.
    fn agent_links(&self) -> impl Future<Output = DbResult<Vec<AgentLink>>> + Send;

    /// Applies room events, in order and in one transaction (group commit: one commit for all the
    /// webhooks that arrived meanwhile). Each is applied once per key (MW-4): the room's state is
    /// kept and the outcome its `decide` gives applied; one refused leaves the others alone.
    fn apply_rooms(
        &self,
        jobs: Vec<RoomJob>,
        now: DateTime<Utc>,
    ) -> impl Future<Output = DbResult<Vec<Result<Applied, String>>>> + Send;
    /// The users linked to a room's current agents; `None` when the room is not known.
    fn room_recipients(&self, room_id: String) -> impl Future<Output = DbResult<Option<Vec<String>>>> + Send;

    /// Keeps a dead letter; returns its id and whether it is new.
    fn add_dead_letter(&self, letter: NewDeadLetter) -> impl Future<Output = DbResult<(i64, bool)>> + Send;
    /// The newest dead letters, older than `before` (an id) if given.
    fn dead_letters(
        &self,
        limit: usize,
        before: Option<i64>,
    ) -> impl Future<Output = DbResult<Vec<DeadLetter>>> + Send;
    fn dead_letter(&self, id: i64) -> impl Future<Output = DbResult<Option<DeadLetter>>> + Send;
    /// A replay succeeded: the letter goes; or failed: counted, with the latest reason.
    fn settle_dead_letter(
        &self,
        id: i64,
        failed_again: Option<String>,
    ) -> impl Future<Output = DbResult<()>> + Send;

    /// The CRM's items for a user as the bridge read them: new ones are created (NC-R5 still
    /// applies), ones read on the CRM are read here too (NC-R13).
    fn crm_sync(
        &self,
        user_id: String,
        items: Vec<Notification>,
        now: DateTime<Utc>,
    ) -> impl Future<Output = DbResult<Vec<UserChange>>> + Send;
    /// CRM items read in Lonceng whose read the CRM has not been told of.
    fn crm_unsent_reads(
        &self,
        user_id: String,
        limit: usize,
    ) -> impl Future<Output = DbResult<Vec<String>>> + Send;
    /// The CRM has been told of these reads.
    fn crm_reads_sent(&self, ids: Vec<String>) -> impl Future<Output = DbResult<()>> + Send;
}
