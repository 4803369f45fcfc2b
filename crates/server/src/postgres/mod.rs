//! The PostgreSQL backend (`--db postgres://…`): the system of record when several server nodes
//! share one database behind a load balancer.
//!
//! It keeps exactly the SQLite backend's behaviour (one story suite runs against both), with what
//! several writers need on top:
//! - a user's sequence number is taken by `UPDATE … RETURNING` on the user's row, so commits of one
//!   user's changes happen in sequence order on every node (a reader that sees seq n sees n − 1);
//! - idempotency keys are claimed with `INSERT … ON CONFLICT DO NOTHING` before anything is applied,
//!   so the same event posted to two nodes at once is applied once (MW-4);
//! - users are locked in one order (by id) in transactions that touch several, so they cannot
//!   deadlock one another;
//! - every transaction that appends to a feed sends `NOTIFY` with the user and sequence only; the
//!   notification is delivered at commit, never before. Nodes read the changes from the table
//!   ([`listen`]): NOTIFY has no replay and an 8 KB limit, so it only wakes.
//!
//! What a write does is `db::plan`'s, carried out by [`writes`]; the schema is `schema.sql`, in the
//! steps `db::schema` describes, applied by [`migrate`] when a node [`connect`]s; [`error`] says
//! which failures are worth a retry.

mod accounts;
mod connect;
mod console;
mod error;
mod feed;
mod listen;
mod migrate;
mod notifications;
mod qontak;
mod writes;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use deadpool_postgres::Pool;
use lonceng_domain::model::WireNotification;
use lonceng_domain::protocol::{
    ChangeBody, ChangesPage, Counts, EventResponse, MaintenanceWindow, MarkAllReadResponse, MarkReadResponse,
    MarkUnreadResponse,
};
use lonceng_domain::rules::{Outcome, ProducerEvent};
use tokio::sync::broadcast;
use tokio_util::sync::DropGuard;

use crate::db::{
    Acted, AgentLink, Applied, AuditEntry, AuditQuery, Authenticated, ConsoleSession, Database, DbError,
    DbResult, DeadLetter, Device, DeviceInfo, Forget, Identity, ListFilter, MarkAll, NewAudit, NewDeadLetter,
    NewDevice, NewToken, NewTokens, NodeReport, Redeemed, Refreshed, RoomJob, SignIn, SignInRequest, Signal,
    SignedInUser, UserChange, UserInfo, UserQuery, WebhookSecret,
};

/// The channel every node listens on.
const CHANNEL: &str = "lonceng";

#[derive(Clone)]
pub struct PgDb {
    inner: Arc<Inner>,
}

struct Inner {
    pool: Pool,
    /// This process's id in notifications: its own are not acted on twice.
    node: String,
    signals: broadcast::Sender<Signal>,
    /// Stops the listener when the last handle goes.
    _stop: DropGuard,
}

/// A database value that cannot be read back.
fn decode_err(e: impl std::fmt::Display) -> DbError {
    DbError::Decode(e.to_string())
}

/// Stored times keep milliseconds, as on SQLite and on the wire.
fn ms(t: DateTime<Utc>) -> DateTime<Utc> {
    lonceng_domain::time::from_ms(lonceng_domain::time::to_ms(t)).unwrap_or(t)
}

/// A column read with its type checked: a value this build cannot read is an error, never a panic.
macro_rules! col {
    ($row:expr, $i:expr) => {
        $row.try_get($i).map_err($crate::postgres::decode_err)?
    };
}
pub(crate) use col;

impl PgDb {
    async fn client(&self) -> DbResult<deadpool_postgres::Object> {
        Ok(self.inner.pool.get().await?)
    }
}

impl Database for PgDb {
    async fn device(&self, token_hash: String, now: DateTime<Utc>) -> DbResult<Option<Authenticated>> {
        accounts::device(&self.client().await?, &token_hash, now).await
    }

    async fn add_user(&self, id: String, name: String) -> DbResult<()> {
        self.client()
            .await?
            .execute(
                "INSERT INTO users (id, name) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET name = excluded.name",
                &[&id, &name],
            )
            .await?;
        Ok(())
    }

    async fn add_token(&self, t: NewToken) -> DbResult<()> {
        accounts::add_token(&mut self.client().await?, &t).await
    }

    async fn start_sign_in(
        &self,
        state_hash: String,
        request: SignInRequest,
        at: DateTime<Utc>,
    ) -> DbResult<()> {
        accounts::start_sign_in(&self.client().await?, &state_hash, &request, at).await
    }

    async fn take_sign_in(
        &self,
        state_hash: String,
        since: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> DbResult<Option<SignInRequest>> {
        accounts::take_sign_in(&self.client().await?, &state_hash, since, at).await
    }

    async fn code_sign_in(
        &self,
        state_hash: String,
        code_hash: String,
        user_id: String,
        idp_refresh: Option<String>,
        at: DateTime<Utc>,
    ) -> DbResult<()> {
        accounts::code_sign_in(
            &self.client().await?,
            &state_hash,
            &code_hash,
            &user_id,
            idp_refresh.as_deref(),
            at,
        )
        .await
    }

    async fn set_idp_refresh(&self, device: Device, sealed: Option<String>) -> DbResult<()> {
        accounts::set_idp_refresh(&self.client().await?, &device, sealed.as_deref()).await
    }

    async fn coded_sign_in(&self, code_hash: String) -> DbResult<Option<SignIn>> {
        accounts::coded_sign_in(&self.client().await?, &code_hash).await
    }

    async fn redeem_code(
        &self,
        code_hash: String,
        since: DateTime<Utc>,
        device: NewDevice,
        tokens: NewTokens,
    ) -> DbResult<Redeemed> {
        accounts::redeem_code(&mut self.client().await?, &code_hash, since, &device, &tokens).await
    }

    async fn refresh(
        &self,
        refresh_hash: String,
        since: DateTime<Utc>,
        retry_since: DateTime<Utc>,
        tokens: NewTokens,
    ) -> DbResult<Refreshed> {
        accounts::refresh(&mut self.client().await?, &refresh_hash, since, retry_since, &tokens).await
    }

    async fn sign_in_user(&self, identity: Identity) -> DbResult<SignedInUser> {
        accounts::sign_in_user(&mut self.client().await?, &identity).await
    }

    async fn devices(&self, user_id: String) -> DbResult<Option<Vec<DeviceInfo>>> {
        accounts::devices(&self.client().await?, &user_id).await
    }

    async fn revoke(
        &self,
        user_id: String,
        device_id: Option<String>,
        why: String,
        at: DateTime<Utc>,
    ) -> DbResult<Vec<String>> {
        accounts::revoke(&mut self.client().await?, &user_id, device_id.as_deref(), &why, at).await
    }

    async fn set_disabled(
        &self,
        user_id: String,
        disabled: bool,
        at: DateTime<Utc>,
    ) -> DbResult<Option<Vec<String>>> {
        accounts::set_disabled(&mut self.client().await?, &user_id, disabled, at).await
    }

    async fn person(&self, email: String, name: String) -> DbResult<String> {
        accounts::person(&mut self.client().await?, &email, &name).await
    }

    async fn add_audit(&self, entry: NewAudit) -> DbResult<()> {
        accounts::add_audit(&self.client().await?, &entry).await
    }

    async fn audit(&self, query: AuditQuery) -> DbResult<Vec<AuditEntry>> {
        accounts::audit(&self.client().await?, &query).await
    }

    async fn users(&self, query: UserQuery) -> DbResult<Vec<UserInfo>> {
        accounts::users(&self.client().await?, &query).await
    }

    async fn report_node(&self, report: NodeReport) -> DbResult<()> {
        console::report_node(&self.client().await?, &report).await
    }

    async fn nodes(&self, since: DateTime<Utc>) -> DbResult<Vec<NodeReport>> {
        console::nodes(&self.client().await?, since).await
    }

    async fn save_session(&self, session: ConsoleSession) -> DbResult<()> {
        console::save_session(&self.client().await?, &session).await
    }

    async fn load_session(&self, id_hash: String, now: DateTime<Utc>) -> DbResult<Option<String>> {
        console::load_session(&self.client().await?, &id_hash, now).await
    }

    async fn delete_session(&self, id_hash: String) -> DbResult<()> {
        console::delete_session(&self.client().await?, &id_hash).await
    }

    async fn forget(&self, what: Forget) -> DbResult<()> {
        accounts::forget(&mut self.client().await?, &what).await
    }

    async fn apply_events(
        &self,
        events: Vec<(String, Outcome)>,
        now: DateTime<Utc>,
    ) -> DbResult<Vec<Applied>> {
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        let applied = notifications::apply_events(&tx, events, now).await?;
        let changes: Vec<UserChange> = applied.iter().flat_map(|a| a.changes.iter().cloned()).collect();
        feed::notify(&tx, &self.inner.node, &changes).await?;
        tx.commit().await?;
        Ok(applied)
    }

    async fn event_response(&self, key: String) -> DbResult<Option<EventResponse>> {
        let c = self.client().await?;
        let row = c.query_opt("SELECT response FROM events WHERE key = $1", &[&key]).await?;
        match row {
            Some(r) => {
                let json: String = col!(r, 0);
                Ok(Some(serde_json::from_str(&json).map_err(decode_err)?))
            }
            None => Ok(None),
        }
    }

    async fn queue_event(&self, key: String, event: ProducerEvent, now: DateTime<Utc>) -> DbResult<bool> {
        let c = self.client().await?;
        let applied: bool =
            col!(c.query_one("SELECT EXISTS (SELECT 1 FROM events WHERE key = $1)", &[&key]).await?, 0);
        if applied {
            return Ok(false);
        }
        let body = serde_json::to_string(&event).map_err(decode_err)?;
        let n = c
            .execute(
                "INSERT INTO queued_events (key, received_at, body) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING",
                &[&key, &ms(now), &body],
            )
            .await?;
        Ok(n == 1)
    }

    async fn queued_events(&self, limit: usize) -> DbResult<Vec<(String, ProducerEvent)>> {
        let c = self.client().await?;
        let rows =
            c.query("SELECT key, body FROM queued_events ORDER BY pos LIMIT $1", &[&(limit as i64)]).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let body: String = col!(r, 1);
            out.push((col!(r, 0), serde_json::from_str(&body).map_err(decode_err)?));
        }
        Ok(out)
    }

    async fn append_changes(
        &self,
        changes: Vec<(String, ChangeBody)>,
        now: DateTime<Utc>,
    ) -> DbResult<Vec<UserChange>> {
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        writes::lock_users(&tx, changes.iter().map(|(u, _)| u.as_str())).await?;
        let mut out = Vec::with_capacity(changes.len());
        for (user, body) in changes {
            let change = writes::append(&tx, &user, body, now).await?;
            out.push((user, change));
        }
        feed::notify(&tx, &self.inner.node, &out).await?;
        tx.commit().await?;
        Ok(out)
    }

    async fn list(&self, user_id: String, filter: ListFilter) -> DbResult<Vec<WireNotification>> {
        notifications::list(&self.client().await?, &user_id, &filter).await
    }

    async fn changes(&self, user_id: String, since: i64, limit: usize) -> DbResult<ChangesPage> {
        feed::changes(&self.client().await?, &user_id, since, limit).await
    }

    async fn last_seq(&self, user_id: String) -> DbResult<i64> {
        let c = self.client().await?;
        let stmt = c.prepare_cached("SELECT last_seq FROM users WHERE id = $1").await?;
        Ok(match c.query_opt(&stmt, &[&user_id]).await? {
            Some(r) => col!(r, 0),
            None => 0,
        })
    }

    async fn counts(&self, user_id: String) -> DbResult<Counts> {
        notifications::counts(&self.client().await?, &user_id).await
    }

    async fn mark_read(
        &self,
        user_id: String,
        id: String,
        now: DateTime<Utc>,
    ) -> DbResult<Option<Acted<MarkReadResponse>>> {
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        let acted = notifications::mark_read(&tx, &user_id, &id, now).await?;
        if let Some(a) = &acted {
            feed::notify(&tx, &self.inner.node, &a.changes).await?;
        }
        tx.commit().await?;
        Ok(acted)
    }

    async fn mark_unread(
        &self,
        user_id: String,
        id: String,
        now: DateTime<Utc>,
    ) -> DbResult<Option<Acted<MarkUnreadResponse>>> {
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        let acted = notifications::mark_unread(&tx, &user_id, &id, now).await?;
        if let Some(a) = &acted {
            feed::notify(&tx, &self.inner.node, &a.changes).await?;
        }
        tx.commit().await?;
        Ok(acted)
    }

    async fn mark_all_read(&self, op: MarkAll) -> DbResult<Acted<MarkAllReadResponse>> {
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        let acted = notifications::mark_all(&tx, &op).await?;
        feed::notify(&tx, &self.inner.node, &acted.changes).await?;
        tx.commit().await?;
        Ok(acted)
    }

    async fn prune(&self, now: DateTime<Utc>) -> DbResult<Vec<UserChange>> {
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        let changes = feed::prune(&tx, now).await?;
        feed::notify(&tx, &self.inner.node, &changes).await?;
        tx.commit().await?;
        Ok(changes)
    }

    async fn add_window(
        &self,
        starts_at: DateTime<Utc>,
        ends_at: DateTime<Utc>,
        message: String,
    ) -> DbResult<MaintenanceWindow> {
        let (starts_at, ends_at) = (ms(starts_at), ms(ends_at));
        let row = self
            .client()
            .await?
            .query_one(
                "INSERT INTO maintenance_windows (starts_at, ends_at, message) VALUES ($1, $2, $3) RETURNING id",
                &[&starts_at, &ends_at, &message],
            )
            .await?;
        Ok(MaintenanceWindow { id: col!(row, 0), starts_at, ends_at, message })
    }

    async fn windows(&self, now: DateTime<Utc>) -> DbResult<Vec<MaintenanceWindow>> {
        let rows = self
            .client()
            .await?
            .query(
                "SELECT id, starts_at, ends_at, message FROM maintenance_windows WHERE ends_at > $1 \
                 ORDER BY starts_at, id",
                &[&now],
            )
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            out.push(MaintenanceWindow {
                id: col!(r, 0),
                starts_at: col!(r, 1),
                ends_at: col!(r, 2),
                message: col!(r, 3),
            });
        }
        Ok(out)
    }

    async fn webhook_secrets(&self) -> DbResult<Vec<WebhookSecret>> {
        qontak::webhook_secrets(&self.client().await?).await
    }

    async fn put_webhook_secret(&self, secret: WebhookSecret) -> DbResult<()> {
        qontak::put_webhook_secret(&self.client().await?, &secret).await
    }

    async fn webhook_secret_used(&self, id: String, at: DateTime<Utc>) -> DbResult<()> {
        self.client()
            .await?
            .execute("UPDATE qontak_webhook_secrets SET last_used_at = $2 WHERE id = $1", &[&id, &ms(at)])
            .await?;
        Ok(())
    }

    async fn link_agent(
        &self,
        user_id: String,
        agent_id: Option<String>,
        crm_sso_id: Option<String>,
    ) -> DbResult<Option<AgentLink>> {
        qontak::link_agent(&mut self.client().await?, &user_id, agent_id, crm_sso_id).await
    }

    async fn agent_links(&self) -> DbResult<Vec<AgentLink>> {
        qontak::agent_links(&self.client().await?).await
    }

    async fn apply_rooms(
        &self,
        jobs: Vec<RoomJob>,
        now: DateTime<Utc>,
    ) -> DbResult<Vec<Result<Applied, String>>> {
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        let out = qontak::apply_rooms(&tx, jobs, now).await?;
        let changes: Vec<UserChange> =
            out.iter().flat_map(|r| r.iter().flat_map(|a| a.changes.iter().cloned())).collect();
        feed::notify(&tx, &self.inner.node, &changes).await?;
        tx.commit().await?;
        Ok(out)
    }

    async fn room_recipients(&self, room_id: String) -> DbResult<Option<Vec<String>>> {
        qontak::room_recipients(&self.client().await?, &room_id).await
    }

    async fn add_dead_letter(&self, letter: NewDeadLetter) -> DbResult<(i64, bool)> {
        qontak::add_dead_letter(&mut self.client().await?, &letter).await
    }

    async fn dead_letters(&self, limit: usize, before: Option<i64>) -> DbResult<Vec<DeadLetter>> {
        qontak::dead_letters(&self.client().await?, limit, before).await
    }

    async fn dead_letter(&self, id: i64) -> DbResult<Option<DeadLetter>> {
        qontak::dead_letter(&self.client().await?, id).await
    }

    async fn settle_dead_letter(&self, id: i64, failed_again: Option<String>) -> DbResult<()> {
        qontak::settle_dead_letter(&self.client().await?, id, failed_again).await
    }

    async fn crm_sync(
        &self,
        user_id: String,
        items: Vec<lonceng_domain::model::Notification>,
        now: DateTime<Utc>,
    ) -> DbResult<Vec<UserChange>> {
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        let changes = qontak::crm_sync(&tx, &user_id, items, now).await?;
        feed::notify(&tx, &self.inner.node, &changes).await?;
        tx.commit().await?;
        Ok(changes)
    }

    async fn crm_unsent_reads(&self, user_id: String, limit: usize) -> DbResult<Vec<String>> {
        qontak::crm_unsent_reads(&self.client().await?, &user_id, limit).await
    }

    async fn crm_reads_sent(&self, ids: Vec<String>) -> DbResult<()> {
        self.client()
            .await?
            .execute("UPDATE crm_items SET crm_read = TRUE WHERE id = ANY($1)", &[&ids])
            .await?;
        Ok(())
    }

    fn signals(&self) -> Option<broadcast::Receiver<Signal>> {
        Some(self.inner.signals.subscribe())
    }

    async fn signal(&self, signal: Signal) -> DbResult<()> {
        let payload = listen::payload(&self.inner.node, &signal)?;
        self.client().await?.execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &payload]).await?;
        Ok(())
    }

    async fn ping(&self) -> DbResult<()> {
        self.client().await?.query_one("SELECT 1", &[]).await?;
        Ok(())
    }
}
