//! The embedded SQLite backend: one file (or memory, for tests), WAL, one connection behind a mutex,
//! used from Tokio's blocking pool so that no query stalls the reactor.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::Path;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use lonceng_core::model::{Category, Tab, WireNotification};
use lonceng_core::protocol::{
    Change, ChangeBody, ChangesPage, Counts, CreatedFor, EventResponse, EventStatus, MaintenanceWindow,
    MarkAllReadRequest, MarkAllReadResponse, MarkReadResponse, SuppressedFor,
};
use lonceng_core::rules::{self, Decision, Outcome, ProducerEvent};
use rand::Rng;
use rusqlite::{params, Connection, OptionalExtension, Transaction};

use crate::db::{Acted, Applied, Database, DbError, DbResult, Device, ListFilter, UserChange};

const MIGRATIONS: &[&str] = &[r#"
CREATE TABLE users (
    id       TEXT PRIMARY KEY,
    name     TEXT NOT NULL,
    last_seq INTEGER NOT NULL DEFAULT 0      -- the user's change sequence
);
CREATE TABLE tokens (
    hash       TEXT PRIMARY KEY,             -- SHA-256 of the bearer token, hex
    user_id    TEXT NOT NULL REFERENCES users (id),
    device_id  TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE notifications (
    pk          INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    user_id     TEXT NOT NULL,
    tab         INTEGER NOT NULL,
    category    INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    params      TEXT NOT NULL,
    actor_id    TEXT,
    url         TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    read_at     INTEGER,
    created_seq INTEGER NOT NULL             -- the change that announced it; bounds mark-all
);
CREATE INDEX notif_user_tab ON notifications (user_id, tab, created_at DESC, id DESC);
CREATE INDEX notif_user_category ON notifications (user_id, category, created_at DESC, id DESC);
CREATE INDEX notif_expiry ON notifications (tab, created_at);
CREATE TABLE changes (
    user_id TEXT NOT NULL,
    seq     INTEGER NOT NULL,
    at      INTEGER NOT NULL,
    body    TEXT NOT NULL,
    PRIMARY KEY (user_id, seq)
) WITHOUT ROWID;
CREATE INDEX changes_at ON changes (at);
CREATE TABLE events (
    key         TEXT PRIMARY KEY,
    received_at INTEGER NOT NULL,
    response    TEXT NOT NULL
);
CREATE TABLE queued_events (
    pos         INTEGER PRIMARY KEY,
    key         TEXT NOT NULL UNIQUE,
    received_at INTEGER NOT NULL,
    body        TEXT NOT NULL
);
CREATE TABLE client_ops (
    user_id  TEXT NOT NULL,
    key      TEXT NOT NULL,
    at       INTEGER NOT NULL,
    response TEXT NOT NULL,
    PRIMARY KEY (user_id, key)
) WITHOUT ROWID;
CREATE TABLE maintenance_windows (
    id        INTEGER PRIMARY KEY,
    starts_at INTEGER NOT NULL,
    ends_at   INTEGER NOT NULL,
    message   TEXT NOT NULL
);
"#];

/// How long the change feed, producer keys and client keys are kept.
const FEED_RETENTION_DAYS: i64 = 90;
const KEY_RETENTION_DAYS: i64 = 30;
/// Ids per `read` / `expired` change.
const IDS_PER_CHANGE: usize = 1_000;

#[derive(Clone)]
pub struct SqliteDb {
    conn: Arc<Mutex<Connection>>,
}

fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn from_ms(v: i64) -> DbResult<DateTime<Utc>> {
    DateTime::from_timestamp_millis(v).ok_or_else(|| DbError::Decode(format!("timestamp {v}")))
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
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000; \
             PRAGMA foreign_keys = ON; PRAGMA cache_size = -16384;",
        )?;
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version > MIGRATIONS.len() as i64 {
            return Err(DbError::Decode(format!(
                "the database has schema {version}; this server knows up to {}: update the server",
                MIGRATIONS.len()
            )));
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            let tx = conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.execute_batch(&format!("PRAGMA user_version = {}", i + 1))?;
            tx.commit()?;
        }
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

fn ensure_user(tx: &Transaction<'_>, id: &str) -> rusqlite::Result<()> {
    tx.execute("INSERT OR IGNORE INTO users (id, name) VALUES (?1, ?1)", [id])?;
    Ok(())
}

/// Appends a change to a user's feed with their next sequence number.
fn append(tx: &Transaction<'_>, user: &str, body: ChangeBody, now: DateTime<Utc>) -> DbResult<Change> {
    ensure_user(tx, user)?;
    let seq: i64 = tx.query_row(
        "UPDATE users SET last_seq = last_seq + 1 WHERE id = ?1 RETURNING last_seq",
        [user],
        |r| r.get(0),
    )?;
    let change = Change { seq, at: now, body };
    let json = serde_json::to_string(&change.body).map_err(decode_err)?;
    tx.execute(
        "INSERT INTO changes (user_id, seq, at, body) VALUES (?1, ?2, ?3, ?4)",
        params![user, seq, ms(now), json],
    )?;
    Ok(change)
}

/// Appends `read` or `expired` changes for many ids, in chunks.
fn append_chunked(
    tx: &Transaction<'_>,
    user: &str,
    ids: Vec<String>,
    now: DateTime<Utc>,
    make: impl Fn(Vec<String>) -> ChangeBody,
) -> DbResult<Vec<UserChange>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(IDS_PER_CHANGE) {
        out.push((user.to_owned(), append(tx, user, make(chunk.to_vec()), now)?));
    }
    Ok(out)
}

fn new_id() -> String {
    let n: u128 = rand::rng().random();
    format!("n_{n:032x}")
}

type NotifRow = (String, String, i64, String, String, Option<String>, String, i64, Option<i64>);

fn wire(row: NotifRow) -> DbResult<WireNotification> {
    let (id, user_id, code, kind, params, actor_id, url, created, read) = row;
    let category = Category::from_code(code).ok_or_else(|| DbError::Decode(format!("category {code}")))?;
    Ok(WireNotification {
        id,
        tab: category.tab().as_str().to_owned(),
        category: category.as_str().to_owned(),
        kind,
        params: serde_json::from_str(&params).map_err(decode_err)?,
        actor_id,
        recipient_id: user_id,
        url,
        created_at: from_ms(created)?,
        read_at: read.map(from_ms).transpose()?,
    })
}

const NOTIF_COLUMNS: &str = "id, user_id, category, kind, params, actor_id, url, created_at, read_at";

fn notif_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<NotifRow> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?))
}

fn apply_event_tx(
    conn: &mut Connection,
    key: &str,
    outcome: Outcome,
    now: DateTime<Utc>,
) -> DbResult<Applied> {
    let tx = conn.transaction()?;
    let seen: Option<String> =
        tx.query_row("SELECT response FROM events WHERE key = ?1", [key], |r| r.get(0)).optional()?;
    if let Some(json) = seen {
        let mut response: EventResponse = serde_json::from_str(&json).map_err(decode_err)?;
        response.duplicate = true;
        return Ok(Applied { response, changes: Vec::new() });
    }
    let mut changes = Vec::new();
    let response = match outcome {
        Outcome::ToastOnly(message) => {
            let user = message.recipient_id.clone();
            changes.push((user.clone(), append(&tx, &user, ChangeBody::Chat { message }, now)?));
            EventResponse {
                status: EventStatus::ToastOnly,
                created: vec![],
                suppressed: vec![],
                duplicate: false,
            }
        }
        Outcome::List(decisions) => {
            let mut created = Vec::new();
            let mut suppressed = Vec::new();
            for d in decisions {
                match d {
                    Decision::Suppressed { recipient_id, reason } => {
                        suppressed.push(SuppressedFor { recipient_id, reason })
                    }
                    Decision::Notify(draft) => {
                        let id = new_id();
                        let notification = WireNotification {
                            id: id.clone(),
                            tab: draft.category.tab().as_str().to_owned(),
                            category: draft.category.as_str().to_owned(),
                            kind: draft.kind.as_str().to_owned(),
                            params: serde_json::to_value(&draft.params).map_err(decode_err)?,
                            actor_id: draft.actor_id.clone(),
                            recipient_id: draft.recipient_id.clone(),
                            url: draft.url.clone(),
                            created_at: draft.created_at,
                            read_at: None,
                        };
                        let change =
                            append(&tx, &draft.recipient_id, ChangeBody::Created { notification }, now)?;
                        tx.execute(
                            "INSERT INTO notifications (id, user_id, tab, category, kind, params, actor_id, url, \
                             created_at, created_seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                            params![
                                id,
                                draft.recipient_id,
                                draft.category.tab().code(),
                                draft.category.code(),
                                draft.kind.as_str(),
                                serde_json::to_string(&draft.params).map_err(decode_err)?,
                                draft.actor_id,
                                draft.url,
                                ms(draft.created_at),
                                change.seq,
                            ],
                        )?;
                        created.push(CreatedFor { recipient_id: draft.recipient_id.clone(), id });
                        changes.push((draft.recipient_id, change));
                    }
                }
            }
            EventResponse { status: EventStatus::Applied, created, suppressed, duplicate: false }
        }
    };
    tx.execute(
        "INSERT INTO events (key, received_at, response) VALUES (?1, ?2, ?3)",
        params![key, ms(now), serde_json::to_string(&response).map_err(decode_err)?],
    )?;
    tx.execute("DELETE FROM queued_events WHERE key = ?1", [key])?;
    tx.commit()?;
    Ok(Applied { response, changes })
}

fn list_tx(conn: &Connection, user: &str, f: &ListFilter) -> DbResult<Vec<WireNotification>> {
    let (index, scope, key) = match f.category {
        Some(c) => ("notif_user_category", "category = ?2", c.code()),
        None => ("notif_user_tab", "tab = ?2", f.tab.code()),
    };
    let unread = if f.unread_only { " AND read_at IS NULL" } else { "" };
    let after = if f.after.is_some() { " AND (created_at, id) < (?4, ?5)" } else { "" };
    let sql = format!(
        "SELECT {NOTIF_COLUMNS} FROM notifications INDEXED BY {index} WHERE user_id = ?1 AND {scope}{unread}{after} \
         ORDER BY created_at DESC, id DESC LIMIT ?3"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let limit = f.limit as i64;
    let rows = match &f.after {
        Some((at, id)) => {
            stmt.query_map(params![user, key, limit, ms(*at), id], notif_row)?.collect::<Result<Vec<_>, _>>()
        }
        None => stmt.query_map(params![user, key, limit], notif_row)?.collect::<Result<Vec<_>, _>>(),
    }?;
    rows.into_iter().map(wire).collect()
}

fn changes_tx(conn: &Connection, user: &str, since: i64, limit: usize) -> DbResult<ChangesPage> {
    let last: i64 = conn
        .query_row("SELECT last_seq FROM users WHERE id = ?1", [user], |r| r.get(0))
        .optional()?
        .unwrap_or(0);
    let oldest: Option<i64> =
        conn.query_row("SELECT min(seq) FROM changes WHERE user_id = ?1", [user], |r| r.get(0))?;
    let first_kept = oldest.unwrap_or(last + 1);
    // `since = 0` means "everything kept": the feed outlives every item (90 days), so a replay from the
    // start rebuilds the list exactly. A later cursor older than the feed has missed changes: 410.
    if since > 0 && since < last && since < first_kept - 1 {
        return Err(DbError::CursorGone { since, oldest: first_kept });
    }
    let mut stmt = conn.prepare_cached(
        "SELECT seq, at, body FROM changes WHERE user_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
    )?;
    let rows = stmt
        .query_map(params![user, since, limit as i64 + 1], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, String>(2)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let more = rows.len() > limit;
    let mut changes = Vec::with_capacity(rows.len().min(limit));
    for (seq, at, body) in rows.into_iter().take(limit) {
        changes.push(Change {
            seq,
            at: from_ms(at)?,
            body: serde_json::from_str(&body).map_err(decode_err)?,
        });
    }
    let cursor = changes.last().map_or(since, |c| c.seq);
    Ok(ChangesPage { changes, cursor, more })
}

fn mark_all_tx(
    conn: &mut Connection,
    user: &str,
    req: &MarkAllReadRequest,
    key: Option<&str>,
    now: DateTime<Utc>,
) -> DbResult<Acted<MarkAllReadResponse>> {
    let tx = conn.transaction()?;
    if let Some(key) = key {
        let seen: Option<String> = tx
            .query_row("SELECT response FROM client_ops WHERE user_id = ?1 AND key = ?2", [user, key], |r| {
                r.get(0)
            })
            .optional()?;
        if let Some(json) = seen {
            let response = serde_json::from_str(&json).map_err(decode_err)?;
            return Ok(Acted { response, changes: Vec::new() });
        }
    }
    let (scope, code) = match req.category {
        Some(c) => ("category = ?3", c.code()),
        None => ("tab = ?3", req.tab.code()),
    };
    let sql = format!(
        "UPDATE notifications SET read_at = ?2 WHERE user_id = ?1 AND {scope} AND read_at IS NULL \
         AND created_seq <= ?4 RETURNING id"
    );
    let upto = req.upto_cursor.unwrap_or(i64::MAX);
    let ids = tx
        .prepare(&sql)?
        .query_map(params![user, ms(now), code, upto], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    let response = MarkAllReadResponse { changed: ids.len() as u64 };
    let changes = append_chunked(&tx, user, ids, now, |ids| ChangeBody::Read { ids, read_at: now })?;
    if let Some(key) = key {
        tx.execute(
            "INSERT INTO client_ops (user_id, key, at, response) VALUES (?1, ?2, ?3, ?4)",
            params![user, key, ms(now), serde_json::to_string(&response).map_err(decode_err)?],
        )?;
    }
    tx.commit()?;
    Ok(Acted { response, changes })
}

fn prune_tx(conn: &mut Connection, now: DateTime<Utc>) -> DbResult<Vec<UserChange>> {
    let tx = conn.transaction()?;
    let mut by_user: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for tab in Tab::ALL {
        let cutoff = ms(rules::retention_cutoff(*tab, now));
        let mut stmt = tx.prepare_cached(
            "DELETE FROM notifications WHERE tab = ?1 AND created_at < ?2 RETURNING user_id, id",
        )?;
        let rows = stmt
            .query_map(params![tab.code(), cutoff], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        for (user, id) in rows {
            by_user.entry(user).or_default().push(id);
        }
    }
    let mut changes = Vec::new();
    for (user, ids) in by_user {
        changes.extend(append_chunked(&tx, &user, ids, now, |ids| ChangeBody::Expired { ids })?);
    }
    tx.execute("DELETE FROM changes WHERE at < ?1", [ms(now - Duration::days(FEED_RETENTION_DAYS))])?;
    let keys_cutoff = ms(now - Duration::days(KEY_RETENTION_DAYS));
    tx.execute("DELETE FROM events WHERE received_at < ?1", [keys_cutoff])?;
    tx.execute("DELETE FROM client_ops WHERE at < ?1", [keys_cutoff])?;
    tx.commit()?;
    Ok(changes)
}

impl Database for SqliteDb {
    fn device(&self, token_hash: String) -> impl Future<Output = DbResult<Option<Device>>> + Send {
        self.run(move |c| {
            Ok(c.query_row("SELECT user_id, device_id FROM tokens WHERE hash = ?1", [token_hash], |r| {
                Ok(Device { user_id: r.get(0)?, device_id: r.get(1)? })
            })
            .optional()?)
        })
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

    fn add_token(
        &self,
        token_hash: String,
        user_id: String,
        device_id: String,
        now: DateTime<Utc>,
    ) -> impl Future<Output = DbResult<()>> + Send {
        self.run(move |c| {
            let tx = c.transaction()?;
            ensure_user(&tx, &user_id)?;
            tx.execute(
                "INSERT OR REPLACE INTO tokens (hash, user_id, device_id, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![token_hash, user_id, device_id, ms(now)],
            )?;
            tx.commit()?;
            Ok(())
        })
    }

    fn apply_event(
        &self,
        key: String,
        outcome: Outcome,
        now: DateTime<Utc>,
    ) -> impl Future<Output = DbResult<Applied>> + Send {
        self.run(move |c| apply_event_tx(c, &key, outcome, now))
    }

    fn event_response(&self, key: String) -> impl Future<Output = DbResult<Option<EventResponse>>> + Send {
        self.run(move |c| {
            let json: Option<String> =
                c.query_row("SELECT response FROM events WHERE key = ?1", [key], |r| r.get(0)).optional()?;
            json.map(|j| serde_json::from_str(&j).map_err(decode_err)).transpose()
        })
    }

    fn queue_event(
        &self,
        key: String,
        event: ProducerEvent,
        now: DateTime<Utc>,
    ) -> impl Future<Output = DbResult<bool>> + Send {
        self.run(move |c| {
            let applied: bool =
                c.query_row("SELECT EXISTS (SELECT 1 FROM events WHERE key = ?1)", [&key], |r| r.get(0))?;
            if applied {
                return Ok(false);
            }
            let body = serde_json::to_string(&event).map_err(decode_err)?;
            let n = c.execute(
                "INSERT OR IGNORE INTO queued_events (key, received_at, body) VALUES (?1, ?2, ?3)",
                params![key, ms(now), body],
            )?;
            Ok(n == 1)
        })
    }

    fn queued_events(
        &self,
        limit: usize,
    ) -> impl Future<Output = DbResult<Vec<(String, ProducerEvent)>>> + Send {
        self.run(move |c| {
            let rows = c
                .prepare_cached("SELECT key, body FROM queued_events ORDER BY pos LIMIT ?1")?
                .query_map([limit as i64], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
                .collect::<Result<Vec<_>, _>>()?;
            rows.into_iter().map(|(k, b)| Ok((k, serde_json::from_str(&b).map_err(decode_err)?))).collect()
        })
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
                let change = append(&tx, &user, body, now)?;
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
        self.run(move |c| list_tx(c, &user_id, &filter))
    }

    fn changes(
        &self,
        user_id: String,
        since: i64,
        limit: usize,
    ) -> impl Future<Output = DbResult<ChangesPage>> + Send {
        self.run(move |c| changes_tx(c, &user_id, since, limit))
    }

    fn last_seq(&self, user_id: String) -> impl Future<Output = DbResult<i64>> + Send {
        self.run(move |c| {
            Ok(c.query_row("SELECT last_seq FROM users WHERE id = ?1", [user_id], |r| r.get(0))
                .optional()?
                .unwrap_or(0))
        })
    }

    fn counts(&self, user_id: String) -> impl Future<Output = DbResult<Counts>> + Send {
        self.run(move |c| {
            let rows = c
                .prepare_cached(
                    "SELECT category, count(*) FROM notifications WHERE user_id = ?1 AND read_at IS NULL GROUP BY category",
                )?
                .query_map([user_id], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))?
                .collect::<Result<Vec<_>, _>>()?;
            let count = |c: Category| rows.iter().find(|(code, _)| *code == c.code()).map_or(0, |(_, n)| *n as u64);
            let categories: BTreeMap<Category, u64> = Category::ALL.iter().map(|c| (*c, count(*c))).collect();
            let tabs: BTreeMap<Tab, u64> =
                Tab::ALL.iter().map(|t| (*t, t.categories().iter().map(|c| count(*c)).sum())).collect();
            Ok(Counts { total: tabs.values().sum(), tabs, categories })
        })
    }

    fn mark_read(
        &self,
        user_id: String,
        id: String,
        now: DateTime<Utc>,
    ) -> impl Future<Output = DbResult<Option<Acted<MarkReadResponse>>>> + Send {
        self.run(move |c| {
            let tx = c.transaction()?;
            let found: Option<Option<i64>> = tx
                .query_row(
                    "SELECT read_at FROM notifications WHERE id = ?1 AND user_id = ?2",
                    [&id, &user_id],
                    |r| r.get(0),
                )
                .optional()?;
            let Some(read_at) = found else { return Ok(None) };
            if let Some(at) = read_at {
                return Ok(Some(Acted {
                    response: MarkReadResponse { changed: false, read_at: from_ms(at)? },
                    changes: vec![],
                }));
            }
            tx.execute("UPDATE notifications SET read_at = ?2 WHERE id = ?1", params![id, ms(now)])?;
            let change = append(&tx, &user_id, ChangeBody::Read { ids: vec![id], read_at: now }, now)?;
            tx.commit()?;
            Ok(Some(Acted {
                response: MarkReadResponse { changed: true, read_at: now },
                changes: vec![(user_id, change)],
            }))
        })
    }

    fn mark_all_read(
        &self,
        user_id: String,
        request: MarkAllReadRequest,
        idempotency_key: Option<String>,
        now: DateTime<Utc>,
    ) -> impl Future<Output = DbResult<Acted<MarkAllReadResponse>>> + Send {
        self.run(move |c| mark_all_tx(c, &user_id, &request, idempotency_key.as_deref(), now))
    }

    fn prune(&self, now: DateTime<Utc>) -> impl Future<Output = DbResult<Vec<UserChange>>> + Send {
        self.run(move |c| prune_tx(c, now))
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
                params![ms(starts_at), ms(ends_at), message],
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
                .query_map([ms(now)], |r| {
                    Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?, r.get::<_, String>(3)?))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            rows.into_iter()
                .map(|(id, s, e, message)| Ok(MaintenanceWindow { id, starts_at: from_ms(s)?, ends_at: from_ms(e)?, message }))
                .collect()
        })
    }
}
