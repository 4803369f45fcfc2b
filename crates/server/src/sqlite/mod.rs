//! The embedded SQLite backend: one file (or memory, for tests), WAL, one connection behind a mutex,
//! used from Tokio's blocking pool so that no query stalls the reactor. [`writes`] carries out what
//! `db::plan` decides; [`feed`] reads the users' change feeds and applies retention;
//! [`notifications`] the items, their read state and the producer events; [`qontak`] the Qontak and
//! CRM tables. The schema is `schema.sql`, in the steps `db::schema` describes.

mod accounts;
mod console;
mod feed;
mod notifications;
mod qontak;
mod writes;

use std::future::Future;
use std::path::Path;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use lonceng_domain::migrate::{MigrateError, Migration, Schema};
use lonceng_domain::model::WireNotification;
use lonceng_domain::protocol::{
    ChangeBody, ChangesPage, Counts, EventResponse, MaintenanceWindow, MarkAllReadResponse, MarkReadResponse,
    MarkUnreadResponse,
};
use lonceng_domain::rules::{Outcome, ProducerEvent};
use lonceng_domain::time::to_ms;
use rusqlite::{params, Connection, OptionalExtension};

use crate::db::{
    schema, Acted, AgentLink, Applied, AuditEntry, AuditQuery, Authenticated, ConsoleSession, Database,
    DbError, DbResult, DeadLetter, Device, DeviceInfo, Forget, Identity, ListFilter, MarkAll, NewAudit,
    NewDeadLetter, NewDevice, NewToken, NewTokens, NodeReport, Redeemed, Refreshed, RoomJob, SignIn,
    SignInRequest, Signal, SignedInUser, UserChange, UserInfo, UserQuery, WebhookSecret,
};

/// WAL pages between checkpoints (`init`): 32 MB of WAL at most, beside the file.
const CHECKPOINT_PAGES: u32 = 8_000;

/// The schema, in steps (`db::schema`).
const SCHEMA_SQL: &str = include_str!("schema.sql");

#[derive(Clone)]
pub struct SqliteDb {
    conn: Arc<Mutex<Connection>>,
}

fn from_ms(v: i64) -> DbResult<DateTime<Utc>> {
    lonceng_domain::time::from_ms(v).ok_or_else(|| DbError::Decode(format!("timestamp {v}")))
}

fn decode_err(e: impl std::fmt::Display) -> DbError {
    DbError::Decode(e.to_string())
}

impl SqliteDb {
    pub fn open(path: &Path) -> DbResult<SqliteDb> {
        SqliteDb::init(Connection::open(path)?)
    }

    pub fn in_memory() -> DbResult<SqliteDb> {
        SqliteDb::init(Connection::open_in_memory()?)
    }

    fn init(mut conn: Connection) -> DbResult<SqliteDb> {
        // The WAL is copied back into the file every `CHECKPOINT_PAGES` pages rather than SQLite's
        // 1,000: a commit's pages are mostly the same few b-tree pages as the last commit's, and a
        // checkpoint copies each page once however often it was written since, with one fsync.
        conn.execute_batch(&format!(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000; \
             PRAGMA foreign_keys = ON; PRAGMA cache_size = -16384; PRAGMA wal_autocheckpoint = {CHECKPOINT_PAGES};",
        ))?;
        let migrations: Vec<Migration> = schema::steps(SCHEMA_SQL).into_iter().map(Migration::sql).collect();
        // The server's files are not marked with an `application_id` (the first releases did not
        // mark them, and a marked schema would refuse those).
        Schema { application_id: None, migrations: &migrations }.migrate(&mut conn).map_err(|e| match e {
            MigrateError::Sqlite(e) => DbError::Sqlite(e),
            MigrateError::Newer { found, supported } => DbError::Decode(format!(
                "the database has schema {found}; this server knows up to {supported}: update the server"
            )),
            other => DbError::Decode(other.to_string()),
        })?;
        Ok(SqliteDb { conn: Arc::new(Mutex::new(conn)) })
    }

    /// Runs `f` on the connection in the blocking pool.
    fn run<T, F>(&self, f: F) -> impl Future<Output = DbResult<T>> + Send + 'static
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> DbResult<T> + Send + 'static,
    {
        let conn = self.conn.clone();
        async move {
            tokio::task::spawn_blocking(move || {
                let mut guard = conn.lock().unwrap_or_else(|p| p.into_inner());
                f(&mut guard)
            })
            .await
            .map_err(|e| DbError::Worker(e.to_string()))?
        }
    }
}

impl Database for SqliteDb {
    fn signals(&self) -> Option<tokio::sync::broadcast::Receiver<Signal>> {
        None
    }

    /// One node per file: nobody else to tell.
    fn signal(&self, _signal: Signal) -> impl Future<Output = DbResult<()>> + Send {
        std::future::ready(Ok(()))
    }

    fn ping(&self) -> impl Future<Output = DbResult<()>> + Send {
        self.run(|c| Ok(c.query_row("SELECT 1", [], |_| Ok(()))?))
    }

    fn device(
        &self,
        token_hash: String,
        now: DateTime<Utc>,
    ) -> impl Future<Output = DbResult<Option<Authenticated>>> + Send {
        self.run(move |c| accounts::device(c, &token_hash, now))
    }

    fn add_user(&self, id: String, name: String) -> impl Future<Output = DbResult<()>> + Send {
        self.run(move |c| {
            c.execute(
                "INSERT INTO users (id, name) VALUES (?1, ?2) ON CONFLICT(id) DO UPDATE SET name = excluded.name",
                [id, name],
            )?;
            Ok(())
        })
    }

    fn add_token(&self, t: NewToken) -> impl Future<Output = DbResult<()>> + Send {
        self.run(move |c| accounts::add_token(c, &t))
    }

    fn start_sign_in(
        &self,
        state_hash: String,
        request: SignInRequest,
        at: DateTime<Utc>,
    ) -> impl Future<Output = DbResult<()>> + Send {
        self.run(move |c| accounts::start_sign_in(c, &state_hash, &request, at))
    }

    fn take_sign_in(
        &self,
        state_hash: String,
        since: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> impl Future<Output = DbResult<Option<SignInRequest>>> + Send {
        self.run(move |c| accounts::take_sign_in(c, &state_hash, since, at))
    }

    fn code_sign_in(
        &self,
        state_hash: String,
        code_hash: String,
        user_id: String,
        idp_refresh: Option<String>,
        at: DateTime<Utc>,
    ) -> impl Future<Output = DbResult<()>> + Send {
        self.run(move |c| {
            accounts::code_sign_in(c, &state_hash, &code_hash, &user_id, idp_refresh.as_deref(), at)
        })
    }

    fn set_idp_refresh(
        &self,
        device: Device,
        sealed: Option<String>,
    ) -> impl Future<Output = DbResult<()>> + Send {
        self.run(move |c| accounts::set_idp_refresh(c, &device, sealed.as_deref()))
    }

    fn coded_sign_in(&self, code_hash: String) -> impl Future<Output = DbResult<Option<SignIn>>> + Send {
        self.run(move |c| accounts::coded_sign_in(c, &code_hash))
    }

    fn redeem_code(
        &self,
        code_hash: String,
        since: DateTime<Utc>,
        device: NewDevice,
        tokens: NewTokens,
    ) -> impl Future<Output = DbResult<Redeemed>> + Send {
        self.run(move |c| accounts::redeem_code(c, &code_hash, since, &device, &tokens))
    }

    fn refresh(
        &self,
        refresh_hash: String,
        since: DateTime<Utc>,
        retry_since: DateTime<Utc>,
        tokens: NewTokens,
    ) -> impl Future<Output = DbResult<Refreshed>> + Send {
        self.run(move |c| accounts::refresh(c, &refresh_hash, since, retry_since, &tokens))
    }

    fn sign_in_user(&self, identity: Identity) -> impl Future<Output = DbResult<SignedInUser>> + Send {
        self.run(move |c| accounts::sign_in_user(c, &identity))
    }

    fn devices(&self, user_id: String) -> impl Future<Output = DbResult<Option<Vec<DeviceInfo>>>> + Send {
        self.run(move |c| accounts::devices(c, &user_id))
    }

    fn revoke(
        &self,
        user_id: String,
        device_id: Option<String>,
        why: String,
        at: DateTime<Utc>,
    ) -> impl Future<Output = DbResult<Vec<String>>> + Send {
        self.run(move |c| accounts::revoke(c, &user_id, device_id.as_deref(), &why, at))
    }

    fn set_disabled(
        &self,
        user_id: String,
        disabled: bool,
        at: DateTime<Utc>,
    ) -> impl Future<Output = DbResult<Option<Vec<String>>>> + Send {
        self.run(move |c| accounts::set_disabled(c, &user_id, disabled, at))
    }

    fn person(&self, email: String, name: String) -> impl Future<Output = DbResult<String>> + Send {
        self.run(move |c| accounts::person(c, &email, &name))
    }

    fn add_audit(&self, entry: NewAudit) -> impl Future<Output = DbResult<()>> + Send {
        self.run(move |c| accounts::add_audit(c, &entry))
    }

    fn audit(&self, query: AuditQuery) -> impl Future<Output = DbResult<Vec<AuditEntry>>> + Send {
        self.run(move |c| accounts::audit(c, &query))
    }

    fn users(&self, query: UserQuery) -> impl Future<Output = DbResult<Vec<UserInfo>>> + Send {
        self.run(move |c| accounts::users(c, &query))
    }

    fn report_node(&self, report: NodeReport) -> impl Future<Output = DbResult<()>> + Send {
        self.run(move |c| console::report_node(c, &report))
    }

    fn nodes(&self, since: DateTime<Utc>) -> impl Future<Output = DbResult<Vec<NodeReport>>> + Send {
        self.run(move |c| console::nodes(c, since))
    }

    fn save_session(&self, session: ConsoleSession) -> impl Future<Output = DbResult<()>> + Send {
        self.run(move |c| console::save_session(c, &session))
    }

    fn load_session(
        &self,
        id_hash: String,
        now: DateTime<Utc>,
    ) -> impl Future<Output = DbResult<Option<String>>> + Send {
        self.run(move |c| console::load_session(c, &id_hash, now))
    }

    fn delete_session(&self, id_hash: String) -> impl Future<Output = DbResult<()>> + Send {
        self.run(move |c| console::delete_session(c, &id_hash))
    }

    fn forget(&self, what: Forget) -> impl Future<Output = DbResult<()>> + Send {
        self.run(move |c| accounts::forget(c, &what))
    }

    fn apply_events(
        &self,
        events: Vec<(String, Outcome)>,
        now: DateTime<Utc>,
    ) -> impl Future<Output = DbResult<Vec<Applied>>> + Send {
        self.run(move |c| notifications::apply_events_tx(c, events, now))
    }

    fn event_response(&self, key: String) -> impl Future<Output = DbResult<Option<EventResponse>>> + Send {
        self.run(move |c| notifications::event_response(c, &key))
    }

    fn queue_event(
        &self,
        key: String,
        event: ProducerEvent,
        now: DateTime<Utc>,
    ) -> impl Future<Output = DbResult<bool>> + Send {
        self.run(move |c| notifications::queue_event(c, &key, &event, now))
    }

    fn queued_events(
        &self,
        limit: usize,
    ) -> impl Future<Output = DbResult<Vec<(String, ProducerEvent)>>> + Send {
        self.run(move |c| notifications::queued_events(c, limit))
    }

    fn append_changes(
        &self,
        changes: Vec<(String, ChangeBody)>,
        now: DateTime<Utc>,
    ) -> impl Future<Output = DbResult<Vec<UserChange>>> + Send {
        self.run(move |c| {
            let tx = c.transaction()?;
            let mut out = Vec::with_capacity(changes.len());
            for (user, body) in changes {
                let change = writes::append(&tx, &user, body, now)?;
                out.push((user, change));
            }
            tx.commit()?;
            Ok(out)
        })
    }

    fn list(
        &self,
        user_id: String,
        filter: ListFilter,
    ) -> impl Future<Output = DbResult<Vec<WireNotification>>> + Send {
        self.run(move |c| notifications::list_tx(c, &user_id, &filter))
    }

    fn changes(
        &self,
        user_id: String,
        since: i64,
        limit: usize,
    ) -> impl Future<Output = DbResult<ChangesPage>> + Send {
        self.run(move |c| feed::changes_tx(c, &user_id, since, limit))
    }

    fn last_seq(&self, user_id: String) -> impl Future<Output = DbResult<i64>> + Send {
        self.run(move |c| {
            Ok(c.query_row("SELECT last_seq FROM users WHERE id = ?1", [user_id], |r| r.get(0))
                .optional()?
                .unwrap_or(0))
        })
    }

    fn counts(&self, user_id: String) -> impl Future<Output = DbResult<Counts>> + Send {
        self.run(move |c| notifications::counts_tx(c, &user_id))
    }

    fn mark_read(
        &self,
        user_id: String,
        id: String,
        now: DateTime<Utc>,
    ) -> impl Future<Output = DbResult<Option<Acted<MarkReadResponse>>>> + Send {
        self.run(move |c| notifications::mark_read_tx(c, &user_id, &id, now))
    }

    fn mark_unread(
        &self,
        user_id: String,
        id: String,
        now: DateTime<Utc>,
    ) -> impl Future<Output = DbResult<Option<Acted<MarkUnreadResponse>>>> + Send {
        self.run(move |c| notifications::mark_unread_tx(c, &user_id, &id, now))
    }

    fn mark_all_read(
        &self,
        op: MarkAll,
    ) -> impl Future<Output = DbResult<Acted<MarkAllReadResponse>>> + Send {
        self.run(move |c| notifications::mark_all_tx(c, &op))
    }

    fn prune(&self, now: DateTime<Utc>) -> impl Future<Output = DbResult<Vec<UserChange>>> + Send {
        self.run(move |c| feed::prune_tx(c, now))
    }

    fn add_window(
        &self,
        starts_at: DateTime<Utc>,
        ends_at: DateTime<Utc>,
        message: String,
    ) -> impl Future<Output = DbResult<MaintenanceWindow>> + Send {
        self.run(move |c| {
            let id: i64 = c.query_row(
                "INSERT INTO maintenance_windows (starts_at, ends_at, message) VALUES (?1, ?2, ?3) RETURNING id",
                params![to_ms(starts_at), to_ms(ends_at), message],
                |r| r.get(0),
            )?;
            Ok(MaintenanceWindow { id, starts_at, ends_at, message })
        })
    }

    fn windows(&self, now: DateTime<Utc>) -> impl Future<Output = DbResult<Vec<MaintenanceWindow>>> + Send {
        self.run(move |c| {
            let rows = c
                .prepare_cached(
                    "SELECT id, starts_at, ends_at, message FROM maintenance_windows WHERE ends_at > ?1 ORDER BY starts_at",
                )?
                .query_map([to_ms(now)], |r| {
                    Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?, r.get::<_, String>(3)?))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            rows.into_iter()
                .map(|(id, s, e, message)| Ok(MaintenanceWindow { id, starts_at: from_ms(s)?, ends_at: from_ms(e)?, message }))
                .collect()
        })
    }

    fn webhook_secrets(&self) -> impl Future<Output = DbResult<Vec<WebhookSecret>>> + Send {
        self.run(|c| qontak::webhook_secrets(c))
    }

    fn put_webhook_secret(&self, secret: WebhookSecret) -> impl Future<Output = DbResult<()>> + Send {
        self.run(move |c| qontak::put_webhook_secret(c, &secret))
    }

    fn webhook_secret_used(
        &self,
        id: String,
        at: DateTime<Utc>,
    ) -> impl Future<Output = DbResult<()>> + Send {
        self.run(move |c| {
            c.execute(
                "UPDATE qontak_webhook_secrets SET last_used_at = ?2 WHERE id = ?1",
                params![id, to_ms(at)],
            )?;
            Ok(())
        })
    }

    fn link_agent(
        &self,
        user_id: String,
        agent_id: Option<String>,
        crm_sso_id: Option<String>,
    ) -> impl Future<Output = DbResult<Option<AgentLink>>> + Send {
        self.run(move |c| qontak::link_agent(c, &user_id, agent_id, crm_sso_id))
    }

    fn agent_links(&self) -> impl Future<Output = DbResult<Vec<AgentLink>>> + Send {
        self.run(|c| qontak::agent_links(c))
    }

    fn apply_rooms(
        &self,
        jobs: Vec<RoomJob>,
        now: DateTime<Utc>,
    ) -> impl Future<Output = DbResult<Vec<Result<Applied, String>>>> + Send {
        self.run(move |c| qontak::apply_rooms(c, jobs, now))
    }

    fn room_recipients(&self, room_id: String) -> impl Future<Output = DbResult<Option<Vec<String>>>> + Send {
        self.run(move |c| qontak::room_recipients(c, &room_id))
    }

    fn add_dead_letter(&self, letter: NewDeadLetter) -> impl Future<Output = DbResult<(i64, bool)>> + Send {
        self.run(move |c| qontak::add_dead_letter(c, &letter))
    }

    fn dead_letters(
        &self,
        limit: usize,
        before: Option<i64>,
    ) -> impl Future<Output = DbResult<Vec<DeadLetter>>> + Send {
        self.run(move |c| qontak::dead_letters(c, limit, before))
    }

    fn dead_letter(&self, id: i64) -> impl Future<Output = DbResult<Option<DeadLetter>>> + Send {
        self.run(move |c| qontak::dead_letter(c, id))
    }

    fn settle_dead_letter(
        &self,
        id: i64,
        failed_again: Option<String>,
    ) -> impl Future<Output = DbResult<()>> + Send {
        self.run(move |c| qontak::settle_dead_letter(c, id, failed_again))
    }

    fn crm_sync(
        &self,
        user_id: String,
        items: Vec<lonceng_domain::model::Notification>,
        now: DateTime<Utc>,
    ) -> impl Future<Output = DbResult<Vec<UserChange>>> + Send {
        self.run(move |c| qontak::crm_sync(c, &user_id, items, now))
    }

    fn crm_unsent_reads(
        &self,
        user_id: String,
        limit: usize,
    ) -> impl Future<Output = DbResult<Vec<String>>> + Send {
        self.run(move |c| qontak::crm_unsent_reads(c, &user_id, limit))
    }

    fn crm_reads_sent(&self, ids: Vec<String>) -> impl Future<Output = DbResult<()>> + Send {
        self.run(move |c| qontak::crm_reads_sent(c, &ids))
    }
}

#[cfg(test)]
mod tests {
    use lonceng_domain::migrate::user_version;

    use super::*;

    /// A file from before the Qontak tables (step 1 only) opens and is brought up to date; a file
    /// from a newer server is refused untouched.
    #[test]
    fn an_older_file_upgrades_and_a_newer_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.db");
        let steps = schema::steps(SCHEMA_SQL);
        let first = [Migration::sql(steps[0])];
        let mut old = Connection::open(&path).unwrap();
        Schema { application_id: None, migrations: &first }.migrate(&mut old).unwrap();
        drop(old);

        drop(SqliteDb::open(&path).unwrap());
        let conn = Connection::open(&path).unwrap();
        assert_eq!(user_version(&conn).unwrap(), steps.len() as i64);
        let crm_items: i64 = conn
            .query_row("SELECT count(*) FROM sqlite_master WHERE name = 'crm_items'", [], |r| r.get(0))
            .unwrap();
        assert_eq!(crm_items, 1, "step 2 ran");

        conn.pragma_update(None, "user_version", steps.len() as i64 + 1).unwrap();
        drop(conn);
        let refused = SqliteDb::open(&path).err().map(|e| e.to_string());
        assert!(refused.is_some_and(|e| e.contains("update the server")));
    }
}
