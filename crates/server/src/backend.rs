//! The backend chosen at run time: `--db` is a SQLite file, or a `postgres://` URL for several nodes
//! on one database. Every [`Database`] method passes straight through.

use std::future::Future;
use std::path::Path;
use std::time::Instant;

use chrono::{DateTime, Utc};
use lonceng_domain::model::{Notification, WireNotification};
use lonceng_domain::protocol::{
    ChangeBody, ChangesPage, Counts, EventResponse, MaintenanceWindow, MarkAllReadResponse, MarkReadResponse,
    MarkUnreadResponse,
};
use lonceng_domain::rules::{Outcome, ProducerEvent};

use crate::db::{
    Acted, AgentLink, Applied, AuditEntry, AuditQuery, Authenticated, ConsoleSession, Database, DbError,
    DbResult, DeadLetter, Device, DeviceInfo, Forget, Identity, ListFilter, MarkAll, NewAudit, NewDeadLetter,
    NewDevice, NewToken, NewTokens, NodeReport, Redeemed, Refreshed, RoomJob, SignIn, SignInRequest, Signal,
    SignedInUser, UserChange, UserInfo, UserQuery, WebhookSecret,
};
use crate::metrics::METRICS;
use crate::postgres::PgDb;
use crate::sqlite::SqliteDb;

#[derive(Clone)]
pub enum Backend {
    Sqlite(SqliteDb),
    Postgres(PgDb),
}

impl Backend {
    /// Opens `--db`: a `postgres://` (or `postgresql://`) URL, or a SQLite file.
    pub async fn open(db: &str) -> DbResult<Backend> {
        if is_postgres_url(db) {
            Ok(Backend::Postgres(PgDb::connect(db).await?))
        } else {
            Ok(Backend::Sqlite(SqliteDb::open(Path::new(db))?))
        }
    }

    pub fn in_memory() -> DbResult<Backend> {
        Ok(Backend::Sqlite(SqliteDb::in_memory()?))
    }
}

/// Whether `--db` names a PostgreSQL database rather than a file.
pub fn is_postgres_url(db: &str) -> bool {
    db.starts_with("postgres://") || db.starts_with("postgresql://")
}

/// Every call counts in `/metrics`: its time, and whether the database was unreachable.
fn measured(started: Instant, error: Option<&DbError>) {
    METRICS.db.observe(started.elapsed());
    if matches!(error, Some(DbError::Unavailable(_))) {
        METRICS.db_unavailable.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

macro_rules! pass_through {
    ($( fn $name:ident(&self $(, $arg:ident : $ty:ty)*) -> $ret:ty; )*) => {
        $(
            fn $name(&self $(, $arg: $ty)*) -> impl Future<Output = DbResult<$ret>> + Send {
                async move {
                    let started = Instant::now();
                    let result = match self {
                        Backend::Sqlite(d) => d.$name($($arg),*).await,
                        Backend::Postgres(d) => d.$name($($arg),*).await,
                    };
                    measured(started, result.as_ref().err());
                    result
                }
            }
        )*
    };
}

impl Database for Backend {
    fn signals(&self) -> Option<tokio::sync::broadcast::Receiver<Signal>> {
        match self {
            Backend::Sqlite(d) => d.signals(),
            Backend::Postgres(d) => d.signals(),
        }
    }

    pass_through! {
        fn signal(&self, signal: Signal) -> ();
        fn ping(&self) -> ();
        fn device(&self, token_hash: String, now: DateTime<Utc>) -> Option<Authenticated>;
        fn add_user(&self, id: String, name: String) -> ();
        fn add_token(&self, token: NewToken) -> ();
        fn start_sign_in(&self, state_hash: String, request: SignInRequest, at: DateTime<Utc>) -> ();
        fn take_sign_in(&self, state_hash: String, since: DateTime<Utc>, at: DateTime<Utc>) -> Option<SignInRequest>;
        fn code_sign_in(&self, state_hash: String, code_hash: String, user_id: String, idp_refresh: Option<String>, at: DateTime<Utc>) -> ();
        fn set_idp_refresh(&self, device: Device, sealed: Option<String>) -> ();
        fn coded_sign_in(&self, code_hash: String) -> Option<SignIn>;
        fn redeem_code(&self, code_hash: String, since: DateTime<Utc>, device: NewDevice, tokens: NewTokens) -> Redeemed;
        fn refresh(&self, refresh_hash: String, since: DateTime<Utc>, retry_since: DateTime<Utc>, tokens: NewTokens) -> Refreshed;
        fn sign_in_user(&self, identity: Identity) -> SignedInUser;
        fn devices(&self, user_id: String) -> Option<Vec<DeviceInfo>>;
        fn revoke(&self, user_id: String, device_id: Option<String>, why: String, at: DateTime<Utc>) -> Vec<String>;
        fn set_disabled(&self, user_id: String, disabled: bool, at: DateTime<Utc>) -> Option<Vec<String>>;
        fn person(&self, email: String, name: String) -> String;
        fn add_audit(&self, entry: NewAudit) -> ();
        fn audit(&self, query: AuditQuery) -> Vec<AuditEntry>;
        fn users(&self, query: UserQuery) -> Vec<UserInfo>;
        fn forget(&self, what: Forget) -> ();
        fn save_session(&self, session: ConsoleSession) -> ();
        fn load_session(&self, id_hash: String, now: DateTime<Utc>) -> Option<String>;
        fn delete_session(&self, id_hash: String) -> ();
        fn report_node(&self, report: NodeReport) -> ();
        fn nodes(&self, since: DateTime<Utc>) -> Vec<NodeReport>;
        fn apply_events(&self, events: Vec<(String, Outcome)>, now: DateTime<Utc>) -> Vec<Applied>;
        fn event_response(&self, key: String) -> Option<EventResponse>;
        fn queue_event(&self, key: String, event: ProducerEvent, now: DateTime<Utc>) -> bool;
        fn queued_events(&self, limit: usize) -> Vec<(String, ProducerEvent)>;
        fn append_changes(&self, changes: Vec<(String, ChangeBody)>, now: DateTime<Utc>) -> Vec<UserChange>;
        fn list(&self, user_id: String, filter: ListFilter) -> Vec<WireNotification>;
        fn changes(&self, user_id: String, since: i64, limit: usize) -> ChangesPage;
        fn last_seq(&self, user_id: String) -> i64;
        fn counts(&self, user_id: String) -> Counts;
        fn mark_read(&self, user_id: String, id: String, now: DateTime<Utc>) -> Option<Acted<MarkReadResponse>>;
        fn mark_unread(&self, user_id: String, id: String, now: DateTime<Utc>) -> Option<Acted<MarkUnreadResponse>>;
        fn mark_all_read(&self, op: MarkAll) -> Acted<MarkAllReadResponse>;
        fn prune(&self, now: DateTime<Utc>) -> Vec<UserChange>;
        fn add_window(&self, starts_at: DateTime<Utc>, ends_at: DateTime<Utc>, message: String) -> MaintenanceWindow;
        fn windows(&self, now: DateTime<Utc>) -> Vec<MaintenanceWindow>;
        fn webhook_secrets(&self) -> Vec<WebhookSecret>;
        fn put_webhook_secret(&self, secret: WebhookSecret) -> ();
        fn webhook_secret_used(&self, id: String, at: DateTime<Utc>) -> ();
        fn link_agent(&self, user_id: String, agent_id: Option<String>, crm_sso_id: Option<String>) -> Option<AgentLink>;
        fn agent_links(&self) -> Vec<AgentLink>;
        fn apply_rooms(&self, jobs: Vec<RoomJob>, now: DateTime<Utc>) -> Vec<Result<Applied, String>>;
        fn room_recipients(&self, room_id: String) -> Option<Vec<String>>;
        fn add_dead_letter(&self, letter: NewDeadLetter) -> (i64, bool);
        fn dead_letters(&self, limit: usize, before: Option<i64>) -> Vec<DeadLetter>;
        fn dead_letter(&self, id: i64) -> Option<DeadLetter>;
        fn settle_dead_letter(&self, id: i64, failed_again: Option<String>) -> ();
        fn crm_sync(&self, user_id: String, items: Vec<Notification>, now: DateTime<Utc>) -> Vec<UserChange>;
        fn crm_unsent_reads(&self, user_id: String, limit: usize) -> Vec<String>;
        fn crm_reads_sent(&self, ids: Vec<String>) -> ();
    }
}
